//! moto's server (PyPI `moto[server]`, installed by the test command) on a
//! loopback port of its own: the EC2 endpoint of the new-node gate's tests.
//! The tests create and inspect instances with boto3, the AWS SDK, from the
//! same venv. moto invents public-looking addresses for its instances:
//! nothing ever connects to them.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The access key the tests give moto (any is accepted); the secret is
/// distinctive so that tests can search for it where it must not be.
pub const ACCESS_KEY_ID: &str = "AKIAVEDETTETEST00001";
pub const SECRET_ACCESS_KEY: &str = "vedette-moto-secret-8c1f0e2a9b7d4c35";
pub const REGION: &str = "us-east-1";

/// A running moto server; stopped when dropped.
pub struct Moto {
    child: Child,
    pub port: u16,
    venv: PathBuf,
}

fn venv() -> PathBuf {
    PathBuf::from(std::env::var("VEDETTE_MOTO_VENV").expect(
        "VEDETTE_MOTO_VENV names moto's venv (tests/setup.sh installs it; run `bash tests/run.sh`)",
    ))
}

impl Moto {
    pub fn start() -> Self {
        let venv = venv();
        let server = venv.join("bin/moto_server");
        assert!(server.exists(), "{} is missing", server.display());
        for _ in 0..5 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port();
            let mut child = Command::new(&server)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start moto_server");
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(30) {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Moto { child, port, venv };
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("moto_server did not start");
    }

    /// `http://127.0.0.1:PORT/`
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    /// Runs `code` with boto3's EC2 and ECR clients bound to this server as
    /// `ec2` and `ecr`; what it prints as JSON.
    pub fn boto(&self, code: &str) -> serde_json::Value {
        let client = |service: &str| {
            format!(
                "{service} = boto3.client('{service}', endpoint_url='{}', region_name='{REGION}', \
                 aws_access_key_id='{ACCESS_KEY_ID}', aws_secret_access_key='{SECRET_ACCESS_KEY}')\n",
                self.endpoint()
            )
        };
        let script = format!(
            "import boto3, json, time\n{}{}{code}\n",
            client("ec2"),
            client("ecr")
        );
        let o = Command::new(self.venv.join("bin/python"))
            .arg("-c")
            .arg(&script)
            // boto3 must not look for credentials or proxies elsewhere.
            .env_remove("AWS_PROFILE")
            .env("NO_PROXY", "127.0.0.1")
            .output()
            .expect("run boto3");
        assert!(
            o.status.success(),
            "boto3: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
            panic!(
                "boto3 printed no JSON ({e}): {}",
                String::from_utf8_lossy(&o.stdout)
            )
        })
    }

    /// Records in moto's ECR, as a push would, `manifest` (its bytes as the
    /// registry serves them, whose digest is `digest`) under `repository:tag`,
    /// creating the repository the first time; a second apart, so that push
    /// times order the pushes.
    pub fn ecr_put_image(&self, repository: &str, tag: &str, manifest: &[u8], digest: &str) {
        let manifest = String::from_utf8(manifest.to_vec()).expect("a manifest is text");
        let code = format!(
            "try:\n    ecr.create_repository(repositoryName={repo})\n\
             except ecr.exceptions.RepositoryAlreadyExistsException:\n    pass\n\
             time.sleep(1.1)\n\
             ecr.put_image(repositoryName={repo}, imageTag={tag}, imageManifest={manifest}, imageDigest={digest})\n\
             print(json.dumps({{}}))",
            repo = serde_json::Value::from(repository),
            tag = serde_json::Value::from(tag),
            manifest = serde_json::Value::from(manifest),
            digest = serde_json::Value::from(digest),
        );
        self.boto(&code);
    }

    /// Starts `n` instances (tagged with `tags`); their ids.
    pub fn run_instances(&self, n: usize, tags: &[(&str, &str)]) -> Vec<String> {
        let tags: Vec<String> = tags
            .iter()
            .map(|(k, v)| format!("{{'Key': '{k}', 'Value': '{v}'}}"))
            .collect();
        let spec = if tags.is_empty() {
            String::new()
        } else {
            format!(
                ", TagSpecifications=[{{'ResourceType': 'instance', 'Tags': [{}]}}]",
                tags.join(", ")
            )
        };
        let v = self.boto(&format!(
            "ami = ec2.describe_images(Owners=['amazon'])['Images'][0]['ImageId']\n\
             r = ec2.run_instances(ImageId=ami, MinCount={n}, MaxCount={n}, InstanceType='t3.micro'{spec})\n\
             print(json.dumps([i['InstanceId'] for i in r['Instances']]))"
        ));
        serde_json::from_value(v).expect("instance ids")
    }

    /// An instance's state as `DescribeInstances` says it (`running`, …).
    pub fn state(&self, id: &str) -> String {
        let v = self.boto(&format!(
            "r = ec2.describe_instances(InstanceIds=['{id}'])\n\
             print(json.dumps(r['Reservations'][0]['Instances'][0]['State']['Name']))"
        ));
        v.as_str().unwrap_or_default().to_owned()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

//! Real receivers on loopback for the notification channels' tests: an SMTP
//! server (aiosmtpd, installed by the test command, with STARTTLS on a
//! certificate from a private CA and AUTH) and an HTTP receiver that records the
//! Slack, Teams and webhook requests.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use base64::Engine;

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("receivers")
        .join(name)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Starts `python script args…` and waits for its "ready" line.
fn start(python: &Path, script: &Path, args: &[&str]) -> Child {
    let mut child = Command::new(python)
        .arg(script)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", script.display()));
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("the receivers harness"))
        .read_line(&mut line)
        .expect("the receivers harness");
    assert_eq!(line.trim(), "ready", "{} did not start", script.display());
    child
}

/// An SMTP server requiring STARTTLS and AUTH; each mail in its dir.
pub struct Smtp {
    child: Child,
    pub port: u16,
    dir: tempfile::TempDir,
    /// The CA of the server's certificate (PEM): trust it with
    /// `SSL_CERT_FILE`.
    pub certificate: PathBuf,
    _pki: crate::pki::Pki,
}

pub const SMTP_USER: &str = "vedette";
pub const SMTP_PASSWORD: &str = "smtp-pass-5e1c9a77";

impl Smtp {
    pub fn start() -> Self {
        let venv = PathBuf::from(std::env::var("VEDETTE_SMTP_VENV").expect(
            "VEDETTE_SMTP_VENV names aiosmtpd's venv (tests/setup.sh installs it; run `bash tests/run.sh`)",
        ));
        let dir = tempfile::tempdir().expect("the receivers harness");
        // Its certificate, signed by a private CA the test trusts.
        let pki = crate::pki::Pki::new();
        let (cert, key) = (pki.path("server.crt"), pki.path("server.key"));
        let mails = dir.path().join("mail");
        std::fs::create_dir_all(&mails).expect("the receivers harness");
        let port = free_port();
        let child = start(
            &venv.join("bin/python"),
            &script("smtp_receiver.py"),
            &[
                &mails.to_string_lossy(),
                &port.to_string(),
                &cert.to_string_lossy(),
                &key.to_string_lossy(),
                SMTP_USER,
                SMTP_PASSWORD,
            ],
        );
        Smtp {
            child,
            port,
            certificate: pki.path("ca.crt"),
            dir,
            _pki: pki,
        }
    }

    /// The mails received so far, whole, oldest first.
    pub fn mails(&self) -> Vec<String> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.dir.path().join("mail"))
            .expect("the receivers harness")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        names.sort();
        names
            .iter()
            .map(|p| std::fs::read_to_string(p).expect("the receivers harness"))
            .collect()
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One request the HTTP receiver recorded.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: serde_json::Map<String, serde_json::Value>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.as_str())
    }
}

/// An HTTP receiver: 200 to every POST, 500 under `/fail`.
pub struct HttpReceiver {
    child: Child,
    pub port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl HttpReceiver {
    pub fn start() -> Self {
        Self::start_on(free_port())
    }

    /// On a port chosen before (a channel pointed there while nothing
    /// listened).
    pub fn start_on(port: u16) -> Self {
        let dir = tempfile::tempdir().expect("the receivers harness");
        let log = dir.path().join("requests.jsonl");
        let child = start(
            Path::new("python3"),
            &script("http_receiver.py"),
            &[&log.to_string_lossy(), &port.to_string()],
        );
        HttpReceiver {
            child,
            port,
            log,
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The requests so far, oldest first.
    pub fn requests(&self) -> Vec<Received> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).expect("the receivers harness");
                Received {
                    path: v["path"]
                        .as_str()
                        .expect("the receivers harness")
                        .to_owned(),
                    headers: v["headers"]
                        .as_object()
                        .expect("the receivers harness")
                        .clone(),
                    body: base64::engine::general_purpose::STANDARD
                        .decode(v["body"].as_str().expect("the receivers harness"))
                        .expect("the receivers harness"),
                }
            })
            .collect()
    }

    pub fn requests_to(&self, path: &str) -> Vec<Received> {
        self.requests()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }
}

impl Drop for HttpReceiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

//! New nodes against real parts: `vedette serve` with the keyring holding
//! the AWS account, moto's server as EC2 (instances made and read with
//! boto3), and `vedette-agent` processes enrolling nodes made from the
//! shared fixtures. A node that fails the gate policy has its instance
//! terminated (or stopped); one that passes keeps running.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::Value;
use vedette_tests::moto::{self, Moto};
use vedette_tests::registry::shared;

use crate::api::ApiServe;
use crate::vulns::out;
use crate::Console;

/// `vedette-agent`, built next to the test by the test command.
fn agent_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .join("vedette-agent");
    assert!(
        bin.is_file(),
        "{} is missing: `cargo build -p vedette-agent` (the README's test command does)",
        bin.display()
    );
    bin
}

/// A node's root: `fixture`'s packages, its own host name and machine id.
fn node_root(tmp: &Path, name: &str, fixture: Option<&Path>) -> PathBuf {
    let root = tmp.join(name);
    std::fs::create_dir_all(root.join("etc")).unwrap();
    match fixture {
        Some(f) => {
            let o = std::process::Command::new("cp")
                .arg("-a")
                .arg(format!("{}/.", f.display()))
                .arg(&root)
                .output()
                .unwrap();
            assert!(o.status.success());
        }
        // A Debian 12 with nothing installed: nothing to fail on.
        None => {
            std::fs::copy(
                shared("fixtures/debian-12-minbase/etc/os-release"),
                root.join("etc/os-release"),
            )
            .unwrap();
            std::fs::create_dir_all(root.join("var/lib/dpkg")).unwrap();
            std::fs::write(root.join("var/lib/dpkg/status"), "").unwrap();
        }
    }
    std::fs::write(root.join("etc/hostname"), format!("{name}\n")).unwrap();
    let id: String = format!("{name:0<32}").chars().take(32).collect();
    std::fs::write(root.join("etc/machine-id"), format!("{id}\n")).unwrap();
    root
}

impl Console {
    /// The AWS account (moto's) in the keyring, and the gate's policy
    /// (fail on high) and action, with more `gate set` arguments.
    fn gate_on(&self, moto: &Moto, action: &str, more: &[&str]) {
        let o = self.aws_set(&moto.endpoint());
        assert!(o.status.success(), "{}", out(&o));
        let policy = self.data.with_extension("gate.toml");
        std::fs::write(&policy, "fail_on = \"high\"\n").unwrap();
        let mut args = vec!["gate", "set", "--action", action, "--policy"];
        let policy = policy.to_string_lossy().into_owned();
        args.push(&policy);
        args.extend_from_slice(more);
        self.ok(&args);
    }

    fn log(&self) -> Vec<Value> {
        serde_json::from_str(&self.ok(&["gate", "log", "--format", "json"])).unwrap()
    }

    /// Waits until the action log has an entry for the node named `node`.
    fn action_for(&self, node: &str) -> Value {
        let start = Instant::now();
        loop {
            if let Some(a) = self.log().into_iter().find(|a| a["node"] == node) {
                return a;
            }
            assert!(
                start.elapsed() < Duration::from_secs(90),
                "no gate action for {node}: {:#?}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    }
}

/// Runs the agent once against `base`: enrol (when its state dir has no
/// credential), send the inventory.
fn agent(base: &str, token: &str, state: &Path, root: &Path, instance: &str) -> Output {
    agent_with(base, token, state, root, instance, &[])
}

fn agent_with(
    base: &str,
    token: &str,
    state: &Path,
    root: &Path,
    instance: &str,
    more: &[&str],
) -> Output {
    std::process::Command::new(agent_binary())
        .args([
            "--console",
            base,
            "--enrol-token",
            token,
            "--no-imds",
            "--once",
        ])
        .arg("--state-dir")
        .arg(state)
        .arg("--root")
        .arg(root)
        .args(["--instance-id", instance, "--region", moto::REGION])
        .args(more)
        .env_remove("VEDETTE_CONSOLE")
        .output()
        .expect("run vedette-agent")
}

#[test]
fn a_node_that_fails_the_gate_has_its_instance_terminated_or_stopped_and_one_that_passes_runs_on() {
    let moto = Moto::start();
    let ids = moto.run_instances(3, &[]);
    let (failing, passing, stopping) = (&ids[0], &ids[1], &ids[2]);
    assert_eq!(moto.state(failing), "running");

    let tmp = tempfile::tempdir().unwrap();
    let console = Console::new(tmp.path(), &[]);
    console.gate_on(&moto, "terminate", &[]);
    // Arming takes the action's name.
    let o = console.run(&["gate", "arm", "--confirm", "yes"]);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    assert!(out(&o).contains("--confirm terminate"), "{}", out(&o));
    console.ok(&["gate", "arm", "--confirm", "terminate"]);
    let token = console.ok(&[
        "agent", "token", "create", "--name", "fleet", "--uses", "3", "--group", "web",
    ]);
    assert!(token.starts_with("vde_"), "{token}");

    let serve = ApiServe::start(&console.data, &console.env);
    let base = serve.base.clone();

    // The Debian fixture fails (its advisories include high ones); an empty
    // Debian passes.
    let debian = shared("fixtures/debian-12-minbase");
    let bad = node_root(tmp.path(), "web-bad", Some(&debian));
    let good = node_root(tmp.path(), "web-good", None);
    let o = agent(&base, &token, &tmp.path().join("state-bad"), &bad, failing);
    assert!(o.status.success(), "{}", out(&o));
    let o = agent(
        &base,
        &token,
        &tmp.path().join("state-good"),
        &good,
        passing,
    );
    assert!(o.status.success(), "{}", out(&o));
    // The credential is kept where only its owner reads it.
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(tmp.path().join("state-bad/credential"))
            .unwrap()
            .permissions(),
    );
    assert_eq!(mode & 0o077, 0, "{mode:o}");

    let bad_node = format!("web-bad ({failing})");
    let acted = console.action_for(&bad_node);
    assert_eq!(acted["action"], "terminate", "{acted:#}");
    assert_eq!(acted["outcome"], "done", "{acted:#}");
    assert!(
        acted["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("high"),
        "{acted:#}"
    );
    assert_eq!(moto.state(failing), "terminated");

    // The passing node's scan passed: no action, its instance runs on.
    let nodes: Vec<Value> =
        serde_json::from_str(&console.ok(&["node", "list", "--format", "json"])).unwrap();
    assert_eq!(nodes.len(), 2, "{nodes:#?}");
    let history: Vec<Value> =
        serde_json::from_str(&console.ok(&["history", "--format", "json"])).unwrap();
    let good_scan = history
        .iter()
        .find(|h| h["target_name"] == format!("web-good ({passing})").as_str())
        .expect("the passing node was scanned");
    assert_eq!(good_scan["verdict_pass"], true, "{good_scan:#}");
    assert!(console
        .log()
        .iter()
        .all(|a| a["node"] != good_scan["target_name"]));
    assert_eq!(moto.state(passing), "running");

    // The account again, from an AWS CLI profile that assumes a role with
    // another profile's keys: the gate's calls are made as that role.
    let aws = tmp.path().join("aws");
    std::fs::create_dir_all(&aws).unwrap();
    std::fs::write(
        aws.join("credentials"),
        format!(
            "[ops]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            moto::ACCESS_KEY_ID,
            moto::SECRET_ACCESS_KEY
        ),
    )
    .unwrap();
    std::fs::write(
        aws.join("config"),
        format!(
            "[profile gate]\nrole_arn = arn:aws:iam::123456789012:role/vedette-gate\nsource_profile = ops\nregion = {}\nendpoint_url = {}\n",
            moto::REGION,
            moto.endpoint()
        ),
    )
    .unwrap();
    let mut env = console.env.clone();
    env.push((
        "AWS_SHARED_CREDENTIALS_FILE",
        aws.join("credentials").to_string_lossy().into_owned(),
    ));
    env.push((
        "AWS_CONFIG_FILE",
        aws.join("config").to_string_lossy().into_owned(),
    ));
    let o = crate::vedette_with(
        &console.data,
        console.keyring.address(),
        &env,
        &["cloud", "aws", "import", "--profile", "gate"],
        "",
    );
    assert!(o.status.success(), "{}", out(&o));
    assert!(!out(&o).contains(moto::SECRET_ACCESS_KEY), "{}", out(&o));
    let who = console.ok(&["cloud", "aws", "check"]);
    assert!(
        who.contains(":assumed-role/vedette-gate/vedette-gate"),
        "the calls are not made as the role: {who}"
    );
    let listed = console.ok(&["credential", "list"]);
    assert!(
        listed.contains("as arn:aws:iam::123456789012:role/vedette-gate"),
        "{listed}"
    );

    // Stop instead: the action changes, is armed again, and a third failing
    // node's instance is stopped (through the role).
    console.ok(&["gate", "set", "--action", "stop"]);
    console.ok(&["gate", "arm", "--confirm", "stop"]);
    let third = node_root(tmp.path(), "web-third", Some(&debian));
    let o = agent(
        &base,
        &token,
        &tmp.path().join("state-third"),
        &third,
        stopping,
    );
    assert!(o.status.success(), "{}", out(&o));
    let acted = console.action_for(&format!("web-third ({stopping})"));
    assert_eq!(
        (acted["action"].as_str(), acted["outcome"].as_str()),
        (Some("stop"), Some("done"))
    );
    assert_eq!(moto.state(stopping), "stopped");

    // The token was for three nodes: a fourth is refused, and says why.
    let fourth = node_root(tmp.path(), "web-fourth", None);
    let o = agent(
        &base,
        &token,
        &tmp.path().join("state-fourth"),
        &fourth,
        "i-0fourth",
    );
    assert_eq!(o.status.code(), Some(3), "{}", out(&o));
    assert!(
        out(&o).contains("401") && out(&o).contains("as many nodes as it may"),
        "{}",
        out(&o)
    );

    // A node whose credential is revoked is refused at its next inventory.
    let good_id = good_scan["target_id"].as_i64().unwrap().to_string();
    console.ok(&["node", "revoke", &good_id]);
    let o = agent(
        &base,
        "unused",
        &tmp.path().join("state-good"),
        &good,
        passing,
    );
    assert_eq!(o.status.code(), Some(3), "{}", out(&o));
    assert!(out(&o).contains("revoked"), "{}", out(&o));

    // The AWS secret is in the keyring only.
    assert_eq!(serve.stop(), Some(0));
    let log = std::fs::read_to_string(console.data.with_extension("serve.log")).unwrap_or_default();
    assert!(!log.contains(moto::SECRET_ACCESS_KEY));
    for entry in crate::walk(&console.data) {
        let bytes = std::fs::read(&entry).unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(moto::SECRET_ACCESS_KEY),
            "the AWS secret is in {}",
            entry.display()
        );
    }
}

#[test]
fn the_gate_is_safe_refused_tokens_unarmed_dry_run_protected_instances_the_hourly_cap_and_a_pinned_console(
) {
    let moto = Moto::start();
    let ids = moto.run_instances(3, &[]);
    let protected = moto.run_instances(1, &[("vedette:protect", "true")]);
    let tmp = tempfile::tempdir().unwrap();
    let console = Console::new(tmp.path(), &[]);
    console.gate_on(&moto, "terminate", &["--cap-per-hour", "1"]);
    let brief = console.ok(&[
        "agent",
        "token",
        "create",
        "--name",
        "brief",
        "--expires",
        "1s",
    ]);
    let revoked = console.ok(&["agent", "token", "create", "--name", "revoked"]);
    console.ok(&["agent", "token", "revoke", "revoked"]);
    let live = console.ok(&["agent", "token", "create", "--name", "live", "--uses", "5"]);
    std::thread::sleep(Duration::from_millis(1500));
    // Beyond loopback: TLS with a self-signed certificate the agents pin.
    let serve = ApiServe::start_with(&console.data, &console.env, &["--api", "0.0.0.0:0"]);
    let pin = serve
        .fingerprint
        .clone()
        .expect("the certificate's fingerprint");
    let pinned = ["--pin-sha256", pin.as_str()];
    let debian = shared("fixtures/debian-12-minbase");
    let run = |name: &str, token: &str, instance: &str, more: &[&str]| {
        let root = node_root(tmp.path(), name, Some(&debian));
        agent_with(
            &serve.base,
            token,
            &tmp.path().join(format!("state-{name}")),
            &root,
            instance,
            more,
        )
    };

    // Another certificate than the pinned one: nothing is sent.
    let o = run(
        "web-0",
        &live,
        "i-0none",
        &["--pin-sha256", &"ab".repeat(32)],
    );
    assert_eq!(o.status.code(), Some(3), "{}", out(&o));
    assert!(out(&o).contains("not the pinned"), "{}", out(&o));
    // Refused tokens: 401, saying why.
    for (token, why) in [
        (&brief, "has expired"),
        (&revoked, "was revoked"),
        (&"vde_nonsense".to_owned(), "not known"),
    ] {
        let o = run("web-0", token, "i-0none", &pinned);
        assert_eq!(o.status.code(), Some(3), "{}", out(&o));
        assert!(
            out(&o).contains("401") && out(&o).contains(why),
            "{why}: {}",
            out(&o)
        );
    }

    // Not armed: the failing node is recorded with what the gate would do,
    // and the dry run lists it.
    let o = run("web-1", &live, &ids[0], &pinned);
    assert!(o.status.success(), "{}", out(&o));
    let acted = console.action_for(&format!("web-1 ({})", ids[0]));
    assert_eq!(acted["outcome"], "not_acted", "{acted:#}");
    assert!(
        acted["answer"]
            .as_str()
            .unwrap_or_default()
            .contains("not armed"),
        "{acted:#}"
    );
    let would: Vec<Value> =
        serde_json::from_str(&console.ok(&["gate", "dry-run", "--format", "json"])).unwrap();
    assert_eq!(would.len(), 1, "{would:#?}");
    assert_eq!(would[0]["instance_id"], ids[0].as_str());
    assert!(
        would[0]["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("high"),
        "{would:#?}"
    );
    assert_eq!(moto.state(&ids[0]), "running");

    // Armed: a protected instance is never acted on.
    console.ok(&["gate", "arm", "--confirm", "terminate"]);
    let o = run("web-2", &live, &protected[0], &pinned);
    assert!(o.status.success(), "{}", out(&o));
    let acted = console.action_for(&format!("web-2 ({})", protected[0]));
    assert_eq!(acted["outcome"], "not_acted", "{acted:#}");
    assert!(
        acted["answer"]
            .as_str()
            .unwrap_or_default()
            .contains("vedette:protect=true"),
        "{acted:#}"
    );
    assert_eq!(moto.state(&protected[0]), "running");

    // One termination an hour: the next failing node is only recorded.
    let o = run("web-3", &live, &ids[1], &pinned);
    assert!(o.status.success(), "{}", out(&o));
    assert_eq!(
        console.action_for(&format!("web-3 ({})", ids[1]))["outcome"],
        "done"
    );
    assert_eq!(moto.state(&ids[1]), "terminated");
    let o = run("web-4", &live, &ids[2], &pinned);
    assert!(o.status.success(), "{}", out(&o));
    let acted = console.action_for(&format!("web-4 ({})", ids[2]));
    assert_eq!(acted["outcome"], "not_acted", "{acted:#}");
    assert!(
        acted["answer"]
            .as_str()
            .unwrap_or_default()
            .contains("cap of 1"),
        "{acted:#}"
    );
    assert_eq!(moto.state(&ids[2]), "running");

    // The refusals and the alert are in the console's log.
    assert_eq!(serve.stop(), Some(0));
    let log = std::fs::read_to_string(console.data.with_extension("serve.log")).unwrap_or_default();
    assert!(log.contains("enrolment refused"), "{log}");
    assert!(log.contains("ALERT: the gate did not terminate"), "{log}");
}

#[test]
fn a_node_whose_listening_port_its_security_group_opens_to_the_world_is_internet_facing() {
    use crate::api::{agent, call};
    let moto = Moto::start();
    // One instance in a group that opens 443 to the world, one in the
    // default group.
    let open: Vec<String> = serde_json::from_value(moto.boto(
        "sg = ec2.create_security_group(GroupName='web', Description='web')['GroupId']\n\
         ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[{'IpProtocol': 'tcp', \
         'FromPort': 443, 'ToPort': 443, 'IpRanges': [{'CidrIp': '0.0.0.0/0'}]}])\n\
         ami = ec2.describe_images(Owners=['amazon'])['Images'][0]['ImageId']\n\
         r = ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1, SecurityGroupIds=[sg])\n\
         print(json.dumps([i['InstanceId'] for i in r['Instances']]))",
    ))
    .unwrap();
    let closed = moto.run_instances(1, &[]);
    let tmp = tempfile::tempdir().unwrap();
    let console = Console::new(tmp.path(), &[]);
    console.gate_on(&moto, "notify", &[]);
    let token = console.ok(&["agent", "token", "create", "--name", "web", "--uses", "2"]);
    let inventory = console.ok(&[
        "scan",
        "dir",
        &shared("fixtures/debian-12-minbase").to_string_lossy(),
        "--packages-only",
        "--format",
        "json",
    ]);
    let inventory: Value = serde_json::from_str(&inventory).unwrap();
    let serve = ApiServe::start(&console.data, &console.env);
    let http = agent();
    let mut credentials = Vec::new();
    for (name, instance) in [("web-open", &open[0]), ("web-closed", &closed[0])] {
        let facts = serde_json::json!({
            "hostname": name, "machine_id": format!("{name:0<32}"),
            "listening": ["0.0.0.0:443", "127.0.0.1:5432"],
            "instance": {"provider": "aws", "instance_id": instance, "region": moto::REGION},
        });
        let (status, enrolled, _) = call(
            &http,
            "POST",
            &serve.url("/api/v1/agents/enrol"),
            Some(&token),
            Some(facts.to_string().as_bytes()),
        );
        assert_eq!(status, 201, "{enrolled}");
        let credential = enrolled["credential"].as_str().unwrap().to_owned();
        let (status, started, _) = call(
            &http,
            "PUT",
            &serve.url("/api/v1/agents/inventory"),
            Some(&credential),
            Some(inventory.to_string().as_bytes()),
        );
        assert_eq!(status, 202, "{started}");
        credentials.push(credential);
    }
    let exposure_of = |name: &str| {
        let targets: Vec<Value> =
            serde_json::from_str(&console.ok(&["target", "list", "--format", "json"])).unwrap();
        targets
            .iter()
            .find(|t| t["name"].as_str().unwrap_or_default().starts_with(name))
            .map(|t| t["exposure"].as_str().unwrap_or_default().to_owned())
            .unwrap_or_default()
    };
    let start = Instant::now();
    while exposure_of("web-open") != "internet" {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "web-open stayed {}",
            exposure_of("web-open")
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    // Once the other node is judged too, it stayed internal.
    let start = Instant::now();
    loop {
        let history: Vec<Value> =
            serde_json::from_str(&console.ok(&["history", "--format", "json"])).unwrap();
        // The inventory's own `scan dir` is in the history too: count the
        // two nodes' scans only.
        let judged = history
            .iter()
            .filter(|h| h["state"] == "succeeded")
            .filter(|h| {
                h["target_name"]
                    .as_str()
                    .unwrap_or_default()
                    .starts_with("web-")
            })
            .count();
        if judged == 2 {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "{history:#?}");
        std::thread::sleep(Duration::from_millis(300));
    }
    assert_eq!(exposure_of("web-closed"), "internal");

    // The user says web-open is internal after all: it is judged again at
    // once, its findings re-scored lower, and inference no longer raises it.
    let nodes = || -> Vec<Value> {
        serde_json::from_str(&console.ok(&["node", "list", "--format", "json"])).unwrap()
    };
    let open_node = nodes()
        .into_iter()
        .find(|n| n["name"].as_str().unwrap().starts_with("web-open"))
        .unwrap();
    assert_eq!(open_node["exposure_pinned"], false, "{open_node:#}");
    let before = open_node["scan_id"].as_i64().unwrap();
    let id = open_node["target_id"].to_string();
    let o = console.run(&["target", "exposure", &id, "internal"]);
    assert!(o.status.success(), "{}", out(&o));
    let said = out(&o);
    assert!(
        said.contains("judging its newest inventory again"),
        "{said}"
    );
    assert!(said.contains("succeeded"), "{said}");
    let open_node = nodes()
        .into_iter()
        .find(|n| n["target_id"] == open_node["target_id"])
        .unwrap();
    assert_eq!(open_node["exposure"], "internal");
    assert_eq!(open_node["exposure_pinned"], true);
    let after = open_node["scan_id"].as_i64().unwrap();
    assert!(after > before, "{open_node:#}");
    let risk = |scan: i64| -> f64 {
        let detail: Value = serde_json::from_str(&console.ok(&[
            "history",
            "show",
            &scan.to_string(),
            "--format",
            "json",
        ]))
        .unwrap();
        detail["report"]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["risk"].as_f64().unwrap())
            .sum()
    };
    assert!(
        risk(after) < risk(before),
        "internal findings weigh less: {} vs {}",
        risk(after),
        risk(before)
    );
    // Its agent sends its inventory again: the exposure stays as set.
    let (status, started, _) = call(
        &http,
        "PUT",
        &serve.url("/api/v1/agents/inventory"),
        Some(&credentials[0]),
        Some(inventory.to_string().as_bytes()),
    );
    assert_eq!(status, 202, "{started}");
    let resent = started["scan_id"].as_i64().unwrap();
    let start = Instant::now();
    while nodes()
        .iter()
        .all(|n| n["scan_id"].as_i64() != Some(resent))
    {
        assert!(start.elapsed() < Duration::from_secs(60), "{:#?}", nodes());
        std::thread::sleep(Duration::from_millis(300));
    }
    assert_eq!(exposure_of("web-open"), "internal");

    // A node that enrols and sends nothing has no verdict: past the gate
    // policy's limit (0 minutes here, to keep the test short), the gate
    // judges it, once.
    let policy = tmp.path().join("gate-max-age.toml");
    std::fs::write(
        &policy,
        "fail_on = \"high\"\nmax_age_minutes_without_verdict = 0\n",
    )
    .unwrap();
    console.ok(&["gate", "set", "--policy", &policy.to_string_lossy()]);
    let silent_token = console.ok(&["agent", "token", "create", "--name", "silent"]);
    let facts = serde_json::json!({
        "hostname": "web-silent", "machine_id": format!("{:0<32}", "web-silent"),
        "instance": {"provider": "aws", "instance_id": &closed[0], "region": moto::REGION},
    });
    let (status, enrolled, _) = call(
        &http,
        "POST",
        &serve.url("/api/v1/agents/enrol"),
        Some(&silent_token),
        Some(facts.to_string().as_bytes()),
    );
    assert_eq!(status, 201, "{enrolled}");
    let name = format!("web-silent ({})", closed[0]);
    let action = console.action_for(&name);
    let reason = action["reason"].as_str().unwrap();
    assert!(
        reason.contains("no verdict") && reason.contains("max_age_minutes_without_verdict"),
        "{action:#}"
    );
    assert!(reason.contains("has sent nothing"), "{action:#}");
    assert_eq!(action["scan_id"], Value::Null, "{action:#}");
    let dry = console.ok(&["gate", "dry-run"]);
    assert!(
        dry.contains("web-silent") && dry.contains("no scan"),
        "{dry}"
    );
    let listed = console.ok(&["node", "list"]);
    assert!(
        listed
            .lines()
            .any(|l| l.contains("web-silent") && l.contains("overdue")),
        "{listed}"
    );
    // Judged once, however many sweeps pass.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        console
            .log()
            .iter()
            .filter(|a| a["node"] == name.as_str())
            .count(),
        1
    );
    assert_eq!(serve.stop(), Some(0));
}

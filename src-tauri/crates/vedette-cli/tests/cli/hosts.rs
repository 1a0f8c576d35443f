//! Hosts over SSH against a real OpenSSH server chrooted into the shared
//! fixtures: what is read equals `vedette scan dir` of the same root; the
//! host key is trusted only when the user says so; a changed key stops the
//! scan; a host that stalls ends at the deadline.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use serde_json::Value;
use vedette_tests::registry::shared;
use vedette_tests::sshd::{self, Sshd, SshdConfig};
use vedette_tests::KeyringSession;

use crate::vulns::{out, Mirror};

/// Where chroots go: root-owned all the way up (sshd refuses `/tmp`).
fn chroot_parent() -> PathBuf {
    let p = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sshd-roots");
    std::fs::create_dir_all(&p).unwrap();
    p
}

/// An sshd chrooted into `root`, answering SFTP only, letting `public` in.
fn sftp_only(root: &Path, public: &str) -> SshdConfig {
    SshdConfig {
        chroot: Some(root.to_owned()),
        authorized_keys: vec![public.to_owned()],
        sftp_only: true,
        ..SshdConfig::default()
    }
}

struct Setup {
    keyring: KeyringSession,
    env: Vec<(&'static str, String)>,
    data: PathBuf,
    _mirror: Mirror,
}

impl Setup {
    fn new(tmp: &Path) -> Self {
        let mirror = Mirror::start();
        let mut env = mirror.env();
        // No agent from the machine running the tests.
        env.push(("SSH_AUTH_SOCK", String::new()));
        env.push(("HOME", tmp.display().to_string()));
        Setup {
            keyring: KeyringSession::start(),
            env,
            data: tmp.join("data"),
            _mirror: mirror,
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        crate::vedette_with(&self.data, self.keyring.address(), &self.env, args, "")
    }

    fn run_stdin(&self, args: &[&str], stdin: &str) -> Output {
        crate::vedette_with(&self.data, self.keyring.address(), &self.env, args, stdin)
    }

    fn run_with(&self, env: &[(&'static str, String)], args: &[&str]) -> Output {
        let mut all = self.env.clone();
        all.extend(env.iter().cloned());
        crate::vedette_with(&self.data, self.keyring.address(), &all, args, "")
    }

    /// Schedule 1: every host, weekly (run with `schedule run 1`).
    fn host_schedule(&self) {
        let o = self.run(&[
            "schedule",
            "add",
            "--name",
            "hosts",
            "--cron",
            "0 3 * * 1",
            "--kind",
            "host",
        ]);
        assert!(o.status.success(), "{}", out(&o));
    }

    /// The newest scans, newest first.
    fn history(&self) -> Vec<Value> {
        let o = self.run(&["history", "--format", "json"]);
        assert!(o.status.success(), "{}", out(&o));
        serde_json::from_slice(&o.stdout).unwrap()
    }
}

fn packages(inventory: &Value) -> BTreeSet<(String, String, String)> {
    inventory["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["version"].as_str().unwrap().to_owned(),
                p["purl"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// A root with the rpm fixture's sqlite database where rpm keeps it.
fn rpm_fixture(tmp: &Path) -> PathBuf {
    let root = tmp.join("rpm-fixture");
    let db = root.join("var/lib/rpm");
    std::fs::create_dir_all(&db).unwrap();
    std::fs::copy(
        shared("fixtures/rpmdb/cbl-mariner-2.0-sqlite/rpmdb.sqlite"),
        db.join("rpmdb.sqlite"),
    )
    .unwrap();
    root
}

#[test]
fn a_host_over_ssh_is_read_as_its_root_is_once_its_key_is_trusted() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Setup::new(tmp.path());
    let (key, public) = sshd::keypair(tmp.path(), "vedette");
    s.host_schedule();
    let fixtures = [
        shared("fixtures/debian-12-minbase"),
        shared("fixtures/alpine-3.23"),
        rpm_fixture(tmp.path()),
    ];
    // Every host stays up: each run scans all of them.
    let mut servers = Vec::new();
    for fixture in &fixtures {
        let root = sshd::chroot_root(&chroot_parent(), fixture);
        let server = Sshd::start(&sftp_only(root.path(), &public));
        let address = server.address();
        let o = s.run(&[
            "credential",
            "add",
            "--host",
            &address,
            "--key-file",
            &key.to_string_lossy(),
        ]);
        assert!(o.status.success(), "{}", out(&o));
        let o = s.run(&["target", "add", "host", &address]);
        assert!(o.status.success(), "{}", out(&o));
        // The unknown key is shown with the fingerprint ssh-keygen gives.
        assert!(
            out(&o).contains("not known yet") && out(&o).contains(&server.fingerprint),
            "{}",
            out(&o)
        );

        // Not trusted yet: the scan fails, naming the fingerprint.
        let o = s.run(&["schedule", "run", "1"]);
        assert_eq!(o.status.code(), Some(3), "{}", out(&o));
        let history = s.history();
        let failed = history
            .iter()
            .find(|h| h["target_name"] == address.as_str())
            .expect("the host's scan is in the history");
        assert_eq!(failed["state"], "failed", "{failed:#}");
        let error = failed["error"].as_str().unwrap_or_default();
        assert!(error.contains(&server.fingerprint), "{error}");

        // A wrong fingerprint trusts nothing.
        let o = s.run(&[
            "target",
            "trust-key",
            &address,
            "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        ]);
        assert!(!o.status.success(), "{}", out(&o));
        let o = s.run(&["target", "trust-key", &address, &server.fingerprint]);
        assert!(o.status.success(), "{}", out(&o));
        let known = std::fs::read_to_string(s.data.join("known_hosts")).unwrap();
        assert!(
            known.contains(&format!("[127.0.0.1]:{}", server.port)),
            "{known}"
        );

        let o = s.run(&["schedule", "run", "1"]);
        assert!(o.status.success(), "{}", out(&o));
        let scanned = s
            .history()
            .into_iter()
            .find(|h| h["target_name"] == address.as_str() && h["state"] == "succeeded")
            .expect("the host's scan succeeded");
        let scan_id = scanned["id"].as_i64().unwrap().to_string();
        let o = s.run(&["history", "show", &scan_id, "--inventory"]);
        assert!(o.status.success(), "{}", out(&o));
        let over_ssh: Value = serde_json::from_slice(&o.stdout).unwrap();
        let o = s.run(&[
            "scan",
            "dir",
            &root.path().to_string_lossy(),
            "--packages-only",
            "--format",
            "json",
        ]);
        assert!(o.status.success(), "{}", out(&o));
        let local: Value = serde_json::from_slice(&o.stdout).unwrap();
        let (remote_pkgs, local_pkgs) = (packages(&over_ssh), packages(&local));
        assert!(!local_pkgs.is_empty(), "{}", fixture.display());
        assert_eq!(
            remote_pkgs,
            local_pkgs,
            "{}: package for package",
            fixture.display()
        );
        assert_eq!(over_ssh["distro"], local["distro"]);
        assert_eq!(over_ssh["host"]["fingerprint"], server.fingerprint.as_str());
        servers.push((server, root));
    }

    // The key is in the keyring only: not in the database, its WAL or the log.
    let private = std::fs::read_to_string(&key).unwrap();
    let body: String = private
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .join("");
    let needle = &body[20..60];
    for entry in crate::walk(&s.data) {
        let bytes = std::fs::read(&entry).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains(needle),
            "the private key is in {}",
            entry.display()
        );
    }
}

#[test]
fn a_changed_host_key_stops_the_scan_and_the_agent_logs_in_without_a_stored_key() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Setup::new(tmp.path());
    let (key, public) = sshd::keypair(tmp.path(), "agent-key");
    // An ssh-agent holding the key; nothing in the keyring.
    let sock = tmp.path().join("agent.sock");
    let mut agent = std::process::Command::new("ssh-agent")
        .arg("-D")
        .arg("-a")
        .arg(&sock)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("ssh-agent");
    let start = std::time::Instant::now();
    while !sock.exists() && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let o = std::process::Command::new("ssh-add")
        .arg(&key)
        .env("SSH_AUTH_SOCK", &sock)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let with_agent = [("SSH_AUTH_SOCK", sock.display().to_string())];

    let root = sshd::chroot_root(&chroot_parent(), &shared("fixtures/debian-12-minbase"));
    let config = sftp_only(root.path(), &public);
    let server = Sshd::start(&config);
    let address = server.address();
    let o = s.run(&[
        "target",
        "add",
        "host",
        &address,
        "--trust-host-key",
        &server.fingerprint,
    ]);
    assert!(o.status.success(), "{}", out(&o));
    assert!(out(&o).contains("trusted"), "{}", out(&o));
    s.host_schedule();
    let o = s.run_with(&with_agent, &["schedule", "run", "1"]);
    assert!(o.status.success(), "the agent's key logs in: {}", out(&o));
    // Without the agent (and no stored key): an authentication failure that says what to do.
    let o = s.run(&["schedule", "run", "1"]);
    assert_eq!(o.status.code(), Some(3), "{}", out(&o));
    let error = s.history()[0]["error"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(error.contains("no authentication worked"), "{error}");

    // The same address with another host key: refused before anything is read.
    let port = server.port;
    drop(server);
    let other = Sshd::start_on(
        port,
        &SshdConfig {
            host_key: None,
            ..config.clone()
        },
    );
    assert_ne!(other.fingerprint, "");
    let o = s.run_with(&with_agent, &["schedule", "run", "1"]);
    assert_eq!(o.status.code(), Some(3), "{}", out(&o));
    let error = s.history()[0]["error"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        error.contains("WARNING") && error.contains(&other.fingerprint),
        "{error}"
    );
    let _ = agent.kill();
    let _ = agent.wait();
}

#[test]
fn a_host_that_stalls_or_refuses_is_a_failed_scan_with_the_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Setup::new(tmp.path());
    // Accepts connections and never says a word.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    // Nothing listens there.
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let fast = [("VEDETTE_SSH_CONNECT_TIMEOUT", "2s".to_owned())];
    for port in [silent_port, closed_port] {
        let o = s.run_with(
            &fast,
            &["target", "add", "host", &format!("root@127.0.0.1:{port}")],
        );
        assert!(o.status.success(), "{}", out(&o));
        assert!(out(&o).contains("could not be checked now"), "{}", out(&o));
    }
    s.host_schedule();
    let o = s.run_with(&fast, &["schedule", "run", "1"]);
    assert_eq!(o.status.code(), Some(3), "{}", out(&o));
    let history = s.history();
    let error_of = |port: u16| {
        history
            .iter()
            .find(|h| h["target_name"] == format!("root@127.0.0.1:{port}").as_str())
            .and_then(|h| h["error"].as_str())
            .unwrap_or_default()
            .to_owned()
    };
    assert!(
        error_of(silent_port).contains("no SSH answer within 2 s"),
        "{}",
        error_of(silent_port)
    );
    assert!(
        error_of(closed_port).contains("refused"),
        "{}",
        error_of(closed_port)
    );
    drop(silent);
}

#[test]
fn hosts_are_imported_from_an_ssh_config_with_their_user_port_key_and_bastion() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Setup::new(tmp.path());
    let (key, public) = sshd::keypair(tmp.path(), "fleet");
    let root = sshd::chroot_root(&chroot_parent(), &shared("fixtures/debian-12-minbase"));
    // `web` is the bastion (and a host of its own); `inner` is reached
    // through it.
    let bastion = Sshd::start(&sftp_only(root.path(), &public));
    let inner = Sshd::start(&sftp_only(root.path(), &public));
    let config = tmp.path().join("ssh_config");
    std::fs::write(
        &config,
        format!(
            "Host web\n  HostName 127.0.0.1\n  Port {}\n  User {}\n  IdentityFile {}\n\n\
             Host inner\n  HostName 127.0.0.1\n  Port {}\n  User {}\n  IdentityFile {}\n  ProxyJump web\n\n\
             Host far\n  HostName 127.0.0.1\n  ProxyJump web,inner\n\n\
             Host *\n  ServerAliveInterval 30\n",
            bastion.port,
            bastion.user,
            key.display(),
            inner.port,
            inner.user,
            key.display()
        ),
    )
    .unwrap();
    let o = s.run(&[
        "target",
        "import",
        "--ssh-config",
        &config.to_string_lossy(),
    ]);
    // The host behind two jumps is not added, and says why.
    assert_eq!(o.status.code(), Some(3), "{}", out(&o));
    let text = out(&o);
    assert!(
        text.contains(&format!("web: added {}", bastion.address())),
        "{text}"
    );
    assert!(text.contains(&bastion.fingerprint), "{text}");
    assert!(
        text.contains(&format!("inner: added {}", inner.address())),
        "{text}"
    );
    assert!(
        text.contains("far: not added") && text.contains("2 jump hosts"),
        "{text}"
    );
    // The bastion's key first, then the inner host's, checked through it.
    for server in [&bastion, &inner] {
        let o = s.run(&[
            "target",
            "trust-key",
            &server.address(),
            &server.fingerprint,
        ]);
        assert!(o.status.success(), "{}", out(&o));
    }
    // Both are scanned with the config's IdentityFile (no keyring entry,
    // no agent); the inner host's packages are its root's.
    s.host_schedule();
    let o = s.run(&["schedule", "run", "1"]);
    assert!(o.status.success(), "{}", out(&o));
    let history = s.history();
    let of = |server: &Sshd| {
        history
            .iter()
            .find(|h| h["target_name"] == server.address().as_str())
            .unwrap()
            .clone()
    };
    assert_eq!(of(&inner)["state"], "succeeded", "{:#}", of(&inner));
    assert_eq!(of(&inner)["packages"], of(&bastion)["packages"]);

    // The inner host is reached only through the bastion: with the bastion
    // down (the inner host still up), its scan fails naming the bastion.
    let bastion_address = format!("127.0.0.1:{}", bastion.port);
    drop(bastion);
    let o = s.run(&["schedule", "run", "1"]);
    assert_eq!(o.status.code(), Some(3), "{}", out(&o));
    let history = s.history();
    let error = history
        .iter()
        .find(|h| h["target_name"] == inner.address().as_str())
        .and_then(|h| h["error"].as_str())
        .unwrap_or_default()
        .to_owned();
    assert!(
        error.contains(&bastion_address) && error.contains("refused"),
        "{error}"
    );

    // A list far larger than any host list is refused unread.
    let huge = tmp.path().join("huge");
    std::fs::write(&huge, "ops@web\n".repeat(300_000)).unwrap();
    let o = s.run(&["target", "import", "--list", &huge.to_string_lossy()]);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    assert!(out(&o).contains("larger than 1 MiB"), "{}", out(&o));
}

/// The largest number of the scans' [started, finished] intervals that
/// overlap.
fn most_at_once(scans: &[&Value]) -> usize {
    let at = |v: &Value| {
        chrono::DateTime::parse_from_rfc3339(v.as_str().expect("a time")).expect("an RFC 3339 time")
    };
    let mut edges: Vec<(chrono::DateTime<chrono::FixedOffset>, i32)> = Vec::new();
    for s in scans {
        edges.push((at(&s["started_at"]), 1));
        edges.push((at(&s["finished_at"]), -1));
    }
    // An end before a start at the same instant.
    edges.sort();
    let (mut now, mut most) = (0i32, 0i32);
    for (_, d) in edges {
        now += d;
        most = most.max(now);
    }
    most as usize
}

#[test]
fn twenty_hosts_are_scanned_in_one_run_within_the_parallel_limit_and_an_unchanged_host_is_not_matched_again(
) {
    let tmp = tempfile::tempdir().unwrap();
    let s = Setup::new(tmp.path());
    let (key, public) = sshd::keypair(tmp.path(), "fleet");
    let root = sshd::chroot_root(&chroot_parent(), &shared("fixtures/debian-12-minbase"));
    let first = Sshd::start(&sftp_only(root.path(), &public));
    // Twenty servers of one fleet image (the same host key), one of which
    // goes down before the run.
    let mut servers = vec![first];
    while servers.len() < 20 {
        servers.push(Sshd::start(&SshdConfig {
            host_key: Some(servers[0].host_key.clone()),
            ..sftp_only(root.path(), &public)
        }));
    }
    for server in &servers {
        let o = s.run(&[
            "target",
            "add",
            "host",
            &server.address(),
            "--trust-host-key",
            &server.fingerprint,
            "--identity-file",
            &key.to_string_lossy(),
            "--group",
            "fleet",
        ]);
        assert!(o.status.success(), "{}", out(&o));
    }
    let down = servers.pop().unwrap();
    let down_address = down.address();
    drop(down);
    s.host_schedule();
    let limit = [("VEDETTE_HOST_SCANS", "4".to_owned())];
    let o = s.run_with(&limit, &["schedule", "run", "1"]);
    // One host failed: the run says so, and went on with the others.
    assert_eq!(o.status.code(), Some(3), "{}", out(&o));
    let history = s.history();
    let run: Vec<&Value> = history
        .iter()
        .filter(|h| h["trigger"] == "schedule")
        .collect();
    assert_eq!(run.len(), 20, "{history:#?}");
    let failed: Vec<&&Value> = run.iter().filter(|h| h["state"] == "failed").collect();
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert_eq!(failed[0]["target_name"], down_address.as_str());
    assert!(
        failed[0]["error"]
            .as_str()
            .unwrap_or_default()
            .contains("refused"),
        "{:#}",
        failed[0]
    );
    let succeeded: Vec<&Value> = run
        .iter()
        .copied()
        .filter(|h| h["state"] == "succeeded")
        .collect();
    assert_eq!(succeeded.len(), 19);
    assert!(
        succeeded.iter().all(|h| h["packages"].as_i64() > Some(50)),
        "{succeeded:#?}"
    );
    let most = most_at_once(&run);
    assert!(
        (2..=4).contains(&most),
        "{most} hosts were scanned at once; the limit is 4 and the run is parallel"
    );

    // Nothing changed on the hosts nor in the feeds: read again, not matched
    // again, the same findings and verdicts.
    let o = s.run_with(&limit, &["schedule", "run", "1"]);
    assert_eq!(o.status.code(), Some(3), "{}", out(&o));
    assert_eq!(
        out(&o).matches("unchanged: findings carried over").count(),
        19,
        "{}",
        out(&o)
    );
    let again = s.history();
    for h in succeeded {
        let latest = again
            .iter()
            .find(|a| a["target_name"] == h["target_name"])
            .unwrap();
        assert_ne!(latest["id"], h["id"]);
        assert_eq!(latest["counts"], h["counts"], "{latest:#}");
        assert_eq!(latest["verdict_pass"], h["verdict_pass"]);
        assert_eq!(latest["new_findings"], 0, "{latest:#}");
    }
}

#[test]
fn the_running_kernel_is_matched_as_the_distributions_kernel_package() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Setup::new(tmp.path());
    let (key, public) = sshd::keypair(tmp.path(), "vedette");
    // An AlmaLinux 9 host running 5.14.0-284.11.1.el9_2 (its os-release as
    // AlmaLinux ships it), whose account may run commands.
    let fixture = tmp.path().join("alma");
    std::fs::create_dir_all(fixture.join("etc")).unwrap();
    std::fs::write(
        fixture.join("etc/os-release"),
        "NAME=\"AlmaLinux\"\nVERSION=\"9.2 (Turquoise Kodkod)\"\nID=\"almalinux\"\n\
         ID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.2\"\nPLATFORM_ID=\"platform:el9\"\n\
         PRETTY_NAME=\"AlmaLinux 9.2 (Turquoise Kodkod)\"\n",
    )
    .unwrap();
    let root = sshd::chroot_root(&chroot_parent(), &fixture);
    sshd::install_uname(
        root.path(),
        "5.14.0-284.11.1.el9_2.x86_64",
        "#1 SMP PREEMPT_DYNAMIC Tue May 9 05:49:00 EDT 2023",
    );
    let server = Sshd::start(&SshdConfig {
        chroot: Some(root.path().to_owned()),
        authorized_keys: vec![public],
        ..SshdConfig::default()
    });
    let o = s.run(&[
        "target",
        "add",
        "host",
        &server.address(),
        "--trust-host-key",
        &server.fingerprint,
        "--identity-file",
        &key.to_string_lossy(),
    ]);
    assert!(o.status.success(), "{}", out(&o));
    s.host_schedule();
    let o = s.run(&["schedule", "run", "1"]);
    assert!(out(&o).contains("scan "), "{}", out(&o));
    let scan = s.history()[0].clone();
    assert_eq!(scan["state"], "succeeded", "{scan:#}");
    let id = scan["id"].as_i64().unwrap().to_string();
    let o = s.run(&["history", "show", &id, "--inventory"]);
    let inv: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(inv["host"]["kernel"], "5.14.0-284.11.1.el9_2.x86_64");
    let kernel = inv["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "kernel")
        .unwrap_or_else(|| panic!("no kernel package: {inv:#}"));
    assert_eq!(kernel["version"], "5.14.0-284.11.1.el9_2");
    assert_eq!(kernel["ecosystem"], "AlmaLinux");
    assert_eq!(kernel["locations"][0]["path"], "running kernel (uname -r)");
    // AlmaLinux's own errata for its kernel apply to the one that runs.
    let o = s.run(&["history", "show", &id, "--format", "json"]);
    assert!(o.status.success(), "{}", out(&o));
    let shown: Value = serde_json::from_slice(&o.stdout).unwrap();
    let kernel_findings: Vec<&str> = shown["report"]["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(
            shown["diff"]["new"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|n| &n["finding"]),
        )
        .filter(|f| f["package"] == "kernel")
        .filter_map(|f| f["id"].as_str())
        .collect();
    assert!(
        kernel_findings.iter().any(|id| id.starts_with("ALSA-")),
        "{shown:#}"
    );
}

#[test]
fn a_host_added_through_the_api_shows_its_key_is_trusted_on_request_and_scans() {
    use crate::api::{agent, call, token, ApiServe};
    let tmp = tempfile::tempdir().unwrap();
    let s = Setup::new(tmp.path());
    let (key, public) = sshd::keypair(tmp.path(), "vedette");
    let root = sshd::chroot_root(&chroot_parent(), &shared("fixtures/debian-12-minbase"));
    let server = Sshd::start(&sftp_only(root.path(), &public));
    let scan_token = token(&s.data, "ci", "scan");
    let admin_token = token(&s.data, "ops", "admin");
    let serve = ApiServe::start(&s.data, &s.env);
    let agent = agent();
    let post_as = |t: &str, path: &str, body: Value| {
        call(
            &agent,
            "POST",
            &serve.url(path),
            Some(t),
            Some(body.to_string().as_bytes()),
        )
    };
    let post = |path: &str, body: Value| post_as(&scan_token, path, body);

    // The console logs in with a key file on its own machine: admin only.
    let host = serde_json::json!({
        "address": server.address(),
        "group": "api",
        "host": {"identity_file": key.to_string_lossy()},
    });
    let (status, refused, _) = post("/api/v1/hosts", host.clone());
    assert_eq!(status, 403, "{refused}");
    let (status, added, _) = post_as(&admin_token, "/api/v1/hosts", host);
    assert_eq!(status, 201, "{added}");
    assert_eq!(added["target"]["kind"], "host");
    assert_eq!(added["key"]["state"], "unknown", "{added}");
    assert_eq!(added["key"]["detail"], server.fingerprint.as_str());
    let id = added["target"]["id"].as_i64().unwrap();

    let wrong = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let (status, refused, _) = post(
        &format!("/api/v1/hosts/{id}/trust-key"),
        serde_json::json!({"fingerprint": wrong}),
    );
    assert_eq!(status, 400, "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .unwrap_or_default()
            .contains(&server.fingerprint),
        "{refused}"
    );
    let (status, trusted, _) = post(
        &format!("/api/v1/hosts/{id}/trust-key"),
        serde_json::json!({"fingerprint": server.fingerprint}),
    );
    assert_eq!(status, 200, "{trusted}");

    let (status, started, _) = post("/api/v1/scans", serde_json::json!({"target_id": id}));
    assert_eq!(status, 202, "{started}");
    let scan_id = started["scans"][0]["scan_id"].as_i64().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let scan = loop {
        let (_, scan, _) = call(
            &agent,
            "GET",
            &serve.url(&format!("/api/v1/scans/{scan_id}")),
            Some(&scan_token),
            None,
        );
        if scan["scan"]["state"] != "running" || std::time::Instant::now() > deadline {
            break scan;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(scan["scan"]["state"], "succeeded", "{scan:#}");
    assert!(scan["scan"]["packages"].as_i64() > Some(50), "{scan:#}");

    // The CLI against the console: the same host under another account
    // name is added there, its key (the same) already known.
    let client = tmp.path().join("client");
    let o = crate::vulns::run(
        &client,
        &[("VEDETTE_TOKEN", scan_token.clone())],
        &[
            "--console",
            &serve.base,
            "target",
            "add",
            "host",
            &format!("ops@127.0.0.1:{}", server.port),
            "--group",
            "api",
        ],
    );
    assert!(o.status.success(), "{}", out(&o));
    assert!(
        out(&o).contains("on the console") && out(&o).contains(&server.fingerprint),
        "{}",
        out(&o)
    );
    assert_eq!(serve.stop(), Some(0));
}

#[test]
fn a_password_from_the_keyring_logs_in_and_is_kept_nowhere_else() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Setup::new(tmp.path());
    let account = "vedette-sshpw";
    let password = sshd::password_account(account);
    let root = sshd::chroot_root(&chroot_parent(), &shared("fixtures/debian-12-minbase"));
    let server = Sshd::start(&SshdConfig {
        chroot: Some(root.path().to_owned()),
        sftp_only: true,
        password_user: Some(account.to_owned()),
        ..SshdConfig::default()
    });
    let address = format!("{account}@127.0.0.1:{}", server.port);
    let o = s.run(&[
        "target",
        "add",
        "host",
        &address,
        "--trust-host-key",
        &server.fingerprint,
    ]);
    assert!(o.status.success(), "{}", out(&o));
    // A schedule that names no kind (like a weekly "everything") covers hosts.
    let o = s.run(&["schedule", "add", "--name", "weekly", "--cron", "0 3 * * 1"]);
    assert!(o.status.success(), "{}", out(&o));

    // A wrong password: an authentication failure that says what was tried.
    let o = s.run_stdin(
        &["credential", "add", "--host", &address, "--password-stdin"],
        "not-the-password\n",
    );
    assert!(o.status.success(), "{}", out(&o));
    let o = s.run(&["schedule", "run", "1"]);
    assert_eq!(o.status.code(), Some(3), "{}", out(&o));
    let error = s.history()[0]["error"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        error.contains("no authentication worked") && error.contains("the stored password"),
        "{error}"
    );

    // The right one, stored again: the host is read.
    let o = s.run_stdin(
        &["credential", "add", "--host", &address, "--password-stdin"],
        &format!("{password}\n"),
    );
    assert!(o.status.success(), "{}", out(&o));
    let o = s.run(&["schedule", "run", "1"]);
    assert!(o.status.success(), "{}", out(&o));
    let scan = &s.history()[0];
    assert_eq!(scan["state"], "succeeded", "{scan:#}");
    assert!(scan["packages"].as_i64() > Some(50), "{scan:#}");

    // The keyring gone (its daemon died, the session has none): the scan
    // fails naming the keyring, not as a wrong password.
    let no_keyring = KeyringSession::without_keyring();
    let o = crate::vedette_with(
        &s.data,
        no_keyring.address(),
        &s.env,
        &["schedule", "run", "1"],
        "",
    );
    assert_eq!(o.status.code(), Some(3), "{}", out(&o));
    let error = s.history()[0]["error"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        error.contains("tried: nothing")
            && error
                .contains("The stored credential was not tried: the OS keyring cannot be reached")
            && error.contains(&format!("credential add --host {address} ")),
        "{error}"
    );

    for entry in crate::walk(&s.data) {
        let bytes = std::fs::read(&entry).unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(&password),
            "the password is in {}",
            entry.display()
        );
    }
}

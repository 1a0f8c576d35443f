//! The `vedette` binary as a user runs it, against a real Secret Service
//! (gnome-keyring-daemon on a private D-Bus session bus).

#![allow(clippy::unwrap_used)] // a test that cannot read its own fixture should stop there

mod api;
mod cli_ux;
mod coverage;
mod database;
mod gate;
mod hostile;
mod hosts;
mod notify;
mod registries;
mod scan;
mod schedules;
mod vulns;
mod workers;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use vedette_tests::KeyringSession;

/// A console's data dir with its own keyring (a private session bus) and
/// a local mirror of the feeds, run through the `vedette` binary. The
/// tests of each area add their own methods.
pub(crate) struct Console {
    pub(crate) keyring: KeyringSession,
    pub(crate) data: PathBuf,
    pub(crate) env: Vec<(&'static str, String)>,
    _mirror: vulns::Mirror,
}

impl Console {
    /// With `more` in every command's environment.
    pub(crate) fn new(tmp: &Path, more: &[(&'static str, String)]) -> Self {
        let mirror = vulns::Mirror::start();
        let keyring = KeyringSession::start();
        let mut env = mirror.env();
        env.push(("DBUS_SESSION_BUS_ADDRESS", keyring.address().to_owned()));
        env.extend_from_slice(more);
        Console {
            keyring,
            data: tmp.join("console"),
            env,
            _mirror: mirror,
        }
    }

    pub(crate) fn run(&self, args: &[&str]) -> Output {
        self.run_stdin(args, "")
    }

    pub(crate) fn run_stdin(&self, args: &[&str], stdin: &str) -> Output {
        vedette_with(&self.data, self.keyring.address(), &self.env, args, stdin)
    }

    /// `cloud aws set` with moto's account, its API at `endpoint` (moto's
    /// own, or a proxy in front of it).
    pub(crate) fn aws_set(&self, endpoint: &str) -> Output {
        use vedette_tests::moto;
        self.run_stdin(
            &[
                "cloud",
                "aws",
                "set",
                "--access-key-id",
                moto::ACCESS_KEY_ID,
                "--region",
                moto::REGION,
                "--endpoint",
                endpoint,
            ],
            &format!("{}\n", moto::SECRET_ACCESS_KEY),
        )
    }

    /// The command's standard output, trimmed; it must succeed.
    pub(crate) fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(o.status.success(), "{args:?}: {}", vulns::out(&o));
        String::from_utf8_lossy(&o.stdout).trim().to_owned()
    }
}

fn vedette(data_dir: &Path, bus: &str, args: &[&str], stdin: &str) -> Output {
    vedette_with(data_dir, bus, &[], args, stdin)
}

/// [`vedette`] with these environment variables.
fn vedette_with(
    data_dir: &Path,
    bus: &str,
    env: &[(&str, String)],
    args: &[&str],
    stdin: &str,
) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vedette"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env("VEDETTE_CONFIG", data_dir.join("no-config.toml"))
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env("DBUS_SESSION_BUS_ADDRESS", bus)
        .env("VEDETTE_LOG", "trace")
        .env("VEDETTE_API", "127.0.0.1:0")
        .env_remove("VEDETTE_DATA_DIR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run vedette");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("vedette output")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn no_bus(dir: &Path) -> String {
    format!("unix:path={}/no-such-bus", dir.display())
}

#[test]
fn version_prints_the_package_version() {
    let out = Command::new(env!("CARGO_BIN_EXE_vedette"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("vedette {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn doctor_on_a_fresh_data_dir_with_a_keyring_says_all_is_well() {
    let keyring = KeyringSession::start();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = vedette(&data, keyring.address(), &["doctor"], "");
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    assert!(t.contains("[ok  ] Keyring"), "{t}");
    assert!(t.contains("[ok  ] Database"), "{t}");
    assert!(t.contains(&data.display().to_string()), "{t}");
    assert!(t.contains("[warn] Advisory feeds"), "{t}");
    assert!(t.contains("All is well."), "{t}");
}

/// Without a keyring, doctor fails that check and says what it stops,
/// but not that Vedette cannot work: a scan still runs (exit 1, not 3).
/// With a data dir it cannot create, nothing can be scanned (exit 3).
#[test]
fn doctor_without_a_keyring_says_what_stops_working_and_that_scans_still_work() {
    let dir = tempfile::tempdir().unwrap();
    let out = vedette(dir.path(), &no_bus(dir.path()), &["doctor"], "");
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(t.contains("[FAIL] Keyring"), "{t}");
    assert!(t.contains("apt install gnome-keyring"), "{t}");
    assert!(
        t.contains("without it: no secret can be stored or read")
            && t.contains("Docker's and Podman's login files"),
        "{t}"
    );
    assert!(t.contains("Vedette can scan;"), "{t}");
    assert!(!t.contains("cannot scan"), "{t}");
    assert!(!t.contains("panicked"), "{t}");
    // As it says: a scan works without the keyring.
    let fixture = vedette_tests::registry::shared("fixtures/alpine-3.23");
    let scan = vedette(
        dir.path(),
        &no_bus(dir.path()),
        &[
            "scan",
            "dir",
            fixture.to_str().unwrap(),
            "--packages-only",
            "--quiet",
        ],
        "",
    );
    assert!(scan.status.success(), "{}", text(&scan));
    assert!(text(&scan).contains("musl"), "{}", text(&scan));

    // A data dir that cannot be made: nothing can be scanned.
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let out = vedette(&file.join("data"), &no_bus(dir.path()), &["doctor"], "");
    let t = text(&out);
    assert_eq!(out.status.code(), Some(3), "{t}");
    assert!(t.contains("[FAIL] Data directory"), "{t}");
    assert!(t.contains("Vedette cannot scan until"), "{t}");
}

#[test]
fn doctor_json_reports_the_schema_version_and_every_check() {
    let dir = tempfile::tempdir().unwrap();
    let out = vedette(
        dir.path(),
        &no_bus(dir.path()),
        &["doctor", "--format", "json"],
        "",
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("doctor JSON");
    assert!(v["schema_version"].as_i64().unwrap() >= 20261128050000);
    let names: Vec<_> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        names,
        ["Data directory", "Database", "Keyring", "Advisory feeds"]
    );
}

#[test]
fn a_credential_added_from_stdin_lands_in_the_keyring_and_never_in_sqlite_or_logs() {
    let keyring = KeyringSession::start();
    let dir = tempfile::tempdir().unwrap();
    let secret = "ghp_e2eSecretValue0123456789";
    let add = vedette(
        dir.path(),
        keyring.address(),
        &[
            "credential",
            "add",
            "--registry",
            "127.0.0.1:5000",
            "--username",
            "ada",
        ],
        &format!("{secret}\n"),
    );
    let add_text = text(&add);
    assert_eq!(add.status.code(), Some(0), "{add_text}");
    assert!(
        add_text.contains("Stored the credential for 127.0.0.1:5000"),
        "{add_text}"
    );

    // The keyring holds it, without the newline `echo` added.
    let attrs = [
        ("service", "vedette"),
        ("username", "registry/127.0.0.1:5000"),
    ];
    assert_eq!(keyring.secret_tool_lookup(&attrs).as_deref(), Some(secret));

    let list = vedette(dir.path(), keyring.address(), &["credential", "list"], "");
    let list_text = text(&list);
    assert!(
        list_text.contains("127.0.0.1:5000") && list_text.contains("ada"),
        "{list_text}"
    );
    let json = vedette(
        dir.path(),
        keyring.address(),
        &["credential", "list", "--format", "json"],
        "",
    );

    // Not in the database, its WAL, nor any output or trace-level log.
    let mut everything = Vec::new();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let p = entry.unwrap().path();
        if p.is_file() {
            everything.extend(std::fs::read(&p).unwrap());
        }
    }
    for o in [&add, &list, &json] {
        everything.extend(&o.stdout);
        everything.extend(&o.stderr);
    }
    assert!(
        String::from_utf8_lossy(&add.stderr).contains("TRACE")
            || String::from_utf8_lossy(&add.stderr).contains("DEBUG"),
        "logging was on at trace level"
    );
    assert!(
        !everything
            .windows(secret.len())
            .any(|w| w == secret.as_bytes()),
        "the secret leaked into the data dir, output or logs"
    );

    let rm = vedette(
        dir.path(),
        keyring.address(),
        &["credential", "remove", "--registry", "127.0.0.1:5000"],
        "",
    );
    assert_eq!(rm.status.code(), Some(0), "{}", text(&rm));
    assert_eq!(keyring.secret_tool_lookup(&attrs), None);
    let again = vedette(
        dir.path(),
        keyring.address(),
        &["credential", "remove", "--registry", "127.0.0.1:5000"],
        "",
    );
    assert_eq!(again.status.code(), Some(2));
    assert!(text(&again).contains("no credential is stored for 127.0.0.1:5000"));
}

#[test]
fn a_registry_given_as_a_url_is_refused_with_what_to_type() {
    let dir = tempfile::tempdir().unwrap();
    let out = vedette(
        dir.path(),
        &no_bus(dir.path()),
        &[
            "credential",
            "add",
            "--registry",
            "https://ghcr.io/",
            "--username",
            "ada",
        ],
        "tok",
    );
    let t = text(&out);
    assert_eq!(out.status.code(), Some(2), "{t}");
    assert!(
        t.contains("without 'https://'") && t.contains("ghcr.io"),
        "{t}"
    );
}

#[test]
fn adding_a_credential_without_a_keyring_fails_clearly_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = vedette(
        dir.path(),
        &no_bus(dir.path()),
        &[
            "credential",
            "add",
            "--registry",
            "ghcr.io",
            "--username",
            "ada",
        ],
        "tok-never-stored",
    );
    let t = text(&out);
    assert_eq!(out.status.code(), Some(3), "{t}");
    assert!(
        t.contains("keyring cannot be reached") && t.contains("gnome-keyring"),
        "{t}"
    );
    assert!(!t.contains("tok-never-stored"));
    let list = vedette(
        dir.path(),
        &no_bus(dir.path()),
        &["credential", "list", "--format", "json"],
        "",
    );
    assert_eq!(String::from_utf8_lossy(&list.stdout).trim(), "[]");
}

/// Every file of a directory tree (the data dir: databases, their WALs, logs).
fn all_bytes(dir: &Path, out: &mut Vec<u8>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            all_bytes(&p, out);
        } else if p.is_file() {
            out.extend(std::fs::read(&p).unwrap());
        }
    }
}

#[test]
fn a_feed_mirror_password_lives_in_the_keyring_and_one_given_in_a_url_is_taken_out_of_it() {
    let keyring = KeyringSession::start();
    let secret = "mirror-s3cret-7f2d9";
    let mirror = crate::vulns::Mirror::start();
    mirror.server.require_basic("ada", secret);
    let dir = tempfile::tempdir().unwrap();
    let fixture = vedette_tests::registry::shared("fixtures/debian-12-minbase");
    let plain = mirror.server.url("osv");
    let with_password = plain.replacen("http://", &format!("http://ada:{secret}@"), 1);
    let env = |base: &str| {
        vec![
            ("VEDETTE_FEED_URL", base.to_owned()),
            ("VEDETTE_KEV_URL", "none".to_owned()),
            ("VEDETTE_EPSS_URL", "none".to_owned()),
            ("VEDETTE_NVD_URL", "none".to_owned()),
        ]
    };
    let scan = |base: &str| {
        vedette_with(
            dir.path(),
            keyring.address(),
            &env(base),
            &["scan", "dir", fixture.to_str().unwrap(), "--format", "json"],
            "",
        )
    };
    // Without credentials the mirror refuses, and the report says what to do.
    let refused = scan(&plain);
    assert_eq!(refused.status.code(), Some(4), "{}", text(&refused));
    assert!(
        text(&refused).contains("vedette credential add --feed-mirror"),
        "{}",
        text(&refused)
    );
    // A password in the URL works for this run, is said to be removed, and
    // is never kept.
    let in_url = scan(&with_password);
    let t = text(&in_url);
    assert_eq!(in_url.status.code(), Some(0), "{t}");
    assert!(
        t.contains("carried a user name and password: they were removed"),
        "{t}"
    );
    let report: serde_json::Value = serde_json::from_slice(&in_url.stdout).unwrap();
    assert_eq!(report["findings"].as_array().unwrap().len(), 16);
    // The keyring's credential: the URL alone then works.
    let add = vedette(
        dir.path(),
        keyring.address(),
        &[
            "credential",
            "add",
            "--feed-mirror",
            &plain,
            "--username",
            "ada",
        ],
        &format!("{secret}\n"),
    );
    assert_eq!(add.status.code(), Some(0), "{}", text(&add));
    let list = vedette(dir.path(), keyring.address(), &["credential", "list"], "");
    assert!(text(&list).contains("feed mirror"), "{}", text(&list));
    // A fresh index (the feed must be fetched again, with the credential).
    for f in ["feeds.db", "feeds.db-wal", "feeds.db-shm"] {
        let _ = std::fs::remove_file(dir.path().join(f));
    }
    let stored = scan(&plain);
    assert_eq!(stored.status.code(), Some(0), "{}", text(&stored));
    let status = vedette_with(
        dir.path(),
        keyring.address(),
        &env(&plain),
        &["feed", "status", "--format", "json"],
        "",
    );
    // Nowhere but the keyring: not in the databases, their WALs, any
    // output, report or trace-level log.
    let mut everything = Vec::new();
    all_bytes(dir.path(), &mut everything);
    for o in [&refused, &in_url, &add, &list, &stored, &status] {
        everything.extend(&o.stdout);
        everything.extend(&o.stderr);
    }
    assert!(
        !everything
            .windows(secret.len())
            .any(|w| w == secret.as_bytes()),
        "the mirror's secret leaked into the data dir, output or logs"
    );
}

#[test]
fn output_into_a_closed_pipe_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = vedette_tests::registry::shared("fixtures/debian-12-minbase");
    let mut child = Command::new(env!("CARGO_BIN_EXE_vedette"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["scan", "dir"])
        .arg(&fixture)
        .args(["--packages-only", "--format", "json", "-q"])
        .env("DBUS_SESSION_BUS_ADDRESS", no_bus(dir.path()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The reader goes away before a byte is written (`| head -c0`).
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Every file under `dir`, to search for what must not be there.
pub(crate) fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

//! `--database` and `vedette db`: a history in PostgreSQL (a server the
//! test starts, Debian's `postgresql`), and a laptop's SQLite history
//! copied there.

use std::path::Path;

use vedette_model::{Exposure, ScanState, TargetKind};
use vedette_store::Store;
use vedette_tests::postgres::Postgres;

use super::{no_bus, text, vedette, vedette_with};

fn inventory(target: &str, digest: &str) -> vedette_model::Inventory {
    serde_json::from_value(serde_json::json!({
        "schema": 1, "target": target, "kind": "directory", "digest": digest,
        "packages": [], "extractor_version": 1, "scanned_at": "2026-11-28T00:00:00Z",
    }))
    .expect("an inventory")
}

/// A report whose findings are CVE-`k` for each k in `ids`, of varying
/// severity and risk.
fn report(target: &str, ids: std::ops::Range<usize>) -> vedette_model::ScanReport {
    const SEVERITY: [&str; 4] = ["critical", "high", "medium", "low"];
    let findings: Vec<serde_json::Value> = ids
        .map(|k| {
            let id = format!("CVE-2026-{k:05}");
            serde_json::json!({
                "id": id, "aliases": [], "package": format!("pkg-{}", k % 13), "version": "1.0-1",
                "ecosystem": "Debian:12", "purl": format!("pkg:deb/debian/pkg-{}@1.0-1", k % 13),
                "summary": "", "severity": SEVERITY[k % 4], "severity_source": {"kind": "label", "id": id},
                "risk": (k % 97) as f64, "risk_factors": [], "locations": [],
            })
        })
        .collect();
    serde_json::from_value(serde_json::json!({
        "schema": 1, "target": target, "digest": "sha256:x", "exposure": "internal",
        "packages": 13, "findings": findings,
        "verdict": {"pass": true, "failures": [], "counted": 0, "notes": []},
        "feeds": [], "stale_feeds": [], "warnings": [], "scanned_at": "2026-11-28T00:00:00Z",
    }))
    .expect("a report")
}

/// 20 targets with 50 scans each: findings that come and go, inventories
/// that change every third scan, and a failed scan now and then.
fn write_history(data: &Path, scans_per_target: usize) {
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    rt.block_on(async {
        let store = Store::open_in(data).await.expect("the SQLite store");
        for t in 0..20 {
            let name = format!("/srv/app-{t:02}");
            let target = store
                .add_target(TargetKind::Directory, &name, Exposure::Internal)
                .await
                .expect("a target");
            for i in 0..scans_per_target {
                let scan = store.begin_scan(target.id).await.expect("begin");
                if i % 17 == 16 {
                    store
                        .finish_scan(scan, ScanState::Failed, Some("the directory vanished"))
                        .await
                        .expect("a failed scan");
                    continue;
                }
                let start = (t + i) % 11;
                store
                    .record_scan(
                        scan,
                        &inventory(&name, &format!("sha256:{t}-{}", i / 3)),
                        &report(&name, start..start + 3 + i % 5),
                        &format!("feeds-{}", i / 10),
                        7,
                    )
                    .await
                    .expect("a recorded scan");
            }
        }
        store.close().await;
    });
}

#[test]
fn a_copied_history_of_1000_scans_reads_the_same_from_postgresql() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = tmp.path().join("laptop");
    std::fs::create_dir_all(&data).expect("data dir");
    write_history(&data, 50);
    let bus = no_bus(tmp.path());
    let run = |env: &[(&str, String)], args: &[&str]| {
        let o = vedette_with(&data, &bus, env, args, "");
        assert!(o.status.success(), "{args:?}: {}", text(&o));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let reads: [&[&str]; 5] = [
        &["history", "--limit", "5000", "--format", "json"],
        &["trends", "--format", "json"],
        &["trends", "--target", "/srv/app-07", "--format", "json"],
        &["history", "show", "990", "--format", "json"],
        &["target", "list", "--format", "json"],
    ];
    let before: Vec<String> = reads.iter().map(|a| run(&[], a)).collect();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&before[0])
            .expect("history JSON")
            .as_array()
            .map(Vec::len),
        Some(1000)
    );

    let pg = Postgres::start();
    let url = pg.database("team");
    let copy = vedette(&data, &bus, &["db", "copy", "--to", &url], "");
    assert!(copy.status.success(), "{}", text(&copy));
    assert!(text(&copy).contains("scans: 1000"), "{}", text(&copy));

    let on_pg = [("VEDETTE_DATABASE_URL", url.clone())];
    for (args, expected) in reads.iter().zip(&before) {
        assert_eq!(
            &run(&on_pg, args),
            expected,
            "{args:?} differs after the copy"
        );
    }
    // The copy is PostgreSQL's own: new rows take ids after the copied ones.
    let new = tmp.path().join("new");
    std::fs::create_dir_all(&new).expect("a directory");
    let new = new.to_string_lossy();
    run(&on_pg, &["target", "add", "dir", &new]);
    assert_eq!(
        pg.psql(
            "team",
            &format!("SELECT id FROM targets WHERE name = '{new}'")
        ),
        "21\n"
    );

    // A second copy into a database with a history is refused, and
    // changes nothing.
    let again = vedette(&data, &bus, &["db", "copy", "--to", &url], "");
    assert_eq!(again.status.code(), Some(2), "{}", text(&again));
    assert!(
        text(&again).contains("already holds a history"),
        "{}",
        text(&again)
    );
    assert_eq!(pg.psql("team", "SELECT COUNT(*) FROM scans"), "1000\n");
}

#[test]
fn db_migrate_brings_a_postgresql_database_up_to_date_and_a_bad_url_says_what_to_give() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let bus = no_bus(tmp.path());
    let pg = Postgres::start();
    let url = pg.database("fresh");
    let o = vedette(tmp.path(), &bus, &["--database", &url, "db", "migrate"], "");
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("is up to date (schema"), "{}", text(&o));
    // The tables are in the connection's default schema.
    assert_eq!(
        pg.psql(
            "fresh",
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_name IN ('targets', 'scans', 'events')"
        ),
        "3\n"
    );
    // The same database answers `doctor`, naming it without a password.
    let doctor = vedette(tmp.path(), &bus, &["--database", &url, "doctor"], "");
    assert!(
        text(&doctor).contains(&format!("{url} (schema")),
        "{}",
        text(&doctor)
    );

    let o = vedette(
        tmp.path(),
        &bus,
        &["--database", "mysql://db/vedette", "history"],
        "",
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("postgres://"), "{}", text(&o));

    // A server that is not there: the error names it and what to check,
    // and never the password.
    let o = vedette(
        tmp.path(),
        &bus,
        &[
            "--database",
            "postgres://vedette:hunter2-secret@127.0.0.1:1/vedette",
            "history",
        ],
        "",
    );
    assert!(!o.status.success());
    assert!(!text(&o).contains("hunter2-secret"), "{}", text(&o));
    assert!(text(&o).contains("127.0.0.1:1"), "{}", text(&o));
}

/// A `vedette serve` on the shared database, its standard error in a file.
struct Served {
    child: std::process::Child,
    log: std::path::PathBuf,
}

impl Served {
    fn start(data: &Path, url: &str, log: std::path::PathBuf) -> Self {
        let err = std::fs::File::create(&log).expect("a log file");
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_vedette"))
            .args(["--data-dir"])
            .arg(data)
            .args(["--database", url, "serve", "--poll", "1s"])
            .env("VEDETTE_CONFIG", data.join("no-config.toml"))
            .env("DBUS_SESSION_BUS_ADDRESS", no_bus(data))
            .env("VEDETTE_API", "127.0.0.1:0")
            .env_remove("VEDETTE_DATA_DIR")
            .env_remove("VEDETTE_DATABASE_URL")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(err)
            .spawn()
            .expect("start vedette serve");
        Served { child, log }
    }

    /// Waits (up to `limit`) until its log says `what`; the log.
    fn until(&self, what: &str, limit: std::time::Duration) -> String {
        let start = std::time::Instant::now();
        loop {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            if log.contains(what) {
                return log;
            }
            assert!(
                start.elapsed() < limit,
                "after {limit:?} the log does not say {what:?}:\n{log}"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Err(e) = self.child.kill() {
            eprintln!("vedette serve was already gone: {e}");
        }
        if let Err(e) = self.child.wait() {
            eprintln!("cannot reap vedette serve: {e}");
        }
    }
}

#[test]
fn one_scheduler_runs_on_a_shared_database_and_another_takes_over_when_it_is_killed() {
    use std::time::Duration;
    let tmp = tempfile::tempdir().expect("temp dir");
    let pg = Postgres::start();
    let url = pg.database("team");
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let first = Served::start(&a, &url, tmp.path().join("a.log"));
    first.until("serving schedules for", Duration::from_secs(30));
    // A second machine's scheduler (its own data dir) waits.
    let second = Served::start(&b, &url, tmp.path().join("b.log"));
    let log = second.until("standing by", Duration::from_secs(30));
    assert!(log.contains("another Vedette scheduler runs on"), "{log}");
    assert!(
        log.contains("(vedette scheduler "),
        "the holder is named: {log}"
    );
    assert!(!log.contains("serving schedules for"), "{log}");

    // The first is killed mid-run: the second takes over.
    let mut first = first;
    first.child.kill().expect("kill -9 the first scheduler");
    first.child.wait().expect("reap it");
    second.until("runs the schedules now", Duration::from_secs(20));
    second.until("serving schedules for", Duration::from_secs(10));
    assert_eq!(
        pg.psql(
            "team",
            "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name LIKE 'vedette scheduler %'"
        ),
        "1\n",
        "one scheduler holds the lock"
    );
}

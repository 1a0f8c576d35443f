//! Schedules, `vedette serve`, history and re-matching, against a real
//! docker-registry and the feed mirror.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use vedette_tests::feedserver::FeedServer;
use vedette_tests::registry::{shared, Layer, Registry};

use crate::scan::push;
use crate::vulns::{command, out, run as vedette, write_zip, Mirror};

/// Every scan in the history, newest first, as `vedette history --format json` gives it.
pub(crate) fn history(data: &Path) -> Vec<Value> {
    let o = vedette(
        data,
        &[],
        &["history", "--format", "json", "--limit", "1000000"],
    );
    assert!(o.status.success(), "{}", out(&o));
    serde_json::from_slice::<Value>(&o.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn wait_for<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn a_fresh_data_dir_lists_the_weekly_scan_of_everything_disabled() {
    let tmp = tempfile::tempdir().unwrap();
    let o = vedette(tmp.path(), &[], &["schedule", "list"]);
    assert!(o.status.success(), "{}", out(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    let line = text
        .lines()
        .find(|l| l.contains("Weekly scan of all containers and hosts"))
        .expect("the system schedule");
    assert!(
        line.contains("disabled") && line.contains("0 3 * * 1"),
        "{line}"
    );
    let o = vedette(tmp.path(), &[], &["schedule", "remove", "1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(out(&o).contains("disable it instead"), "{}", out(&o));
}

#[test]
fn an_invalid_cron_expression_is_refused_with_exit_2_and_what_is_wrong() {
    let tmp = tempfile::tempdir().unwrap();
    for (cron, says) in [
        (
            "61 * * * *",
            "the minute field says 61; minutes run from 0 to 59",
        ),
        ("0 3 * *", "it has 4 fields"),
        ("every day", "it has 2 fields"),
    ] {
        let o = vedette(
            tmp.path(),
            &[],
            &["schedule", "add", "--name", "x", "--cron", cron],
        );
        assert_eq!(o.status.code(), Some(2), "{cron}: {}", out(&o));
        assert!(out(&o).contains(says), "{cron}: {}", out(&o));
    }
    let o = vedette(
        tmp.path(),
        &[],
        &[
            "schedule",
            "add",
            "--name",
            "x",
            "--preset",
            "daily",
            "--timezone",
            "Mars/Olympus",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(out(&o).contains("Mars/Olympus"), "{}", out(&o));
    // Nothing was stored.
    let list = vedette(tmp.path(), &[], &["schedule", "list", "--format", "json"]);
    assert_eq!(
        serde_json::from_slice::<Value>(&list.stdout)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

struct Serve(std::process::Child);

/// SIGTERM to a `vedette serve`, then its exit code (it must stop within 30 s).
pub(crate) fn terminate(child: &mut std::process::Child) -> Option<i32> {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let start = Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s.code();
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "vedette serve did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

impl Serve {
    fn start(data: &Path, env: &[(&str, String)]) -> Self {
        let child = command(data, env, &["serve", "--poll", "1s"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start vedette serve");
        Serve(child)
    }

    /// SIGTERM, then the exit code.
    fn stop(mut self) -> Option<i32> {
        terminate(&mut self.0)
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_schedule_fires_on_time_against_the_local_registry_and_one_scheduler_runs_per_data_dir() {
    let mirror = Mirror::start();
    let reg = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let image = push(
        &reg,
        tmp.path(),
        vec![Layer::from_dir(shared("fixtures/debian-12-minbase"))],
        "fixtures/debian",
    );
    let data = tmp.path().join("data");
    let mut env = mirror.env();
    env.push(("VEDETTE_INSECURE_REGISTRIES", reg.host()));
    let o = vedette(
        &data,
        &env,
        &[
            "scan",
            "image",
            &image,
            "--insecure-registry",
            "-q",
            "-o",
            "/dev/null",
        ],
    );
    assert!(o.status.success(), "{}", out(&o));
    let o = vedette(
        &data,
        &env,
        &[
            "schedule",
            "add",
            "--name",
            "every 2 s",
            "--cron",
            "*/2 * * * * *",
            "--kind",
            "image",
        ],
    );
    assert!(o.status.success(), "{}", out(&o));

    let serve = Serve::start(&data, &env);
    let scheduled = wait_for("a scheduled scan", Duration::from_secs(30), || {
        history(&data)
            .into_iter()
            .find(|s| s["trigger"] == "schedule" && s["state"] == "succeeded")
    });
    assert_eq!(scheduled["target_name"], image);
    assert_eq!(scheduled["counts"]["critical"], 2, "{scheduled:#}");
    assert_eq!(
        scheduled["new_findings"], 0,
        "same image, same feeds: nothing new"
    );

    let second = vedette(&data, &env, &["serve"]);
    assert_eq!(second.status.code(), Some(3));
    assert!(
        out(&second).contains("another Vedette scheduler runs"),
        "{}",
        out(&second)
    );
    assert_eq!(serve.stop(), Some(0));
    // No run of one schedule overlapped another: every scheduled scan finished.
    let h = history(&data);
    assert!(h.iter().all(|s| s["state"] == "succeeded"), "{h:#?}");
}

#[test]
fn a_run_missed_while_nothing_ran_happens_once_at_the_next_start() {
    let mirror = Mirror::start();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let env = mirror.env();
    let dir = shared("fixtures/debian-12-minbase").display().to_string();
    let o = vedette(&data, &env, &["scan", "dir", &dir, "-q", "-o", "/dev/null"]);
    assert!(o.status.success(), "{}", out(&o));
    let o = vedette(
        &data,
        &env,
        &[
            "schedule",
            "add",
            "--name",
            "daily",
            "--cron",
            "0 3 * * *",
            "--timezone",
            "UTC",
        ],
    );
    assert!(o.status.success(), "{}", out(&o));
    // The machine was off for two days.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = vedette_store::Store::open_in(&data).await.unwrap();
        let id = store
            .list_schedules()
            .await
            .unwrap()
            .iter()
            .find(|s| s.name == "daily")
            .unwrap()
            .id;
        store
            .set_schedule_ran(id, chrono::Utc::now() - chrono::Duration::days(2))
            .await
            .unwrap();
        store.close().await;
    });
    let serve = Serve::start(&data, &env);
    wait_for("the catch-up run", Duration::from_secs(30), || {
        history(&data)
            .into_iter()
            .find(|s| s["trigger"] == "schedule" && s["state"] == "succeeded")
    });
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(serve.stop(), Some(0));
    let runs = history(&data)
        .into_iter()
        .filter(|s| s["trigger"] == "schedule")
        .count();
    assert_eq!(runs, 1, "missed twice, run once");
}

fn pypi_record(id: &str) -> String {
    format!(
        r#"{{"id":"{id}","modified":"2026-11-01T00:00:00Z","published":"2026-11-01T00:00:00Z","aliases":["CVE-2099-{n}"],"summary":"{id} in demo-pkg","affected":[{{"package":{{"ecosystem":"PyPI","name":"demo-pkg"}},"ranges":[{{"type":"ECOSYSTEM","events":[{{"introduced":"0"}},{{"fixed":"2.0"}}]}}]}}]}}"#,
        n = id.len() + 1000
    )
}

/// Feeds from `server`'s OSV tree alone (no KEV, EPSS or NVD), each stale
/// a second after it was read, so that a run refreshes it.
fn osv_only(server: &FeedServer) -> Vec<(&'static str, String)> {
    vec![
        ("VEDETTE_FEED_URL", server.url("osv")),
        ("VEDETTE_KEV_URL", "none".to_owned()),
        ("VEDETTE_EPSS_URL", "none".into()),
        ("VEDETTE_NVD_URL", "none".into()),
        ("VEDETTE_FEED_MAX_AGE", "1s".into()),
    ]
}

/// Adds a schedule that selects no target ("feeds only") and, once the
/// feeds went stale, runs it: a run that only refreshes them and re-matches
/// what is stored.
fn run_feeds_only(data: &Path, env: &[(&str, String)]) -> std::process::Output {
    let o = vedette(
        data,
        env,
        &[
            "schedule",
            "add",
            "--name",
            "feeds only",
            "--preset",
            "hourly",
            "--targets",
            "none*",
        ],
    );
    assert!(o.status.success(), "{}", out(&o));
    std::thread::sleep(Duration::from_millis(1200));
    let list: Value = serde_json::from_slice(
        &vedette(data, env, &["schedule", "list", "--format", "json"]).stdout,
    )
    .unwrap();
    let id = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "feeds only")
        .unwrap()["id"]
        .to_string();
    vedette(data, env, &["schedule", "run", &id])
}

#[test]
fn a_feed_update_rematches_only_the_inventories_whose_feeds_changed() {
    // PyPI learns of a new vulnerability; crates.io's feed stays as it was.
    let crate_record = r#"{"id":"TEST-CRATE-1","modified":"2026-11-01T00:00:00Z","aliases":["CVE-2099-3001"],"summary":"TEST-CRATE-1 in demo-crate","affected":[{"package":{"ecosystem":"crates.io","name":"demo-crate"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2.0.0"}]}]}]}"#;
    let (old, new) = (pypi_record("TEST-OLD-1"), pypi_record("TEST-NEW-22"));
    let before = tempfile::tempdir().unwrap();
    let after = tempfile::tempdir().unwrap();
    for (root, pypi) in [
        (before.path(), vec![("TEST-OLD-1.json", old.as_str())]),
        (
            after.path(),
            vec![
                ("TEST-OLD-1.json", old.as_str()),
                ("TEST-NEW-22.json", new.as_str()),
            ],
        ),
    ] {
        write_zip(&root.join("osv/PyPI/all.zip"), &pypi);
        write_zip(
            &root.join("osv/crates.io/all.zip"),
            &[("TEST-CRATE-1.json", crate_record)],
        );
    }
    let server = FeedServer::start(before.path());
    let env = osv_only(&server);
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let (python, rust) = (tmp.path().join("python"), tmp.path().join("rust"));
    std::fs::create_dir_all(&python).unwrap();
    std::fs::create_dir_all(&rust).unwrap();
    std::fs::write(python.join("requirements.txt"), "demo-pkg==1.0\n").unwrap();
    std::fs::write(
        rust.join("Cargo.lock"),
        "version = 3\n\n[[package]]\nname = \"demo-crate\"\nversion = \"1.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n",
    )
    .unwrap();
    for dir in [&python, &rust] {
        let o = vedette(
            &data,
            &env,
            &[
                "scan",
                "dir",
                &dir.display().to_string(),
                "--format",
                "json",
                "-q",
            ],
        );
        assert!(o.status.success(), "{}", out(&o));
        let report: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(
            report["findings"].as_array().unwrap().len(),
            1,
            "{report:#}"
        );
    }

    server.set_root(after.path());
    let o = run_feeds_only(&data, &env);
    assert!(o.status.success(), "{}", out(&o));
    assert!(
        out(&o).contains("1 re-matched") && out(&o).contains("new: TEST-NEW-22"),
        "{}",
        out(&o)
    );
    // The Python app was matched again; the Rust one, whose feed did not
    // change, keeps its scan: nothing new could come of matching it.
    let h = history(&data);
    let rematched: Vec<&str> = h
        .iter()
        .filter(|s| s["trigger"] == "rematch")
        .map(|s| s["target_name"].as_str().unwrap())
        .collect();
    assert_eq!(rematched, [python.display().to_string()], "{h:#?}");
    let rust_scans = h
        .iter()
        .filter(|s| s["target_name"] == rust.display().to_string().as_str())
        .count();
    assert_eq!(rust_scans, 1, "{h:#?}");
}

#[test]
fn a_feed_update_rematches_stored_inventories_into_new_findings_caused_by_the_feed() {
    let before = tempfile::tempdir().unwrap();
    let after = tempfile::tempdir().unwrap();
    let (old, new) = (pypi_record("TEST-OLD-1"), pypi_record("TEST-NEW-22"));
    write_zip(
        &before.path().join("osv/PyPI/all.zip"),
        &[("TEST-OLD-1.json", &old)],
    );
    write_zip(
        &after.path().join("osv/PyPI/all.zip"),
        &[("TEST-OLD-1.json", &old), ("TEST-NEW-22.json", &new)],
    );
    let server = FeedServer::start(before.path());
    let env = osv_only(&server);
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let app = tmp.path().join("app");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::write(app.join("requirements.txt"), "demo-pkg==1.0\n").unwrap();
    let o = vedette(
        &data,
        &env,
        &[
            "scan",
            "dir",
            &app.display().to_string(),
            "--format",
            "json",
            "-q",
        ],
    );
    assert!(o.status.success(), "{}", out(&o));
    let first: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(first["findings"].as_array().unwrap().len(), 1);

    // The advisory database learns of a second vulnerability in the same
    // package; a schedule that scans nothing itself still re-matches.
    server.set_root(after.path());
    let o = run_feeds_only(&data, &env);
    assert!(o.status.success(), "{}", out(&o));
    assert!(
        out(&o).contains("1 re-matched") && out(&o).contains("new: TEST-NEW-22"),
        "{}",
        out(&o)
    );

    let h = history(&data);
    let rematch = h
        .iter()
        .find(|s| s["trigger"] == "rematch")
        .expect("a rematch scan");
    assert_eq!(rematch["new_findings"], 1);
    let show = vedette(
        &data,
        &[],
        &[
            "history",
            "show",
            &rematch["id"].to_string(),
            "--format",
            "json",
        ],
    );
    let diff: Value = serde_json::from_slice(&show.stdout).unwrap();
    let new = diff["diff"]["new"].as_array().unwrap();
    assert_eq!(new.len(), 1);
    assert_eq!(new[0]["cause"], "feed_update");
    assert_eq!(new[0]["finding"]["id"], "TEST-NEW-22");
    assert_eq!(diff["diff"]["unchanged"].as_array().unwrap().len(), 1);
    // Nothing was pulled again: the re-match used the stored inventory.
    assert_eq!(h.iter().filter(|s| s["trigger"] == "manual").count(), 1);
    let text = vedette(&data, &[], &["history", "show", &rematch["id"].to_string()]);
    assert!(
        String::from_utf8_lossy(&text.stdout).contains("newly disclosed: a feed update"),
        "{}",
        out(&text)
    );

    // Trends: today two open findings (one from the first scan, one the feed
    // disclosed), and two new this week: "new" as the history counts it.
    let t: Value = serde_json::from_slice(
        &vedette(&data, &[], &["trends", "--days", "7", "--format", "json"]).stdout,
    )
    .unwrap();
    let today = t["daily"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        today["day"],
        chrono::Utc::now()
            .date_naive()
            .format("%Y-%m-%d")
            .to_string()
    );
    assert_eq!(today["open"]["unknown"], 2, "{today:#}");
    let history_new: i64 = h.iter().filter_map(|s| s["new_findings"].as_i64()).sum();
    assert_eq!(history_new, 2);
    assert_eq!(
        t["weekly"].as_array().unwrap().last().unwrap()["new"],
        history_new,
        "{t:#}"
    );
    let svg = tmp.path().join("trends.svg");
    let png = tmp.path().join("trends.png");
    for f in [&svg, &png] {
        let o = vedette(
            &data,
            &[],
            &["trends", "--days", "14", "-o", &f.display().to_string()],
        );
        assert!(o.status.success(), "{}", out(&o));
    }
    let svg = std::fs::read_to_string(&svg).unwrap();
    for label in [
        "Open findings by severity, all targets",
        "critical",
        "unknown",
        "open findings",
        "day (UTC)",
        "New and fixed per week",
    ] {
        assert!(svg.contains(label), "the chart lacks {label:?}");
    }
    let png = std::fs::read(&png).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let o = vedette(&data, &[], &["trends", "-o", "chart.gif"]);
    assert_eq!(o.status.code(), Some(2));
}

fn doctor_database_ok(data: &Path) {
    let o = vedette(data, &[], &["doctor", "--format", "json"]);
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    let db = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "Database")
        .unwrap();
    assert_eq!(db["state"], "ok", "{db:#}");
    assert!(
        db["detail"].as_str().unwrap().contains("integrity ok"),
        "{db:#}"
    );
}

#[test]
fn kill_9_of_serve_mid_scan_twenty_times_loses_no_history_and_retries_the_interrupted_scans() {
    let mirror = Mirror::start();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let env = mirror.env();
    // Twenty kills interrupt some targets three times in a row, which would
    // quarantine them (and, on a busy machine, all of them, so no scan would
    // start): quarantine has its own test; this one is about what a kill
    // leaves behind. Every `vedette` this test runs (each marks the killed
    // scans interrupted when it opens the data dir) inherits it.
    std::env::set_var("VEDETTE_QUARANTINE_AFTER", "0");
    // Twelve small root filesystems: a run takes a few hundred milliseconds.
    for i in 0..12 {
        let root = tmp.path().join(format!("host-{i:02}"));
        std::fs::create_dir_all(root.join("var/lib/dpkg")).unwrap();
        std::fs::create_dir_all(root.join("etc")).unwrap();
        std::fs::copy(
            shared("fixtures/debian-12-minbase/var/lib/dpkg/status"),
            root.join("var/lib/dpkg/status"),
        )
        .unwrap();
        std::fs::copy(
            shared("fixtures/debian-12-minbase/etc/os-release"),
            root.join("etc/os-release"),
        )
        .unwrap();
        let o = vedette(
            &data,
            &env,
            &[
                "scan",
                "dir",
                &root.display().to_string(),
                "-q",
                "-o",
                "/dev/null",
            ],
        );
        assert!(o.status.success(), "{}", out(&o));
    }
    let o = vedette(
        &data,
        &env,
        &[
            "schedule",
            "add",
            "--name",
            "every second",
            "--cron",
            "* * * * * *",
            "--kind",
            "directory",
        ],
    );
    assert!(o.status.success(), "{}", out(&o));

    let rt = tokio::runtime::Runtime::new().unwrap();
    let watcher = rt.block_on(vedette_store::Store::open_in(&data)).unwrap();
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    for round in 0..20 {
        let before: Vec<(i64, String)> = history(&data)
            .iter()
            .filter(|s| s["state"] == "succeeded")
            .map(|s| {
                (
                    s["id"].as_i64().unwrap(),
                    s["target_name"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let mut serve = Serve::start(&data, &env);
        // Kill it while a scan is running: watch the store (WAL lets a
        // reader look while the scheduler writes), then strike after a
        // random few milliseconds.
        let start = Instant::now();
        loop {
            let scans = rt.block_on(watcher.list_scans(3)).unwrap_or_default();
            if scans
                .iter()
                .any(|s| s.state == vedette_model::ScanState::Running)
            {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "round {round}: no scan started"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_millis(seed % 40));
        let _ = Command::new("kill")
            .arg("-KILL")
            .arg(serve.0.id().to_string())
            .status();
        let _ = serve.0.wait();
        doctor_database_ok(&data);
        let after = history(&data);
        for (id, target) in &before {
            let s = after
                .iter()
                .find(|s| s["id"] == *id)
                .unwrap_or_else(|| panic!("round {round}: scan {id} is gone"));
            assert_eq!(
                s["state"], "succeeded",
                "round {round}: scan {id} of {target} changed: {s:#}"
            );
        }
        assert!(
            after.iter().all(|s| s["state"] != "running"),
            "round {round}: a scan of the killed process still says running"
        );
    }
    let interrupted: Vec<Value> = history(&data)
        .into_iter()
        .filter(|s| s["state"] == "interrupted")
        .collect();
    assert!(
        !interrupted.is_empty(),
        "twenty kills in the middle of runs interrupted no scan"
    );

    // A clean start retries what was interrupted, except a target whose
    // last three scans were all interrupted: that one is quarantined.
    let serve = Serve::start(&data, &env);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(serve.stop(), Some(0));
    doctor_database_ok(&data);
    let h = history(&data);
    let o = vedette(&data, &env, &["target", "list", "--format", "json"]);
    let targets: Vec<Value> = serde_json::from_slice(&o.stdout).expect("target list JSON");
    for i in &interrupted {
        let later = h.iter().any(|s| {
            s["target_id"] == i["target_id"]
                && s["id"].as_i64() > i["id"].as_i64()
                && s["state"] == "succeeded"
        });
        let target = targets
            .iter()
            .find(|t| t["id"] == i["target_id"])
            .expect("the target is still there");
        let last_three: Vec<&Value> = h
            .iter()
            .filter(|s| s["target_id"] == i["target_id"])
            .take(3)
            .map(|s| &s["state"])
            .collect();
        let quarantined = target.get("quarantine").is_some()
            && last_three.len() == 3
            && last_three.iter().all(|s| *s == "interrupted");
        assert!(
            later || quarantined,
            "interrupted scan {} of {} was neither scanned again nor its target quarantined after three: {target:#}, last states {last_three:?}",
            i["id"], i["target_name"]
        );
    }
}

#[test]
fn a_poison_image_that_keeps_killing_serve_is_quarantined_and_the_others_keep_being_scanned() {
    use vedette_tests::proxy::{Action, Fault, FaultProxy};
    let mirror = Mirror::start();
    let reg = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    push(
        &reg,
        tmp.path(),
        vec![Layer::from_dir(shared("fixtures/debian-12-minbase"))],
        "q/good1",
    );
    push(
        &reg,
        tmp.path(),
        vec![Layer::from_dir(shared("fixtures/alpine-3.23"))],
        "q/good2",
    );
    push(
        &reg,
        tmp.path(),
        vec![Layer::from_dir(shared("fixtures/alpine-3.23"))
            .file("poison", b"this layer never arrives")],
        "q/poison",
    );
    // The poison's layer trickles in a byte a second: its scan is running
    // whenever the test strikes, as if the image crashed the process.
    let layer = {
        let layout = tmp.path().join("q-poison");
        let index: Value =
            serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
        let m = index["manifests"][0]["digest"].as_str().unwrap().to_owned();
        let manifest: Value = serde_json::from_slice(
            &std::fs::read(
                layout
                    .join("blobs/sha256")
                    .join(m.trim_start_matches("sha256:")),
            )
            .unwrap(),
        )
        .unwrap();
        manifest["layers"][0]["digest"].as_str().unwrap().to_owned()
    };
    let proxy = FaultProxy::start(reg.port());
    proxy.inject(Fault {
        method: Some("GET"),
        path_contains: Box::leak(format!("/v2/q/poison/blobs/{layer}").into_boxed_str()),
        times: 1000,
        action: Action::Trickle,
    });
    let data = tmp.path().join("data");
    let env = mirror.env();
    for args in [
        vec![
            "target",
            "add",
            "registry",
            &proxy.host(),
            "--repos",
            "q/*",
            "--insecure",
        ],
        vec![
            "schedule",
            "add",
            "--name",
            "every 2 s",
            "--cron",
            "*/2 * * * * *",
            "--kind",
            "registry",
        ],
    ] {
        let o = vedette(&data, &env, &args);
        assert!(o.status.success(), "{}", out(&o));
    }
    let poison = format!("{}/q/poison:t", proxy.host());
    let goods = [
        format!("{}/q/good1:t", proxy.host()),
        format!("{}/q/good2:t", proxy.host()),
    ];
    let quarantined = |data: &Path| -> Option<Value> {
        let o = vedette(data, &env, &["target", "list", "--format", "json"]);
        let list: Vec<Value> = serde_json::from_slice(&o.stdout).expect("target list JSON");
        list.into_iter()
            .find(|t| t["name"] == poison.as_str())
            .and_then(|t| t.get("quarantine").cloned())
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let watcher = rt.block_on(vedette_store::Store::open_in(&data)).unwrap();
    let mut kills = 0;
    while quarantined(&data).is_none() {
        assert!(
            kills < 3,
            "still not quarantined after {kills} interruptions in a row"
        );
        let started = chrono::Utc::now();
        let mut serve = Serve::start(&data, &env);
        // Strike while the poison's scan runs, once both good images were
        // scanned in this round: the others keep being scanned meanwhile.
        wait_for(
            "the poison's scan, the good ones done",
            Duration::from_secs(60),
            || {
                let scans = rt.block_on(watcher.list_scans(50)).unwrap_or_default();
                let poison_running = scans.iter().any(|s| {
                    s.target_name == poison && s.state == vedette_model::ScanState::Running
                });
                let goods_done = goods.iter().all(|g| {
                    scans.iter().any(|s| {
                        s.target_name == *g
                            && s.started_at >= started
                            && s.state == vedette_model::ScanState::Succeeded
                    })
                });
                (poison_running && goods_done).then_some(())
            },
        );
        let _ = Command::new("kill")
            .arg("-KILL")
            .arg(serve.0.id().to_string())
            .status();
        let _ = serve.0.wait();
        kills += 1;
    }
    assert_eq!(kills, 3, "quarantined after three interruptions in a row");
    let q = quarantined(&data).unwrap();
    assert!(
        q["reason"]
            .as_str()
            .unwrap()
            .contains("last 3 scans stopped Vedette"),
        "{q:#}"
    );
    let list = vedette(&data, &env, &["target", "list"]);
    let text = out(&list);
    assert!(
        text.lines()
            .any(|l| l.contains("q/poison") && l.contains("QUARANTINED")),
        "{text}"
    );
    assert!(text.contains("vedette target retry"), "{text}");

    // Serving again: the good images are scanned, the poison is left alone.
    let before = chrono::Utc::now();
    let serve = Serve::start(&data, &env);
    wait_for(
        "the good images scanned again",
        Duration::from_secs(30),
        || {
            let scans = history(&data);
            goods
                .iter()
                .all(|g| {
                    scans.iter().any(|s| {
                        s["target_name"] == g.as_str()
                            && s["state"] == "succeeded"
                            && s["started_at"]
                                .as_str()
                                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                                .is_some_and(|t| t >= before)
                    })
                })
                .then_some(())
        },
    );
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        serve.stop(),
        Some(0),
        "nothing is stuck: the poison was not scanned"
    );
    let poison_scans_since: Vec<Value> = history(&data)
        .into_iter()
        .filter(|s| {
            s["target_name"] == poison.as_str()
                && s["started_at"]
                    .as_str()
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                    .is_some_and(|t| t >= before)
        })
        .collect();
    assert!(poison_scans_since.is_empty(), "{poison_scans_since:#?}");
    // The user lets it be scanned again.
    let o = vedette(&data, &env, &["target", "retry", &poison]);
    assert!(out(&o).contains("out of quarantine"), "{}", out(&o));
    assert!(quarantined(&data).is_none());
}

#[test]
fn a_pause_holds_for_serve_across_its_restarts_until_resumed() {
    let mirror = Mirror::start();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let env = mirror.env();
    let dir = shared("fixtures/debian-12-minbase").display().to_string();
    let o = vedette(&data, &env, &["target", "add", "dir", &dir]);
    assert!(o.status.success(), "{}", out(&o));
    let o = vedette(
        &data,
        &env,
        &[
            "schedule",
            "add",
            "--name",
            "every 2 s",
            "--cron",
            "*/2 * * * * *",
            "--kind",
            "directory",
        ],
    );
    assert!(o.status.success(), "{}", out(&o));
    let o = vedette(&data, &env, &["schedule", "pause"]);
    assert!(o.status.success(), "{}", out(&o));
    let scheduled = |data: &Path| {
        history(data)
            .into_iter()
            .filter(|s| s["trigger"] == "schedule")
            .count()
    };
    // Paused: serve runs nothing, and still nothing after a restart.
    for _ in 0..2 {
        let serve = Serve::start(&data, &env);
        std::thread::sleep(Duration::from_secs(5));
        assert_eq!(serve.stop(), Some(0));
        assert_eq!(scheduled(&data), 0, "a paused schedule ran");
    }
    // Resumed while serve runs: it follows, without a restart.
    let serve = Serve::start(&data, &env);
    let o = vedette(&data, &env, &["schedule", "resume"]);
    assert!(o.status.success(), "{}", out(&o));
    wait_for("a scheduled scan", Duration::from_secs(30), || {
        (scheduled(&data) > 0).then_some(())
    });
    assert_eq!(serve.stop(), Some(0));
}

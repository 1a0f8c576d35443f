//! The installed experience's figures, on the optimised build: the app's
//! start to an interactive window (median of 10 launches on a data dir with
//! history), its resident memory idle after a scan (the app and WebKit's
//! processes), how smoothly a scan of about 10,000 findings scrolls (frame
//! times while the list is scrolled to its end), and the `.deb`'s size
//! (`VEDETTE_DEB=path`). Prints a Markdown table.
//!
//! Run: `cargo build --release -p vedette-cli -p vedette-desktop && cargo
//! bench -p vedette-tests --bench desktop` (after `bash tests/run.sh` has
//! installed Xvfb, gnome-keyring, tauri-driver and WebKitWebDriver).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use vedette_tests::{free_port, wait_for, Display, KeyringSession};

#[path = "../e2e/session.rs"]
#[allow(dead_code)]
mod session;

const LAUNCHES: usize = 10;

fn release(bin: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let bin = exe.parent().and_then(Path::parent).unwrap().join(bin);
    assert!(
        bin.is_file(),
        "{} is missing: `cargo build --release -p vedette-cli -p vedette-desktop` first",
        bin.display()
    );
    bin
}

fn cli(data: &Path, args: &[&str]) -> std::process::Output {
    Command::new(release("vedette"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
        .output()
        .unwrap()
}

fn ready_lines(data: &Path) -> usize {
    session::desktop_log(data).matches("page ready").count()
}

/// Memory of `pid` and of its descendants, by process: resident (shared
/// libraries included, counted whole in each process), anonymous (its own
/// heap and stacks), and proportional (shared pages split between the
/// processes that map them), in MB.
struct Memory {
    name: String,
    rss: u64,
    anon: u64,
    pss: u64,
}

fn memory_tree(pid: u32) -> Vec<Memory> {
    let mut out = Vec::new();
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        let status = std::fs::read_to_string(format!("/proc/{p}/status")).unwrap_or_default();
        let rollup = std::fs::read_to_string(format!("/proc/{p}/smaps_rollup")).unwrap_or_default();
        let kb = |text: &str, k: &str| -> u64 {
            text.lines()
                .find_map(|l| l.strip_prefix(k))
                .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
                .unwrap_or(0)
        };
        let name = status
            .lines()
            .find_map(|l| l.strip_prefix("Name:"))
            .map(|v| v.trim().to_owned())
            .unwrap_or_default();
        out.push(Memory {
            name,
            rss: kb(&status, "VmRSS:") / 1024,
            anon: kb(&status, "RssAnon:") / 1024,
            pss: kb(&rollup, "Pss:") / 1024,
        });
        for e in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(child) = e.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let stat = std::fs::read_to_string(format!("/proc/{child}/stat")).unwrap_or_default();
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u32>().ok());
            if ppid == Some(p) {
                todo.push(child);
            }
        }
    }
    out
}

fn main() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let feeds = vedette_tests::registry::shared("feeds");
    let o = cli(&data, &["feed", "import", feeds.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let fixture = vedette_tests::registry::shared("fixtures/debian-12-minbase");
    let o = cli(&data, &["target", "add", "dir", fixture.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let token = cli(
        &data,
        &[
            "api", "token", "create", "--name", "bench", "--scope", "scan",
        ],
    );
    let token = String::from_utf8_lossy(&token.stdout).trim().to_owned();

    let display = Display::start();
    let keyring = KeyringSession::start();
    let xdg = tempfile::tempdir().unwrap();
    let port = free_port();
    let launch = || {
        Command::new(release("vedette-desktop"))
            .arg("--data-dir")
            .arg(&data)
            .env("DISPLAY", display.name())
            .env("DBUS_SESSION_BUS_ADDRESS", keyring.address())
            .env("XDG_CONFIG_HOME", xdg.path().join("config"))
            .env("XDG_CACHE_HOME", xdg.path().join("cache"))
            .env("NO_AT_BRIDGE", "1")
            .env("VEDETTE_API", format!("127.0.0.1:{port}"))
            .env("VEDETTE_FEED_URL", "http://127.0.0.1:9/osv")
            .env("VEDETTE_KEV_URL", "none")
            .env("VEDETTE_EPSS_URL", "none")
            .env("VEDETTE_NVD_URL", "none")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let stop = |mut app: std::process::Child| {
        Command::new("kill")
            .args(["-TERM", &app.id().to_string()])
            .status()
            .unwrap();
        if wait_for("the app to stop", Duration::from_secs(20), || {
            app.try_wait().ok().flatten().map(Some)
        })
        .is_none()
        {
            let _ = app.kill();
        }
        let _ = app.wait();
    };

    // Start to interactive: spawned until the dashboard has loaded what it
    // shows ("page ready" in the app's log).
    let mut starts = Vec::new();
    for _ in 0..LAUNCHES {
        let before = ready_lines(&data);
        let t = Instant::now();
        let app = launch();
        wait_for("the dashboard to be ready", Duration::from_secs(60), || {
            (ready_lines(&data) > before).then_some(())
        });
        starts.push(t.elapsed());
        stop(app);
    }
    starts.sort();
    let median = (starts[LAUNCHES / 2 - 1] + starts[LAUNCHES / 2]) / 2;

    // Idle memory after a scan started through the app's API.
    let app = launch();
    let before = ready_lines(&data);
    wait_for("the dashboard to be ready", Duration::from_secs(60), || {
        (ready_lines(&data) > before).then_some(())
    });
    std::thread::sleep(Duration::from_secs(10));
    let rss_before = memory_tree(app.id());
    let agent = ureq::Agent::new_with_defaults();
    let base = format!("http://127.0.0.1:{port}/api/v1");
    let targets: serde_json::Value = agent
        .get(&format!("{base}/targets"))
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap();
    let target_id = targets[0]["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("a target in {targets}"));
    let started: serde_json::Value = agent
        .post(&format!("{base}/scans"))
        .header("Authorization", &format!("Bearer {token}"))
        .send_json(serde_json::json!({ "target_id": target_id }))
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap();
    let scan_id = started["scans"][0]["scan_id"]
        .as_i64()
        .unwrap_or_else(|| panic!("a scan in {started}"));
    wait_for("the scan to finish", Duration::from_secs(120), || {
        let scan: serde_json::Value = agent
            .get(&format!("{base}/scans/{scan_id}"))
            .header("Authorization", &format!("Bearer {token}"))
            .call()
            .ok()?
            .body_mut()
            .read_json()
            .ok()?;
        (scan["state"] != "running" && scan["state"] != "queued").then_some(())
    });
    std::thread::sleep(Duration::from_secs(10));
    let rss_after = memory_tree(app.id());
    stop(app);

    // Scrolling a scan of every package the feeds name, in the window.
    let many = tempfile::tempdir().unwrap();
    let root = many.path().join("many");
    vedette_tests::findings::write_many_findings(&root);
    let o = cli(many.path(), &["feed", "import", feeds.to_str().unwrap()]);
    assert!(o.status.success());
    let o = cli(
        many.path(),
        &[
            "scan",
            "dir",
            root.to_str().unwrap(),
            "--offline",
            "-q",
            "-f",
            "json",
        ],
    );
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let total = report["findings"].as_array().unwrap().len();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (floor, frames) = rt.block_on(async {
        let s = session::Session::start_in("bench-scroll", false, true, many).await;
        s.go("scans").await;
        s.click("[data-testid=scan-row] td").await;
        s.wait_text("[data-testid=finding-count]", &format!("{total} findings"))
            .await;
        s.client
            .update_timeouts(fantoccini::wd::TimeoutConfiguration::new(
                Some(Duration::from_secs(600)),
                None,
                None,
            ))
            .await
            .unwrap();
        // The floor: 120 frames scrolling up and down inside the first page
        // of rows (nothing drawn anew, nothing appended).
        let floor = s
            .client
            .execute_async(
                r#"const done = arguments[arguments.length - 1];
const main = document.querySelector('main.content');
const frames = []; let last = performance.now(); let dir = 1;
function step(now) {
  frames.push(now - last); last = now;
  if (main.scrollTop > 2400) dir = -1; else if (main.scrollTop < 400) dir = 1;
  main.scrollTop += dir * 400;
  if (frames.length >= 120) { main.scrollTop = 0; done(frames); } else requestAnimationFrame(step);
}
requestAnimationFrame((t) => { last = t; requestAnimationFrame(step); });"#,
                vec![],
            )
            .await
            .unwrap();
        // 400 px a frame until every row is drawn and the end is reached;
        // the time between frames is what the user sees.
        let v = s
            .client
            .execute_async(
                r#"const done = arguments[arguments.length - 1];
const main = document.querySelector('main.content');
const frames = []; let last = performance.now();
function step(now) {
  frames.push(now - last); last = now;
  main.scrollTop += 400;
  const atEnd = main.scrollTop + main.clientHeight >= main.scrollHeight - 2;
  if (atEnd && !document.querySelector('[data-testid=more-findings]') || frames.length > 5000) done(frames);
  else requestAnimationFrame(step);
}
requestAnimationFrame((t) => { last = t; requestAnimationFrame(step); });"#,
                vec![],
            )
            .await
            .unwrap();
        s.stop().await;
        let times = |v: serde_json::Value| -> Vec<f64> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|f| f.as_f64().unwrap())
                .collect()
        };
        (times(floor), times(v))
    });
    // Median, 95th percentile, worst, and frames over 50 ms.
    let stats = |frames: &[f64]| {
        let mut sorted = frames.to_vec();
        sorted.sort_by(f64::total_cmp);
        let pct = |p: f64| sorted[((sorted.len() - 1) as f64 * p) as usize];
        format!(
            "{:.1} / {:.1} / {:.1} ms ({} of {} frames over 50 ms)",
            pct(0.5),
            pct(0.95),
            sorted[sorted.len() - 1],
            frames.iter().filter(|f| **f > 50.0).count(),
            frames.len()
        )
    };

    println!("| measure | value |");
    println!("| --- | --- |");
    println!(
        "| start to interactive window (median of {LAUNCHES}; min {:.2} s, max {:.2} s) | {:.2} s |",
        starts[0].as_secs_f64(),
        starts[LAUNCHES - 1].as_secs_f64(),
        median.as_secs_f64()
    );
    for (when, memory) in [
        ("idle 10 s after start", &rss_before),
        ("idle 10 s after a scan", &rss_after),
    ] {
        for m in memory.iter() {
            println!(
                "| memory {when}: {} (resident / own / proportional) | {} / {} / {} MB |",
                m.name, m.rss, m.anon, m.pss
            );
        }
        let sum = |f: fn(&Memory) -> u64| memory.iter().map(f).sum::<u64>();
        println!(
            "| memory {when}: all processes (resident / own / proportional) | {} / {} / {} MB |",
            sum(|m| m.rss),
            sum(|m| m.anon),
            sum(|m| m.pss)
        );
    }
    println!(
        "| frame time scrolling within the first 200 of {total} findings: median / p95 / max | {} |",
        stats(&floor)
    );
    println!(
        "| frame time scrolling all {total} findings to the end | {} |",
        stats(&frames)
    );
    if let Some(deb) = std::env::var_os("VEDETTE_DEB") {
        let size = std::fs::metadata(&deb).unwrap().len();
        println!(
            "| {} | {:.1} MB |",
            Path::new(&deb).file_name().unwrap().to_string_lossy(),
            size as f64 / 1e6
        );
    }
}

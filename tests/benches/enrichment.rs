//! Unreachable enrichment sources: how long a scan of the Debian fixture
//! takes when KEV, EPSS and NVD are reachable, refuse connections, or accept
//! them and never answer; the first scan (which tries them) and a second one
//! within the hour (which leaves them alone). OSV comes from a local mirror
//! of `../shared/feeds` in every case. The default feed options apply (no
//! timeout is shortened), with NVD given 25 files as its default list has.
//!
//! Run: `cargo bench -p vedette-tests --bench enrichment`. With
//! `VEDETTE_BASELINE_CLI=/path/to/an/older/vedette`, that binary is timed
//! the same way beside it (each of its scans cut at 300 s).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark that cannot set itself up should stop there

use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use vedette_tests::bench::release_cli;
use vedette_tests::feedserver::FeedServer;
use vedette_tests::registry::shared;

/// Accepts connections and never answers; counts them.
fn stall() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let n = Arc::new(AtomicUsize::new(0));
    let c = Arc::clone(&n);
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming().flatten() {
            c.fetch_add(1, Ordering::SeqCst);
            held.push(conn);
        }
    });
    (port, n)
}

fn refused() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The enrichment URLs of a host: KEV, EPSS and 25 NVD files.
fn enrichment(base: &str) -> Vec<(&'static str, String)> {
    let nvd: Vec<String> = (2002..=2026)
        .map(|y| format!("{base}/nvd/nvdcve-2.0-{y}.json.gz"))
        .collect();
    vec![
        (
            "VEDETTE_KEV_URL",
            format!("{base}/kev/known_exploited_vulnerabilities.json"),
        ),
        (
            "VEDETTE_EPSS_URL",
            format!("{base}/epss/epss_scores-current.csv.gz"),
        ),
        ("VEDETTE_NVD_URL", nvd.join(",")),
    ]
}

/// Wall seconds of one scan (cut at `limit`), and whether it finished.
fn scan(cli: &str, data: &Path, env: &[(&str, String)], limit: Duration) -> (f64, bool) {
    let fixture = shared("fixtures/debian-12-minbase");
    let start = Instant::now();
    let mut child = Command::new("timeout")
        .arg(limit.as_secs().to_string())
        .arg(cli)
        .arg("--data-dir")
        .arg(data)
        .args([
            "scan",
            "dir",
            fixture.to_str().unwrap(),
            "--format",
            "json",
            "-q",
            "-o",
            "/dev/null",
        ])
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
        .spawn()
        .unwrap();
    let status = child.wait().unwrap();
    (start.elapsed().as_secs_f64(), status.code() != Some(124))
}

fn main() {
    let cli = release_cli();
    let baseline = std::env::var("VEDETTE_BASELINE_CLI").ok();
    let root = tempfile::tempdir().unwrap();
    for d in ["osv", "kev", "nvd"] {
        std::os::unix::fs::symlink(shared(&format!("feeds/{d}")), root.path().join(d)).unwrap();
    }
    let mirror = FeedServer::start(root.path());
    let (stall_port, accepted) = stall();
    let refused_port = refused();
    let cases: Vec<(&str, Vec<(&'static str, String)>)> = vec![
        (
            "reachable (a local mirror; EPSS missing there: 404)",
            enrichment(mirror.url("").trim_end_matches('/')),
        ),
        (
            "refusing connections",
            enrichment(&format!("http://127.0.0.1:{refused_port}")),
        ),
        (
            "accepting and never answering",
            enrichment(&format!("http://127.0.0.1:{stall_port}")),
        ),
    ];
    println!("| enrichment sources | binary | first scan (s) | second scan, within the hour (s) | connections to the stalling sources |");
    println!("| --- | --- | ---: | ---: | ---: |");
    let mut binaries = vec![("vedette (this tree)", cli.clone(), Duration::from_secs(600))];
    if let Some(b) = baseline {
        binaries.push((
            "baseline (VEDETTE_BASELINE_CLI)",
            b,
            Duration::from_secs(300),
        ));
    }
    for (label, env) in &cases {
        for (name, bin, limit) in &binaries {
            let data = tempfile::tempdir().unwrap();
            let mut env = env.clone();
            env.push(("VEDETTE_FEED_URL", mirror.url("osv")));
            let before = accepted.load(Ordering::SeqCst);
            let (first, done1) = scan(bin, data.path(), &env, *limit);
            let (second, done2) = scan(bin, data.path(), &env, *limit);
            let conns = accepted.load(Ordering::SeqCst) - before;
            let show = |t: f64, done: bool| {
                if done {
                    format!("{t:.2}")
                } else {
                    format!("> {} (cut)", limit.as_secs())
                }
            };
            println!(
                "| {label} | {name} | {} | {} | {} |",
                show(first, done1),
                show(second, done2),
                if label.starts_with("accepting") {
                    conns.to_string()
                } else {
                    "—".into()
                }
            );
        }
    }
}

//! Helpers the benchmarks share: timing a shell command under GNU time, and
//! building the release CLI.

use std::path::Path;
use std::process::Command;

pub struct Measure {
    pub wall: f64,
    pub rss_mb: f64,
}

/// Runs `cmd` under GNU time; returns wall seconds and peak RSS.
pub fn measure(cmd: &str) -> Measure {
    let start = std::time::Instant::now();
    let out = Command::new("/usr/bin/time")
        .args(["-f", "%e %M", "sh", "-c", cmd])
        .output()
        .expect("run /usr/bin/time (Debian package `time`)");
    assert!(
        out.status.success(),
        "{cmd} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    let last = err.lines().last().unwrap_or("");
    // GNU time's wall clock has 10 ms steps; the Instant around it is finer.
    let wall = start.elapsed().as_secs_f64();
    let kb: f64 = last
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("max rss");
    Measure {
        wall,
        rss_mb: kb / 1024.0,
    }
}

/// The run with the median wall time, and the highest RSS of all runs.
pub fn median(mut v: Vec<Measure>) -> Measure {
    v.sort_by(|a, b| a.wall.total_cmp(&b.wall));
    let rss = v.iter().map(|m| m.rss_mb).fold(0.0, f64::max);
    let mid = v.swap_remove(v.len() / 2);
    Measure {
        wall: mid.wall,
        rss_mb: rss,
    }
}

/// Builds the release `vedette` and returns its path.
pub fn release_cli() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    eprintln!("building the release CLI…");
    let target_dir = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| {
        format!(
            "{}/.cache/vedette/target",
            std::env::var("HOME").unwrap_or_default()
        )
    });
    let st = Command::new("cargo")
        .args(["build", "--release", "-q", "-p", "vedette-cli"])
        .current_dir(&root)
        .status()
        .expect("run cargo");
    assert!(st.success(), "cargo build --release -p vedette-cli failed");
    format!("{target_dir}/release/vedette")
}

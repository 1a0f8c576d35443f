//! Scans per minute with 1, 2 and 4 workers on this machine: `vedette
//! serve --role worker` processes (release build) on one PostgreSQL, a
//! registry of 200 images (one image set: the Debian fixture's
//! `os-release` and dpkg database, each image a config of its own), a run
//! queued by `vedette schedule run`. For each worker count: the run's wall
//! time, scans per minute, and the queue's claim latency (queued to claimed)
//! and each claim's own time (the claim query, as the workers log it). Each
//! worker scans 2 at once (`VEDETTE_SCANS`); the per-registry limit is
//! raised to 8 (`VEDETTE_REGISTRY_SCANS`) so that it does not decide the
//! result.
//!
//! Run: `cargo bench -p vedette-tests --bench workers`. Prints a Markdown
//! table.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use vedette_tests::feedserver::FeedServer;
use vedette_tests::postgres::Postgres;
use vedette_tests::registry::{oci_layout, shared, Layer, Registry};

const IMAGES: usize = 200;

fn vedette(bin: &str, data: &Path, env: &[(&str, String)], args: &[&str]) -> Command {
    let mut c = Command::new(bin);
    c.arg("--data-dir")
        .arg(data)
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env("VEDETTE_CONFIG", data.join("no-config.toml"))
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
        .env("VEDETTE_API", "127.0.0.1:0")
        .env_remove("VEDETTE_DATA_DIR");
    c
}

fn ok(c: &mut Command) -> String {
    let o = c.output().unwrap();
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A log line without its colours.
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn main() {
    let bin = vedette_tests::bench::release_cli();
    let tmp = tempfile::tempdir().unwrap();
    let feeds = FeedServer::start(shared("feeds"));
    let reg = Registry::start();
    let layout = tmp.path().join("layout");
    oci_layout(
        &layout,
        &[Layer::from_dir(shared("fixtures/debian-12-minbase"))],
        "base",
    );
    reg.push_variants(&layout, "fleet/app", IMAGES - 1);
    let pg = Postgres::start_durable();
    println!("| workers | scans | wall time | scans per minute | queued to claimed p50 / p95 / max | a claim p50 / p95 / max |");
    println!("| ---: | ---: | ---: | ---: | ---: | ---: |");
    for workers in [1usize, 2, 4] {
        let db = format!("w{workers}");
        let url = pg.database(&db);
        let env = vec![
            ("VEDETTE_FEED_URL", feeds.url("osv")),
            (
                "VEDETTE_KEV_URL",
                feeds.url("kev/known_exploited_vulnerabilities.json"),
            ),
            (
                "VEDETTE_EPSS_URL",
                feeds.url("epss/epss_scores-current.csv.gz"),
            ),
            (
                "VEDETTE_NVD_URL",
                feeds.url("nvd/nvdcve-2.0-sample.json.gz"),
            ),
            ("VEDETTE_DATABASE_URL", url),
            ("VEDETTE_INSECURE_REGISTRIES", reg.host()),
            ("VEDETTE_LOG", "warn,vedette_scheduler=debug".to_owned()),
            ("VEDETTE_SCANS", "2".to_owned()),
            ("VEDETTE_REGISTRY_SCANS", "8".to_owned()),
        ];
        let seed = tmp.path().join(format!("seed-{workers}"));
        ok(vedette(&bin, &seed, &env, &["feed", "update"]).stdout(Stdio::null()));
        ok(&mut vedette(
            &bin,
            &seed,
            &env,
            &[
                "target",
                "add",
                "registry",
                &reg.host(),
                "--repos",
                "fleet/*",
                "--tags",
                "regex:.*",
                "--insecure",
            ],
        ));
        let mut children: Vec<Child> = (0..workers)
            .map(|i| {
                let data = tmp.path().join(format!("worker-{workers}-{i}"));
                std::fs::create_dir_all(&data).unwrap();
                std::fs::copy(seed.join("feeds.db"), data.join("feeds.db")).unwrap();
                vedette(&bin, &data, &env, &["serve", "--role", "worker"])
                    .stdout(Stdio::null())
                    .stderr(std::fs::File::create(data.join("worker.log")).unwrap())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let start = Instant::now();
        ok(vedette(&bin, &seed, &env, &["schedule", "run", "1"]).stdout(Stdio::null()));
        let wall = start.elapsed().as_secs_f64();
        for c in &mut children {
            c.kill().unwrap();
            c.wait().unwrap();
        }
        let scans: usize = pg
            .psql(&db, "SELECT COUNT(*) FROM jobs WHERE state = 'done'")
            .trim()
            .parse()
            .unwrap();
        let latency = pg.psql(
            &db,
            "SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY s) * 1000)::bigint || ' / ' ||
                    round(percentile_cont(0.95) WITHIN GROUP (ORDER BY s) * 1000)::bigint || ' / ' ||
                    round(max(s) * 1000)::bigint || ' ms'
             FROM (SELECT extract(epoch FROM started_at - enqueued_at) AS s FROM jobs) q",
        );
        let mut claims: Vec<f64> = (0..workers)
            .flat_map(|i| {
                let log = std::fs::read_to_string(
                    tmp.path().join(format!("worker-{workers}-{i}/worker.log")),
                )
                .unwrap_or_default();
                log.lines()
                    .filter_map(|l| {
                        let plain = strip_ansi(l);
                        let v = plain.split("claim_ms=").nth(1)?;
                        v.split_whitespace().next()?.parse::<f64>().ok()
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        claims.sort_by(f64::total_cmp);
        let q = |p: f64| {
            claims
                .get(((claims.len().max(1) - 1) as f64 * p).round() as usize)
                .copied()
                .unwrap_or(0.0)
        };
        println!(
            "| {workers} | {scans} | {wall:.1} s | {:.0} | {} | {:.1} / {:.1} / {:.1} ms ({} claims) |",
            scans as f64 / wall * 60.0,
            latency.trim(),
            q(0.5),
            q(0.95),
            q(1.0),
            claims.len()
        );
    }
}

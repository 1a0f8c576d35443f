//! The automation API under load on loopback, while a scheduled run goes
//! on: a data dir with 10,000 image targets (on a closed local port, so the
//! run's scans fail fast and keep it busy), a schedule firing every 2 s over
//! all of them, and the API served from the same process as in `vedette
//! serve`. Measured: `GET /api/v1/health` (the floor), `GET /api/v1/targets`
//! (10,000 targets, 4 clients at once) and the acceptance of `POST
//! /api/v1/scans` for a directory target (each scan waited for before the
//! next). Bounded in count; prints a Markdown table.
//!
//! Run: `cargo bench -p vedette-tests --bench api_load`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use vedette_app::{App, MemorySecrets};
use vedette_model::{
    Exposure, ScheduleInput, ScheduleOptions, TargetKind, TargetSelector, TokenScope,
};

mod common;

const TARGETS: usize = 10_000;
const CLIENTS: usize = 4;
const GETS_PER_CLIENT: usize = 25;
const POSTS: usize = 20;

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

fn get(agent: &ureq::Agent, url: &str, token: &str) -> (u16, usize, Duration) {
    let start = Instant::now();
    let mut r = agent
        .get(url)
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .unwrap();
    let body = r.body_mut().read_to_vec().unwrap();
    (r.status().as_u16(), body.len(), start.elapsed())
}

fn main() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // Nothing leaves the machine: feeds and images on a closed local port.
    std::env::set_var("VEDETTE_FEED_URL", "http://127.0.0.1:9/osv");
    for v in ["VEDETTE_KEV_URL", "VEDETTE_EPSS_URL", "VEDETTE_NVD_URL"] {
        std::env::set_var(v, "none");
    }
    let (base, token, dir_target, _guard) = rt.block_on(async {
        let app = App::open(&data, Arc::new(MemorySecrets::default()))
            .await
            .unwrap();
        let start = Instant::now();
        for i in 0..TARGETS {
            app.store()
                .add_target(
                    TargetKind::Image,
                    &format!("127.0.0.1:9/bench/app-{i:05}:1"),
                    Exposure::Internal,
                )
                .await
                .unwrap();
        }
        eprintln!(
            "added {TARGETS} targets in {:.1} s",
            start.elapsed().as_secs_f64()
        );
        let dir = app
            .add_directory(
                vedette_tests::registry::shared("fixtures/debian-12-minbase")
                    .to_str()
                    .unwrap(),
                &vedette_app::TargetSettings::default(),
            )
            .await
            .unwrap();
        app.save_schedule(
            None,
            &ScheduleInput {
                name: "every 2 s".into(),
                cron: "*/2 * * * * *".into(),
                timezone: "UTC".into(),
                selector: TargetSelector {
                    kinds: vec![TargetKind::Image],
                    name_glob: None,
                    group: None,
                },
                options: ScheduleOptions::default(),
                enabled: true,
                catch_up: false,
                jitter_seconds: 0,
            },
        )
        .await
        .unwrap();
        let token = app
            .create_token("bench", TokenScope::Scan)
            .await
            .unwrap()
            .secret;
        let sources = vedette_app::FeedSources::from_env();
        let (ctx, temp) = app.scheduler(&sources, Arc::new(())).await.unwrap();
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        tokio::spawn(vedette_app::serve_schedules(
            ctx.clone(),
            Duration::from_secs(1),
            stop_rx,
        ));
        let listener = vedette_api::bind("127.0.0.1:0", &vedette_api::TlsOptions::default())
            .await
            .unwrap();
        let addr = listener.local_addr();
        let state = vedette_api::ApiState::new(
            app,
            sources,
            Some(ctx),
            vedette_api::RateLimit::from_env().unwrap(),
        );
        tokio::spawn(vedette_api::serve(state, listener, std::future::pending()));
        (format!("http://{addr}"), token, dir.id, (temp, stop_tx))
    });
    // Let the run get going.
    std::thread::sleep(Duration::from_secs(3));

    let agent = common::http_agent();
    let mut health: Vec<Duration> = (0..100)
        .map(|_| get(&agent, &format!("{base}/api/v1/health"), &token).2)
        .collect();
    health.sort();

    // Pages of the default size (1,000): the first, and the last.
    let first = pages(&base, &token, "/api/v1/targets");
    let last = pages(
        &base,
        &token,
        &format!("/api/v1/targets?offset={}", TARGETS - 1000),
    );

    let mut posts = Vec::new();
    for _ in 0..POSTS {
        let start = Instant::now();
        let mut r = agent
            .post(&format!("{base}/api/v1/scans"))
            .header("Authorization", &format!("Bearer {token}"))
            .header("Content-Type", "application/json")
            .send(format!("{{\"target_id\": {dir_target}}}").as_bytes())
            .unwrap();
        let d = start.elapsed();
        let body: serde_json::Value =
            serde_json::from_slice(&r.body_mut().read_to_vec().unwrap()).unwrap();
        assert_eq!(r.status().as_u16(), 202, "{body}");
        posts.push(d);
        let id = body["scans"][0]["scan_id"].as_i64().unwrap();
        loop {
            let mut r = agent
                .get(&format!("{base}/api/v1/scans/{id}"))
                .header("Authorization", &format!("Bearer {token}"))
                .call()
                .unwrap();
            let s: serde_json::Value =
                serde_json::from_slice(&r.body_mut().read_to_vec().unwrap()).unwrap();
            if s["scan"]["state"] != "running" {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    posts.sort();
    let scheduled = rt.block_on(async {
        let store = vedette_store::Store::open_in(&data).await.unwrap();
        store.count_scans().await.unwrap()
    });

    println!("| request | count | p50 ms | p99 ms | max ms |");
    println!("|---|---|---|---|---|");
    for (what, v) in [
        ("GET /api/v1/health".to_owned(), &health),
        (
            format!(
                "GET /api/v1/targets, first page of 1,000 of {TARGETS} ({} KiB, {CLIENTS} clients)",
                first.1 / 1024
            ),
            &first.0,
        ),
        (
            format!(
                "GET /api/v1/targets?offset=9000, last page ({} KiB, {CLIENTS} clients)",
                last.1 / 1024
            ),
            &last.0,
        ),
        ("POST /api/v1/scans (202 accepted)".to_owned(), &posts),
    ] {
        println!(
            "| {what} | {} | {} | {} | {} |",
            v.len(),
            ms(common::percentile(v, 0.5)),
            ms(common::percentile(v, 0.99)),
            ms(*v.last().unwrap())
        );
    }
    println!("\n{scheduled} scans recorded meanwhile (the scheduled run's and the API's).");
}

/// `path` fetched by CLIENTS clients at once, GETS_PER_CLIENT times each:
/// the sorted durations and the size of an answer.
fn pages(base: &str, token: &str, path: &str) -> (Vec<Duration>, usize) {
    let mut times = Vec::new();
    let mut size = 0;
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..CLIENTS)
            .map(|_| {
                s.spawn(move || {
                    let agent = common::http_agent();
                    (0..GETS_PER_CLIENT)
                        .map(|_| {
                            let (status, len, d) = get(&agent, &format!("{base}{path}"), token);
                            assert_eq!(status, 200);
                            (len, d)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            for (len, d) in h.join().unwrap() {
                size = len;
                times.push(d);
            }
        }
    });
    times.sort();
    (times, size)
}

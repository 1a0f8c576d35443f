//! A scheduled run over 200 targets: a registry target whose crawl picks
//! 200 images on a real docker-registry (behind a counting proxy), scanned
//! under the default limits (2 scans at once, 2 per registry) and a 50
//! requests/s rate on the registry. While it runs, the store queries behind
//! the window's Scans page and dashboard (`scan_list`, `dashboard_activity`)
//! are timed every 100 ms on the same database: what a user clicking around
//! during the run waits for. Then the same run again, every digest unchanged.
//!
//! Run: `cargo bench -p vedette-tests --bench scheduled_run`. Prints a Markdown table.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use vedette_feeds::FeedStore;
use vedette_model::{
    Exposure, RegistryWatch, ScheduleInput, ScheduleOptions, TagSelector, TargetKind,
    TargetSelector,
};
use vedette_store::Store;

mod common;
use vedette_tests::proxy::FaultProxy;
use vedette_tests::registry::{oci_layout, shared, Layer, Registry};

const TARGETS: usize = 200;
const RATE: f64 = 50.0;

fn main() {
    let tmp = tempfile::tempdir().unwrap();
    let reg = Registry::start();
    let start = Instant::now();
    for i in 0..TARGETS {
        let layout = tmp.path().join(format!("layout-{i}"));
        oci_layout(
            &layout,
            &[
                Layer::from_dir(shared("fixtures/debian-12-minbase")),
                Layer::default().file("etc/build", format!("app {i}").as_bytes()),
            ],
            "1",
        );
        reg.push(&layout, &format!("bench/app-{i:03}"), "1");
    }
    eprintln!(
        "pushed {TARGETS} images in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    let proxy = FaultProxy::start(reg.port());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    rt.block_on(async {
        let feeds = FeedStore::open_in(&data).await.unwrap();
        feeds.import_paths(&[shared("feeds")]).await.unwrap();
        let store = Store::open_in(&data).await.unwrap();
        store
            .add_registry_target(
                &proxy.host(),
                &RegistryWatch {
                    repositories: "bench/*".into(),
                    tags: TagSelector::Latest { count: 1 },
                    insecure: true,
                    requests_per_second: Some(RATE),
                    kind: Default::default(),
                    api: None,
                },
                Some("bench"),
                Exposure::Internal,
            )
            .await
            .unwrap();
        let schedule = store
            .add_schedule(&ScheduleInput {
                name: "bench".into(),
                cron: "0 3 * * *".into(),
                timezone: "UTC".into(),
                selector: TargetSelector {
                    kinds: vec![TargetKind::Registry],
                    ..Default::default()
                },
                options: ScheduleOptions::default(),
                enabled: true,
                catch_up: false,
                jitter_seconds: 0,
            })
            .await
            .unwrap();
        let ctx = vedette_scheduler::Context::new(vedette_scan::Scanner::new(
            store.clone(),
            feeds.clone(),
            common::offline_feeds(),
            tmp.path(),
        ));
        println!("| run | targets | wall time | most scans at once | registry requests (rate) | UI query during the run: median / p95 / max (n) |");
        println!("| --- | ---: | ---: | ---: | ---: | --- |");
        for run in ["first run (every image pulled)", "second run (every digest unchanged)"] {
            let before = proxy.requests().len();
            let running = Arc::new(AtomicBool::new(true));
            let sampler = {
                let (store, running) = (store.clone(), Arc::clone(&running));
                tokio::spawn(async move {
                    let mut times = Vec::new();
                    while running.load(Ordering::SeqCst) {
                        let t = Instant::now();
                        store.list_scans(200).await.unwrap();
                        store.most_exploitable(5).await.unwrap();
                        store.list_schedules().await.unwrap();
                        times.push(t.elapsed());
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    times
                })
            };
            let t = Instant::now();
            let summary = vedette_scheduler::run_schedule(&ctx, &schedule).await.unwrap();
            let wall = t.elapsed();
            running.store(false, Ordering::SeqCst);
            let mut times = sampler.await.unwrap();
            times.sort();
            let failed: Vec<_> = summary.scans.iter().filter(|s| s.error.is_some()).collect();
            assert!(failed.is_empty(), "{failed:#?}");
            assert_eq!(summary.scans.len(), TARGETS);
            // Overlap of this run's scans, from their recorded start and end.
            let most = common::most_at_once(&store.list_scans(TARGETS as i64).await.unwrap());
            let requests = proxy.requests().len() - before;
            let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);
            println!(
                "| {run} | {TARGETS} | {:.1} s | {most} | {requests} ({:.0}/s, limit {RATE:.0}/s) | {} / {} / {} ({}) |",
                wall.as_secs_f64(),
                requests as f64 / wall.as_secs_f64(),
                ms(common::percentile(&times, 0.5)),
                ms(common::percentile(&times, 0.95)),
                ms(*times.last().unwrap_or(&Duration::ZERO)),
                times.len()
            );
        }
        store.close().await;
        feeds.close().await;
    });
}

//! Re-matching benchmark: a data dir with 1,000 targets whose newest
//! inventories are stored (Debian minbase packages plus the lang layer's, so
//! each has findings), the feeds of ../shared imported but PyPI's; a first
//! match of every stored inventory; then PyPI's feed lands and every stored
//! inventory is re-matched, as after a feed update: load the index, match,
//! store each as a new scan with its diff (the new findings, cause "feed
//! update"); then once more with nothing changed.
//!
//! Run: `cargo bench -p vedette-tests --bench rematch`. Prints a Markdown table.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

use vedette_feeds::{FeedConfig, FeedStore};
use vedette_model::{Exposure, TargetKind};
use vedette_store::Store;
use vedette_tests::registry::shared;

const TARGETS: usize = 1000;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().to_owned();
    rt.block_on(async {
        let feeds = FeedStore::open_in(&data).await.unwrap();
        // Every feed but PyPI's at first; PyPI's lands later as the update.
        let all_but_pypi: Vec<_> = std::fs::read_dir(shared("feeds/osv"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| !p.ends_with("PyPI"))
            .chain([shared("feeds/kev"), shared("feeds/nvd")])
            .collect();
        feeds.import_paths(&all_but_pypi).await.unwrap();
        let store = Store::open_in(&data).await.unwrap();
        // One real inventory (Debian minbase + the lang layer), stored under
        // 1,000 targets with distinct digests.
        let base = {
            let t = vedette_engine::Target::Directory(shared("fixtures/debian-12-minbase"));
            let mut inv =
                vedette_engine::inventory(&t, &vedette_engine::Options::default(), Arc::new(()))
                    .await
                    .unwrap();
            let lang = vedette_engine::Target::Directory(shared("fixtures/lang"));
            let l =
                vedette_engine::inventory(&lang, &vedette_engine::Options::default(), Arc::new(()))
                    .await
                    .unwrap();
            inv.packages.extend(l.packages);
            inv
        };
        let start = Instant::now();
        for i in 0..TARGETS {
            let id = store
                .add_target(
                    TargetKind::Directory,
                    &format!("/bench/host-{i:04}"),
                    Exposure::Internal,
                )
                .await
                .unwrap()
                .id;
            let mut inv = base.clone();
            inv.target = format!("/bench/host-{i:04}");
            inv.digest = format!("sha256:{i:064x}");
            let scan = store.begin_scan(id).await.unwrap();
            store.complete_scan(scan, &inv).await.unwrap();
        }
        eprintln!(
            "stored {TARGETS} inventories in {:.1} s",
            start.elapsed().as_secs_f64()
        );
        let ctx = vedette_scheduler::Context::new(vedette_scan::Scanner::new(
            store.clone(),
            feeds.clone(),
            FeedConfig {
                osv_max_age: std::time::Duration::from_secs(365 * 86400),
                kev_max_age: std::time::Duration::from_secs(365 * 86400),
                nvd_max_age: std::time::Duration::from_secs(365 * 86400),
                ..FeedConfig::default()
            },
            tmp.path(),
        ));
        println!("| step | size | time |");
        println!("| --- | --- | ---: |");
        for run in [
            "first match of the stored inventories (every finding new: first scan)",
            "re-match after a feed update (PyPI's advisories land)",
            "re-match with nothing changed",
        ] {
            if run.contains("feed update") {
                feeds
                    .import_paths(&[shared("feeds/osv/PyPI")])
                    .await
                    .unwrap();
            }
            let start = Instant::now();
            let (n, results) = vedette_scheduler::rematch(&ctx, &BTreeSet::new())
                .await
                .unwrap();
            let new: Vec<_> = results.iter().flat_map(|r| &r.new_findings).collect();
            println!(
                "| {run} | {n} stored inventories of {} packages, {} new findings | {:.2} s |",
                base.packages.len(),
                new.len(),
                start.elapsed().as_secs_f64()
            );
        }
        store.close().await;
        feeds.close().await;
    });
}

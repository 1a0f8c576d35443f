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

use std::sync::Arc;
use std::time::Instant;

use vedette_feeds::FeedStore;
use vedette_model::{Exposure, TargetKind};
use vedette_store::Store;
use vedette_tests::registry::shared;

#[path = "common/rematch.rs"]
mod common;

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
        common::import_all_but_pypi(&feeds).await;
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
        let ctx = common::context(&store, &feeds, tmp.path());
        println!("| step | size | time |");
        println!("| --- | --- | ---: |");
        common::three_steps(&ctx, &feeds, |s| {
            println!(
                "| {} | {} stored inventories of {} packages, {} new findings | {:.2} s |",
                s.what,
                s.matched,
                base.packages.len(),
                s.new,
                s.seconds
            )
        })
        .await;
        store.close().await;
        feeds.close().await;
    });
}

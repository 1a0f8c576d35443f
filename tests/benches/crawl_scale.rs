//! A registry repository of 10,000 and of 100,000 tags over 50 images, on
//! a real docker-registry: a `latest:3` registry target scanned by one
//! schedule with the release CLI, twice (the second run finds nothing
//! changed). The 50 images are the Debian fixture with 50 configs; the tags
//! are written into the registry's storage (pushing 100,000 would take
//! hours). Wall time and the CLI's peak memory per run: memory that stays
//! flat from 10,000 to 100,000 tags shows that the crawl does not hold a
//! record per tag.
//!
//! Run: `cargo bench -p vedette-tests --bench crawl_scale`. Prints a Markdown table.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use vedette_feeds::FeedStore;
use vedette_tests::bench::{measure, release_cli};
use vedette_tests::registry::{oci_layout_created, shared, Layer, Registry};

const DIGESTS: usize = 50;

fn main() {
    let cli = release_cli();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    println!("| tags | run | wall time | tags a second | peak memory |");
    println!("| ---: | --- | ---: | ---: | ---: |");
    for tags in [10_000usize, 100_000] {
        let tmp = tempfile::tempdir().unwrap();
        let reg = Registry::start();
        let layout = tmp.path().join("layout");
        oci_layout_created(
            &layout,
            &[Layer::from_dir(shared("fixtures/debian-12-minbase"))],
            "base",
            "2025-01-01T00:00:00Z",
        );
        reg.push(&layout, "big/app", "base");
        let digests = reg.variants("big/app", "base", DIGESTS, "2026-06-01T00:00:00Z");
        reg.link_tags(
            "big/app",
            (0..tags).map(|i| (format!("t-{i:06}"), digests[i % DIGESTS].as_str())),
        );
        let data = tmp.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        rt.block_on(async {
            let feeds = FeedStore::open_in(&data).await.unwrap();
            feeds.import_paths(&[shared("feeds")]).await.unwrap();
            feeds.close().await;
        });
        // Feeds come from the import above; nothing is fetched.
        let env = format!(
            "VEDETTE_DATA_DIR={} VEDETTE_FEED_URL=http://127.0.0.1:9/ VEDETTE_KEV_URL=http://127.0.0.1:9/ VEDETTE_EPSS_URL=http://127.0.0.1:9/ VEDETTE_NVD_URL=http://127.0.0.1:9/",
            data.display()
        );
        let sh = |args: &str| {
            let st = std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("{env} {cli} {args} >/dev/null 2>&1"))
                .status()
                .unwrap();
            assert!(st.success(), "vedette {args} failed");
        };
        sh(&format!(
            "target add registry {} --repos big/app --tags latest:3 --insecure",
            reg.host()
        ));
        sh("schedule add --name big --cron '0 0 1 1 *'");
        for run in ["first run", "second run, nothing changed"] {
            let m = measure(&format!("{env} {cli} schedule run 1 >/dev/null 2>&1"));
            println!(
                "| {tags} | {run} | {:.1} s | {:.0} | {:.0} MB |",
                m.wall,
                tags as f64 / m.wall,
                m.rss_mb
            );
        }
    }
}

//! What the re-matching benches share: the feeds before the update (every
//! feed of ../shared but PyPI's), a scheduler context whose feeds never
//! count as stale, and the three timed steps: a first match of every stored
//! inventory, the re-match after PyPI's feed lands, and one with nothing
//! changed.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Instant;

use vedette_feeds::{FeedConfig, FeedStore};
use vedette_store::Store;
use vedette_tests::registry::shared;

/// Imports every feed of ../shared but PyPI's (it lands later, as the
/// update).
pub async fn import_all_but_pypi(feeds: &FeedStore) {
    let all_but_pypi: Vec<_> = std::fs::read_dir(shared("feeds/osv"))
        .expect("../shared/feeds/osv")
        .map(|e| e.expect("a feed directory").path())
        .filter(|p| !p.ends_with("PyPI"))
        .chain([shared("feeds/kev"), shared("feeds/nvd")])
        .collect();
    feeds
        .import_paths(&all_but_pypi)
        .await
        .expect("the feeds import");
}

/// A scheduler context on `store` and `feeds` whose feeds stay fresh for a
/// year (the shared feeds are snapshots).
pub fn context(store: &Store, feeds: &FeedStore, temp: &Path) -> vedette_scheduler::Context {
    let year = std::time::Duration::from_secs(365 * 86400);
    vedette_scheduler::Context::new(vedette_scan::Scanner::new(
        store.clone(),
        feeds.clone(),
        FeedConfig {
            osv_max_age: year,
            kev_max_age: year,
            nvd_max_age: year,
            ..FeedConfig::default()
        },
        temp,
    ))
}

/// One timed step: what it was, inventories matched, new findings, seconds.
pub struct Step {
    pub what: &'static str,
    pub matched: usize,
    pub new: usize,
    pub seconds: f64,
}

/// Runs the three steps, handing each to `report` as it ends.
pub async fn three_steps(
    ctx: &vedette_scheduler::Context,
    feeds: &FeedStore,
    mut report: impl FnMut(&Step),
) {
    for what in [
        "first match of the stored inventories (every finding new: first scan)",
        "re-match after a feed update (PyPI's advisories land)",
        "re-match with nothing changed",
    ] {
        if what.contains("feed update") {
            feeds
                .import_paths(&[shared("feeds/osv/PyPI")])
                .await
                .expect("PyPI's feed imports");
        }
        let start = Instant::now();
        let (matched, results) = vedette_scheduler::rematch(ctx, &BTreeSet::new())
            .await
            .expect("the re-match");
        report(&Step {
            what,
            matched,
            new: results.iter().map(|r| r.new_findings.len()).sum(),
            seconds: start.elapsed().as_secs_f64(),
        });
    }
}

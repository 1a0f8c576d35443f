//! Re-matching a fleet after a feed update, on SQLite and on PostgreSQL:
//! 10,000 stored inventories that differ. Each holds the Debian 12 fixture's
//! packages and 50 language packages drawn from every package the
//! crates.io, PyPI, npm and RubyGems feeds of ../shared name; each package
//! that an advisory ever fixed is at a version drawn from its history in
//! its feed: one of the last three versions in which one of its
//! vulnerabilities was fixed (a fleet that is patched, some machines a fix
//! or two behind). Every feed but PyPI's is imported; a
//! first match of every stored inventory; then PyPI's feed lands and every
//! inventory is re-matched, as after a feed update; then once more with
//! nothing changed.
//!
//! Each database runs in a process of its own (the bench runs itself), so
//! that each peak resident size is its own. PostgreSQL is Debian's, started
//! by the bench in a temp dir with its default durability (fsync on).
//!
//! Run: `cargo bench -p vedette-tests --bench rematch_fleet`. Prints a
//! Markdown table. `VEDETTE_BENCH_INVENTORIES` sets how many (10,000).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Instant;

use vedette_feeds::FeedStore;
use vedette_model::{Exposure, Inventory, Package, TargetKind};
use vedette_store::{Database, Store};
use vedette_tests::registry::shared;

#[path = "common/rematch.rs"]
mod common;

/// Language packages per inventory.
const LANGUAGE: usize = 50;

/// A small deterministic generator (xorshift64*): the same fleet each run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n.max(1)
    }
}

/// The package's purl at `version`.
fn purl_at(purl: &str, version: &str) -> String {
    let Some(at) = purl.rfind('@') else {
        return purl.to_owned();
    };
    let end = purl[at..].find(['?', '#']).map_or(purl.len(), |i| at + i);
    format!(
        "{}@{}{}",
        &purl[..at],
        version.replace(':', "%3A"),
        &purl[end..]
    )
}

/// The pool: the Debian fixture's packages and every language package the
/// feeds name, each with its history.
async fn pool(tmp: &std::path::Path) -> (Inventory, Vec<(Package, Vec<String>)>) {
    let dir = tmp.join("everything");
    vedette_tests::findings::write_many_findings(&dir);
    // Debian's from the fixture (what an image holds); the languages' from
    // the feeds.
    std::fs::copy(
        shared("fixtures/debian-12-minbase/var/lib/dpkg/status"),
        dir.join("var/lib/dpkg/status"),
    )
    .unwrap();
    let inv = vedette_engine::inventory(
        &vedette_engine::Target::Directory(dir),
        &vedette_engine::Options::default(),
        Arc::new(()),
    )
    .await
    .unwrap();
    let mut histories: BTreeMap<&str, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for eco in ["Debian", "crates.io", "PyPI", "npm", "RubyGems"] {
        histories.insert(eco, vedette_tests::findings::version_history(eco));
    }
    let packages = inv
        .packages
        .iter()
        .map(|p| {
            let eco = p.ecosystem.osv_name();
            let eco = eco.split(':').next().unwrap_or(eco);
            let name = p.source.as_ref().map_or(&p.name, |s| &s.name);
            let history: Vec<String> = histories
                .get(eco)
                .and_then(|h| {
                    h.get(name).or_else(|| {
                        h.iter()
                            .find(|(n, _)| n.eq_ignore_ascii_case(name))
                            .map(|(_, v)| v)
                    })
                })
                .map(|v| v.iter().cloned().collect())
                .unwrap_or_default();
            (p.clone(), newest(eco, history))
        })
        // Debian's all (an image holds them whatever their advisories); of
        // the languages', those an advisory fixed (others have no version
        // to run here).
        .filter(|(p, history)| p.ecosystem.osv_name().starts_with("Debian") || !history.is_empty())
        .collect();
    (inv, packages)
}

/// How far behind a machine of the fleet may be: one of the last few fixes.
const LAG: usize = 3;

/// The newest [`LAG`] versions, in the ecosystem's order.
fn newest(ecosystem: &str, mut versions: Vec<String>) -> Vec<String> {
    if let Some(scheme) = vedette_version::Scheme::for_ecosystem(ecosystem) {
        versions.retain(|v| scheme.parse(v).is_ok());
        versions.sort_by(|a, b| scheme.compare(a, b).unwrap_or(std::cmp::Ordering::Equal));
    }
    let keep = versions.len().saturating_sub(LAG);
    versions.split_off(keep)
}

fn fleet_member(
    i: usize,
    base: &Inventory,
    debian: &[&(Package, Vec<String>)],
    langs: &[&(Package, Vec<String>)],
    rng: &mut Rng,
) -> Inventory {
    let mut inv = base.clone();
    inv.target = format!("/fleet/host-{i:05}");
    inv.digest = format!("sha256:{i:064x}");
    let mut picked = BTreeMap::new();
    inv.packages.clear();
    // Every Debian package, then the languages' up to 50 more.
    for (p, history) in debian {
        let mut p = p.clone();
        if !history.is_empty() {
            p.version = history[rng.below(history.len())].clone();
            p.purl = purl_at(&p.purl, &p.version);
        }
        picked.insert((p.ecosystem.osv_name().to_owned(), p.name.clone()), p);
    }
    let upto = picked.len() + LANGUAGE;
    while picked.len() < upto {
        let (p, history) = langs[rng.below(langs.len())];
        let mut p = p.clone();
        if !history.is_empty() {
            p.version = history[rng.below(history.len())].clone();
            p.purl = purl_at(&p.purl, &p.version);
        }
        picked.insert((p.ecosystem.osv_name().to_owned(), p.name.clone()), p);
    }
    inv.packages = picked.into_values().collect();
    inv
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = std::env::var("VEDETTE_BENCH_INVENTORIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    match args.iter().position(|a| a == "--database") {
        Some(i) => run_one(&args[i + 1], n),
        None => {
            println!(
                "| database | step | inventories | new findings | time | peak memory (Vedette) |"
            );
            println!("| --- | --- | ---: | ---: | ---: | ---: |");
            for db in ["sqlite", "postgresql"] {
                let status = std::process::Command::new(std::env::current_exe().unwrap())
                    .args(["--database", db])
                    .status()
                    .unwrap();
                assert!(status.success(), "the {db} run failed");
            }
        }
    }
}

fn run_one(db: &str, n: usize) {
    // Each re-match says where its time went (reading, matching, writing).
    tracing_subscriber::fmt()
        .with_env_filter("vedette_scheduler=info")
        .with_writer(std::io::stderr)
        .init();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().to_owned();
    let server = (db == "postgresql").then(vedette_tests::postgres::Postgres::start_durable);
    let database = match &server {
        Some(pg) => Database::Postgres(pg.database("fleet")),
        None => Database::Sqlite(data.join(vedette_store::DB_FILE)),
    };
    rt.block_on(async {
        let feeds = FeedStore::open_in(&data).await.unwrap();
        common::import_all_but_pypi(&feeds).await;
        let store = Store::connect(&database).await.unwrap();
        let (base, packages) = pool(&data).await;
        let debian: Vec<_> = packages
            .iter()
            .filter(|(p, _)| p.ecosystem.osv_name().starts_with("Debian"))
            .collect();
        let langs: Vec<_> = packages
            .iter()
            .filter(|(p, _)| !p.ecosystem.osv_name().starts_with("Debian"))
            .collect();
        let mut rng = Rng(0x5eed_f1ee7);
        let start = Instant::now();
        for i in 0..n {
            let inv = fleet_member(i, &base, &debian, &langs, &mut rng);
            let id = store
                .add_target(TargetKind::Directory, &inv.target, Exposure::Internal)
                .await
                .unwrap()
                .id;
            let scan = store.begin_scan(id).await.unwrap();
            store.complete_scan(scan, &inv).await.unwrap();
        }
        eprintln!(
            "{db}: stored {n} inventories in {:.1} s",
            start.elapsed().as_secs_f64()
        );
        let ctx = common::context(&store, &feeds, &data);
        common::three_steps(&ctx, &feeds, |s| {
            println!(
                "| {db} | {} | {} | {} | {:.1} s | {:.0} MB |",
                s.what,
                s.matched,
                s.new,
                s.seconds,
                peak_rss_mb()
            )
        })
        .await;
        store.close().await;
        feeds.close().await;
    });
    drop(server);
}

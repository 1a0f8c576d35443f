//! Matching benchmark: (1) importing all of `../shared/feeds` into a fresh
//! advisory index; (2) matching a 1,000-package inventory (reading its
//! advisories from the index, then the OSV evaluation, merging and scoring);
//! (3) a full `vedette scan image` of the lang image (pull, catalogue, match
//! against the imported feeds) beside trivy's SBOM-only time for the same image.
//!
//! Run: `cargo bench -p vedette-tests --bench matching` (after the README's
//! test command has installed the tools). Prints Markdown tables.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark that cannot set itself up should stop there

use std::io::Read;
use std::time::Instant;

use vedette_feeds::{FeedStore, Outcome};
use vedette_model::{
    Distro, Ecosystem, Exposure, Inventory, Location, Package, SourcePackage, TargetKind,
};
use vedette_tests::bench::{measure, median, release_cli};
use vedette_tests::registry::{oci_layout, shared, trivy, Layer, Registry};

const IMPORT_RUNS: usize = 3;
const MATCH_RUNS: usize = 50;
const SCAN_RUNS: usize = 3;

fn median_f(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Packages named by real advisories. `vulnerable`: at an affected version
/// (an `introduced` that is not 0) or a fixed one, alternately, so that many
/// match (a stress test); otherwise at the highest version any advisory
/// names for them, as in an image that is kept up to date.
fn packages_from_feeds(want: usize, vulnerable: bool) -> Vec<Package> {
    let ecos = [
        ("PyPI", Ecosystem::PyPI),
        ("npm", Ecosystem::Npm),
        ("crates.io", Ecosystem::CratesIo),
        ("Go", Ecosystem::Go),
        ("RubyGems", Ecosystem::RubyGems),
        ("Debian", Ecosystem::Debian),
    ];
    let mut lists: Vec<Vec<Package>> = Vec::new();
    for (name, eco) in ecos {
        let mut out = Vec::new();
        let scheme = vedette_version::Scheme::for_ecosystem(name).unwrap();
        // Every event version of every package, in file order of first sight.
        let mut order: Vec<String> = Vec::new();
        let mut events: std::collections::HashMap<String, Vec<(String, String)>> =
            Default::default();
        let file = std::fs::File::open(shared(&format!("feeds/osv/{name}/all.zip"))).unwrap();
        let mut zip = zip::ZipArchive::new(file).unwrap();
        for i in 0..zip.len() {
            let mut text = String::new();
            zip.by_index(i).unwrap().read_to_string(&mut text).unwrap();
            let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
            for a in doc["affected"].as_array().into_iter().flatten() {
                let pkg = a["package"]["name"].as_str().unwrap_or("").to_owned();
                if pkg.is_empty() {
                    continue;
                }
                let list = events.entry(pkg.clone()).or_insert_with(|| {
                    order.push(pkg.clone());
                    Vec::new()
                });
                for r in a["ranges"].as_array().into_iter().flatten() {
                    for e in r["events"].as_array().into_iter().flatten() {
                        if let Some((k, v)) = e.as_object().and_then(|o| o.iter().next()) {
                            if let Some(v) = v.as_str().filter(|v| scheme.parse(v).is_ok()) {
                                list.push((k.clone(), v.to_owned()));
                            }
                        }
                    }
                }
            }
        }
        for (n, pkg) in order.iter().take(want).enumerate() {
            let ev = &events[pkg];
            let version = if vulnerable {
                ev.iter()
                    .find(|(k, v)| k == "introduced" && v != "0" && n % 2 == 0)
                    .or_else(|| ev.iter().find(|(k, _)| k == "fixed"))
                    .map(|(_, v)| v.clone())
            } else {
                ev.iter()
                    .filter(|(k, _)| k != "introduced")
                    .map(|(_, v)| v.clone())
                    .max_by(|a, b| scheme.compare(a, b).unwrap())
            };
            let Some(version) = version else { continue };
            out.push(Package {
                name: pkg.clone(),
                version: version.clone(),
                ecosystem: eco,
                purl: format!("pkg:bench/{name}/{pkg}@{version}"),
                source: eco.is_os().then(|| SourcePackage {
                    name: pkg.clone(),
                    version: version.clone(),
                }),
                locations: vec![Location {
                    path: "bench".into(),
                    layer: None,
                }],
                owned_by: None,
                found_by: "bench".into(),
                licenses: vec![],
                module: None,
            });
        }
        lists.push(out);
    }
    // Round robin over the ecosystems until `want`.
    let mut out = Vec::new();
    let mut i = 0;
    while out.len() < want && lists.iter().any(|l| i < l.len()) {
        for l in &lists {
            if let Some(p) = l.get(i) {
                if out.len() < want {
                    out.push(p.clone());
                }
            }
        }
        i += 1;
    }
    out
}

fn inventory(packages: Vec<Package>) -> Inventory {
    Inventory {
        schema: Inventory::SCHEMA,
        target: "bench".into(),
        kind: TargetKind::Directory,
        digest: "sha256:bench".into(),
        image: None,
        distro: Some(Distro {
            id: "debian".into(),
            version_id: "12".into(),
            ..Default::default()
        }),
        packages,
        warnings: vec![],
        unreadable: vec![],
        extractor_version: 1,
        host: None,
        scanned_at: chrono::Utc::now(),
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();

    // 1. Import.
    let mut times = Vec::new();
    let mut records = 0;
    let mut osv_records = 0;
    let data = tmp.path().join("data");
    for run in 0..IMPORT_RUNS {
        let dir = if run + 1 == IMPORT_RUNS {
            data.clone()
        } else {
            tmp.path().join(format!("import-{run}"))
        };
        std::fs::create_dir_all(&dir).unwrap();
        let start = Instant::now();
        let outcomes = rt.block_on(async {
            let store = FeedStore::open_in(&dir).await.unwrap();
            let o = store.import_paths(&[shared("feeds")]).await.unwrap();
            store.close().await;
            o
        });
        times.push(start.elapsed().as_secs_f64());
        records = 0;
        osv_records = 0;
        for o in &outcomes {
            match &o.outcome {
                Outcome::Updated { records: r, .. } => {
                    records += r;
                    if o.feed.starts_with("osv/") {
                        osv_records += r;
                    }
                }
                other => panic!("{}: {other:?}", o.feed),
            }
        }
    }
    let import = median_f(times);
    println!("| step | size | time (median) | rate |");
    println!("| --- | --- | ---: | ---: |");
    println!(
        "| import of ../shared/feeds (7 OSV zips, KEV, NVD sample) into a fresh index | {records} records ({osv_records} OSV) | {:.2} s | {:.0} records/s |",
        import,
        records as f64 / import
    );

    // 2. Matching a 1,000-package inventory: affected entries from the
    // index, range evaluation, details of the matches, merging and scoring.
    let store = rt.block_on(FeedStore::open_in(&data)).unwrap();
    for (label, vulnerable) in [
        ("up to date", false),
        ("stress: half at vulnerable versions", true),
    ] {
        let inv = inventory(packages_from_feeds(1000, vulnerable));
        let keys = vedette_match::lookup_keys(&inv);
        let (mut read, mut matching, mut findings, mut rows) = (Vec::new(), Vec::new(), 0, 0);
        for _ in 0..MATCH_RUNS {
            let start = Instant::now();
            let mut set = rt.block_on(store.affected_for(&keys)).unwrap();
            let (matched, _) = vedette_match::evaluate_matches(&inv, &set);
            let ids: Vec<String> = matched.iter().map(|m| m.advisory.clone()).collect();
            rt.block_on(store.add_details(&mut set, &ids)).unwrap();
            read.push(start.elapsed().as_secs_f64());
            let start = Instant::now();
            let f = vedette_match::findings_from(&inv, &set, &matched, Exposure::Internal);
            matching.push(start.elapsed().as_secs_f64());
            findings = f.len();
            rows = set.affected.values().map(Vec::len).sum();
        }
        let (r, m) = (median_f(read), median_f(matching));
        println!(
            "| matching {} packages ({label}) | {rows} affected entries, {findings} findings | {:.1} ms ({:.1} index and range evaluation + {:.1} merging and scoring) | |",
            inv.packages.len(),
            (r + m) * 1e3,
            r * 1e3,
            m * 1e3
        );
    }
    // The same 1,000 packages against the whole index held in memory, as a
    // long-lived process (the desktop app, `vedette serve`) keeps it.
    let start = Instant::now();
    let all = rt.block_on(store.load_all()).unwrap();
    let load = start.elapsed().as_secs_f64();
    let inv = inventory(packages_from_feeds(1000, false));
    let (mut eval, mut times, mut findings) = (Vec::new(), Vec::new(), 0);
    for _ in 0..MATCH_RUNS {
        let start = Instant::now();
        let (matched, _) = vedette_match::evaluate_matches(&inv, &all);
        eval.push(start.elapsed().as_secs_f64());
        assert!(!matched.is_empty());
        let start = Instant::now();
        let (f, _, _) = vedette_match::find(&inv, &all, Exposure::Internal);
        times.push(start.elapsed().as_secs_f64());
        findings = f.len();
    }
    println!(
        "| loading the whole index into memory (once per process) | {} affected entries | {:.0} ms | |",
        all.affected.values().map(Vec::len).sum::<usize>(),
        load * 1e3
    );
    println!(
        "| matching {} packages (up to date) against the index in memory | {findings} findings | {:.1} ms (range evaluation alone: {:.1} ms) | |",
        inv.packages.len(),
        median_f(times) * 1e3,
        median_f(eval) * 1e3
    );
    rt.block_on(store.close());

    // 3. A full scan of the lang image against trivy's SBOM-only time.
    let vedette = release_cli();
    let trivy = trivy();
    let reg = Registry::start();
    let layout = tmp.path().join("lang");
    oci_layout(
        &layout,
        &[
            Layer::from_dir(shared("fixtures/debian-12-minbase")),
            Layer::from_dir(shared("fixtures/lang")),
        ],
        "t",
    );
    let reference = reg.push(&layout, "bench/bookworm-lang", "t");
    let cache = tmp.path().join("trivy-cache");
    let rows: Vec<(&str, String)> = vec![
        ("vedette scan image (pull, catalogue, match 105 packages, score)", format!("{vedette} --data-dir {} scan image {reference} --insecure-registry --offline --allow-stale --format json -q -o /dev/null", data.display())),
        ("vedette scan image --packages-only", format!("{vedette} --data-dir {} scan image {reference} --insecure-registry --packages-only --format json -q -o /dev/null", data.display())),
        ("trivy image, SBOM only (fresh cache)", format!("rm -rf {c}; {} image --image-src remote --insecure --cache-dir {c} --format cyclonedx --skip-db-update --skip-java-db-update --offline-scan -q {reference} > /dev/null", trivy.display(), c = cache.display())),
    ];
    println!();
    println!(
        "| lang image | wall (s, median of {SCAN_RUNS}) | peak RSS (MB) | vs trivy SBOM only |"
    );
    println!("| --- | ---: | ---: | ---: |");
    let results: Vec<_> = rows
        .iter()
        .map(|(name, cmd)| (name, median((0..SCAN_RUNS).map(|_| measure(cmd)).collect())))
        .collect();
    let base = results[2].1.wall;
    for (name, m) in &results {
        println!(
            "| {name} | {:.3} | {:.0} | {:.2}× |",
            m.wall,
            m.rss_mb,
            m.wall / base
        );
    }
}

//! Inventory benchmark: wall time and peak memory to list the packages of
//! (a) the Debian 12 minbase fixture image and (b) an image over 1 GB (the
//! fixture plus one large layer of real files from /usr/lib), served by a
//! local docker-registry, side by side with trivy, syft and the floor:
//! fetching the same layers with curl and inflating them with
//! libdeflate-gunzip, with no parsing.
//!
//! Run: `cargo bench -p vedette-tests --bench inventory` (after the README's
//! test command has installed the tools). Prints a Markdown table.

#![allow(clippy::unwrap_used)] // a benchmark that cannot set itself up should stop there

use std::path::{Path, PathBuf};

use vedette_tests::bench::{measure, median, release_cli};
use vedette_tests::registry::{layer_tar, oci_layout, shared, trivy, Layer, Registry};

const RUNS: usize = 3;

fn big_layer_files(target: u64) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut total = 0u64;
    let mut stack = vec![PathBuf::from("/usr/lib")];
    while let Some(dir) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut entries: Vec<_> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
        entries.sort();
        for p in entries.into_iter().rev() {
            let Ok(meta) = std::fs::symlink_metadata(&p) else {
                continue;
            };
            if meta.is_dir() {
                stack.push(p);
            } else if meta.is_file() && total < target {
                if let Ok(data) = std::fs::read(&p) {
                    total += data.len() as u64;
                    out.push((p.display().to_string(), data));
                }
            }
        }
        if total >= target {
            break;
        }
    }
    out
}

fn layer_digests(layout: &Path) -> Vec<String> {
    let idx: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let m = idx["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .trim_start_matches("sha256:")
        .to_owned();
    let man: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("blobs/sha256").join(m)).unwrap())
            .unwrap();
    man["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["digest"].as_str().unwrap().to_owned())
        .collect()
}

fn main() {
    let vedette = release_cli();
    let syft = vedette_tests::require("syft");
    let trivy = trivy();

    let reg = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let small = tmp.path().join("small");
    oci_layout(
        &small,
        &[Layer::from_dir(shared("fixtures/debian-12-minbase"))],
        "t",
    );
    let small_ref = reg.push(&small, "bench/debian", "t");

    eprintln!("assembling the large image from /usr/lib…");
    let big = Layer {
        files: big_layer_files(1200 << 20),
        ..Layer::default()
    };
    let big_bytes: usize = big.files.iter().map(|f| f.1.len()).sum();
    let big_tar_len = layer_tar(&big).len();
    let large = tmp.path().join("large");
    oci_layout(
        &large,
        &[Layer::from_dir(shared("fixtures/debian-12-minbase")), big],
        "t",
    );
    let large_ref = reg.push(&large, "bench/large", "t");
    eprintln!(
        "large image: {} MB of files, {} MB of tar",
        big_bytes >> 20,
        big_tar_len >> 20
    );

    let data = tmp.path().join("data");
    println!("| image | tool | wall (s, median of {RUNS}) | peak RSS (MB) | vs floor | vs trivy |");
    println!("| --- | --- | ---: | ---: | ---: | ---: |");
    for (name, reference, layout, repo) in [
        (
            "debian:12 minbase (1 layer)",
            &small_ref,
            &small,
            "bench/debian",
        ),
        ("large (2 layers)", &large_ref, &large, "bench/large"),
    ] {
        let digests = layer_digests(layout);
        let floor_cmd = digests
            .iter()
            .map(|d| {
                format!(
                    "(curl -sf http://{}/v2/{repo}/blobs/{d} | libdeflate-gunzip -c > /dev/null) &",
                    reg.host()
                )
            })
            .collect::<Vec<_>>()
            .join(" ")
            + " wait";
        let cache = tmp.path().join("trivy-cache");
        let rows: Vec<(&str, String)> = vec![
            ("floor (curl + libdeflate-gunzip)", floor_cmd),
            ("vedette", format!("{vedette} --data-dir {} scan image {reference} --insecure-registry --packages-only --format json -q -o /dev/null", data.display())),
            ("trivy (fresh cache, SBOM only)", format!("rm -rf {c}; {} image --image-src remote --insecure --cache-dir {c} --format cyclonedx --skip-db-update --skip-java-db-update --offline-scan -q {reference} > /dev/null", trivy.display(), c = cache.display())),
            ("syft", format!("SYFT_REGISTRY_INSECURE_USE_HTTP=true SYFT_CHECK_FOR_APP_UPDATE=false {} -q -o json registry:{reference} > /dev/null", syft.display())),
        ];
        let mut results = Vec::new();
        for (tool, cmd) in &rows {
            let m = median((0..RUNS).map(|_| measure(cmd)).collect());
            results.push((tool, m));
        }
        let floor = results[0].1.wall;
        let trivy_wall = results[2].1.wall;
        for (tool, m) in &results {
            println!(
                "| {name} | {tool} | {:.3} | {:.0} | {:.2}× | {:.2}× |",
                m.wall,
                m.rss_mb,
                m.wall / floor,
                m.wall / trivy_wall
            );
        }
    }
}

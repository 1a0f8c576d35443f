//! A directory whose inventory matches about ten thousand advisories of
//! `../shared/feeds`: every package the Debian, crates.io, PyPI, npm and
//! RubyGems feeds name, at a version below their fixes, in the files
//! Vedette's catalogers read (dpkg's status, Cargo.lock, requirements.txt,
//! package-lock.json, Gemfile.lock). For the window's long lists.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::Path;

use crate::registry::shared;

/// Calls `each` with every `affected` entry of `ecosystem`'s feed.
fn each_affected(ecosystem: &str, mut each: impl FnMut(&serde_json::Value)) {
    let path = shared(&format!("feeds/osv/{ecosystem}/all.zip"));
    let file = std::fs::File::open(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (../shared/feeds)", path.display()));
    let mut zip = zip::ZipArchive::new(file).expect("an OSV zip");
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).expect("a zip entry");
        let mut text = String::new();
        if entry.read_to_string(&mut text).is_err() {
            continue;
        }
        let Ok(record) = serde_json::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        for affected in record["affected"].as_array().into_iter().flatten() {
            each(affected);
        }
    }
}

/// Names a lock file could hold.
fn usable(name: &str) -> bool {
    !name.is_empty() && !name.contains(char::is_whitespace)
}

/// The package names `ecosystem`'s feed names, sorted.
fn names(ecosystem: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    each_affected(ecosystem, |affected| {
        if let Some(name) = affected["package"]["name"].as_str().filter(|n| usable(n)) {
            out.insert(name.to_owned());
        }
    });
    out
}

/// Each package's history as `ecosystem`'s feed tells it: the versions
/// where one of its vulnerabilities was fixed (what a maintained machine
/// runs: patched up to some point). For inventories spread over real
/// versions.
pub fn version_history(ecosystem: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    each_affected(ecosystem, |affected| {
        let Some(name) = affected["package"]["name"].as_str().filter(|n| usable(n)) else {
            return;
        };
        let versions = out.entry(name.to_owned()).or_default();
        for range in affected["ranges"].as_array().into_iter().flatten() {
            for event in range["events"].as_array().into_iter().flatten() {
                if let Some(v) = event["fixed"].as_str() {
                    versions.insert(v.to_owned());
                }
            }
        }
    });
    out
}

fn write(path: &Path, text: impl AsRef<[u8]>) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .unwrap_or_else(|e| panic!("create {}: {e}", parent.display()));
    }
    std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// Writes the directory; returns how many packages it holds.
pub fn write_many_findings(dir: &Path) -> usize {
    let mut count = 0;
    write(
        &dir.join("etc/os-release"),
        std::fs::read(shared("fixtures/debian-12-minbase/etc/os-release"))
            .expect("the Debian fixture's os-release"),
    );

    let mut status = String::new();
    for name in names("Debian") {
        let name = name.to_ascii_lowercase();
        status.push_str(&format!(
            "Package: {name}\nStatus: install ok installed\nPriority: optional\nArchitecture: amd64\nVersion: 0~0-1\nDescription: {name}\n\n"
        ));
        count += 1;
    }
    write(&dir.join("var/lib/dpkg/status"), status);

    let app = dir.join("srv/app");
    let mut lock = String::from("version = 3\n\n");
    for name in names("crates.io") {
        lock.push_str(&format!(
            "[[package]]\nname = \"{name}\"\nversion = \"0.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n"
        ));
        count += 1;
    }
    write(&app.join("Cargo.lock"), lock);

    let mut requirements = String::new();
    for name in names("PyPI") {
        requirements.push_str(&format!("{name}==0.0.0\n"));
        count += 1;
    }
    write(&app.join("requirements.txt"), requirements);

    let mut packages = serde_json::Map::new();
    packages.insert(
        String::new(),
        serde_json::json!({"name": "app", "version": "1.0.0"}),
    );
    for name in names("npm") {
        packages.insert(
            format!("node_modules/{name}"),
            serde_json::json!({"version": "0.0.0"}),
        );
        count += 1;
    }
    let npm = serde_json::json!({
        "name": "app", "version": "1.0.0", "lockfileVersion": 3, "requires": true,
        "packages": packages,
    });
    write(&app.join("package-lock.json"), npm.to_string());

    let mut gems = String::from("GEM\n  remote: https://rubygems.org/\n  specs:\n");
    for name in names("RubyGems") {
        gems.push_str(&format!("    {name} (0.0.0)\n"));
        count += 1;
    }
    gems.push_str("\nPLATFORMS\n  ruby\n\nDEPENDENCIES\n\nBUNDLED WITH\n   2.4.10\n");
    write(&app.join("Gemfile.lock"), gems);
    count
}

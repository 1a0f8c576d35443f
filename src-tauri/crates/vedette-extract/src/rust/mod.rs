//! Rust: Cargo.lock, and cargo-auditable binaries.

pub mod auditable;

use vedette_model::Ecosystem;

use crate::{Cataloger, Context, Files, Found};

/// `[[package]]` entries of a Cargo.lock (v1–v4) that came from a registry or
/// git; the workspace's own crates (no `source`) are the project itself, not
/// dependencies, and are left out.
pub fn parse_cargo_lock(text: &str) -> Result<Vec<(String, String)>, String> {
    #[derive(serde::Deserialize)]
    struct Lock {
        #[serde(default)]
        package: Vec<Pkg>,
    }
    #[derive(serde::Deserialize)]
    struct Pkg {
        name: String,
        version: String,
        source: Option<String>,
    }
    let lock: Lock =
        toml::from_str(text).map_err(|e| format!("not a Cargo.lock: {}", e.message()))?;
    Ok(lock
        .package
        .into_iter()
        .filter(|p| p.source.is_some())
        .map(|p| (p.name, p.version))
        .collect())
}

pub struct CargoLockCataloger;

impl Cataloger for CargoLockCataloger {
    fn name(&self) -> &'static str {
        "cargo-lock"
    }

    fn wants(&self, path: &str) -> bool {
        path.ends_with("/Cargo.lock")
    }

    fn catalog(&self, files: &Files, _cx: &Context<'_>) -> Found {
        crate::lockfiles::catalog_pairs(
            files,
            |p| p.ends_with("/Cargo.lock"),
            |_, text| parse_cargo_lock(text),
            Ecosystem::CratesIo,
            |n, v| crate::purl::build("cargo", None, n, v, &[]),
            self.name(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lang_fixture_lock_has_six_registry_crates_and_its_root_is_left_out() {
        let got = parse_cargo_lock(&crate::shared("fixtures/lang/app/rust/Cargo.lock")).unwrap();
        let names: Vec<_> = got.iter().map(|(n, v)| format!("{n}@{v}")).collect();
        assert_eq!(
            names,
            [
                "libc@0.2.191",
                "smallvec@1.6.0",
                "time@0.1.43",
                "winapi@0.3.9",
                "winapi-i686-pc-windows-gnu@0.4.0",
                "winapi-x86_64-pc-windows-gnu@0.4.0"
            ]
        );
    }

    #[test]
    fn a_broken_lock_is_refused_and_an_empty_one_is_empty() {
        assert!(parse_cargo_lock("[[package]]\nname = ")
            .unwrap_err()
            .contains("Cargo.lock"));
        assert_eq!(parse_cargo_lock("version = 4\n").unwrap(), vec![]);
    }
}

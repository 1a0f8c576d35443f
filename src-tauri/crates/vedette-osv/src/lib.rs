//! OSV advisories as matching reads them: ecosystems and names, range
//! events, and the rows of the advisory index (what is affected, the
//! records, KEV, EPSS and NVD). Plain data and pure functions: the matcher
//! depends on this crate, and on no crate that does I/O.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use vedette_version::Scheme;

/// `Debian:12` → (`Debian`, `12`); `Ubuntu:22.04:LTS` → (`Ubuntu`, `22.04:LTS`).
pub fn split_ecosystem(eco: &str) -> (&str, &str) {
    match eco.split_once(':') {
        Some((base, release)) => (base, release),
        None => (eco, ""),
    }
}

/// A package name as the ecosystem compares names: PyPI per PEP 503
/// (lower case, runs of `-_.` as one `-`), crates.io, NuGet and Packagist
/// without case; others exactly.
pub fn normalize_name(ecosystem: &str, name: &str) -> String {
    match ecosystem {
        "PyPI" => {
            let mut out = String::with_capacity(name.len());
            let mut sep = false;
            for c in name.trim().chars() {
                if c == '-' || c == '_' || c == '.' {
                    sep = true;
                } else {
                    if sep && !out.is_empty() {
                        out.push('-');
                    }
                    sep = false;
                    out.push(c.to_ascii_lowercase());
                }
            }
            out
        }
        "crates.io" | "NuGet" | "Packagist" => name.trim().to_ascii_lowercase(),
        _ => name.trim().to_owned(),
    }
}

/// One range event, as OSV spells it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    Introduced(String),
    Fixed(String),
    LastAffected(String),
    Limit(String),
}

impl Event {
    pub fn version(&self) -> &str {
        match self {
            Event::Introduced(v) | Event::Fixed(v) | Event::LastAffected(v) | Event::Limit(v) => v,
        }
    }
}

/// A range: `SEMVER` or `ECOSYSTEM` (`GIT` ranges name commits and are not kept).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range {
    #[serde(rename = "type")]
    pub kind: String,
    pub events: Vec<Event>,
}

/// Whether an rpm `version-release` is a module build's
/// (`1:18.14.2-2.module_el9.2.0+29+de583a0b`, `…module+el8.4.0+…`).
pub fn is_modular_release(evr: &str) -> bool {
    let release = evr.rsplit_once('-').map_or("", |(_, r)| r);
    release.contains(".module_el") || release.contains(".module+el")
}

/// `SEMVER` ranges are SemVer 2.0 whatever the ecosystem; ECOSYSTEM ranges
/// use the ecosystem's scheme.
pub fn range_scheme(kind: &str, eco: Scheme) -> Scheme {
    if kind == "SEMVER" && !matches!(eco, Scheme::Semver | Scheme::NodeSemver | Scheme::Go) {
        Scheme::NodeSemver
    } else {
        eco
    }
}

#[derive(Debug, Clone)]
pub struct AffectedRow {
    pub advisory_id: String,
    pub ecosystem: String,
    pub release: String,
    pub name: String,
    pub ranges: Vec<Range>,
    pub versions: Vec<String>,
    /// For an rpm module's packages: the streams the entry is about
    /// (`nodejs:18`, comma-separated; `*` when the record does not say);
    /// empty for packages outside modules.
    pub module: String,
}

#[derive(Debug, Clone, Default)]
pub struct AdvisoryRow {
    pub id: String,
    pub summary: String,
    pub aliases: Vec<String>,
    pub published: Option<String>,
    pub modified: String,
    pub cvss3: Option<String>,
    pub cvss4: Option<String>,
    pub label: Option<String>,
    /// The distribution's own rating, as it writes it.
    pub vendor_severity: Option<String>,
    /// CVEs an erratum fixes without being about one of them.
    pub related: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct KevEntry {
    pub cve: String,
    pub date_added: String,
    pub name: String,
    pub ransomware: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NvdCvss {
    pub cve: String,
    pub version: String,
    pub vector: String,
    pub score: f64,
    pub source: String,
}

/// Everything the index knows that matters to one inventory: plain data,
/// so matching is a pure function of it.
#[derive(Debug, Clone, Default)]
pub struct AdvisorySet {
    /// By (ecosystem, normalised name).
    pub affected: HashMap<(String, String), Vec<AffectedRow>>,
    pub advisories: HashMap<String, AdvisoryRow>,
    /// Other records sharing an alias (a CVE) with a matched one, by alias.
    pub by_alias: HashMap<String, Vec<AdvisoryRow>>,
    pub kev: HashMap<String, KevEntry>,
    pub epss: HashMap<String, (f64, f64)>,
    pub nvd: HashMap<String, NvdCvss>,
}

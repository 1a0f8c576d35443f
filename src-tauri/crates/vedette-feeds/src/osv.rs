//! OSV records, reduced to what matching needs.

use std::collections::BTreeMap;

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

#[derive(Debug, Deserialize)]
struct Record {
    id: String,
    modified: String,
    #[serde(default)]
    published: Option<String>,
    #[serde(default)]
    withdrawn: Option<String>,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    details: Option<String>,
    #[serde(default)]
    severity: Vec<SeverityEntry>,
    #[serde(default)]
    affected: Vec<Affected>,
    #[serde(default)]
    database_specific: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct SeverityEntry {
    #[serde(rename = "type")]
    kind: String,
    score: String,
}

#[derive(Debug, Deserialize)]
struct Affected {
    #[serde(default)]
    package: Option<PackageRef>,
    #[serde(default)]
    ranges: Vec<RawRange>,
    #[serde(default)]
    versions: Vec<String>,
    #[serde(default)]
    severity: Vec<SeverityEntry>,
    #[serde(default)]
    ecosystem_specific: Option<serde_json::Value>,
    #[serde(default)]
    database_specific: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct PackageRef {
    ecosystem: String,
    name: String,
}

#[derive(Debug, Deserialize)]
struct RawRange {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    events: Vec<BTreeMap<String, serde_json::Value>>,
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

/// What one record contributes to the index.
#[derive(Debug)]
pub(crate) struct Parsed {
    pub id: String,
    pub summary: String,
    pub aliases: Vec<String>,
    pub published: Option<String>,
    pub modified: String,
    pub cvss3: Option<String>,
    pub cvss4: Option<String>,
    pub label: Option<String>,
    pub affected: Vec<ParsedAffected>,
}

#[derive(Debug)]
pub(crate) struct ParsedAffected {
    pub ecosystem: String,
    pub release: String,
    pub name: String,
    pub ranges: Vec<Range>,
    pub versions: Vec<String>,
}

/// Why a record or one of its entries was left out.
pub(crate) enum Skip {
    Malformed(String),
    Withdrawn,
}

fn label_of(v: &Option<serde_json::Value>) -> Option<String> {
    v.as_ref()
        .and_then(|v| v.get("severity"))
        .and_then(|s| s.as_str())
        .map(str::to_owned)
}

/// Parses one record. Entries with an unknown ecosystem or a version the
/// ecosystem's scheme cannot read are dropped and counted in `skipped`.
pub(crate) fn parse(bytes: &[u8], skipped: &mut BTreeMap<String, i64>) -> Result<Parsed, Skip> {
    let r: Record = serde_json::from_slice(bytes).map_err(|e| Skip::Malformed(e.to_string()))?;
    if r.id.is_empty() {
        return Err(Skip::Malformed("no id".into()));
    }
    if r.withdrawn.is_some() {
        return Err(Skip::Withdrawn);
    }
    let mut cvss3 = None;
    let mut cvss4 = None;
    let all_sev = r
        .severity
        .iter()
        .chain(r.affected.iter().flat_map(|a| a.severity.iter()));
    for s in all_sev {
        match s.kind.as_str() {
            "CVSS_V3" if cvss3.is_none() => cvss3 = Some(s.score.clone()),
            "CVSS_V4" if cvss4.is_none() => cvss4 = Some(s.score.clone()),
            _ => {}
        }
    }
    let label = label_of(&r.database_specific).or_else(|| {
        r.affected.iter().find_map(|a| {
            label_of(&a.ecosystem_specific).or_else(|| label_of(&a.database_specific))
        })
    });
    let mut affected = Vec::new();
    for a in r.affected {
        let Some(pkg) = a.package else {
            *skipped
                .entry("affected entry without a package".into())
                .or_default() += 1;
            continue;
        };
        let (base, release) = split_ecosystem(&pkg.ecosystem);
        let Some(scheme) = Scheme::for_ecosystem(base) else {
            *skipped
                .entry(format!("unknown ecosystem {base}"))
                .or_default() += 1;
            continue;
        };
        let mut ranges = Vec::new();
        let mut bad_version = false;
        for raw in a.ranges {
            if raw.kind == "GIT" {
                continue;
            }
            let range_scheme = range_scheme(&raw.kind, scheme);
            let mut events = Vec::new();
            for ev in raw.events {
                for (k, v) in ev {
                    let Some(v) = v.as_str() else { continue };
                    let e = match k.as_str() {
                        "introduced" => Event::Introduced(v.to_owned()),
                        "fixed" => Event::Fixed(v.to_owned()),
                        "last_affected" => Event::LastAffected(v.to_owned()),
                        "limit" => Event::Limit(v.to_owned()),
                        _ => continue,
                    };
                    let zero = matches!(&e, Event::Introduced(v) if v == "0")
                        || matches!(&e, Event::Limit(v) if v == "*");
                    if !zero && range_scheme.parse(e.version()).is_err() {
                        bad_version = true;
                    }
                    events.push(e);
                }
            }
            ranges.push(Range {
                kind: raw.kind,
                events,
            });
        }
        if bad_version {
            *skipped
                .entry(format!("unparsable {} version", scheme.name()))
                .or_default() += 1;
            continue;
        }
        affected.push(ParsedAffected {
            ecosystem: base.to_owned(),
            release: release.to_owned(),
            name: normalize_name(base, &pkg.name),
            ranges,
            versions: a.versions,
        });
    }
    let summary = r
        .summary
        .filter(|s| !s.trim().is_empty())
        .or_else(|| {
            r.details
                .as_deref()
                .and_then(|d| d.lines().find(|l| !l.trim().is_empty()))
                .map(|l| l.chars().take(200).collect())
        })
        .unwrap_or_default();
    Ok(Parsed {
        id: r.id,
        summary,
        aliases: r.aliases,
        published: r.published,
        modified: r.modified,
        cvss3,
        cvss4,
        label,
        affected,
    })
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

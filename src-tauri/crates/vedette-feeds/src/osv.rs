//! OSV records, reduced to what matching needs.

use std::collections::BTreeMap;

use serde::Deserialize;
pub use vedette_osv::{
    is_modular_release, normalize_name, range_scheme, split_ecosystem, Event, Range,
};
use vedette_version::Scheme;

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
    #[serde(default)]
    related: Vec<String>,
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
    /// The distribution's own rating, as it writes it (`Important`,
    /// `medium`, `unimportant`).
    pub vendor_severity: Option<String>,
    /// CVEs the record says it fixes without being about one of them (an
    /// AlmaLinux or Red Hat erratum).
    pub related: Vec<String>,
    pub affected: Vec<ParsedAffected>,
}

#[derive(Debug)]
pub(crate) struct ParsedAffected {
    pub ecosystem: String,
    pub release: String,
    pub name: String,
    pub ranges: Vec<Range>,
    pub versions: Vec<String>,
    pub module: String,
}

/// Why a record or one of its entries was left out.
pub(crate) enum Skip {
    Malformed(String),
    Withdrawn,
    /// A distribution's bug fix or enhancement erratum that names no CVE
    /// and has no rating (AlmaLinux's `ALBA-`/`ALEA-`): an update, not a
    /// vulnerability.
    NotSecurity,
}

/// Erratum kinds that are updates, not security advisories.
const NOT_SECURITY: [&str; 6] = ["ALBA-", "ALEA-", "RLBA-", "RLEA-", "RHBA-", "RHEA-"];

fn label_of(v: &Option<serde_json::Value>) -> Option<String> {
    v.as_ref()
        .and_then(|v| v.get("severity"))
        .and_then(|s| s.as_str())
        .map(str::to_owned)
}

/// The rating a distribution gives its own advisory: Ubuntu's priority (a
/// severity of type `Ubuntu`), Debian's urgency, or the word an rpm
/// distribution's erratum summary begins with (`Important: kernel security
/// update`). Words that rate nothing (`not yet assigned`) are left out.
fn vendor_severity(r: &Record) -> Option<String> {
    let rates = |w: &str| {
        let w = w.trim().trim_end_matches('*');
        vedette_model::Severity::parse(w)
            .filter(|s| *s != vedette_model::Severity::Unknown)
            .map(|_| w.to_owned())
    };
    let ubuntu = r
        .severity
        .iter()
        .chain(r.affected.iter().flat_map(|a| a.severity.iter()))
        .find(|s| s.kind == "Ubuntu")
        .and_then(|s| rates(&s.score));
    if ubuntu.is_some() {
        return ubuntu;
    }
    let urgency = r.affected.iter().find_map(|a| {
        a.ecosystem_specific
            .as_ref()
            .and_then(|e| e.get("urgency"))
            .and_then(|u| u.as_str())
            .and_then(rates)
    });
    if urgency.is_some() {
        return urgency;
    }
    let rpm = r.affected.iter().any(|a| {
        a.package.as_ref().is_some_and(|p| {
            Scheme::for_ecosystem(split_ecosystem(&p.ecosystem).0) == Some(Scheme::Rpm)
        })
    });
    let word = r.summary.as_deref()?.split_once(':')?.0;
    (rpm && matches!(word, "Critical" | "Important" | "Moderate" | "Low")).then(|| word.to_owned())
}

/// The module streams an erratum's summary names (`Important: nodejs:18
/// security update` → `nodejs:18`; `virt:rhel and virt-devel:rhel …` →
/// both), comma-separated; `*` when it names none.
fn module_streams(summary: &str) -> String {
    let mut streams: Vec<&str> = summary
        .split_whitespace()
        .map(|w| w.trim_end_matches([',', ';']))
        .filter(|w| {
            w.split_once(':').is_some_and(|(name, stream)| {
                let ok = |s: &str| {
                    !s.is_empty()
                        && s.chars()
                            .all(|c| c.is_ascii_alphanumeric() || "._+-".contains(c))
                };
                ok(name) && ok(stream)
            })
        })
        .collect();
    streams.dedup();
    if streams.is_empty() {
        "*".into()
    } else {
        streams.join(",")
    }
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
    if NOT_SECURITY.iter().any(|p| r.id.starts_with(p))
        && !r
            .aliases
            .iter()
            .chain(&r.related)
            .any(|c| c.starts_with("CVE-"))
        && vendor_severity(&r).is_none()
    {
        return Err(Skip::NotSecurity);
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
    let vendor_severity = vendor_severity(&r);
    let mut related: Vec<String> = r
        .related
        .iter()
        .filter(|c| c.starts_with("CVE-") && !r.aliases.contains(c) && **c != r.id)
        .cloned()
        .collect();
    related.sort();
    related.dedup();
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
        let module = if scheme == Scheme::Rpm
            && ranges
                .iter()
                .flat_map(|r| r.events.iter())
                .any(|e| is_modular_release(e.version()))
        {
            module_streams(r.summary.as_deref().unwrap_or(""))
        } else {
            String::new()
        };
        affected.push(ParsedAffected {
            ecosystem: base.to_owned(),
            release: release.to_owned(),
            name: normalize_name(base, &pkg.name),
            ranges,
            versions: a.versions,
            module,
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
        vendor_severity,
        related,
        affected,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_one(json: &str) -> Parsed {
        let mut skipped = BTreeMap::new();
        match parse(json.as_bytes(), &mut skipped) {
            Ok(p) => p,
            Err(_) => panic!("not parsed: {json}"),
        }
    }

    /// ALSA-2024:1503 as AlmaLinux publishes it, cut to two packages.
    const ALSA: &str = r#"{"id":"ALSA-2024:1503","summary":"Important: nodejs:18 security update",
        "affected":[
          {"package":{"ecosystem":"AlmaLinux:9","name":"nodejs"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1:18.19.1-1.module_el9.3.0+59+28b95644"}]}]},
          {"package":{"ecosystem":"AlmaLinux:9","name":"nodejs-docs"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1:18.19.1-1.module_el9.3.0+59+28b95644"}]}]}],
        "related":["CVE-2024-22019","CVE-2024-21892"],
        "published":"2024-03-26T00:00:00Z","modified":"2024-03-27T00:00:00Z"}"#;

    #[test]
    fn an_almalinux_erratum_keeps_its_rating_its_cves_and_its_module_stream() {
        let p = parse_one(ALSA);
        assert_eq!(p.vendor_severity.as_deref(), Some("Important"));
        assert_eq!(p.related, ["CVE-2024-21892", "CVE-2024-22019"]);
        assert!(p.aliases.is_empty(), "related CVEs are not aliases");
        assert_eq!(p.affected.len(), 2);
        assert!(p.affected.iter().all(|a| a.module == "nodejs:18"));
        assert!(p
            .affected
            .iter()
            .all(|a| a.release == "9" && a.ecosystem == "AlmaLinux"));
    }

    #[test]
    fn a_module_stream_is_read_from_the_summary_or_left_open() {
        assert_eq!(
            module_streams("Important: nodejs:18 security update"),
            "nodejs:18"
        );
        assert_eq!(
            module_streams("Low: virt:rhel and virt-devel:rhel security and bug fix update"),
            "virt:rhel,virt-devel:rhel"
        );
        assert_eq!(module_streams("Important: 389-ds security update"), "*");
        assert!(is_modular_release(
            "3:10.11.10-1.module_el9.5.0+135+c9657a87"
        ));
        assert!(is_modular_release("1.2-3.module+el8.4.0+1+2"));
        assert!(!is_modular_release("1:1.20.1-14.el9_2.1.alma.1"));
        // Outside modules: no stream at all.
        let plain = ALSA.replace(".module_el9.3.0+59+28b95644", ".el9_3");
        assert!(parse_one(&plain)
            .affected
            .iter()
            .all(|a| a.module.is_empty()));
    }

    #[test]
    fn bug_fix_and_enhancement_errata_are_not_vulnerabilities() {
        let erratum = |id: &str, summary: &str, related: &str| {
            format!(
                r#"{{"id":"{id}","modified":"2024-01-01T00:00:00Z","summary":"{summary}","related":[{related}],
                "affected":[{{"package":{{"ecosystem":"AlmaLinux:9","name":"kernel"}},"ranges":[{{"type":"ECOSYSTEM","events":[{{"introduced":"0"}},{{"fixed":"5.14.0-687.26.1.el9_8"}}]}}]}}]}}"#
            )
        };
        let mut skipped = BTreeMap::new();
        let bugfix = erratum(
            "ALBA-2026:39332",
            "kernel bug fix and enhancement update",
            "",
        );
        assert!(matches!(
            parse(bugfix.as_bytes(), &mut skipped),
            Err(Skip::NotSecurity)
        ));
        let enhancement = erratum("ALEA-2024:1", "new module: nodejs:22", "");
        assert!(matches!(
            parse(enhancement.as_bytes(), &mut skipped),
            Err(Skip::NotSecurity)
        ));
        // One that names a CVE, or is rated, is kept.
        let with_cve = erratum("ALBA-2024:2", "kernel update", r#""CVE-2024-1""#);
        assert_eq!(parse_one(&with_cve).related, ["CVE-2024-1"]);
        let rated = erratum("ALBA-2024:3", "Important: kernel update", "");
        assert_eq!(
            parse_one(&rated).vendor_severity.as_deref(),
            Some("Important")
        );
        assert!(
            parse_one(&erratum("ALSA-2024:4", "kernel update", ""))
                .affected
                .len()
                == 1
        );
    }

    #[test]
    fn ubuntu_priority_and_debian_urgency_are_the_vendor_rating() {
        let ubuntu = r#"{"id":"UBUNTU-CVE-2024-1","modified":"2024-01-01T00:00:00Z",
            "severity":[{"type":"Ubuntu","score":"medium"},{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
            "affected":[{"package":{"ecosystem":"Ubuntu:22.04:LTS","name":"openssl"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"3.0.2-0ubuntu1.15"}]}]}]}"#;
        let p = parse_one(ubuntu);
        assert_eq!(p.vendor_severity.as_deref(), Some("medium"));
        assert!(p.cvss3.is_some(), "CVSS stays beside it");
        let debian = |urgency: &str| {
            format!(
                r#"{{"id":"DEBIAN-CVE-2024-2","modified":"2024-01-01T00:00:00Z",
                "affected":[{{"package":{{"ecosystem":"Debian:12","name":"glibc"}},"ecosystem_specific":{{"urgency":"{urgency}"}},
                "ranges":[{{"type":"ECOSYSTEM","events":[{{"introduced":"0"}},{{"fixed":"2.36-9+deb12u4"}}]}}]}}]}}"#
            )
        };
        assert_eq!(
            parse_one(&debian("high")).vendor_severity.as_deref(),
            Some("high")
        );
        assert_eq!(
            parse_one(&debian("low**")).vendor_severity.as_deref(),
            Some("low")
        );
        assert_eq!(parse_one(&debian("not yet assigned")).vendor_severity, None);
        // A word before a colon in a language advisory's summary is no rating.
        let pypi = r#"{"id":"PYSEC-1","modified":"2024-01-01T00:00:00Z","summary":"Critical: flaw in parser",
            "affected":[{"package":{"ecosystem":"PyPI","name":"x"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2"}]}]}]}"#;
        assert_eq!(parse_one(pypi).vendor_severity, None);
    }
}

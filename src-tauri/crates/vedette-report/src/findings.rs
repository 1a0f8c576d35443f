//! Presenters for a scan's findings: table, JSON, SARIF 2.1.0 and CycloneDX
//! with a `vulnerabilities` section.

use std::fmt::Write as _;

use serde_json::{json, Value};
use vedette_model::{Finding, Inventory, ScanReport, Severity, SeveritySource, TriageStatus};

/// The page an advisory id is explained on.
pub fn advisory_url(id: &str) -> String {
    if id.starts_with("CVE-") {
        format!("https://nvd.nist.gov/vuln/detail/{id}")
    } else {
        format!("https://osv.dev/vulnerability/{id}")
    }
}

fn paint(s: &str, sev: Severity, color: bool) -> String {
    if !color {
        return s.to_owned();
    }
    let code = match sev {
        Severity::Critical => "1;91",
        Severity::High => "31",
        Severity::Medium => "33",
        Severity::Low => "36",
        Severity::Unknown => "2",
    };
    format!("\x1b[{code}m{s}\x1b[0m")
}

fn severity_source(f: &Finding) -> String {
    let source = match &f.severity_source {
        SeveritySource::Advisory { .. } => String::new(),
        SeveritySource::Alias { id } => format!(" (severity from {id})"),
        SeveritySource::Nvd { .. } => " (severity from NVD)".into(),
        SeveritySource::Label { .. } => " (severity: advisory's label)".into(),
        SeveritySource::None => String::new(),
    };
    // The distribution's own rating: where the severity is that rating, or
    // differs from it.
    match (&f.vendor_severity, &f.severity_source) {
        (Some(v), SeveritySource::Label { .. }) if v.severity == f.severity => {
            format!(" ({} rates it {})", clean(&v.vendor), clean(&v.label))
        }
        (Some(v), _) if v.severity != f.severity || source.is_empty() => {
            format!(
                "{source} ({} rates it {})",
                clean(&v.vendor),
                clean(&v.label)
            )
        }
        _ => source,
    }
}

/// The summary, or (for records that have none, as Debian's) the other ids.
fn summary_or_aliases(f: &Finding) -> String {
    if f.summary.trim().is_empty() {
        f.aliases.join(", ")
    } else {
        f.summary.clone()
    }
}

/// Cut to `n` characters, and made safe for a terminal: names and texts
/// come from images and advisories, and may carry escape sequences.
fn truncate(s: &str, n: usize) -> String {
    let s = vedette_model::printable(s, false);
    if s.chars().count() <= n {
        s.into_owned()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// A table for people: a summary line, then findings grouped by severity
/// (critical first), each sorted by risk; then the verdict.
pub fn table(r: &ScanReport, color: bool) -> String {
    let mut out = String::new();
    let distro = crate::distro_name(r.distro.as_ref());
    let counts: Vec<String> = r
        .counts()
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(s, n)| paint(&format!("{n} {s}"), s, color))
        .collect();
    let _ = writeln!(
        out,
        "{}  ({}, {} packages, {} exposure)",
        clean(&r.target),
        clean(&distro),
        r.packages,
        r.exposure.as_str()
    );
    let _ = writeln!(
        out,
        "{} finding{}{}",
        r.findings.len(),
        if r.findings.len() == 1 { "" } else { "s" },
        if counts.is_empty() {
            String::new()
        } else {
            format!(": {}", counts.join(", "))
        }
    );
    for sev in Severity::ALL {
        let group: Vec<&Finding> = r.findings.iter().filter(|f| f.severity == sev).collect();
        if group.is_empty() {
            continue;
        }
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{}",
            paint(
                &format!("{} ({})", sev.as_str().to_uppercase(), group.len()),
                sev,
                color
            )
        );
        let w_id = group
            .iter()
            .map(|f| f.id.len())
            .max()
            .unwrap_or(2)
            .clamp(2, 28);
        let w_pkg = group
            .iter()
            .map(|f| f.package.len())
            .max()
            .unwrap_or(7)
            .clamp(7, 28);
        let w_ver = group
            .iter()
            .map(|f| f.version.len())
            .max()
            .unwrap_or(9)
            .clamp(9, 24);
        let w_fix = group
            .iter()
            .map(|f| f.fixed_version.as_deref().unwrap_or("no fix yet").len())
            .max()
            .unwrap_or(5)
            .clamp(5, 24);
        let _ = writeln!(
            out,
            "  {:>5}  {:<w_id$}  {:<w_pkg$}  {:<w_ver$}  {:<w_fix$}  SUMMARY",
            "RISK", "ID", "PACKAGE", "INSTALLED", "FIXED"
        );
        for f in group {
            let mut flags = String::new();
            if f.kev_added.is_some() {
                flags.push_str("[KEV] ");
            }
            if let Some(e) = &f.exception {
                flags.push_str(&format!("[excepted: {}] ", truncate(e, 40)));
            }
            let _ = writeln!(
                out,
                "  {:>5.1}  {:<w_id$}  {:<w_pkg$}  {:<w_ver$}  {:<w_fix$}  {flags}{}{}",
                f.risk,
                truncate(&f.id, w_id),
                truncate(&f.package, w_pkg),
                truncate(&f.version, w_ver),
                truncate(f.fixed_version.as_deref().unwrap_or("no fix yet"), w_fix),
                truncate(&summary_or_aliases(f), 70),
                severity_source(f),
            );
        }
    }
    let _ = writeln!(out);
    for f in &r.feeds {
        if f.name.starts_with("osv/") {
            let _ = writeln!(
                out,
                "feed {}: {} records, checked {} ago{}",
                f.name,
                f.records,
                human_age(f.age_seconds),
                if f.stale { " (STALE)" } else { "" }
            );
        }
    }
    for u in &r.uncovered {
        let count = match u.packages {
            0 => String::new(),
            1 => " (1 package)".to_owned(),
            n => format!(" ({n} packages)"),
        };
        let _ = writeln!(
            out,
            "{} {}{count}: {}",
            paint("NOT COVERED", Severity::High, color),
            clean(&u.subject),
            clean(&u.reason)
        );
    }
    for w in &r.warnings {
        let _ = writeln!(out, "warning: {}", clean(w));
    }
    for n in &r.verdict.notes {
        let _ = writeln!(out, "note: {}", clean(n));
    }
    if let Some(none) = &r.verdict.none {
        let _ = writeln!(
            out,
            "{}",
            paint("policy: NO VERDICT", Severity::High, color)
        );
        let _ = writeln!(out, "  - {}", clean(none));
    } else if r.verdict.pass {
        let _ = writeln!(out, "policy: pass");
    } else {
        let _ = writeln!(out, "{}", paint("policy: FAIL", Severity::Critical, color));
        for f in &r.verdict.failures {
            let _ = writeln!(out, "  - {}", clean(f));
        }
    }
    out
}

/// Text from a target or an advisory, safe to print on a terminal.
pub(crate) fn clean(s: &str) -> std::borrow::Cow<'_, str> {
    vedette_model::printable(s, false)
}

fn human_age(secs: i64) -> String {
    if secs < 120 {
        format!("{secs} s")
    } else if secs < 7200 {
        format!("{} min", secs / 60)
    } else if secs < 172_800 {
        format!("{} h", secs / 3600)
    } else {
        format!("{} days", secs / 86400)
    }
}

/// Vedette's JSON: the [`ScanReport`] (see the README for its fields).
pub fn json_report(r: &ScanReport) -> String {
    serde_json::to_string_pretty(r).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

fn sarif_level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Unknown => "note",
    }
}

/// The CVSS score GitHub code scanning sorts by (`security-severity`):
/// the vector's score, else the middle of the severity's band.
fn security_severity(f: &Finding) -> f64 {
    f.cvss
        .as_ref()
        .map(|c| c.score)
        .unwrap_or(match f.severity {
            Severity::Critical => 9.5,
            Severity::High => 8.0,
            Severity::Medium => 5.5,
            Severity::Low => 2.0,
            Severity::Unknown => 0.0,
        })
}

/// SARIF 2.1.0: one rule per vulnerability, one result per affected package,
/// located at the file the package was found in.
pub fn sarif(r: &ScanReport) -> String {
    let mut rules: Vec<Value> = Vec::new();
    let mut index: std::collections::HashMap<&str, usize> = Default::default();
    let mut results = Vec::new();
    for f in &r.findings {
        let i = *index.entry(f.id.as_str()).or_insert_with(|| {
            let aliases = if f.aliases.is_empty() { String::new() } else { format!(" Also known as {}.", f.aliases.join(", ")) };
            rules.push(json!({
                "id": f.id,
                "name": f.id.replace(['-', '.'], ""),
                "shortDescription": {"text": if f.summary.is_empty() { f.id.clone() } else { truncate(&f.summary, 200) }},
                "fullDescription": {"text": format!("{}{aliases}", if f.summary.is_empty() { &f.id } else { &f.summary })},
                "helpUri": advisory_url(&f.id),
                "help": {
                    "text": format!("{} ({} severity). {}", f.id, f.severity, advisory_url(&f.id)),
                    "markdown": format!("**{}** ({} severity)\n\n{}\n\n[{}]({})", f.id, f.severity, f.summary, f.id, advisory_url(&f.id)),
                },
                "properties": {
                    "security-severity": format!("{:.1}", security_severity(f)),
                    "tags": ["security", "vulnerability", f.severity.as_str()],
                    "precision": "very-high",
                },
            }));
            rules.len() - 1
        });
        let fix = match &f.fixed_version {
            Some(v) => format!("; fixed in {v}"),
            None => "; no fix yet".into(),
        };
        let uri = f
            .locations
            .first()
            .map(|l| l.trim_start_matches('/').to_owned())
            .filter(|l| !l.is_empty())
            .unwrap_or_else(|| r.target.trim_start_matches('/').to_owned());
        let mut result = json!({
            "ruleId": f.id,
            "ruleIndex": i,
            "level": sarif_level(f.severity),
            "message": {"text": format!(
                "{} {} is affected by {} ({} severity, risk {:.1}){fix}. Found in {}.",
                f.package, f.version, f.id, f.severity, f.risk, r.target
            )},
            "locations": [{
                "physicalLocation": {
                    "artifactLocation": {"uri": uri},
                    "region": {"startLine": 1},
                },
                "message": {"text": format!("{} {}", f.package, f.version)},
            }],
            // What the finding is and where it is in the target: the same
            // for a rebuild of the same code (no image digest, no time).
            "partialFingerprints": {"vedette/v2": format!("{}:{}:{uri}", f.id, f.purl)},
            "properties": {
                "purl": f.purl,
                "risk": f.risk,
                "fixedVersion": f.fixed_version,
            },
        });
        if let Some(e) = &f.exception {
            result["suppressions"] = json!([{"kind": "external", "justification": e}]);
        }
        results.push(result);
    }
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "Vedette",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://osv.dev",
                "rules": rules,
            }},
            "results": results,
            "properties": {"target": r.target, "digest": r.digest, "verdict": r.verdict.pass},
        }],
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

/// The `vulnerabilities` section of a CycloneDX 1.6 BOM; components are
/// referenced by their purl (their bom-ref).
pub fn cyclonedx_vulnerabilities(r: &ScanReport) -> Value {
    Value::Array(
        r.findings
            .iter()
            .map(|f| {
                let mut ratings = Vec::new();
                if let Some(c) = &f.cvss {
                    let method = match c.version.as_str() {
                        "3.1" => "CVSSv31",
                        "3.0" => "CVSSv3",
                        "4.0" => "CVSSv4",
                        _ => "other",
                    };
                    let source = match &f.severity_source {
                        SeveritySource::Nvd { .. } => json!({"name": "NVD", "url": "https://nvd.nist.gov"}),
                        SeveritySource::Alias { id } | SeveritySource::Advisory { id } | SeveritySource::Label { id } => json!({"name": id}),
                        SeveritySource::None => json!({"name": f.id}),
                    };
                    ratings.push(json!({"source": source, "score": c.score, "severity": f.severity.as_str(), "method": method, "vector": c.vector}));
                } else {
                    ratings.push(json!({"severity": f.severity.as_str(), "method": "other"}));
                }
                let mut v = json!({
                    "bom-ref": format!("vuln:{}:{}", f.id, f.purl),
                    "id": f.id,
                    "source": {"name": "OSV", "url": advisory_url(&f.id)},
                    "references": f.aliases.iter().map(|a| json!({"id": a, "source": {"url": advisory_url(a)}})).collect::<Vec<_>>(),
                    "ratings": ratings,
                    "description": f.summary,
                    "affects": [{"ref": f.purl, "versions": [{"version": f.version, "status": "affected"}]}],
                    "properties": [
                        {"name": "vedette:risk", "value": format!("{:.1}", f.risk)},
                    ],
                });
                if let Some(fix) = &f.fixed_version {
                    v["recommendation"] = json!(format!("Upgrade {} to {fix}", f.package));
                }
                if let Some(p) = &f.published {
                    v["published"] = json!(p);
                }
                if let Some(e) = &f.exception {
                    let t = f.triage.unwrap_or_default();
                    v["analysis"] = match t.status {
                        TriageStatus::NotAffected => json!({"state": "not_affected", "detail": e}),
                        TriageStatus::Accepted => json!({"state": "exploitable", "response": ["will_not_fix"], "detail": e}),
                    };
                    // The justification the user chose, none otherwise.
                    if let Some(j) = t.justification.filter(|_| t.status == TriageStatus::NotAffected) {
                        v["analysis"]["justification"] = json!(j.cyclonedx());
                    }
                }
                v
            })
            .collect(),
    )
}

/// CycloneDX 1.6: the inventory's components and the findings as vulnerabilities.
pub fn cyclonedx_with_findings(inv: &Inventory, r: &ScanReport) -> String {
    let mut doc: Value = serde_json::from_str(&crate::cyclonedx(inv)).unwrap_or_default();
    doc["vulnerabilities"] = cyclonedx_vulnerabilities(r);
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

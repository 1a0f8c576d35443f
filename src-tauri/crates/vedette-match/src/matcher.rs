//! OSV matching: `ECOSYSTEM` and `SEMVER` ranges with `introduced`, `fixed`,
//! `last_affected` and `limit`, explicit `versions` lists, distribution
//! advisories by release and source package, aliases merged into one finding.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use vedette_model::{Exposure, Finding, Inventory, Package, Severity, SeveritySource};
use vedette_osv::{normalize_name, range_scheme, AdvisorySet, AffectedRow, Event, Range};
use vedette_version::{Scheme, Version};

/// The names and version an advisory about `p` is written against: the
/// source package for Debian, Ubuntu and the apk distributions (their
/// advisories name source packages and origins); for rpm distributions the
/// binary package and its source rpm (AlmaLinux and Red Hat errata name
/// binary packages, SUSE, openSUSE, openEuler and Azure Linux source rpms),
/// both at the binary's version; the package itself otherwise.
fn advisory_subjects(p: &Package) -> Vec<(&str, &str)> {
    match &p.source {
        Some(s) if p.ecosystem.is_rpm() && s.name != p.name => {
            vec![
                (p.name.as_str(), p.version.as_str()),
                (s.name.as_str(), p.version.as_str()),
            ]
        }
        Some(s) if p.ecosystem.is_os() && !p.ecosystem.is_rpm() => {
            vec![(s.name.as_str(), s.version.as_str())]
        }
        _ => vec![(p.name.as_str(), p.version.as_str())],
    }
}

/// The (ecosystem, normalised name) keys to look up for an inventory.
pub fn lookup_keys(inv: &Inventory) -> Vec<(String, String)> {
    let mut keys: BTreeSet<(String, String)> = BTreeSet::new();
    for p in &inv.packages {
        if p.owned_by.is_some() {
            continue;
        }
        let eco = p.ecosystem.osv_name();
        for (name, _) in advisory_subjects(p) {
            keys.insert((eco.to_owned(), normalize_name(eco, name)));
        }
    }
    keys.into_iter().collect()
}

/// Whether an rpm distribution's entry is about the module stream `p` came
/// from: a module's package (`MODULARITYLABEL` `nodejs:18:…`, or a
/// `.module_el9…` release when the label is not known) only meets errata of
/// its stream, a package outside modules only errata outside them, as the
/// distribution ships them apart.
fn module_applies(p: &Package, row: &AffectedRow) -> bool {
    let stream = p
        .module
        .as_deref()
        .or_else(|| vedette_osv::is_modular_release(&p.version).then_some("*"));
    match (stream, row.module.as_str()) {
        (None, "") => true,
        (None, _) | (Some(_), "") => false,
        (Some("*"), _) | (Some(_), "*") => true,
        (Some(m), streams) => streams.split(',').any(|s| s == m),
    }
}

/// Whether `version` is in the ranges or versions of one advisory entry, and
/// if it is, the version that fixes it (none: no fix yet, or not said).
pub fn evaluate_ranges(
    scheme: Scheme,
    version: &Version,
    raw_version: &str,
    ranges: &[Range],
    versions: &[String],
) -> Option<Option<String>> {
    // The union of the ranges: affected if any range says so; fixed by the
    // highest fix among them, unless one of them has no fix at all.
    let mut hit: Option<Option<String>> = None;
    for r in ranges {
        let rs = range_scheme(&r.kind, scheme);
        // The installed version in this range's scheme.
        let v = if rs == scheme {
            version.clone()
        } else {
            match rs.parse(raw_version) {
                Ok(v) => v,
                Err(_) => continue,
            }
        };
        if let Some(fix) = in_range(rs, &v, &r.events) {
            hit = Some(match (hit, fix) {
                (None, f) => f,
                (Some(None), _) | (Some(_), None) => None,
                (Some(Some(a)), Some(b)) => {
                    let newer = match (rs.parse(&a), rs.parse(&b)) {
                        (Ok(x), Ok(y)) => y > x,
                        _ => false,
                    };
                    Some(if newer { b } else { a })
                }
            });
        }
    }
    // An explicit list: the same string always counts; an equal version
    // spelled differently (1.0 and 1.0.0) counts when the list is all there
    // is (with ranges, the list only repeats them, and PyPI's run to hundreds).
    let ranged = ranges.iter().any(|r| r.kind != "GIT");
    if hit.is_none()
        && versions.iter().any(|x| {
            x == raw_version
                || (!ranged
                    && scheme
                        .parse(x)
                        .is_ok_and(|x| x.cmp(version) == Ordering::Equal))
        })
    {
        hit = Some(None);
    }
    hit
}

/// The OSV evaluation of one range: events in version order ("0" first);
/// `introduced` at or below the version opens, `fixed` at or below closes,
/// `last_affected` below closes; `limit`s bound it from above.
fn in_range(scheme: Scheme, v: &Version, events: &[Event]) -> Option<Option<String>> {
    let mut parsed: Vec<(Option<Version>, &Event)> = Vec::with_capacity(events.len());
    let mut limits: Vec<Option<Version>> = Vec::new();
    for e in events {
        if let Event::Limit(x) = e {
            limits.push(if x == "*" {
                None
            } else {
                Some(scheme.parse(x).ok()?)
            });
            continue;
        }
        let pv = match e {
            Event::Introduced(x) if x == "0" => None,
            _ => Some(scheme.parse(e.version()).ok()?),
        };
        parsed.push((pv, e));
    }
    // "0" sorts first; at equal versions, introduced before the others.
    parsed.sort_by(|(a, ea), (b, eb)| match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(a), Some(b)) => a.cmp(b).then_with(|| {
            let rank = |e: &Event| u8::from(!matches!(e, Event::Introduced(_)));
            rank(ea).cmp(&rank(eb))
        }),
    });
    let mut affected = false;
    let mut fix = None;
    for (pv, e) in &parsed {
        match e {
            Event::Introduced(_) => {
                if pv.as_ref().is_none_or(|x| v >= x) {
                    affected = true;
                } else {
                    break;
                }
            }
            Event::Fixed(x) => {
                let pv = pv.as_ref()?;
                if v >= pv {
                    affected = false;
                } else {
                    if affected {
                        fix = Some(x.clone());
                    }
                    break;
                }
            }
            Event::LastAffected(_) => {
                let pv = pv.as_ref()?;
                if v > pv {
                    affected = false;
                } else {
                    break;
                }
            }
            Event::Limit(_) => {}
        }
    }
    if affected && !limits.is_empty() && !limits.iter().any(|l| l.as_ref().is_none_or(|l| v < l)) {
        affected = false;
    }
    affected.then_some(fix)
}

/// One package/advisory pair before merging, for tests and oracles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched {
    pub package: usize,
    pub advisory: String,
    pub fixed: Option<String>,
}

fn matches_for(inv: &Inventory, set: &AdvisorySet, warnings: &mut Vec<String>) -> Vec<Matched> {
    let mut out = Vec::new();
    let distro = inv.distro.as_ref();
    let mut no_distro_warned = false;
    for (i, p) in inv.packages.iter().enumerate() {
        if p.owned_by.is_some() {
            continue;
        }
        let eco = p.ecosystem.osv_name();
        let Some(scheme) = Scheme::for_ecosystem(eco) else {
            continue;
        };
        // An advisory listing both a binary and its source rpm is one match.
        let mut seen: BTreeSet<(&str, Option<String>)> = BTreeSet::new();
        for (name, version) in advisory_subjects(p) {
            let Some(rows) = set
                .affected
                .get(&(eco.to_owned(), normalize_name(eco, name)))
            else {
                continue;
            };
            let parsed = match scheme.parse(version) {
                Ok(v) => v,
                Err(e) => {
                    warnings.push(format!("{} {}: {e}; not matched", p.name, p.version));
                    break;
                }
            };
            for row in rows {
                if p.ecosystem.is_os() {
                    match distro {
                        Some(d) if vedette_model::release_applies(p.ecosystem, d, &row.release) => {
                        }
                        Some(_) => continue,
                        None => {
                            if !no_distro_warned {
                                warnings.push(format!(
                                    "{eco} packages found but no /etc/os-release: distribution advisories need the release, so they were not matched"
                                ));
                                no_distro_warned = true;
                            }
                            continue;
                        }
                    }
                }
                if p.ecosystem.is_rpm() && !module_applies(p, row) {
                    continue;
                }
                if let Some(fixed) = evaluate_row(scheme, &parsed, version, row) {
                    if seen.insert((row.advisory_id.as_str(), fixed.clone())) {
                        out.push(Matched {
                            package: i,
                            advisory: row.advisory_id.clone(),
                            fixed,
                        });
                    }
                }
            }
        }
    }
    out
}

/// Which package each advisory affects, from the affected entries alone
/// (no details needed), and warnings for what could not be evaluated. A
/// one-shot scan reads details only for the advisories this names, then
/// turns the same matches into findings with [`findings_from`].
pub fn evaluate_matches(inv: &Inventory, set: &AdvisorySet) -> (Vec<Matched>, Vec<String>) {
    let mut warnings = Vec::new();
    let matched = matches_for(inv, set, &mut warnings);
    (matched, warnings)
}

fn evaluate_row(
    scheme: Scheme,
    v: &Version,
    raw: &str,
    row: &AffectedRow,
) -> Option<Option<String>> {
    evaluate_ranges(scheme, v, raw, &row.ranges, &row.versions)
}

/// Matches an inventory against the advisories: one finding per package and
/// vulnerability (records about the same CVE merged), scored and sorted by
/// risk, highest first. Warnings name what could not be matched.
pub fn find(
    inv: &Inventory,
    set: &AdvisorySet,
    exposure: Exposure,
) -> (Vec<Finding>, Vec<Matched>, Vec<String>) {
    let (matched, warnings) = evaluate_matches(inv, set);
    let findings = findings_from(inv, set, &matched, exposure);
    (findings, matched, warnings)
}

/// Findings from matches already evaluated: merged by alias, scored and
/// sorted by risk, highest first.
pub fn findings_from(
    inv: &Inventory,
    set: &AdvisorySet,
    matched: &[Matched],
    exposure: Exposure,
) -> Vec<Finding> {
    let mut by_package: BTreeMap<usize, Vec<&Matched>> = BTreeMap::new();
    for m in matched {
        by_package.entry(m.package).or_default().push(m);
    }
    let mut findings = Vec::new();
    for (pi, ms) in by_package {
        let p = &inv.packages[pi];
        let scheme = Scheme::for_ecosystem(p.ecosystem.osv_name());
        for group in merge_by_alias(&ms, set) {
            findings.push(build(p, &group, set, scheme, exposure));
        }
    }
    findings.sort_by(|a, b| {
        b.risk
            .partial_cmp(&a.risk)
            .unwrap_or(Ordering::Equal)
            .then(b.severity.cmp(&a.severity))
            .then_with(|| a.package.cmp(&b.package))
            .then_with(|| a.id.cmp(&b.id))
    });
    findings
}

/// Groups one package's matches so that records sharing an id or alias
/// become one vulnerability.
fn merge_by_alias<'a>(ms: &[&'a Matched], set: &AdvisorySet) -> Vec<Vec<&'a Matched>> {
    let n = ms.len();
    let mut parent: Vec<usize> = (0..n).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut owner: HashMap<String, usize> = HashMap::new();
    for (i, m) in ms.iter().enumerate() {
        let mut names = vec![m.advisory.clone()];
        if let Some(a) = set.advisories.get(&m.advisory) {
            names.extend(a.aliases.iter().cloned());
        }
        for name in names {
            match owner.get(&name) {
                Some(&j) => {
                    let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                    if a != b {
                        parent[a] = b;
                    }
                }
                None => {
                    owner.insert(name, i);
                }
            }
        }
    }
    let mut groups: BTreeMap<usize, Vec<&Matched>> = BTreeMap::new();
    for (i, m) in ms.iter().enumerate() {
        let r = root(&mut parent, i);
        groups.entry(r).or_default().push(m);
    }
    groups.into_values().collect()
}

fn build(
    p: &Package,
    group: &[&Matched],
    set: &AdvisorySet,
    scheme: Option<Scheme>,
    exposure: Exposure,
) -> Finding {
    let mut ids: Vec<&str> = group.iter().map(|m| m.advisory.as_str()).collect();
    ids.sort_by_key(|id| (id.starts_with("CVE-"), *id));
    ids.dedup();
    let primary = ids[0].to_owned();
    let mut all: BTreeSet<String> = BTreeSet::new();
    for id in &ids {
        all.insert((*id).to_owned());
        if let Some(a) = set.advisories.get(*id) {
            all.extend(a.aliases.iter().cloned());
        }
    }
    all.remove(&primary);
    let cve = std::iter::once(primary.clone())
        .chain(all.iter().cloned())
        .find(|a| a.starts_with("CVE-"));
    // The highest fix any record names: below it, some record still says affected.
    let fixed = group
        .iter()
        .filter_map(|m| m.fixed.clone())
        .max_by(|a, b| match scheme {
            Some(s) => s.compare(a, b).unwrap_or(Ordering::Equal),
            None => a.cmp(b),
        });
    let records: Vec<&vedette_osv::AdvisoryRow> = ids
        .iter()
        .filter_map(|id| set.advisories.get(*id))
        .collect();
    let summary = records
        .iter()
        .map(|r| r.summary.as_str())
        .find(|s| !s.is_empty())
        .unwrap_or("")
        .to_owned();
    let published = records.iter().filter_map(|r| r.published.clone()).min();
    // An erratum about several CVEs: they stand in for the one it is not.
    let related: Vec<String> = if cve.is_some() {
        Vec::new()
    } else {
        let mut r: Vec<String> = records
            .iter()
            .flat_map(|r| r.related.iter().cloned())
            .filter(|c| !all.contains(c))
            .collect();
        r.sort();
        r.dedup();
        r
    };
    let cves: Vec<&str> = cve
        .iter()
        .map(String::as_str)
        .chain(related.iter().map(String::as_str))
        .collect();
    let vendor_severity = vendor_severity(&records, p.ecosystem.osv_name());
    let (severity, severity_source, cvss) =
        severity(&records, &all, &cves, vendor_severity.as_ref(), set);
    let (epss, epss_percentile) = match cves
        .iter()
        .filter_map(|c| set.epss.get(*c))
        .max_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(Ordering::Equal))
    {
        Some((s, p)) => (Some(*s), Some(*p)),
        None => (None, None),
    };
    let kev_added = cves
        .iter()
        .filter_map(|c| set.kev.get(*c))
        .map(|k| k.date_added.clone())
        .min();
    let (source_package, _) = match (&p.source, p.ecosystem.is_os()) {
        (Some(s), true) if s.name != p.name => (Some(s.name.clone()), ()),
        _ => (None, ()),
    };
    let mut f = Finding {
        id: primary,
        aliases: all.into_iter().collect(),
        cve,
        package: p.name.clone(),
        version: p.version.clone(),
        ecosystem: p.ecosystem.osv_name().to_owned(),
        purl: p.purl.clone(),
        source_package,
        fixed_version: fixed,
        summary,
        severity,
        severity_source,
        cvss,
        vendor_severity,
        related,
        epss,
        epss_percentile,
        kev_added,
        risk: 0.0,
        risk_factors: Vec::new(),
        published,
        locations: p.locations.iter().map(|l| l.path.clone()).collect(),
        exception: None,
        triage: None,
    };
    let (risk, factors) = crate::risk::score(&f, exposure);
    f.risk = risk;
    f.risk_factors = factors;
    f
}

/// The distribution's own rating among the matched records, the highest.
fn vendor_severity(
    records: &[&vedette_osv::AdvisoryRow],
    vendor: &str,
) -> Option<vedette_model::VendorSeverity> {
    records
        .iter()
        .filter_map(|r| {
            let label = r.vendor_severity.as_deref()?;
            Some(vedette_model::VendorSeverity {
                vendor: vendor.to_owned(),
                label: label.to_owned(),
                severity: Severity::parse(label)?,
            })
        })
        .max_by_key(|v| v.severity)
}

/// Severity: a CVSS vector in a matched record, else in another record of
/// the same vulnerability, else NVD's (for an erratum about several CVEs,
/// the highest of theirs), else a matched record's own label or rating.
fn severity(
    records: &[&vedette_osv::AdvisoryRow],
    aliases: &BTreeSet<String>,
    cves: &[&str],
    vendor: Option<&vedette_model::VendorSeverity>,
    set: &AdvisorySet,
) -> (Severity, SeveritySource, Option<vedette_model::Cvss>) {
    let vector_of = |r: &vedette_osv::AdvisoryRow| {
        r.cvss3
            .as_deref()
            .and_then(crate::risk::severity_of_vector)
            .or_else(|| r.cvss4.as_deref().and_then(crate::risk::severity_of_vector))
    };
    for r in records {
        if let Some(c) = vector_of(r) {
            return (
                Severity::from_score(c.score),
                SeveritySource::Advisory { id: r.id.clone() },
                Some(c),
            );
        }
    }
    let matched: BTreeSet<&str> = records.iter().map(|r| r.id.as_str()).collect();
    for a in aliases {
        for other in set.by_alias.get(a).into_iter().flatten() {
            if matched.contains(other.id.as_str()) {
                continue;
            }
            if let Some(c) = vector_of(other) {
                return (
                    Severity::from_score(c.score),
                    SeveritySource::Alias {
                        id: other.id.clone(),
                    },
                    Some(c),
                );
            }
        }
    }
    let nvd = cves
        .iter()
        .filter_map(|c| set.nvd.get(*c))
        .filter_map(|n| Some((n, crate::risk::severity_of_vector(&n.vector)?)))
        .max_by(|a, b| a.1.score.partial_cmp(&b.1.score).unwrap_or(Ordering::Equal));
    if let Some((n, c)) = nvd {
        return (
            Severity::from_score(c.score),
            SeveritySource::Nvd {
                cve: n.cve.clone(),
                source: n.source.clone(),
            },
            Some(c),
        );
    }
    for r in records {
        if let Some(s) = r.label.as_deref().and_then(Severity::parse) {
            return (s, SeveritySource::Label { id: r.id.clone() }, None);
        }
    }
    if let Some(v) = vendor {
        let id = records
            .iter()
            .find(|r| r.vendor_severity.as_deref() == Some(v.label.as_str()))
            .map(|r| r.id.clone())
            .unwrap_or_default();
        return (v.severity, SeveritySource::Label { id }, None);
    }
    (Severity::Unknown, SeveritySource::None, None)
}

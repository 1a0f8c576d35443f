//! OSV range semantics, merging, severity sources and policy, on small
//! hand-written advisory sets.

use std::collections::HashMap;

use vedette_feeds::{AdvisoryRow, AdvisorySet, AffectedRow, Event, NvdCvss, Range};
use vedette_model::{
    Distro, Ecosystem, Exposure, Inventory, Package, Severity, SeveritySource, SourcePackage,
    TargetKind,
};
use vedette_version::Scheme;

use crate::{evaluate_ranges, find, Policy};

fn ev(s: &str) -> Event {
    let (k, v) = s.split_once(' ').unwrap();
    match k {
        "i" => Event::Introduced(v.into()),
        "f" => Event::Fixed(v.into()),
        "la" => Event::LastAffected(v.into()),
        "l" => Event::Limit(v.into()),
        _ => panic!("{k}"),
    }
}

fn range(kind: &str, events: &[&str]) -> Range {
    Range {
        kind: kind.into(),
        events: events.iter().map(|e| ev(e)).collect(),
    }
}

fn check(scheme: Scheme, v: &str, ranges: &[Range], versions: &[&str]) -> Option<Option<String>> {
    let versions: Vec<String> = versions.iter().map(|s| s.to_string()).collect();
    evaluate_ranges(scheme, &scheme.parse(v).unwrap(), v, ranges, &versions)
}

#[test]
fn introduced_and_fixed_bound_the_affected_versions() {
    let r = [range("ECOSYSTEM", &["i 1.0", "f 1.5"])];
    assert_eq!(check(Scheme::Pep440, "0.9", &r, &[]), None);
    assert_eq!(
        check(Scheme::Pep440, "1.0", &r, &[]),
        Some(Some("1.5".into()))
    );
    assert_eq!(
        check(Scheme::Pep440, "1.4.9", &r, &[]),
        Some(Some("1.5".into()))
    );
    assert_eq!(check(Scheme::Pep440, "1.5", &r, &[]), None);
}

#[test]
fn introduced_zero_means_every_earlier_version() {
    let r = [range("ECOSYSTEM", &["i 0", "f 2.36-9+deb12u4"])];
    assert_eq!(
        check(Scheme::Dpkg, "2.36-9+deb12u3", &r, &[]),
        Some(Some("2.36-9+deb12u4".into()))
    );
    assert_eq!(check(Scheme::Dpkg, "2.36-9+deb12u4", &r, &[]), None);
    assert_eq!(check(Scheme::Dpkg, "2.36-9+deb12u10", &r, &[]), None);
}

#[test]
fn last_affected_includes_itself_and_has_no_fix() {
    let r = [range("SEMVER", &["i 0", "la 4.17.15"])];
    assert_eq!(check(Scheme::NodeSemver, "4.17.15", &r, &[]), Some(None));
    assert_eq!(check(Scheme::NodeSemver, "4.17.16", &r, &[]), None);
}

#[test]
fn events_are_read_in_version_order_not_file_order() {
    let r = [range("ECOSYSTEM", &["f 2.0", "i 3.0", "f 3.2", "i 1.0"])];
    assert_eq!(
        check(Scheme::Pep440, "1.5", &r, &[]),
        Some(Some("2.0".into()))
    );
    assert_eq!(check(Scheme::Pep440, "2.5", &r, &[]), None);
    assert_eq!(
        check(Scheme::Pep440, "3.1", &r, &[]),
        Some(Some("3.2".into()))
    );
}

#[test]
fn a_limit_bounds_the_range_from_above() {
    let r = [range("ECOSYSTEM", &["i 1.0", "l 2.0"])];
    assert_eq!(check(Scheme::Pep440, "1.5", &r, &[]), Some(None));
    assert_eq!(check(Scheme::Pep440, "2.1", &r, &[]), None);
}

#[test]
fn explicit_versions_match_even_without_ranges() {
    assert_eq!(
        check(Scheme::Pep440, "1.0", &[], &["1.0.0", "2.0"]),
        Some(None)
    );
    assert_eq!(check(Scheme::Pep440, "1.1", &[], &["1.0.0", "2.0"]), None);
}

#[test]
fn several_ranges_are_a_union_fixed_by_the_highest_fix() {
    let r = [
        range("ECOSYSTEM", &["i 0", "f 1.0-r1"]),
        range("ECOSYSTEM", &["i 0", "f 1.2-r0"]),
    ];
    assert_eq!(
        check(Scheme::Apk, "0.9-r0", &r, &[]),
        Some(Some("1.2-r0".into()))
    );
    assert_eq!(
        check(Scheme::Apk, "1.1-r0", &r, &[]),
        Some(Some("1.2-r0".into()))
    );
    assert_eq!(check(Scheme::Apk, "1.2-r0", &r, &[]), None);
}

#[test]
fn a_semver_range_in_a_non_semver_ecosystem_reads_semver() {
    let r = [range("SEMVER", &["i 0", "f 1.2.3"])];
    assert_eq!(
        check(Scheme::Pep440, "1.2.2", &r, &[]),
        Some(Some("1.2.3".into()))
    );
}

fn pkg(name: &str, version: &str, eco: Ecosystem, source: Option<(&str, &str)>) -> Package {
    Package {
        name: name.into(),
        version: version.into(),
        ecosystem: eco,
        purl: format!("pkg:x/{name}@{version}"),
        source: source.map(|(n, v)| SourcePackage {
            name: n.into(),
            version: v.into(),
        }),
        locations: vec![],
        owned_by: None,
        found_by: "test".into(),
        licenses: vec![],
    }
}

fn inventory(packages: Vec<Package>, distro: Option<(&str, &str)>) -> Inventory {
    Inventory {
        schema: Inventory::SCHEMA,
        target: "t".into(),
        kind: TargetKind::Directory,
        digest: "sha256:0".into(),
        image: None,
        distro: distro.map(|(id, v)| Distro {
            id: id.into(),
            version_id: v.into(),
            ..Default::default()
        }),
        packages,
        warnings: vec![],
        extractor_version: 1,
        scanned_at: chrono::Utc::now(),
    }
}

fn affected(id: &str, eco: &str, release: &str, name: &str, events: &[&str]) -> AffectedRow {
    AffectedRow {
        advisory_id: id.into(),
        ecosystem: eco.into(),
        release: release.into(),
        name: name.into(),
        ranges: vec![range("ECOSYSTEM", events)],
        versions: vec![],
    }
}

fn advisory(id: &str, aliases: &[&str], cvss3: Option<&str>, label: Option<&str>) -> AdvisoryRow {
    AdvisoryRow {
        id: id.into(),
        summary: format!("summary of {id}"),
        aliases: aliases.iter().map(|s| s.to_string()).collect(),
        published: Some("2024-01-01T00:00:00Z".into()),
        modified: "2024-01-02T00:00:00Z".into(),
        cvss3: cvss3.map(Into::into),
        cvss4: None,
        label: label.map(Into::into),
    }
}

fn set(rows: Vec<AffectedRow>, advisories: Vec<AdvisoryRow>) -> AdvisorySet {
    let mut s = AdvisorySet::default();
    for r in rows {
        s.affected
            .entry((r.ecosystem.clone(), r.name.clone()))
            .or_default()
            .push(r);
    }
    for a in advisories {
        for al in a.aliases.iter().chain(std::iter::once(&a.id)) {
            s.by_alias.entry(al.clone()).or_default().push(a.clone());
        }
        s.advisories.insert(a.id.clone(), a);
    }
    s
}

const HIGH: &str = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N";

#[test]
fn debian_advisories_match_binary_packages_through_their_source_and_release() {
    let inv = inventory(
        vec![
            pkg(
                "libc6",
                "2.36-9+deb12u3",
                Ecosystem::Debian,
                Some(("glibc", "2.36-9+deb12u3")),
            ),
            pkg(
                "libc-bin",
                "2.36-9+deb12u3",
                Ecosystem::Debian,
                Some(("glibc", "2.36-9+deb12u3")),
            ),
        ],
        Some(("debian", "12")),
    );
    let s = set(
        vec![
            affected(
                "DEBIAN-CVE-1",
                "Debian",
                "12",
                "glibc",
                &["i 0", "f 2.36-9+deb12u4"],
            ),
            affected(
                "DEBIAN-CVE-2",
                "Debian",
                "11",
                "glibc",
                &["i 0", "f 2.31-13+deb11u9"],
            ),
        ],
        vec![
            advisory("DEBIAN-CVE-1", &["CVE-1"], None, None),
            advisory("DEBIAN-CVE-2", &["CVE-2"], None, None),
        ],
    );
    let (findings, matched, warnings) = find(&inv, &s, Exposure::Internal);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(
        matched.len(),
        2,
        "one match per binary package, Debian 11's record ignored"
    );
    assert!(findings
        .iter()
        .all(|f| f.id == "DEBIAN-CVE-1" && f.source_package.as_deref() == Some("glibc")));
    assert_eq!(findings[0].fixed_version.as_deref(), Some("2.36-9+deb12u4"));
    assert_eq!(findings[0].severity, Severity::Unknown);
    assert_eq!(findings[0].severity_source, SeveritySource::None);
}

#[test]
fn records_about_one_cve_merge_into_one_finding() {
    let inv = inventory(vec![pkg("jinja2", "2.10", Ecosystem::PyPI, None)], None);
    let s = set(
        vec![
            affected("PYSEC-1", "PyPI", "", "jinja2", &["i 0", "f 2.10.1"]),
            affected("GHSA-x", "PyPI", "", "jinja2", &["i 0", "f 2.10.1"]),
        ],
        vec![
            advisory("PYSEC-1", &["CVE-9", "GHSA-x"], None, None),
            advisory("GHSA-x", &["CVE-9"], Some(HIGH), Some("MODERATE")),
        ],
    );
    let (findings, matched, _) = find(&inv, &s, Exposure::Internal);
    assert_eq!(matched.len(), 2);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let f = &findings[0];
    assert_eq!(f.id, "GHSA-x");
    assert_eq!(f.aliases, vec!["CVE-9", "PYSEC-1"]);
    assert_eq!(f.cve.as_deref(), Some("CVE-9"));
    assert_eq!(f.severity, Severity::High);
    assert_eq!(
        f.severity_source,
        SeveritySource::Advisory {
            id: "GHSA-x".into()
        }
    );
}

#[test]
fn severity_comes_from_an_alias_then_nvd_then_the_label() {
    let inv = inventory(vec![pkg("a", "1.0", Ecosystem::PyPI, None)], None);
    // Only an unmatched record of the same CVE carries a vector.
    let mut s = set(
        vec![affected("PYSEC-A", "PyPI", "", "a", &["i 0", "f 2.0"])],
        vec![
            advisory("PYSEC-A", &["CVE-7"], None, Some("low")),
            advisory("OTHER-1", &["CVE-7"], Some(HIGH), None),
        ],
    );
    let (f, _, _) = find(&inv, &s, Exposure::Internal);
    assert_eq!(
        f[0].severity_source,
        SeveritySource::Alias {
            id: "OTHER-1".into()
        }
    );
    // Without it, NVD's vector.
    s.by_alias.remove("CVE-7");
    s.nvd.insert(
        "CVE-7".into(),
        NvdCvss {
            cve: "CVE-7".into(),
            version: "3.1".into(),
            vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".into(),
            score: 9.8,
            source: "nvd@nist.gov".into(),
        },
    );
    let (f, _, _) = find(&inv, &s, Exposure::Internal);
    assert_eq!(f[0].severity, Severity::Critical);
    assert!(matches!(f[0].severity_source, SeveritySource::Nvd { .. }));
    // Without NVD, the record's own label.
    s.nvd = HashMap::new();
    let (f, _, _) = find(&inv, &s, Exposure::Internal);
    assert_eq!(f[0].severity, Severity::Low);
    assert_eq!(
        f[0].severity_source,
        SeveritySource::Label {
            id: "PYSEC-A".into()
        }
    );
}

#[test]
fn risk_rises_with_kev_epss_and_internet_exposure_and_says_why() {
    let inv = inventory(vec![pkg("a", "1.0", Ecosystem::PyPI, None)], None);
    let mut s = set(
        vec![affected("PYSEC-A", "PyPI", "", "a", &["i 0", "f 2.0"])],
        vec![advisory("PYSEC-A", &["CVE-7"], Some(HIGH), None)],
    );
    let (base, _, _) = find(&inv, &s, Exposure::Internal);
    s.epss.insert("CVE-7".into(), (0.9, 0.99));
    s.kev.insert(
        "CVE-7".into(),
        vedette_feeds::KevEntry {
            cve: "CVE-7".into(),
            date_added: "2024-02-01".into(),
            name: String::new(),
            ransomware: String::new(),
        },
    );
    let (hot, _, _) = find(&inv, &s, Exposure::Internet);
    assert!(
        hot[0].risk > base[0].risk + 40.0,
        "{} vs {}",
        hot[0].risk,
        base[0].risk
    );
    let reasons: Vec<&str> = hot[0]
        .risk_factors
        .iter()
        .map(|r| r.reason.as_str())
        .collect();
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("CISA KEV since 2024-02-01")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("internet-facing")),
        "{reasons:?}"
    );
    let sum: f64 = hot[0].risk_factors.iter().map(|r| r.points).sum();
    assert_eq!(hot[0].risk, sum.min(100.0));
}

#[test]
fn language_packages_owned_by_the_os_are_not_matched_as_language_packages() {
    let mut p = pkg("urllib3", "1.26.12", Ecosystem::PyPI, None);
    p.owned_by = Some("pkg:deb/debian/python3-urllib3@1.26.12-1".into());
    let inv = inventory(vec![p], None);
    let s = set(
        vec![affected(
            "PYSEC-U",
            "PyPI",
            "",
            "urllib3",
            &["i 0", "f 1.26.18"],
        )],
        vec![advisory("PYSEC-U", &[], None, None)],
    );
    assert!(find(&inv, &s, Exposure::Internal).0.is_empty());
}

#[test]
fn an_unreadable_installed_version_is_a_warning_not_a_match() {
    let inv = inventory(
        vec![pkg("a", "not-a-version!", Ecosystem::PyPI, None)],
        None,
    );
    let s = set(
        vec![affected("PYSEC-A", "PyPI", "", "a", &["i 0", "f 2.0"])],
        vec![advisory("PYSEC-A", &[], None, None)],
    );
    let (f, _, w) = find(&inv, &s, Exposure::Internal);
    assert!(f.is_empty());
    assert!(w[0].contains("not-a-version!"), "{w:?}");
}

#[test]
fn policy_counts_severities_kev_and_honours_exceptions_until_they_expire() {
    let inv = inventory(
        vec![
            pkg("a", "1.0", Ecosystem::PyPI, None),
            pkg("b", "1.0", Ecosystem::PyPI, None),
        ],
        None,
    );
    let s = set(
        vec![
            affected("PYSEC-A", "PyPI", "", "a", &["i 0", "f 2.0"]),
            affected("PYSEC-B", "PyPI", "", "b", &["i 0"]),
        ],
        vec![
            advisory("PYSEC-A", &["CVE-A"], Some(HIGH), None),
            advisory("PYSEC-B", &[], Some(HIGH), None),
        ],
    );
    let (findings, _, _) = find(&inv, &s, Exposure::Internal);
    let now = chrono::Utc::now();
    let policy = Policy::from_toml("p.toml", "fail_on = \"high\"\n[max]\nhigh = 5\n").unwrap();
    let v = policy.evaluate(&mut findings.clone(), now);
    assert!(!v.pass);
    assert_eq!(v.failures.len(), 1, "{:?}", v.failures);
    assert!(
        v.failures[0].contains("2 finding(s) of high severity or worse"),
        "{:?}",
        v.failures
    );

    let unfixed = Policy::from_toml("p.toml", "fail_on = \"high\"\nfixable_only = true\n").unwrap();
    assert_eq!(unfixed.evaluate(&mut findings.clone(), now).counted, 1);

    let text = "fail_on = \"high\"\nfixable_only = true\n[[exception]]\nid = \"CVE-A\"\nreason = \"not reachable\"\nexpires = \"2999-01-01\"\n";
    let excepted = Policy::from_toml("p.toml", text).unwrap();
    let mut fs = findings.clone();
    let v = excepted.evaluate(&mut fs, now);
    assert!(v.pass, "{v:?}");
    assert!(fs.iter().any(|f| f
        .exception
        .as_deref()
        .is_some_and(|e| e.contains("not reachable"))));

    let expired = Policy::from_toml("p.toml", &text.replace("2999", "2001")).unwrap();
    let v = expired.evaluate(&mut findings.clone(), now);
    assert!(!v.pass);
    assert!(v.notes[0].contains("expired"), "{:?}", v.notes);
}

#[test]
fn a_bad_policy_file_says_what_is_wrong() {
    let e = Policy::from_toml("p.toml", "fail_on = \"severe\"\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("p.toml") && e.contains("severe"), "{e}");
    let e = Policy::from_toml("p.toml", "fial_on = \"high\"\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("fial_on"), "{e}");
    let e = Policy::from_toml("p.toml", "[[exception]]\nid = \"CVE-1\"\nreason = \"x\"\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("expires"), "{e}");
}

#[test]
fn exceptions_survive_a_round_trip_through_openvex() {
    let text = "[[exception]]\nid = \"CVE-1\"\npackage = \"pkg:pypi/a\"\nreason = \"mitigated by config\"\nexpires = \"2027-03-01\"\n[[exception]]\nid = \"GHSA-2\"\nreason = \"test only\"\nexpires = \"2027-04-01\"\n";
    let p = Policy::from_toml("p.toml", text).unwrap();
    let vex = crate::to_openvex(&p.exceptions);
    assert_eq!(vex["@context"], "https://openvex.dev/ns/v0.2.0");
    let back = crate::exceptions_from_openvex("v.json", &vex, None).unwrap();
    assert_eq!(back, p.exceptions);
}

//! OSV range semantics, merging, severity sources and policy, on small
//! hand-written advisory sets.

use std::collections::HashMap;

use vedette_model::{
    Distro, Ecosystem, Exposure, Inventory, Package, Severity, SeveritySource, SourcePackage,
    TargetKind,
};
use vedette_osv::{AdvisoryRow, AdvisorySet, AffectedRow, Event, NvdCvss, Range};
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
        module: None,
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
        unreadable: vec![],
        extractor_version: 1,
        host: None,
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
        module: String::new(),
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
        vendor_severity: None,
        related: vec![],
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
        vedette_osv::KevEntry {
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

#[test]
fn rpm_errata_match_binary_and_source_names_of_their_own_major_release() {
    // AlmaLinux names binary packages, SUSE source rpms: both are looked up.
    let inv = inventory(
        vec![
            pkg(
                "kernel-core",
                "5.14.0-362.8.1.el9_3",
                Ecosystem::AlmaLinux,
                Some(("kernel", "5.14.0-362.8.1.el9_3")),
            ),
            pkg(
                "container-selinux",
                "3:2.205.0-1.el9_2",
                Ecosystem::AlmaLinux,
                None,
            ),
        ],
        Some(("almalinux", "9.3")),
    );
    let s = set(
        vec![
            affected(
                "ALSA-2024:1",
                "AlmaLinux",
                "9",
                "kernel-core",
                &["i 0", "f 5.14.0-362.13.1.el9_3"],
            ),
            affected(
                "ALSA-2024:8",
                "AlmaLinux",
                "8",
                "kernel-core",
                &["i 0", "f 4.18.0-513.11.1.el8_9"],
            ),
            // An epoch outranks every version: 3:2.205 is newer than 2:2.999.
            affected(
                "ALSA-2024:2",
                "AlmaLinux",
                "9",
                "container-selinux",
                &["i 0", "f 2:2.999.0-1.el9"],
            ),
            affected(
                "ALSA-2024:3",
                "AlmaLinux",
                "9",
                "kernel",
                &["i 0", "f 9:9-9"],
            ),
        ],
        vec![
            advisory("ALSA-2024:1", &[], None, None),
            advisory("ALSA-2024:8", &[], None, None),
            advisory("ALSA-2024:2", &[], None, None),
            advisory("ALSA-2024:3", &[], None, None),
        ],
    );
    let (findings, _, warnings) = find(&inv, &s, Exposure::Internal);
    assert!(warnings.is_empty(), "{warnings:?}");
    let mut ids: Vec<&str> = findings.iter().map(|f| f.id.as_str()).collect();
    ids.sort();
    // ALSA-2024:3 names the source rpm (as SUSE's and openEuler's do): it
    // applies at the binary's version.
    assert_eq!(ids, vec!["ALSA-2024:1", "ALSA-2024:3"], "{findings:#?}");
    let f = findings.iter().find(|f| f.id == "ALSA-2024:1").unwrap();
    assert_eq!(f.fixed_version.as_deref(), Some("5.14.0-362.13.1.el9_3"));
}

#[test]
fn an_erratum_takes_severity_from_its_related_cves_and_carries_the_vendor_rating() {
    let inv = inventory(
        vec![pkg(
            "thunderbird",
            "115.5.0-1.el9_3.alma",
            Ecosystem::AlmaLinux,
            None,
        )],
        Some(("almalinux", "9.3")),
    );
    let mut erratum = advisory("ALSA-2024:0001", &[], None, None);
    erratum.vendor_severity = Some("Important".into());
    erratum.related = vec!["CVE-2023-1".into(), "CVE-2023-2".into()];
    let mut s = set(
        vec![affected(
            "ALSA-2024:0001",
            "AlmaLinux",
            "9",
            "thunderbird",
            &["i 0", "f 115.6.0-1.el9_3.alma"],
        )],
        vec![erratum],
    );
    let (findings, _, _) = find(&inv, &s, Exposure::Internal);
    let f = &findings[0];
    // No NVD: the rating stands in as the record's own label.
    assert_eq!(f.severity, Severity::High);
    assert_eq!(
        f.severity_source,
        SeveritySource::Label {
            id: "ALSA-2024:0001".into()
        }
    );
    let v = f.vendor_severity.as_ref().unwrap();
    assert_eq!(
        (v.vendor.as_str(), v.label.as_str(), v.severity),
        ("AlmaLinux", "Important", Severity::High)
    );
    assert_eq!(f.related, vec!["CVE-2023-1", "CVE-2023-2"]);
    // With NVD, the highest related CVE's score; KEV from any of them.
    for (cve, vector) in [
        ("CVE-2023-1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:L/I:N/A:N"),
        ("CVE-2023-2", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
    ] {
        s.nvd.insert(
            cve.into(),
            NvdCvss {
                cve: cve.into(),
                version: "3.1".into(),
                vector: vector.into(),
                score: 0.0,
                source: "nvd@nist.gov".into(),
            },
        );
    }
    s.kev.insert(
        "CVE-2023-1".into(),
        vedette_osv::KevEntry {
            cve: "CVE-2023-1".into(),
            date_added: "2024-02-01".into(),
            name: String::new(),
            ransomware: String::new(),
        },
    );
    let (findings, _, _) = find(&inv, &s, Exposure::Internal);
    let f = &findings[0];
    assert_eq!(f.severity, Severity::Critical);
    assert!(matches!(&f.severity_source, SeveritySource::Nvd { cve, .. } if cve == "CVE-2023-2"));
    assert_eq!(f.kev_added.as_deref(), Some("2024-02-01"));
    assert_eq!(f.vendor_severity.as_ref().unwrap().severity, Severity::High);
}

#[test]
fn the_policy_gates_on_the_vendor_rating_when_told_to() {
    let inv = inventory(
        vec![pkg(
            "thunderbird",
            "115.5.0-1.el9_3.alma",
            Ecosystem::AlmaLinux,
            None,
        )],
        Some(("almalinux", "9.3")),
    );
    let mut erratum = advisory(
        "ALSA-1",
        &[],
        Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
        None,
    );
    erratum.vendor_severity = Some("Moderate".into());
    let s = set(
        vec![affected(
            "ALSA-1",
            "AlmaLinux",
            "9",
            "thunderbird",
            &["i 0", "f 116"],
        )],
        vec![erratum],
    );
    let (mut findings, _, _) = find(&inv, &s, Exposure::Internal);
    assert_eq!(findings[0].severity, Severity::Critical);
    let cvss = Policy::from_toml("p", "fail_on = \"high\"").unwrap();
    assert!(!cvss.evaluate(&mut findings, chrono::Utc::now()).pass);
    let vendor = Policy::from_toml("p", "fail_on = \"high\"\ngate_severity = \"vendor\"").unwrap();
    assert!(vendor.evaluate(&mut findings, chrono::Utc::now()).pass);
    let err = Policy::from_toml("p", "gate_severity = \"epss\"").unwrap_err();
    assert!(err.to_string().contains("gate_severity"), "{err}");
}

#[test]
fn wolfi_packages_never_meet_alpine_advisories() {
    let inv = inventory(
        vec![pkg(
            "openssl",
            "3.3.0-r0",
            Ecosystem::Wolfi,
            Some(("openssl", "3.3.0-r0")),
        )],
        Some(("wolfi", "20230201")),
    );
    let s = set(
        vec![
            affected(
                "ALPINE-1",
                "Alpine",
                "v3.19",
                "openssl",
                &["i 0", "f 3.3.1-r0"],
            ),
            affected("CGA-1", "Wolfi", "", "openssl", &["i 0", "f 3.3.1-r0"]),
        ],
        vec![
            advisory("ALPINE-1", &[], None, None),
            advisory("CGA-1", &[], None, None),
        ],
    );
    let (findings, _, _) = find(&inv, &s, Exposure::Internal);
    let ids: Vec<&str> = findings.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids, vec!["CGA-1"]);
}

#[test]
fn a_module_stream_meets_only_its_own_errata() {
    let mut node18 = pkg(
        "nodejs",
        "1:18.14.2-2.module_el9.2.0+29+de583a0b",
        Ecosystem::AlmaLinux,
        None,
    );
    node18.module = Some("nodejs:18".into());
    let node16 = pkg("nodejs", "1:16.20.2-3.el9_2", Ecosystem::AlmaLinux, None);
    let modular = |id: &str, stream: &str, fixed: &str| {
        let mut a = affected(
            id,
            "AlmaLinux",
            "9",
            "nodejs",
            &["i 0", &format!("f {fixed}")],
        );
        a.module = stream.into();
        a
    };
    let rows = vec![
        modular(
            "ALSA-18",
            "nodejs:18",
            "1:18.19.1-1.module_el9.3.0+59+28b95644",
        ),
        modular(
            "ALSA-20",
            "nodejs:20",
            "1:20.11.1-1.module_el9.3.0+88+29afeaa2",
        ),
        modular("ALSA-ANY", "*", "1:99-1.module_el9.3.0+1+1"),
        affected(
            "ALSA-16",
            "AlmaLinux",
            "9",
            "nodejs",
            &["i 0", "f 1:16.20.2-4.el9_3"],
        ),
    ];
    let advisories = ["ALSA-18", "ALSA-20", "ALSA-ANY", "ALSA-16"]
        .iter()
        .map(|id| advisory(id, &[], None, None))
        .collect::<Vec<_>>();
    let ids = |p: Package| {
        let inv = inventory(vec![p], Some(("almalinux", "9.3")));
        let (findings, _, _) = find(
            &inv,
            &set(rows.clone(), advisories.clone()),
            Exposure::Internal,
        );
        let mut v: Vec<String> = findings.into_iter().map(|f| f.id).collect();
        v.sort();
        v
    };
    // Stream 18 is older than stream 20's fix, yet not affected by it.
    assert_eq!(ids(node18.clone()), ["ALSA-18", "ALSA-ANY"]);
    // Outside modules: only the errata outside modules.
    assert_eq!(ids(node16), ["ALSA-16"]);
    // A module build whose label is not known meets every stream's errata.
    node18.module = None;
    assert_eq!(ids(node18), ["ALSA-18", "ALSA-20", "ALSA-ANY"]);
}

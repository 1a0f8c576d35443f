//! Every operating system is matched against its own advisories or named
//! as uncovered: an AlmaLinux 9 root built from the feed's own package
//! names and versions (compared with rpm's labelCompare over the same
//! records), Amazon Linux and Wolfi (no advisories: no verdict; Wolfi's own
//! once the mirror has them, never Alpine's), a package database that
//! cannot be read.

use std::path::{Path, PathBuf};

use serde_json::Value;
use vedette_tests::registry::shared;
use vedette_tests::rpm::{build_rpms, init_db, install_justdb, Spec};

use crate::vulns::{
    json_of as json, oracle_pairs, oracle_text, out, pairs_of as pairs, run, Mirror,
};

/// The oracle under Debian's own Python: python3-rpm is its module.
fn oracle(args: &[&str]) -> String {
    oracle_text("/usr/bin/python3", args)
}

/// `scan dir ROOT -q --policy FILE` with a policy file of `policy`.
fn scan_with_policy(tmp: &Path, mirror: &Mirror, root: &str, policy: &str) -> std::process::Output {
    let file = tmp.join("policy.toml");
    std::fs::write(&file, policy).unwrap();
    run(
        tmp,
        &mirror.env(),
        &[
            "scan",
            "dir",
            root,
            "-q",
            "--policy",
            &file.display().to_string(),
        ],
    )
}

const ALMA_9: &str = "NAME=\"AlmaLinux\"\nVERSION=\"9.4 (Seafoam Ocelot)\"\nID=\"almalinux\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.4\"\nPRETTY_NAME=\"AlmaLinux 9.4 (Seafoam Ocelot)\"\n";
const AMAZON_2023: &str = "NAME=\"Amazon Linux\"\nVERSION=\"2023\"\nID=\"amzn\"\nID_LIKE=\"fedora\"\nVERSION_ID=\"2023\"\nPRETTY_NAME=\"Amazon Linux 2023.6.20241212\"\n";

fn alma_zip() -> String {
    shared("feeds/osv/AlmaLinux/all.zip").display().to_string()
}

/// A root filesystem with `os_release` and an rpm database (written by
/// rpm itself) holding `packages`.
fn rpm_root(dir: &Path, os_release: &str, packages: &[Spec]) -> PathBuf {
    let rpms = build_rpms(dir, packages);
    let root = dir.join("root");
    let db = root.join("var/lib/rpm");
    init_db(&db);
    install_justdb(&db, &rpms);
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::write(root.join("etc/os-release"), os_release).unwrap();
    root
}

#[test]
fn an_almalinux_9_root_gets_exactly_the_errata_rpm_itself_says_apply() {
    let mirror = Mirror::start();
    let tmp = tempfile::tempdir().unwrap();
    // Real AlmaLinux 9 package names at versions the feed names, some in
    // module streams, some with an epoch.
    let picks: Vec<Spec> = oracle(&["rpm-pick", &alma_zip(), "AlmaLinux:9"])
        .lines()
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            Spec {
                name: c[0].into(),
                evr: c[1].into(),
                module: (c[2] != "-").then(|| c[2].to_owned()),
            }
        })
        .collect();
    assert!(picks.len() >= 30, "{picks:?}");
    assert!(picks.iter().any(|p| p.module.is_some()));
    assert!(picks.iter().any(|p| p.evr.contains(':')));
    let root = rpm_root(tmp.path(), ALMA_9, &picks);
    let root_s = root.display().to_string();

    let o = run(
        tmp.path(),
        &mirror.env(),
        &["scan", "dir", &root_s, "--format", "json", "-q"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let report = json(&o);
    let want = oracle_pairs(&oracle(&[
        "rpm",
        &root.join("var/lib/rpm").display().to_string(),
        &alma_zip(),
        "AlmaLinux:9",
    ]));
    assert!(want.len() >= 30, "the picks should be affected: {want:?}");
    assert!(
        want.iter().any(|(p, _)| p.starts_with("mariadb")),
        "a module stream's package has findings: {want:?}"
    );
    assert_eq!(pairs(&report), want);
    assert!(
        report.get("uncovered").is_none(),
        "{:#}",
        report["uncovered"]
    );
    assert!(report["verdict"].get("none").is_none());

    // Each ALSA carries AlmaLinux's rating, and its CVEs.
    let findings = report["findings"].as_array().unwrap();
    let rated: Vec<&Value> = findings
        .iter()
        .filter(|f| f["vendor_severity"]["vendor"] == "AlmaLinux")
        .collect();
    assert!(!rated.is_empty());
    for f in &rated {
        let label = f["vendor_severity"]["label"].as_str().unwrap();
        assert!(
            ["Critical", "Important", "Moderate", "Low"].contains(&label),
            "{f:#}"
        );
        assert!(
            f["summary"].as_str().unwrap().starts_with(label),
            "the rating is the summary's first word: {f:#}"
        );
    }
    assert!(findings
        .iter()
        .any(|f| f["related"].as_array().is_some_and(|r| !r.is_empty())));

    // The table a user reads names the errata and the rating.
    let o = run(tmp.path(), &mirror.env(), &["scan", "dir", &root_s, "-q"]);
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(table.contains("ALSA-"), "{table}");
    assert!(table.contains("AlmaLinux rates it"), "{table}");

    // `feed status` says what each distribution is matched against.
    let o = run(tmp.path(), &mirror.env(), &["feed", "status"]);
    let status = String::from_utf8_lossy(&o.stdout);
    let line = |distro: &str| {
        status
            .lines()
            .find(|l| l.trim_start().starts_with(distro))
            .unwrap_or_else(|| panic!("no {distro} line: {status}"))
            .to_owned()
    };
    // 5,637 records less 1,194 bug fix and enhancement errata (no CVE, no rating).
    assert!(
        line("AlmaLinux").contains("osv/AlmaLinux (4443 records)"),
        "{status}"
    );
    assert!(line("Amazon Linux").contains("none: uncovered"), "{status}");
    assert!(
        line("Wolfi").contains("osv/Wolfi (not downloaded yet)"),
        "{status}"
    );

    // Gated by AlmaLinux's own rating: some erratum is Important or worse.
    let o = scan_with_policy(
        tmp.path(),
        &mirror,
        &root_s,
        "gate_severity = \"vendor\"\nfail_on = \"high\"\n",
    );
    assert_eq!(o.status.code(), Some(1), "{}", out(&o));
}

#[test]
fn amazon_linux_has_no_advisories_so_the_gate_gives_no_verdict_unless_told() {
    let mirror = Mirror::start();
    let tmp = tempfile::tempdir().unwrap();
    let root = rpm_root(
        tmp.path(),
        AMAZON_2023,
        &[
            Spec::new("bash", "5.2.15-1.amzn2023.0.2"),
            Spec::new("openssl-libs", "1:3.0.8-1.amzn2023.0.16"),
        ],
    );
    let root_s = root.display().to_string();
    let o = run(
        tmp.path(),
        &mirror.env(),
        &[
            "scan",
            "dir",
            &root_s,
            "--format",
            "json",
            "-q",
            "--fail-on",
            "critical",
        ],
    );
    assert_eq!(o.status.code(), Some(4), "{}", out(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("Amazon Linux"), "{stderr}");
    assert!(stderr.contains("--allow-uncovered"), "{stderr}");
    let report = json(&o);
    let uncovered = report["uncovered"].as_array().unwrap();
    assert_eq!(uncovered.len(), 1, "{uncovered:?}");
    assert!(uncovered[0]["subject"]
        .as_str()
        .unwrap()
        .contains("Amazon Linux 2023"));
    assert_eq!(uncovered[0]["packages"], 2);
    assert!(report["verdict"]["none"]
        .as_str()
        .unwrap()
        .contains("Amazon Linux"));
    // Stored as a succeeded scan without a verdict.
    let h = json(&run(
        tmp.path(),
        &mirror.env(),
        &["history", "--format", "json"],
    ));
    let scan = &h.as_array().unwrap()[0];
    assert_eq!(scan["state"], "succeeded", "{scan:#}");
    assert!(scan["verdict_pass"].is_null(), "{scan:#}");

    // Accepted: judged (nothing matched), exit 0, and still said.
    let o = run(
        tmp.path(),
        &mirror.env(),
        &[
            "scan",
            "dir",
            &root_s,
            "-q",
            "--fail-on",
            "critical",
            "--allow-uncovered",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(table.contains("NOT COVERED Amazon Linux 2023"), "{table}");
    // The policy file says the same.
    let o = scan_with_policy(
        tmp.path(),
        &mirror,
        &root_s,
        "fail_on = \"critical\"\nallow_uncovered = true\n",
    );
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
}

#[test]
fn wolfi_packages_meet_no_alpine_advisory_and_a_missing_wolfi_feed_is_uncovered() {
    let mirror = Mirror::start();
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("wolfi");
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::create_dir_all(root.join("lib/apk/db")).unwrap();
    std::fs::copy(
        shared("fixtures/alpine-3.23/lib/apk/db/installed"),
        root.join("lib/apk/db/installed"),
    )
    .unwrap();
    std::fs::write(
        root.join("etc/os-release"),
        "ID=wolfi\nNAME=\"Wolfi\"\nPRETTY_NAME=\"Wolfi\"\nVERSION_ID=\"20230201\"\nHOME_URL=\"https://wolfi.dev\"\n",
    )
    .unwrap();
    let root_s = root.display().to_string();

    let o = run(
        tmp.path(),
        &mirror.env(),
        &["scan", "dir", &root_s, "--format", "json", "-q"],
    );
    assert_eq!(o.status.code(), Some(4), "{}", out(&o));
    let report = json(&o);
    assert!(
        report["findings"].as_array().unwrap().is_empty(),
        "no Alpine advisory on Wolfi: {:#}",
        report["findings"]
    );
    let uncovered = report["uncovered"].as_array().unwrap();
    assert_eq!(uncovered.len(), 1, "{uncovered:?}");
    assert_eq!(uncovered[0]["subject"], "Wolfi packages");
    assert!(uncovered[0]["reason"].as_str().unwrap().contains("404"));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("Wolfi"), "{stderr}");
    // The mirror was asked for Wolfi's feed, never used Alpine's for it.
    assert!(mirror
        .server
        .hits()
        .iter()
        .any(|h| h.path.ends_with("/Wolfi/all.zip") && h.status == 404));

    // Once the mirror carries Wolfi's advisories, they are what applies.
    let record = r#"{"id":"CGA-test-0001","modified":"2026-11-01T00:00:00Z","published":"2026-11-01T00:00:00Z","summary":"busybox: a test advisory","affected":[{"package":{"ecosystem":"Wolfi","name":"busybox"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.37.0-r31"}]}]}]}"#;
    mirror.add_osv("Wolfi", &[("CGA-test-0001.json", record)]);
    let o = run(
        tmp.path(),
        &mirror.env(),
        &["scan", "dir", &root_s, "--format", "json", "-q"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let report = json(&o);
    assert!(
        report.get("uncovered").is_none(),
        "{:#}",
        report["uncovered"]
    );
    let ids: Vec<(&str, &str, &str)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap(),
                f["package"].as_str().unwrap(),
                f["ecosystem"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        ids.contains(&("CGA-test-0001", "busybox", "Wolfi")),
        "{ids:?}"
    );
    assert!(ids.iter().all(|(_, _, e)| *e == "Wolfi"), "{ids:?}");
}

#[test]
fn a_package_database_that_cannot_be_read_is_no_verdict_not_an_empty_pass() {
    let mirror = Mirror::start();
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("sles");
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::create_dir_all(root.join("usr/lib/sysimage/rpm")).unwrap();
    std::fs::write(
        root.join("etc/os-release"),
        "NAME=\"SLES\"\nVERSION=\"15-SP5\"\nVERSION_ID=\"15.5\"\nPRETTY_NAME=\"SUSE Linux Enterprise Server 15 SP5\"\nID=\"sles\"\n",
    )
    .unwrap();
    let db = std::fs::read(shared("fixtures/rpmdb/sle15-bci-ndb/Packages.db")).unwrap();
    std::fs::write(root.join("usr/lib/sysimage/rpm/Packages.db"), &db[..4096]).unwrap();
    let o = run(
        tmp.path(),
        &mirror.env(),
        &[
            "scan",
            "dir",
            &root.display().to_string(),
            "-q",
            "--fail-on",
            "critical",
        ],
    );
    assert_eq!(o.status.code(), Some(4), "{}", out(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("/usr/lib/sysimage/rpm/Packages.db"),
        "names the database: {stderr}"
    );
}

//! Findings, the gate and the feeds, against `../shared/feeds` served by a
//! local HTTP server, compared with independent evaluations of the same
//! records (`tests/oracles/osv_eval.py`: dpkg, Python's packaging, SemVer).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use vedette_tests::feedserver::{Fault, FeedServer};
use vedette_tests::registry::{shared, Registry};

use crate::scan::{push_lang_image, validate};

/// A feed mirror: `../shared/feeds` (linked, not copied) plus an EPSS file
/// written here, under a root the test can swap.
pub(crate) struct Mirror {
    pub(crate) server: FeedServer,
    root: tempfile::TempDir,
}

/// EPSS scores for two CVEs of the Debian fixture. Invented for the test
/// (the shared feeds have no EPSS file): they only need to reach the report.
const EPSS: &str = "#model_version:v2025.03.14,score_date:2026-11-27T00:00:00+0000\ncve,epss,percentile\nCVE-2026-13221,0.50000,0.97000\nCVE-2026-7010,0.01000,0.40000\n";

fn link_shared(root: &Path) {
    for d in ["kev", "nvd"] {
        std::os::unix::fs::symlink(shared(&format!("feeds/{d}")), root.join(d)).unwrap();
    }
    // One link per ecosystem, so a test can add a feed beside them.
    std::fs::create_dir_all(root.join("osv")).unwrap();
    for e in std::fs::read_dir(shared("feeds/osv")).unwrap() {
        let e = e.unwrap();
        std::os::unix::fs::symlink(e.path(), root.join("osv").join(e.file_name())).unwrap();
    }
    std::fs::create_dir_all(root.join("epss")).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, EPSS.as_bytes()).unwrap();
    std::fs::write(
        root.join("epss/epss_scores-current.csv.gz"),
        gz.finish().unwrap(),
    )
    .unwrap();
}

impl Mirror {
    pub(crate) fn start() -> Self {
        let root = tempfile::tempdir().unwrap();
        link_shared(root.path());
        Mirror {
            server: FeedServer::start(root.path()),
            root,
        }
    }

    /// Serves `records` (file name, JSON) as `osv/<ecosystem>/all.zip`.
    pub(crate) fn add_osv(&self, ecosystem: &str, records: &[(&str, &str)]) {
        write_zip(
            &self.root.path().join(format!("osv/{ecosystem}/all.zip")),
            records,
        );
    }

    pub(crate) fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("VEDETTE_FEED_URL", self.server.url("osv")),
            (
                "VEDETTE_KEV_URL",
                self.server.url("kev/known_exploited_vulnerabilities.json"),
            ),
            (
                "VEDETTE_EPSS_URL",
                self.server.url("epss/epss_scores-current.csv.gz"),
            ),
            (
                "VEDETTE_NVD_URL",
                self.server.url("nvd/nvdcve-2.0-sample.json.gz"),
            ),
        ]
    }
}

/// The CLI on `data` with `env`, no keyring and no Docker config.
pub(crate) fn command(data: &Path, env: &[(&str, String)], args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vedette"));
    c.arg("--data-dir").arg(data).args(args);
    // Tests run side by side: each `vedette serve` on a port of its own.
    c.env("VEDETTE_API", "127.0.0.1:0");
    // No keyring unless the test gives a session bus.
    c.env(
        "DBUS_SESSION_BUS_ADDRESS",
        format!("unix:path={}/no-bus", data.display()),
    );
    // No config file of the machine's user: a test gives its own.
    c.env("VEDETTE_CONFIG", data.join("no-config.toml"));
    for (k, v) in env {
        c.env(k, v);
    }
    c.env("DOCKER_CONFIG", data.join("no-docker-config"))
        .env_remove("VEDETTE_DATA_DIR");
    c
}

/// Runs [`command`] to its end.
pub(crate) fn run(data: &Path, env: &[(&str, String)], args: &[&str]) -> Output {
    command(data, env, args).output().expect("run vedette")
}

/// Standard output and error, for assertion messages.
pub(crate) fn out(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub(crate) fn json_of(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}{}",
            String::from_utf8_lossy(&o.stdout),
            stderr(o)
        )
    })
}

/// What `tests/oracles/osv_eval.py` prints, run by `python`.
pub(crate) fn oracle_text(python: &str, args: &[&str]) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../tests/oracles/osv_eval.py");
    let out = Command::new(python)
        .arg(script)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run {python}: {e}"));
    assert!(
        out.status.success(),
        "oracle failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The oracle's (package, advisory id) pairs.
pub(crate) fn oracle_pairs(text: &str) -> BTreeSet<(String, String)> {
    text.lines()
        .map(|l| {
            let (p, id) = l.split_once('\t').unwrap();
            (p.to_owned(), id.to_owned())
        })
        .collect()
}

fn oracle(args: &[&str]) -> BTreeSet<(String, String)> {
    oracle_pairs(&oracle_text("python3", args))
}

fn path_str(p: PathBuf) -> String {
    p.display().to_string()
}

/// (package, advisory id) pairs of a CycloneDX BOM's vulnerabilities.
fn cdx_pairs(bom: &Value) -> BTreeSet<(String, String)> {
    let names: std::collections::HashMap<&str, &str> = bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| Some((c["bom-ref"].as_str()?, c["name"].as_str()?)))
        .collect();
    bom["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|v| {
            let id = v["id"].as_str().unwrap().to_owned();
            v["affects"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| (names[a["ref"].as_str().unwrap()].to_owned(), id.clone()))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Every oracle pair is a finding (by id or alias) of that package, and
/// every finding's id is an oracle pair: nothing missed, nothing extra.
fn assert_same(report: &Value, want: &BTreeSet<(String, String)>, filter: impl Fn(&Value) -> bool) {
    let findings: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| filter(f))
        .collect();
    let got: BTreeSet<(String, String)> = findings
        .iter()
        .map(|f| {
            (
                f["package"].as_str().unwrap().to_owned(),
                f["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let extra: Vec<_> = got.difference(want).collect();
    assert!(
        extra.is_empty(),
        "findings the independent evaluation does not have: {extra:?}"
    );
    for (pkg, id) in want {
        let covered = findings.iter().any(|f| {
            f["package"] == pkg.as_str()
                && (f["id"] == id.as_str()
                    || f["aliases"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|a| a == id.as_str()))
        });
        assert!(
            covered,
            "{pkg} {id}: the independent evaluation finds it, vedette does not"
        );
    }
}

#[test]
fn debian_fixture_findings_are_exactly_what_dpkg_says_over_the_same_records() {
    let mirror = Mirror::start();
    let tmp = tempfile::tempdir().unwrap();
    let root = path_str(shared("fixtures/debian-12-minbase"));
    let out = run(
        tmp.path(),
        &mirror.env(),
        &["scan", "dir", &root, "--format", "cyclonedx", "-q"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let bom = json_of(&out);
    let want = oracle(&[
        "debian",
        &path_str(shared("fixtures/debian-12-minbase/var/lib/dpkg/status")),
        &path_str(shared("feeds/osv/Debian/all.zip")),
        "12",
    ]);
    assert_eq!(
        want.len(),
        16,
        "the fixtures README says 16 pairs: {want:?}"
    );
    assert_eq!(cdx_pairs(&bom), want);
    let file = tmp.path().join("bom.json");
    std::fs::write(&file, &out.stdout).unwrap();
    validate("cyclonedx", &file);

    // The same scan as JSON: severity from NVD where Debian has none, EPSS
    // and the risk reasons next to each score.
    let out = run(
        tmp.path(),
        &mirror.env(),
        &["scan", "dir", &root, "--format", "json", "-q"],
    );
    let report = json_of(&out);
    let f = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "DEBIAN-CVE-2026-13221")
        .expect("DEBIAN-CVE-2026-13221 in the report");
    assert_eq!(f["severity_source"]["kind"], "nvd", "{f:#}");
    assert_eq!(f["severity"], "critical");
    assert_eq!(f["fixed_version"], "5.36.0-7+deb12u4");
    assert_eq!(f["epss"], 0.5);
    let reasons: Vec<&str> = f["risk_factors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["reason"].as_str().unwrap())
        .collect();
    assert!(
        reasons.iter().any(|r| r.contains("EPSS 50.0%")),
        "{reasons:?}"
    );
    let risks: Vec<f64> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["risk"].as_f64().unwrap())
        .collect();
    assert!(
        risks.windows(2).all(|w| w[0] >= w[1]),
        "sorted by risk: {risks:?}"
    );
    assert!(report["stale_feeds"].as_array().unwrap().is_empty());
    assert_eq!(report["exposure"], "internal");

    // Exposure is the target's: set once, remembered, and it raises the risk
    // of what the network can reach.
    let internet = json_of(&run(
        tmp.path(),
        &mirror.env(),
        &[
            "scan",
            "dir",
            &root,
            "--format",
            "json",
            "-q",
            "--exposure",
            "internet",
        ],
    ));
    let again = json_of(&run(
        tmp.path(),
        &mirror.env(),
        &["scan", "dir", &root, "--format", "json", "-q"],
    ));
    assert_eq!(again["exposure"], "internet");
    let risk_of = |r: &Value| {
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == "DEBIAN-CVE-2026-13221")
            .unwrap()["risk"]
            .as_f64()
            .unwrap()
    };
    assert!(
        risk_of(&internet) > risk_of(&report),
        "{} vs {}",
        risk_of(&internet),
        risk_of(&report)
    );
    assert_eq!(risk_of(&again), risk_of(&internet));
}

#[test]
fn the_lang_image_matches_an_independent_evaluation_and_fails_the_gate_on_high() {
    let mirror = Mirror::start();
    let reg = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let image = push_lang_image(&reg, tmp.path());
    let out = run(
        tmp.path(),
        &mirror.env(),
        &[
            "scan",
            "image",
            &image,
            "--insecure-registry",
            "--format",
            "json",
            "-q",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let report = json_of(&out);
    let lang = oracle(&[
        "lang",
        &path_str(shared("fixtures/lang")),
        &path_str(shared("feeds/osv")),
    ]);
    let count = |p: &str| lang.iter().filter(|(n, _)| n == p).count();
    assert_eq!(
        (
            count("stdlib"),
            count("urllib3"),
            count("Jinja2"),
            count("lodash")
        ),
        (80, 7, 2, 1)
    );
    assert_same(&report, &lang, |f| f["ecosystem"] != "Debian");
    let debian = oracle(&[
        "debian",
        &path_str(shared("fixtures/debian-12-minbase/var/lib/dpkg/status")),
        &path_str(shared("feeds/osv/Debian/all.zip")),
        "12",
    ]);
    assert_same(&report, &debian, |f| f["ecosystem"] == "Debian");

    // The gate: high or worse fails the lang image…
    let out = run(
        tmp.path(),
        &mirror.env(),
        &[
            "scan",
            "image",
            &image,
            "--insecure-registry",
            "--fail-on",
            "high",
            "--format",
            "sarif",
            "-o",
            "report.sarif",
            "-q",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("policy failed"), "{}", stderr(&out));
    let sarif_path = std::env::current_dir().unwrap().join("report.sarif");
    let validator =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../tests/oracles/validate-sarif.js");
    let v = Command::new("node")
        .arg(&validator)
        .arg(&sarif_path)
        .output()
        .expect("node");
    assert!(
        v.status.success(),
        "SARIF invalid: {}",
        String::from_utf8_lossy(&v.stderr)
    );
    let sarif: Value = serde_json::from_slice(&std::fs::read(&sarif_path).unwrap()).unwrap();
    std::fs::remove_file(&sarif_path).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), report["findings"].as_array().unwrap().len());
    assert!(results.iter().any(|r| r["ruleId"] == "RUSTSEC-2021-0003"
        && r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            == "app/rust/Cargo.lock"));

    // …and passes a clean directory.
    let clean = tmp.path().join("clean");
    std::fs::create_dir_all(&clean).unwrap();
    std::fs::write(
        clean.join("requirements.txt"),
        "Jinja2==3.1.4\nrequests==2.32.3\n",
    )
    .unwrap();
    let out = run(
        tmp.path(),
        &mirror.env(),
        &["scan", "dir", &path_str(clean), "--fail-on", "high", "-q"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        stderr(&out)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("0 findings"));
}

#[test]
fn a_stale_feed_is_named_and_the_gate_refuses_it_unless_allowed() {
    let tmp = tempfile::tempdir().unwrap();
    let none = [
        ("VEDETTE_KEV_URL", "none".to_owned()),
        ("VEDETTE_EPSS_URL", "none".into()),
        ("VEDETTE_NVD_URL", "none".into()),
    ];
    let out = run(
        tmp.path(),
        &none,
        &["feed", "import", &path_str(shared("feeds"))],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("osv/Debian") && text.contains("6363 records"),
        "{text}"
    );
    assert!(
        text.contains("kev") && text.contains("nvd/nvdcve-2.0-sample.json.gz"),
        "{text}"
    );
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let root = path_str(shared("fixtures/debian-12-minbase"));
    let stale = [
        "scan",
        "dir",
        &root,
        "--offline",
        "--feed-max-age",
        "1s",
        "--fail-on",
        "critical",
        "-q",
    ];
    let out = run(tmp.path(), &none, &stale);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("osv/Debian") && stderr(&out).contains("--allow-stale"),
        "{}",
        stderr(&out)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("STALE"));
    let mut allowed = stale.to_vec();
    allowed.push("--allow-stale");
    let out = run(tmp.path(), &none, &allowed);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a verdict (critical findings from NVD): {}",
        stderr(&out)
    );
    let out = run(
        tmp.path(),
        &none,
        &["feed", "status", "--feed-max-age", "1s"],
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("STALE"));

    // Online, with a mirror that cannot serve the feed: still no verdict,
    // and the message says why the feed could not be brought up to date.
    let server = FeedServer::start(shared("feeds"));
    server.fault("/osv/Debian/all.zip", Fault::Unavailable, 10);
    let mut env = none.to_vec();
    env.push(("VEDETTE_FEED_URL", server.url("osv")));
    let online: Vec<&str> = stale
        .iter()
        .filter(|a| **a != "--offline")
        .copied()
        .collect();
    let out = run(tmp.path(), &env, &online);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("feed osv/Debian not updated") && stderr(&out).contains("503"),
        "{}",
        stderr(&out)
    );
}

/// Writes an OSV export zip of `records` (name, JSON text) with Python's zipfile.
pub(crate) fn write_zip(path: &Path, records: &[(&str, &str)]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (name, body) in records {
        std::fs::write(dir.path().join(name), body).unwrap();
    }
    let script = "import sys, os, zipfile\nz = zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED)\nfor n in sorted(os.listdir(sys.argv[2])):\n    z.write(os.path.join(sys.argv[2], n), n)\nz.close()";
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(path)
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn pypi_record(id: &str, extra: &str, ecosystem: &str, fixed: &str) -> String {
    format!(
        r#"{{"id":"{id}","modified":"2024-01-01T00:00:00Z","published":"2024-01-01T00:00:00Z",{extra}"summary":"{id} in demo-pkg","affected":[{{"package":{{"ecosystem":"{ecosystem}","name":"demo-pkg"}},"ranges":[{{"type":"ECOSYSTEM","events":[{{"introduced":"0"}},{{"fixed":"{fixed}"}}]}}]}}]}}"#
    )
}

#[test]
fn withdrawn_malformed_unknown_ecosystem_and_unreadable_records_are_skipped_and_counted() {
    let root = tempfile::tempdir().unwrap();
    let good = pypi_record("TEST-GOOD-1", "", "PyPI", "2.0");
    let withdrawn = pypi_record(
        "TEST-WITHDRAWN-1",
        r#""withdrawn":"2024-02-01T00:00:00Z","#,
        "PyPI",
        "2.0",
    );
    let hackage = pypi_record("TEST-HACKAGE-1", "", "Hackage", "2.0");
    let unreadable = pypi_record("TEST-BADVERSION-1", "", "PyPI", "not!a!version");
    write_zip(
        &root.path().join("osv/PyPI/all.zip"),
        &[
            ("TEST-GOOD-1.json", &good),
            ("TEST-WITHDRAWN-1.json", &withdrawn),
            ("TEST-HACKAGE-1.json", &hackage),
            ("TEST-BADVERSION-1.json", &unreadable),
            (
                "TEST-MALFORMED-1.json",
                "{\"id\": \"TEST-MALFORMED-1\", \"affected\": [tru",
            ),
        ],
    );
    let server = FeedServer::start(root.path());
    let env = [
        ("VEDETTE_FEED_URL", server.url("osv")),
        ("VEDETTE_KEV_URL", "none".to_owned()),
        ("VEDETTE_EPSS_URL", "none".into()),
        ("VEDETTE_NVD_URL", "none".into()),
    ];
    let tmp = tempfile::tempdir().unwrap();
    let app = tmp.path().join("app");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::write(app.join("requirements.txt"), "demo-pkg==1.0\n").unwrap();
    let out = run(
        tmp.path(),
        &env,
        &["scan", "dir", &path_str(app), "--format", "json", "-q"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let ids: Vec<String> = json_of(&out)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, ["TEST-GOOD-1"]);
    let status = json_of(&run(
        tmp.path(),
        &env,
        &["feed", "status", "--format", "json"],
    ));
    let pypi = status
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "osv/PyPI")
        .unwrap();
    // The Hackage and unreadable records are kept (their other entries could
    // matter) but their entries are skipped; the withdrawn and malformed ones are not kept.
    assert_eq!(pypi["records"], 3, "{pypi:#}");
    let skipped = &pypi["skipped"];
    assert_eq!(skipped["withdrawn"], 1, "{skipped}");
    assert_eq!(skipped["malformed record"], 1, "{skipped}");
    assert_eq!(skipped["unknown ecosystem Hackage"], 1, "{skipped}");
    assert_eq!(skipped["unparsable pep440 version"], 1, "{skipped}");
}

fn feed_status(data: &Path, env: &[(&str, String)], name: &str) -> Value {
    let status = json_of(&run(data, env, &["feed", "status", "--format", "json"]));
    status
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .cloned()
        .unwrap_or(Value::Null)
}

#[test]
fn a_corrupt_zip_or_a_cut_download_leaves_the_index_as_it_was_and_a_retry_recovers() {
    let root = tempfile::tempdir().unwrap();
    let zip = root.path().join("osv/PyPI/all.zip");
    std::fs::create_dir_all(zip.parent().unwrap()).unwrap();
    std::fs::copy(shared("feeds/osv/PyPI/all.zip"), &zip).unwrap();
    let server = FeedServer::start(root.path());
    let env = [
        ("VEDETTE_FEED_URL", server.url("osv")),
        ("VEDETTE_KEV_URL", "none".to_owned()),
        ("VEDETTE_EPSS_URL", "none".into()),
        ("VEDETTE_NVD_URL", "none".into()),
    ];
    let tmp = tempfile::tempdir().unwrap();
    let out = run(tmp.path(), &env, &["feed", "update", "-e", "PyPI"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let before = feed_status(tmp.path(), &env, "osv/PyPI");
    assert_eq!(before["records"], 2651);

    // A new release that is not a zip at all (the first 100 kB of one).
    let bytes = std::fs::read(shared("feeds/osv/PyPI/all.zip")).unwrap();
    std::fs::write(&zip, &bytes[..100_000]).unwrap();
    let out = run(tmp.path(), &env, &["feed", "update", "-e", "PyPI"]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("FAILED") && text.contains("not a valid zip archive"),
        "{text}"
    );
    let after = feed_status(tmp.path(), &env, "osv/PyPI");
    assert_eq!(
        (&after["records"], &after["version"]),
        (&before["records"], &before["version"])
    );

    // A release whose every download breaks off halfway.
    std::fs::write(&zip, &bytes).unwrap();
    std::fs::write(root.path().join("touch"), b"").unwrap();
    server.fault("osv/PyPI/all.zip", Fault::CutAfter(bytes.len() / 2), 4);
    let out = run(tmp.path(), &env, &["feed", "update", "-e", "PyPI"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("broke off"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(
        feed_status(tmp.path(), &env, "osv/PyPI")["version"],
        before["version"]
    );
    // Each attempt asked again from the start: the index is untouched by the halves.
    let scan_ok = run(
        tmp.path(),
        &env,
        &[
            "scan",
            "dir",
            &path_str(shared("fixtures/lang/app/py")),
            "--offline",
            "--format",
            "json",
            "-q",
        ],
    );
    assert_eq!(json_of(&scan_ok)["findings"].as_array().unwrap().len(), 13);

    // One cut, then a whole download: the retry lands it.
    server.fault("osv/PyPI/all.zip", Fault::CutAfter(1000), 1);
    server.fault("osv/PyPI/all.zip", Fault::Unavailable, 1);
    let out = run(tmp.path(), &env, &["feed", "update", "-e", "PyPI"]);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        stderr(&out)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("updated: 2651 records"));
}

#[test]
fn a_second_update_asks_conditionally_and_changes_nothing() {
    let mirror = Mirror::start();
    let tmp = tempfile::tempdir().unwrap();
    let out = run(
        tmp.path(),
        &mirror.env(),
        &["feed", "update", "-e", "crates.io"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let first = feed_status(tmp.path(), &mirror.env(), "osv/crates.io");
    let out = run(
        tmp.path(),
        &mirror.env(),
        &["feed", "update", "-e", "crates.io"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("osv/crates.io            unchanged"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let hits: Vec<_> = mirror
        .server
        .hits()
        .into_iter()
        .filter(|h| h.path == "/osv/crates.io/all.zip")
        .collect();
    assert_eq!(hits.len(), 2);
    assert!(
        !hits[0].conditional && hits[1].conditional && hits[1].status == 304,
        "{hits:?}"
    );
    let second = feed_status(tmp.path(), &mirror.env(), "osv/crates.io");
    assert_eq!(first["updated_at"], second["updated_at"]);
    assert_eq!(first["version"], second["version"]);
}

pub(crate) fn pairs_of(report: &Value) -> BTreeSet<(String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["package"].as_str().unwrap().to_owned(),
                f["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn an_sbom_is_matched_like_the_target_it_describes() {
    let mirror = Mirror::start();
    let tmp = tempfile::tempdir().unwrap();
    let root = path_str(shared("fixtures/debian-12-minbase"));
    let direct = json_of(&run(
        tmp.path(),
        &mirror.env(),
        &["scan", "dir", &root, "--format", "json", "-q"],
    ));
    assert_eq!(direct["findings"].as_array().unwrap().len(), 16);
    let ours = tmp.path().join("ours.cdx.json");
    let out = run(
        tmp.path(),
        &mirror.env(),
        &[
            "scan",
            "dir",
            &root,
            "--packages-only",
            "--format",
            "cyclonedx",
            "-o",
            &path_str(ours.clone()),
            "-q",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let syft = vedette_tests::require("syft");
    let mut docs = vec![ours];
    for (fmt, file) in [
        ("syft-json", "syft.json"),
        ("spdx-json", "syft.spdx.json"),
        ("cyclonedx-json", "syft.cdx.json"),
    ] {
        let path = tmp.path().join(file);
        let o = Command::new(&syft)
            .arg(format!("dir:{root}"))
            .arg("-o")
            .arg(format!("{fmt}={}", path.display()))
            .env("SYFT_CHECK_FOR_APP_UPDATE", "false")
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "syft: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        docs.push(path);
    }
    for doc in docs {
        let out = run(
            tmp.path(),
            &mirror.env(),
            &[
                "scan",
                "sbom",
                &path_str(doc.clone()),
                "--format",
                "json",
                "-q",
            ],
        );
        assert!(out.status.success(), "{}: {}", doc.display(), stderr(&out));
        assert_eq!(
            pairs_of(&json_of(&out)),
            pairs_of(&direct),
            "{}",
            doc.display()
        );
    }
    // An SBOM piped in is judged the same.
    let o = command(
        tmp.path(),
        &mirror.env(),
        &["scan", "sbom", "-", "--format", "json", "-q"],
    )
    .stdin(std::fs::File::open(tmp.path().join("syft.cdx.json")).unwrap())
    .output()
    .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(pairs_of(&json_of(&o)), pairs_of(&direct), "SBOM piped in");
    let junk = tmp.path().join("junk.json");
    std::fs::write(&junk, "{\"hello\": 1}").unwrap();
    let out = run(
        tmp.path(),
        &mirror.env(),
        &["scan", "sbom", &path_str(junk), "-q"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("CycloneDX, SPDX or syft"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn policy_exceptions_pass_the_gate_until_they_expire_and_round_trip_through_openvex() {
    let mirror = Mirror::start();
    let tmp = tempfile::tempdir().unwrap();
    let root = path_str(shared("fixtures/debian-12-minbase"));
    let policy = tmp.path().join("policy.toml");
    let write = |expires: &str| {
        std::fs::write(
            &policy,
            format!("fail_on = \"critical\"\n\n[[exception]]\nid = \"CVE-2026-13221\"\npackage = \"perl-base\"\nreason = \"no untrusted input reaches perl here\"\nexpires = \"{expires}\"\n\n[[exception]]\nid = \"DEBIAN-CVE-2026-42496\"\nreason = \"perl is only used by the package manager\"\nexpires = \"{expires}\"\n"),
        )
        .unwrap();
    };
    let gate = |p: &Path| {
        run(
            tmp.path(),
            &mirror.env(),
            &[
                "scan",
                "dir",
                &root,
                "--policy",
                &path_str(p.to_owned()),
                "-q",
            ],
        )
    };
    write("2999-12-31");
    let out = gate(&policy);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        stderr(&out)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("[excepted: no untrusted input"));

    let vex = tmp.path().join("vex.json");
    let out = run(
        tmp.path(),
        &[],
        &[
            "policy",
            "export-vex",
            &path_str(policy.clone()),
            "-o",
            &path_str(vex.clone()),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: Value = serde_json::from_slice(&std::fs::read(&vex).unwrap()).unwrap();
    assert_eq!(doc["statements"].as_array().unwrap().len(), 2);
    let second = tmp.path().join("second.toml");
    std::fs::write(&second, "fail_on = \"critical\"\n").unwrap();
    let out = run(
        tmp.path(),
        &[],
        &[
            "policy",
            "import-vex",
            &path_str(vex),
            "--into",
            &path_str(second.clone()),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(gate(&second).status.code(), Some(0));

    write("2020-01-01");
    let out = gate(&policy);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("expired on 2020-01-01"));

    std::fs::write(&policy, "fail_on = \"severe\"\n").unwrap();
    let out = gate(&policy);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("policy.toml") && stderr(&out).contains("severe"),
        "{}",
        stderr(&out)
    );
}

/// A loopback port that accepts connections and never answers; counts them.
struct Stall {
    port: u16,
    accepted: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Stall {
    fn start() -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let n = std::sync::Arc::clone(&accepted);
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for conn in listener.incoming().flatten() {
                n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                held.push(conn); // kept open, never answered
            }
        });
        Stall { port, accepted }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}/{path}", self.port)
    }

    fn accepted(&self) -> usize {
        self.accepted.load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[test]
fn unreachable_enrichment_sources_cost_one_try_and_the_scan_says_what_is_missing() {
    let mirror = Mirror::start();
    let stall = Stall::start();
    // A port that refuses: bound, then closed.
    let refused = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dir = tempfile::tempdir().unwrap();
    let env = vec![
        ("VEDETTE_FEED_URL", mirror.server.url("osv")),
        (
            "VEDETTE_KEV_URL",
            format!("http://127.0.0.1:{refused}/known_exploited_vulnerabilities.json"),
        ),
        ("VEDETTE_EPSS_URL", stall.url("epss_scores-current.csv.gz")),
        (
            "VEDETTE_NVD_URL",
            (2024..=2026)
                .map(|y| stall.url(&format!("nvdcve-2.0-{y}.json.gz")))
                .collect::<Vec<_>>()
                .join(","),
        ),
        // A stalled request ends here (the default is minutes).
        ("VEDETTE_HTTP_TIMEOUT", "2s".to_owned()),
    ];
    let fixture = shared("fixtures/debian-12-minbase");
    let scan = || {
        run(
            dir.path(),
            &env,
            &["scan", "dir", fixture.to_str().unwrap(), "--format", "json"],
        )
    };
    let first = scan();
    assert_eq!(first.status.code(), Some(0), "{}", out(&first));
    let report = json_of(&first);
    assert_eq!(
        report["findings"].as_array().unwrap().len(),
        16,
        "the findings are there without the enrichment"
    );
    let warnings = report["warnings"].to_string();
    for missing in [
        "CISA KEV is not in the index",
        "EPSS is not in the index",
        "NVD is not in the index",
    ] {
        assert!(warnings.contains(missing), "{missing}: {warnings}");
    }
    assert!(warnings.contains("feed kev not updated"), "{warnings}");
    // One connection to EPSS and one to NVD (its first file; the others
    // were not tried): no retries, not one per file.
    assert_eq!(stall.accepted(), 2, "{warnings}");

    // Within the hour, the failed sources are not tried again.
    let second = scan();
    assert_eq!(second.status.code(), Some(0), "{}", out(&second));
    assert_eq!(stall.accepted(), 2, "a second scan left the sources alone");
    let warnings = json_of(&second)["warnings"].to_string();
    assert!(warnings.contains("it is tried again after"), "{warnings}");
    // `feed status` names the failed sources and when they are tried again.
    let status = run(dir.path(), &env, &["feed", "status"]);
    let text = out(&status);
    for source in ["kev", "epss", "nvd"] {
        assert!(
            text.lines()
                .any(|l| l.contains(source) && l.contains("tried again after")),
            "{source}: {text}"
        );
    }
}

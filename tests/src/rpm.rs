//! rpm databases written by Debian's rpm 4.18: empty packages built with
//! `rpmbuild`, installed with `rpm --justdb` into an sqlite database, and
//! `rpm -qa` as the reference reader.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::require;

/// (name, epoch, version, release, arch, source rpm), as `rpm -qa` and the
/// fixtures' `expected.tsv` list them (epoch 0 when none).
pub type RpmRow = (String, i64, String, String, String, String);

/// One tab-separated row of six columns.
pub fn parse_row(line: &str) -> RpmRow {
    let c: Vec<&str> = line.split('\t').collect();
    assert_eq!(c.len(), 6, "not six columns: {line}");
    (
        c[0].into(),
        c[1].parse().unwrap_or_else(|_| panic!("epoch in {line}")),
        c[2].into(),
        c[3].into(),
        c[4].into(),
        c[5].into(),
    )
}

/// One package to build.
#[derive(Debug, Clone)]
pub struct Spec {
    pub name: String,
    /// `[epoch:]version-release`
    pub evr: String,
    /// `MODULARITYLABEL`, for a module stream's package:
    /// `nodejs:18:9020020230519000000:rhel9`.
    pub module: Option<String>,
}

impl Spec {
    pub fn new(name: &str, evr: &str) -> Self {
        Spec {
            name: name.into(),
            evr: evr.into(),
            module: None,
        }
    }
}

/// Builds an empty noarch package per spec with `rpmbuild`, in `dir`;
/// returns the package files in that order.
pub fn build_rpms(dir: &Path, packages: &[Spec]) -> Vec<PathBuf> {
    let rpmbuild = require("rpmbuild");
    let top = dir.join("rpmbuild");
    std::fs::create_dir_all(top.join("SPECS")).expect("setting up an rpm database for a test");
    packages
        .iter()
        .map(|Spec { name, evr, module }| {
            let (epoch, vr) = match evr.split_once(':') {
                Some((e, vr)) => (format!("Epoch: {e}\n"), vr),
                None => (String::new(), evr.as_str()),
            };
            let module = module
                .as_ref()
                .map(|m| format!("ModularityLabel: {m}\n"))
                .unwrap_or_default();
            let (version, release) = vr
                .rsplit_once('-')
                .unwrap_or_else(|| panic!("{evr}: no release"));
            let spec = top.join(format!("SPECS/{name}.spec"));
            std::fs::write(
                &spec,
                format!(
                    "Name: {name}\n{epoch}Version: {version}\nRelease: {release}\n{module}Summary: a test package\nLicense: MIT\nBuildArch: noarch\n%description\nEmpty.\n%files\n"
                ),
            )
            .expect("setting up an rpm database for a test");
            let out = Command::new(&rpmbuild)
                .args(["--quiet", "-bb", "--define"])
                .arg(format!("_topdir {}", top.display()))
                .arg(&spec)
                .output()
                .expect("setting up an rpm database for a test");
            assert!(
                out.status.success(),
                "rpmbuild {name} {evr}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            top.join(format!("RPMS/noarch/{name}-{vr}.noarch.rpm"))
        })
        .collect()
}

fn rpm_in(db: &Path) -> Command {
    let mut c = Command::new(require("rpm"));
    c.arg("--dbpath")
        .arg(db)
        .args(["--define", "_db_backend sqlite"]);
    c
}

/// An empty sqlite rpm database in `db`.
pub fn init_db(db: &Path) {
    std::fs::create_dir_all(db).expect("setting up an rpm database for a test");
    let out = rpm_in(db)
        .arg("--initdb")
        .output()
        .expect("setting up an rpm database for a test");
    assert!(
        out.status.success(),
        "rpm --initdb: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Records `rpms` as installed in the database in `db` (no files written).
pub fn install_justdb(db: &Path, rpms: &[PathBuf]) {
    let out = rpm_in(db)
        .args(["-i", "--justdb", "--nodeps", "--ignorearch", "--ignoreos"])
        .args(rpms)
        .output()
        .expect("setting up an rpm database for a test");
    assert!(
        out.status.success(),
        "rpm -i --justdb: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `rpm -qa` of the database in `dir` (`backend`: `sqlite`, `bdb_ro`), on
/// a copy: rpm may write beside a database it opens.
pub fn rpm_qa(dir: &Path, backend: &str) -> BTreeSet<RpmRow> {
    let copy = tempfile::tempdir().expect("setting up an rpm database for a test");
    for e in std::fs::read_dir(dir).expect("setting up an rpm database for a test") {
        let e = e.expect("setting up an rpm database for a test");
        if e.file_type()
            .expect("setting up an rpm database for a test")
            .is_file()
        {
            std::fs::copy(e.path(), copy.path().join(e.file_name()))
                .expect("setting up an rpm database for a test");
        }
    }
    let out = Command::new(require("rpm"))
        .arg("--dbpath")
        .arg(copy.path())
        .args(["--define", &format!("_db_backend {backend}"), "-qa", "--qf"])
        .arg("%{NAME}\\t%{EPOCHNUM}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\t%{SOURCERPM}\\n")
        .output()
        .expect("setting up an rpm database for a test");
    assert!(
        out.status.success(),
        "rpm -qa: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("setting up an rpm database for a test")
        .lines()
        .filter(|l| !l.starts_with("gpg-pubkey\t"))
        .map(parse_row)
        .collect()
}

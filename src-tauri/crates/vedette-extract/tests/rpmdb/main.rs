//! rpm's package database in its three formats, read from real databases
//! (`../shared/fixtures/rpmdb/`, from real images) and from databases
//! Debian's rpm 4.18 writes in the test; every package list checked against
//! the one published with the fixture and, where rpm can read the format,
//! against `rpm -qa` on the same file.

#![allow(clippy::unwrap_used)] // a test that cannot read its fixtures should stop there

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use vedette_tests::registry::shared;
use vedette_tests::rpm::{build_rpms, init_db, install_justdb, parse_row, rpm_qa, RpmRow, Spec};

use vedette_extract::os::rpm::{parse_rpmdb_legacy, parse_rpmdb_sqlite, parse_rpmdb_sqlite_wal};
use vedette_extract::{catalog, catalogers, Files};
use vedette_model::Ecosystem;

fn fixture(rel: &str) -> PathBuf {
    shared("fixtures/rpmdb").join(rel)
}

fn expected(dir: &str) -> BTreeSet<RpmRow> {
    let text = std::fs::read_to_string(fixture(dir).join("expected.tsv")).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(parse_row)
        .collect()
}

fn rows(entries: &[vedette_extract::os::rpm::RpmEntry]) -> BTreeSet<RpmRow> {
    entries
        .iter()
        .map(|e| {
            (
                e.name.clone(),
                e.epoch.unwrap_or(0),
                e.version.clone(),
                e.release.clone(),
                e.arch.clone(),
                e.source_rpm.clone(),
            )
        })
        .collect()
}

#[test]
fn sqlite_cbl_mariner_2_lists_what_rpm_lists() {
    let data = std::fs::read(fixture("cbl-mariner-2.0-sqlite/rpmdb.sqlite")).unwrap();
    let (entries, problems) = parse_rpmdb_sqlite(&data).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    let got = rows(&entries);
    assert_eq!(got.len(), 129);
    assert_eq!(got, expected("cbl-mariner-2.0-sqlite"));
    assert_eq!(got, rpm_qa(&fixture("cbl-mariner-2.0-sqlite"), "sqlite"));
}

#[test]
fn berkeley_db_ubi8_lists_what_rpm_lists() {
    let data = std::fs::read(fixture("ubi8-libuuid-bdb/Packages")).unwrap();
    let (entries, problems) = parse_rpmdb_legacy(&data, false).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    let got = rows(&entries);
    assert_eq!(got, expected("ubi8-libuuid-bdb"));
    assert_eq!(got, rpm_qa(&fixture("ubi8-libuuid-bdb"), "bdb_ro"));
}

#[test]
fn ndb_sle15_lists_the_published_package_list() {
    let data = std::fs::read(fixture("sle15-bci-ndb/Packages.db")).unwrap();
    let (entries, problems) = parse_rpmdb_legacy(&data, true).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    let got = rows(&entries);
    assert_eq!(got.len(), 35);
    assert_eq!(got, expected("sle15-bci-ndb"));
}

fn root(files: &[(&str, Vec<u8>)]) -> Files {
    let mut f = Files::new();
    for (path, data) in files {
        f.insert(*path, data.clone(), None);
    }
    f
}

const SLES: &str = "NAME=\"SLES\"\nVERSION=\"15-SP5\"\nVERSION_ID=\"15.5\"\nPRETTY_NAME=\"SUSE Linux Enterprise Server 15 SP5\"\nID=\"sles\"\n";

#[test]
fn an_sle_root_is_catalogued_as_suse_and_a_broken_database_as_unreadable() {
    let db = std::fs::read(fixture("sle15-bci-ndb/Packages.db")).unwrap();
    let files = root(&[
        ("/etc/os-release", SLES.as_bytes().to_vec()),
        ("/usr/lib/sysimage/rpm/Packages.db", db.clone()),
    ]);
    let cat = catalog(&files, &catalogers());
    assert_eq!(cat.packages.len(), 35);
    assert!(cat.packages.iter().all(|p| p.ecosystem == Ecosystem::Suse));
    assert!(cat.unreadable.is_empty());
    let glibc = cat.packages.iter().find(|p| p.name == "glibc").unwrap();
    assert_eq!(glibc.version, "2.31-9.3.2");
    assert_eq!(glibc.source.as_ref().unwrap().name, "glibc");

    // The same database cut short: not "no packages", but unreadable.
    let files = root(&[
        ("/etc/os-release", SLES.as_bytes().to_vec()),
        ("/usr/lib/sysimage/rpm/Packages.db", db[..16].to_vec()),
    ]);
    let cat = catalog(&files, &catalogers());
    assert!(cat.packages.is_empty());
    assert_eq!(cat.unreadable.len(), 1, "{:?}", cat.unreadable);
    assert_eq!(cat.unreadable[0].path, "/usr/lib/sysimage/rpm/Packages.db");
}

#[test]
fn the_last_install_still_in_the_wal_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let rpms = build_rpms(
        dir.path(),
        &[
            Spec::new("vedette-first", "1.0-1"),
            Spec::new("vedette-last", "3:2.5-7.el9"),
        ],
    );
    let db = dir.path().join("db");
    init_db(&db);
    install_justdb(&db, &rpms[..1]);
    // A reader holding a snapshot from before the second install keeps
    // SQLite from checkpointing it: its pages stay in the WAL while the
    // files are copied, as in an image layer taken from a live system.
    let copy = dir.path().join("copy");
    std::fs::create_dir_all(&copy).unwrap();
    let script = r#"
import shutil, sqlite3, subprocess, sys
db, copy, rpm = sys.argv[1:4]
c = sqlite3.connect(db + "/rpmdb.sqlite", isolation_level=None)
c.execute("BEGIN")
c.execute("SELECT count(*) FROM Packages").fetchone()
subprocess.run(["rpm", "--dbpath", db, "--define", "_db_backend sqlite", "-i", "--justdb", "--nodeps", rpm],
               check=True, stderr=subprocess.DEVNULL)
for f in ("rpmdb.sqlite", "rpmdb.sqlite-wal"):
    shutil.copy(db + "/" + f, copy + "/" + f)
c.execute("COMMIT")
"#;
    // Debian's own Python: its sqlite3 module, whatever venv is first on PATH.
    let out = Command::new("/usr/bin/python3")
        .args(["-c", script])
        .arg(&db)
        .arg(&copy)
        .arg(&rpms[1])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let main = std::fs::read(copy.join("rpmdb.sqlite")).unwrap();
    let wal = std::fs::read(copy.join("rpmdb.sqlite-wal")).unwrap();
    assert!(!wal.is_empty(), "the WAL holds the last install");
    let names = |entries: Vec<vedette_extract::os::rpm::RpmEntry>| -> Vec<String> {
        let mut v: Vec<String> = entries.into_iter().map(|e| e.name).collect();
        v.sort();
        v
    };
    // The main file alone does not have it yet; with the WAL it does.
    let (alone, _) = parse_rpmdb_sqlite(&main).unwrap();
    assert_eq!(names(alone), ["vedette-first"]);
    let (with_wal, problems) = parse_rpmdb_sqlite_wal(&main, Some(&wal)).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    let got = rows(&with_wal);
    assert_eq!(names(with_wal), ["vedette-first", "vedette-last"]);
    // rpm itself, reading the same two files, agrees.
    assert_eq!(got, rpm_qa(&copy, "sqlite"));
    let last = got.iter().find(|r| r.0 == "vedette-last").unwrap();
    assert_eq!(
        (last.1, last.2.as_str(), last.3.as_str()),
        (3, "2.5", "7.el9")
    );

    // A WAL whose last frame is torn (a copy taken mid-write): the frames
    // of the last commit are not used, nothing else breaks.
    let torn = &wal[..wal.len() - 100];
    let (entries, _) = parse_rpmdb_sqlite_wal(&main, Some(torn)).unwrap();
    assert_eq!(names(entries), ["vedette-first"]);
    // And the cataloger finds the WAL beside the database.
    let files = root(&[
        (
            "/etc/os-release",
            b"ID=almalinux\nVERSION_ID=\"9.4\"\n".to_vec(),
        ),
        ("/var/lib/rpm/rpmdb.sqlite", main),
        ("/var/lib/rpm/rpmdb.sqlite-wal", wal),
    ]);
    let cat = catalog(&files, &catalogers());
    let mut found: Vec<(&str, &str, Ecosystem)> = cat
        .packages
        .iter()
        .map(|p| (p.name.as_str(), p.version.as_str(), p.ecosystem))
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            ("vedette-first", "1.0-1", Ecosystem::AlmaLinux),
            ("vedette-last", "3:2.5-7.el9", Ecosystem::AlmaLinux)
        ]
    );
}

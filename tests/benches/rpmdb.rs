//! rpm databases in their three formats: how many packages each tool lists
//! from a root holding one real database (`../shared/fixtures/rpmdb/`) and
//! how long it takes, Vedette beside syft and trivy (which read rpm
//! databases with go-rpmdb) and `rpm -qa` itself where Debian's rpm can read
//! the format.
//!
//! Run: `cargo bench -p vedette-tests --bench rpmdb` (after the README's
//! test command has installed the tools). Prints a Markdown table.

#![allow(clippy::unwrap_used)] // a benchmark that cannot set itself up should stop there

use std::process::Command;

use vedette_tests::bench::{measure, median, release_cli};
use vedette_tests::registry::{shared, trivy};

const RUNS: usize = 5;

/// Standard output of a shell command.
fn stdout(cmd: &str) -> String {
    let out = Command::new("sh").args(["-c", cmd]).output().unwrap();
    assert!(
        out.status.success(),
        "{cmd}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn count_json(cmd: &str, what: impl Fn(&serde_json::Value) -> usize) -> usize {
    what(&serde_json::from_str(&stdout(cmd)).unwrap())
}

fn main() {
    let vedette = release_cli();
    let syft = vedette_tests::require("syft");
    let trivy = trivy();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");

    println!(
        "| database | tool | packages | wall (s, median of {RUNS}) | peak RSS (MB) | vs rpm -qa |"
    );
    println!("| --- | --- | ---: | ---: | ---: | ---: |");
    for (label, fixture, file, dir, os_release, backend) in [
        (
            "sqlite, CBL-Mariner 2.0 (3.4 MiB)",
            "cbl-mariner-2.0-sqlite",
            "rpmdb.sqlite",
            "var/lib/rpm",
            "ID=mariner\nVERSION_ID=\"2.0\"\nPRETTY_NAME=\"CBL-Mariner/Linux\"\n",
            Some("sqlite"),
        ),
        (
            "Berkeley DB, UBI 8 (92 KiB)",
            "ubi8-libuuid-bdb",
            "Packages",
            "var/lib/rpm",
            "ID=\"rhel\"\nVERSION_ID=\"8.8\"\nPRETTY_NAME=\"Red Hat Enterprise Linux 8.8 (Ootpa)\"\n",
            Some("bdb_ro"),
        ),
        (
            "ndb, SLE 15 BCI (1.3 MiB)",
            "sle15-bci-ndb",
            "Packages.db",
            "usr/lib/sysimage/rpm",
            "NAME=\"SLES\"\nVERSION=\"15-SP5\"\nVERSION_ID=\"15.5\"\nID=\"sles\"\nPRETTY_NAME=\"SUSE Linux Enterprise Server 15 SP5\"\n",
            None,
        ),
    ] {
        let root = tmp.path().join(fixture);
        std::fs::create_dir_all(root.join(dir)).unwrap();
        std::fs::create_dir_all(root.join("etc")).unwrap();
        std::fs::copy(
            shared(&format!("fixtures/rpmdb/{fixture}/{file}")),
            root.join(dir).join(file),
        )
        .unwrap();
        std::fs::write(root.join("etc/os-release"), os_release).unwrap();
        let r = root.display();
        let cache = tmp.path().join("trivy-cache");
        let mut rows: Vec<(&str, String, usize)> = Vec::new();
        if let Some(backend) = backend {
            // rpm may write beside a database it opens: a copy each run.
            let copy = tmp.path().join("rpm-copy");
            let cmd = format!(
                "rm -rf {c} && cp -r {r}/{dir} {c} && rpm --dbpath {c} --define '_db_backend {backend}' -qa",
                c = copy.display()
            );
            let n = stdout(&cmd).lines().filter(|l| !l.starts_with("gpg-pubkey")).count();
            rows.push(("rpm -qa (rpm 4.18)", cmd, n));
        }
        let v = format!(
            "{vedette} --data-dir {} scan dir {r} --packages-only --format json -q",
            data.display()
        );
        let n = count_json(&v, |j| j["packages"].as_array().unwrap().len());
        rows.push(("vedette", format!("{v} > /dev/null"), n));
        let s = format!("SYFT_CHECK_FOR_APP_UPDATE=false {} -q -o json dir:{r}", syft.display());
        let n = count_json(&s, |j| {
            j["artifacts"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|a| a["type"] == "rpm")
                .count()
        });
        rows.push(("syft", format!("{s} > /dev/null"), n));
        let t = format!(
            "{} rootfs --cache-dir {} --format cyclonedx --skip-db-update --skip-java-db-update --offline-scan -q {r}",
            trivy.display(),
            cache.display()
        );
        let n = count_json(&t, |j| {
            j["components"]
                .as_array()
                .map_or(0, |c| c.iter().filter(|c| c["purl"].as_str().is_some_and(|p| p.starts_with("pkg:rpm/"))).count())
        });
        rows.push(("trivy", format!("{t} > /dev/null"), n));
        let measured: Vec<_> = rows
            .iter()
            .map(|(tool, cmd, n)| (*tool, *n, median((0..RUNS).map(|_| measure(cmd)).collect())))
            .collect();
        let rpm_wall = measured
            .iter()
            .find(|(t, _, _)| t.starts_with("rpm"))
            .map(|(_, _, m)| m.wall);
        for (tool, n, m) in &measured {
            println!(
                "| {label} | {tool} | {n} | {:.3} | {:.0} | {} |",
                m.wall,
                m.rss_mb,
                rpm_wall.map_or("—".to_owned(), |w| format!("{:.2}×", m.wall / w))
            );
        }
    }
}

//! Thousands of real version pairs, taken from the advisory feeds and the
//! fixtures in `../shared`, ordered by Vedette and by each ecosystem's own
//! tool: `dpkg --compare-versions`, rpm's `rpm.vercmp`, npm's `semver`,
//! Python's `packaging` and Maven's `ComparableVersion`. Every disagreement
//! is listed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use vedette_version::Scheme;

fn shared(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../../shared")
        .join(rel)
}

/// Every version string an OSV export names: range events (but "0") and
/// explicit `versions` lists.
fn feed_versions(ecosystem: &str) -> BTreeSet<String> {
    let file = std::fs::File::open(shared(&format!("feeds/osv/{ecosystem}/all.zip"))).unwrap();
    let mut zip = zip::ZipArchive::new(file).unwrap();
    let mut out = BTreeSet::new();
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).unwrap();
        let mut text = String::new();
        entry.read_to_string(&mut text).unwrap();
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        for aff in doc["affected"].as_array().into_iter().flatten() {
            for r in aff["ranges"].as_array().into_iter().flatten() {
                if r["type"] == "GIT" {
                    continue;
                }
                for ev in r["events"].as_array().into_iter().flatten() {
                    for (_, v) in ev.as_object().unwrap() {
                        if let Some(v) = v.as_str().filter(|v| *v != "0") {
                            out.insert(v.to_owned());
                        }
                    }
                }
            }
            for v in aff["versions"].as_array().into_iter().flatten() {
                out.insert(v.as_str().unwrap().to_owned());
            }
        }
    }
    out
}

/// Deterministic pairs: each version with its neighbour in text order (close
/// versions are where schemes differ), then pseudo-random pairs.
fn pairs(versions: &BTreeSet<String>, want: usize) -> Vec<(String, String)> {
    let v: Vec<&String> = versions.iter().collect();
    assert!(v.len() > 10, "too few versions: {}", v.len());
    let mut out: Vec<(String, String)> = v
        .windows(2)
        .map(|w| (w[0].clone(), w[1].clone()))
        .take(want / 2)
        .collect();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    while out.len() < want {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let a = v[(x % v.len() as u64) as usize];
        let b = v[((x >> 32) % v.len() as u64) as usize];
        out.push((a.clone(), b.clone()));
    }
    out
}

/// Runs `cmd` with `input` on stdin; its stdout lines.
fn pipe(cmd: &mut Command, input: &str) -> Vec<String> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e} (tests/setup.sh installs it)"));
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_owned();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success(), "{cmd:?} failed");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn ord(s: &str) -> Option<Ordering> {
    match s.trim() {
        "-1" | "lt" => Some(Ordering::Less),
        "0" | "eq" => Some(Ordering::Equal),
        "1" | "gt" => Some(Ordering::Greater),
        _ => None,
    }
}

/// Compares Vedette with the oracle's answers; both refusing a version is
/// agreement, one refusing it is a disagreement.
fn check(scheme: Scheme, pairs: &[(String, String)], oracle: &[String]) {
    assert_eq!(
        pairs.len(),
        oracle.len(),
        "the oracle answered a different number of lines"
    );
    let mut wrong = Vec::new();
    let mut compared = 0;
    for ((a, b), o) in pairs.iter().zip(oracle) {
        let ours = scheme.compare(a, b).ok();
        let theirs = ord(o);
        if ours.is_some() && theirs.is_some() {
            compared += 1;
        }
        if ours != theirs {
            wrong.push(format!("{a} vs {b}: vedette {ours:?}, oracle {theirs:?}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} {} pairs disagree:\n{}",
        wrong.len(),
        pairs.len(),
        scheme.name(),
        wrong.join("\n")
    );
    assert!(
        compared * 10 >= pairs.len() * 9,
        "only {compared} of {} pairs were comparable",
        pairs.len()
    );
    eprintln!(
        "{}: {compared} pairs agree with the reference tool",
        scheme.name()
    );
}

fn debian_versions() -> BTreeSet<String> {
    let mut v = feed_versions("Debian");
    let status =
        std::fs::read_to_string(shared("fixtures/debian-12-minbase/var/lib/dpkg/status")).unwrap();
    for line in status.lines() {
        if let Some(x) = line.strip_prefix("Version: ") {
            v.insert(x.to_owned());
        }
    }
    v
}

#[test]
fn dpkg_agrees_with_dpkg_compare_versions() {
    let pairs = pairs(&debian_versions(), 2000);
    // One shell runs dpkg for every pair; "lt", "eq", "gt" or "error".
    let script = r#"while IFS=' ' read -r a b; do
      if dpkg --compare-versions "$a" lt "$b" 2>/dev/null; then echo lt
      elif dpkg --compare-versions "$a" eq "$b" 2>/dev/null; then echo eq
      elif dpkg --compare-versions "$a" gt "$b" 2>/dev/null; then echo gt
      else echo error; fi
    done"#;
    let input: String = pairs.iter().map(|(a, b)| format!("{a} {b}\n")).collect();
    let oracle = pipe(Command::new("sh").arg("-c").arg(script), &input);
    check(Scheme::Dpkg, &pairs, &oracle);
}

#[test]
fn rpm_agrees_with_rpm_vercmp() {
    // No RPM feed in ../shared: real Debian and Alpine version strings
    // exercise rpmvercmp's digits, letters, `~`, `+` and separators.
    let mut versions = debian_versions();
    versions.extend(feed_versions("Alpine"));
    let pairs = pairs(&versions, 3000);
    let mut lua = String::new();
    for (a, b) in &pairs {
        lua.push_str(&format!(
            "io.write(rpm.vercmp([==[{a}]==], [==[{b}]==]), \"\\n\")\n"
        ));
    }
    let dir = tempfile_dir();
    let path = dir.join("pairs.lua");
    std::fs::write(&path, lua).unwrap();
    let out = Command::new("rpm")
        .arg("--eval")
        .arg(format!("%{{lua: dofile([==[{}]==])}}", path.display()))
        .output()
        .expect("rpm is installed by tests/setup.sh");
    assert!(
        out.status.success(),
        "rpm --eval failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let oracle: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    check(Scheme::Rpm, &pairs, &oracle);
    let _ = std::fs::remove_dir_all(dir);
}

fn tempfile_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("vedette-oracle-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn node_oracle(script: &str) -> Command {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../tests/oracles");
    assert!(
        dir.join("node_modules/semver").is_dir(),
        "tests/setup.sh installs the npm oracles into {}",
        dir.display()
    );
    let mut c = Command::new("node");
    c.arg(dir.join(script));
    c
}

#[test]
fn node_semver_agrees_with_npm_semver() {
    let mut versions = feed_versions("npm");
    let lock = std::fs::read_to_string(shared("fixtures/lang/app/node/package-lock.json")).unwrap();
    let lock: serde_json::Value = serde_json::from_str(&lock).unwrap();
    for (_, p) in lock["packages"].as_object().unwrap() {
        if let Some(v) = p["version"].as_str() {
            versions.insert(v.to_owned());
        }
    }
    let pairs = pairs(&versions, 2000);
    let input: String = pairs.iter().map(|(a, b)| format!("{a} {b}\n")).collect();
    let oracle = pipe(&mut node_oracle("semver-compare.js"), &input);
    check(Scheme::NodeSemver, &pairs, &oracle);
}

#[test]
fn crates_io_semver_agrees_with_npm_semver_on_semver_2_precedence() {
    let pairs = pairs(&feed_versions("crates.io"), 2000);
    let input: String = pairs.iter().map(|(a, b)| format!("{a} {b}\n")).collect();
    let oracle = pipe(&mut node_oracle("semver-compare.js"), &input);
    check(Scheme::Semver, &pairs, &oracle);
}

#[test]
fn pep440_agrees_with_python_packaging() {
    let pairs = pairs(&feed_versions("PyPI"), 3000);
    let script = r#"
import sys
from packaging.version import Version, InvalidVersion
for line in sys.stdin:
    a, b = line.rstrip("\n").split("\t")
    try:
        x, y = Version(a), Version(b)
        print(-1 if x < y else (1 if x > y else 0))
    except InvalidVersion:
        print("error")
"#;
    let input: String = pairs.iter().map(|(a, b)| format!("{a}\t{b}\n")).collect();
    let python = std::env::var("VEDETTE_PEER_PYTHON").unwrap_or_else(|_| "python3".into());
    let oracle = pipe(Command::new(python).arg("-c").arg(script), &input);
    check(Scheme::Pep440, &pairs, &oracle);
}

#[test]
fn maven_agrees_with_comparable_version() {
    // The Maven repository Debian ships, then real versions of other
    // ecosystems: ComparableVersion orders any string, and these exercise
    // qualifiers, pre-releases and long numbers.
    let mut versions: BTreeSet<String> = BTreeSet::new();
    for entry in walk(Path::new("/usr/share/maven-repo")) {
        if entry.extension().is_some_and(|e| e == "pom") {
            if let Some(v) = entry.parent().and_then(|p| p.file_name()) {
                versions.insert(v.to_string_lossy().into_owned());
            }
        }
    }
    versions.extend(feed_versions("crates.io"));
    versions.extend(feed_versions("PyPI"));
    versions.extend(feed_versions("RubyGems"));
    let pairs = pairs(&versions, 3000);
    let jar = std::fs::read_dir("/usr/share/maven/lib")
        .expect("maven is installed by tests/setup.sh")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("maven-artifact")
        })
        .expect("maven-artifact jar");
    let input: String = pairs.iter().map(|(a, b)| format!("{a}\t{b}\n")).collect();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracles/Cmp.java");
    let oracle = pipe(Command::new("java").arg("-cp").arg(&jar).arg(src), &input);
    check(Scheme::Maven, &pairs, &oracle);
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

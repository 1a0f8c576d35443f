//! The comparison tables in `testdata/`, one scheme a file.

use std::cmp::Ordering;

use crate::Scheme;

fn table(scheme: Scheme, file: &str) {
    let path = format!("{}/testdata/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    let mut n = 0;
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let parts: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(parts.len(), 3, "{file}: bad line {line:?}");
        let want = match parts[1] {
            "<" => Ordering::Less,
            ">" => Ordering::Greater,
            "==" => Ordering::Equal,
            op => panic!("{file}: bad operator {op}"),
        };
        let got = scheme.compare(parts[0], parts[2]).unwrap();
        assert_eq!(got, want, "{file}: {line}");
        let back = scheme.compare(parts[2], parts[0]).unwrap();
        assert_eq!(back, want.reverse(), "{file}: {line} (reversed)");
        n += 1;
    }
    assert!(n >= 5, "{file} has only {n} cases");
}

#[test]
fn dpkg_table() {
    table(Scheme::Dpkg, "dpkg.txt");
}
#[test]
fn rpm_table() {
    table(Scheme::Rpm, "rpm.txt");
}
#[test]
fn apk_table() {
    table(Scheme::Apk, "apk.txt");
}
#[test]
fn semver_table() {
    table(Scheme::Semver, "semver.txt");
}
#[test]
fn node_semver_table() {
    table(Scheme::NodeSemver, "node-semver.txt");
}
#[test]
fn go_table() {
    table(Scheme::Go, "go.txt");
}
#[test]
fn pep440_table() {
    table(Scheme::Pep440, "pep440.txt");
}
#[test]
fn maven_table() {
    table(Scheme::Maven, "maven.txt");
}
#[test]
fn rubygems_table() {
    table(Scheme::RubyGems, "rubygems.txt");
}
#[test]
fn nuget_table() {
    table(Scheme::NuGet, "nuget.txt");
}
#[test]
fn composer_table() {
    table(Scheme::Composer, "composer.txt");
}

#[test]
fn garbage_is_refused_with_the_reason() {
    let e = Scheme::Dpkg.parse("abc").unwrap_err();
    assert!(e.to_string().contains("does not start with a digit"), "{e}");
    assert!(Scheme::Apk.parse("1.0_foo").is_err());
    assert!(Scheme::Semver.parse("1.0").is_err());
    assert!(Scheme::Pep440.parse("not a version").is_err());
    assert!(Scheme::Composer.parse("dev-master").is_err());
    assert!(Scheme::RubyGems.parse("1.0 beta").is_err());
    assert!(Scheme::NuGet.parse("1.2.3.4.5").is_err());
}

#[test]
fn ecosystems_map_to_schemes_with_release_suffixes() {
    assert_eq!(Scheme::for_ecosystem("Debian:12"), Some(Scheme::Dpkg));
    assert_eq!(
        Scheme::for_ecosystem("Ubuntu:22.04:LTS"),
        Some(Scheme::Dpkg)
    );
    assert_eq!(Scheme::for_ecosystem("Alpine:v3.19"), Some(Scheme::Apk));
    assert_eq!(Scheme::for_ecosystem("crates.io"), Some(Scheme::Semver));
    assert_eq!(Scheme::for_ecosystem("Hackage"), None);
}

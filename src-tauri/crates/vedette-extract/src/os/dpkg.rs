//! dpkg: `/var/lib/dpkg/status`, and `/var/lib/dpkg/status.d/*` as
//! distroless images write it (one stanza per package file).

use vedette_model::{Distro, Ecosystem, Package, SourcePackage};

use crate::{purl, Cataloger, Context, Files, Found};

pub const STATUS: &str = "/var/lib/dpkg/status";
const STATUS_D: &str = "/var/lib/dpkg/status.d/";
pub const INFO: &str = "/var/lib/dpkg/info/";

/// One stanza of a dpkg database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DpkgEntry {
    pub package: String,
    pub version: String,
    pub architecture: String,
    pub source_name: Option<String>,
    pub source_version: Option<String>,
    /// The `Status:` field; status.d stanzas have none.
    pub status: Option<String>,
}

impl DpkgEntry {
    /// dpkg lists removed-but-configured and half-installed packages too; only
    /// `install ok installed` ones are on the system.
    pub fn is_installed(&self) -> bool {
        self.status
            .as_deref()
            .is_none_or(|s| s.split_whitespace().nth(2) == Some("installed"))
    }
}

/// Parses a dpkg status file. Stanzas without `Package` or `Version` are
/// reported by line number and skipped.
pub fn parse_status(text: &str) -> (Vec<DpkgEntry>, Vec<String>) {
    let mut entries = Vec::new();
    let mut problems = Vec::new();
    for (line, stanza) in super::stanzas(text) {
        let field = |name: &str| {
            stanza.iter().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                (!l.starts_with([' ', '\t']) && k.eq_ignore_ascii_case(name))
                    .then(|| v.trim().to_owned())
            })
        };
        let (Some(package), Some(version)) = (field("Package"), field("Version")) else {
            problems.push(format!(
                "stanza at line {line} has no Package or Version field; skipped"
            ));
            continue;
        };
        if package.is_empty() || version.is_empty() {
            problems.push(format!(
                "stanza at line {line} has an empty Package or Version; skipped"
            ));
            continue;
        }
        // "Source: util-linux (2.38.1-5+deb12u3)" or "Source: gcc-12".
        let (source_name, source_version) = match field("Source") {
            Some(s) => match s.split_once('(') {
                Some((n, v)) => (
                    Some(n.trim().to_owned()),
                    Some(v.trim_end_matches(')').trim().to_owned()),
                ),
                None => (Some(s.trim().to_owned()), None),
            },
            None => (None, None),
        };
        entries.push(DpkgEntry {
            package,
            version,
            architecture: field("Architecture").unwrap_or_default(),
            source_name: source_name.filter(|s| !s.is_empty()),
            source_version: source_version.filter(|s| !s.is_empty()),
            status: field("Status"),
        });
    }
    (entries, problems)
}

/// The purl syft and trivy write for a Debian-family package.
pub fn purl_for(e: &DpkgEntry, distro: Option<&Distro>) -> Option<String> {
    let (namespace, distro_q) = super::distro_purl_parts(distro, "debian");
    let upstream = match (&e.source_name, &e.source_version) {
        (Some(n), Some(v)) if *v != e.version => format!("{n}@{v}"),
        (Some(n), _) if *n != e.package => n.clone(),
        _ => String::new(),
    };
    purl::build(
        "deb",
        Some(namespace),
        &e.package,
        &e.version,
        &[
            ("arch", &e.architecture),
            ("distro", &distro_q),
            ("upstream", &upstream),
        ],
    )
}

fn ecosystem(distro: Option<&Distro>) -> Ecosystem {
    vedette_model::os_ecosystem(distro, vedette_model::PackageDb::Dpkg)
}

pub struct DpkgCataloger;

impl Cataloger for DpkgCataloger {
    fn name(&self) -> &'static str {
        "dpkg-db"
    }

    fn wants(&self, path: &str) -> bool {
        path == STATUS
            || (path.starts_with(STATUS_D)
                && !path.ends_with(".md5sums")
                && path.len() > STATUS_D.len())
            || (path.starts_with(INFO) && path.ends_with(".list"))
    }

    fn catalog(&self, files: &Files, cx: &Context<'_>) -> Found {
        let mut found = Found::default();
        let dbs = files
            .matching(|p| p == STATUS || (p.starts_with(STATUS_D) && !p.ends_with(".md5sums")));
        for (path, file) in dbs {
            let text = String::from_utf8_lossy(&file.data);
            let (entries, problems) = parse_status(&text);
            for p in problems {
                found.warn(path, p);
            }
            for e in entries.into_iter().filter(DpkgEntry::is_installed) {
                let Some(purl) = purl_for(&e, cx.distro) else {
                    found.warn(
                        path,
                        format!("cannot form a purl for {} {}", e.package, e.version),
                    );
                    continue;
                };
                let source = SourcePackage {
                    name: e.source_name.clone().unwrap_or_else(|| e.package.clone()),
                    version: e
                        .source_version
                        .clone()
                        .unwrap_or_else(|| e.version.clone()),
                };
                found.packages.push(Package {
                    source: Some(source),
                    ..crate::found_in(
                        &e.package,
                        &e.version,
                        ecosystem(cx.distro),
                        purl,
                        path,
                        file,
                        self.name(),
                    )
                });
            }
        }
        // info/<package>[:<arch>].list: the files each package installed.
        let purls: std::collections::HashMap<&str, &str> = found
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.purl.as_str()))
            .collect();
        let mut installed = Vec::new();
        for (path, file) in files.matching(|p| p.starts_with(INFO) && p.ends_with(".list")) {
            let stem = &path[INFO.len()..path.len() - ".list".len()];
            let name = stem.split(':').next().unwrap_or(stem);
            let Some(purl) = purls.get(name) else {
                continue;
            };
            for line in String::from_utf8_lossy(&file.data)
                .lines()
                .filter(|l| l.starts_with('/'))
            {
                installed.push((line.to_owned(), (*purl).to_owned()));
            }
        }
        found.installed_files = installed;
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn debian12() -> Distro {
        Distro {
            id: "debian".into(),
            version_id: "12".into(),
            ..Distro::default()
        }
    }

    #[test]
    fn the_minbase_status_file_lists_88_installed_packages() {
        let (entries, problems) = parse_status(&crate::shared(
            "fixtures/debian-12-minbase/var/lib/dpkg/status",
        ));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(entries.len(), 88);
        assert!(entries.iter().all(DpkgEntry::is_installed));
        let bsdutils = entries.iter().find(|e| e.package == "bsdutils").unwrap();
        assert_eq!(bsdutils.source_name.as_deref(), Some("util-linux"));
        assert_eq!(bsdutils.source_version.as_deref(), Some("2.38.1-5+deb12u3"));
        assert_eq!(
            purl_for(bsdutils, Some(&debian12())).unwrap(),
            "pkg:deb/debian/bsdutils@1:2.38.1-5%2Bdeb12u3?arch=amd64&distro=debian-12&upstream=util-linux%402.38.1-5%2Bdeb12u3"
        );
    }

    #[test]
    fn removed_and_malformed_stanzas_are_skipped_and_reported() {
        let (entries, problems) = parse_status(include_str!("../../testdata/dpkg/status-mixed"));
        let installed: Vec<_> = entries
            .iter()
            .filter(|e| e.is_installed())
            .map(|e| e.package.as_str())
            .collect();
        assert_eq!(installed, ["libc6", "zlib1g"]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("line"), "{problems:?}");
    }

    #[test]
    fn empty_and_binary_input_give_nothing() {
        assert_eq!(parse_status("").0, vec![]);
        let junk = String::from_utf8_lossy(&[0xff, 0, 1, 2, b'\n', b':', 0xfe]).into_owned();
        let (entries, _) = parse_status(&junk);
        assert!(entries.is_empty());
    }
}

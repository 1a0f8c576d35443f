//! apk: `/lib/apk/db/installed` (Alpine, Wolfi, Chainguard).

use vedette_model::{Distro, Package, SourcePackage};

use crate::{purl, Cataloger, Context, Files, Found};

pub const INSTALLED: &str = "/lib/apk/db/installed";

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ApkEntry {
    pub name: String,
    pub version: String,
    pub arch: String,
    /// `o:` origin: the aport (source package) the package was built from.
    pub origin: String,
    pub license: String,
    /// Files the package installed (`F:` directory + `R:` file), absolute.
    pub files: Vec<String>,
}

/// Parses apk's installed database. Stanzas without `P:` or `V:` are reported
/// by line number and skipped.
pub fn parse_installed(text: &str) -> (Vec<ApkEntry>, Vec<String>) {
    let mut entries = Vec::new();
    let mut problems = Vec::new();
    for (line, stanza) in super::stanzas(text) {
        let mut e = ApkEntry::default();
        let mut dir = String::new();
        for l in stanza {
            let Some((k, v)) = l.split_once(':') else {
                continue;
            };
            match k {
                "P" => e.name = v.to_owned(),
                "V" => e.version = v.to_owned(),
                "A" => e.arch = v.to_owned(),
                "o" => e.origin = v.to_owned(),
                "L" => e.license = v.to_owned(),
                "F" => dir = v.to_owned(),
                "R" if dir.is_empty() => e.files.push(format!("/{v}")),
                "R" => e.files.push(format!("/{dir}/{v}")),
                _ => {}
            }
        }
        if e.name.is_empty() || e.version.is_empty() {
            problems.push(format!(
                "stanza at line {line} has no P: or V: field; skipped"
            ));
            continue;
        }
        entries.push(e);
    }
    (entries, problems)
}

pub fn purl_for(e: &ApkEntry, distro: Option<&Distro>) -> Option<String> {
    let (namespace, distro_q) = super::distro_purl_parts(distro, "alpine");
    let upstream = if !e.origin.is_empty() && e.origin != e.name {
        e.origin.as_str()
    } else {
        ""
    };
    purl::build(
        "apk",
        Some(namespace),
        &e.name,
        &e.version,
        &[
            ("arch", &e.arch),
            ("distro", &distro_q),
            ("upstream", upstream),
        ],
    )
}

pub struct ApkCataloger;

impl Cataloger for ApkCataloger {
    fn name(&self) -> &'static str {
        "apk-db"
    }

    fn wants(&self, path: &str) -> bool {
        path == INSTALLED
    }

    fn catalog(&self, files: &Files, cx: &Context<'_>) -> Found {
        let mut found = Found::default();
        let Some(file) = files.get(INSTALLED) else {
            return found;
        };
        let (entries, problems) = parse_installed(&String::from_utf8_lossy(&file.data));
        for p in problems {
            found.warn(INSTALLED, p);
        }
        for e in entries {
            let Some(purl) = purl_for(&e, cx.distro) else {
                found.warn(
                    INSTALLED,
                    format!("cannot form a purl for {} {}", e.name, e.version),
                );
                continue;
            };
            found
                .installed_files
                .extend(e.files.iter().map(|f| (f.clone(), purl.clone())));
            let source = SourcePackage {
                name: if e.origin.is_empty() {
                    e.name.clone()
                } else {
                    e.origin.clone()
                },
                version: e.version.clone(),
            };
            let licenses = if e.license.is_empty() {
                vec![]
            } else {
                vec![e.license.clone()]
            };
            found.packages.push(Package {
                source: Some(source),
                licenses,
                ..crate::found_in(
                    &e.name,
                    &e.version,
                    vedette_model::os_ecosystem(cx.distro, vedette_model::PackageDb::Apk),
                    purl,
                    INSTALLED,
                    file,
                    self.name(),
                )
            });
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alpine_3_23_lists_59_packages_with_their_origins_and_files() {
        let (entries, problems) =
            parse_installed(&crate::shared("fixtures/alpine-3.23/lib/apk/db/installed"));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(entries.len(), 59);
        let data = entries
            .iter()
            .find(|e| e.name == "alpine-baselayout-data")
            .unwrap();
        assert_eq!(data.origin, "alpine-baselayout");
        let base = entries
            .iter()
            .find(|e| e.name == "alpine-baselayout")
            .unwrap();
        assert!(
            base.files.contains(&"/etc/crontabs/root".to_owned()),
            "{:?}",
            &base.files[..5]
        );
        let d = Distro {
            id: "alpine".into(),
            version_id: "3.23.6".into(),
            ..Distro::default()
        };
        assert_eq!(
            purl_for(data, Some(&d)).unwrap(),
            "pkg:apk/alpine/alpine-baselayout-data@3.7.2-r0?arch=x86_64&distro=alpine-3.23.6&upstream=alpine-baselayout"
        );
    }

    #[test]
    fn stanzas_without_name_or_version_are_reported() {
        let (entries, problems) = parse_installed("P:ok\nV:1-r0\n\nV:2-r0\nA:x86_64\n\n\n");
        assert_eq!(entries.len(), 1);
        assert_eq!(problems.len(), 1);
        assert!(parse_installed("").0.is_empty());
    }
}

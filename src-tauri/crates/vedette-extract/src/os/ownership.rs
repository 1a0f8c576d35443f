//! Language packages installed by the OS package manager (Debian's
//! `python3-urllib3` ships `urllib3-….dist-info`) belong to that OS package:
//! the distribution's advisories know its backported fixes, so matching it
//! as a PyPI package would report fixed vulnerabilities again.

use std::collections::HashMap;

use vedette_model::Package;

use super::{apk, dpkg};
use crate::Files;

/// Sets [`Package::owned_by`] on every non-OS package one of whose locations
/// an OS package installed (dpkg `info/*.list`, apk `R:` lines).
pub fn mark_owned(files: &Files, packages: &mut [Package]) {
    let owners = file_owners(files, packages);
    if owners.is_empty() {
        return;
    }
    for p in packages.iter_mut().filter(|p| !p.ecosystem.is_os()) {
        if let Some(owner) = p.locations.iter().find_map(|l| owners.get(&l.path)) {
            p.owned_by = Some(owner.clone());
        }
    }
}

/// Path → purl of the OS package that installed it.
fn file_owners(files: &Files, packages: &[Package]) -> HashMap<String, String> {
    let purl_of = |name: &str, found_by: &str| {
        packages
            .iter()
            .find(|p| p.name == name && p.found_by == found_by)
            .map(|p| p.purl.clone())
    };
    let mut owners = HashMap::new();
    // dpkg: /var/lib/dpkg/info/<package>[:<arch>].list, one path a line.
    for (path, file) in files.matching(|p| p.starts_with(dpkg::INFO) && p.ends_with(".list")) {
        let stem = &path[dpkg::INFO.len()..path.len() - ".list".len()];
        let name = stem.split(':').next().unwrap_or(stem);
        let Some(purl) = purl_of(name, "dpkg-db") else {
            continue;
        };
        for line in String::from_utf8_lossy(&file.data)
            .lines()
            .filter(|l| l.starts_with('/'))
        {
            owners.insert(line.to_owned(), purl.clone());
        }
    }
    // apk: the installed database lists each package's files.
    if let Some(file) = files.get(apk::INSTALLED) {
        for e in apk::parse_installed(&String::from_utf8_lossy(&file.data)).0 {
            let Some(purl) = purl_of(&e.name, "apk-db") else {
                continue;
            };
            for f in e.files {
                owners.insert(f, purl.clone());
            }
        }
    }
    // rpm: each header lists its files.
    for path in super::rpm::PATHS {
        let Some(file) = files.get(path) else {
            continue;
        };
        let Ok((entries, _)) = super::rpm::parse_rpmdb_sqlite(&file.data) else {
            continue;
        };
        for e in entries {
            let Some(purl) = purl_of(&e.name, "rpm-db") else {
                continue;
            };
            for f in e.files {
                owners.insert(f, purl.clone());
            }
        }
    }
    owners
}

#[cfg(test)]
mod tests {
    use super::*;
    use vedette_model::{Ecosystem, Location};

    fn pkg(name: &str, eco: Ecosystem, path: &str, found_by: &str) -> Package {
        Package {
            name: name.into(),
            version: "1".into(),
            ecosystem: eco,
            purl: format!("pkg:x/{name}@1"),
            source: None,
            locations: vec![Location {
                path: path.into(),
                layer: None,
            }],
            owned_by: None,
            found_by: found_by.into(),
            licenses: vec![],
        }
    }

    #[test]
    fn a_dist_info_listed_by_a_debian_package_is_owned_by_it() {
        let mut files = Files::new();
        files.insert(
            "/var/lib/dpkg/info/python3-urllib3.list",
            b"/.\n/usr/lib/python3/dist-packages/urllib3-1.26.12.dist-info/METADATA\n".to_vec(),
            None,
        );
        let mut pkgs = vec![
            pkg(
                "python3-urllib3",
                Ecosystem::Debian,
                "/var/lib/dpkg/status",
                "dpkg-db",
            ),
            pkg(
                "urllib3",
                Ecosystem::PyPI,
                "/usr/lib/python3/dist-packages/urllib3-1.26.12.dist-info/METADATA",
                "python-installed",
            ),
            pkg(
                "requests",
                Ecosystem::PyPI,
                "/app/py/site-packages/requests-2.19.0.dist-info/METADATA",
                "python-installed",
            ),
        ];
        mark_owned(&files, &mut pkgs);
        assert_eq!(pkgs[1].owned_by.as_deref(), Some("pkg:x/python3-urllib3@1"));
        assert_eq!(
            pkgs[2].owned_by, None,
            "pip-installed packages stay PyPI packages"
        );
        assert_eq!(pkgs[0].owned_by, None);
    }
}

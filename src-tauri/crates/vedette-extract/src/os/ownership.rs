//! Language packages installed by the OS package manager (Debian's
//! `python3-urllib3` ships `urllib3-….dist-info`) belong to that OS package:
//! the distribution's advisories know its backported fixes, so matching it
//! as a PyPI package would report fixed vulnerabilities again.

use std::collections::HashMap;

use vedette_model::Package;

/// Sets [`Package::owned_by`] on every non-OS package one of whose locations
/// an OS package installed. `owners` maps installed paths to the owning
/// package's purl, as the dpkg (`info/*.list`), apk (`R:` lines) and rpm
/// (header file lists) catalogers report them from their one parse.
pub fn mark_owned(owners: &HashMap<String, String>, packages: &mut [Package]) {
    if owners.is_empty() {
        return;
    }
    for p in packages.iter_mut().filter(|p| !p.ecosystem.is_os()) {
        if let Some(owner) = p.locations.iter().find_map(|l| owners.get(&l.path)) {
            p.owned_by = Some(owner.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{catalog, catalogers, Files};

    #[test]
    fn a_dist_info_listed_by_a_debian_package_is_owned_by_it() {
        let mut files = Files::new();
        files.insert(
            "/etc/os-release",
            b"ID=debian\nVERSION_ID=\"12\"\n".to_vec(),
            None,
        );
        files.insert(
            "/var/lib/dpkg/status",
            b"Package: python3-urllib3\nStatus: install ok installed\nArchitecture: all\nVersion: 1.26.12-1\n".to_vec(),
            None,
        );
        files.insert(
            "/var/lib/dpkg/info/python3-urllib3.list",
            b"/.\n/usr/lib/python3/dist-packages/urllib3-1.26.12.dist-info/METADATA\n".to_vec(),
            None,
        );
        let metadata = |n: &str, v: &str| {
            format!("Metadata-Version: 2.1\nName: {n}\nVersion: {v}\n\n").into_bytes()
        };
        files.insert(
            "/usr/lib/python3/dist-packages/urllib3-1.26.12.dist-info/METADATA",
            metadata("urllib3", "1.26.12"),
            None,
        );
        files.insert(
            "/app/py/site-packages/requests-2.19.0.dist-info/METADATA",
            metadata("requests", "2.19.0"),
            None,
        );
        let pkgs = catalog(&files, &catalogers()).packages;
        let by_name = |n: &str| pkgs.iter().find(|p| p.name == n).unwrap();
        assert_eq!(
            by_name("urllib3").owned_by.as_deref(),
            Some("pkg:deb/debian/python3-urllib3@1.26.12-1?arch=all&distro=debian-12")
        );
        assert_eq!(
            by_name("requests").owned_by,
            None,
            "pip-installed packages stay PyPI packages"
        );
        assert_eq!(by_name("python3-urllib3").owned_by, None);
    }
}

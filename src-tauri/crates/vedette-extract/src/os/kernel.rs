//! The kernel a host runs (`uname -r`, `uname -v`) as the distribution's
//! kernel package, so that its advisories apply to the kernel that runs and
//! not only to the ones installed (a host upgraded but not rebooted still
//! runs the old one).

use vedette_model::{Distro, Ecosystem, Location, Package, PackageDb, SourcePackage};

use crate::purl;

/// The location recorded on the running kernel's package.
pub const LOCATION: &str = "running kernel (uname -r)";

/// What the running kernel is among the inventory's packages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Running {
    /// This installed package (its index) is the running kernel.
    Installed(usize),
    /// Not installed (any more): the package it was installed from.
    Package(Box<Package>),
}

/// The package of the running kernel `release` (`uname -r`) with `build`
/// (`uname -v`) on `distro`, given the installed `packages`; why not when
/// it cannot be named (a custom kernel, an unknown family).
pub fn running_kernel(
    distro: Option<&Distro>,
    release: &str,
    build: Option<&str>,
    packages: &[Package],
) -> Result<Running, String> {
    let release = release.trim();
    if release.is_empty() || release.contains(char::is_whitespace) {
        return Err(format!("'{release}' is not a kernel release"));
    }
    let Some(db) = family(distro, packages) else {
        return Err(format!(
            "the running kernel {release} is not matched: the system has no dpkg, apk or rpm database to name its package"
        ));
    };
    let (name, version, source) = match db {
        PackageDb::Dpkg => {
            let name = format!("linux-image-{release}");
            // Debian's build string names the package version it came
            // from: "#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)".
            let built = build.and_then(|b| {
                b.split_once(" Debian ")
                    .and_then(|(_, rest)| rest.split_whitespace().next())
                    .map(str::to_owned)
            });
            let installed = packages.iter().position(|p| p.name == name);
            match (installed, built) {
                (Some(i), None) => return Ok(Running::Installed(i)),
                (Some(i), Some(v)) if packages[i].version == v => {
                    return Ok(Running::Installed(i))
                }
                (_, Some(v)) => (name, v, "linux".to_owned()),
                (None, None) => {
                    return Err(format!(
                        "the running kernel {release} is not matched: no {name} package is installed and its build string names no Debian version (a kernel not built by the distribution?)"
                    ))
                }
            }
        }
        PackageDb::Apk => {
            // "6.6.14-0-lts": version 6.6.14, release r0, flavour lts.
            let mut parts = release.splitn(3, '-');
            let (Some(v), Some(r), Some(flavour)) = (parts.next(), parts.next(), parts.next())
            else {
                return Err(format!(
                    "the running kernel {release} is not matched: it is not named like an Alpine kernel (6.6.14-0-lts)"
                ));
            };
            if r.parse::<u32>().is_err() {
                return Err(format!(
                    "the running kernel {release} is not matched: it is not named like an Alpine kernel (6.6.14-0-lts)"
                ));
            }
            let (name, version) = (format!("linux-{flavour}"), format!("{v}-r{r}"));
            if let Some(i) = packages
                .iter()
                .position(|p| p.name == name && p.version == version)
            {
                return Ok(Running::Installed(i));
            }
            (name.clone(), version, name)
        }
        PackageDb::Rpm => {
            // "5.14.0-362.8.1.el9_3.x86_64": version-release.arch.
            let evr = release
                .rsplit_once('.')
                .filter(|(_, arch)| ARCHES.contains(arch))
                .map_or(release, |(evr, _)| evr);
            if !evr.contains('-') {
                return Err(format!(
                    "the running kernel {release} is not matched: it is not named like a distribution kernel (version-release.arch)"
                ));
            }
            let without_epoch = |v: &str| v.split_once(':').map_or(v, |(_, v)| v).to_owned();
            if let Some(i) = packages.iter().position(|p| {
                RPM_KERNELS.contains(&p.name.as_str()) && without_epoch(&p.version) == evr
            }) {
                return Ok(Running::Installed(i));
            }
            ("kernel".to_owned(), evr.to_owned(), "kernel".to_owned())
        }
    };
    let (ty, default_ns) = match db {
        PackageDb::Dpkg => ("deb", "debian"),
        PackageDb::Apk => ("apk", "alpine"),
        PackageDb::Rpm => ("rpm", "redhat"),
    };
    let (namespace, distro_q) = super::distro_purl_parts(distro, default_ns);
    let purl = purl::build(
        ty,
        Some(namespace),
        &name,
        &version,
        &[("distro", &distro_q)],
    )
    .ok_or_else(|| format!("cannot form a purl for the running kernel {name} {version}"))?;
    Ok(Running::Package(Box::new(Package {
        ecosystem: vedette_model::os_ecosystem(distro, db),
        purl,
        source: Some(SourcePackage {
            name: source,
            version: version.clone(),
        }),
        locations: vec![Location {
            path: LOCATION.to_owned(),
            layer: None,
        }],
        owned_by: None,
        found_by: "uname".to_owned(),
        licenses: Vec::new(),
        module: None,
        name,
        version,
    })))
}

/// Architectures that end an rpm kernel release.
const ARCHES: &[&str] = &["x86_64", "aarch64", "ppc64le", "s390x", "i686", "armv7hl"];

/// The rpm packages that hold a kernel (RHEL 8+ split `kernel-core` out).
const RPM_KERNELS: &[&str] = &["kernel", "kernel-core", "kernel-default"];

/// The system's package format: from the installed OS packages, else from
/// what the distribution uses.
fn family(distro: Option<&Distro>, packages: &[Package]) -> Option<PackageDb> {
    let by_db = packages.iter().find_map(|p| match p.found_by.as_str() {
        "dpkg-db" => Some(PackageDb::Dpkg),
        "apk-db" => Some(PackageDb::Apk),
        "rpm-db" => Some(PackageDb::Rpm),
        _ => None,
    });
    by_db.or_else(|| {
        let eco = distro
            .and_then(vedette_model::coverage_of)
            .and_then(|c| c.ecosystem)?;
        match eco {
            Ecosystem::Debian | Ecosystem::Ubuntu => Some(PackageDb::Dpkg),
            Ecosystem::Alpine | Ecosystem::Wolfi | Ecosystem::Chainguard => Some(PackageDb::Apk),
            e if e.is_rpm() => Some(PackageDb::Rpm),
            _ => None,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn distro(id: &str, version: &str) -> Distro {
        Distro {
            id: id.into(),
            version_id: version.into(),
            version_codename: String::new(),
            pretty_name: String::new(),
            version: String::new(),
        }
    }

    fn installed(name: &str, version: &str, found_by: &str) -> Package {
        Package {
            name: name.into(),
            version: version.into(),
            ecosystem: Ecosystem::OtherOs,
            purl: format!("pkg:generic/{name}@{version}"),
            source: None,
            locations: Vec::new(),
            owned_by: None,
            found_by: found_by.into(),
            licenses: Vec::new(),
            module: None,
        }
    }

    fn synthesized(r: Result<Running, String>) -> Package {
        match r {
            Ok(Running::Package(p)) => *p,
            other => panic!("expected a package, got {other:?}"),
        }
    }

    // Release and build strings as the distributions' kernels print them.
    #[test]
    fn a_debian_kernel_not_installed_any_more_is_named_from_its_build_string() {
        let d = distro("debian", "12");
        let pkgs = [installed(
            "linux-image-6.1.0-28-amd64",
            "6.1.119-1",
            "dpkg-db",
        )];
        let p = synthesized(running_kernel(
            Some(&d),
            "6.1.0-18-amd64",
            Some("#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)"),
            &pkgs,
        ));
        assert_eq!(p.name, "linux-image-6.1.0-18-amd64");
        assert_eq!(p.version, "6.1.76-1");
        assert_eq!(p.source.unwrap().name, "linux");
        assert_eq!(p.ecosystem, Ecosystem::Debian);
        assert_eq!(
            p.purl,
            "pkg:deb/debian/linux-image-6.1.0-18-amd64@6.1.76-1?distro=debian-12"
        );
    }

    #[test]
    fn an_installed_kernel_that_runs_is_that_package() {
        let d = distro("debian", "12");
        let pkgs = [
            installed("bash", "5.2.15-2+b7", "dpkg-db"),
            installed("linux-image-6.1.0-18-amd64", "6.1.76-1", "dpkg-db"),
        ];
        let build = "#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)";
        assert_eq!(
            running_kernel(Some(&d), "6.1.0-18-amd64", Some(build), &pkgs),
            Ok(Running::Installed(1))
        );
        let u = distro("ubuntu", "22.04");
        let pkgs = [installed(
            "linux-image-5.15.0-101-generic",
            "5.15.0-101.111",
            "dpkg-db",
        )];
        assert_eq!(
            running_kernel(
                Some(&u),
                "5.15.0-101-generic",
                Some("#111-Ubuntu SMP Tue Mar 5 20:16:58 UTC 2024"),
                &pkgs
            ),
            Ok(Running::Installed(0))
        );
    }

    #[test]
    fn rpm_and_alpine_kernels_are_named_from_their_release() {
        let alma = distro("almalinux", "9.3");
        let pkgs = [installed("kernel-core", "5.14.0-362.8.1.el9_3", "rpm-db")];
        assert_eq!(
            running_kernel(Some(&alma), "5.14.0-362.8.1.el9_3.x86_64", None, &pkgs),
            Ok(Running::Installed(0))
        );
        let p = synthesized(running_kernel(
            Some(&alma),
            "5.14.0-284.11.1.el9_2.x86_64",
            None,
            &pkgs,
        ));
        assert_eq!(
            (p.name.as_str(), p.version.as_str()),
            ("kernel", "5.14.0-284.11.1.el9_2")
        );
        assert_eq!(p.ecosystem, Ecosystem::AlmaLinux);
        let alpine = distro("alpine", "3.19.1");
        let p = synthesized(running_kernel(
            Some(&alpine),
            "6.6.14-0-lts",
            None,
            &[installed("musl", "1.2.4_git20230717-r4", "apk-db")],
        ));
        assert_eq!(
            (p.name.as_str(), p.version.as_str()),
            ("linux-lts", "6.6.14-r0")
        );
    }

    #[test]
    fn a_kernel_the_distribution_did_not_build_is_refused_with_why() {
        let d = distro("debian", "12");
        let pkgs = [installed("bash", "5.2.15-2+b7", "dpkg-db")];
        let e = running_kernel(
            Some(&d),
            "6.18.44-fc-v973",
            Some("#1 SMP PREEMPT_DYNAMIC @0"),
            &pkgs,
        )
        .unwrap_err();
        assert!(
            e.contains("6.18.44-fc-v973") && e.contains("not matched"),
            "{e}"
        );
        let e = running_kernel(None, "6.18.44", None, &[]).unwrap_err();
        assert!(e.contains("no dpkg, apk or rpm database"), "{e}");
    }
}

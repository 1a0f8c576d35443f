//! Which advisories an operating system's packages are matched against:
//! for each distribution Vedette recognises from `os-release`, the OSV
//! ecosystem (spelled as the OSV schema's list spells it) and how its
//! release reads. The one place this is decided: the catalogers label
//! packages with [`os_ecosystem`], the matcher asks [`release_applies`],
//! and the README and `vedette feed status` print [`COVERAGE`].

use crate::{Distro, Ecosystem};

/// The package database OS packages were read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackageDb {
    Dpkg,
    Apk,
    Rpm,
}

/// One row of the coverage table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Coverage {
    /// The distribution, as people name it.
    pub distro: &'static str,
    /// `os-release` `ID`s that name it.
    pub ids: &'static [&'static str],
    /// The OSV ecosystem its advisories are published under; `None`: no
    /// advisory source exists, its packages are listed and reported as
    /// uncovered.
    pub ecosystem: Option<Ecosystem>,
    /// How the release is matched, e.g. `Debian:12` for Debian 12.x.
    pub release: &'static str,
}

/// Every distribution Vedette recognises.
pub const COVERAGE: &[Coverage] = &[
    Coverage {
        distro: "Debian",
        ids: &["debian"],
        ecosystem: Some(Ecosystem::Debian),
        release: "`Debian:12` for 12.x",
    },
    Coverage {
        distro: "Ubuntu",
        ids: &["ubuntu"],
        ecosystem: Some(Ecosystem::Ubuntu),
        release: "`Ubuntu:22.04:LTS`, `Ubuntu:24.04:LTS`, `Ubuntu:24.10`; Pro fixes (`Ubuntu:Pro:…`) need a subscription, not assumed",
    },
    Coverage {
        distro: "Alpine",
        ids: &["alpine"],
        ecosystem: Some(Ecosystem::Alpine),
        release: "`Alpine:v3.19` for 3.19.x",
    },
    Coverage {
        distro: "Wolfi",
        ids: &["wolfi"],
        ecosystem: Some(Ecosystem::Wolfi),
        release: "`Wolfi` (rolling: no release); never Alpine",
    },
    Coverage {
        distro: "Chainguard",
        ids: &["chainguard"],
        ecosystem: Some(Ecosystem::Chainguard),
        release: "`Chainguard` (rolling: no release); never Alpine",
    },
    Coverage {
        distro: "AlmaLinux",
        ids: &["almalinux"],
        ecosystem: Some(Ecosystem::AlmaLinux),
        release: "`AlmaLinux:9` for 9.x; module streams apart",
    },
    Coverage {
        distro: "Rocky Linux",
        ids: &["rocky"],
        ecosystem: Some(Ecosystem::RockyLinux),
        release: "`Rocky Linux:9` for 9.x; module streams apart",
    },
    Coverage {
        distro: "Red Hat Enterprise Linux, UBI",
        ids: &["rhel"],
        ecosystem: Some(Ecosystem::RedHat),
        release: "`Red Hat:enterprise_linux:9::baseos` and `…::appstream` for 9.x (EUS/AUS streams not assumed)",
    },
    Coverage {
        distro: "SUSE Linux Enterprise",
        ids: &["sles", "sles_sap", "sle_hpc", "sle-micro"],
        ecosystem: Some(Ecosystem::Suse),
        release: "`SUSE:<product> 15 SP5`: every product and module of `VERSION` 15-SP5",
    },
    Coverage {
        distro: "openSUSE Leap, Tumbleweed",
        ids: &["opensuse-leap", "opensuse-tumbleweed", "opensuse"],
        ecosystem: Some(Ecosystem::OpenSuse),
        release: "`openSUSE:Leap 15.5`, `openSUSE:Tumbleweed` (`PRETTY_NAME`)",
    },
    Coverage {
        distro: "Mageia",
        ids: &["mageia"],
        ecosystem: Some(Ecosystem::Mageia),
        release: "`Mageia:9`",
    },
    Coverage {
        distro: "openEuler",
        ids: &["openEuler", "openeuler"],
        ecosystem: Some(Ecosystem::OpenEuler),
        release: "`openEuler:22.03-LTS-SP1` (`VERSION_ID` and `VERSION`)",
    },
    Coverage {
        distro: "Azure Linux, CBL-Mariner",
        ids: &["azurelinux", "mariner"],
        ecosystem: Some(Ecosystem::AzureLinux),
        release: "`Azure Linux:3` for 3.0 (Mariner 2.0: `Azure Linux:2`)",
    },
    Coverage {
        distro: "Photon OS",
        ids: &["photon"],
        ecosystem: Some(Ecosystem::PhotonOs),
        release: "`Photon OS:5.0`",
    },
    Coverage {
        distro: "Amazon Linux",
        ids: &["amzn"],
        ecosystem: None,
        release: "no OSV ecosystem: uncovered",
    },
    Coverage {
        distro: "Fedora, CentOS, Oracle Linux",
        ids: &["fedora", "centos", "ol"],
        ecosystem: None,
        release: "no OSV ecosystem: uncovered",
    },
];

/// The coverage row of a distribution, by its `ID` (`ID_LIKE` is not
/// followed: a derivative's packages are not its parent's).
pub fn coverage_of(distro: &Distro) -> Option<&'static Coverage> {
    COVERAGE
        .iter()
        .find(|c| c.ids.iter().any(|id| id.eq_ignore_ascii_case(&distro.id)))
}

/// The ecosystem of OS packages read from `db` on `distro`: the
/// distribution's own when its advisories cover that package format, else
/// [`Ecosystem::OtherOs`] (listed, reported as uncovered, never matched
/// against another distribution's advisories).
pub fn os_ecosystem(distro: Option<&Distro>, db: PackageDb) -> Ecosystem {
    let eco = distro.and_then(coverage_of).and_then(|c| c.ecosystem);
    match (eco, db) {
        (Some(e @ (Ecosystem::Debian | Ecosystem::Ubuntu)), PackageDb::Dpkg) => e,
        (
            Some(e @ (Ecosystem::Alpine | Ecosystem::Wolfi | Ecosystem::Chainguard)),
            PackageDb::Apk,
        ) => e,
        (Some(e), PackageDb::Rpm) if e.is_rpm() => e,
        _ => Ecosystem::OtherOs,
    }
}

fn major(version: &str) -> &str {
    version.split('.').next().unwrap_or(version)
}

/// Whether an advisory entry scoped to `release` (what follows `Eco:` in
/// its ecosystem string) applies to `distro`.
pub fn release_applies(eco: Ecosystem, distro: &Distro, release: &str) -> bool {
    let v = distro.version_id.as_str();
    match eco {
        Ecosystem::Debian => release == major(v),
        Ecosystem::Alpine => {
            let mut it = v.split('.');
            release == format!("v{}.{}", it.next().unwrap_or(""), it.next().unwrap_or(""))
        }
        Ecosystem::Ubuntu => {
            let lts = distro.version.contains("LTS") || distro.pretty_name.contains("LTS");
            release == v || (lts && release == format!("{v}:LTS"))
        }
        Ecosystem::Wolfi | Ecosystem::Chainguard => release.is_empty(),
        Ecosystem::AlmaLinux | Ecosystem::RockyLinux | Ecosystem::AzureLinux => {
            release == major(v) || release == v
        }
        Ecosystem::Mageia | Ecosystem::PhotonOs => release == v || release == major(v),
        Ecosystem::RedHat => {
            let m = major(v);
            release == format!("enterprise_linux:{m}::baseos")
                || release == format!("enterprise_linux:{m}::appstream")
        }
        Ecosystem::OpenEuler => {
            // VERSION="22.03 (LTS-SP1)" → 22.03-LTS-SP1
            let suffix = distro
                .version
                .split_once('(')
                .and_then(|(_, s)| s.strip_suffix(')'))
                .unwrap_or("");
            let want = if suffix.is_empty() {
                v.to_owned()
            } else {
                format!("{v}-{suffix}")
            };
            release == want
        }
        Ecosystem::OpenSuse => {
            let name = distro.pretty_name.trim();
            let short = name.strip_prefix("openSUSE ").unwrap_or(name);
            release == name || release == short
        }
        Ecosystem::Suse => {
            // VERSION="15-SP5" → "15 SP5" (else VERSION_ID 15.5); the
            // products and modules of it.
            let want = if distro.version.is_empty() {
                match v.split_once('.') {
                    Some((major, sp)) if sp != "0" => format!("{major} SP{sp}"),
                    _ => major(v).to_owned(),
                }
            } else {
                distro.version.replace('-', " ")
            };
            !want.is_empty()
                && (release.ends_with(&format!(" {want}"))
                    || release.contains(&format!(" {want} ")))
        }
        // Language ecosystems carry no release; an unknown OS matches nothing.
        Ecosystem::OtherOs => false,
        _ => release.is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(id: &str, version_id: &str, version: &str, pretty: &str) -> Distro {
        Distro {
            id: id.into(),
            version_id: version_id.into(),
            version: version.into(),
            pretty_name: pretty.into(),
            ..Distro::default()
        }
    }

    #[test]
    fn releases_read_as_each_distribution_writes_them() {
        let debian = d(
            "debian",
            "12",
            "12 (bookworm)",
            "Debian GNU/Linux 12 (bookworm)",
        );
        assert!(release_applies(Ecosystem::Debian, &debian, "12"));
        assert!(!release_applies(Ecosystem::Debian, &debian, "11"));
        let jammy = d(
            "ubuntu",
            "22.04",
            "22.04.3 LTS (Jammy Jellyfish)",
            "Ubuntu 22.04.3 LTS",
        );
        assert!(release_applies(Ecosystem::Ubuntu, &jammy, "22.04:LTS"));
        assert!(!release_applies(Ecosystem::Ubuntu, &jammy, "Pro:22.04:LTS"));
        assert!(!release_applies(Ecosystem::Ubuntu, &jammy, "20.04:LTS"));
        let alma = d("almalinux", "9.4", "9.4 (Seafoam Ocelot)", "AlmaLinux 9.4");
        assert!(release_applies(Ecosystem::AlmaLinux, &alma, "9"));
        assert!(!release_applies(Ecosystem::AlmaLinux, &alma, "8"));
        let ubi = d(
            "rhel",
            "9.4",
            "9.4 (Plow)",
            "Red Hat Enterprise Linux 9.4 (Plow)",
        );
        assert!(release_applies(
            Ecosystem::RedHat,
            &ubi,
            "enterprise_linux:9::appstream"
        ));
        assert!(!release_applies(
            Ecosystem::RedHat,
            &ubi,
            "rhel_eus:9.2::appstream"
        ));
        let euler = d(
            "openEuler",
            "22.03",
            "22.03 (LTS-SP1)",
            "openEuler 22.03 (LTS-SP1)",
        );
        assert!(release_applies(
            Ecosystem::OpenEuler,
            &euler,
            "22.03-LTS-SP1"
        ));
        let sles = d(
            "sles",
            "15.5",
            "15-SP5",
            "SUSE Linux Enterprise Server 15 SP5",
        );
        assert!(release_applies(
            Ecosystem::Suse,
            &sles,
            "SUSE Linux Enterprise Server 15 SP5"
        ));
        assert!(release_applies(
            Ecosystem::Suse,
            &sles,
            "SUSE Linux Enterprise Module for Basesystem 15 SP5"
        ));
        assert!(!release_applies(
            Ecosystem::Suse,
            &sles,
            "SUSE Linux Enterprise Server 15 SP4"
        ));
        // From an SBOM: no VERSION, only VERSION_ID.
        let sles = d("sles", "15.5", "", "");
        assert!(release_applies(
            Ecosystem::Suse,
            &sles,
            "SUSE Linux Enterprise Server 15 SP5"
        ));
        assert!(!release_applies(
            Ecosystem::Suse,
            &sles,
            "SUSE Linux Enterprise Server 15"
        ));
        let leap = d("opensuse-leap", "15.5", "15.5", "openSUSE Leap 15.5");
        assert!(release_applies(
            Ecosystem::OpenSuse,
            &leap,
            "openSUSE Leap 15.5"
        ));
        assert!(release_applies(Ecosystem::OpenSuse, &leap, "Leap 15.5"));
        let wolfi = d("wolfi", "20230201", "", "Wolfi");
        assert!(release_applies(Ecosystem::Wolfi, &wolfi, ""));
    }

    #[test]
    fn packages_belong_to_their_own_distribution_or_to_none() {
        let wolfi = d("wolfi", "20230201", "", "Wolfi");
        assert_eq!(os_ecosystem(Some(&wolfi), PackageDb::Apk), Ecosystem::Wolfi);
        let amzn = d("amzn", "2023", "2023", "Amazon Linux 2023");
        assert_eq!(
            os_ecosystem(Some(&amzn), PackageDb::Rpm),
            Ecosystem::OtherOs
        );
        let alma = d("almalinux", "9.4", "", "");
        assert_eq!(
            os_ecosystem(Some(&alma), PackageDb::Rpm),
            Ecosystem::AlmaLinux
        );
        // Debian's format on an rpm distribution, an unknown ID, no os-release.
        assert_eq!(
            os_ecosystem(Some(&alma), PackageDb::Dpkg),
            Ecosystem::OtherOs
        );
        assert_eq!(
            os_ecosystem(Some(&d("kali", "2024", "", "")), PackageDb::Dpkg),
            Ecosystem::OtherOs
        );
        assert_eq!(os_ecosystem(None, PackageDb::Rpm), Ecosystem::OtherOs);
        assert!(COVERAGE.iter().all(|c| !c.ids.is_empty()));
    }

    #[test]
    fn the_readme_table_lists_every_distribution_as_this_table_does() {
        let readme =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../README.md"))
                .expect("the README beside the workspace");
        for c in COVERAGE {
            let ids: Vec<String> = c.ids.iter().map(|i| format!("`{i}`")).collect();
            let advisories = match c.ecosystem {
                Some(e) => format!("`osv/{}`", e.osv_name()),
                None => "none: uncovered".to_owned(),
            };
            let row = format!(
                "| {} | {} | {advisories} | {} |",
                c.distro,
                ids.join(", "),
                c.release
            );
            assert!(
                readme.contains(&row),
                "the README's coverage table lacks:\n{row}"
            );
        }
    }
}

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The package ecosystems Vedette catalogues. The serde spelling is OSV's
/// ecosystem name, so a package's ecosystem selects its advisories directly.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    TS,
    utoipa::ToSchema,
)]
#[ts(export)]
pub enum Ecosystem {
    Debian,
    Ubuntu,
    Alpine,
    Wolfi,
    Chainguard,
    #[serde(rename = "Red Hat")]
    RedHat,
    #[serde(rename = "Rocky Linux")]
    RockyLinux,
    AlmaLinux,
    #[serde(rename = "openSUSE")]
    OpenSuse,
    #[serde(rename = "SUSE")]
    Suse,
    Mageia,
    #[serde(rename = "openEuler")]
    OpenEuler,
    #[serde(rename = "Azure Linux")]
    AzureLinux,
    #[serde(rename = "Photon OS")]
    PhotonOs,
    /// Packages of an operating system no advisory source covers (Amazon
    /// Linux, Fedora, an unknown `ID`): listed, never matched, and named in
    /// the report as uncovered.
    #[serde(rename = "other OS")]
    OtherOs,
    PyPI,
    #[serde(rename = "npm")]
    Npm,
    #[serde(rename = "crates.io")]
    CratesIo,
    Go,
    Maven,
    RubyGems,
    Packagist,
    NuGet,
}

impl Ecosystem {
    /// OSV's name for the ecosystem.
    pub fn osv_name(self) -> &'static str {
        match self {
            Ecosystem::Debian => "Debian",
            Ecosystem::Ubuntu => "Ubuntu",
            Ecosystem::Alpine => "Alpine",
            Ecosystem::Wolfi => "Wolfi",
            Ecosystem::Chainguard => "Chainguard",
            Ecosystem::RedHat => "Red Hat",
            Ecosystem::RockyLinux => "Rocky Linux",
            Ecosystem::AlmaLinux => "AlmaLinux",
            Ecosystem::OpenSuse => "openSUSE",
            Ecosystem::Suse => "SUSE",
            Ecosystem::Mageia => "Mageia",
            Ecosystem::OpenEuler => "openEuler",
            Ecosystem::AzureLinux => "Azure Linux",
            Ecosystem::PhotonOs => "Photon OS",
            Ecosystem::OtherOs => "other OS",
            Ecosystem::PyPI => "PyPI",
            Ecosystem::Npm => "npm",
            Ecosystem::CratesIo => "crates.io",
            Ecosystem::Go => "Go",
            Ecosystem::Maven => "Maven",
            Ecosystem::RubyGems => "RubyGems",
            Ecosystem::Packagist => "Packagist",
            Ecosystem::NuGet => "NuGet",
        }
    }

    /// Whether packages of this ecosystem are installed by the OS package manager.
    pub fn is_os(self) -> bool {
        self.is_rpm()
            || matches!(
                self,
                Ecosystem::Debian
                    | Ecosystem::Ubuntu
                    | Ecosystem::Alpine
                    | Ecosystem::Wolfi
                    | Ecosystem::Chainguard
                    | Ecosystem::OtherOs
            )
    }

    /// Whether its packages are rpms (compared as `rpmvercmp` does).
    pub fn is_rpm(self) -> bool {
        matches!(
            self,
            Ecosystem::RedHat
                | Ecosystem::RockyLinux
                | Ecosystem::AlmaLinux
                | Ecosystem::OpenSuse
                | Ecosystem::Suse
                | Ecosystem::Mageia
                | Ecosystem::OpenEuler
                | Ecosystem::AzureLinux
                | Ecosystem::PhotonOs
        )
    }
}

/// The operating system of a target, from `/etc/os-release`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct Distro {
    /// `ID`: debian, ubuntu, alpine, rhel, rocky, ...
    pub id: String,
    /// `VERSION_ID`: 12, 22.04, 3.23.6
    pub version_id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version_codename: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub pretty_name: String,
    /// `VERSION`: `22.04.3 LTS (Jammy Jellyfish)`, `22.03 (LTS-SP1)`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version: String,
}

/// Where a package was found: a file path in the final filesystem view and,
/// for images, the digest of the layer that last wrote it.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, TS, utoipa::ToSchema,
)]
#[ts(export)]
pub struct Location {
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub layer: Option<String>,
}

/// The source package an OS binary package was built from (dpkg `Source:`,
/// apk origin, rpm sourcerpm): what distribution advisories name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct SourcePackage {
    pub name: String,
    pub version: String,
}

/// One installed package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct Package {
    pub name: String,
    pub version: String,
    pub ecosystem: Ecosystem,
    /// Package URL (purl spec), e.g. `pkg:deb/debian/bash@5.2.15-2+b7?arch=amd64&distro=debian-12`.
    pub purl: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub source: Option<SourcePackage>,
    /// Files this package was read from (a package database, a lock file, a binary).
    pub locations: Vec<Location>,
    /// For a language package installed by the OS package manager (Debian's
    /// `python3-urllib3` ships a dist-info): the purl of the owning OS package.
    /// Matching then goes through the distribution's advisories instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub owned_by: Option<String>,
    /// The cataloger that found it, e.g. `dpkg-status`.
    pub found_by: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<String>,
    /// The module stream an rpm came from (`nodejs:18`, from its
    /// `MODULARITYLABEL`): only that stream's errata apply to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub module: Option<String>,
}

/// One layer of an image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct LayerInfo {
    pub digest: String,
    #[ts(type = "number")]
    pub size: u64,
    pub media_type: String,
}

/// What is known about an image once its manifest is read.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct ImageInfo {
    /// What the user asked for, normalised (e.g. `docker.io/library/debian:12`).
    pub reference: String,
    /// Digest of the image manifest (for one platform); the key of its inventory.
    pub manifest_digest: String,
    /// Digest of the manifest list / index the platform was chosen from, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub index_digest: Option<String>,
    pub config_digest: String,
    /// `os/architecture[/variant]`.
    pub platform: String,
    pub layers: Vec<LayerInfo>,
    /// Image creation time from its config, if it says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub created: Option<String>,
}

/// Everything installed in one target: the first half of a scan, stored and
/// re-matched later without fetching the target again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct Inventory {
    /// Version of this document's layout.
    pub schema: u32,
    /// What was scanned, as the user named it.
    pub target: String,
    pub kind: crate::TargetKind,
    /// Image manifest digest, or `sha256:` of a directory's wanted files.
    pub digest: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub image: Option<ImageInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub distro: Option<Distro>,
    pub packages: Vec<Package>,
    /// Problems that did not stop the scan (a malformed lock file, a skipped file).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// OS package databases that are there but could not be read: the
    /// target's packages are not all known, so it cannot be judged.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<Unreadable>,
    pub extractor_version: u32,
    /// What a host scan learnt besides packages (hosts only).
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<crate::HostFacts>,
    #[ts(type = "string")]
    pub scanned_at: chrono::DateTime<chrono::Utc>,
}

impl Inventory {
    pub const SCHEMA: u32 = 1;
}

/// A package database that is present but cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct Unreadable {
    pub path: String,
    pub reason: String,
}

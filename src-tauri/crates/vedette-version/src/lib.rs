//! Version schemes, one per ecosystem. A wrong comparison is a missed
//! vulnerability or a false alarm, so each scheme follows its ecosystem's own
//! tool (`dpkg --compare-versions`, rpm's `rpmvercmp`, apk-tools, node-semver,
//! Python `packaging`, Maven's `ComparableVersion`, RubyGems' `Gem::Version`,
//! NuGet's `NuGetVersion`, PHP's `version_compare` after Composer's
//! normalisation) and is tested against it where that tool runs here.

use std::cmp::Ordering;

/// `PartialOrd`, `PartialEq` and `Eq` from a type's `Ord`: versions are
/// equal exactly when they compare equal (`1.0` and `1.0.0` in PEP 440).
macro_rules! total_order {
    ($t:ty) => {
        impl PartialOrd for $t {
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }
        impl PartialEq for $t {
            fn eq(&self, other: &Self) -> bool {
                self.cmp(other) == std::cmp::Ordering::Equal
            }
        }
        impl Eq for $t {}
    };
}
pub(crate) use total_order;

mod apk;
mod composer;
mod dpkg;
mod maven;
mod nuget;
mod rpm;
mod rubygems;
mod semverish;

/// A version string the scheme cannot read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{scheme} version {version:?} is not valid: {reason}")]
pub struct VersionError {
    pub scheme: &'static str,
    pub version: String,
    pub reason: String,
}

impl VersionError {
    fn new(scheme: Scheme, version: &str, reason: impl Into<String>) -> Self {
        VersionError {
            scheme: scheme.name(),
            version: version.to_owned(),
            reason: reason.into(),
        }
    }
}

/// One ordering of version strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// Debian and Ubuntu (`dpkg --compare-versions`).
    Dpkg,
    /// Alpine (apk-tools).
    Apk,
    /// Red Hat family and SUSE (`rpmvercmp` over epoch:version-release).
    Rpm,
    /// SemVer 2.0 as crates.io (Cargo) reads it.
    Semver,
    /// node-semver (npm), loose: a leading `v` or `=` and spaces are dropped.
    NodeSemver,
    /// Go modules: SemVer with a `v` prefix, pseudo-versions are pre-releases,
    /// `+incompatible` is build metadata and does not order.
    Go,
    /// PEP 440 (PyPI).
    Pep440,
    /// Maven's `ComparableVersion`.
    Maven,
    /// RubyGems' `Gem::Version`.
    RubyGems,
    /// NuGet's `NuGetVersion`: four numeric parts, SemVer 2.0 pre-release labels
    /// compared without case.
    NuGet,
    /// Composer (Packagist): PHP `version_compare` over normalised versions.
    Composer,
}

impl Scheme {
    /// Every scheme (for tools that try them all: the fuzzers, the tests).
    pub const ALL: [Scheme; 11] = [
        Scheme::Dpkg,
        Scheme::Apk,
        Scheme::Rpm,
        Scheme::Semver,
        Scheme::NodeSemver,
        Scheme::Go,
        Scheme::Pep440,
        Scheme::Maven,
        Scheme::RubyGems,
        Scheme::NuGet,
        Scheme::Composer,
    ];

    /// The scheme of an OSV ecosystem name; a release suffix (`Debian:12`,
    /// `Alpine:v3.19`) is ignored.
    pub fn for_ecosystem(ecosystem: &str) -> Option<Scheme> {
        let base = ecosystem.split(':').next().unwrap_or(ecosystem);
        Some(match base {
            "Debian" | "Ubuntu" => Scheme::Dpkg,
            "Alpine" | "Wolfi" | "Chainguard" => Scheme::Apk,
            "Red Hat" | "Rocky Linux" | "AlmaLinux" | "openSUSE" | "SUSE" | "Mageia"
            | "openEuler" | "Azure Linux" | "Photon OS" => Scheme::Rpm,
            "crates.io" => Scheme::Semver,
            "npm" => Scheme::NodeSemver,
            "Go" => Scheme::Go,
            "PyPI" => Scheme::Pep440,
            "Maven" => Scheme::Maven,
            "RubyGems" => Scheme::RubyGems,
            "NuGet" => Scheme::NuGet,
            "Packagist" => Scheme::Composer,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Scheme::Dpkg => "dpkg",
            Scheme::Apk => "apk",
            Scheme::Rpm => "rpm",
            Scheme::Semver => "semver",
            Scheme::NodeSemver => "node-semver",
            Scheme::Go => "go",
            Scheme::Pep440 => "pep440",
            Scheme::Maven => "maven",
            Scheme::RubyGems => "rubygems",
            Scheme::NuGet => "nuget",
            Scheme::Composer => "composer",
        }
    }

    /// Reads `s` in this scheme.
    pub fn parse(self, s: &str) -> Result<Version, VersionError> {
        let err = |reason: &str| VersionError::new(self, s, reason);
        let t = s.trim();
        if t.is_empty() {
            return Err(err("empty"));
        }
        Ok(match self {
            Scheme::Dpkg => Version::Dpkg(dpkg::Version::parse(t).map_err(&err)?),
            Scheme::Apk => Version::Apk(apk::Version::parse(t).map_err(&err)?),
            Scheme::Rpm => Version::Rpm(rpm::Version::parse(t)),
            Scheme::Semver => Version::Semver(semverish::cargo(t).map_err(|r| err(&r))?),
            Scheme::NodeSemver => Version::Semver(semverish::node(t).map_err(|r| err(&r))?),
            Scheme::Go => Version::Semver(semverish::go(t).map_err(|r| err(&r))?),
            Scheme::Pep440 => Version::Pep440(
                t.parse::<pep440_rs::Version>()
                    .map_err(|e| err(&e.to_string()))?,
            ),
            Scheme::Maven => Version::Maven(maven::Version::parse(t)),
            Scheme::RubyGems => Version::RubyGems(rubygems::Version::parse(t).map_err(&err)?),
            Scheme::NuGet => Version::NuGet(nuget::Version::parse(t).map_err(&err)?),
            Scheme::Composer => Version::Composer(composer::Version::parse(t).map_err(err)?),
        })
    }

    /// Compares two version strings of this scheme.
    pub fn compare(self, a: &str, b: &str) -> Result<Ordering, VersionError> {
        Ok(self.parse(a)?.cmp(&self.parse(b)?))
    }
}

/// A parsed version. Versions of one scheme are totally ordered; comparing
/// versions of different schemes is meaningless (they order by scheme).
#[derive(Debug, Clone)]
pub enum Version {
    Dpkg(dpkg::Version),
    Apk(apk::Version),
    Rpm(rpm::Version),
    Semver(semver::Version),
    Pep440(pep440_rs::Version),
    Maven(maven::Version),
    RubyGems(rubygems::Version),
    NuGet(nuget::Version),
    Composer(composer::Version),
}

impl Version {
    fn rank(&self) -> u8 {
        match self {
            Version::Dpkg(_) => 0,
            Version::Apk(_) => 1,
            Version::Rpm(_) => 2,
            Version::Semver(_) => 3,
            Version::Pep440(_) => 4,
            Version::Maven(_) => 5,
            Version::RubyGems(_) => 6,
            Version::NuGet(_) => 7,
            Version::Composer(_) => 8,
        }
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Version::Dpkg(a), Version::Dpkg(b)) => a.cmp(b),
            (Version::Apk(a), Version::Apk(b)) => a.cmp(b),
            (Version::Rpm(a), Version::Rpm(b)) => a.cmp(b),
            // SemVer precedence: build metadata does not order.
            (Version::Semver(a), Version::Semver(b)) => (a.major, a.minor, a.patch)
                .cmp(&(b.major, b.minor, b.patch))
                .then_with(|| semverish::cmp_pre(&a.pre, &b.pre)),
            (Version::Pep440(a), Version::Pep440(b)) => a.cmp(b),
            (Version::Maven(a), Version::Maven(b)) => a.cmp(b),
            (Version::RubyGems(a), Version::RubyGems(b)) => a.cmp(b),
            (Version::NuGet(a), Version::NuGet(b)) => a.cmp(b),
            (Version::Composer(a), Version::Composer(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

total_order!(Version);

#[cfg(test)]
mod tests;

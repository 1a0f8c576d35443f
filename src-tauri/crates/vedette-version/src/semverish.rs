//! SemVer 2.0 for crates.io, npm and Go, parsed by the `semver` crate after
//! each ecosystem's own spelling rules.

use std::cmp::Ordering;

use semver::{Prerelease, Version};

/// crates.io: strict SemVer 2.0, as Cargo reads it.
pub(crate) fn cargo(s: &str) -> Result<Version, String> {
    Version::parse(s).map_err(|e| e.to_string())
}

/// npm: node-semver's loose reading. A leading `=` or `v` and whitespace
/// are dropped (`= v1.2.3`); the rest is SemVer 2.0.
pub(crate) fn node(s: &str) -> Result<Version, String> {
    let t = s.trim().trim_start_matches('=').trim_start();
    let t = t.strip_prefix(['v', 'V']).unwrap_or(t).trim();
    Version::parse(t).map_err(|e| e.to_string())
}

/// Go modules: `v1.2.3`, `v0.0.0-20210101000000-abcdef123456`
/// (pseudo-version: a pre-release), `v2.0.0+incompatible` (build metadata).
/// OSV writes them without the `v`; both are read.
pub(crate) fn go(s: &str) -> Result<Version, String> {
    let t = s.strip_prefix('v').unwrap_or(s);
    Version::parse(t).map_err(|e| e.to_string())
}

/// SemVer 2.0 precedence of pre-releases: none is newest; identifiers
/// compare numerically when numeric, numbers before text, longer wins.
pub(crate) fn cmp_pre(a: &Prerelease, b: &Prerelease) -> Ordering {
    // semver's Ord for Prerelease implements exactly this.
    a.cmp(b)
}

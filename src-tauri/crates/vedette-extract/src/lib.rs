//! Catalogers: pure parsers from the bytes of package databases and lock
//! files to [`Package`]s. Fetching (registries, archives, directories, SSH)
//! lives in `vedette-sources`; this crate never does I/O.
//!
//! A source walks its filesystem view and keeps the files some cataloger
//! [`wants`](Cataloger::wants); [`catalog`] then runs every cataloger over
//! those [`Files`], and marks language packages installed by the OS package
//! manager as owned by their OS package.

mod files;
pub mod javascript;
pub mod os;
mod purl;
pub mod python;
pub mod rust;

pub use files::{File, Files};
use vedette_model::{Distro, Package};

/// Bumped whenever any cataloger's output changes, so stored inventories
/// made by an older Vedette can be recognised and re-extracted.
pub const EXTRACTOR_VERSION: u32 = 1;

/// Files larger than this are not read by any cataloger (a package database
/// or lock file is far smaller; anything bigger is hostile or not ours).
pub const MAX_FILE_SIZE: u64 = 256 * 1024 * 1024;

/// A problem with one input file; the other files and catalogers go on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Warning {
    pub path: String,
    pub cataloger: String,
    pub message: String,
}

/// What the catalogers found in one filesystem view.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Catalog {
    pub distro: Option<Distro>,
    pub packages: Vec<Package>,
    pub warnings: Vec<Warning>,
}

/// Context every cataloger gets.
pub struct Context<'a> {
    pub distro: Option<&'a Distro>,
}

/// Output of one cataloger run.
#[derive(Default)]
pub struct Found {
    pub packages: Vec<Package>,
    pub warnings: Vec<(String, String)>,
}

impl Found {
    pub fn warn(&mut self, path: &str, message: impl Into<String>) {
        self.warnings.push((path.to_owned(), message.into()));
    }
}

/// One package database or lock-file format.
pub trait Cataloger: Send + Sync {
    /// Short stable name, recorded as [`Package::found_by`].
    fn name(&self) -> &'static str;
    /// Whether the file at `path` (absolute, `/`-separated) is input for this cataloger.
    fn wants(&self, path: &str) -> bool;
    fn catalog(&self, files: &Files, cx: &Context<'_>) -> Found;
}

/// Every cataloger Vedette has.
pub fn catalogers() -> Vec<Box<dyn Cataloger>> {
    vec![
        Box::new(os::dpkg::DpkgCataloger),
        Box::new(os::apk::ApkCataloger),
        Box::new(python::PythonInstalledCataloger),
        Box::new(python::PythonLockCataloger),
        Box::new(javascript::NpmLockCataloger),
        Box::new(javascript::NodeModulesCataloger),
        Box::new(javascript::YarnLockCataloger),
        Box::new(javascript::PnpmLockCataloger),
        Box::new(rust::CargoLockCataloger),
    ]
}

/// Whether any cataloger (or the OS detection) wants the file at `path`.
pub fn wanted(path: &str, catalogers: &[Box<dyn Cataloger>]) -> bool {
    os::os_release::wants(path) || catalogers.iter().any(|c| c.wants(path))
}

/// Runs every cataloger over `files` and resolves ownership.
pub fn catalog(files: &Files, catalogers: &[Box<dyn Cataloger>]) -> Catalog {
    let mut out = Catalog {
        distro: os::os_release::detect(files),
        ..Catalog::default()
    };
    let cx = Context {
        distro: out.distro.as_ref(),
    };
    for c in catalogers {
        let found = c.catalog(files, &cx);
        out.packages.extend(found.packages);
        out.warnings
            .extend(found.warnings.into_iter().map(|(path, message)| Warning {
                path,
                cataloger: c.name().to_owned(),
                message,
            }));
    }
    os::ownership::mark_owned(files, &mut out.packages);
    out.packages.sort_by(|a, b| {
        (a.ecosystem, &a.name, &a.version, &a.purl).cmp(&(
            b.ecosystem,
            &b.name,
            &b.version,
            &b.purl,
        ))
    });
    out
}

/// Reads a file of `../shared` (the advisory feeds and package fixtures every
/// checkout has beside it) for tests; `$VEDETTE_SHARED` overrides the place.
#[cfg(test)]
pub(crate) fn shared(rel: &str) -> String {
    let base = std::env::var_os("VEDETTE_SHARED")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../../shared")
        });
    let path = base.join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

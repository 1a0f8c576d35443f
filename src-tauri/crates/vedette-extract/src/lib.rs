//! Catalogers: pure parsers from the bytes of package databases and lock
//! files to [`Package`]s. Fetching (registries, archives, directories, SSH)
//! lives in `vedette-sources`; this crate never does I/O.
//!
//! A source walks its filesystem view and keeps the files some cataloger
//! [`wants`](Cataloger::wants); [`catalog`] then runs every cataloger over
//! those [`Files`], and marks language packages installed by the OS package
//! manager as owned by their OS package.

pub mod binary;
pub mod dotnet;
mod files;
pub mod go;
pub mod java;
pub mod javascript;
mod lockfiles;
pub mod os;
pub mod php;
mod purl;
pub mod python;
pub mod ruby;
pub mod rust;
pub mod sbom;

pub use files::{File, Files};
use vedette_model::{Distro, Package};

/// Bumped whenever any cataloger's output changes, so stored inventories
/// made by an older Vedette can be recognised and re-extracted.
///
/// 2: every rpm database format with its WAL, module streams, packages
/// labelled with their own distribution (Wolfi, SUSE, an uncovered OS).
pub const EXTRACTOR_VERSION: u32 = 2;

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
    /// OS package databases that are there but could not be read: what
    /// they hold is unknown, so the target cannot be judged.
    #[serde(default)]
    pub unreadable: Vec<Warning>,
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
    /// Files an OS package manager says it installed: (path, owner's purl).
    pub installed_files: Vec<(String, String)>,
    /// Package databases present but unreadable: (path, why).
    pub unreadable: Vec<(String, String)>,
}

impl Found {
    pub fn warn(&mut self, path: &str, message: impl Into<String>) {
        self.warnings.push((path.to_owned(), message.into()));
    }

    /// An OS package database that is there but cannot be read.
    pub fn unreadable(&mut self, path: &str, message: impl Into<String>) {
        self.unreadable.push((path.to_owned(), message.into()));
    }

    /// Adds what another run found.
    pub fn extend(&mut self, other: Found) {
        self.packages.extend(other.packages);
        self.warnings.extend(other.warnings);
        self.installed_files.extend(other.installed_files);
        self.unreadable.extend(other.unreadable);
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

/// A package found in `file` at `path`; callers add what else they know
/// (source package, licences) with struct update syntax.
pub(crate) fn found_in(
    name: &str,
    version: &str,
    ecosystem: vedette_model::Ecosystem,
    purl: String,
    path: &str,
    file: &File,
    found_by: &str,
) -> Package {
    Package {
        name: name.to_owned(),
        version: version.to_owned(),
        ecosystem,
        purl,
        source: None,
        locations: vec![vedette_model::Location {
            path: path.to_owned(),
            layer: file.layer.clone(),
        }],
        owned_by: None,
        found_by: found_by.to_owned(),
        licenses: Vec::new(),
        module: None,
    }
}

/// Every cataloger Vedette has.
pub fn catalogers() -> Vec<Box<dyn Cataloger>> {
    vec![
        Box::new(os::dpkg::DpkgCataloger),
        Box::new(os::apk::ApkCataloger),
        Box::new(os::rpm::RpmCataloger),
        Box::new(python::PythonInstalledCataloger),
        Box::new(python::PythonLockCataloger),
        Box::new(javascript::NpmLockCataloger),
        Box::new(javascript::NodeModulesCataloger),
        Box::new(javascript::YarnLockCataloger),
        Box::new(javascript::PnpmLockCataloger),
        Box::new(rust::CargoLockCataloger),
        Box::new(rust::auditable::AuditableCataloger),
        Box::new(ruby::RubyCataloger),
        Box::new(php::ComposerCataloger),
        Box::new(dotnet::NugetCataloger),
        Box::new(go::GoBinaryCataloger),
        Box::new(java::JavaCataloger),
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
    let mut owners = std::collections::HashMap::new();
    for c in catalogers {
        let found = c.catalog(files, &cx);
        owners.extend(found.installed_files);
        out.packages.extend(found.packages);
        out.unreadable
            .extend(found.unreadable.into_iter().map(|(path, message)| Warning {
                path,
                cataloger: c.name().to_owned(),
                message,
            }));
        out.warnings
            .extend(found.warnings.into_iter().map(|(path, message)| Warning {
                path,
                cataloger: c.name().to_owned(),
                message,
            }));
    }
    os::ownership::mark_owned(&owners, &mut out.packages);
    out.packages = merge_duplicates(std::mem::take(&mut out.packages));
    out
}

/// One package per purl: a lock file and the installed manifest of the same
/// package (or two lock files) add locations, not packages. Sorting makes
/// duplicates neighbours, and their locations and licences are deduplicated
/// by sorting too: linear-logarithmic however many copies an image holds.
fn merge_duplicates(mut packages: Vec<Package>) -> Vec<Package> {
    packages.sort_by(|a, b| {
        (a.ecosystem, &a.name, &a.version, &a.purl).cmp(&(
            b.ecosystem,
            &b.name,
            &b.version,
            &b.purl,
        ))
    });
    let mut out: Vec<Package> = Vec::with_capacity(packages.len());
    for p in packages {
        match out.last_mut() {
            Some(last) if last.purl == p.purl && last.ecosystem == p.ecosystem => {
                last.locations.extend(p.locations);
                last.licenses.extend(p.licenses);
                if last.owned_by.is_none() {
                    last.owned_by = p.owned_by;
                }
            }
            _ => out.push(p),
        }
    }
    for p in &mut out {
        p.locations.sort();
        p.locations.dedup();
        // Licences keep their first-seen order; only repeats go.
        let mut seen = std::collections::HashSet::new();
        p.licenses.retain(|l| seen.insert(l.clone()));
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn view_of(root: &str) -> Files {
        let base = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../../shared/fixtures")
            .join(root);
        let cats = catalogers();
        let mut files = Files::new();
        let mut stack = vec![base.clone()];
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(&dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    let rel = format!("/{}", p.strip_prefix(&base).unwrap().display());
                    if wanted(&rel, &cats) {
                        files.insert(rel, std::fs::read(&p).unwrap(), None);
                    }
                }
            }
        }
        files
    }

    #[test]
    fn the_lang_layer_gives_one_package_per_purl_with_every_location() {
        let cat = catalog(&view_of("lang"), &catalogers());
        let lodash: Vec<_> = cat.packages.iter().filter(|p| p.name == "lodash").collect();
        assert_eq!(lodash.len(), 1);
        let paths: Vec<_> = lodash[0]
            .locations
            .iter()
            .map(|l| l.path.as_str())
            .collect();
        assert_eq!(
            paths,
            [
                "/app/node/node_modules/lodash/package.json",
                "/app/node/package-lock.json"
            ]
        );
        assert_eq!(lodash[0].licenses, ["MIT"]);
        let purls: Vec<_> = cat.packages.iter().map(|p| p.purl.as_str()).collect();
        assert_eq!(purls.len(), 13, "{purls:#?}");
        assert!(cat.warnings.is_empty(), "{:?}", cat.warnings);
    }

    #[test]
    fn the_debian_root_is_debian_12_with_88_packages() {
        let cat = catalog(&view_of("debian-12-minbase"), &catalogers());
        assert_eq!(cat.distro.as_ref().unwrap().version_id, "12");
        assert_eq!(cat.packages.len(), 88);
        assert!(cat
            .packages
            .iter()
            .all(|p| p.purl.contains("distro=debian-12")));
    }
}

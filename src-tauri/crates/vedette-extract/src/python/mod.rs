//! Python: installed distributions (`*.dist-info/METADATA`,
//! `*.egg-info/PKG-INFO`) and lock files (pinned requirements, poetry.lock,
//! Pipfile.lock).

mod lock;
mod metadata;

pub use lock::{parse_pipfile_lock, parse_poetry_lock, parse_requirements, PythonLockCataloger};
pub use metadata::{parse_metadata, PythonInstalledCataloger};

use vedette_model::{Ecosystem, Package};

/// PEP 503 normalised name, as the purl spec and OSV's PyPI records use it.
pub fn normalize_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut last_sep = false;
    for c in name.trim().chars() {
        if matches!(c, '-' | '_' | '.') {
            if !last_sep {
                out.push('-');
            }
            last_sep = true;
        } else {
            out.push(c.to_ascii_lowercase());
            last_sep = false;
        }
    }
    out
}

pub(crate) fn package(
    name: &str,
    version: &str,
    path: &str,
    file: &crate::File,
    found_by: &str,
    licenses: Vec<String>,
) -> Option<Package> {
    let purl = crate::purl::build("pypi", None, &normalize_name(name), version, &[])?;
    Some(Package {
        licenses,
        ..crate::found_in(name, version, Ecosystem::PyPI, purl, path, file, found_by)
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_are_normalized_as_pep_503_says() {
        assert_eq!(super::normalize_name("Jinja2"), "jinja2");
        assert_eq!(super::normalize_name("zope.interface"), "zope-interface");
        assert_eq!(super::normalize_name("Foo__Bar-.baz"), "foo-bar-baz");
    }
}

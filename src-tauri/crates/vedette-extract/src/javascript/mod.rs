//! JavaScript: npm's package-lock.json (v1–v3), yarn.lock (classic and
//! berry), pnpm-lock.yaml (v5–v9), and installed `node_modules/*/package.json`.

mod locks;

pub use locks::{parse_package_lock, parse_pnpm_lock, parse_yarn_lock};

use vedette_model::{Ecosystem, Package};

use crate::{Cataloger, Context, Files, Found};

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

pub(crate) fn package(
    name: &str,
    version: &str,
    path: &str,
    file: &crate::File,
    found_by: &str,
    licenses: Vec<String>,
) -> Option<Package> {
    let purl = npm_purl(name, version)?;
    Some(Package {
        licenses,
        ..crate::found_in(name, version, Ecosystem::Npm, purl, path, file, found_by)
    })
}

fn npm_purl(name: &str, version: &str) -> Option<String> {
    let (namespace, short) = match name.strip_prefix('@').and_then(|n| n.split_once('/')) {
        Some((scope, short)) => (Some(format!("@{scope}")), short),
        None => (None, name),
    };
    crate::purl::build("npm", namespace.as_deref(), short, version, &[])
}

fn catalog_with(
    files: &Files,
    wants: impl Fn(&str) -> bool,
    parse: impl Fn(&str) -> Result<Vec<(String, String)>, String>,
    found_by: &str,
) -> Found {
    crate::lockfiles::catalog_pairs(
        files,
        wants,
        |_, text| parse(text),
        Ecosystem::Npm,
        npm_purl,
        found_by,
    )
}

pub struct NpmLockCataloger;

impl Cataloger for NpmLockCataloger {
    fn name(&self) -> &'static str {
        "npm-lock"
    }
    fn wants(&self, path: &str) -> bool {
        // node_modules/.package-lock.json repeats what package-lock.json says.
        file_name(path) == "package-lock.json" && !path.contains("/node_modules/")
    }
    fn catalog(&self, files: &Files, _cx: &Context<'_>) -> Found {
        catalog_with(files, |p| self.wants(p), parse_package_lock, self.name())
    }
}

pub struct YarnLockCataloger;

impl Cataloger for YarnLockCataloger {
    fn name(&self) -> &'static str {
        "yarn-lock"
    }
    fn wants(&self, path: &str) -> bool {
        file_name(path) == "yarn.lock" && !path.contains("/node_modules/")
    }
    fn catalog(&self, files: &Files, _cx: &Context<'_>) -> Found {
        catalog_with(
            files,
            |p| self.wants(p),
            |t| Ok(parse_yarn_lock(t)),
            self.name(),
        )
    }
}

pub struct PnpmLockCataloger;

impl Cataloger for PnpmLockCataloger {
    fn name(&self) -> &'static str {
        "pnpm-lock"
    }
    fn wants(&self, path: &str) -> bool {
        file_name(path) == "pnpm-lock.yaml" && !path.contains("/node_modules/")
    }
    fn catalog(&self, files: &Files, _cx: &Context<'_>) -> Found {
        catalog_with(files, |p| self.wants(p), parse_pnpm_lock, self.name())
    }
}

/// `…/node_modules/<name>/package.json` and `…/node_modules/@scope/<name>/package.json`.
fn is_installed_manifest(path: &str) -> bool {
    let Some(rest) = path.strip_suffix("/package.json") else {
        return false;
    };
    let Some(i) = rest.rfind("/node_modules/") else {
        return false;
    };
    let tail = &rest[i + "/node_modules/".len()..];
    match tail.split('/').collect::<Vec<_>>().as_slice() {
        [name] => !name.is_empty() && !name.starts_with('.'),
        [scope, name] => scope.starts_with('@') && !name.is_empty(),
        _ => false,
    }
}

pub struct NodeModulesCataloger;

impl Cataloger for NodeModulesCataloger {
    fn name(&self) -> &'static str {
        "npm-installed"
    }
    fn wants(&self, path: &str) -> bool {
        is_installed_manifest(path)
    }
    fn catalog(&self, files: &Files, _cx: &Context<'_>) -> Found {
        let mut found = Found::default();
        for (path, file) in files.matching(is_installed_manifest) {
            let v: serde_json::Value = match serde_json::from_slice(&file.data) {
                Ok(v) => v,
                Err(e) => {
                    found.warn(path, format!("not a package.json: {e}"));
                    continue;
                }
            };
            let (Some(name), Some(version)) = (v["name"].as_str(), v["version"].as_str()) else {
                found.warn(path, "package.json has no name or version");
                continue;
            };
            let licenses = match &v["license"] {
                serde_json::Value::String(s) => vec![s.clone()],
                serde_json::Value::Object(o) => o
                    .get("type")
                    .and_then(|t| t.as_str())
                    .map(|t| vec![t.to_owned()])
                    .unwrap_or_default(),
                _ => vec![],
            };
            if let Some(p) = package(name, version, path, file, self.name(), licenses) {
                found.packages.push(p);
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installed_manifests_are_recognised_at_any_depth() {
        assert!(is_installed_manifest(
            "/app/node_modules/lodash/package.json"
        ));
        assert!(is_installed_manifest(
            "/app/node_modules/@types/node/package.json"
        ));
        assert!(is_installed_manifest(
            "/app/node_modules/a/node_modules/b/package.json"
        ));
        assert!(!is_installed_manifest("/app/package.json"));
        assert!(!is_installed_manifest(
            "/app/node_modules/lodash/fp/package.json"
        ));
        assert!(!is_installed_manifest(
            "/app/node_modules/.bin/package.json"
        ));
    }

    #[test]
    fn scoped_packages_get_their_scope_as_purl_namespace() {
        let file = crate::File {
            data: bytes::Bytes::new(),
            layer: None,
        };
        let p = package("@babel/core", "7.0.0", "/x", &file, "t", vec![]).unwrap();
        assert_eq!(p.purl, "pkg:npm/%40babel/core@7.0.0");
    }
}

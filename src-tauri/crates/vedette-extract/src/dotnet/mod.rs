//! .NET: NuGet's packages.lock.json and the `*.deps.json` of published apps.

use vedette_model::Ecosystem;

use crate::lockfiles::{catalog_pairs, file_name};
use crate::{purl, Cataloger, Context, Files, Found};

/// Resolved packages of every target framework in packages.lock.json.
pub fn parse_packages_lock(text: &str) -> Result<Vec<(String, String)>, String> {
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not a packages.lock.json: {e}"))?;
    let mut out = Vec::new();
    for (_framework, deps) in v["dependencies"].as_object().into_iter().flatten() {
        for (name, d) in deps.as_object().into_iter().flatten() {
            if d["type"].as_str() == Some("Project") {
                continue;
            }
            if let Some(r) = d["resolved"].as_str() {
                out.push((name.clone(), r.to_owned()));
            }
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// `libraries` of type `package` in a `*.deps.json` ("Name/1.2.3").
pub fn parse_deps_json(text: &str) -> Result<Vec<(String, String)>, String> {
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not a .deps.json: {e}"))?;
    let mut out = Vec::new();
    for (key, lib) in v["libraries"].as_object().into_iter().flatten() {
        if lib["type"].as_str() != Some("package") {
            continue;
        }
        if let Some((n, ver)) = key.split_once('/') {
            out.push((n.to_owned(), ver.to_owned()));
        }
    }
    Ok(out)
}

fn nuget_purl(name: &str, version: &str) -> Option<String> {
    purl::build("nuget", None, name, version, &[])
}

pub struct NugetCataloger;

impl Cataloger for NugetCataloger {
    fn name(&self) -> &'static str {
        "dotnet-nuget"
    }
    fn wants(&self, path: &str) -> bool {
        file_name(path) == "packages.lock.json" || path.ends_with(".deps.json")
    }
    fn catalog(&self, files: &Files, _cx: &Context<'_>) -> Found {
        let mut found = catalog_pairs(
            files,
            |p| file_name(p) == "packages.lock.json",
            |_, t| parse_packages_lock(t),
            Ecosystem::NuGet,
            nuget_purl,
            self.name(),
        );
        let deps = catalog_pairs(
            files,
            |p| p.ends_with(".deps.json"),
            |_, t| parse_deps_json(t),
            Ecosystem::NuGet,
            nuget_purl,
            self.name(),
        );
        found.extend(deps);
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_and_deps_files_list_packages_not_projects() {
        let lock =
            parse_packages_lock(include_str!("../../testdata/dotnet/packages.lock.json")).unwrap();
        assert_eq!(
            lock,
            [
                ("Newtonsoft.Json".to_owned(), "13.0.1".to_owned()),
                ("System.Text.Json".to_owned(), "8.0.0".to_owned())
            ]
        );
        let deps = parse_deps_json(include_str!("../../testdata/dotnet/app.deps.json")).unwrap();
        assert_eq!(deps, [("Newtonsoft.Json".to_owned(), "13.0.1".to_owned())]);
        assert!(parse_deps_json("nope").is_err());
    }
}

//! SBOMs as input: CycloneDX JSON, SPDX 2.x JSON and syft JSON, read back
//! into packages by their purls (what the advisories are keyed by).

use std::str::FromStr;

use packageurl::PackageUrl;
use serde_json::Value;
use vedette_model::{Distro, Ecosystem, Location, Package, SourcePackage};

/// What an SBOM says is installed.
#[derive(Debug, Default)]
pub struct Sbom {
    /// `cyclonedx`, `spdx` or `syft`.
    pub format: &'static str,
    pub packages: Vec<Package>,
    pub distro: Option<Distro>,
    /// Components Vedette cannot match (no purl, a purl type it does not know).
    pub warnings: Vec<String>,
}

/// A package as a purl names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurlPackage {
    pub ecosystem: Ecosystem,
    /// The name as the ecosystem's advisories write it (`group:artifact`,
    /// `@scope/name`, a Go module path).
    pub name: String,
    pub version: String,
    /// From the `upstream` qualifier of OS packages.
    pub source: Option<SourcePackage>,
    /// From the `distro` qualifier (`debian-12`).
    pub distro: Option<Distro>,
}

/// Reads a purl; `None` for a type Vedette does not match.
pub fn package_from_purl(purl: &str) -> Option<PurlPackage> {
    let p = PackageUrl::from_str(purl).ok()?;
    let ns = p.namespace().unwrap_or("");
    let qual = |k: &str| {
        p.qualifiers()
            .iter()
            .find(|(q, _)| q.as_ref() == k)
            .map(|(_, v)| v.to_string())
    };
    // The distribution: the `distro` qualifier (`debian-12`, `rhel-9.4`),
    // else the namespace (`almalinux`, `redhat`).
    let distro = qual("distro")
        .and_then(|d| {
            let (id, v) = d.split_once('-')?;
            Some(Distro {
                id: id.to_owned(),
                version_id: v.to_owned(),
                ..Default::default()
            })
        })
        .or_else(|| {
            let id = match ns {
                "redhat" => "rhel",
                "suse" => "sles",
                "opensuse" => "opensuse-leap",
                "amazon" | "amazonlinux" => "amzn",
                other => other,
            };
            (!id.is_empty()).then(|| Distro {
                id: id.to_owned(),
                ..Default::default()
            })
        });
    let os = |db| vedette_model::os_ecosystem(distro.as_ref(), db);
    let eco = match p.ty() {
        "deb" => os(vedette_model::PackageDb::Dpkg),
        "apk" => os(vedette_model::PackageDb::Apk),
        "rpm" => os(vedette_model::PackageDb::Rpm),
        "pypi" => Ecosystem::PyPI,
        "npm" => Ecosystem::Npm,
        "cargo" => Ecosystem::CratesIo,
        "golang" => Ecosystem::Go,
        "maven" => Ecosystem::Maven,
        "gem" => Ecosystem::RubyGems,
        "composer" => Ecosystem::Packagist,
        "nuget" => Ecosystem::NuGet,
        _ => return None,
    };
    let name = match (eco, ns) {
        (_, "") => p.name().to_owned(),
        (Ecosystem::Npm | Ecosystem::Go | Ecosystem::Packagist, ns) => format!("{ns}/{}", p.name()),
        (Ecosystem::Maven, ns) => format!("{ns}:{}", p.name()),
        _ => p.name().to_owned(),
    };
    let version = p.version().unwrap_or("").to_owned();
    let source = if eco.is_os() {
        qual("upstream").map(|u| match u.split_once('@') {
            Some((n, v)) => SourcePackage {
                name: n.to_owned(),
                version: v.to_owned(),
            },
            None => SourcePackage {
                name: u,
                version: version.clone(),
            },
        })
    } else {
        None
    };
    // Only a distro with its release says which advisories apply.
    let distro = distro.filter(|d| !d.version_id.is_empty());
    Some(PurlPackage {
        ecosystem: eco,
        name,
        version,
        source,
        distro,
    })
}

fn push(out: &mut Sbom, purl: &str, fallback_version: Option<&str>, origin: &str) {
    match package_from_purl(purl) {
        Some(PurlPackage {
            ecosystem,
            name,
            mut version,
            source,
            distro,
        }) => {
            if version.is_empty() {
                version = fallback_version.unwrap_or("").to_owned();
            }
            if version.is_empty() {
                out.warnings
                    .push(format!("{purl}: no version; not matched"));
                return;
            }
            if out.distro.is_none() {
                out.distro = distro;
            }
            out.packages.push(Package {
                name,
                version,
                ecosystem,
                purl: purl.to_owned(),
                source,
                locations: vec![Location {
                    path: origin.to_owned(),
                    layer: None,
                }],
                owned_by: None,
                found_by: format!("sbom-{}", out.format),
                licenses: Vec::new(),
                module: None,
            });
        }
        None => out.warnings.push(format!(
            "{purl}: not a package type Vedette matches; skipped"
        )),
    }
}

/// Reads an SBOM; `origin` names it in the packages' locations.
pub fn parse_sbom(bytes: &[u8], origin: &str) -> Result<Sbom, String> {
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
    let mut out = Sbom::default();
    if doc.get("bomFormat").and_then(Value::as_str) == Some("CycloneDX") {
        out.format = "cyclonedx";
        let mut stack: Vec<&Value> = doc["components"].as_array().into_iter().flatten().collect();
        if let Some(m) = doc.pointer("/metadata/component") {
            stack.push(m);
        }
        let mut without_purl = 0;
        while let Some(c) = stack.pop() {
            stack.extend(c["components"].as_array().into_iter().flatten());
            if c["type"] == "operating-system" {
                if let (Some(id), Some(v)) = (c["name"].as_str(), c["version"].as_str()) {
                    out.distro = Some(Distro {
                        id: id.to_owned(),
                        version_id: v.to_owned(),
                        ..Default::default()
                    });
                }
                continue;
            }
            match c["purl"].as_str() {
                Some(p) => push(&mut out, p, c["version"].as_str(), origin),
                None if c["type"] == "library" || c["type"] == "application" => without_purl += 1,
                None => {}
            }
        }
        if without_purl > 0 {
            out.warnings.push(format!(
                "{without_purl} component(s) without a purl; not matched"
            ));
        }
    } else if doc.get("spdxVersion").is_some() {
        out.format = "spdx";
        let mut without_purl = 0;
        for p in doc["packages"].as_array().into_iter().flatten() {
            let purl = p["externalRefs"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|r| r["referenceType"] == "purl")
                .and_then(|r| r["referenceLocator"].as_str());
            match purl {
                Some(u) => push(&mut out, u, p["versionInfo"].as_str(), origin),
                None => without_purl += 1,
            }
        }
        // The document's own subject usually has no purl; do not warn for one.
        if without_purl > 1 {
            out.warnings.push(format!(
                "{without_purl} package(s) without a purl; not matched"
            ));
        }
    } else if doc.get("artifacts").is_some()
        && (doc.get("descriptor").is_some() || doc.get("source").is_some())
    {
        out.format = "syft";
        for a in doc["artifacts"].as_array().into_iter().flatten() {
            match a["purl"].as_str().filter(|p| !p.is_empty()) {
                Some(u) => push(&mut out, u, a["version"].as_str(), origin),
                None => out.warnings.push(format!(
                    "{}: no purl; not matched",
                    a["name"].as_str().unwrap_or("?")
                )),
            }
        }
        if let (Some(id), Some(v)) = (
            doc.pointer("/distro/id").and_then(Value::as_str),
            doc.pointer("/distro/versionID").and_then(Value::as_str),
        ) {
            out.distro = Some(Distro {
                id: id.to_owned(),
                version_id: v.to_owned(),
                pretty_name: doc
                    .pointer("/distro/prettyName")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
                ..Default::default()
            });
        }
    } else {
        return Err(
            "not a CycloneDX, SPDX or syft JSON document (no bomFormat, spdxVersion or artifacts)"
                .into(),
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls_name_packages_as_their_advisories_do() {
        let p = package_from_purl(
            "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12&upstream=glibc",
        )
        .unwrap();
        assert_eq!(p.ecosystem, Ecosystem::Debian);
        assert_eq!(
            (p.name.as_str(), p.version.as_str()),
            ("libc6", "2.36-9+deb12u4")
        );
        assert_eq!(p.source.unwrap().name, "glibc");
        assert_eq!(p.distro.unwrap().version_id, "12");
        let p = package_from_purl("pkg:golang/github.com/opencontainers/umoci@v0.4.7").unwrap();
        assert_eq!(p.ecosystem, Ecosystem::Go);
        assert_eq!(p.name, "github.com/opencontainers/umoci");
        let p = package_from_purl("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1").unwrap();
        assert_eq!(p.name, "org.apache.logging.log4j:log4j-core");
        let p = package_from_purl("pkg:npm/%40types/node@20.1.0").unwrap();
        assert_eq!(p.name, "@types/node");
        assert!(package_from_purl("pkg:github/actions/checkout@v4").is_none());
    }

    #[test]
    fn a_document_of_no_known_format_is_refused_with_the_reason() {
        let e = parse_sbom(b"{\"hello\": 1}", "x.json").unwrap_err();
        assert!(e.contains("CycloneDX, SPDX or syft"), "{e}");
        assert!(parse_sbom(b"not json", "x")
            .unwrap_err()
            .contains("not JSON"));
    }
}

//! Presenters. The engine returns plain data ([`Inventory`]); this crate
//! turns it into what a person or another tool reads. Exit codes stay in
//! the CLI.

mod charts;
mod findings;

use std::fmt::Write as _;

pub use charts::{trends_png, trends_svg};
pub use findings::{
    advisory_url, cyclonedx_vulnerabilities, cyclonedx_with_findings, json_report, sarif,
    table as findings_table,
};

use serde_json::{json, Value};
use vedette_model::Inventory;

/// Output formats of `vedette scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    CycloneDx,
    Spdx,
}

/// Renders an inventory in `format`.
pub fn render(inv: &Inventory, format: Format) -> String {
    match format {
        Format::Table => table(inv),
        Format::Json => json_doc(inv),
        Format::CycloneDx => cyclonedx(inv),
        Format::Spdx => spdx(inv),
    }
}

fn tool_version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// Vedette's JSON: the inventory as stored, pretty-printed.
pub fn json_doc(inv: &Inventory) -> String {
    serde_json::to_string_pretty(inv).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

/// "Debian GNU/Linux 12 (bookworm)", else "debian 12", else "unknown OS".
pub(crate) fn distro_name(d: Option<&vedette_model::Distro>) -> String {
    match d {
        Some(d) if d.pretty_name.is_empty() => format!("{} {}", d.id, d.version_id),
        Some(d) => d.pretty_name.clone(),
        None => "unknown OS".into(),
    }
}

/// A table for people: one package a line, language packages owned by an OS
/// package marked.
pub fn table(inv: &Inventory) -> String {
    let mut out = String::new();
    let distro = distro_name(inv.distro.as_ref());
    let _ = writeln!(
        out,
        "{}  ({}, {} packages)",
        findings::clean(&inv.target),
        findings::clean(&distro),
        inv.packages.len()
    );
    if let Some(i) = &inv.image {
        let _ = writeln!(
            out,
            "{}  {}",
            findings::clean(&i.manifest_digest),
            findings::clean(&i.platform)
        );
    }
    out.push('\n');
    let w_name = inv
        .packages
        .iter()
        .map(|p| p.name.len())
        .max()
        .unwrap_or(4)
        .clamp(4, 48);
    let w_ver = inv
        .packages
        .iter()
        .map(|p| p.version.len())
        .max()
        .unwrap_or(7)
        .clamp(7, 40);
    let _ = writeln!(
        out,
        "{:<w_name$}  {:<w_ver$}  {:<10}  WHERE",
        "NAME", "VERSION", "ECOSYSTEM"
    );
    for p in &inv.packages {
        let mut place = p
            .locations
            .first()
            .map(|l| l.path.clone())
            .unwrap_or_default();
        if let Some(owner) = &p.owned_by {
            place.push_str(&format!("  (installed by {})", short_purl(owner)));
        }
        let _ = writeln!(
            out,
            "{:<w_name$}  {:<w_ver$}  {:<10}  {}",
            findings::clean(&p.name),
            findings::clean(&p.version),
            p.ecosystem.osv_name(),
            findings::clean(&place)
        );
    }
    for w in &inv.warnings {
        let _ = writeln!(out, "warning: {}", findings::clean(w));
    }
    out
}

fn short_purl(purl: &str) -> &str {
    purl.split('?').next().unwrap_or(purl)
}

/// A CycloneDX 1.6 document as CycloneDX 1.5, for tools that read only 1.5:
/// the same content (Vedette uses nothing 1.6 added) under 1.5's version
/// and schema.
pub fn cyclonedx_1_5(doc: &str) -> String {
    let Ok(mut doc) = serde_json::from_str::<Value>(doc) else {
        return doc.to_owned();
    };
    doc["$schema"] = json!("http://cyclonedx.org/schema/bom-1.5.schema.json");
    doc["specVersion"] = json!("1.5");
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

/// CycloneDX 1.6 JSON.
pub fn cyclonedx(inv: &Inventory) -> String {
    let mut components: Vec<Value> = Vec::new();
    if let Some(d) = &inv.distro {
        components.push(json!({
            "type": "operating-system",
            "bom-ref": format!("os:{}@{}", d.id, d.version_id),
            "name": d.id,
            "version": d.version_id,
            "description": d.pretty_name,
        }));
    }
    let mut seen = std::collections::HashSet::new();
    for p in &inv.packages {
        // bom-refs must be unique; the same purl found twice is one component.
        if !seen.insert(p.purl.clone()) {
            continue;
        }
        let mut props = vec![json!({"name": "vedette:found-by", "value": p.found_by})];
        for l in &p.locations {
            props.push(json!({"name": "vedette:location", "value": l.path}));
            if let Some(layer) = &l.layer {
                props.push(json!({"name": "vedette:layer", "value": layer}));
            }
        }
        if let Some(o) = &p.owned_by {
            props.push(json!({"name": "vedette:installed-by", "value": o}));
        }
        if let Some(s) = &p.source {
            props.push(json!({"name": "vedette:source-package", "value": format!("{}@{}", s.name, s.version)}));
        }
        let mut c = json!({
            "type": "library",
            "bom-ref": p.purl,
            "name": p.name,
            "version": p.version,
            "purl": p.purl,
            "properties": props,
        });
        if !p.licenses.is_empty() {
            c["licenses"] = Value::Array(
                p.licenses
                    .iter()
                    .map(|l| json!({"license": {"name": l}}))
                    .collect(),
            );
        }
        components.push(c);
    }
    let subject_type = if inv.image.is_some() {
        "container"
    } else {
        "file"
    };
    let mut subject = json!({
        "type": subject_type,
        "bom-ref": "subject",
        "name": inv.target,
    });
    if let Some(i) = &inv.image {
        subject["version"] = json!(i.manifest_digest);
    }
    let doc = json!({
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": format!("urn:uuid:{}", uuid::Uuid::new_v4()),
        "version": 1,
        "metadata": {
            "timestamp": inv.scanned_at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            "tools": {"components": [{"type": "application", "name": "vedette", "version": tool_version()}]},
            "component": subject,
        },
        "components": components,
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

/// SPDX 2.3 JSON.
pub fn spdx(inv: &Inventory) -> String {
    let mut packages = vec![json!({
        "name": inv.target,
        "SPDXID": "SPDXRef-Subject",
        "versionInfo": inv.digest,
        "downloadLocation": "NOASSERTION",
        "filesAnalyzed": false,
        "primaryPackagePurpose": if inv.image.is_some() { "CONTAINER" } else { "FILE" },
    })];
    let mut relationships = vec![json!({
        "spdxElementId": "SPDXRef-DOCUMENT",
        "relationshipType": "DESCRIBES",
        "relatedSpdxElement": "SPDXRef-Subject",
    })];
    for (i, p) in inv.packages.iter().enumerate() {
        let id = format!("SPDXRef-Package-{}", i + 1);
        packages.push(json!({
            "name": p.name,
            "SPDXID": id,
            "versionInfo": p.version,
            "downloadLocation": "NOASSERTION",
            "filesAnalyzed": false,
            "licenseConcluded": "NOASSERTION",
            "licenseDeclared": "NOASSERTION",
            "copyrightText": "NOASSERTION",
            "sourceInfo": format!("found by vedette {} in {}", p.found_by, p.locations.first().map(|l| l.path.as_str()).unwrap_or("")),
            "externalRefs": [{
                "referenceCategory": "PACKAGE-MANAGER",
                "referenceType": "purl",
                "referenceLocator": p.purl,
            }],
        }));
        relationships.push(json!({
            "spdxElementId": "SPDXRef-Subject",
            "relationshipType": "CONTAINS",
            "relatedSpdxElement": id,
        }));
    }
    let doc = json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": inv.target,
        "documentNamespace": format!("https://spdx.org/spdxdocs/vedette-{}", uuid::Uuid::new_v4()),
        "creationInfo": {
            "created": inv.scanned_at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            "creators": [format!("Tool: vedette-{}", tool_version())],
        },
        "packages": packages,
        "relationships": relationships,
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

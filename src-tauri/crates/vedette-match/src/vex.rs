//! Policy exceptions as OpenVEX (v0.2.0) statements: `not_affected` with the
//! justification the user chose (none when none was chosen: never a default
//! one) and the reason as `impact_statement`, or, for an accepted risk,
//! `affected` with the reason as `action_statement`; the expiry in
//! `status_notes` ("expires YYYY-MM-DD"), the package (a purl) as the product.

use chrono::{NaiveDate, Utc};
use serde_json::{json, Value};

use vedette_model::{TriageStatus, VexJustification};

use crate::{Exception, PolicyError};

pub fn to_openvex(exceptions: &[Exception]) -> Value {
    let statements: Vec<Value> = exceptions
        .iter()
        .map(|e| {
            let mut s = match e.status {
                TriageStatus::NotAffected => json!({
                    "vulnerability": { "name": e.id },
                    "status": "not_affected",
                    "impact_statement": e.reason,
                    "status_notes": format!("expires {}", e.expires),
                }),
                TriageStatus::Accepted => json!({
                    "vulnerability": { "name": e.id },
                    "status": "affected",
                    "action_statement": format!("Risk accepted until {}: {}", e.expires, e.reason),
                    "status_notes": format!("expires {}", e.expires),
                }),
            };
            if let Some(j) = e
                .justification
                .filter(|_| e.status == TriageStatus::NotAffected)
            {
                s["justification"] = json!(j.as_str());
            }
            if let Some(p) = &e.package {
                s["products"] = json!([{ "@id": p }]);
            }
            s
        })
        .collect();
    json!({
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": format!("urn:uuid:{}", uuid::Uuid::new_v4()),
        "author": "Vedette",
        "timestamp": Utc::now().to_rfc3339(),
        "version": 1,
        "statements": statements,
    })
}

/// Reads `not_affected` statements as exceptions. Statements without an
/// expiry in their notes take `default_expiry`; without one either, the
/// import is refused.
pub fn exceptions_from_openvex(
    path: &str,
    doc: &Value,
    default_expiry: Option<NaiveDate>,
) -> Result<Vec<Exception>, PolicyError> {
    let bad = |reason: String| PolicyError::Invalid {
        path: path.to_owned(),
        reason,
    };
    let statements = doc
        .get("statements")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("not an OpenVEX document: no \"statements\" array".into()))?;
    let mut out = Vec::new();
    for (i, s) in statements.iter().enumerate() {
        if s.get("status").and_then(Value::as_str) != Some("not_affected") {
            continue;
        }
        let id = s
            .pointer("/vulnerability/name")
            .or_else(|| s.pointer("/vulnerability/@id"))
            .and_then(Value::as_str)
            .ok_or_else(|| bad(format!("statement {i} names no vulnerability")))?;
        let justification = s
            .get("justification")
            .and_then(Value::as_str)
            .and_then(VexJustification::parse);
        let reason = s
            .get("impact_statement")
            .and_then(Value::as_str)
            .or_else(|| s.get("justification").and_then(Value::as_str))
            .unwrap_or("")
            .to_owned();
        if reason.is_empty() {
            return Err(bad(format!(
                "statement {i} ({id}) gives no justification or impact statement"
            )));
        }
        let expires = s
            .get("status_notes")
            .and_then(Value::as_str)
            .and_then(|n| n.split_whitespace().skip_while(|w| *w != "expires").nth(1))
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .or(default_expiry)
            .ok_or_else(|| {
                bad(format!(
                    "statement {i} ({id}) has no expiry; give one with --expires YYYY-MM-DD"
                ))
            })?;
        let products: Vec<String> = s
            .get("products")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|p| p.get("@id").and_then(Value::as_str).map(str::to_owned))
            .collect();
        if products.is_empty() {
            out.push(Exception {
                id: id.to_owned(),
                package: None,
                reason: reason.clone(),
                expires,
                status: TriageStatus::NotAffected,
                justification,
            });
        }
        for p in products {
            out.push(Exception {
                id: id.to_owned(),
                package: Some(p),
                reason: reason.clone(),
                expires,
                status: TriageStatus::NotAffected,
                justification,
            });
        }
    }
    Ok(out)
}

//! Policy files: reading one, and moving its exceptions to and from OpenVEX.

use std::path::Path;

pub use vedette_match::{Exception, GateSeverity, Policy};

use crate::{AppError, Result};

/// Reads a policy file; every error names the file and what to fix.
pub fn read_policy(path: &Path) -> Result<Policy> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        AppError::Invalid(format!("cannot read the policy {}: {e}", path.display()))
    })?;
    Policy::from_toml(&path.display().to_string(), &text).map_err(AppError::invalid)
}

/// A JSON document read from a file the user named.
fn read_json(path: &Path) -> Result<serde_json::Value> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| AppError::Invalid(format!("cannot read {}: {e}", path.display())))?;
    serde_json::from_str(&text)
        .map_err(|e| AppError::Invalid(format!("{} is not JSON: {e}", path.display())))
}

/// The `not_affected` statements of an OpenVEX file as exceptions
/// (statements without an expiry get `expires`).
pub fn exceptions_from_vex(
    path: &Path,
    expires: Option<chrono::NaiveDate>,
) -> Result<Vec<Exception>> {
    let doc = read_json(path)?;
    vedette_match::exceptions_from_openvex(&path.display().to_string(), &doc, expires)
        .map_err(AppError::invalid)
}

/// A policy's exceptions as an OpenVEX document.
pub fn to_vex(policy: &Policy) -> serde_json::Value {
    vedette_match::to_openvex(&policy.exceptions)
}

/// Adds `path`'s OpenVEX statements to the policy file `into` (created if
/// missing); how many statements it held.
pub fn import_vex(path: &Path, into: &Path, expires: Option<chrono::NaiveDate>) -> Result<usize> {
    let new = exceptions_from_vex(path, expires)?;
    let mut p = if into.exists() {
        read_policy(into)?
    } else {
        Policy::default()
    };
    let n = new.len();
    for e in new {
        if !p.exceptions.contains(&e) {
            p.exceptions.push(e);
        }
    }
    std::fs::write(into, p.to_toml())
        .map_err(|e| AppError::unavailable(format!("cannot write {}: {e}", into.display())))?;
    Ok(n)
}

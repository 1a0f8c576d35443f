//! Policy files: reading one, and moving its exceptions to and from OpenVEX.

use std::path::Path;

pub use vedette_match::{Exception, GateSeverity, Policy};

use crate::{App, AppError, Result};

/// The console's policy, in the data dir: the gate of the scans the window
/// and the API start, and the exceptions every scheduled scan applies.
pub const POLICY_FILE: &str = "policy.toml";

impl App {
    pub fn policy_file(&self) -> std::path::PathBuf {
        self.data_dir().join(POLICY_FILE)
    }

    /// The console's policy (the default one until a file is written).
    pub fn console_policy(&self) -> Result<Policy> {
        let path = self.policy_file();
        if path.exists() {
            read_policy(&path)
        } else {
            Ok(Policy::default())
        }
    }

    /// Replaces the console's policy with `text` (TOML), once it reads.
    pub fn set_console_policy(&self, text: &str) -> Result<Policy> {
        let p = validate_policy(text)?;
        self.write_policy(&p)?;
        Ok(p)
    }

    /// Adds an exception to the console's policy; an exception for the same
    /// advisory and package is replaced (its reason and expiry updated).
    pub fn add_exception(&self, e: Exception) -> Result<Policy> {
        if e.id.trim().is_empty() || e.reason.trim().is_empty() {
            return Err(AppError::Invalid(
                "an exception needs the advisory id and a reason".into(),
            ));
        }
        if e.expires < chrono::Utc::now().date_naive() {
            return Err(AppError::Invalid(format!(
                "the exception for {} expires on {}, which is past; give a later date",
                e.id, e.expires
            )));
        }
        let mut p = self.console_policy()?;
        p.exceptions
            .retain(|x| !(x.id == e.id && x.package == e.package));
        p.exceptions.push(e);
        self.write_policy(&p)?;
        Ok(p)
    }

    fn write_policy(&self, p: &Policy) -> Result<()> {
        let path = self.policy_file();
        let tmp = path.with_extension("toml.tmp");
        std::fs::write(&tmp, p.to_toml())
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|e| AppError::unavailable(format!("cannot write {}: {e}", path.display())))
    }
}

/// Reads a policy from TOML text (the API's and the window's editor).
pub fn validate_policy(text: &str) -> Result<Policy> {
    Policy::from_toml("the policy", text).map_err(AppError::invalid)
}

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

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

    /// A finding triaged in the window: an exception in the console's
    /// policy for its advisory and package (any version), with the status,
    /// the justification the user chose (one is needed for "not
    /// affected": none is assumed), the reason and the expiry.
    pub fn triage(&self, t: vedette_model::TriageInput) -> Result<Policy> {
        use vedette_model::TriageStatus;
        let expires =
            chrono::NaiveDate::parse_from_str(t.expires.trim(), "%Y-%m-%d").map_err(|_| {
                AppError::Invalid(format!(
                    "'{}' is not a date; give the expiry as YYYY-MM-DD",
                    t.expires
                ))
            })?;
        if t.status == TriageStatus::NotAffected && t.justification.is_none() {
            return Err(AppError::Invalid(format!(
                "say why {} does not affect it: choose a justification",
                t.id
            )));
        }
        self.add_exception(Exception {
            id: t.id.trim().to_owned(),
            package: Some(package_of(&t.purl)),
            reason: t.reason.trim().to_owned(),
            expires,
            status: t.status,
            justification: t
                .justification
                .filter(|_| t.status == TriageStatus::NotAffected),
        })
    }

    /// Drops the console policy's exception for an advisory and a purl's
    /// package; whether there was one.
    pub fn untriage(&self, id: &str, purl: &str) -> Result<bool> {
        let mut p = self.console_policy()?;
        let package = Some(package_of(purl));
        let before = p.exceptions.len();
        p.exceptions
            .retain(|x| !(x.id == id && x.package == package));
        if p.exceptions.len() == before {
            return Ok(false);
        }
        self.write_policy(&p)?;
        Ok(true)
    }

    fn write_policy(&self, p: &Policy) -> Result<()> {
        let path = self.policy_file();
        let tmp = path.with_extension("toml.tmp");
        std::fs::write(&tmp, p.to_toml())
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|e| AppError::unavailable(format!("cannot write {}: {e}", path.display())))
    }
}

/// A purl's package at any version: the purl up to and including its `@`
/// (without the version and qualifiers), which an exception matches as a
/// prefix; the whole purl when it has no version.
fn package_of(purl: &str) -> String {
    let base = purl.split(['?', '#']).next().unwrap_or(purl);
    match base.rfind('@') {
        Some(i) if base[..i].contains('/') => base[..=i].to_owned(),
        _ => base.to_owned(),
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

#[cfg(test)]
mod triage_tests {
    use vedette_model::{TriageInput, TriageStatus, VexJustification};

    #[test]
    fn an_exception_covers_the_package_at_any_version_only() {
        assert_eq!(
            super::package_of(
                "pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64&distro=debian-12"
            ),
            "pkg:deb/debian/openssl@"
        );
        assert_eq!(
            super::package_of("pkg:npm/%40babel/core@7.1.0"),
            "pkg:npm/%40babel/core@"
        );
        assert_eq!(super::package_of("pkg:pypi/jinja2"), "pkg:pypi/jinja2");
    }

    #[tokio::test]
    async fn a_triage_is_written_to_the_console_policy_with_the_justification_chosen() {
        let dir = tempfile::tempdir().unwrap();
        let app = crate::App::open(
            dir.path(),
            std::sync::Arc::new(vedette_cloud::MemorySecrets::default()),
        )
        .await
        .unwrap();
        let later = (chrono::Utc::now() + chrono::Duration::days(30))
            .date_naive()
            .to_string();
        let input = |status, justification| TriageInput {
            id: "CVE-2024-0001".into(),
            purl: "pkg:deb/debian/openssl@3.0.11-1?arch=amd64".into(),
            status,
            justification,
            reason: "TLS is terminated by the proxy".into(),
            expires: later.clone(),
        };
        // "Not affected" needs a reason the user chose.
        let e = app
            .triage(input(TriageStatus::NotAffected, None))
            .unwrap_err();
        assert!(e.to_string().contains("choose a justification"), "{e}");
        let p = app
            .triage(input(
                TriageStatus::NotAffected,
                Some(VexJustification::VulnerableCodeNotInExecutePath),
            ))
            .unwrap();
        assert_eq!(p.exceptions.len(), 1);
        let vex = crate::to_vex(&app.console_policy().unwrap());
        let s = &vex["statements"][0];
        assert_eq!(s["status"], "not_affected");
        assert_eq!(s["justification"], "vulnerable_code_not_in_execute_path");
        assert_eq!(s["products"][0]["@id"], "pkg:deb/debian/openssl@");
        // Accepting the risk replaces it: affected, no justification.
        app.triage(input(TriageStatus::Accepted, None)).unwrap();
        let vex = crate::to_vex(&app.console_policy().unwrap());
        let s = &vex["statements"][0];
        assert_eq!(vex["statements"].as_array().unwrap().len(), 1);
        assert_eq!(s["status"], "affected");
        assert!(s.get("justification").is_none(), "{s}");
        assert!(s["action_statement"]
            .as_str()
            .unwrap()
            .contains("Risk accepted until"));
        assert!(app
            .untriage("CVE-2024-0001", "pkg:deb/debian/openssl@3.0.11-1")
            .unwrap());
        assert!(app.console_policy().unwrap().exceptions.is_empty());
    }
}

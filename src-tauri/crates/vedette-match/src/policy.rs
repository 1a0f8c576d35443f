//! Pass/fail policy for the CI gate and the new-node gate.
//!
//! A policy file is TOML:
//!
//! ```toml
//! fail_on = "high"             # fail on any finding of this severity or worse
//! fail_on_kev = true           # fail on any finding in CISA KEV
//! fixable_only = true          # count only findings with a fix (--ignore-unfixed)
//! min_risk = 70                # fail on any finding with a risk score of 70 or more
//! min_advisory_age_days = 7    # advisories published less than 7 days ago do not count yet
//! gate_severity = "vendor"     # judge by the distribution's own rating where it has one
//!                              # ("cvss", the default: by the CVSS-based severity)
//! allow_uncovered = true       # give a verdict even when part of the target cannot be
//!                              # judged (an OS no advisory source covers); default false
//! max_age_minutes_without_verdict = 15  # the new-node gate only: a node with no verdict
//!                              # this long after it enrolled fails the gate
//!
//! [max]                        # at most this many findings of each severity
//! critical = 0
//! high = 5
//!
//! [[exception]]
//! id = "CVE-2023-4911"         # a vulnerability id or any alias
//! package = "libc6"            # optional: a package name or purl prefix
//! reason = "not reachable: no setuid binaries in this image"
//! expires = "2027-01-31"       # required; past this date the exception no longer applies
//! ```

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use vedette_model::{Finding, Severity, Triage, TriageStatus, Verdict, VexJustification};

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("policy {path}: {reason}")]
    Invalid { path: String, reason: String },
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_on: Option<Severity>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fail_on_kev: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fixable_only: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_risk: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_advisory_age_days: Option<u32>,
    #[serde(default, skip_serializing_if = "GateSeverity::is_cvss")]
    pub gate_severity: GateSeverity,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_uncovered: bool,
    /// The new-node gate only: a node that has no verdict this many minutes
    /// after it enrolled (no inventory came, or its scans cannot judge it)
    /// fails the gate. The CI gate does not read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age_minutes_without_verdict: Option<u32>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub max: BTreeMap<Severity, usize>,
    #[serde(default, rename = "exception", skip_serializing_if = "Vec::is_empty")]
    pub exceptions: Vec<Exception>,
}

/// Which severity the gate judges a finding by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum GateSeverity {
    /// The finding's `severity`: CVSS from the advisory, an alias or NVD,
    /// else the advisory's own label.
    #[default]
    Cvss,
    /// The distribution's own rating (`vendor_severity`) where it has one,
    /// else as `cvss`.
    Vendor,
}

impl GateSeverity {
    fn is_cvss(&self) -> bool {
        *self == GateSeverity::Cvss
    }

    /// The severity a finding is judged by.
    pub fn of(self, f: &Finding) -> Severity {
        match (self, &f.vendor_severity) {
            (GateSeverity::Vendor, Some(v)) => v.severity,
            _ => f.severity,
        }
    }
}

/// A finding the policy does not count, with the reason and an expiry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Exception {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    pub reason: String,
    pub expires: NaiveDate,
    /// `not_affected` (when none is said) or `accepted`: affected, the risk
    /// accepted until the expiry.
    #[serde(default, skip_serializing_if = "is_not_affected")]
    pub status: TriageStatus,
    /// Why it is not affected, in OpenVEX's words, when the user said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub justification: Option<VexJustification>,
}

fn is_not_affected(s: &TriageStatus) -> bool {
    *s == TriageStatus::NotAffected
}

impl Exception {
    fn covers(&self, f: &Finding) -> bool {
        let id_ok = f.id == self.id || f.aliases.contains(&self.id);
        let pkg_ok = match &self.package {
            None => true,
            Some(p) if p.starts_with("pkg:") => f.purl.starts_with(p.as_str()),
            Some(p) => f.package == *p || f.source_package.as_deref() == Some(p.as_str()),
        };
        id_ok && pkg_ok
    }
}

impl Policy {
    /// Reads a policy file; every error names the file and what to fix.
    pub fn from_toml(path: &str, text: &str) -> Result<Policy, PolicyError> {
        let p: Policy = toml::from_str(text).map_err(|e| PolicyError::Invalid {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        for e in &p.exceptions {
            if e.reason.trim().is_empty() {
                return Err(PolicyError::Invalid {
                    path: path.to_owned(),
                    reason: format!(
                        "the exception for {} has no reason; say why it is accepted",
                        e.id
                    ),
                });
            }
        }
        if let Some(r) = p.min_risk {
            if !(0.0..=100.0).contains(&r) {
                return Err(PolicyError::Invalid {
                    path: path.to_owned(),
                    reason: format!("min_risk is {r}; risk scores run from 0 to 100"),
                });
            }
        }
        Ok(p)
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }

    /// Applies exceptions (marking the findings they cover) and judges.
    pub fn evaluate(&self, findings: &mut [Finding], now: DateTime<Utc>) -> Verdict {
        let today = now.date_naive();
        let mut notes = Vec::new();
        for e in &self.exceptions {
            let expired = e.expires < today;
            let mut n = 0;
            for f in findings.iter_mut().filter(|f| e.covers(f)) {
                if !expired {
                    f.exception = Some(format!("{} (until {})", e.reason, e.expires));
                    f.triage = Some(Triage {
                        status: e.status,
                        justification: e.justification,
                    });
                }
                n += 1;
            }
            if expired && n > 0 {
                notes.push(format!(
                    "the exception for {} expired on {}; its {n} finding(s) count again",
                    e.id, e.expires
                ));
            } else if n > 0 {
                notes.push(format!(
                    "{n} finding(s) of {} excepted until {}: {}",
                    e.id, e.expires, e.reason
                ));
            }
        }
        let counted: Vec<&Finding> = findings
            .iter()
            .filter(|f| f.exception.is_none())
            .filter(|f| !self.fixable_only || f.fixed_version.is_some())
            .filter(|f| match (self.min_advisory_age_days, &f.published) {
                (Some(days), Some(p)) => DateTime::parse_from_rfc3339(p)
                    .map(|p| (now - p.with_timezone(&Utc)).num_days() >= i64::from(days))
                    .unwrap_or(true),
                _ => true,
            })
            .collect();
        let mut failures = Vec::new();
        if let Some(min) = self.fail_on {
            let n = counted
                .iter()
                .filter(|f| self.gate_severity.of(f) >= min)
                .count();
            if n > 0 {
                failures.push(format!(
                    "{n} finding(s) of {min} severity or worse (fail on {min})"
                ));
            }
        }
        for (sev, max) in &self.max {
            let n = counted
                .iter()
                .filter(|f| self.gate_severity.of(f) == *sev)
                .count();
            if n > *max {
                failures.push(format!("{n} {sev} finding(s), at most {max} allowed"));
            }
        }
        if self.fail_on_kev {
            let kev: Vec<&str> = counted
                .iter()
                .filter(|f| f.kev_added.is_some())
                .map(|f| f.cve.as_deref().unwrap_or(&f.id))
                .collect();
            if !kev.is_empty() {
                failures.push(format!(
                    "{} finding(s) exploited in the wild (CISA KEV): {}",
                    kev.len(),
                    kev.join(", ")
                ));
            }
        }
        if let Some(min) = self.min_risk {
            let n = counted.iter().filter(|f| f.risk >= min).count();
            if n > 0 {
                failures.push(format!("{n} finding(s) with a risk score of {min} or more"));
            }
        }
        Verdict {
            pass: failures.is_empty(),
            failures,
            counted: counted.len(),
            notes,
            none: None,
        }
    }
}

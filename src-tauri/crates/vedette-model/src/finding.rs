//! Findings: what matching, scoring and policy make of an inventory.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::Exposure;

/// Severity, from CVSS bands (none < 0.1 ≤ low < 4 ≤ medium < 7 ≤ high < 9 ≤ critical)
/// or an advisory's own label.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    TS,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum Severity {
    Unknown,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Unknown => "unknown",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Reads a severity name or an advisory label (`MODERATE` is medium,
    /// `important` is high, as GHSA and Red Hat write them).
    pub fn parse(s: &str) -> Option<Severity> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "critical" => Severity::Critical,
            "high" | "important" => Severity::High,
            "medium" | "moderate" => Severity::Medium,
            "low" | "negligible" | "unimportant" => Severity::Low,
            "unknown" | "none" => Severity::Unknown,
            _ => return None,
        })
    }

    /// The band of a CVSS base score.
    pub fn from_score(score: f64) -> Severity {
        if score >= 9.0 {
            Severity::Critical
        } else if score >= 7.0 {
            Severity::High
        } else if score >= 4.0 {
            Severity::Medium
        } else if score >= 0.1 {
            Severity::Low
        } else {
            Severity::Unknown
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a finding's severity came from, in the order Vedette looks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(export)]
pub enum SeveritySource {
    /// A CVSS vector in the matched advisory itself.
    Advisory { id: String },
    /// A CVSS vector in another advisory about the same vulnerability (an alias).
    Alias { id: String },
    /// NVD's CVSS for the CVE.
    Nvd { cve: String, source: String },
    /// The advisory's own label (no vector anywhere).
    Label { id: String },
    /// Nothing anywhere says how severe it is.
    None,
}

/// A distribution's rating of its own advisory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct VendorSeverity {
    /// Who rates it: the advisory's ecosystem (`AlmaLinux`, `Ubuntu`, `Debian`).
    pub vendor: String,
    /// Its word, as written: `Important`, `medium`, `unimportant`.
    pub label: String,
    /// The word on Vedette's scale (Important is high, unimportant low).
    pub severity: Severity,
}

/// A CVSS vector and its base score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct Cvss {
    /// `3.1`, `3.0` or `4.0`.
    pub version: String,
    pub vector: String,
    pub score: f64,
}

/// One reason behind a risk score, with the points it added.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct RiskFactor {
    /// `cvss`, `epss`, `kev`, `attack_vector`, `fix`, `exposure`.
    pub factor: String,
    pub points: f64,
    pub reason: String,
}

/// A vulnerability in one package: the advisories about it merged by alias.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct Finding {
    /// The matched advisory's id (`DEBIAN-CVE-2024-1234`, `GHSA-…`, `PYSEC-…`).
    pub id: String,
    /// Every other id of the same vulnerability (CVE, GHSA, …), sorted.
    pub aliases: Vec<String>,
    /// The CVE, when one is known: what KEV, EPSS and NVD are keyed by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub cve: Option<String>,
    pub package: String,
    pub version: String,
    pub ecosystem: String,
    pub purl: String,
    /// The name the advisory is about when it is not the package's own (a
    /// Debian source package for a binary package).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub source_package: Option<String>,
    /// The version that fixes it; none means no fix yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub fixed_version: Option<String>,
    pub summary: String,
    pub severity: Severity,
    pub severity_source: SeveritySource,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub cvss: Option<Cvss>,
    /// The distribution's own rating of its advisory, beside CVSS (a
    /// policy's `gate_severity = "vendor"` gates on it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub vendor_severity: Option<VendorSeverity>,
    /// CVEs the advisory fixes when it is an erratum about several (an
    /// AlmaLinux `ALSA`): their NVD scores, EPSS and KEV entries count.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub epss: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub epss_percentile: Option<f64>,
    /// The date CISA added it to the Known Exploited Vulnerabilities catalogue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub kev_added: Option<String>,
    /// Risk of exploit, 0–100, and why.
    pub risk: f64,
    pub risk_factors: Vec<RiskFactor>,
    /// When the advisory was first published (RFC 3339), if it says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub published: Option<String>,
    /// Files the package was found in.
    pub locations: Vec<String>,
    /// Set when a policy exception covers this finding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub exception: Option<String>,
    /// How that exception triaged it: not affected (and why), or accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub triage: Option<Triage>,
}

/// What a user decided about a finding (a policy exception).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum TriageStatus {
    /// The vulnerability does not affect this target (OpenVEX `not_affected`).
    #[default]
    NotAffected,
    /// It does, and the risk is accepted until the exception expires
    /// (OpenVEX `affected`, with the reason as the action statement).
    Accepted,
}

/// Why a vulnerability does not affect a target, in OpenVEX's words: only
/// what the user chose, never assumed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum VexJustification {
    ComponentNotPresent,
    VulnerableCodeNotPresent,
    VulnerableCodeNotInExecutePath,
    VulnerableCodeCannotBeControlledByAdversary,
    InlineMitigationsAlreadyExist,
}

impl VexJustification {
    /// OpenVEX's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ComponentNotPresent => "component_not_present",
            Self::VulnerableCodeNotPresent => "vulnerable_code_not_present",
            Self::VulnerableCodeNotInExecutePath => "vulnerable_code_not_in_execute_path",
            Self::VulnerableCodeCannotBeControlledByAdversary => {
                "vulnerable_code_cannot_be_controlled_by_adversary"
            }
            Self::InlineMitigationsAlreadyExist => "inline_mitigations_already_exist",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::ComponentNotPresent,
            Self::VulnerableCodeNotPresent,
            Self::VulnerableCodeNotInExecutePath,
            Self::VulnerableCodeCannotBeControlledByAdversary,
            Self::InlineMitigationsAlreadyExist,
        ]
        .into_iter()
        .find(|j| j.as_str() == s)
    }

    /// CycloneDX's closest `analysis.justification`.
    pub fn cyclonedx(self) -> &'static str {
        match self {
            Self::ComponentNotPresent => "requires_dependency",
            Self::VulnerableCodeNotPresent => "code_not_present",
            Self::VulnerableCodeNotInExecutePath => "code_not_reachable",
            Self::VulnerableCodeCannotBeControlledByAdversary => "requires_environment",
            Self::InlineMitigationsAlreadyExist => "protected_by_mitigating_control",
        }
    }
}

/// A finding's triage: its status, and for `not_affected` the user's
/// justification, if one was chosen.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema,
)]
#[ts(export)]
pub struct Triage {
    pub status: TriageStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub justification: Option<VexJustification>,
}

/// The state of one feed in the local advisory index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct FeedInfo {
    /// `osv/Debian`, `osv/PyPI`, `kev`, `epss`, `nvd`.
    pub name: String,
    /// The URL (or file) it was last read from.
    pub source: String,
    /// Records kept in the index.
    #[ts(type = "number")]
    pub records: i64,
    /// Records or entries skipped at import, by reason.
    pub skipped: std::collections::BTreeMap<String, i64>,
    /// Last time the source was checked successfully (RFC 3339).
    pub checked_at: String,
    /// Last time its content changed.
    pub updated_at: String,
    /// Content hash of what was imported: the feed's version.
    pub version: String,
    #[ts(type = "number")]
    pub age_seconds: i64,
    #[ts(type = "number")]
    pub max_age_seconds: i64,
    pub stale: bool,
}

/// Pass or fail, and every rule that failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct Verdict {
    pub pass: bool,
    /// One line per failed rule, e.g. "2 critical findings (at most 0 allowed)".
    pub failures: Vec<String>,
    /// Findings the policy counted (after exceptions and filters).
    #[ts(type = "number")]
    pub counted: usize,
    /// Exceptions that matched, and expired ones that no longer apply.
    pub notes: Vec<String>,
    /// Set when there is no verdict: Vedette could not judge the target
    /// (an operating system or package database no advisory source
    /// covers). `pass` then says nothing, and the gate exits 4.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub none: Option<String>,
}

/// A scan's full result: what a presenter renders and the gate judges.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct ScanReport {
    pub schema: u32,
    pub target: String,
    pub digest: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub distro: Option<crate::Distro>,
    pub exposure: Exposure,
    #[ts(type = "number")]
    pub packages: usize,
    /// Sorted by risk, highest first.
    pub findings: Vec<Finding>,
    pub verdict: Verdict,
    /// The feeds matched against, with their age.
    pub feeds: Vec<FeedInfo>,
    /// Advisory feeds this target needs that are older than their limit or
    /// absent: the verdict cannot be trusted (the CI gate refuses it unless
    /// `--allow-stale`).
    pub stale_feeds: Vec<String>,
    /// What was found but cannot be judged: an operating system or language
    /// ecosystem no advisory source covers, a feed the mirror does not
    /// carry, a package database that cannot be read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uncovered: Vec<Uncovered>,
    /// Problems that did not stop the scan (a stale feed, a version no scheme reads).
    pub warnings: Vec<String>,
    #[ts(type = "string")]
    pub scanned_at: chrono::DateTime<chrono::Utc>,
}

/// Something a scan found but cannot judge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct Uncovered {
    /// What: "Amazon Linux 2023 (amzn)", "Wolfi", "/var/lib/rpm/Packages".
    pub subject: String,
    /// Its packages (0 for a database that cannot be read).
    #[ts(type = "number")]
    pub packages: usize,
    /// Why it cannot be judged, and what would.
    pub reason: String,
}

impl ScanReport {
    pub const SCHEMA: u32 = 1;

    /// Findings per severity, critical first.
    pub fn counts(&self) -> Vec<(Severity, usize)> {
        Severity::ALL
            .iter()
            .map(|s| {
                (
                    *s,
                    self.findings.iter().filter(|f| f.severity == *s).count(),
                )
            })
            .collect()
    }
}

/// A triage decided in the window: the finding (its advisory and package),
/// the status, the justification chosen for `not_affected`, why, and until
/// when. Written to the console's policy as an exception.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct TriageInput {
    /// The advisory id (or one of its aliases).
    pub id: String,
    /// The finding's purl: the exception covers that package at any version.
    pub purl: String,
    pub status: TriageStatus,
    #[serde(default)]
    #[ts(optional)]
    pub justification: Option<VexJustification>,
    pub reason: String,
    /// YYYY-MM-DD
    pub expires: String,
}

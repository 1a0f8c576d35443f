use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// What a target is. Registries are crawled into images; hosts are scanned
/// over SSH or by an enrolled agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum TargetKind {
    Image,
    Registry,
    Host,
    Directory,
    Archive,
    Sbom,
}

impl TargetKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::Image => "image",
            TargetKind::Registry => "registry",
            TargetKind::Host => "host",
            TargetKind::Directory => "directory",
            TargetKind::Archive => "archive",
            TargetKind::Sbom => "sbom",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "image" => TargetKind::Image,
            "registry" => TargetKind::Registry,
            "host" => TargetKind::Host,
            "directory" => TargetKind::Directory,
            "archive" => TargetKind::Archive,
            "sbom" => TargetKind::Sbom,
            _ => return None,
        })
    }
}

/// Whether a target is reachable from the internet; it weighs on the risk score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Exposure {
    #[default]
    Internal,
    Internet,
}

impl Exposure {
    pub fn as_str(self) -> &'static str {
        match self {
            Exposure::Internal => "internal",
            Exposure::Internet => "internet",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "internal" => Some(Exposure::Internal),
            "internet" => Some(Exposure::Internet),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct TargetInfo {
    #[ts(type = "number")]
    pub id: i64,
    pub kind: TargetKind,
    /// What the user typed: an image reference, a registry host, a path.
    pub name: String,
    pub exposure: Exposure,
    #[ts(type = "string")]
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ScanState {
    Queued,
    Running,
    Succeeded,
    Failed,
    /// The process stopped mid-scan; retried at the next start.
    Interrupted,
}

impl ScanState {
    pub fn as_str(self) -> &'static str {
        match self {
            ScanState::Queued => "queued",
            ScanState::Running => "running",
            ScanState::Succeeded => "succeeded",
            ScanState::Failed => "failed",
            ScanState::Interrupted => "interrupted",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "queued" => ScanState::Queued,
            "running" => ScanState::Running,
            "succeeded" => ScanState::Succeeded,
            "failed" => ScanState::Failed,
            "interrupted" => ScanState::Interrupted,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ScanSummary {
    #[ts(type = "number")]
    pub id: i64,
    #[ts(type = "number")]
    pub target_id: i64,
    pub target_name: String,
    pub state: ScanState,
    #[ts(type = "string")]
    pub started_at: DateTime<Utc>,
    #[ts(optional, type = "string")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    /// Packages in the scan's inventory, once it succeeded.
    #[ts(optional, type = "number")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub packages: Option<i64>,
    /// Per-target error, in words, when the scan failed.
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub trigger: crate::Trigger,
    /// Findings per severity (critical, high, medium, low, unknown), when
    /// the scan matched advisories.
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counts: Option<SeverityCounts>,
    /// The policy's verdict, when there was one.
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict_pass: Option<bool>,
    /// Findings new since the previous scan of the target.
    #[ts(optional, type = "number")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_findings: Option<i64>,
}

/// Findings per severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SeverityCounts {
    #[ts(type = "number")]
    pub critical: i64,
    #[ts(type = "number")]
    pub high: i64,
    #[ts(type = "number")]
    pub medium: i64,
    #[ts(type = "number")]
    pub low: i64,
    #[ts(type = "number")]
    pub unknown: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_names_round_trip_through_their_database_spelling() {
        for k in [
            TargetKind::Image,
            TargetKind::Registry,
            TargetKind::Host,
            TargetKind::Directory,
            TargetKind::Archive,
            TargetKind::Sbom,
        ] {
            assert_eq!(TargetKind::parse(k.as_str()), Some(k));
            // The database spelling is the serde spelling.
            assert_eq!(
                serde_json::to_string(&k).unwrap(),
                format!("\"{}\"", k.as_str())
            );
        }
        for s in [
            ScanState::Queued,
            ScanState::Running,
            ScanState::Succeeded,
            ScanState::Failed,
            ScanState::Interrupted,
        ] {
            assert_eq!(ScanState::parse(s.as_str()), Some(s));
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
        }
        assert_eq!(TargetKind::parse("printer"), None);
    }
}

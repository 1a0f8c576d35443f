use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// What happened, as the event log, the API's event stream and (later)
/// the notification rules name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub enum EventKind {
    #[serde(rename = "target.added")]
    TargetAdded,
    #[serde(rename = "target.quarantined")]
    TargetQuarantined,
    #[serde(rename = "scan.started")]
    ScanStarted,
    #[serde(rename = "scan.finished")]
    ScanFinished,
    #[serde(rename = "scan.error")]
    ScanError,
    #[serde(rename = "finding.new")]
    FindingNew,
    #[serde(rename = "policy.failed")]
    PolicyFailed,
    #[serde(rename = "feed.updated")]
    FeedUpdated,
    #[serde(rename = "feed.stale")]
    FeedStale,
    #[serde(rename = "schedule.fired")]
    ScheduleFired,
    /// The new-node gate decided on a node (acted, or only recorded).
    #[serde(rename = "gate.action")]
    GateAction,
}

impl EventKind {
    pub const ALL: [EventKind; 11] = [
        EventKind::TargetAdded,
        EventKind::TargetQuarantined,
        EventKind::ScanStarted,
        EventKind::ScanFinished,
        EventKind::ScanError,
        EventKind::FindingNew,
        EventKind::PolicyFailed,
        EventKind::FeedUpdated,
        EventKind::FeedStale,
        EventKind::ScheduleFired,
        EventKind::GateAction,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::TargetAdded => "target.added",
            EventKind::TargetQuarantined => "target.quarantined",
            EventKind::ScanStarted => "scan.started",
            EventKind::ScanFinished => "scan.finished",
            EventKind::ScanError => "scan.error",
            EventKind::FindingNew => "finding.new",
            EventKind::PolicyFailed => "policy.failed",
            EventKind::FeedUpdated => "feed.updated",
            EventKind::FeedStale => "feed.stale",
            EventKind::ScheduleFired => "schedule.fired",
            EventKind::GateAction => "gate.action",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One entry of the persisted event log. `id` grows with every event of
/// the data dir (whichever process wrote it): the stream's `Last-Event-ID`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct Event {
    #[ts(type = "number")]
    pub id: i64,
    pub kind: EventKind,
    #[ts(type = "string")]
    pub at: DateTime<Utc>,
    /// The event's fields (`scan_id`, `target_id`, `target`, `verdict`, …).
    #[ts(type = "Record<string, unknown>")]
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// What an API token may do; each scope includes the ones before it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, TS, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum TokenScope {
    /// Read targets, scans, reports, schedules, trends, feeds, events.
    Read,
    /// Read, and add targets and start scans.
    Scan,
    /// Everything: remove targets, change schedules, exceptions, feeds.
    Admin,
}

impl TokenScope {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenScope::Read => "read",
            TokenScope::Scan => "scan",
            TokenScope::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "read" => Some(TokenScope::Read),
            "scan" => Some(TokenScope::Scan),
            "admin" => Some(TokenScope::Admin),
            _ => None,
        }
    }
}

impl std::fmt::Display for TokenScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An API token as it is listed: never the token itself (only its hash is
/// stored), its first characters to tell tokens apart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct ApiToken {
    #[ts(type = "number")]
    pub id: i64,
    pub name: String,
    pub scope: TokenScope,
    /// `vdt_ab12cd`: the token's first characters.
    pub prefix: String,
    #[ts(type = "string")]
    pub created_at: DateTime<Utc>,
    #[ts(optional, type = "string")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<DateTime<Utc>>,
    #[ts(optional, type = "string")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A token just created: the only time its secret is shown.
#[derive(Debug, Clone, Serialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct CreatedToken {
    pub token: ApiToken,
    /// The bearer token; not stored, not shown again.
    pub secret: String,
}

/// A scan started in the background (the window's "Scan now", the API):
/// where to follow it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct StartedScan {
    #[ts(type = "number")]
    pub scan_id: i64,
    #[ts(type = "number")]
    pub target_id: i64,
    pub target: String,
    /// `/api/v1/scans/{scan_id}`
    pub url: String,
}

/// What starting scans of a target (or a selection) did: the scans started,
/// and for a registry the images its crawl picked, scanned one after the
/// other (each appears in the history as it starts).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct ScansStarted {
    pub scans: Vec<StartedScan>,
    pub queued: Vec<String>,
    /// What could not be started, and why (one line each).
    pub refused: Vec<String>,
}

/// Live progress of a scan running in this process (not stored).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct ScanProgress {
    #[ts(type = "number")]
    pub scan_id: i64,
    #[ts(type = "number")]
    pub target_id: i64,
    /// "resolving …", "reading layers", "matching", …
    pub stage: String,
    #[ts(type = "number")]
    pub layers_total: u64,
    #[ts(type = "number")]
    pub layers_done: u64,
    #[ts(type = "number")]
    pub bytes_total: u64,
    #[ts(type = "number")]
    pub bytes_done: u64,
    /// Set once the scan ended: `succeeded`, `failed`, `cancelled`.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished: Option<String>,
}

/// A target's standing after its newest finished scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum TargetVerdict {
    Pass,
    Fail,
    /// Vedette could not judge it (no advisories for its system, a stale feed).
    NoVerdict,
    /// No scan of it finished yet (or it only listed packages).
    NotScanned,
}

impl TargetVerdict {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pass" => Some(Self::Pass),
            "fail" => Some(Self::Fail),
            "no_verdict" => Some(Self::NoVerdict),
            "not_scanned" => Some(Self::NotScanned),
            _ => None,
        }
    }
}

/// A target with its standing, as the API lists targets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct TargetView {
    #[serde(flatten)]
    pub target: crate::TargetInfo,
    pub verdict: TargetVerdict,
    #[ts(optional, type = "number")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_scan_id: Option<i64>,
    /// Its newest scan, whatever became of it (for a host: whether it
    /// could be reached, and if not why).
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_scan: Option<LastScan>,
}

/// A target's newest scan, in short.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct LastScan {
    #[ts(type = "number")]
    pub id: i64,
    pub state: crate::ScanState,
    /// When it finished (when it started, while it runs).
    #[ts(type = "string")]
    pub at: chrono::DateTime<chrono::Utc>,
    /// Why it failed.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Where this window's automation API listens, or why it does not.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct ApiStatus {
    /// `http://127.0.0.1:7878/api/v1`
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Why there is none here (`vedette serve` serves it, the port is taken).
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The SHA-256 of its TLS certificate, when it is served over TLS.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_from_its_name_and_serializes_as_it() {
        for k in EventKind::ALL {
            assert_eq!(EventKind::parse(k.as_str()), Some(k));
            assert_eq!(
                serde_json::to_string(&k).unwrap(),
                format!("\"{}\"", k.as_str())
            );
        }
    }

    #[test]
    fn scopes_include_the_smaller_ones() {
        assert!(TokenScope::Admin > TokenScope::Scan && TokenScope::Scan > TokenScope::Read);
        assert_eq!(TokenScope::parse("scan"), Some(TokenScope::Scan));
        assert_eq!(TokenScope::parse("root"), None);
    }
}

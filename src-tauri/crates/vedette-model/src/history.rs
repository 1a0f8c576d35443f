//! History: what changed between two scans of a target, and why.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::Finding;

/// Why a finding is new in a scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Cause {
    /// The target's first scan.
    FirstScan,
    /// Same packages as before; a newer advisory feed knows more.
    FeedUpdate,
    /// A new image digest or changed packages brought it in.
    InventoryChange,
    /// The target's exposure changed (and with it what the policy counts).
    ExposureChange,
}

impl Cause {
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::FirstScan => "first_scan",
            Cause::FeedUpdate => "feed_update",
            Cause::InventoryChange => "inventory_change",
            Cause::ExposureChange => "exposure_change",
        }
    }

    pub fn parse(s: &str) -> Option<Cause> {
        Some(match s {
            "first_scan" => Cause::FirstScan,
            "feed_update" => Cause::FeedUpdate,
            "inventory_change" => Cause::InventoryChange,
            "exposure_change" => Cause::ExposureChange,
            _ => return None,
        })
    }

    /// In words, for people.
    pub fn describe(self) -> &'static str {
        match self {
            Cause::FirstScan => "first scan of this target",
            Cause::FeedUpdate => "newly disclosed: a feed update, same packages",
            Cause::InventoryChange => "the image or its packages changed",
            Cause::ExposureChange => "the target's exposure changed",
        }
    }
}

/// A finding new in a scan, with its cause.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct NewFinding {
    pub cause: Cause,
    pub finding: Finding,
}

/// What a scan found compared with the previous scan of the same target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct ScanDiff {
    #[ts(type = "number")]
    pub scan_id: i64,
    #[ts(optional, type = "number")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_scan_id: Option<i64>,
    pub new: Vec<NewFinding>,
    /// In the previous scan, gone now.
    pub fixed: Vec<Finding>,
    /// In both.
    pub unchanged: Vec<Finding>,
}

/// How a scan was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Trigger {
    Manual,
    Schedule,
    Rematch,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Manual => "manual",
            Trigger::Schedule => "schedule",
            Trigger::Rematch => "rematch",
        }
    }

    pub fn parse(s: &str) -> Option<Trigger> {
        Some(match s {
            "manual" => Trigger::Manual,
            "schedule" => Trigger::Schedule,
            "rematch" => Trigger::Rematch,
            _ => return None,
        })
    }
}

/// The identity of a vulnerability in a package across scans: the CVE (or
/// the advisory id), the ecosystem and the package name. The version is left
/// out: an upgrade that does not fix it leaves the same finding open.
pub fn finding_key(f: &Finding) -> String {
    format!(
        "{}|{}|{}",
        f.cve.as_deref().unwrap_or(&f.id),
        f.ecosystem,
        f.package
    )
}

/// One scan as the window shows it: its report (verdict, feeds, warnings)
/// and its findings as a diff against the previous scan of the target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct ScanDetail {
    #[ts(type = "number")]
    pub scan_id: i64,
    /// None when the scan only listed packages, or failed.
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<crate::ScanReport>,
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<ScanDiff>,
}

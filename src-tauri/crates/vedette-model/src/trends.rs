//! Trends over the history.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::SeverityCounts;

/// Open findings on one day: the newest scan of each target up to that day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DailyOpen {
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    pub open: SeverityCounts,
}

/// Findings that appeared and disappeared in one week (Monday first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct WeeklyChange {
    pub week_start: String,
    #[ts(type = "number")]
    pub new: i64,
    #[ts(type = "number")]
    pub fixed: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Trends {
    /// Which targets: "all targets" or a target's name.
    pub scope: String,
    pub daily: Vec<DailyOpen>,
    pub weekly: Vec<WeeklyChange>,
    /// Mean days from a finding's first scan to the first scan without it.
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mean_days_to_fix: Option<f64>,
    #[ts(type = "number")]
    pub fixed_count: i64,
}

//! Trends over the history.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::SeverityCounts;

/// Open findings on one day: the newest scan of each target up to that day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct DailyOpen {
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    pub open: SeverityCounts,
}

/// Findings that appeared and disappeared in one week (Monday first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct WeeklyChange {
    pub week_start: String,
    #[ts(type = "number")]
    pub new: i64,
    #[ts(type = "number")]
    pub fixed: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
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

/// A finding open now, where it is (for the dashboard's most exploitable).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct OpenFinding {
    #[ts(type = "number")]
    pub scan_id: i64,
    pub target: String,
    pub finding: crate::Finding,
}

/// A schedule's last or next run, for the dashboard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct ScheduleRunTime {
    #[ts(type = "number")]
    pub schedule_id: i64,
    pub schedule: String,
    /// RFC 3339.
    pub at: String,
}

/// What the dashboard shows besides the chart: the riskiest open findings,
/// the schedules' last and next runs, and whether this window runs them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct Activity {
    pub most_exploitable: Vec<OpenFinding>,
    pub last_runs: Vec<ScheduleRunTime>,
    pub next_runs: Vec<ScheduleRunTime>,
    /// Why the window does not fire schedules (`vedette serve` does), if so.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduler_note: Option<String>,
}

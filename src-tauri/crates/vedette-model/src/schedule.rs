//! Schedules: when Vedette scans by itself, and what.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::TargetKind;

/// Which targets a schedule scans. Empty fields select everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct TargetSelector {
    /// Only targets of these kinds (none: all kinds).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<TargetKind>,
    /// Only targets whose name matches this glob (`*` and `?`), e.g.
    /// `registry.example.com/shop/*`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub name_glob: Option<String>,
    /// Only targets of this group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub group: Option<String>,
}

impl TargetSelector {
    pub fn matches(&self, t: &crate::TargetInfo) -> bool {
        // What was piped in once cannot be read again.
        t.name != crate::STDIN_TARGET
            && (self.kinds.is_empty() || self.kinds.contains(&t.kind))
            && self
                .name_glob
                .as_deref()
                .is_none_or(|g| glob_match(g, &t.name))
            && self
                .group
                .as_deref()
                .is_none_or(|g| t.group.as_deref() == Some(g))
    }

    /// In words: "all targets", "images matching shop/*".
    pub fn describe(&self) -> String {
        let kinds = if self.kinds.is_empty() {
            "all targets".to_owned()
        } else {
            self.kinds
                .iter()
                .map(|k| match k {
                    TargetKind::Image => "images",
                    TargetKind::Registry => "registries",
                    TargetKind::Host => "hosts",
                    TargetKind::Directory => "directories",
                    TargetKind::Archive => "image archives",
                    TargetKind::Sbom => "SBOMs",
                    TargetKind::Node => "nodes",
                })
                .collect::<Vec<_>>()
                .join(" and ")
        };
        let kinds = match &self.name_glob {
            Some(g) => format!("{kinds} matching {g}"),
            None => kinds,
        };
        match &self.group {
            Some(g) => format!("{kinds} in group {g}"),
            None => kinds,
        }
    }
}

/// `*` matches any run of characters, `?` one character; the rest literally.
pub fn glob_match(glob: &str, name: &str) -> bool {
    let (g, n): (Vec<char>, Vec<char>) = (glob.chars().collect(), name.chars().collect());
    let (mut gi, mut ni) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ni < n.len() {
        if gi < g.len() && (g[gi] == '?' || g[gi] == n[ni]) {
            gi += 1;
            ni += 1;
        } else if gi < g.len() && g[gi] == '*' {
            star = Some(gi);
            mark = ni;
            gi += 1;
        } else if let Some(s) = star {
            gi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    while gi < g.len() && g[gi] == '*' {
        gi += 1;
    }
    gi == g.len()
}

/// Options a scheduled scan runs with.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct ScheduleOptions {
    /// Fail the verdict on findings of this severity or worse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub fail_on: Option<crate::Severity>,
    /// Count only findings that have a fix.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ignore_unfixed: bool,
}

/// A schedule as stored and shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct Schedule {
    #[ts(type = "number")]
    pub id: i64,
    pub name: String,
    /// 5 fields (minute hour day-of-month month day-of-week), or 6 with seconds first.
    pub cron: String,
    /// IANA time zone, e.g. `Europe/Paris`; `local` for the machine's.
    pub timezone: String,
    pub selector: TargetSelector,
    pub options: ScheduleOptions,
    pub enabled: bool,
    /// Created by Vedette (the weekly scan of everything); can be edited, not removed.
    pub system: bool,
    /// A run missed while Vedette was not running runs once at the next start.
    pub catch_up: bool,
    /// Up to this many seconds of random delay, so fleets do not all pull at once.
    #[ts(type = "number")]
    pub jitter_seconds: i64,
    #[ts(optional, type = "string")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_run_at: Option<chrono::DateTime<chrono::Utc>>,
    #[ts(type = "string")]
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// What a new or edited schedule says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct ScheduleInput {
    pub name: String,
    pub cron: String,
    pub timezone: String,
    pub selector: TargetSelector,
    pub options: ScheduleOptions,
    pub enabled: bool,
    pub catch_up: bool,
    #[ts(type = "number")]
    pub jitter_seconds: i64,
}

/// What a schedule being edited means: in words, its next runs, and the
/// targets it would scan now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct SchedulePreview {
    /// "At 03:00 on Monday."
    pub description: String,
    /// The next five runs, RFC 3339 in UTC.
    pub next_runs: Vec<String>,
    /// The same, as wall-clock times in the schedule's time zone.
    pub next_runs_local: Vec<String>,
    pub targets: Vec<crate::TargetInfo>,
}

/// A schedule as the window lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct ScheduleView {
    pub schedule: Schedule,
    pub description: String,
    /// When it runs next (RFC 3339), if enabled and valid.
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_run: Option<String>,
    pub targets_now: String,
}

/// The schedule Vedette creates on first run, disabled.
pub const WEEKLY_SCAN_ALL: &str = "Weekly scan of all containers and hosts";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_like_a_shell() {
        assert!(glob_match(
            "registry.example.com/shop/*",
            "registry.example.com/shop/api:1"
        ));
        assert!(!glob_match(
            "registry.example.com/shop/*",
            "registry.example.com/other/api"
        ));
        assert!(glob_match("*:v?", "x/y:v1"));
        assert!(!glob_match("*:v?", "x/y:v10"));
        assert!(glob_match("*", ""));
    }

    #[test]
    fn selectors_read_as_words() {
        let s = TargetSelector {
            kinds: vec![TargetKind::Image, TargetKind::Directory],
            name_glob: Some("shop/*".into()),
            group: None,
        };
        assert_eq!(s.describe(), "images and directories matching shop/*");
        assert_eq!(TargetSelector::default().describe(), "all targets");
    }
}

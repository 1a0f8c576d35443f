use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum CheckState {
    Ok,
    /// Works, but something the user will want soon is missing.
    Warn,
    /// Does not work: what the check's `without` names stops until it is
    /// fixed (everything, for an essential check).
    Fail,
}

/// One line of `vedette doctor` and of the dashboard's health panel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct Check {
    /// Short name: "Data directory", "Database", "Keyring", "Advisory feeds".
    pub name: String,
    pub state: CheckState,
    /// What was found, in words a user understands.
    pub detail: String,
    /// What to do about it, when there is something to do.
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// What does not work while this check is not ok.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub without: Option<String>,
    /// Nothing can be scanned while this check fails.
    #[serde(default)]
    pub essential: bool,
}

impl Check {
    pub fn ok(name: &str, detail: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            state: CheckState::Ok,
            detail: detail.into(),
            hint: None,
            without: None,
            essential: false,
        }
    }

    pub fn warn(name: &str, detail: impl Into<String>, hint: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            state: CheckState::Warn,
            detail: detail.into(),
            hint: Some(hint.into()),
            without: None,
            essential: false,
        }
    }

    pub fn fail(name: &str, detail: impl Into<String>, hint: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            state: CheckState::Fail,
            detail: detail.into(),
            hint: Some(hint.into()),
            without: None,
            essential: false,
        }
    }
}

impl Check {
    /// Says what does not work while this check is not ok.
    pub fn without(mut self, what: impl Into<String>) -> Self {
        self.without = Some(what.into());
        self
    }

    /// Marks a check without which nothing can be scanned.
    pub fn essential(mut self) -> Self {
        self.essential = true;
        self
    }
}

/// The result of `vedette doctor`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct DoctorReport {
    pub version: String,
    pub data_dir: String,
    /// Latest applied migration, e.g. 20261128050000; 0 when the database could not be opened.
    #[ts(type = "number")]
    pub schema_version: i64,
    pub checks: Vec<Check>,
}

impl DoctorReport {
    /// All well when nothing failed (warnings are fine).
    pub fn healthy(&self) -> bool {
        self.checks.iter().all(|c| c.state != CheckState::Fail)
    }

    /// Whether Vedette can scan at all: no essential check failed (a
    /// missing keyring or feed leaves scanning possible, with less).
    pub fn can_scan(&self) -> bool {
        !self
            .checks
            .iter()
            .any(|c| c.essential && c.state == CheckState::Fail)
    }
}

/// What the dashboard shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct AppOverview {
    pub version: String,
    pub data_dir: String,
    #[ts(type = "number")]
    pub targets: i64,
    #[ts(type = "number")]
    pub scans: i64,
    #[ts(type = "number")]
    pub credentials: i64,
    pub checks: Vec<Check>,
}

//! Nodes: machines whose Vedette agent enrolled with the console (with an
//! enrolment token), send their inventory and heartbeat; and the gate that
//! acts on the cloud instances whose scan fails its policy.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::Exposure;

/// An enrolment token as listed: never the token itself (only its hash is
/// stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct EnrolToken {
    #[ts(type = "number")]
    pub id: i64,
    pub name: String,
    /// `vde_ab12cd`: the token's first characters.
    pub prefix: String,
    #[ts(type = "string")]
    pub created_at: DateTime<Utc>,
    #[ts(type = "string")]
    pub expires_at: DateTime<Utc>,
    /// How many nodes may enrol with it, and how many did.
    pub max_uses: u32,
    pub uses: u32,
    /// What the nodes it enrols inherit.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    pub exposure: Exposure,
    #[ts(optional, type = "string")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<DateTime<Utc>>,
}

/// An enrolment token just created: the only time its secret is shown.
#[derive(Debug, Clone, Serialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct CreatedEnrolToken {
    pub token: EnrolToken,
    /// The bearer token for `vedette-agent --enrol-token`; not stored.
    pub secret: String,
}

/// Where a node runs in a cloud (from the instance metadata service, or
/// the agent's flags).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct CloudInstance {
    /// `aws`.
    pub provider: String,
    /// `i-0abc…`.
    pub instance_id: String,
    #[serde(default)]
    pub region: String,
    #[serde(default)]
    pub account: String,
}

/// What an agent says of its node when it enrols.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct NodeFacts {
    pub hostname: String,
    /// `/etc/machine-id`.
    pub machine_id: String,
    /// `PRETTY_NAME` of its os-release.
    #[serde(default)]
    pub os: String,
    /// Its IP addresses.
    #[serde(default)]
    pub addresses: Vec<String>,
    /// Its listening TCP sockets (`0.0.0.0:22`, `[::]:443`).
    #[serde(default)]
    pub listening: Vec<String>,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<CloudInstance>,
}

/// What a node receives when it enrols: the credential it uses from then
/// on (shown once; only its hash is stored).
#[derive(Debug, Clone, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct Enrolled {
    #[ts(type = "number")]
    pub target_id: i64,
    pub credential: String,
}

/// A node as the console knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct NodeInfo {
    #[ts(type = "number")]
    pub target_id: i64,
    pub facts: NodeFacts,
    #[ts(type = "string")]
    pub enrolled_at: DateTime<Utc>,
    #[ts(type = "string")]
    pub last_seen_at: DateTime<Utc>,
    /// Its credential was revoked: the node is lost.
    #[ts(optional, type = "string")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<DateTime<Utc>>,
    /// Its target's name: `host (instance-id)`.
    pub name: String,
    pub exposure: Exposure,
    /// The user set the exposure: inference leaves it as it is.
    pub exposure_pinned: bool,
    /// When the gate judged it for having no verdict within the gate
    /// policy's `max_age_minutes_without_verdict`.
    #[ts(optional, type = "string")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overdue_at: Option<DateTime<Utc>>,
    /// Its newest succeeded scan, and that scan's verdict (none: the scan
    /// could not judge everything).
    #[ts(optional, type = "number")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan_id: Option<i64>,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict_pass: Option<bool>,
}

impl NodeInfo {
    /// Where the node stands with the gate, in a word: `lost` (revoked),
    /// `pass`, `fail`, `no verdict` (its scan could not judge everything),
    /// `overdue` (no verdict in the time the gate policy allows) or
    /// `waiting` (for its first inventory).
    pub fn standing(&self) -> &'static str {
        match (self.revoked_at, self.scan_id, self.verdict_pass) {
            (Some(_), _, _) => "lost",
            (None, Some(_), Some(true)) => "pass",
            (None, Some(_), Some(false)) => "fail",
            (None, Some(_), None) => "no verdict",
            (None, None, _) if self.overdue_at.is_some() => "overdue",
            (None, None, _) => "waiting",
        }
    }
}

/// What the gate does to a node's instance when the node fails its policy.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum GateAction {
    /// Record and notify only.
    #[default]
    Notify,
    /// Stop the instance (`StopInstances`).
    Stop,
    /// Terminate it (`TerminateInstances`).
    Terminate,
}

impl GateAction {
    pub fn as_str(self) -> &'static str {
        match self {
            GateAction::Notify => "notify",
            GateAction::Stop => "stop",
            GateAction::Terminate => "terminate",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "notify" => GateAction::Notify,
            "stop" => GateAction::Stop,
            "terminate" => GateAction::Terminate,
            _ => return None,
        })
    }

    /// Whether it changes the instance.
    pub fn destructive(self) -> bool {
        self != GateAction::Notify
    }
}

/// The gate's settings: what it does, whether it is armed (and by whom).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct GateSettings {
    pub action: GateAction,
    /// A destructive action is taken only once armed; until then the gate
    /// records what it would do.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub armed_by: Option<String>,
    #[ts(optional, type = "string")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub armed_at: Option<DateTime<Utc>>,
    /// At most this many stops or terminations an hour; past it the gate
    /// only notifies, and says so.
    pub cap_per_hour: u32,
}

impl GateSettings {
    pub const DEFAULT_CAP: u32 = 5;
}

/// A node the gate would act on now, and why (a dry run).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct GateCandidate {
    #[ts(type = "number")]
    pub target_id: i64,
    pub node: String,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
    /// Its newest scan (none: it has had none in the time the gate policy
    /// allows).
    #[ts(optional, type = "number")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan_id: Option<i64>,
    /// Why it fails the gate policy (or gets no verdict).
    pub reason: String,
    pub action: GateAction,
}

/// What became of one gate decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ActionOutcome {
    /// The cloud API did it.
    Done,
    /// Only recorded: the action is notify, or the gate is not armed.
    NotActed,
    /// The cloud API refused or could not be reached.
    Failed,
}

impl ActionOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionOutcome::Done => "done",
            ActionOutcome::NotActed => "not_acted",
            ActionOutcome::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "done" => ActionOutcome::Done,
            "not_acted" => ActionOutcome::NotActed,
            "failed" => ActionOutcome::Failed,
            _ => return None,
        })
    }
}

/// One entry of the append-only action log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct ActionRecord {
    #[ts(type = "number")]
    pub id: i64,
    #[ts(type = "string")]
    pub at: DateTime<Utc>,
    /// The node (its target's name) and its instance.
    pub node: String,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
    pub action: GateAction,
    pub outcome: ActionOutcome,
    /// Why the gate decided (the policy's failures).
    pub reason: String,
    /// Who armed the gate, when it acted armed.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub armed_by: Option<String>,
    /// The scan the decision was made on.
    #[ts(optional, type = "number")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan_id: Option<i64>,
    /// What the cloud API answered (its request id and the instance's new
    /// state, or its error).
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
}

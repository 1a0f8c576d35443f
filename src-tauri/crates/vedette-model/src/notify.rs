//! Notifications: channels (where messages go), rules (which events, how
//! filtered, at once or in a digest) and deliveries (the outbox and its
//! log).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::{EventKind, Severity};

/// Where a channel sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ChannelKind {
    /// A freedesktop notification on the session bus of the process that
    /// sends it.
    Desktop,
    /// A Slack incoming webhook (Block Kit); its URL holds the token, so it
    /// lives in the keyring.
    Slack,
    /// A Microsoft Teams Workflows webhook (an Adaptive Card); its URL in
    /// the keyring.
    Teams,
    /// Any HTTP endpoint: Vedette's JSON, signed with an HMAC whose secret
    /// is in the keyring.
    Webhook,
    /// Mail over SMTP (STARTTLS or implicit TLS); the password in the
    /// keyring.
    Email,
}

impl ChannelKind {
    pub const ALL: [ChannelKind; 5] = [
        ChannelKind::Desktop,
        ChannelKind::Slack,
        ChannelKind::Teams,
        ChannelKind::Webhook,
        ChannelKind::Email,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Desktop => "desktop",
            ChannelKind::Slack => "slack",
            ChannelKind::Teams => "teams",
            ChannelKind::Webhook => "webhook",
            ChannelKind::Email => "email",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// How a mail channel speaks TLS.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum SmtpTls {
    /// Plain, then STARTTLS (required): port 587.
    #[default]
    Starttls,
    /// TLS from the first byte: port 465.
    Implicit,
}

/// A channel's settings that are not secret (what is, is in the keyring).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct ChannelSettings {
    /// A generic webhook's URL (Slack's and Teams' hold their token and are
    /// kept in the keyring instead).
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Mail: the SMTP server, its port, how it speaks TLS, the login, who
    /// sends and who receives.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp_host: Option<String>,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp_port: Option<u16>,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp_tls: Option<SmtpTls>,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp_username: Option<String>,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<String>,
}

/// A channel as listed: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct Channel {
    #[ts(type = "number")]
    pub id: i64,
    pub name: String,
    pub kind: ChannelKind,
    pub settings: ChannelSettings,
    /// A secret (a webhook URL, an HMAC secret, a password) is set, in the
    /// keyring.
    pub has_secret: bool,
    #[ts(type = "string")]
    pub created_at: DateTime<Utc>,
    /// Since when its deliveries keep failing (none: it works).
    #[ts(optional, type = "string")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<DateTime<Utc>>,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// Which events go to a channel, filtered, and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct Rule {
    #[ts(type = "number")]
    pub id: i64,
    pub channel: String,
    pub event: EventKind,
    /// Findings below this severity do not count (for `finding.new`: they
    /// are left out; a message with none left is not sent).
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_severity: Option<Severity>,
    /// Findings with a lower risk score (0 to 100) do not count.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_risk: Option<f64>,
    /// Only findings known to be exploited (CISA KEV).
    #[serde(default)]
    pub kev_only: bool,
    /// Only targets whose name matches this glob (`*`, `?`).
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Only targets of this group.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// A cron expression: the matching events are summed up in one message
    /// at these times. None: sent at once (one message per run and
    /// channel).
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
}

/// What became of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum DeliveryState {
    /// Waiting for its (next) attempt.
    Queued,
    Sent,
    /// Every attempt failed.
    Failed,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Queued => "queued",
            DeliveryState::Sent => "sent",
            DeliveryState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Queued, Self::Sent, Self::Failed]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// One finding a message names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct MessageFinding {
    pub id: String,
    pub package: String,
    pub version: String,
    pub severity: Severity,
    pub kev: bool,
    /// Its risk score (0 to 100).
    #[serde(default)]
    pub risk: f64,
    /// Why it is new: `first_scan`, `feed_update`, `inventory_change`,
    /// `exposure_change`.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    pub target: String,
    #[ts(type = "number")]
    pub scan_id: i64,
}

/// A message as queued: what every channel renders in its own format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct Message {
    /// "Vedette: 3 new critical findings in 2 targets".
    pub title: String,
    /// One line per fact (a scan failed its policy, a feed is stale, …).
    pub lines: Vec<String>,
    /// The worst findings, worst first (at most 10).
    pub worst: Vec<MessageFinding>,
    /// How many findings there were in all (more than `worst` lists).
    pub findings_total: usize,
    /// The scan to open (the desktop opens it on click; others link it).
    #[ts(optional, type = "number")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan_id: Option<i64>,
    /// Absolute links back (the API's scan URLs), when Vedette knows where
    /// its API is served.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<String>,
    /// The events it covers: their names.
    pub events: Vec<String>,
    #[ts(type = "string")]
    pub at: DateTime<Utc>,
}

/// A delivery as the log shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct Delivery {
    #[ts(type = "number")]
    pub id: i64,
    #[ts(type = "string")]
    pub created_at: DateTime<Utc>,
    pub channel: String,
    /// The rule that made it (none: a test message).
    #[ts(optional, type = "number")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_id: Option<i64>,
    pub title: String,
    pub digest: bool,
    pub state: DeliveryState,
    pub attempts: u32,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    #[ts(optional, type = "string")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<DateTime<Utc>>,
}

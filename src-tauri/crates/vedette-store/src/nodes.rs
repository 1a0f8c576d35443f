//! Enrolment tokens, the nodes that enrolled with them, the gate's
//! settings and its append-only action log. Tokens and node credentials
//! are kept only as SHA-256 hashes.

use chrono::{DateTime, Utc};
use vedette_model::{
    ActionOutcome, ActionRecord, EnrolToken, EventKind, Exposure, GateAction, GateSettings,
    NodeFacts, NodeInfo, TargetKind,
};

use crate::db::{on_pool, on_tx};
use crate::{parse_enum, Result, Store, StoreError};

type TokenRow = (
    i64,
    String,
    String,
    DateTime<Utc>,
    DateTime<Utc>,
    i64,
    i64,
    Option<String>,
    String,
    Option<DateTime<Utc>>,
);

const TOKEN_COLUMNS: &str =
    "id, name, prefix, created_at, expires_at, max_uses, uses, grp, exposure, revoked_at";

fn enrol_token(r: TokenRow) -> Result<EnrolToken> {
    let (id, name, prefix, created_at, expires_at, max_uses, uses, group, exposure, revoked_at) = r;
    Ok(EnrolToken {
        id,
        name,
        prefix,
        created_at,
        expires_at,
        max_uses: u32::try_from(max_uses).unwrap_or(u32::MAX),
        uses: u32::try_from(uses).unwrap_or(u32::MAX),
        group,
        exposure: parse_enum(&exposure, Exposure::parse, "exposure")?,
        revoked_at,
    })
}

/// Why an enrolment token was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenRefusal {
    Unknown,
    Revoked(String),
    Expired(String),
    Exhausted(String),
}

impl std::fmt::Display for TokenRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenRefusal::Unknown => f.write_str("the enrolment token is not known"),
            TokenRefusal::Revoked(n) => write!(f, "the enrolment token '{n}' was revoked"),
            TokenRefusal::Expired(n) => write!(f, "the enrolment token '{n}' has expired"),
            TokenRefusal::Exhausted(n) => {
                write!(
                    f,
                    "the enrolment token '{n}' has enrolled as many nodes as it may"
                )
            }
        }
    }
}

/// The token, when it may enrol a node at `now`.
fn usable(t: EnrolToken, now: DateTime<Utc>) -> std::result::Result<EnrolToken, TokenRefusal> {
    if t.revoked_at.is_some() {
        Err(TokenRefusal::Revoked(t.name))
    } else if t.expires_at <= now {
        Err(TokenRefusal::Expired(t.name))
    } else if t.uses >= t.max_uses {
        Err(TokenRefusal::Exhausted(t.name))
    } else {
        Ok(t)
    }
}

/// A new token's settings.
pub struct NewEnrolToken<'a> {
    pub name: &'a str,
    pub hash: &'a [u8; 32],
    pub prefix: &'a str,
    pub expires_at: DateTime<Utc>,
    pub max_uses: u32,
    pub group: Option<&'a str>,
    pub exposure: Exposure,
}

/// A node's row.
#[derive(sqlx::FromRow)]
struct NodeRow {
    target_id: i64,
    facts: String,
    enrolled_at: DateTime<Utc>,
    last_seen_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
    name: String,
    exposure: String,
    exposure_pinned: bool,
    overdue_at: Option<DateTime<Utc>>,
    scan_id: Option<i64>,
    verdict_pass: Option<bool>,
}

/// The node's row with its target's name and exposure and its newest
/// succeeded scan.
const NODE_SELECT: &str =
    "SELECT n.target_id, n.facts, n.enrolled_at, n.last_seen_at, n.revoked_at,
        t.name, t.exposure,
        EXISTS (SELECT 1 FROM exposure_pins p WHERE p.target_id = n.target_id) AS exposure_pinned,
        n.overdue_at, s.id AS scan_id, s.verdict_pass
   FROM nodes n JOIN targets t ON t.id = n.target_id
   LEFT JOIN scans s ON s.id = (SELECT MAX(id) FROM scans
                                WHERE target_id = n.target_id AND state = 'succeeded')";

fn node(r: NodeRow) -> Result<NodeInfo> {
    Ok(NodeInfo {
        target_id: r.target_id,
        facts: serde_json::from_str(&r.facts)
            .map_err(|e| StoreError::Corrupt(format!("the facts of node {}: {e}", r.target_id)))?,
        enrolled_at: r.enrolled_at,
        last_seen_at: r.last_seen_at,
        revoked_at: r.revoked_at,
        name: r.name,
        exposure: parse_enum(&r.exposure, Exposure::parse, "exposure")?,
        exposure_pinned: r.exposure_pinned,
        overdue_at: r.overdue_at,
        scan_id: r.scan_id,
        verdict_pass: r.verdict_pass,
    })
}

type ActionRow = (
    i64,
    DateTime<Utc>,
    String,
    Option<String>,
    String,
    String,
    String,
    Option<String>,
    Option<i64>,
    Option<String>,
);

fn action(r: ActionRow) -> Result<ActionRecord> {
    let (id, at, node, instance_id, action, outcome, reason, armed_by, scan_id, answer) = r;
    Ok(ActionRecord {
        id,
        at,
        node,
        instance_id,
        action: parse_enum(&action, GateAction::parse, "gate action")?,
        outcome: parse_enum(&outcome, ActionOutcome::parse, "action outcome")?,
        reason,
        armed_by,
        scan_id,
        answer,
    })
}

impl Store {
    /// Stores a new enrolment token's hash; refused when a live token has
    /// the name.
    pub async fn add_enrol_token(&self, t: &NewEnrolToken<'_>) -> Result<EnrolToken> {
        let row: std::result::Result<TokenRow, sqlx::Error> = on_pool!(&self.pool, |c| {
            sqlx::query_as(&format!(
            "INSERT INTO enrol_tokens (name, hash, prefix, created_at, expires_at, max_uses, grp, exposure)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {TOKEN_COLUMNS}"
        ))
        .bind(t.name)
        .bind(&t.hash[..])
        .bind(t.prefix)
        .bind(crate::db::now())
        .bind(crate::db::micros(t.expires_at))
        .bind(i64::from(t.max_uses))
        .bind(t.group)
        .bind(t.exposure.as_str())
        .fetch_one(c)
        .await
        });
        match row {
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(StoreError::Invalid(
                format!("an enrolment token named '{}' exists already; revoke it first or choose another name", t.name),
            )),
            r => enrol_token(r?),
        }
    }

    /// Every enrolment token, revoked and spent ones too, newest first.
    pub async fn enrol_tokens(&self) -> Result<Vec<EnrolToken>> {
        let rows: Vec<TokenRow> = on_pool!(&self.pool, |c| sqlx::query_as(&format!(
            "SELECT {TOKEN_COLUMNS} FROM enrol_tokens ORDER BY id DESC"
        ))
        .fetch_all(c)
        .await)?;
        rows.into_iter().map(enrol_token).collect()
    }

    /// Whether the token whose hash is `token` may enrol a node now.
    pub async fn check_enrol_token(
        &self,
        token: &[u8; 32],
    ) -> Result<std::result::Result<EnrolToken, TokenRefusal>> {
        let row: Option<TokenRow> = on_pool!(&self.pool, |c| sqlx::query_as(&format!(
            "SELECT {TOKEN_COLUMNS} FROM enrol_tokens WHERE hash = $1"
        ))
        .bind(&token[..])
        .fetch_optional(c)
        .await)?;
        Ok(match row.map(enrol_token).transpose()? {
            None => Err(TokenRefusal::Unknown),
            Some(t) => usable(t, crate::db::now()),
        })
    }

    /// Revokes the live enrolment token named `name` (or with that id).
    pub async fn revoke_enrol_token(&self, name_or_id: &str) -> Result<bool> {
        self.revoke_in("enrol_tokens", name_or_id).await
    }

    /// Enrols a node with the token whose hash is `token`, in one
    /// transaction: the token's use is counted, the node's target (kind
    /// `node`, with the token's group and exposure) and row are made, and
    /// `target.added` is logged. A machine that enrolled before keeps its
    /// target and gets the new credential (it was reinstalled, or lost its
    /// credential file). `Ok(Err(_))`: the token is refused.
    pub async fn enrol_node(
        &self,
        token: &[u8; 32],
        name: &str,
        facts: &NodeFacts,
        credential: &[u8; 32],
    ) -> Result<std::result::Result<(NodeInfo, bool), TokenRefusal>> {
        let now = crate::db::now();
        let mut tx = self.write().await?;
        let row: Option<TokenRow> = on_tx!(&mut tx, |c| sqlx::query_as(&format!(
            "SELECT {TOKEN_COLUMNS} FROM enrol_tokens WHERE hash = $1"
        ))
        .bind(&token[..])
        .fetch_optional(&mut *c)
        .await)?;
        let Some(t) = row.map(enrol_token).transpose()? else {
            return Ok(Err(TokenRefusal::Unknown));
        };
        let t = match usable(t, now) {
            Ok(t) => t,
            Err(refusal) => return Ok(Err(refusal)),
        };
        on_tx!(&mut tx, |c| sqlx::query(
            "UPDATE enrol_tokens SET uses = uses + 1 WHERE id = $1"
        )
        .bind(t.id)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
        let body = serde_json::to_string(facts)
            .map_err(|e| StoreError::Invalid(format!("cannot encode the node's facts: {e}")))?;
        let instance = facts.instance.as_ref().map(|i| i.instance_id.clone());
        let known: Option<i64> = on_tx!(&mut tx, |c| sqlx::query_scalar(
            "SELECT target_id FROM nodes WHERE machine_id = $1"
        )
        .bind(&facts.machine_id)
        .fetch_optional(&mut *c)
        .await)?;
        let (target_id, new) = match known {
            Some(id) => {
                on_tx!(&mut tx, |c| sqlx::query(
                    "UPDATE nodes SET facts = $1, instance_id = $2, credential_hash = $3,
                            token_id = $4, last_seen_at = $5, revoked_at = NULL
                     WHERE target_id = $6",
                )
                .bind(&body)
                .bind(&instance)
                .bind(&credential[..])
                .bind(t.id)
                .bind(now)
                .bind(id)
                .execute(&mut *c)
                .await
                .map(|r| r.rows_affected()))?;
                (id, false)
            }
            None => {
                let kind = TargetKind::Node.as_str();
                let id: i64 = on_tx!(&mut tx, |c| sqlx::query_scalar(
                    "INSERT INTO targets (kind, name, exposure, created_at, group_name)
                     VALUES ($1, $2, $3, $4, $5) RETURNING id",
                )
                .bind(kind)
                .bind(name)
                .bind(t.exposure.as_str())
                .bind(now)
                .bind(&t.group)
                .fetch_one(&mut *c)
                .await)
                .map_err(|e| match e {
                    sqlx::Error::Database(d) if d.is_unique_violation() => {
                        StoreError::Invalid(format!("another node is named '{name}' already"))
                    }
                    e => e.into(),
                })?;
                on_tx!(&mut tx, |c| sqlx::query(
                    "INSERT INTO nodes (target_id, machine_id, facts, instance_id, credential_hash,
                                        token_id, enrolled_at, last_seen_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
                )
                .bind(id)
                .bind(&facts.machine_id)
                .bind(&body)
                .bind(&instance)
                .bind(&credential[..])
                .bind(t.id)
                .bind(now)
                .execute(&mut *c)
                .await
                .map(|r| r.rows_affected()))?;
                crate::events::emit(
                    &mut tx,
                    EventKind::TargetAdded,
                    serde_json::json!({"target_id": id, "kind": kind, "target": name,
                        "exposure": t.exposure.as_str(), "instance_id": instance}),
                )
                .await?;
                (id, true)
            }
        };
        tx.commit().await?;
        let node = self
            .node(target_id)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("node {target_id} vanished")))?;
        Ok(Ok((node, new)))
    }

    /// The node whose credential has this hash (revoked or not).
    pub async fn node_by_credential(&self, hash: &[u8; 32]) -> Result<Option<NodeInfo>> {
        let row: Option<NodeRow> = on_pool!(&self.pool, |c| sqlx::query_as(&format!(
            "{NODE_SELECT} WHERE n.credential_hash = $1"
        ))
        .bind(&hash[..])
        .fetch_optional(c)
        .await)?;
        row.map(node).transpose()
    }

    pub async fn node(&self, target_id: i64) -> Result<Option<NodeInfo>> {
        let row: Option<NodeRow> = on_pool!(&self.pool, |c| sqlx::query_as(&format!(
            "{NODE_SELECT} WHERE n.target_id = $1"
        ))
        .bind(target_id)
        .fetch_optional(c)
        .await)?;
        row.map(node).transpose()
    }

    /// Every node, by target id.
    pub async fn nodes(&self) -> Result<Vec<NodeInfo>> {
        let rows: Vec<NodeRow> = on_pool!(&self.pool, |c| sqlx::query_as(&format!(
            "{NODE_SELECT} ORDER BY n.target_id"
        ))
        .fetch_all(c)
        .await)?;
        rows.into_iter().map(node).collect()
    }

    /// Records that a node was judged for having no verdict in time; false
    /// when it already was.
    pub async fn mark_node_overdue(&self, target_id: i64) -> Result<bool> {
        self.stamp_node_once("overdue_at", target_id).await
    }

    /// Sets a node's `column` (a time) to now unless it is set: whether it
    /// was not.
    async fn stamp_node_once(&self, column: &'static str, target_id: i64) -> Result<bool> {
        Ok(on_pool!(&self.pool, |c| sqlx::query(&format!(
            "UPDATE nodes SET {column} = $1 WHERE target_id = $2 AND {column} IS NULL"
        ))
        .bind(crate::db::now())
        .bind(target_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?
            > 0)
    }

    /// Records that the node was heard from.
    pub async fn touch_node(&self, target_id: i64) -> Result<()> {
        on_pool!(&self.pool, |c| sqlx::query(
            "UPDATE nodes SET last_seen_at = $1 WHERE target_id = $2"
        )
        .bind(crate::db::now())
        .bind(target_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Revokes a node's credential: it is refused from then on (lost).
    pub async fn revoke_node(&self, target_id: i64) -> Result<bool> {
        self.stamp_node_once("revoked_at", target_id).await
    }

    pub async fn gate_settings(&self) -> Result<GateSettings> {
        let (action, armed_by, armed_at, cap): (
            String,
            Option<String>,
            Option<DateTime<Utc>>,
            i64,
        ) = on_pool!(&self.pool, |c| sqlx::query_as(
            "SELECT action, armed_by, armed_at, cap_per_hour FROM gate WHERE id = 1",
        )
        .fetch_one(c)
        .await)?;
        Ok(GateSettings {
            action: parse_enum(&action, GateAction::parse, "gate action")?,
            armed_by,
            armed_at,
            cap_per_hour: u32::try_from(cap).unwrap_or(GateSettings::DEFAULT_CAP),
        })
    }

    /// Sets the gate's action; a new action is not armed.
    pub async fn set_gate(&self, settings: &GateSettings) -> Result<()> {
        on_pool!(&self.pool, |c| {
            sqlx::query(
            "UPDATE gate SET action = $1, armed_by = $2, armed_at = $3, cap_per_hour = $4 WHERE id = 1",
        )
        .bind(settings.action.as_str())
        .bind(&settings.armed_by)
        .bind(settings.armed_at.map(crate::db::micros))
        .bind(i64::from(settings.cap_per_hour))
        .execute(c)
        .await.map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// How many instances the gate stopped or terminated since `since`.
    pub async fn destructive_actions_since(&self, since: DateTime<Utc>) -> Result<u32> {
        let n: i64 = on_pool!(&self.pool, |c| sqlx::query_scalar(
            "SELECT COUNT(*) FROM gate_actions
             WHERE outcome = 'done' AND action IN ('stop', 'terminate') AND at >= $1",
        )
        .bind(crate::db::micros(since))
        .fetch_one(c)
        .await)?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// Appends to the action log (and logs `gate.action`), in one
    /// transaction; its id.
    pub async fn record_gate_action(&self, r: &ActionRecord) -> Result<i64> {
        let mut tx = self.write().await?;
        let id: i64 = on_tx!(&mut tx, |c| {
            sqlx::query_scalar(
            "INSERT INTO gate_actions (at, node, instance_id, action, outcome, reason, armed_by, scan_id, answer)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(crate::db::micros(r.at))
        .bind(&r.node)
        .bind(&r.instance_id)
        .bind(r.action.as_str())
        .bind(r.outcome.as_str())
        .bind(&r.reason)
        .bind(&r.armed_by)
        .bind(r.scan_id)
        .bind(&r.answer)
        .fetch_one(&mut *c)
        .await
        })?;
        crate::events::emit(
            &mut tx,
            EventKind::GateAction,
            serde_json::json!({"id": id, "node": r.node, "instance_id": r.instance_id,
                "action": r.action.as_str(), "outcome": r.outcome.as_str(), "reason": r.reason,
                "scan_id": r.scan_id}),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The action log, newest first.
    pub async fn gate_actions(&self, limit: i64) -> Result<Vec<ActionRecord>> {
        let rows: Vec<ActionRow> = on_pool!(&self.pool, |c| {
            sqlx::query_as(
            "SELECT id, at, node, instance_id, action, outcome, reason, armed_by, scan_id, answer
             FROM gate_actions ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(c)
        .await
        })?;
        rows.into_iter().map(action).collect()
    }
}

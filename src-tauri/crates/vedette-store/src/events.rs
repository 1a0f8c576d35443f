//! The event log: one row per fact the API streams and notifications read,
//! written in the same transaction as the fact.

use chrono::{DateTime, Utc};
use serde_json::Value;
use vedette_model::{Event, EventKind};

use crate::db::{on_pool, on_tx, Tx};
use crate::{Result, Store, StoreError};

const INSERT: &str = "INSERT INTO events (at, kind, data) VALUES ($1, $2, $3)";

fn encode(kind: EventKind, data: &Value) -> Result<String> {
    serde_json::to_string(data)
        .map_err(|e| StoreError::Invalid(format!("cannot encode a {kind} event: {e}")))
}

/// Appends an event inside the caller's transaction.
pub(crate) async fn emit(tx: &mut Tx, kind: EventKind, data: Value) -> Result<()> {
    let body = encode(kind, &data)?;
    on_tx!(tx, |c| sqlx::query(INSERT)
        .bind(crate::db::now())
        .bind(kind.as_str())
        .bind(&body)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())?);
    Ok(())
}

impl Store {
    /// Appends an event on its own (a fact with no row of its own: a feed
    /// updated).
    pub async fn record_event(&self, kind: EventKind, data: Value) -> Result<()> {
        let body = encode(kind, &data)?;
        on_pool!(&self.pool, |c| sqlx::query(INSERT)
            .bind(crate::db::now())
            .bind(kind.as_str())
            .bind(&body)
            .execute(c)
            .await
            .map(|r| r.rows_affected())?);
        Ok(())
    }

    /// Events after `after` (an event id; 0: from the oldest kept), oldest
    /// first, at most `limit`.
    pub async fn events_after(&self, after: i64, limit: i64) -> Result<Vec<Event>> {
        let rows: Vec<(i64, DateTime<Utc>, String, String)> = on_pool!(&self.pool, |c| {
            sqlx::query_as(
                "SELECT id, at, kind, data FROM events WHERE id > $1 ORDER BY id LIMIT $2",
            )
            .bind(after)
            .bind(limit)
            .fetch_all(c)
            .await?
        });
        rows.into_iter()
            .map(|(id, at, kind, data)| {
                Ok(Event {
                    id,
                    at,
                    kind: EventKind::parse(&kind)
                        .ok_or_else(|| StoreError::Corrupt(format!("event kind {kind}")))?,
                    data: serde_json::from_str(&data)
                        .map_err(|e| StoreError::Corrupt(format!("event {id}: {e}")))?,
                })
            })
            .collect()
    }

    /// The newest event's id (0 when there is none).
    pub async fn last_event_id(&self) -> Result<i64> {
        let n: Option<i64> = on_pool!(&self.pool, |c| {
            sqlx::query_scalar("SELECT MAX(id) FROM events")
                .fetch_one(c)
                .await?
        });
        Ok(n.unwrap_or(0))
    }

    /// Forgets events older than `before`; how many.
    pub async fn prune_events(&self, before: DateTime<Utc>) -> Result<u64> {
        Ok(on_pool!(&self.pool, |c| sqlx::query(
            "DELETE FROM events WHERE at < $1"
        )
        .bind(crate::db::micros(before))
        .execute(c)
        .await
        .map(|r| r.rows_affected())?))
    }
}

/// The fields every scan event starts with: the scan, its target, how it
/// was started.
pub(crate) async fn scan_subject(
    tx: &mut Tx,
    scan_id: i64,
) -> Result<serde_json::Map<String, Value>> {
    let (target_id, target, kind, trigger): (i64, String, String, Option<String>) = on_tx!(
        tx,
        |c| {
            sqlx::query_as(
            "SELECT s.target_id, t.name, t.kind, s.trigger FROM scans s JOIN targets t ON t.id = s.target_id
             WHERE s.id = $1",
        )
        .bind(scan_id)
        .fetch_one(&mut *c)
        .await?
        }
    );
    let mut m = serde_json::Map::new();
    m.insert("scan_id".into(), scan_id.into());
    m.insert("target_id".into(), target_id.into());
    m.insert("target".into(), target.into());
    m.insert("kind".into(), kind.into());
    m.insert(
        "trigger".into(),
        trigger.unwrap_or_else(|| "manual".into()).into(),
    );
    Ok(m)
}

/// Appends a scan event: its subject and `extra`.
pub(crate) async fn emit_scan(
    tx: &mut Tx,
    kind: EventKind,
    scan_id: i64,
    extra: Value,
) -> Result<()> {
    let subject = scan_subject(tx, scan_id).await?;
    emit_about(tx, kind, &subject, extra).await
}

/// Appends an event about a subject already read (a scan's several events
/// read it once): the subject and `extra`.
pub(crate) async fn emit_about(
    tx: &mut Tx,
    kind: EventKind,
    subject: &serde_json::Map<String, Value>,
    extra: Value,
) -> Result<()> {
    let mut m = subject.clone();
    if let Value::Object(extra) = extra {
        m.extend(extra);
    }
    emit(tx, kind, Value::Object(m)).await
}

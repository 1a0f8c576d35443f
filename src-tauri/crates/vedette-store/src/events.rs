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
    emit_all(tx, &[(kind, data)]).await
}

/// Appends events inside the caller's transaction, in their order, many to
/// a statement.
pub(crate) async fn emit_all(tx: &mut Tx, events: &[(EventKind, Value)]) -> Result<()> {
    let now = crate::db::now();
    for chunk in events.chunks(tx.rows_per_statement(3)) {
        let bodies = chunk
            .iter()
            .map(|(kind, data)| encode(*kind, data))
            .collect::<Result<Vec<_>>>()?;
        let sql = format!(
            "INSERT INTO events (at, kind, data) VALUES {}",
            crate::db::values(chunk.len(), 3)
        );
        on_tx!(tx, |c| {
            let mut q = sqlx::query(&sql);
            for ((kind, _), body) in chunk.iter().zip(&bodies) {
                q = q.bind(now).bind(kind.as_str()).bind(body);
            }
            q.execute(&mut *c).await.map(|r| r.rows_affected())?
        });
    }
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
/// was started; of each scan given, read in one query.
pub(crate) async fn scan_subjects(
    tx: &mut Tx,
    scan_ids: &[i64],
) -> Result<std::collections::HashMap<i64, serde_json::Map<String, Value>>> {
    let mut subjects = std::collections::HashMap::with_capacity(scan_ids.len());
    for chunk in scan_ids.chunks(tx.max_params()) {
        let sql = format!(
            "SELECT s.id, s.target_id, t.name, t.kind, s.trigger FROM scans s JOIN targets t ON t.id = s.target_id
             WHERE s.id IN ({})",
            crate::db::list(chunk.len())
        );
        let rows: Vec<(i64, i64, String, String, Option<String>)> = on_tx!(tx, |c| {
            let mut q = sqlx::query_as(&sql);
            for id in chunk {
                q = q.bind(*id);
            }
            q.fetch_all(&mut *c).await?
        });
        for (scan_id, target_id, target, kind, trigger) in rows {
            let mut m = serde_json::Map::new();
            m.insert("scan_id".into(), scan_id.into());
            m.insert("target_id".into(), target_id.into());
            m.insert("target".into(), target.into());
            m.insert("kind".into(), kind.into());
            m.insert(
                "trigger".into(),
                trigger.unwrap_or_else(|| "manual".into()).into(),
            );
            subjects.insert(scan_id, m);
        }
    }
    Ok(subjects)
}

/// Appends a scan event: its subject and `extra`.
pub(crate) async fn emit_scan(
    tx: &mut Tx,
    kind: EventKind,
    scan_id: i64,
    extra: Value,
) -> Result<()> {
    let subject = scan_subjects(tx, &[scan_id])
        .await?
        .remove(&scan_id)
        .ok_or_else(|| StoreError::Query(sqlx::Error::RowNotFound))?;
    emit(tx, kind, about(&subject, extra)).await
}

/// An event's data about a subject already read (a scan's several events
/// read it once): the subject and `extra`.
pub(crate) fn about(subject: &serde_json::Map<String, Value>, extra: Value) -> Value {
    let mut m = subject.clone();
    if let Value::Object(extra) = extra {
        m.extend(extra);
    }
    Value::Object(m)
}

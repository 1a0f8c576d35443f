//! Notification channels and rules, the cursor that reads the event log
//! into messages, the digests' pending events, and the outbox (which is
//! the delivery log too).

use chrono::{DateTime, Utc};
use vedette_model::{
    Channel, ChannelKind, ChannelSettings, Delivery, DeliveryState, Event, EventKind, Rule,
    Severity,
};

use crate::db::{on_pool, on_tx, Tx};
use crate::{parse_enum, Result, Store, StoreError};

#[derive(sqlx::FromRow)]
struct ChannelRow {
    id: i64,
    name: String,
    kind: String,
    settings: String,
    has_secret: bool,
    created_at: DateTime<Utc>,
    failing_since: Option<DateTime<Utc>>,
    last_error: Option<String>,
}

const CHANNEL_COLUMNS: &str =
    "id, name, kind, settings, has_secret, created_at, failing_since, last_error";

fn channel(r: ChannelRow) -> Result<Channel> {
    Ok(Channel {
        id: r.id,
        kind: parse_enum(&r.kind, ChannelKind::parse, "channel kind")?,
        settings: serde_json::from_str(&r.settings)
            .map_err(|e| StoreError::Corrupt(format!("the settings of channel {}: {e}", r.name)))?,
        name: r.name,
        has_secret: r.has_secret,
        created_at: r.created_at,
        failing_since: r.failing_since,
        last_error: r.last_error,
    })
}

#[derive(sqlx::FromRow)]
struct RuleRow {
    id: i64,
    channel: String,
    event: String,
    min_severity: Option<String>,
    min_risk: Option<f64>,
    kev_only: bool,
    target_glob: Option<String>,
    grp: Option<String>,
    digest: Option<String>,
    timezone: Option<String>,
}

fn rule(r: RuleRow) -> Result<Rule> {
    Ok(Rule {
        id: r.id,
        channel: r.channel,
        event: parse_enum(&r.event, EventKind::parse, "event")?,
        min_severity: r
            .min_severity
            .map(|s| parse_enum(&s, Severity::parse, "severity"))
            .transpose()?,
        min_risk: r.min_risk,
        kev_only: r.kev_only,
        target: r.target_glob,
        group: r.grp,
        digest: r.digest,
        timezone: r.timezone,
    })
}

const RULE_SELECT: &str = "SELECT r.id, c.name AS channel, r.event, r.min_severity, r.min_risk,
        r.kev_only, r.target_glob, r.grp, r.digest, r.timezone
   FROM notify_rules r JOIN notify_channels c ON c.id = r.channel_id";

/// A message to queue: for which channel, from which rule (none: a test).
pub struct Queued {
    pub channel_id: i64,
    pub rule_id: Option<i64>,
    pub digest: bool,
    /// The message, as JSON.
    pub message: String,
}

/// A message claimed for sending.
pub struct Due {
    pub id: i64,
    pub channel_id: i64,
    pub message: String,
    pub attempts: u32,
}

fn event_row((id, at, kind, data): (i64, DateTime<Utc>, String, String)) -> Result<Event> {
    Ok(Event {
        id,
        at,
        kind: parse_enum(&kind, EventKind::parse, "event kind")?,
        data: serde_json::from_str(&data)
            .map_err(|e| StoreError::Corrupt(format!("event {id}: {e}")))?,
    })
}

impl Store {
    pub async fn add_channel(
        &self,
        name: &str,
        kind: ChannelKind,
        settings: &ChannelSettings,
        has_secret: bool,
    ) -> Result<Channel> {
        let settings = serde_json::to_string(settings)
            .map_err(|e| StoreError::Invalid(format!("channel settings: {e}")))?;
        let r = on_pool!(&self.pool, |c| sqlx::query(
            "INSERT INTO notify_channels (name, kind, settings, has_secret, created_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(name)
        .bind(kind.as_str())
        .bind(settings)
        .bind(has_secret)
        .bind(crate::db::now())
        .execute(c)
        .await
        .map(|r| r.rows_affected()));
        match r {
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(StoreError::Invalid(format!(
                    "there is a channel named {name} already; `vedette notify channel remove {name}` first, or choose another name"
                )))
            }
            r => r?,
        };
        self.channel(name).await?.ok_or_else(|| {
            StoreError::Corrupt(format!("the channel {name} vanished as it was added"))
        })
    }

    pub async fn channels(&self) -> Result<Vec<Channel>> {
        let rows: Vec<ChannelRow> = on_pool!(&self.pool, |c| sqlx::query_as(&format!(
            "SELECT {CHANNEL_COLUMNS} FROM notify_channels ORDER BY name"
        ))
        .fetch_all(c)
        .await)?;
        rows.into_iter().map(channel).collect()
    }

    pub async fn channel(&self, name: &str) -> Result<Option<Channel>> {
        self.channel_where("name = $1", name.to_owned()).await
    }

    pub async fn channel_by_id(&self, id: i64) -> Result<Option<Channel>> {
        self.channel_where("id = $1", id).await
    }

    async fn channel_where<T>(&self, clause: &str, value: T) -> Result<Option<Channel>>
    where
        T: 'static
            + Send
            + for<'q> sqlx::Encode<'q, sqlx::Sqlite>
            + sqlx::Type<sqlx::Sqlite>
            + for<'q> sqlx::Encode<'q, sqlx::Postgres>
            + sqlx::Type<sqlx::Postgres>,
    {
        let sql = format!("SELECT {CHANNEL_COLUMNS} FROM notify_channels WHERE {clause}");
        let row: Option<ChannelRow> = on_pool!(&self.pool, |c| sqlx::query_as(&sql)
            .bind(value)
            .fetch_optional(c)
            .await)?;
        row.map(channel).transpose()
    }

    /// Removes a channel with its rules and its deliveries; false when
    /// there is none of that name.
    pub async fn remove_channel(&self, name: &str) -> Result<bool> {
        Ok(on_pool!(&self.pool, |c| sqlx::query(
            "DELETE FROM notify_channels WHERE name = $1"
        )
        .bind(name)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?
            > 0)
    }

    /// Records that a channel's delivery failed for good (`error`) or one
    /// went through (none): true when the channel has just started failing
    /// (the moment to tell the user, once).
    pub async fn set_channel_failing(&self, id: i64, error: Option<&str>) -> Result<bool> {
        let changed = match error {
            Some(e) => on_pool!(&self.pool, |c| sqlx::query(
                "UPDATE notify_channels SET failing_since = COALESCE(failing_since, $1),
                        last_error = $2 WHERE id = $3 AND failing_since IS NULL",
            )
            .bind(crate::db::now())
            .bind(e)
            .bind(id)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?,
            None => {
                on_pool!(&self.pool, |c| sqlx::query(
                    "UPDATE notify_channels SET failing_since = NULL, last_error = NULL
                     WHERE id = $1",
                )
                .bind(id)
                .execute(c)
                .await
                .map(|r| r.rows_affected()))?;
                0
            }
        };
        if changed == 0 {
            if let Some(e) = error {
                // Still failing: the newest reason.
                on_pool!(&self.pool, |c| sqlx::query(
                    "UPDATE notify_channels SET last_error = $1 WHERE id = $2"
                )
                .bind(e)
                .bind(id)
                .execute(c)
                .await
                .map(|r| r.rows_affected()))?;
            }
        }
        Ok(changed > 0)
    }

    pub async fn add_rule(&self, channel_id: i64, r: &Rule) -> Result<Rule> {
        let id: i64 = on_pool!(&self.pool, |c| sqlx::query_scalar(
            "INSERT INTO notify_rules (channel_id, event, min_severity, kev_only, grp, digest,
                                       timezone, last_digest_at, created_at, min_risk, target_glob)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10) RETURNING id",
        )
        .bind(channel_id)
        .bind(r.event.as_str())
        .bind(r.min_severity.map(Severity::as_str))
        .bind(r.kev_only)
        .bind(&r.group)
        .bind(&r.digest)
        .bind(&r.timezone)
        .bind(crate::db::now())
        .bind(r.min_risk)
        .bind(&r.target)
        .fetch_one(c)
        .await)?;
        self.rules()
            .await?
            .into_iter()
            .find(|r| r.id == id)
            .ok_or_else(|| StoreError::Corrupt(format!("rule {id} vanished as it was added")))
    }

    pub async fn rules(&self) -> Result<Vec<Rule>> {
        let rows: Vec<RuleRow> = on_pool!(&self.pool, |c| sqlx::query_as(&format!(
            "{RULE_SELECT} ORDER BY r.id"
        ))
        .fetch_all(c)
        .await)?;
        rows.into_iter().map(rule).collect()
    }

    /// The rules with their channel's id and, for digests, when their last
    /// digest was made.
    pub async fn rules_for_pump(&self) -> Result<Vec<(Rule, i64, Option<DateTime<Utc>>)>> {
        let rows: Vec<(i64, i64, Option<DateTime<Utc>>)> =
            on_pool!(&self.pool, |c| sqlx::query_as(
                "SELECT id, channel_id, last_digest_at FROM notify_rules"
            )
            .fetch_all(c)
            .await)?;
        let rules = self.rules().await?;
        Ok(rules
            .into_iter()
            .filter_map(|r| {
                let (_, channel, last) = rows.iter().find(|(id, _, _)| *id == r.id)?;
                Some((r, *channel, *last))
            })
            .collect())
    }

    pub async fn remove_rule(&self, id: i64) -> Result<bool> {
        Ok(on_pool!(&self.pool, |c| sqlx::query(
            "DELETE FROM notify_rules WHERE id = $1"
        )
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?
            > 0)
    }

    /// Where reading the event log into messages stands.
    pub async fn notify_cursor(&self) -> Result<i64> {
        Ok(on_pool!(&self.pool, |c| sqlx::query_scalar(
            "SELECT event_id FROM notify_cursor WHERE id = 1"
        )
        .fetch_one(c)
        .await)?)
    }

    /// Moves the cursor from `from` to `to` and queues what the events in
    /// between made, in one transaction; false (nothing written) when
    /// another process moved the cursor first.
    pub async fn commit_pump(
        &self,
        from: i64,
        to: i64,
        queued: &[Queued],
        digest_items: &[(i64, i64)],
    ) -> Result<bool> {
        let mut tx = self.write().await?;
        let moved = on_tx!(&mut tx, |c| sqlx::query(
            "UPDATE notify_cursor SET event_id = $1 WHERE id = 1 AND event_id = $2"
        )
        .bind(to)
        .bind(from)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?
            == 1;
        if !moved {
            return Ok(false);
        }
        for q in queued {
            insert_outbox(&mut tx, q).await?;
        }
        for (rule, event) in digest_items {
            on_tx!(&mut tx, |c| {
                sqlx::query(
                "INSERT INTO notify_digest_items (rule_id, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind(rule)
            .bind(event)
            .execute(&mut *c)
            .await.map(|r| r.rows_affected())
            })?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// The events a digest rule has gathered since its last digest.
    pub async fn digest_events(&self, rule_id: i64) -> Result<Vec<Event>> {
        let rows: Vec<(i64, DateTime<Utc>, String, String)> =
            on_pool!(&self.pool, |c| sqlx::query_as(
                "SELECT e.id, e.at, e.kind, e.data FROM notify_digest_items d
             JOIN events e ON e.id = d.event_id WHERE d.rule_id = $1 ORDER BY e.id",
            )
            .bind(rule_id)
            .fetch_all(c)
            .await)?;
        rows.into_iter().map(event_row).collect()
    }

    /// Queues a digest (none: nothing to sum up) and starts the next one,
    /// in one transaction.
    pub async fn commit_digest(
        &self,
        rule_id: i64,
        at: DateTime<Utc>,
        queued: Option<&Queued>,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        if let Some(q) = queued {
            insert_outbox(&mut tx, q).await?;
        }
        on_tx!(&mut tx, |c| sqlx::query(
            "DELETE FROM notify_digest_items WHERE rule_id = $1"
        )
        .bind(rule_id)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
        on_tx!(&mut tx, |c| sqlx::query(
            "UPDATE notify_rules SET last_digest_at = $1 WHERE id = $2"
        )
        .bind(crate::db::micros(at))
        .bind(rule_id)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
        tx.commit().await?;
        Ok(())
    }

    /// Queues one message (a test message).
    pub async fn enqueue(&self, q: &Queued) -> Result<i64> {
        let mut tx = self.write().await?;
        let id = insert_outbox(&mut tx, q).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Claims the messages due now for `lease` (another process leaves them
    /// alone until then).
    pub async fn claim_due(&self, lease: chrono::Duration, limit: i64) -> Result<Vec<Due>> {
        let now = crate::db::now();
        let rows: Vec<(i64, i64, String, i64)> = on_pool!(&self.pool, |c| sqlx::query_as(
            "UPDATE notify_outbox SET lease_until = $1
             WHERE id IN (SELECT id FROM notify_outbox
                          WHERE state = 'queued' AND next_attempt_at <= $2
                            AND (lease_until IS NULL OR lease_until < $2)
                          ORDER BY id LIMIT $3)
             RETURNING id, channel_id, message, attempts",
        )
        .bind(now + lease)
        .bind(now)
        .bind(limit)
        .fetch_all(c)
        .await)?;
        let mut due: Vec<Due> = rows
            .into_iter()
            .map(|(id, channel_id, message, attempts)| Due {
                id,
                channel_id,
                message,
                attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
            })
            .collect();
        due.sort_by_key(|d| d.id);
        Ok(due)
    }

    /// Records an attempt: sent; or failed, to be tried again at `retry_at`
    /// (none: never again, the delivery failed).
    pub async fn record_attempt(
        &self,
        id: i64,
        error: Option<&str>,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<()> {
        let now = crate::db::now();
        on_pool!(&self.pool, |c| match (error, retry_at) {
            (None, _) => sqlx::query(
                "UPDATE notify_outbox SET state = 'sent', attempts = attempts + 1, sent_at = $1,
                        lease_until = NULL, last_error = NULL WHERE id = $2",
            )
            .bind(now)
            .bind(id),
            (Some(e), Some(at)) => sqlx::query(
                "UPDATE notify_outbox SET attempts = attempts + 1, last_error = $1,
                        next_attempt_at = $2, lease_until = NULL WHERE id = $3",
            )
            .bind(e)
            .bind(crate::db::micros(at))
            .bind(id),
            (Some(e), None) => sqlx::query(
                "UPDATE notify_outbox SET state = 'failed', attempts = attempts + 1,
                        last_error = $1, lease_until = NULL WHERE id = $2",
            )
            .bind(e)
            .bind(id),
        }
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The delivery log, newest first.
    pub async fn deliveries(&self, limit: i64) -> Result<Vec<Delivery>> {
        type Row = (
            i64,
            DateTime<Utc>,
            String,
            Option<i64>,
            String,
            bool,
            String,
            i64,
            Option<String>,
            Option<DateTime<Utc>>,
        );
        // The message's title: SQLite reads the JSON text as it is,
        // PostgreSQL once it is cast.
        let title = if self.pool.is_postgres() {
            "o.message::jsonb ->> 'title'"
        } else {
            "o.message ->> '$.title'"
        };
        let sql = format!(
            "SELECT o.id, o.created_at, c.name, o.rule_id, {title},
                    o.digest, o.state, o.attempts, o.last_error, o.sent_at
               FROM notify_outbox o JOIN notify_channels c ON c.id = o.channel_id
              ORDER BY o.id DESC LIMIT $1"
        );
        let rows: Vec<Row> = on_pool!(&self.pool, |c| sqlx::query_as(&sql)
            .bind(limit)
            .fetch_all(c)
            .await)?;
        rows.into_iter()
            .map(
                |(
                    id,
                    created_at,
                    channel,
                    rule_id,
                    title,
                    digest,
                    state,
                    attempts,
                    last_error,
                    sent_at,
                )| {
                    Ok(Delivery {
                        id,
                        created_at,
                        channel,
                        rule_id,
                        title,
                        digest,
                        state: parse_enum(&state, DeliveryState::parse, "delivery state")?,
                        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                        last_error,
                        sent_at,
                    })
                },
            )
            .collect()
    }

    /// How many messages wait to be sent.
    pub async fn queued_messages(&self) -> Result<i64> {
        Ok(on_pool!(&self.pool, |c| sqlx::query_scalar(
            "SELECT COUNT(*) FROM notify_outbox WHERE state = 'queued'"
        )
        .fetch_one(c)
        .await)?)
    }

    /// When the next queued message is due.
    pub async fn next_attempt_at(&self) -> Result<Option<DateTime<Utc>>> {
        Ok(on_pool!(&self.pool, |c| sqlx::query_scalar(
            "SELECT MIN(next_attempt_at) FROM notify_outbox WHERE state = 'queued'",
        )
        .fetch_one(c)
        .await)?)
    }

    /// Whether any schedule's run is under way (in any process): messages
    /// wait for its end, so that a run makes one message per channel.
    pub async fn runs_in_progress(&self) -> Result<bool> {
        Ok(on_pool!(&self.pool, |c| sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM schedules WHERE running_since IS NOT NULL)",
        )
        .fetch_one(c)
        .await)?)
    }

    /// When the oldest event after `after` was written (none: there is no
    /// newer event).
    pub async fn oldest_event_after(&self, after: i64) -> Result<Option<DateTime<Utc>>> {
        Ok(on_pool!(&self.pool, |c| sqlx::query_scalar(
            "SELECT MIN(at) FROM events WHERE id > $1"
        )
        .bind(after)
        .fetch_one(c)
        .await)?)
    }
}

async fn insert_outbox(tx: &mut Tx, q: &Queued) -> Result<i64> {
    let now = crate::db::now();
    Ok(on_tx!(tx, |c| {
        sqlx::query_scalar(
        "INSERT INTO notify_outbox (created_at, channel_id, rule_id, digest, message, next_attempt_at)
         VALUES ($1, $2, $3, $4, $5, $1) RETURNING id",
    )
    .bind(now)
    .bind(q.channel_id)
    .bind(q.rule_id)
    .bind(q.digest)
    .bind(&q.message)
    .fetch_one(&mut *c)
    .await
    })?)
}

impl Store {
    /// A setting of the data dir (none: never set).
    pub async fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(on_pool!(&self.pool, |c| sqlx::query_scalar(
            "SELECT value FROM app_settings WHERE key = $1"
        )
        .bind(key)
        .fetch_optional(c)
        .await)?)
    }

    pub async fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        on_pool!(&self.pool, |c| sqlx::query(
            "INSERT INTO app_settings (key, value) VALUES ($1, $2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }
}

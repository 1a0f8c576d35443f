//! Schedules as stored. Validating a cron expression or a time zone is the
//! scheduler's; this module keeps what it is given.

use chrono::{DateTime, Utc};
use vedette_model::{Schedule, ScheduleInput};

use crate::db::{on_pool, on_tx};
use crate::{Result, Store, StoreError};

const COLUMNS: &str = "id, name, cron, timezone, selector, options, enabled, system, catch_up,
                       jitter_seconds, last_run_at, created_at";

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    name: String,
    cron: String,
    timezone: String,
    selector: String,
    options: String,
    enabled: bool,
    system: bool,
    catch_up: bool,
    jitter_seconds: i64,
    last_run_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

impl Row {
    fn into_schedule(self) -> Result<Schedule> {
        let corrupt = |what: &str, e: serde_json::Error| {
            StoreError::Corrupt(format!("schedule {}: {what}: {e}", self.id))
        };
        Ok(Schedule {
            selector: serde_json::from_str(&self.selector).map_err(|e| corrupt("selector", e))?,
            options: serde_json::from_str(&self.options).map_err(|e| corrupt("options", e))?,
            id: self.id,
            name: self.name,
            cron: self.cron,
            timezone: self.timezone,
            enabled: self.enabled,
            system: self.system,
            catch_up: self.catch_up,
            jitter_seconds: self.jitter_seconds,
            last_run_at: self.last_run_at,
            created_at: self.created_at,
        })
    }
}

fn encode(input: &ScheduleInput) -> Result<(String, String)> {
    let s = serde_json::to_string(&input.selector)
        .map_err(|e| StoreError::Invalid(format!("selector: {e}")))?;
    let o = serde_json::to_string(&input.options)
        .map_err(|e| StoreError::Invalid(format!("options: {e}")))?;
    Ok((s, o))
}

impl Store {
    pub async fn list_schedules(&self) -> Result<Vec<Schedule>> {
        let sql = format!("SELECT {COLUMNS} FROM schedules ORDER BY system DESC, name");
        let rows: Vec<Row> = on_pool!(&self.pool, |c| sqlx::query_as(&sql).fetch_all(c).await?);
        rows.into_iter().map(Row::into_schedule).collect()
    }

    pub async fn schedule(&self, id: i64) -> Result<Option<Schedule>> {
        let sql = format!("SELECT {COLUMNS} FROM schedules WHERE id = $1");
        let row: Option<Row> = on_pool!(&self.pool, |c| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(c)
            .await?);
        row.map(Row::into_schedule).transpose()
    }

    pub async fn add_schedule(&self, input: &ScheduleInput) -> Result<Schedule> {
        let (selector, options) = encode(input)?;
        let now = crate::db::now();
        let name = input.name.trim();
        if name.is_empty() {
            return Err(StoreError::Invalid("a schedule needs a name".into()));
        }
        let id: Option<i64> = on_pool!(&self.pool, |c| {
            sqlx::query_scalar(
            "INSERT INTO schedules (name, cron, timezone, selector, options, enabled, system, catch_up, jitter_seconds, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, FALSE, $7, $8, $9)
             ON CONFLICT (name) DO NOTHING RETURNING id"
        )
        .bind(name)
        .bind(&input.cron)
        .bind(&input.timezone)
        .bind(&selector)
        .bind(&options)
        .bind(input.enabled)
        .bind(input.catch_up)
        .bind(input.jitter_seconds)
        .bind(now)
        .fetch_optional(c)
        .await?
        });
        let id = id.ok_or_else(|| {
            StoreError::Invalid(format!("a schedule named '{name}' exists already"))
        })?;
        self.schedule(id)
            .await?
            .ok_or_else(|| StoreError::Invalid(format!("schedule {id} vanished")))
    }

    pub async fn update_schedule(&self, id: i64, input: &ScheduleInput) -> Result<Schedule> {
        let (selector, options) = encode(input)?;
        let name = input.name.trim();
        let done = on_pool!(&self.pool, |c| {
            sqlx::query(
            "UPDATE schedules SET name = $1, cron = $2, timezone = $3, selector = $4, options = $5,
                    enabled = $6, catch_up = $7, jitter_seconds = $8 WHERE id = $9"
        )
        .bind(name)
        .bind(&input.cron)
        .bind(&input.timezone)
        .bind(&selector)
        .bind(&options)
        .bind(input.enabled)
        .bind(input.catch_up)
        .bind(input.jitter_seconds)
        .bind(id)
        .execute(c)
        .await.map(|r| r.rows_affected())
        })
        .map_err(|e| match e {
            sqlx::Error::Database(d) if d.is_unique_violation() => {
                StoreError::Invalid(format!("a schedule named '{name}' exists already"))
            }
            other => other.into(),
        })?;
        if done == 0 {
            return Err(StoreError::Invalid(format!("there is no schedule {id}")));
        }
        self.schedule(id)
            .await?
            .ok_or_else(|| StoreError::Invalid(format!("there is no schedule {id}")))
    }

    pub async fn set_schedule_enabled(&self, id: i64, enabled: bool) -> Result<()> {
        let done = on_pool!(&self.pool, |c| sqlx::query(
            "UPDATE schedules SET enabled = $1 WHERE id = $2"
        )
        .bind(enabled)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected())?);
        if done == 0 {
            return Err(StoreError::Invalid(format!("there is no schedule {id}")));
        }
        Ok(())
    }

    /// Removes a schedule; the system schedule can only be disabled.
    pub async fn remove_schedule(&self, id: i64) -> Result<()> {
        match self.schedule(id).await? {
            None => Err(StoreError::Invalid(format!("there is no schedule {id}"))),
            Some(s) if s.system => Err(StoreError::Invalid(format!(
                "'{}' is Vedette's own schedule: disable it instead (`vedette schedule disable {id}`)",
                s.name
            ))),
            Some(_) => {
                on_pool!(&self.pool, |c| sqlx::query("DELETE FROM schedules WHERE id = $1")
                    .bind(id)
                    .execute(c)
                    .await.map(|r| r.rows_affected())?);
                Ok(())
            }
        }
    }

    /// Records when a schedule last fired (its catch-up starts from there).
    pub async fn set_schedule_ran(&self, id: i64, at: DateTime<Utc>) -> Result<()> {
        on_pool!(&self.pool, |c| sqlx::query(
            "UPDATE schedules SET last_run_at = $1 WHERE id = $2"
        )
        .bind(crate::db::micros(at))
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected())?);
        Ok(())
    }

    /// Claims a schedule for a run; false when a run already holds it.
    pub async fn claim_schedule(&self, id: i64) -> Result<bool> {
        let now = crate::db::now();
        let mut tx = self.write().await?;
        // A claim whose process died on this machine (killed mid-run) is
        // taken over.
        let holder: Option<Option<String>> = on_tx!(&mut tx, |c| sqlx::query_scalar(
            "SELECT claimed_by FROM schedules WHERE id = $1 AND running_since IS NOT NULL",
        )
        .bind(id)
        .fetch_optional(&mut *c)
        .await?);
        if let Some(Some(h)) = holder.filter(|h| h.as_deref().is_some_and(crate::process::is_gone))
        {
            tracing::warn!("the run of schedule {id} claimed by process {h} was cut off (the process is gone); it is run again");
            on_tx!(&mut tx, |c| sqlx::query(
                "UPDATE schedules SET running_since = NULL, claimed_by = NULL WHERE id = $1",
            )
            .bind(id)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())?);
        }
        let done = on_tx!(&mut tx, |c| {
            sqlx::query(
            "UPDATE schedules SET running_since = $1, claimed_by = $3 WHERE id = $2 AND running_since IS NULL",
        )
        .bind(now)
        .bind(id)
        .bind(crate::process::runner())
        .execute(&mut *c)
        .await.map(|r| r.rows_affected())?
        }) == 1;
        if done {
            let name: String = on_tx!(&mut tx, |c| sqlx::query_scalar(
                "SELECT name FROM schedules WHERE id = $1"
            )
            .bind(id)
            .fetch_one(&mut *c)
            .await?);
            crate::events::emit(
                &mut tx,
                vedette_model::EventKind::ScheduleFired,
                serde_json::json!({"schedule_id": id, "schedule": name}),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(done)
    }

    pub async fn release_schedule(&self, id: i64) -> Result<()> {
        on_pool!(&self.pool, |c| sqlx::query(
            "UPDATE schedules SET running_since = NULL, claimed_by = NULL WHERE id = $1"
        )
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected())?);
        Ok(())
    }

    /// Drops claims left by a process that died mid-run (called by the one
    /// scheduler of a data dir when it starts).
    pub async fn release_stale_schedule_claims(&self) -> Result<u64> {
        Ok(on_pool!(&self.pool, |c| sqlx::query(
            "UPDATE schedules SET running_since = NULL WHERE running_since IS NOT NULL"
        )
        .execute(c)
        .await
        .map(|r| r.rows_affected())?))
    }
}

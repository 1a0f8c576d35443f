//! The scan queue: a scheduler's run queues one job per target; workers on
//! any machine sharing the database claim them. A claim is a lease that its
//! worker renews while it scans; a job whose lease ran out (its worker died)
//! is claimed again, at most a number of times, after which it fails and its
//! target is quarantined. Claims are made one at a time under the write
//! lock, so that the jobs running against one registry, counted in the
//! database, never pass the per-registry limit whichever worker asks.

use chrono::{DateTime, Duration, Utc};
use vedette_model::EventKind;

use crate::db::{on_pool, on_tx, Pool};
use crate::{Result, Store};

/// A job to queue.
pub struct NewJob {
    pub target_id: i64,
    pub schedule_id: Option<i64>,
    /// The registry it reads (per-registry limits), if any.
    pub registry: Option<String>,
    /// What the scan may know beforehand, as JSON (the scheduler's).
    pub hints: String,
}

/// A claimed or finished job.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Job {
    pub id: i64,
    pub run: String,
    pub target_id: i64,
    pub schedule_id: Option<i64>,
    pub registry: Option<String>,
    pub hints: String,
    pub state: String,
    pub attempts: i64,
    pub worker: Option<String>,
    /// The worker that held it before (its lease ran out).
    pub previous: Option<String>,
    pub enqueued_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub scan_id: Option<i64>,
    pub error: Option<String>,
}

const COLUMNS: &str =
    "id, run, target_id, schedule_id, registry, hints, state, attempts, worker, previous,
                       enqueued_at, started_at, finished_at, scan_id, error";

/// The queue's state, for metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueDepth {
    pub queued: i64,
    pub running: i64,
    pub done: i64,
    pub failed: i64,
}

impl Store {
    /// Queues `jobs` for the run `run`.
    pub async fn enqueue_jobs(&self, run: &str, jobs: &[NewJob]) -> Result<()> {
        let now = crate::db::now();
        let mut tx = self.write().await?;
        for chunk in jobs.chunks(tx.rows_per_statement(6)) {
            let sql = format!(
                "INSERT INTO jobs (run, target_id, schedule_id, registry, hints, enqueued_at) VALUES {}",
                crate::db::values(chunk.len(), 6)
            );
            on_tx!(&mut tx, |c| {
                let mut q = sqlx::query(&sql);
                for j in chunk {
                    q = q
                        .bind(run)
                        .bind(j.target_id)
                        .bind(j.schedule_id)
                        .bind(&j.registry)
                        .bind(&j.hints)
                        .bind(now);
                }
                q.execute(&mut *c).await?.rows_affected()
            });
        }
        tx.commit().await?;
        Ok(())
    }

    /// Claims the oldest job this worker may run: queued, or running with
    /// its lease run out (its worker died) and fewer than `max_attempts`
    /// tries, whose registry has fewer than `per_registry` jobs running.
    /// Jobs that ran out of tries fail first, their targets quarantined.
    /// With `run`, only that run's jobs are claimed (a scheduler working
    /// its own run).
    pub async fn claim_job(
        &self,
        worker: &str,
        lease: Duration,
        per_registry: i64,
        max_attempts: i64,
        run: Option<&str>,
    ) -> Result<Option<Job>> {
        let now = crate::db::now();
        let mut tx = self.write().await?;
        // Jobs whose workers died too often.
        let spent: Vec<(i64, i64)> = on_tx!(&mut tx, |c| {
            sqlx::query_as(
            "UPDATE jobs SET state = 'failed', finished_at = $1,
                    error = 'its worker stopped during each of its tries (killed, or the machine went away)'
             WHERE state = 'running' AND lease_until < $1 AND attempts >= $2
             RETURNING id, target_id"
        )
        .bind(now)
        .bind(max_attempts)
        .fetch_all(&mut *c)
        .await?
        });
        for (_, target_id) in &spent {
            let reason = format!("its scan stopped the worker that ran it {max_attempts} times; it is not scanned automatically until you retry it");
            let n = on_tx!(&mut tx, |c| sqlx::query(
                "UPDATE targets SET quarantined_at = $1, quarantine_reason = $2
                 WHERE id = $3 AND quarantined_at IS NULL"
            )
            .bind(now)
            .bind(&reason)
            .bind(target_id)
            .execute(&mut *c)
            .await?
            .rows_affected());
            if n > 0 {
                crate::events::emit(
                    &mut tx,
                    EventKind::TargetQuarantined,
                    serde_json::json!({"target_id": target_id, "reason": reason}),
                )
                .await?;
            }
        }
        let skip_locked = if self.pool.is_postgres() {
            "FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        let sql = format!(
            "UPDATE jobs SET state = 'running', previous = worker, worker = $1, lease_until = $2,
                    attempts = attempts + 1, started_at = $3
             WHERE id = (
               SELECT j.id FROM jobs j
               WHERE (j.state = 'queued' OR (j.state = 'running' AND j.lease_until < $3))
                 AND j.attempts < $4
                 AND (CAST($6 AS TEXT) IS NULL OR j.run = $6)
                 AND (j.registry IS NULL OR (SELECT COUNT(*) FROM jobs r
                       WHERE r.registry = j.registry AND r.state = 'running' AND r.lease_until >= $3) < $5)
               ORDER BY j.id LIMIT 1 {skip_locked})
             RETURNING {COLUMNS}"
        );
        let job: Option<Job> = on_tx!(&mut tx, |c| sqlx::query_as(&sql)
            .bind(worker)
            .bind(now + lease)
            .bind(now)
            .bind(max_attempts)
            .bind(per_registry)
            .bind(run)
            .fetch_optional(&mut *c)
            .await?);
        tx.commit().await?;
        Ok(job)
    }

    /// Reserves the next request to `registry`: the newest slot reserved
    /// plus `interval`, or now if that is later, whichever process reserved
    /// it. How long to wait for the slot. On PostgreSQL the database's clock
    /// decides, so machines whose clocks differ still keep one pace.
    pub async fn reserve_request(
        &self,
        registry: &str,
        interval: std::time::Duration,
    ) -> Result<std::time::Duration> {
        let step = i64::try_from(interval.as_micros()).unwrap_or(i64::MAX);
        let wait: i64 = match &self.pool {
            Pool::Postgres(p) => {
                sqlx::query_scalar(
                    "INSERT INTO registry_pace (registry, next_at)
                     VALUES ($1, (extract(epoch FROM statement_timestamp()) * 1000000)::bigint)
                     ON CONFLICT (registry) DO UPDATE
                       SET next_at = GREATEST(registry_pace.next_at + $2, EXCLUDED.next_at)
                     RETURNING next_at - (extract(epoch FROM statement_timestamp()) * 1000000)::bigint",
                )
                .bind(registry)
                .bind(step)
                .fetch_one(p)
                .await?
            }
            Pool::Sqlite(p) => {
                let now = crate::db::now().timestamp_micros();
                sqlx::query_scalar(
                    "INSERT INTO registry_pace (registry, next_at) VALUES ($1, $3)
                     ON CONFLICT (registry) DO UPDATE
                       SET next_at = MAX(registry_pace.next_at + $2, excluded.next_at)
                     RETURNING next_at - $3",
                )
                .bind(registry)
                .bind(step)
                .bind(now)
                .fetch_one(p)
                .await?
            }
        };
        Ok(std::time::Duration::from_micros(
            u64::try_from(wait).unwrap_or(0),
        ))
    }

    /// Renews a job's lease; false when this worker no longer holds it.
    pub async fn renew_job(&self, id: i64, worker: &str, lease: Duration) -> Result<bool> {
        let until = crate::db::now() + lease;
        let n = on_pool!(&self.pool, |c| {
            sqlx::query(
            "UPDATE jobs SET lease_until = $1 WHERE id = $2 AND worker = $3 AND state = 'running'"
        )
        .bind(until)
        .bind(id)
        .bind(worker)
        .execute(c)
        .await?
        .rows_affected()
        });
        Ok(n == 1)
    }

    /// Records how a job ended (its scan, or why there is none); false when
    /// this worker no longer held it (its lease ran out and another took it).
    pub async fn finish_job(
        &self,
        id: i64,
        worker: &str,
        scan_id: Option<i64>,
        error: Option<&str>,
    ) -> Result<bool> {
        let state = if error.is_some() { "failed" } else { "done" };
        let n = on_pool!(&self.pool, |c| {
            sqlx::query(
            "UPDATE jobs SET state = $1, finished_at = $2, scan_id = $3, error = $4, lease_until = NULL
             WHERE id = $5 AND worker = $6 AND state = 'running'"
        )
        .bind(state)
        .bind(crate::db::now())
        .bind(scan_id)
        .bind(error)
        .bind(id)
        .bind(worker)
        .execute(c)
        .await?
        .rows_affected()
        });
        Ok(n == 1)
    }

    /// Marks as interrupted the scans of `target_id` that `worker` (a dead
    /// worker, `<host> <pid>`) left running.
    pub async fn interrupt_scans_of(&self, target_id: i64, worker: &str) -> Result<u64> {
        Ok(on_pool!(&self.pool, |c| sqlx::query(
            "UPDATE scans SET state = 'interrupted', finished_at = $1,
                    error = 'the worker running this scan stopped; another scanned the target again'
             WHERE target_id = $2 AND state = 'running' AND runner = $3"
        )
        .bind(crate::db::now())
        .bind(target_id)
        .bind(worker)
        .execute(c)
        .await?
        .rows_affected()))
    }

    /// The jobs of a run.
    pub async fn run_jobs(&self, run: &str) -> Result<Vec<Job>> {
        let sql = format!("SELECT {COLUMNS} FROM jobs WHERE run = $1 ORDER BY id");
        Ok(on_pool!(&self.pool, |c| sqlx::query_as(&sql)
            .bind(run)
            .fetch_all(c)
            .await?))
    }

    /// How many jobs are in each state.
    pub async fn queue_depth(&self) -> Result<QueueDepth> {
        let rows: Vec<(String, i64)> = on_pool!(&self.pool, |c| sqlx::query_as(
            "SELECT state, COUNT(*) FROM jobs GROUP BY state"
        )
        .fetch_all(c)
        .await?);
        let mut d = QueueDepth::default();
        for (state, n) in rows {
            match state.as_str() {
                "queued" => d.queued = n,
                "running" => d.running = n,
                "done" => d.done = n,
                _ => d.failed = n,
            }
        }
        Ok(d)
    }

    /// Whether this store can share its queue with other machines.
    pub fn shares_queue(&self) -> bool {
        matches!(self.pool, Pool::Postgres(_))
    }
}

/// What the metrics say of the queue and the history, for the whole
/// database (every machine's work).
#[derive(Debug, Clone, Default)]
pub struct Activity {
    pub queue: QueueDepth,
    /// Scans by state, all time.
    pub scans_by_state: Vec<(String, i64)>,
    /// Scans that ended in the last `window`.
    pub scans_ended_recently: i64,
    /// Of the jobs claimed in the last `window`: seconds from queued to
    /// claimed, and from claimed to ended, each job's.
    pub claim_waits: Vec<f64>,
    pub job_durations: Vec<f64>,
}

impl Store {
    /// The queue and the scans over the last `window`.
    pub async fn activity(&self, window: Duration) -> Result<Activity> {
        let since = crate::db::now() - window;
        let queue = self.queue_depth().await?;
        let scans_by_state: Vec<(String, i64)> = on_pool!(&self.pool, |c| sqlx::query_as(
            "SELECT state, COUNT(*) FROM scans GROUP BY state ORDER BY state"
        )
        .fetch_all(c)
        .await?);
        let scans_ended_recently: i64 = on_pool!(&self.pool, |c| sqlx::query_scalar(
            "SELECT COUNT(*) FROM scans WHERE finished_at >= $1"
        )
        .bind(since)
        .fetch_one(c)
        .await?);
        type Times = (DateTime<Utc>, DateTime<Utc>, Option<DateTime<Utc>>);
        let jobs: Vec<Times> = on_pool!(&self.pool, |c| sqlx::query_as(
            "SELECT enqueued_at, started_at, finished_at FROM jobs
                 WHERE started_at >= $1 ORDER BY id DESC LIMIT 10000"
        )
        .bind(since)
        .fetch_all(c)
        .await?);
        let secs = |d: Duration| d.num_microseconds().unwrap_or(0) as f64 / 1e6;
        Ok(Activity {
            queue,
            scans_by_state,
            scans_ended_recently,
            claim_waits: jobs.iter().map(|(q, s, _)| secs(*s - *q)).collect(),
            job_durations: jobs
                .iter()
                .filter_map(|(_, s, f)| f.map(|f| secs(f - *s)))
                .collect(),
        })
    }
}

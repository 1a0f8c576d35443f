use chrono::{DateTime, Utc};
use vedette_model::{EventKind, ScanState, ScanSummary, SeverityCounts, TargetInfo, Trigger};

use crate::db::{on_pool, on_tx};
use crate::{parse_enum, Result, Store, StoreError};

#[derive(sqlx::FromRow)]
struct SummaryRow {
    id: i64,
    target_id: i64,
    target_name: String,
    state: String,
    started_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
    error: Option<String>,
    packages: Option<i64>,
    trigger: String,
    verdict_pass: Option<bool>,
    matched: bool,
    critical: i64,
    high: i64,
    medium: i64,
    low: i64,
    unknown: i64,
    new: i64,
}

impl Store {
    /// The newest scans first.
    pub async fn list_scans(&self, limit: i64) -> Result<Vec<ScanSummary>> {
        self.scans_where(limit, None, None).await
    }

    /// The newest scans of one target first.
    pub async fn target_scans(&self, target_id: i64, limit: i64) -> Result<Vec<ScanSummary>> {
        self.scans_where(limit, None, Some(target_id)).await
    }

    /// One scan as the history lists it.
    pub async fn scan_summary(&self, scan_id: i64) -> Result<Option<ScanSummary>> {
        Ok(self.scans_where(1, Some(scan_id), None).await?.pop())
    }

    async fn scans_where(
        &self,
        limit: i64,
        scan_id: Option<i64>,
        target_id: Option<i64>,
    ) -> Result<Vec<ScanSummary>> {
        let rows: Vec<SummaryRow> = on_pool!(&self.pool, |c| {
            sqlx::query_as(
            "SELECT s.id, s.target_id, t.name AS target_name, s.state, s.started_at, s.finished_at,
                    s.error, i.package_count AS packages, s.trigger, s.verdict_pass,
                    s.report IS NOT NULL AS matched,
                    (SELECT COUNT(*) FROM finding_set_members m WHERE m.set_hash = s.finding_set AND m.severity = 'critical') AS critical,
                    (SELECT COUNT(*) FROM finding_set_members m WHERE m.set_hash = s.finding_set AND m.severity = 'high') AS high,
                    (SELECT COUNT(*) FROM finding_set_members m WHERE m.set_hash = s.finding_set AND m.severity = 'medium') AS medium,
                    (SELECT COUNT(*) FROM finding_set_members m WHERE m.set_hash = s.finding_set AND m.severity = 'low') AS low,
                    (SELECT COUNT(*) FROM finding_set_members m WHERE m.set_hash = s.finding_set AND m.severity = 'unknown') AS unknown,
                    (SELECT COUNT(*) FROM scan_new_findings n WHERE n.scan_id = s.id) AS new
             FROM scans s JOIN targets t ON t.id = s.target_id
             LEFT JOIN inventories i ON i.id = s.inventory_id
             WHERE ($2 IS NULL OR s.id = $2) AND ($3 IS NULL OR s.target_id = $3)
             ORDER BY s.started_at DESC, s.id DESC
             LIMIT $1"
        )
        .bind(limit)
        .bind(scan_id)
        .bind(target_id)
        .fetch_all(c)
        .await?
        });
        rows.into_iter()
            .map(|r| {
                Ok(ScanSummary {
                    id: r.id,
                    target_id: r.target_id,
                    target_name: r.target_name,
                    state: parse_enum(&r.state, ScanState::parse, "scan state")?,
                    started_at: r.started_at,
                    finished_at: r.finished_at,
                    error: r.error,
                    packages: r.packages,
                    trigger: parse_enum(&r.trigger, Trigger::parse, "scan trigger")?,
                    counts: r.matched.then_some(SeverityCounts {
                        critical: r.critical,
                        high: r.high,
                        medium: r.medium,
                        low: r.low,
                        unknown: r.unknown,
                    }),
                    verdict_pass: r.verdict_pass,
                    new_findings: r.matched.then_some(r.new),
                })
            })
            .collect()
    }

    pub async fn scan_exists(&self, id: i64) -> Result<bool> {
        let n: i64 = on_pool!(&self.pool, |c| sqlx::query_scalar(
            "SELECT COUNT(*) FROM scans WHERE id = $1"
        )
        .bind(id)
        .fetch_one(c)
        .await?);
        Ok(n > 0)
    }

    pub async fn count_scans(&self) -> Result<i64> {
        Ok(on_pool!(&self.pool, |c| sqlx::query_scalar(
            "SELECT COUNT(*) FROM scans"
        )
        .fetch_one(c)
        .await?))
    }

    /// Marks scans left `running` by a process that stopped mid-scan as
    /// `interrupted`, and quarantines each target whose newest
    /// `quarantine_after` scans were all interrupted (a target that keeps
    /// killing the process must not keep it down). Call once at start-up,
    /// before any scan runs. Returns how many scans were marked and the
    /// targets quarantined now.
    pub async fn mark_interrupted_scans(
        &self,
        quarantine_after: u32,
    ) -> Result<(u64, Vec<TargetInfo>)> {
        let now = crate::db::now();
        let running: Vec<(i64, i64, Option<i64>, Option<String>)> =
            on_pool!(&self.pool, |c| sqlx::query_as(
                "SELECT id, target_id, pid, runner FROM scans WHERE state = 'running'"
            )
            .fetch_all(c)
            .await?);
        let mut n = 0;
        let mut targets = std::collections::BTreeSet::new();
        for (id, target_id, pid, runner) in running {
            // A scan run by another machine (a shared database) is judged
            // there, never here. This process's own pid is a previous
            // process's (this runs before any scan starts).
            let elsewhere = runner
                .as_deref()
                .and_then(|r| r.rsplit_once(' '))
                .is_some_and(|(host, _)| host != crate::process::hostname());
            let gone = !elsewhere
                && !pid.is_some_and(|pid| {
                    pid != i64::from(std::process::id())
                        && std::path::Path::new(&format!("/proc/{pid}")).exists()
                });
            if !gone {
                continue;
            }
            let mut tx = self.write().await?;
            let marked = on_tx!(&mut tx, |c| sqlx::query(
                "UPDATE scans SET state = 'interrupted', finished_at = $1,
                        error = 'Vedette stopped while this scan was running'
                 WHERE id = $2 AND state = 'running'"
            )
            .bind(now)
            .bind(id)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())?);
            if marked > 0 {
                targets.insert(target_id);
                crate::events::emit_scan(
                    &mut tx,
                    EventKind::ScanError,
                    id,
                    serde_json::json!({"state": "interrupted", "error": "Vedette stopped while this scan was running"}),
                )
                .await?;
            }
            tx.commit().await?;
            n += marked;
        }
        let mut quarantined = Vec::new();
        if quarantine_after == 0 {
            return Ok((n, quarantined));
        }
        let limit = i64::from(quarantine_after);
        for target_id in targets {
            let states: Vec<String> = on_pool!(&self.pool, |c| sqlx::query_scalar(
                "SELECT state FROM scans WHERE target_id = $1 ORDER BY id DESC LIMIT $2"
            )
            .bind(target_id)
            .bind(limit)
            .fetch_all(c)
            .await?);
            if states.len() as i64 == limit && states.iter().all(|s| s == "interrupted") {
                let reason = format!(
                    "its last {quarantine_after} scans stopped Vedette before they finished (the process was killed or crashed while reading it); it is not scanned automatically until you retry it"
                );
                let done = on_pool!(&self.pool, |c| sqlx::query(
                    "UPDATE targets SET quarantined_at = $1, quarantine_reason = $2
                     WHERE id = $3 AND quarantined_at IS NULL"
                )
                .bind(now)
                .bind(&reason)
                .bind(target_id)
                .execute(c)
                .await
                .map(|r| r.rows_affected())?);
                if done > 0 {
                    if let Some(t) = self.get_target(target_id).await? {
                        self.record_event(
                            EventKind::TargetQuarantined,
                            serde_json::json!({"target_id": t.id, "target": t.name, "kind": t.kind.as_str(), "reason": reason}),
                        )
                        .await?;
                        quarantined.push(t);
                    }
                }
            }
        }
        Ok((n, quarantined))
    }
}

impl Store {
    /// Scheduled scans that were interrupted (the process died) and have not
    /// been followed by another scan of their target: (target, schedule).
    pub async fn interrupted_scheduled_scans(&self) -> Result<Vec<(i64, i64)>> {
        Ok(on_pool!(&self.pool, |c| {
            sqlx::query_as(
            "SELECT DISTINCT s.target_id, s.schedule_id
             FROM scans s
             WHERE s.state = 'interrupted' AND s.schedule_id IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM scans l WHERE l.target_id = s.target_id AND l.id > s.id)
               AND NOT EXISTS (SELECT 1 FROM targets t WHERE t.id = s.target_id AND t.quarantined_at IS NOT NULL)"
        )
        .fetch_all(c)
        .await?
        }))
    }
}

impl Store {
    /// Records that a scan of `target_id` started; returns the scan id.
    pub async fn begin_scan(&self, target_id: i64) -> Result<i64> {
        self.begin_scan_as(target_id, Trigger::Manual, None).await
    }

    /// Records how a scan ended.
    pub async fn finish_scan(
        &self,
        scan_id: i64,
        state: ScanState,
        error: Option<&str>,
    ) -> Result<()> {
        let now = crate::db::now();
        let state_str = state.as_str();
        let mut tx = self.write().await?;
        on_tx!(&mut tx, |c| sqlx::query(
            "UPDATE scans SET state = $1, finished_at = $2, error = $3 WHERE id = $4"
        )
        .bind(state_str)
        .bind(now)
        .bind(error)
        .bind(scan_id)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected())?);
        if state != ScanState::Succeeded {
            crate::events::emit_scan(
                &mut tx,
                EventKind::ScanError,
                scan_id,
                serde_json::json!({"state": state_str, "error": error}),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// A row of [`Store::latest_scans`].
type LastScanRow = (
    i64,
    i64,
    String,
    chrono::DateTime<Utc>,
    Option<chrono::DateTime<Utc>>,
    Option<String>,
);

impl Store {
    /// Each target's newest scan (any state), or only `target`'s.
    pub async fn latest_scans(
        &self,
        target: Option<i64>,
    ) -> Result<std::collections::HashMap<i64, vedette_model::LastScan>> {
        let rows: Vec<LastScanRow> = on_pool!(&self.pool, |c| {
            sqlx::query_as(
            "SELECT s.target_id, s.id, s.state, s.started_at, s.finished_at, s.error FROM scans s
             WHERE s.id IN (SELECT MAX(id) FROM scans WHERE $1 IS NULL OR target_id = $1 GROUP BY target_id)",
        )
        .bind(target)
        .fetch_all(c)
        .await?
        });
        rows.into_iter()
            .map(|(t, id, state, started, finished, error)| {
                let state = ScanState::parse(&state).ok_or_else(|| {
                    StoreError::Corrupt(format!("scan {id} has the state '{state}'"))
                })?;
                Ok((
                    t,
                    vedette_model::LastScan {
                        id,
                        state,
                        at: finished.unwrap_or(started),
                        error,
                    },
                ))
            })
            .collect()
    }

    /// Each target's newest finished scan: (scan id, verdict), the verdict
    /// none when the scan gave none.
    pub async fn latest_verdicts(
        &self,
    ) -> Result<std::collections::HashMap<i64, (i64, Option<bool>)>> {
        let rows: Vec<(i64, i64, Option<bool>)> = on_pool!(&self.pool, |c| {
            sqlx::query_as(
            "SELECT s.target_id, s.id, s.verdict_pass FROM scans s
             WHERE s.id IN (SELECT MAX(id) FROM scans WHERE state = 'succeeded' GROUP BY target_id)",
        )
        .fetch_all(c)
        .await?
        });
        Ok(rows.into_iter().map(|(t, s, v)| (t, (s, v))).collect())
    }

    /// The newest succeeded scan of one target: (scan id, verdict).
    pub async fn latest_verdict(&self, target_id: i64) -> Result<Option<(i64, Option<bool>)>> {
        Ok(on_pool!(&self.pool, |c| sqlx::query_as(
            "SELECT id, verdict_pass FROM scans
             WHERE target_id = $1 AND state = 'succeeded' ORDER BY id DESC LIMIT 1",
        )
        .bind(target_id)
        .fetch_optional(c)
        .await?))
    }
}

use chrono::{DateTime, Utc};
use vedette_model::{EventKind, ScanState, ScanSummary, SeverityCounts, TargetInfo, Trigger};

use crate::{parse_enum, Result, Store, StoreError};

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
        let rows = sqlx::query!(
            r#"SELECT s.id AS "id!: i64", s.target_id, t.name AS target_name, s.state,
                      s.started_at AS "started_at: DateTime<Utc>",
                      s.finished_at AS "finished_at: DateTime<Utc>",
                      s.error, i.package_count AS "packages?: i64", s.trigger,
                      s.verdict_pass AS "verdict_pass?: bool",
                      s.report IS NOT NULL AS "matched!: bool",
                      (SELECT COUNT(*) FROM finding_set_members m WHERE m.set_hash = s.finding_set AND m.severity = 'critical') AS "critical!: i64",
                      (SELECT COUNT(*) FROM finding_set_members m WHERE m.set_hash = s.finding_set AND m.severity = 'high') AS "high!: i64",
                      (SELECT COUNT(*) FROM finding_set_members m WHERE m.set_hash = s.finding_set AND m.severity = 'medium') AS "medium!: i64",
                      (SELECT COUNT(*) FROM finding_set_members m WHERE m.set_hash = s.finding_set AND m.severity = 'low') AS "low!: i64",
                      (SELECT COUNT(*) FROM finding_set_members m WHERE m.set_hash = s.finding_set AND m.severity = 'unknown') AS "unknown!: i64",
                      (SELECT COUNT(*) FROM scan_new_findings n WHERE n.scan_id = s.id) AS "new!: i64"
               FROM scans s JOIN targets t ON t.id = s.target_id
               LEFT JOIN inventories i ON i.id = s.inventory_id
               WHERE (?2 IS NULL OR s.id = ?2) AND (?3 IS NULL OR s.target_id = ?3)
               ORDER BY s.started_at DESC, s.id DESC
               LIMIT ?1"#,
            limit,
            scan_id,
            target_id
        )
        .fetch_all(&self.pool)
        .await?;
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
        Ok(sqlx::query_scalar!(
            r#"SELECT COUNT(*) AS "n!: i64" FROM scans WHERE id = ?1"#,
            id
        )
        .fetch_one(&self.pool)
        .await?
            > 0)
    }

    pub async fn count_scans(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar!(r#"SELECT COUNT(*) AS "n: i64" FROM scans"#)
                .fetch_one(&self.pool)
                .await?,
        )
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
        let now = Utc::now();
        let running = sqlx::query!(
            r#"SELECT id AS "id!: i64", target_id AS "target_id!: i64", pid FROM scans WHERE state = 'running'"#
        )
        .fetch_all(&self.pool)
        .await?;
        let mut n = 0;
        let mut targets = std::collections::BTreeSet::new();
        for r in running {
            let alive = r.pid.is_some_and(|pid| {
                pid != i64::from(std::process::id())
                    && std::path::Path::new(&format!("/proc/{pid}")).exists()
            });
            if alive {
                continue;
            }
            let mut tx = self.write().await?;
            let marked = sqlx::query!(
                r#"UPDATE scans SET state = 'interrupted', finished_at = ?1,
                          error = 'Vedette stopped while this scan was running'
                   WHERE id = ?2 AND state = 'running'"#,
                now,
                r.id
            )
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if marked > 0 {
                targets.insert(r.target_id);
                crate::events::emit_scan(
                    &mut tx,
                    EventKind::ScanError,
                    r.id,
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
            let states = sqlx::query_scalar!(
                "SELECT state FROM scans WHERE target_id = ?1 ORDER BY id DESC LIMIT ?2",
                target_id,
                limit
            )
            .fetch_all(&self.pool)
            .await?;
            if states.len() as i64 == limit && states.iter().all(|s| s == "interrupted") {
                let reason = format!(
                    "its last {quarantine_after} scans stopped Vedette before they finished (the process was killed or crashed while reading it); it is not scanned automatically until you retry it"
                );
                let done = sqlx::query!(
                    "UPDATE targets SET quarantined_at = ?1, quarantine_reason = ?2
                     WHERE id = ?3 AND quarantined_at IS NULL",
                    now,
                    reason,
                    target_id
                )
                .execute(&self.pool)
                .await?
                .rows_affected();
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
        let rows = sqlx::query!(
            r#"SELECT DISTINCT s.target_id AS "target_id!: i64", s.schedule_id AS "schedule_id!: i64"
               FROM scans s
               WHERE s.state = 'interrupted' AND s.schedule_id IS NOT NULL
                 AND NOT EXISTS (SELECT 1 FROM scans l WHERE l.target_id = s.target_id AND l.id > s.id)
                 AND NOT EXISTS (SELECT 1 FROM targets t WHERE t.id = s.target_id AND t.quarantined_at IS NOT NULL)"#
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| (r.target_id, r.schedule_id))
            .collect())
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
        let now = Utc::now();
        let state_str = state.as_str();
        let mut tx = self.write().await?;
        sqlx::query!(
            "UPDATE scans SET state = ?1, finished_at = ?2, error = ?3 WHERE id = ?4",
            state_str,
            now,
            error,
            scan_id
        )
        .execute(&mut *tx)
        .await?;
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
        let rows: Vec<LastScanRow> = sqlx::query_as(
            "SELECT s.target_id, s.id, s.state, s.started_at, s.finished_at, s.error FROM scans s
             WHERE s.id IN (SELECT MAX(id) FROM scans WHERE ?1 IS NULL OR target_id = ?1 GROUP BY target_id)",
        )
        .bind(target)
        .fetch_all(&self.pool)
        .await?;
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
        let rows: Vec<(i64, i64, Option<bool>)> = sqlx::query_as(
            "SELECT s.target_id, s.id, s.verdict_pass FROM scans s
             WHERE s.id IN (SELECT MAX(id) FROM scans WHERE state = 'succeeded' GROUP BY target_id)",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(t, s, v)| (t, (s, v))).collect())
    }

    /// The newest succeeded scan of one target: (scan id, verdict).
    pub async fn latest_verdict(&self, target_id: i64) -> Result<Option<(i64, Option<bool>)>> {
        Ok(sqlx::query_as(
            "SELECT id, verdict_pass FROM scans
             WHERE target_id = ? AND state = 'succeeded' ORDER BY id DESC LIMIT 1",
        )
        .bind(target_id)
        .fetch_optional(&self.pool)
        .await?)
    }
}

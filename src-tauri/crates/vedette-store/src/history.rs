//! A scan's findings and verdict, stored with the inventory in one
//! transaction, and the diff against the previous scan of the target.

use std::collections::{BTreeSet, HashSet};

use chrono::Utc;
use vedette_model::{
    finding_key, Cause, Finding, Inventory, NewFinding, ScanDiff, ScanReport, Trigger,
};

use crate::{Result, Store, StoreError};

/// The previous scan of a target that matched advisories.
struct Previous {
    id: i64,
    digest: Option<String>,
    feed_version: Option<String>,
    exposure: Option<String>,
    inventory_id: Option<i64>,
}

impl Store {
    /// Records that a scan started, and how.
    pub async fn begin_scan_as(
        &self,
        target_id: i64,
        trigger: Trigger,
        schedule_id: Option<i64>,
    ) -> Result<i64> {
        let now = Utc::now();
        let t = trigger.as_str();
        let pid = i64::from(std::process::id());
        Ok(sqlx::query_scalar!(
            r#"INSERT INTO scans (target_id, state, started_at, trigger, schedule_id, pid)
               VALUES (?1, 'running', ?2, ?3, ?4, ?5) RETURNING id AS "id!: i64""#,
            target_id,
            now,
            t,
            schedule_id,
            pid
        )
        .fetch_one(&self.pool)
        .await?)
    }

    /// Stores a finished scan in one transaction: its inventory, every
    /// finding (each new one with its cause, against the previous scan of the
    /// same target), the verdict, the feed version and the duration. Returns
    /// the findings that are new.
    pub async fn record_scan(
        &self,
        scan_id: i64,
        inventory: &Inventory,
        report: &ScanReport,
        feed_version: &str,
        duration_ms: i64,
    ) -> Result<Vec<NewFinding>> {
        let encode = |what: &str, e: serde_json::Error| {
            StoreError::Invalid(format!("cannot encode the {what}: {e}"))
        };
        let body = serde_json::to_string(inventory).map_err(|e| encode("inventory", e))?;
        let mut summary = report.clone();
        summary.findings.clear();
        let report_json = serde_json::to_string(&summary).map_err(|e| encode("report", e))?;
        let version = i64::from(inventory.extractor_version);
        let count = inventory.packages.len() as i64;
        let now = Utc::now();
        let mut tx = self.pool.begin().await?;
        // The same inventory (a re-match, an unchanged image) is stored once
        // and not rewritten.
        let existing = sqlx::query_scalar!(
            r#"SELECT id AS "id!: i64" FROM inventories WHERE digest = ?1 AND extractor_version = ?2"#,
            inventory.digest,
            version
        )
        .fetch_optional(&mut *tx)
        .await?;
        let inventory_id = match existing {
            Some(id) => id,
            None => {
                sqlx::query_scalar!(
                    r#"INSERT INTO inventories (digest, extractor_version, body, package_count, created_at)
                       VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id AS "id!: i64""#,
                    inventory.digest,
                    version,
                    body,
                    count,
                    now
                )
                .fetch_one(&mut *tx)
                .await?
            }
        };
        let target_id = sqlx::query_scalar!("SELECT target_id FROM scans WHERE id = ?1", scan_id)
            .fetch_one(&mut *tx)
            .await?;
        let previous = sqlx::query_as!(
            Previous,
            r#"SELECT id AS "id!: i64", digest, feed_version, exposure, inventory_id
               FROM scans WHERE target_id = ?1 AND id != ?2 AND state = 'succeeded' AND report IS NOT NULL
               ORDER BY finished_at DESC, id DESC LIMIT 1"#,
            target_id,
            scan_id
        )
        .fetch_optional(&mut *tx)
        .await?;
        let (previous_keys, previous_packages) = match &previous {
            None => (HashSet::new(), None),
            Some(p) => {
                let keys: HashSet<String> =
                    sqlx::query_scalar!("SELECT key FROM findings WHERE scan_id = ?1", p.id)
                        .fetch_all(&mut *tx)
                        .await?
                        .into_iter()
                        .collect();
                let packages = match p.inventory_id {
                    Some(inv) if p.digest.as_deref() != Some(inventory.digest.as_str()) => {
                        let body =
                            sqlx::query_scalar!("SELECT body FROM inventories WHERE id = ?1", inv)
                                .fetch_one(&mut *tx)
                                .await?;
                        let old: Inventory = serde_json::from_str(&body)
                            .map_err(|e| StoreError::Corrupt(format!("stored inventory: {e}")))?;
                        Some(
                            old.packages
                                .into_iter()
                                .map(|p| (p.ecosystem.osv_name().to_owned(), p.name, p.version))
                                .collect::<BTreeSet<_>>(),
                        )
                    }
                    _ => None,
                };
                (keys, packages)
            }
        };
        let exposure = report.exposure.as_str();
        let mut new = Vec::new();
        let mut seen = HashSet::new();
        let mut rows: Vec<(String, &Finding, Option<Cause>, String)> = Vec::new();
        for f in &report.findings {
            let key = finding_key(f);
            if !seen.insert(key.clone()) {
                continue;
            }
            let cause = match &previous {
                None => Some(Cause::FirstScan),
                Some(_) if previous_keys.contains(&key) => None,
                Some(p) => Some(cause_of(f, p, &previous_packages, feed_version, exposure)),
            };
            let body = serde_json::to_string(f).map_err(|e| encode("finding", e))?;
            if let Some(cause) = cause {
                new.push(NewFinding {
                    cause,
                    finding: f.clone(),
                });
            }
            rows.push((key, f, cause, body));
        }
        // Multi-row inserts: a scan with hundreds of findings is a few
        // statements, not hundreds.
        for chunk in rows.chunks(200) {
            let mut sql = String::from(
                "INSERT INTO findings (scan_id, key, vuln_id, package, version, severity, risk, kev, fixed_version, cause, body) VALUES ",
            );
            sql.push_str(&vec!["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"; chunk.len()].join(", "));
            let mut q = sqlx::query(&sql);
            for (key, f, cause, body) in chunk {
                q = q
                    .bind(scan_id)
                    .bind(key)
                    .bind(&f.id)
                    .bind(&f.package)
                    .bind(&f.version)
                    .bind(f.severity.as_str())
                    .bind(f.risk)
                    .bind(f.kev_added.is_some())
                    .bind(&f.fixed_version)
                    .bind(cause.map(Cause::as_str))
                    .bind(body);
            }
            q.execute(&mut *tx).await?;
        }
        let pass = report.stale_feeds.is_empty().then_some(report.verdict.pass);
        sqlx::query!(
            r#"UPDATE scans SET state = 'succeeded', finished_at = ?1, inventory_id = ?2, error = NULL,
                      digest = ?3, feed_version = ?4, exposure = ?5, verdict_pass = ?6,
                      duration_ms = ?7, report = ?8
               WHERE id = ?9"#,
            now,
            inventory_id,
            inventory.digest,
            feed_version,
            exposure,
            pass,
            duration_ms,
            report_json,
            scan_id
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(new)
    }

    /// A scan's findings against the previous scan of its target.
    pub async fn scan_diff(&self, scan_id: i64) -> Result<ScanDiff> {
        let rows = sqlx::query!(
            "SELECT key, cause, body FROM findings WHERE scan_id = ?1 ORDER BY risk DESC, key",
            scan_id
        )
        .fetch_all(&self.pool)
        .await?;
        let decode = |b: &str| -> Result<Finding> {
            serde_json::from_str(b).map_err(|e| StoreError::Corrupt(format!("stored finding: {e}")))
        };
        let mut keys = HashSet::new();
        let (mut new, mut unchanged) = (Vec::new(), Vec::new());
        for r in rows {
            keys.insert(r.key);
            let f = decode(&r.body)?;
            match r.cause.as_deref().and_then(Cause::parse) {
                Some(cause) => new.push(NewFinding { cause, finding: f }),
                None => unchanged.push(f),
            }
        }
        let previous = sqlx::query_scalar!(
            r#"SELECT p.id AS "id!: i64" FROM scans s JOIN scans p ON p.target_id = s.target_id
               WHERE s.id = ?1 AND p.state = 'succeeded' AND p.report IS NOT NULL
                 AND (p.finished_at < s.finished_at OR (p.finished_at = s.finished_at AND p.id < s.id))
               ORDER BY p.finished_at DESC, p.id DESC LIMIT 1"#,
            scan_id
        )
        .fetch_optional(&self.pool)
        .await?;
        let mut fixed = Vec::new();
        if let Some(p) = previous {
            for r in sqlx::query!(
                "SELECT key, body FROM findings WHERE scan_id = ?1 ORDER BY risk DESC, key",
                p
            )
            .fetch_all(&self.pool)
            .await?
            {
                if !keys.contains(&r.key) {
                    fixed.push(decode(&r.body)?);
                }
            }
        }
        Ok(ScanDiff {
            scan_id,
            previous_scan_id: previous,
            new,
            fixed,
            unchanged,
        })
    }

    /// The stored report of a scan (verdict, feeds, warnings; findings in
    /// [`Store::scan_diff`]).
    pub async fn scan_report(&self, scan_id: i64) -> Result<Option<ScanReport>> {
        let body = sqlx::query_scalar!("SELECT report FROM scans WHERE id = ?1", scan_id)
            .fetch_optional(&self.pool)
            .await?
            .flatten();
        body.map(|b| {
            serde_json::from_str(&b).map_err(|e| StoreError::Corrupt(format!("stored report: {e}")))
        })
        .transpose()
    }
}

fn cause_of(
    f: &Finding,
    p: &Previous,
    previous_packages: &Option<BTreeSet<(String, String, String)>>,
    feed_version: &str,
    exposure: &str,
) -> Cause {
    if let Some(pkgs) = previous_packages {
        let here = (f.ecosystem.clone(), f.package.clone(), f.version.clone());
        if !pkgs.contains(&here) {
            return Cause::InventoryChange;
        }
    }
    if p.feed_version.as_deref() != Some(feed_version) {
        return Cause::FeedUpdate;
    }
    if p.exposure.as_deref() != Some(exposure) {
        return Cause::ExposureChange;
    }
    if p.digest.is_some() && previous_packages.is_some() {
        return Cause::InventoryChange;
    }
    Cause::FeedUpdate
}

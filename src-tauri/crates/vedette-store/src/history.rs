//! A scan's findings and verdict, stored with the inventory in one
//! transaction, and the diff against the previous scan of the target.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

use chrono::Utc;
use vedette_model::{
    finding_key, Cause, Finding, Inventory, NewFinding, ScanDiff, ScanReport, Trigger,
};

use crate::{Result, Store, StoreError};

/// Hashes of finding sets and bodies known to be stored (committed), so
/// that what is already in the database is not sent to SQLite again.
/// Bounded: cleared when it grows past [`KnownHashes::MAX`] (a miss costs
/// only an `INSERT OR IGNORE`).
#[derive(Clone, Default)]
pub(crate) struct KnownHashes(
    Arc<Mutex<HashSet<[u8; 32]>>>,
    /// The keys of recently read sets (sets are immutable).
    Arc<Mutex<SetKeys>>,
);

/// The keys of a finding set, by the set's hash.
type SetKeys = HashMap<Vec<u8>, Arc<HashSet<String>>>;

impl KnownHashes {
    const MAX: usize = 200_000;
    const MAX_SETS: usize = 256;

    fn set_keys(&self, set: &[u8]) -> Option<Arc<HashSet<String>>> {
        self.1
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(set)
            .cloned()
    }

    fn remember_set_keys(&self, set: &[u8], keys: Arc<HashSet<String>>) {
        let mut m = self.1.lock().unwrap_or_else(|p| p.into_inner());
        if m.len() >= Self::MAX_SETS {
            m.clear();
        }
        m.insert(set.to_vec(), keys);
    }

    fn contains(&self, h: &[u8; 32]) -> bool {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).contains(h)
    }

    /// Forgets everything (rows were deleted).
    pub(crate) fn clear(&self) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clear();
        self.1.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    fn extend(&self, hashes: impl IntoIterator<Item = [u8; 32]>) {
        let mut set = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if set.len() > Self::MAX {
            set.clear();
        }
        set.extend(hashes);
    }
}

impl std::fmt::Debug for KnownHashes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KnownHashes")
    }
}

/// A stored inventory matched again, to record with
/// [`Store::record_rematches`].
pub struct Rematch<'a> {
    pub target_id: i64,
    pub inventory: &'a Inventory,
    pub report: &'a ScanReport,
    pub feed_version: &'a str,
    pub duration_ms: i64,
}

/// A finding of a scan about to be stored.
struct Member<'a> {
    key: String,
    finding: &'a Finding,
    body_hash: [u8; 32],
    body: String,
}

/// The previous scan of a target that matched advisories.
struct Previous {
    finding_set: Option<Vec<u8>>,
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
        let once = || async {
            let mut tx = self.write().await?;
            let (new, written) = self
                .record_in(
                    &mut tx,
                    scan_id,
                    inventory,
                    report,
                    feed_version,
                    duration_ms,
                )
                .await?;
            tx.commit().await?;
            self.known.extend(written);
            Ok(new)
        };
        self.again_if_forgotten(once).await
    }

    /// Runs a write that trusts [`KnownHashes`]; when another process
    /// deleted rows this one believed stored (`vedette target remove` while
    /// `vedette serve` runs), the write fails on a foreign key: the cache is
    /// forgotten and the write done once more, without trusting it.
    async fn again_if_forgotten<T, F, Fut>(&self, write: F) -> Result<T>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        match write().await {
            Err(StoreError::Query(sqlx::Error::Database(e)))
                if e.kind() == sqlx::error::ErrorKind::ForeignKeyViolation =>
            {
                tracing::info!(
                    "rows this process believed stored were deleted by another; writing them again"
                );
                self.known.clear();
                write().await
            }
            other => other,
        }
    }

    /// Records re-matches of stored inventories, each as a new scan of its
    /// target (trigger `rematch`, begun and finished at once), several in
    /// one transaction. Returns each one's scan id and new findings.
    pub async fn record_rematches(
        &self,
        batch: &[Rematch<'_>],
    ) -> Result<Vec<(i64, Vec<NewFinding>)>> {
        let once = || async {
            let now = Utc::now();
            let pid = i64::from(std::process::id());
            let mut tx = self.write().await?;
            let mut out = Vec::with_capacity(batch.len());
            let mut written = Vec::new();
            for r in batch {
                let scan_id = sqlx::query_scalar!(
                    r#"INSERT INTO scans (target_id, state, started_at, trigger, pid)
                       VALUES (?1, 'running', ?2, 'rematch', ?3) RETURNING id AS "id!: i64""#,
                    r.target_id,
                    now,
                    pid
                )
                .fetch_one(&mut *tx)
                .await?;
                let (new, w) = self
                    .record_in(
                        &mut tx,
                        scan_id,
                        r.inventory,
                        r.report,
                        r.feed_version,
                        r.duration_ms,
                    )
                    .await?;
                written.extend(w);
                out.push((scan_id, new));
            }
            tx.commit().await?;
            self.known.extend(written);
            Ok(out)
        };
        self.again_if_forgotten(once).await
    }

    /// The body of [`Store::record_scan`]: everything but the commit. Returns
    /// the new findings and the hashes written (known once committed).
    async fn record_in(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
        scan_id: i64,
        inventory: &Inventory,
        report: &ScanReport,
        feed_version: &str,
        duration_ms: i64,
    ) -> Result<(Vec<NewFinding>, Vec<[u8; 32]>)> {
        let encode = |what: &str, e: serde_json::Error| {
            StoreError::Invalid(format!("cannot encode the {what}: {e}"))
        };
        // The report without its findings (they are stored as a set).
        let summary = ScanReport {
            schema: report.schema,
            target: report.target.clone(),
            digest: report.digest.clone(),
            distro: report.distro.clone(),
            exposure: report.exposure,
            packages: report.packages,
            findings: Vec::new(),
            verdict: report.verdict.clone(),
            feeds: report.feeds.clone(),
            stale_feeds: report.stale_feeds.clone(),
            uncovered: report.uncovered.clone(),
            warnings: report.warnings.clone(),
            scanned_at: report.scanned_at,
        };
        let report_json = serde_json::to_string(&summary).map_err(|e| encode("report", e))?;
        let version = i64::from(inventory.extractor_version);
        let count = inventory.packages.len() as i64;
        let now = Utc::now();
        // The same inventory (a re-match, an unchanged image) is stored once
        // and not rewritten.
        let existing = sqlx::query_scalar!(
            r#"SELECT id AS "id!: i64" FROM inventories WHERE digest = ?1 AND extractor_version = ?2"#,
            inventory.digest,
            version
        )
        .fetch_optional(&mut **tx)
        .await?;
        let inventory_id = match existing {
            Some(id) => id,
            None => {
                let body = serde_json::to_string(inventory).map_err(|e| encode("inventory", e))?;
                sqlx::query_scalar!(
                    r#"INSERT INTO inventories (digest, extractor_version, body, package_count, created_at)
                       VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id AS "id!: i64""#,
                    inventory.digest,
                    version,
                    body,
                    count,
                    now
                )
                .fetch_one(&mut **tx)
                .await?
            }
        };
        let previous = sqlx::query_as!(
            Previous,
            r#"SELECT finding_set, digest, feed_version, exposure, inventory_id
               FROM scans WHERE target_id = (SELECT target_id FROM scans WHERE id = ?1)
                 AND id != ?1 AND state = 'succeeded' AND report IS NOT NULL
               ORDER BY finished_at DESC, id DESC LIMIT 1"#,
            scan_id
        )
        .fetch_optional(&mut **tx)
        .await?;
        // The scan's findings as a set: one per key, sorted, each body
        // hashed; the set is named by the hash of its members.
        let mut members: Vec<Member> = Vec::with_capacity(report.findings.len());
        let mut seen = HashSet::new();
        for f in &report.findings {
            let key = finding_key(f);
            if !seen.insert(key.clone()) {
                continue;
            }
            let body = serde_json::to_string(f).map_err(|e| encode("finding", e))?;
            members.push(Member {
                key,
                finding: f,
                body_hash: Sha256::digest(body.as_bytes()).into(),
                body,
            });
        }
        members.sort_by(|a, b| a.key.cmp(&b.key));
        let set_hash: [u8; 32] = {
            let mut h = Sha256::new();
            h.update(b"vedette finding set 1\0");
            for m in &members {
                h.update(m.key.as_bytes());
                h.update([0]);
                h.update(m.body_hash);
            }
            h.finalize().into()
        };
        let same_set = previous
            .as_ref()
            .and_then(|p| p.finding_set.as_deref())
            .is_some_and(|h| h == set_hash);
        let (previous_keys, previous_packages) = match &previous {
            None => (Arc::default(), None),
            // The same findings as last time: nothing is new.
            Some(_) if same_set => (Arc::default(), None),
            Some(p) => {
                let cached = p
                    .finding_set
                    .as_deref()
                    .and_then(|h| self.known.set_keys(h));
                let keys = match cached {
                    Some(k) => k,
                    None => {
                        let k: Arc<HashSet<String>> = Arc::new(
                            sqlx::query_scalar!(
                                "SELECT key FROM finding_set_members WHERE set_hash = ?1",
                                p.finding_set
                            )
                            .fetch_all(&mut **tx)
                            .await?
                            .into_iter()
                            .collect(),
                        );
                        if let Some(h) = &p.finding_set {
                            self.known.remember_set_keys(h, Arc::clone(&k));
                        }
                        k
                    }
                };
                let packages = match p.inventory_id {
                    Some(inv) if p.digest.as_deref() != Some(inventory.digest.as_str()) => {
                        let body =
                            sqlx::query_scalar!("SELECT body FROM inventories WHERE id = ?1", inv)
                                .fetch_one(&mut **tx)
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
        let mut causes: Vec<(&str, Cause)> = Vec::new();
        if !same_set {
            for m in &members {
                let cause = match &previous {
                    None => Cause::FirstScan,
                    Some(_) if previous_keys.contains(&m.key) => continue,
                    Some(p) => cause_of(m.finding, p, &previous_packages, feed_version, exposure),
                };
                causes.push((&m.key, cause));
                new.push(NewFinding {
                    cause,
                    finding: m.finding.clone(),
                });
            }
        }
        // A set (and each body) is written once; multi-row inserts keep a
        // scan with hundreds of findings to a few statements.
        let mut written = Vec::new();
        let (set_key, set_len) = (&set_hash[..], members.len() as i64);
        let set_is_new = !self.known.contains(&set_hash)
            && sqlx::query!(
                "INSERT OR IGNORE INTO finding_sets (hash, count) VALUES (?1, ?2)",
                set_key,
                set_len
            )
            .execute(&mut **tx)
            .await?
            .rows_affected()
                == 1;
        written.push(set_hash);
        if set_is_new {
            let bodies: Vec<&Member> = members
                .iter()
                .filter(|m| !self.known.contains(&m.body_hash))
                .collect();
            for chunk in bodies.chunks(400) {
                let mut sql =
                    String::from("INSERT OR IGNORE INTO finding_bodies (hash, body) VALUES ");
                sql.push_str(&vec!["(?, ?)"; chunk.len()].join(", "));
                let mut q = sqlx::query(&sql);
                for m in chunk {
                    q = q.bind(&m.body_hash[..]).bind(&m.body);
                }
                q.execute(&mut **tx).await?;
            }
            written.extend(bodies.iter().map(|m| m.body_hash));
            for chunk in members.chunks(200) {
                let mut sql = String::from(
                    "INSERT INTO finding_set_members (set_hash, key, vuln_id, package, version, severity, risk, kev, fixed_version, body_hash) VALUES ",
                );
                sql.push_str(&vec!["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"; chunk.len()].join(", "));
                let mut q = sqlx::query(&sql);
                for m in chunk {
                    let f = m.finding;
                    q = q
                        .bind(&set_hash[..])
                        .bind(&m.key)
                        .bind(&f.id)
                        .bind(&f.package)
                        .bind(&f.version)
                        .bind(f.severity.as_str())
                        .bind(f.risk)
                        .bind(f.kev_added.is_some())
                        .bind(&f.fixed_version)
                        .bind(&m.body_hash[..]);
                }
                q.execute(&mut **tx).await?;
            }
        }
        for chunk in causes.chunks(300) {
            let mut sql =
                String::from("INSERT INTO scan_new_findings (scan_id, key, cause) VALUES ");
            sql.push_str(&vec!["(?, ?, ?)"; chunk.len()].join(", "));
            let mut q = sqlx::query(&sql);
            for (key, cause) in chunk {
                q = q.bind(scan_id).bind(*key).bind(cause.as_str());
            }
            q.execute(&mut **tx).await?;
        }
        // No verdict (NULL) when a feed was stale or part of the target
        // could not be judged; the report says why.
        let pass = (report.stale_feeds.is_empty() && report.verdict.none.is_none())
            .then_some(report.verdict.pass);
        sqlx::query!(
            r#"UPDATE scans SET state = 'succeeded', finished_at = ?1, inventory_id = ?2, error = NULL,
                      digest = ?3, feed_version = ?4, exposure = ?5, verdict_pass = ?6,
                      duration_ms = ?7, report = ?8, finding_set = ?9
               WHERE id = ?10"#,
            now,
            inventory_id,
            inventory.digest,
            feed_version,
            exposure,
            pass,
            duration_ms,
            report_json,
            set_key,
            scan_id
        )
        .execute(&mut **tx)
        .await?;
        Ok((new, written))
    }

    /// A scan's findings against the previous scan of its target.
    pub async fn scan_diff(&self, scan_id: i64) -> Result<ScanDiff> {
        let rows = sqlx::query!(
            r#"SELECT f.key AS "key!", f.cause, b.body FROM findings f JOIN finding_bodies b ON b.hash = f.body_hash
               WHERE f.scan_id = ?1 ORDER BY f.risk DESC, f.key"#,
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
                r#"SELECT f.key AS "key!", b.body FROM findings f JOIN finding_bodies b ON b.hash = f.body_hash
                   WHERE f.scan_id = ?1 ORDER BY f.risk DESC, f.key"#,
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

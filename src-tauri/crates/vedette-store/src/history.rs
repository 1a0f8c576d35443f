//! A scan's findings and verdict, stored with the inventory in one
//! transaction, and the diff against the previous scan of the target.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

use vedette_model::{
    finding_key, Cause, EventKind, Finding, Inventory, NewFinding, ScanDiff, ScanReport, Trigger,
};

use crate::db::{on_pool, on_tx, values, Tx};
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
#[derive(sqlx::FromRow)]
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
        let now = crate::db::now();
        let t = trigger.as_str();
        let pid = i64::from(std::process::id());
        let mut tx = self.write().await?;
        let id: i64 = on_tx!(&mut tx, |c| {
            sqlx::query_scalar(
            "INSERT INTO scans (target_id, state, started_at, trigger, schedule_id, pid, runner)
             VALUES ($1, 'running', $2, $3, $4, $5, $6) RETURNING id"
        )
        .bind(target_id)
        .bind(now)
        .bind(t)
        .bind(schedule_id)
        .bind(pid)
        .bind(crate::process::runner())
        .fetch_one(&mut *c)
        .await?
        });
        crate::events::emit_scan(
            &mut tx,
            EventKind::ScanStarted,
            id,
            serde_json::json!({"schedule_id": schedule_id}),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
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
            let now = crate::db::now();
            let pid = i64::from(std::process::id());
            let mut tx = self.write().await?;
            let mut out = Vec::with_capacity(batch.len());
            let mut written = Vec::new();
            for r in batch {
                let scan_id: i64 = on_tx!(&mut tx, |c| sqlx::query_scalar(
                    "INSERT INTO scans (target_id, state, started_at, trigger, pid, runner)
                     VALUES ($1, 'running', $2, 'rematch', $3, $4) RETURNING id"
                )
                .bind(r.target_id)
                .bind(now)
                .bind(pid)
                .bind(crate::process::runner())
                .fetch_one(&mut *c)
                .await?);
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
        tx: &mut Tx,
        scan_id: i64,
        inventory: &Inventory,
        report: &ScanReport,
        feed_version: &str,
        duration_ms: i64,
    ) -> Result<(Vec<NewFinding>, Vec<[u8; 32]>)> {
        let report_json = summary_json(report)?;
        let inventory_id = store_inventory(tx, inventory).await?;
        let previous = previous_scan(tx, scan_id).await?;
        let set = FindingSet::of(&report.findings)?;
        let same_set = previous
            .as_ref()
            .and_then(|p| p.finding_set.as_deref())
            .is_some_and(|h| h == set.hash);
        let exposure = report.exposure.as_str();
        let causes = match &previous {
            // The same findings as last time: nothing is new.
            Some(_) if same_set => Vec::new(),
            None => attribute(&set, None, feed_version, exposure),
            Some(p) => {
                let keys = self.set_keys(tx, p).await?;
                let packages = previous_packages(tx, p, inventory).await?;
                attribute(&set, Some((p, &keys, &packages)), feed_version, exposure)
            }
        };
        let written = self.write_set(tx, &set).await?;
        write_causes(tx, scan_id, &causes).await?;
        // No verdict (NULL) when a feed was stale or part of the target
        // could not be judged; the report says why.
        let pass = (report.stale_feeds.is_empty() && report.verdict.none.is_none())
            .then_some(report.verdict.pass);
        let (now, set_key) = (crate::db::now(), &set.hash[..]);
        on_tx!(tx, |c| {
            sqlx::query(
            "UPDATE scans SET state = 'succeeded', finished_at = $1, inventory_id = $2, error = NULL,
                    digest = $3, feed_version = $4, exposure = $5, verdict_pass = $6,
                    duration_ms = $7, report = $8, finding_set = $9
             WHERE id = $10"
        )
        .bind(now)
        .bind(inventory_id)
        .bind(&inventory.digest)
        .bind(feed_version)
        .bind(exposure)
        .bind(pass)
        .bind(duration_ms)
        .bind(&report_json)
        .bind(set_key)
        .bind(scan_id)
        .execute(&mut *c)
        .await.map(|r| r.rows_affected())?
        });
        let new: Vec<NewFinding> = causes
            .into_iter()
            .map(|(_, cause, finding)| NewFinding {
                cause,
                finding: finding.clone(),
            })
            .collect();
        finished_events(tx, scan_id, report, pass, &new).await?;
        Ok((new, written))
    }

    /// The keys of the previous scan's finding set (cached: sets never change).
    async fn set_keys(&self, tx: &mut Tx, p: &Previous) -> Result<Arc<HashSet<String>>> {
        let Some(h) = &p.finding_set else {
            return Ok(Arc::default());
        };
        if let Some(k) = self.known.set_keys(h) {
            return Ok(k);
        }
        let keys: Arc<HashSet<String>> = Arc::new(
            on_tx!(tx, |c| sqlx::query_scalar::<_, String>(
                "SELECT key FROM finding_set_members WHERE set_hash = $1"
            )
            .bind(h)
            .fetch_all(&mut *c)
            .await?)
            .into_iter()
            .collect(),
        );
        self.known.remember_set_keys(h, Arc::clone(&keys));
        Ok(keys)
    }

    /// Writes a finding set and the bodies of its members, once each
    /// (multi-row inserts keep hundreds of findings to a few statements);
    /// the hashes written.
    async fn write_set(&self, tx: &mut Tx, set: &FindingSet<'_>) -> Result<Vec<[u8; 32]>> {
        let mut written = vec![set.hash];
        let (set_key, set_len) = (&set.hash[..], set.members.len() as i64);
        let set_is_new = !self.known.contains(&set.hash)
            && on_tx!(tx, |c| sqlx::query(
                "INSERT INTO finding_sets (hash, count) VALUES ($1, $2) ON CONFLICT DO NOTHING"
            )
            .bind(set_key)
            .bind(set_len)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())?)
                == 1;
        if !set_is_new {
            return Ok(written);
        }
        let bodies: Vec<&Member> = set
            .members
            .iter()
            .filter(|m| !self.known.contains(&m.body_hash))
            .collect();
        for chunk in bodies.chunks(400) {
            let sql = format!(
                "INSERT INTO finding_bodies (hash, body) VALUES {} ON CONFLICT DO NOTHING",
                values(chunk.len(), 2)
            );
            on_tx!(tx, |c| {
                let mut q = sqlx::query(&sql);
                for m in chunk {
                    q = q.bind(&m.body_hash[..]).bind(&m.body);
                }
                q.execute(&mut *c).await.map(|r| r.rows_affected())?
            });
        }
        written.extend(bodies.iter().map(|m| m.body_hash));
        for chunk in set.members.chunks(200) {
            let sql = format!(
                "INSERT INTO finding_set_members (set_hash, key, vuln_id, package, version, severity, risk, kev, fixed_version, body_hash) VALUES {}",
                values(chunk.len(), 10)
            );
            on_tx!(tx, |c| {
                let mut q = sqlx::query(&sql);
                for m in chunk {
                    let f = m.finding;
                    q = q
                        .bind(set_key)
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
                q.execute(&mut *c).await.map(|r| r.rows_affected())?
            });
        }
        Ok(written)
    }

    /// A scan's findings against the previous scan of its target.
    pub async fn scan_diff(&self, scan_id: i64) -> Result<ScanDiff> {
        let rows: Vec<(String, Option<String>, String)> = on_pool!(&self.pool, |c| {
            sqlx::query_as(
            "SELECT f.key, f.cause, b.body FROM findings f JOIN finding_bodies b ON b.hash = f.body_hash
             WHERE f.scan_id = $1 ORDER BY f.risk DESC, f.key"
        )
        .bind(scan_id)
        .fetch_all(c)
        .await?
        });
        let decode = |b: &str| -> Result<Finding> {
            serde_json::from_str(b).map_err(|e| StoreError::Corrupt(format!("stored finding: {e}")))
        };
        let mut keys = HashSet::new();
        let (mut new, mut unchanged) = (Vec::new(), Vec::new());
        for (key, cause, body) in rows {
            keys.insert(key);
            let f = decode(&body)?;
            match cause.as_deref().and_then(Cause::parse) {
                Some(cause) => new.push(NewFinding { cause, finding: f }),
                None => unchanged.push(f),
            }
        }
        let previous: Option<i64> = on_pool!(&self.pool, |c| {
            sqlx::query_scalar(
            "SELECT p.id FROM scans s JOIN scans p ON p.target_id = s.target_id
             WHERE s.id = $1 AND p.state = 'succeeded' AND p.report IS NOT NULL
               AND (p.finished_at < s.finished_at OR (p.finished_at = s.finished_at AND p.id < s.id))
             ORDER BY p.finished_at DESC, p.id DESC LIMIT 1"
        )
        .bind(scan_id)
        .fetch_optional(c)
        .await?
        });
        let mut fixed = Vec::new();
        if let Some(p) = previous {
            let rows: Vec<(String, String)> = on_pool!(&self.pool, |c| {
                sqlx::query_as(
                "SELECT f.key, b.body FROM findings f JOIN finding_bodies b ON b.hash = f.body_hash
                 WHERE f.scan_id = $1 ORDER BY f.risk DESC, f.key"
            )
            .bind(p)
            .fetch_all(c)
            .await?
            });
            for (key, body) in rows {
                if !keys.contains(&key) {
                    fixed.push(decode(&body)?);
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

    /// The newest judged scan of a target: its id, the digest of what it
    /// read, and the extractor version that read it.
    pub async fn latest_judged_scan(&self, target_id: i64) -> Result<Option<(i64, String, i64)>> {
        Ok(on_pool!(&self.pool, |c| sqlx::query_as(
            "SELECT s.id, s.digest, i.extractor_version FROM scans s
               JOIN inventories i ON i.id = s.inventory_id
             WHERE s.target_id = $1 AND s.state = 'succeeded' AND s.report IS NOT NULL
               AND s.digest IS NOT NULL
             ORDER BY s.finished_at DESC, s.id DESC LIMIT 1",
        )
        .bind(target_id)
        .fetch_optional(c)
        .await?))
    }

    /// Every finding of a scan, as it was recorded.
    pub async fn scan_findings(&self, scan_id: i64) -> Result<Vec<Finding>> {
        let bodies: Vec<(String,)> = on_pool!(&self.pool, |c| sqlx::query_as(
            "SELECT b.body FROM findings f JOIN finding_bodies b ON b.hash = f.body_hash
             WHERE f.scan_id = $1 ORDER BY f.risk DESC, f.key",
        )
        .bind(scan_id)
        .fetch_all(c)
        .await?);
        bodies
            .iter()
            .map(|(b,)| {
                serde_json::from_str(b)
                    .map_err(|e| StoreError::Corrupt(format!("stored finding: {e}")))
            })
            .collect()
    }

    /// The stored report of a scan (verdict, feeds, warnings; findings in
    /// [`Store::scan_diff`]).
    pub async fn scan_report(&self, scan_id: i64) -> Result<Option<ScanReport>> {
        let body: Option<String> =
            on_pool!(&self.pool, |c| sqlx::query_scalar::<_, Option<String>>(
                "SELECT report FROM scans WHERE id = $1"
            )
            .bind(scan_id)
            .fetch_optional(c)
            .await?)
            .flatten();
        body.map(|b| {
            serde_json::from_str(&b).map_err(|e| StoreError::Corrupt(format!("stored report: {e}")))
        })
        .transpose()
    }
}

/// The report as stored: without its findings (they are stored as a set).
fn summary_json(report: &ScanReport) -> Result<String> {
    let summary = ScanReport {
        findings: Vec::new(),
        ..report.clone()
    };
    serde_json::to_string(&summary)
        .map_err(|e| StoreError::Invalid(format!("cannot encode the report: {e}")))
}

/// Stores an inventory once per digest and extractor version (a re-match,
/// an unchanged image reuse the stored one); its id.
async fn store_inventory(tx: &mut Tx, inventory: &Inventory) -> Result<i64> {
    let version = i64::from(inventory.extractor_version);
    let existing: Option<i64> = on_tx!(tx, |c| sqlx::query_scalar(
        "SELECT id FROM inventories WHERE digest = $1 AND extractor_version = $2"
    )
    .bind(&inventory.digest)
    .bind(version)
    .fetch_optional(&mut *c)
    .await?);
    if let Some(id) = existing {
        return Ok(id);
    }
    let body = serde_json::to_string(inventory)
        .map_err(|e| StoreError::Invalid(format!("cannot encode the inventory: {e}")))?;
    let (count, now) = (inventory.packages.len() as i64, crate::db::now());
    Ok(on_tx!(tx, |c| sqlx::query_scalar(
        "INSERT INTO inventories (digest, extractor_version, body, package_count, created_at)
         VALUES ($1, $2, $3, $4, $5) RETURNING id"
    )
    .bind(&inventory.digest)
    .bind(version)
    .bind(&body)
    .bind(count)
    .bind(now)
    .fetch_one(&mut *c)
    .await?))
}

/// The target's previous scan that matched advisories, if any.
async fn previous_scan(tx: &mut Tx, scan_id: i64) -> Result<Option<Previous>> {
    Ok(on_tx!(tx, |c| sqlx::query_as(
        "SELECT finding_set, digest, feed_version, exposure, inventory_id
         FROM scans WHERE target_id = (SELECT target_id FROM scans WHERE id = $1)
           AND id != $1 AND state = 'succeeded' AND report IS NOT NULL
         ORDER BY finished_at DESC, id DESC LIMIT 1"
    )
    .bind(scan_id)
    .fetch_optional(&mut *c)
    .await?))
}

/// The packages the previous scan found, when its inventory differs from
/// this one (an inventory change is then a possible cause).
async fn previous_packages(
    tx: &mut Tx,
    p: &Previous,
    inventory: &Inventory,
) -> Result<Option<Packages>> {
    let Some(inv) = p.inventory_id else {
        return Ok(None);
    };
    if p.digest.as_deref() == Some(inventory.digest.as_str()) {
        return Ok(None);
    }
    let body: String = on_tx!(tx, |c| sqlx::query_scalar(
        "SELECT body FROM inventories WHERE id = $1"
    )
    .bind(inv)
    .fetch_one(&mut *c)
    .await?);
    let old: Inventory = serde_json::from_str(&body)
        .map_err(|e| StoreError::Corrupt(format!("stored inventory: {e}")))?;
    Ok(Some(
        old.packages
            .into_iter()
            .map(|p| (p.ecosystem.osv_name().to_owned(), p.name, p.version))
            .collect(),
    ))
}

async fn write_causes(tx: &mut Tx, scan_id: i64, causes: &[(&str, Cause, &Finding)]) -> Result<()> {
    for chunk in causes.chunks(300) {
        let sql = format!(
            "INSERT INTO scan_new_findings (scan_id, key, cause) VALUES {}",
            values(chunk.len(), 3)
        );
        on_tx!(tx, |c| {
            let mut q = sqlx::query(&sql);
            for (key, cause, _) in chunk {
                q = q.bind(scan_id).bind(*key).bind(cause.as_str());
            }
            q.execute(&mut *c).await.map(|r| r.rows_affected())?
        });
    }
    Ok(())
}

/// (ecosystem, name, version) of each package of an inventory.
type Packages = BTreeSet<(String, String, String)>;

/// A scan's findings as a set: one per key, sorted by key, each body
/// hashed; the set is named by the hash of its members, so the same
/// findings make the same set whatever their order.
struct FindingSet<'a> {
    members: Vec<Member<'a>>,
    hash: [u8; 32],
}

impl<'a> FindingSet<'a> {
    fn of(findings: &'a [Finding]) -> Result<Self> {
        let mut members: Vec<Member> = Vec::with_capacity(findings.len());
        let mut seen = HashSet::new();
        for f in findings {
            let key = finding_key(f);
            if !seen.insert(key.clone()) {
                continue;
            }
            let body = serde_json::to_string(f)
                .map_err(|e| StoreError::Invalid(format!("cannot encode a finding: {e}")))?;
            members.push(Member {
                key,
                finding: f,
                body_hash: Sha256::digest(body.as_bytes()).into(),
                body,
            });
        }
        members.sort_by(|a, b| a.key.cmp(&b.key));
        let mut h = Sha256::new();
        h.update(b"vedette finding set 1\0");
        for m in &members {
            h.update(m.key.as_bytes());
            h.update([0]);
            h.update(m.body_hash);
        }
        Ok(FindingSet {
            members,
            hash: h.finalize().into(),
        })
    }
}

/// Which findings are new and why: all of a first scan's (`previous`
/// none); else those whose key the previous set lacks, each with the
/// change that explains it.
fn attribute<'s, 'f>(
    set: &'s FindingSet<'f>,
    previous: Option<(&Previous, &HashSet<String>, &Option<Packages>)>,
    feed_version: &str,
    exposure: &str,
) -> Vec<(&'s str, Cause, &'f Finding)> {
    set.members
        .iter()
        .filter_map(|m| {
            let cause = match previous {
                None => Cause::FirstScan,
                Some((_, keys, _)) if keys.contains(&m.key) => return None,
                Some((p, _, packages)) => cause_of(m.finding, p, packages, feed_version, exposure),
            };
            Some((m.key.as_str(), cause, m.finding))
        })
        .collect()
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

/// At most this many findings in one `finding.new` event; the event says
/// how many there are in all.
const NEW_FINDINGS_PER_EVENT: usize = 200;

/// The events of a recorded scan: `scan.finished`, then `finding.new`,
/// `policy.failed` and `feed.stale` when they apply.
async fn finished_events(
    tx: &mut Tx,
    scan_id: i64,
    report: &ScanReport,
    pass: Option<bool>,
    new: &[NewFinding],
) -> Result<()> {
    use serde_json::json;
    let verdict = match pass {
        Some(true) => "pass",
        Some(false) => "fail",
        None => "none",
    };
    let mut counts = std::collections::BTreeMap::<&str, usize>::new();
    for f in &report.findings {
        *counts.entry(f.severity.as_str()).or_default() += 1;
    }
    let url = format!("/api/v1/scans/{scan_id}");
    // What each event says of the scan, read once.
    let subject = crate::events::scan_subject(tx, scan_id).await?;
    crate::events::emit_about(
        tx,
        EventKind::ScanFinished,
        &subject,
        json!({"verdict": verdict, "findings": report.findings.len(), "counts": counts,
               "new": new.len(), "url": url}),
    )
    .await?;
    if !new.is_empty() {
        // The riskiest first: what a message names when there are more.
        let mut by_risk: Vec<&NewFinding> = new.iter().collect();
        by_risk.sort_by(|a, b| b.finding.risk.total_cmp(&a.finding.risk));
        let listed: Vec<_> = by_risk
            .iter()
            .take(NEW_FINDINGS_PER_EVENT)
            .map(|n| {
                json!({"id": n.finding.id, "package": n.finding.package, "version": n.finding.version,
                       "severity": n.finding.severity.as_str(), "kev": n.finding.kev_added.is_some(),
                       "risk": n.finding.risk, "cause": n.cause})
            })
            .collect();
        crate::events::emit_about(
            tx,
            EventKind::FindingNew,
            &subject,
            json!({"total": new.len(), "findings": listed}),
        )
        .await?;
    }
    if pass == Some(false) {
        crate::events::emit_about(
            tx,
            EventKind::PolicyFailed,
            &subject,
            json!({"failures": report.verdict.failures, "url": url}),
        )
        .await?;
    }
    if !report.stale_feeds.is_empty() {
        crate::events::emit_about(
            tx,
            EventKind::FeedStale,
            &subject,
            json!({"feeds": report.stale_feeds}),
        )
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use vedette_model::{Severity, SeveritySource};

    fn finding(id: &str, package: &str, version: &str) -> Finding {
        Finding {
            id: id.into(),
            aliases: vec![],
            cve: None,
            package: package.into(),
            version: version.into(),
            ecosystem: "Debian".into(),
            purl: format!("pkg:deb/debian/{package}@{version}"),
            source_package: None,
            fixed_version: None,
            summary: String::new(),
            severity: Severity::High,
            severity_source: SeveritySource::None,
            cvss: None,
            vendor_severity: None,
            related: vec![],
            epss: None,
            epss_percentile: None,
            kev_added: None,
            risk: 40.0,
            risk_factors: vec![],
            published: None,
            locations: vec![],
            exception: None,
            triage: None,
        }
    }

    fn previous(feed: &str, exposure: &str, digest: Option<&str>) -> Previous {
        Previous {
            finding_set: Some(vec![1]),
            digest: digest.map(Into::into),
            feed_version: Some(feed.into()),
            exposure: Some(exposure.into()),
            inventory_id: Some(1),
        }
    }

    #[test]
    fn a_finding_set_is_named_by_its_members_whatever_their_order() {
        let a = finding("CVE-1", "perl", "1");
        let b = finding("CVE-2", "zlib", "1");
        let one = [a.clone(), b.clone()];
        let other = [b.clone(), a.clone(), b.clone()];
        let (x, y) = (
            FindingSet::of(&one).unwrap(),
            FindingSet::of(&other).unwrap(),
        );
        assert_eq!(x.hash, y.hash);
        assert_eq!(y.members.len(), 2, "a duplicate key is one member");
        // A changed body (a new risk) is another set.
        let mut c = a.clone();
        c.risk = 41.0;
        let changed = [c, b];
        assert_ne!(FindingSet::of(&changed).unwrap().hash, x.hash);
    }

    #[test]
    fn new_findings_are_attributed_to_the_change_that_explains_them() {
        let findings = [
            finding("CVE-1", "perl", "2"),
            finding("CVE-2", "zlib", "1"),
            finding("CVE-3", "zlib", "1"),
        ];
        let set = FindingSet::of(&findings).unwrap();
        // A first scan: everything is new, as the history shows it.
        let first = attribute(&set, None, "f1", "internal");
        assert_eq!(first.len(), 3);
        assert!(first.iter().all(|(_, c, _)| *c == Cause::FirstScan));

        let keys: HashSet<String> = [finding_key(&findings[2])].into_iter().collect();
        // perl went from 1 to 2 (the inventory changed); zlib did not, but
        // the feeds did.
        let packages: Option<Packages> = Some(
            [
                ("Debian".into(), "perl".into(), "1".into()),
                ("Debian".into(), "zlib".into(), "1".into()),
            ]
            .into_iter()
            .collect(),
        );
        let p = previous("f0", "internal", Some("sha256:old"));
        let got: Vec<(&str, Cause)> =
            attribute(&set, Some((&p, &keys, &packages)), "f1", "internal")
                .into_iter()
                .map(|(_, c, f)| (f.id.as_str(), c))
                .collect();
        assert_eq!(
            got,
            [
                ("CVE-1", Cause::InventoryChange),
                ("CVE-2", Cause::FeedUpdate)
            ]
        );
        // Same inventory and feeds, the exposure changed.
        let p = previous("f1", "internal", Some("sha256:same"));
        let got: Vec<Cause> = attribute(&set, Some((&p, &keys, &None)), "f1", "internet")
            .into_iter()
            .map(|(_, c, _)| c)
            .collect();
        assert_eq!(got, [Cause::ExposureChange, Cause::ExposureChange]);
    }
}

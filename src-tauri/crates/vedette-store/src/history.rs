//! A scan's findings and verdict, stored with the inventory in one
//! transaction, and the diff against the previous scan of the target.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

use vedette_model::{
    finding_key, Cause, EventKind, Finding, Inventory, NewFinding, ScanDiff, ScanReport, Trigger,
};

use crate::db::{list, on_pool, on_tx, values, Tx};
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
    /// The stored inventory's id ([`crate::LatestInventory::inventory_id`]).
    pub inventory_id: i64,
    pub report: &'a ScanReport,
    /// The report encoded ([`EncodedReport::of`]), where it was matched.
    pub encoded: &'a EncodedReport,
    pub feed_version: &'a str,
    pub duration_ms: i64,
}

/// A report as the store writes it, encoded ahead of the write: its
/// summary (the report without its findings) and each finding's key, body
/// and body's hash. A re-match encodes on its matcher threads, so that its
/// one writer only writes.
pub struct EncodedReport {
    summary: String,
    findings: Vec<Encoded>,
}

/// A finding encoded: its key, its body (JSON) and the body's hash.
type Encoded = (String, String, [u8; 32]);

impl EncodedReport {
    pub fn of(report: &ScanReport) -> Result<Self> {
        Ok(Self {
            summary: serde_json::to_string(&summary_of(report))
                .map_err(|e| StoreError::Invalid(format!("cannot encode the report: {e}")))?,
            findings: encode(&report.findings)?,
        })
    }
}

/// The report without its findings (they are stored as a set), copied
/// field by field: the findings are not copied only to be dropped (and a
/// field added to the report must be named here).
fn summary_of(report: &ScanReport) -> ScanReport {
    let ScanReport {
        schema,
        target,
        digest,
        distro,
        exposure,
        packages,
        findings: _,
        verdict,
        feeds,
        stale_feeds,
        uncovered,
        warnings,
        scanned_at,
    } = report;
    ScanReport {
        schema: *schema,
        target: target.clone(),
        digest: digest.clone(),
        distro: distro.clone(),
        exposure: *exposure,
        packages: *packages,
        findings: Vec::new(),
        verdict: verdict.clone(),
        feeds: feeds.clone(),
        stale_feeds: stale_feeds.clone(),
        uncovered: uncovered.clone(),
        warnings: warnings.clone(),
        scanned_at: *scanned_at,
    }
}

/// Each finding's key, body and the body's hash, in their order.
fn encode(findings: &[Finding]) -> Result<Vec<Encoded>> {
    findings
        .iter()
        .map(|f| {
            let body = serde_json::to_string(f)
                .map_err(|e| StoreError::Invalid(format!("cannot encode a finding: {e}")))?;
            let hash = Sha256::digest(body.as_bytes()).into();
            Ok((finding_key(f), body, hash))
        })
        .collect()
}

/// A scan to record: one begun earlier ([`Store::record_scan`]) or a
/// re-match, inserted finished ([`Store::record_rematches`]).
struct Recording<'a> {
    /// The scan begun earlier; none for a re-match.
    scan_id: Option<i64>,
    target_id: i64,
    inventory: &'a Inventory,
    /// The inventory's id when it is stored already.
    inventory_id: Option<i64>,
    report: &'a ScanReport,
    encoded: &'a EncodedReport,
    feed_version: &'a str,
    duration_ms: i64,
}

/// A recording on its way to the database: what is computed before
/// anything is written.
struct Prepared<'a> {
    item: &'a Recording<'a>,
    set: FindingSet<'a>,
    inventory_id: i64,
    /// No verdict (NULL) when a feed was stale or part of the target could
    /// not be judged; the report says why.
    pass: Option<bool>,
}

/// A finding of a scan about to be stored.
struct Member<'a> {
    key: &'a str,
    finding: &'a Finding,
    body_hash: [u8; 32],
    body: &'a str,
}

/// The previous scan of a target that matched advisories.
#[derive(sqlx::FromRow)]
struct Previous {
    target_id: i64,
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
        let encoded = EncodedReport::of(report)?;
        let once = || async {
            let mut tx = self.write().await?;
            let target_id: i64 = on_tx!(&mut tx, |c| sqlx::query_scalar(
                "SELECT target_id FROM scans WHERE id = $1"
            )
            .bind(scan_id)
            .fetch_optional(&mut *c)
            .await?)
            .ok_or_else(|| StoreError::Query(sqlx::Error::RowNotFound))?;
            let item = Recording {
                scan_id: Some(scan_id),
                target_id,
                inventory,
                inventory_id: None,
                report,
                encoded: &encoded,
                feed_version,
                duration_ms,
            };
            let (mut recorded, written) = self.record_in(&mut tx, &[item]).await?;
            tx.commit().await?;
            self.known.extend(written);
            Ok(recorded.pop().map(|(_, new)| new).unwrap_or_default())
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
    /// target (trigger `rematch`, begun and finished at once), all in one
    /// transaction and each kind of row in a few multi-row statements.
    /// Each target at most once. Returns each one's scan id and new
    /// findings, in the order given.
    pub async fn record_rematches(
        &self,
        batch: &[Rematch<'_>],
    ) -> Result<Vec<(i64, Vec<NewFinding>)>> {
        let items: Vec<Recording> = batch
            .iter()
            .map(|r| Recording {
                scan_id: None,
                target_id: r.target_id,
                inventory: r.inventory,
                inventory_id: Some(r.inventory_id),
                report: r.report,
                encoded: r.encoded,
                feed_version: r.feed_version,
                duration_ms: r.duration_ms,
            })
            .collect();
        let once = || async {
            let mut tx = self.write().await?;
            let (out, written) = self.record_in(&mut tx, &items).await?;
            tx.commit().await?;
            self.known.extend(written);
            Ok(out)
        };
        self.again_if_forgotten(once).await
    }

    /// The body of [`Store::record_scan`] and [`Store::record_rematches`]:
    /// everything but the commit, each kind of row for the whole batch at
    /// once. Returns each scan's id and new findings, and the hashes written
    /// (known once committed).
    async fn record_in(
        &self,
        tx: &mut Tx,
        items: &[Recording<'_>],
    ) -> Result<(Vec<(i64, Vec<NewFinding>)>, Vec<[u8; 32]>)> {
        let targets: Vec<i64> = items.iter().map(|i| i.target_id).collect();
        if targets.iter().collect::<HashSet<_>>().len() != targets.len() {
            return Err(StoreError::Invalid(
                "a batch of scans to record names a target twice".into(),
            ));
        }
        let mut prepared = Vec::with_capacity(items.len());
        for item in items {
            let inventory_id = match item.inventory_id {
                Some(id) => id,
                None => store_inventory(tx, item.inventory).await?,
            };
            let report = item.report;
            prepared.push(Prepared {
                item,
                set: FindingSet::of(&report.findings, &item.encoded.findings),
                inventory_id,
                pass: (report.stale_feeds.is_empty() && report.verdict.none.is_none())
                    .then_some(report.verdict.pass),
            });
        }

        // What is new, against each target's previous scan.
        let previous = previous_scans(tx, &targets).await?;
        let changed: Vec<&Previous> = prepared
            .iter()
            .filter_map(|p| {
                previous
                    .get(&p.item.target_id)
                    .filter(|prev| prev.finding_set.as_deref() != Some(&p.set.hash[..]))
            })
            .collect();
        let keys = self.sets_keys(tx, &changed).await?;
        let mut causes = Vec::with_capacity(prepared.len());
        for p in &prepared {
            let (feed_version, exposure) = (p.item.feed_version, p.item.report.exposure.as_str());
            causes.push(match previous.get(&p.item.target_id) {
                // The same findings as last time: nothing is new.
                Some(prev) if prev.finding_set.as_deref() == Some(&p.set.hash[..]) => Vec::new(),
                None => attribute(&p.set, None, feed_version, exposure),
                Some(prev) => {
                    let keys = prev
                        .finding_set
                        .as_ref()
                        .and_then(|h| keys.get(h))
                        .cloned()
                        .unwrap_or_default();
                    let packages = previous_packages(tx, prev, p.item.inventory).await?;
                    attribute(
                        &p.set,
                        Some((prev, &keys, &packages)),
                        feed_version,
                        exposure,
                    )
                }
            });
        }

        let sets: Vec<&FindingSet> = prepared.iter().map(|p| &p.set).collect();
        let written = self.write_sets(tx, &sets).await?;
        let ids = write_scans(tx, &prepared).await?;
        let rows: Vec<(i64, &str, Cause)> = ids
            .iter()
            .zip(&causes)
            .flat_map(|(id, c)| c.iter().map(move |(key, cause, _)| (*id, *key, *cause)))
            .collect();
        write_causes(tx, &rows).await?;
        let recorded: Vec<(i64, Vec<NewFinding>)> = ids
            .iter()
            .zip(causes)
            .map(|(id, c)| {
                let new = c
                    .into_iter()
                    .map(|(_, cause, finding)| NewFinding {
                        cause,
                        finding: finding.clone(),
                    })
                    .collect();
                (*id, new)
            })
            .collect();
        finished_events(tx, &prepared, &recorded).await?;
        Ok((recorded, written))
    }

    /// The keys of the given previous scans' finding sets (cached: sets
    /// never change), read in one query for those not cached.
    async fn sets_keys(
        &self,
        tx: &mut Tx,
        previous: &[&Previous],
    ) -> Result<HashMap<Vec<u8>, Arc<HashSet<String>>>> {
        let mut found = HashMap::new();
        let mut missing: Vec<&[u8]> = Vec::new();
        for h in previous.iter().filter_map(|p| p.finding_set.as_deref()) {
            match self.known.set_keys(h) {
                Some(k) => {
                    found.insert(h.to_vec(), k);
                }
                None if !missing.contains(&h) => missing.push(h),
                None => {}
            }
        }
        for chunk in missing.chunks(tx.max_params()) {
            let sql = format!(
                "SELECT set_hash, key FROM finding_set_members WHERE set_hash IN ({})",
                list(chunk.len())
            );
            let rows: Vec<(Vec<u8>, String)> = on_tx!(tx, |c| {
                let mut q = sqlx::query_as(&sql);
                for h in chunk {
                    q = q.bind(*h);
                }
                q.fetch_all(&mut *c).await?
            });
            let mut read: HashMap<Vec<u8>, HashSet<String>> = HashMap::new();
            for (h, key) in rows {
                read.entry(h).or_default().insert(key);
            }
            for h in chunk {
                let keys = Arc::new(read.remove(*h).unwrap_or_default());
                self.known.remember_set_keys(h, Arc::clone(&keys));
                found.insert(h.to_vec(), keys);
            }
        }
        Ok(found)
    }

    /// Writes finding sets and the bodies of their members, once each
    /// (multi-row inserts keep a batch's thousands of findings to tens of
    /// statements); the hashes written.
    async fn write_sets(&self, tx: &mut Tx, sets: &[&FindingSet<'_>]) -> Result<Vec<[u8; 32]>> {
        let mut written: Vec<[u8; 32]> = sets.iter().map(|s| s.hash).collect();
        let mut unknown: Vec<&FindingSet> = Vec::new();
        for s in sets {
            if !self.known.contains(&s.hash) && !unknown.iter().any(|u| u.hash == s.hash) {
                unknown.push(s);
            }
        }
        let mut new: HashSet<Vec<u8>> = HashSet::new();
        for chunk in unknown.chunks(tx.rows_per_statement(2)) {
            let sql = format!(
                "INSERT INTO finding_sets (hash, count) VALUES {} ON CONFLICT DO NOTHING RETURNING hash",
                values(chunk.len(), 2)
            );
            let inserted: Vec<Vec<u8>> = on_tx!(tx, |c| {
                let mut q = sqlx::query_scalar(&sql);
                for s in chunk {
                    q = q.bind(&s.hash[..]).bind(s.members.len() as i64);
                }
                q.fetch_all(&mut *c).await?
            });
            new.extend(inserted);
        }
        let new_sets: Vec<&FindingSet> = unknown
            .into_iter()
            .filter(|s| new.contains(&s.hash[..]))
            .collect();
        let mut seen = HashSet::new();
        let bodies: Vec<&Member> = new_sets
            .iter()
            .flat_map(|s| &s.members)
            .filter(|m| !self.known.contains(&m.body_hash) && seen.insert(m.body_hash))
            .collect();
        for chunk in bodies.chunks(tx.rows_per_statement(2)) {
            let sql = format!(
                "INSERT INTO finding_bodies (hash, body) VALUES {} ON CONFLICT DO NOTHING",
                values(chunk.len(), 2)
            );
            on_tx!(tx, |c| {
                let mut q = sqlx::query(&sql);
                for m in chunk {
                    q = q.bind(&m.body_hash[..]).bind(m.body);
                }
                q.execute(&mut *c).await.map(|r| r.rows_affected())?
            });
        }
        written.extend(bodies.iter().map(|m| m.body_hash));
        let members: Vec<(&[u8], &Member)> = new_sets
            .iter()
            .flat_map(|s| s.members.iter().map(|m| (&s.hash[..], m)))
            .collect();
        for chunk in members.chunks(tx.rows_per_statement(10)) {
            let sql = format!(
                "INSERT INTO finding_set_members (set_hash, key, vuln_id, package, version, severity, risk, kev, fixed_version, body_hash) VALUES {}",
                values(chunk.len(), 10)
            );
            on_tx!(tx, |c| {
                let mut q = sqlx::query(&sql);
                for (set_key, m) in chunk {
                    let f = m.finding;
                    q = q
                        .bind(*set_key)
                        .bind(m.key)
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

/// Each target's previous scan that matched advisories, by target.
async fn previous_scans(tx: &mut Tx, targets: &[i64]) -> Result<HashMap<i64, Previous>> {
    let mut found = HashMap::with_capacity(targets.len());
    for chunk in targets.chunks(tx.max_params()) {
        let sql = format!(
            "SELECT s.target_id, s.finding_set, s.digest, s.feed_version, s.exposure, s.inventory_id
             FROM scans s WHERE s.id IN (
               SELECT (SELECT p.id FROM scans p
                       WHERE p.target_id = t.id AND p.state = 'succeeded' AND p.report IS NOT NULL
                       ORDER BY p.finished_at DESC, p.id DESC LIMIT 1)
               FROM targets t WHERE t.id IN ({}))",
            list(chunk.len())
        );
        let rows: Vec<Previous> = on_tx!(tx, |c| {
            let mut q = sqlx::query_as(&sql);
            for t in chunk {
                q = q.bind(*t);
            }
            q.fetch_all(&mut *c).await?
        });
        found.extend(rows.into_iter().map(|p| (p.target_id, p)));
    }
    Ok(found)
}

/// Binds, in this order, what a judged scan records: `inventory_id,
/// digest, feed_version, exposure, verdict_pass, duration_ms, report,
/// finding_set` (a macro: the query is either database's).
macro_rules! bind_judged {
    ($q:expr, $p:expr) => {
        $q.bind($p.inventory_id)
            .bind(&$p.item.inventory.digest)
            .bind($p.item.feed_version)
            .bind($p.item.report.exposure.as_str())
            .bind($p.pass)
            .bind($p.item.duration_ms)
            .bind(&$p.item.encoded.summary)
            .bind(&$p.set.hash[..])
    };
}

/// Writes the scans of a batch: an UPDATE of each scan begun earlier, one
/// multi-row INSERT of the re-matches, begun and finished now. Their ids,
/// in the batch's order.
async fn write_scans(tx: &mut Tx, prepared: &[Prepared<'_>]) -> Result<Vec<i64>> {
    let now = crate::db::now();
    let mut ids: Vec<Option<i64>> = prepared.iter().map(|p| p.item.scan_id).collect();
    for p in prepared {
        let Some(scan_id) = p.item.scan_id else {
            continue;
        };
        on_tx!(tx, |c| {
            let q = sqlx::query(
                "UPDATE scans SET state = 'succeeded', finished_at = $1, inventory_id = $2, error = NULL,
                        digest = $3, feed_version = $4, exposure = $5, verdict_pass = $6,
                        duration_ms = $7, report = $8, finding_set = $9
                 WHERE id = $10",
            )
            .bind(now);
            bind_judged!(q, p)
                .bind(scan_id)
                .execute(&mut *c)
                .await
                .map(|r| r.rows_affected())?
        });
    }
    let fresh: Vec<&Prepared> = prepared
        .iter()
        .filter(|p| p.item.scan_id.is_none())
        .collect();
    let (pid, runner) = (i64::from(std::process::id()), crate::process::runner());
    let mut by_target = HashMap::with_capacity(fresh.len());
    for chunk in fresh.chunks(tx.rows_per_statement(15)) {
        let sql = format!(
            "INSERT INTO scans (target_id, state, started_at, finished_at, trigger, pid, runner,
                                inventory_id, digest, feed_version, exposure, verdict_pass,
                                duration_ms, report, finding_set)
             VALUES {} RETURNING id, target_id",
            values(chunk.len(), 15)
        );
        let rows: Vec<(i64, i64)> = on_tx!(tx, |c| {
            let mut q = sqlx::query_as(&sql);
            for p in chunk {
                q = q
                    .bind(p.item.target_id)
                    .bind("succeeded")
                    .bind(now)
                    .bind(now)
                    .bind(Trigger::Rematch.as_str())
                    .bind(pid)
                    .bind(runner.as_str());
                q = bind_judged!(q, p);
            }
            q.fetch_all(&mut *c).await?
        });
        by_target.extend(rows.into_iter().map(|(id, target)| (target, id)));
    }
    for (id, p) in ids.iter_mut().zip(prepared) {
        if id.is_none() {
            *id = by_target.get(&p.item.target_id).copied();
        }
    }
    ids.into_iter()
        .map(|id| {
            id.ok_or_else(|| StoreError::Corrupt("a re-match's scan row was not written".into()))
        })
        .collect()
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

/// The causes of new findings: (scan, finding key, cause).
async fn write_causes(tx: &mut Tx, rows: &[(i64, &str, Cause)]) -> Result<()> {
    for chunk in rows.chunks(tx.rows_per_statement(3)) {
        let sql = format!(
            "INSERT INTO scan_new_findings (scan_id, key, cause) VALUES {}",
            values(chunk.len(), 3)
        );
        on_tx!(tx, |c| {
            let mut q = sqlx::query(&sql);
            for (scan_id, key, cause) in chunk {
                q = q.bind(*scan_id).bind(*key).bind(cause.as_str());
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
    /// The set of `findings`, whose keys, bodies and hashes are `encoded`
    /// (in the same order).
    fn of(findings: &'a [Finding], encoded: &'a [Encoded]) -> Self {
        let mut members: Vec<Member> = Vec::with_capacity(findings.len());
        let mut seen = HashSet::new();
        for (f, (key, body, body_hash)) in findings.iter().zip(encoded) {
            if !seen.insert(key.as_str()) {
                continue;
            }
            members.push(Member {
                key,
                finding: f,
                body_hash: *body_hash,
                body,
            });
        }
        members.sort_by(|a, b| a.key.cmp(b.key));
        let mut h = Sha256::new();
        h.update(b"vedette finding set 1\0");
        for m in &members {
            h.update(m.key.as_bytes());
            h.update([0]);
            h.update(m.body_hash);
        }
        FindingSet {
            members,
            hash: h.finalize().into(),
        }
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
                Some((_, keys, _)) if keys.contains(m.key) => return None,
                Some((p, _, packages)) => cause_of(m.finding, p, packages, feed_version, exposure),
            };
            Some((m.key, cause, m.finding))
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

/// The events of recorded scans, each scan's `scan.finished`, then
/// `finding.new`, `policy.failed` and `feed.stale` when they apply; the
/// scans' subjects read in one query, the events written in a few.
async fn finished_events(
    tx: &mut Tx,
    prepared: &[Prepared<'_>],
    recorded: &[(i64, Vec<NewFinding>)],
) -> Result<()> {
    use serde_json::json;
    let ids: Vec<i64> = recorded.iter().map(|(id, _)| *id).collect();
    let subjects = crate::events::scan_subjects(tx, &ids).await?;
    let mut events = Vec::new();
    for (p, (scan_id, new)) in prepared.iter().zip(recorded) {
        let (report, pass) = (p.item.report, p.pass);
        let subject = subjects
            .get(scan_id)
            .ok_or_else(|| StoreError::Query(sqlx::Error::RowNotFound))?;
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
        events.push((
            EventKind::ScanFinished,
            crate::events::about(
                subject,
                json!({"verdict": verdict, "findings": report.findings.len(), "counts": counts,
                       "new": new.len(), "url": url}),
            ),
        ));
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
            events.push((
                EventKind::FindingNew,
                crate::events::about(subject, json!({"total": new.len(), "findings": listed})),
            ));
        }
        if pass == Some(false) {
            events.push((
                EventKind::PolicyFailed,
                crate::events::about(
                    subject,
                    json!({"failures": report.verdict.failures, "url": url}),
                ),
            ));
        }
        if !report.stale_feeds.is_empty() {
            events.push((
                EventKind::FeedStale,
                crate::events::about(subject, json!({"feeds": report.stale_feeds})),
            ));
        }
    }
    crate::events::emit_all(tx, &events).await
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
            target_id: 1,
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
        let (e1, e2) = (encode(&one).unwrap(), encode(&other).unwrap());
        let (x, y) = (FindingSet::of(&one, &e1), FindingSet::of(&other, &e2));
        assert_eq!(x.hash, y.hash);
        assert_eq!(y.members.len(), 2, "a duplicate key is one member");
        // A changed body (a new risk) is another set.
        let mut c = a.clone();
        c.risk = 41.0;
        let changed = [c, b];
        let e3 = encode(&changed).unwrap();
        assert_ne!(FindingSet::of(&changed, &e3).hash, x.hash);
    }

    #[test]
    fn new_findings_are_attributed_to_the_change_that_explains_them() {
        let findings = [
            finding("CVE-1", "perl", "2"),
            finding("CVE-2", "zlib", "1"),
            finding("CVE-3", "zlib", "1"),
        ];
        let encoded = encode(&findings).unwrap();
        let set = FindingSet::of(&findings, &encoded);
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

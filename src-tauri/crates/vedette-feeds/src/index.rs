//! Reading the index: what matching needs for one inventory, and the state
//! of each feed.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::Row;
use vedette_model::FeedInfo;

use crate::{FeedConfig, FeedStore, Result};

/// One package's entry in one advisory.
pub use vedette_osv::{AdvisoryRow, AdvisorySet, AffectedRow, KevEntry, NvdCvss};

const CHUNK: usize = 400;

fn placeholders(n: usize) -> String {
    let mut s = "?,".repeat(n);
    s.pop();
    s
}

fn advisory_from(row: &sqlx::sqlite::SqliteRow) -> AdvisoryRow {
    AdvisoryRow {
        id: row.get("id"),
        summary: row.get("summary"),
        aliases: serde_json::from_str(row.get::<&str, _>("aliases")).unwrap_or_default(),
        published: row.get("published"),
        modified: row.get("modified"),
        cvss3: row.get("cvss3"),
        cvss4: row.get("cvss4"),
        label: row.get("label"),
        vendor_severity: row.get("vendor_severity"),
        related: serde_json::from_str(row.get::<&str, _>("related")).unwrap_or_default(),
    }
}

fn kev_from(row: &sqlx::sqlite::SqliteRow) -> KevEntry {
    KevEntry {
        cve: row.get("cve"),
        date_added: row.get("date_added"),
        name: row.get("name"),
        ransomware: row.get("ransomware"),
    }
}

fn nvd_from(row: &sqlx::sqlite::SqliteRow) -> NvdCvss {
    NvdCvss {
        cve: row.get("cve"),
        version: row.get("version"),
        vector: row.get("vector"),
        score: row.get("score"),
        source: row.get("source"),
    }
}

fn affected_from(row: &sqlx::sqlite::SqliteRow) -> AffectedRow {
    AffectedRow {
        advisory_id: row.get("advisory_id"),
        ecosystem: row.get("ecosystem"),
        release: row.get("release"),
        name: row.get("name"),
        ranges: serde_json::from_str(row.get::<&str, _>("ranges")).unwrap_or_default(),
        versions: serde_json::from_str(row.get::<&str, _>("versions")).unwrap_or_default(),
        module: row.get("module"),
    }
}

impl FeedStore {
    /// Loads the advisories about the given (ecosystem, normalised name)
    /// keys, with the details and enrichment of every one of them. Matching
    /// needs details only for the records that match: [`Self::affected_for`]
    /// then [`Self::add_details`] reads far less.
    pub async fn advisories_for(&self, keys: &[(String, String)]) -> Result<AdvisorySet> {
        let mut set = self.affected_for(keys).await?;
        let ids: Vec<String> = set
            .affected
            .values()
            .flatten()
            .map(|r| r.advisory_id.clone())
            .collect();
        self.add_details(&mut set, &ids).await?;
        Ok(set)
    }

    /// The affected entries of the given (ecosystem, normalised name) keys:
    /// what range evaluation needs, nothing more.
    pub async fn affected_for(&self, keys: &[(String, String)]) -> Result<AdvisorySet> {
        let mut set = AdvisorySet::default();
        let mut conn = self.pool.acquire().await?;
        let mut by_eco: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (e, n) in keys {
            by_eco.entry(e.as_str()).or_default().push(n.as_str());
        }
        for (eco, names) in by_eco {
            for chunk in names.chunks(CHUNK) {
                let sql = format!(
                    "SELECT advisory_id, ecosystem, release, name, ranges, versions, module FROM affected WHERE ecosystem = ? AND name IN ({})",
                    placeholders(chunk.len())
                );
                let mut q = sqlx::query(&sql).bind(eco);
                for n in chunk {
                    q = q.bind(*n);
                }
                for row in q.fetch_all(&mut *conn).await? {
                    let r = affected_from(&row);
                    set.affected
                        .entry((r.ecosystem.clone(), r.name.clone()))
                        .or_default()
                        .push(r);
                }
            }
        }
        Ok(set)
    }

    /// Adds the records `ids` (summary, aliases, severity), the other
    /// records of their aliases, and KEV, EPSS and NVD for their CVEs.
    pub async fn add_details(&self, set: &mut AdvisorySet, ids: &[String]) -> Result<()> {
        let mut conn = self.pool.acquire().await?;
        let ids: Vec<String> = {
            let mut v: Vec<String> = ids.to_vec();
            v.sort();
            v.dedup();
            v
        };
        for chunk in ids.chunks(CHUNK) {
            let sql = format!(
                "SELECT id, summary, aliases, published, modified, cvss3, cvss4, label, vendor_severity, related FROM advisory WHERE id IN ({})",
                placeholders(chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(id);
            }
            for row in q.fetch_all(&mut *conn).await? {
                let a = advisory_from(&row);
                set.advisories.insert(a.id.clone(), a);
            }
        }
        // Every alias of the matched records, and the CVEs among them.
        let mut aliases: Vec<String> = set
            .advisories
            .values()
            .flat_map(|a| a.aliases.iter().cloned())
            .collect();
        aliases.sort();
        aliases.dedup();
        for chunk in aliases.chunks(CHUNK) {
            let sql = format!(
                "SELECT alias.alias AS via, a.id, a.summary, a.aliases, a.published, a.modified, a.cvss3, a.cvss4, a.label, a.vendor_severity, a.related
                 FROM alias JOIN advisory a ON a.id = alias.advisory_id WHERE alias.alias IN ({})",
                placeholders(chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for a in chunk {
                q = q.bind(a);
            }
            for row in q.fetch_all(&mut *conn).await? {
                let via: String = row.get("via");
                set.by_alias
                    .entry(via)
                    .or_default()
                    .push(advisory_from(&row));
            }
        }
        let related: Vec<String> = set
            .advisories
            .values()
            .flat_map(|a| a.related.iter().cloned())
            .collect();
        let mut cves: Vec<String> = aliases
            .iter()
            .chain(ids.iter())
            .chain(related.iter())
            .filter(|a| a.starts_with("CVE-"))
            .cloned()
            .collect();
        cves.sort();
        cves.dedup();
        for chunk in cves.chunks(CHUNK) {
            let ph = placeholders(chunk.len());
            let sql =
                format!("SELECT cve, date_added, name, ransomware FROM kev WHERE cve IN ({ph})");
            let mut q = sqlx::query(&sql);
            for c in chunk {
                q = q.bind(c);
            }
            for row in q.fetch_all(&mut *conn).await? {
                let e = kev_from(&row);
                set.kev.insert(e.cve.clone(), e);
            }
            let sql = format!("SELECT cve, score, percentile FROM epss WHERE cve IN ({ph})");
            let mut q = sqlx::query(&sql);
            for c in chunk {
                q = q.bind(c);
            }
            for row in q.fetch_all(&mut *conn).await? {
                set.epss
                    .insert(row.get("cve"), (row.get("score"), row.get("percentile")));
            }
            // The increments (the `modified` file) win over the yearly files.
            let sql = format!(
                "SELECT cve, version, vector, score, source FROM nvd WHERE cve IN ({ph}) ORDER BY (feed LIKE '%modified%') ASC"
            );
            let mut q = sqlx::query(&sql);
            for c in chunk {
                q = q.bind(c);
            }
            for row in q.fetch_all(&mut *conn).await? {
                let c = nvd_from(&row);
                set.nvd.insert(c.cve.clone(), c);
            }
        }
        Ok(())
    }

    /// The whole index in memory, for matching many inventories at once
    /// (re-matching every stored inventory after a feed update): one read,
    /// then every lookup is a hash probe.
    pub async fn load_all(&self) -> Result<AdvisorySet> {
        let mut set = AdvisorySet::default();
        let mut conn = self.pool.acquire().await?;
        let rows = sqlx::query(
            "SELECT advisory_id, ecosystem, release, name, ranges, versions, module FROM affected",
        )
        .fetch_all(&mut *conn)
        .await?;
        for row in rows {
            let r = affected_from(&row);
            set.affected
                .entry((r.ecosystem.clone(), r.name.clone()))
                .or_default()
                .push(r);
        }
        let rows = sqlx::query(
            "SELECT id, summary, aliases, published, modified, cvss3, cvss4, label, vendor_severity, related FROM advisory",
        )
        .fetch_all(&mut *conn)
        .await?;
        for row in rows {
            let a = advisory_from(&row);
            for alias in &a.aliases {
                set.by_alias
                    .entry(alias.clone())
                    .or_default()
                    .push(a.clone());
            }
            set.by_alias
                .entry(a.id.clone())
                .or_default()
                .push(a.clone());
            set.advisories.insert(a.id.clone(), a);
        }
        for row in sqlx::query("SELECT cve, date_added, name, ransomware FROM kev")
            .fetch_all(&mut *conn)
            .await?
        {
            let e = kev_from(&row);
            set.kev.insert(e.cve.clone(), e);
        }
        for row in sqlx::query("SELECT cve, score, percentile FROM epss")
            .fetch_all(&mut *conn)
            .await?
        {
            set.epss
                .insert(row.get("cve"), (row.get("score"), row.get("percentile")));
        }
        for row in sqlx::query("SELECT cve, version, vector, score, source FROM nvd ORDER BY (feed LIKE '%modified%') ASC")
            .fetch_all(&mut *conn)
            .await?
        {
            let c = nvd_from(&row);
            set.nvd.insert(c.cve.clone(), c);
        }
        Ok(set)
    }

    /// Every feed in the index, its age and whether it is past its limit.
    pub async fn status(&self, cfg: &FeedConfig) -> Result<Vec<FeedInfo>> {
        let rows = sqlx::query(
            "SELECT name, source, records, skipped, checked_at, updated_at, version FROM feed ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await?;
        let now = Utc::now();
        Ok(rows
            .into_iter()
            .map(|r| {
                let name: String = r.get("name");
                let checked_at: String = r.get("checked_at");
                let age_ms = DateTime::parse_from_rfc3339(&checked_at)
                    .map(|t| (now - t.with_timezone(&Utc)).num_milliseconds().max(0))
                    .unwrap_or(i64::MAX);
                let age = age_ms / 1000;
                let max_ms = cfg.max_age(&name).as_millis() as i64;
                let max = max_ms / 1000;
                FeedInfo {
                    source: r.get("source"),
                    records: r.get("records"),
                    skipped: serde_json::from_str(r.get::<&str, _>("skipped")).unwrap_or_default(),
                    checked_at,
                    updated_at: r.get("updated_at"),
                    version: r.get("version"),
                    age_seconds: age,
                    max_age_seconds: max,
                    stale: age_ms > max_ms,
                    name,
                }
            })
            .collect())
    }

    /// The URL the OSV feeds were last downloaded from (not offline imports),
    /// so a `--feed-url` given once sticks.
    pub async fn last_osv_base(&self) -> Result<Option<String>> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT source FROM feed WHERE name LIKE 'osv/%' AND source NOT LIKE 'file://%' ORDER BY checked_at DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.and_then(|(s,)| {
            s.strip_suffix("/all.zip")
                .and_then(|s| s.rsplit_once('/'))
                .map(|(base, _)| base.to_owned())
        }))
    }
}

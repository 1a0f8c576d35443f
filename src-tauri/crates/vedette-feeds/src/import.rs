//! Downloading and importing feeds: each feed is read completely (and
//! validated) first, then swapped into the index in one transaction.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::Utc;
use flate2::read::GzDecoder;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use std::collections::{HashMap, HashSet};

use crate::fetch::{fetch, Fetched, Retry};
use crate::osv::{self, Parsed, Skip};
use crate::{
    FeedConfig, FeedError, FeedOutcome, FeedStore, Outcome, Refresh, Result, SourceFailure,
};

/// The outcome of a source not tried because it failed lately.
fn skipped(feed: &str, url: &str, f: &SourceFailure) -> FeedOutcome {
    FeedOutcome {
        feed: feed.to_owned(),
        source: url.to_owned(),
        outcome: Outcome::Skipped {
            reason: format!(
                "{} did not answer at {} ({}); it is tried again after {}",
                f.source,
                f.failed_at.format("%H:%M UTC"),
                f.error,
                f.retry_at.format("%H:%M UTC")
            ),
        },
    }
}

type Tx<'c> = sqlx::Transaction<'c, sqlx::Sqlite>;

fn json<T: serde::Serialize>(v: &T, empty: &str) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| empty.to_owned())
}

/// Replaces an OSV feed's records, their affected entries and aliases;
/// how many records.
async fn swap_osv(tx: &mut Tx<'_>, feed: &str, records: Vec<Parsed>) -> Result<i64> {
    for table in ["advisory", "affected", "alias"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE feed = ?"))
            .bind(feed)
            .execute(&mut **tx)
            .await?;
    }
    let n = records.len() as i64;
    let mut advisories = Vec::with_capacity(records.len());
    let mut aliases = Vec::new();
    let mut affected = Vec::new();
    for p in records {
        for alias in std::iter::once(&p.id).chain(p.aliases.iter()) {
            aliases.push(vec![
                Val::Text(alias.clone()),
                Val::Text(p.id.clone()),
                Val::Text(feed.to_owned()),
            ]);
        }
        for a in &p.affected {
            affected.push(vec![
                Val::Text(p.id.clone()),
                Val::Text(feed.to_owned()),
                Val::Text(a.ecosystem.clone()),
                Val::Text(a.release.clone()),
                Val::Text(a.name.clone()),
                Val::Text(json(&a.ranges, "[]")),
                Val::Text(json(&a.versions, "[]")),
                Val::Text(a.module.clone()),
            ]);
        }
        advisories.push(vec![
            Val::Text(json(&p.aliases, "[]")),
            Val::Text(json(&p.related, "[]")),
            Val::Text(p.id),
            Val::Text(feed.to_owned()),
            Val::Text(p.summary),
            Val::Opt(p.published),
            Val::Text(p.modified),
            Val::Opt(p.cvss3),
            Val::Opt(p.cvss4),
            Val::Opt(p.label),
            Val::Opt(p.vendor_severity),
        ]);
    }
    insert_many(tx, "INSERT OR REPLACE INTO advisory (aliases, related, id, feed, summary, published, modified, cvss3, cvss4, label, vendor_severity)", advisories).await?;
    insert_many(tx, "INSERT INTO alias (alias, advisory_id, feed)", aliases).await?;
    insert_many(tx, "INSERT INTO affected (advisory_id, feed, ecosystem, release, name, ranges, versions, module)", affected).await?;
    Ok(n)
}

async fn swap_kev(tx: &mut Tx<'_>, entries: Vec<crate::KevEntry>) -> Result<i64> {
    sqlx::query("DELETE FROM kev").execute(&mut **tx).await?;
    let n = entries.len() as i64;
    let rows = entries
        .into_iter()
        .map(|e| {
            vec![
                Val::Text(e.cve),
                Val::Text(e.date_added),
                Val::Text(e.name),
                Val::Text(e.ransomware),
            ]
        })
        .collect();
    insert_many(
        tx,
        "INSERT OR REPLACE INTO kev (cve, date_added, name, ransomware)",
        rows,
    )
    .await?;
    Ok(n)
}

async fn swap_epss(tx: &mut Tx<'_>, rows: Vec<(String, f64, f64)>) -> Result<i64> {
    sqlx::query("DELETE FROM epss").execute(&mut **tx).await?;
    let n = rows.len() as i64;
    let rows = rows
        .into_iter()
        .map(|(cve, score, pct)| vec![Val::Text(cve), Val::Real(score), Val::Real(pct)])
        .collect();
    insert_many(
        tx,
        "INSERT OR REPLACE INTO epss (cve, score, percentile)",
        rows,
    )
    .await?;
    Ok(n)
}

/// Replaces what one NVD file said (the yearly files and `modified` are
/// feeds of their own).
async fn swap_nvd(tx: &mut Tx<'_>, feed: &str, rows: Vec<crate::NvdCvss>) -> Result<i64> {
    sqlx::query("DELETE FROM nvd WHERE feed = ?")
        .bind(feed)
        .execute(&mut **tx)
        .await?;
    let n = rows.len() as i64;
    let rows = rows
        .into_iter()
        .map(|c| {
            vec![
                Val::Text(c.cve),
                Val::Text(c.version),
                Val::Text(c.vector),
                Val::Real(c.score),
                Val::Text(c.source),
                Val::Text(feed.to_owned()),
            ]
        })
        .collect();
    insert_many(
        tx,
        "INSERT OR REPLACE INTO nvd (cve, version, vector, score, source, feed)",
        rows,
    )
    .await?;
    Ok(n)
}

/// A feed's row as a swap leaves it.
struct FeedRow<'a> {
    feed: &'a str,
    source: &'a str,
    etag: Option<&'a str>,
    last_modified: Option<&'a str>,
    records: i64,
    skipped: &'a BTreeMap<String, i64>,
    version: &'a str,
}

/// Records a feed's new state; `updated_at` moves only when its content
/// (the version) changed.
async fn record_feed(tx: &mut Tx<'_>, r: &FeedRow<'_>) -> Result<()> {
    let now = Utc::now().to_rfc3339();
    sqlx::query(
        "INSERT INTO feed (name, source, etag, last_modified, records, skipped, checked_at, updated_at, version)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(name) DO UPDATE SET source = excluded.source, etag = excluded.etag,
           last_modified = excluded.last_modified, records = excluded.records, skipped = excluded.skipped,
           checked_at = excluded.checked_at,
           updated_at = CASE WHEN feed.version = excluded.version THEN feed.updated_at ELSE excluded.updated_at END,
           version = excluded.version",
    )
    .bind(r.feed)
    .bind(r.source)
    .bind(r.etag)
    .bind(r.last_modified)
    .bind(r.records)
    .bind(json(r.skipped, "{}"))
    .bind(&now)
    .bind(&now)
    .bind(r.version)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A feed read into memory, ready to be swapped in.
pub(crate) enum Loaded {
    Osv {
        ecosystem: String,
        records: Vec<Parsed>,
        skipped: BTreeMap<String, i64>,
    },
    Kev(Vec<crate::KevEntry>),
    Epss(Vec<(String, f64, f64)>),
    Nvd(Vec<crate::NvdCvss>),
}

impl Loaded {
    fn name(&self, file_name: &str) -> String {
        match self {
            Loaded::Osv { ecosystem, .. } => format!("osv/{ecosystem}"),
            Loaded::Kev(_) => "kev".into(),
            Loaded::Epss(_) => "epss".into(),
            Loaded::Nvd(_) => format!("nvd/{file_name}"),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Osv,
    Kev,
    Epss,
    Nvd,
}

fn corrupt(what: &Path, kind: &'static str, reason: impl ToString) -> FeedError {
    FeedError::Corrupt {
        what: what.display().to_string(),
        kind,
        reason: reason.to_string(),
    }
}

/// Reads an OSV export zip: every entry parsed, bad ones counted.
pub(crate) fn read_osv_zip(path: &Path) -> Result<Loaded> {
    let file = std::fs::File::open(path).map_err(|e| FeedError::Io {
        path: path.to_owned(),
        source: e,
    })?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| corrupt(path, "zip archive", e))?;
    let mut records = Vec::with_capacity(zip.len());
    let mut skipped = BTreeMap::new();
    let mut ecosystems: BTreeMap<String, usize> = BTreeMap::new();
    let mut buf = Vec::new();
    for i in 0..zip.len() {
        let mut entry = zip
            .by_index(i)
            .map_err(|e| corrupt(path, "zip archive", e))?;
        let name = entry.name().map(|n| n.into_owned()).unwrap_or_default();
        if entry.is_dir() || !name.ends_with(".json") {
            continue;
        }
        buf.clear();
        // A record over 16 MiB is not an advisory.
        if entry.size() > 16 << 20 {
            *skipped
                .entry("record larger than 16 MiB".into())
                .or_default() += 1;
            continue;
        }
        (&mut entry)
            .take(16 << 20)
            .read_to_end(&mut buf)
            .map_err(|e| corrupt(path, "zip archive", format!("{name}: {e}")))?;
        match osv::parse(&buf, &mut skipped) {
            Ok(p) => {
                for a in &p.affected {
                    *ecosystems.entry(a.ecosystem.clone()).or_default() += 1;
                }
                records.push(p);
            }
            Err(Skip::Withdrawn) => *skipped.entry("withdrawn".into()).or_default() += 1,
            Err(Skip::NotSecurity) => {
                *skipped
                    .entry("a bug fix or enhancement erratum, not a security advisory".into())
                    .or_default() += 1
            }
            Err(Skip::Malformed(e)) => {
                tracing::debug!("{name}: {e}");
                *skipped.entry("malformed record".into()).or_default() += 1;
            }
        }
    }
    let ecosystem = ecosystems
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .map(|(e, _)| e)
        .ok_or_else(|| corrupt(path, "OSV export", "no record names a known ecosystem"))?;
    Ok(Loaded::Osv {
        ecosystem,
        records,
        skipped,
    })
}

#[derive(Deserialize)]
struct KevDoc {
    vulnerabilities: Vec<KevVuln>,
}
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KevVuln {
    #[serde(rename = "cveID")]
    cve_id: String,
    date_added: String,
    #[serde(default)]
    vulnerability_name: String,
    #[serde(default)]
    known_ransomware_campaign_use: String,
}

pub(crate) fn read_kev(path: &Path) -> Result<Loaded> {
    let bytes = std::fs::read(path).map_err(|e| FeedError::Io {
        path: path.to_owned(),
        source: e,
    })?;
    let doc: KevDoc =
        serde_json::from_slice(&bytes).map_err(|e| corrupt(path, "CISA KEV catalogue", e))?;
    Ok(Loaded::Kev(
        doc.vulnerabilities
            .into_iter()
            .map(|v| crate::KevEntry {
                cve: v.cve_id,
                date_added: v.date_added,
                name: v.vulnerability_name,
                ransomware: v.known_ransomware_campaign_use,
            })
            .collect(),
    ))
}

fn maybe_gunzip(path: &Path) -> Result<Box<dyn Read>> {
    let mut f = std::fs::File::open(path).map_err(|e| FeedError::Io {
        path: path.to_owned(),
        source: e,
    })?;
    let mut magic = [0u8; 2];
    let n = f.read(&mut magic).map_err(|e| FeedError::Io {
        path: path.to_owned(),
        source: e,
    })?;
    let f = std::fs::File::open(path).map_err(|e| FeedError::Io {
        path: path.to_owned(),
        source: e,
    })?;
    Ok(if n == 2 && magic == [0x1f, 0x8b] {
        Box::new(GzDecoder::new(std::io::BufReader::new(f)))
    } else {
        Box::new(std::io::BufReader::new(f))
    })
}

/// EPSS: `#model_version:…,score_date:…`, then `cve,epss,percentile`.
pub(crate) fn read_epss(path: &Path) -> Result<Loaded> {
    let mut text = String::new();
    maybe_gunzip(path)?
        .read_to_string(&mut text)
        .map_err(|e| corrupt(path, "EPSS CSV", e))?;
    let body: String = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    let mut rdr = csv::Reader::from_reader(body.as_bytes());
    let headers = rdr
        .headers()
        .map_err(|e| corrupt(path, "EPSS CSV", e))?
        .clone();
    let col = |n: &str| headers.iter().position(|h| h.trim() == n);
    let (Some(c), Some(s), Some(p)) = (col("cve"), col("epss"), col("percentile")) else {
        return Err(corrupt(
            path,
            "EPSS CSV",
            "expected the columns cve, epss, percentile",
        ));
    };
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| corrupt(path, "EPSS CSV", e))?;
        let (Some(cve), Some(score), Some(pct)) = (rec.get(c), rec.get(s), rec.get(p)) else {
            continue;
        };
        if let (Ok(score), Ok(pct)) = (score.trim().parse::<f64>(), pct.trim().parse::<f64>()) {
            if (0.0..=1.0).contains(&score) && (0.0..=1.0).contains(&pct) {
                out.push((cve.trim().to_owned(), score, pct));
            }
        }
    }
    if out.is_empty() {
        return Err(corrupt(path, "EPSS CSV", "no scores in it"));
    }
    Ok(Loaded::Epss(out))
}

#[derive(Deserialize)]
struct NvdDoc {
    vulnerabilities: Vec<NvdItem>,
}
#[derive(Deserialize)]
struct NvdItem {
    cve: NvdCve,
}
#[derive(Deserialize)]
struct NvdCve {
    id: String,
    /// cvssMetricV31, cvssMetricV40, …, and others (SSVC) that are not CVSS.
    #[serde(default)]
    metrics: BTreeMap<String, serde_json::Value>,
}
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NvdMetric {
    #[serde(default)]
    source: String,
    #[serde(rename = "type", default)]
    kind: String,
    cvss_data: NvdCvssData,
}
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NvdCvssData {
    version: String,
    vector_string: String,
    base_score: f64,
}

/// NVD 2.0 JSON feed (gzip or not): the best CVSS of each CVE. v3.1, then
/// v3.0, then v4.0; NVD's own ("Primary") before a CNA's ("Secondary").
pub(crate) fn read_nvd(path: &Path) -> Result<Loaded> {
    let doc: NvdDoc = serde_json::from_reader(maybe_gunzip(path)?)
        .map_err(|e| corrupt(path, "NVD 2.0 JSON feed", e))?;
    let mut out = Vec::new();
    for item in doc.vulnerabilities {
        let mut best: Option<(u8, crate::NvdCvss)> = None;
        for (key, rank) in [
            ("cvssMetricV31", 0u8),
            ("cvssMetricV30", 2),
            ("cvssMetricV40", 4),
        ] {
            let list = item
                .cve
                .metrics
                .get(key)
                .and_then(serde_json::Value::as_array);
            for m in list.into_iter().flatten() {
                let Ok(m) = NvdMetric::deserialize(m) else {
                    continue;
                };
                let r = rank + u8::from(m.kind != "Primary");
                if best.as_ref().is_none_or(|(b, _)| r < *b) {
                    best = Some((
                        r,
                        crate::NvdCvss {
                            cve: item.cve.id.clone(),
                            version: m.cvss_data.version.clone(),
                            vector: m.cvss_data.vector_string.clone(),
                            score: m.cvss_data.base_score,
                            source: m.source.clone(),
                        },
                    ));
                }
            }
        }
        if let Some((_, c)) = best {
            out.push(c);
        }
    }
    Ok(Loaded::Nvd(out))
}

fn read(kind: Kind, path: &Path) -> Result<Loaded> {
    match kind {
        Kind::Osv => read_osv_zip(path),
        Kind::Kev => read_kev(path),
        Kind::Epss => read_epss(path),
        Kind::Nvd => read_nvd(path),
    }
}

fn sha256_file(path: &Path) -> Result<String> {
    let mut f = std::fs::File::open(path).map_err(|e| FeedError::Io {
        path: path.to_owned(),
        source: e,
    })?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h).map_err(|e| FeedError::Io {
        path: path.to_owned(),
        source: e,
    })?;
    Ok(hex::encode(h.finalize()))
}

/// What kind of feed file this is, by its name.
fn kind_of(path: &Path) -> Option<Kind> {
    let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
    if name.ends_with(".zip") {
        Some(Kind::Osv)
    } else if name.starts_with("nvdcve") && (name.ends_with(".json.gz") || name.ends_with(".json"))
    {
        Some(Kind::Nvd)
    } else if name.contains("known_exploited") && name.ends_with(".json") {
        Some(Kind::Kev)
    } else if name.contains("epss") && (name.ends_with(".csv.gz") || name.ends_with(".csv")) {
        Some(Kind::Epss)
    } else {
        None
    }
}

impl FeedStore {
    async fn record_check(&self, feed: &str, source: &str) -> Result<()> {
        sqlx::query("UPDATE feed SET checked_at = ?, source = ? WHERE name = ?")
            .bind(Utc::now().to_rfc3339())
            .bind(source)
            .bind(feed)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn validators(&self, feed: &str) -> Result<(Option<String>, Option<String>)> {
        let row: Option<(Option<String>, Option<String>)> =
            sqlx::query_as("SELECT etag, last_modified FROM feed WHERE name = ?")
                .bind(feed)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.unwrap_or((None, None)))
    }

    /// Swaps a loaded feed into the index in one transaction.
    pub(crate) async fn swap(
        &self,
        loaded: Loaded,
        feed: &str,
        source: &str,
        etag: Option<&str>,
        last_modified: Option<&str>,
        version: &str,
    ) -> Result<Outcome> {
        // IMMEDIATE: enrichment feeds are swapped in at the same time.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let (records, skipped) = match loaded {
            Loaded::Osv {
                records, skipped, ..
            } => (swap_osv(&mut tx, feed, records).await?, skipped),
            Loaded::Kev(entries) => (swap_kev(&mut tx, entries).await?, BTreeMap::new()),
            Loaded::Epss(rows) => (swap_epss(&mut tx, rows).await?, BTreeMap::new()),
            Loaded::Nvd(rows) => (swap_nvd(&mut tx, feed, rows).await?, BTreeMap::new()),
        };
        let row = FeedRow {
            feed,
            source,
            etag,
            last_modified,
            records,
            skipped: &skipped,
            version,
        };
        record_feed(&mut tx, &row).await?;
        tx.commit().await?;
        Ok(Outcome::Updated { records, skipped })
    }

    /// Downloads one feed if it changed, and swaps it in.
    async fn update_one(
        &self,
        cfg: &FeedConfig,
        feed: &str,
        url: &str,
        kind: Kind,
        retry: Retry,
    ) -> FeedOutcome {
        let outcome = match self
            .try_update_one(feed, url, cfg.auth_for(url), kind, retry)
            .await
        {
            Ok(o) => o,
            Err(e) => Outcome::Failed {
                error: e.to_string(),
            },
        };
        FeedOutcome {
            feed: feed.to_owned(),
            source: url.to_owned(),
            outcome,
        }
    }

    async fn try_update_one(
        &self,
        feed: &str,
        url: &str,
        auth: Option<&crate::MirrorAuth>,
        kind: Kind,
        retry: Retry,
    ) -> Result<Outcome> {
        let (etag, lm) = self.validators(feed).await?;
        let temp_dir = self.path.parent().unwrap_or(Path::new(".")).to_owned();
        match fetch(
            &self.client,
            url,
            auth,
            etag.as_deref(),
            lm.as_deref(),
            &temp_dir,
            retry,
        )
        .await?
        {
            Fetched::NotModified => {
                self.record_check(feed, url).await?;
                Ok(Outcome::NotModified)
            }
            Fetched::Missing => Ok(Outcome::Missing),
            Fetched::New {
                file,
                etag,
                last_modified,
                sha256,
            } => {
                let path = file.path().to_owned();
                let loaded = tokio::task::spawn_blocking(move || read(kind, &path))
                    .await
                    .map_err(|e| FeedError::Invalid(format!("import task failed: {e}")))?
                    .map_err(|e| match e {
                        FeedError::Corrupt { kind, reason, .. } => FeedError::Corrupt {
                            what: format!("the download from {url}"),
                            kind,
                            reason,
                        },
                        other => other,
                    })?;
                if let (Kind::Osv, Loaded::Osv { ecosystem, .. }) = (kind, &loaded) {
                    let want = feed.trim_start_matches("osv/");
                    if ecosystem != want {
                        return Err(FeedError::Corrupt {
                            what: format!("the download from {url}"),
                            kind: "OSV export",
                            reason: format!("it holds {ecosystem} advisories, not {want}"),
                        });
                    }
                }
                let out = self
                    .swap(
                        loaded,
                        feed,
                        url,
                        etag.as_deref(),
                        last_modified.as_deref(),
                        &sha256,
                    )
                    .await?;
                drop(file);
                Ok(out)
            }
        }
    }

    /// Brings the given OSV ecosystems and the enrichment feeds up to date,
    /// both at once.
    pub async fn update(
        &self,
        cfg: &FeedConfig,
        ecosystems: &[String],
        refresh: Refresh,
    ) -> Vec<FeedOutcome> {
        let (mut out, enrichment) = tokio::join!(
            self.update_osv(cfg, ecosystems, refresh.only_stale),
            self.update_enrichment(cfg, refresh)
        );
        out.extend(enrichment);
        out
    }

    /// The names of the feeds younger than their limit.
    async fn fresh(&self, cfg: &FeedConfig, only_stale: bool) -> HashSet<String> {
        if !only_stale {
            return HashSet::new();
        }
        self.status(cfg)
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|f| !f.stale)
            .map(|f| f.name)
            .collect()
    }

    /// Brings the given OSV ecosystems up to date, one after another, each
    /// with the configured retries: a scan needs them.
    pub async fn update_osv(
        &self,
        cfg: &FeedConfig,
        ecosystems: &[String],
        only_stale: bool,
    ) -> Vec<FeedOutcome> {
        let fresh = self.fresh(cfg, only_stale).await;
        let mut out = Vec::new();
        for e in ecosystems {
            let feed = format!("osv/{e}");
            if !fresh.contains(&feed) {
                out.push(
                    self.update_one(cfg, &feed, &cfg.osv_url(e), Kind::Osv, cfg.retry)
                        .await,
                );
            }
        }
        out
    }

    /// Brings KEV, EPSS and NVD up to date, all three at once. A scan can do
    /// without them, so a source that refuses or stalls gets one connection,
    /// not retries: its failure is remembered, and (with `skip_failed`) the
    /// source is not tried again before `cfg.source_retry_after` has passed.
    /// NVD's files: the first alone, then, if it answered, the others four at
    /// a time.
    pub async fn update_enrichment(&self, cfg: &FeedConfig, refresh: Refresh) -> Vec<FeedOutcome> {
        let fresh = self.fresh(cfg, refresh.only_stale).await;
        let failed: HashMap<String, SourceFailure> = if refresh.skip_failed {
            self.source_failures(cfg)
                .await
                .unwrap_or_default()
                .into_iter()
                .filter(|f| f.retry_at > Utc::now())
                .map(|f| (f.source.clone(), f))
                .collect()
        } else {
            HashMap::new()
        };
        // A scan can do without these: one connection, and a source that
        // does not begin to answer within 10 s is given up on.
        let once = Retry {
            unreachable: false,
            first_byte: cfg.retry.first_byte.min(std::time::Duration::from_secs(10)),
            ..cfg.retry
        };
        let (kev, epss, nvd) = tokio::join!(
            self.update_source(cfg, "kev", &cfg.kev_url, Kind::Kev, once, &fresh, &failed),
            self.update_source(
                cfg,
                "epss",
                &cfg.epss_url,
                Kind::Epss,
                once,
                &fresh,
                &failed
            ),
            self.update_nvd(cfg, once, &fresh, &failed)
        );
        kev.into_iter().chain(epss).chain(nvd).collect()
    }

    /// One enrichment source of one file (KEV, EPSS).
    #[allow(clippy::too_many_arguments)]
    async fn update_source(
        &self,
        cfg: &FeedConfig,
        source: &str,
        url: &str,
        kind: Kind,
        retry: Retry,
        fresh: &HashSet<String>,
        failed: &HashMap<String, SourceFailure>,
    ) -> Option<FeedOutcome> {
        if url.is_empty() || fresh.contains(source) {
            return None;
        }
        if let Some(f) = failed.get(source) {
            return Some(skipped(source, url, f));
        }
        let o = self.update_one(cfg, source, url, kind, retry).await;
        self.remember(source, std::slice::from_ref(&o)).await;
        Some(o)
    }

    /// NVD's files: the first alone; when it answered, the others four at a
    /// time; when it did not, none (the source is down).
    async fn update_nvd(
        &self,
        cfg: &FeedConfig,
        retry: Retry,
        fresh: &HashSet<String>,
        failed: &HashMap<String, SourceFailure>,
    ) -> Vec<FeedOutcome> {
        let files: Vec<(String, String)> = cfg
            .nvd_urls
            .iter()
            .map(|u| {
                (
                    format!("nvd/{}", u.rsplit('/').next().unwrap_or(u)),
                    u.clone(),
                )
            })
            .filter(|(feed, _)| !fresh.contains(feed))
            .collect();
        let Some(((first_feed, first_url), rest)) = files.split_first() else {
            return Vec::new();
        };
        if let Some(f) = failed.get("nvd") {
            return files
                .iter()
                .map(|(feed, url)| skipped(feed, url, f))
                .collect();
        }
        let mut out = vec![
            self.update_one(cfg, first_feed, first_url, Kind::Nvd, retry)
                .await,
        ];
        if let Some(error) = out[0].error().map(str::to_owned) {
            let f = SourceFailure {
                source: "nvd".into(),
                failed_at: Utc::now(),
                error,
                retry_at: Utc::now(),
            };
            out.extend(rest.iter().map(|(feed, url)| skipped(feed, url, &f)));
        } else {
            for chunk in rest.chunks(4) {
                let mut batch = Vec::with_capacity(chunk.len());
                for (feed, url) in chunk {
                    batch.push(self.update_one(cfg, feed, url, Kind::Nvd, retry));
                }
                out.extend(futures_util::future::join_all(batch).await);
            }
        }
        self.remember("nvd", &out).await;
        out
    }

    /// Records how a source's last try went: a failure is remembered, a
    /// success forgets the failure.
    async fn remember(&self, source: &str, outcomes: &[FeedOutcome]) {
        let result = match outcomes.iter().find_map(FeedOutcome::error) {
            Some(error) => {
                sqlx::query(
                    "INSERT INTO source_failure (source, failed_at, error) VALUES (?, ?, ?)
                     ON CONFLICT(source) DO UPDATE SET failed_at = excluded.failed_at, error = excluded.error",
                )
                .bind(source)
                .bind(Utc::now().to_rfc3339())
                .bind(error)
                .execute(&self.pool)
                .await
            }
            None if outcomes.iter().any(|o| {
                matches!(o.outcome, Outcome::Updated { .. } | Outcome::NotModified)
            }) =>
            {
                sqlx::query("DELETE FROM source_failure WHERE source = ?")
                    .bind(source)
                    .execute(&self.pool)
                    .await
            }
            None => return,
        };
        if let Err(e) = result {
            tracing::warn!("cannot record how feed source {source} answered: {e}");
        }
    }

    /// Enrichment sources whose last try failed, and when each is tried again.
    pub async fn source_failures(&self, cfg: &FeedConfig) -> Result<Vec<SourceFailure>> {
        let rows: Vec<(String, String, String)> =
            sqlx::query_as("SELECT source, failed_at, error FROM source_failure ORDER BY source")
                .fetch_all(&self.pool)
                .await?;
        let after = chrono::Duration::from_std(cfg.source_retry_after)
            .unwrap_or(chrono::Duration::hours(1));
        Ok(rows
            .into_iter()
            .filter_map(|(source, at, error)| {
                let failed_at = chrono::DateTime::parse_from_rfc3339(&at)
                    .ok()?
                    .with_timezone(&Utc);
                Some(SourceFailure {
                    source,
                    failed_at,
                    error,
                    retry_at: failed_at + after,
                })
            })
            .collect())
    }

    /// Imports offline bundles: OSV export zips, the KEV JSON, EPSS CSV and
    /// NVD feed files, or directories holding them.
    pub async fn import_paths(&self, paths: &[PathBuf]) -> Result<Vec<FeedOutcome>> {
        let mut files = Vec::new();
        for p in paths {
            let meta = std::fs::metadata(p).map_err(|e| FeedError::Io {
                path: p.clone(),
                source: e,
            })?;
            if meta.is_dir() {
                let mut found = Vec::new();
                walk(p, &mut found);
                found.sort();
                let n = found.len();
                files.extend(
                    found
                        .into_iter()
                        .filter_map(|f| kind_of(&f).map(|k| (f, k))),
                );
                if files.is_empty() && n > 0 {
                    return Err(FeedError::Invalid(format!(
                        "{} holds no feed files (OSV *.zip, known_exploited_vulnerabilities.json, epss*.csv.gz, nvdcve-2.0-*.json.gz)",
                        p.display()
                    )));
                }
            } else {
                let k = kind_of(p).ok_or_else(|| {
                    FeedError::Invalid(format!(
                        "{} is not a feed file Vedette knows (OSV *.zip, known_exploited_vulnerabilities.json, epss*.csv.gz, nvdcve-2.0-*.json.gz)",
                        p.display()
                    ))
                })?;
                files.push((p.clone(), k));
            }
        }
        // NVD increments last, so they win over the yearly files.
        files.sort_by_key(|(p, k)| {
            (
                *k == Kind::Nvd && p.to_string_lossy().contains("modified"),
                p.clone(),
            )
        });
        let mut out = Vec::new();
        for (path, kind) in files {
            let source = format!(
                "file://{}",
                std::path::absolute(&path).unwrap_or(path.clone()).display()
            );
            let p2 = path.clone();
            let loaded = tokio::task::spawn_blocking(move || read(kind, &p2))
                .await
                .map_err(|e| FeedError::Invalid(format!("import task failed: {e}")));
            let file_name = path
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            let outcome = match loaded.and_then(|l| l) {
                Err(e) => FeedOutcome {
                    feed: file_name.clone(),
                    source,
                    outcome: Outcome::Failed {
                        error: e.to_string(),
                    },
                },
                Ok(loaded) => {
                    let feed = loaded.name(&file_name);
                    let version = sha256_file(&path)?;
                    let outcome = match self
                        .swap(loaded, &feed, &source, None, None, &version)
                        .await
                    {
                        Ok(o) => o,
                        Err(e) => Outcome::Failed {
                            error: e.to_string(),
                        },
                    };
                    FeedOutcome {
                        feed,
                        source,
                        outcome,
                    }
                }
            };
            out.push(outcome);
        }
        Ok(out)
    }
}

/// A value to bind.
enum Val {
    Text(String),
    Opt(Option<String>),
    Real(f64),
}

/// Inserts rows with multi-row `INSERT … VALUES (…), (…)` statements: one
/// statement per few hundred rows instead of one per row.
async fn insert_many(
    tx: &mut sqlx::SqliteConnection,
    head: &str,
    rows: Vec<Vec<Val>>,
) -> Result<()> {
    let Some(width) = rows.first().map(Vec::len) else {
        return Ok(());
    };
    // SQLite allows 32766 parameters per statement.
    let per = (30_000 / width).clamp(1, 500);
    let one = format!("({})", vec!["?"; width].join(","));
    let mut it = rows.into_iter().peekable();
    while it.peek().is_some() {
        let chunk: Vec<Vec<Val>> = it.by_ref().take(per).collect();
        let sql = format!(
            "{head} VALUES {}",
            vec![one.as_str(); chunk.len()].join(",")
        );
        let mut q = sqlx::query(&sql);
        for row in chunk {
            for v in row {
                q = match v {
                    Val::Text(t) => q.bind(t),
                    Val::Opt(t) => q.bind(t),
                    Val::Real(r) => q.bind(r),
                };
            }
        }
        q.execute(&mut *tx).await?;
    }
    Ok(())
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        match e.file_type() {
            Ok(t) if t.is_dir() => walk(&p, out),
            Ok(t) if t.is_file() => out.push(p),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, alias: &str, name: &str) -> Parsed {
        let json = format!(
            r#"{{"id":"{id}","modified":"2026-01-01T00:00:00Z","aliases":["{alias}"],
            "affected":[{{"package":{{"ecosystem":"PyPI","name":"{name}"}},"ranges":[{{"type":"ECOSYSTEM","events":[{{"introduced":"0"}},{{"fixed":"2"}}]}}]}}]}}"#
        );
        match crate::osv::parse(json.as_bytes(), &mut BTreeMap::new()) {
            Ok(p) => p,
            Err(_) => panic!("{json}"),
        }
    }

    fn osv(records: Vec<Parsed>) -> Loaded {
        Loaded::Osv {
            ecosystem: "PyPI".into(),
            records,
            skipped: BTreeMap::new(),
        }
    }

    #[tokio::test]
    async fn a_swap_replaces_a_feed_whole_and_dates_only_a_change_of_content() {
        let dir = tempfile::tempdir().unwrap();
        let feeds = FeedStore::open_in(dir.path()).await.unwrap();
        let both = vec![
            record("PYSEC-1", "CVE-1", "a"),
            record("PYSEC-2", "CVE-2", "b"),
        ];
        feeds
            .swap(osv(both), "osv/PyPI", "file:///x", None, None, "v1")
            .await
            .unwrap();
        let keys = [
            ("PyPI".to_owned(), "a".to_owned()),
            ("PyPI".to_owned(), "b".to_owned()),
        ];
        assert_eq!(feeds.affected_for(&keys).await.unwrap().affected.len(), 2);
        let first = feeds.status(&FeedConfig::default()).await.unwrap()[0].clone();

        // The next export lost PYSEC-2: it is gone, with its alias.
        feeds
            .swap(
                osv(vec![record("PYSEC-1", "CVE-1", "a")]),
                "osv/PyPI",
                "file:///x",
                None,
                None,
                "v1",
            )
            .await
            .unwrap();
        let set = feeds.affected_for(&keys).await.unwrap();
        assert_eq!(set.affected.len(), 1);
        let mut with_details = set.clone();
        feeds
            .add_details(&mut with_details, &["PYSEC-1".to_owned()])
            .await
            .unwrap();
        assert!(!with_details.by_alias.contains_key("CVE-2"));
        let second = feeds.status(&FeedConfig::default()).await.unwrap()[0].clone();
        assert_eq!(second.records, 1);
        // Same version string: the content did not change, `updated_at` stays.
        assert_eq!(second.updated_at, first.updated_at);
        feeds
            .swap(osv(vec![]), "osv/PyPI", "file:///x", None, None, "v2")
            .await
            .unwrap();
        let third = feeds.status(&FeedConfig::default()).await.unwrap()[0].clone();
        assert!(third.updated_at >= second.updated_at);
        assert_eq!(third.version, "v2");
    }
}

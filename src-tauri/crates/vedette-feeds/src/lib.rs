//! Advisory feeds and the local advisory index.
//!
//! OSV exports (`<base>/<Ecosystem>/all.zip`, one JSON record per advisory)
//! are downloaded per ecosystem in use, with conditional requests and
//! retries, or imported from offline bundles; CISA KEV, EPSS and NVD enrich
//! them. Everything lands in `feeds.db`, one SQLite transaction per feed: a
//! failed or cut download leaves that feed exactly as it was. A malformed
//! record, an unknown ecosystem or a version its scheme cannot read is
//! skipped and counted, never aborting the import.

mod fetch;
mod import;
mod index;
mod osv;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

pub use fetch::Retry;
pub use index::{AdvisoryRow, AdvisorySet, AffectedRow, KevEntry, NvdCvss};
pub use osv::{is_modular_release, normalize_name, range_scheme, split_ecosystem, Event, Range};

/// Reads one OSV record as an import does: the number of affected entries
/// kept, and the reasons others were skipped; an error for a record that is
/// withdrawn or not a record. (Exposed for the fuzzer and for tools.)
pub fn parse_osv_record(
    bytes: &[u8],
) -> std::result::Result<(usize, std::collections::BTreeMap<String, i64>), String> {
    let mut skipped = std::collections::BTreeMap::new();
    match osv::parse(bytes, &mut skipped) {
        Ok(p) => Ok((p.affected.len(), skipped)),
        Err(osv::Skip::Withdrawn) => Err("withdrawn".into()),
        Err(osv::Skip::NotSecurity) => Err("not a security advisory".into()),
        Err(osv::Skip::Malformed(e)) => Err(e),
    }
}

/// File name of the advisory index inside the data directory.
pub const DB_FILE: &str = "feeds.db";

/// The public OSV export.
pub const DEFAULT_OSV_BASE: &str = "https://osv-vulnerabilities.storage.googleapis.com";
pub const DEFAULT_KEV_URL: &str =
    "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json";
pub const DEFAULT_EPSS_URL: &str = "https://epss.empiricalsecurity.com/epss_scores-current.csv.gz";
pub const DEFAULT_NVD_BASE: &str = "https://nvd.nist.gov/feeds/json/cve/2.0";

/// The ecosystems Vedette downloads when they are in use.
/// Spelled as the OSV schema's `ecosystems.json` spells them.
pub const OSV_ECOSYSTEMS: [&str; 22] = [
    "Debian",
    "Ubuntu",
    "Alpine",
    "Wolfi",
    "Chainguard",
    "AlmaLinux",
    "Rocky Linux",
    "Red Hat",
    "SUSE",
    "openSUSE",
    "Mageia",
    "openEuler",
    "Azure Linux",
    "Photon OS",
    "PyPI",
    "npm",
    "Go",
    "crates.io",
    "Maven",
    "RubyGems",
    "NuGet",
    "Packagist",
];

#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("cannot open the advisory index at {path}: {source}. Check that the data directory is writable, or choose another with --data-dir")]
    Open {
        path: PathBuf,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot bring the advisory index at {path} up to date: {source}. Delete it to rebuild it from the feeds")]
    Migrate {
        path: PathBuf,
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    #[error("advisory index query failed: {0}")]
    Query(#[from] sqlx::Error),
    #[error("cannot download {url}: {reason}. Check the feed URL (--feed-url / VEDETTE_FEED_URL) and the network, or import an offline bundle with `vedette feed import`")]
    Download { url: String, reason: String },
    #[error("{what} is not a valid {kind}: {reason}. Nothing was changed; download it again or check the file")]
    Corrupt {
        what: String,
        kind: &'static str,
        reason: String,
    },
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T, E = FeedError> = std::result::Result<T, E>;

/// Feed settings as a user gives them (the CLI's flags, or the environment
/// variables both the CLI and the desktop app read). `None` keeps the
/// default; "none" (or empty) skips an enrichment feed.
#[derive(Debug, Clone, Default)]
pub struct FeedSources {
    pub osv_base: Option<String>,
    pub kev_url: Option<String>,
    pub epss_url: Option<String>,
    /// Comma-separated.
    pub nvd_urls: Option<String>,
    /// "24h", "90m", "7d".
    pub osv_max_age: Option<String>,
    /// How long an enrichment source that failed is left alone ("1h").
    pub source_retry_after: Option<String>,
}

impl FeedSources {
    /// `VEDETTE_FEED_URL`, `VEDETTE_KEV_URL`, `VEDETTE_EPSS_URL`,
    /// `VEDETTE_NVD_URL`, `VEDETTE_FEED_MAX_AGE`, `VEDETTE_SOURCE_RETRY_AFTER`.
    pub fn from_env() -> Self {
        let var = |k: &str| std::env::var(k).ok();
        Self {
            osv_base: var("VEDETTE_FEED_URL"),
            kev_url: var("VEDETTE_KEV_URL"),
            epss_url: var("VEDETTE_EPSS_URL"),
            nvd_urls: var("VEDETTE_NVD_URL"),
            osv_max_age: var("VEDETTE_FEED_MAX_AGE"),
            source_retry_after: var("VEDETTE_SOURCE_RETRY_AFTER"),
        }
    }

    /// The configuration these settings give; the OSV base defaults to the
    /// last one used with this index. Errors name the setting (as the CLI
    /// spells it) and what to write instead.
    pub async fn resolve(&self, store: &FeedStore) -> std::result::Result<FeedConfig, String> {
        // Userinfo is taken out of every URL before it goes anywhere; it is
        // used for this process's requests and never kept.
        let mut auth: Vec<MirrorAuth> = Vec::new();
        let mut strip = |setting: &str, url: &str| -> String {
            let (clean, cred) = vedette_model::strip_userinfo(url.trim());
            if let Some(c) = cred {
                tracing::warn!(
                    "{setting} carried a user name and password: they were removed from it and are used by this run only (Vedette keeps secrets in the keyring only: `vedette credential add --feed-mirror {} --username {}` stores them there)",
                    vedette_model::url_origin(&clean).unwrap_or_else(|| clean.clone()),
                    c.username
                );
                if let Some(origin) = vedette_model::url_origin(&clean) {
                    auth.push(MirrorAuth {
                        origin,
                        username: c.username,
                        secret: c.password,
                    });
                }
            }
            clean
        };
        let osv_base = match &self.osv_base {
            Some(u) => strip("--feed-url", u).trim_end_matches('/').to_owned(),
            None => strip(
                "the last feed URL used",
                &store
                    .last_osv_base()
                    .await
                    .map_err(|e| e.to_string())?
                    .unwrap_or_else(|| DEFAULT_OSV_BASE.to_owned()),
            ),
        };
        if !(osv_base.starts_with("http://") || osv_base.starts_with("https://")) {
            return Err(format!(
                "--feed-url {osv_base} is not an http(s) URL; for files on disk use `vedette feed import PATH`"
            ));
        }
        let mut url_or_none =
            |setting: &str, v: &Option<String>, default: &str| match v.as_deref().map(str::trim) {
                Some("none") | Some("") => String::new(),
                Some(u) => strip(setting, u),
                None => default.to_owned(),
            };
        let kev_url = url_or_none("--kev-url", &self.kev_url, DEFAULT_KEV_URL);
        let epss_url = url_or_none("--epss-url", &self.epss_url, DEFAULT_EPSS_URL);
        let nvd_urls = match self.nvd_urls.as_deref().map(str::trim) {
            Some("none") | Some("") => Some(Vec::new()),
            Some(list) => Some(
                list.split(',')
                    .map(|s| s.trim())
                    .filter(|s| !s.is_empty())
                    .map(|s| strip("--nvd-url", s))
                    .collect(),
            ),
            None => None,
        };
        let mut cfg = FeedConfig {
            osv_base,
            kev_url,
            epss_url,
            auth,
            ..FeedConfig::default()
        };
        if let Some(n) = nvd_urls {
            cfg.nvd_urls = n;
        }
        if let Some(age) = &self.osv_max_age {
            cfg.osv_max_age = humantime::parse_duration(age.trim()).map_err(|e| {
                format!("--feed-max-age {age}: {e}; write a duration such as 90m, 24h or 7d")
            })?;
        }
        if let Some(after) = &self.source_retry_after {
            cfg.source_retry_after = humantime::parse_duration(after.trim()).map_err(|e| {
                format!("--source-retry-after {after}: {e}; write a duration such as 10m or 1h")
            })?;
        }
        Ok(cfg)
    }
}

/// Where feeds come from and how old each may be.
#[derive(Debug, Clone)]
pub struct FeedConfig {
    /// Base of the OSV export: `<base>/<Ecosystem>/all.zip`.
    pub osv_base: String,
    /// CISA KEV JSON; empty to skip.
    pub kev_url: String,
    /// EPSS gzip CSV; empty to skip.
    pub epss_url: String,
    /// NVD 2.0 JSON feed files (gzip); empty to skip.
    pub nvd_urls: Vec<String>,
    pub osv_max_age: Duration,
    pub kev_max_age: Duration,
    pub epss_max_age: Duration,
    pub nvd_max_age: Duration,
    pub retry: Retry,
    /// How long an enrichment source that failed is left alone.
    pub source_retry_after: Duration,
    /// Credentials of private mirrors, by origin (from the keyring, or taken
    /// out of a URL for this run).
    pub auth: Vec<MirrorAuth>,
}

/// HTTP basic credentials for one mirror origin (`https://mirror:8443`).
#[derive(Debug, Clone)]
pub struct MirrorAuth {
    pub origin: String,
    pub username: String,
    pub secret: vedette_model::Sensitive<String>,
}

impl FeedConfig {
    /// The credentials for a request to `url`, if its origin has some.
    pub fn auth_for(&self, url: &str) -> Option<&MirrorAuth> {
        let origin = vedette_model::url_origin(url)?;
        self.auth.iter().find(|a| a.origin == origin)
    }
}

impl Default for FeedConfig {
    fn default() -> Self {
        FeedConfig {
            osv_base: DEFAULT_OSV_BASE.into(),
            kev_url: DEFAULT_KEV_URL.into(),
            epss_url: DEFAULT_EPSS_URL.into(),
            nvd_urls: default_nvd_urls(chrono::Utc::now()),
            osv_max_age: Duration::from_secs(24 * 3600),
            kev_max_age: Duration::from_secs(48 * 3600),
            epss_max_age: Duration::from_secs(48 * 3600),
            nvd_max_age: Duration::from_secs(7 * 24 * 3600),
            retry: Retry::default(),
            source_retry_after: Duration::from_secs(3600),
            auth: Vec::new(),
        }
    }
}

/// NVD's yearly files from 2002 to this year, then `modified` (the
/// increments, imported last so they win).
pub fn default_nvd_urls(now: chrono::DateTime<chrono::Utc>) -> Vec<String> {
    use chrono::Datelike;
    let mut v: Vec<String> = (2002..=now.year())
        .map(|y| format!("{DEFAULT_NVD_BASE}/nvdcve-2.0-{y}.json.gz"))
        .collect();
    v.push(format!("{DEFAULT_NVD_BASE}/nvdcve-2.0-modified.json.gz"));
    v
}

impl FeedConfig {
    /// The staleness limit of a feed by its name.
    pub fn max_age(&self, feed: &str) -> Duration {
        if feed.starts_with("osv/") {
            self.osv_max_age
        } else if feed == "kev" {
            self.kev_max_age
        } else if feed == "epss" {
            self.epss_max_age
        } else {
            self.nvd_max_age
        }
    }

    pub fn osv_url(&self, ecosystem: &str) -> String {
        format!(
            "{}/{}/all.zip",
            self.osv_base.trim_end_matches('/'),
            ecosystem.replace(' ', "%20")
        )
    }
}

/// The advisory index; cheap to clone.
#[derive(Clone, Debug)]
pub struct FeedStore {
    pool: SqlitePool,
    path: PathBuf,
    client: reqwest::Client,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

impl FeedStore {
    /// Opens (creating if needed) `feeds.db` inside `data_dir`.
    pub async fn open_in(data_dir: &Path) -> Result<Self> {
        Self::open(&data_dir.join(DB_FILE)).await
    }

    pub async fn open(path: &Path) -> Result<Self> {
        let opts = SqliteConnectOptions::from_str("sqlite://")
            .map_err(|e| FeedError::Open {
                path: path.to_owned(),
                source: e,
            })?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(30))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts)
            .await
            .map_err(|e| FeedError::Open {
                path: path.to_owned(),
                source: e,
            })?;
        MIGRATOR.run(&pool).await.map_err(|e| FeedError::Migrate {
            path: path.to_owned(),
            source: e,
        })?;
        scrub_sources(&pool).await?;
        let client = reqwest::Client::builder()
            .user_agent(concat!("vedette/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .read_timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| FeedError::Invalid(format!("cannot set up HTTP: {e}")))?;
        Ok(FeedStore {
            pool,
            path: path.to_owned(),
            client,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub async fn close(self) {
        self.pool.close().await;
    }
}

/// Takes the userinfo out of feed sources an older Vedette stored with it
/// (`https://user:token@mirror/…`): the index keeps no secret.
async fn scrub_sources(pool: &SqlitePool) -> Result<()> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT name, source FROM feed WHERE source LIKE '%@%'")
            .fetch_all(pool)
            .await?;
    for (name, source) in rows {
        let (clean, cred) = vedette_model::strip_userinfo(&source);
        if cred.is_some() {
            sqlx::query("UPDATE feed SET source = ? WHERE name = ?")
                .bind(&clean)
                .bind(&name)
                .execute(pool)
                .await?;
        }
    }
    Ok(())
}

/// What happened to one feed in an update or import.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Updated {
        records: i64,
        skipped: std::collections::BTreeMap<String, i64>,
    },
    NotModified,
    /// The source has no such file (an ecosystem the mirror does not carry).
    Missing,
    Failed {
        error: String,
    },
    /// Not tried: the source failed lately (`reason` says when, and when it
    /// is tried again).
    Skipped {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FeedOutcome {
    pub feed: String,
    pub source: String,
    #[serde(flatten)]
    pub outcome: Outcome,
}

impl FeedOutcome {
    pub fn failed(&self) -> bool {
        matches!(self.outcome, Outcome::Failed { .. })
    }

    pub fn error(&self) -> Option<&str> {
        match &self.outcome {
            Outcome::Failed { error } => Some(error),
            _ => None,
        }
    }
}

/// How an update treats fresh feeds and sources that failed lately.
#[derive(Debug, Clone, Copy, Default)]
pub struct Refresh {
    /// Skip feeds younger than their limit.
    pub only_stale: bool,
    /// Skip an enrichment source that failed less than
    /// [`FeedConfig::source_retry_after`] ago.
    pub skip_failed: bool,
}

/// An enrichment source whose last try failed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SourceFailure {
    /// `kev`, `epss`, `nvd`.
    pub source: String,
    pub failed_at: chrono::DateTime<chrono::Utc>,
    pub error: String,
    /// When scans try it again (`vedette feed update` tries at once).
    pub retry_at: chrono::DateTime<chrono::Utc>,
}

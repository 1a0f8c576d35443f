//! The use-case layer: what every front end (the CLI, the desktop window,
//! the automation API) does, each use case written once here. Front ends
//! parse their input, call one function and format what it returns; none
//! of them reaches the engine or the feeds but through this crate.
//!
//! Opening a data directory ([`App::open`]), scanning now ([`App::scan_now`],
//! [`App::scan_watched`]), targets, schedules, history and trends, feeds,
//! credentials, the dashboard and `vedette doctor`. Errors are [`AppError`]:
//! typed, with the `{code, message}` the window and the API return.

mod background;
mod database;
mod ecr;
mod error;
mod feeds;
mod history;
mod hosts;
mod metrics;
mod nodes;
mod notify;
mod policy;
mod scan;
mod schedules;
mod targets;
mod tokens;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use background::BACKGROUND_SCANS;
pub use database::{copy_history, migrate};
pub use error::{AppError, Result};
pub use feeds::{FeedOutcome, FeedSources, Feeds, Outcome, SourceFailure, OSV_ECOSYSTEMS};
pub use history::{TrendScope, TrendsOf};
pub use hosts::{hosts_of_ssh_config, Imported};
pub use nodes::{ENROL_PREFIX, GATE_POLICY_FILE, NODE_PREFIX};
pub use notify::{delivery_word, AddedChannel, NewChannel, MAX_ATTEMPTS};
pub use policy::{
    exceptions_from_vex, import_vex, read_policy, to_vex, validate_policy, Exception, GateSeverity,
    Policy, POLICY_FILE,
};
pub use scan::{CancellationToken, LayerProgress, Progress, ScanOptions, ScanTarget, Scanned};
pub use schedules::{
    alarms, serve_schedules, work_queue, CronSchedule, Events, LockError, RunSummary,
    SchedulerLock, TargetResult,
};
pub use targets::{TargetFilter, TargetSettings};
pub use tokens::TOKEN_PREFIX;
pub use vedette_cloud::AwsAccount;
pub use vedette_cloud::{
    feed_mirror_origin, normalize_registry_host, HostSecret, KeyringSecrets, MemorySecrets,
    SecretBackend,
};
pub use vedette_model::HostKeyState;
pub use vedette_scheduler::Context as SchedulerContext;
pub use vedette_sources::registry::Credential as RegistryCredential;
pub use vedette_store::{resolve_data_dir, Database, DATABASE_ENV};

use vedette_cloud::Credentials;
use vedette_model::{parse_bytes, AppOverview, Check, DoctorReport, ScanLimits};
use vedette_sources::registry::{docker_config, Credential};
use vedette_store::{Store, StoreError};

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot create the data directory {path}: {source}. Choose a writable one with --data-dir or VEDETTE_DATA_DIR")]
    DataDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A limit set in the environment does not read.
    #[error("{0}")]
    Setting(String),
}

/// The scan queue's settings on a shared database: the lease a worker holds
/// a job for without renewing it (`VEDETTE_JOB_LEASE_SECONDS`, 30) and the
/// claims of a job before it fails (`VEDETTE_JOB_ATTEMPTS`, 3).
fn queue_settings() -> Result<vedette_scheduler::QueueSettings, String> {
    let mut q = vedette_scheduler::QueueSettings::default();
    let read = |name: &str| -> Result<Option<u64>, String> {
        match std::env::var(name) {
            Ok(v) => v
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|n| *n > 0)
                .map(Some)
                .ok_or_else(|| format!("{name}={v} is not a positive whole number")),
            Err(_) => Ok(None),
        }
    };
    if let Some(s) = read("VEDETTE_JOB_LEASE_SECONDS")? {
        q.lease = std::time::Duration::from_secs(s);
    }
    if let Some(n) = read("VEDETTE_JOB_ATTEMPTS")? {
        q.max_attempts = u32::try_from(n).unwrap_or(u32::MAX);
    }
    Ok(q)
}

/// Scans interrupted this many times in a row put their target in
/// quarantine (`VEDETTE_QUARANTINE_AFTER`; 0 turns quarantine off).
pub const QUARANTINE_AFTER: u32 = 3;

/// The limits of a scan as the environment sets them (each limit's
/// variable, see [`ScanLimits`]), over the defaults. The CLI's flags are
/// applied on top of these.
pub fn limits_from_env() -> Result<ScanLimits, String> {
    let mut l = ScanLimits::default();
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let bytes = |setting: vedette_model::LimitSetting, into: &mut u64| -> Result<(), String> {
        if let Some(v) = var(setting.env) {
            *into = parse_bytes(&v).map_err(|e| format!("{}: {e}", setting.env))?;
        }
        Ok(())
    };
    bytes(ScanLimits::MEMORY, &mut l.max_kept_bytes)?;
    bytes(ScanLimits::FILE, &mut l.max_file_bytes)?;
    bytes(ScanLimits::LAYER, &mut l.max_layer_bytes)?;
    bytes(ScanLimits::ARCHIVE, &mut l.max_archive_bytes)?;
    if let Some(v) = var(ScanLimits::ENTRIES.env) {
        l.max_entries =
            v.trim().parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                format!("{}: '{v}' is not a number above 0", ScanLimits::ENTRIES.env)
            })?;
    }
    let duration = |setting: vedette_model::LimitSetting, into: &mut std::time::Duration| {
        if let Some(v) = var(setting.env) {
            *into = parse_duration(&v).map_err(|e| format!("{}: {e}", setting.env))?;
        }
        Ok::<(), String>(())
    };
    duration(ScanLimits::TIMEOUT, &mut l.timeout)?;
    duration(ScanLimits::HTTP_TIMEOUT, &mut l.http_timeout)?;
    Ok(l)
}

/// `30m`, `90s`, `2h`: a duration above zero.
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(s.trim())
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("'{s}' is not a duration above zero; write it as 90s, 30m or 2h"))
}

fn quarantine_after() -> Result<u32, OpenError> {
    match std::env::var("VEDETTE_QUARANTINE_AFTER") {
        Ok(v) if !v.trim().is_empty() => v.trim().parse().map_err(|_| {
            OpenError::Setting(format!(
                "VEDETTE_QUARANTINE_AFTER: '{v}' is not a number of interrupted scans (0 turns quarantine off)"
            ))
        }),
        _ => Ok(QUARANTINE_AFTER),
    }
}

/// An open data directory: the database and the services on it.
#[derive(Clone)]
pub struct App {
    data_dir: PathBuf,
    store: Store,
    credentials: Credentials,
    secrets: Arc<dyn SecretBackend>,
    running: vedette_scan::Running,
    /// Wakes this process's scheduler when schedules or targets changed.
    wake: Arc<tokio::sync::Notify>,
    background: Arc<background::Background>,
    /// The advisory index, opened once per process ([`App::feeds`]).
    feed_store: Arc<tokio::sync::OnceCell<vedette_feeds::FeedStore>>,
    /// Where this process serves the API: messages link back there.
    link_base: Arc<std::sync::RwLock<Option<String>>>,
}

impl App {
    /// Creates the data directory if needed, opens the database (applying
    /// migrations) and marks scans a previous process left running as interrupted.
    pub async fn open(data_dir: &Path, secrets: Arc<dyn SecretBackend>) -> Result<Self, OpenError> {
        Self::open_on(data_dir, &Database::chosen(None, data_dir)?, secrets).await
    }

    /// As [`App::open`], with the history in `database` (`--database`: a
    /// team's PostgreSQL) instead of the data directory's SQLite file. The
    /// data directory still holds the advisory index and the logs.
    pub async fn open_on(
        data_dir: &Path,
        database: &Database,
        secrets: Arc<dyn SecretBackend>,
    ) -> Result<Self, OpenError> {
        std::fs::create_dir_all(data_dir).map_err(|source| OpenError::DataDir {
            path: data_dir.to_owned(),
            source,
        })?;
        let store = Store::connect(database).await?;
        let (interrupted, quarantined) = store.mark_interrupted_scans(quarantine_after()?).await?;
        if interrupted > 0 {
            tracing::warn!(
                interrupted,
                "scans left running by a previous run were marked interrupted"
            );
        }
        for t in &quarantined {
            tracing::warn!(
                "{} is quarantined: its last scans were all interrupted; it is not scanned automatically until retried (`vedette target retry`)",
                t.name
            );
        }
        Ok(Self {
            data_dir: data_dir.to_owned(),
            credentials: Credentials::new(store.clone(), Arc::clone(&secrets)),
            store,
            secrets,
            running: vedette_scan::Running::default(),
            wake: Arc::default(),
            background: Arc::default(),
            feed_store: Arc::default(),
            link_base: Arc::default(),
        })
    }

    /// Closes the databases (the history and the advisory index), letting
    /// SQLite fold its write-ahead logs back.
    pub async fn close(&self) {
        if let Some(f) = self.feed_store.get() {
            f.clone().close().await;
        }
        self.store.close().await;
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The scheduler's lock of this history: the data dir's lock file, or
    /// on a shared PostgreSQL the database's lock (one scheduler across
    /// every machine).
    pub async fn scheduler_lock(&self) -> Result<SchedulerLock, LockError> {
        SchedulerLock::acquire_for(&self.data_dir, &self.store).await
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// The scan use case over this data dir, for the CLI, the window and
    /// the scheduler alike: registry credentials from
    /// [`App::registry_credential`], plain-HTTP registries from
    /// `VEDETTE_INSECURE_REGISTRIES` (comma-separated hosts), the scan
    /// limits given, and `temp_dir` as the only place a scan writes.
    pub fn scanner(
        &self,
        feeds: vedette_feeds::FeedStore,
        feed_config: vedette_feeds::FeedConfig,
        limits: ScanLimits,
        temp_dir: &Path,
    ) -> vedette_scan::Scanner {
        let app = self.clone();
        let credentials: vedette_scan::CredentialLookup = Arc::new(move |host: String| {
            let app = app.clone();
            Box::pin(async move { app.registry_credential(&host).await })
        });
        let insecure_registries = std::env::var("VEDETTE_INSECURE_REGISTRIES")
            .unwrap_or_default()
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect();
        let mut feed_config = feed_config;
        feed_config.retry.timeout = limits.http_timeout;
        vedette_scan::Scanner {
            store: self.store.clone(),
            feeds,
            feed_config,
            credentials: Some(credentials),
            cloud: Some(Arc::new(ecr::EcrListing(self.clone()))),
            hosts: Some(self.host_access()),
            temp_dir: temp_dir.to_owned(),
            limits,
            attempts: 3,
            backoff: std::time::Duration::from_secs(5),
            insecure_registries,
            running: self.running.clone(),
        }
    }

    /// The scans running in this process (to cancel one by id).
    pub fn running(&self) -> &vedette_scan::Running {
        &self.running
    }

    /// Tells this process's scheduler that schedules or targets changed.
    pub(crate) fn schedules_changed(&self) {
        self.wake.notify_one();
    }

    /// A scheduler context over this data dir, for `vedette serve`, `schedule
    /// run` and the desktop app alike: the [`App::scanner`] with the limits
    /// the environment sets, and a private temp dir (returned: it lives as
    /// long as the caller keeps it).
    pub fn scheduler_context(
        &self,
        feeds: vedette_feeds::FeedStore,
        feed_config: vedette_feeds::FeedConfig,
        events: Arc<dyn vedette_scheduler::Events>,
    ) -> Result<(vedette_scheduler::Context, tempfile::TempDir), OpenError> {
        let temp = tempfile::Builder::new()
            .prefix("vedette-scheduler-")
            .tempdir()
            .map_err(|e| OpenError::Setting(format!("cannot create a private temp dir: {e}")))?;
        let limits = limits_from_env().map_err(OpenError::Setting)?;
        let defaults = vedette_scheduler::Limits::default();
        let run_limits = vedette_scheduler::Limits {
            hosts: crate::hosts::parallel_hosts().map_err(OpenError::Setting)?,
            // Scans at once in this process, and against one registry (on
            // a shared database, counted across every worker).
            global: crate::hosts::count_from_env("VEDETTE_SCANS", defaults.global)
                .map_err(OpenError::Setting)?,
            per_registry: crate::hosts::count_from_env(
                "VEDETTE_REGISTRY_SCANS",
                defaults.per_registry,
            )
            .map_err(OpenError::Setting)?,
        };
        Ok((
            vedette_scheduler::Context {
                scanner: self.scanner(feeds, feed_config, limits, temp.path()),
                limits: run_limits,
                events,
                wake: Arc::clone(&self.wake),
                paused: Default::default(),
                cancel: Default::default(),
                policy_file: Some(self.policy_file()),
                queue: if self.store.shares_queue() {
                    Some(queue_settings().map_err(OpenError::Setting)?)
                } else {
                    None
                },
            },
            temp,
        ))
    }

    /// The feed configuration these settings give, with the credentials of
    /// the private mirrors it names (from the keyring): the one way the CLI,
    /// the window and `vedette serve` make it.
    pub async fn feed_config(
        &self,
        sources: &vedette_feeds::FeedSources,
        feeds: &vedette_feeds::FeedStore,
    ) -> Result<vedette_feeds::FeedConfig, String> {
        let mut cfg = sources.resolve(feeds).await?;
        let mirrors = match self.credentials.list().await {
            Ok(list) => list,
            Err(e) => {
                tracing::warn!("cannot list the stored credentials: {e}");
                Vec::new()
            }
        };
        let urls: Vec<String> = std::iter::once(cfg.osv_base.clone())
            .chain([cfg.kev_url.clone(), cfg.epss_url.clone()])
            .chain(cfg.nvd_urls.iter().cloned())
            .collect();
        for m in mirrors
            .into_iter()
            .filter(|m| m.kind == vedette_model::CredentialKind::FeedMirror)
        {
            let used = urls
                .iter()
                .any(|u| vedette_model::url_origin(u).as_deref() == Some(m.host.as_str()));
            if !used || cfg.auth.iter().any(|a| a.origin == m.host) {
                continue;
            }
            match self.credentials.secret(&m.name).await {
                Ok(Some(secret)) => cfg.auth.push(vedette_feeds::MirrorAuth {
                    origin: m.host,
                    username: m.username,
                    secret,
                }),
                Ok(None) => tracing::warn!("the keyring has no secret for {}", m.name),
                Err(e) => tracing::warn!("{e}"),
            }
        }
        Ok(cfg)
    }

    /// The credential for a registry: `VEDETTE_REGISTRY_USERNAME` and
    /// `VEDETTE_REGISTRY_PASSWORD` when both are set (a one-shot scan in CI),
    /// else the keyring, then Docker's config, then Podman's `auth.json`.
    /// None of them having one means an anonymous pull.
    pub async fn registry_credential(&self, registry: &str) -> Option<Credential> {
        let registry = &vedette_model::canonical_registry_host(registry);
        if let (Ok(username), Ok(password)) = (
            std::env::var("VEDETTE_REGISTRY_USERNAME"),
            std::env::var("VEDETTE_REGISTRY_PASSWORD"),
        ) {
            if !username.is_empty() {
                return Some(Credential {
                    username,
                    secret: vedette_model::Sensitive::new(password),
                });
            }
        }
        if let Some(region) = ecr::ecr_region(registry) {
            match self.ecr_credential(registry, region).await {
                Ok(Some(c)) => return Some(c),
                Ok(None) => {}
                Err(e) => tracing::warn!(
                    "{registry} is an ECR registry, but no pull token could be had: {e}; trying the other credentials"
                ),
            }
        }
        if let Some(c) = self.stored_registry_credential(registry).await {
            return Some(c);
        }
        for path in docker_config::podman_paths() {
            match docker_config::lookup(&path, registry) {
                Ok(Some(c)) => return Some(c),
                Ok(None) => {}
                Err(e) => tracing::warn!("{}: {e}", path.display()),
            }
        }
        None
    }

    /// The keyring's credential for a registry, then Docker's config's.
    async fn stored_registry_credential(&self, registry: &str) -> Option<Credential> {
        let name = vedette_model::registry_credential_name(registry);
        let stored = self
            .credentials
            .list()
            .await
            .ok()?
            .into_iter()
            .find(|c| c.name == name);
        if let Some(info) = stored {
            match self.credentials.secret(&name).await {
                Ok(Some(secret)) => {
                    return Some(Credential {
                        username: info.username,
                        secret,
                    })
                }
                Ok(None) => {
                    tracing::warn!("the keyring has no secret for {name}; trying Docker's config")
                }
                Err(e) => tracing::warn!("{e}"),
            }
        }
        let path = docker_config::default_path()?;
        match docker_config::lookup(&path, registry) {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!("Docker config: {e}");
                None
            }
        }
    }

    /// What the dashboard shows: counts and the health checks.
    pub async fn overview(&self) -> Result<AppOverview, StoreError> {
        Ok(AppOverview {
            version: VERSION.to_owned(),
            data_dir: self.data_dir.display().to_string(),
            targets: self.store.count_targets().await?,
            scans: self.store.count_scans().await?,
            credentials: self.store.count_credentials().await?,
            checks: vec![
                self.database_check().await,
                keyring_check(Arc::clone(&self.secrets)).await,
                feeds_check(&self.data_dir).await,
            ],
        })
    }

    async fn database_check(&self) -> Check {
        const NAME: &str = "Database";
        let result = async {
            self.store.integrity_check().await?;
            let v = self.store.schema_version().await?;
            let t = self.store.count_targets().await?;
            let s = self.store.count_scans().await?;
            Ok::<_, StoreError>((v, t, s))
        }
        .await;
        match result {
            Ok((v, t, s)) => Check::ok(
                NAME,
                format!(
                    "{} (schema {v}, integrity ok; {t} target{}, {s} scan{})",
                    self.store.place(),
                    plural(t),
                    plural(s)
                ),
            ),
            Err(e) => Check::fail(
                NAME,
                e.to_string(),
                if self.store.is_postgres() {
                    "Check that the PostgreSQL server answers and that its user may read the tables; `vedette db migrate` says where the database stands"
                } else {
                    "Move the damaged file aside and start again, or restore it from a backup"
                },
            ),
        }
    }
}

/// `vedette doctor`: every check, whether or not the database opens.
pub async fn doctor(data_dir: &Path, secrets: Arc<dyn SecretBackend>) -> DoctorReport {
    doctor_on(data_dir, None, secrets).await
}

/// `vedette doctor --database URL`: as [`doctor`], with the history there.
pub async fn doctor_on(
    data_dir: &Path,
    database: Option<&Database>,
    secrets: Arc<dyn SecretBackend>,
) -> DoctorReport {
    let mut checks = Vec::new();
    let mut schema_version = 0;
    let database = database
        .cloned()
        .unwrap_or_else(|| Database::Sqlite(data_dir.join(vedette_store::DB_FILE)));
    match App::open_on(data_dir, &database, Arc::clone(&secrets)).await {
        Ok(app) => {
            checks.push(
                Check::ok(
                    "Data directory",
                    format!("{} (writable)", data_dir.display()),
                )
                .without(DATA_DIR_WITHOUT)
                .essential(),
            );
            let db = app
                .database_check()
                .await
                .without(DATABASE_WITHOUT)
                .essential();
            schema_version = app.store.schema_version().await.unwrap_or(0);
            checks.push(db);
            app.store.close().await;
        }
        Err(OpenError::DataDir { path, source }) => checks.push(
            Check::fail(
                "Data directory",
                format!("cannot create {}: {source}", path.display()),
                "Choose a writable directory with --data-dir or VEDETTE_DATA_DIR",
            )
            .without(DATA_DIR_WITHOUT)
            .essential(),
        ),
        Err(OpenError::Setting(e)) => checks.push(
            Check::fail(
                "Settings",
                e,
                "Correct or unset the environment variable it names",
            )
            .without("nothing: Vedette does not start with a setting it cannot read")
            .essential(),
        ),
        Err(OpenError::Store(e)) => {
            checks.push(
                Check::ok("Data directory", data_dir.display().to_string())
                    .without(DATA_DIR_WITHOUT)
                    .essential(),
            );
            let fix = match database {
                Database::Postgres(_) => "Check that the PostgreSQL server answers and that --database / VEDETTE_DATABASE_URL names it, its user and its database",
                Database::Sqlite(_) => "Move the damaged file aside and start again, or restore it from a backup",
            };
            checks.push(
                Check::fail("Database", e.to_string(), fix)
                    .without(DATABASE_WITHOUT)
                    .essential(),
            );
        }
    }
    checks.push(keyring_check(secrets).await);
    checks.push(feeds_check(data_dir).await.without(
        "scans list what is installed but cannot report vulnerabilities, and the gate gives no verdict",
    ));
    DoctorReport {
        version: VERSION.to_owned(),
        data_dir: data_dir.display().to_string(),
        schema_version,
        checks,
    }
}

/// What needs the data directory.
const DATA_DIR_WITHOUT: &str =
    "nothing works: the database, the advisory index and the logs live there";

/// What needs the database.
const DATABASE_WITHOUT: &str =
    "nothing works: targets, schedules, history and findings are kept there";

async fn keyring_check(secrets: Arc<dyn SecretBackend>) -> Check {
    const WITHOUT: &str = "no secret can be stored or read: registry and feed-mirror credentials added with `vedette credential`, hosts' keys and passwords, the AWS account (the new-node gate, ECR) and notification secrets; public images, Docker's and Podman's login files and VEDETTE_REGISTRY_USERNAME/_PASSWORD still work";
    keyring_probe(secrets).await.without(WITHOUT)
}

async fn keyring_probe(secrets: Arc<dyn SecretBackend>) -> Check {
    const NAME: &str = "Keyring";
    // The keyring's D-Bus calls block; keep them off the async workers.
    match tokio::task::spawn_blocking(move || secrets.probe()).await {
        Ok(Ok(())) => Check::ok(
            NAME,
            "the Secret Service answers; registry passwords and tokens are stored there",
        ),
        Ok(Err(e)) => Check::fail(NAME, e.summary(), e.hint()),
        Err(e) => Check::fail(
            NAME,
            format!("the keyring check did not finish: {e}"),
            "Try again",
        ),
    }
}

/// The advisory index: present, and how old each feed is against its limit
/// (the default limits; a scan can be given others).
async fn feeds_check(data_dir: &Path) -> Check {
    const NAME: &str = "Advisory feeds";
    let status = async {
        let feeds = vedette_feeds::FeedStore::open_in(data_dir).await?;
        let s = feeds.status(&vedette_feeds::FeedConfig::default()).await;
        feeds.close().await;
        s
    }
    .await;
    let status = match status {
        Ok(s) => s,
        Err(e) => {
            return Check::fail(
                NAME,
                e.to_string(),
                "Move feeds.db aside; `vedette feed update` rebuilds it",
            )
        }
    };
    let osv: Vec<_> = status
        .iter()
        .filter(|f| f.name.starts_with("osv/"))
        .collect();
    if osv.is_empty() {
        return Check::warn(
            NAME,
            "no advisories yet, so scans cannot report vulnerabilities",
            "A scan downloads what it needs; `vedette feed update --ecosystem Debian` does it now, `vedette feed import DIR` works offline",
        );
    }
    let stale: Vec<String> = status
        .iter()
        .filter(|f| f.stale)
        .map(|f| format!("{} ({} h old)", f.name, f.age_seconds / 3600))
        .collect();
    let records: i64 = osv.iter().map(|f| f.records).sum();
    let names: Vec<&str> = osv
        .iter()
        .map(|f| f.name.trim_start_matches("osv/"))
        .collect();
    if stale.is_empty() {
        Check::ok(
            NAME,
            format!("{records} advisories for {}; all fresh", names.join(", ")),
        )
    } else {
        Check::warn(
            NAME,
            format!(
                "{records} advisories for {}; stale: {}",
                names.join(", "),
                stale.join(", ")
            ),
            "Run `vedette feed update`, or import a newer offline bundle",
        )
    }
}

fn plural(n: i64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vedette_cloud::MemorySecrets;
    use vedette_model::CheckState;

    #[tokio::test]
    async fn doctor_is_healthy_on_a_fresh_data_dir_with_a_keyring() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("nested/data");
        let report = doctor(&data, Arc::new(MemorySecrets::default())).await;
        assert!(report.healthy(), "{report:#?}");
        assert!(report.schema_version >= 20261128050000);
        assert!(data.join("vedette.db").is_file());
        let names: Vec<_> = report.checks.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            ["Data directory", "Database", "Keyring", "Advisory feeds"]
        );
    }

    #[tokio::test]
    async fn doctor_fails_the_keyring_check_with_a_hint_when_it_is_unreachable() {
        let dir = tempfile::tempdir().unwrap();
        let report = doctor(dir.path(), Arc::new(MemorySecrets::unreachable())).await;
        assert!(!report.healthy());
        let k = report.checks.iter().find(|c| c.name == "Keyring").unwrap();
        assert_eq!(k.state, CheckState::Fail);
        assert!(
            k.hint.as_deref().unwrap().contains("gnome-keyring"),
            "{k:?}"
        );
    }

    #[tokio::test]
    async fn doctor_reports_a_data_dir_that_cannot_be_created() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a-file");
        std::fs::write(&file, "x").unwrap();
        let report = doctor(&file.join("sub"), Arc::new(MemorySecrets::default())).await;
        assert!(!report.healthy());
        assert_eq!(report.checks[0].state, CheckState::Fail);
        assert!(report.checks[0]
            .hint
            .as_deref()
            .unwrap()
            .contains("--data-dir"));
    }

    #[tokio::test]
    async fn a_corrupt_database_file_fails_the_database_check_and_says_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("vedette.db"), vec![0x42u8; 8192]).unwrap();
        let report = doctor(dir.path(), Arc::new(MemorySecrets::default())).await;
        let db = report.checks.iter().find(|c| c.name == "Database").unwrap();
        assert_eq!(db.state, CheckState::Fail, "{report:#?}");
        assert!(db.detail.contains("vedette.db"), "{db:?}");
        // The damaged file is left as it was: nothing lost.
        assert_eq!(
            std::fs::read(dir.path().join("vedette.db")).unwrap(),
            vec![0x42u8; 8192]
        );
    }
}

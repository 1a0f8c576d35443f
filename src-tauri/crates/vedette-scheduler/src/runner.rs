//! Running schedules: each run refreshes stale feeds, scans the targets its
//! selector picks (under a global and a per-registry concurrency limit, with
//! retries for transient errors), re-matches the other targets when a feed
//! changed, and records everything in the history.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::sync::Semaphore;
use vedette_engine::{AssessOptions, EngineError, Target};
use vedette_feeds::{FeedConfig, FeedStore, Outcome};
use vedette_model::{
    NewFinding, Schedule, ScheduleOptions, Severity, TargetInfo, TargetKind, Trigger,
};
use vedette_store::Store;

use crate::CronSchedule;

/// Finds registry credentials (the keyring, Docker's config) for a host.
pub type CredentialLookup = Arc<
    dyn Fn(
            String,
        ) -> std::pin::Pin<
            Box<dyn std::future::Future<Output = Option<vedette_engine::Credential>> + Send>,
        > + Send
        + Sync,
>;

/// Concurrency and retry limits of a run.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Scans at once, in all.
    pub global: usize,
    /// Scans at once against one registry.
    pub per_registry: usize,
    /// Tries of a scan that fails for a transient reason (network, 5xx, 429).
    pub attempts: u32,
    pub backoff: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            global: 2,
            per_registry: 2,
            attempts: 3,
            backoff: Duration::from_secs(5),
        }
    }
}

/// What the runner needs; cheap to clone.
#[derive(Clone)]
pub struct Context {
    pub store: Store,
    pub feeds: FeedStore,
    pub feed_config: FeedConfig,
    pub credentials: Option<CredentialLookup>,
    pub temp_dir: PathBuf,
    pub limits: Limits,
    pub insecure_registries: Vec<String>,
    pub events: Arc<dyn Events>,
    /// Notified when schedules were edited, so [`serve`] looks at once.
    pub wake: Arc<tokio::sync::Notify>,
    /// While set, [`serve`] fires nothing (runs missed meanwhile are not
    /// caught up); "run now" still runs.
    pub paused: Arc<std::sync::atomic::AtomicBool>,
}

/// Observe-only events of runs (the tray, notifications, the UI).
pub trait Events: Send + Sync {
    fn run_started(&self, _schedule: &Schedule) {}
    fn run_finished(&self, _run: &RunSummary) {}
}

impl Events for () {}

/// One target's result in a run.
#[derive(Debug, Clone)]
pub struct TargetResult {
    pub target: String,
    pub scan_id: i64,
    pub error: Option<String>,
    /// Findings new since the target's previous scan, with their cause.
    pub new_findings: Vec<NewFinding>,
    /// The image's digest had not changed: its stored inventory was matched
    /// again instead of pulling it.
    pub reused_inventory: bool,
}

/// What a scan of one target may know beforehand.
#[derive(Clone, Default)]
pub struct ScanHints {
    /// The image's digest, when a registry crawl just read it.
    pub digest: Option<String>,
    /// The registry target says it speaks plain HTTP / unverified TLS.
    pub insecure: bool,
    /// Shared by every request to the image's registry in this run.
    pub rate: Option<Arc<vedette_engine::RateLimiter>>,
}

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct RunSummary {
    pub schedule_id: Option<i64>,
    pub schedule_name: String,
    pub scans: Vec<TargetResult>,
    /// Targets re-matched against updated feeds without being pulled.
    pub rematched: usize,
    /// The re-matches that found something new.
    pub rematch_results: Vec<TargetResult>,
    pub new_findings: Vec<NewFinding>,
    pub feeds_changed: Vec<String>,
    /// Problems that did not stop the run (a repository that could not be
    /// listed, a tag that is gone).
    pub warnings: Vec<String>,
}

/// Whether a new finding warrants an alert: critical, or exploited in the wild.
pub fn alarms(n: &NewFinding) -> bool {
    n.finding.severity == Severity::Critical || n.finding.kev_added.is_some()
}

impl RunSummary {
    /// New findings that warrant an alert: critical, or exploited in the wild.
    pub fn alarming(&self) -> Vec<&NewFinding> {
        self.new_findings.iter().filter(|n| alarms(n)).collect()
    }

    /// The scans with alarming new findings, the one with most first.
    pub fn alarming_scans(&self) -> Vec<(&TargetResult, usize)> {
        let mut v: Vec<(&TargetResult, usize)> = self
            .scans
            .iter()
            .chain(&self.rematch_results)
            .map(|t| (t, t.new_findings.iter().filter(|n| alarms(n)).count()))
            .filter(|(_, n)| *n > 0)
            .collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.scan_id.cmp(&b.0.scan_id)));
        v
    }
}

fn engine_target(t: &TargetInfo) -> Option<Target> {
    Some(match t.kind {
        TargetKind::Image => Target::Image(t.name.clone()),
        TargetKind::Directory => Target::Directory(t.name.clone().into()),
        TargetKind::Archive => Target::Archive(t.name.clone().into()),
        TargetKind::Sbom => Target::Sbom(t.name.clone().into()),
        TargetKind::Registry | TargetKind::Host => return None,
    })
}

fn registry_of(t: &TargetInfo) -> Option<String> {
    match t.kind {
        TargetKind::Image => vedette_engine::registry_host(&t.name),
        TargetKind::Registry => Some(t.name.clone()),
        _ => None,
    }
}

fn policy_of(o: &ScheduleOptions) -> vedette_match::Policy {
    vedette_match::Policy {
        fail_on: o.fail_on,
        fixable_only: o.ignore_unfixed,
        ..Default::default()
    }
}

/// Refreshes the stale feeds already in the index (every ecosystem a scan
/// has needed is there); the names of the feeds whose content changed. A
/// scan that finds a new ecosystem fetches its feed itself.
pub async fn refresh_feeds(ctx: &Context) -> Vec<String> {
    let mut ecosystems = BTreeSet::new();
    if let Ok(status) = ctx.feeds.status(&ctx.feed_config).await {
        for f in status {
            if let Some(e) = f.name.strip_prefix("osv/") {
                ecosystems.insert(e.to_owned());
            }
        }
    }
    let eco: Vec<String> = ecosystems.into_iter().collect();
    ctx.feeds
        .update(&ctx.feed_config, &eco, true)
        .await
        .into_iter()
        .filter_map(|o| match o.outcome {
            Outcome::Updated { .. } => Some(o.feed),
            Outcome::Failed { error } => {
                tracing::warn!("feed {} not updated: {error}", o.feed);
                None
            }
            _ => None,
        })
        .collect()
}

/// Scans one target now and records it.
pub async fn scan_target(
    ctx: &Context,
    target: &TargetInfo,
    trigger: Trigger,
    schedule_id: Option<i64>,
    options: &ScheduleOptions,
) -> TargetResult {
    scan_target_with(
        ctx,
        target,
        trigger,
        schedule_id,
        options,
        &ScanHints::default(),
    )
    .await
}

/// [`scan_target`], with what the run already knows of the target.
pub async fn scan_target_with(
    ctx: &Context,
    target: &TargetInfo,
    trigger: Trigger,
    schedule_id: Option<i64>,
    options: &ScheduleOptions,
    hints: &ScanHints,
) -> TargetResult {
    let started = Instant::now();
    let scan_id = match ctx
        .store
        .begin_scan_as(target.id, trigger, schedule_id)
        .await
    {
        Ok(id) => id,
        Err(e) => {
            return TargetResult {
                target: target.name.clone(),
                scan_id: 0,
                error: Some(e.to_string()),
                new_findings: Vec::new(),
                reused_inventory: false,
            }
        }
    };
    let result = scan_once_with_retries(ctx, target, options, scan_id, started, hints).await;
    let (error, new_findings, reused_inventory) = match result {
        Ok((new, reused)) => (None, new, reused),
        Err(e) => {
            let _ = ctx
                .store
                .finish_scan(scan_id, vedette_model::ScanState::Failed, Some(&e))
                .await;
            (Some(e), Vec::new(), false)
        }
    };
    TargetResult {
        target: target.name.clone(),
        scan_id,
        error,
        new_findings,
        reused_inventory,
    }
}

async fn scan_once_with_retries(
    ctx: &Context,
    target: &TargetInfo,
    options: &ScheduleOptions,
    scan_id: i64,
    started: Instant,
    hints: &ScanHints,
) -> Result<(Vec<NewFinding>, bool), String> {
    let Some(t) = engine_target(target) else {
        return Err(format!(
            "{} targets are not scanned by schedules yet",
            target.kind.as_str()
        ));
    };
    let registry = registry_of(target);
    let credential = match (&registry, &ctx.credentials) {
        (Some(host), Some(lookup)) => lookup(host.clone()).await,
        _ => None,
    };
    let opts = vedette_engine::Options {
        insecure_registry: hints.insecure
            || registry
                .as_ref()
                .is_some_and(|r| ctx.insecure_registries.contains(r)),
        credential,
        temp_dir: ctx.temp_dir.clone(),
        rate: hints.rate.clone(),
        ..vedette_engine::Options::default()
    };
    // An image whose digest has not changed is not pulled again: its
    // stored inventory is matched against today's feeds.
    let mut reused = None;
    if target.kind == TargetKind::Image {
        let digest = match &hints.digest {
            Some(d) => Some(d.clone()),
            None => vedette_engine::image_digest(&target.name, &opts).await.ok(),
        };
        if let Some(d) = digest {
            if let Ok(Some(mut inv)) = ctx
                .store
                .inventory_by_digest(&d, vedette_engine::EXTRACTOR_VERSION)
                .await
            {
                inv.target = target.name.clone();
                inv.scanned_at = Utc::now();
                tracing::info!("{}: digest {d} unchanged; not pulled again", target.name);
                reused = Some(inv);
            }
        }
    }
    let was_reused = reused.is_some();
    let mut wait = ctx.limits.backoff;
    let mut attempt = 0;
    let inventory = loop {
        if let Some(inv) = reused.take() {
            break inv;
        }
        attempt += 1;
        match vedette_engine::inventory(&t, &opts, Arc::new(())).await {
            Ok(inv) => break inv,
            Err(e) if attempt < ctx.limits.attempts && transient(&e) => {
                tracing::warn!("{}: {e} (attempt {attempt}); retrying", target.name);
                tokio::time::sleep(wait).await;
                wait = wait.saturating_mul(2);
            }
            Err(e) => return Err(e.to_string()),
        }
    };
    // The run refreshed the feeds of the index when it started; a scan only
    // fetches an ecosystem the index does not hold yet (so a feed source
    // that is down costs the run one try, not one per target).
    let held: BTreeSet<String> = ctx
        .feeds
        .status(&ctx.feed_config)
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter_map(|f| f.name.strip_prefix("osv/").map(str::to_owned))
        .collect();
    let new_ecosystems: Vec<String> = vedette_engine::ecosystems_in_use(&inventory)
        .into_iter()
        .filter(|e| !held.contains(e))
        .collect();
    if !new_ecosystems.is_empty() {
        let osv_only = FeedConfig {
            kev_url: String::new(),
            epss_url: String::new(),
            nvd_urls: Vec::new(),
            ..ctx.feed_config.clone()
        };
        for o in ctx.feeds.update(&osv_only, &new_ecosystems, true).await {
            if let Outcome::Failed { error } = o.outcome {
                tracing::warn!("feed {} not fetched: {error}", o.feed);
            }
        }
    }
    let assess = AssessOptions {
        exposure: target.exposure,
        policy: policy_of(options),
        offline: true,
    };
    let report = vedette_engine::assess(&inventory, &ctx.feeds, &ctx.feed_config, &assess, &())
        .await
        .map_err(|e| e.to_string())?;
    ctx.store
        .record_scan(
            scan_id,
            &inventory,
            &report,
            &vedette_engine::feed_version(&report),
            started.elapsed().as_millis() as i64,
        )
        .await
        .map(|new| (new, was_reused))
        .map_err(|e| e.to_string())
}

fn transient(e: &EngineError) -> bool {
    e.is_transient()
}

/// Matches the newest stored inventory of every target (or of those not in
/// `skip`) against the index again, without pulling anything: what a feed
/// update newly discloses becomes new findings with cause `feed_update`.
pub async fn rematch(
    ctx: &Context,
    skip: &BTreeSet<i64>,
) -> Result<(usize, Vec<TargetResult>), String> {
    // The index (feeds.db) and the inventories (vedette.db) load at once.
    let (set, status, invs) = tokio::join!(
        ctx.feeds.load_all(),
        ctx.feeds.status(&ctx.feed_config),
        ctx.store.latest_inventories_by_target()
    );
    let (set, status) = (
        set.map_err(|e| e.to_string())?,
        status.map_err(|e| e.to_string())?,
    );
    let invs: Vec<_> = invs
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter(|(target_id, _, _)| !skip.contains(target_id))
        .collect();
    // Matching (CPU) runs on its own thread, a few inventories ahead of the
    // writes (SQLite), so the two overlap.
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let matcher = tokio::task::spawn_blocking(move || {
        for (target_id, exposure, inv) in invs {
            let started = Instant::now();
            let opts = AssessOptions {
                exposure,
                ..Default::default()
            };
            let report = vedette_engine::judge(
                &inv,
                &set,
                status.clone(),
                &BTreeSet::new(),
                &opts,
                Vec::new(),
            );
            if tx
                .blocking_send((target_id, inv, report, started.elapsed()))
                .is_err()
            {
                break;
            }
        }
    });
    let mut n = 0;
    let mut new = Vec::new();
    // Several re-matches per transaction: each is still all or nothing.
    let mut batch = Vec::with_capacity(32);
    while let Some(first) = rx.recv().await {
        batch.push(first);
        while batch.len() < 32 {
            match rx.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let started = Instant::now();
        let versions: Vec<String> = batch
            .iter()
            .map(|(_, _, report, _)| vedette_engine::feed_version(report))
            .collect();
        let records: Vec<vedette_store::Rematch> = batch
            .iter()
            .zip(&versions)
            .map(
                |((target_id, inv, report, took), v)| vedette_store::Rematch {
                    target_id: *target_id,
                    inventory: inv,
                    report,
                    feed_version: v,
                    duration_ms: (*took + started.elapsed()).as_millis() as i64,
                },
            )
            .collect();
        for ((scan_id, found), (_, inv, _, _)) in ctx
            .store
            .record_rematches(&records)
            .await
            .map_err(|e| e.to_string())?
            .into_iter()
            .zip(&batch)
        {
            if !found.is_empty() {
                new.push(TargetResult {
                    target: inv.target.clone(),
                    scan_id,
                    error: None,
                    new_findings: found,
                    reused_inventory: true,
                });
            }
            n += 1;
        }
        batch.clear();
    }
    matcher
        .await
        .map_err(|e| format!("matching stopped: {e}"))?;
    Ok((n, new))
}

/// Runs one schedule now: fresh feeds, its targets, re-matching the rest
/// when a feed changed. A schedule already running is not started twice.
pub async fn run_schedule(ctx: &Context, schedule: &Schedule) -> Result<RunSummary, String> {
    if !ctx
        .store
        .claim_schedule(schedule.id)
        .await
        .map_err(|e| e.to_string())?
    {
        return Err(format!(
            "'{}' is running already; this run was skipped",
            schedule.name
        ));
    }
    ctx.events.run_started(schedule);
    let summary = run_claimed(ctx, schedule).await;
    let _ = ctx.store.set_schedule_ran(schedule.id, Utc::now()).await;
    let _ = ctx.store.release_schedule(schedule.id).await;
    if let Ok(s) = &summary {
        ctx.events.run_finished(s);
    }
    summary
}

async fn run_claimed(ctx: &Context, schedule: &Schedule) -> Result<RunSummary, String> {
    let feeds_changed = refresh_feeds(ctx).await;
    let selected: Vec<TargetInfo> = ctx
        .store
        .list_targets()
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter(|t| schedule.selector.matches(t))
        .collect();
    // Registries are crawled into images; an image a selected registry's
    // crawl covers is scanned through the crawl, once.
    let registries: Vec<TargetInfo> = selected
        .iter()
        .filter(|t| t.kind == TargetKind::Registry)
        .cloned()
        .collect();
    let crawled_by: BTreeSet<i64> = registries.iter().map(|r| r.id).collect();
    let mut work: Vec<(TargetInfo, ScanHints)> = Vec::new();
    let mut rates: HashMap<String, Option<Arc<vedette_engine::RateLimiter>>> = HashMap::new();
    let mut warnings = Vec::new();
    let mut scans = Vec::new();
    for reg in &registries {
        let watch = reg
            .registry
            .clone()
            .unwrap_or_else(|| vedette_model::RegistryWatch {
                repositories: "*".into(),
                tags: Default::default(),
                insecure: false,
                requests_per_second: None,
            });
        let crawl_opts = vedette_engine::CrawlOptions::for_watch(&watch);
        let rate = crawl_opts.rate.clone();
        rates.insert(reg.name.clone(), rate.clone());
        match crawl_registry(ctx, reg, &watch, &crawl_opts).await {
            Ok(crawl) => {
                warnings.extend(crawl.warnings);
                for image in crawl.images {
                    match ctx.store.crawled_image(reg, &image.reference).await {
                        Ok(t) => work.push((
                            t,
                            ScanHints {
                                digest: Some(image.digest),
                                insecure: watch.insecure,
                                rate: rate.clone(),
                            },
                        )),
                        Err(e) => warnings.push(format!("{}: {e}", image.reference)),
                    }
                }
            }
            Err(e) => {
                // The registry's own scan records why nothing was scanned.
                tracing::warn!("{}: {e}", reg.name);
                if let Ok(id) = ctx
                    .store
                    .begin_scan_as(reg.id, Trigger::Schedule, Some(schedule.id))
                    .await
                {
                    let _ = ctx
                        .store
                        .finish_scan(id, vedette_model::ScanState::Failed, Some(&e))
                        .await;
                    scans.push(TargetResult {
                        target: reg.name.clone(),
                        scan_id: id,
                        error: Some(e),
                        new_findings: Vec::new(),
                        reused_inventory: false,
                    });
                }
            }
        }
    }
    for t in &selected {
        if t.kind == TargetKind::Registry || t.parent_id.is_some_and(|p| crawled_by.contains(&p)) {
            continue;
        }
        let hints = ScanHints {
            rate: registry_of(t).and_then(|r| rates.get(&r).cloned().flatten()),
            ..ScanHints::default()
        };
        work.push((t.clone(), hints));
    }
    let global = Arc::new(Semaphore::new(ctx.limits.global.max(1)));
    let mut per_registry: HashMap<String, Arc<Semaphore>> = HashMap::new();
    let mut tasks = tokio::task::JoinSet::new();
    let scanned: BTreeSet<i64> = work.iter().map(|(t, _)| t.id).collect();
    for (t, hints) in work {
        let reg = registry_of(&t).map(|r| {
            Arc::clone(
                per_registry
                    .entry(r)
                    .or_insert_with(|| Arc::new(Semaphore::new(ctx.limits.per_registry.max(1)))),
            )
        });
        let (ctx, global, options, id) = (
            ctx.clone(),
            Arc::clone(&global),
            schedule.options.clone(),
            schedule.id,
        );
        tasks.spawn(async move {
            let _r = match &reg {
                Some(s) => Some(s.acquire().await),
                None => None,
            };
            let _g = global.acquire().await;
            scan_target_with(&ctx, &t, Trigger::Schedule, Some(id), &options, &hints).await
        });
    }
    while let Some(r) = tasks.join_next().await {
        match r {
            Ok(r) => scans.push(r),
            Err(e) => tracing::error!("a scan task failed: {e}"),
        }
    }
    let mut new_findings: Vec<NewFinding> =
        scans.iter().flat_map(|s| s.new_findings.clone()).collect();
    let mut rematched = 0;
    let mut rematch_results = Vec::new();
    if feeds_changed.iter().any(|f| f.starts_with("osv/")) {
        let mut skip = scanned;
        skip.extend(crawled_by);
        let (n, found) = rematch(ctx, &skip).await?;
        rematched = n;
        new_findings.extend(found.iter().flat_map(|r| r.new_findings.clone()));
        rematch_results = found;
    }
    for w in &warnings {
        tracing::warn!("{w}");
    }
    Ok(RunSummary {
        schedule_id: Some(schedule.id),
        schedule_name: schedule.name.clone(),
        scans,
        rematched,
        rematch_results,
        new_findings,
        feeds_changed,
        warnings,
    })
}

/// Lists the images a registry target selects, with the context's
/// credentials.
pub async fn crawl_registry(
    ctx: &Context,
    reg: &TargetInfo,
    watch: &vedette_model::RegistryWatch,
    crawl_opts: &vedette_engine::CrawlOptions,
) -> Result<vedette_engine::Crawl, String> {
    let credential = match &ctx.credentials {
        Some(lookup) => lookup(reg.name.clone()).await,
        None => None,
    };
    let opts = vedette_engine::Options {
        insecure_registry: watch.insecure || ctx.insecure_registries.contains(&reg.name),
        credential,
        temp_dir: ctx.temp_dir.clone(),
        ..vedette_engine::Options::default()
    };
    vedette_engine::crawl(&reg.name, watch, &opts, crawl_opts)
        .await
        .map_err(|e| e.to_string())
}

/// Fires enabled schedules on time until `stop` resolves. At start, a run a
/// schedule missed while nothing was running happens once (when the
/// schedule asks for catch-up). Edits to schedules are picked up within
/// `poll`.
pub async fn serve(ctx: Context, poll: Duration, stop: tokio::sync::watch::Receiver<bool>) {
    let _ = ctx.store.release_stale_schedule_claims().await;
    let mut stop = stop;
    let start = Utc::now();
    let mut last_fired: HashMap<i64, chrono::DateTime<Utc>> = HashMap::new();
    let mut running: tokio::task::JoinSet<()> = tokio::task::JoinSet::new();
    // Scans a killed scheduler left half done: the store marked them
    // interrupted when it opened; run each target's scan again, once.
    if let (Ok(retry), Ok(targets), Ok(list)) = (
        ctx.store.interrupted_scheduled_scans().await,
        ctx.store.list_targets().await,
        ctx.store.list_schedules().await,
    ) {
        for (target_id, schedule_id) in retry {
            let (Some(t), Some(s)) = (
                targets.iter().find(|t| t.id == target_id).cloned(),
                list.iter().find(|s| s.id == schedule_id).cloned(),
            ) else {
                continue;
            };
            tracing::info!("retrying the interrupted scan of {}", t.name);
            let ctx2 = ctx.clone();
            running.spawn(async move {
                let r = scan_target(&ctx2, &t, Trigger::Schedule, Some(s.id), &s.options).await;
                if let Some(e) = r.error {
                    tracing::warn!("{}: {e}", r.target);
                }
            });
        }
    }
    // Catch-up.
    if let Ok(list) = ctx.store.list_schedules().await {
        for s in list.into_iter().filter(|s| s.enabled && s.catch_up) {
            let Ok(cron) = CronSchedule::parse(&s.cron, &s.timezone) else {
                continue;
            };
            let from = s.last_run_at.unwrap_or(s.created_at);
            if let Some(missed) = cron.missed_between(from, start) {
                tracing::info!("'{}' missed its run of {missed}; running it now", s.name);
                let ctx2 = ctx.clone();
                running.spawn(async move {
                    if let Err(e) = run_schedule(&ctx2, &s).await {
                        tracing::warn!("{e}");
                    }
                });
            }
        }
    }
    loop {
        let now = Utc::now();
        let schedules = ctx.store.list_schedules().await.unwrap_or_default();
        let mut soonest =
            now + chrono::Duration::from_std(poll).unwrap_or(chrono::Duration::seconds(30));
        for s in schedules.iter().filter(|s| s.enabled) {
            let Ok(cron) = CronSchedule::parse(&s.cron, &s.timezone) else {
                continue;
            };
            // A schedule made while serving counts from its creation.
            let after = *last_fired.entry(s.id).or_insert(start.max(s.created_at));
            let Some(next) = cron.next_after(after) else {
                continue;
            };
            if next <= now {
                // Fire once for however many slots passed (a slow run, a
                // suspended machine): the next one counts from now.
                last_fired.insert(s.id, now);
                if ctx.paused.load(std::sync::atomic::Ordering::SeqCst) {
                    tracing::info!("'{}' is due but schedules are paused", s.name);
                    continue;
                }
                let (ctx2, s2) = (ctx.clone(), s.clone());
                let jitter = if s.jitter_seconds > 0 {
                    Duration::from_millis(fastrand::u64(0..(s.jitter_seconds as u64 * 1000)))
                } else {
                    Duration::ZERO
                };
                running.spawn(async move {
                    tokio::time::sleep(jitter).await;
                    if let Err(e) = run_schedule(&ctx2, &s2).await {
                        tracing::warn!("{e}");
                    }
                });
            } else if next < soonest {
                soonest = next;
            }
        }
        while running.try_join_next().is_some() {}
        let wait = (soonest - Utc::now())
            .to_std()
            .unwrap_or(Duration::from_millis(50));
        tokio::select! {
            _ = tokio::time::sleep(wait.min(poll)) => {}
            _ = ctx.wake.notified() => {}
            _ = stop.changed() => break,
        }
    }
    // Let running scans finish (they are recorded as a whole or not at all).
    while running.join_next().await.is_some() {}
}

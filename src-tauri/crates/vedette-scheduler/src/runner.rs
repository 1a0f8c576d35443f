//! Running schedules: each run refreshes stale feeds, scans the targets its
//! selector picks (under a global and a per-registry concurrency limit,
//! each target once, quarantined ones left alone), re-matches the other
//! targets when a feed changed, and records everything in the history.
//! Scanning one target is [`vedette_scan::Scanner::scan`]'s job, the same
//! function the CLI and the window call.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::sync::Semaphore;
use vedette_engine::AssessOptions;
use vedette_feeds::{Outcome, Refresh};
use vedette_model::{
    NewFinding, Schedule, ScheduleOptions, Severity, TargetInfo, TargetKind, Trigger,
};
use vedette_scan::{CancellationToken, ErrorKind, FeedPolicy, Request, Scanner};
use vedette_store::StoreError;

use crate::CronSchedule;

/// Concurrency limits of a run.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Scans at once, in all.
    pub global: usize,
    /// Scans at once against one registry.
    pub per_registry: usize,
    /// Hosts scanned at once over SSH. Reading a host waits on the network
    /// far more than it computes, so hosts have their own limit instead of
    /// taking the global one's slots.
    pub hosts: usize,
}

impl Limits {
    /// Hosts scanned at once unless `VEDETTE_HOST_SCANS` says otherwise.
    pub const HOSTS: usize = 16;
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            global: 2,
            per_registry: 2,
            hosts: Self::HOSTS,
        }
    }
}

/// What the runner needs; cheap to clone.
#[derive(Clone)]
pub struct Context {
    /// Scans one target (store, feeds, credentials, limits).
    pub scanner: Scanner,
    pub limits: Limits,
    pub events: Arc<dyn Events>,
    /// Notified when schedules were edited, so [`serve`] looks at once.
    pub wake: Arc<tokio::sync::Notify>,
    /// While set, [`serve`] fires nothing (runs missed meanwhile are not
    /// caught up); "run now" still runs.
    pub paused: Arc<std::sync::atomic::AtomicBool>,
    /// Cancels every scan of this context's runs (the process is stopping).
    pub cancel: CancellationToken,
    /// The console's policy file: its exceptions apply to every scheduled
    /// scan (read at each scan, so an exception added meanwhile counts).
    pub policy_file: Option<std::path::PathBuf>,
    /// On a shared PostgreSQL: runs queue their scans for workers (on any
    /// machine) instead of scanning them here.
    pub queue: Option<crate::QueueSettings>,
}

impl Context {
    /// A context with the default limits, no events, not paused.
    pub fn new(scanner: Scanner) -> Self {
        Self {
            scanner,
            limits: Limits::default(),
            events: Arc::new(()),
            wake: Default::default(),
            paused: Default::default(),
            cancel: CancellationToken::new(),
            policy_file: None,
            queue: None,
        }
    }

    /// The exceptions of the console's policy file (none without one; an
    /// unreadable file is logged and its exceptions not applied).
    fn console_exceptions(&self) -> Vec<vedette_match::Exception> {
        let Some(path) = self.policy_file.as_deref().filter(|p| p.exists()) else {
            return Vec::new();
        };
        let read = std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|t| {
                vedette_match::Policy::from_toml(&path.display().to_string(), &t)
                    .map_err(|e| e.to_string())
            });
        match read {
            Ok(p) => p.exceptions,
            Err(e) => {
                tracing::error!("the console policy's exceptions are not applied: {e}");
                Vec::new()
            }
        }
    }

    pub fn store(&self) -> &vedette_store::Store {
        &self.scanner.store
    }

    /// The shared queue's settings, when runs go to workers: a queue is
    /// set and the database is one several machines share.
    pub(crate) fn shared_queue(&self) -> Option<crate::QueueSettings> {
        self.queue.filter(|_| self.store().shares_queue())
    }
}

/// Observe-only events of runs (the tray, notifications, the UI).
pub trait Events: Send + Sync {
    fn run_started(&self, _schedule: &Schedule) {}
    fn run_finished(&self, _run: &RunSummary) {}
}

impl Events for () {}

/// Why a target's scan failed, for people (`message`) and for code (`kind`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetError {
    pub kind: ErrorKind,
    pub message: String,
}

impl std::fmt::Display for TargetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// One target's result in a run.
#[derive(Debug, Clone)]
pub struct TargetResult {
    pub target: String,
    /// The scan in the history (none when it could not even begin).
    pub scan_id: Option<i64>,
    pub error: Option<TargetError>,
    /// Findings new since the target's previous scan, with their cause.
    pub new_findings: Vec<NewFinding>,
    /// The image's digest had not changed: its stored inventory was matched
    /// again instead of pulling it.
    pub reused_inventory: bool,
    /// Nothing changed (same content, same feeds): the previous findings
    /// were carried over without matching.
    pub carried_over: bool,
}

/// Why a run did not happen or stopped.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("'{0}' is running already; this run was skipped")]
    Busy(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Feeds(#[from] vedette_feeds::FeedError),
    #[error("matching stopped unexpectedly: {0}")]
    Matching(String),
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
    /// listed, a tag that is gone, a quarantined target left alone).
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

fn policy_of(
    o: &ScheduleOptions,
    exceptions: Vec<vedette_match::Exception>,
) -> vedette_match::Policy {
    vedette_match::Policy {
        fail_on: o.fail_on,
        fixable_only: o.ignore_unfixed,
        exceptions,
        ..Default::default()
    }
}

/// Refreshes the stale feeds already in the index (every ecosystem a scan
/// has needed is there) and the enrichment feeds, leaving alone a source
/// that failed lately; the names of the feeds whose content changed. A scan
/// that finds a new ecosystem fetches its feed itself.
pub async fn refresh_feeds(ctx: &Context) -> Vec<String> {
    let s = &ctx.scanner;
    let ecosystems: Vec<String> = match s.feeds.status(&s.feed_config).await {
        Ok(status) => status
            .into_iter()
            .filter_map(|f| f.name.strip_prefix("osv/").map(str::to_owned))
            .collect(),
        Err(e) => {
            tracing::warn!("cannot read which feeds the index holds: {e}");
            Vec::new()
        }
    };
    let refresh = Refresh {
        only_stale: true,
        skip_failed: true,
    };
    s.feeds
        .update(&s.feed_config, &ecosystems, refresh)
        .await
        .into_iter()
        .filter_map(|o| match o.outcome {
            Outcome::Updated { .. } => Some(o.feed),
            Outcome::Failed { error } => {
                tracing::warn!("feed {} not updated: {error}", o.feed);
                None
            }
            Outcome::Skipped { reason } => {
                tracing::info!("feed {} not updated: {reason}", o.feed);
                None
            }
            _ => None,
        })
        .collect()
}

/// Scans one target now and records it, as a schedule's run does.
pub async fn scan_target(
    ctx: &Context,
    target: &TargetInfo,
    trigger: Trigger,
    schedule_id: Option<i64>,
    options: &ScheduleOptions,
    hints: &ScanHints,
) -> TargetResult {
    let req = Request {
        trigger,
        schedule_id,
        policy: policy_of(options, ctx.console_exceptions()),
        insecure: hints.insecure,
        digest: hints.digest.clone(),
        rate: hints.rate.clone(),
        // The run refreshed the feeds of the index when it started.
        feeds: FeedPolicy::MissingOnly,
        ..Request::default()
    };
    match ctx
        .scanner
        .scan(target, &req, Arc::new(()), &ctx.cancel)
        .await
    {
        Ok(done) => TargetResult {
            target: target.name.clone(),
            scan_id: Some(done.scan_id),
            error: None,
            new_findings: done.new_findings,
            reused_inventory: done.reused_inventory,
            carried_over: done.carried_over,
        },
        Err(f) => {
            tracing::warn!("{}: {}", target.name, f.error);
            TargetResult {
                target: target.name.clone(),
                scan_id: f.scan_id,
                error: Some(TargetError {
                    kind: f.error.kind(),
                    message: f.error.to_string(),
                }),
                new_findings: Vec::new(),
                reused_inventory: false,
                carried_over: false,
            }
        }
    }
}

/// Inventories read from the store at a time during a re-match.
const REMATCH_PAGE: i64 = 256;

/// Re-matches stored inventories written in one transaction.
const REMATCH_BATCH: usize = 128;

/// Matches the newest stored inventory of every target (or of those not in
/// `skip`) against the index again, without pulling anything: what a feed
/// update newly discloses becomes new findings with cause `feed_update`.
/// An inventory whose last match still holds (the same feeds, none stale,
/// the same exposure: [`vedette_engine::match_holds`]) is left alone. The
/// fleet is read a page at a time and matched on every core while the
/// results are written, so time grows with the fleet and memory does not.
/// Returns how many were matched again and those with new findings.
pub async fn rematch(
    ctx: &Context,
    skip: &BTreeSet<i64>,
) -> Result<(usize, Vec<TargetResult>), RunError> {
    let s = &ctx.scanner;
    let began = Instant::now();
    let (set, status) = tokio::join!(s.feeds.load_all(), s.feeds.status(&s.feed_config));
    let (set, status) = (Arc::new(set?), status?);
    let loaded = began.elapsed();
    // Where the time goes, for the log: reading, matching (summed over the
    // matchers), writing.
    let matching = Arc::new(std::sync::atomic::AtomicU64::new(0));

    // Reading: pages of inventories, those whose match no longer holds
    // handed to the matchers.
    let (work_tx, work_rx) = tokio::sync::mpsc::channel::<vedette_store::LatestInventory>(64);
    let reader = {
        let (store, status, skip) = (s.store.clone(), status.clone(), skip.clone());
        tokio::spawn(async move {
            let (mut after, mut held, mut reading) = (0, 0usize, Duration::ZERO);
            loop {
                let asked = Instant::now();
                let page = store.latest_inventories_after(after, REMATCH_PAGE).await?;
                reading += asked.elapsed();
                let Some(last) = page.last() else { break };
                after = last.target_id;
                for latest in page {
                    if skip.contains(&latest.target_id) {
                        continue;
                    }
                    let matched = latest.matched.as_ref().map(|(v, e)| (v.as_str(), *e));
                    if vedette_engine::match_holds(
                        &latest.inventory,
                        &status,
                        matched,
                        latest.exposure,
                    ) {
                        held += 1;
                        continue;
                    }
                    if work_tx.send(latest).await.is_err() {
                        return Ok((held, reading));
                    }
                }
            }
            Ok::<_, StoreError>((held, reading))
        })
    };

    // Matching (CPU), on every core, a few inventories ahead of the writes.
    let work_rx = Arc::new(std::sync::Mutex::new(work_rx));
    let (done_tx, mut done_rx) = tokio::sync::mpsc::channel(64);
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let matchers: Vec<_> = (0..cores.min(8))
        .map(|_| {
            let (work_rx, done_tx) = (Arc::clone(&work_rx), done_tx.clone());
            let (set, status) = (Arc::clone(&set), status.clone());
            let matching = Arc::clone(&matching);
            tokio::task::spawn_blocking(move || loop {
                let next = work_rx
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .blocking_recv();
                let Some(latest) = next else {
                    break;
                };
                let started = Instant::now();
                let opts = AssessOptions {
                    exposure: latest.exposure,
                    ..Default::default()
                };
                let report = vedette_engine::judge(
                    &latest.inventory,
                    &set,
                    status.clone(),
                    &BTreeSet::new(),
                    &opts,
                    Vec::new(),
                );
                // Encoded here, on a core of its own, not on the writer's.
                let encoded = vedette_store::EncodedReport::of(&report);
                let version = vedette_engine::feed_version(&report);
                let took = started.elapsed();
                let done = encoded.map(|encoded| (latest, report, encoded, version, took));
                matching.fetch_add(
                    u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
                    std::sync::atomic::Ordering::Relaxed,
                );
                if done_tx.blocking_send(done).is_err() {
                    break;
                }
            })
        })
        .collect();
    drop(done_tx);

    // Writing: several re-matches per transaction, each still all or nothing.
    let (mut n, mut writing) = (0, Duration::ZERO);
    let mut new = Vec::new();
    let mut batch = Vec::with_capacity(REMATCH_BATCH);
    while let Some(first) = done_rx.recv().await {
        batch.push(first?);
        while batch.len() < REMATCH_BATCH {
            match done_rx.try_recv() {
                Ok(next) => batch.push(next?),
                Err(_) => break,
            }
        }
        let started = Instant::now();
        let records: Vec<vedette_store::Rematch> = batch
            .iter()
            .map(
                |(latest, report, encoded, v, took)| vedette_store::Rematch {
                    target_id: latest.target_id,
                    inventory: &latest.inventory,
                    inventory_id: latest.inventory_id,
                    report,
                    encoded,
                    feed_version: v,
                    duration_ms: i64::try_from((*took + started.elapsed()).as_millis())
                        .unwrap_or(i64::MAX),
                },
            )
            .collect();
        for ((scan_id, found), (latest, ..)) in s
            .store
            .record_rematches(&records)
            .await?
            .into_iter()
            .zip(&batch)
        {
            if !found.is_empty() {
                new.push(TargetResult {
                    target: latest.inventory.target.clone(),
                    scan_id: Some(scan_id),
                    error: None,
                    new_findings: found,
                    reused_inventory: true,
                    carried_over: false,
                });
            }
            n += 1;
        }
        writing += started.elapsed();
        batch.clear();
    }
    drop(done_rx);
    for m in matchers {
        m.await.map_err(|e| RunError::Matching(e.to_string()))?;
    }
    let (held, reading) = reader
        .await
        .map_err(|e| RunError::Matching(e.to_string()))??;
    if n > 0 {
        let started = Instant::now();
        s.store.refresh_statistics().await?;
        writing += started.elapsed();
    }
    tracing::info!(
        "re-matched {n} stored inventories in {:.1} s ({held} others left alone: their feeds did not change): index loaded in {:.1} s, inventories read in {:.1} s, matched and encoded in {:.1} s of {} threads, written in {:.1} s",
        began.elapsed().as_secs_f64(),
        loaded.as_secs_f64(),
        reading.as_secs_f64(),
        Duration::from_micros(matching.load(std::sync::atomic::Ordering::Relaxed)).as_secs_f64(),
        cores.min(8),
        writing.as_secs_f64(),
    );
    Ok((n, new))
}

/// Runs one schedule now: fresh feeds, its targets, re-matching the rest
/// when a feed changed. A schedule already running is not started twice.
pub async fn run_schedule(ctx: &Context, schedule: &Schedule) -> Result<RunSummary, RunError> {
    let store = ctx.store();
    if !store.claim_schedule(schedule.id).await? {
        return Err(RunError::Busy(schedule.name.clone()));
    }
    ctx.events.run_started(schedule);
    let summary = run_claimed(ctx, schedule).await;
    // The run happened whatever these say; a failure to note it is logged
    // (the claim is also released when the next scheduler starts).
    if let Err(e) = store.set_schedule_ran(schedule.id, Utc::now()).await {
        tracing::error!("cannot record when '{}' ran: {e}", schedule.name);
    }
    if let Err(e) = store.release_schedule(schedule.id).await {
        tracing::error!("cannot release the claim on '{}': {e}", schedule.name);
    }
    if let Ok(s) = &summary {
        ctx.events.run_finished(s);
    }
    summary
}

async fn run_claimed(ctx: &Context, schedule: &Schedule) -> Result<RunSummary, RunError> {
    let feeds_changed = refresh_feeds(ctx).await;
    let mut warnings = Vec::new();
    let selected = select(ctx, schedule, &mut warnings).await?;
    let plan = plan(ctx, schedule, &selected, &mut warnings).await;
    let mut scans = plan.failed_crawls;
    let scanned: BTreeSet<i64> = plan.work.iter().map(|(t, _)| t.id).collect();
    scans.extend(scan_all(ctx, schedule, plan.work).await);
    let mut new_findings: Vec<NewFinding> =
        scans.iter().flat_map(|s| s.new_findings.clone()).collect();
    let mut rematched = 0;
    let mut rematch_results = Vec::new();
    // What a feed update discloses about the targets this run did not scan.
    if feeds_changed.iter().any(|f| f.starts_with("osv/")) {
        let mut skip = scanned;
        skip.extend(plan.registries);
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

/// The targets a schedule's selector picks, quarantined ones left out (a
/// warning says so).
async fn select(
    ctx: &Context,
    schedule: &Schedule,
    warnings: &mut Vec<String>,
) -> Result<Vec<TargetInfo>, RunError> {
    Ok(ctx
        .store()
        .list_targets()
        .await?
        .into_iter()
        .filter(|t| schedule.selector.matches(t))
        .filter(|t| match &t.quarantine {
            Some(q) => {
                warnings.push(format!(
                    "{} is quarantined since {} and was not scanned: {} (`vedette target retry` lets it be scanned again)",
                    t.name,
                    q.since.format("%Y-%m-%d %H:%M UTC"),
                    q.reason
                ));
                false
            }
            None => true,
        })
        .collect())
}

/// What a run scans: each selected registry's crawl (its images with the
/// digest the crawl read), then the other selected targets, each once.
struct Plan {
    work: Vec<(TargetInfo, ScanHints)>,
    /// The registries crawled (their images are scanned through the crawl).
    registries: BTreeSet<i64>,
    /// A registry that could not be crawled, as a failed scan of it.
    failed_crawls: Vec<TargetResult>,
}

async fn plan(
    ctx: &Context,
    schedule: &Schedule,
    selected: &[TargetInfo],
    warnings: &mut Vec<String>,
) -> Plan {
    let store = ctx.store();
    let mut crawled = Vec::new();
    let mut rates: HashMap<String, Option<Arc<vedette_engine::RateLimiter>>> = HashMap::new();
    let mut failed_crawls = Vec::new();
    let registries: Vec<&TargetInfo> = selected
        .iter()
        .filter(|t| t.kind == TargetKind::Registry)
        .collect();
    for reg in &registries {
        let watch = reg
            .registry
            .clone()
            .unwrap_or_else(|| vedette_model::RegistryWatch {
                repositories: "*".into(),
                tags: Default::default(),
                insecure: false,
                requests_per_second: None,
                kind: Default::default(),
                api: None,
            });
        let mut crawl_opts = vedette_engine::CrawlOptions::for_watch(&watch);
        // On a shared queue the crawl and every worker keep one pace.
        if ctx.shared_queue().is_some() {
            crawl_opts.rate = crawl_opts
                .rate
                .as_ref()
                .and_then(|r| r.limit())
                .map(|per_second| crate::queue::shared_rate(store, reg.name.clone(), per_second));
        }
        let rate = crawl_opts.rate.clone();
        rates.insert(reg.name.clone(), rate.clone());
        match crawl_registry(ctx, reg, &watch, &crawl_opts).await {
            Ok(crawl) => {
                warnings.extend(crawl.warnings);
                for image in crawl.images {
                    match store.crawled_image(reg, &image.reference).await {
                        Ok(t) if t.quarantine.is_some() => warnings.push(format!(
                            "{} is quarantined and was not scanned (`vedette target retry` lets it be scanned again)",
                            t.name
                        )),
                        Ok(t) => crawled.push((
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
            Err(e) => failed_crawls.push(record_crawl_failure(ctx, reg, schedule, e).await),
        }
    }
    let registries: BTreeSet<i64> = registries.iter().map(|r| r.id).collect();
    let work = dedupe(crawled, selected, &registries, |t| {
        vedette_scan::registry_of(t).and_then(|r| rates.get(&r).cloned().flatten())
    });
    Plan {
        work,
        registries,
        failed_crawls,
    }
}

/// Each target once: the images the crawls found (with what the crawl
/// knows), then the selected targets that are neither registries, nor
/// nodes (their agents send their inventories), nor an image a selected
/// registry's crawl covers (found by it now, or before).
fn dedupe(
    crawled: Vec<(TargetInfo, ScanHints)>,
    selected: &[TargetInfo],
    registries: &BTreeSet<i64>,
    rate_of: impl Fn(&TargetInfo) -> Option<Arc<vedette_engine::RateLimiter>>,
) -> Vec<(TargetInfo, ScanHints)> {
    let mut seen: BTreeSet<i64> = BTreeSet::new();
    let mut work: Vec<(TargetInfo, ScanHints)> = crawled
        .into_iter()
        .filter(|(t, _)| seen.insert(t.id))
        .collect();
    for t in selected {
        if matches!(t.kind, TargetKind::Registry | TargetKind::Node)
            || seen.contains(&t.id)
            || t.parent_id.is_some_and(|p| registries.contains(&p))
        {
            continue;
        }
        seen.insert(t.id);
        let hints = ScanHints {
            rate: rate_of(t),
            ..ScanHints::default()
        };
        work.push((t.clone(), hints));
    }
    work
}

/// Scans the planned targets under the run's limits: so many at once in
/// all, so many against one registry, so many hosts.
async fn scan_all(
    ctx: &Context,
    schedule: &Schedule,
    work: Vec<(TargetInfo, ScanHints)>,
) -> Vec<TargetResult> {
    if let Some(q) = ctx.shared_queue() {
        return crate::queue::scan_by_workers(ctx, q, schedule, work).await;
    }
    let global = Arc::new(Semaphore::new(ctx.limits.global.max(1)));
    let hosts = Arc::new(Semaphore::new(ctx.limits.hosts.max(1)));
    let mut per_registry: HashMap<String, Arc<Semaphore>> = HashMap::new();
    let mut tasks = tokio::task::JoinSet::new();
    for group in by_digest(work) {
        let (ctx, options, id) = (ctx.clone(), schedule.options.clone(), schedule.id);
        let mut members = Vec::new();
        for (t, hints) in group {
            let reg =
                vedette_scan::registry_of(&t).map(|r| {
                    Arc::clone(per_registry.entry(r).or_insert_with(|| {
                        Arc::new(Semaphore::new(ctx.limits.per_registry.max(1)))
                    }))
                });
            let slots = if t.kind == TargetKind::Host {
                &hosts
            } else {
                &global
            };
            members.push((t, hints, reg, Arc::clone(slots)));
        }
        // The images of one digest one after the other: the first pulls it,
        // the others match its stored inventory.
        tasks.spawn(async move {
            let mut results = Vec::new();
            for (t, hints, reg, slots) in members {
                let _r = match &reg {
                    Some(s) => Some(s.acquire().await),
                    None => None,
                };
                let _g = slots.acquire().await;
                results.push(
                    scan_target(&ctx, &t, Trigger::Schedule, Some(id), &options, &hints).await,
                );
            }
            results
        });
    }
    let mut scans = Vec::new();
    while let Some(r) = tasks.join_next().await {
        match r {
            Ok(r) => scans.extend(r),
            Err(e) => tracing::error!("a scan task failed: {e}"),
        }
    }
    scans
}

/// The work in groups of one image digest (as a crawl read it), so that a
/// digest several tags or repositories share is pulled once per run; work
/// without a digest is a group of its own.
fn by_digest(work: Vec<(TargetInfo, ScanHints)>) -> Vec<Vec<(TargetInfo, ScanHints)>> {
    let mut groups: Vec<Vec<(TargetInfo, ScanHints)>> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for (t, hints) in work {
        match hints.digest.clone() {
            Some(d) => match index.get(&d) {
                Some(&i) => groups[i].push((t, hints)),
                None => {
                    index.insert(d, groups.len());
                    groups.push(vec![(t, hints)]);
                }
            },
            None => groups.push(vec![(t, hints)]),
        }
    }
    groups
}

/// A registry that could not be crawled: its own failed scan says why
/// nothing of it was scanned.
async fn record_crawl_failure(
    ctx: &Context,
    reg: &TargetInfo,
    schedule: &Schedule,
    e: vedette_engine::EngineError,
) -> TargetResult {
    tracing::warn!("{}: {e}", reg.name);
    let message = e.to_string();
    let store = ctx.store();
    let scan_id = match store
        .begin_scan_as(reg.id, Trigger::Schedule, Some(schedule.id))
        .await
    {
        Ok(id) => {
            if let Err(w) = store
                .finish_scan(id, vedette_model::ScanState::Failed, Some(&message))
                .await
            {
                tracing::error!("cannot record that {} could not be crawled: {w}", reg.name);
            }
            Some(id)
        }
        Err(w) => {
            tracing::error!("cannot record that {} could not be crawled: {w}", reg.name);
            None
        }
    };
    TargetResult {
        target: reg.name.clone(),
        scan_id,
        error: Some(TargetError {
            kind: ErrorKind::Unavailable,
            message,
        }),
        new_findings: Vec::new(),
        reused_inventory: false,
        carried_over: false,
    }
}

/// Lists the images a registry target selects, with the context's
/// credentials.
pub async fn crawl_registry(
    ctx: &Context,
    reg: &TargetInfo,
    watch: &vedette_model::RegistryWatch,
    crawl_opts: &vedette_engine::CrawlOptions,
) -> Result<vedette_engine::Crawl, vedette_engine::EngineError> {
    ctx.scanner.crawl(reg, watch, crawl_opts, true).await
}

/// Fires enabled schedules on time until `stop` resolves (none while
/// `ctx.paused`). At start, a run a schedule missed while nothing was
/// running happens once (when the schedule asks for catch-up and schedules
/// are not paused), and a scheduled scan a killed scheduler
/// left half done is run again (unless its target is quarantined). Edits to
/// schedules are picked up within `poll`.
pub async fn serve(ctx: Context, poll: Duration, stop: tokio::sync::watch::Receiver<bool>) {
    let store = ctx.store().clone();
    if let Err(e) = store.release_stale_schedule_claims().await {
        tracing::error!("cannot release the claims of runs a stopped scheduler left: {e}");
    }
    let mut stop = stop;
    let start = Utc::now();
    let mut last_fired: HashMap<i64, chrono::DateTime<Utc>> = HashMap::new();
    let mut running: tokio::task::JoinSet<()> = tokio::task::JoinSet::new();
    retry_interrupted(&ctx, &mut running).await;
    // Catch-up.
    match store.list_schedules().await {
        Ok(list) => {
            for s in list.into_iter().filter(|s| s.enabled && s.catch_up) {
                let Ok(cron) = CronSchedule::parse(&s.cron, &s.timezone) else {
                    continue;
                };
                let from = s.last_run_at.unwrap_or(s.created_at);
                if let Some(missed) = cron.missed_between(from, start) {
                    if ctx.paused.load(std::sync::atomic::Ordering::SeqCst) {
                        tracing::info!(
                            "'{}' missed its run of {missed}; schedules are paused, so it is not made up",
                            s.name
                        );
                        continue;
                    }
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
        Err(e) => tracing::error!("cannot read the schedules to catch up missed runs: {e}"),
    }
    loop {
        let now = Utc::now();
        let schedules = match store.list_schedules().await {
            Ok(s) => s,
            Err(e) => {
                tracing::error!("cannot read the schedules: {e}");
                Vec::new()
            }
        };
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
                    let max_ms = u64::try_from(s.jitter_seconds)
                        .unwrap_or(0)
                        .saturating_mul(1000);
                    Duration::from_millis(fastrand::u64(0..max_ms.max(1)))
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
    // Let running scans finish (they are recorded as a whole or not at all);
    // those still running after a grace period are cancelled (recorded as
    // such) rather than holding the process up to their deadline.
    let grace = tokio::time::sleep(SHUTDOWN_GRACE);
    tokio::pin!(grace);
    loop {
        tokio::select! {
            next = running.join_next() => if next.is_none() { break },
            _ = &mut grace, if !ctx.cancel.is_cancelled() => {
                tracing::warn!("scans still running {}s after the stop: cancelling them", SHUTDOWN_GRACE.as_secs());
                ctx.cancel.cancel();
            }
        }
    }
}

/// How long a stopping scheduler waits for its scans before cancelling them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Scans a killed scheduler left half done: the store marked them
/// interrupted when it opened (and quarantined the targets that keep being
/// interrupted); run each other target's scan again, once.
async fn retry_interrupted(ctx: &Context, running: &mut tokio::task::JoinSet<()>) {
    let store = ctx.store();
    let found = async {
        Ok::<_, StoreError>((
            store.interrupted_scheduled_scans().await?,
            store.list_targets().await?,
            store.list_schedules().await?,
        ))
    }
    .await;
    let (retry, targets, list) = match found {
        Ok(f) => f,
        Err(e) => {
            tracing::error!("cannot read which scans were interrupted: {e}");
            return;
        }
    };
    for (target_id, schedule_id) in retry {
        let (Some(t), Some(s)) = (
            targets.iter().find(|t| t.id == target_id).cloned(),
            list.iter().find(|s| s.id == schedule_id).cloned(),
        ) else {
            continue;
        };
        tracing::info!("retrying the interrupted scan of {}", t.name);
        // An image found by a registry crawl is reached the way its registry is.
        let insecure = t
            .parent_id
            .and_then(|p| targets.iter().find(|r| r.id == p))
            .and_then(|r| r.registry.as_ref())
            .is_some_and(|w| w.insecure);
        let ctx2 = ctx.clone();
        running.spawn(async move {
            let hints = ScanHints {
                insecure,
                ..ScanHints::default()
            };
            scan_target(&ctx2, &t, Trigger::Schedule, Some(s.id), &s.options, &hints).await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vedette_model::Exposure;

    fn target(id: i64, kind: TargetKind, name: &str, parent_id: Option<i64>) -> TargetInfo {
        TargetInfo {
            id,
            kind,
            name: name.into(),
            exposure: Exposure::Internal,
            created_at: Utc::now(),
            group: None,
            parent_id,
            registry: None,
            host: None,
            quarantine: None,
            insecure: false,
            platform: None,
        }
    }

    #[test]
    fn each_target_is_scanned_once_and_a_crawl_covers_its_images() {
        let reg = target(1, TargetKind::Registry, "r.example", None);
        // Found by today's crawl, and also selected by itself.
        let api = target(2, TargetKind::Image, "r.example/shop/api:1", Some(1));
        // Found by an earlier crawl, not by today's (its tag moved on).
        let old = target(3, TargetKind::Image, "r.example/shop/api:0", Some(1));
        // An image of another registry, and a directory.
        let other = target(4, TargetKind::Image, "ghcr.io/acme/x:1", None);
        let dir = target(5, TargetKind::Directory, "/srv/root", None);
        let crawled = vec![
            (
                api.clone(),
                ScanHints {
                    digest: Some("sha256:a".into()),
                    ..ScanHints::default()
                },
            ),
            (api.clone(), ScanHints::default()),
        ];
        let selected = [reg, api, old, other, dir];
        let registries: BTreeSet<i64> = [1].into_iter().collect();
        let work = dedupe(crawled, &selected, &registries, |_| None);
        let ids: Vec<i64> = work.iter().map(|(t, _)| t.id).collect();
        assert_eq!(ids, [2, 4, 5]);
        assert_eq!(
            work[0].1.digest.as_deref(),
            Some("sha256:a"),
            "with what the crawl knows"
        );
    }
}

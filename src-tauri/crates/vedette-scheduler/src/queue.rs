//! Scans shared out over machines: on a shared PostgreSQL, a run queues one
//! job per target instead of scanning them itself, and workers (`vedette
//! serve --role worker`, on any machine) claim and scan them (see
//! `vedette_store`'s jobs for the lease and the limits).

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use vedette_model::{Schedule, ScheduleOptions, TargetInfo, Trigger};
use vedette_store::NewJob;

use crate::runner::{scan_target, Context, ScanHints, TargetError, TargetResult};

/// How the queue runs.
#[derive(Debug, Clone, Copy)]
pub struct QueueSettings {
    /// How long a claim holds without its worker renewing it: a worker
    /// killed mid-scan has its job claimed again this long after.
    pub lease: Duration,
    /// Claims of one job before it fails (and its target is quarantined).
    pub max_attempts: u32,
    /// How often an idle worker, and a scheduler waiting for its run's
    /// jobs, look at the queue.
    pub poll: Duration,
    /// Whether the process that queues a run also works that run's jobs
    /// while it waits, beside any worker: `vedette schedule run` ends even
    /// when no worker runs. `vedette serve` leaves scanning to workers
    /// (`--role scheduler`) or works the whole queue anyway (`all`).
    pub works_own_run: bool,
}

impl Default for QueueSettings {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(30),
            max_attempts: 3,
            poll: Duration::from_millis(500),
            works_own_run: true,
        }
    }
}

/// What a job carries for its worker.
#[derive(Serialize, Deserialize)]
struct Hints {
    digest: Option<String>,
    insecure: bool,
    options: ScheduleOptions,
    /// The registry's rate limit, kept by every worker together.
    #[serde(default)]
    requests_per_second: Option<f64>,
}

/// A registry's request pace kept in the team's database: every worker,
/// on any machine, reserves its requests there.
pub(crate) struct DatabasePace {
    pub(crate) store: vedette_store::Store,
    pub(crate) registry: String,
}

impl std::fmt::Debug for DatabasePace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the shared pace of {}", self.registry)
    }
}

impl vedette_engine::SharedPace for DatabasePace {
    fn reserve(&self, interval: Duration) -> vedette_engine::Reservation<'_> {
        Box::pin(async move {
            self.store
                .reserve_request(&self.registry, interval)
                .await
                .map_err(Into::into)
        })
    }
}

/// A rate limit of `per_second` requests to `registry`, kept with every
/// worker sharing `store`.
pub(crate) fn shared_rate(
    store: &vedette_store::Store,
    registry: String,
    per_second: f64,
) -> Arc<vedette_engine::RateLimiter> {
    let pace = DatabasePace {
        store: store.clone(),
        registry,
    };
    Arc::new(vedette_engine::RateLimiter::shared(
        per_second,
        Arc::new(pace),
    ))
}

/// Queues `work` as jobs of one run and waits until every one has ended;
/// the results as a run in this process would give them.
pub(crate) async fn scan_by_workers(
    ctx: &Context,
    settings: QueueSettings,
    schedule: &Schedule,
    work: Vec<(TargetInfo, ScanHints)>,
) -> Vec<TargetResult> {
    let store = ctx.store();
    let run = format!(
        "{} {} {}",
        schedule.id,
        chrono::Utc::now().timestamp_micros(),
        std::process::id()
    );
    let names: std::collections::HashMap<i64, String> =
        work.iter().map(|(t, _)| (t.id, t.name.clone())).collect();
    let jobs: Vec<NewJob> = work
        .iter()
        .map(|(t, h)| NewJob {
            target_id: t.id,
            schedule_id: Some(schedule.id),
            registry: vedette_scan::registry_of(t),
            hints: serde_json::to_string(&Hints {
                digest: h.digest.clone(),
                insecure: h.insecure,
                options: schedule.options.clone(),
                requests_per_second: h.rate.as_ref().and_then(|r| r.limit()),
            })
            .unwrap_or_else(|_| "{}".into()),
        })
        .collect();
    if let Err(e) = store.enqueue_jobs(&run, &jobs).await {
        tracing::error!("cannot queue the run's {} scans: {e}", jobs.len());
        return work
            .into_iter()
            .map(|(t, _)| failed(&t.name, format!("it could not be queued: {e}")))
            .collect();
    }
    tracing::info!("queued {} scans for the workers (run {run})", jobs.len());
    // When no worker takes any of its jobs for a while (none runs, or all
    // are busy), this process scans them itself, beside any worker that
    // starts meanwhile (unless it leaves scanning to workers).
    let (mut stop_own, mut own) = (None, None);
    let (mut claimed_before, mut progressed) = (0, std::time::Instant::now());
    let mut said = std::time::Instant::now();
    loop {
        tokio::time::sleep(settings.poll).await;
        let ended = match store.run_jobs(&run).await {
            Ok(all) if all.iter().all(|j| j.state == "done" || j.state == "failed") => all,
            Ok(all) => {
                let claimed = all.iter().filter(|j| j.state != "queued").count();
                if claimed > claimed_before {
                    (claimed_before, progressed) = (claimed, std::time::Instant::now());
                }
                if own.is_none()
                    && settings.works_own_run
                    && claimed < all.len()
                    && progressed.elapsed() >= settings.poll * UNTAKEN_POLLS
                {
                    tracing::info!(
                        "no worker took a scan of this run for {:.0} s; this process scans them itself (workers that start take their share)",
                        progressed.elapsed().as_secs_f64()
                    );
                    let (tx, rx) = tokio::sync::watch::channel(false);
                    let (ctx, run) = (ctx.clone(), run.clone());
                    stop_own = Some(tx);
                    own = Some(tokio::spawn(async move {
                        work_on(ctx, settings, rx, Some(&run)).await;
                    }));
                }
                // Say where the run stands, so that a run no worker takes
                // is seen waiting, not stuck.
                if own.is_none() && said.elapsed() >= WAITING_NOTE {
                    tracing::warn!(
                        "{claimed} of {} scans of the run taken by workers so far; the others wait for a `vedette serve --role worker` (or `all`) on this database",
                        all.len()
                    );
                    said = std::time::Instant::now();
                }
                continue;
            }
            Err(e) => {
                tracing::warn!("cannot read the run's jobs: {e}");
                continue;
            }
        };
        if let Some(stop) = stop_own.take() {
            stop.send_replace(true);
        }
        if let Some(own) = own.take() {
            if let Err(e) = own.await {
                tracing::warn!("this process's work on its run stopped: {e}");
            }
        }
        let mut results = Vec::with_capacity(ended.len());
        for j in ended {
            let target = names.get(&j.target_id).cloned().unwrap_or_default();
            let new_findings = match j.scan_id {
                Some(id) if j.error.is_none() => match store.scan_diff(id).await {
                    Ok(d) => d.new,
                    Err(e) => {
                        tracing::warn!("{target}: cannot read what scan {id} found: {e}");
                        Vec::new()
                    }
                },
                _ => Vec::new(),
            };
            results.push(TargetResult {
                target,
                scan_id: j.scan_id,
                error: j.error.map(|message| TargetError {
                    kind: vedette_scan::ErrorKind::Unavailable,
                    message,
                }),
                new_findings,
                reused_inventory: false,
                carried_over: false,
            });
        }
        return results;
    }
}

fn failed(target: &str, message: String) -> TargetResult {
    TargetResult {
        target: target.to_owned(),
        scan_id: None,
        error: Some(TargetError {
            kind: vedette_scan::ErrorKind::Unavailable,
            message,
        }),
        new_findings: Vec::new(),
        reused_inventory: false,
        carried_over: false,
    }
}

/// Polls of a run's jobs with none newly taken by a worker, after which the
/// process that queued the run scans them itself (when it may).
const UNTAKEN_POLLS: u32 = 10;

/// How often a run waiting for its jobs says where it stands.
const WAITING_NOTE: Duration = Duration::from_secs(30);

/// How often a worker refreshes its advisory index.
const REFRESH_EVERY: Duration = Duration::from_secs(15 * 60);

/// Claims and scans jobs, `ctx.limits.global` at once, until `stop`.
pub async fn work(ctx: Context, settings: QueueSettings, stop: tokio::sync::watch::Receiver<bool>) {
    work_on(ctx, settings, stop, None).await;
}

/// [`work`], on the jobs of `run` alone when it is given.
async fn work_on(
    ctx: Context,
    settings: QueueSettings,
    mut stop: tokio::sync::watch::Receiver<bool>,
    run: Option<&str>,
) {
    let worker = vedette_store::process_name();
    let slots = Arc::new(tokio::sync::Semaphore::new(ctx.limits.global.max(1)));
    let mut running = tokio::task::JoinSet::new();
    let lease = chrono::Duration::from_std(settings.lease).unwrap_or(chrono::Duration::seconds(30));
    let per_registry = i64::try_from(ctx.limits.per_registry.max(1)).unwrap_or(i64::MAX);
    let max_attempts = i64::from(settings.max_attempts.max(1));
    match run {
        None => tracing::info!("worker {worker} takes scans from the queue"),
        Some(run) => tracing::info!("{worker} scans its own run's jobs too (run {run})"),
    }
    // The advisory index is this machine's: fresh before the first scan
    // and again as it ages (a run's scheduler refreshes only its own).
    // (A run's own process refreshed them as the run began.)
    let mut refreshed: Option<std::time::Instant> = run.map(|_| std::time::Instant::now());
    loop {
        if *stop.borrow() {
            break;
        }
        if refreshed.is_none_or(|t| t.elapsed() > REFRESH_EVERY) {
            let changed = crate::runner::refresh_feeds(&ctx).await;
            if !changed.is_empty() {
                tracing::info!("feeds updated: {}", changed.join(", "));
            }
            refreshed = Some(std::time::Instant::now());
        }
        let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
            break;
        };
        let asked = std::time::Instant::now();
        let job = match ctx
            .store()
            .claim_job(&worker, lease, per_registry, max_attempts, run)
            .await
        {
            Ok(Some(job)) => {
                tracing::debug!(
                    job = job.id,
                    claim_ms = asked.elapsed().as_secs_f64() * 1000.0,
                    "claimed"
                );
                job
            }
            Ok(None) => {
                drop(slot);
                tokio::select! {
                    _ = stop.changed() => {}
                    _ = tokio::time::sleep(settings.poll) => {}
                }
                continue;
            }
            Err(e) => {
                drop(slot);
                tracing::warn!("cannot claim a job: {e}");
                tokio::time::sleep(settings.poll).await;
                continue;
            }
        };
        let (ctx, worker) = (ctx.clone(), worker.clone());
        running.spawn(async move {
            run_job(&ctx, &worker, job, lease).await;
            drop(slot);
        });
        while running.try_join_next().is_some() {}
    }
    while running.join_next().await.is_some() {}
}

async fn run_job(ctx: &Context, worker: &str, job: vedette_store::Job, lease: chrono::Duration) {
    let store = ctx.store();
    // A job claimed again: the scan its dead worker left running is over.
    if let Some(previous) = job.previous.as_deref().filter(|w| *w != worker) {
        match store.interrupt_scans_of(job.target_id, previous).await {
            Ok(n) => tracing::info!(
                "job {} again: its worker {previous} stopped ({n} scan marked interrupted)",
                job.id
            ),
            Err(e) => tracing::warn!("cannot mark the scans {previous} left running: {e}"),
        }
    }
    let Some(target) = store.get_target(job.target_id).await.ok().flatten() else {
        if let Err(e) = store
            .finish_job(job.id, worker, None, Some("its target was removed"))
            .await
        {
            tracing::warn!("cannot record the end of job {}: {e}", job.id);
        }
        return;
    };
    let hints: Hints = match serde_json::from_str(&job.hints) {
        Ok(h) => h,
        Err(e) => {
            let why = format!("its hints do not read: {e}");
            if let Err(e) = store.finish_job(job.id, worker, None, Some(&why)).await {
                tracing::warn!("cannot record the end of job {}: {e}", job.id);
            }
            return;
        }
    };
    // Renew the lease while the scan runs.
    let renew = {
        let (store, worker, id) = (store.clone(), worker.to_owned(), job.id);
        let every = (lease / 3).to_std().unwrap_or(Duration::from_secs(10));
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                match store.renew_job(id, &worker, lease).await {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(e) => tracing::warn!("cannot renew the lease of job {id}: {e}"),
                }
            }
        })
    };
    let scan_hints = ScanHints {
        digest: hints.digest,
        insecure: hints.insecure,
        rate: hints
            .requests_per_second
            .zip(vedette_scan::registry_of(&target))
            .map(|(per_second, registry)| shared_rate(store, registry, per_second)),
    };
    let result = scan_target(
        ctx,
        &target,
        Trigger::Schedule,
        job.schedule_id,
        &hints.options,
        &scan_hints,
    )
    .await;
    renew.abort();
    let error = result.error.as_ref().map(|e| e.message.clone());
    match store
        .finish_job(job.id, worker, result.scan_id, error.as_deref())
        .await
    {
        Ok(true) => {}
        Ok(false) => tracing::warn!(
            "job {} was taken over while it ran (its lease ran out); its scan stays in the history",
            job.id
        ),
        Err(e) => tracing::warn!("cannot record the end of job {}: {e}", job.id),
    }
}

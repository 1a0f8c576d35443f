//! `vedette schedule list|add|edit|enable|disable|remove|run` and `vedette serve`.

use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use vedette_app::App;
use vedette_app::{CronSchedule, RunSummary, SchedulerContext};
use vedette_model::{Schedule, ScheduleInput, ScheduleOptions, TargetKind, TargetSelector};

use crate::feed::FeedArgs;
use crate::scan::SeverityArg;
use crate::{clean, usage, Failure, Format};

#[derive(Subcommand)]
pub enum ScheduleCommand {
    /// Every schedule: when it runs next, what it scans.
    List {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// One schedule and its next five runs.
    Show {
        id: i64,
    },
    /// Adds a schedule (enabled unless --disabled).
    Add {
        #[arg(long)]
        name: String,
        #[command(flatten)]
        spec: Spec,
    },
    /// Changes what is given; the rest stays.
    Edit {
        id: i64,
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        spec: Spec,
    },
    Enable {
        id: i64,
    },
    Disable {
        id: i64,
    },
    Remove {
        id: i64,
    },
    /// Runs a schedule now, in this process, and says what it found.
    Run {
        id: i64,
    },
    /// Pauses every schedule of the data dir (`vedette serve`, the window):
    /// kept until `vedette schedule resume`, across restarts.
    Pause,
    /// Lets the schedules run again.
    Resume,
}

#[derive(Clone, Copy, ValueEnum)]
enum Preset {
    Hourly,
    Daily,
    Weekly,
}

#[derive(Clone, Copy, ValueEnum)]
enum KindArg {
    Image,
    Registry,
    Host,
    Directory,
    Archive,
    Sbom,
}

#[derive(Args)]
pub struct Spec {
    /// Cron expression: 5 fields (minute hour day-of-month month day-of-week), or 6 with seconds first.
    #[arg(long, conflicts_with = "preset")]
    cron: Option<String>,
    /// hourly (0 * * * *), daily (0 3 * * *) or weekly (0 3 * * 1).
    #[arg(long, value_enum)]
    preset: Option<Preset>,
    /// IANA time zone (Europe/Paris) or "local".
    #[arg(long)]
    timezone: Option<String>,
    /// Only targets of this kind (repeatable).
    #[arg(long = "kind", value_enum)]
    kinds: Vec<KindArg>,
    /// Only targets whose name matches this glob, e.g. 'registry.example.com/shop/*'.
    #[arg(long = "targets", value_name = "GLOB")]
    targets: Option<String>,
    /// Only targets of this group ('' for any group).
    #[arg(long)]
    group: Option<String>,
    #[arg(long, value_enum)]
    fail_on: Option<SeverityArg>,
    #[arg(long)]
    ignore_unfixed: bool,
    /// Add it disabled.
    #[arg(long)]
    disabled: bool,
    /// Do not run a missed run at the next start.
    #[arg(long)]
    no_catch_up: bool,
    /// Up to this many seconds of random delay before each run.
    #[arg(long, value_name = "SECONDS")]
    jitter: Option<i64>,
}

impl Spec {
    fn cron(&self) -> Option<String> {
        self.cron.clone().or(self.preset.map(|p| {
            match p {
                Preset::Hourly => "0 * * * *",
                Preset::Daily => "0 3 * * *",
                Preset::Weekly => "0 3 * * 1",
            }
            .to_owned()
        }))
    }

    fn apply(&self, base: ScheduleInput) -> ScheduleInput {
        let mut s = base;
        if let Some(c) = self.cron() {
            s.cron = c;
        }
        if let Some(tz) = &self.timezone {
            s.timezone = tz.clone();
        }
        if !self.kinds.is_empty() {
            s.selector.kinds = self
                .kinds
                .iter()
                .map(|k| match k {
                    KindArg::Image => TargetKind::Image,
                    KindArg::Registry => TargetKind::Registry,
                    KindArg::Host => TargetKind::Host,
                    KindArg::Directory => TargetKind::Directory,
                    KindArg::Archive => TargetKind::Archive,
                    KindArg::Sbom => TargetKind::Sbom,
                })
                .collect();
        }
        if let Some(g) = &self.targets {
            s.selector.name_glob = Some(g.clone()).filter(|g| !g.is_empty());
        }
        if let Some(g) = &self.group {
            s.selector.group = Some(g.clone()).filter(|g| !g.is_empty());
        }
        if let Some(f) = self.fail_on {
            s.options.fail_on = Some(f.into());
        }
        if self.ignore_unfixed {
            s.options.ignore_unfixed = true;
        }
        if self.disabled {
            s.enabled = false;
        }
        if self.no_catch_up {
            s.catch_up = false;
        }
        if let Some(j) = self.jitter {
            s.jitter_seconds = j;
        }
        s
    }
}

fn input_of(s: &Schedule) -> ScheduleInput {
    ScheduleInput {
        name: s.name.clone(),
        cron: s.cron.clone(),
        timezone: s.timezone.clone(),
        selector: s.selector.clone(),
        options: s.options.clone(),
        enabled: s.enabled,
        catch_up: s.catch_up,
        jitter_seconds: s.jitter_seconds,
    }
}

fn next_run(s: &Schedule) -> String {
    match CronSchedule::parse(&s.cron, &s.timezone) {
        Ok(c) if s.enabled => c
            .next_after(chrono::Utc::now())
            .map(|t| {
                t.with_timezone(&chrono::Local)
                    .format("%Y-%m-%d %H:%M")
                    .to_string()
            })
            .unwrap_or_else(|| "never".into()),
        Ok(_) => "(disabled)".into(),
        Err(_) => "(invalid)".into(),
    }
}

pub async fn run(app: &App, feed_args: &FeedArgs, cmd: ScheduleCommand) -> Result<u8, Failure> {
    match cmd {
        ScheduleCommand::List { format } => {
            let list = app.schedules().await?;
            print_schedules(&list, format)?;
            if app.schedules_paused().await? {
                eprintln!("Schedules are paused: none runs until `vedette schedule resume`.");
            }
            Ok(0)
        }
        ScheduleCommand::Show { id } => {
            let s = app.schedule(id).await?;
            let cron =
                CronSchedule::parse(&s.cron, &s.timezone).map_err(|e| usage(e.to_string()))?;
            println!(
                "{} ({})",
                s.name,
                if s.enabled { "enabled" } else { "disabled" }
            );
            println!(
                "  when:     {}  ({}, {})",
                cron.describe(),
                s.cron,
                s.timezone
            );
            println!("  scans:    {}", s.selector.describe());
            println!(
                "  catch-up: {}  jitter: up to {} s",
                if s.catch_up { "yes" } else { "no" },
                s.jitter_seconds
            );
            if let Some(t) = s.last_run_at {
                println!(
                    "  last run: {}",
                    t.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M:%S")
                );
            }
            println!("  next runs:");
            for t in cron.upcoming(chrono::Utc::now(), 5) {
                println!("    {}", cron.format_in_zone(t));
            }
            Ok(0)
        }
        ScheduleCommand::Add { name, spec } => {
            let Some(cron) = spec.cron() else {
                return Err(usage("give --cron EXPR or --preset hourly|daily|weekly"));
            };
            let base = ScheduleInput {
                name,
                cron,
                timezone: "local".into(),
                selector: TargetSelector::default(),
                options: ScheduleOptions::default(),
                enabled: true,
                catch_up: true,
                jitter_seconds: 0,
            };
            let input = spec.apply(base);
            let s = app.save_schedule(None, &input).await?;
            let cron =
                CronSchedule::parse(&s.cron, &s.timezone).map_err(|e| usage(e.to_string()))?;
            eprintln!(
                "Added schedule {} '{}': {} ({}).",
                s.id,
                s.name,
                cron.describe(),
                s.timezone
            );
            Ok(0)
        }
        ScheduleCommand::Edit { id, name, spec } => {
            let s = app.schedule(id).await?;
            let mut input = spec.apply(input_of(&s));
            if let Some(n) = name {
                input.name = n;
            }
            app.save_schedule(Some(id), &input).await?;
            eprintln!("Schedule {id} updated.");
            Ok(0)
        }
        ScheduleCommand::Enable { id } | ScheduleCommand::Disable { id } => {
            let enable = matches!(cmd, ScheduleCommand::Enable { .. });
            app.set_schedule_enabled(id, enable).await?;
            eprintln!(
                "Schedule {id} {}.",
                if enable { "enabled" } else { "disabled" }
            );
            Ok(0)
        }
        ScheduleCommand::Remove { id } => {
            app.remove_schedule(id).await?;
            eprintln!("Schedule {id} removed.");
            Ok(0)
        }
        ScheduleCommand::Pause => pause(app, true).await,
        ScheduleCommand::Resume => pause(app, false).await,
        ScheduleCommand::Run { id } => {
            let (ctx, _temp) = context(app, feed_args).await?;
            let summary = app.run_schedule(&ctx, id).await;
            app.close_scheduler(&ctx).await;
            // The summary was printed as the run finished (LogEvents).
            let summary = summary?;
            // The run's messages go out before this process ends, or wait
            // in the outbox for `vedette serve` (or the window).
            match app.notify_flush(std::time::Duration::from_secs(10)).await {
                Ok(0) => {}
                Ok(n) => eprintln!(
                    "vedette: {n} notification(s) could not be sent yet: they stay queued, and `vedette serve` (or the window) sends them; `vedette notify log` shows why"
                ),
                Err(e) => eprintln!("vedette: notifications were not sent: {e}"),
            }
            Ok(if summary.scans.iter().any(|s| s.error.is_some()) {
                3
            } else {
                0
            })
        }
    }
}

async fn pause(app: &App, paused: bool) -> Result<u8, Failure> {
    app.set_schedules_paused(paused).await?;
    eprintln!(
        "vedette: schedules {} (for `vedette serve` and the window, until `vedette schedule {}`)",
        if paused { "paused" } else { "resumed" },
        if paused { "resume" } else { "pause" }
    );
    Ok(0)
}

fn print_summary(s: &RunSummary) {
    println!(
        "{}: {} target(s) scanned, {} re-matched, {} new finding(s)",
        s.schedule_name,
        s.scans.len(),
        s.rematched,
        s.new_findings.len()
    );
    for t in &s.scans {
        let id = t
            .scan_id
            .map(|i| i.to_string())
            .unwrap_or_else(|| "-".into());
        match &t.error {
            None if t.carried_over => println!(
                "  scan {id:>4}  {}  (unchanged: findings carried over, not matched again)",
                clean(&t.target)
            ),
            None if t.reused_inventory => println!(
                "  scan {id:>4}  {}  (digest unchanged: not pulled, matched again)",
                clean(&t.target)
            ),
            None => println!("  scan {id:>4}  {}", clean(&t.target)),
            Some(e) => println!(
                "  scan {id:>4}  {}  FAILED: {}",
                clean(&t.target),
                clean(&e.message)
            ),
        }
    }
    for w in &s.warnings {
        println!("  warning: {}", clean(w));
    }
    for n in &s.new_findings {
        println!(
            "  new: {} in {} {} ({}; {})",
            clean(&n.finding.id),
            clean(&n.finding.package),
            clean(&n.finding.version),
            n.finding.severity,
            n.cause.describe()
        );
    }
}

/// A scheduler context over this data dir.
async fn context(
    app: &App,
    feed_args: &FeedArgs,
) -> Result<(SchedulerContext, tempfile::TempDir), Failure> {
    Ok(app
        .scheduler(&feed_args.sources(), Arc::new(LogEvents))
        .await?)
}

struct LogEvents;

impl vedette_app::Events for LogEvents {
    fn run_started(&self, s: &Schedule) {
        eprintln!("vedette: running '{}'", s.name);
    }
    fn run_finished(&self, r: &RunSummary) {
        print_summary(r);
    }
}

/// `vedette serve`: the scheduler without a window, one per data dir.
/// What a `vedette serve` does on a shared database.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Role {
    Scheduler,
    Worker,
    All,
}

/// `vedette serve --role worker`: takes scans from the shared queue until
/// SIGTERM or Ctrl-C, then lets the running ones finish.
async fn work(app: &App, feed_args: &FeedArgs) -> Result<u8, Failure> {
    let (ctx, _temp) = context(app, feed_args).await?;
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| Failure::from(anyhow::anyhow!("cannot listen for SIGTERM: {e}")))?;
    let (tx, rx) = tokio::sync::watch::channel(false);
    eprintln!(
        "vedette: worker {} takes scans from the queue of {}; stop with Ctrl-C or SIGTERM",
        std::process::id(),
        app.store().place()
    );
    let worker = tokio::spawn(vedette_app::work_queue(ctx.clone(), rx));
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    eprintln!("vedette: stopping after the running scans finish");
    tx.send_replace(true);
    if let Err(e) = worker.await {
        eprintln!("vedette: the worker stopped unexpectedly: {e}");
    }
    app.close_scheduler(&ctx).await;
    Ok(0)
}

/// How often a scheduler standing by asks for the lock again.
const STANDBY_RETRY: Duration = Duration::from_secs(2);

pub async fn serve(
    app: &App,
    feed_args: &FeedArgs,
    poll: Duration,
    api: Option<(&str, &vedette_api::TlsOptions)>,
    role: Role,
) -> Result<u8, Failure> {
    let shared = app.store().shares_queue();
    if role != Role::All && !shared {
        return Err(crate::usage(
            "--role scheduler and --role worker share scans through a PostgreSQL database (--database postgres://…); with the data dir's SQLite, `vedette serve` schedules and scans by itself",
        ));
    }
    if role == Role::Worker {
        return work(app, feed_args).await;
    }
    // `all` on a shared database also works the queue, standing by or not.
    let local_worker = if role == Role::All && shared {
        let (ctx, temp) = context(app, feed_args).await?;
        let (tx, rx) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(vedette_app::work_queue(ctx.clone(), rx));
        Some((tx, task, ctx, temp))
    } else {
        None
    };
    // On a shared database another machine's scheduler may hold the lock:
    // this one waits, and takes over when that one stops.
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| Failure::from(anyhow::anyhow!("cannot listen for SIGTERM: {e}")))?;
    let mut waiting = false;
    let _lock = loop {
        match app.scheduler_lock().await {
            Ok(lock) => {
                if waiting {
                    eprintln!(
                        "vedette: the other scheduler stopped; this one runs the schedules now"
                    );
                }
                break lock;
            }
            Err(e @ vedette_app::LockError::HeldElsewhere { .. }) => {
                if !waiting {
                    eprintln!("vedette: standing by: {e}");
                    waiting = true;
                }
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => return Ok(0),
                    _ = term.recv() => return Ok(0),
                    _ = tokio::time::sleep(STANDBY_RETRY) => {}
                }
            }
            Err(e) => return Err(Failure::from(anyhow::anyhow!("{e}"))),
        }
    };
    let (mut ctx, _temp) = context(app, feed_args).await?;
    // Scans are the workers' (`all` runs one in this process).
    if let Some(q) = ctx.queue.as_mut() {
        q.works_own_run = false;
    }
    let (api_stop, api_stopped) = tokio::sync::oneshot::channel::<()>();
    let api_task = match api {
        None => None,
        Some((addr, tls)) => {
            let endpoint = vedette_api::bind(addr, tls).await.map_err(|e| Failure {
                code: 3,
                error: anyhow::anyhow!("{e}"),
            })?;
            let rate = vedette_api::RateLimit::from_env().map_err(crate::usage)?;
            let state = vedette_api::ApiState::new(
                app.clone(),
                feed_args.sources(),
                Some(ctx.clone()),
                rate,
            );
            eprintln!("vedette: {}", endpoint.describe());
            app.set_link_base(Some(endpoint.url().trim_end_matches("/api/v1").to_owned()));
            Some(tokio::spawn(vedette_api::serve(
                state,
                endpoint,
                async move {
                    // Dropped or sent: either way it is time to stop.
                    let _ = api_stopped.await;
                },
            )))
        }
    };
    let (tx, rx) = tokio::sync::watch::channel(false);
    let enabled = app.schedules().await?.iter().filter(|s| s.enabled).count();
    eprintln!(
        "vedette: serving schedules for {} ({enabled} enabled); stop with Ctrl-C or SIGTERM",
        app.store().place()
    );
    // A pause set by the window or `vedette schedule pause` holds here too.
    ctx.paused.store(
        app.schedules_paused().await?,
        std::sync::atomic::Ordering::SeqCst,
    );
    if ctx.paused.load(std::sync::atomic::Ordering::SeqCst) {
        eprintln!("vedette: schedules are paused (`vedette schedule resume`)");
    }
    let pause = {
        let (app, paused, rx) = (app.clone(), ctx.paused.clone(), rx.clone());
        tokio::spawn(async move { app.follow_pause(paused, poll, rx).await })
    };
    let runner = tokio::spawn(vedette_app::serve_schedules(ctx.clone(), poll, rx.clone()));
    // Nodes that stay without a verdict past the gate policy's limit.
    let gate = {
        let app = app.clone();
        let rx = rx.clone();
        tokio::spawn(async move { app.watch_gate(poll, rx).await })
    };
    // Messages about what the runs (and the API's scans) found.
    let notifications = {
        let app = app.clone();
        let every = poll.min(std::time::Duration::from_secs(5));
        tokio::spawn(async move { app.watch_notifications(every, rx).await })
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    eprintln!("vedette: stopping after the running scans finish");
    // The runner may already be gone; then there is nothing to tell it.
    tx.send_replace(true);
    if let Err(e) = runner.await {
        eprintln!("vedette: the scheduler stopped unexpectedly: {e}");
    }
    if let Err(e) = gate.await {
        eprintln!("vedette: the gate's watch stopped unexpectedly: {e}");
    }
    if let Err(e) = pause.await {
        eprintln!("vedette: following the pause stopped unexpectedly: {e}");
    }
    if let Err(e) = notifications.await {
        eprintln!("vedette: notifications stopped unexpectedly: {e}");
    }
    // What is still due goes out before serve ends (within a few seconds).
    if let Err(e) = app.notify_flush(std::time::Duration::from_secs(5)).await {
        eprintln!("vedette: notifications were not sent: {e}");
    }
    // The API's task may be gone already; then there is nothing to stop.
    let _ = api_stop.send(());
    if let Some(t) = api_task {
        match t.await {
            Ok(Err(e)) => eprintln!("vedette: the API stopped with an error: {e}"),
            Err(e) => eprintln!("vedette: the API stopped unexpectedly: {e}"),
            Ok(Ok(())) => {}
        }
    }
    app.close_scheduler(&ctx).await;
    if let Some((tx, task, ctx, _temp)) = local_worker {
        tx.send_replace(true);
        if let Err(e) = task.await {
            eprintln!("vedette: the worker stopped unexpectedly: {e}");
        }
        app.close_scheduler(&ctx).await;
    }
    Ok(0)
}

/// Schedules as `vedette schedule list` prints them (locally or from a console).
pub(crate) fn print_schedules(list: &[Schedule], format: Format) -> Result<(), Failure> {
    if let Format::Json = format {
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(());
    }
    println!(
        "{:>3}  {:<8}  {:<40}  {:<14}  {:<16}  {:<17}  TARGETS",
        "ID", "STATE", "NAME", "CRON", "TIME ZONE", "NEXT RUN"
    );
    for s in list {
        println!(
            "{:>3}  {:<8}  {:<40}  {:<14}  {:<16}  {:<17}  {}",
            s.id,
            if s.enabled { "enabled" } else { "disabled" },
            s.name,
            s.cron,
            s.timezone,
            next_run(s),
            s.selector.describe()
        );
    }
    if list.iter().any(|s| s.system && !s.enabled) {
        eprintln!("The weekly scan of everything is off; `vedette schedule enable 1` turns it on.");
    }
    Ok(())
}

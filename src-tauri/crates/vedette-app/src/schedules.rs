//! Schedules: their views (what the cron means, when next, which targets),
//! checking one as it is typed, saving, and running one now.

use vedette_model::{
    Activity, Schedule, ScheduleInput, SchedulePreview, ScheduleRunTime, ScheduleView,
    TargetSelector,
};
pub use vedette_scheduler::{
    alarms, serve as serve_schedules, CronSchedule, Events, LockError, RunSummary, SchedulerLock,
    TargetResult,
};

use crate::{App, AppError, Result};

/// A worker: claims scans from the shared queue and runs them with `ctx`
/// (its limits: how many at once here) until `stop`.
pub async fn work_queue(ctx: vedette_scheduler::Context, stop: tokio::sync::watch::Receiver<bool>) {
    let settings = ctx.queue.unwrap_or_default();
    vedette_scheduler::work(ctx, settings, stop).await
}

/// The setting that pauses every scheduler of the data dir.
const PAUSED: &str = "schedules_paused";

impl App {
    /// This process's scheduler over the data dir: feeds with `sources`,
    /// the environment's limits, `events` told of each run, a private temp
    /// dir (returned: it lives as long as the caller keeps it).
    pub async fn scheduler(
        &self,
        sources: &crate::FeedSources,
        events: std::sync::Arc<dyn Events>,
    ) -> Result<(vedette_scheduler::Context, tempfile::TempDir)> {
        let feeds = self.feeds(sources).await?;
        Ok(self.scheduler_context(feeds.store, feeds.config, events)?)
    }

    /// Done with what [`App::scheduler`] opened (the advisory index is the
    /// process's: [`App::close`] closes it).
    pub async fn close_scheduler(&self, _ctx: &vedette_scheduler::Context) {}

    /// Whether schedules are paused (the tray, `vedette schedule pause`):
    /// kept in the data dir, so it outlives the process that set it.
    pub async fn schedules_paused(&self) -> Result<bool> {
        Ok(self.store().setting(PAUSED).await?.as_deref() == Some("true"))
    }

    pub async fn set_schedules_paused(&self, paused: bool) -> Result<()> {
        self.store()
            .set_setting(PAUSED, if paused { "true" } else { "false" })
            .await?;
        self.schedules_changed();
        Ok(())
    }

    /// Keeps `paused` as the data dir says, every `every`, until `stop`
    /// says so: a pause set by another process (the window, the CLI)
    /// reaches this process's scheduler.
    pub async fn follow_pause(
        &self,
        paused: std::sync::Arc<std::sync::atomic::AtomicBool>,
        every: std::time::Duration,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) {
        loop {
            match self.schedules_paused().await {
                Ok(p) => {
                    if paused.swap(p, std::sync::atomic::Ordering::SeqCst) != p {
                        tracing::info!("schedules {}", if p { "paused" } else { "resumed" });
                    }
                }
                Err(e) => tracing::warn!("cannot read whether schedules are paused: {e}"),
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                r = stop.changed() => if r.is_err() || *stop.borrow() { return },
            }
        }
    }

    pub async fn schedules(&self) -> Result<Vec<Schedule>> {
        Ok(self.store().list_schedules().await?)
    }

    pub async fn schedule(&self, id: i64) -> Result<Schedule> {
        self.store().schedule(id).await?.ok_or_else(|| {
            AppError::NotFound(format!(
                "there is no schedule {id}; `vedette schedule list` shows them"
            ))
        })
    }

    /// Every schedule with what its cron means, its next run and how many
    /// targets it picks now.
    pub async fn schedule_views(&self) -> Result<Vec<ScheduleView>> {
        let schedules = self.schedules().await?;
        let targets = self.targets().await?;
        let now = chrono::Utc::now();
        Ok(schedules
            .into_iter()
            .map(|s| {
                let cron = CronSchedule::parse(&s.cron, &s.timezone);
                let n = targets.iter().filter(|t| s.selector.matches(t)).count();
                ScheduleView {
                    description: match &cron {
                        Ok(c) => c.describe(),
                        Err(e) => e.to_string(),
                    },
                    next_run: cron
                        .ok()
                        .filter(|_| s.enabled)
                        .and_then(|c| c.next_after(now))
                        .map(|t| t.to_rfc3339()),
                    targets_now: format!("{} ({n} now)", s.selector.describe()),
                    schedule: s,
                }
            })
            .collect())
    }

    /// What a cron expression and time zone mean, their next runs, and the
    /// targets a selector picks now: the dialog asks as the user types.
    pub async fn schedule_preview(
        &self,
        cron: &str,
        timezone: &str,
        selector: &TargetSelector,
    ) -> Result<SchedulePreview> {
        let c = CronSchedule::parse(cron, timezone).map_err(AppError::invalid)?;
        let runs = c.upcoming(chrono::Utc::now(), 5);
        let targets = self
            .targets()
            .await?
            .into_iter()
            .filter(|t| selector.matches(t))
            .collect();
        Ok(SchedulePreview {
            description: c.describe(),
            next_runs: runs.iter().map(|t| t.to_rfc3339()).collect(),
            next_runs_local: runs.iter().map(|t| c.format_in_zone(*t)).collect(),
            targets,
        })
    }

    /// Adds (no id) or replaces a schedule after checking it.
    pub async fn save_schedule(&self, id: Option<i64>, input: &ScheduleInput) -> Result<Schedule> {
        vedette_scheduler::validate(input).map_err(AppError::invalid)?;
        let store = self.store();
        let saved = match id {
            Some(id) => store.update_schedule(id, input).await?,
            None => store.add_schedule(input).await?,
        };
        self.schedules_changed();
        Ok(saved)
    }

    pub async fn set_schedule_enabled(&self, id: i64, enabled: bool) -> Result<()> {
        self.store().set_schedule_enabled(id, enabled).await?;
        self.schedules_changed();
        Ok(())
    }

    pub async fn remove_schedule(&self, id: i64) -> Result<()> {
        self.store().remove_schedule(id).await?;
        self.schedules_changed();
        Ok(())
    }

    /// Runs a schedule now in `ctx` (this process's scheduler) and waits for
    /// it; a schedule already running is not started twice.
    pub async fn run_schedule(
        &self,
        ctx: &vedette_scheduler::Context,
        id: i64,
    ) -> Result<RunSummary> {
        let s = self.schedule(id).await?;
        vedette_scheduler::run_schedule(ctx, &s)
            .await
            .map_err(|e| match e {
                vedette_scheduler::RunError::Busy(m) => {
                    AppError::Busy(format!("'{m}' is running already"))
                }
                vedette_scheduler::RunError::Store(e) => AppError::Store(e),
                vedette_scheduler::RunError::Feeds(e) => AppError::Feeds(e),
                other => AppError::Internal(other.to_string()),
            })
    }

    /// The dashboard's most exploitable findings and the schedules' last and
    /// next runs.
    pub async fn activity(&self, scheduler_note: Option<String>) -> Result<Activity> {
        let most_exploitable = self.store().most_exploitable(5).await?;
        let schedules = self.schedules().await?;
        let now = chrono::Utc::now();
        let mut last_runs: Vec<ScheduleRunTime> = schedules
            .iter()
            .filter_map(|s| {
                Some(ScheduleRunTime {
                    schedule_id: s.id,
                    schedule: s.name.clone(),
                    at: s.last_run_at?.to_rfc3339(),
                })
            })
            .collect();
        last_runs.sort_by(|a, b| b.at.cmp(&a.at));
        let mut next: Vec<(chrono::DateTime<chrono::Utc>, ScheduleRunTime)> = schedules
            .iter()
            .filter(|s| s.enabled)
            .filter_map(|s| {
                let t = CronSchedule::parse(&s.cron, &s.timezone)
                    .ok()?
                    .next_after(now)?;
                Some((
                    t,
                    ScheduleRunTime {
                        schedule_id: s.id,
                        schedule: s.name.clone(),
                        at: t.to_rfc3339(),
                    },
                ))
            })
            .collect();
        next.sort_by_key(|(t, _)| *t);
        Ok(Activity {
            most_exploitable,
            last_runs: last_runs.into_iter().take(5).collect(),
            next_runs: next.into_iter().map(|(_, r)| r).take(5).collect(),
            scheduler_note,
        })
    }
}

//! When Vedette scans by itself: cron arithmetic in a time zone, the runner
//! that fires enabled schedules (fresh feeds first, concurrency limits,
//! retries, no overlapping runs, catch-up after downtime), and re-matching
//! every stored inventory when a feed update lands.

mod cron;
mod lock;
mod queue;
mod runner;

pub use cron::{validate, CronSchedule, ScheduleError, MAX_JITTER_SECONDS, PRESETS};
pub use lock::{LockError, SchedulerLock};
pub use queue::{work, QueueSettings};
pub use runner::{
    alarms, crawl_registry, refresh_feeds, rematch, run_schedule, scan_target, serve, Context,
    Events, Limits, RunError, RunSummary, ScanHints, TargetError, TargetResult,
};

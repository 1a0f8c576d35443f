//! When Vedette scans by itself: cron arithmetic in a time zone, the runner
//! that fires enabled schedules (fresh feeds first, concurrency limits,
//! retries, no overlapping runs, catch-up after downtime), and re-matching
//! every stored inventory when a feed update lands.

mod cron;

pub use cron::{CronSchedule, ScheduleError, PRESETS};

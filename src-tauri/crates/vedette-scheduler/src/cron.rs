//! Cron arithmetic in a time zone, by `croner`: 5 fields (minute hour
//! day-of-month month day-of-week) or 6 with seconds first; `@hourly`,
//! `@daily`, `@weekly`. Times are computed in the schedule's zone, so
//! "03:00 every day" stays 03:00 across daylight-saving changes.

use std::str::FromStr;

use chrono::{DateTime, Local, TimeZone, Utc};
use chrono_tz::Tz;
use croner::parser::{CronParser, Seconds, Year};
use croner::Cron;

/// A cron expression or time zone Vedette cannot use, said so a person can fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("the cron expression '{expr}' is not valid: {reason}. Write 5 fields (minute hour day-of-month month day-of-week), e.g. '0 3 * * 1' for Mondays at 03:00, or 6 with seconds first")]
    Cron { expr: String, reason: String },
    #[error("'{0}' is not a time zone; write an IANA name such as Europe/Paris or America/New_York, or 'local'")]
    TimeZone(String),
    #[error("{0}")]
    Invalid(String),
}

/// Presets offered by the dialog and the CLI.
pub const PRESETS: [(&str, &str); 3] = [
    ("hourly", "0 * * * *"),
    ("daily", "0 3 * * *"),
    ("weekly", "0 3 * * 1"),
];

#[derive(Debug, Clone, Copy)]
enum Zone {
    Local,
    Named(Tz),
}

/// A parsed schedule: its cron expression and time zone.
#[derive(Debug, Clone)]
pub struct CronSchedule {
    cron: Cron,
    zone: Zone,
}

impl CronSchedule {
    pub fn parse(expr: &str, timezone: &str) -> Result<Self, ScheduleError> {
        let expr_t = expr.trim();
        let fields = expr_t.split_whitespace().count();
        if !expr_t.starts_with('@') && !(5..=6).contains(&fields) {
            return Err(ScheduleError::Cron {
                expr: expr.to_owned(),
                reason: format!(
                    "it has {fields} field{}",
                    if fields == 1 { "" } else { "s" }
                ),
            });
        }
        let cron = CronParser::builder()
            .seconds(Seconds::Optional)
            .year(Year::Disallowed)
            .build()
            .parse(expr_t)
            .map_err(|e| ScheduleError::Cron {
                expr: expr.to_owned(),
                reason: field_problem(expr_t).unwrap_or_else(|| e.to_string()),
            })?;
        let zone = match timezone.trim() {
            "" | "local" => Zone::Local,
            tz => {
                Zone::Named(Tz::from_str(tz).map_err(|_| ScheduleError::TimeZone(tz.to_owned()))?)
            }
        };
        Ok(CronSchedule { cron, zone })
    }

    /// The first time strictly after `t`.
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self.zone {
            Zone::Local => next_in(&self.cron, &t.with_timezone(&Local)),
            Zone::Named(tz) => next_in(&self.cron, &t.with_timezone(&tz)),
        }
    }

    /// The next `n` times after `t`.
    pub fn upcoming(&self, t: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
        let mut out = Vec::with_capacity(n);
        let mut at = t;
        while out.len() < n {
            match self.next_after(at) {
                Some(next) => {
                    out.push(next);
                    at = next;
                }
                None => break,
            }
        }
        out
    }

    /// The latest time in `(after, up_to]`, if any: a run missed in that window.
    pub fn missed_between(
        &self,
        after: DateTime<Utc>,
        up_to: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let mut at = after;
        let mut last = None;
        // Bounded: a schedule every second over a long downtime is one catch-up run.
        for _ in 0..100_000 {
            match self.next_after(at) {
                Some(next) if next <= up_to => {
                    last = Some(next);
                    at = next;
                }
                _ => break,
            }
        }
        last
    }

    /// In words, e.g. "At 03:00 on Monday."
    pub fn describe(&self) -> String {
        self.cron.describe()
    }

    /// `t` as a wall-clock time in the schedule's zone.
    pub fn format_in_zone(&self, t: DateTime<Utc>) -> String {
        const F: &str = "%a %d %b %Y, %H:%M %Z";
        match self.zone {
            Zone::Local => t.with_timezone(&Local).format(F).to_string(),
            Zone::Named(tz) => t.with_timezone(&tz).format(F).to_string(),
        }
    }
}

/// Names the field of a numeric cron expression that is out of range, e.g.
/// "the minute field says 61; minutes run from 0 to 59".
fn field_problem(expr: &str) -> Option<String> {
    let fields: Vec<&str> = expr.split_whitespace().collect();
    let names: &[(&str, &str, u32, u32)] = &[
        ("second", "seconds", 0, 59),
        ("minute", "minutes", 0, 59),
        ("hour", "hours", 0, 23),
        ("day-of-month", "days of the month", 1, 31),
        ("month", "months", 1, 12),
        ("day-of-week", "days of the week", 0, 7),
    ];
    let names = if fields.len() == 6 {
        names
    } else {
        &names[1..]
    };
    for (field, (name, plural, lo, hi)) in fields.iter().zip(names) {
        for part in field.split(',') {
            let (range, step) = match part.split_once('/') {
                Some((r, s)) => (r, Some(s)),
                None => (part, None),
            };
            if let Some(step) = step {
                match step.parse::<u32>() {
                    Ok(0) | Err(_) => {
                        return Some(format!(
                            "the {name} field's step '/{step}' is not a positive number"
                        ))
                    }
                    Ok(_) => {}
                }
            }
            for n in range.split('-') {
                if let Ok(v) = n.parse::<u32>() {
                    if v < *lo || v > *hi {
                        return Some(format!(
                            "the {name} field says {v}; {plural} run from {lo} to {hi}"
                        ));
                    }
                }
            }
        }
    }
    None
}

fn next_in<Z: TimeZone>(cron: &Cron, t: &DateTime<Z>) -> Option<DateTime<Utc>> {
    cron.find_next_occurrence(t, false)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

#[cfg(test)]
mod tests;

/// Most jitter a schedule may ask for: a day.
pub const MAX_JITTER_SECONDS: i64 = 86_400;

/// Checks a schedule before it is stored (the CLI and the window alike):
/// a name, a cron expression that parses in its time zone, a jitter of 0 to
/// a day. The error says what is wrong, in words for the user.
pub fn validate(s: &vedette_model::ScheduleInput) -> Result<CronSchedule, String> {
    if s.name.trim().is_empty() {
        return Err("give the schedule a name".into());
    }
    if !(0..=MAX_JITTER_SECONDS).contains(&s.jitter_seconds) {
        return Err(format!(
            "the jitter is a number of seconds from 0 to {MAX_JITTER_SECONDS} (a day); {} is not",
            s.jitter_seconds
        ));
    }
    CronSchedule::parse(&s.cron, &s.timezone).map_err(|e| e.to_string())
}

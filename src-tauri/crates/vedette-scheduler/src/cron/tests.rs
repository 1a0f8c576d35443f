//! Schedule arithmetic across daylight-saving changes, time zones and leap days.

use chrono::{DateTime, TimeZone, Utc};

use super::{CronSchedule, ScheduleError};

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn next(expr: &str, tz: &str, after: &str) -> Vec<String> {
    CronSchedule::parse(expr, tz)
        .unwrap()
        .upcoming(utc(after), 3)
        .into_iter()
        .map(|t| t.to_rfc3339())
        .collect()
}

#[test]
fn a_daily_schedule_keeps_its_local_hour_across_spring_forward() {
    // New York moved from EST (-5) to EDT (-4) on 2026-03-08 at 02:00.
    assert_eq!(
        next("0 3 * * *", "America/New_York", "2026-03-07T00:00:00Z"),
        [
            "2026-03-07T08:00:00+00:00",
            "2026-03-08T07:00:00+00:00",
            "2026-03-09T07:00:00+00:00"
        ]
    );
}

#[test]
fn a_time_that_does_not_exist_on_spring_forward_day_runs_once_not_never() {
    // 02:30 does not exist in New York on 2026-03-08.
    let got = next("30 2 * * *", "America/New_York", "2026-03-07T12:00:00Z");
    assert_eq!(got.len(), 3);
    assert_eq!(got[2], "2026-03-10T06:30:00+00:00");
    let on_the_day: Vec<&String> = got.iter().filter(|t| t.starts_with("2026-03-08")).collect();
    assert_eq!(on_the_day.len(), 1, "{got:?}");
}

#[test]
fn a_time_that_happens_twice_on_fall_back_day_runs_once() {
    // 01:30 happens twice in New York on 2026-11-01 (EDT, then EST).
    let got = next("30 1 * * *", "America/New_York", "2026-10-31T12:00:00Z");
    let firsts: Vec<&String> = got.iter().filter(|t| t.starts_with("2026-11-01")).collect();
    assert_eq!(firsts.len(), 1, "{got:?}");
    assert_eq!(got[0], "2026-11-01T05:30:00+00:00");
    assert_eq!(got[1], "2026-11-02T06:30:00+00:00");
}

#[test]
fn the_same_expression_fires_at_the_same_local_time_in_each_zone() {
    assert_eq!(
        next("0 9 * * 1", "Europe/Paris", "2026-11-28T00:00:00Z")[0],
        "2026-11-30T08:00:00+00:00"
    );
    assert_eq!(
        next("0 9 * * 1", "Asia/Tokyo", "2026-11-28T00:00:00Z")[0],
        "2026-11-30T00:00:00+00:00"
    );
    assert_eq!(
        next("0 9 * * 1", "UTC", "2026-11-28T00:00:00Z")[0],
        "2026-11-30T09:00:00+00:00"
    );
    // Kolkata is +05:30.
    assert_eq!(
        next("0 9 * * *", "Asia/Kolkata", "2026-11-28T00:00:00Z")[0],
        "2026-11-28T03:30:00+00:00"
    );
}

#[test]
fn the_29th_of_february_comes_in_leap_years_only() {
    assert_eq!(
        next("0 12 29 2 *", "UTC", "2026-11-28T00:00:00Z"),
        [
            "2028-02-29T12:00:00+00:00",
            "2032-02-29T12:00:00+00:00",
            "2036-02-29T12:00:00+00:00"
        ]
    );
}

#[test]
fn six_fields_put_seconds_first() {
    assert_eq!(
        next("*/15 * * * * *", "UTC", "2026-11-28T10:00:01Z"),
        [
            "2026-11-28T10:00:15+00:00",
            "2026-11-28T10:00:30+00:00",
            "2026-11-28T10:00:45+00:00"
        ]
    );
}

#[test]
fn a_missed_run_is_found_once_however_long_the_downtime() {
    let s = CronSchedule::parse("0 3 * * *", "UTC").unwrap();
    assert_eq!(
        s.missed_between(utc("2026-11-20T04:00:00Z"), utc("2026-11-28T02:00:00Z")),
        Some(utc("2026-11-27T03:00:00Z"))
    );
    assert_eq!(
        s.missed_between(utc("2026-11-27T04:00:00Z"), utc("2026-11-28T02:00:00Z")),
        None
    );
}

#[test]
fn bad_expressions_say_what_is_wrong() {
    let e = CronSchedule::parse("61 * * * *", "UTC").unwrap_err();
    assert!(matches!(e, ScheduleError::Cron { .. }));
    assert!(
        e.to_string().contains("'61 * * * *'") && e.to_string().contains("5 fields"),
        "{e}"
    );
    let e = CronSchedule::parse("0 3 * *", "UTC")
        .unwrap_err()
        .to_string();
    assert!(e.contains("it has 4 fields"), "{e}");
    let e = CronSchedule::parse("0 3 * * 1", "Mars/Olympus")
        .unwrap_err()
        .to_string();
    assert!(e.contains("Mars/Olympus") && e.contains("IANA"), "{e}");
    assert!(
        CronSchedule::parse("0 0 3 * * 1 2030", "UTC").is_err(),
        "no year field"
    );
}

#[test]
fn descriptions_read_as_sentences() {
    let d = CronSchedule::parse("0 3 * * 1", "UTC").unwrap().describe();
    assert!(d.contains("03:00") || d.contains("3:00"), "{d}");
    assert!(d.to_lowercase().contains("monday"), "{d}");
    let _ = Utc.timestamp_opt(0, 0);
}

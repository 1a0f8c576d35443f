//! Trend queries: open findings per day, new and fixed per week, time to fix.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use vedette_model::{DailyOpen, Finding, OpenFinding, SeverityCounts, Trends, WeeklyChange};

use crate::db::on_pool;
use crate::{Result, Store};

/// Whose trends: every target, one, or one group's.
#[derive(Debug, Clone, Copy)]
pub enum TrendScope<'a> {
    All,
    Target(i64),
    Group(&'a str),
}

#[derive(sqlx::FromRow)]
struct ScanRow {
    id: i64,
    target_id: i64,
    finished_at: DateTime<Utc>,
    finding_set: Option<Vec<u8>>,
}

fn add(c: &mut SeverityCounts, severity: &str, n: i64) {
    match severity {
        "critical" => c.critical += n,
        "high" => c.high += n,
        "medium" => c.medium += n,
        "low" => c.low += n,
        _ => c.unknown += n,
    }
}

fn sum(a: &mut SeverityCounts, b: &SeverityCounts) {
    a.critical += b.critical;
    a.high += b.high;
    a.medium += b.medium;
    a.low += b.low;
    a.unknown += b.unknown;
}

/// Open findings per day from `start` to `today`: the newest scan of each
/// target up to the day's end, its findings counted by severity.
fn daily_open(
    scans: &[ScanRow],
    counts: &HashMap<i64, &SeverityCounts>,
    start: NaiveDate,
    today: NaiveDate,
) -> Vec<DailyOpen> {
    let mut daily = Vec::new();
    let mut day = start;
    while day <= today {
        let end = day
            .succ_opt()
            .unwrap_or(day)
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc());
        let mut latest: BTreeMap<i64, i64> = BTreeMap::new();
        for s in scans {
            if end.is_none_or(|e| s.finished_at < e) {
                latest.insert(s.target_id, s.id);
            }
        }
        let mut open = SeverityCounts::default();
        for id in latest.values() {
            if let Some(c) = counts.get(id) {
                sum(&mut open, c);
            }
        }
        daily.push(DailyOpen {
            day: day.format("%Y-%m-%d").to_string(),
            open,
        });
        day = match day.succ_opt() {
            Some(d) => d,
            None => break,
        };
    }
    daily
}

/// New and fixed findings per week, and the mean time to fix.
struct Changes {
    weekly: Vec<WeeklyChange>,
    mean_days_to_fix: Option<f64>,
    fixed_count: i64,
}

/// Per week from `start`'s Monday to `today`: the new findings each scan
/// recorded (as the history counts them) and those a target's scan no
/// longer has that its previous one had (fixed); the days from a
/// finding's first appearance on a target to its fix, averaged.
fn weekly_changes(
    scans: &[ScanRow],
    keys: &HashMap<i64, &HashSet<String>>,
    new_in: &HashMap<i64, i64>,
    start: NaiveDate,
    today: NaiveDate,
) -> Changes {
    let week_of = |t: DateTime<Utc>| {
        let d = t.date_naive();
        d - Duration::days(i64::from(d.weekday().num_days_from_monday()))
    };
    let mut weekly: BTreeMap<NaiveDate, (i64, i64)> = BTreeMap::new();
    let mut w = start - Duration::days(i64::from(start.weekday().num_days_from_monday()));
    while w <= today {
        weekly.insert(w, (0, 0));
        w += Duration::days(7);
    }
    let mut by_target: BTreeMap<i64, Vec<&ScanRow>> = BTreeMap::new();
    for s in scans {
        by_target.entry(s.target_id).or_default().push(s);
    }
    let empty = HashSet::new();
    let (mut fix_days, mut fixed_count) = (0.0, 0i64);
    for list in by_target.values() {
        let mut first_seen: HashMap<&str, DateTime<Utc>> = HashMap::new();
        let mut prev: Option<&ScanRow> = None;
        for s in list {
            let now_keys = keys.get(&s.id).copied().unwrap_or(&empty);
            let fixed_here: Vec<&String> = match prev {
                Some(p) => keys
                    .get(&p.id)
                    .copied()
                    .unwrap_or(&empty)
                    .difference(now_keys)
                    .collect(),
                None => Vec::new(),
            };
            for k in &fixed_here {
                if let Some(t0) = first_seen.remove(k.as_str()) {
                    fix_days += (s.finished_at - t0).num_seconds() as f64 / 86_400.0;
                    fixed_count += 1;
                }
            }
            for k in now_keys {
                first_seen.entry(k.as_str()).or_insert(s.finished_at);
            }
            if let Some(e) = weekly.get_mut(&week_of(s.finished_at)) {
                e.0 += new_in.get(&s.id).copied().unwrap_or(0);
                e.1 += fixed_here.len() as i64;
            }
            prev = Some(s);
        }
    }
    Changes {
        weekly: weekly
            .into_iter()
            .map(|(w, (new, fixed))| WeeklyChange {
                week_start: w.format("%Y-%m-%d").to_string(),
                new,
                fixed,
            })
            .collect(),
        mean_days_to_fix: (fixed_count > 0).then(|| fix_days / fixed_count as f64),
        fixed_count,
    }
}

impl Store {
    /// Trends over the last `days` days up to `today`, for one target, one
    /// group or all.
    pub async fn trends(
        &self,
        scope: TrendScope<'_>,
        days: i64,
        today: NaiveDate,
    ) -> Result<Trends> {
        let (target_id, group) = match scope {
            TrendScope::All => (None, None),
            TrendScope::Target(id) => (Some(id), None),
            TrendScope::Group(g) => (None, Some(g)),
        };
        let scans: Vec<ScanRow> = on_pool!(&self.pool, |c| sqlx::query_as(
            "SELECT id, target_id, finished_at, finding_set
             FROM scans WHERE state = 'succeeded' AND report IS NOT NULL
               AND ($1 IS NULL OR target_id = $1)
               AND ($2 IS NULL OR target_id IN (SELECT id FROM targets WHERE group_name = $2))
             ORDER BY finished_at, id"
        )
        .bind(target_id)
        .bind(group)
        .fetch_all(c)
        .await?);
        // Scans share finding sets: count and list each set once.
        let mut set_counts: HashMap<Vec<u8>, SeverityCounts> = HashMap::new();
        let rows: Vec<(Vec<u8>, String, i64)> = on_pool!(&self.pool, |c| {
            sqlx::query_as(
            "SELECT set_hash, severity, COUNT(*) FROM finding_set_members GROUP BY set_hash, severity"
        )
        .fetch_all(c)
        .await?
        });
        for (set_hash, severity, n) in rows {
            add(set_counts.entry(set_hash).or_default(), &severity, n);
        }
        let mut set_keys: HashMap<Vec<u8>, HashSet<String>> = HashMap::new();
        let rows: Vec<(Vec<u8>, String)> = on_pool!(&self.pool, |c| sqlx::query_as(
            "SELECT set_hash, key FROM finding_set_members"
        )
        .fetch_all(c)
        .await?);
        for (set_hash, key) in rows {
            set_keys.entry(set_hash).or_default().insert(key);
        }
        let counts: HashMap<i64, &SeverityCounts> = scans
            .iter()
            .filter_map(|s| Some((s.id, set_counts.get(s.finding_set.as_ref()?)?)))
            .collect();
        let keys: HashMap<i64, &HashSet<String>> = scans
            .iter()
            .filter_map(|s| Some((s.id, set_keys.get(s.finding_set.as_ref()?)?)))
            .collect();
        // New as the history says it: what a scan found that the target's
        // previous scan did not, a first scan's findings included.
        let mut new_in: HashMap<i64, i64> = HashMap::new();
        let rows: Vec<(i64, i64)> = on_pool!(&self.pool, |c| sqlx::query_as(
            "SELECT scan_id, COUNT(*) FROM scan_new_findings GROUP BY scan_id"
        )
        .fetch_all(c)
        .await?);
        new_in.extend(rows);

        let start = today - Duration::days(days.max(1) - 1);
        let daily = daily_open(&scans, &counts, start, today);
        let changes = weekly_changes(&scans, &keys, &new_in, start, today);
        let scope = match scope {
            TrendScope::All => "all targets".to_owned(),
            TrendScope::Group(g) => format!("group {g}"),
            TrendScope::Target(id) => {
                let name: Option<String> = on_pool!(&self.pool, |c| sqlx::query_scalar(
                    "SELECT name FROM targets WHERE id = $1"
                )
                .bind(id)
                .fetch_optional(c)
                .await?);
                name.unwrap_or_else(|| format!("target {id}"))
            }
        };
        Ok(Trends {
            scope,
            daily,
            weekly: changes.weekly,
            mean_days_to_fix: changes.mean_days_to_fix,
            fixed_count: changes.fixed_count,
        })
    }

    /// The riskiest findings open now: in the newest matched scan of each
    /// target, highest risk first.
    pub async fn most_exploitable(&self, limit: i64) -> Result<Vec<OpenFinding>> {
        let rows: Vec<(i64, String, String)> = on_pool!(&self.pool, |c| sqlx::query_as(
            "SELECT s.id, t.name, b.body
             FROM targets t
               JOIN scans s ON s.id = (SELECT s2.id FROM scans s2
                                       WHERE s2.target_id = t.id AND s2.state = 'succeeded'
                                         AND s2.finding_set IS NOT NULL
                                       ORDER BY s2.finished_at DESC, s2.id DESC LIMIT 1)
               JOIN finding_set_members m ON m.set_hash = s.finding_set
               JOIN finding_bodies b ON b.hash = m.body_hash
               ORDER BY m.risk DESC, m.kev DESC, t.name
               LIMIT $1"
        )
        .bind(limit)
        .fetch_all(c)
        .await?);
        rows.into_iter()
            .map(|(scan_id, target, body)| {
                let finding: Finding = serde_json::from_str(&body)
                    .map_err(|e| crate::StoreError::Corrupt(format!("stored finding: {e}")))?;
                Ok(OpenFinding {
                    scan_id,
                    target,
                    finding,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(day: &str, hour: u32) -> DateTime<Utc> {
        NaiveDate::parse_from_str(day, "%Y-%m-%d")
            .unwrap()
            .and_hms_opt(hour, 0, 0)
            .unwrap()
            .and_utc()
    }

    fn scan(id: i64, target_id: i64, finished_at: DateTime<Utc>) -> ScanRow {
        ScanRow {
            id,
            target_id,
            finished_at,
            finding_set: None,
        }
    }

    fn keys(ks: &[&str]) -> HashSet<String> {
        ks.iter().map(|k| k.to_string()).collect()
    }

    #[test]
    fn a_day_counts_the_newest_scan_of_each_target_up_to_its_end() {
        // Target 1 scanned Monday (2 high) and Wednesday (1 high); target 2
        // Tuesday (1 critical).
        let scans = [
            scan(1, 1, at("2026-11-23", 10)),
            scan(2, 2, at("2026-11-24", 10)),
            scan(3, 1, at("2026-11-25", 10)),
        ];
        let (two_high, one_crit, one_high) = (
            SeverityCounts {
                high: 2,
                ..Default::default()
            },
            SeverityCounts {
                critical: 1,
                ..Default::default()
            },
            SeverityCounts {
                high: 1,
                ..Default::default()
            },
        );
        let counts: HashMap<i64, &SeverityCounts> =
            [(1, &two_high), (2, &one_crit), (3, &one_high)]
                .into_iter()
                .collect();
        let start = NaiveDate::parse_from_str("2026-11-22", "%Y-%m-%d").unwrap();
        let today = NaiveDate::parse_from_str("2026-11-26", "%Y-%m-%d").unwrap();
        let d = daily_open(&scans, &counts, start, today);
        let by_day: Vec<(i64, i64)> = d.iter().map(|d| (d.open.critical, d.open.high)).collect();
        assert_eq!(by_day, [(0, 0), (0, 2), (1, 2), (1, 1), (1, 1)]);
        assert_eq!(d[0].day, "2026-11-22");
    }

    #[test]
    fn new_and_fixed_are_counted_in_the_week_of_the_scan_and_time_to_fix_averaged() {
        // Week of 2026-11-16: the first scan finds a and b (2 new). Week of
        // 2026-11-23: b is fixed (4 days after it appeared), c is new.
        let scans = [
            scan(1, 1, at("2026-11-19", 12)),
            scan(2, 1, at("2026-11-23", 12)),
        ];
        let (k1, k2) = (keys(&["a", "b"]), keys(&["a", "c"]));
        let keys: HashMap<i64, &HashSet<String>> = [(1, &k1), (2, &k2)].into_iter().collect();
        let new_in: HashMap<i64, i64> = [(1, 2), (2, 1)].into_iter().collect();
        let start = NaiveDate::parse_from_str("2026-11-17", "%Y-%m-%d").unwrap();
        let today = NaiveDate::parse_from_str("2026-11-24", "%Y-%m-%d").unwrap();
        let c = weekly_changes(&scans, &keys, &new_in, start, today);
        let weeks: Vec<(&str, i64, i64)> = c
            .weekly
            .iter()
            .map(|w| (w.week_start.as_str(), w.new, w.fixed))
            .collect();
        assert_eq!(weeks, [("2026-11-16", 2, 0), ("2026-11-23", 1, 1)]);
        assert_eq!(c.fixed_count, 1);
        assert_eq!(c.mean_days_to_fix, Some(4.0));
    }
}

//! What the benches share (each uses a part of it).
#![allow(dead_code)]

use std::time::Duration;

use vedette_feeds::FeedConfig;

/// Feeds taken as they were imported: none is ever stale, nothing is
/// downloaded (KEV, EPSS and NVD left out).
pub fn offline_feeds() -> FeedConfig {
    let year = Duration::from_secs(365 * 86400);
    FeedConfig {
        osv_max_age: year,
        kev_max_age: year,
        epss_max_age: year,
        nvd_max_age: year,
        kev_url: String::new(),
        epss_url: String::new(),
        nvd_urls: Vec::new(),
        ..FeedConfig::default()
    }
}

/// The most of these scans that ran at once, from their recorded start and
/// end.
pub fn most_at_once(scans: &[vedette_model::ScanSummary]) -> i32 {
    let mut edges = Vec::new();
    for s in scans {
        edges.push((s.started_at, 1i32));
        edges.push((s.finished_at.expect("a finished scan"), -1));
    }
    edges.sort();
    let (mut now, mut most) = (0, 0);
    for (_, d) in edges {
        now += d;
        most = most.max(now);
    }
    most
}

/// The value at `p` (0 to 1) of sorted durations.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// An HTTP client that returns every status as an answer.
pub fn http_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

//! Severity from CVSS vectors, and the risk-of-exploit score.
//!
//! The score (0–100) adds up, and every part is shown with its reason:
//!
//! | factor | points |
//! | --- | --- |
//! | CVSS base score | score × 4 (0–40); without a vector, from the label: critical 36, high 28, medium 20, low 8, unknown 16 |
//! | EPSS | probability × 25 (0–25) |
//! | CISA KEV | +20 when exploited in the wild |
//! | attack vector | network +10, adjacent +5, local +2, physical 0, unknown +5 |
//! | fix | +5 when a fix is published (the patch shows where the bug is) |
//! | exposure | +10 for an internet-facing target when the attack vector is the network (or unknown) |
//!
//! and is capped at 100.

use std::str::FromStr;

use vedette_model::{Cvss, Exposure, Finding, RiskFactor, Severity};

/// Parses a CVSS v3.x or v4.0 vector; its base score.
pub fn severity_of_vector(vector: &str) -> Option<Cvss> {
    let v = vector.trim();
    let parsed = cvss::Cvss::from_str(v).ok()?;
    let version = match parsed {
        cvss::Cvss::CvssV30(_) => "3.0",
        cvss::Cvss::CvssV31(_) => "3.1",
        cvss::Cvss::CvssV40(_) => "4.0",
        _ => return None,
    };
    Some(Cvss {
        version: version.into(),
        vector: v.to_owned(),
        score: parsed.score(),
    })
}

fn attack_vector(vector: &str) -> Option<char> {
    vector
        .split('/')
        .find_map(|m| m.strip_prefix("AV:"))
        .and_then(|v| v.chars().next())
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// The risk-of-exploit score of a finding and its reasons.
pub fn score(f: &Finding, exposure: Exposure) -> (f64, Vec<RiskFactor>) {
    let mut factors = Vec::new();
    let mut push = |factor: &str, points: f64, reason: String| {
        factors.push(RiskFactor {
            factor: factor.into(),
            points: round1(points),
            reason,
        })
    };
    match &f.cvss {
        Some(c) => push(
            "cvss",
            c.score * 4.0,
            format!("CVSS {} base score {:.1}", c.version, c.score),
        ),
        None => {
            let p = match f.severity {
                Severity::Critical => 36.0,
                Severity::High => 28.0,
                Severity::Medium => 20.0,
                Severity::Low => 8.0,
                Severity::Unknown => 16.0,
            };
            push(
                "cvss",
                p,
                format!("no CVSS vector; severity {} from the advisory", f.severity),
            );
        }
    }
    match (f.epss, f.epss_percentile) {
        (Some(e), p) => push(
            "epss",
            e * 25.0,
            format!(
                "EPSS {:.1}% chance of exploitation in the next 30 days{}",
                e * 100.0,
                p.map(|p| format!(" ({:.0}th percentile)", p * 100.0))
                    .unwrap_or_default()
            ),
        ),
        (None, _) => push("epss", 0.0, "no EPSS score".into()),
    }
    if let Some(d) = &f.kev_added {
        push(
            "kev",
            20.0,
            format!("exploited in the wild: in CISA KEV since {d}"),
        );
    }
    let av = f.cvss.as_ref().and_then(|c| attack_vector(&c.vector));
    let (p, why) = match av {
        Some('N') => (10.0, "exploitable over the network"),
        Some('A') => (5.0, "exploitable from an adjacent network"),
        Some('L') => (2.0, "needs local access"),
        Some('P') => (0.0, "needs physical access"),
        _ => (5.0, "attack vector unknown"),
    };
    push("attack_vector", p, why.into());
    match &f.fixed_version {
        Some(v) => push(
            "fix",
            5.0,
            format!("a fix is published ({v}); the patch shows where the bug is"),
        ),
        None => push("fix", 0.0, "no fix yet".into()),
    }
    match exposure {
        Exposure::Internet if matches!(av, Some('N') | None) => push(
            "exposure",
            10.0,
            "internet-facing target, reachable by the attack".into(),
        ),
        Exposure::Internet => push(
            "exposure",
            0.0,
            "internet-facing target, but the attack needs more than the network".into(),
        ),
        Exposure::Internal => push("exposure", 0.0, "internal target".into()),
    }
    let total: f64 = factors.iter().map(|f| f.points).sum();
    (round1(total.min(100.0)), factors)
}

//! The second half of a scan: fresh feeds, matching, scoring, policy.

use std::collections::{BTreeMap, BTreeSet};

use vedette_feeds::{FeedConfig, FeedStore, OSV_ECOSYSTEMS};
use vedette_match::Policy;
use vedette_model::{Distro, Ecosystem, Exposure, Inventory, ScanReport, Uncovered};

use crate::{EngineError, Progress};

/// How to judge an inventory.
#[derive(Debug, Clone, Default)]
pub struct AssessOptions {
    pub exposure: Exposure,
    pub policy: Policy,
}

/// The version of the feeds a report was matched against: sha256 over each
/// feed's name and content hash. Two scans with the same feed version saw
/// the same advisories.
pub fn feed_version(report: &ScanReport) -> String {
    feed_version_of(&report.feeds)
}

fn feed_version_of(feeds: &[vedette_model::FeedInfo]) -> String {
    use sha2::Digest as _;
    let mut lines: Vec<String> = feeds
        .iter()
        .map(|f| format!("{}@{}", f.name, f.version))
        .collect();
    lines.sort();
    hex::encode(sha2::Sha256::digest(lines.join("\n").as_bytes()))
}

/// Whether the last match of `inv` still holds: it was matched with
/// `exposure` against the very feeds the index holds now for this
/// inventory (the same feed version), and none of them is stale now.
/// Matching it again could change nothing, so a re-match after a feed
/// update leaves it alone.
pub fn match_holds(
    inv: &Inventory,
    status: &[vedette_model::FeedInfo],
    matched: Option<(&str, Exposure)>,
    exposure: Exposure,
) -> bool {
    let Some((version, matched_as)) = matched else {
        return false;
    };
    let used = feeds_used(inv, status);
    matched_as == exposure && !used.iter().any(|f| f.stale) && feed_version_of(&used) == version
}

/// The OSV ecosystems an inventory needs (those Vedette can download).
pub fn ecosystems_in_use(inv: &Inventory) -> Vec<String> {
    let set: BTreeSet<&str> = inv
        .packages
        .iter()
        .filter(|p| p.owned_by.is_none())
        .map(|p| p.ecosystem.osv_name())
        .filter(|e| OSV_ECOSYSTEMS.contains(e))
        .collect();
    set.into_iter().map(str::to_owned).collect()
}

/// Matches, scores and judges an inventory against the index as it is.
/// `updates` are what the caller's feed refresh did (their failures become
/// warnings; a feed the source does not carry is not "stale"). A feed that
/// is stale or absent is named in `report.stale_feeds`; the caller decides
/// what that means.
pub async fn assess(
    inv: &Inventory,
    feeds: &FeedStore,
    cfg: &FeedConfig,
    opts: &AssessOptions,
    updates: &[vedette_feeds::FeedOutcome],
    progress: &dyn Progress,
) -> Result<ScanReport, EngineError> {
    let mut warnings = Vec::new();
    let mut missing_at_source = BTreeSet::new();
    for o in updates {
        match &o.outcome {
            vedette_feeds::Outcome::Failed { error } => {
                warnings.push(format!("feed {} not updated: {error}", o.feed))
            }
            vedette_feeds::Outcome::Skipped { reason } => {
                warnings.push(format!("feed {} not updated: {reason}", o.feed))
            }
            vedette_feeds::Outcome::Missing => {
                missing_at_source.insert(o.feed.clone());
                // An OSV feed the source lacks is reported as uncovered.
                if !o.feed.starts_with("osv/") {
                    warnings.push(format!("feed {}: {} has no such file", o.feed, o.source));
                }
            }
            vedette_feeds::Outcome::Updated { records, .. } => {
                progress.stage(&format!("feed {} updated: {records} records", o.feed))
            }
            vedette_feeds::Outcome::NotModified => {}
        }
    }
    let status = feeds.status(cfg).await?;
    warnings.extend(missing_enrichment(cfg, &status));
    progress.stage("matching advisories");
    let mut set = feeds.affected_for(&vedette_match::lookup_keys(inv)).await?;
    // Evaluate once: the matches name the records to read details of, then
    // become the findings.
    let (matched, match_warnings) = vedette_match::evaluate_matches(inv, &set);
    let mut ids: Vec<String> = matched.iter().map(|m| m.advisory.clone()).collect();
    ids.sort();
    ids.dedup();
    feeds.add_details(&mut set, &ids).await?;
    warnings.extend(match_warnings);
    Ok(report(
        inv,
        &set,
        status,
        &missing_at_source,
        opts,
        warnings,
        &matched,
    ))
}

/// What the report lacks when an enrichment feed it is configured with has
/// never reached the index (the source is unreachable, or was skipped).
fn missing_enrichment(cfg: &FeedConfig, status: &[vedette_model::FeedInfo]) -> Vec<String> {
    let held = |prefix: &str| status.iter().any(|f| f.name.starts_with(prefix));
    let mut out = Vec::new();
    if !cfg.kev_url.is_empty() && !held("kev") {
        out.push("enrichment missing: CISA KEV is not in the index, so no finding is marked as exploited in the wild".to_owned());
    }
    if !cfg.epss_url.is_empty() && !held("epss") {
        out.push("enrichment missing: EPSS is not in the index, so risk scores leave out the probability of exploitation".to_owned());
    }
    if !cfg.nvd_urls.is_empty() && !held("nvd/") {
        out.push("enrichment missing: NVD is not in the index, so advisories without their own CVSS (most distribution records) have no severity from NVD".to_owned());
    }
    out
}

/// What was found that no advisory source covers: packages of an
/// operating system without advisories (or without `os-release`), of an
/// ecosystem the feed source does not carry, and package databases that
/// could not be read.
pub fn uncovered(inv: &Inventory, missing_at_source: &BTreeSet<String>) -> Vec<Uncovered> {
    let mut out = Vec::new();
    let mut counts: BTreeMap<Ecosystem, usize> = BTreeMap::new();
    for p in inv.packages.iter().filter(|p| p.owned_by.is_none()) {
        *counts.entry(p.ecosystem).or_default() += 1;
    }
    if let Some(&n) = counts.get(&Ecosystem::OtherOs) {
        out.push(other_os(inv.distro.as_ref(), n));
    }
    for (eco, n) in &counts {
        let name = eco.osv_name();
        if *eco == Ecosystem::OtherOs {
            continue;
        }
        if !OSV_ECOSYSTEMS.contains(&name) {
            out.push(Uncovered {
                subject: format!("{name} packages"),
                packages: *n,
                reason: format!("Vedette downloads no {name} advisories"),
            });
        } else if missing_at_source.contains(&format!("osv/{name}")) {
            out.push(Uncovered {
                subject: format!("{name} packages"),
                packages: *n,
                reason: format!(
                    "the advisory source has no {name} feed (it answered 404 for {name}/all.zip); point the feeds at a mirror that carries it"
                ),
            });
        }
    }
    for u in &inv.unreadable {
        out.push(Uncovered {
            subject: u.path.clone(),
            packages: 0,
            reason: format!(
                "the package database is there but cannot be read ({}), so what it lists is unknown",
                u.reason
            ),
        });
    }
    out
}

fn other_os(distro: Option<&Distro>, n: usize) -> Uncovered {
    let Some(d) = distro else {
        return Uncovered {
            subject: "an operating system without /etc/os-release".into(),
            packages: n,
            reason: "distribution advisories are per release, and no os-release file names it"
                .into(),
        };
    };
    let name = if d.pretty_name.is_empty() {
        format!("{} {}", d.id, d.version_id).trim().to_owned()
    } else {
        d.pretty_name.clone()
    };
    let subject = format!("{name} (ID={})", d.id);
    let reason = match vedette_model::coverage_of(d) {
        Some(c) if c.ecosystem.is_none() => {
            format!("OSV publishes no {} advisories", c.distro)
        }
        Some(c) => format!(
            "its packages are not in {}'s own package format, so its advisories do not name them",
            c.distro
        ),
        None => format!(
            "`{}` is not a distribution Vedette has advisories for (see the coverage table in `vedette feed status`)",
            d.id
        ),
    };
    Uncovered {
        subject,
        packages: n,
        reason,
    }
}

/// Matches, scores and judges an inventory against advisories already read
/// (a whole index in memory when re-matching many inventories): no I/O.
pub fn judge(
    inv: &Inventory,
    set: &vedette_feeds::AdvisorySet,
    status: Vec<vedette_model::FeedInfo>,
    missing_at_source: &BTreeSet<String>,
    opts: &AssessOptions,
    mut warnings: Vec<String>,
) -> ScanReport {
    let (matched, match_warnings) = vedette_match::evaluate_matches(inv, set);
    warnings.extend(match_warnings);
    report(
        inv,
        set,
        status,
        missing_at_source,
        opts,
        warnings,
        &matched,
    )
}

fn report(
    inv: &Inventory,
    set: &vedette_feeds::AdvisorySet,
    status: Vec<vedette_model::FeedInfo>,
    missing_at_source: &BTreeSet<String>,
    opts: &AssessOptions,
    warnings: Vec<String>,
    matched: &[vedette_match::Matched],
) -> ScanReport {
    let findings = vedette_match::findings_from(inv, set, matched, opts.exposure);
    judged(inv, status, missing_at_source, opts, warnings, findings)
}

/// The feeds of the index a report on `inv` would use.
fn feeds_used(inv: &Inventory, status: &[vedette_model::FeedInfo]) -> Vec<vedette_model::FeedInfo> {
    let ecosystems = ecosystems_in_use(inv);
    status
        .iter()
        .filter(|f| {
            f.name
                .strip_prefix("osv/")
                .is_none_or(|eco| ecosystems.iter().any(|e| e == eco))
        })
        .cloned()
        .collect()
}

/// Judges an inventory with the findings an earlier scan of the very same
/// content recorded, without matching again, when the feeds that scan used
/// are still the ones in the index and the exposure is the same (none
/// otherwise: then the inventory must be matched). The policy, the
/// staleness of the feeds and what is uncovered are judged anew.
pub async fn reassess(
    inv: &Inventory,
    previous: &ScanReport,
    findings: Vec<vedette_model::Finding>,
    feeds: &FeedStore,
    cfg: &FeedConfig,
    opts: &AssessOptions,
) -> Result<Option<ScanReport>, EngineError> {
    if previous.digest != inv.digest || previous.exposure != opts.exposure {
        return Ok(None);
    }
    let status = feeds.status(cfg).await?;
    if feed_version_of(&feeds_used(inv, &status)) != feed_version(previous) {
        return Ok(None);
    }
    let warnings = missing_enrichment(cfg, &status);
    let findings = findings
        .into_iter()
        .map(|f| vedette_model::Finding {
            exception: None,
            triage: None,
            ..f
        })
        .collect();
    Ok(Some(judged(
        inv,
        status,
        &BTreeSet::new(),
        opts,
        warnings,
        findings,
    )))
}

/// The report of an inventory's findings: the verdict of the policy, what
/// is stale, what is uncovered.
fn judged(
    inv: &Inventory,
    status: Vec<vedette_model::FeedInfo>,
    missing_at_source: &BTreeSet<String>,
    opts: &AssessOptions,
    mut warnings: Vec<String>,
    mut findings: Vec<vedette_model::Finding>,
) -> ScanReport {
    let ecosystems = ecosystems_in_use(inv);
    let mut stale = Vec::new();
    for eco in &ecosystems {
        let name = format!("osv/{eco}");
        match status.iter().find(|f| f.name == name) {
            Some(f) if f.stale => {
                warnings.push(format!(
                    "feed {name} is stale: last checked {} h ago, limit {} h",
                    f.age_seconds / 3600,
                    f.max_age_seconds / 3600
                ));
                stale.push(name);
            }
            Some(_) => {}
            None if missing_at_source.contains(&name) => {}
            None => {
                warnings.push(format!(
                    "no {eco} advisories in the index: run `vedette feed update` or `vedette feed import`"
                ));
                stale.push(name);
            }
        }
    }
    for f in status
        .iter()
        .filter(|f| !f.name.starts_with("osv/") && f.stale)
    {
        warnings.push(format!(
            "enrichment feed {} is stale ({} h old)",
            f.name,
            f.age_seconds / 3600
        ));
    }
    let uncovered = uncovered(inv, missing_at_source);
    let mut verdict = opts.policy.evaluate(&mut findings, chrono::Utc::now());
    if !uncovered.is_empty() {
        let what: Vec<String> = uncovered.iter().map(|u| u.subject.clone()).collect();
        if opts.policy.allow_uncovered {
            verdict.notes.push(format!(
                "judged without {} (the policy allows uncovered parts)",
                what.join(", ")
            ));
        } else if verdict.failures.is_empty() {
            // A failure stands (what cannot be judged only adds to it); a
            // pass does not.
            verdict.pass = false;
            verdict.none = Some(format!(
                "no verdict: {} cannot be judged, no advisory source covers it",
                what.join(", ")
            ));
        }
    }
    let used = feeds_used(inv, &status);
    ScanReport {
        schema: ScanReport::SCHEMA,
        target: inv.target.clone(),
        digest: inv.digest.clone(),
        distro: inv.distro.clone(),
        exposure: opts.exposure,
        packages: inv.packages.len(),
        findings,
        verdict,
        feeds: used,
        stale_feeds: stale,
        uncovered,
        warnings,
        scanned_at: chrono::Utc::now(),
    }
}

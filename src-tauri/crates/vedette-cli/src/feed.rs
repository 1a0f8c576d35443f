//! `vedette feed update|import|status` and `vedette policy check|export-vex|import-vex`,
//! and the feed settings every command that matches shares.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};
use vedette_app::{FeedOutcome, FeedSources, Outcome};

use crate::{usage, Failure, Format};

/// Where advisories come from; each flag has an environment variable, and
/// the OSV base URL, once used, sticks for later runs.
#[derive(Args, Clone, Default)]
pub struct FeedArgs {
    /// Base URL of the OSV export (<URL>/<Ecosystem>/all.zip) [default: the public OSV bucket, or the last one used]
    #[arg(long, global = true, env = "VEDETTE_FEED_URL", value_name = "URL")]
    pub feed_url: Option<String>,
    /// CISA KEV catalogue (JSON); "none" to skip
    #[arg(long, global = true, env = "VEDETTE_KEV_URL", value_name = "URL")]
    pub kev_url: Option<String>,
    /// EPSS scores (gzip CSV); "none" to skip
    #[arg(long, global = true, env = "VEDETTE_EPSS_URL", value_name = "URL")]
    pub epss_url: Option<String>,
    /// NVD 2.0 JSON feed files, comma-separated; "none" to skip [default: the yearly files and `modified`]
    #[arg(long, global = true, env = "VEDETTE_NVD_URL", value_name = "URL,...")]
    pub nvd_url: Option<String>,
    /// How old the OSV feeds may be before a scan refreshes them and the gate calls them stale
    #[arg(
        long,
        global = true,
        env = "VEDETTE_FEED_MAX_AGE",
        value_name = "DURATION",
        default_value = "24h"
    )]
    pub feed_max_age: String,
    /// How long an enrichment source (KEV, EPSS, NVD) that failed is left alone by scans
    #[arg(
        long,
        global = true,
        env = "VEDETTE_SOURCE_RETRY_AFTER",
        value_name = "DURATION",
        default_value = "1h"
    )]
    pub source_retry_after: String,
}

impl FeedArgs {
    /// The feed settings these flags (or their variables) give.
    pub fn sources(&self) -> FeedSources {
        FeedSources {
            osv_base: self.feed_url.clone(),
            kev_url: self.kev_url.clone(),
            epss_url: self.epss_url.clone(),
            nvd_urls: self.nvd_url.clone(),
            osv_max_age: Some(self.feed_max_age.clone()),
            source_retry_after: Some(self.source_retry_after.clone()),
        }
    }
}

#[derive(Subcommand)]
pub enum FeedCommand {
    /// Downloads the advisory feeds that changed (conditional requests):
    /// the OSV ecosystems in use (or those named) and KEV, EPSS and NVD.
    Update {
        /// An OSV ecosystem to update (repeatable), e.g. Debian, PyPI, npm
        #[arg(long = "ecosystem", short = 'e', value_name = "NAME")]
        ecosystems: Vec<String>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Imports offline bundles: OSV export zips (<Ecosystem>/all.zip),
    /// known_exploited_vulnerabilities.json, epss*.csv.gz, nvdcve-2.0-*.json.gz,
    /// or directories holding them.
    Import {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Shows each feed: source, records, skipped entries, age and staleness.
    Status {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

fn print_outcomes(outcomes: &[FeedOutcome], format: Format) -> Result<u8, Failure> {
    if let Format::Json = format {
        println!("{}", serde_json::to_string_pretty(outcomes)?);
    } else {
        for o in outcomes {
            match &o.outcome {
                Outcome::Updated { records, skipped } => {
                    let sk: i64 = skipped.values().sum();
                    let detail = if sk == 0 {
                        String::new()
                    } else {
                        format!(
                            ", {sk} skipped ({})",
                            skipped
                                .iter()
                                .map(|(k, v)| format!("{v} {k}"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    };
                    println!("{:<24} updated: {records} records{detail}", o.feed)
                }
                Outcome::NotModified => println!("{:<24} unchanged", o.feed),
                Outcome::Missing => println!("{:<24} not at the source ({})", o.feed, o.source),
                Outcome::Failed { error } => println!("{:<24} FAILED: {error}", o.feed),
                Outcome::Skipped { reason } => println!("{:<24} not tried: {reason}", o.feed),
            }
        }
    }
    Ok(if outcomes.iter().any(FeedOutcome::failed) {
        3
    } else {
        0
    })
}

pub async fn run(app: &vedette_app::App, args: &FeedArgs, cmd: FeedCommand) -> Result<u8, Failure> {
    let feeds = app.feeds(&args.sources()).await?;
    let result = match cmd {
        FeedCommand::Update { ecosystems, format } => {
            if ecosystems.is_empty() && feeds.in_use(app).await?.is_empty() {
                eprintln!("vedette: no ecosystem is in use yet (nothing scanned, no feed imported); updating the enrichment feeds only. Name ecosystems with --ecosystem Debian --ecosystem PyPI …");
            }
            // Asked for by name: every feed, every source, now.
            let outcomes = feeds.update(app, &ecosystems).await?;
            print_outcomes(&outcomes, format)
        }
        FeedCommand::Import { paths, format } => {
            let outcomes = feeds.import(&paths).await?;
            print_outcomes(&outcomes, format)
        }
        FeedCommand::Status { format } => {
            let status = feeds.status().await?;
            let failures = feeds.failures().await?;
            if let Format::Json = format {
                println!("{}", serde_json::to_string_pretty(&status)?);
            } else if status.is_empty() && failures.is_empty() {
                eprintln!("No feeds yet. `vedette feed update --ecosystem NAME` downloads them; a scan does it for what it finds.");
            } else {
                println!(
                    "{:<28} {:>8} {:>8}  {:<10} {:<7} SOURCE",
                    "FEED", "RECORDS", "SKIPPED", "AGE", "STATE"
                );
                for f in &status {
                    let skipped: i64 = f.skipped.values().sum();
                    let age = humantime::format_duration(Duration::from_secs(
                        (f.age_seconds.max(0) as u64 / 60) * 60,
                    ))
                    .to_string();
                    println!(
                        "{:<28} {:>8} {:>8}  {:<10} {:<7} {}",
                        f.name,
                        f.records,
                        skipped,
                        if age.is_empty() || age == "0s" {
                            "<1m".into()
                        } else {
                            age
                        },
                        if f.stale { "STALE" } else { "fresh" },
                        f.source
                    );
                }
                if !failures.is_empty() {
                    println!("\nUnreachable sources (scans leave them alone until then; `vedette feed update` tries at once):");
                    for f in &failures {
                        println!(
                            "  {:<6} failed at {}, tried again after {}: {}",
                            f.source,
                            f.failed_at.format("%Y-%m-%d %H:%M UTC"),
                            f.retry_at.format("%H:%M UTC"),
                            f.error
                        );
                    }
                }
            }
            if !matches!(format, Format::Json) {
                print_coverage(&status);
            }
            Ok(0)
        }
    };
    feeds.close().await;
    result
}

/// Which advisories each distribution's packages are matched against, and
/// whether the index holds them yet.
fn print_coverage(status: &[vedette_model::FeedInfo]) {
    let rows: Vec<[String; 4]> = vedette_model::COVERAGE
        .iter()
        .map(|c| {
            let advisories = match c.ecosystem {
                Some(e) => {
                    let feed = format!("osv/{}", e.osv_name());
                    match status.iter().find(|f| f.name == feed) {
                        Some(f) => format!("{feed} ({} records)", f.records),
                        None => format!("{feed} (not downloaded yet)"),
                    }
                }
                None => "none: uncovered".to_owned(),
            };
            [
                c.distro.to_owned(),
                c.ids.join(", "),
                advisories,
                c.release.replace('`', ""),
            ]
        })
        .collect();
    let width = |i: usize, head: &str| {
        rows.iter()
            .map(|r| r[i].chars().count())
            .chain([head.len()])
            .max()
            .unwrap_or(0)
    };
    let (w0, w1, w2) = (
        width(0, "DISTRIBUTION"),
        width(1, "ID"),
        width(2, "ADVISORIES"),
    );
    println!("\nOperating systems, by the ID in their /etc/os-release:");
    println!(
        "  {:<w0$}  {:<w1$}  {:<w2$}  RELEASE",
        "DISTRIBUTION", "ID", "ADVISORIES"
    );
    for [distro, ids, advisories, release] in &rows {
        println!("  {distro:<w0$}  {ids:<w1$}  {advisories:<w2$}  {release}");
    }
    println!("  Any other ID is uncovered too: its packages are listed, and the gate gives no verdict (exit 4) unless --allow-uncovered.");
}

#[derive(Subcommand)]
pub enum PolicyCommand {
    /// Checks a policy file and prints it as Vedette reads it.
    Check { file: PathBuf },
    /// Writes a policy's exceptions as an OpenVEX document.
    ExportVex {
        file: PathBuf,
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Adds an OpenVEX document's `not_affected` statements to a policy file as exceptions.
    ImportVex {
        vex: PathBuf,
        /// The policy file to add them to (created if missing)
        #[arg(long = "into", value_name = "POLICY")]
        into: PathBuf,
        /// Expiry for statements that carry none (YYYY-MM-DD)
        #[arg(long, value_name = "DATE")]
        expires: Option<String>,
    },
}

pub fn policy(cmd: PolicyCommand) -> Result<u8, Failure> {
    match cmd {
        PolicyCommand::Check { file } => {
            let p = vedette_app::read_policy(&file)?;
            eprintln!("{} is a valid policy.", file.display());
            print!("{}", p.to_toml());
            Ok(0)
        }
        PolicyCommand::ExportVex { file, output } => {
            let p = vedette_app::read_policy(&file)?;
            let doc = serde_json::to_string_pretty(&vedette_app::to_vex(&p))?;
            match output {
                Some(o) => std::fs::write(&o, doc).map_err(|e| {
                    Failure::from(anyhow::anyhow!("cannot write {}: {e}", o.display()))
                })?,
                None => println!("{doc}"),
            }
            Ok(0)
        }
        PolicyCommand::ImportVex { vex, into, expires } => {
            let expires = expires
                .map(|d| {
                    chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d")
                        .map_err(|_| usage(format!("--expires {d}: write the date as YYYY-MM-DD")))
                })
                .transpose()?;
            let n = vedette_app::import_vex(&vex, &into, expires)?;
            eprintln!(
                "Added {n} exception(s) from {} to {}.",
                vex.display(),
                into.display()
            );
            Ok(0)
        }
    }
}

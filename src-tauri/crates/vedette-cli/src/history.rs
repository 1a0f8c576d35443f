//! `vedette history` and `vedette history show SCAN`.

use clap::{Args, Subcommand};
use vedette_model::{ScanState, ScanSummary};

use crate::{usage, Failure, Format};

#[derive(Args)]
pub struct HistoryArgs {
    #[command(subcommand)]
    show: Option<HistoryCommand>,
    /// How many scans, newest first.
    #[arg(long, default_value_t = 20)]
    limit: i64,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Subcommand)]
enum HistoryCommand {
    /// One scan: what is new since the previous scan of its target (and why),
    /// what was fixed, what is unchanged.
    Show {
        scan: i64,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

fn counts(s: &ScanSummary) -> String {
    match &s.counts {
        Some(c) => format!(
            "{} crit  {} high  {} med  {} low  {} unk",
            c.critical, c.high, c.medium, c.low, c.unknown
        ),
        None => "packages only".into(),
    }
}

pub async fn run(store: &vedette_store::Store, args: HistoryArgs) -> Result<u8, Failure> {
    match args.show {
        None => {
            let scans = store.list_scans(args.limit).await?;
            if let Format::Json = args.format {
                println!("{}", serde_json::to_string_pretty(&scans)?);
                return Ok(0);
            }
            if scans.is_empty() {
                eprintln!("No scans yet. `vedette scan image REF` (or dir, archive, sbom) makes the first.");
                return Ok(0);
            }
            println!(
                "{:>5}  {:<17}  {:<9}  {:<10}  {:<40}  {:>4}  {:<7}  TARGET",
                "SCAN", "STARTED (UTC)", "TRIGGER", "STATE", "FINDINGS", "NEW", "VERDICT"
            );
            for s in &scans {
                let verdict = match (s.state, s.verdict_pass) {
                    (ScanState::Succeeded, Some(true)) => "pass",
                    (ScanState::Succeeded, Some(false)) => "FAIL",
                    _ => "-",
                };
                println!(
                    "{:>5}  {:<17}  {:<9}  {:<10}  {:<40}  {:>4}  {:<7}  {}",
                    s.id,
                    s.started_at.format("%Y-%m-%d %H:%M"),
                    s.trigger.as_str(),
                    s.state.as_str(),
                    if s.state == ScanState::Succeeded {
                        counts(s)
                    } else {
                        s.error.clone().unwrap_or_default()
                    },
                    s.new_findings
                        .map(|n| n.to_string())
                        .unwrap_or_else(|| "-".into()),
                    verdict,
                    s.target_name
                );
            }
            Ok(0)
        }
        Some(HistoryCommand::Show { scan, format }) => {
            let Some(report) = store.scan_report(scan).await? else {
                return Err(usage(format!(
                    "scan {scan} has no findings on record (it failed, or listed packages only); `vedette history` lists the scans"
                )));
            };
            let diff = store.scan_diff(scan).await?;
            if let Format::Json = format {
                println!(
                    "{}",
                    serde_json::to_string_pretty(
                        &serde_json::json!({"report": report, "diff": diff})
                    )?
                );
                return Ok(0);
            }
            println!("scan {scan} of {}  ({})", report.target, report.digest);
            match diff.previous_scan_id {
                Some(p) => println!("compared with scan {p}"),
                None => println!("the first scan of this target"),
            }
            println!();
            println!("NEW ({})", diff.new.len());
            for n in &diff.new {
                let f = &n.finding;
                println!(
                    "  {:>5.1}  {:<28} {:<24} {:<18} {:<9}  {}",
                    f.risk,
                    f.id,
                    f.package,
                    f.version,
                    f.severity.as_str(),
                    n.cause.describe()
                );
            }
            println!("FIXED ({})", diff.fixed.len());
            for f in &diff.fixed {
                println!(
                    "         {:<28} {:<24} {:<18} {:<9}",
                    f.id,
                    f.package,
                    f.version,
                    f.severity.as_str()
                );
            }
            println!("UNCHANGED ({})", diff.unchanged.len());
            println!();
            println!(
                "verdict: {}",
                if !report.stale_feeds.is_empty() {
                    "none (stale feeds)".to_owned()
                } else if report.verdict.pass {
                    "pass".to_owned()
                } else {
                    format!("FAIL: {}", report.verdict.failures.join("; "))
                }
            );
            Ok(0)
        }
    }
}

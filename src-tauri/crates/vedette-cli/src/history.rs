//! `vedette history` and `vedette history show SCAN`.

use clap::{Args, Subcommand};
use vedette_model::{ScanState, ScanSummary};

use crate::scan::OutFormat;
use crate::{clean, usage, Failure, Format};

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
        /// table: what changed since the previous scan; json: the report
        /// and that diff; sarif, cyclonedx, cyclonedx-1.5, spdx: the stored
        /// scan re-rendered as `vedette scan` writes them.
        #[arg(long, short = 'f', value_enum, default_value_t = OutFormat::Table)]
        format: OutFormat,
        /// Write it to FILE instead of standard output.
        #[arg(long, short, value_name = "FILE")]
        output: Option<std::path::PathBuf>,
        /// Print what the scan found installed instead (the inventory JSON
        /// of `vedette scan … --packages-only --format json`).
        #[arg(long)]
        inventory: bool,
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

pub async fn run(app: &vedette_app::App, args: HistoryArgs) -> Result<u8, Failure> {
    match args.show {
        None => {
            let scans = app.scans(args.limit).await?;
            print_scans(&scans, args.format)?;
            Ok(0)
        }
        Some(HistoryCommand::Show {
            scan,
            inventory: true,
            ..
        }) => {
            let inv = app.scan_inventory(scan).await?;
            println!("{}", serde_json::to_string_pretty(&inv)?);
            Ok(0)
        }
        Some(HistoryCommand::Show {
            scan,
            format: format @ (OutFormat::Table | OutFormat::Json),
            output,
            ..
        }) => {
            let mut detail = app.scan_detail(scan).await?;
            // The report with its findings, as the API gives it.
            detail.report = app.scan_report(scan).await?;
            print_detail(scan, detail, detail_format(format), output.as_deref())
        }
        Some(HistoryCommand::Show {
            scan,
            format,
            output,
            ..
        }) => {
            // The stored scan, rendered again as the scan wrote it.
            let inventory = app.scan_inventory(scan).await?;
            let report = app.scan_report(scan).await?;
            let color = output.is_none() && crate::color_stdout();
            let text = crate::scan::render(format, &inventory, report.as_ref(), color)?;
            write_text(scan, output.as_deref(), &text)?;
            Ok(0)
        }
    }
}

#[derive(Args)]
pub struct TrendsArgs {
    /// One target (its name as `vedette history` shows it); all targets if left out.
    #[arg(long, conflicts_with = "group")]
    target: Option<String>,
    /// One group of targets (`vedette target group`).
    #[arg(long)]
    group: Option<String>,
    /// How many days back.
    #[arg(long, default_value_t = 30)]
    days: i64,
    /// Write the chart to FILE: .png or .svg.
    #[arg(long, short, value_name = "FILE")]
    output: Option<std::path::PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

pub async fn trends(app: &vedette_app::App, args: TrendsArgs) -> Result<u8, Failure> {
    let of = match (&args.target, &args.group) {
        (Some(t), _) => vedette_app::TrendsOf::Target(t.clone()),
        (None, Some(g)) => vedette_app::TrendsOf::Group(g.clone()),
        (None, None) => vedette_app::TrendsOf::All,
    };
    let t = app.trends(&of, args.days).await.map_err(|e| match e {
        vedette_app::AppError::Invalid(_) => usage("--days runs from 1 to 3660"),
        other => other.into(),
    })?;
    if let Some(path) = &args.output {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        match ext.as_str() {
            "svg" => {
                let svg = vedette_report::trends_svg(&t)
                    .map_err(|e| Failure::from(anyhow::anyhow!(e)))?;
                std::fs::write(path, svg).map_err(|e| {
                    Failure::from(anyhow::anyhow!("cannot write {}: {e}", path.display()))
                })?;
            }
            "png" => vedette_report::trends_png(&t, path)
                .map_err(|e| Failure::from(anyhow::anyhow!(e)))?,
            _ => {
                return Err(usage(format!(
                    "{}: the chart is written as .png or .svg",
                    path.display()
                )))
            }
        }
        eprintln!("vedette: trend chart written to {}", path.display());
    }
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&t)?),
        Format::Text if args.output.is_none() => {
            println!(
                "Open findings, {} (newest scan of each target up to each day):",
                t.scope
            );
            println!(
                "  {:<10}  {:>5} {:>5} {:>5} {:>5} {:>5}",
                "DAY", "CRIT", "HIGH", "MED", "LOW", "UNK"
            );
            for d in t.daily.iter().rev().take(14).rev() {
                let o = &d.open;
                println!(
                    "  {:<10}  {:>5} {:>5} {:>5} {:>5} {:>5}",
                    d.day, o.critical, o.high, o.medium, o.low, o.unknown
                );
            }
            println!("New and fixed per week:");
            for w in &t.weekly {
                println!(
                    "  week of {}  new {:>4}  fixed {:>4}",
                    w.week_start, w.new, w.fixed
                );
            }
            match t.mean_days_to_fix {
                Some(d) => println!(
                    "Mean time to fix: {d:.1} days over {} fixed findings",
                    t.fixed_count
                ),
                None => println!("Mean time to fix: nothing fixed yet"),
            }
        }
        Format::Text => {}
    }
    Ok(0)
}

/// The history as `vedette history` prints it (locally or from a console).
pub(crate) fn print_scans(
    scans: &[vedette_model::ScanSummary],
    format: Format,
) -> Result<(), Failure> {
    if let Format::Json = format {
        println!("{}", serde_json::to_string_pretty(&scans)?);
        return Ok(());
    }
    if scans.is_empty() {
        eprintln!(
            "No scans yet. `vedette scan image REF` (or dir, archive, sbom) makes the first."
        );
        return Ok(());
    }
    println!(
        "{:>5}  {:<17}  {:<9}  {:<10}  {:<40}  {:>4}  {:<7}  TARGET",
        "SCAN", "STARTED (UTC)", "TRIGGER", "STATE", "FINDINGS", "NEW", "VERDICT"
    );
    for s in scans {
        let verdict = match (s.state, s.verdict_pass) {
            (ScanState::Succeeded, Some(true)) => "pass",
            (ScanState::Succeeded, Some(false)) => "FAIL",
            // Matched, but a feed was stale or part was uncovered.
            (ScanState::Succeeded, None) if s.counts.is_some() => "none",
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
                clean(s.error.as_deref().unwrap_or_default()).into_owned()
            },
            s.new_findings
                .map(|n| n.to_string())
                .unwrap_or_else(|| "-".into()),
            verdict,
            clean(&s.target_name)
        );
    }
    Ok(())
}

/// The detail's text or JSON for a report format of `history show`.
fn detail_format(f: OutFormat) -> Format {
    match f {
        OutFormat::Json => Format::Json,
        _ => Format::Text,
    }
}

/// `vedette --console … history`: the console's scans.
pub async fn run_remote(
    console: &vedette_api::client::Console,
    args: HistoryArgs,
) -> Result<u8, Failure> {
    if let Some(HistoryCommand::Show {
        scan,
        format,
        output,
        inventory,
    }) = args.show
    {
        if inventory || !matches!(format, OutFormat::Table | OutFormat::Json) {
            return Err(usage(
                "against a console, history show gives the table or JSON; GET /api/v1/scans/{id}/report?format=sarif|cyclonedx gives the rest",
            ));
        }
        let detail = vedette_model::ScanDetail {
            scan_id: scan,
            report: console.scan(scan).await?.report,
            diff: Some(console.scan_diff(scan).await?),
        };
        return print_detail(scan, detail, detail_format(format), output.as_deref());
    }
    print_scans(&console.scans(args.limit).await?, args.format)?;
    Ok(0)
}

/// One scan as `vedette history show` prints it (locally or from a console).
fn print_detail(
    scan: i64,
    detail: vedette_model::ScanDetail,
    format: Format,
    output: Option<&std::path::Path>,
) -> Result<u8, Failure> {
    let text = detail_text(scan, detail, format)?;
    write_text(scan, output, &text)?;
    Ok(0)
}

/// Writes a rendering of scan `scan` to `output`, else to standard output.
fn write_text(scan: i64, output: Option<&std::path::Path>, text: &str) -> Result<(), Failure> {
    match output {
        Some(path) => {
            std::fs::write(path, text.as_bytes()).map_err(|e| {
                Failure::from(anyhow::anyhow!("cannot write {}: {e}", path.display()))
            })?;
            if !crate::quiet() {
                eprintln!("vedette: scan {scan} written to {}", path.display());
            }
        }
        None => print!("{text}"),
    }
    Ok(())
}

/// One scan's detail as text or JSON.
fn detail_text(
    scan: i64,
    detail: vedette_model::ScanDetail,
    format: Format,
) -> Result<String, Failure> {
    let mut out = String::new();
    macro_rules! put {
        ($($a:tt)*) => {{
            out.push_str(&format!($($a)*));
            out.push('\n');
        }};
    }
    let (Some(report), Some(diff)) = (detail.report, detail.diff) else {
        return Err(usage(format!(
            "scan {scan} has no findings on record (it failed, or listed packages only); `vedette history` lists the scans"
        )));
    };
    if let Format::Json = format {
        let doc = serde_json::json!({"report": report, "diff": diff});
        return Ok(format!("{}\n", serde_json::to_string_pretty(&doc)?));
    }
    put!(
        "scan {scan} of {}  ({})",
        clean(&report.target),
        clean(&report.digest)
    );
    match diff.previous_scan_id {
        Some(p) => put!("compared with scan {p}"),
        None => put!("the first scan of this target"),
    }
    out.push('\n');
    put!("NEW ({})", diff.new.len());
    for n in &diff.new {
        let f = &n.finding;
        put!(
            "  {:>5.1}  {:<28} {:<24} {:<18} {:<9}  {}",
            f.risk,
            clean(&f.id),
            clean(&f.package),
            clean(&f.version),
            f.severity.as_str(),
            n.cause.describe()
        );
    }
    put!("FIXED ({})", diff.fixed.len());
    for f in &diff.fixed {
        put!(
            "         {:<28} {:<24} {:<18} {:<9}",
            clean(&f.id),
            clean(&f.package),
            clean(&f.version),
            f.severity.as_str()
        );
    }
    put!("UNCHANGED ({})", diff.unchanged.len());
    out.push('\n');
    put!(
        "verdict: {}",
        if !report.stale_feeds.is_empty() {
            "none (stale feeds)".to_owned()
        } else if let Some(none) = &report.verdict.none {
            clean(none).into_owned()
        } else if report.verdict.pass {
            "pass".to_owned()
        } else {
            format!("FAIL: {}", report.verdict.failures.join("; "))
        }
    );
    Ok(out)
}

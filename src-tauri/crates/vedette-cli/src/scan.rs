//! `vedette scan image|archive|dir`: inventory a target, store it, print it.

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Subcommand, ValueEnum};
use vedette_app::{App, CancellationToken, Policy, ScanOptions, ScanTarget};
use vedette_model::{parse_bytes, Exposure, ScanLimits, Severity, TargetKind};

use crate::feed::FeedArgs;
use crate::{usage, Failure};

#[derive(Subcommand)]
pub enum ScanCommand {
    /// An image in a registry: REF is [registry/]repository[:tag][@digest].
    Image {
        reference: String,
        /// Platform to pick from a multi-platform image; remembered for the
        /// target [default: as it was scanned last, else this machine's, e.g. linux/amd64]
        #[arg(long, value_name = "OS/ARCH[/VARIANT]", env = "VEDETTE_PLATFORM")]
        platform: Option<String>,
        /// Allow plain HTTP and TLS certificates that do not verify, for this
        /// registry; remembered for the target, so schedules reach it the same way.
        #[arg(long, env = "VEDETTE_INSECURE_REGISTRY", value_parser = clap::builder::FalseyValueParser::new())]
        insecure_registry: bool,
        /// Log in to the registry as USER for this scan only (nothing is
        /// stored); the password or token is read from standard input with
        /// --password-stdin [env: VEDETTE_REGISTRY_USERNAME]
        #[arg(long, value_name = "USER", requires = "password_stdin")]
        username: Option<String>,
        /// Read the registry password or token from standard input.
        #[arg(long, requires = "username")]
        password_stdin: bool,
        #[command(flatten)]
        out: OutputArgs,
    },
    /// An image archive: `docker save` tar, OCI archive tar (optionally gzipped), or OCI layout directory;
    /// `-` reads it from standard input (`docker save IMAGE | vedette scan archive -`).
    Archive {
        path: PathBuf,
        /// Platform to pick from a multi-platform archive [default: this machine's, e.g. linux/amd64]
        #[arg(long, value_name = "OS/ARCH[/VARIANT]", env = "VEDETTE_PLATFORM")]
        platform: Option<String>,
        #[command(flatten)]
        out: OutputArgs,
    },
    /// A directory or unpacked root filesystem.
    Dir {
        path: PathBuf,
        #[command(flatten)]
        out: OutputArgs,
    },
    /// An SBOM: CycloneDX, SPDX or syft JSON (its packages are matched by purl);
    /// `-` reads it from standard input.
    Sbom {
        path: PathBuf,
        #[command(flatten)]
        out: OutputArgs,
    },
}

#[derive(Args)]
pub struct OutputArgs {
    /// The report's format (the format of -o FILE).
    #[arg(long, short = 'f', value_enum, default_value_t = OutFormat::Table, env = "VEDETTE_FORMAT")]
    format: OutFormat,
    /// List packages only: no advisory matching, no feeds (an SBOM of the target).
    #[arg(long, env = "VEDETTE_PACKAGES_ONLY", value_parser = clap::builder::FalseyValueParser::new())]
    packages_only: bool,
    /// Fail (exit 1) on any finding of this severity or worse.
    #[arg(long, value_enum, value_name = "SEVERITY", env = "VEDETTE_FAIL_ON")]
    fail_on: Option<SeverityArg>,
    /// A policy file (TOML; see the README): severities, counts, KEV, risk,
    /// exceptions [default: ./.vedette.toml when there is one]
    #[arg(long, value_name = "FILE", env = "VEDETTE_POLICY")]
    policy: Option<PathBuf>,
    /// Count only findings that have a fix.
    #[arg(long, env = "VEDETTE_IGNORE_UNFIXED", value_parser = clap::builder::FalseyValueParser::new())]
    ignore_unfixed: bool,
    /// Apply an OpenVEX document's `not_affected` statements as exceptions.
    #[arg(long, value_name = "FILE", env = "VEDETTE_VEX")]
    vex: Option<PathBuf>,
    /// Give a verdict even when an advisory feed is older than its limit.
    #[arg(long, env = "VEDETTE_ALLOW_STALE", value_parser = clap::builder::FalseyValueParser::new())]
    allow_stale: bool,
    /// Give a verdict even when part of the target cannot be judged (an
    /// operating system no advisory source covers, a package database that
    /// cannot be read); the policy's `allow_uncovered = true` does the same.
    #[arg(long, env = "VEDETTE_ALLOW_UNCOVERED", value_parser = clap::builder::FalseyValueParser::new())]
    allow_uncovered: bool,
    /// Match against the local advisory index as it is; download nothing.
    #[arg(long, env = "VEDETTE_OFFLINE", value_parser = clap::builder::FalseyValueParser::new())]
    offline: bool,
    /// Whether the target is reachable from the internet (weighs on the risk
    /// score). Remembered for the target [default: what was set last, else internal]
    #[arg(long, value_enum, env = "VEDETTE_EXPOSURE")]
    exposure: Option<ExposureArg>,
    /// Write the report to FILE instead of standard output; FORMAT=FILE
    /// writes that format there (repeat it for several formats from one
    /// scan: -o sarif=r.sarif -o cyclonedx=bom.json).
    #[arg(long, short, value_name = "[FORMAT=]FILE", env = "VEDETTE_OUTPUT")]
    output: Vec<String>,
    #[command(flatten)]
    limits: LimitArgs,
}

/// How much one scan may take (each also an environment variable; the
/// README's "Hostile input" section says what each bounds).
#[derive(Args)]
pub(crate) struct LimitArgs {
    /// Package data kept in memory per scan [default: 512MiB]
    #[arg(long, value_name = "SIZE", value_parser = parse_bytes, env = "VEDETTE_MAX_MEMORY")]
    max_memory: Option<u64>,
    /// Largest package database or lock file read [default: 256MiB]
    #[arg(long, value_name = "SIZE", value_parser = parse_bytes, env = "VEDETTE_MAX_FILE_SIZE")]
    max_file_size: Option<u64>,
    /// Largest inflated layer [default: 64GiB]
    #[arg(long, value_name = "SIZE", value_parser = parse_bytes, env = "VEDETTE_MAX_LAYER_SIZE")]
    max_layer_size: Option<u64>,
    /// Most entries in a layer or directory tree [default: 5000000]
    #[arg(long, value_name = "N", env = "VEDETTE_MAX_ENTRIES")]
    max_entries: Option<u64>,
    /// Largest inflated gzipped image archive [default: 16GiB]
    #[arg(long, value_name = "SIZE", value_parser = parse_bytes, env = "VEDETTE_MAX_ARCHIVE_SIZE")]
    max_archive_size: Option<u64>,
    /// Time one scan may take [default: 30m]
    #[arg(long, value_name = "DURATION", value_parser = vedette_app::parse_duration, env = "VEDETTE_SCAN_TIMEOUT")]
    timeout: Option<std::time::Duration>,
    /// Time one HTTP request may take [default: 10m]
    #[arg(long, value_name = "DURATION", value_parser = vedette_app::parse_duration, env = "VEDETTE_HTTP_TIMEOUT")]
    http_timeout: Option<std::time::Duration>,
}

impl LimitArgs {
    /// The environment's limits, with these flags over them.
    pub(crate) fn limits(&self) -> Result<ScanLimits, Failure> {
        let mut l = vedette_app::limits_from_env().map_err(usage)?;
        let set = |v: Option<u64>, into: &mut u64| {
            if let Some(v) = v {
                *into = v;
            }
        };
        set(self.max_memory, &mut l.max_kept_bytes);
        set(self.max_file_size, &mut l.max_file_bytes);
        set(self.max_layer_size, &mut l.max_layer_bytes);
        set(self.max_entries.filter(|n| *n > 0), &mut l.max_entries);
        set(self.max_archive_size, &mut l.max_archive_bytes);
        if let Some(t) = self.timeout {
            l.timeout = t;
        }
        if let Some(t) = self.http_timeout {
            l.http_timeout = t;
        }
        Ok(l)
    }
}

/// A report's format: the same names for `scan` and `history show`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OutFormat {
    /// For people (also `text`).
    #[value(alias = "text")]
    Table,
    /// Vedette's JSON report (the inventory with --packages-only).
    Json,
    /// SARIF 2.1.0, for code scanning dashboards.
    Sarif,
    /// CycloneDX 1.6 JSON: the components and the vulnerabilities.
    Cyclonedx,
    /// CycloneDX 1.5 JSON, for tools that do not read 1.6 yet.
    #[value(name = "cyclonedx-1.5")]
    Cyclonedx15,
    /// SPDX 2.3 JSON: the packages.
    Spdx,
}

/// Renders what a scan found: its `report` (none for a packages-only scan)
/// and the inventory it judged.
pub(crate) fn render(
    format: OutFormat,
    inventory: &vedette_model::Inventory,
    report: Option<&vedette_model::ScanReport>,
    color: bool,
) -> Result<String, Failure> {
    use vedette_report::Format;
    Ok(match (format, report) {
        (OutFormat::Table, Some(r)) => vedette_report::findings_table(r, color),
        (OutFormat::Table, None) => vedette_report::render(inventory, Format::Table),
        (OutFormat::Json, Some(r)) => vedette_report::json_report(r),
        (OutFormat::Json, None) => vedette_report::render(inventory, Format::Json),
        (OutFormat::Sarif, Some(r)) => vedette_report::sarif(r),
        (OutFormat::Sarif, None) => return Err(usage(NO_SARIF)),
        (OutFormat::Cyclonedx, Some(r)) => vedette_report::cyclonedx_with_findings(inventory, r),
        (OutFormat::Cyclonedx, None) => vedette_report::render(inventory, Format::CycloneDx),
        (OutFormat::Cyclonedx15, r) => {
            vedette_report::cyclonedx_1_5(&render(OutFormat::Cyclonedx, inventory, r, false)?)
        }
        (OutFormat::Spdx, _) => vedette_report::render(inventory, Format::Spdx),
    })
}

const NO_SARIF: &str = "SARIF reports findings, and a packages-only scan has none; drop --packages-only, or choose table, json, cyclonedx or spdx";

/// Where the reports go: the --format report to standard output, or to
/// each `-o FILE`; `-o FORMAT=FILE` names its own format.
fn outputs(out: &OutputArgs) -> Vec<(OutFormat, Option<PathBuf>)> {
    if out.output.is_empty() {
        return vec![(out.format, None)];
    }
    out.output
        .iter()
        .map(|o| {
            let named = o.split_once('=').and_then(|(f, path)| {
                Some((OutFormat::from_str(f, true).ok()?, PathBuf::from(path)))
            });
            match named {
                Some((f, path)) => (f, Some(path)),
                None => (out.format, Some(PathBuf::from(o))),
            }
        })
        .collect()
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum SeverityArg {
    Low,
    Medium,
    High,
    Critical,
}

impl From<SeverityArg> for Severity {
    fn from(s: SeverityArg) -> Self {
        match s {
            SeverityArg::Low => Severity::Low,
            SeverityArg::Medium => Severity::Medium,
            SeverityArg::High => Severity::High,
            SeverityArg::Critical => Severity::Critical,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum ExposureArg {
    Internal,
    Internet,
}

impl From<ExposureArg> for vedette_model::Exposure {
    fn from(e: ExposureArg) -> Self {
        match e {
            ExposureArg::Internal => vedette_model::Exposure::Internal,
            ExposureArg::Internet => vedette_model::Exposure::Internet,
        }
    }
}

/// A scan's progress on standard error: a bar of the layers' bytes on a
/// terminal, plain lines otherwise (a CI log), nothing with -q.
struct StderrProgress {
    quiet: bool,
    layers: std::sync::atomic::AtomicUsize,
    bar: Option<indicatif::ProgressBar>,
}

impl StderrProgress {
    fn new(quiet: bool) -> Self {
        use std::io::IsTerminal;
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = indicatif::ProgressBar::with_draw_target(
                Some(0),
                indicatif::ProgressDrawTarget::stderr(),
            );
            let style = indicatif::ProgressStyle::with_template(
                "{spinner} {msg:40!} [{bar:28}] {bytes}/{total_bytes} {bytes_per_sec}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> ");
            bar.set_style(style);
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        });
        Self {
            quiet,
            layers: 0.into(),
            bar,
        }
    }
}

impl Drop for StderrProgress {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl vedette_app::LayerProgress for StderrProgress {
    fn layer_started(&self, _digest: &str, size: u64) {
        if let Some(bar) = &self.bar {
            bar.inc_length(size);
        }
    }

    fn bytes(&self, n: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(n);
        }
    }

    fn layer_done(&self, digest: &str) {
        let n = self
            .layers
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        match &self.bar {
            Some(bar) => bar.set_message(format!("{n} layer(s) pulled")),
            None if !self.quiet => eprintln!(
                "vedette: layer {n} done ({})",
                &digest[..digest.len().min(19)]
            ),
            None => {}
        }
    }
}

impl vedette_app::Progress for StderrProgress {
    fn stage(&self, message: &str) {
        match &self.bar {
            Some(bar) => bar.set_message(crate::clean(message).into_owned()),
            None if !self.quiet => eprintln!("vedette: {}", crate::clean(message)),
            None => {}
        }
    }
}

pub async fn run(app: &App, feed_args: &FeedArgs, cmd: ScanCommand) -> Result<u8, Failure> {
    let mut credential = None;
    let (target, platform, insecure, out) = match cmd {
        ScanCommand::Image {
            reference,
            platform,
            insecure_registry,
            username,
            password_stdin: _,
            out,
        } => {
            if let Some(u) = username {
                credential = Some(vedette_app::RegistryCredential {
                    username: u,
                    secret: read_password_stdin()?,
                });
            }
            (
                ScanTarget::Image(reference),
                platform,
                insecure_registry,
                out,
            )
        }
        ScanCommand::Archive {
            path,
            platform,
            out,
        } => (ScanTarget::Archive(path), platform, false, out),
        ScanCommand::Dir { path, out } => (ScanTarget::Directory(path), None, false, out),
        ScanCommand::Sbom { path, out } => (ScanTarget::Sbom(path), None, false, out),
    };
    if out.packages_only && outputs(&out).iter().any(|(f, _)| *f == OutFormat::Sarif) {
        return Err(usage(NO_SARIF));
    }
    // Read the policy and limits before the scan: a typo should not cost a pull.
    let policy = if out.packages_only {
        Policy::default()
    } else {
        build_policy(&out)?
    };
    let opts = ScanOptions {
        policy,
        exposure: out.exposure.map(|e| match e {
            ExposureArg::Internal => Exposure::Internal,
            ExposureArg::Internet => Exposure::Internet,
        }),
        packages_only: out.packages_only,
        offline: out.offline,
        platform,
        insecure,
        limits: Some(out.limits.limits()?),
        credential,
        ..ScanOptions::default()
    };
    let progress = Arc::new(StderrProgress::new(crate::quiet()));
    // Ctrl-C ends the scan cleanly: it is recorded as cancelled.
    let cancel = CancellationToken::new();
    let on_interrupt = {
        let cancel = cancel.clone();
        let quiet = crate::quiet();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                if !quiet {
                    eprintln!("vedette: interrupted; stopping the scan");
                }
                cancel.cancel();
            }
        })
    };
    let stdin = match &target {
        ScanTarget::Archive(p) if p.as_os_str() == "-" => Some(TargetKind::Archive),
        ScanTarget::Sbom(p) if p.as_os_str() == "-" => Some(TargetKind::Sbom),
        _ => None,
    };
    let scanned = match stdin {
        Some(kind) => {
            app.scan_stdin(
                kind,
                std::io::stdin(),
                &opts,
                &feed_args.sources(),
                progress,
                &cancel,
            )
            .await
        }
        None => {
            app.scan_now(target, &opts, &feed_args.sources(), progress, &cancel)
                .await
        }
    };
    on_interrupt.abort();
    let scanned = scanned?;
    let inventory = &scanned.inventory;
    let Some(report) = &scanned.report else {
        write_reports(
            &out,
            inventory,
            None,
            &format!("{} packages", inventory.packages.len()),
        )?;
        return Ok(0);
    };
    let new = &scanned.new_findings;
    if !crate::quiet() && !new.is_empty() {
        eprintln!(
            "vedette: {} new finding{} since the previous scan of this target (scan {}; `vedette history show {}`)",
            new.len(),
            if new.len() == 1 { "" } else { "s" },
            scanned.scan_id,
            scanned.scan_id
        );
    }
    write_reports(
        &out,
        inventory,
        Some(report),
        &format!("{} findings", report.findings.len()),
    )?;
    Ok(judge(report, out.allow_stale))
}

/// Writes each report the outputs ask for.
fn write_reports(
    out: &OutputArgs,
    inventory: &vedette_model::Inventory,
    report: Option<&vedette_model::ScanReport>,
    what: &str,
) -> Result<(), Failure> {
    for (format, path) in outputs(out) {
        let color = path.is_none() && crate::color_stdout();
        let text = render(format, inventory, report, color)?;
        write_out(path.as_deref(), crate::quiet(), &text, what)?;
    }
    Ok(())
}

/// The registry password given with --password-stdin (a trailing newline,
/// as `echo` adds, dropped).
fn read_password_stdin() -> Result<vedette_model::Sensitive<String>, Failure> {
    use std::io::Read;
    let mut s = String::new();
    std::io::stdin()
        .lock()
        .take(64 * 1024)
        .read_to_string(&mut s)
        .map_err(|e| {
            usage(format!(
                "cannot read the registry password from standard input: {e}"
            ))
        })?;
    let s = s.trim_end_matches(['\n', '\r']).to_owned();
    if s.is_empty() {
        return Err(usage(
            "--password-stdin read nothing: pipe the password or token in, e.g. `echo \"$TOKEN\" | vedette scan image … --username USER --password-stdin`",
        ));
    }
    Ok(vedette_model::Sensitive::new(s))
}

/// The policy file a scan uses when run in a directory that has one.
const LOCAL_POLICY: &str = ".vedette.toml";

fn build_policy(out: &OutputArgs) -> Result<Policy, Failure> {
    // Like `.trivyignore`: a project's policy beside its code applies to
    // the scans run there, unless --policy names another.
    let local = std::path::Path::new(LOCAL_POLICY);
    let mut policy = match &out.policy {
        Some(p) => vedette_app::read_policy(p)?,
        None if local.is_file() => {
            if !crate::quiet() {
                eprintln!("vedette: using the policy in ./{LOCAL_POLICY}");
            }
            vedette_app::read_policy(local)?
        }
        None => Policy::default(),
    };
    if let Some(s) = out.fail_on {
        policy.fail_on = Some(s.into());
    }
    if out.ignore_unfixed {
        policy.fixable_only = true;
    }
    if out.allow_uncovered {
        policy.allow_uncovered = true;
    }
    if let Some(vex) = &out.vex {
        // Statements without an expiry apply to this scan.
        let today = chrono::Utc::now().date_naive();
        policy
            .exceptions
            .extend(vedette_app::exceptions_from_vex(vex, Some(today))?);
    }
    Ok(policy)
}

fn write_out(
    path: Option<&std::path::Path>,
    quiet: bool,
    text: &str,
    what: &str,
) -> Result<(), Failure> {
    match path {
        Some(path) => {
            std::fs::write(path, text.as_bytes()).map_err(|e| {
                Failure::from(anyhow::anyhow!("cannot write {}: {e}", path.display()))
            })?;
            if !quiet {
                eprintln!("vedette: {what} written to {}", path.display());
            }
        }
        None => print!("{text}"),
    }
    Ok(())
}

/// The exit code of a report (0 pass, 1 the policy failed, 4 no verdict),
/// with why on standard error, even with --quiet: the reason a pipeline
/// stopped.
pub(crate) fn judge(report: &vedette_model::ScanReport, allow_stale: bool) -> u8 {
    if !report.stale_feeds.is_empty() && !allow_stale {
        eprintln!(
            "vedette: no verdict: the advisory feed{} {} {} older than the limit or missing, so findings may be missing. Run `vedette feed update` (or import an offline bundle), or pass --allow-stale to judge anyway.",
            if report.stale_feeds.len() == 1 { "" } else { "s" },
            report.stale_feeds.join(", "),
            if report.stale_feeds.len() == 1 { "is" } else { "are" },
        );
        // Why this scan could not bring them up to date, even with -q.
        for w in report.warnings.iter().filter(|w| {
            report
                .stale_feeds
                .iter()
                .any(|f| w.starts_with(&format!("feed {f} not updated")))
        }) {
            eprintln!("vedette: {}", crate::clean(w));
        }
        return 4;
    }
    if let Some(none) = &report.verdict.none {
        eprintln!("vedette: {}", crate::clean(none));
        for u in &report.uncovered {
            eprintln!(
                "vedette:   {}{}: {}",
                crate::clean(&u.subject),
                match u.packages {
                    0 => String::new(),
                    1 => " (1 package)".to_owned(),
                    n => format!(" ({n} packages)"),
                },
                crate::clean(&u.reason)
            );
        }
        eprintln!("vedette: pass --allow-uncovered (or set allow_uncovered = true in the policy) to judge the rest anyway.");
        return 4;
    }
    if !report.verdict.pass {
        // Even with --quiet: the reason a pipeline stopped.
        for f in &report.verdict.failures {
            eprintln!("vedette: policy failed: {}", crate::clean(f));
        }
        return 1;
    }
    0
}

/// `vedette --console … scan image`: the console pulls and scans the image
/// (remembering it as a target) under this command's policy; the report
/// and the exit code are the local scan's.
pub async fn run_remote(
    console: &vedette_api::client::Console,
    cmd: ScanCommand,
) -> Result<u8, Failure> {
    let ScanCommand::Image {
        reference,
        platform,
        insecure_registry,
        username,
        password_stdin: _,
        out,
    } = cmd
    else {
        return Err(usage(
            "a console scans images it can pull; scan archives, directories and SBOMs locally (drop --console)",
        ));
    };
    if out.packages_only || out.offline || out.exposure.is_some() || username.is_some() {
        return Err(usage(
            "--packages-only, --offline, --exposure and --username are not available against a console (it pulls with the credentials it holds); drop them or --console",
        ));
    }
    if outputs(&out)
        .iter()
        .any(|(f, _)| !matches!(f, OutFormat::Table | OutFormat::Json | OutFormat::Sarif))
    {
        return Err(usage(
            "against a console, the formats are table, json and sarif (fetch CycloneDX from /api/v1/scans/ID/report?format=cyclonedx)",
        ));
    }
    let policy = build_policy(&out)?;
    let body = serde_json::json!({
        "image": reference, "insecure": insecure_registry, "platform": platform, "policy": policy,
    });
    let started = console.start_scan(&body).await?;
    let Some(scan) = started.scans.first() else {
        return Err(Failure::from(anyhow::anyhow!(
            "the console started no scan: {}",
            started.refused.join("; ")
        )));
    };
    let id = scan.scan_id;
    if !crate::quiet() {
        eprintln!(
            "vedette: scan {id} of {} started on the console",
            scan.target
        );
    }
    let finished = tokio::select! {
        r = wait_remote(console, id) => r?,
        _ = tokio::signal::ctrl_c() => {
            if !crate::quiet() {
                eprintln!("vedette: interrupted; cancelling scan {id} on the console");
            }
            console.cancel_scan(id).await?;
            return Ok(130);
        }
    };
    match finished.scan.state {
        vedette_model::ScanState::Succeeded => {}
        vedette_model::ScanState::Cancelled => return Ok(130),
        _ => {
            return Err(Failure::from(anyhow::anyhow!(
                "scan {id} {}: {}",
                finished.scan.state.as_str(),
                finished.scan.error.unwrap_or_default()
            )))
        }
    }
    let report = finished
        .report
        .ok_or_else(|| anyhow::anyhow!("the console kept no report of scan {id}"))?;
    for (format, path) in outputs(&out) {
        let color = path.is_none() && crate::color_stdout();
        let text = match format {
            OutFormat::Json => vedette_report::json_report(&report),
            OutFormat::Sarif => vedette_report::sarif(&report),
            _ => vedette_report::findings_table(&report, color),
        };
        let what = format!("{} findings", report.findings.len());
        write_out(path.as_deref(), crate::quiet(), &text, &what)?;
    }
    Ok(judge(&report, out.allow_stale))
}

/// Polls a console's scan until it ended.
async fn wait_remote(
    console: &vedette_api::client::Console,
    id: i64,
) -> Result<vedette_api::client::RemoteScan, Failure> {
    loop {
        let s = console.scan(id).await?;
        if s.scan.state != vedette_model::ScanState::Running {
            return Ok(s);
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

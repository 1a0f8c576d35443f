//! The scheduler inside the desktop app: the runner `vedette serve` uses,
//! under the same per-data-dir lock (when `vedette serve` holds it, the app
//! leaves the schedules to it). Runs show in the tray (idle, scanning,
//! alert); a run that finds new critical or known-exploited findings raises
//! one desktop notification, and clicking it opens the scan.
//!
//! Notifications go through `notify-rust`, the freedesktop client the Tauri
//! notification plugin wraps: the plugin cannot report a click on desktop
//! Linux, and opening the scan on click is the point.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tauri::{AppHandle, Emitter, Runtime};
use vedette_app::{App, Events, RunSummary, SchedulerContext as Context, SchedulerLock};

/// Why the app is not running the schedules itself, if it is not.
pub type SchedulerNote = Arc<OnceLock<String>>;

/// Starts the scheduler of `core`'s data dir in the background; `ctx_slot`
/// receives its context (for "run now"), `note` why it did not start.
pub fn start<R: Runtime>(
    handle: AppHandle<R>,
    core: App,
    ctx_slot: Arc<OnceLock<Context>>,
    note: SchedulerNote,
    paused: Arc<std::sync::atomic::AtomicBool>,
    api: crate::api::ApiSlot,
) {
    let lock = match SchedulerLock::acquire(core.data_dir()) {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!("schedules are not run by this window: {e}");
            let _ = api.set(vedette_model::ApiStatus {
                url: None,
                note: Some(format!(
                    "the process that runs the schedules serves the API ({e})"
                )),
                fingerprint: None,
            });
            let _ = note.set(e.to_string());
            return;
        }
    };
    tauri::async_runtime::spawn(async move {
        let _lock = lock;
        let (ctx, _temp) = match context(handle, &core, paused).await {
            Ok(c) => c,
            Err(e) => {
                tracing::error!("the scheduler cannot start: {e}");
                let _ = note.set(e);
                return;
            }
        };
        let _ = ctx_slot.set(ctx.clone());
        crate::api::start(core.clone(), ctx.clone(), api).await;
        // The sender lives as long as the app: the scheduler never stops early.
        let (_keep, stop) = tokio::sync::watch::channel(false);
        // The notification channels: this process runs the schedules, so
        // it sends their messages.
        {
            let (core, stop) = (core.clone(), stop.clone());
            tauri::async_runtime::spawn(async move {
                core.watch_notifications(Duration::from_secs(5), stop).await
            });
        }
        tracing::info!("scheduler running");
        vedette_app::serve_schedules(ctx, Duration::from_secs(30), stop).await;
    });
}

async fn context<R: Runtime>(
    handle: AppHandle<R>,
    core: &App,
    paused: Arc<std::sync::atomic::AtomicBool>,
) -> Result<(Context, tempfile::TempDir), String> {
    let events = Arc::new(DesktopEvents {
        handle,
        running: AtomicUsize::new(0),
    });
    let (mut ctx, temp) = core
        .scheduler(&vedette_app::FeedSources::from_env(), events)
        .await
        .map_err(|e| e.to_string())?;
    ctx.paused = paused;
    Ok((ctx, temp))
}

struct DesktopEvents<R: Runtime> {
    handle: AppHandle<R>,
    running: AtomicUsize,
}

impl<R: Runtime> Events for DesktopEvents<R> {
    fn run_started(&self, s: &vedette_model::Schedule) {
        self.running.fetch_add(1, Ordering::SeqCst);
        crate::tray::scanning(&self.handle, &s.name);
        let _ = self.handle.emit("runs-changed", ());
    }

    fn run_finished(&self, run: &RunSummary) {
        let still = self
            .running
            .fetch_sub(1, Ordering::SeqCst)
            .saturating_sub(1);
        let alarming = run.alarming_scans();
        if let Some(scan_id) = alarming.first().and_then(|(first, _)| first.scan_id) {
            crate::tray::alert(&self.handle, &headline(run));
            notify(self.handle.clone(), run, scan_id);
        } else if still == 0 {
            crate::tray::settle(&self.handle);
        }
        let _ = self.handle.emit("runs-changed", ());
    }
}

/// "3 new critical or known-exploited findings"
fn headline(run: &RunSummary) -> String {
    let n = run.alarming().len();
    format!(
        "{n} new critical or known-exploited finding{}",
        if n == 1 { "" } else { "s" }
    )
}

/// The notification's text: the worst few, where, and which run.
fn body(run: &RunSummary) -> String {
    let mut lines: Vec<String> = Vec::new();
    let alarming = run.alarming_scans();
    for (scan, _) in &alarming {
        let mut worst: Vec<&vedette_model::NewFinding> = scan
            .new_findings
            .iter()
            .filter(|n| vedette_app::alarms(n))
            .collect();
        worst.sort_by(|a, b| b.finding.risk.total_cmp(&a.finding.risk));
        for n in worst.iter().take(3usize.saturating_sub(lines.len())) {
            // Names come from images: shown as text, never as markup.
            lines.push(format!(
                "{} in {} {} ({}{}) on {}",
                vedette_model::markup_escape(&n.finding.id),
                vedette_model::markup_escape(&n.finding.package),
                vedette_model::markup_escape(&n.finding.version),
                n.finding.severity,
                if n.finding.kev_added.is_some() {
                    ", exploited in the wild"
                } else {
                    ""
                },
                vedette_model::markup_escape(&scan.target)
            ));
        }
    }
    let shown = lines.len();
    let total = run.alarming().len();
    if total > shown {
        lines.push(format!("and {} more", total - shown));
    }
    lines.push(format!(
        "Run: {}",
        vedette_model::markup_escape(&run.schedule_name)
    ));
    lines.join("\n")
}

fn notify<R: Runtime>(handle: AppHandle<R>, run: &RunSummary, scan_id: i64) {
    let (title, text) = (headline(run), body(run));
    // Showing and waiting for the click block: a thread of their own.
    std::thread::spawn(move || {
        let shown = notify_rust::Notification::new()
            .appname("Vedette")
            .summary(&format!("Vedette: {title}"))
            .body(&text)
            .icon("dialog-warning")
            .action("default", "Open the scan")
            // It stays until seen: one per run, and it is about critical or
            // exploited vulnerabilities.
            .timeout(notify_rust::Timeout::Never)
            .hint(notify_rust::Hint::Category("x-vedette.findings".into()))
            .hint(notify_rust::Hint::Custom(
                "x-vedette-scan".into(),
                scan_id.to_string(),
            ))
            .show();
        match shown {
            Ok(h) => h.wait_for_action(|action| {
                if action == "default" {
                    tracing::info!("notification clicked: opening scan {scan_id}");
                    crate::open_scan(&handle, scan_id);
                }
            }),
            Err(e) => tracing::warn!("cannot show a desktop notification: {e}"),
        }
    });
}

//! The scheduler inside the desktop app: the runner `vedette serve` uses,
//! under the same per-data-dir lock. When `vedette serve` holds it, the
//! window follows serve's runs from the event log, and takes the schedules
//! over once the lock is free. Runs show in the tray (idle, scanning,
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
use vedette_model::EventKind;

/// Why the app is not running the schedules itself, if it is not.
pub type SchedulerNote = Arc<crate::Latest<String>>;

/// How often the window, following another process's runs, reads the
/// event log; and how often it tries to take the schedules over.
const FOLLOW_EVERY: Duration = Duration::from_secs(1);
const TAKE_OVER_EVERY: u32 = 5;

/// Starts the scheduler of `core`'s data dir in the background; `ctx_slot`
/// receives its context (for "run now"), `note` why it did not start.
/// When another process (`vedette serve`) holds the scheduler lock, the
/// window follows that process's runs from the event log (tray, desktop
/// notifications, pages kept live) and takes the schedules over as soon as
/// the lock is free.
pub fn start<R: Runtime>(
    handle: AppHandle<R>,
    core: App,
    ctx_slot: Arc<OnceLock<Context>>,
    note: SchedulerNote,
    paused: Arc<std::sync::atomic::AtomicBool>,
    api: crate::api::ApiSlot,
) {
    tauri::async_runtime::spawn(async move {
        match core.schedules_paused().await {
            Ok(p) => paused.store(p, Ordering::SeqCst),
            Err(e) => tracing::warn!("cannot read whether schedules are paused: {e}"),
        }
        if paused.load(Ordering::SeqCst) {
            crate::tray::paused(&handle, true);
        }
        let mut follower = Follower::default();
        loop {
            match core.scheduler_lock().await {
                Ok(lock) => {
                    note.clear();
                    api.clear();
                    if follower.following {
                        tracing::info!(
                            "the other scheduler stopped: this window runs the schedules now"
                        );
                        crate::tray::settle(&handle);
                    }
                    run(handle, core, ctx_slot, note, paused, api, lock).await;
                    return;
                }
                Err(e) => {
                    if !follower.following {
                        tracing::warn!("schedules are not run by this window: {e}");
                        crate::tray::following(&handle);
                    }
                    api.set(vedette_model::ApiStatus {
                        url: None,
                        note: Some(format!(
                            "the process that runs the schedules serves the API ({e})"
                        )),
                        fingerprint: None,
                    });
                    note.set(e.to_string());
                    for _ in 0..TAKE_OVER_EVERY {
                        if let Err(e) = follower.step(&handle, &core).await {
                            tracing::warn!("cannot follow the other scheduler's runs: {e}");
                        }
                        tokio::time::sleep(FOLLOW_EVERY).await;
                    }
                }
            }
        }
    });
}

/// Runs the schedules in this process, under `lock`, for the app's life.
async fn run<R: Runtime>(
    handle: AppHandle<R>,
    core: App,
    ctx_slot: Arc<OnceLock<Context>>,
    note: SchedulerNote,
    paused: Arc<std::sync::atomic::AtomicBool>,
    api: crate::api::ApiSlot,
    lock: SchedulerLock,
) {
    let _lock = lock;
    let (ctx, _temp) = match context(handle, &core, paused).await {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("the scheduler cannot start: {e}");
            note.set(e);
            return;
        }
    };
    let _ = ctx_slot.set(ctx.clone());
    crate::api::start(core.clone(), ctx.clone(), api).await;
    // The sender lives as long as the app: the scheduler never stops early.
    let (_keep, stop) = tokio::sync::watch::channel(false);
    // The notification channels: this process runs the schedules, so it
    // sends their messages.
    {
        let (core, stop) = (core.clone(), stop.clone());
        tauri::async_runtime::spawn(async move {
            core.watch_notifications(Duration::from_secs(5), stop).await
        });
    }
    tracing::info!("scheduler running");
    vedette_app::serve_schedules(ctx, Duration::from_secs(30), stop).await;
}

/// The window's view of another process's runs, read from the event log.
#[derive(Default)]
struct Follower {
    following: bool,
    /// The last event read.
    cursor: i64,
    /// A run is under way (a schedule fired, its claim not yet released).
    running: bool,
    /// New critical or known-exploited findings of the run under way:
    /// (scan, line), raised as one notification when it ends.
    alarming: Vec<(i64, String)>,
}

impl Follower {
    async fn step<R: Runtime>(&mut self, handle: &AppHandle<R>, core: &App) -> Result<(), String> {
        let store = core.store();
        if !self.following {
            // What happened before the window opened is history, not news.
            self.cursor = store.last_event_id().await.map_err(|e| e.to_string())?;
            self.following = true;
        }
        let events = store
            .events_after(self.cursor, 500)
            .await
            .map_err(|e| e.to_string())?;
        let mut changed = false;
        for e in &events {
            self.cursor = e.id;
            match e.kind {
                EventKind::ScheduleFired => {
                    self.running = true;
                    let name = e
                        .data
                        .get("schedule")
                        .and_then(|v| v.as_str())
                        .unwrap_or("a schedule");
                    crate::tray::scanning(handle, name);
                    changed = true;
                }
                EventKind::ScanStarted | EventKind::ScanFinished | EventKind::ScanError => {
                    changed = true
                }
                EventKind::FindingNew => {
                    let scan = e.data.get("scan_id").and_then(|v| v.as_i64()).unwrap_or(0);
                    let target = e.data.get("target").and_then(|v| v.as_str()).unwrap_or("");
                    for f in e
                        .data
                        .get("findings")
                        .and_then(|v| v.as_array())
                        .into_iter()
                        .flatten()
                    {
                        let kev = f.get("kev").and_then(|v| v.as_bool()).unwrap_or(false);
                        let critical =
                            f.get("severity").and_then(|v| v.as_str()) == Some("critical");
                        if kev || critical {
                            let text = |k: &str| f.get(k).and_then(|v| v.as_str()).unwrap_or("");
                            self.alarming.push((
                                scan,
                                format!(
                                    "{} in {} {} ({}{}) on {}",
                                    vedette_model::markup_escape(text("id")),
                                    vedette_model::markup_escape(text("package")),
                                    vedette_model::markup_escape(text("version")),
                                    text("severity"),
                                    if kev { ", exploited in the wild" } else { "" },
                                    vedette_model::markup_escape(target)
                                ),
                            ));
                        }
                    }
                }
                _ => {}
            }
        }
        if changed {
            let _ = handle.emit("runs-changed", ());
        }
        let in_progress = store.runs_in_progress().await.map_err(|e| e.to_string())?;
        if !in_progress && (self.running || !self.alarming.is_empty()) {
            self.running = false;
            if let Some((scan_id, _)) = self.alarming.first().cloned() {
                let n = self.alarming.len();
                let title = format!(
                    "{n} new critical or known-exploited finding{}",
                    if n == 1 { "" } else { "s" }
                );
                let mut lines: Vec<String> = self
                    .alarming
                    .iter()
                    .take(3)
                    .map(|(_, l)| l.clone())
                    .collect();
                if n > 3 {
                    lines.push(format!("and {} more", n - 3));
                }
                crate::tray::alert(handle, &title);
                show(handle.clone(), title, lines.join("\n"), scan_id);
                self.alarming.clear();
            } else {
                crate::tray::following(handle);
            }
            let _ = handle.emit("runs-changed", ());
        }
        Ok(())
    }
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
    // A window that runs a team's schedules scans them itself (it is no
    // worker of the shared queue).
    ctx.queue = None;
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
    show(handle, headline(run), body(run), scan_id);
}

/// One desktop notification; clicking it opens the scan.
fn show<R: Runtime>(handle: AppHandle<R>, title: String, text: String, scan_id: i64) {
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
            .hint(notify_rust::Hint::DesktopEntry("vedette".into()))
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

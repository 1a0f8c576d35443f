//! The tray icon, its states (idle, scanning, alert) and its menu: open the
//! window, scan everything now, pause or resume the schedules, quit.

use std::sync::atomic::{AtomicBool, Ordering};
use tauri::image::Image;
use tauri::menu::{MenuBuilder, MenuItem, MenuItemBuilder};
use tauri::tray::TrayIconBuilder;

use tauri::{AppHandle, Manager, Runtime};

pub const TRAY_ID: &str = "vedette";

const ICON_IDLE: &[u8] = include_bytes!("../../icons/tray-idle.png");
const ICON_SCANNING: &[u8] = include_bytes!("../../icons/tray-scanning.png");
const ICON_ALERT: &[u8] = include_bytes!("../../icons/tray-alert.png");

/// An alert stays until the user looks (opens the window or the scan).
static ALERT: AtomicBool = AtomicBool::new(false);

/// The menu's first line: the state in words, disabled. Linux trays do not
/// show tooltips; this line is how the state is read there.
struct StatusLine<R: Runtime>(MenuItem<R>);

fn set<R: Runtime>(app: &AppHandle<R>, icon: &[u8], tooltip: &str) {
    if let Some(line) = app.try_state::<StatusLine<R>>() {
        let _ = line.0.set_text(tooltip.trim_start_matches("Vedette: "));
    }
    let Some(tray) = app.tray_by_id(TRAY_ID) else {
        return;
    };
    match Image::from_bytes(icon) {
        Ok(i) => {
            if let Err(e) = tray.set_icon(Some(i)) {
                tracing::warn!("cannot change the tray icon: {e}");
            }
        }
        Err(e) => tracing::warn!("tray icon: {e}"),
    }
    let _ = tray.set_tooltip(Some(tooltip));
}

/// A scheduled run started.
pub fn scanning<R: Runtime>(app: &AppHandle<R>, schedule: &str) {
    if !ALERT.load(Ordering::SeqCst) {
        set(
            app,
            ICON_SCANNING,
            &format!("Vedette: running '{schedule}'"),
        );
    }
}

/// A run found new critical or known-exploited findings.
pub fn alert<R: Runtime>(app: &AppHandle<R>, what: &str) {
    ALERT.store(true, Ordering::SeqCst);
    set(app, ICON_ALERT, &format!("Vedette: {what}"));
}

/// Runs are over: back to idle, unless an alert waits to be seen.
pub fn settle<R: Runtime>(app: &AppHandle<R>) {
    if !ALERT.load(Ordering::SeqCst) {
        set(app, ICON_IDLE, "Vedette: watching");
    }
}

/// `vedette serve` runs the schedules: the window follows its runs.
pub fn following<R: Runtime>(app: &AppHandle<R>) {
    if !ALERT.load(Ordering::SeqCst) {
        set(
            app,
            ICON_IDLE,
            "Vedette: watching (vedette serve runs the schedules)",
        );
    }
}

/// Schedules were paused or resumed (here, or by another process).
pub fn paused<R: Runtime>(app: &AppHandle<R>, paused: bool) {
    paused_changed(app, paused)
}

fn paused_changed<R: Runtime>(app: &AppHandle<R>, paused: bool) {
    if let Some(item) = app.try_state::<PauseItem<R>>() {
        let _ = item.0.set_text(if paused {
            "Resume schedules"
        } else {
            "Pause schedules"
        });
    }
    if !ALERT.load(Ordering::SeqCst) {
        set(
            app,
            ICON_IDLE,
            if paused {
                "Vedette: schedules paused"
            } else {
                "Vedette: watching"
            },
        );
    }
}

struct PauseItem<R: Runtime>(MenuItem<R>);

/// The user looked: the alert is acknowledged.
pub fn acknowledge<R: Runtime>(app: &AppHandle<R>) {
    if ALERT.swap(false, Ordering::SeqCst) {
        set(app, ICON_IDLE, "Vedette: watching");
    }
}

pub fn create<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    let status = MenuItemBuilder::with_id("status", "Watching")
        .enabled(false)
        .build(app)?;
    let open = MenuItemBuilder::with_id("open", "Open Vedette").build(app)?;
    let scan_all = MenuItemBuilder::with_id("scan_all", "Scan all now").build(app)?;
    let pause = MenuItemBuilder::with_id("pause", "Pause schedules").build(app)?;
    let quit = MenuItemBuilder::with_id("quit", "Quit Vedette").build(app)?;
    let menu = MenuBuilder::new(app)
        .item(&status)
        .separator()
        .items(&[&open, &scan_all, &pause])
        .separator()
        .item(&quit)
        .build()?;
    app.manage(StatusLine(status));
    app.manage(PauseItem(pause));
    let paused_now = app
        .try_state::<crate::DesktopState>()
        .is_some_and(|s| s.paused.load(Ordering::SeqCst));
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(Image::from_bytes(ICON_IDLE)?)
        .tooltip("Vedette: watching")
        .menu(&menu)
        .show_menu_on_left_click(true)
        .on_menu_event(move |app, event| match event.id().as_ref() {
            "open" => crate::show_main_window(app),
            "scan_all" => scan_all_now(app),
            "pause" => {
                let Some(state) = app.try_state::<crate::DesktopState>() else {
                    return;
                };
                let paused = !state.paused.load(Ordering::SeqCst);
                state.paused.store(paused, Ordering::SeqCst);
                tracing::info!("schedules {}", if paused { "paused" } else { "resumed" });
                paused_changed(app, paused);
                // Kept in the data dir: it holds across restarts, and for
                // `vedette serve` too.
                let core = state.app.clone();
                tauri::async_runtime::spawn(async move {
                    if let Err(e) = core.set_schedules_paused(paused).await {
                        tracing::error!("the pause is not kept: {e}");
                    }
                });
            }
            "quit" => {
                tracing::info!("quit from the tray");
                app.exit(0);
            }
            other => tracing::debug!("tray item {other} has no action"),
        })
        .build(app)?;
    if paused_now {
        paused_changed(app, true);
    }
    Ok(())
}

/// The running scheduler, or why there is none (shown in the window).
fn scheduler<R: Runtime>(
    app: &AppHandle<R>,
) -> Option<(vedette_app::App, vedette_app::SchedulerContext)> {
    let state = app.try_state::<crate::DesktopState>()?;
    let ctx = state
        .scheduler
        .get()
        .cloned()
        .map(|c| (state.app.clone(), c));
    if ctx.is_none() {
        tracing::warn!(
            "the scheduler does not run in this window: {}",
            state
                .scheduler_note
                .get()
                .unwrap_or_else(|| "it is starting".into())
        );
        crate::show_main_window(app);
    }
    ctx
}

/// Runs the built-in scan of everything now (enabled or not).
fn scan_all_now<R: Runtime>(app: &AppHandle<R>) {
    let Some((core, ctx)) = scheduler(app) else {
        return;
    };
    tauri::async_runtime::spawn(async move {
        let all = match core.schedules().await {
            Ok(l) => l.into_iter().find(|s| s.system),
            Err(e) => {
                tracing::warn!("{e}");
                None
            }
        };
        if let Some(s) = all {
            if let Err(e) = core.run_schedule(&ctx, s.id).await {
                tracing::warn!("{e}");
            }
        }
    });
}

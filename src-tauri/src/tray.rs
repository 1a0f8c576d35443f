//! The tray icon and its menu. Items whose feature does not exist yet are
//! disabled and say why in their label (tray menus have no tooltips).

use std::sync::atomic::{AtomicBool, Ordering};
use tauri::image::Image;
use tauri::menu::{MenuBuilder, MenuItemBuilder};
use tauri::tray::TrayIconBuilder;

use tauri::{AppHandle, Runtime};

pub const TRAY_ID: &str = "vedette";

const ICON_IDLE: &[u8] = include_bytes!("../../icons/tray-idle.png");
const ICON_SCANNING: &[u8] = include_bytes!("../../icons/tray-scanning.png");
const ICON_ALERT: &[u8] = include_bytes!("../../icons/tray-alert.png");

/// An alert stays until the user looks (opens the window or the scan).
static ALERT: AtomicBool = AtomicBool::new(false);

fn set<R: Runtime>(app: &AppHandle<R>, icon: &[u8], tooltip: &str) {
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

/// The user looked: the alert is acknowledged.
pub fn acknowledge<R: Runtime>(app: &AppHandle<R>) {
    if ALERT.swap(false, Ordering::SeqCst) {
        set(app, ICON_IDLE, "Vedette: watching");
    }
}

pub fn create<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    let open = MenuItemBuilder::with_id("open", "Open Vedette").build(app)?;
    let scan_all = MenuItemBuilder::with_id("scan_all", "Scan all now (add a target first)")
        .enabled(false)
        .build(app)?;
    let pause = MenuItemBuilder::with_id("pause", "Pause schedules (no schedules yet)")
        .enabled(false)
        .build(app)?;
    let quit = MenuItemBuilder::with_id("quit", "Quit Vedette").build(app)?;
    let menu = MenuBuilder::new(app)
        .items(&[&open, &scan_all, &pause])
        .separator()
        .item(&quit)
        .build()?;
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(Image::from_bytes(ICON_IDLE)?)
        .tooltip("Vedette: watching")
        .menu(&menu)
        .show_menu_on_left_click(true)
        .on_menu_event(|app, event| match event.id().as_ref() {
            "open" => crate::show_main_window(app),
            "quit" => {
                tracing::info!("quit from the tray");
                app.exit(0);
            }
            other => tracing::debug!("tray item {other} has no action yet"),
        })
        .build(app)?;
    Ok(())
}

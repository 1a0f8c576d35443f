//! The tray icon and its menu. Items whose feature does not exist yet are
//! disabled and say why in their label (tray menus have no tooltips).

use tauri::image::Image;
use tauri::menu::{MenuBuilder, MenuItemBuilder};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Runtime};

pub const TRAY_ID: &str = "vedette";

const ICON_IDLE: &[u8] = include_bytes!("../../icons/tray-idle.png");

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

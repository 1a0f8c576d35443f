use tauri::{AppHandle, Runtime, State};
use vedette_model::{ApiError, ErrorCode};

use crate::links::Link;
use crate::DesktopState;

/// The `vedette://` link the app was started with, once.
#[tauri::command]
pub fn desktop_take_link<R: Runtime>(app: AppHandle<R>) -> Option<Link> {
    crate::links::take(&app)
}

/// Whether Vedette starts at login, minimised to the tray.
#[tauri::command]
pub fn desktop_autostart() -> bool {
    crate::autostart::enabled()
}

/// Turns starting at login on or off; whether it is on now.
#[tauri::command]
pub fn desktop_set_autostart(state: State<'_, DesktopState>, on: bool) -> Result<bool, ApiError> {
    crate::autostart::set(on, state.app.data_dir()).map_err(|e| {
        ApiError::new(
            ErrorCode::Internal,
            format!("{e}; starting at login is left as it was"),
        )
    })?;
    Ok(crate::autostart::enabled())
}

/// A page has loaded what it shows (logged; `run.sh` waits for it before
/// its screenshot).
#[tauri::command]
pub fn desktop_page_ready(page: String) {
    tracing::info!(page = %vedette_model::printable(&page, false), "page ready");
}

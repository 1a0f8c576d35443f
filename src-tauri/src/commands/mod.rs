//! Tauri commands, one module per area, named `<area>_<verb>`. Each converts
//! its arguments, makes one engine call and maps the error to `{code, message}`.

mod app;
mod credential;
mod scan;
mod schedule;
mod target;

use tauri::ipc::Invoke;
use tauri::Runtime;
use vedette_model::{ApiError, ErrorCode};

pub fn handler<R: Runtime>() -> impl Fn(Invoke<R>) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        app::app_overview,
        app::dashboard_activity,
        credential::credential_list,
        credential::credential_set,
        credential::credential_delete,
        target::target_list,
        target::target_add_registry,
        target::target_crawl,
        target::target_remove,
        target::target_retry,
        scan::scan_list,
        scan::scan_detail,
        scan::scan_cancel,
        scan::trends_chart,
        schedule::schedule_list,
        schedule::schedule_preview,
        schedule::schedule_save,
        schedule::schedule_set_enabled,
        schedule::schedule_remove,
        schedule::schedule_run_now,
    ]
}

/// Store errors have no user-actionable code; their message says what failed.
fn internal(e: impl std::fmt::Display) -> ApiError {
    tracing::error!("{e}");
    ApiError::new(ErrorCode::Internal, e.to_string())
}

#[cfg(test)]
mod tests;

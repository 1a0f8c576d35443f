use tauri::State;
use vedette_model::{ApiError, ScanSummary};

use crate::DesktopState;

/// The newest scans first (at most 200).
#[tauri::command]
pub async fn scan_list(state: State<'_, DesktopState>) -> Result<Vec<ScanSummary>, ApiError> {
    state
        .app
        .store()
        .list_scans(200)
        .await
        .map_err(super::internal)
}

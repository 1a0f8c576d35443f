use tauri::State;
use vedette_model::{ApiError, TargetInfo};

use crate::DesktopState;

#[tauri::command]
pub async fn target_list(state: State<'_, DesktopState>) -> Result<Vec<TargetInfo>, ApiError> {
    state
        .app
        .store()
        .list_targets()
        .await
        .map_err(super::internal)
}

use tauri::State;
use vedette_model::{ApiError, AppOverview};

use crate::DesktopState;

/// Counts and health checks for the dashboard.
#[tauri::command]
pub async fn app_overview(state: State<'_, DesktopState>) -> Result<AppOverview, ApiError> {
    state.app.overview().await.map_err(super::internal)
}

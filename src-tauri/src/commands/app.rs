use tauri::State;
use vedette_model::{Activity, ApiError, AppOverview};

use crate::DesktopState;

/// Counts and health checks for the dashboard.
#[tauri::command]
pub async fn app_overview(state: State<'_, DesktopState>) -> Result<AppOverview, ApiError> {
    Ok(state
        .app
        .overview()
        .await
        .map_err(vedette_app::AppError::from)?)
}

/// The dashboard's most exploitable findings and the schedules' last and
/// next runs.
#[tauri::command]
pub async fn dashboard_activity(state: State<'_, DesktopState>) -> Result<Activity, ApiError> {
    Ok(state.app.activity(state.scheduler_note.get()).await?)
}

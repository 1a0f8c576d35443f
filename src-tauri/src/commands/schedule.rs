use tauri::State;
use vedette_model::{
    ApiError, ErrorCode, Schedule, ScheduleInput, SchedulePreview, ScheduleView, TargetSelector,
};

use crate::DesktopState;

/// Every schedule with its description and next run.
#[tauri::command]
pub async fn schedule_list(state: State<'_, DesktopState>) -> Result<Vec<ScheduleView>, ApiError> {
    Ok(state.app.schedule_views().await?)
}

/// Checks a cron expression and time zone, and says what they mean: the
/// dialog calls it as the user types. Invalid input is an `invalid_input`
/// error whose message says what is wrong.
#[tauri::command]
pub async fn schedule_preview(
    state: State<'_, DesktopState>,
    cron: String,
    timezone: String,
    selector: TargetSelector,
) -> Result<SchedulePreview, ApiError> {
    Ok(state
        .app
        .schedule_preview(&cron, &timezone, &selector)
        .await?)
}

/// Adds (no id) or replaces a schedule after checking it.
#[tauri::command]
pub async fn schedule_save(
    state: State<'_, DesktopState>,
    id: Option<i64>,
    schedule: ScheduleInput,
) -> Result<Schedule, ApiError> {
    Ok(state.app.save_schedule(id, &schedule).await?)
}

#[tauri::command]
pub async fn schedule_set_enabled(
    state: State<'_, DesktopState>,
    id: i64,
    enabled: bool,
) -> Result<(), ApiError> {
    Ok(state.app.set_schedule_enabled(id, enabled).await?)
}

#[tauri::command]
pub async fn schedule_remove(state: State<'_, DesktopState>, id: i64) -> Result<(), ApiError> {
    Ok(state.app.remove_schedule(id).await?)
}

/// Runs a schedule now, in the background; its scans appear as they finish.
#[tauri::command]
pub async fn schedule_run_now(state: State<'_, DesktopState>, id: i64) -> Result<(), ApiError> {
    let Some(ctx) = state.scheduler.get().cloned() else {
        let why = state
            .scheduler_note
            .get()
            .unwrap_or_else(|| "the scheduler is still starting; try again in a moment".into());
        return Err(ApiError::new(
            ErrorCode::Unavailable,
            format!("{why}. `vedette schedule run {id}` runs it from a terminal"),
        ));
    };
    // Refused at once when it does not exist; runs in the background.
    state.app.schedule(id).await?;
    let app = state.app.clone();
    tauri::async_runtime::spawn(async move {
        if let Err(e) = app.run_schedule(&ctx, id).await {
            tracing::warn!("{e}");
        }
    });
    Ok(())
}

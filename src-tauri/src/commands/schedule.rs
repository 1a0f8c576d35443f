use tauri::State;
use vedette_model::{
    ApiError, ErrorCode, Schedule, ScheduleInput, SchedulePreview, ScheduleView, TargetSelector,
};
use vedette_scheduler::CronSchedule;

use crate::DesktopState;

fn invalid(e: impl std::fmt::Display) -> ApiError {
    ApiError::new(ErrorCode::InvalidInput, e.to_string())
}

fn store_error(e: vedette_store::StoreError) -> ApiError {
    match e {
        vedette_store::StoreError::Invalid(m) => invalid(m),
        other => super::internal(other),
    }
}

/// Every schedule with its description and next run.
#[tauri::command]
pub async fn schedule_list(state: State<'_, DesktopState>) -> Result<Vec<ScheduleView>, ApiError> {
    let store = state.app.store();
    let schedules = store.list_schedules().await.map_err(super::internal)?;
    let targets = store.list_targets().await.map_err(super::internal)?;
    let now = chrono::Utc::now();
    Ok(schedules
        .into_iter()
        .map(|s| {
            let cron = CronSchedule::parse(&s.cron, &s.timezone);
            let n = targets.iter().filter(|t| s.selector.matches(t)).count();
            ScheduleView {
                description: match &cron {
                    Ok(c) => c.describe(),
                    Err(e) => e.to_string(),
                },
                next_run: cron
                    .ok()
                    .filter(|_| s.enabled)
                    .and_then(|c| c.next_after(now))
                    .map(|t| t.to_rfc3339()),
                targets_now: format!("{} ({n} now)", s.selector.describe()),
                schedule: s,
            }
        })
        .collect())
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
    let c = CronSchedule::parse(&cron, &timezone).map_err(invalid)?;
    let runs = c.upcoming(chrono::Utc::now(), 5);
    let targets = state
        .app
        .store()
        .list_targets()
        .await
        .map_err(super::internal)?
        .into_iter()
        .filter(|t| selector.matches(t))
        .collect();
    Ok(SchedulePreview {
        description: c.describe(),
        next_runs: runs.iter().map(|t| t.to_rfc3339()).collect(),
        next_runs_local: runs.iter().map(|t| c.format_in_zone(*t)).collect(),
        targets,
    })
}

/// Adds (no id) or replaces a schedule after checking it.
#[tauri::command]
pub async fn schedule_save(
    state: State<'_, DesktopState>,
    id: Option<i64>,
    schedule: ScheduleInput,
) -> Result<Schedule, ApiError> {
    vedette_scheduler::validate(&schedule).map_err(invalid)?;
    let store = state.app.store();
    let saved = match id {
        Some(id) => store.update_schedule(id, &schedule).await,
        None => store.add_schedule(&schedule).await,
    }
    .map_err(store_error)?;
    state.wake.notify_one();
    Ok(saved)
}

#[tauri::command]
pub async fn schedule_set_enabled(
    state: State<'_, DesktopState>,
    id: i64,
    enabled: bool,
) -> Result<(), ApiError> {
    state
        .app
        .store()
        .set_schedule_enabled(id, enabled)
        .await
        .map_err(store_error)?;
    state.wake.notify_one();
    Ok(())
}

#[tauri::command]
pub async fn schedule_remove(state: State<'_, DesktopState>, id: i64) -> Result<(), ApiError> {
    state
        .app
        .store()
        .remove_schedule(id)
        .await
        .map_err(store_error)
}

/// Runs a schedule now, in the background; its scans appear as they finish.
#[tauri::command]
pub async fn schedule_run_now(state: State<'_, DesktopState>, id: i64) -> Result<(), ApiError> {
    let Some(ctx) = state.scheduler.get().cloned() else {
        let why = state
            .scheduler_note
            .get()
            .cloned()
            .unwrap_or_else(|| "the scheduler is still starting; try again in a moment".into());
        return Err(ApiError::new(
            ErrorCode::Unavailable,
            format!("{why}. `vedette schedule run {id}` runs it from a terminal"),
        ));
    };
    let schedule = state
        .app
        .store()
        .schedule(id)
        .await
        .map_err(super::internal)?
        .ok_or_else(|| invalid(format!("there is no schedule {id}")))?;
    tauri::async_runtime::spawn(async move {
        if let Err(e) = vedette_scheduler::run_schedule(&ctx, &schedule).await {
            tracing::warn!("{e}");
        }
    });
    Ok(())
}

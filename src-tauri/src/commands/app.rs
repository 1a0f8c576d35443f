use tauri::State;
use vedette_model::{Activity, ApiError, AppOverview, ScheduleRunTime};

use crate::DesktopState;

/// Counts and health checks for the dashboard.
#[tauri::command]
pub async fn app_overview(state: State<'_, DesktopState>) -> Result<AppOverview, ApiError> {
    state.app.overview().await.map_err(super::internal)
}

/// The dashboard's most exploitable findings and the schedules' last and
/// next runs.
#[tauri::command]
pub async fn dashboard_activity(state: State<'_, DesktopState>) -> Result<Activity, ApiError> {
    let store = state.app.store();
    let most_exploitable = store.most_exploitable(5).await.map_err(super::internal)?;
    let schedules = store.list_schedules().await.map_err(super::internal)?;
    let now = chrono::Utc::now();
    let mut last_runs: Vec<ScheduleRunTime> = schedules
        .iter()
        .filter_map(|s| {
            Some(ScheduleRunTime {
                schedule_id: s.id,
                schedule: s.name.clone(),
                at: s.last_run_at?.to_rfc3339(),
            })
        })
        .collect();
    last_runs.sort_by(|a, b| b.at.cmp(&a.at));
    let mut next: Vec<(chrono::DateTime<chrono::Utc>, ScheduleRunTime)> = schedules
        .iter()
        .filter(|s| s.enabled)
        .filter_map(|s| {
            let t = vedette_scheduler::CronSchedule::parse(&s.cron, &s.timezone)
                .ok()?
                .next_after(now)?;
            Some((
                t,
                ScheduleRunTime {
                    schedule_id: s.id,
                    schedule: s.name.clone(),
                    at: t.to_rfc3339(),
                },
            ))
        })
        .collect();
    next.sort_by_key(|(t, _)| *t);
    Ok(Activity {
        most_exploitable,
        last_runs: last_runs.into_iter().take(5).collect(),
        next_runs: next.into_iter().map(|(_, r)| r).take(5).collect(),
        scheduler_note: state.scheduler_note.get().cloned(),
    })
}

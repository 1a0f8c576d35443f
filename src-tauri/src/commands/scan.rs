use tauri::State;
use vedette_model::{ApiError, ErrorCode, ScanDetail, ScanSummary};

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

/// A scan's report and its findings against the previous scan of the target.
#[tauri::command]
pub async fn scan_detail(state: State<'_, DesktopState>, id: i64) -> Result<ScanDetail, ApiError> {
    let store = state.app.store();
    let report = store.scan_report(id).await.map_err(super::internal)?;
    let diff = match report {
        Some(_) => Some(store.scan_diff(id).await.map_err(super::internal)?),
        None => None,
    };
    Ok(ScanDetail {
        scan_id: id,
        report,
        diff,
    })
}

/// The trend chart over `days` days of all targets, one group or one
/// target, as SVG; none before the first scan that matched advisories.
#[tauri::command]
pub async fn trends_chart(
    state: State<'_, DesktopState>,
    days: i64,
    group: Option<String>,
    target_id: Option<i64>,
) -> Result<Option<String>, ApiError> {
    let store = state.app.store();
    let scope = match (target_id, group.as_deref()) {
        (Some(id), _) => vedette_store::TrendScope::Target(id),
        (None, Some(g)) => vedette_store::TrendScope::Group(g),
        (None, None) => vedette_store::TrendScope::All,
    };
    let t = store
        .trends(scope, days.clamp(1, 3660), chrono::Utc::now().date_naive())
        .await
        .map_err(super::internal)?;
    let any = store
        .list_scans(1000)
        .await
        .map_err(super::internal)?
        .iter()
        .any(|s| s.counts.is_some());
    if !any {
        return Ok(None);
    }
    vedette_report::trends_svg(&t)
        .map(Some)
        .map_err(|e| ApiError::new(vedette_model::ErrorCode::Internal, e))
}

/// Cancels a scan running in this window's process (it ends `cancelled`).
#[tauri::command]
pub async fn scan_cancel(state: State<'_, DesktopState>, id: i64) -> Result<(), ApiError> {
    if state.app.running().cancel(id) {
        return Ok(());
    }
    let why = state
        .scheduler_note
        .get()
        .map(|n| format!(" ({n})"))
        .unwrap_or_default();
    Err(ApiError::new(
        ErrorCode::Unavailable,
        format!("scan {id} is not running in this window{why}; a scan that `vedette serve` or a terminal runs is stopped there"),
    ))
}

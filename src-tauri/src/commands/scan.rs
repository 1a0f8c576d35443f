use tauri::State;
use vedette_app::TrendsOf;
use vedette_model::{ApiError, ErrorCode, ScanDetail, ScanSummary};

use crate::DesktopState;

/// The newest scans first (at most 200).
#[tauri::command]
pub async fn scan_list(state: State<'_, DesktopState>) -> Result<Vec<ScanSummary>, ApiError> {
    Ok(state.app.scans(200).await?)
}

/// A scan's report and its findings against the previous scan of the target.
#[tauri::command]
pub async fn scan_detail(state: State<'_, DesktopState>, id: i64) -> Result<ScanDetail, ApiError> {
    Ok(state.app.scan_detail(id).await?)
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
    let of = match (target_id, group) {
        (Some(id), _) => TrendsOf::Target(id.to_string()),
        (None, Some(g)) => TrendsOf::Group(g),
        (None, None) => TrendsOf::All,
    };
    if !state.app.any_findings_scan().await? {
        return Ok(None);
    }
    let t = state.app.trends(&of, days.clamp(1, 3660)).await?;
    vedette_report::trends_svg(&t)
        .map(Some)
        .map_err(|e| ApiError::new(ErrorCode::Internal, e))
}

/// Cancels a scan running in this window's process (it ends `cancelled`).
#[tauri::command]
pub async fn scan_cancel(state: State<'_, DesktopState>, id: i64) -> Result<(), ApiError> {
    if state.app.cancel_scan(id) {
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

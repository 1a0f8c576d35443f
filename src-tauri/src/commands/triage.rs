use tauri::State;
use vedette_model::{ApiError, ErrorCode, TriageInput};

use crate::DesktopState;

/// Triages a finding: an exception in the console's policy (later scans
/// and the gate count it no more, until it expires).
#[tauri::command]
pub fn finding_triage(state: State<'_, DesktopState>, triage: TriageInput) -> Result<(), ApiError> {
    state.app.triage(triage)?;
    Ok(())
}

/// Takes a finding's triage back; whether there was one.
#[tauri::command]
pub fn finding_untriage(
    state: State<'_, DesktopState>,
    id: String,
    purl: String,
) -> Result<bool, ApiError> {
    Ok(state.app.untriage(&id, &purl)?)
}

/// Writes the console policy's exceptions as OpenVEX into the data dir;
/// the file's path.
#[tauri::command]
pub fn policy_export_vex(state: State<'_, DesktopState>) -> Result<String, ApiError> {
    let vex = vedette_app::to_vex(&state.app.console_policy()?);
    let path = state.app.data_dir().join("exceptions.openvex.json");
    let text = serde_json::to_string_pretty(&vex)
        .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?;
    std::fs::write(&path, text).map_err(|e| {
        ApiError::new(
            ErrorCode::Unavailable,
            format!("cannot write {}: {e}", path.display()),
        )
    })?;
    Ok(path.display().to_string())
}

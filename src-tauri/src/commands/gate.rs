//! The Nodes page: enrolled nodes, enrolment tokens, the gate (its action,
//! arming it, its dry run) and its action log.

use tauri::State;
use vedette_model::{
    ActionRecord, ApiError, CreatedEnrolToken, EnrolToken, Exposure, GateAction, GateCandidate,
    GateSettings, NodeInfo,
};

use crate::DesktopState;

#[tauri::command]
pub async fn node_list(state: State<'_, DesktopState>) -> Result<Vec<NodeInfo>, ApiError> {
    Ok(state.app.nodes().await?)
}

#[tauri::command]
pub async fn node_revoke(state: State<'_, DesktopState>, id: i64) -> Result<(), ApiError> {
    Ok(state.app.revoke_node(id).await?)
}

#[tauri::command]
pub async fn enrol_token_list(state: State<'_, DesktopState>) -> Result<Vec<EnrolToken>, ApiError> {
    Ok(state.app.enrol_tokens().await?)
}

/// Creates an enrolment token (`expires`: `1h`, `7d`); its secret is in
/// this answer only.
#[tauri::command]
pub async fn enrol_token_create(
    state: State<'_, DesktopState>,
    name: String,
    expires: String,
    uses: u32,
    group: Option<String>,
    exposure: Exposure,
) -> Result<CreatedEnrolToken, ApiError> {
    let expires = vedette_app::parse_duration(&expires)
        .map_err(|e| ApiError::new(vedette_model::ErrorCode::InvalidInput, e))?;
    Ok(state
        .app
        .create_enrol_token(&name, expires, uses, group.as_deref(), exposure)
        .await?)
}

#[tauri::command]
pub async fn enrol_token_revoke(state: State<'_, DesktopState>, id: i64) -> Result<(), ApiError> {
    Ok(state.app.revoke_enrol_token(&id.to_string()).await?)
}

#[tauri::command]
pub async fn gate_settings(state: State<'_, DesktopState>) -> Result<GateSettings, ApiError> {
    Ok(state.app.gate().await?)
}

/// Sets the gate's action (a new action is not armed).
#[tauri::command]
pub async fn gate_set_action(
    state: State<'_, DesktopState>,
    action: GateAction,
) -> Result<GateSettings, ApiError> {
    Ok(state.app.set_gate_action(action).await?)
}

/// Arms the gate's action: `confirm` is its name, typed by the user.
#[tauri::command]
pub async fn gate_arm(
    state: State<'_, DesktopState>,
    confirm: String,
) -> Result<GateSettings, ApiError> {
    let who = std::env::var("USER").unwrap_or_else(|_| "the window".into());
    Ok(state.app.arm_gate(&confirm, &who).await?)
}

#[tauri::command]
pub async fn gate_disarm(state: State<'_, DesktopState>) -> Result<GateSettings, ApiError> {
    Ok(state.app.disarm_gate().await?)
}

#[tauri::command]
pub async fn gate_dry_run(state: State<'_, DesktopState>) -> Result<Vec<GateCandidate>, ApiError> {
    Ok(state.app.gate_dry_run().await?)
}

#[tauri::command]
pub async fn gate_log(state: State<'_, DesktopState>) -> Result<Vec<ActionRecord>, ApiError> {
    Ok(state.app.gate_log(200).await?)
}

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

/// Sets a target's exposure as the user chose it; its newest inventory is
/// judged again at once: that scan's id (none: nothing to judge).
#[tauri::command]
pub async fn target_set_exposure(
    state: State<'_, DesktopState>,
    id: i64,
    exposure: Exposure,
) -> Result<Option<i64>, ApiError> {
    let sources = vedette_app::FeedSources::from_env();
    Ok(state
        .app
        .set_target_exposure(id, exposure, &sources)
        .await?
        .map(|(started, _)| started.scan_id))
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

/// The AWS account the gate acts with, as typed in Settings: its secret
/// goes to the keyring and is never sent back.
#[derive(serde::Deserialize)]
pub struct AwsAccountInput {
    access_key_id: String,
    secret_access_key: String,
    region: String,
    #[serde(default)]
    endpoint: Option<String>,
    #[serde(default)]
    role_arn: Option<String>,
    #[serde(default)]
    external_id: Option<String>,
}

fn some(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

#[tauri::command]
pub async fn aws_account_set(
    state: State<'_, DesktopState>,
    account: AwsAccountInput,
) -> Result<vedette_model::CredentialInfo, ApiError> {
    let account = vedette_app::AwsAccount {
        access_key_id: account.access_key_id.trim().to_owned(),
        secret_access_key: vedette_model::Sensitive::new(account.secret_access_key),
        session_token: None,
        region: account.region.trim().to_owned(),
        endpoint: some(account.endpoint),
        role_arn: some(account.role_arn),
        external_id: some(account.external_id),
    };
    Ok(state.app.set_aws_account(account).await?)
}

/// Stores the account of an AWS CLI profile from this user's ~/.aws.
#[tauri::command]
pub async fn aws_account_import(
    state: State<'_, DesktopState>,
    profile: String,
) -> Result<vedette_model::CredentialInfo, ApiError> {
    let home = std::env::var_os("HOME")
        .map(std::path::PathBuf::from)
        .ok_or_else(|| {
            ApiError::new(
                vedette_model::ErrorCode::InvalidInput,
                "HOME is not set: the AWS CLI's files are under it",
            )
        })?;
    let profile = some(Some(profile)).unwrap_or_else(|| "default".into());
    Ok(state
        .app
        .import_aws_profile(&home, &profile, None, None)
        .await?)
}

/// Who the gate's calls are made as: the stored account works.
#[tauri::command]
pub async fn aws_account_check(state: State<'_, DesktopState>) -> Result<String, ApiError> {
    Ok(state.app.check_aws_account().await?)
}

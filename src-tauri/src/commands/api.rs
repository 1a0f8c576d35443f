use tauri::State;
use vedette_model::{ApiError, ApiStatus, ApiToken, CreatedToken, ErrorCode, TokenScope};

use crate::DesktopState;

/// Where the automation API listens, or why this window does not serve it.
#[tauri::command]
pub async fn api_status(state: State<'_, DesktopState>) -> Result<ApiStatus, ApiError> {
    Ok(state.api.get().unwrap_or(ApiStatus {
        url: None,
        note: Some("starting".into()),
        fingerprint: None,
    }))
}

#[tauri::command]
pub async fn api_token_list(state: State<'_, DesktopState>) -> Result<Vec<ApiToken>, ApiError> {
    Ok(state.app.tokens().await?)
}

/// Creates a token; its secret is in the answer this once.
#[tauri::command]
pub async fn api_token_create(
    state: State<'_, DesktopState>,
    name: String,
    scope: TokenScope,
) -> Result<CreatedToken, ApiError> {
    Ok(state.app.create_token(&name, scope).await?)
}

#[tauri::command]
pub async fn api_token_revoke(state: State<'_, DesktopState>, id: i64) -> Result<(), ApiError> {
    if id <= 0 {
        return Err(ApiError::new(ErrorCode::InvalidInput, "no such token"));
    }
    Ok(state.app.revoke_token(&id.to_string()).await?)
}

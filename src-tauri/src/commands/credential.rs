use tauri::State;
use vedette_model::{ApiError, CredentialInfo, NewRegistryCredential};

use crate::DesktopState;

#[tauri::command]
pub async fn credential_list(
    state: State<'_, DesktopState>,
) -> Result<Vec<CredentialInfo>, ApiError> {
    Ok(state.app.credentials().list().await?)
}

/// Adds or replaces a registry credential. The answer never carries the secret.
#[tauri::command]
pub async fn credential_set(
    state: State<'_, DesktopState>,
    credential: NewRegistryCredential,
) -> Result<CredentialInfo, ApiError> {
    Ok(state.app.credentials().set_registry(credential).await?)
}

#[tauri::command]
pub async fn credential_delete(
    state: State<'_, DesktopState>,
    name: String,
) -> Result<(), ApiError> {
    Ok(state.app.credentials().delete(&name).await?)
}

use tauri::State;
use vedette_model::{ApiError, ErrorCode, Exposure, RegistryCrawl, RegistryWatch, TargetInfo};

use crate::DesktopState;

fn invalid(e: impl std::fmt::Display) -> ApiError {
    ApiError::new(ErrorCode::InvalidInput, e.to_string())
}

#[tauri::command]
pub async fn target_list(state: State<'_, DesktopState>) -> Result<Vec<TargetInfo>, ApiError> {
    state
        .app
        .store()
        .list_targets()
        .await
        .map_err(super::internal)
}

/// Watches a registry: which repositories, which tags; scheduled runs
/// crawl it.
#[tauri::command]
pub async fn target_add_registry(
    state: State<'_, DesktopState>,
    host: String,
    watch: RegistryWatch,
    group: Option<String>,
    exposure: Exposure,
) -> Result<TargetInfo, ApiError> {
    vedette_engine::check_watch(&watch).map_err(invalid)?;
    state
        .app
        .store()
        .add_registry_target(&host, &watch, group.as_deref(), exposure)
        .await
        .map_err(|e| match e {
            vedette_store::StoreError::Invalid(m) => invalid(m),
            other => super::internal(other),
        })
}

/// The images a registry target picks now (no scan).
#[tauri::command]
pub async fn target_crawl(
    state: State<'_, DesktopState>,
    id: i64,
) -> Result<RegistryCrawl, ApiError> {
    let target = state
        .app
        .store()
        .get_target(id)
        .await
        .map_err(super::internal)?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("there is no target {id}")))?;
    let Some(watch) = target.registry.clone() else {
        return Err(invalid(format!(
            "{} is not a registry; only registries are crawled",
            target.name
        )));
    };
    let opts = vedette_engine::Options {
        credential: state.app.registry_credential(&target.name).await,
        ..vedette_engine::Options::default()
    };
    let crawl = vedette_engine::CrawlOptions::for_watch(&watch);
    vedette_engine::crawl(&target.name, &watch, &opts, &crawl)
        .await
        .map_err(|e| ApiError::new(ErrorCode::Unavailable, e.to_string()))
}

/// Stops watching a target; its history (and a registry's images) go too.
#[tauri::command]
pub async fn target_remove(state: State<'_, DesktopState>, id: i64) -> Result<(), ApiError> {
    state
        .app
        .store()
        .remove_target(id)
        .await
        .map_err(super::internal)?;
    Ok(())
}

/// Lets the scheduler scan a quarantined target again.
#[tauri::command]
pub async fn target_retry(state: State<'_, DesktopState>, id: i64) -> Result<TargetInfo, ApiError> {
    let app = &state.app;
    let target = app
        .store()
        .get_target(id)
        .await
        .map_err(super::internal)?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("there is no target {id}")))?;
    app.retry_target(&target).await.map_err(super::internal)?;
    state.wake.notify_one();
    Ok(TargetInfo {
        quarantine: None,
        ..target
    })
}

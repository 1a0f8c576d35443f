use tauri::State;
use vedette_app::TargetSettings;
use vedette_model::{ApiError, Exposure, RegistryCrawl, RegistryWatch, TargetInfo};

use crate::DesktopState;

#[tauri::command]
pub async fn target_list(
    state: State<'_, DesktopState>,
) -> Result<Vec<vedette_model::TargetView>, ApiError> {
    Ok(state
        .app
        .target_views(&vedette_app::TargetFilter::default())
        .await?)
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
    let settings = TargetSettings {
        group,
        exposure,
        ..TargetSettings::default()
    };
    Ok(state.app.add_registry(&host, &watch, &settings).await?)
}

/// The images a registry target picks now (no scan).
#[tauri::command]
pub async fn target_crawl(
    state: State<'_, DesktopState>,
    id: i64,
) -> Result<RegistryCrawl, ApiError> {
    Ok(state.app.crawl_preview(id).await?)
}

/// Stops watching a target; its history (and a registry's images) go too.
#[tauri::command]
pub async fn target_remove(state: State<'_, DesktopState>, id: i64) -> Result<(), ApiError> {
    state.app.remove_target(id).await?;
    Ok(())
}

/// Lets the scheduler scan a quarantined target again.
#[tauri::command]
pub async fn target_retry(state: State<'_, DesktopState>, id: i64) -> Result<TargetInfo, ApiError> {
    state.app.retry_target(id).await?;
    Ok(state.app.target(id).await?)
}

/// Watches an image (added from the window: a reference, how its registry
/// is reached).
#[tauri::command]
pub async fn target_add_image(
    state: State<'_, DesktopState>,
    reference: String,
    insecure: bool,
    platform: Option<String>,
    group: Option<String>,
    exposure: Exposure,
) -> Result<TargetInfo, ApiError> {
    let settings = TargetSettings {
        group,
        exposure,
        insecure,
        platform: platform.filter(|p| !p.trim().is_empty()),
    };
    let t = state.app.add_image(&reference, &settings).await?;
    Ok(t)
}

/// Watches a directory (an unpacked root filesystem) on this machine.
#[tauri::command]
pub async fn target_add_directory(
    state: State<'_, DesktopState>,
    path: String,
    group: Option<String>,
    exposure: Exposure,
) -> Result<TargetInfo, ApiError> {
    let settings = TargetSettings {
        group,
        exposure,
        ..TargetSettings::default()
    };
    let t = state.app.add_directory(&path, &settings).await?;
    Ok(t)
}

/// Watches a host over SSH; its key is checked at once (the answer says
/// whether it is trusted, or the fingerprint to check and trust).
#[tauri::command]
pub async fn target_add_host(
    state: State<'_, DesktopState>,
    address: String,
    host: vedette_model::HostSpec,
    group: Option<String>,
    exposure: Exposure,
    trust: Option<String>,
) -> Result<vedette_model::HostAdded, ApiError> {
    let settings = TargetSettings {
        group,
        exposure,
        ..TargetSettings::default()
    };
    let (target, key) = state
        .app
        .add_host(&address, &host, &settings, trust.as_deref())
        .await?;
    Ok(vedette_model::HostAdded { target, key })
}

/// Trusts a host target's key when the host presents this fingerprint.
#[tauri::command]
pub async fn target_trust_key(
    state: State<'_, DesktopState>,
    id: i64,
    fingerprint: String,
) -> Result<String, ApiError> {
    Ok(state
        .app
        .trust_host_key(&id.to_string(), &fingerprint)
        .await?)
}

/// Scans a target now in the background ("Scan now"); progress follows as
/// `scan-progress` events, the scan shows in the Scans page as it runs.
#[tauri::command]
pub async fn target_scan_now(
    state: State<'_, DesktopState>,
    id: i64,
) -> Result<vedette_model::ScansStarted, ApiError> {
    let sources = vedette_app::FeedSources::from_env();
    Ok(state.app.start_scans(id, &sources, None).await?)
}

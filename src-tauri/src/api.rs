//! The automation API inside the desktop app: served by the window that
//! runs the schedules (when `vedette serve` runs them, it serves the API and
//! this window is one more client of the data dir).

use std::sync::Arc;

use vedette_app::{App, SchedulerContext};
use vedette_model::ApiStatus;

pub type ApiSlot = Arc<crate::Latest<ApiStatus>>;

/// Binds `VEDETTE_API` (default 127.0.0.1:7878) and serves the API for the
/// app's life; a port that is taken is noted, not fatal.
pub async fn start(app: App, ctx: SchedulerContext, slot: ApiSlot) {
    let address = std::env::var("VEDETTE_API")
        .ok()
        .filter(|a| !a.trim().is_empty())
        .unwrap_or_else(|| vedette_api::DEFAULT_ADDRESS.to_owned());
    let rate = match vedette_api::RateLimit::from_env() {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!("{e}; the default rate limit applies");
            vedette_api::RateLimit::default()
        }
    };
    let tls = vedette_api::TlsOptions::from_env(app.data_dir());
    let endpoint = match vedette_api::bind(&address, &tls).await {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!("no automation API: {e}");
            slot.set(ApiStatus {
                url: None,
                note: Some(e.to_string()),
                fingerprint: None,
            });
            return;
        }
    };
    tracing::info!("{}", endpoint.describe());
    app.set_link_base(Some(endpoint.url().trim_end_matches("/api/v1").to_owned()));
    slot.set(ApiStatus {
        url: Some(endpoint.url()),
        note: None,
        fingerprint: endpoint.certificate().map(|c| c.fingerprint.clone()),
    });
    let state =
        vedette_api::ApiState::new(app, vedette_app::FeedSources::from_env(), Some(ctx), rate);
    tokio::spawn(async move {
        if let Err(e) = vedette_api::serve(state, endpoint, std::future::pending()).await {
            tracing::error!("the automation API stopped: {e}");
        }
    });
}

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::ApiState;

#[derive(Serialize, ToSchema)]
pub(crate) struct Health {
    /// `ok`
    status: &'static str,
    version: &'static str,
    /// Whether this process runs the schedules (and "run now").
    scheduler: bool,
}

/// Liveness: answers without a token.
#[utoipa::path(get, path = "/api/v1/health", tag = "health",
    responses((status = 200, description = "The API is up", body = Health)))]
pub(crate) async fn health(State(s): State<ApiState>) -> Json<Health> {
    Json(Health {
        status: "ok",
        version: vedette_app::VERSION,
        scheduler: s.scheduler.is_some(),
    })
}

/// Prometheus metrics of the whole history (every machine sharing the
/// database): the scan queue by state, scans by how they ended, scans per
/// minute, how long jobs wait for a worker and run.
#[utoipa::path(get, path = "/api/v1/metrics", tag = "health",
    security(("bearer" = ["read"])),
    responses((status = 200, description = "Prometheus' text format", content_type = "text/plain; version=0.0.4", body = String)))]
pub(crate) async fn metrics(
    _: crate::auth::Read,
    State(s): State<ApiState>,
) -> crate::error::ApiResult<([(axum::http::HeaderName, &'static str); 1], String)> {
    let text = s.app.metrics().await.map_err(vedette_app::AppError::from)?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    ))
}

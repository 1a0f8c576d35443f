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

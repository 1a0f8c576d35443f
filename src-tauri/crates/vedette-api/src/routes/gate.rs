//! The new-node gate as the API shows it: the enrolled nodes, the gate's
//! settings, its dry run and its action log (read scope; arming stays with
//! the CLI and the window, where the action's name is typed).

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;
use vedette_model::{ActionRecord, GateCandidate, GateSettings, NodeInfo};

use crate::auth::Read;
use crate::error::{ApiResult, Query};
use crate::ApiState;

/// The enrolled nodes: their facts, when they enrolled and were last heard
/// from, and whether their credential was revoked.
#[utoipa::path(get, path = "/api/v1/nodes", tag = "gate",
    security(("bearer" = ["read"])),
    responses((status = 200, body = [NodeInfo])))]
pub(crate) async fn nodes(_: Read, State(s): State<ApiState>) -> ApiResult<Json<Vec<NodeInfo>>> {
    Ok(Json(s.app.nodes().await?))
}

/// What the gate does, whether it is armed (and by whom), its hourly cap.
#[utoipa::path(get, path = "/api/v1/gate", tag = "gate",
    security(("bearer" = ["read"])),
    responses((status = 200, body = GateSettings)))]
pub(crate) async fn settings(_: Read, State(s): State<ApiState>) -> ApiResult<Json<GateSettings>> {
    Ok(Json(s.app.gate().await?))
}

/// The nodes the gate would act on now, and why, without acting.
#[utoipa::path(get, path = "/api/v1/gate/dry-run", tag = "gate",
    security(("bearer" = ["read"])),
    responses((status = 200, body = [GateCandidate])))]
pub(crate) async fn dry_run(
    _: Read,
    State(s): State<ApiState>,
) -> ApiResult<Json<Vec<GateCandidate>>> {
    Ok(Json(s.app.gate_dry_run().await?))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct LogQuery {
    /// At most this many entries, newest first (default 100, at most 1000).
    limit: Option<i64>,
}

/// The action log: every decision the gate made, newest first.
#[utoipa::path(get, path = "/api/v1/gate/actions", tag = "gate", params(LogQuery),
    security(("bearer" = ["read"])),
    responses((status = 200, body = [ActionRecord])))]
pub(crate) async fn actions(
    _: Read,
    State(s): State<ApiState>,
    Query(q): Query<LogQuery>,
) -> ApiResult<Json<Vec<ActionRecord>>> {
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    Ok(Json(s.app.gate_log(limit).await?))
}

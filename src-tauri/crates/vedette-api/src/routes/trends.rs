use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;
use vedette_app::TrendsOf;
use vedette_model::Trends;

use crate::auth::Read;
use crate::error::{ApiResult, Failure, Query};
use crate::ApiState;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct TrendQuery {
    /// Days up to today (1 to 3660; default 90).
    days: Option<i64>,
    /// One group's targets.
    group: Option<String>,
    /// One target (its id or name).
    target: Option<String>,
}

/// Open findings by severity per day, new and fixed per week, mean time to
/// fix: all targets, one group or one target.
#[utoipa::path(get, path = "/api/v1/trends", tag = "trends", params(TrendQuery),
    security(("bearer" = ["read"])),
    responses((status = 200, body = Trends), (status = 400, body = vedette_model::ApiError),
              (status = 404, body = vedette_model::ApiError)))]
pub(crate) async fn trends(
    _: Read,
    State(s): State<ApiState>,
    Query(q): Query<TrendQuery>,
) -> ApiResult<Json<Trends>> {
    let of = match (q.target, q.group) {
        (Some(_), Some(_)) => return Err(Failure::invalid("give a target or a group, not both")),
        (Some(t), None) => TrendsOf::Target(t),
        (None, Some(g)) => TrendsOf::Group(g),
        (None, None) => TrendsOf::All,
    };
    Ok(Json(s.app.trends(&of, q.days.unwrap_or(90)).await?))
}

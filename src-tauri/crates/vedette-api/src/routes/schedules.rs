use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use vedette_model::{Schedule, ScheduleInput, ScheduleView};

use crate::auth::{Admin, Read, Scan};
use crate::error::{ApiResult, Body, Failure, Path};
use crate::ApiState;

/// Every schedule with its last and next runs.
#[utoipa::path(get, path = "/api/v1/schedules", tag = "schedules",
    security(("bearer" = ["read"])),
    responses((status = 200, body = Vec<ScheduleView>)))]
pub(crate) async fn list(_: Read, State(s): State<ApiState>) -> ApiResult<Json<Vec<ScheduleView>>> {
    Ok(Json(s.app.schedule_views().await?))
}

/// Adds a schedule (its cron expression and selector checked).
#[utoipa::path(post, path = "/api/v1/schedules", tag = "schedules", request_body = ScheduleInput,
    security(("bearer" = ["admin"])),
    responses((status = 201, body = Schedule), (status = 400, body = vedette_model::ApiError)))]
pub(crate) async fn add(
    _: Admin,
    State(s): State<ApiState>,
    Body(input): Body<ScheduleInput>,
) -> ApiResult<(StatusCode, Json<Schedule>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.app.save_schedule(None, &input).await?),
    ))
}

/// One schedule.
#[utoipa::path(get, path = "/api/v1/schedules/{id}", tag = "schedules",
    params(("id" = i64, Path, description = "The schedule's id")),
    security(("bearer" = ["read"])),
    responses((status = 200, body = Schedule), (status = 404, body = vedette_model::ApiError)))]
pub(crate) async fn get(
    _: Read,
    State(s): State<ApiState>,
    Path(id): Path<i64>,
) -> ApiResult<Json<Schedule>> {
    Ok(Json(s.app.schedule(id).await?))
}

/// Replaces a schedule's settings.
#[utoipa::path(put, path = "/api/v1/schedules/{id}", tag = "schedules", request_body = ScheduleInput,
    params(("id" = i64, Path, description = "The schedule's id")),
    security(("bearer" = ["admin"])),
    responses((status = 200, body = Schedule), (status = 400, body = vedette_model::ApiError),
              (status = 404, body = vedette_model::ApiError)))]
pub(crate) async fn update(
    _: Admin,
    State(s): State<ApiState>,
    Path(id): Path<i64>,
    Body(input): Body<ScheduleInput>,
) -> ApiResult<Json<Schedule>> {
    s.app.schedule(id).await?;
    Ok(Json(s.app.save_schedule(Some(id), &input).await?))
}

/// Removes a schedule (the built-in weekly scan can be disabled, not removed).
#[utoipa::path(delete, path = "/api/v1/schedules/{id}", tag = "schedules",
    params(("id" = i64, Path, description = "The schedule's id")),
    security(("bearer" = ["admin"])),
    responses((status = 204, description = "Removed"), (status = 400, body = vedette_model::ApiError),
              (status = 404, body = vedette_model::ApiError)))]
pub(crate) async fn remove(
    _: Admin,
    State(s): State<ApiState>,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    s.app.schedule(id).await?;
    s.app.remove_schedule(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub(crate) struct RunStarted {
    schedule_id: i64,
    /// Follow it on the event stream: `schedule.fired`, then each scan's events.
    events: &'static str,
}

/// Runs a schedule now in this console's scheduler.
#[utoipa::path(post, path = "/api/v1/schedules/{id}/run", tag = "schedules",
    params(("id" = i64, Path, description = "The schedule's id")),
    security(("bearer" = ["scan"])),
    responses((status = 202, body = RunStarted), (status = 404, body = vedette_model::ApiError),
              (status = 503, description = "The schedules run in another process", body = vedette_model::ApiError)))]
pub(crate) async fn run(
    _: Scan,
    State(s): State<ApiState>,
    Path(id): Path<i64>,
) -> ApiResult<(StatusCode, Json<RunStarted>)> {
    s.app.schedule(id).await?;
    let Some(ctx) = s.scheduler.clone() else {
        return Err(Failure::new(
            StatusCode::SERVICE_UNAVAILABLE,
            vedette_model::ErrorCode::Unavailable,
            "this console does not run the schedules (another process holds the data dir's scheduler lock)",
        ));
    };
    let app = s.app.clone();
    tokio::spawn(async move {
        if let Err(e) = app.run_schedule(&ctx, id).await {
            tracing::warn!("schedule {id} run from the API: {e}");
        }
    });
    Ok((
        StatusCode::ACCEPTED,
        Json(RunStarted {
            schedule_id: id,
            events: "/api/v1/events",
        }),
    ))
}

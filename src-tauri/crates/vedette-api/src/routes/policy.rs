use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vedette_app::{Exception, Policy};

use crate::auth::{Admin, Read};
use crate::error::{ApiResult, Body};
use crate::ApiState;

/// The console's policy: the gate of the scans the window and the API
/// start; its exceptions apply to scheduled scans too.
#[derive(Serialize, ToSchema)]
pub(crate) struct PolicyDoc {
    policy: Policy,
    /// The same as TOML (what `vedette scan --policy` reads).
    toml: String,
}

/// The console's policy.
#[utoipa::path(get, path = "/api/v1/policy", tag = "policy",
    security(("bearer" = ["read"])),
    responses((status = 200, body = PolicyDoc)))]
pub(crate) async fn get(_: Read, State(s): State<ApiState>) -> ApiResult<Json<PolicyDoc>> {
    let policy = s.app.console_policy()?;
    Ok(Json(PolicyDoc {
        toml: policy.to_toml(),
        policy,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PolicyText {
    /// A policy as TOML (`fail_on = "high"`, `[[exception]]` …).
    toml: String,
}

/// Replaces the console's policy.
#[utoipa::path(put, path = "/api/v1/policy", tag = "policy", request_body = PolicyText,
    security(("bearer" = ["admin"])),
    responses((status = 200, body = PolicyDoc), (status = 400, body = vedette_model::ApiError)))]
pub(crate) async fn replace(
    _: Admin,
    State(s): State<ApiState>,
    Body(t): Body<PolicyText>,
) -> ApiResult<Json<PolicyDoc>> {
    let policy = s.app.set_console_policy(&t.toml)?;
    Ok(Json(PolicyDoc {
        toml: policy.to_toml(),
        policy,
    }))
}

#[derive(Serialize, ToSchema)]
pub(crate) struct Validation {
    valid: bool,
    /// What is wrong, when it is not valid.
    error: Option<String>,
    policy: Option<Policy>,
}

/// Checks a policy without saving it.
#[utoipa::path(post, path = "/api/v1/policy/validate", tag = "policy", request_body = PolicyText,
    security(("bearer" = ["read"])),
    responses((status = 200, body = Validation), (status = 400, body = vedette_model::ApiError)))]
pub(crate) async fn validate(_: Read, Body(t): Body<PolicyText>) -> Json<Validation> {
    Json(match vedette_app::validate_policy(&t.toml) {
        Ok(p) => Validation {
            valid: true,
            error: None,
            policy: Some(p),
        },
        Err(e) => Validation {
            valid: false,
            error: Some(e.to_string()),
            policy: None,
        },
    })
}

/// The console policy's exceptions (expired ones included: the gate
/// ignores them and says so).
#[utoipa::path(get, path = "/api/v1/exceptions", tag = "policy",
    security(("bearer" = ["read"])),
    responses((status = 200, body = Vec<Exception>)))]
pub(crate) async fn exceptions(
    _: Read,
    State(s): State<ApiState>,
) -> ApiResult<Json<Vec<Exception>>> {
    Ok(Json(s.app.console_policy()?.exceptions))
}

/// Adds an exception, until its expiry (one for the same advisory and
/// package is replaced).
#[utoipa::path(post, path = "/api/v1/exceptions", tag = "policy", request_body = Exception,
    security(("bearer" = ["admin"])),
    responses((status = 201, description = "Every exception now", body = Vec<Exception>),
              (status = 400, body = vedette_model::ApiError)))]
pub(crate) async fn add_exception(
    _: Admin,
    State(s): State<ApiState>,
    Body(e): Body<Exception>,
) -> ApiResult<(StatusCode, Json<Vec<Exception>>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.app.add_exception(e)?.exceptions),
    ))
}

//! What agents call: enrolling with an enrolment token, then, with the
//! node's own credential, sending the node's inventory (scanned at once,
//! judged by the gate) and heartbeats. Not behind API tokens: each route
//! checks its own bearer before reading the body.

use axum::extract::{FromRequestParts, State};
use axum::http::{header, request::Parts, StatusCode};
use axum::Json;
use vedette_model::{Enrolled, ErrorCode, Inventory, NodeFacts, StartedScan};

use crate::error::{ApiResult, Body, Failure};
use crate::ApiState;

/// An inventory may be this large (a host with thousands of packages).
pub(crate) const MAX_INVENTORY: usize = 32 * 1024 * 1024;

fn bearer(parts: &Parts) -> Result<String, Failure> {
    parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            Failure::new(
                StatusCode::UNAUTHORIZED,
                ErrorCode::Unauthorized,
                "this needs `Authorization: Bearer` with an enrolment token or a node credential",
            )
        })
}

/// A request with an enrolment token that may enrol a node now (checked
/// again, and counted, when the node enrols).
pub(crate) struct EnrolToken(String);

impl FromRequestParts<ApiState> for EnrolToken {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, s: &ApiState) -> Result<Self, Failure> {
        let token = bearer(parts)?;
        s.app.check_enrol_token(&token).await?;
        Ok(EnrolToken(token))
    }
}

/// A request from an enrolled node, its credential checked.
pub(crate) struct Node(vedette_model::NodeInfo);

impl FromRequestParts<ApiState> for Node {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, s: &ApiState) -> Result<Self, Failure> {
        let credential = bearer(parts)?;
        Ok(Node(s.app.node_of_credential(&credential).await?))
    }
}

/// Enrols a node: the credential it uses from then on (shown once). An
/// expired, revoked or spent token gets 401, and is logged.
#[utoipa::path(post, path = "/api/v1/agents/enrol", tag = "agents", request_body = NodeFacts,
    security(("enrolment" = [])),
    responses((status = 201, body = Enrolled), (status = 400, body = vedette_model::ApiError),
              (status = 401, body = vedette_model::ApiError)))]
pub(crate) async fn enrol(
    EnrolToken(token): EnrolToken,
    State(s): State<ApiState>,
    Body(facts): Body<NodeFacts>,
) -> ApiResult<(StatusCode, Json<Enrolled>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.app.enrol(&token, &facts).await?),
    ))
}

/// The node's inventory, as its agent collected it: scanned at once, judged
/// by the gate policy, and the gate decides when the scan ends.
#[utoipa::path(put, path = "/api/v1/agents/inventory", tag = "agents", request_body = Inventory,
    security(("node" = [])),
    responses((status = 202, body = StartedScan), (status = 400, body = vedette_model::ApiError),
              (status = 401, body = vedette_model::ApiError),
              (status = 409, description = "Too many scans run; send it again shortly", body = vedette_model::ApiError)))]
pub(crate) async fn inventory(
    Node(node): Node,
    State(s): State<ApiState>,
    Body(inventory): Body<Inventory>,
) -> ApiResult<(StatusCode, Json<StartedScan>)> {
    let started = s.app.node_inventory(&node, inventory, &s.sources).await?;
    Ok((StatusCode::ACCEPTED, Json(started)))
}

/// The node is alive (its last-seen time is set by the credential check).
#[utoipa::path(post, path = "/api/v1/agents/heartbeat", tag = "agents",
    security(("node" = [])),
    responses((status = 204, description = "Heard"), (status = 401, body = vedette_model::ApiError)))]
pub(crate) async fn heartbeat(Node(_): Node) -> StatusCode {
    StatusCode::NO_CONTENT
}

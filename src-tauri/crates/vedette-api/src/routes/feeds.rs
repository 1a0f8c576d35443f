use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vedette_app::Outcome;
use vedette_model::FeedInfo;

use crate::auth::{Admin, Read};
use crate::error::{ApiResult, Body};
use crate::ApiState;

/// Every feed in the index: its source, age, and whether it is past its limit.
#[utoipa::path(get, path = "/api/v1/feeds", tag = "feeds",
    security(("bearer" = ["read"])),
    responses((status = 200, body = Vec<FeedInfo>)))]
pub(crate) async fn status(_: Read, State(s): State<ApiState>) -> ApiResult<Json<Vec<FeedInfo>>> {
    let feeds = s.app.feeds(&s.sources).await?;
    let status = feeds.status().await;
    feeds.close().await;
    Ok(Json(status?))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateRequest {
    /// OSV ecosystems to update (none: those in use).
    #[serde(default)]
    ecosystems: Vec<String>,
}

/// How one feed's update went.
#[derive(Serialize, ToSchema)]
pub(crate) struct FeedUpdate {
    feed: String,
    source: String,
    /// updated, not_modified, missing, failed, skipped
    outcome: &'static str,
    records: Option<i64>,
    /// Why it failed or was skipped.
    reason: Option<String>,
}

/// Downloads what changed of the feeds now (`feed.updated` follows for each
/// that changed).
#[utoipa::path(post, path = "/api/v1/feeds/update", tag = "feeds", request_body = UpdateRequest,
    security(("bearer" = ["admin"])),
    responses((status = 200, body = Vec<FeedUpdate>), (status = 400, body = vedette_model::ApiError)))]
pub(crate) async fn update(
    _: Admin,
    State(s): State<ApiState>,
    Body(r): Body<UpdateRequest>,
) -> ApiResult<Json<Vec<FeedUpdate>>> {
    let feeds = s.app.feeds(&s.sources).await?;
    let outcomes = feeds.update(&s.app, &r.ecosystems).await;
    feeds.close().await;
    Ok(Json(
        outcomes?
            .into_iter()
            .map(|o| {
                let (outcome, records, reason) = match o.outcome {
                    Outcome::Updated { records, .. } => ("updated", Some(records), None),
                    Outcome::NotModified => ("not_modified", None, None),
                    Outcome::Missing => ("missing", None, None),
                    Outcome::Failed { error } => ("failed", None, Some(error)),
                    Outcome::Skipped { reason } => ("skipped", None, Some(reason)),
                };
                FeedUpdate {
                    feed: o.feed,
                    source: vedette_model::strip_userinfo(&o.source).0,
                    outcome,
                    records,
                    reason,
                }
            })
            .collect(),
    ))
}

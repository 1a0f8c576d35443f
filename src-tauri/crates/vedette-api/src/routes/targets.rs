use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use vedette_app::{TargetFilter, TargetSettings};
use vedette_model::{Exposure, RegistryWatch, TargetInfo, TargetKind, TargetVerdict, TargetView};

use crate::auth::{Admin, Read, Scan};
use crate::error::{ApiResult, Body, Failure, Path, Query};
use crate::ApiState;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct TargetQuery {
    /// image, registry, host, directory, archive, sbom
    kind: Option<String>,
    group: Option<String>,
    /// internal, internet
    exposure: Option<String>,
    /// pass, fail, no_verdict, not_scanned
    verdict: Option<String>,
}

fn parse<T>(
    what: &str,
    v: Option<&str>,
    f: impl Fn(&str) -> Option<T>,
    choices: &str,
) -> ApiResult<Option<T>> {
    v.map(|s| f(s).ok_or_else(|| Failure::invalid(format!("{what} '{s}' is not one of {choices}"))))
        .transpose()
}

/// Targets with their standing after their newest scan, filtered.
#[utoipa::path(get, path = "/api/v1/targets", tag = "targets", params(TargetQuery),
    security(("bearer" = ["read"])),
    responses((status = 200, body = Vec<TargetView>), (status = 400, body = vedette_model::ApiError)))]
pub(crate) async fn list(
    _: Read,
    State(s): State<ApiState>,
    Query(q): Query<TargetQuery>,
) -> ApiResult<Json<Vec<TargetView>>> {
    let filter = TargetFilter {
        kind: parse(
            "kind",
            q.kind.as_deref(),
            TargetKind::parse,
            "image, registry, host, directory, archive, sbom",
        )?,
        group: q.group,
        exposure: parse(
            "exposure",
            q.exposure.as_deref(),
            Exposure::parse,
            "internal, internet",
        )?,
        verdict: parse(
            "verdict",
            q.verdict.as_deref(),
            TargetVerdict::parse,
            "pass, fail, no_verdict, not_scanned",
        )?,
    };
    Ok(Json(s.app.target_views(&filter).await?))
}

/// A target to watch.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewTarget {
    /// image, registry or directory (a directory on the console's machine
    /// needs the admin scope).
    kind: TargetKind,
    /// The image reference, the registry host[:port] or the directory path.
    name: String,
    group: Option<String>,
    #[serde(default)]
    exposure: Option<Exposure>,
    /// The registry is reached over plain HTTP or unverified TLS.
    #[serde(default)]
    insecure: bool,
    /// The platform of a multi-platform image (`linux/arm64`).
    platform: Option<String>,
    /// For a registry: which repositories and tags (default: every
    /// repository's newest image).
    watch: Option<RegistryWatch>,
}

/// Watches a new target (`target.added` follows on the event stream).
#[utoipa::path(post, path = "/api/v1/targets", tag = "targets", request_body = NewTarget,
    security(("bearer" = ["scan"])),
    responses((status = 201, body = TargetInfo), (status = 400, body = vedette_model::ApiError),
              (status = 403, body = vedette_model::ApiError)))]
pub(crate) async fn add(
    Scan(token): Scan,
    State(s): State<ApiState>,
    Body(t): Body<NewTarget>,
) -> ApiResult<(StatusCode, Json<TargetInfo>)> {
    let settings = TargetSettings {
        group: t.group,
        exposure: t.exposure.unwrap_or_default(),
        insecure: t.insecure,
        platform: t.platform,
    };
    let added = match t.kind {
        TargetKind::Image => s.app.add_image(&t.name, &settings).await?,
        TargetKind::Registry => {
            let mut watch = t.watch.unwrap_or_else(|| RegistryWatch {
                repositories: "*".into(),
                tags: Default::default(),
                insecure: false,
                requests_per_second: None,
            });
            watch.insecure |= t.insecure;
            s.app.add_registry(&t.name, &watch, &settings).await?
        }
        TargetKind::Directory if token.scope >= vedette_model::TokenScope::Admin => {
            s.app.add_directory(&t.name, &settings).await?
        }
        TargetKind::Directory => return Err(Failure::new(
            StatusCode::FORBIDDEN,
            vedette_model::ErrorCode::Forbidden,
            "a directory is read on the console's own machine: adding one needs the admin scope",
        )),
        other => {
            return Err(Failure::invalid(format!(
            "{} targets cannot be added through the API; add an image, a registry or a directory",
            other.as_str()
        )))
        }
    };
    s.app.schedules_changed();
    Ok((StatusCode::CREATED, Json(added)))
}

/// One target with its standing.
#[utoipa::path(get, path = "/api/v1/targets/{id}", tag = "targets",
    params(("id" = i64, Path, description = "The target's id")),
    security(("bearer" = ["read"])),
    responses((status = 200, body = TargetView), (status = 404, body = vedette_model::ApiError)))]
pub(crate) async fn get(
    _: Read,
    State(s): State<ApiState>,
    Path(id): Path<i64>,
) -> ApiResult<Json<TargetView>> {
    s.app.target(id).await?;
    s.app
        .target_views(&TargetFilter::default())
        .await?
        .into_iter()
        .find(|v| v.target.id == id)
        .map(Json)
        .ok_or_else(|| Failure::not_found(format!("there is no target {id}")))
}

/// Stops watching a target; its history goes with it.
#[utoipa::path(delete, path = "/api/v1/targets/{id}", tag = "targets",
    params(("id" = i64, Path, description = "The target's id")),
    security(("bearer" = ["admin"])),
    responses((status = 200, description = "The target removed", body = TargetInfo),
              (status = 404, body = vedette_model::ApiError)))]
pub(crate) async fn remove(
    _: Admin,
    State(s): State<ApiState>,
    Path(id): Path<i64>,
) -> ApiResult<Json<TargetInfo>> {
    let t = s.app.remove_target(id).await?;
    s.app.schedules_changed();
    Ok(Json(t))
}

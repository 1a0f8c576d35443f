use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
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
    /// At most this many targets (1 to 5000; default 1000). `X-Total-Count`
    /// says how many match, `Link` where the next page is.
    limit: Option<usize>,
    /// Skip this many matching targets first (default 0).
    offset: Option<usize>,
}

/// The most targets one answer holds.
pub(crate) const MAX_PAGE: usize = 5000;
const DEFAULT_PAGE: usize = 1000;

fn parse<T>(
    what: &str,
    v: Option<&str>,
    f: impl Fn(&str) -> Option<T>,
    choices: &str,
) -> ApiResult<Option<T>> {
    v.map(|s| f(s).ok_or_else(|| Failure::invalid(format!("{what} '{s}' is not one of {choices}"))))
        .transpose()
}

/// Targets with their standing after their newest scan, filtered, a page
/// at a time (ordered by kind, then name).
#[utoipa::path(get, path = "/api/v1/targets", tag = "targets", params(TargetQuery),
    security(("bearer" = ["read"])),
    responses((status = 200, body = Vec<TargetView>, headers(
                ("X-Total-Count" = u64, description = "How many targets match the filters, on every page"),
                ("Link" = String, description = "`<…?offset=N&limit=L>; rel=\"next\"` while there are more"))),
              (status = 400, body = vedette_model::ApiError)))]
pub(crate) async fn list(
    _: Read,
    State(s): State<ApiState>,
    uri: axum::http::Uri,
    Query(q): Query<TargetQuery>,
) -> ApiResult<impl IntoResponse> {
    let limit = q.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(Failure::invalid(format!(
            "limit {limit} is not between 1 and {MAX_PAGE}"
        )));
    }
    let offset = q.offset.unwrap_or(0);
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
    let all = s.app.target_views(&filter).await?;
    let total = all.len();
    let page: Vec<TargetView> = all.into_iter().skip(offset).take(limit).collect();
    let mut headers = HeaderMap::new();
    headers.insert("x-total-count", HeaderValue::from(total));
    if offset.saturating_add(limit) < total {
        let next = next_page(&uri, offset + limit, limit);
        if let Ok(v) = HeaderValue::from_str(&format!("<{next}>; rel=\"next\"")) {
            headers.insert(axum::http::header::LINK, v);
        }
    }
    Ok((headers, Json(page)))
}

/// The request's own path and filters, at another offset.
fn next_page(uri: &axum::http::Uri, offset: usize, limit: usize) -> String {
    let kept: Vec<&str> = uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("offset=") && !p.starts_with("limit="))
        .collect();
    let mut query = kept.join("&");
    if !query.is_empty() {
        query.push('&');
    }
    format!("{}?{query}offset={offset}&limit={limit}", uri.path())
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
                kind: Default::default(),
                api: None,
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
            "{} targets cannot be added here; add an image, a registry or a directory (hosts: POST /api/v1/hosts)",
            other.as_str()
        )))
        }
    };
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
    Ok(Json(s.app.target_view(id).await?))
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
    Ok(Json(t))
}

/// A target's exposure as the user sets it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SetExposure {
    exposure: Exposure,
}

/// Sets whether a target is internet-facing or internal; it wins over
/// what Vedette infers for a node from then on. Its newest inventory is
/// judged again at once (202 with the scan), so its findings are re-scored
/// with the cause `exposure_change` and a node is gated anew; 200 when
/// there is nothing to judge again.
#[utoipa::path(put, path = "/api/v1/targets/{id}/exposure", tag = "targets",
    params(("id" = i64, Path, description = "The target's id")),
    request_body = SetExposure,
    security(("bearer" = ["scan"])),
    responses((status = 202, description = "Set; its inventory is being judged again", body = vedette_model::StartedScan),
              (status = 200, description = "Set; nothing to judge again", body = TargetView),
              (status = 400, body = vedette_model::ApiError),
              (status = 404, body = vedette_model::ApiError),
              (status = 409, body = vedette_model::ApiError)))]
pub(crate) async fn set_exposure(
    _: Scan,
    State(s): State<ApiState>,
    Path(id): Path<i64>,
    Body(b): Body<SetExposure>,
) -> ApiResult<axum::response::Response> {
    Ok(
        match s
            .app
            .set_target_exposure(id, b.exposure, &s.sources)
            .await?
        {
            Some((started, _)) => (StatusCode::ACCEPTED, Json(started)).into_response(),
            None => Json(s.app.target_view(id).await?).into_response(),
        },
    )
}

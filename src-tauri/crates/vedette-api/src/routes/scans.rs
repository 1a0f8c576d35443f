use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use vedette_app::{TargetFilter, TargetSettings};
use vedette_model::{
    Exposure, ScanDiff, ScanReport, ScanSummary, ScansStarted, TargetKind, TargetVerdict,
};

use crate::auth::{Read, Scan};
use crate::error::{ApiResult, Body, Failure, Path, Query};
use crate::ApiState;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ScanQuery {
    /// Only this target's scans.
    target_id: Option<i64>,
    /// At most this many, newest first (1 to 1000; default 100).
    limit: Option<i64>,
}

/// Scans, newest first.
#[utoipa::path(get, path = "/api/v1/scans", tag = "scans", params(ScanQuery),
    security(("bearer" = ["read"])),
    responses((status = 200, body = Vec<ScanSummary>), (status = 400, body = vedette_model::ApiError),
              (status = 404, description = "No such target", body = vedette_model::ApiError)))]
pub(crate) async fn list(
    _: Read,
    State(s): State<ApiState>,
    Query(q): Query<ScanQuery>,
) -> ApiResult<Json<Vec<ScanSummary>>> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(Failure::invalid("limit runs from 1 to 1000"));
    }
    Ok(Json(match q.target_id {
        Some(id) => {
            s.app.target(id).await?;
            s.app.target_scans(id, limit).await?
        }
        None => s.app.scans(limit).await?,
    }))
}

/// Which targets to scan: one target, an image (watched from now on), or
/// every target a selection picks.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScanRequest {
    /// A watched target.
    target_id: Option<i64>,
    /// An image reference: added as a target if new, then scanned.
    image: Option<String>,
    /// With `image`: its registry over plain HTTP or unverified TLS.
    #[serde(default)]
    insecure: bool,
    /// With `image`: the platform of a multi-platform image.
    platform: Option<String>,
    /// A selection: every target of this kind, group, exposure and verdict.
    selector: Option<Selector>,
    /// The gate of these scans (none: the console's policy).
    policy: Option<vedette_app::Policy>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Selector {
    kind: Option<TargetKind>,
    group: Option<String>,
    exposure: Option<Exposure>,
    verdict: Option<TargetVerdict>,
}

/// Starts scans; they run in the background (`scan.started`,
/// `scan.finished` follow on the event stream). `202` with each scan's URL.
#[utoipa::path(post, path = "/api/v1/scans", tag = "scans", request_body = ScanRequest,
    security(("bearer" = ["scan"])),
    responses((status = 202, description = "Started; `Location` is the first scan's URL", body = ScansStarted),
              (status = 400, body = vedette_model::ApiError), (status = 404, body = vedette_model::ApiError),
              (status = 409, description = "The target is being scanned, or too many scans run", body = vedette_model::ApiError)))]
pub(crate) async fn start(
    _: Scan,
    State(s): State<ApiState>,
    Body(r): Body<ScanRequest>,
) -> ApiResult<Response> {
    let given = [
        r.target_id.is_some(),
        r.image.is_some(),
        r.selector.is_some(),
    ];
    if given.iter().filter(|g| **g).count() != 1 {
        return Err(Failure::invalid(
            "give exactly one of target_id, image or selector",
        ));
    }
    let started = if let Some(id) = r.target_id {
        s.app.start_scans(id, &s.sources, r.policy.as_ref()).await?
    } else if let Some(image) = r.image {
        let settings = TargetSettings {
            insecure: r.insecure,
            platform: r.platform,
            ..TargetSettings::default()
        };
        let id = s.app.ensure_image(&image, &settings).await?.id;
        s.app.start_scans(id, &s.sources, r.policy.as_ref()).await?
    } else {
        let sel = r.selector.unwrap_or(Selector {
            kind: None,
            group: None,
            exposure: None,
            verdict: None,
        });
        let ids: Vec<i64> = s
            .app
            .target_views(&TargetFilter {
                kind: sel.kind,
                group: sel.group,
                exposure: sel.exposure,
                verdict: sel.verdict,
            })
            .await?
            .into_iter()
            // A registry's images are their own targets.
            .filter(|v| v.target.parent_id.is_none() || sel.kind.is_some())
            .map(|v| v.target.id)
            .collect();
        s.app
            .start_scans_of(&ids, &s.sources, r.policy.as_ref())
            .await?
    };
    let mut resp = (StatusCode::ACCEPTED, Json(&started)).into_response();
    if let Some(first) = started.scans.first() {
        if let Ok(v) = HeaderValue::from_str(&first.url) {
            resp.headers_mut().insert(header::LOCATION, v);
        }
    }
    Ok(resp)
}

/// A scan: its state, counts and verdict; the report once it succeeded.
#[derive(Serialize, ToSchema)]
pub(crate) struct ScanStatus {
    scan: ScanSummary,
    report: Option<ScanReport>,
}

/// One scan.
#[utoipa::path(get, path = "/api/v1/scans/{id}", tag = "scans",
    params(("id" = i64, Path, description = "The scan's id")),
    security(("bearer" = ["read"])),
    responses((status = 200, body = ScanStatus), (status = 404, body = vedette_model::ApiError)))]
pub(crate) async fn get(
    _: Read,
    State(s): State<ApiState>,
    Path(id): Path<i64>,
) -> ApiResult<Json<ScanStatus>> {
    let scan = s.app.scan_summary(id).await?;
    let report = s.app.scan_report(id).await?;
    Ok(Json(ScanStatus { scan, report }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ReportQuery {
    /// json (default), sarif or cyclonedx
    format: Option<String>,
}

/// A scan's findings as JSON, SARIF 2.1.0 or CycloneDX 1.6.
#[utoipa::path(get, path = "/api/v1/scans/{id}/report", tag = "scans",
    params(("id" = i64, Path, description = "The scan's id"), ReportQuery),
    security(("bearer" = ["read"])),
    responses((status = 200, description = "The report", content(
                  (Object = "application/json"),
                  (Object = "application/sarif+json"),
                  (Object = "application/vnd.cyclonedx+json"))),
              (status = 400, body = vedette_model::ApiError),
              (status = 404, description = "No such scan, or it matched no advisories", body = vedette_model::ApiError)))]
pub(crate) async fn report(
    _: Read,
    State(s): State<ApiState>,
    Path(id): Path<i64>,
    Query(q): Query<ReportQuery>,
) -> ApiResult<Response> {
    let format = q.format.as_deref().unwrap_or("json");
    if !["json", "sarif", "cyclonedx"].contains(&format) {
        return Err(Failure::invalid(format!(
            "format '{format}' is not one of json, sarif, cyclonedx"
        )));
    }
    let report = s.app.scan_report(id).await?.ok_or_else(|| {
        Failure::not_found(format!(
            "scan {id} has no findings report: it did not succeed, or only listed packages"
        ))
    })?;
    let (kind, body) = match format {
        "sarif" => ("application/sarif+json", vedette_report::sarif(&report)),
        "cyclonedx" => {
            let inv = s.app.scan_inventory(id).await?;
            (
                "application/vnd.cyclonedx+json",
                vedette_report::cyclonedx_with_findings(&inv, &report),
            )
        }
        _ => ("application/json", vedette_report::json_report(&report)),
    };
    Ok(([(header::CONTENT_TYPE, kind)], body).into_response())
}

/// What changed against the target's previous scan: new findings with their
/// cause, fixed ones.
#[utoipa::path(get, path = "/api/v1/scans/{id}/diff", tag = "scans",
    params(("id" = i64, Path, description = "The scan's id")),
    security(("bearer" = ["read"])),
    responses((status = 200, body = ScanDiff), (status = 404, body = vedette_model::ApiError)))]
pub(crate) async fn diff(
    _: Read,
    State(s): State<ApiState>,
    Path(id): Path<i64>,
) -> ApiResult<Json<ScanDiff>> {
    s.app
        .scan_detail(id)
        .await?
        .diff
        .map(Json)
        .ok_or_else(|| Failure::not_found(format!("scan {id} matched no advisories: no diff")))
}

/// Cancels a scan running in this console (it ends `cancelled`).
#[utoipa::path(post, path = "/api/v1/scans/{id}/cancel", tag = "scans",
    params(("id" = i64, Path, description = "The scan's id")),
    security(("bearer" = ["scan"])),
    responses((status = 202, description = "Cancelling"), (status = 404, body = vedette_model::ApiError)))]
pub(crate) async fn cancel(
    _: Scan,
    State(s): State<ApiState>,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    if s.app.cancel_scan(id) {
        Ok(StatusCode::ACCEPTED)
    } else {
        Err(Failure::not_found(format!(
            "scan {id} is not running in this console"
        )))
    }
}

//! Hosts over SSH: adding one (its key checked at once) and trusting the
//! key the user checked. Apart from `POST /targets` because adding a host
//! reaches out to it, and the answer says what its key check found.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use vedette_app::TargetSettings;
use vedette_model::{Exposure, HostAdded, HostSpec};

use crate::auth::Scan;
use crate::error::{ApiResult, Body, Failure, Path};
use crate::ApiState;

/// A host to watch.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewHost {
    /// `user@host[:port]` (`user@[::1]:2222` for IPv6).
    address: String,
    group: Option<String>,
    #[serde(default)]
    exposure: Option<Exposure>,
    /// More directories to look for language packages in, a bastion to go
    /// through; an `identity_file` (a key file on the console's machine)
    /// needs the admin scope.
    #[serde(default)]
    host: HostSpec,
    /// Trust the host's key if its fingerprint is this (`SHA256:…`).
    trust_host_key: Option<String>,
}

/// Watches a host; its key is checked at once (`target.added` follows on
/// the event stream). A key that is not known yet comes back with its
/// fingerprint, to check on the host and trust.
#[utoipa::path(post, path = "/api/v1/hosts", tag = "targets", request_body = NewHost,
    security(("bearer" = ["scan"])),
    responses((status = 201, body = HostAdded), (status = 400, body = vedette_model::ApiError),
              (status = 403, body = vedette_model::ApiError)))]
pub(crate) async fn add(
    Scan(token): Scan,
    State(s): State<ApiState>,
    Body(h): Body<NewHost>,
) -> ApiResult<(StatusCode, Json<HostAdded>)> {
    if h.host.identity_file.is_some() && token.scope < vedette_model::TokenScope::Admin {
        return Err(Failure::new(
            StatusCode::FORBIDDEN,
            vedette_model::ErrorCode::Forbidden,
            "an identity file is read on the console's own machine: naming one needs the admin scope (or store the key with `vedette credential add --host`)",
        ));
    }
    let settings = TargetSettings {
        group: h.group,
        exposure: h.exposure.unwrap_or_default(),
        ..TargetSettings::default()
    };
    let (target, key) = s
        .app
        .add_host(&h.address, &h.host, &settings, h.trust_host_key.as_deref())
        .await?;
    Ok((StatusCode::CREATED, Json(HostAdded { target, key })))
}

/// A fingerprint the user checked on the host.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TrustKey {
    /// `SHA256:…`, as `ssh-keygen -lf` prints it.
    fingerprint: String,
}

/// The key now trusted.
#[derive(Serialize, ToSchema)]
pub(crate) struct Trusted {
    fingerprint: String,
}

/// Trusts a host target's key when the host presents the key with this
/// fingerprint (else 400, naming the one it presents).
#[utoipa::path(post, path = "/api/v1/hosts/{id}/trust-key", tag = "targets", request_body = TrustKey,
    params(("id" = i64, Path, description = "The host target's id")),
    security(("bearer" = ["scan"])),
    responses((status = 200, body = Trusted), (status = 400, body = vedette_model::ApiError),
              (status = 404, body = vedette_model::ApiError)))]
pub(crate) async fn trust_key(
    _: Scan,
    State(s): State<ApiState>,
    Path(id): Path<i64>,
    Body(k): Body<TrustKey>,
) -> ApiResult<Json<Trusted>> {
    let fingerprint = s
        .app
        .trust_host_key(&id.to_string(), &k.fingerprint)
        .await?;
    Ok(Json(Trusted { fingerprint }))
}

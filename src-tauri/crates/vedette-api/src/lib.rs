//! Vedette's automation API: everything the window does, for scripts.
//!
//! REST over the use-case layer ([`vedette_app::App`]) under `/api/v1`, with
//! its OpenAPI 3.1 document generated from the handlers
//! (`/api/v1/openapi.json`), bearer tokens with scopes (`read` < `scan` <
//! `admin`) checked before anything of the request is interpreted, a rate
//! limit per token, request bodies capped (read whole first, so that a
//! refusal leaves the connection usable), no CORS, and the event log as
//! server-sent events (`/api/v1/events`, resumable with `Last-Event-ID`).
//!
//! The process holding the data dir's scheduler lock serves it (`vedette
//! serve`, or the desktop app when no `vedette serve` runs).

mod auth;
pub mod client;
mod error;
mod routes;
mod tls;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use vedette_app::{App, FeedSources, SchedulerContext};

pub use auth::RateLimit;
pub use error::ApiFailure;
pub use tls::{fingerprint, ConsoleTrust, ServedCertificate, TlsOptions};
pub use vedette_pin::parse_pin;

/// The API's default address: loopback only.
pub const DEFAULT_ADDRESS: &str = "127.0.0.1:7878";

/// Request bodies above this are refused (413).
pub const MAX_BODY: usize = 1024 * 1024;

/// What the handlers share.
#[derive(Clone)]
pub struct ApiState {
    pub(crate) app: App,
    pub(crate) sources: FeedSources,
    /// This process's scheduler, for "run now" (none: it runs elsewhere).
    pub(crate) scheduler: Option<SchedulerContext>,
    pub(crate) limiter: Arc<auth::Limiter>,
}

impl ApiState {
    pub fn new(
        app: App,
        sources: FeedSources,
        scheduler: Option<SchedulerContext>,
        rate: RateLimit,
    ) -> Self {
        Self {
            app,
            sources,
            scheduler,
            limiter: Arc::new(auth::limiter(rate)),
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Vedette automation API",
        description = "Targets, scans, schedules, policy, feeds, trends and the event stream of a Vedette console. Every route but health and this document needs `Authorization: Bearer <token>`; a token's scope (read < scan < admin) is listed under each operation's security.",
        license(name = "Apache-2.0")
    ),
    modifiers(&BearerScheme),
    tags(
        (name = "targets", description = "What Vedette watches"),
        (name = "scans", description = "Scans, their reports and diffs"),
        (name = "schedules", description = "Scheduled runs"),
        (name = "policy", description = "The console's gate and its exceptions"),
        (name = "feeds", description = "Advisory feeds"),
        (name = "trends", description = "Findings over time"),
        (name = "events", description = "The event stream"),
        (name = "health", description = "Liveness, without a token"),
    )
)]
struct ApiDoc;

struct BearerScheme;

/// The answers every protected operation may give besides its own: a
/// request that does not read (400), no valid token (401), too small a
/// scope (403), too many requests (429), each `{code, message}`.
fn common_errors(openapi: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    let error = |what: &str| {
        ResponseBuilder::new()
            .description(what)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ApiError")))
                    .build(),
            )
            .build()
    };
    for item in openapi.paths.paths.values_mut() {
        let ops = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for op in ops.into_iter().flatten() {
            if op.request_body.is_some() {
                op.responses
                    .responses
                    .entry("413".to_owned())
                    .or_insert_with(|| error("The body is larger than 1 MiB").into());
            }
            if op.security.is_none() {
                continue;
            }
            for (code, what) in [
                (
                    "400",
                    "The request does not read: the message says which part",
                ),
                ("401", "No valid API token"),
                ("403", "The token's scope does not allow this"),
                (
                    "429",
                    "Too many requests with this token; Retry-After says when to try again",
                ),
            ] {
                op.responses
                    .responses
                    .entry(code.to_owned())
                    .or_insert_with(|| error(what).into());
            }
        }
    }
}

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API token: `vedette api token create --name ci --scope scan`",
                    ))
                    .build(),
            ),
        );
        for (name, what) in [
            (
                "enrolment",
                "An enrolment token, for `vedette-agent`: `vedette agent token create`",
            ),
            (
                "node",
                "A node's credential, which the node received when it enrolled",
            ),
        ] {
            components.add_security_scheme(
                name,
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .description(Some(what))
                        .build(),
                ),
            );
        }
    }
}

/// The router and its OpenAPI document.
pub fn router(state: ApiState) -> (Router, utoipa::openapi::OpenApi) {
    let protected = routes::protected().route_layer(axum::middleware::from_fn_with_state(
        state.clone(),
        auth::authenticate,
    ));
    let (router, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(protected)
        .merge(routes::public())
        .merge(routes::agents())
        .split_for_parts();
    common_errors(&mut doc);
    let doc_json = Arc::new(doc.to_pretty_json().unwrap_or_default());
    let router = router
        .route(
            "/api/v1/openapi.json",
            axum::routing::get(move || {
                let doc = Arc::clone(&doc_json);
                async move {
                    (
                        [(axum::http::header::CONTENT_TYPE, "application/json")],
                        doc.as_str().to_owned(),
                    )
                }
            }),
        )
        .fallback(error::not_found)
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn(auth::read_body))
        .with_state(state);
    (router, doc)
}

/// An address the API is bound to, with the certificate it serves (none:
/// clear text, on loopback only).
pub struct Endpoint {
    listener: tokio::net::TcpListener,
    local: SocketAddr,
    tls: Option<ServedCertificate>,
}

impl Endpoint {
    /// Where clients reach it: `http://127.0.0.1:7878/api/v1` or `https://…`.
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}/api/v1", self.local)
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The certificate served, if any.
    pub fn certificate(&self) -> Option<&ServedCertificate> {
        self.tls.as_ref()
    }

    /// One line for the user: where, and how clients trust it.
    pub fn describe(&self) -> String {
        match &self.tls {
            None => format!(
                "API on {} (its document: /api/v1/openapi.json)",
                self.url()
            ),
            Some(c) if c.generated => format!(
                "API on {} with a self-signed certificate ({}), SHA-256 fingerprint {}; clients pin it: vedette --console https://HOST:{} --console-pin-sha256 {}",
                self.url(),
                c.cert_file.display(),
                c.fingerprint,
                self.local.port(),
                c.fingerprint
            ),
            Some(c) => format!(
                "API on {} with the certificate {} (SHA-256 fingerprint {})",
                self.url(),
                c.cert_file.display(),
                c.fingerprint
            ),
        }
    }
}

/// Serves the API on `endpoint` until `shutdown` resolves.
pub async fn serve(
    state: ApiState,
    endpoint: Endpoint,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (router, _) = router(state);
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    let Some(cert) = endpoint.tls else {
        return axum::serve(endpoint.listener, service)
            .with_graceful_shutdown(shutdown)
            .await;
    };
    let handle = axum_server::Handle::new();
    let stopper = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        // Event streams that follow do not end by themselves.
        stopper.graceful_shutdown(Some(std::time::Duration::from_secs(5)));
    });
    let listener = endpoint.listener.into_std()?;
    axum_server::from_tcp_rustls(
        listener,
        axum_server::tls_rustls::RustlsConfig::from_config(cert.config),
    )
    .handle(handle)
    .serve(service)
    .await
}

/// Binds the API's address: clear text on loopback (unless TLS is asked
/// for), TLS on any other address; a clear error when it is taken or the
/// certificate cannot be used.
pub async fn bind(address: &str, tls: &TlsOptions) -> Result<Endpoint, ApiFailure> {
    let addr: SocketAddr = address.parse().map_err(|_| {
        ApiFailure::Address(format!(
            "'{address}' is not an address to serve the API on; write it as 127.0.0.1:7878 (or 0.0.0.0:7878 for every interface, with TLS)"
        ))
    })?;
    let cert = tls::choose(tls, addr.ip().is_loopback())?;
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
        ApiFailure::Address(format!(
            "cannot serve the API on {addr}: {e}. Is another Vedette serving it? Choose another with --api"
        ))
    })?;
    let local = listener
        .local_addr()
        .map_err(|e| ApiFailure::Address(format!("cannot serve the API on {addr}: {e}")))?;
    Ok(Endpoint {
        listener,
        local,
        tls: cert,
    })
}

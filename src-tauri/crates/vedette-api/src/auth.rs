//! Bearer tokens: checked by a middleware before anything of the request is
//! interpreted (so a request without a valid token gets 401 whatever its
//! body or parameters), then the scope each handler asks for (403), then
//! the rate limit of the token (429).

use std::num::NonZeroU32;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::{header, request::Parts, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::{DefaultKeyedRateLimiter, Quota};
use vedette_model::{ApiToken, ErrorCode, TokenScope};

use crate::error::Failure;
use crate::ApiState;

pub(crate) type Limiter = DefaultKeyedRateLimiter<i64>;

/// Requests per second one token may make, and the burst above it.
#[derive(Debug, Clone, Copy)]
pub struct RateLimit {
    pub per_second: NonZeroU32,
    pub burst: NonZeroU32,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self {
            per_second: NonZeroU32::new(50).unwrap_or(NonZeroU32::MIN),
            burst: NonZeroU32::new(200).unwrap_or(NonZeroU32::MIN),
        }
    }
}

impl RateLimit {
    /// `VEDETTE_API_RATE` (requests per second per token; the burst is four
    /// times it), else the default.
    pub fn from_env() -> Result<Self, String> {
        match std::env::var("VEDETTE_API_RATE") {
            Ok(v) if !v.trim().is_empty() => {
                let n: u32 = v.trim().parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                    format!(
                        "VEDETTE_API_RATE: '{v}' is not a number of requests per second above 0"
                    )
                })?;
                Ok(Self {
                    per_second: NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN),
                    burst: NonZeroU32::new(n.saturating_mul(4)).unwrap_or(NonZeroU32::MIN),
                })
            }
            _ => Ok(Self::default()),
        }
    }
}

pub(crate) fn limiter(rate: RateLimit) -> Limiter {
    governor::RateLimiter::keyed(Quota::per_second(rate.per_second).allow_burst(rate.burst))
}

fn bearer(parts: &HeaderMap) -> Option<&str> {
    let v = parts.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// The live token of a request, or the 401 to answer.
pub(crate) async fn token_of(state: &ApiState, headers: &HeaderMap) -> Result<ApiToken, Failure> {
    let token = match bearer(headers) {
        None => None,
        Some(secret) => state.app.authenticate(secret).await?,
    };
    token.ok_or_else(|| {
        Failure::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthorized,
            "this needs an API token: send `Authorization: Bearer <token>` (create one with `vedette api token create` or in Settings → API)",
        )
    })
}

/// The middleware of every protected route.
pub(crate) async fn authenticate(
    State(state): State<ApiState>,
    mut req: Request,
    next: Next,
) -> Response {
    let token = match token_of(&state, req.headers()).await {
        Ok(t) => t,
        Err(f) => return f.into_response(),
    };
    if let Err(not_until) = state.limiter.check_key(&token.id) {
        let wait = not_until.wait_time_from(governor::clock::Clock::now(
            &governor::clock::DefaultClock::default(),
        ));
        let mut f = Failure::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::RateLimited,
            format!(
                "too many requests with the token '{}'; try again in {} ms",
                token.name,
                wait.as_millis().max(1)
            ),
        );
        f.retry_after = Some(wait.as_secs().max(1));
        return f.into_response();
    }
    req.extensions_mut().insert(token);
    next.run(req).await
}

/// Reads a request's body whole before anything else sees the request: at
/// most [`crate::MAX_BODY`] bytes, within [`BODY_DEADLINE`]. A request
/// refused before its handler reads the body (no token, a token without the
/// scope, the rate limit) then still leaves its connection clean for the
/// client's next request: a server that closes a socket with unread bytes
/// makes the kernel reset the connection, which can take the refusal with
/// it before the client reads it. Nothing of the body is interpreted before
/// the token is checked. A body over the cap is refused (413) and the
/// connection closed.
pub(crate) async fn read_body(req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > crate::MAX_BODY as u64) {
        return too_large(declared);
    }
    let (parts, body) = req.into_parts();
    match tokio::time::timeout(BODY_DEADLINE, axum::body::to_bytes(body, crate::MAX_BODY)).await {
        Ok(Ok(bytes)) => next.run(Request::from_parts(parts, bytes.into())).await,
        Ok(Err(_)) => too_large(None),
        Err(_) => closing(Failure::new(
            StatusCode::REQUEST_TIMEOUT,
            ErrorCode::InvalidInput,
            format!(
                "the body did not arrive within {} s; send it whole",
                BODY_DEADLINE.as_secs()
            ),
        )),
    }
}

/// How long a request's body may take to arrive.
const BODY_DEADLINE: std::time::Duration = std::time::Duration::from_secs(30);

/// 413: the body is over the cap (its size when it was declared).
fn too_large(declared: Option<u64>) -> Response {
    let size = declared.map_or_else(
        || format!("over {} bytes", crate::MAX_BODY),
        |n| format!("{n} bytes"),
    );
    closing(Failure::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::InvalidInput,
        format!(
            "the body is {size}; the API reads at most {} (1 MiB)",
            crate::MAX_BODY
        ),
    ))
}

/// A refusal after which the connection cannot be used again (part of
/// the body is unread): the answer says it closes.
fn closing(f: Failure) -> Response {
    let mut r = f.into_response();
    r.headers_mut().insert(
        header::CONNECTION,
        header::HeaderValue::from_static("close"),
    );
    r
}

/// The token of a request that passed [`authenticate`], checked for a scope.
fn scoped(parts: &Parts, need: TokenScope) -> Result<ApiToken, Failure> {
    let token = parts.extensions.get::<ApiToken>().cloned().ok_or_else(|| {
        Failure::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthorized,
            "this needs an API token",
        )
    })?;
    if token.scope < need {
        return Err(Failure::new(
            StatusCode::FORBIDDEN,
            ErrorCode::Forbidden,
            format!(
                "the token '{}' has the {} scope; this needs {need}. Create one with `vedette api token create --scope {need}`",
                token.name, token.scope
            ),
        ));
    }
    Ok(token)
}

macro_rules! scope_extractor {
    ($name:ident, $scope:expr) => {
        /// A request whose token has this scope (or a larger one).
        pub struct $name(#[allow(dead_code)] pub ApiToken);

        impl<S: Send + Sync> FromRequestParts<S> for $name {
            type Rejection = Failure;

            async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Failure> {
                scoped(parts, $scope).map($name)
            }
        }
    };
}

scope_extractor!(Read, TokenScope::Read);
scope_extractor!(Scan, TokenScope::Scan);
scope_extractor!(Admin, TokenScope::Admin);

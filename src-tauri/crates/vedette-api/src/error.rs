//! Every error the API returns: a status and `{code, message}`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use vedette_app::AppError;
use vedette_model::{ApiError, ErrorCode};

/// Starting the API went wrong.
#[derive(Debug, thiserror::Error)]
pub enum ApiFailure {
    #[error("{0}")]
    Address(String),
    /// The API's TLS certificate cannot be used or made.
    #[error("{0}")]
    Tls(String),
}

/// An error response.
#[derive(Debug)]
pub struct Failure {
    pub status: StatusCode,
    pub body: ApiError,
    pub retry_after: Option<u64>,
}

impl Failure {
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status,
            body: ApiError::new(code, message),
            retry_after: None,
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorCode::InvalidInput, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, message)
    }
}

impl From<AppError> for Failure {
    fn from(e: AppError) -> Self {
        let transient = e.is_transient();
        let body = ApiError::from(e);
        let status = match body.code {
            ErrorCode::InvalidInput => StatusCode::BAD_REQUEST,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::Busy => StatusCode::CONFLICT,
            ErrorCode::Unavailable | ErrorCode::KeyringUnavailable => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorCode::Forbidden => StatusCode::FORBIDDEN,
            ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Self {
            status,
            body,
            retry_after: transient.then_some(30),
        }
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let mut r = (self.status, axum::Json(self.body)).into_response();
        if let Some(s) = self.retry_after {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"vedette\""),
            );
        }
        r
    }
}

pub type ApiResult<T> = Result<T, Failure>;

/// An unknown path: 401 without a valid token (no path is a way around
/// it), else 404.
pub async fn not_found(
    axum::extract::State(state): axum::extract::State<crate::ApiState>,
    headers: axum::http::HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    if let Err(f) = crate::auth::token_of(&state, &headers).await {
        return f.into_response();
    }
    Failure::not_found(format!(
        "there is no {} in this API; /api/v1/openapi.json lists the routes",
        uri.path()
    ))
    .into_response()
}

/// axum's rejections (a body that is not the JSON asked for, a path id that
/// is not a number, a query that does not read) as `{code, message}`.
macro_rules! rejection {
    ($($t:ty),*) => {$(
        impl From<$t> for Failure {
            fn from(r: $t) -> Self {
                // A body too large keeps its 413; every other request that
                // does not read (not JSON, wrong fields) is a 400.
                let status = match r.status() {
                    StatusCode::PAYLOAD_TOO_LARGE => StatusCode::PAYLOAD_TOO_LARGE,
                    _ => StatusCode::BAD_REQUEST,
                };
                Failure::new(status, ErrorCode::InvalidInput, r.body_text())
            }
        }
    )*};
}

rejection!(
    axum::extract::rejection::JsonRejection,
    axum::extract::rejection::PathRejection,
    axum::extract::rejection::QueryRejection
);

/// A JSON body, its rejection as `{code, message}`.
#[derive(axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(Failure))]
pub struct Body<T>(pub T);

/// Path parameters, their rejection as `{code, message}`.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(Failure))]
pub struct Path<T>(pub T);

/// Query parameters, their rejection as `{code, message}`.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(Failure))]
pub struct Query<T>(pub T);

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Error codes the UI branches on. Add one only when the UI needs to act
/// differently; the message is for people and is never matched on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ErrorCode {
    /// The input was refused; the message says which field and why.
    InvalidInput,
    /// The OS keyring (Secret Service) cannot be reached or is locked.
    KeyringUnavailable,
    NotFound,
    /// A part of the app is not running here (the scheduler, when
    /// `vedette serve` holds the data dir); the message says where it is.
    Unavailable,
    /// The same work is being done already (a scan of that target, a run
    /// of that schedule); try again when it ends.
    Busy,
    /// The API was called without a valid token.
    Unauthorized,
    /// The API token's scope does not allow this.
    Forbidden,
    /// Too many API requests with this token; `Retry-After` says when.
    RateLimited,
    Internal,
}

/// An error as it crosses the IPC boundary: `{code, message}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ApiError {}

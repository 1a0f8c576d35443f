//! The use-case layer's one error type: what went wrong, for people (the
//! message) and for code (the kind, whether trying again may help), mapped
//! to the `{code, message}` the window and the API return and to the CLI's
//! exit codes.

use vedette_model::{ApiError, ErrorCode};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// What was given is wrong; the message says which part and why.
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    /// The work could not be done now (a registry refused, a source is
    /// down, a part of Vedette runs elsewhere). `transient`: trying again
    /// later may work.
    #[error("{message}")]
    Unavailable { message: String, transient: bool },
    /// The same thing is being done already.
    #[error("{0}")]
    Busy(String),
    /// A credential (an enrolment token, a node's credential) was refused.
    #[error("{0}")]
    Unauthorized(String),
    #[error("cancelled")]
    Cancelled,
    /// The OS keyring cannot be reached or is locked.
    #[error("{0}")]
    Keyring(String),
    #[error(transparent)]
    Store(#[from] vedette_store::StoreError),
    #[error(transparent)]
    Feeds(#[from] vedette_feeds::FeedError),
    #[error(transparent)]
    Open(#[from] crate::OpenError),
    #[error("{0}")]
    Internal(String),
}

pub type Result<T, E = AppError> = std::result::Result<T, E>;

impl AppError {
    pub fn invalid(m: impl std::fmt::Display) -> Self {
        AppError::Invalid(m.to_string())
    }

    pub fn unavailable(m: impl std::fmt::Display) -> Self {
        AppError::Unavailable {
            message: m.to_string(),
            transient: false,
        }
    }

    /// The code the window and the API branch on.
    pub fn code(&self) -> ErrorCode {
        match self {
            AppError::Invalid(_) => ErrorCode::InvalidInput,
            AppError::Store(vedette_store::StoreError::Invalid(_)) => ErrorCode::InvalidInput,
            AppError::Feeds(vedette_feeds::FeedError::Invalid(_)) => ErrorCode::InvalidInput,
            AppError::NotFound(_) => ErrorCode::NotFound,
            AppError::Busy(_) => ErrorCode::Busy,
            AppError::Unauthorized(_) => ErrorCode::Unauthorized,
            AppError::Unavailable { .. } | AppError::Cancelled => ErrorCode::Unavailable,
            AppError::Feeds(
                vedette_feeds::FeedError::Download { .. }
                | vedette_feeds::FeedError::Corrupt { .. },
            ) => ErrorCode::Unavailable,
            AppError::Keyring(_) => ErrorCode::KeyringUnavailable,
            _ => ErrorCode::Internal,
        }
    }

    /// Worth trying again later.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            AppError::Unavailable {
                transient: true,
                ..
            } | AppError::Busy(_)
        )
    }

    /// The CLI's exit code: 2 for what the user gives, 130 cancelled, else 3.
    pub fn exit_code(&self) -> u8 {
        match self.code() {
            ErrorCode::InvalidInput | ErrorCode::NotFound => 2,
            _ if matches!(self, AppError::Cancelled) => 130,
            _ => 3,
        }
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        let code = e.code();
        if code == ErrorCode::Internal {
            tracing::error!("{e}");
        }
        ApiError::new(code, e.to_string())
    }
}

impl From<vedette_cloud::CredentialError> for AppError {
    fn from(e: vedette_cloud::CredentialError) -> Self {
        use vedette_cloud::{CredentialError as C, SecretError};
        match e {
            C::Invalid(m) => AppError::Invalid(m),
            C::NotFound(m) => AppError::NotFound(m),
            C::Secret(e @ SecretError::Refused { .. }) => AppError::Invalid(e.to_string()),
            C::Secret(e) => AppError::Keyring(e.to_string()),
            C::Store(e) => AppError::Store(e),
            C::Join(e) => AppError::Internal(e.to_string()),
        }
    }
}

impl From<vedette_scan::Failure> for AppError {
    fn from(f: vedette_scan::Failure) -> Self {
        use vedette_scan::ErrorKind;
        let transient = f.error.is_transient();
        match (f.error.kind(), f.error) {
            (_, vedette_scan::ScanError::Busy(m)) => {
                AppError::Busy(format!("{m} is being scanned already"))
            }
            (ErrorKind::Input, e) => AppError::Invalid(e.to_string()),
            (ErrorKind::Cancelled, _) => AppError::Cancelled,
            (ErrorKind::Unavailable, e) => AppError::Unavailable {
                message: e.to_string(),
                transient,
            },
        }
    }
}

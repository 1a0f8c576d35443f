//! How a scan can fail, typed end to end: front ends map [`ErrorKind`] to
//! an exit code or an `{code, message}`, and print the message.

use std::time::Duration;

use vedette_engine::EngineError;
use vedette_engine::SourceError;
use vedette_model::TargetKind;

/// Why a scan did not finish.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Store(#[from] vedette_store::StoreError),
    #[error(transparent)]
    Feeds(#[from] vedette_feeds::FeedError),
    #[error("the scan was cancelled")]
    Cancelled,
    #[error("the scan did not finish within {} (the limit; raise it with {} or {} if the target is genuine and slow)", humantime::format_duration(*.0), vedette_model::ScanLimits::TIMEOUT.flag, vedette_model::ScanLimits::TIMEOUT.env)]
    TimedOut(Duration),
    #[error("{} targets are not scanned this way", .0.as_str())]
    NotScannable(TargetKind),
    #[error("{0} is being scanned already; this scan was not started")]
    Busy(String),
}

/// What kind of failure, for exit codes and API error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// What was given is wrong (a bad reference, a file that is not an
    /// SBOM, a platform that does not parse): the user fixes the input.
    Input,
    /// The scan could not be done (a registry refused, a limit was hit, the
    /// deadline passed, the disk is full).
    Unavailable,
    Cancelled,
}

impl ScanError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            ScanError::Engine(
                EngineError::BadPlatform(_)
                | EngineError::BadSbom { .. }
                | EngineError::Read { .. }
                | EngineError::Source(SourceError::BadReference { .. }),
            )
            | ScanError::NotScannable(_) => ErrorKind::Input,
            ScanError::Cancelled => ErrorKind::Cancelled,
            _ => ErrorKind::Unavailable,
        }
    }

    /// Worth trying again later (a download broke off).
    pub fn is_transient(&self) -> bool {
        matches!(self, ScanError::Engine(e) if e.is_transient())
    }
}

/// A scan that failed, and its id in the history when it got one.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct Failure {
    pub scan_id: Option<i64>,
    #[source]
    pub error: ScanError,
}

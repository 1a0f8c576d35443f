//! A client of a running console's API, for `vedette --console URL`: the
//! same use cases, over HTTP, with the console's errors as they came.

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::Value;
use vedette_model::{
    ApiError, ErrorCode, ScanReport, ScanSummary, ScansStarted, ScheduleView, TargetInfo,
    TargetView,
};

/// What went wrong talking to a console.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The console answered with an error.
    #[error("the console refused: {}", .0.message)]
    Refused(ApiError),
    #[error("cannot reach the console at {url}: {reason}. Is `vedette serve` running there, and is the address right (--console, VEDETTE_CONSOLE)?")]
    Unreachable { url: String, reason: String },
    #[error("the console's answer does not read: {0}")]
    Garbled(String),
}

impl ClientError {
    /// The error code the console gave (or what stands for it).
    pub fn code(&self) -> ErrorCode {
        match self {
            ClientError::Refused(e) => e.code,
            ClientError::Unreachable { .. } => ErrorCode::Unavailable,
            ClientError::Garbled(_) => ErrorCode::Internal,
        }
    }
}

/// A scan as the console shows it.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct RemoteScan {
    pub scan: ScanSummary,
    pub report: Option<ScanReport>,
}

/// A console's API, reached with a token.
pub struct Console {
    base: String,
    token: String,
    http: reqwest::Client,
}

/// Answers above this are not read (a report of a large image is far below).
const MAX_ANSWER: usize = 256 * 1024 * 1024;

impl Console {
    pub fn new(base: &str, token: &str) -> Result<Self, ClientError> {
        let base = base.trim().trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(ClientError::Unreachable {
                url: base,
                reason: "the console's address is a URL: http://host:7878".into(),
            });
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .user_agent(concat!("vedette/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientError::Garbled(e.to_string()))?;
        Ok(Self {
            base,
            token: token.trim().to_owned(),
            http,
        })
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<T, ClientError> {
        let url = format!("{}{path}", self.base);
        let mut req = self.http.request(method, &url).bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.map_err(|e| ClientError::Unreachable {
            url: self.base.clone(),
            reason: e.without_url().to_string(),
        })?;
        let status = resp.status();
        if resp.content_length().unwrap_or(0) > MAX_ANSWER as u64 {
            return Err(ClientError::Garbled("the answer is too large".into()));
        }
        let bytes = resp.bytes().await.map_err(|e| ClientError::Unreachable {
            url: self.base.clone(),
            reason: e.without_url().to_string(),
        })?;
        if bytes.len() > MAX_ANSWER {
            return Err(ClientError::Garbled("the answer is too large".into()));
        }
        if !status.is_success() {
            return Err(ClientError::Refused(
                serde_json::from_slice::<ApiError>(&bytes).unwrap_or_else(|_| {
                    ApiError::new(
                        ErrorCode::Internal,
                        format!("HTTP {status} from {}", self.base),
                    )
                }),
            ));
        }
        let bytes = if bytes.is_empty() {
            &b"null"[..]
        } else {
            &bytes[..]
        };
        serde_json::from_slice(bytes).map_err(|e| ClientError::Garbled(e.to_string()))
    }

    pub async fn targets(&self) -> Result<Vec<TargetView>, ClientError> {
        self.call(reqwest::Method::GET, "/api/v1/targets", None)
            .await
    }

    pub async fn add_target(&self, body: &Value) -> Result<TargetInfo, ClientError> {
        self.call(reqwest::Method::POST, "/api/v1/targets", Some(body))
            .await
    }

    pub async fn remove_target(&self, id: i64) -> Result<TargetInfo, ClientError> {
        self.call(
            reqwest::Method::DELETE,
            &format!("/api/v1/targets/{id}"),
            None,
        )
        .await
    }

    pub async fn scans(&self, limit: i64) -> Result<Vec<ScanSummary>, ClientError> {
        self.call(
            reqwest::Method::GET,
            &format!("/api/v1/scans?limit={limit}"),
            None,
        )
        .await
    }

    pub async fn start_scan(&self, body: &Value) -> Result<ScansStarted, ClientError> {
        self.call(reqwest::Method::POST, "/api/v1/scans", Some(body))
            .await
    }

    pub async fn scan(&self, id: i64) -> Result<RemoteScan, ClientError> {
        self.call(reqwest::Method::GET, &format!("/api/v1/scans/{id}"), None)
            .await
    }

    pub async fn scan_diff(&self, id: i64) -> Result<vedette_model::ScanDiff, ClientError> {
        self.call(
            reqwest::Method::GET,
            &format!("/api/v1/scans/{id}/diff"),
            None,
        )
        .await
    }

    pub async fn cancel_scan(&self, id: i64) -> Result<(), ClientError> {
        self.call::<Value>(
            reqwest::Method::POST,
            &format!("/api/v1/scans/{id}/cancel"),
            None,
        )
        .await
        .map(|_| ())
    }

    pub async fn schedules(&self) -> Result<Vec<ScheduleView>, ClientError> {
        self.call(reqwest::Method::GET, "/api/v1/schedules", None)
            .await
    }

    pub async fn run_schedule(&self, id: i64) -> Result<(), ClientError> {
        self.call::<Value>(
            reqwest::Method::POST,
            &format!("/api/v1/schedules/{id}/run"),
            None,
        )
        .await
        .map(|_| ())
    }
}

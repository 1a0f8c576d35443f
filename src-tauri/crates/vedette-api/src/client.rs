//! A client of a running console's API, for `vedette --console URL`: the
//! same use cases, over HTTP, with the console's errors as they came.

use std::time::Duration;

use crate::tls::ConsoleTrust;
use serde::de::DeserializeOwned;
use serde_json::Value;
use vedette_model::{
    ApiError, ErrorCode, ScanReport, ScanSummary, ScansStarted, ScheduleView, TargetInfo,
    TargetView,
};
use vedette_pin::parse_pin;

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
    /// `--console-ca` or `--console-pin-sha256` cannot be used.
    #[error("{0}")]
    Trust(String),
}

impl ClientError {
    /// The error code the console gave (or what stands for it).
    pub fn code(&self) -> ErrorCode {
        match self {
            ClientError::Refused(e) => e.code,
            ClientError::Unreachable { .. } => ErrorCode::Unavailable,
            ClientError::Garbled(_) => ErrorCode::Internal,
            ClientError::Trust(_) => ErrorCode::InvalidInput,
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

/// A client that trusts the console as `trust` says: its pinned
/// certificate only, or a CA file besides the usual roots.
pub fn trusting(
    builder: reqwest::ClientBuilder,
    trust: &ConsoleTrust,
) -> Result<reqwest::ClientBuilder, ClientError> {
    let bad = ClientError::Trust;
    if let Some(pin) = &trust.pin_sha256 {
        let pin = parse_pin(pin).map_err(bad)?;
        let config = vedette_pin::pinned_client(pin).map_err(bad)?;
        return Ok(builder.use_preconfigured_tls(config));
    }
    let Some(file) = &trust.ca_file else {
        return Ok(builder);
    };
    let pem = std::fs::read(file)
        .map_err(|e| bad(format!("cannot read the CA file {}: {e}", file.display())))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
        bad(format!(
            "{} does not read as PEM certificates: {e}",
            file.display()
        ))
    })?;
    if certs.is_empty() {
        return Err(bad(format!(
            "{} holds no certificate (-----BEGIN CERTIFICATE-----)",
            file.display()
        )));
    }
    Ok(certs
        .into_iter()
        .fold(builder, reqwest::ClientBuilder::add_root_certificate))
}

/// Why a request failed, down to its cause (a refused connection, a
/// certificate that is not trusted, a pin that does not match).
fn reason(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "no answer in time"
    } else if e.is_connect() {
        "cannot connect"
    } else if e.is_body() || e.is_decode() {
        "the answer broke off"
    } else {
        "the request failed"
    };
    let mut parts = vec![what.to_owned()];
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(tls) = vedette_pin::tls_failure(
            s,
            "Trust it with --console-ca FILE (its CA, or the certificate itself), or pin it with --console-pin-sha256 (the fingerprint `vedette serve` prints)",
        ) {
            parts.push(tls);
            break;
        }
        parts.push(s.to_string());
        source = s.source();
    }
    parts.dedup();
    parts.join(": ")
}

/// Answers above this are not read (a report of a large image is far below).
const MAX_ANSWER: usize = 256 * 1024 * 1024;

impl Console {
    /// A console at `base` (`http://127.0.0.1:7878`, `https://console:7878`),
    /// its certificate trusted as `trust` says (besides the usual roots).
    pub fn new(base: &str, token: &str, trust: &ConsoleTrust) -> Result<Self, ClientError> {
        let base = base.trim().trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(ClientError::Unreachable {
                url: base,
                reason: "the console's address is a URL: http://host:7878".into(),
            });
        }
        let http = trusting(
            reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(10))
                .timeout(Duration::from_secs(120))
                .user_agent(concat!("vedette/", env!("CARGO_PKG_VERSION"))),
            trust,
        )?
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
            reason: reason(&e),
        })?;
        let status = resp.status();
        if resp.content_length().unwrap_or(0) > MAX_ANSWER as u64 {
            return Err(ClientError::Garbled("the answer is too large".into()));
        }
        let bytes = resp.bytes().await.map_err(|e| ClientError::Unreachable {
            url: self.base.clone(),
            reason: reason(&e),
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

    /// Every target, a page at a time.
    pub async fn targets(&self) -> Result<Vec<TargetView>, ClientError> {
        let limit = crate::routes::targets::MAX_PAGE;
        let mut all = Vec::new();
        loop {
            let page: Vec<TargetView> = self
                .call(
                    reqwest::Method::GET,
                    &format!("/api/v1/targets?offset={}&limit={limit}", all.len()),
                    None,
                )
                .await?;
            let last = page.len() < limit;
            all.extend(page);
            if last {
                return Ok(all);
            }
        }
    }

    pub async fn add_target(&self, body: &Value) -> Result<TargetInfo, ClientError> {
        self.call(reqwest::Method::POST, "/api/v1/targets", Some(body))
            .await
    }

    pub async fn add_host(&self, body: &Value) -> Result<vedette_model::HostAdded, ClientError> {
        self.call(reqwest::Method::POST, "/api/v1/hosts", Some(body))
            .await
    }

    /// Trusts a host target's key; the fingerprint trusted.
    pub async fn trust_host_key(&self, id: i64, fingerprint: &str) -> Result<String, ClientError> {
        let v: Value = self
            .call(
                reqwest::Method::POST,
                &format!("/api/v1/hosts/{id}/trust-key"),
                Some(&serde_json::json!({ "fingerprint": fingerprint })),
            )
            .await?;
        Ok(v["fingerprint"].as_str().unwrap_or(fingerprint).to_owned())
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

//! Conditional downloads with retries. A body is written to a temp file and
//! only handed over complete: a cut connection is an error, never a short file.

use std::time::Duration;

use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::{FeedError, Result};

/// Retries of transient failures (connection errors, 5xx, 429, a cut body):
/// `attempts` tries, waiting `backoff`, then twice that, and so on (a 429's
/// `Retry-After` is honoured up to `max_wait`).
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    pub attempts: u32,
    pub backoff: Duration,
    pub max_wait: Duration,
    /// Whether a source that cannot be reached, or that stalls, is tried
    /// again. The advisory feeds a scan needs are; enrichment sources are
    /// not (one connection, then the failure is remembered).
    pub unreachable: bool,
    /// The longest one request may take.
    pub timeout: Duration,
    /// The longest the answer may take to begin (its status line and
    /// headers): a server that accepts and never answers costs this much.
    pub first_byte: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            attempts: 4,
            backoff: Duration::from_millis(500),
            max_wait: Duration::from_secs(30),
            unreachable: true,
            timeout: vedette_model::ScanLimits::default().http_timeout,
            first_byte: Duration::from_secs(30),
        }
    }
}

pub(crate) enum Fetched {
    NotModified,
    Missing,
    New {
        file: tempfile::NamedTempFile,
        etag: Option<String>,
        last_modified: Option<String>,
        sha256: String,
    },
}

enum Attempt {
    Done(Fetched),
    Retry(String, Option<Duration>),
    Fail(String),
}

pub(crate) async fn fetch(
    client: &reqwest::Client,
    url: &str,
    auth: Option<&crate::MirrorAuth>,
    etag: Option<&str>,
    last_modified: Option<&str>,
    temp_dir: &std::path::Path,
    retry: Retry,
) -> Result<Fetched> {
    let mut wait = retry.backoff;
    let mut last = String::new();
    for attempt in 1..=retry.attempts.max(1) {
        match once(client, url, auth, etag, last_modified, temp_dir, retry).await {
            Attempt::Done(f) => return Ok(f),
            Attempt::Fail(reason) => {
                return Err(FeedError::Download {
                    url: url.to_owned(),
                    reason,
                })
            }
            Attempt::Retry(reason, after) => {
                tracing::warn!("{url}: {reason} (attempt {attempt} of {})", retry.attempts);
                last = reason;
                if attempt < retry.attempts {
                    let pause = after.unwrap_or(wait).min(retry.max_wait);
                    tokio::time::sleep(pause).await;
                    wait = wait.saturating_mul(2);
                }
            }
        }
    }
    Err(FeedError::Download {
        url: url.to_owned(),
        reason: format!("{last} (gave up after {} attempts)", retry.attempts),
    })
}

async fn once(
    client: &reqwest::Client,
    url: &str,
    auth: Option<&crate::MirrorAuth>,
    etag: Option<&str>,
    last_modified: Option<&str>,
    temp_dir: &std::path::Path,
    retry: Retry,
) -> Attempt {
    // A source that refuses or stalls is retried only when asked.
    let unreachable = |reason: String| {
        if retry.unreachable {
            Attempt::Retry(reason, None)
        } else {
            Attempt::Fail(reason)
        }
    };
    let mut req = client.get(url).timeout(retry.timeout);
    if let Some(a) = auth {
        req = req.basic_auth(&a.username, Some(a.secret.expose()));
    }
    if let Some(e) = etag {
        req = req.header(reqwest::header::IF_NONE_MATCH, e);
    }
    if let Some(lm) = last_modified {
        req = req.header(reqwest::header::IF_MODIFIED_SINCE, lm);
    }
    let resp = match tokio::time::timeout(retry.first_byte, req.send()).await {
        Err(_) => {
            return unreachable(format!(
                "the server did not begin to answer within {} s",
                retry.first_byte.as_secs()
            ))
        }
        Ok(Ok(r)) => r,
        Ok(Err(e)) if e.is_connect() || e.is_timeout() => return unreachable(describe(&e)),
        Ok(Err(e)) => return Attempt::Retry(describe(&e), None),
    };
    let status = resp.status();
    if status == reqwest::StatusCode::NOT_MODIFIED {
        return Attempt::Done(Fetched::NotModified);
    }
    if status == reqwest::StatusCode::NOT_FOUND {
        return Attempt::Done(Fetched::Missing);
    }
    if status == reqwest::StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        let after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        return Attempt::Retry(format!("the server answered {status}"), after);
    }
    if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
        return Attempt::Fail(format!(
            "the server answered {status}: the mirror wants credentials{}; store them with `vedette credential add --feed-mirror {} --username USER`",
            if auth.is_some() { ", and refused the ones Vedette has" } else { "" },
            vedette_model::url_origin(url).unwrap_or_else(|| url.to_owned())
        ));
    }
    if !status.is_success() {
        return Attempt::Fail(format!("the server answered {status}"));
    }
    let header = |name: reqwest::header::HeaderName| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let new_etag = header(reqwest::header::ETAG);
    let new_lm = header(reqwest::header::LAST_MODIFIED);
    let expected = resp.content_length();
    let file = match tempfile::Builder::new()
        .prefix(".download-")
        .tempfile_in(temp_dir)
    {
        Ok(f) => f,
        Err(e) => {
            return Attempt::Fail(format!(
                "cannot create a temp file in {}: {e}",
                temp_dir.display()
            ))
        }
    };
    let mut out = match file.reopen() {
        Ok(f) => tokio::fs::File::from_std(f),
        Err(e) => return Attempt::Fail(format!("cannot write a temp file: {e}")),
    };
    let mut hasher = Sha256::new();
    let mut got: u64 = 0;
    let mut body = resp.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) => {
                let reason = format!("the download broke off after {got} bytes: {}", describe(&e));
                return if e.is_timeout() {
                    unreachable(reason)
                } else {
                    Attempt::Retry(reason, None)
                };
            }
        };
        hasher.update(&chunk);
        got += chunk.len() as u64;
        if let Err(e) = out.write_all(&chunk).await {
            return Attempt::Fail(format!("cannot write the download to disk: {e}"));
        }
    }
    if let Some(n) = expected {
        if n != got {
            return Attempt::Retry(format!("the download broke off: {got} of {n} bytes"), None);
        }
    }
    if let Err(e) = out.flush().await {
        return Attempt::Fail(format!("cannot write the download to disk: {e}"));
    }
    Attempt::Done(Fetched::New {
        file,
        etag: new_etag,
        last_modified: new_lm,
        sha256: hex::encode(hasher.finalize()),
    })
}

fn describe(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

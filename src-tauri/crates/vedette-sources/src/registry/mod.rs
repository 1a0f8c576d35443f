//! An OCI / Docker registry client: anonymous, basic and bearer-token auth,
//! manifest lists with platform choice, layers streamed, inflated and
//! checked against their digests, 429 `Retry-After` and 5xx retries.
//!
//! Why not the `oci-client` crate: it neither retries nor exposes response
//! headers on errors, so it cannot honour `Retry-After` or Docker Hub's
//! rate-limit headers, which scheduled crawls of whole registries need.

pub mod azure;
pub mod docker_config;
pub mod dockerhub;
pub mod gcp;
pub mod ghcr;
pub mod gitlab;
pub mod harbor;
pub mod manifest;
mod trust;

/// Most pages of one listing followed.
const MAX_PAGES: usize = 10_000;

/// The pages of one listing read so far: a page asked twice (a server
/// paging in a loop) or more than [`MAX_PAGES`] of them end the listing
/// with an error instead of looping on.
#[derive(Default)]
pub struct Pages(std::collections::HashSet<String>);

impl Pages {
    /// Notes that `page` is about to be read from `server` for `what`.
    pub fn visit(&mut self, page: &str, server: &str, what: &str) -> Result<(), SourceError> {
        if !self.0.insert(page.to_owned()) || self.0.len() > MAX_PAGES {
            return Err(SourceError::Registry(format!(
                "{server} keeps paging {what} in a loop (at {page}); it is misbehaving, try again later"
            )));
        }
        Ok(())
    }
}

/// An image as a registry's own API lists it (Harbor's artifacts, ECR's
/// image details): its digest, when it was pushed, its tags, and whether it
/// is an index (several platforms).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    pub digest: String,
    pub push_time: Option<String>,
    pub tags: Vec<String>,
    pub index: bool,
}

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use reqwest::{header, Response, StatusCode};
use sha2::{Digest, Sha256};
use vedette_extract::Cataloger;
use vedette_model::Sensitive;

use crate::layers::{read_layer, Compression, LayerDelta};
use crate::{Budget, ImageInfo, LayerInfo, Reference, SourceError};
use manifest::{AnyManifest, ImageConfig, Platform};

/// Largest manifest or config accepted (real ones are a few kB).
const MAX_DOCUMENT: usize = 4 * 1024 * 1024;
/// Largest page of a listing accepted: a registry that does not page its
/// tag list sends it whole (a million tags is about 20 MiB).
const MAX_LISTING: usize = 64 * 1024 * 1024;
/// Longest `Retry-After` honoured; a registry asking for more gets an error.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(120);

/// The user name that says the secret is an identity token (an OAuth2
/// refresh token), as Docker's config and credential helpers write it.
pub const IDENTITY_TOKEN_USER: &str = "<token>";

/// A user name and password or token for one registry.
#[derive(Debug, Clone)]
pub struct Credential {
    pub username: String,
    pub secret: Sensitive<String>,
}

#[derive(Debug, Clone)]
pub struct Options {
    /// Allow plain HTTP and certificates that do not verify.
    pub insecure: bool,
    pub platform: Platform,
    /// Layers fetched and inflated at once.
    pub concurrency: usize,
    /// Attempts for one request on 429, 5xx or a dropped connection.
    pub attempts: u32,
    /// First backoff after a failure; doubled each time.
    pub backoff: Duration,
    /// Spaces the requests to the registry (shared by every client of one
    /// registry in a run), if set.
    pub rate: Option<Arc<RateLimiter>>,
    /// Entries per page asked of the catalog and tag-list APIs.
    pub page_size: usize,
    /// The scan's limits (HTTP timeout, kept bytes) and its stop flag.
    pub budget: Budget,
}

/// Spaces requests to one registry: at most `per_second` start each second,
/// evenly (a request waits for its slot). Shared by all the scans of a run
/// against that registry, and with a [`SharedPace`] by every process that
/// keeps it (workers on several machines). Hand-written because it is a
/// dozen lines: one deadline behind a lock (the `governor` crate's GCRA
/// does the same with bursts, which a crawl does not need, and only in one
/// process).
#[derive(Debug)]
pub struct RateLimiter {
    per_second: Option<f64>,
    interval: Duration,
    next: tokio::sync::Mutex<tokio::time::Instant>,
    shared: Option<Arc<dyn SharedPace>>,
}

/// A pace that other processes keep too (the team's database): each
/// request reserves the next free slot, an interval after the one before
/// it, whoever took that.
pub trait SharedPace: Send + Sync + std::fmt::Debug {
    /// Reserves the next free slot, `interval` after the previous one: how
    /// long to wait for it.
    fn reserve(&self, interval: Duration) -> Reservation<'_>;
}

/// A [`SharedPace`]'s reservation: how long to wait for the slot, or why
/// none could be reserved.
pub type Reservation<'a> =
    futures_util::future::BoxFuture<'a, Result<Duration, Box<dyn std::error::Error + Send + Sync>>>;

impl RateLimiter {
    pub fn per_second(per_second: f64) -> Self {
        let limit = (per_second.is_finite() && per_second > 0.0).then_some(per_second);
        Self {
            per_second: limit,
            interval: Duration::from_secs_f64((1.0 / limit.unwrap_or(f64::MAX)).min(3600.0)),
            next: tokio::sync::Mutex::new(tokio::time::Instant::now()),
            shared: None,
        }
    }

    /// At most `per_second`, counted by `pace` across every process that
    /// keeps it.
    pub fn shared(per_second: f64, pace: Arc<dyn SharedPace>) -> Self {
        Self {
            shared: Some(pace),
            ..Self::per_second(per_second)
        }
    }

    /// The limit, in requests per second (none: unlimited).
    pub fn limit(&self) -> Option<f64> {
        self.per_second
    }

    /// Waits for the next free slot.
    pub async fn wait(&self) {
        if let Some(pace) = &self.shared {
            match pace.reserve(self.interval).await {
                Ok(wait) => return tokio::time::sleep(wait).await,
                // The request still waits its turn in this process.
                Err(e) => tracing::warn!(
                    "cannot reserve a request in the shared rate limit ({e}); pacing this process alone"
                ),
            }
        }
        let mut next = self.next.lock().await;
        let now = tokio::time::Instant::now();
        if *next > now {
            tokio::time::sleep_until(*next).await;
        }
        *next = (*next).max(now) + self.interval;
    }
}

impl Default for Options {
    fn default() -> Self {
        Self {
            insecure: false,
            platform: Platform {
                os: "linux".into(),
                architecture: "amd64".into(),
                variant: None,
            },
            concurrency: 3,
            attempts: 5,
            backoff: Duration::from_millis(500),
            rate: None,
            page_size: 100,
            budget: Budget::default(),
        }
    }
}

/// Progress of a pull, for a progress bar; observe only.
pub trait Progress: Send + Sync {
    fn layer_started(&self, _digest: &str, _size: u64) {}
    fn bytes(&self, _n: u64) {}
    fn layer_done(&self, _digest: &str) {}
}

impl Progress for () {}

pub struct Client {
    /// One HTTP client per host: each trusts the platform's roots and the
    /// host's own CA files and client certificate (see [`trust`]).
    https: Mutex<HashMap<String, reqwest::Client>>,
    certs_roots: Vec<std::path::PathBuf>,
    options: Options,
    credential: Option<Credential>,
    /// Bearer tokens by realm+scope; the scheme (https/http) by host.
    tokens: Mutex<HashMap<String, String>>,
    schemes: Mutex<HashMap<String, &'static str>>,
    /// The auth last answered for a host and scope.
    auths: Mutex<HashMap<String, Auth>>,
    /// What the stored credential logs in as, once a service account's key
    /// has been traded for an access token (see [`gcp`]).
    login: tokio::sync::OnceCell<Option<Credential>>,
}

#[derive(Clone)]
enum Auth {
    None,
    Basic,
    Bearer(String),
}

impl Client {
    pub fn new(options: Options, credential: Option<Credential>) -> Result<Self, SourceError> {
        Ok(Self {
            https: Mutex::new(HashMap::new()),
            certs_roots: trust::certs_roots(),
            options,
            credential,
            tokens: Mutex::new(HashMap::new()),
            schemes: Mutex::new(HashMap::new()),
            auths: Mutex::new(HashMap::new()),
            login: tokio::sync::OnceCell::new(),
        })
    }

    /// The credential the registry is logged in to with: the stored one, or
    /// for a service account's JSON key the access token it is traded for.
    async fn login(&self, host: &str) -> Result<Option<Credential>, SourceError> {
        self.login
            .get_or_try_init(|| async {
                let timeout = self.options.budget.limits().http_timeout;
                match &self.credential {
                    Some(c) if c.username == gcp::JSON_KEY_USER => {
                        gcp::access_token(|h| self.http(h), c.secret.expose(), timeout)
                            .await
                            .map(Some)
                    }
                    Some(c) if c.username == azure::SERVICE_PRINCIPAL_USER => azure::refresh_token(
                        |h| self.http(h),
                        c.secret.expose(),
                        host,
                        self.scheme(host),
                        timeout,
                    )
                    .await
                    .map(Some),
                    other => Ok(other.clone()),
                }
            })
            .await
            .cloned()
    }

    /// The HTTP client for `host`, made at its first request.
    fn http(&self, host: &str) -> Result<reqwest::Client, SourceError> {
        let mut https = self.https.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = https.get(host) {
            return Ok(c.clone());
        }
        let t = trust::host_trust(&self.certs_roots, host)?;
        if !t.files.is_empty() {
            tracing::debug!(%host, files = ?t.files, "the registry's own certificates");
        }
        let mut b = reqwest::Client::builder()
            .user_agent(concat!("vedette/", env!("CARGO_PKG_VERSION")))
            .danger_accept_invalid_certs(self.options.insecure)
            .connect_timeout(Duration::from_secs(15))
            .read_timeout(Duration::from_secs(60));
        for c in t.roots {
            b = b.add_root_certificate(c);
        }
        if let Some(i) = t.identity {
            b = b.identity(i);
        }
        let c = b
            .build()
            .map_err(|e| SourceError::Registry(format!("cannot set up HTTP for {host}: {e}")))?;
        https.insert(host.to_owned(), c.clone());
        Ok(c)
    }

    fn scheme(&self, host: &str) -> &'static str {
        self.schemes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(host)
            .copied()
            .unwrap_or("https")
    }

    /// GET `path` on the reference's registry, with auth and retries. A
    /// document (`blob: false`) must arrive within the HTTP timeout; a layer
    /// only must not stall (the scan's own deadline bounds it).
    async fn get(
        &self,
        r: &Reference,
        path: &str,
        accept: Option<&str>,
        blob: bool,
    ) -> Result<Response, SourceError> {
        let on = On {
            registry: &r.registry,
            host: r.api_host(),
            scope: format!("repository:{}:pull", r.repository),
            what: format!("{}:{}", r.repository, r.manifest_ref()),
            blob,
            head: false,
            basic: false,
        };
        self.get_on(&on, path, accept).await
    }

    /// GET `path` on a registry, with auth, retries and the rate limit.
    async fn get_on(
        &self,
        on: &On<'_>,
        path: &str,
        accept: Option<&str>,
    ) -> Result<Response, SourceError> {
        let host = on.host.to_owned();
        let scope = on.scope.as_str();
        // The auth that worked last for this host and scope is sent at
        // once (not one 401 per request first).
        let remembered = format!("{host} {scope}");
        let mut auth = self
            .auths
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&remembered)
            .cloned()
            .unwrap_or(if on.basic && self.credential.is_some() {
                Auth::Basic
            } else {
                Auth::None
            });
        let mut challenges = 0;
        let mut attempt = 0;
        let mut backoff = self.options.backoff;
        loop {
            attempt += 1;
            if let Some(rate) = &self.options.rate {
                rate.wait().await;
            }
            self.options.budget.check()?;
            let url = format!("{}://{host}{path}", self.scheme(&host));
            let http = self.http(&host)?;
            let mut req = if on.head {
                http.head(&url)
            } else {
                http.get(&url)
            };
            if !on.blob {
                req = req.timeout(self.options.budget.limits().http_timeout);
            }
            if let Some(a) = accept {
                req = req.header(header::ACCEPT, a);
            }
            req = match &auth {
                Auth::None => req,
                Auth::Basic => match self.login(&host).await? {
                    Some(c) => req.basic_auth(&c.username, Some(c.secret.expose())),
                    None => req,
                },
                Auth::Bearer(t) => req.bearer_auth(t),
            };
            let resp = match req.send().await {
                Ok(r) => r,
                Err(e)
                    if e.is_connect() && self.options.insecure && self.scheme(&host) == "https" =>
                {
                    // An insecure registry may speak plain HTTP only.
                    self.schemes
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(host.clone(), "http");
                    continue;
                }
                Err(e)
                    if attempt < self.options.attempts
                        && (e.is_connect() || e.is_timeout() || e.is_request()) =>
                {
                    tracing::debug!(%host, "request failed ({e}); retrying in {backoff:?}");
                    tokio::time::sleep(backoff).await;
                    backoff *= 2;
                    continue;
                }
                Err(e) => return Err(unreachable_err(&host, &e, self.options.insecure)),
            };
            let status = resp.status();
            // A second 401 means the token (cached, or expired mid-crawl:
            // ECR's last 12 hours, a token service's minutes) is stale: a
            // fresh one is asked for once.
            if status == StatusCode::UNAUTHORIZED && challenges < 2 {
                challenges += 1;
                let challenge = resp
                    .headers()
                    .get(header::WWW_AUTHENTICATE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                if challenge.is_empty() {
                    return Err(status_err(on, status, attempt));
                }
                auth = self
                    .answer_challenge(&host, &challenge, scope, challenges > 1)
                    .await?;
                self.auths
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(remembered.clone(), auth.clone());
                continue;
            }
            let hub = RateLimitHeaders::read(resp.headers());
            if let Some(h) = &hub {
                if h.remaining <= h.limit / 10 {
                    tracing::warn!(%host, "{}", h.describe());
                }
            }
            if status == StatusCode::TOO_MANY_REQUESTS {
                // Docker Hub's pull limit: retrying inside the window is futile.
                if let Some(h) = hub.as_ref().filter(|h| h.remaining == 0) {
                    return Err(SourceError::Registry(format!(
                        "registry {host} refused {} (429): {}. Wait for the window to pass, or log in (`vedette credential add --registry {}`) for a higher limit",
                        on.what,
                        h.describe(),
                        on.registry
                    )));
                }
            }
            if status == StatusCode::TOO_MANY_REQUESTS && attempt < self.options.attempts {
                let wait = retry_after(resp.headers()).unwrap_or(backoff);
                if wait > MAX_RETRY_AFTER {
                    return Err(SourceError::Registry(format!(
                        "registry {host} is rate-limiting (429) requests for {} and asks to wait {}s; try again later",
                        on.what,
                        wait.as_secs()
                    )));
                }
                tracing::info!(%host, "429 Too Many Requests; waiting {wait:?} as Retry-After says");
                tokio::time::sleep(wait).await;
                backoff *= 2;
                continue;
            }
            if status.is_server_error() && attempt < self.options.attempts {
                tracing::debug!(%host, %status, "server error; retrying in {backoff:?}");
                tokio::time::sleep(backoff).await;
                backoff *= 2;
                continue;
            }
            if status.is_success() {
                return Ok(resp);
            }
            return Err(status_err(on, status, attempt));
        }
    }

    async fn answer_challenge(
        &self,
        host: &str,
        challenge: &str,
        scope: &str,
        fresh: bool,
    ) -> Result<Auth, SourceError> {
        let (kind, params) = parse_challenge(challenge);
        match kind.as_str() {
            "basic" => Ok(Auth::Basic),
            "bearer" => {
                let realm = params.get("realm").ok_or_else(|| {
                    SourceError::Registry(format!("registry {host} asked for a bearer token without saying where to get one"))
                })?;
                let scope = params.get("scope").map(String::as_str).unwrap_or(scope);
                let key = format!("{realm} {scope}");
                if !fresh {
                    if let Some(t) = self.tokens.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
                        return Ok(Auth::Bearer(t.clone()));
                    }
                }
                let mut query = vec![("scope", scope.to_owned())];
                if let Some(s) = params.get("service") {
                    query.push(("service", s.clone()));
                }
                let realm_host = reqwest::Url::parse(realm)
                    .ok()
                    .and_then(|u| url_host(&u, realm).ok())
                    .unwrap_or_else(|| host.to_owned());
                let http = self.http(&realm_host)?;
                let login = self.login(host).await?;
                let mut req = match &login {
                    // An identity token is traded with the OAuth2 refresh
                    // grant (the distribution token spec's POST form).
                    Some(c) if c.username == IDENTITY_TOKEN_USER => {
                        let mut form = vec![
                            ("grant_type", "refresh_token".to_owned()),
                            ("refresh_token", c.secret.expose().clone()),
                            ("client_id", "vedette".to_owned()),
                        ];
                        form.extend(query.iter().map(|(k, v)| (*k, v.clone())));
                        http.post(realm).form(&form)
                    }
                    Some(c) => http
                        .get(realm)
                        .query(&query)
                        .basic_auth(&c.username, Some(c.secret.expose())),
                    None => http.get(realm).query(&query),
                };
                req = req.timeout(self.options.budget.limits().http_timeout);
                let resp = req.send().await.map_err(|e| unreachable_err(host, &e, self.options.insecure))?;
                if !resp.status().is_success() {
                    return Err(SourceError::Registry(format!(
                        "the token service of registry {host} refused a token ({}){}",
                        resp.status(),
                        if self.credential.is_some() {
                            ": the stored credentials are wrong or lack pull access; replace them with `vedette credential add`"
                        } else {
                            ": the repository is private; add credentials with `vedette credential add --registry HOST --username USER`"
                        }
                    )));
                }
                #[derive(serde::Deserialize)]
                struct Token {
                    token: Option<String>,
                    access_token: Option<String>,
                }
                let body = body_capped(resp, MAX_DOCUMENT, host, "a token").await?;
                let t: Token = serde_json::from_slice(&body)
                    .map_err(|e| SourceError::Registry(format!("the token service of registry {host} answered something that is not a token: {e}")))?;
                let token = t.token.or(t.access_token).ok_or_else(|| {
                    SourceError::Registry(format!("the token service of registry {host} answered without a token"))
                })?;
                self.tokens.lock().unwrap_or_else(|p| p.into_inner()).insert(key, token.clone());
                Ok(Auth::Bearer(token))
            }
            _ => Err(SourceError::Registry(format!(
                "registry {host} wants an authentication scheme Vedette does not speak ({challenge:?})"
            ))),
        }
    }

    /// Reads a small document (manifest, config) whole, checking size and digest.
    async fn document(
        &self,
        r: &Reference,
        path: &str,
        accept: Option<&str>,
        expect: Option<&str>,
    ) -> Result<(Vec<u8>, String, Option<String>), SourceError> {
        let resp = self.get(r, path, accept, false).await?;
        let media_type = resp
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.split(';').next().unwrap_or(s).trim().to_owned());
        let body = body_capped(resp, MAX_DOCUMENT, r.api_host(), path).await?;
        let digest = format!("sha256:{}", hex::encode(Sha256::digest(&body)));
        if let Some(e) = expect {
            if e != digest {
                return Err(SourceError::DigestMismatch {
                    what: format!("{path} on {}", r.api_host()),
                    expected: e.to_owned(),
                    actual: digest,
                });
            }
        }
        Ok((body, digest, media_type))
    }

    /// The digest a tag points to now, from a HEAD of its manifest (the
    /// `Docker-Content-Digest` header): what tells whether a tag changed
    /// without reading its manifest (Docker Hub does not count a HEAD as a
    /// pull). None when the registry does not say.
    pub async fn head_digest(&self, r: &Reference) -> Result<Option<String>, SourceError> {
        let on = On {
            registry: &r.registry,
            host: r.api_host(),
            scope: format!("repository:{}:pull", r.repository),
            what: format!("{}:{}", r.repository, r.manifest_ref()),
            blob: false,
            head: true,
            basic: false,
        };
        let path = format!("/v2/{}/manifests/{}", r.repository, r.manifest_ref());
        let resp = self.get_on(&on, &path, Some(manifest::ACCEPT)).await?;
        Ok(resp
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .filter(|d| d.starts_with("sha256:") && d.len() == 71)
            .map(str::to_owned))
    }

    /// Every repository of a registry, through the catalog API, page by page.
    pub async fn catalog(&self, registry: &str) -> Result<Vec<String>, SourceError> {
        #[derive(serde::Deserialize)]
        struct Catalog {
            #[serde(default)]
            repositories: Option<Vec<String>>,
        }
        let on = On {
            registry,
            host: api_host(registry),
            scope: "registry:catalog:*".into(),
            what: "the repository catalog".into(),
            blob: false,
            head: false,
            basic: false,
        };
        let first = format!("/v2/_catalog?n={}", self.options.page_size.max(1));
        self.paged(&on, first, |body: Catalog| {
            body.repositories.unwrap_or_default()
        })
        .await
    }

    /// Every tag of a repository, through the tag-list API, page by page.
    pub async fn tags(&self, registry: &str, repository: &str) -> Result<Vec<String>, SourceError> {
        let mut out = Vec::new();
        let mut page = self.tags_first_page(repository, None);
        let mut seen = Pages::default();
        loop {
            let (tags, next) = self
                .tags_page(registry, repository, &page, &mut seen)
                .await?;
            out.extend(tags);
            match next {
                Some(n) => page = n,
                None => return Ok(out),
            }
        }
    }

    /// The path of the first page of a repository's tag list, after `last`
    /// (a registry that pages does so in lexical order; one that does not
    /// ignores it and sends every tag).
    pub fn tags_first_page(&self, repository: &str, last: Option<&str>) -> String {
        let mut p = format!(
            "/v2/{repository}/tags/list?n={}",
            self.options.page_size.max(1)
        );
        // A tag is [A-Za-z0-9_.-]: nothing to escape.
        if let Some(l) = last.filter(|l| {
            l.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
        }) {
            p.push_str("&last=");
            p.push_str(l);
        }
        p
    }

    /// One page of a repository's tags, and the path of the next page.
    /// `seen` holds the pages read so far, so that a registry paging in a
    /// loop is stopped.
    pub async fn tags_page(
        &self,
        registry: &str,
        repository: &str,
        path: &str,
        seen: &mut Pages,
    ) -> Result<(Vec<String>, Option<String>), SourceError> {
        #[derive(serde::Deserialize)]
        struct Tags {
            #[serde(default)]
            tags: Option<Vec<String>>,
        }
        let on = On {
            registry,
            host: api_host(registry),
            scope: format!("repository:{repository}:pull"),
            what: format!("the tags of {repository}"),
            blob: false,
            head: false,
            basic: false,
        };
        let (page, next): (Tags, _) = self.page(&on, path, seen).await?;
        Ok((page.tags.unwrap_or_default(), next))
    }

    /// Follows `Link: <…>; rel="next"` from `first`, collecting each page.
    async fn paged<T: serde::de::DeserializeOwned>(
        &self,
        on: &On<'_>,
        first: String,
        items: impl Fn(T) -> Vec<String>,
    ) -> Result<Vec<String>, SourceError> {
        let mut out = Vec::new();
        let mut seen = Pages::default();
        let mut path = Some(first);
        while let Some(p) = path.take() {
            let (page, next) = self.page(on, &p, &mut seen).await?;
            out.extend(items(page));
            path = next;
        }
        Ok(out)
    }

    /// One page of a listing and the path of the next (`Link: <…>;
    /// rel="next"`); a page asked twice is a registry paging in a loop.
    async fn page<T: serde::de::DeserializeOwned>(
        &self,
        on: &On<'_>,
        path: &str,
        seen: &mut Pages,
    ) -> Result<(T, Option<String>), SourceError> {
        seen.visit(path, &format!("registry {}", on.host), &on.what)?;
        let resp = self.get_on(on, path, Some("application/json")).await?;
        let next = next_link(resp.headers());
        let body = body_capped(
            resp,
            MAX_LISTING,
            on.host,
            &format!("a page of {}", on.what),
        )
        .await?;
        let page: T = serde_json::from_slice(&body).map_err(|e| {
            SourceError::Format(format!(
                "registry {} answered something that is not a list for {}: {e}",
                on.host, on.what
            ))
        })?;
        Ok((page, next))
    }

    /// Resolves a reference to one platform's manifest, its config and layers.
    pub async fn resolve(&self, r: &Reference) -> Result<ImageInfo, SourceError> {
        let mut seen = Vec::new();
        let mut want = r.manifest_ref().to_owned();
        let mut expect = r.digest.clone();
        let mut index_digest = None;
        loop {
            let path = format!("/v2/{}/manifests/{want}", r.repository);
            let (body, digest, _ct) = self
                .document(r, &path, Some(manifest::ACCEPT), expect.as_deref())
                .await?;
            if seen.contains(&digest) || seen.len() > 4 {
                return Err(SourceError::Format(format!(
                    "the manifest of {r} points to itself (or nests more than 4 deep); the registry serves a broken image"
                )));
            }
            seen.push(digest.clone());
            let m: AnyManifest = serde_json::from_slice(&body).map_err(|e| {
                SourceError::Format(format!("the manifest of {r} is not valid JSON: {e}"))
            })?;
            if m.schema_version == Some(1) {
                return Err(SourceError::Format(format!(
                    "{r} uses the Docker schema 1 manifest, deprecated since 2017 and not supported; push it again with a current tool"
                )));
            }
            if m.is_index() {
                let list = m.manifests.unwrap_or_default();
                let chosen =
                    manifest::choose(&list, &self.options.platform).map_err(|available| {
                        SourceError::NoPlatform {
                            wanted: self.options.platform.to_string(),
                            available,
                        }
                    })?;
                index_digest.get_or_insert(digest);
                want = chosen.digest.clone();
                expect = Some(chosen.digest.clone());
                continue;
            }
            let (Some(config), Some(layers)) = (m.config, m.layers) else {
                return Err(SourceError::Format(format!(
                    "the manifest of {r} has no config or layers"
                )));
            };
            let cpath = format!("/v2/{}/blobs/{}", r.repository, config.digest);
            let (cbody, _, _) = self.document(r, &cpath, None, Some(&config.digest)).await?;
            let cfg: ImageConfig = serde_json::from_slice(&cbody).unwrap_or_default();
            let platform = match (&cfg.os, &cfg.architecture) {
                (Some(os), Some(arch)) => match &cfg.variant {
                    Some(v) => format!("{os}/{arch}/{v}"),
                    None => format!("{os}/{arch}"),
                },
                _ => self.options.platform.to_string(),
            };
            return Ok(ImageInfo {
                reference: r.to_string(),
                manifest_digest: digest,
                index_digest,
                config_digest: config.digest,
                platform,
                layers: layers
                    .into_iter()
                    .map(|l| LayerInfo {
                        digest: l.digest,
                        size: l.size,
                        media_type: l.media_type,
                    })
                    .collect(),
                created: cfg.created,
            });
        }
    }

    /// Fetches every layer (several at once), keeping the wanted files of
    /// each; returns the deltas bottom-up.
    pub async fn pull_layers(
        self: &Arc<Self>,
        r: &Reference,
        info: &ImageInfo,
        catalogers: Arc<Vec<Box<dyn Cataloger>>>,
        progress: Arc<dyn Progress>,
    ) -> Result<Vec<LayerDelta>, SourceError> {
        let sem = Arc::new(tokio::sync::Semaphore::new(self.options.concurrency.max(1)));
        // A JoinSet: when the scan is dropped (cancelled, out of time), its
        // downloads are aborted with it.
        let mut tasks = tokio::task::JoinSet::new();
        let count = info.layers.len();
        for (i, layer) in info.layers.clone().into_iter().enumerate() {
            let (client, r, cats, sem, progress) = (
                Arc::clone(self),
                r.clone(),
                Arc::clone(&catalogers),
                Arc::clone(&sem),
                Arc::clone(&progress),
            );
            tasks.spawn(async move {
                let _permit = sem
                    .acquire_owned()
                    .await
                    .map_err(|e| SourceError::Registry(e.to_string()))?;
                client
                    .pull_layer(&r, &layer, cats, progress)
                    .await
                    .map(|d| (i, d))
            });
        }
        let mut out: Vec<Option<LayerDelta>> = (0..count).map(|_| None).collect();
        while let Some(joined) = tasks.join_next().await {
            let (i, delta) = joined
                .map_err(|e| SourceError::Registry(format!("a layer task failed: {e}")))??;
            out[i] = Some(delta);
        }
        Ok(out.into_iter().flatten().collect())
    }

    async fn pull_layer(
        &self,
        r: &Reference,
        layer: &LayerInfo,
        catalogers: Arc<Vec<Box<dyn Cataloger>>>,
        progress: Arc<dyn Progress>,
    ) -> Result<LayerDelta, SourceError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self
                .pull_layer_once(r, layer, Arc::clone(&catalogers), Arc::clone(&progress))
                .await
            {
                Err(SourceError::BrokeOff { message, .. }) if attempt < self.options.attempts => {
                    tracing::info!(digest = %layer.digest, "layer download broke off ({message}); starting it again");
                    tokio::time::sleep(self.options.backoff * attempt).await;
                }
                other => return other,
            }
        }
    }

    async fn pull_layer_once(
        &self,
        r: &Reference,
        layer: &LayerInfo,
        catalogers: Arc<Vec<Box<dyn Cataloger>>>,
        progress: Arc<dyn Progress>,
    ) -> Result<LayerDelta, SourceError> {
        progress.layer_started(&layer.digest, layer.size);
        let path = format!("/v2/{}/blobs/{}", r.repository, layer.digest);
        let resp = self.get(r, &path, None, true).await?;
        let (tx, rx) = std::sync::mpsc::sync_channel::<std::io::Result<bytes_chunk::Chunk>>(16);
        let digest = layer.digest.clone();
        let compression = Compression::from_media_type(&layer.media_type);
        // Inflating and untarring run on a blocking thread while this task
        // receives and hashes, so the two use both cores.
        let budget = self.options.budget.clone();
        let parser = tokio::task::spawn_blocking(move || {
            read_layer(
                bytes_chunk::ChannelReader::new(rx),
                compression,
                &digest,
                &catalogers,
                &budget,
            )
        });
        let mut hasher = Sha256::new();
        let mut parser_reading = true;
        let mut broke_off = None;
        let mut stream = resp.bytes_stream();
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(b) => {
                    progress.bytes(b.len() as u64);
                    hasher.update(&b);
                    // The tar may end before the blob does: keep hashing.
                    if parser_reading && tx.send(Ok(bytes_chunk::Chunk(b))).is_err() {
                        parser_reading = false;
                    }
                }
                Err(e) => {
                    let msg = e.to_string();
                    let _ = tx.send(Err(std::io::Error::new(
                        std::io::ErrorKind::ConnectionReset,
                        format!("connection to the registry broke off: {msg}"),
                    )));
                    broke_off = Some(msg);
                    break;
                }
            }
        }
        drop(tx);
        let delta = parser
            .await
            .map_err(|e| SourceError::Registry(format!("the layer reader failed: {e}")))?;
        if let Some(message) = broke_off {
            return Err(SourceError::BrokeOff {
                digest: layer.digest.clone(),
                message,
            });
        }
        let delta = delta?;
        let actual = format!("sha256:{}", hex::encode(hasher.finalize()));
        if actual != layer.digest {
            return Err(SourceError::DigestMismatch {
                what: format!("layer {}", layer.digest),
                expected: layer.digest.clone(),
                actual,
            });
        }
        progress.layer_done(&layer.digest);
        Ok(delta)
    }
}

/// A blocking `Read` over chunks sent from the async side.
mod bytes_chunk {
    use std::io::Read;
    use std::sync::mpsc::Receiver;

    pub struct Chunk(pub bytes::Bytes);

    pub struct ChannelReader {
        rx: Receiver<std::io::Result<Chunk>>,
        buf: bytes::Bytes,
        pos: usize,
    }

    impl ChannelReader {
        pub fn new(rx: Receiver<std::io::Result<Chunk>>) -> Self {
            Self {
                rx,
                buf: bytes::Bytes::new(),
                pos: 0,
            }
        }
    }

    impl Read for ChannelReader {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            while self.pos >= self.buf.len() {
                match self.rx.recv() {
                    Ok(Ok(c)) => {
                        self.buf = c.0;
                        self.pos = 0;
                    }
                    Ok(Err(e)) => return Err(e),
                    Err(_) => return Ok(0), // sender done: end of blob
                }
            }
            let n = out.len().min(self.buf.len() - self.pos);
            out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
            self.pos += n;
            Ok(n)
        }
    }
}

/// `Bearer realm="https://auth.docker.io/token",service="registry.docker.io"` → ("bearer", {realm, service}).
pub fn parse_challenge(h: &str) -> (String, HashMap<String, String>) {
    let (kind, rest) = h.trim().split_once(' ').unwrap_or((h.trim(), ""));
    let mut params = HashMap::new();
    let mut rest = rest.trim();
    while !rest.is_empty() {
        let Some((k, after)) = rest.split_once('=') else {
            break;
        };
        let k = k.trim().trim_start_matches(',').trim().to_ascii_lowercase();
        let after = after.trim_start();
        let (v, next) = if let Some(q) = after.strip_prefix('"') {
            match q.find('"') {
                Some(end) => (&q[..end], &q[end + 1..]),
                None => (q, ""),
            }
        } else {
            match after.find(',') {
                Some(end) => (&after[..end], &after[end..]),
                None => (after, ""),
            }
        };
        params.insert(k, v.to_owned());
        rest = next.trim_start_matches([',', ' ']);
    }
    (kind.to_ascii_lowercase(), params)
}

/// The host a registry's API answers on (Docker Hub's differs from its name).
pub(crate) fn api_host(registry: &str) -> &str {
    if registry == "docker.io" {
        "registry-1.docker.io"
    } else {
        registry
    }
}

/// Where a request goes and what it is for (auth scope, error messages).
struct On<'a> {
    /// The registry as the user wrote it (`docker.io`).
    registry: &'a str,
    /// The host the API answers on (`registry-1.docker.io`).
    host: &'a str,
    scope: String,
    /// "acme/api:1.4", "the repository catalog", "the tags of acme/api".
    what: String,
    /// A layer: no total timeout (it may be large), only a stall timeout.
    blob: bool,
    /// A HEAD request (the digest of a manifest, without reading it).
    head: bool,
    /// Send the credential as basic auth at once (Harbor's API answers 401
    /// without a challenge).
    basic: bool,
}

/// Reads a response body of at most `limit` bytes; a larger one is an
/// error naming it (it is never read whole first).
async fn body_capped(
    resp: Response,
    limit: usize,
    host: &str,
    what: &str,
) -> Result<Vec<u8>, SourceError> {
    if resp.content_length().is_some_and(|n| n > limit as u64) {
        return Err(too_large(host, what, limit));
    }
    let mut body = Vec::new();
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            SourceError::Registry(format!(
                "registry {host} dropped the connection while sending {what}: {e}"
            ))
        })?;
        if body.len() + chunk.len() > limit {
            return Err(too_large(host, what, limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn too_large(host: &str, what: &str, limit: usize) -> SourceError {
    SourceError::Registry(format!(
        "registry {host} sent more than {} for {what}; no real registry answer is that large, so it was not read",
        vedette_model::format_bytes(limit as u64)
    ))
}

/// Docker Hub's pull-limit headers: `ratelimit-limit: 100;w=21600` and
/// `ratelimit-remaining: 76;w=21600`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RateLimitHeaders {
    limit: u64,
    remaining: u64,
    window_secs: Option<u64>,
}

impl RateLimitHeaders {
    fn read(h: &header::HeaderMap) -> Option<Self> {
        let field = |name: &str| -> Option<(u64, Option<u64>)> {
            let v = h.get(name)?.to_str().ok()?;
            let mut parts = v.split(';');
            let n = parts.next()?.trim().parse().ok()?;
            let w = parts
                .filter_map(|p| p.trim().strip_prefix("w="))
                .find_map(|w| w.parse().ok());
            Some((n, w))
        };
        let (remaining, w1) = field("ratelimit-remaining")?;
        let (limit, w2) = field("ratelimit-limit").unwrap_or((remaining, None));
        Some(Self {
            limit,
            remaining,
            window_secs: w1.or(w2),
        })
    }

    fn describe(&self) -> String {
        match self.window_secs {
            Some(w) if w % 3600 == 0 => format!(
                "{} of {} pulls left in its {} h window",
                self.remaining,
                self.limit,
                w / 3600
            ),
            Some(w) => format!(
                "{} of {} pulls left in its {w} s window",
                self.remaining, self.limit
            ),
            None => format!("{} of {} pulls left", self.remaining, self.limit),
        }
    }
}

/// The target of a `Link: <…>; rel="next"` header, as written.
fn link_next(h: &header::HeaderMap) -> Option<String> {
    for v in h.get_all(header::LINK) {
        let v = v.to_str().ok()?;
        for part in v.split(',') {
            let (target, params) = part.split_once(';').unwrap_or((part, ""));
            let is_next = params.split(';').any(|p| {
                let p = p.trim();
                p.eq_ignore_ascii_case("rel=\"next\"") || p.eq_ignore_ascii_case("rel=next")
            });
            if is_next {
                return Some(
                    target
                        .trim()
                        .trim_start_matches('<')
                        .trim_end_matches('>')
                        .to_owned(),
                );
            }
        }
    }
    None
}

/// The `rel="next"` target of a `Link` header, as a path and query on the
/// same registry (the distribution spec makes it relative; an absolute URL
/// is cut to its path).
fn next_link(h: &header::HeaderMap) -> Option<String> {
    let t = link_next(h)?;
    let path = match t.find("://") {
        Some(i) => &t[t[i + 3..].find('/').map(|j| i + 3 + j)?..],
        None => t.as_str(),
    };
    (path.starts_with("/v2/") || path.starts_with("/api/v2.0/")).then(|| path.to_owned())
}

/// The `rel="next"` target of a `Link` header as an absolute URL on
/// `base`'s origin (GitHub's and GitLab's pages); a link elsewhere is not
/// followed.
fn next_absolute(h: &header::HeaderMap, base: &reqwest::Url) -> Option<reqwest::Url> {
    let url = base.join(&link_next(h)?).ok()?;
    (url.origin() == base.origin()).then_some(url)
}

/// How a registry's own API is authenticated.
pub(crate) enum ApiAuth<'a> {
    None,
    Bearer(&'a str),
    Header(&'static str, &'a str),
}

impl Client {
    /// One GET of a registry's own API (Docker Hub's, GitHub's, GitLab's)
    /// within the run's rate and the scan's budget; `what` names it in the
    /// error when the API cannot be reached.
    pub(crate) async fn api_get(
        &self,
        host: &str,
        url: reqwest::Url,
        auth: ApiAuth<'_>,
        headers: &[(&str, &str)],
        what: &str,
    ) -> Result<Response, SourceError> {
        if let Some(rate) = &self.options.rate {
            rate.wait().await;
        }
        self.options.budget.check()?;
        let mut req = self
            .http(host)?
            .get(url)
            .timeout(self.options.budget.limits().http_timeout);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req = match auth {
            ApiAuth::None => req,
            ApiAuth::Bearer(t) => req.bearer_auth(t),
            ApiAuth::Header(k, v) => req.header(k, v),
        };
        req.send()
            .await
            .map_err(|e| SourceError::Registry(format!("cannot reach {what} at {host}: {e}")))
    }
}

/// `host[:port]` of a URL, as the per-host HTTP clients are keyed; `what`
/// names the URL in the error.
pub(crate) fn url_host(u: &reqwest::Url, what: &str) -> Result<String, SourceError> {
    match (u.host_str(), u.port()) {
        (Some(h), Some(p)) => Ok(format!("{h}:{p}")),
        (Some(h), None) => Ok(h.to_owned()),
        _ => Err(SourceError::Registry(format!("{what} ({u}) names no host"))),
    }
}

/// `Retry-After: 3` or an HTTP date.
fn retry_after(h: &header::HeaderMap) -> Option<Duration> {
    let v = h.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or_default(),
    )
}

fn unreachable_err(host: &str, e: &reqwest::Error, insecure: bool) -> SourceError {
    let mut msg = format!("cannot reach registry {host}: {e}");
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        msg.push_str(&format!(": {s}"));
        src = s.source();
    }
    let certificate = msg.contains("certificate") || msg.contains("UnknownIssuer");
    if certificate && !insecure {
        msg.push_str(&format!(
            ". Its TLS certificate is not trusted: put its CA in /etc/docker/certs.d/{host}/ca.crt (or /etc/containers/certs.d/{host}/, or the system's trust store), and a client certificate it asks for as client.cert with client.key there; --insecure-registry turns verification off"
        ));
        return SourceError::Registry(msg);
    }
    msg.push_str(". Check the host name, the port and the network");
    if !insecure {
        msg.push_str("; for a registry over plain HTTP, pass --insecure-registry");
    }
    SourceError::Registry(msg)
}

fn status_err(on: &On<'_>, status: StatusCode, attempts: u32) -> SourceError {
    let (host, what) = (on.host, &on.what);
    if status == StatusCode::NOT_FOUND && what != "the repository catalog" {
        return SourceError::NotFound(format!(
            "{what} was not found on registry {host} (404): check the repository name and the tag"
        ));
    }
    SourceError::Registry(match status.as_u16() {
        401 => format!(
            "registry {host} refused access to {what} (401 Unauthorized): it needs credentials, or the stored ones are wrong. Add them with `vedette credential add --registry {} --username USER`",
            on.registry
        ),
        403 => format!("registry {host} denied access to {what} (403 Forbidden): the account has no pull permission for this repository"),
        404 if what == "the repository catalog" => format!("registry {host} does not list its repositories (the catalog API answered 404); name the repositories in the selector without wildcards"),
        429 => format!("registry {host} still answered 429 Too Many Requests for {what} after {attempts} tries; wait and try again, or scan fewer images at once"),
        s if s >= 500 => format!("registry {host} answered {status} for {what} after {attempts} tries; it is failing, try again later"),
        _ => format!("registry {host} answered {status} for {what}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_links_are_read_relative_or_absolute() {
        let mut h = header::HeaderMap::new();
        h.insert(
            header::LINK,
            r#"</v2/_catalog?last=b&n=2>; rel="next""#.parse().unwrap(),
        );
        assert_eq!(next_link(&h).as_deref(), Some("/v2/_catalog?last=b&n=2"));
        h.insert(
            header::LINK,
            r#"<https://r.example/v2/a/tags/list?last=9&n=2>; rel=next"#
                .parse()
                .unwrap(),
        );
        assert_eq!(next_link(&h).as_deref(), Some("/v2/a/tags/list?last=9&n=2"));
        h.insert(header::LINK, r#"</v2/x>; rel="prev""#.parse().unwrap());
        assert_eq!(next_link(&h), None);
    }

    #[test]
    fn docker_hub_rate_limit_headers_are_read() {
        let mut h = header::HeaderMap::new();
        h.insert("ratelimit-limit", "100;w=21600".parse().unwrap());
        h.insert("ratelimit-remaining", "0;w=21600".parse().unwrap());
        let r = RateLimitHeaders::read(&h).unwrap();
        assert_eq!((r.limit, r.remaining, r.window_secs), (100, 0, Some(21600)));
        assert_eq!(r.describe(), "0 of 100 pulls left in its 6 h window");
        assert_eq!(RateLimitHeaders::read(&header::HeaderMap::new()), None);
    }

    #[tokio::test(start_paused = true)]
    async fn the_rate_limiter_spaces_requests() {
        let r = RateLimiter::per_second(4.0);
        let start = tokio::time::Instant::now();
        for _ in 0..5 {
            r.wait().await;
        }
        // The first goes at once, the next four 250 ms apart.
        assert_eq!(start.elapsed(), Duration::from_millis(1000));
    }

    #[test]
    fn bearer_challenges_are_parsed_with_quoted_and_bare_values() {
        let (k, p) = parse_challenge(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/debian:pull""#,
        );
        assert_eq!(k, "bearer");
        assert_eq!(p["realm"], "https://auth.docker.io/token");
        assert_eq!(p["service"], "registry.docker.io");
        assert_eq!(p["scope"], "repository:library/debian:pull");
        let (k, p) = parse_challenge("Basic realm=Registry");
        assert_eq!((k.as_str(), p["realm"].as_str()), ("basic", "Registry"));
    }

    #[test]
    fn retry_after_accepts_seconds_and_dates() {
        let mut h = header::HeaderMap::new();
        h.insert(header::RETRY_AFTER, "3".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        h.insert(
            header::RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(
            retry_after(&h),
            Some(Duration::ZERO),
            "a date in the past means now"
        );
    }
}

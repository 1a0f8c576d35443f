//! Docker Hub's own API (`hub.docker.com`): a repository's tags, each with
//! its push time and the digest of every platform's manifest. Reading it is
//! not a pull and touches no registry endpoint, so a crawl of Docker Hub
//! spends none of the 100-pulls-per-6-hours budget. Paths and fields as the
//! Docker Hub API reference describes them (`content/reference/api/hub/
//! latest.yaml` in docker/docs; the fields read are in
//! `tests/data/dockerhub/hub-api-extract.json`).

use super::{body_capped, url_host, ApiAuth, Client, Pages, MAX_LISTING};
use crate::SourceError;

/// Where Docker Hub's API lives unless `VEDETTE_DOCKER_HUB_API` says
/// otherwise (a mirror, a test).
pub const HUB_API: &str = "https://hub.docker.com";

/// A tag of a Docker Hub repository: when it was pushed, and the digest of
/// the platform's manifest Vedette scans (none when it has no such platform).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubTag {
    pub name: String,
    pub pushed: Option<String>,
    pub digest: Option<String>,
    /// The platforms the tag offers, for a warning when none is wanted.
    pub platforms: Vec<String>,
}

impl Client {
    /// Every tag of `repository` (`namespace/name`; `library/…` for
    /// official images) through Docker Hub's API at `api`.
    pub async fn hub_tags(&self, api: &str, repository: &str) -> Result<Vec<HubTag>, SourceError> {
        #[derive(serde::Deserialize)]
        struct Image {
            digest: Option<String>,
            os: Option<String>,
            architecture: Option<String>,
            variant: Option<String>,
        }
        #[derive(serde::Deserialize)]
        struct Tag {
            name: String,
            tag_last_pushed: Option<String>,
            last_updated: Option<String>,
            #[serde(default)]
            images: Vec<Image>,
        }
        #[derive(serde::Deserialize)]
        struct Page {
            next: Option<String>,
            #[serde(default)]
            results: Vec<Tag>,
        }
        let (namespace, name) = repository.split_once('/').ok_or_else(|| {
            SourceError::Registry(format!(
                "{repository} is not a Docker Hub repository name (namespace/repository)"
            ))
        })?;
        let base = reqwest::Url::parse(api).map_err(|e| {
            SourceError::Registry(format!(
                "the Docker Hub API address {api} is not a URL: {e}"
            ))
        })?;
        let origin = base.origin();
        let host = url_host(&base, "the Docker Hub API address")?;
        let http = self.http(&host)?;
        let token = self.hub_token(&http, api).await?;
        let size = self.options.page_size.clamp(1, 100);
        let mut url = base
            .join(&format!(
                "/v2/namespaces/{namespace}/repositories/{name}/tags?page=1&page_size={size}"
            ))
            .map_err(|e| SourceError::Registry(format!("bad Docker Hub path: {e}")))?;
        let what = format!("the tags of {repository} (Docker Hub API)");
        let mut out = Vec::new();
        let mut pages = Pages::default();
        loop {
            pages.visit(url.as_str(), "Docker Hub's API", &what)?;
            let auth = match &token {
                Some(t) => ApiAuth::Bearer(t),
                None => ApiAuth::None,
            };
            let resp = self
                .api_get(&host, url.clone(), auth, &[], "Docker Hub's API")
                .await?;
            let status = resp.status();
            if !status.is_success() {
                return Err(match status.as_u16() {
                    404 => SourceError::NotFound(format!(
                        "{repository} was not found on Docker Hub (404): check the namespace and the repository name"
                    )),
                    401 | 403 => SourceError::Registry(format!(
                        "Docker Hub refused {what} ({status}): the repository is private; add a Docker Hub user and access token with `vedette credential add --registry docker.io --username USER`"
                    )),
                    429 => SourceError::Registry(format!(
                        "Docker Hub's API is rate-limiting (429) {what}; try again in a minute"
                    )),
                    _ => SourceError::Registry(format!("Docker Hub answered {status} for {what}")),
                });
            }
            let body = body_capped(resp, MAX_LISTING, &host, &what).await?;
            let page: Page = serde_json::from_slice(&body).map_err(|e| {
                SourceError::Format(format!(
                    "Docker Hub answered something that is not {what}: {e}"
                ))
            })?;
            let empty = page.results.is_empty();
            for t in page.results {
                let platforms: Vec<String> = t
                    .images
                    .iter()
                    .map(|i| {
                        let mut p = format!(
                            "{}/{}",
                            i.os.as_deref().unwrap_or("?"),
                            i.architecture.as_deref().unwrap_or("?")
                        );
                        if let Some(v) = &i.variant {
                            p.push('/');
                            p.push_str(v);
                        }
                        p
                    })
                    .collect();
                let wanted = &self.options.platform;
                let digest = t
                    .images
                    .iter()
                    .find(|i| {
                        i.os.as_deref() == Some(wanted.os.as_str())
                            && i.architecture.as_deref() == Some(wanted.architecture.as_str())
                            && (wanted.variant.is_none() || i.variant == wanted.variant)
                    })
                    .and_then(|i| i.digest.clone());
                out.push(HubTag {
                    name: t.name,
                    pushed: t.tag_last_pushed.or(t.last_updated),
                    digest,
                    platforms,
                });
            }
            // The next page is followed on Docker Hub's own origin only.
            match page.next.as_deref().map(reqwest::Url::parse) {
                Some(Ok(next)) if !empty && next.origin() == origin => url = next,
                _ => return Ok(out),
            }
        }
    }

    /// A bearer token for Docker Hub's API from the account's user name and
    /// access token (`POST /v2/auth/token`); none without a credential
    /// (public repositories).
    async fn hub_token(
        &self,
        http: &reqwest::Client,
        api: &str,
    ) -> Result<Option<String>, SourceError> {
        let Some(c) = &self.credential else {
            return Ok(None);
        };
        #[derive(serde::Deserialize)]
        struct Token {
            access_token: String,
        }
        let url = format!("{}/v2/auth/token", api.trim_end_matches('/'));
        let resp = http
            .post(&url)
            .json(&serde_json::json!({"identifier": c.username, "secret": c.secret.expose()}))
            .timeout(self.options.budget.limits().http_timeout)
            .send()
            .await
            .map_err(|e| SourceError::Registry(format!("cannot reach Docker Hub's API: {e}")))?;
        if !resp.status().is_success() {
            return Err(SourceError::Registry(format!(
                "Docker Hub refused the stored credential of user {} ({}): replace its access token with `vedette credential add --registry docker.io --username {}`",
                c.username,
                resp.status(),
                c.username
            )));
        }
        let body = body_capped(resp, 1024 * 1024, "hub.docker.com", "a token").await?;
        let t: Token = serde_json::from_slice(&body).map_err(|e| {
            SourceError::Format(format!(
                "Docker Hub answered something that is not a token: {e}"
            ))
        })?;
        Ok(Some(t.access_token))
    }
}

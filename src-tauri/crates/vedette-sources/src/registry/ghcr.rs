//! GitHub's Packages API for GHCR (`api.github.com`): an owner's container
//! packages and each package's versions, whose name is the image's digest
//! and whose metadata lists its tags, with when each was pushed. A
//! personal access token with `read:packages` (the one that also pulls from
//! ghcr.io) reads them. Paths and fields as GitHub's OpenAPI description
//! has them (npm `@octokit/openapi`; the part read is in
//! `tests/data/github/packages-extract.json`).

use super::{body_capped, next_absolute, url_host, ApiAuth, Client, Pages, MAX_LISTING};
use crate::SourceError;

/// Where GitHub's API lives unless `VEDETTE_GITHUB_API` says otherwise
/// (GitHub Enterprise Server, a test).
pub const GITHUB_API: &str = "https://api.github.com";

/// A container package version: its digest (an index's, for a
/// multi-platform image), its tags and when it was pushed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageVersion {
    pub digest: String,
    pub tags: Vec<String>,
    pub pushed: Option<String>,
}

impl Client {
    /// The container packages of `owner` (an organisation, else a user).
    pub async fn ghcr_packages(&self, api: &str, owner: &str) -> Result<Vec<String>, SourceError> {
        #[derive(serde::Deserialize)]
        struct Package {
            name: String,
        }
        let what = format!("the container packages of {owner}");
        let org = format!(
            "{}/orgs/{owner}/packages?package_type=container",
            api.trim_end_matches('/')
        );
        let list: Vec<Package> = match self.github_pages(api, &org, &what).await {
            Err(SourceError::NotFound(_)) => {
                let user = format!(
                    "{}/users/{owner}/packages?package_type=container",
                    api.trim_end_matches('/')
                );
                self.github_pages(api, &user, &what).await?
            }
            other => other?,
        };
        Ok(list.into_iter().map(|p| p.name).collect())
    }

    /// The versions of the container package `name` of `owner`.
    pub async fn ghcr_versions(
        &self,
        api: &str,
        owner: &str,
        name: &str,
    ) -> Result<Vec<PackageVersion>, SourceError> {
        #[derive(serde::Deserialize, Default)]
        struct Container {
            #[serde(default)]
            tags: Vec<String>,
        }
        #[derive(serde::Deserialize, Default)]
        struct Metadata {
            #[serde(default)]
            container: Container,
        }
        #[derive(serde::Deserialize)]
        struct Version {
            name: String,
            created_at: Option<String>,
            updated_at: Option<String>,
            #[serde(default)]
            metadata: Metadata,
        }
        let what = format!("the versions of package {owner}/{name}");
        let escaped = name.replace('/', "%2F");
        let base = api.trim_end_matches('/');
        let org = format!("{base}/orgs/{owner}/packages/container/{escaped}/versions");
        let list: Vec<Version> = match self.github_pages(api, &org, &what).await {
            Err(SourceError::NotFound(_)) => {
                let user = format!("{base}/users/{owner}/packages/container/{escaped}/versions");
                self.github_pages(api, &user, &what).await?
            }
            other => other?,
        };
        Ok(list
            .into_iter()
            .filter(|v| v.name.starts_with("sha256:"))
            .map(|v| PackageVersion {
                digest: v.name,
                tags: v.metadata.container.tags,
                pushed: v.updated_at.or(v.created_at),
            })
            .collect())
    }

    /// Follows a GitHub listing (`per_page`, `page`, `Link: <…>; rel="next"`
    /// on the API's own origin) with the account's token.
    async fn github_pages<T: serde::de::DeserializeOwned>(
        &self,
        api: &str,
        first: &str,
        what: &str,
    ) -> Result<Vec<T>, SourceError> {
        let base = reqwest::Url::parse(api).map_err(|e| {
            SourceError::Registry(format!("the GitHub API address {api} is not a URL: {e}"))
        })?;
        let host = url_host(&base, "the GitHub API address")?;
        let size = self.options.page_size.clamp(1, 100);
        let sep = if first.contains('?') { '&' } else { '?' };
        let mut url = reqwest::Url::parse(&format!("{first}{sep}per_page={size}&page=1"))
            .map_err(|e| SourceError::Registry(format!("bad GitHub API path: {e}")))?;
        let mut out = Vec::new();
        let mut pages = Pages::default();
        loop {
            pages.visit(url.as_str(), "GitHub's API", what)?;
            let auth = match &self.credential {
                Some(c) => ApiAuth::Bearer(c.secret.expose()),
                None => ApiAuth::None,
            };
            let resp = self
                .api_get(
                    &host,
                    url.clone(),
                    auth,
                    &[
                        ("Accept", "application/vnd.github+json"),
                        ("X-GitHub-Api-Version", "2022-11-28"),
                    ],
                    "GitHub's API",
                )
                .await?;
            let status = resp.status();
            if !status.is_success() {
                return Err(match status.as_u16() {
                    404 => SourceError::NotFound(format!("{what} were not found on GitHub (404)")),
                    401 | 403 => SourceError::Registry(format!(
                        "GitHub refused {what} ({status}): listing packages needs a personal access token with read:packages; store it with `vedette credential add --registry ghcr.io --username USER`"
                    )),
                    _ => SourceError::Registry(format!("GitHub answered {status} for {what}")),
                });
            }
            let next = next_absolute(resp.headers(), &base);
            let body = body_capped(resp, MAX_LISTING, &host, what).await?;
            let page: Vec<T> = serde_json::from_slice(&body).map_err(|e| {
                SourceError::Format(format!("GitHub answered something that is not {what}: {e}"))
            })?;
            let empty = page.is_empty();
            out.extend(page);
            match next {
                Some(n) if !empty => url = n,
                _ => return Ok(out),
            }
        }
    }
}

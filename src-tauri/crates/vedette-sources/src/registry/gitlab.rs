//! GitLab's container registry API (`/api/v4`): the registry repositories of
//! a group (its subgroups' and projects' included). GitLab's registry
//! lists no catalog to anyone but an administrator, so a selector such as
//! `group/*` is answered here; each repository's tags are then read through
//! the OCI API as for any registry. Paths and fields as GitLab's Container
//! registry API documentation has them (`doc/api/container_registry.md`;
//! kept in `tests/data/gitlab/container-registry-extract.json`).

use super::{body_capped, next_absolute, url_host, ApiAuth, Client, Pages, MAX_LISTING};
use crate::SourceError;

impl Client {
    /// The registry repositories (`group/project[/name]`) of `group` on the
    /// GitLab at `api` (its URL, e.g. `https://gitlab.example.com`), read
    /// with the registry credential's token (`PRIVATE-TOKEN`).
    pub async fn gitlab_repositories(
        &self,
        api: &str,
        group: &str,
    ) -> Result<Vec<String>, SourceError> {
        #[derive(serde::Deserialize)]
        struct Repository {
            path: String,
        }
        let base = reqwest::Url::parse(api).map_err(|e| {
            SourceError::Registry(format!("the GitLab address {api} is not a URL: {e}"))
        })?;
        let host = url_host(&base, "the GitLab address")?;
        let what = format!("the registry repositories of group {group} (GitLab API)");
        let size = self.options.page_size.clamp(1, 100);
        let mut url = base
            .join(&format!(
                "/api/v4/groups/{}/registry/repositories?per_page={size}&page=1",
                group.replace('/', "%2F")
            ))
            .map_err(|e| SourceError::Registry(format!("bad GitLab path: {e}")))?;
        let mut out = Vec::new();
        let mut pages = Pages::default();
        loop {
            pages.visit(url.as_str(), &format!("GitLab at {host}"), &what)?;
            let auth = match &self.credential {
                Some(c) => ApiAuth::Header("PRIVATE-TOKEN", c.secret.expose()),
                None => ApiAuth::None,
            };
            let resp = self
                .api_get(&host, url.clone(), auth, &[], "GitLab")
                .await?;
            let status = resp.status();
            if !status.is_success() {
                return Err(match status.as_u16() {
                    404 => SourceError::NotFound(format!(
                        "GitLab at {host} has no group {group} this account can see (404); check the group path, or the token's access to it"
                    )),
                    401 | 403 => SourceError::Registry(format!(
                        "GitLab at {host} refused {what} ({status}): listing needs an access token with read_api (a deploy token cannot list; name the repositories instead)"
                    )),
                    _ => SourceError::Registry(format!("GitLab at {host} answered {status} for {what}")),
                });
            }
            let next = next_absolute(resp.headers(), &base);
            let body = body_capped(resp, MAX_LISTING, &host, &what).await?;
            let page: Vec<Repository> = serde_json::from_slice(&body).map_err(|e| {
                SourceError::Format(format!("GitLab answered something that is not {what}: {e}"))
            })?;
            let empty = page.is_empty();
            out.extend(page.into_iter().map(|r| r.path));
            match next {
                Some(n) if !empty => url = n,
                _ => return Ok(out),
            }
        }
    }
}

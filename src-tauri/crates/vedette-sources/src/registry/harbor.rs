//! Harbor's own API (v2.0, `/api/v2.0`): projects → repositories →
//! artifacts with their tags and push times. A robot account may not call
//! the distribution catalog (`/v2/_catalog` is for system admins), but it
//! may list the projects it belongs to through this API, and the artifacts'
//! digests and push times choose `latest:N` without reading a manifest or a
//! config. Paths and fields as Harbor's published swagger describes them
//! (`api/v2.0/swagger.yaml` in goharbor/harbor; the fields read are in
//! `tests/data/harbor/api-v2.0-extract.json`).

use super::{api_host, body_capped, Artifact, Client, On, Pages, MAX_LISTING};
use crate::SourceError;

impl Client {
    /// Whether `registry` is a Harbor: its `/api/v2.0/systeminfo` (open to
    /// anyone) names a Harbor version.
    pub async fn is_harbor(&self, registry: &str) -> bool {
        #[derive(serde::Deserialize)]
        struct GeneralInfo {
            harbor_version: Option<String>,
        }
        match self
            .harbor_get::<GeneralInfo>(registry, "/api/v2.0/systeminfo", "its system info")
            .await
        {
            Ok((info, _)) => info.harbor_version.is_some(),
            Err(e) => {
                tracing::debug!("{registry} is not taken for a Harbor: {e}");
                false
            }
        }
    }

    /// Every repository (`project/name`) of the projects the account sees.
    pub async fn harbor_repositories(&self, registry: &str) -> Result<Vec<String>, SourceError> {
        #[derive(serde::Deserialize)]
        struct Project {
            name: String,
        }
        #[derive(serde::Deserialize)]
        struct Repository {
            name: String,
        }
        let mut out = Vec::new();
        let projects: Vec<Project> = self
            .harbor_pages(
                registry,
                "/api/v2.0/projects?with_detail=false",
                "its projects",
            )
            .await?;
        for p in projects {
            let repos: Vec<Repository> = self
                .harbor_pages(
                    registry,
                    &format!("/api/v2.0/projects/{}/repositories", escape(&p.name)),
                    &format!("the repositories of project {}", p.name),
                )
                .await?;
            out.extend(repos.into_iter().map(|r| r.name));
        }
        Ok(out)
    }

    /// The tagged artifacts of a repository (`project/name`).
    pub async fn harbor_artifacts(
        &self,
        registry: &str,
        repository: &str,
    ) -> Result<Vec<Artifact>, SourceError> {
        #[derive(serde::Deserialize)]
        struct Tag {
            name: String,
        }
        #[derive(serde::Deserialize)]
        struct Raw {
            digest: String,
            push_time: Option<String>,
            manifest_media_type: Option<String>,
            #[serde(default)]
            tags: Option<Vec<Tag>>,
        }
        let (project, name) = repository.split_once('/').ok_or_else(|| {
            SourceError::Registry(format!(
                "{repository} is not a Harbor repository name (project/repository)"
            ))
        })?;
        // A repository name with a slash is escaped twice (a/b → a%252Fb).
        let path = format!(
            "/api/v2.0/projects/{}/repositories/{}/artifacts?with_tag=true&with_label=false&with_scan_overview=false",
            escape(project),
            escape(&escape(name))
        );
        let raw: Vec<Raw> = self
            .harbor_pages(registry, &path, &format!("the artifacts of {repository}"))
            .await?;
        Ok(raw
            .into_iter()
            .map(|a| Artifact {
                index: a
                    .manifest_media_type
                    .as_deref()
                    .is_some_and(|m| m.contains("manifest.list") || m.contains("image.index")),
                digest: a.digest,
                push_time: a.push_time,
                tags: a
                    .tags
                    .unwrap_or_default()
                    .into_iter()
                    .map(|t| t.name)
                    .collect(),
            })
            .filter(|a| !a.tags.is_empty())
            .collect())
    }

    /// Follows a Harbor listing page by page (`page`, `page_size`, its
    /// `Link: <…>; rel="next"`).
    async fn harbor_pages<T: serde::de::DeserializeOwned>(
        &self,
        registry: &str,
        first: &str,
        what: &str,
    ) -> Result<Vec<T>, SourceError> {
        let sep = if first.contains('?') { '&' } else { '?' };
        let size = self.options.page_size.clamp(1, 100);
        let mut path = Some(format!("{first}{sep}page=1&page_size={size}"));
        let mut out = Vec::new();
        let mut pages = Pages::default();
        while let Some(p) = path.take() {
            pages.visit(&p, &format!("Harbor {registry}"), what)?;
            let (items, next): (Vec<T>, _) = self.harbor_get(registry, &p, what).await?;
            let empty = items.is_empty();
            out.extend(items);
            path = next.filter(|_| !empty);
        }
        Ok(out)
    }

    /// One GET of Harbor's API with the account's basic credentials (robot
    /// accounts included): its JSON and the next page's path.
    async fn harbor_get<T: serde::de::DeserializeOwned>(
        &self,
        registry: &str,
        path: &str,
        what: &str,
    ) -> Result<(T, Option<String>), SourceError> {
        let on = On {
            registry,
            host: api_host(registry),
            scope: String::new(),
            what: format!("{what} (Harbor API)"),
            blob: false,
            head: false,
            basic: true,
        };
        let resp = self.get_on(&on, path, Some("application/json")).await?;
        let next = super::next_link(resp.headers());
        let body = body_capped(resp, MAX_LISTING, on.host, &on.what).await?;
        let v: T = serde_json::from_slice(&body).map_err(|e| {
            SourceError::Format(format!(
                "Harbor {registry} answered something that is not {what}: {e}"
            ))
        })?;
        Ok((v, next))
    }
}

/// Percent-escapes a path segment (Harbor names are [a-z0-9._/-]).
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_names_with_slashes_are_escaped_twice_as_harbor_asks() {
        assert_eq!(escape(&escape("a/b")), "a%252Fb");
        assert_eq!(escape("shop"), "shop");
    }
}

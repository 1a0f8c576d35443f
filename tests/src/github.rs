//! GitHub's Packages API on loopback, for GHCR: an owner's container
//! packages and each package's versions (named by digest, tags in
//! `metadata.container.tags`), paged with `per_page`, `page` and an absolute
//! `Link` header, behind a personal access token, in the shapes of GitHub's
//! OpenAPI description (npm `@octokit/openapi`; the part used is
//! `tests/data/github/packages-extract.json`). The
//! [`crate::proxy::FaultProxy`] serves it beside a real docker-registry.

use serde_json::{json, Value};

#[derive(Clone, Debug)]
pub struct Version {
    pub digest: String,
    pub tags: Vec<String>,
    /// RFC 3339.
    pub pushed: String,
}

/// An organisation's container packages and the token that reads them.
#[derive(Clone, Debug)]
pub struct GithubApi {
    pub org: String,
    pub packages: Vec<(String, Vec<Version>)>,
    pub token: String,
}

impl GithubApi {
    /// Status, extra headers and body for `GET /orgs/…` or `/users/…` on
    /// `origin` (`http://127.0.0.1:PORT`, for the `Link` headers).
    pub fn answer(
        &self,
        path: &str,
        authorization: &str,
        origin: &str,
    ) -> (u16, Vec<(String, String)>, String) {
        if authorization != format!("Bearer {}", self.token) {
            return (401, vec![], error("Requires authentication"));
        }
        let (route, query) = path.split_once('?').unwrap_or((path, ""));
        let parts: Vec<&str> = route.trim_start_matches('/').split('/').collect();
        let items: Vec<Value> = match parts.as_slice() {
            ["orgs", org, "packages"] if *org == self.org => self
                .packages
                .iter()
                .enumerate()
                .map(|(i, (name, v))| package(i, &self.org, name, v.len()))
                .collect(),
            ["orgs", org, "packages", "container", name, "versions"] if *org == self.org => {
                let name = name.replace("%2F", "/");
                match self.packages.iter().find(|(n, _)| *n == name) {
                    Some((_, versions)) => versions
                        .iter()
                        .enumerate()
                        .map(|(i, v)| version(i, &self.org, &name, v))
                        .collect(),
                    None => return (404, vec![], error("Package not found.")),
                }
            }
            _ => return (404, vec![], error("Not Found")),
        };
        let (page, size, from) = crate::page_of(query, "page", "per_page", 30);
        let total = items.len();
        let body: Vec<Value> = items.into_iter().skip(from).take(size).collect();
        let mut headers = Vec::new();
        if from + size < total {
            let rest: Vec<&str> = query
                .split('&')
                .filter(|kv| {
                    !kv.starts_with("page=") && !kv.starts_with("per_page=") && !kv.is_empty()
                })
                .collect();
            let mut q = rest.join("&");
            if !q.is_empty() {
                q.push('&');
            }
            headers.push((
                "Link".to_owned(),
                format!(
                    "<{origin}{route}?{q}per_page={size}&page={}>; rel=\"next\"",
                    page + 1
                ),
            ));
        }
        (200, headers, Value::Array(body).to_string())
    }
}

fn error(message: &str) -> String {
    json!({"message": message, "documentation_url": "https://docs.github.com/rest/packages/packages"}).to_string()
}

fn owner(org: &str) -> Value {
    json!({
        "login": org, "id": 1, "node_id": "MDEyOk9yZ2FuaXphdGlvbjE=",
        "avatar_url": "", "gravatar_id": "", "url": "", "html_url": "",
        "followers_url": "", "following_url": "", "gists_url": "", "starred_url": "",
        "subscriptions_url": "", "organizations_url": "", "repos_url": "", "events_url": "",
        "received_events_url": "", "type": "Organization", "site_admin": false,
    })
}

fn package(i: usize, org: &str, name: &str, versions: usize) -> Value {
    json!({
        "id": i + 1,
        "name": name,
        "package_type": "container",
        "owner": owner(org),
        "version_count": versions,
        "visibility": "private",
        "url": format!("https://api.github.com/orgs/{org}/packages/container/{name}"),
        "html_url": format!("https://github.com/orgs/{org}/packages/container/package/{name}"),
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-11-01T00:00:00Z",
    })
}

fn version(i: usize, org: &str, name: &str, v: &Version) -> Value {
    json!({
        "id": i + 1,
        "name": v.digest,
        "url": format!("https://api.github.com/orgs/{org}/packages/container/{name}/versions/{}", i + 1),
        "package_html_url": format!("https://github.com/orgs/{org}/packages/container/package/{name}"),
        "html_url": format!("https://github.com/orgs/{org}/packages/container/{name}/{}", i + 1),
        "created_at": v.pushed,
        "updated_at": v.pushed,
        "metadata": {"package_type": "container", "container": {"tags": v.tags}},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every field the loopback GitHub writes is one its OpenAPI
    /// description defines for that object, and the required ones are there.
    #[test]
    fn the_answers_have_the_shapes_of_githubs_openapi_description() {
        let extract: Value = serde_json::from_slice(
            &std::fs::read(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/data/github/packages-extract.json"
            ))
            .unwrap(),
        )
        .unwrap();
        let check = |schema: &str, v: &Value| {
            let s = &extract["schemas"][schema];
            let props = s["properties"].as_object().unwrap();
            for k in v.as_object().unwrap().keys() {
                assert!(props.contains_key(k), "{schema} has no field {k}");
            }
            for r in s["required"].as_array().into_iter().flatten() {
                assert!(v.get(r.as_str().unwrap()).is_some(), "{schema} lacks {r}");
            }
        };
        let v = Version {
            digest: "sha256:00".into(),
            tags: vec!["1".into()],
            pushed: "2026-01-01T00:00:00Z".into(),
        };
        let p = package(0, "acme", "api", 1);
        check("package", &p);
        check("simple-user", &p["owner"]);
        check("package-version", &version(0, "acme", "api", &v));
        check("basic-error", &serde_json::from_str(&error("x")).unwrap());
    }
}

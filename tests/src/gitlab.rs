//! GitLab's container registry API on loopback: a group's registry
//! repositories, paged with `per_page`, `page` and an absolute `Link`
//! header, behind a `PRIVATE-TOKEN`, in the shape GitLab's Container
//! registry API documentation shows (`doc/api/container_registry.md`; kept
//! in `tests/data/gitlab/container-registry-extract.json`). The
//! [`crate::proxy::FaultProxy`] serves it beside a real docker-registry,
//! whose catalog it refuses as GitLab's registry does for users.

use serde_json::{json, Value};

#[derive(Clone, Debug)]
pub struct GitlabApi {
    /// Registry repository paths (`group/project[/name]`).
    pub repositories: Vec<String>,
    pub token: String,
}

impl GitlabApi {
    pub fn answer(
        &self,
        path: &str,
        private_token: &str,
        origin: &str,
    ) -> (u16, Vec<(String, String)>, String) {
        if private_token != self.token {
            return (
                401,
                vec![],
                json!({"message": "401 Unauthorized"}).to_string(),
            );
        }
        let (route, query) = path.split_once('?').unwrap_or((path, ""));
        let parts: Vec<&str> = route.trim_start_matches('/').split('/').collect();
        let ["api", "v4", "groups", group, "registry", "repositories"] = parts.as_slice() else {
            return (404, vec![], json!({"message": "404 Not Found"}).to_string());
        };
        let group = group.replace("%2F", "/");
        let items: Vec<Value> = self
            .repositories
            .iter()
            .enumerate()
            .filter(|(_, r)| r.starts_with(&format!("{group}/")))
            .map(|(i, r)| repository(i, r))
            .collect();
        if items.is_empty() {
            return (
                404,
                vec![],
                json!({"message": "404 Group Not Found"}).to_string(),
            );
        }
        let (page, size, from) = crate::page_of(query, "page", "per_page", 20);
        let total = items.len();
        let body: Vec<Value> = items.into_iter().skip(from).take(size).collect();
        let mut headers = vec![("X-Total".to_owned(), total.to_string())];
        if from + size < total {
            headers.push(("X-Next-Page".to_owned(), (page + 1).to_string()));
            headers.push((
                "Link".to_owned(),
                format!(
                    "<{origin}{route}?per_page={size}&page={}>; rel=\"next\"",
                    page + 1
                ),
            ));
        }
        (200, headers, Value::Array(body).to_string())
    }
}

fn repository(i: usize, path: &str) -> Value {
    let (project, name) = match path.matches('/').count() {
        1 => (path, ""),
        _ => path.rsplit_once('/').unwrap_or((path, "")),
    };
    json!({
        "id": i + 1,
        "name": name,
        "path": path,
        "project_id": project.len(),
        "location": format!("registry.example.com/{path}"),
        "created_at": "2026-01-10T13:38:57.391Z",
        "cleanup_policy_started_at": null,
        "status": null,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The loopback GitLab writes the fields the documentation shows.
    #[test]
    fn the_answers_have_the_fields_of_gitlabs_documentation() {
        let extract: Value = serde_json::from_slice(
            &std::fs::read(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/data/gitlab/container-registry-extract.json"
            ))
            .unwrap(),
        )
        .unwrap();
        let fields: Vec<&str> = extract["repository"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap())
            .collect();
        let r = repository(0, "group/project/releases");
        let keys: Vec<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
        let mut want = fields.clone();
        want.sort_unstable();
        let mut got = keys.clone();
        got.sort_unstable();
        assert_eq!(got, want);
        assert_eq!(r["name"], "releases");
        assert_eq!(repository(0, "group/project")["name"], "");
    }
}

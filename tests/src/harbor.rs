//! Harbor's API (v2.0) on loopback, answered with the response shapes of
//! Harbor's published swagger (`api/v2.0/swagger.yaml` in goharbor/harbor;
//! the part used is `tests/data/harbor/api-v2.0-extract.json`): system
//! info, projects, repositories and artifacts with tags, paged with `page`,
//! `page_size`, `X-Total-Count` and `Link`, behind a robot account's basic
//! credentials. The [`crate::proxy::FaultProxy`] serves it in front of a
//! real docker-registry, which serves the images.

use serde_json::{json, Value};

/// One repository (`project/name`) and its artifacts.
#[derive(Clone, Debug)]
pub struct Repo {
    pub name: String,
    pub artifacts: Vec<Artifact>,
}

#[derive(Clone, Debug)]
pub struct Artifact {
    pub digest: String,
    /// RFC 3339, as Harbor writes it.
    pub push_time: String,
    pub tags: Vec<String>,
}

/// What the Harbor serves, and the robot account it lets in.
#[derive(Clone, Debug)]
pub struct HarborApi {
    pub repos: Vec<Repo>,
    pub robot: (String, String),
}

impl HarborApi {
    fn projects(&self) -> Vec<String> {
        let mut p: Vec<String> = self
            .repos
            .iter()
            .filter_map(|r| r.name.split_once('/').map(|(p, _)| p.to_owned()))
            .collect();
        p.sort();
        p.dedup();
        p
    }

    /// Status, extra headers and body for a request to `/api/v2.0/…`.
    pub fn answer(&self, path: &str, authorization: &str) -> (u16, Vec<(String, String)>, String) {
        let (route, query) = path.split_once('?').unwrap_or((path, ""));
        let route = route.trim_start_matches("/api/v2.0");
        if route == "/systeminfo" {
            return (200, vec![], system_info().to_string());
        }
        use base64::Engine;
        let basic = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD
                .encode(format!("{}:{}", self.robot.0, self.robot.1))
        );
        if authorization != basic {
            return (401, vec![], errors("UNAUTHORIZED", "unauthorized"));
        }
        let (page, size, from) = crate::page_of(query, "page", "page_size", 10);
        let parts: Vec<&str> = route.trim_start_matches('/').split('/').collect();
        let items: Vec<Value> = match parts.as_slice() {
            ["projects"] => self
                .projects()
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    project(
                        i,
                        p,
                        self.repos
                            .iter()
                            .filter(|r| r.name.starts_with(&format!("{p}/")))
                            .count(),
                    )
                })
                .collect(),
            ["projects", p, "repositories"] => self
                .repos
                .iter()
                .enumerate()
                .filter(|(_, r)| r.name.starts_with(&format!("{p}/")))
                .map(|(i, r)| repository(i, r))
                .collect(),
            ["projects", p, "repositories", name, "artifacts"] => {
                // The name arrives escaped twice (a/b → a%252Fb).
                let name = name.replace("%252F", "/").replace("%2F", "/");
                let full = format!("{p}/{name}");
                match self.repos.iter().position(|r| r.name == full) {
                    Some(i) => self.repos[i]
                        .artifacts
                        .iter()
                        .enumerate()
                        .map(|(j, a)| artifact(i, j, a))
                        .collect(),
                    None => {
                        return (
                            404,
                            vec![],
                            errors("NOT_FOUND", &format!("repository {full} not found")),
                        )
                    }
                }
            }
            _ => return (404, vec![], errors("NOT_FOUND", "no such API")),
        };
        let total = items.len();
        let body: Vec<Value> = items.into_iter().skip(from).take(size).collect();
        let mut headers = vec![("X-Total-Count".to_owned(), total.to_string())];
        if from + size < total {
            let base = path.split_once('?').map_or(path, |(b, _)| b);
            let rest: Vec<&str> = query
                .split('&')
                .filter(|kv| {
                    !kv.starts_with("page=") && !kv.starts_with("page_size=") && !kv.is_empty()
                })
                .collect();
            let mut q = rest.join("&");
            if !q.is_empty() {
                q.push('&');
            }
            headers.push((
                "Link".to_owned(),
                format!(
                    "<{base}?{q}page={}&page_size={size}>; rel=\"next\"",
                    page + 1
                ),
            ));
        }
        (200, headers, Value::Array(body).to_string())
    }
}

fn errors(code: &str, message: &str) -> String {
    json!({"errors": [{"code": code, "message": message}]}).to_string()
}

fn system_info() -> Value {
    json!({
        "harbor_version": "v2.11.0-vedette-test",
        "auth_mode": "db_auth",
        "primary_auth_mode": false,
        "project_creation_restriction": "everyone",
        "self_registration": false,
        "has_ca_root": false,
        "read_only": false,
        "notification_enable": true,
        "registry_storage_provider_name": "filesystem",
        "current_time": "2026-12-02T00:00:00.000Z",
        "banner_message": "",
    })
}

fn project(i: usize, name: &str, repos: usize) -> Value {
    json!({
        "project_id": i + 1,
        "owner_id": 1,
        "name": name,
        "registry_id": null,
        "creation_time": "2026-01-01T00:00:00.000Z",
        "update_time": "2026-01-01T00:00:00.000Z",
        "deleted": false,
        "owner_name": "admin",
        "repo_count": repos,
        "metadata": {"public": "false"},
    })
}

fn repository(i: usize, r: &Repo) -> Value {
    json!({
        "id": i + 1,
        "project_id": 1,
        "name": r.name,
        "description": "",
        "artifact_count": r.artifacts.len(),
        "pull_count": 0,
        "creation_time": "2026-01-01T00:00:00.000Z",
        "update_time": "2026-01-01T00:00:00.000Z",
    })
}

fn artifact(i: usize, j: usize, a: &Artifact) -> Value {
    json!({
        "id": i * 1000 + j + 1,
        "type": "IMAGE",
        "media_type": "application/vnd.oci.image.config.v1+json",
        "manifest_media_type": "application/vnd.oci.image.manifest.v1+json",
        "project_id": 1,
        "repository_id": i + 1,
        "digest": a.digest,
        "size": 1024,
        "push_time": a.push_time,
        "pull_time": "0001-01-01T00:00:00.000Z",
        "extra_attrs": {"os": "linux", "architecture": "amd64"},
        "annotations": null,
        "references": null,
        "labels": null,
        "tags": a.tags.iter().enumerate().map(|(k, t)| json!({
            "id": k + 1,
            "repository_id": i + 1,
            "artifact_id": i * 1000 + j + 1,
            "name": t,
            "push_time": a.push_time,
            "pull_time": "0001-01-01T00:00:00.000Z",
            "immutable": false,
        })).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every field the loopback Harbor writes is one Harbor's swagger
    /// defines for that object.
    #[test]
    fn the_answers_have_the_shapes_of_harbors_swagger() {
        let extract: Value = serde_json::from_slice(
            &std::fs::read(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/data/harbor/api-v2.0-extract.json"
            ))
            .unwrap(),
        )
        .unwrap();
        let defs = &extract["definitions"];
        let check = |def: &str, v: &Value| {
            let props = defs[def]["properties"].as_object().unwrap();
            for k in v.as_object().unwrap().keys() {
                assert!(props.contains_key(k), "{def} has no field {k}");
            }
        };
        let a = Artifact {
            digest: "sha256:00".into(),
            push_time: "2026-01-01T00:00:00.000Z".into(),
            tags: vec!["1".into()],
        };
        let r = Repo {
            name: "p/r".into(),
            artifacts: vec![a.clone()],
        };
        check("GeneralInfo", &system_info());
        check("Project", &project(0, "p", 1));
        check("Repository", &repository(0, &r));
        let art = artifact(0, 0, &a);
        check("Artifact", &art);
        check("Tag", &art["tags"][0]);
        let e: Value = serde_json::from_str(&errors("UNAUTHORIZED", "x")).unwrap();
        check("Errors", &e);
        check("Error", &e["errors"][0]);
    }
}

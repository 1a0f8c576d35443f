//! Docker Hub's API on loopback: a repository's tags, paged with `page`,
//! `page_size` and an absolute `next` URL, each tag with its push time and
//! one image per platform, in the shapes of the Docker Hub API reference
//! (`content/reference/api/hub/latest.yaml` in docker/docs; the fields used
//! are in `tests/data/dockerhub/hub-api-extract.json`). The
//! [`crate::proxy::FaultProxy`] serves it beside a real docker-registry.

use serde_json::{json, Value};

#[derive(Clone, Debug)]
pub struct HubTag {
    pub name: String,
    /// RFC 3339.
    pub pushed: String,
    /// (os, architecture, digest of that platform's manifest)
    pub images: Vec<(String, String, String)>,
}

/// Repositories (`namespace/name`) and their tags.
#[derive(Clone, Debug)]
pub struct HubApi {
    pub repos: Vec<(String, Vec<HubTag>)>,
}

impl HubApi {
    /// Status and body for `GET /v2/namespaces/…` on `origin`
    /// (`http://127.0.0.1:PORT`, for the `next` links).
    pub fn answer(&self, path: &str, origin: &str) -> (u16, String) {
        let (route, query) = path.split_once('?').unwrap_or((path, ""));
        let parts: Vec<&str> = route.trim_start_matches('/').split('/').collect();
        let ["v2", "namespaces", ns, "repositories", repo, "tags"] = parts.as_slice() else {
            return (404, error("not found"));
        };
        let full = format!("{ns}/{repo}");
        let Some((_, tags)) = self.repos.iter().find(|(n, _)| *n == full) else {
            return (404, error("object not found"));
        };
        let (page, size, from) = crate::page_of(query, "page", "page_size", 10);
        let link = |p: usize| format!("{origin}{route}?page={p}&page_size={size}");
        let body = json!({
            "count": tags.len(),
            "next": if from + size < tags.len() { Value::String(link(page + 1)) } else { Value::Null },
            "previous": if page > 1 { Value::String(link(page - 1)) } else { Value::Null },
            "results": tags.iter().enumerate().skip(from).take(size).map(|(i, t)| tag(i, t)).collect::<Vec<_>>(),
        });
        (200, body.to_string())
    }
}

fn error(message: &str) -> String {
    json!({"message": message, "errinfo": {}}).to_string()
}

fn tag(i: usize, t: &HubTag) -> Value {
    json!({
        "id": i + 1,
        "creator": 7,
        "last_updated": t.pushed,
        "last_updater": 7,
        "last_updater_username": "ada",
        "name": t.name,
        "repository": 1,
        "full_size": 1024,
        "v2": "true",
        "status": "active",
        "tag_last_pulled": null,
        "tag_last_pushed": t.pushed,
        "images": t.images.iter().map(|(os, arch, digest)| json!({
            "architecture": arch,
            "features": "",
            "variant": null,
            "digest": digest,
            "os": os,
            "os_features": "",
            "os_version": null,
            "size": 1024,
            "status": "active",
            "last_pulled": null,
            "last_pushed": t.pushed,
        })).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every field the loopback Docker Hub writes is one the reference
    /// defines for that object.
    #[test]
    fn the_answers_have_the_shapes_of_the_docker_hub_reference() {
        let extract: Value = serde_json::from_slice(
            &std::fs::read(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/data/dockerhub/hub-api-extract.json"
            ))
            .unwrap(),
        )
        .unwrap();
        let check = |schema: &str, v: &Value| {
            let props: Vec<&str> = extract["schemas"][schema]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p.as_str().unwrap())
                .collect();
            for k in v.as_object().unwrap().keys() {
                assert!(props.contains(&k.as_str()), "{schema} has no field {k}");
            }
        };
        let api = HubApi {
            repos: vec![(
                "ns/r".into(),
                vec![
                    HubTag {
                        name: "1".into(),
                        pushed: "2026-01-01T00:00:00Z".into(),
                        images: vec![("linux".into(), "amd64".into(), "sha256:00".into())],
                    };
                    3
                ],
            )],
        };
        let (code, body) = api.answer(
            "/v2/namespaces/ns/repositories/r/tags?page=1&page_size=2",
            "http://h",
        );
        assert_eq!(code, 200);
        let page: Value = serde_json::from_str(&body).unwrap();
        check("paginated_tags", &page);
        assert_eq!(
            page["next"],
            "http://h/v2/namespaces/ns/repositories/r/tags?page=2&page_size=2"
        );
        check("tag", &page["results"][0]);
        check("image", &page["results"][0]["images"][0]);
        let (code, body) = api.answer("/v2/namespaces/ns/repositories/x/tags", "http://h");
        assert_eq!(code, 404);
        check("error", &serde_json::from_str(&body).unwrap());
    }
}

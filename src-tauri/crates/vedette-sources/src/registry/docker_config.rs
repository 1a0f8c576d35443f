//! Credentials from Docker's `config.json` (`auths`, `credHelpers`,
//! `credsStore`), so registries a user already logged in to with
//! `docker login` work without typing the password again.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use base64::Engine;
use vedette_model::Sensitive;

use super::Credential;

/// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
pub fn default_path() -> Option<PathBuf> {
    std::env::var_os("DOCKER_CONFIG")
        .map(|d| PathBuf::from(d).join("config.json"))
        .or_else(|| dirs_home().map(|h| h.join(".docker/config.json")))
}

/// Podman's (and skopeo's, buildah's) `auth.json`, in Docker's format:
/// `REGISTRY_AUTH_FILE`, else `$XDG_RUNTIME_DIR/containers/auth.json`, else
/// `~/.config/containers/auth.json`; the ones that exist.
pub fn podman_paths() -> Vec<PathBuf> {
    if let Some(f) = std::env::var_os("REGISTRY_AUTH_FILE").filter(|f| !f.is_empty()) {
        return vec![PathBuf::from(f)];
    }
    let mut paths = Vec::new();
    if let Some(run) = std::env::var_os("XDG_RUNTIME_DIR") {
        paths.push(PathBuf::from(run).join("containers/auth.json"));
    }
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| dirs_home().map(|h| h.join(".config")));
    if let Some(c) = config {
        paths.push(c.join("containers/auth.json"));
    }
    paths.into_iter().filter(|p| p.is_file()).collect()
}

fn dirs_home() -> Option<PathBuf> {
    std::env::var_os("HOME").map(PathBuf::from)
}

/// The keys Docker may have stored a registry under.
fn keys_for(registry: &str) -> Vec<String> {
    let registry = &vedette_model::canonical_registry_host(registry);
    if registry == "docker.io" {
        vec![
            "https://index.docker.io/v1/".into(),
            "index.docker.io".into(),
            "docker.io".into(),
            "registry-1.docker.io".into(),
        ]
    } else {
        vec![
            registry.to_owned(),
            format!("https://{registry}"),
            format!("http://{registry}"),
            format!("https://{registry}/v1/"),
        ]
    }
}

/// Looks up `registry` in the Docker config at `path`. `Ok(None)` when the
/// file or an entry for the registry is missing.
pub fn lookup(path: &Path, registry: &str) -> Result<Option<Credential>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let cfg: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| format!("{} is not valid JSON: {e}", path.display()))?;
    let keys = keys_for(registry);
    // A per-registry helper wins, then an entry in auths, then the default store.
    if let Some((_, helper)) = entry_for(&cfg["credHelpers"], registry) {
        if let Some(helper) = helper.as_str() {
            return helper_get(helper, &keys[0]);
        }
    }
    if let Some((k, entry)) = entry_for(&cfg["auths"], registry) {
        // An identity token (what `docker login` keeps for registries that
        // hand out OAuth2 refresh tokens) is traded for access tokens.
        if let Some(t) = entry["identitytoken"].as_str().filter(|t| !t.is_empty()) {
            return Ok(Some(Credential {
                username: super::IDENTITY_TOKEN_USER.to_owned(),
                secret: Sensitive::new(t.to_owned()),
            }));
        }
        if let Some(auth) = entry["auth"].as_str().filter(|a| !a.is_empty()) {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(auth)
                .map_err(|_| {
                    format!("the auth entry for {k} in {} is not base64", path.display())
                })?;
            let decoded = String::from_utf8(decoded)
                .map_err(|_| format!("the auth entry for {k} in {} is not text", path.display()))?;
            let (user, pass) = decoded.split_once(':').ok_or_else(|| {
                format!(
                    "the auth entry for {k} in {} is not user:password",
                    path.display()
                )
            })?;
            return Ok(Some(Credential {
                username: user.to_owned(),
                secret: Sensitive::new(pass.to_owned()),
            }));
        }
        if let (Some(u), Some(p)) = (entry["username"].as_str(), entry["password"].as_str()) {
            return Ok(Some(Credential {
                username: u.to_owned(),
                secret: Sensitive::new(p.to_owned()),
            }));
        }
    }
    match cfg["credsStore"].as_str().filter(|s| !s.is_empty()) {
        Some(store) => helper_get(store, &keys[0]),
        None => Ok(None),
    }
}

/// The entry of a `{host: …}` map for `registry`, whatever way its key is
/// written (`GHCR.io`, `https://ghcr.io/v1/`, `index.docker.io`).
fn entry_for<'a>(
    map: &'a serde_json::Value,
    registry: &str,
) -> Option<(&'a String, &'a serde_json::Value)> {
    let want = vedette_model::canonical_registry_host(registry);
    let host_of = |k: &str| {
        let k = k.to_ascii_lowercase();
        let k = k
            .strip_prefix("https://")
            .or_else(|| k.strip_prefix("http://"))
            .unwrap_or(&k);
        vedette_model::canonical_registry_host(k.split('/').next().unwrap_or(k))
    };
    map.as_object()?.iter().find(|(k, _)| host_of(k) == want)
}

/// Runs `docker-credential-<helper> get` with the server on stdin.
fn helper_get(helper: &str, server: &str) -> Result<Option<Credential>, String> {
    if !helper
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(format!(
            "credential helper name {helper:?} is not a plain name"
        ));
    }
    let program = format!("docker-credential-{helper}");
    let mut child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            format!("cannot run {program}: {e}; install it or remove it from the Docker config")
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(server.as_bytes());
    }
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = rx
        .recv_timeout(Duration::from_secs(30))
        .map_err(|_| format!("{program} did not answer within 30 s"))?
        .map_err(|e| format!("{program} failed: {e}"))?;
    if !out.status.success() {
        let msg = String::from_utf8_lossy(&out.stdout);
        if msg.contains("credentials not found") {
            return Ok(None);
        }
        return Err(format!("{program} failed ({})", out.status));
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Answer {
        username: String,
        secret: String,
    }
    let a: Answer = serde_json::from_slice(&out.stdout)
        .map_err(|_| format!("{program} answered something that is not a credential"))?;
    Ok(Some(Credential {
        username: a.username,
        secret: Sensitive::new(a.secret),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auths_entries_are_decoded_and_docker_hub_has_its_legacy_key() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("config.json");
        std::fs::write(
            &p,
            r#"{"auths":{"https://index.docker.io/v1/":{"auth":"YWRhOmh1bnRlcjI="},"127.0.0.1:5000":{"username":"u","password":"p"}}}"#,
        )
        .unwrap();
        let hub = lookup(&p, "docker.io").unwrap().unwrap();
        assert_eq!(
            (hub.username.as_str(), hub.secret.expose().as_str()),
            ("ada", "hunter2")
        );
        assert_eq!(lookup(&p, "127.0.0.1:5000").unwrap().unwrap().username, "u");
        assert!(lookup(&p, "ghcr.io").unwrap().is_none());
        assert!(lookup(&d.path().join("missing.json"), "ghcr.io")
            .unwrap()
            .is_none());
    }

    #[test]
    fn a_missing_helper_is_an_error_that_names_it() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("config.json");
        std::fs::write(
            &p,
            r#"{"credHelpers":{"ghcr.io":"vedette-test-nonexistent"}}"#,
        )
        .unwrap();
        let e = lookup(&p, "ghcr.io").unwrap_err();
        assert!(
            e.contains("docker-credential-vedette-test-nonexistent"),
            "{e}"
        );
    }
}

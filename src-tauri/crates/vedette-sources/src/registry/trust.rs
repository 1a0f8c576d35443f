//! Whom a registry's TLS is trusted by, like the rest of the system: the
//! platform's roots (and `SSL_CERT_FILE`), plus the CA files and the client
//! certificate that Docker and Podman keep per registry:
//! `/etc/docker/certs.d/<host>/` and `/etc/containers/certs.d/<host>/`
//! (and `~/.config/containers/certs.d/<host>/`), or `$VEDETTE_CERTS_DIR/<host>/`
//! instead of all of them. In such a folder `*.crt` files are CAs, and a
//! `*.cert` with the `*.key` of the same name is the client certificate
//! (mTLS).

use std::path::{Path, PathBuf};

use crate::SourceError;

/// Where the per-registry folders are looked for (the first that has one
/// for a host wins for the client certificate; every CA file is trusted).
pub(crate) fn certs_roots() -> Vec<PathBuf> {
    if let Some(dir) = std::env::var_os("VEDETTE_CERTS_DIR").filter(|d| !d.is_empty()) {
        return vec![PathBuf::from(dir)];
    }
    let mut roots = vec![
        PathBuf::from("/etc/docker/certs.d"),
        PathBuf::from("/etc/containers/certs.d"),
    ];
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".config")));
    if let Some(c) = config {
        roots.push(c.join("containers/certs.d"));
    }
    roots
}

/// What a host is trusted with beyond the platform's roots.
#[derive(Default)]
pub(crate) struct HostTrust {
    pub roots: Vec<reqwest::Certificate>,
    pub identity: Option<reqwest::Identity>,
    /// The files read, for messages.
    pub files: Vec<PathBuf>,
}

fn unreadable(path: &Path, e: impl std::fmt::Display) -> SourceError {
    SourceError::Registry(format!(
        "{} cannot be used as a certificate: {e}; fix or remove it",
        path.display()
    ))
}

/// Reads the per-registry folders of `host` (`registry.example.com:5000`)
/// under `roots`. A file that is there but cannot be used is an error that
/// names it: a CA that silently does not apply would look like a broken
/// registry.
pub(crate) fn host_trust(roots: &[PathBuf], host: &str) -> Result<HostTrust, SourceError> {
    let mut trust = HostTrust::default();
    // A host name never climbs out of its folder.
    if host.is_empty() || host.contains('/') || host.contains("..") {
        return Ok(trust);
    }
    for root in roots {
        let dir = root.join(host);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut names: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        names.sort();
        for path in names {
            match path.extension().and_then(|e| e.to_str()) {
                Some("crt") => {
                    let pem = std::fs::read(&path).map_err(|e| unreadable(&path, e))?;
                    let certs = reqwest::Certificate::from_pem_bundle(&pem)
                        .map_err(|e| unreadable(&path, e))?;
                    if certs.is_empty() {
                        return Err(unreadable(&path, "it holds no PEM certificate"));
                    }
                    trust.roots.extend(certs);
                    trust.files.push(path);
                }
                Some("cert") if trust.identity.is_none() => {
                    let key = path.with_extension("key");
                    let mut pem = std::fs::read(&path).map_err(|e| unreadable(&path, e))?;
                    let key_pem = std::fs::read(&key).map_err(|e| {
                        unreadable(
                            &path,
                            format!("its key {} cannot be read: {e}", key.display()),
                        )
                    })?;
                    pem.push(b'\n');
                    pem.extend_from_slice(&key_pem);
                    trust.identity =
                        Some(reqwest::Identity::from_pem(&pem).map_err(|e| unreadable(&path, e))?);
                    trust.files.push(path);
                }
                _ => {}
            }
        }
    }
    Ok(trust)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_read_outside_the_hosts_own_folder() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("evil")).unwrap();
        std::fs::write(d.path().join("evil/ca.crt"), "not a cert").unwrap();
        let roots = [d.path().join("certs.d")];
        for host in ["../evil", "a/../../evil", ""] {
            let t = host_trust(&roots, host).unwrap();
            assert!(t.files.is_empty(), "{host}");
        }
    }

    #[test]
    fn a_broken_ca_file_is_named_not_skipped() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("reg:5000")).unwrap();
        std::fs::write(d.path().join("reg:5000/ca.crt"), "garbage").unwrap();
        let e = host_trust(&[d.path().to_owned()], "reg:5000")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("reg:5000/ca.crt"), "{e}");
    }
}

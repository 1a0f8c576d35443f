use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::Sensitive;

/// What a stored credential is for. Cloud accounts and SSH keys come later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum CredentialKind {
    Registry,
    /// A private mirror of the advisory feeds (HTTP basic auth).
    FeedMirror,
    /// An SSH private key or password for a host (`user@host[:port]`).
    Host,
    /// A cloud account the new-node gate acts with (AWS).
    Cloud,
}

impl CredentialKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKind::Registry => "registry",
            CredentialKind::FeedMirror => "feed_mirror",
            CredentialKind::Host => "host",
            CredentialKind::Cloud => "cloud",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "registry" => Some(CredentialKind::Registry),
            "feed_mirror" => Some(CredentialKind::FeedMirror),
            "host" => Some(CredentialKind::Host),
            "cloud" => Some(CredentialKind::Cloud),
            _ => None,
        }
    }
}

/// A credential as the UI and the database know it: its name and what it is
/// for, never the secret itself (that lives only in the OS keyring).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct CredentialInfo {
    /// Keyring account name, e.g. `registry/ghcr.io`.
    pub name: String,
    pub kind: CredentialKind,
    /// Registry host (with port when not 443), e.g. `ghcr.io` or `127.0.0.1:5000`.
    pub host: String,
    /// The user name is not a secret (registries show it, Docker stores it in
    /// plain text); it is kept so the UI can say whose credential is set.
    pub username: String,
    #[ts(type = "string")]
    pub created_at: DateTime<Utc>,
    #[ts(type = "string")]
    pub updated_at: DateTime<Utc>,
}

/// What the Settings dialog sends to add or replace a registry credential.
///
/// Deserialize only: the secret enters through this type and is never sent
/// back out ([`Sensitive`] has no `Serialize` and hides itself from `Debug`).
#[derive(Debug, Clone, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct NewRegistryCredential {
    pub host: String,
    pub username: String,
    /// Password or access token.
    #[ts(type = "string")]
    #[schema(value_type = String, format = Password, write_only)]
    pub secret: Sensitive<String>,
}

/// The keyring account name for a host's SSH login (`user@host[:port]`).
pub fn host_credential_name(address: &crate::HostAddress) -> String {
    format!("host/{address}")
}

/// The keyring account name for a registry host.
pub fn registry_credential_name(host: &str) -> String {
    format!("registry/{}", canonical_registry_host(host))
}

/// A registry host written one way everywhere: lower case (host names are
/// case-insensitive), without the default HTTPS port, and Docker Hub's
/// aliases as `docker.io`. A target `GHCR.io:443` finds the credential of
/// `ghcr.io`.
pub fn canonical_registry_host(host: &str) -> String {
    let h = host.trim().to_ascii_lowercase();
    let h = h.strip_suffix(":443").unwrap_or(&h);
    match h {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => {
            "docker.io".into()
        }
        _ => h.to_owned(),
    }
}

/// The keyring account name for a feed mirror, by its origin
/// (`https://mirror.example:8443`).
pub fn feed_mirror_credential_name(origin: &str) -> String {
    format!("feed-mirror/{origin}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_credential_debug_hides_the_secret() {
        let c = NewRegistryCredential {
            host: "ghcr.io".into(),
            username: "ada".into(),
            secret: Sensitive::new("hunter2-token".into()),
        };
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("ghcr.io"));
    }
}

#[cfg(test)]
mod canonical_tests {
    use super::*;

    #[test]
    fn registry_hosts_are_written_one_way() {
        assert_eq!(canonical_registry_host("GHCR.io"), "ghcr.io");
        assert_eq!(canonical_registry_host("ghcr.io:443"), "ghcr.io");
        assert_eq!(canonical_registry_host("registry-1.docker.io"), "docker.io");
        assert_eq!(canonical_registry_host("Index.Docker.io"), "docker.io");
        assert_eq!(canonical_registry_host("127.0.0.1:5000"), "127.0.0.1:5000");
        assert_eq!(
            registry_credential_name("GHCR.IO"),
            registry_credential_name("ghcr.io")
        );
    }
}

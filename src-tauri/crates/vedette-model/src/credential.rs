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
    format!("registry/{host}")
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

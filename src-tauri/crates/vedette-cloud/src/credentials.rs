use std::sync::Arc;

use vedette_model::{
    registry_credential_name, ApiError, CredentialInfo, CredentialKind, ErrorCode,
    NewRegistryCredential, Sensitive,
};
use vedette_store::{Store, StoreError};

use crate::{SecretBackend, SecretError};

#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("{0}")]
    Invalid(String),
    #[error("no credential named '{0}'")]
    NotFound(String),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the keyring call did not finish: {0}")]
    Join(#[from] tokio::task::JoinError),
}

impl From<CredentialError> for ApiError {
    fn from(e: CredentialError) -> Self {
        let code = match &e {
            CredentialError::Invalid(_) => ErrorCode::InvalidInput,
            CredentialError::NotFound(_) => ErrorCode::NotFound,
            CredentialError::Secret(SecretError::Refused { .. }) => ErrorCode::InvalidInput,
            CredentialError::Secret(_) => ErrorCode::KeyringUnavailable,
            CredentialError::Store(_) | CredentialError::Join(_) => ErrorCode::Internal,
        };
        ApiError::new(code, e.to_string())
    }
}

/// The keyring account of the AWS account the gate acts with.
pub const AWS_CREDENTIAL: &str = "cloud/aws";

/// Registry (and later cloud) credentials: the secret in the keyring, the
/// name, host and user in SQLite. The one place both are written.
#[derive(Clone)]
pub struct Credentials {
    store: Store,
    secrets: Arc<dyn SecretBackend>,
}

impl Credentials {
    pub fn new(store: Store, secrets: Arc<dyn SecretBackend>) -> Self {
        Self { store, secrets }
    }

    pub async fn list(&self) -> Result<Vec<CredentialInfo>, CredentialError> {
        Ok(self.store.list_credentials().await?)
    }

    /// Adds the credential for a registry host, or replaces the existing one.
    pub async fn set_registry(
        &self,
        new: NewRegistryCredential,
    ) -> Result<CredentialInfo, CredentialError> {
        let host = normalize_registry_host(&new.host)?;
        let username = new.username.trim().to_owned();
        if username.is_empty() {
            return Err(CredentialError::Invalid(
                "the user name is empty: enter the account name the registry knows you by (for a token, the name the registry asks for, such as your user or `oauth2accesstoken`)".into(),
            ));
        }
        if new.secret.expose().is_empty() {
            return Err(CredentialError::Invalid(
                "the password or token is empty: paste the password or access token for this registry".into(),
            ));
        }
        let name = registry_credential_name(&host);
        let secret = new.secret;
        self.blocking({
            let name = name.clone();
            move |s| s.set(&name, &secret)
        })
        .await?;
        Ok(self
            .store
            .upsert_credential(&name, CredentialKind::Registry, &host, &username)
            .await?)
    }

    /// Adds the credential of a private feed mirror (HTTP basic auth), or
    /// replaces the existing one; the mirror is named by any URL on it.
    pub async fn set_feed_mirror(
        &self,
        url: &str,
        username: &str,
        secret: Sensitive<String>,
    ) -> Result<CredentialInfo, CredentialError> {
        let origin = feed_mirror_origin(url)?;
        let username = username.trim().to_owned();
        if username.is_empty() {
            return Err(CredentialError::Invalid(
                "the user name is empty: enter the account name the mirror knows you by".into(),
            ));
        }
        if secret.expose().is_empty() {
            return Err(CredentialError::Invalid(
                "the password or token is empty: paste the one the mirror gave you".into(),
            ));
        }
        let name = vedette_model::feed_mirror_credential_name(&origin);
        self.blocking({
            let name = name.clone();
            move |s| s.set(&name, &secret)
        })
        .await?;
        Ok(self
            .store
            .upsert_credential(&name, CredentialKind::FeedMirror, &origin, &username)
            .await?)
    }

    /// Adds the SSH login of a host (a private key with its passphrase, or
    /// a password), or replaces the existing one.
    pub async fn set_host(
        &self,
        address: &vedette_model::HostAddress,
        secret: HostSecret,
    ) -> Result<CredentialInfo, CredentialError> {
        match &secret {
            HostSecret::Key { key, .. } if !key.expose().contains("PRIVATE KEY") => {
                return Err(CredentialError::Invalid(
                    "the key file is not a private key (-----BEGIN OPENSSH PRIVATE KEY-----); give the private half, not the .pub".into(),
                ))
            }
            HostSecret::Password { password } if password.expose().is_empty() => {
                return Err(CredentialError::Invalid("the password is empty".into()))
            }
            _ => {}
        }
        let name = vedette_model::host_credential_name(address);
        let encoded = Sensitive::new(secret.encode());
        self.blocking({
            let name = name.clone();
            move |s| s.set(&name, &encoded)
        })
        .await?;
        Ok(self
            .store
            .upsert_credential(
                &name,
                CredentialKind::Host,
                &address.to_string(),
                &address.user,
            )
            .await?)
    }

    /// The SSH login stored for a host, if any.
    pub async fn host_secret(
        &self,
        address: &vedette_model::HostAddress,
    ) -> Result<Option<HostSecret>, CredentialError> {
        let name = vedette_model::host_credential_name(address);
        Ok(self
            .secret(&name)
            .await?
            .and_then(|s| HostSecret::decode(s.expose())))
    }

    /// Stores the AWS account the gate acts with (one per console).
    pub async fn set_aws(
        &self,
        account: crate::AwsAccount,
    ) -> Result<CredentialInfo, CredentialError> {
        if account.access_key_id.trim().is_empty() || account.secret_access_key.expose().is_empty()
        {
            return Err(CredentialError::Invalid(
                "an AWS account needs an access key id and its secret".into(),
            ));
        }
        if account.region.trim().is_empty() {
            return Err(CredentialError::Invalid(
                "an AWS account needs a region (--region eu-west-1)".into(),
            ));
        }
        if let Some(role) = &account.role_arn {
            if !(role.starts_with("arn:") && role.contains(":role/")) {
                return Err(CredentialError::Invalid(format!(
                    "{role} is not a role ARN (arn:aws:iam::123456789012:role/NAME)"
                )));
            }
        }
        let encoded = Sensitive::new(account.encode());
        self.blocking(move |s| s.set(AWS_CREDENTIAL, &encoded))
            .await?;
        // What the list shows: the key, and the role it assumes.
        let who = match &account.role_arn {
            Some(role) => format!("{} as {role}", account.access_key_id),
            None => account.access_key_id.clone(),
        };
        Ok(self
            .store
            .upsert_credential(
                AWS_CREDENTIAL,
                CredentialKind::Cloud,
                &account.ec2_endpoint(),
                &who,
            )
            .await?)
    }

    /// The stored AWS account, if any.
    pub async fn aws_account(&self) -> Result<Option<crate::AwsAccount>, CredentialError> {
        match self.secret(AWS_CREDENTIAL).await? {
            None => Ok(None),
            Some(s) => serde_json::from_str(s.expose()).map(Some).map_err(|e| {
                CredentialError::Invalid(format!(
                    "the stored AWS account does not read ({e}); store it again with `vedette cloud aws set`"
                ))
            }),
        }
    }

    /// Deletes a credential from the keyring and the database.
    pub async fn delete(&self, name: &str) -> Result<(), CredentialError> {
        let known = self
            .store
            .list_credentials()
            .await?
            .into_iter()
            .any(|c| c.name == name);
        let owned = name.to_owned();
        let in_keyring = self.blocking(move |s| s.delete(&owned)).await?;
        if !known && !in_keyring {
            return Err(CredentialError::NotFound(name.to_owned()));
        }
        self.store.delete_credential(name).await?;
        Ok(())
    }

    /// The secret for a credential, for the code that logs in to a registry.
    pub async fn secret(&self, name: &str) -> Result<Option<Sensitive<String>>, CredentialError> {
        let owned = name.to_owned();
        self.blocking(move |s| s.get(&owned)).await
    }

    /// Stores a secret that has no row of its own in the credentials list
    /// (a notification channel's, which its channel row says is set).
    pub async fn set_secret(
        &self,
        name: &str,
        secret: Sensitive<String>,
    ) -> Result<(), CredentialError> {
        let owned = name.to_owned();
        self.blocking(move |s| s.set(&owned, &secret)).await
    }

    /// Deletes such a secret from the keyring: whether there was one.
    pub async fn delete_secret(&self, name: &str) -> Result<bool, CredentialError> {
        let owned = name.to_owned();
        self.blocking(move |s| s.delete(&owned)).await
    }

    /// Checks that the keyring answers.
    pub async fn probe(&self) -> Result<(), CredentialError> {
        self.blocking(|s| s.probe()).await
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn SecretBackend) -> Result<T, SecretError> + Send + 'static,
    ) -> Result<T, CredentialError> {
        let secrets = Arc::clone(&self.secrets);
        Ok(tokio::task::spawn_blocking(move || f(secrets.as_ref())).await??)
    }
}

/// The origin (`https://mirror.example:8443`) of a feed mirror URL; a URL
/// that carries a password is refused (the secret goes to stdin, never to
/// the command line).
pub fn feed_mirror_origin(url: &str) -> Result<String, CredentialError> {
    let (_, cred) = vedette_model::strip_userinfo(url.trim());
    if cred.is_some() {
        return Err(CredentialError::Invalid(
            "give the mirror's URL without a user name or password in it; the secret is read from standard input".into(),
        ));
    }
    vedette_model::url_origin(url).ok_or_else(|| {
        CredentialError::Invalid(format!(
            "'{}' is not an http(s) URL: give the mirror's base URL, e.g. https://mirror.example/osv",
            url.trim()
        ))
    })
}

/// Accepts `host`, `host:port`, `[v6]:port`; refuses schemes, paths and spaces
/// with a message that shows what to type instead.
pub fn normalize_registry_host(input: &str) -> Result<String, CredentialError> {
    let host = input.trim().trim_end_matches('/').to_ascii_lowercase();
    if host.is_empty() {
        return Err(CredentialError::Invalid(
            "the registry host is empty: enter a host such as ghcr.io, quay.io or 127.0.0.1:5000"
                .into(),
        ));
    }
    if let Some((scheme, rest)) = host.split_once("://") {
        return Err(CredentialError::Invalid(format!(
            "enter the registry host without '{scheme}://': for example {}",
            rest.split('/').next().unwrap_or(rest)
        )));
    }
    if let Some((h, _)) = host.split_once('/') {
        return Err(CredentialError::Invalid(format!(
            "enter only the registry host, not a repository path: for example {h}"
        )));
    }
    let ok = host
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']' | '_'));
    if !ok {
        return Err(CredentialError::Invalid(format!(
            "'{}' is not a registry host: use letters, digits, dots, dashes and an optional :port",
            input.trim()
        )));
    }
    Ok(vedette_model::canonical_registry_host(&host))
}

/// A host's SSH login as the keyring keeps it.
pub enum HostSecret {
    Key {
        key: Sensitive<String>,
        passphrase: Option<Sensitive<String>>,
    },
    Password {
        password: Sensitive<String>,
    },
}

impl HostSecret {
    fn encode(&self) -> String {
        let value = match self {
            HostSecret::Key { key, passphrase } => serde_json::json!({
                "key": key.expose(),
                "passphrase": passphrase.as_ref().map(|p| p.expose().clone()),
            }),
            HostSecret::Password { password } => {
                serde_json::json!({ "password": password.expose() })
            }
        };
        value.to_string()
    }

    fn decode(text: &str) -> Option<Self> {
        let v: serde_json::Value = serde_json::from_str(text).ok()?;
        let s = |k: &str| {
            v.get(k)
                .and_then(|x| x.as_str())
                .map(|x| Sensitive::new(x.to_owned()))
        };
        match (s("key"), s("password")) {
            (Some(key), _) => Some(HostSecret::Key {
                key,
                passphrase: s("passphrase"),
            }),
            (None, Some(password)) => Some(HostSecret::Password { password }),
            (None, None) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemorySecrets;

    #[test]
    fn registry_hosts_are_normalized_or_refused_with_what_to_type() {
        assert_eq!(normalize_registry_host(" GHCR.io/ ").unwrap(), "ghcr.io");
        assert_eq!(
            normalize_registry_host("127.0.0.1:5000").unwrap(),
            "127.0.0.1:5000"
        );
        assert_eq!(normalize_registry_host("[::1]:5000").unwrap(), "[::1]:5000");
        let e = normalize_registry_host("https://ghcr.io/v2/")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("without 'https://'") && e.contains("ghcr.io"),
            "{e}"
        );
        let e = normalize_registry_host("ghcr.io/ada/app")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a repository path"), "{e}");
        assert!(normalize_registry_host("my registry").is_err());
        assert!(normalize_registry_host("").is_err());
    }

    async fn creds(secrets: MemorySecrets) -> (tempfile::TempDir, Credentials) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in(dir.path()).await.unwrap();
        (dir, Credentials::new(store, Arc::new(secrets)))
    }

    fn new(host: &str, user: &str, secret: &str) -> NewRegistryCredential {
        NewRegistryCredential {
            host: host.into(),
            username: user.into(),
            secret: Sensitive::new(secret.into()),
        }
    }

    #[tokio::test]
    async fn an_unreachable_keyring_leaves_no_half_written_credential() {
        let (_d, c) = creds(MemorySecrets::unreachable()).await;
        let err = c
            .set_registry(new("ghcr.io", "ada", "tok"))
            .await
            .unwrap_err();
        let api: ApiError = err.into();
        assert_eq!(api.code, ErrorCode::KeyringUnavailable);
        assert!(api.message.contains("gnome-keyring"), "{}", api.message);
        assert!(c.list().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn empty_fields_are_refused_as_invalid_input() {
        let (_d, c) = creds(MemorySecrets::default()).await;
        for bad in [
            new("ghcr.io", " ", "tok"),
            new("ghcr.io", "ada", ""),
            new("", "ada", "tok"),
        ] {
            let api: ApiError = c.set_registry(bad).await.unwrap_err().into();
            assert_eq!(api.code, ErrorCode::InvalidInput, "{}", api.message);
        }
    }

    #[tokio::test]
    async fn deleting_an_unknown_credential_says_not_found() {
        let (_d, c) = creds(MemorySecrets::default()).await;
        let api: ApiError = c.delete("registry/nowhere").await.unwrap_err().into();
        assert_eq!(api.code, ErrorCode::NotFound);
    }
}

//! Hosts over SSH: adding one, trusting its key, how Vedette logs in.

use std::sync::Arc;
use std::time::Duration;

use vedette_cloud::HostSecret;
use vedette_model::{HostAddress, HostSpec, Sensitive, TargetInfo, TargetKind};
use vedette_sources::host::{HostAuth, HostConnection, HostError};

use crate::{App, AppError, Result, TargetSettings};

/// How long connecting to a host (and logging in) may take.
pub fn connect_timeout() -> Duration {
    std::env::var("VEDETTE_SSH_CONNECT_TIMEOUT")
        .ok()
        .and_then(|v| humantime::parse_duration(&v).ok())
        .unwrap_or(Duration::from_secs(10))
}

/// What checking a host's key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostKeyState {
    /// Known (or just trusted): its fingerprint.
    Trusted(String),
    /// Not known: this fingerprint is what to check and trust.
    Unknown(String),
    /// The host could not be asked (down, refused, …): why.
    Unreachable(String),
}

impl App {
    /// Watches a host (`user@host[:port]`); its key is checked at once, and
    /// trusted when `trust` names it.
    pub async fn add_host(
        &self,
        address: &str,
        spec: &HostSpec,
        settings: &TargetSettings,
        trust: Option<&str>,
    ) -> Result<(TargetInfo, HostKeyState)> {
        let address = HostAddress::parse(address).map_err(AppError::Invalid)?;
        for p in &spec.paths {
            if !p.starts_with('/') {
                return Err(AppError::Invalid(format!(
                    "'{p}' is not an absolute path on the host; write it as /opt/app"
                )));
            }
        }
        let t = self
            .store()
            .add_target(TargetKind::Host, &address.to_string(), settings.exposure)
            .await?;
        self.store().set_host_spec(t.id, spec).await?;
        self.store()
            .set_target_group(t.id, settings.group.as_deref())
            .await?;
        let state = self.check_host_key(&address, trust).await?;
        Ok((self.target(t.id).await?, state))
    }

    /// Trusts the key of a host target whose fingerprint the user checked.
    pub async fn trust_host_key(&self, target: &str, fingerprint: &str) -> Result<String> {
        let t = self.find_target(target).await?;
        if t.kind != TargetKind::Host {
            return Err(AppError::Invalid(format!(
                "{} is a {} target; only hosts have keys to trust",
                t.name,
                t.kind.as_str()
            )));
        }
        let address = HostAddress::parse(&t.name).map_err(AppError::Invalid)?;
        match self.check_host_key(&address, Some(fingerprint)).await? {
            HostKeyState::Trusted(fp) => Ok(fp),
            HostKeyState::Unknown(fp) => Err(AppError::Invalid(format!(
                "{address} presents the key {fp}, not {fingerprint}: nothing was trusted. Check the fingerprint on the host (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub)"
            ))),
            HostKeyState::Unreachable(why) => Err(AppError::unavailable(why)),
        }
    }

    /// Asks the host for its key and checks it (recording it when `trust` names it).
    async fn check_host_key(
        &self,
        address: &HostAddress,
        trust: Option<&str>,
    ) -> Result<HostKeyState> {
        let c = HostConnection {
            address: address.clone(),
            auth: HostAuth::default(),
            known_hosts: vedette_sources::host::known_hosts(self.data_dir()),
            trust: trust.map(str::to_owned),
            connect_timeout: connect_timeout(),
        };
        Ok(match vedette_sources::host::probe(&c).await {
            Ok(fp) => HostKeyState::Trusted(fp),
            Err(HostError::UnknownHostKey { fingerprint, .. }) => {
                HostKeyState::Unknown(fingerprint)
            }
            Err(e @ HostError::ChangedHostKey { .. }) => {
                return Err(AppError::Invalid(e.to_string()))
            }
            Err(e) => HostKeyState::Unreachable(e.to_string()),
        })
    }

    /// Stores a host's SSH login in the keyring: a private key file's
    /// content (with its passphrase) or a password.
    pub async fn set_host_credential(
        &self,
        address: &str,
        secret: HostSecret,
    ) -> Result<vedette_model::CredentialInfo> {
        let address = HostAddress::parse(address).map_err(AppError::Invalid)?;
        Ok(self.credentials().set_host(&address, secret).await?)
    }

    /// How Vedette logs in to `address`: the agent, then the stored key or
    /// the target's identity file, then the stored password.
    pub async fn host_auth(&self, address: &HostAddress, identity_file: Option<&str>) -> HostAuth {
        let mut auth = HostAuth {
            agent: true,
            ..HostAuth::default()
        };
        match self.credentials().host_secret(address).await {
            Ok(Some(HostSecret::Key { key, passphrase })) => auth.key = Some((key, passphrase)),
            Ok(Some(HostSecret::Password { password })) => auth.password = Some(password),
            Ok(None) => {}
            Err(e) => tracing::warn!(host = %address, "the keyring: {e}"),
        }
        if auth.key.is_none() {
            if let Some(path) = identity_file {
                let path = expand_home(path);
                match std::fs::read_to_string(&path) {
                    Ok(pem) => auth.key = Some((Sensitive::new(pem), None)),
                    Err(e) => tracing::warn!(host = %address, "cannot read {path}: {e}"),
                }
            }
        }
        auth
    }

    /// The scanner's way to reach hosts.
    pub(crate) fn host_access(&self) -> vedette_scan::HostAccess {
        let app = self.clone();
        let auth: vedette_scan::HostAuthLookup =
            Arc::new(move |address: HostAddress, identity: Option<String>| {
                let app = app.clone();
                Box::pin(async move { app.host_auth(&address, identity.as_deref()).await })
            });
        vedette_scan::HostAccess {
            known_hosts: vedette_sources::host::known_hosts(self.data_dir()),
            auth,
            connect_timeout: connect_timeout(),
        }
    }
}

/// `~/x` as the user's home.
fn expand_home(path: &str) -> String {
    match (path.strip_prefix("~/"), std::env::var("HOME")) {
        (Some(rest), Ok(home)) => format!("{home}/{rest}"),
        _ => path.to_owned(),
    }
}

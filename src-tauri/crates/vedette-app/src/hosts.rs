//! Hosts over SSH: adding one, trusting its key, how Vedette logs in.

use std::sync::Arc;
use std::time::Duration;

use vedette_cloud::HostSecret;
use vedette_model::{HostAddress, HostKeyState, HostSpec, Sensitive, TargetInfo, TargetKind};
use vedette_sources::host::{HostAuth, HostConnection, HostError};

use crate::{App, AppError, Result, TargetSettings};

/// How long connecting to a host (and logging in) may take.
pub fn connect_timeout() -> Duration {
    std::env::var("VEDETTE_SSH_CONNECT_TIMEOUT")
        .ok()
        .and_then(|v| humantime::parse_duration(&v).ok())
        .unwrap_or(Duration::from_secs(10))
}

/// How many hosts a run scans at once (`VEDETTE_HOST_SCANS`, default 16).
pub fn parallel_hosts() -> std::result::Result<usize, String> {
    count_from_env("VEDETTE_HOST_SCANS", vedette_scheduler::Limits::HOSTS)
}

/// A count above 0 from the environment variable `name`, else `default`.
pub(crate) fn count_from_env(name: &str, default: usize) -> std::result::Result<usize, String> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("{name}: '{v}' is not a number above 0")),
        _ => Ok(default),
    }
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
        let mut spec = spec.clone();
        if let Some(j) = &spec.jump {
            let jump = HostAddress::parse(j)
                .map_err(|e| AppError::Invalid(format!("the jump host: {e}")))?;
            spec.jump = Some(jump.to_string());
        }
        let t = self
            .add_with(TargetKind::Host, &address.to_string(), settings)
            .await?;
        self.store().set_host_spec(t.id, &spec).await?;
        let state = self.check_host_key(&address, &spec, trust).await?;
        Ok((self.target(t.id).await?, state))
    }

    /// Trusts the key of a host target (or of the bastion hosts are
    /// reached through) whose fingerprint the user checked.
    pub async fn trust_host_key(&self, target: &str, fingerprint: &str) -> Result<String> {
        let t = match self.find_target(target).await {
            Ok(t) => t,
            Err(e @ AppError::NotFound(_)) => match self.jump_host(target).await? {
                Some(jump) => {
                    return self
                        .trust_key_of(&jump, &HostSpec::default(), fingerprint)
                        .await
                }
                None => return Err(e),
            },
            Err(e) => return Err(e),
        };
        if t.kind != TargetKind::Host {
            return Err(AppError::Invalid(format!(
                "{} is a {} target; only hosts have keys to trust",
                t.name,
                t.kind.as_str()
            )));
        }
        let address = HostAddress::parse(&t.name).map_err(AppError::Invalid)?;
        let spec = t.host.clone().unwrap_or_default();
        self.trust_key_of(&address, &spec, fingerprint).await
    }

    /// The bastion some host target is reached through, by its address.
    async fn jump_host(&self, address: &str) -> Result<Option<HostAddress>> {
        let Ok(wanted) = HostAddress::parse(address) else {
            return Ok(None);
        };
        Ok(self
            .targets()
            .await?
            .iter()
            .filter_map(|t| t.host.as_ref()?.jump.as_deref())
            .filter_map(|j| HostAddress::parse(j).ok())
            .find(|j| *j == wanted))
    }

    async fn trust_key_of(
        &self,
        address: &HostAddress,
        spec: &HostSpec,
        fingerprint: &str,
    ) -> Result<String> {
        match self.check_host_key(address, spec, Some(fingerprint)).await? {
            HostKeyState::Trusted(fp) => Ok(fp),
            HostKeyState::Unknown(fp) => Err(AppError::Invalid(format!(
                "{address} presents the key {fp}, not {fingerprint}: nothing was trusted. Check the fingerprint on the host (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub)"
            ))),
            HostKeyState::Unreachable(why) => Err(AppError::unavailable(why)),
        }
    }

    /// Asks the host for its key (through its bastion, when it has one)
    /// and checks it, recording it when `trust` names it.
    async fn check_host_key(
        &self,
        address: &HostAddress,
        spec: &HostSpec,
        trust: Option<&str>,
    ) -> Result<HostKeyState> {
        let known_hosts = vedette_sources::host::known_hosts(self.data_dir());
        let jump = match spec.jump.as_deref().map(HostAddress::parse) {
            Some(Ok(j)) => Some(Box::new(HostConnection {
                auth: self.host_auth(&j, spec.identity_file.as_deref()).await,
                address: j,
                known_hosts: known_hosts.clone(),
                trust: None,
                connect_timeout: connect_timeout(),
                jump: None,
            })),
            Some(Err(e)) => return Err(AppError::Invalid(format!("the jump host: {e}"))),
            None => None,
        };
        let c = HostConnection {
            address: address.clone(),
            auth: HostAuth::default(),
            known_hosts,
            trust: trust.map(str::to_owned),
            connect_timeout: connect_timeout(),
            jump,
        };
        let this = address.to_string();
        Ok(match vedette_sources::host::probe(&c).await {
            Ok(fp) => HostKeyState::Trusted(fp),
            // The bastion's key is the one not known: trusted on its own.
            Err(e @ HostError::UnknownHostKey { .. }) if !matches!(&e, HostError::UnknownHostKey { host, .. } if *host == this) => {
                HostKeyState::Unreachable(e.to_string())
            }
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
            Err(e) => {
                tracing::warn!(host = %address, "the keyring: {e}");
                auth.unread = Some(e.to_string());
            }
        }
        if auth.key.is_none() {
            if let Some(path) = identity_file {
                let path = expand_home(path);
                match std::fs::read_to_string(&path) {
                    Ok(pem) => auth.key = Some((Sensitive::new(pem), None)),
                    Err(e) => {
                        tracing::warn!(host = %address, "cannot read {path}: {e}");
                        auth.unread = Some(format!("cannot read the identity file {path}: {e}"));
                    }
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

/// One host of an import and what became of it.
#[derive(Debug)]
pub struct Imported {
    /// The `Host` alias or the line it came from.
    pub from: String,
    pub outcome: Result<(TargetInfo, HostKeyState)>,
}

/// A host an import names (its alias or line) and its address and
/// settings, or why it is left out.
pub type Wanted = (String, Result<(String, HostSpec)>);

/// The hosts an `~/.ssh/config` names: each concrete `Host` alias (not a
/// pattern) with the `User`, `HostName`, `Port`, `IdentityFile` that apply
/// to it (`Host *` included), and its `ProxyJump` when it is one hop (an
/// alias with more hops is left out, with why).
pub fn hosts_of_ssh_config(text: &str) -> Result<Vec<Wanted>> {
    use ssh2_config::{ParseRule, SshConfig};
    let config = SshConfig::default()
        .parse(
            &mut std::io::BufReader::new(text.as_bytes()),
            ParseRule::ALLOW_UNKNOWN_FIELDS | ParseRule::ALLOW_UNSUPPORTED_FIELDS,
        )
        .map_err(|e| AppError::Invalid(format!("the ssh config does not read: {e}")))?;
    let local_user = std::env::var("USER").ok();
    let mut out = Vec::new();
    for host in config.get_hosts() {
        for clause in &host.pattern {
            let alias = clause.pattern.clone();
            if clause.negated || alias.contains(['*', '?', '!']) {
                continue;
            }
            let p = config.query(&alias);
            let address = |p: &ssh2_config::HostParams, alias: &str| {
                p.user
                    .clone()
                    .or_else(|| local_user.clone())
                    .map(|user| HostAddress {
                        user,
                        host: p.host_name.clone().unwrap_or_else(|| alias.to_owned()),
                        port: p.port.unwrap_or(HostAddress::DEFAULT_PORT),
                    })
                    .ok_or_else(|| {
                        AppError::Invalid(format!("no User for {alias}, and $USER is not set"))
                    })
            };
            let jump = match p.proxy_jump.as_deref() {
                None | Some([]) => Ok(None),
                Some([one]) if one.eq_ignore_ascii_case("none") => Ok(None),
                Some([one]) => jump_of(&config, one, local_user.as_deref()).map(Some),
                Some(hops) => Err(AppError::Invalid(format!(
                    "it is reached through {} jump hosts ({}); Vedette goes through one",
                    hops.len(),
                    hops.join(",")
                ))),
            };
            let outcome = jump.and_then(|jump| {
                let a = address(&p, &alias)?;
                Ok((
                    a.to_string(),
                    HostSpec {
                        paths: Vec::new(),
                        identity_file: p
                            .identity_file
                            .as_ref()
                            .and_then(|f| f.first())
                            .map(|f| f.display().to_string()),
                        jump: jump.map(|j| j.to_string()),
                    },
                ))
            });
            out.push((alias, outcome));
        }
    }
    Ok(out)
}

/// A `ProxyJump` hop: `[user@]host[:port]`, where `host` may be another
/// alias of the config (its `HostName`, `User`, `Port` then apply; the
/// hop's own user and port win).
fn jump_of(
    config: &ssh2_config::SshConfig,
    hop: &str,
    local_user: Option<&str>,
) -> Result<HostAddress> {
    let (user, rest) = match hop.split_once('@') {
        Some((u, r)) => (Some(u.to_owned()), r),
        None => (None, hop),
    };
    let (name, port) = match rest.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => (
            h,
            Some(p.parse::<u16>().map_err(|_| {
                AppError::Invalid(format!("the ProxyJump '{hop}' has no valid port"))
            })?),
        ),
        _ => (rest, None),
    };
    let params = config.query(name);
    let user = user
        .or_else(|| params.user.clone())
        .or_else(|| local_user.map(str::to_owned))
        .ok_or_else(|| {
            AppError::Invalid(format!(
                "no User for the jump host {name}, and $USER is not set"
            ))
        })?;
    Ok(HostAddress {
        user,
        host: params.host_name.clone().unwrap_or_else(|| name.to_owned()),
        port: port.or(params.port).unwrap_or(HostAddress::DEFAULT_PORT),
    })
}

/// An ssh config or host list larger than this is not read.
const MAX_IMPORT: u64 = 1024 * 1024;

impl App {
    /// [`App::import_hosts`] from a file (`~/` is the user's home), read up
    /// to 1 MiB.
    pub async fn import_hosts_file(
        &self,
        file: &str,
        ssh_config: bool,
        settings: &TargetSettings,
    ) -> Result<Vec<Imported>> {
        use std::io::Read;
        let path = expand_home(file);
        let mut text = String::new();
        std::fs::File::open(&path)
            .and_then(|f| f.take(MAX_IMPORT + 1).read_to_string(&mut text))
            .map_err(|e| AppError::Invalid(format!("cannot read {path}: {e}")))?;
        if text.len() as u64 > MAX_IMPORT {
            return Err(AppError::Invalid(format!(
                "{path} is larger than 1 MiB: not an ssh config or a host list"
            )));
        }
        self.import_hosts(&text, ssh_config, settings).await
    }

    /// Adds hosts in bulk: from an ssh config's text, or from a plain list
    /// (one `user@host[:port]` per line, `#` comments). Their keys are
    /// asked for 16 at a time; none is trusted by an import.
    pub async fn import_hosts(
        &self,
        text: &str,
        ssh_config: bool,
        settings: &TargetSettings,
    ) -> Result<Vec<Imported>> {
        let wanted: Vec<Wanted> = if ssh_config {
            hosts_of_ssh_config(text)?
        } else {
            text.lines()
                .map(|l| l.split('#').next().unwrap_or("").trim())
                .filter(|l| !l.is_empty())
                .map(|l| (l.to_owned(), Ok((l.to_owned(), HostSpec::default()))))
                .collect()
        };
        use futures_util::StreamExt;
        let results: Vec<Imported> = futures_util::stream::iter(wanted)
            .map(|(from, spec)| async move {
                let outcome = match spec {
                    Ok((address, spec)) => self.add_host(&address, &spec, settings, None).await,
                    Err(e) => Err(e),
                };
                Imported { from, outcome }
            })
            .buffered(16)
            .collect()
            .await;
        Ok(results)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ssh_config_gives_its_concrete_hosts_with_what_applies_to_them() {
        let text = "\
Host web-1 web-2
    User ops
    IdentityFile ~/.ssh/fleet

Host db
    HostName 10.0.0.7
    Port 2222
    User postgres

Host behind
    HostName 10.1.0.3
    User ops
    ProxyJump admin@bastion:2200

Host far
    HostName 10.2.0.1
    User ops
    ProxyJump behind,bastion

Host *.example !skip
    User nobody

Host *
    Port 22
";
        let hosts = hosts_of_ssh_config(text).unwrap();
        let got: Vec<(&str, Option<&str>)> = hosts
            .iter()
            .map(|(alias, r)| (alias.as_str(), r.as_ref().ok().map(|(a, _)| a.as_str())))
            .collect();
        assert_eq!(
            got,
            [
                ("web-1", Some("ops@web-1")),
                ("web-2", Some("ops@web-2")),
                ("db", Some("postgres@10.0.0.7:2222")),
                ("behind", Some("ops@10.1.0.3")),
                ("far", None),
            ]
        );
        let (_, web) = hosts[0].1.as_ref().unwrap();
        assert!(web
            .identity_file
            .as_deref()
            .unwrap_or("")
            .ends_with(".ssh/fleet"));
        let (_, behind) = hosts[3].1.as_ref().unwrap();
        assert_eq!(behind.jump.as_deref(), Some("admin@bastion:2200"));
        let why = hosts[4].1.as_ref().unwrap_err().to_string();
        assert!(why.contains("2 jump hosts"), "{why}");
    }
}

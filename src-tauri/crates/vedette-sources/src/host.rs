//! A host over SSH: its package databases and language packages read with
//! SFTP (nothing run as root, no package manager, nothing written), the
//! running kernel and the listening ports asked with `uname` and `ss` when
//! the account may run commands.
//!
//! The host's key is checked against Vedette's own `known_hosts` and the
//! user's `~/.ssh/known_hosts` (read only); an unknown key is refused with
//! its fingerprint until the user trusts that fingerprint, which is then
//! written to Vedette's file; a changed key is refused.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use russh::client;
use russh::keys::{HashAlg, PrivateKeyWithHashAlg, PublicKey};
use russh_sftp::client::SftpSession;
use tokio::io::AsyncReadExt;
use vedette_extract::Cataloger;
use vedette_model::{HostAddress, HostFacts, ScanLimits, Sensitive};

use crate::{Budget, SourceError, View};

/// Why a host could not be read: what the user sees as the scan's failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostError {
    #[error(
        "{host}: the name does not resolve ({reason}). Check the host name, or use its address"
    )]
    Dns { host: String, reason: String },
    #[error("{host}: the connection was refused. Is sshd running there, on that port?")]
    Refused { host: String },
    #[error("{host}: no SSH answer within {} s. Is the host up, and the port open to this machine?", .seconds)]
    Timeout { host: String, seconds: u64 },
    #[error("{host}: cannot connect: {reason}")]
    Unreachable { host: String, reason: String },
    #[error("{host}: the host's key is not known (fingerprint {fingerprint}). Check it on the host (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub), then trust it: `vedette target trust-key {host} {fingerprint}` or --trust-host-key {fingerprint}")]
    UnknownHostKey { host: String, fingerprint: String },
    #[error("WARNING: {host} presents another host key than the one recorded in {file} line {line} (now {fingerprint}). Someone may be intercepting the connection, or the host was reinstalled. Nothing was read. If the change is expected, remove that line and trust the new key")]
    ChangedHostKey {
        host: String,
        fingerprint: String,
        file: String,
        line: usize,
    },
    #[error("{host}: no authentication worked as {user} (tried: {tried}).{unread} Load the key into ssh-agent, or store one: `vedette credential add --host {host} --key-file FILE` (or --password-stdin)")]
    Auth {
        host: String,
        user: String,
        tried: String,
        /// Why the stored credential was not tried, as a sentence with a
        /// leading space; empty when nothing stopped it.
        unread: String,
    },
    #[error("{host}: {reason}")]
    Protocol { host: String, reason: String },
}

/// What authenticates Vedette to a host, tried in this order: the
/// ssh-agent's keys, a private key, a password.
#[derive(Clone, Default)]
pub struct HostAuth {
    /// Ask the agent at `SSH_AUTH_SOCK` (when set).
    pub agent: bool,
    /// An OpenSSH private key (PEM) and its passphrase.
    pub key: Option<(Sensitive<String>, Option<Sensitive<String>>)>,
    pub password: Option<Sensitive<String>>,
    /// Why a stored key or password could not be read (the keyring is
    /// unreachable, the identity file is missing): said when nothing else
    /// logs in, so the failure names its cause.
    pub unread: Option<String>,
}

impl fmt::Debug for HostAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HostAuth")
            .field("agent", &self.agent)
            .field("key", &self.key.is_some())
            .field("password", &self.password.is_some())
            .field("unread", &self.unread)
            .finish()
    }
}

/// Where host keys are known.
#[derive(Debug, Clone)]
pub struct KnownHosts {
    /// Vedette's own file: read, and written when the user trusts a key.
    pub own: PathBuf,
    /// Read only (the user's `~/.ssh/known_hosts`).
    pub others: Vec<PathBuf>,
}

/// How to reach one host.
#[derive(Debug, Clone)]
pub struct HostConnection {
    pub address: HostAddress,
    pub auth: HostAuth,
    pub known_hosts: KnownHosts,
    /// A fingerprint (`SHA256:…`) the user said to trust for this host.
    pub trust: Option<String>,
    pub connect_timeout: Duration,
    /// A bastion to go through (`ProxyJump`, one hop): the connection to
    /// the host is a TCP channel the bastion opens to it.
    pub jump: Option<Box<HostConnection>>,
}

/// A logged-in connection; through its bastion's, which lives as long.
pub(crate) struct Session {
    handle: client::Handle<Checker>,
    _jump: Option<Box<Session>>,
}

impl std::ops::Deref for Session {
    type Target = client::Handle<Checker>;
    fn deref(&self) -> &Self::Target {
        &self.handle
    }
}

impl std::ops::DerefMut for Session {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.handle
    }
}

/// Where language packages are looked for, besides the OS databases.
/// (`/usr/lib/python3.X` and `/usr/local/lib/python3.X` are added as they
/// are found.)
pub const DEFAULT_PATHS: [&str; 6] = [
    "/usr/lib/python3",
    "/usr/lib/node_modules",
    "/usr/local/lib/node_modules",
    "/opt",
    "/srv",
    "/app",
];

/// The OS package databases and release files: read wherever they are.
const OS_PATHS: [&str; 8] = [
    "/etc/os-release",
    "/usr/lib/os-release",
    "/etc/debian_version",
    "/etc/alpine-release",
    "/var/lib/dpkg",
    "/lib/apk/db",
    "/var/lib/rpm",
    "/usr/lib/sysimage/rpm",
];

/// How deep a language path is walked (a site-packages' METADATA is 3 deep).
const MAX_DEPTH: usize = 8;

/// A command's output kept at most.
const MAX_OUTPUT: usize = 256 * 1024;

/// Reads a host: its wanted files (as [`View`]) and its facts.
pub async fn read_host(
    c: &HostConnection,
    catalogers: &[Box<dyn Cataloger>],
    budget: &Budget,
    extra_paths: &[String],
) -> Result<(View, HostFacts), SourceError> {
    let host = c.address.to_string();
    let (session, fingerprint) = connect(c).await.map_err(SourceError::Host)?;
    let protocol = |reason: String| {
        SourceError::Host(HostError::Protocol {
            host: host.clone(),
            reason,
        })
    };
    let channel = session
        .channel_open_session()
        .await
        .map_err(|e| protocol(format!("cannot open a session: {e}")))?;
    channel
        .request_subsystem(true, "sftp")
        .await
        .map_err(|e| protocol(format!("the SFTP subsystem is refused: {e}")))?;
    let sftp = SftpSession::new(channel.into_stream())
        .await
        .map_err(|e| protocol(format!("SFTP does not start: {e}")))?;
    let mut view = View::default();
    let mut reader = Reader {
        sftp: &sftp,
        catalogers,
        budget,
        view: &mut view,
        entries: 0,
    };
    let mut roots: Vec<String> = OS_PATHS.iter().map(|p| (*p).to_owned()).collect();
    roots.extend(DEFAULT_PATHS.iter().map(|p| (*p).to_owned()));
    roots.extend(extra_paths.iter().cloned());
    roots.extend(python_dirs(&sftp).await);
    for root in &outermost(roots) {
        reader.walk(root).await?;
    }
    if let Err(e) = sftp.close().await {
        tracing::debug!(%host, "closing SFTP: {e}");
    }
    let mut facts = HostFacts {
        fingerprint,
        ..HostFacts::default()
    };
    // Commands are optional: an SFTP-only account cannot run them.
    match run(&session, "uname -r", budget).await {
        Some(r) if !r.trim().is_empty() => facts.kernel = Some(r.trim().to_owned()),
        _ => view
            .warnings
            .push("the running kernel is not known: `uname -r` cannot be run on this account"),
    }
    if let Some(v) = run(&session, "uname -v", budget).await {
        facts.kernel_build = Some(v.trim().to_owned()).filter(|v| !v.is_empty());
    }
    if let Some(ss) = run(&session, "ss -ltnH", budget).await {
        facts.listening = parse_ss(&ss);
    }
    if let Err(e) = session
        .disconnect(russh::Disconnect::ByApplication, "", "")
        .await
    {
        tracing::debug!(%host, "disconnecting: {e}");
    }
    Ok((view, facts))
}

/// The roots without those inside another (each file is read once).
fn outermost(mut roots: Vec<String>) -> Vec<String> {
    roots.sort();
    roots.dedup();
    let mut kept: Vec<String> = Vec::new();
    for r in roots {
        let r = match r.trim_end_matches('/') {
            "" => "/".to_owned(),
            t => t.to_owned(),
        };
        let inside = |k: &String| k == "/" || r.starts_with(&format!("{k}/"));
        if !kept.iter().any(inside) {
            kept.push(r);
        }
    }
    kept
}

/// `/usr/lib/python3.11`, `/usr/local/lib/python3.12`, … as they are there.
async fn python_dirs(sftp: &SftpSession) -> Vec<String> {
    let mut out = Vec::new();
    for parent in ["/usr/lib", "/usr/local/lib"] {
        let Ok(dir) = sftp.read_dir(parent).await else {
            continue;
        };
        for entry in dir {
            let name = entry.file_name();
            if name.starts_with("python3.") && entry.file_type().is_dir() {
                out.push(format!("{parent}/{name}"));
            }
        }
    }
    out
}

struct Reader<'a> {
    sftp: &'a SftpSession,
    catalogers: &'a [Box<dyn Cataloger>],
    budget: &'a Budget,
    view: &'a mut View,
    entries: u64,
}

impl Reader<'_> {
    /// Walks `root` breadth first, without following directory links, to
    /// [`MAX_DEPTH`], reading the files catalogers want.
    async fn walk(&mut self, root: &str) -> Result<(), SourceError> {
        let mut queue = std::collections::VecDeque::from([(root.to_owned(), 0usize)]);
        while let Some((path, depth)) = queue.pop_front() {
            self.budget.check()?;
            self.count(&path)?;
            let Ok(meta) = self.sftp.symlink_metadata(&path).await else {
                continue;
            };
            let ft = meta.file_type();
            if ft.is_dir() {
                if depth >= MAX_DEPTH {
                    continue;
                }
                let Ok(dir) = self.sftp.read_dir(&path).await else {
                    self.view
                        .warnings
                        .push(format!("{path} cannot be listed; skipped"));
                    continue;
                };
                for entry in dir {
                    let name = entry.file_name();
                    if name == "." || name == ".." {
                        continue;
                    }
                    let child = format!("{}/{name}", path.trim_end_matches('/'));
                    let t = entry.file_type();
                    if t.is_dir() {
                        queue.push_back((child, depth + 1));
                    } else if (t.is_file() || t.is_symlink())
                        && vedette_extract::wanted(&child, self.catalogers)
                    {
                        self.count(&child)?;
                        self.read(&child).await?;
                    }
                }
            } else if (ft.is_file() || ft.is_symlink())
                && vedette_extract::wanted(&path, self.catalogers)
            {
                self.read(&path).await?;
            }
        }
        Ok(())
    }

    fn count(&mut self, path: &str) -> Result<(), SourceError> {
        let limits = self.budget.limits();
        self.entries += 1;
        if self.entries > limits.max_entries {
            return Err(SourceError::Limit {
                what: format!(
                    "the host holds more than {} files and directories where packages are looked for (at {path})",
                    limits.max_entries
                ),
                setting: ScanLimits::ENTRIES,
            });
        }
        Ok(())
    }

    /// Reads one wanted file (a link is followed), world-readable only, as
    /// large as the limits allow.
    async fn read(&mut self, path: &str) -> Result<(), SourceError> {
        let Ok(meta) = self.sftp.metadata(path).await else {
            self.view
                .warnings
                .push(format!("{path} cannot be read; skipped"));
            return Ok(());
        };
        if !meta.file_type().is_file() {
            return Ok(());
        }
        if meta.permissions.is_some_and(|p| p & 0o004 == 0) {
            self.view.warnings.push(format!(
                "{path} is not world-readable: Vedette reads only what any account may; skipped"
            ));
            return Ok(());
        }
        let size = meta.size.unwrap_or(0);
        if let Some(w) = self.budget.oversized(path, size) {
            self.view.warnings.push(w);
            return Ok(());
        }
        self.budget.keep(path, size)?;
        let mut file = match self.sftp.open(path).await {
            Ok(f) => f,
            Err(e) => {
                self.view.warnings.push(format!("{path}: {e}; skipped"));
                return Ok(());
            }
        };
        let mut data = Vec::with_capacity(size as usize);
        // No more than was accounted for, whatever the file does meanwhile.
        match (&mut file).take(size).read_to_end(&mut data).await {
            Ok(_) => self.view.files.insert(path, data, None),
            Err(e) => self.view.warnings.push(format!("{path}: {e}")),
        }
        Ok(())
    }
}

/// Runs `command` when the account may; its standard output, bounded.
async fn run(session: &Session, command: &str, budget: &Budget) -> Option<String> {
    let work = async {
        let mut channel = session.channel_open_session().await.ok()?;
        channel.exec(true, command).await.ok()?;
        let mut out = Vec::new();
        let mut status = None;
        while let Some(msg) = channel.wait().await {
            match msg {
                russh::ChannelMsg::Data { data } => {
                    let room = MAX_OUTPUT.saturating_sub(out.len());
                    out.extend_from_slice(&data[..data.len().min(room)]);
                }
                russh::ChannelMsg::ExitStatus { exit_status } => status = Some(exit_status),
                russh::ChannelMsg::Close => break,
                _ => {}
            }
        }
        (status == Some(0)).then(|| String::from_utf8_lossy(&out).into_owned())
    };
    if budget.check().is_err() {
        return None;
    }
    tokio::time::timeout(Duration::from_secs(20), work)
        .await
        .ok()
        .flatten()
}

/// The listening TCP sockets of `ss -ltnH`: `0.0.0.0:22`, `[::]:443`, …
pub fn parse_ss(text: &str) -> Vec<String> {
    let mut out: Vec<String> = text
        .lines()
        .filter_map(|l| {
            let fields: Vec<&str> = l.split_whitespace().collect();
            // State Recv-Q Send-Q Local Peer
            (fields.len() >= 4 && fields[0] == "LISTEN").then(|| fields[3].to_owned())
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Checks the host key as the connection is made; what it found is kept
/// for the error.
pub(crate) struct Checker {
    host: String,
    port: u16,
    known: KnownHosts,
    trust: Option<String>,
    found: Arc<Mutex<KeyCheck>>,
}

#[derive(Debug, Clone, Default)]
enum KeyCheck {
    #[default]
    NotYet,
    Known(String),
    Unknown(String),
    Changed {
        fingerprint: String,
        file: String,
        line: usize,
    },
    Unreadable(String),
}

/// A key's fingerprint as OpenSSH prints it: `SHA256:base64`.
pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

impl Checker {
    fn check(&self, key: &PublicKey) -> KeyCheck {
        let fp = fingerprint(key);
        let files = std::iter::once(&self.known.own).chain(self.known.others.iter());
        for file in files {
            if !file.exists() {
                continue;
            }
            match russh::keys::check_known_hosts_path(&self.host, self.port, key, file) {
                Ok(true) => return KeyCheck::Known(fp),
                Ok(false) => {}
                Err(russh::keys::Error::KeyChanged { line }) => {
                    return KeyCheck::Changed {
                        fingerprint: fp,
                        file: file.display().to_string(),
                        line,
                    }
                }
                Err(e) => {
                    return KeyCheck::Unreadable(format!("{} cannot be read: {e}", file.display()))
                }
            }
        }
        if self.trust.as_deref() == Some(fp.as_str()) {
            if let Some(dir) = self.known.own.parent() {
                if let Err(e) = std::fs::create_dir_all(dir) {
                    return KeyCheck::Unreadable(format!("cannot create {}: {e}", dir.display()));
                }
            }
            return match russh::keys::known_hosts::learn_known_hosts_path(
                &self.host,
                self.port,
                key,
                &self.known.own,
            ) {
                Ok(()) => KeyCheck::Known(fp),
                Err(e) => KeyCheck::Unreadable(format!(
                    "cannot record the trusted key in {}: {e}",
                    self.known.own.display()
                )),
            };
        }
        KeyCheck::Unknown(fp)
    }
}

impl client::Handler for Checker {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        server_public_key: &russh::keys::PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let key = match server_public_key {
            russh::keys::PublicKeyOrCertificate::PublicKey { key, .. } => key.clone(),
            russh::keys::PublicKeyOrCertificate::Certificate(c) => {
                PublicKey::new(c.public_key().clone(), "")
            }
        };
        let found = self.check(&key);
        let ok = matches!(found, KeyCheck::Known(_));
        if let Ok(mut slot) = self.found.lock() {
            *slot = found;
        }
        Ok(ok)
    }
}

/// Connects, checks the host key and authenticates, within the connect timeout.
async fn connect(c: &HostConnection) -> Result<(Session, String), HostError> {
    let (mut session, fingerprint) = handshake(c).await?;
    let timeout = HostError::Timeout {
        host: c.address.to_string(),
        seconds: c.connect_timeout.as_secs().max(1),
    };
    tokio::time::timeout(c.connect_timeout, authenticate(&mut session, c))
        .await
        .map_err(|_| timeout)??;
    Ok((session, fingerprint))
}

/// Checks a host's key without logging in: its fingerprint when it is
/// known (or `c.trust` names it, which records it), else why not.
pub async fn probe(c: &HostConnection) -> Result<String, HostError> {
    let (session, fingerprint) = handshake(c).await?;
    if let Err(e) = session
        .disconnect(russh::Disconnect::ByApplication, "", "")
        .await
    {
        tracing::debug!(host = %c.address, "disconnecting: {e}");
    }
    Ok(fingerprint)
}

/// Connects (through the bastion when there is one) and checks the host
/// key, within the connect timeout.
async fn handshake(c: &HostConnection) -> Result<(Session, String), HostError> {
    let host = c.address.to_string();
    let found = Arc::new(Mutex::new(KeyCheck::NotYet));
    let checker = Checker {
        host: c.address.host.clone(),
        port: c.address.port,
        known: c.known_hosts.clone(),
        trust: c.trust.clone(),
        found: Arc::clone(&found),
    };
    let config = Arc::new(client::Config {
        inactivity_timeout: Some(Duration::from_secs(60)),
        keepalive_interval: Some(Duration::from_secs(15)),
        ..Default::default()
    });
    let seconds = c.connect_timeout.as_secs().max(1);
    let timeout = || HostError::Timeout {
        host: host.clone(),
        seconds,
    };
    if let Some(j) = &c.jump {
        let (bastion, _) = Box::pin(connect(j)).await?;
        let opened = tokio::time::timeout(
            c.connect_timeout,
            bastion.channel_open_direct_tcpip(
                c.address.host.as_str(),
                u32::from(c.address.port),
                "127.0.0.1",
                0,
            ),
        )
        .await
        .map_err(|_| timeout())?
        .map_err(|e| HostError::Unreachable {
            host: host.clone(),
            reason: format!("the jump host {} cannot reach it ({e})", j.address),
        })?;
        let handshake = client::connect_stream(config, opened.into_stream(), checker);
        let handle = tokio::time::timeout(c.connect_timeout, handshake)
            .await
            .map_err(|_| timeout())?
            .map_err(|e| {
                let check = found.lock().map(|f| f.clone()).unwrap_or_default();
                key_error(&host, check).unwrap_or_else(|| HostError::Protocol {
                    host: host.clone(),
                    reason: format!("the SSH handshake through {} failed: {e}", j.address),
                })
            })?;
        let fingerprint = known_fingerprint(&host, &found)?;
        return Ok((
            Session {
                handle,
                _jump: Some(Box::new(bastion)),
            },
            fingerprint,
        ));
    }
    let addr = (c.address.host.as_str(), c.address.port);
    let addrs: Vec<std::net::SocketAddr> =
        match tokio::time::timeout(c.connect_timeout, tokio::net::lookup_host(addr)).await {
            Err(_) => return Err(timeout()),
            Ok(Err(e)) => {
                return Err(HostError::Dns {
                    host,
                    reason: e.to_string(),
                })
            }
            Ok(Ok(a)) => a.collect(),
        };
    let handshake = async {
        let stream = tokio::net::TcpStream::connect(&addrs[..])
            .await
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::ConnectionRefused => HostError::Refused { host: host.clone() },
                _ => HostError::Unreachable {
                    host: host.clone(),
                    reason: e.to_string(),
                },
            })?;
        client::connect_stream(config, stream, checker)
            .await
            .map_err(|e| {
                let check = found.lock().map(|f| f.clone()).unwrap_or_default();
                key_error(&host, check).unwrap_or_else(|| HostError::Protocol {
                    host: host.clone(),
                    reason: format!("the SSH handshake failed: {e}"),
                })
            })
    };
    let handle = tokio::time::timeout(c.connect_timeout, handshake)
        .await
        .map_err(|_| timeout())??;
    let fingerprint = known_fingerprint(&host, &found)?;
    Ok((
        Session {
            handle,
            _jump: None,
        },
        fingerprint,
    ))
}

/// The fingerprint of a key the handshake found known; why not otherwise.
fn known_fingerprint(host: &str, found: &Mutex<KeyCheck>) -> Result<String, HostError> {
    match found.lock().map(|f| f.clone()).unwrap_or_default() {
        KeyCheck::Known(fp) => Ok(fp),
        other => Err(
            key_error(host, other).unwrap_or_else(|| HostError::Protocol {
                host: host.to_owned(),
                reason: "the host key was not checked".into(),
            }),
        ),
    }
}

fn key_error(host: &str, check: KeyCheck) -> Option<HostError> {
    Some(match check {
        KeyCheck::Unknown(fingerprint) => HostError::UnknownHostKey {
            host: host.to_owned(),
            fingerprint,
        },
        KeyCheck::Changed {
            fingerprint,
            file,
            line,
        } => HostError::ChangedHostKey {
            host: host.to_owned(),
            fingerprint,
            file,
            line,
        },
        KeyCheck::Unreadable(reason) => HostError::Protocol {
            host: host.to_owned(),
            reason,
        },
        KeyCheck::NotYet | KeyCheck::Known(_) => return None,
    })
}

/// The agent's keys, then the stored key, then the stored password.
async fn authenticate(session: &mut Session, c: &HostConnection) -> Result<(), HostError> {
    let user = c.address.user.clone();
    let host = c.address.to_string();
    let mut tried = Vec::new();
    let failed = |e: russh::Error| HostError::Protocol {
        host: host.clone(),
        reason: format!("authentication broke off: {e}"),
    };
    if c.auth.agent && std::env::var_os("SSH_AUTH_SOCK").is_some_and(|s| !s.is_empty()) {
        tried.push("the ssh-agent's keys");
        if let Ok(mut agent) = russh::keys::agent::client::AgentClient::connect_env().await {
            let identities = agent.request_identities().await.unwrap_or_default();
            for id in identities {
                let key = id.public_key().into_owned();
                let hash = rsa_hash(session, &key).await;
                match session
                    .authenticate_publickey_with(&user, key, hash, &mut agent)
                    .await
                {
                    Ok(r) if r.success() => return Ok(()),
                    Ok(_) => {}
                    Err(e) => tracing::debug!(%host, "the agent's key was not used: {e:?}"),
                }
            }
        }
    }
    if let Some((pem, passphrase)) = &c.auth.key {
        tried.push("the stored key");
        let key = russh::keys::decode_secret_key(
            pem.expose().as_str(),
            passphrase.as_ref().map(|p| p.expose().as_str()),
        )
        .map_err(|e| HostError::Protocol {
            host: host.clone(),
            reason: format!(
                "the stored key does not read ({e}); store it again with `vedette credential add --host`"
            ),
        })?;
        let hash = rsa_hash(session, key.public_key()).await;
        let key = PrivateKeyWithHashAlg::new(Arc::new(key), hash);
        if session
            .authenticate_publickey(&user, key)
            .await
            .map_err(failed)?
            .success()
        {
            return Ok(());
        }
    }
    if let Some(pw) = &c.auth.password {
        tried.push("the stored password");
        if session
            .authenticate_password(&user, pw.expose().as_str())
            .await
            .map_err(failed)?
            .success()
        {
            return Ok(());
        }
    }
    Err(HostError::Auth {
        host: host.clone(),
        user,
        tried: if tried.is_empty() {
            "nothing: no ssh-agent and no stored key or password".into()
        } else {
            tried.join(", ")
        },
        unread: c
            .auth
            .unread
            .as_ref()
            .map(|why| format!(" The stored credential was not tried: {why}."))
            .unwrap_or_default(),
    })
}

/// The signature hash for an RSA key (the best the server takes); none for others.
async fn rsa_hash(session: &Session, key: &PublicKey) -> Option<HashAlg> {
    if !matches!(key.algorithm(), russh::keys::Algorithm::Rsa { .. }) {
        return None;
    }
    session
        .best_supported_rsa_hash()
        .await
        .ok()
        .flatten()
        .flatten()
}

/// Vedette's own `known_hosts` under `data_dir`, and the user's.
pub fn known_hosts(data_dir: &Path) -> KnownHosts {
    let mut others = Vec::new();
    if let Some(home) = std::env::var_os("HOME") {
        others.push(PathBuf::from(home).join(".ssh/known_hosts"));
    }
    KnownHosts {
        own: data_dir.join("known_hosts"),
        others,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_inside_another_is_walked_once() {
        let roots = ["/opt", "/opt/app", "/opt-x", "/srv/", "/srv/a/b", "/opt"]
            .map(String::from)
            .to_vec();
        assert_eq!(outermost(roots), ["/opt", "/opt-x", "/srv"]);
        let everything = ["/", "/opt"].map(String::from).to_vec();
        assert_eq!(outermost(everything), ["/"]);
    }

    #[test]
    fn listening_sockets_read_from_ss() {
        let ss = "LISTEN 0      128          0.0.0.0:22        0.0.0.0:*\n\
                  LISTEN 0      4096       127.0.0.1:5432      0.0.0.0:*\n\
                  LISTEN 0      128             [::]:22           [::]:*\n";
        assert_eq!(parse_ss(ss), ["0.0.0.0:22", "127.0.0.1:5432", "[::]:22"]);
        assert!(parse_ss("").is_empty());
    }
}

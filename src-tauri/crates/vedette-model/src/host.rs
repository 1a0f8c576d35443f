//! Hosts scanned over SSH: their address, what a host target remembers, and
//! what a scan learns about the host besides its packages.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// `user@host[:port]` (`user@[::1]:2222` for an IPv6 address).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostAddress {
    pub user: String,
    pub host: String,
    pub port: u16,
}

impl HostAddress {
    pub const DEFAULT_PORT: u16 = 22;

    /// Reads `user@host[:port]`; the user is required (Vedette never
    /// guesses which account to use on a fleet).
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let usage = |why: &str| {
            format!("'{s}' is not a host address: {why}. Write it as user@host or user@host:port (user@[::1]:2222 for IPv6)")
        };
        let (user, rest) = s
            .rsplit_once('@')
            .ok_or_else(|| usage("the user is missing"))?;
        if user.is_empty() || user.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(usage("the user is empty or has spaces"));
        }
        let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
            let (addr, after) = v6
                .split_once(']')
                .ok_or_else(|| usage("a '[' without its ']'"))?;
            let port = match after.strip_prefix(':') {
                Some(p) => Some(p),
                None if after.is_empty() => None,
                None => return Err(usage("text after ']'")),
            };
            (addr.to_owned(), port)
        } else {
            match rest.rsplit_once(':') {
                Some((h, p)) if !h.contains(':') => (h.to_owned(), Some(p)),
                Some(_) => return Err(usage("an IPv6 address goes in brackets")),
                None => (rest.to_owned(), None),
            }
        };
        if host.is_empty()
            || host
                .chars()
                .any(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':')))
        {
            return Err(usage("the host name has characters a host name cannot"));
        }
        let port = match port {
            None => Self::DEFAULT_PORT,
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| usage("the port is not a number from 1 to 65535"))?,
        };
        Ok(Self {
            user: user.to_owned(),
            host: host.to_ascii_lowercase(),
            port,
        })
    }
}

impl std::fmt::Display for HostAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == Self::DEFAULT_PORT {
            write!(f, "{}@{host}", self.user)
        } else {
            write!(f, "{}@{host}:{}", self.user, self.port)
        }
    }
}

/// What a host target remembers besides its address.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct HostSpec {
    /// More directories where language packages are looked for (the usual
    /// site-packages, node_modules, /opt, /srv and /app always are).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// A private key file on this machine (`IdentityFile` of an ssh config).
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_file: Option<String>,
    /// A bastion the host is reached through (`user@bastion[:port]`, as an
    /// ssh config's one-hop `ProxyJump`).
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jump: Option<String>,
}

/// What a scan of a host learnt besides its packages.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct HostFacts {
    /// The host key's fingerprint (`SHA256:…`) the connection was made with.
    pub fingerprint: String,
    /// The running kernel (`uname -r`), when the account may run commands.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel: Option<String>,
    /// `uname -v`: on Debian it names the kernel package's version.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel_build: Option<String>,
    /// Listening TCP sockets (`ss -ltn`), e.g. `0.0.0.0:22`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub listening: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_addresses_read_and_print_back() {
        let a = HostAddress::parse("ops@Web-1.example:2222").unwrap();
        assert_eq!(
            (a.user.as_str(), a.host.as_str(), a.port),
            ("ops", "web-1.example", 2222)
        );
        assert_eq!(a.to_string(), "ops@web-1.example:2222");
        assert_eq!(HostAddress::parse("root@10.0.0.5").unwrap().port, 22);
        assert_eq!(
            HostAddress::parse("root@10.0.0.5").unwrap().to_string(),
            "root@10.0.0.5"
        );
        let v6 = HostAddress::parse("me@[::1]:2200").unwrap();
        assert_eq!((v6.host.as_str(), v6.port), ("::1", 2200));
        assert_eq!(v6.to_string(), "me@[::1]:2200");
        for bad in [
            "web-1",
            "@web",
            "me@",
            "me@web:0",
            "me@web:x",
            "me@::1",
            "me@web;rm",
            "me@[::1",
        ] {
            assert!(HostAddress::parse(bad).is_err(), "{bad}");
        }
    }
}

/// What checking a host's key found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(tag = "state", content = "detail", rename_all = "snake_case")]
#[ts(export)]
pub enum HostKeyState {
    /// Known (or just trusted): its fingerprint (`SHA256:…`).
    Trusted(String),
    /// Not known: this fingerprint is what to check and trust.
    Unknown(String),
    /// The host could not be asked (down, refused, …): why.
    Unreachable(String),
}

/// A host just added, and what its key check found.
#[derive(Debug, Clone, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct HostAdded {
    pub target: crate::TargetInfo,
    pub key: HostKeyState,
}

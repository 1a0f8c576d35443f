use std::collections::HashMap;
use std::sync::Mutex;

use vedette_model::Sensitive;

/// The keyring service name every Vedette secret is stored under.
pub const SERVICE: &str = "vedette";

const HOW_TO_FIX: &str = "Vedette keeps passwords and tokens only in the OS keyring (the freedesktop Secret Service). \
On a desktop, log in to a GNOME or KDE session (gnome-keyring or KWallet provides it). \
On a server or in CI, install gnome-keyring (apt install gnome-keyring dbus) and run Vedette inside \
`dbus-run-session -- sh -c 'echo -n PASSWORD | gnome-keyring-daemon --unlock --components=secrets; vedette ...'`";

/// Why a secret could not be stored or read. The text never contains the secret.
#[derive(Debug, thiserror::Error)]
#[error("{}. {}", self.summary(), self.hint())]
pub enum SecretError {
    Unavailable { detail: String },
    Locked { detail: String },
    Refused { account: String, detail: String },
}

impl SecretError {
    /// What happened.
    pub fn summary(&self) -> String {
        match self {
            SecretError::Unavailable { detail } => {
                format!("the OS keyring cannot be reached ({detail})")
            }
            SecretError::Locked { detail } => {
                format!("the OS keyring is locked and Vedette cannot unlock it ({detail})")
            }
            SecretError::Refused { account, detail } => {
                format!("the OS keyring refused the secret for '{account}': {detail}")
            }
        }
    }

    /// What to do about it.
    pub fn hint(&self) -> &'static str {
        match self {
            SecretError::Unavailable { .. } => HOW_TO_FIX,
            SecretError::Locked { .. } => "Unlock it (log in to your desktop session, or run `gnome-keyring-daemon --unlock`) and try again",
            SecretError::Refused { .. } => "Check the value and try again",
        }
    }
}

/// Where secrets are kept. The real one is [`KeyringSecrets`]; [`MemorySecrets`]
/// is for unit tests of code above this seam. Calls may block (D-Bus round
/// trips): call them from `spawn_blocking`.
pub trait SecretBackend: Send + Sync + 'static {
    fn set(&self, account: &str, secret: &Sensitive<String>) -> Result<(), SecretError>;
    fn get(&self, account: &str) -> Result<Option<Sensitive<String>>, SecretError>;
    /// `Ok(false)` when there was nothing to delete.
    fn delete(&self, account: &str) -> Result<bool, SecretError>;
    /// Checks that the keyring answers, without reading or writing a secret.
    fn probe(&self) -> Result<(), SecretError>;
}

/// Secrets in the OS keyring through the `keyring` crate (Secret Service on
/// Linux, with the pure-Rust session encryption).
#[derive(Debug, Clone)]
pub struct KeyringSecrets {
    service: String,
}

impl Default for KeyringSecrets {
    fn default() -> Self {
        Self {
            service: SERVICE.to_owned(),
        }
    }
}

impl KeyringSecrets {
    fn entry(&self, account: &str) -> Result<keyring::Entry, SecretError> {
        keyring::Entry::new(&self.service, account).map_err(|e| map_error(account, e))
    }
}

/// Maps a keyring error to ours without ever formatting a secret:
/// `keyring::Error::BadEncoding` carries the stored bytes, so it is never
/// displayed as it is.
fn map_error(account: &str, e: keyring::Error) -> SecretError {
    use keyring::Error as K;
    match e {
        K::PlatformFailure(inner) => {
            let detail = inner.to_string();
            if detail.to_ascii_lowercase().contains("locked") {
                SecretError::Locked { detail }
            } else {
                SecretError::Unavailable { detail }
            }
        }
        K::NoStorageAccess(inner) => {
            let detail = inner.to_string();
            if detail.to_ascii_lowercase().contains("locked") {
                SecretError::Locked { detail }
            } else {
                SecretError::Unavailable { detail }
            }
        }
        K::BadEncoding(_) => SecretError::Refused {
            account: account.to_owned(),
            detail: "the stored secret is not valid UTF-8; replace it".into(),
        },
        K::TooLong(field, max) => SecretError::Refused {
            account: account.to_owned(),
            detail: format!("{field} is longer than the keyring allows ({max})"),
        },
        K::Invalid(field, why) => SecretError::Refused {
            account: account.to_owned(),
            detail: format!("{field} is invalid: {why}"),
        },
        K::Ambiguous(items) => SecretError::Refused {
            account: account.to_owned(),
            detail: format!(
                "{} keyring items match; remove the duplicates with `secret-tool clear service {SERVICE} username {account}`",
                items.len()
            ),
        },
        K::NoEntry => SecretError::Refused {
            account: account.to_owned(),
            detail: "no such entry".into(),
        },
        other => SecretError::Unavailable {
            detail: format!("{other:?}").chars().take(200).collect(),
        },
    }
}

impl SecretBackend for KeyringSecrets {
    fn set(&self, account: &str, secret: &Sensitive<String>) -> Result<(), SecretError> {
        self.entry(account)?
            .set_password(secret.expose())
            .map_err(|e| map_error(account, e))?;
        tracing::info!(account, "secret stored in the keyring");
        Ok(())
    }

    fn get(&self, account: &str) -> Result<Option<Sensitive<String>>, SecretError> {
        match self.entry(account)?.get_password() {
            Ok(s) => Ok(Some(Sensitive::new(s))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_error(account, e)),
        }
    }

    fn delete(&self, account: &str) -> Result<bool, SecretError> {
        match self.entry(account)?.delete_credential() {
            Ok(()) => {
                tracing::info!(account, "secret deleted from the keyring");
                Ok(true)
            }
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(map_error(account, e)),
        }
    }

    fn probe(&self) -> Result<(), SecretError> {
        // Looking up an entry that does not exist talks to the service (and
        // fails when it is unreachable) without touching any real secret.
        match self.entry("vedette-probe")?.get_password() {
            Ok(_) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(map_error("vedette-probe", e)),
        }
    }
}

/// An in-memory backend for unit tests above the secret seam.
#[derive(Debug, Default)]
pub struct MemorySecrets {
    map: Mutex<HashMap<String, Sensitive<String>>>,
    unavailable: bool,
}

impl MemorySecrets {
    /// A backend that fails every call like an unreachable keyring.
    pub fn unreachable() -> Self {
        Self {
            unavailable: true,
            ..Self::default()
        }
    }

    fn check(
        &self,
    ) -> Result<std::sync::MutexGuard<'_, HashMap<String, Sensitive<String>>>, SecretError> {
        if self.unavailable {
            return Err(SecretError::Unavailable {
                detail: "no Secret Service on the session bus".into(),
            });
        }
        Ok(self.map.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl SecretBackend for MemorySecrets {
    fn set(&self, account: &str, secret: &Sensitive<String>) -> Result<(), SecretError> {
        self.check()?.insert(account.to_owned(), secret.clone());
        Ok(())
    }

    fn get(&self, account: &str) -> Result<Option<Sensitive<String>>, SecretError> {
        Ok(self.check()?.get(account).cloned())
    }

    fn delete(&self, account: &str) -> Result<bool, SecretError> {
        Ok(self.check()?.remove(account).is_some())
    }

    fn probe(&self) -> Result<(), SecretError> {
        self.check().map(|_| ())
    }
}

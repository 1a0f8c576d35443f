//! API tokens and the event log, as the API and its settings page use them.
//!
//! A token is `vdt_` and 43 characters of base64url (256 random bits); only
//! its SHA-256 is stored, so a stolen database gives no token.

use base64::Engine as _;
use chrono::{Duration, Utc};
use sha2::{Digest, Sha256};
use vedette_model::{ApiToken, CreatedToken, Event, TokenScope};

use crate::{App, AppError, Result};

/// What every token starts with (so a leaked one is recognisable).
pub const TOKEN_PREFIX: &str = "vdt_";

/// A token's last use is written at most this often (a busy script does
/// not turn every request into a write).
const TOUCH_EVERY: Duration = Duration::seconds(60);

pub(crate) fn hash(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// `prefix` and 256 random bits in base64url: a token, a node's credential.
pub(crate) fn new_secret(prefix: &str) -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| AppError::Internal(format!("no randomness for a secret: {e}")))?;
    Ok(format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    ))
}

/// The name of a token: 1 to 100 printable characters.
pub(crate) fn check_token_name(name: &str) -> Result<&str> {
    let name = name.trim();
    if name.is_empty() || name.len() > 100 || name.chars().any(char::is_control) {
        return Err(AppError::Invalid(
            "a token needs a name of 1 to 100 printable characters (what it is for: ci, grafana)"
                .into(),
        ));
    }
    Ok(name)
}

impl App {
    /// Creates a token; its secret is returned once and never stored.
    pub async fn create_token(&self, name: &str, scope: TokenScope) -> Result<CreatedToken> {
        let name = check_token_name(name)?;
        let secret = new_secret(TOKEN_PREFIX)?;
        let prefix: String = secret.chars().take(TOKEN_PREFIX.len() + 6).collect();
        let token = self
            .store()
            .add_api_token(name, scope, &hash(&secret), &prefix)
            .await?;
        Ok(CreatedToken { token, secret })
    }

    /// Every token (never their secrets), revoked ones too.
    pub async fn tokens(&self) -> Result<Vec<ApiToken>> {
        Ok(self.store().api_tokens().await?)
    }

    /// Revokes a token by name or id: refused from the next request on.
    pub async fn revoke_token(&self, name_or_id: &str) -> Result<()> {
        if self.store().revoke_api_token(name_or_id).await? {
            Ok(())
        } else {
            Err(AppError::NotFound(format!(
                "no live token named '{name_or_id}'; `vedette api token list` shows them"
            )))
        }
    }

    /// The live token whose secret this is, its use recorded; `None` for an
    /// unknown or revoked one.
    pub async fn authenticate(&self, secret: &str) -> Result<Option<ApiToken>> {
        if !secret.starts_with(TOKEN_PREFIX) || secret.len() > 100 {
            return Ok(None);
        }
        let Some(mut t) = self.store().api_token_by_hash(&hash(secret)).await? else {
            return Ok(None);
        };
        if t.revoked_at.is_some() {
            return Ok(None);
        }
        let now = Utc::now();
        if t.last_used_at.is_none_or(|at| now - at > TOUCH_EVERY) {
            self.store().touch_api_token(t.id, now).await?;
            t.last_used_at = Some(now);
        }
        Ok(Some(t))
    }

    /// The newest event's id (0 when there is none).
    pub async fn store_last_event_id(&self) -> Result<i64> {
        Ok(self.store().last_event_id().await?)
    }

    /// Events after `after` (0: the oldest kept), at most `limit`.
    pub async fn events_after(&self, after: i64, limit: i64) -> Result<Vec<Event>> {
        Ok(self
            .store()
            .events_after(after, limit.clamp(1, 1000))
            .await?)
    }
}

//! Google's OAuth2 token endpoint on loopback, for GCR / Artifact Registry
//! with a service account: it takes the JWT bearer grant (RFC 7523), checks
//! the assertion's RS256 signature with `openssl dgst -verify` against the
//! service account's public key (openssl as the reference verifier) and its
//! claims, and answers an access token as Google does
//! (`{"access_token", "expires_in", "token_type"}`), or
//! `{"error": "invalid_grant", "error_description"}`.

use std::path::PathBuf;
use std::process::Command;

use base64::Engine;
use serde_json::json;

#[derive(Clone, Debug)]
pub struct GoogleOauth {
    /// The service account's public key (PEM).
    pub public_key: PathBuf,
    pub client_email: String,
    pub access_token: String,
}

impl GoogleOauth {
    /// Status and body for `POST /oauth2/token` with this form body.
    pub fn answer(&self, form: &str) -> (u16, String) {
        let field = |name: &str| {
            form.split('&').find_map(|kv| {
                kv.strip_prefix(&format!("{name}="))
                    .map(|v| v.replace("%3A", ":").replace("%3a", ":"))
            })
        };
        let refuse = |why: &str| {
            (
                400,
                json!({"error": "invalid_grant", "error_description": why}).to_string(),
            )
        };
        if field("grant_type").as_deref() != Some("urn:ietf:params:oauth:grant-type:jwt-bearer") {
            return refuse("Invalid grant_type.");
        }
        let Some(assertion) = field("assertion") else {
            return refuse("Missing assertion.");
        };
        let parts: Vec<&str> = assertion.split('.').collect();
        let [header, claims, signature] = parts.as_slice() else {
            return refuse("Invalid JWT.");
        };
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let (Ok(h), Ok(c), Ok(sig)) = (
            b64.decode(header),
            b64.decode(claims),
            b64.decode(signature),
        ) else {
            return refuse("Invalid JWT encoding.");
        };
        let h: serde_json::Value = serde_json::from_slice(&h).unwrap_or_default();
        let c: serde_json::Value = serde_json::from_slice(&c).unwrap_or_default();
        if h["alg"] != "RS256" {
            return refuse("Invalid JWT algorithm.");
        }
        // The signature, checked by openssl.
        let dir = tempfile::tempdir().expect("temp dir");
        let (input, sig_file) = (dir.path().join("input"), dir.path().join("sig"));
        std::fs::write(&input, format!("{header}.{claims}")).expect("write");
        std::fs::write(&sig_file, sig).expect("write");
        let out = Command::new("openssl")
            .args(["dgst", "-sha256", "-verify"])
            .arg(&self.public_key)
            .arg("-signature")
            .arg(&sig_file)
            .arg(&input)
            .output()
            .expect("run openssl");
        if !String::from_utf8_lossy(&out.stdout).contains("Verified OK") {
            return refuse("Invalid JWT Signature.");
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        if c["iss"] != self.client_email.as_str()
            || !c["aud"]
                .as_str()
                .is_some_and(|a| a.ends_with("/oauth2/token"))
            || c["exp"].as_u64().is_none_or(|e| e <= now)
            || c["scope"].as_str().is_none()
        {
            return refuse("Invalid JWT claims.");
        }
        (
            200,
            json!({"access_token": self.access_token, "expires_in": 3599, "token_type": "Bearer"})
                .to_string(),
        )
    }
}

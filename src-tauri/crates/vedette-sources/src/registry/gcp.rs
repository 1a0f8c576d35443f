//! GCR and Artifact Registry with a service account: the account's JSON key
//! (stored as the password of the user `_json_key`, as Google documents for
//! `docker login`) is never sent to the registry. It signs a JWT (RS256,
//! with `ring`) that the key's `token_uri` trades for a short-lived OAuth2
//! access token (the JWT bearer grant, RFC 7523), and the registry is
//! logged in to as `oauth2accesstoken` with that token.

use base64::Engine;
use vedette_model::Sensitive;

use super::{body_capped, url_host, Credential};
use crate::SourceError;

/// The user name that says the password is a service account's JSON key.
pub const JSON_KEY_USER: &str = "_json_key";
/// The user name Google's registries take with an OAuth2 access token.
pub const ACCESS_TOKEN_USER: &str = "oauth2accesstoken";
/// What the access token may do: read the registries.
const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform.read-only";

#[derive(serde::Deserialize)]
struct Key {
    client_email: String,
    private_key: String,
    #[serde(default)]
    token_uri: Option<String>,
}

/// The registry credential a service account's JSON key gives: an access
/// token from its `token_uri`.
pub(crate) async fn access_token(
    http_for: impl Fn(&str) -> Result<reqwest::Client, SourceError>,
    key_json: &str,
    timeout: std::time::Duration,
) -> Result<Credential, SourceError> {
    let bad = |why: String| {
        SourceError::Registry(format!(
            "the service account key stored for this registry is not usable: {why}; store the JSON key file again (`vedette credential add --registry HOST --username _json_key --password-stdin < key.json`)"
        ))
    };
    let key: Key =
        serde_json::from_str(key_json).map_err(|e| bad(format!("not a JSON key ({e})")))?;
    let token_uri = key
        .token_uri
        .clone()
        .unwrap_or_else(|| "https://oauth2.googleapis.com/token".to_owned());
    let url = reqwest::Url::parse(&token_uri).map_err(|e| bad(format!("token_uri: {e}")))?;
    let host = url_host(&url, "the key's token_uri")?;
    let assertion = jwt(&key, &token_uri).map_err(bad)?;
    let resp = http_for(&host)?
        .post(url)
        .form(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", assertion.as_str()),
        ])
        .timeout(timeout)
        .send()
        .await
        .map_err(|e| {
            SourceError::Registry(format!(
                "cannot reach Google's token service at {host}: {e}"
            ))
        })?;
    let status = resp.status();
    let body = body_capped(resp, 1024 * 1024, &host, "an access token").await?;
    if !status.is_success() {
        #[derive(serde::Deserialize, Default)]
        struct Refusal {
            error: Option<String>,
            error_description: Option<String>,
        }
        let r: Refusal = serde_json::from_slice(&body).unwrap_or_default();
        return Err(SourceError::Registry(format!(
            "Google's token service refused service account {} ({status}): {}; check that the key is not revoked and the account may read the registry",
            key.client_email,
            r.error_description.or(r.error).unwrap_or_default()
        )));
    }
    #[derive(serde::Deserialize)]
    struct Token {
        access_token: String,
    }
    let t: Token = serde_json::from_slice(&body).map_err(|e| {
        SourceError::Registry(format!(
            "Google's token service answered without a token: {e}"
        ))
    })?;
    Ok(Credential {
        username: ACCESS_TOKEN_USER.to_owned(),
        secret: Sensitive::new(t.access_token),
    })
}

/// The signed assertion: `{"alg":"RS256","typ":"JWT"}` and the claims
/// (issuer the account, audience the token URI, an hour of validity).
fn jwt(key: &Key, audience: &str) -> Result<String, String> {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let header = b64.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
    let claims = serde_json::json!({
        "iss": key.client_email,
        "scope": SCOPE,
        "aud": audience,
        "iat": now,
        "exp": now + 3600,
    });
    let claims = b64.encode(claims.to_string());
    let input = format!("{header}.{claims}");
    let der = pem_body(&key.private_key)?;
    let pair = ring::signature::RsaKeyPair::from_pkcs8(&der)
        .map_err(|e| format!("its private key is not a PKCS#8 RSA key ({e})"))?;
    let mut sig = vec![0; pair.public().modulus_len()];
    pair.sign(
        &ring::signature::RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        input.as_bytes(),
        &mut sig,
    )
    .map_err(|_| "its private key cannot sign".to_owned())?;
    Ok(format!("{input}.{}", b64.encode(sig)))
}

/// The DER inside a `-----BEGIN PRIVATE KEY-----` block.
fn pem_body(pem: &str) -> Result<Vec<u8>, String> {
    let body: String = pem
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("-----") && !l.is_empty())
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|_| "its private key is not PEM".to_owned())
}

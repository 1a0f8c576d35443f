//! ACR with a service principal: its credentials (the JSON `az ad sp
//! create-for-rbac` prints, `appId`/`password`/`tenant`, or the `--sdk-auth`
//! form, `clientId`/`clientSecret`/`tenantId`/`activeDirectoryEndpointUrl`)
//! are the password of the user `_azure_sp`. They are never sent to the
//! registry: Microsoft Entra ID (AAD) gives an access token for them (the
//! client-credentials grant), the registry's `/oauth2/exchange` trades it
//! for an ACR refresh token, and pulls use that as an identity token.

use vedette_model::Sensitive;

use super::{body_capped, url_host, Credential, IDENTITY_TOKEN_USER};
use crate::SourceError;

/// The user name that says the password is a service principal's JSON.
pub const SERVICE_PRINCIPAL_USER: &str = "_azure_sp";

#[derive(serde::Deserialize)]
struct Principal {
    #[serde(alias = "appId")]
    #[serde(rename = "clientId")]
    client_id: String,
    #[serde(alias = "password")]
    #[serde(rename = "clientSecret")]
    client_secret: String,
    #[serde(alias = "tenant")]
    #[serde(rename = "tenantId")]
    tenant_id: String,
    #[serde(rename = "activeDirectoryEndpointUrl", default)]
    authority: Option<String>,
}

/// The identity token (an ACR refresh token) a service principal gives for
/// `registry`, reached at `scheme://registry`.
pub(crate) async fn refresh_token(
    http_for: impl Fn(&str) -> Result<reqwest::Client, SourceError>,
    principal_json: &str,
    registry: &str,
    scheme: &str,
    timeout: std::time::Duration,
) -> Result<Credential, SourceError> {
    let p: Principal = serde_json::from_str(principal_json).map_err(|e| {
        SourceError::Registry(format!(
            "the service principal stored for {registry} is not usable ({e}); store the JSON `az ad sp create-for-rbac` printed (appId, password, tenant) again as the password of _azure_sp"
        ))
    })?;
    let authority = p
        .authority
        .clone()
        .unwrap_or_else(|| "https://login.microsoftonline.com".to_owned());
    let authority = authority.trim_end_matches('/');
    let aad_url = format!("{authority}/{}/oauth2/v2.0/token", p.tenant_id);
    let aad_host = host_of(&aad_url)?;
    #[derive(serde::Deserialize)]
    struct Access {
        access_token: String,
    }
    let resp = http_for(&aad_host)?
        .post(&aad_url)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", p.client_id.as_str()),
            ("client_secret", p.client_secret.as_str()),
            ("scope", "https://containerregistry.azure.net/.default"),
        ])
        .timeout(timeout)
        .send()
        .await
        .map_err(|e| {
            SourceError::Registry(format!(
                "cannot reach Microsoft Entra ID at {aad_host}: {e}"
            ))
        })?;
    let status = resp.status();
    let body = body_capped(resp, 1024 * 1024, &aad_host, "an access token").await?;
    if !status.is_success() {
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        return Err(SourceError::Registry(format!(
            "Microsoft Entra ID refused service principal {} of tenant {} ({status}): {}",
            p.client_id,
            p.tenant_id,
            v["error_description"]
                .as_str()
                .or(v["error"].as_str())
                .unwrap_or("no reason given")
        )));
    }
    let access: Access = serde_json::from_slice(&body).map_err(|e| {
        SourceError::Registry(format!(
            "Microsoft Entra ID answered without an access token: {e}"
        ))
    })?;
    #[derive(serde::Deserialize)]
    struct Refresh {
        refresh_token: String,
    }
    let exchange = format!("{scheme}://{registry}/oauth2/exchange");
    let resp = http_for(registry)?
        .post(&exchange)
        .form(&[
            ("grant_type", "access_token"),
            ("service", registry),
            ("tenant", p.tenant_id.as_str()),
            ("access_token", access.access_token.as_str()),
        ])
        .timeout(timeout)
        .send()
        .await
        .map_err(|e| SourceError::Registry(format!("cannot reach registry {registry}: {e}")))?;
    let status = resp.status();
    let body = body_capped(resp, 1024 * 1024, registry, "a refresh token").await?;
    if !status.is_success() {
        return Err(SourceError::Registry(format!(
            "registry {registry} refused to exchange the Entra ID token of service principal {} ({status}): give it the AcrPull role on this registry",
            p.client_id
        )));
    }
    let r: Refresh = serde_json::from_slice(&body).map_err(|e| {
        SourceError::Registry(format!(
            "registry {registry} answered the exchange without a refresh token: {e}"
        ))
    })?;
    Ok(Credential {
        username: IDENTITY_TOKEN_USER.to_owned(),
        secret: Sensitive::new(r.refresh_token),
    })
}

fn host_of(url: &str) -> Result<String, SourceError> {
    let u = reqwest::Url::parse(url)
        .map_err(|e| SourceError::Registry(format!("{url} is not a URL: {e}")))?;
    url_host(&u, url)
}

//! Microsoft Entra ID's token endpoint and ACR's `/oauth2/exchange` on
//! loopback, for a service principal: the client-credentials grant answers
//! an access token (as Entra ID's v2.0 endpoint does), the exchange trades
//! it for an ACR refresh token (as ACR's `POST /oauth2/exchange` does, with
//! `grant_type=access_token`, `service`, `tenant`, `access_token`).

use serde_json::json;

#[derive(Clone, Debug)]
pub struct AzureApi {
    pub tenant: String,
    pub client_id: String,
    pub client_secret: String,
    pub aad_token: String,
    pub refresh_token: String,
}

impl AzureApi {
    /// Status and body for a POST to `path` with this form body, or none
    /// when the path is not Entra ID's or the exchange.
    pub fn answer(&self, path: &str, form: &str) -> Option<(u16, String)> {
        let field = |name: &str| {
            form.split('&')
                .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
                .map(str::to_owned)
        };
        if path == format!("/aad/{}/oauth2/v2.0/token", self.tenant) {
            let ok = field("grant_type").as_deref() == Some("client_credentials")
                && field("client_id").as_deref() == Some(self.client_id.as_str())
                && field("client_secret").as_deref() == Some(self.client_secret.as_str());
            return Some(if ok {
                (
                    200,
                    json!({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": self.aad_token})
                        .to_string(),
                )
            } else {
                (
                    401,
                    json!({"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."})
                        .to_string(),
                )
            });
        }
        if path.starts_with("/oauth2/exchange") {
            let ok = field("grant_type").as_deref() == Some("access_token")
                && field("access_token").as_deref() == Some(self.aad_token.as_str())
                && field("tenant").as_deref() == Some(self.tenant.as_str());
            return Some(if ok {
                (
                    200,
                    json!({"refresh_token": self.refresh_token}).to_string(),
                )
            } else {
                (
                    401,
                    json!({"errors": [{"code": "UNAUTHORIZED", "message": "invalid token"}]})
                        .to_string(),
                )
            });
        }
        None
    }
}

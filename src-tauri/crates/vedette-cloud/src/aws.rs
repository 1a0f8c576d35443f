//! The AWS EC2 calls the new-node gate makes (`StopInstances`,
//! `TerminateInstances`, `DescribeInstances` for protected tags), signed with
//! SigV4 by the `aws-sigv4` crate over reqwest, against a configurable
//! endpoint (AWS partitions, moto). The account's secret lives in the
//! keyring; it is never logged or shown.

use std::time::{Duration, SystemTime};

use serde::Deserialize;
use vedette_model::Sensitive;

/// The EC2 API version the calls speak.
const EC2_VERSION: &str = "2016-11-15";

/// An answer is read up to this size.
const MAX_ANSWER: usize = 1024 * 1024;

/// An AWS account's access key, kept whole in the keyring.
#[derive(Clone, Deserialize)]
pub struct AwsAccount {
    pub access_key_id: String,
    pub secret_access_key: Sensitive<String>,
    #[serde(default)]
    pub session_token: Option<Sensitive<String>>,
    pub region: String,
    /// The EC2 endpoint (`https://ec2.<region>.amazonaws.com` when none);
    /// STS is called there too when it is set (moto serves both).
    #[serde(default)]
    pub endpoint: Option<String>,
    /// A role the gate assumes (STS `AssumeRole`) before each decision's
    /// calls; the key above then only needs `sts:AssumeRole`.
    #[serde(default)]
    pub role_arn: Option<String>,
    /// The role's external id, when its trust policy asks for one.
    #[serde(default)]
    pub external_id: Option<String>,
}

impl std::fmt::Debug for AwsAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsAccount")
            .field("access_key_id", &self.access_key_id)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("role_arn", &self.role_arn)
            .finish_non_exhaustive()
    }
}

impl AwsAccount {
    /// The keyring's form: the only place the secret is written.
    pub(crate) fn encode(&self) -> String {
        serde_json::json!({
            "access_key_id": self.access_key_id,
            "secret_access_key": self.secret_access_key.expose(),
            "session_token": self.session_token.as_ref().map(|t| t.expose().clone()),
            "region": self.region,
            "endpoint": self.endpoint,
            "role_arn": self.role_arn,
            "external_id": self.external_id,
        })
        .to_string()
    }

    /// The EC2 endpoint the calls go to.
    pub fn ec2_endpoint(&self) -> String {
        self.endpoint
            .clone()
            .unwrap_or_else(|| format!("https://ec2.{}.amazonaws.com/", self.region))
    }

    /// The STS endpoint (regional; the account's endpoint when it has one).
    pub fn sts_endpoint(&self) -> String {
        self.endpoint
            .clone()
            .unwrap_or_else(|| format!("https://sts.{}.amazonaws.com/", self.region))
    }
}

/// The STS API version.
const STS_VERSION: &str = "2011-06-15";

/// A signing identity: the account's key, or a role's session.
#[derive(Clone)]
struct Keys {
    access_key_id: String,
    secret_access_key: Sensitive<String>,
    session_token: Option<Sensitive<String>>,
}

impl Keys {
    fn of(a: &AwsAccount) -> Self {
        Keys {
            access_key_id: a.access_key_id.clone(),
            secret_access_key: a.secret_access_key.clone(),
            session_token: a.session_token.clone(),
        }
    }
}

/// An image of an ECR repository as `DescribeImages` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcrImage {
    pub digest: String,
    pub tags: Vec<String>,
    pub pushed: Option<chrono::DateTime<chrono::Utc>>,
    pub media_type: Option<String>,
}

/// Most pages of one listing followed.
const MAX_PAGES: usize = 10_000;

/// A timestamp of AWS's JSON protocol: epoch seconds, or RFC 3339.
fn json_time(v: &serde_json::Value) -> Option<chrono::DateTime<chrono::Utc>> {
    match v {
        serde_json::Value::Number(n) => n
            .as_f64()
            .and_then(|t| chrono::DateTime::from_timestamp(t as i64, 0)),
        serde_json::Value::String(t) => chrono::DateTime::parse_from_rfc3339(t)
            .ok()
            .map(|t| t.with_timezone(&chrono::Utc)),
        _ => None,
    }
}

/// An ECR registry's pull credential and until when it holds.
pub struct EcrToken {
    pub username: String,
    pub password: Sensitive<String>,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// What the gate does to an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ec2Action {
    Stop,
    Terminate,
}

impl Ec2Action {
    fn api(self) -> &'static str {
        match self {
            Ec2Action::Stop => "StopInstances",
            Ec2Action::Terminate => "TerminateInstances",
        }
    }
}

/// Why an EC2 call did not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum AwsError {
    #[error("AWS at {endpoint} cannot be reached: {reason}")]
    Unreachable { endpoint: String, reason: String },
    #[error("AWS refused {call} ({status}): {code}: {message}")]
    Refused {
        call: &'static str,
        status: u16,
        code: String,
        message: String,
    },
    #[error("the request cannot be signed: {0}")]
    Signing(String),
    #[error("the role {role} cannot be assumed: {reason}")]
    AssumeRole { role: String, reason: String },
}

/// An EC2 client for one account (through its role, when it names one).
pub struct Ec2 {
    account: AwsAccount,
    http: reqwest::Client,
    /// The role's session, assumed at the first call.
    session: tokio::sync::OnceCell<Keys>,
}

impl Ec2 {
    pub fn new(account: AwsAccount) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_default();
        Self {
            account,
            http,
            session: tokio::sync::OnceCell::new(),
        }
    }

    /// Who the calls are made as (STS `GetCallerIdentity`): the user's or
    /// the assumed role's ARN. What `vedette cloud aws check` shows.
    pub async fn caller(&self) -> Result<String, AwsError> {
        let keys = self.keys().await?;
        let body = self
            .signed(
                &keys,
                "sts",
                &self.account.sts_endpoint(),
                STS_VERSION,
                "GetCallerIdentity",
                &[],
            )
            .await?;
        element(&body, "Arn")
            .map(str::to_owned)
            .ok_or_else(|| AwsError::Refused {
                call: "GetCallerIdentity",
                status: 200,
                code: "NoArn".into(),
                message: "the answer names no caller".into(),
            })
    }

    /// The keys the EC2 calls are signed with: the role's session when the
    /// account names a role, else the account's own.
    async fn keys(&self) -> Result<Keys, AwsError> {
        let Some(role) = &self.account.role_arn else {
            return Ok(Keys::of(&self.account));
        };
        self.session
            .get_or_try_init(|| async {
                let mut params = vec![
                    ("RoleArn", role.as_str()),
                    ("RoleSessionName", "vedette-gate"),
                    ("DurationSeconds", "900"),
                ];
                if let Some(x) = &self.account.external_id {
                    params.push(("ExternalId", x.as_str()));
                }
                let body = self
                    .signed(
                        &Keys::of(&self.account),
                        "sts",
                        &self.account.sts_endpoint(),
                        STS_VERSION,
                        "AssumeRole",
                        &params,
                    )
                    .await
                    .map_err(|e| AwsError::AssumeRole {
                        role: role.clone(),
                        reason: e.to_string(),
                    })?;
                let creds = element(&body, "Credentials").unwrap_or_default();
                match (
                    element(creds, "AccessKeyId"),
                    element(creds, "SecretAccessKey"),
                    element(creds, "SessionToken"),
                ) {
                    (Some(id), Some(secret), Some(token)) => Ok(Keys {
                        access_key_id: id.to_owned(),
                        secret_access_key: Sensitive::new(secret.to_owned()),
                        session_token: Some(Sensitive::new(token.to_owned())),
                    }),
                    _ => Err(AwsError::AssumeRole {
                        role: role.clone(),
                        reason: "STS answered without credentials".into(),
                    }),
                }
            })
            .await
            .cloned()
    }

    /// Stops or terminates an instance; what EC2 answered (the request id
    /// and the instance's state before and now).
    pub async fn act(&self, action: Ec2Action, instance_id: &str) -> Result<String, AwsError> {
        let body = self
            .call(action.api(), &[("InstanceId.1", instance_id)])
            .await?;
        let state = |tag: &str| {
            element(&body, tag)
                .and_then(|s| element(s, "name"))
                .unwrap_or("?")
        };
        Ok(format!(
            "{} {instance_id}: {} → {} (request {})",
            action.api(),
            state("previousState"),
            state("currentState"),
            element(&body, "requestId").unwrap_or("?")
        ))
    }

    /// The instance's tags (`DescribeInstances`).
    pub async fn tags(&self, instance_id: &str) -> Result<Vec<(String, String)>, AwsError> {
        let body = self
            .call("DescribeInstances", &[("InstanceId.1", instance_id)])
            .await?;
        let mut tags = Vec::new();
        if let Some(set) = element(&body, "tagSet") {
            for item in elements(set, "item") {
                if let (Some(k), Some(v)) = (element(item, "key"), element(item, "value")) {
                    tags.push((k.to_owned(), v.to_owned()));
                }
            }
        }
        Ok(tags)
    }

    /// The port ranges the instance's security groups open to the whole
    /// internet (`0.0.0.0/0` or `::/0`): (protocol, from, to); protocol
    /// `-1` is every protocol and port.
    pub async fn open_to_world(
        &self,
        instance_id: &str,
    ) -> Result<Vec<(String, u16, u16)>, AwsError> {
        let body = self
            .call("DescribeInstances", &[("InstanceId.1", instance_id)])
            .await?;
        let mut groups: Vec<String> = Vec::new();
        for set in blocks(&body, "groupSet") {
            for item in blocks(set, "item") {
                if let Some(id) = element(item, "groupId") {
                    if !groups.iter().any(|g| g == id) {
                        groups.push(id.to_owned());
                    }
                }
            }
        }
        if groups.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = (1..=groups.len()).map(|i| format!("GroupId.{i}")).collect();
        let params: Vec<(&str, &str)> = keys
            .iter()
            .zip(&groups)
            .map(|(k, g)| (k.as_str(), g.as_str()))
            .collect();
        let body = self.call("DescribeSecurityGroups", &params).await?;
        let mut open = Vec::new();
        for perms in blocks(&body, "ipPermissions") {
            for rule in blocks(perms, "item") {
                let world = blocks(rule, "ipRanges")
                    .iter()
                    .flat_map(|r| blocks(r, "item"))
                    .any(|r| element(r, "cidrIp") == Some("0.0.0.0/0"))
                    || blocks(rule, "ipv6Ranges")
                        .iter()
                        .flat_map(|r| blocks(r, "item"))
                        .any(|r| element(r, "cidrIpv6") == Some("::/0"));
                if !world {
                    continue;
                }
                let protocol = element(rule, "ipProtocol").unwrap_or("-1").to_owned();
                let port = |tag: &str, default: u16| {
                    element(rule, tag)
                        .and_then(|p| p.parse::<i32>().ok())
                        .and_then(|p| u16::try_from(p).ok())
                        .unwrap_or(default)
                };
                open.push((protocol, port("fromPort", 0), port("toPort", u16::MAX)));
            }
        }
        Ok(open)
    }

    /// One signed EC2 Query API call: its XML answer.
    async fn call(&self, api: &'static str, params: &[(&str, &str)]) -> Result<String, AwsError> {
        let keys = self.keys().await?;
        self.signed(
            &keys,
            "ec2",
            &self.account.ec2_endpoint(),
            EC2_VERSION,
            api,
            params,
        )
        .await
    }

    /// An ECR registry's pull credential (`GetAuthorizationToken` at the
    /// ECR API `endpoint`): the user name, the password and until when it
    /// holds (ECR's last 12 hours).
    pub async fn ecr_token(&self, endpoint: &str) -> Result<EcrToken, AwsError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Data {
            authorization_token: String,
            /// Epoch seconds (the JSON protocol's timestamps), or RFC 3339.
            #[serde(default)]
            expires_at: serde_json::Value,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Answer {
            authorization_data: Vec<Data>,
        }
        const CALL: &str = "GetAuthorizationToken";
        let keys = self.keys().await?;
        let text = self
            .signed_json(
                &keys,
                "ecr",
                endpoint,
                "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken",
                CALL,
                "{}",
            )
            .await?;
        let bad = |what: &str| AwsError::Refused {
            call: CALL,
            status: 200,
            code: "BadAnswer".into(),
            message: what.to_owned(),
        };
        let a: Answer = serde_json::from_str(&text).map_err(|e| bad(&e.to_string()))?;
        let d = a
            .authorization_data
            .into_iter()
            .next()
            .ok_or_else(|| bad("no authorization data"))?;
        use base64::Engine;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(d.authorization_token.trim())
            .map_err(|_| bad("the token is not base64"))?;
        let decoded = String::from_utf8(decoded).map_err(|_| bad("the token is not text"))?;
        let (user, password) = decoded
            .split_once(':')
            .ok_or_else(|| bad("the token is not user:password"))?;
        let expires_at = json_time(&d.expires_at)
            .unwrap_or_else(|| chrono::Utc::now() + chrono::Duration::hours(12));
        Ok(EcrToken {
            username: user.to_owned(),
            password: Sensitive::new(password.to_owned()),
            expires_at,
        })
    }

    /// The SigV4 headers for a POST of `body` with `headers` to `endpoint`.
    fn sign(
        &self,
        keys: &Keys,
        service: &str,
        endpoint: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Result<Vec<(String, String)>, AwsError> {
        use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
        let identity = aws_credential_types::Credentials::new(
            keys.access_key_id.clone(),
            keys.secret_access_key.expose().clone(),
            keys.session_token.as_ref().map(|t| t.expose().clone()),
            None,
            "vedette",
        )
        .into();
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.account.region)
            .name(service)
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| AwsError::Signing(e.to_string()))?
            .into();
        let signable = SignableRequest::new(
            "POST",
            endpoint,
            headers.iter().copied(),
            SignableBody::Bytes(body.as_bytes()),
        )
        .map_err(|e| AwsError::Signing(e.to_string()))?;
        let (instructions, _) = sign(signable, &params)
            .map_err(|e| AwsError::Signing(e.to_string()))?
            .into_parts();
        Ok(instructions
            .headers()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect())
    }

    /// The repositories of the ECR registry the ECR API `endpoint` serves
    /// (`DescribeRepositories`, every page).
    pub async fn ecr_repositories(&self, endpoint: &str) -> Result<Vec<String>, AwsError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Repository {
            repository_name: String,
        }
        let mut out = Vec::new();
        self.ecr_pages(
            endpoint,
            "DescribeRepositories",
            serde_json::json!({}),
            |page| {
                let repos: Vec<Repository> =
                    serde_json::from_value(page["repositories"].clone()).unwrap_or_default();
                out.extend(repos.into_iter().map(|r| r.repository_name));
            },
        )
        .await?;
        Ok(out)
    }

    /// The tagged images of one ECR repository (`DescribeImages`, every
    /// page): digest, tags, push time and manifest media type.
    pub async fn ecr_images(
        &self,
        endpoint: &str,
        repository: &str,
    ) -> Result<Vec<EcrImage>, AwsError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Detail {
            image_digest: String,
            #[serde(default)]
            image_tags: Vec<String>,
            #[serde(default)]
            image_pushed_at: serde_json::Value,
            image_manifest_media_type: Option<String>,
        }
        let mut out = Vec::new();
        self.ecr_pages(
            endpoint,
            "DescribeImages",
            serde_json::json!({
                "repositoryName": repository,
                "filter": {"tagStatus": "TAGGED"},
                "maxResults": 1000,
            }),
            |page| {
                let details: Vec<Detail> =
                    serde_json::from_value(page["imageDetails"].clone()).unwrap_or_default();
                out.extend(details.into_iter().map(|d| EcrImage {
                    pushed: json_time(&d.image_pushed_at),
                    digest: d.image_digest,
                    tags: d.image_tags,
                    media_type: d.image_manifest_media_type,
                }));
            },
        )
        .await?;
        Ok(out)
    }

    /// Every page of an ECR listing call: `each` gets each page's answer;
    /// `nextToken` leads on, a token met twice or more than
    /// [`MAX_PAGES`] pages are refused.
    async fn ecr_pages(
        &self,
        endpoint: &str,
        call: &'static str,
        mut request: serde_json::Value,
        mut each: impl FnMut(&serde_json::Value),
    ) -> Result<(), AwsError> {
        let keys = self.keys().await?;
        let target = format!("AmazonEC2ContainerRegistry_V20150921.{call}");
        let mut seen = std::collections::HashSet::new();
        for _ in 0..MAX_PAGES {
            let text = self
                .signed_json(&keys, "ecr", endpoint, &target, call, &request.to_string())
                .await?;
            let page: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| AwsError::Refused {
                    call,
                    status: 200,
                    code: "BadAnswer".into(),
                    message: format!("the answer is not the JSON expected: {e}"),
                })?;
            each(&page);
            let Some(next) = page["nextToken"].as_str().filter(|t| !t.is_empty()) else {
                return Ok(());
            };
            if !seen.insert(next.to_owned()) {
                return Err(AwsError::Refused {
                    call,
                    status: 200,
                    code: "RepeatedPage".into(),
                    message: "the same next page was given twice; the listing would not end".into(),
                });
            }
            request["nextToken"] = next.into();
        }
        Err(AwsError::Refused {
            call,
            status: 200,
            code: "TooManyPages".into(),
            message: format!("the listing goes on past {MAX_PAGES} pages"),
        })
    }

    /// One JSON-protocol call (`X-Amz-Target`) to `service`, signed with
    /// `keys`: its JSON answer.
    async fn signed_json(
        &self,
        keys: &Keys,
        service: &str,
        endpoint: &str,
        target: &str,
        call: &'static str,
        body: &str,
    ) -> Result<String, AwsError> {
        let content_type = "application/x-amz-json-1.1";
        let headers = [("content-type", content_type), ("x-amz-target", target)];
        let signature = self.sign(keys, service, endpoint, &headers, body)?;
        let mut req = self.http.post(endpoint).body(body.to_owned());
        for (k, v) in headers {
            req = req.header(k, v);
        }
        for (k, v) in &signature {
            req = req.header(k.as_str(), v.as_str());
        }
        let unreachable = |e: reqwest::Error| AwsError::Unreachable {
            endpoint: endpoint.to_owned(),
            reason: e.to_string(),
        };
        let mut resp = req.send().await.map_err(unreachable)?;
        let status = resp.status();
        let mut text = String::new();
        while let Some(chunk) = resp.chunk().await.map_err(unreachable)? {
            if text.len() + chunk.len() > MAX_ANSWER {
                break;
            }
            text.push_str(&String::from_utf8_lossy(&chunk));
        }
        if !status.is_success() {
            let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
            return Err(AwsError::Refused {
                call,
                status: status.as_u16(),
                code: v["__type"].as_str().unwrap_or("?").to_owned(),
                message: v["message"]
                    .as_str()
                    .or(v["Message"].as_str())
                    .unwrap_or(text.trim())
                    .to_owned(),
            });
        }
        Ok(text)
    }

    /// One Query API call to `service` signed with `keys`: its XML answer.
    async fn signed(
        &self,
        keys: &Keys,
        service: &str,
        endpoint: &str,
        version: &str,
        api: &'static str,
        params: &[(&str, &str)],
    ) -> Result<String, AwsError> {
        let endpoint = endpoint.to_owned();
        let body = {
            let mut form = url::form_urlencoded::Serializer::new(String::new());
            form.append_pair("Action", api);
            form.append_pair("Version", version);
            for (k, v) in params {
                form.append_pair(k, v);
            }
            form.finish()
        };
        let content_type = "application/x-www-form-urlencoded; charset=utf-8";
        let signature = self.sign(
            keys,
            service,
            &endpoint,
            &[("content-type", content_type)],
            &body,
        )?;
        let mut req = self
            .http
            .post(&endpoint)
            .header("content-type", content_type)
            .body(body);
        for (name, value) in &signature {
            req = req.header(name.as_str(), value.as_str());
        }
        let unreachable = |e: reqwest::Error| AwsError::Unreachable {
            endpoint: endpoint.clone(),
            reason: e.to_string(),
        };
        let resp = req.send().await.map_err(unreachable)?;
        let status = resp.status();
        let mut text = String::new();
        let mut resp = resp;
        while let Some(chunk) = resp.chunk().await.map_err(unreachable)? {
            if text.len() + chunk.len() > MAX_ANSWER {
                break;
            }
            text.push_str(&String::from_utf8_lossy(&chunk));
        }
        if !status.is_success() {
            return Err(AwsError::Refused {
                call: api,
                status: status.as_u16(),
                code: element(&text, "Code").unwrap_or("?").to_owned(),
                message: element(&text, "Message").unwrap_or(text.trim()).to_owned(),
            });
        }
        Ok(text)
    }
}

/// The text inside the first `<tag>…</tag>` (EC2 answers are flat enough
/// that this is all the XML reading the gate needs).
fn element<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&close)? + start;
    Some(xml[start..end].trim())
}

/// The contents of every `<tag>…</tag>` at the outermost level, nested
/// ones of the same tag kept inside their parent (EC2's `<item>`s nest).
fn blocks<'a>(xml: &'a str, tag: &str) -> Vec<&'a str> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(s) = rest.find(&open) {
        let from = s + open.len();
        let (mut depth, mut at) = (1usize, from);
        loop {
            let next_open = rest[at..].find(&open).map(|i| i + at);
            let Some(next_close) = rest[at..].find(&close).map(|i| i + at) else {
                return out;
            };
            match next_open {
                Some(o) if o < next_close => {
                    depth += 1;
                    at = o + open.len();
                }
                _ => {
                    depth -= 1;
                    at = next_close + close.len();
                    if depth == 0 {
                        out.push(&rest[from..next_close]);
                        break;
                    }
                }
            }
        }
        rest = &rest[at..];
    }
    out
}

/// Every `<tag>…</tag>` at the first level it appears.
fn elements<'a>(xml: &'a str, tag: &str) -> Vec<&'a str> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(s) = rest.find(&open) {
        let from = s + open.len();
        let Some(e) = rest[from..].find(&close) else {
            break;
        };
        out.push(&rest[from..from + e]);
        rest = &rest[from + e + close.len()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // EC2's answer to TerminateInstances, as its API reference shows it.
    const TERMINATED: &str = r#"<TerminateInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>59dbff89-35bd-4eac-99ed-be587EXAMPLE</requestId>
  <instancesSet>
    <item>
      <instanceId>i-1234567890abcdef0</instanceId>
      <currentState><code>32</code><name>shutting-down</name></currentState>
      <previousState><code>16</code><name>running</name></previousState>
    </item>
  </instancesSet>
</TerminateInstancesResponse>"#;

    #[test]
    fn an_answer_gives_the_states_and_the_request_id() {
        let cur = element(TERMINATED, "currentState").and_then(|s| element(s, "name"));
        assert_eq!(cur, Some("shutting-down"));
        assert_eq!(
            element(TERMINATED, "requestId"),
            Some("59dbff89-35bd-4eac-99ed-be587EXAMPLE")
        );
        let tags = "<tagSet><item><key>vedette:protect</key><value>true</value></item><item><key>Name</key><value>web</value></item></tagSet>";
        let items = elements(element(tags, "tagSet").unwrap(), "item");
        assert_eq!(items.len(), 2);
        assert_eq!(element(items[1], "value"), Some("web"));
    }

    #[test]
    fn security_group_rules_are_read_with_their_nested_ranges() {
        // Shaped as EC2's DescribeSecurityGroups answer (abridged).
        let xml = "<securityGroupInfo><item><groupId>sg-1</groupId><ipPermissions>\
            <item><ipProtocol>tcp</ipProtocol><fromPort>22</fromPort><toPort>22</toPort>\
            <ipRanges><item><cidrIp>10.0.0.0/8</cidrIp></item></ipRanges></item>\
            <item><ipProtocol>tcp</ipProtocol><fromPort>443</fromPort><toPort>443</toPort>\
            <ipRanges><item><cidrIp>0.0.0.0/0</cidrIp></item></ipRanges></item>\
            </ipPermissions><ipPermissionsEgress><item><ipProtocol>-1</ipProtocol>\
            <ipRanges><item><cidrIp>0.0.0.0/0</cidrIp></item></ipRanges></item></ipPermissionsEgress></item></securityGroupInfo>";
        let perms = blocks(xml, "ipPermissions");
        assert_eq!(perms.len(), 1);
        let rules = blocks(perms[0], "item");
        assert_eq!(rules.len(), 2);
        assert_eq!(element(rules[1], "fromPort"), Some("443"));
        let ranges = blocks(rules[1], "ipRanges");
        assert_eq!(
            element(blocks(ranges[0], "item")[0], "cidrIp"),
            Some("0.0.0.0/0")
        );
    }

    #[test]
    fn the_secret_is_not_in_the_debug_form() {
        let a = AwsAccount {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: Sensitive::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into()),
            session_token: None,
            region: "eu-west-1".into(),
            endpoint: None,
            role_arn: None,
            external_id: None,
        };
        let shown = format!("{a:?}");
        assert!(!shown.contains("wJalr"), "{shown}");
        assert_eq!(a.ec2_endpoint(), "https://ec2.eu-west-1.amazonaws.com/");
    }
}

//! Amazon ECR: pull tokens (`GetAuthorizationToken`) and the listing of
//! repositories and images (`DescribeRepositories`, `DescribeImages`), both
//! with the AWS account in the keyring.

use vedette_engine::{CloudListing, EngineError, Listing};
use vedette_sources::registry::{Artifact, Credential};
use vedette_sources::SourceError;

use crate::App;

impl App {
    /// An ECR registry's pull credential from the AWS account in the
    /// keyring (`GetAuthorizationToken`, at `VEDETTE_ECR_ENDPOINT`, the
    /// account's endpoint, or the region's ECR API), kept in this process
    /// until five minutes before it expires (ECR's last 12 hours); none
    /// without a stored AWS account.
    pub(crate) async fn ecr_credential(
        &self,
        registry: &str,
        region: Option<String>,
    ) -> Result<Option<Credential>, EcrError> {
        /// ECR pull credentials by registry, with when each expires.
        type Tokens =
            std::collections::HashMap<String, (Credential, chrono::DateTime<chrono::Utc>)>;
        static TOKENS: std::sync::OnceLock<std::sync::Mutex<Tokens>> = std::sync::OnceLock::new();
        let tokens = TOKENS.get_or_init(Default::default);
        let now = chrono::Utc::now();
        if let Some((c, until)) = tokens
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(registry)
        {
            if *until - chrono::Duration::minutes(5) > now {
                return Ok(Some(c.clone()));
            }
        }
        let Some((aws, endpoint)) = self.ecr_api(region).await? else {
            return Ok(None);
        };
        let token = aws.ecr_token(&endpoint).await?;
        let c = Credential {
            username: token.username,
            secret: token.password,
        };
        tokens
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(registry.to_owned(), (c.clone(), token.expires_at));
        tracing::debug!(%registry, expires = %token.expires_at, "ECR pull token");
        Ok(Some(c))
    }

    /// The ECR API of a registry in `region` (the account's own when
    /// none): `VEDETTE_ECR_ENDPOINT`, the account's endpoint, or the
    /// region's; none without a stored AWS account.
    async fn ecr_api(
        &self,
        region: Option<String>,
    ) -> Result<Option<(vedette_cloud::Ec2, String)>, EcrError> {
        let Some(mut account) = self.credentials.aws_account().await? else {
            return Ok(None);
        };
        if let Some(r) = region {
            account.region = r;
        }
        let endpoint = std::env::var("VEDETTE_ECR_ENDPOINT")
            .ok()
            .filter(|e| !e.trim().is_empty())
            .or_else(|| account.endpoint.clone())
            .unwrap_or_else(|| format!("https://api.ecr.{}.amazonaws.com/", account.region));
        Ok(Some((vedette_cloud::Ec2::new(account), endpoint)))
    }

    /// The ECR API for `host`, or why there is none.
    async fn ecr_for(&self, host: &str) -> Result<(vedette_cloud::Ec2, String), EngineError> {
        let listing = |e: String| EngineError::Source(SourceError::Registry(e));
        let region = ecr_region(host).unwrap_or_default();
        match self.ecr_api(region).await {
            Ok(Some(api)) => Ok(api),
            Ok(None) => Err(listing(format!(
                "{host} is an ECR registry, listed with an AWS account: store one with `vedette cloud aws set`"
            ))),
            Err(e) => Err(listing(format!("{host}: {e}"))),
        }
    }
}

/// ECR's listing for crawls, with the AWS account in the keyring.
pub(crate) struct EcrListing(pub(crate) App);

impl CloudListing for EcrListing {
    fn serves(&self, host: &str) -> bool {
        ecr_region(&vedette_model::canonical_registry_host(host)).is_some()
    }

    fn repositories<'a>(&'a self, host: &'a str) -> Listing<'a, Vec<String>> {
        Box::pin(async move {
            let (aws, endpoint) = self.0.ecr_for(host).await?;
            aws.ecr_repositories(&endpoint)
                .await
                .map_err(|e| EngineError::Source(SourceError::Registry(e.to_string())))
        })
    }

    fn images<'a>(&'a self, host: &'a str, repository: &'a str) -> Listing<'a, Vec<Artifact>> {
        Box::pin(async move {
            let (aws, endpoint) = self.0.ecr_for(host).await?;
            let images = aws
                .ecr_images(&endpoint, repository)
                .await
                .map_err(|e| EngineError::Source(SourceError::Registry(e.to_string())))?;
            Ok(images
                .into_iter()
                .map(|i| Artifact {
                    index: i
                        .media_type
                        .as_deref()
                        .is_some_and(|m| m.contains("manifest.list") || m.contains("image.index")),
                    push_time: i.pushed.map(|t| t.to_rfc3339()),
                    digest: i.digest,
                    tags: i.tags,
                })
                .collect())
        })
    }
}

/// Why no ECR pull token could be had.
#[derive(Debug, thiserror::Error)]
pub(crate) enum EcrError {
    #[error("the stored AWS account cannot be read: {0}")]
    Account(#[from] vedette_cloud::CredentialError),
    #[error(transparent)]
    Aws(#[from] vedette_cloud::AwsError),
}

/// Whether `host` is an ECR registry, and its region:
/// `<account>.dkr.ecr.<region>.amazonaws.com` (`.com.cn` in China), or a
/// host named in `VEDETTE_ECR_REGISTRIES` (a pull-through mirror, a test;
/// the AWS account's own region).
pub(crate) fn ecr_region(host: &str) -> Option<Option<String>> {
    let listed = std::env::var("VEDETTE_ECR_REGISTRIES").unwrap_or_default();
    if listed
        .split(',')
        .any(|h| vedette_model::canonical_registry_host(h) == host && !h.trim().is_empty())
    {
        return Some(None);
    }
    let rest = host
        .strip_suffix(".amazonaws.com")
        .or_else(|| host.strip_suffix(".amazonaws.com.cn"))?;
    let mut parts = rest.split('.');
    let (account, dkr, ecr, region) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    (parts.next().is_none()
        && dkr == "dkr"
        && ecr == "ecr"
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit()))
    .then(|| Some(region.to_owned()))
}

#[cfg(test)]
mod ecr_tests {
    #[test]
    fn ecr_hosts_are_recognised_with_their_region() {
        assert_eq!(
            super::ecr_region("123456789012.dkr.ecr.eu-west-3.amazonaws.com"),
            Some(Some("eu-west-3".into()))
        );
        assert_eq!(super::ecr_region("ghcr.io"), None);
        assert_eq!(
            super::ecr_region("12345.dkr.ecr.eu-west-3.amazonaws.com"),
            None
        );
    }
}

//! The parts of image manifests, indexes and configs Vedette reads. Docker
//! schema 2 and OCI share the shape; unknown fields are ignored.

use serde::Deserialize;

pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json;q=0.9";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    #[serde(default)]
    pub media_type: String,
    pub digest: String,
    #[serde(default)]
    pub size: u64,
    #[serde(default)]
    pub platform: Option<Platform>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    #[serde(default)]
    pub variant: Option<String>,
}

impl Platform {
    /// `linux/amd64`, `linux/arm64/v8`.
    pub fn parse(s: &str) -> Option<Self> {
        let mut it = s.split('/');
        let os = it.next().filter(|x| !x.is_empty())?.to_owned();
        let architecture = it.next().filter(|x| !x.is_empty())?.to_owned();
        let variant = it.next().map(str::to_owned);
        it.next().is_none().then_some(Self {
            os,
            architecture,
            variant,
        })
    }

    pub fn matches(&self, candidate: &Platform) -> bool {
        self.os == candidate.os
            && self.architecture == candidate.architecture
            && match (&self.variant, &candidate.variant) {
                (Some(a), Some(b)) => a == b,
                // arm64 images often say v8 or nothing; accept either.
                _ => true,
            }
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// A manifest or an index: which one is told by `mediaType` (or the fields present).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnyManifest {
    #[serde(default)]
    pub schema_version: Option<u32>,
    #[serde(default)]
    pub media_type: Option<String>,
    #[serde(default)]
    pub manifests: Option<Vec<Descriptor>>,
    #[serde(default)]
    pub config: Option<Descriptor>,
    #[serde(default)]
    pub layers: Option<Vec<Descriptor>>,
}

impl AnyManifest {
    pub fn is_index(&self) -> bool {
        self.manifests.is_some()
            || matches!(
                self.media_type.as_deref(),
                Some(OCI_INDEX) | Some(DOCKER_LIST)
            )
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ImageConfig {
    #[serde(default)]
    pub created: Option<String>,
    #[serde(default)]
    pub os: Option<String>,
    #[serde(default)]
    pub architecture: Option<String>,
    #[serde(default)]
    pub variant: Option<String>,
}

/// Picks the manifest for `wanted` from an index, or says which platforms there are.
pub fn choose<'a>(
    manifests: &'a [Descriptor],
    wanted: &Platform,
) -> Result<&'a Descriptor, String> {
    manifests
        .iter()
        .find(|d| d.platform.as_ref().is_some_and(|p| wanted.matches(p)))
        .ok_or_else(|| {
            let mut offered: Vec<String> = manifests
                .iter()
                .filter_map(|d| d.platform.as_ref())
                .filter(|p| p.os != "unknown")
                .map(|p| p.to_string())
                .collect();
            offered.dedup();
            if offered.is_empty() {
                "no platforms".to_owned()
            } else {
                offered.join(", ")
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms_parse_and_match_with_an_optional_variant() {
        let want = Platform::parse("linux/arm64").unwrap();
        assert!(want.matches(&Platform::parse("linux/arm64/v8").unwrap()));
        assert!(!want.matches(&Platform::parse("linux/amd64").unwrap()));
        assert!(Platform::parse("linux").is_none());
        assert!(Platform::parse("linux/arm/v7/x").is_none());
    }

    #[test]
    fn choosing_a_missing_platform_lists_what_is_offered() {
        let idx: AnyManifest = serde_json::from_str(
            r#"{"schemaVersion":2,"manifests":[
              {"digest":"sha256:a","platform":{"os":"linux","architecture":"amd64"}},
              {"digest":"sha256:b","platform":{"os":"linux","architecture":"arm64","variant":"v8"}},
              {"digest":"sha256:c","platform":{"os":"unknown","architecture":"unknown"}}]}"#,
        )
        .unwrap();
        assert!(idx.is_index());
        let m = idx.manifests.unwrap();
        assert_eq!(
            choose(&m, &Platform::parse("linux/arm64").unwrap())
                .unwrap()
                .digest,
            "sha256:b"
        );
        assert_eq!(
            choose(&m, &Platform::parse("linux/s390x").unwrap()).unwrap_err(),
            "linux/amd64, linux/arm64/v8"
        );
    }
}

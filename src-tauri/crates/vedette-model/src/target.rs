use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// What a target is. Registries are crawled into images; hosts are scanned
/// over SSH or by an enrolled agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum TargetKind {
    Image,
    Registry,
    Host,
    Directory,
    Archive,
    Sbom,
    /// A machine whose agent enrolled: scanned from the inventories it sends.
    Node,
}

impl TargetKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::Image => "image",
            TargetKind::Registry => "registry",
            TargetKind::Host => "host",
            TargetKind::Directory => "directory",
            TargetKind::Archive => "archive",
            TargetKind::Sbom => "sbom",
            TargetKind::Node => "node",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "image" => TargetKind::Image,
            "registry" => TargetKind::Registry,
            "host" => TargetKind::Host,
            "directory" => TargetKind::Directory,
            "archive" => TargetKind::Archive,
            "sbom" => TargetKind::Sbom,
            "node" => TargetKind::Node,
            _ => return None,
        })
    }
}

/// Whether a target is reachable from the internet; it weighs on the risk score.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Exposure {
    #[default]
    Internal,
    Internet,
}

impl Exposure {
    pub fn as_str(self) -> &'static str {
        match self {
            Exposure::Internal => "internal",
            Exposure::Internet => "internet",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "internal" => Some(Exposure::Internal),
            "internet" => Some(Exposure::Internet),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct TargetInfo {
    #[ts(type = "number")]
    pub id: i64,
    pub kind: TargetKind,
    /// What the user typed: an image reference, a registry host, a path.
    pub name: String,
    pub exposure: Exposure,
    #[ts(type = "string")]
    pub created_at: DateTime<Utc>,
    /// The group the target belongs to ("production", "team-shop"), if any.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The registry target whose crawl found this image, if it was found so.
    #[ts(optional, type = "number")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<i64>,
    /// What a registry target watches (registry targets only).
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry: Option<RegistryWatch>,
    /// How a host target is read (hosts only).
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<crate::HostSpec>,
    /// Set when the target's scans kept stopping the process: the scheduler
    /// leaves it alone until the user retries it.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quarantine: Option<Quarantine>,
    /// An image's registry is reached over plain HTTP or with a certificate
    /// that does not verify: as it was added or first scanned, for every
    /// later scan.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub insecure: bool,
    /// The platform picked from a multi-platform image (`linux/arm64`);
    /// none: the scanning machine's own, as `docker pull` picks.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
}

/// Why a target is not scanned automatically any more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct Quarantine {
    #[ts(type = "string")]
    pub since: DateTime<Utc>,
    pub reason: String,
}

/// Which images of a registry a registry target watches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct RegistryWatch {
    /// Repositories matching this glob (`*`, `?`), e.g. `shop/*`; `*` for all.
    pub repositories: String,
    pub tags: TagSelector,
    /// Plain HTTP or a certificate that does not verify (a lab registry).
    #[serde(default)]
    pub insecure: bool,
    /// At most this many requests per second to the registry (none: no limit).
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests_per_second: Option<f64>,
    /// Which API lists the registry's images (detected when `auto`).
    #[serde(default)]
    pub kind: RegistryKind,
    /// The address of the registry's own API when it lives elsewhere: a
    /// GitLab's URL (`https://gitlab.example.com`) for `kind: gitlab`.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<String>,
}

impl Eq for RegistryWatch {}

/// How a registry's repositories and tags are listed.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum RegistryKind {
    /// Docker Hub's API for docker.io, GitHub's for ghcr.io, AWS's for an
    /// ECR host, Harbor's when a registry's `/api/v2.0/systeminfo` says it
    /// is one, else the OCI API.
    #[default]
    Auto,
    /// The OCI distribution API: the catalog, tag lists, a HEAD per tag.
    Oci,
    /// Harbor's API: projects, repositories, artifacts with push times
    /// (robot accounts can crawl; `latest:N` by push time).
    Harbor,
    /// Docker Hub's API: each tag's platform digests and push time, read
    /// without spending pulls (`latest:N` by push time).
    Dockerhub,
    /// GitHub's Packages API for ghcr.io: an owner's container packages and
    /// their versions with tags and push times (a token with read:packages).
    Ghcr,
    /// GitLab's API lists a group's registry repositories (its registry has
    /// no catalog for users); tags through the OCI API.
    Gitlab,
    /// Amazon ECR: repositories and images (tags, push times) through AWS's
    /// `DescribeRepositories` and `DescribeImages` with the AWS account in
    /// the keyring, which also gives the pull token.
    Ecr,
}

impl RegistryKind {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(Self::Auto),
            "oci" | "distribution" => Ok(Self::Oci),
            "harbor" => Ok(Self::Harbor),
            "dockerhub" | "docker-hub" => Ok(Self::Dockerhub),
            "ghcr" => Ok(Self::Ghcr),
            "gitlab" => Ok(Self::Gitlab),
            "ecr" => Ok(Self::Ecr),
            other => Err(format!(
                "'{other}' is not a registry kind Vedette knows; use auto, oci, harbor, dockerhub, ghcr, gitlab or ecr"
            )),
        }
    }
}

/// An image a registry crawl chose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct RegistryImage {
    /// `registry/repository:tag`
    pub reference: String,
    /// The platform manifest's digest (what an inventory is keyed by).
    pub digest: String,
    /// When the image was built, from its config (RFC 3339), if it says.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// What a HEAD of the tag's manifest answered (`Docker-Content-Digest`:
    /// the index's digest for a multi-platform image): an unchanged one
    /// means the next crawl reads neither manifest nor config.
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_digest: Option<String>,
}

/// What a registry crawl found, and what it could not read (one repository
/// failing does not stop the others).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct RegistryCrawl {
    pub images: Vec<RegistryImage>,
    pub warnings: Vec<String>,
}

/// The name of the archive or SBOM target a scan of standard input records
/// (`docker save app | vedette scan archive -`): its history is kept, but
/// no schedule scans it again (there is nothing to read again).
pub const STDIN_TARGET: &str = "standard input";

/// Which tags of each repository are scanned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(export)]
pub enum TagSelector {
    /// These tags, where they exist.
    Tags { tags: Vec<String> },
    /// The `count` newest images by creation time (from the image config).
    Latest { count: u32 },
    /// Tags matching this regular expression (whole tag).
    Regex { pattern: String },
}

impl Default for TagSelector {
    fn default() -> Self {
        TagSelector::Latest { count: 1 }
    }
}

impl TagSelector {
    /// `latest:3`, `regex:^v\d+`, `tags:1.4,1.5`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let (kind, rest) = s.split_once(':').unwrap_or((s, ""));
        match kind {
            "latest" => {
                let count = if rest.is_empty() {
                    Ok(1)
                } else {
                    rest.parse::<u32>()
                };
                match count {
                    Ok(c) if c > 0 => Ok(TagSelector::Latest { count: c }),
                    _ => Err(format!(
                        "'{s}': latest takes a number of images above 0, e.g. latest:3"
                    )),
                }
            }
            "tags" => {
                let tags: Vec<String> = rest
                    .split(',')
                    .map(|t| t.trim().to_owned())
                    .filter(|t| !t.is_empty())
                    .collect();
                if tags.is_empty() {
                    Err(format!(
                        "'{s}': name at least one tag, e.g. tags:1.4,latest"
                    ))
                } else {
                    Ok(TagSelector::Tags { tags })
                }
            }
            "regex" if !rest.is_empty() => Ok(TagSelector::Regex {
                pattern: rest.to_owned(),
            }),
            _ => Err(format!(
                "'{s}' is not a tag selector; write latest:N, tags:A,B or regex:PATTERN"
            )),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            TagSelector::Tags { tags } => format!("tags {}", tags.join(", ")),
            TagSelector::Latest { count: 1 } => "the newest image".to_owned(),
            TagSelector::Latest { count } => format!("the {count} newest images"),
            TagSelector::Regex { pattern } => format!("tags matching /{pattern}/"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ScanState {
    Queued,
    Running,
    Succeeded,
    Failed,
    /// The process stopped mid-scan; retried at the next start.
    Interrupted,
    /// Stopped on request (Ctrl-C, the window's Cancel); nothing was recorded.
    Cancelled,
}

impl ScanState {
    pub fn as_str(self) -> &'static str {
        match self {
            ScanState::Queued => "queued",
            ScanState::Running => "running",
            ScanState::Succeeded => "succeeded",
            ScanState::Failed => "failed",
            ScanState::Interrupted => "interrupted",
            ScanState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "queued" => ScanState::Queued,
            "running" => ScanState::Running,
            "succeeded" => ScanState::Succeeded,
            "failed" => ScanState::Failed,
            "interrupted" => ScanState::Interrupted,
            "cancelled" => ScanState::Cancelled,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema)]
#[ts(export)]
pub struct ScanSummary {
    #[ts(type = "number")]
    pub id: i64,
    #[ts(type = "number")]
    pub target_id: i64,
    pub target_name: String,
    pub state: ScanState,
    #[ts(type = "string")]
    pub started_at: DateTime<Utc>,
    #[ts(optional, type = "string")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    /// Packages in the scan's inventory, once it succeeded.
    #[ts(optional, type = "number")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub packages: Option<i64>,
    /// Per-target error, in words, when the scan failed.
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub trigger: crate::Trigger,
    /// Findings per severity (critical, high, medium, low, unknown), when
    /// the scan matched advisories.
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counts: Option<SeverityCounts>,
    /// The policy's verdict, when there was one.
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict_pass: Option<bool>,
    /// Findings new since the previous scan of the target.
    #[ts(optional, type = "number")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_findings: Option<i64>,
}

/// Findings per severity.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS, utoipa::ToSchema,
)]
#[ts(export)]
pub struct SeverityCounts {
    #[ts(type = "number")]
    pub critical: i64,
    #[ts(type = "number")]
    pub high: i64,
    #[ts(type = "number")]
    pub medium: i64,
    #[ts(type = "number")]
    pub low: i64,
    #[ts(type = "number")]
    pub unknown: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_names_round_trip_through_their_database_spelling() {
        for k in [
            TargetKind::Image,
            TargetKind::Registry,
            TargetKind::Host,
            TargetKind::Directory,
            TargetKind::Archive,
            TargetKind::Sbom,
        ] {
            assert_eq!(TargetKind::parse(k.as_str()), Some(k));
            // The database spelling is the serde spelling.
            assert_eq!(
                serde_json::to_string(&k).unwrap(),
                format!("\"{}\"", k.as_str())
            );
        }
        for s in [
            ScanState::Queued,
            ScanState::Running,
            ScanState::Succeeded,
            ScanState::Failed,
            ScanState::Interrupted,
            ScanState::Cancelled,
        ] {
            assert_eq!(ScanState::parse(s.as_str()), Some(s));
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
        }
        assert_eq!(TargetKind::parse("printer"), None);
    }

    #[test]
    fn tag_selectors_parse_and_say_what_is_wrong() {
        assert_eq!(
            TagSelector::parse("latest:3"),
            Ok(TagSelector::Latest { count: 3 })
        );
        assert_eq!(
            TagSelector::parse("latest"),
            Ok(TagSelector::Latest { count: 1 })
        );
        assert_eq!(
            TagSelector::parse("tags:1.4, latest"),
            Ok(TagSelector::Tags {
                tags: vec!["1.4".into(), "latest".into()]
            })
        );
        assert_eq!(
            TagSelector::parse(r"regex:^v\d+$"),
            Ok(TagSelector::Regex {
                pattern: r"^v\d+$".into()
            })
        );
        assert!(TagSelector::parse("latest:0")
            .unwrap_err()
            .contains("above 0"));
        assert!(TagSelector::parse("newest")
            .unwrap_err()
            .contains("latest:N, tags:A,B or regex:PATTERN"));
    }
}

/// The platform of the machine Vedette runs on, as OCI names it
/// (`linux/amd64`, `linux/arm64/v8`): what a multi-platform image is scanned
/// as unless told otherwise, as `docker pull` does.
pub fn host_platform() -> String {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "x86" => "386",
        "aarch64" => "arm64/v8",
        "arm" => "arm/v7",
        "powerpc64" if cfg!(target_endian = "little") => "ppc64le",
        "powerpc64" => "ppc64",
        "riscv64" => "riscv64",
        "s390x" => "s390x",
        "loongarch64" => "loong64",
        other => other,
    };
    format!("linux/{arch}")
}

#[cfg(test)]
mod platform_tests {
    #[test]
    #[cfg(target_arch = "x86_64")]
    fn an_x86_64_host_scans_amd64_images() {
        assert_eq!(super::host_platform(), "linux/amd64");
    }
}

//! Crawling a registry target: its repositories (catalog API, or the one
//! named), their tags (tag-list API), the tag selector, and each chosen
//! image's digest, so that an unchanged image is not pulled again.

use std::sync::Arc;

use vedette_model::{glob_match, RegistryCrawl, RegistryImage, RegistryWatch, TagSelector};
use vedette_sources::registry::{self, RateLimiter};

use crate::{EngineError, Options};

/// An image a crawl chose.
pub type CrawledImage = RegistryImage;

/// What a crawl found, and what it could not read.
pub type Crawl = RegistryCrawl;

/// How a crawl talks to the registry.
#[derive(Clone, Default)]
pub struct CrawlOptions {
    /// Shared by every request to this registry in a run.
    pub rate: Option<Arc<RateLimiter>>,
    /// Entries per page of the catalog and tag lists (registry default if 0).
    pub page_size: usize,
    /// What the last crawl found, by reference: a tag whose HEAD digest is
    /// unchanged is taken from here, its manifest and config not read.
    pub known: Arc<std::collections::HashMap<String, CrawledImage>>,
}

impl CrawlOptions {
    /// For a registry target: its request rate (a limiter the run shares
    /// with the pulls of the images found) and the page size from
    /// `VEDETTE_CRAWL_PAGE_SIZE` when set (the registry's default if not).
    pub fn for_watch(watch: &RegistryWatch) -> Self {
        Self {
            rate: watch
                .requests_per_second
                .map(|r| Arc::new(RateLimiter::per_second(r))),
            page_size: std::env::var("VEDETTE_CRAWL_PAGE_SIZE")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
            known: Arc::default(),
        }
    }
}

/// Checks a registry selector before it is stored: the regex compiles.
pub fn check_watch(watch: &RegistryWatch) -> Result<(), String> {
    if watch.repositories.trim().is_empty() {
        return Err("the repository selector is empty; use * for every repository".into());
    }
    if let TagSelector::Regex { pattern } = &watch.tags {
        tag_regex(pattern)?;
    }
    if let Some(r) = watch.requests_per_second {
        if !(r.is_finite() && r > 0.0) {
            return Err(format!(
                "{r} requests per second is not a limit; give a number above 0"
            ));
        }
    }
    Ok(())
}

fn tag_regex(pattern: &str) -> Result<regex::Regex, String> {
    regex::Regex::new(&format!("^(?:{pattern})$"))
        .map_err(|e| format!("the tag pattern /{pattern}/ is not a regular expression: {e}"))
}

fn client(
    watch: &RegistryWatch,
    opts: &Options,
    crawl: &CrawlOptions,
) -> Result<registry::Client, EngineError> {
    let opts = Options {
        insecure_registry: opts.insecure_registry || watch.insecure,
        rate: crawl.rate.clone(),
        ..opts.clone()
    };
    opts.registry_client(crawl.page_size)
}

/// Lists the images of `host` that `watch` selects, with their digests.
pub async fn crawl(
    host: &str,
    watch: &RegistryWatch,
    opts: &Options,
    crawl_opts: &CrawlOptions,
) -> Result<Crawl, EngineError> {
    check_watch(watch).map_err(EngineError::Selector)?;
    let client = client(watch, opts, crawl_opts)?;
    let glob = watch.repositories.trim();
    let repositories: Vec<String> = if glob.contains(['*', '?']) {
        let mut all = client.catalog(host).await?;
        all.retain(|r| glob_match(glob, r));
        all.sort();
        all
    } else {
        vec![glob.to_owned()]
    };
    let mut out = Crawl::default();
    for repo in repositories {
        match crawl_repository(&client, host, &repo, &watch.tags, &crawl_opts.known).await {
            Ok((images, seen, warnings)) => {
                out.images.extend(images);
                out.seen.extend(seen);
                out.warnings.extend(warnings);
            }
            Err(e) => out.warnings.push(format!("{host}/{repo}: {e}")),
        }
    }
    Ok(out)
}

async fn crawl_repository(
    client: &registry::Client,
    host: &str,
    repo: &str,
    selector: &TagSelector,
    known: &std::collections::HashMap<String, CrawledImage>,
) -> Result<(Vec<CrawledImage>, Vec<CrawledImage>, Vec<String>), EngineError> {
    let tags = client.tags(host, repo).await?;
    let mut warnings = Vec::new();
    let chosen: Vec<String> = match selector {
        TagSelector::Tags { tags: wanted } => wanted
            .iter()
            .filter(|t| {
                let there = tags.contains(t);
                if !there {
                    warnings.push(format!("{host}/{repo} has no tag {t}"));
                }
                there
            })
            .cloned()
            .collect(),
        TagSelector::Regex { pattern } => {
            let re = tag_regex(pattern).map_err(EngineError::Selector)?;
            tags.iter().filter(|t| re.is_match(t)).cloned().collect()
        }
        TagSelector::Latest { .. } => tags.clone(),
    };
    let mut images = Vec::new();
    for tag in chosen {
        let reference = format!("{host}/{repo}:{tag}");
        let r = vedette_sources::Reference::parse(&reference)?;
        // A HEAD first: an unchanged tag costs nothing more (and a HEAD is
        // not a pull on Docker Hub). A registry that does not answer HEAD
        // is read as before.
        let head = match client.head_digest(&r).await {
            Ok(h) => h,
            Err(e) => {
                tracing::debug!("{reference}: no digest from a HEAD ({e}); reading its manifest");
                None
            }
        };
        if let (Some(h), Some(k)) = (&head, known.get(&reference)) {
            if k.head_digest.as_ref() == Some(h) {
                images.push(k.clone());
                continue;
            }
        }
        match client.resolve(&r).await {
            Ok(info) => images.push(CrawledImage {
                reference,
                digest: info.manifest_digest,
                created: info.created,
                head_digest: head,
            }),
            Err(e) => warnings.push(format!("{reference}: {e}")),
        }
    }
    let seen = images.clone();
    if let TagSelector::Latest { count } = selector {
        // Newest first by creation time (undated last), one tag per image.
        images.sort_by(|a, b| {
            let when = |i: &CrawledImage| {
                i.created
                    .as_deref()
                    .and_then(|c| chrono::DateTime::parse_from_rfc3339(c).ok())
            };
            when(b)
                .cmp(&when(a))
                .then_with(|| a.reference.cmp(&b.reference))
        });
        let mut seen = std::collections::HashSet::new();
        images.retain(|i| seen.insert(i.digest.clone()));
        images.truncate(*count as usize);
    }
    Ok((images, seen, warnings))
}

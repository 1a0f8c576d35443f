//! Crawling a registry target: its repositories (catalog API, or the one
//! named), their tags (tag-list API), the tag selector, and each chosen
//! image's digest, so that an unchanged image is not pulled again.
//!
//! Tags are read in chunks, page by page: a HEAD of each tag's manifest
//! (several in flight), the manifest and config read only for a digest this
//! crawl has not met yet, and what a chunk found handed to the
//! [`CrawlMemory`] before the next: memory stays flat in the number of tags
//! (it holds a page, a chunk and one entry per distinct digest), and a crawl
//! cut off (a crash, an expired token) resumes after the last chunk kept.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use futures_util::StreamExt;

use vedette_model::{
    glob_match, RegistryCrawl, RegistryImage, RegistryKind, RegistryWatch, TagSelector,
};
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
    /// Requests in flight at once while crawling (HEADs, manifests).
    pub concurrency: usize,
    /// Docker Hub's API (`VEDETTE_DOCKER_HUB_API`, else hub.docker.com).
    pub hub_api: String,
    /// GitHub's API (`VEDETTE_GITHUB_API`, else api.github.com).
    pub github_api: String,
    /// A cloud's own listing of its registries (ECR's), when the app has
    /// the cloud's credentials to offer one.
    pub cloud: Option<Arc<dyn CloudListing>>,
}

/// What a cloud listing answers.
pub type Listing<'a, T> = Pin<Box<dyn Future<Output = Result<T, EngineError>> + Send + 'a>>;

/// A registry listed through its cloud's API rather than the registry's
/// (ECR: `DescribeRepositories`, `DescribeImages`), made by the app, which
/// holds the cloud's credentials.
pub trait CloudListing: Send + Sync {
    /// Whether `host` is one of this cloud's registries.
    fn serves(&self, host: &str) -> bool;
    /// The repositories of the registry at `host`.
    fn repositories<'a>(&'a self, host: &'a str) -> Listing<'a, Vec<String>>;
    /// The tagged images of one repository.
    fn images<'a>(
        &'a self,
        host: &'a str,
        repository: &'a str,
    ) -> Listing<'a, Vec<registry::Artifact>>;
}

/// Requests a crawl has in flight at once unless `VEDETTE_CRAWL_CONCURRENCY`
/// says otherwise (the registry's rate limit, when set, still spaces them).
pub const CRAWL_CONCURRENCY: usize = 8;

/// Tags read between two saves of a crawl's progress.
const CHUNK: usize = 500;

/// Where a crawl keeps what it read as it goes: what earlier crawls found
/// (a tag whose HEAD digest is unchanged is not read again), and how far
/// this one got (so that an interrupted crawl resumes).
pub trait CrawlMemory: Send + Sync {
    /// What earlier crawls read for these references.
    fn known(&self, references: &[String]) -> impl Future<Output = Vec<CrawledImage>> + Send;
    /// Keeps what a chunk of `repository`'s tags read; with `done_up_to`,
    /// that every tag of it up to that one (in lexical order) is read.
    fn keep(
        &self,
        repository: &str,
        images: &[CrawledImage],
        done_up_to: Option<&str>,
    ) -> impl Future<Output = ()> + Send;
    /// Where an interrupted crawl of `repository` stopped, and what it had
    /// read up to there.
    fn resume(
        &self,
        repository: &str,
    ) -> impl Future<Output = Option<(String, Vec<CrawledImage>)>> + Send;
    /// The crawl of `repository` read every tag: forget its progress, and
    /// the tags it no longer has.
    fn finished(&self, repository: &str) -> impl Future<Output = ()> + Send;
}

/// A crawl that remembers nothing (a preview, a test).
impl CrawlMemory for () {
    async fn known(&self, _: &[String]) -> Vec<CrawledImage> {
        Vec::new()
    }
    async fn keep(&self, _: &str, _: &[CrawledImage], _: Option<&str>) {}
    async fn resume(&self, _: &str) -> Option<(String, Vec<CrawledImage>)> {
        None
    }
    async fn finished(&self, _: &str) {}
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
            concurrency: std::env::var("VEDETTE_CRAWL_CONCURRENCY")
                .ok()
                .and_then(|v| v.parse().ok())
                .filter(|n| *n > 0)
                .unwrap_or(CRAWL_CONCURRENCY),
            hub_api: std::env::var("VEDETTE_DOCKER_HUB_API")
                .ok()
                .filter(|v| !v.trim().is_empty())
                .unwrap_or_else(|| registry::dockerhub::HUB_API.to_owned()),
            github_api: std::env::var("VEDETTE_GITHUB_API")
                .ok()
                .filter(|v| !v.trim().is_empty())
                .unwrap_or_else(|| registry::ghcr::GITHUB_API.to_owned()),
            cloud: None,
        }
    }
}

/// The GitLab group a selector such as `group/sub/*` lists: the segments
/// before the first with a wildcard.
fn gitlab_group(glob: &str) -> Result<String, EngineError> {
    let group: Vec<&str> = glob
        .split('/')
        .take_while(|s| !s.contains(['*', '?']))
        .collect();
    if group.is_empty() {
        return Err(EngineError::Selector(format!(
            "on GitLab, a wildcard selector starts with a group, e.g. --repos 'group/*'; '{glob}' names none"
        )));
    }
    Ok(group.join("/"))
}

/// Checks a registry selector before it is stored: the regex compiles.
pub fn check_watch(watch: &RegistryWatch) -> Result<(), String> {
    if watch.kind == RegistryKind::Gitlab {
        match watch.api.as_deref().map(reqwest_url_ok) {
            Some(true) => {}
            Some(false) => {
                return Err(format!(
                    "'{}' is not a GitLab address; give its URL, e.g. --api https://gitlab.example.com",
                    watch.api.as_deref().unwrap_or_default()
                ))
            }
            None => {
                return Err(
                    "a GitLab registry's repositories are listed through GitLab's API: give its URL, e.g. --api https://gitlab.example.com"
                        .into(),
                )
            }
        }
    }
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

/// Whether `s` is an http(s) URL.
fn reqwest_url_ok(s: &str) -> bool {
    s.starts_with("https://") || s.starts_with("http://")
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
pub async fn crawl<M: CrawlMemory>(
    host: &str,
    watch: &RegistryWatch,
    opts: &Options,
    crawl_opts: &CrawlOptions,
    memory: &M,
) -> Result<Crawl, EngineError> {
    check_watch(watch).map_err(EngineError::Selector)?;
    let client = client(watch, opts, crawl_opts)?;
    let kind = match watch.kind {
        RegistryKind::Auto if vedette_model::canonical_registry_host(host) == "docker.io" => {
            RegistryKind::Dockerhub
        }
        RegistryKind::Auto if vedette_model::canonical_registry_host(host) == "ghcr.io" => {
            RegistryKind::Ghcr
        }
        RegistryKind::Auto if crawl_opts.cloud.as_ref().is_some_and(|c| c.serves(host)) => {
            RegistryKind::Ecr
        }
        RegistryKind::Auto if client.is_harbor(host).await => RegistryKind::Harbor,
        RegistryKind::Auto => RegistryKind::Oci,
        k => k,
    };
    match kind {
        RegistryKind::Harbor => {
            let glob = watch.repositories.trim();
            let repositories = if glob.contains(['*', '?']) {
                client.harbor_repositories(host).await?
            } else {
                vec![glob.to_owned()]
            };
            let c = &client;
            return listed_crawl(&client, host, watch, repositories, |repo| {
                Box::pin(async move { Ok(c.harbor_artifacts(host, &repo).await?) })
            })
            .await;
        }
        RegistryKind::Ecr => {
            let cloud = crawl_opts.cloud.as_deref().ok_or_else(|| {
                EngineError::Selector(
                    "an ECR registry is listed with an AWS account: store one with `vedette cloud aws set`"
                        .into(),
                )
            })?;
            let glob = watch.repositories.trim();
            let repositories = if glob.contains(['*', '?']) {
                cloud.repositories(host).await?
            } else {
                vec![glob.to_owned()]
            };
            return listed_crawl(&client, host, watch, repositories, |repo| {
                Box::pin(async move { cloud.images(host, &repo).await })
            })
            .await;
        }
        RegistryKind::Dockerhub => {
            return hub_crawl(&client, host, watch, &crawl_opts.hub_api).await
        }
        RegistryKind::Ghcr => {
            return ghcr_crawl(&client, host, watch, &crawl_opts.github_api).await
        }
        _ => {}
    }
    let glob = watch.repositories.trim();
    let repositories: Vec<String> = if glob.contains(['*', '?']) {
        let mut all = match (kind, watch.api.as_deref()) {
            // GitLab's registry has no catalog for users: its API lists a group's.
            (RegistryKind::Gitlab, Some(api)) => {
                client
                    .gitlab_repositories(api, &gitlab_group(glob)?)
                    .await?
            }
            _ => client.catalog(host).await?,
        };
        all.retain(|r| glob_match(glob, r));
        all.sort();
        all
    } else {
        vec![glob.to_owned()]
    };
    let reader = Reader {
        client: &client,
        memory,
        concurrency: crawl_opts.concurrency.max(1),
        digests: Mutex::default(),
    };
    let mut out = Crawl::default();
    for repo in repositories {
        let mut warnings = Vec::new();
        match reader
            .repository(host, &repo, &watch.tags, &mut warnings)
            .await
        {
            Ok(images) => out.images.extend(images),
            Err(e) => warnings.push(format!("{host}/{repo}: {e}")),
        }
        out.warnings.extend(warnings);
    }
    Ok(out)
}

/// A crawl through a registry's own listing of its images (Harbor's API,
/// ECR's): the repositories given (those the selector matches), each one's
/// images with their tags and push times (`latest:N` by push time); no tag
/// list, no HEAD, no manifest or config read, but the platform manifest of
/// a chosen multi-platform image.
async fn listed_crawl<'a, F>(
    client: &registry::Client,
    host: &str,
    watch: &RegistryWatch,
    mut repositories: Vec<String>,
    images: F,
) -> Result<Crawl, EngineError>
where
    F: Fn(String) -> Listing<'a, Vec<registry::Artifact>>,
{
    let glob = watch.repositories.trim();
    repositories.retain(|r| glob_match(glob, r));
    repositories.sort();
    let regex = match &watch.tags {
        TagSelector::Regex { pattern } => Some(tag_regex(pattern).map_err(EngineError::Selector)?),
        _ => None,
    };
    let mut out = Crawl::default();
    for repo in repositories {
        let artifacts = match images(repo.clone()).await {
            Ok(a) => a,
            Err(e) => {
                out.warnings.push(format!("{host}/{repo}: {e}"));
                continue;
            }
        };
        let indexes: std::collections::HashSet<&str> = artifacts
            .iter()
            .filter(|a| a.index)
            .map(|a| a.digest.as_str())
            .collect();
        let listed = artifacts.iter().flat_map(|a| {
            a.tags.iter().map(|t| Listed {
                tag: t,
                digest: &a.digest,
                pushed: a.push_time.as_deref(),
                head: true,
            })
        });
        let chosen = choose(
            host,
            &repo,
            &watch.tags,
            regex.as_ref(),
            listed,
            &mut out.warnings,
        );
        let resolved =
            platform_digests(client, chosen, |d| indexes.contains(d), &mut out.warnings).await?;
        out.images.extend(resolved);
    }
    Ok(out)
}

/// Docker Hub through its API: each named repository's tags with their
/// push times and platform digests; no registry request at all (no pull
/// spent). Docker Hub lists no repositories, so they are named.
async fn hub_crawl(
    client: &registry::Client,
    host: &str,
    watch: &RegistryWatch,
    api: &str,
) -> Result<Crawl, EngineError> {
    let glob = watch.repositories.trim();
    if glob.contains(['*', '?']) {
        return Err(EngineError::Selector(format!(
            "Docker Hub lists no repositories to match '{glob}' against; name them, e.g. --repos library/debian"
        )));
    }
    let repo = if glob.contains('/') {
        glob.to_owned()
    } else {
        format!("library/{glob}")
    };
    let regex = match &watch.tags {
        TagSelector::Regex { pattern } => Some(tag_regex(pattern).map_err(EngineError::Selector)?),
        _ => None,
    };
    let mut out = Crawl::default();
    let tags = client.hub_tags(api, &repo).await?;
    for t in tags.iter().filter(|t| t.digest.is_none()) {
        out.warnings.push(format!(
            "{host}/{repo}:{} has no image for the platform scanned (it offers {})",
            t.name,
            if t.platforms.is_empty() {
                "none".to_owned()
            } else {
                t.platforms.join(", ")
            }
        ));
    }
    let listed = tags.iter().filter_map(|t| {
        Some(Listed {
            tag: &t.name,
            digest: t.digest.as_deref()?,
            pushed: t.pushed.as_deref(),
            head: false,
        })
    });
    out.images = choose(
        host,
        &repo,
        &watch.tags,
        regex.as_ref(),
        listed,
        &mut out.warnings,
    );
    Ok(out)
}

/// GHCR through GitHub's Packages API: the owner's container packages
/// (for a wildcard), each one's versions with their tags and push times;
/// the chosen images' platform manifests read (a version's digest may be a
/// multi-platform index's).
async fn ghcr_crawl(
    client: &registry::Client,
    host: &str,
    watch: &RegistryWatch,
    api: &str,
) -> Result<Crawl, EngineError> {
    let glob = watch.repositories.trim();
    let Some((owner, rest)) = glob
        .split_once('/')
        .filter(|(o, _)| !o.contains(['*', '?']))
    else {
        return Err(EngineError::Selector(format!(
            "on GHCR, repositories are OWNER/PACKAGE; '{glob}' names no owner (e.g. --repos 'acme/*')"
        )));
    };
    let repositories: Vec<String> = if rest.contains(['*', '?']) {
        client
            .ghcr_packages(api, owner)
            .await?
            .into_iter()
            .map(|p| format!("{owner}/{p}"))
            .collect()
    } else {
        vec![glob.to_owned()]
    };
    listed_crawl(client, host, watch, repositories, |repo| {
        Box::pin(async move {
            let versions = client
                .ghcr_versions(api, owner, &repo[owner.len() + 1..])
                .await?;
            // A version's digest may be a multi-platform index's.
            Ok(versions
                .into_iter()
                .map(|v| registry::Artifact {
                    digest: v.digest,
                    push_time: v.pushed,
                    tags: v.tags,
                    index: true,
                })
                .collect())
        })
    })
    .await
}

/// What a manifest's HEAD digest resolved to: the platform manifest's
/// digest and the image's creation time.
type Resolved = (String, Option<String>);

struct Reader<'a, M> {
    client: &'a registry::Client,
    memory: &'a M,
    concurrency: usize,
    /// Every HEAD digest this crawl resolved, across tags and repositories:
    /// a digest is read once however many tags point to it.
    digests: Mutex<HashMap<String, Resolved>>,
}

impl<M: CrawlMemory> Reader<'_, M> {
    async fn repository(
        &self,
        host: &str,
        repo: &str,
        selector: &TagSelector,
        warnings: &mut Vec<String>,
    ) -> Result<Vec<CrawledImage>, EngineError> {
        let mut pick = Pick::new(selector);
        if let TagSelector::Tags { tags } = selector {
            // Named tags need no listing: one HEAD each says whether it is there.
            let images = self.chunk(host, repo, tags, true, warnings).await?;
            self.memory.keep(repo, &images, None).await;
            for i in images {
                pick.offer(i);
            }
            return Ok(pick.finish());
        }
        let regex = match selector {
            TagSelector::Regex { pattern } => {
                Some(tag_regex(pattern).map_err(EngineError::Selector)?)
            }
            _ => None,
        };
        let mut after = None;
        if let Some((last, earlier)) = self.memory.resume(repo).await {
            tracing::info!(
                "{host}/{repo}: resuming the crawl after tag {last} ({} tags read before)",
                earlier.len()
            );
            for i in earlier {
                self.met(&i);
                pick.offer(i);
            }
            after = Some(last);
        }
        let mut page = self.client.tags_first_page(repo, after.as_deref());
        let mut pages = registry::Pages::default();
        let mut listed = 0usize;
        loop {
            let (mut tags, next) = self.client.tags_page(host, repo, &page, &mut pages).await?;
            tags.sort_unstable();
            tags.dedup();
            listed += tags.len();
            if let Some(a) = &after {
                tags.retain(|t| t > a);
            }
            for chunk in tags.chunks(CHUNK) {
                let wanted: Vec<String> = match &regex {
                    Some(re) => chunk.iter().filter(|t| re.is_match(t)).cloned().collect(),
                    None => chunk.to_vec(),
                };
                let images = self.chunk(host, repo, &wanted, false, warnings).await?;
                let last = chunk.last().map(String::as_str);
                self.memory.keep(repo, &images, last).await;
                for i in images {
                    pick.offer(i);
                }
            }
            if let Some(last) = tags.last() {
                after = Some(last.clone());
            }
            match next {
                Some(n) => page = n,
                None => break,
            }
        }
        self.memory.finished(repo).await;
        let images = pick.finish();
        if images.is_empty() && listed > 0 {
            if let TagSelector::Regex { pattern } = selector {
                warnings.push(format!(
                    "{host}/{repo}: none of its {listed} tags matches /{pattern}/ (the whole tag must match)"
                ));
            }
        }
        Ok(images)
    }

    /// Reads a chunk of tags: a HEAD of each (several in flight); the
    /// manifest and config only of a digest neither the last crawl nor this
    /// one has read.
    async fn chunk(
        &self,
        host: &str,
        repo: &str,
        tags: &[String],
        named: bool,
        warnings: &mut Vec<String>,
    ) -> Result<Vec<CrawledImage>, EngineError> {
        let mut refs = Vec::with_capacity(tags.len());
        for t in tags {
            let reference = format!("{host}/{repo}:{t}");
            refs.push((vedette_sources::Reference::parse(&reference)?, reference, t));
        }
        let names: Vec<String> = refs.iter().map(|(_, n, _)| n.clone()).collect();
        let known: HashMap<String, CrawledImage> = self
            .memory
            .known(&names)
            .await
            .into_iter()
            .map(|i| (i.reference.clone(), i))
            .collect();
        let heads: Vec<_> = refs
            .iter()
            .map(|(r, _, _)| self.client.head_digest(r))
            .collect();
        let heads = in_flight(heads, self.concurrency).await;
        let mut images = Vec::with_capacity(refs.len());
        // Tags to read, grouped by HEAD digest (none: each its own).
        let mut unread: Vec<(Option<String>, Vec<usize>)> = Vec::new();
        for (i, ((_, reference, tag), head)) in refs.iter().zip(heads).enumerate() {
            let head = match head {
                Ok(h) => h,
                Err(vedette_sources::SourceError::NotFound(_)) => {
                    warnings.push(if named {
                        format!("{host}/{repo} has no tag {tag}")
                    } else {
                        format!("{reference} was deleted while the registry was crawled")
                    });
                    continue;
                }
                // The crawl stops (what it read so far is kept, and the
                // next one resumes there).
                Err(e @ vedette_sources::SourceError::Stopped) => return Err(e.into()),
                Err(e) => {
                    // A registry that does not answer HEAD is read as before.
                    tracing::debug!(
                        "{reference}: no digest from a HEAD ({e}); reading its manifest"
                    );
                    None
                }
            };
            let Some(h) = head else {
                unread.push((None, vec![i]));
                continue;
            };
            if let Some(k) = known
                .get(reference)
                .filter(|k| k.head_digest.as_ref() == Some(&h))
            {
                self.met(k);
                images.push(k.clone());
                continue;
            }
            let resolved = self
                .digests
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(&h)
                .cloned();
            match resolved {
                Some((digest, created)) => images.push(CrawledImage {
                    reference: reference.clone(),
                    digest,
                    created,
                    head_digest: Some(h),
                }),
                None => match unread.iter_mut().find(|(d, _)| d.as_ref() == Some(&h)) {
                    Some((_, group)) => group.push(i),
                    None => unread.push((Some(h), vec![i])),
                },
            }
        }
        let reads: Vec<_> = unread
            .iter()
            .map(|(_, group)| self.client.resolve(&refs[group[0]].0))
            .collect();
        let read = in_flight(reads, self.concurrency).await;
        for ((head, group), r) in unread.into_iter().zip(read) {
            match r {
                Ok(info) => {
                    if let Some(h) = &head {
                        self.digests
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .insert(
                                h.clone(),
                                (info.manifest_digest.clone(), info.created.clone()),
                            );
                    }
                    for i in group {
                        images.push(CrawledImage {
                            reference: refs[i].1.clone(),
                            digest: info.manifest_digest.clone(),
                            created: info.created.clone(),
                            head_digest: head.clone(),
                        });
                    }
                }
                // The registry failing (unreachable, refusing access,
                // rate-limiting past its retries) stops the crawl of this
                // repository: what it read is kept, the next crawl resumes.
                Err(
                    e @ (vedette_sources::SourceError::Registry(_)
                    | vedette_sources::SourceError::Stopped),
                ) => return Err(e.into()),
                // One broken image does not.
                Err(e) => {
                    for i in group {
                        warnings.push(format!("{}: {e}", refs[i].1));
                    }
                }
            }
        }
        Ok(images)
    }
}

impl<M> Reader<'_, M> {
    /// Notes what a HEAD digest resolves to, from an image read before.
    fn met(&self, image: &CrawledImage) {
        if let Some(h) = &image.head_digest {
            self.digests
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .entry(h.clone())
                .or_insert_with(|| (image.digest.clone(), image.created.clone()));
        }
    }
}

/// Runs `futures` with at most `n` in flight; their outputs in order.
async fn in_flight<F: Future>(futures: Vec<F>, n: usize) -> Vec<F::Output> {
    let mut pending = futures.into_iter();
    let mut running = futures_util::stream::FuturesOrdered::new();
    for f in pending.by_ref().take(n.max(1)) {
        running.push_back(f);
    }
    let mut out = Vec::new();
    while let Some(o) = running.next().await {
        out.push(o);
        if let Some(f) = pending.next() {
            running.push_back(f);
        }
    }
    out
}

/// The chosen images with the digest an inventory is kept by: the
/// platform's manifest, read for those whose listed digest `may_be_index`
/// (a multi-platform index); one that cannot be read is a warning.
async fn platform_digests(
    client: &registry::Client,
    chosen: Vec<CrawledImage>,
    may_be_index: impl Fn(&str) -> bool,
    warnings: &mut Vec<String>,
) -> Result<Vec<CrawledImage>, EngineError> {
    let mut out = Vec::with_capacity(chosen.len());
    for mut image in chosen {
        if may_be_index(&image.digest) {
            let r = vedette_sources::Reference::parse(&image.reference)?;
            match client.resolve(&r).await {
                Ok(info) => image.digest = info.manifest_digest,
                Err(e) => {
                    warnings.push(format!("{}: {e}", image.reference));
                    continue;
                }
            }
        }
        out.push(image);
    }
    Ok(out)
}

/// A tag a registry's API listed, with its digest and push time.
struct Listed<'a> {
    tag: &'a str,
    digest: &'a str,
    pushed: Option<&'a str>,
    /// The digest is the tag's manifest's (what a HEAD would answer).
    head: bool,
}

/// What a selector keeps of the tags an API listed (`latest:N` by push
/// time), with a warning for each named tag that is not there.
fn choose<'a>(
    host: &str,
    repo: &str,
    selector: &TagSelector,
    regex: Option<&regex::Regex>,
    listed: impl IntoIterator<Item = Listed<'a>>,
    warnings: &mut Vec<String>,
) -> Vec<CrawledImage> {
    let mut pick = Pick::new(selector);
    let mut present = std::collections::HashSet::new();
    for l in listed {
        present.insert(l.tag);
        let wanted = match selector {
            TagSelector::Tags { tags } => tags.iter().any(|t| t == l.tag),
            TagSelector::Regex { .. } => regex.is_some_and(|re| re.is_match(l.tag)),
            TagSelector::Latest { .. } => true,
        };
        if wanted {
            pick.offer(CrawledImage {
                reference: format!("{host}/{repo}:{}", l.tag),
                digest: l.digest.to_owned(),
                created: l.pushed.map(str::to_owned),
                head_digest: l.head.then(|| l.digest.to_owned()),
            });
        }
    }
    if let TagSelector::Tags { tags } = selector {
        for t in tags.iter().filter(|t| !present.contains(t.as_str())) {
            warnings.push(format!("{host}/{repo} has no tag {t}"));
        }
    }
    pick.finish()
}

/// The images a selector keeps, offered one at a time: for `latest:N`, the
/// newest tag of each digest (one entry per distinct digest, not per tag).
enum Pick {
    All(Vec<CrawledImage>),
    Latest {
        count: usize,
        by_digest: HashMap<String, CrawledImage>,
    },
}

impl Pick {
    fn new(selector: &TagSelector) -> Self {
        match selector {
            TagSelector::Latest { count } => Pick::Latest {
                count: *count as usize,
                by_digest: HashMap::new(),
            },
            _ => Pick::All(Vec::new()),
        }
    }

    fn offer(&mut self, image: CrawledImage) {
        match self {
            Pick::All(v) => v.push(image),
            Pick::Latest { by_digest, .. } => match by_digest.get_mut(&image.digest) {
                // One tag per image: the first by name.
                Some(have) if have.reference <= image.reference => {}
                Some(have) => *have = image,
                None => {
                    by_digest.insert(image.digest.clone(), image);
                }
            },
        }
    }

    fn finish(self) -> Vec<CrawledImage> {
        match self {
            Pick::All(mut v) => {
                v.sort_by(|a, b| a.reference.cmp(&b.reference));
                v
            }
            Pick::Latest { count, by_digest } => {
                // Newest first by creation time (undated last).
                let mut v: Vec<CrawledImage> = by_digest.into_values().collect();
                let when = |i: &CrawledImage| {
                    i.created
                        .as_deref()
                        .and_then(|c| chrono::DateTime::parse_from_rfc3339(c).ok())
                };
                v.sort_by(|a, b| {
                    when(b)
                        .cmp(&when(a))
                        .then_with(|| a.reference.cmp(&b.reference))
                });
                v.truncate(count);
                v
            }
        }
    }
}

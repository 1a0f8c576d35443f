//! Runs the first half of the pipeline for one target: read it (registry,
//! archive, directory), catalogue what is installed, and return the
//! [`Inventory`]. Plain data out; presenting and storing it is the caller's.

mod assess;
mod crawl;

use std::path::PathBuf;
use std::sync::Arc;

pub use assess::{
    assess, ecosystems_in_use, feed_version, judge, match_holds, reassess, AssessOptions,
};
pub use crawl::{
    check_watch, crawl, CloudListing, Crawl, CrawlMemory, CrawlOptions, CrawledImage, Listing,
    CRAWL_CONCURRENCY,
};
pub use vedette_extract::EXTRACTOR_VERSION;
use vedette_extract::{catalog, catalogers, Cataloger};
use vedette_model::{Inventory, TargetKind};
pub use vedette_sources::host::{HostAuth, HostError, KnownHosts};
pub use vedette_sources::registry::Credential;
use vedette_sources::registry::{self, manifest::Platform};
pub use vedette_sources::registry::{RateLimiter, Reservation, SharedPace};
use vedette_sources::{dir, Reference, View};
pub use vedette_sources::{Budget, SourceError};

/// What to inventory.
#[derive(Debug, Clone)]
pub enum Target {
    Image(String),
    Archive(PathBuf),
    Directory(PathBuf),
    /// A CycloneDX, SPDX or syft JSON document.
    Sbom(PathBuf),
    /// A host over SSH (how to reach it: [`Options::host`]).
    Host(vedette_model::HostAddress),
}

impl Target {
    pub fn kind(&self) -> TargetKind {
        match self {
            Target::Image(_) => TargetKind::Image,
            Target::Archive(_) => TargetKind::Archive,
            Target::Directory(_) => TargetKind::Directory,
            Target::Sbom(_) => TargetKind::Sbom,
            Target::Host(_) => TargetKind::Host,
        }
    }

    /// The target's name as stored: the normalised reference, or the absolute path.
    pub fn name(&self) -> String {
        match self {
            Target::Image(r) => Reference::parse(r)
                .map(|r| r.to_string())
                .unwrap_or_else(|_| r.clone()),
            // The real path: `./x`, `../y` and symlinks name one target once.
            Target::Archive(p) | Target::Directory(p) | Target::Sbom(p) => std::fs::canonicalize(p)
                .or_else(|_| std::path::absolute(p))
                .unwrap_or_else(|_| p.clone())
                .display()
                .to_string(),
            Target::Host(a) => a.to_string(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Options {
    pub platform: String,
    pub insecure_registry: bool,
    pub credential: Option<Credential>,
    /// Vedette's private temp dir: the only place a scan may write.
    pub temp_dir: PathBuf,
    pub concurrency: usize,
    /// Spaces the requests to the image's registry (shared in a run).
    pub rate: Option<Arc<registry::RateLimiter>>,
    /// The scan's limits and its stop flag, shared by every reader of it.
    pub budget: Budget,
    /// How to reach a host target: auth, known hosts, a key to trust.
    pub host: Option<HostOptions>,
}

/// How a host target is reached and what is read on it.
#[derive(Debug, Clone)]
pub struct HostOptions {
    pub auth: HostAuth,
    pub known_hosts: KnownHosts,
    /// A fingerprint the user said to trust (`SHA256:…`).
    pub trust: Option<String>,
    pub connect_timeout: std::time::Duration,
    /// More directories where language packages are looked for.
    pub paths: Vec<String>,
    /// The bastion to go through, and how to log in to it.
    pub jump: Option<(vedette_model::HostAddress, HostAuth)>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            platform: vedette_model::host_platform(),
            insecure_registry: false,
            credential: None,
            temp_dir: std::env::temp_dir(),
            concurrency: 3,
            rate: None,
            budget: Budget::default(),
            host: None,
        }
    }
}

impl Options {
    /// The one way a registry client is made (scans, crawls, digest checks):
    /// `page_size` 0 keeps the client's default.
    pub fn registry_client(&self, page_size: usize) -> Result<registry::Client, EngineError> {
        let platform = Platform::parse(&self.platform)
            .ok_or_else(|| EngineError::BadPlatform(self.platform.clone()))?;
        let defaults = registry::Options::default();
        Ok(registry::Client::new(
            registry::Options {
                insecure: self.insecure_registry,
                platform,
                concurrency: self.concurrency,
                rate: self.rate.clone(),
                page_size: if page_size == 0 {
                    defaults.page_size
                } else {
                    page_size
                },
                budget: self.budget.clone(),
                ..defaults
            },
            self.credential.clone(),
        )?)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("'{0}' is not a platform; write it as os/arch[/variant], e.g. linux/amd64 or linux/arm64/v8")]
    BadPlatform(String),
    #[error("{path}: {reason}. Give a CycloneDX, SPDX or syft JSON SBOM")]
    BadSbom { path: String, reason: String },
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
    #[error(transparent)]
    Feeds(#[from] vedette_feeds::FeedError),
    #[error("{0}")]
    Selector(String),
    #[error("the scan stopped unexpectedly: {0}")]
    Internal(String),
}

impl EngineError {
    /// Worth trying again later: the download broke off. (The registry client
    /// already retries 5xx and 429 answers itself.)
    pub fn is_transient(&self) -> bool {
        matches!(self, EngineError::Source(SourceError::BrokeOff { .. }))
    }
}

/// The registry host of an image reference (`docker.io` for `debian:12`).
pub fn registry_host(reference: &str) -> Option<String> {
    Reference::parse(reference).ok().map(|r| r.registry)
}

/// Observe-only progress of a scan (for the CLI's stderr, the UI, the API).
pub trait Progress: registry::Progress {
    /// The scan was recorded as started, with this id.
    fn begun(&self, _scan_id: i64) {}
    fn stage(&self, _message: &str) {}
}

impl Progress for () {}

/// Resolves an image reference to the manifest of the chosen platform, its
/// config and its layers, without reading a layer: what a scan needs to
/// know whether it read this image before.
pub async fn resolve_image(
    reference: &str,
    opts: &Options,
    progress: &dyn Progress,
) -> Result<vedette_model::ImageInfo, EngineError> {
    let r = Reference::parse(reference)?;
    let client = opts.registry_client(0)?;
    progress.stage(&format!("resolving {r}"));
    Ok(client.resolve(&r).await?)
}

/// Reads `target` and catalogues it.
pub async fn inventory(
    target: &Target,
    opts: &Options,
    progress: Arc<dyn Progress>,
) -> Result<Inventory, EngineError> {
    inventory_resolved(target, opts, progress, None).await
}

/// [`inventory`], with the image already resolved by [`resolve_image`]
/// (so its manifest is not asked for twice).
pub async fn inventory_resolved(
    target: &Target,
    opts: &Options,
    progress: Arc<dyn Progress>,
    resolved: Option<vedette_model::ImageInfo>,
) -> Result<Inventory, EngineError> {
    if let Target::Sbom(path) = target {
        return read_sbom(target, path, opts.budget.limits().max_file_bytes).await;
    }
    let cats: Arc<Vec<Box<dyn Cataloger>>> = Arc::new(catalogers());
    let platform = Platform::parse(&opts.platform)
        .ok_or_else(|| EngineError::BadPlatform(opts.platform.clone()))?;
    let budget = opts.budget.clone();
    let mut host_facts = None;
    let view = match target {
        Target::Image(reference) => {
            let r = Reference::parse(reference)?;
            let client = Arc::new(opts.registry_client(0)?);
            let info = match resolved {
                Some(info) => info,
                None => {
                    progress.stage(&format!("resolving {r}"));
                    client.resolve(&r).await?
                }
            };
            // Sizes come from the registry: summed without overflow.
            let total = info
                .layers
                .iter()
                .fold(0u64, |t, l| t.saturating_add(l.size));
            progress.stage(&format!(
                "{} ({}), {} layer{}, {:.1} MB",
                info.manifest_digest,
                info.platform,
                info.layers.len(),
                if info.layers.len() == 1 { "" } else { "s" },
                total as f64 / 1e6
            ));
            let progress_dyn: Arc<dyn registry::Progress> =
                Arc::new(Forward(Arc::clone(&progress)));
            let deltas = client
                .pull_layers(&r, &info, Arc::clone(&cats), progress_dyn)
                .await?;
            let (files, warnings) = vedette_sources::assemble(deltas);
            View {
                files,
                image: Some(info),
                warnings,
            }
        }
        Target::Archive(path) => {
            let (path, cats2, temp) = (path.clone(), Arc::clone(&cats), opts.temp_dir.clone());
            progress.stage(&format!("reading {}", path.display()));
            let budget = budget.clone();
            blocking(move || {
                vedette_sources::archive::read_archive(&path, &platform, &cats2, &temp, &budget)
            })
            .await??
        }
        Target::Sbom(_) => unreachable!("handled above"),
        Target::Directory(path) => {
            let (path, cats2) = (path.clone(), Arc::clone(&cats));
            progress.stage(&format!("reading {}", path.display()));
            let budget = budget.clone();
            blocking(move || dir::read_dir(&path, &cats2, &budget)).await??
        }
        Target::Host(address) => {
            let Some(h) = &opts.host else {
                return Err(EngineError::Source(SourceError::Format(format!(
                    "{address}: no way to reach the host was given"
                ))));
            };
            progress.stage(&format!("reading {address} over SSH"));
            let connection = vedette_sources::host::HostConnection {
                address: address.clone(),
                auth: h.auth.clone(),
                known_hosts: h.known_hosts.clone(),
                trust: h.trust.clone(),
                connect_timeout: h.connect_timeout,
                jump: h.jump.as_ref().map(|(address, auth)| {
                    Box::new(vedette_sources::host::HostConnection {
                        address: address.clone(),
                        auth: auth.clone(),
                        known_hosts: h.known_hosts.clone(),
                        trust: None,
                        connect_timeout: h.connect_timeout,
                        jump: None,
                    })
                }),
            };
            let (view, facts) =
                vedette_sources::host::read_host(&connection, &cats, &budget, &h.paths).await?;
            host_facts = Some(facts);
            view
        }
    };
    progress.stage("cataloguing packages");
    let kind = target.kind();
    let name = target.name();
    let inv = blocking(move || {
        let found = catalog(&view.files, &cats);
        let digest = match &view.image {
            Some(i) => i.manifest_digest.clone(),
            None => dir::content_digest(&view.files),
        };
        let mut warnings = view.warnings.into_vec();
        warnings.extend(
            found
                .warnings
                .into_iter()
                .map(|w| format!("{} ({}): {}", w.path, w.cataloger, w.message)),
        );
        Inventory {
            schema: Inventory::SCHEMA,
            target: name,
            kind,
            digest,
            image: view.image,
            distro: found.distro,
            packages: found.packages,
            warnings,
            unreadable: found
                .unreadable
                .into_iter()
                .map(|w| vedette_model::Unreadable {
                    path: w.path,
                    reason: w.message,
                })
                .collect(),
            extractor_version: vedette_extract::EXTRACTOR_VERSION,
            scanned_at: chrono::Utc::now(),
            host: host_facts,
        }
    })
    .await?;
    Ok(with_running_kernel(inv))
}

/// A host's inventory with its running kernel as the distribution's kernel
/// package (or a warning saying why it is not matched), and a digest that
/// covers it: a reboot into another kernel is a change.
fn with_running_kernel(mut inv: Inventory) -> Inventory {
    use sha2::Digest as _;
    use vedette_extract::os::kernel;
    let Some(release) = inv.host.as_ref().and_then(|h| h.kernel.clone()) else {
        return inv;
    };
    let build = inv.host.as_ref().and_then(|h| h.kernel_build.clone());
    match kernel::running_kernel(
        inv.distro.as_ref(),
        &release,
        build.as_deref(),
        &inv.packages,
    ) {
        Ok(kernel::Running::Installed(i)) => {
            inv.packages[i].locations.push(vedette_model::Location {
                path: kernel::LOCATION.to_owned(),
                layer: None,
            })
        }
        Ok(kernel::Running::Package(p)) => inv.packages.push(*p),
        Err(why) => inv.warnings.push(why),
    }
    let folded = format!(
        "{}\nkernel {release}\n{}",
        inv.digest,
        build.unwrap_or_default()
    );
    inv.digest = format!(
        "sha256:{}",
        hex::encode(sha2::Sha256::digest(folded.as_bytes()))
    );
    inv
}

async fn read_sbom(
    target: &Target,
    path: &std::path::Path,
    max_bytes: u64,
) -> Result<Inventory, EngineError> {
    use sha2::Digest as _;
    let shown = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|e| EngineError::Read {
        path: shown.clone(),
        reason: e.to_string(),
    })?;
    if meta.len() > max_bytes {
        return Err(EngineError::BadSbom {
            path: shown,
            reason: format!(
                "{} is more than an SBOM should be (the limit, {}, is set with {} or {})",
                vedette_model::format_bytes(meta.len()),
                vedette_model::format_bytes(max_bytes),
                vedette_model::ScanLimits::FILE.flag,
                vedette_model::ScanLimits::FILE.env
            ),
        });
    }
    let bytes = read_at_most(path, max_bytes).map_err(|e| EngineError::Read {
        path: shown.clone(),
        reason: e.to_string(),
    })?;
    let origin = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| shown.clone());
    let (sbom, digest) = blocking(move || {
        let digest = format!("sha256:{}", hex::encode(sha2::Sha256::digest(&bytes)));
        (vedette_extract::sbom::parse_sbom(&bytes, &origin), digest)
    })
    .await?;
    let sbom = sbom.map_err(|reason| EngineError::BadSbom {
        path: shown,
        reason,
    })?;
    Ok(Inventory {
        schema: Inventory::SCHEMA,
        target: target.name(),
        kind: TargetKind::Sbom,
        digest,
        image: None,
        distro: sbom.distro,
        packages: sbom.packages,
        warnings: sbom.warnings,
        unreadable: Vec::new(),
        extractor_version: vedette_extract::EXTRACTOR_VERSION,
        scanned_at: chrono::Utc::now(),
        host: None,
    })
}

/// Reads a file, at most `max` bytes of it (it may grow after it was checked).
fn read_at_most(path: &std::path::Path, max: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let mut v = Vec::new();
    std::fs::File::open(path)?.take(max).read_to_end(&mut v)?;
    Ok(v)
}

/// Passes registry progress through to the engine's observer.
struct Forward(Arc<dyn Progress>);

impl registry::Progress for Forward {
    fn layer_started(&self, digest: &str, size: u64) {
        self.0.layer_started(digest, size)
    }
    fn bytes(&self, n: u64) {
        self.0.bytes(n)
    }
    fn layer_done(&self, digest: &str) {
        self.0.layer_done(digest)
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, EngineError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| EngineError::Internal(e.to_string()))
}

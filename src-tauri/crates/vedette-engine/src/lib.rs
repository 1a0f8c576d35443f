//! Runs the first half of the pipeline for one target: read it (registry,
//! archive, directory), catalogue what is installed, and return the
//! [`Inventory`]. Plain data out; presenting and storing it is the caller's.

mod assess;
mod crawl;

use std::path::PathBuf;
use std::sync::Arc;

pub use assess::{assess, ecosystems_in_use, feed_version, judge, AssessOptions};
pub use crawl::{check_watch, crawl, image_digest, Crawl, CrawlOptions, CrawledImage};
pub use vedette_extract::EXTRACTOR_VERSION;
use vedette_extract::{catalog, catalogers, Cataloger};
use vedette_model::{Inventory, TargetKind};
pub use vedette_sources::registry::Credential;
pub use vedette_sources::registry::RateLimiter;
use vedette_sources::registry::{self, manifest::Platform};
use vedette_sources::{dir, Reference, SourceError, View};

/// What to inventory.
#[derive(Debug, Clone)]
pub enum Target {
    Image(String),
    Archive(PathBuf),
    Directory(PathBuf),
    /// A CycloneDX, SPDX or syft JSON document.
    Sbom(PathBuf),
}

impl Target {
    pub fn kind(&self) -> TargetKind {
        match self {
            Target::Image(_) => TargetKind::Image,
            Target::Archive(_) => TargetKind::Archive,
            Target::Directory(_) => TargetKind::Directory,
            Target::Sbom(_) => TargetKind::Sbom,
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
}

impl Default for Options {
    fn default() -> Self {
        Self {
            platform: "linux/amd64".into(),
            insecure_registry: false,
            credential: None,
            temp_dir: std::env::temp_dir(),
            concurrency: 3,
            rate: None,
        }
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
    fn stage(&self, _message: &str) {}
}

impl Progress for () {}

/// Reads `target` and catalogues it.
pub async fn inventory(
    target: &Target,
    opts: &Options,
    progress: Arc<dyn Progress>,
) -> Result<Inventory, EngineError> {
    if let Target::Sbom(path) = target {
        return read_sbom(target, path).await;
    }
    let cats: Arc<Vec<Box<dyn Cataloger>>> = Arc::new(catalogers());
    let platform = Platform::parse(&opts.platform)
        .ok_or_else(|| EngineError::BadPlatform(opts.platform.clone()))?;
    let view = match target {
        Target::Image(reference) => {
            let r = Reference::parse(reference)?;
            let client = Arc::new(registry::Client::new(
                registry::Options {
                    insecure: opts.insecure_registry,
                    platform,
                    concurrency: opts.concurrency,
                    rate: opts.rate.clone(),
                    ..registry::Options::default()
                },
                opts.credential.clone(),
            )?);
            progress.stage(&format!("resolving {r}"));
            let info = client.resolve(&r).await?;
            let total: u64 = info.layers.iter().map(|l| l.size).sum();
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
            blocking(move || {
                vedette_sources::archive::read_archive(&path, &platform, &cats2, &temp)
            })
            .await??
        }
        Target::Sbom(_) => unreachable!("handled above"),
        Target::Directory(path) => {
            let (path, cats2) = (path.clone(), Arc::clone(&cats));
            progress.stage(&format!("reading {}", path.display()));
            blocking(move || dir::read_dir(&path, &cats2)).await??
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
        let mut warnings = view.warnings;
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
            extractor_version: vedette_extract::EXTRACTOR_VERSION,
            scanned_at: chrono::Utc::now(),
        }
    })
    .await?;
    Ok(inv)
}

async fn read_sbom(target: &Target, path: &std::path::Path) -> Result<Inventory, EngineError> {
    use sha2::Digest as _;
    let shown = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|e| EngineError::Read {
        path: shown.clone(),
        reason: e.to_string(),
    })?;
    if meta.len() > vedette_extract::MAX_FILE_SIZE {
        return Err(EngineError::BadSbom {
            path: shown,
            reason: format!("{} bytes is more than an SBOM should be", meta.len()),
        });
    }
    let bytes = std::fs::read(path).map_err(|e| EngineError::Read {
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
        extractor_version: vedette_extract::EXTRACTOR_VERSION,
        scanned_at: chrono::Utc::now(),
    })
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

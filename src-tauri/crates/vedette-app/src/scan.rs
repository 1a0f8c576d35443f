//! Scanning now, as the front ends ask for it: a target named on the
//! command line (recorded as a target, with how it is reached), or a target
//! already watched (the window's "Scan now", the API). Both end in
//! [`vedette_scan::Scanner::scan`], the function the scheduler calls too.

use std::sync::Arc;

pub use vedette_engine::Progress;
pub use vedette_engine::Target as ScanTarget;
use vedette_match::Policy;
use vedette_model::{Exposure, ScanLimits, TargetInfo};
pub use vedette_scan::{CancellationToken, Scanned};
use vedette_scan::{FeedPolicy, Request};
pub use vedette_sources::registry::Progress as LayerProgress;

use crate::{App, AppError, FeedSources, Result};

/// How to scan, beyond the target.
#[derive(Clone, Default)]
pub struct ScanOptions {
    pub policy: Policy,
    /// Set and remembered for the target; none: the target's own.
    pub exposure: Option<Exposure>,
    /// List packages only: no feeds, no matching.
    pub packages_only: bool,
    /// Match against the index as it is; download nothing.
    pub offline: bool,
    /// Remembered for the target: the platform of a multi-platform image.
    pub platform: Option<String>,
    /// Remembered for the target: its registry over plain HTTP or
    /// unverified TLS.
    pub insecure: bool,
    /// Limits of this scan; none: the environment's.
    pub limits: Option<ScanLimits>,
    /// What the target holds, as its agent sent it: judged, not read.
    pub inventory: Option<vedette_model::Inventory>,
    /// Where to read the target from instead of its name (a copy of
    /// standard input).
    pub source: Option<ScanTarget>,
    /// The registry credential for this scan alone, before the stored ones.
    pub credential: Option<vedette_engine::Credential>,
}

impl ScanOptions {
    /// The limits of this scan: those given, else the environment's.
    fn limits(&self) -> Result<vedette_model::ScanLimits> {
        match self.limits {
            Some(l) => Ok(l),
            None => crate::limits_from_env().map_err(AppError::Invalid),
        }
    }
}

impl App {
    /// Scans `target` now and records it: the target is watched from now on
    /// (added the first time), with the transport and platform given, which
    /// later scans reuse.
    pub async fn scan_now(
        &self,
        target: ScanTarget,
        opts: &ScanOptions,
        sources: &FeedSources,
        progress: Arc<dyn Progress>,
        cancel: &CancellationToken,
    ) -> Result<Scanned> {
        if let ScanTarget::Image(r) = &target {
            vedette_sources::Reference::parse(r).map_err(AppError::invalid)?;
        }
        let store = self.store();
        let id = store.ensure_target(target.kind(), &target.name()).await?;
        if opts.insecure || opts.platform.is_some() {
            let t = self.target(id).await?;
            store
                .set_target_transport(
                    id,
                    opts.insecure || t.insecure,
                    opts.platform.as_deref().or(t.platform.as_deref()),
                )
                .await?;
        }
        let info = self.target(id).await?;
        self.scan_target(&info, opts, sources, progress, cancel)
            .await
    }

    /// Scans an image archive or an SBOM piped to standard input
    /// (`docker save app | vedette scan archive -`): copied into a private
    /// temp dir (at most the archive limit, or the file limit for an SBOM),
    /// scanned, and recorded as the target "standard input" of that kind,
    /// which no schedule scans again.
    pub async fn scan_stdin(
        &self,
        kind: vedette_model::TargetKind,
        input: impl std::io::Read + Send + 'static,
        opts: &ScanOptions,
        sources: &FeedSources,
        progress: Arc<dyn Progress>,
        cancel: &CancellationToken,
    ) -> Result<Scanned> {
        use vedette_model::{ScanLimits, TargetKind};
        let limits = opts.limits()?;
        let (limit, setting, file) = match kind {
            TargetKind::Archive => (limits.max_archive_bytes, ScanLimits::ARCHIVE, "stdin.tar"),
            TargetKind::Sbom => (limits.max_file_bytes, ScanLimits::FILE, "stdin.json"),
            _ => {
                return Err(AppError::Invalid(format!(
                    "only an image archive or an SBOM can be read from standard input, not a {}",
                    kind.as_str()
                )))
            }
        };
        let temp = tempfile::Builder::new()
            .prefix("vedette-stdin-")
            .tempdir()
            .map_err(|e| AppError::unavailable(format!("cannot create a private temp dir: {e}")))?;
        let path = temp.path().join(file);
        progress.stage("reading standard input");
        let copy_to = path.clone();
        let copied = tokio::task::spawn_blocking(move || -> std::io::Result<u64> {
            let mut out = std::fs::File::create(&copy_to)?;
            // One byte past the limit tells a too-large input from one that fits.
            std::io::copy(&mut input.take(limit.saturating_add(1)), &mut out)
        })
        .await
        .map_err(|e| AppError::unavailable(format!("reading standard input stopped: {e}")))?
        .map_err(|e| {
            AppError::unavailable(format!("cannot copy standard input into the temp dir: {e}"))
        })?;
        if copied == 0 {
            return Err(AppError::Invalid(
                "standard input is empty: pipe an image archive (`docker save IMAGE | vedette scan archive -`) or an SBOM into it".into(),
            ));
        }
        if copied > limit {
            return Err(AppError::Invalid(format!(
                "standard input holds more than {}, the limit on the {}; raise it with {} or {}",
                vedette_model::format_bytes(limit),
                setting.what,
                setting.flag,
                setting.env
            )));
        }
        let source = match kind {
            TargetKind::Sbom => ScanTarget::Sbom(path),
            _ => ScanTarget::Archive(path),
        };
        let id = self
            .store()
            .ensure_target(kind, vedette_model::STDIN_TARGET)
            .await?;
        let info = self.target(id).await?;
        let opts = ScanOptions {
            source: Some(source),
            limits: Some(limits),
            ..opts.clone()
        };
        let scanned = self
            .scan_target(&info, &opts, sources, progress, cancel)
            .await;
        drop(temp);
        scanned
    }

    /// Scans a watched target now, as it was added (its transport, platform
    /// and exposure); the window's "Scan now" and the API's scans.
    pub async fn scan_watched(
        &self,
        id: i64,
        sources: &FeedSources,
        progress: Arc<dyn Progress>,
        cancel: &CancellationToken,
    ) -> Result<Scanned> {
        let info = self.target(id).await?;
        if info.name == vedette_model::STDIN_TARGET {
            return Err(AppError::Invalid(format!(
                "this {} was read from standard input and cannot be read again; pipe it in again (`… | vedette scan {} -`)",
                info.kind.as_str(),
                info.kind.as_str()
            )));
        }
        self.scan_target(&info, &ScanOptions::default(), sources, progress, cancel)
            .await
    }

    pub(crate) async fn scan_target(
        &self,
        info: &TargetInfo,
        opts: &ScanOptions,
        sources: &FeedSources,
        progress: Arc<dyn Progress>,
        cancel: &CancellationToken,
    ) -> Result<Scanned> {
        let limits = opts.limits()?;
        // The only place a scan writes: a private temp dir, removed afterwards.
        let temp = tempfile::Builder::new()
            .prefix("vedette-scan-")
            .tempdir()
            .map_err(|e| AppError::unavailable(format!("cannot create a private temp dir: {e}")))?;
        let feeds = self.feeds(sources).await?;
        let scanner = self.scanner(
            feeds.store.clone(),
            feeds.config.clone(),
            limits,
            temp.path(),
        );
        let req = Request {
            policy: opts.policy.clone(),
            exposure: opts.exposure,
            packages_only: opts.packages_only,
            feeds: if opts.offline {
                FeedPolicy::Offline
            } else {
                FeedPolicy::Fresh
            },
            inventory: opts.inventory.clone(),
            source: opts.source.clone(),
            credential: opts.credential.clone(),
            ..Request::default()
        };
        let scanned = scanner.scan(info, &req, progress, cancel).await;
        feeds.close().await;
        Ok(scanned?)
    }

    /// Cancels a scan running in this process; `false` when none has that id.
    pub fn cancel_scan(&self, scan_id: i64) -> bool {
        self.running().cancel(scan_id)
    }
}

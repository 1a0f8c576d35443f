//! Scanning one target and recording it: the one use case that the CLI, the
//! window, the API and the scheduler all call, so that a scan behaves the
//! same whoever starts it.
//!
//! A scan begins a row in the history; reads the target (for an image whose
//! digest has not changed, the stored inventory instead of a pull), with
//! retries when a download broke off; brings the feeds it needs up to date
//! under one [`FeedPolicy`] (the enrichment feeds meanwhile, never waiting
//! on a source that failed lately); matches, scores and judges; and records
//! all of it in one transaction. It runs under the deadline and within the
//! memory budget of its [`ScanLimits`], and stops when its cancellation
//! token fires. However it ends, the history says how (succeeded, failed,
//! cancelled) and why.

mod error;
mod running;

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
pub use error::{ErrorKind, Failure, ScanError};
pub use running::Running;
pub use tokio_util::sync::CancellationToken;
use vedette_engine::{AssessOptions, Budget, Credential, Progress, RateLimiter, Target};
use vedette_feeds::{FeedConfig, FeedOutcome, FeedStore, Refresh};
use vedette_match::Policy;
use vedette_model::{
    Exposure, Inventory, NewFinding, ScanLimits, ScanReport, ScanState, TargetInfo, TargetKind,
    Trigger,
};
use vedette_store::Store;

/// Finds registry credentials (the keyring, Docker's config) for a host.
pub type CredentialLookup = Arc<
    dyn Fn(
            String,
        )
            -> std::pin::Pin<Box<dyn std::future::Future<Output = Option<Credential>> + Send>>
        + Send
        + Sync,
>;

/// Finds how to log in to a host (the keyring's key or password, the
/// target's identity file); the ssh-agent is asked besides.
pub type HostAuthLookup = Arc<
    dyn Fn(
            vedette_model::HostAddress,
            Option<String>,
        )
            -> std::pin::Pin<Box<dyn std::future::Future<Output = vedette_engine::HostAuth> + Send>>
        + Send
        + Sync,
>;

/// How hosts are reached: where their keys are known, how to log in.
#[derive(Clone)]
pub struct HostAccess {
    pub known_hosts: vedette_engine::KnownHosts,
    pub auth: HostAuthLookup,
    pub connect_timeout: Duration,
}

/// Which feeds a scan brings up to date before matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FeedPolicy {
    /// Those the inventory needs that are older than their limit, and the
    /// enrichment feeds (KEV, EPSS, NVD) likewise, skipping a source that
    /// failed lately. A one-shot scan.
    #[default]
    Fresh,
    /// Only advisory feeds the index does not hold yet: a scheduled run
    /// refreshed the others (and the enrichment feeds) when it started, so a
    /// source that is down costs the run one try, not one per target.
    MissingOnly,
    /// None: match against the index as it is.
    Offline,
}

/// What a scan needs besides its target; cheap to clone.
#[derive(Clone)]
pub struct Scanner {
    pub store: Store,
    pub feeds: FeedStore,
    pub feed_config: FeedConfig,
    pub credentials: Option<CredentialLookup>,
    /// A cloud's own listing of its registries (ECR), for crawls.
    pub cloud: Option<Arc<dyn vedette_engine::CloudListing>>,
    /// How hosts are reached (none: host targets cannot be scanned).
    pub hosts: Option<HostAccess>,
    /// Vedette's private temp dir: the only place a scan may write.
    pub temp_dir: PathBuf,
    pub limits: ScanLimits,
    /// Tries of a scan whose download broke off, and the first pause
    /// between them (doubled each time).
    pub attempts: u32,
    pub backoff: Duration,
    /// Registries reached over plain HTTP or unverified TLS, whatever the
    /// request says (`VEDETTE_INSECURE_REGISTRIES`).
    pub insecure_registries: Vec<String>,
    /// The scans running in this process, to cancel by id.
    pub running: Running,
}

/// How to scan a target.
#[derive(Clone)]
pub struct Request {
    pub trigger: Trigger,
    pub schedule_id: Option<i64>,
    pub policy: Policy,
    /// Set, and remembered for the target, when given; else the target's own.
    pub exposure: Option<Exposure>,
    /// What is installed only: no feeds, no matching.
    pub packages_only: bool,
    pub feeds: FeedPolicy,
    /// The platform to pick from a multi-platform image; none: the
    /// target's own (else `linux/amd64`).
    pub platform: Option<String>,
    /// Plain HTTP or unverified TLS for this image's registry (also when the
    /// target says so).
    pub insecure: bool,
    /// The image's digest, when a registry crawl just read it.
    pub digest: Option<String>,
    /// Spaces the requests to the image's registry (shared in a run).
    pub rate: Option<Arc<RateLimiter>>,
    /// A host key fingerprint (`SHA256:…`) the user trusts for this host.
    pub trust_host_key: Option<String>,
    /// What the target holds, as its agent collected it: judged instead of
    /// reading the target.
    pub inventory: Option<Inventory>,
    /// Where to read the target from instead of its name (a copy of what
    /// was piped to standard input).
    pub source: Option<Target>,
    /// The registry credential given for this scan alone (`--username`,
    /// `--password-stdin`), before the stored ones.
    pub credential: Option<Credential>,
}

impl Default for Request {
    fn default() -> Self {
        Self {
            trigger: Trigger::Manual,
            schedule_id: None,
            policy: Policy::default(),
            exposure: None,
            packages_only: false,
            feeds: FeedPolicy::Fresh,
            platform: None,
            insecure: false,
            digest: None,
            rate: None,
            trust_host_key: None,
            inventory: None,
            source: None,
            credential: None,
        }
    }
}

/// A scan that was recorded.
#[derive(Debug)]
pub struct Scanned {
    pub scan_id: i64,
    pub inventory: Inventory,
    /// The findings and verdict (none for a packages-only scan).
    pub report: Option<ScanReport>,
    /// Findings new since the target's previous scan, with their cause.
    pub new_findings: Vec<NewFinding>,
    /// The image's digest had not changed: its stored inventory was matched
    /// again instead of pulling it.
    pub reused_inventory: bool,
    /// Nothing changed since the target's previous scan (same content, same
    /// feeds): its findings were carried over without matching again.
    pub carried_over: bool,
}

/// What the work before recording produced.
struct Done {
    inventory: Inventory,
    report: Option<ScanReport>,
    reused_inventory: bool,
    carried_over: bool,
}

/// The engine's target for a stored one; registries are crawled into
/// images.
pub fn engine_target(t: &TargetInfo) -> Option<Target> {
    Some(match t.kind {
        TargetKind::Image => Target::Image(t.name.clone()),
        TargetKind::Directory => Target::Directory(t.name.clone().into()),
        TargetKind::Archive => Target::Archive(t.name.clone().into()),
        TargetKind::Sbom => Target::Sbom(t.name.clone().into()),
        TargetKind::Host => Target::Host(vedette_model::HostAddress::parse(&t.name).ok()?),
        TargetKind::Registry | TargetKind::Node => return None,
    })
}

/// The registry an image (or registry target) lives on.
pub fn registry_of(t: &TargetInfo) -> Option<String> {
    match t.kind {
        TargetKind::Image => vedette_engine::registry_host(&t.name),
        TargetKind::Registry => Some(t.name.clone()),
        _ => None,
    }
}

/// `feed.updated` in the event log for each feed whose content changed
/// (by a scan's refresh or an explicit update).
pub async fn record_feed_events(
    store: &Store,
    updates: &[FeedOutcome],
) -> Result<(), vedette_store::StoreError> {
    for u in updates {
        if let vedette_feeds::Outcome::Updated { records, .. } = &u.outcome {
            let (source, _) = vedette_model::strip_userinfo(&u.source);
            store
                .record_event(
                    vedette_model::EventKind::FeedUpdated,
                    serde_json::json!({"feed": u.feed, "source": source, "records": records}),
                )
                .await?;
        }
    }
    Ok(())
}

impl Scanner {
    /// A scanner with the default limits and retries, no credentials, and
    /// no registry reached insecurely unless a request says so.
    pub fn new(
        store: Store,
        feeds: FeedStore,
        feed_config: FeedConfig,
        temp_dir: &std::path::Path,
    ) -> Self {
        Self {
            store,
            feeds,
            feed_config,
            credentials: None,
            cloud: None,
            hosts: None,
            temp_dir: temp_dir.to_owned(),
            limits: ScanLimits::default(),
            attempts: 3,
            backoff: Duration::from_secs(5),
            insecure_registries: Vec::new(),
            running: Running::default(),
        }
    }

    /// Scans `target` now and records the result. `cancel` stops it (the
    /// scan then ends `cancelled`); so does [`Running::cancel`] with its id.
    pub async fn scan(
        &self,
        target: &TargetInfo,
        req: &Request,
        progress: Arc<dyn Progress>,
        cancel: &CancellationToken,
    ) -> Result<Scanned, Failure> {
        let engine_target = req.source.clone().or_else(|| engine_target(target));
        if engine_target.is_none() && req.inventory.is_none() {
            return Err(Failure {
                scan_id: None,
                error: ScanError::NotScannable(target.kind),
            });
        }
        let Some(_claim) = self.running.claim_target(target.id) else {
            return Err(Failure {
                scan_id: None,
                error: ScanError::Busy(target.name.clone()),
            });
        };
        let started = Instant::now();
        let scan_id = self
            .store
            .begin_scan_as(target.id, req.trigger, req.schedule_id)
            .await
            .map_err(|e| Failure {
                scan_id: None,
                error: e.into(),
            })?;
        progress.begun(scan_id);
        let token = cancel.child_token();
        let _registered = self.running.register(scan_id, token.clone());
        let budget = Budget::new(self.limits);
        let timeout = self.limits.timeout;
        let result = tokio::select! {
            r = self.work(target, engine_target.as_ref(), req, &budget, Arc::clone(&progress)) => r,
            _ = token.cancelled() => Err(ScanError::Cancelled),
            _ = tokio::time::sleep(timeout) => Err(ScanError::TimedOut(timeout)),
        };
        // The work was dropped; readers on blocking threads stop at their
        // next entry.
        if result.is_err() {
            budget.stop();
        }
        let recorded = match result {
            Ok(done) => self.record(scan_id, target, done, started).await,
            Err(e) => Err(e),
        };
        match recorded {
            Ok(s) => Ok(s),
            Err(error) => {
                let state = match error {
                    ScanError::Cancelled => ScanState::Cancelled,
                    _ => ScanState::Failed,
                };
                if let Err(e) = self
                    .store
                    .finish_scan(scan_id, state, Some(&error.to_string()))
                    .await
                {
                    tracing::error!(
                        scan_id,
                        "cannot record how scan {scan_id} ended ({error}): {e}"
                    );
                }
                Err(Failure {
                    scan_id: Some(scan_id),
                    error,
                })
            }
        }
    }

    /// Everything before recording: reading the target, the feeds, matching.
    async fn work(
        &self,
        target: &TargetInfo,
        engine_target: Option<&Target>,
        req: &Request,
        budget: &Budget,
        progress: Arc<dyn Progress>,
    ) -> Result<Done, ScanError> {
        let opts = self.engine_options(target, req, budget).await;
        let refresh_enrichment = !req.packages_only && req.feeds == FeedPolicy::Fresh;
        // The enrichment feeds come in while the target is read.
        let enrichment = async {
            if refresh_enrichment {
                self.feeds
                    .update_enrichment(
                        &self.feed_config,
                        Refresh {
                            only_stale: true,
                            skip_failed: true,
                        },
                    )
                    .await
            } else {
                Vec::new()
            }
        };
        let read = self.inventory(target, engine_target, req, &opts, Arc::clone(&progress));
        tokio::pin!(enrichment, read);
        let mut enriched = None;
        let (inventory, reused_inventory) = loop {
            tokio::select! {
                r = &mut read => break r?,
                o = &mut enrichment, if enriched.is_none() => enriched = Some(o),
            }
        };
        if req.packages_only {
            return Ok(Done {
                inventory,
                report: None,
                reused_inventory,
                carried_over: false,
            });
        }
        // The enrichment refresh may be inside its swap (holding the index's
        // write lock): it must go on while the OSV feeds are refreshed, or the
        // OSV swap waits for a lock that is never released.
        let osv = self.refresh_osv(&inventory, req.feeds, progress.as_ref());
        let (osv, enriched) = match enriched {
            Some(o) => (osv.await, o),
            None => tokio::join!(osv, &mut enrichment),
        };
        let mut updates = osv?;
        updates.extend(enriched);
        record_feed_events(&self.store, &updates).await?;
        let exposure = match req.exposure {
            Some(e) => {
                self.store.set_target_exposure(target.id, e).await?;
                e
            }
            None => target.exposure,
        };
        let assess = AssessOptions {
            exposure,
            policy: req.policy.clone(),
        };
        if let Some(report) = self.carry_over(target, &inventory, &assess).await? {
            progress.stage("nothing changed since the last scan: its findings carried over");
            return Ok(Done {
                inventory,
                report: Some(report),
                reused_inventory,
                carried_over: true,
            });
        }
        let report = vedette_engine::assess(
            &inventory,
            &self.feeds,
            &self.feed_config,
            &assess,
            &updates,
            progress.as_ref(),
        )
        .await?;
        Ok(Done {
            inventory,
            report: Some(report),
            reused_inventory,
            carried_over: false,
        })
    }

    /// The report of a host whose content is what its previous scan read,
    /// judged with that scan's findings when the feeds are the same (no
    /// matching: an unchanged host costs one read of its package
    /// databases); none when something changed.
    async fn carry_over(
        &self,
        target: &TargetInfo,
        inventory: &Inventory,
        assess: &AssessOptions,
    ) -> Result<Option<ScanReport>, ScanError> {
        if !matches!(target.kind, TargetKind::Host | TargetKind::Node) {
            return Ok(None);
        }
        let Some((previous, digest, extractor)) = self.store.latest_judged_scan(target.id).await?
        else {
            return Ok(None);
        };
        if digest != inventory.digest || extractor != i64::from(inventory.extractor_version) {
            return Ok(None);
        }
        let Some(report) = self.store.scan_report(previous).await? else {
            return Ok(None);
        };
        let findings = self.store.scan_findings(previous).await?;
        let mut report = match vedette_engine::reassess(
            inventory,
            &report,
            findings,
            &self.feeds,
            &self.feed_config,
            assess,
        )
        .await?
        {
            Some(r) => r,
            None => return Ok(None),
        };
        report.verdict.notes.push(format!(
            "nothing changed since scan {previous} (same packages, same advisory feeds): its findings were carried over without matching again"
        ));
        Ok(Some(report))
    }

    /// Lists the images a registry target's selector picks now: the one way
    /// a registry client is made for a crawl (credentials, transport, limits).
    /// With `remember`, what it reads is kept as it goes (the next crawl
    /// reads only what changed, an interrupted one resumes); a preview only
    /// uses what earlier crawls kept.
    pub async fn crawl(
        &self,
        reg: &TargetInfo,
        watch: &vedette_model::RegistryWatch,
        crawl_opts: &vedette_engine::CrawlOptions,
        remember: bool,
    ) -> Result<vedette_engine::Crawl, vedette_engine::EngineError> {
        let credential = match &self.credentials {
            Some(lookup) => lookup(reg.name.clone()).await,
            None => None,
        };
        let opts = vedette_engine::Options {
            insecure_registry: watch.insecure || self.insecure_registries.contains(&reg.name),
            credential,
            temp_dir: self.temp_dir.clone(),
            budget: Budget::new(self.limits),
            ..vedette_engine::Options::default()
        };
        // What the last crawl found: unchanged tags cost one HEAD each.
        let memory = StoreMemory {
            store: &self.store,
            registry_id: reg.id,
            host: reg.name.clone(),
            started: Utc::now(),
            resumed: std::sync::Mutex::default(),
            remember,
        };
        let mut crawl_opts = crawl_opts.clone();
        if crawl_opts.cloud.is_none() {
            crawl_opts.cloud = self.cloud.clone();
        }
        vedette_engine::crawl(&reg.name, watch, &opts, &crawl_opts, &memory).await
    }
    /// The engine's options for this target: credentials, transport,
    /// platform, the run's rate limit, the scan's budget.
    async fn engine_options(
        &self,
        target: &TargetInfo,
        req: &Request,
        budget: &Budget,
    ) -> vedette_engine::Options {
        let registry = registry_of(target);
        let credential = match (&req.credential, &registry, &self.credentials) {
            (Some(given), _, _) => Some(given.clone()),
            (None, Some(host), Some(lookup)) => lookup(host.clone()).await,
            _ => None,
        };
        vedette_engine::Options {
            platform: req
                .platform
                .clone()
                .or_else(|| target.platform.clone())
                .unwrap_or_else(vedette_model::host_platform),
            insecure_registry: req.insecure
                || target.insecure
                || registry
                    .as_ref()
                    .is_some_and(|r| self.insecure_registries.contains(r)),
            credential,
            temp_dir: self.temp_dir.clone(),
            rate: req.rate.clone(),
            budget: budget.clone(),
            host: self.host_options(target, req).await,
            ..vedette_engine::Options::default()
        }
    }

    /// How a host target is reached (none for other targets, or when this
    /// scanner was not told how to reach hosts).
    async fn host_options(
        &self,
        target: &TargetInfo,
        req: &Request,
    ) -> Option<vedette_engine::HostOptions> {
        let access = self.hosts.as_ref()?;
        let address = match target.kind {
            TargetKind::Host => vedette_model::HostAddress::parse(&target.name).ok()?,
            _ => return None,
        };
        let spec = target.host.clone().unwrap_or_default();
        let jump = match spec
            .jump
            .as_deref()
            .and_then(|j| vedette_model::HostAddress::parse(j).ok())
        {
            Some(j) => Some((
                j.clone(),
                (access.auth)(j, spec.identity_file.clone()).await,
            )),
            None => None,
        };
        Some(vedette_engine::HostOptions {
            jump,
            auth: (access.auth)(address, spec.identity_file.clone()).await,
            known_hosts: access.known_hosts.clone(),
            trust: req.trust_host_key.clone(),
            connect_timeout: access.connect_timeout,
            paths: spec.paths,
        })
    }

    /// Reads the target, or reuses the stored inventory of an image whose
    /// digest has not changed; a download that broke off is tried again.
    async fn inventory(
        &self,
        target: &TargetInfo,
        engine_target: Option<&Target>,
        req: &Request,
        opts: &vedette_engine::Options,
        progress: Arc<dyn Progress>,
    ) -> Result<(Inventory, bool), ScanError> {
        let engine_target = match (engine_target, &req.inventory) {
            (_, Some(inv)) => {
                progress.stage("judging the inventory its agent sent");
                let mut inv = inv.clone();
                inv.target = target.name.clone();
                inv.kind = target.kind;
                return Ok((inv, false));
            }
            (Some(t), None) => t,
            (None, None) => return Err(ScanError::NotScannable(target.kind)),
        };
        // An image is resolved first (its manifest read once): an unchanged
        // digest means the stored inventory is matched again, not pulled.
        let mut resolved = None;
        if let Target::Image(reference) = engine_target {
            let digest = match &req.digest {
                Some(d) => d.clone(),
                None => {
                    let info =
                        vedette_engine::resolve_image(reference, opts, progress.as_ref()).await?;
                    let d = info.manifest_digest.clone();
                    resolved = Some(info);
                    d
                }
            };
            if let Some(mut inv) = self
                .store
                .inventory_by_digest(&digest, vedette_engine::EXTRACTOR_VERSION)
                .await?
            {
                progress.stage(&format!(
                    "digest {digest} unchanged since it was last read: not pulled again"
                ));
                inv.target = target.name.clone();
                inv.scanned_at = Utc::now();
                return Ok((inv, true));
            }
        }
        let mut wait = self.backoff;
        let mut attempt = 0;
        loop {
            attempt += 1;
            match vedette_engine::inventory_resolved(
                engine_target,
                opts,
                Arc::clone(&progress),
                resolved.clone(),
            )
            .await
            {
                Ok(inv) => return Ok((inv, false)),
                Err(e) if attempt < self.attempts && e.is_transient() => {
                    tracing::warn!("{}: {e} (attempt {attempt}); trying again", target.name);
                    progress.stage(&format!(
                        "{e}; trying again in {}",
                        humantime::format_duration(wait)
                    ));
                    tokio::time::sleep(wait).await;
                    wait = wait.saturating_mul(2);
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Brings the advisory feeds the inventory needs up to date, as the
    /// policy says.
    async fn refresh_osv(
        &self,
        inventory: &Inventory,
        policy: FeedPolicy,
        progress: &dyn Progress,
    ) -> Result<Vec<FeedOutcome>, ScanError> {
        let needed = vedette_engine::ecosystems_in_use(inventory);
        let wanted: Vec<String> = match policy {
            FeedPolicy::Offline => return Ok(Vec::new()),
            FeedPolicy::Fresh => needed,
            FeedPolicy::MissingOnly => {
                let held: BTreeSet<String> = self
                    .feeds
                    .status(&self.feed_config)
                    .await?
                    .into_iter()
                    .filter_map(|f| f.name.strip_prefix("osv/").map(str::to_owned))
                    .collect();
                needed.into_iter().filter(|e| !held.contains(e)).collect()
            }
        };
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        progress.stage("checking advisory feeds");
        Ok(self
            .feeds
            .update_osv(&self.feed_config, &wanted, true)
            .await)
    }

    /// Records what the scan found, in one transaction.
    async fn record(
        &self,
        scan_id: i64,
        target: &TargetInfo,
        done: Done,
        started: Instant,
    ) -> Result<Scanned, ScanError> {
        let new_findings = match &done.report {
            None => {
                self.store.complete_scan(scan_id, &done.inventory).await?;
                Vec::new()
            }
            Some(report) => {
                self.store
                    .record_scan(
                        scan_id,
                        &done.inventory,
                        report,
                        &vedette_engine::feed_version(report),
                        i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
                    )
                    .await?
            }
        };
        if target.quarantine.is_some() && self.store.release_quarantine(target.id).await? {
            tracing::info!("{} scanned successfully: out of quarantine", target.name);
        }
        Ok(Scanned {
            scan_id,
            inventory: done.inventory,
            report: done.report,
            new_findings,
            reused_inventory: done.reused_inventory,
            carried_over: done.carried_over,
        })
    }
}

/// A crawl's memory in the store: the tags earlier crawls read, and how far
/// this one got.
struct StoreMemory<'a> {
    store: &'a Store,
    registry_id: i64,
    host: String,
    started: chrono::DateTime<Utc>,
    /// Repositories whose interrupted crawl this one resumed: when that began.
    resumed: std::sync::Mutex<HashMap<String, chrono::DateTime<Utc>>>,
    remember: bool,
}

impl vedette_engine::CrawlMemory for StoreMemory<'_> {
    async fn known(&self, references: &[String]) -> Vec<vedette_engine::CrawledImage> {
        match self.store.registry_tags(self.registry_id, references).await {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(
                    "{}: what the last crawl read is not known ({e}); these tags are read again",
                    self.host
                );
                Vec::new()
            }
        }
    }

    async fn keep(
        &self,
        repository: &str,
        images: &[vedette_engine::CrawledImage],
        done_up_to: Option<&str>,
    ) {
        if !self.remember {
            return;
        }
        let started = self.began(repository);
        let cursor = done_up_to.map(|t| (repository, t, started));
        if let Err(e) = self
            .store
            .keep_registry_tags(self.registry_id, images, cursor)
            .await
        {
            tracing::warn!(
                "{}/{repository}: what this crawl read is not kept ({e}); the next one reads these tags again",
                self.host
            );
        }
    }

    async fn resume(
        &self,
        repository: &str,
    ) -> Option<(String, Vec<vedette_engine::CrawledImage>)> {
        if !self.remember {
            return None;
        }
        match self
            .store
            .registry_crawl_cursor(self.registry_id, &self.host, repository)
            .await
        {
            Ok(Some((last, began, read))) => {
                self.resumed
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(repository.to_owned(), began);
                Some((last, read))
            }
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(
                    "{}/{repository}: where the last crawl stopped is not known ({e}); it starts over",
                    self.host
                );
                None
            }
        }
    }

    async fn finished(&self, repository: &str) {
        if !self.remember {
            return;
        }
        let began = self.began(repository);
        if let Err(e) = self
            .store
            .finish_registry_crawl(self.registry_id, &self.host, repository, began)
            .await
        {
            tracing::warn!(
                "{}/{repository}: the end of this crawl is not recorded ({e}); the next one resumes it",
                self.host
            );
        }
    }
}

impl StoreMemory<'_> {
    /// When the crawl of `repository` began: this one's start, or that of
    /// the interrupted crawl it resumed.
    fn began(&self, repository: &str) -> chrono::DateTime<Utc> {
        self.resumed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(repository)
            .copied()
            .unwrap_or(self.started)
    }
}

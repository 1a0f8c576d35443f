//! Scans started in the background, for the window's "Scan now" and the
//! API: the caller gets the scan's id at once, follows it through the live
//! progress ([`App::live_progress`]) and the event log, and cancels it by id.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{broadcast, oneshot};
use vedette_model::{ScanProgress, ScansStarted, StartedScan, TargetInfo, TargetKind};

use crate::{App, AppError, FeedSources, LayerProgress, Progress, Result, ScanOptions};

/// At most this many background scans run at once in one process; more
/// are refused (busy) until one ends.
pub const BACKGROUND_SCANS: usize = 4;

/// Live progress sent at most this often per scan (layer boundaries and
/// stages are always sent).
const PROGRESS_EVERY: Duration = Duration::from_millis(200);

/// Scans of the inventories that nodes send run in a lane of their own,
/// this many at once (`VEDETTE_NODE_SCANS`), ahead of and beside the
/// other background scans: a node waiting at the gate is never queued
/// behind a registry's images.
pub const NODE_SCANS: usize = 8;

/// How long a node's scan waits for a slot in its lane before it is
/// refused as busy (its agent then sends again).
const JOIN_WAIT: Duration = Duration::from_secs(30);

/// Which slots a background scan takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lane {
    /// The window's and the API's scans: refused at once when all are busy.
    Interactive,
    /// A node's inventory at join: waits a little for its own slots.
    Join,
}

pub(crate) struct Background {
    pub(crate) live: broadcast::Sender<ScanProgress>,
    pub(crate) slots: Arc<tokio::sync::Semaphore>,
    join_slots: Arc<tokio::sync::Semaphore>,
    join_size: usize,
}

impl Default for Background {
    fn default() -> Self {
        let join_size = std::env::var("VEDETTE_NODE_SCANS")
            .ok()
            .and_then(|v| v.parse().ok())
            .filter(|n| *n > 0)
            .unwrap_or(NODE_SCANS);
        Self {
            live: broadcast::channel(1024).0,
            slots: Arc::new(tokio::sync::Semaphore::new(BACKGROUND_SCANS)),
            join_slots: Arc::new(tokio::sync::Semaphore::new(join_size)),
            join_size,
        }
    }
}

/// Relays one scan's progress to the live channel and its id to the caller.
struct Relay {
    begun: Mutex<Option<oneshot::Sender<i64>>>,
    live: broadcast::Sender<ScanProgress>,
    state: Mutex<(ScanProgress, Instant)>,
}

impl Relay {
    fn update(&self, always: bool, f: impl FnOnce(&mut ScanProgress)) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut s.0);
        if s.0.scan_id != 0 && (always || s.1.elapsed() >= PROGRESS_EVERY) {
            s.1 = Instant::now();
            // No one listening is fine.
            let _ = self.live.send(s.0.clone());
        }
    }
}

impl LayerProgress for Relay {
    fn layer_started(&self, _digest: &str, size: u64) {
        self.update(true, |p| {
            p.layers_total += 1;
            p.bytes_total += size;
        });
    }

    fn bytes(&self, n: u64) {
        self.update(false, |p| p.bytes_done += n);
    }

    fn layer_done(&self, _digest: &str) {
        self.update(true, |p| p.layers_done += 1);
    }
}

impl Progress for Relay {
    fn begun(&self, scan_id: i64) {
        if let Some(tx) = self.begun.lock().unwrap_or_else(|p| p.into_inner()).take() {
            // The caller may have gone; the scan goes on.
            let _ = tx.send(scan_id);
        }
        self.update(true, |p| {
            p.scan_id = scan_id;
            p.stage = "started".into();
        });
    }

    fn stage(&self, message: &str) {
        self.update(true, |p| p.stage = message.to_owned());
    }
}

impl App {
    /// Live progress of the background scans of this process.
    pub fn live_progress(&self) -> broadcast::Receiver<ScanProgress> {
        self.background.live.subscribe()
    }

    /// Starts scanning a watched target in the background, as it was added,
    /// judged by `policy` (none: the console's). A registry is crawled now
    /// and the images it picks are scanned one after the other.
    pub async fn start_scans(
        &self,
        target_id: i64,
        sources: &FeedSources,
        policy: Option<&crate::Policy>,
    ) -> Result<ScansStarted> {
        let policy = match policy {
            Some(p) => p.clone(),
            None => self.console_policy()?,
        };
        let t = self.target(target_id).await?;
        let mut out = ScansStarted::default();
        match t.kind {
            TargetKind::Registry => {
                let crawl = self.crawl_preview(t.id).await?;
                out.refused.extend(crawl.warnings);
                let mut images = Vec::new();
                for i in crawl.images {
                    images.push(self.store().crawled_image(&t, &i.reference).await?);
                }
                out.queued = images.iter().map(|i| i.name.clone()).collect();
                let app = self.clone();
                let sources = sources.clone();
                tokio::spawn(async move {
                    for image in images {
                        let opts = ScanOptions {
                            policy: policy.clone(),
                            ..ScanOptions::default()
                        };
                        match app.start_one(image.clone(), &sources, opts).await {
                            Ok((_, done)) => {
                                // One after the other: a registry's images
                                // share its rate limits.
                                let _ = done.await;
                            }
                            Err(e) => tracing::warn!("{}: not scanned: {e}", image.name),
                        }
                    }
                });
            }
            _ => {
                let opts = ScanOptions {
                    policy,
                    ..ScanOptions::default()
                };
                let (started, _) = self.start_one(t, sources, opts).await?;
                out.scans.push(started);
            }
        }
        Ok(out)
    }

    /// Starts each of `ids` (what is busy or not scannable is listed in
    /// `refused`).
    pub async fn start_scans_of(
        &self,
        ids: &[i64],
        sources: &FeedSources,
        policy: Option<&crate::Policy>,
    ) -> Result<ScansStarted> {
        let mut out = ScansStarted::default();
        for id in ids {
            match self.start_scans(*id, sources, policy).await {
                Ok(s) => {
                    out.scans.extend(s.scans);
                    out.queued.extend(s.queued);
                    out.refused.extend(s.refused);
                }
                Err(
                    e @ (AppError::Busy(_) | AppError::Invalid(_) | AppError::Unavailable { .. }),
                ) => {
                    out.refused.push(format!("target {id}: {e}"));
                }
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// Starts one scan; returns it once recorded as started, and a receiver
    /// that resolves when it ends.
    pub(crate) async fn start_one(
        &self,
        info: TargetInfo,
        sources: &FeedSources,
        opts: ScanOptions,
    ) -> Result<(StartedScan, oneshot::Receiver<()>)> {
        self.start_in(Lane::Interactive, info, sources, opts).await
    }

    /// [`App::start_one`] in a lane.
    pub(crate) async fn start_in(
        &self,
        lane: Lane,
        info: TargetInfo,
        sources: &FeedSources,
        opts: ScanOptions,
    ) -> Result<(StartedScan, oneshot::Receiver<()>)> {
        let permit = match lane {
            Lane::Interactive => Arc::clone(&self.background.slots)
                .try_acquire_owned()
                .map_err(|_| {
                    AppError::Busy(format!(
                        "{BACKGROUND_SCANS} scans are running already; start this one when one of them ends"
                    ))
                })?,
            Lane::Join => {
                let slots = Arc::clone(&self.background.join_slots);
                match tokio::time::timeout(JOIN_WAIT, slots.acquire_owned()).await {
                    Ok(Ok(p)) => p,
                    _ => {
                        return Err(AppError::Busy(format!(
                            "{} node scans are running and more are waiting; send the inventory again shortly",
                            self.background.join_size
                        )))
                    }
                }
            }
        };
        let (begun_tx, begun_rx) = oneshot::channel();
        let (done_tx, done_rx) = oneshot::channel();
        let relay = Arc::new(Relay {
            begun: Mutex::new(Some(begun_tx)),
            live: self.background.live.clone(),
            state: Mutex::new((
                ScanProgress {
                    target_id: info.id,
                    ..ScanProgress::default()
                },
                Instant::now(),
            )),
        });
        let (app, sources, target) = (self.clone(), sources.clone(), info.clone());
        let task_relay = Arc::clone(&relay);
        let task = tokio::spawn(async move {
            let _permit = permit;
            let cancel = crate::CancellationToken::new();
            let r = app
                .scan_target(&target, &opts, &sources, task_relay.clone(), &cancel)
                .await;
            let state = match &r {
                Ok(_) => "succeeded",
                Err(AppError::Cancelled) => "cancelled",
                Err(_) => "failed",
            };
            task_relay.update(true, |p| p.finished = Some(state.into()));
            if let Err(e) = &r {
                tracing::warn!("scan of {} ended: {e}", target.name);
            }
            let _ = done_tx.send(());
            r.map(|_| ())
        });
        match begun_rx.await {
            Ok(scan_id) => Ok((
                StartedScan {
                    scan_id,
                    target_id: info.id,
                    target: info.name,
                    url: format!("/api/v1/scans/{scan_id}"),
                },
                done_rx,
            )),
            // It ended before it was recorded: busy, not scannable, no feeds.
            Err(_) => match task.await {
                Ok(Err(e)) => Err(e),
                Ok(Ok(())) => Err(AppError::Internal(
                    "the scan ended without being recorded".into(),
                )),
                Err(e) => Err(AppError::Internal(format!("the scan stopped: {e}"))),
            },
        }
    }
}

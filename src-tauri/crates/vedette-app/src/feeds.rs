//! The advisory feeds as the front ends see them: status, update, import,
//! the sources that failed lately. One way to open the index and resolve its
//! settings (with the keyring's mirror credentials).

use std::path::PathBuf;

use vedette_feeds::{FeedConfig, FeedStore, Refresh};
pub use vedette_feeds::{FeedOutcome, FeedSources, Outcome, SourceFailure, OSV_ECOSYSTEMS};
use vedette_model::FeedInfo;

use crate::{App, AppError, Result};

/// The advisory index of a data dir with its settings resolved.
pub struct Feeds {
    pub(crate) store: FeedStore,
    pub(crate) config: FeedConfig,
}

impl App {
    /// Opens the advisory index with the settings `sources` give (flags or
    /// environment) and the mirror credentials the keyring holds.
    /// One index per process (every scan, the scheduler, the API share its
    /// connections), opened the first time.
    pub async fn feeds(&self, sources: &FeedSources) -> Result<Feeds> {
        let store = self
            .feed_store
            .get_or_try_init(|| FeedStore::open_in(self.data_dir()))
            .await?
            .clone();
        let config = self
            .feed_config(sources, &store)
            .await
            .map_err(AppError::Invalid)?;
        Ok(Feeds { store, config })
    }
}

impl Feeds {
    /// Every feed in the index, its age and whether it is past its limit.
    pub async fn status(&self) -> Result<Vec<FeedInfo>> {
        Ok(self.store.status(&self.config).await?)
    }

    /// Enrichment sources whose last try failed, and when each is tried again.
    pub async fn failures(&self) -> Result<Vec<SourceFailure>> {
        Ok(self.store.source_failures(&self.config).await?)
    }

    /// Downloads what changed of the named OSV ecosystems (none named: those
    /// in use) and of KEV, EPSS and NVD, every source now.
    pub async fn update(&self, app: &App, ecosystems: &[String]) -> Result<Vec<FeedOutcome>> {
        for e in ecosystems {
            if !OSV_ECOSYSTEMS.contains(&e.as_str()) {
                return Err(AppError::Invalid(format!(
                    "{e} is not an ecosystem Vedette downloads; choose from {}",
                    OSV_ECOSYSTEMS.join(", ")
                )));
            }
        }
        let ecosystems = if ecosystems.is_empty() {
            self.in_use(app).await?
        } else {
            ecosystems.to_vec()
        };
        let outcomes = self
            .store
            .update(&self.config, &ecosystems, Refresh::default())
            .await;
        vedette_scan::record_feed_events(app.store(), &outcomes).await?;
        Ok(outcomes)
    }

    /// Loads offline bundles (OSV zips, KEV, EPSS, NVD files, or directories
    /// holding them).
    pub async fn import(&self, paths: &[PathBuf]) -> Result<Vec<FeedOutcome>> {
        self.store.import_paths(paths).await.map_err(|e| match e {
            vedette_feeds::FeedError::Io { .. } => AppError::Invalid(e.to_string()),
            vedette_feeds::FeedError::Invalid(m) => AppError::Invalid(m),
            other => other.into(),
        })
    }

    /// The OSV ecosystems of stored inventories and of feeds already held.
    pub async fn in_use(&self, app: &App) -> Result<Vec<String>> {
        let mut set = std::collections::BTreeSet::new();
        // A page of inventories at a time: a fleet's are not all held.
        let mut after = 0;
        loop {
            let page = app.store().latest_inventories_after(after, 256).await?;
            let Some(last) = page.last() else { break };
            after = last.target_id;
            for latest in &page {
                set.extend(vedette_engine::ecosystems_in_use(&latest.inventory));
            }
        }
        for f in self.status().await? {
            if let Some(e) = f.name.strip_prefix("osv/") {
                set.insert(e.to_owned());
            }
        }
        Ok(set.into_iter().collect())
    }

    /// Done with it (the index stays open for the process; [`App::close`]
    /// closes it).
    pub async fn close(self) {}
}

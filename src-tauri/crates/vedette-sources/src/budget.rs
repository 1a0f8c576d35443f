//! What one scan may keep, and whether it should stop: shared by every layer
//! reader, archive and directory walk of the scan (several run at once).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use vedette_model::{format_bytes, ScanLimits};

use crate::SourceError;

/// The scan's limits and what it has used of them; cheap to clone.
#[derive(Clone, Debug)]
pub struct Budget {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    limits: ScanLimits,
    kept: AtomicU64,
    stop: AtomicBool,
}

impl Default for Budget {
    fn default() -> Self {
        Self::new(ScanLimits::default())
    }
}

impl Budget {
    /// The warning for a wanted file larger than a package database can
    /// be (it is skipped), or none when it fits.
    pub fn oversized(&self, path: &str, size: u64) -> Option<String> {
        let max = self.limits().max_file_bytes;
        (size > max).then(|| {
            format!(
                "{path} is {}, more than a package database can be ({} or {} raise the limit of {}); skipped",
                format_bytes(size),
                ScanLimits::FILE.flag,
                ScanLimits::FILE.env,
                format_bytes(max)
            )
        })
    }

    pub fn new(limits: ScanLimits) -> Self {
        Self {
            inner: Arc::new(Inner {
                limits,
                kept: AtomicU64::new(0),
                stop: AtomicBool::new(false),
            }),
        }
    }

    pub fn limits(&self) -> &ScanLimits {
        &self.inner.limits
    }

    /// Bytes kept so far.
    pub fn kept(&self) -> u64 {
        self.inner.kept.load(Ordering::Relaxed)
    }

    /// Accounts for `n` more bytes kept for `what` (a file, a summary);
    /// past the scan's limit the scan ends with an error naming it.
    pub fn keep(&self, what: &str, n: u64) -> Result<(), SourceError> {
        let before = self.inner.kept.fetch_add(n, Ordering::Relaxed);
        let limit = self.inner.limits.max_kept_bytes;
        if before.saturating_add(n) > limit {
            return Err(SourceError::Limit {
                what: format!(
                    "keeping {what} ({}) would take the scan past {} of package data in memory",
                    format_bytes(n),
                    format_bytes(limit)
                ),
                setting: ScanLimits::MEMORY,
            });
        }
        Ok(())
    }

    /// Asks every reader of the scan to stop (cancelled, or out of time).
    pub fn stop(&self) {
        self.inner.stop.store(true, Ordering::Relaxed);
    }

    /// `Err(Stopped)` once [`Budget::stop`] was called; readers call it
    /// between entries.
    pub fn check(&self) -> Result<(), SourceError> {
        if self.inner.stop.load(Ordering::Relaxed) {
            Err(SourceError::Stopped)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_is_shared_and_names_what_went_past_it() {
        let b = Budget::new(ScanLimits {
            max_kept_bytes: 100,
            ..ScanLimits::default()
        });
        let other = b.clone();
        b.keep("/a", 60).unwrap();
        let e = other
            .keep("/var/lib/dpkg/status", 50)
            .unwrap_err()
            .to_string();
        assert!(e.contains("/var/lib/dpkg/status"), "{e}");
        assert!(e.contains("100 B"), "{e}");
        assert!(e.contains("VEDETTE_MAX_MEMORY"), "{e}");
        assert!(b.check().is_ok());
        other.stop();
        assert!(matches!(b.check(), Err(SourceError::Stopped)));
    }
}

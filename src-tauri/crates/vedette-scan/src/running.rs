//! The scans running in this process, so a front end can cancel one by id.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio_util::sync::CancellationToken;

/// Scan id → its cancellation token; cheap to clone.
#[derive(Clone, Default)]
pub struct Running(Arc<Mutex<HashMap<i64, CancellationToken>>>);

impl Running {
    /// Cancels the scan with this id; `false` when no such scan runs here.
    pub fn cancel(&self, scan_id: i64) -> bool {
        match self.lock().get(&scan_id) {
            Some(t) => {
                t.cancel();
                true
            }
            None => false,
        }
    }

    /// The ids of the scans running now.
    pub fn ids(&self) -> Vec<i64> {
        let mut v: Vec<i64> = self.lock().keys().copied().collect();
        v.sort_unstable();
        v
    }

    /// Registers a scan until the returned guard is dropped.
    pub(crate) fn register(&self, scan_id: i64, token: CancellationToken) -> Registered {
        self.lock().insert(scan_id, token);
        Registered {
            running: self.clone(),
            scan_id,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, CancellationToken>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub(crate) struct Registered {
    running: Running,
    scan_id: i64,
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.running.lock().remove(&self.scan_id);
    }
}

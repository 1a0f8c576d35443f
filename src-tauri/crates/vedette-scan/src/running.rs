//! The scans running in this process, so a front end can cancel one by id,
//! and no target is scanned twice at once.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use tokio_util::sync::CancellationToken;

#[derive(Default)]
struct State {
    /// Scan id → its cancellation token.
    scans: HashMap<i64, CancellationToken>,
    /// Targets being scanned.
    targets: HashSet<i64>,
}

/// The scans running in this process; cheap to clone.
#[derive(Clone, Default)]
pub struct Running(Arc<Mutex<State>>);

impl Running {
    /// Cancels the scan with this id; `false` when no such scan runs here.
    pub fn cancel(&self, scan_id: i64) -> bool {
        match self.lock().scans.get(&scan_id) {
            Some(t) => {
                t.cancel();
                true
            }
            None => false,
        }
    }

    /// The ids of the scans running now.
    pub fn ids(&self) -> Vec<i64> {
        let mut v: Vec<i64> = self.lock().scans.keys().copied().collect();
        v.sort_unstable();
        v
    }

    /// Marks a target as being scanned until the guard is dropped; `None`
    /// when it is being scanned already.
    pub(crate) fn claim_target(&self, target_id: i64) -> Option<TargetClaim> {
        self.lock().targets.insert(target_id).then(|| TargetClaim {
            running: self.clone(),
            target_id,
        })
    }

    /// Registers a scan until the returned guard is dropped.
    pub(crate) fn register(&self, scan_id: i64, token: CancellationToken) -> Registered {
        self.lock().scans.insert(scan_id, token);
        Registered {
            running: self.clone(),
            scan_id,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub(crate) struct Registered {
    running: Running,
    scan_id: i64,
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.running.lock().scans.remove(&self.scan_id);
    }
}

pub(crate) struct TargetClaim {
    running: Running,
    target_id: i64,
}

impl Drop for TargetClaim {
    fn drop(&mut self) {
        self.running.lock().targets.remove(&self.target_id);
    }
}

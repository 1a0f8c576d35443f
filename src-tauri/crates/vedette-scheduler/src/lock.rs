//! One scheduler per data directory: `vedette serve` and the desktop app
//! take the same lock file, so two never fire the same schedules.

use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The scheduler lock of a data dir, held while the file is open.
#[derive(Debug)]
pub struct SchedulerLock {
    _file: std::fs::File,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("another Vedette scheduler runs for {data_dir} (pid {pid}); one per data dir. Stop it first, or use another --data-dir")]
    Held { data_dir: PathBuf, pid: String },
    #[error("cannot lock {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl SchedulerLock {
    /// Takes the lock of `data_dir` (writing our pid in it), or says who holds it.
    pub fn acquire(data_dir: &Path) -> Result<Self, LockError> {
        let path = data_dir.join("scheduler.lock");
        let io = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {
                // The PID is only there to name the holder in an error.
                if let Err(e) = file
                    .set_len(0)
                    .and_then(|()| writeln!(&file, "{}", std::process::id()))
                {
                    tracing::warn!(
                        "cannot write the scheduler's PID into {}: {e}",
                        path.display()
                    );
                }
                Ok(Self { _file: file })
            }
            Err(std::fs::TryLockError::WouldBlock) => Err(LockError::Held {
                data_dir: data_dir.to_owned(),
                pid: std::fs::read_to_string(&path)
                    .unwrap_or_default()
                    .trim()
                    .to_owned(),
            }),
            Err(std::fs::TryLockError::Error(e)) => Err(io(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_one_data_dir_names_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let held = SchedulerLock::acquire(dir.path()).unwrap();
        match SchedulerLock::acquire(dir.path()) {
            Err(LockError::Held { pid, .. }) => assert_eq!(pid, std::process::id().to_string()),
            other => panic!("{other:?}"),
        }
        drop(held);
        SchedulerLock::acquire(dir.path()).unwrap();
    }
}

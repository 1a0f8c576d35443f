//! One scheduler per history: `vedette serve` and the desktop app take the
//! same lock, so two never fire the same schedules. On SQLite it is a lock
//! file in the data dir; on a shared PostgreSQL it is the database's
//! advisory lock, whichever machine asks.

use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The scheduler lock, held while this lives.
#[derive(Debug)]
pub enum SchedulerLock {
    /// The data dir's lock file, held while the file is open.
    File(std::fs::File),
    /// The shared database's lock, held while its connection is open.
    Database(vedette_store::Leadership),
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("another Vedette scheduler runs for {data_dir} (pid {pid}); one per data dir. Stop it first, or use another --data-dir")]
    Held { data_dir: PathBuf, pid: String },
    #[error("another Vedette scheduler runs on {database} ({holder}); this one takes over when it stops")]
    HeldElsewhere { database: String, holder: String },
    #[error("cannot take the scheduler's lock of {database}: {source}")]
    Database {
        database: String,
        #[source]
        source: vedette_store::StoreError,
    },
    #[error("cannot lock {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl SchedulerLock {
    /// Takes the lock of the history `store` keeps: the database's own on
    /// PostgreSQL, else the data dir's lock file.
    pub async fn acquire_for(
        data_dir: &Path,
        store: &vedette_store::Store,
    ) -> Result<Self, LockError> {
        if !store.is_postgres() {
            return Self::acquire(data_dir);
        }
        let database = store.place().to_owned();
        match store.try_lead().await {
            Ok(Ok(lead)) => Ok(SchedulerLock::Database(lead)),
            Ok(Err(holder)) => Err(LockError::HeldElsewhere { database, holder }),
            Err(source) => Err(LockError::Database { database, source }),
        }
    }

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
                Ok(SchedulerLock::File(file))
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

//! Vedette's SQLite store.
//!
//! One file in the data directory, opened in WAL mode with a busy timeout;
//! migrations under `migrations/` are applied on open. Queries are checked at
//! compile time against `.sqlx/` (regenerate with `cargo sqlx prepare --workspace`).

mod credentials;
mod events;
mod history;
mod inventories;
mod nodes;
mod notify;
mod paths;
mod scans;
mod schedules;
mod targets;
mod tokens;
mod trends;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

pub use history::Rematch;
pub use nodes::{NewEnrolToken, TokenRefusal};
pub use notify::{Due, Queued};
pub use paths::{resolve_data_dir, DATA_DIR_ENV};
pub use trends::TrendScope;

/// File name of the database inside the data directory.
pub const DB_FILE: &str = "vedette.db";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database at {path}: {source}. Check that the data directory is writable and not on a read-only or network file system, or choose another with --data-dir / VEDETTE_DATA_DIR")]
    Open {
        path: PathBuf,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot bring the database at {path} up to date: {source}. If this database was written by a newer Vedette, run that version or start from another --data-dir")]
    Migrate {
        path: PathBuf,
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    #[error("the database could not be read or written ({0}); `vedette doctor` checks the data directory and the database")]
    Query(#[from] sqlx::Error),
    #[error("the database holds a value this version does not understand ({0}); was it written by a newer Vedette?")]
    Corrupt(String),
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Handle to the database; cheap to clone (a connection pool).
#[derive(Clone, Debug)]
pub struct Store {
    pool: SqlitePool,
    path: PathBuf,
    /// Finding sets and bodies known to be stored.
    known: history::KnownHashes,
}

impl Store {
    /// Opens (creating if needed) `vedette.db` inside `data_dir`.
    pub async fn open_in(data_dir: &Path) -> Result<Self> {
        Self::open(&data_dir.join(DB_FILE)).await
    }

    /// Opens (creating if needed) the database file at `path` and applies
    /// pending migrations.
    pub async fn open(path: &Path) -> Result<Self> {
        let open_err = |source| StoreError::Open {
            path: path.to_owned(),
            source,
        };
        let options = SqliteConnectOptions::from_str("sqlite:")
            .map_err(open_err)?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        // Migrations run on a connection of their own, closed after: one
        // that rewrote a table's definition in the schema (a widened CHECK)
        // keeps the old one in memory, and must not serve queries.
        let migrating = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await
            .map_err(open_err)?;
        sqlx::migrate!("./migrations")
            .run(&migrating)
            .await
            .map_err(|source| StoreError::Migrate {
                path: path.to_owned(),
                source,
            })?;
        migrating.close().await;
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(open_err)?;
        tracing::debug!(path = %path.display(), "database open");
        Ok(Self {
            pool,
            path: path.to_owned(),
            known: history::KnownHashes::default(),
        })
    }

    /// A write transaction. It begins IMMEDIATE: a deferred one that read
    /// first cannot upgrade once another connection has written
    /// (SQLITE_BUSY_SNAPSHOT), and the busy timeout does not cover that.
    async fn write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The version of the newest applied migration (its timestamp), 0 if none.
    pub async fn schema_version(&self) -> Result<i64> {
        let v = sqlx::query_scalar!(
            r#"SELECT MAX(version) AS "v: i64" FROM _sqlx_migrations WHERE success = 1"#
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(v.unwrap_or(0))
    }

    /// Runs `PRAGMA integrity_check`; `Ok(())` when SQLite answers "ok".
    pub async fn integrity_check(&self) -> Result<()> {
        let rows: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_all(&self.pool)
            .await?;
        if rows.len() == 1 && rows[0] == "ok" {
            Ok(())
        } else {
            Err(StoreError::Corrupt(format!(
                "integrity check of {}: {}",
                self.path.display(),
                rows.join("; ")
            )))
        }
    }

    /// SQLite's journal mode for this database ("wal" once opened by Vedette).
    pub async fn journal_mode(&self) -> Result<String> {
        Ok(sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&self.pool)
            .await?)
    }

    /// Closes the pool, checkpointing the WAL.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn parse_enum<T>(value: &str, parse: impl Fn(&str) -> Option<T>, what: &str) -> Result<T> {
    parse(value).ok_or_else(|| StoreError::Corrupt(format!("{what} '{value}'")))
}

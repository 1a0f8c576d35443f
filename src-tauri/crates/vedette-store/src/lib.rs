//! Vedette's store: an SQLite file in the data directory (the default), or
//! a team's PostgreSQL database (`--database postgres://…`).
//!
//! SQLite is opened in WAL mode with a busy timeout; PostgreSQL with a pool
//! of connections, its tables in the connection's default schema. Each
//! database has its own migrations (`migrations/`, `migrations-postgres/`),
//! applied on open. Every query is written once (see [`db`]); the store's
//! test suite runs against both databases.

mod copy;
mod credentials;
mod db;
mod events;
mod history;
mod inventories;
mod jobs;
mod leader;
mod nodes;
mod notify;
mod paths;
mod process;
mod scans;
mod schedules;
mod targets;
mod tokens;
mod trends;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

pub use db::redact_url;
use db::{on_pool, Pool, Tx};
pub use history::{EncodedReport, Rematch};
pub use inventories::LatestInventory;
pub use jobs::{Activity, Job, NewJob, QueueDepth};
pub use leader::Leadership;
pub use nodes::{NewEnrolToken, TokenRefusal};
pub use notify::{Due, Queued};
pub use paths::{resolve_data_dir, DATA_DIR_ENV};
pub use process::runner as process_name;
pub use trends::TrendScope;

/// Prepared statements kept per connection. A scan's findings are written
/// in multi-row statements whose shape follows the number of rows, so a
/// run meets a few hundred shapes; with sqlx's default of 100 they would
/// be prepared again and again (on PostgreSQL, a round trip each).
const STATEMENT_CACHE: usize = 1024;

/// File name of the database inside the data directory.
pub const DB_FILE: &str = "vedette.db";

/// The environment variable naming the database (`--database`).
pub const DATABASE_ENV: &str = "VEDETTE_DATABASE_URL";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database at {place}: {source}. Check that the data directory is writable and not on a read-only or network file system, or choose another with --data-dir / VEDETTE_DATA_DIR")]
    Open {
        place: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot connect to the PostgreSQL database {place}: {source}. Check that the server is up and reachable, and the user, database and password (PGPASSWORD or ~/.pgpass, never in the URL you log) in --database / VEDETTE_DATABASE_URL")]
    Connect {
        place: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("'{0}' is not a database Vedette can use: give a PostgreSQL URL (postgres://user@host:5432/db) or an SQLite file (sqlite:///path/vedette.db)")]
    Url(String),
    #[error("cannot bring the database at {place} up to date: {source}. If this database was written by a newer Vedette, run that version or start from another --data-dir")]
    Migrate {
        place: String,
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
    pool: Pool,
    /// The SQLite file; `None` on PostgreSQL.
    path: Option<PathBuf>,
    /// Where the database is, for messages (a PostgreSQL URL without its
    /// password).
    place: String,
    /// Finding sets and bodies known to be stored.
    known: history::KnownHashes,
}

/// Which database a `--database` value names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Database {
    /// An SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL URL.
    Postgres(String),
}

impl Database {
    /// Reads `postgres://…`/`postgresql://…` or `sqlite://PATH`/`sqlite:PATH`.
    pub fn parse(url: &str) -> Result<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Database::Postgres(url.to_owned()));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .filter(|p| !p.is_empty() && !p.starts_with(':'))
            .ok_or_else(|| StoreError::Url(redact_url(url)))?;
        Ok(Database::Sqlite(PathBuf::from(path)))
    }

    /// The database of `--database URL` when given, else `vedette.db` in
    /// the data directory.
    pub fn chosen(url: Option<&str>, data_dir: &Path) -> Result<Self> {
        match url {
            Some(u) if !u.trim().is_empty() => Self::parse(u.trim()),
            _ => Ok(Database::Sqlite(data_dir.join(DB_FILE))),
        }
    }

    /// Where it is, for messages: the file, or the URL without a password.
    pub fn place(&self) -> String {
        match self {
            Database::Sqlite(p) => p.display().to_string(),
            Database::Postgres(u) => redact_url(u),
        }
    }
}

impl Store {
    /// Opens (creating if needed) `vedette.db` inside `data_dir`.
    pub async fn open_in(data_dir: &Path) -> Result<Self> {
        Self::open(&data_dir.join(DB_FILE)).await
    }

    /// Opens whichever database `db` names and applies pending migrations.
    pub async fn connect(db: &Database) -> Result<Self> {
        match db {
            Database::Sqlite(path) => Self::open(path).await,
            Database::Postgres(url) => Self::open_postgres(url).await,
        }
    }

    /// Opens (creating if needed) the database file at `path` and applies
    /// pending migrations.
    pub async fn open(path: &Path) -> Result<Self> {
        let place = path.display().to_string();
        let open_err = |source| StoreError::Open {
            place: place.clone(),
            source,
        };
        let options = SqliteConnectOptions::from_str("sqlite:")
            .map_err(open_err)?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            .statement_cache_capacity(STATEMENT_CACHE);
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
                place: place.clone(),
                source,
            })?;
        migrating.close().await;
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(open_err)?;
        tracing::debug!(path = %place, "database open");
        Ok(Self {
            pool: Pool::Sqlite(pool),
            path: Some(path.to_owned()),
            place,
            known: history::KnownHashes::default(),
        })
    }

    /// Connects to PostgreSQL at `url` and applies pending migrations
    /// (under PostgreSQL's advisory lock: several workers starting at once
    /// migrate once).
    pub async fn open_postgres(url: &str) -> Result<Self> {
        let place = redact_url(url);
        let connect_err = |source| StoreError::Connect {
            place: place.clone(),
            source,
        };
        let options = PgConnectOptions::from_str(url)
            .map_err(connect_err)?
            .application_name("vedette")
            .statement_cache_capacity(STATEMENT_CACHE);
        // One connection first: a server that refuses or a wrong password
        // is said at once (the pool would retry until its timeout).
        use sqlx::Connection;
        sqlx::PgConnection::connect_with(&options)
            .await
            .map_err(connect_err)?
            .close()
            .await
            .map_err(connect_err)?;
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(15))
            .connect_with(options)
            .await
            .map_err(connect_err)?;
        sqlx::migrate!("./migrations-postgres")
            .run(&pool)
            .await
            .map_err(|source| StoreError::Migrate {
                place: place.clone(),
                source,
            })?;
        tracing::debug!(database = %place, "database open");
        Ok(Self {
            pool: Pool::Postgres(pool),
            path: None,
            place,
            known: history::KnownHashes::default(),
        })
    }

    /// A write transaction (see [`Pool::write`]).
    async fn write(&self) -> Result<Tx> {
        Ok(self.pool.write().await?)
    }

    /// The SQLite file; `None` on PostgreSQL.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Where the database is, for messages: the file, or the PostgreSQL URL
    /// without its password.
    pub fn place(&self) -> &str {
        &self.place
    }

    /// Whether this store is a PostgreSQL database.
    pub fn is_postgres(&self) -> bool {
        self.pool.is_postgres()
    }

    /// The version of the newest applied migration (its timestamp), 0 if none.
    pub async fn schema_version(&self) -> Result<i64> {
        let v: Option<i64> = on_pool!(&self.pool, |c| {
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
                .fetch_one(c)
                .await?
        });
        Ok(v.unwrap_or(0))
    }

    /// Brings PostgreSQL's statistics of the history's tables up to date
    /// (`ANALYZE`) after a bulk of writes (a re-match of the fleet, a
    /// copy): autovacuum analyzes a table a minute or more after it grew,
    /// and until then the planner may take it for small and read it whole
    /// for each lookup by key (a re-match straight after the fleet's first
    /// one spent a third of its time so). SQLite needs nothing.
    pub async fn refresh_statistics(&self) -> Result<()> {
        if let Pool::Postgres(p) = &self.pool {
            sqlx::query(
                "ANALYZE targets, scans, inventories, finding_sets, finding_set_members, finding_bodies",
            )
            .execute(p)
            .await?;
        }
        Ok(())
    }

    /// Checks the database: SQLite's `PRAGMA integrity_check` answers "ok";
    /// PostgreSQL answers a query (it checks its own pages).
    pub async fn integrity_check(&self) -> Result<()> {
        let rows: Vec<String> = match &self.pool {
            Pool::Sqlite(p) => {
                sqlx::query_scalar("PRAGMA integrity_check")
                    .fetch_all(p)
                    .await?
            }
            Pool::Postgres(p) => sqlx::query_scalar("SELECT 'ok'::text").fetch_all(p).await?,
        };
        if rows.len() == 1 && rows[0] == "ok" {
            Ok(())
        } else {
            Err(StoreError::Corrupt(format!(
                "integrity check of {}: {}",
                self.place,
                rows.join("; ")
            )))
        }
    }

    /// SQLite's journal mode for this database ("wal" once opened by
    /// Vedette); "postgresql" on PostgreSQL.
    pub async fn journal_mode(&self) -> Result<String> {
        match &self.pool {
            Pool::Sqlite(p) => Ok(sqlx::query_scalar("PRAGMA journal_mode")
                .fetch_one(p)
                .await?),
            Pool::Postgres(_) => Ok("postgresql".to_owned()),
        }
    }

    /// Closes the pool (on SQLite, checkpointing the WAL).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn parse_enum<T>(value: &str, parse: impl Fn(&str) -> Option<T>, what: &str) -> Result<T> {
    parse(value).ok_or_else(|| StoreError::Corrupt(format!("{what} '{value}'")))
}

//! One scheduler at a time on a shared database: a PostgreSQL session
//! advisory lock, held on a connection of its own for as long as the
//! scheduler runs. When its process dies (even `kill -9`) the connection
//! closes, PostgreSQL lets go of the lock, and a scheduler waiting on
//! another machine takes it.

use sqlx::{Connection, PgConnection};

use crate::db::Pool;
use crate::{Result, Store, StoreError};

/// The lock's key ("schedule" in ASCII).
const SCHEDULER: i64 = 0x7363_6865_6475_6c65;

/// The schedules are this process's to run while this is held.
#[derive(Debug)]
pub struct Leadership {
    _connection: PgConnection,
}

impl Store {
    /// Takes the scheduler's lock of this PostgreSQL database, or says
    /// which process holds it (`Err(holder)`, as PostgreSQL knows it).
    /// Only PostgreSQL has it: on SQLite the data dir's lock file is the
    /// scheduler's lock.
    pub async fn try_lead(&self) -> Result<std::result::Result<Leadership, String>> {
        let Pool::Postgres(pool) = &self.pool else {
            return Err(StoreError::Invalid(
                "the scheduler's database lock is PostgreSQL's; SQLite's is the data dir's lock file"
                    .into(),
            ));
        };
        let options = pool
            .connect_options()
            .as_ref()
            .clone()
            .application_name(&format!("vedette scheduler {}", crate::process::runner()));
        let mut connection = PgConnection::connect_with(&options).await?;
        let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(SCHEDULER)
            .fetch_one(&mut connection)
            .await?;
        if got {
            return Ok(Ok(Leadership {
                _connection: connection,
            }));
        }
        let holder: Option<String> = sqlx::query_scalar(
            "SELECT a.application_name::text FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
             WHERE l.locktype = 'advisory' AND l.granted
               AND ((l.classid::bigint << 32) | l.objid::bigint) = $1",
        )
        .bind(SCHEDULER)
        .fetch_optional(&mut connection)
        .await?;
        connection.close().await?;
        Ok(Err(holder.unwrap_or_else(|| "another process".into())))
    }
}

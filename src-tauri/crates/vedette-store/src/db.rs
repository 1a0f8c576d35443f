//! The two databases the store runs on: an SQLite file (the default, one
//! machine) and PostgreSQL (a team's shared store). Every query is written
//! once, in the SQL both understand (`$1` placeholders, `ON CONFLICT`,
//! `RETURNING`), and [`on_pool!`]/[`on_tx!`] compile it for each.

use chrono::{DateTime, SubsecRound, Utc};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};

/// Now, to the microsecond: PostgreSQL keeps microseconds, and SQLite is
/// given the same, so that a history reads the same from either (and
/// from a copy).
pub(crate) fn now() -> DateTime<Utc> {
    micros(Utc::now())
}

/// `t` to the microsecond (see [`now`]).
pub(crate) fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(6)
}

/// A connection pool of either database.
#[derive(Clone, Debug)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A write transaction of either database.
pub(crate) enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// Key of the transaction-scoped advisory lock every PostgreSQL write
/// transaction takes first, so that writers follow one another as SQLite's
/// `BEGIN IMMEDIATE` makes them ("vedette" in ASCII).
const WRITE_LOCK: i64 = 0x0076_6564_6574_7465;

impl Pool {
    pub(crate) fn is_postgres(&self) -> bool {
        matches!(self, Pool::Postgres(_))
    }

    /// Begins a write transaction. SQLite's begins IMMEDIATE: a deferred one
    /// that read first cannot upgrade once another connection has written
    /// (SQLITE_BUSY_SNAPSHOT). PostgreSQL's takes the write lock, so a
    /// read-then-write inside it sees no other writer in between.
    pub(crate) async fn write(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Pool::Sqlite(p) => Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
            Pool::Postgres(p) => Tx::Postgres(write_postgres(p).await?),
        })
    }

    pub(crate) async fn close(&self) {
        match self {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
    }
}

/// A PostgreSQL write transaction: it holds the write lock.
pub(crate) async fn write_postgres(
    p: &PgPool,
) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    let mut tx = p.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(WRITE_LOCK)
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

impl Tx {
    /// Values bound in one statement at most. sqlx looks each parameter's
    /// name up in SQLite's list of the statement's parameters, a walk along
    /// the list, so binding a statement takes time in the square of its
    /// parameters (2,000 took milliseconds, more than running it): a few
    /// hundred keep it in proportion. On PostgreSQL each statement is a
    /// round trip, and thousands cost nothing more per value.
    pub(crate) fn max_params(&self) -> usize {
        match self {
            Tx::Sqlite(_) => 256,
            Tx::Postgres(_) => 4096,
        }
    }

    /// Rows of `columns` values each in one multi-row statement.
    pub(crate) fn rows_per_statement(&self, columns: usize) -> usize {
        (self.max_params() / columns.max(1)).max(1)
    }

    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(t) => t.commit().await,
            Tx::Postgres(t) => t.commit().await,
        }
    }
}

/// Evaluates `$body` with `$c` bound to the pool of whichever database the
/// store runs on (`&SqlitePool` or `&PgPool`); the body is compiled once for
/// each.
macro_rules! on_pool {
    ($pool:expr, |$c:ident| $body:expr) => {
        match $pool {
            $crate::db::Pool::Sqlite($c) => $body,
            $crate::db::Pool::Postgres($c) => $body,
        }
    };
}

/// Evaluates `$body` with `$c` bound to the transaction's connection
/// (`&mut SqliteConnection` or `&mut PgConnection`); use it as `&mut *$c`.
macro_rules! on_tx {
    ($tx:expr, |$c:ident| $body:expr) => {
        match $tx {
            $crate::db::Tx::Sqlite(t) => {
                let $c = &mut **t;
                $body
            }
            $crate::db::Tx::Postgres(t) => {
                let $c = &mut **t;
                $body
            }
        }
    };
}

pub(crate) use {on_pool, on_tx};

/// `$1, $2, …`: an `IN` list of `n` values.
pub(crate) fn list(n: usize) -> String {
    (1..=n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `($1, $2), ($3, $4), …`: the VALUES of a multi-row insert of `rows` rows
/// of `columns` values each.
pub(crate) fn values(rows: usize, columns: usize) -> String {
    let mut s = String::with_capacity(rows * columns * 5);
    for r in 0..rows {
        if r > 0 {
            s.push_str(", ");
        }
        s.push('(');
        for c in 0..columns {
            if c > 0 {
                s.push_str(", ");
            }
            s.push('$');
            s.push_str(&(r * columns + c + 1).to_string());
        }
        s.push(')');
    }
    s
}

/// The URL with its password replaced, for messages and logs.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => match u.set_password(Some("***")) {
            Ok(()) => u.to_string(),
            Err(()) => "(a database URL with a password)".to_owned(),
        },
        Ok(u) => u.to_string(),
        Err(_) => "(a database URL that does not parse)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_number_every_placeholder_in_order() {
        assert_eq!(values(2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(values(1, 1), "($1)");
        assert_eq!(list(3), "$1, $2, $3");
    }

    #[test]
    fn a_password_never_leaves_the_url() {
        assert_eq!(
            redact_url("postgres://vedette:s3cret@db.example:5432/vedette"),
            "postgres://vedette:***@db.example:5432/vedette"
        );
        assert_eq!(
            redact_url("postgres://db.example/vedette"),
            "postgres://db.example/vedette"
        );
    }
}

//! `vedette db copy`: a laptop's SQLite history into a team's empty
//! PostgreSQL database, in one transaction.

use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use sqlx::postgres::PgArguments;
use sqlx::query::Query;
use sqlx::{Postgres, Row};

use crate::db::Pool;
use crate::{Result, Store, StoreError};

/// Every table, each after those it refers to (the order of PostgreSQL's
/// initial migration).
const TABLES: &[&str] = &[
    "targets",
    "credentials",
    "inventories",
    "finding_bodies",
    "finding_sets",
    "finding_set_members",
    "scans",
    "scan_new_findings",
    "schedules",
    "events",
    "api_tokens",
    "enrol_tokens",
    "nodes",
    "gate",
    "gate_actions",
    "exposure_pins",
    "notify_channels",
    "notify_rules",
    "notify_cursor",
    "notify_digest_items",
    "notify_outbox",
    "app_settings",
    "registry_tags",
    "registry_crawl_cursors",
    "jobs",
];

/// Rows per INSERT (PostgreSQL takes at most 65,535 parameters).
const BATCH: usize = 500;

/// One value read from SQLite, typed as the PostgreSQL column wants it.
enum Value {
    Int(Option<i64>),
    Bool(Option<bool>),
    Float(Option<f64>),
    Text(Option<String>),
    Time(Option<DateTime<Utc>>),
    Bytes(Option<Vec<u8>>),
}

impl Value {
    fn bind<'q>(self, q: Query<'q, Postgres, PgArguments>) -> Query<'q, Postgres, PgArguments> {
        match self {
            Value::Int(v) => q.bind(v),
            Value::Bool(v) => q.bind(v),
            Value::Float(v) => q.bind(v),
            Value::Text(v) => q.bind(v),
            Value::Time(v) => q.bind(v),
            Value::Bytes(v) => q.bind(v),
        }
    }
}

fn read(row: &sqlx::sqlite::SqliteRow, table: &str, i: usize, ty: &str) -> Result<Value> {
    let bad = |e: sqlx::Error| {
        StoreError::Corrupt(format!(
            "{table}: column {} does not read as {ty}: {e}",
            i + 1
        ))
    };
    Ok(match ty {
        "bigint" | "integer" => Value::Int(row.try_get(i).map_err(bad)?),
        "boolean" => Value::Bool(row.try_get(i).map_err(bad)?),
        "double precision" => Value::Float(row.try_get(i).map_err(bad)?),
        "text" => Value::Text(row.try_get(i).map_err(bad)?),
        "timestamp with time zone" => Value::Time(row.try_get(i).map_err(bad)?),
        "bytea" => Value::Bytes(row.try_get(i).map_err(bad)?),
        other => {
            return Err(StoreError::Invalid(format!(
                "{table}: PostgreSQL column type {other} has no copy"
            )))
        }
    })
}

impl Store {
    /// Copies every row of this SQLite history into `to`, an empty
    /// PostgreSQL database, in one transaction (all or nothing); rows
    /// copied per table. Ids are kept, and PostgreSQL's id sequences moved
    /// past them.
    pub async fn copy_into(&self, to: &Store) -> Result<Vec<(&'static str, i64)>> {
        let (Pool::Sqlite(from), Pool::Postgres(dst)) = (&self.pool, &to.pool) else {
            return Err(StoreError::Invalid(
                "a history is copied from an SQLite file into PostgreSQL".into(),
            ));
        };
        let mut tx = crate::db::write_postgres(dst).await?;
        let used: i64 = sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM targets) + (SELECT COUNT(*) FROM scans)
                    + (SELECT COUNT(*) FROM events)",
        )
        .fetch_one(&mut *tx)
        .await?;
        if used > 0 {
            return Err(StoreError::Invalid(format!(
                "{} already holds a history ({used} targets, scans and events); copy into an empty database, or drop and create it again",
                to.place
            )));
        }
        // The rows the migrations seeded (the system schedule, the gate's
        // settings, the notification cursor) come from the copy.
        for table in TABLES.iter().rev() {
            sqlx::query(&format!("DELETE FROM {table}"))
                .execute(&mut *tx)
                .await?;
        }
        let mut copied = Vec::with_capacity(TABLES.len());
        for &table in TABLES {
            let columns: Vec<(String, String)> = sqlx::query_as(
                "SELECT column_name::text, data_type::text FROM information_schema.columns
                 WHERE table_schema = current_schema() AND table_name = $1
                 ORDER BY ordinal_position",
            )
            .bind(table)
            .fetch_all(&mut *tx)
            .await?;
            let list = columns
                .iter()
                .map(|(c, _)| c.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            let select = format!("SELECT {list} FROM {table}");
            let mut rows = sqlx::query(&select).fetch(from);
            let mut batch: Vec<Vec<Value>> = Vec::with_capacity(BATCH);
            let mut n = 0i64;
            while let Some(row) = rows.try_next().await? {
                let values = columns
                    .iter()
                    .enumerate()
                    .map(|(i, (_, ty))| read(&row, table, i, ty))
                    .collect::<Result<Vec<_>>>()?;
                batch.push(values);
                if batch.len() == BATCH {
                    n += insert(&mut tx, table, &list, columns.len(), &mut batch).await?;
                }
            }
            drop(rows);
            n += insert(&mut tx, table, &list, columns.len(), &mut batch).await?;
            if columns.iter().any(|(c, _)| c == "id") {
                // Identity columns: the next id follows the copied ones.
                sqlx::query(&format!(
                    "SELECT setval(s, COALESCE((SELECT MAX(id) FROM {table}), 1),
                                   (SELECT MAX(id) FROM {table}) IS NOT NULL)
                     FROM (SELECT pg_get_serial_sequence($1, 'id') AS s) q WHERE s IS NOT NULL"
                ))
                .bind(table)
                .execute(&mut *tx)
                .await?;
            }
            copied.push((table, n));
        }
        tx.commit().await?;
        to.refresh_statistics().await?;
        Ok(copied)
    }
}

async fn insert(
    tx: &mut sqlx::Transaction<'static, Postgres>,
    table: &str,
    list: &str,
    columns: usize,
    batch: &mut Vec<Vec<Value>>,
) -> Result<i64> {
    if batch.is_empty() {
        return Ok(0);
    }
    let sql = format!(
        "INSERT INTO {table} ({list}) OVERRIDING SYSTEM VALUE VALUES {}",
        crate::db::values(batch.len(), columns)
    );
    let mut q = sqlx::query(&sql);
    for row in batch.drain(..) {
        for v in row {
            q = v.bind(q);
        }
    }
    Ok(q.execute(&mut **tx).await?.rows_affected() as i64)
}

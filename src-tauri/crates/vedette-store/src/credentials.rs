use chrono::{DateTime, Utc};
use vedette_model::{CredentialInfo, CredentialKind};

use crate::db::on_pool;
use crate::{parse_enum, Result, Store};

#[derive(sqlx::FromRow)]
struct Row {
    name: String,
    kind: String,
    host: String,
    username: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl Store {
    /// Every credential reference, ordered by name.
    pub async fn list_credentials(&self) -> Result<Vec<CredentialInfo>> {
        let rows: Vec<Row> = on_pool!(&self.pool, |c| sqlx::query_as(
            "SELECT name, kind, host, username, created_at, updated_at
             FROM credentials ORDER BY name"
        )
        .fetch_all(c)
        .await?);
        rows.into_iter()
            .map(|r| {
                Ok(CredentialInfo {
                    kind: parse_enum(&r.kind, CredentialKind::parse, "credential kind")?,
                    name: r.name,
                    host: r.host,
                    username: r.username,
                    created_at: r.created_at,
                    updated_at: r.updated_at,
                })
            })
            .collect()
    }

    /// Adds a credential reference, or updates the user name of an existing one
    /// (keeping its creation time). Returns the stored row.
    pub async fn upsert_credential(
        &self,
        name: &str,
        kind: CredentialKind,
        host: &str,
        username: &str,
    ) -> Result<CredentialInfo> {
        let now = crate::db::now();
        let kind_str = kind.as_str();
        let created_at: DateTime<Utc> = on_pool!(&self.pool, |c| sqlx::query_scalar(
            "INSERT INTO credentials (name, kind, host, username, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $5)
             ON CONFLICT (name) DO UPDATE SET
                 kind = excluded.kind, host = excluded.host,
                 username = excluded.username, updated_at = excluded.updated_at
             RETURNING created_at"
        )
        .bind(name)
        .bind(kind_str)
        .bind(host)
        .bind(username)
        .bind(now)
        .fetch_one(c)
        .await?);
        Ok(CredentialInfo {
            name: name.to_owned(),
            kind,
            host: host.to_owned(),
            username: username.to_owned(),
            created_at,
            updated_at: now,
        })
    }

    /// Removes a credential reference; `false` when there was none.
    pub async fn delete_credential(&self, name: &str) -> Result<bool> {
        let done = on_pool!(&self.pool, |c| sqlx::query(
            "DELETE FROM credentials WHERE name = $1"
        )
        .bind(name)
        .execute(c)
        .await
        .map(|r| r.rows_affected())?);
        Ok(done > 0)
    }

    pub async fn count_credentials(&self) -> Result<i64> {
        Ok(on_pool!(&self.pool, |c| sqlx::query_scalar(
            "SELECT COUNT(*) FROM credentials"
        )
        .fetch_one(c)
        .await?))
    }
}

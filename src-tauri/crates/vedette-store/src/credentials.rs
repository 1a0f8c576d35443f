use chrono::{DateTime, Utc};
use vedette_model::{CredentialInfo, CredentialKind};

use crate::{parse_enum, Result, Store};

impl Store {
    /// Every credential reference, ordered by name.
    pub async fn list_credentials(&self) -> Result<Vec<CredentialInfo>> {
        let rows = sqlx::query!(
            r#"SELECT name, kind, host, username,
                      created_at AS "created_at: DateTime<Utc>",
                      updated_at AS "updated_at: DateTime<Utc>"
               FROM credentials ORDER BY name"#
        )
        .fetch_all(&self.pool)
        .await?;
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
        let now = Utc::now();
        let kind_str = kind.as_str();
        sqlx::query!(
            r#"INSERT INTO credentials (name, kind, host, username, created_at, updated_at)
               VALUES (?1, ?2, ?3, ?4, ?5, ?5)
               ON CONFLICT (name) DO UPDATE SET
                   kind = excluded.kind, host = excluded.host,
                   username = excluded.username, updated_at = excluded.updated_at"#,
            name,
            kind_str,
            host,
            username,
            now
        )
        .execute(&self.pool)
        .await?;
        let r = sqlx::query!(
            r#"SELECT created_at AS "created_at: DateTime<Utc>" FROM credentials WHERE name = ?1"#,
            name
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(CredentialInfo {
            name: name.to_owned(),
            kind,
            host: host.to_owned(),
            username: username.to_owned(),
            created_at: r.created_at,
            updated_at: now,
        })
    }

    /// Removes a credential reference; `false` when there was none.
    pub async fn delete_credential(&self, name: &str) -> Result<bool> {
        let done = sqlx::query!("DELETE FROM credentials WHERE name = ?1", name)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn count_credentials(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar!(r#"SELECT COUNT(*) AS "n: i64" FROM credentials"#)
                .fetch_one(&self.pool)
                .await?,
        )
    }
}

//! API tokens: a name, a scope and the SHA-256 of the token (never the
//! token itself).

use chrono::{DateTime, Utc};
use vedette_model::{ApiToken, TokenScope};

use crate::db::on_pool;
use crate::{Result, Store, StoreError};

type Row = (
    i64,
    String,
    String,
    String,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
);

const COLUMNS: &str = "id, name, scope, prefix, created_at, last_used_at, revoked_at";

fn token((id, name, scope, prefix, created_at, last_used_at, revoked_at): Row) -> Result<ApiToken> {
    Ok(ApiToken {
        id,
        scope: TokenScope::parse(&scope)
            .ok_or_else(|| StoreError::Corrupt(format!("token scope {scope}")))?,
        name,
        prefix,
        created_at,
        last_used_at,
        revoked_at,
    })
}

impl Store {
    /// Stores a new token's hash; refused when a live token has the name.
    pub async fn add_api_token(
        &self,
        name: &str,
        scope: TokenScope,
        hash: &[u8; 32],
        prefix: &str,
    ) -> Result<ApiToken> {
        let sql = format!(
            "INSERT INTO api_tokens (name, scope, hash, prefix, created_at) VALUES ($1, $2, $3, $4, $5)
             RETURNING {COLUMNS}"
        );
        let row: std::result::Result<Row, sqlx::Error> =
            on_pool!(&self.pool, |c| sqlx::query_as(&sql)
                .bind(name)
                .bind(scope.as_str())
                .bind(&hash[..])
                .bind(prefix)
                .bind(crate::db::now())
                .fetch_one(c)
                .await);
        match row {
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                Err(StoreError::Invalid(format!(
                    "a token named '{name}' exists already; revoke it first or choose another name"
                )))
            }
            r => token(r?),
        }
    }

    /// Every token, revoked ones too, newest first.
    pub async fn api_tokens(&self) -> Result<Vec<ApiToken>> {
        let sql = format!("SELECT {COLUMNS} FROM api_tokens ORDER BY id DESC");
        let rows: Vec<Row> = on_pool!(&self.pool, |c| sqlx::query_as(&sql).fetch_all(c).await?);
        rows.into_iter().map(token).collect()
    }

    /// The token with this hash, revoked or not.
    pub async fn api_token_by_hash(&self, hash: &[u8; 32]) -> Result<Option<ApiToken>> {
        let sql = format!("SELECT {COLUMNS} FROM api_tokens WHERE hash = $1");
        let row: Option<Row> = on_pool!(&self.pool, |c| sqlx::query_as(&sql)
            .bind(&hash[..])
            .fetch_optional(c)
            .await?);
        row.map(token).transpose()
    }

    /// Records that the token was used at `at`.
    pub async fn touch_api_token(&self, id: i64, at: DateTime<Utc>) -> Result<()> {
        on_pool!(&self.pool, |c| sqlx::query(
            "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2"
        )
        .bind(crate::db::micros(at))
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected())?);
        Ok(())
    }

    /// Revokes the live token named `name` (or with that id); `false` when
    /// there is none.
    pub async fn revoke_api_token(&self, name_or_id: &str) -> Result<bool> {
        self.revoke_in("api_tokens", name_or_id).await
    }

    /// Revokes the live row of a token table (`api_tokens`,
    /// `enrol_tokens`) named `name_or_id` or with that id.
    pub(crate) async fn revoke_in(&self, table: &'static str, name_or_id: &str) -> Result<bool> {
        let id: Option<i64> = name_or_id.parse().ok();
        let sql = format!(
            "UPDATE {table} SET revoked_at = $1
             WHERE revoked_at IS NULL AND (name = $2 OR id = $3)"
        );
        let n = on_pool!(&self.pool, |c| sqlx::query(&sql)
            .bind(crate::db::now())
            .bind(name_or_id)
            .bind(id)
            .execute(c)
            .await
            .map(|r| r.rows_affected())?);
        Ok(n > 0)
    }
}

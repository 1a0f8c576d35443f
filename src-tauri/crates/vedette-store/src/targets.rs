use chrono::{DateTime, Utc};
use vedette_model::{Exposure, TargetInfo, TargetKind};

use crate::{parse_enum, Result, Store, StoreError};

impl Store {
    pub async fn list_targets(&self) -> Result<Vec<TargetInfo>> {
        let rows = sqlx::query!(
            r#"SELECT id AS "id!: i64", kind, name, exposure,
                      created_at AS "created_at: DateTime<Utc>"
               FROM targets ORDER BY kind, name"#
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(TargetInfo {
                    id: r.id,
                    kind: parse_enum(&r.kind, TargetKind::parse, "target kind")?,
                    name: r.name,
                    exposure: parse_enum(&r.exposure, Exposure::parse, "exposure")?,
                    created_at: r.created_at,
                })
            })
            .collect()
    }

    /// Adds a target; a target of the same kind and name is refused.
    pub async fn add_target(
        &self,
        kind: TargetKind,
        name: &str,
        exposure: Exposure,
    ) -> Result<TargetInfo> {
        let name = name.trim();
        if name.is_empty() {
            return Err(StoreError::Invalid("a target needs a name".into()));
        }
        let now = Utc::now();
        let (kind_str, exposure_str) = (kind.as_str(), exposure.as_str());
        let id = sqlx::query_scalar!(
            r#"INSERT INTO targets (kind, name, exposure, created_at) VALUES (?1, ?2, ?3, ?4)
               ON CONFLICT (kind, name) DO NOTHING
               RETURNING id AS "id!: i64""#,
            kind_str,
            name,
            exposure_str,
            now
        )
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| {
            StoreError::Invalid(format!("the {kind_str} target '{name}' is already watched"))
        })?;
        Ok(TargetInfo {
            id,
            kind,
            name: name.to_owned(),
            exposure,
            created_at: now,
        })
    }

    /// Whether a target is internet-facing or internal (it weighs on risk).
    pub async fn target_exposure(&self, id: i64) -> Result<Exposure> {
        let e = sqlx::query_scalar!("SELECT exposure FROM targets WHERE id = ?1", id)
            .fetch_one(&self.pool)
            .await?;
        parse_enum(&e, Exposure::parse, "exposure")
    }

    pub async fn set_target_exposure(&self, id: i64, exposure: Exposure) -> Result<()> {
        let e = exposure.as_str();
        sqlx::query!("UPDATE targets SET exposure = ?1 WHERE id = ?2", e, id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn count_targets(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar!(r#"SELECT COUNT(*) AS "n: i64" FROM targets"#)
                .fetch_one(&self.pool)
                .await?,
        )
    }
}

use vedette_model::{Exposure, Inventory, TargetKind};

use crate::db::{on_pool, on_tx};
use crate::{Result, Store, StoreError};

impl Store {
    /// The id of the target of `kind` named `name`, adding it if new.
    pub async fn ensure_target(&self, kind: TargetKind, name: &str) -> Result<i64> {
        let kind_str = kind.as_str();
        let existing: Option<i64> = on_pool!(&self.pool, |c| sqlx::query_scalar(
            "SELECT id FROM targets WHERE kind = $1 AND name = $2"
        )
        .bind(kind_str)
        .bind(name)
        .fetch_optional(c)
        .await?);
        if let Some(id) = existing {
            return Ok(id);
        }
        Ok(self.add_target(kind, name, Exposure::Internal).await?.id)
    }

    /// Stores a scan's inventory and marks the scan succeeded, in one
    /// transaction. An inventory with the same digest and extractor version
    /// is stored once (the newest body wins). Returns the inventory id.
    pub async fn complete_scan(&self, scan_id: i64, inventory: &Inventory) -> Result<i64> {
        let body = serde_json::to_string(inventory)
            .map_err(|e| StoreError::Invalid(format!("cannot encode the inventory: {e}")))?;
        let version = i64::from(inventory.extractor_version);
        let count = inventory.packages.len() as i64;
        let now = crate::db::now();
        let mut tx = self.write().await?;
        let id: i64 = on_tx!(&mut tx, |c| {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO inventories (digest, extractor_version, body, package_count, created_at)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (digest, extractor_version) DO UPDATE SET
                     body = excluded.body, package_count = excluded.package_count,
                     created_at = excluded.created_at
                 RETURNING id",
            )
            .bind(&inventory.digest)
            .bind(version)
            .bind(&body)
            .bind(count)
            .bind(now)
            .fetch_one(&mut *c)
            .await?;
            sqlx::query(
                "UPDATE scans SET state = 'succeeded', finished_at = $1, inventory_id = $2, error = NULL WHERE id = $3",
            )
            .bind(now)
            .bind(id)
            .bind(scan_id)
            .execute(&mut *c)
            .await.map(|r| r.rows_affected())?;
            id
        });
        tx.commit().await?;
        Ok(id)
    }

    /// The stored inventory for `digest` made by catalogers of `extractor_version`.
    pub async fn inventory_by_digest(
        &self,
        digest: &str,
        extractor_version: u32,
    ) -> Result<Option<Inventory>> {
        let version = i64::from(extractor_version);
        let body: Option<String> = on_pool!(&self.pool, |c| sqlx::query_scalar(
            "SELECT body FROM inventories WHERE digest = $1 AND extractor_version = $2"
        )
        .bind(digest)
        .bind(version)
        .fetch_optional(c)
        .await?);
        body.map(|b| decode(&b)).transpose()
    }

    /// The inventory a scan read (none for a scan that did not succeed).
    pub async fn scan_inventory(&self, scan_id: i64) -> Result<Option<Inventory>> {
        let body: Option<String> = on_pool!(&self.pool, |c| {
            sqlx::query_scalar(
            "SELECT i.body FROM scans s JOIN inventories i ON i.id = s.inventory_id WHERE s.id = $1"
        )
        .bind(scan_id)
        .fetch_optional(c)
        .await?
        });
        body.map(|b| decode(&b)).transpose()
    }

    /// The inventory of the newest successful scan of a target.
    pub async fn latest_inventory(&self, target_id: i64) -> Result<Option<Inventory>> {
        let body: Option<String> = on_pool!(&self.pool, |c| sqlx::query_scalar(
            "SELECT i.body FROM scans s JOIN inventories i ON i.id = s.inventory_id
             WHERE s.target_id = $1 AND s.state = 'succeeded'
             ORDER BY s.finished_at DESC, s.id DESC LIMIT 1"
        )
        .bind(target_id)
        .fetch_optional(c)
        .await?);
        body.map(|b| decode(&b)).transpose()
    }

    /// The newest successful inventory of each target whose id is above
    /// `after`, `limit` targets in the order of their ids: a fleet is read a
    /// page at a time (pass the last id of one page to get the next), so
    /// what is held stays bounded whatever the fleet's size.
    pub async fn latest_inventories_after(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<LatestInventory>> {
        let rows: Vec<LatestRow> = on_pool!(&self.pool, |c| {
            sqlx::query_as(
                    "SELECT t.id, t.exposure, s.feed_version, s.exposure AS matched_as, i.id AS inventory_id, i.body FROM targets t
                     JOIN scans s ON s.id = (
                       SELECT s2.id FROM scans s2 WHERE s2.target_id = t.id AND s2.state = 'succeeded'
                       ORDER BY s2.finished_at DESC, s2.id DESC LIMIT 1)
                     JOIN inventories i ON i.id = s.inventory_id
                     WHERE t.id > $1 ORDER BY t.id LIMIT $2",
                )
                .bind(after)
                .bind(limit)
                .fetch_all(c)
                .await?
        });
        rows.into_iter()
            .map(|r| {
                let matched = match (r.feed_version, r.matched_as) {
                    (Some(v), Some(e)) => {
                        Some((v, crate::parse_enum(&e, Exposure::parse, "exposure")?))
                    }
                    _ => None,
                };
                Ok(LatestInventory {
                    target_id: r.id,
                    inventory_id: r.inventory_id,
                    exposure: crate::parse_enum(&r.exposure, Exposure::parse, "exposure")?,
                    inventory: decode(&r.body)?,
                    matched,
                })
            })
            .collect()
    }
}

/// A row of [`Store::latest_inventories_after`].
#[derive(sqlx::FromRow)]
struct LatestRow {
    id: i64,
    exposure: String,
    feed_version: Option<String>,
    matched_as: Option<String>,
    inventory_id: i64,
    body: String,
}

/// The newest stored inventory of a target, and how it was last matched.
#[derive(Debug, Clone)]
pub struct LatestInventory {
    pub target_id: i64,
    /// The stored inventory's id.
    pub inventory_id: i64,
    /// The target's exposure now.
    pub exposure: Exposure,
    pub inventory: Inventory,
    /// The feed version and exposure its scan was matched with; none when
    /// that scan was not matched.
    pub matched: Option<(String, Exposure)>,
}

fn decode(body: &str) -> Result<Inventory> {
    serde_json::from_str(body).map_err(|e| StoreError::Corrupt(format!("stored inventory: {e}")))
}

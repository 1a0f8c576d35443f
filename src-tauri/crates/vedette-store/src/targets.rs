use chrono::{DateTime, Utc};
use vedette_model::{EventKind, Exposure, Quarantine, RegistryWatch, TargetInfo, TargetKind};

use crate::db::{on_pool, on_tx, Pool};
use crate::{parse_enum, Result, Store, StoreError};

const COLUMNS: &str = "id, kind, name, exposure, spec, group_name, parent_id, created_at,
                       quarantined_at, quarantine_reason, insecure, platform";

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    kind: String,
    name: String,
    exposure: String,
    spec: String,
    group_name: Option<String>,
    parent_id: Option<i64>,
    created_at: DateTime<Utc>,
    quarantined_at: Option<DateTime<Utc>>,
    quarantine_reason: Option<String>,
    insecure: bool,
    platform: Option<String>,
}

impl Row {
    fn into_info(self) -> Result<TargetInfo> {
        let kind = parse_enum(&self.kind, TargetKind::parse, "target kind")?;
        let registry = if kind == TargetKind::Registry {
            Some(serde_json::from_str(&self.spec).map_err(|e| {
                StoreError::Corrupt(format!("the selector of registry {}: {e}", self.name))
            })?)
        } else {
            None
        };
        let host = if kind == TargetKind::Host {
            Some(serde_json::from_str(&self.spec).map_err(|e| {
                StoreError::Corrupt(format!("the settings of host {}: {e}", self.name))
            })?)
        } else {
            None
        };
        Ok(TargetInfo {
            id: self.id,
            kind,
            name: self.name,
            exposure: parse_enum(&self.exposure, Exposure::parse, "exposure")?,
            created_at: self.created_at,
            group: self.group_name,
            parent_id: self.parent_id,
            registry,
            host,
            quarantine: self.quarantined_at.map(|since| Quarantine {
                since,
                reason: self.quarantine_reason.unwrap_or_default(),
            }),
            insecure: self.insecure,
            platform: self.platform,
        })
    }
}

impl Store {
    pub async fn list_targets(&self) -> Result<Vec<TargetInfo>> {
        let sql = format!("SELECT {COLUMNS} FROM targets ORDER BY kind, name");
        let rows: Vec<Row> = on_pool!(&self.pool, |c| sqlx::query_as(&sql).fetch_all(c).await?);
        rows.into_iter().map(Row::into_info).collect()
    }

    pub async fn get_target(&self, id: i64) -> Result<Option<TargetInfo>> {
        let sql = format!("SELECT {COLUMNS} FROM targets WHERE id = $1");
        let row: Option<Row> = on_pool!(&self.pool, |c| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(c)
            .await?);
        row.map(Row::into_info).transpose()
    }

    /// Adds a registry target: the registry host and which of its images to
    /// scan. A registry can be watched once; edit it with
    /// [`Store::set_registry_watch`].
    pub async fn add_registry_target(
        &self,
        host: &str,
        watch: &RegistryWatch,
        group: Option<&str>,
        exposure: Exposure,
    ) -> Result<TargetInfo> {
        let host = host.trim().trim_end_matches('/');
        if host.is_empty() || host.contains("://") || host.contains('/') {
            return Err(StoreError::Invalid(format!(
                "'{host}' is not a registry host; write it as host[:port], e.g. ghcr.io or 127.0.0.1:5000"
            )));
        }
        let t = self
            .add_target(TargetKind::Registry, host, exposure)
            .await?;
        self.set_registry_watch(t.id, watch).await?;
        self.set_target_group(t.id, group).await?;
        Ok(self.get_target(t.id).await?.unwrap_or(t))
    }

    /// What a host target remembers (extra paths, an identity file).
    pub async fn set_host_spec(&self, id: i64, spec: &vedette_model::HostSpec) -> Result<()> {
        let spec = serde_json::to_string(spec)
            .map_err(|e| StoreError::Invalid(format!("cannot encode the host's settings: {e}")))?;
        on_pool!(&self.pool, |c| sqlx::query(
            "UPDATE targets SET spec = $1 WHERE id = $2 AND kind = 'host'"
        )
        .bind(&spec)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected())?);
        Ok(())
    }

    pub async fn set_registry_watch(&self, id: i64, watch: &RegistryWatch) -> Result<()> {
        let spec = serde_json::to_string(watch).map_err(|e| {
            StoreError::Invalid(format!("cannot encode the registry selector: {e}"))
        })?;
        on_pool!(&self.pool, |c| sqlx::query(
            "UPDATE targets SET spec = $1 WHERE id = $2"
        )
        .bind(&spec)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected())?);
        Ok(())
    }

    /// Puts a target (and the images found in it, for a registry) in a
    /// group, or in none.
    pub async fn set_target_group(&self, id: i64, group: Option<&str>) -> Result<()> {
        let group = group.map(str::trim).filter(|g| !g.is_empty());
        on_pool!(&self.pool, |c| sqlx::query(
            "UPDATE targets SET group_name = $1 WHERE id = $2 OR parent_id = $2"
        )
        .bind(group)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected())?);
        Ok(())
    }

    /// The image target a registry crawl found, created the first time
    /// (in the registry's group, with its exposure).
    pub async fn crawled_image(&self, parent: &TargetInfo, reference: &str) -> Result<TargetInfo> {
        let now = crate::db::now();
        let insecure = parent.registry.as_ref().is_some_and(|w| w.insecure);
        let exposure = parent.exposure.as_str();
        let mut tx = self.write().await?;
        let select = format!("SELECT {COLUMNS} FROM targets WHERE kind = 'image' AND name = $1");
        let (known, row): (bool, Row) = on_tx!(&mut tx, |c| {
            let known = sqlx::query_scalar::<_, i64>(
                "SELECT id FROM targets WHERE kind = 'image' AND name = $1",
            )
            .bind(reference)
            .fetch_optional(&mut *c)
            .await?
            .is_some();
            sqlx::query(
                "INSERT INTO targets (kind, name, exposure, created_at, group_name, parent_id, insecure)
                 VALUES ('image', $1, $2, $3, $4, $5, $6)
                 ON CONFLICT (kind, name) DO UPDATE SET parent_id = excluded.parent_id,
                     group_name = COALESCE(targets.group_name, excluded.group_name),
                     insecure = targets.insecure OR excluded.insecure",
            )
            .bind(reference)
            .bind(exposure)
            .bind(now)
            .bind(&parent.group)
            .bind(parent.id)
            .bind(insecure)
            .execute(&mut *c)
            .await.map(|r| r.rows_affected())?;
            let row = sqlx::query_as(&select)
                .bind(reference)
                .fetch_one(&mut *c)
                .await?;
            (known, row)
        });
        let info = row.into_info()?;
        if !known {
            crate::events::emit(
                &mut tx,
                EventKind::TargetAdded,
                serde_json::json!({"target_id": info.id, "kind": "image", "target": info.name,
                    "exposure": exposure, "parent_id": parent.id, "group": info.group}),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(info)
    }

    /// Stops watching a target; its history goes with it (and, for a
    /// registry, the images found in it), with the finding sets and bodies
    /// no other scan shares.
    pub async fn remove_target(&self, id: i64) -> Result<bool> {
        let mut tx = self.write().await?;
        let removed = on_tx!(&mut tx, |c| {
            let removed = sqlx::query("DELETE FROM targets WHERE id = $1")
                .bind(id)
                .execute(&mut *c)
                .await
                .map(|r| r.rows_affected())?
                == 1;
            sqlx::query(
                "DELETE FROM finding_set_members WHERE set_hash NOT IN
                   (SELECT finding_set FROM scans WHERE finding_set IS NOT NULL)",
            )
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())?;
            sqlx::query(
                "DELETE FROM finding_sets WHERE hash NOT IN
                   (SELECT finding_set FROM scans WHERE finding_set IS NOT NULL)",
            )
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())?;
            sqlx::query(
                "DELETE FROM finding_bodies WHERE hash NOT IN (SELECT body_hash FROM finding_set_members)",
            )
            .execute(&mut *c)
            .await.map(|r| r.rows_affected())?;
            removed
        });
        tx.commit().await?;
        // What was known to be stored may be gone.
        self.known.clear();
        Ok(removed)
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
        let now = crate::db::now();
        let (kind_str, exposure_str) = (kind.as_str(), exposure.as_str());
        let mut tx = self.write().await?;
        let id: Option<i64> = on_tx!(&mut tx, |c| sqlx::query_scalar(
            "INSERT INTO targets (kind, name, exposure, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (kind, name) DO NOTHING
             RETURNING id"
        )
        .bind(kind_str)
        .bind(name)
        .bind(exposure_str)
        .bind(now)
        .fetch_optional(&mut *c)
        .await?);
        let id = id.ok_or_else(|| {
            StoreError::Invalid(format!("the {kind_str} target '{name}' is already watched"))
        })?;
        crate::events::emit(
            &mut tx,
            EventKind::TargetAdded,
            serde_json::json!({"target_id": id, "kind": kind_str, "target": name, "exposure": exposure_str}),
        )
        .await?;
        tx.commit().await?;
        Ok(TargetInfo {
            id,
            kind,
            name: name.to_owned(),
            exposure,
            created_at: now,
            group: None,
            parent_id: None,
            registry: None,
            host: (kind == TargetKind::Host).then(vedette_model::HostSpec::default),
            quarantine: None,
            insecure: false,
            platform: None,
        })
    }

    /// How a target's image is reached: its registry over plain HTTP or
    /// unverified TLS, the platform picked. Every later scan uses them.
    pub async fn set_target_transport(
        &self,
        id: i64,
        insecure: bool,
        platform: Option<&str>,
    ) -> Result<()> {
        let platform = platform.map(str::trim).filter(|p| !p.is_empty());
        on_pool!(&self.pool, |c| sqlx::query(
            "UPDATE targets SET insecure = $1, platform = $2 WHERE id = $3"
        )
        .bind(insecure)
        .bind(platform)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected())?);
        Ok(())
    }

    /// Lets the scheduler scan a quarantined target again (the user asked,
    /// or a scan of it succeeded). `false` when it was not quarantined.
    pub async fn release_quarantine(&self, id: i64) -> Result<bool> {
        let n = on_pool!(&self.pool, |c| sqlx::query(
            "UPDATE targets SET quarantined_at = NULL, quarantine_reason = NULL
             WHERE id = $1 AND quarantined_at IS NOT NULL"
        )
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected())?);
        Ok(n == 1)
    }

    /// Whether a target is internet-facing or internal (it weighs on risk).
    pub async fn target_exposure(&self, id: i64) -> Result<Exposure> {
        let e: String = on_pool!(&self.pool, |c| sqlx::query_scalar(
            "SELECT exposure FROM targets WHERE id = $1"
        )
        .bind(id)
        .fetch_one(c)
        .await?);
        parse_enum(&e, Exposure::parse, "exposure")
    }

    pub async fn set_target_exposure(&self, id: i64, exposure: Exposure) -> Result<()> {
        let e = exposure.as_str();
        on_pool!(&self.pool, |c| sqlx::query(
            "UPDATE targets SET exposure = $1 WHERE id = $2"
        )
        .bind(e)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected())?);
        Ok(())
    }

    /// Sets a target's exposure as the user chose it: from then on it wins
    /// over what Vedette infers.
    pub async fn pin_target_exposure(&self, id: i64, exposure: Exposure) -> Result<bool> {
        let mut tx = self.write().await?;
        let found = on_tx!(&mut tx, |c| {
            let found = sqlx::query("UPDATE targets SET exposure = $1 WHERE id = $2")
                .bind(exposure.as_str())
                .bind(id)
                .execute(&mut *c)
                .await
                .map(|r| r.rows_affected())?
                > 0;
            if found {
                sqlx::query(
                    "INSERT INTO exposure_pins (target_id, pinned_at) VALUES ($1, $2)
                     ON CONFLICT (target_id) DO UPDATE SET pinned_at = excluded.pinned_at",
                )
                .bind(id)
                .bind(crate::db::now())
                .execute(&mut *c)
                .await
                .map(|r| r.rows_affected())?;
            }
            found
        });
        tx.commit().await?;
        Ok(found)
    }

    /// Whether the user set the target's exposure (inference then leaves it).
    pub async fn target_exposure_pinned(&self, id: i64) -> Result<bool> {
        Ok(on_pool!(&self.pool, |c| sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM exposure_pins WHERE target_id = $1)"
        )
        .bind(id)
        .fetch_one(c)
        .await?))
    }

    pub async fn count_targets(&self) -> Result<i64> {
        Ok(on_pool!(&self.pool, |c| sqlx::query_scalar(
            "SELECT COUNT(*) FROM targets"
        )
        .fetch_one(c)
        .await?))
    }
}

impl Store {
    /// What earlier crawls of a registry target read for these references.
    pub async fn registry_tags(
        &self,
        registry_id: i64,
        references: &[String],
    ) -> Result<Vec<vedette_model::RegistryImage>> {
        const COLUMNS: &str =
            "SELECT reference, head_digest, manifest_digest, created FROM registry_tags";
        let rows: Vec<(String, String, String, Option<String>)> = match &self.pool {
            Pool::Sqlite(p) => {
                let wanted = serde_json::to_string(references).map_err(|e| {
                    StoreError::Corrupt(format!("cannot encode the tags looked up: {e}"))
                })?;
                sqlx::query_as(&format!(
                    "{COLUMNS} WHERE registry_id = $1 AND reference IN (SELECT value FROM json_each($2))"
                ))
                .bind(registry_id)
                .bind(wanted)
                .fetch_all(p)
                .await?
            }
            Pool::Postgres(p) => {
                sqlx::query_as(&format!(
                    "{COLUMNS} WHERE registry_id = $1 AND reference = ANY($2)"
                ))
                .bind(registry_id)
                .bind(references)
                .fetch_all(p)
                .await?
            }
        };
        Ok(rows.into_iter().map(registry_image).collect())
    }

    /// Keeps what a chunk of a crawl read (the tags with a HEAD digest) and,
    /// with `cursor` (repository, last tag, when the crawl began), how far
    /// the crawl of that repository got: in one transaction.
    pub async fn keep_registry_tags(
        &self,
        registry_id: i64,
        images: &[vedette_model::RegistryImage],
        cursor: Option<(&str, &str, DateTime<Utc>)>,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        let now = crate::db::now();
        for i in images {
            let Some(head) = &i.head_digest else { continue };
            on_tx!(&mut tx, |c| {
                sqlx::query(
                "INSERT INTO registry_tags (registry_id, reference, head_digest, manifest_digest, created, seen_at)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (registry_id, reference) DO UPDATE SET head_digest = excluded.head_digest,
                   manifest_digest = excluded.manifest_digest, created = excluded.created,
                   seen_at = excluded.seen_at",
            )
            .bind(registry_id)
            .bind(&i.reference)
            .bind(head)
            .bind(&i.digest)
            .bind(&i.created)
            .bind(now)
            .execute(&mut *c)
            .await.map(|r| r.rows_affected())?
            });
        }
        if let Some((repository, last, began)) = cursor {
            on_tx!(&mut tx, |c| {
                sqlx::query(
                "INSERT INTO registry_crawl_cursors (registry_id, repository, done_up_to, began)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (registry_id, repository) DO UPDATE SET done_up_to = excluded.done_up_to",
            )
            .bind(registry_id)
            .bind(repository)
            .bind(last)
            .bind(crate::db::micros(began))
            .execute(&mut *c)
            .await.map(|r| r.rows_affected())?
            });
        }
        tx.commit().await?;
        Ok(())
    }

    /// Where an unfinished crawl of `repository` stopped: the last tag read,
    /// when that crawl began, and what it read up to there.
    pub async fn registry_crawl_cursor(
        &self,
        registry_id: i64,
        host: &str,
        repository: &str,
    ) -> Result<Option<(String, DateTime<Utc>, Vec<vedette_model::RegistryImage>)>> {
        let row: Option<(String, DateTime<Utc>)> = on_pool!(&self.pool, |c| sqlx::query_as(
            "SELECT done_up_to, began FROM registry_crawl_cursors
             WHERE registry_id = $1 AND repository = $2",
        )
        .bind(registry_id)
        .bind(repository)
        .fetch_optional(c)
        .await?);
        let Some((last, began)) = row else {
            return Ok(None);
        };
        // The repository's references are `host/repo:` + tag: a range of
        // the primary key (';' follows ':').
        let rows: Vec<(String, String, String, Option<String>)> =
            on_pool!(&self.pool, |c| sqlx::query_as(
                "SELECT reference, head_digest, manifest_digest, created FROM registry_tags
             WHERE registry_id = $1 AND reference >= $2 AND reference < $3 AND seen_at >= $4",
            )
            .bind(registry_id)
            .bind(format!("{host}/{repository}:"))
            .bind(format!("{host}/{repository};"))
            .bind(crate::db::micros(began))
            .fetch_all(c)
            .await?);
        Ok(Some((
            last,
            began,
            rows.into_iter().map(registry_image).collect(),
        )))
    }

    /// A crawl read `repository` to its end: its cursor goes, and so do the
    /// tags it did not see (deleted from the registry).
    pub async fn finish_registry_crawl(
        &self,
        registry_id: i64,
        host: &str,
        repository: &str,
        began: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.write().await?;
        on_tx!(&mut tx, |c| {
            sqlx::query(
                "DELETE FROM registry_crawl_cursors WHERE registry_id = $1 AND repository = $2",
            )
            .bind(registry_id)
            .bind(repository)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected())?;
            sqlx::query(
                "DELETE FROM registry_tags WHERE registry_id = $1 AND reference >= $2 AND reference < $3
                 AND seen_at < $4",
            )
            .bind(registry_id)
            .bind(format!("{host}/{repository}:"))
            .bind(format!("{host}/{repository};"))
            .bind(crate::db::micros(began))
            .execute(&mut *c)
            .await.map(|r| r.rows_affected())?;
        });
        tx.commit().await?;
        Ok(())
    }
}

fn registry_image(
    (reference, head, digest, created): (String, String, String, Option<String>),
) -> vedette_model::RegistryImage {
    vedette_model::RegistryImage {
        reference,
        digest,
        created,
        head_digest: Some(head),
    }
}

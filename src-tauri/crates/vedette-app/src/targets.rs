//! What Vedette watches: images, registries, directories; their groups,
//! exposure and transport; what a registry's selector picks now.

use vedette_model::{Exposure, RegistryCrawl, RegistryWatch, TargetInfo, TargetKind};

use crate::{App, AppError, Result};

/// How a target is added: its group, exposure, and for an image how its
/// registry is reached.
#[derive(Debug, Clone, Default)]
pub struct TargetSettings {
    pub group: Option<String>,
    pub exposure: Exposure,
    /// Plain HTTP or a certificate that does not verify.
    pub insecure: bool,
    /// The platform of a multi-platform image.
    pub platform: Option<String>,
}

/// Which targets to list (all when empty).
#[derive(Debug, Clone, Default)]
pub struct TargetFilter {
    pub kind: Option<vedette_model::TargetKind>,
    pub group: Option<String>,
    pub exposure: Option<Exposure>,
    pub verdict: Option<vedette_model::TargetVerdict>,
}

impl App {
    /// Targets with their standing after their newest scan, filtered.
    pub async fn target_views(&self, f: &TargetFilter) -> Result<Vec<vedette_model::TargetView>> {
        let verdicts = self.store().latest_verdicts().await?;
        let mut last = self.store().latest_scans(None).await?;
        Ok(self
            .targets()
            .await?
            .into_iter()
            .filter(|t| f.kind.is_none_or(|k| t.kind == k))
            .filter(|t| f.group.is_none() || t.group == f.group)
            .filter(|t| f.exposure.is_none_or(|e| t.exposure == e))
            .map(|t| {
                let newest = verdicts.get(&t.id).copied();
                let last = last.remove(&t.id);
                standing(t, newest, last)
            })
            .filter(|v| f.verdict.is_none_or(|x| v.verdict == x))
            .collect())
    }

    /// One target with its standing after its newest scan.
    pub async fn target_view(&self, id: i64) -> Result<vedette_model::TargetView> {
        let t = self.target(id).await?;
        let newest = self.store().latest_verdict(id).await?;
        let last = self.store().latest_scans(Some(id)).await?.remove(&id);
        Ok(standing(t, newest, last))
    }

    pub async fn targets(&self) -> Result<Vec<TargetInfo>> {
        Ok(self.store().list_targets().await?)
    }

    pub async fn target(&self, id: i64) -> Result<TargetInfo> {
        self.store()
            .get_target(id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("there is no target {id}")))
    }

    /// A target by id or by name.
    pub async fn find_target(&self, what: &str) -> Result<TargetInfo> {
        let by_id = what.parse::<i64>().ok();
        self.targets()
            .await?
            .into_iter()
            .find(|t| Some(t.id) == by_id || t.name == what)
            .ok_or_else(|| {
                AppError::NotFound(format!(
                    "there is no target '{what}'; `vedette target list` shows them"
                ))
            })
    }

    /// Watches a registry: which repositories, which tags.
    pub async fn add_registry(
        &self,
        host: &str,
        watch: &RegistryWatch,
        settings: &TargetSettings,
    ) -> Result<TargetInfo> {
        vedette_engine::check_watch(watch).map_err(AppError::Invalid)?;
        let host =
            crate::normalize_registry_host(host).map_err(|e| AppError::Invalid(e.to_string()))?;
        let t = self
            .store()
            .add_registry_target(&host, watch, settings.group.as_deref(), settings.exposure)
            .await?;
        self.schedules_changed();
        Ok(t)
    }

    /// Watches one image reference (normalised as Docker does).
    pub async fn add_image(
        &self,
        reference: &str,
        settings: &TargetSettings,
    ) -> Result<TargetInfo> {
        let r = vedette_sources::Reference::parse(reference.trim()).map_err(|_| {
            AppError::Invalid(format!(
                "'{reference}' is not an image reference; write it as [registry/]repository[:tag], e.g. ghcr.io/acme/api:1.4"
            ))
        })?;
        if let Some(p) = &settings.platform {
            if vedette_sources::registry::manifest::Platform::parse(p).is_none() {
                return Err(AppError::Invalid(format!(
                    "'{p}' is not a platform; write it as os/arch[/variant], e.g. linux/arm64"
                )));
            }
        }
        self.add_with(TargetKind::Image, &r.to_string(), settings)
            .await
    }

    /// The image target for `reference`, added if new; the transport and
    /// platform given are remembered either way.
    pub async fn ensure_image(
        &self,
        reference: &str,
        settings: &TargetSettings,
    ) -> Result<TargetInfo> {
        let name = vedette_sources::Reference::parse(reference.trim())
            .map(|r| r.to_string())
            .map_err(|_| {
                AppError::Invalid(format!(
                    "'{reference}' is not an image reference; write it as [registry/]repository[:tag]"
                ))
            })?;
        let existing = self
            .targets()
            .await?
            .into_iter()
            .find(|t| t.kind == TargetKind::Image && t.name == name);
        match existing {
            None => self.add_image(&name, settings).await,
            Some(t) => {
                if settings.insecure || settings.platform.is_some() {
                    self.store()
                        .set_target_transport(
                            t.id,
                            settings.insecure || t.insecure,
                            settings.platform.as_deref().or(t.platform.as_deref()),
                        )
                        .await?;
                }
                self.target(t.id).await
            }
        }
    }

    /// Watches a directory (an unpacked root filesystem) by its real path.
    pub async fn add_directory(&self, path: &str, settings: &TargetSettings) -> Result<TargetInfo> {
        let p = std::path::Path::new(path.trim());
        if !p.is_dir() {
            return Err(AppError::Invalid(format!(
                "{} is not a directory this process can read",
                p.display()
            )));
        }
        let name = crate::ScanTarget::Directory(p.to_owned()).name();
        self.add_with(TargetKind::Directory, &name, settings).await
    }

    pub(crate) async fn add_with(
        &self,
        kind: TargetKind,
        name: &str,
        settings: &TargetSettings,
    ) -> Result<TargetInfo> {
        let store = self.store();
        let t = store.add_target(kind, name, settings.exposure).await?;
        store
            .set_target_group(t.id, settings.group.as_deref())
            .await?;
        if settings.insecure || settings.platform.is_some() {
            store
                .set_target_transport(t.id, settings.insecure, settings.platform.as_deref())
                .await?;
        }
        self.schedules_changed();
        self.target(t.id).await
    }

    /// Puts a target (a registry: with its images) in a group, or in none.
    pub async fn set_group(&self, id: i64, group: Option<&str>) -> Result<TargetInfo> {
        self.store().set_target_group(id, group).await?;
        self.target(id).await
    }

    /// Stops watching a target; its history goes with it.
    pub async fn remove_target(&self, id: i64) -> Result<TargetInfo> {
        let t = self.target(id).await?;
        self.store().remove_target(id).await?;
        self.schedules_changed();
        Ok(t)
    }

    /// Lets the scheduler scan a quarantined target again; `false` when it
    /// was not quarantined.
    pub async fn retry_target(&self, id: i64) -> Result<bool> {
        let released = self.store().release_quarantine(id).await?;
        self.schedules_changed();
        Ok(released)
    }

    /// The images a registry target's selector picks now, without scanning.
    pub async fn crawl_preview(&self, id: i64) -> Result<RegistryCrawl> {
        let t = self.target(id).await?;
        let Some(watch) = t.registry.clone() else {
            return Err(AppError::Invalid(format!(
                "{} is not a registry; only registries are crawled",
                t.name
            )));
        };
        let temp = tempfile::Builder::new()
            .prefix("vedette-crawl-")
            .tempdir()
            .map_err(|e| AppError::unavailable(format!("cannot create a private temp dir: {e}")))?;
        let feeds = self.feeds(&crate::FeedSources::from_env()).await?;
        let limits = crate::limits_from_env().map_err(AppError::Invalid)?;
        let scanner = self.scanner(
            feeds.store.clone(),
            feeds.config.clone(),
            limits,
            temp.path(),
        );
        let crawl = vedette_engine::CrawlOptions::for_watch(&watch);
        let result = scanner.crawl(&t, &watch, &crawl, false).await;
        feeds.close().await;
        result.map_err(|e| AppError::Unavailable {
            transient: e.is_transient(),
            message: e.to_string(),
        })
    }
}

/// A target's standing from its newest succeeded scan (id, verdict).
fn standing(
    t: TargetInfo,
    newest: Option<(i64, Option<bool>)>,
    last_scan: Option<vedette_model::LastScan>,
) -> vedette_model::TargetView {
    use vedette_model::TargetVerdict as V;
    let (verdict, last) = match newest {
        None => (V::NotScanned, None),
        Some((id, Some(true))) => (V::Pass, Some(id)),
        Some((id, Some(false))) => (V::Fail, Some(id)),
        Some((id, None)) => (V::NoVerdict, Some(id)),
    };
    vedette_model::TargetView {
        target: t,
        verdict,
        last_scan_id: last,
        last_scan,
    }
}

//! The history: scans, what each found and what changed, and the trends
//! over time.

use vedette_model::{ScanDetail, ScanSummary, Trends};
pub use vedette_store::TrendScope;

use crate::{App, AppError, Result};

/// Which targets a trend covers, as a front end names them.
#[derive(Debug, Clone, Default)]
pub enum TrendsOf {
    #[default]
    All,
    Group(String),
    /// A target by id or name.
    Target(String),
}

impl App {
    /// The newest scans first.
    pub async fn scans(&self, limit: i64) -> Result<Vec<ScanSummary>> {
        Ok(self.store().list_scans(limit).await?)
    }

    /// A scan's whole report: the stored summary with its findings (kept
    /// as a set beside it), the riskiest first. None for a scan that did
    /// not match advisories.
    pub async fn scan_report(&self, id: i64) -> Result<Option<vedette_model::ScanReport>> {
        let detail = self.scan_detail(id).await?;
        Ok(detail.report.map(|mut r| {
            if let Some(d) = detail.diff {
                r.findings = d
                    .new
                    .into_iter()
                    .map(|n| n.finding)
                    .chain(d.unchanged)
                    .collect();
                r.findings.sort_by(|a, b| {
                    b.risk
                        .total_cmp(&a.risk)
                        .then_with(|| a.id.cmp(&b.id))
                        .then_with(|| a.package.cmp(&b.package))
                });
            }
            r
        }))
    }

    /// The newest scans of one target.
    pub async fn target_scans(&self, target_id: i64, limit: i64) -> Result<Vec<ScanSummary>> {
        Ok(self.store().target_scans(target_id, limit).await?)
    }

    /// One scan as the history lists it.
    pub async fn scan_summary(&self, id: i64) -> Result<ScanSummary> {
        self.store()
            .scan_summary(id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("there is no scan {id}")))
    }

    /// The packages a scan found.
    pub async fn scan_inventory(&self, id: i64) -> Result<vedette_model::Inventory> {
        self.store().scan_inventory(id).await?.ok_or_else(|| {
            AppError::NotFound(format!("scan {id} has no inventory: it did not succeed"))
        })
    }

    /// A scan's report and its findings against the target's previous scan.
    pub async fn scan_detail(&self, id: i64) -> Result<ScanDetail> {
        let store = self.store();
        if !store.scan_exists(id).await? {
            return Err(AppError::NotFound(format!(
                "there is no scan {id}; `vedette history` shows them"
            )));
        }
        let report = store.scan_report(id).await?;
        let diff = match report {
            Some(_) => Some(store.scan_diff(id).await?),
            None => None,
        };
        Ok(ScanDetail {
            scan_id: id,
            report,
            diff,
        })
    }

    /// Open findings by severity per day, new and fixed per week, mean time
    /// to fix, over `days` days up to today.
    pub async fn trends(&self, of: &TrendsOf, days: i64) -> Result<Trends> {
        if !(1..=3660).contains(&days) {
            return Err(AppError::Invalid("days run from 1 to 3660".into()));
        }
        let targets = self.targets().await?;
        let id;
        let scope = match of {
            TrendsOf::All => TrendScope::All,
            TrendsOf::Group(g) => {
                if !targets
                    .iter()
                    .any(|t| t.group.as_deref() == Some(g.as_str()))
                {
                    return Err(AppError::NotFound(format!(
                        "no target is in group {g}; `vedette target list` shows the groups"
                    )));
                }
                TrendScope::Group(g)
            }
            TrendsOf::Target(what) => {
                id = self.find_target(what).await?.id;
                TrendScope::Target(id)
            }
        };
        Ok(self
            .store()
            .trends(scope, days, chrono::Utc::now().date_naive())
            .await?)
    }

    /// Whether any scan matched advisories yet (before that, no chart).
    pub async fn any_findings_scan(&self) -> Result<bool> {
        Ok(self.scans(1000).await?.iter().any(|s| s.counts.is_some()))
    }
}

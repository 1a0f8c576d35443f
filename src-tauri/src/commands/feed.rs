use serde::Serialize;
use tauri::{AppHandle, Emitter, Runtime, State};
use vedette_model::{ApiError, FeedInfo};

use crate::DesktopState;

/// One feed brought up to date or imported, for the window.
#[derive(Debug, Clone, Serialize)]
pub struct FeedDone {
    pub feed: String,
    pub ok: bool,
    /// What happened, in words (the error when it failed).
    pub detail: String,
}

fn done(outcomes: Vec<vedette_app::FeedOutcome>) -> Vec<FeedDone> {
    use vedette_app::Outcome;
    outcomes
        .into_iter()
        .map(|o| FeedDone {
            ok: !o.failed(),
            detail: match &o.outcome {
                Outcome::Updated { records, .. } => format!("{records} records"),
                Outcome::NotModified => "up to date".into(),
                Outcome::Missing => "the source has no such feed".into(),
                Outcome::Failed { error } => error.clone(),
                Outcome::Skipped { reason } => reason.clone(),
            },
            feed: o.feed,
        })
        .collect()
}

/// The advisory index: each feed, its age, whether it is stale.
#[tauri::command]
pub async fn feed_status(state: State<'_, DesktopState>) -> Result<Vec<FeedInfo>, ApiError> {
    let feeds = state
        .app
        .feeds(&vedette_app::FeedSources::from_env())
        .await?;
    Ok(feeds.status().await?)
}

/// Downloads the OSV ecosystems named (none: those in use, else Debian's
/// for a first run), one after the other, telling the window as each ends
/// (`feed-progress`: done, total, the feed).
#[tauri::command]
pub async fn feed_update<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, DesktopState>,
    ecosystems: Vec<String>,
) -> Result<Vec<FeedDone>, ApiError> {
    let feeds = state
        .app
        .feeds(&vedette_app::FeedSources::from_env())
        .await?;
    let mut wanted = if ecosystems.is_empty() {
        feeds.in_use(&state.app).await?
    } else {
        ecosystems
    };
    if wanted.is_empty() {
        wanted.push("Debian".to_owned());
    }
    let total = wanted.len();
    let mut out = Vec::new();
    for (i, e) in wanted.into_iter().enumerate() {
        if let Err(err) = app.emit(
            "feed-progress",
            serde_json::json!({"done": i, "total": total, "feed": format!("osv/{e}")}),
        ) {
            tracing::debug!("cannot tell the window: {err}");
        }
        out.extend(done(
            feeds.update(&state.app, std::slice::from_ref(&e)).await?,
        ));
    }
    if let Err(err) = app.emit(
        "feed-progress",
        serde_json::json!({"done": total, "total": total}),
    ) {
        tracing::debug!("cannot tell the window: {err}");
    }
    Ok(out)
}

/// Imports an offline bundle: a directory of OSV zips (and KEV, EPSS, NVD
/// files), or one such file.
#[tauri::command]
pub async fn feed_import(
    state: State<'_, DesktopState>,
    path: String,
) -> Result<Vec<FeedDone>, ApiError> {
    let feeds = state
        .app
        .feeds(&vedette_app::FeedSources::from_env())
        .await?;
    let path = std::path::PathBuf::from(path.trim());
    Ok(done(feeds.import(&[path]).await?))
}

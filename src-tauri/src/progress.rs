//! Live progress of the scans this window started, relayed to the page as
//! `scan-progress` events.

use tauri::{AppHandle, Emitter, Runtime};
use vedette_app::App;

pub fn relay<R: Runtime>(handle: AppHandle<R>, app: App) {
    let mut rx = app.live_progress();
    tauri::async_runtime::spawn(async move {
        loop {
            match rx.recv().await {
                Ok(p) => {
                    if let Err(e) = handle.emit("scan-progress", &p) {
                        tracing::debug!("cannot send scan progress to the page: {e}");
                    }
                }
                // Missed some: the next one says where the scan is.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            }
        }
    });
}

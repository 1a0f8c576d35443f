use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tracing_subscriber::EnvFilter;

/// Logs to `<data dir>/logs/vedette-desktop.log` (and to stderr when the
/// file cannot be opened). Level from `VEDETTE_LOG`, default `info`.
/// Returns the log file's path.
pub fn init(data_dir: &Path) -> Option<PathBuf> {
    let filter = EnvFilter::try_from_env("VEDETTE_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,tao=warn,wry=warn"));
    let dir = data_dir.join("logs");
    let path = dir.join("vedette-desktop.log");
    let file = std::fs::create_dir_all(&dir)
        .and_then(|_| OpenOptions::new().create(true).append(true).open(&path));
    match file {
        Ok(f) => {
            tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_ansi(false)
                .with_writer(Mutex::new(f))
                .init();
            Some(path)
        }
        Err(e) => {
            tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_writer(std::io::stderr)
                .init();
            tracing::warn!(
                "cannot open the log file {}: {e}; logging to stderr",
                path.display()
            );
            None
        }
    }
}

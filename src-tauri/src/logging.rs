use std::path::{Path, PathBuf};

use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::EnvFilter;

/// Log files kept: one a day, the last week.
const KEEP: usize = 7;

/// Logs to `<data dir>/logs/vedette-desktop.YYYY-MM-DD.log`, a file a day,
/// the last [`KEEP`] kept (older ones are deleted as a new day starts); to
/// stderr when the folder cannot be written. Level from `VEDETTE_LOG`,
/// default `info`. Returns the log folder.
pub fn init(data_dir: &Path) -> Option<PathBuf> {
    let filter = EnvFilter::try_from_env("VEDETTE_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,tao=warn,wry=warn"));
    let dir = data_dir.join("logs");
    let appender = std::fs::create_dir_all(&dir)
        .map_err(|e| e.to_string())
        .and_then(|_| {
            RollingFileAppender::builder()
                .rotation(Rotation::DAILY)
                .filename_prefix("vedette-desktop")
                .filename_suffix("log")
                .max_log_files(KEEP)
                .build(&dir)
                .map_err(|e| e.to_string())
        });
    match appender {
        Ok(files) => {
            tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_ansi(false)
                .with_writer(files)
                .init();
            Some(dir)
        }
        Err(e) => {
            tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_writer(std::io::stderr)
                .init();
            tracing::warn!(
                "cannot write logs under {}: {e}; logging to stderr",
                dir.display()
            );
            None
        }
    }
}

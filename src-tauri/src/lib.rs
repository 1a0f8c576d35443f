//! Vedette's desktop shell: a window over the engine, a tray icon, and
//! commands that convert arguments, make one engine call and map the error.
//!
//! The builder is generic over [`tauri::Runtime`] so the commands are tested
//! on Tauri's mock runtime; the tray is compiled out under `cfg(test)`.

#[cfg(not(test))]
mod api;
mod autostart;
mod commands;
pub mod links;
mod logging;
#[cfg(not(test))]
mod progress;
#[cfg(not(test))]
mod scheduler;
#[cfg(not(test))]
mod tray;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use tauri::{Manager, Runtime, WindowEvent};
use vedette_app::{App, KeyringSecrets};

/// The label of the one main window.
pub const MAIN_WINDOW: &str = "main";

/// What every command gets: the open data directory and the scheduler.
pub struct DesktopState {
    pub app: App,
    /// The running scheduler's context ("run now"), once it started.
    pub scheduler: Arc<std::sync::OnceLock<vedette_app::SchedulerContext>>,
    /// Why this window does not run the schedules (`vedette serve` does).
    pub scheduler_note: Arc<Latest<String>>,
    /// Schedules paused from the tray.
    pub paused: Arc<std::sync::atomic::AtomicBool>,
    /// Where the automation API listens (the process holding the
    /// scheduler lock serves it), or why it does not here.
    pub api: Arc<Latest<vedette_model::ApiStatus>>,
}

/// A value that is set, replaced and cleared while the app runs (the
/// window follows `vedette serve`, then takes the schedules over).
pub struct Latest<T>(std::sync::RwLock<Option<T>>);

impl<T> Default for Latest<T> {
    fn default() -> Self {
        Self(std::sync::RwLock::new(None))
    }
}

impl<T: Clone> Latest<T> {
    pub fn get(&self) -> Option<T> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn set(&self, value: T) {
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = Some(value);
    }

    pub fn clear(&self) {
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

impl DesktopState {
    pub fn new(app: App) -> Self {
        Self {
            app,
            scheduler: Arc::default(),
            scheduler_note: Arc::default(),
            paused: Arc::default(),
            api: Arc::default(),
        }
    }
}

/// Adds commands and window behaviour to a builder of any runtime
/// (`tauri::Builder::default()` in the app, `tauri::test::mock_builder()` in
/// tests). The caller manages a [`DesktopState`].
pub fn builder<R: Runtime>(base: tauri::Builder<R>) -> tauri::Builder<R> {
    base.invoke_handler(commands::handler())
        .on_window_event(|window, event| {
            // Closing the window keeps Vedette watching from the tray.
            if let WindowEvent::CloseRequested { api, .. } = event {
                if window.label() == MAIN_WINDOW {
                    api.prevent_close();
                    if let Err(e) = window.hide() {
                        tracing::warn!("cannot hide the window: {e}");
                    }
                    tracing::info!("window closed; Vedette keeps running in the tray");
                }
            }
        })
}

/// Shows, unminimizes and focuses the main window.
pub fn show_main_window<R: Runtime>(app: &tauri::AppHandle<R>) {
    if let Some(w) = app.get_webview_window(MAIN_WINDOW) {
        let _ = w.show();
        let _ = w.unminimize();
        let _ = w.set_focus();
    }
    #[cfg(not(test))]
    tray::acknowledge(app);
}

/// Shows the window on a scan's detail (a notification was clicked).
pub fn open_scan<R: Runtime>(app: &tauri::AppHandle<R>, scan_id: i64) {
    links::open(app, links::Link::Scan(scan_id));
}

/// Command-line arguments of the desktop app.
#[derive(Debug, Default)]
struct Args {
    data_dir: Option<PathBuf>,
    /// The history's database (`--database`, else `VEDETTE_DATABASE_URL`):
    /// a team's PostgreSQL instead of the data dir's SQLite file.
    database: Option<String>,
    /// Start hidden in the tray (for autostart).
    minimized: bool,
    /// A `vedette://` link to open.
    link: Option<links::Link>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args::default();
    let mut it = std::env::args_os().skip(1);
    while let Some(a) = it.next() {
        match a.to_str() {
            Some("--data-dir") => {
                args.data_dir = Some(
                    it.next()
                        .map(PathBuf::from)
                        .ok_or("--data-dir needs a directory")?,
                )
            }
            Some(s) if s.starts_with("--data-dir=") => {
                args.data_dir = Some(PathBuf::from(&s["--data-dir=".len()..]))
            }
            Some("--database") => {
                args.database = Some(
                    it.next()
                        .and_then(|u| u.into_string().ok())
                        .ok_or("--database needs a URL")?,
                )
            }
            Some(s) if s.starts_with("--database=") => {
                args.database = Some(s["--database=".len()..].to_owned())
            }
            Some("--minimized") => args.minimized = true,
            Some("--help") | Some("-h") => {
                println!("Usage: vedette-desktop [--data-dir DIR] [--database URL] [--minimized] [vedette://scan/ID | vedette://target/ID]\n\nThe Vedette desktop console. The data directory defaults to $VEDETTE_DATA_DIR, else ~/.local/share/vedette. The history is kept there unless --database (or $VEDETTE_DATABASE_URL) names a team's PostgreSQL, postgres://user@host/db. A link opens that page (in the running window, if there is one).");
                std::process::exit(0);
            }
            Some(s) if s.starts_with("vedette:") => match links::Link::parse(s) {
                Some(link) => args.link = Some(link),
                // A link from elsewhere that names nothing: the window opens as usual.
                None => eprintln!("vedette-desktop: {s} is not a link Vedette opens (vedette://scan/ID or vedette://target/ID)"),
            },
            _ => {
                return Err(format!(
                    "unknown argument {a:?}; usage: vedette-desktop [--data-dir DIR] [--database URL] [--minimized] [vedette://scan/ID]"
                ))
            }
        }
    }
    Ok(args)
}

/// Runs the desktop app until the user quits.
pub fn run() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("vedette-desktop: {e}");
            return ExitCode::from(2);
        }
    };
    let data_dir = match vedette_app::resolve_data_dir(args.data_dir) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("vedette-desktop: {e}");
            return ExitCode::from(2);
        }
    };
    let database_url = args
        .database
        .or_else(|| std::env::var(vedette_app::DATABASE_ENV).ok());
    let database = match vedette_app::Database::chosen(database_url.as_deref(), &data_dir) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("vedette-desktop: {e}");
            return ExitCode::from(2);
        }
    };
    let logs = logging::init(&data_dir);
    tracing::info!(data_dir = %data_dir.display(), database = %database.place(), logs = ?logs, "starting Vedette {}", vedette_app::VERSION);

    let minimized = args.minimized;
    // The single-instance plugin comes first: a second launch hands over to
    // the running instance and exits before it opens the database.
    let result = builder(tauri::Builder::<tauri::Wry>::default())
        .plugin(tauri_plugin_single_instance::init(|app, argv, _cwd| {
            // Its arguments come here: a link opens its page.
            match links::Link::in_args(&argv) {
                Some(link) => {
                    tracing::info!("second launch with {link:?}: opening it here");
                    links::open(app, link);
                }
                None => {
                    tracing::info!("second launch: focusing the running instance");
                    show_main_window(app);
                }
            }
        }))
        .manage(links::Pending(std::sync::Mutex::new(args.link)))
        .setup(move |app| {
            let secrets = Arc::new(KeyringSecrets::default());
            match tauri::async_runtime::block_on(App::open_on(&data_dir, &database, secrets)) {
                Ok(core) => {
                    let state = DesktopState::new(core);
                    #[cfg(not(test))]
                    scheduler::start(
                        app.handle().clone(),
                        state.app.clone(),
                        Arc::clone(&state.scheduler),
                        Arc::clone(&state.scheduler_note),
                        Arc::clone(&state.paused),
                        Arc::clone(&state.api),
                    );
                    #[cfg(not(test))]
                    progress::relay(app.handle().clone(), state.app.clone());
                    app.manage(state)
                }
                Err(e) => {
                    tracing::error!("{e}");
                    eprintln!("vedette-desktop: {e}");
                    std::process::exit(3);
                }
            };
            #[cfg(not(test))]
            tray::create(app.handle())?;
            if minimized {
                if let Some(w) = app.get_webview_window(MAIN_WINDOW) {
                    w.hide()?;
                }
            }
            Ok(())
        })
        .build(tauri::generate_context!());
    match result {
        Ok(app) => {
            app.run(|_, _| {});
            ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::error!("cannot start the window: {e}");
            eprintln!("vedette-desktop: cannot start the window: {e}. Is a display available (DISPLAY or WAYLAND_DISPLAY)?");
            ExitCode::from(3)
        }
    }
}

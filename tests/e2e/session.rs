//! The app under test: the built `vedette-desktop` in its own Xvfb, session
//! bus and keyring, driven through tauri-driver. Shared by the end-to-end
//! tests and the desktop benchmark.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use fantoccini::{elements::Element, Client, ClientBuilder, Locator};
use serde_json::json;
use vedette_tests::{
    artifacts_dir, BusMonitor, Display, KeyringSession, NotificationDaemon, TauriDriver,
    TrayWatcher,
};
/// The desktop binary: `$VEDETTE_DESKTOP_BIN`, else the one cargo built next
/// to this test (`cargo build -p vedette-desktop`, which the test command runs).
pub fn desktop_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("VEDETTE_DESKTOP_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    let bin = profile_dir.join("vedette-desktop");
    assert!(
        bin.is_file(),
        "{} is missing: build it with `cargo build -p vedette-desktop` (the README's test command does)",
        bin.display()
    );
    bin
}

/// One app under test, with everything it talks to; stopped in reverse order on drop.
pub struct Session {
    pub client: Client,
    pub data_dir: tempfile::TempDir,
    pub bin: PathBuf,
    pub env: Vec<(String, String)>,
    pub driver: TauriDriver,
    pub monitor: Option<BusMonitor>,
    pub notifications: Option<NotificationDaemon>,
    pub keyring: KeyringSession,
    pub _tray: Option<TrayWatcher>,
    pub _display: Display,
    pub _xdg: tempfile::TempDir,
}

impl Session {
    pub async fn start(name: &str) -> Self {
        Self::start_with(name, false, true).await
    }

    /// With `tray`, a StatusNotifierWatcher runs first, as a desktop panel
    /// would; without `keyring`, the session bus has no Secret Service.
    pub async fn start_with(name: &str, tray: bool, keyring: bool) -> Self {
        Self::start_in(name, tray, keyring, tempfile::tempdir().unwrap()).await
    }

    /// Starts the app on a data dir the test prepared.
    pub async fn start_in(
        name: &str,
        tray: bool,
        keyring: bool,
        data_dir: tempfile::TempDir,
    ) -> Self {
        Self::start_desktop(name, tray, keyring, data_dir, &[], None).await
    }

    /// With `watch_bus`, a notification server (dunst) runs on the session
    /// bus and `dbus-monitor` records what matches those rules; `extra` is
    /// more environment for the app.
    pub async fn start_desktop(
        name: &str,
        tray: bool,
        keyring: bool,
        data_dir: tempfile::TempDir,
        extra: &[(&str, String)],
        watch_bus: Option<&[&str]>,
    ) -> Self {
        let display = Display::start();
        let keyring = if keyring {
            KeyringSession::start()
        } else {
            KeyringSession::without_keyring()
        };
        let tray = tray.then(|| TrayWatcher::start(&keyring));
        let monitor = watch_bus.map(|rules| {
            BusMonitor::start(
                &keyring,
                rules,
                artifacts_dir("logs").join(format!("dbus-monitor-{name}.log")),
            )
        });
        let notifications = watch_bus.map(|_| NotificationDaemon::start(&keyring, &display));
        let xdg = tempfile::tempdir().unwrap();
        let mut env: Vec<(String, String)> = vec![
            ("DISPLAY".into(), display.name()),
            ("DBUS_SESSION_BUS_ADDRESS".into(), keyring.address().into()),
            (
                "XDG_CACHE_HOME".into(),
                xdg.path().join("cache").display().to_string(),
            ),
            (
                "XDG_CONFIG_HOME".into(),
                xdg.path().join("config").display().to_string(),
            ),
            ("VEDETTE_LOG".into(), "debug".into()),
            ("NO_AT_BRIDGE".into(), "1".into()),
            // The window serves the API: on a port of its own per test.
            ("VEDETTE_API".into(), "127.0.0.1:0".into()),
        ];
        env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
        let env_refs: Vec<(&str, &str)> =
            env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let log = artifacts_dir("logs").join(format!("tauri-driver-{name}.log"));
        let driver = TauriDriver::start(&env_refs, &log);
        let bin = desktop_binary();
        let caps = json!({
            "browserName": "wry",
            "tauri:options": {
                "application": bin,
                "args": ["--data-dir", data_dir.path()],
            }
        });
        let client = ClientBuilder::native()
            .capabilities(caps.as_object().unwrap().clone())
            .connect(&driver.url())
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "WebDriver session did not start ({e}); see {}",
                    log.display()
                )
            });
        let s = Self {
            client,
            data_dir,
            bin,
            env,
            driver,
            monitor,
            notifications,
            keyring,
            _tray: tray,
            _display: display,
            _xdg: xdg,
        };
        s.wait("[data-testid=page-dashboard]").await;
        s
    }

    pub async fn wait(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css} did not appear: {e}"))
    }

    /// Clicks once the element takes clicks: one the driver cannot click
    /// yet (a dialog still opening, a row being redrawn) is tried again for
    /// up to 10 s, as a user would.
    pub async fn click(&self, css: &str) {
        let start = std::time::Instant::now();
        loop {
            match self.wait(css).await.click().await {
                Ok(_) => return,
                Err(fantoccini::error::CmdError::Standard(e))
                    if start.elapsed() < Duration::from_secs(10) =>
                {
                    note_retried_click(css, &e);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("clicking {css}: {e:?}"),
            }
        }
    }

    pub async fn text(&self, css: &str) -> String {
        self.wait(css).await.text().await.unwrap()
    }

    /// Waits until the element's text contains `needle`; returns the text.
    pub async fn wait_text(&self, css: &str, needle: &str) -> String {
        let start = std::time::Instant::now();
        loop {
            let text = self.text(css).await;
            if text.contains(needle) {
                return text;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "{css} never showed {needle:?}; it shows {text:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn fill(&self, css: &str, value: &str) {
        let e = self.wait(css).await;
        e.clear().await.unwrap();
        e.send_keys(value).await.unwrap();
    }

    /// Scrolls the element `css` picks into view (for a screenshot).
    pub async fn scroll_to(&self, css: &str) {
        self.client
            .execute(
                &format!("document.querySelector('{css}').scrollIntoView()"),
                vec![],
            )
            .await
            .unwrap();
    }

    pub async fn go(&self, page: &str) {
        self.click(&format!("[data-testid=nav-{page}]")).await;
        self.wait(&format!("[data-testid=page-{page}]")).await;
    }

    pub async fn screenshot(&self, name: &str) -> PathBuf {
        // Wait for two painted frames; WebKitWebDriver's first snapshot of a
        // session can predate the last paint, so the first one is discarded.
        self.client
            .execute_async(
                "const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
                vec![],
            )
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        let _ = self.client.screenshot().await.unwrap();
        let png = self.client.screenshot().await.unwrap();
        let path = artifacts_dir("screenshots").join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        println!("screenshot: {}", path.display());
        path
    }

    /// What makes the page scroll sideways, if anything: the document or
    /// the main column wider than the window, with the widest elements
    /// that stick out (a table in a scrolling box of its own is fine).
    pub async fn sideways(&self) -> Option<String> {
        let v = self
            .client
            .execute(
                r#"const main = document.querySelector('main.content');
const boxes = [document.documentElement, main].filter(Boolean);
if (boxes.every((b) => b.scrollWidth <= b.clientWidth + 1)) return null;
const edge = main ? main.getBoundingClientRect().right : window.innerWidth;
const scrolls = (e) => { for (let p = e.parentElement; p && p !== main; p = p.parentElement) { const o = getComputedStyle(p).overflowX; if (o === 'auto' || o === 'scroll' || o === 'hidden') return true; } return false; };
const out = [...document.querySelectorAll('main.content *')]
  .map((e) => [e, e.getBoundingClientRect()])
  .filter(([e, r]) => r.width > 0 && r.right > edge + 1 && !scrolls(e))
  .sort((a, b) => b[1].right - a[1].right).slice(0, 4)
  .map(([e, r]) => `${e.tagName.toLowerCase()}.${[...e.classList].join('.')}${e.dataset.testid ? '[' + e.dataset.testid + ']' : ''} ends at ${Math.round(r.right)} px`);
return `the page is ${Math.max(...boxes.map((b) => b.scrollWidth))} px wide in a ${window.innerWidth} px window: ${out.join('; ')}`;"#,
                vec![],
            )
            .await
            .unwrap();
        v.as_str().map(str::to_owned)
    }

    /// Every byte Vedette wrote in its data dir (database, WAL, logs).
    pub fn data_dir_bytes(&self) -> Vec<u8> {
        fn walk(dir: &Path, out: &mut Vec<u8>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    walk(&p, out);
                } else {
                    out.extend(std::fs::read(&p).unwrap());
                }
            }
        }
        let mut out = Vec::new();
        walk(self.data_dir.path(), &mut out);
        out
    }

    /// The X11 map state of the app's top-level window, by `xwininfo`.
    pub fn window_map_state(&self) -> String {
        let out = Command::new(vedette_tests::require("xwininfo"))
            .args(["-name", "Vedette"])
            .envs(self.env.iter().cloned())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        text.lines()
            .find_map(|l| l.trim().strip_prefix("Map State: "))
            .map(str::to_owned)
            .unwrap_or_else(|| {
                format!(
                    "no window ({})",
                    String::from_utf8_lossy(&out.stderr).trim()
                )
            })
    }

    pub async fn stop(self) {
        let _ = self.client.close().await;
        let _ = self.driver.pid();
    }
}

/// The window's log files (one a day), oldest first, as one text.
pub fn desktop_log(data_dir: &Path) -> String {
    let mut files: Vec<PathBuf> = std::fs::read_dir(data_dir.join("logs"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("vedette-desktop.") && n.ends_with(".log"))
        })
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap_or_default())
        .collect()
}

pub fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// What a retried click met, on standard error (shown when the test fails).
fn note_retried_click(css: &str, e: &fantoccini::error::WebDriver) {
    eprintln!("clicking {css}: {:?} {}; trying again", e.error, e.message);
}

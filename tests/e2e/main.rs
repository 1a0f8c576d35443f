//! End-to-end tests of the real desktop window: the built `vedette-desktop`
//! under Xvfb, driven through tauri-driver and Debian's WebKitWebDriver, with
//! gnome-keyring-daemon serving the Secret Service on a private session bus.
//!
//! Screenshots of every page land in `tests/artifacts/screenshots/`.

#![allow(clippy::unwrap_used)] // a test that cannot drive its window should stop there

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use fantoccini::Locator;
use serde_json::json;
use vedette_tests::wait_for;

mod session;
use session::*;

/// The window's pages, as its menu lists them.
const PAGES: [&str; 7] = [
    "dashboard",
    "targets",
    "scans",
    "schedules",
    "nodes",
    "notifications",
    "settings",
];

#[tokio::test(flavor = "multi_thread")]
async fn the_app_opens_on_the_dashboard_with_its_health_checks() {
    let s = Session::start("dashboard").await;
    assert_eq!(s.text("[data-testid=page-dashboard] h1").await, "Dashboard");
    let keyring = s.wait("[data-check=Keyring]").await;
    assert_eq!(
        keyring.attr("data-state").await.unwrap().as_deref(),
        Some("ok")
    );
    let db = s.wait("[data-check=Database]").await;
    assert_eq!(db.attr("data-state").await.unwrap().as_deref(), Some("ok"));
    assert!(db
        .text()
        .await
        .unwrap()
        .contains(&s.data_dir.path().display().to_string()));
    assert!(s
        .text("[data-testid=tile-credentials]")
        .await
        .starts_with('0'));
    assert!(s
        .text("[data-testid=getting-started]")
        .await
        .contains("Add what to watch"));
    s.screenshot("dashboard").await;
    s.stop().await;
}

/// The window follows the system's dark preference (GTK's dark style, as
/// GNOME's dark mode sets it): every page in the dark, screenshotted.
#[tokio::test(flavor = "multi_thread")]
async fn every_page_follows_the_systems_dark_theme() {
    let data = tempfile::tempdir().unwrap();
    let s = Session::start_desktop(
        "dark",
        false,
        true,
        data,
        &[("GTK_THEME", "Adwaita:dark".to_owned())],
        None,
    )
    .await;
    let dark = s
        .client
        .execute(
            "return window.matchMedia('(prefers-color-scheme: dark)').matches",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(dark, json!(true), "the page sees the dark preference");
    let bg = s
        .client
        .execute(
            "return getComputedStyle(document.documentElement).backgroundColor",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(bg, json!("rgb(14, 19, 26)"), "the dark background");
    for page in PAGES {
        s.go(page).await;
        s.screenshot(&format!("dark-{page}")).await;
        assert_eq!(s.sideways().await, None, "{page} at 1240 px");
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn when_the_database_fails_every_page_says_so_instead_of_loading_for_ever() {
    let data = tempfile::tempdir().unwrap();
    scan_debian_fixture(data.path(), &["--packages-only", "-q"]);
    let db = data.path().join("vedette.db");
    let s = Session::start_in("db-errors", false, true, data).await;
    // Another program breaks the database under the running window: each
    // page's tables gone.
    let out = Command::new("python3")
        .arg("-c")
        .arg(
            "import sqlite3, sys\n\
             c = sqlite3.connect(sys.argv[1])\n\
             for t in ['targets', 'scans', 'schedules', 'nodes', 'notify_channels', 'credentials', 'api_tokens']:\n\
             \x20   c.execute(f'ALTER TABLE {t} RENAME TO {t}_gone')\n\
             c.commit()",
        )
        .arg(&db)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut silent = Vec::new();
    for page in PAGES {
        // The dashboard is left and entered again, so it loads anew.
        s.go(if page == "dashboard" {
            "settings"
        } else {
            "dashboard"
        })
        .await;
        s.go(page).await;
        let shown = s
            .client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css("[role=alert]"))
            .await;
        s.screenshot(&format!("error-{page}")).await;
        match shown {
            Ok(banner) => {
                let text = banner.text().await.unwrap();
                if !text.contains("vedette doctor") {
                    silent.push(format!("{page}: {text}"));
                }
            }
            Err(_) => silent.push(format!("{page}: no error shown")),
        }
    }
    assert!(
        silent.is_empty(),
        "pages that do not say the database failed and what to do:\n{}",
        silent.join("\n")
    );
    s.stop().await;
}

/// `vedette scan dir` of the Debian fixture into `data`, with `more` flags.
fn scan_debian_fixture(data: &Path, more: &[&str]) {
    let fixture = vedette_tests::registry::shared("fixtures/debian-12-minbase");
    let mut args = vec!["scan", "dir", fixture.to_str().unwrap()];
    args.extend_from_slice(more);
    run_cli(data, &args);
}

/// A data dir whose one scan has every package the feeds name: about ten
/// thousand findings. Returns how many the CLI's report counts.
fn many_findings_scan(data: &Path) -> usize {
    let feeds = vedette_tests::registry::shared("feeds");
    run_cli(data, &["feed", "import", feeds.to_str().unwrap()]);
    let root = data.join("many");
    vedette_tests::findings::write_many_findings(&root);
    let report = data.join("many.json");
    run_cli(
        data,
        &[
            "scan",
            "dir",
            root.to_str().unwrap(),
            "--offline",
            "-q",
            "-f",
            "json",
            "-o",
            report.to_str().unwrap(),
        ],
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    report["findings"].as_array().unwrap().len()
}

#[tokio::test(flavor = "multi_thread")]
async fn at_200_percent_every_page_fits_the_screen_and_ten_thousand_findings_all_scroll_into_view()
{
    let data = tempfile::tempdir().unwrap();
    let total = many_findings_scan(data.path());
    assert!(total >= 10_000, "{total} findings");
    // A 1280×800 screen at 200 %: the window fills it, 640×400 of CSS pixels.
    let s = Session::start_desktop(
        "scaled",
        false,
        true,
        data,
        &[("GDK_SCALE", "2".to_owned())],
        None,
    )
    .await;
    s.client.set_window_rect(0, 0, 640, 400).await.unwrap();
    let ratio = s
        .client
        .execute("return window.devicePixelRatio", vec![])
        .await
        .unwrap();
    assert_eq!(ratio, json!(2), "the page is drawn at 200 %");
    let mut wide = Vec::new();
    for page in PAGES {
        s.go(page).await;
        s.screenshot(&format!("scaled-{page}")).await;
        if let Some(why) = s.sideways().await {
            wide.push(format!("{page}: {why}"));
        }
    }

    // The scan with every finding: all of them reachable by scrolling.
    s.go("scans").await;
    s.click("[data-testid=scan-row] td").await;
    let count = s
        .wait_text("[data-testid=finding-count]", &format!("{total} findings"))
        .await;
    assert!(count.contains(&total.to_string()), "{count}");
    s.screenshot("scaled-findings").await;
    if let Some(why) = s.sideways().await {
        wide.push(format!("a scan's findings: {why}"));
    }
    // Its own sideways scroll bar would be 10,000 rows down: it fits,
    // nothing cut off at its edge.
    let fits = s
        .client
        .execute(
            "const t = document.querySelector('[data-testid=findings-table]'); return [t, t.parentElement].every((b) => b.scrollWidth <= b.clientWidth + 1)",
            vec![],
        )
        .await
        .unwrap();
    if fits != json!(true) {
        wide.push("the findings table scrolls sideways".to_owned());
    }
    assert!(
        wide.is_empty(),
        "pages wider than the window at 200 %:\n{}",
        wide.join("\n")
    );
    let start = std::time::Instant::now();
    loop {
        let rows = s
            .client
            .execute(
                "document.querySelector('main.content').scrollTop = 1e9; return document.querySelectorAll('[data-testid=finding-row]').length",
                vec![],
            )
            .await
            .unwrap();
        if rows.as_u64() == Some(total as u64) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "scrolling showed {rows} of {total} findings"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    s.screenshot("scaled-findings-end").await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_page_is_reachable_and_its_empty_state_says_what_to_do_first() {
    let s = Session::start("pages").await;
    for (page, empty, advice) in [
        ("targets", "empty-targets", "registry credentials"),
        ("scans", "empty-scans", "vedette scan"),
        ("settings", "no-credentials", "private registry"),
    ] {
        s.go(page).await;
        let text = s.text(&format!("[data-testid={empty}]")).await;
        assert!(text.contains(advice), "{page}: {text}");
        s.screenshot(page).await;
    }
    // The empty Targets page offers to watch a registry.
    s.go("targets").await;
    s.click("[data-testid=add-registry]").await;
    s.wait("[data-testid=registry-dialog]").await;
    s.click("[data-testid=registry-dialog] button.ghost").await;
    s.wait("[data-testid=empty-targets]").await;
    s.go("dashboard").await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_credential_added_in_settings_lands_in_the_keyring_and_is_never_shown_again() {
    let s = Session::start("credential").await;
    s.go("settings").await;
    s.click("[data-testid=add-credential]").await;
    s.wait("[data-testid=credential-dialog]").await;
    let first = "glpat-e2e-First-Secret-4d8a";
    s.fill("[data-testid=cred-host]", "127.0.0.1:5000").await;
    s.fill("[data-testid=cred-username]", "ada").await;
    s.fill("[data-testid=cred-secret]", first).await;
    s.screenshot("settings-dialog").await;
    s.click("[data-testid=cred-save]").await;

    let row = s
        .wait("[data-testid=credential-row][data-host='127.0.0.1:5000']")
        .await;
    let row_text = row.text().await.unwrap();
    assert!(
        row_text.contains("ada") && row_text.contains("Set, in keyring"),
        "{row_text}"
    );
    s.wait_text(
        "[data-testid=notice]",
        "Saved the credential for 127.0.0.1:5000",
    )
    .await;
    s.screenshot("settings-credential").await;

    // In the keyring, as any other program sees it.
    let attrs = [
        ("service", "vedette"),
        ("username", "registry/127.0.0.1:5000"),
    ];
    assert_eq!(s.keyring.secret_tool_lookup(&attrs).as_deref(), Some(first));

    // Replace it: the host is fixed, the secret and user change.
    let second = "glpat-e2e-Second-Secret-91bc";
    s.click("[data-testid=replace-credential]").await;
    s.fill("[data-testid=cred-username]", "grace").await;
    s.fill("[data-testid=cred-secret]", second).await;
    s.click("[data-testid=cred-save]").await;
    wait_for(
        "the replaced secret in the keyring",
        Duration::from_secs(10),
        || (s.keyring.secret_tool_lookup(&attrs).as_deref() == Some(second)).then_some(()),
    );
    s.wait_text("[data-testid=credential-row]", "grace").await;

    // Never shown again, never written to the data dir (database, WAL, logs).
    let page = s.client.source().await.unwrap();
    assert!(!page.contains(first) && !page.contains(second));
    let bytes = s.data_dir_bytes();
    assert!(
        contains(&bytes, "registry/127.0.0.1:5000"),
        "the name is stored"
    );
    assert!(
        contains(&bytes, "secret stored in the keyring"),
        "debug logs were written"
    );
    assert!(!contains(&bytes, first) && !contains(&bytes, second));

    // Delete asks first, then removes it from the keyring too.
    s.click("[data-testid=delete-credential]").await;
    s.click("[data-testid=confirm-delete]").await;
    s.wait("[data-testid=no-credentials]").await;
    assert_eq!(s.keyring.secret_tool_lookup(&attrs), None);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_registry_typed_as_a_url_is_explained_in_the_dialog() {
    let s = Session::start("invalid-host").await;
    s.go("settings").await;
    s.click("[data-testid=add-credential]").await;
    s.fill("[data-testid=cred-host]", "https://ghcr.io/v2/")
        .await;
    s.fill("[data-testid=cred-username]", "ada").await;
    s.fill("[data-testid=cred-secret]", "tok").await;
    s.click("[data-testid=cred-save]").await;
    let err = s.text("[data-testid=dialog-error]").await;
    assert!(
        err.contains("without 'https://'") && err.contains("ghcr.io"),
        "{err}"
    );
    s.screenshot("settings-dialog-error").await;
    // Nothing was stored; the dialog is still open for a correction.
    assert!(s
        .wait("[data-testid=credential-dialog]")
        .await
        .is_displayed()
        .await
        .unwrap());
    assert_eq!(
        s.keyring
            .secret_tool_lookup(&[("service", "vedette"), ("username", "registry/ghcr.io")]),
        None
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn closing_the_window_keeps_vedette_running_and_a_second_launch_brings_it_back() {
    let s = Session::start("single-instance").await;
    assert_eq!(s.window_map_state(), "IsViewable");

    // The same request the title bar's close button sends.
    s.client
        .execute(
            "window.__TAURI_INTERNALS__.invoke('plugin:window|close', {label: 'main'}); return true;",
            vec![],
        )
        .await
        .unwrap();
    wait_for("the window to hide", Duration::from_secs(10), || {
        (s.window_map_state() == "IsUnMapped").then_some(())
    });
    // Still running: the app answers.
    assert_eq!(s.client.title().await.unwrap(), "Vedette");

    // A second launch hands over to the first and exits.
    let second = Command::new(&s.bin)
        .arg("--data-dir")
        .arg(s.data_dir.path())
        .envs(s.env.iter().cloned())
        .output()
        .unwrap();
    assert!(second.status.success(), "second instance: {second:?}");
    wait_for(
        "the first window to show again",
        Duration::from_secs(10),
        || (s.window_map_state() == "IsViewable").then_some(()),
    );
    assert!(s
        .wait("[data-testid=page-dashboard]")
        .await
        .is_displayed()
        .await
        .unwrap());
    s.stop().await;
}

/// The app's tray menu as a desktop panel sees it, over D-Bus.
mod tray {
    use std::collections::HashMap;

    use zbus::blocking::Connection;
    use zbus::zvariant::{OwnedObjectPath, OwnedValue, Value};

    pub struct Item {
        pub id: i32,
        pub label: String,
        pub enabled: bool,
        pub separator: bool,
    }

    pub struct Menu {
        conn: Connection,
        service: String,
        path: OwnedObjectPath,
    }

    type Layout = (i32, HashMap<String, OwnedValue>, Vec<OwnedValue>);

    impl Menu {
        /// Finds the one registered tray item and its exported menu.
        pub fn find(bus: &str) -> Option<Self> {
            let conn = zbus::blocking::connection::Builder::address(bus)
                .ok()?
                .build()
                .ok()?;
            let watcher = zbus::blocking::Proxy::new(
                &conn,
                "org.kde.StatusNotifierWatcher",
                "/StatusNotifierWatcher",
                "org.kde.StatusNotifierWatcher",
            )
            .ok()?;
            let items: Vec<String> = watcher.get_property("RegisteredStatusNotifierItems").ok()?;
            let registered = items.first()?.clone();
            // "service" or "service/object/path".
            let (service, item_path) = match registered.find('/') {
                Some(i) => (registered[..i].to_owned(), registered[i..].to_owned()),
                None => {
                    let base = "/org/ayatana/NotificationItem";
                    let intro = zbus::blocking::fdo::IntrospectableProxy::builder(&conn)
                        .destination(registered.clone())
                        .ok()?
                        .path(base)
                        .ok()?
                        .build()
                        .ok()?
                        .introspect()
                        .ok()?;
                    let node = intro
                        .split("node name=\"")
                        .nth(1)?
                        .split('"')
                        .next()?
                        .to_owned();
                    (registered.clone(), format!("{base}/{node}"))
                }
            };
            let item = zbus::blocking::Proxy::new(
                &conn,
                service.clone(),
                item_path,
                "org.kde.StatusNotifierItem",
            )
            .ok()?;
            let path: OwnedObjectPath = item.get_property("Menu").ok()?;
            Some(Self {
                conn,
                service,
                path,
            })
        }

        fn proxy(&self) -> zbus::blocking::Proxy<'_> {
            zbus::blocking::Proxy::new(
                &self.conn,
                self.service.clone(),
                self.path.clone(),
                "com.canonical.dbusmenu",
            )
            .unwrap()
        }

        pub fn items(&self) -> Vec<Item> {
            let (_rev, (_id, _props, children)): (u32, Layout) = self
                .proxy()
                .call("GetLayout", &(0i32, -1i32, Vec::<String>::new()))
                .unwrap();
            children
                .into_iter()
                .map(|child| {
                    let (id, props, _): Layout = Value::from(child).try_into().unwrap();
                    let text = |k: &str| {
                        props
                            .get(k)
                            .and_then(|v| String::try_from(v.clone()).ok())
                            .unwrap_or_default()
                    };
                    Item {
                        id,
                        label: text("label"),
                        separator: text("type") == "separator",
                        enabled: props
                            .get("enabled")
                            .map(|v| bool::try_from(v.clone()).unwrap())
                            .unwrap_or(true),
                    }
                })
                .collect()
        }

        /// What a panel sends when the user clicks the item.
        pub fn click(&self, label: &str) {
            let id = self
                .items()
                .into_iter()
                .find(|i| i.label == label)
                .unwrap_or_else(|| panic!("no tray item {label:?}"))
                .id;
            let _: () = self
                .proxy()
                .call("Event", &(id, "clicked", Value::from(0i32), 0u32))
                .unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_tray_menu_opens_the_window_pauses_the_schedules_and_quits() {
    let s = Session::start_with("tray", true, true).await;
    let bus = s.keyring.address().to_owned();
    let menu = tokio::task::spawn_blocking(move || {
        wait_for("the tray icon to register", Duration::from_secs(20), || {
            tray::Menu::find(&bus)
        })
    })
    .await
    .unwrap();
    let menu = std::sync::Arc::new(menu);
    let m = menu.clone();
    let items = tokio::task::spawn_blocking(move || m.items())
        .await
        .unwrap();
    let shown: Vec<(String, bool)> = items
        .iter()
        .filter(|i| !i.separator)
        .map(|i| (i.label.clone(), i.enabled))
        .collect();
    assert_eq!(
        shown,
        [
            // The state in words, first (Linux trays show no tooltip).
            ("Watching".to_owned(), false),
            ("Open Vedette".to_owned(), true),
            ("Scan all now".to_owned(), true),
            ("Pause schedules".to_owned(), true),
            ("Quit Vedette".to_owned(), true),
        ]
    );
    // Pausing says so in the menu (and in its status line), and resuming
    // brings it back; the pause is kept in the data dir.
    for (click, then, status, kept) in [
        (
            "Pause schedules",
            "Resume schedules",
            "schedules paused",
            true,
        ),
        ("Resume schedules", "Pause schedules", "watching", false),
    ] {
        let m = menu.clone();
        tokio::task::spawn_blocking(move || m.click(click))
            .await
            .unwrap();
        let m = menu.clone();
        tokio::task::spawn_blocking(move || {
            wait_for(then, Duration::from_secs(10), || {
                let items = m.items();
                (items.iter().any(|i| i.label == then)
                    && items.iter().any(|i| !i.enabled && i.label == status))
                .then_some(())
            })
        })
        .await
        .unwrap();
        let data = s.data_dir.path().to_owned();
        tokio::task::spawn_blocking(move || {
            wait_for(
                "the pause kept in the data dir",
                Duration::from_secs(10),
                || {
                    let listed =
                        String::from_utf8_lossy(&run_cli_err(&data, &["schedule", "list"]))
                            .into_owned();
                    (listed.contains("paused") == kept).then_some(())
                },
            )
        })
        .await
        .unwrap();
    }

    // Hidden window, then "Open Vedette" brings it back.
    s.client
        .execute(
            "window.__TAURI_INTERNALS__.invoke('plugin:window|close', {label: 'main'}); return true;",
            vec![],
        )
        .await
        .unwrap();
    wait_for("the window to hide", Duration::from_secs(10), || {
        (s.window_map_state() == "IsUnMapped").then_some(())
    });
    let m = menu.clone();
    tokio::task::spawn_blocking(move || m.click("Open Vedette"))
        .await
        .unwrap();
    wait_for("the window to show", Duration::from_secs(10), || {
        (s.window_map_state() == "IsViewable").then_some(())
    });

    // "Quit Vedette" ends the app: its window is gone.
    let m = menu.clone();
    tokio::task::spawn_blocking(move || m.click("Quit Vedette"))
        .await
        .unwrap();
    wait_for("the app to quit", Duration::from_secs(10), || {
        s.window_map_state().starts_with("no window").then_some(())
    });
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_keyring_the_window_says_what_to_install_and_stores_nothing() {
    let s = Session::start_with("no-keyring", false, false).await;
    let check = s.wait("[data-check=Keyring]").await;
    assert_eq!(
        check.attr("data-state").await.unwrap().as_deref(),
        Some("fail")
    );
    assert!(check.text().await.unwrap().contains("gnome-keyring"));

    s.go("settings").await;
    let banner = s.text("[data-testid=keyring-banner]").await;
    assert!(
        banner.contains("The OS keyring is not available") && banner.contains("gnome-keyring"),
        "{banner}"
    );
    s.click("[data-testid=add-credential]").await;
    s.fill("[data-testid=cred-host]", "ghcr.io").await;
    s.fill("[data-testid=cred-username]", "ada").await;
    s.fill("[data-testid=cred-secret]", "never-stored-2b7e")
        .await;
    s.click("[data-testid=cred-save]").await;
    let err = s.text("[data-testid=dialog-error]").await;
    assert!(err.contains("keyring cannot be reached"), "{err}");
    assert!(!err.contains("never-stored-2b7e"));
    s.screenshot("settings-no-keyring").await;
    // Nothing half-written: the list stays empty after the dialog is closed.
    s.client
        .execute(
            "document.querySelector('[data-testid=credential-dialog]').close(); return true;",
            vec![],
        )
        .await
        .unwrap();
    s.go("dashboard").await;
    assert!(s
        .text("[data-testid=tile-credentials]")
        .await
        .starts_with('0'));
    assert!(!contains(&s.data_dir_bytes(), "never-stored-2b7e"));
}

/// The CLI built next to the desktop binary.
fn cli_binary() -> PathBuf {
    desktop_binary().with_file_name("vedette")
}

/// Runs the `vedette` CLI on a data dir (no session bus: no keyring); it
/// must succeed.
fn run_cli_output(data: &Path, args: &[&str]) -> std::process::Output {
    let out = Command::new(cli_binary())
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Its standard output.
fn run_cli(data: &Path, args: &[&str]) -> Vec<u8> {
    run_cli_output(data, args).stdout
}

/// Its standard error.
fn run_cli_err(data: &Path, args: &[&str]) -> Vec<u8> {
    run_cli_output(data, args).stderr
}

#[tokio::test(flavor = "multi_thread")]
async fn scans_run_from_the_cli_appear_in_the_window() {
    let data = tempfile::tempdir().unwrap();
    scan_debian_fixture(
        data.path(),
        &[
            "-q",
            "--packages-only",
            "--format",
            "json",
            "-o",
            "/dev/null",
        ],
    );
    let s = Session::start_in("history", false, true, data).await;
    assert!(s.text("[data-testid=tile-scans]").await.starts_with('1'));
    s.go("scans").await;
    let row = s.text("[data-testid=scans-table] tbody tr").await;
    assert!(
        row.contains("debian-12-minbase") && row.contains("Done"),
        "{row}"
    );
    s.screenshot("scans-history").await;
    s.go("targets").await;
    let t = s.text("[data-testid=targets-table]").await;
    assert!(
        t.contains("debian-12-minbase") && t.contains("Directory"),
        "{t}"
    );
    s.stop().await;
}

/// A window pointed at a team's PostgreSQL (`VEDETTE_DATABASE_URL`, as a
/// workstation's session would set it) shows the history, findings and
/// trend another machine's CLI recorded there, and what is recorded while
/// it is open; its own data dir holds none of it.
#[tokio::test(flavor = "multi_thread")]
async fn a_window_on_a_team_database_shows_the_history_other_machines_recorded() {
    let pg = vedette_tests::postgres::Postgres::start();
    let url = pg.database("team");
    let fixture = vedette_tests::registry::shared("fixtures/debian-12-minbase");
    let fixture = fixture.to_str().unwrap();
    // Another machine: its own data dir and advisory index (feeds from the
    // offline bundle), the team's database.
    let other = tempfile::tempdir().unwrap();
    let feeds = vedette_tests::registry::shared("feeds");
    run_cli(other.path(), &["feed", "import", feeds.to_str().unwrap()]);
    let scan = || {
        run_cli(
            other.path(),
            &[
                "--database",
                &url,
                "scan",
                "dir",
                fixture,
                "--offline",
                "-q",
                "-o",
                "/dev/null",
            ],
        )
    };
    scan();

    let s = Session::start_desktop(
        "team-database",
        false,
        true,
        tempfile::tempdir().unwrap(),
        &[("VEDETTE_DATABASE_URL", url.clone())],
        None,
    )
    .await;
    let db = s.wait("[data-check=Database]").await;
    assert_eq!(db.attr("data-state").await.unwrap().as_deref(), Some("ok"));
    // The check names where the history is (the page capitalises it).
    let said = db.text().await.unwrap().to_lowercase();
    assert!(
        said.contains(&url.to_lowercase()) && said.contains("1 scan"),
        "{said} (the team's database: {url})"
    );
    let chart = s
        .wait_text("[data-testid=trend-chart]", "Open findings by severity")
        .await;
    assert!(chart.contains("critical"), "{chart}");
    s.go("scans").await;
    let row = s.text("[data-testid=scans-table] tbody tr").await;
    assert!(
        row.contains("debian-12-minbase") && row.contains("Done"),
        "{row}"
    );
    s.screenshot("team-database-scans").await;
    s.click("[data-testid=scan-row] td").await;
    let first = s.text("[data-testid=finding-row]").await;
    assert!(
        first.contains("critical") && first.contains("perl-base"),
        "the findings recorded in the team's database: {first}"
    );
    s.click("[data-testid=back-to-scans]").await;
    s.wait("[data-testid=scans-table]").await;

    // Recorded there while the window is open: the window shows it.
    scan();
    s.go("dashboard").await;
    s.go("scans").await;
    let mut rows = 0;
    for _ in 0..40 {
        let table = s.text("[data-testid=scans-table] tbody").await;
        rows = table.matches("debian-12-minbase").count();
        if rows == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(rows, 2, "both scans of the team's database are listed");
    assert!(
        !s.data_dir.path().join("vedette.db").exists(),
        "the window's own data dir holds no history"
    );
    s.stop().await;
}

/// `vedette://` links, opened with `xdg-open` as a browser or a mail client
/// would (the scheme handed to the app by a desktop entry like the .deb's):
/// the launch they start hands the link to the running window, which shows
/// that scan, then marks that target. Settings turns starting at login on
/// and off (an XDG autostart entry, minimised to the tray).
#[tokio::test(flavor = "multi_thread")]
async fn a_vedette_link_opened_with_xdg_open_shows_its_scan_in_the_running_window() {
    let data = tempfile::tempdir().unwrap();
    for fixture in ["alpine-3.23", "debian-12-minbase"] {
        let fixture = vedette_tests::registry::shared(&format!("fixtures/{fixture}"));
        run_cli(
            data.path(),
            &[
                "scan",
                "dir",
                fixture.to_str().unwrap(),
                "-q",
                "--packages-only",
                "-o",
                "/dev/null",
            ],
        );
    }
    let history: serde_json::Value =
        serde_json::from_slice(&run_cli(data.path(), &["history", "--format", "json"])).unwrap();
    let alpine = history
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["target_name"].as_str().unwrap().ends_with("alpine-3.23"))
        .unwrap()
        .clone();
    let data_path = data.path().to_owned();
    let s = Session::start_in("deep-link", false, true, data).await;

    // The scheme's handler in this session's XDG dirs, as the .deb installs it.
    let xdg_data = s._xdg.path().join("data");
    let apps = xdg_data.join("applications");
    std::fs::create_dir_all(&apps).unwrap();
    std::fs::write(
        apps.join("vedette-e2e.desktop"),
        format!(
            "[Desktop Entry]\nType=Application\nName=Vedette\nExec={} --data-dir {} %u\nMimeType=x-scheme-handler/vedette;\n",
            s.bin.display(),
            data_path.display()
        ),
    )
    .unwrap();
    let xdg = |program: &str, args: &[&str]| {
        let out = Command::new(vedette_tests::require(program))
            .args(args)
            .envs(s.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("XDG_DATA_HOME", &xdg_data)
            .env_remove("XDG_CURRENT_DESKTOP")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{program} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    xdg(
        "xdg-mime",
        &["default", "vedette-e2e.desktop", "x-scheme-handler/vedette"],
    );

    // A scan's link: its detail, in this window.
    s.go("settings").await;
    let scan_id = alpine["id"].as_i64().unwrap();
    xdg("xdg-open", &[&format!("vedette://scan/{scan_id}")]);
    let detail = s.text("[data-testid=scan-detail]").await;
    assert!(
        detail.contains("alpine-3.23") && detail.contains(&format!("Scan {scan_id}")),
        "{detail}"
    );
    s.screenshot("deep-link-scan").await;

    // A target's link: the Targets page, that row marked.
    let target_id = alpine["target_id"].as_i64().unwrap();
    xdg("xdg-open", &[&format!("vedette://target/{target_id}")]);
    let row = s
        .text(&format!(
            "[data-testid=target-row][data-target-id='{target_id}'][aria-current=true]"
        ))
        .await;
    assert!(row.contains("alpine-3.23"), "{row}");

    // Starting at login, from Settings.
    let entry = s._xdg.path().join("config/autostart/vedette.desktop");
    s.go("settings").await;
    // Enabled once the page knows whether it is on.
    s.click("[data-testid=autostart]:not([disabled])").await;
    s.wait_text("[data-testid=notice]", "start at login").await;
    let text = std::fs::read_to_string(&entry).expect("the autostart entry is written");
    assert!(
        text.contains(&format!(
            "Exec={} --minimized --data-dir {}",
            s.bin.display(),
            data_path.display()
        )),
        "{text}"
    );
    s.click("[data-testid=autostart]:not([disabled])").await;
    s.wait_text("[data-testid=notice]", "will not start at login")
        .await;
    assert!(!entry.exists(), "turned off: the entry is gone");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_schedule_is_made_in_the_dialog_with_its_cron_explained_and_bad_input_refused_in_place() {
    // One target, so the dialog can show which targets a schedule picks.
    let data = tempfile::tempdir().unwrap();
    scan_debian_fixture(data.path(), &["-q", "--packages-only", "-o", "/dev/null"]);
    let s = Session::start_in("schedules", false, true, data).await;
    s.go("schedules").await;
    // The built-in weekly scan of everything is there, off, one click from on.
    let row = "[data-testid=schedule-row][data-name='Weekly scan of all containers and hosts']";
    s.wait_text(row, "disabled").await;
    s.screenshot("schedules").await;
    s.click(&format!("{row} [data-testid=toggle-schedule]"))
        .await;
    s.wait_text(&format!("{row} [data-testid=schedule-state]"), "enabled")
        .await;
    assert!(!s
        .text(&format!("{row} [data-testid=next-run]"))
        .await
        .contains('—'));
    // The dashboard's first steps now show the weekly scan as done.
    s.go("dashboard").await;
    s.wait("[data-testid=getting-started] li.done:nth-child(3)")
        .await;
    s.go("schedules").await;

    s.click("[data-testid=new-schedule]").await;
    s.wait("[data-testid=schedule-dialog]").await;
    s.fill("[data-testid=sched-name]", "Nightly images").await;
    s.click("[data-testid=preset-custom]").await;
    s.fill("[data-testid=sched-cron]", "61 * * * *").await;
    s.wait_text(
        "[data-testid=cron-problem]",
        "the minute field says 61; minutes run from 0 to 59",
    )
    .await;
    let save = s.wait("[data-testid=sched-save]").await;
    assert!(
        save.attr("disabled").await.unwrap().is_some(),
        "an invalid schedule cannot be saved"
    );
    s.screenshot("schedule-dialog-error").await;

    s.fill("[data-testid=sched-cron]", "30 2 * * *").await;
    s.fill("[data-testid=sched-timezone]", "Europe/Paris").await;
    s.wait_text("[data-testid=cron-description]", "02:30").await;
    let runs = s.wait_text("[data-testid=next-runs]", "CET").await;
    assert_eq!(runs.matches("CET").count(), 5, "{runs}");
    s.wait_text("[data-testid=preview-targets]", "debian-12-minbase")
        .await;
    s.click("[data-testid=kind-image]").await;
    s.wait("[data-testid=preview-no-targets]").await;
    s.click("[data-testid=kind-directory]").await;
    s.wait_text("[data-testid=preview-targets]", "debian-12-minbase")
        .await;
    s.screenshot("schedule-dialog").await;
    s.click("[data-testid=sched-save]").await;
    s.wait_text("[data-testid=notice]", "Saved Nightly images")
        .await;
    let row = s
        .wait_text(
            "[data-testid=schedule-row][data-name='Nightly images']",
            "30 2 * * *",
        )
        .await;
    assert!(
        row.contains("Europe/Paris") && row.contains("enabled"),
        "{row}"
    );
    s.screenshot("schedules-saved").await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scan_shows_its_findings_by_risk_with_reasons_and_the_dashboard_charts_the_trend() {
    let data = tempfile::tempdir().unwrap();
    let cli = |args: &[&str]| {
        run_cli(data.path(), args);
    };
    // Feeds from the offline bundle; no network.
    let feeds = vedette_tests::registry::shared("feeds");
    cli(&["feed", "import", feeds.to_str().unwrap()]);
    let fixture = vedette_tests::registry::shared("fixtures/debian-12-minbase");
    for _ in 0..2 {
        cli(&[
            "scan",
            "dir",
            fixture.to_str().unwrap(),
            "--offline",
            "-q",
            "-o",
            "/dev/null",
        ]);
    }
    let s = Session::start_in("findings", false, true, data).await;
    let chart = s
        .wait_text("[data-testid=trend-chart]", "Open findings by severity")
        .await;
    assert!(
        chart.contains("critical") && chart.contains("New and fixed per week"),
        "{chart}"
    );
    s.screenshot("dashboard-chart").await;

    s.go("scans").await;
    s.click("[data-testid=scan-row] td").await;
    s.wait_text("[data-testid=diff-counts]", "0 new").await;
    s.wait_text("[data-testid=diff-counts]", "16 unchanged")
        .await;
    let first = s.text("[data-testid=finding-row]").await;
    assert!(
        first.contains("critical") && first.contains("perl-base"),
        "highest risk first: {first}"
    );
    s.click("[data-testid=finding-row] td").await;
    let reasons = s
        .wait_text("[data-testid=risk-reasons]", "CVSS 3.1 base score")
        .await;
    assert!(
        reasons.contains("exploitable over the network") && reasons.contains("a fix is published"),
        "{reasons}"
    );
    s.screenshot("scan-detail").await;
    s.click("[data-testid=back-to-scans]").await;
    s.wait("[data-testid=scans-table]").await;
    s.stop().await;
}

/// A scan's findings are searched and filtered in the window, and one is
/// triaged: "not affected", with the reason the user chose from OpenVEX's
/// (none is assumed), in their words and until a date; it lands in the
/// console's policy as an exception and is exported as OpenVEX with that
/// justification.
#[tokio::test(flavor = "multi_thread")]
async fn findings_are_searched_filtered_and_triaged_into_the_policy_and_exported_as_openvex() {
    let data = tempfile::tempdir().unwrap();
    let data_path = data.path().to_owned();
    let feeds = vedette_tests::registry::shared("feeds");
    run_cli(data.path(), &["feed", "import", feeds.to_str().unwrap()]);
    scan_debian_fixture(data.path(), &["--offline", "-q", "-o", "/dev/null"]);
    let s = Session::start_in("triage", false, true, data).await;
    s.go("scans").await;
    s.click("[data-testid=scan-row] td").await;
    s.wait_text("[data-testid=finding-count]", "16 findings")
        .await;

    // Search: only perl's findings.
    s.fill("[data-testid=finding-search]", "perl").await;
    let count = s.wait_text("[data-testid=finding-count]", " of 16").await;
    let rows = s
        .client
        .find_all(Locator::Css("[data-testid=finding-row]"))
        .await
        .unwrap();
    assert!(
        !rows.is_empty() && count.starts_with(&rows.len().to_string()),
        "{count}"
    );
    for r in rows {
        let t = r.text().await.unwrap();
        assert!(t.to_lowercase().contains("perl"), "{t}");
    }
    // Emptied as a user would: select all, then delete.
    s.wait("[data-testid=finding-search]")
        .await
        .send_keys("\u{e009}a\u{e009}\u{e017}")
        .await
        .unwrap();
    s.wait_text("[data-testid=finding-count]", "16 findings")
        .await;
    // Critical only.
    s.client
        .find(Locator::Css(
            "[data-testid=filter-severity] option[value=critical]",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    s.wait_text("[data-testid=finding-count]", " of 16").await;
    for r in s
        .client
        .find_all(Locator::Css("[data-testid=finding-row]"))
        .await
        .unwrap()
    {
        assert!(r.text().await.unwrap().contains("critical"));
    }
    s.screenshot("scan-filters").await;

    // Triage the first (riskiest) one.
    let first = s.wait("[data-testid=finding-row]").await;
    let id = first.attr("data-id").await.unwrap().unwrap();
    s.click("[data-testid=finding-row] td").await;
    s.wait("[data-testid=triage-form]").await;
    s.client
        .find(Locator::Css(
            "[data-testid=triage-justification] option[value=vulnerable_code_not_in_execute_path]",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    s.fill(
        "[data-testid=triage-reason]",
        "perl only runs the package manager here",
    )
    .await;
    s.screenshot("scan-triage").await;
    s.click("[data-testid=triage-save]").await;
    s.wait_text("[data-testid=notice]", "not affected until")
        .await;
    s.wait("[data-testid=triaged]").await;
    let policy = std::fs::read_to_string(data_path.join("policy.toml")).unwrap();
    assert!(
        policy.contains(&id)
            && policy.contains("vulnerable_code_not_in_execute_path")
            && policy.contains("perl only runs the package manager here"),
        "{policy}"
    );

    // Exported as OpenVEX with the justification chosen.
    s.click("[data-testid=export-vex]").await;
    s.wait_text("[data-testid=notice]", "OpenVEX").await;
    let vex: serde_json::Value =
        serde_json::from_slice(&std::fs::read(data_path.join("exceptions.openvex.json")).unwrap())
            .unwrap();
    let st = &vex["statements"][0];
    assert_eq!(st["vulnerability"]["name"], id.as_str());
    assert_eq!(st["status"], "not_affected");
    assert_eq!(st["justification"], "vulnerable_code_not_in_execute_path");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_schedule_made_in_the_dialog_fires_notifies_once_on_the_bus_and_the_click_opens_its_scan()
{
    // A directory target listed once (packages only: no findings on
    // record yet), and the feeds from the offline bundle.
    let data = tempfile::tempdir().unwrap();
    let cli = |args: &[&str]| {
        run_cli(data.path(), args);
    };
    // No network: a feed refresh, if one were due, fails fast on loopback.
    let offline = offline_feeds(data.path());
    let fixture = vedette_tests::registry::shared("fixtures/debian-12-minbase");
    cli(&[
        "scan",
        "dir",
        fixture.to_str().unwrap(),
        "--packages-only",
        "-q",
        "-o",
        "/dev/null",
    ]);
    let s = Session::start_desktop(
        "notify",
        true,
        true,
        data,
        &offline,
        Some(&[
            "type='method_call',interface='org.freedesktop.Notifications',member='Notify'",
            "type='signal',interface='org.kde.StatusNotifierItem',member='NewIcon'",
        ]),
    )
    .await;

    // The schedule, made in the dialog: every 2 seconds, directories.
    s.go("schedules").await;
    s.click("[data-testid=new-schedule]").await;
    s.wait("[data-testid=schedule-dialog]").await;
    s.fill("[data-testid=sched-name]", "Every 2 seconds").await;
    s.click("[data-testid=preset-custom]").await;
    s.fill("[data-testid=sched-cron]", "*/2 * * * * *").await;
    s.wait_text("[data-testid=cron-description]", "2 seconds")
        .await;
    s.click("[data-testid=kind-directory]").await;
    s.wait_text("[data-testid=preview-targets]", "debian-12-minbase")
        .await;
    s.click("[data-testid=sched-save]").await;
    s.wait_text("[data-testid=notice]", "Saved Every 2 seconds")
        .await;

    // It fires: one notification for the run, summarising its new critical
    // findings, and the tray icon changes.
    let monitor = s.monitor.as_ref().unwrap();
    let text = wait_for(
        "the Notify call on the session bus",
        Duration::from_secs(60),
        || {
            let t = monitor.text();
            t.contains("member=Notify").then_some(t)
        },
    );
    assert!(
        text.contains("Vedette: 2 new critical or known-exploited findings"),
        "{text}"
    );
    assert!(
        text.contains("debian-12-minbase") && text.contains("Run: Every 2 seconds"),
        "{text}"
    );
    assert!(
        text.contains("member=NewIcon"),
        "the tray icon did not change: {text}"
    );
    // Later runs find nothing new: no second notification.
    let row = "[data-testid=schedule-row][data-name='Every 2 seconds']";
    s.wait_text(row, "last run").await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    s.click(&format!("{row} [data-testid=toggle-schedule]"))
        .await;
    s.wait_text(&format!("{row} [data-testid=schedule-state]"), "disabled")
        .await;
    assert_eq!(
        monitor.text().matches("member=Notify").count(),
        1,
        "one notification per run with new alarming findings, not per run or per finding"
    );
    // "Run now" runs it at once, disabled or not.
    let scheduled = || {
        let out = run_cli(
            s.data_dir.path(),
            &["history", "--format", "json", "--limit", "1000"],
        );
        serde_json::from_slice::<serde_json::Value>(&out)
            .unwrap()
            .as_array()
            .unwrap()
            .iter()
            .filter(|h| h["trigger"] == "schedule" && h["state"] == "succeeded")
            .count()
    };
    let before = scheduled();
    s.click(&format!("{row} [data-testid=run-schedule]")).await;
    s.wait_text("[data-testid=notice]", "running now").await;
    wait_for(
        "the run started with Run now",
        Duration::from_secs(30),
        || (scheduled() > before).then_some(()),
    );

    // Clicking the notification opens the scan it is about.
    s.go("dashboard").await;
    s.notifications.as_ref().unwrap().click_newest();
    s.wait("[data-testid=scan-detail]").await;
    s.wait_text("[data-testid=diff-counts]", "16 new").await;
    let first = s.text("[data-testid=finding-row]").await;
    assert!(
        first.contains("critical") && first.contains("first scan"),
        "{first}"
    );
    s.screenshot("notification-opened-scan").await;

    // The dashboard: the chart, the most exploitable findings, the runs.
    s.go("dashboard").await;
    s.wait_text("[data-testid=trend-chart]", "Open findings by severity")
        .await;
    let top = s.text("[data-testid=exploitable-row]").await;
    assert!(
        top.contains("critical") && top.contains("debian-12-minbase"),
        "{top}"
    );
    s.wait_text("[data-testid=runs]", "Every 2 seconds").await;
    s.screenshot("dashboard-activity").await;
    // The chart of one target.
    s.click("[data-testid=trend-scope] option[value^='t:']")
        .await;
    s.wait_text("[data-testid=trend-chart]", "debian-12-minbase")
        .await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_registry_is_watched_from_the_window_and_its_crawl_previewed_with_bad_input_explained() {
    let reg = vedette_tests::registry::Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    for (repo, tag, created) in [
        ("shop/api", "1.0", "2026-11-01T10:00:00Z"),
        ("shop/api", "1.1", "2026-11-20T10:00:00Z"),
        ("shop/web", "2", "2026-11-02T10:00:00Z"),
        ("other/db", "1", "2026-11-03T10:00:00Z"),
    ] {
        let layout = tmp.path().join(format!("{}-{tag}", repo.replace('/', "-")));
        vedette_tests::registry::oci_layout_created(
            &layout,
            &[vedette_tests::registry::Layer::default()
                .file("etc/build", format!("{repo}:{tag}").as_bytes())],
            tag,
            created,
        );
        reg.push(&layout, repo, tag);
    }
    let s = Session::start("registry").await;
    s.go("targets").await;
    s.click("[data-testid=add-registry]").await;
    s.wait("[data-testid=registry-dialog]").await;
    s.fill("[data-testid=reg-host]", &reg.host()).await;
    s.fill("[data-testid=reg-repos]", "shop/*").await;
    s.click("[data-testid=reg-mode-regex]").await;
    s.fill("[data-testid=reg-pattern]", "v(1").await;
    s.click("[data-testid=reg-insecure]").await;
    s.fill("[data-testid=reg-group]", "prod").await;
    s.click("[data-testid=reg-save]").await;
    s.wait_text(
        "[data-testid=registry-error]",
        "is not a regular expression",
    )
    .await;
    s.screenshot("registry-dialog-error").await;
    s.click("[data-testid=reg-mode-latest]").await;
    // GitLab asks for its address; the other kinds do not.
    s.click("[data-testid=reg-kind] option[value=gitlab]").await;
    s.wait("[data-testid=reg-api]").await;
    s.screenshot("registry-dialog-gitlab").await;
    s.click("[data-testid=reg-kind] option[value=auto]").await;
    s.screenshot("registry-dialog").await;
    s.click("[data-testid=reg-save]").await;
    s.wait_text("[data-testid=notice]", "Watching").await;
    let row = format!("[data-testid=target-row][data-name='{}']", reg.host());
    let text = s.wait_text(&row, "the newest image").await;
    assert!(text.contains("prod") && text.contains("shop/*"), "{text}");
    s.click(&format!("{row} [data-testid=crawl-registry]"))
        .await;
    let listed = s
        .wait_text("[data-testid=crawl-result]", "shop/web:2")
        .await;
    assert!(
        listed.contains("shop/api:1.1")
            && !listed.contains("shop/api:1.0")
            && !listed.contains("other/db"),
        "{listed}"
    );
    s.screenshot("targets-registry").await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scan_detail_shows_what_is_new_with_its_cause_and_what_was_fixed() {
    let data = tempfile::tempdir().unwrap();
    let cli = |args: &[&str]| {
        run_cli(data.path(), args);
    };
    let feeds = vedette_tests::registry::shared("feeds");
    cli(&["feed", "import", feeds.to_str().unwrap()]);
    // A host's root (the Debian fixture), scanned before and after an
    // upgrade that fixed pcre2 and a rollback that brought the vulnerable
    // perl back.
    let fixture = vedette_tests::registry::shared("fixtures/debian-12-minbase");
    let host = tempfile::tempdir().unwrap();
    for f in [
        "etc/debian_version",
        "etc/os-release",
        "var/lib/dpkg/status",
    ] {
        let to = host.path().join(f);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::write(&to, std::fs::read(fixture.join(f)).unwrap()).unwrap();
    }
    let status = std::fs::read_to_string(fixture.join("var/lib/dpkg/status")).unwrap();
    let set_version = |text: &str, package: &str, from: &str, to: &str| -> String {
        let start = text.find(&format!("Package: {package}\n")).unwrap();
        let end = start + text[start..].find("\n\n").unwrap();
        let block =
            text[start..end].replace(&format!("Version: {from}\n"), &format!("Version: {to}\n"));
        assert_ne!(block, text[start..end], "{package} {from} not found");
        format!("{}{block}{}", &text[..start], &text[end..])
    };
    let dpkg = host.path().join("var/lib/dpkg/status");
    let scan = || {
        cli(&[
            "scan",
            "dir",
            host.path().to_str().unwrap(),
            "--offline",
            "-q",
            "-o",
            "/dev/null",
        ])
    };
    std::fs::write(
        &dpkg,
        set_version(&status, "perl-base", "5.36.0-7+deb12u3", "5.36.0-7+deb12u4"),
    )
    .unwrap();
    scan();
    std::fs::write(
        &dpkg,
        set_version(&status, "libpcre2-8-0", "10.42-1", "10.42-1+deb12u2"),
    )
    .unwrap();
    scan();

    let s = Session::start_in("diff", false, true, data).await;
    s.go("scans").await;
    s.click("[data-testid=scan-row] td").await;
    let counts = s.wait_text("[data-testid=diff-counts]", "1 fixed").await;
    assert!(!counts.contains(" 0 new"), "{counts}");
    let first = s.text("[data-testid=finding-row]").await;
    assert!(
        first.contains("perl-base") && first.contains("packages changed"),
        "{first}"
    );
    let fixed = s.text("[data-testid=fixed-table]").await;
    assert!(fixed.contains("libpcre2-8-0"), "{fixed}");
    s.screenshot("scan-diff").await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_target_that_keeps_stopping_vedette_is_quarantined_and_retried_and_a_running_scan_is_cancelled(
) {
    let reg = vedette_tests::registry::Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    // Its blobs trickle in a byte a second: a scan of it runs until stopped.
    let (proxy, image) = slow_image(&reg, tmp.path(), "hostile/slow", false);
    let data = tempfile::tempdir().unwrap();
    // Three scans in a row that "kill" Vedette: the CLI killed mid-scan.
    let rt_store = vedette_store::Store::open_in(data.path()).await.unwrap();
    for round in 0..3 {
        let mut child = Command::new(cli_binary())
            .arg("--data-dir")
            .arg(data.path())
            .args([
                "scan",
                "image",
                &image,
                "--insecure-registry",
                "-q",
                "--packages-only",
            ])
            .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
            .spawn()
            .unwrap();
        let started = std::time::Instant::now();
        loop {
            // This round's scan is the newest and it runs (the one before
            // still says running until this process marks it interrupted).
            let scans = rt_store.list_scans(5).await.unwrap();
            if scans.len() == round + 1 && scans[0].state == vedette_model::ScanState::Running {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "round {round}: no scan ran"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        child.kill().unwrap();
        child.wait().unwrap();
    }
    rt_store.close().await;
    run_cli(
        data.path(),
        &[
            "schedule",
            "add",
            "--name",
            "slow image",
            "--cron",
            "0 3 * * *",
            "--kind",
            "image",
            "--disabled",
        ],
    );
    let s = Session::start_desktop(
        "quarantine",
        false,
        true,
        data,
        &[("VEDETTE_INSECURE_REGISTRIES", proxy.host())],
        None,
    )
    .await;
    // The window opened the data dir: the three interrupted scans put the
    // target in quarantine, and the Targets page says so, with a way out.
    s.go("targets").await;
    let q = s
        .wait_text("[data-testid=quarantined]", "Quarantined")
        .await;
    assert!(q.contains("stopped Vedette before they finished"), "{q}");
    s.screenshot("targets-quarantined").await;
    s.click("[data-testid=retry-target]").await;
    s.wait_text("[data-testid=notice]", "out of quarantine")
        .await;
    let row = s.text("[data-testid=targets-table]").await;
    assert!(!row.contains("Quarantined"), "{row}");

    // Run now: the scan of the slow image runs in this window; Cancel stops it.
    s.go("schedules").await;
    s.click("[data-testid=schedule-row][data-name='slow image'] [data-testid=run-schedule]")
        .await;
    s.go("scans").await;
    s.wait("[data-testid=cancel-scan]").await;
    s.screenshot("scan-running").await;
    s.click("[data-testid=cancel-scan]").await;
    s.wait_text("[data-testid=scans-table] tbody tr", "Cancelled")
        .await;
    s.screenshot("scan-cancelled").await;
    let history = run_cli(
        s.data_dir.path(),
        &["history", "--format", "json", "--limit", "1"],
    );
    let newest: serde_json::Value = serde_json::from_slice(&history).unwrap();
    assert_eq!(newest[0]["state"], "cancelled", "{newest:#}");
    assert!(
        newest[0]["error"].as_str().unwrap().contains("cancelled"),
        "{newest:#}"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_uncovered_distribution_gets_a_banner_and_no_verdict_and_errata_show_the_vendor_rating()
{
    use vedette_tests::rpm::{build_rpms, init_db, install_justdb, Spec};
    let data = tempfile::tempdir().unwrap();
    let feeds = vedette_tests::registry::shared("feeds");
    run_cli(data.path(), &["feed", "import", feeds.to_str().unwrap()]);
    // Two hosts with the same two packages in an rpm database written by
    // rpm: one says it is AlmaLinux 9, the other Amazon Linux 2023.
    let work = tempfile::tempdir().unwrap();
    let rpms = build_rpms(
        work.path(),
        &[
            Spec::new("thunderbird", "115.5.0-1.el9_3.alma"),
            Spec::new("libxml2", "2.9.13-3.el9_1"),
        ],
    );
    for (host, os_release) in [
        ("alma", "ID=\"almalinux\"\nVERSION_ID=\"9.4\"\nPRETTY_NAME=\"AlmaLinux 9.4 (Seafoam Ocelot)\"\n"),
        ("amazon", "ID=\"amzn\"\nVERSION_ID=\"2023\"\nPRETTY_NAME=\"Amazon Linux 2023.6.20241212\"\n"),
    ] {
        let root = work.path().join(host);
        init_db(&root.join("var/lib/rpm"));
        install_justdb(&root.join("var/lib/rpm"), &rpms);
        std::fs::create_dir_all(root.join("etc")).unwrap();
        std::fs::write(root.join("etc/os-release"), os_release).unwrap();
        let out = Command::new(cli_binary())
            .arg("--data-dir")
            .arg(data.path())
            .args(["scan", "dir", root.to_str().unwrap(), "--offline", "-q", "-o", "/dev/null"])
            .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
            .output()
            .unwrap();
        // Amazon Linux: no verdict (exit 4); AlmaLinux: judged.
        let want = if host == "amazon" { 4 } else { 0 };
        assert_eq!(out.status.code(), Some(want), "{}", String::from_utf8_lossy(&out.stderr));
    }

    let s = Session::start_in("coverage", false, true, data).await;
    s.go("scans").await;
    // Newest first: the Amazon Linux host.
    s.click("[data-testid=scan-row] td").await;
    let banner = s.wait_text("[data-testid=uncovered]", "Amazon Linux").await;
    assert!(
        banner.contains("no verdict") && banner.contains("allow_uncovered"),
        "{banner}"
    );
    assert_eq!(
        s.text("[data-testid=verdict]").await,
        "No verdict: not all covered"
    );
    let none = s.text("[data-testid=no-findings]").await;
    assert!(none.contains("in what Vedette could judge"), "{none}");
    s.screenshot("scan-uncovered").await;
    s.click("[data-testid=back-to-scans]").await;
    s.wait("[data-testid=scans-table]").await;
    s.click("[data-testid=scan-row]:nth-child(2) td").await;
    s.wait_text("[data-testid=findings-table]", "ALSA-").await;
    assert!(s
        .text("[data-testid=verdict]")
        .await
        .contains("Policy passed"));
    s.click("[data-testid=finding-row][data-id='ALSA-2024:0001'] td")
        .await;
    let rating = s
        .wait_text("[data-testid=vendor-rating]", "AlmaLinux rates it")
        .await;
    assert!(
        rating.contains("Important") && rating.contains("CVE-2023-6856"),
        "{rating}"
    );
    s.screenshot("scan-vendor-rating").await;
    s.stop().await;
}

/// The first run, in the real window from an empty data dir: the guide's
/// three steps (an image from the local registry; the advisories, whose
/// download fails here without a network and says so, then an offline
/// bundle imported; the weekly scan on) end with a first scan running, its
/// progress shown, and stored with its findings.
#[tokio::test(flavor = "multi_thread")]
async fn the_first_run_guide_leads_from_an_empty_data_dir_to_a_stored_scan() {
    let reg = vedette_tests::registry::Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let layout = tmp.path().join("layout");
    vedette_tests::registry::oci_layout(
        &layout,
        &[vedette_tests::registry::Layer::from_dir(
            vedette_tests::registry::shared("fixtures/debian-12-minbase"),
        )],
        "12",
    );
    reg.push(&layout, "guide/debian", "12");
    let image = format!("127.0.0.1:{}/guide/debian:12", reg.port());

    let data = tempfile::tempdir().unwrap();
    let env = vec![
        ("VEDETTE_FEED_URL", "http://127.0.0.1:9/osv".to_owned()),
        ("VEDETTE_KEV_URL", "none".to_owned()),
        ("VEDETTE_EPSS_URL", "none".to_owned()),
        ("VEDETTE_NVD_URL", "none".to_owned()),
    ];
    let s = Session::start_desktop("first-run", false, true, data, &env, None).await;
    s.wait("[data-testid=first-run]").await;
    s.screenshot("first-run").await;

    // 1. Something to watch: an image.
    s.click("[data-testid=guide-target]").await;
    s.wait("[data-testid=target-dialog]").await;
    s.fill("[data-testid=target-name]", &image).await;
    s.click("[data-testid=target-insecure]").await;
    s.click("[data-testid=target-save]").await;
    s.wait_text("[data-testid=step-watch]", "guide/debian")
        .await;
    s.wait("[data-testid=step-watch].done").await;

    // 2. The advisories: no network here, and the guide says so; then the
    // offline bundle.
    s.click("[data-testid=feeds-download]").await;
    let result = s.wait_text("[data-testid=feed-result]", "osv/Debian").await;
    assert!(!result.contains("records"), "{result}");
    let bundle = vedette_tests::registry::shared("feeds");
    s.fill("[data-testid=bundle-path]", bundle.to_str().unwrap())
        .await;
    s.click("[data-testid=bundle-import]").await;
    s.wait_text("[data-testid=feeds-held]", "advisories for")
        .await;
    s.wait("[data-testid=step-feeds].done").await;

    // 3. The weekly scan on, and the first scan now, its progress shown.
    s.click("[data-testid=guide-begin]").await;
    s.wait("[data-testid=first-scan-progress]").await;
    s.wait("[data-testid=step-scan].done").await;
    s.wait_text("[data-testid=first-scan-progress]", "first scan is done")
        .await;
    s.scroll_to("[data-testid=step-scan]").await;
    s.screenshot("first-run-done").await;
    s.click("[data-testid=see-first-scan]").await;
    s.wait_text("[data-testid=diff-counts]", "new").await;
    let history = run_cli(s.data_dir.path(), &["history", "--format", "json"]);
    let h: serde_json::Value = serde_json::from_slice(&history).unwrap();
    assert_eq!(h[0]["state"], "succeeded", "{h:#}");
    assert_eq!(h[0]["target_name"], image.as_str());
    assert!(h[0]["counts"]["critical"].as_i64().unwrap() > 0, "{h:#}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn targets_are_added_and_scanned_from_the_window_with_live_progress_and_a_cancel() {
    // An image whose layer trickles in a byte a second (the manifest and
    // config come at once, so the scan gets as far as pulling layers): its
    // scan runs until cancelled.
    let reg = vedette_tests::registry::Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let (_proxy, image) = slow_image(&reg, tmp.path(), "team/slow", true);

    let data = tempfile::tempdir().unwrap();
    let env = offline_feeds(data.path());
    let fixture = vedette_tests::registry::shared("fixtures/debian-12-minbase");
    let s = Session::start_desktop("scan-now", false, true, data, &env, None).await;

    // A directory, added and scanned from the Targets page.
    s.go("targets").await;
    s.click("[data-testid=add-target]").await;
    s.wait("[data-testid=target-dialog]").await;
    s.click("[data-testid=target-kind-directory]").await;
    s.fill("[data-testid=target-name]", fixture.to_str().unwrap())
        .await;
    s.screenshot("target-dialog").await;
    s.click("[data-testid=target-save]").await;
    s.wait_text("[data-testid=notice]", "Scan now").await;
    s.click("[data-testid=target-row] [data-testid=scan-now]")
        .await;
    s.wait_text("[data-testid=scan-progress]", "Scan finished")
        .await;
    s.go("scans").await;
    s.click("[data-testid=scan-row] td").await;
    s.wait_text("[data-testid=diff-counts]", "16 new").await;
    let first = s.text("[data-testid=finding-row]").await;
    assert!(first.contains("perl-base"), "{first}");
    s.click("[data-testid=back-to-scans]").await;

    // An image on a slow registry: its progress shows, Cancel ends it.
    s.go("targets").await;
    s.click("[data-testid=add-target]").await;
    s.wait("[data-testid=target-dialog]").await;
    s.fill("[data-testid=target-name]", &image).await;
    s.click("[data-testid=target-insecure]").await;
    s.click("[data-testid=target-save]").await;
    s.wait_text("[data-testid=notice]", &image).await;
    let row = format!("[data-testid=target-row][data-name='{image}']");
    s.click(&format!("{row} [data-testid=scan-now]")).await;
    let progress = format!("[data-testid=scan-progress][data-target='{image}']");
    let p = s.wait_text(&progress, "pulling layers 0/1").await;
    assert!(p.contains("Scan "), "{p}");
    s.screenshot("target-scan-progress").await;
    s.go("scans").await;
    s.wait_text("[data-testid=scans-table] tbody tr", "Running")
        .await;
    s.go("targets").await;
    s.click(&format!("{progress} [data-testid=cancel-target-scan]"))
        .await;
    s.wait_text(&progress, "cancelled").await;
    let history = run_cli(
        s.data_dir.path(),
        &["history", "--format", "json", "--limit", "1"],
    );
    let newest: serde_json::Value = serde_json::from_slice(&history).unwrap();
    assert_eq!(newest[0]["state"], "cancelled", "{newest:#}");
    assert_eq!(newest[0]["target_name"], image.as_str());

    // Settings → API: where it listens, a token shown once that works,
    // revoked from the page.
    s.go("settings").await;
    let url = s
        .wait_text("[data-testid=api-url]", "http://127.0.0.1:")
        .await;
    let addr = url
        .trim()
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    s.fill("[data-testid=token-name]", "ci").await;
    s.click("[data-testid=create-token]").await;
    let secret = s.wait_text("[data-testid=token-secret]", "vdt_").await;
    let secret = secret.trim().to_owned();
    s.screenshot("settings-api").await;
    let (status, body) = http_get(&addr, "/api/v1/targets", &secret);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(&image), "{body}");
    assert_eq!(http_get(&addr, "/api/v1/targets", "vdt_wrong").0, 401);
    s.click("[data-testid=token-row][data-name=ci] [data-testid=revoke-token]")
        .await;
    s.click("[data-testid=confirm-revoke]").await;
    s.wait_text("[data-testid=notice]", "Revoked").await;
    assert_eq!(http_get(&addr, "/api/v1/targets", &secret).0, 401);
    s.stop().await;
}

/// A GET with a bearer token over plain HTTP/1.1: (status, body).
/// The shared feeds imported into `data`, and the environment that keeps
/// the app to them: nothing is downloaded.
fn offline_feeds(data: &Path) -> Vec<(&'static str, String)> {
    let feeds = vedette_tests::registry::shared("feeds");
    run_cli(data, &["feed", "import", feeds.to_str().unwrap()]);
    vec![
        ("VEDETTE_FEED_URL", "http://127.0.0.1:9/osv".to_owned()),
        ("VEDETTE_KEV_URL", "none".to_owned()),
        ("VEDETTE_EPSS_URL", "none".to_owned()),
        ("VEDETTE_NVD_URL", "none".to_owned()),
    ]
}

fn http_get(addr: &str, path: &str, token: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut c = std::net::TcpStream::connect(addr).unwrap();
    write!(
        c,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    c.read_to_string(&mut out).unwrap();
    let status = out
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = out
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// The Alpine fixture as `repo:t` on `reg`, reached through a proxy that
/// trickles its layer (`layer_only`) or every blob a byte a second: the
/// proxy (keep it) and the image's reference through it.
fn slow_image(
    reg: &vedette_tests::registry::Registry,
    dir: &std::path::Path,
    repo: &str,
    layer_only: bool,
) -> (vedette_tests::proxy::FaultProxy, String) {
    use vedette_tests::proxy::{Action, Fault, FaultProxy};
    let layout = dir.join("slow");
    vedette_tests::registry::oci_layout(
        &layout,
        &[vedette_tests::registry::Layer::from_dir(
            vedette_tests::registry::shared("fixtures/alpine-3.23"),
        )],
        "t",
    );
    reg.push(&layout, repo, "t");
    let path_contains: &'static str = if layer_only {
        let layer = vedette_tests::registry::layer_digests(&layout).remove(0);
        Box::leak(format!("/blobs/{layer}").into_boxed_str())
    } else {
        "/blobs/sha256:"
    };
    let proxy = FaultProxy::start(reg.port());
    proxy.inject(Fault {
        method: Some("GET"),
        path_contains,
        times: 1000,
        action: Action::Trickle,
    });
    let image = format!("{}/{repo}:t", proxy.host());
    (proxy, image)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_host_is_added_from_the_window_its_key_checked_and_its_reachability_shown() {
    use vedette_tests::sshd::{self, Sshd, SshdConfig};
    let tmp = tempfile::tempdir().unwrap();
    let (key, public) = sshd::keypair(tmp.path(), "vedette");
    // sshd chroots only into root-owned directories (not /tmp).
    let parent = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sshd-roots");
    std::fs::create_dir_all(&parent).unwrap();
    let root = sshd::chroot_root(
        &parent,
        &vedette_tests::registry::shared("fixtures/debian-12-minbase"),
    );
    let server = Sshd::start(&SshdConfig {
        chroot: Some(root.path().to_owned()),
        authorized_keys: vec![public],
        sftp_only: true,
        ..SshdConfig::default()
    });
    // Nothing listens there.
    let down = format!(
        "ops@127.0.0.1:{}",
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    );

    let data = tempfile::tempdir().unwrap();
    let mut env = offline_feeds(data.path());
    // No agent of the machine running the tests; no ~/.ssh of its own.
    env.push(("SSH_AUTH_SOCK", String::new()));
    env.push(("HOME", tmp.path().display().to_string()));
    let s = Session::start_desktop("hosts", false, true, data, &env, None).await;

    // The host's key is shown with its fingerprint, and trusted on request.
    s.go("targets").await;
    s.click("[data-testid=add-target]").await;
    s.click("[data-testid=target-kind-host]").await;
    s.fill("[data-testid=target-name]", &server.address()).await;
    s.fill("[data-testid=host-identity]", key.to_str().unwrap())
        .await;
    s.fill("[data-testid=target-group]", "web").await;
    s.screenshot("host-dialog").await;
    s.click("[data-testid=target-save]").await;
    let shown = s.text("[data-testid=host-fingerprint]").await;
    assert_eq!(shown, server.fingerprint);
    s.screenshot("host-key-dialog").await;
    s.click("[data-testid=trust-key]").await;
    s.wait_text("[data-testid=notice]", "is trusted").await;
    let known = std::fs::read_to_string(s.data_dir.path().join("known_hosts")).unwrap();
    assert!(
        known.contains(&format!("[127.0.0.1]:{}", server.port)),
        "{known}"
    );

    // A host that is down is added too, saying why its key is not checked.
    s.click("[data-testid=add-target]").await;
    s.click("[data-testid=target-kind-host]").await;
    s.fill("[data-testid=target-name]", &down).await;
    s.click("[data-testid=target-save]").await;
    let why = s.text("[data-testid=host-unreachable]").await;
    assert!(why.contains("refused"), "{why}");
    s.click("[data-testid=host-key] .btn.primary").await;

    // Both scanned from the page: the list shows which answered, and why
    // the other did not.
    for address in [server.address(), down.clone()] {
        let row = format!("[data-testid=target-row][data-name='{address}']");
        s.click(&format!("{row} [data-testid=scan-now]")).await;
        let progress = format!("[data-testid=scan-progress][data-target='{address}']");
        let start = std::time::Instant::now();
        loop {
            let state = s.wait(&progress).await.attr("data-state").await.unwrap();
            if state.as_deref() != Some("running") {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "{address} never finished"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    s.go("scans").await;
    s.go("targets").await;
    let up = format!("[data-testid=target-row][data-name='{}']", server.address());
    s.wait_text(
        &format!("{up} [data-testid=reachability]"),
        "Reachable over SSH",
    )
    .await;
    let verdict = s.text(&format!("{up} [data-testid=verdict]")).await;
    assert!(verdict == "Pass" || verdict == "Fail", "{verdict}");
    let gone = format!("[data-testid=target-row][data-name='{down}']");
    s.wait_text(&format!("{gone} [data-testid=reachability]"), "refused")
        .await;
    s.screenshot("targets-hosts").await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_nodes_page_makes_an_enrolment_token_shows_the_gate_dry_run_arms_it_and_logs_what_it_did(
) {
    use vedette_tests::moto::{self, Moto};
    let moto = Moto::start();
    let ids = moto.run_instances(2, &[]);
    let data = tempfile::tempdir().unwrap();
    let env = offline_feeds(data.path());
    std::fs::write(data.path().join("gate-policy.toml"), "fail_on = \"high\"\n").unwrap();
    let s = Session::start_desktop("nodes", false, true, data, &env, None).await;
    // The AWS account, into this session's keyring.
    let mut cloud = Command::new(cli_binary())
        .arg("--data-dir")
        .arg(s.data_dir.path())
        .args([
            "cloud",
            "aws",
            "set",
            "--access-key-id",
            moto::ACCESS_KEY_ID,
        ])
        .args(["--region", moto::REGION, "--endpoint", &moto.endpoint()])
        .env("DBUS_SESSION_BUS_ADDRESS", s.keyring.address())
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = cloud.stdin.take().unwrap();
        writeln!(stdin, "{}", moto::SECRET_ACCESS_KEY).unwrap();
    }
    assert!(cloud.wait().unwrap().success());

    s.go("settings").await;
    let url = s
        .wait_text("[data-testid=api-url]", "http://127.0.0.1:")
        .await;
    let base = url.trim().trim_end_matches("/api/v1").to_owned();
    s.go("nodes").await;
    s.wait("[data-testid=no-nodes]").await;
    s.screenshot("nodes-empty").await;

    // An enrolment token, made in its dialog and shown once.
    s.click("[data-testid=new-enrol-token]").await;
    s.fill("[data-testid=enrol-token-name]", "web-asg").await;
    s.fill("[data-testid=enrol-token-uses]", "2").await;
    s.click("[data-testid=enrol-token-create]").await;
    let token = s
        .wait_text("[data-testid=enrol-token-secret]", "vde_")
        .await;
    s.screenshot("enrol-token-dialog").await;
    s.click("[data-testid=enrol-token-dialog] .btn.primary")
        .await;

    // Terminate, not armed yet: a failing node is only recorded, and the
    // dry run names it.
    s.click("[data-testid=gate-action-terminate]").await;
    s.wait_text("[data-testid=gate-state]", "Not armed").await;
    let agent = desktop_binary().with_file_name("vedette-agent");
    let tmp = tempfile::tempdir().unwrap();
    let enrol = |name: &str, instance: &str| {
        let root = tmp.path().join(name);
        let o = Command::new("cp")
            .arg("-a")
            .arg(vedette_tests::registry::shared(
                "fixtures/debian-12-minbase",
            ))
            .arg(&root)
            .output()
            .unwrap();
        assert!(o.status.success());
        std::fs::write(root.join("etc/hostname"), format!("{name}\n")).unwrap();
        std::fs::write(root.join("etc/machine-id"), format!("{name:0<32}\n")).unwrap();
        let o = Command::new(&agent)
            .args([
                "--console",
                &base,
                "--enrol-token",
                token.trim(),
                "--no-imds",
                "--once",
            ])
            .args(["--instance-id", instance, "--region", moto::REGION])
            .arg("--state-dir")
            .arg(tmp.path().join(format!("state-{name}")))
            .arg("--root")
            .arg(&root)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    enrol("web-1", &ids[0]);
    let start = std::time::Instant::now();
    loop {
        s.go("scans").await;
        s.go("nodes").await;
        if s.client
            .find(Locator::Css("[data-testid=action-row]"))
            .await
            .is_ok()
        {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the gate never decided"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let row = s.text("[data-testid=action-row]").await;
    assert!(
        row.contains("Recorded only") && row.contains("not armed"),
        "{row}"
    );
    s.click("[data-testid=gate-dry-run]").await;
    let dry = s.wait_text("[data-testid=dry-run-result]", &ids[0]).await;
    assert!(dry.contains("high"), "{dry}");
    s.screenshot("gate-dry-run").await;
    assert_eq!(moto.state(&ids[0]), "running");

    // Armed by typing the action's name: the next failing node's instance
    // is terminated, and the log says so.
    s.fill("[data-testid=arm-confirm]", "terminate").await;
    s.click("[data-testid=arm-gate]").await;
    s.wait_text("[data-testid=gate-state]", "Armed: terminate")
        .await;
    enrol("web-2", &ids[1]);
    let start = std::time::Instant::now();
    loop {
        s.go("scans").await;
        s.go("nodes").await;
        if s.client
            .find(Locator::Css("[data-testid=action-row][data-outcome=done]"))
            .await
            .is_ok()
        {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the gate never acted"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let done = s.text("[data-testid=action-row][data-outcome=done]").await;
    assert!(
        done.contains("Terminated") && done.contains(&ids[1]),
        "{done}"
    );
    assert_eq!(moto.state(&ids[1]), "terminated");
    s.scroll_to("[data-testid=action-log]").await;
    s.screenshot("nodes-action-log").await;

    // Each node's verdict and exposure; the user sets web-1's exposure and
    // its inventory is judged again at once.
    let row = s.text("[data-testid=node-row][data-node=web-1]").await;
    assert!(row.contains("Fail") && row.contains("inferred"), "{row}");
    s.client
        .execute(
            "const e = document.querySelector('[data-testid=node-row][data-node=web-1] [data-testid=node-exposure]');\
             e.value = 'internet'; e.dispatchEvent(new Event('change', { bubbles: true }));",
            vec![],
        )
        .await
        .unwrap();
    let notice = s.wait_text("[data-testid=notice]", "judged again").await;
    assert!(notice.contains("web-1 is internet-facing"), "{notice}");
    s.wait_text("[data-testid=node-row][data-node=web-1]", "set by you")
        .await;
    s.scroll_to("[data-testid=nodes-card]").await;
    s.screenshot("nodes-verdict-exposure").await;

    // Settings: the AWS account is in the keyring, and works.
    s.go("settings").await;
    let stored = s
        .wait_text("[data-testid=aws-stored]", moto::ACCESS_KEY_ID)
        .await;
    assert!(!stored.contains(moto::SECRET_ACCESS_KEY), "{stored}");
    s.click("[data-testid=aws-check]").await;
    s.wait_text("[data-testid=aws-who]", "arn:aws:").await;
    s.scroll_to("[data-testid=aws-card]").await;
    s.screenshot("settings-aws").await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_notifications_page_adds_a_channel_sends_a_test_message_and_shows_the_delivery_log() {
    use vedette_tests::receivers::HttpReceiver;
    let http = HttpReceiver::start();
    let s = Session::start("notifications").await;
    s.go("notifications").await;
    s.wait("[data-testid=no-channels]").await;
    s.screenshot("notifications-empty").await;

    // A webhook channel: Vedette makes its HMAC secret and shows it once.
    s.click("[data-testid=add-channel]").await;
    s.fill("[data-testid=channel-name]", "siem").await;
    s.client
        .execute(
            "const k = document.querySelector('[data-testid=channel-kind]');\
             k.value = 'webhook'; k.dispatchEvent(new Event('change', { bubbles: true }));",
            vec![],
        )
        .await
        .unwrap();
    s.fill("[data-testid=channel-url]", &http.url("/siem"))
        .await;
    s.click("[data-testid=channel-save]").await;
    let secret = s.wait_text("[data-testid=generated-secret]", "vdh_").await;
    s.click("[data-testid=channel-dialog] .btn.primary").await;
    let row = s
        .wait_text(
            "[data-testid=channel-row][data-name=siem]",
            "Set, in keyring",
        )
        .await;
    assert!(!row.contains(secret.trim()), "{row}");

    // A test message, received and logged.
    s.click("[data-testid=test-channel]").await;
    s.wait_text("[data-testid=notice]", "went through siem")
        .await;
    let got = http.requests_to("/siem");
    assert_eq!(got.len(), 1);
    assert!(got[0]
        .header("x-vedette-signature")
        .is_some_and(|h| h.starts_with("sha256=")));
    s.wait("[data-testid=delivery-row][data-state=sent]").await;

    // A rule: new high findings, at once.
    s.click("[data-testid=add-rule]").await;
    s.wait_text("[data-testid=rules-table]", "finding.new")
        .await;
    s.screenshot("notifications").await;
    s.scroll_to("[data-testid=delivery-log]").await;
    s.screenshot("notifications-delivery-log").await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn while_serve_runs_the_schedules_the_window_follows_its_runs_and_takes_over_when_serve_stops(
) {
    let data = tempfile::tempdir().unwrap();
    let offline = offline_feeds(data.path());
    let fixture = vedette_tests::registry::shared("fixtures/debian-12-minbase");
    run_cli(
        data.path(),
        &["target", "add", "dir", fixture.to_str().unwrap()],
    );
    // `vedette serve` first: it holds the scheduler lock.
    let log = data.path().join("serve.log");
    let mut serve = Command::new(cli_binary())
        .arg("--data-dir")
        .arg(data.path())
        .args(["serve", "--poll", "1s", "--api", "127.0.0.1:0"])
        .envs(offline.iter().map(|(k, v)| (*k, v.as_str())))
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    wait_for("vedette serve to start", Duration::from_secs(30), || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("serving schedules")
            .then_some(())
    });
    let data_path = data.path().to_owned();
    let s = Session::start_desktop(
        "follow",
        true,
        true,
        data,
        &offline,
        Some(&[
            "type='method_call',interface='org.freedesktop.Notifications',member='Notify'",
            "type='signal',interface='org.kde.StatusNotifierItem',member='NewIcon'",
        ]),
    )
    .await;
    s.go("settings").await;
    s.wait_text("[data-testid=api-note]", "runs the schedules")
        .await;

    // serve runs a schedule; the window raises its one notification.
    run_cli(
        &data_path,
        &[
            "schedule",
            "add",
            "--name",
            "Every 2 seconds",
            "--cron",
            "*/2 * * * * *",
            "--kind",
            "directory",
        ],
    );
    let monitor = s.monitor.as_ref().unwrap();
    let text = wait_for(
        "the Notify call of the window following serve",
        Duration::from_secs(60),
        || {
            let t = monitor.text();
            t.contains("member=Notify").then_some(t)
        },
    );
    assert!(
        text.contains("Vedette: 2 new critical or known-exploited findings"),
        "{text}"
    );
    assert!(text.contains("debian-12-minbase"), "{text}");
    assert!(
        text.contains("member=NewIcon"),
        "the tray did not change: {text}"
    );
    // The Scans page lists serve's scans.
    s.go("scans").await;
    s.wait("[data-testid=scan-row]").await;

    // serve stops: the window takes the schedules (and the API) over.
    run_cli(&data_path, &["schedule", "disable", "2"]);
    terminate(&mut serve);
    let start = std::time::Instant::now();
    'took_over: loop {
        s.go("dashboard").await;
        s.go("settings").await;
        // The page asks for the API's status as it opens: give it time.
        for _ in 0..10 {
            if s.client
                .find(Locator::Css("[data-testid=api-url]"))
                .await
                .is_ok()
            {
                break 'took_over;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the window did not take the schedules over; its log:\n{}\nserve's:\n{}",
            desktop_log(&data_path),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    s.screenshot("window-took-over").await;
    s.stop().await;
}

/// SIGTERM, then waits for the process.
fn terminate(child: &mut std::process::Child) {
    let pid = child.id().to_string();
    let _ = Command::new("kill").args(["-TERM", &pid]).status();
    let _ = child.wait();
}

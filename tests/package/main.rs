//! The installed experience: the .deb that `bash src-tauri/release.sh`
//! builds, installed on this machine with apt (as root, as CI runs the test
//! command), checked with Debian's own validators, launched from its desktop
//! entry under Xvfb (window mapped, tray item registered), removed with the
//! user's data kept, and upgraded to a second build with a higher version,
//! the data still there. `tests/run.sh` builds both packages before the
//! tests (`VEDETTE_DEBS=old.deb:new.deb`); run alone, the test builds them.

#![allow(clippy::unwrap_used)] // a test that cannot read what it installed should stop there

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use vedette_tests::{require, wait_for, Display, KeyringSession, TrayWatcher};

const PACKAGE: &str = "vedette";
const DESKTOP_ENTRY: &str = "/usr/share/applications/Vedette.desktop";
const METAINFO: &str = "/usr/share/metainfo/dev.vedette.desktop.metainfo.xml";
const UNIT: &str = "/usr/lib/systemd/user/vedette.service";

/// Runs `cmd`; its standard output, or a panic with everything it said.
fn ok(cmd: &mut Command) -> String {
    let o = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        o.status.success(),
        "{cmd:?} failed ({}):\n{}\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn apt(args: &[&str]) -> String {
    ok(Command::new("apt-get")
        .args(["-y", "-q", "--no-install-recommends"])
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

fn installed_version() -> Option<String> {
    let o = Command::new("dpkg-query")
        .args(["-W", "-f", "${db:Status-Status} ${Version}", PACKAGE])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    text.strip_prefix("installed ").map(str::to_owned)
}

/// Purges the package when the test ends, however it ends: the machine is
/// left as it was.
struct Purge;

impl Drop for Purge {
    fn drop(&mut self) {
        let _ = Command::new("apt-get")
            .args(["-y", "-q", "purge", PACKAGE])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// The two packages the release command built: the current version, and a
/// higher one to upgrade to.
fn debs() -> (PathBuf, PathBuf) {
    if let Ok(v) = std::env::var("VEDETTE_DEBS") {
        let mut it = v.split(':').map(PathBuf::from);
        if let (Some(old), Some(new)) = (it.next(), it.next()) {
            return (old, new);
        }
        panic!("VEDETTE_DEBS is old.deb:new.deb, not '{v}'");
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = std::env::temp_dir().join(format!("vedette-debs-{}", std::process::id()));
    let build = |version: &str| {
        let text = ok(Command::new("bash")
            .arg(root.join("src-tauri/release.sh"))
            .args(["--debug", "--version", version, "--out"])
            .arg(out.join(version)));
        PathBuf::from(
            text.lines()
                .last()
                .expect("release.sh printed the package's path"),
        )
    };
    let version = env!("CARGO_PKG_VERSION");
    let (major_minor, patch) = version.rsplit_once('.').expect("x.y.z");
    let next = format!("{major_minor}.{}", patch.parse::<u32>().unwrap() + 1);
    (build(version), build(&next))
}

fn deb_field(deb: &Path, field: &str) -> String {
    ok(Command::new("dpkg-deb").arg("-f").arg(deb).arg(field))
        .trim()
        .to_owned()
}

/// The packages whose libraries an installed binary needs (its `NEEDED`
/// entries, found where the dynamic linker finds them).
fn library_packages(binary: &str) -> BTreeSet<String> {
    let ldd = ok(Command::new("ldd").arg(binary));
    let mut out = BTreeSet::new();
    for line in ldd.lines() {
        assert!(!line.contains("not found"), "{binary}: {line}");
        let Some(path) = line
            .split("=>")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
        else {
            continue;
        };
        let real = std::fs::canonicalize(path).unwrap_or_else(|_| PathBuf::from(path));
        // dpkg knows a library by the path its package installed, which
        // may be the link or its target, under /lib or /usr/lib.
        let candidates = [
            PathBuf::from(path),
            real.clone(),
            PathBuf::from(path.replacen("/usr/lib/", "/lib/", 1)),
            PathBuf::from(real.to_string_lossy().replacen("/usr/lib/", "/lib/", 1)),
        ];
        let owner = candidates.iter().find_map(|c| {
            let o = Command::new("dpkg").arg("-S").arg(c).output().ok()?;
            o.status.success().then(|| {
                String::from_utf8_lossy(&o.stdout)
                    .split(':')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_owned()
            })
        });
        let owner =
            owner.unwrap_or_else(|| panic!("{binary} needs {path}, which no package installed"));
        out.insert(owner);
    }
    out
}

/// Every package `depends` pulls in, recursively (what apt installs with it).
fn closure(depends: &str) -> BTreeSet<String> {
    let names: Vec<String> = depends
        .split(',')
        .filter_map(|d| d.split(['(', '|']).next())
        .map(|d| d.trim().to_owned())
        .filter(|d| !d.is_empty())
        .collect();
    let text = ok(Command::new("apt-cache")
        .args([
            "depends",
            "--recurse",
            "--no-recommends",
            "--no-suggests",
            "--no-conflicts",
            "--no-breaks",
            "--no-replaces",
            "--no-enhances",
        ])
        .args(&names));
    text.lines()
        .map(|l| {
            l.trim()
                .trim_start_matches("|")
                .trim_start_matches("PreDepends:")
                .trim_start_matches("Depends:")
                .trim()
                .trim_matches(|c| c == '<' || c == '>')
                .split(':')
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .filter(|l| !l.is_empty())
        .collect()
}

fn essential(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f", "${Essential} ${Priority}", package])
        .output()
        .map(|o| {
            let t = String::from_utf8_lossy(&o.stdout);
            t.starts_with("yes") || t.ends_with("required")
        })
        .unwrap_or(false)
}

/// The installed CLI against the user's default data dir (under `home`).
fn cli(home: &Path, session: &KeyringSession, args: &[&str]) -> String {
    ok(Command::new("/usr/bin/vedette")
        .args(args)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", home)
        .env("DBUS_SESSION_BUS_ADDRESS", session.address()))
}

/// Starts the app as the desktop entry says, under `display`.
fn launch(home: &Path, session: &KeyringSession, display: &Display) -> Child {
    let entry = std::fs::read_to_string(DESKTOP_ENTRY).unwrap();
    let exec = entry
        .lines()
        .find_map(|l| l.strip_prefix("Exec="))
        .expect("the desktop entry has an Exec line");
    // Field codes (%u, %f…) are the launcher's to fill; none is given here.
    let argv: Vec<&str> = exec
        .split_whitespace()
        .filter(|a| !a.starts_with('%'))
        .collect();
    Command::new(argv[0])
        .args(&argv[1..])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", home)
        .env("DISPLAY", display.name())
        .env("DBUS_SESSION_BUS_ADDRESS", session.address())
        .env("NO_AT_BRIDGE", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{exec}: {e}"))
}

fn window_viewable(display: &Display) -> bool {
    Command::new(require("xwininfo"))
        .args(["-display", &display.name(), "-name", "Vedette"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("IsViewable"))
        .unwrap_or(false)
}

fn tray_items(session: &KeyringSession) -> Vec<String> {
    let Ok(conn) =
        zbus::blocking::connection::Builder::address(session.address()).and_then(|b| b.build())
    else {
        return Vec::new();
    };
    zbus::blocking::Proxy::new(
        &conn,
        "org.kde.StatusNotifierWatcher",
        "/StatusNotifierWatcher",
        "org.kde.StatusNotifierWatcher",
    )
    .and_then(|w| w.get_property::<Vec<String>>("RegisteredStatusNotifierItems"))
    .unwrap_or_default()
}

#[test]
fn the_deb_installs_launches_from_its_desktop_entry_is_removed_keeping_data_and_upgrades() {
    let uid = ok(Command::new("id").arg("-u"));
    assert_eq!(
        uid.trim(),
        "0",
        "installing a .deb needs root: the test command runs as root in CI"
    );
    let (old, new) = debs();
    let (old_version, new_version) = (deb_field(&old, "Version"), deb_field(&new, "Version"));
    ok(Command::new("dpkg").args(["--compare-versions", &new_version, "gt", &old_version]));
    println!(
        "{}: {} bytes; {}: {} bytes",
        old.display(),
        std::fs::metadata(&old).unwrap().len(),
        new.display(),
        std::fs::metadata(&new).unwrap().len()
    );

    let _purge = Purge;
    drop(Purge); // a leftover of an earlier run
    apt(&["install", old.to_str().unwrap()]);
    assert_eq!(installed_version().as_deref(), Some(old_version.as_str()));

    // What the package holds.
    for f in [
        "/usr/bin/vedette",
        "/usr/bin/vedette-desktop",
        UNIT,
        DESKTOP_ENTRY,
        METAINFO,
        "/usr/share/man/man1/vedette.1.gz",
        "/usr/share/bash-completion/completions/vedette",
        "/usr/share/zsh/vendor-completions/_vedette",
        "/usr/share/fish/vendor_completions.d/vedette.fish",
    ] {
        assert!(Path::new(f).is_file(), "{f} is not installed");
    }
    for size in [16, 24, 32, 48, 64, 128, 256, 512] {
        let icon = format!("/usr/share/icons/hicolor/{size}x{size}/apps/vedette-desktop.png");
        assert!(Path::new(&icon).is_file(), "{icon} is not installed");
    }
    let version = ok(Command::new("/usr/bin/vedette").arg("--version"));
    assert_eq!(
        version.trim(),
        format!("vedette {}", env!("CARGO_PKG_VERSION"))
    );
    for field in ["Maintainer", "Description"] {
        assert!(
            !deb_field(&old, field).is_empty(),
            "the package has no {field}"
        );
    }

    // vedette:// links go to the app: its entry says it handles them, and
    // the desktop database (updated by dpkg's trigger) knows it.
    let entry = std::fs::read_to_string(DESKTOP_ENTRY).unwrap();
    assert!(
        entry.contains("MimeType=x-scheme-handler/vedette;") && entry.contains(" %u"),
        "{entry}"
    );
    let cache =
        std::fs::read_to_string("/usr/share/applications/mimeinfo.cache").unwrap_or_default();
    assert!(
        cache
            .lines()
            .any(|l| l.starts_with("x-scheme-handler/vedette=") && l.contains("Vedette.desktop")),
        "the desktop database does not name Vedette for vedette:// links"
    );

    // Debian's validators accept the desktop entry, the metainfo and the unit.
    ok(Command::new(require("desktop-file-validate")).arg(DESKTOP_ENTRY));
    ok(Command::new(require("appstreamcli")).args(["validate", "--no-net", METAINFO]));
    ok(Command::new(require("systemd-analyze")).args(["verify", UNIT]));
    let man = ok(Command::new("sh")
        .arg("-c")
        .arg("zcat /usr/share/man/man1/vedette.1.gz"));
    assert!(man.contains(".TH vedette") && man.contains("scan"), "{man}");
    let completion = ok(Command::new("bash")
        .arg("-c")
        .arg("source /usr/share/bash-completion/completions/vedette && complete -p vedette"));
    assert!(completion.contains("vedette"), "{completion}");

    // Every library the binaries need comes from a package apt installs
    // with Vedette's Depends (or from an essential one).
    let depends = deb_field(&old, "Depends");
    let pulled = closure(&depends);
    for binary in ["/usr/bin/vedette-desktop", "/usr/bin/vedette"] {
        for p in library_packages(binary) {
            assert!(
                pulled.contains(&p) || essential(&p),
                "{binary} needs {p}, which the package's Depends ({depends}) does not bring"
            );
        }
    }

    // Launched from its desktop entry: the window shows and the tray item
    // registers.
    let session = KeyringSession::start();
    let home = session.home().to_owned();
    let _tray = TrayWatcher::start(&session);
    let display = Display::start();
    let mut app = launch(&home, &session, &display);
    wait_for("the window to show", Duration::from_secs(60), || {
        if let Ok(Some(status)) = app.try_wait() {
            let mut err = String::new();
            if let Some(mut e) = app.stderr.take() {
                use std::io::Read;
                let _ = e.read_to_string(&mut err);
            }
            panic!("the app exited ({status}): {err}");
        }
        window_viewable(&display).then_some(())
    });
    wait_for("the tray item to register", Duration::from_secs(30), || {
        (!tray_items(&session).is_empty()).then_some(())
    });
    let _ = app.kill();
    let _ = app.wait();
    let data = home.join(".local/share/vedette");
    assert!(
        data.join("vedette.db").is_file(),
        "the app made its data dir"
    );

    // User data survives the package's removal.
    cli(&home, &session, &["target", "add", "image", "alpine:3.20"]);
    apt(&["remove", PACKAGE]);
    assert_eq!(installed_version(), None);
    assert!(!Path::new("/usr/bin/vedette").exists());
    assert!(
        data.join("vedette.db").is_file(),
        "removing the package kept the data"
    );

    // And an upgrade.
    apt(&["install", old.to_str().unwrap()]);
    apt(&["install", new.to_str().unwrap()]);
    assert_eq!(installed_version().as_deref(), Some(new_version.as_str()));
    let targets = cli(&home, &session, &["target", "list"]);
    assert!(targets.contains("alpine:3.20"), "{targets}");
}

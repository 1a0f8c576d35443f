//! Test harness: starts the real components Vedette talks to, each on a
//! private address, and stops them (by PID) when the handle is dropped.
//!
//! - [`KeyringSession`]: a private D-Bus session bus with gnome-keyring-daemon
//!   serving the Secret Service on it, unlocked.
//! - [`Display`]: an Xvfb X server.
//! - [`TauriDriver`]: tauri-driver (WebDriver) in front of WebKitWebDriver.
//! - [`sshd::Sshd`]: an OpenSSH server on a loopback port (hosts over SSH).
//!
//! A missing program is a test failure that says how to get it (the README's
//! test command installs everything).

pub mod azure;
pub mod bench;
pub mod dockerhub;
pub mod feedserver;
pub mod findings;
pub mod github;
pub mod gitlab;
pub mod google;
pub mod harbor;
pub mod moto;
pub mod pki;
pub mod postgres;
pub mod proxy;
pub mod receivers;
pub mod registry;
pub mod rpm;
pub mod sshd;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process killed (and reaped) on drop.
#[derive(Debug)]
pub struct Guard {
    name: &'static str,
    child: Child,
}

impl Guard {
    pub fn spawn(name: &'static str, cmd: &mut Command) -> Self {
        let child = cmd.spawn().unwrap_or_else(|e| {
            panic!("cannot start {name}: {e}. Run the README's test command, which installs it")
        });
        Self { name, child }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Panics with the program's name when it has already exited.
    pub fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("{} exited early: {status}", self.name);
        }
    }
}

impl Drop for KeyringSession {
    fn drop(&mut self) {
        if let Some(died) = self.died() {
            eprintln!("{died}");
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Path of a required program, or a panic that says how to install it.
pub fn require(program: &str) -> PathBuf {
    let candidates = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    let home_cargo = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo/bin"));
    for dir in candidates.into_iter().chain(home_cargo) {
        let p = dir.join(program);
        if p.is_file() {
            return p;
        }
    }
    panic!("`{program}` is not installed. Run the README's test command (bash tests/run.sh), which installs it")
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Polls `f` until it returns `Some`, or panics after `timeout` naming `what`.
pub fn wait_for<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        if start.elapsed() > timeout {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Where tests leave files for people to look at (screenshots, logs):
/// `tests/artifacts/` in the checkout, or `$VEDETTE_ARTIFACTS_DIR`.
pub fn artifacts_dir(sub: &str) -> PathBuf {
    let base = std::env::var_os("VEDETTE_ARTIFACTS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("artifacts"));
    let dir = base.join(sub);
    std::fs::create_dir_all(&dir).expect("create artifacts dir");
    dir
}

/// A private D-Bus session bus with gnome-keyring-daemon's Secret Service on
/// it, its keyring unlocked, its files in a temp dir.
pub struct KeyringSession {
    // Field order is drop order: the keyring daemon goes before its bus.
    _keyring: Option<Guard>,
    _bus: Guard,
    address: String,
    home: tempfile::TempDir,
}

impl KeyringSession {
    /// A session bus with an unlocked gnome-keyring on it.
    pub fn start() -> Self {
        Self::start_with(true)
    }

    /// A session bus with no Secret Service on it: a desktop without a keyring.
    pub fn without_keyring() -> Self {
        Self::start_with(false)
    }

    fn start_with(keyring: bool) -> Self {
        let home = tempfile::Builder::new()
            .prefix("vedette-keyring")
            .tempdir()
            .expect("temp dir");
        // A session bus without service activation: only what the test starts
        // is on it (the stock session config would start gnome-keyring, portals
        // and the accessibility bus on demand).
        let config = home.path().join("bus.conf");
        std::fs::write(
            &config,
            format!(
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
                home.path().display()
            ),
        )
        .expect("write bus config");
        let mut bus = Guard::spawn(
            "dbus-daemon",
            Command::new(require("dbus-daemon"))
                .arg(format!("--config-file={}", config.display()))
                .args(["--nofork", "--print-address=1"])
                .stdout(Stdio::piped())
                .stderr(Stdio::null()),
        );
        let mut line = String::new();
        let out = bus.child.stdout.take().expect("dbus-daemon stdout");
        BufReader::new(out)
            .read_line(&mut line)
            .expect("read the bus address");
        let address = line.trim().to_owned();
        assert!(!address.is_empty(), "dbus-daemon printed no address");

        let keyring = keyring.then(|| {
            let runtime = home.path().join("run");
            std::fs::create_dir_all(&runtime).expect("runtime dir");
            set_mode_700(&runtime);
            let mut keyring = Guard::spawn(
                "gnome-keyring-daemon",
                Command::new(require("gnome-keyring-daemon"))
                    .args(["--foreground", "--unlock", "--components=secrets"])
                    .env("DBUS_SESSION_BUS_ADDRESS", &address)
                    .env("HOME", home.path())
                    .env("XDG_DATA_HOME", home.path().join("data"))
                    .env("XDG_RUNTIME_DIR", &runtime)
                    .stdin(Stdio::piped())
                    .stdout(Stdio::null())
                    .stderr(
                        std::fs::File::create(home.path().join("gnome-keyring-daemon.log"))
                            .map(Stdio::from)
                            .unwrap_or_else(|_| Stdio::null()),
                    ),
            );
            {
                // The login keyring's password, read until end of input.
                let mut stdin = keyring.child.stdin.take().expect("keyring stdin");
                stdin.write_all(b"vedette-test").expect("unlock keyring");
            }
            keyring
        });
        let session = Self {
            _keyring: keyring,
            _bus: bus,
            address,
            home,
        };
        if session._keyring.is_some() {
            wait_for(
                "gnome-keyring-daemon to own org.freedesktop.secrets",
                Duration::from_secs(20),
                || {
                    session
                        .name_has_owner("org.freedesktop.secrets")
                        .then_some(())
                },
            );
        }
        session
    }

    /// When gnome-keyring-daemon has died, what it said (for a failing
    /// test's output: a scan that cannot read the keyring fails).
    pub fn died(&mut self) -> Option<String> {
        let keyring = self._keyring.as_mut()?;
        let status = keyring.child.try_wait().ok()??;
        let log = std::fs::read_to_string(self.home.path().join("gnome-keyring-daemon.log"))
            .unwrap_or_default();
        Some(format!("gnome-keyring-daemon died ({status}): {log}"))
    }

    /// `DBUS_SESSION_BUS_ADDRESS` of the private bus.
    pub fn address(&self) -> &str {
        &self.address
    }

    pub fn home(&self) -> &Path {
        self.home.path()
    }

    pub fn name_has_owner(&self, name: &str) -> bool {
        Command::new(require("dbus-send"))
            .args([
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.NameHasOwner",
            ])
            .arg(format!("string:{name}"))
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).contains("boolean true"))
            .unwrap_or(false)
    }

    /// Reads a secret with libsecret's `secret-tool`, a client independent of
    /// Vedette's: what any other program on the desktop would see.
    pub fn secret_tool_lookup(&self, attributes: &[(&str, &str)]) -> Option<String> {
        let mut cmd = Command::new(require("secret-tool"));
        cmd.arg("lookup");
        for (k, v) in attributes {
            cmd.args([k, v]);
        }
        let out = cmd
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .output()
            .expect("run secret-tool");
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Stores a secret with `secret-tool`, as another program would.
    pub fn secret_tool_store(&self, label: &str, attributes: &[(&str, &str)], secret: &str) {
        let mut cmd = Command::new(require("secret-tool"));
        cmd.args(["store", "--label", label]);
        for (k, v) in attributes {
            cmd.args([k, v]);
        }
        let mut child = cmd
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .stdin(Stdio::piped())
            .spawn()
            .expect("run secret-tool");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(secret.as_bytes())
            .expect("write secret");
        assert!(child.wait().expect("secret-tool").success());
    }
}

fn set_mode_700(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700)).expect("chmod 700");
}

/// A StatusNotifierWatcher (Debian's `status-notifier-watcher`) on a session
/// bus: what a desktop panel runs, so that tray icons register and export
/// their menus over D-Bus (`com.canonical.dbusmenu`).
pub struct TrayWatcher {
    _guard: Guard,
}

impl TrayWatcher {
    pub fn start(session: &KeyringSession) -> Self {
        let guard = Guard::spawn(
            "status-notifier-watcher",
            Command::new(require("status-notifier-watcher"))
                .env("DBUS_SESSION_BUS_ADDRESS", session.address())
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        );
        wait_for(
            "status-notifier-watcher to own org.kde.StatusNotifierWatcher",
            Duration::from_secs(20),
            || {
                session
                    .name_has_owner("org.kde.StatusNotifierWatcher")
                    .then_some(())
            },
        );
        Self { _guard: guard }
    }
}

/// dunst, a real freedesktop notification server, on a session bus and an
/// X display: it shows notifications and reports their actions (`dunstctl
/// action 0` clicks the newest one's default action).
pub struct NotificationDaemon {
    _guard: Guard,
    env: Vec<(String, String)>,
}

impl NotificationDaemon {
    pub fn start(session: &KeyringSession, display: &Display) -> Self {
        let config = session.home().join("dunstrc");
        std::fs::write(
            &config,
            "[global]\n    font = DejaVu Sans 10\n    mouse_left_click = do_action\n",
        )
        .expect("dunstrc");
        let env = vec![
            (
                "DBUS_SESSION_BUS_ADDRESS".to_owned(),
                session.address().to_owned(),
            ),
            ("DISPLAY".to_owned(), display.name()),
        ];
        let guard = Guard::spawn(
            "dunst",
            Command::new(require("dunst"))
                .arg("-config")
                .arg(&config)
                .envs(env.iter().cloned())
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        );
        wait_for(
            "dunst to own org.freedesktop.Notifications",
            Duration::from_secs(20),
            || {
                session
                    .name_has_owner("org.freedesktop.Notifications")
                    .then_some(())
            },
        );
        Self { _guard: guard, env }
    }

    /// Clicks the newest notification (its default action), as a user would.
    pub fn click_newest(&self) {
        let out = Command::new(require("dunstctl"))
            .args(["action", "0"])
            .envs(self.env.iter().cloned())
            .output()
            .expect("run dunstctl");
        assert!(
            out.status.success(),
            "dunstctl action failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// `dbus-monitor` on a session bus, writing what matches `rules` to a file.
pub struct BusMonitor {
    _guard: Guard,
    log: PathBuf,
}

impl BusMonitor {
    pub fn start(session: &KeyringSession, rules: &[&str], log: PathBuf) -> Self {
        let file = std::fs::File::create(&log).expect("monitor log");
        let guard = Guard::spawn(
            "dbus-monitor",
            Command::new(require("dbus-monitor"))
                .arg("--address")
                .arg(session.address())
                .args(rules)
                .stdout(file)
                .stderr(Stdio::null()),
        );
        // It is listening once it printed its own NameAcquired.
        wait_for("dbus-monitor to listen", Duration::from_secs(20), || {
            std::fs::read_to_string(&log)
                .ok()
                .filter(|t| !t.is_empty())
                .map(|_| ())
        });
        Self { _guard: guard, log }
    }

    /// Everything recorded so far.
    pub fn text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// An Xvfb X server on a free display number.
pub struct Display {
    _xvfb: Guard,
    number: u32,
}

impl Display {
    pub fn start() -> Self {
        let mut xvfb = Guard::spawn(
            "Xvfb",
            Command::new(require("Xvfb"))
                .args([
                    "-displayfd",
                    "1",
                    "-screen",
                    "0",
                    "1280x800x24",
                    "-nolisten",
                    "tcp",
                ])
                .stdout(Stdio::piped())
                .stderr(Stdio::null()),
        );
        let mut out = xvfb.child.stdout.take().expect("Xvfb stdout");
        let mut buf = Vec::new();
        let mut byte = [0u8; 1];
        while out.read(&mut byte).map(|n| n == 1).unwrap_or(false) && byte[0] != b'\n' {
            buf.push(byte[0]);
        }
        let number: u32 = String::from_utf8_lossy(&buf)
            .trim()
            .parse()
            .expect("Xvfb printed its display number");
        Self {
            _xvfb: xvfb,
            number,
        }
    }

    /// The `DISPLAY` value, e.g. `:99`.
    pub fn name(&self) -> String {
        format!(":{}", self.number)
    }
}

/// tauri-driver on a free port, in front of Debian's WebKitWebDriver.
pub struct TauriDriver {
    guard: Guard,
    port: u16,
}

impl TauriDriver {
    pub fn start(env: &[(&str, &str)], log: &Path) -> Self {
        let port = free_port();
        let native_port = free_port();
        let log_file = std::fs::File::create(log).expect("driver log");
        let mut cmd = Command::new(require("tauri-driver"));
        cmd.args(["--port", &port.to_string()])
            .args(["--native-port", &native_port.to_string()])
            .args([
                "--native-driver",
                &require("WebKitWebDriver").to_string_lossy(),
            ])
            .stdout(log_file.try_clone().expect("log"))
            .stderr(log_file);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut guard = Guard::spawn("tauri-driver", &mut cmd);
        wait_for("tauri-driver to listen", Duration::from_secs(20), || {
            guard.assert_running();
            std::net::TcpStream::connect(("127.0.0.1", port))
                .ok()
                .map(|_| ())
        });
        Self { guard, port }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn pid(&self) -> u32 {
        self.guard.pid()
    }
}

/// Peak resident memory of this process so far, in MB (`VmHWM`): a test
/// that reads hostile input asserts it stays bounded. (nextest runs each
/// test in a process of its own, so the peak is that test's.)
pub fn peak_rss_mb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .expect("VmHWM in /proc/self/status");
    kb / 1024
}

/// A page of a loopback API listing: `page` (from 1) and its size, read
/// from the query with these parameter names, and the index it starts at.
pub fn page_of(query: &str, page: &str, size: &str, default_size: usize) -> (usize, usize, usize) {
    let param = |name: &str| {
        query
            .split('&')
            .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
            .and_then(|v| v.parse::<usize>().ok())
    };
    let p = param(page).unwrap_or(1).max(1);
    let n = param(size).unwrap_or(default_size).clamp(1, 100);
    (p, n, (p - 1) * n)
}

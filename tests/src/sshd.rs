//! A real OpenSSH server (Debian's `openssh-server`, installed by the test
//! command) on a loopback port of its own, with its own host key and
//! `authorized_keys`, optionally chrooted into a root the test made and
//! answering SFTP only. Run as root (as CI does): sshd needs it to chroot
//! and to log a user in.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How an sshd is set up.
#[derive(Debug, Clone, Default)]
pub struct SshdConfig {
    /// `ChrootDirectory`: every component root-owned and not writable by
    /// others (a dir under `CARGO_TARGET_TMPDIR`, not `/tmp`).
    pub chroot: Option<PathBuf>,
    /// Public keys (`ssh-ed25519 AAAA…`) that may log in.
    pub authorized_keys: Vec<String>,
    /// `ForceCommand internal-sftp`: no commands.
    pub sftp_only: bool,
    /// A host key file to serve with (another sshd's: the same host); a new
    /// one when none.
    pub host_key: Option<PathBuf>,
    /// An account (see [`password_account`]) that may log in with its
    /// password, besides the current user with a key.
    pub password_user: Option<String>,
}

/// A running sshd; stopped when dropped.
pub struct Sshd {
    child: Child,
    pub port: u16,
    /// The host key's fingerprint as `ssh-keygen -lf` prints it (`SHA256:…`).
    pub fingerprint: String,
    /// The private host key (to serve the same key again, or another).
    pub host_key: PathBuf,
    pub user: String,
    _dir: tempfile::TempDir,
}

/// The user the tests run as (sshd logs this account in).
pub fn current_user() -> String {
    let out = Command::new("id").arg("-un").output().expect("id -un");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A new ed25519 key pair in `dir`: (private key file, public key line).
pub fn keypair(dir: &Path, name: &str) -> (PathBuf, String) {
    let key = dir.join(name);
    let o = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
        .arg(&key)
        .output()
        .expect("ssh-keygen (openssh-client)");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let public = std::fs::read_to_string(key.with_extension("pub"))
        .expect("ssh-keygen wrote the public key");
    (key, public.trim().to_owned())
}

/// `ssh-keygen -lf`'s SHA-256 fingerprint of a key file.
pub fn fingerprint(key: &Path) -> String {
    let o = Command::new("ssh-keygen")
        .arg("-lf")
        .arg(key)
        .output()
        .expect("ssh-keygen -lf");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout)
        .split_whitespace()
        .nth(1)
        .expect("a fingerprint")
        .to_owned()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

impl Sshd {
    /// On a free loopback port.
    pub fn start(cfg: &SshdConfig) -> Self {
        Self::launch(None, cfg)
    }

    /// On `port` (another sshd's, gone: the same address with another key).
    pub fn start_on(port: u16, cfg: &SshdConfig) -> Self {
        Self::launch(Some(port), cfg)
    }

    fn launch(fixed: Option<u16>, cfg: &SshdConfig) -> Self {
        let sshd = Path::new("/usr/sbin/sshd");
        assert!(
            sshd.exists(),
            "/usr/sbin/sshd is missing: `bash tests/run.sh` installs openssh-server"
        );
        let dir = tempfile::tempdir().expect("a temp dir");
        let host_key = match &cfg.host_key {
            Some(k) => k.clone(),
            None => keypair(dir.path(), "host_ed25519").0,
        };
        let authorized = dir.path().join("authorized_keys");
        std::fs::write(&authorized, cfg.authorized_keys.join("\n") + "\n")
            .expect("write authorized_keys");
        let user = current_user();
        let (allowed, passwords) = match &cfg.password_user {
            Some(p) => (format!("{user} {p}"), "yes"),
            None => (user.clone(), "no"),
        };
        let mut config = format!(
            "ListenAddress 127.0.0.1\n\
             HostKey {}\n\
             PidFile none\n\
             AuthorizedKeysFile {}\n\
             StrictModes no\n\
             PasswordAuthentication {passwords}\n\
             PermitEmptyPasswords no\n\
             KbdInteractiveAuthentication no\n\
             PubkeyAuthentication yes\n\
             PermitRootLogin prohibit-password\n\
             UsePAM no\n\
             AllowUsers {allowed}\n\
             Subsystem sftp internal-sftp\n\
             LogLevel VERBOSE\n",
            host_key.display(),
            authorized.display(),
        );
        if let Some(root) = &cfg.chroot {
            config.push_str(&format!("ChrootDirectory {}\n", root.display()));
        }
        if cfg.sftp_only {
            config.push_str("ForceCommand internal-sftp\n");
        }
        let config_file = dir.path().join("sshd_config");
        std::fs::write(&config_file, config).expect("write sshd_config");
        // sshd wants its privilege separation directory.
        std::fs::create_dir_all("/run/sshd").ok();
        let log = std::fs::File::create(dir.path().join("sshd.log")).expect("create sshd.log");
        for _ in 0..5 {
            let port = fixed.unwrap_or_else(free_port);
            let mut child = Command::new(sshd)
                .args(["-D", "-e", "-p", &port.to_string(), "-f"])
                .arg(&config_file)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log.try_clone().expect("the log again"))
                .spawn()
                .expect("start sshd");
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(10) {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Sshd {
                        child,
                        port,
                        fingerprint: fingerprint(&host_key),
                        host_key,
                        user,
                        _dir: dir,
                    };
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!(
            "sshd did not start: {}",
            std::fs::read_to_string(dir.path().join("sshd.log")).unwrap_or_default()
        );
    }

    /// `user@127.0.0.1:port`
    pub fn address(&self) -> String {
        format!("{}@127.0.0.1:{}", self.user, self.port)
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A copy of `fixture` (a tree of package databases) as a root sshd can
/// chroot into: under `parent` (root-owned, not writable by others), every
/// directory 0755.
pub fn chroot_root(parent: &Path, fixture: &Path) -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let root = tempfile::Builder::new()
        .prefix("chroot")
        .tempdir_in(parent)
        .expect("a chroot dir");
    std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o755))
        .expect("chmod 755 the chroot");
    let o = Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", fixture.display()))
        .arg(root.path())
        .output()
        .expect("cp");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    root
}

/// Makes `root` answer `uname -r` and `uname -v` as a distribution's kernel
/// would (the tests' machine runs whatever kernel it runs): the login shell
/// of the test user (with the libraries `ldd` names) and a `uname` script
/// that prints `release` and `build`.
pub fn install_uname(root: &Path, release: &str, build: &str) {
    use std::os::unix::fs::PermissionsExt;
    let shell = login_shell();
    let mut files = vec![shell.clone()];
    let o = Command::new("ldd").arg(&shell).output().expect("ldd");
    for word in String::from_utf8_lossy(&o.stdout).split_whitespace() {
        if word.starts_with('/') {
            files.push(PathBuf::from(word));
        }
    }
    for f in &files {
        let to = root.join(f.strip_prefix("/").expect("an absolute path"));
        std::fs::create_dir_all(to.parent().expect("a parent")).expect("create the dir");
        std::fs::copy(f, &to).unwrap_or_else(|e| panic!("copy {}: {e}", f.display()));
    }
    let script = format!(
        "#!{}\ncase \"$1\" in\n  -r) echo '{release}' ;;\n  -v) echo '{build}' ;;\n  *) echo Linux ;;\nesac\n",
        shell.display()
    );
    for dir in ["usr/bin", "bin"] {
        let d = root.join(dir);
        if d.is_symlink() {
            continue;
        }
        std::fs::create_dir_all(&d).expect("create the bin dir");
        let uname = d.join("uname");
        std::fs::write(&uname, &script).expect("write uname");
        std::fs::set_permissions(&uname, std::fs::Permissions::from_mode(0o755))
            .expect("chmod uname");
    }
}

/// The current user's login shell (what sshd runs commands with).
fn login_shell() -> PathBuf {
    let user = current_user();
    let o = Command::new("getent")
        .args(["passwd", &user])
        .output()
        .expect("getent passwd");
    let line = String::from_utf8_lossy(&o.stdout).trim().to_owned();
    PathBuf::from(
        line.rsplit(':')
            .next()
            .filter(|s| !s.is_empty())
            .unwrap_or("/bin/sh"),
    )
}

/// A system account with no home and no shell, made if missing, whose
/// password is set to a new random one each call; the password. (sshd
/// checks passwords against the system's accounts: the tests run as root.)
pub fn password_account(name: &str) -> String {
    let exists = Command::new("id")
        .arg(name)
        .output()
        .is_ok_and(|o| o.status.success());
    if !exists {
        let o = Command::new("useradd")
            .args([
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                name,
            ])
            .output()
            .expect("useradd (the tests run as root)");
        assert!(
            o.status.success(),
            "useradd: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let mut bytes = [0u8; 12];
    std::io::Read::read_exact(
        &mut std::fs::File::open("/dev/urandom").expect("/dev/urandom"),
        &mut bytes,
    )
    .expect("random bytes");
    let password: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let mut child = Command::new("chpasswd")
        .stdin(Stdio::piped())
        .spawn()
        .expect("chpasswd");
    std::io::Write::write_all(
        child.stdin.as_mut().expect("chpasswd's stdin"),
        format!("{name}:{password}\n").as_bytes(),
    )
    .expect("write to chpasswd");
    assert!(child.wait().expect("chpasswd").success(), "chpasswd failed");
    password
}

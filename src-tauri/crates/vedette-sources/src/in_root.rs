//! Opening files inside a root directory as if it were `/`: a symlink
//! anywhere on the path (absolute or relative, the last component or one
//! before it) resolves inside the root, never outside it, as it would for a
//! process chrooted there.
//!
//! The kernel does this (`openat2` with `RESOLVE_IN_ROOT`, Linux 5.6+).
//! Where that call is refused (an older kernel, a seccomp filter in a
//! container), the same walk is done here one component at a time, on
//! directory handles opened without following links.

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use rustix::fs::{self as rfs, AtFlags, FileType, Mode, OFlags, ResolveFlags};

/// Most symlinks followed while resolving one path (Linux's own limit).
const MAX_LINKS: usize = 40;

/// A directory treated as `/`.
pub struct Root {
    fd: OwnedFd,
}

impl Root {
    pub fn open(path: &Path) -> io::Result<Self> {
        let fd = rfs::open(
            path,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        Ok(Self { fd })
    }

    /// Opens the regular file at `path` (absolute inside the root) for
    /// reading. A path that resolves to a directory, device, FIFO or socket
    /// is refused, and so is one that loops.
    pub fn open_file(&self, path: &str) -> io::Result<File> {
        let probe = self.resolve(path, OFlags::PATH)?;
        let st = rfs::fstat(&probe)?;
        if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a regular file",
            ));
        }
        // Opened for real only once it is known to be a plain file (opening
        // a device can have effects; a FIFO would block), and checked to be
        // the same file after.
        let fd = self.resolve(path, OFlags::RDONLY | OFlags::NONBLOCK)?;
        let again = rfs::fstat(&fd)?;
        if (again.st_dev, again.st_ino) != (st.st_dev, st.st_ino) {
            return Err(io::Error::other("the file changed while it was opened"));
        }
        Ok(File::from(fd))
    }

    fn resolve(&self, path: &str, flags: OFlags) -> io::Result<OwnedFd> {
        let rel = path.trim_start_matches('/');
        let rel = if rel.is_empty() { "." } else { rel };
        match rfs::openat2(
            &self.fd,
            rel,
            flags | OFlags::CLOEXEC,
            Mode::empty(),
            ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS,
        ) {
            Err(e) if e == rustix::io::Errno::NOSYS || e == rustix::io::Errno::PERM => {
                walk(self.fd.as_fd(), rel, flags)
            }
            other => Ok(other?),
        }
    }
}

/// `RESOLVE_IN_ROOT` by hand: components are looked at one by one with
/// `O_NOFOLLOW`; a symlink's target is spliced in (an absolute one starting
/// again from the root); `..` never climbs above the root.
fn walk(root: BorrowedFd<'_>, rel: &str, flags: OFlags) -> io::Result<OwnedFd> {
    let mut pending: Vec<Vec<u8>> = components(rel.as_bytes());
    pending.reverse(); // a stack: the next component last
    let mut dirs: Vec<OwnedFd> = Vec::new();
    let mut links = 0;
    while let Some(c) = pending.pop() {
        match c.as_slice() {
            b"" | b"." => continue,
            b".." => {
                dirs.pop();
                continue;
            }
            _ => {}
        }
        let dir = dirs.last().map(|d| d.as_fd()).unwrap_or(root);
        let st = rfs::statat(dir, c.as_slice(), AtFlags::SYMLINK_NOFOLLOW)?;
        if FileType::from_raw_mode(st.st_mode) == FileType::Symlink {
            links += 1;
            if links > MAX_LINKS {
                return Err(rustix::io::Errno::LOOP.into());
            }
            let target = rfs::readlinkat(dir, c.as_slice(), Vec::new())?.into_bytes();
            if target.starts_with(b"/") {
                dirs.clear();
            }
            let mut more = components(&target);
            more.reverse();
            pending.extend(more);
            continue;
        }
        if pending.iter().all(|p| p.is_empty() || p == b".") {
            return Ok(rfs::openat(
                dir,
                c.as_slice(),
                flags | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )?);
        }
        dirs.push(rfs::openat(
            dir,
            c.as_slice(),
            OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )?);
    }
    // The path named the root itself (or climbed back to it).
    let dir = dirs.last().map(|d| d.as_fd()).unwrap_or(root);
    Ok(rfs::openat(
        dir,
        ".",
        flags | OFlags::CLOEXEC,
        Mode::empty(),
    )?)
}

fn components(p: &[u8]) -> Vec<Vec<u8>> {
    p.split(|&b| b == b'/').map(<[u8]>::to_vec).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::unix::fs::symlink;

    fn read(root: &Root, p: &str) -> io::Result<String> {
        let mut s = String::new();
        root.open_file(p)?.read_to_string(&mut s)?;
        Ok(s)
    }

    /// A host directory outside the root, and a root whose links try to reach it.
    fn escape_setup() -> (tempfile::TempDir, std::path::PathBuf) {
        let d = tempfile::tempdir().unwrap();
        let host = d.path().join("host/var/lib/dpkg");
        std::fs::create_dir_all(&host).unwrap();
        std::fs::write(host.join("status"), "HOST").unwrap();
        let root = d.path().join("root");
        std::fs::create_dir_all(root.join("var/lib/dpkg")).unwrap();
        std::fs::create_dir_all(root.join("x")).unwrap();
        // The review's case: the last component is relative, an intermediate
        // one absolute on the host.
        symlink("../../../x/status", root.join("var/lib/dpkg/status")).unwrap();
        std::fs::remove_dir(root.join("x")).unwrap();
        symlink(&host, root.join("x")).unwrap();
        (d, root)
    }

    #[test]
    fn an_intermediate_symlink_cannot_lead_out_of_the_root() {
        let (_d, root) = escape_setup();
        let r = Root::open(&root).unwrap();
        // x -> /<tmp>/host/var/lib/dpkg means <root>/<tmp>/host/..., which does not exist.
        assert!(read(&r, "/var/lib/dpkg/status").is_err());
        assert!(read(&r, "/x/status").is_err());
    }

    #[test]
    fn the_fallback_walk_resolves_the_same_way() {
        let (_d, root) = escape_setup();
        let r = Root::open(&root).unwrap();
        assert!(walk(r.fd.as_fd(), "var/lib/dpkg/status", OFlags::RDONLY).is_err());
        // Links that stay inside resolve, absolute ones from the root.
        std::fs::create_dir_all(root.join("usr/lib")).unwrap();
        std::fs::create_dir_all(root.join("etc")).unwrap();
        std::fs::write(root.join("usr/lib/os-release"), "ID=debian\n").unwrap();
        symlink("../usr/lib/os-release", root.join("etc/os-release")).unwrap();
        symlink("/usr/lib", root.join("lib")).unwrap();
        symlink("/../../../../etc/os-release", root.join("etc/up")).unwrap();
        for p in ["etc/os-release", "lib/os-release", "etc/up"] {
            let fd = walk(r.fd.as_fd(), p, OFlags::RDONLY).unwrap();
            let mut s = String::new();
            File::from(fd).read_to_string(&mut s).unwrap();
            assert_eq!(s, "ID=debian\n", "{p}");
            assert_eq!(read(&r, p).unwrap(), "ID=debian\n", "{p}");
        }
        symlink("loop", root.join("loop")).unwrap();
        assert!(walk(r.fd.as_fd(), "loop", OFlags::RDONLY).is_err());
        assert!(read(&r, "/loop").is_err());
    }

    #[test]
    fn devices_fifos_and_directories_are_refused_without_blocking() {
        let d = tempfile::tempdir().unwrap();
        let fifo = d.path().join("fifo");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        std::fs::create_dir(d.path().join("dir")).unwrap();
        let r = Root::open(d.path()).unwrap();
        for p in ["/fifo", "/dir", "/"] {
            let e = r.open_file(p).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{p}: {e}");
        }
    }
}

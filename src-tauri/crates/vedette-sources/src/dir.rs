//! A directory or unpacked root filesystem.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use vedette_extract::{Cataloger, Files};

use crate::{layers::normalize, SourceError, View};

/// Most symlink hops followed to find a wanted file (loops end here).
const MAX_LINK_HOPS: usize = 16;

/// Reads the wanted files under `root`. Symlinks are resolved inside `root`
/// (as if it were `/`), never outside it; other file systems mounted below
/// `root` (`/proc` when scanning `/`) are not entered.
pub fn read_dir(root: &Path, catalogers: &[Box<dyn Cataloger>]) -> Result<View, SourceError> {
    let meta = std::fs::metadata(root).map_err(|e| io(root, e))?;
    if !meta.is_dir() {
        return Err(SourceError::Io {
            path: root.to_owned(),
            message: "not a directory; for an image archive use `vedette scan archive`".into(),
        });
    }
    let mut view = View::default();
    let walker = walkdir::WalkDir::new(root)
        .follow_links(false)
        .same_file_system(true);
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                view.warnings.push(format!("skipped: {e}"));
                continue;
            }
        };
        let Ok(rel) = entry.path().strip_prefix(root) else {
            continue;
        };
        let Some(path) = normalize(rel.as_os_str().as_encoded_bytes()) else {
            continue;
        };
        let ft = entry.file_type();
        if ft.is_file() && !vedette_extract::wanted(&path, catalogers) {
            use std::os::unix::fs::PermissionsExt;
            let Ok(meta) = entry.metadata() else { continue };
            // A Java archive: keep only the Maven coordinates inside.
            if vedette_extract::java::is_archive(&path) && meta.len() <= crate::layers::MAX_BINARY {
                match std::fs::File::open(entry.path())
                    .and_then(vedette_extract::java::scan_archive)
                {
                    Ok(Some(summary)) => view.files.insert(path, summary, None),
                    Ok(None) => {}
                    Err(e) => view
                        .warnings
                        .push(format!("{path} is not a readable Java archive: {e}")),
                }
                continue;
            }
            // An executable may be a Go or cargo-auditable binary: keep only what it says it is built from.
            if meta.permissions().mode() & 0o111 != 0
                && (1024..=crate::layers::MAX_BINARY).contains(&meta.len())
            {
                match std::fs::File::open(entry.path()).and_then(|f| {
                    vedette_extract::binary::scan_executable(std::io::BufReader::new(f))
                }) {
                    Ok(Some(blob)) => view.files.insert(path, blob, None),
                    Ok(None) => {}
                    Err(e) => view.warnings.push(format!("{path}: {e}")),
                }
            }
            continue;
        }
        if !(ft.is_file() || ft.is_symlink()) || !vedette_extract::wanted(&path, catalogers) {
            continue;
        }
        let real = if ft.is_symlink() {
            match resolve_inside(root, &path) {
                Some(p) => p,
                None => {
                    view.warnings.push(format!(
                        "{path} is a symlink that leads nowhere inside the root; skipped"
                    ));
                    continue;
                }
            }
        } else {
            entry.path().to_owned()
        };
        match read_capped(&real) {
            Ok(Some(data)) => view.files.insert(path, data, None),
            Ok(None) => view.warnings.push(format!(
                "{path} is larger than a package database can be; skipped"
            )),
            Err(e) => view.warnings.push(format!("{path}: {e}")),
        }
    }
    Ok(view)
}

/// Follows the symlink at `path` (absolute inside `root`) with `root` as `/`.
fn resolve_inside(root: &Path, path: &str) -> Option<PathBuf> {
    let mut current = path.to_owned();
    for _ in 0..MAX_LINK_HOPS {
        let on_disk = root.join(current.trim_start_matches('/'));
        let meta = std::fs::symlink_metadata(&on_disk).ok()?;
        if !meta.file_type().is_symlink() {
            return meta.is_file().then_some(on_disk);
        }
        let target = std::fs::read_link(&on_disk).ok()?;
        let target = target.as_os_str().as_encoded_bytes();
        let joined = if target.starts_with(b"/") {
            target.to_vec()
        } else {
            let parent = current.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
            [parent.as_bytes(), b"/", target].concat()
        };
        current = normalize(&joined)?;
    }
    None
}

fn read_capped(path: &Path) -> std::io::Result<Option<Vec<u8>>> {
    let meta = std::fs::metadata(path)?;
    if meta.len() > vedette_extract::MAX_FILE_SIZE {
        return Ok(None);
    }
    std::fs::read(path).map(Some)
}

/// A digest of the wanted files (paths and contents): the same directory
/// content gives the same key, so its inventory is stored once.
pub fn content_digest(files: &Files) -> String {
    let mut h = Sha256::new();
    for (path, f) in files.iter() {
        h.update((path.len() as u64).to_le_bytes());
        h.update(path.as_bytes());
        h.update((f.data.len() as u64).to_le_bytes());
        h.update(&f.data);
    }
    format!("sha256:{}", hex::encode(h.finalize()))
}

fn io(path: &Path, e: std::io::Error) -> SourceError {
    SourceError::Io {
        path: path.to_owned(),
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symlinks_resolve_inside_the_root_and_loops_end() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        std::fs::create_dir_all(root.join("usr/lib")).unwrap();
        std::fs::create_dir_all(root.join("etc")).unwrap();
        std::fs::write(
            root.join("usr/lib/os-release"),
            "ID=debian\nVERSION_ID=\"12\"\n",
        )
        .unwrap();
        std::os::unix::fs::symlink("../usr/lib/os-release", root.join("etc/os-release")).unwrap();
        // An absolute link means the root's /, not the host's.
        std::fs::create_dir_all(root.join("var/lib/dpkg")).unwrap();
        std::os::unix::fs::symlink(
            "/etc/../../../../etc/shadow-nope",
            root.join("var/lib/dpkg/status"),
        )
        .unwrap();
        std::fs::create_dir_all(root.join("lib/apk/db")).unwrap();
        std::os::unix::fs::symlink("installed", root.join("lib/apk/db/installed")).unwrap();

        let view = read_dir(root, &vedette_extract::catalogers()).unwrap();
        assert_eq!(
            view.files.get("/etc/os-release").unwrap().data,
            b"ID=debian\nVERSION_ID=\"12\"\n"
        );
        assert!(view.files.get("/var/lib/dpkg/status").is_none());
        assert!(
            view.files.get("/lib/apk/db/installed").is_none(),
            "a self-loop is skipped"
        );
        assert_eq!(view.warnings.len(), 2, "{:?}", view.warnings);
    }

    #[test]
    fn a_file_is_not_a_directory_target() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("x.tar");
        std::fs::write(&f, b"x").unwrap();
        let e = read_dir(&f, &vedette_extract::catalogers())
            .unwrap_err()
            .to_string();
        assert!(e.contains("scan archive"), "{e}");
    }
}

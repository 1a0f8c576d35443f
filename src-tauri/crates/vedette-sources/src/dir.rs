//! A directory or unpacked root filesystem.

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};
use vedette_extract::{Cataloger, Files};
use vedette_model::ScanLimits;

use crate::in_root::Root;
use crate::{layers::normalize, Budget, SourceError, View};

/// Reads the wanted files under `root`. Every file is opened with `root` as
/// `/`: a symlink anywhere on its path resolves inside `root`, never outside
/// it; other file systems mounted below `root` (`/proc` when scanning `/`)
/// are not entered; devices and FIFOs are never opened for reading.
pub fn read_dir(
    root: &Path,
    catalogers: &[Box<dyn Cataloger>],
    budget: &Budget,
) -> Result<View, SourceError> {
    let limits = *budget.limits();
    let meta = std::fs::metadata(root).map_err(|e| io(root, e))?;
    if !meta.is_dir() {
        return Err(SourceError::Io {
            path: root.to_owned(),
            message: "not a directory; for an image archive use `vedette scan archive`".into(),
        });
    }
    let jail = Root::open(root).map_err(|e| io(root, e))?;
    let mut view = View::default();
    let walker = walkdir::WalkDir::new(root)
        .follow_links(false)
        .same_file_system(true);
    let mut entries: u64 = 0;
    for entry in walker {
        budget.check()?;
        entries += 1;
        if entries > limits.max_entries {
            return Err(SourceError::Limit {
                what: format!(
                    "{} holds more than {} files and directories",
                    root.display(),
                    limits.max_entries
                ),
                setting: ScanLimits::ENTRIES,
            });
        }
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
        let wanted = vedette_extract::wanted(&path, catalogers);
        if ft.is_file() && !wanted {
            let Ok(meta) = entry.metadata() else { continue };
            if let Some(summary) = summarise(&jail, &path, &meta, &mut view) {
                budget.keep(&path, summary.len() as u64)?;
                view.files.insert(path, summary, None);
            }
            continue;
        }
        if !(ft.is_file() || ft.is_symlink()) || !wanted {
            continue;
        }
        let mut file = match jail.open_file(&path) {
            Ok(f) => f,
            Err(e) => {
                view.warnings.push(format!(
                    "{path} cannot be read inside the root ({e}); skipped"
                ));
                continue;
            }
        };
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        if let Some(w) = budget.oversized(&path, size) {
            view.warnings.push(w);
            continue;
        }
        budget.keep(&path, size)?;
        let mut data = Vec::with_capacity(size as usize);
        // Read no more than was accounted for, whatever the file does meanwhile.
        match (&mut file).take(size).read_to_end(&mut data) {
            Ok(_) => view.files.insert(path, data, None),
            Err(e) => view.warnings.push(format!("{path}: {e}")),
        }
    }
    Ok(view)
}

/// A Java archive's Maven coordinates, or what an executable says it is
/// built from; nothing for other files.
fn summarise(
    jail: &Root,
    path: &str,
    meta: &std::fs::Metadata,
    view: &mut View,
) -> Option<Vec<u8>> {
    use std::os::unix::fs::PermissionsExt;
    let is_jar = vedette_extract::java::is_archive(path) && meta.len() <= crate::layers::MAX_BINARY;
    let is_exe = meta.permissions().mode() & 0o111 != 0
        && (1024..=crate::layers::MAX_BINARY).contains(&meta.len());
    if !(is_jar || is_exe) {
        return None;
    }
    let file = jail.open_file(path).ok()?;
    if is_jar {
        return match vedette_extract::java::scan_archive(file) {
            Ok(summary) => summary,
            Err(e) => {
                view.warnings
                    .push(format!("{path} is not a readable Java archive: {e}"));
                None
            }
        };
    }
    match vedette_extract::binary::scan_executable(std::io::BufReader::new(file)) {
        Ok(blob) => blob,
        Err(e) => {
            view.warnings.push(format!("{path}: {e}"));
            None
        }
    }
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

        let view = read_dir(root, &vedette_extract::catalogers(), &Budget::default()).unwrap();
        assert_eq!(
            view.files.get("/etc/os-release").unwrap().data[..],
            b"ID=debian\nVERSION_ID=\"12\"\n"[..]
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
        let e = read_dir(&f, &vedette_extract::catalogers(), &Budget::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("scan archive"), "{e}");
    }
}

//! Reading image layers (tar, optionally gzip- or zstd-compressed) into the
//! changes they make to the filesystem view, and applying those in order.
//!
//! Only files a cataloger wants are kept, so memory stays bounded by the
//! size of package databases, not of the image. Every entry is untrusted:
//! paths are normalised inside the image root (`..` cannot climb out, an
//! absolute path is taken relative to the root), devices, FIFOs and symlinks
//! are not read, and nothing is ever written to disk.

use std::io::Read;

use sha2::{Digest, Sha256};
use vedette_extract::{Cataloger, Files};

use crate::SourceError;

/// Most entries one layer may hold (a hostile layer could hold billions of empty ones).
pub const MAX_ENTRIES: u64 = 5_000_000;
/// Most bytes one layer may inflate to; past this it is treated as a decompression bomb.
pub const MAX_INFLATED: u64 = 64 * 1024 * 1024 * 1024;

/// Largest executable searched for Go build info.
pub const MAX_BINARY: u64 = 1024 * 1024 * 1024;

/// What one layer does to the files below it.
#[derive(Debug, Default)]
pub struct LayerDelta {
    pub digest: String,
    /// Paths removed by `.wh.<name>` whiteouts.
    pub deleted: Vec<String>,
    /// Directories whose lower content `.wh..wh..opq` hides.
    pub opaque: Vec<String>,
    /// Wanted regular files this layer writes.
    pub files: Vec<(String, Vec<u8>)>,
    pub entries: u64,
    pub warnings: Vec<String>,
}

impl LayerDelta {
    /// Applies this layer on top of `view`: whiteouts first (they hide only
    /// lower layers' files), then this layer's files.
    pub fn apply(self, view: &mut Files) {
        for dir in &self.opaque {
            view.remove(dir, true);
        }
        for path in &self.deleted {
            view.remove(path, true);
        }
        for (path, data) in self.files {
            view.insert(path, data, Some(self.digest.clone()));
        }
    }
}

/// Compression of a layer blob, from its media type or its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    pub fn from_media_type(media_type: &str) -> Option<Self> {
        if media_type.ends_with("+gzip")
            || media_type.ends_with(".gzip")
            || media_type.ends_with("tar.gzip")
        {
            Some(Compression::Gzip)
        } else if media_type.ends_with("+zstd") {
            Some(Compression::Zstd)
        } else if media_type.ends_with(".tar") || media_type.ends_with("layer.v1.tar") {
            Some(Compression::None)
        } else {
            None
        }
    }

    pub fn sniff(head: &[u8]) -> Self {
        match head {
            [0x1f, 0x8b, ..] => Compression::Gzip,
            [0x28, 0xb5, 0x2f, 0xfd, ..] => Compression::Zstd,
            _ => Compression::None,
        }
    }
}

/// Normalises a tar entry path to an absolute path inside the image root.
/// `None` for paths that name the root itself or are not UTF-8.
pub fn normalize(raw: &[u8]) -> Option<String> {
    let s = std::str::from_utf8(raw).ok()?;
    let mut parts: Vec<&str> = Vec::new();
    for part in s.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop(); // cannot climb above the root
            }
            p => parts.push(p),
        }
    }
    if parts.is_empty() {
        return None;
    }
    Some(format!("/{}", parts.join("/")))
}

/// A reader that hashes what passes through and counts it.
pub struct Hashing<R> {
    inner: R,
    hasher: Sha256,
    pub count: u64,
}

impl<R: Read> Hashing<R> {
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            count: 0,
        }
    }

    /// `sha256:<hex>` of everything read.
    pub fn digest(self) -> String {
        format!("sha256:{}", hex::encode(self.hasher.finalize()))
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
}

/// Stops with an error once more than `limit` bytes were read.
struct Limited<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Limited<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.left {
            return Err(std::io::Error::other(format!(
                "the layer inflates to more than {} GiB; treated as a decompression bomb",
                MAX_INFLATED >> 30
            )));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// Reads one layer blob (compressed or not) and returns its changes, keeping
/// only files that `catalogers` want. `digest` names the layer in errors and
/// locations; checking the blob against it is the caller's job (it sees the
/// compressed bytes).
pub fn read_layer(
    blob: impl Read,
    compression: Option<Compression>,
    digest: &str,
    catalogers: &[Box<dyn Cataloger>],
) -> Result<LayerDelta, SourceError> {
    let mut blob = std::io::BufReader::with_capacity(256 * 1024, blob);
    let compression = match compression {
        Some(c) => c,
        None => {
            use std::io::BufRead;
            let head = blob.fill_buf().map_err(|e| layer_err(digest, e))?;
            Compression::sniff(head)
        }
    };
    let inflated: Box<dyn Read> = match compression {
        Compression::None => Box::new(blob),
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(blob)),
        Compression::Zstd => Box::new(
            zstd::stream::read::Decoder::with_buffer(blob).map_err(|e| layer_err(digest, e))?,
        ),
    };
    let limited = Limited {
        inner: inflated,
        left: MAX_INFLATED,
    };
    let mut archive = tar::Archive::new(limited);
    let mut delta = LayerDelta {
        digest: digest.to_owned(),
        ..LayerDelta::default()
    };
    let entries = archive.entries().map_err(|e| layer_err(digest, e))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| layer_err(digest, e))?;
        delta.entries += 1;
        if delta.entries > MAX_ENTRIES {
            return Err(SourceError::Layer {
                digest: digest.to_owned(),
                message: format!("more than {MAX_ENTRIES} entries; refusing to read further"),
            });
        }
        let Some(path) = normalize(&entry.path_bytes()) else {
            continue;
        };
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", &path));
        if let Some(hidden) = name.strip_prefix(".wh.") {
            if hidden == ".wh..opq" {
                delta.opaque.push(if dir.is_empty() {
                    "/".into()
                } else {
                    dir.to_owned()
                });
            } else {
                delta.deleted.push(format!("{dir}/{hidden}"));
            }
            continue;
        }
        let kind = entry.header().entry_type();
        if kind.is_hard_link() && vedette_extract::wanted(&path, catalogers) {
            // A hard link to a file of this layer: copy what was kept of it.
            let target = entry.link_name_bytes().and_then(|t| normalize(&t));
            match target.and_then(|t| {
                delta
                    .files
                    .iter()
                    .find(|(p, _)| *p == t)
                    .map(|(_, d)| d.clone())
            }) {
                Some(data) => delta.files.push((path, data)),
                None => delta.warnings.push(format!(
                    "{path} is a hard link to a file this layer does not hold; skipped"
                )),
            }
            continue;
        }
        if !kind.is_file() {
            continue; // directories, symlinks, devices, FIFOs
        }
        let size = entry.header().size().unwrap_or(u64::MAX);
        if !vedette_extract::wanted(&path, catalogers) {
            // A Java archive: keep only the Maven coordinates inside.
            if vedette_extract::java::is_archive(&path) && size <= MAX_BINARY {
                match vedette_extract::java::scan_archive(&mut entry) {
                    Ok(Some(summary)) => delta.files.push((path, summary)),
                    Ok(None) => {}
                    Err(e) => delta
                        .warnings
                        .push(format!("{path} is not a readable Java archive: {e}")),
                }
                continue;
            }
            // An executable may be a Go or cargo-auditable binary: keep only what it says it is built from.
            let mode = entry.header().mode().unwrap_or(0);
            if mode & 0o111 != 0 && (1024..=MAX_BINARY).contains(&size) {
                if let Some(blob) = vedette_extract::binary::scan_executable(&mut entry)
                    .map_err(|e| layer_err(digest, e))?
                {
                    delta.files.push((path, blob));
                }
            }
            continue;
        }
        if size > vedette_extract::MAX_FILE_SIZE {
            delta.warnings.push(format!(
                "{path} is {size} bytes, more than a package database can be; skipped"
            ));
            continue;
        }
        let mut data = Vec::with_capacity(size as usize);
        entry
            .read_to_end(&mut data)
            .map_err(|e| layer_err(digest, e))?;
        delta.files.push((path, data));
    }
    Ok(delta)
}

fn layer_err(digest: &str, e: std::io::Error) -> SourceError {
    SourceError::Layer {
        digest: digest.to_owned(),
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_cannot_leave_the_image_root() {
        assert_eq!(
            normalize(b"../../etc/passwd").as_deref(),
            Some("/etc/passwd")
        );
        assert_eq!(
            normalize(b"/var/lib/dpkg/status").as_deref(),
            Some("/var/lib/dpkg/status")
        );
        assert_eq!(normalize(b"./a/./b/../c").as_deref(), Some("/a/c"));
        assert_eq!(normalize(b"./"), None);
        assert_eq!(normalize(b"\xff\xfe"), None);
    }

    #[test]
    fn compression_is_sniffed_from_magic_bytes() {
        assert_eq!(Compression::sniff(&[0x1f, 0x8b, 8]), Compression::Gzip);
        assert_eq!(
            Compression::sniff(&[0x28, 0xb5, 0x2f, 0xfd]),
            Compression::Zstd
        );
        assert_eq!(Compression::sniff(b"usr/"), Compression::None);
        assert_eq!(
            Compression::from_media_type("application/vnd.oci.image.layer.v1.tar+zstd"),
            Some(Compression::Zstd)
        );
        assert_eq!(
            Compression::from_media_type("application/vnd.docker.image.rootfs.diff.tar.gzip"),
            Some(Compression::Gzip)
        );
    }
}

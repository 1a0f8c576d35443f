//! Reading image layers (tar, optionally gzip- or zstd-compressed) into the
//! changes they make to the filesystem view, and applying those in order.
//!
//! Only files a cataloger wants are kept, so memory stays bounded by the
//! size of package databases, not of the image, and the scan's [`Budget`]
//! caps even that. Every entry is untrusted: sizes are the ones the stream
//! really holds (a PAX `size` record overrides the header), paths are
//! normalised inside the image root (`..` cannot climb out, an absolute path
//! is taken relative to the root), devices, FIFOs and symlinks are not read,
//! a hard link shares its target's bytes, and nothing is written to disk.

use std::collections::HashMap;
use std::io::Read;

use bytes::Bytes;
use sha2::{Digest, Sha256};
use vedette_extract::{Cataloger, Files};
use vedette_model::{format_bytes, ScanLimits};

use crate::tar_stream::{self, Kind};
use crate::{Budget, SourceError};

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
    pub files: Vec<(String, Bytes)>,
    pub entries: u64,
    pub warnings: crate::Warnings,
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

/// A layer inflated past the limit (carried inside an `io::Error`).
#[derive(Debug)]
struct TooLarge(u64);

impl std::fmt::Display for TooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the layer inflates to more than {}",
            format_bytes(self.0)
        )
    }
}

impl std::error::Error for TooLarge {}

/// Stops with an error once more than `limit` bytes were read.
struct Limited<R> {
    inner: R,
    left: u64,
    limit: u64,
}

impl<R: Read> Read for Limited<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.left {
            return Err(std::io::Error::other(TooLarge(self.limit)));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// Reads one layer blob (compressed or not) and returns its changes, keeping
/// only files that `catalogers` want, within the scan's `budget`. `digest`
/// names the layer in errors and locations; checking the blob against it is
/// the caller's job (it sees the compressed bytes).
pub fn read_layer(
    blob: impl Read,
    compression: Option<Compression>,
    digest: &str,
    catalogers: &[Box<dyn Cataloger>],
    budget: &Budget,
) -> Result<LayerDelta, SourceError> {
    let limits = *budget.limits();
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
        left: limits.max_layer_bytes,
        limit: limits.max_layer_bytes,
    };
    let mut tar = tar_stream::Reader::new(limited);
    let mut delta = LayerDelta {
        digest: digest.to_owned(),
        ..LayerDelta::default()
    };
    // Kept files by path, for hard links to share their bytes.
    let mut kept: HashMap<String, usize> = HashMap::new();
    while let Some(entry) = tar.next_entry().map_err(|e| layer_err(digest, e))? {
        budget.check()?;
        delta.entries += 1;
        if delta.entries > limits.max_entries {
            return Err(SourceError::Limit {
                what: format!(
                    "layer {digest} holds more than {} entries",
                    limits.max_entries
                ),
                setting: ScanLimits::ENTRIES,
            });
        }
        let Some(path) = normalize(&entry.path) else {
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
        match entry.kind {
            Kind::HardLink if vedette_extract::wanted(&path, catalogers) => {
                // A hard link to a file of this layer: the same bytes, not a copy.
                let target = entry.link.as_deref().and_then(normalize);
                match target.and_then(|t| kept.get(&t).copied()) {
                    Some(i) => {
                        let data = delta.files[i].1.clone();
                        kept.insert(path.clone(), delta.files.len());
                        delta.files.push((path, data));
                    }
                    None => delta.warnings.push(format!(
                        "{path} is a hard link to a file this layer does not hold; skipped"
                    )),
                }
            }
            Kind::File => {
                let size = entry.size;
                if !vedette_extract::wanted(&path, catalogers) {
                    if let Some(summary) =
                        summarise(&path, size, entry.mode, &mut tar.data(), &mut delta)
                            .map_err(|e| layer_err(digest, e))?
                    {
                        budget.keep(&path, summary.len() as u64)?;
                        kept.insert(path.clone(), delta.files.len());
                        delta.files.push((path, summary.into()));
                    }
                    continue;
                }
                if let Some(w) = budget.oversized(&path, size) {
                    delta.warnings.push(w);
                    continue;
                }
                budget.keep(&format!("{path} in layer {digest}"), size)?;
                let mut data = Vec::with_capacity(size as usize);
                tar.data()
                    .read_to_end(&mut data)
                    .map_err(|e| layer_err(digest, e))?;
                kept.insert(path.clone(), delta.files.len());
                delta.files.push((path, data.into()));
            }
            _ => {} // directories, symlinks, devices, FIFOs
        }
    }
    Ok(delta)
}

/// What is kept of a file no cataloger reads whole: the Maven coordinates
/// of a Java archive, or what a Go or cargo-auditable executable says it is
/// built from.
fn summarise(
    path: &str,
    size: u64,
    mode: u32,
    data: &mut dyn Read,
    delta: &mut LayerDelta,
) -> std::io::Result<Option<Vec<u8>>> {
    if vedette_extract::java::is_archive(path) && size <= MAX_BINARY {
        return match vedette_extract::java::scan_archive(data) {
            Ok(summary) => Ok(summary),
            Err(e) => {
                delta
                    .warnings
                    .push(format!("{path} is not a readable Java archive: {e}"));
                Ok(None)
            }
        };
    }
    if mode & 0o111 != 0 && (1024..=MAX_BINARY).contains(&size) {
        return vedette_extract::binary::scan_executable(data);
    }
    Ok(None)
}

fn layer_err(digest: &str, e: std::io::Error) -> SourceError {
    if let Some(TooLarge(limit)) = e.get_ref().and_then(|i| i.downcast_ref::<TooLarge>()) {
        return SourceError::Limit {
            what: format!(
                "layer {digest} inflates to more than {}: treated as a decompression bomb",
                format_bytes(*limit)
            ),
            setting: ScanLimits::LAYER,
        };
    }
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

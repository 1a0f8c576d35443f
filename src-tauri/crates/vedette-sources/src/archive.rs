//! Image archives: `docker save` tars (docker-archive), OCI image layout
//! tars (oci-archive) and OCI image layout directories.
//!
//! A tar is indexed in one pass (entry name → offset, size), then each blob
//! is read in place; a gzip-compressed archive is first inflated into a
//! private temporary file, since layers must be read in manifest order.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use vedette_extract::Cataloger;
use vedette_model::{format_bytes, ScanLimits};

use crate::in_root::Root;
use crate::layers::{read_layer, Compression, Hashing, LayerDelta};
use crate::registry::manifest::{self, AnyManifest, ImageConfig, Platform};
use crate::{tar_stream, Budget, ImageInfo, LayerInfo, SourceError, View};

const MAX_DOCUMENT: u64 = 4 * 1024 * 1024;

/// Where the blobs of an archive are.
enum Store {
    /// An OCI layout directory: every name is opened with it as `/`.
    Dir { path: PathBuf, root: Root },
    Tar {
        file: PathBuf,
        /// Normalised entry name → (data offset, size).
        index: HashMap<String, (u64, u64)>,
    },
}

/// A name from the archive's own documents (`manifest.json`, `index.json`),
/// checked: it must stay inside the archive.
fn entry_name(name: &str) -> Result<String, SourceError> {
    if name.starts_with('/') || name.split('/').any(|c| c == "..") {
        return Err(SourceError::Format(format!(
            "the archive names a file outside itself ('{}'); it is corrupt or hostile",
            name.escape_debug()
        )));
    }
    crate::layers::normalize(name.as_bytes()).ok_or_else(|| {
        SourceError::Format(format!(
            "the archive names a file with an empty or unreadable name ('{}')",
            name.escape_debug()
        ))
    })
}

impl Store {
    fn open(&self, name: &str) -> Result<Box<dyn Read + '_>, SourceError> {
        let key = entry_name(name)?;
        match self {
            Store::Dir { path, root } => {
                let f = root.open_file(&key).map_err(|e| io(&path.join(name), e))?;
                Ok(Box::new(f))
            }
            Store::Tar { file, index } => {
                let &(offset, size) = index.get(&key).ok_or_else(|| {
                    SourceError::Format(format!(
                        "the archive {} has no entry {name}",
                        file.display()
                    ))
                })?;
                let mut f = File::open(file).map_err(|e| io(file, e))?;
                f.seek(SeekFrom::Start(offset)).map_err(|e| io(file, e))?;
                Ok(Box::new(f.take(size)))
            }
        }
    }

    fn has(&self, name: &str) -> bool {
        let Ok(key) = entry_name(name) else {
            return false;
        };
        match self {
            Store::Dir { root, .. } => root.open_file(&key).is_ok(),
            Store::Tar { index, .. } => index.contains_key(&key),
        }
    }

    fn document(&self, name: &str) -> Result<Vec<u8>, SourceError> {
        let mut buf = Vec::new();
        self.open(name)?
            .take(MAX_DOCUMENT + 1)
            .read_to_end(&mut buf)
            .map_err(|e| SourceError::Format(format!("cannot read {name} in the archive: {e}")))?;
        if buf.len() as u64 > MAX_DOCUMENT {
            return Err(SourceError::Format(format!(
                "{name} in the archive is larger than 4 MiB; not an image document"
            )));
        }
        Ok(buf)
    }
}

fn io(path: &Path, e: std::io::Error) -> SourceError {
    SourceError::Io {
        path: path.to_owned(),
        message: e.to_string(),
    }
}

fn blob_path(digest: &str) -> Result<String, SourceError> {
    let (algo, hex) = digest
        .split_once(':')
        .filter(|(a, h)| !a.is_empty() && h.bytes().all(|b| b.is_ascii_hexdigit()) && !h.is_empty())
        .ok_or_else(|| SourceError::Format(format!("'{digest}' is not a digest")))?;
    Ok(format!("blobs/{algo}/{hex}"))
}

/// Reads an image archive or OCI layout directory at `path`.
pub fn read_archive(
    path: &Path,
    platform: &Platform,
    catalogers: &[Box<dyn Cataloger>],
    temp: &Path,
    budget: &Budget,
) -> Result<View, SourceError> {
    let meta = std::fs::metadata(path).map_err(|e| io(path, e))?;
    let (store, _inflated) = if meta.is_dir() {
        let root = Root::open(path).map_err(|e| io(path, e))?;
        (
            Store::Dir {
                path: path.to_owned(),
                root,
            },
            None,
        )
    } else {
        let mut head = [0u8; 4];
        let n = File::open(path)
            .and_then(|mut f| f.read(&mut head))
            .map_err(|e| io(path, e))?;
        if Compression::sniff(&head[..n]) == Compression::Gzip {
            // Inflated into Vedette's private temp dir (blobs must be read in
            // manifest order), under a cap: a gzip bomb must not fill the disk.
            let tmp = tempfile::NamedTempFile::new_in(temp).map_err(|e| io(temp, e))?;
            inflate_capped(path, tmp.as_file(), budget)?;
            let p = tmp.path().to_owned();
            (
                Store::Tar {
                    index: index_tar(&p)?,
                    file: p,
                },
                Some(tmp),
            )
        } else {
            (
                Store::Tar {
                    index: index_tar(path)?,
                    file: path.to_owned(),
                },
                None,
            )
        }
    };
    let what = path.display().to_string();
    if store.has("manifest.json") {
        read_docker_archive(&store, &what, catalogers, budget)
    } else if store.has("index.json") {
        read_oci_layout(&store, &what, platform, catalogers, budget)
    } else {
        Err(SourceError::Format(format!(
            "{what} is neither a docker-archive (no manifest.json) nor an OCI image layout (no index.json); make one with `docker save` or `skopeo copy … oci-archive:…`"
        )))
    }
}

/// Inflates the gzip file at `path` into `out`, stopping past the scan's
/// archive limit (or when the scan is stopped).
fn inflate_capped(path: &Path, mut out: &File, budget: &Budget) -> Result<(), SourceError> {
    use std::io::Write;
    let limit = budget.limits().max_archive_bytes;
    let mut dec = flate2::read::MultiGzDecoder::new(std::io::BufReader::new(
        File::open(path).map_err(|e| io(path, e))?,
    ));
    let mut buf = vec![0u8; 256 * 1024];
    let mut total: u64 = 0;
    loop {
        budget.check()?;
        let n = dec.read(&mut buf).map_err(|e| {
            SourceError::Format(format!(
                "{} is a gzip file that does not inflate: {e}",
                path.display()
            ))
        })?;
        if n == 0 {
            return Ok(());
        }
        total += n as u64;
        if total > limit {
            return Err(SourceError::Limit {
                what: format!(
                    "{} inflates to more than {}: treated as a decompression bomb",
                    path.display(),
                    format_bytes(limit)
                ),
                setting: ScanLimits::ARCHIVE,
            });
        }
        out.write_all(&buf[..n]).map_err(|e| io(path, e))?;
    }
}

/// Entry name (normalised) → (data offset, size) of every regular file in a
/// tar, with the sizes its PAX headers give.
fn index_tar(path: &Path) -> Result<HashMap<String, (u64, u64)>, SourceError> {
    let f = File::open(path).map_err(|e| io(path, e))?;
    let mut tar = tar_stream::Reader::from_source(tar_stream::Seekable(std::io::BufReader::new(f)));
    let mut index = HashMap::new();
    let bad = |e: std::io::Error| {
        SourceError::Format(format!(
            "{} is not a readable tar archive: {e}",
            path.display()
        ))
    };
    while let Some(entry) = tar.next_entry().map_err(bad)? {
        if entry.kind != tar_stream::Kind::File {
            continue;
        }
        if let Some(name) = crate::layers::normalize(&entry.path) {
            index.insert(name, (entry.data_offset, entry.size));
        }
    }
    Ok(index)
}

fn read_docker_archive(
    store: &Store,
    what: &str,
    catalogers: &[Box<dyn Cataloger>],
    budget: &Budget,
) -> Result<View, SourceError> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Entry {
        config: String,
        #[serde(default)]
        repo_tags: Option<Vec<String>>,
        layers: Vec<String>,
    }
    let manifest: Vec<Entry> =
        serde_json::from_slice(&store.document("manifest.json")?).map_err(|e| {
            SourceError::Format(format!(
                "manifest.json in {what} is not a docker-archive manifest: {e}"
            ))
        })?;
    let Some(m) = manifest.into_iter().next() else {
        return Err(SourceError::Format(format!("{what} holds no image")));
    };
    let config_bytes = store.document(&m.config)?;
    let cfg: ImageConfig = serde_json::from_slice(&config_bytes).unwrap_or_default();
    let config_digest = format!("sha256:{}", hex::encode(Sha256::digest(&config_bytes)));
    let mut deltas = Vec::new();
    let mut layers = Vec::new();
    for name in &m.layers {
        // Newer `docker save` writes blobs/sha256/<hex>; older <id>/layer.tar.
        let named = name
            .strip_prefix("blobs/sha256/")
            .map(|h| format!("sha256:{h}"));
        let (delta, actual, size) = read_blob_layer(
            store,
            name,
            named.as_deref().unwrap_or(name),
            None,
            catalogers,
            budget,
        )?;
        if let Some(expected) = named {
            if expected != actual {
                return Err(SourceError::DigestMismatch {
                    what: format!("layer {name} in {what}"),
                    expected,
                    actual,
                });
            }
        }
        layers.push(LayerInfo {
            digest: actual,
            size,
            media_type: "application/vnd.docker.image.rootfs.diff.tar".into(),
        });
        deltas.push(delta);
    }
    Ok(finish(
        deltas,
        ImageInfo {
            reference: m
                .repo_tags
                .and_then(|t| t.into_iter().next())
                .unwrap_or_else(|| what.to_owned()),
            // docker-archive has no manifest digest; the config digest is the image ID.
            manifest_digest: config_digest.clone(),
            index_digest: None,
            config_digest,
            platform: platform_of(&cfg),
            layers,
            created: cfg.created,
        },
    ))
}

fn read_oci_layout(
    store: &Store,
    what: &str,
    platform: &Platform,
    catalogers: &[Box<dyn Cataloger>],
    budget: &Budget,
) -> Result<View, SourceError> {
    let index: AnyManifest =
        serde_json::from_slice(&store.document("index.json")?).map_err(|e| {
            SourceError::Format(format!("index.json in {what} is not an OCI index: {e}"))
        })?;
    let mut list = index.manifests.unwrap_or_default();
    let mut seen = Vec::new();
    let mut index_digest = None;
    let (manifest, manifest_digest) = loop {
        let chosen = if list.len() == 1 {
            &list[0]
        } else {
            manifest::choose(&list, platform).map_err(|available| SourceError::NoPlatform {
                wanted: platform.to_string(),
                available,
            })?
        };
        let digest = chosen.digest.clone();
        if seen.contains(&digest) || seen.len() > 4 {
            return Err(SourceError::Format(format!(
                "the index of {what} points to itself (or nests more than 4 deep)"
            )));
        }
        seen.push(digest.clone());
        let bytes = store.document(&blob_path(&digest)?)?;
        let actual = format!("sha256:{}", hex::encode(Sha256::digest(&bytes)));
        if actual != digest {
            return Err(SourceError::DigestMismatch {
                what: format!("manifest in {what}"),
                expected: digest,
                actual,
            });
        }
        let m: AnyManifest = serde_json::from_slice(&bytes).map_err(|e| {
            SourceError::Format(format!("a manifest in {what} is not valid JSON: {e}"))
        })?;
        if m.is_index() {
            index_digest.get_or_insert(digest);
            list = m.manifests.unwrap_or_default();
            continue;
        }
        break (m, digest);
    };
    let (Some(config), Some(layer_descs)) = (manifest.config, manifest.layers) else {
        return Err(SourceError::Format(format!(
            "the manifest in {what} has no config or layers"
        )));
    };
    let config_bytes = store.document(&blob_path(&config.digest)?)?;
    let cfg: ImageConfig = serde_json::from_slice(&config_bytes).unwrap_or_default();
    let mut deltas = Vec::new();
    let mut layers = Vec::new();
    for l in layer_descs {
        let (delta, actual, size) = read_blob_layer(
            store,
            &blob_path(&l.digest)?,
            &l.digest,
            Compression::from_media_type(&l.media_type),
            catalogers,
            budget,
        )?;
        if actual != l.digest {
            return Err(SourceError::DigestMismatch {
                what: format!("layer in {what}"),
                expected: l.digest,
                actual,
            });
        }
        layers.push(LayerInfo {
            digest: l.digest,
            size,
            media_type: l.media_type,
        });
        deltas.push(delta);
    }
    Ok(finish(
        deltas,
        ImageInfo {
            reference: what.to_owned(),
            manifest_digest,
            index_digest,
            config_digest: config.digest,
            platform: platform_of(&cfg),
            layers,
            created: cfg.created,
        },
    ))
}

/// Reads one layer blob and returns its delta, its sha256 and its size.
fn read_blob_layer(
    store: &Store,
    name: &str,
    digest: &str,
    compression: Option<Compression>,
    catalogers: &[Box<dyn Cataloger>],
    budget: &Budget,
) -> Result<(LayerDelta, String, u64), SourceError> {
    let mut hashing = Hashing::new(store.open(name)?);
    let delta = read_layer(&mut hashing, compression, digest, catalogers, budget)?;
    std::io::copy(&mut hashing, &mut std::io::sink()).map_err(|e| SourceError::Layer {
        digest: digest.to_owned(),
        message: e.to_string(),
    })?;
    let size = hashing.count;
    Ok((delta, hashing.digest(), size))
}

fn platform_of(cfg: &ImageConfig) -> String {
    match (&cfg.os, &cfg.architecture, &cfg.variant) {
        (Some(o), Some(a), Some(v)) => format!("{o}/{a}/{v}"),
        (Some(o), Some(a), None) => format!("{o}/{a}"),
        _ => "unknown".into(),
    }
}

fn finish(deltas: Vec<LayerDelta>, image: ImageInfo) -> View {
    let (files, warnings) = crate::assemble(deltas);
    View {
        files,
        image: Some(image),
        warnings,
    }
}

//! Java archives (jar, war, ear, and the jars nested in them): the Maven
//! coordinates in `META-INF/maven/**/pom.properties`.
//!
//! Archives are read as a stream of zip local entries, never whole, so a
//! large fat jar costs no memory: [`scan_archive`] walks the entries,
//! inflates only `pom.properties` files, descends into nested jars (stored,
//! as Spring Boot keeps them, or deflated, as `jar` and WAR builds do), and
//! returns a small summary that sources keep under the archive's path;
//! [`JavaCataloger`] reads those summaries. What is inflated to walk past
//! entries is capped per archive ([`MAX_INFLATED`]), so a deflate bomb
//! costs bounded time.

use std::cell::Cell;
use std::io::{BufRead, BufReader, Read};

use vedette_model::Ecosystem;

use crate::{purl, Cataloger, Context, Files, Found};

/// The first line of a summary kept for a Java archive.
pub const SUMMARY_MAGIC: &str = "vedette-java-archive-v1\n";
const MAX_DEPTH: usize = 3;
const MAX_POM_PROPERTIES: u64 = 64 * 1024;
/// Most bytes inflated while walking one archive (nested ones included).
pub const MAX_INFLATED: u64 = 4 << 30;
const LOCAL_HEADER: u64 = 0x0403_4b50;
const DESCRIPTOR: u64 = 0x0807_4b50;
const CENTRAL_HEADER: u64 = 0x0201_4b50;
const END_OF_DIRECTORY: u64 = 0x0605_4b50;
const ZIP64_END: u64 = 0x0606_4b50;
const ZIP64_LOCATOR: u64 = 0x0706_4b50;
const DIGITAL_SIGNATURE: u64 = 0x0505_4b50;

/// How a walk over local entries ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// The stream ended.
    Eof,
    /// Four bytes that are not a local header (the central directory's
    /// signature, in a well-formed zip) were read.
    Signature(u64),
}

/// Buffer sizes of the walk: the archive's and each nested one's.
#[derive(Clone, Copy)]
struct Buffers {
    outer: usize,
    inner: usize,
}

const BUFFERS: Buffers = Buffers {
    outer: 64 * 1024,
    inner: 8 * 1024,
};

/// Whether a path names a Java archive.
pub fn is_archive(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    [".jar", ".war", ".ear", ".jpi", ".hpi"]
        .iter()
        .any(|e| lower.ends_with(e))
}

/// Walks a zip stream and returns `group:artifact\tversion\tinner path` lines
/// for every pom.properties found (nested jars included), as a summary.
pub fn scan_archive(r: impl Read) -> std::io::Result<Option<Vec<u8>>> {
    scan_archive_buffered(r, BUFFERS)
}

fn scan_archive_buffered(r: impl Read, buffers: Buffers) -> std::io::Result<Option<Vec<u8>>> {
    let mut out = Vec::new();
    let mut reader = BufReader::with_capacity(buffers.outer, r);
    let walk_state = Walk {
        inflate_left: Cell::new(MAX_INFLATED),
        buffers,
    };
    walk(&mut reader, "", 0, &mut out, &walk_state)?;
    if out.is_empty() {
        return Ok(None);
    }
    let mut summary = SUMMARY_MAGIC.as_bytes().to_vec();
    for line in out {
        summary.extend_from_slice(line.as_bytes());
        summary.push(b'\n');
    }
    Ok(Some(summary))
}

fn le16(b: &[u8]) -> u64 {
    u64::from(u16::from_le_bytes([b[0], b[1]]))
}

fn le32(b: &[u8]) -> u64 {
    u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn skip(r: &mut dyn BufRead, mut n: u64) -> std::io::Result<()> {
    while n > 0 {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "zip entry cut short",
            ));
        }
        let k = (buf.len() as u64).min(n) as usize;
        r.consume(k);
        n -= k as u64;
    }
    Ok(())
}

/// Walks one archive level; when it has no pom.properties, its manifest's
/// Maven-style attributes (if complete) name it instead.
/// What every level of one archive's walk shares.
struct Walk {
    /// Bytes left to inflate, across the archive and its nested ones.
    inflate_left: Cell<u64>,
    buffers: Buffers,
}

fn walk(
    r: &mut dyn BufRead,
    prefix: &str,
    depth: usize,
    out: &mut Vec<String>,
    w: &Walk,
) -> std::io::Result<End> {
    let before = out.len();
    let mut manifest = None;
    let result = entries(r, prefix, depth, out, &mut manifest, w);
    // Lines found at this level end in a path with no further "!/".
    let poms_here = out[before..].iter().any(|line| {
        let inner = line.rsplit('\t').next().unwrap_or("");
        inner
            .strip_prefix(prefix)
            .is_some_and(|rest| !rest.contains("!/"))
    });
    if !poms_here {
        if let Some(m) = manifest {
            manifest_coordinates(&m, prefix, out);
        }
    }
    result
}

/// Reads into `buf` until it is full or the stream ends; how much was read.
fn read_upto(r: &mut dyn BufRead, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// A deflate stream read through the archive's inflation allowance.
struct Inflating<'a, R> {
    inner: R,
    left: &'a Cell<u64>,
}

impl<R: Read> Read for Inflating<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let left = self.left.get();
        if n as u64 > left {
            return Err(std::io::Error::other(format!(
                "the archive inflates to more than {} GiB; treated as a decompression bomb",
                MAX_INFLATED >> 30
            )));
        }
        self.left.set(left - n as u64);
        Ok(n)
    }
}

fn inflating<'a, 'r>(
    r: &'r mut dyn BufRead,
    left: &'a Cell<u64>,
) -> Inflating<'a, flate2::bufread::DeflateDecoder<&'r mut dyn BufRead>> {
    Inflating {
        inner: flate2::bufread::DeflateDecoder::new(r),
        left,
    }
}

fn entries(
    r: &mut dyn BufRead,
    prefix: &str,
    depth: usize,
    out: &mut Vec<String>,
    manifest: &mut Option<Vec<u8>>,
    w: &Walk,
) -> std::io::Result<End> {
    let inflate_left = &w.inflate_left;
    loop {
        // The signature is read, not peeked: a buffer may hold fewer than
        // four bytes at any point of the stream.
        let mut sig = [0u8; 4];
        if read_upto(r, &mut sig)? < 4 {
            return Ok(End::Eof);
        }
        if le32(&sig) != LOCAL_HEADER {
            // The central directory, or anything else: the entries are over.
            return Ok(End::Signature(le32(&sig)));
        }
        let mut h = [0u8; 26];
        r.read_exact(&mut h)?;
        let flags = le16(&h[2..]);
        let method = le16(&h[4..]);
        let mut csize = le32(&h[14..]);
        let (name_len, extra_len) = (le16(&h[22..]), le16(&h[24..]));
        let mut name = vec![0u8; name_len as usize];
        r.read_exact(&mut name)?;
        let name = String::from_utf8_lossy(&name).into_owned();
        let mut extra = vec![0u8; extra_len as usize];
        r.read_exact(&mut extra)?;
        let zip64 = has_zip64_field(&extra);
        if csize == 0xffff_ffff {
            csize = zip64_compressed_size(&extra).unwrap_or(csize);
        }
        let descriptor = flags & 0x8 != 0;
        let is_manifest = name == "META-INF/MANIFEST.MF";
        let wanted = (name.ends_with("/pom.properties") && name.starts_with("META-INF/maven/"))
            || is_manifest;
        let nested = depth < MAX_DEPTH && is_archive(&name);
        match (method, wanted, nested) {
            (8, true, _) => {
                let mut text = Vec::new();
                let mut dec = inflating(&mut *r, inflate_left);
                (&mut dec).take(MAX_POM_PROPERTIES).read_to_end(&mut text)?;
                // The decoder consumes exactly the compressed bytes.
                std::io::copy(&mut dec, &mut std::io::sink())?;
                if is_manifest {
                    *manifest = Some(text);
                } else {
                    record(&text, prefix, &name, out);
                }
            }
            (0, true, _) if !descriptor => {
                let mut text = Vec::new();
                (&mut *r)
                    .take(csize.min(MAX_POM_PROPERTIES))
                    .read_to_end(&mut text)?;
                skip(r, csize.saturating_sub(MAX_POM_PROPERTIES))?;
                if is_manifest {
                    *manifest = Some(text);
                } else {
                    record(&text, prefix, &name, out);
                }
            }
            (0, _, true) if !descriptor => {
                // A stored nested archive: walked in place.
                let inner_prefix = format!("{prefix}{name}!/");
                let mut limited: BufReader<std::io::Take<&mut dyn BufRead>> =
                    BufReader::with_capacity(w.buffers.inner, (&mut *r).take(csize));
                walk(&mut limited, &inner_prefix, depth + 1, out, w)?;
                // Whatever the nested walk left unread of the entry.
                std::io::copy(&mut limited, &mut std::io::sink())?;
            }
            (0, _, true) => {
                // A stored nested archive whose length comes only after it
                // (a data descriptor): walked in place, then its own central
                // directory and end record are read to find where it ends.
                let inner_prefix = format!("{prefix}{name}!/");
                match walk(r, &inner_prefix, depth + 1, out, w)? {
                    End::Signature(sig) if skip_zip_tail(r, sig)? => {}
                    // Not a zip after all: where it ends cannot be known.
                    _ => return Ok(End::Eof),
                }
            }
            (8, _, true) => {
                // A deflated nested archive: walked as it inflates; the rest
                // of its stream is inflated to find where the entry ends.
                let inner_prefix = format!("{prefix}{name}!/");
                let mut inner =
                    BufReader::with_capacity(w.buffers.inner, inflating(&mut *r, inflate_left));
                walk(&mut inner, &inner_prefix, depth + 1, out, w)?;
                std::io::copy(&mut inner, &mut std::io::sink())?;
            }
            (8, false, _) if descriptor => {
                // The size is only after the data: inflate to find the end.
                std::io::copy(&mut inflating(&mut *r, inflate_left), &mut std::io::sink())?;
            }
            _ if descriptor => {
                return Ok(End::Eof); // stored entry of unknown length: cannot go on in a stream
            }
            _ => skip(r, csize)?,
        }
        if descriptor {
            // [signature] CRC-32, compressed and uncompressed sizes (8 bytes
            // each when the entry is zip64). The first four bytes are the
            // signature, or the CRC when there is none.
            let mut first = [0u8; 4];
            r.read_exact(&mut first)?;
            let sizes = if zip64 { 16 } else { 8 };
            let rest = if le32(&first) == DESCRIPTOR {
                4 + sizes
            } else {
                sizes
            };
            skip(r, rest)?;
        }
    }
}

/// Reads a zip's central directory and end records, the first signature of
/// which (`sig`) was read already: afterwards the stream is just past the
/// zip. `false` when what follows is not a zip's end.
fn skip_zip_tail(r: &mut dyn BufRead, mut sig: u64) -> std::io::Result<bool> {
    loop {
        match sig {
            CENTRAL_HEADER => {
                let mut h = [0u8; 42];
                r.read_exact(&mut h)?;
                // Name, extra field and comment lengths.
                skip(r, le16(&h[24..]) + le16(&h[26..]) + le16(&h[28..]))?;
            }
            DIGITAL_SIGNATURE => {
                let mut n = [0u8; 2];
                r.read_exact(&mut n)?;
                skip(r, le16(&n))?;
            }
            ZIP64_END => {
                let mut n = [0u8; 8];
                r.read_exact(&mut n)?;
                skip(r, u64::from_le_bytes(n))?;
            }
            ZIP64_LOCATOR => skip(r, 16)?,
            END_OF_DIRECTORY => {
                let mut h = [0u8; 18];
                r.read_exact(&mut h)?;
                skip(r, le16(&h[16..]))?; // the comment
                return Ok(true);
            }
            _ => return Ok(false),
        }
        let mut next = [0u8; 4];
        r.read_exact(&mut next)?;
        sig = le32(&next);
    }
}

/// Whether an extra field holds a zip64 record (then a data descriptor's
/// sizes are 8 bytes each).
fn has_zip64_field(extra: &[u8]) -> bool {
    let mut i = 0;
    while i + 4 <= extra.len() {
        if le16(&extra[i..]) == 1 {
            return true;
        }
        i += 4 + le16(&extra[i + 2..]) as usize;
    }
    false
}

fn zip64_compressed_size(extra: &[u8]) -> Option<u64> {
    let mut i = 0;
    while i + 4 <= extra.len() {
        let id = le16(&extra[i..]);
        let len = le16(&extra[i + 2..]) as usize;
        if id == 1 && len >= 16 {
            let b = extra.get(i + 12..i + 20)?;
            return Some(u64::from_le_bytes(b.try_into().ok()?));
        }
        i += 4 + len;
    }
    None
}

/// `Implementation-Vendor-Id` (the group), `Implementation-Title` and
/// `Implementation-Version` of a manifest's main section, when all three are
/// there; anything less would be a guess at the Maven coordinates.
fn manifest_coordinates(text: &[u8], prefix: &str, out: &mut Vec<String>) {
    let text = String::from_utf8_lossy(text);
    let mut attrs: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            break; // the per-entry sections follow
        }
        if let Some(cont) = line.strip_prefix(' ') {
            if let Some(last) = attrs.last_mut() {
                last.1.push_str(cont);
            }
        } else if let Some((k, v)) = line.split_once(':') {
            attrs.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    let get = |k: &str| {
        attrs
            .iter()
            .find(|(a, _)| a.eq_ignore_ascii_case(k))
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty() && !v.contains(['\t', ' ']))
    };
    if let (Some(g), Some(a), Some(v)) = (
        get("Implementation-Vendor-Id"),
        get("Implementation-Title"),
        get("Implementation-Version"),
    ) {
        out.push(format!("{g}:{a}\t{v}\t{prefix}META-INF/MANIFEST.MF"));
    }
}

fn record(text: &[u8], prefix: &str, name: &str, out: &mut Vec<String>) {
    let text = String::from_utf8_lossy(text);
    let get = |k: &str| {
        text.lines()
            .find_map(|l| {
                l.trim()
                    .strip_prefix(k)?
                    .trim_start()
                    .strip_prefix('=')
                    .map(|v| v.trim().to_owned())
            })
            .filter(|v| !v.is_empty() && !v.contains(['\t', '\n']))
    };
    if let (Some(g), Some(a), Some(v)) = (get("groupId"), get("artifactId"), get("version")) {
        out.push(format!("{g}:{a}\t{v}\t{prefix}{name}"));
    }
}

pub struct JavaCataloger;

impl Cataloger for JavaCataloger {
    fn name(&self) -> &'static str {
        "java-archive"
    }

    /// Archives are summarised by the sources while streaming, not kept.
    fn wants(&self, _path: &str) -> bool {
        false
    }

    fn catalog(&self, files: &Files, _cx: &Context<'_>) -> Found {
        let mut found = Found::default();
        for (path, file) in files.with_prefix(SUMMARY_MAGIC.as_bytes()) {
            let text = String::from_utf8_lossy(&file.data[SUMMARY_MAGIC.len()..]).into_owned();
            for line in text.lines() {
                let mut f = line.split('\t');
                let (Some(ga), Some(version)) = (f.next(), f.next()) else {
                    continue;
                };
                let Some((group, artifact)) = ga.split_once(':') else {
                    continue;
                };
                if let Some(purl) = purl::build("maven", Some(group), artifact, version, &[]) {
                    found.packages.push(crate::found_in(
                        ga,
                        version,
                        Ecosystem::Maven,
                        purl,
                        path,
                        file,
                        self.name(),
                    ));
                }
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POM: &str = "#Generated by Maven\ngroupId=org.apache.logging.log4j\nartifactId=log4j-core\nversion=2.14.1\n";

    /// A zip written by Python's zipfile to a pipe (data descriptors, as
    /// `jar` writes them) or to a file (sizes in the local headers).
    fn python_zip(entries: &[(&str, &[u8], bool)], streamed: bool) -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        for (i, (_, data, _)) in entries.iter().enumerate() {
            std::fs::write(dir.path().join(i.to_string()), data).unwrap();
        }
        let spec: Vec<String> = entries
            .iter()
            .enumerate()
            .map(|(i, (n, _, deflate))| {
                format!(
                    "('{n}', '{}', {})",
                    dir.path().join(i.to_string()).display(),
                    if *deflate { "True" } else { "False" }
                )
            })
            .collect();
        let script = format!(
            "import sys, zipfile, io\nout = sys.stdout.buffer if {streamed} else io.BytesIO()\nclass W:\n  def __init__(s, f): s.f = f\n  def write(s, b): return s.f.write(b)\n  def flush(s): pass\ntarget = W(out) if {streamed} else out\nz = zipfile.ZipFile(target, 'w')\nfor n, p, d in [{}]:\n  z.write(p, n, zipfile.ZIP_DEFLATED if d else zipfile.ZIP_STORED)\nz.close()\nif not {streamed}: sys.stdout.buffer.write(out.getvalue())\n",
            spec.join(", "),
            streamed = if streamed { "True" } else { "False" },
        );
        let out = std::process::Command::new("python3")
            .args(["-c", &script])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    #[test]
    fn pom_properties_are_found_with_and_without_data_descriptors_and_in_nested_jars() {
        for streamed in [false, true] {
            let inner = python_zip(
                &[(
                    "META-INF/maven/org.yaml/snakeyaml/pom.properties",
                    b"groupId=org.yaml\nartifactId=snakeyaml\nversion=1.33\n",
                    true,
                )],
                false,
            );
            let outer = python_zip(
                &[
                    ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n", true),
                    ("org/x/Big.class", &vec![7u8; 300_000], true),
                    (
                        "META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties",
                        POM.as_bytes(),
                        true,
                    ),
                    ("BOOT-INF/lib/snakeyaml-1.33.jar", &inner, false),
                ],
                streamed,
            );
            let summary = scan_archive(&outer[..]).unwrap().unwrap();
            let text = String::from_utf8(summary).unwrap();
            assert!(
                text.contains("org.apache.logging.log4j:log4j-core\t2.14.1\t"),
                "{streamed}: {text}"
            );
            // A stored nested jar behind a data descriptor too: its own
            // end record says where it ends.
            assert!(
                text.contains(
                    "org.yaml:snakeyaml\t1.33\tBOOT-INF/lib/snakeyaml-1.33.jar!/META-INF"
                ),
                "{streamed}: {text}"
            );
        }
    }

    #[test]
    fn a_jar_without_pom_properties_is_named_by_a_complete_manifest_only() {
        let complete = python_zip(
            &[("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\nImplementation-Vendor-Id: com.example\nImplementation-Title: widgets\nImplementation-Version: 3.1.4\n\nName: x\nImplementation-Version: 9\n", true)],
            false,
        );
        let text = String::from_utf8(scan_archive(&complete[..]).unwrap().unwrap()).unwrap();
        assert!(
            text.contains("com.example:widgets\t3.1.4\tMETA-INF/MANIFEST.MF"),
            "{text}"
        );
        let partial = python_zip(&[("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\nImplementation-Title: widgets\nImplementation-Version: 3.1.4\n", true)], false);
        assert_eq!(
            scan_archive(&partial[..]).unwrap(),
            None,
            "no group, no guess"
        );
        // pom.properties wins over the manifest.
        let both = python_zip(
            &[
                ("META-INF/MANIFEST.MF", b"Implementation-Vendor-Id: com.example\nImplementation-Title: widgets\nImplementation-Version: 3.1.4\n", true),
                ("META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties", POM.as_bytes(), true),
            ],
            false,
        );
        let text = String::from_utf8(scan_archive(&both[..]).unwrap().unwrap()).unwrap();
        assert!(!text.contains("com.example"), "{text}");
    }

    #[test]
    fn archives_without_maven_metadata_and_garbage_give_nothing() {
        assert_eq!(
            scan_archive(&b"PK\x03\x04 truncated"[..]).ok().flatten(),
            None
        );
        assert_eq!(scan_archive(&b"not a zip"[..]).unwrap(), None);
        let plain = python_zip(
            &[
                ("a.txt", b"hello", true),
                ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n", true),
            ],
            false,
        );
        assert_eq!(scan_archive(&plain[..]).unwrap(), None);
    }

    /// A jar made by the `zip` crate: each entry stored or deflated.
    fn zip_jar(entries: &[(&str, &[u8], bool)]) -> Vec<u8> {
        use std::io::Write;
        let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, data, deflate) in entries {
            let method = if *deflate {
                zip::CompressionMethod::Deflated
            } else {
                zip::CompressionMethod::Stored
            };
            z.start_file(
                *name,
                zip::write::SimpleFileOptions::default().compression_method(method),
            )
            .unwrap();
            z.write_all(data).unwrap();
        }
        z.finish().unwrap().into_inner()
    }

    #[test]
    fn a_fat_jar_of_300_nested_jars_gives_every_coordinate_wherever_the_buffers_end() {
        // 300 nested jars of different sizes (a filler of a different
        // length in each), the pom.properties inside stored or deflated.
        let nested: Vec<(String, Vec<u8>, bool)> = (0..300usize)
            .map(|i| {
                let pom = format!("groupId=g{i}\nartifactId=a{i}\nversion=1.{i}\n");
                let filler: Vec<u8> = (0..((i * i * 7 + i * 13) % 1999))
                    .map(|k| (k * 7 + i) as u8)
                    .collect();
                let jar = zip_jar(&[
                    ("x/filler.bin", &filler, false),
                    (
                        &format!("META-INF/maven/g{i}/a{i}/pom.properties"),
                        pom.as_bytes(),
                        i % 3 == 0,
                    ),
                ]);
                (format!("BOOT-INF/lib/a{i}.jar"), jar, i % 2 == 1)
            })
            .collect();
        let entries: Vec<(&str, &[u8], bool)> = nested
            .iter()
            .map(|(n, d, deflate)| (n.as_str(), d.as_slice(), *deflate))
            .collect();
        // The fat jar written to a pipe (data descriptors after every entry,
        // as `jar` writes them) and to a file (sizes in the local headers),
        // nested jars alternately stored and deflated.
        for streamed in [false, true] {
            let fat = python_zip(&entries, streamed);
            let flags: Vec<u16> = {
                let mut a = zip::ZipArchive::new(std::io::Cursor::new(&fat)).unwrap();
                let mut offsets = Vec::new();
                for i in 0..a.len() {
                    offsets.push(a.by_index(i).unwrap().header_start() as usize);
                }
                // Local headers at every offset modulo the small buffers below.
                for cap in [31usize, 29] {
                    let residues: std::collections::BTreeSet<usize> =
                        offsets.iter().map(|o| o % cap).collect();
                    assert_eq!(residues.len(), cap, "headers cover every offset mod {cap}");
                }
                offsets
                    .iter()
                    .map(|&o| u16::from_le_bytes([fat[o + 6], fat[o + 7]]))
                    .collect()
            };
            assert!(
                flags.iter().all(|f| (f & 8 != 0) == streamed),
                "data descriptors exactly when streamed"
            );
            for buffers in [
                BUFFERS,
                Buffers {
                    outer: 31,
                    inner: 29,
                },
                Buffers {
                    outer: 4096,
                    inner: 7,
                },
            ] {
                let summary = scan_archive_buffered(&fat[..], buffers).unwrap().unwrap();
                let text = String::from_utf8(summary).unwrap();
                let found = text.lines().filter(|l| l.starts_with('g')).count();
                assert_eq!(
                    found, 300,
                    "streamed {streamed}, buffers {}/{}: {text}",
                    buffers.outer, buffers.inner
                );
                for i in [0, 1, 2, 3, 150, 299] {
                    let line = format!("g{i}:a{i}\t1.{i}\tBOOT-INF/lib/a{i}.jar!/META-INF/maven/g{i}/a{i}/pom.properties");
                    assert!(text.contains(&line), "{line}");
                }
            }
        }
    }

    #[test]
    fn a_deflate_bomb_inside_a_jar_ends_at_the_inflation_cap() {
        // A nested deflated entry that inflates without end is cut at
        // MAX_INFLATED; reading stops with an error instead of spinning.
        let zeros = vec![0u8; 1 << 20];
        // Read as a pom.properties, the rest of it inflated to its end.
        let inner = zip_jar(&[("META-INF/maven/x/y/pom.properties", &zeros, true)]);
        let fat = zip_jar(&[("lib/in.jar", &inner, true)]);
        let w = Walk {
            inflate_left: Cell::new(512 * 1024),
            buffers: BUFFERS,
        };
        let mut out = Vec::new();
        let e = walk(&mut std::io::BufReader::new(&fat[..]), "", 0, &mut out, &w).unwrap_err();
        assert!(e.to_string().contains("decompression bomb"), "{e}");
    }
}

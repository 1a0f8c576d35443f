//! Executables, read once as a stream: Go build info (found by its magic
//! anywhere in the file) and cargo-auditable's `.dep-v0` (found from the
//! section table, with the file's tail kept in a window). Sources keep only
//! the small summary this returns, under the binary's path.

use std::io::Read;

use crate::go;
use crate::rust::auditable;

/// How much of a binary's end is kept to find `.dep-v0`.
const TAIL: usize = 8 * 1024 * 1024;

/// What one read of an ELF executable found: a Go build-info blob, or the
/// inflated cargo-auditable JSON (as a summary for [`auditable::AuditableCataloger`]).
pub fn scan_executable(mut r: impl Read) -> std::io::Result<Option<Vec<u8>>> {
    let mut head = [0u8; 64];
    let mut got = 0;
    while got < 64 {
        match r.read(&mut head[got..])? {
            0 => return Ok(None),
            n => got += n,
        }
    }
    if &head[..4] != b"\x7fELF" {
        return Ok(None);
    }
    // 64-bit little-endian only (x86_64, arm64); others get the Go search alone.
    let elf64le = head[4] == 2 && head[5] == 1;
    let finder = memchr::memmem::Finder::new(go::MAGIC);
    let mut tail: Vec<u8> = head.to_vec();
    let mut tail_start = 0u64; // file offset of tail[0]
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = r.read(&mut buf)?;
        if n == 0 {
            break;
        }
        tail.extend_from_slice(&buf[..n]);
        // Go build info: found once in the window, then the blob is all we need.
        let search_from = tail.len().saturating_sub(n + go::MAGIC.len() - 1);
        if let Some(i) = finder.find(&tail[search_from..]) {
            let mut blob = tail[search_from + i..].to_vec();
            (&mut r).take(go::BLOB_MAX as u64).read_to_end(&mut blob)?;
            return Ok(Some(blob));
        }
        if tail.len() > 2 * TAIL {
            let cut = tail.len() - TAIL;
            tail.drain(..cut);
            tail_start += cut as u64;
        }
    }
    if !elf64le {
        return Ok(None);
    }
    Ok(auditable::dep_v0(&head, &tail, tail_start)
        .map(|json| [auditable::SUMMARY_MAGIC.as_bytes(), &json].concat()))
}

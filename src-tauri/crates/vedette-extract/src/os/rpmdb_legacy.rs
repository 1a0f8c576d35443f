//! The two rpm database formats before SQLite, read from their bytes alone
//! (no C library, every offset bounds-checked, every page visited at most
//! once): each yields the header blobs that [`super::rpm::parse_header`]
//! reads.
//!
//! - Berkeley DB hash (`/var/lib/rpm/Packages`): RHEL, UBI and CentOS up to
//!   8, Amazon Linux 2. Page 0 is the hash metadata (its magic also says the
//!   byte order); hash pages hold key/value pairs whose values, rpm headers,
//!   sit on chains of overflow pages.
//! - ndb (`/usr/lib/sysimage/rpm/Packages.db`): SUSE Linux Enterprise 15,
//!   openSUSE Leap. A 32-byte header, slot pages of 16-byte slots, each
//!   naming a block (16-byte units) that holds a blob header and the blob.

use std::collections::HashSet;

/// Largest header blob accepted (a real one is a few hundred KiB).
const MAX_BLOB: usize = 64 << 20;

fn u16_at(b: &[u8], i: usize, le: bool) -> Option<u16> {
    let s: [u8; 2] = b.get(i..i.checked_add(2)?)?.try_into().ok()?;
    Some(if le {
        u16::from_le_bytes(s)
    } else {
        u16::from_be_bytes(s)
    })
}

fn u32_at(b: &[u8], i: usize, le: bool) -> Option<u32> {
    let s: [u8; 4] = b.get(i..i.checked_add(4)?)?.try_into().ok()?;
    Some(if le {
        u32::from_le_bytes(s)
    } else {
        u32::from_be_bytes(s)
    })
}

const HASH_MAGIC: u32 = 0x0006_1561;
const PAGE_HEADER: usize = 26;
const HASH_UNSORTED: u8 = 2;
const OVERFLOW: u8 = 7;
const HASH_META: u8 = 8;
const HASH_SORTED: u8 = 13;
const H_KEYDATA: u8 = 1;
const H_OFFPAGE: u8 = 3;

/// The header blobs of a Berkeley DB hash `Packages` file; problems with
/// single entries are reported and the others read.
pub fn bdb_blobs(data: &[u8]) -> Result<(Vec<Vec<u8>>, Vec<String>), String> {
    let le = match u32_at(data, 12, true) {
        Some(HASH_MAGIC) => true,
        Some(m) if m.swap_bytes() == HASH_MAGIC => false,
        _ => return Err("not a Berkeley DB hash database".into()),
    };
    if data.get(25) != Some(&HASH_META) {
        return Err("the first page is not hash metadata".into());
    }
    let page_size = u32_at(data, 20, le).ok_or("short metadata page")? as usize;
    if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
        return Err(format!("page size {page_size} is not valid"));
    }
    if data.get(24).copied().unwrap_or(0) != 0 {
        return Err("the database is encrypted".into());
    }
    let last = u32_at(data, 32, le).ok_or("short metadata page")? as usize;
    let pages = data.len() / page_size;
    if last >= pages {
        return Err(format!(
            "the metadata names page {last}, past the end of the file ({pages} pages)"
        ));
    }
    let page = |n: usize| data.get(n * page_size..(n + 1) * page_size);
    let mut blobs = Vec::new();
    let mut problems = Vec::new();
    // An overflow page belongs to one value: a second use is a loop.
    let mut used = HashSet::new();
    for n in 1..=last {
        let Some(p) = page(n) else { break };
        if p[25] != HASH_SORTED && p[25] != HASH_UNSORTED {
            continue;
        }
        let entries = u16_at(p, 20, le).unwrap_or(0) as usize;
        if !entries.is_multiple_of(2) || PAGE_HEADER + 2 * entries > page_size {
            problems.push(format!(
                "hash page {n} has an impossible entry count; skipped"
            ));
            continue;
        }
        let offsets: Vec<usize> = (0..entries)
            .filter_map(|i| u16_at(p, PAGE_HEADER + 2 * i, le).map(usize::from))
            .collect();
        // Items are laid out from the end of the page backwards: one ends
        // where the next higher one begins.
        let mut sorted = offsets.clone();
        sorted.sort_unstable();
        let end_of = |off: usize| {
            sorted
                .iter()
                .copied()
                .find(|&o| o > off)
                .unwrap_or(page_size)
        };
        // Pairs of key, value. Key 0 holds rpm's next instance number,
        // not a package.
        for pair in offsets.chunks_exact(2) {
            let (key, off) = (pair[0], pair[1]);
            if p.get(key) == Some(&H_KEYDATA)
                && p.get(key + 1..end_of(key))
                    .is_some_and(|k| k.iter().all(|&b| b == 0))
            {
                continue;
            }
            match p.get(off) {
                Some(&H_OFFPAGE) => {
                    let (Some(pgno), Some(len)) = (u32_at(p, off + 4, le), u32_at(p, off + 8, le))
                    else {
                        problems.push(format!("a value on page {n} is cut short; skipped"));
                        continue;
                    };
                    match overflow_chain(
                        data,
                        page_size,
                        pgno as usize,
                        len as usize,
                        le,
                        &mut used,
                    ) {
                        Ok(b) => blobs.push(b),
                        Err(e) => problems.push(format!("a package on page {n}: {e}; skipped")),
                    }
                }
                Some(&H_KEYDATA) if off < end_of(off) => {
                    // A small header stored in the page itself.
                    blobs.push(p[off + 1..end_of(off)].to_vec());
                }
                _ => problems.push(format!(
                    "a value on page {n} is of an unknown kind; skipped"
                )),
            }
        }
    }
    Ok((blobs, problems))
}

/// The bytes of a value on a chain of overflow pages starting at `first`.
fn overflow_chain(
    data: &[u8],
    page_size: usize,
    first: usize,
    len: usize,
    le: bool,
    used: &mut HashSet<usize>,
) -> Result<Vec<u8>, String> {
    if len > MAX_BLOB {
        return Err(format!(
            "a value of {len} bytes is larger than any package header"
        ));
    }
    let mut out = Vec::with_capacity(len);
    let mut n = first;
    while n != 0 {
        if !used.insert(n) {
            return Err(format!("overflow page {n} is used twice: the chain loops"));
        }
        let p = data
            .get(n * page_size..(n + 1) * page_size)
            .ok_or_else(|| format!("overflow page {n} is past the end of the file"))?;
        if p[25] != OVERFLOW {
            return Err(format!("page {n} is not an overflow page"));
        }
        let next = u32_at(p, 16, le).unwrap_or(0) as usize;
        // The last page of a chain says how much of it is used.
        let here = if next == 0 {
            usize::from(u16_at(p, 22, le).unwrap_or(0)).min(page_size - PAGE_HEADER)
        } else {
            page_size - PAGE_HEADER
        };
        out.extend_from_slice(&p[PAGE_HEADER..PAGE_HEADER + here]);
        if out.len() > len {
            return Err("the overflow chain holds more than its value's length".into());
        }
        n = next;
    }
    if out.len() != len {
        return Err(format!(
            "the overflow chain holds {} of its value's {len} bytes",
            out.len()
        ));
    }
    Ok(out)
}

const NDB_MAGIC: u32 = u32::from_le_bytes(*b"RpmP");
const SLOT_MAGIC: u32 = u32::from_le_bytes(*b"Slot");
const BLOB_MAGIC: u32 = u32::from_le_bytes(*b"BlbS");
const NDB_PAGE: usize = 4096;
const BLOCK: usize = 16;
/// More slot pages than any real database has (each holds 256 packages).
const MAX_SLOT_PAGES: usize = 2048;

/// The header blobs of an ndb `Packages.db` file.
pub fn ndb_blobs(data: &[u8]) -> Result<(Vec<Vec<u8>>, Vec<String>), String> {
    if u32_at(data, 0, true) != Some(NDB_MAGIC) {
        return Err("not an rpm ndb database".into());
    }
    if u32_at(data, 4, true) != Some(0) {
        return Err("an ndb version this reader does not know".into());
    }
    let slot_pages = u32_at(data, 12, true).ok_or("short header")? as usize;
    if slot_pages == 0 || slot_pages > MAX_SLOT_PAGES {
        return Err(format!("{slot_pages} slot pages is not a real database"));
    }
    let mut blobs = Vec::new();
    let mut problems = Vec::new();
    let mut seen = HashSet::new();
    // The header takes the first two slots of the first page.
    for slot in 2..slot_pages * NDB_PAGE / BLOCK {
        let at = slot * BLOCK;
        let Some(magic) = u32_at(data, at, true) else {
            return Err("the slot pages are cut short".into());
        };
        if magic != SLOT_MAGIC {
            return Err(format!("slot {slot} is damaged (bad magic)"));
        }
        let pkg = u32_at(data, at + 4, true).unwrap_or(0);
        if pkg == 0 {
            continue; // a free slot
        }
        let block = u32_at(data, at + 8, true).unwrap_or(0) as usize;
        if !seen.insert(block) {
            problems.push(format!(
                "two slots name block {block}; the second is skipped"
            ));
            continue;
        }
        let start = block * BLOCK;
        match (
            u32_at(data, start, true),
            u32_at(data, start + 4, true),
            u32_at(data, start + 12, true),
        ) {
            (Some(BLOB_MAGIC), Some(p), Some(len)) if p == pkg => {
                let len = len as usize;
                match data.get(start + BLOCK..(start + BLOCK).saturating_add(len)) {
                    Some(b) if len <= MAX_BLOB => blobs.push(b.to_vec()),
                    _ => problems.push(format!("package {pkg}'s blob runs past the file; skipped")),
                }
            }
            _ => problems.push(format!(
                "package {pkg} has no blob where its slot says; skipped"
            )),
        }
    }
    Ok((blobs, problems))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_and_empty_files_are_refused_not_read() {
        assert!(bdb_blobs(b"").is_err());
        assert!(bdb_blobs(&[0u8; 4096]).is_err());
        assert!(ndb_blobs(b"RpmP").is_err());
        let mut h = b"RpmP".to_vec();
        h.extend([0u8; 4]);
        h.extend([0u8; 4]);
        h.extend(100_000u32.to_le_bytes());
        h.resize(32, 0);
        assert!(ndb_blobs(&h).unwrap_err().contains("not a real database"));
    }

    /// A hash database whose one value's overflow chain points back at itself.
    #[test]
    fn an_overflow_chain_that_loops_is_refused() {
        let ps = 512;
        let mut db = vec![0u8; 3 * ps];
        db[12..16].copy_from_slice(&HASH_MAGIC.to_le_bytes());
        db[20..24].copy_from_slice(&(ps as u32).to_le_bytes());
        db[25] = HASH_META;
        db[32..36].copy_from_slice(&2u32.to_le_bytes());
        // Page 1: a hash page with one pair; the value is off-page at 2.
        let p1 = ps;
        db[p1 + 25] = HASH_SORTED;
        db[p1 + 20..p1 + 22].copy_from_slice(&2u16.to_le_bytes());
        db[p1 + 26..p1 + 28].copy_from_slice(&500u16.to_le_bytes());
        db[p1 + 28..p1 + 30].copy_from_slice(&480u16.to_le_bytes());
        db[p1 + 500] = H_KEYDATA;
        db[p1 + 501] = 7; // key 7 (key 0 is rpm's counter, not a package)
        db[p1 + 480] = H_OFFPAGE;
        db[p1 + 484..p1 + 488].copy_from_slice(&2u32.to_le_bytes());
        db[p1 + 488..p1 + 492].copy_from_slice(&100_000u32.to_le_bytes());
        // Page 2: an overflow page whose next page is itself.
        let p2 = 2 * ps;
        db[p2 + 25] = OVERFLOW;
        db[p2 + 16..p2 + 20].copy_from_slice(&2u32.to_le_bytes());
        let (blobs, problems) = bdb_blobs(&db).unwrap();
        assert!(blobs.is_empty());
        assert!(problems[0].contains("used twice"), "{problems:?}");
    }
}

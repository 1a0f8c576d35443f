//! A small read-only reader of SQLite database files: enough to list the
//! rows of one rowid table, from the bytes alone (no file, no C library, no
//! `unsafe`). Used for rpm's `rpmdb.sqlite`; every offset is bounds-checked,
//! since the file is untrusted. Format: <https://www.sqlite.org/fileformat2.html>.
//!
//! A database in WAL mode keeps the pages of its latest transactions in the
//! `-wal` file beside it until a checkpoint copies them back (rpm leaves one
//! after an install when nothing checkpointed since). Those pages are read
//! too: the newest copy of each page in a committed transaction whose
//! frames' salts and checksums hold, as SQLite itself recovers them.

/// A value of a record column.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Float(f64),
    Text(Vec<u8>),
    Blob(Vec<u8>),
}

pub struct Database<'a> {
    data: &'a [u8],
    page_size: usize,
    usable: usize,
    /// Pages the WAL holds: page number → the page's bytes in the WAL.
    wal: std::collections::HashMap<u64, &'a [u8]>,
    /// Pages in the database as the last committed WAL transaction left it.
    page_count: Option<u64>,
}

const MAX_DEPTH: usize = 32;

fn be(b: &[u8]) -> u64 {
    b.iter().fold(0, |acc, &x| (acc << 8) | u64::from(x))
}

/// SQLite's big-endian varint (1–9 bytes).
fn varint(b: &[u8], i: usize) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for k in 0..9 {
        let c = *b.get(i + k)?;
        if k == 8 {
            return Some(((v << 8) | u64::from(c), i + 9));
        }
        v = (v << 7) | u64::from(c & 0x7f);
        if c < 0x80 {
            return Some((v, i + k + 1));
        }
    }
    None
}

impl<'a> Database<'a> {
    #[cfg(test)]
    pub fn open(data: &'a [u8]) -> Result<Self, String> {
        Self::open_with_wal(data, None)
    }

    /// The database with the committed pages of its `-wal` file over it.
    pub fn open_with_wal(data: &'a [u8], wal: Option<&'a [u8]>) -> Result<Self, String> {
        let (wal_pages, page_count, wal_page_size) = match wal {
            Some(w) => read_wal(w)?,
            None => (std::collections::HashMap::new(), None, None),
        };
        // The header is page 1's: from the WAL when a transaction changed it.
        let first: &[u8] = match wal_pages.get(&1) {
            Some(p) => p,
            None => data,
        };
        if first.len() < 100 || &first[..16] != b"SQLite format 3\0" {
            return Err("not an SQLite 3 database".into());
        }
        let page_size = match be(&first[16..18]) {
            1 => 65536,
            n if (512..=32768).contains(&n) && n.is_power_of_two() => n as usize,
            n => return Err(format!("page size {n} is not valid")),
        };
        if wal_page_size.is_some_and(|w| w != page_size) {
            return Err("the WAL's page size differs from the database's".into());
        }
        let reserved = first[20] as usize;
        let usable = page_size
            .checked_sub(reserved)
            .filter(|u| *u >= 480)
            .ok_or("reserved space too large")?;
        Ok(Self {
            data,
            page_size,
            usable,
            wal: wal_pages,
            page_count,
        })
    }

    fn page(&self, n: u64) -> Result<&'a [u8], String> {
        if self.page_count.is_some_and(|c| n > c) {
            return Err(format!("page {n} is past the end of the database"));
        }
        if let Some(p) = self.wal.get(&n) {
            return Ok(p);
        }
        let n = usize::try_from(n).map_err(|_| "page number too large")?;
        if n == 0 {
            return Err("page 0 does not exist".into());
        }
        let start = (n - 1)
            .checked_mul(self.page_size)
            .ok_or("page number too large")?;
        self.data
            .get(start..start + self.page_size)
            .ok_or_else(|| format!("page {n} is past the end of the file"))
    }

    /// The root page of table `name`, from `sqlite_master`.
    pub fn table_root(&self, name: &str) -> Result<u64, String> {
        for row in self.rows(1)? {
            if let [Value::Text(ty), Value::Text(n), _, Value::Int(root), ..] = row.as_slice() {
                if ty == b"table" && n.eq_ignore_ascii_case(name.as_bytes()) {
                    return u64::try_from(*root).map_err(|_| "negative root page".into());
                }
            }
        }
        Err(format!("the database has no table {name}"))
    }

    /// Every row of the table b-tree rooted at `root`, as column values.
    /// The tree is walked with a stack, each page at most once: a page that
    /// two cells point to (a loop, or a crafted fan-out) is refused, so the
    /// work is bounded by the number of pages in the file.
    pub fn rows(&self, root: u64) -> Result<Vec<Vec<Value>>, String> {
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        // (page, depth); children pushed in reverse to keep the key order.
        let mut stack = vec![(root, 0usize)];
        while let Some((pgno, depth)) = stack.pop() {
            if depth > MAX_DEPTH {
                return Err("the b-tree is deeper than any real database (a page loop?)".into());
            }
            if !seen.insert(pgno) {
                return Err(format!(
                    "page {pgno} is reached twice: the b-tree loops or is corrupt"
                ));
            }
            let page = self.page(pgno)?;
            let hdr = if pgno == 1 { 100 } else { 0 };
            let kind = *page.get(hdr).ok_or("short page")?;
            let cells = be(page.get(hdr + 3..hdr + 5).ok_or("short page")?) as usize;
            let (ptrs, interior) = match kind {
                0x0d => (hdr + 8, false),
                0x05 => (hdr + 12, true),
                k => return Err(format!("page {pgno} is not a table b-tree page (type {k})")),
            };
            let mut children = Vec::new();
            for c in 0..cells {
                let p = ptrs + 2 * c;
                let off = be(page.get(p..p + 2).ok_or("cell pointer past the page")?) as usize;
                if interior {
                    children.push(be(page.get(off..off + 4).ok_or("cell past the page")?));
                } else {
                    out.push(self.leaf_cell(page, off)?);
                }
            }
            if interior {
                children.push(be(page.get(hdr + 8..hdr + 12).ok_or("short page")?));
                stack.extend(children.into_iter().rev().map(|c| (c, depth + 1)));
            }
        }
        Ok(out)
    }

    fn leaf_cell(&self, page: &[u8], off: usize) -> Result<Vec<Value>, String> {
        let (size, i) = varint(page, off).ok_or("bad cell")?;
        let (_rowid, i) = varint(page, i).ok_or("bad cell")?;
        let size = usize::try_from(size).map_err(|_| "payload too large")?;
        if size > 256 * 1024 * 1024 {
            return Err("a row larger than 256 MiB".into());
        }
        let u = self.usable;
        let x = u - 35;
        let local = if size <= x {
            size
        } else {
            let m = ((u - 12) * 32 / 255) - 23;
            let k = m + ((size - m) % (u - 4));
            if k <= x {
                k
            } else {
                m
            }
        };
        let mut payload = page
            .get(i..i + local)
            .ok_or("cell payload past the page")?
            .to_vec();
        if local < size {
            let mut next = be(page
                .get(i + local..i + local + 4)
                .ok_or("overflow pointer past the page")?);
            let mut hops = 0;
            while payload.len() < size {
                hops += 1;
                if next == 0 || hops > self.data.len() / self.page_size + self.wal.len() + 1 {
                    return Err("the overflow chain ends early or loops".into());
                }
                let op = self.page(next)?;
                next = be(&op[..4]);
                let take = (size - payload.len()).min(u - 4);
                payload.extend_from_slice(op.get(4..4 + take).ok_or("short overflow page")?);
            }
        }
        record(&payload)
    }
}

const WAL_MAGIC_LE: u32 = 0x377f_0682;
const WAL_MAGIC_BE: u32 = 0x377f_0683;

/// SQLite's WAL checksum over `b` (a multiple of 8 bytes), continuing `s`.
fn wal_checksum(b: &[u8], big_endian: bool, mut s: (u32, u32)) -> (u32, u32) {
    for pair in b.chunks_exact(8) {
        let word = |w: &[u8]| {
            let a: [u8; 4] = w.try_into().unwrap_or([0; 4]);
            if big_endian {
                u32::from_be_bytes(a)
            } else {
                u32::from_le_bytes(a)
            }
        };
        s.0 = s.0.wrapping_add(word(&pair[..4])).wrapping_add(s.1);
        s.1 = s.1.wrapping_add(word(&pair[4..])).wrapping_add(s.0);
    }
    s
}

type WalPages<'a> = std::collections::HashMap<u64, &'a [u8]>;

/// The pages of the committed transactions of a WAL file: the newest copy
/// of each page, the database's size after the last commit, and the page
/// size. Frames are read while their salts and checksums hold; a
/// transaction whose commit frame is not reached is left out.
fn read_wal(w: &[u8]) -> Result<(WalPages<'_>, Option<u64>, Option<usize>), String> {
    let mut pages = WalPages::new();
    if w.len() < 32 {
        // An empty WAL: nothing waits to be checkpointed.
        return Ok((pages, None, None));
    }
    let magic = be(&w[0..4]) as u32;
    let big_endian = match magic {
        WAL_MAGIC_LE => false,
        WAL_MAGIC_BE => true,
        _ => return Err("the -wal file is not a SQLite WAL".into()),
    };
    let page_size = match be(&w[8..12]) {
        1 => 65536,
        n if (512..=65536).contains(&n) && n.is_power_of_two() => n as usize,
        n => return Err(format!("the WAL's page size {n} is not valid")),
    };
    let salts = &w[16..24];
    let mut sum = wal_checksum(&w[..24], big_endian, (0, 0));
    if (sum.0, sum.1) != (be(&w[24..28]) as u32, be(&w[28..32]) as u32) {
        return Err("the WAL header's checksum does not hold".into());
    }
    let mut pending: Vec<(u64, &[u8])> = Vec::new();
    let mut committed_size = None;
    let frame = 24 + page_size;
    let mut at = 32;
    while let Some(f) = w.get(at..at + frame) {
        if &f[8..16] != salts {
            break; // a frame of an older generation of the WAL
        }
        sum = wal_checksum(&f[..8], big_endian, sum);
        sum = wal_checksum(&f[24..], big_endian, sum);
        if (sum.0, sum.1) != (be(&f[16..20]) as u32, be(&f[20..24]) as u32) {
            break; // torn or damaged: nothing from here on was committed
        }
        let page_no = be(&f[0..4]);
        if page_no == 0 {
            break;
        }
        pending.push((page_no, &f[24..]));
        let db_size = be(&f[4..8]);
        if db_size != 0 {
            // A commit frame: its transaction's pages now count.
            pages.extend(pending.drain(..));
            committed_size = Some(db_size);
        }
        at += frame;
    }
    Ok((pages, committed_size, Some(page_size)))
}

/// Bytes a value of serial type `t` takes in the record body.
fn serial_len(t: u64) -> Result<usize, String> {
    Ok(match t {
        0 | 8 | 9 => 0,
        1..=4 => t as usize,
        5 => 6,
        6 | 7 => 8,
        n if n >= 12 => ((n - 12) / 2) as usize,
        n => return Err(format!("serial type {n} is reserved")),
    })
}

fn decode(t: u64, b: &[u8]) -> Value {
    match t {
        0 => Value::Null,
        8 => Value::Int(0),
        9 => Value::Int(1),
        7 => Value::Float(f64::from_bits(be(b))),
        1..=6 => {
            // Big-endian two's complement of 1–8 bytes.
            let shift = 64 - 8 * b.len() as u32;
            Value::Int(((be(b) << shift) as i64) >> shift)
        }
        n if n % 2 == 0 => Value::Blob(b.to_vec()),
        _ => Value::Text(b.to_vec()),
    }
}

/// Decodes a record: header of serial types, then the values.
fn record(p: &[u8]) -> Result<Vec<Value>, String> {
    let (hlen, mut i) = varint(p, 0).ok_or("bad record header")?;
    let hlen = usize::try_from(hlen).map_err(|_| "bad record header")?;
    let mut body = hlen;
    let mut out = Vec::new();
    while i < hlen {
        let (t, ni) = varint(p, i).ok_or("bad serial type")?;
        i = ni;
        let len = serial_len(t)?;
        let bytes = p
            .get(body..body + len)
            .ok_or("record value past the payload")?;
        out.push(decode(t, bytes));
        body += len;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_of_one_to_nine_bytes() {
        assert_eq!(varint(&[0x05], 0), Some((5, 1)));
        assert_eq!(varint(&[0x81, 0x00], 0), Some((128, 2)));
        assert_eq!(varint(&[0xff; 9], 0), Some((u64::MAX, 9)));
        assert_eq!(varint(&[0x81], 0), None);
    }

    #[test]
    fn integers_are_sign_extended() {
        assert_eq!(decode(1, &[0xff]), Value::Int(-1));
        assert_eq!(decode(2, &[0x01, 0x00]), Value::Int(256));
        assert_eq!(decode(4, &[0x80, 0, 0, 0]), Value::Int(i64::from(i32::MIN)));
        assert_eq!(serial_len(5).unwrap(), 6);
        assert_eq!(decode(13, b"a"), Value::Text(b"a".to_vec()));
    }

    #[test]
    fn garbage_is_refused_not_read() {
        assert!(Database::open(b"not sqlite").is_err());
        let mut fake = b"SQLite format 3\0".to_vec();
        fake.resize(100, 0);
        fake[16] = 0x10; // page size 4096, but the file is 100 bytes
        let db = Database::open(&fake).unwrap();
        assert!(db.table_root("Packages").is_err());
    }
}

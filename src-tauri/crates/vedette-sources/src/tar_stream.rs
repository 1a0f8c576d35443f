//! A streaming tar reader whose memory does not depend on its input.
//!
//! Why not the `tar` crate: it reads a PAX extended header or a GNU long
//! name entry into memory whole, whatever size its header declares, so a
//! layer can make it allocate gigabytes before Vedette sees a single file.
//! Here every extension entry is capped ([`MAX_EXTENSION`]), and each entry
//! reports the size the stream really holds: a PAX `size` record overrides
//! the ustar header, as GNU tar, Go's `archive/tar` (which builds most
//! image layers) and the `tar` crate all read it. The tests check the
//! entries against the `tar` crate and GNU tar on real and crafted archives.

use std::io::{self, Read};

const BLOCK: u64 = 512;
/// Largest PAX extended header or GNU long name / long link entry read
/// (libarchive refuses PAX attributes over 1 MiB for the same reason).
pub const MAX_EXTENSION: u64 = 1024 * 1024;
/// Most extension headers in a row before an entry (each is capped, but a
/// chain of them must end too).
const MAX_EXTENSIONS_IN_A_ROW: usize = 64;

/// What a tar entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    HardLink,
    Symlink,
    Directory,
    /// Devices, FIFOs, sparse files, volume headers: never read.
    Other,
}

/// One member of the archive, with PAX and GNU extensions applied.
#[derive(Debug, Clone)]
pub struct Entry {
    pub path: Vec<u8>,
    /// Target of a hard link or symlink.
    pub link: Option<Vec<u8>>,
    pub kind: Kind,
    /// Bytes of data the stream holds for this entry (PAX `size` if given).
    pub size: u64,
    pub mode: u32,
    /// Offset of the entry's data from the start of the stream.
    pub data_offset: u64,
}

/// Where the reader takes its bytes from; skipping can be cheaper than
/// reading (a file on disk seeks).
pub trait Source: Read {
    fn skip(&mut self, n: u64) -> io::Result<()> {
        let copied = io::copy(&mut self.take(n), &mut io::sink())?;
        if copied < n {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the archive ends inside an entry",
            ));
        }
        Ok(())
    }
}

/// A plain reader: skipping reads.
pub struct Stream<R>(pub R);

impl<R: Read> Read for Stream<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl<R: Read> Source for Stream<R> {}

/// A file on disk: skipping seeks.
pub struct Seekable<R>(pub R);

impl<R: Read> Read for Seekable<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl<R: Read + io::Seek> Source for Seekable<R> {
    fn skip(&mut self, n: u64) -> io::Result<()> {
        let n = i64::try_from(n).map_err(|_| invalid("an entry larger than a file can be"))?;
        self.0.seek(io::SeekFrom::Current(n)).map(|_| ())
    }
}

pub struct Reader<S> {
    src: S,
    /// Bytes consumed from `src` so far.
    pos: u64,
    /// Unread data of the current entry, then its padding.
    left: u64,
    pad: u64,
    done: bool,
}

fn invalid(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

impl<R: Read> Reader<Stream<R>> {
    /// Reads a tar stream, skipping by reading.
    pub fn new(r: R) -> Self {
        Self::from_source(Stream(r))
    }
}

impl<S: Source> Reader<S> {
    pub fn from_source(src: S) -> Self {
        Self {
            src,
            pos: 0,
            left: 0,
            pad: 0,
            done: false,
        }
    }

    /// Bytes consumed from the underlying reader.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// The underlying source (to read what follows the archive).
    pub fn into_inner(self) -> S {
        self.src
    }

    fn skip(&mut self, n: u64) -> io::Result<()> {
        if n > 0 {
            self.src.skip(n)?;
            self.pos += n;
        }
        Ok(())
    }

    /// Reads a whole block; `false` at a clean end of stream.
    fn block(&mut self, buf: &mut [u8; BLOCK as usize]) -> io::Result<bool> {
        let mut got = 0;
        while got < buf.len() {
            match self.src.read(&mut buf[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.pos += got as u64;
        match got {
            0 => Ok(false),
            n if n == buf.len() => Ok(true),
            _ => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the archive ends inside a header",
            )),
        }
    }

    /// Reads the data of an extension entry, refusing one over the cap.
    fn extension(&mut self, what: &str, size: u64) -> io::Result<Vec<u8>> {
        if size > MAX_EXTENSION {
            return Err(invalid(format!(
                "a {what} of {size} bytes (more than {} KiB); refusing to read it",
                MAX_EXTENSION / 1024
            )));
        }
        let mut data = vec![0u8; size as usize];
        self.src.read_exact(&mut data).map_err(|e| {
            if e.kind() == io::ErrorKind::UnexpectedEof {
                io::Error::new(e.kind(), format!("the archive ends inside a {what}"))
            } else {
                e
            }
        })?;
        self.pos += size;
        self.skip(padding(size))?;
        Ok(data)
    }

    /// The next entry, after skipping what is left of the current one.
    pub fn next_entry(&mut self) -> io::Result<Option<Entry>> {
        if self.done {
            return Ok(None);
        }
        let rest = self.left + self.pad;
        self.left = 0;
        self.pad = 0;
        self.skip(rest)?;
        let mut pax_path = None;
        let mut pax_link = None;
        let mut pax_size = None;
        let mut gnu_path = None;
        let mut gnu_link = None;
        let mut header = [0u8; BLOCK as usize];
        for _ in 0..=MAX_EXTENSIONS_IN_A_ROW {
            if !self.block(&mut header)? || header.iter().all(|&b| b == 0) {
                self.done = true;
                if pax_path.is_some() || pax_size.is_some() || gnu_path.is_some() {
                    return Err(invalid(
                        "the archive ends after an extended header, before its entry",
                    ));
                }
                return Ok(None);
            }
            check_sum(&header)?;
            let size =
                number(&header[124..136]).map_err(|e| invalid(format!("size field: {e}")))?;
            match header[156] {
                b'x' => {
                    let data = self.extension("PAX extended header", size)?;
                    for (k, v) in pax_records(&data)? {
                        match k {
                            b"path" => pax_path = Some(v.to_vec()),
                            b"linkpath" => pax_link = Some(v.to_vec()),
                            b"size" => {
                                let s = std::str::from_utf8(v)
                                    .ok()
                                    .and_then(|s| s.parse::<u64>().ok())
                                    .ok_or_else(|| {
                                        invalid("a PAX size record that is not a number")
                                    })?;
                                pax_size = Some(s);
                            }
                            _ => {}
                        }
                    }
                }
                b'g' => {
                    // Global records apply to every later entry; none that
                    // Vedette uses (path, size) may be global in practice.
                    self.extension("PAX global header", size)?;
                }
                b'L' => gnu_path = Some(trim_nul(self.extension("GNU long name", size)?)),
                b'K' => gnu_link = Some(trim_nul(self.extension("GNU long link name", size)?)),
                flag => {
                    let size = pax_size.unwrap_or(size);
                    let kind = match flag {
                        b'0' | b'\0' | b'7' => Kind::File,
                        b'1' => Kind::HardLink,
                        b'2' => Kind::Symlink,
                        b'5' => Kind::Directory,
                        b'S' => {
                            // Old GNU sparse files carry more map blocks.
                            let mut extended = header[482] != 0;
                            let mut blocks = 0;
                            while extended {
                                blocks += 1;
                                if blocks > MAX_EXTENSIONS_IN_A_ROW {
                                    return Err(invalid(
                                        "a sparse map longer than any real file's",
                                    ));
                                }
                                let mut more = [0u8; BLOCK as usize];
                                if !self.block(&mut more)? {
                                    return Err(invalid("the archive ends inside a sparse map"));
                                }
                                extended = more[504] != 0;
                            }
                            Kind::Other
                        }
                        _ => Kind::Other,
                    };
                    let path = match (pax_path, gnu_path) {
                        (Some(p), _) | (None, Some(p)) => p,
                        (None, None) => ustar_path(&header),
                    };
                    let link = match (pax_link, gnu_link) {
                        (Some(l), _) | (None, Some(l)) => Some(l),
                        (None, None) => {
                            let l = trim_nul(header[157..257].to_vec());
                            (!l.is_empty()).then_some(l)
                        }
                    };
                    let mode = number(&header[100..108]).unwrap_or(0) as u32;
                    // Links and directories carry no data whatever they say.
                    let size = match kind {
                        Kind::HardLink | Kind::Symlink | Kind::Directory => 0,
                        _ => size,
                    };
                    self.left = size;
                    self.pad = padding(size);
                    return Ok(Some(Entry {
                        path,
                        link,
                        kind,
                        size,
                        mode,
                        data_offset: self.pos,
                    }));
                }
            }
        }
        Err(invalid(format!(
            "more than {MAX_EXTENSIONS_IN_A_ROW} extended headers in a row"
        )))
    }

    /// Reads the current entry's data (at most what is left of it).
    pub fn data(&mut self) -> Data<'_, S> {
        Data { reader: self }
    }
}

/// The data of the current entry.
pub struct Data<'a, S> {
    reader: &'a mut Reader<S>,
}

impl<S: Source> Read for Data<'_, S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let r = &mut *self.reader;
        if r.left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = buf.len().min(usize::try_from(r.left).unwrap_or(usize::MAX));
        let n = r.src.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the archive ends inside an entry",
            ));
        }
        r.left -= n as u64;
        r.pos += n as u64;
        Ok(n)
    }
}

fn padding(size: u64) -> u64 {
    (BLOCK - size % BLOCK) % BLOCK
}

fn trim_nul(mut v: Vec<u8>) -> Vec<u8> {
    if let Some(i) = v.iter().position(|&b| b == 0) {
        v.truncate(i);
    }
    v
}

/// `name`, or `prefix/name` for a POSIX ustar header with a prefix.
fn ustar_path(h: &[u8; BLOCK as usize]) -> Vec<u8> {
    let name = trim_nul(h[0..100].to_vec());
    if &h[257..263] == b"ustar\0" {
        let prefix = trim_nul(h[345..500].to_vec());
        if !prefix.is_empty() {
            return [prefix.as_slice(), b"/", name.as_slice()].concat();
        }
    }
    name
}

/// Sum of the header's bytes with the checksum field read as spaces: both
/// the unsigned (POSIX) and the signed (old Sun tar) sums are accepted.
fn check_sum(h: &[u8; BLOCK as usize]) -> io::Result<()> {
    let stored = number(&h[148..156]).map_err(|e| invalid(format!("checksum field: {e}")))?;
    let mut unsigned: u64 = 8 * u64::from(b' ');
    let mut signed: i64 = 8 * i64::from(b' ');
    for (i, &b) in h.iter().enumerate() {
        if !(148..156).contains(&i) {
            unsigned += u64::from(b);
            signed += i64::from(b as i8);
        }
    }
    if stored == unsigned || i64::try_from(stored).is_ok_and(|s| s == signed) {
        Ok(())
    } else {
        Err(invalid(
            "a header whose checksum does not match: the archive is corrupt or not a tar",
        ))
    }
}

/// An octal field (spaces and NULs around it allowed), or GNU's base-256
/// form (high bit set, big-endian).
fn number(field: &[u8]) -> Result<u64, String> {
    if field.first().is_some_and(|b| b & 0x80 != 0) {
        if field[0] & 0x40 != 0 {
            return Err("a negative number".into());
        }
        let mut n: u64 = u64::from(field[0] & 0x3f);
        for &b in &field[1..] {
            n = n
                .checked_mul(256)
                .and_then(|n| n.checked_add(u64::from(b)))
                .ok_or("a number too large")?;
        }
        return Ok(n);
    }
    let text: Vec<u8> = field
        .iter()
        .copied()
        .take_while(|&b| b != 0)
        .filter(|b| *b != b' ')
        .collect();
    if text.is_empty() {
        return Ok(0);
    }
    let s = std::str::from_utf8(&text).map_err(|_| "not a number".to_owned())?;
    u64::from_str_radix(s, 8)
        .map_err(|_| format!("'{}' is not an octal number", s.escape_default()))
}

/// PAX records: `<length> <key>=<value>\n`, the length counting itself.
fn pax_records(data: &[u8]) -> io::Result<Vec<(&[u8], &[u8])>> {
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        if rest.iter().all(|&b| b == 0) {
            break; // padding some writers leave
        }
        let sp = rest
            .iter()
            .position(|&b| b == b' ')
            .ok_or_else(|| invalid("a PAX record without a length"))?;
        let len: usize = std::str::from_utf8(&rest[..sp])
            .ok()
            .and_then(|s| s.parse().ok())
            .filter(|&l| l > sp + 1 && l <= rest.len())
            .ok_or_else(|| invalid("a PAX record whose length is wrong"))?;
        let record = &rest[sp + 1..len];
        let record = record.strip_suffix(b"\n").unwrap_or(record);
        let eq = record
            .iter()
            .position(|&b| b == b'=')
            .ok_or_else(|| invalid("a PAX record without '='"))?;
        out.push((&record[..eq], &record[eq + 1..]));
        rest = &rest[len..];
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ustar header block for `name` with `size` and `flag`.
    fn header(name: &[u8], size: u64, flag: u8) -> [u8; 512] {
        let mut h = [0u8; 512];
        h[..name.len()].copy_from_slice(name);
        h[100..107].copy_from_slice(b"0000644");
        if size < 8u64.pow(11) {
            h[124..135].copy_from_slice(format!("{size:011o}").as_bytes());
        } else {
            // GNU's base-256 form, as writers do for sizes past 8 GiB.
            h[124] = 0x80;
            h[128..136].copy_from_slice(&size.to_be_bytes());
        }
        h[136..147].copy_from_slice(b"00000000000");
        h[156] = flag;
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[148..156].copy_from_slice(b"        ");
        let sum: u64 = h.iter().map(|&b| u64::from(b)).sum();
        h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
        h
    }

    fn member(name: &[u8], data: &[u8], flag: u8) -> Vec<u8> {
        let mut v = header(name, data.len() as u64, flag).to_vec();
        v.extend_from_slice(data);
        v.resize(v.len() + padding(data.len() as u64) as usize, 0);
        v
    }

    fn pax(records: &[(&str, &str)]) -> Vec<u8> {
        let mut body = String::new();
        for (k, v) in records {
            let base = k.len() + v.len() + 3;
            let mut len = base + base.to_string().len();
            if len.to_string().len() != base.to_string().len() {
                len += 1;
            }
            body.push_str(&format!("{len} {k}={v}\n"));
        }
        member(b"PaxHeader", body.as_bytes(), b'x')
    }

    fn entries(bytes: &[u8]) -> io::Result<Vec<(String, u64, Vec<u8>)>> {
        let mut r = Reader::new(bytes);
        let mut out = Vec::new();
        while let Some(e) = r.next_entry()? {
            let mut data = Vec::new();
            r.data().read_to_end(&mut data)?;
            out.push((String::from_utf8_lossy(&e.path).into_owned(), e.size, data));
        }
        Ok(out)
    }

    #[test]
    fn a_pax_size_record_overrides_the_header_and_is_what_the_stream_holds() {
        let mut t = pax(&[("size", "5")]);
        // The header says 0 bytes; the stream holds 5, as the PAX record says.
        let mut h = header(b"var/lib/dpkg/status", 0, b'0').to_vec();
        h.extend_from_slice(b"hello");
        h.resize(1024, 0);
        t.extend(h);
        t.extend(member(b"after", b"x", b'0'));
        t.extend([0u8; 1024]);
        let got = entries(&t).unwrap();
        assert_eq!(got[0], ("var/lib/dpkg/status".into(), 5, b"hello".to_vec()));
        assert_eq!(got[1].0, "after");
    }

    #[test]
    fn an_extension_over_the_cap_is_refused_before_it_is_read() {
        let mut t = header(b"PaxHeader", 8 << 30, b'x').to_vec();
        t.extend([0u8; 4096]); // far less than it claims: never read
        let e = entries(&t).unwrap_err().to_string();
        assert!(e.contains("PAX extended header of 8589934592 bytes"), "{e}");
        let mut t = header(b"././@LongLink", 2 << 20, b'L').to_vec();
        t.extend([0u8; 512]);
        assert!(entries(&t)
            .unwrap_err()
            .to_string()
            .contains("GNU long name"));
    }

    #[test]
    fn long_names_from_gnu_and_pax_and_ustar_prefixes() {
        let long = "a/".repeat(80) + "METADATA";
        let mut t = member(b"././@LongLink", format!("{long}\0").as_bytes(), b'L');
        t.extend(member(b"truncated", b"1", b'0'));
        t.extend(pax(&[("path", "p/q/pax-name")]));
        t.extend(member(b"ignored", b"2", b'0'));
        let mut h = header(b"name", 0, b'0');
        h[345..351].copy_from_slice(b"prefix");
        h[148..156].copy_from_slice(b"        ");
        let sum: u64 = h.iter().map(|&b| u64::from(b)).sum();
        h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
        t.extend(h);
        t.extend([0u8; 1024]);
        let names: Vec<String> = entries(&t).unwrap().into_iter().map(|e| e.0).collect();
        assert_eq!(names, [long.as_str(), "p/q/pax-name", "prefix/name"]);
    }

    #[test]
    fn a_bad_checksum_or_a_cut_stream_is_an_error() {
        let mut t = member(b"a", b"data", b'0');
        t[0] = b'b';
        assert!(entries(&t).unwrap_err().to_string().contains("checksum"));
        let t = member(b"a", b"data", b'0');
        assert!(entries(&t[..600]).is_err());
        assert!(entries(&t[..100]).is_err());
        let mut t = pax(&[("path", "x")]);
        t.extend([0u8; 1024]);
        assert!(entries(&t)
            .unwrap_err()
            .to_string()
            .contains("before its entry"));
    }

    #[test]
    fn base_256_sizes_are_read() {
        let mut f = [0u8; 12];
        f[0] = 0x80;
        f[4..].copy_from_slice(&(9u64 << 30).to_be_bytes());
        assert_eq!(number(&f), Ok(9 << 30));
        assert_eq!(number(b"0000644 \0"), Ok(0o644));
        assert_eq!(number(b"\0\0\0"), Ok(0));
        assert!(number(b"12x").is_err());
    }

    #[test]
    fn a_chain_of_extensions_must_end() {
        let mut t = Vec::new();
        for _ in 0..100 {
            t.extend(pax(&[("comment", "x")]));
        }
        assert!(entries(&t).unwrap_err().to_string().contains("in a row"));
    }
}

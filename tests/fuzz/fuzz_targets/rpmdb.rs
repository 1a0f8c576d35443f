//! rpm's package databases from untrusted bytes: sqlite (with and without a
//! WAL), Berkeley DB hash and ndb. The first byte picks the reader; for the
//! WAL, the next two bytes say where the database ends and the WAL begins.
//! None may panic, hang or allocate without bound.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vedette_extract::os::rpm::{parse_rpmdb_legacy, parse_rpmdb_sqlite, parse_rpmdb_sqlite_wal};

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else { return };
    match which % 4 {
        0 => drop(parse_rpmdb_sqlite(rest)),
        1 => drop(parse_rpmdb_legacy(rest, false)),
        2 => drop(parse_rpmdb_legacy(rest, true)),
        _ => {
            let Some((split, rest)) = rest.split_first_chunk::<2>() else { return };
            let at = (usize::from(u16::from_le_bytes(*split)) * 512).min(rest.len());
            let (db, wal) = rest.split_at(at);
            drop(parse_rpmdb_sqlite_wal(db, Some(wal)));
        }
    }
});

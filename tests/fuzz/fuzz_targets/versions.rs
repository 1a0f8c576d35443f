//! Version strings as long as a hostile package database can make them (the
//! test command runs this target with inputs up to 1 MiB): every scheme
//! parses and orders two of them consistently, without recursion that a
//! long input could overflow or work that grows faster than its length.
#![no_main]

use std::cmp::Ordering;

use libfuzzer_sys::fuzz_target;
use vedette_version::Scheme;

const SCHEMES: [Scheme; 11] = Scheme::ALL;

fuzz_target!(|data: &[u8]| {
    // Two versions split at the first newline, tried in every scheme.
    let s = String::from_utf8_lossy(data);
    let (a, b) = s.split_once('\n').unwrap_or((&s, "1.0"));
    for scheme in SCHEMES {
        if let (Ok(x), Ok(y)) = (scheme.parse(a), scheme.parse(b)) {
            assert_eq!(x.cmp(&y), y.cmp(&x).reverse(), "{scheme:?}");
            assert_eq!(x.cmp(&x), Ordering::Equal, "{scheme:?}");
        }
    }
});

//! What feeds and SBOMs bring in from outside: OSV records, version strings
//! in every scheme, SBOM documents. The first byte picks the input kind.
#![no_main]

use std::cmp::Ordering;

use libfuzzer_sys::fuzz_target;
use vedette_version::Scheme;

const SCHEMES: [Scheme; 11] = Scheme::ALL;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else { return };
    match sel % 3 {
        0 => {
            let _ = vedette_feeds::parse_osv_record(rest);
        }
        1 => {
            // Two versions split at the first newline: every scheme orders
            // them consistently (a < b exactly when b > a; a == a).
            let s = String::from_utf8_lossy(rest);
            let (a, b) = s.split_once('\n').unwrap_or((&s, "1.0"));
            let scheme = SCHEMES[usize::from(sel / 3) % SCHEMES.len()];
            if let (Ok(x), Ok(y)) = (scheme.parse(a), scheme.parse(b)) {
                assert_eq!(x.cmp(&y), y.cmp(&x).reverse(), "{scheme:?}: {a:?} vs {b:?}");
                assert_eq!(x.cmp(&x), Ordering::Equal, "{scheme:?}: {a:?}");
            }
        }
        _ => {
            let _ = vedette_extract::sbom::parse_sbom(rest, "fuzz.json");
        }
    }
});

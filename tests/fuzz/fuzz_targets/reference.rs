//! Image references and registry challenges, as typed by users and sent by registries.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    if let Ok(r) = vedette_sources::Reference::parse(&s) {
        // A parsed reference prints to something that parses to itself.
        let again = vedette_sources::Reference::parse(&r.to_string()).expect("round trip");
        assert_eq!(again, r);
    }
    let _ = vedette_sources::registry::parse_challenge(&s);
});

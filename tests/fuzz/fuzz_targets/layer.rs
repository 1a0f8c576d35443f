//! The layer reader on arbitrary bytes (raw, gzip or zstd tar): an error or
//! a delta, never a panic, a hang or unbounded memory.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let cats = vedette_extract::catalogers();
    if let Ok(delta) = vedette_sources::layers::read_layer(data, None, "sha256:fuzz", &cats, &vedette_sources::Budget::default()) {
        let mut files = vedette_extract::Files::new();
        delta.apply(&mut files);
        let _ = vedette_extract::catalog(&files, &cats);
    }
});

//! cargo-auditable binaries: the dependency list cargo-auditable links into
//! the `.dep-v0` section (zlib-compressed JSON).
//!
//! The section can only be found through the section table at the end of
//! the file, so [`crate::binary::scan_executable`] keeps an executable's ELF
//! header and a tail window while streaming it; stripped and most unstripped
//! release binaries put `.dep-v0` inside that window (only `.symtab`,
//! `.strtab` and `.shstrtab` follow it).

use std::io::Read;

use vedette_model::Ecosystem;

use crate::{purl, Cataloger, Context, Files, Found};

/// The first line of the summary kept for an auditable binary.
pub const SUMMARY_MAGIC: &str = "vedette-cargo-auditable-v1\n";
const MAX_JSON: u64 = 8 * 1024 * 1024;

pub(crate) fn le(b: &[u8], at: usize, n: usize) -> Option<u64> {
    let s = b.get(at..at + n)?;
    Some(s.iter().rev().fold(0, |acc, &x| (acc << 8) | u64::from(x)))
}

/// Inflated `.dep-v0` from the ELF header and the file's tail window.
pub(crate) fn dep_v0(head: &[u8], tail: &[u8], tail_start: u64) -> Option<Vec<u8>> {
    let at = |off: u64, len: u64| -> Option<&[u8]> {
        let start = usize::try_from(off.checked_sub(tail_start)?).ok()?;
        tail.get(start..start.checked_add(usize::try_from(len).ok()?)?)
    };
    let shoff = le(head, 0x28, 8)?;
    let shentsize = le(head, 0x3a, 2)?;
    let shnum = le(head, 0x3c, 2)?;
    let shstrndx = le(head, 0x3e, 2)?;
    if shentsize < 64 || shnum == 0 || shnum > 10_000 {
        return None;
    }
    let table = at(shoff, shentsize * shnum)?;
    let section = |i: u64| {
        let s = table.get((i * shentsize) as usize..)?;
        Some((le(s, 0, 4)?, le(s, 24, 8)?, le(s, 32, 8)?)) // name, offset, size
    };
    let (_, str_off, str_size) = section(shstrndx)?;
    let names = at(str_off, str_size)?;
    for i in 0..shnum {
        let (name, off, size) = section(i)?;
        let name = names.get(name as usize..)?;
        if name.starts_with(b".dep-v0\0") {
            let data = at(off, size)?;
            let mut json = Vec::new();
            flate2::read::ZlibDecoder::new(data)
                .take(MAX_JSON)
                .read_to_end(&mut json)
                .ok()?;
            return Some(json);
        }
    }
    None
}

/// Crates of an auditable binary that came from a registry or git (the
/// binary's own workspace crates, `source: local`, are left out as in Cargo.lock).
pub fn parse_auditable_json(json: &[u8]) -> Result<Vec<(String, String)>, String> {
    let v: serde_json::Value =
        serde_json::from_slice(json).map_err(|e| format!("not cargo-auditable JSON: {e}"))?;
    let packages = v["packages"]
        .as_array()
        .ok_or("cargo-auditable JSON without packages")?;
    Ok(packages
        .iter()
        .filter(|p| p["source"].as_str().is_some_and(|s| s != "local"))
        .filter_map(|p| {
            Some((
                p["name"].as_str()?.to_owned(),
                p["version"].as_str()?.to_owned(),
            ))
        })
        .collect())
}

pub struct AuditableCataloger;

impl Cataloger for AuditableCataloger {
    fn name(&self) -> &'static str {
        "cargo-auditable"
    }

    /// Binaries are summarised by the sources while streaming.
    fn wants(&self, _path: &str) -> bool {
        false
    }

    fn catalog(&self, files: &Files, _cx: &Context<'_>) -> Found {
        let magic = SUMMARY_MAGIC.as_bytes();
        crate::lockfiles::catalog_pairs(
            files,
            |p| files.get(p).is_some_and(|f| f.data.starts_with(magic)), // summaries only
            |_, text| parse_auditable_json(&text.as_bytes()[SUMMARY_MAGIC.len()..]),
            Ecosystem::CratesIo,
            |n, v| purl::build("cargo", None, n, v, &[]),
            self.name(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn testdata(name: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/testdata/rust/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn an_auditable_binary_lists_its_registry_crates() {
        let summary = crate::binary::scan_executable(&testdata("audhello")[..])
            .unwrap()
            .unwrap();
        assert!(summary.starts_with(SUMMARY_MAGIC.as_bytes()));
        let crates = parse_auditable_json(&summary[SUMMARY_MAGIC.len()..]).unwrap();
        assert_eq!(
            crates,
            [
                ("itoa".to_owned(), "1.0.19".to_owned()),
                ("smallvec".to_owned(), "1.6.0".to_owned())
            ]
        );
    }

    #[test]
    fn plain_and_broken_executables_give_nothing() {
        assert_eq!(
            crate::binary::scan_executable(&b"#!/bin/sh\necho hi\n"[..]).unwrap(),
            None
        );
        let mut elf = testdata("audhello");
        elf.truncate(elf.len() / 2); // the section table is gone
        assert_eq!(crate::binary::scan_executable(&elf[..]).unwrap(), None);
        assert!(parse_auditable_json(b"{").is_err());
    }
}

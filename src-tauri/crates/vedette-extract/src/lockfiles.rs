//! Helpers shared by the lock-file catalogers: one `(name, version)` list
//! per wanted file, turned into packages of one ecosystem.

use vedette_model::Ecosystem;

use crate::{Files, Found};

/// Runs `parse` over every file `wants` selects and makes packages with `purl`.
pub(crate) fn catalog_pairs(
    files: &Files,
    wants: impl Fn(&str) -> bool,
    // (path, text) → (name, version) pairs
    parse: impl Fn(&str, &str) -> Result<Vec<(String, String)>, String>,
    ecosystem: Ecosystem,
    purl: impl Fn(&str, &str) -> Option<String>,
    found_by: &str,
) -> Found {
    let mut found = Found::default();
    // Hard links share their bytes: the same content under the same file
    // name (a layer can link one file a thousand times) is parsed once.
    type Parsed = Result<Vec<(String, String)>, String>;
    let mut parsed: std::collections::HashMap<(usize, usize, &str), Parsed> =
        std::collections::HashMap::new();
    for (path, file) in files.matching(wants) {
        let key = (
            file.data.as_ptr() as usize,
            file.data.len(),
            file_name(path),
        );
        let result = parsed
            .entry(key)
            .or_insert_with(|| parse(path, &String::from_utf8_lossy(&file.data)))
            .clone();
        match result {
            Ok(pairs) => {
                for (name, version) in pairs {
                    match purl(&name, &version) {
                        Some(purl) => found.packages.push(crate::found_in(
                            &name, &version, ecosystem, purl, path, file, found_by,
                        )),
                        None => {
                            found.warn(path, format!("cannot form a purl for {name} {version}"))
                        }
                    }
                }
            }
            Err(e) => found.warn(path, e),
        }
    }
    found
}

pub(crate) fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

//! Every parser of vedette-extract (text and binary formats) on the same
//! input: the first byte picks the parser, the rest is the file. None may
//! panic or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vedette_extract::{binary, dotnet, go, java, javascript, os, php, python, ruby, rust};

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else { return };
    let text = String::from_utf8_lossy(rest);
    // Binary formats read the bytes as they are.
    match which % 22 {
        16 => return drop(os::rpm::parse_rpmdb_sqlite(rest)),
        17 => return drop(os::rpm::parse_header(rest)),
        18 => return drop(go::parse_buildinfo(rest)),
        19 => return drop(binary::scan_executable(rest)),
        20 => return drop(java::scan_archive(rest)),
        21 => return drop(rust::auditable::parse_auditable_json(rest)),
        _ => {}
    }
    match which % 16 {
        0 => drop(os::dpkg::parse_status(&text)),
        1 => drop(os::apk::parse_installed(&text)),
        2 => drop(os::os_release::parse_os_release(&text)),
        3 => drop(python::parse_metadata(&text)),
        4 => drop(python::parse_requirements(&text)),
        5 => drop(python::parse_poetry_lock(&text)),
        6 => drop(python::parse_pipfile_lock(&text)),
        7 => drop(javascript::parse_package_lock(&text)),
        8 => drop(javascript::parse_yarn_lock(&text)),
        9 => drop(javascript::parse_pnpm_lock(&text)),
        10 => drop(rust::parse_cargo_lock(&text)),
        11 => drop(ruby::parse_gemspec(&text)),
        12 => drop(ruby::parse_gemfile_lock(&text)),
        13 => drop(php::parse_composer(&text)),
        14 => drop(dotnet::parse_packages_lock(&text)),
        _ => drop(dotnet::parse_deps_json(&text)),
    }
});

//! Hostile layers: every one ends in a clear result for that layer, with
//! memory bounded and nothing written anywhere.

#![allow(clippy::unwrap_used)] // a test that cannot build its input should stop there

use std::io::Write;

use vedette_sources::layers::{read_layer, Compression};
use vedette_sources::Budget;

fn cats() -> Vec<Box<dyn vedette_extract::Cataloger>> {
    vedette_extract::catalogers()
}

fn header(path: &str, kind: tar::EntryType, size: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(0o644);
    h.set_size(size);
    // Write the raw name so `..` and absolute paths reach the reader as an attacker wrote them.
    let name = &mut h.as_old_mut().name;
    name[..path.len()].copy_from_slice(path.as_bytes());
    h.set_cksum();
    h
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

const STATUS: &[u8] = b"Package: zlib1g\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1:1.2.13.dfsg-1\n";

#[test]
fn dot_dot_and_absolute_paths_stay_inside_the_image_root() {
    let mut b = tar::Builder::new(Vec::new());
    b.append(
        &header(
            "../../../../var/lib/dpkg/status",
            tar::EntryType::Regular,
            STATUS.len() as u64,
        ),
        STATUS,
    )
    .unwrap();
    b.append(
        &header("/etc/os-release", tar::EntryType::Regular, 10),
        &b"ID=debian\n"[..],
    )
    .unwrap();
    let delta = read_layer(
        &b.into_inner().unwrap()[..],
        None,
        "sha256:test",
        &cats(),
        &Budget::default(),
    )
    .unwrap();
    let paths: Vec<_> = delta.files.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(paths, ["/var/lib/dpkg/status", "/etc/os-release"]);
}

#[test]
fn symlinks_hard_links_out_of_the_layer_and_devices_are_not_read() {
    let mut b = tar::Builder::new(Vec::new());
    let mut link = |path: &str, target: &str, kind| {
        let mut h = header(path, kind, 0);
        h.set_link_name(target).unwrap();
        h.set_cksum();
        b.append(&h, std::io::empty()).unwrap();
    };
    link("etc/os-release", "etc/os-release2", tar::EntryType::Symlink);
    link("etc/os-release2", "etc/os-release", tar::EntryType::Symlink); // a loop
    link(
        "var/lib/dpkg/status",
        "../../../../etc/shadow",
        tar::EntryType::Link,
    );
    b.append(
        &header("lib/apk/db/installed", tar::EntryType::Char, 0),
        std::io::empty(),
    )
    .unwrap();
    b.append(
        &header("usr/lib/os-release", tar::EntryType::Fifo, 0),
        std::io::empty(),
    )
    .unwrap();
    let delta = read_layer(
        &b.into_inner().unwrap()[..],
        None,
        "sha256:test",
        &cats(),
        &Budget::default(),
    )
    .unwrap();
    assert!(
        delta.files.is_empty(),
        "{:?}",
        delta.files.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    assert_eq!(delta.warnings.len(), 1, "{:?}", delta.warnings);
    assert!(
        delta.warnings.iter().next().unwrap().contains("hard link"),
        "{:?}",
        delta.warnings
    );
}

#[test]
fn a_hard_link_to_a_file_of_the_same_layer_is_read() {
    let mut b = tar::Builder::new(Vec::new());
    b.append(
        &header(
            "var/lib/dpkg/status",
            tar::EntryType::Regular,
            STATUS.len() as u64,
        ),
        STATUS,
    )
    .unwrap();
    let mut h = header("var/lib/dpkg/status.d/zlib", tar::EntryType::Link, 0);
    h.set_link_name("var/lib/dpkg/status").unwrap();
    h.set_cksum();
    b.append(&h, std::io::empty()).unwrap();
    let delta = read_layer(
        &b.into_inner().unwrap()[..],
        None,
        "sha256:test",
        &cats(),
        &Budget::default(),
    )
    .unwrap();
    assert_eq!(delta.files.len(), 2);
    assert_eq!(delta.files[1].1, STATUS);
}

#[test]
fn a_truncated_gzip_layer_is_an_error_that_names_the_layer() {
    let mut b = tar::Builder::new(Vec::new());
    b.append(
        &header(
            "var/lib/dpkg/status",
            tar::EntryType::Regular,
            STATUS.len() as u64,
        ),
        STATUS,
    )
    .unwrap();
    let blob = gz(&b.into_inner().unwrap());
    let cut = &blob[..blob.len() / 2];
    let err = read_layer(
        cut,
        Some(Compression::Gzip),
        "sha256:cut",
        &cats(),
        &Budget::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("sha256:cut") && err.contains("truncated"),
        "{err}"
    );
}

#[test]
fn a_gzip_bomb_of_a_gigabyte_of_zeros_is_read_in_bounded_memory() {
    // A tar whose wanted file claims 1 GiB of zeros. Gzip members may be
    // concatenated, so one compressed MiB of zeros repeated 1024 times makes
    // the bomb without compressing a gigabyte here.
    let size: u64 = 1 << 30;
    let mut blob = gz(header("var/lib/dpkg/status", tar::EntryType::Regular, size).as_bytes());
    let mib = {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(&vec![0u8; 1 << 20]).unwrap();
        e.finish().unwrap()
    };
    for _ in 0..(size >> 20) {
        blob.extend_from_slice(&mib);
    }
    blob.extend(gz(&[0u8; 1024]));
    assert!(blob.len() < 8 << 20, "the bomb is small: {}", blob.len());
    let delta = read_layer(&blob[..], None, "sha256:bomb", &cats(), &Budget::default()).unwrap();
    assert!(delta.files.is_empty());
    assert!(
        delta
            .warnings
            .iter()
            .next()
            .unwrap()
            .contains("more than a package database can be"),
        "{:?}",
        delta.warnings
    );
    // Peak memory of this test process stays far below the inflated size.
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let hwm_kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .unwrap()
        .trim()
        .trim_end_matches(" kB")
        .trim()
        .parse()
        .unwrap();
    assert!(hwm_kb < 200 * 1024, "peak RSS {hwm_kb} kB");
}

#[test]
fn a_layer_with_a_million_entries_is_read_to_the_end() {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    {
        let mut b = tar::Builder::new(&mut e);
        for i in 0..1_000_000u32 {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(tar::EntryType::Regular);
            h.set_mode(0o644);
            h.set_size(0);
            h.set_path(format!("usr/share/many/{:02}/{i}", i % 100))
                .unwrap();
            h.set_cksum();
            b.append(&h, std::io::empty()).unwrap();
        }
        b.append(
            &header(
                "var/lib/dpkg/status",
                tar::EntryType::Regular,
                STATUS.len() as u64,
            ),
            STATUS,
        )
        .unwrap();
        b.finish().unwrap();
    }
    let blob = e.finish().unwrap();
    let delta = read_layer(
        &blob[..],
        Some(Compression::Gzip),
        "sha256:many",
        &cats(),
        &Budget::default(),
    )
    .unwrap();
    assert_eq!(delta.entries, 1_000_001);
    assert_eq!(delta.files.len(), 1);
}

#[test]
fn zstd_layers_are_read() {
    let mut b = tar::Builder::new(Vec::new());
    b.append(
        &header(
            "var/lib/dpkg/status",
            tar::EntryType::Regular,
            STATUS.len() as u64,
        ),
        STATUS,
    )
    .unwrap();
    let blob = zstd::encode_all(&b.into_inner().unwrap()[..], 3).unwrap();
    let delta = read_layer(&blob[..], None, "sha256:zst", &cats(), &Budget::default()).unwrap();
    assert_eq!(delta.files[0].1, STATUS);
}

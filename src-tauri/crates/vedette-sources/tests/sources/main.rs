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
    let peak = vedette_tests::peak_rss_mb();
    assert!(peak < 200, "peak RSS {peak} MB");
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

/// Every entry as (path, kind, size, data or link), by Vedette's reader.
fn ours(tar: &[u8]) -> Vec<(String, String, u64, Vec<u8>)> {
    use std::io::Read;
    let mut r = vedette_sources::tar_stream::Reader::new(tar);
    let mut out = Vec::new();
    while let Some(e) = r.next_entry().unwrap() {
        let mut data = Vec::new();
        r.data().read_to_end(&mut data).unwrap();
        let kind = match e.kind {
            vedette_sources::tar_stream::Kind::File => "file",
            vedette_sources::tar_stream::Kind::HardLink => "hardlink",
            vedette_sources::tar_stream::Kind::Symlink => "symlink",
            vedette_sources::tar_stream::Kind::Directory => "dir",
            vedette_sources::tar_stream::Kind::Other => "other",
        };
        if let Some(l) = e.link {
            data = l;
        }
        let path = String::from_utf8_lossy(&e.path)
            .trim_end_matches('/')
            .to_owned();
        out.push((path, kind.to_owned(), e.size, data));
    }
    out
}

/// The same, by the `tar` crate (which honours PAX and GNU extensions too).
fn theirs(tar: &[u8]) -> Vec<(String, String, u64, Vec<u8>)> {
    use std::io::Read;
    let mut a = tar::Archive::new(tar);
    let mut out = Vec::new();
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        let t = e.header().entry_type();
        let kind = if t.is_file() {
            "file"
        } else if t.is_hard_link() {
            "hardlink"
        } else if t.is_symlink() {
            "symlink"
        } else if t.is_dir() {
            "dir"
        } else {
            "other"
        };
        let path = String::from_utf8_lossy(&e.path_bytes())
            .trim_end_matches('/')
            .to_owned();
        let link = e.link_name_bytes().map(|l| l.into_owned());
        let size = if kind == "file" || kind == "other" {
            e.size()
        } else {
            0
        };
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        if let Some(l) = link {
            data = l;
        }
        out.push((path, kind.to_owned(), size, data));
    }
    out
}

#[test]
fn the_tar_reader_agrees_with_the_tar_crate_and_gnu_tar_on_long_names_pax_and_links() {
    // A tree with a 200-character path, a long symlink target, a hard link
    // and a file of each small size, written by GNU tar in both of its
    // extension formats, and by the `tar` crate.
    let d = tempfile::tempdir().unwrap();
    let root = d.path().join("root");
    let deep = root
        .join("a".repeat(90))
        .join("b".repeat(90))
        .join("c".repeat(20));
    std::fs::create_dir_all(&deep).unwrap();
    for n in [0usize, 1, 511, 512, 513, 4096] {
        std::fs::write(deep.join(format!("f{n}")), vec![b'x'; n]).unwrap();
    }
    std::fs::write(root.join("status"), STATUS).unwrap();
    std::fs::hard_link(root.join("status"), root.join("status-link")).unwrap();
    let long_target = format!("{}/{}", "t".repeat(120), "u".repeat(30));
    std::os::unix::fs::symlink(&long_target, root.join("sym")).unwrap();
    for format in ["pax", "gnu", "ustar-ish"] {
        let tar = if format == "ustar-ish" {
            // The `tar` crate's builder (GNU long names past 100 bytes).
            let mut b = tar::Builder::new(Vec::new());
            b.follow_symlinks(false);
            b.append_dir_all(".", &root).unwrap();
            b.into_inner().unwrap()
        } else {
            let out = std::process::Command::new("tar")
                .arg(format!("--format={format}"))
                .args(["--sort=name", "-cf", "-", "-C"])
                .arg(&root)
                .arg(".")
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            out.stdout
        };
        let (a, b) = (ours(&tar), theirs(&tar));
        assert_eq!(a, b, "{format}");
        assert!(
            a.iter().any(
                |(p, _, size, _)| p.ends_with(&format!("{}/f4096", "c".repeat(20)))
                    && *size == 4096
            ),
            "{format}: the long path is read whole"
        );
        assert!(
            a.iter()
                .any(|(_, k, _, l)| k == "symlink" && l == long_target.as_bytes()),
            "{format}"
        );
        if format != "ustar-ish" {
            assert!(
                a.iter()
                    .any(|(p, k, _, _)| p.ends_with("status-link") && k == "hardlink"),
                "{format}"
            );
        }
    }
    // A real image layer: the Debian fixture.
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../../shared/fixtures/debian-12-minbase");
    let out = std::process::Command::new("tar")
        .args(["--format=pax", "--sort=name", "-cf", "-", "-C"])
        .arg(&fixture)
        .arg(".")
        .output()
        .unwrap();
    let layer = out.stdout;
    assert_eq!(ours(&layer), theirs(&layer));
    assert!(ours(&layer).len() > 5);
}

#[test]
fn a_docker_archive_that_names_files_outside_itself_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("archive");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("manifest.json"),
        r#"[{"Config":"config.json","RepoTags":["x:1"],"Layers":["../../../../etc/passwd"]}]"#,
    )
    .unwrap();
    std::fs::write(dir.join("config.json"), "{}").unwrap();
    let e = vedette_sources::archive::read_archive(
        &dir,
        &vedette_sources::registry::manifest::Platform::parse("linux/amd64").unwrap(),
        &cats(),
        d.path(),
        &Budget::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("names a file outside itself"), "{e}");
}

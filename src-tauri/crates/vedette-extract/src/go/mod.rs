//! Go binaries: the build info the Go linker embeds (Go 1.18+ inline form):
//! the Go version, the main module and every dependency module.
//!
//! Sources do not keep whole binaries: while streaming an executable they
//! look for [`MAGIC`] ([`crate::binary::scan_executable`]) and keep only the
//! build-info blob, stored under the binary's path; [`GoBinaryCataloger`]
//! reads those.

use vedette_model::Ecosystem;

use crate::{purl, Cataloger, Context, Files, Found};

/// The start of a Go build-info blob.
pub const MAGIC: &[u8] = b"\xff Go buildinf:";
/// How much of the binary after the magic is kept (header and both strings).
pub(crate) const BLOB_MAX: usize = 256 * 1024;

fn varint(b: &[u8], mut i: usize) -> Option<(u64, usize)> {
    let (mut x, mut shift) = (0u64, 0);
    loop {
        let c = *b.get(i)?;
        i += 1;
        x |= u64::from(c & 0x7f) << shift;
        if c < 0x80 {
            return Some((x, i));
        }
        shift += 7;
        if shift > 63 {
            return None;
        }
    }
}

fn string_at(b: &[u8], i: usize) -> Option<(&[u8], usize)> {
    let (len, i) = varint(b, i)?;
    let end = i.checked_add(usize::try_from(len).ok()?)?;
    Some((b.get(i..end)?, end))
}

/// What a build-info blob says.
#[derive(Debug, PartialEq, Eq)]
pub struct BuildInfo {
    /// `1.19.8` (without the `go` prefix).
    pub go_version: String,
    /// The main module and its version, when built in module mode.
    pub main: Option<(String, String)>,
    /// Dependency modules, replacements applied.
    pub deps: Vec<(String, String)>,
}

/// Parses a blob kept by [`crate::binary::scan_executable`].
pub fn parse_buildinfo(blob: &[u8]) -> Result<BuildInfo, String> {
    if !blob.starts_with(MAGIC) || blob.len() < 32 {
        return Err("not a Go build-info blob".into());
    }
    let flags = blob[15];
    if flags & 0x2 == 0 {
        return Err(
            "Go build info of a binary built before Go 1.18 (pointer form) is not read".into(),
        );
    }
    let (version, i) = string_at(blob, 32).ok_or("the Go version string is cut short")?;
    let (modinfo, _) = string_at(blob, i).ok_or("the module information is cut short")?;
    let version = String::from_utf8_lossy(version);
    let go_version = version.strip_prefix("go").unwrap_or(&version).to_owned();
    // modinfo is framed by 16 sentinel bytes on each side.
    let text = if modinfo.len() >= 33 {
        &modinfo[16..modinfo.len() - 16]
    } else {
        &[][..]
    };
    let text = String::from_utf8_lossy(text);
    let mut main = None;
    let mut deps: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        match f.as_slice() {
            ["mod", path, version, ..] if *version != "(devel)" => {
                main = Some((path.to_string(), version.to_string()))
            }
            ["dep", path, version, ..] => deps.push((path.to_string(), version.to_string())),
            ["=>", path, version, ..] => {
                if let Some(last) = deps.last_mut() {
                    *last = (path.to_string(), version.to_string());
                }
            }
            _ => {}
        }
    }
    Ok(BuildInfo {
        go_version,
        main,
        deps,
    })
}

pub struct GoBinaryCataloger;

impl Cataloger for GoBinaryCataloger {
    fn name(&self) -> &'static str {
        "go-binary"
    }

    /// Binaries are not chosen by path: sources keep their build info
    /// wherever an executable carries one.
    fn wants(&self, _path: &str) -> bool {
        false
    }

    fn catalog(&self, files: &Files, _cx: &Context<'_>) -> Found {
        let mut found = Found::default();
        for (path, file) in files.with_prefix(MAGIC) {
            let info = match parse_buildinfo(&file.data) {
                Ok(i) => i,
                Err(e) => {
                    found.warn(path, e);
                    continue;
                }
            };
            let mut push = |name: &str, version: &str| {
                if let Some(purl) = purl::build("golang", None, name, version, &[]) {
                    found.packages.push(crate::found_in(
                        name,
                        version,
                        Ecosystem::Go,
                        purl,
                        path,
                        file,
                        "go-binary",
                    ));
                }
            };
            push("stdlib", &info.go_version);
            if let Some((m, v)) = &info.main {
                push(m, v);
            }
            for (m, v) in &info.deps {
                push(m, v);
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn blob(version: &str, modinfo: &str) -> Vec<u8> {
        let mut b = MAGIC.to_vec();
        b.push(8);
        b.push(2);
        b.resize(32, 0);
        b.push(version.len() as u8);
        b.extend_from_slice(version.as_bytes());
        let framed = [&[0u8; 16][..], modinfo.as_bytes(), &[0u8; 16][..]].concat();
        // two-byte varint for lengths ≥ 128
        let n = framed.len();
        if n < 128 {
            b.push(n as u8);
        } else {
            b.push((n as u8 & 0x7f) | 0x80);
            b.push((n >> 7) as u8);
        }
        b.extend_from_slice(&framed);
        b
    }

    #[test]
    fn umoci_from_the_lang_fixture_is_go_1_19_8_without_modules() {
        let bytes = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../../../shared/fixtures/lang/usr/local/bin/umoci"),
        )
        .unwrap();
        // Read it in small pieces so the magic straddles reads.
        struct Trickle<'a>(&'a [u8]);
        impl Read for Trickle<'_> {
            fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
                let n = out.len().min(self.0.len()).min(7);
                out[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let found = crate::binary::scan_executable(Trickle(&bytes))
            .unwrap()
            .unwrap();
        let info = parse_buildinfo(&found).unwrap();
        assert_eq!(
            info,
            BuildInfo {
                go_version: "1.19.8".into(),
                main: None,
                deps: vec![]
            }
        );
    }

    #[test]
    fn module_builds_list_main_and_dependencies_with_replacements() {
        let b = blob(
            "go1.22.1",
            "path\texample.com/app\nmod\texample.com/app\tv1.2.3\th1:x\ndep\tgolang.org/x/net\tv0.1.0\th1:y\ndep\tgithub.com/a/b\tv1.0.0\n=>\tgithub.com/fork/b\tv1.0.1\th1:z\nbuild\tGOOS=linux\n",
        );
        let info = parse_buildinfo(&b).unwrap();
        assert_eq!(info.go_version, "1.22.1");
        assert_eq!(info.main, Some(("example.com/app".into(), "v1.2.3".into())));
        assert_eq!(
            info.deps,
            [
                ("golang.org/x/net".into(), "v0.1.0".into()),
                ("github.com/fork/b".into(), "v1.0.1".into())
            ]
        );
    }

    #[test]
    fn old_and_broken_blobs_are_refused_and_plain_files_have_none() {
        let mut old = MAGIC.to_vec();
        old.resize(40, 0);
        assert!(parse_buildinfo(&old)
            .unwrap_err()
            .contains("before Go 1.18"));
        let mut cut = blob("go1.22.1", "path\tx\n");
        cut.truncate(40);
        assert!(parse_buildinfo(&cut).is_err());
        assert_eq!(
            crate::binary::scan_executable(&b"\x7fELF no go here"[..]).unwrap(),
            None
        );
    }
}

//! rpm's package database in each of its formats, in `/usr/lib/sysimage/rpm`
//! or `/var/lib/rpm`: `rpmdb.sqlite` (rpm 4.16+: RHEL, UBI, Alma and Rocky 9,
//! Fedora 33+, Mariner; with the pages its `-wal` holds), ndb `Packages.db`
//! (SUSE Linux Enterprise 15, openSUSE Leap) and Berkeley DB `Packages`
//! (RHEL, UBI and CentOS up to 8, Amazon Linux 2). One database is read per
//! root, the newest format present; one that is there but cannot be read is
//! reported as unreadable, so the scan does not pass as if it were empty.

use vedette_model::{Distro, Ecosystem, Package, SourcePackage};

use super::sqlite::{Database, Value};
use crate::{purl, Cataloger, Context, Files, Found};

/// Where rpm keeps its database: the newer place first.
const DIRS: [&str; 2] = ["/usr/lib/sysimage/rpm", "/var/lib/rpm"];

/// The database files, newest format first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Sqlite,
    Ndb,
    Bdb,
}

const FILES: [(&str, Format); 3] = [
    ("rpmdb.sqlite", Format::Sqlite),
    ("Packages.db", Format::Ndb),
    ("Packages", Format::Bdb),
];

/// Every file the rpm cataloger reads.
pub fn wants_path(path: &str) -> bool {
    let Some((dir, file)) = path.rsplit_once('/') else {
        return false;
    };
    DIRS.contains(&dir) && (FILES.iter().any(|(f, _)| *f == file) || file == "rpmdb.sqlite-wal")
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RpmEntry {
    pub name: String,
    pub version: String,
    pub release: String,
    pub epoch: Option<i64>,
    pub arch: String,
    pub source_rpm: String,
    pub license: String,
    /// `nodejs:18:9020020230519000000:rhel9` for a module's package.
    pub modularity_label: String,
    /// Installed files (dirname + basename), absolute.
    pub files: Vec<String>,
}

impl RpmEntry {
    /// `version-release`, the form advisories and purls use (epoch apart).
    pub fn evr(&self) -> String {
        format!("{}-{}", self.version, self.release)
    }
}

const NAME: u32 = 1000;
const VERSION: u32 = 1001;
const RELEASE: u32 = 1002;
const EPOCH: u32 = 1003;
const LICENSE: u32 = 1014;
const ARCH: u32 = 1022;
const SOURCERPM: u32 = 1044;
const DIRINDEXES: u32 = 1116;
const BASENAMES: u32 = 1117;
const DIRNAMES: u32 = 1118;
const MODULARITYLABEL: u32 = 5096;

fn u32_at(b: &[u8], i: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(i..i + 4)?.try_into().ok()?))
}

/// Parses one header blob as rpm stores it (index count, data length, index
/// entries, data store).
pub fn parse_header(blob: &[u8]) -> Result<RpmEntry, String> {
    let il = u32_at(blob, 0).ok_or("header too short")? as usize;
    let dl = u32_at(blob, 4).ok_or("header too short")? as usize;
    if il > 100_000 || dl > 256 * 1024 * 1024 {
        return Err("header sizes are implausible".into());
    }
    let store_start = 8 + il * 16;
    let store = blob
        .get(store_start..store_start + dl)
        .ok_or("header data past the blob")?;
    let mut e = RpmEntry::default();
    let (mut dirindexes, mut basenames, mut dirnames) = (Vec::new(), Vec::new(), Vec::new());
    for k in 0..il {
        let at = 8 + k * 16;
        let (Some(tag), Some(ty), Some(off), Some(count)) = (
            u32_at(blob, at),
            u32_at(blob, at + 4),
            u32_at(blob, at + 8),
            u32_at(blob, at + 12),
        ) else {
            return Err("index entry past the blob".into());
        };
        let off = off as usize;
        let strings = |n: usize| -> Vec<String> {
            let mut out = Vec::new();
            let mut i = off;
            for _ in 0..n.min(1_000_000) {
                let Some(rest) = store.get(i..) else { break };
                let Some(end) = rest.iter().position(|&c| c == 0) else {
                    break;
                };
                out.push(String::from_utf8_lossy(&rest[..end]).into_owned());
                i += end + 1;
            }
            out
        };
        match (tag, ty) {
            (NAME | VERSION | RELEASE | LICENSE | ARCH | SOURCERPM | MODULARITYLABEL, 6 | 9) => {
                let v = strings(1).pop().unwrap_or_default();
                match tag {
                    NAME => e.name = v,
                    VERSION => e.version = v,
                    RELEASE => e.release = v,
                    LICENSE => e.license = v,
                    ARCH => e.arch = v,
                    MODULARITYLABEL => e.modularity_label = v,
                    _ => e.source_rpm = v,
                }
            }
            (EPOCH, 4) => e.epoch = u32_at(store, off).map(i64::from),
            (DIRINDEXES, 4) => {
                dirindexes = (0..count as usize)
                    .map_while(|j| u32_at(store, off + 4 * j))
                    .collect()
            }
            (BASENAMES, 8) => basenames = strings(count as usize),
            (DIRNAMES, 8) => dirnames = strings(count as usize),
            _ => {}
        }
    }
    if e.name.is_empty() || e.version.is_empty() {
        return Err("header has no name or version".into());
    }
    e.files = basenames
        .iter()
        .zip(&dirindexes)
        .filter_map(|(b, &d)| dirnames.get(d as usize).map(|dir| format!("{dir}{b}")))
        .collect();
    Ok(e)
}

/// Every package of an `rpmdb.sqlite` file. Headers that do not parse are
/// reported and skipped.
pub fn parse_rpmdb_sqlite(data: &[u8]) -> Result<(Vec<RpmEntry>, Vec<String>), String> {
    parse_rpmdb_sqlite_wal(data, None)
}

/// [`parse_rpmdb_sqlite`], with the committed pages of its `-wal` file.
pub fn parse_rpmdb_sqlite_wal(
    data: &[u8],
    wal: Option<&[u8]>,
) -> Result<(Vec<RpmEntry>, Vec<String>), String> {
    let db = Database::open_with_wal(data, wal)?;
    let root = db.table_root("Packages")?;
    let mut entries = Vec::new();
    let mut problems = Vec::new();
    for row in db.rows(root)? {
        match row.iter().find_map(|v| {
            if let Value::Blob(b) = v {
                Some(b)
            } else {
                None
            }
        }) {
            Some(blob) => match parse_header(blob) {
                Ok(e) if e.name != "gpg-pubkey" => entries.push(e),
                Ok(_) => {} // imported signing keys are not packages
                Err(err) => problems.push(format!("a package header: {err}; skipped")),
            },
            None => problems.push("a Packages row without a header blob; skipped".into()),
        }
    }
    Ok((entries, problems))
}

/// Every package of a Berkeley DB `Packages` or an ndb `Packages.db` file.
pub fn parse_rpmdb_legacy(data: &[u8], ndb: bool) -> Result<(Vec<RpmEntry>, Vec<String>), String> {
    let (blobs, mut problems) = if ndb {
        super::rpmdb_legacy::ndb_blobs(data)?
    } else {
        super::rpmdb_legacy::bdb_blobs(data)?
    };
    let mut entries = Vec::new();
    for blob in blobs {
        match parse_header(&blob) {
            Ok(e) if e.name != "gpg-pubkey" => entries.push(e),
            Ok(_) => {}
            Err(err) => problems.push(format!("a package header: {err}; skipped")),
        }
    }
    Ok((entries, problems))
}

fn ecosystem(distro: Option<&Distro>) -> Ecosystem {
    vedette_model::os_ecosystem(distro, vedette_model::PackageDb::Rpm)
}

/// The purl syft writes for an rpm.
pub fn purl_for(e: &RpmEntry, distro: Option<&Distro>) -> Option<String> {
    let (namespace, distro_q) = super::distro_purl_parts(distro, "redhat");
    let epoch = e.epoch.map(|x| x.to_string()).unwrap_or_default();
    purl::build(
        "rpm",
        Some(namespace),
        &e.name,
        &e.evr(),
        &[
            ("arch", &e.arch),
            ("distro", &distro_q),
            ("epoch", &epoch),
            ("upstream", &e.source_rpm),
        ],
    )
}

pub struct RpmCataloger;

impl Cataloger for RpmCataloger {
    fn name(&self) -> &'static str {
        "rpm-db"
    }

    fn wants(&self, path: &str) -> bool {
        wants_path(path)
    }

    fn catalog(&self, files: &Files, cx: &Context<'_>) -> Found {
        let mut found = Found::default();
        // The first directory holding a database; in it, the newest format.
        let chosen = DIRS.iter().find_map(|dir| {
            FILES.iter().find_map(|(name, format)| {
                let path = format!("{dir}/{name}");
                files.get(&path).map(|f| (path, *format, f, *dir))
            })
        });
        if let Some((path, format, file, dir)) = chosen {
            let parsed = match format {
                Format::Sqlite => {
                    let wal = files
                        .get(&format!("{dir}/rpmdb.sqlite-wal"))
                        .map(|w| &w.data[..]);
                    parse_rpmdb_sqlite_wal(&file.data, wal)
                }
                Format::Ndb => parse_rpmdb_legacy(&file.data, true),
                Format::Bdb => parse_rpmdb_legacy(&file.data, false),
            };
            let (entries, problems) = match parsed {
                Ok(x) => x,
                Err(e) => {
                    found.unreadable(&path, format!("not a readable rpm database: {e}"));
                    return found;
                }
            };
            // A package the database lists but that cannot be read leaves
            // the inventory incomplete: not a warning to scroll past.
            if let Some(first) = problems.first() {
                found.unreadable(
                    &path,
                    format!(
                        "{} of its entries cannot be read ({first}); {} were read",
                        problems.len(),
                        entries.len()
                    ),
                );
            }
            for p in problems {
                found.warn(&path, p);
            }
            for e in entries {
                let Some(purl) = purl_for(&e, cx.distro) else {
                    continue;
                };
                found
                    .installed_files
                    .extend(e.files.iter().map(|f| (f.clone(), purl.clone())));
                let version = match e.epoch {
                    Some(ep) => format!("{ep}:{}", e.evr()),
                    None => e.evr(),
                };
                // "name-1.2-3.el9.src.rpm" → the source package name.
                let source_name = e
                    .source_rpm
                    .trim_end_matches(".src.rpm")
                    .rsplitn(3, '-')
                    .nth(2)
                    .unwrap_or(&e.name)
                    .to_owned();
                let licenses = if e.license.is_empty() {
                    vec![]
                } else {
                    vec![e.license.clone()]
                };
                // The module stream: `name:stream` of `name:stream:version:context`.
                let module = {
                    let mut parts = e.modularity_label.splitn(3, ':');
                    match (parts.next(), parts.next()) {
                        (Some(n), Some(s)) if !n.is_empty() && !s.is_empty() => {
                            Some(format!("{n}:{s}"))
                        }
                        _ => None,
                    }
                };
                found.packages.push(Package {
                    module,
                    source: Some(SourcePackage {
                        name: source_name,
                        version: version.clone(),
                    }),
                    licenses,
                    ..crate::found_in(
                        &e.name,
                        &version,
                        ecosystem(cx.distro),
                        purl,
                        &path,
                        file,
                        self.name(),
                    )
                });
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rpmdb_made_by_rpm_itself_lists_its_package_with_files() {
        let data = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/testdata/rpm/rpmdb.sqlite"
        ))
        .unwrap();
        let (entries, problems) = parse_rpmdb_sqlite(&data).unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(entries.len(), 1);
        let e = &entries[0];
        assert_eq!(
            (e.name.as_str(), e.evr().as_str(), e.epoch, e.arch.as_str()),
            ("hello-vedette", "1.2.3-4.el9", Some(2), "noarch")
        );
        assert_eq!(e.source_rpm, "hello-vedette-1.2.3-4.el9.src.rpm");
        assert_eq!(e.license, "MIT AND Apache-2.0");
        assert_eq!(e.files, ["/usr/share/hello/README"]);
        let d = Distro {
            id: "rocky".into(),
            version_id: "9.3".into(),
            ..Distro::default()
        };
        assert_eq!(
            purl_for(e, Some(&d)).unwrap(),
            "pkg:rpm/rocky/hello-vedette@1.2.3-4.el9?arch=noarch&distro=rocky-9.3&epoch=2&upstream=hello-vedette-1.2.3-4.el9.src.rpm"
        );
    }

    #[test]
    fn broken_headers_and_databases_are_refused() {
        assert!(parse_header(&[0, 0, 0, 1]).is_err());
        assert!(parse_header(&[0xff; 64]).is_err());
        assert!(parse_rpmdb_sqlite(b"SQLite format 3\0").is_err());
        let data = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/testdata/rpm/rpmdb.sqlite"
        ))
        .unwrap();
        assert!(
            parse_rpmdb_sqlite(&data[..data.len() / 2]).is_err(),
            "a truncated database"
        );
    }
}

//! `/etc/os-release` (and the fallbacks older images carry).

use vedette_model::Distro;

use crate::Files;

const PATHS: [&str; 4] = [
    "/etc/os-release",
    "/usr/lib/os-release",
    "/etc/debian_version",
    "/etc/alpine-release",
];

pub fn wants(path: &str) -> bool {
    PATHS.contains(&path)
}

/// Parses os-release's `KEY=value` lines (values optionally quoted).
pub fn parse_os_release(text: &str) -> Option<Distro> {
    let mut d = Distro::default();
    for line in text.lines() {
        let Some((k, v)) = line.trim().split_once('=') else {
            continue;
        };
        let v = unquote(v.trim());
        match k.trim() {
            "ID" => d.id = v.to_ascii_lowercase(),
            "VERSION_ID" => d.version_id = v,
            "VERSION_CODENAME" => d.version_codename = v,
            "PRETTY_NAME" => d.pretty_name = v,
            "VERSION" => d.version = v,
            _ => {}
        }
    }
    (!d.id.is_empty()).then_some(d)
}

fn unquote(v: &str) -> String {
    let v = v
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .or_else(|| v.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')))
        .unwrap_or(v);
    v.replace("\\\"", "\"").replace("\\\\", "\\")
}

/// The distro of a filesystem view: os-release first, then the release files.
pub fn detect(files: &Files) -> Option<Distro> {
    for p in ["/etc/os-release", "/usr/lib/os-release"] {
        if let Some(d) = files
            .get(p)
            .and_then(|f| std::str::from_utf8(&f.data).ok())
            .and_then(parse_os_release)
        {
            return Some(d);
        }
    }
    let first_line = |p: &str| {
        files
            .get(p)
            .and_then(|f| std::str::from_utf8(&f.data).ok())
            .and_then(|t| t.lines().next())
            .map(|l| l.trim().to_owned())
            .filter(|l| !l.is_empty())
    };
    if let Some(v) = first_line("/etc/alpine-release") {
        return Some(Distro {
            id: "alpine".into(),
            version_id: v,
            ..Distro::default()
        });
    }
    if let Some(v) = first_line("/etc/debian_version") {
        // "12.15" → VERSION_ID 12, as os-release says; "bookworm/sid" has none.
        let major = v.split('.').next().unwrap_or("").to_owned();
        return Some(Distro {
            id: "debian".into(),
            version_id: if major.chars().all(|c| c.is_ascii_digit()) {
                major
            } else {
                String::new()
            },
            ..Distro::default()
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debian_os_release_is_parsed_with_quotes_removed() {
        let d =
            parse_os_release(&crate::shared("fixtures/debian-12-minbase/etc/os-release")).unwrap();
        assert_eq!(
            (
                d.id.as_str(),
                d.version_id.as_str(),
                d.version_codename.as_str()
            ),
            ("debian", "12", "bookworm")
        );
        assert_eq!(d.pretty_name, "Debian GNU/Linux 12 (bookworm)");
    }

    #[test]
    fn empty_or_garbage_gives_no_distro() {
        assert_eq!(parse_os_release(""), None);
        assert_eq!(parse_os_release("\u{0}\u{1}garbage\nNAME\n=x"), None);
    }

    #[test]
    fn release_files_are_the_fallback() {
        let mut f = Files::new();
        f.insert("/etc/debian_version", b"12.15\n".to_vec(), None);
        assert_eq!(detect(&f).unwrap().version_id, "12");
        f.insert("/etc/alpine-release", b"3.23.6\n".to_vec(), None);
        assert_eq!(detect(&f).unwrap().id, "alpine");
    }
}

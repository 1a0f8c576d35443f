use crate::{Cataloger, Context, Files, Found};

/// Name, version and licence from a core-metadata file (METADATA, PKG-INFO):
/// RFC 822 headers up to the first blank line.
pub fn parse_metadata(text: &str) -> Option<(String, String, Vec<String>)> {
    let (mut name, mut version) = (None, None);
    let mut licenses = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            break; // the long description follows
        }
        if line.starts_with([' ', '\t']) {
            continue;
        }
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let v = v.trim();
        match k.trim().to_ascii_lowercase().as_str() {
            "name" => name = Some(v.to_owned()),
            "version" => version = Some(v.to_owned()),
            "license-expression" if !v.is_empty() => licenses = vec![v.to_owned()],
            "license"
                if licenses.is_empty() && !v.is_empty() && v != "UNKNOWN" && v.len() < 100 =>
            {
                licenses.push(v.to_owned())
            }
            _ => {}
        }
    }
    match (name, version) {
        (Some(n), Some(v)) if !n.is_empty() && !v.is_empty() => Some((n, v, licenses)),
        _ => None,
    }
}

fn is_metadata(path: &str) -> bool {
    (path.ends_with("/METADATA") && path.trim_end_matches("/METADATA").ends_with(".dist-info"))
        || (path.ends_with("/PKG-INFO") && path.trim_end_matches("/PKG-INFO").ends_with(".egg-info"))
        // An egg-info can also be a single file.
        || (path.ends_with(".egg-info") && (path.contains("-packages/") || path.contains("/site-packages")))
}

pub struct PythonInstalledCataloger;

impl Cataloger for PythonInstalledCataloger {
    fn name(&self) -> &'static str {
        "python-installed"
    }

    fn wants(&self, path: &str) -> bool {
        is_metadata(path)
    }

    fn catalog(&self, files: &Files, _cx: &Context<'_>) -> Found {
        let mut found = Found::default();
        for (path, file) in files.matching(is_metadata) {
            match parse_metadata(&String::from_utf8_lossy(&file.data)) {
                Some((name, version, licenses)) => {
                    match super::package(&name, &version, path, file, self.name(), licenses) {
                        Some(p) => found.packages.push(p),
                        None => {
                            found.warn(path, format!("cannot form a purl for {name} {version}"))
                        }
                    }
                }
                None => found.warn(
                    path,
                    "no Name and Version headers; not a Python core-metadata file",
                ),
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jinja2_metadata_gives_name_version_and_licence() {
        let (n, v, l) = parse_metadata(&crate::shared(
            "fixtures/lang/app/py/site-packages/Jinja2-2.10.dist-info/METADATA",
        ))
        .unwrap();
        assert_eq!((n.as_str(), v.as_str()), ("Jinja2", "2.10"));
        assert_eq!(l, ["BSD"]);
    }

    #[test]
    fn a_description_header_after_the_blank_line_is_not_read() {
        let m = "Metadata-Version: 2.1\nName: a\nVersion: 1\n\nName: b\nVersion: 2\n";
        assert_eq!(parse_metadata(m).unwrap().0, "a");
        assert_eq!(parse_metadata(""), None);
        assert_eq!(parse_metadata("Name: only-a-name\n"), None);
    }

    #[test]
    fn only_metadata_inside_dist_info_or_egg_info_is_wanted() {
        let c = PythonInstalledCataloger;
        assert!(c.wants("/usr/lib/python3/dist-packages/urllib3-1.26.12.dist-info/METADATA"));
        assert!(c.wants("/app/x.egg-info/PKG-INFO"));
        assert!(c.wants("/usr/lib/python3/dist-packages/foo-1.0.egg-info"));
        assert!(!c.wants("/srv/docs/METADATA"));
    }
}

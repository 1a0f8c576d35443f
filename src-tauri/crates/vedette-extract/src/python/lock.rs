use crate::{Cataloger, Context, Files, Found};

/// `name==version` lines of a requirements file; ranges, URLs, options and
/// includes are not pins and are skipped (what they resolve to is unknown).
pub fn parse_requirements(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut logical = String::new();
    for raw in text.lines() {
        // Backslash continues a line.
        if let Some(s) = raw.strip_suffix('\\') {
            logical.push_str(s);
            continue;
        }
        logical.push_str(raw);
        let line = std::mem::take(&mut logical);
        let line = line.split(" #").next().unwrap_or("").trim();
        if line.is_empty() || line.starts_with(['#', '-']) || line.contains("://") {
            continue;
        }
        // Drop environment markers and hashes: "a==1.0 ; python_version<'3' --hash=…".
        let spec = line.split([';', ' ']).next().unwrap_or("");
        let Some((name, version)) = spec.split_once("==") else {
            continue;
        };
        let name = name.split('[').next().unwrap_or("").trim(); // extras
        let version = version.trim();
        if !name.is_empty() && !version.is_empty() && !version.contains(['*', ',', '=']) {
            out.push((name.to_owned(), version.to_owned()));
        }
    }
    out
}

/// `[[package]]` entries of poetry.lock.
pub fn parse_poetry_lock(text: &str) -> Result<Vec<(String, String)>, String> {
    #[derive(serde::Deserialize)]
    struct Lock {
        #[serde(default)]
        package: Vec<Pkg>,
    }
    #[derive(serde::Deserialize)]
    struct Pkg {
        name: String,
        version: String,
    }
    let lock: Lock =
        toml::from_str(text).map_err(|e| format!("not a poetry.lock: {}", e.message()))?;
    Ok(lock
        .package
        .into_iter()
        .map(|p| (p.name, p.version))
        .collect())
}

/// The `default` and `develop` sections of Pipfile.lock (`"version": "==1.2"`).
pub fn parse_pipfile_lock(text: &str) -> Result<Vec<(String, String)>, String> {
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not a Pipfile.lock: {e}"))?;
    let mut out = Vec::new();
    for section in ["default", "develop"] {
        if let Some(map) = v.get(section).and_then(|s| s.as_object()) {
            for (name, spec) in map {
                if let Some(ver) = spec
                    .get("version")
                    .and_then(|v| v.as_str())
                    .and_then(|v| v.strip_prefix("=="))
                {
                    out.push((name.clone(), ver.to_owned()));
                }
            }
        }
    }
    Ok(out)
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn is_requirements(path: &str) -> bool {
    let f = file_name(path);
    f.ends_with(".txt") && f.starts_with("requirements")
}

pub struct PythonLockCataloger;

impl Cataloger for PythonLockCataloger {
    fn name(&self) -> &'static str {
        "python-lock"
    }

    fn wants(&self, path: &str) -> bool {
        matches!(file_name(path), "poetry.lock" | "Pipfile.lock") || is_requirements(path)
    }

    fn catalog(&self, files: &Files, _cx: &Context<'_>) -> Found {
        crate::lockfiles::catalog_pairs(
            files,
            |p| self.wants(p),
            |path, text| match file_name(path) {
                "poetry.lock" => parse_poetry_lock(text),
                "Pipfile.lock" => parse_pipfile_lock(text),
                _ => Ok(parse_requirements(text)),
            },
            vedette_model::Ecosystem::PyPI,
            |n, v| crate::purl::build("pypi", None, &super::normalize_name(n), v, &[]),
            self.name(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_exact_pins_of_a_requirements_file_are_packages() {
        let pins = parse_requirements(include_str!("../../testdata/python/requirements.txt"));
        assert_eq!(
            pins,
            [
                ("requests", "2.19.0"),
                ("PyYAML", "5.3"),
                ("urllib3", "1.24.1"),
                ("Jinja2", "2.10")
            ]
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
        );
        assert!(parse_requirements("").is_empty());
    }

    #[test]
    fn poetry_and_pipfile_locks_list_their_packages_and_refuse_garbage() {
        let p = parse_poetry_lock(include_str!("../../testdata/python/poetry.lock")).unwrap();
        assert_eq!(
            p,
            [
                ("certifi".to_owned(), "2024.2.2".to_owned()),
                ("idna".to_owned(), "3.6".to_owned())
            ]
        );
        let f = parse_pipfile_lock(include_str!("../../testdata/python/Pipfile.lock")).unwrap();
        assert_eq!(
            f,
            [
                ("requests".to_owned(), "2.31.0".to_owned()),
                ("pytest".to_owned(), "8.0.0".to_owned())
            ]
        );
        assert!(parse_poetry_lock("[[package]\nname=")
            .unwrap_err()
            .contains("poetry.lock"));
        assert!(parse_pipfile_lock("{")
            .unwrap_err()
            .contains("Pipfile.lock"));
        assert_eq!(parse_poetry_lock("").unwrap(), vec![]);
    }
}

/// npm package-lock.json, v1 (`dependencies`, nested) to v3 (`packages`).
/// The root project and linked workspace folders are not dependencies.
pub fn parse_package_lock(text: &str) -> Result<Vec<(String, String)>, String> {
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not a package-lock.json: {e}"))?;
    let mut out = Vec::new();
    if let Some(packages) = v.get("packages").and_then(|p| p.as_object()) {
        for (key, entry) in packages {
            let Some(i) = key.rfind("node_modules/") else {
                continue;
            }; // "" is the root, others are workspaces
            if entry.get("link").and_then(|l| l.as_bool()) == Some(true) {
                continue;
            }
            let name = entry
                .get("name")
                .and_then(|n| n.as_str())
                .unwrap_or(&key[i + "node_modules/".len()..]);
            if let Some(version) = entry.get("version").and_then(|v| v.as_str()) {
                out.push((name.to_owned(), version.to_owned()));
            }
        }
    } else if let Some(deps) = v.get("dependencies").and_then(|d| d.as_object()) {
        fn walk(
            deps: &serde_json::Map<String, serde_json::Value>,
            out: &mut Vec<(String, String)>,
            depth: usize,
        ) {
            if depth > 64 {
                return; // hostile nesting
            }
            for (name, entry) in deps {
                if let Some(version) = entry.get("version").and_then(|v| v.as_str()) {
                    // v1 writes "file:…" or a URL for non-registry dependencies.
                    if !version.contains(':') {
                        out.push((name.clone(), version.to_owned()));
                    }
                }
                if let Some(nested) = entry.get("dependencies").and_then(|d| d.as_object()) {
                    walk(nested, out, depth + 1);
                }
            }
        }
        walk(deps, &mut out, 0);
    } else if !v.is_object() {
        return Err("not a package-lock.json: the top level is not an object".into());
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// yarn.lock, classic (v1: `version "1.2.3"`) and berry (`version: 1.2.3`).
pub fn parse_yarn_lock(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if !line.starts_with(' ') {
            // `"@babel/core@^7.0.0", "@babel/core@npm:^7.1.0":` → @babel/core
            let first = line
                .trim_end_matches(':')
                .split(", ")
                .next()
                .unwrap_or("")
                .trim_matches('"');
            current = match first.strip_prefix('@') {
                Some(rest) => rest.split_once('@').map(|(n, _)| format!("@{n}")),
                None => first.split_once('@').map(|(n, _)| n.to_owned()),
            }
            .filter(|n| !n.is_empty() && n != "__metadata");
            continue;
        }
        let t = line.trim();
        if let (Some(name), Some(v)) = (&current, t.strip_prefix("version")) {
            let v = v.trim_start_matches(':').trim().trim_matches('"');
            // berry marks the workspace itself as 0.0.0-use.local.
            if !v.is_empty() && !v.ends_with("use.local") {
                out.push((name.clone(), v.to_owned()));
            }
            current = None;
        }
    }
    out.sort();
    out.dedup();
    out
}

/// `name/1.2.3_peer@x` (v5) or `name@1.2.3` (v6, v9): whichever separator comes first.
fn split_name_version(key: &str) -> Option<(String, String)> {
    let cut = key.find(['/', '@'])?;
    let (name, version) = (&key[..cut], &key[cut + 1..]);
    let version = if key.as_bytes()[cut] == b'/' {
        version.split('_').next().unwrap_or(version)
    } else {
        version
    };
    Some((name.to_owned(), version.to_owned()))
}

/// pnpm-lock.yaml: `packages` keys `/name/1.2.3` (v5), `/name@1.2.3` (v6),
/// `name@1.2.3` (v9), possibly with a peer suffix `(…)` or `_…`.
pub fn parse_pnpm_lock(text: &str) -> Result<Vec<(String, String)>, String> {
    let v: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(text).map_err(|e| format!("not a pnpm-lock.yaml: {e}"))?;
    let mut out = Vec::new();
    let Some(packages) = v.get("packages").and_then(|p| p.as_mapping()) else {
        return Ok(out);
    };
    for (key, entry) in packages {
        let Some(key) = key.as_str() else { continue };
        let key = key.trim_start_matches('/');
        let key = key.split('(').next().unwrap_or(key);
        let parsed = match key.strip_prefix('@') {
            Some(rest) => rest.split_once('/').and_then(|(scope, rest)| {
                split_name_version(rest).map(|(n, v)| (format!("@{scope}/{n}"), v))
            }),
            None => split_name_version(key),
        };
        let Some((name, version)) = parsed else {
            continue;
        };
        let version = entry
            .get("version")
            .and_then(|v| v.as_str())
            .map(str::to_owned)
            .unwrap_or(version);
        if !name.is_empty() && !version.is_empty() {
            out.push((name, version));
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn package_lock_v3_of_the_lang_fixture_lists_its_three_dependencies() {
        let got =
            parse_package_lock(&crate::shared("fixtures/lang/app/node/package-lock.json")).unwrap();
        assert_eq!(
            got,
            pairs(&[
                ("lodash", "4.17.15"),
                ("minimist", "0.0.8"),
                ("node-fetch", "2.6.0")
            ])
        );
    }

    #[test]
    fn package_lock_v1_nests_dependencies() {
        let got = parse_package_lock(include_str!(
            "../../testdata/javascript/package-lock-v1.json"
        ))
        .unwrap();
        assert_eq!(
            got,
            pairs(&[
                ("@babel/code-frame", "7.0.0"),
                ("js-tokens", "4.0.0"),
                ("lodash", "4.17.21")
            ])
        );
    }

    #[test]
    fn broken_lock_files_are_refused_with_the_format_named() {
        assert!(parse_package_lock("[1,")
            .unwrap_err()
            .contains("package-lock.json"));
        assert!(parse_pnpm_lock("packages: [")
            .unwrap_err()
            .contains("pnpm-lock.yaml"));
        assert_eq!(parse_package_lock("{}").unwrap(), vec![]);
    }

    #[test]
    fn yarn_classic_and_berry_lock_files_give_the_same_packages() {
        let want = pairs(&[("@babel/core", "7.24.0"), ("lodash", "4.17.21")]);
        assert_eq!(
            parse_yarn_lock(include_str!("../../testdata/javascript/yarn-v1.lock")),
            want
        );
        assert_eq!(
            parse_yarn_lock(include_str!("../../testdata/javascript/yarn-berry.lock")),
            want
        );
        assert!(parse_yarn_lock("").is_empty());
    }

    #[test]
    fn pnpm_lock_keys_of_every_version_are_understood() {
        let want = pairs(&[("@babel/core", "7.24.0"), ("lodash", "4.17.21")]);
        for f in ["pnpm-v5.yaml", "pnpm-v6.yaml", "pnpm-v9.yaml"] {
            let text = std::fs::read_to_string(format!(
                "{}/testdata/javascript/{f}",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap();
            assert_eq!(parse_pnpm_lock(&text).unwrap(), want, "{f}");
        }
    }
}

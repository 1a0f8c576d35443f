//! PHP: composer.lock and Composer's installed.json.

use vedette_model::Ecosystem;

use crate::lockfiles::{catalog_pairs, file_name};
use crate::{purl, Cataloger, Context, Files, Found};

/// `packages` and `packages-dev` of composer.lock, or the packages of
/// `vendor/composer/installed.json` (Composer 1: an array; 2: `{packages}`).
pub fn parse_composer(text: &str) -> Result<Vec<(String, String)>, String> {
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not a Composer file: {e}"))?;
    let lists: Vec<&serde_json::Value> = if v.is_array() {
        vec![&v]
    } else {
        vec![&v["packages"], &v["packages-dev"]]
    };
    let mut out = Vec::new();
    for list in lists {
        for p in list.as_array().into_iter().flatten() {
            if let (Some(n), Some(ver)) = (p["name"].as_str(), p["version"].as_str()) {
                out.push((n.to_owned(), ver.to_owned()));
            }
        }
    }
    Ok(out)
}

fn composer_purl(name: &str, version: &str) -> Option<String> {
    let (ns, short) = name.split_once('/').unwrap_or(("", name));
    purl::build("composer", Some(ns), short, version, &[])
}

fn wanted(path: &str) -> bool {
    (file_name(path) == "composer.lock" && !path.contains("/vendor/"))
        || path.ends_with("/vendor/composer/installed.json")
}

pub struct ComposerCataloger;

impl Cataloger for ComposerCataloger {
    fn name(&self) -> &'static str {
        "php-composer"
    }
    fn wants(&self, path: &str) -> bool {
        wanted(path)
    }
    fn catalog(&self, files: &Files, _cx: &Context<'_>) -> Found {
        catalog_pairs(
            files,
            wanted,
            |_, t| parse_composer(t),
            Ecosystem::Packagist,
            composer_purl,
            self.name(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composer_lock_and_both_installed_json_forms_are_read() {
        let lock = parse_composer(include_str!("../../testdata/php/composer.lock")).unwrap();
        assert_eq!(
            lock,
            [
                ("monolog/monolog".to_owned(), "2.9.1".to_owned()),
                ("phpunit/phpunit".to_owned(), "10.0.0".to_owned())
            ]
        );
        assert_eq!(
            parse_composer(r#"[{"name":"a/b","version":"1.0"}]"#)
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            parse_composer(r#"{"packages":[{"name":"a/b","version":"1.0"}]}"#)
                .unwrap()
                .len(),
            1
        );
        assert!(parse_composer("{").is_err());
        assert_eq!(
            composer_purl("monolog/monolog", "2.9.1").unwrap(),
            "pkg:composer/monolog/monolog@2.9.1"
        );
    }
}

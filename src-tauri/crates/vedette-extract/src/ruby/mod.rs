//! RubyGems: installed gem specifications and Gemfile.lock.

use vedette_model::Ecosystem;

use crate::lockfiles::{catalog_pairs, file_name};
use crate::{purl, Cataloger, Context, Files, Found};

/// `name` and `version` of an installed `*.gemspec` (the form RubyGems writes
/// into `specifications/`: `s.name = "rake".freeze`, `s.version = "13.0.6"`).
pub fn parse_gemspec(text: &str) -> Result<Vec<(String, String)>, String> {
    let value = |key: &str| {
        text.lines().find_map(|l| {
            let l = l.trim();
            let rest = l.split_once(&format!(".{key}"))?.1.trim_start();
            let rest = rest.strip_prefix('=')?.trim_start();
            let q = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
            let inner = &rest[1..];
            Some(inner[..inner.find(q)?].to_owned())
        })
    };
    match (value("name"), value("version")) {
        (Some(n), Some(v)) if !n.is_empty() && !v.is_empty() => Ok(vec![(n, v)]),
        _ => Err("no name and version assignments; not a gem specification".into()),
    }
}

/// The `specs:` of the `GEM` sections of a Gemfile.lock (`    rake (13.0.6)`).
pub fn parse_gemfile_lock(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut in_gem = false;
    let mut in_specs = false;
    for line in text.lines() {
        if !line.starts_with(' ') {
            in_gem = line.trim() == "GEM";
            in_specs = false;
            continue;
        }
        if in_gem && line.trim() == "specs:" {
            in_specs = true;
            continue;
        }
        // Four spaces: a gem; six: one of its dependencies.
        if in_specs && line.starts_with("    ") && !line.starts_with("     ") {
            let t = line.trim();
            if let Some((name, rest)) = t.split_once(" (") {
                let version = rest.trim_end_matches(')');
                // "1.15.0-x86_64-linux": the platform is not part of the version.
                let version = version.split_once('-').map(|(v, _)| v).unwrap_or(version);
                out.push((name.to_owned(), version.to_owned()));
            }
        }
    }
    Ok(out)
}

fn gem_purl(name: &str, version: &str) -> Option<String> {
    purl::build("gem", None, name, version, &[])
}

fn is_gemspec(path: &str) -> bool {
    path.ends_with(".gemspec") && path.contains("/specifications/")
}

pub struct RubyCataloger;

impl Cataloger for RubyCataloger {
    fn name(&self) -> &'static str {
        "ruby-gems"
    }

    fn wants(&self, path: &str) -> bool {
        is_gemspec(path) || (file_name(path) == "Gemfile.lock" && !path.contains("/gems/"))
    }

    fn catalog(&self, files: &Files, _cx: &Context<'_>) -> Found {
        let mut found = catalog_pairs(
            files,
            is_gemspec,
            |_, t| parse_gemspec(t),
            Ecosystem::RubyGems,
            gem_purl,
            self.name(),
        );
        let locks = catalog_pairs(
            files,
            |p| file_name(p) == "Gemfile.lock" && !p.contains("/gems/"),
            |_, t| parse_gemfile_lock(t),
            Ecosystem::RubyGems,
            gem_purl,
            self.name(),
        );
        found.extend(locks);
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gemspecs_and_gemfile_locks_give_their_gems() {
        assert_eq!(
            parse_gemspec(include_str!("../../testdata/ruby/rake-13.0.6.gemspec")).unwrap(),
            [("rake".to_owned(), "13.0.6".to_owned())]
        );
        let lock = parse_gemfile_lock(include_str!("../../testdata/ruby/Gemfile.lock")).unwrap();
        let got: Vec<String> = lock.iter().map(|(n, v)| format!("{n}@{v}")).collect();
        assert_eq!(got, ["actionpack@7.0.4", "nokogiri@1.15.0", "rack@2.2.6"]);
        assert!(parse_gemspec("# nothing").is_err());
        assert!(parse_gemfile_lock("").unwrap().is_empty());
    }
}

//! Composer (Packagist) versions: normalised as Composer's `VersionParser`
//! does (a leading `v` dropped, four numeric parts, stability suffixes
//! spelled out), then ordered by PHP's `version_compare`.

use std::cmp::Ordering;

#[derive(Debug, Clone)]
pub struct Version {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Num(u128),
    Special(i32, String),
}

/// PHP's order of special forms: any other string < dev < alpha = a <
/// beta = b < RC = rc < # (a number) < pl = p.
fn special(s: &str) -> i32 {
    match s {
        "dev" => 0,
        "alpha" | "a" => 1,
        "beta" | "b" => 2,
        "rc" => 3,
        "#" => 4,
        "pl" | "p" | "patch" => 5,
        _ => -6,
    }
}

impl Version {
    pub(crate) fn parse(s: &str) -> Result<Self, &'static str> {
        let mut v = s.trim().to_ascii_lowercase();
        if let Some(rest) = v.strip_prefix('v') {
            v = rest.to_owned();
        }
        if v.starts_with("dev-") {
            return Err("a branch (dev-…) has no order");
        }
        let v = v.split('+').next().unwrap_or("").to_owned();
        if v.is_empty() || !v.starts_with(|c: char| c.is_ascii_digit()) {
            return Err("does not start with a digit");
        }
        // Split off the numeric core and pad it to four parts.
        let core_end = v
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(v.len());
        let core = v[..core_end].trim_end_matches('.');
        let mut parts: Vec<Part> = Vec::new();
        for n in core.split('.') {
            parts.push(Part::Num(n.parse().map_err(|_| "bad number")?));
        }
        if parts.len() > 4 {
            return Err("more than four numeric parts");
        }
        while parts.len() < 4 {
            parts.push(Part::Num(0));
        }
        // The rest, canonicalised like version_compare: separators become
        // dots, and a change between digits and letters splits.
        let rest = &v[core_end..];
        let mut token = String::new();
        let mut last: Option<bool> = None; // Some(is_digit)
        let flush = |token: &mut String, parts: &mut Vec<Part>| {
            if token.is_empty() {
                return;
            }
            let p = if token.chars().all(|c| c.is_ascii_digit()) {
                Part::Num(token.parse().unwrap_or(u128::MAX))
            } else {
                let t = match token.as_str() {
                    "stable" => String::new(),
                    other => other.to_owned(),
                };
                if t.is_empty() {
                    token.clear();
                    return;
                }
                Part::Special(special(&t), t)
            };
            parts.push(p);
            token.clear();
        };
        for c in rest.chars() {
            if c == '.' || c == '-' || c == '_' || c == '+' {
                flush(&mut token, &mut parts);
                last = None;
                continue;
            }
            if !c.is_ascii_alphanumeric() {
                return Err("invalid character");
            }
            let d = c.is_ascii_digit();
            if last.is_some_and(|l| l != d) {
                flush(&mut token, &mut parts);
            }
            token.push(c);
            last = Some(d);
        }
        flush(&mut token, &mut parts);
        Ok(Version { parts })
    }
}

fn cmp_part(a: &Part, b: &Part) -> Ordering {
    match (a, b) {
        (Part::Num(x), Part::Num(y)) => x.cmp(y),
        (Part::Num(_), Part::Special(s, _)) => special("#").cmp(s),
        (Part::Special(s, _), Part::Num(_)) => s.cmp(&special("#")),
        (Part::Special(x, _), Part::Special(y, _)) => x.cmp(y),
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        for (a, b) in self.parts.iter().zip(&other.parts) {
            match cmp_part(a, b) {
                Ordering::Equal => {}
                o => return o,
            }
        }
        // One ran out: the other's next part decides, against PHP's "#".
        let (longer, flip) = match self.parts.len().cmp(&other.parts.len()) {
            Ordering::Equal => return Ordering::Equal,
            Ordering::Greater => (&self.parts[other.parts.len()], false),
            Ordering::Less => (&other.parts[self.parts.len()], true),
        };
        let o = match longer {
            Part::Num(_) => Ordering::Greater,
            Part::Special(s, _) => s.cmp(&special("#")),
        };
        if flip {
            o.reverse()
        } else {
            o
        }
    }
}
crate::total_order!(Version);

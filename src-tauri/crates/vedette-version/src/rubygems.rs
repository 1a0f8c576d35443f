//! RubyGems' `Gem::Version`: segments of digits or letters; a `-` reads as
//! `.pre.`; letters mark a pre-release and sort before numbers; trailing
//! zeros of the release and of the pre-release part do not count.

use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Num(u128),
    Str(String),
}

#[derive(Debug, Clone)]
pub struct Version {
    canonical: Vec<Seg>,
}

impl Version {
    pub(crate) fn parse(s: &str) -> Result<Self, &'static str> {
        // Gem::Version::ANCHORED_VERSION_PATTERN: [0-9]+(\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?
        let ok = s.starts_with(|c: char| c.is_ascii_digit())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
        if !ok {
            return Err("not a RubyGems version");
        }
        let s = s.replace('-', ".pre.");
        let mut segs = Vec::new();
        let b = s.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i].is_ascii_digit() {
                let st = i;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                segs.push(Seg::Num(s[st..i].parse().map_err(|_| "number too large")?));
            } else if b[i].is_ascii_alphabetic() {
                let st = i;
                while i < b.len() && b[i].is_ascii_alphabetic() {
                    i += 1;
                }
                segs.push(Seg::Str(s[st..i].to_owned()));
            } else {
                i += 1;
            }
        }
        let split = segs
            .iter()
            .position(|s| matches!(s, Seg::Str(_)))
            .unwrap_or(segs.len());
        let (release, pre) = segs.split_at(split);
        let trim = |p: &[Seg]| {
            let mut v = p.to_vec();
            while v.last() == Some(&Seg::Num(0)) {
                v.pop();
            }
            v
        };
        let mut canonical = trim(release);
        canonical.extend(trim(pre));
        Ok(Version { canonical })
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        let n = self.canonical.len().max(other.canonical.len());
        let zero = Seg::Num(0);
        for i in 0..n {
            let a = self.canonical.get(i).unwrap_or(&zero);
            let b = other.canonical.get(i).unwrap_or(&zero);
            let o = match (a, b) {
                (Seg::Num(x), Seg::Num(y)) => x.cmp(y),
                (Seg::Str(x), Seg::Str(y)) => x.cmp(y),
                (Seg::Str(_), Seg::Num(_)) => Ordering::Less,
                (Seg::Num(_), Seg::Str(_)) => Ordering::Greater,
            };
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    }
}
crate::total_order!(Version);

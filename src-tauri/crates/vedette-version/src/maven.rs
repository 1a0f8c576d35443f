//! Maven's `ComparableVersion` (maven-artifact 3.8): items separated by `.`
//! and `-` (and at digit/letter changes), `-` opening a sub-list; known
//! qualifiers ordered alpha < beta < milestone < rc < snapshot < release < sp,
//! unknown ones after them alphabetically; trailing "null" items dropped.
//!
//! In Maven a sub-list is always the last item of its parent (every later
//! item goes into the newest list), so the nesting is a chain. It is kept
//! here as a flat list of segments, each the next one's parent: parsing,
//! comparing and dropping a version never recurse, however many `-` a
//! hostile `pom.properties` puts in it.

use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Leaf {
    Int(Vec<u8>), // digits without leading zeros: compared by length, then bytes
    Str(String),
}

/// One item of a list: a leaf, or the sub-list that is the next segment.
#[derive(Clone, Copy)]
enum Item<'a> {
    Leaf(&'a Leaf),
    List,
}

#[derive(Debug, Clone)]
pub struct Version {
    /// Segment 0 is the root list; segment `k + 1`, when there is one, is the
    /// last item of segment `k`.
    segments: Vec<Vec<Leaf>>,
}

const QUALIFIERS: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];
const RELEASE_INDEX: &str = "5";

fn comparable_qualifier(q: &str) -> String {
    match QUALIFIERS.iter().position(|x| *x == q) {
        Some(i) => i.to_string(),
        None => format!("{}-{q}", QUALIFIERS.len()),
    }
}

fn string_item(value: &str, followed_by_digit: bool) -> Leaf {
    let mut v = value;
    if followed_by_digit && v.len() == 1 {
        v = match v {
            "a" => "alpha",
            "b" => "beta",
            "m" => "milestone",
            other => other,
        };
    }
    let v = match v {
        "ga" | "final" | "release" => "",
        "cr" => "rc",
        other => other,
    };
    Leaf::Str(v.to_owned())
}

fn int_item(digits: &str) -> Leaf {
    let t = digits.trim_start_matches('0');
    Leaf::Int(t.as_bytes().to_vec())
}

fn parse_item(is_digit: bool, buf: &str) -> Leaf {
    if is_digit {
        int_item(buf)
    } else {
        string_item(buf, false)
    }
}

impl Leaf {
    fn is_null(&self) -> bool {
        match self {
            Leaf::Int(d) => d.is_empty(),
            Leaf::Str(s) => comparable_qualifier(s) == RELEASE_INDEX,
        }
    }

    /// Maven's `compareTo` of a number or qualifier with an item, or with
    /// nothing (`None`: the other list is shorter).
    fn cmp_item(&self, other: Option<Item<'_>>) -> Ordering {
        match (self, other) {
            (Leaf::Int(d), None) => {
                if d.is_empty() {
                    Ordering::Equal
                } else {
                    Ordering::Greater
                }
            }
            (Leaf::Int(a), Some(Item::Leaf(Leaf::Int(b)))) => {
                a.len().cmp(&b.len()).then_with(|| a.cmp(b))
            }
            (Leaf::Int(_), Some(_)) => Ordering::Greater,
            (Leaf::Str(s), None) => comparable_qualifier(s).as_str().cmp(RELEASE_INDEX),
            (Leaf::Str(_), Some(Item::Leaf(Leaf::Int(_)))) => Ordering::Less,
            (Leaf::Str(a), Some(Item::Leaf(Leaf::Str(b)))) => {
                comparable_qualifier(a).cmp(&comparable_qualifier(b))
            }
            (Leaf::Str(_), Some(Item::List)) => Ordering::Less,
        }
    }
}

impl Version {
    /// Item `i` of segment `k`: its leaves, then the next segment as a list.
    fn item(&self, k: usize, i: usize) -> Option<Item<'_>> {
        let leaves = &self.segments[k];
        match leaves.get(i) {
            Some(l) => Some(Item::Leaf(l)),
            None if i == leaves.len() && k + 1 < self.segments.len() => Some(Item::List),
            None => None,
        }
    }

    fn len(&self, k: usize) -> usize {
        self.segments[k].len() + usize::from(k + 1 < self.segments.len())
    }

    /// A list (from segment `k` on) compared with nothing: its first item
    /// that is not null decides.
    fn cmp_rest_with_nothing(&self, from: usize) -> Ordering {
        for seg in &self.segments[from..] {
            for leaf in seg {
                match leaf.cmp_item(None) {
                    Ordering::Equal => {}
                    o => return o,
                }
            }
        }
        Ordering::Equal
    }

    pub(crate) fn parse(s: &str) -> Self {
        let v = s.to_lowercase();
        let mut segments: Vec<Vec<Leaf>> = vec![Vec::new()];
        let mut is_digit = false;
        let mut start = 0;
        for (i, c) in v.char_indices() {
            let top = segments.len() - 1;
            if c == '.' {
                if i == start {
                    segments[top].push(Leaf::Int(Vec::new()));
                } else {
                    segments[top].push(parse_item(is_digit, &v[start..i]));
                }
                start = i + 1;
            } else if c == '-' {
                if i == start {
                    segments[top].push(Leaf::Int(Vec::new()));
                } else {
                    segments[top].push(parse_item(is_digit, &v[start..i]));
                }
                start = i + 1;
                segments.push(Vec::new());
            } else if c.is_ascii_digit() {
                if !is_digit && i > start {
                    segments[top].push(string_item(&v[start..i], true));
                    start = i;
                    segments.push(Vec::new());
                }
                is_digit = true;
            } else {
                if is_digit && i > start {
                    segments[top].push(parse_item(true, &v[start..i]));
                    start = i;
                    segments.push(Vec::new());
                }
                is_digit = false;
            }
        }
        if v.len() > start {
            let top = segments.len() - 1;
            segments[top].push(parse_item(is_digit, &v[start..]));
        }
        // Close the lists from the innermost out, as Maven does: drop the
        // trailing null items of each (stepping over a sub-list that is not
        // empty); an empty list is itself a null item of its parent.
        let mut k = segments.len();
        while k > 0 {
            k -= 1;
            let has_child = k + 1 < segments.len();
            let seg = &mut segments[k];
            while seg.last().is_some_and(Leaf::is_null) {
                seg.pop();
            }
            if seg.is_empty() && !has_child && k > 0 {
                segments.truncate(k);
            }
        }
        Version { segments }
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        // Walk both chains together; a list only ever sits last, so after
        // stepping into the sub-lists nothing is left at this level.
        let mut k = 0;
        loop {
            let n = self.len(k).max(other.len(k));
            let mut descend = false;
            for i in 0..n {
                let o = match (self.item(k, i), other.item(k, i)) {
                    (None, None) => Ordering::Equal,
                    (Some(Item::List), Some(Item::List)) => {
                        descend = true;
                        break;
                    }
                    (Some(Item::Leaf(l)), r) => l.cmp_item(r),
                    (None, Some(Item::Leaf(r))) => r.cmp_item(None).reverse(),
                    (Some(Item::List), None) => self.cmp_rest_with_nothing(k + 1),
                    (None, Some(Item::List)) => other.cmp_rest_with_nothing(k + 1).reverse(),
                    (Some(Item::List), Some(Item::Leaf(Leaf::Int(_)))) => Ordering::Less,
                    (Some(Item::List), Some(Item::Leaf(Leaf::Str(_)))) => Ordering::Greater,
                };
                if o != Ordering::Equal {
                    return o;
                }
            }
            if !descend {
                return Ordering::Equal;
            }
            k += 1;
        }
    }
}
crate::total_order!(Version);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_of_a_hundred_thousand_dashes_parses_and_compares_without_recursion() {
        // Run on a thread with a small stack: a recursive parse, compare or
        // drop of 100,000 nested lists would overflow it.
        let t = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(|| {
                let long = "1-".repeat(100_000);
                let a = Version::parse(&long);
                let b = Version::parse(&format!("{long}1"));
                assert_eq!(a.cmp(&b), Ordering::Less);
                assert_eq!(a.cmp(&a.clone()), Ordering::Equal);
                let c = Version::parse(&"a1".repeat(50_000));
                assert_ne!(c.cmp(&a), Ordering::Equal);
            })
            .unwrap();
        t.join().unwrap();
    }
}

//! Maven's `ComparableVersion` (maven-artifact 3.8): items separated by `.`
//! and `-` (and at digit/letter changes), `-` opening a sub-list; known
//! qualifiers ordered alpha < beta < milestone < rc < snapshot < release < sp,
//! unknown ones after them alphabetically; trailing "null" items dropped.

use std::cmp::Ordering;

#[derive(Debug, Clone)]
enum Item {
    Int(Vec<u8>), // digits without leading zeros: compared by length, then bytes
    Str(String),
    List(Vec<Item>),
}

#[derive(Debug, Clone)]
pub struct Version {
    items: Vec<Item>,
}

const QUALIFIERS: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];
const RELEASE_INDEX: &str = "5";

fn comparable_qualifier(q: &str) -> String {
    match QUALIFIERS.iter().position(|x| *x == q) {
        Some(i) => i.to_string(),
        None => format!("{}-{q}", QUALIFIERS.len()),
    }
}

fn string_item(value: &str, followed_by_digit: bool) -> Item {
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
    Item::Str(v.to_owned())
}

fn int_item(digits: &str) -> Item {
    let t = digits.trim_start_matches('0');
    Item::Int(t.as_bytes().to_vec())
}

fn parse_item(is_digit: bool, buf: &str) -> Item {
    if is_digit {
        int_item(buf)
    } else {
        string_item(buf, false)
    }
}

impl Item {
    fn is_null(&self) -> bool {
        match self {
            Item::Int(d) => d.is_empty(),
            Item::Str(s) => comparable_qualifier(s) == RELEASE_INDEX,
            Item::List(l) => l.is_empty(),
        }
    }

    fn cmp_item(&self, other: Option<&Item>) -> Ordering {
        match (self, other) {
            (Item::Int(d), None) => {
                if d.is_empty() {
                    Ordering::Equal
                } else {
                    Ordering::Greater
                }
            }
            (Item::Int(a), Some(Item::Int(b))) => a.len().cmp(&b.len()).then_with(|| a.cmp(b)),
            (Item::Int(_), Some(_)) => Ordering::Greater,
            (Item::Str(s), None) => comparable_qualifier(s).as_str().cmp(RELEASE_INDEX),
            (Item::Str(_), Some(Item::Int(_))) => Ordering::Less,
            (Item::Str(a), Some(Item::Str(b))) => {
                comparable_qualifier(a).cmp(&comparable_qualifier(b))
            }
            (Item::Str(_), Some(Item::List(_))) => Ordering::Less,
            (Item::List(l), None) => {
                for i in l {
                    match i.cmp_item(None) {
                        Ordering::Equal => {}
                        o => return o,
                    }
                }
                Ordering::Equal
            }
            (Item::List(_), Some(Item::Int(_))) => Ordering::Less,
            (Item::List(_), Some(Item::Str(_))) => Ordering::Greater,
            (Item::List(a), Some(Item::List(b))) => cmp_lists(a, b),
        }
    }
}

fn cmp_lists(a: &[Item], b: &[Item]) -> Ordering {
    let n = a.len().max(b.len());
    for i in 0..n {
        let o = match (a.get(i), b.get(i)) {
            (None, None) => Ordering::Equal,
            (None, Some(r)) => r.cmp_item(None).reverse(),
            (Some(l), r) => l.cmp_item(r),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

fn normalize(list: &mut Vec<Item>) {
    // From the end: drop null items, step over non-null sub-lists, stop at
    // the first non-null number or qualifier.
    let mut i = list.len();
    while i > 0 {
        i -= 1;
        if list[i].is_null() {
            list.remove(i);
        } else if !matches!(list[i], Item::List(_)) {
            break;
        }
    }
}

impl Version {
    pub(crate) fn parse(s: &str) -> Self {
        let v = s.to_lowercase();
        // A stack of lists; index 0 is the root. Each pushed list is attached
        // to its parent when it is closed (at the end), as Java's references do.
        let mut stack: Vec<Vec<Item>> = vec![Vec::new()];
        let mut is_digit = false;
        let mut start = 0;
        let chars: Vec<(usize, char)> = v.char_indices().collect();
        for &(i, c) in &chars {
            if c == '.' {
                let top = stack.last_mut().expect("root list");
                if i == start {
                    top.push(Item::Int(Vec::new()));
                } else {
                    top.push(parse_item(is_digit, &v[start..i]));
                }
                start = i + 1;
            } else if c == '-' {
                let top = stack.last_mut().expect("root list");
                if i == start {
                    top.push(Item::Int(Vec::new()));
                } else {
                    top.push(parse_item(is_digit, &v[start..i]));
                }
                start = i + 1;
                stack.push(Vec::new());
            } else if c.is_ascii_digit() {
                if !is_digit && i > start {
                    let top = stack.last_mut().expect("root list");
                    top.push(string_item(&v[start..i], true));
                    start = i;
                    stack.push(Vec::new());
                }
                is_digit = true;
            } else {
                if is_digit && i > start {
                    let top = stack.last_mut().expect("root list");
                    top.push(parse_item(true, &v[start..i]));
                    start = i;
                    stack.push(Vec::new());
                }
                is_digit = false;
            }
        }
        if v.len() > start {
            let top = stack.last_mut().expect("root list");
            top.push(parse_item(is_digit, &v[start..]));
        }
        // Close the lists from the innermost out: normalise each, then
        // attach it to its parent.
        while stack.len() > 1 {
            let mut inner = stack.pop().expect("inner list");
            normalize(&mut inner);
            stack.last_mut().expect("parent").push(Item::List(inner));
        }
        let mut items = stack.pop().unwrap_or_default();
        normalize(&mut items);
        Version { items }
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_lists(&self.items, &other.items)
    }
}
crate::total_order!(Version);

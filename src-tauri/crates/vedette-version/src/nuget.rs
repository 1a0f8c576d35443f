//! NuGet versions: up to four numeric parts, then SemVer 2.0 pre-release
//! labels compared without regard to case; metadata after `+` does not order.

use std::cmp::Ordering;

#[derive(Debug, Clone)]
pub struct Version {
    nums: [u64; 4],
    pre: Vec<String>,
}

impl Version {
    pub(crate) fn parse(s: &str) -> Result<Self, &'static str> {
        let s = s.split('+').next().unwrap_or(s);
        let (core, pre) = match s.split_once('-') {
            Some((c, p)) => (c, Some(p)),
            None => (s, None),
        };
        let mut nums = [0u64; 4];
        let parts: Vec<&str> = core.split('.').collect();
        if parts.len() > 4 {
            return Err("more than four numeric parts");
        }
        for (i, p) in parts.iter().enumerate() {
            nums[i] = p.parse().map_err(|_| "a numeric part is not a number")?;
        }
        let pre = match pre {
            Some(p) => {
                let labels: Vec<String> = p.split('.').map(str::to_owned).collect();
                if labels.iter().any(|l| {
                    l.is_empty() || !l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                }) {
                    return Err("invalid pre-release label");
                }
                labels
            }
            None => Vec::new(),
        };
        Ok(Version { nums, pre })
    }
}

fn cmp_label(a: &str, b: &str) -> Ordering {
    match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        (Ok(_), Err(_)) => Ordering::Less,
        (Err(_), Ok(_)) => Ordering::Greater,
        _ => a.to_ascii_lowercase().cmp(&b.to_ascii_lowercase()),
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.nums
            .cmp(&other.nums)
            .then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                _ => {
                    for (a, b) in self.pre.iter().zip(&other.pre) {
                        match cmp_label(a, b) {
                            Ordering::Equal => {}
                            o => return o,
                        }
                    }
                    self.pre.len().cmp(&other.pre.len())
                }
            })
    }
}
crate::total_order!(Version);

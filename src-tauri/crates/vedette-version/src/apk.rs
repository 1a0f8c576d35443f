//! apk versions (`digit{.digit}...{letter}{_suffix{#}}...{~hash}{-r#}`),
//! compared token by token as apk-tools does: numbers numerically (as text
//! when either has a leading zero), one letter, `_alpha` < `_beta` < `_pre` <
//! `_rc` < (none) < `_cvs` < `_svn` < `_git` < `_hg` < `_p`, a commit hash,
//! then `-rN`.

use std::cmp::Ordering;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    InitialDigit,
    Digit,
    Letter,
    Suffix,
    SuffixNo,
    CommitHash,
    RevisionNo,
    End,
    Invalid,
}

const SUFFIXES: [&str; 10] = [
    "alpha", "beta", "pre", "rc", "", "cvs", "svn", "git", "hg", "p",
];
const SUFFIX_NONE: usize = 4;

#[derive(Debug, Clone, Copy)]
struct Token<'a> {
    kind: Kind,
    text: &'a [u8],
    number: u64,
    suffix: usize,
}

struct Lexer<'a> {
    rest: &'a [u8],
    tok: Token<'a>,
}

impl<'a> Lexer<'a> {
    fn new(s: &'a str) -> Self {
        let mut l = Lexer {
            rest: s.as_bytes(),
            tok: Token {
                kind: Kind::InitialDigit,
                text: b"",
                number: 0,
                suffix: SUFFIX_NONE,
            },
        };
        l.digits(Kind::InitialDigit);
        l
    }

    fn digits(&mut self, kind: Kind) {
        let n = self.rest.iter().take_while(|c| c.is_ascii_digit()).count();
        let (d, rest) = self.rest.split_at(n);
        self.rest = rest;
        self.tok.text = d;
        self.tok.number = d.iter().fold(0u64, |v, c| {
            v.saturating_mul(10).saturating_add(u64::from(c - b'0'))
        });
        self.tok.kind = if n == 0 { Kind::Invalid } else { kind };
    }

    fn advance(&mut self) {
        let prev = self.tok.kind;
        let Some(&c) = self.rest.first() else {
            self.tok.kind = Kind::End;
            return;
        };
        match c {
            b'a'..=b'z' if prev <= Kind::Digit => {
                self.tok.text = &self.rest[..1];
                self.tok.kind = Kind::Letter;
                self.rest = &self.rest[1..];
            }
            b'.' if prev <= Kind::Digit => {
                self.rest = &self.rest[1..];
                self.digits(Kind::Digit);
            }
            b'0'..=b'9' if prev <= Kind::Digit => self.digits(Kind::Digit),
            b'0'..=b'9' if prev == Kind::Suffix => self.digits(Kind::SuffixNo),
            b'_' if prev <= Kind::SuffixNo => {
                self.rest = &self.rest[1..];
                let n = self
                    .rest
                    .iter()
                    .take_while(|c| c.is_ascii_lowercase())
                    .count();
                let (name, rest) = self.rest.split_at(n);
                self.rest = rest;
                self.tok.text = name;
                match SUFFIXES
                    .iter()
                    .position(|s| !s.is_empty() && s.as_bytes() == name)
                {
                    Some(i) => {
                        self.tok.suffix = i;
                        self.tok.kind = Kind::Suffix;
                    }
                    None => self.tok.kind = Kind::Invalid,
                }
            }
            b'~' if prev < Kind::CommitHash => {
                self.rest = &self.rest[1..];
                let n = self
                    .rest
                    .iter()
                    .take_while(|c| c.is_ascii_hexdigit())
                    .count();
                let (hash, rest) = self.rest.split_at(n);
                self.rest = rest;
                self.tok.text = hash;
                self.tok.kind = if n == 0 {
                    Kind::Invalid
                } else {
                    Kind::CommitHash
                };
            }
            b'-' if prev < Kind::RevisionNo && self.rest.starts_with(b"-r") => {
                self.rest = &self.rest[2..];
                self.digits(Kind::RevisionNo);
            }
            _ => self.tok.kind = Kind::Invalid,
        }
    }
}

fn text_order(a: &[u8], b: &[u8]) -> Ordering {
    let n = a.len().min(b.len());
    a[..n].cmp(&b[..n]).then(a.len().cmp(&b.len()))
}

fn token_cmp(a: &Token<'_>, b: &Token<'_>) -> Ordering {
    match a.kind {
        Kind::Digit if a.text.first() == Some(&b'0') || b.text.first() == Some(&b'0') => {
            text_order(a.text, b.text)
        }
        Kind::Digit | Kind::InitialDigit | Kind::SuffixNo | Kind::RevisionNo => {
            a.number.cmp(&b.number)
        }
        Kind::Letter => a.text.cmp(b.text),
        Kind::Suffix => a.suffix.cmp(&b.suffix),
        _ => text_order(a.text, b.text),
    }
}

fn compare(a: &str, b: &str) -> Ordering {
    let mut la = Lexer::new(a);
    let mut lb = Lexer::new(b);
    while la.tok.kind == lb.tok.kind && la.tok.kind < Kind::End {
        match token_cmp(&la.tok, &lb.tok) {
            Ordering::Equal => {}
            o => return o,
        }
        la.advance();
        lb.advance();
    }
    let (ta, tb) = (la.tok, lb.tok);
    if ta.kind == tb.kind {
        return Ordering::Equal;
    }
    // Equal so far: the longer one is newer, unless it goes on with a
    // pre-release suffix.
    if ta.kind == Kind::Suffix && ta.suffix < SUFFIX_NONE {
        return Ordering::Less;
    }
    if tb.kind == Kind::Suffix && tb.suffix < SUFFIX_NONE {
        return Ordering::Greater;
    }
    tb.kind.cmp(&ta.kind)
}

#[derive(Debug, Clone)]
pub struct Version {
    raw: String,
}

impl Version {
    pub(crate) fn parse(s: &str) -> Result<Self, &'static str> {
        let mut l = Lexer::new(s);
        while l.tok.kind < Kind::End {
            l.advance();
        }
        if l.tok.kind == Kind::Invalid {
            return Err("not an apk version (digits, then .digits, a letter, _suffix, ~hash, -rN)");
        }
        Ok(Version { raw: s.to_owned() })
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        compare(&self.raw, &other.raw)
    }
}
crate::total_order!(Version);

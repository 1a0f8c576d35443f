//! Text from targets (package names, paths, versions come from images and
//! hosts other people control) made safe for where it is shown.

use std::borrow::Cow;

/// For a terminal: control characters (escape sequences that move the
/// cursor, retitle the window or hide text) are shown escaped (`\u{1b}`),
/// never interpreted. Newlines and tabs are kept when `lines` is set.
pub fn printable(s: &str, lines: bool) -> Cow<'_, str> {
    let bad = |c: char| c.is_control() && !(lines && (c == '\n' || c == '\t'));
    if !s.chars().any(bad) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if bad(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// For a freedesktop notification body (which servers may read as markup):
/// `&`, `<`, `>` and quotes as entities, control characters dropped.
pub fn markup_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_are_shown_not_run() {
        assert_eq!(printable("libc6", false), "libc6");
        assert_eq!(
            printable("evil\u{1b}]0;pwned\u{7}\u{1b}[2J", false),
            "evil\\u{1b}]0;pwned\\u{7}\\u{1b}[2J"
        );
        assert_eq!(printable("a\nb", true), "a\nb");
        assert_eq!(printable("a\nb", false), "a\\nb");
    }

    #[test]
    fn markup_is_escaped_for_notifications() {
        assert_eq!(
            markup_escape("<b>pkg</b> & \"x\""),
            "&lt;b&gt;pkg&lt;/b&gt; &amp; &quot;x&quot;"
        );
        assert_eq!(markup_escape("a\u{1b}b"), "ab");
    }
}

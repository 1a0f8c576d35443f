//! URLs users give (a feed mirror, an enrichment source) may carry a user
//! name and password (`https://ada:token@mirror.example/osv`). Vedette keeps
//! secrets only in the keyring: the userinfo is taken out of the URL before
//! the URL is logged, stored, reported or shown.

use crate::Sensitive;

/// The user name and password a URL carried.
#[derive(Debug, Clone)]
pub struct UrlCredential {
    pub username: String,
    pub password: Sensitive<String>,
}

/// `https://ada:tok@mirror.example/osv` → (`https://mirror.example/osv`,
/// the credential). A URL without userinfo comes back as it was.
pub fn strip_userinfo(url: &str) -> (String, Option<UrlCredential>) {
    let Some(scheme_end) = url.find("://") else {
        return (url.to_owned(), None);
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let Some(at) = authority.rfind('@') else {
        return (url.to_owned(), None);
    };
    let (user, password) = authority[..at]
        .split_once(':')
        .unwrap_or((&authority[..at], ""));
    let stripped = format!(
        "{}{}{}",
        &url[..scheme_end + 3],
        &authority[at + 1..],
        &rest[authority_end..]
    );
    (
        stripped,
        Some(UrlCredential {
            username: percent_decode(user),
            password: Sensitive::new(percent_decode(password)),
        }),
    )
}

/// `https://mirror.example:8443/osv/x` → `https://mirror.example:8443`
/// (scheme and host lower-cased, userinfo left out); `None` for what is not
/// an http(s) URL.
pub fn url_origin(url: &str) -> Option<String> {
    let (stripped, _) = strip_userinfo(url.trim());
    let (scheme, rest) = stripped.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let host = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    if host.is_empty() {
        return None;
    }
    Some(format!("{scheme}://{}", host.to_ascii_lowercase()))
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_is_taken_out_of_a_url_and_kept_apart() {
        let (u, c) = strip_userinfo("https://ada:t%40ken@mirror.example:8443/osv?x=1");
        assert_eq!(u, "https://mirror.example:8443/osv?x=1");
        let c = c.unwrap();
        assert_eq!(c.username, "ada");
        assert_eq!(c.password.expose(), "t@ken");
        assert!(!format!("{c:?}").contains("ken"), "the secret never prints");
        let (u, c) = strip_userinfo("https://mirror.example/a@b");
        assert_eq!(
            u, "https://mirror.example/a@b",
            "an @ in the path is not userinfo"
        );
        assert!(c.is_none());
        let (u, c) = strip_userinfo("http://token@127.0.0.1:9/osv");
        assert_eq!(u, "http://127.0.0.1:9/osv");
        assert_eq!(c.unwrap().password.expose(), "");
    }

    #[test]
    fn origins_are_scheme_and_host() {
        assert_eq!(
            url_origin("HTTPS://Mirror.Example:8443/osv/Debian/all.zip").as_deref(),
            Some("https://mirror.example:8443")
        );
        assert_eq!(
            url_origin("https://ada:x@mirror.example").as_deref(),
            Some("https://mirror.example")
        );
        assert_eq!(url_origin("file:///tmp/x"), None);
        assert_eq!(url_origin("mirror.example"), None);
    }
}

//! Package URLs in the form syft and trivy write them (qualifiers sorted).

use packageurl::PackageUrl;

/// Builds a purl; `None` when a part is refused by the purl grammar (the
/// caller then records a warning instead of a broken purl).
pub fn build(
    ty: &str,
    namespace: Option<&str>,
    name: &str,
    version: &str,
    qualifiers: &[(&str, &str)],
) -> Option<String> {
    let mut p = PackageUrl::new(ty.to_owned(), name.to_owned()).ok()?;
    if let Some(ns) = namespace.filter(|n| !n.is_empty()) {
        p.with_namespace(ns.to_owned()).ok()?;
    }
    if !version.is_empty() {
        p.with_version(version.to_owned()).ok()?;
    }
    for (k, v) in qualifiers {
        if !v.is_empty() {
            p.add_qualifier(k.to_string(), v.to_string()).ok()?;
        }
    }
    Some(p.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qualifiers_are_sorted_and_plus_signs_encoded_as_syft_does() {
        assert_eq!(
            build(
                "deb",
                Some("debian"),
                "bsdutils",
                "1:2.38.1-5+deb12u3",
                &[("upstream", "util-linux@2.38.1-5+deb12u3"), ("arch", "amd64"), ("distro", "debian-12")]
            )
            .unwrap(),
            "pkg:deb/debian/bsdutils@1:2.38.1-5%2Bdeb12u3?arch=amd64&distro=debian-12&upstream=util-linux%402.38.1-5%2Bdeb12u3"
        );
        assert_eq!(
            build("npm", Some("@types"), "node", "20.1.0", &[]).unwrap(),
            "pkg:npm/%40types/node@20.1.0"
        );
    }
}

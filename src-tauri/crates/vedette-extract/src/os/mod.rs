//! Operating-system package databases and OS detection.

pub mod apk;
pub mod dpkg;
pub mod kernel;
pub mod os_release;
pub mod ownership;
pub mod rpm;
mod rpmdb_legacy;
mod sqlite;

/// The purl namespace (the distro's `ID`, else `default`) and the `distro`
/// qualifier (`debian-12`) syft writes for an OS package.
pub(crate) fn distro_purl_parts<'a>(
    distro: Option<&'a vedette_model::Distro>,
    default: &'a str,
) -> (&'a str, String) {
    let namespace = distro.map(|d| d.id.as_str()).unwrap_or(default);
    let qualifier = distro
        .filter(|d| !d.version_id.is_empty())
        .map(|d| format!("{}-{}", d.id, d.version_id))
        .unwrap_or_default();
    (namespace, qualifier)
}

/// Splits an RFC 822-style database (dpkg status, apk installed) into stanzas
/// separated by blank lines, yielding the 1-based line number where each starts.
pub(crate) fn stanzas(text: &str) -> impl Iterator<Item = (usize, Vec<&str>)> {
    let mut out = Vec::new();
    let mut cur: Vec<&str> = Vec::new();
    let mut start = 1;
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            if !cur.is_empty() {
                out.push((start, std::mem::take(&mut cur)));
            }
            start = i + 2;
        } else {
            cur.push(line);
        }
    }
    if !cur.is_empty() {
        out.push((start, cur));
    }
    out.into_iter()
}

//! Image references as Docker and OCI tools write them.

use crate::SourceError;

/// `[registry/]repository[:tag][@digest]`, normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// `docker.io`, `ghcr.io`, `127.0.0.1:5000`.
    pub registry: String,
    /// `library/debian`, `acme/api`.
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl Reference {
    pub fn parse(input: &str) -> Result<Self, SourceError> {
        let bad = |why: &str| SourceError::BadReference {
            reference: input.to_owned(),
            why: why.to_owned(),
        };
        let s = input.trim();
        if s.is_empty() {
            return Err(bad("it is empty"));
        }
        if s.contains("://") {
            return Err(bad("it has a URL scheme; leave out http:// or https://"));
        }
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => {
                let (algo, hex) = d
                    .split_once(':')
                    .ok_or_else(|| bad("the digest has no algorithm"))?;
                if algo != "sha256"
                    || hex.len() != 64
                    || !hex.bytes().all(|b| b.is_ascii_hexdigit())
                {
                    return Err(bad("the digest is not sha256:<64 hex digits>"));
                }
                (r, Some(d.to_ascii_lowercase()))
            }
            None => (s, None),
        };
        let (registry, path) = match rest.split_once('/') {
            Some((first, path))
                if first.contains(['.', ':']) || first.eq_ignore_ascii_case("localhost") =>
            {
                (vedette_model::canonical_registry_host(first), path)
            }
            _ => ("docker.io".to_owned(), rest),
        };
        let (repository, tag) = match path.rsplit_once(':') {
            Some((repo, tag)) if !tag.contains('/') => (repo, Some(tag.to_owned())),
            _ => (path, None),
        };
        if let Some(t) = &tag {
            let ok = !t.is_empty()
                && t.len() <= 128
                && t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
                && !t.starts_with(['.', '-']);
            if !ok {
                return Err(bad(
                    "the tag may hold only letters, digits, '_', '.' and '-' (at most 128)",
                ));
            }
        }
        if repository.is_empty() {
            return Err(bad("the repository name is empty"));
        }
        for part in repository.split('/') {
            let ok = !part.is_empty()
                && part.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'.' | b'-')
                })
                && part.as_bytes()[0].is_ascii_alphanumeric();
            if !ok {
                return Err(bad("repository names are lower-case letters, digits and separators (. _ -) between '/'"));
            }
        }
        let repository = if registry == "docker.io" && !repository.contains('/') {
            format!("library/{repository}")
        } else {
            repository.to_owned()
        };
        let tag = if tag.is_none() && digest.is_none() {
            Some("latest".to_owned())
        } else {
            tag
        };
        Ok(Self {
            registry,
            repository,
            tag,
            digest,
        })
    }

    /// The host to send API requests to (Docker Hub's API lives elsewhere).
    pub fn api_host(&self) -> &str {
        crate::registry::api_host(&self.registry)
    }

    /// What to ask the manifests endpoint for: the digest if pinned, else the tag.
    pub fn manifest_ref(&self) -> &str {
        self.digest
            .as_deref()
            .or(self.tag.as_deref())
            .unwrap_or("latest")
    }
}

impl std::fmt::Display for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> String {
        Reference::parse(s).unwrap().to_string()
    }

    #[test]
    fn references_normalise_as_docker_does() {
        assert_eq!(p("debian"), "docker.io/library/debian:latest");
        assert_eq!(p("debian:12"), "docker.io/library/debian:12");
        assert_eq!(p("acme/api:1.4"), "docker.io/acme/api:1.4");
        assert_eq!(p("ghcr.io/acme/api"), "ghcr.io/acme/api:latest");
        assert_eq!(
            p("127.0.0.1:5000/fixtures/debian:12"),
            "127.0.0.1:5000/fixtures/debian:12"
        );
        assert_eq!(p("localhost/x"), "localhost/x:latest");
        let d = format!("sha256:{}", "a".repeat(64));
        assert_eq!(p(&format!("quay.io/x/y@{d}")), format!("quay.io/x/y@{d}"));
        assert_eq!(
            Reference::parse("debian").unwrap().api_host(),
            "registry-1.docker.io"
        );
    }

    #[test]
    fn bad_references_say_what_is_wrong() {
        for (bad, says) in [
            ("", "empty"),
            ("https://ghcr.io/x", "URL scheme"),
            ("Debian:12", "lower-case"),
            ("debian:", "tag"),
            ("x@sha256:abc", "64 hex"),
            ("ghcr.io/", "empty"),
        ] {
            let e = Reference::parse(bad).unwrap_err().to_string();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }
}

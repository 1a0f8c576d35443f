//! TLS for the API beyond loopback, and the client's two ways of trusting
//! a console: a CA file, or the SHA-256 of its certificate (pinning, for a
//! generated self-signed certificate).
//!
//! A console on a loopback address answers in clear text unless asked
//! otherwise; on any other address it answers only over TLS: with the
//! certificate it is given, else with a self-signed one it generates once
//! (kept next to the data, its key readable by its owner only) and whose
//! fingerprint it prints, so clients can pin it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};

use crate::ApiFailure;

/// How the API's TLS is chosen.
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// A certificate chain (PEM) and its key (PEM) to serve with.
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    /// TLS even on a loopback address (with the given or a generated certificate).
    pub always: bool,
    /// Where a generated certificate is kept (`<data dir>/api-tls`).
    pub dir: PathBuf,
}

impl TlsOptions {
    /// `VEDETTE_API_TLS_CERT`, `VEDETTE_API_TLS_KEY`, `VEDETTE_API_TLS=1`;
    /// a generated certificate under `data_dir`.
    pub fn from_env(data_dir: &Path) -> Self {
        let path = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        Self {
            cert: path("VEDETTE_API_TLS_CERT"),
            key: path("VEDETTE_API_TLS_KEY"),
            always: std::env::var("VEDETTE_API_TLS").is_ok_and(|v| v == "1" || v == "true"),
            dir: data_dir.join("api-tls"),
        }
    }
}

/// The certificate a console serves.
#[derive(Debug, Clone)]
pub struct ServedCertificate {
    pub(crate) config: Arc<rustls::ServerConfig>,
    /// The SHA-256 of the leaf certificate's DER, lowercase hex.
    pub fingerprint: String,
    /// The certificate's PEM file (for `--console-ca`).
    pub cert_file: PathBuf,
    /// Generated here (self-signed), not given.
    pub generated: bool,
}

/// The SHA-256 of a certificate's DER, lowercase hex: what `--console-pin-sha256` takes.
pub fn fingerprint(der: &[u8]) -> String {
    hex::encode(Sha256::digest(der))
}

/// The certificate to serve with, or none for clear text on loopback.
pub(crate) fn choose(
    opts: &TlsOptions,
    loopback: bool,
) -> Result<Option<ServedCertificate>, ApiFailure> {
    match (&opts.cert, &opts.key) {
        (Some(cert), Some(key)) => load(cert, key, false).map(Some),
        (Some(_), None) | (None, Some(_)) => Err(ApiFailure::Tls(
            "a TLS certificate needs its key, and a key its certificate: give both --tls-cert and --tls-key".into(),
        )),
        (None, None) if loopback && !opts.always => Ok(None),
        (None, None) => generated(&opts.dir).map(Some),
    }
}

fn load(cert: &Path, key: &Path, generated: bool) -> Result<ServedCertificate, ApiFailure> {
    let read = |p: &Path| {
        std::fs::read(p).map_err(|e| {
            ApiFailure::Tls(format!(
                "cannot read {}: {e}. Give a PEM file that this user can read",
                p.display()
            ))
        })
    };
    let cert_pem = read(cert)?;
    let key_pem = read(key)?;
    let chain: Vec<CertificateDer<'static>> = rustls_pemfile::certs(&mut cert_pem.as_slice())
        .collect::<Result<_, _>>()
        .map_err(|e| {
            ApiFailure::Tls(format!(
                "{} does not read as PEM certificates: {e}",
                cert.display()
            ))
        })?;
    let Some(leaf) = chain.first() else {
        return Err(ApiFailure::Tls(format!(
            "{} holds no certificate (-----BEGIN CERTIFICATE-----)",
            cert.display()
        )));
    };
    let fingerprint = fingerprint(leaf.as_ref());
    let private: PrivateKeyDer<'static> = rustls_pemfile::private_key(&mut key_pem.as_slice())
        .map_err(|e| ApiFailure::Tls(format!("{} does not read as a PEM key: {e}", key.display())))?
        .ok_or_else(|| {
            ApiFailure::Tls(format!(
                "{} holds no private key (PKCS#8, PKCS#1 or SEC1 PEM)",
                key.display()
            ))
        })?;
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| ApiFailure::Tls(e.to_string()))?
    .with_no_client_auth()
    .with_single_cert(chain, private)
    .map_err(|e| {
        ApiFailure::Tls(format!(
            "the key {} does not serve the certificate {}: {e}",
            key.display(),
            cert.display()
        ))
    })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(ServedCertificate {
        config: Arc::new(config),
        fingerprint,
        cert_file: cert.to_owned(),
        generated,
    })
}

/// The self-signed certificate kept in `dir`, made the first time: the
/// same fingerprint across restarts, so pinned clients keep working.
fn generated(dir: &Path) -> Result<ServedCertificate, ApiFailure> {
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    if !(cert.exists() && key.exists()) {
        make_self_signed(dir, &cert, &key)?;
    }
    load(&cert, &key, true)
}

fn make_self_signed(dir: &Path, cert: &Path, key: &Path) -> Result<(), ApiFailure> {
    let io = |what: &Path, e: std::io::Error| {
        ApiFailure::Tls(format!(
            "cannot write the API's certificate to {}: {e}",
            what.display()
        ))
    };
    let mut names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    if let Ok(host) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
        let host = host.trim();
        if !host.is_empty() && host != "localhost" {
            names.push(host.to_owned());
        }
    }
    let made = rcgen::generate_simple_self_signed(names)
        .map_err(|e| ApiFailure::Tls(format!("cannot generate a certificate: {e}")))?;
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let mut k = private_file(key).map_err(|e| io(key, e))?;
    k.write_all(made.key_pair.serialize_pem().as_bytes())
        .and_then(|()| k.sync_all())
        .map_err(|e| io(key, e))?;
    std::fs::write(cert, made.cert.pem()).map_err(|e| io(cert, e))?;
    tracing::info!(path = %cert.display(), "generated the API's self-signed certificate");
    Ok(())
}

/// A new file only its owner can read.
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
}

/// How a client trusts a console's certificate.
#[derive(Debug, Clone, Default)]
pub struct ConsoleTrust {
    /// A PEM file of CA certificates (or the console's own self-signed certificate).
    pub ca_file: Option<PathBuf>,
    /// The SHA-256 of the console certificate's DER (hex, colons allowed).
    pub pin_sha256: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_certificate_is_kept_private_and_reused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let opts = TlsOptions {
            dir: dir.path().join("api-tls"),
            ..TlsOptions::default()
        };
        assert!(
            choose(&opts, true).unwrap().is_none(),
            "clear text on loopback"
        );
        let first = choose(&opts, false).unwrap().expect("TLS beyond loopback");
        assert!(first.generated);
        let mode = std::fs::metadata(opts.dir.join("key.pem"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let again = choose(&opts, false).unwrap().unwrap();
        assert_eq!(first.fingerprint, again.fingerprint);
        assert_eq!(first.fingerprint.len(), 64);
    }

    #[test]
    fn a_certificate_without_its_key_is_refused_with_what_to_give() {
        let opts = TlsOptions {
            cert: Some("/nonexistent/cert.pem".into()),
            ..TlsOptions::default()
        };
        let e = choose(&opts, true).unwrap_err().to_string();
        assert!(e.contains("--tls-key"), "{e}");
    }
}

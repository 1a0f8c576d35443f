//! Trusting a server by the SHA-256 of its certificate's DER (a pin), as
//! `vedette serve` prints it for its self-signed certificate: names and
//! dates do not matter, the pin says which certificate; the server must
//! still prove it holds the certificate's key.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use sha2::{Digest, Sha256};

/// A pin as 32 bytes: hex, upper or lower case, with or without colons,
/// with or without a `sha256:` prefix.
pub fn parse_pin(pin: &str) -> Result<[u8; 32], String> {
    let p = pin.trim();
    let p = p
        .strip_prefix("sha256:")
        .or_else(|| p.strip_prefix("SHA256:"))
        .unwrap_or(p);
    let hex_digits: String = p.chars().filter(|c| *c != ':').collect();
    let bytes = hex::decode(&hex_digits).map_err(|_| {
        format!("'{pin}' is not a SHA-256 fingerprint: 64 hexadecimal digits, as `vedette serve` prints it")
    })?;
    bytes.try_into().map_err(|_| {
        format!("'{pin}' is not a SHA-256 fingerprint: 64 hexadecimal digits, as `vedette serve` prints it")
    })
}

/// Accepts exactly the certificate whose DER has the pinned SHA-256 (names
/// and dates do not matter: the pin says which certificate), and checks
/// that the server holds its key like any TLS client.
#[derive(Debug)]
pub struct PinnedCertificate {
    pin: [u8; 32],
    provider: Arc<rustls::crypto::CryptoProvider>,
}

/// A pin that does not match, as the client's error says it.
#[derive(Debug)]
struct PinMismatch {
    served: String,
    pinned: String,
}

impl std::fmt::Display for PinMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the console's certificate has SHA-256 {}, not the pinned {}: another server answers, or its certificate changed",
            self.served, self.pinned
        )
    }
}

impl std::error::Error for PinMismatch {}

impl ServerCertVerifier for PinnedCertificate {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let served: [u8; 32] = Sha256::digest(end_entity.as_ref()).into();
        if served == self.pin {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::Other(rustls::OtherError(Arc::new(PinMismatch {
                    served: hex::encode(served),
                    pinned: hex::encode(self.pin),
                }))),
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// A client TLS configuration that trusts only the pinned certificate.
pub fn pinned_client(pin: [u8; 32]) -> Result<rustls::ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = Arc::new(PinnedCertificate {
        pin,
        provider: Arc::clone(&provider),
    });
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

/// A TLS failure in an error's chain as a user reads it: which
/// certificate, and (`hint`) how to trust it; none when it is no TLS failure.
pub fn tls_failure(e: &(dyn std::error::Error + 'static), hint: &str) -> Option<String> {
    // I/O errors wrap I/O errors wrapping the TLS error (and their
    // `source` skips what they wrap).
    let mut e: &(dyn std::error::Error + 'static) = e;
    while let Some(inner) = e
        .downcast_ref::<std::io::Error>()
        .and_then(|io| io.get_ref())
    {
        e = inner;
    }
    let tls = e.downcast_ref::<rustls::Error>()?;
    Some(match tls {
        rustls::Error::InvalidCertificate(rustls::CertificateError::Other(other)) => {
            format!("the console's certificate is refused: {}", other.0)
        }
        rustls::Error::InvalidCertificate(why) => {
            format!("the console's certificate is not trusted ({why:?}). {hint}")
        }
        other => format!("TLS failed: {other}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_read_as_openssl_and_vedette_print_them() {
        let lower = "3f".repeat(32);
        let openssl = vec!["3F"; 32].join(":");
        assert_eq!(parse_pin(&lower).unwrap(), [0x3f; 32]);
        assert_eq!(parse_pin(&openssl).unwrap(), [0x3f; 32]);
        assert_eq!(parse_pin(&format!("sha256:{lower}")).unwrap(), [0x3f; 32]);
        assert!(parse_pin("3f3f").unwrap_err().contains("64 hexadecimal"));
        assert!(parse_pin("not hex").is_err());
    }
}

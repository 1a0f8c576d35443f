//! A private CA made with `openssl` for a test: a server certificate for
//! 127.0.0.1 and a client certificate, both signed by it.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::require;

pub struct Pki {
    dir: tempfile::TempDir,
}

fn openssl(dir: &Path, args: &[&str]) {
    let o = Command::new(require("openssl"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run openssl");
    assert!(
        o.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

impl Pki {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let d = dir.path();
        openssl(
            d,
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=Vedette test CA",
                "-keyout",
                "ca.key",
                "-out",
                "ca.crt",
            ],
        );
        for (name, cn, ext) in [
            ("server", "127.0.0.1", "subjectAltName=IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n"),
            ("client", "vedette-test-client", "basicConstraints=critical,CA:FALSE\nextendedKeyUsage=clientAuth\n"),
        ] {
            std::fs::write(d.join(format!("{name}.ext")), ext).expect("write ext");
            openssl(d, &["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", &format!("/CN={cn}"), "-keyout", &format!("{name}.key"), "-out", &format!("{name}.csr")]);
            openssl(d, &["x509", "-req", "-in", &format!("{name}.csr"), "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-extfile", &format!("{name}.ext"), "-out", &format!("{name}.crt")]);
        }
        Pki { dir }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A Docker-style certs folder for `host` under `root`: `ca.crt`, and
    /// with `client`, `client.cert` and `client.key`.
    pub fn certs_d(&self, root: &Path, host: &str, client: bool) -> PathBuf {
        let dir = root.join(host);
        std::fs::create_dir_all(&dir).expect("certs.d");
        std::fs::copy(self.path("ca.crt"), dir.join("ca.crt")).expect("ca.crt");
        if client {
            std::fs::copy(self.path("client.crt"), dir.join("client.cert")).expect("client.cert");
            std::fs::copy(self.path("client.key"), dir.join("client.key")).expect("client.key");
        }
        dir
    }
}

impl Default for Pki {
    fn default() -> Self {
        Self::new()
    }
}

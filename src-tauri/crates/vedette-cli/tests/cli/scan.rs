//! `vedette scan` against a real registry (Debian's docker-registry) with
//! images built from ../shared/fixtures, compared with syft and trivy.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use vedette_tests::registry::{oci_layout, run_peer, shared, Layer, Registry};

fn vedette_json(data: &Path, args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_vedette"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .args(["--format", "cyclonedx", "--quiet", "--packages-only"])
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            format!("unix:path={}/no-bus", data.display()),
        )
        .env("DOCKER_CONFIG", data.join("no-docker-config"))
        .output()
        .expect("run vedette");
    assert!(
        out.status.success(),
        "vedette {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("CycloneDX JSON")
}

fn cdx_purls(bom: &serde_json::Value) -> BTreeSet<String> {
    bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["purl"].as_str().map(str::to_owned))
        .collect()
}

fn syft_purls(reference: &str) -> BTreeSet<String> {
    let out = run_peer(
        Command::new(vedette_tests::require("syft"))
            .args(["-q", "-o", "json"])
            .arg(format!("registry:{reference}"))
            .env("SYFT_REGISTRY_INSECURE_USE_HTTP", "true")
            .env("SYFT_CHECK_FOR_APP_UPDATE", "false"),
    );
    let v: serde_json::Value = serde_json::from_slice(&out).expect("syft JSON");
    v["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["purl"].as_str().unwrap().to_owned())
        .collect()
}

fn only(set: &BTreeSet<String>, prefix: &str) -> BTreeSet<String> {
    set.iter()
        .filter(|p| p.starts_with(prefix))
        .cloned()
        .collect()
}

pub(crate) fn push(reg: &Registry, dir: &Path, layers: Vec<Layer>, repo: &str) -> String {
    let layout = dir.join(repo.replace('/', "-"));
    oci_layout(&layout, &layers, "t");
    reg.push(&layout, repo, "t")
}

/// The bookworm-lang test image (the Debian fixture with the `lang/` layer
/// on top), pushed to `reg`.
pub(crate) fn push_lang_image(reg: &Registry, dir: &Path) -> String {
    push(
        reg,
        dir,
        vec![
            Layer::from_dir(shared("fixtures/debian-12-minbase")),
            Layer::from_dir(shared("fixtures/lang")),
        ],
        "fixtures/bookworm-lang",
    )
}

#[test]
fn debian_image_lists_the_same_88_deb_purls_as_syft() {
    let reg = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let r = push(
        &reg,
        tmp.path(),
        vec![Layer::from_dir(shared("fixtures/debian-12-minbase"))],
        "fixtures/debian",
    );
    let ours = only(
        &cdx_purls(&vedette_json(
            tmp.path(),
            &["scan", "image", &r, "--insecure-registry"],
        )),
        "pkg:deb/",
    );
    let syft = only(&syft_purls(&r), "pkg:deb/");
    assert_eq!(ours.len(), 88);
    assert_eq!(ours, syft);
}

#[test]
fn alpine_image_lists_the_same_59_apk_purls_as_syft() {
    let reg = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let r = push(
        &reg,
        tmp.path(),
        vec![Layer::from_dir(shared("fixtures/alpine-3.23"))],
        "fixtures/alpine",
    );
    let ours = only(
        &cdx_purls(&vedette_json(
            tmp.path(),
            &["scan", "image", &r, "--insecure-registry"],
        )),
        "pkg:apk/",
    );
    let syft = only(&syft_purls(&r), "pkg:apk/");
    assert_eq!(ours.len(), 59);
    assert_eq!(ours, syft);
}

#[test]
fn the_lang_image_agrees_with_syft_except_the_differences_the_readme_lists() {
    let reg = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let r = push_lang_image(&reg, tmp.path());
    let ours = cdx_purls(&vedette_json(
        tmp.path(),
        &["scan", "image", &r, "--insecure-registry"],
    ));
    let syft = syft_purls(&r);
    assert_eq!(only(&ours, "pkg:deb/"), only(&syft, "pkg:deb/"));
    let lang = |s: &BTreeSet<String>| -> BTreeSet<String> {
        s.iter()
            .filter(|p| !p.starts_with("pkg:deb/"))
            .cloned()
            .collect()
    };
    let only_syft: Vec<_> = lang(&syft).difference(&lang(&ours)).cloned().collect();
    let only_ours: Vec<_> = lang(&ours).difference(&lang(&syft)).cloned().collect();
    // README, "Differences from syft and trivy": the project's own root
    // package.json is not a dependency, nor is a Go main module at "(devel)".
    assert_eq!(
        only_syft,
        [
            "pkg:golang/github.com/opencontainers/umoci@(devel)#cmd/umoci",
            "pkg:npm/app@1.0.0",
        ]
    );
    // Syft's image mode skips lock files of source trees; trivy lists them,
    // and so does Vedette (the README says why).
    assert_eq!(
        only_ours,
        [
            "pkg:cargo/libc@0.2.191",
            "pkg:cargo/smallvec@1.6.0",
            "pkg:cargo/time@0.1.43",
            "pkg:cargo/winapi-i686-pc-windows-gnu@0.4.0",
            "pkg:cargo/winapi-x86_64-pc-windows-gnu@0.4.0",
            "pkg:cargo/winapi@0.3.9",
        ]
    );
}

#[test]
fn a_whiteout_in_an_upper_layer_removes_the_package_database_below() {
    let reg = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let base = shared("fixtures/debian-12-minbase");
    let deleted = push(
        &reg,
        tmp.path(),
        vec![
            Layer::from_dir(&base),
            Layer::default().file("var/lib/dpkg/.wh.status", b""),
        ],
        "whiteout/file",
    );
    let ours = cdx_purls(&vedette_json(
        tmp.path(),
        &["scan", "image", &deleted, "--insecure-registry"],
    ));
    assert!(only(&ours, "pkg:deb/").is_empty(), "{ours:?}");

    let replaced = push(
        &reg,
        tmp.path(),
        vec![
            Layer::from_dir(&base),
            Layer::default()
                .file("var/lib/dpkg/.wh..wh..opq", b"")
                .file("var/lib/dpkg/status", b"Package: tzdata\nStatus: install ok installed\nArchitecture: all\nVersion: 2025b-0+deb12u1\n"),
        ],
        "whiteout/opaque",
    );
    let ours = only(
        &cdx_purls(&vedette_json(
            tmp.path(),
            &["scan", "image", &replaced, "--insecure-registry"],
        )),
        "pkg:deb/",
    );
    assert_eq!(
        ours.into_iter().collect::<Vec<_>>(),
        ["pkg:deb/debian/tzdata@2025b-0%2Bdeb12u1?arch=all&distro=debian-12"]
    );
    assert_eq!(
        only(&syft_purls(&replaced), "pkg:deb/").len(),
        1,
        "syft agrees"
    );
}

#[test]
fn archives_and_layout_directories_give_the_same_inventory_as_the_registry() {
    let reg = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let layout = tmp.path().join("layout");
    oci_layout(
        &layout,
        &[Layer::from_dir(shared("fixtures/alpine-3.23"))],
        "t",
    );
    let r = reg.push(&layout, "fixtures/alpine", "t");
    let want = cdx_purls(&vedette_json(
        tmp.path(),
        &["scan", "image", &r, "--insecure-registry"],
    ));
    assert_eq!(want.len(), 59);

    let docker = tmp.path().join("docker.tar");
    let oci = tmp.path().join("oci.tar");
    for (dest, file) in [("docker-archive", &docker), ("oci-archive", &oci)] {
        run_peer(
            Command::new(vedette_tests::require("skopeo"))
                .args(["--insecure-policy", "copy", "--quiet"])
                .arg(format!("oci:{}:t", layout.display()))
                .arg(format!("{dest}:{}", file.display())),
        );
    }
    let gz = tmp.path().join("docker.tar.gz");
    run_peer(Command::new("sh").arg("-c").arg(format!(
        "gzip -c {} > {}",
        docker.display(),
        gz.display()
    )));
    for archive in [&docker, &oci, &gz, &layout] {
        let got = cdx_purls(&vedette_json(
            tmp.path(),
            &["scan", "archive", archive.to_str().unwrap()],
        ));
        assert_eq!(got, want, "{}", archive.display());
    }

    // The same archives piped in: `docker save IMAGE | vedette scan archive -`.
    let piped = |file: &Path, extra: &[&str]| {
        crate::vulns::command(tmp.path(), &[], &["scan", "archive", "-"])
            .args(extra)
            .stdin(std::fs::File::open(file).unwrap())
            .output()
            .unwrap()
    };
    for archive in [&docker, &oci, &gz] {
        let o = piped(
            archive,
            &["--format", "cyclonedx", "--quiet", "--packages-only"],
        );
        assert!(o.status.success(), "{}", crate::vulns::out(&o));
        let bom: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(cdx_purls(&bom), want, "{} piped in", archive.display());
    }
    // Recorded as the archive "standard input", which no schedule rescans.
    let o = crate::vulns::run(tmp.path(), &[], &["target", "list", "--format", "json"]);
    let targets: Vec<serde_json::Value> = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        targets
            .iter()
            .any(|t| t["kind"] == "archive" && t["name"] == "standard input"),
        "{targets:#?}"
    );
    // Too large for the archive limit, or empty: refused, saying what to do.
    let o = piped(&docker, &["--packages-only", "--max-archive-size", "1KiB"]);
    assert_eq!(o.status.code(), Some(2), "{}", crate::vulns::out(&o));
    assert!(
        crate::vulns::out(&o).contains("standard input holds more than 1 KiB, the limit on the inflated size of a gzipped image archive; raise it with --max-archive-size"),
        "{}",
        crate::vulns::out(&o)
    );
    let o = piped(Path::new("/dev/null"), &["--packages-only"]);
    assert_eq!(o.status.code(), Some(2), "{}", crate::vulns::out(&o));
    assert!(
        crate::vulns::out(&o).contains("standard input is empty"),
        "{}",
        crate::vulns::out(&o)
    );
}

/// `type/namespace/name@version` of a purl, with `arch` for OS packages:
/// trivy writes `distro=debian-12.15` (from /etc/debian_version) and no
/// `upstream`, syft and Vedette `distro=debian-12` (os-release) and `upstream`.
/// Trivy also moves a Debian epoch out of the version into `epoch=N`.
fn package_key(purl: &str) -> String {
    let (base, q) = purl.split_once('?').unwrap_or((purl, ""));
    let arch = q
        .split('&')
        .find(|kv| kv.starts_with("arch="))
        .unwrap_or("");
    let base = match q.split('&').find_map(|kv| kv.strip_prefix("epoch=")) {
        Some(epoch) => base.replacen('@', &format!("@{epoch}:"), 1),
        None => base.to_owned(),
    };
    // Trivy writes Go's stdlib version as v1.19.8, syft and Vedette 1.19.8.
    let base = base.replace("pkg:golang/stdlib@v", "pkg:golang/stdlib@");
    format!("{base} {arch}")
}

#[test]
fn os_and_language_packages_agree_with_trivy() {
    let reg = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("trivy-cache");
    for (repo, layers, trivy_only) in [
        (
            "fixtures/debian",
            vec![Layer::from_dir(shared("fixtures/debian-12-minbase"))],
            vec![],
        ),
        (
            "fixtures/alpine",
            vec![Layer::from_dir(shared("fixtures/alpine-3.23"))],
            vec![],
        ),
        (
            "fixtures/bookworm-lang",
            vec![
                Layer::from_dir(shared("fixtures/debian-12-minbase")),
                Layer::from_dir(shared("fixtures/lang")),
            ],
            // README, "Differences from syft and trivy".
            vec!["pkg:npm/app@1.0.0 "],
        ),
    ] {
        let r = push(&reg, tmp.path(), layers, repo);
        let ours: BTreeSet<String> = cdx_purls(&vedette_json(
            tmp.path(),
            &["scan", "image", &r, "--insecure-registry"],
        ))
        .iter()
        .map(|p| package_key(p))
        .collect();
        let trivy: BTreeSet<String> = vedette_tests::registry::trivy_purls(&r, &cache)
            .iter()
            .map(|p| package_key(p))
            .collect();
        let only_trivy: Vec<_> = trivy.difference(&ours).cloned().collect();
        let only_ours: Vec<_> = ours.difference(&trivy).cloned().collect();
        assert_eq!(only_trivy, trivy_only, "{repo}");
        assert!(only_ours.is_empty(), "{repo}: {only_ours:?}");
    }
}

#[test]
fn a_dist_info_installed_by_a_deb_is_attributed_to_the_deb() {
    // Debian's python3-urllib3 ships urllib3's dist-info; dpkg's file list says so.
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    let dist = root.join("usr/lib/python3/dist-packages/urllib3-1.26.12.dist-info");
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::create_dir_all(root.join("var/lib/dpkg/info")).unwrap();
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::copy(
        shared("fixtures/debian-12-minbase/etc/os-release"),
        root.join("etc/os-release"),
    )
    .unwrap();
    let mut status =
        std::fs::read_to_string(shared("fixtures/debian-12-minbase/var/lib/dpkg/status")).unwrap();
    status.push_str("\nPackage: python3-urllib3\nStatus: install ok installed\nArchitecture: all\nSource: python-urllib3\nVersion: 1.26.12-1+deb12u1\n");
    std::fs::write(root.join("var/lib/dpkg/status"), status).unwrap();
    std::fs::write(
        dist.join("METADATA"),
        "Metadata-Version: 2.1\nName: urllib3\nVersion: 1.26.12\n\n",
    )
    .unwrap();
    std::fs::write(
        root.join("var/lib/dpkg/info/python3-urllib3.list"),
        "/.\n/usr/lib/python3/dist-packages/urllib3-1.26.12.dist-info\n/usr/lib/python3/dist-packages/urllib3-1.26.12.dist-info/METADATA\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_vedette"))
        .arg("--data-dir")
        .arg(tmp.path().join("data"))
        .args(["scan", "dir"])
        .arg(&root)
        .args(["--format", "json", "-q", "--packages-only"])
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let inv: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let pkgs = inv["packages"].as_array().unwrap();
    assert_eq!(pkgs.len(), 90);
    let urllib3 = pkgs
        .iter()
        .find(|p| p["purl"] == "pkg:pypi/urllib3@1.26.12")
        .unwrap();
    assert_eq!(
        urllib3["owned_by"],
        "pkg:deb/debian/python3-urllib3@1.26.12-1%2Bdeb12u1?arch=all&distro=debian-12&upstream=python-urllib3"
    );
    // syft lists the PyPI package too, without saying the deb installed it.
    let syft = run_peer(
        Command::new(vedette_tests::require("syft"))
            .args(["-q", "-o", "json"])
            .arg(format!("dir:{}", root.display()))
            .env("SYFT_CHECK_FOR_APP_UPDATE", "false"),
    );
    assert!(String::from_utf8_lossy(&syft).contains("pkg:pypi/urllib3@1.26.12"));
}

/// Validates with the reference libraries (PyPI cyclonedx-python-lib, spdx-tools).
pub(crate) fn validate(kind: &str, file: &Path) {
    let script = match kind {
        "cyclonedx" => "import sys\nfrom cyclonedx.validation.json import JsonStrictValidator\nfrom cyclonedx.schema import SchemaVersion\ne = JsonStrictValidator(SchemaVersion.V1_6).validate_str(open(sys.argv[1]).read())\nprint(e or '')\nsys.exit(1 if e else 0)",
        "cyclonedx-1.5" => "import sys\nfrom cyclonedx.validation.json import JsonStrictValidator\nfrom cyclonedx.schema import SchemaVersion\ne = JsonStrictValidator(SchemaVersion.V1_5).validate_str(open(sys.argv[1]).read())\nprint(e or '')\nsys.exit(1 if e else 0)",
        _ => "import sys\nfrom spdx_tools.spdx.parser.parse_anything import parse_file\nfrom spdx_tools.spdx.validation.document_validator import validate_full_spdx_document\nm = validate_full_spdx_document(parse_file(sys.argv[1]))\n[print(x.validation_message) for x in m]\nsys.exit(1 if m else 0)",
    };
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(file)
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "{kind} validation of {} failed: {}{}",
        file.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn cyclonedx_and_spdx_output_is_valid_against_the_reference_validators() {
    let reg = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let r = push_lang_image(&reg, tmp.path());
    for (format, kind) in [("cyclonedx", "cyclonedx"), ("spdx", "spdx")] {
        let file = tmp.path().join(format!("sbom.{format}.json"));
        let out = Command::new(env!("CARGO_BIN_EXE_vedette"))
            .arg("--data-dir")
            .arg(tmp.path())
            .args([
                "scan",
                "image",
                &r,
                "--insecure-registry",
                "--packages-only",
                "--format",
                format,
                "-q",
                "--output",
            ])
            .arg(&file)
            .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        validate(kind, &file);
    }
}

#[test]
fn an_rpm_database_written_by_rpm_agrees_with_syft_and_trivy() {
    let reg = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("rocky");
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::create_dir_all(root.join("var/lib/rpm")).unwrap();
    std::fs::write(
        root.join("etc/os-release"),
        "NAME=\"Rocky Linux\"\nID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.3\"\nPRETTY_NAME=\"Rocky Linux 9.3 (Blue Onyx)\"\n",
    )
    .unwrap();
    // trivy finds Rocky by this file, syft and Vedette by os-release.
    std::fs::write(
        root.join("etc/rocky-release"),
        "Rocky Linux release 9.3 (Blue Onyx)\n",
    )
    .unwrap();
    // Written by rpm 4.18 itself; see its README for how.
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../vedette-extract/testdata/rpm/rpmdb.sqlite"),
        root.join("var/lib/rpm/rpmdb.sqlite"),
    )
    .unwrap();
    let r = push(
        &reg,
        tmp.path(),
        vec![Layer::from_dir(&root)],
        "fixtures/rocky",
    );
    let ours = only(
        &cdx_purls(&vedette_json(
            tmp.path(),
            &["scan", "image", &r, "--insecure-registry"],
        )),
        "pkg:rpm/",
    );
    assert_eq!(
        ours.iter().collect::<Vec<_>>(),
        ["pkg:rpm/rocky/hello-vedette@1.2.3-4.el9?arch=noarch&distro=rocky-9.3&epoch=2&upstream=hello-vedette-1.2.3-4.el9.src.rpm"]
    );
    assert_eq!(ours, only(&syft_purls(&r), "pkg:rpm/"));
    let trivy: BTreeSet<String> =
        vedette_tests::registry::trivy_purls(&r, &tmp.path().join("trivy-cache"))
            .iter()
            .filter(|p| p.starts_with("pkg:rpm/"))
            .map(|p| p.split('?').next().unwrap().to_owned())
            .collect();
    assert_eq!(
        trivy.into_iter().collect::<Vec<_>>(),
        ["pkg:rpm/rocky/hello-vedette@1.2.3-4.el9"]
    );
}

#[test]
fn jars_and_the_jars_nested_in_them_are_listed_by_their_maven_coordinates() {
    let reg = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("java");
    std::fs::create_dir_all(root.join("app")).unwrap();
    // A fat jar as Spring Boot lays it out, written by Python's zipfile.
    let script = r#"
import sys, zipfile, io
inner = io.BytesIO()
with zipfile.ZipFile(inner, "w") as z:
    z.writestr("META-INF/maven/org.yaml/snakeyaml/pom.properties", "groupId=org.yaml\nartifactId=snakeyaml\nversion=1.33\n", zipfile.ZIP_DEFLATED)
with zipfile.ZipFile(sys.argv[1], "w") as z:
    z.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n", zipfile.ZIP_DEFLATED)
    z.writestr("META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties", "groupId=org.apache.logging.log4j\nartifactId=log4j-core\nversion=2.14.1\n", zipfile.ZIP_DEFLATED)
    z.writestr("BOOT-INF/lib/snakeyaml-1.33.jar", inner.getvalue(), zipfile.ZIP_STORED)
"#;
    let jar = root.join("app/app.jar");
    run_peer(Command::new("python3").args(["-c", script]).arg(&jar));
    let r = push(
        &reg,
        tmp.path(),
        vec![Layer::from_dir(&root)],
        "fixtures/java",
    );
    let ours = only(
        &cdx_purls(&vedette_json(
            tmp.path(),
            &["scan", "image", &r, "--insecure-registry"],
        )),
        "pkg:maven/",
    );
    assert_eq!(
        ours.iter().collect::<Vec<_>>(),
        [
            "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
            "pkg:maven/org.yaml/snakeyaml@1.33"
        ]
    );
    // syft names the outer jar by its file name (no version, so nothing can
    // match it) and does not open the jar nested in it (README).
    let syft = only(&syft_purls(&r), "pkg:maven/");
    assert_eq!(
        syft.iter().collect::<Vec<_>>(),
        [
            "pkg:maven/app/app",
            "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"
        ]
    );
    // (trivy is not asked: it reads jars only with its Java DB, which it
    // would download; tests stay on loopback.)
}

#[test]
fn a_cargo_auditable_binary_lists_its_crates_as_syft_and_trivy_do() {
    let reg = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("rust");
    std::fs::create_dir_all(root.join("usr/local/bin")).unwrap();
    let bin = root.join("usr/local/bin/audhello");
    // Built by cargo-auditable itself; see its README.
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../vedette-extract/testdata/rust/audhello"),
        &bin,
    )
    .unwrap();
    let r = push(
        &reg,
        tmp.path(),
        vec![Layer::from_dir(&root)],
        "fixtures/rust-bin",
    );
    let ours = only(
        &cdx_purls(&vedette_json(
            tmp.path(),
            &["scan", "image", &r, "--insecure-registry"],
        )),
        "pkg:cargo/",
    );
    assert_eq!(
        ours.iter().collect::<Vec<_>>(),
        ["pkg:cargo/itoa@1.0.19", "pkg:cargo/smallvec@1.6.0"]
    );
    // syft and trivy also list the binary's own crate (source "local");
    // Vedette leaves the project itself out (README).
    let mut syft = only(&syft_purls(&r), "pkg:cargo/");
    assert!(syft.remove("pkg:cargo/audhello@0.1.0"), "{syft:?}");
    assert_eq!(syft, ours);
    let mut trivy: BTreeSet<String> =
        vedette_tests::registry::trivy_purls(&r, &tmp.path().join("trivy-cache"))
            .into_iter()
            .filter(|p| p.starts_with("pkg:cargo/"))
            .collect();
    assert!(trivy.remove("pkg:cargo/audhello@0.1.0"), "{trivy:?}");
    assert_eq!(trivy, ours);
}

//! A registry that misbehaves (through a fault-injecting proxy in front of a
//! real docker-registry): each failure ends in a clear error for that
//! target and a failed scan in the history, or in a retry that succeeds.

use std::path::Path;
use std::process::{Command, Output};

use vedette_tests::proxy::{Action, Fault, FaultProxy};
use vedette_tests::registry::{oci_layout, shared, Layer, Registry};

struct Setup {
    _registry: Registry,
    proxy: FaultProxy,
    dir: tempfile::TempDir,
}

fn setup() -> Setup {
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
    Setup {
        _registry: registry,
        proxy,
        dir,
    }
}

fn scan(s: &Setup) -> Output {
    scan_in(
        s.dir.path(),
        &format!("{}/hostile/alpine:t", s.proxy.host()),
    )
}

fn scan_in(data: &Path, reference: &str) -> Output {
    let no_bus = format!("unix:path={}/no-bus", data.display());
    scan_with(data, reference, &no_bus, &data.join("no-docker-config"))
}

/// `vedette scan image REF --insecure-registry` with this session bus (the
/// keyring) and Docker config.
fn scan_with(data: &Path, reference: &str, bus: &str, docker_config: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vedette"))
        .arg("--data-dir")
        .arg(data)
        .args([
            "scan",
            "image",
            reference,
            "--insecure-registry",
            "--format",
            "json",
            "--quiet",
            "--packages-only",
        ])
        .env("DBUS_SESSION_BUS_ADDRESS", bus)
        .env("DOCKER_CONFIG", docker_config)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn fault(path: &'static str, times: u32, action: Action) -> Fault {
    Fault {
        method: Some("GET"),
        path_contains: path,
        times,
        action,
    }
}

/// The newest scan's state and error, read from the history.
fn last_scan(data: &Path) -> (String, Option<String>) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = vedette_store::Store::open_in(data).await.unwrap();
        let s = store.list_scans(1).await.unwrap().remove(0);
        (s.state.as_str().to_owned(), s.error)
    })
}

#[test]
fn registry_refusals_are_clear_errors_recorded_as_failed_scans() {
    for (status, says) in [
        (401, "401 Unauthorized"),
        (403, "403 Forbidden"),
        (404, "was not found"),
        (500, "after 5 tries"),
    ] {
        let s = setup();
        s.proxy
            .inject(fault("/manifests/", 100, Action::Status(status, vec![])));
        let out = scan(&s);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(3), "{status}: {err}");
        assert!(err.contains(says), "{status}: {err}");
        assert!(
            err.contains("hostile/alpine"),
            "the error names the image: {err}"
        );
        let (state, error) = last_scan(s.dir.path());
        assert_eq!(state, "failed");
        assert!(error.unwrap().contains(says));
    }
}

#[test]
fn too_many_requests_is_retried_after_the_time_retry_after_asks() {
    let s = setup();
    s.proxy.inject(fault(
        "/manifests/",
        2,
        Action::Status(429, vec![("Retry-After", "1".into())]),
    ));
    let out = scan(&s);
    assert!(out.status.success(), "{}", stderr(&out));
    let log = s.proxy.requests();
    let manifests: Vec<_> = log.iter().filter(|l| l.contains("/manifests/")).collect();
    assert!(
        manifests[0].ends_with("429 (injected)") && manifests[1].ends_with("429 (injected)"),
        "{log:?}"
    );
    assert!(manifests[2].contains("-> 200"), "{log:?}");

    // A wait longer than Vedette accepts is reported, with the asked wait.
    let s = setup();
    s.proxy.inject(fault(
        "/manifests/",
        100,
        Action::Status(429, vec![("Retry-After", "3600".into())]),
    ));
    let out = scan(&s);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("asks to wait 3600s"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_connection_reset_mid_layer_is_retried_and_a_persistent_one_reported() {
    let s = setup();
    // Only layer blobs: the config is small JSON, the layer is the big gzip.
    let layer_digest =
        vedette_tests::registry::layer_digests(&s.dir.path().join("layout")).remove(0);
    let path: &'static str = Box::leak(format!("/blobs/{layer_digest}").into_boxed_str());
    s.proxy.inject(fault(path, 1, Action::ResetAfter(2000)));
    let out = scan(&s);
    assert!(out.status.success(), "{}", stderr(&out));
    let inv: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(inv["packages"].as_array().unwrap().len(), 59);
    assert!(s
        .proxy
        .requests()
        .iter()
        .any(|l| l.contains("reset after 2000")));

    // A data dir that has not read this image yet (one that has would match
    // its stored inventory again without pulling it).
    s.proxy.inject(fault(path, 100, Action::ResetAfter(2000)));
    let fresh = tempfile::tempdir().unwrap();
    let out = scan_in(
        fresh.path(),
        &format!("{}/hostile/alpine:t", s.proxy.host()),
    );
    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    assert!(
        err.contains(&layer_digest) && err.contains("broke off"),
        "{err}"
    );
}

#[test]
fn a_blob_that_does_not_match_its_digest_is_refused() {
    let s = setup();
    s.proxy
        .inject(fault("/blobs/sha256:", 100, Action::Corrupt));
    let out = scan(&s);
    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    assert!(err.contains("does not match its content"), "{err}");
}

#[test]
fn a_registry_that_does_not_answer_says_how_to_fix_the_address() {
    let dir = tempfile::tempdir().unwrap();
    let port = vedette_tests::free_port(); // nothing listens there
    let out = scan_in(dir.path(), &format!("127.0.0.1:{port}/x/y:1"));
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains(&format!("cannot reach registry 127.0.0.1:{port}")),
        "{}",
        stderr(&out)
    );
    let without_flag = |data: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_vedette"))
            .arg("--data-dir")
            .arg(data)
            .args([
                "scan",
                "image",
                &format!("127.0.0.1:{port}/x/y:1"),
                "--quiet",
                "--packages-only",
            ])
            .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
            .output()
            .unwrap()
    };
    // The target remembers how it was scanned: plain HTTP again.
    let again = without_flag(dir.path());
    assert!(
        stderr(&again).contains(&format!("http://127.0.0.1:{port}/")),
        "{}",
        stderr(&again)
    );
    // A target never scanned with the flag: the hint names it.
    let fresh = tempfile::tempdir().unwrap();
    let out = without_flag(fresh.path());
    assert!(
        stderr(&out).contains("--insecure-registry"),
        "without the flag, the hint names it: {}",
        stderr(&out)
    );
}

#[test]
fn a_bad_reference_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = scan_in(dir.path(), "Not/A:Valid::Ref");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("is not an image reference"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_private_registry_is_read_with_the_keyring_credential_through_a_bearer_token() {
    let s = setup();
    s.proxy.require_token("ada", "s3cret-pull-token");
    let reference = format!("{}/hostile/alpine:t", s.proxy.host());

    // Anonymous: the token service refuses, and the error says what to do.
    let out = scan(&s);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("vedette credential add"),
        "{}",
        stderr(&out)
    );

    // With the credential in the keyring, the same scan succeeds.
    let keyring = vedette_tests::KeyringSession::start();
    let mut add = Command::new(env!("CARGO_BIN_EXE_vedette"))
        .arg("--data-dir")
        .arg(s.dir.path())
        .args([
            "credential",
            "add",
            "--registry",
            &s.proxy.host(),
            "--username",
            "ada",
        ])
        .env("DBUS_SESSION_BUS_ADDRESS", keyring.address())
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    add.stdin
        .take()
        .unwrap()
        .write_all(b"s3cret-pull-token\n")
        .unwrap();
    assert!(add.wait().unwrap().success());
    let out = scan_with(
        s.dir.path(),
        &reference,
        keyring.address(),
        &s.dir.path().join("no-docker-config"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let inv: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(inv["packages"].as_array().unwrap().len(), 59);
    assert!(!String::from_utf8_lossy(&out.stdout).contains("s3cret-pull-token"));
    assert!(s
        .proxy
        .requests()
        .iter()
        .any(|l| l.contains("/token") && l.contains("-> 200")));
}

#[test]
fn docker_config_credentials_are_used_when_the_keyring_has_none() {
    let s = setup();
    s.proxy.require_token("ada", "from-docker-login");
    let docker = s.dir.path().join("docker");
    std::fs::create_dir_all(&docker).unwrap();
    std::fs::write(
        docker.join("config.json"),
        format!(
            r#"{{"auths":{{"{}":{{"auth":"YWRhOmZyb20tZG9ja2VyLWxvZ2lu"}}}}}}"#,
            s.proxy.host()
        ),
    )
    .unwrap();
    let no_bus = format!("unix:path={}/no-bus", s.dir.path().display());
    let out = scan_with(
        s.dir.path(),
        &format!("{}/hostile/alpine:t", s.proxy.host()),
        &no_bus,
        &docker,
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn an_index_nested_in_indexes_past_any_real_depth_is_refused() {
    // Content addressing makes a real self-reference impossible; a chain of
    // indexes is the loop a registry can serve. Six deep is past any real image.
    let s = setup();
    let layout = s.dir.path().join("layout");
    let idx: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let mut child = idx["manifests"][0].clone();
    let registry = Registry::start();
    registry.push(&layout, "deep/alpine", "t");
    let index_type = "application/vnd.oci.image.index.v1+json";
    for level in 0..6 {
        let body = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": index_type,
            "manifests": [child],
        }))
        .unwrap();
        let tag = format!("level{level}");
        let digest = registry.put_manifest("deep/alpine", &tag, index_type, &body);
        child = serde_json::json!({
            "mediaType": index_type,
            "digest": digest,
            "size": body.len(),
            "platform": {"os": "linux", "architecture": "amd64"},
        });
    }
    let out = scan_in(
        s.dir.path(),
        &format!("{}/deep/alpine:level5", registry.host()),
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("nests more than 4 deep"),
        "{}",
        stderr(&out)
    );
    // One level of index is an ordinary multi-platform image.
    let out = scan_in(
        s.dir.path(),
        &format!("{}/deep/alpine:level0", registry.host()),
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn ctrl_c_ends_a_running_scan_as_cancelled_with_exit_130() {
    let s = setup();
    // The layer trickles: the scan runs until it is stopped.
    s.proxy
        .inject(fault("/blobs/sha256:", 100, Action::Trickle));
    let no_bus = format!("unix:path={}/no-bus", s.dir.path().display());
    let child = Command::new(env!("CARGO_BIN_EXE_vedette"))
        .arg("--data-dir")
        .arg(s.dir.path())
        .args([
            "scan",
            "image",
            &format!("{}/hostile/alpine:t", s.proxy.host()),
            "--insecure-registry",
            "--packages-only",
        ])
        .env("DBUS_SESSION_BUS_ADDRESS", no_bus)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Interrupt it once it is reading the layer.
    let started = std::time::Instant::now();
    while !s.proxy.requests().iter().any(|r| r.contains("trickled")) {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "the layer was never asked for"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("interrupted; stopping the scan"),
        "{}",
        stderr(&out)
    );
    let (state, error) = last_scan(s.dir.path());
    assert_eq!(state, "cancelled");
    assert!(error.unwrap().contains("cancelled"));
    // Nothing half-written: no inventory was stored.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let invs = rt.block_on(async {
        vedette_store::Store::open_in(s.dir.path())
            .await
            .unwrap()
            .latest_inventories_after(0, 10)
            .await
            .unwrap()
    });
    assert!(invs.is_empty());
}

#[test]
fn podmans_auth_file_ci_variables_a_piped_password_and_identity_tokens_give_the_credential() {
    let s = setup();
    s.proxy.require_token("ada", "from-podman-login");
    // No keyring, no Docker config.
    let no_bus = format!("unix:path={}/no-bus", s.dir.path().display());
    let docker = s.dir.path().join("no-docker");
    std::fs::create_dir_all(&docker).unwrap();
    let reference = format!("{}/hostile/alpine:t", s.proxy.host());
    let scan = |env: &[(&str, &str)]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_vedette"));
        c.arg("--data-dir")
            .arg(s.dir.path())
            .args([
                "scan",
                "image",
                &reference,
                "--insecure-registry",
                "--format",
                "json",
                "--quiet",
                "--packages-only",
            ])
            .env("DBUS_SESSION_BUS_ADDRESS", &no_bus)
            .env("DOCKER_CONFIG", &docker)
            .env("XDG_RUNTIME_DIR", s.dir.path().join("no-runtime"))
            .env("XDG_CONFIG_HOME", s.dir.path().join("no-config"))
            .env_remove("REGISTRY_AUTH_FILE")
            .env_remove("VEDETTE_REGISTRY_USERNAME")
            .env_remove("VEDETTE_REGISTRY_PASSWORD");
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    let out = scan(&[]);
    assert!(!out.status.success(), "anonymous pulls are refused here");
    assert!(stderr(&out).contains("401"), "{}", stderr(&out));
    // Podman's auth.json, named by REGISTRY_AUTH_FILE.
    let auth = s.dir.path().join("auth.json");
    std::fs::write(
        &auth,
        format!(
            r#"{{"auths":{{"{}":{{"auth":"YWRhOmZyb20tcG9kbWFuLWxvZ2lu"}}}}}}"#,
            s.proxy.host()
        ),
    )
    .unwrap();
    let out = scan(&[("REGISTRY_AUTH_FILE", auth.to_str().unwrap())]);
    assert!(out.status.success(), "{}", stderr(&out));
    // A CI job's variables.
    s.proxy.require_token("ci-bot", "ci-secret-77");
    let out = scan(&[
        ("VEDETTE_REGISTRY_USERNAME", "ci-bot"),
        ("VEDETTE_REGISTRY_PASSWORD", "ci-secret-77"),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("ci-secret-77"));

    // `--username` with the password on standard input, for this scan only.
    s.proxy.require_token("ci-bot", "piped-secret-5");
    let mut c = Command::new(env!("CARGO_BIN_EXE_vedette"));
    c.arg("--data-dir")
        .arg(s.dir.path())
        .args([
            "scan",
            "image",
            &reference,
            "--insecure-registry",
            "--quiet",
            "--packages-only",
            "--username",
            "ci-bot",
            "--password-stdin",
        ])
        .env("DBUS_SESSION_BUS_ADDRESS", &no_bus)
        .env("DOCKER_CONFIG", &docker)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"piped-secret-5\n").unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));

    // An identity token in Docker's config (what `docker login` keeps for
    // registries that hand out refresh tokens), under a key written in
    // capitals with a scheme: traded with the OAuth2 refresh grant. Each
    // bearer token lasts one request, so it expires mid-scan and is
    // fetched again.
    s.proxy.require_token("unused", "identity-9f3a");
    s.proxy.tokens_last(1);
    let config = s.dir.path().join("docker-with-token");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("config.json"),
        format!(
            r#"{{"auths":{{"HTTPS://{}/v1/":{{"auth":"","identitytoken":"identity-9f3a"}}}}}}"#,
            s.proxy.host().to_uppercase()
        ),
    )
    .unwrap();
    let before = s.proxy.requests().len();
    let out = scan(&[("DOCKER_CONFIG", config.to_str().unwrap())]);
    assert!(out.status.success(), "{}", stderr(&out));
    let tokens = s.proxy.requests()[before..]
        .iter()
        .filter(|r| r.starts_with("POST /token") && r.ends_with("200 (token)"))
        .count();
    assert!(
        tokens >= 2,
        "an expired token is fetched again: {:#?}",
        &s.proxy.requests()[before..]
    );
}

/// An ECR registry's pull credential comes from the AWS account in the
/// keyring: `GetAuthorizationToken` against moto, whose token the registry
/// (behind a token-auth proxy) accepts. moto's tokens say they expired in
/// 2015, so none is kept: each scan asks for a fresh one. The password is
/// written nowhere.
#[test]
fn an_ecr_registry_is_pulled_with_a_token_from_the_aws_account_in_the_keyring() {
    use vedette_tests::moto::Moto;
    let s = setup();
    let moto = Moto::start();
    // moto's account is 123456789012; its token's password is "<account>-auth-token".
    s.proxy.require_token("AWS", "123456789012-auth-token");
    let console = crate::Console::new(s.dir.path(), &[("VEDETTE_ECR_REGISTRIES", s.proxy.host())]);
    let reference = format!("{}/hostile/alpine:t", s.proxy.host());
    let scan = || {
        console.run(&[
            "scan",
            "image",
            &reference,
            "--insecure-registry",
            "--quiet",
            "--packages-only",
        ])
    };
    // No AWS account yet: an anonymous pull, refused.
    let o = scan();
    assert!(!o.status.success(), "{}", crate::vulns::out(&o));
    assert!(stderr(&o).contains("401"), "{}", stderr(&o));
    let o = console.aws_set(&moto.endpoint());
    assert!(o.status.success(), "{}", crate::vulns::out(&o));
    for _ in 0..2 {
        let o = scan();
        assert!(o.status.success(), "{}", crate::vulns::out(&o));
        assert!(
            !crate::vulns::out(&o).contains("auth-token"),
            "{}",
            crate::vulns::out(&o)
        );
    }
    let tokens = s
        .proxy
        .requests()
        .iter()
        .filter(|r| r.starts_with("GET /token") && r.ends_with("200 (token)"))
        .count();
    assert!(
        tokens >= 2,
        "each scan traded the ECR password for a registry token: {:#?}",
        s.proxy.requests()
    );
    // The password is in no file of the data dir.
    for entry in walk(&console.data) {
        let bytes = std::fs::read(&entry).unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&bytes).contains("123456789012-auth-token"),
            "{} holds the ECR password",
            entry.display()
        );
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// GCR / Artifact Registry with a service account: the JSON key (the
/// password of `_json_key`) signs a JWT that Google's token endpoint (on
/// loopback, checking the signature with openssl) trades for an access
/// token; the registry only ever sees `oauth2accesstoken` and that token.
#[test]
fn a_service_account_key_is_traded_for_an_access_token_and_never_sent_to_the_registry() {
    let s = setup();
    let key = s.dir.path().join("sa.pem");
    let public = s.dir.path().join("sa.pub.pem");
    for args in [
        vec![
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            key.to_str().unwrap(),
        ],
        vec![
            "pkey",
            "-in",
            key.to_str().unwrap(),
            "-pubout",
            "-out",
            public.to_str().unwrap(),
        ],
    ] {
        assert!(Command::new("openssl")
            .args(&args)
            .status()
            .unwrap()
            .success());
    }
    s.proxy.serve_google(vedette_tests::google::GoogleOauth {
        public_key: public,
        client_email: "scanner@acme-prod.iam.gserviceaccount.com".into(),
        access_token: "ya29.vedette-test-access".into(),
    });
    s.proxy
        .require_token("oauth2accesstoken", "ya29.vedette-test-access");
    let key_json = serde_json::json!({
        "type": "service_account",
        "project_id": "acme-prod",
        "private_key_id": "0123456789abcdef",
        "private_key": std::fs::read_to_string(&key).unwrap(),
        "client_email": "scanner@acme-prod.iam.gserviceaccount.com",
        "token_uri": format!("http://{}/oauth2/token", s.proxy.host()),
    })
    .to_string();
    let scan = |password: &str| scan_as(&s, "_json_key", password);
    let o = scan(&key_json);
    assert!(o.status.success(), "{}", stderr(&o));
    let log = s.proxy.requests();
    assert!(
        log.iter()
            .any(|r| r.starts_with("POST /oauth2/token") && r.ends_with("200 (google)")),
        "{log:#?}"
    );
    assert!(!stderr(&o).contains("PRIVATE KEY"), "{}", stderr(&o));

    // A key whose signature Google rejects: the refusal names the account.
    let other = s.dir.path().join("other.pem");
    assert!(Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out"
        ])
        .arg(&other)
        .status()
        .unwrap()
        .success());
    let mut wrong: serde_json::Value = serde_json::from_str(&key_json).unwrap();
    wrong["private_key"] = std::fs::read_to_string(&other).unwrap().into();
    let o = scan(&wrong.to_string());
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("refused service account scanner@acme-prod.iam.gserviceaccount.com")
            && stderr(&o).contains("Invalid JWT Signature"),
        "{}",
        stderr(&o)
    );
}

/// ACR with a service principal: its JSON (as `az ad sp create-for-rbac
/// --sdk-auth` prints it) is the password of `_azure_sp`; Entra ID gives an
/// access token for it, the registry's `/oauth2/exchange` an ACR refresh
/// token, and the pull uses that. The secret reaches Entra ID only.
#[test]
fn an_acr_service_principal_goes_through_entra_id_and_the_acr_token_exchange() {
    let s = setup();
    s.proxy.serve_azure(vedette_tests::azure::AzureApi {
        tenant: "72f988bf-tenant".into(),
        client_id: "c0ffee00-app".into(),
        client_secret: "sp-secret-3k9".into(),
        aad_token: "eyJ0-entra-access".into(),
        refresh_token: "acr-refresh-51a".into(),
    });
    // The registry's token service takes the ACR refresh token as an
    // identity token (the refresh grant).
    s.proxy
        .require_token("00000000-0000-0000-0000-000000000000", "acr-refresh-51a");
    let principal = |secret: &str| {
        serde_json::json!({
            "clientId": "c0ffee00-app",
            "clientSecret": secret,
            "tenantId": "72f988bf-tenant",
            "activeDirectoryEndpointUrl": format!("http://{}/aad", s.proxy.host()),
        })
        .to_string()
    };
    let scan = |password: &str| scan_as(&s, "_azure_sp", password);
    let o = scan(&principal("sp-secret-3k9"));
    assert!(o.status.success(), "{}", stderr(&o));
    let log = s.proxy.requests();
    for step in [
        "/aad/72f988bf-tenant/oauth2/v2.0/token -> 200",
        "/oauth2/exchange -> 200",
        "POST /token",
    ] {
        assert!(log.iter().any(|r| r.contains(step)), "{step}: {log:#?}");
    }
    // A wrong secret: Entra ID's refusal is named, with the principal.
    let o = scan(&principal("wrong"));
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("refused service principal c0ffee00-app of tenant 72f988bf-tenant")
            && stderr(&o).contains("AADSTS7000215"),
        "{}",
        stderr(&o)
    );
    assert!(!stderr(&o).contains("wrong\""), "{}", stderr(&o));
}

/// Scans the test image with this user and password from the environment
/// (no keyring, no Docker config).
fn scan_as(s: &Setup, user: &str, password: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vedette"))
        .arg("--data-dir")
        .arg(s.dir.path())
        .args([
            "scan",
            "image",
            &format!("{}/hostile/alpine:t", s.proxy.host()),
            "--insecure-registry",
            "--quiet",
            "--packages-only",
        ])
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            format!("unix:path={}/no-bus", s.dir.path().display()),
        )
        .env("DOCKER_CONFIG", s.dir.path().join("no-docker"))
        .env("VEDETTE_REGISTRY_USERNAME", user)
        .env("VEDETTE_REGISTRY_PASSWORD", password)
        .output()
        .unwrap()
}

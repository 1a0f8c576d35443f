//! The automation API of a running `vedette serve`, as a script meets it:
//! tokens and scopes on every route its own document lists, a scan started
//! through it against the local registry, the event stream and its resume.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{json, Value};
use vedette_tests::registry::{shared, Layer, Registry};

use crate::scan::push;
use crate::vulns::{command, out, run as vedette, Mirror};

/// A `vedette serve` with its API on a port of its own; its standard error
/// is kept in `log`.
pub(crate) struct ApiServe {
    child: Child,
    pub(crate) base: String,
    pub(crate) log: PathBuf,
    /// The SHA-256 of its TLS certificate, as it printed it.
    pub(crate) fingerprint: Option<String>,
}

impl ApiServe {
    pub(crate) fn start(data: &Path, env: &[(&str, String)]) -> Self {
        Self::start_with(data, env, &[])
    }

    /// With more arguments to `vedette serve` (`--api`, `--tls-cert`, …).
    pub(crate) fn start_with(data: &Path, env: &[(&str, String)], args: &[&str]) -> Self {
        std::fs::create_dir_all(data).unwrap();
        let log = data.with_extension("serve.log");
        let mut command_args = vec!["serve", "--poll", "1s"];
        command_args.extend_from_slice(args);
        let mut child = command(data, env, &command_args)
            .env("VEDETTE_LOG", "trace")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start vedette serve");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        let log_path = log.clone();
        std::thread::spawn(move || {
            let mut file = std::fs::File::create(&log_path).unwrap();
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                std::io::Write::write_all(&mut file, format!("{line}\n").as_bytes()).unwrap();
                if let Some(rest) = line.split("API on ").nth(1) {
                    // Served on every interface: reached on loopback.
                    let base = rest
                        .split("/api/v1")
                        .next()
                        .unwrap()
                        .replace("0.0.0.0", "127.0.0.1");
                    let fingerprint = line
                        .split("fingerprint ")
                        .nth(1)
                        .map(|f| f.chars().take(64).collect::<String>());
                    let _ = tx.send((base, fingerprint));
                }
            }
        });
        let (base, fingerprint) = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("vedette serve says where its API listens");
        ApiServe {
            child,
            base,
            log,
            fingerprint,
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// SIGKILL: the process dies where it stands.
    pub(crate) fn kill9(mut self) {
        self.child.kill().expect("kill -9 vedette serve");
        let _ = self.child.wait();
    }

    /// SIGTERM, then the exit code.
    pub(crate) fn stop(mut self) -> Option<i32> {
        crate::schedules::terminate(&mut self.child)
    }
}

impl Drop for ApiServe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

/// A request's status and body (JSON when it is JSON).
pub(crate) fn call(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<&[u8]>,
) -> (u16, Value, ureq::http::HeaderMap) {
    let mut req = ureq::http::Request::builder().method(method).uri(url);
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    if body.is_some() {
        req = req.header("Content-Type", "application/json");
    }
    let req = req
        .body(body.map(<[u8]>::to_vec).unwrap_or_default())
        .unwrap();
    let mut resp = match agent.run(req) {
        Ok(r) => r,
        Err(e) => panic!("{method} {url}: {e}"),
    };
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, value, headers)
}

pub(crate) fn token(data: &Path, name: &str, scope: &str) -> String {
    let o = vedette(
        data,
        &[],
        &["api", "token", "create", "--name", name, "--scope", scope],
    );
    assert!(o.status.success(), "{}", out(&o));
    String::from_utf8(o.stdout).unwrap().trim().to_owned()
}

/// Every operation of the served document: (method, path with ids filled
/// in, the scope its security asks for; none for a public one).
fn operations(doc: &Value) -> Vec<(String, String, Option<String>)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let first = op["security"].as_array().and_then(|s| s.first());
            // Agents' routes take an enrolment token or a node credential.
            let agent = first.is_some_and(|s| s.get("enrolment").or(s.get("node")).is_some());
            let scope = first
                .and_then(|s| s["bearer"][0].as_str())
                .map(str::to_owned)
                .or_else(|| agent.then(|| "agent".to_owned()));
            let mut path = path.replace("{id}", "999999");
            if path.ends_with("/events") {
                // What the log holds, then the end (not a stream to follow).
                path.push_str("?follow=false");
            }
            ops.push((method.to_uppercase(), path, scope));
        }
    }
    ops
}

const SCOPES: [&str; 3] = ["read", "scan", "admin"];

#[test]
fn every_route_in_the_served_document_answers_401_without_a_token_and_403_below_its_scope() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let tokens: Vec<String> = SCOPES
        .iter()
        .map(|s| token(&data, &format!("t-{s}"), s))
        .collect();
    let serve = ApiServe::start(&data, &[]);
    let agent = agent();

    let (status, doc, _) = call(
        &agent,
        "GET",
        &serve.url("/api/v1/openapi.json"),
        None,
        None,
    );
    assert_eq!(status, 200, "the document is served without a token");
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{doc}");
    let ops = operations(&doc);
    assert!(ops.len() >= 20, "{ops:?}");
    let (status, health, _) = call(&agent, "GET", &serve.url("/api/v1/health"), None, None);
    assert_eq!((status, health["status"].as_str()), (200, Some("ok")));

    // Whatever a request without a token carries: 401, before anything of
    // it is interpreted; the body is taken whole first (one still being
    // sent when the refusal comes would have its connection reset).
    let big = vec![b'x'; 512 * 1024];
    for (method, path, scope) in &ops {
        let Some(scope) = scope else { continue };
        let url = serve.url(path);
        for body in [None, Some(&b"{not json"[..]), Some(&big[..])] {
            let (status, err, headers) = call(&agent, method, &url, None, body);
            assert_eq!(status, 401, "{method} {path} without a token: {err}");
            assert_eq!(err["code"], "unauthorized");
            assert!(headers.contains_key("www-authenticate"));
        }
        let (status, _, _) = call(&agent, method, &url, Some("vdt_not-a-token"), None);
        assert_eq!(status, 401, "{method} {path} with an unknown token");
        if scope == "agent" {
            // No API token opens them either.
            for t in &tokens {
                let (status, _, _) = call(&agent, method, &url, Some(t), None);
                assert_eq!(status, 401, "{method} {path} with an API token");
            }
            continue;
        }

        let need = SCOPES.iter().position(|s| s == scope).unwrap();
        for (i, t) in tokens.iter().enumerate() {
            // A body each handler refuses, so nothing is changed.
            let body =
                (method != "GET" && method != "DELETE").then_some(&br#"{"unknown_field": 1}"#[..]);
            let (status, err, _) = call(&agent, method, &url, Some(t), body);
            if i < need {
                assert_eq!(
                    status, 403,
                    "{method} {path} with a {} token: {err}",
                    SCOPES[i]
                );
                assert!(
                    err["message"].as_str().unwrap().contains(scope.as_str()),
                    "{err}"
                );
            } else {
                assert!(
                    status != 401 && status != 403 && status < 500,
                    "{method} {path} with a {} token: {status} {err}",
                    SCOPES[i]
                );
            }
        }
    }

    // An unknown path is not a way around the token.
    let (status, _, _) = call(&agent, "GET", &serve.url("/api/v1/secret"), None, None);
    assert_eq!(status, 401);

    // A refused request leaves its connection for the next one: a node's
    // report with an unknown credential, then the health, on one
    // connection, both answered.
    {
        use std::io::Write;
        let addr = serve.base.trim_start_matches("http://").to_owned();
        let mut conn = std::net::TcpStream::connect(&addr).unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let body = format!("{{\"packages\": \"{}\"}}", "x".repeat(4096));
        write!(
            conn,
            "PUT /api/v1/agents/inventory HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer vdt_unknown\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}GET /api/v1/health HTTP/1.1\r\nHost: {addr}\r\n\r\n",
            body.len()
        )
        .unwrap();
        let mut answers = String::new();
        let mut chunk = [0u8; 4096];
        while answers.matches("HTTP/1.1 ").count() < 2 || !answers.contains("\"ok\"") {
            match conn.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => answers.push_str(&String::from_utf8_lossy(&chunk[..n])),
                Err(e) => panic!("{e} after {answers}"),
            }
        }
        assert!(answers.starts_with("HTTP/1.1 401"), "{answers}");
        assert!(
            answers.contains("HTTP/1.1 200") && answers.contains("\"ok\""),
            "the next request on the connection is answered: {answers}"
        );
    }

    // No CORS: a browser page on another origin gets nothing it may read.
    let req = ureq::http::Request::builder()
        .method("OPTIONS")
        .uri(serve.url("/api/v1/targets"))
        .header("Origin", "http://evil.example")
        .header("Access-Control-Request-Method", "GET")
        .body(Vec::new())
        .unwrap();
    let resp = agent.run(req).unwrap();
    assert!(!resp.headers().contains_key("access-control-allow-origin"));

    // A revoked token is refused from the next request on.
    let (status, _, _) = call(
        &agent,
        "GET",
        &serve.url("/api/v1/targets"),
        Some(&tokens[0]),
        None,
    );
    assert_eq!(status, 200);
    let o = vedette(&data, &[], &["api", "token", "revoke", "t-read"]);
    assert!(o.status.success(), "{}", out(&o));
    let (status, _, _) = call(
        &agent,
        "GET",
        &serve.url("/api/v1/targets"),
        Some(&tokens[0]),
        None,
    );
    assert_eq!(status, 401, "revoked");
    assert_eq!(serve.stop(), Some(0));
}

/// The events of a stream, read until `until` says stop (or 60 s).
fn read_events(
    url: &str,
    token: &str,
    last_event_id: Option<i64>,
    mut until: impl FnMut(&[Value]) -> bool,
) -> Vec<Value> {
    let mut req = ureq::http::Request::builder()
        .method("GET")
        .uri(url)
        .header("Authorization", format!("Bearer {token}"))
        .header("Accept", "text/event-stream");
    if let Some(id) = last_event_id {
        req = req.header("Last-Event-ID", id.to_string());
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    let resp = agent
        .run(req.body(Vec::new()).unwrap())
        .expect("event stream");
    let reader = BufReader::new(resp.into_body().into_reader());
    let mut events = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in reader.lines() {
        let line = line.expect("stream line");
        if let Some(kind) = line.strip_prefix("event: ") {
            current = Some((kind.to_owned(), String::new()));
        } else if let Some(data) = line.strip_prefix("data: ") {
            if let Some(c) = current.as_mut() {
                c.1.push_str(data);
            }
        } else if line.is_empty() {
            if let Some((kind, data)) = current.take() {
                let e: Value = serde_json::from_str(&data).unwrap();
                assert_eq!(e["kind"], kind);
                events.push(e);
                if until(&events) {
                    break;
                }
            }
        }
    }
    events
}

/// (advisory, package, version) of each finding of a report.
fn findings(report: &Value) -> std::collections::BTreeSet<(String, String, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_owned(),
                f["package"].as_str().unwrap().to_owned(),
                f["version"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn a_scan_started_through_the_api_finds_what_the_cli_finds_and_the_stream_tells_it_in_order() {
    let mirror = Mirror::start();
    let reg = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let image = push(
        &reg,
        tmp.path(),
        vec![Layer::from_dir(shared("fixtures/debian-12-minbase"))],
        "fixtures/debian",
    );
    let env = mirror.env();

    // The CLI's scan, in a data dir of its own.
    let cli_data = tmp.path().join("cli");
    let o = vedette(
        &cli_data,
        &env,
        &[
            "scan",
            "image",
            &image,
            "--insecure-registry",
            "--format",
            "json",
            "-q",
        ],
    );
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", out(&o));
    let cli: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(!findings(&cli).is_empty());

    let data = tmp.path().join("api");
    let scan_token = token(&data, "ci", "scan");
    let serve = ApiServe::start(&data, &env);
    let agent = agent();

    // A watcher follows the stream from now on.
    let (url, t) = (serve.url("/api/v1/events"), scan_token.clone());
    let watcher = std::thread::spawn(move || {
        read_events(&url, &t, None, |evs| {
            evs.iter()
                .any(|e| e["kind"] == "scan.finished" || e["kind"] == "scan.error")
        })
    });
    std::thread::sleep(Duration::from_millis(500));

    let body = json!({"image": image, "insecure": true}).to_string();
    let (status, started, headers) = call(
        &agent,
        "POST",
        &serve.url("/api/v1/scans"),
        Some(&scan_token),
        Some(body.as_bytes()),
    );
    assert_eq!(status, 202, "{started}");
    let scan = &started["scans"][0];
    let scan_id = scan["scan_id"].as_i64().unwrap();
    assert_eq!(
        headers.get("location").unwrap().to_str().unwrap(),
        format!("/api/v1/scans/{scan_id}")
    );

    let streamed = watcher.join().unwrap();
    let kinds: Vec<&str> = streamed
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    let pos = |k: &str| {
        kinds
            .iter()
            .position(|x| *x == k)
            .unwrap_or_else(|| panic!("{k} in {kinds:?}"))
    };
    assert!(pos("target.added") < pos("scan.started"), "{kinds:?}");
    assert!(pos("scan.started") < pos("scan.finished"), "{kinds:?}");
    let finished = &streamed[pos("scan.finished")];
    assert_eq!(finished["data"]["scan_id"], scan_id);
    assert_eq!(finished["data"]["target"], image);
    let ids: Vec<i64> = streamed.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids grow: {ids:?}");

    // Resuming after scan.started gives everything after it, nothing missed.
    let started_id = streamed[pos("scan.started")]["id"].as_i64().unwrap();
    let resumed = read_events(
        &serve.url("/api/v1/events"),
        &scan_token,
        Some(started_id),
        |evs| evs.iter().any(|e| e["kind"] == "scan.finished"),
    );
    let after: Vec<&Value> = streamed
        .iter()
        .filter(|e| e["id"].as_i64().unwrap() > started_id)
        .collect();
    assert_eq!(resumed.iter().collect::<Vec<_>>(), after);

    // The scan as the API shows it: the CLI's findings.
    let (status, s, _) = call(
        &agent,
        "GET",
        &serve.url(&format!("/api/v1/scans/{scan_id}")),
        Some(&scan_token),
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(s["scan"]["state"], "succeeded", "{s:#}");
    let (status, report, _) = call(
        &agent,
        "GET",
        &serve.url(&format!("/api/v1/scans/{scan_id}/report?format=json")),
        Some(&scan_token),
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(
        findings(&report),
        findings(&cli),
        "{report:#}\n{s:#}\n{streamed:#?}\n{}",
        std::fs::read_to_string(&serve.log).unwrap()
    );
    assert_eq!(
        finished["data"]["findings"],
        cli["findings"].as_array().unwrap().len()
    );
    let (status, sarif, _) = call(
        &agent,
        "GET",
        &serve.url(&format!("/api/v1/scans/{scan_id}/report?format=sarif")),
        Some(&scan_token),
        None,
    );
    assert_eq!((status, sarif["version"].as_str()), (200, Some("2.1.0")));
    let (status, bom, _) = call(
        &agent,
        "GET",
        &serve.url(&format!("/api/v1/scans/{scan_id}/report?format=cyclonedx")),
        Some(&scan_token),
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(bom["bomFormat"], "CycloneDX");
    assert_eq!(
        bom["vulnerabilities"].as_array().unwrap().len(),
        cli["findings"].as_array().unwrap().len()
    );

    // The target is listed with its verdict, filtered as asked.
    let (status, targets, _) = call(
        &agent,
        "GET",
        &serve.url("/api/v1/targets?kind=image"),
        Some(&scan_token),
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(targets[0]["name"], image);
    assert_eq!(targets[0]["last_scan_id"], scan_id);
    let (status, none, _) = call(
        &agent,
        "GET",
        &serve.url("/api/v1/targets?kind=registry"),
        Some(&scan_token),
        None,
    );
    assert_eq!((status, none.as_array().unwrap().len()), (200, 0));
    let (status, err, _) = call(
        &agent,
        "GET",
        &serve.url("/api/v1/targets?kind=vm"),
        Some(&scan_token),
        None,
    );
    assert_eq!((status, err["code"].as_str()), (400, Some("invalid_input")));
    // The CLI against the console exits as the local scan does.
    let remote_env = {
        let mut e = env.clone();
        e.push(("VEDETTE_CONSOLE", serve.base.clone()));
        e.push(("VEDETTE_TOKEN", scan_token.clone()));
        e
    };
    let elsewhere = tmp.path().join("ci-job");
    for gate in [&[][..], &["--fail-on", "critical"][..]] {
        let mut args = vec![
            "scan",
            "image",
            &image,
            "--insecure-registry",
            "-q",
            "--format",
            "json",
        ];
        args.extend_from_slice(gate);
        let local = vedette(&cli_data, &env, &args);
        let remote = vedette(&elsewhere, &remote_env, &args);
        assert_eq!(
            remote.status.code(),
            local.status.code(),
            "{gate:?}: {}",
            out(&remote)
        );
        // The fixture has critical findings: the gate decides the code.
        let expected = if gate.is_empty() { 0 } else { 1 };
        assert_eq!(local.status.code(), Some(expected), "{}", out(&local));
        let (l, r): (Value, Value) = (
            serde_json::from_slice(&local.stdout).unwrap(),
            serde_json::from_slice(&remote.stdout).unwrap(),
        );
        assert_eq!(findings(&r), findings(&l));
    }
    assert!(
        !elsewhere.join("vedette.db").exists(),
        "against a console, nothing is stored locally"
    );
    let shown = vedette(
        &elsewhere,
        &remote_env,
        &["history", "show", &scan_id.to_string(), "--format", "json"],
    );
    assert!(shown.status.success(), "{}", out(&shown));
    let shown: Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(
        shown["diff"]["new"].as_array().unwrap().len(),
        cli["findings"].as_array().unwrap().len(),
        "the first scan: every finding is new"
    );
    assert_eq!(findings(&shown["report"]), findings(&cli));
    let listed = vedette(
        &elsewhere,
        &remote_env,
        &["target", "list", "--format", "json"],
    );
    assert!(listed.status.success(), "{}", out(&listed));
    let listed: Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(listed[0]["name"], image);
    let mut bad = remote_env.clone();
    bad.push(("VEDETTE_TOKEN", "vdt_wrong".into()));
    let refused = vedette(&elsewhere, &bad, &["history"]);
    assert_eq!(refused.status.code(), Some(3), "{}", out(&refused));
    assert!(out(&refused).contains("API token"), "{}", out(&refused));

    assert_eq!(serve.stop(), Some(0));
}

#[test]
fn tokens_are_kept_only_as_hashes_never_in_the_database_its_wal_or_the_logs() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let secret = token(&data, "ci", "admin");
    assert!(secret.starts_with("vdt_") && secret.len() > 40, "{secret}");
    let serve = ApiServe::start(&data, &[]);
    let agent = agent();
    for path in [
        "/api/v1/targets",
        "/api/v1/scans",
        "/api/v1/schedules",
        "/api/v1/nothing",
    ] {
        let (status, _, _) = call(&agent, "GET", &serve.url(path), Some(&secret), None);
        assert!(status == 200 || status == 404, "{path}: {status}");
    }
    let list = vedette(&data, &[], &["api", "token", "list", "--format", "json"]);
    let listed = String::from_utf8_lossy(&list.stdout).into_owned();
    let body = secret["vdt_".len()..].to_owned();
    // While it runs (the WAL is there) and after it stopped.
    let searched = not_in_files(&data, &serve.log, &body);
    assert!(
        searched.iter().any(|f| f.ends_with("vedette.db-wal")),
        "{searched:?}"
    );
    let log = serve.log.clone();
    assert_eq!(serve.stop(), Some(0));
    not_in_files(&data, &log, &body);
    assert!(!listed.contains(&body));
    let tokens: Value = serde_json::from_str(&listed).unwrap();
    assert!(
        tokens[0]["last_used_at"].is_string(),
        "its use is recorded: {tokens}"
    );
}

/// Searches every file of the data dir and the log for `needle`; the files
/// searched.
fn not_in_files(data: &Path, log: &Path, needle: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(data)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.push(log.to_owned());
    for f in &files {
        let mut bytes = Vec::new();
        std::fs::File::open(f)
            .unwrap()
            .read_to_end(&mut bytes)
            .unwrap();
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
            "the token is in {}",
            f.display()
        );
    }
    files
}

#[test]
fn schemathesis_finds_no_server_error_and_every_answer_matches_the_served_document() {
    let st = std::env::var("VEDETTE_SCHEMATHESIS")
        .expect("VEDETTE_SCHEMATHESIS names schemathesis's `st` (tests/setup.sh installs it)");
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let admin = token(&data, "schemathesis", "admin");
    // Whatever image or feed the generated requests name, nothing leaves
    // this machine: every outbound request goes to a closed local port.
    let env = [
        ("HTTPS_PROXY", "http://127.0.0.1:9".to_owned()),
        ("HTTP_PROXY", "http://127.0.0.1:9".to_owned()),
        ("NO_PROXY", String::new()),
        ("VEDETTE_FEED_URL", "http://127.0.0.1:9/osv".to_owned()),
        ("VEDETTE_KEV_URL", "none".to_owned()),
        ("VEDETTE_EPSS_URL", "none".to_owned()),
        ("VEDETTE_NVD_URL", "none".to_owned()),
        ("VEDETTE_API_RATE", "100000".to_owned()),
    ];
    let serve = ApiServe::start(&data, &env);
    let o = Command::new(st)
        .current_dir(tmp.path())
        .args([
            "run",
            &serve.url("/api/v1/openapi.json"),
            "-H",
            &format!("Authorization: Bearer {admin}"),
            // A stream that follows the log does not end.
            "--exclude-path",
            "/api/v1/events",
            // Adding a host connects to it over SSH, which no proxy setting
            // keeps on this machine (tests/cli/hosts.rs covers these).
            "--exclude-path",
            "/api/v1/hosts",
            "--exclude-path",
            "/api/v1/hosts/{id}/trust-key",
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
            "--seed",
            "1",
            "--max-time",
            "45",
        ])
        .output()
        .expect("run schemathesis");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "{text}");
    // Every operation of the document but the three left out above.
    let counts: Vec<usize> = text
        .lines()
        .find(|l| l.trim_start().starts_with("Operations:"))
        .map(|l| {
            l.split(|c: char| !c.is_ascii_digit())
                .filter_map(|n| n.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    assert!(
        matches!(counts[..], [selected, total] if selected + 3 == total && total >= 30),
        "every operation tested: {text}"
    );
    assert_eq!(serve.stop(), Some(0));
}

/// `vedette --console BASE … target list` with a read token, and what it says.
fn remote_targets(data: &Path, base: &str, token: &str, trust: &[&str]) -> std::process::Output {
    let mut args = vec!["--console", base];
    args.extend_from_slice(trust);
    args.extend_from_slice(&["target", "list"]);
    vedette(data, &[("VEDETTE_TOKEN", token.to_owned())], &args)
}

#[test]
fn beyond_loopback_the_api_answers_over_tls_only_and_clients_pin_its_certificate() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let client = tmp.path().join("client");
    let t = token(&data, "remote", "read");
    let serve = ApiServe::start_with(&data, &[], &["--api", "0.0.0.0:0"]);
    assert!(serve.base.starts_with("https://"), "{}", serve.base);
    let pin = serve
        .fingerprint
        .clone()
        .expect("the self-signed certificate's fingerprint is printed");
    // The oracle: openssl's SHA-256 of the certificate the console keeps.
    let cert = data.join("api-tls/cert.pem");
    let o = Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
        .arg(&cert)
        .output()
        .expect("openssl");
    let openssl = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(
        openssl
            .trim()
            .rsplit('=')
            .next()
            .unwrap()
            .replace(':', "")
            .to_lowercase(),
        pin
    );

    // No clear text: a plain HTTP request gets no answer.
    let plain = serve.base.replace("https://", "http://");
    let req = ureq::http::Request::builder()
        .uri(format!("{plain}/api/v1/health"))
        .body(Vec::new())
        .unwrap();
    assert!(agent().run(req).is_err(), "no answer in clear text");

    // Pinned: the CLI lists the targets; by CA file too.
    let o = remote_targets(&client, &serve.base, &t, &["--console-pin-sha256", &pin]);
    assert!(o.status.success(), "{}", out(&o));
    let ca = cert.to_string_lossy().into_owned();
    let o = remote_targets(&client, &serve.base, &t, &["--console-ca", &ca]);
    assert!(o.status.success(), "{}", out(&o));
    // Not trusted: refused, saying how to trust it.
    let o = remote_targets(&client, &serve.base, &t, &[]);
    assert!(!o.status.success());
    assert!(out(&o).contains("--console-pin-sha256"), "{}", out(&o));
    // Another pin: refused, naming both fingerprints.
    let other = "00".repeat(32);
    let o = remote_targets(&client, &serve.base, &t, &["--console-pin-sha256", &other]);
    assert!(!o.status.success());
    assert!(
        out(&o).contains(&pin) && out(&o).contains("not the pinned"),
        "{}",
        out(&o)
    );
    assert_eq!(serve.stop(), Some(0));
}

#[test]
fn a_given_certificate_is_served_and_trusted_through_its_ca() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    // A company CA and the console's certificate signed by it.
    let pki = vedette_tests::pki::Pki::new();
    let (ca, cert, key) = (
        pki.path("ca.crt"),
        pki.path("server.crt"),
        pki.path("server.key"),
    );
    let p = |p: &Path| p.to_string_lossy().into_owned();
    let t = token(&data, "remote", "read");
    let (c, k) = (
        cert.to_string_lossy().into_owned(),
        key.to_string_lossy().into_owned(),
    );
    let serve = ApiServe::start_with(
        &data,
        &[],
        &["--api", "127.0.0.1:0", "--tls-cert", &c, "--tls-key", &k],
    );
    assert!(
        serve.base.starts_with("https://127.0.0.1:"),
        "{}",
        serve.base
    );
    let o = remote_targets(
        &tmp.path().join("client"),
        &serve.base,
        &t,
        &["--console-ca", &p(&ca)],
    );
    assert!(o.status.success(), "{}", out(&o));
    assert!(
        !data.join("api-tls").exists(),
        "nothing generated when a certificate is given"
    );
    assert_eq!(serve.stop(), Some(0));

    // A key that is not the certificate's: refused before serving.
    let other = tmp.path().join("other.pem");
    let o = Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-out",
        ])
        .arg(&other)
        .output()
        .unwrap();
    assert!(o.status.success());
    let o = command(
        &data,
        &[],
        &[
            "serve",
            "--api",
            "127.0.0.1:0",
            "--tls-cert",
            &c,
            "--tls-key",
            &other.to_string_lossy(),
        ],
    )
    .output()
    .unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", out(&o));
    assert!(
        out(&o).contains("does not serve the certificate"),
        "{}",
        out(&o)
    );
}

#[test]
fn a_token_over_its_rate_is_told_when_to_come_back() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let t = token(&data, "busy", "read");
    let other = token(&data, "calm", "read");
    // One request a second, bursts of four.
    let serve = ApiServe::start(&data, &[("VEDETTE_API_RATE", "1".to_owned())]);
    let agent = agent();
    let url = serve.url("/api/v1/targets");
    let answers: Vec<(u16, ureq::http::HeaderMap)> = (0..10)
        .map(|_| {
            let (status, _, headers) = call(&agent, "GET", &url, Some(&t), None);
            (status, headers)
        })
        .collect();
    assert_eq!(answers[0].0, 200);
    let limited = answers
        .iter()
        .find(|(s, _)| *s == 429)
        .expect("ten requests at once exceed one a second with bursts of four");
    assert!(limited.1.contains_key("retry-after"));
    // The limit is per token: another token is answered.
    assert_eq!(call(&agent, "GET", &url, Some(&other), None).0, 200);
    assert_eq!(serve.stop(), Some(0));
}

#[test]
fn targets_come_a_page_at_a_time_and_a_body_over_the_cap_is_refused_unread() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let t = token(&data, "admin", "admin");
    let serve = ApiServe::start(&data, &[]);
    let agent = agent();
    let mut added = Vec::new();
    for i in 0..7 {
        let dir = tmp.path().join(format!("dir{i}"));
        std::fs::create_dir_all(&dir).unwrap();
        let body = json!({"kind": "directory", "name": dir, "group": "paging"});
        let (status, target, _) = call(
            &agent,
            "POST",
            &serve.url("/api/v1/targets"),
            Some(&t),
            Some(body.to_string().as_bytes()),
        );
        assert_eq!(status, 201, "{target}");
        added.push(target["id"].as_i64().unwrap());
    }
    // Follow the Link headers, three at a time, the filter kept.
    let mut url = serve.url("/api/v1/targets?group=paging&limit=3");
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let (status, page, headers) = call(&agent, "GET", &url, Some(&t), None);
        assert_eq!(status, 200, "{page}");
        assert_eq!(headers.get("x-total-count").unwrap(), "7");
        let page = page.as_array().unwrap();
        assert!(page.len() <= 3);
        seen.extend(page.iter().map(|v| v["id"].as_i64().unwrap()));
        pages += 1;
        let Some(link) = headers.get("link") else {
            break;
        };
        let link = link.to_str().unwrap();
        assert!(
            link.contains("group=paging") && link.ends_with("rel=\"next\""),
            "{link}"
        );
        url = serve.url(link.trim_start_matches('<').split('>').next().unwrap());
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, added, "every target once, by name (dir0 … dir6)");
    let (status, e, _) = call(
        &agent,
        "GET",
        &serve.url("/api/v1/targets?limit=0"),
        Some(&t),
        None,
    );
    assert_eq!(status, 400, "{e}");
    // One target by id.
    let (status, one, _) = call(
        &agent,
        "GET",
        &serve.url(&format!("/api/v1/targets/{}", added[4])),
        Some(&t),
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(one["id"], added[4]);
    assert_eq!(one["verdict"], "not_scanned");

    // A body declared at 2 MiB: 413 at once, before it is sent.
    use std::io::Write;
    let addr = serve.base.trim_start_matches("http://");
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(
        conn,
        "POST /api/v1/targets HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {t}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{{",
        2 * 1024 * 1024
    )
    .unwrap();
    let mut answer = [0u8; 512];
    let n = conn.read(&mut answer).unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("at most 1048576"), "{answer}");
    assert_eq!(serve.stop(), Some(0));
}

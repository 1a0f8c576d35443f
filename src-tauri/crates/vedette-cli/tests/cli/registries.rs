//! Registry targets: crawling a real docker-registry (catalog and tag lists
//! page by page) through a fault-injecting proxy, the tag selectors, 429 and
//! Docker Hub's rate-limit headers, and images whose digest did not change
//! not being pulled again.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;
use vedette_tests::proxy::{Action, Fault, FaultProxy};
use vedette_tests::registry::{oci_layout_created, shared, Layer, Registry};

use crate::schedules::history;
use crate::vulns::{out, run as vedette, Mirror};

/// Pushes the Debian fixture (plus a file, so each image differs) as
/// `repo:tag`, built at `created`; returns the layer digests.
fn push(reg: &Registry, dir: &Path, repo: &str, tag: &str, created: &str) -> BTreeSet<String> {
    let layout = dir.join(format!("{}-{tag}", repo.replace('/', "-")));
    oci_layout_created(
        &layout,
        &[
            Layer::from_dir(shared("fixtures/debian-12-minbase")),
            Layer::default().file("etc/build", format!("{repo}:{tag}").as_bytes()),
        ],
        tag,
        created,
    );
    reg.push(&layout, repo, tag);
    let index: Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let m = index["manifests"][0]["digest"].as_str().unwrap();
    let manifest: Value = serde_json::from_slice(
        &std::fs::read(
            layout
                .join("blobs/sha256")
                .join(m.trim_start_matches("sha256:")),
        )
        .unwrap(),
    )
    .unwrap();
    manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["digest"].as_str().unwrap().to_owned())
        .collect()
}

fn too_many(path: &'static str, headers: Vec<(&'static str, String)>) -> Fault {
    Fault {
        method: Some("GET"),
        path_contains: path,
        times: 1,
        action: Action::Status(429, headers),
    }
}

#[test]
fn a_registry_is_crawled_page_by_page_through_429s_and_unchanged_images_are_not_pulled_again() {
    let mirror = Mirror::start();
    let reg = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let mut layers = BTreeSet::new();
    layers.extend(push(
        &reg,
        tmp.path(),
        "shop/api",
        "1.0",
        "2026-11-01T10:00:00Z",
    ));
    layers.extend(push(
        &reg,
        tmp.path(),
        "shop/api",
        "1.1",
        "2026-11-20T10:00:00Z",
    ));
    layers.extend(push(
        &reg,
        tmp.path(),
        "shop/api",
        "old",
        "2025-01-01T10:00:00Z",
    ));
    layers.extend(push(
        &reg,
        tmp.path(),
        "shop/web",
        "1",
        "2026-11-02T10:00:00Z",
    ));
    push(&reg, tmp.path(), "other/db", "1", "2026-11-27T10:00:00Z");
    let proxy = FaultProxy::start(reg.port());
    let host = proxy.host();
    let data = tmp.path().join("data");
    let mut env = mirror.env();
    // One entry per page: the catalog (3 repositories) is only complete by
    // following its `Link` headers.
    env.push(("VEDETTE_CRAWL_PAGE_SIZE", "1".into()));

    // A bad selector is refused before anything is stored.
    let o = vedette(
        &data,
        &env,
        &["target", "add", "registry", &host, "--tags", "newest:2"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    assert!(
        out(&o).contains("latest:N, tags:A,B or regex:PATTERN"),
        "{}",
        out(&o)
    );
    let o = vedette(
        &data,
        &env,
        &["target", "add", "registry", &host, "--tags", "regex:v(1"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    assert!(
        out(&o).contains("is not a regular expression"),
        "{}",
        out(&o)
    );

    // The registry as the rest of the test watches it: the newest image of
    // each shop/ repository, in group prod.
    let watch_shop = |extra: &[&str]| {
        let mut args = vec![
            "target",
            "add",
            "registry",
            &host,
            "--repos",
            "shop/*",
            "--tags",
            "latest:1",
            "--insecure",
            "--group",
            "prod",
        ];
        args.extend_from_slice(extra);
        vedette(&data, &env, &args)
    };
    let o = watch_shop(&["--rate", "50"]);
    assert!(o.status.success(), "{}", out(&o));

    // What the selector picks: the newest image of each shop/ repository.
    proxy.inject(too_many("/v2/_catalog", vec![("Retry-After", "1".into())]));
    proxy.inject(too_many("/tags/list", vec![("Retry-After", "1".into())]));
    let o = vedette(&data, &env, &["target", "crawl", &host]);
    assert!(o.status.success(), "{}", out(&o));
    let listed: BTreeSet<String> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect();
    assert_eq!(
        listed,
        BTreeSet::from([format!("{host}/shop/api:1.1"), format!("{host}/shop/web:1")]),
        "{}",
        out(&o)
    );
    let log = proxy.requests();
    for what in [
        "/v2/_catalog?n=1 -> 429",
        "/v2/shop/api/tags/list?n=1 -> 429",
    ] {
        let i = log
            .iter()
            .position(|l| l.contains(what))
            .unwrap_or_else(|| panic!("no {what} in {log:#?}"));
        let path = what.split(" -> ").next().unwrap();
        assert!(
            log[i + 1..]
                .iter()
                .any(|l| l.contains(&format!("{path} -> 200"))),
            "the request after the 429 was not retried: {log:#?}"
        );
    }
    assert!(
        log.iter().any(|l| l.contains("/v2/_catalog?last=")),
        "the catalog's next page was not followed: {log:#?}"
    );
    // (Debian's docker-registry 2.8 answers the tag list in one page
    // whatever `n` says; tag lists go through the same pager as the catalog.)

    // Another selector: tags by pattern.
    let o = vedette(&data, &env, &["target", "remove", &host]);
    assert!(o.status.success(), "{}", out(&o));
    let o = vedette(
        &data,
        &env,
        &[
            "target",
            "add",
            "registry",
            &host,
            "--repos",
            "shop/api",
            "--tags",
            r"regex:1\.\d+",
            "--insecure",
        ],
    );
    assert!(o.status.success(), "{}", out(&o));
    let o = vedette(&data, &env, &["target", "crawl", &host]);
    let listed = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        listed.contains(":1.0 ") && listed.contains(":1.1 ") && !listed.contains(":old "),
        "{}",
        out(&o)
    );
    vedette(&data, &env, &["target", "remove", &host]);
    let o = watch_shop(&[]);
    assert!(o.status.success(), "{}", out(&o));

    // A scheduled run crawls and scans what the crawl picked.
    let o = vedette(
        &data,
        &env,
        &[
            "schedule",
            "add",
            "--name",
            "prod registry",
            "--cron",
            "0 0 1 1 *",
            "--group",
            "prod",
        ],
    );
    assert!(o.status.success(), "{}", out(&o));
    let before = proxy.requests().len();
    let o = vedette(&data, &env, &["schedule", "run", "2"]);
    assert!(o.status.success(), "{}", out(&o));
    let first_run: Vec<String> = proxy.requests()[before..].to_vec();
    let pulled: BTreeSet<&String> = layers
        .iter()
        .filter(|l| first_run.iter().any(|r| r.contains(l.as_str())))
        .collect();
    assert!(
        pulled.len() >= 3,
        "the first run pulled no layers: {first_run:#?}"
    );
    let o = vedette(&data, &env, &["target", "list", "--format", "json"]);
    let targets: Vec<Value> = serde_json::from_slice(&o.stdout).unwrap();
    let images: BTreeSet<String> = targets
        .iter()
        .filter(|t| t["kind"] == "image")
        .map(|t| {
            assert_eq!(
                t["group"], "prod",
                "a crawled image goes with its registry: {t:#}"
            );
            assert!(t["parent_id"].is_number(), "{t:#}");
            t["name"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(
        images,
        BTreeSet::from([format!("{host}/shop/api:1.1"), format!("{host}/shop/web:1")])
    );

    // Nothing changed: the second run reads manifests, pulls no layer.
    let before = proxy.requests().len();
    let o = vedette(&data, &env, &["schedule", "run", "2"]);
    assert!(o.status.success(), "{}", out(&o));
    assert_eq!(
        out(&o).matches("digest unchanged: not pulled").count(),
        2,
        "{}",
        out(&o)
    );
    let second_run: Vec<String> = proxy.requests()[before..].to_vec();
    let pulled_again: Vec<&String> = second_run
        .iter()
        .filter(|r| layers.iter().any(|l| r.contains(l.as_str())))
        .collect();
    assert!(
        pulled_again.is_empty(),
        "layers pulled again: {pulled_again:#?}"
    );
    // ... nor reads a manifest or a config: one HEAD per tag of the
    // selected repositories tells that nothing changed.
    let reads: Vec<&String> = second_run
        .iter()
        .filter(|r| r.starts_with("GET") && (r.contains("/manifests/") || r.contains("/blobs/")))
        .collect();
    let heads = second_run
        .iter()
        .filter(|r| r.starts_with("HEAD") && r.contains("/manifests/"))
        .count();
    println!(
        "second crawl of the unchanged registry: {heads} manifest HEADs, {} manifest or blob GETs, {} requests in all",
        reads.len(),
        second_run.len()
    );
    assert!(reads.is_empty(), "{reads:#?}");
    assert_eq!(heads, 4, "shop/api has 3 tags, shop/web 1: {second_run:#?}");
    let h = history(&data);
    let ok = h
        .iter()
        .filter(|s| s["trigger"] == "schedule" && s["state"] == "succeeded")
        .count();
    assert_eq!(
        ok, 4,
        "two runs of two images each are in the history: {h:#?}"
    );

    // Trends of the group: today's open findings are those of its images'
    // newest scans.
    let o = vedette(
        &data,
        &env,
        &["trends", "--group", "prod", "--format", "json"],
    );
    assert!(o.status.success(), "{}", out(&o));
    let t: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(t["scope"], "group prod");
    let today = t["daily"].as_array().unwrap().last().unwrap()["open"].clone();
    let newest = |name: String| {
        h.iter()
            .filter(|s| s["target_name"] == name.as_str() && s["state"] == "succeeded")
            .max_by_key(|s| s["id"].as_i64())
            .unwrap()["counts"]
            .clone()
    };
    let (api, web) = (
        newest(format!("{host}/shop/api:1.1")),
        newest(format!("{host}/shop/web:1")),
    );
    for sev in ["critical", "high", "medium", "low", "unknown"] {
        assert_eq!(
            today[sev].as_i64().unwrap(),
            api[sev].as_i64().unwrap() + web[sev].as_i64().unwrap(),
            "{sev}: {t:#}"
        );
    }
    assert!(today["critical"].as_i64().unwrap() > 0, "{t:#}");
    let o = vedette(&data, &env, &["trends", "--group", "staging"]);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));

    // A new image pushed since: the next run picks it up and pulls it.
    let newer = push(&reg, tmp.path(), "shop/api", "1.2", "2026-11-27T10:00:00Z");
    let before = proxy.requests().len();
    let o = vedette(&data, &env, &["schedule", "run", "2"]);
    assert!(o.status.success(), "{}", out(&o));
    assert!(
        out(&o).contains(&format!("{host}/shop/api:1.2")),
        "{}",
        out(&o)
    );
    let third_run = &proxy.requests()[before..];
    assert!(
        newer
            .iter()
            .any(|l| third_run.iter().any(|r| r.contains(l.as_str()))),
        "the new image was not pulled: {third_run:#?}"
    );
}

#[test]
fn docker_hub_style_rate_limit_headers_stop_the_retries_and_say_how_many_pulls_are_left() {
    let mirror = Mirror::start();
    let reg = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    push(
        &reg,
        tmp.path(),
        "library/debian",
        "12",
        "2026-11-01T10:00:00Z",
    );
    let proxy = FaultProxy::start(reg.port());
    let data = tmp.path().join("data");
    proxy.inject(Fault {
        method: Some("GET"),
        path_contains: "/manifests/12",
        times: 5,
        action: Action::Status(
            429,
            vec![
                ("ratelimit-limit", "100;w=21600".into()),
                ("ratelimit-remaining", "0;w=21600".into()),
            ],
        ),
    });
    let image = format!("{}/library/debian:12", proxy.host());
    let o = vedette(
        &data,
        &mirror.env(),
        &[
            "scan",
            "image",
            &image,
            "--insecure-registry",
            "--packages-only",
        ],
    );
    assert_eq!(o.status.code(), Some(3), "{}", out(&o));
    assert!(
        out(&o).contains("0 of 100 pulls left in its 6 h window"),
        "{}",
        out(&o)
    );
    let asked = proxy
        .requests()
        .iter()
        .filter(|r| r.contains("/manifests/12"))
        .count();
    assert_eq!(
        asked,
        1,
        "no retry inside the window: {:#?}",
        proxy.requests()
    );
}

/// Images scanned with `--insecure-registry`, then their registry watched
/// with `--insecure`: a scheduled run scans each image once, the way it was
/// scanned (plain HTTP, remembered), and none fails.
#[test]
fn a_run_scans_each_image_once_as_it_was_scanned_before() {
    let mirror = Mirror::start();
    let reg = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    push(&reg, tmp.path(), "shop/api", "1.0", "2026-11-01T10:00:00Z");
    push(&reg, tmp.path(), "shop/web", "1", "2026-11-02T10:00:00Z");
    let host = reg.host();
    let data = tmp.path().join("data");
    let env = mirror.env();
    for image in ["shop/api:1.0", "shop/web:1"] {
        let o = vedette(
            &data,
            &env,
            &[
                "scan",
                "image",
                &format!("{host}/{image}"),
                "--insecure-registry",
                "-q",
                "-o",
                "/dev/null",
            ],
        );
        assert!(o.status.success(), "{}", out(&o));
    }
    // An image watched by itself, added the same way.
    push(&reg, tmp.path(), "tools/cli", "2", "2026-11-03T10:00:00Z");
    let o = vedette(
        &data,
        &env,
        &[
            "target",
            "add",
            "image",
            &format!("{host}/tools/cli:2"),
            "--insecure-registry",
        ],
    );
    assert!(o.status.success(), "{}", out(&o));
    let o = vedette(
        &data,
        &env,
        &[
            "target",
            "add",
            "registry",
            &host,
            "--repos",
            "shop/*",
            "--insecure",
        ],
    );
    assert!(o.status.success(), "{}", out(&o));
    let o = vedette(
        &data,
        &env,
        &["schedule", "add", "--name", "all", "--preset", "daily"],
    );
    assert!(o.status.success(), "{}", out(&o));
    let o = vedette(&data, &env, &["schedule", "run", "2"]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let scheduled: Vec<Value> = history(&data)
        .into_iter()
        .filter(|s| s["trigger"] == "schedule")
        .collect();
    let mut names: Vec<&str> = scheduled
        .iter()
        .map(|s| s["target_name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            format!("{host}/shop/api:1.0"),
            format!("{host}/shop/web:1"),
            format!("{host}/tools/cli:2")
        ],
        "each image once: {scheduled:#?}"
    );
    assert!(
        scheduled.iter().all(|s| s["state"] == "succeeded"),
        "{scheduled:#?}"
    );
    // The target list says how each is reached.
    let o = vedette(&data, &env, &["target", "list"]);
    let list = String::from_utf8_lossy(&o.stdout);
    let cli = list.lines().find(|l| l.contains("tools/cli:2")).unwrap();
    assert!(cli.contains("plain HTTP or unverified TLS"), "{list}");
}

#[test]
fn a_registry_behind_a_private_ca_is_scanned_with_verification_on_and_with_a_client_certificate_when_it_asks(
) {
    use vedette_tests::pki::Pki;
    use vedette_tests::registry::RegistryTls;
    let pki = Pki::new();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mirror = Mirror::start();
    // What skopeo pushes with: the CA and the client certificate.
    let push_certs = pki.certs_d(tmp.path(), "push", true);
    let scan = |reference: &str, certs: &Path| {
        let mut env = mirror.env();
        env.push(("VEDETTE_CERTS_DIR", certs.display().to_string()));
        vedette(
            &data,
            &env,
            &["scan", "image", reference, "-q", "-o", "/dev/null"],
        )
    };
    for mtls in [false, true] {
        let reg = Registry::start_tls(&RegistryTls {
            cert: &pki.path("server.crt"),
            key: &pki.path("server.key"),
            client_ca: mtls.then(|| pki.path("ca.crt")).as_deref(),
            push_certs: &push_certs,
        });
        let image = crate::scan::push(
            &reg,
            tmp.path(),
            vec![Layer::from_dir(shared("fixtures/debian-12-minbase"))],
            if mtls { "private/mtls" } else { "private/ca" },
        );
        // Not trusted: refused, saying where the CA goes; never over HTTP.
        let nothing = tmp.path().join(format!("no-certs-{mtls}"));
        std::fs::create_dir_all(&nothing).unwrap();
        let o = scan(&image, &nothing);
        assert!(!o.status.success(), "{}", out(&o));
        let said = out(&o);
        assert!(
            said.contains("not trusted")
                && said.contains(&format!("/etc/docker/certs.d/{}/ca.crt", reg.host())),
            "{said}"
        );
        // Its CA in a certs.d folder: scanned with verification on.
        let certs = tmp.path().join(format!("certs-{mtls}"));
        pki.certs_d(&certs, &reg.host(), false);
        let o = scan(&image, &certs);
        if mtls {
            // The registry asks for a client certificate: refused without
            // one, scanned with it.
            assert!(!o.status.success(), "{}", out(&o));
            pki.certs_d(&certs, &reg.host(), true);
            let o = scan(&image, &certs);
            assert!(
                o.status.success(),
                "with the client certificate: {}",
                out(&o)
            );
        } else {
            assert!(o.status.success(), "with the CA: {}", out(&o));
        }
    }
}

/// The GETs and HEADs a run sent, by kind.
fn count(requests: &[String], method: &str, what: &str) -> usize {
    requests
        .iter()
        .filter(|r| r.starts_with(method) && r.contains(what))
        .count()
}

/// A repository of 10,000 tags over 50 images (the bench `crawl_scale`
/// does 100,000; here the size is what a test run can afford, as the
/// registry answers some 700 HEADs a second on two cores).
#[test]
fn a_repository_of_10000_tags_is_crawled_with_heads_and_each_digest_is_pulled_once() {
    const TAGS: usize = 10_000;
    const DIGESTS: usize = 50;
    let mirror = Mirror::start();
    let reg = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let layers = push(&reg, tmp.path(), "big/app", "base", "2025-01-01T00:00:00Z");
    // 50 images (the same layers, each its own config, an hour apart), and
    // 10,000 tags over them written into the registry's storage.
    let digests = reg.variants("big/app", "base", DIGESTS, "2026-06-01T00:00:00Z");
    reg.link_tags(
        "big/app",
        (0..TAGS).map(|i| (format!("t-{i:06}"), digests[i % DIGESTS].as_str())),
    );
    let proxy = FaultProxy::start(reg.port());
    let host = proxy.host();
    let data = tmp.path().join("data");
    let env = mirror.env();
    let add = |selector: &str| {
        let o = vedette(
            &data,
            &env,
            &[
                "target",
                "add",
                "registry",
                &host,
                "--repos",
                "big/app",
                "--tags",
                selector,
                "--insecure",
            ],
        );
        assert!(o.status.success(), "{}", out(&o));
    };
    add("latest:3");
    let o = vedette(
        &data,
        &env,
        &["schedule", "add", "--name", "big", "--cron", "0 0 1 1 *"],
    );
    assert!(o.status.success(), "{}", out(&o));

    let run = |label: &str| -> (Vec<String>, String) {
        let before = proxy.requests().len();
        let started = std::time::Instant::now();
        let o = vedette(&data, &env, &["schedule", "run", "1"]);
        assert!(o.status.success(), "{}", out(&o));
        let reqs = proxy.requests()[before..].to_vec();
        println!(
            "{label}: {} manifest HEADs, {} manifest GETs, {} blob GETs in {:.1} s",
            count(&reqs, "HEAD", "/manifests/"),
            count(&reqs, "GET", "/manifests/"),
            count(&reqs, "GET", "/blobs/"),
            started.elapsed().as_secs_f64()
        );
        (reqs, out(&o))
    };

    // The first run is killed mid-crawl, once 3,000 tags have had their
    // HEAD: each of the 51 digests' manifest read once (not once per tag),
    // and the first five chunks of 500 tags kept.
    let mut first = crate::vulns::command(&data, &env, &["schedule", "run", "1"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let before = proxy.requests().len();
    vedette_tests::wait_for(
        "3,000 HEADs of the first crawl",
        std::time::Duration::from_secs(120),
        || (count(&proxy.requests()[before..], "HEAD", "/manifests/") >= 3000).then_some(()),
    );
    first.kill().unwrap();
    first.wait().unwrap();
    let killed = proxy.requests()[before..].to_vec();
    assert_eq!(count(&killed, "GET", "/manifests/"), DIGESTS + 1);

    // The next run resumes after the last chunk kept: it reads no manifest
    // again but those of the three images it pulls, once each.
    let (reqs, o) = run("resumed crawl of 10,000 tags");
    let heads = count(&reqs, "HEAD", "/manifests/");
    assert!(
        heads > 0 && heads <= TAGS + 1 - 2500,
        "{heads} HEADs after a kill at 3,000: {o}"
    );
    assert_eq!(count(&reqs, "GET", "/manifests/"), 3, "{o}");
    for l in &layers {
        assert_eq!(
            count(&reqs, "GET", l),
            3,
            "layer {l} is pulled once per image scanned"
        );
    }
    let o = vedette(&data, &env, &["target", "list", "--format", "json"]);
    let targets: Vec<Value> = serde_json::from_slice(&o.stdout).unwrap();
    let images: BTreeSet<String> = targets
        .iter()
        .filter(|t| t["kind"] == "image")
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect();
    // The newest three digests are the 48th to 50th; the first tag of each.
    assert_eq!(
        images,
        BTreeSet::from([
            format!("{host}/big/app:t-000047"),
            format!("{host}/big/app:t-000048"),
            format!("{host}/big/app:t-000049"),
        ])
    );

    // Unchanged: one HEAD per tag, nothing else read.
    let (reqs, o) = run("second crawl, nothing changed");
    assert_eq!(count(&reqs, "HEAD", "/manifests/"), TAGS + 1, "{o}");
    assert_eq!(count(&reqs, "GET", "/manifests/"), 0, "{o}");
    assert_eq!(count(&reqs, "GET", "/blobs/"), 0, "{o}");

    // Twenty tags over ten digests: ten pulls, twenty scans.
    let o = vedette(&data, &env, &["target", "remove", &host]);
    assert!(o.status.success(), "{}", out(&o));
    add("regex:t-0000[0-9][05]");
    let (reqs, o) = run("twenty tags over ten digests");
    assert_eq!(count(&reqs, "HEAD", "/manifests/"), 20, "{o}");
    for l in &layers {
        assert_eq!(
            count(&reqs, "GET", l),
            10,
            "one pull per digest, not per tag: {o}"
        );
    }
    let h = history(&data);
    let regex_run: Vec<&Value> = h
        .iter()
        .filter(|s| {
            s["state"] == "succeeded"
                && s["target_name"]
                    .as_str()
                    .is_some_and(|t| !["47", "48", "49"].iter().any(|n| t.ends_with(n)))
        })
        .collect();
    assert_eq!(regex_run.len(), 20, "{h:#?}");
}

#[test]
fn a_harbor_is_crawled_through_its_api_by_a_robot_account_choosing_latest_by_push_time() {
    use vedette_tests::harbor::{Artifact, HarborApi, Repo};
    let mirror = Mirror::start();
    let reg = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    // Built (config `created`) in one order, pushed in the other: Harbor's
    // push time decides `latest`, without reading a config.
    push(&reg, tmp.path(), "shop/api", "1.0", "2026-11-20T10:00:00Z");
    push(&reg, tmp.path(), "shop/api", "1.1", "2026-11-01T10:00:00Z");
    push(&reg, tmp.path(), "shop/web", "1", "2026-11-02T10:00:00Z");
    push(&reg, tmp.path(), "other/db", "1", "2026-11-03T10:00:00Z");
    let art = |repo: &str, tag: &str, pushed: &str| Artifact {
        digest: reg.tag_digest(repo, tag),
        push_time: pushed.into(),
        tags: vec![tag.into()],
    };
    let proxy = FaultProxy::start(reg.port());
    proxy.serve_harbor(HarborApi {
        repos: vec![
            Repo {
                name: "shop/api".into(),
                artifacts: vec![
                    art("shop/api", "1.0", "2026-11-21T09:00:00.000Z"),
                    art("shop/api", "1.1", "2026-11-25T09:00:00.000Z"),
                ],
            },
            Repo {
                name: "shop/web".into(),
                artifacts: vec![art("shop/web", "1", "2026-11-22T09:00:00.000Z")],
            },
            Repo {
                name: "other/db".into(),
                artifacts: vec![art("other/db", "1", "2026-11-23T09:00:00.000Z")],
            },
        ],
        robot: ("robot$shop+ci".into(), "robot-secret-1".into()),
    });
    let host = proxy.host();
    let data = tmp.path().join("data");
    let mut env = mirror.env();
    // One entry per page: every listing is complete only through its Links.
    env.push(("VEDETTE_CRAWL_PAGE_SIZE", "1".into()));
    let o = vedette(
        &data,
        &env,
        &[
            "target",
            "add",
            "registry",
            &host,
            "--repos",
            "shop/*",
            "--tags",
            "latest:1",
            "--insecure",
        ],
    );
    assert!(o.status.success(), "{}", out(&o));

    // Without the robot's credentials Harbor's API refuses the listing.
    let o = vedette(&data, &env, &["target", "crawl", &host]);
    assert!(!o.status.success(), "{}", out(&o));
    assert!(out(&o).contains("401"), "{}", out(&o));

    // With them (a CI job's variables), the crawl goes through the API.
    env.push(("VEDETTE_REGISTRY_USERNAME", "robot$shop+ci".into()));
    env.push(("VEDETTE_REGISTRY_PASSWORD", "robot-secret-1".into()));
    let before = proxy.requests().len();
    let (crawl, _) = crawl_json(&data, &env, &host);
    let refs = references(&crawl);
    assert_eq!(
        refs,
        BTreeSet::from([
            format!("{host}/shop/api:1.1").as_str(),
            format!("{host}/shop/web:1").as_str()
        ]),
        "the last pushed of shop/api, though built first: {crawl:#}"
    );
    let reqs = proxy.requests()[before..].to_vec();
    println!("Harbor crawl: {reqs:#?}");
    assert!(
        reqs.iter().all(|r| r.contains("/api/v2.0/")),
        "no catalog, tag list, manifest or config read: {reqs:#?}"
    );
    assert!(
        reqs.iter()
            .any(|r| r.contains("/projects?") && r.contains("page=2")),
        "pages followed: {reqs:#?}"
    );

    // A scheduled run scans what the crawl chose, pulling through /v2/.
    let o = vedette(
        &data,
        &env,
        &["schedule", "add", "--name", "harbor", "--cron", "0 0 1 1 *"],
    );
    assert!(o.status.success(), "{}", out(&o));
    let o = vedette(&data, &env, &["schedule", "run", "1"]);
    assert!(o.status.success(), "{}", out(&o));
    let h = history(&data);
    let scanned: BTreeSet<&str> = h
        .iter()
        .filter(|s| s["state"] == "succeeded")
        .filter_map(|s| s["target_name"].as_str())
        .collect();
    assert_eq!(scanned, refs, "{h:#?}");

    // A robot without access to a project: the refusal is named.
    proxy.inject(Fault {
        method: Some("GET"),
        path_contains: "/api/v2.0/projects/shop/repositories/web/",
        times: 1,
        action: Action::Status(403, vec![]),
    });
    let o = vedette(&data, &env, &["target", "crawl", &host]);
    assert!(
        out(&o).contains("shop/web") && out(&o).contains("403"),
        "{}",
        out(&o)
    );
}

#[test]
fn docker_hub_is_crawled_through_its_api_spending_no_pull_and_latest_goes_by_push_time() {
    use vedette_tests::dockerhub::{HubApi, HubTag};
    let mirror = Mirror::start();
    let reg = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    push(&reg, tmp.path(), "acme/api", "1.0", "2026-11-20T10:00:00Z");
    push(&reg, tmp.path(), "acme/api", "1.1", "2026-11-01T10:00:00Z");
    push(
        &reg,
        tmp.path(),
        "acme/api",
        "2.0-arm",
        "2026-11-02T10:00:00Z",
    );
    let tag = |name: &str, pushed: &str, platform: (&str, &str)| HubTag {
        name: name.into(),
        pushed: pushed.into(),
        images: vec![(
            platform.0.into(),
            platform.1.into(),
            reg.tag_digest("acme/api", name),
        )],
    };
    let proxy = FaultProxy::start(reg.port());
    proxy.serve_hub(HubApi {
        repos: vec![(
            "acme/api".into(),
            vec![
                tag("1.0", "2026-11-21T09:00:00Z", ("linux", "amd64")),
                tag("1.1", "2026-11-25T09:00:00Z", ("linux", "amd64")),
                // Pushed last, but for another platform only.
                tag("2.0-arm", "2026-11-28T09:00:00Z", ("linux", "arm64")),
            ],
        )],
    });
    let host = proxy.host();
    let data = tmp.path().join("data");
    let mut env = mirror.env();
    env.push(("VEDETTE_CRAWL_PAGE_SIZE", "1".into()));
    env.push(("VEDETTE_DOCKER_HUB_API", format!("http://{host}")));
    let o = vedette(
        &data,
        &env,
        &[
            "target",
            "add",
            "registry",
            &host,
            "--repos",
            "acme/api",
            "--tags",
            "latest:1",
            "--insecure",
            "--kind",
            "dockerhub",
        ],
    );
    assert!(o.status.success(), "{}", out(&o));
    let before = proxy.requests().len();
    let o = vedette(&data, &env, &["target", "crawl", &host, "--format", "json"]);
    assert!(o.status.success(), "{}", out(&o));
    let crawl: Value = serde_json::from_slice(&o.stdout).unwrap();
    let refs: Vec<&str> = crawl["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["reference"].as_str().unwrap())
        .collect();
    assert_eq!(
        refs,
        [format!("{host}/acme/api:1.1").as_str()],
        "the last pushed amd64 tag, though built first: {crawl:#}"
    );
    assert_eq!(
        crawl["images"][0]["digest"],
        reg.tag_digest("acme/api", "1.1").as_str()
    );
    assert!(
        crawl["warnings"][0]
            .as_str()
            .is_some_and(|w| w
                .contains("2.0-arm has no image for the platform scanned (it offers linux/arm64)")),
        "{crawl:#}"
    );
    let reqs = proxy.requests()[before..].to_vec();
    assert_eq!(reqs.len(), 3, "three pages of one tag: {reqs:#?}");
    assert!(
        reqs.iter()
            .all(|r| r.starts_with("GET /v2/namespaces/acme/repositories/api/tags")),
        "no registry request, so no pull spent: {reqs:#?}"
    );

    // The run scans the chosen image, pulling it from the registry.
    let o = vedette(
        &data,
        &env,
        &["schedule", "add", "--name", "hub", "--cron", "0 0 1 1 *"],
    );
    assert!(o.status.success(), "{}", out(&o));
    let o = vedette(&data, &env, &["schedule", "run", "1"]);
    assert!(o.status.success(), "{}", out(&o));
    let h = history(&data);
    assert!(
        h.iter().any(|s| s["state"] == "succeeded"
            && s["target_name"] == format!("{host}/acme/api:1.1").as_str()),
        "{h:#?}"
    );

    // A wildcard cannot be listed on Docker Hub: said at once.
    let o = vedette(&data, &env, &["target", "remove", &host]);
    assert!(o.status.success(), "{}", out(&o));
    let o = vedette(
        &data,
        &env,
        &[
            "target",
            "add",
            "registry",
            &host,
            "--repos",
            "acme/*",
            "--insecure",
            "--kind",
            "dockerhub",
        ],
    );
    assert!(o.status.success(), "{}", out(&o));
    let o = vedette(&data, &env, &["target", "crawl", &host]);
    assert!(
        out(&o).contains("Docker Hub lists no repositories to match 'acme/*'"),
        "{}",
        out(&o)
    );
}

#[test]
fn ghcr_is_crawled_through_githubs_packages_api_with_a_personal_access_token() {
    use vedette_tests::github::{GithubApi, Version};
    let mirror = Mirror::start();
    let reg = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    push(&reg, tmp.path(), "acme/api", "1.0", "2026-11-20T10:00:00Z");
    push(&reg, tmp.path(), "acme/api", "1.1", "2026-11-01T10:00:00Z");
    push(&reg, tmp.path(), "acme/web", "1", "2026-11-02T10:00:00Z");
    let version = |repo: &str, tag: &str, pushed: &str| Version {
        digest: reg.tag_digest(repo, tag),
        tags: vec![tag.into()],
        pushed: pushed.into(),
    };
    let proxy = FaultProxy::start(reg.port());
    proxy.serve_github(GithubApi {
        org: "acme".into(),
        packages: vec![
            (
                "api".into(),
                vec![
                    version("acme/api", "1.0", "2026-11-21T09:00:00Z"),
                    version("acme/api", "1.1", "2026-11-25T09:00:00Z"),
                ],
            ),
            (
                "web".into(),
                vec![version("acme/web", "1", "2026-11-22T09:00:00Z")],
            ),
        ],
        token: "ghp_vedette_test_4f1a".into(),
    });
    let host = proxy.host();
    let data = tmp.path().join("data");
    let mut env = mirror.env();
    env.push(("VEDETTE_CRAWL_PAGE_SIZE", "1".into()));
    env.push(("VEDETTE_GITHUB_API", format!("http://{host}")));
    let o = vedette(
        &data,
        &env,
        &[
            "target",
            "add",
            "registry",
            &host,
            "--repos",
            "acme/*",
            "--tags",
            "latest:1",
            "--insecure",
            "--kind",
            "ghcr",
        ],
    );
    assert!(o.status.success(), "{}", out(&o));

    // Without a token GitHub refuses the listing, and says what is needed.
    let o = vedette(&data, &env, &["target", "crawl", &host]);
    assert!(out(&o).contains("read:packages"), "{}", out(&o));

    env.push(("VEDETTE_REGISTRY_USERNAME", "ada".into()));
    env.push(("VEDETTE_REGISTRY_PASSWORD", "ghp_vedette_test_4f1a".into()));
    let before = proxy.requests().len();
    let (crawl, o) = crawl_json(&data, &env, &host);
    let refs = references(&crawl);
    assert_eq!(
        refs,
        BTreeSet::from([
            format!("{host}/acme/api:1.1").as_str(),
            format!("{host}/acme/web:1").as_str()
        ]),
        "the last pushed of acme/api, though built first: {crawl:#}"
    );
    let reqs = proxy.requests()[before..].to_vec();
    assert!(
        reqs.iter()
            .any(|r| r.contains("/orgs/acme/packages?") && r.contains("page=2")),
        "the packages' pages followed: {reqs:#?}"
    );
    assert!(
        !reqs
            .iter()
            .any(|r| r.contains("/_catalog") || r.contains("/tags/list") || r.starts_with("HEAD")),
        "no catalog, tag list or HEAD: {reqs:#?}"
    );
    assert!(!out(&o).contains("ghp_vedette_test_4f1a"), "{}", out(&o));
}

#[test]
fn a_gitlab_groups_repositories_are_listed_through_its_api_where_the_catalog_is_refused() {
    use vedette_tests::gitlab::GitlabApi;
    let mirror = Mirror::start();
    let reg = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    push(&reg, tmp.path(), "shop/api", "1.0", "2026-11-01T10:00:00Z");
    push(&reg, tmp.path(), "shop/api", "1.1", "2026-11-20T10:00:00Z");
    push(
        &reg,
        tmp.path(),
        "shop/web/frontend",
        "1",
        "2026-11-02T10:00:00Z",
    );
    push(&reg, tmp.path(), "other/db", "1", "2026-11-03T10:00:00Z");
    let proxy = FaultProxy::start(reg.port());
    proxy.serve_gitlab(GitlabApi {
        repositories: vec![
            "shop/api".into(),
            "shop/web/frontend".into(),
            "other/db".into(),
        ],
        token: "glpat-vedette-test-77".into(),
    });
    let host = proxy.host();
    let data = tmp.path().join("data");
    let mut env = mirror.env();
    env.push(("VEDETTE_CRAWL_PAGE_SIZE", "1".into()));

    // A GitLab registry needs its GitLab's address: said at once.
    let o = vedette(
        &data,
        &env,
        &[
            "target", "add", "registry", &host, "--repos", "shop/*", "--kind", "gitlab",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    assert!(
        out(&o).contains("--api https://gitlab.example.com"),
        "{}",
        out(&o)
    );

    let api = format!("http://{host}");
    let o = vedette(
        &data,
        &env,
        &[
            "target",
            "add",
            "registry",
            &host,
            "--repos",
            "shop/*",
            "--tags",
            "latest:1",
            "--insecure",
            "--kind",
            "gitlab",
            "--api",
            &api,
        ],
    );
    assert!(o.status.success(), "{}", out(&o));
    // Without a token GitLab refuses to list, and says what is needed.
    let o = vedette(&data, &env, &["target", "crawl", &host]);
    assert!(out(&o).contains("read_api"), "{}", out(&o));

    env.push(("VEDETTE_REGISTRY_USERNAME", "ada".into()));
    env.push(("VEDETTE_REGISTRY_PASSWORD", "glpat-vedette-test-77".into()));
    let before = proxy.requests().len();
    let (crawl, o) = crawl_json(&data, &env, &host);
    let refs = references(&crawl);
    assert_eq!(
        refs,
        BTreeSet::from([
            format!("{host}/shop/api:1.1").as_str(),
            format!("{host}/shop/web/frontend:1").as_str()
        ]),
        "{crawl:#}"
    );
    let reqs = proxy.requests()[before..].to_vec();
    assert!(
        !reqs.iter().any(|r| r.contains("/_catalog")),
        "the catalog GitLab refuses is not asked: {reqs:#?}"
    );
    assert!(
        reqs.iter().any(
            |r| r.contains("/api/v4/groups/shop/registry/repositories") && r.contains("page=2")
        ),
        "the group's pages followed: {reqs:#?}"
    );
    assert!(!out(&o).contains("glpat-vedette-test-77"), "{}", out(&o));
}

/// `vedette target crawl HOST --format json`, which must succeed: the crawl
/// and the command's output.
fn crawl_json(data: &Path, env: &[(&str, String)], host: &str) -> (Value, std::process::Output) {
    let o = vedette(data, env, &["target", "crawl", host, "--format", "json"]);
    assert!(o.status.success(), "{}", out(&o));
    (serde_json::from_slice(&o.stdout).unwrap(), o)
}

/// The references a crawl chose.
fn references(crawl: &Value) -> BTreeSet<&str> {
    crawl["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["reference"].as_str().unwrap())
        .collect()
}

/// An ECR registry (a host named in `VEDETTE_ECR_REGISTRIES`, served by the
/// local registry behind a proxy that takes only ECR's token) is listed
/// through moto's ECR: `DescribeRepositories` and `DescribeImages`, with
/// the AWS account in the keyring. `latest:1` goes by push time without a
/// request to the registry; the run then pulls what was chosen with the
/// token `GetAuthorizationToken` gave.
#[test]
fn an_ecr_registry_is_listed_through_describe_images_with_the_aws_account() {
    use vedette_tests::moto::Moto;
    let reg = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    // Built in one order, pushed in the other.
    push(&reg, tmp.path(), "shop/api", "1.0", "2026-11-20T10:00:00Z");
    push(&reg, tmp.path(), "shop/api", "1.1", "2026-11-01T10:00:00Z");
    push(&reg, tmp.path(), "shop/web", "1", "2026-11-02T10:00:00Z");
    push(&reg, tmp.path(), "other/db", "1", "2026-11-03T10:00:00Z");
    let moto = Moto::start();
    // AWS's calls go through a proxy that names each one.
    let aws = FaultProxy::start(moto.port);
    for (repo, tag) in [
        ("shop/api", "1.0"),
        ("shop/api", "1.1"),
        ("shop/web", "1"),
        ("other/db", "1"),
    ] {
        let manifest = serde_json::to_vec(&reg.stored_manifest(repo, tag)).unwrap();
        moto.ecr_put_image(repo, tag, &manifest, &reg.tag_digest(repo, tag));
    }
    let proxy = FaultProxy::start(reg.port());
    // moto's account is 123456789012; its token's password is "<account>-auth-token".
    proxy.require_token("AWS", "123456789012-auth-token");
    let host = proxy.host();
    let console = crate::Console::new(tmp.path(), &[("VEDETTE_ECR_REGISTRIES", host.clone())]);
    let run = |args: &[&str]| console.run(args);
    let o = run(&[
        "target",
        "add",
        "registry",
        &host,
        "--repos",
        "shop/*",
        "--tags",
        "latest:1",
        "--insecure",
    ]);
    assert!(o.status.success(), "{}", out(&o));

    // No AWS account: the listing says what is missing.
    let o = run(&["target", "crawl", &host]);
    assert!(!o.status.success(), "{}", out(&o));
    assert!(out(&o).contains("vedette cloud aws set"), "{}", out(&o));

    let o = console.aws_set(&format!("http://{}/", aws.host()));
    assert!(o.status.success(), "{}", out(&o));
    let before = proxy.requests().len();
    let (crawl, _) = crawl_json(&console.data, &console.env, &host);
    let calls = aws.requests();
    assert!(
        calls
            .iter()
            .any(|c| c.contains("DescribeRepositories -> 200"))
            && calls
                .iter()
                .filter(|c| c.contains("DescribeImages -> 200"))
                .count()
                == 2,
        "shop/api and shop/web listed through ECR's API: {calls:#?}"
    );
    let refs = references(&crawl);
    assert_eq!(
        refs,
        BTreeSet::from([
            format!("{host}/shop/api:1.1").as_str(),
            format!("{host}/shop/web:1").as_str()
        ]),
        "the last pushed of shop/api, though built first; other/db not selected: {crawl:#}"
    );
    let digest = crawl["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["reference"].as_str().unwrap().ends_with("api:1.1"))
        .unwrap()["digest"]
        .clone();
    assert_eq!(digest, reg.tag_digest("shop/api", "1.1"), "{crawl:#}");
    assert_eq!(
        proxy.requests()[before..].to_vec(),
        Vec::<String>::new(),
        "the listing asks the registry nothing"
    );

    // The run pulls what was chosen with ECR's token.
    let o = run(&["schedule", "add", "--name", "ecr", "--cron", "0 0 1 1 *"]);
    assert!(o.status.success(), "{}", out(&o));
    let before = aws.requests().len();
    let o = run(&["schedule", "run", "1"]);
    assert!(o.status.success(), "{}", out(&o));
    let h = history(&console.data);
    let scanned: BTreeSet<&str> = h
        .iter()
        .filter(|s| s["state"] == "succeeded")
        .filter_map(|s| s["target_name"].as_str())
        .collect();
    assert_eq!(scanned, refs, "{h:#?}");
    // moto's tokens say they expired long ago: one that is about to expire
    // is not used again, so each scan of the run asked for a fresh one.
    let tokens = aws.requests()[before..]
        .iter()
        .filter(|c| c.contains("GetAuthorizationToken -> 200"))
        .count();
    assert!(tokens >= 2, "{:#?}", &aws.requests()[before..]);
    assert!(
        !out(&o).contains("auth-token"),
        "the ECR password is not shown: {}",
        out(&o)
    );
}

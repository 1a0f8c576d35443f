//! New nodes against one console: the API served in process as `vedette
//! serve` serves it, moto's server as EC2, the gate armed to terminate.
//! Measured: for 20 enrolments one after the other (each node's inventory is
//! the Debian fixture, which fails the gate), the time from the agent's
//! first request (enrol) to the verdict, and to the cloud API's answer in
//! the action log; then 200 enrolled agents heartbeating once a second for
//! 10 s, with the latency of each heartbeat.
//!
//! Run: `cargo bench -p vedette-tests --bench enrolment` (after `bash
//! tests/run.sh` once: moto comes from its venv). Prints a Markdown table.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use vedette_app::{App, MemorySecrets};
use vedette_model::{Exposure, GateAction, Sensitive};
use vedette_tests::moto::{self, Moto};
use vedette_tests::registry::shared;

mod common;

const ENROLMENTS: usize = 20;
const AGENTS: usize = 200;
const HEARTBEAT_SECONDS: u64 = 10;

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

fn send(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    bearer: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let req = ureq::http::Request::builder()
        .method(method)
        .uri(url)
        .header("Authorization", format!("Bearer {bearer}"))
        .header("Content-Type", "application/json")
        .body(body.map(|b| b.to_string().into_bytes()).unwrap_or_default())
        .unwrap();
    let mut r = agent.run(req).unwrap();
    let status = r.status().as_u16();
    let text = r.body_mut().read_to_string().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn facts(name: &str, instance: Option<&str>) -> Value {
    let mut f = json!({
        "hostname": name,
        "machine_id": format!("{name:0<32}"),
        "os": "Debian GNU/Linux 12 (bookworm)",
    });
    if let Some(i) = instance {
        f["instance"] = json!({"provider": "aws", "instance_id": i, "region": moto::REGION});
    }
    f
}

fn main() {
    let moto = Moto::start();
    let instances = moto.run_instances(ENROLMENTS, &[]);
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    // Nothing leaves the machine: the imported feeds are what there is.
    std::env::set_var("VEDETTE_FEED_URL", "http://127.0.0.1:9/osv");
    for v in ["VEDETTE_KEV_URL", "VEDETTE_EPSS_URL", "VEDETTE_NVD_URL"] {
        std::env::set_var(v, "none");
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let endpoint = moto.endpoint();
    let (base, app, token) = rt.block_on(async {
        let app = App::open(&data, Arc::new(MemorySecrets::default()))
            .await
            .unwrap();
        let sources = vedette_app::FeedSources::from_env();
        let feeds = app.feeds(&sources).await.unwrap();
        feeds.import(&[shared("feeds")]).await.unwrap();
        app.set_aws_account(vedette_app::AwsAccount {
            access_key_id: moto::ACCESS_KEY_ID.into(),
            secret_access_key: Sensitive::new(moto::SECRET_ACCESS_KEY.into()),
            session_token: None,
            region: moto::REGION.into(),
            endpoint: Some(endpoint),
            role_arn: None,
            external_id: None,
        })
        .await
        .unwrap();
        app.set_gate_policy("fail_on = \"high\"\n").unwrap();
        app.set_gate_action(GateAction::Terminate).await.unwrap();
        app.set_gate_cap(1000).await.unwrap();
        app.arm_gate("terminate", "bench").await.unwrap();
        let token = app
            .create_enrol_token(
                "bench",
                Duration::from_secs(3600),
                (ENROLMENTS + AGENTS) as u32,
                None,
                Exposure::Internal,
            )
            .await
            .unwrap()
            .secret;
        let listener = vedette_api::bind("127.0.0.1:0", &vedette_api::TlsOptions::default())
            .await
            .unwrap();
        let addr = listener.local_addr();
        let state = vedette_api::ApiState::new(
            app.clone(),
            sources,
            None,
            vedette_api::RateLimit::from_env().unwrap(),
        );
        tokio::spawn(vedette_api::serve(state, listener, std::future::pending()));
        (format!("http://{addr}"), app, token)
    });
    // The inventory every node sends: the Debian fixture, as the agent reads it.
    let inventory: Value = rt.block_on(async {
        let target = vedette_engine::Target::Directory(shared("fixtures/debian-12-minbase"));
        let inv =
            vedette_engine::inventory(&target, &vedette_engine::Options::default(), Arc::new(()))
                .await
                .unwrap();
        serde_json::to_value(inv).unwrap()
    });

    let http = common::http_agent();
    let (mut to_verdict, mut to_action) = (Vec::new(), Vec::new());
    for (i, instance) in instances.iter().enumerate() {
        let name = format!("bench-{i:02}");
        let start = Instant::now();
        let (status, enrolled) = send(
            &http,
            "POST",
            &format!("{base}/api/v1/agents/enrol"),
            &token,
            Some(&facts(&name, Some(instance))),
        );
        assert_eq!(status, 201, "{enrolled}");
        let credential = enrolled["credential"].as_str().unwrap().to_owned();
        let (status, started) = send(
            &http,
            "PUT",
            &format!("{base}/api/v1/agents/inventory"),
            &credential,
            Some(&inventory),
        );
        assert_eq!(status, 202, "{started}");
        let scan_id = started["scan_id"].as_i64().unwrap();
        let node = format!("{name} ({instance})");
        let (mut verdict, mut action) = (None, None);
        while action.is_none() {
            if verdict.is_none() {
                let summary = rt.block_on(app.store().scan_summary(scan_id)).unwrap();
                if summary.is_some_and(|s| s.finished_at.is_some()) {
                    verdict = Some(start.elapsed());
                }
            }
            if rt
                .block_on(app.gate_log(5))
                .unwrap()
                .iter()
                .any(|a| a.node == node)
            {
                action = Some(start.elapsed());
                verdict.get_or_insert(start.elapsed());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        to_verdict.push(verdict.unwrap());
        to_action.push(action.unwrap());
    }
    to_verdict.sort();
    to_action.sort();
    let log = rt.block_on(app.gate_log(1000)).unwrap();
    let done = log
        .iter()
        .filter(|a| a.outcome == vedette_model::ActionOutcome::Done)
        .count();
    assert_eq!(done, ENROLMENTS, "{log:#?}");

    // 200 agents, enrolled, heartbeating once a second.
    let credentials: Vec<String> = (0..AGENTS)
        .map(|i| {
            let (status, e) = send(
                &http,
                "POST",
                &format!("{base}/api/v1/agents/enrol"),
                &token,
                Some(&facts(&format!("idle-{i:03}"), None)),
            );
            assert_eq!(status, 201, "{e}");
            e["credential"].as_str().unwrap().to_owned()
        })
        .collect();
    let started = Instant::now();
    let threads: Vec<_> = credentials
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let url = format!("{base}/api/v1/agents/heartbeat");
            std::thread::spawn(move || {
                let http = common::http_agent();
                // Spread over the first second, as agents booted at
                // different times are.
                std::thread::sleep(Duration::from_millis((i as u64 * 1000) / AGENTS as u64));
                let mut times = Vec::new();
                for _ in 0..HEARTBEAT_SECONDS {
                    let t = Instant::now();
                    let (status, _) = send(&http, "POST", &url, &c, None);
                    assert_eq!(status, 204);
                    times.push(t.elapsed());
                    std::thread::sleep(Duration::from_secs(1).saturating_sub(t.elapsed()));
                }
                times
            })
        })
        .collect();
    let mut beats: Vec<Duration> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    let wall = started.elapsed();
    beats.sort();

    println!("| measured | n | median | p95 | max |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    println!(
        "| enrol → verdict | {ENROLMENTS} | {} | {} | {} |",
        ms(common::percentile(&to_verdict, 0.5)),
        ms(common::percentile(&to_verdict, 0.95)),
        ms(*to_verdict.last().unwrap())
    );
    println!(
        "| enrol → instance terminated (EC2 answered, in the action log) | {ENROLMENTS} | {} | {} | {} |",
        ms(common::percentile(&to_action, 0.5)),
        ms(common::percentile(&to_action, 0.95)),
        ms(*to_action.last().unwrap())
    );
    println!(
        "| heartbeat, {AGENTS} agents once a second for {HEARTBEAT_SECONDS} s ({:.0} requests/s) | {} | {} | {} (p99 {}) | {} |",
        beats.len() as f64 / wall.as_secs_f64(),
        beats.len(),
        ms(common::percentile(&beats, 0.5)),
        ms(common::percentile(&beats, 0.95)),
        ms(common::percentile(&beats, 0.99)),
        ms(*beats.last().unwrap())
    );
}

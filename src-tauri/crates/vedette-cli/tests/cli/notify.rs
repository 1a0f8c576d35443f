//! Notifications against real receivers on loopback: aiosmtpd (STARTTLS
//! with a certificate from a private CA the test trusts, AUTH) and an HTTP
//! receiver standing for Slack, Teams and a generic webhook.

use std::time::{Duration, Instant};

use serde_json::Value;
use vedette_tests::receivers::{HttpReceiver, Smtp, SMTP_PASSWORD, SMTP_USER};
use vedette_tests::registry::shared;

use crate::vulns::out;
use crate::Console;

/// The token part of the Slack and Teams URLs: it must be nowhere but in
/// the keyring (and in the receiver's request line).
const SLACK_TOKEN: &str = "T0VEDETTE/B0VEDETTE/slackTokenA7c91f";
const TEAMS_TOKEN: &str = "workflows/teamsSigD4e2b8";

impl Console {
    fn deliveries(&self) -> Vec<Value> {
        serde_json::from_str(&self.ok(&["notify", "log", "--format", "json"])).unwrap()
    }

    /// A directory target of `fixture` and a schedule that scans only it.
    fn watch(&self, name: &str, fixture: &str) -> String {
        let dir = self.data.with_file_name(name);
        let o = std::process::Command::new("cp")
            .arg("-a")
            .arg(shared(fixture))
            .arg(&dir)
            .output()
            .unwrap();
        assert!(o.status.success());
        self.ok(&["target", "add", "dir", &dir.to_string_lossy()]);
        self.ok(&[
            "schedule",
            "add",
            "--name",
            name,
            "--cron",
            "0 0 1 1 *",
            "--kind",
            "directory",
            "--targets",
            &format!("*{name}"),
        ]);
        let list: Vec<Value> =
            serde_json::from_str(&self.ok(&["schedule", "list", "--format", "json"])).unwrap();
        list.iter().find(|s| s["name"] == name).unwrap()["id"].to_string()
    }
}

#[test]
fn a_run_with_new_findings_makes_exactly_one_message_per_channel_each_received_by_its_receiver() {
    let http = HttpReceiver::start();
    let smtp = Smtp::start();
    let tmp = tempfile::tempdir().unwrap();
    let console = Console::new(
        tmp.path(),
        &[(
            "SSL_CERT_FILE",
            smtp.certificate.to_string_lossy().into_owned(),
        )],
    );
    let slack_url = http.url(&format!("/slack/{SLACK_TOKEN}"));
    let o = console.run_stdin(
        &[
            "notify",
            "channel",
            "add",
            "slack",
            "--name",
            "ops-slack",
            "--url-stdin",
        ],
        &format!("{slack_url}\n"),
    );
    assert!(o.status.success(), "{}", out(&o));
    let o = console.run_stdin(
        &[
            "notify",
            "channel",
            "add",
            "teams",
            "--name",
            "ops-teams",
            "--url-stdin",
        ],
        &http.url(&format!("/teams/{TEAMS_TOKEN}")),
    );
    assert!(o.status.success(), "{}", out(&o));
    // A webhook's secret is made, printed once and kept in the keyring.
    let hmac_secret = console.ok(&[
        "notify",
        "channel",
        "add",
        "webhook",
        "--name",
        "siem",
        "--url",
        &http.url("/hook"),
    ]);
    assert!(hmac_secret.starts_with("vdh_"), "{hmac_secret}");
    let port = smtp.port.to_string();
    let o = console.run_stdin(
        &[
            "notify",
            "channel",
            "add",
            "email",
            "--name",
            "sec-mail",
            "--smtp-host",
            "127.0.0.1",
            "--smtp-port",
            &port,
            "--smtp-username",
            SMTP_USER,
            "--password-stdin",
            "--from",
            "vedette@example.test",
            "--to",
            "security@example.test",
        ],
        SMTP_PASSWORD,
    );
    assert!(o.status.success(), "{}", out(&o));
    // A Slack URL on the command line is refused: it holds a token.
    let o = console.run(&[
        "notify", "channel", "add", "slack", "--name", "leaky", "--url", &slack_url,
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", out(&o));
    // A rule whose filters leave nothing: nothing is sent to its channel.
    console.ok(&[
        "notify",
        "channel",
        "add",
        "webhook",
        "--name",
        "quiet",
        "--url",
        &http.url("/quiet"),
    ]);
    for filter in [
        ["--target", "registry.example.com/*"],
        ["--min-risk", "99.9"],
    ] {
        console.ok(&[
            "notify",
            "rule",
            "add",
            "--channel",
            "quiet",
            "--event",
            "finding.new",
            filter[0],
            filter[1],
        ]);
    }
    for channel in ["ops-slack", "ops-teams", "siem", "sec-mail"] {
        console.ok(&[
            "notify",
            "rule",
            "add",
            "--channel",
            channel,
            "--event",
            "finding.new",
            "--min-severity",
            "high",
        ]);
    }

    let schedule = console.watch("bookworm", "fixtures/debian-12-minbase");
    let o = console.run(&["schedule", "run", &schedule]);
    assert!(o.status.success(), "{}", out(&o));
    assert!(!out(&o).contains("could not be sent"), "{}", out(&o));
    // A second run finds nothing new: nothing is sent (calm).
    let o = console.run(&["schedule", "run", &schedule]);
    assert!(o.status.success(), "{}", out(&o));

    // Slack: Block Kit, with the fallback text.
    let slack = http.requests_to(&format!("/slack/{SLACK_TOKEN}"));
    assert_eq!(slack.len(), 1, "{slack:#?}");
    let body = slack[0].json();
    assert!(
        body["text"].as_str().unwrap().contains("new finding"),
        "{body:#}"
    );
    let blocks = body["blocks"].as_array().unwrap();
    assert_eq!(blocks[0]["type"], "header");
    assert!(blocks.iter().all(|b| b["type"].is_string()));
    let shown = body.to_string();
    assert!(
        shown.contains("Worst findings") && shown.contains("CVE-"),
        "{body:#}"
    );
    // Teams: a message with one Adaptive Card.
    let teams = http.requests_to(&format!("/teams/{TEAMS_TOKEN}"));
    assert_eq!(teams.len(), 1);
    let body = teams[0].json();
    assert_eq!(body["type"], "message");
    let card = &body["attachments"][0];
    assert_eq!(
        card["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    assert_eq!(card["content"]["type"], "AdaptiveCard");
    assert_eq!(card["content"]["version"], "1.4");
    // Microsoft's own library (npm `adaptivecards`) parses it without a
    // complaint.
    assert_eq!(adaptive_card_errors(&card["content"]), Vec::<String>::new());
    assert!(card["content"]["body"][0]["text"]
        .as_str()
        .unwrap()
        .contains("new finding"));
    // The webhook: Vedette's JSON, its HMAC verifies with the secret.
    let hook = http.requests_to("/hook");
    assert_eq!(hook.len(), 1);
    let sig = hook[0].header("x-vedette-signature").unwrap();
    assert_eq!(
        sig,
        vedette_notify_signature(hmac_secret.as_bytes(), &hook[0].body),
        "the signature does not verify"
    );
    let body = hook[0].json();
    assert_eq!(body["source"], "vedette");
    let worst = body["message"]["worst"].as_array().unwrap();
    assert!(!worst.is_empty() && worst.len() <= 10);
    assert!(worst
        .iter()
        .all(|f| matches!(f["severity"].as_str(), Some("critical" | "high"))));
    // Worst first, each with its risk and why it is new.
    let risks: Vec<f64> = worst.iter().map(|f| f["risk"].as_f64().unwrap()).collect();
    assert!(risks.windows(2).all(|w| w[0] >= w[1]), "{risks:?}");
    assert!(
        worst.iter().all(|f| f["cause"] == "first_scan"),
        "{worst:#?}"
    );
    assert!(http.requests_to("/quiet").is_empty());
    // Mail: one, with the subject, both parts and the worst findings.
    let mails = smtp.mails();
    assert_eq!(mails.len(), 1, "{mails:#?}");
    let mail = &mails[0];
    assert!(
        mail.contains("Subject: ") && mail.contains("new finding"),
        "{mail}"
    );
    assert!(mail.contains("multipart/alternative"), "{mail}");
    assert!(
        mail.contains("text/plain") && mail.contains("text/html"),
        "{mail}"
    );
    assert!(mail.contains(worst[0]["id"].as_str().unwrap()), "{mail}");

    let log = console.deliveries();
    assert_eq!(log.len(), 4, "{log:#?}");
    assert!(log
        .iter()
        .all(|d| d["state"] == "sent" && d["attempts"] == 1));
    // Secrets only in the keyring.
    for entry in crate::walk(&console.data) {
        let text = String::from_utf8_lossy(&std::fs::read(&entry).unwrap_or_default()).into_owned();
        for secret in [
            SLACK_TOKEN,
            TEAMS_TOKEN,
            hmac_secret.as_str(),
            SMTP_PASSWORD,
        ] {
            assert!(!text.contains(secret), "a secret is in {}", entry.display());
        }
    }
    let listed = console.ok(&["notify", "channel", "list", "--format", "json"]);
    for secret in [
        SLACK_TOKEN,
        TEAMS_TOKEN,
        hmac_secret.as_str(),
        SMTP_PASSWORD,
    ] {
        assert!(!listed.contains(secret), "{listed}");
    }
    // A test message goes through at once.
    let o = console.run(&["notify", "test", "siem"]);
    assert!(o.status.success(), "{}", out(&o));
    assert_eq!(http.requests_to("/hook").len(), 2);
}

/// What `tests/oracles/validate-adaptive-card.cjs` (the `adaptivecards`
/// library) says of a card.
fn adaptive_card_errors(card: &Value) -> Vec<String> {
    use std::io::Write;
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../tests/oracles/validate-adaptive-card.cjs");
    let mut child = std::process::Command::new("node")
        .arg(&script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("run node (the test command installs it)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(card.to_string().as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    serde_json::from_value(v["errors"].clone()).unwrap()
}

/// `sha256=` and the hex HMAC-SHA256 of `body`, computed here with the
/// `hmac` crate the way a receiver would.
fn vedette_notify_signature(secret: &[u8], body: &[u8]) -> String {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[test]
fn a_failing_endpoint_is_retried_then_failed_and_the_channel_is_said_failing_once() {
    let http = HttpReceiver::start();
    let tmp = tempfile::tempdir().unwrap();
    let console = Console::new(tmp.path(), &[("VEDETTE_NOTIFY_RETRY_MS", "100".into())]);
    console.ok(&[
        "notify",
        "channel",
        "add",
        "webhook",
        "--name",
        "broken",
        "--url",
        &http.url("/fail"),
    ]);
    console.ok(&[
        "notify",
        "rule",
        "add",
        "--channel",
        "broken",
        "--event",
        "scan.finished",
    ]);
    let schedule = console.watch("bookworm", "fixtures/debian-12-minbase");
    let o = console.run(&["schedule", "run", &schedule]);
    assert!(o.status.success(), "{}", out(&o));
    let said = out(&o);
    assert_eq!(said.matches("keeps failing").count(), 1, "{said}");
    assert_eq!(
        http.requests_to("/fail").len(),
        vedette_app::MAX_ATTEMPTS as usize
    );
    let log = console.deliveries();
    assert_eq!(log.len(), 1, "{log:#?}");
    assert_eq!(log[0]["state"], "failed");
    assert_eq!(log[0]["attempts"], vedette_app::MAX_ATTEMPTS);
    assert!(
        log[0]["last_error"].as_str().unwrap().contains("500"),
        "{log:#?}"
    );
    let listed = console.ok(&["notify", "channel", "list"]);
    assert!(listed.contains("FAILING since"), "{listed}");
    // The next run fails again, and is not announced again.
    let o = console.run(&["schedule", "run", &schedule]);
    assert!(!out(&o).contains("keeps failing"), "{}", out(&o));
    assert_eq!(console.deliveries().len(), 2);
}

#[test]
fn a_digest_sums_up_three_runs_in_one_message() {
    let http = HttpReceiver::start();
    let tmp = tempfile::tempdir().unwrap();
    let console = Console::new(tmp.path(), &[]);
    let secret = console.ok(&[
        "notify",
        "channel",
        "add",
        "webhook",
        "--name",
        "daily",
        "--url",
        &http.url("/digest"),
    ]);
    assert!(!secret.is_empty());
    console.ok(&[
        "notify",
        "rule",
        "add",
        "--channel",
        "daily",
        "--event",
        "scan.finished",
        "--digest",
        "0 9 * * *",
    ]);
    let schedules = [
        console.watch("one", "fixtures/debian-12-minbase"),
        console.watch("two", "fixtures/debian-12-minbase"),
        console.watch("three", "fixtures/debian-12-minbase"),
    ];
    for s in &schedules {
        let o = console.run(&["schedule", "run", s]);
        assert!(o.status.success(), "{}", out(&o));
    }
    // Not 09:00 yet: nothing sent.
    assert!(http.requests().is_empty());
    console.ok(&["notify", "digest", "1"]);
    let got = http.requests_to("/digest");
    assert_eq!(got.len(), 1);
    let m = &got[0].json()["message"];
    assert!(m["title"].as_str().unwrap().starts_with("Digest:"), "{m:#}");
    let lines = m["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 3, "{m:#}");
    for name in ["one", "two", "three"] {
        assert!(
            lines.iter().any(|l| l.as_str().unwrap().contains(name)),
            "{m:#}"
        );
    }
    // The next digest starts empty.
    console.ok(&["notify", "digest", "1"]);
    assert_eq!(http.requests_to("/digest").len(), 1);
}

#[test]
fn a_message_waits_in_the_outbox_through_a_kill_9_and_is_sent_once_after_restart() {
    let tmp = tempfile::tempdir().unwrap();
    // The receiver's port, with nothing listening yet.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // The first attempt fails; the next is due after `schedule run` ends.
    let console = Console::new(tmp.path(), &[("VEDETTE_NOTIFY_RETRY_MS", "11000".into())]);
    console.ok(&[
        "notify",
        "channel",
        "add",
        "webhook",
        "--name",
        "later",
        "--url",
        &format!("http://127.0.0.1:{port}/later"),
    ]);
    console.ok(&[
        "notify",
        "rule",
        "add",
        "--channel",
        "later",
        "--event",
        "scan.finished",
    ]);
    let schedule = console.watch("bookworm", "fixtures/debian-12-minbase");
    let o = console.run(&["schedule", "run", &schedule]);
    assert!(o.status.success(), "{}", out(&o));
    assert!(
        out(&o).contains("1 notification(s) could not be sent yet"),
        "{}",
        out(&o)
    );
    let log = console.deliveries();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["state"], "queued", "{log:#?}");
    assert!(
        log[0]["last_error"]
            .as_str()
            .unwrap()
            .contains("cannot be reached"),
        "{log:#?}"
    );
    // serve starts, and is killed before it can deliver.
    let serve = crate::api::ApiServe::start(&console.data, &console.env);
    serve.kill9();
    // The receiver comes up; the next serve delivers, once.
    let http = HttpReceiver::start_on(port);
    let serve = crate::api::ApiServe::start(&console.data, &console.env);
    let start = Instant::now();
    while http.requests_to("/later").is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "never delivered: {:#?}",
            console.deliveries()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(http.requests_to("/later").len(), 1);
    assert_eq!(serve.stop(), Some(0));
}

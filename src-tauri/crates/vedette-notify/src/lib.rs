//! Notification channels. A [`Message`] (what a run or a digest has to
//! say: a title, its facts, the worst findings, links back) is rendered
//! for each kind of channel and sent:
//!
//! - desktop: a freedesktop notification (`notify-rust`) with the
//!   `desktop-entry` hint, so the desktop's per-application settings apply;
//! - Slack: an incoming webhook with Block Kit blocks and a `text`
//!   fallback;
//! - Microsoft Teams: a Workflows webhook with an Adaptive Card (1.4);
//! - webhook: Vedette's JSON ([`webhook_body`]) signed with
//!   `X-Vedette-Signature: sha256=<HMAC-SHA256 of the body, hex>`;
//! - email: SMTP (STARTTLS or implicit TLS, the system's roots and
//!   `SSL_CERT_FILE`) via `lettre`, with plain-text and HTML parts.
//!
//! Names in messages come from images and hosts: they are escaped for each
//! format, never taken as markup.

use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use vedette_model::{Channel, ChannelKind, Message, MessageFinding, Severity, SmtpTls};

/// An HTTP answer is read up to this size (for the error it may explain).
const MAX_ANSWER: usize = 64 * 1024;
/// How long one attempt may take.
const TIMEOUT: Duration = Duration::from_secs(20);

/// Why a message was not delivered. Never holds a secret (a webhook URL's
/// token, a password): a URL is shown by its host only.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("the channel is not set up: {0}")]
    Config(String),
    #[error("{host} cannot be reached: {reason}")]
    Unreachable { host: String, reason: String },
    #[error("{host} answered {status}: {body}")]
    Refused {
        host: String,
        status: u16,
        body: String,
    },
    #[error("the mail was not accepted: {0}")]
    Mail(String),
    #[error("the desktop notification was not shown: {0}")]
    Desktop(String),
}

/// Whether `s` is a mail address lettre will send to.
pub fn is_mail_address(s: &str) -> bool {
    s.parse::<lettre::Address>().is_ok()
}

/// The host of a URL, for messages (its path may hold a token).
fn host_of(url: &str) -> String {
    reqwest::Url::parse(url)
        .ok()
        .and_then(|u| {
            u.host_str().map(|h| {
                format!(
                    "{h}{}",
                    u.port().map(|p| format!(":{p}")).unwrap_or_default()
                )
            })
        })
        .unwrap_or_else(|| "the endpoint".into())
}

fn severity_word(s: Severity) -> &'static str {
    s.as_str()
}

/// "CVE-2024-1 in openssl 3.0.1 (critical, exploited in the wild, risk
/// 92; new: feed update) on web:1.2"
pub fn finding_line(f: &MessageFinding) -> String {
    format!(
        "{} in {} {} ({}{}, risk {:.0}{}) on {}",
        f.id,
        f.package,
        f.version,
        severity_word(f.severity),
        if f.kev { ", exploited in the wild" } else { "" },
        f.risk,
        f.cause
            .as_deref()
            .map(|c| format!("; new: {}", c.replace('_', " ")))
            .unwrap_or_default(),
        f.target
    )
}

/// The message as plain text (email's text part, the desktop's body).
pub fn plain_text(m: &Message) -> String {
    let mut out = String::new();
    for l in &m.lines {
        out.push_str(l);
        out.push('\n');
    }
    if !m.worst.is_empty() {
        out.push_str("\nWorst findings:\n");
        for f in &m.worst {
            out.push_str("  - ");
            out.push_str(&finding_line(f));
            out.push('\n');
        }
        if m.findings_total > m.worst.len() {
            out.push_str(&format!(
                "  and {} more\n",
                m.findings_total - m.worst.len()
            ));
        }
    }
    for l in &m.links {
        out.push('\n');
        out.push_str(l);
    }
    out
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The message as HTML (email's HTML part).
pub fn html(m: &Message) -> String {
    let mut out = format!(
        "<!doctype html><html><body style=\"font-family:sans-serif\"><h2>{}</h2>",
        html_escape(&m.title)
    );
    for l in &m.lines {
        out.push_str(&format!("<p>{}</p>", html_escape(l)));
    }
    if !m.worst.is_empty() {
        out.push_str("<table cellpadding=\"4\" style=\"border-collapse:collapse\"><tr><th align=\"left\">Finding</th><th align=\"left\">Package</th><th align=\"left\">Severity</th><th align=\"left\">Target</th></tr>");
        for f in &m.worst {
            out.push_str(&format!(
                "<tr><td>{}</td><td>{} {}</td><td>{}{}</td><td>{}</td></tr>",
                html_escape(&f.id),
                html_escape(&f.package),
                html_escape(&f.version),
                severity_word(f.severity),
                if f.kev { ", exploited" } else { "" },
                html_escape(&f.target)
            ));
        }
        out.push_str("</table>");
        if m.findings_total > m.worst.len() {
            out.push_str(&format!(
                "<p>and {} more</p>",
                m.findings_total - m.worst.len()
            ));
        }
    }
    for l in &m.links {
        let l = html_escape(l);
        out.push_str(&format!("<p><a href=\"{l}\">{l}</a></p>"));
    }
    out.push_str("</body></html>");
    out
}

/// Slack's mrkdwn escapes (`&`, `<`, `>`), so a name cannot become a link
/// or a mention.
fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The Slack incoming-webhook body: `text` (the fallback notifications
/// show) and Block Kit blocks: a header, the facts, the worst findings,
/// the links.
pub fn slack_body(m: &Message) -> Value {
    let mut blocks = vec![json!({
        "type": "header",
        "text": {"type": "plain_text", "text": truncate(&m.title, 150), "emoji": false}
    })];
    if !m.lines.is_empty() {
        blocks.push(json!({
            "type": "section",
            "text": {"type": "mrkdwn", "text": truncate(&slack_escape(&m.lines.join("\n")), 3000)}
        }));
    }
    if !m.worst.is_empty() {
        let mut text = String::from("*Worst findings*\n");
        for f in &m.worst {
            text.push_str(&format!("• {}\n", slack_escape(&finding_line(f))));
        }
        if m.findings_total > m.worst.len() {
            text.push_str(&format!("and {} more", m.findings_total - m.worst.len()));
        }
        blocks.push(
            json!({"type": "section", "text": {"type": "mrkdwn", "text": truncate(&text, 3000)}}),
        );
    }
    if !m.links.is_empty() {
        blocks.push(json!({
            "type": "context",
            "elements": m.links.iter().take(10).map(|l| {
                let label = if l.starts_with("vedette:") { "Open in Vedette" } else { "Open in the API" };
                json!({"type": "mrkdwn", "text": format!("<{}|{label}>", slack_escape(l))})
            }).collect::<Vec<_>>()
        }));
    }
    json!({"text": m.title, "blocks": blocks})
}

/// The Teams Workflows body: a message with one Adaptive Card (1.4).
pub fn teams_body(m: &Message) -> Value {
    let mut body = vec![json!({
        "type": "TextBlock", "text": m.title, "weight": "Bolder", "size": "Medium", "wrap": true
    })];
    for l in &m.lines {
        body.push(json!({"type": "TextBlock", "text": l, "wrap": true}));
    }
    if !m.worst.is_empty() {
        body.push(json!({
            "type": "FactSet",
            "facts": m.worst.iter().map(|f| json!({
                "title": f.id,
                "value": format!("{} {} ({}{}) on {}", f.package, f.version, severity_word(f.severity), if f.kev { ", exploited" } else { "" }, f.target),
            })).collect::<Vec<_>>()
        }));
        if m.findings_total > m.worst.len() {
            body.push(json!({"type": "TextBlock", "text": format!("and {} more", m.findings_total - m.worst.len()), "isSubtle": true}));
        }
    }
    let mut card = json!({
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    });
    if let Some(l) = m.links.first() {
        card["actions"] = json!([{"type": "Action.OpenUrl", "title": "Open in Vedette", "url": l}]);
    }
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": card,
        }]
    })
}

/// The generic webhook's body: `{"source": "vedette", "message": Message}`.
pub fn webhook_body(m: &Message) -> Vec<u8> {
    serde_json::to_vec(&json!({"source": "vedette", "message": m})).unwrap_or_default()
}

/// `sha256=<hex HMAC-SHA256 of body with secret>`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any size");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// Sends a message through a channel; `secret` is the channel's secret
/// from the keyring (a Slack or Teams URL, an HMAC secret, an SMTP
/// password).
pub async fn send(channel: &Channel, secret: Option<&str>, m: &Message) -> Result<(), NotifyError> {
    let http = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .build()
        .map_err(|e| NotifyError::Config(e.to_string()))?;
    match channel.kind {
        ChannelKind::Slack => {
            let url = secret
                .ok_or_else(|| NotifyError::Config("no webhook URL in the keyring".into()))?;
            post(
                &http,
                url,
                serde_json::to_vec(&slack_body(m)).unwrap_or_default(),
                None,
            )
            .await
        }
        ChannelKind::Teams => {
            let url = secret
                .ok_or_else(|| NotifyError::Config("no webhook URL in the keyring".into()))?;
            post(
                &http,
                url,
                serde_json::to_vec(&teams_body(m)).unwrap_or_default(),
                None,
            )
            .await
        }
        ChannelKind::Webhook => {
            let url = channel
                .settings
                .url
                .as_deref()
                .ok_or_else(|| NotifyError::Config("no URL".into()))?;
            let body = webhook_body(m);
            let sig = secret.map(|s| signature(s, &body));
            post(&http, url, body, sig).await
        }
        ChannelKind::Email => mail(channel, secret, m).await,
        ChannelKind::Desktop => desktop(m).await,
    }
}

async fn post(
    http: &reqwest::Client,
    url: &str,
    body: Vec<u8>,
    signature: Option<String>,
) -> Result<(), NotifyError> {
    let host = host_of(url);
    let mut req = http
        .post(url)
        .header("content-type", "application/json")
        .header("user-agent", concat!("vedette/", env!("CARGO_PKG_VERSION")))
        .body(body);
    if let Some(s) = signature {
        req = req.header("x-vedette-signature", s);
    }
    // reqwest's error names the URL; only the host is said.
    let resp = req.send().await.map_err(|e| NotifyError::Unreachable {
        host: host.clone(),
        reason: e.without_url().to_string(),
    })?;
    let status = resp.status();
    if status.is_success() {
        return Ok(());
    }
    let mut text = String::new();
    let mut resp = resp;
    while let Ok(Some(chunk)) = resp.chunk().await {
        if text.len() + chunk.len() > MAX_ANSWER {
            break;
        }
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    Err(NotifyError::Refused {
        host,
        status: status.as_u16(),
        body: vedette_model::printable(text.trim(), false)
            .chars()
            .take(300)
            .collect(),
    })
}

async fn mail(channel: &Channel, password: Option<&str>, m: &Message) -> Result<(), NotifyError> {
    use lettre::message::{header::ContentType, MultiPart, SinglePart};
    use lettre::transport::smtp::authentication::Credentials;
    use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
    let s = &channel.settings;
    let host = s
        .smtp_host
        .as_deref()
        .ok_or_else(|| NotifyError::Config("no SMTP server".into()))?;
    let from = s
        .from
        .as_deref()
        .ok_or_else(|| NotifyError::Config("no sender (--from)".into()))?;
    if s.to.is_empty() {
        return Err(NotifyError::Config("no recipient (--to)".into()));
    }
    let mut builder = lettre::Message::builder()
        .from(
            from.parse()
                .map_err(|e| NotifyError::Config(format!("--from {from}: {e}")))?,
        )
        .subject(&m.title);
    for to in &s.to {
        builder = builder.to(to
            .parse()
            .map_err(|e| NotifyError::Config(format!("--to {to}: {e}")))?);
    }
    let email = builder
        .multipart(
            MultiPart::alternative()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body(plain_text(m)),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .body(html(m)),
                ),
        )
        .map_err(|e| NotifyError::Mail(e.to_string()))?;
    let tls = s.smtp_tls.unwrap_or_default();
    let mut transport = match tls {
        SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host),
        SmtpTls::Implicit => AsyncSmtpTransport::<Tokio1Executor>::relay(host),
    }
    .map_err(|e| NotifyError::Mail(e.to_string()))?
    .timeout(Some(TIMEOUT));
    if let Some(port) = s.smtp_port {
        transport = transport.port(port);
    }
    if let (Some(user), Some(pass)) = (&s.smtp_username, password) {
        transport = transport.credentials(Credentials::new(user.clone(), pass.to_owned()));
    }
    transport
        .build()
        .send(email)
        .await
        .map(|_| ())
        .map_err(|e| NotifyError::Mail(e.to_string()))
}

/// A freedesktop notification on this process's session bus. The window
/// shows its own (clicking opens the scan); this is for `vedette serve`.
async fn desktop(m: &Message) -> Result<(), NotifyError> {
    let (title, body) = (
        format!("Vedette: {}", m.title),
        vedette_model::markup_escape(&plain_text(m)),
    );
    tokio::task::spawn_blocking(move || {
        notify_rust::Notification::new()
            .appname("Vedette")
            .summary(&title)
            .body(&body)
            .icon("dialog-warning")
            .hint(notify_rust::Hint::DesktopEntry("vedette".into()))
            .hint(notify_rust::Hint::Category("x-vedette.findings".into()))
            .show()
            .map(|_| ())
            .map_err(|e| NotifyError::Desktop(e.to_string()))
    })
    .await
    .map_err(|e| NotifyError::Desktop(e.to_string()))?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message() -> Message {
        Message {
            title: "2 new critical findings in shop <prod>".into(),
            lines: vec!["web:1 failed its policy: 2 critical".into()],
            worst: vec![MessageFinding {
                id: "CVE-2024-1".into(),
                package: "openssl".into(),
                version: "3.0.1".into(),
                severity: Severity::Critical,
                kev: true,
                risk: 93.5,
                cause: Some("feed_update".into()),
                target: "<script>web</script>".into(),
                scan_id: 7,
            }],
            findings_total: 2,
            scan_id: Some(7),
            links: vec!["http://127.0.0.1:7878/api/v1/scans/7".into()],
            events: vec!["finding.new".into()],
            at: chrono::Utc::now(),
        }
    }

    #[test]
    fn the_hmac_verifies_with_the_secret_and_only_with_it() {
        let body = webhook_body(&message());
        let sig = signature("s3cret", &body);
        assert!(sig.starts_with("sha256=") && sig.len() == 7 + 64, "{sig}");
        let mut mac = Hmac::<Sha256>::new_from_slice(b"s3cret").unwrap();
        mac.update(&body);
        mac.verify_slice(&hex::decode(&sig[7..]).unwrap()).unwrap();
        assert_ne!(signature("other", &body), sig);
        // A known vector (RFC 4231 test case 2).
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn names_from_images_are_escaped_in_every_format() {
        let m = message();
        assert!(!html(&m).contains("<script>"));
        let slack = slack_body(&m).to_string();
        assert!(!slack.contains("<script>"), "{slack}");
        assert!(slack.contains("&lt;script&gt;"), "{slack}");
        let text = plain_text(&m);
        assert!(text.contains("and 1 more"), "{text}");
        assert!(text.contains("risk 94; new: feed update"), "{text}");
    }

    #[test]
    fn a_url_is_named_by_its_host_never_its_token() {
        assert_eq!(
            host_of("https://hooks.slack.com/services/T000/B000/XXXXSECRET"),
            "hooks.slack.com"
        );
        assert_eq!(host_of("http://127.0.0.1:9/x?sig=abc"), "127.0.0.1:9");
    }
}

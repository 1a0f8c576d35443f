//! Notifications: channels (their secrets in the keyring), rules over the
//! event log, and delivery. The event log is written in the transaction of
//! each fact (a scan, a gate decision); the pump reads it into messages and
//! moves its cursor in one transaction, so a crash between a scan and its
//! message loses nothing and queues nothing twice. Messages wait in the
//! outbox (which is the delivery log) and are sent with retries; a channel
//! whose deliveries keep failing is marked, and said so once.
//!
//! While a schedule's run is under way (in any process), the pump waits for
//! its end: a run makes one message per channel, never one per scan or
//! finding.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chrono::Utc;
use serde_json::Value;
use vedette_model::{
    Channel, ChannelKind, ChannelSettings, Delivery, DeliveryState, Event, EventKind, Message,
    MessageFinding, Rule, Sensitive, Severity,
};
use vedette_store::Queued;

use crate::{App, AppError, Result};

/// Events read per pump transaction.
const BATCH: i64 = 500;
/// A run that lasts longer than this no longer holds its messages back.
const HOLD_FOR_RUN: chrono::Duration = chrono::Duration::minutes(30);
/// Attempts before a delivery is failed.
pub const MAX_ATTEMPTS: u32 = 5;
/// The worst findings a message names.
const WORST: usize = 10;

/// The keyring name of a channel's secret.
fn secret_name(channel: &str) -> String {
    format!("notify/{channel}")
}

/// A channel to add; its secret goes to the keyring.
pub struct NewChannel {
    pub name: String,
    pub kind: ChannelKind,
    pub settings: ChannelSettings,
    /// Slack's and Teams' webhook URL, the webhook's HMAC secret (made when
    /// none is given), the SMTP password.
    pub secret: Option<Sensitive<String>>,
}

/// A channel added, with the webhook secret Vedette made for it (shown
/// once: the receiver checks signatures with it).
pub struct AddedChannel {
    pub channel: Channel,
    pub generated_secret: Option<String>,
}

fn check_url(what: &str, url: &str) -> Result<()> {
    match url::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "https" | "http") && u.host_str().is_some() => Ok(()),
        _ => Err(AppError::Invalid(format!(
            "{what} must be an http(s) URL, not {}",
            vedette_model::printable(&url.chars().take(60).collect::<String>(), false)
        ))),
    }
}

/// Worse first: severity (its order), then exploited.
fn rank(f: &MessageFinding) -> (Severity, bool) {
    (f.severity, f.kev)
}

fn at_least(s: Severity, min: Option<Severity>) -> bool {
    min.is_none_or(|m| s >= m)
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .map(|s| vedette_model::printable(s, false).into_owned())
        .unwrap_or_default()
}

/// What one event, filtered by one rule, gives a message: its line and
/// its findings; none when the filter leaves nothing.
fn event_part(e: &Event, r: &Rule) -> Option<(Option<String>, Vec<MessageFinding>, usize)> {
    let d = &e.data;
    let target = text(d, "target");
    if let Some(glob) = &r.target {
        if !vedette_model::glob_match(glob, &target) {
            return None;
        }
    }
    let scan_id = d.get("scan_id").and_then(Value::as_i64).unwrap_or(0);
    match e.kind {
        EventKind::FindingNew => {
            let listed: Vec<MessageFinding> = d
                .get("findings")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|f| {
                    Some(MessageFinding {
                        id: text(f, "id"),
                        package: text(f, "package"),
                        version: text(f, "version"),
                        severity: Severity::parse(f.get("severity")?.as_str()?)?,
                        kev: f.get("kev").and_then(Value::as_bool).unwrap_or(false),
                        risk: f.get("risk").and_then(Value::as_f64).unwrap_or(0.0),
                        cause: f.get("cause").and_then(Value::as_str).map(str::to_owned),
                        target: target.clone(),
                        scan_id,
                    })
                })
                .filter(|f| {
                    at_least(f.severity, r.min_severity)
                        && (!r.kev_only || f.kev)
                        && r.min_risk.is_none_or(|m| f.risk >= m)
                })
                .collect();
            if listed.is_empty() {
                return None;
            }
            let total = if r.min_severity.is_none() && !r.kev_only && r.min_risk.is_none() {
                d.get("total")
                    .and_then(Value::as_u64)
                    .map_or(listed.len(), |n| n as usize)
            } else {
                listed.len()
            };
            Some((None, listed, total))
        }
        EventKind::ScanFinished => {
            if let Some(min) = r.min_severity {
                let counts = d.get("counts").and_then(Value::as_object);
                let any = counts.is_some_and(|c| {
                    c.iter().any(|(k, n)| {
                        Severity::parse(k).is_some_and(|s| at_least(s, Some(min)))
                            && n.as_u64().unwrap_or(0) > 0
                    })
                });
                if !any {
                    return None;
                }
            }
            Some((
                Some(format!(
                    "{target}: scanned, verdict {}, {} finding(s), {} new",
                    text(d, "verdict"),
                    d.get("findings").and_then(Value::as_u64).unwrap_or(0),
                    d.get("new").and_then(Value::as_u64).unwrap_or(0)
                )),
                vec![],
                0,
            ))
        }
        EventKind::PolicyFailed => {
            let failures: Vec<String> = d
                .get("failures")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|f| {
                    f.as_str()
                        .map(|s| vedette_model::printable(s, false).into_owned())
                })
                .collect();
            Some((
                Some(format!(
                    "{target} failed its policy: {}",
                    failures.join("; ")
                )),
                vec![],
                0,
            ))
        }
        // A cancelled scan is what someone asked for: nothing to raise.
        EventKind::ScanError if text(d, "state") == "cancelled" => None,
        EventKind::ScanError => Some((
            Some(format!("{target}: the scan failed: {}", text(d, "error"))),
            vec![],
            0,
        )),
        EventKind::FeedStale => Some((
            Some(format!(
                "{target}: judged with stale advisory feeds ({})",
                d.get("feeds").map(|f| f.to_string()).unwrap_or_default()
            )),
            vec![],
            0,
        )),
        EventKind::TargetQuarantined => Some((
            Some(format!("{target} is quarantined: {}", text(d, "reason"))),
            vec![],
            0,
        )),
        EventKind::GateAction => Some((
            Some(format!(
                "gate: {} {} ({}): {}",
                text(d, "action"),
                text(d, "node"),
                text(d, "outcome"),
                text(d, "reason")
            )),
            vec![],
            0,
        )),
        other => Some((Some(format!("{}: {}", other.as_str(), target)), vec![], 0)),
    }
}

/// What one event gives a message: the event, its line, its findings and
/// how many findings it had in all.
type Part<'e> = (&'e Event, Option<String>, Vec<MessageFinding>, usize);

/// One message from the parts of a run's (or a digest's) events.
fn compose(parts: Vec<Part<'_>>, digest: bool, link_base: Option<&str>) -> Option<Message> {
    if parts.is_empty() {
        return None;
    }
    let mut lines = Vec::new();
    let mut worst: Vec<MessageFinding> = Vec::new();
    let mut total = 0;
    let mut scans: Vec<i64> = Vec::new();
    let mut events: Vec<String> = Vec::new();
    for (e, line, findings, n) in parts {
        if let Some(l) = line {
            if !lines.contains(&l) {
                lines.push(l);
            }
        }
        total += n;
        worst.extend(findings);
        if let Some(s) = e.data.get("scan_id").and_then(Value::as_i64) {
            if !scans.contains(&s) {
                scans.push(s);
            }
        }
        if !events.contains(&e.kind.as_str().to_owned()) {
            events.push(e.kind.as_str().to_owned());
        }
    }
    // Worst first: by risk (severity, exploitation, exposure, fix), then
    // severity.
    worst.sort_by(|a, b| b.risk.total_cmp(&a.risk).then(rank(b).cmp(&rank(a))));
    let targets: std::collections::BTreeSet<&str> =
        worst.iter().map(|f| f.target.as_str()).collect();
    let criticals = worst
        .iter()
        .filter(|f| f.severity == Severity::Critical)
        .count();
    let title = if total > 0 {
        format!(
            "{total} new finding{}{} in {} target{}",
            if total == 1 { "" } else { "s" },
            if criticals > 0 {
                format!(" ({criticals} critical)")
            } else {
                String::new()
            },
            targets.len(),
            if targets.len() == 1 { "" } else { "s" }
        )
    } else if lines.len() == 1 {
        lines[0].clone()
    } else {
        format!("{} events", lines.len())
    };
    let title = if digest {
        format!("Digest: {title}")
    } else {
        title
    };
    worst.truncate(WORST);
    let scan_id = worst.first().map(|f| f.scan_id).or(scans.first().copied());
    // Each scan in the desktop app (a vedette:// link opens it there), and
    // in the API when it is served.
    let links = scans
        .iter()
        .take(5)
        .flat_map(|s| {
            std::iter::once(format!("vedette://scan/{s}")).chain(
                link_base.map(|base| format!("{}/api/v1/scans/{s}", base.trim_end_matches('/'))),
            )
        })
        .collect();
    Some(Message {
        title,
        lines,
        worst,
        findings_total: total,
        scan_id,
        links,
        events,
        at: Utc::now(),
    })
}

impl App {
    /// Where this process serves the API (`VEDETTE_PUBLIC_URL` wins):
    /// messages link back there.
    pub fn set_link_base(&self, url: Option<String>) {
        *self.link_base.write().unwrap_or_else(|p| p.into_inner()) = url;
    }

    fn link_base(&self) -> Option<String> {
        std::env::var("VEDETTE_PUBLIC_URL")
            .ok()
            .filter(|u| !u.is_empty())
            .or_else(|| {
                self.link_base
                    .read()
                    .unwrap_or_else(|p| p.into_inner())
                    .clone()
            })
    }

    /// Adds a channel; its secret goes to the keyring first.
    pub async fn add_channel(&self, c: NewChannel) -> Result<AddedChannel> {
        let name = c.name.trim();
        if name.is_empty()
            || name.len() > 64
            || !name
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || "-_.".contains(ch))
        {
            return Err(AppError::Invalid(
                "a channel's name is 1 to 64 letters, digits, '-', '_' or '.' (ops-slack)".into(),
            ));
        }
        let mut secret = c.secret;
        let mut generated = None;
        match c.kind {
            ChannelKind::Slack | ChannelKind::Teams => {
                let url = secret.as_ref().ok_or_else(|| {
                    AppError::Invalid(format!(
                        "a {} channel needs its webhook URL (--url-stdin): it holds a token, so it goes to the keyring",
                        c.kind.as_str()
                    ))
                })?;
                check_url("the webhook URL", url.expose())?;
            }
            ChannelKind::Webhook => {
                let url = c
                    .settings
                    .url
                    .as_deref()
                    .ok_or_else(|| AppError::Invalid("a webhook channel needs --url".into()))?;
                check_url("--url", url)?;
                if url::Url::parse(url).is_ok_and(|u| {
                    u.password().is_some() || u.query().is_some_and(|q| q.contains("token"))
                }) {
                    return Err(AppError::Invalid(
                        "--url holds a secret: give the webhook's URL without it; Vedette signs each request with its own HMAC secret".into(),
                    ));
                }
                if secret.is_none() {
                    let s = crate::tokens::new_secret("vdh_")?;
                    generated = Some(s.clone());
                    secret = Some(Sensitive::new(s));
                }
            }
            ChannelKind::Email => {
                let s = &c.settings;
                if s.smtp_host.as_deref().is_none_or(str::is_empty)
                    || s.from.is_none()
                    || s.to.is_empty()
                {
                    return Err(AppError::Invalid(
                        "an email channel needs --smtp-host, --from and at least one --to".into(),
                    ));
                }
                for a in s.from.iter().chain(&s.to) {
                    if !vedette_notify::is_mail_address(a) {
                        return Err(AppError::Invalid(format!(
                            "{} is not a mail address",
                            vedette_model::printable(a, false)
                        )));
                    }
                }
                if secret.is_some() && s.smtp_username.is_none() {
                    return Err(AppError::Invalid(
                        "an SMTP password needs its --smtp-username".into(),
                    ));
                }
            }
            ChannelKind::Desktop => {}
        }
        if self.store().channel(name).await?.is_some() {
            return Err(AppError::Invalid(format!(
                "there is a channel named {name} already; `vedette notify channel remove {name}` first, or choose another name"
            )));
        }
        let has_secret = secret.is_some();
        if let Some(s) = secret {
            self.credentials().set_secret(&secret_name(name), s).await?;
        }
        match self
            .store()
            .add_channel(name, c.kind, &c.settings, has_secret)
            .await
        {
            Ok(channel) => Ok(AddedChannel {
                channel,
                generated_secret: generated,
            }),
            Err(e) => {
                // Nothing half-written: the secret goes with the refusal.
                if has_secret {
                    if let Err(d) = self.credentials().delete_secret(&secret_name(name)).await {
                        tracing::warn!(
                            "the secret of the refused channel {name} stays in the keyring: {d}"
                        );
                    }
                }
                Err(e.into())
            }
        }
    }

    pub async fn channels(&self) -> Result<Vec<Channel>> {
        Ok(self.store().channels().await?)
    }

    async fn channel_named(&self, name: &str) -> Result<Channel> {
        self.store().channel(name).await?.ok_or_else(|| {
            AppError::NotFound(format!(
                "there is no channel named {name}; `vedette notify channel list` shows them"
            ))
        })
    }

    /// Removes a channel, its rules, its deliveries and its secret.
    pub async fn remove_channel(&self, name: &str) -> Result<()> {
        let c = self.channel_named(name).await?;
        self.store().remove_channel(&c.name).await?;
        if c.has_secret {
            self.credentials()
                .delete_secret(&secret_name(&c.name))
                .await?;
        }
        Ok(())
    }

    /// Adds a rule to a channel (`rule.channel` names it).
    pub async fn add_rule(&self, rule: Rule) -> Result<Rule> {
        let c = self.channel_named(&rule.channel).await?;
        if let Some(cron) = &rule.digest {
            vedette_scheduler::CronSchedule::parse(cron, rule.timezone.as_deref().unwrap_or(""))
                .map_err(|e| AppError::Invalid(format!("--digest: {e}")))?;
        }
        if matches!(
            rule.event,
            EventKind::ScanStarted
                | EventKind::ScheduleFired
                | EventKind::TargetAdded
                | EventKind::FeedUpdated
        ) {
            return Err(AppError::Invalid(format!(
                "{} is on the event stream, but not for notifications: choose scan.finished, finding.new, policy.failed, gate.action, feed.stale, scan.error or target.quarantined",
                rule.event.as_str()
            )));
        }
        Ok(self.store().add_rule(c.id, &rule).await?)
    }

    pub async fn rules(&self) -> Result<Vec<Rule>> {
        Ok(self.store().rules().await?)
    }

    pub async fn remove_rule(&self, id: i64) -> Result<()> {
        if self.store().remove_rule(id).await? {
            Ok(())
        } else {
            Err(AppError::NotFound(format!(
                "there is no rule {id}; `vedette notify rule list` shows them"
            )))
        }
    }

    /// The delivery log, newest first.
    pub async fn deliveries(&self, limit: i64) -> Result<Vec<Delivery>> {
        Ok(self.store().deliveries(limit).await?)
    }

    /// Sends a test message through a channel now: the delivery as logged.
    pub async fn notify_test(&self, name: &str) -> Result<Delivery> {
        let c = self.channel_named(name).await?;
        let m = Message {
            title: "Test message from Vedette".into(),
            lines: vec![format!(
                "The channel {} ({}) works: messages about scans will arrive like this one.",
                c.name,
                c.kind.as_str()
            )],
            worst: vec![],
            findings_total: 0,
            scan_id: None,
            links: self.link_base().map(|b| vec![b]).unwrap_or_default(),
            events: vec![],
            at: Utc::now(),
        };
        let id = self
            .store()
            .enqueue(&Queued {
                channel_id: c.id,
                rule_id: None,
                digest: false,
                message: serde_json::to_string(&m)
                    .map_err(|e| AppError::Internal(e.to_string()))?,
            })
            .await?;
        // A test is tried once, now; it is not retried.
        let result = self.send_one(&c, &m).await;
        self.store()
            .record_attempt(id, result.as_ref().err().map(String::as_str), None)
            .await?;
        self.deliveries(50)
            .await?
            .into_iter()
            .find(|d| d.id == id)
            .ok_or_else(|| AppError::Internal("the test delivery vanished".into()))
    }

    async fn send_one(&self, c: &Channel, m: &Message) -> std::result::Result<(), String> {
        let secret = if c.has_secret {
            match self.credentials().secret(&secret_name(&c.name)).await {
                Ok(Some(s)) => Some(s),
                Ok(None) => {
                    return Err(format!(
                        "the channel's secret is not in the keyring: add the channel {} again",
                        c.name
                    ))
                }
                Err(e) => return Err(e.to_string()),
            }
        } else {
            None
        };
        vedette_notify::send(c, secret.as_ref().map(|s| s.expose().as_str()), m)
            .await
            .map_err(|e| e.to_string())
    }

    /// Reads the event log into messages (one per channel for the events
    /// read together) and digests' pending events: how many messages were
    /// queued. Waits while a schedule's run is under way.
    pub async fn notify_pump(&self) -> Result<usize> {
        let mut queued = 0;
        loop {
            let from = self.store().notify_cursor().await?;
            if self.store().runs_in_progress().await? {
                let oldest = self.store().oldest_event_after(from).await?;
                if oldest.is_none_or(|at| Utc::now() - at < HOLD_FOR_RUN) {
                    return Ok(queued);
                }
            }
            let events = self.store().events_after(from, BATCH).await?;
            let Some(to) = events.last().map(|e| e.id) else {
                return Ok(queued);
            };
            let rules = self.store().rules_for_pump().await?;
            let groups: HashMap<i64, Option<String>> =
                if rules.iter().any(|(r, _, _)| r.group.is_some()) {
                    self.targets()
                        .await?
                        .into_iter()
                        .map(|t| (t.id, t.group))
                        .collect()
                } else {
                    HashMap::new()
                };
            let mut per_channel: BTreeMap<i64, (i64, Vec<Part<'_>>)> = BTreeMap::new();
            let mut digest_items = Vec::new();
            for e in &events {
                for (r, channel, _) in &rules {
                    if r.event != e.kind {
                        continue;
                    }
                    if let Some(g) = &r.group {
                        let target = e.data.get("target_id").and_then(Value::as_i64);
                        if target
                            .and_then(|t| groups.get(&t).cloned().flatten())
                            .as_ref()
                            != Some(g)
                        {
                            continue;
                        }
                    }
                    let Some((line, findings, n)) = event_part(e, r) else {
                        continue;
                    };
                    if r.digest.is_some() {
                        digest_items.push((r.id, e.id));
                    } else {
                        per_channel
                            .entry(*channel)
                            .or_insert((r.id, Vec::new()))
                            .1
                            .push((e, line, findings, n));
                    }
                }
            }
            let base = self.link_base();
            let mut messages = Vec::new();
            for (channel, (rule, parts)) in per_channel {
                if let Some(m) = compose(parts, false, base.as_deref()) {
                    messages.push(Queued {
                        channel_id: channel,
                        rule_id: Some(rule),
                        digest: false,
                        message: serde_json::to_string(&m)
                            .map_err(|e| AppError::Internal(e.to_string()))?,
                    });
                }
            }
            if self
                .store()
                .commit_pump(from, to, &messages, &digest_items)
                .await?
            {
                queued += messages.len();
            }
        }
    }

    /// Makes the digests whose time has come: how many were queued.
    pub async fn notify_digests(&self) -> Result<usize> {
        let now = Utc::now();
        let mut queued = 0;
        for (r, channel, last) in self.store().rules_for_pump().await? {
            let Some(cron) = &r.digest else { continue };
            let Ok(schedule) =
                vedette_scheduler::CronSchedule::parse(cron, r.timezone.as_deref().unwrap_or(""))
            else {
                continue;
            };
            if schedule
                .next_after(last.unwrap_or(now))
                .is_none_or(|next| next > now)
            {
                continue;
            }
            queued += usize::from(self.make_digest(&r, channel).await?);
        }
        Ok(queued)
    }

    /// Makes a digest rule's digest now (`vedette notify digest`): whether
    /// there was anything to sum up.
    pub async fn notify_digest_now(&self, rule_id: i64) -> Result<bool> {
        let (r, channel, _) = self
            .store()
            .rules_for_pump()
            .await?
            .into_iter()
            .find(|(r, _, _)| r.id == rule_id)
            .ok_or_else(|| {
                AppError::NotFound(format!(
                    "there is no rule {rule_id}; `vedette notify rule list` shows them"
                ))
            })?;
        if r.digest.is_none() {
            return Err(AppError::Invalid(format!(
                "rule {rule_id} sends at once: it has no digest to make"
            )));
        }
        // What the runs so far made is read first.
        self.notify_pump().await?;
        self.make_digest(&r, channel).await
    }

    /// Queues one digest of a rule's gathered events and starts the next.
    async fn make_digest(&self, r: &Rule, channel: i64) -> Result<bool> {
        let events = self.store().digest_events(r.id).await?;
        let parts: Vec<_> = events
            .iter()
            .filter_map(|e| event_part(e, r).map(|(l, f, n)| (e, l, f, n)))
            .collect();
        let q = match compose(parts, true, self.link_base().as_deref()) {
            Some(m) => Some(Queued {
                channel_id: channel,
                rule_id: Some(r.id),
                digest: true,
                message: serde_json::to_string(&m)
                    .map_err(|e| AppError::Internal(e.to_string()))?,
            }),
            None => None,
        };
        self.store()
            .commit_digest(r.id, Utc::now(), q.as_ref())
            .await?;
        Ok(q.is_some())
    }

    /// Sends the messages that are due: how many were sent.
    pub async fn notify_deliver(&self) -> Result<usize> {
        let backoff = retry_base();
        let mut sent = 0;
        let due = self
            .store()
            .claim_due(chrono::Duration::minutes(2), 50)
            .await?;
        for d in due {
            let Some(c) = self.store().channel_by_id(d.channel_id).await? else {
                continue;
            };
            let result = match serde_json::from_str::<Message>(&d.message) {
                Ok(m) => self.send_one(&c, &m).await,
                Err(e) => Err(format!("the queued message does not read: {e}")),
            };
            match result {
                Ok(()) => {
                    self.store().record_attempt(d.id, None, None).await?;
                    self.store().set_channel_failing(c.id, None).await?;
                    sent += 1;
                }
                Err(e) => {
                    let attempts = d.attempts + 1;
                    let retry_at = (attempts < MAX_ATTEMPTS).then(|| {
                        Utc::now()
                            + backoff * 2i32.saturating_pow(attempts.saturating_sub(1).min(10))
                    });
                    tracing::warn!(channel = %c.name, attempts, "a message was not delivered: {e}");
                    self.store()
                        .record_attempt(d.id, Some(&e), retry_at)
                        .await?;
                    if retry_at.is_none()
                        && self.store().set_channel_failing(c.id, Some(&e)).await?
                    {
                        // Said once, when the channel starts failing.
                        tracing::error!(
                            channel = %c.name,
                            "ALERT: the notification channel {} keeps failing ({MAX_ATTEMPTS} attempts): {e}; `vedette notify test {}` tries it",
                            c.name,
                            c.name
                        );
                    }
                }
            }
        }
        Ok(sent)
    }

    /// Pumps, makes due digests and delivers until nothing is due or
    /// `within` has passed: how many messages still wait.
    pub async fn notify_flush(&self, within: Duration) -> Result<i64> {
        let end = tokio::time::Instant::now() + within;
        self.notify_pump().await?;
        self.notify_digests().await?;
        let deadline = Utc::now() + chrono::Duration::from_std(within).unwrap_or_default();
        loop {
            self.notify_deliver().await?;
            let waiting = self.store().queued_messages().await?;
            let next = self.store().next_attempt_at().await?;
            // Done, or what waits is not due before the deadline.
            if waiting == 0
                || tokio::time::Instant::now() >= end
                || next.is_none_or(|at| at > deadline)
            {
                return Ok(waiting);
            }
            tokio::time::sleep(Duration::from_millis(100).min(end - tokio::time::Instant::now()))
                .await;
        }
    }

    /// Runs the pump, the digests and delivery every `every` until `stop`
    /// says so (`vedette serve`, the window that runs the schedules).
    pub async fn watch_notifications(
        &self,
        every: Duration,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) {
        loop {
            for (what, r) in [
                ("read the event log", self.notify_pump().await.map(|_| ())),
                ("make the digests", self.notify_digests().await.map(|_| ())),
                ("deliver", self.notify_deliver().await.map(|_| ())),
            ] {
                if let Err(e) = r {
                    tracing::error!("notifications could not {what}: {e}");
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                r = stop.changed() => if r.is_err() || *stop.borrow() { return },
            }
        }
    }
}

/// The first retry's delay (`VEDETTE_NOTIFY_RETRY_MS`, default 30 s); each
/// next one doubles it.
fn retry_base() -> chrono::Duration {
    std::env::var("VEDETTE_NOTIFY_RETRY_MS")
        .ok()
        .and_then(|v| v.parse::<i64>().ok())
        .map_or(
            chrono::Duration::seconds(30),
            chrono::Duration::milliseconds,
        )
}

/// A delivery state in words, for the CLI.
pub fn delivery_word(d: &Delivery) -> &'static str {
    match d.state {
        DeliveryState::Queued if d.attempts > 0 => "retrying",
        DeliveryState::Queued => "queued",
        DeliveryState::Sent => "sent",
        DeliveryState::Failed => "failed",
    }
}

//! `vedette notify channel|rule|test|log`: where messages about scans go.

use std::io::Read;

use clap::{Subcommand, ValueEnum};
use vedette_app::{App, NewChannel};
use vedette_model::{ChannelKind, ChannelSettings, EventKind, Rule, Sensitive, Severity, SmtpTls};

use crate::{usage, Failure, Format};

#[derive(Subcommand)]
pub enum NotifyCommand {
    /// Channels: where messages go (secrets in the keyring, read from stdin).
    #[command(subcommand)]
    Channel(ChannelCommand),
    /// Rules: which events go to a channel, filtered, at once or digested.
    #[command(subcommand)]
    Rule(RuleCommand),
    /// Sends a test message through a channel now.
    Test { channel: String },
    /// Makes a digest rule's summary now (instead of at its next time) and
    /// sends it.
    Digest { rule: i64 },
    /// The delivery log: every message, its channel, state and attempts.
    Log {
        #[arg(long, default_value_t = 50)]
        limit: i64,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum KindArg {
    Desktop,
    Slack,
    Teams,
    Webhook,
    Email,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum TlsArg {
    Starttls,
    Implicit,
}

#[derive(Subcommand)]
pub enum ChannelCommand {
    /// Adds a channel. Slack's and Teams' webhook URLs hold a token: they
    /// are read with --url-stdin into the keyring. A webhook's HMAC secret
    /// is read with --secret-stdin, or made and printed once. An SMTP
    /// password with --password-stdin.
    Add {
        #[arg(value_enum)]
        kind: KindArg,
        #[arg(long)]
        name: String,
        /// A generic webhook's URL.
        #[arg(long, value_name = "URL")]
        url: Option<String>,
        /// Read the Slack or Teams webhook URL from standard input.
        #[arg(long)]
        url_stdin: bool,
        /// Read the webhook's HMAC secret from standard input.
        #[arg(long)]
        secret_stdin: bool,
        #[arg(long, value_name = "HOST")]
        smtp_host: Option<String>,
        #[arg(long, value_name = "PORT")]
        smtp_port: Option<u16>,
        #[arg(long, value_enum, default_value_t = TlsArg::Starttls)]
        smtp_tls: TlsArg,
        #[arg(long, value_name = "USER")]
        smtp_username: Option<String>,
        /// Read the SMTP password from standard input.
        #[arg(long)]
        password_stdin: bool,
        #[arg(long, value_name = "ADDRESS")]
        from: Option<String>,
        #[arg(long, value_name = "ADDRESS")]
        to: Vec<String>,
    },
    List {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Removes a channel, its rules, its deliveries and its secret.
    Remove { name: String },
}

#[derive(Subcommand)]
pub enum RuleCommand {
    /// Sends EVENT to CHANNEL: scan.finished, finding.new, policy.failed,
    /// gate.action, feed.stale, scan.error or target.quarantined.
    Add {
        #[arg(long)]
        channel: String,
        #[arg(long)]
        event: String,
        /// Leave out findings below this severity.
        #[arg(long, value_name = "SEV")]
        min_severity: Option<String>,
        /// Leave out findings with a lower risk score (0 to 100).
        #[arg(long, value_name = "SCORE")]
        min_risk: Option<f64>,
        /// Only findings known to be exploited (CISA KEV).
        #[arg(long)]
        kev_only: bool,
        /// Only targets whose name matches this glob (`*`, `?`).
        #[arg(long, value_name = "GLOB")]
        target: Option<String>,
        /// Only targets of this group.
        #[arg(long)]
        group: Option<String>,
        /// Sum everything up in one message at these times (cron, e.g.
        /// "0 9 * * *"), instead of one message per run.
        #[arg(long, value_name = "CRON")]
        digest: Option<String>,
        /// The digest's time zone [default: local].
        #[arg(long, value_name = "TZ")]
        timezone: Option<String>,
    },
    List {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    Remove {
        id: i64,
    },
}

fn stdin_secret(what: &str) -> Result<Sensitive<String>, Failure> {
    let mut s = String::new();
    std::io::stdin()
        .read_to_string(&mut s)
        .map_err(|e| usage(format!("cannot read {what} from standard input: {e}")))?;
    let s = s.trim_end_matches(['\n', '\r']).to_owned();
    if s.is_empty() {
        return Err(usage(format!("standard input held no {what}")));
    }
    Ok(Sensitive::new(s))
}

pub async fn run(app: &App, cmd: NotifyCommand) -> Result<u8, Failure> {
    match cmd {
        NotifyCommand::Channel(ChannelCommand::Add {
            kind,
            name,
            url,
            url_stdin,
            secret_stdin,
            smtp_host,
            smtp_port,
            smtp_tls,
            smtp_username,
            password_stdin,
            from,
            to,
        }) => {
            let kind = match kind {
                KindArg::Desktop => ChannelKind::Desktop,
                KindArg::Slack => ChannelKind::Slack,
                KindArg::Teams => ChannelKind::Teams,
                KindArg::Webhook => ChannelKind::Webhook,
                KindArg::Email => ChannelKind::Email,
            };
            if matches!(kind, ChannelKind::Slack | ChannelKind::Teams) && url.is_some() {
                return Err(usage(
                    "a Slack or Teams webhook URL holds its token: give it on standard input with --url-stdin, never on the command line",
                ));
            }
            let secret = if url_stdin {
                Some(stdin_secret("webhook URL")?)
            } else if secret_stdin {
                Some(stdin_secret("HMAC secret")?)
            } else if password_stdin {
                Some(stdin_secret("password")?)
            } else {
                None
            };
            let settings = ChannelSettings {
                url,
                smtp_host,
                smtp_port,
                smtp_tls: (kind == ChannelKind::Email).then_some(match smtp_tls {
                    TlsArg::Starttls => SmtpTls::Starttls,
                    TlsArg::Implicit => SmtpTls::Implicit,
                }),
                smtp_username,
                from,
                to,
            };
            let added = app
                .add_channel(NewChannel {
                    name,
                    kind,
                    settings,
                    secret,
                })
                .await?;
            if let Some(s) = added.generated_secret {
                // Printed once: the receiver verifies signatures with it.
                println!("{s}");
                eprintln!(
                    "vedette: the webhook's HMAC secret (above, shown once) is in the keyring; each request carries X-Vedette-Signature: sha256=HMAC-SHA256(secret, body)"
                );
            }
            eprintln!(
                "vedette: channel {} ({}) added; `vedette notify test {}` sends a test message",
                added.channel.name,
                added.channel.kind.as_str(),
                added.channel.name
            );
        }
        NotifyCommand::Channel(ChannelCommand::List { format }) => {
            let list = app.channels().await?;
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&list)?),
                Format::Text => {
                    println!(
                        "{:<20} {:<8} {:<36} {:<16} STATE",
                        "NAME", "KIND", "WHERE", "SECRET"
                    );
                    for c in list {
                        let s = &c.settings;
                        let place = match c.kind {
                            ChannelKind::Webhook => s.url.clone().unwrap_or_default(),
                            ChannelKind::Email => format!(
                                "{}:{} → {}",
                                s.smtp_host.as_deref().unwrap_or(""),
                                s.smtp_port.map_or("default".into(), |p| p.to_string()),
                                s.to.join(", ")
                            ),
                            ChannelKind::Desktop => "this session's desktop".into(),
                            _ => "its webhook (in the keyring)".into(),
                        };
                        println!(
                            "{:<20} {:<8} {:<36} {:<16} {}",
                            c.name,
                            c.kind.as_str(),
                            place,
                            if c.has_secret { "set, in keyring" } else { "-" },
                            match (&c.failing_since, &c.last_error) {
                                (Some(t), e) => format!(
                                    "FAILING since {}: {}",
                                    t.format("%Y-%m-%d %H:%M UTC"),
                                    e.as_deref().unwrap_or("")
                                ),
                                _ => "ok".into(),
                            }
                        );
                    }
                }
            }
        }
        NotifyCommand::Channel(ChannelCommand::Remove { name }) => {
            app.remove_channel(&name).await?;
            eprintln!("vedette: channel {name} removed, with its rules, deliveries and secret");
        }
        NotifyCommand::Rule(RuleCommand::Add {
            channel,
            event,
            min_severity,
            min_risk,
            kev_only,
            target,
            group,
            digest,
            timezone,
        }) => {
            if min_risk.is_some_and(|r| !(0.0..=100.0).contains(&r)) {
                return Err(usage("--min-risk is a risk score from 0 to 100"));
            }
            let event = EventKind::parse(&event).ok_or_else(|| {
                usage(format!(
                    "--event {event}: choose scan.finished, finding.new, policy.failed, gate.action, feed.stale, scan.error or target.quarantined"
                ))
            })?;
            let min_severity = min_severity
                .map(|s| {
                    Severity::parse(&s.to_ascii_lowercase()).ok_or_else(|| {
                        usage(format!("--min-severity {s}: critical, high, medium or low"))
                    })
                })
                .transpose()?;
            let r = app
                .add_rule(Rule {
                    id: 0,
                    channel,
                    event,
                    min_severity,
                    min_risk,
                    kev_only,
                    target,
                    group,
                    digest,
                    timezone,
                })
                .await?;
            eprintln!("vedette: rule {} added: {}", r.id, describe(&r));
        }
        NotifyCommand::Rule(RuleCommand::List { format }) => {
            let list = app.rules().await?;
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&list)?),
                Format::Text => {
                    for r in list {
                        println!("{:>4}  {}", r.id, describe(&r));
                    }
                }
            }
        }
        NotifyCommand::Rule(RuleCommand::Remove { id }) => {
            app.remove_rule(id).await?;
            eprintln!("vedette: rule {id} removed");
        }
        NotifyCommand::Test { channel } => {
            let d = app.notify_test(&channel).await?;
            match d.state {
                vedette_model::DeliveryState::Sent => {
                    eprintln!("vedette: the test message went through {channel}")
                }
                _ => {
                    return Err(Failure {
                        code: 3,
                        error: anyhow::anyhow!(
                            "the test message did not go through {channel}: {}",
                            d.last_error.unwrap_or_default()
                        ),
                    })
                }
            }
        }
        NotifyCommand::Digest { rule } => {
            if app.notify_digest_now(rule).await? {
                let waiting = app.notify_flush(std::time::Duration::from_secs(30)).await?;
                eprintln!(
                    "vedette: the digest of rule {rule} is made{}",
                    if waiting > 0 {
                        "; it could not be sent yet (`vedette notify log`)"
                    } else {
                        " and sent"
                    }
                );
            } else {
                eprintln!("vedette: rule {rule} had nothing to sum up since its last digest");
            }
        }
        NotifyCommand::Log { limit, format } => {
            let log = app.deliveries(limit).await?;
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&log)?),
                Format::Text => {
                    for d in log {
                        println!(
                            "{:>5}  {}  {:<16} {:<9} {:>2} attempt(s)  {}{}{}",
                            d.id,
                            d.created_at.format("%Y-%m-%d %H:%M:%S"),
                            d.channel,
                            vedette_app::delivery_word(&d),
                            d.attempts,
                            if d.digest { "[digest] " } else { "" },
                            vedette_model::printable(&d.title, false),
                            d.last_error
                                .map(|e| format!("  ({})", vedette_model::printable(&e, false)))
                                .unwrap_or_default()
                        );
                    }
                }
            }
        }
    }
    Ok(0)
}

/// "finding.new → ops-slack (high or worse, KEV only, group prod, digest 0 9 * * *)"
fn describe(r: &Rule) -> String {
    let mut parts = Vec::new();
    if let Some(s) = r.min_severity {
        parts.push(format!("{} or worse", s.as_str()));
    }
    if let Some(m) = r.min_risk {
        parts.push(format!("risk {m} or more"));
    }
    if r.kev_only {
        parts.push("KEV only".into());
    }
    if let Some(t) = &r.target {
        parts.push(format!("targets {t}"));
    }
    if let Some(g) = &r.group {
        parts.push(format!("group {g}"));
    }
    parts.push(match &r.digest {
        Some(d) => format!("digest {d}"),
        None => "at once".into(),
    });
    format!(
        "{} → {} ({})",
        r.event.as_str(),
        r.channel,
        parts.join(", ")
    )
}

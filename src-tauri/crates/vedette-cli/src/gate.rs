//! `vedette agent token …`, `vedette node …`, `vedette gate …` and
//! `vedette cloud aws set`: enrolling nodes, and the gate that acts on the
//! cloud instances of those that fail.

use clap::{Args, Subcommand};
use vedette_app::App;
use vedette_model::{Exposure, GateAction, GateSettings};

use crate::scan::ExposureArg;
use crate::{usage, Failure, Format};

#[derive(Subcommand)]
pub enum AgentCommand {
    /// Enrolment tokens: what `vedette-agent --enrol-token` takes.
    #[command(subcommand)]
    Token(EnrolTokenCommand),
}

#[derive(Subcommand)]
pub enum EnrolTokenCommand {
    /// Creates an enrolment token and prints it (once: only its hash is kept).
    Create(CreateEnrolToken),
    /// Lists them: name, first characters, expiry, uses.
    List {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Revokes one (by name or id): refused from then on.
    Revoke { token: String },
}

#[derive(Args)]
pub struct CreateEnrolToken {
    /// What the token is for (`web-autoscaling`).
    #[arg(long)]
    name: String,
    /// How long it may be used: 1h, 7d.
    #[arg(long, default_value = "1h")]
    expires: String,
    /// How many nodes may enrol with it.
    #[arg(long, default_value_t = 1)]
    uses: u32,
    /// The group its nodes join.
    #[arg(long)]
    group: Option<String>,
    /// Their exposure.
    #[arg(long, value_enum, default_value_t = ExposureArg::Internal)]
    exposure: ExposureArg,
}

#[derive(Subcommand)]
pub enum NodeCommand {
    /// The enrolled nodes: name, instance, enrolled, last heard from.
    List {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Revokes a node's credential (by target id): the node is lost.
    Revoke { target: i64 },
}

#[derive(Subcommand)]
pub enum GateCommand {
    /// What the gate does and whether it is armed.
    Show {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Sets what the gate does to a failing node's instance (a new action
    /// is not armed), and its policy (a policy file as the CI gate's).
    Set {
        #[arg(long, value_enum)]
        action: Option<ActionArg>,
        /// The gate's policy file (TOML, as `vedette scan --policy` takes).
        #[arg(long, value_name = "FILE")]
        policy: Option<std::path::PathBuf>,
        /// At most this many stops or terminations an hour (default 5);
        /// past it the gate only notifies.
        #[arg(long, value_name = "N")]
        cap_per_hour: Option<u32>,
    },
    /// The nodes the gate would act on now, and why, without acting.
    DryRun {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Arms the destructive action: type its name (--confirm terminate).
    Arm {
        #[arg(long)]
        confirm: String,
    },
    /// Disarms it: the gate records what it would do, and does nothing.
    Disarm,
    /// The action log: every decision, newest first.
    Log {
        #[arg(long, default_value_t = 50)]
        limit: i64,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum ActionArg {
    Notify,
    Stop,
    Terminate,
}

#[derive(Subcommand)]
pub enum CloudCommand {
    /// The AWS account the gate acts with (its secret access key is read
    /// from standard input, into the keyring).
    #[command(subcommand)]
    Aws(AwsCommand),
}

#[derive(Subcommand)]
pub enum AwsCommand {
    /// Stores an access key (its secret read from standard input).
    Set {
        #[arg(long)]
        access_key_id: String,
        #[arg(long)]
        region: String,
        /// The EC2 endpoint (another partition, a test double); STS is
        /// called there too.
        #[arg(long, value_name = "URL")]
        endpoint: Option<String>,
        #[command(flatten)]
        role: RoleArgs,
    },
    /// Stores the account of an AWS CLI profile (~/.aws/credentials and
    /// ~/.aws/config, or AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE):
    /// its keys, region, endpoint_url, and role_arn with its
    /// source_profile's keys.
    Import {
        #[arg(long, env = "AWS_PROFILE", default_value = "default")]
        profile: String,
        /// The region, over the profile's.
        #[arg(long)]
        region: Option<String>,
        /// The endpoint, over the profile's endpoint_url.
        #[arg(long, value_name = "URL")]
        endpoint: Option<String>,
    },
    /// Shows who the gate's calls are made as (STS GetCallerIdentity):
    /// proof that the stored account, and its role, work.
    Check,
}

#[derive(clap::Args)]
pub struct RoleArgs {
    /// A role to assume (STS AssumeRole) for the gate's calls; the key
    /// then only needs sts:AssumeRole.
    #[arg(long, value_name = "ARN")]
    role_arn: Option<String>,
    /// The role's external id, when its trust policy asks for one.
    #[arg(long, requires = "role_arn")]
    external_id: Option<String>,
}

pub async fn agent(app: &App, cmd: AgentCommand) -> Result<u8, Failure> {
    match cmd {
        AgentCommand::Token(EnrolTokenCommand::Create(c)) => {
            let expires = vedette_app::parse_duration(&c.expires)
                .map_err(|e| usage(format!("--expires {e}")))?;
            let exposure = match c.exposure {
                ExposureArg::Internal => Exposure::Internal,
                ExposureArg::Internet => Exposure::Internet,
            };
            let created = app
                .create_enrol_token(&c.name, expires, c.uses, c.group.as_deref(), exposure)
                .await?;
            eprintln!(
                "vedette: enrolment token '{}' created: {} node(s) until {}; it is shown once",
                created.token.name, created.token.max_uses, created.token.expires_at
            );
            println!("{}", created.secret);
        }
        AgentCommand::Token(EnrolTokenCommand::List { format }) => {
            let tokens = app.enrol_tokens().await?;
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&tokens)?),
                Format::Text => {
                    for t in tokens {
                        let state = if t.revoked_at.is_some() {
                            "revoked".to_owned()
                        } else if t.expires_at <= chrono::Utc::now() {
                            "expired".to_owned()
                        } else if t.uses >= t.max_uses {
                            "used up".to_owned()
                        } else {
                            format!("until {}", t.expires_at.format("%Y-%m-%d %H:%M UTC"))
                        };
                        println!(
                            "{:>4}  {:<24} {}…  {}/{} used  {}",
                            t.id, t.name, t.prefix, t.uses, t.max_uses, state
                        );
                    }
                }
            }
        }
        AgentCommand::Token(EnrolTokenCommand::Revoke { token }) => {
            app.revoke_enrol_token(&token).await?;
            eprintln!("vedette: enrolment token '{token}' revoked");
        }
    }
    Ok(0)
}

pub async fn node(app: &App, cmd: NodeCommand) -> Result<u8, Failure> {
    match cmd {
        NodeCommand::List { format } => {
            let nodes = app.nodes().await?;
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&nodes)?),
                Format::Text => {
                    println!(
                        "{:>4}  {:<36} {:<10} {:<8} {:<10} LAST HEARD",
                        "ID", "NODE", "VERDICT", "SCAN", "EXPOSURE"
                    );
                    for n in nodes {
                        println!(
                            "{:>4}  {:<36} {:<10} {:<8} {:<10} {}",
                            n.target_id,
                            vedette_model::printable(&n.name, false),
                            n.standing(),
                            n.scan_id.map_or("-".into(), |s| s.to_string()),
                            format!(
                                "{}{}",
                                n.exposure.as_str(),
                                if n.exposure_pinned { "*" } else { "" }
                            ),
                            n.last_seen_at.format("%Y-%m-%d %H:%M:%S UTC"),
                        );
                    }
                    eprintln!("(* exposure set by you: `vedette target exposure`)");
                }
            }
        }
        NodeCommand::Revoke { target } => {
            app.revoke_node(target).await?;
            eprintln!("vedette: node {target}'s credential revoked; the node is lost");
        }
    }
    Ok(0)
}

fn show_gate(s: &GateSettings) -> String {
    match (&s.armed_by, s.action) {
        (_, GateAction::Notify) => "the gate notifies only".to_owned(),
        (Some(who), a) => format!(
            "the gate will {} failing nodes' instances (armed by {who})",
            a.as_str()
        ),
        (None, a) => format!(
            "the gate would {} failing nodes' instances, but is not armed: it records what it would do",
            a.as_str()
        ),
    }
}

pub async fn gate(app: &App, cmd: GateCommand) -> Result<u8, Failure> {
    match cmd {
        GateCommand::Show { format } => {
            let s = app.gate().await?;
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&s)?),
                Format::Text => println!("{}", show_gate(&s)),
            }
        }
        GateCommand::Set {
            action,
            policy,
            cap_per_hour,
        } => {
            if action.is_none() && policy.is_none() && cap_per_hour.is_none() {
                return Err(usage("give --action, --policy or --cap-per-hour"));
            }
            if let Some(cap) = cap_per_hour {
                app.set_gate_cap(cap).await?;
                eprintln!("vedette: at most {cap} stops or terminations an hour");
            }
            if let Some(path) = policy {
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    usage(format!("cannot read the policy {}: {e}", path.display()))
                })?;
                app.set_gate_policy(&text)?;
                eprintln!("vedette: the gate judges with {}", path.display());
            }
            if let Some(a) = action {
                let a = match a {
                    ActionArg::Notify => GateAction::Notify,
                    ActionArg::Stop => GateAction::Stop,
                    ActionArg::Terminate => GateAction::Terminate,
                };
                let s = app.set_gate_action(a).await?;
                eprintln!("vedette: {}", show_gate(&s));
            }
        }
        GateCommand::Arm { confirm } => {
            let who = std::env::var("USER").unwrap_or_else(|_| "the CLI".into());
            let s = app.arm_gate(&confirm, &who).await?;
            eprintln!("vedette: {}", show_gate(&s));
        }
        GateCommand::DryRun { format } => {
            let would = app.gate_dry_run().await?;
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&would)?),
                Format::Text if would.is_empty() => {
                    println!("No node fails the gate policy now: the gate would do nothing.")
                }
                Format::Text => {
                    let s = app.gate().await?;
                    println!("{} ({} node(s) now):", show_gate(&s), would.len());
                    for c in would {
                        println!(
                            "  {:<28} {:<20} {}: {}",
                            vedette_model::printable(&c.node, false),
                            c.instance_id.as_deref().unwrap_or("no instance"),
                            c.scan_id.map_or("no scan".into(), |s| format!("scan {s}")),
                            c.reason
                        );
                    }
                }
            }
        }
        GateCommand::Disarm => {
            let s = app.disarm_gate().await?;
            eprintln!("vedette: {}", show_gate(&s));
        }
        GateCommand::Log { limit, format } => {
            let log = app.gate_log(limit).await?;
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&log)?),
                Format::Text => {
                    for r in log {
                        println!(
                            "{}  {:<28} {:<10} {:<9} {} → {}",
                            r.at.format("%Y-%m-%d %H:%M:%S"),
                            r.node,
                            r.action.as_str(),
                            r.outcome.as_str(),
                            r.reason,
                            r.answer.unwrap_or_default()
                        );
                    }
                }
            }
        }
    }
    Ok(0)
}

pub async fn cloud(app: &App, cmd: CloudCommand) -> Result<u8, Failure> {
    match cmd {
        CloudCommand::Aws(AwsCommand::Import {
            profile,
            region,
            endpoint,
        }) => {
            let home = std::env::var_os("HOME")
                .map(std::path::PathBuf::from)
                .ok_or_else(|| usage("HOME is not set: the AWS CLI's files are under it"))?;
            let info = app
                .import_aws_profile(&home, &profile, region, endpoint)
                .await?;
            eprintln!(
                "vedette: the AWS profile '{profile}' ({}, {}) is stored in the keyring; `vedette cloud aws check` tries it",
                info.username, info.host
            );
        }
        CloudCommand::Aws(AwsCommand::Check) => {
            let who = app.check_aws_account().await?;
            println!("{who}");
        }
        CloudCommand::Aws(AwsCommand::Set {
            access_key_id,
            region,
            endpoint,
            role,
        }) => {
            use std::io::Read;
            let mut secret = String::new();
            std::io::stdin()
                .read_to_string(&mut secret)
                .map_err(|e| usage(format!("cannot read the secret access key: {e}")))?;
            let account = vedette_app::AwsAccount {
                access_key_id,
                secret_access_key: vedette_model::Sensitive::new(
                    secret.trim_end_matches(['\n', '\r']).to_owned(),
                ),
                session_token: None,
                region,
                endpoint,
                role_arn: role.role_arn,
                external_id: role.external_id,
            };
            let info = app.set_aws_account(account).await?;
            eprintln!(
                "vedette: the AWS account {} ({}) is stored in the keyring",
                info.username, info.host
            );
        }
    }
    Ok(0)
}

//! `vedette --console URL`: `scan image`, `history`, `target` and
//! `schedule` against a running `vedette serve` instead of the local data
//! dir, printed and exiting as the local commands do (a CI job asks the
//! team's console for a verdict).

use vedette_api::client::{ClientError, Console};
use vedette_model::ErrorCode;

use crate::schedule::ScheduleCommand;
use crate::target::{AddTarget, TargetCommand};
use crate::{usage, Command, Failure};

impl From<ClientError> for Failure {
    fn from(e: ClientError) -> Self {
        let code = match e.code() {
            ErrorCode::InvalidInput | ErrorCode::NotFound => 2,
            _ => 3,
        };
        Failure {
            code,
            error: anyhow::anyhow!("{e}"),
        }
    }
}

fn not_here(what: &str) -> Failure {
    usage(format!(
        "{what} is not available against a console; run it on the console's machine, or drop --console"
    ))
}

pub(crate) async fn run(console: &Console, command: Command) -> Result<u8, Failure> {
    match command {
        Command::Scan(cmd) => crate::scan::run_remote(console, cmd).await,
        Command::History(args) => crate::history::run_remote(console, args).await,
        Command::Target(cmd) => target(console, cmd).await,
        Command::Schedule(cmd) => schedule(console, cmd).await,
        _ => Err(not_here("this command")),
    }
}

/// A target by id (a console's targets are named by id).
fn target_id(what: &str) -> Result<i64, Failure> {
    what.parse().map_err(|_| {
        usage(format!(
            "'{what}': against a console, name a target by its id (`vedette target list`)"
        ))
    })
}

async fn target(console: &Console, cmd: TargetCommand) -> Result<u8, Failure> {
    match cmd {
        TargetCommand::List { format } => {
            let list: Vec<_> = console
                .targets()
                .await?
                .into_iter()
                .map(|v| v.target)
                .collect();
            crate::target::print_targets(&list, format)?;
        }
        TargetCommand::Add(add) => {
            let body = match add {
                AddTarget::Image {
                    reference,
                    common,
                    insecure_registry,
                    platform,
                } => serde_json::json!({
                    "kind": "image", "name": reference, "group": common.group(),
                    "exposure": common.exposure(), "insecure": insecure_registry, "platform": platform,
                }),
                AddTarget::Registry {
                    host,
                    repos,
                    tags,
                    common,
                    insecure,
                    rate,
                    kind,
                    api,
                } => {
                    let tags = vedette_model::TagSelector::parse(&tags)
                        .map_err(|e| usage(format!("--tags {e}")))?;
                    let kind = vedette_model::RegistryKind::parse(&kind)
                        .map_err(|e| usage(format!("--kind {e}")))?;
                    serde_json::json!({
                        "kind": "registry", "name": host, "group": common.group(),
                        "exposure": common.exposure(), "insecure": insecure,
                        "watch": {"repositories": repos, "tags": tags, "insecure": insecure, "requests_per_second": rate, "kind": kind, "api": api},
                    })
                }
                AddTarget::Dir { path, common } => serde_json::json!({
                    "kind": "directory", "name": path, "group": common.group(), "exposure": common.exposure(),
                }),
                AddTarget::Host {
                    address,
                    trust_host_key,
                    identity_file,
                    paths,
                    jump,
                    common,
                } => {
                    let body = serde_json::json!({
                        "address": address, "group": common.group(), "exposure": common.exposure(),
                        "host": {"paths": paths, "identity_file": identity_file, "jump": jump},
                        "trust_host_key": trust_host_key,
                    });
                    let added = console.add_host(&body).await?;
                    eprintln!(
                        "Watching host {} (target {}) on the console.",
                        added.target.name, added.target.id
                    );
                    crate::target::print_host_key(&added.target, &added.key);
                    return Ok(0);
                }
            };
            let t = console.add_target(&body).await?;
            eprintln!("Watching {} (target {}) on the console.", t.name, t.id);
        }
        TargetCommand::Remove { target } => {
            let t = console.remove_target(target_id(&target)?).await?;
            eprintln!("{} is no longer watched; its history is gone.", t.name);
        }
        TargetCommand::Group { .. } => return Err(not_here("target group")),
        TargetCommand::Exposure { .. } => return Err(not_here("target exposure")),
        TargetCommand::Crawl { .. } => return Err(not_here("target crawl")),
        TargetCommand::Retry { .. } => return Err(not_here("target retry")),
        TargetCommand::TrustKey {
            target,
            fingerprint,
        } => {
            let fp = console
                .trust_host_key(target_id(&target)?, &fingerprint)
                .await?;
            eprintln!("Trusted {fp} for target {target} on the console.");
        }
        TargetCommand::Import { .. } => return Err(not_here("target import")),
    }
    Ok(0)
}

async fn schedule(console: &Console, cmd: ScheduleCommand) -> Result<u8, Failure> {
    match cmd {
        ScheduleCommand::List { format } => {
            let list: Vec<_> = console
                .schedules()
                .await?
                .into_iter()
                .map(|v| v.schedule)
                .collect();
            crate::schedule::print_schedules(&list, format)?;
            Ok(0)
        }
        ScheduleCommand::Run { id } => {
            console.run_schedule(id).await?;
            eprintln!("Schedule {id} is running on the console; `vedette --console … history` shows its scans.");
            Ok(0)
        }
        _ => Err(not_here("this schedule command")),
    }
}

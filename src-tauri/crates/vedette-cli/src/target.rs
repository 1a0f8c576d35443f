//! `vedette target list|add|group|remove|crawl|retry`: what Vedette watches.

use clap::{Args, Subcommand};
use vedette_app::App;
use vedette_model::{Exposure, RegistryWatch, TagSelector, TargetInfo, TargetKind};

use crate::feed::FeedArgs;
use crate::scan::ExposureArg;
use crate::{usage, Failure, Format};

#[derive(Subcommand)]
pub enum TargetCommand {
    /// Every target, with its group and, for registries, what is watched.
    List {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Watches a registry (crawled at each scheduled run) or an image.
    #[command(subcommand)]
    Add(AddTarget),
    /// Puts a target in a group (schedules and trends select by group);
    /// without GROUP, takes it out of its group.
    Group {
        /// Target id or name.
        target: String,
        group: Option<String>,
    },
    /// Stops watching a target; its history goes with it.
    Remove {
        /// Target id or name.
        target: String,
    },
    /// Lists the images a registry target selects right now, without scanning.
    Crawl {
        /// Target id or registry host.
        target: String,
    },
    /// Lets the scheduler scan a quarantined target again (one whose scans
    /// kept stopping Vedette); `vedette target list` shows which are.
    Retry {
        /// Target id or name.
        target: String,
    },
}

#[derive(Subcommand)]
pub enum AddTarget {
    /// A registry: which repositories, which tags.
    Registry {
        /// host[:port], e.g. ghcr.io or 127.0.0.1:5000
        host: String,
        /// Repositories matching this glob, e.g. 'shop/*'; a name without
        /// wildcards is used as is (registries without a catalog API).
        #[arg(long, default_value = "*", value_name = "GLOB")]
        repos: String,
        /// latest:N (newest N images by creation time), tags:A,B or regex:PATTERN.
        #[arg(long, default_value = "latest:1", value_name = "SELECTOR")]
        tags: String,
        #[command(flatten)]
        common: Common,
        /// Plain HTTP or a certificate that does not verify (a lab registry).
        #[arg(long)]
        insecure: bool,
        /// At most this many requests per second to the registry.
        #[arg(long, value_name = "N")]
        rate: Option<f64>,
    },
    /// One image reference, rescanned by schedules.
    Image {
        reference: String,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Args)]
pub struct Common {
    #[arg(long)]
    group: Option<String>,
    #[arg(long, value_enum)]
    exposure: Option<ExposureArg>,
}

impl Common {
    fn exposure(&self) -> Exposure {
        match self.exposure {
            Some(ExposureArg::Internet) => Exposure::Internet,
            _ => Exposure::Internal,
        }
    }
}

fn store_err(e: vedette_store::StoreError) -> Failure {
    match e {
        vedette_store::StoreError::Invalid(m) => usage(m),
        other => other.into(),
    }
}

async fn find(app: &App, what: &str) -> Result<TargetInfo, Failure> {
    let all = app.store().list_targets().await?;
    let by_id = what.parse::<i64>().ok();
    all.into_iter()
        .find(|t| Some(t.id) == by_id || t.name == what)
        .ok_or_else(|| {
            usage(format!(
                "there is no target '{what}'; `vedette target list` shows them"
            ))
        })
}

fn describe(t: &TargetInfo) -> String {
    match &t.registry {
        Some(w) => format!("repositories {} — {}", w.repositories, w.tags.describe()),
        None => String::new(),
    }
}

pub async fn run(app: &App, feed_args: &FeedArgs, cmd: TargetCommand) -> Result<u8, Failure> {
    let store = app.store();
    match cmd {
        TargetCommand::List { format } => {
            let list = store.list_targets().await?;
            if let Format::Json = format {
                println!("{}", serde_json::to_string_pretty(&list)?);
                return Ok(0);
            }
            println!(
                "{:>4}  {:<9}  {:<48}  {:<12}  {:<9}  {:<11}  WATCHES",
                "ID", "KIND", "NAME", "GROUP", "EXPOSURE", "STATE"
            );
            for t in &list {
                println!(
                    "{:>4}  {:<9}  {:<48}  {:<12}  {:<9}  {:<11}  {}",
                    t.id,
                    t.kind.as_str(),
                    vedette_model::printable(&t.name, false),
                    vedette_model::printable(t.group.as_deref().unwrap_or("-"), false),
                    t.exposure.as_str(),
                    if t.quarantine.is_some() {
                        "QUARANTINED"
                    } else {
                        "ok"
                    },
                    describe(t)
                );
            }
            for t in list.iter().filter(|t| t.quarantine.is_some()) {
                if let Some(q) = &t.quarantine {
                    println!(
                        "\nTarget {} ({}) is quarantined since {}: {}.\n  `vedette target retry {}` lets the scheduler scan it again.",
                        t.id,
                        vedette_model::printable(&t.name, false),
                        q.since.format("%Y-%m-%d %H:%M UTC"),
                        q.reason,
                        t.id
                    );
                }
            }
            Ok(0)
        }
        TargetCommand::Add(AddTarget::Registry {
            host,
            repos,
            tags,
            common,
            insecure,
            rate,
        }) => {
            let watch = RegistryWatch {
                repositories: repos,
                tags: TagSelector::parse(&tags).map_err(|e| usage(format!("--tags {e}")))?,
                insecure,
                requests_per_second: rate,
            };
            vedette_engine::check_watch(&watch).map_err(usage)?;
            let t = store
                .add_registry_target(&host, &watch, common.group.as_deref(), common.exposure())
                .await
                .map_err(store_err)?;
            eprintln!(
                "Watching registry {} (target {}): {}. `vedette target crawl {}` lists what it picks now.",
                t.name,
                t.id,
                describe(&t),
                t.id
            );
            Ok(0)
        }
        TargetCommand::Add(AddTarget::Image { reference, common }) => {
            let name = vedette_engine::Target::Image(reference.clone()).name();
            check_reference(&reference)?;
            let t = store
                .add_target(TargetKind::Image, &name, common.exposure())
                .await
                .map_err(store_err)?;
            store
                .set_target_group(t.id, common.group.as_deref())
                .await?;
            eprintln!("Watching image {} (target {}).", t.name, t.id);
            Ok(0)
        }
        TargetCommand::Group { target, group } => {
            let t = find(app, &target).await?;
            store.set_target_group(t.id, group.as_deref()).await?;
            match group {
                Some(g) => eprintln!("{} is in group {g}.", t.name),
                None => eprintln!("{} is in no group.", t.name),
            }
            Ok(0)
        }
        TargetCommand::Remove { target } => {
            let t = find(app, &target).await?;
            store.remove_target(t.id).await?;
            eprintln!(
                "No longer watching {} (its history is gone with it).",
                t.name
            );
            Ok(0)
        }
        TargetCommand::Retry { target } => {
            let t = find(app, &target).await?;
            if app.retry_target(&t).await? {
                eprintln!(
                    "{} is out of quarantine: the next scheduled run scans it.",
                    vedette_model::printable(&t.name, false)
                );
            } else {
                eprintln!(
                    "{} is not quarantined; nothing to do.",
                    vedette_model::printable(&t.name, false)
                );
            }
            Ok(0)
        }
        TargetCommand::Crawl { target } => {
            let t = find(app, &target).await?;
            let Some(watch) = t.registry.clone() else {
                return Err(usage(format!(
                    "{} is not a registry target; only registries are crawled",
                    t.name
                )));
            };
            let (ctx, _temp) = crate::schedule::context(app, feed_args).await?;
            let crawl_opts = vedette_engine::CrawlOptions::for_watch(&watch);
            let crawl = vedette_scheduler::crawl_registry(&ctx, &t, &watch, &crawl_opts)
                .await
                .map_err(|e| Failure::from(anyhow::anyhow!(e)))?;
            ctx.scanner.feeds.close().await;
            println!("{:<60}  {:<20}  DIGEST", "IMAGE", "CREATED");
            for i in &crawl.images {
                println!(
                    "{:<60}  {:<20}  {}",
                    i.reference,
                    i.created
                        .as_deref()
                        .map(|c| c.chars().take(19).collect::<String>())
                        .unwrap_or_else(|| "-".into()),
                    i.digest
                );
            }
            for w in &crawl.warnings {
                eprintln!("warning: {w}");
            }
            if crawl.images.is_empty() {
                eprintln!("The selector picks no image on {} now.", t.name);
            }
            Ok(0)
        }
    }
}

/// A reference must parse before it is watched.
fn check_reference(reference: &str) -> Result<(), Failure> {
    vedette_engine::registry_host(reference)
        .map(|_| ())
        .ok_or_else(|| {
            usage(format!(
                "'{reference}' is not an image reference; write it as [registry/]repository[:tag], e.g. ghcr.io/acme/api:1.4"
            ))
        })
}

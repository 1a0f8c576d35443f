//! `vedette target list|add|group|remove|crawl|retry`: what Vedette watches.

use clap::{Args, Subcommand};
use vedette_app::{App, TargetSettings};
use vedette_model::{Exposure, RegistryKind, RegistryWatch, TagSelector, TargetInfo};

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
    /// Sets whether a target is internet-facing or internal (it weighs on
    /// risk). What you set wins over what Vedette infers for a node. The
    /// target's newest inventory is judged again at once, so its findings
    /// are re-scored (cause: exposure change) and a node is gated anew.
    Exposure {
        /// Target id or name.
        target: String,
        #[arg(value_enum)]
        exposure: ExposureArg,
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
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Adds hosts in bulk: every concrete `Host` of an ssh config (with the
    /// User, HostName, Port and IdentityFile that apply to it), or a list
    /// of user@host[:port] lines. No key is trusted by an import.
    #[command(group(clap::ArgGroup::new("source").required(true).args(["ssh_config", "list"])))]
    Import {
        /// An ssh config [default: ~/.ssh/config].
        #[arg(long, value_name = "FILE", num_args = 0..=1, default_missing_value = "~/.ssh/config")]
        ssh_config: Option<String>,
        /// A file of user@host[:port] lines (# comments).
        #[arg(long, value_name = "FILE")]
        list: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// Trusts a host's key after checking its fingerprint on the host
    /// (`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub`).
    TrustKey {
        /// Target id or user@host[:port].
        target: String,
        /// SHA256:… as `vedette target add host` or a failed scan showed it.
        fingerprint: String,
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
        /// How its images are listed: auto (Docker Hub's API for docker.io,
        /// GitHub's for ghcr.io, AWS's for an ECR host, Harbor's when it
        /// says it is one, else the OCI API), oci, harbor (robot accounts
        /// can crawl), dockerhub (no pulls spent), ghcr (a token with
        /// read:packages), gitlab (a group's repositories through GitLab's
        /// API; give --api) or ecr (DescribeImages with the AWS account set
        /// by `vedette cloud aws set`).
        #[arg(long, default_value = "auto", value_name = "KIND")]
        kind: String,
        /// The registry's own API when it lives elsewhere: for --kind gitlab,
        /// the GitLab's URL (https://gitlab.example.com).
        #[arg(long, value_name = "URL")]
        api: Option<String>,
    },
    /// One image reference, rescanned by schedules.
    Image {
        reference: String,
        #[command(flatten)]
        common: Common,
        /// Its registry over plain HTTP or with a certificate that does not verify.
        #[arg(long)]
        insecure_registry: bool,
        /// The platform of a multi-platform image [default: linux/amd64]
        #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
        platform: Option<String>,
    },
    /// A host over SSH (user@host[:port]), rescanned by schedules: its
    /// package databases and language packages read with SFTP, nothing run
    /// as root. Vedette logs in with the ssh-agent's keys, the key or
    /// password stored with `vedette credential add --host`, or
    /// --identity-file.
    Host {
        /// user@host[:port] (user@[::1]:2222 for IPv6)
        address: String,
        /// Trust the host's key if its fingerprint is this (SHA256:…).
        #[arg(long, value_name = "SHA256:…")]
        trust_host_key: Option<String>,
        /// A private key file on this machine to log in with.
        #[arg(long, value_name = "FILE")]
        identity_file: Option<String>,
        /// More directories on the host where language packages are looked
        /// for (repeatable); site-packages, node_modules, /opt, /srv and /app always are.
        #[arg(long = "path", value_name = "DIR")]
        paths: Vec<String>,
        /// Reach the host through this bastion (like ssh -J; one hop).
        #[arg(long, value_name = "USER@BASTION[:PORT]")]
        jump: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// A directory (an unpacked root filesystem), rescanned by schedules.
    Dir {
        path: std::path::PathBuf,
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
    pub(crate) fn group(&self) -> Option<&str> {
        self.group.as_deref()
    }

    pub(crate) fn exposure(&self) -> Option<&'static str> {
        self.exposure.map(|e| match e {
            ExposureArg::Internet => "internet",
            ExposureArg::Internal => "internal",
        })
    }

    fn settings(&self) -> TargetSettings {
        TargetSettings {
            group: self.group.clone(),
            exposure: self.exposure.map_or(Exposure::Internal, Exposure::from),
            ..TargetSettings::default()
        }
    }
}

fn describe(t: &TargetInfo) -> String {
    let mut parts = Vec::new();
    if let Some(w) = &t.registry {
        parts.push(format!(
            "repositories {} — {}",
            w.repositories,
            w.tags.describe()
        ));
    }
    if t.insecure || t.registry.as_ref().is_some_and(|w| w.insecure) {
        parts.push("plain HTTP or unverified TLS".to_owned());
    }
    if let Some(p) = &t.platform {
        parts.push(p.clone());
    }
    parts.join("; ")
}

pub async fn run(app: &App, feeds: &FeedArgs, cmd: TargetCommand) -> Result<u8, Failure> {
    match cmd {
        TargetCommand::List { format } => {
            let list = app.targets().await?;
            print_targets(&list, format)?;
            Ok(0)
        }
        TargetCommand::Add(AddTarget::Registry {
            host,
            repos,
            tags,
            common,
            insecure,
            rate,
            kind,
            api,
        }) => {
            let watch = RegistryWatch {
                repositories: repos,
                tags: TagSelector::parse(&tags).map_err(|e| usage(format!("--tags {e}")))?,
                insecure,
                requests_per_second: rate,
                kind: RegistryKind::parse(&kind).map_err(|e| usage(format!("--kind {e}")))?,
                api,
            };
            let t = app.add_registry(&host, &watch, &common.settings()).await?;
            eprintln!(
                "Watching registry {} (target {}): {}. `vedette target crawl {}` lists what it picks now.",
                t.name,
                t.id,
                describe(&t),
                t.id
            );
            Ok(0)
        }
        TargetCommand::Add(AddTarget::Image {
            reference,
            common,
            insecure_registry,
            platform,
        }) => {
            let settings = TargetSettings {
                insecure: insecure_registry,
                platform,
                ..common.settings()
            };
            let t = app.add_image(&reference, &settings).await?;
            eprintln!("Watching image {} (target {}).", t.name, t.id);
            Ok(0)
        }
        TargetCommand::Add(AddTarget::Host {
            address,
            trust_host_key,
            identity_file,
            paths,
            jump,
            common,
        }) => {
            let spec = vedette_model::HostSpec {
                paths,
                identity_file,
                jump,
            };
            let (t, key) = app
                .add_host(
                    &address,
                    &spec,
                    &common.settings(),
                    trust_host_key.as_deref(),
                )
                .await?;
            eprintln!("Watching host {} (target {}).", t.name, t.id);
            print_host_key(&t, &key);
            Ok(0)
        }
        TargetCommand::Import {
            ssh_config,
            list,
            common,
        } => {
            let (file, is_config) = match (ssh_config, list) {
                (Some(f), _) => (f, true),
                (None, Some(f)) => (f, false),
                (None, None) => return Err(usage("--ssh-config or --list")),
            };
            let imported = app
                .import_hosts_file(&file, is_config, &common.settings())
                .await?;
            let mut failed = 0;
            for i in &imported {
                match &i.outcome {
                    Ok((t, key)) => {
                        let key = match key {
                            vedette_app::HostKeyState::Trusted(fp) => format!("key trusted ({fp})"),
                            vedette_app::HostKeyState::Unknown(fp) => {
                                format!(
                                    "key not known yet: {fp} (vedette target trust-key {} {fp})",
                                    t.id
                                )
                            }
                            vedette_app::HostKeyState::Unreachable(why) => {
                                format!("key not checked: {why}")
                            }
                        };
                        eprintln!("{}: added {} (target {}); {key}", i.from, t.name, t.id);
                    }
                    Err(e) => {
                        failed += 1;
                        eprintln!("{}: not added: {e}", i.from);
                    }
                }
            }
            eprintln!(
                "{} of {} hosts added.",
                imported.len() - failed,
                imported.len()
            );
            Ok(if failed == 0 { 0 } else { 3 })
        }
        TargetCommand::TrustKey {
            target,
            fingerprint,
        } => {
            let fp = app.trust_host_key(&target, &fingerprint).await?;
            eprintln!("Trusted {fp} for {target}.");
            Ok(0)
        }
        TargetCommand::Add(AddTarget::Dir { path, common }) => {
            let t = app
                .add_directory(&path.display().to_string(), &common.settings())
                .await?;
            eprintln!("Watching directory {} (target {}).", t.name, t.id);
            Ok(0)
        }
        TargetCommand::Group { target, group } => {
            let t = app.find_target(&target).await?;
            app.set_group(t.id, group.as_deref()).await?;
            match group {
                Some(g) => eprintln!("{} is in group {g}.", t.name),
                None => eprintln!("{} is in no group.", t.name),
            }
            Ok(0)
        }
        TargetCommand::Exposure { target, exposure } => {
            let t = app.find_target(&target).await?;
            let exposure = Exposure::from(exposure);
            let name = vedette_model::printable(&t.name, false);
            match app
                .set_target_exposure(t.id, exposure, &feeds.sources())
                .await?
            {
                None => eprintln!(
                    "{name} is {}; it has no inventory to judge again yet.",
                    exposure.as_str()
                ),
                Some((started, done)) => {
                    eprintln!(
                        "{name} is {}; judging its newest inventory again (scan {})…",
                        exposure.as_str(),
                        started.scan_id
                    );
                    // Resolves when the scan (and a node's gate) is done;
                    // a dropped sender means the same.
                    let _ = done.await;
                    let scan = app.scan_summary(started.scan_id).await?;
                    let verdict = match scan.verdict_pass {
                        Some(true) => "pass",
                        Some(false) => "FAIL",
                        None => "none",
                    };
                    eprintln!(
                        "scan {}: {}, verdict {verdict}; `vedette history show {}` shows what changed.",
                        scan.id,
                        scan.state.as_str(),
                        scan.id
                    );
                }
            }
            Ok(0)
        }
        TargetCommand::Remove { target } => {
            let t = app.find_target(&target).await?;
            app.remove_target(t.id).await?;
            eprintln!(
                "No longer watching {} (its history is gone with it).",
                t.name
            );
            Ok(0)
        }
        TargetCommand::Retry { target } => {
            let t = app.find_target(&target).await?;
            if app.retry_target(t.id).await? {
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
        TargetCommand::Crawl { target, format } => {
            let t = app.find_target(&target).await?;
            let crawl = app.crawl_preview(t.id).await?;
            if let Format::Json = format {
                println!("{}", serde_json::to_string_pretty(&crawl)?);
                for w in &crawl.warnings {
                    eprintln!("warning: {w}");
                }
                return Ok(0);
            }
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

/// Targets as `vedette target list` prints them (locally or from a console).
pub(crate) fn print_targets(list: &[TargetInfo], format: Format) -> Result<(), Failure> {
    if let Format::Json = format {
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(());
    }
    println!(
        "{:>4}  {:<9}  {:<48}  {:<12}  {:<9}  {:<11}  WATCHES",
        "ID", "KIND", "NAME", "GROUP", "EXPOSURE", "STATE"
    );
    for t in list {
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
    Ok(())
}

/// What `target add host` found of the host's key, and what to do next.
pub(crate) fn print_host_key(t: &TargetInfo, key: &vedette_model::HostKeyState) {
    use vedette_model::HostKeyState;
    match key {
        HostKeyState::Trusted(fp) => eprintln!("Its host key is trusted: {fp}."),
        HostKeyState::Unknown(fp) => eprintln!(
            "Its host key is not known yet: {fp}. Check it on the host (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub), then: vedette target trust-key {} {fp}",
            t.id
        ),
        HostKeyState::Unreachable(why) => eprintln!("Its host key could not be checked now: {why}"),
    }
}

//! `vedette scan image|archive|dir`: inventory a target, store it, print it.

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Subcommand, ValueEnum};
use vedette_app::App;
use vedette_engine::{EngineError, Target};
use vedette_model::ScanState;
use vedette_sources::registry::{docker_config, Credential};
use vedette_sources::{Reference, SourceError};

use crate::{usage, Failure};

#[derive(Subcommand)]
pub enum ScanCommand {
    /// An image in a registry: REF is [registry/]repository[:tag][@digest].
    Image {
        reference: String,
        /// Platform to pick from a multi-platform image.
        #[arg(long, default_value = "linux/amd64", value_name = "OS/ARCH[/VARIANT]")]
        platform: String,
        /// Allow plain HTTP and TLS certificates that do not verify, for this registry.
        #[arg(long)]
        insecure_registry: bool,
        #[command(flatten)]
        out: OutputArgs,
    },
    /// An image archive: `docker save` tar, OCI archive tar (optionally gzipped), or OCI layout directory.
    Archive {
        path: PathBuf,
        #[arg(long, default_value = "linux/amd64", value_name = "OS/ARCH[/VARIANT]")]
        platform: String,
        #[command(flatten)]
        out: OutputArgs,
    },
    /// A directory or unpacked root filesystem.
    Dir {
        path: PathBuf,
        #[command(flatten)]
        out: OutputArgs,
    },
}

#[derive(Args)]
pub struct OutputArgs {
    #[arg(long, value_enum, default_value_t = OutFormat::Table)]
    format: OutFormat,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// No progress messages on standard error.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum OutFormat {
    Table,
    Json,
    Cyclonedx,
    Spdx,
}

struct StderrProgress {
    quiet: bool,
    layers: std::sync::atomic::AtomicUsize,
}

impl vedette_sources::registry::Progress for StderrProgress {
    fn layer_done(&self, digest: &str) {
        let n = self
            .layers
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        if !self.quiet {
            eprintln!(
                "vedette: layer {n} done ({})",
                &digest[..digest.len().min(19)]
            );
        }
    }
}

impl vedette_engine::Progress for StderrProgress {
    fn stage(&self, message: &str) {
        if !self.quiet {
            eprintln!("vedette: {message}");
        }
    }
}

pub async fn run(app: &App, cmd: ScanCommand) -> Result<u8, Failure> {
    let (target, platform, insecure, out) = match cmd {
        ScanCommand::Image {
            reference,
            platform,
            insecure_registry,
            out,
        } => {
            Reference::parse(&reference).map_err(|e| usage(e.to_string()))?;
            (Target::Image(reference), platform, insecure_registry, out)
        }
        ScanCommand::Archive {
            path,
            platform,
            out,
        } => (Target::Archive(path), platform, false, out),
        ScanCommand::Dir { path, out } => (
            Target::Directory(path),
            "linux/amd64".to_owned(),
            false,
            out,
        ),
    };
    let credential = match &target {
        Target::Image(r) => {
            registry_credential(
                app,
                &Reference::parse(r)
                    .map_err(|e| usage(e.to_string()))?
                    .registry,
            )
            .await
        }
        _ => None,
    };
    // The only place a scan writes: a private temp dir, removed afterwards.
    let temp = tempfile::Builder::new()
        .prefix("vedette-scan-")
        .tempdir()
        .map_err(|e| Failure::from(anyhow::anyhow!("cannot create a private temp dir: {e}")))?;
    let opts = vedette_engine::Options {
        platform,
        insecure_registry: insecure,
        credential,
        temp_dir: temp.path().to_owned(),
        ..vedette_engine::Options::default()
    };
    let store = app.store();
    let target_id = store.ensure_target(target.kind(), &target.name()).await?;
    let scan_id = store.begin_scan(target_id).await?;
    let progress = Arc::new(StderrProgress {
        quiet: out.quiet,
        layers: 0.into(),
    });
    let inventory = match vedette_engine::inventory(&target, &opts, progress).await {
        Ok(inv) => inv,
        Err(e) => {
            store
                .finish_scan(scan_id, ScanState::Failed, Some(&e.to_string()))
                .await?;
            return Err(match e {
                EngineError::BadPlatform(_)
                | EngineError::Source(SourceError::BadReference { .. }) => usage(e.to_string()),
                other => Failure {
                    code: 3,
                    error: anyhow::anyhow!(other),
                },
            });
        }
    };
    store.complete_scan(scan_id, &inventory).await?;
    let format = match out.format {
        OutFormat::Table => vedette_report::Format::Table,
        OutFormat::Json => vedette_report::Format::Json,
        OutFormat::Cyclonedx => vedette_report::Format::CycloneDx,
        OutFormat::Spdx => vedette_report::Format::Spdx,
    };
    let text = vedette_report::render(&inventory, format);
    match &out.output {
        Some(path) => {
            std::fs::write(path, text.as_bytes()).map_err(|e| {
                Failure::from(anyhow::anyhow!("cannot write {}: {e}", path.display()))
            })?;
            if !out.quiet {
                eprintln!(
                    "vedette: {} packages written to {}",
                    inventory.packages.len(),
                    path.display()
                );
            }
        }
        None => print!("{text}"),
    }
    Ok(0)
}

/// The credential for a registry: the keyring first, then Docker's config.
/// Neither being there means an anonymous pull.
async fn registry_credential(app: &App, registry: &str) -> Option<Credential> {
    let name = vedette_model::registry_credential_name(registry);
    let stored = app
        .credentials()
        .list()
        .await
        .ok()?
        .into_iter()
        .find(|c| c.name == name);
    if let Some(info) = stored {
        match app.credentials().secret(&name).await {
            Ok(Some(secret)) => {
                return Some(Credential {
                    username: info.username,
                    secret,
                })
            }
            Ok(None) => {
                tracing::warn!("the keyring has no secret for {name}; trying Docker's config")
            }
            Err(e) => eprintln!("vedette: warning: {e}"),
        }
    }
    let path = docker_config::default_path()?;
    match docker_config::lookup(&path, registry) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("vedette: warning: Docker config: {e}");
            None
        }
    }
}

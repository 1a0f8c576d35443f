//! `vedette`: Vedette from a terminal or a CI pipeline.
//!
//! Exit codes: 0 success; 1 a check or policy failed; 2 usage or input error;
//! 3 or more: Vedette could not do what was asked (the message says why).

use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

mod api;
mod config;
mod db;
mod feed;
mod gate;
mod history;
mod notify;
mod remote;
mod scan;
mod schedule;
mod target;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use vedette_app::{App, AppError, KeyringSecrets, SecretBackend, VERSION};
use vedette_model::{CheckState, DoctorReport, NewRegistryCredential, Sensitive};

#[derive(Parser)]
#[command(name = "vedette", version = VERSION, about = "Keeps watch over a fleet's containers and hosts.")]
struct Cli {
    /// Where Vedette keeps its database and logs [default: ~/.local/share/vedette]
    #[arg(long, global = true, env = "VEDETTE_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,

    /// Keep the history in this database instead of the data dir's SQLite
    /// file: a team's PostgreSQL (postgres://user@host:5432/vedette; the
    /// password in PGPASSWORD or ~/.pgpass) shared by every machine.
    #[arg(long, global = true, env = "VEDETTE_DATABASE_URL", value_name = "URL")]
    database: Option<String>,

    #[command(flatten)]
    feeds: feed::FeedArgs,

    /// Run `scan image`, `history`, `target` and `schedule` against a
    /// running `vedette serve` (its API URL, http://host:7878) instead of
    /// the local data dir.
    #[arg(long, global = true, env = "VEDETTE_CONSOLE", value_name = "URL")]
    console: Option<String>,

    /// With --console: read the API token from standard input (else from
    /// VEDETTE_TOKEN).
    #[arg(long, global = true)]
    token_stdin: bool,

    /// With an https --console: trust the CA certificates (or the
    /// console's own certificate) in this PEM file, besides the usual roots.
    #[arg(long, global = true, env = "VEDETTE_CONSOLE_CA", value_name = "FILE")]
    console_ca: Option<PathBuf>,

    /// With an https --console: trust exactly the certificate with this
    /// SHA-256 fingerprint (hex, as `vedette serve` prints it for its
    /// self-signed certificate).
    #[arg(
        long,
        global = true,
        env = "VEDETTE_CONSOLE_PIN_SHA256",
        value_name = "HEX"
    )]
    console_pin_sha256: Option<String>,

    /// No progress messages on standard error (errors and a failed gate's
    /// reasons are still printed).
    #[arg(
        long,
        short,
        global = true,
        env = "VEDETTE_QUIET",
        value_parser = clap::builder::FalseyValueParser::new()
    )]
    quiet: bool,

    /// More log detail on standard error: -v info, -vv debug, -vvv trace
    /// (VEDETTE_LOG, when set, says exactly what).
    #[arg(long, short, global = true, action = clap::ArgAction::Count)]
    verbose: u8,

    /// Colour in tables: auto (on a terminal, unless NO_COLOR is set),
    /// always or never.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, env = "VEDETTE_COLOR")]
    color: ColorChoice,

    #[command(subcommand)]
    command: Command,
}

/// When tables are coloured.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// The global output settings, set once from the command line.
static OUTPUT: std::sync::OnceLock<(bool, ColorChoice)> = std::sync::OnceLock::new();

/// Whether progress messages are silenced (-q).
pub(crate) fn quiet() -> bool {
    OUTPUT.get().is_some_and(|(q, _)| *q)
}

/// Whether a table printed to standard output is coloured.
pub(crate) fn color_stdout() -> bool {
    match OUTPUT.get().map_or(ColorChoice::Auto, |(_, c)| *c) {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// The database itself: bring it up to date, or copy a laptop's
    /// history into a team's PostgreSQL.
    #[command(subcommand)]
    Db(db::DbCommand),
    /// Prints the completions of a shell (bash, zsh, fish), e.g.
    /// `vedette completion bash > ~/.local/share/bash-completion/completions/vedette`
    /// (the .deb installs them).
    Completion {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Prints the manual page (roff), made from these definitions.
    #[command(hide = true)]
    Manpage,
    /// Checks the data directory, database, keyring and feeds, and says what to fix.
    Doctor {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Registry and feed-mirror credentials: the secret goes to the OS keyring, only its name to the database.
    #[command(subcommand)]
    Credential(CredentialCommand),
    /// Scans an image, an image archive, a directory or an SBOM: what is
    /// installed, which advisories affect it, how risky each is, and whether
    /// it passes the policy.
    ///
    /// Exit codes: 0 pass; 1 the policy failed; 2 bad input or usage;
    /// 3 the scan could not be done; 4 no verdict: an advisory feed is
    /// stale or missing (see --allow-stale), or part of the target cannot be
    /// judged: an operating system no advisory source covers, a package
    /// database that cannot be read (see --allow-uncovered).
    #[command(subcommand)]
    Scan(scan::ScanCommand),
    /// Advisory feeds: update, import offline bundles, status.
    #[command(subcommand)]
    Feed(feed::FeedCommand),
    /// Targets: registries (crawled by repository and tag selector), images, groups.
    #[command(subcommand)]
    Target(target::TargetCommand),
    /// Schedules: scans that run by themselves (`vedette serve` or the desktop app fires them).
    #[command(subcommand)]
    Schedule(schedule::ScheduleCommand),
    /// Runs the scheduler without a window (a server, a systemd user unit);
    /// one per data dir.
    Serve {
        /// How often to look for edited schedules.
        #[arg(long, default_value = "30s", value_name = "DURATION")]
        poll: String,
        /// Where the automation API listens (loopback unless asked).
        #[arg(long, env = "VEDETTE_API", default_value = vedette_api::DEFAULT_ADDRESS, value_name = "ADDR")]
        api: String,
        /// Serve no API (whatever --api says).
        #[arg(long)]
        no_api: bool,
        /// The API's TLS certificate chain (PEM). Without one, an address
        /// other than loopback is served with a self-signed certificate
        /// generated once under the data dir, its fingerprint printed.
        #[arg(
            long,
            env = "VEDETTE_API_TLS_CERT",
            value_name = "FILE",
            requires = "tls_key"
        )]
        tls_cert: Option<PathBuf>,
        /// The key of --tls-cert (PEM).
        #[arg(
            long,
            env = "VEDETTE_API_TLS_KEY",
            value_name = "FILE",
            requires = "tls_cert"
        )]
        tls_key: Option<PathBuf>,
        /// TLS on a loopback address too.
        #[arg(long)]
        tls: bool,
        /// On a shared PostgreSQL (--database): `scheduler` fires the
        /// schedules and queues their scans, `worker` takes scans from the
        /// queue, `all` does both. With SQLite, serve does both itself.
        #[arg(long, value_enum, env = "VEDETTE_ROLE", default_value_t = schedule::Role::All)]
        role: schedule::Role,
    },
    /// The automation API: tokens, the OpenAPI document.
    #[command(subcommand)]
    Api(api::ApiCommand),
    /// Past scans: their findings, verdicts and what changed.
    History(history::HistoryArgs),
    /// Open findings by severity per day, new and fixed per week, mean time
    /// to fix; as text, JSON, or a chart (--output chart.png or .svg).
    Trends(history::TrendsArgs),
    /// Policy files: check them, and move their exceptions to and from OpenVEX.
    #[command(subcommand)]
    Policy(feed::PolicyCommand),
    /// Agents: the enrolment tokens `vedette-agent` enrols nodes with.
    #[command(subcommand)]
    Agent(gate::AgentCommand),
    /// Nodes: the machines whose agent enrolled.
    #[command(subcommand)]
    Node(gate::NodeCommand),
    /// The new-node gate: what it does to the cloud instance of a node that
    /// fails its policy (notify, stop, terminate), arming it, its action log.
    #[command(subcommand)]
    Gate(gate::GateCommand),
    /// Cloud accounts the gate acts with (secrets in the keyring).
    #[command(subcommand)]
    Cloud(gate::CloudCommand),
    /// Notifications: channels (desktop, Slack, Teams, webhook, email),
    /// rules, test messages and the delivery log.
    #[command(subcommand)]
    Notify(notify::NotifyCommand),
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Format {
    /// For people (also `table`, as `vedette scan` names it).
    #[value(alias = "table")]
    Text,
    Json,
}

#[derive(Subcommand)]
enum CredentialCommand {
    /// Adds or replaces the credential for a registry host. The password or
    /// token is read from standard input (or asked for on a terminal).
    Add(AddCredential),
    /// Lists stored credentials (names and users, never secrets).
    List {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Deletes a credential from the keyring and the database.
    #[command(group(clap::ArgGroup::new("what").required(true).args(["registry", "feed_mirror"])))]
    Remove {
        /// Registry host, e.g. ghcr.io
        #[arg(long)]
        registry: Option<String>,
        /// A URL on the feed mirror, e.g. https://mirror.example/osv
        #[arg(long, value_name = "URL")]
        feed_mirror: Option<String>,
    },
}

#[derive(Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["registry", "feed_mirror", "host"])))]
struct AddCredential {
    /// Registry host, e.g. ghcr.io, quay.io, 127.0.0.1:5000
    #[arg(long)]
    registry: Option<String>,
    /// A private mirror of the advisory feeds (HTTP basic auth), named by
    /// any URL on it, e.g. https://mirror.example/osv
    #[arg(long, value_name = "URL")]
    feed_mirror: Option<String>,
    /// A host's SSH login, user@host[:port]: --key-file, or a password.
    #[arg(long, value_name = "USER@HOST[:PORT]", conflicts_with = "username")]
    host: Option<String>,
    /// With --host: an OpenSSH private key file (not protected by a
    /// passphrase), stored in the keyring; else a password is read.
    #[arg(long, value_name = "FILE", requires = "host")]
    key_file: Option<PathBuf>,
    /// The user name (registry and feed mirror; a host's is in its address).
    #[arg(long, short, required_unless_present = "host")]
    username: Option<String>,
    /// Read the secret from standard input even when it is a terminal.
    #[arg(long)]
    password_stdin: bool,
}

/// An error that maps to an exit code.
pub(crate) struct Failure {
    pub(crate) code: u8,
    pub(crate) error: anyhow::Error,
}

impl From<AppError> for Failure {
    fn from(e: AppError) -> Self {
        Failure {
            code: e.exit_code(),
            error: e.into(),
        }
    }
}

impl From<vedette_app::OpenError> for Failure {
    fn from(e: vedette_app::OpenError) -> Self {
        AppError::from(e).into()
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure { code: 3, error: e }
    }
}

impl From<serde_json::Error> for Failure {
    fn from(e: serde_json::Error) -> Self {
        Failure {
            code: 3,
            error: e.into(),
        }
    }
}

/// Text from a target (a name, a path, a warning), safe to print on a
/// terminal: control characters are shown escaped, never interpreted.
pub(crate) fn clean(s: &str) -> std::borrow::Cow<'_, str> {
    vedette_model::printable(s, false)
}

pub(crate) fn usage(msg: impl Into<String>) -> Failure {
    Failure {
        code: 2,
        error: anyhow::anyhow!(msg.into()),
    }
}

fn main() -> ExitCode {
    // `vedette … | head` ends quietly when head has read enough, as other
    // Unix tools do, instead of panicking on the closed pipe.
    sigpipe::reset();
    let cmd = match config::apply(<Cli as clap::CommandFactory>::command()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("vedette: {e}");
            return ExitCode::from(2);
        }
    };
    let cli = match <Cli as clap::FromArgMatches>::from_arg_matches(&cmd.get_matches()) {
        Ok(c) => c,
        Err(e) => e.exit(),
    };
    OUTPUT.get_or_init(|| (cli.quiet, cli.color));
    init_logging(cli.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("vedette: cannot start: {e}");
            return ExitCode::from(3);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            // Errors name files and packages from targets: printed as text.
            eprintln!(
                "vedette: {}",
                vedette_model::printable(&format!("{:#}", f.error), true)
            );
            ExitCode::from(f.code)
        }
    }
}

fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("VEDETTE_LOG")
        .or_else(|_| tracing_subscriber::EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}

fn secrets() -> Arc<dyn SecretBackend> {
    Arc::new(KeyringSecrets::default())
}

async fn run(cli: Cli) -> Result<u8, Failure> {
    match cli.command {
        Command::Completion { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "vedette", &mut std::io::stdout());
            return Ok(0);
        }
        Command::Manpage => {
            let cmd = <Cli as clap::CommandFactory>::command();
            clap_mangen::Man::new(cmd)
                .render(&mut std::io::stdout())
                .context("cannot write the manual page")?;
            return Ok(0);
        }
        _ => {}
    }
    if let Some(url) = &cli.console {
        let token = if cli.token_stdin {
            let mut t = String::new();
            std::io::stdin()
                .take(4096)
                .read_to_string(&mut t)
                .map_err(|e| usage(format!("--token-stdin: {e}")))?;
            t
        } else {
            std::env::var("VEDETTE_TOKEN").map_err(|_| {
                usage("--console needs an API token: --token-stdin, or VEDETTE_TOKEN")
            })?
        };
        let trust = vedette_api::ConsoleTrust {
            ca_file: cli.console_ca.clone(),
            pin_sha256: cli.console_pin_sha256.clone(),
        };
        let console = vedette_api::client::Console::new(url, token.trim(), &trust)?;
        return remote::run(&console, cli.command).await;
    }
    let data_dir = vedette_app::resolve_data_dir(cli.data_dir).map_err(usage)?;
    let database = vedette_app::Database::chosen(cli.database.as_deref(), &data_dir)
        .map_err(|e| usage(e.to_string()))?;
    match cli.command {
        // Answered above, before any data dir.
        Command::Completion { .. } | Command::Manpage => Ok(0),
        Command::Doctor { format } => {
            let report = vedette_app::doctor_on(&data_dir, Some(&database), secrets()).await;
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
                Format::Text => print!("{}", render_doctor(&report)),
            }
            // 0: all is well; 1: Vedette scans, with less; 3: it cannot scan.
            Ok(if report.healthy() {
                0
            } else if report.can_scan() {
                1
            } else {
                3
            })
        }
        Command::Scan(cmd) => {
            let app = App::open_on(&data_dir, &database, secrets()).await?;
            let result = scan::run(&app, &cli.feeds, cmd).await;
            app.close().await;
            result
        }
        Command::Feed(cmd) => {
            let app = App::open_on(&data_dir, &database, secrets()).await?;
            let result = feed::run(&app, &cli.feeds, cmd).await;
            app.close().await;
            result
        }
        Command::Policy(cmd) => feed::policy(cmd),
        Command::Target(cmd) => {
            let app = App::open_on(&data_dir, &database, secrets()).await?;
            let result = target::run(&app, &cli.feeds, cmd).await;
            app.close().await;
            result
        }
        Command::Schedule(cmd) => {
            let app = App::open_on(&data_dir, &database, secrets()).await?;
            let result = schedule::run(&app, &cli.feeds, cmd).await;
            app.close().await;
            result
        }
        Command::Serve {
            poll,
            api,
            no_api,
            tls_cert,
            tls_key,
            tls,
            role,
        } => {
            let poll = humantime::parse_duration(&poll)
                .map_err(|e| usage(format!("--poll {poll}: {e}")))?;
            let app = App::open_on(&data_dir, &database, secrets()).await?;
            let tls = vedette_api::TlsOptions {
                cert: tls_cert,
                key: tls_key,
                always: tls,
                dir: data_dir.join("api-tls"),
            };
            let api = (!no_api).then_some((api.as_str(), &tls));
            let result = schedule::serve(&app, &cli.feeds, poll, api, role).await;
            app.close().await;
            result
        }
        Command::Api(cmd) => {
            let app = App::open_on(&data_dir, &database, secrets()).await?;
            let result = api::run(&app, &cli.feeds, cmd).await;
            app.close().await;
            result
        }
        Command::Trends(args) => {
            let app = App::open_on(&data_dir, &database, secrets()).await?;
            let result = history::trends(&app, args).await;
            app.close().await;
            result
        }
        Command::History(args) => {
            let app = App::open_on(&data_dir, &database, secrets()).await?;
            let result = history::run(&app, args).await;
            app.close().await;
            result
        }
        Command::Credential(cmd) => {
            let app = App::open_on(&data_dir, &database, secrets()).await?;
            let result = credential(&app, cmd).await;
            app.close().await;
            result
        }
        Command::Agent(cmd) => {
            let app = App::open_on(&data_dir, &database, secrets()).await?;
            let result = gate::agent(&app, cmd).await;
            app.close().await;
            result
        }
        Command::Node(cmd) => {
            let app = App::open_on(&data_dir, &database, secrets()).await?;
            let result = gate::node(&app, cmd).await;
            app.close().await;
            result
        }
        Command::Gate(cmd) => {
            let app = App::open_on(&data_dir, &database, secrets()).await?;
            let result = gate::gate(&app, cmd).await;
            app.close().await;
            result
        }
        Command::Cloud(cmd) => {
            let app = App::open_on(&data_dir, &database, secrets()).await?;
            let result = gate::cloud(&app, cmd).await;
            app.close().await;
            result
        }
        Command::Notify(cmd) => {
            let app = App::open_on(&data_dir, &database, secrets()).await?;
            let result = notify::run(&app, cmd).await;
            app.close().await;
            result
        }
        Command::Db(cmd) => db::run(&database, cmd).await,
    }
}

async fn credential(app: &App, cmd: CredentialCommand) -> Result<u8, Failure> {
    let creds = app.credentials();
    match cmd {
        CredentialCommand::Add(a) => {
            let invalid = |e| Failure::from(AppError::from(e));
            // A bad URL is refused before the secret is asked for.
            if let Some(url) = &a.feed_mirror {
                vedette_app::feed_mirror_origin(url).map_err(invalid)?;
            }
            if let Some(address) = &a.host {
                let secret = match &a.key_file {
                    Some(f) => vedette_app::HostSecret::Key {
                        key: Sensitive::new(
                            std::fs::read_to_string(f)
                                .map_err(|e| usage(format!("--key-file {}: {e}", f.display())))?,
                        ),
                        passphrase: None,
                    },
                    None => vedette_app::HostSecret::Password {
                        password: read_secret(&a)?,
                    },
                };
                let info = app.set_host_credential(address, secret).await?;
                eprintln!(
                    "Stored the SSH login for {} in the OS keyring as '{}'.",
                    info.host, info.name
                );
                return Ok(0);
            }
            let username = a.username.clone().unwrap_or_default();
            let secret = read_secret(&a)?;
            let info = match (&a.registry, &a.feed_mirror) {
                (_, Some(url)) => creds.set_feed_mirror(url, &username, secret).await,
                (Some(host), None) => {
                    creds
                        .set_registry(NewRegistryCredential {
                            host: host.clone(),
                            username,
                            secret,
                        })
                        .await
                }
                (None, None) => unreachable!("clap requires one of them"),
            }
            .map_err(invalid)?;
            eprintln!(
                "Stored the credential for {} (user {}) in the OS keyring as '{}'.",
                info.host, info.username, info.name
            );
            Ok(0)
        }
        CredentialCommand::List { format } => {
            let list = creds.list().await.map_err(AppError::from)?;
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&list)?),
                Format::Text if list.is_empty() => {
                    eprintln!("No credentials stored. Add one with `vedette credential add --registry HOST --username USER` (or --feed-mirror URL).")
                }
                Format::Text => {
                    println!("{:<12} {:<40} {:<20} UPDATED", "KIND", "FOR", "USER");
                    for c in list {
                        println!(
                            "{:<12} {:<40} {:<20} {}",
                            match c.kind {
                                vedette_model::CredentialKind::Registry => "registry",
                                vedette_model::CredentialKind::FeedMirror => "feed mirror",
                                vedette_model::CredentialKind::Host => "host (SSH)",
                                vedette_model::CredentialKind::Cloud => "cloud",
                            },
                            c.host,
                            c.username,
                            c.updated_at.format("%Y-%m-%d %H:%M UTC")
                        );
                    }
                }
            }
            Ok(0)
        }
        CredentialCommand::Remove {
            registry,
            feed_mirror,
        } => {
            let (host, name) = match (registry, feed_mirror) {
                (_, Some(url)) => {
                    let origin =
                        vedette_app::feed_mirror_origin(&url).map_err(|e| usage(e.to_string()))?;
                    let name = vedette_model::feed_mirror_credential_name(&origin);
                    (origin, name)
                }
                (Some(r), None) => {
                    let host = vedette_app::normalize_registry_host(&r)
                        .map_err(|e| usage(e.to_string()))?;
                    let name = vedette_model::registry_credential_name(&host);
                    (host, name)
                }
                (None, None) => unreachable!("clap requires one of them"),
            };
            creds
                .delete(&name)
                .await
                .map_err(|e| match AppError::from(e) {
                    AppError::NotFound(_) => usage(format!(
                        "no credential is stored for {host}; `vedette credential list` shows the stored ones"
                    )),
                    other => other.into(),
                })?;
            eprintln!("Deleted the credential for {host} from the keyring and the database.");
            Ok(0)
        }
    }
}

fn read_secret(a: &AddCredential) -> Result<Sensitive<String>, Failure> {
    let stdin = std::io::stdin();
    let secret = if stdin.is_terminal() && !a.password_stdin {
        rpassword::prompt_password(format!(
            "Password or token for {}@{}: ",
            a.username.as_deref().unwrap_or_default(),
            a.registry
                .as_deref()
                .or(a.feed_mirror.as_deref())
                .or(a.host.as_deref())
                .unwrap_or("")
        ))
        .context("cannot read the password from the terminal")?
    } else {
        let mut s = String::new();
        stdin
            .lock()
            .read_to_string(&mut s)
            .context("cannot read the password from standard input")?;
        // `echo TOKEN | vedette credential add …` adds a newline: drop it.
        s.trim_end_matches(['\n', '\r']).to_owned()
    };
    Ok(Sensitive::new(secret))
}

fn render_doctor(r: &DoctorReport) -> String {
    let mut out = format!("Vedette {}\n\n", r.version);
    for c in &r.checks {
        let mark = match c.state {
            CheckState::Ok => "ok  ",
            CheckState::Warn => "warn",
            CheckState::Fail => "FAIL",
        };
        out.push_str(&format!("[{mark}] {}: {}\n", c.name, c.detail));
        if c.state != CheckState::Ok {
            if let Some(w) = &c.without {
                out.push_str(&format!("       without it: {w}\n"));
            }
        }
        if let Some(h) = &c.hint {
            out.push_str(&format!("       → {h}\n"));
        }
    }
    out.push('\n');
    out.push_str(if r.healthy() {
        "All is well.\n"
    } else if r.can_scan() {
        "Vedette can scan; what the failed checks above name does not work until they are fixed.\n"
    } else {
        "Vedette cannot scan until the failed checks above are fixed.\n"
    });
    out
}

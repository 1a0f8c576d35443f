//! `vedette-agent`: runs on a node, enrols it with the console (with an
//! enrolment token, once: the node's own credential is kept in a root-only
//! file), then sends the node's inventory (read with Vedette's catalogers,
//! like `vedette scan dir /`) and heartbeats, sending the inventory again
//! when the package databases change.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use vedette_model::{CloudInstance, Enrolled, Inventory, NodeFacts};

#[derive(Parser)]
#[command(name = "vedette-agent", version, about)]
struct Args {
    /// The console's API: https://console.example:7878
    #[arg(long, env = "VEDETTE_CONSOLE")]
    console: String,
    /// The enrolment token (`vedette agent token create`); needed until the
    /// node has its credential.
    #[arg(long, env = "VEDETTE_ENROL_TOKEN", hide_env_values = true)]
    enrol_token: Option<String>,
    /// The SHA-256 of the console certificate's DER, as `vedette serve`
    /// prints it (a self-signed console).
    #[arg(long, value_name = "HEX")]
    pin_sha256: Option<String>,
    /// Where the node's credential is kept (root-only).
    #[arg(long, default_value = "/var/lib/vedette-agent")]
    state_dir: PathBuf,
    /// The root whose packages are read.
    #[arg(long, default_value = "/")]
    root: PathBuf,
    /// Do not ask the instance metadata service (IMDSv2).
    #[arg(long)]
    no_imds: bool,
    /// The instance metadata service.
    #[arg(long, default_value = "http://169.254.169.254")]
    imds_url: String,
    /// The cloud instance, when there is no metadata service to ask.
    #[arg(long)]
    instance_id: Option<String>,
    #[arg(long)]
    region: Option<String>,
    #[arg(long)]
    account: Option<String>,
    /// How often the node heartbeats and looks for package changes.
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
    interval: Duration,
    /// Enrol if needed, send the inventory once, and exit.
    #[arg(long)]
    once: bool,
}

/// Why the agent stops; its message says what to do.
struct Stop(String);

impl<E: std::fmt::Display> From<E> for Stop {
    fn from(e: E) -> Self {
        Stop(e.to_string())
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(Stop(why)) => {
            eprintln!("vedette-agent: {why}");
            std::process::ExitCode::from(3)
        }
    }
}

async fn run(args: Args) -> Result<(), Stop> {
    let http = client(args.pin_sha256.as_deref())?;
    let base = args.console.trim_end_matches('/').to_owned();
    let credential_file = args.state_dir.join("credential");
    let credential = match std::fs::read_to_string(&credential_file) {
        Ok(c) if !c.trim().is_empty() => c.trim().to_owned(),
        _ => {
            let token = args.enrol_token.clone().ok_or_else(|| {
                Stop(format!(
                    "the node is not enrolled ({} is missing): give --enrol-token",
                    credential_file.display()
                ))
            })?;
            let facts = facts(&args, &http).await;
            let enrolled = enrol(&http, &base, &token, &facts).await?;
            keep(&credential_file, &enrolled.credential)?;
            eprintln!(
                "vedette-agent: enrolled as node {} with {base}",
                enrolled.target_id
            );
            enrolled.credential
        }
    };
    let mut sent: Option<String> = None;
    loop {
        let inventory = read(&args.root).await?;
        if sent.as_deref() != Some(inventory.digest.as_str()) {
            send(&http, &base, &credential, &inventory).await?;
            sent = Some(inventory.digest.clone());
        } else {
            heartbeat(&http, &base, &credential).await?;
        }
        if args.once {
            return Ok(());
        }
        tokio::time::sleep(args.interval).await;
    }
}

/// An HTTP client that trusts the platform's roots, or only the pinned
/// certificate.
fn client(pin: Option<&str>) -> Result<reqwest::Client, Stop> {
    let builder = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .user_agent(concat!("vedette-agent/", env!("CARGO_PKG_VERSION")));
    let builder = match pin {
        Some(p) => {
            let pin = vedette_pin::parse_pin(p)?;
            builder.use_preconfigured_tls(vedette_pin::pinned_client(pin)?)
        }
        None => builder,
    };
    Ok(builder.build()?)
}

/// The console's refusal, as its `{code, message}` says it.
async fn refusal(what: &str, resp: reqwest::Response) -> Stop {
    let status = resp.status();
    let body: serde_json::Value = resp.json().await.unwrap_or_default();
    let message = body["message"].as_str().unwrap_or("no reason given");
    Stop(format!("{what} was refused ({status}): {message}"))
}

fn unreachable(base: &str, e: reqwest::Error) -> Stop {
    // A certificate refused (a pin that does not match) is deep in the
    // error's sources.
    let mut why = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        if let Some(tls) = vedette_pin::tls_failure(
            s,
            "Pin it with --pin-sha256 (the fingerprint `vedette serve` prints)",
        ) {
            why = tls;
            break;
        }
        why = format!("{why}: {s}");
        source = s.source();
    }
    Stop(format!("the console at {base} cannot be reached: {why}"))
}

async fn enrol(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    facts: &NodeFacts,
) -> Result<Enrolled, Stop> {
    let resp = http
        .post(format!("{base}/api/v1/agents/enrol"))
        .bearer_auth(token)
        .json(facts)
        .send()
        .await
        .map_err(|e| unreachable(base, e))?;
    if !resp.status().is_success() {
        return Err(refusal("the enrolment", resp).await);
    }
    Ok(resp.json().await?)
}

/// Sends the inventory; the console may be busy scanning others: tried
/// again a few times.
async fn send(
    http: &reqwest::Client,
    base: &str,
    credential: &str,
    inventory: &Inventory,
) -> Result<(), Stop> {
    let mut wait = Duration::from_secs(1);
    for attempt in 1..=8 {
        let resp = http
            .put(format!("{base}/api/v1/agents/inventory"))
            .bearer_auth(credential)
            .json(inventory)
            .send()
            .await
            .map_err(|e| unreachable(base, e))?;
        match resp.status().as_u16() {
            202 => {
                let started: serde_json::Value = resp.json().await.unwrap_or_default();
                eprintln!(
                    "vedette-agent: inventory sent ({} packages): scan {}",
                    inventory.packages.len(),
                    started["scan_id"]
                );
                return Ok(());
            }
            409 | 503 if attempt < 8 => {
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(30));
            }
            _ => return Err(refusal("the inventory", resp).await),
        }
    }
    Err(Stop(
        "the console stayed busy; the inventory goes at the next interval".into(),
    ))
}

async fn heartbeat(http: &reqwest::Client, base: &str, credential: &str) -> Result<(), Stop> {
    let resp = http
        .post(format!("{base}/api/v1/agents/heartbeat"))
        .bearer_auth(credential)
        .send()
        .await
        .map_err(|e| unreachable(base, e))?;
    if resp.status().is_success() {
        Ok(())
    } else {
        Err(refusal("the heartbeat", resp).await)
    }
}

/// The root's packages, as `vedette scan dir` reads them.
async fn read(root: &Path) -> Result<Inventory, Stop> {
    let target = vedette_engine::Target::Directory(root.to_owned());
    let opts = vedette_engine::Options::default();
    vedette_engine::inventory(&target, &opts, Arc::new(()))
        .await
        .map_err(|e| {
            Stop(format!(
                "cannot read the packages under {}: {e}",
                root.display()
            ))
        })
}

/// Writes the credential where only root reads it.
fn keep(file: &Path, credential: &str) -> Result<(), Stop> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    if let Some(dir) = file.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| Stop(format!("cannot create {}: {e}", dir.display())))?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(file)
        .map_err(|e| Stop(format!("cannot write {}: {e}", file.display())))?;
    f.write_all(credential.as_bytes())
        .map_err(|e| Stop(format!("cannot write {}: {e}", file.display())))?;
    Ok(())
}

/// What the node says of itself.
async fn facts(args: &Args, http: &reqwest::Client) -> NodeFacts {
    let in_root = |p: &str| std::fs::read_to_string(args.root.join(p)).ok();
    let first_line = |s: String| s.lines().next().unwrap_or("").trim().to_owned();
    let hostname = in_root("etc/hostname")
        .filter(|_| args.root != Path::new("/"))
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(first_line)
        .unwrap_or_default();
    let machine_id = in_root("etc/machine-id")
        .or_else(|| std::fs::read_to_string("/etc/machine-id").ok())
        .map(first_line)
        .unwrap_or_default();
    let os = in_root("etc/os-release")
        .or_else(|| in_root("usr/lib/os-release"))
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("PRETTY_NAME="))
                .map(|v| v.trim_matches('"').to_owned())
        })
        .unwrap_or_default();
    let instance = if args.no_imds {
        None
    } else {
        imds(http, &args.imds_url).await
    };
    let instance = instance.or_else(|| {
        args.instance_id.clone().map(|id| CloudInstance {
            provider: "aws".into(),
            instance_id: id,
            region: args.region.clone().unwrap_or_default(),
            account: args.account.clone().unwrap_or_default(),
        })
    });
    NodeFacts {
        hostname,
        machine_id,
        os,
        addresses: address_towards(&args.console).into_iter().collect(),
        listening: listening(),
        instance,
    }
}

/// The instance from IMDSv2 (a session token, then the identity
/// document), when a metadata service answers within 2 s.
async fn imds(http: &reqwest::Client, base: &str) -> Option<CloudInstance> {
    let base = base.trim_end_matches('/');
    let quick = Duration::from_secs(2);
    let token = http
        .put(format!("{base}/latest/api/token"))
        .header("X-aws-ec2-metadata-token-ttl-seconds", "300")
        .timeout(quick)
        .send()
        .await
        .ok()?
        .error_for_status()
        .ok()?
        .text()
        .await
        .ok()?;
    let doc: serde_json::Value = http
        .get(format!("{base}/latest/dynamic/instance-identity/document"))
        .header("X-aws-ec2-metadata-token", token)
        .timeout(quick)
        .send()
        .await
        .ok()?
        .error_for_status()
        .ok()?
        .json()
        .await
        .ok()?;
    Some(CloudInstance {
        provider: "aws".into(),
        instance_id: doc["instanceId"].as_str()?.to_owned(),
        region: doc["region"].as_str().unwrap_or_default().to_owned(),
        account: doc["accountId"].as_str().unwrap_or_default().to_owned(),
    })
}

/// The address this node reaches the console from (a UDP socket's
/// connect sends nothing).
fn address_towards(console: &str) -> Option<String> {
    let rest = console.split("://").nth(1)?;
    let authority = rest.split('/').next()?;
    let with_port = if authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        authority.to_owned()
    } else {
        format!("{authority}:443")
    };
    let addr = std::net::ToSocketAddrs::to_socket_addrs(&with_port)
        .ok()?
        .next()?;
    let bind = if addr.is_ipv4() {
        "0.0.0.0:0"
    } else {
        "[::]:0"
    };
    let socket = std::net::UdpSocket::bind(bind).ok()?;
    socket.connect(addr).ok()?;
    Some(socket.local_addr().ok()?.ip().to_string())
}

/// The listening TCP sockets, from /proc/net/tcp and tcp6.
fn listening() -> Vec<String> {
    let mut out = Vec::new();
    for (file, v6) in [("/proc/net/tcp", false), ("/proc/net/tcp6", true)] {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let cols: Vec<&str> = line.split_whitespace().collect();
            // The state column: 0A is LISTEN.
            if cols.len() > 3 && cols[3] == "0A" {
                if let Some(a) = socket_of(cols[1], v6) {
                    out.push(a);
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// `0100007F:0016` → `127.0.0.1:22` (the kernel writes each 32-bit word in
/// host order).
fn socket_of(hex: &str, v6: bool) -> Option<String> {
    let (addr, port) = hex.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let words: Vec<u32> = (0..addr.len() / 8)
        .map(|i| u32::from_str_radix(&addr[i * 8..i * 8 + 8], 16).map(u32::from_be))
        .collect::<Result<_, _>>()
        .ok()?;
    if v6 {
        let mut bytes = [0u8; 16];
        for (i, w) in words.iter().enumerate().take(4) {
            bytes[i * 4..i * 4 + 4].copy_from_slice(&w.to_be_bytes());
        }
        Some(format!("[{}]:{port}", std::net::Ipv6Addr::from(bytes)))
    } else {
        let w = *words.first()?;
        Some(format!(
            "{}:{port}",
            std::net::Ipv4Addr::from(w.to_be_bytes())
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_net_sockets_read_as_ss_prints_them() {
        // Lines of /proc/net/tcp and tcp6 on a little-endian machine.
        assert_eq!(
            socket_of("0100007F:0016", false).as_deref(),
            Some("127.0.0.1:22")
        );
        assert_eq!(
            socket_of("00000000:1F90", false).as_deref(),
            Some("0.0.0.0:8080")
        );
        assert_eq!(
            socket_of("00000000000000000000000001000000:0016", true).as_deref(),
            Some("[::1]:22")
        );
    }
}

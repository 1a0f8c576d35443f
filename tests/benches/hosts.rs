//! A scheduled run over 50 hosts: 50 real sshd on loopback (Debian's
//! openssh-server, as the tests start it), each chrooted into the Debian
//! fixture and answering SFTP only, scanned by one schedule with the
//! default host limit (16 at once); then the same run again with nothing
//! changed (each host read again, its findings carried over without
//! matching); then a first run with one host at a time, for the gain of
//! the parallel limit. Needs root (sshd chroots), as the tests do.
//!
//! Run: `cargo bench -p vedette-tests --bench hosts`. Prints a Markdown table.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use vedette_feeds::FeedStore;
use vedette_model::{
    Exposure, ScheduleInput, ScheduleOptions, Sensitive, TargetKind, TargetSelector,
};
use vedette_store::Store;

mod common;
use vedette_tests::registry::shared;
use vedette_tests::sshd::{self, Sshd, SshdConfig};

const HOSTS: usize = 50;

fn main() {
    let tmp = tempfile::tempdir().unwrap();
    let (key, public) = sshd::keypair(tmp.path(), "bench");
    let parent = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sshd-roots");
    std::fs::create_dir_all(&parent).unwrap();
    let root = sshd::chroot_root(&parent, &shared("fixtures/debian-12-minbase"));
    let config = |host_key| SshdConfig {
        chroot: Some(root.path().to_owned()),
        authorized_keys: vec![public.clone()],
        sftp_only: true,
        host_key,
        ..SshdConfig::default()
    };
    let mut servers = vec![Sshd::start(&config(None))];
    while servers.len() < HOSTS {
        servers.push(Sshd::start(&config(Some(servers[0].host_key.clone()))));
    }
    let host_public = std::fs::read_to_string(servers[0].host_key.with_extension("pub")).unwrap();
    let host_public: Vec<&str> = host_public.split_whitespace().take(2).collect();
    let pem = std::fs::read_to_string(&key).unwrap();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    println!("| run | hosts | host limit | wall time | per host | most at once | findings carried over |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (limit, runs) in [(16, 2), (1, 1)] {
        let data = tmp.path().join(format!("data-{limit}"));
        std::fs::create_dir_all(&data).unwrap();
        // The fleet's key, known as the user would have trusted it.
        let known: String = servers
            .iter()
            .map(|s| {
                format!(
                    "[127.0.0.1]:{} {} {}\n",
                    s.port, host_public[0], host_public[1]
                )
            })
            .collect();
        std::fs::write(data.join("known_hosts"), known).unwrap();
        rt.block_on(async {
            let feeds = FeedStore::open_in(&data).await.unwrap();
            feeds.import_paths(&[shared("feeds")]).await.unwrap();
            let store = Store::open_in(&data).await.unwrap();
            for s in &servers {
                store
                    .add_target(TargetKind::Host, &s.address(), Exposure::Internal)
                    .await
                    .unwrap();
            }
            let schedule = store
                .add_schedule(&ScheduleInput {
                    name: "hosts".into(),
                    cron: "0 3 * * 1".into(),
                    timezone: "UTC".into(),
                    selector: TargetSelector {
                        kinds: vec![TargetKind::Host],
                        ..Default::default()
                    },
                    options: ScheduleOptions::default(),
                    enabled: true,
                    catch_up: false,
                    jitter_seconds: 0,
                })
                .await
                .unwrap();
            let mut scanner = vedette_scan::Scanner::new(
                store.clone(),
                feeds.clone(),
                common::offline_feeds(),
                tmp.path(),
            );
            let pem = pem.clone();
            scanner.hosts = Some(vedette_scan::HostAccess {
                known_hosts: vedette_engine::KnownHosts {
                    own: data.join("known_hosts"),
                    others: Vec::new(),
                },
                auth: Arc::new(move |_, _| {
                    let pem = pem.clone();
                    Box::pin(async move {
                        vedette_engine::HostAuth {
                            key: Some((Sensitive::new(pem), None)),
                            ..Default::default()
                        }
                    })
                }),
                connect_timeout: Duration::from_secs(10),
            });
            let mut ctx = vedette_scheduler::Context::new(scanner);
            ctx.limits.hosts = limit;
            for run in 0..runs {
                let name = match (limit, run) {
                    (1, _) => "first run, one host at a time",
                    (_, 0) => "first run",
                    _ => "second run, nothing changed",
                };
                let t = Instant::now();
                let summary = vedette_scheduler::run_schedule(&ctx, &schedule)
                    .await
                    .unwrap();
                let wall = t.elapsed();
                let failed: Vec<_> = summary.scans.iter().filter(|s| s.error.is_some()).collect();
                assert!(failed.is_empty(), "{failed:#?}");
                assert_eq!(summary.scans.len(), HOSTS);
                let carried = summary.scans.iter().filter(|s| s.carried_over).count();
                let most = common::most_at_once(&store.list_scans(HOSTS as i64).await.unwrap());
                println!(
                    "| {name} | {HOSTS} | {limit} | {:.2} s | {:.0} ms | {most} | {carried} |",
                    wall.as_secs_f64(),
                    wall.as_secs_f64() * 1000.0 / HOSTS as f64
                );
            }
            store.close().await;
            feeds.close().await;
        });
    }
}

//! Scans shared out: four `vedette serve --role worker` processes and a
//! scheduler on one PostgreSQL, against the local registry behind a proxy
//! that times every request.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use vedette_tests::postgres::Postgres;
use vedette_tests::proxy::FaultProxy;
use vedette_tests::registry::{oci_layout, shared, Layer, Registry};

use crate::vulns::{out, Mirror};

/// The registry's limit of scans at once (the scheduler's default).
const PER_REGISTRY: usize = 2;

/// The registry target's rate limit, requests per second, kept by the
/// scheduler's crawl and every worker together.
const RATE: usize = 40;

/// The most requests the registry received in any `window`.
fn most_in(proxy: &FaultProxy, window: Duration) -> usize {
    let mut starts: Vec<Instant> = proxy.timed_requests().iter().map(|t| t.start).collect();
    starts.sort();
    let mut most = 0;
    let mut from = 0;
    for (i, at) in starts.iter().enumerate() {
        while *at - starts[from] >= window {
            from += 1;
        }
        most = most.max(i + 1 - from);
    }
    most
}

fn vedette(data: &Path, env: &[(&str, String)], args: &[&str]) -> Command {
    let mut c = crate::vulns::command(data, env, args);
    c.env("VEDETTE_JOB_LEASE_SECONDS", "3");
    c
}

struct Worker {
    child: Child,
    log: std::path::PathBuf,
}

impl Worker {
    fn start(data: &Path, env: &[(&str, String)], log: std::path::PathBuf) -> Self {
        let child = vedette(data, env, &["serve", "--role", "worker"])
            .env("VEDETTE_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("a log file"))
            .spawn()
            .expect("start a worker");
        Worker { child, log }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if self.child.kill().is_ok() {
            if let Err(e) = self.child.wait() {
                eprintln!("cannot reap a worker: {e}");
            }
        }
    }
}

/// The most scans of one registry at once, as the registry saw them: each
/// image's requests since `since` (the run's crawl is over), from its
/// manifest's GET to its config's answer. `configs`: each image's tag by
/// its config's digest (its layers are shared by all and say nothing).
fn most_at_once(
    proxy: &FaultProxy,
    since: Instant,
    configs: &std::collections::HashMap<String, String>,
) -> usize {
    let mut windows: BTreeMap<String, (Instant, Instant)> = BTreeMap::new();
    for t in proxy
        .timed_requests()
        .into_iter()
        .filter(|t| t.start >= since)
    {
        let mut parts = t.line.split_whitespace();
        let (Some("GET"), Some(path)) = (parts.next(), parts.next()) else {
            continue;
        };
        // /v2/<repo>/manifests/<tag> and /v2/<repo>/blobs/<digest>: whose
        // image a blob is, the manifest GET before it says; here every image
        // has a config of its own, so the config blob names the image.
        let Some(rest) = path.strip_prefix("/v2/") else {
            continue;
        };
        let key = match rest.split_once("/manifests/") {
            Some((_, tag)) if !tag.starts_with("sha256:") => tag.to_owned(),
            _ => match rest
                .split_once("/blobs/")
                .and_then(|(_, digest)| configs.get(digest))
            {
                Some(tag) => tag.clone(),
                None => continue,
            },
        };
        let w = windows.entry(key).or_insert((t.start, t.end));
        w.0 = w.0.min(t.start);
        w.1 = w.1.max(t.end);
    }
    let mut edges: Vec<(Instant, i32)> = windows
        .values()
        .flat_map(|(s, e)| [(*s, 1), (*e, -1)])
        .collect();
    edges.sort();
    let (mut now, mut most) = (0i32, 0i32);
    for (_, d) in edges {
        now += d;
        most = most.max(now);
    }
    usize::try_from(most).unwrap_or(0)
}

#[test]
fn four_workers_scan_200_images_once_each_within_the_registry_limit_and_a_killed_workers_job_is_taken_over(
) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let mirror = Mirror::start();
    let reg = Registry::start();
    let layout = tmp.path().join("layout");
    oci_layout(
        &layout,
        &[Layer::default()
            .file(
                "etc/os-release",
                &std::fs::read(shared("fixtures/debian-12-minbase/etc/os-release"))
                    .expect("the Debian fixture"),
            )
            .file(
                "var/lib/dpkg/status",
                b"Package: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2.15-2\nDescription: bash\n\n",
            )],
        "base",
    );
    let configs: std::collections::HashMap<String, String> = reg
        .push_variants(&layout, "fleet/app", 199)
        .into_iter()
        .map(|(reference, config)| {
            let tag = reference.rsplit(':').next().unwrap_or_default().to_owned();
            (config, tag)
        })
        .collect();
    let proxy = FaultProxy::start(reg.port());
    let host = proxy.host();
    let pg = Postgres::start();
    let url = pg.database("team");
    let mut env = mirror.env();
    env.push(("VEDETTE_DATABASE_URL", url.clone()));
    env.push(("VEDETTE_INSECURE_REGISTRIES", host.clone()));

    // One machine's advisory index, copied to the others (each worker
    // keeps its own).
    let seed = tmp.path().join("seed");
    let o = vedette(&seed, &env, &["feed", "update"])
        .output()
        .expect("vedette");
    assert!(o.status.success(), "{}", out(&o));
    let o = vedette(
        &seed,
        &env,
        &[
            "target",
            "add",
            "registry",
            &host,
            "--repos",
            "fleet/*",
            "--tags",
            "regex:.*",
            "--insecure",
            "--rate",
            &RATE.to_string(),
        ],
    )
    .output()
    .expect("vedette");
    assert!(o.status.success(), "{}", out(&o));

    let workers: Vec<Worker> = (0..4)
        .map(|i| {
            let data = tmp.path().join(format!("worker-{i}"));
            std::fs::create_dir_all(&data).expect("a data dir");
            std::fs::copy(seed.join("feeds.db"), data.join("feeds.db")).expect("the index");
            Worker::start(&data, &env, tmp.path().join(format!("worker-{i}.log")))
        })
        .collect();

    // The scheduler: a run of the weekly schedule, queued for the workers.
    let mut scheduler = vedette(&seed, &env, &["schedule", "run", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the run");
    // The crawl is over once the run's jobs are queued: what the registry
    // sees from then on is the workers' scans.
    let start = Instant::now();
    let queued = loop {
        if pg.psql("team", "SELECT COUNT(*) FROM jobs") != "0\n" {
            break Instant::now();
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "the run queued nothing"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    // A worker is killed with -9 while it holds a job.
    let mut workers = workers;
    let (killed_job, victim_pid) = loop {
        let held = pg.psql(
            "team",
            "SELECT id, worker FROM jobs WHERE state = 'running' ORDER BY id LIMIT 1",
        );
        let found = held.lines().next().and_then(|l| {
            let (id, worker) = l.split_once('|')?;
            let pid: u32 = worker.rsplit(' ').next()?.parse().ok()?;
            Some((id.to_owned(), pid))
        });
        if let Some(found) = found {
            break found;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no worker ever held a job"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    let at = workers
        .iter()
        .position(|w| w.child.id() == victim_pid)
        .expect("the job's worker is one of ours");
    let mut victim = workers.remove(at);
    victim.child.kill().expect("kill -9");
    victim.child.wait().expect("reap");

    let deadline = Instant::now() + Duration::from_secs(600);
    let status = loop {
        if let Some(s) = scheduler.try_wait().expect("the run") {
            break s;
        }
        assert!(Instant::now() < deadline, "the run did not end");
        std::thread::sleep(Duration::from_millis(200));
    };
    let run = scheduler.wait_with_output().expect("the run's output");
    assert!(status.success(), "{}", out(&run));

    // Every image scanned once, successfully, by the run.
    let per_image = pg.psql(
        "team",
        "SELECT t.name, COUNT(*) FROM scans s JOIN targets t ON t.id = s.target_id
         WHERE t.kind = 'image' AND s.state = 'succeeded' GROUP BY t.name ORDER BY t.name",
    );
    let counts: Vec<&str> = per_image.lines().collect();
    assert_eq!(counts.len(), 200, "{per_image}");
    assert!(
        counts.iter().all(|l| l.ends_with("|1")),
        "each image once: {per_image}"
    );
    assert_eq!(
        pg.psql("team", "SELECT state, COUNT(*) FROM jobs GROUP BY state"),
        "done|200\n"
    );
    // The killed worker's job was claimed again and finished by another.
    let job = pg.psql(
        "team",
        &format!("SELECT attempts, worker NOT LIKE '% {victim_pid}', previous LIKE '% {victim_pid}' FROM jobs WHERE id = {killed_job}"),
    );
    assert_eq!(job, "2|t|t\n", "job {killed_job}");
    // What it was scanning is in the history as interrupted, not as a
    // second result.
    assert_eq!(
        pg.psql("team", "SELECT COUNT(*) FROM scans WHERE state = 'running'"),
        "0\n"
    );
    // The registry never saw more scans at once than its limit.
    let most = most_at_once(&proxy, queued, &configs);
    assert!(
        most <= PER_REGISTRY,
        "{most} images were read at once from one registry (limit {PER_REGISTRY})"
    );
    assert!(most >= 1);
    // Nor more requests than its rate limit, whichever process sent them:
    // paced one slot at a time, any two seconds hold at most twice the
    // rate (a request delayed on its way can arrive close behind the next,
    // hence the margin; four processes pacing alone would send far more).
    let requests = most_in(&proxy, Duration::from_secs(2));
    assert!(
        requests <= 2 * RATE + RATE / 4,
        "{requests} requests reached the registry in two seconds (limit {RATE} a second)"
    );
    // Every remaining worker took part.
    for w in &workers {
        let log = std::fs::read_to_string(&w.log).unwrap_or_default();
        assert!(log.contains("takes scans from the queue"), "{log}");
    }
    // How the jobs spread over the workers is not promised: one worker
    // runs two scans at once, which is the registry's limit, and may keep
    // it busy alone. That another worker took the killed one's job over is
    // checked above.

    // A scheduler's API tells Prometheus what every machine did.
    let o = vedette(
        &seed,
        &env,
        &[
            "api",
            "token",
            "create",
            "--name",
            "prometheus",
            "--scope",
            "read",
        ],
    )
    .output()
    .expect("vedette");
    assert!(o.status.success(), "{}", out(&o));
    let token = String::from_utf8_lossy(&o.stdout).trim().to_owned();
    let serve = crate::api::ApiServe::start_with(&seed, &env, &["--role", "scheduler"]);
    let agent = crate::api::agent();
    let (status, body, headers) = crate::api::call(
        &agent,
        "GET",
        &serve.url("/api/v1/metrics"),
        Some(&token),
        None,
    );
    assert_eq!(status, 200, "{body}");
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap_or_default()
            .starts_with("text/plain; version=0.0.4"),
        "{headers:?}"
    );
    let text = body.as_str().unwrap_or_default().to_owned();
    let metric = |name: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name} is not in:\n{text}"))
    };
    assert_eq!(metric("vedette_jobs{state=\"done\"}"), 200.0);
    assert_eq!(metric("vedette_jobs{state=\"queued\"}"), 0.0);
    assert_eq!(metric("vedette_scans_total{state=\"succeeded\"}"), 200.0);
    assert!(metric("vedette_scans_per_minute") >= 200.0 / 5.0, "{text}");
    assert_eq!(metric("vedette_job_claim_seconds_count"), 200.0);
    assert!(
        metric("vedette_job_seconds{quantile=\"0.5\"}") > 0.0,
        "{text}"
    );
    // Without a token there is nothing to read.
    let (status, _, _) = crate::api::call(&agent, "GET", &serve.url("/api/v1/metrics"), None, None);
    assert_eq!(status, 401);
}

#[test]
fn a_run_on_a_shared_database_with_no_worker_running_is_scanned_by_the_process_that_queued_it() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let mirror = Mirror::start();
    let pg = Postgres::start();
    let mut env = mirror.env();
    env.push(("VEDETTE_DATABASE_URL", pg.database("team")));
    let data = tmp.path().join("laptop");
    let apps: Vec<std::path::PathBuf> = (0..3)
        .map(|i| {
            let dir = tmp.path().join(format!("app-{i}"));
            std::fs::create_dir_all(&dir).expect("a directory");
            std::fs::write(dir.join("requirements.txt"), "requests==2.0.0\n").expect("a file");
            dir
        })
        .collect();
    for dir in &apps {
        let o = vedette(
            &data,
            &env,
            &["target", "add", "dir", &dir.display().to_string()],
        )
        .output()
        .expect("vedette");
        assert!(o.status.success(), "{}", out(&o));
    }
    // No worker runs: the run's jobs wait a few polls, then the process
    // that queued them scans them and the run ends.
    let o = vedette(&data, &env, &["schedule", "run", "1"])
        .env("VEDETTE_LOG", "info")
        .output()
        .expect("vedette");
    assert!(o.status.success(), "{}", out(&o));
    assert!(
        out(&o).contains("no worker took a scan of this run"),
        "{}",
        out(&o)
    );
    assert_eq!(
        pg.psql("team", "SELECT state, COUNT(*) FROM jobs GROUP BY state"),
        "done|3\n"
    );
    let runner = pg.psql("team", "SELECT DISTINCT worker FROM jobs");
    assert_eq!(runner.lines().count(), 1, "{runner}");
    assert_eq!(
        pg.psql(
            "team",
            "SELECT COUNT(*) FROM scans WHERE state = 'succeeded' AND report IS NOT NULL"
        ),
        "3\n"
    );
}

//! Integration tests of the store. Every test runs twice: against a fresh
//! SQLite file (`sqlite::…`) and against a fresh database on a PostgreSQL
//! server of the test's own (`postgresql::…`, Debian's `postgresql`
//! started with `initdb` and `pg_ctl`).

#![allow(clippy::unwrap_used)] // a test that cannot read its own fixture should stop there

#[path = "../../../../../tests/src/postgres.rs"]
#[allow(dead_code)]
mod postgres;

use vedette_model::{CredentialKind, Exposure, ScanState, ScheduleInput, TargetKind, Trigger};
use vedette_store::{Database, Store};

/// One database for one test: each [`Db::open`] is another process's
/// handle on it.
enum Db {
    Sqlite(tempfile::TempDir),
    Postgres {
        _server: postgres::Postgres,
        url: String,
    },
}

impl Db {
    fn sqlite() -> Self {
        Db::Sqlite(tempfile::tempdir().expect("temp dir"))
    }

    fn postgres() -> Self {
        let pg = postgres::Postgres::start();
        let url = pg.database("vedette");
        Db::Postgres { _server: pg, url }
    }

    fn database(&self) -> Database {
        match self {
            Db::Sqlite(dir) => Database::Sqlite(dir.path().join(vedette_store::DB_FILE)),
            Db::Postgres { url, .. } => Database::Postgres(url.clone()),
        }
    }

    async fn open(&self) -> Store {
        Store::connect(&self.database()).await.expect("open store")
    }

    /// Runs `sql` on a connection of its own (as another program would).
    async fn execute(&self, sql: &str) -> Result<u64, sqlx::Error> {
        match self {
            Db::Sqlite(dir) => {
                let url = format!("sqlite://{}", dir.path().join("vedette.db").display());
                let pool = sqlx::SqlitePool::connect(&url).await?;
                let n = sqlx::query(sql)
                    .execute(&pool)
                    .await
                    .map(|r| r.rows_affected());
                pool.close().await;
                n
            }
            Db::Postgres { url, .. } => {
                let pool = sqlx::PgPool::connect(url).await?;
                let n = sqlx::query(sql)
                    .execute(&pool)
                    .await
                    .map(|r| r.rows_affected());
                pool.close().await;
                n
            }
        }
    }

    /// How many rows `table` holds, read on a connection of its own.
    async fn rows(&self, table: &str) -> i64 {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        match self {
            Db::Sqlite(dir) => {
                let url = format!("sqlite://{}", dir.path().join("vedette.db").display());
                let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
                let n = sqlx::query_scalar(&sql).fetch_one(&pool).await.unwrap();
                pool.close().await;
                n
            }
            Db::Postgres { url, .. } => {
                let pool = sqlx::PgPool::connect(url).await.unwrap();
                let n = sqlx::query_scalar(&sql).fetch_one(&pool).await.unwrap();
                pool.close().await;
                n
            }
        }
    }
}

/// Each named test, once per database.
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $name() {
                super::$name(super::Db::sqlite()).await
            })*
        }
        mod postgresql {
            $(#[tokio::test]
            async fn $name() {
                super::$name(super::Db::postgres()).await
            })*
        }
    };
}

on_both_databases!(
    opening_applies_every_migration,
    reopening_keeps_data_and_does_not_reapply_migrations,
    replacing_a_credential_keeps_its_creation_time_and_updates_the_user,
    a_target_is_watched_once_per_kind_and_name,
    scans_left_running_by_a_dead_process_are_marked_interrupted,
    a_target_interrupted_three_times_in_a_row_is_quarantined_until_retried,
    findings_shared_by_targets_are_stored_once_and_go_with_the_last_of_them,
    findings_another_process_deleted_are_written_again_not_assumed_stored,
    schedules_are_claimed_once_and_read_back_as_written,
    notifications_go_from_rule_to_outbox_to_delivery_log,
    nodes_enrol_with_a_token_and_the_gates_log_only_grows,
    api_tokens_registry_crawls_exposure_and_trends_read_back,
    a_registrys_requests_take_one_slot_after_another_whoever_asks,
    a_batch_of_rematches_is_recorded_as_each_scan_alone_would_be,
);

/// Workers on two connections (two processes, or machines) reserve
/// requests to one registry: each slot a step after the one before,
/// whoever took it; another registry keeps its own pace.
async fn a_registrys_requests_take_one_slot_after_another_whoever_asks(db: Db) {
    let (one, two) = (db.open().await, db.open().await);
    let step = std::time::Duration::from_secs(1);
    let first = one.reserve_request("registry.example", step).await.unwrap();
    let second = two.reserve_request("registry.example", step).await.unwrap();
    let third = one.reserve_request("registry.example", step).await.unwrap();
    let elsewhere = two.reserve_request("other.example", step).await.unwrap();
    let ms = |d: std::time::Duration| d.as_millis();
    assert!(ms(first) < 500, "the first request waits {first:?}");
    assert!(
        (500..=1000).contains(&ms(second)),
        "the second waits {second:?}"
    );
    assert!(
        (1500..=2000).contains(&ms(third)),
        "the third waits {third:?}"
    );
    assert!(
        ms(elsewhere) < 500,
        "another registry's first waits {elsewhere:?}"
    );
}

fn schedule_input(name: &str) -> ScheduleInput {
    ScheduleInput {
        name: name.into(),
        cron: "0 3 * * *".into(),
        timezone: "UTC".into(),
        selector: Default::default(),
        options: Default::default(),
        enabled: true,
        catch_up: false,
        jitter_seconds: 30,
    }
}

async fn schedules_are_claimed_once_and_read_back_as_written(db: Db) {
    let store = db.open().await;
    let system = store.list_schedules().await.unwrap();
    assert_eq!(system.len(), 1, "the weekly scan comes with a new database");
    assert!(system[0].system && !system[0].enabled);
    let s = store
        .add_schedule(&schedule_input("nightly"))
        .await
        .unwrap();
    assert!(s.enabled && !s.system && !s.catch_up);
    assert_eq!(s.jitter_seconds, 30);
    let err = store
        .add_schedule(&schedule_input("nightly"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("exists already"), "{err}");
    let mut changed = schedule_input("nightly-2");
    changed.catch_up = true;
    let s = store.update_schedule(s.id, &changed).await.unwrap();
    assert!(s.catch_up);
    assert_eq!(s.name, "nightly-2");
    store.set_schedule_enabled(s.id, false).await.unwrap();
    assert!(!store.schedule(s.id).await.unwrap().unwrap().enabled);
    // A claim is held once; another process cannot take it meanwhile.
    let other = db.open().await;
    assert!(store.claim_schedule(s.id).await.unwrap());
    assert!(!other.claim_schedule(s.id).await.unwrap());
    assert!(store.runs_in_progress().await.unwrap());
    store.release_schedule(s.id).await.unwrap();
    assert!(other.claim_schedule(s.id).await.unwrap());
    assert_eq!(other.release_stale_schedule_claims().await.unwrap(), 1);
    let at = chrono::Utc::now();
    store.set_schedule_ran(s.id, at).await.unwrap();
    let ran = store
        .schedule(s.id)
        .await
        .unwrap()
        .unwrap()
        .last_run_at
        .unwrap();
    assert!((ran - at).num_milliseconds().abs() < 1, "{ran} vs {at}");
    assert!(
        store.remove_schedule(system[0].id).await.is_err(),
        "the system schedule stays"
    );
    store.remove_schedule(s.id).await.unwrap();
    assert_eq!(store.list_schedules().await.unwrap().len(), 1);
    // Firing it logged an event.
    let events = store.events_after(0, 100).await.unwrap();
    assert!(events
        .iter()
        .any(|e| e.kind == vedette_model::EventKind::ScheduleFired));
}

async fn notifications_go_from_rule_to_outbox_to_delivery_log(db: Db) {
    use vedette_model::{ChannelKind, ChannelSettings, EventKind, Rule, Severity};
    let store = db.open().await;
    let channel = store
        .add_channel(
            "ops",
            ChannelKind::Webhook,
            &ChannelSettings::default(),
            true,
        )
        .await
        .unwrap();
    assert!(channel.has_secret);
    assert!(store
        .add_channel(
            "ops",
            ChannelKind::Webhook,
            &ChannelSettings::default(),
            false
        )
        .await
        .is_err());
    let rule = store
        .add_rule(
            channel.id,
            &Rule {
                id: 0,
                channel: "ops".into(),
                event: EventKind::FindingNew,
                min_severity: Some(Severity::High),
                min_risk: Some(7.5),
                kev_only: true,
                target: Some("/srv/*".into()),
                group: None,
                digest: Some("daily".into()),
                timezone: Some("UTC".into()),
            },
        )
        .await
        .unwrap();
    assert_eq!(rule.min_risk, Some(7.5));
    assert!(rule.kev_only);
    assert_eq!(store.rules_for_pump().await.unwrap().len(), 1);
    // The pump moves the cursor once; a second pump from the same place
    // (another process) writes nothing.
    store
        .record_event(EventKind::FindingNew, serde_json::json!({"x": 1}))
        .await
        .unwrap();
    let last = store.last_event_id().await.unwrap();
    let message = serde_json::json!({"title": "2 new findings"}).to_string();
    let queued = vedette_store::Queued {
        channel_id: channel.id,
        rule_id: Some(rule.id),
        digest: false,
        message: message.clone(),
    };
    assert!(store
        .commit_pump(0, last, std::slice::from_ref(&queued), &[(rule.id, last)])
        .await
        .unwrap());
    assert!(!store.commit_pump(0, last, &[queued], &[]).await.unwrap());
    assert_eq!(store.notify_cursor().await.unwrap(), last);
    assert_eq!(store.digest_events(rule.id).await.unwrap().len(), 1);
    assert_eq!(store.queued_messages().await.unwrap(), 1);
    assert!(store.next_attempt_at().await.unwrap().is_some());
    let due = store
        .claim_due(chrono::Duration::seconds(60), 10)
        .await
        .unwrap();
    assert_eq!(due.len(), 1);
    assert!(
        store
            .claim_due(chrono::Duration::seconds(60), 10)
            .await
            .unwrap()
            .is_empty(),
        "a leased message is not claimed twice"
    );
    store.record_attempt(due[0].id, None, None).await.unwrap();
    let log = store.deliveries(10).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].title, "2 new findings");
    assert_eq!(log[0].channel, "ops");
    assert!(store
        .set_channel_failing(channel.id, Some("refused"))
        .await
        .unwrap());
    assert!(store
        .channel("ops")
        .await
        .unwrap()
        .unwrap()
        .failing_since
        .is_some());
    store.set_setting("theme", "dark").await.unwrap();
    store.set_setting("theme", "light").await.unwrap();
    assert_eq!(
        store.setting("theme").await.unwrap().as_deref(),
        Some("light")
    );
    assert!(store.remove_channel("ops").await.unwrap());
    assert!(
        store.rules().await.unwrap().is_empty(),
        "its rules go with it"
    );
}

async fn nodes_enrol_with_a_token_and_the_gates_log_only_grows(db: Db) {
    use vedette_model::{ActionOutcome, ActionRecord, GateAction, NodeFacts};
    use vedette_store::{NewEnrolToken, TokenRefusal};
    let store = db.open().await;
    let token = [7u8; 32];
    let t = store
        .add_enrol_token(&NewEnrolToken {
            name: "fleet",
            hash: &token,
            prefix: "vdt_e_ab",
            expires_at: chrono::Utc::now() + chrono::Duration::hours(1),
            max_uses: 1,
            group: Some("web"),
            exposure: Exposure::Internet,
        })
        .await
        .unwrap();
    assert_eq!(t.group.as_deref(), Some("web"));
    assert!(store.check_enrol_token(&token).await.unwrap().is_ok());
    let facts: NodeFacts = serde_json::from_value(serde_json::json!({
        "hostname": "web-1", "machine_id": "0123456789abcdef", "os": "debian 12",
    }))
    .unwrap();
    let (node, new) = store
        .enrol_node(&token, "web-1", &facts, &[9u8; 32])
        .await
        .unwrap()
        .unwrap();
    assert!(new);
    assert_eq!(node.name, "web-1");
    assert_eq!(node.exposure, Exposure::Internet);
    assert_eq!(
        store
            .enrol_node(&token, "web-2", &facts, &[8u8; 32])
            .await
            .unwrap()
            .unwrap_err(),
        TokenRefusal::Exhausted("fleet".into())
    );
    assert_eq!(
        store
            .node_by_credential(&[9u8; 32])
            .await
            .unwrap()
            .unwrap()
            .target_id,
        node.target_id
    );
    assert!(store.mark_node_overdue(node.target_id).await.unwrap());
    assert!(!store.mark_node_overdue(node.target_id).await.unwrap());
    store.touch_node(node.target_id).await.unwrap();
    assert!(store.revoke_node(node.target_id).await.unwrap());
    assert_eq!(store.nodes().await.unwrap().len(), 1);

    let mut gate = store.gate_settings().await.unwrap();
    gate.action = GateAction::Terminate;
    gate.armed_by = Some("ada".into());
    gate.armed_at = Some(chrono::Utc::now());
    store.set_gate(&gate).await.unwrap();
    assert_eq!(
        store.gate_settings().await.unwrap().action,
        GateAction::Terminate
    );
    let id = store
        .record_gate_action(&ActionRecord {
            id: 0,
            at: chrono::Utc::now(),
            node: "web-1".into(),
            instance_id: Some("i-0abc".into()),
            action: GateAction::Terminate,
            outcome: ActionOutcome::Done,
            reason: "2 critical findings".into(),
            armed_by: Some("ada".into()),
            scan_id: None,
            answer: Some("ok".into()),
        })
        .await
        .unwrap();
    assert_eq!(
        store
            .destructive_actions_since(chrono::Utc::now() - chrono::Duration::hours(1))
            .await
            .unwrap(),
        1
    );
    assert_eq!(store.gate_actions(10).await.unwrap()[0].id, id);
    // The log is append-only, whoever asks.
    assert!(db
        .execute(&format!(
            "UPDATE gate_actions SET reason = 'x' WHERE id = {id}"
        ))
        .await
        .is_err());
    assert!(db
        .execute(&format!("DELETE FROM gate_actions WHERE id = {id}"))
        .await
        .is_err());
}

async fn api_tokens_registry_crawls_exposure_and_trends_read_back(db: Db) {
    use vedette_model::{RegistryImage, RegistryWatch, TokenScope};
    let store = db.open().await;
    let hash = [3u8; 32];
    let t = store
        .add_api_token("ci", TokenScope::Scan, &hash, "vdt_ab")
        .await
        .unwrap();
    assert!(store
        .add_api_token("ci", TokenScope::Read, &[4u8; 32], "vdt_cd")
        .await
        .is_err());
    store
        .touch_api_token(t.id, chrono::Utc::now())
        .await
        .unwrap();
    assert!(store
        .api_token_by_hash(&hash)
        .await
        .unwrap()
        .unwrap()
        .last_used_at
        .is_some());
    assert!(store.revoke_api_token("ci").await.unwrap());
    assert!(store.api_tokens().await.unwrap()[0].revoked_at.is_some());

    let watch = RegistryWatch {
        repositories: "*".into(),
        tags: Default::default(),
        insecure: false,
        requests_per_second: None,
        kind: Default::default(),
        api: None,
    };
    let reg = store
        .add_registry_target("127.0.0.1:5000", &watch, Some("team-a"), Exposure::Internal)
        .await
        .unwrap();
    let image = store
        .crawled_image(&reg, "127.0.0.1:5000/app:1")
        .await
        .unwrap();
    assert_eq!(image.group.as_deref(), Some("team-a"));
    assert_eq!(image.parent_id, Some(reg.id));
    let began = chrono::Utc::now();
    let images: Vec<RegistryImage> = ["1", "2"]
        .iter()
        .map(|t| RegistryImage {
            reference: format!("127.0.0.1:5000/app:{t}"),
            digest: format!("sha256:{t}"),
            created: None,
            head_digest: Some(format!("sha256:h{t}")),
        })
        .collect();
    store
        .keep_registry_tags(reg.id, &images, Some(("app", "2", began)))
        .await
        .unwrap();
    let wanted = vec![
        "127.0.0.1:5000/app:2".to_owned(),
        "127.0.0.1:5000/app:9".to_owned(),
    ];
    let found = store.registry_tags(reg.id, &wanted).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].digest, "sha256:2");
    let (last, _, read) = store
        .registry_crawl_cursor(reg.id, "127.0.0.1:5000", "app")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((last.as_str(), read.len()), ("2", 2));
    store
        .finish_registry_crawl(reg.id, "127.0.0.1:5000", "app", began)
        .await
        .unwrap();
    assert!(store
        .registry_crawl_cursor(reg.id, "127.0.0.1:5000", "app")
        .await
        .unwrap()
        .is_none());

    assert!(store
        .pin_target_exposure(image.id, Exposure::Internet)
        .await
        .unwrap());
    assert!(store.target_exposure_pinned(image.id).await.unwrap());
    assert_eq!(
        store.target_exposure(image.id).await.unwrap(),
        Exposure::Internet
    );
    store
        .set_target_transport(image.id, true, Some("linux/arm64"))
        .await
        .unwrap();
    let got = store.get_target(image.id).await.unwrap().unwrap();
    assert!(got.insecure);
    assert_eq!(got.platform.as_deref(), Some("linux/arm64"));

    // Two scans of one target: trends and the riskiest findings.
    for ids in [&["CVE-1", "CVE-2"][..], &["CVE-2", "CVE-3"][..]] {
        let scan = store.begin_scan(image.id).await.unwrap();
        store
            .record_scan(
                scan,
                &inventory("app", ids[0]),
                &report("app", ids),
                "v1",
                3,
            )
            .await
            .unwrap();
    }
    let trends = store
        .trends(
            vedette_store::TrendScope::Group("team-a"),
            7,
            chrono::Utc::now().date_naive(),
        )
        .await
        .unwrap();
    assert_eq!(trends.scope, "group team-a");
    assert_eq!(trends.daily.last().unwrap().open.critical, 2);
    assert_eq!(trends.fixed_count, 1);
    assert_eq!(store.most_exploitable(10).await.unwrap().len(), 2);
    let latest = store.latest_scans(None).await.unwrap();
    assert_eq!(latest.len(), 1);
    let verdicts = store.latest_verdicts().await.unwrap();
    assert_eq!(verdicts[&image.id].1, Some(true));
    assert_eq!(
        store.latest_inventories_after(0, 10).await.unwrap().len(),
        1
    );
    assert!(
        store
            .prune_events(chrono::Utc::now() + chrono::Duration::seconds(1))
            .await
            .unwrap()
            > 0
    );
}

async fn opening_applies_every_migration(db: Db) {
    let store = db.open().await;
    assert!(store.schema_version().await.unwrap() >= 20261128050000);
    store.integrity_check().await.unwrap();
    store.close().await;
    let again = db.open().await;
    let mode = again.journal_mode().await.unwrap();
    again.close().await;
    match db {
        // WAL mode is persistent in the file header: a second open sees it.
        Db::Sqlite(_) => assert_eq!(mode, "wal"),
        Db::Postgres { .. } => assert_eq!(mode, "postgresql"),
    }
}

#[tokio::test]
async fn a_postgresql_url_with_a_password_is_never_shown_with_it() {
    let err = Store::connect(&Database::Postgres(
        "postgres://vedette:hunter2-secret@127.0.0.1:1/vedette".into(),
    ))
    .await
    .unwrap_err()
    .to_string();
    assert!(!err.contains("hunter2-secret"), "{err}");
    assert!(err.contains("127.0.0.1:1"), "{err}");
    assert!(err.contains("--database"), "{err}");
    let err = Database::parse("mysql://db/vedette")
        .unwrap_err()
        .to_string();
    assert!(err.contains("postgres://"), "{err}");
}

async fn reopening_keeps_data_and_does_not_reapply_migrations(db: Db) {
    let store = db.open().await;
    store
        .upsert_credential(
            "registry/ghcr.io",
            CredentialKind::Registry,
            "ghcr.io",
            "ada",
        )
        .await
        .unwrap();
    let v = store.schema_version().await.unwrap();
    store.close().await;
    let again = db.open().await;
    assert_eq!(again.schema_version().await.unwrap(), v);
    let names: Vec<_> = again
        .list_credentials()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, ["registry/ghcr.io"]);
}

async fn replacing_a_credential_keeps_its_creation_time_and_updates_the_user(db: Db) {
    let store = db.open().await;
    let first = store
        .upsert_credential(
            "registry/quay.io",
            CredentialKind::Registry,
            "quay.io",
            "ada",
        )
        .await
        .unwrap();
    let second = store
        .upsert_credential(
            "registry/quay.io",
            CredentialKind::Registry,
            "quay.io",
            "grace",
        )
        .await
        .unwrap();
    assert_eq!(second.created_at, first.created_at);
    assert!(second.updated_at >= first.updated_at);
    let all = store.list_credentials().await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].username, "grace");
    assert_eq!(store.count_credentials().await.unwrap(), 1);
    assert!(store.delete_credential("registry/quay.io").await.unwrap());
    assert!(!store.delete_credential("registry/quay.io").await.unwrap());
    assert_eq!(store.count_credentials().await.unwrap(), 0);
}

async fn a_target_is_watched_once_per_kind_and_name(db: Db) {
    let store = db.open().await;
    let t = store
        .add_target(
            TargetKind::Image,
            " docker.io/library/debian:12 ",
            Exposure::Internet,
        )
        .await
        .unwrap();
    assert_eq!(t.name, "docker.io/library/debian:12");
    let err = store
        .add_target(
            TargetKind::Image,
            "docker.io/library/debian:12",
            Exposure::Internal,
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("already watched"), "{err}");
    // Same name, other kind: a different target.
    store
        .add_target(
            TargetKind::Directory,
            "docker.io/library/debian:12",
            Exposure::Internal,
        )
        .await
        .unwrap();
    assert!(store
        .add_target(TargetKind::Image, "  ", Exposure::Internal)
        .await
        .is_err());
    let listed = store.list_targets().await.unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(
        listed
            .iter()
            .find(|x| x.kind == TargetKind::Image)
            .unwrap()
            .exposure,
        Exposure::Internet
    );
}

async fn scans_left_running_by_a_dead_process_are_marked_interrupted(db: Db) {
    let store = db.open().await;
    let t = store
        .add_target(TargetKind::Directory, "/srv/app", Exposure::Internal)
        .await
        .unwrap();
    let done = store.begin_scan(t.id).await.unwrap();
    store
        .finish_scan(done, ScanState::Succeeded, None)
        .await
        .unwrap();
    let _left_running = store.begin_scan(t.id).await.unwrap();
    drop(store); // the process "dies" without finishing the scan

    let store = db.open().await;
    assert_eq!(store.mark_interrupted_scans(3).await.unwrap().0, 1);
    let scans = store.list_scans(10).await.unwrap();
    assert_eq!(scans.len(), 2);
    let states: Vec<_> = scans.iter().map(|s| s.state).collect();
    assert!(states.contains(&ScanState::Interrupted) && states.contains(&ScanState::Succeeded));
    let interrupted = scans
        .iter()
        .find(|s| s.state == ScanState::Interrupted)
        .unwrap();
    assert!(interrupted.finished_at.is_some());
    assert!(interrupted.error.as_deref().unwrap().contains("stopped"));
    assert_eq!(interrupted.target_name, "/srv/app");
    assert_eq!(store.mark_interrupted_scans(3).await.unwrap().0, 0);
}

async fn a_target_interrupted_three_times_in_a_row_is_quarantined_until_retried(db: Db) {
    let (poison, other) = {
        let store = db.open().await;
        let p = store
            .add_target(TargetKind::Image, "r/poison:1", Exposure::Internal)
            .await
            .unwrap();
        let o = store
            .add_target(TargetKind::Image, "r/good:1", Exposure::Internal)
            .await
            .unwrap();
        (p.id, o.id)
    };
    // Each round: the process dies while both scans run; the good target's
    // scan was interrupted only once, then succeeded.
    for round in 1..=3 {
        let store = db.open().await;
        let (_, quarantined) = store.mark_interrupted_scans(3).await.unwrap();
        assert!(quarantined.is_empty(), "round {round}: {quarantined:?}");
        store.begin_scan(poison).await.unwrap();
        let g = store.begin_scan(other).await.unwrap();
        if round > 1 {
            store
                .finish_scan(g, ScanState::Succeeded, None)
                .await
                .unwrap();
        }
        drop(store);
    }
    let store = db.open().await;
    let (marked, quarantined) = store.mark_interrupted_scans(3).await.unwrap();
    assert_eq!(marked, 1, "only the poison's scan was left running");
    assert_eq!(
        quarantined.iter().map(|t| t.id).collect::<Vec<_>>(),
        [poison]
    );
    let t = store.get_target(poison).await.unwrap().unwrap();
    let q = t.quarantine.expect("quarantined");
    assert!(q.reason.contains("last 3 scans"), "{}", q.reason);
    assert!(store
        .get_target(other)
        .await
        .unwrap()
        .unwrap()
        .quarantine
        .is_none());
    // Quarantined targets' interrupted scans are not retried automatically.
    let sched = store
        .add_schedule(&ScheduleInput {
            name: "s".into(),
            cron: "0 3 * * *".into(),
            timezone: "UTC".into(),
            selector: Default::default(),
            options: Default::default(),
            enabled: true,
            catch_up: false,
            jitter_seconds: 0,
        })
        .await
        .unwrap();
    let again = store
        .begin_scan_as(poison, Trigger::Schedule, Some(sched.id))
        .await
        .unwrap();
    store
        .finish_scan(again, ScanState::Interrupted, Some("killed"))
        .await
        .unwrap();
    assert!(store
        .interrupted_scheduled_scans()
        .await
        .unwrap()
        .is_empty());
    assert!(store.release_quarantine(poison).await.unwrap());
    assert!(
        !store.release_quarantine(poison).await.unwrap(),
        "only once"
    );
    assert_eq!(
        store.interrupted_scheduled_scans().await.unwrap(),
        [(poison, sched.id)]
    );
    // A cancelled scan is a state of its own.
    let c = store.begin_scan(other).await.unwrap();
    store
        .finish_scan(c, ScanState::Cancelled, Some("the scan was cancelled"))
        .await
        .unwrap();
    assert_eq!(
        store.list_scans(1).await.unwrap()[0].state,
        ScanState::Cancelled
    );
}

#[tokio::test]
async fn an_unwritable_data_dir_gives_an_error_that_names_the_path_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    let err = Store::open_in(&file).await.unwrap_err().to_string();
    assert!(err.contains("not-a-dir"), "{err}");
    assert!(err.contains("--data-dir"), "{err}");
}

fn inventory(target: &str, digest: &str) -> vedette_model::Inventory {
    serde_json::from_value(serde_json::json!({
        "schema": 1, "target": target, "kind": "directory", "digest": digest,
        "packages": [], "extractor_version": 1, "scanned_at": "2026-11-28T00:00:00Z",
    }))
    .unwrap()
}

fn report(target: &str, ids: &[&str]) -> vedette_model::ScanReport {
    let findings: Vec<serde_json::Value> = ids
        .iter()
        .map(|id| {
            serde_json::json!({
                "id": id, "aliases": [], "package": "perl-base", "version": "5.36.0-7",
                "ecosystem": "Debian:12", "purl": "pkg:deb/debian/perl-base@5.36.0-7",
                "summary": "", "severity": "critical", "severity_source": {"kind": "label", "id": id},
                "risk": 50.0, "risk_factors": [], "locations": [],
            })
        })
        .collect();
    serde_json::from_value(serde_json::json!({
        "schema": 1, "target": target, "digest": "sha256:x", "exposure": "internal",
        "packages": 1, "findings": findings,
        "verdict": {"pass": true, "failures": [], "counted": 0, "notes": []},
        "feeds": [], "stale_feeds": [], "warnings": [], "scanned_at": "2026-11-28T00:00:00Z",
    }))
    .unwrap()
}

async fn findings_shared_by_targets_are_stored_once_and_go_with_the_last_of_them(db: Db) {
    let store = db.open().await;
    let mut ids = Vec::new();
    for name in ["/a", "/b"] {
        let t = store
            .add_target(TargetKind::Directory, name, Exposure::Internal)
            .await
            .unwrap();
        let scan = store.begin_scan(t.id).await.unwrap();
        let new = store
            .record_scan(
                scan,
                &inventory(name, name),
                &report(name, &["CVE-1", "CVE-2"]),
                "v1",
                1,
            )
            .await
            .unwrap();
        assert_eq!(new.len(), 2, "both are new on a first scan");
        ids.push((t.id, scan));
    }
    // Two scans, one set of two findings, two bodies.
    assert_eq!(db.rows("finding_sets").await, 1);
    assert_eq!(db.rows("finding_bodies").await, 2);
    assert_eq!(db.rows("scan_new_findings").await, 4);

    // Removing one target keeps what the other still shows.
    assert!(store.remove_target(ids[0].0).await.unwrap());
    let diff = store.scan_diff(ids[1].1).await.unwrap();
    assert_eq!(diff.new.len(), 2);
    assert_eq!(db.rows("finding_bodies").await, 2);

    // Removing the last one takes the findings with it.
    assert!(store.remove_target(ids[1].0).await.unwrap());
    for table in [
        "finding_sets",
        "finding_set_members",
        "finding_bodies",
        "scan_new_findings",
    ] {
        assert_eq!(db.rows(table).await, 0, "{table}");
    }

    // The same findings found again are stored again (nothing still
    // believes they are there).
    let t = store
        .add_target(TargetKind::Directory, "/c", Exposure::Internal)
        .await
        .unwrap();
    let scan = store.begin_scan(t.id).await.unwrap();
    store
        .record_scan(
            scan,
            &inventory("/c", "/c"),
            &report("/c", &["CVE-1", "CVE-2"]),
            "v1",
            1,
        )
        .await
        .unwrap();
    let diff = store.scan_diff(scan).await.unwrap();
    assert_eq!(diff.new.len(), 2);
    store.integrity_check().await.unwrap();
}

/// A re-match writes a batch of scans in a few statements: each target
/// gets its own scan, its new findings against its own previous scan (a
/// finding new on two targets is new on both and stored once), and its
/// own events; a batch naming a target twice is refused whole.
async fn a_batch_of_rematches_is_recorded_as_each_scan_alone_would_be(db: Db) {
    let store = db.open().await;
    let first: [(&str, &[&str]); 3] = [
        ("/a", &["CVE-1"]),
        ("/b", &["CVE-1", "CVE-2"]),
        ("/c", &["CVE-3"]),
    ];
    for (name, ids) in first {
        let t = store
            .add_target(TargetKind::Directory, name, Exposure::Internal)
            .await
            .unwrap();
        let scan = store.begin_scan(t.id).await.unwrap();
        store
            .record_scan(scan, &inventory(name, name), &report(name, ids), "v1", 1)
            .await
            .unwrap();
    }
    let events_before = store.last_event_id().await.unwrap();
    let latest = store.latest_inventories_after(0, 10).await.unwrap();
    assert_eq!(latest.len(), 3);
    // The feeds changed: CVE-4 now concerns /a and /c; /b is as it was.
    let again: Vec<vedette_model::ScanReport> = latest
        .iter()
        .map(|l| match l.inventory.target.as_str() {
            "/a" => report("/a", &["CVE-1", "CVE-4"]),
            "/b" => report("/b", &["CVE-1", "CVE-2"]),
            _ => report("/c", &["CVE-3", "CVE-4"]),
        })
        .collect();
    let encoded: Vec<vedette_store::EncodedReport> = again
        .iter()
        .map(|r| vedette_store::EncodedReport::of(r).unwrap())
        .collect();
    let batch: Vec<vedette_store::Rematch> = latest
        .iter()
        .zip(&again)
        .zip(&encoded)
        .map(|((l, r), encoded)| vedette_store::Rematch {
            target_id: l.target_id,
            inventory: &l.inventory,
            inventory_id: l.inventory_id,
            report: r,
            encoded,
            feed_version: "v2",
            duration_ms: 2,
        })
        .collect();

    // The same target twice: refused, nothing written.
    let twice = [&batch[0], &batch[0]].map(|r| vedette_store::Rematch { ..*r });
    let err = store.record_rematches(&twice).await.unwrap_err();
    assert!(err.to_string().contains("twice"), "{err}");
    assert_eq!(store.count_scans().await.unwrap(), 3);

    let recorded = store.record_rematches(&batch).await.unwrap();
    assert_eq!(store.count_scans().await.unwrap(), 6);
    let mut seen = std::collections::BTreeMap::new();
    for ((scan_id, new), l) in recorded.iter().zip(&latest) {
        let name = l.inventory.target.clone();
        let summary = store.scan_summary(*scan_id).await.unwrap().unwrap();
        assert_eq!(summary.target_id, l.target_id, "{name}: its own scan");
        assert_eq!(summary.state, ScanState::Succeeded);
        assert_eq!(summary.trigger, Trigger::Rematch);
        let ids: Vec<(&str, vedette_model::Cause)> = new
            .iter()
            .map(|n| (n.finding.id.as_str(), n.cause))
            .collect();
        // What the history shows is what the call returned.
        let diff = store.scan_diff(*scan_id).await.unwrap();
        let shown: Vec<(&str, vedette_model::Cause)> = diff
            .new
            .iter()
            .map(|n| (n.finding.id.as_str(), n.cause))
            .collect();
        assert_eq!(ids, shown, "{name}");
        seen.insert(name, format!("{ids:?}"));
    }
    let feed_update = format!("{:?}", [("CVE-4", vedette_model::Cause::FeedUpdate)]);
    assert_eq!(seen["/a"], feed_update);
    assert_eq!(seen["/b"], "[]", "the same findings: nothing new");
    assert_eq!(seen["/c"], feed_update);
    // Four distinct findings in all, each body stored once.
    assert_eq!(db.rows("finding_bodies").await, 4);

    // Each scan's events name its own target; finding.new only where
    // something is new.
    let events = store.events_after(events_before, 100).await.unwrap();
    let of = |kind: vedette_model::EventKind| -> Vec<String> {
        events
            .iter()
            .filter(|e| e.kind == kind)
            .map(|e| {
                let scan = e.data["scan_id"].as_i64().unwrap();
                let (_, l) = recorded
                    .iter()
                    .zip(&latest)
                    .find(|((id, _), _)| *id == scan)
                    .unwrap();
                assert_eq!(e.data["target"], l.inventory.target.as_str());
                assert_eq!(e.data["trigger"], "rematch");
                l.inventory.target.clone()
            })
            .collect()
    };
    assert_eq!(
        of(vedette_model::EventKind::ScanFinished),
        ["/a", "/b", "/c"]
    );
    assert_eq!(of(vedette_model::EventKind::FindingNew), ["/a", "/c"]);
    store.integrity_check().await.unwrap();
}

async fn findings_another_process_deleted_are_written_again_not_assumed_stored(db: Db) {
    // Two handles on one database stand for two processes: `vedette serve`
    // (which remembers what it stored) and `vedette target remove`.
    let serve = db.open().await;
    let other = db.open().await;
    let a = serve
        .add_target(TargetKind::Directory, "/a", Exposure::Internal)
        .await
        .unwrap();
    let scan = serve.begin_scan(a.id).await.unwrap();
    serve
        .record_scan(
            scan,
            &inventory("/a", "/a"),
            &report("/a", &["CVE-1"]),
            "v1",
            1,
        )
        .await
        .unwrap();
    // The other process removes the target, and the findings go with it.
    assert!(other.remove_target(a.id).await.unwrap());
    assert_eq!(db.rows("finding_bodies").await, 0);
    // The long-running process scans another target with the same findings:
    // what it believed stored is stored again, and the scan is recorded.
    let b = serve
        .add_target(TargetKind::Directory, "/b", Exposure::Internal)
        .await
        .unwrap();
    let scan = serve.begin_scan(b.id).await.unwrap();
    let new = serve
        .record_scan(
            scan,
            &inventory("/b", "/b"),
            &report("/b", &["CVE-1"]),
            "v1",
            1,
        )
        .await
        .unwrap();
    assert_eq!(new.len(), 1);
    assert_eq!(serve.scan_diff(scan).await.unwrap().new.len(), 1);
    assert_eq!(db.rows("finding_bodies").await, 1);
}

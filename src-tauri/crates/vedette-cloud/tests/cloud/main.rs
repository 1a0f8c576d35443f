//! Secrets against a real Secret Service: gnome-keyring-daemon on a private
//! D-Bus session bus started by the test.

#![allow(clippy::unwrap_used)] // a test that cannot read its own fixture should stop there

use std::sync::Arc;

use tokio::sync::{Mutex, MutexGuard};

use vedette_cloud::{Credentials, KeyringSecrets, SecretBackend, SecretError};
use vedette_model::{NewRegistryCredential, Sensitive};
use vedette_store::Store;
use vedette_tests::KeyringSession;

/// The session bus address is process-wide: tests that point it somewhere
/// take this lock first.
static BUS: Mutex<()> = Mutex::const_new(());

async fn use_bus(address: &str) -> MutexGuard<'static, ()> {
    let guard = BUS.lock().await;
    std::env::set_var("DBUS_SESSION_BUS_ADDRESS", address);
    guard
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

fn database_bytes(dir: &std::path::Path) -> Vec<u8> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("vedette.db")
        {
            all.extend(std::fs::read(&p).unwrap());
        }
    }
    assert!(!all.is_empty(), "no database files in {}", dir.display());
    all
}

#[tokio::test(flavor = "multi_thread")]
async fn a_registry_secret_lives_in_the_keyring_and_never_in_sqlite() {
    let keyring = KeyringSession::start();
    let _bus = use_bus(keyring.address()).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path()).await.unwrap();
    let creds = Credentials::new(store.clone(), Arc::new(KeyringSecrets::default()));
    creds.probe().await.expect("the keyring answers");

    let first = "s3cr3t-token-first-7f1c";
    let info = creds
        .set_registry(NewRegistryCredential {
            host: "127.0.0.1:5000".into(),
            username: "ada".into(),
            secret: Sensitive::new(first.into()),
        })
        .await
        .unwrap();
    assert_eq!(info.name, "registry/127.0.0.1:5000");

    // Another program on the desktop (libsecret's secret-tool) sees it under service "vedette".
    let attrs = [
        ("service", "vedette"),
        ("username", "registry/127.0.0.1:5000"),
    ];
    assert_eq!(keyring.secret_tool_lookup(&attrs).as_deref(), Some(first));
    assert_eq!(
        creds
            .secret(&info.name)
            .await
            .unwrap()
            .map(|s| s.expose().clone())
            .as_deref(),
        Some(first)
    );

    // Replacing keeps one credential and one keyring item, with the new secret.
    let second = "s3cr3t-token-second-9a2e";
    creds
        .set_registry(NewRegistryCredential {
            host: "127.0.0.1:5000".into(),
            username: "grace".into(),
            secret: Sensitive::new(second.into()),
        })
        .await
        .unwrap();
    assert_eq!(keyring.secret_tool_lookup(&attrs).as_deref(), Some(second));
    let listed = creds.list().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].username, "grace");

    // Neither secret reached the database file or its WAL.
    let bytes = database_bytes(dir.path());
    assert!(
        contains(&bytes, "registry/127.0.0.1:5000"),
        "the name is stored"
    );
    assert!(!contains(&bytes, first) && !contains(&bytes, second));

    creds.delete(&info.name).await.unwrap();
    assert_eq!(keyring.secret_tool_lookup(&attrs), None);
    assert!(creds.list().await.unwrap().is_empty());
    assert!(creds.secret(&info.name).await.unwrap().is_none());
    store.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_secret_another_program_stored_for_vedette_is_read_and_deleted() {
    let keyring = KeyringSession::start();
    let _bus = use_bus(keyring.address()).await;
    keyring.secret_tool_store(
        "imported",
        &[("service", "vedette"), ("username", "registry/quay.io")],
        "from-secret-tool",
    );
    let backend = KeyringSecrets::default();
    let got = tokio::task::spawn_blocking(move || {
        let got = backend.get("registry/quay.io").unwrap();
        let deleted = backend.delete("registry/quay.io").unwrap();
        let again = backend.delete("registry/quay.io").unwrap();
        (got, deleted, again)
    })
    .await
    .unwrap();
    assert_eq!(got.0.unwrap().expose(), "from-secret-tool");
    assert!(got.1, "first delete removes the item");
    assert!(!got.2, "second delete finds nothing");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_secret_service_the_error_says_what_to_install_or_start() {
    let dir = tempfile::tempdir().unwrap();
    let _bus = use_bus(&format!("unix:path={}/no-bus", dir.path().display())).await;
    let err = tokio::task::spawn_blocking(|| KeyringSecrets::default().probe())
        .await
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, SecretError::Unavailable { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("gnome-keyring") && text.contains("dbus-run-session"),
        "{text}"
    );

    let store = Store::open_in(dir.path()).await.unwrap();
    let creds = Credentials::new(store, Arc::new(KeyringSecrets::default()));
    let err = creds
        .set_registry(NewRegistryCredential {
            host: "ghcr.io".into(),
            username: "ada".into(),
            secret: Sensitive::new("never-stored-5c1d".into()),
        })
        .await
        .unwrap_err();
    assert!(!err.to_string().contains("never-stored-5c1d"));
    assert!(
        creds.list().await.unwrap().is_empty(),
        "nothing half-written"
    );
}

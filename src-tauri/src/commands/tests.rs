//! Commands on Tauri's mock runtime, with the keyring behind its seam.

use std::sync::Arc;

use serde_json::{json, Value};
use tauri::test::{get_ipc_response, mock_builder, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::WebviewWindowBuilder;
use vedette_app::App;
use vedette_app::{MemorySecrets, SecretBackend};

use crate::{builder, DesktopState};

struct Harness {
    _dir: tempfile::TempDir,
    _app: tauri::App<tauri::test::MockRuntime>,
    window: tauri::WebviewWindow<tauri::test::MockRuntime>,
}

fn harness(secrets: Arc<dyn SecretBackend>) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let core = tauri::async_runtime::block_on(App::open(dir.path(), secrets)).unwrap();
    let app = builder(mock_builder())
        .manage(DesktopState::new(core))
        // The real context, so the real capabilities (ACL) apply.
        .build(tauri::generate_context!())
        .unwrap();
    let window = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();
    Harness {
        _dir: dir,
        _app: app,
        window,
    }
}

fn invoke(h: &Harness, cmd: &str, body: Value) -> Result<Value, Value> {
    get_ipc_response(
        &h.window,
        InvokeRequest {
            cmd: cmd.into(),
            callback: tauri::ipc::CallbackFn(0),
            error: tauri::ipc::CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: body.into(),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|b| b.deserialize::<Value>().unwrap())
}

#[test]
fn a_new_credential_is_listed_without_its_secret() {
    let h = harness(Arc::new(MemorySecrets::default()));
    let set = invoke(
        &h,
        "credential_set",
        json!({"credential": {"host": "ghcr.io", "username": "ada", "secret": "tok-3c9f"}}),
    )
    .unwrap();
    assert_eq!(set["name"], "registry/ghcr.io");
    let list = invoke(&h, "credential_list", json!({})).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    for answer in [&set, &list] {
        assert!(!answer.to_string().contains("tok-3c9f"), "{answer}");
    }
    let overview = invoke(&h, "app_overview", json!({})).unwrap();
    assert_eq!(overview["credentials"], 1);
    invoke(&h, "credential_delete", json!({"name": "registry/ghcr.io"})).unwrap();
    assert_eq!(invoke(&h, "credential_list", json!({})).unwrap(), json!([]));
}

#[test]
fn errors_cross_ipc_as_code_and_message() {
    let h = harness(Arc::new(MemorySecrets::unreachable()));
    let err = invoke(
        &h,
        "credential_set",
        json!({"credential": {"host": "ghcr.io", "username": "ada", "secret": "tok-77"}}),
    )
    .unwrap_err();
    assert_eq!(err["code"], "keyring_unavailable");
    assert!(err["message"].as_str().unwrap().contains("gnome-keyring"));
    assert!(!err.to_string().contains("tok-77"));

    let h = harness(Arc::new(MemorySecrets::default()));
    let err = invoke(
        &h,
        "credential_set",
        json!({"credential": {"host": "https://ghcr.io", "username": "ada", "secret": "x"}}),
    )
    .unwrap_err();
    assert_eq!(err["code"], "invalid_input");
}

#[test]
fn a_fresh_data_dir_has_no_targets_or_scans_and_reports_its_checks() {
    let h = harness(Arc::new(MemorySecrets::default()));
    assert_eq!(invoke(&h, "target_list", json!({})).unwrap(), json!([]));
    assert_eq!(invoke(&h, "scan_list", json!({})).unwrap(), json!([]));
    let o = invoke(&h, "app_overview", json!({})).unwrap();
    let names: Vec<_> = o["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Database", "Keyring", "Advisory feeds"]);
}

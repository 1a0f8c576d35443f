//! Tauri commands, one module per area, named `<area>_<verb>`. Each converts
//! its arguments, makes one call to the use-case layer (`vedette-app`) and
//! returns its answer or its error as `{code, message}`.

mod api;
mod app;
mod credential;
mod desktop;
mod feed;
mod gate;
mod notify;
mod scan;
mod schedule;
mod target;
mod triage;

use tauri::ipc::Invoke;
use tauri::Runtime;

pub fn handler<R: Runtime>() -> impl Fn(Invoke<R>) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        api::api_status,
        api::api_token_list,
        api::api_token_create,
        api::api_token_revoke,
        app::app_overview,
        app::dashboard_activity,
        feed::feed_status,
        feed::feed_update,
        feed::feed_import,
        triage::finding_triage,
        triage::finding_untriage,
        triage::policy_export_vex,
        desktop::desktop_take_link,
        desktop::desktop_page_ready,
        desktop::desktop_autostart,
        desktop::desktop_set_autostart,
        credential::credential_list,
        credential::credential_set,
        credential::credential_delete,
        gate::node_list,
        gate::node_revoke,
        gate::target_set_exposure,
        gate::aws_account_set,
        gate::aws_account_import,
        gate::aws_account_check,
        notify::notify_channels,
        notify::notify_channel_add,
        notify::notify_channel_remove,
        notify::notify_rules,
        notify::notify_rule_add,
        notify::notify_rule_remove,
        notify::notify_test,
        notify::notify_log,
        gate::enrol_token_list,
        gate::enrol_token_create,
        gate::enrol_token_revoke,
        gate::gate_settings,
        gate::gate_set_action,
        gate::gate_arm,
        gate::gate_disarm,
        gate::gate_dry_run,
        gate::gate_log,
        target::target_list,
        target::target_add_registry,
        target::target_crawl,
        target::target_remove,
        target::target_retry,
        target::target_add_image,
        target::target_add_directory,
        target::target_add_host,
        target::target_trust_key,
        target::target_scan_now,
        scan::scan_list,
        scan::scan_detail,
        scan::scan_cancel,
        scan::trends_chart,
        schedule::schedule_list,
        schedule::schedule_preview,
        schedule::schedule_save,
        schedule::schedule_set_enabled,
        schedule::schedule_remove,
        schedule::schedule_run_now,
    ]
}

#[cfg(test)]
mod tests;

//! The Notifications page: channels (their secrets go to the keyring and
//! never come back), rules, test messages and the delivery log.

use tauri::State;
use vedette_model::{ApiError, Channel, ChannelKind, ChannelSettings, Delivery, Rule, Sensitive};

use crate::DesktopState;

#[tauri::command]
pub async fn notify_channels(state: State<'_, DesktopState>) -> Result<Vec<Channel>, ApiError> {
    Ok(state.app.channels().await?)
}

/// A channel as added in the window: `secret` is the Slack or Teams URL,
/// the webhook's HMAC secret (made when empty), or the SMTP password.
#[derive(serde::Serialize)]
pub struct AddedChannel {
    channel: Channel,
    /// The HMAC secret Vedette made, shown once.
    generated_secret: Option<String>,
}

#[tauri::command]
pub async fn notify_channel_add(
    state: State<'_, DesktopState>,
    name: String,
    kind: ChannelKind,
    settings: ChannelSettings,
    secret: Option<String>,
) -> Result<AddedChannel, ApiError> {
    let added = state
        .app
        .add_channel(vedette_app::NewChannel {
            name,
            kind,
            settings,
            secret: secret.filter(|s| !s.is_empty()).map(Sensitive::new),
        })
        .await?;
    Ok(AddedChannel {
        channel: added.channel,
        generated_secret: added.generated_secret,
    })
}

#[tauri::command]
pub async fn notify_channel_remove(
    state: State<'_, DesktopState>,
    name: String,
) -> Result<(), ApiError> {
    Ok(state.app.remove_channel(&name).await?)
}

#[tauri::command]
pub async fn notify_rules(state: State<'_, DesktopState>) -> Result<Vec<Rule>, ApiError> {
    Ok(state.app.rules().await?)
}

#[tauri::command]
pub async fn notify_rule_add(state: State<'_, DesktopState>, rule: Rule) -> Result<Rule, ApiError> {
    Ok(state.app.add_rule(rule).await?)
}

#[tauri::command]
pub async fn notify_rule_remove(state: State<'_, DesktopState>, id: i64) -> Result<(), ApiError> {
    Ok(state.app.remove_rule(id).await?)
}

/// Sends a test message now: the delivery as logged.
#[tauri::command]
pub async fn notify_test(
    state: State<'_, DesktopState>,
    name: String,
) -> Result<Delivery, ApiError> {
    Ok(state.app.notify_test(&name).await?)
}

#[tauri::command]
pub async fn notify_log(state: State<'_, DesktopState>) -> Result<Vec<Delivery>, ApiError> {
    Ok(state.app.deliveries(100).await?)
}

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::stream::Stream;
use serde::Deserialize;
use utoipa::IntoParams;
use vedette_model::EventKind;

use crate::auth::Read;
use crate::error::{ApiResult, Failure, Query};
use crate::ApiState;

/// How often the log is looked at for events other processes wrote.
const POLL: Duration = Duration::from_millis(250);

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct EventQuery {
    /// Start after this event id (as `Last-Event-ID` does; 0: the oldest kept).
    /// Without either: only events from now on.
    after: Option<i64>,
    /// Only these kinds, comma-separated (`scan.finished,target.added`).
    kinds: Option<String>,
    /// false: send what the log holds and end, instead of following it.
    follow: Option<bool>,
}

/// The event log as server-sent events: `id` is the event's id (resume with
/// `Last-Event-ID`), `event` its kind, `data` the event as JSON.
#[utoipa::path(get, path = "/api/v1/events", tag = "events", params(EventQuery,
        ("Last-Event-ID" = Option<i64>, Header, description = "Resume after this event")),
    security(("bearer" = ["read"])),
    responses((status = 200, description = "A stream of events", content_type = "text/event-stream", body = vedette_model::Event),
              (status = 400, body = vedette_model::ApiError)))]
pub(crate) async fn events(
    _: Read,
    State(s): State<ApiState>,
    headers: HeaderMap,
    Query(q): Query<EventQuery>,
) -> ApiResult<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>> {
    let resume = match headers.get("last-event-id") {
        None => None,
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|v| v.trim().parse::<i64>().ok())
                .ok_or_else(|| Failure::invalid("Last-Event-ID is not an event id"))?,
        ),
    };
    let kinds: Option<Vec<EventKind>> = q
        .kinds
        .as_deref()
        .map(|k| {
            k.split(',')
                .map(|k| {
                    EventKind::parse(k.trim())
                        .ok_or_else(|| Failure::invalid(format!("'{k}' is not an event kind")))
                })
                .collect()
        })
        .transpose()?;
    let after = match resume.or(q.after) {
        Some(a) => a.max(0),
        None => s.app.store_last_event_id().await?,
    };
    let follow = q.follow.unwrap_or(true);
    let app = s.app.clone();
    let stream = futures_util::stream::unfold(
        (after, VecDeque::new(), false),
        move |(mut last, mut buf, done)| {
            let (app, kinds) = (app.clone(), kinds.clone());
            async move {
                if done {
                    return None;
                }
                loop {
                    if let Some(e) = buf.pop_front() {
                        let e: vedette_model::Event = e;
                        let sse = SseEvent::default()
                            .id(e.id.to_string())
                            .event(e.kind.as_str())
                            .json_data(&e)
                            .unwrap_or_else(|_| SseEvent::default().comment("unencodable event"));
                        return Some((Ok(sse), (last, buf, false)));
                    }
                    match app.events_after(last, 200).await {
                        Ok(evs) if evs.is_empty() => {
                            if !follow {
                                return None;
                            }
                            tokio::time::sleep(POLL).await;
                        }
                        Ok(evs) => {
                            last = evs.last().map_or(last, |e| e.id);
                            buf.extend(
                                evs.into_iter()
                                    .filter(|e| kinds.as_ref().is_none_or(|k| k.contains(&e.kind))),
                            );
                        }
                        Err(e) => {
                            tracing::error!("the event stream stops: {e}");
                            let sse = SseEvent::default()
                                .event("error")
                                .data(format!("the event log cannot be read: {e}"));
                            return Some((Ok(sse), (last, buf, true)));
                        }
                    }
                }
            }
        },
    );
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

//! `GET /events`: the tree's events as Server-Sent Events, one bounded
//! subscription per client.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::sse::{Event as Message, Sse};
use axum::response::{IntoResponse, Response};
use tokio::sync::OwnedSemaphorePermit;
use tokio_util::sync::CancellationToken;

use super::Admin;
use super::routes::ApiError;
use crate::runtime::{RecvError, Subscription, SupervisorHandle};

/// A comment is sent after this long without an event, so that proxies and
/// browsers keep an idle stream open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// One client's stream.
struct Feed {
    phase: Phase,
    root: SupervisorHandle,
    /// Taken before the snapshot, so that nothing between the two is lost.
    events: Subscription,
    stop: CancellationToken,
    /// Counts this stream against `max_event_streams` until it is dropped.
    _permit: OwnedSemaphorePermit,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Snapshot,
    Live,
    Done,
}

pub(crate) async fn events(State(admin): State<Admin>) -> Result<Response, ApiError> {
    let root = admin.tree.clone();
    let permit = admin.streams.clone().try_acquire_owned().map_err(|_| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "too_many_streams",
            format!("{} event streams are open, the limit: close one or raise it", admin.config.max_event_streams),
        )
    })?;
    let feed = Feed {
        phase: Phase::Snapshot,
        events: root.subscribe(),
        root,
        stop: admin.config.streams_end.clone(),
        _permit: permit,
    };
    let stream = futures_util::stream::unfold(feed, |mut feed| async move {
        let message = next_message(&mut feed).await?;
        Some((Ok::<_, Infallible>(message), feed))
    });
    let mut response = Sse::new(stream).into_response();
    // Proxies that buffer responses (nginx) would hold events back.
    response.headers_mut().insert("x-accel-buffering", HeaderValue::from_static("no"));
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// The next message of a stream, or `None` once it ends.
async fn next_message(feed: &mut Feed) -> Option<Message> {
    match feed.phase {
        Phase::Done => None,
        Phase::Snapshot => {
            feed.phase = Phase::Live;
            let snapshot = tokio::select! {
                biased;
                _ = feed.stop.cancelled() => return None,
                snapshot = feed.root.snapshot() => snapshot,
            };
            match snapshot {
                Ok(snapshot) => Some(Message::default().event("tree").data(to_json(&snapshot))),
                Err(_) => Some(ended(feed)),
            }
        }
        Phase::Live => {
            let next = tokio::select! {
                biased;
                _ = feed.stop.cancelled() => return None,
                next = tokio::time::timeout(KEEP_ALIVE, feed.events.recv()) => next,
            };
            Some(match next {
                Err(_) => Message::default().comment("keep-alive"),
                Ok(Ok(event)) => Message::default().data(to_json(&event)),
                Ok(Err(RecvError::Lagged(missed))) => {
                    Message::default().event("lagged").data(serde_json::json!({ "missed": missed }).to_string())
                }
                Ok(Err(RecvError::Closed)) => ended(feed),
            })
        }
    }
}

fn ended(feed: &mut Feed) -> Message {
    feed.phase = Phase::Done;
    Message::default().event("ended").data("{}")
}

fn to_json(value: &impl serde::Serialize) -> String {
    // Serializing these types into a string cannot fail (no map has
    // non-string keys, no value is a float that JSON cannot hold but NaN,
    // which a Duration never gives); an empty object keeps the stream valid.
    serde_json::to_string(value).unwrap_or_else(|_| "{}".to_string())
}

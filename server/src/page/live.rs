//! Live updates: `GET /live?after=SEQ` is a stream of server-sent events; each `change` says
//! the project's record has events after the page's (its data is the newest sequence
//! number), and the page's script fetches the fresh `<main>`. A new event wakes every open
//! page at once (the same wake-up as the API's long polls). Each stream is a hold
//! ([`crate::fair::holds`]): a share per session and token, and it ends when its session
//! does.

use super::auth;
use crate::fair::holds::{Key, Kind};
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use serde::Deserialize;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

#[derive(Deserialize)]
pub struct After {
    #[serde(default)]
    after: u64,
}

pub async fn stream(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    after: Result<Query<After>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let signed = match auth::require(&state, &headers).await {
        Ok(s) => s,
        Err(d) => return d.into_response(),
    };
    let seen = after.map_or(0, |Query(a)| a.after);
    let Some(hold) = state.holds.open(
        Kind::Live,
        signed.token.id,
        Key::Session(signed.secret().to_owned()),
    ) else {
        return busy();
    };
    let watcher = state.watcher(signed.token.project.id);
    let hold = Arc::new(hold);
    let changes = stream::unfold(
        (watcher, seen, state, hold),
        |(mut watcher, seen, state, hold)| async move {
            loop {
                let latest = *watcher.borrow_and_update();
                if latest > seen {
                    let event = Event::default().event("change").data(latest.to_string());
                    return Some((Ok::<_, Infallible>(event), (watcher, latest, state, hold)));
                }
                tokio::select! {
                    changed = watcher.changed() => {
                        if changed.is_err() {
                            return None;
                        }
                    }
                    // The server is stopping: end the stream (the page reconnects later).
                    _ = state.stopped() => return None,
                    // Signed out, revoked, expired, or a newer stream took its share.
                    _ = hold.ended() => return None,
                }
            }
        },
    );
    Sse::new(changes)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

/// The server holds all the live streams it may: the page's script tries again later.
fn busy() -> Response {
    (
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        [(axum::http::header::RETRY_AFTER, "5")],
        "the server has as many live pages open as it holds; this page updates when reloaded",
    )
        .into_response()
}

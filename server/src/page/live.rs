//! Live updates: `GET /live?after=SEQ` is a stream of server-sent events; each `change` says
//! the project's record has events after the page's (its data is the newest sequence
//! number), and the page's script fetches the fresh `<main>`. A new event wakes every open
//! page at once (the same wake-up as the API's long polls).

use super::auth;
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
    let watcher = state.watcher(signed.token.project.id);
    let changes = stream::unfold(
        (watcher, seen, state),
        |(mut watcher, seen, state)| async move {
            loop {
                let latest = *watcher.borrow_and_update();
                if latest > seen {
                    let event = Event::default().event("change").data(latest.to_string());
                    return Some((Ok::<_, Infallible>(event), (watcher, latest, state)));
                }
                tokio::select! {
                    changed = watcher.changed() => {
                        if changed.is_err() {
                            return None;
                        }
                    }
                    // The server is stopping: end the stream (the page reconnects later).
                    _ = state.stopped() => return None,
                }
            }
        },
    );
    Sse::new(changes)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

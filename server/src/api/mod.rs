//! The HTTP API, versioned under `/api/v1`, JSON, bearer tokens. One file per area:
//!
//! - `GET  /api/v1/health` (the database answers) and `GET /api/v1/ready` (`503` once the
//!   server has begun to stop)
//! - [`me`]: `GET /api/v1/me`: who the token speaks for
//! - [`events`]: `POST /api/v1/events` (push `{"events":[...]}`; idempotent by event id, each
//!   event judged on its own) and `GET /api/v1/events?after=SEQ&limit=N&wait=SECONDS` (pull,
//!   with a long poll)
//! - [`export`]: `GET /api/v1/export?format=F...`: the decision log
//! - [`clips`]: `PUT`/`GET /api/v1/clips/<hash>`: audio clips by content hash
//! - [`versions`]: `GET /api/v1/versions/<hash>/chunks`, `PUT
//!   /api/v1/versions/<hash>/chunks/<index>`, `GET /api/v1/versions/<hash>`: printed
//!   versions by content hash, uploaded in resumable chunks
//!
//! Uploads (clips and chunks) are let in one way ([`upload`]) and audio is served one way
//! ([`audio`]).
//!
//! An error is a 4xx/5xx with `{"error":{"code":"...","message":"..."}}` and stores nothing
//! from that request. A push is judged event by event: the answer lists what became of each
//! (`stored`, `duplicate`, `conflict`, or `refused` with its error), the events that pass
//! are stored, and the status is that of the first problem (200 when there is none).

mod audio;
mod clips;
mod events;
mod export;
mod me;
pub mod tokens;
mod upload;
mod versions;

pub use clips::serve_clip;
pub use events::{fuzz_push_body, judge_body, Checked, EntryRefusal};
pub use export::{export_for, ExportQuery};
pub use versions::serve_version;

use crate::fair::connections::Peer;
pub use crate::state::AppState;
use crate::store::TokenInfo;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use std::sync::Arc;

pub use liner_record::limits::{MAX_NAME_CHARS, MAX_TEXT_CHARS};

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 4 << 20;
/// Most events in one push.
pub const MAX_BATCH: usize = 1000;
/// Most events in one pull answer.
pub const MAX_PULL: usize = 1000;
/// Largest pull answer in bytes (a page past it is cut short, with `"more":true`).
pub const MAX_PULL_BYTES: usize = 4 << 20;
/// The longest long poll (`wait` of a pull), in seconds.
pub const MAX_WAIT_SECONDS: u64 = 30;

/// An API error: status, stable code, words a person can act on.
#[derive(Debug)]
pub struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) code: &'static str,
    pub(crate) message: String,
    /// Seconds for `Retry-After` (a 503 or 429 without one says 2).
    pub(crate) retry_after: Option<u64>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// Tells the client to come back after `wait` (at least a second).
    pub(crate) fn retry_after(mut self, wait: std::time::Duration) -> Self {
        self.retry_after = Some(wait.as_secs().max(1) + u64::from(wait.subsec_nanos() > 0));
        self
    }

    /// A query string that does not parse, with the form it should take.
    pub(crate) fn bad_query(usage: &str, e: impl std::fmt::Display) -> Self {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_query",
            format!("use {usage}: {e}"),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (
            self.status,
            Json(json!({ "error": { "code": self.code, "message": self.message } })),
        )
            .into_response();
        if self.status == StatusCode::SERVICE_UNAVAILABLE
            || self.status == StatusCode::TOO_MANY_REQUESTS
        {
            let seconds = self.retry_after.unwrap_or(2);
            r.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
        }
        r
    }
}

pub(crate) fn internal(e: impl std::fmt::Display) -> ApiError {
    tracing::error!("internal error: {e}");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "the server could not complete the request; try again",
    )
}

/// Runs a store call on a blocking thread (its time counted in [`crate::metrics`]).
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, crate::store::StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(move || {
        let started = std::time::Instant::now();
        let answer = f();
        crate::metrics::database_call(started.elapsed());
        answer
    })
    .await
    .map_err(internal)?
    .map_err(internal)
}

/// [`authenticate`] for a request that writes: a viewer's token is refused (`403 viewer`).
pub(crate) async fn authenticate_writer(
    state: &AppState,
    headers: &HeaderMap,
    peer: Peer,
) -> Result<TokenInfo, ApiError> {
    let token = authenticate(state, headers, peer).await?;
    if token.role == liner_record::Role::Viewer {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "viewer",
            "a viewer token can read but not write",
        ));
    }
    Ok(token)
}

/// The secret of the request's `Authorization: Bearer` header.
pub(crate) fn bearer(headers: &HeaderMap) -> Result<String, ApiError> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "missing_token",
                "no token: send `Authorization: Bearer <token>`",
            )
        })
}

/// The token of the request's bearer header. A client address that sent wrong tokens waits
/// its turn first ([`crate::fair::guesses`]), and a wrong one counts against it.
pub(crate) async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    peer: Peer,
) -> Result<TokenInfo, ApiError> {
    let secret = bearer(headers)?;
    state.guesses.turn(peer.0).await.map_err(|wait| {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_wrong_tokens",
            "too many wrong tokens came from your address; wait, then try again",
        )
        .retry_after(wait)
    })?;
    let key = tokens::key_of(&secret);
    let asked = std::time::Instant::now();
    let found = match state.tokens.fresh(&key, asked) {
        Some(token) => Some(token),
        None => {
            let store = state.store.clone();
            let found = blocking(move || store.authenticate(&secret)).await?;
            if let Some(token) = &found {
                state.tokens.verified(key, token.clone(), asked);
            }
            found
        }
    };
    if let Some(token) = &found {
        // The request's log line names the token by its id (never by its secret).
        tracing::Span::current().record("token", token.id);
    }
    found.ok_or_else(|| {
        state.guesses.missed(peer.0);
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad_token",
            "this token is not valid (wrong, or revoked); ask for a new one",
        )
    })
}

/// `GET /api/v1/health`: the server answers and so does its database (one small query);
/// `503` with the reason when the database does not.
async fn health(axum::extract::State(state): axum::extract::State<Arc<AppState>>) -> Response {
    let store = state.store.clone();
    match blocking(move || store.project("")).await {
        Ok(_) => Json(json!({ "ok": true })).into_response(),
        Err(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "database",
            "the server runs but its database does not answer",
        )
        .into_response(),
    }
}

/// `GET /api/v1/ready`: whether to send this server work: `503` once it has begun to stop
/// (a load balancer takes it out while requests in flight finish).
async fn ready(axum::extract::State(state): axum::extract::State<Arc<AppState>>) -> Response {
    if state.is_stopping() {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "stopping",
            "the server is stopping",
        )
        .into_response()
    } else {
        Json(json!({ "ready": true })).into_response()
    }
}

pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/api/v1/health", get(health))
        .route("/api/v1/ready", get(ready))
        .route("/api/v1/me", get(me::me))
        .route("/api/v1/events", get(events::pull).post(events::push))
        .route("/api/v1/export", get(export::export))
        .route("/api/v1/versions/{hash}", get(versions::get))
        .route("/api/v1/versions/{hash}/chunks", get(versions::chunks))
        // A chunk is at most 1 MiB: the usual body time limit.
        .route(
            "/api/v1/versions/{hash}/chunks/{index}",
            axum::routing::put(versions::put_chunk),
        )
        .layer(crate::serve::body_timeout(crate::serve::BODY_TIMEOUT))
        // Added after the layer above, so a clip's bytes get the longer limit only.
        .route("/api/v1/clips/{hash}", get(clips::get).put(clips::put))
        .layer(crate::serve::body_timeout(crate::serve::CLIP_BODY_TIMEOUT))
        .with_state(state)
}

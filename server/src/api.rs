//! The HTTP API, versioned under `/api/v1`, JSON, bearer tokens.
//!
//! - `GET  /api/v1/health`
//! - `POST /api/v1/events`: push `{"events":[...]}`; idempotent by event id
//! - `GET  /api/v1/events?after=SEQ&limit=N&wait=SECONDS`: pull, with a long poll
//!
//! Every error is a 4xx/5xx with `{"error":{"code":"...","message":"..."}}` and stores
//! nothing from that request (a conflict is the one exception: the rest of its batch is
//! stored, and the answer lists what happened to each event).

use crate::store::{Project, PushOutcome, Store, TokenInfo};
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use liner_record::event::{Body as EventBody, Event};
use liner_record::Role;
use serde::Deserialize;
use serde_json::json;
use serde_json::value::RawValue;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use uuid::Uuid;

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 4 << 20;
/// Most events in one push.
pub const MAX_BATCH: usize = 1000;
/// Longest text field (note text, comments, reasons), in characters.
pub const MAX_TEXT_CHARS: usize = 10_000;
/// Longest name field (project, song, track, author, processor, kind), in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Most events in one pull answer, and the longest long poll.
pub const MAX_PULL: usize = 1000;
pub const MAX_WAIT_SECONDS: u64 = 30;

pub struct AppState {
    pub store: Arc<dyn Store>,
    /// Latest sequence number per project id, for long polls.
    latest: Mutex<HashMap<i64, watch::Sender<u64>>>,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>) -> Arc<Self> {
        Arc::new(AppState {
            store,
            latest: Mutex::new(HashMap::new()),
        })
    }

    fn watcher(&self, project: i64) -> watch::Receiver<u64> {
        let mut map = self.latest.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(project)
            .or_insert_with(|| watch::channel(0).0)
            .subscribe()
    }

    fn announce(&self, project: i64, seq: u64) {
        let mut map = self.latest.lock().unwrap_or_else(|e| e.into_inner());
        let tx = map.entry(project).or_insert_with(|| watch::channel(0).0);
        tx.send_if_modified(|v| {
            let newer = seq > *v;
            if newer {
                *v = seq;
            }
            newer
        });
    }
}

/// An API error: status, stable code, words a person can act on.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    /// A query string that does not parse, with the form it should take.
    fn bad_query(usage: &str, e: impl std::fmt::Display) -> Self {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_query",
            format!("use {usage}: {e}"),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({ "error": { "code": self.code, "message": self.message } })),
        )
            .into_response()
    }
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    tracing::error!("internal error: {e}");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "the server could not complete the request; try again",
    )
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, crate::store::StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(internal)?
        .map_err(internal)
}

async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<TokenInfo, ApiError> {
    let secret = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "missing_token",
                "no token: send `Authorization: Bearer <token>`",
            )
        })?
        .to_owned();
    let store = state.store.clone();
    blocking(move || store.authenticate(&secret))
        .await?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "bad_token",
                "this token is not valid (wrong, or revoked); ask for a new one",
            )
        })
}

pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route(
            "/api/v1/health",
            get(|| async { Json(json!({ "ok": true })) }),
        )
        .route("/api/v1/events", get(pull).post(push))
        .route("/api/v1/export", get(export))
        .with_state(state)
}

fn check_len(what: &str, value: &str, max: usize) -> Result<(), ApiError> {
    if value.chars().count() > max {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "too_long",
            format!("{what} is longer than {max} characters"),
        ));
    }
    Ok(())
}

/// Checks one event against the token: its project, its role, the role rules, the limits.
fn validate(e: &Event, token: &TokenInfo, index: usize) -> Result<(), ApiError> {
    let at = |m: String| format!("event {index} ({}): {m}", e.id);
    if e.project != token.project.name {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "wrong_project",
            at(format!(
                "it belongs to project {:?}, but this token is for {:?}",
                e.project, token.project.name
            )),
        ));
    }
    if e.role != token.role {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "wrong_role",
            at(format!(
                "it claims the role {}, but this token's role is {}",
                e.role, token.role
            )),
        ));
    }
    let executive_only = matches!(
        e.body,
        EventBody::Verdict { .. }
            | EventBody::TracklistOrder { .. }
            | EventBody::SongSelection { .. }
    );
    if executive_only && token.role != Role::Executive {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "executive_only",
            at(format!(
                "only the executive role can record {}",
                e.body.kind().replace('_', " ")
            )),
        ));
    }
    for (what, value) in [
        ("project", &e.project),
        ("song", &e.song),
        ("track", &e.track),
        ("author", &e.author),
    ] {
        check_len(&at(what.into()), value, MAX_NAME_CHARS)?;
    }
    check_len(&at("kind".into()), e.body.kind(), MAX_NAME_CHARS)?;
    match &e.body {
        EventBody::NoteAdded(n) => check_len(&at("text".into()), &n.text, MAX_TEXT_CHARS)?,
        EventBody::NoteEdited(n) => check_len(
            &at("text".into()),
            n.text.as_deref().unwrap_or(""),
            MAX_TEXT_CHARS,
        )?,
        EventBody::Verdict { comment, .. } => {
            check_len(&at("comment".into()), comment, MAX_TEXT_CHARS)?
        }
        EventBody::EqDecision(d) | EventBody::FxDecision(d) => {
            check_len(&at("processor".into()), &d.processor, MAX_NAME_CHARS)?;
            check_len(&at("reason".into()), &d.reason, MAX_TEXT_CHARS)?;
        }
        EventBody::TakeRated { note, .. } => check_len(
            &at("note".into()),
            note.as_deref().unwrap_or(""),
            MAX_TEXT_CHARS,
        )?,
        EventBody::Unknown { body, .. } => {
            check_len(&at("body".into()), body.get(), MAX_TEXT_CHARS * 4)?
        }
        _ => {}
    }
    Ok(())
}

#[derive(Deserialize)]
struct PushBody<'a> {
    #[serde(borrow)]
    events: Vec<&'a RawValue>,
}

async fn push(
    State(state): State<Arc<AppState>>,
    req: Request<Body>,
) -> Result<Response, ApiError> {
    let token = authenticate(&state, req.headers()).await?;
    if token.role == Role::Viewer {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "viewer",
            "a viewer token can read but not write",
        ));
    }
    let bytes = axum::body::to_bytes(req.into_body(), MAX_BODY_BYTES)
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!(
                    "the request body is larger than {MAX_BODY_BYTES} bytes; send smaller batches"
                ),
            )
        })?;
    let body: PushBody = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_json",
            format!("the body is not {{\"events\":[...]}}: {e}"),
        )
    })?;
    if body.events.len() > MAX_BATCH {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "batch_too_long",
            format!(
                "{} events in one push; the limit is {MAX_BATCH}",
                body.events.len()
            ),
        ));
    }
    let mut batch: Vec<(Uuid, String)> = Vec::with_capacity(body.events.len());
    for (i, raw) in body.events.iter().enumerate() {
        let event: Event = serde_json::from_str(raw.get()).map_err(|e| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "bad_event",
                format!("event {i} is not a valid event: {e}"),
            )
        })?;
        validate(&event, &token, i)?;
        batch.push((event.id, raw.get().to_owned()));
    }
    let store = state.store.clone();
    let project = token.project.clone();
    let outcomes = {
        let (project, batch) = (project.clone(), batch.clone());
        blocking(move || store.push(&project, &batch)).await?
    };
    let mut conflict = false;
    let mut max_seq = 0;
    let results: Vec<serde_json::Value> = batch
        .iter()
        .zip(&outcomes)
        .map(|((id, _), o)| match o {
            PushOutcome::Stored(seq) => {
                max_seq = max_seq.max(*seq);
                json!({ "id": id, "status": "stored", "seq": seq })
            }
            PushOutcome::Duplicate(seq) => json!({ "id": id, "status": "duplicate", "seq": seq }),
            PushOutcome::Conflict => {
                conflict = true;
                json!({
                    "id": id,
                    "status": "conflict",
                    "message": "an event with this id and other content is already stored; it was not changed"
                })
            }
        })
        .collect();
    if max_seq > 0 {
        state.announce(project.id, max_seq);
    }
    let status = if conflict {
        StatusCode::CONFLICT
    } else {
        StatusCode::OK
    };
    tracing::info!(project = %project.name, token = token.id, events = batch.len(), conflict, "push");
    Ok((status, Json(json!({ "results": results }))).into_response())
}

#[derive(Deserialize)]
struct ExportQuery {
    format: String,
    song: Option<String>,
    session: Option<Uuid>,
    since: Option<String>,
    until: Option<String>,
    author: Option<String>,
}

/// `GET /api/v1/export?format=F[&song=S][&session=ID][&since=DATE][&until=DATE][&author=A]`:
/// the project's decision log in any export format (private notes never reach the server).
/// The number of entries a marker format left out is in `X-Liner-Left-Out`.
async fn export(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    query: Result<Query<ExportQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    use liner_record::export::{export, parse_date, Format, Scope};
    let token = authenticate(&state, &headers).await?;
    let Query(q) = query.map_err(|e| {
        ApiError::bad_query(
            "?format=F[&song=S][&session=ID][&since=DATE][&until=DATE]",
            e,
        )
    })?;
    let format = Format::from_name(&q.format).ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_format",
            "format must be markdown, html, csv, json, reaper, audacity or midi",
        )
    })?;
    let date = |d: &Option<String>| -> Result<Option<i64>, ApiError> {
        d.as_deref()
            .map(|t| {
                parse_date(t).ok_or_else(|| {
                    ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "bad_date",
                        format!("{t:?} is not a date like 2026-11-27"),
                    )
                })
            })
            .transpose()
    };
    let scope = Scope {
        song: q.song.clone(),
        session: q.session,
        since_ms: date(&q.since)?,
        until_ms: date(&q.until)?,
        author: q.author.clone(),
        include_private: false,
    };
    let store = state.store.clone();
    let project = token.project.clone();
    let out = blocking(move || Ok(export(&store.events(&project)?, &scope, format))).await?;
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, format.content_type().to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"decision-log.{}\"",
                    format.extension()
                ),
            ),
            (
                header::HeaderName::from_static("x-liner-left-out"),
                out.left_out.to_string(),
            ),
        ],
        out.bytes,
    )
        .into_response())
}

#[derive(Deserialize)]
struct PullQuery {
    #[serde(default)]
    after: u64,
    limit: Option<usize>,
    #[serde(default)]
    wait: u64,
}

async fn pull(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    query: Result<Query<PullQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let token = authenticate(&state, &headers).await?;
    let Query(q) = query.map_err(|e| ApiError::bad_query("?after=SEQ&limit=N&wait=SECONDS", e))?;
    let limit = q.limit.unwrap_or(500).clamp(1, MAX_PULL);
    let wait = Duration::from_secs(q.wait.min(MAX_WAIT_SECONDS));
    let project: Project = token.project.clone();
    // Subscribe before reading so an event stored in between still wakes us.
    let mut watcher = state.watcher(project.id);
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let store = state.store.clone();
        let p = project.clone();
        let rows = blocking(move || store.pull(&p, q.after, limit)).await?;
        if !rows.is_empty() || tokio::time::Instant::now() >= deadline {
            let last = rows.last().map_or(q.after, |r| r.0);
            let mut out = String::from("{\"events\":[");
            for (i, (seq, json)) in rows.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&format!("{{\"seq\":{seq},\"event\":{json}}}"));
            }
            out.push_str(&format!("],\"last_seq\":{last}}}"));
            return Ok((
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                out,
            )
                .into_response());
        }
        if tokio::time::timeout_at(deadline, watcher.changed())
            .await
            .is_err()
        {
            // Deadline: answer with what there is (nothing) on the next turn.
            continue;
        }
    }
}

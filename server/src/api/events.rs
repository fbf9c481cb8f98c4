//! Pushing and pulling events.
//!
//! A push is judged event by event, so one bad event never holds up the others: each one
//! must be an event (it is stored as its canonical line, never as sent), of the token's
//! project, signed with the token's person and role, within the limits, not stamped more
//! than a day ahead of the server's clock, of a kind the role may record, and within the
//! ownership and target rules ([`liner_record::rules`]).

use super::{
    authenticate, authenticate_writer, blocking, internal, ApiError, AppState, MAX_BATCH,
    MAX_BODY_BYTES, MAX_PULL, MAX_PULL_BYTES,
};
use crate::fair::connections::Peer;
use crate::fair::holds::{Key, Kind};
use crate::store::{Incoming, Project, PushOutcome, TokenInfo};
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use liner_record::event::Event;
use liner_record::{rules, Role};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::sync::Arc;
use std::time::Duration;

/// Why one event of a push is refused at the door, before storage is asked (the store's own
/// refusals, by the ownership rules, are [`liner_record::rules::Refusal`]).
#[derive(Debug)]
pub struct EntryRefusal {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

fn refuse(status: StatusCode, code: &'static str, message: String) -> EntryRefusal {
    EntryRefusal {
        status,
        code,
        message,
    }
}

/// Checks one event against the token and the clock: project, person and role, the
/// executive's kinds, the time. (The limits are the store's door: [`crate::store::Store::push`].)
fn validate(e: &Event, token: &TokenInfo, now_ms: i64) -> Result<(), EntryRefusal> {
    if e.project != token.project.name {
        return Err(refuse(
            StatusCode::FORBIDDEN,
            "wrong_project",
            format!(
                "it belongs to project {:?}, but this token is for {:?}",
                e.project, token.project.name
            ),
        ));
    }
    if e.author != token.person || e.role != token.role {
        return Err(refuse(
            StatusCode::FORBIDDEN,
            "wrong_author",
            format!(
                "it is signed {:?} ({}), but this token speaks for {:?} ({}); an event \
                 speaks for the person whose token sends it",
                e.author, e.role, token.person, token.role
            ),
        ));
    }
    if token.role == Role::Executive && rules::not_executive(&e.body) {
        return Err(refuse(
            StatusCode::FORBIDDEN,
            "not_for_executive",
            "the executive answers a done with the next verdict; done is said by the one who \
             made the change"
                .to_owned(),
        ));
    }
    if !rules::may_record(token.role, &e.body) {
        return Err(refuse(
            StatusCode::FORBIDDEN,
            "executive_only",
            format!(
                "only the executive role can record {}",
                e.body.kind().replace('_', " ")
            ),
        ));
    }
    if rules::too_far_ahead(e.at, now_ms) {
        return Err(refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "at_in_future",
            format!(
                "it is stamped {} ms after the server's clock; more than a day ahead is \
                 refused (set this computer's clock)",
                e.at.saturating_sub(now_ms)
            ),
        ));
    }
    Ok(())
}

#[derive(Deserialize)]
struct PushBody<'a> {
    #[serde(borrow)]
    events: Vec<&'a RawValue>,
}

/// The id of something that claims to be an event, if it has a readable one.
fn claimed_id(raw: &RawValue) -> Option<uuid::Uuid> {
    #[derive(Deserialize)]
    struct IdOnly {
        id: uuid::Uuid,
    }
    serde_json::from_str::<IdOnly>(raw.get()).ok().map(|i| i.id)
}

/// One pushed event, judged before storage: ready to store, or refused (with its id when
/// it has a readable one).
pub type Checked = Result<Incoming, (Option<uuid::Uuid>, EntryRefusal)>;

/// Reads a push body and judges each event against the token and the clock (everything
/// but ownership and targets, which storage judges in its transaction). Pure: no I/O.
///
/// # Errors
/// A body that is not `{"events":[...]}`, or holds more than [`MAX_BATCH`] events.
pub fn judge_body(bytes: &[u8], token: &TokenInfo, now_ms: i64) -> Result<Vec<Checked>, ApiError> {
    let body: PushBody = serde_json::from_slice(bytes).map_err(|e| {
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
    Ok(body
        .events
        .iter()
        .enumerate()
        .map(|(i, raw)| match Incoming::parse(raw.get()) {
            Err(e) => Err((
                claimed_id(raw),
                refuse(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "bad_event",
                    format!("event {i} is not a valid event: {e}"),
                ),
            )),
            Ok(incoming) => match validate(&incoming.event, token, now_ms) {
                Ok(()) => Ok(incoming),
                Err(r) => Err((Some(incoming.event.id), r)),
            },
        })
        .collect())
}

/// Entry point for the fuzzer (`fuzz/`) and its regression tests: any bytes as a push body
/// from a producer's token, judged without a panic.
#[doc(hidden)]
pub fn fuzz_push_body(bytes: &[u8]) {
    let token = TokenInfo {
        id: 1,
        project: Project {
            id: 1,
            name: "P".into(),
        },
        person: "Sam".into(),
        role: Role::Producer,
        revoked: false,
        created_ms: 0,
    };
    if let Ok(checked) = judge_body(bytes, &token, 1_764_000_000_000) {
        for c in checked.into_iter().flatten() {
            // What passes is stored as its canonical line: it must read back as itself.
            let again = Incoming::parse(&c.json).expect("a canonical line reads back");
            assert_eq!(again.json, c.json, "canonical lines are stable");
        }
    }
}

pub(super) async fn push(
    State(state): State<Arc<AppState>>,
    req: Request<Body>,
) -> Result<Response, ApiError> {
    let peer = Peer::of(req.extensions());
    let token = authenticate_writer(&state, req.headers(), peer).await?;
    let bytes = push_body(req.into_body()).await?;
    let checked = judge_body(&bytes, &token, liner_record::event::now_ms())?;
    // The events to store move to the store; each refused one keeps its place in the answer.
    let mut valid: Vec<Incoming> = Vec::with_capacity(checked.len());
    let places: Vec<Result<uuid::Uuid, (Option<uuid::Uuid>, EntryRefusal)>> = checked
        .into_iter()
        .map(|c| {
            c.map(|incoming| {
                let id = incoming.event.id;
                valid.push(incoming);
                id
            })
        })
        .collect();
    let project = token.project.clone();
    let token_id = token.id;
    let started = std::time::Instant::now();
    let answer = state
        .store
        .push_queued(&project, Some(token_id), valid)
        .answer()
        .await;
    crate::metrics::database_call(started.elapsed());
    let mut outcomes = answer.map_err(internal)?.into_iter();

    let mut first_problem: Option<StatusCode> = None;
    let mut max_seq = 0;
    let (mut stored, mut duplicates, mut conflicts) = (0, 0, 0);
    let mut refused: Vec<&'static str> = Vec::new();
    let mut problem = |status: StatusCode| {
        first_problem.get_or_insert(status);
    };
    let results: Vec<PushResult> = places
        .into_iter()
        .map(|place| match place {
            Err((id, r)) => {
                refused.push(r.code);
                problem(r.status);
                PushResult::failed(id, "refused", r.code, r.message)
            }
            Ok(id) => match outcomes.next().expect("one outcome per stored event") {
                PushOutcome::Stored(seq) => {
                    stored += 1;
                    max_seq = max_seq.max(seq);
                    PushResult::kept(id, "stored", seq)
                }
                PushOutcome::Duplicate(seq) => {
                    duplicates += 1;
                    PushResult::kept(id, "duplicate", seq)
                }
                PushOutcome::Conflict => {
                    conflicts += 1;
                    problem(StatusCode::CONFLICT);
                    PushResult::failed(
                        Some(id),
                        "conflict",
                        "conflict",
                        "an event with this id and other content is already stored; it was \
                         not changed"
                            .into(),
                    )
                }
                PushOutcome::Refused { code, message } => {
                    refused.push(code);
                    problem(if code == "not_yours" {
                        StatusCode::FORBIDDEN
                    } else {
                        StatusCode::UNPROCESSABLE_ENTITY
                    });
                    PushResult::failed(Some(id), "refused", code, message)
                }
            },
        })
        .collect();
    state.metrics.events("stored", "", stored);
    state.metrics.events("duplicate", "", duplicates);
    state.metrics.events("conflict", "", conflicts);
    for code in refused {
        state.metrics.events("refused", code, 1);
    }
    if max_seq > 0 {
        state.announce(project.id, max_seq);
    }
    let status = first_problem.unwrap_or(StatusCode::OK);
    state.metrics.pushes.inc();
    tracing::debug!(project = %project.name, token = token.id, events = results.len(),
        status = status.as_u16(), "push");
    Ok((status, Json(PushAnswer { results })).into_response())
}

/// A push's answer: one result per event sent, in the order sent.
#[derive(Serialize)]
struct PushAnswer {
    results: Vec<PushResult>,
}

/// What became of one pushed event: `stored` or `duplicate` (with its number), `conflict`
/// or `refused` (with why). A refused event without a readable id has `"id": null`.
#[derive(Serialize)]
struct PushResult {
    id: Option<uuid::Uuid>,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    seq: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<PushError>,
}

#[derive(Serialize)]
struct PushError {
    code: &'static str,
    message: String,
}

impl PushResult {
    fn kept(id: uuid::Uuid, status: &'static str, seq: u64) -> PushResult {
        PushResult {
            id: Some(id),
            status,
            seq: Some(seq),
            error: None,
        }
    }

    /// `conflict` or `refused`, with why.
    fn failed(
        id: Option<uuid::Uuid>,
        status: &'static str,
        code: &'static str,
        message: String,
    ) -> PushResult {
        PushResult {
            id,
            status,
            seq: None,
            error: Some(PushError { code, message }),
        }
    }
}

/// A push's body: at most [`MAX_BODY_BYTES`] (`413` past it; `408` for one that broke off or
/// fell below the floor rate).
async fn push_body(body: Body) -> Result<axum::body::Bytes, ApiError> {
    axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|e| {
            let too_large = std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
            if too_large {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "body_too_large",
                    format!(
                        "the request body is larger than {MAX_BODY_BYTES} bytes; send smaller \
                         batches"
                    ),
                )
            } else {
                ApiError::new(
                    StatusCode::REQUEST_TIMEOUT,
                    "body_incomplete",
                    format!(
                        "the request body did not arrive whole or in time ({e}); send it again"
                    ),
                )
            }
        })
}

/// A pull's answer: the events (as stored, one canonical line each) up to
/// [`MAX_PULL_BYTES`] (always at least one), the last sequence number, and `"more":true` when
/// the page was cut short by its size (the client asks again at once).
fn page_of(rows: &[(u64, String)], after: u64) -> Response {
    let mut out = String::from("{\"events\":[");
    let mut last = after;
    let mut taken = 0;
    for (seq, json) in rows {
        if taken > 0 && out.len() + json.len() > MAX_PULL_BYTES {
            break;
        }
        if taken > 0 {
            out.push(',');
        }
        out.push_str(&format!("{{\"seq\":{seq},\"event\":{json}}}"));
        last = *seq;
        taken += 1;
    }
    let more = taken < rows.len();
    out.push_str(&format!("],\"last_seq\":{last},\"more\":{more}}}"));
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        out,
    )
        .into_response()
}

#[derive(Deserialize)]
pub(super) struct PullQuery {
    #[serde(default)]
    after: u64,
    limit: Option<usize>,
    #[serde(default)]
    wait: u64,
}

pub(super) async fn pull(
    State(state): State<Arc<AppState>>,
    peer: Peer,
    headers: HeaderMap,
    query: Result<Query<PullQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let token = authenticate(&state, &headers, peer).await?;
    let Query(q) = query.map_err(|e| ApiError::bad_query("?after=SEQ&limit=N&wait=SECONDS", e))?;
    // Sequence numbers are SQLite integers: a larger `after` would wrap and return everything.
    if q.after > i64::MAX as u64 {
        return Err(ApiError::bad_query(
            "?after=SEQ&limit=N&wait=SECONDS",
            format!("after={} is past any sequence number", q.after),
        ));
    }
    let limit = q.limit.unwrap_or(500).clamp(1, MAX_PULL);
    let wait = Duration::from_secs(q.wait.min(super::MAX_WAIT_SECONDS));
    state.metrics.pull(!wait.is_zero());
    let project: Project = token.project.clone();
    // A wait holds the connection: it takes a share ([`crate::fair::holds`]).
    let hold = if wait.is_zero() {
        None
    } else {
        let key = Key::Bearer(super::bearer(&headers)?);
        Some(
            state
                .holds
                .open(Kind::LongPoll, token.id, key)
                .ok_or_else(|| {
                    ApiError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "busy",
                        "the server holds as many long polls as it may; ask again in a moment",
                    )
                })?,
        )
    };
    let ended = async {
        match &hold {
            Some(h) => h.ended().await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(ended);
    // Subscribe before reading so an event stored in between still wakes us.
    let mut watcher = state.watcher(project.id);
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let store = state.store.clone();
        let p = project.clone();
        let rows = blocking(move || store.pull(&p, q.after, limit)).await?;
        if !rows.is_empty() || tokio::time::Instant::now() >= deadline {
            return Ok(page_of(&rows, q.after));
        }
        tokio::select! {
            // News, or the deadline: either way, answer with what there is on the next turn.
            _ = tokio::time::timeout_at(deadline, watcher.changed()) => {}
            // The server is stopping, the token was revoked or a newer poll took the share:
            // answer now with what there is (none: the client asks again, and a revoked
            // token hears 401).
            _ = state.stopped() => return Ok(page_of(&[], q.after)),
            _ = &mut ended => return Ok(page_of(&[], q.after)),
        }
    }
}

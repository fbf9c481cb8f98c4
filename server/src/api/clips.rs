//! Audio clips by content hash ([`liner_record::clips`]):
//!
//! - `PUT /api/v1/clips/<hash>`: the clip's bytes, after the `clip_attached` event naming
//!   them was pushed, with its `Content-Length`. Any role that writes events may send them.
//!   Before a byte of the body is read the server checks that an event of the project names
//!   the hash, that the declared length is the size the event gives, and the project's clip
//!   quota; then the upload takes a slot ([`crate::fair::uploads`]: `503` with `Retry-After`
//!   when its share is full) and the body is read under a floor rate, and its SHA-256 must
//!   be the hash. Idempotent: `201` stored, `200` already there.
//! - `GET /api/v1/clips/<hash>`: the bytes, to readers of that project only (`404` for
//!   anything else, so another project's hashes stay unknown). Single byte ranges are
//!   served, as audio players ask for them.
//!
//! The review page serves the same bytes at `/clips/<hash>` to a signed-in session
//! ([`serve_clip`]).

use super::{authenticate, authenticate_writer, blocking, ApiError, AppState};
use crate::fair::connections::Peer;
use crate::fair::uploads::{read_body, BodyError};
use crate::store::{ClipPut, Project};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use liner_record::clips::{ClipFormat, ClipHash, MAX_CLIP_BYTES};
use serde_json::json;
use std::sync::Arc;

/// How much of a clip is handed to the connection at a time.
const SEND_PIECE: usize = 64 * 1024;

fn parse_hash(text: &str) -> Result<ClipHash, ApiError> {
    // `<hash>` or `<hash>.flac`, as links name files.
    let bare = text
        .strip_suffix(&format!(".{}", ClipFormat::Flac.extension()))
        .unwrap_or(text);
    bare.parse()
        .map_err(|e: String| ApiError::new(StatusCode::BAD_REQUEST, "bad_hash", e))
}

/// A turn to hold a clip being served in memory ([`AppState::clips_in_memory`]), kept by
/// the answer's body until it is sent.
async fn in_memory(state: &AppState) -> Result<tokio::sync::OwnedSemaphorePermit, ApiError> {
    state
        .clips_in_memory
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "stopping",
                "the server is stopping",
            )
        })
}

/// The body length a clip upload declares (`Content-Length`), within [`MAX_CLIP_BYTES`].
fn declared_length(headers: &HeaderMap) -> Result<u64, ApiError> {
    let len = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::LENGTH_REQUIRED,
                "length_required",
                "send the clip with a Content-Length (its size in bytes), so it can be judged \
                 before it is read",
            )
        })?;
    if len > MAX_CLIP_BYTES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("a clip is at most {MAX_CLIP_BYTES} bytes"),
        ));
    }
    Ok(len)
}

/// `PUT /api/v1/clips/<hash>`: judged on what the project's events name, the declared
/// length and the quota before it takes an upload slot ([`crate::fair::uploads`]) or its
/// body is read; then read under the floor rate, checked against its hash, stored.
pub async fn put(
    State(state): State<Arc<AppState>>,
    Path(hash): Path<String>,
    req: Request<Body>,
) -> Result<Response, ApiError> {
    let peer = Peer::of(req.extensions());
    let token = authenticate_writer(&state, req.headers(), peer).await?;
    let hash = parse_hash(&hash)?;
    let declared = declared_length(req.headers())?;
    let (store, project, quota) = (state.store.clone(), token.project.clone(), state.clip_quota);
    let judged = {
        let hash = hash.clone();
        blocking(move || store.judge_clip(&project, &hash, declared, quota)).await?
    };
    match judged {
        // A retry of a clip the server has: its bytes are counted and dropped (no slot, no
        // memory), so the client reads the answer rather than a broken connection.
        Some(ClipPut::AlreadyStored) => {
            read_body(req.into_body(), declared, true)
                .await
                .map_err(body_error)?;
            return answer(ClipPut::AlreadyStored);
        }
        // Refused without reading a byte; the connection closes after the answer.
        Some(refusal) => {
            let mut r = answer(refusal).into_response();
            r.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            return Ok(r);
        }
        None => {}
    }
    let _slot = state
        .uploads
        .take(token.project.id, token.id)
        .map_err(|full| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "uploads_busy",
                format!("{}; try again in a moment", full.words()),
            )
        })?;
    let bytes = read_body(req.into_body(), declared, false)
        .await
        .map_err(body_error)?;
    if ClipHash::of(&bytes) != hash {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "hash_mismatch",
            "the body's SHA-256 is not the hash in the address; the clip was damaged on the way",
        ));
    }
    let (store, project) = (state.store.clone(), token.project.clone());
    let put =
        blocking(move || store.put_clip(&project, Some(token.id), &hash, &bytes, quota)).await?;
    answer(put)
}

fn body_error(e: BodyError) -> ApiError {
    match e {
        BodyError::TooSlow { received, after } => ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "too_slow",
            format!(
                "the clip arrived too slowly ({received} bytes in {:.0} s); send it again \
                 over a faster connection",
                after.as_secs_f64()
            ),
        ),
        BodyError::TooLong => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            "more bytes came than the Content-Length said",
        ),
        BodyError::Broken(why) => ApiError::new(
            StatusCode::BAD_REQUEST,
            "broken_body",
            format!("the clip did not arrive whole ({why}); send it again"),
        ),
    }
}

/// The answer to a clip upload.
fn answer(put: ClipPut) -> Result<Response, ApiError> {
    match put {
        ClipPut::Stored => {
            Ok((StatusCode::CREATED, Json(json!({ "stored": true }))).into_response())
        }
        ClipPut::AlreadyStored => Ok(Json(json!({ "stored": false })).into_response()),
        ClipPut::Unknown => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_clip",
            "no clip_attached event of this project names this clip; push the event first",
        )),
        ClipPut::WrongSize { expected } => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "wrong_size",
            format!("the clip's event says it is {expected} bytes"),
        )),
        ClipPut::OverQuota { used, quota } => Err(ApiError::new(
            StatusCode::INSUFFICIENT_STORAGE,
            "over_quota",
            format!(
                "the project's clips use {} of the server's {} MB; ask whoever runs the server \
                 for more room (the notes themselves are all stored)",
                used / 1_000_000,
                quota / 1_000_000
            ),
        )),
    }
}

pub async fn get(
    State(state): State<Arc<AppState>>,
    Path(hash): Path<String>,
    peer: Peer,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let token = authenticate(&state, &headers, peer).await?;
    serve_clip(&state, &token.project, &hash, &headers).await
}

/// A clip of `project` as an HTTP answer (a whole `200`, or the one range asked for).
///
/// # Errors
/// 404 for a clip the project does not have, 500 when the database fails. (A range this
/// cannot serve, several ranges or one outside the clip, gets the whole clip.)
pub async fn serve_clip(
    state: &AppState,
    project: &Project,
    hash: &str,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let hash = parse_hash(hash)?;
    let turn = in_memory(state).await?;
    let (store, project) = (state.store.clone(), project.clone());
    let bytes = blocking(move || store.clip(&project, &hash))
        .await?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "no_clip",
                "this project has no such clip (yet: it goes up after its note)",
            )
        })?;
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| byte_range(r, bytes.len() as u64));
    let total = bytes.len() as u64;
    let bytes = axum::body::Bytes::from(bytes);
    let (status, body, content_range) = match range {
        Some((start, end)) => (
            StatusCode::PARTIAL_CONTENT,
            bytes.slice(start as usize..=end as usize),
            Some(format!("bytes {start}-{end}/{total}")),
        ),
        None => (StatusCode::OK, bytes, None),
    };
    // Handed to the connection a piece at a time, so the body (and with it the turn) lasts
    // until the last piece is taken: the bytes are in memory that long.
    let pieces: Vec<axum::body::Bytes> = (0..body.len())
        .step_by(SEND_PIECE)
        .map(|at| body.slice(at..(at + SEND_PIECE).min(body.len())))
        .collect();
    let stream =
        futures_util::stream::iter(pieces.into_iter().map(Ok::<_, std::convert::Infallible>));
    let mut r = (status, Body::from_stream(stream)).into_response();
    let r_body = std::mem::take(r.body_mut());
    *r.body_mut() = crate::serve::keeping(r_body, turn);
    r.headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(ClipFormat::Flac.mime()),
    );
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    // Not kept by the browser: a shared computer's next person must sign in to hear it.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    if let Some(cr) = content_range.and_then(|c| HeaderValue::from_str(&c).ok()) {
        h.insert(header::CONTENT_RANGE, cr);
    }
    Ok(r)
}

/// The inclusive byte range of a `Range: bytes=a-b` / `bytes=a-` / `bytes=-n` header within
/// `len` bytes; None for anything else (several ranges, units other than bytes, out of
/// range), which is answered with the whole clip.
fn byte_range(header: &str, len: u64) -> Option<(u64, u64)> {
    let spec = header.trim().strip_prefix("bytes=")?;
    if spec.contains(',') || len == 0 {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    let (start, end) = if a.is_empty() {
        let n: u64 = b.parse().ok()?;
        (len.saturating_sub(n), len - 1)
    } else {
        let start: u64 = a.parse().ok()?;
        let end = if b.is_empty() {
            len - 1
        } else {
            b.parse::<u64>().ok()?.min(len - 1)
        };
        (start, end)
    };
    (start <= end && start < len).then_some((start, end))
}

#[cfg(test)]
mod tests {
    use super::byte_range;

    #[test]
    fn byte_ranges_are_read_as_players_send_them() {
        assert_eq!(byte_range("bytes=0-", 100), Some((0, 99)));
        assert_eq!(byte_range("bytes=10-19", 100), Some((10, 19)));
        assert_eq!(byte_range("bytes=90-500", 100), Some((90, 99)));
        assert_eq!(byte_range("bytes=-10", 100), Some((90, 99)));
        assert_eq!(byte_range("bytes=100-", 100), None);
        assert_eq!(byte_range("bytes=5-2", 100), None);
        assert_eq!(byte_range("bytes=0-1,5-6", 100), None);
        assert_eq!(byte_range("items=0-1", 100), None);
        assert_eq!(byte_range("bytes=x-1", 100), None);
    }
}

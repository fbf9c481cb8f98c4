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

use super::upload::{admit, declared_length, over_quota, Admitted, Judged};
use super::{audio, authenticate, authenticate_writer, blocking, internal, ApiError, AppState};
use crate::fair::connections::Peer;
use crate::store::{ClipPut, Project};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Request, StatusCode};
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

/// `PUT /api/v1/clips/<hash>`: judged on what the project's events name, the declared
/// length and the quota before it takes an upload slot or its body is read
/// ([`super::upload`]); then checked against its hash and stored.
pub async fn put(
    State(state): State<Arc<AppState>>,
    Path(hash): Path<String>,
    req: Request<Body>,
) -> Result<Response, ApiError> {
    let peer = Peer::of(req.extensions());
    let token = authenticate_writer(&state, req.headers(), peer).await?;
    let hash = parse_hash(&hash)?;
    let declared = declared_length(req.headers(), MAX_CLIP_BYTES, "a clip")?;
    let (store, project, quota) = (state.store.clone(), token.project.clone(), state.clip_quota);
    let judged = {
        let hash = hash.clone();
        match blocking(move || store.judge_clip(&project, &hash, declared, quota)).await? {
            None => Judged::Take,
            Some(ClipPut::AlreadyStored) => Judged::Have,
            Some(refusal) => Judged::Refused(refused(refusal)),
        }
    };
    let bytes = match admit(
        &state,
        &token,
        req.into_body(),
        declared,
        judged,
        "the clip",
    )
    .await?
    {
        Admitted::Read { bytes, _slot } => bytes,
        Admitted::Had => return answer(ClipPut::AlreadyStored),
        Admitted::Answered(r) => return Ok(r),
    };
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

/// The answer to a clip upload.
fn answer(put: ClipPut) -> Result<Response, ApiError> {
    match put {
        ClipPut::Stored => {
            Ok((StatusCode::CREATED, Json(json!({ "stored": true }))).into_response())
        }
        ClipPut::AlreadyStored => Ok(Json(json!({ "stored": false })).into_response()),
        refusal => Err(refused(refusal)),
    }
}

/// The refusal of a clip upload.
fn refused(put: ClipPut) -> ApiError {
    match put {
        ClipPut::Unknown => ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_clip",
            "no clip_attached event of this project names this clip; push the event first",
        ),
        ClipPut::WrongSize { expected } => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "wrong_size",
            format!("the clip's event says it is {expected} bytes"),
        ),
        ClipPut::OverQuota { used, quota } => over_quota(used, quota),
        ClipPut::Stored | ClipPut::AlreadyStored => internal("a stored clip taken for a refusal"),
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
/// A range reads only its bytes from the store ([`crate::store::Store::clip_range`]).
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
    let no_clip = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "no_clip",
            "this project has no such clip (yet: it goes up after its note)",
        )
    };
    let (store, p, h) = (state.store.clone(), project.clone(), hash.clone());
    let total = blocking(move || store.clip_size(&p, &h))
        .await?
        .ok_or_else(no_clip)?;
    let range = audio::requested(headers, total);
    let turn = in_memory(state).await?;
    let (store, project) = (state.store.clone(), project.clone());
    let bytes = blocking(move || match range {
        Some((first, last)) => store.clip_range(&project, &hash, first, last - first + 1),
        None => store.clip(&project, &hash),
    })
    .await?
    .ok_or_else(no_clip)?;
    let body = axum::body::Bytes::from(bytes);
    // Handed to the connection a piece at a time, so the body (and with it the turn) lasts
    // until the last piece is taken: the bytes are in memory that long.
    let pieces: Vec<axum::body::Bytes> = (0..body.len())
        .step_by(SEND_PIECE)
        .map(|at| body.slice(at..(at + SEND_PIECE).min(body.len())))
        .collect();
    let stream =
        futures_util::stream::iter(pieces.into_iter().map(Ok::<_, std::convert::Infallible>));
    let body = crate::serve::keeping(Body::from_stream(stream), turn);
    Ok(audio::answer(body, range, total))
}

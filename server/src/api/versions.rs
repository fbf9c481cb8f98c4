//! Versions (a song's mix printed from the DAW, [`liner_record::versions`]) by content hash,
//! sent in chunks so an interrupted upload goes on where it stopped:
//!
//! - `GET /api/v1/versions/<hash>/chunks`: what the server holds of a version the project's
//!   `version_printed` event names: `{"chunk_bytes": 1048576, "chunks": N, "have": [i, ...],
//!   "complete": bool}`. `404 unknown_version` when no event of the token's project names
//!   the hash (another project's hashes stay unknown).
//! - `PUT /api/v1/versions/<hash>/chunks/<index>`: chunk `index` (0-based), exactly
//!   [`CHUNK_BYTES`] long, the last one shorter (the sizes follow from the event's `bytes`,
//!   [`chunk_span`]). Judged before a byte of the body is read, as clips are
//!   ([`super::upload`]): the event exists (`404 unknown_version`), the index is in range
//!   (`422 out_of_range`), the `Content-Length` is that chunk's (`422 wrong_size`; more than
//!   a chunk is `413`), the version is no larger than any may be (`413 too_large`) and all
//!   it still needs fits the project's quota, shared with clips (`507 over_quota`). Then it
//!   takes an upload slot (`503 uploads_busy` with `Retry-After`) and is read under the
//!   floor rate. `201` stored, `200` already had (idempotent); the answer is
//!   `{"complete": bool}`. When the last missing chunk is in, the server hashes the whole a
//!   chunk at a time ([`crate::store::Store::finish_version`], never the whole in memory):
//!   a match completes the version; a mismatch drops every chunk and answers `422
//!   hash_mismatch`, so the next upload starts clean.
//! - `GET /api/v1/versions/<hash>`: the complete version (`audio/flac`), to readers of the
//!   project only (`404` otherwise, or while it is incomplete). One byte range is served
//!   reading only the chunks it covers; the bytes are streamed a chunk at a time, never
//!   assembled in memory.
//!
//! The review page serves the same bytes at `/versions/<hash>` to a signed-in session
//! ([`serve_version`]).

use super::upload::{admit, declared_length, over_quota, Admitted, Judged};
use super::{audio, authenticate, authenticate_writer, blocking, internal, ApiError, AppState};
use crate::fair::connections::Peer;
use crate::store::{ChunkPut, Project, Store, TokenInfo};
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use liner_record::clips::{ClipFormat, ClipHash};
use liner_record::versions::{chunk_span, chunks_of, CHUNK_BYTES};
use serde_json::json;
use std::sync::Arc;

fn parse_hash(text: &str) -> Result<ClipHash, ApiError> {
    // `<hash>` or `<hash>.flac`, as links name files.
    let bare = text
        .strip_suffix(&format!(".{}", ClipFormat::Flac.extension()))
        .unwrap_or(text);
    bare.parse()
        .map_err(|e: String| ApiError::new(StatusCode::BAD_REQUEST, "bad_hash", e))
}

fn unknown() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "unknown_version",
        "no version_printed event of this project names this version; push the event first",
    )
}

/// `GET /api/v1/versions/<hash>/chunks`: what the server holds of the version.
pub async fn chunks(
    State(state): State<Arc<AppState>>,
    Path(hash): Path<String>,
    peer: Peer,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let token = authenticate(&state, &headers, peer).await?;
    let hash = parse_hash(&hash)?;
    let store = state.store.clone();
    let facts = blocking(move || store.version_facts(&token.project, &hash)).await?;
    let bytes = facts.expected.ok_or_else(unknown)?;
    Ok(Json(json!({
        "chunk_bytes": CHUNK_BYTES,
        "chunks": chunks_of(bytes),
        "have": facts.have,
        "complete": facts.complete,
    }))
    .into_response())
}

/// `PUT /api/v1/versions/<hash>/chunks/<index>`: see the module docs.
pub async fn put_chunk(
    State(state): State<Arc<AppState>>,
    Path((hash, index)): Path<(String, String)>,
    req: Request<Body>,
) -> Result<Response, ApiError> {
    let peer = Peer::of(req.extensions());
    let token = authenticate_writer(&state, req.headers(), peer).await?;
    let hash = parse_hash(&hash)?;
    let index: u64 = index.parse().map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_index",
            "a chunk's index is a whole number from 0",
        )
    })?;
    let declared = declared_length(req.headers(), CHUNK_BYTES, "a version chunk")?;
    let (store, project, quota) = (state.store.clone(), token.project.clone(), state.clip_quota);
    let judged = {
        let hash = hash.clone();
        let judge = move || store.judge_version_chunk(&project, &hash, index, declared, quota);
        match blocking(judge).await? {
            None => Judged::Take,
            Some(ChunkPut::AlreadyStored) => Judged::Have,
            Some(refusal) => Judged::Refused(refused(refusal, index)),
        }
    };
    let what = format!("chunk {index}");
    let status = match admit(&state, &token, req.into_body(), declared, judged, &what).await? {
        Admitted::Read { bytes, _slot } => {
            let (store, project, h) = (state.store.clone(), token.project.clone(), hash.clone());
            match blocking(move || store.put_version_chunk(&project, &h, index, &bytes, quota))
                .await?
            {
                ChunkPut::Stored => StatusCode::CREATED,
                ChunkPut::AlreadyStored => StatusCode::OK,
                refusal => return Err(refused(refusal, index)),
            }
        }
        Admitted::Had => StatusCode::OK,
        Admitted::Answered(r) => return Ok(r),
    };
    let complete = settle(&state, &token, hash).await?;
    Ok((status, Json(json!({ "complete": complete }))).into_response())
}

/// After a chunk: when every chunk is in and the version is not complete yet, checks the
/// whole against its hash. Returns whether the version is complete.
///
/// # Errors
/// `422 hash_mismatch` when the chunks do not hash to the version's name (they were
/// dropped); 500 when the database fails.
async fn settle(state: &AppState, token: &TokenInfo, hash: ClipHash) -> Result<bool, ApiError> {
    let (store, project, who) = (state.store.clone(), token.project.clone(), token.id);
    let settled = blocking(move || {
        let facts = store.version_facts(&project, &hash)?;
        let Some(bytes) = facts.expected else {
            return Ok(Some(false));
        };
        if facts.complete {
            return Ok(Some(true));
        }
        if (facts.have.len() as u64) < chunks_of(bytes) {
            return Ok(Some(false));
        }
        Ok(store
            .finish_version(&project, Some(who), &hash, bytes)?
            .then_some(true))
    })
    .await?;
    settled.ok_or_else(|| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "hash_mismatch",
            "the chunks put together do not hash to the version's name: one was damaged on \
             the way. They were dropped; send the version again",
        )
    })
}

/// The refusal of chunk `index`.
fn refused(put: ChunkPut, index: u64) -> ApiError {
    match put {
        ChunkPut::Unknown => unknown(),
        ChunkPut::TooLarge { most } => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("a version is at most {most} bytes"),
        ),
        ChunkPut::OutOfRange { chunks } => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "out_of_range",
            format!(
                "the version has {chunks} chunks (0 to {}), not {index}",
                chunks - 1
            ),
        ),
        ChunkPut::WrongSize { expected } => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "wrong_size",
            format!("chunk {index} of this version is {expected} bytes"),
        ),
        ChunkPut::OverQuota { used, quota } => over_quota(used, quota),
        ChunkPut::Stored | ChunkPut::AlreadyStored => {
            internal("a stored chunk taken for a refusal")
        }
    }
}

/// `GET /api/v1/versions/<hash>`: the complete version, or the range asked for.
pub async fn get(
    State(state): State<Arc<AppState>>,
    Path(hash): Path<String>,
    peer: Peer,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let token = authenticate(&state, &headers, peer).await?;
    serve_version(&state, &token.project, &hash, &headers).await
}

/// A complete version of `project` as an HTTP answer (a whole `200`, or the one range asked
/// for), streamed a chunk at a time: only the chunks the range covers are read, and each
/// is read in a turn of [`AppState::clips_in_memory`] that ends once it is read, so a
/// player that stops reading holds one chunk, not a turn.
///
/// # Errors
/// 404 for a version the project does not have complete, 500 when the database fails.
pub async fn serve_version(
    state: &Arc<AppState>,
    project: &Project,
    hash: &str,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let hash = parse_hash(hash)?;
    let (store, p, h) = (state.store.clone(), project.clone(), hash.clone());
    let facts = blocking(move || store.version_facts(&p, &h)).await?;
    let total = match facts.expected {
        Some(bytes) if facts.complete => bytes,
        _ => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "no_version",
                "this project has no such version (yet: it goes up after its print)",
            ))
        }
    };
    let range = audio::requested(headers, total);
    let (first, last) = range.unwrap_or((0, total - 1));
    let read = ChunkReader {
        state: state.clone(),
        project: project.clone(),
        hash,
        total,
    };
    let pieces = futures_util::stream::unfold(
        (read, first / CHUNK_BYTES),
        move |(read, index)| async move {
            let (start, _) = chunk_span(read.total, index)?;
            if start > last {
                return None;
            }
            let piece = read.piece(index, first, last).await;
            Some((piece, (read, index + 1)))
        },
    );
    Ok(audio::answer(Body::from_stream(pieces), range, total))
}

/// Reads the chunks of one version being served.
struct ChunkReader {
    state: Arc<AppState>,
    project: Project,
    hash: ClipHash,
    total: u64,
}

impl ChunkReader {
    /// The bytes of chunk `index` within `first..=last` of the version.
    async fn piece(&self, index: u64, first: u64, last: u64) -> Result<Bytes, std::io::Error> {
        let broken = |why: String| std::io::Error::other(why);
        let (start, _) =
            chunk_span(self.total, index).ok_or_else(|| broken(format!("no chunk {index}")))?;
        let _turn = self
            .state
            .clips_in_memory
            .acquire()
            .await
            .map_err(|_| broken("the server is stopping".into()))?;
        let (store, project, hash): (Arc<dyn Store>, _, _) = (
            self.state.store.clone(),
            self.project.clone(),
            self.hash.clone(),
        );
        let chunk = blocking(move || store.version_chunk(&project, &hash, index))
            .await
            .map_err(|e| broken(e.message))?
            .ok_or_else(|| broken(format!("chunk {index} is missing")))?;
        let len = chunk.len() as u64;
        let from = first.saturating_sub(start).min(len);
        let to = (last + 1).saturating_sub(start).clamp(from, len);
        Ok(Bytes::from(chunk).slice(from as usize..to as usize))
    }
}

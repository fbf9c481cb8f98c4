//! How an upload's body is let in, for clips and version chunks alike: its declared length
//! is read first ([`declared_length`]), the caller judges it against the store without a
//! byte of the body ([`Judged`]), and only an upload to be stored takes a slot
//! ([`crate::fair::uploads`]) and has its body read under the floor rate ([`admit`]).
//!
//! One home for the order of those steps and for their answers (`411`, `413`, `503
//! uploads_busy`, `408 too_slow`, `400 broken_body`), so a clip and a chunk are refused
//! alike.

use super::{ApiError, AppState};
use crate::fair::uploads::{read_body, BodyError, UploadSlot};
use crate::store::TokenInfo;
use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// The body length an upload declares (`Content-Length`), at most `most` bytes; `what` names
/// the upload in the refusal ("a clip", "a version chunk").
///
/// # Errors
/// `411` without a length, `413` past `most`.
pub(super) fn declared_length(headers: &HeaderMap, most: u64, what: &str) -> Result<u64, ApiError> {
    let len = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::LENGTH_REQUIRED,
                "length_required",
                format!(
                    "send {what} with a Content-Length (its size in bytes), so it can be judged \
                     before it is read"
                ),
            )
        })?;
    if len > most {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("{what} is at most {most} bytes"),
        ));
    }
    Ok(len)
}

/// What the store said of an upload before its body was read.
pub(super) enum Judged {
    /// Store it: take a slot and read the body.
    Take,
    /// The server has it already: the body is counted and dropped (no slot, no memory), so
    /// the client reads the answer rather than a broken connection.
    Have,
    /// Refused: answered without reading a byte; the connection closes after the answer.
    Refused(ApiError),
}

/// What became of an upload's body.
pub(super) enum Admitted<'a> {
    /// Read whole, within its slot (given back when this is dropped).
    Read {
        bytes: Vec<u8>,
        _slot: UploadSlot<'a>,
    },
    /// Counted and dropped ([`Judged::Have`]).
    Had,
    /// Refused before a byte was read: this is the answer.
    Answered(Response),
}

/// Lets in (or not) the body of an upload `judged` so by the store, for `token`'s project.
///
/// # Errors
/// `503 uploads_busy` (with `Retry-After`) when a share of the upload slots is full; the
/// body's own failures ([`body_error`]).
pub(super) async fn admit<'a>(
    state: &'a AppState,
    token: &TokenInfo,
    body: Body,
    declared: u64,
    judged: Judged,
    what: &str,
) -> Result<Admitted<'a>, ApiError> {
    match judged {
        Judged::Refused(refusal) => {
            let mut r = refusal.into_response();
            r.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            Ok(Admitted::Answered(r))
        }
        Judged::Have => {
            read_body(body, declared, true)
                .await
                .map_err(|e| body_error(e, what))?;
            Ok(Admitted::Had)
        }
        Judged::Take => {
            let slot = state
                .uploads
                .take(token.project.id, token.id)
                .map_err(|full| {
                    ApiError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "uploads_busy",
                        format!("{}; try again in a moment", full.words()),
                    )
                })?;
            let bytes = read_body(body, declared, false)
                .await
                .map_err(|e| body_error(e, what))?;
            Ok(Admitted::Read { bytes, _slot: slot })
        }
    }
}

/// The refusal of an upload that would pass the project's quota (clips and versions share
/// it).
pub(super) fn over_quota(used: u64, quota: u64) -> ApiError {
    ApiError::new(
        StatusCode::INSUFFICIENT_STORAGE,
        "over_quota",
        format!(
            "the project's clips and versions use {} of the server's {} MB; ask whoever runs \
             the server for more room (the notes themselves are all stored)",
            used / 1_000_000,
            quota / 1_000_000
        ),
    )
}

/// The answer to a body that was not read whole; `what` names the upload.
fn body_error(e: BodyError, what: &str) -> ApiError {
    match e {
        BodyError::TooSlow { received, after } => ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "too_slow",
            format!(
                "{what} arrived too slowly ({received} bytes in {:.0} s); send it again over a \
                 faster connection",
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
            format!("{what} did not arrive whole ({why}); send it again"),
        ),
    }
}

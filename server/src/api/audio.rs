//! Serving stored audio (clips and versions): the byte range a player asks for, and the
//! headers every audio answer carries. One home, so a clip and a version answer alike.

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use liner_record::clips::ClipFormat;

/// The inclusive byte range `(first, last)` the request's `Range` header asks of `len`
/// bytes; `None` for none, or one this cannot serve (answered with the whole).
pub(super) fn requested(headers: &HeaderMap, len: u64) -> Option<(u64, u64)> {
    headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| byte_range(r, len))
}

/// An audio answer: `body` is `range` of the `total` bytes (`206` with its `Content-Range`),
/// or all of them (`200`). Players may ask for ranges; browsers are told not to keep it (a
/// shared computer's next person must sign in to hear it).
pub(super) fn answer(body: Body, range: Option<(u64, u64)>, total: u64) -> Response {
    let (status, len) = match range {
        Some((first, last)) => (StatusCode::PARTIAL_CONTENT, last - first + 1),
        None => (StatusCode::OK, total),
    };
    let mut r = (status, body).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(ClipFormat::Flac.mime()),
    );
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    if let Some((first, last)) = range {
        if let Ok(v) = HeaderValue::from_str(&format!("bytes {first}-{last}/{total}")) {
            h.insert(header::CONTENT_RANGE, v);
        }
    }
    r
}

/// The inclusive byte range of a `Range: bytes=a-b` / `bytes=a-` / `bytes=-n` header within
/// `len` bytes; None for anything else (several ranges, units other than bytes, out of
/// range), which is answered with the whole.
pub(super) fn byte_range(header: &str, len: u64) -> Option<(u64, u64)> {
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

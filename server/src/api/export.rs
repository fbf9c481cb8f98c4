//! `GET /api/v1/export`: the decision log in any export format, for any reader of the
//! project. The JSON export carries the audit trail (who pushed each event, and when). The
//! review page's `/export` serves the same with its session cookie ([`export_for`]).

use super::{authenticate, blocking, ApiError, AppState};
use crate::store::Project;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::sync::Arc;
use uuid::Uuid;

#[derive(Deserialize)]
pub struct ExportQuery {
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
pub(super) async fn export(
    State(state): State<Arc<AppState>>,
    peer: crate::fair::connections::Peer,
    headers: HeaderMap,
    query: Result<Query<ExportQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let token = authenticate(&state, &headers, peer).await?;
    export_for(&state, &token.project, query, false).await
}

/// The export of `project` that `query` asks for. With `inline_html`, the HTML log is shown
/// rather than downloaded (the page's link, to read or print to PDF).
///
/// # Errors
/// 400 for an unknown format or date, 503 while other exports run, 500 when the
/// database fails.
pub async fn export_for(
    state: &Arc<AppState>,
    project: &Project,
    query: Result<Query<ExportQuery>, axum::extract::rejection::QueryRejection>,
    inline_html: bool,
) -> Result<Response, ApiError> {
    use liner_record::export::{export_received, ExportRequest, Format, RequestError};
    let Query(q) = query.map_err(|e| {
        ApiError::bad_query(
            "?format=F[&song=S][&session=ID][&since=DATE][&until=DATE]",
            e,
        )
    })?;
    let request = ExportRequest {
        format: &q.format,
        song: q.song.clone(),
        session: q.session,
        since: q.since.as_deref(),
        until: q.until.as_deref(),
        author: q.author.clone(),
        include_private: false,
    };
    let (format, scope) = request.parse().map_err(|e| {
        let code = match e {
            RequestError::UnknownFormat(_) => "bad_format",
            RequestError::BadDate(_) => "bad_date",
        };
        ApiError::new(StatusCode::BAD_REQUEST, code, e.to_string())
    })?;
    // Exports are the heaviest requests: a few at a time, the rest asked to come back.
    let _running = state.exports.try_acquire().map_err(|_| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            "other exports are running; try again in a moment",
        )
    })?;
    let state = state.clone();
    let project = project.clone();
    let out = blocking(move || {
        let record = state.record(&project)?;
        let received = if format == Format::Json {
            state.store.received(&project)?
        } else {
            Default::default()
        };
        Ok(export_received(&record.events, &received, &scope, format))
    })
    .await?;
    let disposition = if inline_html && format == Format::Html {
        "inline".to_owned()
    } else {
        format!(
            "attachment; filename=\"decision-log.{}\"",
            format.extension()
        )
    };
    // The log is data: no script may run in it (its own stylesheet is inline).
    let policy = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_SECURITY_POLICY, policy.to_owned()),
            (header::CONTENT_TYPE, format.content_type().to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            (
                header::HeaderName::from_static("x-liner-left-out"),
                out.left_out.to_string(),
            ),
        ],
        out.bytes,
    )
        .into_response())
}

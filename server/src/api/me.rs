//! `GET /api/v1/me`: who the token speaks for. The plugin's push thread asks at its first
//! round with a token and after a round that failed; its last push as the DAW closes,
//! `liner sync` and the editor's connection test ask each time. The plugin signs its
//! events with the answer.

use super::{authenticate, ApiError, AppState};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use liner_record::outbox::Identity;
use std::sync::Arc;

pub(super) async fn me(
    State(state): State<Arc<AppState>>,
    peer: crate::fair::connections::Peer,
    headers: HeaderMap,
) -> Result<Json<Identity>, ApiError> {
    let token = authenticate(&state, &headers, peer).await?;
    Ok(Json(Identity {
        person: token.person,
        role: token.role,
        project: token.project.name,
    }))
}

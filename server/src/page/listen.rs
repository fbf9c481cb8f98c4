//! Listening: the audio clip of a note, decision or mark ([`liner_record::clips`]), played in
//! the page from the moment it is about, with the moment marked; `/clips/<hash>` serves the
//! bytes to a signed-in session of the clip's project only.

use super::auth;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use liner_record::views::ClipView;
use maud::{html, Markup};
use std::sync::Arc;

pub async fn clip(
    State(state): State<Arc<AppState>>,
    Path(hash): Path<String>,
    headers: HeaderMap,
) -> Response {
    let signed = match auth::require(&state, &headers).await {
        Ok(s) => s,
        Err(d) => return d.into_response(),
    };
    match crate::api::serve_clip(&state, &signed.token.project, &hash, &headers).await {
        Ok(r) => r,
        Err(e) => super::layout::problem(e.status, &e.message),
    }
}

/// `/versions/<hash>`: a complete version's bytes (ranges too) to a signed-in session of its
/// project, as `/clips/<hash>` serves clips ([`crate::api::serve_version`]).
pub async fn version(
    State(state): State<Arc<AppState>>,
    Path(hash): Path<String>,
    headers: HeaderMap,
) -> Response {
    let signed = match auth::require(&state, &headers).await {
        Ok(s) => s,
        Err(d) => return d.into_response(),
    };
    match crate::api::serve_version(&state, &signed.token.project, &hash, &headers).await {
        Ok(r) => r,
        Err(e) => super::layout::problem(e.status, &e.message),
    }
}

/// A player for `clip` that starts at its moment (the page's script seeks there; `p` plays
/// the focused item's), and a strip marking where the moment is.
pub fn player(clip: &ClipView) -> Markup {
    let c = &clip.clip;
    let (length, moment) = (c.seconds(), c.moment_seconds());
    let at = if length > 0.0 {
        (moment / length * 100.0).clamp(0.0, 99.0)
    } else {
        0.0
    };
    html! {
        div.clip {
            audio controls preload="metadata"
                src={ "/clips/" (c.hash) "." (c.format.extension()) }
                data-moment=(format!("{moment:.3}"))
                aria-label=(format!(
                    "Audio of the moment: {length:.1} s, the moment {moment:.1} s in"
                )) {}
            svg.moment viewBox="0 0 100 4" preserveAspectRatio="none" aria-hidden="true" {
                rect.strip x="0" y="0" width="100" height="4" {}
                rect.tick x=(format!("{at:.2}")) y="0" width="1" height="4" {}
            }
        }
    }
}

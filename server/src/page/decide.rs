//! The executive's decisions from the page, each recorded as one event with the executive's
//! identity and judged by the same rules as a push from a plugin (`liner_record::rules`), so it
//! syncs to every plugin: `POST /verdict`, `/tracklist/move`, `/tracklist/order`,
//! `/selection`. And the exports, for anyone signed in (`GET /export`).
//!
//! Each POST answers `303` back to the page it came from, or JSON when the page's script
//! asks (`Accept: application/json`).

use super::auth::{self, Signed};
use super::layout;
use super::PAGES;
use crate::api::{blocking, ApiError};
use crate::state::{AppState, ProjectRecord};
use crate::store::{Incoming, PushOutcome};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Json, Redirect, Response};
use axum::Form;
use liner_record::event::{Body, Context, Event, Verdict};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use uuid::Uuid;

/// Where a form may send the browser back to: one of the page's own [`PAGES`], with an
/// optional query and fragment of visible ASCII (`!` to `~`) but no backslash; anything else
/// goes to the overview. A prefix check is not enough: browsers strip tabs and line breaks
/// from an address (`/\t/evil.example` is `//evil.example`, another site), read `\\` as `/`,
/// and a line break cannot go in a header at all (the answer would be an error after the
/// verdict was stored). Only what the page's own forms send passes, byte for byte.
fn safe_back(back: &str) -> &str {
    let (path, rest) = back.split_at(back.find(['?', '#']).unwrap_or(back.len()));
    let visible = |b: u8| (b'!'..=b'~').contains(&b) && b != b'\\';
    if PAGES.contains(&path) && rest.bytes().all(visible) {
        back
    } else {
        "/"
    }
}

fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json"))
}

/// A refusal, as the page or its script wants it.
pub(super) fn refused(headers: &HeaderMap, status: StatusCode, message: &str) -> Response {
    if wants_json(headers) {
        (status, Json(json!({ "error": { "message": message } }))).into_response()
    } else {
        layout::problem(status, message)
    }
}

/// Stores one event by the signed-in person (limits and the record's rules apply) and
/// wakes every reader of the project.
pub(super) async fn store_decision(
    state: &Arc<AppState>,
    headers: &HeaderMap,
    signed: &Signed,
    song: String,
    track: String,
    body: Body,
    back: &str,
) -> Response {
    let ctx = context_of(signed, song, track);
    store_event(state, headers, signed, Event::new(&ctx, None, body), back).await
}

/// The signed-in person's context for a new event of `song` and `track`: one work session
/// per sign-in (the CSRF secret is per session).
pub(super) fn context_of(signed: &Signed, song: String, track: String) -> Context {
    Context {
        project: signed.token.project.name.clone(),
        song,
        track,
        session: Uuid::new_v5(&Uuid::NAMESPACE_OID, signed.csrf.as_bytes()),
        author: signed.token.person.clone(),
        role: signed.token.role,
    }
}

/// Stores `event`, made by the signed-in person (limits and the record's rules apply), and
/// wakes every reader of the project.
pub(super) async fn store_event(
    state: &Arc<AppState>,
    headers: &HeaderMap,
    signed: &Signed,
    event: Event,
    back: &str,
) -> Response {
    let store = state.store.clone();
    let project = signed.token.project.clone();
    let token = signed.token.id;
    let outcome =
        blocking(move || store.push(&project, Some(token), &[Incoming::from_event(event)]))
            .await
            .map(|mut o| o.pop());
    match outcome {
        Ok(Some(PushOutcome::Stored(seq))) => {
            state.announce(signed.token.project.id, seq);
            if wants_json(headers) {
                Json(json!({ "ok": true, "seq": seq })).into_response()
            } else {
                Redirect::to(safe_back(back)).into_response()
            }
        }
        Ok(Some(PushOutcome::Refused { message, .. })) => {
            refused(headers, StatusCode::UNPROCESSABLE_ENTITY, &message)
        }
        Ok(_) => refused(
            headers,
            StatusCode::CONFLICT,
            "That was not recorded; reload the page and try again.",
        ),
        Err(e) => e.into_response(),
    }
}

/// Signed in, with a valid CSRF secret, as the executive.
pub(super) async fn executive(
    state: &Arc<AppState>,
    headers: &HeaderMap,
    csrf: &str,
) -> Result<Signed, auth::Denied> {
    let signed = auth::require(state, headers).await?;
    auth::check_csrf(&signed, csrf, headers)?;
    auth::check_executive(&signed)?;
    Ok(signed)
}

/// The song and track of an item of the record (a note, decision, mark, take, version or a
/// song's selection), by its event id: where a verdict, reply or done on it belongs.
pub(super) fn where_of(r: &ProjectRecord, id: Uuid) -> Option<(String, String)> {
    r.entries
        .iter()
        .find(|e| e.id == id)
        .map(|e| (e.song.clone(), e.track.clone()))
        .or_else(|| {
            r.views
                .song_selection_decided
                .iter()
                .find(|(_, d)| d.id == id)
                .map(|(song, _)| (song.clone(), String::new()))
        })
        .or_else(|| {
            r.views
                .versions
                .iter()
                .find(|v| v.id == id)
                .map(|v| (v.song.clone(), v.track.clone()))
        })
}

#[derive(Deserialize)]
pub struct VerdictForm {
    #[serde(default)]
    csrf: String,
    target: Uuid,
    verdict: Verdict,
    #[serde(default)]
    comment: String,
    #[serde(default)]
    back: String,
}

pub async fn verdict(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(f): Form<VerdictForm>,
) -> Response {
    let signed = match executive(&state, &headers, &f.csrf).await {
        Ok(s) => s,
        Err(d) => return d.into_response(),
    };
    // The verdict belongs to the song and track of what it judges.
    let where_ = auth::record_of(&state, &signed)
        .await
        .map(|r| where_of(&r, f.target).unwrap_or_default());
    let (song, track) = match where_ {
        Ok(w) => w,
        Err(d) => return d.into_response(),
    };
    let body = Body::Verdict {
        target: f.target,
        verdict: f.verdict,
        comment: f.comment.trim().to_owned(),
    };
    store_decision(&state, &headers, &signed, song, track, body, &f.back).await
}

#[derive(Deserialize)]
pub struct MoveForm {
    #[serde(default)]
    csrf: String,
    song: String,
    direction: String,
}

pub async fn move_song(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(f): Form<MoveForm>,
) -> Response {
    let (signed, mut order) = match executive_and_order(&state, &headers, &f.csrf).await {
        Ok(x) => x,
        Err(d) => return d.into_response(),
    };
    let Some(i) = order.iter().position(|s| *s == f.song) else {
        return refused(&headers, StatusCode::UNPROCESSABLE_ENTITY, "No such song.");
    };
    let j = match f.direction.as_str() {
        "up" if i > 0 => i - 1,
        "down" if i + 1 < order.len() => i + 1,
        _ => return Redirect::to("/tracklist").into_response(),
    };
    order.swap(i, j);
    let body = Body::TracklistOrder { songs: order };
    store_decision(
        &state,
        &headers,
        &signed,
        String::new(),
        String::new(),
        body,
        "/tracklist",
    )
    .await
}

#[derive(Deserialize)]
pub struct OrderForm {
    #[serde(default)]
    csrf: String,
    /// The songs, one per line, in their new order.
    order: String,
}

pub async fn order(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(f): Form<OrderForm>,
) -> Response {
    let (signed, current) = match executive_and_order(&state, &headers, &f.csrf).await {
        Ok(x) => x,
        Err(d) => return d.into_response(),
    };
    let wanted: Vec<String> = f.order.lines().map(str::to_owned).collect();
    let mut a = wanted.clone();
    let mut b = current.clone();
    a.sort();
    b.sort();
    if a != b {
        return refused(
            &headers,
            StatusCode::UNPROCESSABLE_ENTITY,
            "The new order must hold every song of the record once; reload the page.",
        );
    }
    if wanted == current {
        return Redirect::to("/tracklist").into_response();
    }
    let body = Body::TracklistOrder { songs: wanted };
    store_decision(
        &state,
        &headers,
        &signed,
        String::new(),
        String::new(),
        body,
        "/tracklist",
    )
    .await
}

#[derive(Deserialize)]
pub struct SelectionForm {
    #[serde(default)]
    csrf: String,
    song: String,
    selected: bool,
}

pub async fn selection(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(f): Form<SelectionForm>,
) -> Response {
    let (signed, order) = match executive_and_order(&state, &headers, &f.csrf).await {
        Ok(x) => x,
        Err(d) => return d.into_response(),
    };
    if !order.contains(&f.song) {
        return refused(&headers, StatusCode::UNPROCESSABLE_ENTITY, "No such song.");
    }
    let body = Body::SongSelection {
        song: f.song.clone(),
        selected: f.selected,
    };
    store_decision(
        &state,
        &headers,
        &signed,
        f.song,
        String::new(),
        body,
        "/tracklist",
    )
    .await
}

/// Signed in as the executive, with a valid CSRF secret, and the record's songs in order.
async fn executive_and_order(
    state: &Arc<AppState>,
    headers: &HeaderMap,
    csrf: &str,
) -> Result<(Signed, Vec<String>), auth::Denied> {
    let signed = executive(state, headers, csrf).await?;
    let record = auth::record_of(state, &signed).await?;
    Ok((signed, record.views.songs_in_order()))
}

/// `GET /export?format=F[&song=S]...`: the decision log with the session cookie. The HTML log
/// opens in the browser (to read or print to PDF); the others download.
pub async fn export(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    query: Result<Query<crate::api::ExportQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let signed = match auth::require(&state, &headers).await {
        Ok(s) => s,
        Err(d) => return d.into_response(),
    };
    match crate::api::export_for(&state, &signed.token.project, query, true).await {
        Ok(r) => r,
        Err(e) => e_page(e),
    }
}

fn e_page(e: ApiError) -> Response {
    layout::problem(e.status, &e.message)
}

#[cfg(test)]
mod tests {
    use super::safe_back;

    #[test]
    fn back_is_a_page_of_this_site_as_its_forms_send_it_or_the_overview() {
        for kept in [
            "/",
            "/queue",
            "/queue?song=A%20B&take=2",
            "/song?name=Caf%C3%A9#main",
            "/tracklist#tracklist",
        ] {
            assert_eq!(safe_back(kept), kept);
        }
        for refused in [
            "",
            "//evil.example",
            "/\t/evil.example",
            "/queue\r\nX: y",
            "/\\evil.example",
            "https://evil.example",
            "/queue?song=a b",
            "/queue?a\\b",
            "/song?name=Café",
            "/evil.example",
            "/queue/",
            "/export?format=csv",
        ] {
            assert_eq!(safe_back(refused), "/", "{refused:?}");
        }
    }
}

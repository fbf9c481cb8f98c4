//! The guest's side of a listening link (`/listen/<secret>`): no sign-in, read-only, and
//! only what the link names.
//!
//! Guarantees:
//! - Every request presents the link's secret first, after the address's turn in the
//!   wrong-token limiter ([`crate::fair::guesses`]); an unknown secret counts against the
//!   address (`404`), so guessing is slowed to one try a second and then told `429`. A
//!   revoked link answers `410` "This listening link was revoked", an expired one `410` with
//!   its date; neither shows anything else.
//! - A link with a passphrase asks for it first (Argon2-verified; a wrong one counts as a
//!   wrong token). The right one gives a guest cookie scoped to the link's own path, HttpOnly,
//!   SameSite=Strict, Secure over https, ending when the link does; its session belongs to
//!   that link alone, and no other page reads it (nor does this page read any other cookie).
//! - The guest hears only the selected (newest approved) version of each song in the link's
//!   scope, served by the same code as the signed-in page (ranges too); any other version is
//!   `404`. The page shows the project and song names, version labels, lengths and
//!   loudness: no notes, verdicts, names of the team, tokens or anything else of the record.
//! - A guest's comment (a name they type, the text, optionally a time in the version) is held
//!   outside the record until the executive accepts it ([`super::links`]); per link and
//!   address a few at once, then one every 30 s ([`crate::fair::guest_comments`]), within the
//!   record's text limits.

use super::auth;
use super::decide::refused;
use super::layout::{self, typed};
use super::{album, versions};
use crate::api::{blocking, ApiError};
use crate::fair::connections::Peer;
use crate::state::{AppState, ProjectRecord};
use crate::store::guests::{GuestLink, LinkState, NewComment};
use crate::tls::OverTls;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use liner_record::export::date_time;
use liner_record::limits::{MAX_NAME_CHARS, MAX_TEXT_CHARS};
use liner_record::position::{format_time, parse_time};
use liner_record::views::VersionView;
use maud::{html, Markup, DOCTYPE};
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// The guest cookie's name (its path is the link's own, so each link has its own).
pub const GUEST_COOKIE: &str = "liner_guest";

/// Why a guest is not served.
enum Shut {
    Unknown,
    Revoked,
    Expired(i64),
    /// The address guessed too much: come back after this long.
    Busy(Duration),
    /// The link has a passphrase and this browser has not given it.
    Passphrase,
    Failed(ApiError),
}

impl Shut {
    fn answer(self, headers: &HeaderMap) -> Response {
        let (status, words) = match self {
            Shut::Unknown => (
                StatusCode::NOT_FOUND,
                "There is no listening link at this address. Check it with whoever sent it."
                    .to_owned(),
            ),
            Shut::Revoked => (
                StatusCode::GONE,
                "This listening link was revoked. Ask whoever sent it for a new one.".to_owned(),
            ),
            Shut::Expired(at) => (
                StatusCode::GONE,
                format!(
                    "This listening link expired on {}. Ask whoever sent it for a new one.",
                    date_time(at)
                ),
            ),
            Shut::Busy(wait) => {
                let mut r = refused_page(
                    headers,
                    StatusCode::TOO_MANY_REQUESTS,
                    "Too many wrong links or passphrases came from here. Wait a little, then \
                     try again.",
                );
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(wait.as_secs() + 1));
                return r;
            }
            Shut::Passphrase => (
                StatusCode::FORBIDDEN,
                "This listening link needs its passphrase: open the link and give it first."
                    .to_owned(),
            ),
            Shut::Failed(e) => return e.into_response(),
        };
        refused_page(headers, status, &words)
    }
}

/// A refusal for a guest: JSON for the script, else a page that links nowhere inside (not
/// even to the sign-in page).
fn refused_page(headers: &HeaderMap, status: StatusCode, words: &str) -> Response {
    if headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json"))
    {
        return refused(headers, status, words);
    }
    let main = html! { h1 { "Listening link" } p.problem role="alert" { (words) } };
    (status, bare("Listening link", None, main)).into_response()
}

/// The link with this secret, live, after the address's turn; a miss counts against it.
async fn open(state: &Arc<AppState>, peer: &Peer, secret: &str) -> Result<GuestLink, Shut> {
    state.guesses.turn(peer.0).await.map_err(Shut::Busy)?;
    let found = if secret.len() > 200 {
        None
    } else {
        let (store, s) = (state.store.clone(), secret.to_owned());
        blocking(move || store.link(&s))
            .await
            .map_err(Shut::Failed)?
    };
    let Some(link) = found else {
        state.guesses.missed(peer.0);
        return Err(Shut::Unknown);
    };
    match link.state(liner_record::event::now_ms()) {
        LinkState::Live => Ok(link),
        LinkState::Revoked => Err(Shut::Revoked),
        LinkState::Expired => Err(Shut::Expired(link.expires_ms)),
    }
}

/// The guest cookie's value, if the request carries one.
fn guest_cookie(headers: &HeaderMap) -> Option<String> {
    auth::cookie_named(headers, GUEST_COOKIE)
}

/// Whether this browser may hear `link`: always without a passphrase, else with a guest
/// session of this very link.
async fn admitted(
    state: &Arc<AppState>,
    link: &GuestLink,
    headers: &HeaderMap,
) -> Result<(), Shut> {
    if link.passphrase.is_none() {
        return Ok(());
    }
    let Some(secret) = guest_cookie(headers) else {
        return Err(Shut::Passphrase);
    };
    let store = state.store.clone();
    let session = blocking(move || store.guest_session(&secret))
        .await
        .map_err(Shut::Failed)?;
    if session == Some(link.id) {
        Ok(())
    } else {
        Err(Shut::Passphrase)
    }
}

/// The link, live and admitted, with its project's record.
async fn opened(
    state: &Arc<AppState>,
    peer: &Peer,
    secret: &str,
    headers: &HeaderMap,
) -> Result<(GuestLink, Arc<ProjectRecord>), Shut> {
    let link = open(state, peer, secret).await?;
    admitted(state, &link, headers).await?;
    let (st, project) = (state.clone(), link.project.clone());
    let record = blocking(move || st.record(&project))
        .await
        .map_err(Shut::Failed)?;
    Ok((link, record))
}

/// The versions a link lets its guest hear: the selected version of its song, or of each
/// song on the album.
fn hearable<'a>(link: &GuestLink, record: &'a ProjectRecord) -> Vec<&'a VersionView> {
    let views = &record.views;
    match &link.song {
        Some(song) => views.selected_version(song).into_iter().collect(),
        None => views
            .album_songs()
            .iter()
            .filter_map(|s| views.selected_version(s))
            .collect(),
    }
}

/// Where the guest's browser fetches a version's audio.
fn audio_src(secret: &str, v: &VersionView) -> String {
    format!(
        "/listen/{secret}/audio/{}.{}",
        v.id,
        v.printed.version.format.extension()
    )
}

/// `GET /listen/<secret>`: the passphrase form, or the song's or album's player.
pub async fn page(
    State(state): State<Arc<AppState>>,
    peer: Peer,
    Path(secret): Path<String>,
    headers: HeaderMap,
) -> Response {
    let link = match open(&state, &peer, &secret).await {
        Ok(l) => l,
        Err(s) => return s.answer(&headers),
    };
    match admitted(&state, &link, &headers).await {
        Ok(()) => {}
        Err(Shut::Passphrase) => return passphrase_page(StatusCode::OK, &secret, None),
        Err(s) => return s.answer(&headers),
    }
    let (store, id) = (state.store.clone(), link.id);
    if let Err(e) = blocking(move || store.link_used(id)).await {
        return e.into_response();
    }
    let (st, project) = (state.clone(), link.project.clone());
    match blocking(move || st.record(&project)).await {
        Ok(record) => listening_page(&link, &record, &secret).into_response(),
        Err(e) => e.into_response(),
    }
}

/// A page for guests: no navigation into the review site, no script but the player's.
fn bare(title: &str, project: Option<&str>, main: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (layout::head(title))
            body.guest {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    div.brand {
                        span.logo aria-hidden="true" { "♪" }
                        span { "Liner Notes" }
                        @if let Some(p) = project { span.project { (typed(p)) } }
                    }
                }
                main #main tabindex="-1" { (main) }
                footer { p.live #live aria-live="polite" { "" } }
            }
        }
    }
}

fn passphrase_page(status: StatusCode, secret: &str, problem: Option<&str>) -> Response {
    let main = html! {
        h1 { "Listening link" }
        p { "This link has a passphrase. Whoever sent you the link has it." }
        form.signin method="post" action={ "/listen/" (secret) "/passphrase" } {
            label for="passphrase" { "Passphrase" }
            input #passphrase type="password" name="passphrase" required
                autocomplete="current-password" maxlength="200";
            @if let Some(p) = problem { p.problem role="alert" { (p) } }
            button.primary type="submit" { "Listen" }
        }
    };
    (status, bare("Listening link", None, main)).into_response()
}

/// The song's player (its selected version, or words saying there is none) or the album.
fn listening_page(link: &GuestLink, record: &ProjectRecord, secret: &str) -> Markup {
    let versions = hearable(link, record);
    let title = link.song.as_deref().unwrap_or("The album");
    let main = html! {
        h1 { (typed(title)) }
        p.lede {
            "A listening link from " (typed(&link.project.name)) ". It works until "
            (date_time(link.expires_ms)) "."
        }
        @match &link.song {
            Some(_) => @match versions.first() {
                Some(v) => (versions::guest_player(v, &audio_src(secret, v),
                    comment_form(secret, &versions, true))),
                None => p.empty { "This song has no approved version yet: there is nothing \
                                   to hear here yet. Try the link again later." },
            },
            None => {
                (album::guest_section(&record.views, |v| audio_src(secret, v)))
                @if !versions.is_empty() { (comment_form(secret, &versions, false)) }
            }
        }
    };
    bare(
        &liner_record::export::isolated(title),
        Some(&link.project.name),
        main,
    )
}

/// The guest's comment form: their name, the words, and a time (filled by a click on the
/// waveform for a song; typed for the album, with the song chosen).
fn comment_form(secret: &str, versions: &[&VersionView], on_waveform: bool) -> Markup {
    html! {
        form.comment.guest-comment #comment-form method="post"
            action={ "/listen/" (secret) "/comment" }
            data-done="Thank you: your comment waits for the executive producer." {
            h2 { "Leave a comment" }
            p.hint { "Your comment goes to the executive producer, who decides whether it \
                      joins the record, under the name you give." }
            label for="guest-name" { "Your name" }
            input #guest-name type="text" name="name" required maxlength=(MAX_NAME_CHARS)
                autocomplete="name";
            @if on_waveform {
                input type="hidden" name="version" value=(versions[0].id);
            } @else {
                label for="guest-version" { "Song" }
                select #guest-version name="version" {
                    @for v in versions {
                        option value=(v.id) {
                            (liner_record::export::isolated(&v.song)) " ("
                            (liner_record::export::isolated(&v.label)) ")"
                        }
                    }
                }
            }
            label for="comment-at" { "At (optional)" }
            input #comment-at type="text" name="at" value="" size="9" inputmode="decimal"
                autocomplete="off" placeholder="m:ss" title="m:ss.mmm into the song";
            input #comment-until type="hidden" name="until" value="";
            label for="comment-text" { "Comment" }
            textarea #comment-text name="text" required maxlength=(MAX_TEXT_CHARS) rows="3" {}
            button.primary type="submit" { "Send the comment" }
        }
    }
}

#[derive(Deserialize)]
pub struct Passphrase {
    #[serde(default)]
    passphrase: String,
}

/// `POST /listen/<secret>/passphrase`: the right passphrase gives this browser a guest
/// session of the link; a wrong one counts against the address.
pub async fn enter(
    State(state): State<Arc<AppState>>,
    peer: Peer,
    tls: Option<axum::Extension<OverTls>>,
    Path(secret): Path<String>,
    headers: HeaderMap,
    Form(form): Form<Passphrase>,
) -> Response {
    if !auth::same_origin(&headers) {
        return refused_page(
            &headers,
            StatusCode::FORBIDDEN,
            "Give the passphrase on the link's own page.",
        );
    }
    let link = match open(&state, &peer, &secret).await {
        Ok(l) => l,
        Err(s) => return s.answer(&headers),
    };
    let Some(stored) = link.passphrase.clone() else {
        return Redirect::to(&format!("/listen/{secret}")).into_response();
    };
    let given = form.passphrase;
    let right = given.len() <= 200
        && tokio::task::spawn_blocking(move || super::links::passphrase_matches(&stored, &given))
            .await
            .unwrap_or(false);
    if !right {
        state.guesses.missed(peer.0);
        return passphrase_page(
            StatusCode::UNAUTHORIZED,
            &secret,
            Some("That passphrase is not right."),
        );
    }
    let (store, id) = (state.store.clone(), link.id);
    let session = match blocking(move || store.create_guest_session(id)).await {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    let mut r = Redirect::to(&format!("/listen/{secret}")).into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        guest_cookie_header(&headers, tls.is_some(), &secret, &session, &link),
    );
    r
}

/// The guest cookie: this link's path only, ending when the link does.
fn guest_cookie_header(
    headers: &HeaderMap,
    over_tls: bool,
    secret: &str,
    value: &str,
    link: &GuestLink,
) -> HeaderValue {
    let secure = if over_tls || auth::https(headers) {
        "; Secure"
    } else {
        ""
    };
    let max_age = ((link.expires_ms - liner_record::event::now_ms()) / 1000).max(0);
    HeaderValue::from_str(&format!(
        "{GUEST_COOKIE}={value}; HttpOnly; SameSite=Strict; Path=/listen/{secret}; \
         Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("liner_guest=; Max-Age=0"))
}

/// `GET /listen/<secret>/audio/<version id>.flac`: a hearable version's bytes (ranges too).
pub async fn audio(
    State(state): State<Arc<AppState>>,
    peer: Peer,
    Path((secret, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let (link, record) = match opened(&state, &peer, &secret, &headers).await {
        Ok(o) => o,
        Err(s) => return s.answer(&headers),
    };
    let id = file.strip_suffix(".flac").unwrap_or(&file);
    let wanted = Uuid::parse_str(id).ok();
    let Some(v) = hearable(&link, &record)
        .into_iter()
        .find(|v| Some(v.id) == wanted)
    else {
        return refused_page(
            &headers,
            StatusCode::NOT_FOUND,
            "This link has no such version to hear.",
        );
    };
    let hash = v.printed.version.hash.to_string();
    match crate::api::serve_version(&state, &link.project, &hash, &headers).await {
        Ok(r) => r,
        Err(e) => refused_page(&headers, e.status, &e.message),
    }
}

#[derive(Deserialize)]
pub struct GuestCommentForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    at: String,
    #[serde(default)]
    until: String,
}

/// A time typed by a guest: empty is none; otherwise `m:ss.mmm` or seconds within `length`.
fn guest_time(text: &str, length: f64) -> Result<Option<f64>, &'static str> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let at = parse_time(t)
        .or_else(|| t.parse::<f64>().ok())
        .filter(|s| s.is_finite() && (0.0..=length).contains(s))
        .ok_or("Give the time as m:ss into the song (or leave it empty).")?;
    Ok(Some(at))
}

/// The comment as it will be held, or words for the guest.
fn held_comment(
    link: &GuestLink,
    record: &ProjectRecord,
    f: &GuestCommentForm,
) -> Result<NewComment, &'static str> {
    // A name is one line everywhere it is shown or exported (no control characters).
    let name = liner_record::names::checked_name(&f.name)
        .map_err(|_| "Give your name: one line, at most 200 characters.")?;
    let text = f.text.trim();
    if text.is_empty() || text.chars().count() > MAX_TEXT_CHARS {
        return Err("Write the comment (at most 10,000 characters).");
    }
    let wanted = Uuid::parse_str(f.version.trim()).ok();
    let v = hearable(link, record)
        .into_iter()
        .find(|v| Some(v.id) == wanted)
        .ok_or("This link has no such version to comment on.")?;
    let length = v.printed.version.seconds();
    let at = guest_time(&f.at, length)?;
    let until = guest_time(&f.until, length)?.filter(|u| at.is_some_and(|a| *u > a));
    Ok(NewComment {
        link: link.id,
        name: name.to_owned(),
        text: text.to_owned(),
        version: v.id,
        at,
        until,
    })
}

/// `POST /listen/<secret>/comment`: holds a guest's comment for the executive.
pub async fn comment(
    State(state): State<Arc<AppState>>,
    peer: Peer,
    Path(secret): Path<String>,
    headers: HeaderMap,
    Form(f): Form<GuestCommentForm>,
) -> Response {
    if !auth::same_origin(&headers) {
        return refused_page(
            &headers,
            StatusCode::FORBIDDEN,
            "Comment from the link's own page.",
        );
    }
    let (link, record) = match opened(&state, &peer, &secret, &headers).await {
        Ok(o) => o,
        Err(s) => return s.answer(&headers),
    };
    let new = match held_comment(&link, &record, &f) {
        Ok(c) => c,
        Err(words) => return refused_page(&headers, StatusCode::UNPROCESSABLE_ENTITY, words),
    };
    if let Err(wait) = state.guest_comments.take(link.id, peer.0) {
        let mut r = refused_page(
            &headers,
            StatusCode::TOO_MANY_REQUESTS,
            "That is a lot of comments at once: wait a little, then send this one.",
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(wait.as_secs() + 1));
        return r;
    }
    let store = state.store.clone();
    match blocking(move || store.hold_comment(&new)).await {
        Ok(true) => thanks(&headers, &secret),
        Ok(false) => refused_page(
            &headers,
            StatusCode::TOO_MANY_REQUESTS,
            "This link has many comments waiting for the executive producer already; try \
             again after they have read them.",
        ),
        Err(e) => e.into_response(),
    }
}

fn thanks(headers: &HeaderMap, secret: &str) -> Response {
    if headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json"))
    {
        return Json(serde_json::json!({ "ok": true, "held": true })).into_response();
    }
    let main = html! {
        h1 { "Thank you" }
        p { "Your comment waits for the executive producer." }
        p { a href={ "/listen/" (secret) } { "Back to the music" } }
    };
    (StatusCode::OK, bare("Thank you", None, main)).into_response()
}

/// A time for people, for the executive's list of held comments.
pub fn time_words(at: Option<f64>, until: Option<f64>) -> String {
    match (at, until) {
        (Some(a), Some(u)) => format!("{}–{}", format_time(a), format_time(u)),
        (Some(a), None) => format_time(a),
        _ => "no time given".into(),
    }
}

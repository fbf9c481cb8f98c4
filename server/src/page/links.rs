//! The executive's listening links (`/links`): make one for the album or a song (who it is
//! for, how many days it lasts, an optional passphrase), see each with its state and when it
//! was last used, revoke it; and the comments guests left, held until the executive accepts
//! one (it becomes a note by the executive naming the guest, at the DAW position of the time
//! the guest gave in that version) or dismisses it.
//!
//! Only the executive sees or changes any of it. A new link's secret is shown once, in the
//! answer to the form that made it (never in an address or a redirect); the store keeps its
//! hash. A passphrase is kept as its Argon2 hash.

use super::auth::{self, Signed};
use super::comment::daw_position;
use super::decide::{context_of, executive, refused, store_event};
use super::layout::{self, typed, Frame, Nav};
use crate::api::blocking;
use crate::state::{AppState, ProjectRecord};
use crate::store::guests::{Fate, GuestLink, HeldComment, LinkState, NewLink};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use liner_record::event::{Anchor, Body, Category, NoteAdded};
use liner_record::export::{date_time, isolated};
use liner_record::limits::MAX_NAME_CHARS;
use liner_record::Event;
use maud::{html, Markup};
use serde::Deserialize;
use std::sync::Arc;

/// How long a link lasts unless the executive says otherwise, and at most.
pub const DEFAULT_DAYS: i64 = 7;
pub const MOST_DAYS: i64 = 365;
/// A passphrase shorter than this is refused: it would be guessed.
pub const SHORTEST_PASSPHRASE: usize = 8;

/// Hashes a passphrase with Argon2id (a fresh salt, the crate's default cost).
fn hash_passphrase(passphrase: &str) -> Option<String> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    use rand::Rng;
    let bytes: [u8; 16] = rand::rng().random();
    let salt = SaltString::encode_b64(&bytes).ok()?;
    argon2::Argon2::default()
        .hash_password(passphrase.as_bytes(), &salt)
        .ok()
        .map(|h| h.to_string())
}

/// Whether `given` is the passphrase `stored` (an Argon2 PHC string) was made from.
pub fn passphrase_matches(stored: &str, given: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(stored).is_ok_and(|h| {
        argon2::Argon2::default()
            .verify_password(given.as_bytes(), &h)
            .is_ok()
    })
}

/// The executive, signed in, with the project's record.
async fn executive_record(
    state: &Arc<AppState>,
    headers: &HeaderMap,
) -> Result<(Signed, Arc<ProjectRecord>), auth::Denied> {
    let (signed, record) = auth::signed_record(state, headers).await?;
    auth::check_executive(&signed)?;
    Ok((signed, record))
}

/// `GET /links`.
pub async fn page(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    match executive_record(&state, &headers).await {
        Ok((signed, record)) => render(&state, &signed, &record, None).await,
        Err(d) => d.into_response(),
    }
}

/// The page, with a link just made (its full address, shown this once).
async fn render(
    state: &Arc<AppState>,
    signed: &Signed,
    record: &ProjectRecord,
    made: Option<(GuestLink, String, String)>,
) -> Response {
    let (store, project) = (state.store.clone(), signed.token.project.clone());
    let lists = blocking(move || Ok((store.links(&project)?, store.held_comments(&project)?)));
    let (links, held) = match lists.await {
        Ok(l) => l,
        Err(e) => return e.into_response(),
    };
    let main = html! {
        h1 { "Listening links" }
        p.lede { "A listening link lets someone without a token (the artist, the label's A&R) \
                  hear the selected versions of one song or of the album, and leave a comment \
                  you accept or dismiss. Nothing else of the record is shown to them." }
        @if let Some((link, secret, base)) = &made { (made_box(link, secret, base)) }
        (make_form(signed, record))
        (held_section(signed, record, &held))
        (links_table(signed, &links))
    };
    layout::page(
        Frame {
            signed,
            title: "Listening links",
            nav: Nav::Links,
            seq: record.seq,
            waiting: super::queue::awaiting(record).count(),
        },
        main,
    )
}

fn scope_words(song: Option<&str>) -> Markup {
    match song {
        Some(s) => html! { "the song " (typed(s)) },
        None => html! { "the album" },
    }
}

/// The link just made, with its full address (`base`: [`auth::site_address`]).
fn made_box(link: &GuestLink, secret: &str, base: &str) -> Markup {
    let url = format!("{base}/listen/{secret}");
    html! {
        section.made role="status" aria-labelledby="made-h" data-once {
            h2 #made-h { "The new link for " (scope_words(link.song.as_deref())) }
            label for="made-url" { "Send this address (it is shown only now; copy it)" }
            input #made-url type="text" readonly value=(url) size="80";
            @if link.passphrase.is_some() {
                p.hint { "Send the passphrase another way (a call, a message)." }
            }
        }
    }
}

fn make_form(signed: &Signed, record: &ProjectRecord) -> Markup {
    html! {
        section aria-labelledby="make-h" {
            h2 #make-h { "Make a link" }
            form.make-link method="post" action="/links" {
                input type="hidden" name="csrf" value=(signed.csrf);
                label for="link-scope" { "Opens" }
                select #link-scope name="scope" {
                    option value="" { "The album" }
                    @for song in record.views.songs_in_order() {
                        option value=(song) { "The song " (isolated(&song)) }
                    }
                }
                label for="link-label" { "Who it is for" }
                input #link-label type="text" name="label" required maxlength=(MAX_NAME_CHARS)
                    placeholder="for the label's A&R" autocomplete="off";
                label for="link-days" { "Lasts (days)" }
                input #link-days type="number" name="days" min="1" max=(MOST_DAYS)
                    value=(DEFAULT_DAYS);
                label for="link-passphrase" { "Passphrase (optional)" }
                input #link-passphrase type="password" name="passphrase" maxlength="200"
                    minlength=(SHORTEST_PASSPHRASE) autocomplete="new-password";
                button.primary type="submit" { "Make the link" }
            }
        }
    }
}

fn links_table(signed: &Signed, links: &[GuestLink]) -> Markup {
    let now = liner_record::event::now_ms();
    html! {
        section aria-labelledby="links-h" {
            h2 #links-h { "Links" }
            @if links.is_empty() {
                p.empty { "No listening link yet." }
            } @else {
                div.scroll { table.links {
                    caption.sr { "Listening links, newest first" }
                    thead { tr {
                        th scope="col" { "For" } th scope="col" { "Opens" }
                        th scope="col" { "Made" } th scope="col" { "Expires" }
                        th scope="col" { "Last used" } th scope="col" { "State" }
                    } }
                    tbody {
                        @for l in links { (link_row(signed, l, now)) }
                    }
                } }
            }
        }
    }
}

fn link_row(signed: &Signed, l: &GuestLink, now: i64) -> Markup {
    let state = l.state(now);
    html! {
        tr.link data-id=(l.id) {
            th scope="row" { (typed(&l.label))
                @if l.passphrase.is_some() { " " span.badge { "passphrase" } } }
            td { (scope_words(l.song.as_deref())) }
            td { "by " (typed(&l.made_by)) ", " (date_time(l.created_ms)) }
            td { (date_time(l.expires_ms)) }
            td { @match l.last_used_ms {
                Some(at) => { (date_time(at)) " (" (l.uses) " "
                    (if l.uses == 1 { "visit" } else { "visits" }) ")" },
                None => "never",
            } }
            td {
                span class={ "badge link-" (state.words()) } { (state.words()) }
                @if state == LinkState::Live {
                    form.revoke method="post" action="/links/revoke" {
                        input type="hidden" name="csrf" value=(signed.csrf);
                        input type="hidden" name="id" value=(l.id);
                        button type="submit" { "Revoke" }
                    }
                }
            }
        }
    }
}

fn held_section(signed: &Signed, record: &ProjectRecord, held: &[HeldComment]) -> Markup {
    html! {
        section aria-labelledby="held-h" {
            h2 #held-h { "Guests' comments waiting (" (held.len()) ")" }
            @if held.is_empty() {
                p.empty { "No comment from a guest waits." }
            }
            ul.held {
                @for c in held {
                    @let v = record.views.versions.iter().find(|v| v.id == c.version);
                    li.held-comment data-id=(c.id) {
                        strong { (typed(&c.name)) } " (guest) · on "
                        @if let Some(v) = v { (typed(&v.song)) ", " (typed(&v.label)) }
                        " at " (super::guests::time_words(c.at, c.until))
                        " · link " (typed(&c.link_label)) " · " (date_time(c.created_ms))
                        blockquote { (typed(&c.text)) }
                        form.settle method="post" action="/links/held" {
                            input type="hidden" name="csrf" value=(signed.csrf);
                            input type="hidden" name="id" value=(c.id);
                            button.approve type="submit" name="action" value="accept" {
                                "Accept into the record" }
                            button type="submit" name="action" value="dismiss" { "Dismiss" }
                        }
                    }
                }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct MakeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    days: String,
    #[serde(default)]
    passphrase: String,
}

/// What the form asks for, checked: the link to make, or words for the executive.
fn new_link(
    signed: &Signed,
    record: &ProjectRecord,
    f: &MakeForm,
) -> Result<(NewLink, Option<String>), &'static str> {
    let song = match f.scope.trim() {
        "" => None,
        s if record.views.songs().contains(s) => Some(s.to_owned()),
        _ => return Err("This project has no such song."),
    };
    let label = liner_record::names::checked_name(&f.label)
        .map_err(|_| "Say who the link is for: one line, at most 200 characters.")?;
    let days = match f.days.trim() {
        "" => DEFAULT_DAYS,
        d => d
            .parse::<i64>()
            .ok()
            .filter(|d| (1..=MOST_DAYS).contains(d))
            .ok_or("A link lasts from 1 to 365 days.")?,
    };
    let passphrase = match f.passphrase.as_str() {
        "" => None,
        p if p.chars().count() < SHORTEST_PASSPHRASE || p.len() > 200 => {
            return Err("A passphrase has 8 to 200 characters (or leave it empty).")
        }
        p => Some(p.to_owned()),
    };
    let link = NewLink {
        project: signed.token.project.clone(),
        token: signed.token.id,
        song,
        label: label.to_owned(),
        passphrase: None,
        expires_ms: liner_record::event::now_ms() + days * 24 * 3600 * 1000,
    };
    Ok((link, passphrase))
}

/// `POST /links`: makes a link and shows its address once.
pub async fn make(
    State(state): State<Arc<AppState>>,
    tls: Option<axum::Extension<crate::tls::OverTls>>,
    headers: HeaderMap,
    Form(f): Form<MakeForm>,
) -> Response {
    let (signed, record) = match executive_record(&state, &headers).await {
        Ok(s) => s,
        Err(d) => return d.into_response(),
    };
    if let Err(d) = auth::check_csrf(&signed, &f.csrf, &headers) {
        return d.into_response();
    }
    let (mut link, passphrase) = match new_link(&signed, &record, &f) {
        Ok(l) => l,
        Err(words) => return refused(&headers, StatusCode::UNPROCESSABLE_ENTITY, words),
    };
    if let Some(p) = passphrase {
        link.passphrase = tokio::task::spawn_blocking(move || hash_passphrase(&p))
            .await
            .ok()
            .flatten();
        if link.passphrase.is_none() {
            return refused(
                &headers,
                StatusCode::INTERNAL_SERVER_ERROR,
                "The passphrase could not be kept; try again.",
            );
        }
    }
    let store = state.store.clone();
    match blocking(move || store.create_link(&link)).await {
        Ok((link, secret)) => {
            let base = auth::site_address(&state, &headers, tls.is_some());
            render(&state, &signed, &record, Some((link, secret, base))).await
        }
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
pub struct IdForm {
    #[serde(default)]
    csrf: String,
    id: i64,
    #[serde(default)]
    action: String,
}

/// `POST /links/revoke`.
pub async fn revoke(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(f): Form<IdForm>,
) -> Response {
    let signed = match executive(&state, &headers, &f.csrf).await {
        Ok(s) => s,
        Err(d) => return d.into_response(),
    };
    let (store, project) = (state.store.clone(), signed.token.project.clone());
    match blocking(move || store.revoke_link(&project, f.id)).await {
        Ok(true) => Redirect::to("/links").into_response(),
        Ok(false) => refused(
            &headers,
            StatusCode::NOT_FOUND,
            "No such live link to revoke.",
        ),
        Err(e) => e.into_response(),
    }
}

/// `POST /links/held`: accepts (records the note) or dismisses a guest's held comment.
pub async fn settle(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(f): Form<IdForm>,
) -> Response {
    let signed = match executive(&state, &headers, &f.csrf).await {
        Ok(s) => s,
        Err(d) => return d.into_response(),
    };
    let record = match auth::record_of(&state, &signed).await {
        Ok(r) => r,
        Err(d) => return d.into_response(),
    };
    let (store, project, id) = (state.store.clone(), signed.token.project.clone(), f.id);
    if f.action != "accept" && f.action != "dismiss" {
        return refused(
            &headers,
            StatusCode::UNPROCESSABLE_ENTITY,
            "Accept or dismiss the comment with its buttons.",
        );
    }
    if f.action == "dismiss" {
        return match blocking(move || store.settle_comment(&project, id, Fate::Dismiss)).await {
            Ok(_) => Redirect::to("/links").into_response(),
            Err(e) => e.into_response(),
        };
    }
    let held = match blocking(move || store.held_comments(&project)).await {
        Ok(h) => h.into_iter().find(|c| c.id == id),
        Err(e) => return e.into_response(),
    };
    let Some(event) = held
        .as_ref()
        .and_then(|c| accepted_note(&signed, &record, c))
    else {
        return refused(
            &headers,
            StatusCode::NOT_FOUND,
            "That comment no longer waits (or its version is gone).",
        );
    };
    let (store, project, note) = (state.store.clone(), signed.token.project.clone(), event.id);
    match blocking(move || store.settle_comment(&project, id, Fate::Accept(note))).await {
        Ok(Some(_)) => {}
        Ok(None) => return Redirect::to("/links").into_response(),
        Err(e) => return e.into_response(),
    }
    let r = store_event(&state, &headers, &signed, event, "/links").await;
    if !r.status().is_success() && !r.status().is_redirection() {
        let store = state.store.clone();
        let _ = blocking(move || store.unsettle_comment(id)).await;
    }
    r
}

/// The note a held comment becomes: the executive's, naming the guest, on the version the
/// guest heard, at the DAW position of the time they gave.
fn accepted_note(signed: &Signed, record: &ProjectRecord, c: &HeldComment) -> Option<Event> {
    let v = record.views.versions.iter().find(|v| v.id == c.version)?;
    let place = |t: f64| daw_position(&v.printed, t);
    let anchor = match (c.at.and_then(place), c.until.and_then(place)) {
        (Some(from), Some(to)) => Some(Anchor::Range { from, to }),
        (Some(at), None) => Some(Anchor::Point { at }),
        _ => None,
    };
    let body = Body::NoteAdded(NoteAdded {
        text: c.text.clone(),
        category: Category::General,
        anchor,
        take: None,
        private: false,
        version: Some(v.id),
        guest: Some(c.name.clone()),
    });
    let ctx = context_of(signed, v.song.clone(), v.track.clone());
    Some(Event::new(&ctx, None, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_passphrase_is_kept_salted_and_only_the_same_one_matches() {
        let kept = hash_passphrase("correct horse").unwrap();
        assert!(kept.starts_with("$argon2id$"), "{kept}");
        assert!(!kept.contains("correct horse"));
        assert_ne!(kept, hash_passphrase("correct horse").unwrap(), "salted");
        assert!(passphrase_matches(&kept, "correct horse"));
        assert!(!passphrase_matches(&kept, "correct horse "));
        assert!(!passphrase_matches(&kept, ""));
        assert!(!passphrase_matches("not a hash", "correct horse"));
    }
}

//! "For you" (`/digest`): one person's digest ([`liner_record::digest`], the same the feed and
//! the mail say): what waits for them, with links to the items, and what answered them since
//! their last look. Opening it counts as a look (recorded after the page is made, so it shows
//! what was new at this visit, and the next starts from now).
//!
//! Below, their private feed ([`crate::feed`]): `POST /digest/feed` makes a new address
//! (shown once, as a full URL; any older one stops working), `POST /digest/feed/off` turns it
//! off. Both act on the signed-in person only (nothing in the form names anyone) and need the
//! session's CSRF secret, like every form.

use super::auth::{self, Signed};
use super::layout::{self, Frame, Nav};
use super::queue::awaiting;
use crate::api::blocking;
use crate::mail::message::{song_link, waiting_link};
use crate::state::{AppState, ProjectRecord};
use crate::store::DigestPrefs;
use crate::tls::OverTls;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use liner_record::digest::Digest;
use liner_record::export::date_time;
use maud::{html, Markup};
use serde::Deserialize;
use std::sync::Arc;

/// `GET /digest`.
pub async fn page(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    // Before the record is read: what is stored meanwhile shows at the next look.
    let now = liner_record::event::now_ms();
    let (signed, record) = match auth::signed_record(&state, &headers).await {
        Ok(x) => x,
        Err(d) => return d.into_response(),
    };
    let (project, person, role) = who(&signed);
    let store = state.store.clone();
    let prefs = match blocking(move || store.digest_prefs(&project, &person)).await {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let since = prefs.as_ref().and_then(|p| p.last_look_ms);
    let digest = record.digest(&signed.token.person, role, since);
    let main = html! {
        h1 { "For you" }
        p.lede { "What waits for you and what answered you. Opening this page counts as a \
                  look: next time it starts from now." }
        (waiting(&digest))
        (news(&digest))
        (feed_controls(&signed, prefs.as_ref()))
        (mail_state(prefs.as_ref()))
    };
    let (project, person, _) = who(&signed);
    let store = state.store.clone();
    if let Err(e) = blocking(move || store.record_look(&project, &person, role, now)).await {
        return e.into_response();
    }
    frame(&signed, &record, "For you", main)
}

/// The signed-in person: their project, name and role (what every digest form acts on; no
/// form field names anyone).
fn who(signed: &Signed) -> (crate::store::Project, String, liner_record::Role) {
    let t = &signed.token;
    (t.project.clone(), t.person.clone(), t.role)
}

fn frame(signed: &Signed, record: &ProjectRecord, title: &str, main: Markup) -> Response {
    layout::page(
        Frame {
            signed,
            title,
            nav: Nav::Digest,
            seq: record.seq,
            waiting: awaiting(record).count(),
        },
        main,
    )
}

fn waiting(digest: &Digest) -> Markup {
    html! {
        section.digest aria-labelledby="waits-h" {
            h2 #waits-h { "Waits for you (" (digest.waiting.len()) ")" }
            @if digest.waiting.is_empty() {
                p.empty { "Nothing waits for you." }
            }
            ul.digest {
                @for w in &digest.waiting {
                    @let (mark, words, class) = layout::standing_words(w.standing);
                    li {
                        span class={ "badge v-" (class) } { span aria-hidden="true" { (mark) } " " (words) }
                        " " a href=(waiting_link("", digest, w)) { (layout::typed(&w.song)) }
                        ": " (layout::typed(&w.words))
                    }
                }
            }
        }
    }
}

fn news(digest: &Digest) -> Markup {
    html! {
        section.digest aria-labelledby="news-h" {
            h2 #news-h {
                @match digest.since {
                    Some(at) => { "Since your last look (" (date_time(at)) ")" }
                    None => { "Since the start (your first look)" }
                }
            }
            @if digest.news.is_empty() {
                p.empty { "Nothing new for you since then." }
            }
            ul.digest {
                @for n in &digest.news {
                    li {
                        span.when { (date_time(n.at)) } " "
                        (layout::typed(&n.words)) " "
                        a href=(song_link("", &n.song, n.about)) { "Open" }
                    }
                }
            }
        }
    }
}

fn feed_controls(signed: &Signed, prefs: Option<&DigestPrefs>) -> Markup {
    let on = prefs.is_some_and(|p| p.feed);
    html! {
        section.digest aria-labelledby="feed-h" {
            h2 #feed-h { "Your private feed" }
            p { "The same digest as an Atom feed, for any feed reader or mail-to-feed service, \
                 at an address only you know. Anyone with the address can read it: keep it \
                 private, and make a new one (the old one stops working) if it got out." }
            @if on {
                p { "Your feed is on. Its address was shown once, when it was made." }
            }
            form method="post" action="/digest/feed" {
                input type="hidden" name="csrf" value=(signed.csrf);
                button type="submit" { @if on { "Make a new address" } @else { "Make my feed address" } }
            }
            @if on {
                form method="post" action="/digest/feed/off" {
                    input type="hidden" name="csrf" value=(signed.csrf);
                    button.quiet type="submit" { "Turn the feed off" }
                }
            }
        }
    }
}

fn mail_state(prefs: Option<&DigestPrefs>) -> Markup {
    let mail = prefs.and_then(|p| Some((p.mail_to.as_deref()?, p.every?)));
    html! {
        section.digest aria-labelledby="mail-h" {
            h2 #mail-h { "By mail" }
            @match mail {
                Some((to, every)) => p { "Mailed " (every.as_str()) " to " (layout::typed(to)) "." },
                None => p { "Not mailed. The studio can mail it to you daily or after each \
                             listening session (liner mail set)." },
            }
        }
    }
}

#[derive(Deserialize)]
pub struct FeedForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /digest/feed`: a new private address for the signed-in person, shown once.
pub async fn make_feed(
    State(state): State<Arc<AppState>>,
    tls: Option<axum::Extension<OverTls>>,
    headers: HeaderMap,
    Form(form): Form<FeedForm>,
) -> Response {
    let (signed, record) = match checked(&state, &headers, &form).await {
        Ok(x) => x,
        Err(d) => return d.into_response(),
    };
    let (project, person, role) = who(&signed);
    let store = state.store.clone();
    let secret = match blocking(move || store.new_feed(&project, &person, role)).await {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    let base = auth::site_address(&state, &headers, tls.is_some());
    let url = format!("{base}/feed/{secret}");
    let main = html! {
        h1 { "Your feed address" }
        p.lede { "Add this address to your feed reader. It is shown only now: keep it \
                  private. Any older address of yours no longer works." }
        label for="feed-url" { "Feed address" }
        input #feed-url type="text" readonly value=(url) size="80";
        p { a href="/digest" { "Back to For you" } }
    };
    frame(&signed, &record, "Your feed address", main)
}

/// `POST /digest/feed/off`.
pub async fn feed_off(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(form): Form<FeedForm>,
) -> Response {
    let (signed, _) = match checked(&state, &headers, &form).await {
        Ok(x) => x,
        Err(d) => return d.into_response(),
    };
    let (project, person, _) = who(&signed);
    let store = state.store.clone();
    if let Err(e) = blocking(move || store.end_feed(&project, &person)).await {
        return e.into_response();
    }
    Redirect::to("/digest").into_response()
}

/// The signed-in visitor of a feed form that carries their CSRF secret, and their record.
async fn checked(
    state: &Arc<AppState>,
    headers: &HeaderMap,
    form: &FeedForm,
) -> Result<(Signed, Arc<ProjectRecord>), auth::Denied> {
    let (signed, record) = auth::signed_record(state, headers).await?;
    auth::check_csrf(&signed, &form.csrf, headers)?;
    Ok((signed, record))
}

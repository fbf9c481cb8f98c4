//! The executive producer's review page, served at `/` by the same binary: no front-end build
//! step (HTML rendered by maud, compiled in; a stylesheet and a little plain JavaScript served
//! from the binary). One file per area:
//!
//! - [`auth`]: sign-in with a token (a session cookie: HttpOnly, SameSite=Strict, Secure
//!   behind https), sign-out, and the CSRF defence every state change passes.
//! - [`layout`]: the frame of every page, and the pieces they share (verdict badges,
//!   positions, verdict forms).
//! - [`overview`]: songs with their status, counts, last activity, worked time.
//! - [`queue`]: what awaits the final say, oldest first, filterable; decided from the keyboard.
//! - [`song`]: one song by track on a timeline, takes, marks, verdicts, the recall sheet.
//! - [`tracklist`]: which songs make the record, and their order.
//! - [`decide`]: the executive's POSTs (verdicts, tracklist, selection), each one event.
//! - [`thread`]: replies under every item, and *done* after changes requested (the way back
//!   into the queue as a re-check).
//! - [`digest`]: "For you": one person's digest (what waits for them, what answered them
//!   since their last look) and their private feed's address.
//! - [`live`]: server-sent events that tell open pages the record changed.
//! - [`listen`]: the audio clips of notes, decisions and marks, played from their moment.
//! - [`versions`]: a song's printed versions: the stack, the player with its waveform, A/B,
//!   comments on the waveform.
//! - [`album`]: the selected versions played as the record, gapless, in tracklist order.
//! - [`links`]: the executive's listening links and the guests' held comments.
//! - [`guests`]: a guest's listening page (`/listen/<secret>`): no sign-in, only what the
//!   link names.
//! - [`assets`]: the stylesheet and the script.
//!
//! Every user-typed string is escaped (maud escapes everything it is given) and isolated
//! (`layout::typed`: a `<bdi>`, so its writing direction cannot reorder the page); the
//! Content-Security-Policy allows no inline script or style; every state change is a POST
//! carrying the session's CSRF secret, from the page's own origin.

mod album;
mod assets;
mod auth;
mod comment;
mod decide;
mod digest;
mod guests;
mod layout;
mod links;
mod listen;
mod live;
mod overview;
mod queue;
mod song;
mod thread;
mod tracklist;
mod versions;

use crate::state::AppState;
use axum::http::{header, HeaderValue};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;

pub use auth::SESSION_COOKIE;
pub use guests::GUEST_COOKIE;

/// The pages of the review page (its GET routes that render HTML): the only places a form may
/// send the browser back to (see `decide::safe_back`). Keep in step with [`router`].
pub const PAGES: [&str; 5] = ["/", "/queue", "/song", "/tracklist", "/links"];

/// The review page's routes, with their security headers.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", get(overview::page))
        .route("/sign-in", post(auth::sign_in))
        .route("/sign-out", post(auth::sign_out))
        .route("/queue", get(queue::page))
        .route("/song", get(song::page))
        .route("/tracklist", get(tracklist::page))
        .route("/verdict", post(decide::verdict))
        .route("/tracklist/move", post(decide::move_song))
        .route("/tracklist/order", post(decide::order))
        .route("/selection", post(decide::selection))
        .route("/comment", post(comment::comment))
        .route("/reply", post(thread::reply))
        .route("/reply/edit", post(thread::edit_reply))
        .route("/reply/delete", post(thread::delete_reply))
        .route("/done", post(thread::done))
        .route("/digest", get(digest::page))
        .route("/digest/feed", post(digest::make_feed))
        .route("/digest/feed/off", post(digest::feed_off))
        .route("/feed/{secret}", get(crate::feed::feed))
        .route("/links", get(links::page).post(links::make))
        .route("/links/revoke", post(links::revoke))
        .route("/links/held", post(links::settle))
        .route("/listen/{secret}", get(guests::page))
        .route("/listen/{secret}/passphrase", post(guests::enter))
        .route("/listen/{secret}/comment", post(guests::comment))
        .route("/listen/{secret}/audio/{file}", get(guests::audio))
        .route("/export", get(decide::export))
        .route("/live", get(live::stream))
        .route("/clips/{hash}", get(listen::clip))
        .route("/versions/{hash}", get(listen::version))
        .route("/assets/app.css", get(assets::css))
        .route("/assets/app.js", get(assets::js))
        .route("/assets/player.js", get(assets::player_js))
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

/// No inline script or style, nothing from elsewhere, no framing; pages are not cached. (A
/// response may bring a stricter policy of its own: the printable log allows its inline
/// stylesheet and no script at all.)
async fn security_headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                 media-src 'self'; connect-src 'self'; form-action 'self'; \
                 frame-ancestors 'none'; base-uri 'none'",
            ),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    r
}

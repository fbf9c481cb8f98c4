//! Each person's digest as an Atom 1.0 feed at a private address, `GET /feed/SECRET`: what
//! any feed reader or mail-to-feed service can read without a cookie or a token.
//!
//! The secret is 32 random bytes made on the review page ("For you"), stored hashed, looked up
//! by hash and compared again in constant time; a new one revokes the old, and the person can
//! turn it off. An address that is unknown, revoked, or of a person whose tokens of the
//! feed's role are all revoked answers `404` with words, and counts as a wrong guess against
//! the client's address ([`crate::fair::guesses`]), so guessing is slowed like guessing
//! tokens.
//!
//! The entries are [`liner_record::digest`]'s, the same words the page and the mail say:
//! the person's news (never their own words, never anything about a private note), and for
//! the executive what waits for a verdict. Ids are stable `urn:uuid:`s (a piece of news is
//! its event's id; a waiting item a name-based id of the item and where it stands), and each
//! entry links to the review page when the server knows its address (`--public-url`).

use crate::api::blocking;
use crate::fair::connections::Peer;
use crate::mail::message::{song_link, waiting_link};
use crate::state::AppState;
use crate::store::digests::FEED_PREFIX;
use crate::store::DigestPrefs;
use atom_syndication::{Entry, Feed, Link, Person, Text};
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use liner_record::digest::Digest;
use liner_record::Role;
use std::sync::Arc;
use uuid::Uuid;

/// What an unknown or revoked address hears.
const GONE: &str = "No feed at this address: it was turned off or replaced by a newer one, or \
    its person no longer has access. Make a new address on the review page, under For you.\n";

/// `GET /feed/{secret}` (see the module docs).
pub async fn feed(
    State(state): State<Arc<AppState>>,
    peer: Peer,
    Path(secret): Path<String>,
) -> Response {
    if let Err(wait) = state.guesses.turn(peer.0).await {
        let mut r = words(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many wrong feed addresses came from here. Wait a little, then try again.\n",
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(wait.as_secs() + 1));
        return r;
    }
    let prefs = if well_formed(&secret) {
        let store = state.store.clone();
        match blocking(move || store.feed(&secret)).await {
            Ok(prefs) => prefs,
            Err(e) => return e.into_response(),
        }
    } else {
        None
    };
    let Some(prefs) = prefs else {
        state.guesses.missed(peer.0);
        return words(StatusCode::NOT_FOUND, GONE);
    };
    let (st, project) = (state.clone(), prefs.project.clone());
    let record = match blocking(move || st.record(&project)).await {
        Ok(record) => record,
        Err(e) => return e.into_response(),
    };
    let digest = record.digest(&prefs.person, prefs.role, None);
    let xml = atom(&prefs, &digest, state.public_url.get().map(String::as_str)).to_string();
    (
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        xml,
    )
        .into_response()
}

fn words(status: StatusCode, text: &'static str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text,
    )
        .into_response()
}

/// Whether `secret` is shaped like a feed's secret (the prefix and 64 hex digits): anything
/// else is not looked up.
fn well_formed(secret: &str) -> bool {
    secret
        .strip_prefix(FEED_PREFIX)
        .is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// `text` without what XML 1.0 cannot carry (control characters but tab and line breaks):
/// typed text may hold them, and one would make the whole feed unreadable.
fn xml_safe(text: &str) -> String {
    text.chars()
        .filter(|c| {
            matches!(c, '\t' | '\n' | '\r') || (*c >= ' ' && !matches!(c, '\u{FFFE}' | '\u{FFFF}'))
        })
        .collect()
}

fn time(ms: i64) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .fixed_offset()
}

fn entry(id: Uuid, title: &str, at: i64, link: Option<String>) -> Entry {
    let mut e = Entry::default();
    e.set_id(format!("urn:uuid:{id}"));
    e.set_title(Text::plain(xml_safe(title)));
    e.set_updated(time(at));
    if let Some(href) = link {
        let mut l = Link::default();
        l.set_href(href);
        l.set_rel("alternate");
        e.set_links(vec![l]);
    }
    e
}

/// The digest as an Atom feed (see the module docs).
pub fn atom(prefs: &DigestPrefs, digest: &Digest, public_url: Option<&str>) -> Feed {
    let mut entries: Vec<Entry> = digest
        .news
        .iter()
        .map(|n| {
            entry(
                n.id,
                &n.words,
                n.at,
                public_url.map(|b| song_link(b, &n.song, n.about)),
            )
        })
        .collect();
    if prefs.role == Role::Executive {
        entries.extend(digest.waiting.iter().map(|w| {
            let title = format!(
                "Waits for your verdict ({}, {}): {}",
                w.song,
                w.standing.words(),
                w.words
            );
            // One entry per round: a second re-check of the same item is a new entry, at the
            // time its done came.
            let (round, at) = w.round;
            let id = Uuid::new_v5(&round, w.standing.words().as_bytes());
            entry(
                id,
                &title,
                at,
                public_url.map(|b| waiting_link(b, digest, w)),
            )
        }));
    }
    let mut feed = Feed::default();
    let key = format!("liner-notes:digest:{}:{}", prefs.project.id, prefs.person);
    feed.set_id(format!(
        "urn:uuid:{}",
        Uuid::new_v5(&Uuid::NAMESPACE_URL, key.as_bytes())
    ));
    feed.set_title(Text::plain(xml_safe(&format!(
        "Liner Notes: {}'s digest of {}",
        prefs.person, prefs.project.name
    ))));
    let newest = entries.iter().map(|e| *e.updated()).max();
    feed.set_updated(newest.unwrap_or_else(|| time(liner_record::event::now_ms())));
    let mut author = Person::default();
    author.set_name("Liner Notes");
    feed.set_authors(vec![author]);
    if let Some(base) = public_url {
        let mut l = Link::default();
        l.set_href(format!("{}/digest", base.trim_end_matches('/')));
        l.set_rel("alternate");
        feed.set_links(vec![l]);
    }
    feed.set_entries(entries);
    feed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_feed_shaped_secrets_are_looked_up_and_xml_keeps_to_what_it_can_carry() {
        assert!(well_formed(&format!("{FEED_PREFIX}{}", "a".repeat(64))));
        assert!(!well_formed(&format!("{FEED_PREFIX}{}", "a".repeat(63))));
        assert!(!well_formed(&format!("ln_{}", "a".repeat(64))));
        assert!(!well_formed(&format!("{FEED_PREFIX}{}", "g".repeat(64))));
        assert_eq!(xml_safe("a\u{1}b\tc\u{FFFF}\u{1b}[31m"), "ab\tc[31m");
    }
}

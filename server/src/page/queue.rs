//! The decision queue (`/queue`): every note, EQ/FX decision and rated take awaiting the final
//! say (the record's rule, `liner_record::review`), oldest first, filterable by song, track, take, category and author. The executive
//! decides with the buttons, or from the keyboard (the page's script: j/k to move, a/r/c to
//! approve, reject or request changes, with the comment typed in the item's field).

use super::auth::{self, Signed};
use super::layout::{self, kind_words, mixed, place, typed, Frame, Nav};
use crate::state::{AppState, ProjectRecord};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use liner_record::export::EntryKind;
use liner_record::export::{isolated, Entry};
use liner_record::names::percent_encoded;
use liner_record::review::Standing;
use maud::{html, Markup};
use serde::Deserialize;
use std::collections::BTreeSet;
use std::sync::Arc;

/// How many items the queue shows at first (more on request).
const PAGE: usize = 100;

/// What waits for a verdict (by the record's one rule, [`Standing::waits`]: open, or done
/// and back for a re-check), oldest first.
pub fn awaiting(record: &ProjectRecord) -> impl Iterator<Item = &Entry> {
    let mut list: Vec<&Entry> = record
        .entries
        .iter()
        .filter(|e| e.standing().is_some_and(Standing::waits))
        .collect();
    list.sort_by_key(|e| (e.at, e.id));
    list.into_iter()
}

#[derive(Deserialize, Default)]
pub struct Filter {
    song: Option<String>,
    track: Option<String>,
    take: Option<String>,
    category: Option<String>,
    author: Option<String>,
    /// "open" (never judged) or "recheck" (done after changes requested); empty: both.
    state: Option<String>,
    show: Option<usize>,
}

impl Filter {
    fn admits(&self, e: &Entry) -> bool {
        let is = |want: &Option<String>, have: &str| {
            want.as_deref().is_none_or(|w| w.is_empty() || w == have)
        };
        is(&self.song, &e.song)
            && is(&self.track, &e.track)
            && is(&self.take, &e.take.map_or(String::new(), |t| t.to_string()))
            && is(&self.category, e.kind.category())
            && is(&self.author, &e.author)
            && is(&self.state, e.standing().map_or("", state_name))
    }

    /// This filter as a query string (for links that keep it).
    fn query(&self) -> String {
        let mut q = Vec::new();
        for (name, value) in [
            ("song", &self.song),
            ("track", &self.track),
            ("take", &self.take),
            ("category", &self.category),
            ("author", &self.author),
            ("state", &self.state),
        ] {
            if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
                q.push(format!("{name}={}", percent_encoded(v)));
            }
        }
        q.join("&")
    }
}

/// A waiting item's state as the filter names it.
fn state_name(s: Standing) -> &'static str {
    match s {
        Standing::Recheck => "recheck",
        _ => "open",
    }
}

fn select(
    name: &str,
    label: &str,
    chosen: &Option<String>,
    options: &BTreeSet<String>,
) -> maud::Markup {
    let id = format!("f-{name}");
    html! {
        div.field {
            label for=(id) { (label) }
            select id=(id) name=(name) {
                option value="" { "All" }
                @for o in options {
                    option value=(o) selected[chosen.as_deref() == Some(o.as_str())] {
                        // An option holds no element: isolated as plain text.
                        @if o.is_empty() { "(none)" } @else { (isolated(o)) }
                    }
                }
            }
        }
    }
}

pub async fn page(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    filter: Result<Query<Filter>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let (signed, record) = match auth::signed_record(&state, &headers).await {
        Ok(x) => x,
        Err(d) => return d.into_response(),
    };
    let filter = filter.map(|Query(f)| f).unwrap_or_default();
    let all: Vec<&Entry> = awaiting(&record).collect();
    let rechecks = all
        .iter()
        .filter(|e| e.standing() == Some(Standing::Recheck))
        .count();
    let options = |f: fn(&Entry) -> String| all.iter().map(|e| f(e)).collect::<BTreeSet<_>>();
    let shown: Vec<&&Entry> = all.iter().filter(|e| filter.admits(e)).collect();
    let limit = filter.show.unwrap_or(PAGE).clamp(PAGE, 100_000);
    let query = filter.query();
    let back = if query.is_empty() {
        "/queue".to_owned()
    } else {
        format!("/queue?{query}")
    };
    let main = html! {
        h1 { "Decision queue" }
        p.lede {
            (shown.len()) " of " (all.len()) " waiting for the final say, oldest first ("
            (rechecks) " done and back for a re-check)."
            @if signed.is_executive() {
                " Keyboard: " kbd { "j" } " / " kbd { "k" } " to move, "
                kbd { "a" } " approve, " kbd { "r" } " reject, " kbd { "c" } " request changes \
                 (with the comment typed in the item), " kbd { "p" } " play or pause its audio."
            }
        }
        form.filters method="get" action="/queue" {
            (select("song", "Song", &filter.song, &options(|e| e.song.clone())))
            (select("track", "Track", &filter.track, &options(|e| e.track.clone())))
            (select("take", "Take", &filter.take,
                &options(|e| e.take.map_or(String::new(), |t| t.to_string()))))
            (select("category", "Category", &filter.category,
                &options(|e| e.kind.category().to_owned())))
            (select("author", "Author", &filter.author, &options(|e| e.author.clone())))
            div.field {
                label for="f-state" { "Waiting" }
                select id="f-state" name="state" {
                    option value="" { "All" }
                    option value="open" selected[filter.state.as_deref() == Some("open")] { "New" }
                    option value="recheck" selected[filter.state.as_deref() == Some("recheck")] {
                        "Re-check (" (rechecks) ")"
                    }
                }
            }
            button type="submit" { "Filter" }
            @if !query.is_empty() { a href="/queue" { "Clear" } }
        }
        @if shown.is_empty() {
            p.empty { "Nothing waits for a verdict here." }
        }
        ol.queue {
            @let guests = record.views.note_guests();
            @for e in shown.iter().take(limit) {
                (queue_item(e, &record, &signed, &back, guests.get(&e.id).copied()))
            }
        }
        @if shown.len() > limit {
            p { a href={ "/queue?" (query) @if !query.is_empty() { "&" } "show=" (limit + PAGE) } {
                "Show more (" (shown.len() - limit) " left)"
            } }
        }
    };
    layout::page(
        Frame {
            signed: &signed,
            title: "Decision queue",
            nav: Nav::Queue,
            seq: record.seq,
            waiting: all.len(),
        },
        main,
    )
}

/// One item of the queue: where and who, its text, its clip, the executive's form and its
/// thread.
fn queue_item(
    e: &Entry,
    record: &ProjectRecord,
    signed: &Signed,
    back: &str,
    guest: Option<&str>,
) -> Markup {
    html! {
        li.item data-id=(e.id) tabindex="-1" {
            div.meta {
                a href={ "/song?name=" (percent_encoded(&e.song)) } { (typed(&e.song)) }
                " · "
                @if e.track.is_empty() { "(no track)" } @else { (typed(&e.track)) }
                @if let Some(t) = e.take { " · take " (t) }
                " · " span.where { (place(e)) }
            }
            p.what {
                span.kind { (kind_words(e)) } " by "
                (layout::author(e, guest))
            }
            p.text { (mixed(&e.text)) }
            @if e.standing() == Some(Standing::Recheck) {
                div.verdict { (layout::verdict_badge(e.verdict.as_ref())) }
                (super::thread::done_words(&record.views, e))
            }
            @if let Some(clip) = record.views.clips.get(&e.id) {
                (super::listen::player(clip))
            }
            @if matches!(e.kind, EntryKind::Version) {
                p { a href={ "/song?name=" (percent_encoded(&e.song)) "&v=" (e.id) "#versions-h" } {
                    "Listen on its waveform, compare with other versions"
                } }
            }
            (layout::verdict_form(signed, e.id, back))
            (super::thread::thread(signed, &record.views, e.id, back))
        }
    }
}

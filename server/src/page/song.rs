//! One song (`/song?name=...`): its notes, takes and marks by track on a timeline (bars.beats
//! and time), take ratings, verdicts, and the recall sheet (the standing EQ/FX decision per
//! track and processor).

use super::auth::{self, Signed};
use super::layout::{self, kind_words, mixed, place, typed, verdict_badge, Frame, Nav};
use super::overview::selection_badge;
use super::queue::awaiting;
use super::versions::{self, Pick};
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use liner_record::export::{isolated, settings_text, Entry, EntryKind};
use liner_record::names::percent_encoded;
use liner_record::views::DecisionView;
use liner_record::Views;
use maud::{html, Markup};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Deserialize)]
pub struct Which {
    #[serde(default)]
    name: String,
    /// The version in the player (default: the selected one, else the newest).
    #[serde(default)]
    v: Option<String>,
    /// The version to compare it with.
    #[serde(default)]
    b: Option<String>,
    /// Where the player starts in the first (seconds into it).
    #[serde(default)]
    t: Option<String>,
}

/// A track's entries on one line: takes as spans, notes as dots, marks as ticks, placed by
/// time (an SVG: attributes, no inline style). The list below it says the same in words. The
/// tooltips (SVG titles) hold no element: their typed text is isolated as plain text.
fn timeline(track: &str, entries: &[&Entry], end: f64) -> Markup {
    // Inset, so that a marker at either end is drawn whole.
    const LEFT: f64 = 8.0;
    const W: f64 = 984.0;
    let x = |seconds: f64| LEFT + (seconds / end * W).clamp(0.0, W);
    let placed: Vec<&&Entry> = entries.iter().filter(|e| e.start.is_some()).collect();
    html! {
        svg.timeline viewBox="0 0 1000 40" preserveAspectRatio="none" role="img"
            aria-label={ "Timeline of " (track) ": " (placed.len()) " items placed in time" } {
            line x1="0" y1="20" x2="1000" y2="20" class="axis" {}
            @for e in placed {
                @let s = e.start.as_ref().expect("filtered");
                @let class = e.standing()
                    .map_or(String::new(), |s| format!("v-{}", layout::standing_words(s).2));
                @match e.kind {
                    EntryKind::Take { .. } => {
                        @let to = e.end.as_ref().map_or(s.seconds, |t| t.seconds);
                        rect class={ "take " (class) } x=(format!("{:.1}", x(s.seconds))) y="8"
                            width=(format!("{:.1}", (x(to) - x(s.seconds)).max(3.0))) height="24" {
                            title { (e.text.isolated()) " · " (place(e)) }
                        }
                    }
                    EntryKind::Mark => {
                        rect class="mark" x=(format!("{:.1}", x(s.seconds) - 1.0)) y="2" width="2" height="36" {
                            title { (e.text.isolated()) " · " (place(e)) }
                        }
                    }
                    _ => {
                        circle class={ "note " (class) } cx=(format!("{:.1}", x(s.seconds))) cy="20" r="6" {
                            title { (kind_words(e)) ": " (e.text.isolated()) " · " (place(e)) }
                        }
                    }
                }
            }
        }
    }
}

/// The song page: its header, one section per track (timeline and entries), the recall sheet.
pub async fn page(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    which: Result<Query<Which>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let (signed, record) = match auth::signed_record(&state, &headers).await {
        Ok(x) => x,
        Err(d) => return d.into_response(),
    };
    let (name, pick) = which.map_or_else(
        |_| (String::new(), Pick::default()),
        |Query(w)| {
            let id = |s: Option<String>| s.and_then(|s| s.parse().ok());
            (
                w.name,
                Pick {
                    a: id(w.v),
                    b: id(w.b),
                    t: w.t.and_then(|t| t.parse().ok()),
                },
            )
        },
    );
    let views = &record.views;
    if !views.songs().contains(&name) {
        return layout::problem(
            StatusCode::NOT_FOUND,
            "This project has no song of that name (yet).",
        );
    }
    let tracks = entries_by_track(&record.entries, &name);
    let end = timeline_end(&record.entries, &name);
    let recall: Vec<_> = views
        .standing_decisions()
        .into_iter()
        .filter(|d| d.song == name)
        .collect();
    let back = format!("/song?name={}", percent_encoded(&name));
    let title = isolated(&name);
    let on_version = views.note_versions();
    let guests = views.note_guests();
    let main = html! {
        (header(views, &name))
        (versions::section(views, &record.entries, &name, &signed, pick))
        @for (track, list) in &tracks {
            (track_section(track, list, end, views, &signed, &back, (&on_version, &guests)))
        }
        (recall_sheet(&recall))
    };
    layout::page(
        Frame {
            signed: &signed,
            title: &title,
            nav: Nav::Song,
            seq: record.seq,
            waiting: awaiting(&record).count(),
        },
        main,
    )
}

/// The song's entries by track, each track's in time order (entries placed nowhere last, ties
/// by when they were made).
fn entries_by_track<'a>(entries: &'a [Entry], song: &str) -> BTreeMap<&'a str, Vec<&'a Entry>> {
    let mut tracks: BTreeMap<&str, Vec<&Entry>> = BTreeMap::new();
    // A song's versions are in its version stack, with their player.
    for e in entries
        .iter()
        .filter(|e| e.song == song && !matches!(e.kind, EntryKind::Version))
    {
        tracks.entry(e.track.as_str()).or_default().push(e);
    }
    for list in tracks.values_mut() {
        list.sort_by(|a, b| {
            let key = |e: &Entry| e.start.as_ref().map_or(f64::INFINITY, |p| p.seconds);
            key(a)
                .total_cmp(&key(b))
                .then((a.at, a.id).cmp(&(b.at, b.id)))
        });
    }
    tracks
}

/// Where every timeline of the song ends: its latest start or end, in seconds (at least 1).
fn timeline_end(entries: &[Entry], song: &str) -> f64 {
    entries
        .iter()
        .filter(|e| e.song == song)
        .flat_map(|e| [e.start.as_ref(), e.end.as_ref()])
        .flatten()
        .map(|p| p.seconds)
        .fold(1.0_f64, f64::max)
}

/// The song's name, its place on the record (and who decided it), and its export links.
fn header(views: &Views, name: &str) -> Markup {
    html! {
        h1 { (typed(name)) }
        p.lede {
            (selection_badge(views.song_selection.get(name).copied()))
            @if let Some(d) = views.song_selection_decided.get(name) {
                " decided by " (typed(&d.author)) ", " (liner_record::export::date_time(d.at))
            }
        }
        (layout::export_links(Some(name)))
    }
}

/// One track: its timeline with the time scale, then its entries in words.
fn track_section(
    track: &str,
    list: &[&Entry],
    end: f64,
    views: &Views,
    signed: &Signed,
    back: &str,
    (on_version, guests): (&BTreeMap<uuid::Uuid, &str>, &BTreeMap<uuid::Uuid, &str>),
) -> Markup {
    html! {
        section.track aria-label={ "Track " (track) } {
            h2 { @if track.is_empty() { "(no track)" } @else { (typed(track)) } }
            (timeline(track, list, end))
            div.scale aria-hidden="true" {
                span { (liner_record::position::format_time(0.0)) }
                span { (liner_record::position::format_time(end)) }
            }
            ul.entries {
                @for e in list {
                    (entry_item(e, views, signed, back, (on_version.get(&e.id).copied(), guests.get(&e.id).copied())))
                }
            }
        }
    }
}

/// One entry of a track's list: where and who, its text, its clip's player, its verdict and,
/// while it is open, the verdict form (which comes back to `back`).
fn entry_item(
    e: &Entry,
    views: &Views,
    signed: &Signed,
    back: &str,
    (on_version, guest): (Option<&str>, Option<&str>),
) -> Markup {
    html! {
        li.item id={ "item-" (e.id) } data-id=(e.id) tabindex="-1" {
            div.meta {
                span.where { (place(e)) }
                @if let Some(t) = e.take { " · take " (t) }
                " · " span.kind { (kind_words(e)) }
                " · " (layout::author(e, guest))
                @if let Some(label) = on_version { " · on " (typed(label)) }
            }
            p.text { (mixed(&e.text)) }
            @if let Some(clip) = views.clips.get(&e.id) {
                (super::listen::player(clip))
            }
            @if let Some(standing) = e.standing() {
                div.verdict { (verdict_badge(e.verdict.as_ref())) }
                (super::thread::done_words(views, e))
                @if standing.waits() {
                    (layout::verdict_form(signed, e.id, back))
                }
                (super::thread::done_form(signed, views, e, back))
            }
            (super::thread::thread(signed, views, e.id, back))
        }
    }
}

/// The recall sheet: the standing EQ/FX decision per track and processor of the song.
fn recall_sheet(recall: &[&DecisionView]) -> Markup {
    html! {
        section aria-labelledby="recall-h" {
            h2 #recall-h { "Recall sheet" }
            @if recall.is_empty() {
                p.empty { "No EQ or FX decisions recorded for this song." }
            } @else {
                div.scroll {
                    table {
                        thead { tr {
                            th scope="col" { "Track" }
                            th scope="col" { "Kind" }
                            th scope="col" { "Processor" }
                            th scope="col" { "Settings" }
                            th scope="col" { "Reason" }
                            th scope="col" { "Verdict" }
                        } }
                        tbody {
                            @for d in recall {
                                tr {
                                    td { (typed(&d.track)) }
                                    td { (d.kind.to_uppercase()) }
                                    td { (typed(&d.decision.processor)) }
                                    td { (mixed(&settings_text(&d.decision))) }
                                    td { (typed(&d.decision.reason)) }
                                    td { (verdict_badge(d.verdict.as_ref())) }
                                }
                            }
                        }
                    }
                }
                p.hint { "The standing decision per track and processor: the latest approved \
                          one, else the latest." }
            }
        }
    }
}

//! The overview (`/`): the project's songs in tracklist order with their status on the record,
//! what waits for a verdict, the verdict counts, the last activity, worked time per person per
//! song. Without a session, the sign-in form.

use super::auth;
use super::layout::{self, Frame, Nav};
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use liner_record::export::{date_time, duration, Entry};
use liner_record::names::percent_encoded;
use liner_record::review::Tally;
use liner_record::Views;
use maud::{html, Markup};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Counts of one song (or the project), by the record's one rule.
#[derive(Default, Clone, Copy)]
struct Counts {
    tally: Tally,
    last: Option<i64>,
}

/// The overview: the verdict tiles, the songs, the worked time, the export links.
pub async fn page(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let Some(signed) = auth::signed(&state, &headers).await else {
        return layout::sign_in_page(StatusCode::OK, None);
    };
    let record = match auth::record_of(&state, &signed).await {
        Ok(r) => r,
        Err(d) => return d.into_response(),
    };
    let views = &record.views;
    let (per_song, total) = counts(&record.entries);
    let last_event = record.events.iter().map(|e| e.at).max();
    let songs = views.songs_in_order();
    let store = state.store.clone();
    let backup = crate::api::blocking(move || store.last_backup()).await;
    let guests = guests_waiting(&state, &signed).await;
    let main = html! {
        h1 { "Overview" }
        (tiles(total, last_event))
        @if guests > 0 {
            p { a.primary-link href="/links#held-h" {
                "Guests' comments waiting for you (" (guests) ")"
            } }
        }
        (songs_table(&songs, &per_song, views))
        (worked_table(&songs, views))
        (layout::export_links(None))
        (last_backup(backup.ok().flatten()))
    };
    layout::page(
        Frame {
            signed: &signed,
            title: "Overview",
            nav: Nav::Overview,
            seq: record.seq,
            waiting: total.tally.waiting(),
        },
        main,
    )
}

/// How many guests' comments wait for the executive (0 for anyone else, who cannot settle
/// them, and when the store cannot say).
async fn guests_waiting(state: &Arc<AppState>, signed: &auth::Signed) -> usize {
    if !signed.is_executive() {
        return 0;
    }
    let (store, project) = (state.store.clone(), signed.token.project.clone());
    crate::api::blocking(move || store.held_comments(&project))
        .await
        .map_or(0, |h| h.len())
}

/// When the record was last backed up (`liner backup`), so nobody has to wonder.
fn last_backup(backup: Option<crate::store::BackupNote>) -> Markup {
    html! {
        p.backup {
            @match backup {
                Some(b) => {
                    "Last backup of the record: " (date_time(b.at_ms)) " (" (b.events) " events)."
                }
                None => {
                    "No backup of the record yet: whoever runs the server can make one with "
                    code { "liner backup --to FILE" } " (or pg_dump on PostgreSQL)."
                }
            }
        }
    }
}

/// The counts of each song and of the whole project.
fn counts(entries: &[Entry]) -> (BTreeMap<&str, Counts>, Counts) {
    let mut per_song: BTreeMap<&str, Counts> = BTreeMap::new();
    let mut total = Counts::default();
    for e in entries {
        let c = per_song.entry(e.song.as_str()).or_default();
        for c in [&mut *c, &mut total] {
            c.last = c.last.max(Some(e.at));
            c.tally.add(e.standing());
        }
    }
    (per_song, total)
}

/// The project's verdict counts and last activity as tiles, and the way to the queue while
/// anything waits.
fn tiles(total: Counts, last_event: Option<i64>) -> Markup {
    let waiting = total.tally.waiting();
    html! {
        section.tiles aria-label="Verdicts" {
            div.tile { span.num { (waiting) } span { "waiting for your verdict" } }
            div.tile.t-recheck { span.num { (total.tally.recheck) } span { "⟳ done, to re-check" } }
            div.tile.t-approved { span.num { (total.tally.approved) } span { "✓ approved" } }
            div.tile.t-rejected { span.num { (total.tally.rejected) } span { "✗ rejected" } }
            div.tile.t-changes { span.num { (total.tally.changes) } span { "↻ changes requested" } }
            div.tile {
                span.when { (last_event.map_or("nothing yet".into(), date_time)) }
                span { "last activity" }
            }
        }
        @if waiting > 0 {
            p { a.primary-link href="/queue" { "Decide what is waiting (" (waiting) ")" } }
        }
    }
}

/// The songs in tracklist order: place, name (a link to its page), place on the record,
/// verdict counts and last activity.
fn songs_table(songs: &[String], per_song: &BTreeMap<&str, Counts>, views: &Views) -> Markup {
    html! {
        section aria-labelledby="songs-h" {
            h2 #songs-h { "Songs" }
            @if songs.is_empty() {
                p.empty { "No songs yet: notes from the plugins appear here as they sync." }
            } @else {
                div.scroll {
                    table.songs {
                        thead { tr {
                            th scope="col" { "#" }
                            th scope="col" { "Song" }
                            th scope="col" { "On the record" }
                            th scope="col" { "Selected version" }
                            th.num scope="col" { "Open" }
                            th.num scope="col" { "Approved" }
                            th.num scope="col" { "Rejected" }
                            th.num scope="col" { "Changes" }
                            th.num scope="col" { "Re-check" }
                            th scope="col" { "Last activity" }
                        } }
                        tbody {
                            @for song in songs {
                                @let c = per_song.get(song.as_str()).copied().unwrap_or_default();
                                @let position = views.tracklist.iter().flatten()
                                    .position(|s| s == song);
                                tr {
                                    td.num { (position.map_or(String::new(), |p| (p + 1).to_string())) }
                                    th scope="row" {
                                        a href={ "/song?name=" (percent_encoded(song)) } {
                                            (layout::typed(song))
                                        }
                                    }
                                    td { (selection_badge(views.song_selection.get(song).copied())) }
                                    td { (selected_version(views, song)) }
                                    td.num { (c.tally.open) }
                                    td.num { (c.tally.approved) }
                                    td.num { (c.tally.rejected) }
                                    td.num { (c.tally.changes) }
                                    td.num { (c.tally.recheck) }
                                    td { (c.last.map_or("—".into(), date_time)) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Worked time per song and person, in the record's song order (`songs`).
fn worked_table(songs: &[String], views: &Views) -> Markup {
    let mut worked: Vec<&liner_record::worked::WorkedTime> = views.worked.iter().collect();
    worked.sort_by_key(|w| (songs.iter().position(|s| *s == w.song), w.person.clone()));
    html! {
        section aria-labelledby="worked-h" {
            h2 #worked-h { "Worked time" }
            @if views.worked.is_empty() {
                p.empty { "Nobody has worked on a song yet." }
            } @else {
                div.scroll {
                    table {
                        thead { tr {
                            th scope="col" { "Song" }
                            th scope="col" { "Person" }
                            th.num scope="col" { "Time" }
                        } }
                        tbody {
                            @for w in &worked {
                                tr {
                                    td { (layout::typed(&w.song)) }
                                    td { (layout::typed(&w.person)) }
                                    td.num { (duration(w.ms)) }
                                }
                            }
                        }
                    }
                }
                p.hint { "Time in which a person's plugin had the transport rolling or they \
                          recorded something, pauses under five minutes included." }
            }
        }
    }
}

/// A song's place on the record, in words and a mark.
pub fn selection_badge(selected: Option<bool>) -> maud::Markup {
    let (class, mark, words) = match selected {
        Some(true) => ("approved", "✓", "On the record"),
        Some(false) => ("rejected", "✗", "Left out"),
        None => ("open", "○", "Undecided"),
    };
    html! {
        span class={ "badge v-" (class) } { span aria-hidden="true" { (mark) } " " (words) }
    }
}

/// A song's selected version in words: its label and loudness, or what there is instead.
fn selected_version(views: &Views, song: &str) -> Markup {
    match (views.selected_version(song), views.versions_of(song).next()) {
        (Some(v), _) => html! {
            (layout::typed(&v.label)) " · "
            (v.printed.version.loudness.lufs_words())
        },
        (None, Some(_)) => html! { span.empty { "none approved" } },
        (None, None) => html! { span.empty { "none printed" } },
    }
}

//! The tracklist (`/tracklist`): which songs make the record, and their order. Move a song with
//! its up/down buttons (plain forms: they work without a mouse or the script) or drag it;
//! put it on the record or leave it off. Each change is one event by the executive.

use super::auth;
use super::layout::{self, Frame, Nav};
use super::overview::selection_badge;
use super::queue::awaiting;
use crate::state::AppState;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use liner_record::names::percent_encoded;
use maud::html;
use std::sync::Arc;

pub async fn page(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let (signed, record) = match auth::signed_record(&state, &headers).await {
        Ok(x) => x,
        Err(d) => return d.into_response(),
    };
    let views = &record.views;
    let songs = views.songs_in_order();
    let exec = signed.is_executive();
    let main = html! {
        h1 { "Tracklist" }
        p.lede {
            "The songs in the record's order, and which make it."
            @if let Some(d) = &views.tracklist_decided {
                " Order set by " (layout::typed(&d.author)) ", "
                (liner_record::export::date_time(d.at)) "."
            }
            @if exec { " Move a song with its buttons, or drag it by its handle." }
        }
        @if songs.is_empty() {
            p.empty { "No songs yet." }
        }
        ol.tracklist #tracklist {
            @for (i, song) in songs.iter().enumerate() {
                li.song data-song=(song) draggable=[exec.then_some("true")] {
                    @if exec { span.handle aria-hidden="true" title="Drag to move" { "⠿" } }
                    span.pos { (i + 1) }
                    a.name href={ "/song?name=" (percent_encoded(song)) } { (layout::typed(song)) }
                    (selection_badge(views.song_selection.get(song).copied()))
                    @if exec {
                        div.controls {
                            form method="post" action="/tracklist/move" {
                                input type="hidden" name="csrf" value=(signed.csrf);
                                input type="hidden" name="song" value=(song);
                                button type="submit" name="direction" value="up"
                                    disabled[i == 0] aria-label={ "Move " (song) " up" } { "↑ Up" }
                                button type="submit" name="direction" value="down"
                                    disabled[i + 1 == songs.len()]
                                    aria-label={ "Move " (song) " down" } { "↓ Down" }
                            }
                            form method="post" action="/selection" {
                                input type="hidden" name="csrf" value=(signed.csrf);
                                input type="hidden" name="song" value=(song);
                                @if views.song_selection.get(song) == Some(&true) {
                                    button type="submit" name="selected" value="false"
                                        aria-label={ "Leave off the record: " (song) } { "Leave off the record" }
                                } @else {
                                    button type="submit" name="selected" value="true"
                                        aria-label={ "Put on the record: " (song) } { "Put on the record" }
                                }
                            }
                        }
                    }
                }
            }
        }
        (super::album::section(views))
        (layout::export_links(None))
    };
    layout::page(
        Frame {
            signed: &signed,
            title: "Tracklist",
            nav: Nav::Tracklist,
            seq: record.seq,
            waiting: awaiting(&record).count(),
        },
        main,
    )
}

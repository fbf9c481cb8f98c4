//! The album on the tracklist page: the songs on the record in the executive's order, each
//! with the version that plays (its selected, approved version; else its newest print, said
//! to be unapproved), its loudness and true peak, the album's running time, and the songs
//! more than 2 LU from the album's median loudness flagged
//! ([`liner_record::export::album`], where the album's order and the rule live).
//!
//! The script plays them gapless: each song's audio decoded into a buffer and scheduled on
//! one `AudioContext` clock to start exactly where the previous one ends (no gap, no
//! overlap), the next decoded while the current one plays.

use super::layout::typed;
use super::versions::audio_src;
use liner_record::export::album::{album, loudness_flag, median_lufs, AlbumTrack};
use liner_record::position::format_time;
use liner_record::versions::lufs_words;
use liner_record::views::VersionView;
use liner_record::Views;
use maud::{html, Markup};

/// The album section.
pub fn section(views: &Views) -> Markup {
    section_of(album(views), AlbumTrack::playing, audio_src)
}

/// The album for a guest of a listening link: only selected (approved) versions play, each
/// from `src`; a song without one says so.
pub fn guest_section(views: &Views, src: impl Fn(&VersionView) -> String) -> Markup {
    section_of(album(views), |t| t.selected, src)
}

/// The section, `pick` choosing each song's version and `src` where its audio is served.
fn section_of<'a>(
    tracks: Vec<AlbumTrack<'a>>,
    pick: impl Fn(&AlbumTrack<'a>) -> Option<&'a VersionView>,
    src: impl Fn(&VersionView) -> String,
) -> Markup {
    let median = median_lufs(tracks.iter().filter_map(&pick));
    let running: f64 = tracks
        .iter()
        .filter_map(&pick)
        .map(|v| v.printed.version.seconds())
        .sum();
    let playable = tracks.iter().filter(|t| pick(t).is_some()).count();
    html! {
        section.album #album aria-labelledby="album-h" {
            h2 #album-h { "The album" }
            p.lede {
                (playable) " of " (tracks.len()) " songs have a version; running time "
                (format_time(running))
                @if let Some(m) = median { ", median loudness " (lufs_words(Some(m))) }
                "."
            }
            @if playable > 0 {
                div.transport {
                    button #album-play type="button" { "Play the album" }
                    button #album-stop type="button" disabled { "Stop" }
                    span #album-now aria-live="polite" {}
                }
            }
            ol.album-tracks {
                @for t in &tracks {
                    (track_item(t, pick(t), &src, median))
                }
            }
        }
    }
}

fn track_item(
    t: &AlbumTrack<'_>,
    v: Option<&VersionView>,
    src: impl Fn(&VersionView) -> String,
    median: Option<f64>,
) -> Markup {
    let Some(v) = v else {
        let missing = if t.newest.is_some() {
            "no approved version yet"
        } else {
            "no version printed"
        };
        return html! {
            li.album-track { (typed(&t.song)) " · " span.empty { (missing) } }
        };
    };
    let l = v.printed.version.loudness;
    let off = loudness_flag(v, median);
    html! {
        li.album-track data-src=(src(v)) data-song=(t.song)
            data-seconds=(format!("{:.6}", v.printed.version.seconds())) {
            (typed(&t.song)) " · " (typed(&v.label))
            @if !v.approved() { " " span.badge.v-open { "not approved" } }
            " · " (format_time(v.printed.version.seconds()))
            " · " (l.lufs_words()) " · " (l.true_peak_words())
            @if let Some(d) = off {
                " " span.badge.v-rejected title="More than 2 LU from the album's median" {
                    (format!("{d:+.1} LU from the median"))
                }
            }
        }
    }
}

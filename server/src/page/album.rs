//! The album on the tracklist page: the songs on the record in the executive's order, each
//! with the version that plays (its selected, approved version; else its newest print, said
//! to be unapproved), its loudness and true peak, the album's running time, and the songs
//! more than [`LOUDNESS_SPREAD_LU`] from the album's median loudness flagged.
//!
//! The script plays them gapless: each song's audio decoded into a buffer and scheduled on
//! one `AudioContext` clock to start exactly where the previous one ends (no gap, no
//! overlap), the next decoded while the current one plays.

use super::layout::typed;
use super::tracklist::songs_in_order;
use super::versions::{audio_src, lufs, true_peak};
use liner_record::position::format_time;
use liner_record::views::VersionView;
use liner_record::Views;
use maud::{html, Markup};

/// How far from the album's median integrated loudness a song may sit before it is flagged.
pub const LOUDNESS_SPREAD_LU: f64 = 2.0;

/// One song of the album and the version that plays for it.
pub struct Track<'a> {
    pub song: String,
    pub version: Option<&'a VersionView>,
}

/// The songs on the record in order (every song in order while none is chosen yet), each
/// with the version that plays.
pub fn tracks(views: &Views) -> Vec<Track<'_>> {
    let any_chosen = views.song_selection.values().any(|&on| on);
    songs_in_order(views)
        .into_iter()
        .filter(|s| match views.song_selection.get(s) {
            Some(&on) => on,
            None => !any_chosen,
        })
        .map(|song| Track {
            version: views.playing_version(&song),
            song,
        })
        .collect()
}

/// The median of the integrated loudness of the versions that have one.
pub fn median_lufs(tracks: &[Track<'_>]) -> Option<f64> {
    let mut l: Vec<f64> = tracks
        .iter()
        .filter_map(|t| t.version?.printed.version.loudness.integrated)
        .collect();
    if l.is_empty() {
        return None;
    }
    l.sort_by(f64::total_cmp);
    let n = l.len();
    Some(if n % 2 == 1 {
        l[n / 2]
    } else {
        (l[n / 2 - 1] + l[n / 2]) / 2.0
    })
}

/// The album section.
pub fn section(views: &Views) -> Markup {
    let tracks = tracks(views);
    let median = median_lufs(&tracks);
    let running: f64 = tracks
        .iter()
        .filter_map(|t| t.version)
        .map(|v| v.printed.version.seconds())
        .sum();
    let playable = tracks.iter().filter(|t| t.version.is_some()).count();
    html! {
        section.album #album aria-labelledby="album-h" {
            h2 #album-h { "The album" }
            p.lede {
                (playable) " of " (tracks.len()) " songs have a version; running time "
                (format_time(running))
                @if let Some(m) = median { ", median loudness " (lufs(Some(m))) }
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
                    (track_item(t, median))
                }
            }
        }
    }
}

fn track_item(t: &Track<'_>, median: Option<f64>) -> Markup {
    let Some(v) = t.version else {
        return html! {
            li.album-track { (typed(&t.song)) " · " span.empty { "no version printed" } }
        };
    };
    let l = v.printed.version.loudness;
    let off = match (l.integrated, median) {
        (Some(i), Some(m)) if (i - m).abs() > LOUDNESS_SPREAD_LU => Some(i - m),
        _ => None,
    };
    html! {
        li.album-track data-src=(audio_src(v)) data-song=(t.song)
            data-seconds=(format!("{:.6}", v.printed.version.seconds())) {
            (typed(&t.song)) " · " (typed(&v.label))
            @if !v.approved() { " " span.badge.v-open { "not approved" } }
            " · " (format_time(v.printed.version.seconds()))
            " · " (lufs(l.integrated)) " · " (true_peak(l.true_peak))
            @if let Some(d) = off {
                " " span.badge.v-rejected title="More than 2 LU from the album's median" {
                    (format!("{d:+.1} LU from the median"))
                }
            }
        }
    }
}

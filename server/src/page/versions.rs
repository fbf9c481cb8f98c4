//! A song's printed versions on its page ([`liner_record::versions`]): the stack (newest
//! first: label, who, when, length, loudness, clean or not, the executive's verdict), and a
//! player for one version (A) and, to compare, another (B).
//!
//! The player draws the version's waveform from its summary and places the song's notes,
//! decisions, takes and marks on it at their DAW positions (the version's start on the
//! timeline subtracted); clicking one seeks there. Clicking the waveform (or dragging over it)
//! fills the comment form's time, and a comment becomes an ordinary note at that DAW position
//! ([`super::decide::comment`]). A/B switches at the same position, loudness-matched by
//! default (the louder one is turned down by the difference of their integrated LUFS).
//!
//! The `<audio>` elements carry `data-keep`: a live refresh of the page keeps them (and what
//! they are playing) in place.

use super::auth::Signed;
use super::layout::{self, typed, verdict_badge};
use liner_record::export::{date_time, isolated, Entry, EntryKind};
use liner_record::names::percent_encoded;
use liner_record::position::format_time;
use liner_record::versions::Peaks;
use liner_record::views::VersionView;
use liner_record::{DawPos, Role, Views};
use maud::{html, Markup};
use uuid::Uuid;

/// Which versions the player holds (`?v=` and `?b=` on the song page).
#[derive(Debug, Clone, Copy, Default)]
pub struct Pick {
    pub a: Option<Uuid>,
    pub b: Option<Uuid>,
    /// Where in A the player starts (seconds into it): a link to a place in a version.
    pub t: Option<f64>,
}

/// The waveform's drawing box.
const W: f64 = 1000.0;
const H: f64 = 120.0;

/// Where a version's audio is served to a signed-in session.
pub fn audio_src(v: &VersionView) -> String {
    format!(
        "/versions/{}.{}",
        v.printed.version.hash,
        v.printed.version.format.extension()
    )
}

/// The section: nothing when the song has no version yet (a line saying how to print one).
pub fn section(
    views: &Views,
    entries: &[Entry],
    song: &str,
    signed: &Signed,
    pick: Pick,
) -> Markup {
    let versions: Vec<&VersionView> = views.versions_of(song).collect();
    let back = format!("/song?name={}", percent_encoded(song));
    let chosen = |id: Option<Uuid>| id.and_then(|id| versions.iter().copied().find(|v| v.id == id));
    let a = chosen(pick.a).or_else(|| views.playing_version(song));
    let b = chosen(pick.b).filter(|b| Some(b.id) != a.map(|a| a.id));
    html! {
        section.versions aria-labelledby="versions-h" {
            h2 #versions-h { "Versions" }
            @if versions.is_empty() {
                p.empty { "No version printed yet. Print one from the DAW: Liner Notes on the \
                           mix bus, Print, then play the song (or bounce it)." }
            } @else {
                @if let Some(a) = a {
                    (player(a, b, entries, signed, pick.t))
                }
                (stack(&versions, a, b, signed, song, &back))
            }
        }
    }
}

/// The versions, newest first, each with its verdict (and the executive's form while it has
/// none) and links to play or compare it.
fn stack(
    versions: &[&VersionView],
    a: Option<&VersionView>,
    b: Option<&VersionView>,
    signed: &Signed,
    song: &str,
    back: &str,
) -> Markup {
    let link = |v: &VersionView, with: Option<&VersionView>| {
        let mut href = format!("/song?name={}&v={}", percent_encoded(song), v.id);
        if let Some(w) = with.filter(|w| w.id != v.id) {
            href.push_str(&format!("&b={}", w.id));
        }
        href + "#versions-h"
    };
    html! {
        div.scroll {
            table.stack {
                caption.sr { "Versions of this song, newest first" }
                thead { tr {
                    th scope="col" { "Version" }
                    th scope="col" { "Printed" }
                    th scope="col" { "Length" }
                    th scope="col" { "Loudness" }
                    th scope="col" { "True peak" }
                    th scope="col" { "Audio" }
                    th scope="col" { "Verdict" }
                } }
                tbody {
                    @for v in versions {
                        @let playing = a.is_some_and(|a| a.id == v.id);
                        tr.item.version data-id=(v.id) tabindex="-1" .playing[playing] {
                            th scope="row" {
                                a href=(link(v, b)) aria-current=[playing.then_some("true")] {
                                    (typed(&v.label))
                                }
                                @if !playing {
                                    " " a.compare href=(link(a.unwrap_or(v), Some(v))) {
                                        "compare"
                                    }
                                }
                            }
                            td { (typed(&v.author)) ", " (date_time(v.at)) }
                            td { (format_time(v.printed.version.seconds())) }
                            td { (v.printed.version.loudness.lufs_words()) }
                            td { (v.printed.version.loudness.true_peak_words()) }
                            td {
                                @match v.printed.loss_words() {
                                    Some(w) => span.badge.v-rejected { "Not clean: " (w) },
                                    None if v.printed.offline => span.badge { "Clean (offline)" },
                                    None => span.badge { "Clean" },
                                }
                            }
                            td {
                                (verdict_badge(v.verdict.as_ref()))
                                @if v.verdict.is_none() {
                                    (layout::verdict_form(signed, v.id, back))
                                }
                            }
                        }
                    }
                }
            }
        }
        p.hint { "Approving a version pins the verdict to its exact audio; a newer print does \
                  not inherit it. The song's selected version is its newest approved one." }
    }
}

/// The player: A (and B), the transport, the waveform with the song's entries on it, and
/// the comment form.
fn player(
    a: &VersionView,
    b: Option<&VersionView>,
    entries: &[Entry],
    signed: &Signed,
    start: Option<f64>,
) -> Markup {
    let seconds = a.printed.version.seconds();
    let start = start.filter(|t| t.is_finite() && (0.0..seconds).contains(t));
    html! {
        div.player #player data-seconds=(format!("{seconds:.3}"))
            data-start=[start.map(|t| format!("{t:.3}"))] {
            (deck("A", a, &audio_src(a)))
            @if let Some(b) = b { (deck("B", b, &audio_src(b))) }
            (transport(a, b))
            (waveform(a, entries))
            @if signed.token.role != Role::Viewer {
                (comment_form(a, signed))
            }
        }
    }
}

/// The same player for a guest of a listening link: one version, its audio from `src`, the
/// waveform with nothing of the record on it, and the guest's own comment form.
pub fn guest_player(v: &VersionView, src: &str, form: Markup) -> Markup {
    let seconds = v.printed.version.seconds();
    html! {
        div.player #player data-seconds=(format!("{seconds:.3}")) {
            (deck("A", v, src))
            (transport(v, None))
            (waveform(v, &[]))
            (form)
        }
    }
}

/// Play, the 5 s moves, the clock, and with B the A/B switch and loudness matching.
fn transport(a: &VersionView, b: Option<&VersionView>) -> Markup {
    let seconds = a.printed.version.seconds();
    let gain = b.and_then(|b| {
        Some(b.printed.version.loudness.integrated? - a.printed.version.loudness.integrated?)
    });
    html! {
        div.transport {
            button #play type="button" title="Play or pause (space)" { "Play" }
            button #back5 type="button" title="Back 5 s (←)" { "−5 s" }
            button #fwd5 type="button" title="On 5 s (→)" { "+5 s" }
            span #clock aria-live="off" { "0:00.000 / " (format_time(seconds)) }
            @if let Some(b) = b {
                button #switch type="button" title="Switch A/B at the same place (v)" {
                    "Switch to B (" (isolated(&b.label)) ")"
                }
                label.match {
                    input #match type="checkbox" checked;
                    " Match loudness"
                    @if let Some(g) = gain {
                        " (B is " (format!("{g:+.1}")) " LU from A)"
                    }
                }
            }
            span #now-playing { "Playing A: " (typed(&a.label)) }
        }
    }
}

fn deck(which: &str, v: &VersionView, src: &str) -> Markup {
    let l = &v.printed.version.loudness;
    html! {
        audio id={ "audio-" (which) } data-keep preload="metadata" src=(src)
            data-version=(v.id) data-deck=(which) data-label=(v.label)
            data-lufs=[l.integrated.map(|x| format!("{x:.2}"))]
            aria-label={ (which) ": " (v.label) } {}
    }
}

/// The waveform of `v` from its summary, the playhead, and the song's entries at their
/// places in it (those that fall inside the version).
fn waveform(v: &VersionView, entries: &[Entry]) -> Markup {
    let seconds = v.printed.version.seconds().max(1e-3);
    let x = |at: f64| (at / seconds * W).clamp(0.0, W);
    let placed: Vec<(&Entry, f64)> = entries
        .iter()
        .filter(|e| e.song == v.song && !matches!(e.kind, EntryKind::Version))
        .filter_map(|e| {
            let s = e.start.as_ref()?;
            let at = v.printed.offset_of(&DawPos {
                seconds: Some(s.seconds),
                ..DawPos::default()
            })?;
            Some((e, at))
        })
        .collect();
    html! {
        svg.wave #wave viewBox=(format!("0 0 {W} {H}")) preserveAspectRatio="none"
            role="img" data-seconds=(format!("{seconds:.3}"))
            aria-label={ "Waveform of " (v.label) ", " (placed.len())
                " items of the song placed on it; click to place a comment" } {
            path.peaks d=(peaks_path(&v.printed.version.peaks)) {}
            rect #selection x="0" y="0" width="0" height=(H) {}
            rect #playhead x="0" y="0" width="2" height=(H) {}
            @for (e, at) in &placed {
                @let class = match e.kind {
                    EntryKind::Mark => "marker mark",
                    EntryKind::Take { .. } => "marker take",
                    _ => "marker note",
                };
                circle class=(class) cx=(format!("{:.1}", x(*at))) cy="10" r="6"
                    data-at=(format!("{at:.3}")) data-id=(e.id) tabindex="0" {
                    title { (layout::kind_words(e)) ": " (e.text.isolated()) " · " (layout::place(e)) }
                }
            }
        }
        ul.sr {
            @for (e, at) in &placed {
                li { (format_time(*at)) " into the version: " (layout::kind_words(e)) ", "
                    (e.text.isolated()) }
            }
        }
    }
}

/// The outline of the summary: along the maxima, back along the minima.
fn peaks_path(peaks: &Peaks) -> String {
    let pairs = peaks.pairs();
    if pairs.is_empty() {
        return format!("M0 {m} L{W} {m}", m = H / 2.0);
    }
    let n = pairs.len() as f64;
    let y = |v: i8| H / 2.0 - v as f64 / 127.0 * (H / 2.0 - 2.0);
    let mut d = String::with_capacity(pairs.len() * 24);
    for (i, &(_, hi)) in pairs.iter().enumerate() {
        let cmd = if i == 0 { 'M' } else { 'L' };
        d.push_str(&format!("{cmd}{:.1} {:.1} ", i as f64 / n * W, y(hi)));
    }
    for (i, &(lo, _)) in pairs.iter().enumerate().rev() {
        d.push_str(&format!("L{:.1} {:.1} ", i as f64 / n * W, y(lo)));
    }
    d.push('Z');
    d
}

/// A comment on the waveform: its time (filled by a click or a drag, or typed), its words.
fn comment_form(v: &VersionView, signed: &Signed) -> Markup {
    html! {
        form.comment #comment-form method="post" action="/comment" {
            input type="hidden" name="csrf" value=(signed.csrf);
            input type="hidden" name="version" value=(v.id);
            label for="comment-at" { "At" }
            input #comment-at type="text" name="at" value="0:00.000" size="9"
                inputmode="decimal" autocomplete="off" title="m:ss.mmm into the version";
            label for="comment-until" { "to" }
            input #comment-until type="text" name="until" value="" size="9"
                inputmode="decimal" autocomplete="off" placeholder="(a point)";
            label.sr for="comment-text" { "Comment" }
            input #comment-text type="text" name="text" maxlength="10000" required
                placeholder="Comment at this point (Enter)" autocomplete="off";
            button type="submit" { "Comment" }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_outline_goes_out_along_the_tops_and_back_along_the_bottoms() {
        let peaks: Peaks = serde_json::from_str("[-127, 127, 0, 0]").unwrap();
        let d = peaks_path(&peaks);
        assert_eq!(d, "M0.0 2.0 L500.0 60.0 L500.0 60.0 L0.0 118.0 Z");
        assert!(d.ends_with('Z'));
        assert_eq!(peaks_path(&Peaks::default()), "M0 60 L1000 60");
    }
}

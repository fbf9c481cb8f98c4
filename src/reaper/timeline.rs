//! Where the record's notes, decisions and marks sit on REAPER's timeline: positions taken
//! in the DAW to seconds of the project, by REAPER's tempo map and bars, and the markers a
//! song wants. Main thread only (REAPER's functions).

use super::api::{Functions, Project, CUSTOM_COLOR};
use super::{markers, Span};
use liner_record::event::DawPos;
use liner_record::review::{Item, Standing};

/// Positions past this many seconds (115 days) are taken as nonsense, not placed.
const LATEST: f64 = 1e7;

/// Seconds on the project's timeline for a position taken in the DAW. The musical position
/// wins: after a tempo change, the seconds a note was taken at are stale, its bar and beat
/// are not. `None` when the position says nothing usable.
pub(super) fn seconds(f: &Functions, project: Project, pos: &DawPos) -> Option<f64> {
    let qn = match (pos.beats, pos.bar, pos.beat) {
        (Some(qn), _, _) if qn.is_finite() => Some(qn),
        (_, Some(bar), Some(beat)) if beat.is_finite() => bar_beat_to_qn(f, project, bar, beat),
        _ => None,
    };
    let musical = qn.zip(f.time_map2_qn_to_time).map(|(qn, to_time)| {
        // SAFETY: REAPER's tempo map, on the main thread, for the instance's project.
        unsafe { to_time(project, qn) }
    });
    musical
        .or(pos.seconds)
        .filter(|t| t.is_finite() && *t <= LATEST)
        .map(|t| t.max(0.0))
}

/// Quarter notes from the project's start at `bar` (1-based) and `beat` (1-based, in the
/// bar's time signature denominator), by REAPER's own bars: where that bar starts and what
/// its signature is there.
fn bar_beat_to_qn(f: &Functions, project: Project, bar: i32, beat: f64) -> Option<f64> {
    let measure_info = f.time_map_get_measure_info?;
    let (mut qn_start, mut qn_end, mut num, mut denom, mut tempo) = (0.0, 0.0, 0, 0, 0.0);
    // SAFETY: REAPER's function on the main thread; it writes the five out-parameters.
    unsafe {
        measure_info(
            project,
            bar.saturating_sub(1),
            &mut qn_start,
            &mut qn_end,
            &mut num,
            &mut denom,
            &mut tempo,
        )
    };
    (denom > 0).then(|| qn_start + (beat - 1.0) * 4.0 / f64::from(denom))
}

/// The markers a song's notes, decisions and marks want, earliest first, at most
/// [`markers::MOST`].
pub(super) fn wanted(
    f: &Functions,
    project: Project,
    views: &liner_record::Views,
    song: &str,
) -> Vec<markers::Wanted> {
    let Some(to_native) = f.color_to_native else {
        return Vec::new();
    };
    let color = |standing: Option<Standing>| {
        let [r, g, b] = liner_record::export::standing_rgb(standing);
        // SAFETY: REAPER's own colour conversion (the native order differs by OS).
        unsafe { to_native(r.into(), g.into(), b.into()) | CUSTOM_COLOR }
    };
    let place = |span: Span| {
        let start = seconds(f, project, &span.start)?;
        let end = span
            .end
            .and_then(|end| seconds(f, project, &end))
            .filter(|&end| end > start);
        Some((start, end))
    };
    let mut out = Vec::new();
    for n in views.notes.iter().filter(|n| n.song == song) {
        if let Some((start, end)) = n.anchor.as_ref().map(Span::of_anchor).and_then(place) {
            out.push(markers::Wanted {
                id: n.id,
                start,
                end,
                name: markers::name(&n.text),
                color: color(Standing::of(Item::Note, n.verdict.as_ref())),
            });
        }
    }
    for d in views.decisions.iter().filter(|d| d.song == song) {
        if let Some((start, _)) = d.pos.map(Span::at).and_then(place) {
            out.push(markers::Wanted {
                id: d.id,
                start,
                end: None,
                name: markers::name(&crate::editor::list::decision_text(d)),
                color: color(Standing::of(Item::Decision, d.verdict.as_ref())),
            });
        }
    }
    for m in views.marks.iter().filter(|m| m.song == song) {
        if let Some((start, _)) = m.pos.map(Span::at).and_then(place) {
            out.push(markers::Wanted {
                id: m.id,
                start,
                end: None,
                name: markers::name(&crate::editor::list::mark_text(m)),
                color: color(Standing::of(Item::Mark, None)),
            });
        }
    }
    out.sort_by(|a, b| a.start.total_cmp(&b.start).then(a.id.cmp(&b.id)));
    out.truncate(markers::MOST);
    out
}

//! `POST /comment`: a comment made on a version's waveform becomes an ordinary note of the
//! version's song and track, anchored at the DAW position of the point (or range) clicked:
//! the version's start on the timeline plus the time into it, in bars.beats through the
//! tempo map the version carries. So the producer finds it in the plugin's list at the right
//! spot. Anyone who may write notes may comment (not a viewer); the note is theirs.

use super::auth;
use super::decide::{refused, store_decision};
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use liner_record::event::{Anchor, Body, Category, NoteAdded};
use liner_record::names::percent_encoded;
use liner_record::position::{parse_time, TempoMap};
use liner_record::versions::VersionPrinted;
use liner_record::{DawPos, Role};
use serde::Deserialize;
use std::sync::Arc;
use uuid::Uuid;

#[derive(Deserialize)]
pub struct CommentForm {
    #[serde(default)]
    csrf: String,
    version: Uuid,
    /// Time into the version (`m:ss.mmm`, or seconds).
    at: String,
    /// The end of a range, if one was dragged.
    #[serde(default)]
    until: String,
    text: String,
}

/// The DAW position `at` seconds into the version: seconds on the timeline, and where the
/// host gave beats, quarter-note beats, bar and beat, tempo and meter from the version's map.
pub fn daw_position(v: &VersionPrinted, at: f64) -> Option<DawPos> {
    let seconds = v.daw_seconds(at)?;
    let mut pos = DawPos {
        seconds: Some(seconds),
        ..DawPos::default()
    };
    let map = TempoMap::from_positions(std::iter::once(&v.start).chain(v.tempo.iter()));
    if let Some(map) = map {
        let beats = map.beats_at(seconds);
        let bb = map.bar_beat_at(seconds);
        let change = map
            .changes()
            .iter()
            .rev()
            .find(|c| c.seconds <= seconds)
            .or(map.changes().first());
        pos.beats = Some(beats);
        pos.bar = Some(bb.bar);
        pos.beat = Some(bb.beat);
        pos.tempo = change.map(|c| c.tempo);
        pos.time_sig = change.map(|c| c.sig);
    }
    Some(pos)
}

/// A time typed into the form: `m:ss.mmm` or plain seconds, inside the version.
fn time_in(text: &str, length: f64) -> Result<f64, &'static str> {
    let t = text.trim();
    let at = parse_time(t)
        .or_else(|| t.parse::<f64>().ok())
        .filter(|s| s.is_finite())
        .ok_or("Give the time as m:ss.mmm into the version.")?;
    if (0.0..=length).contains(&at) {
        Ok(at)
    } else {
        Err("That time is outside the version.")
    }
}

pub async fn comment(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(f): Form<CommentForm>,
) -> Response {
    let signed = match auth::require(&state, &headers).await {
        Ok(s) => s,
        Err(d) => return d.into_response(),
    };
    if let Err(d) = auth::check_csrf(&signed, &f.csrf, &headers) {
        return d.into_response();
    }
    if signed.token.role == Role::Viewer {
        return refused(
            &headers,
            StatusCode::FORBIDDEN,
            "A viewer's token reads the record but writes nothing.",
        );
    }
    let record = match auth::record_of(&state, &signed).await {
        Ok(r) => r,
        Err(d) => return d.into_response(),
    };
    let Some(v) = record.views.versions.iter().find(|v| v.id == f.version) else {
        return refused(
            &headers,
            StatusCode::NOT_FOUND,
            "This project has no such version.",
        );
    };
    let text = f.text.trim();
    if text.is_empty() {
        return refused(
            &headers,
            StatusCode::UNPROCESSABLE_ENTITY,
            "Write the comment first.",
        );
    }
    let length = v.printed.version.seconds();
    let at = match time_in(&f.at, length) {
        Ok(at) => at,
        Err(m) => return refused(&headers, StatusCode::UNPROCESSABLE_ENTITY, m),
    };
    let until = match f.until.trim() {
        "" => None,
        u => match time_in(u, length) {
            Ok(u) if u > at => Some(u),
            Ok(_) => None,
            Err(m) => return refused(&headers, StatusCode::UNPROCESSABLE_ENTITY, m),
        },
    };
    let place = |t: f64| daw_position(&v.printed, t);
    let anchor = match (place(at), until.and_then(place)) {
        (Some(from), Some(to)) => Some(Anchor::Range { from, to }),
        (Some(at), None) => Some(Anchor::Point { at }),
        _ => None,
    };
    let body = Body::NoteAdded(NoteAdded {
        text: text.to_owned(),
        category: Category::Mix,
        anchor,
        take: None,
        private: false,
        version: Some(v.id),
        guest: None,
    });
    let back = format!(
        "/song?name={}&v={}#versions-h",
        percent_encoded(&v.song),
        v.id
    );
    let (song, track) = (v.song.clone(), v.track.clone());
    store_decision(&state, &headers, &signed, song, track, body, &back).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn printed(start: DawPos, tempo: Vec<DawPos>) -> VersionPrinted {
        serde_json::from_value(serde_json::json!({
            "label": "v1",
            "version": {"hash": "b".repeat(64), "format": "flac", "sample_rate": 48000,
                        "channels": 2, "frames": 48000 * 60, "bytes": 10},
            "start": start, "tempo": tempo,
        }))
        .unwrap()
    }

    fn at(seconds: f64, beats: f64, tempo: f64, bar: i32, beat: f64) -> DawPos {
        DawPos {
            seconds: Some(seconds),
            beats: Some(beats),
            tempo: Some(tempo),
            time_sig: Some((4, 4)),
            bar: Some(bar),
            beat: Some(beat),
            ..DawPos::default()
        }
    }

    #[test]
    fn a_point_in_the_version_is_its_start_plus_the_time_in_bars_and_beats() {
        // Printed from bar 5 (8 s at 120 bpm in 4/4).
        let v = printed(at(8.0, 16.0, 120.0, 5, 1.0), vec![]);
        let p = daw_position(&v, 3.0).unwrap();
        assert_eq!(p.seconds, Some(11.0));
        assert_eq!(p.beats, Some(22.0));
        assert_eq!((p.bar, p.beat), (Some(6), Some(3.0)), "bar 6, beat 3");
        assert_eq!(p.tempo, Some(120.0));
    }

    #[test]
    fn a_tempo_change_inside_the_version_moves_the_bars_after_it() {
        // 120 bpm to bar 9 (16 s), then 60 bpm.
        let v = printed(
            at(8.0, 16.0, 120.0, 5, 1.0),
            vec![at(16.0, 32.0, 60.0, 9, 1.0)],
        );
        // 8 s into the version is 16 s: bar 9. Four more seconds at 60 bpm is one bar.
        let p = daw_position(&v, 12.0).unwrap();
        assert_eq!(p.seconds, Some(20.0));
        assert_eq!((p.bar, p.beat), (Some(10), Some(1.0)));
        assert_eq!(p.tempo, Some(60.0));
    }

    #[test]
    fn typed_times_are_read_and_kept_inside_the_version() {
        assert_eq!(time_in("1:02.5", 100.0), Ok(62.5));
        assert_eq!(time_in("3.25", 100.0), Ok(3.25));
        assert!(time_in("2:00", 100.0).is_err());
        assert!(time_in("-1", 100.0).is_err());
        assert!(time_in("soon", 100.0).is_err());
        assert!(time_in("NaN", 100.0).is_err());
    }
}

//! Timeline math, in one place: beats and seconds at a tempo, bar lengths and bar lines,
//! positions as people read them (`bar.beat.hundredths` as REAPER shows them, `23.2.50` is
//! halfway through beat 2 of bar 23, and `h:mm:ss.mmm`), and conversion between the two given
//! a tempo map (tempo and time-signature changes, e.g. as recorded in events' positions).
//!
//! The arithmetic helpers are `#[inline]` and allocation-free: the plugin's audio thread uses
//! them too.

use crate::event::DawPos;

/// Seconds that `beats` quarter notes last at `tempo` (beats per minute).
#[inline]
pub fn beats_to_seconds(beats: f64, tempo: f64) -> f64 {
    beats * 60.0 / tempo
}

/// Quarter-note beats in `seconds` at `tempo`.
#[inline]
pub fn seconds_to_beats(seconds: f64, tempo: f64) -> f64 {
    seconds * tempo / 60.0
}

/// How many quarter notes one bar of the time signature `(numerator, denominator)` lasts
/// (7/8: 3.5).
#[inline]
pub fn bar_len_beats((num, den): (u16, u16)) -> f64 {
    num as f64 * 4.0 / den as f64
}

/// Where the bar holding a position starts (in quarter notes), from the position's
/// quarter-note beats and its beat in the bar (from 1, in `den`th notes).
#[inline]
pub fn bar_line(beats: f64, beat: f64, den: u16) -> f64 {
    beats - (beat - 1.0) * 4.0 / den as f64
}

/// The beat in its bar (from 1, in `den`th notes) of the position `beats` in the bar that
/// starts at `line`; never before the first (a position within the slack of a bar line).
#[inline]
pub fn beat_in_bar(beats: f64, line: f64, den: u16) -> f64 {
    ((beats - line) * den as f64 / 4.0 + 1.0).max(1.0)
}

/// The bar line that holds `beats`, moved from `line` by whole bars of `len` quarter notes,
/// and how many bars it moved. A position a hair before a bar line (within 1e-6 beats of
/// rounding) counts as on it. `None` for a useless bar length or a far-off position.
#[inline]
pub fn bar_holding(line: f64, beats: f64, len: f64) -> Option<(f64, i32)> {
    const SLACK: f64 = 1e-6;
    let bars = ((beats - line + SLACK) / len).floor();
    (len.is_finite() && len > 0.0 && bars.abs() < 1e6).then_some((line + bars * len, bars as i32))
}

/// A musical position: bar (1-based) and beat within the bar (1-based, fractional, in units
/// of the time-signature denominator).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BarBeat {
    pub bar: i32,
    pub beat: f64,
}

/// `bar.beat.hundredths`, e.g. `23.2.50`. Rounds to the nearest hundredth of a beat.
pub fn format_bar_beat(bar: i32, beat: f64) -> String {
    let total = ((beat - 1.0).max(0.0) * 100.0).round() as i64;
    format!("{bar}.{}.{:02}", total / 100 + 1, total % 100)
}

/// `h:mm:ss.mmm`, e.g. `0:01:05.250`; negative times get a leading `-`.
pub fn format_time(seconds: f64) -> String {
    if !seconds.is_finite() {
        return "?:??:??.???".into();
    }
    let sign = if seconds < 0.0 { "-" } else { "" };
    let ms = (seconds.abs() * 1000.0).round() as i64;
    let (h, rest) = (ms / 3_600_000, ms % 3_600_000);
    let (m, rest) = (rest / 60_000, rest % 60_000);
    let (s, ms) = (rest / 1000, rest % 1000);
    format!("{sign}{h}:{m:02}:{s:02}.{ms:03}")
}

/// Parses `bar.beat` or `bar.beat.hundredths`.
pub fn parse_bar_beat(text: &str) -> Option<BarBeat> {
    let mut parts = text.trim().split('.');
    let bar = parts.next()?.parse().ok()?;
    let beat: i64 = parts.next().map_or(Some(1), |b| b.parse().ok())?;
    let hundredths: i64 = parts.next().map_or(Some(0), |h| h.parse().ok())?;
    if parts.next().is_some() || beat < 1 || !(0..100).contains(&hundredths) {
        return None;
    }
    Some(BarBeat {
        bar,
        beat: beat as f64 + hundredths as f64 / 100.0,
    })
}

/// Parses `h:mm:ss.mmm`, `mm:ss.mmm` or plain seconds.
pub fn parse_time(text: &str) -> Option<f64> {
    let text = text.trim();
    let (neg, text) = match text.strip_prefix('-') {
        Some(t) => (true, t),
        None => (false, text),
    };
    let mut total = 0.0;
    for part in text.split(':') {
        let v: f64 = part.parse().ok()?;
        if !v.is_finite() || v < 0.0 {
            return None;
        }
        total = total * 60.0 + v;
    }
    Some(if neg { -total } else { total })
}

/// From here on, the tempo and time signature are constant (until the next change).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TempoChange {
    pub seconds: f64,
    /// Quarter-note beats at `seconds`.
    pub beats: f64,
    pub tempo: f64,
    pub sig: (u16, u16),
    /// The bar at `seconds` and where it starts (in quarter-note beats).
    pub bar: i32,
    pub bar_start_beats: f64,
}

impl TempoChange {
    fn bar_len(&self) -> f64 {
        bar_len_beats(self.sig)
    }
}

/// Tempo and time signature over the timeline, as a list of changes (a step function).
#[derive(Debug, Clone, PartialEq)]
pub struct TempoMap {
    changes: Vec<TempoChange>,
}

/// Where between two reported points a change really happened. Events only sample the
/// timeline, so the first point with a new tempo or signature usually lies after the change.
/// A tempo change is where the two tempo lines meet; a signature change is at the first bar
/// line of the new grid that is also a bar line, with the same number, of the old one.
fn locate_change(prev: &TempoChange, mut next: TempoChange) -> TempoChange {
    let at_beats = |c: &TempoChange, b: f64| c.seconds + beats_to_seconds(b - c.beats, c.tempo);
    if next.tempo != prev.tempo {
        // prev.beats + (t - prev.seconds) * prev.tempo / 60 == next.beats + (t - next.seconds) * next.tempo / 60
        let t = (next.beats - prev.beats + prev.seconds * prev.tempo / 60.0
            - next.seconds * next.tempo / 60.0)
            / ((prev.tempo - next.tempo) / 60.0);
        if t.is_finite() && t >= prev.seconds && t <= next.seconds {
            let b = prev.beats + (t - prev.seconds) * prev.tempo / 60.0;
            next.beats = b;
            next.seconds = t;
        }
    }
    if next.sig != prev.sig {
        // The bar line `k` bars of the new grid before the point, start = S - k·n, must be bar
        // `next.bar - k` of the old grid: S - k·n = P + o·(next.bar - k - prev.bar), so
        // k = (S - P - o·Δbar) / (n - o): one candidate, checked, instead of a walk back.
        let (n, o) = (next.bar_len(), prev.bar_len());
        let delta_bar = next.bar as f64 - prev.bar as f64;
        let lhs = next.bar_start_beats - prev.bar_start_beats - o * delta_bar;
        let k = if (n - o).abs() < 1e-12 {
            0.0
        } else {
            (lhs / (n - o)).round()
        };
        if k.is_finite() && (0.0..100_000.0).contains(&k) {
            let k = k as i32;
            let start = next.bar_start_beats - k as f64 * n;
            let old_bars = (start - prev.bar_start_beats) / o;
            let on_old_grid = (old_bars - old_bars.round()).abs() < 1e-6;
            let same_bar =
                prev.bar.saturating_add(old_bars.round() as i32) == next.bar.saturating_sub(k);
            if start >= prev.beats - 1e-9 && on_old_grid && same_bar {
                next.seconds = at_beats(prev, start).max(prev.seconds);
                next.beats = start;
                next.bar = next.bar.saturating_sub(k);
                next.bar_start_beats = start;
            }
        }
    }
    next
}

impl TempoMap {
    /// One tempo and time signature from the start.
    pub fn constant(tempo: f64, sig: (u16, u16)) -> Self {
        TempoMap {
            changes: vec![TempoChange {
                seconds: 0.0,
                beats: 0.0,
                tempo,
                sig,
                bar: 1,
                bar_start_beats: 0.0,
            }],
        }
    }

    /// Builds a map from positions the DAW reported (each with seconds, beats, tempo and time
    /// signature; bar and beat where the host gave them). A position whose tempo and time
    /// signature equal the previous one's adds nothing. `None` when no position has enough.
    ///
    /// # Panics
    /// Never: only positions with seconds are sorted.
    pub fn from_positions<'a>(positions: impl IntoIterator<Item = &'a DawPos>) -> Option<Self> {
        let mut points: Vec<&DawPos> = positions
            .into_iter()
            .filter(|p| {
                matches!((p.seconds, p.beats, p.tempo, p.time_sig), (Some(s), Some(b), Some(t), Some((n, d)))
                    if s.is_finite() && b.is_finite() && t > 0.0 && n > 0 && d > 0)
            })
            .collect();
        points.sort_by(|a, b| a.seconds.unwrap().total_cmp(&b.seconds.unwrap()));
        let mut changes: Vec<TempoChange> = Vec::new();
        for p in points {
            let (seconds, beats) = (p.seconds.unwrap(), p.beats.unwrap());
            let (tempo, sig) = (p.tempo.unwrap(), p.time_sig.unwrap());
            if let Some(last) = changes.last() {
                if last.tempo == tempo && last.sig == sig {
                    continue;
                }
            }
            let (bar, bar_start_beats) = match (p.bar, p.beat) {
                (Some(bar), Some(beat)) => (bar, bar_line(beats, beat, sig.1)),
                _ => match changes.last() {
                    // Carry the bar count across from the previous change.
                    Some(prev) => {
                        let bars = ((beats - prev.bar_start_beats) / prev.bar_len()).floor();
                        (
                            prev.bar.saturating_add(bars as i32),
                            prev.bar_start_beats + bars * prev.bar_len(),
                        )
                    }
                    None => {
                        let len = bar_len_beats(sig);
                        let bars = (beats / len).floor();
                        ((bars as i32).saturating_add(1), bars * len)
                    }
                },
            };
            let mut change = TempoChange {
                seconds,
                beats,
                tempo,
                sig,
                bar,
                bar_start_beats,
            };
            if let Some(prev) = changes.last() {
                change = locate_change(prev, change);
            }
            changes.push(change);
        }
        let first = changes.first_mut()?;
        // Before the first known point the first tempo held.
        if first.seconds > 0.0 {
            first.beats -= seconds_to_beats(first.seconds, first.tempo);
            first.seconds = 0.0;
        }
        Some(TempoMap { changes })
    }

    pub fn changes(&self) -> &[TempoChange] {
        &self.changes
    }

    fn change_at_seconds(&self, seconds: f64) -> &TempoChange {
        let i = self.changes.partition_point(|c| c.seconds <= seconds);
        &self.changes[i.saturating_sub(1)]
    }

    fn change_at_beats(&self, beats: f64) -> &TempoChange {
        let i = self.changes.partition_point(|c| c.beats <= beats);
        &self.changes[i.saturating_sub(1)]
    }

    /// Quarter-note beats at a time.
    pub fn beats_at(&self, seconds: f64) -> f64 {
        let c = self.change_at_seconds(seconds);
        c.beats + seconds_to_beats(seconds - c.seconds, c.tempo)
    }

    /// The time of a quarter-note beat position.
    pub fn seconds_at_beats(&self, beats: f64) -> f64 {
        let c = self.change_at_beats(beats);
        c.seconds + beats_to_seconds(beats - c.beats, c.tempo)
    }

    /// Bar and beat at a time.
    pub fn bar_beat_at(&self, seconds: f64) -> BarBeat {
        let beats = self.beats_at(seconds);
        let c = self.change_at_beats(beats);
        let bars = ((beats - c.bar_start_beats) / c.bar_len() + 1e-9).floor();
        let bar_start = c.bar_start_beats + bars * c.bar_len();
        BarBeat {
            bar: c.bar.saturating_add(bars as i32),
            beat: (beats - bar_start) * c.sig.1 as f64 / 4.0 + 1.0,
        }
    }

    /// The time of a bar and beat.
    pub fn seconds_at(&self, at: BarBeat) -> f64 {
        // The last change whose first bar is at or before `at.bar`.
        let i = self.changes.partition_point(|c| c.bar <= at.bar);
        let c = &self.changes[i.saturating_sub(1)];
        let beats = c.bar_start_beats
            + (at.bar as f64 - c.bar as f64) * c.bar_len()
            + (at.beat - 1.0) * 4.0 / c.sig.1 as f64;
        self.seconds_at_beats(beats)
    }
}

/// Moving a position along the timeline at its own tempo and time signature.
impl DawPos {
    /// Where this position's bar starts, in quarter notes (from its beats and its beat in
    /// the bar); `None` without beats, a beat in the bar or a time signature.
    pub fn bar_line(&self) -> Option<f64> {
        match (self.beats, self.beat, self.time_sig) {
            (Some(b), Some(beat), Some((_, den))) if den > 0 => Some(bar_line(b, beat, den)),
            _ => None,
        }
    }

    /// The position `frames` samples later at the same tempo and time signature: where a
    /// block that started here ends. Bars are advanced when the beat crosses a bar line.
    pub fn advanced(&self, frames: u32, sample_rate: f32) -> Self {
        let mut p = *self;
        p.samples = p.samples.map(|s| s.saturating_add(frames as i64));
        // NaN and non-positive rates both leave the time fields alone.
        if sample_rate.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
            return p;
        }
        p.moved(frames as f64 / sample_rate as f64)
    }

    /// The position `seconds` later (earlier when negative) at this tempo and time
    /// signature, never before the start of the timeline: how the editor nudges a note's
    /// stamp. Bars are recounted from this position's bar line, so odd meters stay right.
    pub fn shifted(&self, seconds: f64, sample_rate: f32) -> Self {
        let elapsed = self.seconds.or_else(|| {
            self.beats
                .zip(self.tempo)
                .map(|(b, t)| beats_to_seconds(b, t))
                .filter(|s| s.is_finite())
        });
        let dt = elapsed.map_or(seconds, |s| seconds.max(-s));
        let mut p = *self;
        if sample_rate > 0.0 {
            p.samples = p.samples.map(|s| {
                s.saturating_add((dt * sample_rate as f64).round() as i64)
                    .max(0)
            });
        }
        p.moved(dt)
    }

    /// Seconds, beats, bar and beat moved by `dt` seconds at this tempo and time signature
    /// (samples are the caller's).
    fn moved(mut self, dt: f64) -> Self {
        self.seconds = self.seconds.map(|s| s + dt);
        if let (Some(beats), Some(tempo)) = (self.beats, self.tempo) {
            let line = self.bar_line();
            let new_beats = beats + seconds_to_beats(dt, tempo);
            self.beats = Some(new_beats);
            if let (Some(mut start), Some((num, den)), Some(bar)) = (line, self.time_sig, self.bar)
            {
                if let Some((moved, bars)) =
                    bar_holding(start, new_beats, bar_len_beats((num, den)))
                {
                    start = moved;
                    self.bar = Some(bar.saturating_add(bars));
                }
                self.beat = Some(beat_in_bar(new_beats, start, den));
            }
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    /// Far-off, NaN and useless inputs: counts saturate instead of wrapping, a value that
    /// cannot be known comes out NaN or `None` (never a made-up finite one), and text shows
    /// something a person can read.
    #[test]
    fn hostile_positions_saturate_or_say_they_have_no_value() {
        let huge = DawPos {
            seconds: Some(1e300),
            beats: Some(1e300),
            tempo: Some(120.0),
            time_sig: Some((4, 4)),
            ..Default::default()
        };
        let small = DawPos {
            seconds: Some(0.0),
            beats: Some(0.0),
            tempo: Some(60.0),
            time_sig: Some((4, 4)),
            ..Default::default()
        };
        let m = TempoMap::from_positions([&small, &huge]).unwrap();
        // 2.5e299 bars in: the bar count stops at i32::MAX rather than wrapping negative.
        assert_eq!(m.changes().len(), 2);
        assert_eq!(m.changes()[1].bar, i32::MAX);
        assert_eq!(
            m.bar_beat_at(1e300),
            BarBeat {
                bar: i32::MAX,
                beat: 1.0
            }
        );
        assert_eq!(
            m.seconds_at(BarBeat {
                bar: i32::MAX,
                beat: 1.0
            }),
            1e300
        );
        // Past the end of f64 the bar still saturates; the beat has no value, and is shown as
        // the bar's first.
        let end = m.bar_beat_at(f64::MAX);
        assert_eq!(end.bar, i32::MAX);
        assert!(end.beat.is_nan(), "{end:?}");
        assert_eq!(format_bar_beat(end.bar, end.beat), "2147483647.1.00");
        // The lowest bar is a finite time, extrapolated at the first tempo (60 bpm: a beat is
        // a second); a NaN beat gives a NaN time, not a finite one.
        let lowest = BarBeat {
            bar: i32::MIN,
            beat: 1.0,
        };
        assert_eq!(m.seconds_at(lowest), (i32::MIN as f64 - 1.0) * 4.0);
        let unknown = m.seconds_at(BarBeat {
            bar: i32::MIN,
            beat: f64::NAN,
        });
        assert!(unknown.is_nan(), "{unknown}");
        // Text: an infinite beat still names its bar and reads back to it; NaN and negative
        // beats show as the first beat; a time with no value shows as unknown.
        let shown = format_bar_beat(i32::MAX, f64::INFINITY);
        assert!(shown.starts_with("2147483647."), "{shown}");
        assert_eq!(parse_bar_beat(&shown).map(|b| b.bar), Some(i32::MAX));
        assert_eq!(format_bar_beat(3, f64::NAN), "3.1.00");
        assert_eq!(format_bar_beat(3, f64::NEG_INFINITY), "3.1.00");
        for t in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert_eq!(format_time(t), "?:??:??.???");
        }
        for text in ["inf", "NaN", "1e400", "1:-5", "1::2", ""] {
            assert_eq!(parse_time(text), None, "{text:?}");
        }
        // No map from positions that lack a usable time, tempo or meter.
        let useless = [
            DawPos {
                seconds: Some(f64::NAN),
                ..small
            },
            DawPos {
                tempo: Some(0.0),
                ..small
            },
            DawPos {
                time_sig: Some((4, 0)),
                ..small
            },
            DawPos {
                beats: Some(f64::INFINITY),
                ..small
            },
        ];
        assert_eq!(TempoMap::from_positions(&useless), None);
        // No bar line for a far-off position or a useless bar length.
        assert_eq!(bar_holding(0.0, f64::INFINITY, 4.0), None);
        assert_eq!(bar_holding(0.0, 1e12, 4.0), None);
        assert_eq!(bar_holding(0.0, 1.0, 0.0), None);
        assert_eq!(bar_holding(0.0, 1.0, f64::NAN), None);
        // A useless sample rate moves the sample count only; samples saturate.
        let at_end = DawPos {
            samples: Some(i64::MAX - 1),
            ..small
        };
        for rate in [f32::NAN, 0.0, -48_000.0] {
            let moved = at_end.advanced(100, rate);
            assert_eq!(moved.samples, Some(i64::MAX));
            assert_eq!((moved.seconds, moved.beats), (small.seconds, small.beats));
        }
    }

    #[test]
    fn formats_read_like_a_daw() {
        assert_eq!(format_bar_beat(23, 2.5), "23.2.50");
        assert_eq!(format_bar_beat(1, 1.0), "1.1.00");
        assert_eq!(format_bar_beat(4, 3.999), "4.4.00");
        assert_eq!(format_time(65.25), "0:01:05.250");
        assert_eq!(format_time(3723.0005), "1:02:03.001");
        assert_eq!(format_time(-1.5), "-0:00:01.500");
        assert_eq!(
            parse_bar_beat("23.2.50"),
            Some(BarBeat { bar: 23, beat: 2.5 })
        );
        assert_eq!(parse_bar_beat("17"), Some(BarBeat { bar: 17, beat: 1.0 }));
        assert_eq!(parse_bar_beat("1.0"), None);
        assert_eq!(parse_time("0:01:05.250"), Some(65.25));
        assert_eq!(parse_time("1:05"), Some(65.0));
        assert_eq!(parse_time("abc"), None);
    }

    /// 120 bpm in 4/4: a beat is 0.5 s, a bar 2 s. 10 s = 20 beats = bar 6, beat 1.
    #[test]
    fn four_four_at_120() {
        let m = TempoMap::constant(120.0, (4, 4));
        assert_eq!(m.bar_beat_at(10.0), BarBeat { bar: 6, beat: 1.0 });
        assert_eq!(m.bar_beat_at(10.75), BarBeat { bar: 6, beat: 2.5 });
        assert!(close(m.seconds_at(BarBeat { bar: 23, beat: 1.0 }), 44.0));
        assert_eq!(format_bar_beat(6, m.bar_beat_at(10.75).beat), "6.2.50");
    }

    /// 7/8 at 140 bpm (quarter notes): an eighth is 60/280 s, a bar of seven eighths is 1.5 s.
    /// 4.5 s = three bars = bar 4, beat 1; 5.25 s = three eighths later.
    #[test]
    fn seven_eight_counts_eighths() {
        let m = TempoMap::constant(140.0, (7, 8));
        assert_eq!(m.bar_beat_at(4.5), BarBeat { bar: 4, beat: 1.0 });
        let bb = m.bar_beat_at(4.5 + 3.0 * 60.0 / 280.0);
        assert_eq!(bb.bar, 4);
        assert!(close(bb.beat, 4.0), "{bb:?}");
        assert!(close(
            m.seconds_at(BarBeat { bar: 2, beat: 7.0 }),
            1.5 + 6.0 * 60.0 / 280.0
        ));
    }

    /// 120 bpm 4/4 for eight bars (16 s), then 90 bpm: at 20 s we are 4 s = 6 beats into
    /// bar 9, i.e. bar 10, beat 3. Built from positions as events record them.
    #[test]
    fn a_tempo_change_recorded_in_events_moves_later_bars() {
        let before = DawPos {
            seconds: Some(2.0),
            beats: Some(4.0),
            bar: Some(2),
            beat: Some(1.0),
            tempo: Some(120.0),
            time_sig: Some((4, 4)),
            ..Default::default()
        };
        let same = DawPos {
            seconds: Some(10.0),
            beats: Some(20.0),
            tempo: Some(120.0),
            time_sig: Some((4, 4)),
            ..Default::default()
        };
        let after = DawPos {
            seconds: Some(16.0),
            beats: Some(32.0),
            bar: Some(9),
            beat: Some(1.0),
            tempo: Some(90.0),
            time_sig: Some((4, 4)),
            ..Default::default()
        };
        let m = TempoMap::from_positions([&after, &before, &same]).unwrap();
        assert_eq!(m.changes().len(), 2);
        assert_eq!(m.bar_beat_at(20.0), BarBeat { bar: 10, beat: 3.0 });
        assert_eq!(m.bar_beat_at(1.0), BarBeat { bar: 1, beat: 3.0 });
        assert!(close(m.seconds_at(BarBeat { bar: 10, beat: 3.0 }), 20.0));
        assert!(close(m.seconds_at(BarBeat { bar: 5, beat: 1.0 }), 8.0));
    }

    /// A change to 3/4 at bar 5 (8 s at 120 bpm) without bar numbers from the host: the bar
    /// count carries across.
    #[test]
    fn a_time_signature_change_without_host_bars_carries_the_count() {
        let a = DawPos {
            seconds: Some(0.0),
            beats: Some(0.0),
            tempo: Some(120.0),
            time_sig: Some((4, 4)),
            ..Default::default()
        };
        let b = DawPos {
            seconds: Some(8.0),
            beats: Some(16.0),
            tempo: Some(120.0),
            time_sig: Some((3, 4)),
            ..Default::default()
        };
        let m = TempoMap::from_positions([&a, &b]).unwrap();
        // 3/4 bars last 1.5 s: 11 s is two bars after bar 5.
        assert_eq!(m.bar_beat_at(11.0), BarBeat { bar: 7, beat: 1.0 });
        assert!(close(m.seconds_at(BarBeat { bar: 6, beat: 2.0 }), 10.0));
    }

    /// The walk back over bar lines that `locate_change` once did (linear in the bars
    /// between two points): the oracle its closed form must agree with.
    fn locate_by_walking(prev: &TempoChange, mut next: TempoChange) -> TempoChange {
        let at_beats = |c: &TempoChange, b: f64| c.seconds + (b - c.beats) * 60.0 / c.tempo;
        let (n, o) = (next.bar_len(), prev.bar_len());
        let mut k = 0i32;
        let mut start = next.bar_start_beats;
        while start >= prev.beats - 1e-9 && k < 100_000 {
            let old_bars = (start - prev.bar_start_beats) / o;
            let on_old_grid = (old_bars - old_bars.round()).abs() < 1e-6;
            if on_old_grid && prev.bar + old_bars.round() as i32 == next.bar - k {
                next.seconds = at_beats(prev, start).max(prev.seconds);
                next.beats = start;
                next.bar -= k;
                next.bar_start_beats = start;
                break;
            }
            k += 1;
            start -= n;
        }
        next
    }

    proptest::proptest! {
        #[test]
        fn a_meter_change_is_found_where_walking_back_over_bars_finds_it(
            old_sig in proptest::sample::select(vec![(4u16, 4u16), (3, 4), (7, 8), (6, 8), (5, 4), (2, 2)]),
            new_sig in proptest::sample::select(vec![(4u16, 4u16), (3, 4), (7, 8), (6, 8), (5, 4), (2, 2)]),
            prev_bar in 1i32..50,
            bars_to_change in 0i32..40,
            bars_after in 0i32..40,
            offset_beats in 0.0f64..3.0,
            bar_noise in -2i32..3,
            tempo in 60.0f64..180.0,
        ) {
            proptest::prop_assume!(old_sig != new_sig);
            let prev = TempoChange {
                seconds: 1.0,
                beats: 2.0,
                tempo,
                sig: old_sig,
                bar: prev_bar,
                bar_start_beats: 2.0,
            };
            // The change at an old bar line, the point `bars_after` new bars later (its bar
            // number sometimes off, as a host may report it).
            let change_at = prev.bar_start_beats + bars_to_change as f64 * prev.bar_len();
            let n = new_sig.0 as f64 * 4.0 / new_sig.1 as f64;
            let bar_start = change_at + bars_after as f64 * n;
            let beats = bar_start + offset_beats.min(n - 1e-3);
            let next = TempoChange {
                seconds: prev.seconds + (beats - prev.beats) * 60.0 / tempo,
                beats,
                tempo,
                sig: new_sig,
                bar: prev_bar + bars_to_change + bars_after + bar_noise,
                bar_start_beats: bar_start,
            };
            proptest::prop_assert_eq!(locate_change(&prev, next), locate_by_walking(&prev, next));
        }
    }
}

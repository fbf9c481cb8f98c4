//! What the audio thread notices: transport start/stop, takes (record passes) and marks.
//!
//! [`Detector::block`] runs once per (sub-)block on the audio thread. It only compares a few
//! values and calls `emit` with small `Copy` events: no allocation, no lock, no syscall, and no
//! panic for any input (positions may be missing, NaN or jump anywhere). Events carry the raw
//! host transport; bars, beats and seconds are worked out by the worker, off the audio thread
//! (the rare path only copies).

use crate::playhead::{BlockStart, HostTransport};
use nice_plug::prelude::Transport;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

/// An event as it leaves the audio thread: `Copy`, no heap data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CaptureEvent {
    pub kind: CaptureKind,
    /// The transport of the block the event belongs to...
    pub at: HostTransport,
    /// ...and how many frames after that block's start it happened.
    pub advance: u32,
    /// The stream frame (frames this instance processed before) of the block being processed
    /// when it was detected: set on the way out of `process()`; where a mark's audio is.
    pub frame: u64,
}

impl CaptureEvent {
    /// Where in the DAW the event happened. Not for the audio thread (it does the math).
    pub fn position(&self) -> liner_record::DawPos {
        self.at.position(self.advance)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureKind {
    TransportStarted,
    TransportStopped,
    /// A record pass began; takes are numbered per instance from 1.
    TakeStarted {
        take: u32,
    },
    /// The record pass `take` ended; the position is where the last recorded sample ended.
    TakeEnded {
        take: u32,
    },
    /// A rising edge of the `Mark` parameter; marks are numbered per instance from 1.
    Mark {
        mark: u32,
    },
}

/// The lowest take and mark numbers still free, raised by the worker when it learns of
/// numbers already used (a loaded project, this machine's journal). Read by the audio
/// thread only when a take or mark starts: one relaxed atomic load.
#[derive(Debug, Default)]
pub struct NumberFloors {
    pub take: AtomicU32,
    pub mark: AtomicU32,
}

impl NumberFloors {
    /// Raises the floors to at least these numbers (never lowers them).
    pub fn raise(&self, next_take: u32, next_mark: u32) {
        self.take.fetch_max(next_take, Ordering::Relaxed);
        self.mark.fetch_max(next_mark, Ordering::Relaxed);
    }
}

/// The audio thread's memory of the previous block, used to see edges.
#[derive(Debug, Clone)]
pub struct Detector {
    was_playing: bool,
    mark_was_on: bool,
    /// The take being recorded, if any.
    take: Option<u32>,
    next_take: u32,
    next_mark: u32,
    floors: Arc<NumberFloors>,
    /// Where the previous block started and how long it was; `None` before the first block.
    /// Written every block: the one store-heavy part of the common path, kept small.
    prev: Option<BlockStart>,
    /// Tempo, time signature and bar line of a block no later than the previous one, with no
    /// meter change since: bars of a remembered block are counted from it. Taken at every
    /// change (a take, the transport) and when the time signature changes.
    bar_line: HostTransport,
}

impl Default for Detector {
    fn default() -> Self {
        Self::new(Arc::default())
    }
}

/// A backwards jump of more than this many seconds while recording is a loop wrap (a new pass).
/// Smaller jumps are not: hosts re-sync the position by a few samples between blocks, and
/// nice-plug 0.4 offsets the position of a mid-block transport event by its offset a second
/// time, so positions inside a host block can run ahead by up to one block (8192 frames at
/// 22.05 kHz is 0.37 s). Nobody loop-records passes shorter than half a second.
const MIN_WRAP_SECONDS: f64 = 0.5;

/// A position in seconds from whichever timeline the host gave (beats at `t`'s tempo).
/// Cheap: no rounding, no libm.
#[inline(always)]
fn seconds_hint(
    seconds: Option<f64>,
    samples: Option<i64>,
    beats: Option<f64>,
    t: &Transport,
) -> Option<f64> {
    match (seconds, samples, beats, t.tempo) {
        (Some(s), _, _, _) => Some(s),
        (None, Some(n), _, _) if t.sample_rate > 0.0 => Some(n as f64 / t.sample_rate as f64),
        (None, None, Some(b), Some(tempo)) if tempo > 0.0 => {
            Some(liner_record::position::beats_to_seconds(b, tempo))
        }
        _ => None,
    }
}

impl Detector {
    /// Numbering starts at the floors (at least 1) and never reuses a number below them.
    pub fn new(floors: Arc<NumberFloors>) -> Self {
        Detector {
            was_playing: false,
            mark_was_on: false,
            take: None,
            next_take: 1,
            next_mark: 1,
            floors,
            prev: None,
            bar_line: HostTransport::default(),
        }
    }

    /// Tells the detector the `Mark` parameter's current value, so a parameter that is
    /// already on when processing starts does not count as a press.
    pub fn with_mark(mut self, on: bool) -> Self {
        self.mark_was_on = on;
        self
    }

    /// Processing stops: ends an open take and the transport where the last block ended, so
    /// nothing is left open when the host deactivates the plugin.
    pub fn close(&mut self, mut emit: impl FnMut(CaptureEvent)) {
        let Some(start) = self.prev else {
            return;
        };
        let frames = start.frames;
        let at = self.bar_line.at_block_start(&start);
        if let Some(take) = self.take.take() {
            emit(CaptureEvent {
                kind: CaptureKind::TakeEnded { take },
                at,
                advance: frames,
                frame: 0,
            });
        }
        if self.was_playing {
            emit(CaptureEvent {
                kind: CaptureKind::TransportStopped,
                at,
                advance: frames,
                frame: 0,
            });
        }
        self.was_playing = false;
        self.prev = None;
    }

    /// Whether the position of `t` is more than [`MIN_WRAP_SECONDS`] before where the
    /// previous block ended (a loop wrap, or the producer jumping back): a few comparisons.
    /// Call before [`Detector::block`] for the same block.
    #[inline(always)]
    pub fn jumped_back(&self, t: &Transport) -> bool {
        let Some(prev) = &self.prev else {
            return false;
        };
        let then = seconds_hint(prev.seconds(), prev.samples(), prev.beats(), t);
        let now = seconds_hint(t.pos_seconds, t.pos_samples, t.pos_beats, t);
        match (then, now) {
            (Some(then), Some(now)) => {
                let sr = t.sample_rate as f64;
                (then - now) * sr + prev.frames as f64 > MIN_WRAP_SECONDS * sr
            }
            _ => false,
        }
    }

    /// Whether the position of `t` is more than [`MIN_WRAP_SECONDS`] away from where the
    /// previous block ended, either way: a loop wrap, or the producer clicking elsewhere on the
    /// timeline. A print ends there (its audio would no longer match its place). A few
    /// comparisons; call before [`Detector::block`] for the same block.
    #[inline(always)]
    pub fn jumped(&self, t: &Transport) -> bool {
        let Some(prev) = &self.prev else {
            return false;
        };
        let then = seconds_hint(prev.seconds(), prev.samples(), prev.beats(), t);
        let now = seconds_hint(t.pos_seconds, t.pos_samples, t.pos_beats, t);
        match (then, now) {
            (Some(then), Some(now)) => {
                let sr = t.sample_rate as f64;
                ((now - then) * sr - prev.frames as f64).abs() > MIN_WRAP_SECONDS * sr
            }
            _ => false,
        }
    }

    /// The take being recorded now, if any.
    pub fn current_take(&self) -> Option<u32> {
        self.take
    }

    /// Looks at one block with the host's `transport` that is `frames` long; `mark_on` is the
    /// `Mark` parameter's value during this block. Events are emitted in the order they happened: endings (at the previous block's end)
    /// before beginnings (at this block's start).
    ///
    /// The common case (nothing changed) is a handful of comparisons.
    #[inline(always)]
    pub fn block(
        &mut self,
        transport: &Transport,
        frames: u32,
        mark_on: bool,
        emit: impl FnMut(CaptureEvent),
    ) {
        let playing = transport.playing;
        let recording = playing && transport.recording;
        // A jump back while recording: now < prev + prev_frames / sr - MIN_WRAP, multiplied
        // through by sr (no division).
        let wrapped = recording && self.take.is_some() && self.jumped_back(transport);
        let mark_edge = mark_on && !self.mark_was_on;
        if playing != self.was_playing || recording != self.take.is_some() || wrapped || mark_edge {
            // Only a copy goes to the cold path: were the host's transport's address to leave
            // this inlined code, the wrapper's `Transport` could no longer live in registers and
            // would be copied twice per block with `memcpy` (measured: ~10 ns per block).
            let now = HostTransport::capture(transport);
            self.changed(&now, playing, recording, wrapped, mark_edge, emit);
        }
        self.mark_was_on = mark_on;
        self.prev = Some(BlockStart::of(transport, frames));
        // As `HostTransport` keeps it: a time signature needs both of its numbers.
        let meter = match (transport.time_sig_numerator, transport.time_sig_denominator) {
            (Some(n), Some(d)) => (n, d),
            _ => (0, 0),
        };
        if meter != self.bar_line.meter() {
            self.new_bar_line(&HostTransport::capture(transport));
        }
    }

    /// The time signature changed: bars from here on are counted from this block.
    #[cold]
    #[inline(never)]
    fn new_bar_line(&mut self, now: &HostTransport) {
        self.bar_line = now.tempo_and_bar_line();
    }

    /// The rare path: something happened in this block.
    #[cold]
    #[inline(never)]
    fn changed(
        &mut self,
        now: &HostTransport,
        playing: bool,
        recording: bool,
        wrapped: bool,
        mark_edge: bool,
        mut emit: impl FnMut(CaptureEvent),
    ) {
        let now = *now;
        // The previous block's end: its start position, with bars counted from the bar line
        // kept, carried forward by its length at that tempo.
        let (end_at, end_advance) = match &self.prev {
            Some(start) => (self.bar_line.at_block_start(start), start.frames),
            None => (now, 0),
        };
        self.new_bar_line(&now);
        if let Some(take) = self.take {
            if !recording || wrapped {
                emit(CaptureEvent {
                    kind: CaptureKind::TakeEnded { take },
                    at: end_at,
                    advance: end_advance,
                    frame: 0,
                });
                self.take = None;
            }
        }
        if self.was_playing != playing {
            let (kind, at, advance) = if playing {
                (CaptureKind::TransportStarted, now, 0)
            } else {
                (CaptureKind::TransportStopped, end_at, end_advance)
            };
            emit(CaptureEvent {
                kind,
                at,
                advance,
                frame: 0,
            });
        }
        if recording && self.take.is_none() {
            let take = self.next_take.max(self.floors.take.load(Ordering::Relaxed));
            self.next_take = take.saturating_add(1);
            self.take = Some(take);
            emit(CaptureEvent {
                kind: CaptureKind::TakeStarted { take },
                at: now,
                advance: 0,
                frame: 0,
            });
        }
        if mark_edge {
            let mark = self.next_mark.max(self.floors.mark.load(Ordering::Relaxed));
            self.next_mark = mark.saturating_add(1);
            emit(CaptureEvent {
                kind: CaptureKind::Mark { mark },
                at: now,
                advance: 0,
                frame: 0,
            });
        }
        self.was_playing = playing;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SR: f32 = 48_000.0;

    fn pos(samples: i64, playing: bool, recording: bool) -> Transport {
        let mut t = Transport::new(SR);
        t.pos_samples = Some(samples);
        t.playing = playing;
        t.recording = recording;
        t
    }

    struct Run {
        d: Detector,
    }

    impl Run {
        fn new(d: Detector) -> Self {
            Run { d }
        }

        fn block(&mut self, t: Transport, frames: u32, mark: bool) -> Vec<CaptureEvent> {
            let mut out = Vec::new();
            self.d.block(&t, frames, mark, |e| out.push(e));
            out
        }
    }

    fn run(r: &mut Run, p: Transport, mark: bool) -> Vec<(CaptureKind, Option<i64>)> {
        r.block(p, 512, mark)
            .into_iter()
            .map(|e| (e.kind, e.position().samples))
            .collect()
    }

    #[test]
    fn a_record_pass_is_one_take_from_its_first_to_its_last_sample() {
        let mut d = Run::new(Detector::default());
        assert_eq!(
            run(&mut d, pos(0, true, false), false),
            vec![(CaptureKind::TransportStarted, Some(0))]
        );
        assert_eq!(
            run(&mut d, pos(512, true, true), false),
            vec![(CaptureKind::TakeStarted { take: 1 }, Some(512))]
        );
        assert_eq!(d.d.current_take(), Some(1));
        assert!(run(&mut d, pos(1024, true, true), false).is_empty());
        assert_eq!(
            run(&mut d, pos(1536, true, false), false),
            vec![(CaptureKind::TakeEnded { take: 1 }, Some(1536))]
        );
        // Stopping while recording ends the take, then the transport, both at the last sample.
        run(&mut d, pos(2048, true, true), false);
        assert_eq!(
            run(&mut d, pos(0, false, false), false),
            vec![
                (CaptureKind::TakeEnded { take: 2 }, Some(2560)),
                (CaptureKind::TransportStopped, Some(2560)),
            ]
        );
    }

    #[test]
    fn recording_armed_but_stopped_is_not_a_take() {
        let mut d = Run::new(Detector::default());
        assert!(run(&mut d, pos(0, false, true), false).is_empty());
        assert_eq!(d.d.current_take(), None);
    }

    #[test]
    fn a_loop_wrap_while_recording_starts_a_new_take() {
        let floors = Arc::new(NumberFloors::default());
        floors.raise(5, 1);
        let mut d = Run::new(Detector::new(floors));
        run(&mut d, pos(48_000, true, true), false);
        run(&mut d, pos(95_488, true, true), false);
        assert_eq!(
            run(&mut d, pos(48_000, true, true), false),
            vec![
                (CaptureKind::TakeEnded { take: 5 }, Some(96_000)),
                (CaptureKind::TakeStarted { take: 6 }, Some(48_000)),
            ]
        );
    }

    #[test]
    fn a_jump_either_way_is_told_from_the_host_resyncing_by_a_few_samples() {
        let mut d = Run::new(Detector::default());
        run(&mut d, pos(48_000, true, false), false);
        // The next block starts where this one ended, give or take what hosts re-sync.
        assert!(!d.d.jumped(&pos(48_512, true, false)));
        assert!(!d.d.jumped(&pos(48_500, true, false)));
        assert!(
            !d.d.jumped(&pos(60_000, true, false)),
            "a quarter second ahead"
        );
        assert!(
            d.d.jumped(&pos(96_000, true, false)),
            "a second ahead: clicked forward"
        );
        assert!(
            d.d.jumped(&pos(0, true, false)),
            "a second back: a loop wrap"
        );
        assert!(
            !d.d.jumped_back(&pos(96_000, true, false)),
            "forward is no wrap"
        );
    }

    #[test]
    fn numbers_already_used_elsewhere_are_skipped_even_mid_session() {
        let floors = Arc::new(NumberFloors::default());
        let mut d = Run::new(Detector::new(floors.clone()));
        run(&mut d, pos(0, true, true), false);
        run(&mut d, pos(512, true, false), false);
        // The worker learns that takes up to 7 exist (a project loaded while processing).
        floors.raise(8, 3);
        assert_eq!(
            run(&mut d, pos(1024, true, true), true),
            vec![
                (CaptureKind::TakeStarted { take: 8 }, Some(1024)),
                (CaptureKind::Mark { mark: 3 }, Some(1024)),
            ]
        );
        // Floors never lower.
        floors.raise(2, 1);
        assert_eq!(floors.take.load(Ordering::Relaxed), 8);
    }

    #[test]
    fn closing_ends_the_open_take_and_the_transport_where_the_last_block_ended() {
        let mut d = Run::new(Detector::default());
        run(&mut d, pos(0, true, true), false);
        run(&mut d, pos(512, true, true), false);
        let mut out = Vec::new();
        d.d.close(|e| out.push((e.kind, e.position().samples)));
        assert_eq!(
            out,
            vec![
                (CaptureKind::TakeEnded { take: 1 }, Some(1024)),
                (CaptureKind::TransportStopped, Some(1024)),
            ]
        );
        // A pedal already down when processing restarts is not a press.
        let mut d = Run::new(Detector::default().with_mark(true));
        assert_eq!(
            run(&mut d, pos(0, false, false), true),
            Vec::<(CaptureKind, Option<i64>)>::new()
        );
    }

    #[test]
    fn closing_carries_the_last_block_to_its_end_in_beats_too() {
        let mut d = Run::new(Detector::default());
        let at = |samples: i64| {
            let mut t = pos(samples, true, true);
            t.tempo = Some(120.0);
            t.time_sig_numerator = Some(4);
            t.time_sig_denominator = Some(4);
            t.pos_seconds = Some(samples as f64 / SR as f64);
            t.pos_beats = Some(samples as f64 / SR as f64 * 2.0);
            t
        };
        d.block(at(0), 24_000, false);
        d.block(at(24_000), 24_000, false);
        let mut ends = Vec::new();
        d.d.close(|e| ends.push(e.position()));
        assert_eq!(ends.len(), 2, "take and transport end");
        for end in ends {
            // The last block started at 0.5 s (beat 1.0) and lasted 0.5 s: it ends at 1 s,
            // which is beat 2.0 at 120 bpm.
            assert_eq!(end.samples, Some(48_000));
            assert_eq!(end.seconds, Some(1.0));
            assert_eq!(end.beats, Some(2.0));
            assert_eq!(end.tempo, Some(120.0));
        }
    }

    #[test]
    fn a_take_ending_at_a_loop_wrap_keeps_its_bar_and_meter_across_a_meter_change() {
        // 120 bpm: blocks of half a second are one beat. Two bars of 4/4 (beats 0 to 8), then
        // 7/8 (bars of 3.5 quarter notes). The host reports each block's meter and bar line,
        // as DAWs with meter changes do. The loop runs from beat 6 (4/4) to beat 10 (7/8).
        let at = |beats: f64| {
            let mut t = Transport::new(SR);
            t.playing = true;
            t.recording = true;
            t.tempo = Some(120.0);
            let (sig, bar, bar_start) = if beats < 8.0 {
                ((4, 4), (beats / 4.0).floor(), (beats / 4.0).floor() * 4.0)
            } else {
                let k = ((beats - 8.0) / 3.5).floor();
                ((7, 8), 2.0 + k, 8.0 + k * 3.5)
            };
            t.time_sig_numerator = Some(sig.0);
            t.time_sig_denominator = Some(sig.1);
            t.pos_seconds = Some(beats / 2.0);
            t.pos_beats = Some(beats);
            t.bar_start_pos_beats = Some(bar_start);
            t.bar_number = Some(bar as i32);
            t
        };
        let mut d = Run::new(Detector::default());
        for beat in 6..10 {
            d.block(at(beat as f64), 24_000, false);
        }
        // Back to the loop start, in 4/4: the pass ended at beat 10, which is in bar 3, the
        // first 7/8 bar, on its fifth eighth note.
        let events = d.block(at(6.0), 24_000, false);
        let kinds: Vec<_> = events.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            vec![
                CaptureKind::TakeEnded { take: 1 },
                CaptureKind::TakeStarted { take: 2 }
            ]
        );
        let end = events[0].position();
        assert_eq!((end.beats, end.seconds), (Some(10.0), Some(5.0)));
        assert_eq!(end.time_sig, Some((7, 8)));
        assert_eq!((end.bar, end.beat), (Some(3), Some(5.0)));
        let start = events[1].position();
        assert_eq!(start.time_sig, Some((4, 4)));
        assert_eq!((start.bar, start.beat), (Some(2), Some(3.0)));
    }

    #[test]
    fn small_backward_jumps_are_resyncs_not_new_passes() {
        let mut d = Run::new(Detector::default());
        run(&mut d, pos(96_000, true, true), false);
        // Half a second minus a sample back: still the same take.
        assert!(run(&mut d, pos(96_512 - 23_999, true, true), false).is_empty());
        assert_eq!(d.d.current_take(), Some(1));
    }

    #[test]
    fn only_rising_edges_of_mark_drop_marks() {
        let mut d = Run::new(Detector::default());
        run(&mut d, pos(0, false, false), false);
        assert_eq!(
            run(&mut d, pos(0, false, false), true),
            vec![(CaptureKind::Mark { mark: 1 }, Some(0))]
        );
        assert!(run(&mut d, pos(0, false, false), true).is_empty());
        assert!(run(&mut d, pos(0, false, false), false).is_empty());
        assert_eq!(
            run(&mut d, pos(7, false, false), true),
            vec![(CaptureKind::Mark { mark: 2 }, Some(7))]
        );
    }

    #[test]
    fn missing_positions_still_detect_edges() {
        let mut d = Run::new(Detector::default());
        let p = |playing, recording| {
            let mut t = Transport::new(SR);
            t.playing = playing;
            t.recording = recording;
            t
        };
        let mut kinds = Vec::new();
        for (pl, rec) in [(true, true), (true, true), (false, false)] {
            for e in d.block(p(pl, rec), 64, false) {
                assert_eq!(e.position().samples, None);
                kinds.push(e.kind);
            }
        }
        assert_eq!(
            kinds,
            vec![
                CaptureKind::TransportStarted,
                CaptureKind::TakeStarted { take: 1 },
                CaptureKind::TakeEnded { take: 1 },
                CaptureKind::TransportStopped,
            ]
        );
    }
}

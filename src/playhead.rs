//! The DAW position, and the lock-free snapshot the audio thread publishes for other threads.
//!
//! Guarantees of [`SharedPlayhead`]:
//! - [`SharedPlayhead::publish`] is wait-free: a fixed number of atomic stores, no allocation, no
//!   lock, no syscall. Only one thread (the instance's audio thread) may publish.
//! - [`SharedPlayhead::read`] never blocks the writer and never returns a torn snapshot: it is a
//!   sequence lock whose data words are themselves atomics, so there is no data race, and a read
//!   that overlapped a write is retried.

use nice_plug::prelude::Transport;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{fence, AtomicU64, Ordering};

/// Where the DAW was at one moment. Every field is optional because hosts differ in what they
/// report; `playing`/`recording` are always known (false when the host says nothing).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Position {
    /// Samples since the start of the project timeline.
    pub samples: Option<i64>,
    pub seconds: Option<f64>,
    /// Quarter-note beats since the start of the timeline.
    pub beats: Option<f64>,
    /// Bar number as DAWs show it: the first bar is 1.
    pub bar: Option<i32>,
    /// Beat within the bar as DAWs show it (1-based, in units of the time-signature
    /// denominator); `2.5` is halfway through the second beat.
    pub beat: Option<f64>,
    /// Where the current bar starts, in quarter-note beats; needed to move the position forward.
    pub bar_start_beats: Option<f64>,
    /// Beats per minute.
    pub tempo: Option<f64>,
    /// Time signature as (numerator, denominator).
    pub time_sig: Option<(u16, u16)>,
    pub playing: bool,
    pub recording: bool,
}

impl Position {
    /// Reads the host's transport for the start of the current (sub-)block.
    pub fn from_transport(t: &Transport) -> Self {
        let time_sig = match (t.time_sig_numerator, t.time_sig_denominator) {
            (Some(n), Some(d)) if n > 0 && d > 0 && n <= u16::MAX as i32 && d <= u16::MAX as i32 => {
                Some((n as u16, d as u16))
            }
            _ => None,
        };
        let beats = t.pos_beats().filter(|b| b.is_finite());
        let bar_start_beats = t.bar_start_pos_beats().filter(|b| b.is_finite());
        let beat = match (beats, bar_start_beats, time_sig) {
            (Some(b), Some(start), Some((_, den))) => Some((b - start) * den as f64 / 4.0 + 1.0),
            _ => None,
        };
        Position {
            samples: t.pos_samples(),
            seconds: t.pos_seconds().filter(|s| s.is_finite()),
            beats,
            bar: t.bar_number().map(|b| b.saturating_add(1)),
            beat,
            bar_start_beats,
            tempo: t.tempo.filter(|t| t.is_finite() && *t > 0.0),
            time_sig,
            playing: t.playing,
            recording: t.recording,
        }
    }

    /// The position `frames` samples later at the same tempo and time signature: where a block
    /// that started here ends. Bars are advanced when the beat crosses a bar line.
    pub fn advanced(&self, frames: u32, sample_rate: f32) -> Self {
        let mut p = *self;
        p.samples = p.samples.map(|s| s.saturating_add(frames as i64));
        if !(sample_rate > 0.0) {
            return p;
        }
        let dt = frames as f64 / sample_rate as f64;
        p.seconds = p.seconds.map(|s| s + dt);
        if let (Some(beats), Some(tempo)) = (p.beats, p.tempo) {
            let new_beats = beats + dt * tempo / 60.0;
            p.beats = Some(new_beats);
            if let (Some(start), Some((num, den)), Some(bar)) = (p.bar_start_beats, p.time_sig, p.bar)
            {
                let bar_len = num as f64 * 4.0 / den as f64;
                let bars_crossed = ((new_beats - start) / bar_len).floor();
                if bars_crossed.is_finite() && bars_crossed >= 1.0 && bars_crossed < 1e6 {
                    let new_start = start + bars_crossed * bar_len;
                    p.bar_start_beats = Some(new_start);
                    p.bar = Some(bar.saturating_add(bars_crossed as i32));
                }
                let start = p.bar_start_beats.unwrap_or(start);
                p.beat = Some((new_beats - start) * den as f64 / 4.0 + 1.0);
            }
        }
        p
    }
}

/// A loop range reported by the host, in both timelines when available.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct LoopRange {
    pub start_seconds: Option<f64>,
    pub end_seconds: Option<f64>,
    pub start_beats: Option<f64>,
    pub end_beats: Option<f64>,
}

/// Everything the editor needs to stamp a note: the position at the start of the latest block,
/// the loop range, and how many blocks have been processed (to tell a live playhead from a
/// stale one).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Playhead {
    pub pos: Position,
    pub loop_range: Option<LoopRange>,
    pub sample_rate: f32,
    pub blocks: u64,
}

impl Playhead {
    pub fn from_transport(t: &Transport, blocks: u64) -> Self {
        let secs = t.loop_range_seconds();
        let beats = t.loop_range_beats();
        let loop_range = if secs.is_some() || beats.is_some() {
            Some(LoopRange {
                start_seconds: secs.map(|r| r.0),
                end_seconds: secs.map(|r| r.1),
                start_beats: beats.map(|r| r.0),
                end_beats: beats.map(|r| r.1),
            })
        } else {
            None
        };
        Playhead {
            pos: Position::from_transport(t),
            loop_range,
            sample_rate: t.sample_rate,
            blocks,
        }
    }
}

const WORDS: usize = 17;

// Bits of the flags word: which optional fields are present, plus the two booleans.
const F_SAMPLES: u64 = 1 << 0;
const F_SECONDS: u64 = 1 << 1;
const F_BEATS: u64 = 1 << 2;
const F_BAR: u64 = 1 << 3;
const F_BEAT: u64 = 1 << 4;
const F_BAR_START: u64 = 1 << 5;
const F_TEMPO: u64 = 1 << 6;
const F_SIG: u64 = 1 << 7;
const F_PLAYING: u64 = 1 << 8;
const F_RECORDING: u64 = 1 << 9;
const F_LOOP: u64 = 1 << 10;
const F_LOOP_SECS: u64 = 1 << 11;
const F_LOOP_BEATS: u64 = 1 << 12;

fn encode(p: &Playhead) -> [u64; WORDS] {
    let mut w = [0u64; WORDS];
    let pos = &p.pos;
    let mut flags = 0;
    let mut put = |i: usize, bit: u64, v: Option<u64>| {
        if let Some(v) = v {
            flags |= bit;
            w[i] = v;
        }
    };
    put(1, F_SAMPLES, pos.samples.map(|v| v as u64));
    put(2, F_SECONDS, pos.seconds.map(f64::to_bits));
    put(3, F_BEATS, pos.beats.map(f64::to_bits));
    put(4, F_BAR, pos.bar.map(|v| v as i64 as u64));
    put(5, F_BEAT, pos.beat.map(f64::to_bits));
    put(6, F_BAR_START, pos.bar_start_beats.map(f64::to_bits));
    put(7, F_TEMPO, pos.tempo.map(f64::to_bits));
    put(8, F_SIG, pos.time_sig.map(|(n, d)| ((n as u64) << 16) | d as u64));
    if let Some(l) = p.loop_range {
        flags |= F_LOOP;
        if let (Some(s), Some(e)) = (l.start_seconds, l.end_seconds) {
            flags |= F_LOOP_SECS;
            w[9] = s.to_bits();
            w[10] = e.to_bits();
        }
        if let (Some(s), Some(e)) = (l.start_beats, l.end_beats) {
            flags |= F_LOOP_BEATS;
            w[11] = s.to_bits();
            w[12] = e.to_bits();
        }
    }
    if pos.playing {
        flags |= F_PLAYING;
    }
    if pos.recording {
        flags |= F_RECORDING;
    }
    w[0] = flags;
    w[13] = p.sample_rate.to_bits() as u64;
    w[14] = p.blocks;
    w
}

fn decode(w: &[u64; WORDS]) -> Playhead {
    let flags = w[0];
    let get = |i: usize, bit: u64| (flags & bit != 0).then_some(w[i]);
    let loop_range = (flags & F_LOOP != 0).then(|| {
        let secs = flags & F_LOOP_SECS != 0;
        let beats = flags & F_LOOP_BEATS != 0;
        LoopRange {
            start_seconds: secs.then(|| f64::from_bits(w[9])),
            end_seconds: secs.then(|| f64::from_bits(w[10])),
            start_beats: beats.then(|| f64::from_bits(w[11])),
            end_beats: beats.then(|| f64::from_bits(w[12])),
        }
    });
    Playhead {
        pos: Position {
            samples: get(1, F_SAMPLES).map(|v| v as i64),
            seconds: get(2, F_SECONDS).map(f64::from_bits),
            beats: get(3, F_BEATS).map(f64::from_bits),
            bar: get(4, F_BAR).map(|v| v as i64 as i32),
            beat: get(5, F_BEAT).map(f64::from_bits),
            bar_start_beats: get(6, F_BAR_START).map(f64::from_bits),
            tempo: get(7, F_TEMPO).map(f64::from_bits),
            time_sig: get(8, F_SIG).map(|v| ((v >> 16) as u16, v as u16)),
            playing: flags & F_PLAYING != 0,
            recording: flags & F_RECORDING != 0,
        },
        loop_range,
        sample_rate: f32::from_bits(w[13] as u32),
        blocks: w[14],
    }
}

/// The latest [`Playhead`] of one plugin instance, written by its audio thread and read by any
/// other thread (the editor stamps notes with it).
pub struct SharedPlayhead {
    /// Even: stable. Odd: a write is in progress.
    seq: AtomicU64,
    words: [AtomicU64; WORDS],
}

impl Default for SharedPlayhead {
    fn default() -> Self {
        Self::new()
    }
}

impl SharedPlayhead {
    pub fn new() -> Self {
        SharedPlayhead {
            seq: AtomicU64::new(0),
            words: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }

    /// Publishes a new snapshot. Wait-free. Must only be called from one thread at a time (the
    /// audio thread of the owning instance); concurrent publishers could interleave words.
    pub fn publish(&self, playhead: &Playhead) {
        let w = encode(playhead);
        let seq = self.seq.load(Ordering::Relaxed);
        self.seq.store(seq.wrapping_add(1), Ordering::Relaxed);
        // Orders the odd sequence number before the data stores below.
        fence(Ordering::Release);
        for (slot, v) in self.words.iter().zip(w) {
            slot.store(v, Ordering::Relaxed);
        }
        self.seq.store(seq.wrapping_add(2), Ordering::Release);
    }

    /// Reads a consistent snapshot, retrying while a write overlaps. Never blocks the writer.
    pub fn read(&self) -> Playhead {
        loop {
            let before = self.seq.load(Ordering::Acquire);
            if before % 2 == 1 {
                std::hint::spin_loop();
                continue;
            }
            let mut w = [0u64; WORDS];
            for (v, slot) in w.iter_mut().zip(&self.words) {
                *v = slot.load(Ordering::Relaxed);
            }
            // Orders the data loads above before the re-check of the sequence number.
            fence(Ordering::Acquire);
            if self.seq.load(Ordering::Relaxed) == before {
                return decode(&w);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;

    fn transport_at(beats: f64, tempo: f64, sig: (i32, i32)) -> Transport {
        let mut t = Transport::new(48_000.0);
        t.pos_beats = Some(beats);
        t.tempo = Some(tempo);
        t.time_sig_numerator = Some(sig.0);
        t.time_sig_denominator = Some(sig.1);
        t
    }

    #[test]
    fn bar_and_beat_are_one_based_like_a_daw_shows_them() {
        // 4/4 at 120 bpm, beat 9.5 = bar 3, beat 2.5.
        let p = Position::from_transport(&transport_at(9.5, 120.0, (4, 4)));
        assert_eq!(p.bar, Some(3));
        assert_eq!(p.beat, Some(2.5));
        assert_eq!(p.seconds, Some(4.75));
        assert_eq!(p.samples, Some(228_000));
        // 7/8: a bar is 3.5 quarter notes; quarter 8.0 is bar 3 (starts at 7.0), eighth 3.
        let p = Position::from_transport(&transport_at(8.0, 90.0, (7, 8)));
        assert_eq!(p.bar, Some(3));
        assert_eq!(p.beat, Some(3.0));
    }

    #[test]
    fn advancing_crosses_bar_lines() {
        let p = Position::from_transport(&transport_at(3.0, 120.0, (4, 4)));
        assert_eq!((p.bar, p.beat), (Some(1), Some(4.0)));
        // One second at 120 bpm is two beats: beat 5.0 = bar 2 beat 2.
        let q = p.advanced(48_000, 48_000.0);
        assert_eq!(q.beats, Some(5.0));
        assert_eq!((q.bar, q.beat), (Some(2), Some(2.0)));
        assert_eq!(q.samples, Some(p.samples.unwrap() + 48_000));
    }

    #[test]
    fn hostile_transport_values_do_not_panic_or_leak_nan() {
        let mut t = transport_at(f64::NAN, f64::INFINITY, (0, 0));
        t.pos_seconds = Some(f64::NAN);
        let p = Position::from_transport(&t);
        assert_eq!(p.tempo, None);
        assert_eq!(p.time_sig, None);
        assert_eq!(p.beats, None);
        let _ = p.advanced(u32::MAX, 0.0);
        let _ = p.advanced(1, f32::NAN);
    }

    #[test]
    fn snapshot_round_trips_every_field() {
        let mut t = transport_at(9.5, 133.0, (7, 8));
        t.playing = true;
        t.recording = true;
        t.loop_range_beats = Some((8.0, 16.0));
        t.loop_range_seconds = Some((1.0, 2.0));
        let ph = Playhead::from_transport(&t, 42);
        let shared = SharedPlayhead::new();
        shared.publish(&ph);
        assert_eq!(shared.read(), ph);
        let empty = Playhead::from_transport(&Transport::new(44_100.0), 1);
        shared.publish(&empty);
        assert_eq!(shared.read(), empty);
    }

    /// A reader racing a writer only ever sees snapshots the writer published whole: every
    /// field of a published snapshot is derived from one counter, so a torn read would mix
    /// counters.
    #[test]
    fn concurrent_reads_are_never_torn() {
        let shared = Arc::new(SharedPlayhead::new());
        let stop = Arc::new(AtomicBool::new(false));
        let writer = {
            let (shared, stop) = (shared.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut n: u64 = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let x = n as f64;
                    let ph = Playhead {
                        pos: Position {
                            samples: Some(n as i64),
                            seconds: Some(x),
                            beats: Some(x * 2.0),
                            bar: Some(n as i32),
                            beat: Some(x + 0.5),
                            bar_start_beats: Some(x * 3.0),
                            tempo: Some(x + 1.0),
                            time_sig: Some((n as u16, n as u16)),
                            playing: n % 2 == 0,
                            recording: n % 2 == 0,
                        },
                        loop_range: None,
                        sample_rate: 48_000.0,
                        blocks: n,
                    };
                    shared.publish(&ph);
                }
                n
            })
        };
        let mut checked = 0u64;
        for _ in 0..20_000 {
            let ph = shared.read();
            let n = ph.blocks;
            if n == 0 {
                continue;
            }
            let x = n as f64;
            assert_eq!(ph.pos.samples, Some(n as i64));
            assert_eq!(ph.pos.seconds, Some(x));
            assert_eq!(ph.pos.beats, Some(x * 2.0));
            assert_eq!(ph.pos.bar, Some(n as i32));
            assert_eq!(ph.pos.tempo, Some(x + 1.0));
            assert_eq!(ph.pos.time_sig, Some((n as u16, n as u16)));
            assert_eq!(ph.pos.playing, n % 2 == 0);
            checked += 1;
        }
        stop.store(true, Ordering::Relaxed);
        let written = writer.join().unwrap();
        assert!(written > 0 && checked > 0);
    }
}

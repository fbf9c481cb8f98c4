//! The DAW position, and the lock-free snapshot the audio thread publishes for other threads.
//!
//! Guarantees of [`SharedPlayhead`]:
//! - [`SharedPlayhead::publish`] is wait-free: a fixed number of atomic stores, no allocation, no
//!   lock, no syscall. Only one thread (the instance's audio thread) may publish.
//! - [`SharedPlayhead::read`] never blocks the writer and never returns a torn snapshot: it is a
//!   sequence lock whose data words are themselves atomics, so there is no data race, and a read
//!   that overlapped a write is retried.

use liner_record::position::{bar_holding, bar_len_beats, beat_in_bar};
use liner_record::DawPos;
use nice_plug::prelude::Transport;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{fence, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

/// The bar line (in quarter notes) and the bar number (from 0) a position is in. The host's bar
/// line is moved by whole bars until it holds the position, and its bar number with it: a
/// transport placed at another block's position keeps the bar line it had (see
/// [`HostTransport::at_block_start`]), and Ardour 7's VST3 side reports the line of the
/// following bar (beat 1.9 in 4/4 comes with a bar line at 4.0), which taken as is would put
/// notes on negative beats. Moving by bars of this time signature is exact unless the meter
/// changed in between. Without a host bar line the bar is counted from the song's start (by
/// nice-plug), as before.
fn bar_of(
    t: &Transport,
    beats: Option<f64>,
    time_sig: Option<(u16, u16)>,
) -> (Option<f64>, Option<i32>) {
    let bar_len = time_sig.map(bar_len_beats);
    let host_line = t.bar_start_pos_beats.filter(|s| s.is_finite());
    match (host_line, beats, bar_len) {
        (Some(line), Some(b), Some(len)) => match bar_holding(line, b, len) {
            Some((line, bars)) => {
                let number = match t.bar_number {
                    Some(n) => Some(n.saturating_add(bars)),
                    None => t.bar_number(),
                };
                (Some(line), number)
            }
            None => (None, None),
        },
        _ => (
            t.bar_start_pos_beats().filter(|b| b.is_finite()),
            t.bar_number(),
        ),
    }
}

/// Where the host's transport is at the start of the current (sub-)block. The bar line it
/// is counted from is not kept: [`DawPos::bar_line`] works it out again.
pub fn host_position(t: &Transport) -> DawPos {
    let time_sig = match (t.time_sig_numerator, t.time_sig_denominator) {
        (Some(n), Some(d)) if n > 0 && d > 0 && n <= u16::MAX as i32 && d <= u16::MAX as i32 => {
            Some((n as u16, d as u16))
        }
        _ => None,
    };
    let beats = t.pos_beats().filter(|b| b.is_finite());
    let (bar_start_beats, bar_number) = bar_of(t, beats, time_sig);
    let beat = match (beats, bar_start_beats, time_sig) {
        (Some(b), Some(start), Some((_, den))) => Some(beat_in_bar(b, start, den)),
        _ => None,
    };
    let seconds = t.pos_seconds().filter(|s| s.is_finite());
    // nice-plug derives samples from seconds even when those are NaN (giving 0): only
    // keep samples the host gave or that come from a real position.
    let samples = t
        .pos_samples
        .or_else(|| seconds.map(|s| (s * t.sample_rate as f64).round() as i64));
    DawPos {
        samples,
        seconds,
        beats,
        bar: bar_number.map(|b| b.saturating_add(1)),
        beat,
        tempo: t.tempo.filter(|t| t.is_finite() && *t > 0.0),
        time_sig,
        playing: t.playing,
        recording: t.recording,
    }
}

/// Where a block started on the host's three timelines, and how long it was: what the audio
/// thread remembers of every block, so it is written with plain stores and no arithmetic. An
/// absent value is NaN (seconds, beats) or `i64::MIN` (samples) rather than an `Option`, whose
/// tag would be one more store each; a host that sends NaN for a position is one that sent
/// none, as in [`host_position`]. Bars are not kept: the detector counts them from a bar line it
/// keeps on its rare path (see [`HostTransport::at_block_start`]).
#[derive(Debug, Clone, Copy)]
pub struct BlockStart {
    seconds: f64,
    beats: f64,
    samples: i64,
    pub frames: u32,
}

impl BlockStart {
    #[inline(always)]
    pub fn of(t: &Transport, frames: u32) -> Self {
        BlockStart {
            seconds: t.pos_seconds.unwrap_or(f64::NAN),
            beats: t.pos_beats.unwrap_or(f64::NAN),
            samples: t.pos_samples.unwrap_or(i64::MIN),
            frames,
        }
    }

    pub fn seconds(&self) -> Option<f64> {
        (!self.seconds.is_nan()).then_some(self.seconds)
    }

    pub fn beats(&self) -> Option<f64> {
        (!self.beats.is_nan()).then_some(self.beats)
    }

    pub fn samples(&self) -> Option<i64> {
        (self.samples != i64::MIN).then_some(self.samples)
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

/// The host's transport for one (sub-)block exactly as reported, copied without interpretation
/// so that the audio thread does no arithmetic on it (it only copies and tests flags). [`HostTransport::position`] and
/// [`HostTransport::playhead`] derive bars, beats and seconds later, on whichever thread reads.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct HostTransport {
    flags: u32,
    sample_rate: f32,
    tempo: f64,
    sig: (i32, i32),
    pos_samples: i64,
    pos_seconds: f64,
    pos_beats: f64,
    bar_start_beats: f64,
    bar_number: i32,
    loop_seconds: (f64, f64),
    loop_beats: (f64, f64),
}

const T_PLAYING: u32 = 1 << 0;
const T_RECORDING: u32 = 1 << 1;
const T_TEMPO: u32 = 1 << 2;
const T_SIG: u32 = 1 << 3;
const T_SAMPLES: u32 = 1 << 4;
const T_SECONDS: u32 = 1 << 5;
const T_BEATS: u32 = 1 << 6;
const T_BAR_START: u32 = 1 << 7;
const T_BAR_NUMBER: u32 = 1 << 8;
const T_LOOP_SECONDS: u32 = 1 << 9;
const T_LOOP_BEATS: u32 = 1 << 10;

impl HostTransport {
    /// Copies the fields the host set. Wait-free, no allocation, no arithmetic.
    pub fn capture(t: &Transport) -> Self {
        let mut h = HostTransport::default();
        h.capture_from(t);
        h
    }

    /// [`HostTransport::capture`] in place: the audio thread overwrites a slot it owns rather
    /// than building a temporary and copying it (which stalls store-to-load forwarding).
    #[inline]
    pub fn capture_from(&mut self, t: &Transport) {
        let h = self;
        h.sample_rate = t.sample_rate;
        let mut flags = 0;
        if t.playing {
            flags |= T_PLAYING;
        }
        if t.recording {
            flags |= T_RECORDING;
        }
        if let Some(v) = t.tempo {
            flags |= T_TEMPO;
            h.tempo = v;
        }
        if let (Some(n), Some(d)) = (t.time_sig_numerator, t.time_sig_denominator) {
            flags |= T_SIG;
            h.sig = (n, d);
        }
        if let Some(v) = t.pos_samples {
            flags |= T_SAMPLES;
            h.pos_samples = v;
        }
        if let Some(v) = t.pos_seconds {
            flags |= T_SECONDS;
            h.pos_seconds = v;
        }
        if let Some(v) = t.pos_beats {
            flags |= T_BEATS;
            h.pos_beats = v;
        }
        if let Some(v) = t.bar_start_pos_beats {
            flags |= T_BAR_START;
            h.bar_start_beats = v;
        }
        if let Some(v) = t.bar_number {
            flags |= T_BAR_NUMBER;
            h.bar_number = v;
        }
        if let Some(v) = t.loop_range_seconds {
            flags |= T_LOOP_SECONDS;
            h.loop_seconds = v;
        }
        if let Some(v) = t.loop_range_beats {
            flags |= T_LOOP_BEATS;
            h.loop_beats = v;
        }
        h.flags = flags;
    }

    #[inline]
    pub fn playing(&self) -> bool {
        self.flags & T_PLAYING != 0
    }

    #[inline]
    pub fn recording(&self) -> bool {
        self.flags & T_RECORDING != 0
    }

    pub fn sample_rate(&self) -> f32 {
        self.sample_rate
    }

    /// Rebuilds nice-plug's view, whose methods fill in what the host left out.
    fn to_transport(self) -> Transport {
        let mut t = Transport::new(self.sample_rate);
        let has = |bit| self.flags & bit != 0;
        t.playing = has(T_PLAYING);
        t.recording = has(T_RECORDING);
        t.tempo = has(T_TEMPO).then_some(self.tempo);
        if has(T_SIG) {
            t.time_sig_numerator = Some(self.sig.0);
            t.time_sig_denominator = Some(self.sig.1);
        }
        t.pos_samples = has(T_SAMPLES).then_some(self.pos_samples);
        t.pos_seconds = has(T_SECONDS).then_some(self.pos_seconds);
        t.pos_beats = has(T_BEATS).then_some(self.pos_beats);
        t.bar_start_pos_beats = has(T_BAR_START).then_some(self.bar_start_beats);
        t.bar_number = has(T_BAR_NUMBER).then_some(self.bar_number);
        t.loop_range_seconds = has(T_LOOP_SECONDS).then_some(self.loop_seconds);
        t.loop_range_beats = has(T_LOOP_BEATS).then_some(self.loop_beats);
        t
    }

    /// This transport without its position: play state, tempo, time signature, the bar line it
    /// was in and the sample rate. Enough to place a later block start in beats and bars.
    pub fn tempo_and_bar_line(&self) -> Self {
        HostTransport {
            flags: self.flags
                & (T_PLAYING | T_RECORDING | T_TEMPO | T_SIG | T_BAR_START | T_BAR_NUMBER),
            sample_rate: self.sample_rate,
            tempo: self.tempo,
            sig: self.sig,
            bar_start_beats: self.bar_start_beats,
            bar_number: self.bar_number,
            ..HostTransport::default()
        }
    }

    /// The time signature, as two words for a cheap comparison ((0, 0) where absent).
    pub fn meter(&self) -> (i32, i32) {
        if self.flags & T_SIG != 0 {
            self.sig
        } else {
            (0, 0)
        }
    }

    /// This transport moved to `start` (where a later block began): tempo, time signature,
    /// loop and bar line stay; the position comes from that block. Reading the position then
    /// counts the bar from the bar line kept ([`host_position`]); exact when the
    /// meter did not change in between (the detector keeps a bar line from after the last
    /// meter change). A block without beats gets no bar.
    pub fn at_block_start(mut self, start: &BlockStart) -> Self {
        let mut set = |bit: u32, present: bool| {
            if present {
                self.flags |= bit;
            } else {
                self.flags &= !bit;
            }
        };
        set(T_SECONDS, start.seconds().is_some());
        set(T_BEATS, start.beats().is_some());
        set(T_SAMPLES, start.samples().is_some());
        if start.beats().is_none() {
            set(T_BAR_START | T_BAR_NUMBER, false);
        }
        self.pos_seconds = start.seconds().unwrap_or_default();
        self.pos_beats = start.beats().unwrap_or_default();
        self.pos_samples = start.samples().unwrap_or_default();
        self
    }

    /// The DAW position `advance` frames after the start of this block.
    pub fn position(&self, advance: u32) -> DawPos {
        let p = host_position(&self.to_transport());
        if advance == 0 {
            p
        } else {
            p.advanced(advance, self.sample_rate)
        }
    }

    /// The full playhead for this block; `blocks` counts processed blocks.
    pub fn playhead(&self, blocks: u64) -> Playhead {
        Playhead::from_transport(&self.to_transport(), blocks)
    }

    #[inline]
    fn encode(&self, blocks: u64, frame: u64) -> [u64; WORDS] {
        [
            self.flags as u64 | (self.sample_rate.to_bits() as u64) << 32,
            self.tempo.to_bits(),
            (self.sig.0 as u32 as u64) << 32 | self.sig.1 as u32 as u64,
            self.pos_samples as u64,
            self.pos_seconds.to_bits(),
            self.pos_beats.to_bits(),
            self.bar_start_beats.to_bits(),
            self.bar_number as u32 as u64,
            self.loop_seconds.0.to_bits(),
            self.loop_seconds.1.to_bits(),
            self.loop_beats.0.to_bits(),
            self.loop_beats.1.to_bits(),
            blocks,
            frame,
        ]
    }

    fn decode(w: &[u64; WORDS]) -> (Self, u64) {
        let t = HostTransport {
            flags: w[0] as u32,
            sample_rate: f32::from_bits((w[0] >> 32) as u32),
            tempo: f64::from_bits(w[1]),
            sig: ((w[2] >> 32) as u32 as i32, w[2] as u32 as i32),
            pos_samples: w[3] as i64,
            pos_seconds: f64::from_bits(w[4]),
            pos_beats: f64::from_bits(w[5]),
            bar_start_beats: f64::from_bits(w[6]),
            bar_number: w[7] as u32 as i32,
            loop_seconds: (f64::from_bits(w[8]), f64::from_bits(w[9])),
            loop_beats: (f64::from_bits(w[10]), f64::from_bits(w[11])),
        };
        (t, w[12])
    }
}

/// Everything the editor needs to stamp a note: the position at the start of the latest block,
/// the loop range, how many blocks have been processed (to tell a live playhead from a
/// stale one), and the stream frame of that block (where its audio is in a clip's history).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Playhead {
    pub pos: DawPos,
    pub loop_range: Option<LoopRange>,
    pub sample_rate: f32,
    pub blocks: u64,
    pub frame: u64,
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
            pos: host_position(t),
            loop_range,
            sample_rate: t.sample_rate,
            blocks,
            frame: 0,
        }
    }
}

const WORDS: usize = 14;

/// The latest transport of one plugin instance, written by its audio thread and read by any
/// other thread (the editor stamps notes with it).
///
/// The audio thread publishes every block while at least one reader is subscribed
/// ([`SharedPlayhead::subscribe`], held by an open editor) and skips the work otherwise: the
/// snapshot only exists for readers, so a closed editor costs the audio thread one relaxed
/// load per block.
pub struct SharedPlayhead {
    /// Even: stable. Odd: a write is in progress.
    seq: AtomicU64,
    words: [AtomicU64; WORDS],
    /// Number of live [`PlayheadSubscription`]s.
    readers: AtomicUsize,
}

/// Keeps the audio thread publishing while held.
pub struct PlayheadSubscription {
    playhead: Arc<SharedPlayhead>,
}

impl Drop for PlayheadSubscription {
    fn drop(&mut self) {
        self.playhead.readers.fetch_sub(1, Ordering::Relaxed);
    }
}

impl PlayheadSubscription {
    pub fn playhead(&self) -> &SharedPlayhead {
        &self.playhead
    }
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
            readers: AtomicUsize::new(0),
        }
    }

    /// Asks the audio thread to publish every block until the subscription is dropped. The
    /// next processed block is visible to [`SharedPlayhead::read`].
    pub fn subscribe(self: &Arc<Self>) -> PlayheadSubscription {
        self.readers.fetch_add(1, Ordering::Relaxed);
        PlayheadSubscription {
            playhead: self.clone(),
        }
    }

    /// Whether anyone is subscribed. One relaxed load; called by the audio thread per block.
    #[inline]
    pub fn is_watched(&self) -> bool {
        self.readers.load(Ordering::Relaxed) > 0
    }

    /// Publishes the transport of the block numbered `blocks`. Wait-free: fourteen relaxed
    /// stores between two sequence stores. Must only be called from one thread at a time (the
    /// audio thread of the owning instance); concurrent publishers could interleave words.
    #[inline]
    pub fn publish(&self, transport: &HostTransport, blocks: u64, frame: u64) {
        let w = transport.encode(blocks, frame);
        // Only this thread writes `seq`, so reading it back cannot race.
        let seq = self.seq.load(Ordering::Relaxed);
        self.seq.store(seq.wrapping_add(1), Ordering::Relaxed);
        // Orders the odd sequence number before the data stores below.
        fence(Ordering::Release);
        for (slot, v) in self.words.iter().zip(w) {
            slot.store(v, Ordering::Relaxed);
        }
        self.seq.store(seq.wrapping_add(2), Ordering::Release);
    }

    /// Reads a consistent transport and its block number, retrying while a write overlaps.
    /// Never blocks the writer.
    pub fn read_transport(&self) -> (HostTransport, u64) {
        let w = self.read_words();
        HostTransport::decode(&w)
    }

    fn read_words(&self) -> [u64; WORDS] {
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
                return w;
            }
        }
    }

    /// The latest playhead, with bars, beats and seconds worked out.
    pub fn read(&self) -> Playhead {
        let w = self.read_words();
        let (t, blocks) = HostTransport::decode(&w);
        Playhead {
            frame: w[13],
            ..t.playhead(blocks)
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
    fn shifting_back_and_forth_recounts_bars_and_stops_at_zero() {
        // 4/4 at 120 bpm: 2 s = 4 beats = one bar.
        let mut t = transport_at(9.5, 120.0, (4, 4));
        t.pos_seconds = Some(4.75);
        t.bar_start_pos_beats = Some(8.0);
        t.bar_number = Some(2);
        let p = host_position(&t);
        assert_eq!((p.bar, p.beat), (Some(3), Some(2.5)));
        let back = p.shifted(-2.0, 48_000.0);
        assert_eq!((back.bar, back.beat), (Some(2), Some(2.5)));
        assert_eq!(back.seconds, Some(2.75));
        let fwd = p.shifted(2.0, 48_000.0);
        assert_eq!((fwd.bar, fwd.beat), (Some(4), Some(2.5)));
        let start = p.shifted(-60.0, 48_000.0);
        assert_eq!(start.seconds, Some(0.0));
        assert_eq!((start.bar, start.beat), (Some(1), Some(1.0)));
    }

    #[test]
    fn bar_and_beat_are_one_based_like_a_daw_shows_them() {
        // 4/4 at 120 bpm, beat 9.5 = bar 3, beat 2.5.
        let p = host_position(&transport_at(9.5, 120.0, (4, 4)));
        assert_eq!(p.bar, Some(3));
        assert_eq!(p.beat, Some(2.5));
        assert_eq!(p.seconds, Some(4.75));
        assert_eq!(p.samples, Some(228_000));
        // 7/8: a bar is 3.5 quarter notes; quarter 8.0 is bar 3 (starts at 7.0), eighth 3.
        let p = host_position(&transport_at(8.0, 90.0, (7, 8)));
        assert_eq!(p.bar, Some(3));
        assert_eq!(p.beat, Some(3.0));
    }

    #[test]
    fn advancing_crosses_bar_lines() {
        let p = host_position(&transport_at(3.0, 120.0, (4, 4)));
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
        let p = host_position(&t);
        assert_eq!(p.tempo, None);
        assert_eq!(p.time_sig, None);
        assert_eq!(p.beats, None);
        let _ = p.advanced(u32::MAX, 0.0);
        let _ = p.advanced(1, f32::NAN);
        // A block start placed from a bar line in a meaningless meter gets no NaN bar line
        // nor beat.
        for sig in [(7, 0), (-3, 4), (0, 0), (i32::MAX, 1)] {
            let mut here = transport_at(1.0, 120.0, sig);
            here.bar_start_pos_beats = Some(0.0);
            here.bar_number = Some(0);
            let mut then = Transport::new(48_000.0);
            then.pos_beats = Some(8.0);
            let placed = HostTransport::capture(&here).at_block_start(&BlockStart::of(&then, 64));
            let p = placed.position(64);
            assert!(p.bar_line().is_none_or(f64::is_finite), "{sig:?}: {p:?}");
            assert!(p.beat.is_none_or(f64::is_finite), "{sig:?}: {p:?}");
        }
    }

    #[test]
    fn snapshot_round_trips_every_field() {
        let mut t = transport_at(9.5, 133.0, (7, 8));
        t.playing = true;
        t.recording = true;
        t.pos_seconds = Some(-1.25);
        t.pos_samples = Some(-60_000);
        t.bar_number = Some(-2);
        t.bar_start_pos_beats = Some(7.0);
        t.loop_range_beats = Some((8.0, 16.0));
        t.loop_range_seconds = Some((1.0, 2.0));
        let host = HostTransport::capture(&t);
        let shared = SharedPlayhead::new();
        shared.publish(&host, 42, 7);
        assert_eq!(shared.read_transport(), (host, 42));
        assert_eq!(
            shared.read(),
            Playhead {
                frame: 7,
                ..Playhead::from_transport(&t, 42)
            }
        );
        let empty = Transport::new(44_100.0);
        shared.publish(&HostTransport::capture(&empty), 1, 0);
        assert_eq!(shared.read(), Playhead::from_transport(&empty, 1));
        assert_eq!(shared.read().pos, DawPos::default());
    }

    #[test]
    fn positions_are_derived_from_the_raw_transport_off_the_audio_thread() {
        let mut t = transport_at(3.0, 120.0, (4, 4));
        t.playing = true;
        let host = HostTransport::capture(&t);
        assert_eq!(host.position(0), host_position(&t));
        let later = host.position(48_000);
        assert_eq!((later.bar, later.beat), (Some(2), Some(2.0)));
    }

    #[test]
    fn a_later_block_start_is_placed_in_its_bar_from_an_earlier_bar_line() {
        // 7/8 (bars of 3.5 quarter notes) from a bar line at beat 7, which is bar 2 from 0.
        let mut here = Transport::new(48_000.0);
        here.tempo = Some(120.0);
        here.time_sig_numerator = Some(7);
        here.time_sig_denominator = Some(8);
        here.pos_beats = Some(7.5);
        here.bar_start_pos_beats = Some(7.0);
        here.bar_number = Some(2);
        let mut then = Transport::new(48_000.0);
        then.pos_beats = Some(15.0);
        then.pos_seconds = Some(7.5);
        let start = BlockStart::of(&then, 64);
        let bar_line = HostTransport::capture(&here).tempo_and_bar_line();
        let p = bar_line.at_block_start(&start).position(0);
        // Beat 15 is in the bar from 14.0 (bar 4 from 0, shown as 5) on its third eighth.
        assert_eq!(
            (p.beats, p.seconds, p.samples),
            (Some(15.0), Some(7.5), Some(360_000))
        );
        assert_eq!(
            (p.bar, p.beat, p.bar_line()),
            (Some(5), Some(3.0), Some(14.0))
        );
        // nice-plug's VST3 side gives bar lines without numbers: the line is still counted.
        here.bar_number = None;
        let p = HostTransport::capture(&here)
            .tempo_and_bar_line()
            .at_block_start(&start)
            .position(0);
        assert_eq!((p.beat, p.bar_line()), (Some(3.0), Some(14.0)));
    }

    #[test]
    fn a_host_bar_line_that_does_not_hold_the_position_is_replaced_by_a_counted_one() {
        // As Ardour 7 reports through VST3: beat 1.93 in 4/4 with the bar line at 4.0.
        let mut t = transport_at(1.9314, 120.0, (4, 4));
        t.bar_start_pos_beats = Some(4.0);
        let p = host_position(&t);
        assert_eq!((p.bar, p.bar_line()), (Some(1), Some(0.0)));
        assert!((p.beat.unwrap() - 2.9314).abs() < 1e-9, "{p:?}");
        // Before the song's start (a pre-roll), bars count back from it.
        let mut t = transport_at(-0.074, 120.0, (4, 4));
        t.bar_start_pos_beats = Some(4.0);
        let p = host_position(&t);
        assert_eq!((p.bar, p.bar_line()), (Some(0), Some(-4.0)));
        assert!((p.beat.unwrap() - 4.926).abs() < 1e-9, "{p:?}");
        // After a meter change (4/4 for 8 beats, then 3/4), a late line is moved back by bars
        // of the current meter, not recounted from the song's start: beat 10 is in the 3/4
        // bar from 8.0, on its third beat.
        let mut t = transport_at(10.0, 120.0, (3, 4));
        t.bar_start_pos_beats = Some(11.0);
        let p = host_position(&t);
        assert_eq!((p.bar_line(), p.beat), (Some(8.0), Some(3.0)));
        let mut t = transport_at(10.0, 120.0, (3, 4));
        t.bar_start_pos_beats = Some(11.0);
        t.bar_number = Some(3);
        assert_eq!(host_position(&t).bar, Some(3));
        // Exactly on the next bar line is that bar's first beat, not the last one's fifth.
        let mut t = transport_at(8.0, 120.0, (4, 4));
        t.bar_start_pos_beats = Some(4.0);
        t.bar_number = Some(1);
        let p = host_position(&t);
        assert_eq!(
            (p.bar, p.bar_line(), p.beat),
            (Some(3), Some(8.0), Some(1.0))
        );
        // A bar line that holds the position is the host's to keep (bars of a meter change
        // are not countable from the song's start).
        let mut t = transport_at(12.5, 120.0, (7, 8));
        t.bar_start_pos_beats = Some(11.0);
        t.bar_number = Some(2);
        let p = host_position(&t);
        assert_eq!(
            (p.bar, p.bar_line(), p.beat),
            (Some(3), Some(11.0), Some(4.0))
        );
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
                    let mut t = Transport::new(48_000.0);
                    t.playing = n.is_multiple_of(2);
                    t.pos_samples = Some(n as i64);
                    t.pos_seconds = Some(x);
                    t.pos_beats = Some(x * 2.0);
                    t.tempo = Some(x + 1.0);
                    t.bar_number = Some(n as i32);
                    t.loop_range_beats = Some((x, x * 3.0));
                    shared.publish(&HostTransport::capture(&t), n, n);
                }
                n
            })
        };
        let mut checked = 0u64;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while checked < 20_000 && std::time::Instant::now() < deadline {
            let (t, n) = shared.read_transport();
            if n == 0 {
                continue;
            }
            let x = n as f64;
            assert_eq!(t.pos_samples, n as i64);
            assert_eq!(t.pos_seconds, x);
            assert_eq!(t.pos_beats, x * 2.0);
            assert_eq!(t.tempo, x + 1.0);
            assert_eq!(t.bar_number, n as i32);
            assert_eq!(t.loop_beats, (x, x * 3.0));
            assert_eq!(t.playing(), n.is_multiple_of(2));
            checked += 1;
        }
        stop.store(true, Ordering::Relaxed);
        let written = writer.join().unwrap();
        assert!(written > 0);
        assert_eq!(checked, 20_000, "the writer never got going");
    }
}

//! Printing a version: the audio thread's part, and what it shares with the worker and the
//! editor.
//!
//! While printing is armed (the host-automatable `Print` parameter, or *Print* in the editor),
//! the print runs from the next transport start to its stop; it also ends when the arm goes
//! off (*Stop printing*, the parameter), and at the first jump of the timeline while playing:
//! a loop wrap (so a looped print covers the loop range once) or a click elsewhere (the audio
//! after it would not be where the version says it is). One print per arming: once a print
//! ended, the parameter must go off and on again (the editor's arm is cleared) for the next.
//!
//! [`PrintState::block`] runs once per (sub-)block on the audio thread: a few comparisons, and
//! on the rare path (a start, an end, a tempo or meter change while printing) a [`PrintMark`]
//! copied into the tap's mark ring. No allocation, no lock, no syscall, no panic; the samples
//! are never touched (the tap reads them). Everything slow (encoding, loudness, the file, the
//! event) is the worker's ([`crate::worker`]).

use crate::playhead::HostTransport;
use crate::tap::{PrintMark, PrintMarkKind, TapWriter};
use liner_record::versions::{Gap, Loudness};
use nice_plug::prelude::Transport;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicU8, Ordering};

/// Where an instance's printing stands, as the audio thread last saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Phase {
    /// Not armed.
    Idle = 0,
    /// Armed: prints from the next transport start.
    Armed = 1,
    Printing = 2,
    /// Armed, and this arming's print has ended (the parameter is still on).
    Done = 3,
}

impl Phase {
    fn from_u8(v: u8) -> Phase {
        match v {
            1 => Phase::Armed,
            2 => Phase::Printing,
            3 => Phase::Done,
            _ => Phase::Idle,
        }
    }
}

/// A print being written, as the worker last reported it.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Progress {
    /// Frames printed so far (gaps included).
    pub frames: u64,
    pub sample_rate: u32,
    /// Highest absolute sample since the editor last looked (full scale is 1.0).
    pub level: f32,
    /// Frames lost so far (audio the audio thread could not hand over at real time).
    pub lost: u64,
}

impl Progress {
    pub fn seconds(&self) -> f64 {
        self.frames as f64 / self.sample_rate.max(1) as f64
    }
}

/// What the last print of this instance became.
#[derive(Debug, Clone, PartialEq)]
pub struct Printed {
    pub label: String,
    pub seconds: f64,
    pub sample_rate: u32,
    pub loudness: Loudness,
    pub gaps: Vec<Gap>,
    pub offline: bool,
}

impl Printed {
    /// "clean", or how much was lost and where ("not clean: 12 ms lost at 0:00:41.200").
    pub fn cleanliness(&self) -> String {
        liner_record::versions::loss_words(&self.gaps, self.sample_rate)
            .map_or("clean".into(), |w| format!("not clean: {w}"))
    }
}

/// The worker's report for the editor.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PrintStatus {
    /// While the worker writes a print.
    pub progress: Option<Progress>,
    /// The last print's outcome: the version, or why there is none.
    pub last: Option<Result<Printed, String>>,
}

/// Shared by the audio thread (atomics only), the worker and the editor.
#[derive(Debug, Default)]
pub struct PrintShared {
    switches: Switches,
    /// Written by the worker and the print thread; never locked by the audio thread.
    status: Mutex<PrintStatus>,
}

/// What the audio thread reads every block, on cache lines of their own: the worker's and the
/// editor's locking of the report must not make every block fetch a line another core wrote
/// (that cost an instance that never prints a fifth of its `process()` time).
#[derive(Debug, Default)]
#[repr(align(128))]
struct Switches {
    /// The editor's requests: [`ARMED`] (*Print*, cleared by the audio thread when the print
    /// it armed ends) and [`STOP`] (*Stop printing*, for the audio thread to take).
    requests: AtomicU8,
    /// [`Phase`], written by the audio thread when it changes.
    phase: AtomicU8,
}

const ARMED: u8 = 1;
const STOP: u8 = 2;

impl PrintShared {
    /// *Print*: prints from the next transport start.
    pub fn arm(&self) {
        self.switches.requests.fetch_or(ARMED, Ordering::Relaxed);
    }

    /// *Stop printing*: disarms, and ends a print in progress at the next block. A `Print`
    /// parameter that is on is overruled until it goes off.
    pub fn stop(&self) {
        self.switches.requests.store(STOP, Ordering::Relaxed);
    }

    /// Whether *Print* in the editor is armed (the audio thread may not have seen it yet).
    pub fn armed_in_editor(&self) -> bool {
        self.switches.requests.load(Ordering::Relaxed) & ARMED != 0
    }

    pub fn phase(&self) -> Phase {
        Phase::from_u8(self.switches.phase.load(Ordering::Relaxed))
    }

    /// Sets the phase as the audio thread would (for tests and hosts that never process).
    pub fn set_phase(&self, phase: Phase) {
        self.switches.phase.store(phase as u8, Ordering::Relaxed);
    }

    /// The worker's latest report.
    pub fn status(&self) -> PrintStatus {
        self.status.lock().clone()
    }

    /// Changes the worker's report (the worker and its print thread only).
    pub fn report(&self, edit: impl FnOnce(&mut PrintStatus)) {
        edit(&mut self.status.lock());
    }

    /// The level meter's reading since the last call (taken from the report).
    pub fn take_level(&self) -> Option<Progress> {
        let mut st = self.status.lock();
        let p = st.progress?;
        if let Some(live) = st.progress.as_mut() {
            live.level = 0.0;
        }
        Some(p)
    }
}

/// The audio thread's memory for printing.
#[derive(Debug, Clone, Copy)]
pub struct PrintState {
    phase: Phase,
    was_playing: bool,
    /// *Stop printing* overruled the `Print` parameter, until it goes off.
    vetoed: bool,
    /// Tempo (bits) and meter of the previous printed block: a change is a tempo mark.
    tempo: u64,
    meter: (i32, i32),
}

impl Default for PrintState {
    fn default() -> Self {
        PrintState {
            phase: Phase::Idle,
            was_playing: false,
            vetoed: false,
            tempo: 0,
            meter: (0, 0),
        }
    }
}

#[inline(always)]
fn tempo_bits(t: &Transport) -> u64 {
    t.tempo.map_or(u64::MAX, f64::to_bits)
}

#[inline(always)]
fn meter(t: &Transport) -> (i32, i32) {
    match (t.time_sig_numerator, t.time_sig_denominator) {
        (Some(n), Some(d)) => (n, d),
        _ => (0, 0),
    }
}

impl PrintState {
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Looks at one block starting at stream frame `frame`; `param_on` is the `Print`
    /// parameter's value during it, `jumped` says whether the position jumped (either way) since
    /// the previous block (asked only while printing). Hands marks to `tap`. Returns whether
    /// this block is printed (its input must go into the tap).
    ///
    /// The common case, an instance that does not print, is inlined: one load from a line only
    /// the editor writes (and only when someone presses Print), two comparisons, one store.
    /// Everything else is a call.
    #[inline(always)]
    pub fn block(
        &mut self,
        t: &Transport,
        frame: u64,
        param_on: bool,
        shared: &PrintShared,
        jumped: impl FnOnce() -> bool,
        tap: &mut TapWriter,
    ) -> bool {
        let quiet = !param_on && !self.vetoed && self.phase == Phase::Idle;
        if quiet && shared.switches.requests.load(Ordering::Relaxed) == 0 {
            self.was_playing = t.playing;
            return false;
        }
        self.update(t, frame, param_on, shared, jumped, tap)
    }

    /// [`PrintState::block`] when the instance is armed, prints, or was asked something.
    #[inline(never)]
    fn update(
        &mut self,
        t: &Transport,
        frame: u64,
        param_on: bool,
        shared: &PrintShared,
        jumped: impl FnOnce() -> bool,
        tap: &mut TapWriter,
    ) -> bool {
        let playing = t.playing;
        let started = playing && !self.was_playing;
        self.was_playing = playing;
        if shared.switches.requests.load(Ordering::Relaxed) & STOP != 0 {
            shared.switches.requests.fetch_and(!STOP, Ordering::Relaxed);
            self.vetoed = param_on;
        }
        self.vetoed &= param_on;
        let armed = (param_on && !self.vetoed)
            || shared.switches.requests.load(Ordering::Relaxed) & ARMED != 0;
        let before = self.phase;
        if self.phase == Phase::Printing {
            if armed && playing && !jumped() {
                if tempo_bits(t) != self.tempo || meter(t) != self.meter {
                    self.tempo_changed(t, frame, tap);
                }
                return true;
            }
            self.end(frame, shared, tap);
        }
        self.phase = match (armed, self.phase) {
            (false, _) => Phase::Idle,
            (true, Phase::Idle | Phase::Armed) if started => self.start(t, frame, tap),
            (true, Phase::Idle | Phase::Armed) => Phase::Armed,
            (true, phase) => phase,
        };
        if self.phase != before {
            shared
                .switches
                .phase
                .store(self.phase as u8, Ordering::Relaxed);
        }
        self.phase == Phase::Printing
    }

    /// Processing stops (deactivation): a print in progress ends where the last block ended.
    pub fn close(&mut self, frame: u64, shared: &PrintShared, tap: Option<&mut TapWriter>) {
        if let (Phase::Printing, Some(tap)) = (self.phase, tap) {
            self.end(frame, shared, tap);
            self.phase = Phase::Done;
            shared
                .switches
                .phase
                .store(self.phase as u8, Ordering::Relaxed);
        }
        self.was_playing = false;
    }

    #[cold]
    #[inline(never)]
    fn start(&mut self, t: &Transport, frame: u64, tap: &mut TapWriter) -> Phase {
        let at = HostTransport::capture(t);
        if !tap.mark(PrintMark {
            kind: PrintMarkKind::Start,
            frame,
            at,
        }) {
            // The worker stopped taking marks: stay armed, try at the next start.
            return Phase::Armed;
        }
        self.tempo = tempo_bits(t);
        self.meter = meter(t);
        Phase::Printing
    }

    #[cold]
    #[inline(never)]
    fn tempo_changed(&mut self, t: &Transport, frame: u64, tap: &mut TapWriter) {
        self.tempo = tempo_bits(t);
        self.meter = meter(t);
        tap.mark(PrintMark {
            kind: PrintMarkKind::Tempo,
            frame,
            at: HostTransport::capture(t),
        });
    }

    /// Ends the print before `frame`: the arming is used up (the editor's is cleared).
    #[cold]
    #[inline(never)]
    fn end(&mut self, frame: u64, shared: &PrintShared, tap: &mut TapWriter) {
        tap.mark(PrintMark {
            kind: PrintMarkKind::End,
            frame,
            at: HostTransport::default(),
        });
        tap.flush_marks(frame);
        shared
            .switches
            .requests
            .fetch_and(!ARMED, Ordering::Relaxed);
        self.phase = Phase::Done;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tap::{tap, TapItem};

    fn transport(playing: bool, tempo: f64) -> Transport {
        let mut t = Transport::new(48_000.0);
        t.playing = playing;
        t.tempo = Some(tempo);
        t
    }

    #[test]
    fn an_arming_prints_from_the_next_start_to_the_stop_once() {
        let (mut w, mut r) = tap(48_000.0, 2);
        let shared = PrintShared::default();
        let mut s = PrintState::default();
        let mut run = |s: &mut PrintState, playing, tempo, frame, param| {
            s.block(
                &transport(playing, tempo),
                frame,
                param,
                &shared,
                || false,
                &mut w,
            )
        };
        // Armed while playing: waits for the next start.
        assert!(!run(&mut s, true, 120.0, 0, false));
        assert!(!run(&mut s, true, 120.0, 0, true));
        assert_eq!(s.phase(), Phase::Armed);
        assert!(!run(&mut s, false, 120.0, 64, true));
        assert!(run(&mut s, true, 120.0, 128, true));
        assert!(run(&mut s, true, 90.0, 192, true));
        assert!(!run(&mut s, false, 90.0, 256, true));
        assert_eq!(s.phase(), Phase::Done);
        // Still on: no second print until the parameter goes off and on.
        assert!(!run(&mut s, true, 90.0, 320, true));
        let mut marks = Vec::new();
        r.drain_items(
            &mut Vec::new(),
            || true,
            |i| {
                if let TapItem::Mark(m) = i {
                    marks.push((m.kind, m.frame));
                }
            },
        );
        assert_eq!(
            marks,
            vec![
                (PrintMarkKind::Start, 128),
                (PrintMarkKind::Tempo, 192),
                (PrintMarkKind::End, 256)
            ]
        );
    }

    #[test]
    fn stop_printing_overrules_the_parameter_until_it_goes_off() {
        let (mut w, _r) = tap(48_000.0, 2);
        let shared = PrintShared::default();
        let mut s = PrintState::default();
        let t = transport(true, 120.0);
        let stopped = transport(false, 120.0);
        s.block(&stopped, 0, true, &shared, || false, &mut w);
        assert!(s.block(&t, 64, true, &shared, || false, &mut w));
        // A loop wrap ends it.
        assert!(!s.block(&t, 128, true, &shared, || true, &mut w));
        assert_eq!(s.phase(), Phase::Done);
        // The editor's arm: a new print at the next start, ended by Stop printing.
        shared.arm();
        let mut s = PrintState::default();
        assert!(s.block(&t, 0, false, &shared, || false, &mut w));
        shared.stop();
        assert!(!s.block(&t, 64, true, &shared, || false, &mut w));
        assert!(!shared.armed_in_editor());
        assert_eq!(shared.phase(), Phase::Idle, "vetoed: not armed");
    }
}

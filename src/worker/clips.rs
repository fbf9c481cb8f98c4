//! Clips: the audio around each note, decision and mark an instance makes while it clips
//! audio with its notes. The audio thread copies its input into the tap ([`crate::tap`]); here
//! the worker keeps a rolling [`HISTORY_SECONDS`] of it per instance, and once the audio after
//! a moment has arrived cuts the clip, encodes it (FLAC, 24-bit, on a thread of its own), stores
//! it beside the project's journal ([`liner_record::clips::ClipStore`]) and records a
//! `clip_attached` event, which syncs like any other (the bytes follow it: the sync threads).
//!
//! A note typed ten seconds after its moment still finds its audio: the note's stamp carries
//! the stream frame of its first keystroke ([`Moment`]), and the history reaches back further
//! than any clip does.

use super::drain::Slot;
use super::print::{Env, Printer};
use crate::tap::{TapBlock, TapItem, TapReader};
use liner_record::clips::{
    encode_flac, Clip, ClipFormat, ClipHash, ClipStore, CLIP_SAMPLE_RATES, MAX_CLIP_SECONDS,
};
use liner_record::event::{Body, ClipAttached, Context};
use liner_record::Event;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// How far back the history reaches: the longest clip and a note typed well after its moment.
pub const HISTORY_SECONDS: u64 = MAX_CLIP_SECONDS + 10;
/// How long to wait for the audio after a moment (the transport may stop, the plugin may be
/// deactivated): past this the clip is cut from what there is.
const WAIT_FOR_AFTER: Duration = Duration::from_secs(2);
/// Clips being encoded at once (each on a thread of its own); more wait, as requests, for
/// their turn (the history holds their audio meanwhile).
const MAX_ENCODING: usize = 2;
/// Clips waiting per instance; a burst past this (a mark pedal held down) keeps the newest.
const MAX_WAITING: usize = 64;

static ENCODING: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// A gap in the stream longer than this (clips were off, the host stopped calling) starts
/// the history anew instead of filling it with silence.
const LONGEST_GAP_SECONDS: u64 = 1;

/// Where an event's audio is in the instance's stream: the stream frame of its moment and,
/// for a range, of its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moment {
    pub frame: u64,
    pub until: Option<u64>,
}

/// One clip to cut.
#[derive(Debug, Clone)]
struct Request {
    target: Uuid,
    ctx: Context,
    private: bool,
    start: u64,
    moment: u64,
    end: u64,
    /// When to stop waiting for the audio up to `end`.
    give_up: Instant,
}

/// The rolling history of one instance's input: `channels` planar rings.
struct History {
    sample_rate: u32,
    channels: Vec<Vec<f32>>,
    /// The stream frame after the newest sample.
    end: u64,
    /// How many frames are held (up to the capacity).
    len: u64,
}

impl History {
    fn new(sample_rate: u32, channels: usize) -> History {
        let capacity = (sample_rate as u64 * HISTORY_SECONDS) as usize;
        History {
            sample_rate,
            channels: vec![vec![0.0; capacity]; channels],
            end: 0,
            len: 0,
        }
    }

    fn capacity(&self) -> u64 {
        self.channels[0].len() as u64
    }

    fn start(&self) -> u64 {
        self.end - self.len
    }

    fn push_frame_values(&mut self, frame: u64, samples: &[f32], frames: usize) {
        let cap = self.capacity();
        for (c, ring) in self.channels.iter_mut().enumerate() {
            let src = &samples[c * frames..(c + 1) * frames];
            for (i, &x) in src.iter().enumerate() {
                ring[((frame + i as u64) % cap) as usize] = x;
            }
        }
    }

    /// Adds a block; a short gap before it becomes silence, a long one (or a step back)
    /// starts the history at the block.
    fn push(&mut self, block: TapBlock, samples: &[f32]) {
        let frames = block.frames as usize;
        if self.len > 0 && block.frame > self.end {
            let gap = block.frame - self.end;
            if gap <= LONGEST_GAP_SECONDS * self.sample_rate as u64 {
                let cap = self.capacity();
                for ring in &mut self.channels {
                    for f in self.end..self.end + gap {
                        ring[(f % cap) as usize] = 0.0;
                    }
                }
                self.end += gap;
                self.len = (self.len + gap).min(self.capacity());
            } else {
                self.len = 0;
            }
        }
        if self.len == 0 || block.frame < self.end {
            self.len = 0;
            self.end = block.frame;
        }
        self.push_frame_values(block.frame, samples, frames);
        self.end = block.frame + frames as u64;
        self.len = (self.len + frames as u64).min(self.capacity());
    }

    /// The held audio of `from..to`, planar.
    fn cut(&self, from: u64, to: u64) -> Vec<Vec<f32>> {
        let cap = self.capacity();
        self.channels
            .iter()
            .map(|ring| (from..to).map(|f| ring[(f % cap) as usize]).collect())
            .collect()
    }
}

/// A clip's audio, cut: planar samples from stream frame `from`.
struct Cut {
    request: Request,
    rate: u32,
    from: u64,
    audio: Vec<Vec<f32>>,
}

/// One instance's clip work, locked by the worker thread (and briefly by whoever asks for a
/// clip).
#[derive(Default)]
pub(super) struct Clipper {
    tap: Option<TapReader>,
    history: Option<History>,
    requests: Vec<Request>,
    scratch: Vec<f32>,
}

impl Clipper {
    /// A new activation's tap (its sample rate or layout may differ: the history starts over).
    pub(super) fn set_tap(&mut self, tap: TapReader) {
        if self
            .history
            .as_ref()
            .is_some_and(|h| h.sample_rate != tap.sample_rate || h.channels.len() != tap.channels)
        {
            self.history = None;
        }
        self.tap = Some(tap);
    }

    /// Asks for the clip of `event` at `moment` (`before`/`after` seconds around it; a range
    /// is taken whole, up to [`MAX_CLIP_SECONDS`]). Does nothing without audio to cut from.
    pub(super) fn request(
        &mut self,
        event: &Event,
        private: bool,
        moment: Moment,
        before: f32,
        after: f32,
    ) {
        let Some(rate) = self.tap.as_ref().map(|t| t.sample_rate as u64) else {
            return;
        };
        if !CLIP_SAMPLE_RATES.contains(&(rate as u32)) {
            return;
        }
        let seconds = |s: f32| (s.clamp(0.0, MAX_CLIP_SECONDS as f32) as f64 * rate as f64) as u64;
        let longest = MAX_CLIP_SECONDS * rate;
        let (start, end) = match moment.until.filter(|&u| u > moment.frame) {
            Some(until) => (moment.frame, until.min(moment.frame + longest)),
            None => {
                let start = moment.frame.saturating_sub(seconds(before));
                let end = (moment.frame + seconds(after)).min(start + longest);
                (start, end.max(moment.frame + 1))
            }
        };
        let wait = Duration::from_secs_f64((end - moment.frame) as f64 / rate as f64);
        if self.requests.len() >= MAX_WAITING {
            let gone = self.requests.remove(0);
            nice_plug::nice_warn!(
                "Liner Notes: too many clips at once; {} keeps its note but not its audio",
                gone.target
            );
        }
        self.requests.push(Request {
            target: event.id,
            ctx: Context {
                project: event.project.clone(),
                song: event.song.clone(),
                track: event.track.clone(),
                session: event.session,
                author: event.author.clone(),
                role: event.role,
            },
            private,
            start,
            moment: moment.frame,
            end,
            give_up: Instant::now() + wait + WAIT_FOR_AFTER,
        });
    }

    /// Takes in what the tap holds: the audio into the history while clips are on
    /// (`keep`), and marks and audio to the print (`printer`, as long as its encoder keeps up,
    /// or all of it when `all`).
    fn take_tap(&mut self, keep: bool, printer: &mut Printer, env: &mut TapEnv<'_>, all: bool) {
        let Some(tap) = self.tap.as_mut() else {
            return;
        };
        let (rate, channels) = (tap.sample_rate, tap.channels);
        let env = Env {
            slot: env.slot,
            journal_dir: env.journal_dir,
            sample_rate: rate,
            channels,
            offline: tap.offline,
        };
        let history = &mut self.history;
        let printer = std::cell::RefCell::new(printer);
        tap.drain_items(
            &mut self.scratch,
            || all || printer.borrow().has_room(),
            |item| {
                printer.borrow_mut().take(&item, &env);
                if let TapItem::Block(block, samples) = item {
                    if keep || history.is_some() {
                        history
                            .get_or_insert_with(|| History::new(rate, channels))
                            .push(block, samples);
                    }
                }
            },
        );
    }

    /// Hands every clip whose audio is complete (or waited for long enough) to `cut` with the
    /// audio.
    fn poll(&mut self, mut cut: impl FnMut(Cut)) {
        if self.requests.is_empty() {
            return;
        }
        let now = Instant::now();
        let history = &self.history;
        let mut free = MAX_ENCODING.saturating_sub(ENCODING.load(Ordering::Acquire));
        self.requests.retain(|r| {
            let Some(h) = history else {
                return now < r.give_up;
            };
            let complete = h.end >= r.end;
            if !complete && now < r.give_up {
                return true;
            }
            // Its turn comes when an encoder is free, as long as its moment is still held.
            let held = h.len > 0 && r.moment >= h.start();
            if held && free == 0 {
                return true;
            }
            // The moment must be held; the clip is what is held of start..end.
            let (from, to) = (r.start.max(h.start()), r.end.min(h.end));
            if h.len > 0 && from < to && (from..=to).contains(&r.moment) {
                free = free.saturating_sub(1);
                cut(Cut {
                    request: r.clone(),
                    rate: h.sample_rate,
                    from,
                    audio: h.cut(from, to),
                });
            }
            false
        });
    }
}

/// What taking the tap needs besides the clipper and the printer.
struct TapEnv<'a> {
    slot: &'a Arc<Slot>,
    journal_dir: &'a dyn Fn(&str) -> Option<PathBuf>,
}

/// Takes in what the slot's tap holds (see [`Clipper::take_tap`]); `all` empties it whatever
/// the print's encoder has waiting (a new activation replaces the tap).
pub(super) fn feed(slot: &Arc<Slot>, all: bool, journal_dir: &dyn Fn(&str) -> Option<PathBuf>) {
    let keep = slot.clip_on.load(Ordering::Relaxed);
    let mut printer = slot.printer.lock();
    let mut env = TapEnv { slot, journal_dir };
    slot.clipper
        .lock()
        .take_tap(keep, &mut printer, &mut env, all);
}

/// Every slot's clip and print work; clips and prints are encoded off this thread.
pub(super) fn poll(slots: &[Arc<Slot>], journal_dir: impl Fn(&str) -> Option<PathBuf>) {
    for slot in slots {
        feed(slot, false, &journal_dir);
        let mut ready = Vec::new();
        slot.clipper.lock().poll(|c| ready.push(c));
        for cut in ready {
            let Some(dir) = journal_dir(&cut.request.ctx.project) else {
                continue;
            };
            let slot = slot.clone();
            ENCODING.fetch_add(1, Ordering::AcqRel);
            let spawned = std::thread::Builder::new()
                .name("liner-notes-clip".into())
                .spawn(move || {
                    match attach(&cut, &dir) {
                        Ok(event) => slot.submit_made(event),
                        Err(e) => nice_plug::nice_warn!("Liner Notes: a clip was not kept: {e}"),
                    }
                    ENCODING.fetch_sub(1, Ordering::AcqRel);
                });
            if let Err(e) = spawned {
                ENCODING.fetch_sub(1, Ordering::AcqRel);
                nice_plug::nice_warn!("Liner Notes: a clip was not kept: {e}");
            }
        }
    }
}

/// Encodes a cut clip, stores it in the journal in `dir` and returns the `clip_attached`
/// event for it.
fn attach(cut: &Cut, dir: &std::path::Path) -> Result<Event, String> {
    let (request, rate, audio) = (&cut.request, cut.rate, &cut.audio);
    let frames = audio[0].len() as u64;
    let moment = request.moment - cut.from;
    let bytes = encode_flac(audio, rate).map_err(|e| e.to_string())?;
    let store = ClipStore::of_journal(dir);
    let hash = store
        .put(&bytes, ClipFormat::Flac)
        .map_err(|e| format!("storing it in {}: {e}", store.dir().display()))?;
    debug_assert_eq!(hash, ClipHash::of(&bytes));
    let clip: Clip = serde_json::from_value(serde_json::json!({
        "hash": hash,
        "format": "flac",
        "sample_rate": rate,
        "channels": audio.len(),
        "frames": frames,
        "moment": moment,
        "bytes": bytes.len(),
    }))
    .map_err(|e| format!("its description: {e}"))?;
    Ok(Event::new(
        &request.ctx,
        None,
        Body::ClipAttached(ClipAttached {
            target: request.target,
            clip,
            private: request.private,
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(frame: u64, frames: u32) -> TapBlock {
        TapBlock {
            frame,
            frames,
            marks: 0,
        }
    }

    #[test]
    fn the_history_keeps_the_latest_audio_in_place_and_bridges_short_gaps_with_silence() {
        let mut h = History::new(8_000, 1);
        let samples: Vec<f32> = (0..100).map(|i| i as f32).collect();
        h.push(block(1_000, 100), &samples);
        assert_eq!((h.start(), h.end), (1_000, 1_100));
        // A 50-frame gap: silence.
        h.push(block(1_150, 100), &samples);
        let cut = h.cut(1_090, 1_160);
        assert_eq!(cut[0][..10], samples[90..100]);
        assert!(cut[0][10..60].iter().all(|&x| x == 0.0));
        assert_eq!(cut[0][60..70], samples[..10]);
        // A gap of more than a second: a fresh start.
        h.push(block(1_250 + 8_001, 100), &samples);
        assert_eq!(h.start(), 1_250 + 8_001);
        // Past the capacity, the oldest audio goes.
        let cap = h.capacity();
        let mut f = h.end;
        while f < 1_250 + 8_001 + cap + 500 {
            h.push(block(f, 100), &samples);
            f += 100;
        }
        assert_eq!(h.len, cap);
        assert_eq!(h.start(), h.end - cap);
    }
}

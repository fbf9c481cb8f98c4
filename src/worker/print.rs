//! Printing a version, off the audio thread. The worker meets the print's marks and audio in
//! the tap in stream order ([`crate::tap::TapItem`]) and hands the printed stretch, block by
//! block, to a thread of the print's own (so encoding never delays note draining), which
//! streams it into a [`VersionWriter`] under the project journal's `versions/`, then records
//! the `version_printed` event (label `v<n>` numbered per song from the versions the record
//! knows, the start and tempo points on the DAW's timeline, the gaps, the offline flag).
//!
//! Guarantees: no sample is lost silently. Frames missing between two printed blocks (the
//! audio thread found the tap full at real time) become silence of the same length in the
//! file and a [`Gap`] in the event, so the version keeps its time and is not offered as clean.
//! Memory stays bounded: while more than [`queue_limit`] frames wait for the encoder, the
//! worker leaves the rest in the tap (an offline render then waits; at real time the encoder
//! is many times faster than the audio, and if it is not, the loss is a gap, said).

use super::drain::Slot;
use crate::print::{PrintShared, Printed, Progress};
use crate::tap::{PrintMark, PrintMarkKind, TapBlock, TapItem};
use liner_record::event::{Body, Context, DawPos};
use liner_record::versions::{
    Gap, PrintError, VersionPrinted, VersionStore, VersionWriter, MAX_GAPS, MAX_TEMPO_POINTS,
};
use liner_record::Event;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;
use uuid::Uuid;

/// Seconds of audio that may wait for the encoder at real time (about 11 MB at 48 kHz
/// stereo) before the worker leaves audio in the tap; an offline render gets
/// [`OFFLINE_QUEUE_SECONDS`], so it waits for the encoder instead of filling memory.
const QUEUE_SECONDS: u64 = 30;
const OFFLINE_QUEUE_SECONDS: u64 = 2;

/// Most frames that may wait for a print's encoder.
pub(super) fn queue_limit(rate: u32, offline: bool) -> u64 {
    let seconds = if offline {
        OFFLINE_QUEUE_SECONDS
    } else {
        QUEUE_SECONDS
    };
    rate as u64 * seconds
}

/// What the worker hands a print's thread.
enum Msg {
    /// Planar samples of `frames` frames.
    Audio(Vec<f32>, usize),
    /// `frames` frames the audio thread could not hand over, from version frame `at`.
    Lost {
        at: u64,
        frames: u64,
    },
    Tempo(DawPos),
    End,
}

/// A print the worker is feeding.
struct Feeding {
    tx: Sender<Msg>,
    /// Frames sent and not yet written by the print's thread.
    queued: Arc<AtomicU64>,
    limit: u64,
    channels: usize,
    /// The stream frame of the version's first sample, and the next one expected.
    start: u64,
    next: u64,
}

/// One instance's print work, locked by the worker thread (and by a new activation handing
/// over its tap).
#[derive(Default)]
pub(super) struct Printer {
    feeding: Option<Feeding>,
    /// Says when the last print started has its number (the next one waits for it).
    numbered: Option<Receiver<()>>,
}

/// What a print needs to start: the instance, and where its project's journal is.
pub(super) struct Env<'a> {
    pub(super) slot: &'a Arc<Slot>,
    pub(super) journal_dir: &'a dyn Fn(&str) -> Option<PathBuf>,
    pub(super) sample_rate: u32,
    pub(super) channels: usize,
    pub(super) offline: bool,
}

impl Printer {
    /// Whether the worker may take more audio out of the tap (the encoder keeps up).
    pub(super) fn has_room(&self) -> bool {
        self.feeding
            .as_ref()
            .is_none_or(|f| f.queued.load(Ordering::Acquire) < f.limit)
    }

    /// Takes one item of the tap.
    pub(super) fn take(&mut self, item: &TapItem<'_>, env: &Env<'_>) {
        match item {
            TapItem::Mark(mark) => self.mark(mark, env),
            TapItem::Block(block, samples) => self.block(*block, samples),
        }
    }

    fn mark(&mut self, mark: &PrintMark, env: &Env<'_>) {
        match mark.kind {
            PrintMarkKind::Start => {
                // A start while feeding cannot come from the audio thread (it ends first);
                // should it, the old print ends here.
                self.end(mark.frame);
                self.feeding = start(mark, env, &mut self.numbered);
            }
            PrintMarkKind::Tempo => {
                if let Some(f) = &self.feeding {
                    let _ = f.tx.send(Msg::Tempo(mark.at.position(0)));
                }
            }
            PrintMarkKind::End => self.end(mark.frame),
        }
    }

    fn block(&mut self, block: TapBlock, samples: &[f32]) {
        let Some(f) = self.feeding.as_mut() else {
            return;
        };
        let frames = block.frames as usize;
        let end = block.frame + frames as u64;
        if end <= f.next {
            return;
        }
        f.lost_until(block.frame);
        let skip = (f.next - block.frame) as usize;
        let n = frames - skip;
        let mut planar = Vec::with_capacity(n * f.channels);
        for c in 0..f.channels {
            planar.extend_from_slice(&samples[c * frames + skip..(c + 1) * frames]);
        }
        f.queued.fetch_add(n as u64, Ordering::AcqRel);
        let _ = f.tx.send(Msg::Audio(planar, n));
        f.next = end;
    }

    /// Ends the print being fed before stream frame `frame` (frames not received up to it
    /// were lost).
    fn end(&mut self, frame: u64) {
        if let Some(mut f) = self.feeding.take() {
            f.lost_until(frame);
            let _ = f.tx.send(Msg::End);
        }
    }
}

impl Feeding {
    /// Frames from `next` up to `frame` never came: a gap.
    fn lost_until(&mut self, frame: u64) {
        if frame > self.next {
            let _ = self.tx.send(Msg::Lost {
                at: self.next - self.start,
                frames: frame - self.next,
            });
            self.next = frame;
        }
    }
}

/// Starts a print's thread; `None` (said in the editor) when it cannot be.
fn start(mark: &PrintMark, env: &Env<'_>, numbered: &mut Option<Receiver<()>>) -> Option<Feeding> {
    let shared = env.slot.print.clone();
    let fail = |why: String| {
        nice_plug::nice_warn!("Liner Notes: the version was not printed: {why}");
        shared.report(|st| {
            st.progress = None;
            st.last = Some(Err(why));
        });
        None
    };
    let ctx = env.slot.state.read().context(super::session_id());
    let Some(dir) = (env.journal_dir)(&ctx.project) else {
        return fail(format!("the journal of {} cannot be opened", ctx.project));
    };
    let store = VersionStore::of_journal(&dir);
    let part = store.part_path(Uuid::now_v7());
    let writer = match VersionWriter::create(&part, env.sample_rate, env.channels) {
        Ok(w) => w,
        Err(e) => return fail(e.to_string()),
    };
    let (tx, rx) = channel();
    let queued = Arc::new(AtomicU64::new(0));
    let (numbered_tx, numbered_rx) = channel();
    let job = Job {
        after: numbered.replace(numbered_rx),
        numbered: numbered_tx,
        ctx,
        dir,
        start: mark.at.position(0),
        offline: env.offline,
        shared: shared.clone(),
        slot: env.slot.clone(),
        queued: queued.clone(),
    };
    shared.report(|st| {
        st.progress = Some(Progress {
            sample_rate: env.sample_rate,
            ..Progress::default()
        });
    });
    let spawned = std::thread::Builder::new()
        .name("liner-notes-print".into())
        .spawn(move || job.run(writer, rx));
    if let Err(e) = spawned {
        return fail(format!("no thread to encode it: {e}"));
    }
    Some(Feeding {
        tx,
        queued,
        limit: queue_limit(env.sample_rate, env.offline),
        channels: env.channels,
        start: mark.frame,
        next: mark.frame,
    })
}

/// A print's thread: everything it needs to write the version and record it.
struct Job {
    /// The previous print's thread says when it has its number: prints are numbered in the
    /// order they were made, even when a short one is encoded before a long one.
    after: Option<Receiver<()>>,
    numbered: Sender<()>,
    ctx: Context,
    dir: PathBuf,
    start: DawPos,
    offline: bool,
    shared: Arc<PrintShared>,
    slot: Arc<Slot>,
    queued: Arc<AtomicU64>,
}

/// What a print's thread gathered besides the audio.
#[derive(Default)]
struct Gathered {
    tempo: Vec<DawPos>,
    gaps: Vec<Gap>,
    error: Option<PrintError>,
    /// The worker went away before the print's end (the instance was removed).
    cut_short: bool,
}

impl Job {
    fn run(self, mut writer: VersionWriter, rx: Receiver<Msg>) {
        // Numbered when it starts, after the print before it (see `after`).
        if let Some(after) = &self.after {
            let _ = after.recv();
        }
        let label = format!(
            "v{}",
            next_number(&self.dir, &self.ctx.project, &self.ctx.song)
        );
        let _ = self.numbered.send(());
        let mut got = Gathered {
            tempo: vec![self.start],
            ..Gathered::default()
        };
        let rate = writer.sample_rate();
        loop {
            let msg = match rx.recv() {
                Ok(Msg::End) => break,
                Ok(msg) => msg,
                Err(_) => {
                    got.cut_short = true;
                    break;
                }
            };
            if let Err(e) = self.handle(msg, &mut writer, &mut got) {
                got.error.get_or_insert(e);
            }
            let level = writer.take_level();
            self.shared.report(|st| {
                if let Some(p) = st.progress.as_mut() {
                    p.frames = writer.frames();
                    p.level = p.level.max(level);
                    p.lost = got.gaps.iter().map(|g| g.frames).sum();
                }
            });
        }
        let outcome = self.finish(writer, got, rate, label);
        if let Err(why) = &outcome {
            nice_plug::nice_warn!("Liner Notes: the version was not printed: {why}");
        }
        self.shared.report(|st| {
            st.progress = None;
            st.last = Some(outcome);
        });
    }

    fn handle(
        &self,
        msg: Msg,
        writer: &mut VersionWriter,
        got: &mut Gathered,
    ) -> Result<(), PrintError> {
        match msg {
            Msg::Audio(planar, frames) => {
                self.queued.fetch_sub(frames as u64, Ordering::AcqRel);
                if got.error.is_none() {
                    writer.push(&planar, frames)?;
                }
            }
            Msg::Lost { at, frames } => {
                add_gap(&mut got.gaps, Gap { frame: at, frames });
                if got.error.is_none() {
                    writer.push_silence(frames)?;
                }
            }
            Msg::Tempo(pos) => {
                if got.tempo.len() < MAX_TEMPO_POINTS {
                    got.tempo.push(pos);
                }
            }
            Msg::End => {}
        }
        Ok(())
    }

    /// Finishes the file and records the event; what is shown in the editor.
    fn finish(
        &self,
        writer: VersionWriter,
        got: Gathered,
        rate: u32,
        label: String,
    ) -> Result<Printed, String> {
        if let Some(e) = got.error {
            writer.abandon();
            return Err(e.to_string());
        }
        if got.cut_short {
            writer.abandon();
            return Err("the plugin was removed while it printed".into());
        }
        let store = VersionStore::of_journal(&self.dir);
        let version = writer.finish(&store).map_err(|e| e.to_string())?;
        let printed = Printed {
            label: label.clone(),
            seconds: version.seconds(),
            sample_rate: rate,
            loudness: version.loudness,
            gaps: got.gaps.clone(),
            offline: self.offline,
        };
        let body = Body::VersionPrinted(VersionPrinted {
            label,
            version,
            start: self.start,
            tempo: got.tempo,
            gaps: got.gaps,
            offline: self.offline,
        });
        self.slot
            .submit_made(Event::new(&self.ctx, Some(self.start), body));
        Ok(printed)
    }
}

/// Adds a gap; past [`MAX_GAPS`] the last one reaches over the new one (the version still
/// says where its audio is not to be trusted, less finely).
fn add_gap(gaps: &mut Vec<Gap>, gap: Gap) {
    let full = gaps.len() >= MAX_GAPS;
    match gaps.last_mut() {
        Some(last) if last.frame + last.frames == gap.frame => last.frames += gap.frames,
        Some(last) if full => last.frames = gap.frame + gap.frames - last.frame,
        _ => gaps.push(gap),
    }
}

/// The number of a song's next version: one past the versions of `song` this machine's
/// journal knows (by count, and by the numbers of `v<n>` labels), and past any this process
/// gave out (a print whose event is not written yet).
fn next_number(dir: &Path, project: &str, song: &str) -> u32 {
    static GIVEN: parking_lot::Mutex<Vec<(String, String, u32)>> =
        parking_lot::Mutex::new(Vec::new());
    let known = liner_record::Journal::open(dir)
        .and_then(|j| j.scan_matching("version_printed"))
        .map(|(_, events)| {
            let ours: Vec<u32> = events
                .iter()
                .filter(|e| e.song == song)
                .filter_map(|e| match &e.body {
                    Body::VersionPrinted(v) => Some(
                        v.label
                            .strip_prefix('v')
                            .and_then(|n| n.parse().ok())
                            .unwrap_or(0),
                    ),
                    _ => None,
                })
                .collect();
            ours.iter()
                .copied()
                .max()
                .unwrap_or(0)
                .max(ours.len() as u32)
        })
        .unwrap_or(0);
    let mut given = GIVEN.lock();
    let entry = match given.iter_mut().find(|(p, s, _)| p == project && s == song) {
        Some(e) => e,
        None => {
            given.push((project.to_owned(), song.to_owned(), 0));
            given.last_mut().expect("just pushed")
        }
    };
    entry.2 = entry.2.max(known) + 1;
    entry.2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_that_touch_join_and_past_the_most_the_last_one_reaches_over() {
        let mut gaps = Vec::new();
        add_gap(
            &mut gaps,
            Gap {
                frame: 10,
                frames: 5,
            },
        );
        add_gap(
            &mut gaps,
            Gap {
                frame: 15,
                frames: 5,
            },
        );
        assert_eq!(
            gaps,
            vec![Gap {
                frame: 10,
                frames: 10
            }]
        );
        for i in 1..=MAX_GAPS as u64 + 5 {
            add_gap(
                &mut gaps,
                Gap {
                    frame: i * 100,
                    frames: 10,
                },
            );
        }
        assert_eq!(gaps.len(), MAX_GAPS);
        let last = gaps.last().unwrap();
        assert_eq!(last.frame + last.frames, (MAX_GAPS as u64 + 5) * 100 + 10);
    }

    #[test]
    fn version_numbers_continue_past_what_the_journal_and_this_process_know() {
        let dir = tempfile::tempdir().unwrap();
        let project = format!("numbers {}", Uuid::now_v7());
        assert_eq!(next_number(dir.path(), &project, "A"), 1);
        assert_eq!(next_number(dir.path(), &project, "A"), 2);
        assert_eq!(next_number(dir.path(), &project, "B"), 1);
    }
}

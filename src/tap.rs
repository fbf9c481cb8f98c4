//! The audio tap: while an instance clips audio with its notes ("Clip audio with notes", off by
//! default) or prints a version ([`crate::print`]), `process()` copies each block's input into
//! a wait-free ring that the worker drains into its rolling history and the print
//! ([`crate::worker`]).
//!
//! Guarantees on the audio thread ([`TapWriter::write`]): no allocation (the rings are made
//! at activation, sized for the sample rate and channel count, and never resized), no lock,
//! and the samples are only read. At real time, no syscall: a block that does not fit (the
//! worker fell behind by more than the ring holds) is counted, not waited for; the worker sees
//! the gap in the frame numbers (a clip fills it with silence, a print lists it as a
//! [`liner_record::versions::Gap`]). In an offline render ([`TapWriter::set_offline`]) the
//! writer instead waits for room, sleeping briefly, for up to [`OFFLINE_WAIT`]: a bounce
//! faster than real time loses nothing.
//!
//! Print marks ([`PrintMark`]: where a print starts, ends, and the tempo changes) travel in a
//! small ring of their own, each counted on the next block header, so the worker meets them
//! in stream order with the audio.

use crate::playhead::HostTransport;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How much audio the ring holds between two polls of the worker (which polls every 5 ms, but
/// may wait on a slow disk), for an instance activated with clips on.
pub const RING_SECONDS: f32 = 2.0;
/// The same for an instance activated with clips off (they may be switched on while it
/// plays): a hundred of the worker's polls. Its memory is what every instance pays, clipping
/// or not (a quarter of the full ring).
pub const IDLE_RING_SECONDS: f32 = 0.5;
/// Most blocks between two polls (64-frame blocks at 192 kHz for [`RING_SECONDS`] fit).
const MAX_BLOCKS: usize = 8192;
/// Print marks the ring holds: a start, an end, and tempo changes between two polls (the last
/// [`RESERVED_MARKS`] slots are kept for starts and ends).
const MARKS: usize = 64;
const RESERVED_MARKS: usize = 4;
/// Longest an offline render waits for room in the tap before it gives the block up (as lost:
/// the print says so). Only a worker that stopped taking audio makes it wait that long; after
/// one such wait the writer no longer waits until a block fits again, so a host's bounce
/// never hangs.
pub const OFFLINE_WAIT: Duration = Duration::from_secs(5);
/// How long an offline render sleeps between looks for room.
const OFFLINE_NAP: Duration = Duration::from_micros(200);

/// Where a block's samples sit in the stream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TapBlock {
    /// The stream frame of the block's first sample (frames processed by this instance).
    pub frame: u64,
    /// 0 for a header that only carries marks.
    pub frames: u32,
    /// Print marks that come before this block's samples (popped from the marks ring).
    pub marks: u32,
}

/// What a print mark says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrintMarkKind {
    /// The print starts with the stream frame `frame`.
    Start,
    /// The tempo or time signature changed at `frame` (while printing).
    Tempo,
    /// The print ends before `frame`.
    End,
}

/// A point of a print in the stream, with the host's transport there (copied as the audio
/// thread saw it; the worker works out the DAW position).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PrintMark {
    pub kind: PrintMarkKind,
    pub frame: u64,
    pub at: HostTransport,
}

/// The audio thread's end.
pub struct TapWriter {
    blocks: rtrb::Producer<TapBlock>,
    samples: rtrb::Producer<f32>,
    marks: rtrb::Producer<PrintMark>,
    /// Marks pushed and not yet counted on a block header.
    pending_marks: u32,
    channels: usize,
    lost: Arc<AtomicU64>,
    /// An offline render: wait for room instead of dropping.
    offline: bool,
    /// An offline wait ran out ([`OFFLINE_WAIT`]): no more waiting until a block fits.
    stalled: bool,
}

/// The worker's end.
pub struct TapReader {
    blocks: rtrb::Consumer<TapBlock>,
    samples: rtrb::Consumer<f32>,
    marks: rtrb::Consumer<PrintMark>,
    pub channels: usize,
    pub sample_rate: u32,
    /// The activation renders offline (the writer waits for room).
    pub offline: bool,
    lost: Arc<AtomicU64>,
}

/// What the worker meets in the tap, in stream order.
#[derive(Debug)]
pub enum TapItem<'a> {
    Mark(PrintMark),
    /// A block and its planar samples (borrowed for the call only).
    Block(TapBlock, &'a [f32]),
}

/// A tap for `channels` channels at `sample_rate` holding [`RING_SECONDS`] (allocates: call
/// at activation).
pub fn tap(sample_rate: f32, channels: usize) -> (TapWriter, TapReader) {
    tap_holding(sample_rate, channels, RING_SECONDS, 0)
}

/// A tap holding `seconds` of audio, and at least four of the host's largest blocks
/// (`max_block` frames), with proportionally many block headers (at least 1,024).
pub fn tap_holding(
    sample_rate: f32,
    channels: usize,
    seconds: f32,
    max_block: u32,
) -> (TapWriter, TapReader) {
    let channels = channels.max(1);
    let seconds = seconds.clamp(0.05, RING_SECONDS);
    let frames = ((sample_rate.max(1.0) * seconds) as usize)
        .max(4 * max_block as usize)
        .max(4096);
    let capacity = frames * channels;
    let blocks = ((MAX_BLOCKS as f32 * seconds / RING_SECONDS) as usize).max(1024);
    let (bp, bc) = rtrb::RingBuffer::new(blocks);
    let (sp, sc) = rtrb::RingBuffer::new(capacity);
    let (mp, mc) = rtrb::RingBuffer::new(MARKS);
    let lost = Arc::new(AtomicU64::new(0));
    (
        TapWriter {
            blocks: bp,
            samples: sp,
            marks: mp,
            pending_marks: 0,
            channels,
            lost: lost.clone(),
            offline: false,
            stalled: false,
        },
        TapReader {
            blocks: bc,
            samples: sc,
            marks: mc,
            channels,
            sample_rate: sample_rate.round() as u32,
            offline: false,
            lost,
        },
    )
}

/// Marks both ends of a tap as an offline render's (the host renders faster than real time):
/// the writer waits for room instead of dropping audio.
pub fn set_offline(writer: &mut TapWriter, reader: &mut TapReader, offline: bool) {
    writer.offline = offline;
    reader.offline = offline;
}

impl TapWriter {
    /// Copies one block (`input`: one slice per channel, all as long as the block) that
    /// starts at stream frame `frame`. At real time wait-free: drops the block if the ring is
    /// full. Offline, waits for room (see [`OFFLINE_WAIT`]).
    #[inline]
    pub fn write(&mut self, frame: u64, input: &[&mut [f32]]) {
        let frames = input.first().map_or(0, |c| c.len());
        if frames == 0 || input.len() != self.channels {
            self.flush_marks(frame);
            return;
        }
        let n = frames * self.channels;
        if !(self.has_room(n) || self.offline && self.wait_for_room(n)) {
            self.lost.fetch_add(frames as u64, Ordering::Relaxed);
            self.flush_marks(frame);
            return;
        }
        self.stalled = false;
        // Planar: the block's first channel, then the next.
        if let Ok(chunk) = self.samples.write_chunk_uninit(n) {
            chunk.fill_from_iter(input.iter().flat_map(|c| c.iter().copied()));
        }
        let _ = self.blocks.push(TapBlock {
            frame,
            frames: frames as u32,
            marks: std::mem::take(&mut self.pending_marks),
        });
    }

    /// Hands over a print mark; it reaches the worker before the next block written (or
    /// [`TapWriter::flush_marks`]). Tempo marks leave the last few slots free, so a start or
    /// an end always fits unless the worker stopped taking marks. Returns whether it went.
    #[inline]
    pub fn mark(&mut self, mark: PrintMark) -> bool {
        if mark.kind == PrintMarkKind::Tempo && self.marks.slots() <= RESERVED_MARKS {
            return false;
        }
        let ok = self.marks.push(mark).is_ok();
        self.pending_marks += ok as u32;
        ok
    }

    /// Sends the marks not yet counted on a block header with an empty header at `frame`
    /// (when no block follows them: the print ended, or the block was lost).
    #[inline]
    pub fn flush_marks(&mut self, frame: u64) {
        if self.pending_marks == 0 {
            return;
        }
        if self.blocks.is_full() && !(self.offline && self.wait_for_room(0)) {
            return; // Still pending: the next header carries them.
        }
        let _ = self.blocks.push(TapBlock {
            frame,
            frames: 0,
            marks: std::mem::take(&mut self.pending_marks),
        });
    }

    #[inline]
    fn has_room(&self, samples: usize) -> bool {
        self.samples.slots() >= samples && !self.blocks.is_full()
    }

    /// Offline only: sleeps in short naps until `samples` samples and a header fit, for up
    /// to [`OFFLINE_WAIT`]. Never called at real time (it makes syscalls).
    #[cold]
    #[inline(never)]
    fn wait_for_room(&mut self, samples: usize) -> bool {
        if self.stalled {
            return false;
        }
        let deadline = Instant::now() + OFFLINE_WAIT;
        while !self.has_room(samples) {
            if Instant::now() >= deadline {
                self.stalled = true;
                return false;
            }
            std::thread::sleep(OFFLINE_NAP);
        }
        true
    }
}

impl TapReader {
    /// Every block waiting, in order: `each(block, planar samples)` (the samples borrowed
    /// for the call only). Print marks are passed over.
    pub fn drain(&mut self, scratch: &mut Vec<f32>, mut each: impl FnMut(TapBlock, &[f32])) {
        self.drain_items(
            scratch,
            || true,
            |item| {
                if let TapItem::Block(block, samples) = item {
                    each(block, samples);
                }
            },
        );
    }

    /// Every mark and block waiting, in stream order, as long as `more()` says so before
    /// each block (what is left stays in the ring for the next call).
    pub fn drain_items(
        &mut self,
        scratch: &mut Vec<f32>,
        mut more: impl FnMut() -> bool,
        mut each: impl FnMut(TapItem<'_>),
    ) {
        while !self.blocks.is_empty() && more() {
            let Ok(block) = self.blocks.pop() else {
                return;
            };
            for _ in 0..block.marks {
                // Marks go in before the header that counts them.
                if let Ok(mark) = self.marks.pop() {
                    each(TapItem::Mark(mark));
                }
            }
            if block.frames == 0 {
                continue;
            }
            let n = block.frames as usize * self.channels;
            scratch.clear();
            match self.samples.read_chunk(n) {
                Ok(chunk) => {
                    let (a, b) = chunk.as_slices();
                    scratch.extend_from_slice(a);
                    scratch.extend_from_slice(b);
                    chunk.commit_all();
                }
                // Cannot happen (samples go in before their block); never read a torn block.
                Err(_) => return,
            }
            each(TapItem::Block(block, scratch));
        }
    }

    /// Frames the audio thread could not hand over (the ring was full).
    pub fn lost_frames(&self) -> u64 {
        self.lost.load(Ordering::Relaxed)
    }

    /// The count behind [`TapReader::lost_frames`], to read without the reader.
    pub fn lost_counter(&self) -> Arc<AtomicU64> {
        self.lost.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_come_out_as_they_went_in_and_a_full_ring_loses_whole_blocks() {
        let (mut w, mut r) = tap(8_000.0, 2);
        let mut left: Vec<f32> = (0..64).map(|i| i as f32).collect();
        let mut right: Vec<f32> = (0..64).map(|i| -(i as f32)).collect();
        w.write(100, &[&mut left[..], &mut right[..]]);
        let mut got = Vec::new();
        r.drain(&mut Vec::new(), |b, s| got.push((b, s.to_vec())));
        assert_eq!(got.len(), 1);
        assert_eq!(
            got[0].0,
            TapBlock {
                frame: 100,
                frames: 64,
                marks: 0
            }
        );
        assert_eq!(&got[0].1[..64], &left[..]);
        assert_eq!(&got[0].1[64..], &right[..]);
        // 2 s at 8 kHz (4096-frame floor: 16,000 frames) holds 250 blocks of 64.
        for i in 0..300u64 {
            w.write(i * 64, &[&mut left[..], &mut right[..]]);
        }
        let mut frames = 0;
        r.drain(&mut Vec::new(), |b, _| frames += b.frames as u64);
        assert_eq!(frames + r.lost_frames(), 300 * 64);
        assert!(r.lost_frames() > 0);
    }
}

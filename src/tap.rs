//! The audio tap: while an instance clips audio with its notes ("Clip audio with notes", off by
//! default), `process()` copies each block's input into a wait-free ring that the worker
//! drains into its rolling history ([`crate::worker`]).
//!
//! Guarantees on the audio thread ([`TapWriter::write`]): no allocation (both rings are made
//! at activation, sized for the sample rate and channel count, and never resized), no lock,
//! no syscall, and the samples are only read. A block that does not fit (the worker fell
//! behind by more than [`RING_SECONDS`]) is counted, not waited for; the worker sees the gap
//! in the frame numbers and fills it with silence.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// How much audio the ring holds between two polls of the worker (which polls every 5 ms, but
/// may wait on a slow disk), for an instance activated with clips on.
pub const RING_SECONDS: f32 = 2.0;
/// The same for an instance activated with clips off (they may be switched on while it
/// plays): a hundred of the worker's polls. Its memory is what every instance pays, clipping
/// or not (a quarter of the full ring).
pub const IDLE_RING_SECONDS: f32 = 0.5;
/// Most blocks between two polls (64-frame blocks at 192 kHz for [`RING_SECONDS`] fit).
const MAX_BLOCKS: usize = 8192;

/// Where a block's samples sit in the stream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TapBlock {
    /// The stream frame of the block's first sample (frames processed by this instance).
    pub frame: u64,
    pub frames: u32,
}

/// The audio thread's end.
pub struct TapWriter {
    blocks: rtrb::Producer<TapBlock>,
    samples: rtrb::Producer<f32>,
    channels: usize,
    lost: Arc<AtomicU64>,
}

/// The worker's end.
pub struct TapReader {
    blocks: rtrb::Consumer<TapBlock>,
    samples: rtrb::Consumer<f32>,
    pub channels: usize,
    pub sample_rate: u32,
    lost: Arc<AtomicU64>,
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
    let lost = Arc::new(AtomicU64::new(0));
    (
        TapWriter {
            blocks: bp,
            samples: sp,
            channels,
            lost: lost.clone(),
        },
        TapReader {
            blocks: bc,
            samples: sc,
            channels,
            sample_rate: sample_rate.round() as u32,
            lost,
        },
    )
}

impl TapWriter {
    /// Copies one block (`input`: one slice per channel, all as long as the block) that
    /// starts at stream frame `frame`. Wait-free; drops the block if the ring is full.
    #[inline]
    pub fn write(&mut self, frame: u64, input: &[&mut [f32]]) {
        let frames = input.first().map_or(0, |c| c.len());
        if frames == 0 || input.len() != self.channels {
            return;
        }
        let n = frames * self.channels;
        if self.samples.slots() < n || self.blocks.is_full() {
            self.lost.fetch_add(frames as u64, Ordering::Relaxed);
            return;
        }
        // Planar: the block's first channel, then the next.
        if let Ok(chunk) = self.samples.write_chunk_uninit(n) {
            chunk.fill_from_iter(input.iter().flat_map(|c| c.iter().copied()));
        }
        let _ = self.blocks.push(TapBlock {
            frame,
            frames: frames as u32,
        });
    }
}

impl TapReader {
    /// Every block waiting, in order: `each(block, planar samples)` (the samples borrowed
    /// for the call only).
    pub fn drain(&mut self, scratch: &mut Vec<f32>, mut each: impl FnMut(TapBlock, &[f32])) {
        while let Ok(block) = self.blocks.pop() {
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
            each(block, scratch);
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
                frames: 64
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

//! The audio thread's work for one (sub-)block. Nothing else in the crate runs there.
//!
//! Per block: detect transport, take and mark edges (a few comparisons; the event path only
//! when something happened), decide whether the block is printed ([`crate::print`]), copy the
//! input into the audio tap while the instance clips audio with its notes or prints
//! ([`crate::tap`]), and publish the playhead snapshot while an editor watches it.
//!
//! Guarantees, for any transport the host sends (missing, NaN, jumping): no allocation, no
//! lock, no syscall, no I/O, no logging, no panic. The samples are never written (and only
//! read by the tap): nice-plug hands the host's buffers through, so the output is
//! bit-identical to the input (including NaN payloads and denormals) with zero latency.

use crate::capture::{CaptureEvent, Detector};
use crate::playhead::{HostTransport, SharedPlayhead};
use crate::print::{PrintShared, PrintState};
use crate::tap::TapWriter;
use nice_plug::prelude::Transport;
use std::sync::atomic::{AtomicU64, Ordering};

/// The per-instance state `process()` works on, borrowed from the plugin.
pub struct AudioState<'a> {
    pub playhead: &'a SharedPlayhead,
    pub detector: &'a mut Detector,
    pub producer: &'a mut rtrb::Producer<CaptureEvent>,
    pub dropped: &'a AtomicU64,
    pub blocks: &'a mut u64,
    /// Frames processed before this block (the stream position clips are cut from).
    pub frame: &'a mut u64,
    /// The audio tap (made at activation).
    pub tap: Option<&'a mut TapWriter>,
    /// Whether the instance clips audio with its notes (the tap is written every block).
    pub clip_on: bool,
    pub print: &'a mut PrintState,
    pub print_shared: &'a PrintShared,
}

/// Publishes the playhead, detects transport/take/mark edges and queues them for the worker.
/// If the queue is full the event is counted in `dropped`, never waited for. `print_on` is the
/// `Print` parameter's value during the block.
#[inline(always)]
pub fn process_block(
    transport: &Transport,
    frames: u32,
    input: &[&mut [f32]],
    (mark_on, print_on): (bool, bool),
    state: &mut AudioState<'_>,
) {
    *state.blocks = state.blocks.wrapping_add(1);
    let frame = *state.frame;
    *state.frame = frame.wrapping_add(frames as u64);
    // A jump (a loop wrap, or a click elsewhere on the timeline) is measured from the
    // previous block: asked before the detector moves on, and only while a version prints.
    let jumped =
        state.print.phase() == crate::print::Phase::Printing && state.detector.jumped(transport);
    let producer = &mut *state.producer;
    let dropped = state.dropped;
    state
        .detector
        .block(transport, frames, mark_on, |mut event| {
            event.frame = frame;
            if producer.push(event).is_err() {
                dropped.fetch_add(1, Ordering::Relaxed);
            }
        });
    let printing = match state.tap.as_deref_mut() {
        Some(tap) => state.print.block(
            transport,
            frame,
            print_on,
            state.print_shared,
            || jumped,
            tap,
        ),
        None => false,
    };
    if let Some(tap) = state
        .tap
        .as_deref_mut()
        .filter(|_| state.clip_on || printing)
    {
        tap.write(frame, input);
    }
    if state.playhead.is_watched() {
        state
            .playhead
            .publish(&HostTransport::capture(transport), *state.blocks, frame);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn the_playhead_is_published_only_while_someone_watches() {
        let playhead = Arc::new(SharedPlayhead::new());
        let mut detector = Detector::default();
        let (mut producer, _consumer) = rtrb::RingBuffer::new(8);
        let dropped = AtomicU64::new(0);
        let mut blocks = 0;
        let mut frame = 0;
        let mut t = Transport::new(48_000.0);
        t.playing = true;
        t.pos_seconds = Some(2.0);
        let mut print = PrintState::default();
        let print_shared = PrintShared::default();
        let mut run = |t: &Transport| {
            process_block(
                t,
                64,
                &[],
                (false, false),
                &mut AudioState {
                    playhead: &playhead,
                    detector: &mut detector,
                    producer: &mut producer,
                    dropped: &dropped,
                    blocks: &mut blocks,
                    frame: &mut frame,
                    tap: None,
                    clip_on: false,
                    print: &mut print,
                    print_shared: &print_shared,
                },
            )
        };
        run(&t);
        assert_eq!(
            playhead.read().blocks,
            0,
            "nobody watches: nothing published"
        );
        let editor = playhead.subscribe();
        run(&t);
        let seen = editor.playhead().read();
        assert_eq!(seen.blocks, 2);
        assert_eq!(seen.frame, 64, "the second block starts at frame 64");
        assert_eq!(seen.pos.seconds, Some(2.0));
        assert!(seen.pos.playing);
        drop(editor);
        t.pos_seconds = Some(3.0);
        run(&t);
        assert_eq!(
            playhead.read().pos.seconds,
            Some(2.0),
            "stale once unwatched"
        );
    }
}

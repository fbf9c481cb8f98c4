//! The audio thread's work for one (sub-)block. Nothing else in the crate runs there.
//!
//! Guarantees, for any transport the host sends (missing, NaN, jumping): no allocation, no
//! lock, no syscall, no I/O, no logging, no panic. The samples are never read or written:
//! nice-plug hands the host's buffers through, so the output is bit-identical to the input
//! (including NaN payloads and denormals) with zero latency.

use crate::capture::{CaptureEvent, Detector};
use crate::playhead::{HostTransport, SharedPlayhead};
use nice_plug::prelude::Transport;
use std::sync::atomic::{AtomicU64, Ordering};

/// The per-instance state `process()` works on, borrowed from the plugin.
pub struct AudioState<'a> {
    pub playhead: &'a SharedPlayhead,
    pub detector: &'a mut Detector,
    pub producer: &'a mut rtrb::Producer<CaptureEvent>,
    pub dropped: &'a AtomicU64,
    pub blocks: &'a mut u64,
}

/// Publishes the playhead, detects transport/take/mark edges and queues them for the worker.
/// If the queue is full the event is counted in `dropped`, never waited for.
#[inline]
pub fn process_block(
    transport: &Transport,
    frames: u32,
    mark_on: bool,
    state: &mut AudioState<'_>,
) {
    *state.blocks = state.blocks.wrapping_add(1);
    let producer = &mut *state.producer;
    let dropped = state.dropped;
    let playhead = state.playhead;
    state.detector.block(
        transport,
        frames,
        mark_on,
        // The last snapshot this thread published is the previous block's transport.
        || playhead.read_transport().0,
        |event| {
            if producer.push(event).is_err() {
                dropped.fetch_add(1, Ordering::Relaxed);
            }
        },
    );
    playhead.publish(&HostTransport::capture(transport), *state.blocks);
}

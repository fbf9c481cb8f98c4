//! The audio path itself (`liner_notes::audio::process_block`), called directly a million
//! times with an editor watching the playhead (so every block publishes), clips on half the
//! time and a version printing (armed by the `Print` parameter, ended by stops, loop wraps and
//! the parameter going off, with tempo changes) the other half, so blocks go into the audio
//! tap, which the main thread drains now and then (slower than the blocks come: the full ring
//! loses whole blocks), the transport starting, stopping, recording and wrapping, marks firing
//! and the queue full (nobody drains it): on a thread where any syscall ends the process,
//! inside `assert_no_alloc`, which aborts on any allocation in debug builds.
//!
//! The CLAP long run in `realtime.rs` covers the same path through the real wrapper; this one
//! adds the paths a CLAP host cannot reach before the editor exists: the playhead publish.

// The syscall guard is seccomp on Linux x86_64.
#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

mod common;

use common::rt_guard;
use liner_notes::audio::{process_block, AudioState};
use liner_notes::capture::{CaptureEvent, Detector};
use liner_notes::playhead::SharedPlayhead;
use liner_notes::print::{PrintShared, PrintState};
use liner_notes::tap::{PrintMarkKind, TapItem};
use nice_plug::prelude::Transport;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

// nice-plug's `assert_process_allocs` feature already installs nice-assert-no-alloc's checking
// allocator in every binary that links it, this one included.

const CALLS: u64 = 1_000_000;
const TEST: &str = "the_watched_audio_path_makes_no_syscall_and_no_allocation_for_a_million_blocks";

#[test]
fn the_watched_audio_path_makes_no_syscall_and_no_allocation_for_a_million_blocks() {
    if rt_guard::is_child(TEST) {
        child();
    }
    let out = rt_guard::run_child(TEST);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}\n{stderr}\n{stdout}", out.status);
    let line = stdout
        .split_once("AUDIO-PATH-RESULT ")
        .and_then(|(_, rest)| rest.lines().next())
        .unwrap_or_else(|| panic!("no result: {stdout}\n{stderr}"));
    let r: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(r["blocks_published"], CALLS, "{r}");
    assert!(r["queued"].as_u64().unwrap() > 0, "{r}");
    assert!(
        r["dropped"].as_u64().unwrap() > 0,
        "the queue never filled: {r}"
    );
    assert!(r["last_seconds"].as_f64().unwrap() > 0.0, "{r}");
    assert_eq!(r["last_frame"], (CALLS - 1) * 64, "{r}");
    // Prints started and ended (every start but maybe the last met its end), with tempo marks
    // between, in stream order with the audio.
    let (starts, ends) = (
        r["print_starts"].as_u64().unwrap(),
        r["print_ends"].as_u64().unwrap(),
    );
    assert!(starts > 5 && (starts == ends || starts == ends + 1), "{r}");
    assert!(r["print_tempo_marks"].as_u64().unwrap() > 0, "{r}");
    // Every block that went into the tap came out or was counted lost, never waited for.
    let lost = r["tapped_lost"].as_u64().unwrap();
    assert!(r["tapped"].as_u64().unwrap() > 0, "{r}");
    assert!(
        lost > 0 && lost < CALLS * 64 && lost.is_multiple_of(64),
        "{r}"
    );
}

fn child() -> ! {
    let playhead = Arc::new(SharedPlayhead::new());
    let editor = playhead.subscribe();
    let (producer, consumer) =
        rtrb::RingBuffer::<CaptureEvent>::new(liner_notes::AUDIO_QUEUE_CAPACITY);
    let dropped = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let (tap, mut tap_reader) = liner_notes::tap::tap(48_000.0, 2);
    let print_shared = Arc::new(PrintShared::default());
    {
        let mut tap = tap;
        let (playhead, dropped, done) = (playhead.clone(), dropped.clone(), done.clone());
        let print_shared = print_shared.clone();
        let mut producer = producer;
        std::thread::spawn(move || {
            let mut detector = Detector::default();
            let mut blocks = 0u64;
            let mut frame = 0u64;
            let mut left: Vec<f32> = (0..64).map(|i| (i as f32 * 0.1).sin()).collect();
            let mut right = left.clone();
            let mut t = Transport::new(48_000.0);
            t.tempo = Some(128.0);
            t.time_sig_numerator = Some(5);
            t.time_sig_denominator = Some(4);
            t.loop_range_seconds = Some((4.0, 12.0));
            let mut seconds = 0.0f64;
            let mut print = PrintState::default();
            rt_guard::forbid_syscalls();
            for i in 0..CALLS {
                t.playing = i % 5_000 >= 200;
                t.recording = i % 700 >= 350;
                if i % 900 == 0 && seconds > 5.0 {
                    seconds -= 4.0; // a loop wrap
                }
                t.pos_seconds = Some(seconds);
                t.pos_beats = Some(seconds * 128.0 / 60.0);
                let mark = i.is_multiple_of(3);
                // `Print` on for half of each 40,000 blocks (off for one block in a thousand:
                // prints end there, at stops and at loop wraps, and start at transport starts);
                // clips on for the other half.
                let print_on = i % 40_000 >= 20_000 && i % 1_000 != 999;
                let clip_on = i % 40_000 < 20_000;
                if i % 700 == 0 {
                    t.tempo = Some(if i % 1_400 == 0 { 128.0 } else { 96.0 });
                }
                nice_assert_no_alloc::assert_no_alloc(|| {
                    process_block(
                        &t,
                        64,
                        &[&mut left[..], &mut right[..]],
                        (mark, print_on),
                        &mut AudioState {
                            playhead: &playhead,
                            detector: &mut detector,
                            producer: &mut producer,
                            dropped: &dropped,
                            blocks: &mut blocks,
                            frame: &mut frame,
                            tap: Some(&mut tap),
                            clip_on,
                            print: &mut print,
                            print_shared: &print_shared,
                        },
                    )
                });
                if t.playing {
                    seconds += 64.0 / 48_000.0;
                }
            }
            done.store(true, Ordering::Release);
            loop {
                std::hint::spin_loop();
            }
        });
    }
    // The worker's part, slower than the blocks come: marks and blocks in stream order.
    let (mut starts, mut ends, mut tempos, mut tapped) = (0u64, 0u64, 0u64, 0u64);
    let mut scratch = Vec::new();
    let mut drain = |r: &mut liner_notes::tap::TapReader| {
        r.drain_items(
            &mut scratch,
            || true,
            |item| match item {
                TapItem::Mark(m) => match m.kind {
                    PrintMarkKind::Start => starts += 1,
                    PrintMarkKind::End => ends += 1,
                    PrintMarkKind::Tempo => tempos += 1,
                },
                TapItem::Block(b, _) => tapped += b.frames as u64,
            },
        )
    };
    while !done.load(Ordering::Acquire) {
        std::thread::sleep(std::time::Duration::from_millis(10));
        drain(&mut tap_reader);
    }
    drain(&mut tap_reader);
    let seen = editor.playhead().read();
    println!(
        "AUDIO-PATH-RESULT {}",
        serde_json::json!({
            "blocks_published": seen.blocks,
            "queued": consumer.slots(),
            "dropped": dropped.load(Ordering::Relaxed),
            "last_seconds": seen.pos.seconds,
            "last_frame": seen.frame,
            "tapped_lost": tap_reader.lost_frames(),
            "tapped": tapped,
            "print_starts": starts,
            "print_ends": ends,
            "print_tempo_marks": tempos,
        })
    );
    std::process::exit(0);
}

const CONTROL: &str = "an_allocation_inside_the_guard_aborts_this_binary";

/// Negative control: the allocation guard is live in this binary. The guard exists in debug
/// builds only (nice-plug installs it there), so a release test run reports this control as
/// ignored instead of passing it unchecked; `cargo xtask test` (CI) builds the tests in debug.
#[test]
#[cfg_attr(
    not(debug_assertions),
    ignore = "assert_no_alloc acts only in debug builds"
)]
fn an_allocation_inside_the_guard_aborts_this_binary() {
    if rt_guard::is_child(CONTROL) {
        let v = nice_assert_no_alloc::assert_no_alloc(|| vec![1u8; 64]);
        println!("NOT CAUGHT {}", v.len());
        std::process::exit(0);
    }
    let out = rt_guard::run_child(CONTROL);
    assert!(!out.status.success());
    assert!(!String::from_utf8_lossy(&out.stdout).contains("NOT CAUGHT"));
}

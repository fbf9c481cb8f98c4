//! Real-time safety, proven on the real plugin: a million `process()` calls that fire every
//! audio-thread path (transport start/stop, takes, loop wraps, marks, a full queue, the audio
//! tap of "clip audio with notes", full and drained) run on a
//! thread where any syscall ends the process (seccomp), inside nice-plug's
//! `assert_process_allocs` guard (debug builds), which aborts on any allocation.
//!
//! Each check runs in a child process (the test binary re-run with an environment variable)
//! because neither guard can be switched off once it fired. Negative controls show that both
//! guards really fire in this build.

// The syscall guard is seccomp on Linux x86_64.
#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

mod common;

use common::host::{reference_library, Instance, Processor, Timeline, ALLOC_PROBE_ID, NULL_ID};
use common::rt_guard;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SR: f64 = 48_000.0;
const MAX_FRAMES: usize = 512;
const CALLS: u64 = 1_000_000;

/// What the script expects the plugin to capture, counted independently of the plugin.
#[derive(Default, Debug, Clone, Copy)]
struct Expected {
    transport_started: u64,
    transport_stopped: u64,
    take_started: u64,
    take_ended: u64,
    marks: u64,
}

/// A deterministic session generated block by block without allocating (the script runs on
/// the guarded thread too): the transport plays and stops, record passes start and end, loop
/// wraps happen mid-take, the meter changes, a mark pedal is pressed every so often, and now
/// and then a burst of presses far faster than the worker drains fills the audio queue.
struct Script {
    rng: u64,
    timeline: Timeline,
    pos: i64,
    call: u64,
    take_active: bool,
    was_playing: bool,
    expected: Expected,
    mark_id: clack_host::utils::ClapId,
}

impl Script {
    fn next_random(&mut self) -> u64 {
        // xorshift64*
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Applies the capture rules to one stretch of the timeline (a block, or the part of a
    /// block after a mid-block transport event) and counts what must come out.
    fn expect_segment(&mut self, playing: bool, recording: bool, wrapped: bool) {
        let recording = playing && recording;
        if self.take_active && (!recording || wrapped) {
            self.expected.take_ended += 1;
            self.take_active = false;
        }
        if self.was_playing && !playing {
            self.expected.transport_stopped += 1;
        }
        if !self.was_playing && playing {
            self.expected.transport_started += 1;
        }
        if recording && !self.take_active {
            self.expected.take_started += 1;
            self.take_active = true;
        }
        self.was_playing = playing;
    }

    fn step(&mut self, p: &mut Processor) {
        let i = self.call;
        self.call += 1;
        // Bursts: the host toggles recording 128 times inside each block, far faster than the
        // worker drains, so the audio queue fills and events are counted as dropped.
        let burst = i % 200_000 >= 100_000 && i % 200_000 < 100_300 && self.timeline.playing;
        let frames = if burst {
            MAX_FRAMES
        } else {
            1 + (self.next_random() % MAX_FRAMES as u64) as usize
        };

        if i % 4_000 == 1_000 {
            self.timeline.playing = !self.timeline.playing;
        }
        if i % 900 == 450 {
            self.timeline.recording = !self.timeline.recording;
        }
        // Meter changes (7/8 and 4/4 in turn): the detector takes a new bar line.
        if i % 1_300 == 650 {
            self.timeline.sig = if self.timeline.sig == (7, 8) {
                (4, 4)
            } else {
                (7, 8)
            };
        }
        let mut wrapped = false;
        if i % 700 == 350 && self.timeline.playing && self.pos > 200_000 {
            self.pos -= 100_000;
            wrapped = true;
        }
        self.expect_segment(self.timeline.playing, self.timeline.recording, wrapped);

        if burst {
            let mut t = self.timeline;
            for k in 1..=128u32 {
                let offset = k * 4 - 2;
                t.recording = !t.recording;
                self.expect_segment(t.playing, t.recording, false);
                p.set_transport(offset, t.at(self.pos + offset as i64));
            }
            self.timeline.recording = t.recording;
        } else if i.is_multiple_of(50) && frames >= 4 {
            // A mark pedal press and release inside the block, sample-accurate.
            let at = (self.next_random() % (frames as u64 - 2)) as u32;
            p.set_param(at, self.mark_id, 1.0);
            p.set_param(at + 1, self.mark_id, 0.0);
            self.expected.marks += 1;
        }

        let t = self.timeline.at(self.pos);
        p.process(frames, Some(&t));
        if self.timeline.playing {
            self.pos += frames as i64;
        }
    }
}

const LONG_RUN: &str =
    "a_million_process_calls_firing_every_event_path_allocate_nothing_and_make_no_syscall";

#[test]
fn a_million_process_calls_firing_every_event_path_allocate_nothing_and_make_no_syscall() {
    if rt_guard::is_child(LONG_RUN) {
        long_run_child();
        return;
    }
    let out = rt_guard::run_child(LONG_RUN);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the audio thread broke a real-time rule ({:?}):\n{stderr}\n{stdout}",
        out.status
    );
    let line = stdout
        .split_once("LONG-RUN-RESULT ")
        .and_then(|(_, rest)| rest.lines().next())
        .unwrap_or_else(|| panic!("no result from the child:\n{stdout}\n{stderr}"));
    let r: serde_json::Value = serde_json::from_str(line).unwrap();
    let get = |k: &str| r[k].as_u64().unwrap();
    assert_eq!(get("calls"), CALLS);
    // Every path fired.
    for kind in [
        "transport_started",
        "transport_stopped",
        "take_started",
        "take_ended",
        "mark",
    ] {
        assert!(get(kind) > 0, "no {kind} events: {r}");
    }
    // The bursts overflowed the queue, and every event is accounted for exactly once: either
    // captured (with a unique id) or counted as dropped.
    assert!(get("dropped") > 0, "the queue never filled: {r}");
    assert!(get("clips") > 0, "the tap never fed a clip: {r}");
    assert_eq!(
        get("captured") + get("dropped"),
        get("expected_total"),
        "{r}"
    );
    assert_eq!(get("unique_ids"), get("captured"), "{r}");
    // No kind arrives more often than it happened (nothing invented or duplicated).
    assert!(
        get("transport_started") <= get("expected_transport_started"),
        "{r}"
    );
    assert!(
        get("transport_stopped") <= get("expected_transport_stopped"),
        "{r}"
    );
    assert!(get("mark") <= get("expected_marks"), "{r}");
    assert!(
        get("take_started") + get("take_ended") <= get("expected_take_events"),
        "{r}"
    );
}

fn long_run_child() {
    let mut plugin = Instance::new();
    // Clips on: every block also goes through the audio tap (short clips, so the marks'
    // encodes stay cheap; the path on the audio thread is the same at any length).
    let blob = common::host::edit_instance_state(&plugin.save_state(), |st| {
        st["clip_audio"] = true.into();
        st["clip_before"] = 0.05.into();
        st["clip_after"] = 0.05.into();
    });
    plugin.load_state(&blob);
    let mark_id = plugin.param_id("Mark");
    let mut p = plugin.activate(SR, MAX_FRAMES as u32, 2);
    let mut script = Script {
        rng: 0x9E37_79B9_7F4A_7C15,
        timeline: Timeline::new(SR, 127.0, (7, 8)),
        pos: 0,
        call: 0,
        take_active: false,
        was_playing: false,
        expected: Expected::default(),
        mark_id,
    };
    script.timeline.loop_range_seconds = Some((1.0, 3.0));
    for (i, ch) in p.inputs.iter_mut().enumerate() {
        for (n, s) in ch.iter_mut().enumerate() {
            *s = ((n * 7 + i) as f32).sin();
        }
    }

    // The million calls run as fast as the thread can go: far faster than real time, so the
    // worker falls behind the tap and the clips of most marks are rightly given up (their
    // audio left the history before their turn). A tail then runs at the pace of real time,
    // one block per tick of the main thread (still no syscall on the audio thread: it spins
    // on the tick), until a clip comes back: the tap fed the worker after a million calls.
    let fast_done = Arc::new(AtomicBool::new(false));
    let tick = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicBool::new(false));
    let expected = Arc::new([(); 6].map(|_| AtomicU64::new(0)));
    {
        let (fast_done, tick, stop, done, expected) = (
            fast_done.clone(),
            tick.clone(),
            stop.clone(),
            done.clone(),
            expected.clone(),
        );
        std::thread::Builder::new()
            .name("guarded audio thread".into())
            .spawn(move || {
                rt_guard::forbid_syscalls();
                for _ in 0..CALLS {
                    script.step(&mut p);
                }
                fast_done.store(true, Ordering::Release);
                let mut seen = 0;
                let mut tail = 0u64;
                while !stop.load(Ordering::Acquire) {
                    let now = tick.load(Ordering::Acquire);
                    if now == seen {
                        std::hint::spin_loop();
                        continue;
                    }
                    seen = now;
                    script.step(&mut p);
                    tail += 1;
                }
                let e = script.expected;
                for (slot, v) in expected.iter().zip([
                    e.transport_started,
                    e.transport_stopped,
                    e.take_started,
                    e.take_ended,
                    e.marks,
                    tail,
                ]) {
                    slot.store(v, Ordering::Relaxed);
                }
                done.store(true, Ordering::Release);
                // No syscall may follow, not even thread exit: spin until the process exits.
                loop {
                    std::hint::spin_loop();
                }
            })
            .unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(900);
    while !fast_done.load(Ordering::Acquire) {
        assert!(Instant::now() < deadline, "the long run took too long");
        // Answer the plugin's main-thread callback requests, as a DAW's event loop does.
        plugin.run_main_thread_callback();
        std::thread::sleep(Duration::from_millis(5));
    }
    let has_clip = |blob: &[u8]| {
        common::host::capture_log(blob)["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "clip_attached")
    };
    let tail_deadline = Instant::now() + Duration::from_secs(60);
    let mut ticks = 0u64;
    while Instant::now() < tail_deadline {
        // About one block (256 frames on average, 5.3 ms at 48 kHz) per tick: real time.
        std::thread::sleep(Duration::from_millis(5));
        tick.fetch_add(1, Ordering::AcqRel);
        ticks += 1;
        plugin.run_main_thread_callback();
        if ticks.is_multiple_of(40) && has_clip(&plugin.save_state()) {
            break;
        }
    }
    stop.store(true, Ordering::Release);
    while !done.load(Ordering::Acquire) {
        std::thread::sleep(Duration::from_millis(1));
    }
    let e: Vec<u64> = expected.iter().map(|a| a.load(Ordering::Relaxed)).collect();
    let tail = e[5];
    let total: u64 = e[..5].iter().sum();

    // Let the worker drain the last events, then read them back through the saved state:
    // wait until every event is accounted for (captured or dropped), or a deadline passes.
    // The audio thread's events only: activation's session_opened is the main thread's, and
    // the clips are the worker's (counted apart: the tap fed it).
    let clips = std::cell::Cell::new(0);
    let audio_log = |blob: &[u8]| {
        let mut log = common::host::capture_log(blob);
        let events = log["events"].as_array_mut().unwrap();
        clips.set(
            events
                .iter()
                .filter(|e| e["kind"] == "clip_attached")
                .count(),
        );
        events.retain(|e| {
            let kind = e["kind"].as_str().unwrap();
            !kind.starts_with("session_") && kind != "clip_attached"
        });
        log
    };
    let accounted = |log: &serde_json::Value| {
        log["events"].as_array().unwrap().len() as u64 + log["dropped"].as_u64().unwrap()
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut log = audio_log(&plugin.save_state());
    while accounted(&log) < total && Instant::now() < deadline {
        plugin.run_main_thread_callback();
        std::thread::sleep(Duration::from_millis(20));
        log = audio_log(&plugin.save_state());
    }
    let events = log["events"].as_array().unwrap();
    let count = |kind: &str| events.iter().filter(|ev| ev["kind"] == kind).count();
    let mut ids: Vec<&str> = events.iter().map(|ev| ev["id"].as_str().unwrap()).collect();
    ids.sort_unstable();
    ids.dedup();
    let result = serde_json::json!({
        "calls": CALLS,
        "tail_calls": tail,
        "captured": events.len(),
        "unique_ids": ids.len(),
        "dropped": log["dropped"],
        "expected_total": total,
        "expected_transport_started": e[0],
        "expected_transport_stopped": e[1],
        "expected_take_events": e[2] + e[3],
        "expected_marks": e[4],
        "transport_started": count("transport_started"),
        "transport_stopped": count("transport_stopped"),
        "take_started": count("take_started"),
        "take_ended": count("take_ended"),
        "mark": count("mark"),
        "clips": clips.get(),
    });
    println!("LONG-RUN-RESULT {result}");
    // Exit now: the guarded thread can never be joined.
    std::process::exit(0);
}

const SYSCALL_CONTROL: &str = "the_syscall_guard_catches_a_syscall_on_the_guarded_thread";

/// Negative control: without it, a guard that silently allowed everything would pass.
#[test]
fn the_syscall_guard_catches_a_syscall_on_the_guarded_thread() {
    if rt_guard::is_child(SYSCALL_CONTROL) {
        std::thread::spawn(|| {
            rt_guard::forbid_syscalls();
            // SAFETY: a plain syscall; this is what the guard must catch.
            unsafe { libc::sched_yield() };
            rt_guard::report(b"NOT CAUGHT\n");
        })
        .join()
        .unwrap();
        std::process::exit(0);
    }
    let out = rt_guard::run_child(SYSCALL_CONTROL);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(rt_guard::SYSCALL_EXIT_CODE),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("FORBIDDEN SYSCALL {}", libc::SYS_sched_yield)),
        "{stderr}"
    );
    assert!(!stderr.contains("NOT CAUGHT"));
}

const ALLOC_CONTROL: &str = "the_allocation_guard_catches_a_plugin_that_allocates_in_process";

/// Negative control: the reference "AllocProbe" plugin allocates in `process()`; built like
/// Liner Notes, the allocation guard must abort it. `assert_process_allocs` exists in debug
/// builds only, so a release test run reports this control as ignored instead of passing it
/// unchecked; `cargo xtask test` (CI) builds the tests in debug.
#[test]
#[cfg_attr(
    not(debug_assertions),
    ignore = "assert_process_allocs acts only in debug builds"
)]
fn the_allocation_guard_catches_a_plugin_that_allocates_in_process() {
    if rt_guard::is_child(ALLOC_CONTROL) {
        let mut probe = Instance::from_library(&reference_library(), ALLOC_PROBE_ID);
        let mut p = probe.activate(SR, 64, 2);
        p.process(64, None);
        println!("NOT CAUGHT");
        std::process::exit(0);
    }
    let out = rt_guard::run_child(ALLOC_CONTROL);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "the allocation went unnoticed: {stdout}"
    );
    assert!(!stdout.contains("NOT CAUGHT"));
    assert!(
        stderr.contains("allocate memory") || stderr.contains("memory allocation of"),
        "{stderr}"
    );
}

/// The null reference plugin passes the same guards (so the harness itself is clean).
#[test]
fn the_null_reference_plugin_processes_under_the_harness() {
    let mut null = Instance::from_library(&reference_library(), NULL_ID);
    let mut p = null.activate(SR, 64, 2);
    p.inputs[0][..64].fill(0.25);
    p.process(64, None);
    assert_eq!(p.outputs[0][..64], [0.25; 64]);
    null.deactivate(p);
}

const PRINT_RUN: &str = "printing_through_the_wrapper_allocates_nothing_and_makes_no_syscall";

/// Printing at real time through the real wrapper, on the guarded thread (seccomp, and
/// `assert_process_allocs` in debug builds): `Print` armed by the parameter, a print from a
/// transport start across a tempo and a meter change to a loop wrap, then a second arming
/// ended by the parameter going off; as fast as the thread goes, so the tap also fills and
/// drops whole blocks. Both versions reach the journal, the lost audio listed as gaps.
#[test]
fn printing_through_the_wrapper_allocates_nothing_and_makes_no_syscall() {
    if rt_guard::is_child(PRINT_RUN) {
        print_run_child();
        return;
    }
    let out = rt_guard::run_child(PRINT_RUN);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "printing broke a real-time rule ({:?}):\n{stderr}\n{stdout}",
        out.status
    );
    let line = stdout
        .split_once("PRINT-RUN-RESULT ")
        .and_then(|(_, rest)| rest.lines().next())
        .unwrap_or_else(|| panic!("no result from the child:\n{stdout}\n{stderr}"));
    let r: serde_json::Value = serde_json::from_str(line).unwrap();
    // In the order they were printed (the journal has them in the order they were finished).
    let mut versions = r["versions"].as_array().unwrap().clone();
    versions.sort_by_key(|v| v["label"].as_str().unwrap().to_owned());
    assert_eq!(versions.len(), 2, "{r}");
    let (first, second) = (&versions[0], &versions[1]);
    // The first print: from the start (block 1) to the loop wrap (block 3,000).
    assert_eq!(first["frames"], 2_999 * 256, "{r}");
    assert_eq!(
        first["tempo_points"], 3,
        "start, tempo change, meter change: {r}"
    );
    // The second: from its start (block 3,800) to the parameter going off (block 5,000).
    assert_eq!(second["frames"], 1_200 * 256, "{r}");
    assert_eq!(
        (first["label"].as_str(), second["label"].as_str()),
        (Some("v1"), Some("v2"))
    );
    // As fast as the thread goes the half-second tap overflows: said, never hidden.
    let lost: u64 = versions.iter().map(|v| v["lost"].as_u64().unwrap()).sum();
    assert!(lost > 0 && lost.is_multiple_of(256), "{r}");
}

fn print_run_child() {
    let project = format!("print realtime {}", uuid::Uuid::now_v7());
    let mut plugin = Instance::new();
    let blob = common::host::edit_instance_state(&plugin.save_state(), |st| {
        st["settings"]["project"] = project.clone().into();
        st["settings"]["server_url"] = "".into();
    });
    plugin.load_state(&blob);
    let print = plugin.param_id("Print");
    let mut p = plugin.activate(SR, 256, 2);
    for (i, ch) in p.inputs.iter_mut().enumerate() {
        for (n, s) in ch.iter_mut().enumerate() {
            *s = ((n * 7 + i) as f32 * 0.01).sin() * 0.5;
        }
    }
    let done = Arc::new(AtomicBool::new(false));
    {
        let done = done.clone();
        std::thread::Builder::new()
            .name("guarded audio thread".into())
            .spawn(move || {
                rt_guard::forbid_syscalls();
                let mut t = Timeline::new(SR, 120.0, (4, 4));
                let mut pos = 0i64;
                for block in 0..6_100u32 {
                    match block {
                        0 | 3_700 => p.set_param(0, print, 1.0),
                        3_600 | 5_000 => p.set_param(0, print, 0.0),
                        1 | 3_800 => t.playing = true,
                        1_000 => t.tempo = 90.0,
                        2_000 => t.sig = (7, 8),
                        3_000 => pos = 0,
                        3_500 | 6_000 => t.playing = false,
                        _ => {}
                    }
                    p.process(256, Some(&t.at(pos)));
                    if t.playing {
                        pos += 256;
                    }
                }
                done.store(true, Ordering::Release);
                // No syscall may follow, not even thread exit: spin until the process exits.
                loop {
                    std::hint::spin_loop();
                }
            })
            .unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    let journal = liner_record::Journal::open_project(&project).unwrap();
    let versions = loop {
        plugin.run_main_thread_callback();
        std::thread::sleep(Duration::from_millis(20));
        let versions: Vec<serde_json::Value> = journal
            .read()
            .unwrap()
            .events
            .into_iter()
            .filter_map(|s| match s.event.body {
                liner_record::Body::VersionPrinted(v) => Some(serde_json::json!({
                    "label": v.label,
                    "frames": v.version.frames,
                    "tempo_points": v.tempo.len(),
                    "lost": v.lost_frames(),
                })),
                _ => None,
            })
            .collect();
        if (done.load(Ordering::Acquire) && versions.len() >= 2) || Instant::now() > deadline {
            break versions;
        }
    };
    println!(
        "PRINT-RUN-RESULT {}",
        serde_json::json!({ "versions": versions })
    );
    std::process::exit(0);
}

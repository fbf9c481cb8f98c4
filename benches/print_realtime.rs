//! Printing at real time: a song printed through the release plugin with 64-frame blocks paced
//! to their deadlines, against the same plugin not printing, measured in the same run.
//!
//! Hosted through the CLAP harness (realtime process mode) at 48 kHz stereo; the bench sleeps
//! to each block's deadline, as an audio callback waits for its interrupt. Two instances take
//! turns in phases (up to 20 s each), so drifts of the machine hit both alike: one with Print
//! armed, whose single print runs from its first block to the end of its last phase (the song:
//! its phases back to back, the transport rolling on through them), and one with Print off.
//! The first phase of each is not counted (the print's writer starts, caches settle), though
//! it is part of the song. The signal is made of 24-bit steps (noise to the encoder, its worst
//! case), so the version decodes exactly.
//!
//! Reported:
//! - the audio thread's CPU time per block (this thread: it runs `process()`), printing
//!   against not printing: target <= 1.5x;
//! - the CPU time of every other thread of the process per second of audio (the worker
//!   draining the tap, the print's encoder thread writing FLAC with loudness and peaks, the
//!   journal), as a share of one core; the print's extra is the difference, printing against
//!   not printing: target under 5% of one core;
//! - the version: frames lost (its gaps, target 0), every frame there, and decoded (claxon)
//!   equal to the input.
//!
//! The figure is a 10-minute song; by default the song is 2 minutes (the bench takes
//! twice the song's length, for the instance not printing), so that `cargo xtask benchmarks`
//! stays short. The full 10 minutes (about 20 minutes of wall time):
//! `LINER_BENCH_SECONDS=600 cargo bench --bench print_realtime`. Run `cargo xtask bench`
//! first (it builds the release plugin).

#[path = "../tests/common/host.rs"]
mod host;
#[path = "common/paced.rs"]
mod paced;
#[path = "../tests/common/printing.rs"]
mod printing;
#[path = "../tests/common/reaper.rs"]
mod reaper;
#[path = "common/release.rs"]
mod release;
#[path = "common/spread.rs"]
mod spread;

use host::{Instance, Processor, Timeline};
use printing::{decode_and_compare, fill, prepare, printed, RATE};
use std::time::{Duration, Instant};

const FRAMES: usize = 64;
/// The song's length by default (`LINER_BENCH_SECONDS`).
const SECONDS: u64 = 120;

struct Side {
    name: &'static str,
    instance: Instance,
    processor: Processor,
    project: String,
    timeline: Timeline,
    /// The next block's frame, in the song and on the DAW's timeline.
    pos: u64,
    /// Per counted phase: audio-thread ns per block, and other threads' CPU per audio second (%).
    audio_ns: Vec<f64>,
    others_pct: Vec<f64>,
    /// Blocks that started more than a block's time after their deadline.
    late: u64,
}

impl Side {
    fn new(name: &'static str, print: bool) -> Side {
        let (mut instance, mut processor, project) = release_instance(false, FRAMES);
        let mut timeline = Timeline::new(RATE, 120.0, (4, 4));
        if print {
            // Armed while stopped: the print runs from the transport's start on.
            let id = instance.param_id("Print");
            processor.set_param(0, id, 1.0);
            processor.process(FRAMES, Some(&timeline.at(0)));
        }
        timeline.playing = true;
        Side {
            name,
            instance,
            processor,
            project,
            timeline,
            pos: 0,
            audio_ns: Vec::new(),
            others_pct: Vec::new(),
            late: 0,
        }
    }

    /// One phase of `blocks` blocks at real time.
    fn phase(&mut self, blocks: u64) {
        let block_time = Duration::from_secs_f64(FRAMES as f64 / RATE);
        let measured = paced::phase(blocks, block_time, |b, clock| {
            fill(&mut self.processor, self.pos, FRAMES);
            let t = self.timeline.at(self.pos as i64);
            clock.time(|| self.processor.process(FRAMES, Some(&t)));
            self.pos += FRAMES as u64;
            if b % 750 == 0 {
                // Main-thread callbacks, as a DAW's event loop runs them (every second).
                self.instance.run_main_thread_callback();
            }
        });
        self.audio_ns.push(measured.audio_ns);
        self.others_pct.push(measured.others_pct);
        self.late += measured.late;
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        // `cargo bench -- --list` and `cargo test --benches` probe harness=false benches.
        return;
    }
    let _folders = printing::private_folders();
    let seconds = std::env::var("LINER_BENCH_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(SECONDS)
        .max(4);
    // At least four phases each (one not counted), up to 20 s long.
    let phase_seconds = (seconds / 4).clamp(1, 20);
    let phases = seconds / phase_seconds;
    let blocks = phase_seconds * RATE as u64 / FRAMES as u64;
    let mut off = Side::new("not printing", false);
    let mut on = Side::new("printing", true);
    for p in 0..phases {
        // Alternate which goes first.
        if p % 2 == 0 {
            off.phase(blocks);
            on.phase(blocks);
        } else {
            on.phase(blocks);
            off.phase(blocks);
        }
        if p == 0 {
            for side in [&mut off, &mut on] {
                side.audio_ns.clear();
                side.others_pct.clear();
            }
        }
    }
    // The transport stops: the print ends there.
    let printed_frames = on.pos;
    on.timeline.playing = false;
    on.processor
        .process(FRAMES, Some(&on.timeline.at(on.pos as i64)));
    let waited = Instant::now();
    let (journal, _, v) = printed(&on.project, Duration::from_secs(120));
    let waited = waited.elapsed();
    let check = decode_and_compare(&journal, &v, 0);

    let song = printed_frames as f64 / RATE;
    println!(
        "Printing at real time: a {song:.0} s song, 48 kHz stereo, {FRAMES}-frame blocks paced to their deadlines; \
         phases of {phase_seconds} s alternating with an instance not printing, {} counted of each:",
        phases - 1
    );
    for s in [&off, &on] {
        println!(
            "  {:<13} audio thread {:>7.1} ns/block ({}); other threads {:.3}% of a core ({}); {} blocks late",
            s.name,
            paced::median(&s.audio_ns),
            spread::Spread::of(&s.audio_ns).range(1),
            paced::median(&s.others_pct),
            spread::Spread::of(&s.others_pct).range(3),
            s.late,
        );
    }
    let ratio = paced::median(&on.audio_ns) / paced::median(&off.audio_ns);
    println!(
        "  audio thread, printing / not printing:  {ratio:.3}x (target <= 1.5x: {})",
        if ratio <= 1.5 { "met" } else { "NOT met" }
    );
    let extra = paced::median(&on.others_pct) - paced::median(&off.others_pct);
    println!(
        "  the print's extra off the audio thread: {extra:.3}% of one core (target < 5%: {})",
        if extra < 5.0 { "met" } else { "NOT met" }
    );
    let lost = v.lost_frames() * 2;
    println!(
        "  the version ({:.0} ms after the stop): {} frames of the {printed_frames} played, {lost} samples lost in {} gaps \
         (target 0: {})",
        waited.as_secs_f64() * 1e3,
        v.version.frames,
        v.gaps.len(),
        if lost == 0 && v.version.frames == printed_frames {
            "met"
        } else {
            "NOT met"
        }
    );
    println!(
        "  decoded ({}-bit, {} frames) against the input: {} samples equal, {} differ{}",
        check.bits,
        check.frames,
        check.frames * 2 - check.mismatches,
        check.mismatches,
        check.first_mismatch.map_or(String::new(), |(f, c)| format!(
            " (first at frame {f}, channel {c})"
        )),
    );
    for side in [off, on] {
        let Side {
            mut instance,
            processor,
            ..
        } = side;
        instance.deactivate(processor);
    }
}

/// The release plugin, set up to print a fresh project ([`printing::prepare`]).
fn release_instance(offline: bool, frames: usize) -> (host::Instance, host::Processor, String) {
    let lib = release::release_library("release", "liner_notes");
    prepare(
        host::Instance::from_library(&lib, host::CLAP_ID),
        offline,
        frames,
    )
}

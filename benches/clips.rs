//! Clips at real time: what "clip audio with notes" costs, against the same plugin with clips
//! off, measured in the same run.
//!
//! The release plugin is hosted through the CLAP harness at 48 kHz stereo, 64-frame blocks
//! paced to real time (the bench sleeps to each block's deadline, as an audio callback waits
//! for its interrupt), transport playing, a mark every [`MARK_EVERY`] (a busy session: clips
//! of 8 s before and 4 s after overlap). Two instances take turns, one with clips off and one
//! with clips on, in phases of [`PHASE`], so drifts of the machine hit both alike.
//!
//! Reported per phase kind:
//! - the audio thread's CPU time per block (this thread: it runs `process()`);
//! - the CPU time of every other thread of the process per second of audio (the worker
//!   draining the tap into its history, cutting clips, the encoder threads, the journal),
//!   as a percentage of one core. The clips' extra is the difference, on against off.
//!
//! Targets: the worker's extra under 2% of one core; the audio thread within 1.5x of clips
//! off (the hosted-null comparison is `benches/process.rs`).
//!
//! Run: `cargo xtask bench` builds the release plugin; then `cargo bench --bench clips`.
//! `LINER_BENCH_PHASES` sets the number of phase pairs (default 3; 1 for a quick look).

#[path = "../tests/common/host.rs"]
mod host;
#[path = "common/paced.rs"]
mod paced;
#[path = "../tests/common/reaper.rs"]
mod reaper;
#[path = "common/release.rs"]
mod release;
#[path = "common/spread.rs"]
mod spread;

use host::{Instance, Processor, Timeline, CLAP_ID};
use std::time::Duration;

const RATE: f64 = 48_000.0;
const FRAMES: usize = 64;
/// One phase of one instance, in audio (and wall) time.
const PHASE: Duration = Duration::from_secs(20);
/// How often a mark is made.
const MARK_EVERY: Duration = Duration::from_secs(5);

struct Side {
    name: &'static str,
    instance: Instance,
    processor: Processor,
    mark: clack_host::utils::ClapId,
    timeline: Timeline,
    pos: i64,
    /// Per phase: audio-thread ns per block, and other threads' CPU per audio second (%).
    audio_ns: Vec<f64>,
    others_pct: Vec<f64>,
}

impl Side {
    fn new(name: &'static str, clips: bool) -> Side {
        let lib = release::release_library("release", "liner_notes");
        let mut instance = Instance::from_library(&lib, CLAP_ID);
        let blob = host::edit_instance_state(&instance.save_state(), |st| {
            st["clip_audio"] = clips.into();
        });
        instance.load_state(&blob);
        let mark = instance.param_id("Mark");
        let mut processor = instance.activate(RATE, FRAMES as u32, 2);
        // Noise-like input, as music is to an encoder (silence would flatter it).
        let mut x = 0x9E37_79B9_u32;
        for ch in processor.inputs.iter_mut() {
            for s in ch.iter_mut() {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                *s = (x as f32 / u32::MAX as f32 - 0.5) * 0.5;
            }
        }
        let mut timeline = Timeline::new(RATE, 120.0, (4, 4));
        timeline.playing = true;
        Side {
            name,
            instance,
            processor,
            mark,
            timeline,
            pos: 0,
            audio_ns: Vec::new(),
            others_pct: Vec::new(),
        }
    }

    /// One phase at real time.
    fn phase(&mut self) {
        let blocks = (PHASE.as_secs_f64() * RATE / FRAMES as f64) as u64;
        let block_time = Duration::from_secs_f64(FRAMES as f64 / RATE);
        let mark_every = (MARK_EVERY.as_secs_f64() * RATE / FRAMES as f64) as u64;
        let measured = paced::phase(blocks, block_time, |b, clock| {
            if b % mark_every == mark_every / 2 {
                self.processor.set_param(10, self.mark, 1.0);
                self.processor.set_param(11, self.mark, 0.0);
            }
            let t = self.timeline.at(self.pos);
            clock.time(|| self.processor.process(FRAMES, Some(&t)));
            self.pos += FRAMES as i64;
            if b % 750 == 0 {
                // Main-thread callbacks, as a DAW's event loop runs them (every second).
                self.instance.run_main_thread_callback();
            }
        });
        self.audio_ns.push(measured.audio_ns);
        self.others_pct.push(measured.others_pct);
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        // `cargo bench -- --list` and `cargo test --benches` probe harness=false benches.
        return;
    }
    let phases = std::env::var("LINER_BENCH_PHASES")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3usize);
    let mut off = Side::new("clips off", false);
    let mut on = Side::new("clips on", true);
    // A first phase each, not counted: the history fills, the first encoder starts.
    for side in [&mut off, &mut on] {
        side.phase();
        side.audio_ns.clear();
        side.others_pct.clear();
    }
    for p in 0..phases {
        // Alternate which goes first.
        if p % 2 == 0 {
            off.phase();
            on.phase();
        } else {
            on.phase();
            off.phase();
        }
    }
    println!(
        "Real time, 48 kHz stereo, 64-frame blocks, a mark every {} s; {phases} phases of {} s each:",
        MARK_EVERY.as_secs(),
        PHASE.as_secs()
    );
    for s in [&off, &on] {
        println!(
            "  {:<10} audio thread {:>7.1} ns/block ({}); other threads {:.3}% of a core ({})",
            s.name,
            paced::median(&s.audio_ns),
            spread::Spread::of(&s.audio_ns).range(1),
            paced::median(&s.others_pct),
            spread::Spread::of(&s.others_pct).range(3),
        );
    }
    let ratio = paced::median(&on.audio_ns) / paced::median(&off.audio_ns);
    println!(
        "  audio thread, clips on / off:        {ratio:.3}x (target <= 1.5x: {})",
        if ratio <= 1.5 { "met" } else { "NOT met" }
    );
    let extra = paced::median(&on.others_pct) - paced::median(&off.others_pct);
    println!(
        "  the clips' extra off the audio thread: {extra:.3}% of one core (target < 2%: {})",
        if extra < 2.0 { "met" } else { "NOT met" }
    );
    let Side {
        mut instance,
        processor,
        ..
    } = on;
    instance.deactivate(processor);
    let log = host::capture_log(&instance.save_state());
    let clips = log["events"].as_array().map_or(0, |e| {
        e.iter().filter(|e| e["kind"] == "clip_attached").count()
    });
    println!("  clips made with clips on: {clips}");
}

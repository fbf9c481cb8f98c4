//! What Liner Notes costs on the audio thread, against null nice-plug plugins measured in the
//! same run: all hosted through the same CLAP harness, release builds, stereo 64-frame blocks
//! at 48 kHz with the transport playing and recording, a record pass toggling every 2,000
//! blocks and a mark pedal pressed every 500 blocks (press and release inside the block).
//!
//! Baselines (see `examples/reference_plugins.rs`):
//! - the null plugin: `process()` does nothing (opaquely, so the framework still prepares the
//!   transport for it, as for any real plugin);
//! - the same null plugin with Liner Notes' parameters and nice-plug's sample-accurate
//!   automation, which Liner Notes needs to put marks on their exact sample.
//!
//! Liner Notes runs three times: as it comes (clips off), clipping audio with its notes, where
//! every block's input is also copied into the audio tap, and printing a version (the same
//! tap, with the print's marks). Targets: <= 1.10x the null with clips off, <= 1.5x with clips
//! on and while printing. (The worker here runs far behind the tap, which runs at
//! hundreds of times real time: the tap fills and drops blocks, which costs the audio thread
//! less than a tap the worker keeps empty; `benches/clips.rs` measures at real time.)
//!
//! Run with `cargo xtask bench` (it builds the release reference plugins first). Rounds of the
//! subjects alternate, each round starting with the next subject, so that frequency scaling and
//! the other core's load hit all alike; the report is the median per-block time of each and the
//! ratios. Target: <= 1.10x the null. The two null plugins cost the same to within a few
//! percent, and their ratio, printed last, shows how much one run's noise is.
//! `LINER_BENCH_ROUNDS` and `LINER_BENCH_ONLY=liner|null|null-sa|liner-clips|liner-print` help profiling.

#[path = "../tests/common/host.rs"]
mod host;
#[path = "../tests/common/reaper.rs"]
mod reaper;
#[path = "common/release.rs"]
mod release;
#[path = "common/spread.rs"]
mod spread;

use host::{Instance, Processor, Timeline, CLAP_ID, NULL_ID, NULL_SAMPLE_ACCURATE_ID};
use std::path::Path;
use std::time::Instant;

const FRAMES: usize = 64;
const BLOCKS_PER_ROUND: usize = 20_000;
/// About two seconds of timing in all: enough that one interrupt or a busy moment of the
/// machine does not move a median.
const ROUNDS: usize = 300;
/// Rounds run first and not counted: caches, branch predictors and the CPU's clock settle, and
/// the disk writes of a build that just finished are out of the way.
const WARM_UP_ROUNDS: usize = 20;

struct Subject {
    key: &'static str,
    name: &'static str,
    instance: Instance,
    processor: Processor,
    mark: Option<clack_host::utils::ClapId>,
    timeline: Timeline,
    pos: i64,
    block: u64,
    samples: Vec<f64>,
}

impl Subject {
    fn new(
        key: &'static str,
        name: &'static str,
        lib: &Path,
        id: &std::ffi::CStr,
        clips: bool,
        print: bool,
    ) -> Self {
        let mut instance = Instance::from_library(lib, id);
        if clips {
            let blob = host::edit_instance_state(&instance.save_state(), |st| {
                st["clip_audio"] = true.into();
            });
            instance.load_state(&blob);
        }
        // Every subject gets the same events; those without a Mark parameter ignore them.
        let mark = (id != NULL_ID).then(|| instance.param_id("Mark"));
        let mut processor = instance.activate(48_000.0, FRAMES as u32, 2);
        for (c, ch) in processor.inputs.iter_mut().enumerate() {
            for (i, s) in ch.iter_mut().enumerate() {
                *s = ((i + c) as f32 * 0.01).sin();
            }
        }
        let mut timeline = Timeline::new(48_000.0, 120.0, (4, 4));
        if print {
            // Armed while stopped: the print runs from the transport's start on.
            let print = instance.param_id("Print");
            processor.set_param(0, print, 1.0);
            processor.process(FRAMES, Some(&timeline.at(0)));
        }
        timeline.playing = true;
        timeline.recording = true;
        Subject {
            key,
            name,
            instance,
            processor,
            mark,
            timeline,
            pos: 0,
            block: 0,
            samples: Vec::new(),
        }
    }

    fn round(&mut self) {
        let start = Instant::now();
        for _ in 0..BLOCKS_PER_ROUND {
            self.block += 1;
            if self.block.is_multiple_of(2_000) {
                self.timeline.recording = !self.timeline.recording;
            }
            if self.block.is_multiple_of(500) {
                if let Some(mark) = self.mark {
                    self.processor.set_param(10, mark, 1.0);
                    self.processor.set_param(11, mark, 0.0);
                }
            }
            let t = self.timeline.at(self.pos);
            self.processor.process(FRAMES, Some(&t));
            self.pos += FRAMES as i64;
        }
        let ns = start.elapsed().as_nanos() as f64 / BLOCKS_PER_ROUND as f64;
        self.samples.push(ns);
        // Between rounds, answer main-thread callbacks as a DAW's event loop would.
        self.instance.run_main_thread_callback();
    }

    fn median(&self) -> f64 {
        let mut s = self.samples.clone();
        s.sort_by(f64::total_cmp);
        s[s.len() / 2]
    }

    /// The fastest round: the least disturbed by the rest of the machine.
    fn min(&self) -> f64 {
        self.samples.iter().copied().fold(f64::INFINITY, f64::min)
    }
}

/// Runs `rounds` counted rounds (after the warm-up) of each subject, interleaved.
fn measure(subjects: &mut [Subject], rounds: usize, only: &str) {
    for r in 0..WARM_UP_ROUNDS + rounds {
        // Each round starts with the next subject, so none is always first after a switch.
        let n = subjects.len();
        for i in 0..n {
            let s = &mut subjects[(r + i) % n];
            if only.is_empty() || only == s.key {
                s.round();
            }
        }
        if r + 1 == WARM_UP_ROUNDS {
            subjects.iter_mut().for_each(|s| s.samples.clear());
        }
    }
}

/// Keeps the timing thread on one CPU (the last), so a migration does not land in one subject's
/// rounds. Threads started earlier (Liner Notes' worker) keep every CPU.
fn pin_to_last_cpu() {
    // SAFETY: plain libc calls on a zeroed cpu_set_t for the calling thread.
    unsafe {
        let n = libc::sysconf(libc::_SC_NPROCESSORS_ONLN);
        if n < 2 {
            return;
        }
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET((n - 1) as usize, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        // `cargo bench -- --list` and `cargo test --benches` probe harness=false benches.
        return;
    }
    // The printing subject writes its version (and every subject its journal) here, not into
    // the user's data folder.
    let folders = tempfile::tempdir().unwrap();
    std::env::set_var("LINER_NOTES_DATA_DIR", folders.path().join("data"));
    let liner_lib = release::release_library("release", "liner_notes");
    let reference_lib = release::release_library("release/examples", "reference_plugins");
    let mut subjects = [
        Subject::new("liner", "Liner Notes", &liner_lib, CLAP_ID, false, false),
        Subject::new("null", "null plugin", &reference_lib, NULL_ID, false, false),
        Subject::new(
            "null-sa",
            "null, sample-accurate",
            &reference_lib,
            NULL_SAMPLE_ACCURATE_ID,
            false,
            false,
        ),
        Subject::new(
            "liner-clips",
            "Liner Notes, clips on",
            &liner_lib,
            CLAP_ID,
            true,
            false,
        ),
    ];
    pin_to_last_cpu();
    let only = std::env::var("LINER_BENCH_ONLY").unwrap_or_default();
    let rounds = std::env::var("LINER_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(ROUNDS);
    measure(&mut subjects, rounds, &only);
    // Printing in a pass of its own, against the null plugin again: the print's encoder
    // runs flat out (the harness drives hundreds of times real time) and would load the
    // machine under every other subject.
    let mut printing = [
        Subject::new("null", "null plugin", &reference_lib, NULL_ID, false, false),
        Subject::new(
            "liner-print",
            "Liner Notes, printing",
            &liner_lib,
            CLAP_ID,
            false,
            true,
        ),
    ];
    measure(&mut printing, rounds, &only);
    if !only.is_empty() {
        return;
    }
    let budget_ns = FRAMES as f64 / 48_000.0 * 1e9;
    println!(
        "process() per 64-frame stereo block, median of {rounds} rounds x {BLOCKS_PER_ROUND} blocks:"
    );
    for s in &subjects {
        let m = s.median();
        println!(
            "  {:<22} {:>7.1} ns  ({}; {:.4}% of the {:.0} us real-time budget)",
            s.name,
            m,
            spread::Spread::of(&s.samples).range(1),
            m / budget_ns * 100.0,
            budget_ns / 1000.0
        );
    }
    let [liner, null, null_sa, clips] = &subjects;
    println!(
        "  fastest rounds: Liner Notes {:.1} ns, null {:.1} ns: {:.3}x",
        liner.min(),
        null.min(),
        liner.min() / null.min()
    );
    let ratio = liner.median() / null.median();
    println!(
        "  Liner Notes / null plugin:            {ratio:.3}x (target <= 1.10x: {})",
        if ratio <= 1.10 { "met" } else { "NOT met" }
    );
    println!(
        "  Liner Notes / sample-accurate null:   {:.3}x (Liner Notes' own work)",
        liner.median() / null_sa.median()
    );
    let clips_ratio = clips.median() / null.median();
    println!(
        "  Liner Notes, clips on / null plugin:  {clips_ratio:.3}x (target <= 1.5x: {})",
        if clips_ratio <= 1.5 { "met" } else { "NOT met" }
    );
    let [null2, print] = &printing;
    let print_ratio = print.median() / null2.median();
    println!(
        "  printing pass: Liner Notes, printing {:.1} ns ({}), null plugin {:.1} ns",
        print.median(),
        spread::Spread::of(&print.samples).range(1),
        null2.median()
    );
    println!(
        "  Liner Notes, printing / null plugin:  {print_ratio:.3}x (target <= 1.5x: {})",
        if print_ratio <= 1.5 { "met" } else { "NOT met" }
    );
    println!(
        "  sample-accurate null / null plugin:   {:.3}x (nice-plug's sample-accurate mode)",
        null_sa.median() / null.median()
    );
    let mut liner_instance = None;
    for s in subjects.into_iter().chain(printing) {
        let Subject {
            key,
            mut instance,
            processor,
            ..
        } = s;
        // Deactivating drains the audio queue, so the saved state has every event.
        instance.deactivate(processor);
        if key == "liner" {
            liner_instance = Some(instance);
        }
    }
    let log = host::capture_log(&liner_instance.expect("liner subject").save_state());
    println!(
        "  Liner Notes captured {} events, dropped {}",
        log["events"].as_array().map_or(0, Vec::len),
        log["dropped"]
    );
}

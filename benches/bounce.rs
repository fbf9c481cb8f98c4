//! An offline bounce with Print armed: what printing costs a DAW rendering faster than real
//! time, and that it loses nothing.
//!
//! The release plugin is hosted through the CLAP harness in CLAP's offline render mode (as a
//! DAW bouncing sets it; nice-plug reports `ProcessMode::Offline`), 48 kHz stereo, blocks of
//! [`BLOCK`] frames driven as fast as the harness can: a song of [`SECONDS`] (5 minutes) made
//! of 24-bit steps, so the version's FLAC holds it exactly. Measured in the same run, rounds
//! alternating:
//! - the bounce with Print armed (the transport's start to its stop): the host's wall time
//!   for the bounce's `process()` calls (in offline mode the tap waits for the encoder instead
//!   of dropping, so this is bounded by the print's encoder), and the time until the
//!   `version_printed` event is in the journal (the version complete on disk);
//! - the same bounce with Print off (the baseline): the harness's own speed.
//!
//! Both reported as multiples of real time, with the ratio. Then each printed version is
//! decoded (claxon) and compared with the input: targets 0 samples lost (no gap in the event,
//! every frame there) and the decoded samples equal to the input. The speed has no target; the
//! issue asks for it to be stated.
//!
//! Run: `cargo xtask bench` (builds the release plugin), then `cargo bench --bench bounce`.
//! `LINER_BENCH_SECONDS` sets the song's length (default 300), `LINER_BENCH_ROUNDS` the rounds
//! (default 3).

#[path = "../tests/common/host.rs"]
mod host;
#[path = "../tests/common/printing.rs"]
mod printing;
#[path = "../tests/common/reaper.rs"]
mod reaper;
#[path = "common/release.rs"]
mod release;
#[path = "common/spread.rs"]
mod spread;

use host::Timeline;
use printing::{decode_and_compare, prepare, printed, step_value, Check, RATE};
use spread::Spread;
use std::time::{Duration, Instant};

const SECONDS: usize = 300;
const BLOCK: usize = 512;
const ROUNDS: usize = 3;

/// One bounce: the host's time for the `process()` calls, and with Print armed the time until
/// the version was recorded and what its check found.
struct Bounce {
    took: Duration,
    written: Option<Duration>,
    printed: Option<(liner_record::versions::VersionPrinted, Check)>,
}

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Bounces `song` (planar) through a fresh offline instance, Print armed or not.
fn bounce(song: &[Vec<f32>; 2], print: bool) -> Bounce {
    let (mut plugin, mut p, project) = release_instance(true, BLOCK);
    let frames = song[0].len();
    let print_id = plugin.param_id("Print");
    let mut t = Timeline::new(RATE, 120.0, (4, 4));
    if print {
        // Armed while stopped: the print runs from the transport's start to its stop.
        p.set_param(0, print_id, 1.0);
    }
    p.process(BLOCK, Some(&t.at(0)));
    t.playing = true;
    let started = Instant::now();
    for start in (0..frames).step_by(BLOCK) {
        let n = BLOCK.min(frames - start);
        for (c, ch) in song.iter().enumerate() {
            p.inputs[c][..n].copy_from_slice(&ch[start..start + n]);
        }
        p.process(n, Some(&t.at(start as i64)));
        for c in 0..2 {
            assert!(
                p.outputs[c][..n]
                    .iter()
                    .zip(&p.inputs[c][..n])
                    .all(|(o, i)| o.to_bits() == i.to_bits()),
                "the output at frame {start} is not the input"
            );
        }
    }
    t.playing = false;
    p.inputs.iter_mut().for_each(|ch| ch.fill(0.0));
    p.process(BLOCK, Some(&t.at(frames as i64)));
    let took = started.elapsed();
    let mut bounce = Bounce {
        took,
        written: None,
        printed: None,
    };
    if print {
        let (journal, _, v) = printed(&project, Duration::from_secs(300));
        bounce.written = Some(started.elapsed());
        let check = decode_and_compare(&journal, &v, 0);
        bounce.printed = Some((v, check));
    }
    p.set_param(0, print_id, 0.0);
    p.process(BLOCK, Some(&t.at(frames as i64)));
    plugin.deactivate(p);
    bounce
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        // `cargo bench -- --list` and `cargo test --benches` probe harness=false benches.
        return;
    }
    let _folders = printing::private_folders();
    let seconds = env_or("LINER_BENCH_SECONDS", SECONDS);
    let rounds = env_or("LINER_BENCH_ROUNDS", ROUNDS).max(1);
    let frames = seconds * RATE as usize;
    // The whole song in memory, made before timing: the harness only copies each block in.
    let song: [Vec<f32>; 2] = std::array::from_fn(|c| {
        (0..frames as u64)
            .map(|f| step_value(f, c) as f32 / (1u32 << 23) as f32)
            .collect()
    });
    // A short bounce of each first, not counted: the library loads, caches and the disk settle.
    let warm: [Vec<f32>; 2] = std::array::from_fn(|c| song[c][..frames.min(48_000 * 5)].to_vec());
    bounce(&warm, true);
    bounce(&warm, false);

    let (mut off, mut on, mut written) = (Vec::new(), Vec::new(), Vec::new());
    let mut checks = Vec::new();
    for r in 0..rounds {
        // Alternate which goes first.
        for print in [r % 2 == 0, r % 2 == 1] {
            let b = bounce(&song, print);
            if print {
                on.push(b.took.as_secs_f64());
                written.push(b.written.unwrap().as_secs_f64());
                checks.push(b.printed.unwrap());
            } else {
                off.push(b.took.as_secs_f64());
            }
        }
    }
    let (off, on, written) = (Spread::of(&off), Spread::of(&on), Spread::of(&written));
    let speed = |s: f64| seconds as f64 / s;
    println!(
        "Offline bounce (CLAP render mode offline) of {seconds} s of 48 kHz stereo, 24-bit steps, \
         {BLOCK}-frame blocks as fast as the harness drives them; median of {rounds} rounds:"
    );
    println!(
        "  Print off (baseline)          {:>7.3} s  ({}; {:>6.0}x real time)",
        off.median,
        off.range(3),
        speed(off.median)
    );
    println!(
        "  Print armed: the bounce       {:>7.3} s  ({}; {:>6.1}x real time)",
        on.median,
        on.range(3),
        speed(on.median)
    );
    println!(
        "  Print armed: version written  {:>7.3} s  ({}; {:>6.1}x real time)",
        written.median,
        written.range(3),
        speed(written.median)
    );
    println!(
        "  printing / baseline: {:.1}x the bounce's time (the tap waits for the print's encoder, as offline allows)",
        on.median / off.median
    );
    let mut all_met = true;
    for (i, (v, check)) in checks.iter().enumerate() {
        let lost = v.lost_frames() * 2;
        let met = v.clean()
            && v.offline
            && v.version.frames == frames as u64
            && check.frames == frames as u64
            && check.mismatches == 0;
        all_met &= met;
        println!(
            "  round {}: version {} frames of {frames} bounced ({} decoded, {}-bit), {lost} samples lost \
             in {} gaps, offline {}; decoded against the input: {} samples equal, {} differ{}",
            i + 1,
            v.version.frames,
            check.frames,
            check.bits,
            v.gaps.len(),
            if v.offline { "yes" } else { "NO" },
            check.frames * 2 - check.mismatches,
            check.mismatches,
            check
                .first_mismatch
                .map_or(String::new(), |(f, c)| format!(" (first at frame {f}, channel {c})")),
        );
    }
    println!(
        "  0 samples lost and the decoded version equal to the input in every round: {}",
        if all_met { "met" } else { "NOT met" }
    );
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

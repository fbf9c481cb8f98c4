//! The worker's cost of printing a version: five minutes of 48 kHz stereo (a mix-like signal:
//! tones under noise, with a level that moves) streamed through `VersionWriter` (FLAC frames
//! to disk, the EBU R128 meter with true peak, the waveform summary) in the 64-frame blocks
//! the tap hands over, against encoding the same audio to FLAC in memory as clips are (the
//! baseline, in the same run). Reported as a multiple of real time and as the share of one
//! core printing at real time takes. Target: under 5% of one core (over 20x real time).
//!
//! Run: `cargo bench -p liner-notes --bench print`.

#[path = "common/spread.rs"]
mod spread;

use liner_record::clips::encode_flac;
use liner_record::versions::{VersionStore, VersionWriter};
use spread::Spread;
use std::time::Instant;

const RATE: u32 = 48_000;
const SECONDS: usize = 300;
const BLOCK: usize = 64;
const ROUNDS: usize = 5;

/// Planar stereo: two detuned tones and noise, the level swelling every few seconds.
fn mix() -> [Vec<f32>; 2] {
    let frames = RATE as usize * SECONDS;
    let mut seed = 0x2545_f491_u32;
    let mut noise = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed as f32 / u32::MAX as f32 - 0.5
    };
    let mut l = Vec::with_capacity(frames);
    let mut r = Vec::with_capacity(frames);
    for i in 0..frames {
        let t = i as f32 / RATE as f32;
        let swell = 0.3 + 0.2 * (t * 0.4).sin();
        let tone = (t * 110.0 * std::f32::consts::TAU).sin()
            + 0.5 * (t * 331.0 * std::f32::consts::TAU).sin();
        l.push(swell * (0.5 * tone + 0.2 * noise()));
        r.push(swell * (0.5 * tone + 0.2 * noise()));
    }
    [l, r]
}

/// One print of the whole signal, block by block as the tap delivers it.
fn print(audio: &[Vec<f32>; 2], dir: &std::path::Path) -> f64 {
    let store = VersionStore::of_journal(dir);
    let started = Instant::now();
    let mut w = VersionWriter::create(&store.part_path(uuid::Uuid::now_v7()), RATE, 2).unwrap();
    let mut planar = vec![0.0f32; BLOCK * 2];
    for start in (0..audio[0].len()).step_by(BLOCK) {
        let n = BLOCK.min(audio[0].len() - start);
        planar[..n].copy_from_slice(&audio[0][start..start + n]);
        planar[n..2 * n].copy_from_slice(&audio[1][start..start + n]);
        w.push(&planar[..2 * n], n).unwrap();
    }
    let v = w.finish(&store).unwrap();
    let took = started.elapsed().as_secs_f64();
    std::fs::remove_file(store.path(&v)).unwrap();
    took
}

fn main() {
    let audio = mix();
    let dir = tempfile::tempdir().unwrap();
    let (mut printed, mut baseline) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        printed.push(print(&audio, dir.path()));
        let started = Instant::now();
        let bytes = encode_flac(&audio[..], RATE).unwrap();
        baseline.push(started.elapsed().as_secs_f64());
        assert!(!bytes.is_empty());
    }
    let (p, b) = (Spread::of(&printed), Spread::of(&baseline));
    let speed = |s: f64| SECONDS as f64 / s;
    println!(
        "Printing {SECONDS} s of 48 kHz stereo in {BLOCK}-frame blocks, median of {ROUNDS} rounds:"
    );
    println!(
        "  print (FLAC to disk, loudness, peaks)  {:.2} s  ({}; {:.0}x real time)",
        p.median,
        p.range(2),
        speed(p.median)
    );
    println!(
        "  FLAC in memory (the clip encoder)      {:.2} s  ({}; {:.0}x real time)",
        b.median,
        b.range(2),
        speed(b.median)
    );
    println!("  print / in-memory encode: {:.2}x", p.median / b.median);
    let share = 100.0 / speed(p.median);
    println!(
        "  one core's share while printing at real time: {share:.2}% (target < 5%: {})",
        if share < 5.0 { "met" } else { "NOT met" }
    );
}

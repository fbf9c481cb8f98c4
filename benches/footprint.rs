//! What instances cost the DAW's process when nobody looks (editor closed): resident memory
//! and threads with 1, 10 and 50 instances of the release plugin, hosted through the CLAP
//! harness and processing audio, against the same process with the library loaded and no
//! instance (the baseline, measured in the same run).
//!
//! Run with `cargo xtask benchmarks` (or `cargo xtask bench` first, which builds the release
//! library, then `cargo bench --bench footprint`).

#[path = "../tests/common/host.rs"]
mod host;

use host::{Instance, Timeline, CLAP_ID};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn release_library() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let p = target.join("release").join("libliner_notes.so");
    assert!(
        p.exists(),
        "{} is missing: run `cargo xtask bench` first",
        p.display()
    );
    p
}

/// (resident MiB, threads) of this process.
fn footprint() -> (f64, usize) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| {
                v.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<f64>()
                    .unwrap()
            })
            .unwrap()
    };
    (field("VmRSS:") / 1024.0, field("Threads:") as usize)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let lib = release_library();
    // The library loaded, nothing instantiated: the baseline.
    let first = Instance::from_library(&lib, CLAP_ID);
    drop(first);
    std::thread::sleep(Duration::from_millis(500));
    let (base_mb, base_threads) = footprint();
    println!("no instance (library loaded): {base_mb:.1} MiB resident, {base_threads} threads");
    let mut instances = Vec::new();
    let mut processors = Vec::new();
    for target in [1usize, 10, 50] {
        while instances.len() < target {
            let mut i = Instance::from_library(&lib, CLAP_ID);
            let p = i.activate(48_000.0, 256, 2);
            instances.push(i);
            processors.push(p);
        }
        // A second of audio through every instance, transport rolling.
        let mut t = Timeline::new(48_000.0, 120.0, (4, 4));
        t.playing = true;
        for block in 0..188 {
            for p in &mut processors {
                p.process(256, Some(&t.at(block * 256)));
            }
        }
        std::thread::sleep(Duration::from_millis(500));
        let (mb, threads) = footprint();
        println!(
            "{target:>2} instance(s), editor closed: {mb:.1} MiB resident (+{:.1} MiB, {:.2} MiB each), \
             {threads} threads (+{})",
            mb - base_mb,
            (mb - base_mb) / target as f64,
            threads - base_threads
        );
    }
    for (i, p) in instances.iter_mut().zip(processors) {
        i.deactivate(p);
    }
}

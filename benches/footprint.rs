//! What instances cost the DAW's process when nobody looks (editor closed): resident memory
//! and threads with 1, 10 and 50 instances of the release plugin, hosted through the CLAP
//! harness and processing audio, against the same process with the library loaded and no
//! instance (the baseline, measured in the same run). Then instances on a project whose journal
//! holds 10,000 notes, against the process just before: what the worker's reading of the
//! journal leaves, once per project (the record is folded only while an editor is open).
//!
//! The data and config folders are fresh ones (a new instance otherwise opens the project the
//! last one used, whatever its size).
//!
//! Run with `cargo xtask benchmarks` (or `cargo xtask bench` first, which builds the release
//! library, then `cargo bench --bench footprint`).

#[path = "../tests/common/host.rs"]
mod host;
#[path = "../tests/common/reaper.rs"]
mod reaper;
#[path = "common/release.rs"]
mod release;

use host::{Instance, Processor, Timeline, CLAP_ID};
use liner_record::Journal;
use std::path::Path;
use std::time::Duration;

/// (resident MiB, threads) of this process.
fn footprint() -> (f64, usize) {
    (
        release::resident_mib(),
        release::status("Threads:") as usize,
    )
}

/// Creates instances until there are `target`, each activated (and on `project` if given),
/// then runs a second of audio through every one, transport rolling.
fn grow(
    lib: &Path,
    target: usize,
    project: Option<&str>,
    instances: &mut Vec<Instance>,
    processors: &mut Vec<Processor>,
) {
    while instances.len() < target {
        let mut i = Instance::from_library(lib, CLAP_ID);
        if let Some(project) = project {
            i.edit_settings(|s| s["project"] = project.into());
        }
        // No room reserved for queued events: the harness's own buffers stay out of the figure.
        let p = i.activate_with_events(48_000.0, 256, 2, 0);
        instances.push(i);
        processors.push(p);
    }
    let mut t = Timeline::new(48_000.0, 120.0, (4, 4));
    t.playing = true;
    for block in 0..188 {
        for p in processors.iter_mut() {
            p.process(256, Some(&t.at(block * 256)));
        }
    }
    // Let the worker open, read and fold what the instances asked for.
    std::thread::sleep(Duration::from_millis(1500));
}

fn close(instances: Vec<Instance>, processors: Vec<Processor>) {
    for (mut i, p) in instances.into_iter().zip(processors) {
        i.deactivate(p);
    }
}

/// Writes a journal of `notes` notes by two people, a verdict on every tenth.
fn populate(project: &str, notes: usize) {
    Journal::open_project(project)
        .unwrap()
        .append(&release::notes_with_verdicts(project, "Song", notes))
        .unwrap();
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let lib = release::release_library("release", "liner_notes");
    let folders = tempfile::tempdir().unwrap();
    std::env::set_var("LINER_NOTES_DATA_DIR", folders.path().join("data"));
    std::env::set_var("LINER_NOTES_CONFIG_DIR", folders.path().join("config"));
    // The library loaded, nothing instantiated: the baseline.
    let first = Instance::from_library(&lib, CLAP_ID);
    drop(first);
    std::thread::sleep(Duration::from_millis(500));
    let (base_mb, base_threads) = footprint();
    println!("no instance (library loaded): {base_mb:.1} MiB resident, {base_threads} threads");
    let (mut instances, mut processors) = (Vec::new(), Vec::new());
    for target in [1usize, 10, 50] {
        grow(&lib, target, None, &mut instances, &mut processors);
        let (mb, threads) = footprint();
        println!(
            "{target:>2} instance(s), editor closed, new project: {mb:.1} MiB resident \
             (+{:.1} MiB, {:.2} MiB each), {threads} threads (+{})",
            mb - base_mb,
            (mb - base_mb) / target as f64,
            threads - base_threads
        );
    }
    close(instances, processors);

    const NOTES: usize = 10_000;
    populate("Footprint LP", NOTES);
    std::thread::sleep(Duration::from_millis(500));
    let (before, _) = footprint();
    let (mut instances, mut processors) = (Vec::new(), Vec::new());
    let mut one = 0.0;
    for target in [1usize, 50] {
        grow(
            &lib,
            target,
            Some("Footprint LP"),
            &mut instances,
            &mut processors,
        );
        let (mb, threads) = footprint();
        if target == 1 {
            one = mb;
        }
        println!(
            "{target:>2} instance(s) on a project of {NOTES} notes: {mb:.1} MiB resident (+{:.1} MiB \
             against {before:.1} MiB just before{}), {threads} threads",
            mb - before,
            if target > 1 {
                format!(
                    "; {:.2} MiB for each instance after the first",
                    (mb - one) / (target - 1) as f64
                )
            } else {
                String::new()
            }
        );
    }
    close(instances, processors);
}

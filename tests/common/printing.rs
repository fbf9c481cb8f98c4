//! What the printing tests and benches share (`tests/print.rs`, `benches/bounce.rs`,
//! `benches/print_realtime.rs`): a signal whose samples survive the version's 24-bit FLAC
//! exactly, an instance set up to print (or not) a fresh project, the `version_printed` event
//! waited for in the project's journal, and the version decoded and compared with the signal.
//! Benches include it by path next to `tests/common/host.rs` (as `host`).
#![allow(dead_code)]

use super::host::{edit_instance_state, Instance, Processor};
use clack_extensions::render::{PluginRender, RenderMode};
use liner_record::event::Body;
use liner_record::versions::{VersionPrinted, VersionStore};
use liner_record::{Event, Journal};
use std::time::{Duration, Instant};

pub const RATE: f64 = 48_000.0;

/// Points the plugin's data and config folders at a fresh temporary folder (kept until the
/// returned guard drops), so no journal or version lands in the user's folders.
pub fn private_folders() -> tempfile::TempDir {
    let folders = tempfile::tempdir().unwrap();
    std::env::set_var("LINER_NOTES_DATA_DIR", folders.path().join("data"));
    std::env::set_var("LINER_NOTES_CONFIG_DIR", folders.path().join("config"));
    folders
}

/// A 24-bit step value for `frame` of `channel`: noise-like (the encoder's worst case) and
/// under 2^21 in size, so exact through the writer's scaling to 24-bit integers and back.
pub fn step_value(frame: u64, channel: usize) -> i32 {
    let mut x = frame
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(channel as u64 * 0xD1B5_4A32_D192_ED03);
    x ^= x >> 31;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 29;
    ((x >> 43) as i32) - (1 << 20)
}

pub fn sample(frame: u64, channel: usize) -> f32 {
    step_value(frame, channel) as f32 / (1u32 << 23) as f32
}

/// Fills the processor's inputs with `frames` frames of the signal from signal frame `pos`.
pub fn fill(p: &mut Processor, pos: u64, frames: usize) {
    for (c, ch) in p.inputs.iter_mut().enumerate() {
        for (i, s) in ch[..frames].iter_mut().enumerate() {
            *s = sample(pos + i as u64, c);
        }
    }
}

/// `plugin` set to a fresh project (clips off, no server), activated for stereo at 48 kHz
/// with blocks of up to `frames`; `offline` sets CLAP's render mode first, as a DAW bouncing
/// does. Returns the project's name too.
pub fn prepare(
    mut plugin: Instance,
    offline: bool,
    frames: usize,
) -> (Instance, Processor, String) {
    let project = format!("bench print {}", uuid::Uuid::now_v7());
    let blob = edit_instance_state(&plugin.save_state(), |st| {
        st["clip_audio"] = false.into();
        st["settings"]["project"] = project.clone().into();
        st["settings"]["song"] = "Night Drive".into();
        st["settings"]["track"] = "Mix bus".into();
        st["settings"]["server_url"] = "".into();
    });
    plugin.load_state(&blob);
    if offline {
        let h = plugin.instance.plugin_handle();
        let render: PluginRender = h.get_extension().expect("the render extension");
        render
            .set(&h, RenderMode::Offline)
            .expect("offline render mode");
    }
    let p = plugin.activate(RATE, frames as u32, 2);
    (plugin, p, project)
}

/// The project's first `version_printed`, waited for (up to `patience`), with its journal
/// and its event.
pub fn printed(project: &str, patience: Duration) -> (Journal, Event, VersionPrinted) {
    let journal = Journal::open_project(project).unwrap();
    let deadline = Instant::now() + patience;
    loop {
        let found = journal
            .read()
            .unwrap()
            .events
            .into_iter()
            .find_map(|s| match &s.event.body {
                Body::VersionPrinted(v) => Some((s.event.clone(), v.clone())),
                _ => None,
            });
        if let Some((event, v)) = found {
            return (journal, event, v);
        }
        assert!(
            Instant::now() < deadline,
            "no version_printed in {project} after {patience:?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// What decoding a version and comparing it with the signal found.
pub struct Check {
    /// Frames the decoder gave.
    pub frames: u64,
    /// Samples (frame x channel) that differ from the signal.
    pub mismatches: u64,
    pub first_mismatch: Option<(u64, usize)>,
    pub bits: u32,
}

/// Decodes `v` (claxon) and compares it, frame by frame, with the signal from signal frame
/// `start` on. Deletes the file afterwards (versions of noise are large).
pub fn decode_and_compare(journal: &Journal, v: &VersionPrinted, start: u64) -> Check {
    let path = VersionStore::of_journal(journal.dir()).path(&v.version);
    let mut reader = claxon::FlacReader::open(&path).unwrap();
    let bits = reader.streaminfo().bits_per_sample;
    let (mut n, mut mismatches, mut first_mismatch) = (0u64, 0u64, None);
    for s in reader.samples() {
        let s = s.unwrap();
        let (f, c) = (n / 2, (n % 2) as usize);
        if s != step_value(start + f, c) {
            mismatches += 1;
            first_mismatch.get_or_insert((f, c));
        }
        n += 1;
    }
    drop(reader);
    let _ = std::fs::remove_file(&path);
    Check {
        frames: n / 2,
        mismatches,
        first_mismatch,
        bits,
    }
}

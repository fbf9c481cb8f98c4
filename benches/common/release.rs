//! What the plugin benches share: the release libraries `cargo xtask bench` builds, this
//! process's own figures, and a demo record to load.
#![allow(dead_code)]

use liner_record::event::{Body, Category, Context, NoteAdded, Verdict};
use liner_record::{Event, Role};
use std::path::{Path, PathBuf};

/// `target/<dir>/lib<stem>.so`, built in release mode by `cargo xtask bench`.
pub fn release_library(dir: &str, stem: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let p = target.join(dir).join(format!("lib{stem}.so"));
    assert!(
        p.exists(),
        "{} is missing: run `cargo xtask bench`, which builds it",
        p.display()
    );
    p
}

/// A number from `/proc/self/status` (`VmRSS:` in kB, `Threads:`, ...).
pub fn status(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .expect("/proc/self/status")
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"))
}

/// This process's resident memory in MiB.
pub fn resident_mib() -> f64 {
    status("VmRSS:") / 1024.0
}

/// A record of `notes` notes in `project` by a producer and an engineer on two tracks, with
/// an executive's verdict on every tenth.
pub fn notes_with_verdicts(project: &str, song: &str, notes: usize) -> Vec<Event> {
    let ctx_for = |author: &str, role| Context {
        project: project.into(),
        song: song.into(),
        track: format!("Track {}", author.len()),
        session: uuid::Uuid::now_v7(),
        author: author.into(),
        role,
    };
    let authors = [
        ctx_for("Sam", Role::Producer),
        ctx_for("Alex", Role::Engineer),
    ];
    let exec = ctx_for("Jo", Role::Executive);
    let mut events = Vec::with_capacity(notes + notes / 10);
    for i in 0..notes {
        let e = Event::new(
            &authors[i % 2],
            None,
            Body::NoteAdded(NoteAdded {
                text: format!("note {i}: the snare needs more crack in bar {}", i % 120),
                category: [Category::Mix, Category::Vocal, Category::Eq][i % 3],
                anchor: None,
                take: None,
                private: false,
                version: None,
                guest: None,
            }),
        );
        if i % 10 == 0 {
            events.push(Event::new(
                &exec,
                None,
                Body::Verdict {
                    target: e.id,
                    verdict: Verdict::ChangesRequested,
                    comment: "shorter".into(),
                },
            ));
        }
        events.push(e);
    }
    events
}

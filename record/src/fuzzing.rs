//! Entry points for the fuzzer (`fuzz/`, `cargo +nightly fuzz`) and for the regression tests
//! that replay what it found (`record/tests/fuzz_regressions.rs`). Each takes any bytes and
//! must not panic; each checks what must hold of whatever it could read.

use crate::event::Event;
use crate::export::{export, Format, Scope};
use crate::journal::Journal;

/// Any bytes as a journal folder's `events.log` and `aside.log`: every reader reads what it
/// can and reports the rest; nothing panics.
pub fn journal(data: &[u8]) {
    let dir = std::env::temp_dir().join(format!(
        "liner-fuzz-journal-{}",
        crate::journal::unique_suffix()
    ));
    let split = data.iter().position(|b| *b == 0).unwrap_or(data.len());
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(dir.join("events.log"), &data[..split]);
    let _ = std::fs::write(dir.join("aside.log"), data.get(split + 1..).unwrap_or(&[]));
    if let Ok(j) = Journal::open(&dir) {
        let read = j.read().expect("reading never fails on content");
        let scan = j.scan().expect("scanning never fails on content");
        assert!(scan.ids.len() >= read.events.len());
        let (since, _, end) = j.read_since(0).expect("following never fails on content");
        assert!(since.len() >= read.events.len());
        assert!(end <= data.len() as u64);
        let _ = j.aside();
        let _ = crate::fold(read.events.iter().map(|e| &e.event));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Any bytes as one event: if it reads, its canonical line reads back as itself, and the
/// limits, the rules, the fold and every export take it.
pub fn event(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok((event, line)) = Event::canonical(text) else {
        return;
    };
    let (again, line2) = Event::canonical(&line).expect("a canonical line reads back");
    assert_eq!(line, line2, "canonical lines are stable");
    assert_eq!(event, again);
    assert!(!line.contains('\n'));
    let _ = crate::limits::check(&event);
    let _ = crate::rules::claim(&event);
    let events = [event];
    let _ = crate::fold(&events);
    for format in Format::ALL {
        let _ = export(&events, &Scope::default(), format);
    }
}

//! Journal speed, each against a baseline measured in the same run.
//!
//! 1. Group commit: a burst of 1,000 events appended one per call by 250 writers at once (in
//!    the plugin, a process's instances share one worker, which appends once per poll; across
//!    processes and with the editor, writers meet here), against the same 1,000 appended one
//!    after another (each its own fsync). Reports fsyncs and wall time.
//! 2. Opening a 1,000,000-event journal: the checked scan (what opening needs: every line's
//!    checksum and id) and the full read (JSON parsed), against reading the file's bytes.
//!
//! Run: `cargo bench -p liner-record --bench journal`. The folder is a temporary one under
//! `$TMPDIR` (set it to the disk you care about: tmpfs fsyncs are free).

use liner_record::event::{Body, Context, DawPos, Event, Role};
use liner_record::Journal;
use std::sync::{Arc, Barrier};
use std::time::Instant;
use uuid::Uuid;

fn event(n: u32) -> Event {
    Event::new(
        &Context {
            project: "Bench".into(),
            song: "Song".into(),
            track: "Track".into(),
            session: Uuid::now_v7(),
            author: "Bench".into(),
            role: Role::Producer,
        },
        Some(DawPos {
            seconds: Some(n as f64),
            beats: Some(n as f64 * 2.0),
            bar: Some(1 + n as i32 / 4),
            beat: Some(1.0),
            tempo: Some(120.0),
            time_sig: Some((4, 4)),
            playing: true,
            recording: false,
            samples: Some(n as i64 * 48_000),
        }),
        Body::Mark {
            instance: Uuid::nil(),
            number: n,
            label: None,
        },
    )
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();

    // 1. Group commit.
    let sequential = Journal::open(tmp.path().join("sequential")).unwrap();
    let t = Instant::now();
    for n in 0..1_000 {
        sequential.append(&[event(n)]).unwrap();
    }
    let seq_time = t.elapsed();
    let grouped = Journal::open(tmp.path().join("grouped")).unwrap();
    const WRITERS: u32 = 250;
    let barrier = Arc::new(Barrier::new(WRITERS as usize + 1));
    let threads: Vec<_> = (0..WRITERS)
        .map(|th| {
            let (j, barrier) = (grouped.clone(), barrier.clone());
            let events: Vec<Event> = (0..4).map(|n| event(th * 4 + n)).collect();
            std::thread::spawn(move || {
                barrier.wait();
                for e in events {
                    j.append(&[e]).unwrap();
                }
            })
        })
        .collect();
    barrier.wait();
    let t = Instant::now();
    for th in threads {
        th.join().unwrap();
    }
    let group_time = t.elapsed();
    assert_eq!(grouped.scan().unwrap().ids.len(), 1_000);
    println!("burst of 1,000 single-event appends:");
    println!(
        "  one after another : {:>5} fsyncs, {:>8.1} ms",
        sequential.fsync_count(),
        seq_time.as_secs_f64() * 1e3
    );
    println!(
        "  250 writers at once: {:>4} fsyncs, {:>8.1} ms  ({:.2}x the time, {:.1}x fewer fsyncs)",
        grouped.fsync_count(),
        group_time.as_secs_f64() * 1e3,
        group_time.as_secs_f64() / seq_time.as_secs_f64(),
        sequential.fsync_count() as f64 / grouped.fsync_count() as f64
    );

    // 2. Opening a million events.
    let big = Journal::open(tmp.path().join("big")).unwrap();
    let t = Instant::now();
    for chunk in 0..100u32 {
        let batch: Vec<Event> = (0..10_000).map(|n| event(chunk * 10_000 + n)).collect();
        big.append(&batch).unwrap();
    }
    let fill = t.elapsed();
    let path = big.dir().join("events.log");
    let t = Instant::now();
    let bytes = std::fs::read(&path).unwrap();
    let raw = t.elapsed();
    let t = Instant::now();
    let scan = big.scan().unwrap();
    let scan_time = t.elapsed();
    assert_eq!(scan.ids.len(), 1_000_000);
    let t = Instant::now();
    let read = big.read().unwrap();
    let read_time = t.elapsed();
    assert_eq!(read.events.len(), 1_000_000);
    println!(
        "a 1,000,000-event journal ({:.0} MB, written in {:.1} s):",
        bytes.len() as f64 / 1e6,
        fill.as_secs_f64()
    );
    println!(
        "  read the bytes (baseline): {:>7.0} ms",
        raw.as_secs_f64() * 1e3
    );
    println!(
        "  open = checked scan      : {:>7.0} ms  ({:.2}x the baseline; target < 1 s: {})",
        scan_time.as_secs_f64() * 1e3,
        scan_time.as_secs_f64() / raw.as_secs_f64(),
        if scan_time.as_secs_f64() < 1.0 {
            "met"
        } else {
            "NOT met"
        }
    );
    println!(
        "  full read, JSON parsed   : {:>7.0} ms  ({:.2}x the baseline)",
        read_time.as_secs_f64() * 1e3,
        read_time.as_secs_f64() / raw.as_secs_f64()
    );
}

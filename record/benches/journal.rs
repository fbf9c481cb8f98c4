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
use spread::Spread;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};
use uuid::Uuid;

#[path = "../../benches/common/spread.rs"]
mod spread;

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

/// One burst: 1,000 single-event appends one after another, then the same from 250 writers
/// at once, each into a fresh journal. Returns (sequential time, its fsyncs, grouped time, its
/// fsyncs).
fn burst(dir: &std::path::Path) -> (Duration, u64, Duration, u64) {
    let sequential = Journal::open(dir.join("sequential")).unwrap();
    let t = Instant::now();
    for n in 0..1_000 {
        sequential.append(&[event(n)]).unwrap();
    }
    let seq_time = t.elapsed();
    let grouped = Journal::open(dir.join("grouped")).unwrap();
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
    (
        seq_time,
        sequential.fsync_count(),
        group_time,
        grouped.fsync_count(),
    )
}

const RUNS: usize = 3;

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();

    // 1. Group commit, RUNS bursts.
    let (mut seq, mut seq_fsyncs, mut group, mut group_fsyncs) = (vec![], vec![], vec![], vec![]);
    for run in 0..RUNS {
        let (s, sf, g, gf) = burst(&tmp.path().join(format!("burst{run}")));
        seq.push(s);
        seq_fsyncs.push(sf as f64);
        group.push(g);
        group_fsyncs.push(gf as f64);
    }
    let (seq, group) = (Spread::of_ms(&seq), Spread::of_ms(&group));
    let (seq_fsyncs, group_fsyncs) = (Spread::of(&seq_fsyncs), Spread::of(&group_fsyncs));
    println!("burst of 1,000 single-event appends, median of {RUNS} bursts:");
    println!(
        "  one after another  : {:>5.0} fsyncs, {:>8.1} ms ({})",
        seq_fsyncs.median,
        seq.median,
        seq.range(1)
    );
    println!(
        "  250 writers at once: {:>5.0} fsyncs ({}), {:>8.1} ms ({})  ({:.2}x the time, {:.1}x fewer fsyncs)",
        group_fsyncs.median,
        group_fsyncs.range(0),
        group.median,
        group.range(1),
        group.median / seq.median,
        seq_fsyncs.median / group_fsyncs.median
    );

    // 2. Opening a million events, RUNS times each way.
    let big = Journal::open(tmp.path().join("big")).unwrap();
    let t = Instant::now();
    for chunk in 0..100u32 {
        let batch: Vec<Event> = (0..10_000).map(|n| event(chunk * 10_000 + n)).collect();
        big.append(&batch).unwrap();
    }
    let fill = t.elapsed();
    let path = big.dir().join("events.log");
    let (mut raw, mut scans, mut reads, mut size) = (vec![], vec![], vec![], 0);
    for _ in 0..RUNS {
        let t = Instant::now();
        size = std::fs::read(&path).unwrap().len();
        raw.push(t.elapsed());
        let t = Instant::now();
        let scan = big.scan().unwrap();
        scans.push(t.elapsed());
        assert_eq!(scan.ids.len(), 1_000_000);
        drop(scan);
        let t = Instant::now();
        let read = big.read().unwrap();
        reads.push(t.elapsed());
        assert_eq!(read.events.len(), 1_000_000);
    }
    let (raw, scan, read) = (
        Spread::of_ms(&raw),
        Spread::of_ms(&scans),
        Spread::of_ms(&reads),
    );
    println!(
        "a 1,000,000-event journal ({:.0} MB, written in {:.1} s), median of {RUNS}:",
        size as f64 / 1e6,
        fill.as_secs_f64()
    );
    println!(
        "  read the bytes (baseline): {:>7.0} ms ({})",
        raw.median,
        raw.range(0)
    );
    println!(
        "  open = checked scan      : {:>7.0} ms ({})  ({:.2}x the baseline; target < 1 s: {})",
        scan.median,
        scan.range(0),
        scan.median / raw.median,
        if scan.median < 1000.0 {
            "met"
        } else {
            "NOT met"
        }
    );
    println!(
        "  full read, JSON parsed   : {:>7.0} ms ({})  ({:.2}x the baseline)",
        read.median,
        read.range(0),
        read.median / raw.median
    );
}

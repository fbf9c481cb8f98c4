//! Exporting a 100,000-event record to each format, against folding the same record (the
//! work every export starts with), measured in the same run. Target: well under a second
//! per format.
//!
//! Run: `cargo bench -p liner-record --bench export`.

#[path = "../../benches/common/spread.rs"]
mod spread;

use liner_record::event::{
    Body, Category, Context, DawPos, Decision, Event, NoteAdded, Role, Setting, TakeRef,
};
use liner_record::export::{export, Format, Scope};
use std::time::Instant;
use uuid::Uuid;

fn record(n: u32) -> Vec<Event> {
    let instance = Uuid::now_v7();
    (0..n)
        .map(|i| {
            let ctx = Context {
                project: "Bench".into(),
                song: format!("Song {}", i % 12),
                track: format!("Track {}", i % 24),
                session: Uuid::from_u128(1 + (i / 5_000) as u128),
                author: format!("Person {}", i % 7),
                role: Role::Producer,
            };
            let s = (i % 3_000) as f64 * 0.5;
            let pos = DawPos {
                seconds: Some(s),
                beats: Some(s * 2.0),
                bar: Some((s * 0.5) as i32 + 1),
                beat: Some(1.0 + (s * 2.0) % 4.0),
                tempo: Some(120.0),
                time_sig: Some((4, 4)),
                ..Default::default()
            };
            let body = match i % 10 {
                0 => Body::Mark {
                    instance,
                    number: i,
                    label: None,
                },
                1 => Body::TakeStarted {
                    take: TakeRef {
                        instance,
                        number: i,
                    },
                },
                2 => Body::EqDecision(Decision {
                    processor: "EQ".into(),
                    settings: vec![Setting {
                        name: "gain".into(),
                        value: Some(-2.0),
                        text: None,
                        unit: Some("dB".into()),
                    }],
                    reason: "space, \"air\"".into(),
                }),
                _ => Body::NoteAdded(NoteAdded {
                    text: format!("note {i}, with a comma and a \"quote\""),
                    category: Category::Mix,
                    anchor: None,
                    take: None,
                    private: false,
                    version: None,
                    guest: None,
                }),
            };
            Event::new(&ctx, Some(pos), body)
        })
        .collect()
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let events = record(100_000);
    // Every figure is the median of RUNS, the fold's runs interleaved with the exports'.
    const RUNS: usize = 5;
    let mut folds = Vec::new();
    let mut notes = 0;
    let mut took_by_format = vec![Vec::new(); Format::ALL.len()];
    let mut bytes_by_format = vec![0; Format::ALL.len()];
    for _ in 0..RUNS {
        let t = Instant::now();
        notes = liner_record::fold(&events).notes.len();
        folds.push(t.elapsed());
        for (i, f) in Format::ALL.into_iter().enumerate() {
            let t = Instant::now();
            let out = export(&events, &Scope::default(), f);
            took_by_format[i].push(t.elapsed());
            bytes_by_format[i] = out.bytes.len();
        }
    }
    let fold = spread::Spread::of_ms(&folds);
    println!(
        "100,000 events, median of {RUNS} runs; folding them (baseline): {:.0} ms ({}; {notes} notes)",
        fold.median,
        fold.range(0),
    );
    for (i, f) in Format::ALL.into_iter().enumerate() {
        let took = spread::Spread::of_ms(&took_by_format[i]);
        println!(
            "  {:<9} {:>7.0} ms ({})  {:>5.2}x the fold  {:>9} bytes  {}",
            f.name(),
            took.median,
            took.range(0),
            took.median / fold.median,
            bytes_by_format[i],
            if took.median < 1000.0 {
                "under 1 s"
            } else {
                "OVER 1 s"
            }
        );
    }

    // A hostile record: 10,000 marks far apart whose time signature flips at every one,
    // against 10,000 ordinary marks (one meter), in the same run.
    let marks = |flip: bool| -> Vec<Event> {
        let ctx = Context {
            project: "P".into(),
            song: "S".into(),
            track: "T".into(),
            session: uuid::Uuid::now_v7(),
            author: "Sam".into(),
            role: Role::Producer,
        };
        (0..10_000)
            .map(|i| {
                let seconds = i as f64 * 500_000.0;
                let sig = if flip && i % 2 == 1 { (7, 8) } else { (4, 4) };
                let pos = DawPos {
                    seconds: Some(seconds),
                    beats: Some(seconds * 2.0),
                    tempo: Some(120.0),
                    time_sig: Some(sig),
                    ..Default::default()
                };
                Event::new(
                    &ctx,
                    Some(pos),
                    Body::Mark {
                        instance: uuid::Uuid::from_u128(1),
                        number: i,
                        label: None,
                    },
                )
            })
            .collect()
    };
    let (plain, flipping) = (marks(false), marks(true));
    for f in [Format::Csv, Format::Midi] {
        let time = |events: &[Event]| {
            let t = Instant::now();
            export(events, &Scope::default(), f);
            t.elapsed()
        };
        let (base, hostile) = (time(&plain), time(&flipping));
        println!(
            "10,000 marks, meter flipping at each, far apart, {}: {:.0} ms ({:.2}x the same marks in one meter)",
            f.name(),
            hostile.as_secs_f64() * 1e3,
            hostile.as_secs_f64() / base.as_secs_f64()
        );
    }
}

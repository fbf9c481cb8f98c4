//! Hear the moment: with "clip audio with notes" on, the audio around a mark is cut from what
//! passed through the real plugin (hosted through its CLAP entry), encoded, stored beside the
//! journal and attached to the mark; decoded, it is the input, sample for sample (within one
//! 24-bit step), with the moment where the mark was.

mod common;

use common::host::{capture_log, edit_instance_state, Instance, Timeline};
use liner_record::clips::ClipStore;
use liner_record::event::Body;
use liner_record::Journal;
use std::time::{Duration, Instant};
use uuid::Uuid;

const RATE: f64 = 48_000.0;
const BLOCK: usize = 256;

/// Seeded noise at -20 dBFS, with a full-scale marker impulse at `marker` on both channels.
fn signal(frame: u64, channel: usize, marker: u64) -> f32 {
    if frame == marker {
        return if channel == 0 { 0.99 } else { -0.99 };
    }
    let mut x = frame
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(channel as u64 * 0xD1B5_4A32_D192_ED03);
    x ^= x >> 29;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 32;
    ((x >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.2
}

#[test]
fn a_marks_clip_is_the_audio_that_passed_through_around_it() {
    let project = format!("clips {}", Uuid::now_v7());
    let mut plugin = Instance::new();
    let blob = edit_instance_state(&plugin.save_state(), |st| {
        st["clip_audio"] = true.into();
        st["settings"]["project"] = project.clone().into();
        st["settings"]["server_url"] = "".into();
    });
    plugin.load_state(&blob);
    let mark = plugin.param_id("Mark");
    let mut p = plugin.activate(RATE, BLOCK as u32, 2);
    let mut t = Timeline::new(RATE, 120.0, (4, 4));
    t.playing = true;
    // The mark at block 2,000 (10.7 s) plus 100 samples (the wrapper splits the block there).
    let mark_at = 2_000 * BLOCK as u64 + 100;
    let marker = mark_at;
    let blocks = 2_000 + (6.0 * RATE) as usize / BLOCK;
    for block in 0..blocks {
        let start = (block * BLOCK) as u64;
        for (c, ch) in p.inputs.iter_mut().enumerate() {
            for (i, s) in ch[..BLOCK].iter_mut().enumerate() {
                *s = signal(start + i as u64, c, marker);
            }
        }
        if block == 2_000 {
            p.set_param(100, mark, 1.0);
            p.set_param(101, mark, 0.0);
        }
        p.process(BLOCK, Some(&t.at(start as i64)));
        // Faster than real time, but never more than a second ahead of the worker (the tap
        // holds two).
        if block % 100 == 99 {
            std::thread::sleep(Duration::from_millis(15));
        }
    }
    let instance: Uuid = capture_log(&plugin.save_state())["instance"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();

    let journal = Journal::open_project(&project).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let (mark_event, clip) = loop {
        let events: Vec<_> = journal
            .read()
            .unwrap()
            .events
            .into_iter()
            .map(|s| s.event)
            .collect();
        let mark = events
            .iter()
            .find(|e| matches!(e.body, Body::Mark { instance: i, .. } if i == instance))
            .cloned();
        let clip = events.iter().find_map(|e| match &e.body {
            Body::ClipAttached(c) => Some(c.clone()),
            _ => None,
        });
        if let (Some(m), Some(c)) = (mark, clip) {
            break (m, c);
        }
        assert!(
            Instant::now() < deadline,
            "no clip in the journal: {events:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    plugin.deactivate(p);

    assert_eq!(clip.target, mark_event.id);
    assert!(!clip.private);
    let c = &clip.clip;
    assert_eq!((c.sample_rate, c.channels), (48_000, 2));
    assert_eq!(c.frames, 12 * 48_000, "8 s before and 4 s after");
    assert_eq!(c.moment, 8 * 48_000, "the mark 8 s in");

    let bytes = ClipStore::of_journal(journal.dir())
        .get(c)
        .unwrap()
        .expect("the clip file, named by its hash");
    assert_eq!(bytes.len() as u64, c.bytes);
    let mut reader = claxon::FlacReader::new(std::io::Cursor::new(bytes)).unwrap();
    assert_eq!(reader.streaminfo().bits_per_sample, 24);
    let decoded: Vec<i32> = reader.samples().map(|s| s.unwrap()).collect();
    assert_eq!(decoded.len() as u64, c.frames * 2);
    let step = 1.0 / ((1 << 23) - 1) as f32;
    let first = mark_at - c.moment;
    for (i, s) in decoded.iter().enumerate() {
        let (frame, channel) = (first + i as u64 / 2, i % 2);
        let want = signal(frame, channel, marker);
        assert!(
            (*s as f32 * step - want).abs() <= step,
            "frame {frame} channel {channel}: {} against {want}",
            *s as f32 * step
        );
    }
    // The marker sits at the moment.
    assert!(decoded[c.moment as usize * 2] as f32 * step > 0.98);
}

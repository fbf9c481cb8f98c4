//! Printing a version, on the real plugin hosted through its CLAP entry: the audio passing
//! through from a transport start to its stop becomes a FLAC version beside the journal and a
//! `version_printed` event. Decoded, the version is the input sample for sample (the signal
//! is made of 24-bit steps, so the encoding is exact). At real time a block the worker could
//! not take is a gap the version reports, where it was; an offline render waits instead and
//! loses nothing, however far ahead of the worker it runs.

mod common;

use common::host::{Instance, Processor, Timeline};
use common::printing::{self, prepare, printed, step_value, RATE};
use liner_record::versions::{VersionPrinted, VersionStore};
use liner_record::Journal;
use std::time::{Duration, Instant};

const BLOCK: usize = 256;
/// How long a test waits for its version.
const PATIENCE: Duration = Duration::from_secs(60);
/// The DAW position the transport starts from: two seconds in (bar 2 at 120 bpm, 4/4).
const START: i64 = 96_000;

/// A printing instance of a fresh project (clips off, no server), activated for stereo at
/// 48 kHz; `offline` sets CLAP's render mode first, as a DAW bouncing does.
fn printer(offline: bool) -> (Instance, Processor, String) {
    prepare(Instance::new(), offline, BLOCK)
}

/// How a test paces the blocks it sends.
#[derive(Clone, Copy, PartialEq)]
enum Pace {
    /// As a playing DAW: never more than 100 ms ahead of the wall clock.
    RealTime,
    /// As fast as the thread can go.
    Flat,
}

/// Arms `Print` (the parameter), lets the transport stand for a few blocks, plays `blocks`
/// blocks of the signal from [`START`], then stops. Checks that every output block equals its
/// input (bit-exact while printing). Returns the stream frame offset of the first played
/// block's position in the signal (the signal is indexed by DAW sample).
fn print_blocks(plugin: &mut Instance, p: &mut Processor, blocks: usize, pace: Pace) {
    let print = plugin.param_id("Print");
    let mut t = Timeline::new(RATE, 120.0, (4, 4));
    p.set_param(0, print, 1.0);
    for _ in 0..4 {
        fill(p, START as u64);
        p.process(BLOCK, Some(&t.at(START)));
    }
    t.playing = true;
    let began = Instant::now();
    for b in 0..blocks {
        let pos = START as u64 + (b * BLOCK) as u64;
        fill(p, pos);
        p.process(BLOCK, Some(&t.at(pos as i64)));
        for c in 0..2 {
            assert!(
                p.outputs[c][..BLOCK]
                    .iter()
                    .zip(&p.inputs[c][..BLOCK])
                    .all(|(o, i)| o.to_bits() == i.to_bits()),
                "the output of block {b} is not the input"
            );
        }
        if pace == Pace::RealTime {
            let ahead = Duration::from_secs_f64((b + 1) as f64 * BLOCK as f64 / RATE);
            while began.elapsed() + Duration::from_millis(100) < ahead {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
    }
    t.playing = false;
    let end = START + (blocks * BLOCK) as i64;
    fill(p, end as u64);
    p.process(BLOCK, Some(&t.at(end)));
    p.set_param(0, print, 0.0);
    p.process(BLOCK, Some(&t.at(end)));
}

/// Arms `Print` while the transport stands, then plays `blocks` blocks of the signal from
/// [`START`] at about five times real time (well within what the half-second tap holds).
/// Returns the playing timeline.
fn arm_and_play(plugin: &mut Instance, p: &mut Processor, blocks: usize) -> Timeline {
    let mut t = Timeline::new(RATE, 120.0, (4, 4));
    p.set_param(0, plugin.param_id("Print"), 1.0);
    fill(p, START as u64);
    p.process(BLOCK, Some(&t.at(START)));
    t.playing = true;
    for b in 0..blocks {
        let pos = START as u64 + (b * BLOCK) as u64;
        fill(p, pos);
        p.process(BLOCK, Some(&t.at(pos as i64)));
        std::thread::sleep(Duration::from_millis(1));
    }
    t
}

fn fill(p: &mut Processor, pos: u64) {
    printing::fill(p, pos, BLOCK);
}

/// The version's samples, decoded (interleaved 24-bit integers).
fn decode(journal: &Journal, v: &VersionPrinted) -> Vec<i32> {
    let path = VersionStore::of_journal(journal.dir()).path(&v.version);
    let mut reader = claxon::FlacReader::open(&path).unwrap();
    assert_eq!(reader.streaminfo().bits_per_sample, 24);
    assert_eq!(reader.streaminfo().samples, Some(v.version.frames));
    reader.samples().map(Result::unwrap).collect()
}

/// Checks the decoded version frame by frame against the signal from DAW sample [`START`]:
/// silence inside the version's gaps, the input everywhere else.
fn assert_is_the_input(decoded: &[i32], v: &VersionPrinted) {
    assert_eq!(decoded.len() as u64, v.version.frames * 2);
    let in_gap = |f: u64| {
        v.gaps
            .iter()
            .any(|g| (g.frame..g.frame + g.frames).contains(&f))
    };
    for (i, s) in decoded.iter().enumerate() {
        let (f, c) = ((i / 2) as u64, i % 2);
        let want = if in_gap(f) {
            0
        } else {
            step_value(START as u64 + f, c)
        };
        assert_eq!(*s, want, "frame {f} channel {c}");
    }
}

#[test]
fn a_print_at_real_time_is_the_input_sample_for_sample_and_clean() {
    let (mut plugin, mut p, project) = printer(false);
    let blocks = (3.0 * RATE) as usize / BLOCK;
    print_blocks(&mut plugin, &mut p, blocks, Pace::RealTime);
    let (journal, event, v) = printed(&project, PATIENCE);
    plugin.deactivate(p);
    let v = &v;
    assert_eq!(event.song, "Night Drive");
    assert_eq!(event.track, "Mix bus");
    assert_eq!(v.label, "v1");
    assert!(v.clean(), "gaps at real time: {:?}", v.gaps);
    assert!(!v.offline);
    assert_eq!(v.version.frames, (blocks * BLOCK) as u64);
    assert_eq!((v.version.sample_rate, v.version.channels), (48_000, 2));
    assert_eq!(v.start.seconds, Some(2.0));
    assert_eq!(v.start.beats, Some(4.0));
    assert_eq!((v.start.bar, v.start.beat), (Some(2), Some(1.0)));
    assert_eq!(
        v.tempo.first(),
        Some(&v.start),
        "the tempo map starts at the start"
    );
    let loud = v.version.loudness;
    assert!(loud.integrated.is_some() && loud.true_peak.is_some());
    assert!(!v.version.peaks.pairs().is_empty());
    assert_is_the_input(&decode(&journal, v), v);
}

#[test]
fn an_offline_bounce_far_ahead_of_the_worker_loses_nothing() {
    let (mut plugin, mut p, project) = printer(true);
    // Forty seconds as fast as the thread goes: eighty times what the tap holds.
    let blocks = (40.0 * RATE) as usize / BLOCK;
    let began = Instant::now();
    print_blocks(&mut plugin, &mut p, blocks, Pace::Flat);
    eprintln!("40 s bounced in {:?}", began.elapsed());
    let (journal, _, v) = printed(&project, PATIENCE);
    plugin.deactivate(p);
    let v = &v;
    assert!(v.offline, "an offline render says so");
    assert!(v.clean(), "an offline render lost audio: {:?}", v.gaps);
    assert_eq!(v.version.frames, (blocks * BLOCK) as u64);
    assert_is_the_input(&decode(&journal, v), v);
}

#[test]
fn audio_lost_at_real_time_is_a_gap_in_the_version_where_it_was() {
    let (mut plugin, mut p, project) = printer(false);
    // Forty seconds as fast as the thread goes at real time: the tap (half a second) fills
    // long before the worker's next look, and blocks are dropped, never waited for.
    let blocks = (40.0 * RATE) as usize / BLOCK;
    print_blocks(&mut plugin, &mut p, blocks, Pace::Flat);
    let (journal, _, v) = printed(&project, PATIENCE);
    plugin.deactivate(p);
    let v = &v;
    assert!(!v.offline);
    assert!(
        !v.clean(),
        "audio was lost but the version says it is clean"
    );
    assert_eq!(
        v.version.frames,
        (blocks * BLOCK) as u64,
        "lost audio keeps its time (silence stands in)"
    );
    assert!(v.lost_frames() > 0 && v.lost_frames() < v.version.frames);
    for g in &v.gaps {
        assert_eq!(g.frame % BLOCK as u64, 0, "whole blocks are lost: {g:?}");
    }
    // Silence exactly where the gaps say, the input everywhere else.
    assert_is_the_input(&decode(&journal, v), v);
}

#[test]
fn a_deactivation_mid_print_ends_the_version_where_the_last_block_ended() {
    let (mut plugin, mut p, project) = printer(false);
    let blocks = 200;
    arm_and_play(&mut plugin, &mut p, blocks);
    // The host deactivates while playing and activates again at once: the new activation's
    // tap replaces the old one, whose last blocks and end mark must still reach the print.
    plugin.deactivate(p);
    let p = plugin.activate(RATE, BLOCK as u32, 2);
    let (journal, _, v) = printed(&project, PATIENCE);
    plugin.deactivate(p);
    let v = &v;
    assert!(v.clean(), "{:?}", v.gaps);
    assert_eq!(v.version.frames, (blocks * BLOCK) as u64);
    assert_is_the_input(&decode(&journal, v), v);
}

#[test]
fn a_click_elsewhere_on_the_timeline_ends_the_print_where_the_audio_still_matched_it() {
    let (mut plugin, mut p, project) = printer(false);
    let before = 100;
    let t = arm_and_play(&mut plugin, &mut p, before);
    // The producer clicks ten seconds ahead and playback goes on from there.
    let ahead = START as u64 + (before * BLOCK) as u64 + 480_000;
    for b in 0..50 {
        let pos = ahead + (b * BLOCK) as u64;
        fill(&mut p, pos);
        p.process(BLOCK, Some(&t.at(pos as i64)));
    }
    let (journal, _, v) = printed(&project, PATIENCE);
    plugin.deactivate(p);
    let v = &v;
    assert_eq!(
        v.version.frames,
        (before * BLOCK) as u64,
        "the version ends at the jump: what follows is elsewhere on the timeline"
    );
    assert!(v.clean(), "{:?}", v.gaps);
    assert_is_the_input(&decode(&journal, v), v);
}

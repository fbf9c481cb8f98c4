//! A scripted transport through the real plugin yields exactly the expected take, transport and
//! mark events, read back through the plugin's saved state; state moves between instances.

mod common;

use common::host::{
    capture_log, event_number, state_blob, state_json, Instance, Processor, Timeline,
};
use serde_json::Value;
use std::time::{Duration, Instant};

const SR: f64 = 48_000.0;
const BLOCK: usize = 512;
/// Fast enough that the script crosses bar lines: a 4/4 bar lasts half a second.
const TEMPO: f64 = 480.0;

/// Saves state until the capture log holds `n` events from the audio thread (the worker drains
/// the audio queue every few milliseconds), then returns the log with those events only (the
/// instance's `session_opened` / `session_closed`, made on the main thread, left out).
fn wait_for_events(plugin: &mut Instance, n: usize) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut log = capture_log(&plugin.save_state());
        log["events"]
            .as_array_mut()
            .unwrap()
            .retain(|e| !e["kind"].as_str().unwrap().starts_with("session_"));
        let have = log["events"].as_array().unwrap().len();
        if have >= n || Instant::now() > deadline {
            return log;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// (kind, number, sample position) of each event.
fn summary(log: &Value) -> Vec<(String, u64, i64)> {
    log["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let n = event_number(e).unwrap_or(0);
            let pos = e["pos"]["samples"].as_i64().unwrap_or(-1);
            (e["kind"].as_str().unwrap().to_owned(), n, pos)
        })
        .collect()
}

fn ev(kind: &str, n: u64, pos: i64) -> (String, u64, i64) {
    (kind.to_owned(), n, pos)
}

struct Script {
    p: Processor,
    t: Timeline,
    pos: i64,
}

impl Script {
    fn blocks(&mut self, n: usize) {
        for _ in 0..n {
            let t = self.t.at(self.pos);
            self.p.process(BLOCK, Some(&t));
            if self.t.playing {
                self.pos += BLOCK as i64;
            }
        }
    }
}

#[test]
fn a_scripted_session_yields_exactly_the_expected_events() {
    let mut plugin = Instance::new();
    let mark = plugin.param_id("Mark");
    let p = plugin.activate(SR, BLOCK as u32, 2);
    let mut s = Script {
        p,
        t: Timeline::new(SR, TEMPO, (4, 4)),
        pos: 0,
    };
    s.blocks(10); // stopped: nothing happens
    s.t.playing = true;
    s.blocks(20); // TransportStarted at 0
    s.t.recording = true;
    s.blocks(20); // take 1 from 10240
    s.t.recording = false;
    s.blocks(5); // take 1 ends at 20480
                 // A footswitch press 100 samples into the block at 23040, released 300 samples later.
    s.p.set_param(100, mark, 1.0);
    s.p.set_param(400, mark, 0.0);
    s.blocks(5);
    s.t.recording = true;
    s.blocks(20); // take 2 from 25600
    s.t.recording = false;
    s.blocks(2); // take 2 ends at 35840
                 // Loop recording between 24576 and 73728 samples (0.512 s .. 1.536 s): one take per pass.
    s.t.loop_range_seconds = Some((0.512, 1.536));
    s.pos = 24_576;
    s.t.recording = true;
    s.blocks(96); // take 3: 24576 .. 73728
    s.pos = 24_576; // the host wraps
    s.p.set_param(0, mark, 1.0); // a mark right on the wrap
    s.blocks(10); // take 4 from 24576
    s.t.playing = false;
    s.t.recording = false;
    s.p.set_param(0, mark, 0.0);
    s.blocks(3); // take 4 ends at 29696, transport stops there

    let expected = vec![
        ev("transport_started", 0, 0),
        ev("take_started", 1, 10_240),
        ev("take_ended", 1, 20_480),
        ev("mark", 1, 23_140),
        ev("take_started", 2, 25_600),
        ev("take_ended", 2, 35_840),
        ev("take_ended", 3, 73_728),
        ev("take_started", 4, 24_576),
        ev("mark", 2, 24_576),
        ev("take_ended", 4, 29_696),
        ev("transport_stopped", 0, 29_696),
    ];
    let log = wait_for_events(&mut plugin, expected.len() + 1);
    let mut got = summary(&log);
    // Take 3 started when recording resumed at the loop start, after take 2.
    assert_eq!(got.remove(6), ev("take_started", 3, 24_576), "{got:?}");
    assert_eq!(got, expected);
    assert_eq!(log["dropped"], 0);
    // Activation opened a session for worked time, stamped with the instance's song and track.
    let all = capture_log(&plugin.save_state());
    let first = &all["events"][0];
    assert_eq!(first["kind"], "session_opened", "{all}");
    assert_eq!(first["song"], all["settings"]["song"]);

    // Musical positions. The mark at sample 23140 is 0.48208 s = 3.85667 beats at 480 bpm:
    // bar 1, beat 4.85667 as a DAW shows it.
    let events = log["events"].as_array().unwrap();
    let close = |v: &Value, want: f64| (v.as_f64().unwrap() - want).abs() < 1e-6;
    let m = events.iter().find(|e| e["kind"] == "mark").unwrap();
    assert!(close(&m["pos"]["seconds"], 23_140.0 / SR), "{m}");
    assert!(close(&m["pos"]["beats"], 3.856_666_667), "{m}");
    assert_eq!(m["pos"]["bar"], 1);
    assert!(close(&m["pos"]["beat"], 4.856_666_667), "{m}");
    assert_eq!(m["pos"]["tempo"], TEMPO);
    assert_eq!(m["pos"]["time_sig"], serde_json::json!([4, 4]));
    // Take 2 starts at 25600 samples = 4.26667 beats: bar 2, beat 1.26667.
    let t2 = events
        .iter()
        .find(|e| e["kind"] == "take_started" && event_number(e) == Some(2))
        .unwrap();
    assert_eq!(t2["pos"]["bar"], 2);
    assert!(close(&t2["pos"]["beat"], 1.266_666_667), "{t2}");
    assert_eq!(t2["pos"]["recording"], true);
    // Take 2 ends at 35840 samples = 5.97333 beats: the end position was carried across the
    // bar line from the last recorded block, bar 2 beat 2.97333.
    let e2 = events
        .iter()
        .find(|e| e["kind"] == "take_ended" && event_number(e) == Some(2))
        .unwrap();
    assert_eq!(e2["pos"]["bar"], 2);
    assert!(close(&e2["pos"]["beat"], 2.973_333_333), "{e2}");
    // Every event has its own UUIDv7 and a wall-clock time.
    let mut ids: Vec<&str> = events.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert!(ids
        .iter()
        .all(|id| uuid::Uuid::parse_str(id).unwrap().get_version_num() == 7));
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), events.len());
    assert!(events
        .iter()
        .all(|e| e["at"].as_i64().unwrap() > 1_700_000_000_000));
    // They are record events of this instance, made with its settings.
    for e in events {
        assert_eq!(e["v"], 1);
        assert_eq!(e["project"], log["settings"]["project"]);
        assert_eq!(e["song"], log["settings"]["song"]);
        assert_eq!(e["role"], log["settings"]["role"]);
        assert!(e["session"].is_string());
        if let Some(instance) = e["body"]["take"]["instance"].as_str() {
            assert_eq!(instance, log["instance"]);
        }
    }

    let Script { p, .. } = s;
    plugin.deactivate(p);
}

#[test]
fn state_saved_from_one_instance_loads_equal_into_a_fresh_one_and_numbering_continues() {
    let mut a = Instance::new();
    let p = a.activate(SR, BLOCK as u32, 2);
    let mut s = Script {
        p,
        t: Timeline::new(SR, 93.0, (7, 8)),
        pos: 0,
    };
    s.t.playing = true;
    s.t.recording = true;
    s.blocks(4);
    s.t.playing = false;
    s.blocks(1);
    let Script { p, .. } = s;
    a.deactivate(p);
    wait_for_events(&mut a, 4);
    let saved = a.save_state();

    let mut b = Instance::new();
    b.load_state(&saved);
    let reloaded = b.save_state();
    assert_eq!(state_json(&reloaded), state_json(&saved));

    // The next record pass in the restored instance is take 2, not a second take 1.
    let p = b.activate(SR, BLOCK as u32, 2);
    let mut s = Script {
        p,
        t: Timeline::new(SR, 93.0, (7, 8)),
        pos: 0,
    };
    s.t.playing = true;
    s.t.recording = true;
    s.blocks(2);
    let log = wait_for_events(&mut b, 6);
    let takes: Vec<u64> = summary(&log)
        .into_iter()
        .filter(|e| e.0 == "take_started")
        .map(|e| e.1)
        .collect();
    assert_eq!(takes, vec![1, 2]);
    let Script { p, .. } = s;
    b.deactivate(p);
}

#[test]
fn without_transport_information_marks_still_land_and_nothing_else_is_invented() {
    let mut plugin = Instance::new();
    let mark = plugin.param_id("Mark");
    let mut p = plugin.activate(SR, BLOCK as u32, 2);
    for _ in 0..5 {
        p.process(BLOCK, None);
    }
    p.set_param(10, mark, 1.0);
    p.process(BLOCK, None);
    let log = wait_for_events(&mut plugin, 1);
    let events = log["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["kind"], "mark");
    assert_eq!(events[0]["pos"]["samples"], Value::Null);
    assert_eq!(events[0]["pos"]["playing"], false);
    plugin.deactivate(p);
}

#[test]
fn an_unreadable_saved_log_is_set_aside_and_the_host_keeps_going() {
    let mut good = Instance::new();
    let mut state = state_json(&good.save_state());
    state["fields"]["instance"] = Value::String("{this is not json".into());
    let blob = state_blob(&state);

    let mut plugin = Instance::new();
    plugin.load_state(&blob);
    let log = capture_log(&plugin.save_state());
    assert_eq!(log["events"], serde_json::json!([]));
    assert_eq!(log["set_aside"]["raw"], "{this is not json");
    // And it still processes audio and captures.
    let mark = plugin.param_id("Mark");
    let mut p = plugin.activate(SR, BLOCK as u32, 2);
    p.set_param(0, mark, 1.0);
    p.process(BLOCK, None);
    let log = wait_for_events(&mut plugin, 1);
    assert_eq!(log["events"].as_array().unwrap().len(), 1);
    plugin.deactivate(p);
}

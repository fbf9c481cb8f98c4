//! The VST3 plugin in a real DAW: Ardour 7 (Debian's `ardour`), driven headless by its Lua
//! session tool `ardour7-lua` on Ardour's dummy audio backend. Ardour scans and instantiates
//! the bundle `cargo xtask test` built, inserts it on a stereo track, plays, records a pass
//! and stops; the plugin's journal must then hold exactly that session, at the places Ardour
//! reported.
//!
//! Ardour is a test prerequisite like Xvfb (`.ci/run` installs it): without it this fails
//! and says so, rather than passing without having looked.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const ARDOUR_LUA: &str = "ardour7-lua";
/// Where Debian's package puts Ardour's libraries and its VST3 scanner.
const ARDOUR_LIBS: &str = "/usr/lib/ardour7";
const VST3_SCANNER: &str = "/usr/lib/ardour7/ardour-vst3-scanner";

/// The Lua session: a second of playback, a second recorded on a rec-armed track, half a
/// second more, stop. It prints where Ardour's transport was at each step ("LN <what> <sample>").
const SESSION_SCRIPT: &str = r#"
local s = create_session(SESSION_DIR, "liner", 48000)
assert(s, "Ardour could not create a session")
local tracks = Session:new_audio_track(2, 2, nil, 1, "Vocals",
  ARDOUR.PresentationInfo.max_order, ARDOUR.TrackMode.Normal, true)
local track = tracks:front()
local plugin = ARDOUR.LuaAPI.new_plugin(Session, "Liner Notes", ARDOUR.PluginType.VST3, "")
assert(not plugin:isnil(), "Ardour did not find the Liner Notes VST3")
assert(track:add_processor_by_index(plugin, 0, nil, true) == 0, "could not insert the plugin")
print("LN inserted 0")
Session:request_roll(ARDOUR.TransportRequestSource.TRS_UI)
ARDOUR.LuaAPI.usleep(1000000)
track:rec_enable_control():set_value(1, PBD.GroupControlDisposition.NoGroup)
print("LN record_on " .. Session:transport_sample())
Session:maybe_enable_record(false)
ARDOUR.LuaAPI.usleep(1000000)
print("LN record_off " .. Session:transport_sample())
Session:disable_record(false, false)
ARDOUR.LuaAPI.usleep(500000)
print("LN stop " .. Session:transport_sample())
Session:request_stop(false, false, ARDOUR.TransportRequestSource.TRS_UI)
ARDOUR.LuaAPI.usleep(500000)
Session:save_state("", false, false, false, false, false)
close_session()
print("LN closed 0")
"#;

fn bundle_dir() -> PathBuf {
    let dir = std::env::var_os("LINER_NOTES_BUNDLE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bundled"));
    assert!(
        dir.join("Liner Notes.vst3").exists(),
        "no VST3 bundle in {}: run `cargo xtask test`, which bundles first",
        dir.display()
    );
    dir
}

/// Runs the session script; returns Ardour's printed positions by step name.
fn run_ardour(work: &Path) -> Vec<(String, i64)> {
    let script = work.join("session.lua");
    let session_dir = work.join("session");
    std::fs::write(
        &script,
        format!(
            "SESSION_DIR = {:?}\n{SESSION_SCRIPT}",
            session_dir.to_str().unwrap()
        ),
    )
    .unwrap();
    // Ardour's caches and settings, and the plugin's journal, all in the test's folder.
    let in_work = |command: &mut Command| {
        command
            .env("HOME", work)
            .env("XDG_CONFIG_HOME", work.join("config"))
            .env("XDG_CACHE_HOME", work.join("cache"))
            .env("VST3_PATH", bundle_dir())
            .env("LINER_NOTES_DATA_DIR", work.join("data"))
            .env("LINER_NOTES_CONFIG_DIR", work.join("liner-config"));
    };
    // A fresh Ardour knows no plugins until its scanner (a separate program, as in the GUI)
    // has indexed the bundle.
    let mut scan = Command::new(VST3_SCANNER);
    in_work(&mut scan);
    let scanned = scan
        .env("LD_LIBRARY_PATH", ARDOUR_LIBS)
        .arg("-f")
        .arg(bundle_dir().join("Liner Notes.vst3"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run {VST3_SCANNER} ({e}): install Ardour (`apt-get install ardour`), as .ci/run does"));
    let report = String::from_utf8_lossy(&scanned.stderr).into_owned()
        + &String::from_utf8_lossy(&scanned.stdout);
    assert!(
        scanned.status.success() && report.contains("Found Plugin: Liner Notes"),
        "Ardour's VST3 scanner did not index the bundle:\n{report}"
    );
    let mut lua = Command::new(ARDOUR_LUA);
    in_work(&mut lua);
    let mut child = lua
        .arg(&script)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {ARDOUR_LUA} ({e}): install Ardour (`apt-get install ardour`), \
                 as .ci/run does"
            )
        });
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("Ardour did not finish the session within 120 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("LN closed"),
        "Ardour failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("LN "))
        .map(|l| {
            let (what, at) = l.split_once(' ').unwrap();
            (what.to_owned(), at.trim().parse().unwrap())
        })
        .collect()
}

#[test]
fn ardour_loads_the_vst3_and_its_record_pass_becomes_one_take_at_the_right_place() {
    let work = tempfile::tempdir().unwrap();
    let steps = run_ardour(work.path());
    let at = |what: &str| {
        steps
            .iter()
            .find(|(w, _)| w == what)
            .unwrap_or_else(|| panic!("no {what} in {steps:?}"))
            .1
    };
    let (record_on, record_off, stop) = (at("record_on"), at("record_off"), at("stop"));

    let journals: Vec<_> = std::fs::read_dir(work.path().join("data/journal"))
        .expect("the plugin wrote a journal")
        .map(|d| d.unwrap().path())
        .collect();
    assert_eq!(journals.len(), 1, "{journals:?}");
    let journal = liner_record::Journal::open(&journals[0]).unwrap();
    let read = journal.read().unwrap();
    assert!(read.skipped.is_empty(), "{:?}", read.skipped);
    let events: Vec<Value> = read
        .events
        .iter()
        .map(|e| serde_json::from_str(&e.json).unwrap())
        .collect();
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "transport_started",
            "take_started",
            "take_ended",
            "transport_stopped"
        ],
        "{events:#?}"
    );
    let samples = |e: &Value| e["pos"]["samples"].as_i64().unwrap();
    let (take_start, take_end, stopped) = (
        samples(&events[1]),
        samples(&events[2]),
        samples(&events[3]),
    );
    // Ardour engages recording at a cycle boundary after the request, and the Lua thread reads
    // the transport between cycles: allow a quarter of a second either way.
    let near = |got: i64, want: i64, what: &str| {
        assert!(
            (got - want).abs() <= 12_000,
            "{what} at sample {got}, Ardour said {want}: {events:#?}"
        );
    };
    near(take_start, record_on, "the take started");
    near(take_end, record_off, "the take ended");
    near(stopped, stop, "the transport stopped");
    assert!(take_start < take_end && take_end <= stopped);
    assert_eq!(events[1]["body"]["take"]["number"], 1);
    assert_eq!(events[1]["body"]["take"], events[2]["body"]["take"]);
    assert_eq!(events[1]["pos"]["recording"], true);
    // Ardour's session is 120 bpm in 4/4: every position is inside its bar (Ardour's VST3
    // side reports bar lines a bar late; the plugin counts them instead).
    for e in &events {
        let pos = &e["pos"];
        assert_eq!(pos["tempo"], 120.0, "{e}");
        let beat = pos["beat"].as_f64().unwrap();
        assert!(
            (1.0..5.0).contains(&beat),
            "beat {beat} outside its 4/4 bar: {e}"
        );
        let seconds = pos["seconds"].as_f64().unwrap();
        let beats = pos["beats"].as_f64().unwrap();
        // Ardour's two timelines agree to a sample or so (1 beat is 24,000 samples here).
        assert!((beats - seconds * 2.0).abs() < 2e-3, "{e}");
    }
}

//! The VST3 plugin in a real DAW: Ardour 7 (Debian's `ardour`), driven headless by its Lua
//! session tool `ardour7-lua` on Ardour's dummy audio backend. Ardour scans and instantiates
//! the bundle `cargo xtask test` built and inserts it on a stereo track. One session plays,
//! records a pass and stops: the plugin's journal must then hold exactly that session, at the
//! places Ardour reported. Another records noise from a bus and bounces it through the plugin:
//! the audio must come out bit-exact.
//!
//! Ardour is a test prerequisite like Xvfb (`.ci/run` installs it): without it this fails
//! and says so, rather than passing without having looked.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Debian's Ardour, any of the versions whose Lua API these scripts use (7 in Debian 12, 8
/// later): its Lua session tool, and its libraries' folder, which holds the VST3 scanner.
struct Ardour {
    lua: String,
    libs: PathBuf,
}

fn ardour() -> Ardour {
    for version in [7, 8] {
        let libs = PathBuf::from(format!("/usr/lib/ardour{version}"));
        let lua = format!("/usr/bin/ardour{version}-lua");
        if libs.join("ardour-vst3-scanner").exists() && Path::new(&lua).exists() {
            return Ardour { lua, libs };
        }
    }
    panic!(
        "Ardour 7 or 8 is not installed (no /usr/bin/ardour7-lua nor ardour8-lua): install it \
         with `apt-get install ardour`, as .ci/run does"
    );
}

/// Runs `command` in its own process group with its output in files under `work`, and kills
/// the whole group if it is still running after `limit`. Returns the status and the output.
fn run_with_limit(
    command: &mut Command,
    work: &Path,
    name: &str,
    limit: Duration,
) -> (std::process::ExitStatus, String) {
    use std::os::unix::process::CommandExt;
    let out_path = work.join(format!("{name}.out"));
    let out = std::fs::File::create(&out_path).unwrap();
    let mut child = command
        .process_group(0)
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            // SAFETY: signals the child's own process group (its pid), nothing else.
            unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
            let _ = child.wait();
            let output = std::fs::read_to_string(&out_path).unwrap_or_default();
            panic!("{name} did not finish within {limit:?}:\n{output}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    (
        status,
        std::fs::read_to_string(&out_path).unwrap_or_default(),
    )
}

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

/// Runs a session script; returns its "LN <what> <value>" lines. One Ardour at a time: the
/// take test's tolerances assume the machine is not shared with another DAW.
fn run_ardour(work: &Path, session_script: &str) -> Vec<(String, String)> {
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let script = work.join("session.lua");
    let session_dir = work.join("session");
    std::fs::write(
        &script,
        format!(
            "SESSION_DIR = {:?}\n{session_script}",
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
    let ardour = ardour();
    // A fresh Ardour knows no plugins until its scanner (a separate program, as in the GUI)
    // has indexed the bundle.
    let mut scan = Command::new(ardour.libs.join("ardour-vst3-scanner"));
    in_work(&mut scan);
    scan.env("LD_LIBRARY_PATH", &ardour.libs)
        .arg("-f")
        .arg(bundle_dir().join("Liner Notes.vst3"));
    let (status, report) = run_with_limit(&mut scan, work, "scanner", Duration::from_secs(60));
    assert!(
        status.success() && report.contains("Found Plugin: Liner Notes"),
        "Ardour's VST3 scanner did not index the bundle:\n{report}"
    );
    let mut lua = Command::new(&ardour.lua);
    in_work(&mut lua);
    lua.arg(&script);
    let (status, stdout) = run_with_limit(&mut lua, work, "ardour", Duration::from_secs(120));
    assert!(
        status.success() && stdout.contains("LN closed"),
        "Ardour failed ({status}):\n{stdout}"
    );
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("LN "))
        .map(|l| {
            let (what, value) = l.split_once(' ').unwrap();
            (what.to_owned(), value.trim().to_owned())
        })
        .collect()
}

/// Everything the plugin wrote to its journal during the session (it has one project).
fn journal_events(work: &Path) -> Vec<Value> {
    let journals: Vec<_> = std::fs::read_dir(work.join("data/journal"))
        .expect("the plugin wrote a journal")
        .map(|d| d.unwrap().path())
        .collect();
    assert_eq!(journals.len(), 1, "{journals:?}");
    let journal = liner_record::Journal::open(&journals[0]).unwrap();
    let read = journal.read().unwrap();
    assert!(read.skipped.is_empty(), "{:?}", read.skipped);
    read.events
        .iter()
        .map(|e| serde_json::from_str(&e.json).unwrap())
        .collect()
}

/// The samples of a mono 32-bit float WAV file as Ardour writes them, as raw bytes.
fn wav_samples(path: &Path) -> Vec<u8> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(&bytes[..4], b"RIFF", "{}", path.display());
    let mut at = 12;
    while at + 8 <= bytes.len() {
        let size = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
        if &bytes[at..at + 4] == b"fmt " {
            let format = u16::from_le_bytes([bytes[at + 8], bytes[at + 9]]);
            let bits = u16::from_le_bytes([bytes[at + 22], bytes[at + 23]]);
            assert_eq!((format, bits), (3, 32), "32-bit float: {}", path.display());
        }
        if &bytes[at..at + 4] == b"data" {
            return bytes[at + 8..at + 8 + size].to_vec();
        }
        at += 8 + size + (size & 1);
    }
    panic!("no data chunk in {}", path.display());
}

#[test]
fn ardour_loads_the_vst3_and_its_record_pass_becomes_one_take_at_the_right_place() {
    let work = tempfile::tempdir().unwrap();
    let steps = run_ardour(work.path(), SESSION_SCRIPT);
    let at = |what: &str| -> i64 {
        steps
            .iter()
            .find(|(w, _)| w == what)
            .unwrap_or_else(|| panic!("no {what} in {steps:?}"))
            .1
            .parse()
            .unwrap()
    };
    let (record_on, record_off, stop) = (at("record_on"), at("record_off"), at("stop"));

    let mut events = journal_events(work.path());
    // Ardour activated the plugin (a session for worked time) before it played, and
    // deactivated it when the session closed.
    let all: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(all.first(), Some(&"session_opened"), "{all:?}");
    assert_eq!(all.last(), Some(&"session_closed"), "{all:?}");
    events.retain(|e| !e["kind"].as_str().unwrap().starts_with("session_"));
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
        assert_eq!(pos["time_sig"], serde_json::json!([4, 4]), "{e}");
        let bar = pos["bar"].as_i64().unwrap();
        assert_eq!(bar, (beats / 4.0).floor() as i64 + 1, "{e}");
        assert!(
            (beats - (bar - 1) as f64 * 4.0 - (beat - 1.0)).abs() < 1e-9,
            "{e}"
        );
        // Ardour's two timelines agree to a sample or so (1 beat is 24,000 samples here).
        assert!((beats - seconds * 2.0).abs() < 2e-3, "{e}");
    }
}

/// A bus with Ardour's noise generator feeds the track, which records it; the recorded region
/// (fades off) is then bounced through the track's processing up to and including Liner
/// Notes. A control bounces it once more through the fader at half gain.
const BIT_EXACT_SCRIPT: &str = r#"
local s = create_session(SESSION_DIR, "liner", 48000)
assert(s, "Ardour could not create a session")
local track = Session:new_audio_track(2, 2, nil, 1, "Vocals",
  ARDOUR.PresentationInfo.max_order, ARDOUR.TrackMode.Normal, true):front()
local plugin = ARDOUR.LuaAPI.new_plugin(Session, "Liner Notes", ARDOUR.PluginType.VST3, "")
assert(not plugin:isnil(), "Ardour did not find the Liner Notes VST3")
assert(track:add_processor_by_index(plugin, 0, nil, true) == 0, "could not insert the plugin")
local bus = Session:new_audio_route(2, 2, nil, 1, "Source",
  ARDOUR.PresentationInfo.Flag.AudioBus, ARDOUR.PresentationInfo.max_order):front()
local noise = ARDOUR.LuaAPI.new_luaproc(Session, "ACE Noise")
assert(not noise:isnil(), "no ACE Noise")
assert(bus:add_processor_by_index(noise, 0, nil, true) == 0)
track:input():disconnect_all(nil)
for c = 0, 1 do
  assert(track:input():connect(track:input():audio(c), bus:output():audio(c):name(), nil) == 0)
end
track:rec_enable_control():set_value(1, PBD.GroupControlDisposition.NoGroup)
Session:maybe_enable_record(false)
Session:request_roll(ARDOUR.TransportRequestSource.TRS_UI)
ARDOUR.LuaAPI.usleep(1500000)
Session:request_stop(false, false, ARDOUR.TransportRequestSource.TRS_UI)
ARDOUR.LuaAPI.usleep(500000)
Session:disable_record(false, false)
local region = nil
for r in track:playlist():region_list():iter() do region = r end
assert(region, "nothing was recorded")
local audio = region:to_audioregion()
audio:set_fade_in_active(false)
audio:set_fade_out_active(false)
local from = region:position():samples()
local to = (region:position() + region:length()):samples()
local through_plugin = track:bounce_range(from, to, ARDOUR.InterThreadInfo(), plugin, true, "")
track:gain_control():set_value(0.5, PBD.GroupControlDisposition.NoGroup)
local through_fader = track:bounce_range(from, to, ARDOUR.InterThreadInfo(), track:main_outs(), true, "")
print("LN plugin_active " .. tostring(plugin:active()))
for c = 0, 1 do
  print("LN recorded " .. region:source(c):name())
  print("LN through_plugin " .. through_plugin:source(c):name())
  print("LN through_fader " .. through_fader:source(c):name())
end
Session:save_state("", false, false, false, false, false)
close_session()
print("LN closed 0")
"#;

#[test]
fn audio_recorded_in_ardour_comes_out_of_the_plugin_bit_exact() {
    let work = tempfile::tempdir().unwrap();
    let steps = run_ardour(work.path(), BIT_EXACT_SCRIPT);
    // Ardour names the interchange folder after the session folder.
    let audio_files = work.path().join("session/interchange/session/audiofiles");
    let files = |what: &str| -> Vec<PathBuf> {
        let found: Vec<_> = steps
            .iter()
            .filter(|(w, _)| w == what)
            .map(|(_, name)| audio_files.join(name))
            .collect();
        assert_eq!(found.len(), 2, "{what}: {steps:?}");
        found
    };
    // The plugin was in the chain and running: active, and it saw the take.
    assert!(
        steps.contains(&("plugin_active".to_owned(), "true".to_owned())),
        "{steps:?}"
    );
    let kinds: Vec<String> = journal_events(work.path())
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect();
    assert!(kinds.iter().any(|k| k == "take_started"), "{kinds:?}");
    let (recorded, through_plugin, through_fader) = (
        files("recorded"),
        files("through_plugin"),
        files("through_fader"),
    );
    for c in 0..2 {
        let input = wav_samples(&recorded[c]);
        let samples: Vec<f32> = input
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
            .collect();
        assert!(
            samples.len() > 48_000,
            "over a second recorded: {}",
            samples.len()
        );
        let nonzero = samples.iter().filter(|s| **s != 0.0).count();
        assert!(
            nonzero > samples.len() * 9 / 10,
            "noise was recorded: {nonzero}"
        );
        let output = wav_samples(&through_plugin[c]);
        assert_eq!(output.len(), input.len());
        let first_difference = input.iter().zip(&output).position(|(a, b)| a != b);
        assert_eq!(first_difference, None, "channel {c}: not bit-exact");
        // The control: the same comparison sees the fader's half gain.
        assert_ne!(
            wav_samples(&through_fader[c]),
            input,
            "channel {c}: the control"
        );
    }
}

//! The soak: 10,000,000 `process()` calls of the release plugin (stereo, 64 frames) with the
//! transport starting and stopping, record passes and a mark pedal, as a long session would
//! have them. Reports resident memory after the first million calls and at the end (no growth
//! allowed beyond noise), the events captured against those the script produced, and the
//! events dropped (none allowed).
//!
//! Run with `cargo xtask benchmarks`, or `cargo bench --bench soak` after `cargo xtask bench`
//! (`LINER_SOAK_CALLS` for another length).

#[path = "../tests/common/host.rs"]
mod host;
#[path = "../tests/common/reaper.rs"]
mod reaper;
#[path = "common/release.rs"]
mod release;

use host::{capture_log, Instance, Timeline, CLAP_ID};
use std::time::{Duration, Instant};

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let calls: u64 = std::env::var("LINER_SOAK_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000);
    // Fresh data and config folders: the soak's instance opens a new project, not the last one
    // used.
    let folders = tempfile::tempdir().unwrap();
    std::env::set_var("LINER_NOTES_DATA_DIR", folders.path().join("data"));
    std::env::set_var("LINER_NOTES_CONFIG_DIR", folders.path().join("config"));
    let mut plugin =
        Instance::from_library(&release::release_library("release", "liner_notes"), CLAP_ID);
    let mark = plugin.param_id("Mark");
    let mut p = plugin.activate(48_000.0, 64, 2);
    let mut t = Timeline::new(48_000.0, 120.0, (4, 4));
    let (mut pos, mut expected) = (0i64, 0u64);
    let mut after_first_million = 0.0;
    let started = Instant::now();
    for call in 0..calls {
        // At 64 frames, 48 kHz: every 200,000 calls (4.4 minutes) the transport stops for
        // 2,000 calls and starts again; every 50,000 calls (67 s) a record pass starts or
        // ends; every 20,000 calls (27 s) the mark pedal is pressed and released.
        let was = (t.playing, t.recording);
        t.playing = call % 200_000 < 198_000;
        t.recording = t.playing && (call / 50_000) % 2 == 1;
        expected += (was.0 != t.playing) as u64 + (was.1 != t.recording) as u64;
        if call % 20_000 == 10 {
            p.set_param(0, mark, 1.0);
            expected += 1;
        }
        if call % 20_000 == 11 {
            p.set_param(0, mark, 0.0);
        }
        p.process(64, Some(&t.at(pos)));
        if t.playing {
            pos += 64;
        }
        if call == 1_000_000 {
            after_first_million = release::resident_mib();
        }
        if call % 100_000 == 0 {
            // Let the host's main thread answer the plugin's requests, as a DAW's loop does.
            plugin.run_main_thread_callback();
        }
    }
    let took = started.elapsed();
    std::thread::sleep(Duration::from_millis(500));
    let after_churn = release::resident_mib();
    // The quiet hour: 1,000,000 more calls, transport rolling, nothing to capture. Whatever
    // the audio path or the worker leaked per block would show here alone.
    let quiet = 1_000_000;
    expected += (!t.playing) as u64;
    t.playing = true;
    for call in 0..quiet {
        p.process(64, Some(&t.at(pos)));
        pos += 64;
        if call % 100_000 == 0 {
            plugin.run_main_thread_callback();
        }
    }
    std::thread::sleep(Duration::from_millis(500));
    let after_quiet = release::resident_mib();
    // Deactivating ends what is still running: the take, then the transport.
    expected += t.playing as u64 + t.recording as u64;
    plugin.deactivate(p);
    let log = capture_log(&plugin.save_state());
    let audio_events = log["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| !e["kind"].as_str().unwrap().starts_with("session_"))
        .count() as u64;
    if std::env::var_os("LINER_SOAK_KINDS").is_some() {
        for e in log["events"].as_array().unwrap() {
            eprintln!("{} {}", e["kind"], e["at"]);
        }
    }
    let dropped = log["dropped"].as_u64().unwrap();
    let churn_growth = after_churn - after_first_million;
    let quiet_growth = after_quiet - after_churn;
    println!(
        "{calls} process() calls with churn in {:.1} s: events captured {audio_events} of the \
         {expected} the session made (transport starts and stops, takes started and ended, \
         marks), dropped {dropped}; resident {after_first_million:.1} MiB after 1,000,000 calls, \
         {after_churn:.1} MiB after the churn ({churn_growth:+.2} MiB: the events the instance \
         keeps for the project file, about {:.1} KiB each)",
        took.as_secs_f64(),
        churn_growth * 1024.0 / audio_events.max(1) as f64,
    );
    println!(
        "{quiet} more calls, rolling, nothing captured: {after_quiet:.1} MiB ({quiet_growth:+.2} MiB)"
    );
    assert_eq!(dropped, 0, "events were dropped");
    assert_eq!(
        audio_events, expected,
        "events captured differ from the session's"
    );
    assert!(
        quiet_growth < 0.1,
        "resident memory grew by {quiet_growth:.2} MiB with nothing captured"
    );
    assert!(
        churn_growth < audio_events as f64 * 4.0 / 1024.0 + 0.25,
        "resident memory grew by {churn_growth:.2} MiB for {audio_events} events"
    );
}

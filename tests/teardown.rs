//! Removing the last plugin instance must not freeze the DAW. The instance's sync thread spends
//! most of its life inside a request (a long poll, or a server that stopped answering); the
//! host's main thread, which destroys the plugin, must not wait for that request to end.
//!
//! Alone in its test binary, so this instance is the process's only one and its removal stops
//! the shared worker.

mod common;

use common::host::{capture_log, Instance, Timeline};
use serde_json::Value;
use std::io::Read;
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// A server that accepts connections, reads the requests and never answers (the fault a
/// stalled or overloaded server, or a half-open connection, presents). Counts connections.
fn stalled_server() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            count.fetch_add(1, Ordering::SeqCst);
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while matches!(conn.read(&mut buf), Ok(n) if n > 0) {}
            });
        }
    });
    (url, accepted)
}

#[test]
fn removing_the_last_instance_does_not_wait_for_a_stalled_sync_request() {
    let (url, accepted) = stalled_server();
    let config = std::path::PathBuf::from(std::env::var("LINER_NOTES_CONFIG_DIR").unwrap());
    liner_notes::settings::store_token_in(&config, &url, "ln_never_checked").unwrap();

    let mut plugin = Instance::new();
    plugin.edit_settings(|settings| {
        settings["project"] = Value::String(format!("Teardown {}", Uuid::now_v7()));
        settings["server_url"] = Value::String(url.clone());
    });
    // A take, so there is something to push: the sync thread's request then hangs.
    let mut p = plugin.activate(48_000.0, 256, 2);
    let mut t = Timeline::new(48_000.0, 120.0, (4, 4));
    t.playing = true;
    for block in 0..20 {
        t.recording = (5..15).contains(&block);
        p.process(256, Some(&t.at(block * 256)));
    }
    plugin.deactivate(p);
    let events = capture_log(&plugin.save_state())["events"]
        .as_array()
        .map_or(0, Vec::len);
    assert!(events >= 2, "the take was captured ({events} events)");

    let deadline = Instant::now() + Duration::from_secs(20);
    while accepted.load(Ordering::SeqCst) == 0 {
        assert!(
            Instant::now() < deadline,
            "the sync thread never connected to {url}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // Let the request be well under way (sent, waiting for an answer that never comes).
    std::thread::sleep(Duration::from_millis(300));

    let started = Instant::now();
    drop(plugin);
    let took = started.elapsed();
    // Before cancellation, this waited for the request's timeout: 11 s. A bound far from both
    // that and zero: the point is "does not wait for the server", not a speed.
    assert!(
        took < Duration::from_secs(3),
        "destroying the last instance took {took:?}: it waited for the sync request"
    );
}

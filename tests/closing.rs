//! The last note leaves: closing the DAW right after a mark still puts it on the server when
//! the server is answering, and never holds the close up for long when it is not (the mark
//! then goes with the next load).
//!
//! Alone in its test binary, so each instance here is the process's only one and removing it
//! stops the shared worker (and runs its last push).

mod common;

use common::host::{instance_for, Instance, Timeline};
use liner_record::event::Body;
use liner_record::Role;
use liner_test_support::{wait_until, Server};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// A TCP relay to the server that can turn into a black hole: connections are then accepted
/// and read, and never answered (a server that stopped answering).
struct Relay {
    url: String,
    silent: Arc<AtomicBool>,
}

impl Relay {
    fn start(to: std::net::SocketAddr) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let silent = Arc::new(AtomicBool::new(false));
        let quiet = silent.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut client) = conn else { continue };
                if quiet.load(Ordering::SeqCst) {
                    std::thread::spawn(move || {
                        let mut buf = [0u8; 4096];
                        while matches!(client.read(&mut buf), Ok(n) if n > 0) {}
                    });
                    continue;
                }
                let Ok(server) = TcpStream::connect(to) else {
                    continue;
                };
                let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                let (up, down) = (quiet.clone(), quiet.clone());
                std::thread::spawn(move || forward(client, server, &up));
                std::thread::spawn(move || forward(s2, c2, &down));
            }
        });
        Relay { url, silent }
    }
}

/// Copies `from` to `to` until `from` ends; once `quiet` is set, what arrives is read and
/// dropped, so a connection opened before the silence (a kept-alive one) goes silent too.
fn forward(mut from: TcpStream, mut to: TcpStream, quiet: &AtomicBool) {
    let mut buf = [0u8; 16 * 1024];
    while let Ok(n @ 1..) = from.read(&mut buf) {
        if !quiet.load(Ordering::SeqCst) && to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(std::net::Shutdown::Write);
}

/// The marks stored on the server in `project`.
fn marks_on(server: &Server, project: &str) -> usize {
    server
        .events(project)
        .iter()
        .filter(|e| matches!(e.body, Body::Mark { .. }))
        .count()
}

/// One mark: the footswitch down and up within a few blocks.
fn mark_once(plugin: &mut Instance) {
    let mark = plugin.param_id("Mark");
    let mut p = plugin.activate(48_000.0, 256, 2);
    let t = Timeline::new(48_000.0, 120.0, (4, 4));
    p.set_param(0, mark, 1.0);
    p.process(256, Some(&t.at(0)));
    p.set_param(0, mark, 0.0);
    p.process(256, Some(&t.at(256)));
    plugin.deactivate(p);
}

#[test]
fn the_last_mark_leaves_with_the_close_or_waits_for_the_next_load() {
    let server = Server::start();
    let project = format!("Closing {}", Uuid::now_v7());
    let token = server.token(&project, "Pat", Role::Producer);
    let relay = Relay::start(server.addr());
    let config = std::path::PathBuf::from(std::env::var("LINER_NOTES_CONFIG_DIR").unwrap());
    liner_notes::settings::store_token_in(&config, &relay.url, &token).unwrap();

    // The server answers: a first mark shows it, then the last one goes with the close.
    let mut plugin = instance_for(&project, &relay.url);
    mark_once(&mut plugin);
    wait_until(
        "the first mark on the server",
        Duration::from_secs(20),
        || marks_on(&server, &project) == 1,
    );
    mark_once(&mut plugin);
    let closing = Instant::now();
    drop(plugin);
    eprintln!("closing with the server up took {:?}", closing.elapsed());
    assert_eq!(
        marks_on(&server, &project),
        2,
        "the last mark left with the close"
    );

    // The server stops answering: the close is not held up past the bound.
    let mut plugin = instance_for(&project, &relay.url);
    mark_once(&mut plugin);
    wait_until(
        "the third mark on the server",
        Duration::from_secs(20),
        || marks_on(&server, &project) == 3,
    );
    relay.silent.store(true, Ordering::SeqCst);
    mark_once(&mut plugin);
    let saved = plugin.save_state();
    let closing = Instant::now();
    drop(plugin);
    let took = closing.elapsed();
    eprintln!("closing with the server silent took {took:?}");
    assert!(
        took < Duration::from_millis(2500),
        "the close waited {took:?}"
    );
    assert_eq!(marks_on(&server, &project), 3);

    // The next load sends it.
    relay.silent.store(false, Ordering::SeqCst);
    let mut plugin = Instance::new();
    plugin.load_state(&saved);
    wait_until(
        "the waiting mark sent by the next load",
        Duration::from_secs(20),
        || marks_on(&server, &project) == 4,
    );
    drop(plugin);
}

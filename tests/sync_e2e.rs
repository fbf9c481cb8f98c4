//! End to end: the real `liner` server (in-process on 127.0.0.1:0), the real plugin through
//! the CLAP harness. A take and a mark captured in the plugin arrive on the server exactly
//! once; a verdict given with an executive token arrives back in the plugin's journal.

mod common;

use common::host::{capture_log, Instance, Timeline};
use liner_record::event::{Body, Context, Event, Verdict};
use liner_record::sync::{sync_once, SyncClient};
use liner_record::{Journal, Role};
use liner_test_support::{wait_until, Server};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

#[test]
fn a_take_and_a_mark_reach_the_server_once_and_a_verdict_comes_back_to_the_plugin() {
    let s = Server::start();
    let project = format!("E2E {}", Uuid::now_v7());
    let producer_token = s.token(&project, "Sam", Role::Producer);
    let exec_token = s.token(&project, "Eve", Role::Executive);
    // The token lives in the user's config folder (cargo points it under target/), filed
    // under the server's origin.
    let config = std::path::PathBuf::from(std::env::var("LINER_NOTES_CONFIG_DIR").unwrap());
    liner_notes::settings::store_token_in(&config, &s.url, &producer_token).unwrap();

    // The plugin, set up for this project and server (as a loaded project would be).
    let mut plugin = Instance::new();
    plugin.edit_settings(|settings| {
        settings["project"] = Value::String(project.clone());
        settings["author"] = Value::String("Sam".into());
        settings["role"] = Value::String("producer".into());
        settings["server_url"] = Value::String(s.url.clone());
    });

    let mark = plugin.param_id("Mark");
    let mut p = plugin.activate(48_000.0, 256, 2);
    let mut t = Timeline::new(48_000.0, 120.0, (4, 4));
    t.playing = true;
    for block in 0..30 {
        t.recording = (5..20).contains(&block);
        if block == 10 {
            p.set_param(3, mark, 1.0);
        }
        p.process(256, Some(&t.at(block * 256)));
    }
    let instance = capture_log(&plugin.save_state())["instance"]
        .as_str()
        .unwrap()
        .to_owned();

    let mine = |kind: &str| {
        s.stored(&project)
            .iter()
            .map(|json| serde_json::from_str::<Value>(json).unwrap())
            .filter(|e| e["kind"] == kind && e.to_string().contains(&instance))
            .count()
    };
    wait_until(
        "the take and the mark on the server",
        Duration::from_secs(20),
        || mine("take_started") == 1 && mine("take_ended") == 1 && mine("mark") == 1,
    );
    // A few more sync rounds change nothing: exactly once.
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(
        (mine("take_started"), mine("take_ended"), mine("mark")),
        (1, 1, 1)
    );

    // The executive producer approves the take from elsewhere.
    let take_started = s
        .events(&project)
        .into_iter()
        .find(|e| matches!(e.body, Body::TakeStarted { .. }))
        .unwrap();
    let exec_dir = tempfile::tempdir().unwrap();
    let exec_journal = Journal::open(exec_dir.path()).unwrap();
    let verdict = Event::new(
        &Context {
            project: project.clone(),
            song: take_started.song.clone(),
            track: take_started.track.clone(),
            session: Uuid::now_v7(),
            author: "Eve".into(),
            role: Role::Executive,
        },
        None,
        Body::Verdict {
            target: take_started.id,
            verdict: Verdict::Approved,
            comment: "that's the one".into(),
        },
    );
    exec_journal.append(std::slice::from_ref(&verdict)).unwrap();
    let exec_client = SyncClient::new(&s.url, &exec_token, Duration::from_secs(10)).unwrap();
    assert_eq!(
        sync_once(&exec_journal, &project, &exec_client, Duration::ZERO)
            .unwrap()
            .pushed,
        1
    );

    // It arrives in the plugin's journal on this machine.
    let journal = Journal::open_project(&project).unwrap();
    wait_until(
        "the verdict in the plugin's journal",
        Duration::from_secs(20),
        || journal.scan().unwrap().ids.contains(&verdict.id),
    );
    let read = journal.read().unwrap();
    let views = liner_record::fold(read.events.iter().map(|e| &e.event));
    let take = views
        .takes
        .iter()
        .find(|t| t.id == Some(take_started.id))
        .unwrap();
    assert_eq!(take.verdict.as_ref().unwrap().comment, "that's the one");
    plugin.deactivate(p);
}

/// A server (or proxy) that answers every long poll at once with nothing is asked a few times
/// a second, not thousands (the plugin once sent ~6,000 requests in 4 s to such a server).
#[test]
fn a_server_answering_long_polls_at_once_is_not_hammered() {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let project = format!("Pace {}", Uuid::now_v7());
    let polls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    {
        let (polls, project) = (polls.clone(), project.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let (polls, project) = (polls.clone(), project.clone());
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(conn.try_clone().unwrap());
                    let mut out = conn;
                    loop {
                        let mut request = String::new();
                        if reader.read_line(&mut request).unwrap_or(0) == 0 {
                            return;
                        }
                        let mut length = 0;
                        loop {
                            let mut h = String::new();
                            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                                return;
                            }
                            if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:")
                            {
                                length = v.trim().parse().unwrap_or(0);
                            }
                            if h == "\r\n" {
                                break;
                            }
                        }
                        let mut body = vec![0u8; length];
                        std::io::Read::read_exact(&mut reader, &mut body).unwrap();
                        let answer = if request.starts_with("GET /api/v1/me") {
                            serde_json::json!({"person": "Pat", "role": "producer", "project": project})
                                .to_string()
                        } else if request.starts_with("GET /api/v1/events") {
                            polls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            r#"{"events":[],"last_seq":0}"#.to_owned()
                        } else {
                            r#"{"results":[]}"#.to_owned()
                        };
                        let _ = write!(
                            out,
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{answer}",
                            answer.len()
                        );
                    }
                });
            }
        });
    }
    let config = std::path::PathBuf::from(std::env::var("LINER_NOTES_CONFIG_DIR").unwrap());
    liner_notes::settings::store_token_in(&config, &url, "ln_impatient").unwrap();
    let mut plugin = Instance::new();
    plugin.edit_settings(|settings| {
        settings["project"] = Value::String(project.clone());
        settings["server_url"] = Value::String(url.clone());
    });
    wait_until("a first poll", Duration::from_secs(20), || {
        polls.load(std::sync::atomic::Ordering::SeqCst) > 0
    });
    let start = polls.load(std::sync::atomic::Ordering::SeqCst);
    std::thread::sleep(Duration::from_secs(3));
    let in_three_seconds = polls.load(std::sync::atomic::Ordering::SeqCst) - start;
    eprintln!("{in_three_seconds} polls in 3 s");
    assert!(
        (3..=3 * liner_notes::worker::MAX_POLLS_PER_SECOND as usize + 2)
            .contains(&in_three_seconds),
        "{in_three_seconds} polls in 3 s"
    );
    drop(plugin);
}

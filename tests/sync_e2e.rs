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

/// A TCP relay in front of a real server that keeps every byte clients send through it (so
/// the test can count the requests the plugin makes, the real server answering them), and
/// can be cut: its connections closed and new ones refused, until it is restored.
struct Relay {
    url: String,
    sent: Arc<std::sync::Mutex<Vec<u8>>>,
    cut: Arc<std::sync::atomic::AtomicBool>,
    open: Arc<std::sync::Mutex<Vec<std::net::TcpStream>>>,
}

impl Relay {
    fn to(server: std::net::SocketAddr) -> Relay {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let relay = Relay {
            url: format!("http://{}", listener.local_addr().unwrap()),
            sent: Arc::default(),
            cut: Arc::default(),
            open: Arc::default(),
        };
        let (sent, cut, open) = (relay.sent.clone(), relay.cut.clone(), relay.open.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(client) = conn else { continue };
                if cut.load(std::sync::atomic::Ordering::SeqCst) {
                    continue; // dropped: closed at once
                }
                let Ok(server) = std::net::TcpStream::connect(server) else {
                    continue;
                };
                open.lock().unwrap().push(client.try_clone().unwrap());
                let (mut from_client, mut to_client) = (client.try_clone().unwrap(), client);
                let (mut to_server, mut from_server) = (server.try_clone().unwrap(), server);
                let sent = sent.clone();
                std::thread::spawn(move || {
                    let mut buf = [0u8; 16 * 1024];
                    while let Ok(n @ 1..) = std::io::Read::read(&mut from_client, &mut buf) {
                        sent.lock().unwrap().extend_from_slice(&buf[..n]);
                        if std::io::Write::write_all(&mut to_server, &buf[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = to_server.shutdown(std::net::Shutdown::Both);
                });
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut from_server, &mut to_client);
                    let _ = to_client.shutdown(std::net::Shutdown::Both);
                });
            }
        });
        relay
    }

    /// How many requests began with `line` (a method and a path, then a space).
    fn count(&self, line: &str) -> usize {
        let sent = self.sent.lock().unwrap();
        sent.windows(line.len())
            .filter(|w| *w == line.as_bytes())
            .count()
    }

    fn cut(&self) {
        self.cut.store(true, std::sync::atomic::Ordering::SeqCst);
        for c in self.open.lock().unwrap().drain(..) {
            let _ = c.shutdown(std::net::Shutdown::Both);
        }
    }

    fn restore(&self) {
        self.cut.store(false, std::sync::atomic::Ordering::SeqCst);
    }
}

/// The push thread asks the server who its token speaks for once, not before every push:
/// five marks, each pushed in a round of its own, cost one `GET /api/v1/me`. A round that
/// fails forgets the answer (the next one asks again), and so does another token.
#[test]
fn the_push_thread_asks_who_its_token_speaks_for_once_not_every_round() {
    let s = Server::start();
    let relay = Relay::to(s.addr());
    let project = format!("Once {}", Uuid::now_v7());
    let config = std::path::PathBuf::from(std::env::var("LINER_NOTES_CONFIG_DIR").unwrap());
    let token = s.token(&project, "Sam", Role::Producer);
    liner_notes::settings::store_token_in(&config, &relay.url, &token).unwrap();
    let mut plugin = Instance::new();
    plugin.edit_settings(|settings| {
        settings["project"] = Value::String(project.clone());
        settings["author"] = Value::String("Sam".into());
        settings["role"] = Value::String("producer".into());
        settings["server_url"] = Value::String(relay.url.clone());
    });
    let mark = plugin.param_id("Mark");
    let mut p = plugin.activate(48_000.0, 256, 2);
    let mut t = Timeline::new(48_000.0, 120.0, (4, 4));
    t.playing = true;
    let mut block = 0;
    // A mark: the button pressed, then let go.
    let mut mark_now = |p: &mut common::host::Processor| {
        for value in [1.0, 0.0] {
            p.set_param(0, mark, value);
            p.process(256, Some(&t.at(block * 256)));
            block += 1;
        }
    };
    let marks = |s: &Server| {
        s.events(&project)
            .iter()
            .filter(|e| matches!(e.body, Body::Mark { .. }))
            .count()
    };
    let asked = || relay.count("GET /api/v1/me ");
    let stored = |n: usize| {
        wait_until("the mark on the server", Duration::from_secs(30), || {
            marks(&s) == n
        });
    };
    for n in 1..=5 {
        mark_now(&mut p);
        stored(n);
    }
    let pushes = relay.count("POST /api/v1/events ");
    assert!(pushes >= 5, "{pushes} pushes");
    let once = asked();
    assert_eq!(once, 1, "asked {once} times for {pushes} pushes");

    // A round that fails: the server out of reach for a moment.
    relay.cut();
    mark_now(&mut p);
    std::thread::sleep(Duration::from_millis(300));
    relay.restore();
    stored(6);
    assert_eq!(asked(), 2, "asked again after the failed round, once");

    // Another token for the server: asked about before it pushes.
    let other = s.token(&project, "Sam", Role::Producer);
    liner_notes::settings::store_token_in(&config, &relay.url, &other).unwrap();
    mark_now(&mut p);
    stored(7);
    assert_eq!(asked(), 3, "asked about the new token, once");
    mark_now(&mut p);
    stored(8);
    assert_eq!(asked(), 3);
    plugin.deactivate(p);
}

//! Journals syncing through the real server: offline-first, exactly once, verdicts flow back.

mod common;

use common::Server;
use liner_record::event::{Body, Category, Context, Event, NoteAdded, Verdict};
use liner_record::sync::{sync_once, SyncCancel, SyncClient, SyncError, SyncReport, TargetSync};
use liner_record::{Journal, Role};
use std::sync::Arc;
use std::time::Duration;

fn note(author: &str, role: Role, text: &str, private: bool) -> Event {
    Event::new(
        &Context {
            project: "P".into(),
            song: "S".into(),
            track: "T".into(),
            session: uuid::Uuid::now_v7(),
            author: author.into(),
            role,
        },
        None,
        Body::NoteAdded(NoteAdded {
            text: text.into(),
            category: Category::Take,
            anchor: None,
            take: None,
            private,
            version: None,
            guest: None,
        }),
    )
}

fn client(url: &str, token: &str) -> SyncClient {
    SyncClient::new(url, token, Duration::from_secs(10)).unwrap()
}

#[test]
fn notes_reach_the_server_once_and_the_executives_verdict_comes_back() {
    let s = Server::start();
    s.store.create_project("P").unwrap();
    let producer_token = s.store.add_token("P", "Sam", Role::Producer).unwrap().1;
    let exec_token = s.store.add_token("P", "Eve", Role::Executive).unwrap().1;

    let producer_dir = tempfile::tempdir().unwrap();
    let producer = Journal::open(producer_dir.path()).unwrap();
    let take_note = note("Sam", Role::Producer, "take 3 is the one", false);
    let secret = note("Sam", Role::Producer, "private: do not share", true);
    producer
        .append(&[take_note.clone(), secret.clone()])
        .unwrap();
    let pc = client(&s.url, &producer_token);
    let r = sync_once(&producer, "P", &pc, Duration::ZERO).unwrap();
    assert_eq!(r.pushed, 1, "{r:?}");
    // Again: nothing new goes out, nothing is stored twice.
    let r = sync_once(&producer, "P", &pc, Duration::ZERO).unwrap();
    assert_eq!(r.pushed, 0);
    let project = s.store.project("P").unwrap().unwrap();
    let stored = s.store.pull(&project, 0, 100).unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].1, take_note.to_json());

    // The executive's side pulls the note and gives a verdict.
    let exec_dir = tempfile::tempdir().unwrap();
    let exec = Journal::open(exec_dir.path()).unwrap();
    let ec = client(&s.url, &exec_token);
    let r = sync_once(&exec, "P", &ec, Duration::ZERO).unwrap();
    assert_eq!(r.pulled, 1);
    let verdict = Event::new(
        &Context {
            project: "P".into(),
            song: "S".into(),
            track: "T".into(),
            session: uuid::Uuid::now_v7(),
            author: "Eve".into(),
            role: Role::Executive,
        },
        None,
        Body::Verdict {
            target: take_note.id,
            verdict: Verdict::Approved,
            comment: "yes".into(),
        },
    );
    exec.append(std::slice::from_ref(&verdict)).unwrap();
    sync_once(&exec, "P", &ec, Duration::ZERO).unwrap();

    // The producer's journal receives it, byte for byte, and its views show it.
    let r = sync_once(&producer, "P", &pc, Duration::ZERO).unwrap();
    assert_eq!(r.pulled, 1);
    let events = producer.read().unwrap().events;
    let got = events.iter().find(|e| e.id == verdict.id).unwrap();
    assert_eq!(got.json, verdict.to_json());
    let views = liner_record::fold(events.iter().map(|e| &e.event));
    let n = views.notes.iter().find(|n| n.id == take_note.id).unwrap();
    assert_eq!(n.verdict.as_ref().unwrap().verdict, Verdict::Approved);
    // The private note never left the machine.
    assert!(!stored.iter().any(|(_, json)| json.contains("private")));
    assert!(producer
        .unacked_by(&s.url)
        .unwrap()
        .iter()
        .any(|e| e.id == secret.id));
}

#[test]
fn edits_and_deletions_of_private_notes_stay_on_this_computer_too() {
    use liner_record::event::NoteEdited;
    let s = Server::start();
    s.store.create_project("P").unwrap();
    let token = s.store.add_token("P", "Sam", Role::Producer).unwrap().1;
    let dir = tempfile::tempdir().unwrap();
    let journal = Journal::open(dir.path()).unwrap();
    let public = note("Sam", Role::Producer, "louder snare", false);
    let secret = note("Sam", Role::Producer, "the label hates it", true);
    let ctx = Context {
        project: "P".into(),
        song: "S".into(),
        track: "T".into(),
        session: uuid::Uuid::now_v7(),
        author: "Sam".into(),
        role: Role::Producer,
    };
    let edit = |note: uuid::Uuid, text: &str| {
        Event::new(
            &ctx,
            None,
            Body::NoteEdited(NoteEdited {
                note,
                text: Some(text.into()),
                category: None,
                anchor: None,
            }),
        )
    };
    let secret_edit = edit(secret.id, "the label really hates it");
    let public_edit = edit(public.id, "much louder snare");
    let secret_delete = Event::new(&ctx, None, Body::NoteDeleted { note: secret.id });
    journal
        .append(&[
            public.clone(),
            secret.clone(),
            secret_edit,
            public_edit.clone(),
            secret_delete,
        ])
        .unwrap();
    let r = sync_once(&journal, "P", &client(&s.url, &token), Duration::ZERO).unwrap();
    assert_eq!(r.pushed, 2, "{r:?}");
    let project = s.store.project("P").unwrap().unwrap();
    let stored: Vec<String> = s
        .store
        .pull(&project, 0, 100)
        .unwrap()
        .into_iter()
        .map(|(_, json)| json)
        .collect();
    assert_eq!(stored, [public.to_json(), public_edit.to_json()]);
    assert!(!stored.iter().any(|j| j.contains(&secret.id.to_string())));
}

#[test]
fn with_the_server_down_notes_wait_and_go_out_when_it_is_back() {
    let db = tempfile::tempdir().unwrap();
    // Find a free port, then leave it closed: the server is down.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let token = {
        let store = common::open_store(db.path());
        store.create_project("P").unwrap();
        store.add_token("P", "Sam", Role::Producer).unwrap().1
    };
    let dir = tempfile::tempdir().unwrap();
    let j = Journal::open(dir.path()).unwrap();
    let events: Vec<Event> = (0..3)
        .map(|i| note("Sam", Role::Producer, &format!("n{i}"), false))
        .collect();
    j.append(&events).unwrap();
    let c = client(&format!("http://{addr}"), &token);
    let err = sync_once(&j, "P", &c, Duration::ZERO).unwrap_err();
    assert!(matches!(err, SyncError::Unreachable(_)), "{err}");
    assert!(err.to_string().contains("cannot be reached"));
    assert_eq!(j.unacked_by(&format!("http://{addr}")).unwrap().len(), 3);

    let s = Server::start_in(db, &addr, Default::default());
    let r = sync_once(&j, "P", &c, Duration::ZERO).unwrap();
    assert_eq!(r.pushed, 3);
    assert!(j.unacked_by(&format!("http://{addr}")).unwrap().is_empty());
    let project = s.store.project("P").unwrap().unwrap();
    assert_eq!(s.store.pull(&project, 0, 10).unwrap().len(), 3);
}

/// Acknowledgements are not flushed to the disk (one flush fewer per push round): a power cut
/// can take the last of them, and leave a torn or zeroed tail in their place. What follows
/// must cost a resend and nothing else: the server answers `duplicate`, stores nothing twice,
/// and the journal ends with every event acknowledged.
#[test]
fn acknowledgements_lost_to_a_power_cut_cost_a_resend_never_a_second_copy() {
    let s = Server::start();
    s.store.create_project("P").unwrap();
    let token = s.store.add_token("P", "Sam", Role::Producer).unwrap().1;
    let dir = tempfile::tempdir().unwrap();
    let j = Journal::open(dir.path()).unwrap();
    let events: Vec<Event> = (0..10)
        .map(|i| note("Sam", Role::Producer, &format!("n{i}"), false))
        .collect();
    j.append(&events).unwrap();
    let c = client(&s.url, &token);
    let mut target = TargetSync::open(&j, &s.url, "P").unwrap();
    let mut report = SyncReport::new(c.me().unwrap());
    let flushed = j.fsync_count();
    target.push(&c, &mut report).unwrap();
    assert_eq!(report.pushed, 10);
    assert_eq!(
        j.fsync_count(),
        flushed,
        "a push round flushes nothing to the disk"
    );
    // The power cut, before any pull: the first 3 acknowledgements reached the disk, the 4th
    // half, then zeros where the rest were.
    let acks = j.sync_files(&s.url, "P").unwrap().dir().join("acks.log");
    let text = std::fs::read(&acks).unwrap();
    let line = text.iter().position(|b| *b == b'\n').unwrap() + 1;
    assert_eq!(text.len(), 10 * line, "one line per acknowledgement");
    let mut cut = text[..3 * line + line / 2].to_vec();
    cut.extend(std::iter::repeat_n(0u8, 100));
    std::fs::write(&acks, &cut).unwrap();
    assert_eq!(j.unacked_by(&s.url).unwrap().len(), 7);

    // The next round sends the lost ones again. Its pull brings our own events back and moves
    // the cursor past them: their acknowledgements are flushed first, or a power cut then
    // could leave them unacknowledged with no pull ever bringing them back (only a resend,
    // with whatever token is set by then).
    let flushed = j.fsync_count();
    let r = sync_once(&j, "P", &c, Duration::ZERO).unwrap();
    assert_eq!(r.pushed, 7, "the lost ones went again: {r:?}");
    assert!(r.refused.is_empty(), "{r:?}");
    assert_eq!(r.pulled, 0, "our own events are not journaled twice");
    assert_eq!(
        j.fsync_count(),
        flushed + 1,
        "the acknowledgements are flushed before the cursor passes our own events"
    );
    assert!(j.unacked_by(&s.url).unwrap().is_empty());
    let project = s.store.project("P").unwrap().unwrap();
    let stored = s.store.pull(&project, 0, 100).unwrap();
    let mut stored_ids: Vec<String> = stored.iter().map(|(_, json)| json.clone()).collect();
    stored_ids.sort();
    let mut sent: Vec<String> = events.iter().map(Event::to_json).collect();
    sent.sort();
    assert_eq!(stored_ids, sent, "each event stored once, byte for byte");
    // Nothing goes a third time.
    assert_eq!(sync_once(&j, "P", &c, Duration::ZERO).unwrap().pushed, 0);
}

#[test]
fn a_wrong_token_is_explained_and_not_retried_blindly() {
    let s = Server::start();
    s.store.create_project("P").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let j = Journal::open(dir.path()).unwrap();
    j.append(&[note("Sam", Role::Producer, "x", false)])
        .unwrap();
    let err = sync_once(&j, "P", &client(&s.url, "ln_nope"), Duration::ZERO).unwrap_err();
    assert!(matches!(err, SyncError::BadToken));
    assert!(err.to_string().contains("token"));
}

#[test]
fn a_cancelled_long_poll_ends_at_once_and_leaves_the_journal_as_it_was() {
    let s = Server::start();
    s.store.create_project("P").unwrap();
    let token = s.store.add_token("P", "Sam", Role::Producer).unwrap().1;
    let dir = tempfile::tempdir().unwrap();
    let j = Journal::open(dir.path()).unwrap();
    j.append(&[note("Sam", Role::Producer, "before", false)])
        .unwrap();
    let cancel = SyncCancel::new();
    let c = client(&s.url, &token).with_cancel(cancel.clone());
    assert_eq!(sync_once(&j, "P", &c, Duration::ZERO).unwrap().pushed, 1);
    // Caught up, nothing new on the server: the pull waits its whole 8 s unless cancelled.
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        cancel.cancel();
    });
    let started = std::time::Instant::now();
    let err = sync_once(&j, "P", &c, Duration::from_secs(8)).unwrap_err();
    let took = started.elapsed();
    canceller.join().unwrap();
    assert!(matches!(err, SyncError::Cancelled), "{err}");
    assert!(
        took < Duration::from_secs(4),
        "the long poll was not cut short: {took:?}"
    );
    // Nothing changed: the note is acknowledged, once on the server.
    assert!(j.unacked_by(&s.url).unwrap().is_empty());
    let project = s.store.project("P").unwrap().unwrap();
    assert_eq!(s.store.pull(&project, 0, 10).unwrap().len(), 1);
    // Once cancelled, the client refuses new requests without sending them.
    j.append(&[note("Sam", Role::Producer, "after", false)])
        .unwrap();
    assert!(matches!(
        sync_once(&j, "P", &c, Duration::ZERO),
        Err(SyncError::Cancelled)
    ));
    assert!(matches!(c.me(), Err(SyncError::Cancelled)));
    assert_eq!(j.unacked_by(&s.url).unwrap().len(), 1);
    assert_eq!(s.store.pull(&project, 0, 10).unwrap().len(), 1);
}

/// A TCP proxy for the tests here: each connection it accepts goes to `handle`, on the
/// accepting thread. It stops accepting when dropped.
struct Proxy {
    addr: std::net::SocketAddr,
    stop: Arc<std::sync::atomic::AtomicBool>,
}

impl Proxy {
    fn start(mut handle: impl FnMut(std::net::TcpStream) + Send + 'static) -> Proxy {
        use std::sync::atomic::{AtomicBool, Ordering};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        std::thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                let Ok((client, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(2));
                    continue;
                };
                client.set_nonblocking(false).unwrap();
                handle(client);
            }
        });
        Proxy { addr, stop }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Passes what `client` sends on to `server`, on a thread of its own, until either ends.
fn forward_requests(client: &std::net::TcpStream, server: &std::net::TcpStream) {
    use std::io::{Read, Write};
    let (mut from, mut to) = (client.try_clone().unwrap(), server.try_clone().unwrap());
    std::thread::spawn(move || {
        let mut buf = [0u8; 16384];
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 || to.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = to.shutdown(std::net::Shutdown::Write);
    });
}

/// A TCP proxy in front of the server that misbehaves at random: refuses connections, cuts
/// them after the request reached the server (so the answer is lost), and delays them.
fn chaos_proxy(target: std::net::SocketAddr, seed: u64) -> Proxy {
    use std::io::{Read, Write};
    use std::net::{Shutdown, TcpStream};
    let mut x = seed | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    Proxy::start(move |client| {
        let fate = next() % 10;
        if fate == 0 {
            // Refuse.
            let _ = client.shutdown(Shutdown::Both);
            return;
        }
        let Ok(server) = TcpStream::connect(target) else {
            return;
        };
        let delay = if fate == 1 { 50 } else { 0 };
        // After this many bytes of answer, cut the connection (fates 2 and 3).
        let cut_after = if fate <= 3 {
            (next() % 200) as usize
        } else {
            usize::MAX
        };
        forward_requests(&client, &server);
        let (mut s_in, mut c_out) = (server, client);
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(delay));
            let mut buf = [0u8; 16384];
            let mut sent = 0usize;
            while let Ok(n) = s_in.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let n = n.min(cut_after.saturating_sub(sent));
                if n == 0 || c_out.write_all(&buf[..n]).is_err() {
                    break;
                }
                sent += n;
            }
            let _ = c_out.shutdown(Shutdown::Both);
            let _ = s_in.shutdown(Shutdown::Both);
        });
    })
}

/// Three clients sync a few thousand events through a proxy that refuses, cuts and delays
/// connections at random; every round that fails is simply retried. In the end the server
/// holds exactly the union of the journals, each event once, and every journal has all of it.
#[test]
fn through_a_misbehaving_network_the_server_ends_with_each_event_exactly_once() {
    let s = Server::start();
    s.store.create_project("P").unwrap();
    let target: std::net::SocketAddr = s.url.trim_start_matches("http://").parse().unwrap();
    let proxy = chaos_proxy(target, 0x5eed_cafe);
    let url = format!("http://{}", proxy.addr);
    const CLIENTS: usize = 3;
    const EVENTS: usize = 1_000;
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    let handles: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let token = s
                .store
                .add_token("P", &format!("p{c}"), Role::Producer)
                .unwrap()
                .1;
            let url = url.clone();
            std::thread::spawn(move || {
                let dir = tempfile::tempdir().unwrap();
                let j = Journal::open(dir.path()).unwrap();
                let sc = SyncClient::new(&url, &token, Duration::from_secs(5)).unwrap();
                let mut made = Vec::new();
                let mut failures = 0;
                // Make events in bursts while syncing; then sync until nothing is pending.
                for burst in 0..20 {
                    let batch: Vec<Event> = (0..EVENTS / 20)
                        .map(|i| {
                            note(
                                &format!("p{c}"),
                                Role::Producer,
                                &format!("c{c} b{burst} n{i}"),
                                false,
                            )
                        })
                        .collect();
                    j.append(&batch).unwrap();
                    made.extend(batch.iter().map(|e| e.id));
                    if sync_once(&j, "P", &sc, Duration::ZERO).is_err() {
                        failures += 1;
                    }
                }
                loop {
                    assert!(std::time::Instant::now() < deadline, "sync never settled");
                    match sync_once(&j, "P", &sc, Duration::ZERO) {
                        Ok(r) if r.waiting.is_empty() && j.unacked_by(&url).unwrap().is_empty() => {
                            break
                        }
                        Ok(_) => {}
                        Err(e) => {
                            assert!(
                                matches!(e, SyncError::Unreachable(_) | SyncError::Server(_)),
                                "{e}"
                            );
                            failures += 1;
                        }
                    }
                }
                (made, failures, dir, j)
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let project = s.store.project("P").unwrap().unwrap();
    let stored = s.store.pull(&project, 0, 1_000_000).unwrap();
    let stored_ids: std::collections::HashSet<String> = stored
        .iter()
        .map(|(_, json)| {
            serde_json::from_str::<serde_json::Value>(json).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(stored.len(), stored_ids.len(), "an event stored twice");
    let union: std::collections::HashSet<String> = results
        .iter()
        .flat_map(|(made, ..)| made.iter().map(|id| id.to_string()))
        .collect();
    assert_eq!(stored_ids, union);
    assert_eq!(stored.len(), CLIENTS * EVENTS);
    let total_failures: usize = results.iter().map(|r| r.1).sum();
    assert!(total_failures > 0, "the proxy never misbehaved");
    // Every journal catches up with everyone's events, each once.
    let token = s.store.add_token("P", "reader", Role::Viewer).unwrap().1;
    for (_, _, _dir, j) in &results {
        // Catch up through the same chaos, retrying failed rounds.
        let reader = SyncClient::new(&url, &token, Duration::from_secs(5)).unwrap();
        while sync_once(j, "P", &reader, Duration::ZERO).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "catching up never settled"
            );
        }
        let read = j.read().unwrap();
        assert_eq!(read.duplicates, 0);
        assert_eq!(read.events.len(), CLIENTS * EVENTS);
    }
}

/// A proxy that numbers the server's answers across all its connections (the client sends
/// one request at a time) and cuts the ones whose numbers it is given: that request reaches
/// the server, and its connection closes before the answer does.
fn cut_proxy(target: std::net::SocketAddr, cut: &'static [usize]) -> Proxy {
    use std::io::{Read, Write};
    use std::net::{Shutdown, TcpStream};
    let answers = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    Proxy::start(move |client| {
        let Ok(server) = TcpStream::connect(target) else {
            return;
        };
        forward_requests(&client, &server);
        let (mut s_in, mut c_out, answers) = (server, client, answers.clone());
        std::thread::spawn(move || {
            // Each whole answer (headers, then a body of its Content-Length) is numbered,
            // then passed on or, if it is to be cut, ends the connection.
            let mut held: Vec<u8> = Vec::new();
            let mut buf = [0u8; 16384];
            'read: while let Ok(n) = s_in.read(&mut buf) {
                if n == 0 {
                    break;
                }
                held.extend_from_slice(&buf[..n]);
                while let Some(end) = answer_end(&held).filter(|e| *e <= held.len()) {
                    let number = answers.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                    if cut.contains(&number) || c_out.write_all(&held[..end]).is_err() {
                        break 'read;
                    }
                    held.drain(..end);
                }
            }
            let _ = c_out.shutdown(Shutdown::Both);
            let _ = s_in.shutdown(Shutdown::Both);
        });
    })
}

/// Where the first HTTP answer in `bytes` ends, once its headers are all there.
fn answer_end(bytes: &[u8]) -> Option<usize> {
    let head = bytes.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let text = String::from_utf8_lossy(&bytes[..head]).to_ascii_lowercase();
    let length = text
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .expect("the server's answers say their length")
        .trim()
        .parse::<usize>()
        .unwrap();
    Some(head + length)
}

/// A target kept open across rounds (`TargetSync::push`, as `liner sync` and the bench use
/// it; the plugin's push thread takes the same steps one by one under its lock) sends from the
/// events it holds, not from a copy: when a round's second request loses its answer, the
/// first one's events are done with and the rest go again in the next round (answered
/// `duplicate`); an event the server refuses waits with the server's words and never goes
/// again. Each event is acknowledged exactly once and stored once.
#[test]
fn a_kept_target_sends_each_event_once_across_lost_answers_and_a_refusal() {
    let s = Server::start();
    s.store.create_project("P").unwrap();
    let token = s.store.add_token("P", "Sam", Role::Producer).unwrap().1;
    let server: std::net::SocketAddr = s.url.trim_start_matches("http://").parse().unwrap();
    // Answers 2 and 5: the second request (of 500, then 200 events) of each append's first
    // round.
    let proxy = cut_proxy(server, &[2, 5]);
    let url = format!("http://{}", proxy.addr);
    let me = client(&s.url, &token).me().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let j = Journal::open(dir.path()).unwrap();
    let c = client(&url, &token);
    let mut target = TargetSync::open(&j, &url, "P").unwrap();
    // Two appends of 700 events: two requests a round (500, then 200). In the second, one
    // event is stamped two days ahead of the server's clock.
    let mut made = Vec::new();
    let mut late = None;
    let (mut failures, mut pushed) = (0, 0);
    for round in 0..2 {
        let mut burst: Vec<Event> = (0..700)
            .map(|i| note("Sam", Role::Producer, &format!("r{round} n{i}"), false))
            .collect();
        if round == 1 {
            burst[550].at += 2 * 86_400_000;
            late = Some(burst[550].id);
        }
        j.append(&burst).unwrap();
        made.extend(burst.iter().map(|e| e.id));
        // The first round loses its second answer; the next sends those 200 again.
        let mut report = SyncReport::new(me.clone());
        let lost = target.push(&c, &mut report).unwrap_err();
        assert!(
            matches!(lost, SyncError::Unreachable(_) | SyncError::Server(_)),
            "{lost}"
        );
        assert_eq!(report.pushed, 500, "{lost}");
        failures += 1;
        pushed += report.pushed;
        let mut report = SyncReport::new(me.clone());
        target.push(&c, &mut report).unwrap();
        pushed += report.pushed;
        assert_eq!(report.pushed + report.refused.len(), 200, "{report:?}");
    }
    assert_eq!(failures, 2);
    let late = late.unwrap();
    let stored: Vec<uuid::Uuid> = s
        .stored("P")
        .iter()
        .map(|json| serde_json::from_str::<Event>(json).unwrap().id)
        .collect();
    let unique: std::collections::HashSet<uuid::Uuid> = stored.iter().copied().collect();
    assert_eq!(stored.len(), unique.len(), "an event stored twice");
    let expected: std::collections::HashSet<uuid::Uuid> =
        made.iter().copied().filter(|id| *id != late).collect();
    assert_eq!(unique, expected);
    assert_eq!(pushed, expected.len(), "each event acknowledged once");
    // The refused one waits, with why; a third round sends nothing.
    let waiting = target.waiting(&me);
    assert_eq!(waiting.len(), 1, "{waiting:?}");
    assert_eq!(waiting[0].0.id, late);
    assert!(
        matches!(&waiting[0].1, liner_record::outbox::Waiting::Refused { code, .. } if code == "at_in_future"),
        "{:?}",
        waiting[0].1
    );
    let mut report = SyncReport::new(me);
    target.push(&c, &mut report).unwrap();
    assert_eq!((report.pushed, report.refused.len()), (0, 0));
    let unacked: Vec<uuid::Uuid> = j.unacked_by(&url).unwrap().iter().map(|e| e.id).collect();
    assert_eq!(unacked, vec![late]);
}

/// Two machines holding the same events (one journal copied from the other) push them at
/// the same time: the server keeps each once, and both journals end up acknowledged.
#[test]
fn two_clients_pushing_the_same_events_store_each_once() {
    let s = Server::start();
    s.store.create_project("P").unwrap();
    let events: Vec<Event> = (0..400)
        .map(|i| note("Sam", Role::Producer, &format!("shared {i}"), false))
        .collect();
    let dirs: Vec<_> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let handles: Vec<_> = dirs
        .iter()
        .map(|dir| {
            let j = Journal::open(dir.path()).unwrap();
            j.append(&events).unwrap();
            // The same person, on two machines: two tokens.
            let token = s.store.add_token("P", "Sam", Role::Producer).unwrap().1;
            let url = s.url.clone();
            std::thread::spawn(move || {
                let client = SyncClient::new(&url, &token, Duration::from_secs(10)).unwrap();
                let r = sync_once(&j, "P", &client, Duration::ZERO).unwrap();
                assert_eq!(r.pushed, 400);
                assert!(j.unacked_by(&url).unwrap().is_empty());
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let project = s.store.project("P").unwrap().unwrap();
    assert_eq!(s.store.pull(&project, 0, 10_000).unwrap().len(), 400);
}

/// One project, two servers (the studio's and a label's): each keeps its own acknowledgements
/// and cursor in the journal, so each ends with every event; neither misses one the other
/// acknowledged or sent.
#[test]
fn two_servers_for_one_project_each_end_with_every_event() {
    let (a, b) = (Server::start(), Server::start());
    for s in [&a, &b] {
        s.store.create_project("P").unwrap();
    }
    let token = |s: &Server| s.store.add_token("P", "Sam", Role::Producer).unwrap().1;
    let (ta, tb) = (token(&a), token(&b));
    let dir = tempfile::tempdir().unwrap();
    let j = Journal::open(dir.path()).unwrap();
    let mine: Vec<Event> = (0..5)
        .map(|i| note("Sam", Role::Producer, &format!("mine {i}"), false))
        .collect();
    j.append(&mine).unwrap();
    // Someone else's note reaches server A only.
    let kim = a.store.add_token("P", "Kim", Role::Producer).unwrap().1;
    let elsewhere = note("Kim", Role::Producer, "only on A", false);
    let other_dir = tempfile::tempdir().unwrap();
    let other = Journal::open(other_dir.path()).unwrap();
    other.append(std::slice::from_ref(&elsewhere)).unwrap();
    sync_once(&other, "P", &client(&a.url, &kim), Duration::ZERO).unwrap();

    let r = sync_once(&j, "P", &client(&a.url, &ta), Duration::ZERO).unwrap();
    assert_eq!((r.pushed, r.pulled), (5, 1));
    // B has seen nothing yet: everything goes to it, Kim's note too (Sam cannot sign it, so
    // it is there only if B pulls it from its own writer: it is not Sam's to send).
    let r = sync_once(&j, "P", &client(&b.url, &tb), Duration::ZERO).unwrap();
    assert_eq!(r.pushed, 5, "A's acknowledgements are not B's");
    // A second round with each moves nothing.
    for (s, t) in [(&a, &ta), (&b, &tb)] {
        let r = sync_once(&j, "P", &client(&s.url, t), Duration::ZERO).unwrap();
        assert_eq!((r.pushed, r.pulled), (0, 0));
    }
    // New events on B come into the journal and then go on to A.
    let kim_b = b.store.add_token("P", "Kim", Role::Producer).unwrap().1;
    let on_b = note("Kim", Role::Producer, "only on B", false);
    let other_b_dir = tempfile::tempdir().unwrap();
    let other_b = Journal::open(other_b_dir.path()).unwrap();
    other_b.append(std::slice::from_ref(&on_b)).unwrap();
    sync_once(&other_b, "P", &client(&b.url, &kim_b), Duration::ZERO).unwrap();
    let r = sync_once(&j, "P", &client(&b.url, &tb), Duration::ZERO).unwrap();
    assert_eq!(r.pulled, 1);
    let ids = |s: &Server| -> Vec<uuid::Uuid> {
        let p = s.store.project("P").unwrap().unwrap();
        s.store
            .pull(&p, 0, 100)
            .unwrap()
            .iter()
            .map(|(_, json)| serde_json::from_str::<Event>(json).unwrap().id)
            .collect()
    };
    for e in &mine {
        assert!(ids(&a).contains(&e.id) && ids(&b).contains(&e.id));
    }
    // Each server's cursor is its own: both pulls happened, nothing skipped.
    let journal_ids = j.scan().unwrap().ids;
    assert!(journal_ids.contains(&elsewhere.id) && journal_ids.contains(&on_b.id));
    assert!(j
        .unacked_by(&a.url)
        .unwrap()
        .iter()
        .all(|e| e.id == on_b.id || e.id == elsewhere.id));
}

/// A clip made with a note goes up after it through the misbehaving proxy, exactly once; a
/// private note's clip never does; another client and a review page session fetch it; a
/// person of another project cannot.
#[test]
fn a_clip_reaches_the_server_once_through_a_misbehaving_network_and_only_its_project_reads_it() {
    use liner_record::clips::{Clip, ClipFormat, ClipStore};
    use liner_record::event::ClipAttached;
    let s = Server::start();
    s.store.create_project("P").unwrap();
    let sam = s.store.add_token("P", "Sam", Role::Producer).unwrap().1;
    let jo = s.store.add_token("P", "Jo", Role::Executive).unwrap().1;
    let max = s.token("Elsewhere", "Max", Role::Executive);
    let target: std::net::SocketAddr = s.url.trim_start_matches("http://").parse().unwrap();
    let proxy = chaos_proxy(target, 0xc11b_5eed);
    let url = format!("http://{}", proxy.addr);

    let dir = tempfile::tempdir().unwrap();
    let j = Journal::open(dir.path()).unwrap();
    let store = ClipStore::of_journal(j.dir());
    let attach = |n: &Event, bytes: &[u8], private: bool| -> (Event, Clip) {
        let hash = store.put(bytes, ClipFormat::Flac).unwrap();
        let clip: Clip = serde_json::from_value(serde_json::json!({
            "hash": hash, "format": "flac", "sample_rate": 48000, "channels": 2,
            "frames": 96000, "moment": 48000, "bytes": bytes.len(),
        }))
        .unwrap();
        let e = Event::new(
            &Context {
                project: "P".into(),
                song: "S".into(),
                track: "T".into(),
                session: n.session,
                author: "Sam".into(),
                role: Role::Producer,
            },
            None,
            Body::ClipAttached(ClipAttached {
                target: n.id,
                clip: clip.clone(),
                private,
            }),
        );
        (e, clip)
    };
    // Twenty notes with 60 kB clips, and a private note with its clip.
    let mut clips = Vec::new();
    let mut events = Vec::new();
    for n in 0..20u32 {
        let audio: Vec<u8> = (0..60_000u32)
            .map(|i| (i.wrapping_add(n << 20).wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect();
        let open = note("Sam", Role::Producer, &format!("take {n} drags"), false);
        let (clip_event, clip) = attach(&open, &audio, false);
        events.extend([open, clip_event]);
        clips.push((clip, audio));
    }
    let secret = note("Sam", Role::Producer, "the singer is flat", true);
    let (secret_clip_event, secret_clip) = attach(&secret, b"private audio", true);
    events.extend([secret.clone(), secret_clip_event]);

    // A client per round, as after a restart: each round opens connections of its own, so
    // the proxy's fates fall on the clips' uploads too.
    // A short timeout: a connection the proxy stalls costs a round, not the test's time.
    let client = || SyncClient::new(&url, &sam, Duration::from_secs(2)).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    let project = s.store.project("P").unwrap().unwrap();
    let (mut rounds, mut failures) = (0, 0);
    let all_there = || {
        clips
            .iter()
            .all(|(c, _)| s.store.clip(&project, &c.hash).unwrap().is_some())
    };
    // A note and its clip are written before each round (the private pair last), so the
    // uploads spread over many rounds and connections.
    let mut to_write = events.chunks(2).rev().collect::<Vec<_>>();
    while !to_write.is_empty() || !all_there() {
        assert!(
            std::time::Instant::now() < deadline,
            "the clips never all arrived"
        );
        if let Some(pair) = to_write.pop() {
            j.append(pair).unwrap();
        }
        if sync_once(&j, "P", &client(), Duration::ZERO).is_err() {
            failures += 1;
        }
        rounds += 1;
    }
    assert!(
        failures > 0,
        "the proxy never misbehaved in {rounds} rounds: nothing was proven"
    );
    // Settled: a clean round afterwards sends nothing more.
    loop {
        assert!(std::time::Instant::now() < deadline);
        if let Ok(r) = sync_once(&j, "P", &client(), Duration::ZERO) {
            assert_eq!(r.clips_sent, 0);
            break;
        }
    }
    let total: u64 = clips.iter().map(|(_, a)| a.len() as u64).sum();
    assert_eq!(
        s.store.clip_usage(&project).unwrap(),
        total,
        "each clip once"
    );
    for (c, audio) in &clips {
        assert_eq!(&s.store.clip(&project, &c.hash).unwrap().unwrap(), audio);
    }
    let (clip, audio) = clips[0].clone();
    let files = j.sync_files(&url, "P").unwrap();
    assert!(files.clips_sent().unwrap().contains(&clip.hash));
    // The private note's clip stayed here, and so did its event.
    assert!(s.store.clip(&project, &secret_clip.hash).unwrap().is_none());
    assert!(s
        .store
        .pull(&project, 0, 100)
        .unwrap()
        .iter()
        .all(|(_, json)| !json.contains(&secret_clip.hash.to_string())));
    eprintln!("20 clips sent in {rounds} rounds through the proxy, {failures} failed");

    // Another client of the project, straight and through a review page session.
    let http = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let got = http
        .get(format!("{}/api/v1/clips/{}", s.url, clip.hash))
        .bearer_auth(&jo)
        .send()
        .unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.bytes().unwrap().as_ref(), &audio[..]);
    let signed = http
        .post(format!("{}/sign-in", s.url))
        .form(&[("token", jo.as_str())])
        .send()
        .unwrap();
    let cookie = common::session_cookie(&signed);
    let page = http
        .get(format!("{}/clips/{}.flac", s.url, clip.hash))
        .header("cookie", &cookie)
        .send()
        .unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-type"], "audio/flac");
    // Without a session the page's address serves no audio (it sends you to sign in).
    let anonymous = http
        .get(format!("{}/clips/{}.flac", s.url, clip.hash))
        .send()
        .unwrap();
    assert_ne!(anonymous.status(), 200);
    assert_ne!(anonymous.bytes().unwrap().as_ref(), &audio[..]);
    assert_eq!(page.bytes().unwrap().as_ref(), &audio[..]);
    let song = http
        .get(format!("{}/song?name=S", s.url))
        .header("cookie", &cookie)
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        song.contains(&format!("/clips/{}.flac", clip.hash)),
        "{song}"
    );
    // Someone of another project: not found, as if it did not exist.
    let other = http
        .get(format!("{}/api/v1/clips/{}", s.url, clip.hash))
        .bearer_auth(&max)
        .send()
        .unwrap();
    assert_eq!(other.status(), 404);
}

/// A note deleted before its clip went up takes its clip with it: the deletion goes, the
/// audio never does.
#[test]
fn a_deleted_notes_clip_never_goes_up() {
    use liner_record::clips::{Clip, ClipFormat, ClipStore};
    use liner_record::event::ClipAttached;
    let s = Server::start();
    s.store.create_project("P").unwrap();
    let sam = s.store.add_token("P", "Sam", Role::Producer).unwrap().1;
    let dir = tempfile::tempdir().unwrap();
    let j = Journal::open(dir.path()).unwrap();
    let regret = note("Sam", Role::Producer, "the singer sounds tired", false);
    let audio = b"the singer, tired".to_vec();
    let hash = ClipStore::of_journal(j.dir())
        .put(&audio, ClipFormat::Flac)
        .unwrap();
    let clip: Clip = serde_json::from_value(serde_json::json!({
        "hash": hash, "format": "flac", "sample_rate": 48000, "channels": 2,
        "frames": 96000, "moment": 48000, "bytes": audio.len(),
    }))
    .unwrap();
    let ctx = Context {
        project: "P".into(),
        song: "S".into(),
        track: "T".into(),
        session: regret.session,
        author: "Sam".into(),
        role: Role::Producer,
    };
    let attached = Event::new(
        &ctx,
        None,
        Body::ClipAttached(ClipAttached {
            target: regret.id,
            clip,
            private: false,
        }),
    );
    let deleted = Event::new(&ctx, None, Body::NoteDeleted { note: regret.id });
    j.append(&[regret, attached, deleted.clone()]).unwrap();
    let client = SyncClient::new(&s.url, &sam, Duration::from_secs(5)).unwrap();
    let r = sync_once(&j, "P", &client, Duration::ZERO).unwrap();
    assert_eq!((r.pushed, r.clips_sent), (3, 0));
    let project = s.store.project("P").unwrap().unwrap();
    assert_eq!(s.store.clip_usage(&project).unwrap(), 0);
    assert!(s.store.clip(&project, &hash).unwrap().is_none());
    let stored = s.store.pull(&project, 0, 10).unwrap();
    assert!(stored
        .iter()
        .any(|(_, json)| json.contains(&deleted.id.to_string())));
}

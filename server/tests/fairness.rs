//! Fair under hostile clients: one client, session or project cannot take the server from
//! everyone else, and an ended session ends everywhere. One test per finding; each failed on
//! the server before its share existed. Run on SQLite, and again on PostgreSQL by `cargo
//! xtask test`.

mod common;

use common::{note_by, push, session_cookie, sign_in_raw, Server};
use liner_record::clips::ClipHash;
use liner_record::Role;
use liner_server::fair::floor::Floor;
use liner_server::fair::guesses::FREE_MISSES;
use liner_server::fair::holds::LIVE_PER_SESSION;
use liner_server::fair::uploads::UPLOADS_PER_PROJECT;
use liner_server::serve::Limits;
use reqwest::StatusCode;
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

const P: &str = "Album";

/// A connection to `server` from the loopback address `from` (127.0.0.x: another client).
fn connect_from(server: SocketAddr, from: [u8; 4]) -> TcpStream {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.bind(&SocketAddr::from((from, 0)).into()).unwrap();
    socket.connect(&server.into()).unwrap();
    socket.into()
}

/// `request` sent on a new connection from `from`.
fn send_from(server: SocketAddr, from: [u8; 4], request: &str) -> TcpStream {
    let mut c = connect_from(server, from);
    c.write_all(request.as_bytes()).unwrap();
    c
}

/// What the server sends on `c` until it closes it or `limit` passes: (closed, text).
fn read_until_closed(c: &mut TcpStream, limit: Duration) -> (bool, String) {
    read_until(c, None, limit)
}

/// What the server sends on `c` until `end` (when given) is in it, it closes, or `limit`
/// passes: (closed, text).
fn read_until(c: &mut TcpStream, end: Option<&str>, limit: Duration) -> (bool, String) {
    let deadline = Instant::now() + limit;
    c.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let text = |got: &[u8]| String::from_utf8_lossy(got).into_owned();
    while Instant::now() < deadline && !end.is_some_and(|end| text(&got).contains(end)) {
        match c.read(&mut buf) {
            Ok(0) => return (true, text(&got)),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return (true, text(&got)),
        }
    }
    (false, text(&got))
}

fn client_from(from: [u8; 4]) -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .local_address(IpAddr::from(from))
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// The CSRF secret of a signed-in page.
fn csrf(s: &Server, cookie: &str) -> String {
    let html = client_from([127, 0, 0, 1])
        .get(format!("{}/", s.url))
        .header("cookie", cookie)
        .send()
        .unwrap()
        .text()
        .unwrap();
    html.split("data-csrf=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a signed-in page carries its CSRF secret")
        .to_owned()
}

fn live_request(cookie: &str) -> String {
    format!("GET /live HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n")
}

/// Finding: one signed-in session opened live streams until the connection cap, and every
/// other request, plugin pushes included, heard 503.
#[test]
fn one_session_opening_streams_past_its_share_leaves_room_for_everyone_else() {
    let s = Server::start_with(Limits {
        max_connections: 24,
        ..Default::default()
    });
    let exec = s.token(P, "Eve", Role::Executive);
    let producer = s.token(P, "Sam", Role::Producer);
    let cookie = session_cookie(&sign_in_raw(&s, &exec, &[]));
    // One after another, each answered (its headers read) before the next is opened.
    let mut streams: Vec<TcpStream> = (0..40)
        .map(|_| {
            let mut c = send_from(s.addr(), [127, 0, 0, 1], &live_request(&cookie));
            let (_, head) = read_until(&mut c, Some("\r\n\r\n"), Duration::from_secs(2));
            assert!(head.starts_with("HTTP/1.1 200"), "{head}");
            c
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    // Another client pushes, at once.
    let started = Instant::now();
    let (status, _) = push(
        &s,
        &producer,
        &[&note_by(P, "Sam", Role::Producer, "still here")],
    );
    assert_eq!(status, StatusCode::OK);
    assert!(started.elapsed() < Duration::from_secs(1));
    // The session kept its share, its newest streams; the others were ended and closed.
    let open: Vec<bool> = streams
        .iter_mut()
        .map(|c| !read_until_closed(c, Duration::from_millis(300)).0)
        .collect();
    assert_eq!(
        open.iter().filter(|o| **o).count(),
        LIVE_PER_SESSION,
        "{open:?}"
    );
    assert!(
        open[40 - LIVE_PER_SESSION..].iter().all(|o| *o),
        "the newest: {open:?}"
    );
    // An ended stream was answered as a stream (then ended), not refused.
    let (_, text) = read_until_closed(&mut streams[0], Duration::from_millis(100));
    assert!(!text.contains(" 503 "), "{text}");
}

/// Finding: a signed-out or revoked session's open live stream kept receiving change
/// notices, and a revoked token's long poll waited on.
#[test]
fn signing_out_and_revoking_end_streams_and_long_polls_within_a_second() {
    let s = Server::start();
    let exec = s.token(P, "Eve", Role::Executive);
    let cookie = session_cookie(&sign_in_raw(&s, &exec, &[]));
    let secret = csrf(&s, &cookie);
    let mut stream = send_from(s.addr(), [127, 0, 0, 1], &live_request(&cookie));
    std::thread::sleep(Duration::from_millis(200));
    assert!(!read_until_closed(&mut stream, Duration::from_millis(100)).0);
    let signed_out = client_from([127, 0, 0, 1])
        .post(format!("{}/sign-out", s.url))
        .header("cookie", &cookie)
        .form(&[("csrf", secret.as_str())])
        .send()
        .unwrap();
    assert_eq!(signed_out.status(), StatusCode::SEE_OTHER);
    assert!(
        read_until_closed(&mut stream, Duration::from_secs(1)).0,
        "the signed-out session's stream is still open"
    );

    // Revoked elsewhere (`liner token revoke` is another process: the store, not the server,
    // hears it): the token's other session's stream and its long poll end within a second.
    let reader = s.token(P, "Val", Role::Viewer);
    let cookie = session_cookie(&sign_in_raw(&s, &reader, &[]));
    let mut stream = send_from(s.addr(), [127, 0, 0, 1], &live_request(&cookie));
    let mut poll = send_from(
        s.addr(),
        [127, 0, 0, 1],
        &format!(
            "GET /api/v1/events?after=0&wait=30 HTTP/1.1\r\nHost: x\r\n\
             Authorization: Bearer {reader}\r\nConnection: close\r\n\r\n"
        ),
    );
    std::thread::sleep(Duration::from_millis(300));
    let id = s
        .store
        .tokens()
        .unwrap()
        .into_iter()
        .find(|t| t.person == "Val")
        .unwrap()
        .id;
    let revoked = Instant::now();
    s.store.revoke_token(id).unwrap();
    let (closed, _) = read_until_closed(&mut stream, Duration::from_secs(1));
    assert!(closed, "the revoked token's live stream is still open");
    let (answered, text) = read_until_closed(&mut poll, Duration::from_secs(2));
    assert!(answered && text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(revoked.elapsed() < Duration::from_millis(1500));
    // The token was verified for the poll moments ago; a verification is believed for less
    // than a second (`liner_server::api::tokens`), then it is refused.
    while common::get(&s, &reader, "/api/v1/events?after=0").0 != StatusCode::UNAUTHORIZED {
        assert!(
            revoked.elapsed() < Duration::from_millis(1500),
            "the revoked token still reads"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Finding: a thousand idle sockets that never sent a byte held every connection for ten
/// seconds at a time. Now the idlest makes way for a new one.
#[test]
fn sockets_that_send_nothing_make_way_for_a_client_that_does() {
    let s = Server::start_with(Limits {
        max_connections: 20,
        ..Default::default()
    });
    let idle: Vec<TcpStream> = (0..200)
        .map(|i| connect_from(s.addr(), [127, 0, 0, 1 + (i % 3) as u8]))
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    for _ in 0..3 {
        let started = Instant::now();
        let r = client_from([127, 0, 0, 9])
            .get(format!("{}/api/v1/health", s.url))
            .send()
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert!(started.elapsed() < Duration::from_secs(1));
    }
    drop(idle);
}

/// A push whose body never comes: a request in flight for the body timeout.
fn stalled_push(s: &Server, from: [u8; 4], token: &str) -> TcpStream {
    send_from(
        s.addr(),
        from,
        &format!(
            "POST /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
        ),
    )
}

/// Connections per address come before the server's cap: an address with all its
/// connections busy hears 429, another address is served, and only when every connection
/// is busy does a new one hear 503.
#[test]
fn an_address_with_its_share_busy_hears_429_and_others_go_on() {
    let s = Server::start_with(Limits {
        max_connections: 6,
        per_address: 4,
        ..Default::default()
    });
    let t = s.token(P, "Sam", Role::Producer);
    let _busy: Vec<TcpStream> = (0..4)
        .map(|_| stalled_push(&s, [127, 0, 0, 1], &t))
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let mut extra = send_from(
        s.addr(),
        [127, 0, 0, 1],
        "GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    let (closed, answer) = read_until_closed(&mut extra, Duration::from_secs(2));
    assert!(closed && answer.starts_with("HTTP/1.1 429"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("retry-after: 1"),
        "{answer}"
    );
    let r = client_from([127, 0, 0, 2])
        .get(format!("{}/api/v1/health", s.url))
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let _more: Vec<TcpStream> = (0..2)
        .map(|_| stalled_push(&s, [127, 0, 0, 2], &t))
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let mut extra = send_from(
        s.addr(),
        [127, 0, 0, 3],
        "GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    let (closed, answer) = read_until_closed(&mut extra, Duration::from_secs(2));
    assert!(closed && answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("retry-after: 1"),
        "{answer}"
    );
}

/// A note by `author` in `project` with a clip of `bytes` named (not sent).
fn noted_clip(s: &Server, project: &str, author: &str, bytes: &[u8]) -> String {
    let token = s.token(project, author, Role::Producer);
    let note = note_by(project, author, Role::Producer, "hear this");
    let clip = common::clip_attached(project, author, note.id, bytes);
    let (status, body) = push(s, &token, &[&note, &clip]);
    assert_eq!(status, StatusCode::OK, "{body}");
    token
}

fn put_head(hash: &str, token: &str, length: usize) -> String {
    format!(
        "PUT /api/v1/clips/{hash} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: audio/flac\r\nContent-Length: {length}\r\n\r\n"
    )
}

/// Finding: eight slow clip uploads from any writer held all eight clip slots for up to five
/// minutes, the slot taken before any check, so every clip read on the server stalled.
#[test]
fn trickling_uploads_hold_up_no_other_project_and_are_cut_off() {
    let s = Server::start_with(Limits {
        body_floor: Floor {
            bytes_per_second: 2000,
            grace: Duration::from_secs(1),
        },
        clip_quota: 1_000_000,
        ..Default::default()
    });
    // Another project's clip, stored.
    let theirs = vec![7u8; 1000];
    let reader = noted_clip(&s, "Other", "Kim", &theirs);
    let r = client_from([127, 0, 0, 1])
        .put(format!("{}/api/v1/clips/{}", s.url, ClipHash::of(&theirs)))
        .bearer_auth(&reader)
        .body(theirs.clone())
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    // Eight uploads of this project, by eight people, that send 100 bytes and stall.
    let uploads: Vec<(String, Vec<u8>)> = (0..8u8)
        .map(|i| {
            let bytes = vec![i; 100_000];
            let token = noted_clip(&s, P, &format!("P{i}"), &bytes);
            (token, bytes)
        })
        .collect();
    let mut trickles: Vec<TcpStream> = uploads
        .iter()
        .map(|(token, bytes)| {
            let hash = ClipHash::of(bytes).to_string();
            let mut c = send_from(
                s.addr(),
                [127, 0, 0, 1],
                &put_head(&hash, token, bytes.len()),
            );
            c.write_all(&bytes[..100]).unwrap();
            c
        })
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    // The other project's clip is read at once.
    let started = Instant::now();
    let r = client_from([127, 0, 0, 2])
        .get(format!("{}/api/v1/clips/{}", s.url, ClipHash::of(&theirs)))
        .bearer_auth(&reader)
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.bytes().unwrap().to_vec(), theirs);
    assert!(started.elapsed() < Duration::from_secs(1));
    // The project's share took three; the rest were told to come back, at once; the three
    // were cut off once below the floor.
    let answers: Vec<String> = trickles
        .iter_mut()
        .map(|c| read_until_closed(c, Duration::from_secs(5)).1)
        .collect();
    let status = |code: &str| answers.iter().filter(|a| a.starts_with(code)).count();
    assert_eq!(
        status("HTTP/1.1 503"),
        8 - UPLOADS_PER_PROJECT,
        "{answers:#?}"
    );
    assert_eq!(status("HTTP/1.1 408"), UPLOADS_PER_PROJECT, "{answers:#?}");
    assert!(answers
        .iter()
        .filter(|a| a.starts_with("HTTP/1.1 503"))
        .all(|a| a.to_ascii_lowercase().contains("retry-after")));
}

/// An upload is judged on what it declares before a byte of its body is read: a clip no
/// event names, a length its event does not give, one past the quota or past the largest
/// clip, are answered while the client has sent only its headers.
#[test]
fn an_upload_is_judged_before_its_body_is_read() {
    let s = Server::start_with(Limits {
        clip_quota: 150_000,
        ..Default::default()
    });
    let big = vec![1u8; 100_000];
    let bigger = vec![2u8; 100_000];
    let token = noted_clip(&s, P, "Sam", &big);
    noted_clip(&s, P, "Sam", &bigger);
    let r = client_from([127, 0, 0, 1])
        .put(format!("{}/api/v1/clips/{}", s.url, ClipHash::of(&big)))
        .bearer_auth(&token)
        .body(big.clone())
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let unknown = ClipHash::of(b"nobody named me").to_string();
    let cases = [
        (unknown, 30_000_000, "HTTP/1.1 404"),
        (ClipHash::of(&bigger).to_string(), 99_999, "HTTP/1.1 422"),
        (
            ClipHash::of(&bigger).to_string(),
            bigger.len(),
            "HTTP/1.1 507",
        ),
        (ClipHash::of(&bigger).to_string(), 1 << 30, "HTTP/1.1 413"),
    ];
    for (hash, length, expected) in cases {
        let mut c = send_from(s.addr(), [127, 0, 0, 1], &put_head(&hash, &token, length));
        let (_, answer) = read_until_closed(&mut c, Duration::from_secs(2));
        assert!(answer.starts_with(expected), "{length}: {answer}");
    }
}

fn sign_in_from(s: &Server, from: [u8; 4], token: &str) -> StatusCode {
    client_from(from)
        .post(format!("{}/sign-in", s.url))
        .form(&[("token", token)])
        .send()
        .unwrap()
        .status()
}

/// Finding: `/sign-in` answered thousands of wrong tokens a second. Now an address's wrong
/// tokens slow it down to one try a second, past a few free ones; a flood from it is told to
/// come back; the right token from elsewhere goes in at once, and from the same address at
/// its turn.
#[test]
fn wrong_tokens_on_sign_in_slow_their_address_and_never_lock_out_the_right_one() {
    let s = Server::start();
    let exec = s.token(P, "Eve", Role::Executive);
    let wrong = "ln_0000000000000000000000000000000000000000";
    let started = Instant::now();
    for _ in 0..=FREE_MISSES as usize {
        assert_eq!(
            sign_in_from(&s, [127, 0, 0, 1], wrong),
            StatusCode::UNAUTHORIZED
        );
    }
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "the first few are free"
    );
    let started = Instant::now();
    for _ in 0..3 {
        assert_eq!(
            sign_in_from(&s, [127, 0, 0, 1], wrong),
            StatusCode::UNAUTHORIZED
        );
    }
    assert!(
        started.elapsed() >= Duration::from_millis(1900),
        "three more took {:?}",
        started.elapsed()
    );
    // A burst at once: those whose turn is too far off hear 429 with Retry-After.
    let burst: Vec<_> = (0..16)
        .map(|_| {
            let url = s.url.clone();
            std::thread::spawn(move || {
                let r = client_from([127, 0, 0, 1])
                    .post(format!("{url}/sign-in"))
                    .form(&[("token", wrong)])
                    .send()
                    .unwrap();
                (r.status(), r.headers().contains_key("retry-after"))
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    // Meanwhile the right token from another address goes straight in.
    let started = Instant::now();
    assert_eq!(
        sign_in_from(&s, [127, 0, 0, 2], &exec),
        StatusCode::SEE_OTHER
    );
    assert!(started.elapsed() < Duration::from_millis(500));
    let answers: Vec<(StatusCode, bool)> = burst.into_iter().map(|t| t.join().unwrap()).collect();
    let told = answers
        .iter()
        .filter(|(st, retry)| *st == StatusCode::TOO_MANY_REQUESTS && *retry)
        .count();
    assert!(told >= 4, "{answers:?}");
    // From the guessing address the right token still goes in, at its turn.
    assert_eq!(
        sign_in_from(&s, [127, 0, 0, 1], &exec),
        StatusCode::SEE_OTHER
    );
}

/// The same for bearer tokens on the API.
#[test]
fn wrong_bearer_tokens_slow_their_address_only() {
    let s = Server::start();
    let right = s.token(P, "Sam", Role::Producer);
    let me = |from: [u8; 4], token: &str| {
        client_from(from)
            .get(format!("{}/api/v1/me", s.url))
            .bearer_auth(token)
            .send()
            .unwrap()
            .status()
    };
    let started = Instant::now();
    for _ in 0..FREE_MISSES as usize + 3 {
        assert_eq!(me([127, 0, 0, 3], "ln_wrong"), StatusCode::UNAUTHORIZED);
    }
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    let started = Instant::now();
    assert_eq!(me([127, 0, 0, 4], &right), StatusCode::OK);
    assert!(started.elapsed() < Duration::from_millis(500));
}

/// When live streams and long polls hold all the connections they may, the reserve is there:
/// one more long poll hears 503 with Retry-After, and a push and a health check are answered.
#[test]
fn long_polls_at_their_cap_leave_the_reserve_for_pushes() {
    let limits = Limits {
        max_connections: 16,
        ..Default::default()
    };
    let s = Server::start_with(limits);
    let reader = s.token(P, "Val", Role::Viewer);
    let producer = s.token(P, "Sam", Role::Producer);
    let poll = format!(
        "GET /api/v1/events?after=0&wait=30 HTTP/1.1\r\nHost: x\r\n\
         Authorization: Bearer {reader}\r\n\r\n"
    );
    let mut polls: Vec<TcpStream> = (0..limits.held())
        .map(|_| send_from(s.addr(), [127, 0, 0, 1], &poll))
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let mut extra = send_from(s.addr(), [127, 0, 0, 1], &poll);
    let (_, answer) = read_until_closed(&mut extra, Duration::from_secs(2));
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("retry-after"),
        "{answer}"
    );
    let started = Instant::now();
    let (status, _) = push(
        &s,
        &producer,
        &[&note_by(P, "Sam", Role::Producer, "in the reserve")],
    );
    assert_eq!(status, StatusCode::OK);
    let r = client_from([127, 0, 0, 2])
        .get(format!("{}/api/v1/health", s.url))
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(started.elapsed() < Duration::from_secs(1));
    // The push woke every poll: each answers with it.
    for c in &mut polls {
        let (_, answer) = read_until_closed(c, Duration::from_millis(500));
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
}

/// Review finding: the body timeout counts the gap between chunks, so a body trickled a byte
/// every few seconds (a sign-in form needs no token) held its connection in flight for ever.
/// Every request body is now held to the floor rate.
#[test]
fn a_trickled_request_body_is_cut_off_at_the_floor_rate() {
    let s = Server::start_with(Limits {
        body_floor: Floor {
            bytes_per_second: 1000,
            grace: Duration::from_secs(1),
        },
        ..Default::default()
    });
    let mut c = send_from(
        s.addr(),
        [127, 0, 0, 1],
        "POST /sign-in HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: 100000\r\n\r\ntoken=",
    );
    let mut writer = c.try_clone().unwrap();
    let trickle = std::thread::spawn(move || {
        for _ in 0..50 {
            if writer.write_all(b"a").is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    });
    let started = Instant::now();
    let (closed, answer) = read_until_closed(&mut c, Duration::from_secs(6));
    assert!(closed, "still open after {:?}: {answer}", started.elapsed());
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    drop(c);
    trickle.join().unwrap();
}

/// Review finding: a clip read gave back its turn to be held in memory when the handler
/// returned, while its bytes stayed in the answer's body; clients that do not read held any
/// number of clips. Now the turn lasts until the body is sent: past eight, a read waits.
#[test]
fn a_clip_read_holds_its_turn_until_its_bytes_are_sent() {
    let s = Server::start();
    let audio: Vec<u8> = (0..20_000_000u32).map(|i| (i % 251) as u8).collect();
    let token = noted_clip(&s, P, "Sam", &audio);
    let hash = ClipHash::of(&audio).to_string();
    let r = client_from([127, 0, 0, 1])
        .put(format!("{}/api/v1/clips/{hash}", s.url))
        .bearer_auth(&token)
        .body(audio.clone())
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let get = format!(
        "GET /api/v1/clips/{hash} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n"
    );
    let stalled: Vec<TcpStream> = (0..liner_server::state::MAX_CLIPS_IN_MEMORY)
        .map(|_| send_from(s.addr(), [127, 0, 0, 1], &get))
        .collect();
    std::thread::sleep(Duration::from_millis(800));
    let waiting = client_from([127, 0, 0, 2])
        .get(format!("{}/api/v1/clips/{hash}", s.url))
        .bearer_auth(&token)
        .timeout(Duration::from_secs(1))
        .send();
    assert!(waiting.is_err(), "a ninth clip was held in memory at once");
    drop(stalled);
    let r = client_from([127, 0, 0, 2])
        .get(format!("{}/api/v1/clips/{hash}", s.url))
        .bearer_auth(&token)
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.bytes().unwrap().len(), audio.len());
}

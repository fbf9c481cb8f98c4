//! Webhooks as a studio uses them, against a real `liner serve` and an HTTP receiver in the
//! test on loopback: signed bodies that verify (and do not with another secret), a 500 retried
//! and both attempts logged, a hanging receiver delaying no push and no other hook, a redirect
//! not followed, private addresses refused without `--webhooks-allow-private`, a restart
//! resuming without delivering twice, two servers on one PostgreSQL delivering each event
//! once, hooks carried by `liner migrate` and `liner backup`, and the CLI's refusals.

mod common;

use common::serve::Serve;
use common::{free_port, liner, liner_on, note_by};
use hmac::{KeyInit, Mac};
use liner_record::event::{Body, Event, Verdict};
use liner_record::Role;
use liner_test_support::wait_until;
use serde_json::Value;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const P: &str = "My Project";
const WAIT: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------------------------------
// A receiver on loopback.

/// What a receiver answers its `n`th request (from 0).
#[derive(Clone)]
enum Answer {
    Status(u16),
    Redirect(String),
    /// Never answers (the connection stays open).
    Hang,
}

/// One request a receiver got.
#[derive(Clone, Debug)]
struct Got {
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

impl Got {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", String::as_str)
    }
}

struct Receiver {
    addr: SocketAddr,
    got: Arc<Mutex<Vec<Got>>>,
}

impl Receiver {
    /// On 127.0.0.1, answering 200 to everything.
    fn ok() -> Receiver {
        Self::on("127.0.0.1:0", |_| Answer::Status(200)).unwrap()
    }

    fn on(
        at: &str,
        answer: impl Fn(usize) -> Answer + Send + Sync + 'static,
    ) -> std::io::Result<Receiver> {
        let listener = TcpListener::bind(at)?;
        let addr = listener.local_addr()?;
        let got = Arc::new(Mutex::new(Vec::new()));
        let answer = Arc::new(answer);
        let keep = got.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (got, answer) = (keep.clone(), answer.clone());
                std::thread::spawn(move || serve_connection(stream, &got, &*answer));
            }
        });
        Ok(Receiver { addr, got })
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn got(&self) -> Vec<Got> {
        self.got.lock().unwrap().clone()
    }

    fn wait_for(&self, n: usize) -> Vec<Got> {
        wait_until(&format!("{n} deliveries"), WAIT, || self.got().len() >= n);
        self.got()
    }
}

/// Reads requests off one connection (reqwest keeps it alive) and answers each.
fn serve_connection(stream: TcpStream, got: &Mutex<Vec<Got>>, answer: &dyn Fn(usize) -> Answer) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut stream = stream;
    loop {
        let mut headers = HashMap::new();
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let Some((name, value)) = line.trim_end().split_once(':') else {
                break;
            };
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
        }
        let len: usize = headers
            .get("content-length")
            .and_then(|l| l.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let n = {
            let mut got = got.lock().unwrap();
            got.push(Got { headers, body });
            got.len() - 1
        };
        let reply = match answer(n) {
            Answer::Status(s) => format!("HTTP/1.1 {s} X\r\ncontent-length: 0\r\n\r\n"),
            Answer::Redirect(to) => {
                format!("HTTP/1.1 302 Found\r\nlocation: {to}\r\ncontent-length: 0\r\n\r\n")
            }
            Answer::Hang => {
                std::thread::sleep(Duration::from_secs(600));
                return;
            }
        };
        if stream.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

// ---------------------------------------------------------------------------------------
// A `liner serve` process.

/// Hooks delivered to loopback, retried quickly.
const FAST: &[&str] = &[
    "--webhooks-allow-private",
    "--webhooks-retry-base-ms",
    "100",
    "--webhooks-retry-cap-ms",
    "400",
];

/// Pushes events; returns how long the push took.
fn push(url: &str, token: &str, events: &[&Event]) -> Duration {
    let started = Instant::now();
    let r = common::client()
        .post(format!("{url}/api/v1/events"))
        .bearer_auth(token)
        .json(&serde_json::json!({ "events": events }))
        .send()
        .unwrap();
    let took = started.elapsed();
    assert!(r.status().is_success(), "{}", r.text().unwrap());
    took
}

fn run(mut c: Command) -> Output {
    c.output().unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `liner webhook add`: the hook's id and secret.
fn add_hook(mut liner: Command, url: &str, events: &str) -> (i64, String) {
    let out = run({
        liner.args([
            "webhook",
            "add",
            "--project",
            P,
            "--url",
            url,
            "--events",
            events,
        ]);
        liner
    });
    assert!(out.status.success(), "{}", text(&out));
    let said = String::from_utf8(out.stdout).unwrap();
    let id = said
        .strip_prefix("webhook ")
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no id in {said}"));
    let secret = said
        .lines()
        .find(|l| l.starts_with("lnhook_"))
        .unwrap_or_else(|| panic!("no secret in {said}"))
        .to_owned();
    (id, secret)
}

/// `liner webhook log` lines (without its heading).
fn log(mut liner: Command, args: &[&str]) -> Vec<String> {
    let out = run({
        liner.args(["webhook", "log"]).args(args);
        liner
    });
    assert!(out.status.success(), "{}", text(&out));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .skip(1)
        .map(str::to_owned)
        .collect()
}

fn verifies(secret: &str, body: &[u8], signature: &str) -> bool {
    let Some(hex) = signature.strip_prefix("sha256=") else {
        return false;
    };
    let Some(bytes) = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()
    else {
        return false;
    };
    let mut mac = hmac::Hmac::<sha2_hmac::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    mac.verify_slice(&bytes).is_ok()
}

fn verdict(target: uuid::Uuid, verdict: Verdict, comment: &str) -> Event {
    Event::new(
        &common::ctx(P, "Executive producer", Role::Executive),
        None,
        Body::Verdict {
            target,
            verdict,
            comment: comment.into(),
        },
    )
}

fn note(text: &str) -> Event {
    note_by(P, "Producer", Role::Producer, text)
}

// ---------------------------------------------------------------------------------------

#[test]
fn deliveries_are_signed_over_the_exact_body_and_carry_words_and_the_stored_event() {
    let data = tempfile::tempdir().unwrap();
    let mut args = FAST.to_vec();
    args.extend(["--public-url", "https://review.example/"]);
    let server = Serve::start(data.path(), &args);
    let receiver = Receiver::ok();
    let (hook, secret) = add_hook(
        liner(data.path()),
        &receiver.url("/in"),
        "note_added,verdict",
    );

    let mut n = note("breath at the top");
    n.pos = Some(liner_record::DawPos {
        bar: Some(12),
        ..Default::default()
    });
    let mut private = note("only for me");
    if let Body::NoteAdded(b) = &mut private.body {
        b.private = true;
    }
    let mark = Event::new(
        &common::ctx(P, "Producer", Role::Producer),
        None,
        Body::Mark {
            instance: uuid::Uuid::now_v7(),
            number: 1,
            label: None,
        },
    );
    push(&server.url, &server.producer(), &[&n, &private, &mark]);
    // Another project's note never reaches this project's hook.
    let other = run({
        let mut c = liner(data.path());
        c.args(["project", "create", "Other"]);
        c
    });
    assert!(other.status.success(), "{}", text(&other));
    let out = run({
        let mut c = liner(data.path());
        c.args([
            "token",
            "add",
            "--project",
            "Other",
            "--person",
            "Kim",
            "--role",
            "producer",
        ]);
        c
    });
    let kim = String::from_utf8(out.stdout).unwrap();
    let kim = kim.lines().nth(1).expect("the token").to_owned();
    push(
        &server.url,
        &kim,
        &[&note_by("Other", "Kim", Role::Producer, "elsewhere")],
    );
    let judged = verdict(n.id, Verdict::ChangesRequested, "more air");
    let on_private = verdict(private.id, Verdict::Approved, "");
    push(&server.url, &server.exec(), &[&judged, &on_private]);

    let got = receiver.wait_for(2);
    // The private note, the verdict on it, and the mark (not asked for) never arrive.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(receiver.got().len(), 2, "{:?}", receiver.got());
    let stored = liner_test_support::open_store(data.path());
    let project = stored.project(P).unwrap().unwrap();
    let lines: HashMap<String, String> = stored
        .pull(&project, 0, 100)
        .unwrap()
        .into_iter()
        .map(|(_, json)| {
            (
                serde_json::from_str::<Value>(&json).unwrap()["id"].to_string(),
                json,
            )
        })
        .collect();
    for (g, e) in got.iter().zip([&n, &judged]) {
        assert_eq!(g.header("content-type"), "application/json");
        assert!(g.header("user-agent").starts_with("liner-notes-webhooks/"));
        assert_eq!(g.header("x-liner-event"), e.body.kind());
        let sig = g.header("x-liner-signature-256");
        assert!(verifies(&secret, &g.body, sig), "the signature verifies");
        assert!(
            !verifies("lnhook_wrong", &g.body, sig),
            "another secret does not"
        );
        let mut tampered = g.body.clone();
        tampered[0] = b' ';
        assert!(!verifies(&secret, &tampered, sig), "another body does not");
        let body = g.json();
        assert_eq!(body["project"], P);
        assert_eq!(body["hook"], hook);
        assert_eq!(
            body["delivery"].as_str(),
            Some(g.header("x-liner-delivery"))
        );
        // The event as the record stores it, byte for byte.
        let line = &lines[&serde_json::json!(e.id.to_string()).to_string()];
        let raw = String::from_utf8(g.body.clone()).unwrap();
        assert!(raw.contains(&format!("\"event\":{line}")), "{raw}");
    }
    assert_eq!(
        got[1].json()["text"],
        "Executive producer (executive) asked for changes on Producer's note “breath at the \
         top” (Song, bar 12): more air\nhttps://review.example/song?name=Song"
    );
    let logged = log(liner(data.path()), &["--project", P]);
    assert_eq!(logged.len(), 2, "{logged:?}");
    assert!(
        logged.iter().all(|l| l.contains("delivered (HTTP 200)")),
        "{logged:?}"
    );
}

#[test]
fn a_receiver_answering_500_gets_the_retry_and_the_log_shows_both_attempts() {
    let data = tempfile::tempdir().unwrap();
    let metrics = format!("127.0.0.1:{}", free_port());
    let mut args = FAST.to_vec();
    args.extend(["--metrics-listen", &metrics]);
    let server = Serve::start(data.path(), &args);
    let receiver = Receiver::on("127.0.0.1:0", |n| {
        Answer::Status(if n == 0 { 500 } else { 200 })
    })
    .unwrap();
    let (hook, _) = add_hook(liner(data.path()), &receiver.url("/"), "note_added");
    push(&server.url, &server.producer(), &[&note("one")]);
    let got = receiver.wait_for(2);
    assert_eq!(got[0].body, got[1].body, "the same delivery again");
    assert_eq!(
        got[0].header("x-liner-delivery"),
        got[1].header("x-liner-delivery")
    );
    let mut logged = Vec::new();
    wait_until("both attempts logged", WAIT, || {
        logged = log(liner(data.path()), &["--hook", &hook.to_string()]);
        logged.len() == 2
    });
    // Newest first.
    assert!(
        logged[1].contains("\t1\tthe receiver answered HTTP 500"),
        "{logged:?}"
    );
    assert!(logged[1].contains("retry at"), "{logged:?}");
    assert!(
        logged[0].contains("\t2\tdelivered (HTTP 200)"),
        "{logged:?}"
    );
    let seen = common::client()
        .get(format!("http://{metrics}/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    for line in [
        "liner_webhook_deliveries_total{outcome=\"failed\"} 1",
        "liner_webhook_deliveries_total{outcome=\"delivered\"} 1",
    ] {
        assert!(seen.contains(line), "{line} in {seen}");
    }
    drop(server);
}

#[test]
fn a_hook_gives_up_after_its_attempts_and_goes_on_to_the_next_event() {
    let data = tempfile::tempdir().unwrap();
    let mut args = FAST.to_vec();
    args.extend(["--webhooks-attempts", "3"]);
    let server = Serve::start(data.path(), &args);
    // The first event fails every time; the next one is answered.
    let receiver = Receiver::on("127.0.0.1:0", |n| {
        Answer::Status(if n < 3 { 503 } else { 200 })
    })
    .unwrap();
    add_hook(liner(data.path()), &receiver.url("/"), "note_added");
    // And one where nothing listens, whose URL (a path that is its secret) is never logged.
    let nobody = format!("http://127.0.0.1:{}/hook-secret-path", free_port());
    let (gone, _) = add_hook(liner(data.path()), &nobody, "note_added");
    push(
        &server.url,
        &server.producer(),
        &[&note("lost"), &note("kept")],
    );
    let got = receiver.wait_for(4);
    assert_eq!(got[3].json()["event"]["body"]["text"], "kept");
    let mut unreachable = Vec::new();
    wait_until("the unreachable hook gives up on both notes", WAIT, || {
        unreachable = log(liner(data.path()), &["--hook", &gone.to_string()]);
        unreachable.iter().filter(|l| l.contains("gave up")).count() == 2
    });
    assert!(
        unreachable[0].contains("could not connect"),
        "{unreachable:?}"
    );
    let logged = log(liner(data.path()), &[]);
    assert!(!logged.concat().contains("hook-secret-path"), "{logged:?}");
    assert!(
        logged.iter().any(|l| l.contains("\t3\t")
            && l.ends_with(&format!("gave up\t{}", got[0].header("x-liner-delivery")))),
        "{logged:?}"
    );
}

#[test]
fn a_hanging_receiver_delays_no_push_and_holds_back_no_other_hook() {
    let data = tempfile::tempdir().unwrap();
    let mut args = FAST.to_vec();
    args.extend(["--webhooks-timeout-ms", "30000"]);
    let server = Serve::start(data.path(), &args);
    let hanging = Receiver::on("127.0.0.1:0", |_| Answer::Hang).unwrap();
    let fine = Receiver::ok();
    add_hook(liner(data.path()), &hanging.url("/"), "note_added");
    add_hook(liner(data.path()), &fine.url("/"), "note_added");
    push(&server.url, &server.producer(), &[&note("first")]);
    hanging.wait_for(1);
    fine.wait_for(1);
    // The first hook hangs on the first note: pushes are as quick as ever, and the second
    // hook gets each note at once.
    for i in 0..5 {
        let took = push(&server.url, &server.producer(), &[&note(&format!("n{i}"))]);
        assert!(took < Duration::from_secs(1), "a push took {took:?}");
    }
    let started = Instant::now();
    fine.wait_for(6);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(
        hanging.got().len(),
        1,
        "the hanging hook is still on its first note"
    );
}

#[test]
fn a_redirect_is_not_followed() {
    let data = tempfile::tempdir().unwrap();
    let mut args = FAST.to_vec();
    args.extend(["--webhooks-attempts", "1"]);
    let server = Serve::start(data.path(), &args);
    let target = Receiver::ok();
    let to = target.url("/stolen");
    let redirecting = Receiver::on("127.0.0.1:0", move |_| Answer::Redirect(to.clone())).unwrap();
    add_hook(liner(data.path()), &redirecting.url("/"), "note_added");
    push(&server.url, &server.producer(), &[&note("x")]);
    redirecting.wait_for(1);
    let mut logged = Vec::new();
    wait_until("the attempt logged", WAIT, || {
        logged = log(liner(data.path()), &[]);
        !logged.is_empty()
    });
    assert!(
        logged[0].contains("redirect not followed: HTTP 302"),
        "{logged:?}"
    );
    assert!(logged[0].contains("gave up"), "{logged:?}");
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        target.got().is_empty(),
        "the redirect's target got {:?}",
        target.got()
    );
}

#[test]
fn private_addresses_are_refused_and_logged_without_the_studios_say_so() {
    let data = tempfile::tempdir().unwrap();
    // No --webhooks-allow-private.
    let server = Serve::start(data.path(), &["--webhooks-retry-base-ms", "100"]);
    let v4 = Receiver::ok();
    let v6 = Receiver::on("[::1]:0", |_| Answer::Status(200)).ok();
    let mut urls = vec![
        v4.url("/loopback"),
        format!("http://localhost:{}/by-name", v4.addr.port()),
        "http://10.1.2.3:9/private".to_owned(),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        format!("http://[::ffff:127.0.0.1]:{}/mapped", v4.addr.port()),
    ];
    if let Some(v6) = &v6 {
        urls.push(v6.url("/v6"));
    }
    for url in &urls {
        add_hook(liner(data.path()), url, "note_added");
    }
    push(&server.url, &server.producer(), &[&note("x")]);
    let mut logged = Vec::new();
    wait_until("every hook's refusal logged", WAIT, || {
        logged = log(liner(data.path()), &[]);
        logged.len() >= urls.len()
    });
    std::thread::sleep(Duration::from_millis(500));
    let logged = log(liner(data.path()), &[]);
    assert_eq!(
        logged.len(),
        urls.len(),
        "refused once each, never retried: {logged:?}"
    );
    for l in &logged {
        assert!(l.contains("refused: "), "{l}");
        assert!(l.contains("--webhooks-allow-private"), "{l}");
        assert!(l.contains("gave up"), "{l}");
    }
    assert!(
        logged.iter().any(|l| l.contains("localhost resolves to")),
        "{logged:?}"
    );
    assert!(
        logged
            .iter()
            .any(|l| l.contains("169.254.169.254 is a link-local")),
        "{logged:?}"
    );
    assert!(v4.got().is_empty(), "{:?}", v4.got());
    assert!(v6.is_none_or(|r| r.got().is_empty()));
    drop(server);
}

#[test]
fn a_restarted_server_resumes_without_delivering_anything_twice() {
    let data = tempfile::tempdir().unwrap();
    let server = Serve::start(data.path(), FAST);
    let producer = server.producer();
    let receiver = Receiver::ok();
    add_hook(liner(data.path()), &receiver.url("/"), "note_added");
    let first: Vec<Event> = (0..3).map(|i| note(&format!("before {i}"))).collect();
    push(&server.url, &producer, &first.iter().collect::<Vec<_>>());
    receiver.wait_for(3);
    let port = server.port;
    server.stop();
    // Events stored while it is down (an administrator's import) wait for it.
    let export = data.path().join("more.json");
    let later: Vec<Event> = (0..2).map(|i| note(&format!("while down {i}"))).collect();
    let lines: Vec<String> = later.iter().map(Event::to_json).collect();
    std::fs::write(
        &export,
        format!(
            "{{\"format\":\"liner-notes-export\",\"version\":1,\"events\":[{}]}}",
            lines.join(",")
        ),
    )
    .unwrap();
    let out = run({
        let mut c = liner(data.path());
        c.args(["import"]).arg(&export).args(["--project", P]);
        c
    });
    assert!(out.status.success(), "{}", text(&out));
    let server = Serve::start_with(liner(data.path()), port, FAST);
    push(&server.url, &producer, &[&note("after")]);
    receiver.wait_for(6);
    std::thread::sleep(Duration::from_millis(500));
    let got = receiver.got();
    let texts: Vec<String> = got
        .iter()
        .map(|g| {
            g.json()["event"]["body"]["text"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        texts,
        [
            "before 0",
            "before 1",
            "before 2",
            "while down 0",
            "while down 1",
            "after"
        ],
        "in order, each once"
    );
}

#[test]
fn the_cli_refuses_bad_urls_and_unknown_kinds_with_words_to_act_on() {
    let data = tempfile::tempdir().unwrap();
    let out = run({
        let mut c = liner(data.path());
        c.args(["project", "create", P]);
        c
    });
    assert!(out.status.success(), "{}", text(&out));
    let refused = |url: &str, events: &str, words: &str| {
        let out = run({
            let mut c = liner(data.path());
            c.args([
                "webhook",
                "add",
                "--project",
                P,
                "--url",
                url,
                "--events",
                events,
            ]);
            c
        });
        assert!(!out.status.success(), "{url} {events}: {}", text(&out));
        assert!(text(&out).contains(words), "{url} {events}: {}", text(&out));
    };
    refused("ftp://example.com/x", "all", "must start with https://");
    refused("file:///etc/passwd", "all", "must start with https://");
    refused(
        "https://user:pw@example.com/",
        "all",
        "user name or password",
    );
    refused("example.com/hook", "all", "does not parse");
    refused(
        "https://example.com/",
        "verdicts",
        "unknown event kind \"verdicts\": use `all` or any of",
    );
    refused("https://example.com/", ",", "no event kinds named");
    let out = run({
        let mut c = liner(data.path());
        c.args([
            "webhook",
            "add",
            "--project",
            "Nope",
            "--url",
            "https://example.com/",
        ]);
        c
    });
    assert!(
        text(&out).contains("no project named \"Nope\""),
        "{}",
        text(&out)
    );
    let out = run({
        let mut c = liner(data.path());
        c.args(["webhook", "remove", "42"]);
        c
    });
    assert!(
        text(&out).contains("no webhook with id 42"),
        "{}",
        text(&out)
    );
    // Nothing was added; a good one is, with the kinds being added by others accepted.
    let (id, _) = add_hook(
        liner(data.path()),
        "https://example.com/in",
        "reply_added,marked_done",
    );
    let out = run({
        let mut c = liner(data.path());
        c.args(["webhook", "list"]);
        c
    });
    let listed = String::from_utf8(out.stdout).unwrap();
    assert_eq!(listed.lines().count(), 2, "{listed}");
    assert!(
        listed.contains("https://example.com/in\treply_added,marked_done"),
        "{listed}"
    );
    assert!(!listed.contains("lnhook_"), "never the secret: {listed}");
    let out = run({
        let mut c = liner(data.path());
        c.args(["webhook", "remove", &id.to_string()]);
        c
    });
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn two_servers_on_one_postgres_deliver_each_event_once() {
    let database = common::pg::Cluster::get().new_database();
    let (a_data, b_data) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = Serve::start_with(liner_on(&database, a_data.path()), free_port(), FAST);
    let b = Serve::start_with(liner_on(&database, b_data.path()), free_port(), FAST);
    let producer = a.producer();
    let receiver = Receiver::ok();
    add_hook(
        liner_on(&database, a_data.path()),
        &receiver.url("/"),
        "note_added",
    );
    let mut sent = 0;
    for round in 0..10 {
        for (i, server) in [&a, &b].into_iter().enumerate() {
            push(&server.url, &producer, &[&note(&format!("{round}.{i}"))]);
            sent += 1;
        }
    }
    receiver.wait_for(sent);
    std::thread::sleep(Duration::from_secs(1));
    let got = receiver.got();
    let mut ids: Vec<&str> = got.iter().map(|g| g.header("x-liner-delivery")).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(got.len(), sent, "each event once");
    assert_eq!(ids.len(), sent);
}

#[test]
fn hooks_go_with_the_record_through_backup_restore_and_migrate() {
    let data = tempfile::tempdir().unwrap();
    let sqlite = |dir: &Path| {
        let mut c = common::liner_bin();
        c.arg("--data").arg(dir);
        c
    };
    let out = run({
        let mut c = sqlite(data.path());
        c.args(["project", "create", P]);
        c
    });
    assert!(out.status.success(), "{}", text(&out));
    let (id, _) = add_hook(sqlite(data.path()), "https://example.com/hook", "verdict");
    let listed = |c: Command| {
        String::from_utf8(
            run({
                let mut c = c;
                c.args(["webhook", "list"]);
                c
            })
            .stdout,
        )
        .unwrap()
    };
    let want = format!("{id}\t{P}\thttps://example.com/hook\tverdict\t0\tok");
    assert!(listed(sqlite(data.path())).contains(&want));
    let out = run({
        let mut c = sqlite(data.path());
        c.arg("check");
        c
    });
    assert!(
        text(&out).contains("1 webhooks, all sound"),
        "{}",
        text(&out)
    );
    // Backup and restore.
    let file = data.path().join("backup.db");
    let out = run({
        let mut c = sqlite(data.path());
        c.args(["backup", "--to"]).arg(&file);
        c
    });
    assert!(out.status.success(), "{}", text(&out));
    let restored = tempfile::tempdir().unwrap();
    let into = restored.path().join("server");
    let out = run({
        let mut c = sqlite(&into);
        c.args(["restore", "--from"]).arg(&file);
        c
    });
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        listed(sqlite(&into)).contains(&want),
        "{}",
        listed(sqlite(&into))
    );
    // Into PostgreSQL, twice: the same hook, once.
    let database = common::pg::Cluster::get().new_database();
    for _ in 0..2 {
        let out = run({
            let mut c = common::liner_bin();
            c.args([
                "migrate",
                "--from",
                &format!("sqlite:{}", data.path().display()),
                "--to",
                &database,
            ]);
            c
        });
        assert!(out.status.success(), "{}", text(&out));
    }
    let there = listed(liner_on(&database, data.path()));
    assert!(there.contains(&want), "{there}");
    assert_eq!(there.lines().count(), 2, "{there}");
    // New hooks there get new ids.
    let (next, _) = add_hook(
        liner_on(&database, data.path()),
        "https://example.com/2",
        "all",
    );
    assert!(next > id);
}

#[test]
fn a_server_stopped_mid_delivery_lets_go_and_the_next_one_delivers_at_once() {
    let data = tempfile::tempdir().unwrap();
    let mut args = FAST.to_vec();
    args.extend(["--webhooks-timeout-ms", "30000"]);
    let server = Serve::start(data.path(), &args);
    let producer = server.producer();
    // The first attempt hangs; the server stops while it does.
    let receiver = Receiver::on("127.0.0.1:0", |n| {
        if n == 0 {
            Answer::Hang
        } else {
            Answer::Status(200)
        }
    })
    .unwrap();
    add_hook(liner(data.path()), &receiver.url("/"), "note_added");
    push(&server.url, &producer, &[&note("cut off")]);
    receiver.wait_for(1);
    let port = server.port;
    server.stop();
    // Restarted, it takes the hook up at once (not after the 60 s lease), with the same id.
    let started = Instant::now();
    let _server = Serve::start_with(liner(data.path()), port, &args);
    let got = receiver.wait_for(2);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        got[0].header("x-liner-delivery"),
        got[1].header("x-liner-delivery")
    );
}

/// The claim and the compare-and-set themselves, on whichever store this run uses: only one
/// process holds a hook at a time, a stale or foreign settle writes nothing (not even its
/// log line), and the lease's end lets another take over.
#[test]
fn a_hook_is_held_by_one_process_at_a_time_and_moved_only_from_where_it_stands() {
    use liner_server::store::{Attempt, Settle};
    let dir = tempfile::tempdir().unwrap();
    let store = liner_test_support::open_store(dir.path());
    let project = store.create_project(P).unwrap();
    let hook = store
        .add_hook(&project, "https://example.com/", "all")
        .unwrap();
    assert_eq!(hook.cursor, 0);
    let now = 1_000_000;
    let a = store.claim_hook(hook.id, "a", now, now + 60_000).unwrap();
    assert!(a.is_some(), "free: a takes it");
    assert_eq!(
        store
            .claim_hook(hook.id, "b", now + 1, now + 60_000)
            .unwrap(),
        None
    );
    let attempt = |seq: u64| Attempt {
        at_ms: now,
        hook: hook.id,
        project_id: project.id,
        seq,
        event: "e".into(),
        kind: "note_added".into(),
        delivery: "d".into(),
        attempt: 1,
        status: Some(200),
        error: None,
        retry_ms: None,
        gave_up: false,
    };
    let done = |cursor| Settle::Done { cursor };
    // b does not hold it; a's view of the cursor must be current.
    assert!(!store
        .settle_hook(hook.id, "b", 0, done(5), now + 60_000, Some(&attempt(5)))
        .unwrap());
    assert!(!store
        .settle_hook(hook.id, "a", 3, done(5), now + 60_000, Some(&attempt(5)))
        .unwrap());
    assert!(store.hook_log(None, Some(hook.id), 10).unwrap().is_empty());
    assert!(store
        .settle_hook(hook.id, "a", 0, done(5), now + 60_000, Some(&attempt(5)))
        .unwrap());
    assert!(
        !store
            .settle_hook(hook.id, "a", 0, done(6), now + 60_000, None)
            .unwrap(),
        "once"
    );
    let retry = Settle::Retry {
        cursor: 5,
        attempts: 1,
        at_ms: now + 500,
    };
    assert!(store
        .settle_hook(hook.id, "a", 5, retry, now + 60_000, None)
        .unwrap());
    let listed = store.hooks().unwrap();
    assert_eq!(
        (listed[0].cursor, listed[0].attempts, listed[0].next_ms),
        (5, 1, now + 500)
    );
    assert_eq!(
        store.hook_log(None, Some(hook.id), 10).unwrap(),
        [attempt(5)]
    );
    // Not before its retry is due, and not while a holds it; after a lets go, b may.
    assert_eq!(
        store
            .claim_hook(hook.id, "a", now + 10, now + 60_000)
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .claim_hook(hook.id, "b", now + 600, now + 60_000)
            .unwrap(),
        None
    );
    store.release_hook(hook.id, "a").unwrap();
    assert!(store
        .claim_hook(hook.id, "b", now + 600, now + 60_000)
        .unwrap()
        .is_some());
    // A lease that ran out is taken over.
    assert!(store
        .claim_hook(hook.id, "c", now + 61_000, now + 120_000)
        .unwrap()
        .is_some());
    store.remove_hook(hook.id).unwrap();
    assert!(
        !store
            .settle_hook(hook.id, "c", 5, done(6), now, None)
            .unwrap(),
        "removed"
    );
    assert!(matches!(
        store.remove_hook(hook.id),
        Err(liner_server::store::StoreError::NoHook(_))
    ));
}

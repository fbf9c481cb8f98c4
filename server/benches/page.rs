//! Review page speed, each against a baseline in the same run.
//!
//! 1. Rendering: the overview and the decision queue of a project with 10,000 notes (20
//!    songs, 8 tracks, every note waiting for a verdict), over HTTP with a session, against
//!    the health endpoint over the same connection (the HTTP round trip itself). Target:
//!    under 50 ms each.
//! 2. A verdict from click to visible: the page's POST /verdict, the live stream's `change`
//!    reaching the page, and the page's fetch of the fresh queue without the judged note.
//!    Target: under 100 ms on loopback.
//!
//! Run: `cargo bench -p liner-server --bench page`.

#[path = "../../benches/common/spread.rs"]
mod spread;

use liner_record::event::{Body, Category, Context, Event, NoteAdded};
use liner_record::Role;
use liner_server::store::{Incoming, SqliteStore, Store};
use std::io::{BufRead, BufReader};
use std::sync::Arc;
use std::time::{Duration, Instant};

const P: &str = "Bench LP";
const NOTES: usize = 10_000;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn p99(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[(v.len() * 99 / 100).min(v.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
    let project = store.create_project(P).unwrap();
    let (producer, _) = store.add_token(P, "Sam", Role::Producer).unwrap();
    let (_, exec) = store.add_token(P, "Eve", Role::Executive).unwrap();
    let notes: Vec<Incoming> = (0..NOTES)
        .map(|i| {
            Incoming::from_event(Event::new(
                &Context {
                    project: P.into(),
                    song: format!("Song {}", i % 20),
                    track: format!("Track {}", i % 8),
                    session: uuid::Uuid::from_u128(1 + (i / 500) as u128),
                    author: "Sam".into(),
                    role: Role::Producer,
                },
                None,
                Body::NoteAdded(NoteAdded {
                    text: format!("note {i}: the snare drags a little at the top of the bar"),
                    category: Category::ALL[i % 8],
                    anchor: None,
                    take: None,
                    private: false,
                    version: None,
                    guest: None,
                }),
            ))
        })
        .collect();
    for chunk in notes.chunks(1000) {
        store.push(&project, Some(producer.id), chunk).unwrap();
    }
    let server = liner_server::Background::start(store.clone(), "127.0.0.1:0").unwrap();
    let url = server.url();
    let client = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let signed = client
        .post(format!("{url}/sign-in"))
        .form(&[("token", exec.as_str())])
        .send()
        .unwrap();
    let cookie = signed.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let get = |path: &str| {
        let t = Instant::now();
        let r = client
            .get(format!("{url}{path}"))
            .header("cookie", &cookie)
            .send()
            .unwrap();
        assert!(r.status().is_success(), "{path}: {}", r.status());
        let body = r.text().unwrap();
        (t.elapsed(), body)
    };
    let (cold, _) = get("/");
    println!(
        "first page view (reads and folds {NOTES} notes): {:.1} ms",
        ms(cold)
    );

    const ROUNDS: usize = 40;
    let mut health = Vec::new();
    let mut overview = Vec::new();
    let mut queue = Vec::new();
    let mut queue_bytes = 0;
    for _ in 0..ROUNDS {
        health.push(get("/api/v1/health").0);
        overview.push(get("/").0);
        let (t, body) = get("/queue");
        queue.push(t);
        queue_bytes = body.len();
    }
    let base = median(health);
    for (name, times) in [("overview", overview), ("decision queue", queue)] {
        let spread = spread::Spread::of_ms(&times);
        let m = median(times);
        println!(
            "{name} of {NOTES} notes: {:.1} ms median ({}; {:.0}x the health round trip of {:.2} ms), target 50 ms: {}",
            ms(m),
            spread.range(1),
            m.as_secs_f64() / base.as_secs_f64(),
            ms(base),
            if ms(m) < 50.0 { "met" } else { "NOT met" }
        );
    }
    println!("(the queue page shows the first 100 of {NOTES} waiting items: {queue_bytes} bytes)");

    // A verdict from click to visible.
    let html = get("/queue").1;
    let csrf = html
        .split("data-csrf=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_owned();
    let live = reqwest::blocking::Client::builder()
        .timeout(None)
        .build()
        .unwrap()
        .get(format!("{url}/live?after=0"))
        .header("cookie", &cookie)
        .send()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        for line in BufReader::new(live).lines() {
            let Ok(line) = line else { break };
            if line.starts_with("event: change") && tx.send(()).is_err() {
                break;
            }
        }
    });
    // Drain what the stream says at once (the record is already past 0).
    let _ = rx.recv_timeout(Duration::from_secs(2));
    let mut clicks = Vec::new();
    for note in notes.iter().take(50) {
        let id = note.event.id.to_string();
        let t = Instant::now();
        let r = client
            .post(format!("{url}/verdict"))
            .header("cookie", &cookie)
            .header("accept", "application/json")
            .form(&[
                ("csrf", csrf.as_str()),
                ("target", id.as_str()),
                ("verdict", "approved"),
                ("comment", ""),
            ])
            .send()
            .unwrap();
        assert!(r.status().is_success(), "{}", r.status());
        rx.recv_timeout(Duration::from_secs(5))
            .expect("a change on the live stream");
        let (_, page) = get("/queue");
        assert!(
            !page.contains(&format!("data-id=\"{id}\"")),
            "the judged note is gone"
        );
        clicks.push(t.elapsed());
    }
    let spread = spread::Spread::of_ms(&clicks);
    let (m, p) = (median(clicks.clone()), p99(clicks));
    println!(
        "verdict from click to visible on the page: {:.1} ms median ({}), {:.1} ms p99 ({:.0}x the health round trip), target 100 ms: {}",
        ms(m),
        spread.range(1),
        ms(p),
        m.as_secs_f64() / base.as_secs_f64(),
        if ms(p) < 100.0 { "met" } else { "NOT met" }
    );
}

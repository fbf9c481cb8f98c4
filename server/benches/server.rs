//! Record server speed, each against a baseline in the same run.
//!
//! 1. Ingest: 32 concurrent clients push 100,000 events in batches of 100 over HTTP, against
//!    raw SQLite inserts of the same rows (same pragmas, transactions of 100). Targets:
//!    >= 50,000 events/s and >= 0.3x the raw insert rate.
//! 2. Long-poll delivery: 8 clients wait; one event is pushed every 20 ms; the time from the
//!    push to each waiter holding it. Target: p99 < 100 ms on loopback.
//! 3. Memory: the server's resident memory holding 1,000,000 events (the process's VmRSS
//!    after storing them and serving a pull). Target: < 200 MiB.
//!
//! Run: `cargo bench -p liner-server --bench server`.

use liner_record::event::{Body, Category, Context, Event, NoteAdded};
use liner_record::Role;
use liner_server::store::{Incoming, SqliteStore, Store};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

fn note(project: &str, author: &str, i: usize) -> Event {
    Event::new(
        &Context {
            project: project.into(),
            song: "Song".into(),
            track: "Track".into(),
            session: uuid::Uuid::now_v7(),
            author: author.into(),
            role: Role::Producer,
        },
        None,
        Body::NoteAdded(NoteAdded {
            text: format!("note number {i}, with some words in it"),
            category: Category::Mix,
            anchor: None,
            take: None,
            private: false,
        }),
    )
}

struct Server {
    url: String,
    store: Arc<SqliteStore>,
    _running: liner_server::Background,
}

fn start(dir: &std::path::Path) -> Server {
    let store = Arc::new(SqliteStore::open(dir).unwrap());
    let running = liner_server::Background::start(store.clone(), "127.0.0.1:0").unwrap();
    Server {
        url: running.url(),
        store,
        _running: running,
    }
}

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    const CLIENTS: usize = 32;
    const TOTAL: usize = 100_000;
    const BATCH: usize = 100;

    // Baseline: raw SQLite inserts of the same rows.
    let raw_dir = tempfile::tempdir().unwrap();
    let rows: Vec<(String, String)> = (0..TOTAL)
        .map(|i| {
            let e = note("P", "p", i);
            (e.id.to_string(), e.to_json())
        })
        .collect();
    let raw_rate = {
        let mut conn = rusqlite::Connection::open(raw_dir.path().join("raw.db")).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        conn.pragma_update(None, "synchronous", "FULL").unwrap();
        conn.execute_batch(
            "CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, project_id INTEGER, \
             id TEXT, json TEXT, received_ms INTEGER, UNIQUE (project_id, id))",
        )
        .unwrap();
        let t = Instant::now();
        for chunk in rows.chunks(BATCH) {
            let tx = conn.transaction().unwrap();
            {
                let mut st = tx
                    .prepare_cached("INSERT INTO events (project_id, id, json, received_ms) VALUES (1, ?1, ?2, 0)")
                    .unwrap();
                for (id, json) in chunk {
                    st.execute(rusqlite::params![id, json]).unwrap();
                }
            }
            tx.commit().unwrap();
        }
        TOTAL as f64 / t.elapsed().as_secs_f64()
    };

    // Ingest over HTTP.
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    server.store.create_project("P").unwrap();
    let barrier = Arc::new(Barrier::new(CLIENTS + 1));
    let threads: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let token = server
                .store
                .add_token("P", &format!("p{c}"), Role::Producer)
                .unwrap()
                .1;
            let url = format!("{}/api/v1/events", server.url);
            let bodies: Vec<String> = (0..TOTAL / CLIENTS / BATCH)
                .map(|b| {
                    let events: Vec<String> = (0..BATCH)
                        .map(|i| note("P", &format!("p{c}"), b * BATCH + i).to_json())
                        .collect();
                    format!("{{\"events\":[{}]}}", events.join(","))
                })
                .collect();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                let client = reqwest::blocking::Client::new();
                barrier.wait();
                for body in bodies {
                    let r = client
                        .post(&url)
                        .bearer_auth(&token)
                        .header("content-type", "application/json")
                        .body(body)
                        .send()
                        .unwrap();
                    assert!(r.status().is_success(), "{}", r.status());
                }
            })
        })
        .collect();
    barrier.wait();
    let t = Instant::now();
    for th in threads {
        th.join().unwrap();
    }
    let pushed = (TOTAL / CLIENTS / BATCH) * BATCH * CLIENTS;
    let rate = pushed as f64 / t.elapsed().as_secs_f64();
    println!("ingest, {CLIENTS} clients pushing batches of {BATCH} ({pushed} events):");
    println!("  raw SQLite insert (baseline): {raw_rate:>9.0} events/s");
    println!(
        "  over HTTP                   : {rate:>9.0} events/s ({:.2}x the baseline; targets >= 50,000/s: {}, >= 0.3x: {})",
        rate / raw_rate,
        if rate >= 50_000.0 { "met" } else { "NOT met" },
        if rate / raw_rate >= 0.3 { "met" } else { "NOT met" }
    );

    // Long-poll delivery.
    let project = server.store.project("P").unwrap().unwrap();
    let start_seq = server
        .store
        .pull(&project, 0, usize::MAX / 2)
        .unwrap()
        .last()
        .map_or(0, |(seq, _)| *seq);
    let pusher_token = server
        .store
        .add_token("P", "pusher", Role::Producer)
        .unwrap()
        .1;
    const WAITERS: usize = 8;
    const ROUNDS: usize = 200;
    let sent_at: Arc<std::sync::Mutex<Vec<Instant>>> = Arc::default();
    let waiters: Vec<_> = (0..WAITERS)
        .map(|w| {
            let token = server
                .store
                .add_token("P", &format!("w{w}"), Role::Viewer)
                .unwrap()
                .1;
            let url = server.url.clone();
            std::thread::spawn(move || {
                let client = reqwest::blocking::Client::builder()
                    .timeout(Duration::from_secs(60))
                    .build()
                    .unwrap();
                let mut after = start_seq;
                let mut got = Vec::new();
                while got.len() < ROUNDS {
                    let v: serde_json::Value = client
                        .get(format!("{url}/api/v1/events?after={after}&wait=10"))
                        .bearer_auth(&token)
                        .send()
                        .unwrap()
                        .json()
                        .unwrap();
                    let now = Instant::now();
                    for _ in v["events"].as_array().unwrap() {
                        got.push(now);
                    }
                    after = v["last_seq"].as_u64().unwrap();
                }
                got
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let client = reqwest::blocking::Client::new();
    for i in 0..ROUNDS {
        let body = format!("{{\"events\":[{}]}}", note("P", "pusher", i).to_json());
        sent_at.lock().unwrap().push(Instant::now());
        client
            .post(format!("{}/api/v1/events", server.url))
            .bearer_auth(&pusher_token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
    let sent = sent_at.lock().unwrap().clone();
    let mut lat: Vec<f64> = Vec::new();
    for w in waiters {
        for (i, at) in w.join().unwrap().into_iter().enumerate() {
            lat.push(at.saturating_duration_since(sent[i]).as_secs_f64() * 1e3);
        }
    }
    lat.sort_by(f64::total_cmp);
    let pct = |p: f64| lat[((lat.len() as f64 - 1.0) * p) as usize];
    println!("long-poll delivery, {WAITERS} waiters x {ROUNDS} events:");
    println!(
        "  p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms (target p99 < 100 ms: {})",
        pct(0.5),
        pct(0.99),
        lat.last().unwrap(),
        if pct(0.99) < 100.0 { "met" } else { "NOT met" }
    );
    drop(server);

    // Memory with a million events.
    let big = tempfile::tempdir().unwrap();
    let server = start(big.path());
    let p = server.store.create_project("Big").unwrap();
    let before = rss_mib();
    for chunk in 0..1_000 {
        let batch: Vec<Incoming> = (0..1_000)
            .map(|i| Incoming::from_event(note("Big", "p", chunk * 1_000 + i)))
            .collect();
        server.store.push(&p, None, &batch).unwrap();
    }
    let token = server.store.add_token("Big", "v", Role::Viewer).unwrap().1;
    let r = reqwest::blocking::Client::new()
        .get(format!("{}/api/v1/events?after=999000", server.url))
        .bearer_auth(&token)
        .send()
        .unwrap();
    assert!(r.status().is_success());
    let after = rss_mib();
    println!(
        "memory holding 1,000,000 events: {after:.0} MiB resident ({before:.0} MiB before storing them; target < 200 MiB: {})",
        if after < 200.0 { "met" } else { "NOT met" }
    );
}

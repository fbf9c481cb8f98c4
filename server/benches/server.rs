//! Record server speed, each against a baseline in the same run.
//!
//! 1. Ingest: 32 concurrent clients push 100,000 events in batches of 100 over HTTP, against
//!    raw SQLite inserts of the same rows (same pragmas, transactions of 100). Targets: at
//!    least 50,000 events/s and 0.5x the raw insert rate.
//! 2. Single-event pushes (one note per request, what a plugin sends most): 32 clients each
//!    pushing one at a time, against raw single-row transactions on the same machine.
//!    Target: p99 under 5 ms.
//! 3. Long-poll delivery: 8 clients wait (the baseline), then 500; one event is pushed every
//!    50 ms; the time from the push to each waiter holding it. Targets on loopback: p99 < 100 ms
//!    with 8 waiters, < 250 ms with 500 (the fan-out is one wake-up per waiter and one page
//!    read per waiter, so it grows with the waiters, not with the record).
//! 4. Memory: the server's resident memory holding 1,000,000 events (the process's VmRSS
//!    after storing them and serving a pull, against the same process before; measured first,
//!    while the process is fresh). Target: < 200 MiB.
//!
//! Run: `cargo bench -p liner-server --bench server`. `LINER_BENCH_ONLY=memory|ingest|single|
//! long-poll` runs one part (for profiling).

#[path = "../../benches/common/spread.rs"]
mod spread;

use liner_record::event::{Body, Category, Context, Event, NoteAdded};
use liner_record::Role;
use liner_server::store::{Incoming, SqliteStore, Store};
use spread::Spread;
use std::sync::Arc;
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
            version: None,
            guest: None,
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
    // Every client of this bench is on this machine, so all share one address: its share
    // (256 by default, for a studio behind one router) would stand for the whole server.
    let limits = liner_server::serve::Limits {
        per_address: liner_server::serve::Limits::default().max_connections,
        ..Default::default()
    };
    let running =
        liner_server::Background::start_with(store.clone(), "127.0.0.1:0", limits).unwrap();
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
    let only = std::env::var("LINER_BENCH_ONLY").ok();
    let runs = |part: &str| only.as_deref().is_none_or(|o| o == part);
    if runs("memory") {
        memory();
    }
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    if runs("ingest") {
        ingest(&server);
    }
    if runs("single") {
        single(&server);
    }
    if runs("long-poll") {
        long_polls(&server);
    }
}

const CLIENTS: usize = 32;

/// Memory with a million events, first, while the process is fresh.
fn memory() {
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

/// Ingest: RUNS rounds, each a raw SQLite baseline into a fresh database then the same
/// number of events over HTTP into a fresh project.
fn ingest(server: &Server) {
    const TOTAL: usize = 100_000;
    const BATCH: usize = 100;
    const RUNS: usize = 3;
    let (mut raw_rates, mut rates, mut pushed) = (Vec::new(), Vec::new(), 0);
    for run in 0..RUNS {
        raw_rates.push(raw_insert(TOTAL, BATCH));
        let project = if run == 0 {
            "P".to_string()
        } else {
            format!("P{run}")
        };
        let (n, rate) = http_ingest(server, &project, CLIENTS, TOTAL, BATCH);
        pushed = n;
        rates.push(rate);
    }
    let (raw, http) = (Spread::of(&raw_rates), Spread::of(&rates));
    let ratio = http.median / raw.median;
    println!(
        "ingest, {CLIENTS} clients pushing batches of {BATCH} ({pushed} events), median of {RUNS} rounds:"
    );
    println!(
        "  raw SQLite insert (baseline): {:>9.0} events/s ({})",
        raw.median,
        raw.range(0)
    );
    println!(
        "  over HTTP                   : {:>9.0} events/s ({}; {ratio:.2}x the baseline; targets >= 50,000/s: {}, >= 0.5x: {})",
        http.median,
        http.range(0),
        if http.median >= 50_000.0 { "met" } else { "NOT met" },
        if ratio >= 0.5 { "met" } else { "NOT met" }
    );
}

/// Long-poll delivery to 8 and to 500 waiters.
fn long_polls(server: &Server) {
    if server.store.project("P").unwrap().is_none() {
        server.store.create_project("P").unwrap();
    }
    let pusher_token = server
        .store
        .add_token("P", "pusher", Role::Producer)
        .unwrap()
        .1;
    let few = long_poll(server, &pusher_token, 8, 200);
    let many = long_poll(server, &pusher_token, 500, 40);
    println!("long-poll delivery (push to each waiter holding the event):");
    for (waiters, rounds, lat) in [(8, 200, &few), (500, 40, &many)] {
        println!(
            "  {waiters:>3} waiters x {rounds:>3} events: p50 {:>5.1} ms, p99 {:>5.1} ms, max {:>5.1} ms",
            percentile(lat, 0.5),
            percentile(lat, 0.99),
            lat.last().unwrap(),
        );
    }
    println!(
        "  500 against 8 waiters: p50 {:.1}x, p99 {:.1}x (targets: p99 < 100 ms with 8 waiters: {}, \
         < 250 ms with 500: {})",
        percentile(&many, 0.5) / percentile(&few, 0.5),
        percentile(&many, 0.99) / percentile(&few, 0.99),
        if percentile(&few, 0.99) < 100.0 { "met" } else { "NOT met" },
        if percentile(&many, 0.99) < 250.0 { "met" } else { "NOT met" },
    );
}

/// Single-event pushes: CLIENTS producers each push PER notes one request at a time, after a
/// baseline of the same number of raw single-row transactions (one after another: SQLite
/// writes one transaction at a time anyway).
fn single(server: &Server) {
    const PER: usize = 100;
    let raw = raw_single(CLIENTS * PER);
    let bodies = clients_pushing(server, "Single", CLIENTS, PER, 1);
    let (lat, seconds) = run_clients(&server.url, bodies);
    let rate = lat.len() as f64 / seconds;
    let p99 = percentile(&lat, 0.99);
    println!(
        "single-event pushes, {CLIENTS} clients x {PER} (one note per request): {rate:.0} pushes/s, \
         p50 {:.2} ms, p99 {p99:.2} ms, max {:.2} ms",
        percentile(&lat, 0.5),
        lat.last().unwrap()
    );
    println!(
        "  raw SQLite single-row transactions (baseline): {:.0}/s, p50 {:.2} ms, p99 {:.2} ms; \
         HTTP p99 {:.1}x the raw p99 (target: p99 < 5 ms: {})",
        raw.0,
        raw.1,
        raw.2,
        p99 / raw.2,
        if p99 < 5.0 { "met" } else { "NOT met" }
    );
}

/// `total` raw single-row transactions like the server's, one after another, with the server's
/// pragmas: (per second, p50 ms, p99 ms).
fn raw_single(total: usize) -> (f64, f64, f64) {
    let dir = tempfile::tempdir().unwrap();
    let conn = raw_db(dir.path());
    let rows: Vec<(String, String)> = (0..total)
        .map(|i| {
            let e = note("P", "p", i);
            (e.id.to_string(), e.to_json())
        })
        .collect();
    let mut lat = Vec::with_capacity(total);
    let t = Instant::now();
    for (id, json) in &rows {
        let one = Instant::now();
        conn.execute(
            "INSERT INTO events (project_id, id, json, received_ms) VALUES (1, ?1, ?2, 0)",
            rusqlite::params![id, json],
        )
        .unwrap();
        lat.push(one.elapsed().as_secs_f64() * 1e3);
    }
    let rate = total as f64 / t.elapsed().as_secs_f64();
    lat.sort_by(f64::total_cmp);
    (rate, percentile(&lat, 0.5), percentile(&lat, 0.99))
}

/// A fresh raw database in `dir` with the server's pragmas and an events table like its own.
fn raw_db(dir: &std::path::Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(dir.join("raw.db")).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.pragma_update(None, "synchronous", "FULL").unwrap();
    conn.execute_batch(
        "CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, project_id INTEGER, \
         id TEXT, json TEXT, received_ms INTEGER, UNIQUE (project_id, id))",
    )
    .unwrap();
    conn
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p) as usize]
}

/// `waiters` viewers long-poll (`wait=10`) from `after`; `rounds` events are pushed 50 ms apart;
/// returns, sorted, the milliseconds from each push to each waiter holding the event. The
/// waiters are tasks on one client runtime in this process (two worker threads), so the
/// figure includes the client side's own scheduling, as a busy reviewer's machine would.
fn long_poll(server: &Server, pusher: &str, waiters: usize, rounds: usize) -> Vec<f64> {
    let project = server.store.project("P").unwrap().unwrap();
    let after = server
        .store
        .pull(&project, 0, usize::MAX / 2)
        .unwrap()
        .last()
        .map_or(0, |(seq, _)| *seq);
    let tokens: Vec<String> = (0..waiters)
        .map(|w| {
            server
                .store
                .add_token("P", &format!("w{waiters}-{w}"), Role::Viewer)
                .unwrap()
                .1
        })
        .collect();
    let runtime = client_runtime();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(waiters)
        .build()
        .unwrap();
    let url = server.url.clone();
    let tasks: Vec<_> = tokens
        .into_iter()
        .map(|token| {
            let (client, url) = (client.clone(), url.clone());
            runtime.spawn(async move {
                let mut after = after;
                let mut got = Vec::with_capacity(rounds);
                while got.len() < rounds {
                    let v: serde_json::Value = client
                        .get(format!("{url}/api/v1/events?after={after}&wait=10"))
                        .bearer_auth(&token)
                        .send()
                        .await
                        .unwrap()
                        .json()
                        .await
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
    // Every waiter is parked in its long poll before the first push.
    std::thread::sleep(Duration::from_millis(300 + waiters as u64 * 4));
    let push = reqwest::blocking::Client::new();
    let mut sent = Vec::with_capacity(rounds);
    for i in 0..rounds {
        let body = format!("{{\"events\":[{}]}}", note("P", "pusher", i).to_json());
        sent.push(Instant::now());
        let r = push
            .post(format!("{url}/api/v1/events"))
            .bearer_auth(pusher)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .unwrap();
        assert!(r.status().is_success(), "{}", r.status());
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut lat = Vec::with_capacity(waiters * rounds);
    for task in tasks {
        let got = runtime.block_on(task).unwrap();
        for (i, at) in got.into_iter().enumerate() {
            lat.push(at.saturating_duration_since(sent[i]).as_secs_f64() * 1e3);
        }
    }
    lat.sort_by(f64::total_cmp);
    lat
}

/// Raw SQLite inserts of `total` rows like the server's, in transactions of `batch`, into a
/// fresh database with the server's pragmas: events per second.
fn raw_insert(total: usize, batch: usize) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let rows: Vec<(String, String)> = (0..total)
        .map(|i| {
            let e = note("P", "p", i);
            (e.id.to_string(), e.to_json())
        })
        .collect();
    let mut conn = raw_db(dir.path());
    let t = Instant::now();
    for chunk in rows.chunks(batch) {
        let tx = conn.transaction().unwrap();
        {
            let mut st = tx
                .prepare_cached(
                    "INSERT INTO events (project_id, id, json, received_ms) VALUES (1, ?1, ?2, 0)",
                )
                .unwrap();
            for (id, json) in chunk {
                st.execute(rusqlite::params![id, json]).unwrap();
            }
        }
        tx.commit().unwrap();
    }
    total as f64 / t.elapsed().as_secs_f64()
}

/// `clients` producers push `total` events in batches of `batch` over HTTP into a new project,
/// all starting together: (events pushed, events per second).
fn http_ingest(
    server: &Server,
    project: &str,
    clients: usize,
    total: usize,
    batch: usize,
) -> (usize, f64) {
    let bodies = clients_pushing(server, project, clients, total / clients / batch, batch);
    let (_, seconds) = run_clients(&server.url, bodies);
    let pushed = (total / clients / batch) * batch * clients;
    (pushed, pushed as f64 / seconds)
}

/// A new project and `clients` producers in it, each with `pushes` bodies of `batch` new
/// notes: (token, bodies) per client, for [`run_clients`].
fn clients_pushing(
    server: &Server,
    project: &str,
    clients: usize,
    pushes: usize,
    batch: usize,
) -> Vec<(String, Vec<String>)> {
    server.store.create_project(project).unwrap();
    (0..clients)
        .map(|c| {
            let author = format!("p{c}");
            let token = server
                .store
                .add_token(project, &author, Role::Producer)
                .unwrap()
                .1;
            let bodies = (0..pushes)
                .map(|b| {
                    let events: Vec<String> = (0..batch)
                        .map(|i| note(project, &author, b * batch + i).to_json())
                        .collect();
                    format!("{{\"events\":[{}]}}", events.join(","))
                })
                .collect();
            (token, bodies)
        })
        .collect()
}

/// The clients' runtime: two threads of their own, sharing the machine with the server.
fn client_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Each (token, bodies) is one client pushing its bodies one request at a time, all starting
/// together: the milliseconds each push took, sorted, and the seconds until the last answer.
/// The clients are tasks on one two-thread runtime in this process (a load generator that
/// leaves the shared cores to the server, as clients on their own machines would).
fn run_clients(url: &str, each: Vec<(String, Vec<String>)>) -> (Vec<f64>, f64) {
    let runtime = client_runtime();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(each.len())
        .build()
        .unwrap();
    let url = format!("{url}/api/v1/events");
    let t = Instant::now();
    let tasks: Vec<_> = each
        .into_iter()
        .map(|(token, bodies)| {
            let (client, url) = (client.clone(), url.clone());
            runtime.spawn(async move {
                let mut took = Vec::with_capacity(bodies.len());
                for body in bodies {
                    let one = Instant::now();
                    let r = client
                        .post(&url)
                        .bearer_auth(&token)
                        .header("content-type", "application/json")
                        .body(body)
                        .send()
                        .await
                        .unwrap();
                    assert!(r.status().is_success(), "{}", r.status());
                    r.bytes().await.unwrap();
                    took.push(one.elapsed().as_secs_f64() * 1e3);
                }
                took
            })
        })
        .collect();
    let mut lat: Vec<f64> = tasks
        .into_iter()
        .flat_map(|task| runtime.block_on(task).unwrap())
        .collect();
    let seconds = t.elapsed().as_secs_f64();
    lat.sort_by(f64::total_cmp);
    (lat, seconds)
}

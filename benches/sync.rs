//! Sync speed, with the plugin's real worker and a real server on loopback, each figure beside
//! a baseline measured in the same run.
//!
//! 1. A mark captured (pushed into the audio queue as `process()` does) -> visible to a reader
//!    long-polling the server: 1,000 marks at one per 100 ms (`LINER_BENCH_MARKS` for fewer).
//!    Baseline: an event pushed straight to the server -> the same reader. Targets: p50 under
//!    30 ms, p99 under 100 ms.
//! 2. An executive's verdict pushed to the server -> in the plugin's journal. Target: p99 under
//!    100 ms.
//! 3. One sync round (read what is new, push it, record the answer) with one new event on a
//!    journal of 1,000,000 events (`LINER_BENCH_JOURNAL` for another size), in CPU time of
//!    the syncing thread, against the same round on a journal of one event. Target: under
//!    5 ms.
//! 4. Idle (nothing new, the server up): CPU time of the push and pull threads over 5 s.
//!
//! Each of 1 and 2 runs three times; the report gives every run's median and p99.
//!
//! Run: `cargo bench --bench sync`.

use liner_notes::capture::{CaptureEvent, CaptureKind};
use liner_notes::playhead::HostTransport;
use liner_notes::state::{InstanceState, SavedState};
use liner_notes::worker;
use liner_record::event::{Body, Category, Context, Event, NoteAdded, Verdict};
use liner_record::sync::{SyncClient, SyncReport, TargetSync};
use liner_record::{Journal, Role};
use liner_server::store::{SqliteStore, Store};
use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

fn percentile(mut v: Vec<Duration>, p: usize) -> Duration {
    v.sort();
    v[(v.len() * p / 100).min(v.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// CPU time of the calling thread.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// CPU time (user + system) of this process's threads named `name`.
fn named_threads_cpu(name: &str) -> Duration {
    let tick = Duration::from_secs(1) / 100; // USER_HZ
    let mut total = Duration::ZERO;
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if comm.trim() != name {
            continue;
        }
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        let fields: Vec<&str> = stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .collect();
        let (utime, stime): (u32, u32) = (fields[11].parse().unwrap(), fields[12].parse().unwrap());
        total += tick * (utime + stime);
    }
    total
}

/// A reader long-polling the server from `after`: when each event arrived, by id.
fn reader(url: String, token: String, seen: Arc<Mutex<HashMap<Uuid, Instant>>>) {
    std::thread::spawn(move || {
        let c = SyncClient::new(&url, &token, Duration::from_secs(15)).unwrap();
        let mut after = 0;
        loop {
            let Ok((events, last, _)) = c.pull(after, Duration::from_secs(5)) else {
                return;
            };
            let now = Instant::now();
            let mut seen = seen.lock().unwrap();
            for e in events {
                if let Ok(ev) = serde_json::from_str::<Event>(&e.raw) {
                    seen.insert(ev.id, now);
                }
            }
            after = last;
        }
    });
}

fn note(ctx: &Context, text: &str) -> Event {
    Event::new(
        ctx,
        None,
        Body::NoteAdded(NoteAdded {
            text: text.into(),
            category: Category::Mix,
            anchor: None,
            take: None,
            private: false,
            version: None,
            guest: None,
        }),
    )
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let marks: usize = std::env::var("LINER_BENCH_MARKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let project = format!("Sync bench {}", Uuid::now_v7());
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
    store.create_project(&project).unwrap();
    let pat = store.add_token(&project, "Pat", Role::Producer).unwrap().1;
    let eve = store.add_token(&project, "Eve", Role::Executive).unwrap().1;
    let kim = store.add_token(&project, "Kim", Role::Producer).unwrap().1;
    let server = liner_server::Background::start(store.clone(), "127.0.0.1:0").unwrap();
    let url = server.url();
    let config = std::path::PathBuf::from(std::env::var("LINER_NOTES_CONFIG_DIR").unwrap());
    liner_notes::settings::store_token_in(&config, &url, &pat).unwrap();

    // The plugin: an instance registered with the process's worker, as the plugin does.
    let (mut audio, consumer) = rtrb::RingBuffer::new(liner_notes::AUDIO_QUEUE_CAPACITY);
    let mut st = InstanceState::new();
    st.settings.project = project.clone();
    st.settings.server_url = url.clone();
    st.settings.author = "Pat".into();
    st.settings.role = Role::Producer;
    let instance = st.instance;
    let state = Arc::new(SavedState::new(st));
    let registration = worker::register(
        consumer,
        state.clone(),
        Arc::new(AtomicU64::new(0)),
        Arc::default(),
    );
    let seen: Arc<Mutex<HashMap<Uuid, Instant>>> = Arc::default();
    reader(url.clone(), eve.clone(), seen.clone());
    let journal = Journal::open_project(&project).unwrap();

    // 1. Capture -> visible, against a direct push -> visible.
    let kim_client = SyncClient::new(&url, &kim, Duration::from_secs(10)).unwrap();
    let kim_ctx = Context {
        project: project.clone(),
        song: "S".into(),
        track: "T".into(),
        session: Uuid::now_v7(),
        author: "Kim".into(),
        role: Role::Producer,
    };
    println!("1. capture -> visible to a long-polling reader ({marks} marks, one per 100 ms):");
    let mut number = 1u32;
    for run in 1..=3 {
        let mut captured: Vec<(u32, Instant)> = Vec::new();
        let mut direct: Vec<(Uuid, Instant)> = Vec::new();
        for i in 0..marks {
            audio
                .push(CaptureEvent {
                    kind: CaptureKind::Mark { mark: number },
                    at: HostTransport::default(),
                    advance: 0,
                    frame: 0,
                })
                .unwrap();
            captured.push((number, Instant::now()));
            number += 1;
            if i % 10 == 0 {
                // The baseline: a note pushed straight to the server.
                let e = note(&kim_ctx, "direct");
                let line = liner_record::journal::StoredEvent {
                    id: e.id,
                    json: e.to_json(),
                    event: e.clone(),
                };
                let t = Instant::now();
                kim_client.push(&[&line]).unwrap();
                direct.push((e.id, t));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        std::thread::sleep(Duration::from_millis(500));
        // Marks by number -> their ids, from the plugin's journal.
        let ids: HashMap<u32, Uuid> = journal
            .read()
            .unwrap()
            .events
            .into_iter()
            .filter_map(|e| match e.event.body {
                Body::Mark {
                    instance: i,
                    number,
                    ..
                } if i == instance => Some((number, e.id)),
                _ => None,
            })
            .collect();
        let seen = seen.lock().unwrap();
        let lat: Vec<Duration> = captured
            .iter()
            .map(|(n, t)| seen[&ids[n]].duration_since(*t))
            .collect();
        let base: Vec<Duration> = direct
            .iter()
            .map(|(id, t)| seen[id].duration_since(*t))
            .collect();
        let (p50, p99) = (percentile(lat.clone(), 50), percentile(lat, 99));
        let b50 = percentile(base, 50);
        println!(
            "   run {run}: p50 {:.1} ms, p99 {:.1} ms (direct push -> reader p50 {:.1} ms: {:.1}x); targets 30 / 100 ms: {}",
            ms(p50),
            ms(p99),
            ms(b50),
            p50.as_secs_f64() / b50.as_secs_f64(),
            if ms(p50) < 30.0 && ms(p99) < 100.0 { "met" } else { "NOT met" }
        );
    }

    // 2. Verdict -> in the plugin's journal.
    println!("2. an executive's verdict -> in the plugin's journal (100 verdicts):");
    let pat_ctx = state.read().context(worker::session_id());
    let eve_client = SyncClient::new(&url, &eve, Duration::from_secs(10)).unwrap();
    let eve_ctx = Context {
        author: "Eve".into(),
        role: Role::Executive,
        ..pat_ctx.clone()
    };
    let targets: Vec<Uuid> = (0..100)
        .map(|i| {
            let n = note(&pat_ctx, &format!("judge me {i}"));
            registration.link().submit(n.clone());
            n.id
        })
        .collect();
    while !targets
        .iter()
        .all(|id| seen.lock().unwrap().contains_key(id))
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    for run in 1..=3 {
        let mut offset = journal.read_since(0).unwrap().2;
        let mut lat = Vec::new();
        for target in &targets {
            let v = Event::new(
                &eve_ctx,
                None,
                Body::Verdict {
                    target: *target,
                    verdict: [
                        Verdict::Approved,
                        Verdict::Rejected,
                        Verdict::ChangesRequested,
                    ][run - 1],
                    comment: format!("run {run}"),
                },
            );
            let line = liner_record::journal::StoredEvent {
                id: v.id,
                json: v.to_json(),
                event: v.clone(),
            };
            let t = Instant::now();
            eve_client.push(&[&line]).unwrap();
            'wait: loop {
                let (events, _, end) = journal.read_since(offset).unwrap();
                offset = end;
                if events.iter().any(|e| e.id == v.id) {
                    lat.push(t.elapsed());
                    break 'wait;
                }
                std::thread::sleep(Duration::from_micros(500));
            }
        }
        let (p50, p99) = (percentile(lat.clone(), 50), percentile(lat, 99));
        println!(
            "   run {run}: p50 {:.1} ms, p99 {:.1} ms; target p99 100 ms: {}",
            ms(p50),
            ms(p99),
            if ms(p99) < 100.0 { "met" } else { "NOT met" }
        );
    }

    // 4. Idle: nothing new.
    std::thread::sleep(Duration::from_secs(1));
    let (push0, pull0) = (
        named_threads_cpu("liner-notes-pus"),
        named_threads_cpu("liner-notes-pul"),
    );
    std::thread::sleep(Duration::from_secs(5));
    let (push1, pull1) = (
        named_threads_cpu("liner-notes-pus"),
        named_threads_cpu("liner-notes-pul"),
    );
    println!(
        "4. idle for 5 s: push thread {:.0} ms of CPU, pull thread {:.0} ms (one long poll a second)",
        ms(push1 - push0),
        ms(pull1 - pull0)
    );
    drop(registration);

    // 3. One round with one new event on a big journal, against a journal of one event.
    let size: usize = std::env::var("LINER_BENCH_JOURNAL")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let round_cpu = |events: usize| -> Duration {
        let big_project = format!("Round bench {}", Uuid::now_v7());
        store.create_project(&big_project).unwrap();
        let token = store
            .add_token(&big_project, "Pat", Role::Producer)
            .unwrap()
            .1;
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(dir.path()).unwrap();
        let ctx = Context {
            project: big_project.clone(),
            ..pat_ctx.clone()
        };
        // Synced long ago: the server acknowledged them all (as its acks file says).
        let files = j.sync_files(&url, &big_project).unwrap();
        for start in (0..events).step_by(10_000) {
            let batch: Vec<Event> = (start..(start + 10_000).min(events))
                .map(|i| note(&ctx, &format!("old {i}")))
                .collect();
            j.append(&batch).unwrap();
            files
                .ack(&batch.iter().map(|e| e.id).collect::<Vec<_>>())
                .unwrap();
        }
        let client = SyncClient::new(&url, &token, Duration::from_secs(30)).unwrap();
        let mut target = TargetSync::open(&j, &url, &big_project).unwrap();
        let me = client.me().unwrap();
        let mut cpu = Vec::new();
        for i in 0..20 {
            j.append(&[note(&ctx, &format!("new {i}"))]).unwrap();
            let start = thread_cpu();
            let mut report = SyncReport::new(me.clone());
            target.push(&client, &mut report).unwrap();
            assert_eq!(report.pushed, 1);
            cpu.push(thread_cpu() - start);
        }
        percentile(cpu, 50)
    };
    let small = round_cpu(1);
    println!("3. one round with one new event (building a journal of {size} events first)...");
    let big = round_cpu(size);
    println!(
        "   on {size} events: {:.2} ms of CPU ({:.1}x the {:.2} ms on a journal of 1 event); target 5 ms: {}",
        ms(big),
        big.as_secs_f64() / small.as_secs_f64(),
        ms(small),
        if ms(big) < 5.0 { "met" } else { "NOT met" }
    );
}

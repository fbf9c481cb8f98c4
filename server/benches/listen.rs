//! First audio on the page: what a browser's `<audio>` waits for when a listener presses play
//! on a 60 MB version, on loopback, against the health round trip measured in the same run.
//!
//! A producer's 60 MB version (a `version_printed` event, then its chunks sent over HTTP, as
//! the plugin's worker sends them; the upload's time is reported too) on a SQLite store. Then,
//! as a signed-in executive's session (the page's cookie), what `<audio>` asks for:
//! - play: `GET /versions/<hash>.flac` with `Range: bytes=0-` (the browser's first request
//!   for a media element);
//! - a seek to mid-file: `Range: bytes=30000000-`;
//!
//! each timed to its `206` answer's headers and to the first 64 KiB of audio read (more than
//! a FLAC decoder needs to start: the stream header and the first frames), then the answer is
//! dropped, as a browser drops the rest of a stream it seeks away from (so each request opens
//! a connection of its own, as the browser's does after a seek). Rounds interleave the health
//! round trip (`GET /api/v1/health` over a kept connection), play and seek. Target: first
//! audio under 500 ms, every round. The chunks the store read per request are reported: a
//! range reads only what it serves, so a dropped answer should have read a chunk or two.
//!
//! The browser's own part (decoding, the audio device) is not in this figure: the page tests
//! in `tests/versions_page.rs` drive Chromium, but a bench must run without it (`cargo xtask
//! benchmarks` runs where `.ci/run` did not install a browser), and on loopback the server's
//! answer is the part that grows with the version's size.
//!
//! Run: `cargo bench -p liner-server --bench listen`.

#[path = "../../benches/common/spread.rs"]
mod spread;

use liner_record::clips::ClipHash;
use liner_record::event::{Body, Context, Event};
use liner_record::versions::{chunk_span, chunks_of, VersionPrinted};
use liner_record::Role;
use liner_server::store::{Incoming, SqliteStore, Store};
use spread::Spread;
use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant};

const P: &str = "Bench LP";
/// The version's size: about six minutes of 24-bit stereo FLAC at 48 kHz.
const BYTES: usize = 60_000_000;
/// Where the seek lands.
const SEEK: usize = 30_000_000;
/// What counts as the first audio: read this much of the answer.
const FIRST: usize = 64 * 1024;
const ROUNDS: usize = 40;
const TARGET_MS: f64 = 500.0;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Bytes that look like nothing in particular (a version's file, to the server).
fn noise(len: usize) -> Vec<u8> {
    let mut x = 0x9E37_79B9_7F4A_7C15_u64;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 32) as u8
        })
        .collect()
}

/// The producer's `version_printed` event for a file of `bytes`.
fn version_printed(bytes: &[u8]) -> Event {
    let v: VersionPrinted = serde_json::from_value(serde_json::json!({
        "label": "v1",
        "version": {
            "hash": ClipHash::of(bytes).to_string(),
            "format": "flac", "sample_rate": 48000, "channels": 2,
            "frames": 48000 * 360, "bytes": bytes.len(),
            "loudness": {"integrated": -14.0, "range": 5.0, "true_peak": -1.0},
            "peaks": [-100, 100]
        },
        "start": {"seconds": 0.0}
    }))
    .unwrap();
    Event::new(
        &Context {
            project: P.into(),
            song: "Night Drive".into(),
            track: "Mix bus".into(),
            session: uuid::Uuid::now_v7(),
            author: "Sam".into(),
            role: Role::Producer,
        },
        None,
        Body::VersionPrinted(v),
    )
}

/// One timed range request: to the answer's headers, and to the first [`FIRST`] bytes.
struct Fetch {
    headers: Duration,
    first_audio: Duration,
    chunks_read: u64,
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
    let project = store.create_project(P).unwrap();
    let (producer, sam) = store.add_token(P, "Sam", Role::Producer).unwrap();
    let (_, exec) = store.add_token(P, "Eve", Role::Executive).unwrap();
    let file = noise(BYTES);
    let hash = ClipHash::of(&file).to_string();
    store
        .push(
            &project,
            Some(producer.id),
            &[Incoming::from_event(version_printed(&file))],
        )
        .unwrap();
    let server = liner_server::Background::start(store.clone(), "127.0.0.1:0").unwrap();
    let url = server.url();
    let client = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();

    // What the store reads before serving any range of a version (and twice for each chunk
    // put), timed directly: it grows with the project's stored bytes.
    let version = ClipHash::of(&file);
    let facts = || {
        let t = Instant::now();
        store.version_facts(&project, &version).unwrap();
        t.elapsed()
    };
    let (mut facts_while_uploading, mut pause) = (Vec::new(), Duration::ZERO);
    // The upload, chunk after chunk as the plugin's worker sends them.
    let chunks = chunks_of(BYTES as u64);
    let t = Instant::now();
    for i in 0..chunks {
        let (start, len) = chunk_span(BYTES as u64, i).unwrap();
        let r = client
            .put(format!("{url}/api/v1/versions/{hash}/chunks/{i}"))
            .bearer_auth(&sam)
            .body(file[start as usize..(start + len) as usize].to_vec())
            .send()
            .unwrap();
        assert!(r.status().is_success(), "chunk {i}: {}", r.status());
        let done: serde_json::Value = r.json().unwrap();
        assert_eq!(done["complete"], i + 1 == chunks, "chunk {i}: {done}");
        if (i + 1) % (chunks / 4) == 0 || i + 1 == chunks {
            let paused = Instant::now();
            facts_while_uploading.push((start + len, facts()));
            pause += paused.elapsed();
        }
    }
    let upload = t.elapsed() - pause;
    println!(
        "a {:.0} MB version uploaded in {chunks} chunks over HTTP in {:.2} s ({:.0} MB/s; hashed whole at the last chunk)",
        BYTES as f64 / 1e6,
        upload.as_secs_f64(),
        BYTES as f64 / 1e6 / upload.as_secs_f64()
    );
    println!(
        "the version's facts from the store (read before every range is served, twice for every chunk put): {}",
        facts_while_uploading
            .iter()
            .map(|(stored, d)| format!("{:.1} ms with {:.0} MB stored", ms(*d), *stored as f64 / 1e6))
            .collect::<Vec<_>>()
            .join(", ")
    );

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
    let health = || {
        let t = Instant::now();
        let r = client.get(format!("{url}/api/v1/health")).send().unwrap();
        assert!(r.status().is_success());
        r.bytes().unwrap();
        t.elapsed()
    };
    let range = |from: usize| {
        let before = store.chunks_read();
        let t = Instant::now();
        let mut r = client
            .get(format!("{url}/versions/{hash}.flac"))
            .header("cookie", &cookie)
            .header("range", format!("bytes={from}-"))
            .send()
            .unwrap();
        let headers = t.elapsed();
        assert_eq!(r.status(), reqwest::StatusCode::PARTIAL_CONTENT);
        assert_eq!(
            r.headers()["content-range"].to_str().unwrap(),
            format!("bytes {from}-{}/{BYTES}", BYTES - 1)
        );
        let mut buf = vec![0u8; FIRST];
        r.read_exact(&mut buf).unwrap();
        let first_audio = t.elapsed();
        assert_eq!(buf, file[from..from + FIRST], "the bytes served");
        drop(r);
        Fetch {
            headers,
            first_audio,
            chunks_read: store.chunks_read() - before,
        }
    };
    // The first play after the upload, on its own: nothing of the version read since.
    let cold = range(0);
    println!(
        "first play after the upload: headers {:.2} ms, first 64 KiB {:.2} ms ({} chunks read)",
        ms(cold.headers),
        ms(cold.first_audio),
        cold.chunks_read
    );
    // Where the time goes: the health round trip on a connection of its own (as each range
    // request has), and one chunk read from the store directly, without HTTP.
    let fresh = reqwest::blocking::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let fresh_health = || {
        let t = Instant::now();
        let r = fresh.get(format!("{url}/api/v1/health")).send().unwrap();
        assert!(r.status().is_success());
        r.bytes().unwrap();
        t.elapsed()
    };
    let chunk_read = |index: u64| {
        let t = Instant::now();
        let chunk = store.version_chunk(&project, &version, index).unwrap();
        assert!(chunk.is_some());
        t.elapsed()
    };
    let (mut base, mut plays, mut seeks) = (Vec::new(), Vec::new(), Vec::new());
    let (mut base_fresh, mut reads, mut facts_now) = (Vec::new(), Vec::new(), Vec::new());
    for r in 0..ROUNDS {
        base.push(health());
        base_fresh.push(fresh_health());
        reads.push(chunk_read((r as u64 * 7) % chunks));
        facts_now.push(facts());
        plays.push(range(0));
        seeks.push(range(SEEK));
    }
    let base = Spread::of_ms(&base);
    println!(
        "health round trip (baseline): {:.3} ms median ({}), median of {ROUNDS} rounds",
        base.median,
        base.range(3)
    );
    let (base_fresh, reads) = (Spread::of_ms(&base_fresh), Spread::of_ms(&reads));
    let facts_now = Spread::of_ms(&facts_now);
    println!(
        "  on a new connection: {:.3} ms ({}); from the store directly: one 1 MiB chunk {:.2} ms ({}), the version's facts {:.2} ms ({})",
        base_fresh.median,
        base_fresh.range(3),
        reads.median,
        reads.range(2),
        facts_now.median,
        facts_now.range(2)
    );
    let mut worst: f64 = ms(cold.first_audio);
    for (name, fetches) in [
        ("play  (Range: bytes=0-)       ", &plays),
        ("seek  (Range: bytes=30000000-)", &seeks),
    ] {
        let h = Spread::of_ms(&fetches.iter().map(|f| f.headers).collect::<Vec<_>>());
        let a = Spread::of_ms(&fetches.iter().map(|f| f.first_audio).collect::<Vec<_>>());
        let chunks = Spread::of(
            &fetches
                .iter()
                .map(|f| f.chunks_read as f64)
                .collect::<Vec<_>>(),
        );
        worst = worst.max(a.max);
        println!(
            "  {name}: headers {:.2} ms ({}), first 64 KiB {:.2} ms ({}, max {:.2}; {:.0}x the health round trip); chunks read {:.0} (max {:.0})",
            h.median,
            h.range(2),
            a.median,
            a.range(2),
            a.max,
            a.median / base.median,
            chunks.median,
            chunks.max,
        );
    }
    println!(
        "first audio within {TARGET_MS:.0} ms of play for a 60 MB version on loopback: slowest of {} requests {worst:.2} ms: {}",
        2 * ROUNDS + 1,
        if worst < TARGET_MS { "met" } else { "NOT met" }
    );
}

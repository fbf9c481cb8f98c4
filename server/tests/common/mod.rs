//! What the server's test suites share: the server fixture and the store of a test folder
//! (from `liner-test-support`, which the plugin's tests share too), the `liner` binary, and
//! requests.
#![allow(dead_code)]

pub mod browser;
pub mod producer;
pub mod serve;

// Each suite uses some of these.
#[allow(unused_imports)]
pub use liner_test_support::{database_args, open_store, pg, Server};

use liner_record::event::{Body, Category, Context, Event, NoteAdded};
use liner_record::Role;
use reqwest::blocking::Client;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// The `liner` binary this test run built, with nothing set.
pub fn liner_bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_liner"))
}

/// `liner --data DATA` on the store this run uses for the folder (SQLite in it, or its
/// PostgreSQL database: [`database_args`]).
pub fn liner(data: &Path) -> Command {
    let mut c = liner_bin();
    c.arg("--data").arg(data).args(database_args(data));
    c
}

/// `liner --data DATA --database DATABASE`: on a given database, whatever this run uses.
pub fn liner_on(database: &str, data: &Path) -> Command {
    let mut c = liner_bin();
    c.arg("--data").arg(data).args(["--database", database]);
    c
}

/// A port nothing listens on now (for a server process to take).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn client() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

pub fn ctx(project: &str, author: &str, role: Role) -> Context {
    Context {
        project: project.into(),
        song: "Song".into(),
        track: "Vox".into(),
        session: uuid::Uuid::now_v7(),
        author: author.into(),
        role,
    }
}

pub fn note_by(project: &str, author: &str, role: Role, text: &str) -> Event {
    Event::new(
        &ctx(project, author, role),
        None,
        Body::NoteAdded(NoteAdded {
            text: text.into(),
            category: Category::Vocal,
            anchor: None,
            take: None,
            private: false,
            version: None,
            guest: None,
        }),
    )
}

/// `author`'s approval of `target`, with no comment.
pub fn approval(project: &str, author: &str, target: uuid::Uuid) -> Event {
    Event::new(
        &ctx(project, author, Role::Executive),
        None,
        Body::Verdict {
            target,
            verdict: liner_record::event::Verdict::Approved,
            comment: String::new(),
        },
    )
}

/// Pushes events as they serialize; the status and the answer.
pub fn push(s: &Server, token: &str, events: &[&Event]) -> (StatusCode, Value) {
    push_raw(s, token, &json!({ "events": events }).to_string())
}

pub fn push_raw(s: &Server, token: &str, body: &str) -> (StatusCode, Value) {
    let r = client()
        .post(format!("{}/api/v1/events", s.url))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .unwrap();
    (r.status(), r.json().unwrap())
}

pub fn get(s: &Server, token: &str, path: &str) -> (StatusCode, String) {
    let r = client()
        .get(format!("{}{path}", s.url))
        .bearer_auth(token)
        .send()
        .unwrap();
    (r.status(), r.text().unwrap())
}

/// The error code of a refused request, or of the first refused event of a push.
pub fn code(r: &Value) -> &str {
    r["error"]["code"]
        .as_str()
        .or_else(|| {
            r["results"]
                .as_array()?
                .iter()
                .find_map(|e| e["error"]["code"].as_str())
        })
        .unwrap_or("")
}

/// Percent-encodes a query value.
pub fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Signs in to the review page with `token` as its form posts it (extra `headers` too), not
/// following the redirect.
pub fn sign_in_raw(
    s: &Server,
    token: &str,
    headers: &[(&str, &str)],
) -> reqwest::blocking::Response {
    sign_in_at(&s.url, token, headers)
}

/// [`sign_in_raw`] on the server at `url` (one started some other way).
pub fn sign_in_at(url: &str, token: &str, headers: &[(&str, &str)]) -> reqwest::blocking::Response {
    let client = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut req = client
        .post(format!("{url}/sign-in"))
        .form(&[("token", token)]);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().unwrap()
}

/// The `name=value` of the session cookie a sign-in answer sets.
pub fn session_cookie(signed: &reqwest::blocking::Response) -> String {
    signed.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

/// What a `clip_attached` event says of a 12-second stereo clip of `bytes` (its moment 8 s in).
pub fn clip_of(bytes: &[u8]) -> liner_record::clips::Clip {
    serde_json::from_value(json!({
        "hash": liner_record::clips::ClipHash::of(bytes).to_string(),
        "format": "flac",
        "sample_rate": 48000,
        "channels": 2,
        "frames": 48000 * 12,
        "moment": 48000 * 8,
        "bytes": bytes.len(),
    }))
    .unwrap()
}

/// `author`'s (a producer's) `clip_attached` event in `project`: a clip of `bytes` for
/// `target`.
pub fn clip_attached(project: &str, author: &str, target: uuid::Uuid, bytes: &[u8]) -> Event {
    Event::new(
        &ctx(project, author, Role::Producer),
        None,
        Body::ClipAttached(liner_record::event::ClipAttached {
            target,
            clip: clip_of(bytes),
            private: false,
        }),
    )
}

/// What a `version_printed` event says of a 48 kHz stereo version whose file is `bytes`.
pub fn version_of(bytes: &[u8]) -> liner_record::versions::VersionPrinted {
    serde_json::from_value(json!({
        "label": "v1",
        "version": {
            "hash": liner_record::clips::ClipHash::of(bytes).to_string(),
            "format": "flac", "sample_rate": 48000, "channels": 2,
            "frames": 48000 * 60, "bytes": bytes.len(),
            "loudness": {"integrated": -14.0, "range": 5.0, "true_peak": -1.0},
            "peaks": [-100, 100]
        },
        "start": {"seconds": 0.0}
    }))
    .unwrap()
}

/// `author`'s (a producer's) `version_printed` event in `project` for a version file of
/// `bytes`.
pub fn version_printed(project: &str, author: &str, bytes: &[u8]) -> Event {
    Event::new(
        &ctx(project, author, Role::Producer),
        None,
        Body::VersionPrinted(version_of(bytes)),
    )
}

/// Bytes that look like nothing in particular (a version's file, to the server), made from
/// `seed`.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 32) as u8
        })
        .collect()
}

/// A signed-in page session of `token`: its cookie and its CSRF secret.
pub fn page_session(s: &Server, token: &str) -> (String, String) {
    let cookie = session_cookie(&sign_in_raw(s, token, &[]));
    let html = client()
        .get(format!("{}/queue", s.url))
        .header("cookie", &cookie)
        .send()
        .unwrap()
        .text()
        .unwrap();
    (cookie, csrf_in(&html))
}

/// The CSRF secret a signed-in page carries (its body's `data-csrf`).
pub fn csrf_in(html: &str) -> String {
    html.split("data-csrf=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned()
}

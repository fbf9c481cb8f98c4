//! Audio clips on the server: sent by content hash after the event naming them, checked,
//! within a quota, and read only by the project's own people.

mod common;

use common::{client, code, note_by, push, Server};
use liner_record::clips::{Clip, ClipHash};
use liner_record::event::{Body, ClipAttached, Event};
use liner_record::Role;
use liner_server::store::{SqliteStore, Store};
use reqwest::StatusCode;
use std::sync::Arc;

const P: &str = "Album";

fn clip_of(bytes: &[u8]) -> Clip {
    serde_json::from_value(serde_json::json!({
        "hash": ClipHash::of(bytes).to_string(),
        "format": "flac",
        "sample_rate": 48000,
        "channels": 2,
        "frames": 48000 * 12,
        "moment": 48000 * 8,
        "bytes": bytes.len(),
    }))
    .unwrap()
}

fn attach(author: &str, target: uuid::Uuid, bytes: &[u8], private: bool) -> Event {
    Event::new(
        &common::ctx(P, author, Role::Producer),
        None,
        Body::ClipAttached(ClipAttached {
            target,
            clip: clip_of(bytes),
            private,
        }),
    )
}

fn put(s: &Server, token: &str, hash: &str, bytes: &[u8]) -> (StatusCode, String) {
    let r = client()
        .put(format!("{}/api/v1/clips/{hash}", s.url))
        .bearer_auth(token)
        .body(bytes.to_vec())
        .send()
        .unwrap();
    (r.status(), r.text().unwrap())
}

fn fetch(s: &Server, token: &str, hash: &str, range: Option<&str>) -> reqwest::blocking::Response {
    let mut r = client()
        .get(format!("{}/api/v1/clips/{hash}", s.url))
        .bearer_auth(token);
    if let Some(range) = range {
        r = r.header("range", range);
    }
    r.send().unwrap()
}

fn error_code(body: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(body).unwrap();
    code(&v).to_owned()
}

#[test]
fn a_clip_goes_up_after_its_event_once_and_comes_back_to_the_project_only() {
    let s = Server::start();
    let sam = s.token(P, "Sam", Role::Producer);
    let jo = s.token(P, "Jo", Role::Executive);
    let outsider = s.token("Other", "Max", Role::Executive);
    let audio = b"fLaC pretend audio, 40 bytes long......".to_vec();
    let hash = ClipHash::of(&audio).to_string();

    // Before its event, the server does not take the bytes.
    let (status, body) = put(&s, &sam, &hash, &audio);
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(error_code(&body), "unknown_clip");

    let note = note_by(P, "Sam", Role::Producer, "snare drags");
    let clip = attach("Sam", note.id, &audio, false);
    let (status, r) = push(&s, &sam, &[&note, &clip]);
    assert_eq!(status, StatusCode::OK, "{r}");

    assert_eq!(put(&s, &sam, &hash, &audio).0, StatusCode::CREATED);
    assert_eq!(put(&s, &sam, &hash, &audio).0, StatusCode::OK, "a retry");

    let got = fetch(&s, &jo, &hash, None);
    assert_eq!(got.status(), StatusCode::OK);
    assert_eq!(got.headers()["content-type"], "audio/flac");
    assert_eq!(got.bytes().unwrap().as_ref(), &audio[..]);
    let part = fetch(&s, &jo, &format!("{hash}.flac"), Some("bytes=4-9"));
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 4-9/{}", audio.len())
    );
    assert_eq!(part.bytes().unwrap().as_ref(), &audio[4..10]);

    // Another project's people learn nothing, not even that it exists.
    let other = fetch(&s, &outsider, &hash, None);
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
    assert_eq!(put(&s, &outsider, &hash, &audio).0, StatusCode::NOT_FOUND);
    // Without a token, nothing.
    let anonymous = client()
        .get(format!("{}/api/v1/clips/{hash}", s.url))
        .send()
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

#[test]
fn damaged_oversized_misnamed_and_read_only_sends_are_refused_and_change_nothing() {
    let s = Server::start();
    let sam = s.token(P, "Sam", Role::Producer);
    let viewer = s.token(P, "Vi", Role::Viewer);
    let audio = b"fLaC the real bytes".to_vec();
    let hash = ClipHash::of(&audio).to_string();
    let note = note_by(P, "Sam", Role::Producer, "snare drags");
    push(&s, &sam, &[&note, &attach("Sam", note.id, &audio, false)]);

    let (status, body) = put(&s, &sam, &hash, b"fLaC the real bytez");
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(&body), "hash_mismatch");
    let (status, body) = put(&s, &sam, "not-a-hash", &audio);
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "bad_hash");
    let (status, body) = put(&s, &viewer, &hash, &audio);
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(error_code(&body), "viewer");
    let huge = vec![0u8; liner_record::clips::MAX_CLIP_BYTES as usize + 1];
    let (status, _) = put(&s, &sam, &ClipHash::of(&huge).to_string(), &huge);
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);

    // An event that names other bytes under the same size: the sizes must agree.
    let other = b"fLaC other, longer bytes".to_vec();
    let note2 = note_by(P, "Sam", Role::Producer, "hats");
    let mut lying = attach("Sam", note2.id, &other, false);
    if let Body::ClipAttached(c) = &mut lying.body {
        c.clip.bytes = 3;
    }
    push(&s, &sam, &[&note2, &lying]);
    let (status, body) = put(&s, &sam, &ClipHash::of(&other).to_string(), &other);
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(error_code(&body), "wrong_size");

    let p = s.store.project(P).unwrap().unwrap();
    assert_eq!(s.store.clip_usage(&p).unwrap(), 0, "nothing stored");
}

#[test]
fn only_the_person_who_made_the_moment_attaches_its_audio() {
    let s = Server::start();
    let sam = s.token(P, "Sam", Role::Producer);
    let alex = s.token(P, "Alex", Role::Producer);
    let note = note_by(P, "Sam", Role::Producer, "snare drags");
    push(&s, &sam, &[&note]);
    let (status, r) = push(&s, &alex, &[&attach("Alex", note.id, b"x", false)]);
    assert_eq!(status, StatusCode::FORBIDDEN, "{r}");
    assert_eq!(code(&r), "not_yours");
    let (status, r) = push(
        &s,
        &sam,
        &[&attach("Sam", uuid::Uuid::now_v7(), b"x", false)],
    );
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{r}");
    assert_eq!(code(&r), "unknown_target");
    // A clip whose description is impossible is no event at all.
    let mut bad = serde_json::to_value(attach("Sam", note.id, b"x", false)).unwrap();
    bad["body"]["clip"]["moment"] = serde_json::json!(48000 * 13);
    let (status, r) = common::push_raw(&s, &sam, &serde_json::json!({"events": [bad]}).to_string());
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{r}");
    assert_eq!(code(&r), "bad_event");
}

#[test]
fn a_project_past_its_clip_quota_is_told_and_keeps_every_note() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
    let running = liner_server::Background::start_with(
        store.clone(),
        "127.0.0.1:0",
        liner_server::serve::Limits {
            clip_quota: 50,
            ..Default::default()
        },
    )
    .unwrap();
    store.create_project(P).unwrap();
    let sam = store.add_token(P, "Sam", Role::Producer).unwrap().1;
    let s = Server::attach(running, store, dir);
    let first = vec![1u8; 30];
    let second = vec![2u8; 30];
    let (n1, n2) = (
        note_by(P, "Sam", Role::Producer, "one"),
        note_by(P, "Sam", Role::Producer, "two"),
    );
    let (status, _) = push(
        &s,
        &sam,
        &[
            &n1,
            &n2,
            &attach("Sam", n1.id, &first, false),
            &attach("Sam", n2.id, &second, false),
        ],
    );
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        put(&s, &sam, &ClipHash::of(&first).to_string(), &first).0,
        StatusCode::CREATED
    );
    let (status, body) = put(&s, &sam, &ClipHash::of(&second).to_string(), &second);
    assert_eq!(status, StatusCode::INSUFFICIENT_STORAGE, "{body}");
    assert_eq!(error_code(&body), "over_quota");
    assert!(body.contains("notes themselves are all stored"), "{body}");
    assert_eq!(s.stored(P).len(), 4, "every event stayed");
}

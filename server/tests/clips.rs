//! Audio clips on the server: sent by content hash after the event naming them, checked,
//! within a quota, and read only by the project's own people.

mod common;

use common::{client, code, note_by, push, Server};
use liner_record::clips::ClipHash;
use liner_record::event::{Body, ClipAttached, Event};
use liner_record::Role;
use reqwest::StatusCode;

const P: &str = "Album";

fn attach(author: &str, target: uuid::Uuid, bytes: &[u8], private: bool) -> Event {
    Event::new(
        &common::ctx(P, author, Role::Producer),
        None,
        Body::ClipAttached(ClipAttached {
            target,
            clip: common::clip_of(bytes),
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
    let s = Server::start_with(liner_server::serve::Limits {
        clip_quota: 50,
        ..Default::default()
    });
    let sam = s.token(P, "Sam", Role::Producer);
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

/// `liner export --journal JOURNAL --format FORMAT --clips -o LOG [--include-private]`.
fn export_clips(
    journal: &str,
    format: &str,
    log: &std::path::Path,
    private: bool,
) -> std::process::Output {
    let mut c = common::liner_bin();
    c.args([
        "export",
        "--journal",
        journal,
        "--format",
        format,
        "--clips",
        "-o",
    ])
    .arg(log);
    if private {
        c.arg("--include-private");
    }
    c.output().unwrap()
}

/// `liner export --clips` writes each exported entry's clip beside the log, named after its
/// entry, and links it from the log: from the server's database (a clip it never received is
/// said and not linked) and from a journal (a private note's clip only with private notes).
#[test]
fn an_export_with_clips_writes_them_beside_the_log_and_links_them() {
    let s = Server::start();
    let sam = s.token(P, "Sam", Role::Producer);
    let snare = note_by(P, "Sam", Role::Producer, "The snare drags at bar 23!");
    let hat = note_by(P, "Sam", Role::Producer, "hi-hat too loud");
    let plain = note_by(P, "Sam", Role::Producer, "no audio for this one");
    let (snare_audio, hat_audio) = (b"snare audio".to_vec(), b"hi-hat audio".to_vec());
    let (snare_clip, hat_clip) = (
        attach("Sam", snare.id, &snare_audio, false),
        attach("Sam", hat.id, &hat_audio, false),
    );
    let (status, body) = push(&s, &sam, &[&snare, &hat, &plain, &snare_clip, &hat_clip]);
    assert_eq!(status, StatusCode::OK, "{body}");
    let hash = common::clip_of(&snare_audio).hash.to_string();
    assert_eq!(put(&s, &sam, &hash, &snare_audio).0, StatusCode::CREATED);

    let out_dir = tempfile::tempdir().unwrap();
    let log = out_dir.path().join("Album log.md");
    let out = common::liner(s.dir.path())
        .args(["export", "--project", P, "--format", "markdown"])
        .arg("-o")
        .arg(&log)
        .arg("--clips")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let folder = out_dir.path().join("Album log-clips");
    let written: Vec<String> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(written, ["01-the-snare-drags-at-bar-23.flac"]);
    assert_eq!(
        std::fs::read(folder.join("01-the-snare-drags-at-bar-23.flac")).unwrap(),
        snare_audio
    );
    assert!(
        stderr.contains("02-hi-hat-too-loud.flac is left out"),
        "{stderr}"
    );
    let md = std::fs::read_to_string(&log).unwrap();
    assert!(
        md.contains("The snare drags at bar 23! · [audio clip](<Album%20log-clips/01-the-snare-drags-at-bar-23.flac>)"),
        "{md}"
    );
    assert_eq!(md.matches("audio clip").count(), 1, "{md}");

    // From a journal, as HTML: a private note's clip comes only with private notes.
    let journal = tempfile::tempdir().unwrap();
    let j = liner_record::Journal::open(journal.path()).unwrap();
    let mut secret = note_by(P, "Sam", Role::Producer, "singer is flat");
    if let Body::NoteAdded(n) = &mut secret.body {
        n.private = true;
    }
    let secret_audio = b"private audio".to_vec();
    let secret_clip = attach("Sam", secret.id, &secret_audio, true);
    j.append(&[snare.clone(), snare_clip.clone(), secret, secret_clip])
        .unwrap();
    let store = liner_record::clips::ClipStore::of_journal(j.dir());
    store
        .put(&snare_audio, liner_record::clips::ClipFormat::Flac)
        .unwrap();
    store
        .put(&secret_audio, liner_record::clips::ClipFormat::Flac)
        .unwrap();
    let dir = journal.path().to_str().unwrap();
    for (private, expected) in [(false, 1), (true, 2)] {
        let html = out_dir.path().join(format!("log-{private}.html"));
        let out = export_clips(dir, "html", &html, private);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let page = std::fs::read_to_string(&html).unwrap();
        assert_eq!(page.matches("<a href=\"log-").count(), expected, "{page}");
        let files = std::fs::read_dir(out_dir.path().join(format!("log-{private}-clips")))
            .unwrap()
            .count();
        assert_eq!(files, expected);
        assert_eq!(page.contains("singer-is-flat.flac"), private, "{page}");
    }

    // The same log exported again without private notes: the private clip does not stay
    // behind in its folder.
    let again = out_dir.path().join("log-true.html");
    let out = export_clips(dir, "html", &again, false);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let left: Vec<String> = std::fs::read_dir(out_dir.path().join("log-true-clips"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["01-the-snare-drags-at-bar-23.flac"]);
    // A folder of that name that is not an earlier export's is left alone.
    let theirs = out_dir.path().join("notes-clips");
    std::fs::create_dir(&theirs).unwrap();
    std::fs::write(theirs.join("mine.txt"), b"keep me").unwrap();
    let out = export_clips(dir, "html", &out_dir.path().join("notes.html"), false);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not an earlier export's clip folder"));
    assert_eq!(std::fs::read(theirs.join("mine.txt")).unwrap(), b"keep me");

    // Formats with no place for a link say so, and write nothing.
    let csv = out_dir.path().join("log.csv");
    let out = export_clips(dir, "csv", &csv, false);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("--clips goes with --format markdown or html"));
    assert!(!csv.exists() && !out_dir.path().join("log-clips").exists());
}

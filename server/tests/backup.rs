//! Backups that restore: `liner backup` while pushes go on, `liner restore` into an empty
//! folder, `liner check`; a damaged or foreign backup refused with words. The copy is of
//! SQLite's file: on PostgreSQL the command says how to use pg_dump (checked on that pass).

mod common;

use common::{client, liner, note_by, push, Server};
use liner_record::clips::ClipHash;
use liner_record::event::Event;
use liner_record::Role;
use liner_server::store::{SqliteStore, Store};
use reqwest::StatusCode;
use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const P: &str = "Album";

fn on_postgres() -> bool {
    liner_test_support::pg::enabled()
}

/// A note by Sam with a clip of `bytes`, the clip sent; returns Sam's token.
fn note_with_clip(s: &Server, bytes: &[u8]) -> String {
    let token = s.token(P, "Sam", Role::Producer);
    let note = note_by(P, "Sam", Role::Producer, "hear this");
    let attached = common::clip_attached(P, "Sam", note.id, bytes);
    assert_eq!(push(s, &token, &[&note, &attached]).0, StatusCode::OK);
    let r = client()
        .put(format!("{}/api/v1/clips/{}", s.url, ClipHash::of(bytes)))
        .bearer_auth(&token)
        .body(bytes.to_vec())
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    token
}

fn run(command: &mut std::process::Command) -> (bool, String, String) {
    let out = command.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ids(store: &dyn Store) -> Vec<String> {
    let p = store.project(P).unwrap().unwrap();
    store
        .pull(&p, 0, usize::MAX / 2)
        .unwrap()
        .into_iter()
        .map(|(_, json)| serde_json::from_str::<Event>(&json).unwrap().id.to_string())
        .collect()
}

#[test]
fn a_backup_taken_while_pushes_go_on_restores_every_event_acknowledged_before_it() {
    let s = Server::start();
    let backup = s.dir.path().join("backups").join("record.backup");
    std::fs::create_dir_all(backup.parent().unwrap()).unwrap();
    if on_postgres() {
        let (ok, _, err) = run(liner(s.dir.path()).arg("backup").arg("--to").arg(&backup));
        assert!(!ok && err.contains("pg_dump"), "{err}");
        assert!(!backup.exists());
        // A check reads PostgreSQL's events and clips the same way.
        note_with_clip(&s, &[5u8; 3000]);
        let (ok, out, err) = run(liner(s.dir.path()).arg("check"));
        assert!(
            ok && out.contains("2 events and 1 clips, all sound"),
            "{out}{err}"
        );
        return;
    }
    let audio: Vec<u8> = (0..50_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let token = note_with_clip(&s, &audio);
    // Four producers push all along; each acknowledged event is noted with its moment.
    let going = Arc::new(AtomicBool::new(true));
    let acked: Arc<Mutex<Vec<(String, Instant)>>> = Arc::default();
    let pushers: Vec<_> = (0..4)
        .map(|i| {
            let (url, going, acked) = (s.url.clone(), going.clone(), acked.clone());
            let token = s.token(P, &format!("P{i}"), Role::Producer);
            std::thread::spawn(move || {
                let c = client();
                while going.load(Ordering::Relaxed) {
                    let e = note_by(P, &format!("P{i}"), Role::Producer, "during the backup");
                    let r = c
                        .post(format!("{url}/api/v1/events"))
                        .bearer_auth(&token)
                        .json(&serde_json::json!({ "events": [e] }))
                        .send();
                    if r.is_ok_and(|r| r.status() == StatusCode::OK) {
                        acked
                            .lock()
                            .unwrap()
                            .push((e.id.to_string(), Instant::now()));
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(400));
    let began = Instant::now();
    let (ok, out, err) = run(liner(s.dir.path()).arg("backup").arg("--to").arg(&backup));
    assert!(ok, "{out}{err}");
    std::thread::sleep(Duration::from_millis(200));
    going.store(false, Ordering::Relaxed);
    for p in pushers {
        p.join().unwrap();
    }
    let before: Vec<String> = acked
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, at)| *at < began)
        .map(|(id, _)| id.clone())
        .collect();
    assert!(before.len() > 20, "pushes went on before the backup");
    assert!(acked.lock().unwrap().len() > before.len(), "and during it");
    // The record notes it, and the page says so.
    let note = s.store.last_backup().unwrap().expect("the backup is noted");
    assert!(note.events as usize >= before.len() + 2);
    assert_eq!(note.bytes, std::fs::metadata(&backup).unwrap().len());
    let exec = s.token(P, "Eve", Role::Executive);
    let cookie = common::session_cookie(&common::sign_in_raw(&s, &exec, &[]));
    let overview = client()
        .get(format!("{}/", s.url))
        .header("cookie", cookie)
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        overview.contains("Last backup of the record: ")
            && overview.contains(&format!("({} events)", note.events)),
        "the page does not say when the last backup ran"
    );

    // A backup that became readable by others on its way is restored owner-only.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&backup, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let restored = tempfile::tempdir().unwrap();
    let (ok, out, err) = run(liner(restored.path())
        .arg("restore")
        .arg("--from")
        .arg(&backup));
    assert!(ok && out.contains("all sound"), "{out}{err}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(restored.path().join("liner.db"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o777,
            0o600,
            "the restored record is its owner's only"
        );
    }
    let copy = SqliteStore::open(restored.path()).unwrap();
    let held: Vec<String> = ids(&copy);
    let unique: HashSet<&String> = held.iter().collect();
    assert_eq!(unique.len(), held.len(), "no event twice");
    for id in &before {
        assert!(
            unique.contains(id),
            "{id}, acknowledged before the backup, is missing"
        );
    }
    drop(copy);
    // The restored record serves: the old token pushes, numbers go on, the clip plays.
    let served = Server::start_in(restored, "127.0.0.1:0", Default::default());
    let r = client()
        .get(format!(
            "{}/api/v1/clips/{}",
            served.url,
            ClipHash::of(&audio)
        ))
        .bearer_auth(&token)
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.bytes().unwrap().to_vec(), audio);
    let (status, body) = push(
        &served,
        &token,
        &[&note_by(P, "Sam", Role::Producer, "after")],
    );
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["results"][0]["seq"], held.len() as u64 + 1);
}

/// Damages `good` into `bad` in a given way.
fn damaged(good: &Path, bad: &Path, how: &str) {
    let bytes = std::fs::read(good).unwrap();
    let out: Vec<u8> = match how {
        "truncated" => bytes[..bytes.len() / 2].to_vec(),
        "noise" => (0..bytes.len()).map(|i| (i * 31 % 256) as u8).collect(),
        "pages" => {
            let mut b = bytes.clone();
            // Past the header and the first page: the tables' pages, overwritten.
            for x in &mut b[4096..bytes.len().min(4096 * 4)] {
                *x = 0x5A;
            }
            b
        }
        _ => unreachable!(),
    };
    std::fs::write(bad, out).unwrap();
}

#[test]
fn a_damaged_or_foreign_backup_is_refused_with_words_and_nothing_is_written() {
    if on_postgres() {
        return;
    }
    let s = Server::start();
    note_with_clip(&s, &[3u8; 5000]);
    let good = s.dir.path().join("good.backup");
    let (ok, out, err) = run(liner(s.dir.path()).arg("backup").arg("--to").arg(&good));
    assert!(ok, "{out}{err}");
    // A backup is never written over.
    let (ok, _, err) = run(liner(s.dir.path()).arg("backup").arg("--to").arg(&good));
    assert!(!ok && err.contains("never overwrites"), "{err}");

    let foreign = s.dir.path().join("foreign.db");
    rusqlite::Connection::open(&foreign)
        .unwrap()
        .execute_batch("CREATE TABLE songs (name TEXT); INSERT INTO songs VALUES ('x');")
        .unwrap();
    let mut cases = vec![("foreign", foreign)];
    for how in ["truncated", "noise", "pages"] {
        let bad = s.dir.path().join(format!("{how}.backup"));
        damaged(&good, &bad, how);
        cases.push((how, bad));
    }
    for (how, bad) in cases {
        let empty = tempfile::tempdir().unwrap();
        let (ok, _, err) = run(liner(empty.path()).arg("restore").arg("--from").arg(&bad));
        assert!(!ok, "{how}: restored");
        assert!(
            err.contains("not a Liner Notes backup") || err.contains("damaged"),
            "{how}: {err}"
        );
        assert!(err.contains("nothing was restored"), "{how}: {err}");
        assert!(
            !empty.path().join("liner.db").exists(),
            "{how}: a database was written"
        );
    }
    // A backup or a check of a folder without a record is refused, and makes none.
    let empty = tempfile::tempdir().unwrap();
    let (ok, _, err) = run(liner(empty.path())
        .arg("backup")
        .arg("--to")
        .arg(empty.path().join("x.backup")));
    assert!(!ok && err.contains("holds no record"), "{err}");
    let (ok, _, err) = run(liner(empty.path()).arg("check"));
    assert!(!ok && err.contains("holds no record"), "{err}");
    assert!(!empty.path().join("liner.db").exists());
    // Into a folder that holds a record: refused, the record unchanged.
    let before = ids(s.store.as_ref());
    let (ok, _, err) = run(liner(s.dir.path()).arg("restore").arg("--from").arg(&good));
    assert!(!ok && err.contains("already holds a record"), "{err}");
    assert_eq!(ids(s.store.as_ref()), before);
}

#[test]
fn check_finds_a_damaged_clip_and_an_event_not_stored_as_its_canonical_line() {
    if on_postgres() {
        return;
    }
    let s = Server::start();
    note_with_clip(&s, &[9u8; 4000]);
    let (ok, out, err) = run(liner(s.dir.path()).arg("check"));
    assert!(
        ok && out.contains("2 events and 1 clips, all sound"),
        "{out}{err}"
    );
    let db = rusqlite::Connection::open(s.dir.path().join("liner.db")).unwrap();
    db.execute_batch(
        "UPDATE clips SET data = X'00010203';
         UPDATE events SET json = json || ' ' WHERE seq = (SELECT MIN(seq) FROM events);",
    )
    .unwrap();
    let (ok, _, err) = run(liner(s.dir.path()).arg("check"));
    assert!(!ok, "{err}");
    assert!(err.contains("do not hash to its name"), "{err}");
    assert!(err.contains("not stored as its canonical line"), "{err}");
    assert!(err.contains("2 problems"), "{err}");
}

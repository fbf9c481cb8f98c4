//! Nothing lost on upgrade: a record made by the release at each earlier schema (its tables
//! built by that schema's migrations, its rows written as that release wrote them) opens
//! with this build, which migrates it to the current schema, and keeps every event, token
//! and clip; what later migrations derive (canonical lines, owners) is filled in. On SQLite
//! and on PostgreSQL (a throwaway cluster), whatever store the run is on.

mod common;

use liner_record::clips::ClipHash;
use liner_record::event::{Body, NoteEdited};
use liner_record::Role;
use liner_server::commands::backup;
use liner_server::store::{Incoming, PushOutcome, SqliteStore, Store};
use rusqlite::params;
use sha2::Digest;

fn token_hash(secret: &str) -> String {
    sha2::Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A record at schema `k` in `dir`, as that release left it: a project, a producer's token,
/// two notes (stored as sent before schema 2: pretty-printed), and from schema 4 a clip.
/// Returns the token's secret, the notes' ids and the clip's bytes.
fn old_record(dir: &std::path::Path, k: usize) -> (String, Vec<uuid::Uuid>, Vec<u8>) {
    let db = rusqlite::Connection::open(dir.join("liner.db")).unwrap();
    db.execute_batch("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY)")
        .unwrap();
    for (i, sql) in SqliteStore::migrations()[..k].iter().enumerate() {
        db.execute_batch(sql).unwrap();
        db.execute("INSERT INTO schema_migrations VALUES (?1)", [i as i64 + 1])
            .unwrap();
    }
    db.execute(
        "INSERT INTO projects (id, name, created_ms) VALUES (1, 'Album', 1)",
        [],
    )
    .unwrap();
    let secret = format!("ln_{}", "7".repeat(64));
    db.execute(
        "INSERT INTO tokens (id, project_id, name, role, hash, revoked, created_ms) \
         VALUES (1, 1, 'Sam', 'producer', ?1, 0, 1)",
        [token_hash(&secret)],
    )
    .unwrap();
    let audio: Vec<u8> = (0..3000u32).map(|i| (i % 253) as u8).collect();
    let notes: Vec<_> = (0..2)
        .map(|i| common::note_by("Album", "Sam", Role::Producer, &format!("note {i}")))
        .collect();
    let mut events = notes.clone();
    // The executive asked for changes on the first note (schema 8 lets a done answer it).
    events.push(changes_requested(notes[0].id));
    if k >= 4 {
        events.push(common::clip_attached("Album", "Sam", notes[0].id, &audio));
    }
    if k >= 5 {
        // A version printed before the server took versions' bytes (schema 6 reads it).
        events.push(common::version_printed("Album", "Sam", &audio));
    }
    for e in &events {
        let line = if k < 2 {
            serde_json::to_string_pretty(e).unwrap()
        } else {
            Incoming::from_event(e.clone()).json
        };
        if k < 2 {
            db.execute(
                "INSERT INTO events (project_id, id, json, received_ms) VALUES (1, ?1, ?2, 1)",
                params![e.id.to_string(), line],
            )
        } else {
            db.execute(
                "INSERT INTO events (project_id, id, json, received_ms, token_id) \
                 VALUES (1, ?1, ?2, 1, 1)",
                params![e.id.to_string(), line],
            )
        }
        .unwrap();
    }
    if k >= 2 {
        // What that release recorded at push time: the notes' owner.
        for n in &notes {
            db.execute(
                "INSERT INTO subjects (project_id, key, owner) VALUES (1, ?1, 'Sam')",
                [format!("note:{}", n.id)],
            )
            .unwrap();
        }
    }
    if k >= 4 {
        db.execute(
            "INSERT INTO clip_refs (project_id, hash, bytes) VALUES (1, ?1, ?2)",
            params![ClipHash::of(&audio).to_string(), audio.len() as i64],
        )
        .unwrap();
        db.execute(
            "INSERT INTO clips (project_id, hash, data, size, token_id, received_ms) \
             VALUES (1, ?1, ?2, ?3, 1, 1)",
            params![ClipHash::of(&audio).to_string(), audio, audio.len() as i64],
        )
        .unwrap();
    }
    if k >= 6 {
        // What that release recorded at push time: the version its event names.
        db.execute(
            "INSERT INTO version_refs (project_id, hash, bytes) VALUES (1, ?1, ?2)",
            params![ClipHash::of(&audio).to_string(), audio.len() as i64],
        )
        .unwrap();
    }
    if k >= 9 {
        // What that release recorded at push time: the changes request a done may answer.
        db.execute(
            "INSERT INTO subjects (project_id, key, owner) VALUES (1, ?1, 'Alex')",
            [format!(
                "changes:{}:{}",
                changes_requested(notes[0].id).id,
                notes[0].id
            )],
        )
        .unwrap();
    }
    (secret, notes.iter().map(|n| n.id).collect(), audio)
}

#[test]
fn a_record_from_every_earlier_schema_opens_whole_and_current() {
    for k in 1..SqliteStore::SCHEMA_VERSION {
        let dir = tempfile::tempdir().unwrap();
        let (secret, notes, audio) = old_record(dir.path(), k);
        let store = SqliteStore::open(dir.path()).unwrap_or_else(|e| panic!("schema {k}: {e}"));
        let facts = SqliteStore::inspect_copy(&dir.path().join("liner.db")).unwrap();
        assert_eq!(facts.schema, SqliteStore::SCHEMA_VERSION, "schema {k}");
        let token = store
            .authenticate(&secret)
            .unwrap()
            .unwrap_or_else(|| panic!("schema {k}: the token no longer signs in"));
        let project = token.project.clone();
        let stored = store.pull(&project, 0, 100).unwrap();
        assert_eq!(
            stored.len(),
            notes.len() + 1 + usize::from(k >= 4) + usize::from(k >= 5),
            "schema {k}"
        );
        // Every line canonical, every clip whole: the record checks sound.
        assert_eq!(
            store.hooks().unwrap(),
            [],
            "schema {k}: the webhook tables are there"
        );
        assert_eq!(
            store.all_digest_prefs().unwrap(),
            [],
            "schema {k}: the digest table is there"
        );
        let found = backup::check(&store, Some(&store)).unwrap();
        assert!(
            found.problems.is_empty(),
            "schema {k}: {:?}",
            found.problems
        );
        if k >= 4 {
            assert_eq!(
                store.clip(&project, &ClipHash::of(&audio)).unwrap(),
                Some(audio.clone()),
                "schema {k}"
            );
        }
        if k >= 5 {
            let facts = store
                .version_facts(&project, &ClipHash::of(&audio))
                .unwrap();
            assert_eq!(facts.expected, Some(audio.len() as u64), "schema {k}");
        }
        // Owners hold: the author may edit a note, nobody else may.
        let edit = |author: &str| {
            Incoming::from_event(liner_record::Event::new(
                &common::ctx("Album", author, Role::Producer),
                None,
                Body::NoteEdited(NoteEdited {
                    note: notes[1],
                    text: Some(format!("edited by {author}")),
                    category: None,
                    anchor: None,
                }),
            ))
        };
        let mallory = store
            .push(&project, Some(token.id), &[edit("Mallory")])
            .unwrap();
        assert!(
            matches!(&mallory[0], PushOutcome::Refused { code, .. } if *code == "not_yours"),
            "schema {k}: {mallory:?}"
        );
        let sam = store
            .push(&project, Some(token.id), &[edit("Sam")])
            .unwrap();
        assert!(
            matches!(sam[0], PushOutcome::Stored(_)),
            "schema {k}: {sam:?}"
        );
        answer_the_old_request(&store, &token, notes[0], k);
    }
}

/// An executive's request for changes on `target`, as stored by any release.
fn changes_requested(target: uuid::Uuid) -> liner_record::Event {
    let mut e = liner_record::Event::new(
        &common::ctx("Album", "Alex", Role::Executive),
        None,
        Body::Verdict {
            target,
            verdict: liner_record::event::Verdict::ChangesRequested,
            comment: "more air".into(),
        },
    );
    // Fixed, so the PostgreSQL fixture's SQL can name it.
    e.id = uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0c4a);
    e
}

/// After the upgrade, a done answers the changes request stored before it (and a done of
/// a request that never was is still refused).
fn answer_the_old_request(
    store: &dyn Store,
    token: &liner_server::store::TokenInfo,
    target: uuid::Uuid,
    k: usize,
) {
    let done = |answers: uuid::Uuid| {
        Incoming::from_event(liner_record::Event::new(
            &common::ctx("Album", "Sam", Role::Producer),
            None,
            Body::MarkedDone(liner_record::event::MarkedDone {
                target,
                answers,
                version: None,
                comment: String::new(),
            }),
        ))
    };
    let asked = changes_requested(target).id;
    let out = store
        .push(
            &token.project,
            Some(token.id),
            &[done(uuid::Uuid::now_v7()), done(asked)],
        )
        .unwrap();
    assert!(
        matches!(&out[0], PushOutcome::Refused { code, .. } if *code == "not_asked"),
        "schema {k}: {out:?}"
    );
    assert!(
        matches!(out[1], PushOutcome::Stored(_)),
        "schema {k}: {out:?}"
    );
}

/// The same on PostgreSQL: a database at each earlier schema, with a token, a note and its
/// owner as that release wrote them, opens at the current one with all of it.
#[test]
fn a_postgres_record_from_every_earlier_schema_opens_whole_and_current() {
    use liner_server::store::PgStore;
    use liner_test_support::pg::Cluster;
    for k in 1..PgStore::migrations().len() {
        let url = Cluster::get().new_database();
        let database = url.rsplit('/').next().unwrap().to_owned();
        let secret = format!("ln_{}", "5".repeat(64));
        let note = common::note_by("Album", "Sam", Role::Producer, "kept");
        let line = Incoming::from_event(note.clone()).json.replace('\'', "''");
        let asked = changes_requested(note.id);
        let asked_line = Incoming::from_event(asked.clone()).json.replace('\'', "''");
        // A version printed before the rules let verdicts judge one: its row says no.
        let printed = common::version_printed("Album", "Sam", b"a print");
        let printed_line = Incoming::from_event(printed.clone())
            .json
            .replace('\'', "''");
        let mut sql = String::from("CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY);");
        for (i, m) in PgStore::migrations()[..k].iter().enumerate() {
            sql.push_str(m);
            sql.push_str(&format!(
                ";INSERT INTO schema_migrations VALUES ({});",
                i + 1
            ));
        }
        sql.push_str(&format!(
            "INSERT INTO projects (name, created_ms, last_seq) VALUES ('Album', 1, 3);
             INSERT INTO tokens (project_id, name, role, hash, created_ms)
                 VALUES (1, 'Sam', 'producer', '{}', 1);
             INSERT INTO events (project_id, seq, id, json, received_ms, token_id, author,
                 judgeable, clippable) VALUES (1, 1, '{}', '{line}', 1, 1, 'Sam', true, true);
             INSERT INTO events (project_id, seq, id, json, received_ms, token_id, author,
                 judgeable, clippable)
                 VALUES (1, 2, '{}', '{asked_line}', 1, NULL, 'Alex', false, false);
             INSERT INTO events (project_id, seq, id, json, received_ms, token_id, author,
                 judgeable, clippable)
                 VALUES (1, 3, '{}', '{printed_line}', 1, 1, 'Sam', false, false);
             INSERT INTO subjects (project_id, key, owner) VALUES (1, 'note:{}', 'Sam');",
            token_hash(&secret),
            note.id,
            asked.id,
            printed.id,
            note.id
        ));
        if k >= 6 {
            // What that release recorded at push time: the request a done may answer.
            sql.push_str(&format!(
                "INSERT INTO subjects (project_id, key, owner) \
                 VALUES (1, 'changes:{}:{}', 'Alex');",
                asked.id, note.id
            ));
        }
        Cluster::get().sql(&database, &sql);
        let store = PgStore::open(&url).unwrap_or_else(|e| panic!("schema {k}: {e}"));
        let token = store
            .authenticate(&secret)
            .unwrap()
            .unwrap_or_else(|| panic!("schema {k}: the token no longer signs in"));
        let stored = store.pull(&token.project, 0, 10).unwrap();
        assert_eq!(stored.len(), 3, "schema {k}");
        assert_eq!(
            store.last_backup().unwrap(),
            None,
            "schema {k}: the new table is there"
        );
        assert_eq!(
            store.hooks().unwrap(),
            [],
            "schema {k}: the webhook tables are there"
        );
        assert_eq!(
            store.all_digest_prefs().unwrap(),
            [],
            "schema {k}: the digest table is there"
        );
        let found = backup::check(&store, None).unwrap();
        assert!(
            found.problems.is_empty(),
            "schema {k}: {:?}",
            found.problems
        );
        let edit = |author: &str| {
            Incoming::from_event(liner_record::Event::new(
                &common::ctx("Album", author, Role::Producer),
                None,
                Body::NoteEdited(NoteEdited {
                    note: note.id,
                    text: Some(format!("edited by {author}")),
                    category: None,
                    anchor: None,
                }),
            ))
        };
        let mallory = store
            .push(&token.project, Some(token.id), &[edit("Mallory")])
            .unwrap();
        assert!(
            matches!(&mallory[0], PushOutcome::Refused { code, .. } if *code == "not_yours"),
            "schema {k}: {mallory:?}"
        );
        let sam = store
            .push(&token.project, Some(token.id), &[edit("Sam")])
            .unwrap();
        assert!(
            matches!(sam[0], PushOutcome::Stored(_)),
            "schema {k}: {sam:?}"
        );
        answer_the_old_request(&store, &token, note.id, k);
        // The rules judge the old version now, as SQLite (which reads the line) does.
        let verdict = Incoming::from_event(common::approval("Album", "Eve", printed.id));
        let judged = store
            .push(&token.project, Some(token.id), &[verdict])
            .unwrap();
        assert!(
            matches!(judged[0], PushOutcome::Stored(_)),
            "schema {k}: {judged:?}"
        );
    }
}

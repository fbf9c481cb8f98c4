//! The record can be trusted: every event speaks for the person whose token sent it, only a
//! thing's owner changes it, verdicts judge something real, clocks cannot run ahead, and one
//! bad event (stored by anyone, or refused) never stops anyone's sync. Each finding of the
//! trust issue is an attack here, through the real server and the real sync client.

mod common;

use common::{code, get, note_by, push, push_raw, Server};
use liner_record::event::{
    Body, Category, Decision, Event, NoteAdded, NoteEdited, Rating, Setting, TakeRef, Verdict,
};
use liner_record::journal::Aside;
use liner_record::sync::{sync_once, SyncClient};
use liner_record::{Journal, Role};
use reqwest::StatusCode;
use serde_json::Value;
use std::time::Duration;
use uuid::Uuid;

const P: &str = "Album";

fn event(author: &str, role: Role, body: Body) -> Event {
    Event::new(&common::ctx(P, author, role), None, body)
}

fn client(s: &Server, token: &str) -> SyncClient {
    SyncClient::new(&s.url, token, Duration::from_secs(10)).unwrap()
}

/// One of each kind of event this version knows, plus one it does not, as `who` makes it.
/// Edits, ratings and renames are of `who`'s own things (made first by `setup`); verdicts
/// judge `judged`.
fn every_kind(who: &str, role: Role, instance: Uuid, judged: Uuid) -> Vec<(&'static str, Event)> {
    let own_note = note_by(P, who, role, "own");
    let take = TakeRef {
        instance,
        number: 1,
    };
    let decision = Decision {
        processor: "Pro-Q 3".into(),
        settings: vec![Setting {
            name: "gain".into(),
            value: Some(-3.0),
            text: None,
            unit: Some("dB".into()),
        }],
        reason: "mud".into(),
    };
    let unknown: Event = serde_json::from_value(serde_json::json!({
        "v": 1, "id": Uuid::now_v7(), "project": P, "song": "Song", "track": "Vox",
        "session": Uuid::now_v7(), "author": who, "role": role, "at": 5,
        "kind": "lyric_sheet", "body": {"lines": ["la"]}
    }))
    .unwrap();
    vec![
        ("note_added", own_note.clone()),
        (
            "note_edited",
            event(
                who,
                role,
                Body::NoteEdited(NoteEdited {
                    note: own_note.id,
                    text: Some("better".into()),
                    category: None,
                    anchor: None,
                }),
            ),
        ),
        ("take_started", event(who, role, Body::TakeStarted { take })),
        ("take_ended", event(who, role, Body::TakeEnded { take })),
        (
            "take_rated",
            event(
                who,
                role,
                Body::TakeRated {
                    take,
                    rating: Rating::Keeper,
                    stars: Some(5),
                    note: None,
                },
            ),
        ),
        (
            "mark",
            event(
                who,
                role,
                Body::Mark {
                    instance,
                    number: 1,
                    label: Some("chorus".into()),
                },
            ),
        ),
        (
            "eq_decision",
            event(who, role, Body::EqDecision(decision.clone())),
        ),
        ("fx_decision", event(who, role, Body::FxDecision(decision))),
        (
            "verdict",
            event(
                who,
                role,
                Body::Verdict {
                    target: judged,
                    verdict: Verdict::Approved,
                    comment: "yes".into(),
                },
            ),
        ),
        (
            "tracklist_order",
            event(
                who,
                role,
                Body::TracklistOrder {
                    songs: vec!["Song".into()],
                },
            ),
        ),
        (
            "song_selection",
            event(
                who,
                role,
                Body::SongSelection {
                    song: "Song".into(),
                    selected: true,
                },
            ),
        ),
        (
            "transport_started",
            event(who, role, Body::TransportStarted),
        ),
        (
            "transport_stopped",
            event(who, role, Body::TransportStopped),
        ),
        ("session_opened", event(who, role, Body::SessionOpened)),
        ("session_closed", event(who, role, Body::SessionClosed)),
        (
            "note_deleted",
            event(who, role, Body::NoteDeleted { note: own_note.id }),
        ),
        ("lyric_sheet", unknown),
    ]
}

/// Every role against every kind of event and every endpoint.
#[test]
fn every_role_against_every_kind_and_every_endpoint() {
    let s = Server::start();
    let producer = s.token(P, "Pat", Role::Producer);
    let judged = note_by(P, "Pat", Role::Producer, "judge me");
    assert_eq!(push(&s, &producer, &[&judged]).0, StatusCode::OK);

    for role in Role::ALL {
        let person = format!("{role} person");
        let token = s.token(P, &person, role);
        // Reading: every role reads its project, and hears who it is.
        let (st, me) = get(&s, &token, "/api/v1/me");
        assert_eq!(st, StatusCode::OK, "{role}: {me}");
        let me: Value = serde_json::from_str(&me).unwrap();
        assert_eq!(
            (
                me["person"].as_str(),
                me["role"].as_str(),
                me["project"].as_str()
            ),
            (Some(person.as_str()), Some(role.as_str()), Some(P))
        );
        assert_eq!(get(&s, &token, "/api/v1/events?after=0").0, StatusCode::OK);
        for format in [
            "markdown", "html", "csv", "json", "reaper", "audacity", "midi",
        ] {
            let (st, body) = get(&s, &token, &format!("/api/v1/export?format={format}"));
            assert_eq!(st, StatusCode::OK, "{role} exports {format}: {body}");
        }

        // Writing, kind by kind, each in a push of its own.
        for (kind, e) in every_kind(&person, role, Uuid::now_v7(), judged.id) {
            let (st, r) = push(&s, &token, &[&e]);
            let expected = if role == Role::Viewer {
                Some("viewer")
            } else if matches!(kind, "verdict" | "tracklist_order" | "song_selection")
                && role != Role::Executive
            {
                Some("executive_only")
            } else {
                None
            };
            match expected {
                None => assert_eq!(
                    (st, r["results"][0]["status"].as_str()),
                    (StatusCode::OK, Some("stored")),
                    "{role} records {kind}: {r}"
                ),
                Some(c) => {
                    assert_eq!(st, StatusCode::FORBIDDEN, "{role} records {kind}: {r}");
                    assert_eq!(code(&r), c, "{role} records {kind}: {r}");
                }
            }
        }
    }
}

/// Finding 5: anyone spoke for anyone. Now an event is refused unless its author and role
/// are its token's, and a thing changes only by its owner's hand.
#[test]
fn nobody_speaks_for_anyone_else_or_changes_what_is_theirs() {
    let s = Server::start();
    let pat = s.token(P, "Pat", Role::Producer);
    let eve = s.token(P, "Eve", Role::Executive);
    let ari = s.token(P, "Ari", Role::Artist);
    let instance = Uuid::now_v7();

    // Pat's note, take and mark; Eve's note and her approval of Pat's note.
    let pats: Vec<Event> = every_kind("Pat", Role::Producer, instance, Uuid::nil())
        .into_iter()
        .filter(|(k, _)| matches!(*k, "note_added" | "take_started" | "mark"))
        .map(|(_, e)| e)
        .collect();
    let pats_note = pats[0].clone();
    assert_eq!(
        push(&s, &pat, &pats.iter().collect::<Vec<_>>()).0,
        StatusCode::OK
    );
    let eves_note = note_by(P, "Eve", Role::Executive, "keep the bridge");
    let approval = event(
        "Eve",
        Role::Executive,
        Body::Verdict {
            target: pats_note.id,
            verdict: Verdict::Approved,
            comment: "perfect".into(),
        },
    );
    assert_eq!(push(&s, &eve, &[&eves_note, &approval]).0, StatusCode::OK);

    // Signed with another name (or role) than the token's.
    for (author, role) in [
        ("Pat", Role::Artist),
        ("Ari", Role::Producer),
        ("Eve", Role::Executive),
    ] {
        let (st, r) = push(&s, &ari, &[&note_by(P, author, role, "spoofed")]);
        assert_eq!(
            (st, code(&r)),
            (StatusCode::FORBIDDEN, "wrong_author"),
            "{r}"
        );
    }

    // The artist edits the producer's approved note, deletes the executive's, renames the
    // producer's mark, rates and ends the producer's take.
    let take = TakeRef {
        instance,
        number: 1,
    };
    let attacks = [
        Body::NoteEdited(NoteEdited {
            note: pats_note.id,
            text: Some("rewritten by the artist".into()),
            category: Some(Category::Mix),
            anchor: None,
        }),
        Body::NoteDeleted { note: eves_note.id },
        Body::Mark {
            instance,
            number: 1,
            label: Some("Ari was here".into()),
        },
        Body::TakeRated {
            take,
            rating: Rating::Scratch,
            stars: Some(1),
            note: None,
        },
        Body::TakeEnded { take },
    ];
    for body in attacks {
        let e = event("Ari", Role::Artist, body);
        let (st, r) = push(&s, &ari, &[&e]);
        assert_eq!((st, code(&r)), (StatusCode::FORBIDDEN, "not_yours"), "{r}");
        assert!(
            r["results"][0]["error"]["message"]
                .as_str()
                .unwrap()
                .contains("belongs to"),
            "{r}"
        );
    }
    // The executive cannot rewrite the producer's note either.
    let e = event(
        "Eve",
        Role::Executive,
        Body::NoteEdited(NoteEdited {
            note: pats_note.id,
            text: Some("x".into()),
            category: None,
            anchor: None,
        }),
    );
    assert_eq!(code(&push(&s, &eve, &[&e]).1), "not_yours");
    // An edit of a note that does not exist.
    let e = event(
        "Ari",
        Role::Artist,
        Body::NoteDeleted {
            note: Uuid::now_v7(),
        },
    );
    assert_eq!(
        (push(&s, &ari, &[&e]).0, code(&push(&s, &ari, &[&e]).1)),
        (StatusCode::UNPROCESSABLE_ENTITY, "unknown_target")
    );

    // A verdict on nothing, on a mark, on a note of another project.
    let other_project_note = note_by("Other", "Pat", Role::Producer, "elsewhere");
    let pat_other = s.token("Other", "Pat", Role::Producer);
    assert_eq!(
        push(&s, &pat_other, &[&other_project_note]).0,
        StatusCode::OK
    );
    for target in [Uuid::now_v7(), pats[2].id, other_project_note.id] {
        let v = event(
            "Eve",
            Role::Executive,
            Body::Verdict {
                target,
                verdict: Verdict::Rejected,
                comment: String::new(),
            },
        );
        let (st, r) = push(&s, &eve, &[&v]);
        assert_eq!(
            (st, code(&r)),
            (StatusCode::UNPROCESSABLE_ENTITY, "unknown_target"),
            "{r}"
        );
    }

    // A clock far ahead: refused, and nothing can overflow later.
    let mut future = note_by(P, "Pat", Role::Producer, "from 2^62");
    future.at = 1 << 62;
    let (st, r) = push(&s, &pat, &[&future]);
    assert_eq!(
        (st, code(&r)),
        (StatusCode::UNPROCESSABLE_ENTITY, "at_in_future")
    );

    // What stands: the producer's note as written, still approved; the executive's note.
    let (_, json) = get(&s, &pat, "/api/v1/export?format=json");
    let export: Value = serde_json::from_str(&json).unwrap();
    let notes = export["views"]["notes"].as_array().unwrap();
    assert_eq!(notes.len(), 2, "{json}");
    let pats_view = notes
        .iter()
        .find(|n| n["id"] == pats_note.id.to_string())
        .unwrap();
    assert_eq!(pats_view["text"], "own");
    assert_eq!(pats_view["verdict"]["verdict"], "approved");
    assert_eq!(export["views"]["marks"][0]["label"], "chorus");
    assert!(export["views"]["takes"][0]["rating"].is_null());
    for format in ["markdown", "html", "csv", "reaper", "audacity", "midi"] {
        assert_eq!(
            get(&s, &pat, &format!("/api/v1/export?format={format}")).0,
            StatusCode::OK
        );
    }
}

/// The audit trail: who pushed what and when, through `liner audit` and the JSON export;
/// a revoked token keeps its history.
#[test]
fn the_audit_trail_names_the_token_behind_every_event() {
    let s = Server::start();
    let pat = s.token(P, "Pat", Role::Producer);
    let eve = s.token(P, "Eve", Role::Executive);
    let n = note_by(P, "Pat", Role::Producer, "a");
    let m = note_by(P, "Eve", Role::Executive, "b");
    push(&s, &pat, &[&n]);
    push(&s, &eve, &[&m]);
    let pat_id = s
        .store
        .tokens()
        .unwrap()
        .into_iter()
        .find(|t| t.person == "Pat")
        .unwrap()
        .id;
    s.store.revoke_token(pat_id).unwrap();

    let (_, json) = get(&s, &eve, "/api/v1/export?format=json");
    let export: Value = serde_json::from_str(&json).unwrap();
    let trail = &export["received"][n.id.to_string()];
    assert_eq!(trail["person"], "Pat", "{json}");
    assert_eq!(trail["role"], "producer");
    assert_eq!(trail["token"], pat_id);
    assert!(trail["received_at"].as_i64().unwrap() >= n.at - 1000);

    let liner = |args: &[&str]| {
        let out = common::liner(s.dir.path()).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let all = liner(&["audit", "--project", P]);
    assert!(
        all.contains(&format!(
            "Pat\tproducer\t{pat_id} (revoked)\tnote_added\t{}",
            n.id
        )),
        "{all}"
    );
    assert!(all.contains("Eve\texecutive"), "{all}");
    let eves = liner(&["audit", "--project", P, "--person", "Eve"]);
    assert!(
        eves.contains(&m.id.to_string()) && !eves.contains(&n.id.to_string()),
        "{eves}"
    );
    let later = liner(&["audit", "--project", P, "--since", "2999-01-01"]);
    assert_eq!(later.lines().count(), 1, "only the header: {later}");
}

/// Finding 3: an event pretty-printed over several lines used to be stored as sent and stop
/// every reader. Now the server stores its canonical line, and a fresh client reads all.
#[test]
fn a_pretty_printed_event_is_stored_as_one_canonical_line_every_client_can_read() {
    let s = Server::start();
    let mallory = s.token(P, "Mallory", Role::Producer);
    let pat = s.token(P, "Pat", Role::Producer);
    let before = note_by(P, "Pat", Role::Producer, "before");
    push(&s, &pat, &[&before]);
    let poison = note_by(P, "Mallory", Role::Producer, "line one\nline two");
    let pretty = serde_json::to_string_pretty(&poison).unwrap();
    assert!(pretty.lines().count() > 5);
    let (st, r) = push_raw(&s, &mallory, &format!("{{\"events\":[{pretty}]}}"));
    assert_eq!(st, StatusCode::OK, "{r}");
    let after = note_by(P, "Pat", Role::Producer, "after");
    push(&s, &pat, &[&after]);

    let stored = s.stored(P);
    assert!(stored.iter().all(|l| !l.contains('\n')), "{stored:?}");
    assert!(stored.contains(&poison.to_json()));
    // Pushing it again, pretty or not, is a duplicate, not a conflict.
    let (st, r) = push_raw(&s, &mallory, &format!("{{\"events\":[{pretty}]}}"));
    assert_eq!(
        (st, r["results"][0]["status"].as_str()),
        (StatusCode::OK, Some("duplicate"))
    );

    let dir = tempfile::tempdir().unwrap();
    let j = Journal::open(dir.path()).unwrap();
    let r = sync_once(&j, P, &client(&s, &pat), Duration::ZERO).unwrap();
    assert_eq!((r.pulled, r.unreadable), (3, 0));
    let ids: Vec<Uuid> = j.read().unwrap().events.iter().map(|e| e.id).collect();
    assert_eq!(ids, vec![before.id, poison.id, after.id]);
}

/// A database written by an earlier version may already hold such an event (stored as
/// sent), or a row that is no event at all: opening it rewrites the first as its canonical
/// line, and a client sets the second aside and moves on.
#[test]
fn rows_stored_as_sent_by_an_earlier_version_are_made_canonical_or_set_aside() {
    let data = tempfile::tempdir().unwrap();
    let pretty_note = note_by(P, "Pat", Role::Producer, "old and pretty");
    let later = note_by(P, "Pat", Role::Producer, "later");
    {
        // The version-1 schema, as the earlier server left it.
        let conn = rusqlite::Connection::open(data.path().join("liner.db")).unwrap();
        conn.execute_batch(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY);
             INSERT INTO schema_migrations VALUES (1);
             CREATE TABLE projects (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,
                 created_ms INTEGER NOT NULL);
             CREATE TABLE tokens (id INTEGER PRIMARY KEY, project_id INTEGER NOT NULL
                 REFERENCES projects(id), name TEXT NOT NULL, role TEXT NOT NULL,
                 hash TEXT NOT NULL UNIQUE, revoked INTEGER NOT NULL DEFAULT 0,
                 created_ms INTEGER NOT NULL);
             CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, project_id INTEGER
                 NOT NULL REFERENCES projects(id), id TEXT NOT NULL, json TEXT NOT NULL,
                 received_ms INTEGER NOT NULL, UNIQUE (project_id, id));
             CREATE INDEX events_by_project ON events(project_id, seq);
             INSERT INTO projects VALUES (1, 'Album', 0);",
        )
        .unwrap();
        let insert = |id: String, json: String| {
            conn.execute(
                "INSERT INTO events (project_id, id, json, received_ms) VALUES (1, ?1, ?2, 0)",
                rusqlite::params![id, json],
            )
            .unwrap();
        };
        insert(
            pretty_note.id.to_string(),
            serde_json::to_string_pretty(&pretty_note).unwrap(),
        );
        insert(Uuid::now_v7().to_string(), "{\"not\": \"an event\"}".into());
        insert(later.id.to_string(), later.to_json());
    }
    // SQLite's own upgrade, whichever store the rest of this run is on.
    let store: std::sync::Arc<dyn liner_server::store::Store> =
        std::sync::Arc::new(liner_server::store::SqliteStore::open(data.path()).unwrap());
    let running = liner_server::Background::start(store.clone(), "127.0.0.1:0").unwrap();
    let token = liner_server::store::Store::add_token(&*store, P, "Pat", Role::Producer)
        .unwrap()
        .1;
    let c = SyncClient::new(&running.url(), &token, Duration::from_secs(10)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let j = Journal::open(dir.path()).unwrap();
    let r = sync_once(&j, P, &c, Duration::ZERO).unwrap();
    assert_eq!((r.pulled, r.unreadable), (2, 1));
    let ids: Vec<Uuid> = j.read().unwrap().events.iter().map(|e| e.id).collect();
    assert_eq!(ids, vec![pretty_note.id, later.id]);
    let aside: Vec<Aside> = j.aside().unwrap().into_values().collect();
    assert!(
        matches!(&aside[..], [Aside::Unreadable { seq: 2, raw, .. }] if raw.contains("an event")),
        "{aside:?}"
    );
    // The cursor moved past it: the next round has nothing to do.
    let r = sync_once(&j, P, &c, Duration::ZERO).unwrap();
    assert_eq!((r.pulled, r.unreadable), (0, 0));
    // The old owner of the note still owns it (owners were filled in on migration).
    let kim = liner_server::store::Store::add_token(&*store, P, "Kim", Role::Producer)
        .unwrap()
        .1;
    let hijack = event(
        "Kim",
        Role::Producer,
        Body::NoteDeleted {
            note: pretty_note.id,
        },
    );
    let s_url = running.url();
    let r: Value = common::client()
        .post(format!("{s_url}/api/v1/events"))
        .bearer_auth(&kim)
        .json(&serde_json::json!({ "events": [hijack] }))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(code(&r), "not_yours", "{r}");
}

/// Finding 4: an event the server refuses used to stay in the journal and fail every round
/// (nothing pushed, nothing pulled). Now it is set aside with the server's reason, the rest
/// goes on, pulling goes on, and it is not sent again.
#[test]
fn a_refused_event_is_set_aside_and_everything_else_goes_on() {
    let s = Server::start();
    let pat = s.token(P, "Pat", Role::Producer);
    let eve = s.token(P, "Eve", Role::Executive);
    let dir = tempfile::tempdir().unwrap();
    let j = Journal::open(dir.path()).unwrap();
    let good = note_by(P, "Pat", Role::Producer, "fine");
    let long = note_by(P, "Pat", Role::Producer, &"x".repeat(10_001));
    let also_good = note_by(P, "Pat", Role::Producer, "also fine");
    j.append(&[good.clone(), long.clone(), also_good.clone()])
        .unwrap();
    // Someone else's verdict waits on the server.
    let verdict = event(
        "Eve",
        Role::Executive,
        Body::SongSelection {
            song: "Song".into(),
            selected: true,
        },
    );
    push(&s, &eve, &[&verdict]);

    let c = client(&s, &pat);
    let r = sync_once(&j, P, &c, Duration::ZERO).unwrap();
    assert_eq!(r.pushed, 2);
    assert_eq!(r.refused.len(), 1);
    assert_eq!(r.refused[0].0, long.id);
    assert!(r.refused[0].1.contains("10000"), "{:?}", r.refused);
    assert_eq!(r.pulled, 1, "pulling went on");
    assert_eq!(r.waiting.len(), 1);
    assert!(matches!(
        j.aside().unwrap().get(&long.id),
        Some(Aside::Refused { code, .. }) if code == "too_long"
    ));
    // Later rounds do not send it again; new notes go.
    let newer = note_by(P, "Pat", Role::Producer, "newer");
    j.append(std::slice::from_ref(&newer)).unwrap();
    let r = sync_once(&j, P, &c, Duration::ZERO).unwrap();
    assert_eq!((r.pushed, r.refused.len(), r.waiting.len()), (1, 0, 1));
    // The author fixes it: the corrected copy goes, the original is dropped.
    liner_record::outbox::fix_note(&j, &long, "short now").unwrap();
    let r = sync_once(&j, P, &c, Duration::ZERO).unwrap();
    assert_eq!((r.pushed, r.waiting.len()), (1, 0));
    let stored = s.stored(P);
    assert_eq!(stored.len(), 5);
    assert!(stored.iter().any(|l| l.contains("short now")));
    assert!(!stored.iter().any(|l| l.contains(&long.id.to_string())));
}

/// Events made under a typed name before the token existed, or in another role, are not
/// pushed to be refused: they wait for the user, who can send them as themselves.
#[test]
fn events_under_another_name_wait_for_the_user_and_go_as_the_tokens_person() {
    let s = Server::start();
    let pat = s.token(P, "Pat", Role::Producer);
    let dir = tempfile::tempdir().unwrap();
    let j = Journal::open(dir.path()).unwrap();
    let typed = note_by(P, "pat (laptop)", Role::Producer, "typed before the token");
    let as_exec = note_by(P, "Pat", Role::Executive, "I am the boss now");
    j.append(&[typed.clone(), as_exec.clone()]).unwrap();
    let c = client(&s, &pat);
    let r = sync_once(&j, P, &c, Duration::ZERO).unwrap();
    assert_eq!((r.pushed, r.refused.len(), r.waiting.len()), (0, 0, 2));
    assert_eq!(r.me.person, "Pat");
    let out =
        liner_record::outbox::outbox(j.unacked_by(&s.url).unwrap(), &j.aside().unwrap(), &r.me);
    assert_eq!(liner_record::outbox::send_as(&j, &r.me, &out).unwrap(), 1);
    let r = sync_once(&j, P, &c, Duration::ZERO).unwrap();
    assert_eq!((r.pushed, r.waiting.len()), (1, 1));
    let stored = s.stored(P);
    assert_eq!(stored.len(), 1);
    let sent: Event = serde_json::from_str(&stored[0]).unwrap();
    assert_eq!(sent.author, "Pat");
    assert!(
        matches!(&sent.body, Body::NoteAdded(NoteAdded { text, .. }) if text == "typed before the token")
    );
    assert_eq!(sent.at, typed.at);
    assert!(!stored[0].contains("I am the boss"));
}

/// A token whose project is not the journal's moves nothing (it would fill the journal with
/// another project's events, or have every event refused).
#[test]
fn a_token_for_another_project_moves_nothing() {
    let s = Server::start();
    let other = s.token("Other", "Pat", Role::Producer);
    let dir = tempfile::tempdir().unwrap();
    let j = Journal::open(dir.path()).unwrap();
    j.append(&[note_by(P, "Pat", Role::Producer, "x")]).unwrap();
    let err = sync_once(&j, P, &client(&s, &other), Duration::ZERO).unwrap_err();
    assert!(err.to_string().contains("\"Other\""), "{err}");
    assert!(j.aside().unwrap().is_empty());
    assert_eq!(j.unacked_by(&s.url).unwrap().len(), 1);
    assert!(s.stored("Other").is_empty());
}

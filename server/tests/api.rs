//! The real server on 127.0.0.1:0 with a temporary data folder, spoken to over HTTP.

use liner_record::event::{Body, Category, Event, NoteAdded, Verdict};
use liner_record::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

mod common;

use common::{client, code, ctx, push, Server};

fn note(project: &str, role: Role, text: &str) -> Event {
    common::note_by(project, "Sam", role, text)
}

fn pull(s: &Server, token: &str, after: u64, wait: u64) -> (StatusCode, Value) {
    let r = client()
        .get(format!("{}/api/v1/events?after={after}&wait={wait}", s.url))
        .bearer_auth(token)
        .send()
        .unwrap();
    (r.status(), r.json().unwrap())
}

#[test]
fn health_answers() {
    let s = Server::start();
    let r: Value = client()
        .get(format!("{}/api/v1/health", s.url))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(r["ok"], true);
}

/// One batch judged event by event against what came before it in the batch, on either store:
/// an id given twice, a verdict on a note of the same batch, the same id with other content,
/// and refusals, which take no number (readers see no gap).
#[test]
fn a_batch_is_judged_in_order_and_a_refused_event_takes_no_number() {
    let s = Server::start();
    let eve = s.token("P", "Eve", Role::Executive);
    let n = common::note_by("P", "Eve", Role::Executive, "the bridge drags");
    let on_n = common::approval("P", "Eve", n.id);
    let on_nothing = common::approval("P", "Eve", uuid::Uuid::now_v7());
    let mut other = n.clone();
    other.body = Body::NoteAdded(NoteAdded {
        text: "other words".into(),
        category: Category::Mix,
        anchor: None,
        take: None,
        private: false,
        version: None,
        guest: None,
    });
    let m = common::note_by("P", "Eve", Role::Executive, "the outro is long");
    let (_, r) = push(&s, &eve, &[&n, &n, &on_n, &on_nothing, &other, &m]);
    let results = r["results"].as_array().unwrap();
    let status: Vec<&str> = results
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        status,
        [
            "stored",
            "duplicate",
            "stored",
            "refused",
            "conflict",
            "stored"
        ],
        "{r}"
    );
    let seq = |i: usize| results[i]["seq"].as_u64().unwrap();
    assert_eq!(seq(1), seq(0), "the second is the first");
    assert_eq!(seq(2), seq(0) + 1);
    assert_eq!(
        seq(5),
        seq(2) + 1,
        "the refused and the conflicting took no number"
    );
    assert_eq!(results[3]["error"]["code"], "unknown_target");
    let (_, pulled) = pull(&s, &eve, 0, 0);
    let seqs: Vec<u64> = pulled["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, [seq(0), seq(2), seq(5)]);
}

#[test]
fn a_resent_event_is_a_duplicate_and_other_content_under_its_id_a_409_that_keeps_the_rest() {
    let s = Server::start();
    let t = s.token("P", "Sam", Role::Producer);
    let a = note("P", Role::Producer, "first");
    let (st, r) = push(&s, &t, &[&a]);
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!(r["results"][0]["status"], "stored");
    let seq = r["results"][0]["seq"].as_u64().unwrap();

    let (st, r) = push(&s, &t, &[&a]);
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        r["results"][0],
        json!({"id": a.id, "status": "duplicate", "seq": seq})
    );

    let mut changed = a.clone();
    changed.body = Body::NoteAdded(NoteAdded {
        text: "changed".into(),
        category: Category::Mix,
        anchor: None,
        take: None,
        private: false,
        version: None,
        guest: None,
    });
    let b = note("P", Role::Producer, "second");
    let (st, r) = push(&s, &t, &[&changed, &b]);
    assert_eq!(st, StatusCode::CONFLICT, "{r}");
    assert_eq!(r["results"][0]["status"], "conflict");
    assert_eq!(r["results"][1]["status"], "stored");

    let (_, pulled) = pull(&s, &t, 0, 0);
    let events = pulled["events"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["event"]["body"]["text"], "first");
    assert_eq!(events[1]["event"]["body"]["text"], "second");
    assert!(events[0]["seq"].as_u64() < events[1]["seq"].as_u64());
}

#[test]
fn pulls_page_after_a_sequence_number_and_a_long_poll_wakes_at_once() {
    let s = Server::start();
    let t = s.token("P", "Sam", Role::Producer);
    let events: Vec<Event> = (0..5)
        .map(|i| note("P", Role::Producer, &format!("n{i}")))
        .collect();
    push(&s, &t, &events.iter().collect::<Vec<_>>());
    let r: Value = client()
        .get(format!("{}/api/v1/events?after=0&limit=2", s.url))
        .bearer_auth(&t)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(r["events"].as_array().unwrap().len(), 2);
    let last = r["last_seq"].as_u64().unwrap();
    let (_, rest) = pull(&s, &t, last, 0);
    assert_eq!(rest["events"].as_array().unwrap().len(), 3);
    let end = rest["last_seq"].as_u64().unwrap();

    // A client waits; another pushes; the waiter hears it long before its 20 s wait ends.
    let url = s.url.clone();
    let t2 = t.clone();
    let waiter = std::thread::spawn(move || {
        let start = Instant::now();
        let r: Value = client()
            .get(format!("{url}/api/v1/events?after={end}&wait=20"))
            .bearer_auth(&t2)
            .send()
            .unwrap()
            .json()
            .unwrap();
        (start.elapsed(), r)
    });
    std::thread::sleep(Duration::from_millis(300));
    let late = note("P", Role::Producer, "late");
    push(&s, &t, &[&late]);
    let (took, r) = waiter.join().unwrap();
    assert_eq!(r["events"][0]["event"]["id"], json!(late.id));
    assert!(took < Duration::from_secs(5), "{took:?}");
    // With nothing new, a short wait returns empty at its deadline.
    let (_, empty) = pull(&s, &t, end + 100, 1);
    assert_eq!(empty["events"], json!([]));
}

#[test]
fn role_rules_hold() {
    let s = Server::start();
    let producer = s.token("P", "Sam", Role::Producer);
    let exec = s.token("P", "Eve", Role::Executive);
    let viewer = s.token("P", "Val", Role::Viewer);
    let other = s.token("Q", "Sam", Role::Producer);
    let n = note("P", Role::Producer, "x");
    assert_eq!(push(&s, &producer, &[&n]).0, StatusCode::OK);

    let verdict = |author: &str, role| {
        Event::new(
            &ctx("P", author, role),
            None,
            Body::Verdict {
                target: n.id,
                verdict: Verdict::Approved,
                comment: "ok".into(),
            },
        )
    };
    let (st, r) = push(&s, &producer, &[&verdict("Sam", Role::Producer)]);
    assert_eq!(
        (st, code(&r)),
        (StatusCode::FORBIDDEN, "executive_only"),
        "{r}"
    );
    // Claiming the executive role, or the executive's name, with a producer token does not
    // work either.
    for (author, role) in [("Sam", Role::Executive), ("Eve", Role::Executive)] {
        let (st, r) = push(&s, &producer, &[&verdict(author, role)]);
        assert_eq!(
            (st, code(&r)),
            (StatusCode::FORBIDDEN, "wrong_author"),
            "{r}"
        );
    }
    assert_eq!(
        push(&s, &exec, &[&verdict("Eve", Role::Executive)]).0,
        StatusCode::OK
    );

    let (st, r) = push(&s, &viewer, &[&note("P", Role::Viewer, "y")]);
    assert_eq!((st, code(&r)), (StatusCode::FORBIDDEN, "viewer"));
    assert_eq!(
        pull(&s, &viewer, 0, 0).1["events"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // A token never reads or writes another project.
    let (st, r) = push(&s, &other, &[&note("P", Role::Producer, "z")]);
    assert_eq!((st, code(&r)), (StatusCode::FORBIDDEN, "wrong_project"));
    assert_eq!(pull(&s, &other, 0, 0).1["events"], json!([]));
}

#[test]
fn missing_wrong_and_revoked_tokens_are_refused() {
    let s = Server::start();
    let t = s.token("P", "Sam", Role::Producer);
    let n = note("P", Role::Producer, "x");
    let r = client()
        .post(format!("{}/api/v1/events", s.url))
        .json(&json!({"events": [n]}))
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(r.json::<Value>().unwrap()["error"]["code"], "missing_token");
    assert_eq!(push(&s, "ln_wrong", &[&n]).1["error"]["code"], "bad_token");
    let id = s.store.tokens().unwrap()[0].id;
    s.store.revoke_token(id).unwrap();
    let (st, r) = push(&s, &t, &[&n]);
    assert_eq!(
        (st, r["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("bad_token"))
    );
    assert_eq!(pull(&s, &t, 0, 0).0, StatusCode::UNAUTHORIZED);
}

/// Verified tokens are remembered for less than a second (`liner_server::api::tokens`), so a
/// token revoked elsewhere (`liner token revoke` is another process) is refused within a
/// second even by a server that has just let it in, and never believed again after.
#[test]
fn a_revoked_token_is_refused_within_a_second_though_just_verified() {
    let s = Server::start();
    let t = s.token("P", "Sam", Role::Producer);
    // Used just now: its verification is fresh.
    assert_eq!(
        push(&s, &t, &[&note("P", Role::Producer, "a")]).0,
        StatusCode::OK
    );
    let id = s.store.tokens().unwrap()[0].id;
    let revoked = Instant::now();
    s.store.revoke_token(id).unwrap();
    let refused = loop {
        let (st, r) = push(&s, &t, &[&note("P", Role::Producer, "late")]);
        if st == StatusCode::UNAUTHORIZED {
            assert_eq!(r["error"]["code"], "bad_token");
            break revoked.elapsed();
        }
        assert_eq!(st, StatusCode::OK, "{r}");
        assert!(
            revoked.elapsed() < Duration::from_secs(2),
            "a revoked token is still let in after {:?}",
            revoked.elapsed()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(
        refused < Duration::from_secs(1),
        "refused only after {refused:?}"
    );
    // And from then on, every time (a refusal is never remembered as a pass).
    for _ in 0..5 {
        assert_eq!(pull(&s, &t, 0, 0).0, StatusCode::UNAUTHORIZED);
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn limits_are_clear_4xx_errors_and_a_bad_event_holds_up_no_other() {
    let s = Server::start();
    let t = s.token("P", "Sam", Role::Producer);
    let project = s.store.project("P").unwrap().unwrap();
    let good = note("P", Role::Producer, "fine");
    // Too long a text, in a batch with a good event: the good one is stored, the long one
    // refused with the field and the limit named.
    let long = note("P", Role::Producer, &"x".repeat(10_001));
    let (st, r) = push(&s, &t, &[&good, &long]);
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r["results"][0]["status"], "stored", "{r}");
    assert_eq!(r["results"][1]["status"], "refused", "{r}");
    assert_eq!(r["results"][1]["id"], json!(long.id));
    assert_eq!(r["results"][1]["error"]["code"], "too_long");
    let message = r["results"][1]["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("note text") && message.contains("10000"),
        "{message}"
    );
    let stored = s.store.pull(&project, 0, 10).unwrap();
    assert_eq!(stored.len(), 1);
    assert!(stored[0].1.contains(&good.id.to_string()));
    // Too many events.
    let many: Vec<Event> = (0..1001).map(|_| note("P", Role::Producer, "m")).collect();
    let (st, r) = push(&s, &t, &many.iter().collect::<Vec<_>>());
    assert_eq!(
        (st, r["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("batch_too_long"))
    );
    // Too big a body.
    let r = client()
        .post(format!("{}/api/v1/events", s.url))
        .bearer_auth(&t)
        .body(vec![b' '; 5 << 20])
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        r.json::<Value>().unwrap()["error"]["code"],
        "body_too_large"
    );
    // Not JSON; not an event.
    let r = client()
        .post(format!("{}/api/v1/events", s.url))
        .bearer_auth(&t)
        .body("{nope")
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = client()
        .post(format!("{}/api/v1/events", s.url))
        .bearer_auth(&t)
        .json(&json!({"events": [{"id": "x"}]}))
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code(&r.json().unwrap()), "bad_event");
    assert_eq!(s.store.pull(&project, 0, 10).unwrap().len(), 1);
}

#[test]
fn an_unknown_kind_from_a_newer_client_is_kept_in_canonical_form() {
    let s = Server::start();
    let t = s.token("P", "Sam", Role::Producer);
    let id = uuid::Uuid::now_v7();
    let raw = format!(
        r#"{{"v":2,"id":"{id}","project":"P","song":"S","track":"T","session":"{}","author":"Sam","role":"producer","at":5,"kind":"lyric_sheet","body":{{"lines":[1,  2],
        "text":"a  b"}},"future":true}}"#,
        uuid::Uuid::now_v7()
    );
    let body = format!(r#"{{"events":[{raw}]}}"#);
    let r = client()
        .post(format!("{}/api/v1/events", s.url))
        .bearer_auth(&t)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (_, pulled) = pull(&s, &t, 0, 0);
    let stored = &pulled["events"][0]["event"];
    assert_eq!(stored["id"], json!(id));
    assert_eq!(stored["kind"], "lyric_sheet");
    assert_eq!(stored["body"], json!({"lines": [1, 2], "text": "a  b"}));
    let text = client()
        .get(format!("{}/api/v1/events?after=0", s.url))
        .bearer_auth(&t)
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        text.contains(r#""kind":"lyric_sheet","body":{"lines":[1,2],"text":"a  b"}"#),
        "{text}"
    );
}

#[test]
fn the_decision_log_exports_through_the_api_in_every_format() {
    let s = Server::start();
    let t = s.token("P", "Sam", Role::Producer);
    let viewer = s.token("P", "Val", Role::Viewer);
    let mut placed = note("P", Role::Producer, "snare, \"too\" loud");
    placed.pos = Some(liner_record::DawPos {
        seconds: Some(12.5),
        bar: Some(7),
        beat: Some(1.0),
        ..Default::default()
    });
    let loose = note("P", Role::Producer, "no position");
    push(&s, &t, &[&placed, &loose]);
    for f in liner_record::export::Format::ALL {
        let r = client()
            .get(format!("{}/api/v1/export?format={}", s.url, f.name()))
            .bearer_auth(&viewer)
            .send()
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{}", f.name());
        assert_eq!(
            r.headers()["content-type"].to_str().unwrap(),
            f.content_type(),
            "{}",
            f.name()
        );
        let left_out: usize = r.headers()["x-liner-left-out"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        let marker_format = matches!(
            f,
            liner_record::export::Format::ReaperCsv
                | liner_record::export::Format::AudacityLabels
                | liner_record::export::Format::Midi
        );
        assert_eq!(left_out, usize::from(marker_format), "{}", f.name());
        assert!(!r.bytes().unwrap().is_empty());
    }
    let csv_text = client()
        .get(format!("{}/api/v1/export?format=csv&song=Song", s.url))
        .bearer_auth(&viewer)
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        csv_text.contains("\"snare, \"\"too\"\" loud\""),
        "{csv_text}"
    );
    let r = client()
        .get(format!("{}/api/v1/export?format=pdf", s.url))
        .bearer_auth(&viewer)
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.json::<Value>().unwrap()["error"]["code"], "bad_format");
    assert_eq!(
        client()
            .get(format!("{}/api/v1/export?format=csv", s.url))
            .send()
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
}

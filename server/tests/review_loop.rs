//! The review loop on the server, on whichever store the run uses (SQLite, or PostgreSQL in
//! the second pass): every state move and reply, by who may and who may not. A refusal says
//! why and stores nothing; what is taken is in the fold everyone reads.

mod common;

use common::{code, ctx, note_by, push, Server};
use liner_record::event::{Body, Event, MarkedDone, ReplyAdded, Verdict};
use liner_record::review::Standing;
use liner_record::{fold, Role};
use reqwest::StatusCode;
use uuid::Uuid;

const P: &str = "Loop";

fn by(who: &str, role: Role, body: Body) -> Event {
    Event::new(&ctx(P, who, role), None, body)
}

fn verdict(target: Uuid, verdict: Verdict) -> Event {
    by(
        "Alex",
        Role::Executive,
        Body::Verdict {
            target,
            verdict,
            comment: "more air".into(),
        },
    )
}

fn done(who: &str, role: Role, target: Uuid, answers: Uuid, version: Option<Uuid>) -> Event {
    by(
        who,
        role,
        Body::MarkedDone(MarkedDone {
            target,
            answers,
            version,
            comment: "de-essed".into(),
        }),
    )
}

fn reply(who: &str, role: Role, target: Uuid, text: &str) -> Event {
    by(
        who,
        role,
        Body::ReplyAdded(ReplyAdded {
            target,
            text: text.into(),
        }),
    )
}

/// Pushes one event: Ok when stored, else the refusal's status and code.
fn one(s: &Server, token: &str, e: &Event) -> Result<(), (StatusCode, String)> {
    let (status, r) = push(s, token, &[e]);
    if status == StatusCode::OK && r["results"][0]["status"] == "stored" {
        Ok(())
    } else {
        let message = r["results"][0]["error"]["message"]
            .as_str()
            .or(r["error"]["message"].as_str())
            .unwrap_or_default();
        assert!(!message.is_empty(), "a refusal says why: {r}");
        Err((status, code(&r).to_owned()))
    }
}

struct People {
    sam: String,
    kim: String,
    ari: String,
    alex: String,
    vic: String,
}

fn people(s: &Server) -> People {
    People {
        sam: s.token(P, "Sam", Role::Producer),
        kim: s.token(P, "Kim", Role::Engineer),
        ari: s.token(P, "Ari", Role::Artist),
        alex: s.token(P, "Alex", Role::Executive),
        vic: s.token(P, "Vic", Role::Viewer),
    }
}

fn standing_of(s: &Server, note: Uuid) -> Option<Standing> {
    let views = fold(&s.events(P));
    let n = views.notes.iter().find(|n| n.id == note).unwrap();
    Standing::of(liner_record::review::Item::Note, n.verdict.as_ref())
}

#[test]
fn done_is_said_by_the_producers_side_only_answering_the_executives_changes_request() {
    let s = Server::start();
    let p = people(&s);
    let n = note_by(P, "Sam", Role::Producer, "breath at the top");
    let other = note_by(P, "Sam", Role::Producer, "snare");
    let v = common::version_printed(P, "Sam", b"mix");
    one(&s, &p.sam, &n).unwrap();
    one(&s, &p.sam, &other).unwrap();
    one(&s, &p.sam, &v).unwrap();
    let approved = verdict(other.id, Verdict::Approved);
    one(&s, &p.alex, &approved).unwrap();

    // Nothing asked yet: no done.
    let nothing = done("Kim", Role::Engineer, n.id, Uuid::now_v7(), None);
    assert_eq!(
        one(&s, &p.kim, &nothing),
        Err((StatusCode::UNPROCESSABLE_ENTITY, "not_asked".into()))
    );
    let asked = verdict(n.id, Verdict::ChangesRequested);
    one(&s, &p.alex, &asked).unwrap();

    // Who may not.
    let by_exec = done("Alex", Role::Executive, n.id, asked.id, None);
    assert_eq!(
        one(&s, &p.alex, &by_exec),
        Err((StatusCode::FORBIDDEN, "not_for_executive".into()))
    );
    let by_viewer = done("Vic", Role::Viewer, n.id, asked.id, None);
    assert_eq!(
        one(&s, &p.vic, &by_viewer).unwrap_err().0,
        StatusCode::FORBIDDEN
    );
    // What may not be answered: an approval, another note's request, a version that is none.
    for (target, answers, version, why) in [
        (other.id, approved.id, None, "not_asked"),
        (other.id, asked.id, None, "not_asked"),
        (n.id, asked.id, Some(other.id), "unknown_target"),
        (n.id, asked.id, Some(Uuid::now_v7()), "unknown_target"),
    ] {
        let e = done("Kim", Role::Engineer, target, answers, version);
        assert_eq!(
            one(&s, &p.kim, &e),
            Err((StatusCode::UNPROCESSABLE_ENTITY, why.into())),
            "{target} {answers} {version:?}"
        );
    }
    assert_eq!(
        standing_of(&s, n.id),
        Some(Standing::Decided(Verdict::ChangesRequested)),
        "nothing refused moved it"
    );

    // Who may: the engineer (not the note's author), naming the version.
    let kim = done("Kim", Role::Engineer, n.id, asked.id, Some(v.id));
    one(&s, &p.kim, &kim).unwrap();
    assert_eq!(standing_of(&s, n.id), Some(Standing::Recheck));
    let views = fold(&s.events(P));
    let seen = views.verdicts[&n.id].done.as_ref().unwrap();
    assert_eq!((seen.author.as_str(), seen.version), ("Kim", Some(v.id)));

    // The artist may too; and the executive's next verdict ends the re-check.
    one(&s, &p.ari, &done("Ari", Role::Artist, n.id, asked.id, None)).unwrap();
    one(&s, &p.alex, &verdict(n.id, Verdict::Approved)).unwrap();
    assert_eq!(
        standing_of(&s, n.id),
        Some(Standing::Decided(Verdict::Approved))
    );
    // A done of the old request changes nothing any more.
    one(
        &s,
        &p.sam,
        &done("Sam", Role::Producer, n.id, asked.id, None),
    )
    .unwrap();
    assert_eq!(
        standing_of(&s, n.id),
        Some(Standing::Decided(Verdict::Approved))
    );
}

#[test]
fn replies_answer_what_may_be_judged_or_clipped_and_only_their_author_changes_them() {
    let s = Server::start();
    let p = people(&s);
    let n = note_by(P, "Sam", Role::Producer, "breath at the top");
    one(&s, &p.sam, &n).unwrap();
    let instance = Uuid::now_v7();
    let mark = by(
        "Sam",
        Role::Producer,
        Body::Mark {
            instance,
            number: 1,
            label: Some("chorus".into()),
        },
    );
    let v = common::version_printed(P, "Sam", b"mix");
    one(&s, &p.sam, &mark).unwrap();
    one(&s, &p.sam, &v).unwrap();

    // Anyone who writes answers a note, a mark, a version; the executive too.
    let r1 = reply("Alex", Role::Executive, n.id, "which take?");
    one(&s, &p.alex, &r1).unwrap();
    one(
        &s,
        &p.ari,
        &reply("Ari", Role::Artist, mark.id, "love this"),
    )
    .unwrap();
    one(
        &s,
        &p.kim,
        &reply("Kim", Role::Engineer, v.id, "v2 is hotter"),
    )
    .unwrap();
    // Not a viewer; not to nothing, nor to a reply, nor to another project's note.
    assert_eq!(
        one(&s, &p.vic, &reply("Vic", Role::Viewer, n.id, "hi"))
            .unwrap_err()
            .0,
        StatusCode::FORBIDDEN
    );
    let elsewhere = note_by("Elsewhere", "Sam", Role::Producer, "theirs");
    let theirs = s.token("Elsewhere", "Sam", Role::Producer);
    one(&s, &theirs, &elsewhere).unwrap();
    for target in [Uuid::now_v7(), r1.id, elsewhere.id] {
        assert_eq!(
            one(&s, &p.sam, &reply("Sam", Role::Producer, target, "?")),
            Err((StatusCode::UNPROCESSABLE_ENTITY, "unknown_target".into())),
            "{target}"
        );
    }

    // Only its author edits or deletes a reply.
    let edit = |who: &str, role: Role| {
        by(
            who,
            role,
            Body::ReplyEdited {
                reply: r1.id,
                text: format!("edited by {who}"),
            },
        )
    };
    assert_eq!(
        one(&s, &p.sam, &edit("Sam", Role::Producer)),
        Err((StatusCode::FORBIDDEN, "not_yours".into()))
    );
    assert_eq!(
        one(
            &s,
            &p.sam,
            &by("Sam", Role::Producer, Body::ReplyDeleted { reply: r1.id })
        ),
        Err((StatusCode::FORBIDDEN, "not_yours".into()))
    );
    one(&s, &p.alex, &edit("Alex", Role::Executive)).unwrap();
    let views = fold(&s.events(P));
    assert_eq!(views.replies[&n.id][0].text, "edited by Alex");
    assert_eq!(views.replies.len(), 3, "the note, the mark and the version");
    one(
        &s,
        &p.alex,
        &by("Alex", Role::Executive, Body::ReplyDeleted { reply: r1.id }),
    )
    .unwrap();
    assert!(!fold(&s.events(P)).replies.contains_key(&n.id));
}

/// The page's `POST /reply`, `/reply/edit`, `/reply/delete` and `/done`, attacked: a viewer,
/// a forged form, another project's item, nothing typed, someone else's reply, the executive
/// saying done, a done where nothing was asked. Each is refused and records nothing; the
/// right ones are recorded as their sender's.
#[test]
fn the_pages_reply_and_done_refuse_what_the_rules_refuse_and_record_nothing() {
    let s = Server::start();
    let p = people(&s);
    let n = note_by(P, "Sam", Role::Producer, "breath at the top");
    one(&s, &p.sam, &n).unwrap();
    let elsewhere = note_by("Elsewhere", "Oz", Role::Producer, "theirs");
    one(&s, &s.token("Elsewhere", "Oz", Role::Producer), &elsewhere).unwrap();
    let browser = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let post = |(cookie, csrf): &(String, String), path: &str, fields: &[(&str, &str)]| {
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend_from_slice(fields);
        browser
            .post(format!("{}{path}", s.url))
            .header("cookie", cookie)
            .form(&form)
            .send()
            .unwrap()
            .status()
    };
    let id = n.id.to_string();
    let stored = || s.stored(P).len();
    let before = stored();
    let (kim, alex, vic) = (
        common::page_session(&s, &p.kim),
        common::page_session(&s, &p.alex),
        common::page_session(&s, &p.vic),
    );
    let forged = (kim.0.clone(), "0123".to_owned());
    let theirs = elsewhere.id.to_string();
    let nobody = Uuid::now_v7().to_string();
    let long = "x".repeat(10_001);
    let refused = [
        (
            &vic,
            "/reply",
            vec![("target", id.as_str()), ("text", "hi")],
            403,
        ),
        (
            &forged,
            "/reply",
            vec![("target", id.as_str()), ("text", "hi")],
            403,
        ),
        (
            &kim,
            "/reply",
            vec![("target", theirs.as_str()), ("text", "hi")],
            404,
        ),
        (
            &kim,
            "/reply",
            vec![("target", nobody.as_str()), ("text", "hi")],
            404,
        ),
        (
            &kim,
            "/reply",
            vec![("target", id.as_str()), ("text", "  ")],
            422,
        ),
        (
            &kim,
            "/reply",
            vec![("target", id.as_str()), ("text", long.as_str())],
            422,
        ),
        (
            &kim,
            "/reply",
            vec![("target", "not-a-uuid"), ("text", "hi")],
            422,
        ),
        (&kim, "/done", vec![("target", id.as_str())], 409),
        (&alex, "/done", vec![("target", id.as_str())], 403),
    ];
    for (who, path, fields, want) in &refused {
        assert_eq!(post(who, path, fields).as_u16(), *want, "{path} {fields:?}");
    }
    assert_eq!(stored(), before, "nothing refused was recorded");

    // Alex asks for changes; Kim replies and says done in a version that is none, then right.
    let asked = verdict(n.id, Verdict::ChangesRequested);
    one(&s, &p.alex, &asked).unwrap();
    assert_eq!(
        post(&kim, "/reply", &[("target", &id), ("text", "on it")]),
        303
    );
    let reply = fold(&s.events(P)).replies[&n.id][0].id.to_string();
    for (who, path, fields, want) in [
        // Someone else's reply: the record's rule refuses it, in words.
        (
            &alex,
            "/reply/edit",
            vec![("reply", reply.as_str()), ("text", "mine now")],
            422,
        ),
        (&alex, "/reply/delete", vec![("reply", reply.as_str())], 422),
        (
            &kim,
            "/reply/edit",
            vec![("reply", nobody.as_str()), ("text", "x")],
            404,
        ),
        (
            &kim,
            "/done",
            vec![("target", id.as_str()), ("version", nobody.as_str())],
            422,
        ),
        (
            &kim,
            "/done",
            vec![("target", id.as_str()), ("version", "junk")],
            404,
        ),
        (&vic, "/done", vec![("target", id.as_str())], 403),
    ] {
        let before = stored();
        assert_eq!(post(who, path, &fields).as_u16(), want, "{path} {fields:?}");
        assert_eq!(stored(), before, "{path} {fields:?} recorded nothing");
    }
    assert_eq!(
        post(&kim, "/done", &[("target", &id), ("comment", "de-essed")]),
        303
    );
    let views = fold(&s.events(P));
    let done = views.verdicts[&n.id].done.as_ref().unwrap();
    assert_eq!(
        (done.author.as_str(), done.comment.as_str()),
        ("Kim", "de-essed")
    );
    assert_eq!(views.replies[&n.id][0].author, "Kim");
}

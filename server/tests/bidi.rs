//! Typed text cannot reorder the review page (issue #26): in a record where every string
//! someone typed or a plugin named holds a right-to-left override (U+202E), from the project
//! and the people's names to a setting's unit, each one is isolated on every page and in the
//! printable log, as the server sends them.

mod common;

use common::{encode, push, session_cookie, sign_in_raw, Server};
use liner_record::event::{
    Anchor, Body, Category, Context, DawPos, Decision, Event, NoteAdded, Rating, Setting, TakeRef,
    Verdict,
};
use liner_record::export::unisolated;
use liner_record::Role;
use reqwest::StatusCode;
use uuid::Uuid;

/// The right-to-left override every typed string below holds.
const EVIL: &str = "\u{202E}EVIL";
const PROJECT: &str = "project\u{202E}EVIL";
const SONG: &str = "song\u{202E}EVIL";
const TRACK: &str = "track\u{202E}EVIL";
const AUTHOR: &str = "author\u{202E}EVIL";
const EXEC: &str = "executive\u{202E}EVIL";
const NOTE: &str = "note\u{202E}EVIL";
const OPEN_NOTE: &str = "open note\u{202E}EVIL";
const PROCESSOR: &str = "processor\u{202E}EVIL";
const SETTING: &str = "setting\u{202E}EVIL";
const VALUE: &str = "value\u{202E}EVIL";
const UNIT: &str = "unit\u{202E}EVIL";
const REASON: &str = "reason\u{202E}EVIL";
const TAKE_NOTE: &str = "takenote\u{202E}EVIL";
const LABEL: &str = "label\u{202E}EVIL";
const COMMENT: &str = "comment\u{202E}EVIL";

fn at(seconds: f64) -> Option<DawPos> {
    Some(DawPos {
        seconds: Some(seconds),
        bar: Some(1 + (seconds / 2.0) as i32),
        beat: Some(1.0),
        playing: true,
        ..DawPos::default()
    })
}

fn note(text: &str, seconds: f64) -> Body {
    Body::NoteAdded(NoteAdded {
        text: text.into(),
        category: Category::Vocal,
        anchor: Some(Anchor::Point {
            at: at(seconds).unwrap(),
        }),
        take: None,
        private: false,
        version: None,
        guest: None,
    })
}

/// The producer's work on the song: a rated take with a note, two notes, an EQ decision with
/// typed settings, a labelled mark. The first note is the one the executive judges.
fn producers_work(ctx: &Context) -> Vec<Event> {
    let take = TakeRef {
        instance: Uuid::now_v7(),
        number: 1,
    };
    let decision = Decision {
        processor: PROCESSOR.into(),
        settings: vec![
            Setting {
                name: SETTING.into(),
                value: None,
                text: Some(VALUE.into()),
                unit: None,
            },
            Setting {
                name: SETTING.into(),
                value: Some(-3.0),
                text: None,
                unit: Some(UNIT.into()),
            },
        ],
        reason: REASON.into(),
    };
    let rated = Body::TakeRated {
        take,
        rating: Rating::Keeper,
        stars: Some(3),
        note: Some(TAKE_NOTE.into()),
    };
    let mark = Body::Mark {
        instance: take.instance,
        number: 1,
        label: Some(LABEL.into()),
    };
    vec![
        Event::new(ctx, None, note(NOTE, 2.0)),
        Event::new(ctx, None, Body::SessionOpened),
        Event::new(ctx, at(1.0), Body::TakeStarted { take }),
        Event::new(ctx, None, note(OPEN_NOTE, 3.0)),
        Event::new(ctx, at(4.0), Body::EqDecision(decision)),
        Event::new(ctx, at(6.0), Body::TakeEnded { take }),
        Event::new(ctx, None, rated),
        Event::new(ctx, at(5.0), mark),
    ]
}

/// The executive's verdict (with a comment) on `judged`, the tracklist and the song's place.
fn executives_decisions(ctx: &Context, judged: Uuid) -> Vec<Event> {
    let album = Context {
        song: String::new(),
        track: String::new(),
        ..ctx.clone()
    };
    vec![
        Event::new(
            ctx,
            None,
            Body::Verdict {
                target: judged,
                verdict: Verdict::ChangesRequested,
                comment: COMMENT.into(),
            },
        ),
        Event::new(
            &album,
            None,
            Body::TracklistOrder {
                songs: vec![SONG.into()],
            },
        ),
        Event::new(
            &album,
            None,
            Body::SongSelection {
                song: SONG.into(),
                selected: true,
            },
        ),
    ]
}

/// Pushes the record; the executive's session cookie.
fn record(s: &Server) -> String {
    let producer = s.token(PROJECT, AUTHOR, Role::Producer);
    let executive = s.token(PROJECT, EXEC, Role::Executive);
    let ctx = |author: &str, role| Context {
        project: PROJECT.into(),
        song: SONG.into(),
        track: TRACK.into(),
        session: Uuid::now_v7(),
        author: author.into(),
        role,
    };
    let work = producers_work(&ctx(AUTHOR, Role::Producer));
    let decisions = executives_decisions(&ctx(EXEC, Role::Executive), work[0].id);
    for (token, events) in [(&producer, &work), (&executive, &decisions)] {
        let (status, answer) = push(s, token, &events.iter().collect::<Vec<_>>());
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert!(
            answer["results"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["error"].is_null()),
            "every event is taken: {answer}"
        );
    }
    session_cookie(&sign_in_raw(s, &executive, &[]))
}

#[test]
fn every_typed_string_on_every_page_and_in_the_printable_log_is_isolated() {
    let s = Server::start();
    let cookie = record(&s);
    let song = encode(SONG);
    let every = vec![
        SONG, TRACK, AUTHOR, EXEC, NOTE, OPEN_NOTE, PROCESSOR, SETTING, VALUE, UNIT, REASON,
        TAKE_NOTE, LABEL, COMMENT,
    ];
    let queue = vec![
        SONG, TRACK, AUTHOR, OPEN_NOTE, PROCESSOR, SETTING, VALUE, UNIT, REASON, TAKE_NOTE,
    ];
    let pages: Vec<(String, Vec<&str>)> = vec![
        ("/".into(), vec![PROJECT, EXEC, SONG, AUTHOR]),
        ("/queue".into(), queue.clone()),
        (
            format!("/queue?song={song}&author={}", encode(AUTHOR)),
            queue,
        ),
        (format!("/song?name={song}"), every.clone()),
        ("/tracklist".into(), vec![PROJECT, EXEC, SONG]),
        ("/export?format=html".into(), every),
        (
            format!("/export?format=html&song={song}&author={}", encode(AUTHOR)),
            vec![SONG, AUTHOR, NOTE],
        ),
    ];
    let client = reqwest::blocking::Client::new();
    for (path, typed) in pages {
        let r = client
            .get(format!("{}{path}", s.url))
            .header("cookie", &cookie)
            .send()
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        let html = r.text().unwrap();
        for t in typed {
            assert!(html.contains(t), "{path} shows {t:?}:\n{html}");
        }
        let wrong = unisolated(&html, EVIL);
        assert!(
            wrong.is_empty(),
            "{path}: not isolated:\n{}\n\nin:\n{html}",
            wrong.join("\n")
        );
    }
}

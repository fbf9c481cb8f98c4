//! Typed text cannot reorder the printable log (issue #26): in a record where every string
//! someone typed or a plugin named holds a right-to-left override (U+202E), each one is
//! isolated in the HTML export, whole project or one song and author (whose names are then
//! in its title).

mod fixture;

use fixture::{pos, By, Maker, DAY1};
use liner_record::event::{
    Anchor, Body, Category, Decision, Event, NoteAdded, Rating, Role, Setting, TakeRef, Verdict,
};
use liner_record::export::{export, unisolated, Format, Scope};
use uuid::Uuid;

/// The right-to-left override every typed string below holds.
const EVIL: &str = "\u{202E}EVIL";
const SONG: &str = "song\u{202E}EVIL";
const TRACK: &str = "track\u{202E}EVIL";
const AUTHOR: &str = "author\u{202E}EVIL";
const EXEC: &str = "executive\u{202E}EVIL";
const NOTE: &str = "note\u{202E}EVIL";
const PROCESSOR: &str = "processor\u{202E}EVIL";
const SETTING: &str = "setting\u{202E}EVIL";
const VALUE: &str = "value\u{202E}EVIL";
const UNIT: &str = "unit\u{202E}EVIL";
const REASON: &str = "reason\u{202E}EVIL";
const TAKE_NOTE: &str = "takenote\u{202E}EVIL";
const LABEL: &str = "label\u{202E}EVIL";
const COMMENT: &str = "comment\u{202E}EVIL";

/// Every typed string of [`record`].
const TYPED: [&str; 13] = [
    SONG, TRACK, AUTHOR, EXEC, NOTE, PROCESSOR, SETTING, VALUE, UNIT, REASON, TAKE_NOTE, LABEL,
    COMMENT,
];

const PRODUCER: By = By {
    song: SONG,
    session: 1,
    track: TRACK,
    author: AUTHOR,
    role: Role::Producer,
};

const EXECUTIVE: By = By {
    track: "",
    author: EXEC,
    role: Role::Executive,
    ..PRODUCER
};

fn note(text: &str) -> Body {
    Body::NoteAdded(NoteAdded {
        text: text.into(),
        category: Category::Vocal,
        anchor: Some(Anchor::Point { at: pos(2.0) }),
        take: None,
        private: false,
        version: None,
        guest: None,
    })
}

/// A take with its note, notes (one judged with a comment), an EQ decision with typed settings,
/// a labelled mark, the tracklist and the song's selection.
fn record() -> Vec<Event> {
    let mut m = Maker { n: 0 };
    let take = TakeRef {
        instance: Uuid::from_u128(7),
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
    let p = PRODUCER;
    let judged = m.event(p, DAY1 + 1_000, Some(pos(2.0)), note(NOTE));
    let target = judged.id;
    let album = By {
        song: "",
        ..EXECUTIVE
    };
    vec![
        m.event(p, DAY1, None, Body::SessionOpened),
        m.event(p, DAY1 + 500, Some(pos(1.0)), Body::TakeStarted { take }),
        judged,
        m.event(p, DAY1 + 2_000, Some(pos(3.0)), note(NOTE)),
        m.event(p, DAY1 + 3_000, Some(pos(4.0)), Body::EqDecision(decision)),
        m.event(p, DAY1 + 4_000, Some(pos(6.0)), Body::TakeEnded { take }),
        m.event(
            p,
            DAY1 + 5_000,
            None,
            Body::TakeRated {
                take,
                rating: Rating::Keeper,
                stars: Some(3),
                note: Some(TAKE_NOTE.into()),
            },
        ),
        m.event(
            p,
            DAY1 + 6_000,
            Some(pos(5.0)),
            Body::Mark {
                instance: take.instance,
                number: 1,
                label: Some(LABEL.into()),
            },
        ),
        m.event(
            EXECUTIVE,
            DAY1 + 7_000,
            None,
            Body::Verdict {
                target,
                verdict: Verdict::ChangesRequested,
                comment: COMMENT.into(),
            },
        ),
        m.event(
            album,
            DAY1 + 8_000,
            None,
            Body::TracklistOrder {
                songs: vec![SONG.into()],
            },
        ),
        m.event(
            album,
            DAY1 + 9_000,
            None,
            Body::SongSelection {
                song: SONG.into(),
                selected: true,
            },
        ),
    ]
}

#[test]
fn every_typed_string_in_the_printable_log_is_isolated() {
    let events = record();
    let html =
        |scope: &Scope| String::from_utf8(export(&events, scope, Format::Html).bytes).unwrap();
    let whole = html(&Scope::default());
    for typed in TYPED {
        assert!(whole.contains(typed), "{typed:?} is in the log:\n{whole}");
    }
    let one = html(&Scope {
        song: Some(SONG.into()),
        author: Some(AUTHOR.into()),
        ..Scope::default()
    });
    for html in [&whole, &one] {
        let wrong = unisolated(html, EVIL);
        assert!(
            wrong.is_empty(),
            "not isolated:\n{}\n\nin:\n{html}",
            wrong.join("\n")
        );
    }
    // The title of the window or tab holds no element: its typed names are between FIRST
    // STRONG ISOLATE and POP DIRECTIONAL ISOLATE.
    assert!(one.contains(&format!(
        "<title>Session decision log — \u{2068}{SONG}\u{2069}"
    )));
}

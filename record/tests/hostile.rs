//! Nothing a client sends can panic a reader: events with clocks at the ends of time and
//! positions made of NaN, infinities, zero tempos, zero-length bars and extreme bar numbers
//! fold and export in every format (debug build: integer overflow would panic).

use liner_record::event::{
    Anchor, Body, Category, Context, DawPos, Event, NoteAdded, NoteEdited, TakeRef,
};
use liner_record::export::{export, Format, Scope};
use proptest::prelude::*;
use uuid::Uuid;

fn float() -> impl Strategy<Value = Option<f64>> {
    prop_oneof![
        Just(None),
        Just(Some(f64::NAN)),
        Just(Some(f64::INFINITY)),
        Just(Some(f64::NEG_INFINITY)),
        Just(Some(0.0)),
        Just(Some(-0.0)),
        Just(Some(f64::MAX)),
        Just(Some(f64::MIN)),
        Just(Some(f64::MIN_POSITIVE)),
        Just(Some(1e-300)),
        (-1e6f64..1e6).prop_map(Some),
    ]
}

fn pos() -> impl Strategy<Value = Option<DawPos>> {
    let pos = (
        prop::option::of(prop_oneof![Just(i64::MIN), Just(i64::MAX), any::<i64>()]),
        float(),
        float(),
        prop::option::of(prop_oneof![
            Just(i32::MIN),
            Just(i32::MAX),
            Just(0),
            any::<i32>()
        ]),
        float(),
        float(),
        prop::option::of((
            prop_oneof![Just(0u16), Just(u16::MAX), 1u16..16],
            prop_oneof![Just(0u16), Just(u16::MAX), Just(3u16), Just(4u16), 1u16..64],
        )),
    )
        .prop_map(
            |(samples, seconds, beats, bar, beat, tempo, time_sig)| DawPos {
                samples,
                seconds,
                beats,
                bar,
                beat,
                tempo,
                time_sig,
                playing: true,
                recording: false,
            },
        );
    prop::option::of(pos)
}

fn at() -> impl Strategy<Value = i64> {
    prop_oneof![
        Just(i64::MIN),
        Just(i64::MAX),
        Just(0),
        Just(-1),
        any::<i64>()
    ]
}

fn events() -> impl Strategy<Value = Vec<Event>> {
    let instance = Uuid::from_u128(5);
    let one = (at(), pos(), pos(), pos(), 0u8..6).prop_map(move |(at, p, from, to, kind)| {
        let note = Uuid::from_u128(1);
        let body = match kind {
            0 => Body::NoteAdded(NoteAdded {
                text: "n".into(),
                category: Category::Mix,
                anchor: match (from, to) {
                    (Some(from), Some(to)) => Some(Anchor::Range { from, to }),
                    (Some(at), None) => Some(Anchor::Point { at }),
                    _ => None,
                },
                take: Some(TakeRef {
                    instance,
                    number: u32::MAX,
                }),
                private: false,
                version: None,
                guest: None,
            }),
            1 => Body::NoteEdited(NoteEdited {
                note,
                text: Some("e".into()),
                category: None,
                anchor: from.map(|at| Anchor::Point { at }),
            }),
            2 => Body::TakeStarted {
                take: TakeRef {
                    instance,
                    number: u32::MAX,
                },
            },
            3 => Body::TakeEnded {
                take: TakeRef {
                    instance,
                    number: u32::MAX,
                },
            },
            4 => Body::Mark {
                instance,
                number: u32::MAX,
                label: None,
            },
            _ => Body::SessionClosed,
        };
        let mut e = Event::new(
            &Context {
                project: "P".into(),
                song: "S".into(),
                track: "T".into(),
                session: Uuid::from_u128(9),
                author: "Sam".into(),
                role: liner_record::Role::Producer,
            },
            p,
            body,
        );
        e.at = at;
        e
    });
    prop::collection::vec(one, 1..12)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn hostile_clocks_and_positions_fold_and_export_in_every_format(events in events()) {
        let views = liner_record::fold(&events);
        let _ = views.sessions.iter().map(|s| s.duration_ms()).collect::<Vec<_>>();
        for format in Format::ALL {
            let out = export(&events, &Scope::default(), format);
            // The formats for people and JSON always have their frame; the rest may be empty.
            let framed = matches!(format, Format::Markdown | Format::Html | Format::Json);
            prop_assert!(!framed || !out.bytes.is_empty(), "{}", format.name());
        }
    }
}

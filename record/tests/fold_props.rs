//! The fold is deterministic: any order and any duplication of the same events give the same
//! views.

use liner_record::event::{
    Anchor, Body, Category, DawPos, Decision, Event, NoteAdded, NoteEdited, Rating, Role, Setting,
    TakeRef, Verdict,
};
use liner_record::fold;
use proptest::prelude::*;
use uuid::Uuid;

fn role() -> impl Strategy<Value = Role> {
    prop::sample::select(Role::ALL.to_vec())
}

/// Events over a small world (few notes, takes, times) so edits, verdicts and ties collide.
fn events() -> impl Strategy<Value = Vec<Event>> {
    let note_ids: Vec<Uuid> = (1..=4).map(Uuid::from_u128).collect();
    let instance = Uuid::from_u128(99);
    let body = prop_oneof![
        (
            "[a-c]{0,3}",
            prop::sample::select(Category::ALL.to_vec()),
            any::<bool>()
        )
            .prop_map(|(text, category, private)| Body::NoteAdded(NoteAdded {
                text,
                category,
                anchor: None,
                take: None,
                private,
                version: None,
                guest: None,
            })),
        (prop::sample::select(note_ids.clone()), "[a-c]{0,3}").prop_map(|(note, text)| {
            Body::NoteEdited(NoteEdited {
                note,
                text: Some(text),
                category: None,
                anchor: Some(Anchor::Point {
                    at: DawPos::default(),
                }),
            })
        }),
        prop::sample::select(note_ids.clone()).prop_map(|note| Body::NoteDeleted { note }),
        (1u32..3).prop_map(move |number| Body::TakeStarted {
            take: TakeRef { instance, number }
        }),
        (
            1u32..3,
            prop::sample::select(vec![Rating::Keeper, Rating::Maybe, Rating::Scratch])
        )
            .prop_map(move |(number, rating)| Body::TakeRated {
                take: TakeRef { instance, number },
                rating,
                stars: Some(3),
                note: None,
            }),
        (
            prop::sample::select(note_ids.clone()),
            prop::sample::select(vec![
                Verdict::Approved,
                Verdict::Rejected,
                Verdict::ChangesRequested
            ])
        )
            .prop_map(|(target, verdict)| Body::Verdict {
                target,
                verdict,
                comment: "c".into(),
            }),
        "[a-b]{1,2}".prop_map(|p| Body::EqDecision(Decision {
            processor: p,
            settings: vec![Setting {
                name: "gain".into(),
                value: Some(-2.0),
                text: None,
                unit: Some("dB".into()),
            }],
            reason: "r".into(),
        })),
        prop::collection::vec("[a-c]", 0..3).prop_map(|songs| Body::TracklistOrder { songs }),
        // The review loop: replies (to notes, and edits and deletions of any id, so some hit
        // a reply), and dones answering any id (so some answer a changes request).
        (prop::sample::select(note_ids.clone()), "[a-c]{0,3}").prop_map(|(target, text)| {
            Body::ReplyAdded(liner_record::event::ReplyAdded { target, text })
        }),
        (1u128..=12, "[a-c]{0,3}").prop_map(|(reply, text)| Body::ReplyEdited {
            reply: Uuid::from_u128(reply),
            text
        }),
        (1u128..=12).prop_map(|reply| Body::ReplyDeleted {
            reply: Uuid::from_u128(reply)
        }),
        (prop::sample::select(note_ids.clone()), 1u128..=12).prop_map(|(target, answers)| {
            Body::MarkedDone(liner_record::event::MarkedDone {
                target,
                answers: Uuid::from_u128(answers),
                version: None,
                comment: String::new(),
            })
        }),
        Just(Body::SessionOpened),
        Just(Body::SessionClosed),
        Just(Body::TransportStarted),
        Just(Body::TransportStopped),
    ];
    // Ids come from a small pool so that some events are notes referenced by edits.
    prop::collection::vec((0u128..12, 0i64..5, role(), 1u128..3, body), 0..24).prop_map(|items| {
        // Times spread over minutes, so that some gaps join and some do not.
        let mut seen = std::collections::HashSet::new();
        items
            .into_iter()
            .filter(|(id, ..)| seen.insert(*id))
            .map(|(id, at, role, session, body)| Event {
                id: Uuid::from_u128(id + 1),
                project: "P".into(),
                song: "S".into(),
                track: "T".into(),
                session: Uuid::from_u128(1000 + session),
                author: format!("{role}"),
                role,
                at: at * 170_000,
                pos: None,
                body,
            })
            .collect()
    })
}

proptest! {
    #[test]
    fn any_order_and_duplication_gives_the_same_views(
        events in events(),
        seed in any::<u64>(),
        dups in prop::collection::vec(any::<prop::sample::Index>(), 0..10),
        clashes in prop::collection::vec((any::<prop::sample::Index>(), "[x-z]{1,2}"), 0..4),
    ) {
        // Some ids also arrive with other content (conflicts): still one answer.
        let mut events = events;
        let originals = events.clone();
        for (i, author) in &clashes {
            if !originals.is_empty() {
                let mut other = originals[i.index(originals.len())].clone();
                other.author = author.clone();
                events.push(other);
            }
        }
        let expected = fold(&events);
        if !clashes.is_empty() && !originals.is_empty() {
            prop_assert!(!expected.conflicts.is_empty());
        }
        let mut shuffled: Vec<Event> = events.clone();
        for i in &dups {
            if !events.is_empty() {
                shuffled.push(events[i.index(events.len())].clone());
            }
        }
        // Fisher-Yates with a tiny LCG so the permutation depends only on the seed.
        let mut s = seed | 1;
        for i in (1..shuffled.len()).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            shuffled.swap(i, (s >> 33) as usize % (i + 1));
        }
        prop_assert_eq!(fold(&shuffled), expected);
    }

    /// Worked time never exceeds the span of a person's own events on the song, and a
    /// person with events on a song has a worked time for it.
    #[test]
    fn worked_time_lies_within_each_persons_events(events in events()) {
        let views = fold(&events);
        for w in &views.worked {
            let ats: Vec<i64> = events
                .iter()
                .filter(|e| e.author == w.person && e.song == w.song)
                .map(|e| e.at)
                .collect();
            prop_assert!(!ats.is_empty());
            let span = ats.iter().max().unwrap() - ats.iter().min().unwrap();
            prop_assert!(w.ms >= 0 && w.ms <= span, "{w:?} over a span of {span}");
        }
        for e in &events {
            let counted = views.worked.iter().any(|w| w.person == e.author && w.song == e.song);
            let work = !matches!(e.body, Body::SessionOpened | Body::SessionClosed);
            prop_assert!(counted || !work, "{e:?} is work but not counted");
        }
    }
}

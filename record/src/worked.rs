//! Worked time: how long each person worked on each song.
//!
//! A person's worked time on a song is the union of the stretches in which one of their plugin
//! instances had the transport rolling (from `transport_started` to `transport_stopped`, or to
//! the instance's `session_closed`) and the moments they recorded something (a note, a take, a
//! mark, a decision, a rating, a verdict...), with gaps under [`JOIN_GAP_MS`] joined. Opening
//! and closing a session alone is not work, nor is an event of no song (the tracklist). Every sum saturates: no clock can overflow it.

use crate::event::{Body, Event};
use serde::Serialize;
use std::collections::BTreeMap;
use uuid::Uuid;

/// Gaps shorter than this between two stretches of work count as work (five minutes).
pub const JOIN_GAP_MS: i64 = 5 * 60 * 1000;

/// One person's worked time on one song.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkedTime {
    pub person: String,
    pub song: String,
    pub ms: i64,
}

/// Worked time per (person, song), sorted by song then person. `events` must be in (`at`,
/// `id`) order, once each (as the fold has them).
///
/// # Panics
/// Never: only keys listed from the map are taken out of it.
pub fn worked_time<'a>(events: impl IntoIterator<Item = &'a Event>) -> Vec<WorkedTime> {
    type Key = (String, String);
    let mut stretches: BTreeMap<Key, Vec<(i64, i64)>> = BTreeMap::new();
    // Rolling transports by (session, track, person, song): since when.
    let mut rolling: BTreeMap<(Uuid, String, String, String), i64> = BTreeMap::new();
    let mut last_seen: BTreeMap<(Uuid, String), i64> = BTreeMap::new();
    for e in events {
        // Project-wide decisions (the tracklist) are not work on a song.
        if e.song.is_empty() {
            continue;
        }
        let key = (e.author.clone(), e.song.clone());
        let seen = last_seen
            .entry((e.session, e.author.clone()))
            .or_insert(e.at);
        *seen = (*seen).max(e.at);
        let instance = (e.session, e.track.clone(), e.author.clone(), e.song.clone());
        match &e.body {
            Body::TransportStarted => {
                rolling.entry(instance).or_insert(e.at);
            }
            Body::TransportStopped => {
                // Without its start (made elsewhere, or lost), it was rolling at least then.
                let start = rolling.remove(&instance).unwrap_or(e.at);
                stretches.entry(key).or_default().push((start, e.at));
            }
            Body::SessionClosed => {
                let open: Vec<_> = rolling
                    .keys()
                    .filter(|(s, t, a, _)| *s == e.session && *t == e.track && *a == e.author)
                    .cloned()
                    .collect();
                for k in open {
                    let start = rolling.remove(&k).expect("listed above");
                    stretches
                        .entry((k.2.clone(), k.3.clone()))
                        .or_default()
                        .push((start, e.at));
                }
            }
            Body::SessionOpened => {}
            _ => stretches.entry(key).or_default().push((e.at, e.at)),
        }
    }
    // A transport still rolling ran at least until its person's last event in that session.
    for ((session, _, person, song), start) in rolling {
        let end = last_seen
            .get(&(session, person.clone()))
            .copied()
            .unwrap_or(start)
            .max(start);
        stretches
            .entry((person, song))
            .or_default()
            .push((start, end));
    }
    let mut out: Vec<WorkedTime> = stretches
        .into_iter()
        .map(|((person, song), list)| WorkedTime {
            ms: joined_length(list),
            person,
            song,
        })
        .collect();
    out.sort_by(|a, b| (&a.song, &a.person).cmp(&(&b.song, &b.person)));
    out
}

/// The length of the union of `stretches`, gaps under [`JOIN_GAP_MS`] counted as covered.
fn joined_length(mut stretches: Vec<(i64, i64)>) -> i64 {
    stretches.sort_unstable();
    let mut total: i64 = 0;
    let mut current: Option<(i64, i64)> = None;
    for (start, end) in stretches {
        current = match current {
            Some((s, e)) if start.saturating_sub(e) < JOIN_GAP_MS => Some((s, e.max(end))),
            Some((s, e)) => {
                total = total.saturating_add(e.saturating_sub(s));
                Some((start, end))
            }
            None => Some((start, end)),
        };
    }
    if let Some((s, e)) = current {
        total = total.saturating_add(e.saturating_sub(s));
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Category, Context, NoteAdded, Role};

    const MIN: i64 = 60_000;

    fn at(author: &str, song: &str, track: &str, body: Body, t: i64) -> Event {
        let mut e = Event::new(
            &Context {
                project: "P".into(),
                song: song.into(),
                track: track.into(),
                session: Uuid::from_u128(1),
                author: author.into(),
                role: Role::Producer,
            },
            None,
            body,
        );
        e.at = t;
        e
    }

    fn note(author: &str, song: &str, t: i64) -> Event {
        at(
            author,
            song,
            "Vox",
            Body::NoteAdded(NoteAdded {
                text: "n".into(),
                category: Category::Mix,
                anchor: None,
                take: None,
                private: false,
                version: None,
                guest: None,
            }),
            t,
        )
    }

    fn worked(events: &[Event]) -> Vec<(String, String, i64)> {
        let mut sorted: Vec<&Event> = events.iter().collect();
        sorted.sort_by_key(|e| (e.at, e.id));
        worked_time(sorted)
            .into_iter()
            .map(|w| (w.person, w.song, w.ms))
            .collect()
    }

    #[test]
    fn notes_under_five_minutes_apart_join_and_further_ones_do_not() {
        let events = [
            note("Sam", "A", 0),
            note("Sam", "A", 4 * MIN),
            note("Sam", "A", 8 * MIN),
            // Six minutes after the last: a new stretch (of no length).
            note("Sam", "A", 14 * MIN),
        ];
        assert_eq!(worked(&events), [("Sam".into(), "A".into(), 8 * MIN)]);
    }

    #[test]
    fn a_rolling_transport_counts_until_it_stops_or_the_instance_closes() {
        let events = [
            at("Sam", "A", "Bass", Body::SessionOpened, 0),
            at("Sam", "A", "Bass", Body::TransportStarted, MIN),
            at("Sam", "A", "Bass", Body::TransportStopped, 21 * MIN),
            at("Sam", "A", "Bass", Body::TransportStarted, 60 * MIN),
            at("Sam", "A", "Bass", Body::SessionClosed, 70 * MIN),
            // Opening a session alone is no work.
            at("Kim", "A", "Keys", Body::SessionOpened, 0),
            at("Kim", "A", "Keys", Body::SessionClosed, 90 * MIN),
        ];
        assert_eq!(worked(&events), [("Sam".into(), "A".into(), 30 * MIN)]);
    }

    #[test]
    fn people_and_songs_are_counted_apart_and_two_instances_do_not_count_twice() {
        let events = [
            at("Sam", "A", "Bass", Body::TransportStarted, 0),
            at("Sam", "A", "Keys", Body::TransportStarted, 0),
            at("Sam", "A", "Bass", Body::TransportStopped, 10 * MIN),
            at("Sam", "A", "Keys", Body::TransportStopped, 10 * MIN),
            note("Kim", "A", 0),
            note("Kim", "A", 2 * MIN),
            note("Sam", "B", 0),
        ];
        assert_eq!(
            worked(&events),
            [
                ("Kim".into(), "A".into(), 2 * MIN),
                ("Sam".into(), "A".into(), 10 * MIN),
                ("Sam".into(), "B".into(), 0),
            ]
        );
    }

    #[test]
    fn clocks_at_the_ends_of_time_saturate() {
        let events = [note("Sam", "A", i64::MIN), note("Sam", "A", i64::MAX)];
        assert_eq!(worked(&events)[0].2, 0);
        let rolling = [
            at("Sam", "A", "Bass", Body::TransportStarted, i64::MIN),
            at("Sam", "A", "Bass", Body::TransportStopped, i64::MAX),
        ];
        assert_eq!(worked(&rolling)[0].2, i64::MAX);
    }
}

//! Folding events into what people look at: notes, takes, decisions, verdicts, tracklist,
//! sessions.
//!
//! [`fold`] is pure and deterministic: any order and any duplication of the same set of
//! events gives the same [`Views`]. Events are de-duplicated by id, then applied in
//! (`at`, `id`) order; edits of one note resolve last-writer-wins by (`at`, `id`), field by
//! field. Only the executive role's verdicts, tracklist orders and song selections count.
//! Two different events with the same id are a conflict: reported, and the one with the
//! smaller JSON is used so the result still does not depend on order.

use crate::event::{
    Anchor, Body, Category, DawPos, Decision, Event, Rating, Role, TakeRef, Verdict,
};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

/// The executive's latest word on something.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerdictView {
    pub verdict: Verdict,
    pub comment: String,
    pub author: String,
    pub at: i64,
    pub id: Uuid,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NoteView {
    pub id: Uuid,
    pub song: String,
    pub track: String,
    pub session: Uuid,
    pub author: String,
    pub role: Role,
    pub category: Category,
    pub text: String,
    /// Where it sits: the anchor, or the position where it was made.
    pub anchor: Option<Anchor>,
    pub take: Option<TakeRef>,
    pub private: bool,
    pub created_at: i64,
    /// The last edit's time, if edited.
    pub edited_at: Option<i64>,
    pub verdict: Option<VerdictView>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TakeView {
    pub take: TakeRef,
    /// Id of the `take_started` event (what verdicts on a take point at).
    pub id: Option<Uuid>,
    pub song: String,
    pub track: String,
    pub session: Uuid,
    pub start: Option<DawPos>,
    pub end: Option<DawPos>,
    pub started_at: Option<i64>,
    pub rating: Option<Rating>,
    pub stars: Option<u8>,
    pub note: Option<String>,
    pub verdict: Option<VerdictView>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DecisionView {
    pub id: Uuid,
    pub song: String,
    pub track: String,
    pub session: Uuid,
    /// "eq" or "fx".
    pub kind: &'static str,
    pub decision: Decision,
    pub author: String,
    pub role: Role,
    pub at: i64,
    pub pos: Option<DawPos>,
    pub verdict: Option<VerdictView>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MarkView {
    pub id: Uuid,
    pub song: String,
    pub track: String,
    pub instance: Uuid,
    pub number: u32,
    pub label: Option<String>,
    pub at: i64,
    pub pos: Option<DawPos>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionView {
    pub id: Uuid,
    /// Everyone who recorded something in it, by name, with their role.
    pub people: BTreeSet<(String, Role)>,
    pub songs: BTreeSet<String>,
    pub started_at: i64,
    pub ended_at: i64,
}

impl SessionView {
    pub fn duration_ms(&self) -> i64 {
        self.ended_at - self.started_at
    }
}

/// Everything a fold produces.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Views {
    /// Live notes (deleted ones removed), by (created_at, id).
    pub notes: Vec<NoteView>,
    pub takes: Vec<TakeView>,
    pub decisions: Vec<DecisionView>,
    pub marks: Vec<MarkView>,
    /// The executive's latest verdict per judged event id.
    pub verdicts: BTreeMap<Uuid, VerdictView>,
    /// The executive's latest song order.
    pub tracklist: Option<Vec<String>>,
    /// The executive's latest choice per song.
    pub song_selection: BTreeMap<String, bool>,
    pub sessions: Vec<SessionView>,
    /// Ids seen with two different contents.
    pub conflicts: Vec<Uuid>,
    /// Events of kinds this version does not know (kept, not shown).
    pub unknown: usize,
}

fn order_key(e: &Event) -> (i64, Uuid) {
    (e.at, e.id)
}

/// Folds a set of events into views. See the module docs for the guarantees.
pub fn fold<'a>(events: impl IntoIterator<Item = &'a Event>) -> Views {
    let mut by_id: BTreeMap<Uuid, (&Event, Option<String>)> = BTreeMap::new();
    let mut conflicts = BTreeSet::new();
    for e in events {
        match by_id.get_mut(&e.id) {
            None => {
                by_id.insert(e.id, (e, None));
            }
            Some((kept, kept_json)) => {
                if *kept != e {
                    conflicts.insert(e.id);
                    let kj = kept_json.get_or_insert_with(|| kept.to_json()).clone();
                    let ej = e.to_json();
                    if ej < kj {
                        *kept = e;
                        *kept_json = Some(ej);
                    }
                }
            }
        }
    }
    let mut events: Vec<&Event> = by_id.into_values().map(|(e, _)| e).collect();
    events.sort_by_key(|e| order_key(e));

    let mut views = Views {
        conflicts: conflicts.into_iter().collect(),
        ..Default::default()
    };
    let mut notes: BTreeMap<Uuid, NoteView> = BTreeMap::new();
    let mut deleted: BTreeSet<Uuid> = BTreeSet::new();
    let mut marks_by_number: BTreeMap<(Uuid, u32), usize> = BTreeMap::new();
    let mut takes: BTreeMap<TakeRef, TakeView> = BTreeMap::new();
    let mut sessions: BTreeMap<Uuid, SessionView> = BTreeMap::new();
    let mut explicit_session: BTreeMap<Uuid, (Option<i64>, Option<i64>)> = BTreeMap::new();

    let take_entry = |takes: &mut BTreeMap<TakeRef, TakeView>, e: &Event, take: TakeRef| {
        takes.entry(take).or_insert_with(|| TakeView {
            take,
            id: None,
            song: e.song.clone(),
            track: e.track.clone(),
            session: e.session,
            start: None,
            end: None,
            started_at: None,
            rating: None,
            stars: None,
            note: None,
            verdict: None,
        });
    };

    // Adds first, so an edit whose clock ran behind its note's still applies.
    for e in &events {
        if let Body::NoteAdded(n) = &e.body {
            notes.insert(
                e.id,
                NoteView {
                    id: e.id,
                    song: e.song.clone(),
                    track: e.track.clone(),
                    session: e.session,
                    author: e.author.clone(),
                    role: e.role,
                    category: n.category,
                    text: n.text.clone(),
                    anchor: n.anchor.or(e.pos.map(|at| Anchor::Point { at })),
                    take: n.take,
                    private: n.private,
                    created_at: e.at,
                    edited_at: None,
                    verdict: None,
                },
            );
        }
    }

    for e in &events {
        let s = sessions.entry(e.session).or_insert_with(|| SessionView {
            id: e.session,
            people: BTreeSet::new(),
            songs: BTreeSet::new(),
            started_at: e.at,
            ended_at: e.at,
        });
        s.people.insert((e.author.clone(), e.role));
        if !e.song.is_empty() {
            s.songs.insert(e.song.clone());
        }
        s.started_at = s.started_at.min(e.at);
        s.ended_at = s.ended_at.max(e.at);
        let executive = e.role == Role::Executive;

        match &e.body {
            Body::NoteAdded(_) => {}
            Body::NoteEdited(edit) => {
                if let Some(n) = notes.get_mut(&edit.note) {
                    if let Some(text) = &edit.text {
                        n.text = text.clone();
                    }
                    if let Some(c) = edit.category {
                        n.category = c;
                    }
                    if let Some(a) = edit.anchor {
                        n.anchor = Some(a);
                    }
                    n.edited_at = Some(e.at);
                }
            }
            Body::NoteDeleted { note } => {
                deleted.insert(*note);
            }
            Body::TakeStarted { take } => {
                take_entry(&mut takes, e, *take);
                let t = takes.get_mut(take).unwrap();
                if t.id.is_none() {
                    t.id = Some(e.id);
                    t.start = e.pos;
                    t.started_at = Some(e.at);
                    t.song = e.song.clone();
                    t.track = e.track.clone();
                    t.session = e.session;
                }
            }
            Body::TakeEnded { take } => {
                take_entry(&mut takes, e, *take);
                takes.get_mut(take).unwrap().end = e.pos;
            }
            Body::TakeRated {
                take,
                rating,
                stars,
                note,
            } => {
                take_entry(&mut takes, e, *take);
                let t = takes.get_mut(take).unwrap();
                t.rating = Some(*rating);
                t.stars = *stars;
                t.note = note.clone();
            }
            Body::Mark {
                instance,
                number,
                label,
            } => {
                // A later mark event with the same instance and number names the mark (the
                // editor's "fill in"): the first keeps its place, the latest label wins.
                match marks_by_number.get(&(*instance, *number)) {
                    Some(&i) => {
                        if label.is_some() {
                            views.marks[i].label = label.clone();
                        }
                    }
                    None => {
                        marks_by_number.insert((*instance, *number), views.marks.len());
                        views.marks.push(MarkView {
                            id: e.id,
                            song: e.song.clone(),
                            track: e.track.clone(),
                            instance: *instance,
                            number: *number,
                            label: label.clone(),
                            at: e.at,
                            pos: e.pos,
                        })
                    }
                }
            }
            Body::EqDecision(d) | Body::FxDecision(d) => views.decisions.push(DecisionView {
                id: e.id,
                song: e.song.clone(),
                track: e.track.clone(),
                session: e.session,
                kind: if matches!(e.body, Body::EqDecision(_)) {
                    "eq"
                } else {
                    "fx"
                },
                decision: d.clone(),
                author: e.author.clone(),
                role: e.role,
                at: e.at,
                pos: e.pos,
                verdict: None,
            }),
            Body::Verdict {
                target,
                verdict,
                comment,
            } if executive => {
                views.verdicts.insert(
                    *target,
                    VerdictView {
                        verdict: *verdict,
                        comment: comment.clone(),
                        author: e.author.clone(),
                        at: e.at,
                        id: e.id,
                    },
                );
            }
            Body::TracklistOrder { songs } if executive => views.tracklist = Some(songs.clone()),
            Body::SongSelection { song, selected } if executive => {
                views.song_selection.insert(song.clone(), *selected);
            }
            Body::Verdict { .. } | Body::TracklistOrder { .. } | Body::SongSelection { .. } => {}
            Body::SessionOpened => {
                let x = explicit_session.entry(e.session).or_default();
                x.0 = Some(x.0.map_or(e.at, |t: i64| t.min(e.at)));
            }
            Body::SessionClosed => {
                let x = explicit_session.entry(e.session).or_default();
                x.1 = Some(x.1.map_or(e.at, |t: i64| t.max(e.at)));
            }
            Body::TransportStarted | Body::TransportStopped => {}
            Body::Unknown { .. } => views.unknown += 1,
        }
    }

    for id in &deleted {
        notes.remove(id);
    }
    let verdict = |id: &Uuid| views.verdicts.get(id).cloned();
    views.notes = notes.into_values().collect();
    views.notes.sort_by_key(|n| (n.created_at, n.id));
    for n in &mut views.notes {
        n.verdict = verdict(&n.id);
    }
    views.takes = takes.into_values().collect();
    for t in &mut views.takes {
        t.verdict = t.id.as_ref().and_then(verdict);
    }
    for d in &mut views.decisions {
        d.verdict = verdict(&d.id);
    }
    for (id, (opened, closed)) in explicit_session {
        if let Some(s) = sessions.get_mut(&id) {
            if let Some(o) = opened {
                s.started_at = o;
            }
            if let Some(c) = closed {
                s.ended_at = c.max(s.started_at);
            }
        }
    }
    views.sessions = sessions.into_values().collect();
    views.sessions.sort_by_key(|s| (s.started_at, s.id));
    views
}

impl Views {
    /// Every song the record mentions (notes, takes, decisions, marks, the tracklist).
    pub fn songs(&self) -> BTreeSet<String> {
        let mut out: BTreeSet<String> = self.notes.iter().map(|n| n.song.clone()).collect();
        out.extend(self.takes.iter().map(|t| t.song.clone()));
        out.extend(self.decisions.iter().map(|d| d.song.clone()));
        out.extend(self.marks.iter().map(|m| m.song.clone()));
        out.extend(self.tracklist.iter().flatten().cloned());
        out.retain(|s| !s.is_empty());
        out
    }

    /// The standing decision per (song, track, processor): the latest approved one, else the
    /// latest. This is what a recall sheet lists.
    pub fn standing_decisions(&self) -> Vec<&DecisionView> {
        let mut best: BTreeMap<(&str, &str, &str, &str), &DecisionView> = BTreeMap::new();
        for d in &self.decisions {
            let key = (
                d.song.as_str(),
                d.track.as_str(),
                d.kind,
                d.decision.processor.as_str(),
            );
            let approved = |d: &DecisionView| {
                matches!(
                    d.verdict,
                    Some(VerdictView {
                        verdict: Verdict::Approved,
                        ..
                    })
                )
            };
            match best.get(&key) {
                Some(cur) if approved(cur) && !approved(d) => {}
                _ => {
                    best.insert(key, d);
                }
            }
        }
        best.into_values().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Context, NoteAdded, NoteEdited};

    fn ctx(author: &str, role: Role) -> Context {
        Context {
            project: "P".into(),
            song: "Song".into(),
            track: "Vox".into(),
            session: Uuid::from_u128(1),
            author: author.into(),
            role,
        }
    }

    fn at(mut e: Event, t: i64) -> Event {
        e.at = t;
        e
    }

    fn note(text: &str, t: i64) -> Event {
        at(
            Event::new(
                &ctx("Sam", Role::Producer),
                None,
                Body::NoteAdded(NoteAdded {
                    text: text.into(),
                    category: Category::Vocal,
                    anchor: None,
                    take: None,
                    private: false,
                }),
            ),
            t,
        )
    }

    fn edit(of: &Event, text: &str, t: i64) -> Event {
        at(
            Event::new(
                &ctx("Sam", Role::Producer),
                None,
                Body::NoteEdited(NoteEdited {
                    note: of.id,
                    text: Some(text.into()),
                    category: None,
                    anchor: None,
                }),
            ),
            t,
        )
    }

    #[test]
    fn a_later_mark_with_the_same_number_names_the_mark_in_place() {
        let instance = Uuid::from_u128(9);
        let mark = |label: Option<&str>, t| {
            at(
                Event::new(
                    &ctx("Sam", Role::Producer),
                    None,
                    Body::Mark {
                        instance,
                        number: 3,
                        label: label.map(str::to_owned),
                    },
                ),
                t,
            )
        };
        let dropped = mark(None, 10);
        let named = mark(Some("count-in too long"), 20);
        let views = fold([&named, &dropped]);
        assert_eq!(views.marks.len(), 1);
        assert_eq!(views.marks[0].id, dropped.id);
        assert_eq!(views.marks[0].at, 10);
        assert_eq!(views.marks[0].label.as_deref(), Some("count-in too long"));
    }

    #[test]
    fn the_last_edit_wins_and_deletes_are_tombstones() {
        let n = note("first", 10);
        let e1 = edit(&n, "second", 20);
        let e2 = edit(&n, "third", 30);
        let v = fold([&e2, &n, &e1]);
        assert_eq!(v.notes[0].text, "third");
        assert_eq!(v.notes[0].edited_at, Some(30));
        let del = at(
            Event::new(
                &ctx("Sam", Role::Producer),
                None,
                Body::NoteDeleted { note: n.id },
            ),
            40,
        );
        assert!(fold([&n, &e1, &del]).notes.is_empty());
    }

    #[test]
    fn only_the_executive_gives_verdicts() {
        let n = note("x", 1);
        let verdict = |role, v, t| {
            at(
                Event::new(
                    &ctx("Someone", role),
                    None,
                    Body::Verdict {
                        target: n.id,
                        verdict: v,
                        comment: "c".into(),
                    },
                ),
                t,
            )
        };
        let by_producer = verdict(Role::Producer, Verdict::Approved, 5);
        let by_exec = verdict(Role::Executive, Verdict::Rejected, 3);
        let v = fold([&n, &by_producer, &by_exec]);
        assert_eq!(
            v.notes[0].verdict.as_ref().unwrap().verdict,
            Verdict::Rejected
        );
        assert_eq!(v.verdicts.len(), 1);
    }

    #[test]
    fn the_same_id_with_other_content_is_a_reported_conflict_resolved_by_content() {
        let a = note("a", 1);
        let mut b = a.clone();
        b.body = Body::NoteAdded(NoteAdded {
            text: "b".into(),
            category: Category::Mix,
            anchor: None,
            take: None,
            private: false,
        });
        let v1 = fold([&a, &b]);
        let v2 = fold([&b, &a]);
        assert_eq!(v1, v2);
        assert_eq!(v1.conflicts, vec![a.id]);
        assert_eq!(v1.notes.len(), 1);
    }

    #[test]
    fn sessions_know_who_was_there_and_for_how_long() {
        let mut e1 = note("a", 1_000);
        e1.author = "Ana".into();
        let e2 = note("b", 61_000);
        let v = fold([&e1, &e2]);
        assert_eq!(v.sessions.len(), 1);
        assert_eq!(v.sessions[0].duration_ms(), 60_000);
        let names: Vec<&str> = v.sessions[0].people.iter().map(|p| p.0.as_str()).collect();
        assert_eq!(names, ["Ana", "Sam"]);
    }
}

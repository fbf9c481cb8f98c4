//! Folding events into what people look at: notes, takes, decisions, verdicts, tracklist,
//! sessions.
//!
//! [`fold`] is pure and deterministic: any order and any duplication of the same set of
//! events gives the same [`Views`]. Events are de-duplicated by id, then applied in
//! (`at`, `id`) order; edits of one note resolve last-writer-wins by (`at`, `id`), field by
//! field. The rules of [`crate::rules`] apply: only a note's author edits or deletes it, only
//! a take's or a mark's owner changes it, a verdict counts only on something judgeable of its
//! project, and only the executive role's verdicts, tracklist orders and song selections count.
//! Two different events with the same id are a conflict: reported, and the one with the
//! smaller JSON is used so the result still does not depend on order.

use crate::event::{
    Anchor, Body, Category, DawPos, Decision, Event, NoteAdded, NoteEdited, Rating, Role, TakeRef,
    Verdict,
};
use crate::rules::{self, Claim, Subject};
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
    /// For changes requested: the answer that the change is made (the latest `marked_done`
    /// naming this verdict), which puts the thing back for a re-check ([`crate::review`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub done: Option<DoneView>,
}

/// "Done, please re-check": who said it, when, and in which version the change is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DoneView {
    /// The `marked_done` event.
    pub id: Uuid,
    pub author: String,
    pub role: Role,
    pub at: i64,
    /// The version that carries the change (a `version_printed` event of the project).
    pub version: Option<Uuid>,
    pub comment: String,
}

/// One answer in a thread.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplyView {
    /// The `reply_added` event.
    pub id: Uuid,
    /// What it answers (the id of the note's, decision's, take's, mark's or version's event).
    pub target: Uuid,
    pub author: String,
    pub role: Role,
    pub text: String,
    pub at: i64,
    /// The last edit's time, if edited.
    pub edited_at: Option<i64>,
}

/// The audio attached to a note, decision or mark (the latest, if several).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClipView {
    pub clip: crate::clips::Clip,
    pub private: bool,
    pub at: i64,
    /// The `clip_attached` event.
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
    /// The version it was made on, for a comment on a version's waveform.
    pub version: Option<Uuid>,
    /// The guest who wrote it (a comment through a listening link); `author` is the
    /// executive who accepted it. Absent from the JSON export for every other note.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guest: Option<String>,
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

/// A printed version of a song's mix ([`crate::versions`]), with its current label and the
/// executive's latest verdict on it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VersionView {
    /// The `version_printed` event (what a verdict on the version judges).
    pub id: Uuid,
    pub song: String,
    pub track: String,
    pub author: String,
    pub at: i64,
    /// The latest label its author gave it.
    pub label: String,
    pub printed: crate::versions::VersionPrinted,
    pub verdict: Option<VerdictView>,
}

impl VersionView {
    pub fn approved(&self) -> bool {
        matches!(
            self.verdict,
            Some(VerdictView {
                verdict: Verdict::Approved,
                ..
            })
        )
    }
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
        self.ended_at.saturating_sub(self.started_at)
    }
}

/// Who made a decision of the executive's, and when.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decided {
    pub author: String,
    pub at: i64,
    /// The event that made it.
    pub id: Uuid,
}

impl Decided {
    fn of(e: &Event) -> Self {
        Decided {
            author: e.author.clone(),
            at: e.at,
            id: e.id,
        }
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
    /// Printed versions, oldest first.
    pub versions: Vec<VersionView>,
    /// Each song's selected version (the id of its newest approved `version_printed` event;
    /// see [`Views::selected_version`]), for readers of the JSON export.
    pub selected_versions: BTreeMap<String, Uuid>,
    /// The executive's latest verdict per judged event id.
    pub verdicts: BTreeMap<Uuid, VerdictView>,
    /// The latest clip per note, decision or mark id ([`crate::clips`]).
    pub clips: BTreeMap<Uuid, ClipView>,
    /// The thread of each thing replied to (by its event id), oldest reply first; only
    /// things still there.
    pub replies: BTreeMap<Uuid, Vec<ReplyView>>,
    /// The executive's latest song order.
    pub tracklist: Option<Vec<String>>,
    /// Who set that order, and when.
    pub tracklist_decided: Option<Decided>,
    /// The executive's latest choice per song.
    pub song_selection: BTreeMap<String, bool>,
    /// Who made each song's latest choice, and when (the `id` is what a verdict on the
    /// song judges).
    pub song_selection_decided: BTreeMap<String, Decided>,
    /// Worked time per person per song ([`crate::worked`]).
    pub worked: Vec<crate::worked::WorkedTime>,
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
    let (events, conflicts) = distinct(events);
    let mut f = Folder::new(&events);
    for e in &events {
        f.apply(e);
    }
    let mut views = f.finish(conflicts);
    views.worked = crate::worked::worked_time(events.iter().copied());
    views
}

/// The events by id, once each, in (`at`, `id`) order, and the ids seen with two contents
/// (the one with the smaller JSON is kept, so the result does not depend on order).
fn distinct<'a>(events: impl IntoIterator<Item = &'a Event>) -> (Vec<&'a Event>, Vec<Uuid>) {
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
    (events, conflicts.into_iter().collect())
}

/// The fold's working state: one method per kind of event.
struct Folder<'a> {
    views: Views,
    notes: BTreeMap<Uuid, NoteView>,
    deleted: BTreeSet<Uuid>,
    marks_by_number: BTreeMap<(Uuid, u32), usize>,
    takes: BTreeMap<TakeRef, TakeView>,
    sessions: BTreeMap<Uuid, SessionView>,
    explicit_session: BTreeMap<Uuid, (Option<i64>, Option<i64>)>,
    /// Who owns each note, take and mark ([`rules`]).
    owners: BTreeMap<Subject, String>,
    /// Events a verdict may judge, by id, with their project.
    judgeable: BTreeMap<Uuid, &'a str>,
    /// Events a clip may be attached to, by id, with their project and author.
    clippable: BTreeMap<Uuid, (&'a str, &'a str)>,
    /// Events a reply may answer, by id, with their project.
    repliable: BTreeMap<Uuid, &'a str>,
    /// The executive's changes-requested verdicts, by id: what each judges, in which project.
    asks: BTreeMap<Uuid, (Uuid, &'a str)>,
    /// Printed versions by id, with their project (what a done may name).
    printed: BTreeMap<Uuid, &'a str>,
    /// Replies by id (deleted ones too, until the end).
    replies: BTreeMap<Uuid, ReplyView>,
    deleted_replies: BTreeSet<Uuid>,
    /// The latest done per verdict answered.
    dones: BTreeMap<Uuid, DoneView>,
}

impl<'a> Folder<'a> {
    /// Prepares the fold: notes first (so an edit whose clock ran behind its note's still
    /// applies), the owners that do not depend on order (a note's adder, a take's starter),
    /// and what verdicts may judge.
    fn new(events: &[&'a Event]) -> Self {
        let mut f = Folder {
            views: Views::default(),
            notes: BTreeMap::new(),
            deleted: BTreeSet::new(),
            marks_by_number: BTreeMap::new(),
            takes: BTreeMap::new(),
            sessions: BTreeMap::new(),
            explicit_session: BTreeMap::new(),
            owners: BTreeMap::new(),
            judgeable: BTreeMap::new(),
            clippable: BTreeMap::new(),
            repliable: BTreeMap::new(),
            asks: BTreeMap::new(),
            printed: BTreeMap::new(),
            replies: BTreeMap::new(),
            deleted_replies: BTreeSet::new(),
            dones: BTreeMap::new(),
        };
        for e in events {
            if rules::repliable(&e.body) {
                f.repliable.insert(e.id, e.project.as_str());
            }
            if let Some((verdict, target)) = rules::asks_for_changes(e) {
                f.asks.insert(verdict, (target, e.project.as_str()));
            }
            if matches!(e.body, Body::VersionPrinted(_)) {
                f.printed.insert(e.id, e.project.as_str());
            }
            if rules::judgeable(&e.body) {
                f.judgeable.insert(e.id, e.project.as_str());
            }
            if rules::clippable(&e.body) {
                f.clippable
                    .insert(e.id, (e.project.as_str(), e.author.as_str()));
            }
            match &e.body {
                Body::NoteAdded(n) => {
                    f.owners.insert(Subject::Note(e.id), e.author.clone());
                    f.notes.insert(e.id, NoteView::new(e, n));
                }
                Body::TakeStarted { take } => {
                    f.owners
                        .entry(Subject::Take(*take))
                        .or_insert_with(|| e.author.clone());
                }
                _ => {}
            }
        }
        // Replies too, once everything they may answer is known: an edit or deletion whose
        // clock ran behind its reply's still applies, as the server took it.
        for e in events {
            if let Body::ReplyAdded(r) = &e.body {
                f.reply_added(e, r);
            }
        }
        f
    }

    /// Whether `e` may do what it claims; takes ownership of what it makes.
    fn allowed(&mut self, e: &Event) -> bool {
        let Some(claim) = rules::claim(e) else {
            return true;
        };
        let (Claim::Makes(s) | Claim::Changes(s) | Claim::MakesOrChanges(s)) = claim;
        let ok =
            rules::judge_claim(claim, &e.author, self.owners.get(&s).map(String::as_str)).is_ok();
        if ok {
            self.owners.entry(s).or_insert_with(|| e.author.clone());
        }
        ok
    }

    fn apply(&mut self, e: &Event) {
        self.session_seen(e);
        if !self.allowed(e) {
            return;
        }
        let executive = e.role == Role::Executive;
        match &e.body {
            Body::NoteAdded(_) => {}
            Body::NoteEdited(edit) => self.note_edited(e, edit),
            Body::NoteDeleted { note } => {
                self.deleted.insert(*note);
            }
            Body::TakeStarted { take } => self.take_started(e, *take),
            Body::TakeEnded { take } => self.take(e, *take).end = e.pos,
            Body::TakeRated {
                take,
                rating,
                stars,
                note,
            } => {
                let t = self.take(e, *take);
                t.rating = Some(*rating);
                t.stars = *stars;
                t.note = note.clone();
            }
            Body::Mark {
                instance,
                number,
                label,
            } => self.mark(e, *instance, *number, label),
            Body::EqDecision(d) | Body::FxDecision(d) => self.decision(e, d),
            Body::Verdict {
                target,
                verdict,
                comment,
            } if executive => self.verdict(e, *target, *verdict, comment),
            Body::TracklistOrder { songs } if executive => {
                self.views.tracklist = Some(songs.clone());
                self.views.tracklist_decided = Some(Decided::of(e));
            }
            Body::SongSelection { song, selected } if executive => {
                self.views.song_selection.insert(song.clone(), *selected);
                self.views
                    .song_selection_decided
                    .insert(song.clone(), Decided::of(e));
            }
            Body::Verdict { .. } | Body::TracklistOrder { .. } | Body::SongSelection { .. } => {}
            Body::ClipAttached(c) => self.clip_attached(e, c),
            Body::VersionPrinted(v) => self.views.versions.push(VersionView {
                id: e.id,
                song: e.song.clone(),
                track: e.track.clone(),
                author: e.author.clone(),
                at: e.at,
                label: v.label.clone(),
                printed: v.clone(),
                verdict: None,
            }),
            Body::VersionLabeled(l) => {
                if let Some(v) = self.views.versions.iter_mut().find(|v| v.id == l.target) {
                    v.label = l.label.clone();
                }
            }
            // Made in `new`.
            Body::ReplyAdded(_) => {}
            Body::ReplyEdited { reply, text } => {
                if let Some(r) = self.replies.get_mut(reply) {
                    r.text = text.clone();
                    r.edited_at = Some(e.at);
                }
            }
            Body::ReplyDeleted { reply } => {
                self.deleted_replies.insert(*reply);
            }
            Body::MarkedDone(d) => self.marked_done(e, d),
            Body::SessionOpened => {
                let x = self.explicit_session.entry(e.session).or_default();
                x.0 = Some(x.0.map_or(e.at, |t: i64| t.min(e.at)));
            }
            Body::SessionClosed => {
                let x = self.explicit_session.entry(e.session).or_default();
                x.1 = Some(x.1.map_or(e.at, |t: i64| t.max(e.at)));
            }
            Body::TransportStarted | Body::TransportStopped => {}
            Body::Unknown { .. } => self.views.unknown += 1,
        }
    }

    /// The first start of a take names it (its id, place, song and track).
    fn take_started(&mut self, e: &Event, take: TakeRef) {
        let t = self.take(e, take);
        if t.id.is_none() {
            t.id = Some(e.id);
            t.start = e.pos;
            t.started_at = Some(e.at);
            t.song = e.song.clone();
            t.track = e.track.clone();
            t.session = e.session;
        }
    }

    /// An executive's verdict, on something judgeable of the same project only.
    fn verdict(&mut self, e: &Event, target: Uuid, verdict: Verdict, comment: &str) {
        if self.judgeable.get(&target) == Some(&e.project.as_str()) {
            self.views.verdicts.insert(
                target,
                VerdictView {
                    verdict,
                    comment: comment.to_owned(),
                    author: e.author.clone(),
                    at: e.at,
                    id: e.id,
                    done: None,
                },
            );
        }
    }

    /// A reply, to something repliable of the same project only; its author owns it.
    fn reply_added(&mut self, e: &Event, r: &crate::event::ReplyAdded) {
        if self.repliable.get(&r.target) == Some(&e.project.as_str()) {
            self.owners
                .entry(Subject::Reply(e.id))
                .or_insert_with(|| e.author.clone());
            self.replies.insert(
                e.id,
                ReplyView {
                    id: e.id,
                    target: r.target,
                    author: e.author.clone(),
                    role: e.role,
                    text: r.text.clone(),
                    at: e.at,
                    edited_at: None,
                },
            );
        }
    }

    /// A done, by anyone but the executive and viewers, answering a changes-requested
    /// verdict on what it names, in the same project; a version it names counts when it is
    /// one of the project's.
    fn marked_done(&mut self, e: &Event, d: &crate::event::MarkedDone) {
        let project = e.project.as_str();
        if !rules::may_record(e.role, &e.body)
            || self.asks.get(&d.answers) != Some(&(d.target, project))
        {
            return;
        }
        self.dones.insert(
            d.answers,
            DoneView {
                id: e.id,
                author: e.author.clone(),
                role: e.role,
                at: e.at,
                version: d.version.filter(|v| self.printed.get(v) == Some(&project)),
                comment: d.comment.clone(),
            },
        );
    }

    /// A clip, of a moment of the same project by the same person only.
    fn clip_attached(&mut self, e: &Event, c: &crate::event::ClipAttached) {
        let of = self.clippable.get(&c.target);
        if of == Some(&(e.project.as_str(), e.author.as_str())) {
            self.views.clips.insert(
                c.target,
                ClipView {
                    clip: c.clip.clone(),
                    private: c.private,
                    at: e.at,
                    id: e.id,
                },
            );
        }
    }

    fn session_seen(&mut self, e: &Event) {
        let s = self
            .sessions
            .entry(e.session)
            .or_insert_with(|| SessionView {
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
    }

    fn note_edited(&mut self, e: &Event, edit: &NoteEdited) {
        if let Some(n) = self.notes.get_mut(&edit.note) {
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

    fn take(&mut self, e: &Event, take: TakeRef) -> &mut TakeView {
        self.takes.entry(take).or_insert_with(|| TakeView {
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
        })
    }

    /// A later mark event with the same instance and number names the mark (the editor's
    /// "fill in"): the first keeps its place, the latest label wins.
    fn mark(&mut self, e: &Event, instance: Uuid, number: u32, label: &Option<String>) {
        match self.marks_by_number.get(&(instance, number)) {
            Some(&i) => {
                if label.is_some() {
                    self.views.marks[i].label = label.clone();
                }
            }
            None => {
                self.marks_by_number
                    .insert((instance, number), self.views.marks.len());
                self.views.marks.push(MarkView {
                    id: e.id,
                    song: e.song.clone(),
                    track: e.track.clone(),
                    instance,
                    number,
                    label: label.clone(),
                    at: e.at,
                    pos: e.pos,
                })
            }
        }
    }

    fn decision(&mut self, e: &Event, d: &Decision) {
        self.views.decisions.push(DecisionView {
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
        })
    }

    /// Removes deleted notes, hangs verdicts on what they judge, closes sessions.
    fn finish(mut self, conflicts: Vec<Uuid>) -> Views {
        let mut views = std::mem::take(&mut self.views);
        views.conflicts = conflicts;
        for id in &self.deleted {
            self.notes.remove(id);
        }
        for v in views.verdicts.values_mut() {
            if v.verdict == Verdict::ChangesRequested {
                v.done = self.dones.remove(&v.id);
            }
        }
        let verdict = |id: &Uuid| views.verdicts.get(id).cloned();
        views.notes = self.notes.into_values().collect();
        views.notes.sort_by_key(|n| (n.created_at, n.id));
        for n in &mut views.notes {
            n.verdict = verdict(&n.id);
        }
        views.takes = self.takes.into_values().collect();
        for t in &mut views.takes {
            t.verdict = t.id.as_ref().and_then(verdict);
        }
        for d in &mut views.decisions {
            d.verdict = verdict(&d.id);
        }
        for v in &mut views.versions {
            v.verdict = verdict(&v.id);
        }
        for v in &views.versions {
            if v.approved() {
                // Oldest first: the newest approved one is the last written.
                views.selected_versions.insert(v.song.clone(), v.id);
            }
        }
        for (id, (opened, closed)) in self.explicit_session {
            if let Some(s) = self.sessions.get_mut(&id) {
                if let Some(o) = opened {
                    s.started_at = o;
                }
                if let Some(c) = closed {
                    s.ended_at = c.max(s.started_at);
                }
            }
        }
        views.sessions = self.sessions.into_values().collect();
        views.sessions.sort_by_key(|s| (s.started_at, s.id));
        // Clips of what is still there.
        let live: BTreeSet<Uuid> = (views.notes.iter().map(|n| n.id))
            .chain(views.decisions.iter().map(|d| d.id))
            .chain(views.marks.iter().map(|m| m.id))
            .collect();
        views.clips.retain(|target, _| live.contains(target));
        let live: BTreeSet<Uuid> = (live.into_iter())
            .chain(views.takes.iter().filter_map(|t| t.id))
            .chain(views.versions.iter().map(|v| v.id))
            .chain(views.song_selection_decided.values().map(|d| d.id))
            .collect();
        for (id, r) in self.replies {
            if !self.deleted_replies.contains(&id) && live.contains(&r.target) {
                views.replies.entry(r.target).or_default().push(r);
            }
        }
        for thread in views.replies.values_mut() {
            thread.sort_by_key(|r| (r.at, r.id));
        }
        views
    }
}

impl NoteView {
    /// Who wrote it, in words: its author, or for a guest's comment the executive accepted
    /// from a listening link, "Ana (guest, accepted by Eve)".
    pub fn written_by(&self) -> String {
        match &self.guest {
            Some(g) => format!("{g} (guest, accepted by {})", self.author),
            None => self.author.clone(),
        }
    }

    fn new(e: &Event, n: &NoteAdded) -> Self {
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
            version: n.version,
            // Only the executive vouches for a guest (`rules::executive_only`): anyone else's
            // naming one is not shown as a guest's words.
            guest: n.guest.clone().filter(|_| e.role == Role::Executive),
            created_at: e.at,
            edited_at: None,
            verdict: None,
        }
    }
}

impl Views {
    /// Every song the record mentions (notes, takes, decisions, marks, the tracklist).
    pub fn songs(&self) -> BTreeSet<String> {
        let mut out: BTreeSet<String> = self.notes.iter().map(|n| n.song.clone()).collect();
        out.extend(self.takes.iter().map(|t| t.song.clone()));
        out.extend(self.decisions.iter().map(|d| d.song.clone()));
        out.extend(self.marks.iter().map(|m| m.song.clone()));
        out.extend(self.versions.iter().map(|v| v.song.clone()));
        out.extend(self.tracklist.iter().flatten().cloned());
        out.retain(|s| !s.is_empty());
        out
    }

    /// Every song of the record: the executive's order first, then the others by name.
    pub fn songs_in_order(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for s in self.tracklist.iter().flatten() {
            if !s.is_empty() && !out.contains(s) {
                out.push(s.clone());
            }
        }
        for s in self.songs() {
            if !out.contains(&s) {
                out.push(s);
            }
        }
        out
    }

    /// The album: the songs on the record in the executive's order (every song in order
    /// while none has been put on it yet; a song left off never).
    pub fn album_songs(&self) -> Vec<String> {
        let any_chosen = self.song_selection.values().any(|&on| on);
        self.songs_in_order()
            .into_iter()
            .filter(|s| match self.song_selection.get(s) {
                Some(&on) => on,
                None => !any_chosen,
            })
            .collect()
    }

    /// The label of the version each note was made on (comments on a waveform), by note id.
    pub fn note_versions(&self) -> BTreeMap<Uuid, &str> {
        let labels: BTreeMap<Uuid, &str> = self
            .versions
            .iter()
            .map(|v| (v.id, v.label.as_str()))
            .collect();
        self.notes
            .iter()
            .filter_map(|n| Some((n.id, *labels.get(&n.version?)?)))
            .collect()
    }

    /// The guest who wrote each note accepted from a listening link, by note id: what the
    /// page shows as "Name (guest, accepted by Executive)".
    pub fn note_guests(&self) -> BTreeMap<Uuid, &str> {
        self.notes
            .iter()
            .filter_map(|n| Some((n.id, n.guest.as_deref()?)))
            .collect()
    }

    /// A song's versions, newest first.
    pub fn versions_of<'a>(&'a self, song: &str) -> impl Iterator<Item = &'a VersionView> + 'a {
        let song = song.to_owned();
        self.versions.iter().rev().filter(move |v| v.song == song)
    }

    /// A song's selected version: the newest one the executive approved. A newer print does
    /// not inherit an approval, so until it is approved the older approved one stands.
    pub fn selected_version(&self, song: &str) -> Option<&VersionView> {
        self.versions_of(song).find(|v| v.approved())
    }

    /// The version to play for a song: the selected one, else the newest print (not approved:
    /// the page says so).
    pub fn playing_version(&self, song: &str) -> Option<&VersionView> {
        self.selected_version(song)
            .or_else(|| self.versions_of(song).next())
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
    use crate::event::Context;

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
                    version: None,
                    guest: None,
                }),
            ),
            t,
        )
    }

    fn clip_by(author: &str, target: Uuid, t: i64) -> Event {
        let clip: crate::clips::Clip = serde_json::from_value(serde_json::json!({
            "hash": crate::clips::ClipHash::of(author.as_bytes()).to_string(),
            "format": "flac", "sample_rate": 48000, "channels": 2,
            "frames": 48000, "moment": 100, "bytes": 10,
        }))
        .unwrap();
        at(
            Event::new(
                &ctx(author, Role::Producer),
                None,
                Body::ClipAttached(crate::event::ClipAttached {
                    target,
                    clip,
                    private: false,
                }),
            ),
            t,
        )
    }

    #[test]
    fn a_clip_belongs_to_its_authors_moment_and_goes_with_it() {
        let n = note("snare drags", 1);
        let own = clip_by("Sam", n.id, 2);
        let someone_elses = clip_by("Alex", n.id, 3);
        let v = fold([&n, &own, &someone_elses]);
        assert_eq!(v.clips.len(), 1);
        assert_eq!(
            v.clips[&n.id].id, own.id,
            "Alex's clip of Sam's note is ignored"
        );
        let nowhere = clip_by("Sam", Uuid::now_v7(), 4);
        assert_eq!(fold([&n, &nowhere]).clips.len(), 0);
        let gone = at(
            Event::new(
                &ctx("Sam", Role::Producer),
                None,
                Body::NoteDeleted { note: n.id },
            ),
            5,
        );
        assert!(
            fold([&n, &own, &gone]).clips.is_empty(),
            "deleted with its note"
        );
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
            version: None,
            guest: None,
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

    fn by(author: &str, role: Role, body: Body, t: i64) -> Event {
        at(Event::new(&ctx(author, role), None, body), t)
    }

    #[test]
    fn only_a_notes_author_edits_or_deletes_it() {
        let n = note("the producer's note", 10);
        let hijack = by(
            "Ari",
            Role::Artist,
            Body::NoteEdited(NoteEdited {
                note: n.id,
                text: Some("rewritten by the artist".into()),
                category: None,
                anchor: None,
            }),
            20,
        );
        let exec_note = by(
            "Eve",
            Role::Executive,
            Body::NoteAdded(NoteAdded {
                text: "keep the bridge".into(),
                category: Category::Arrangement,
                anchor: None,
                take: None,
                private: false,
                version: None,
                guest: None,
            }),
            5,
        );
        let delete = by(
            "Ari",
            Role::Artist,
            Body::NoteDeleted { note: exec_note.id },
            30,
        );
        let v = fold([&n, &hijack, &exec_note, &delete]);
        assert_eq!(v.notes.len(), 2);
        assert_eq!(v.notes[1].text, "the producer's note");
        assert_eq!(v.notes[1].edited_at, None);
        // The author's own edit still applies.
        let own = edit(&n, "tightened", 40);
        assert_eq!(fold([&n, &hijack, &own]).notes[0].text, "tightened");
    }

    #[test]
    fn only_a_takes_and_a_marks_owner_rates_or_renames_them() {
        let instance = Uuid::from_u128(7);
        let take = TakeRef {
            instance,
            number: 1,
        };
        let started = by("Sam", Role::Producer, Body::TakeStarted { take }, 10);
        let rate = |author: &str, rating, t| {
            by(
                author,
                Role::Producer,
                Body::TakeRated {
                    take,
                    rating,
                    stars: None,
                    note: None,
                },
                t,
            )
        };
        // Someone else's rating, even stamped before the take started, does not count.
        let other = rate("Kim", Rating::Scratch, 5);
        let own = rate("Sam", Rating::Keeper, 20);
        let v = fold([&other, &started, &own]);
        assert_eq!(v.takes[0].rating, Some(Rating::Keeper));
        assert_eq!(fold([&other, &started]).takes[0].rating, None);

        let mark = |author: &str, label: Option<&str>, t| {
            by(
                author,
                Role::Producer,
                Body::Mark {
                    instance,
                    number: 2,
                    label: label.map(str::to_owned),
                },
                t,
            )
        };
        let dropped = mark("Sam", None, 10);
        let renamed = mark("Kim", Some("Kim was here"), 20);
        assert_eq!(fold([&dropped, &renamed]).marks[0].label, None);
    }

    #[test]
    fn a_verdict_counts_only_on_something_judgeable_of_its_project() {
        let n = note("x", 1);
        let verdict = |target: Uuid, project: &str| {
            let mut e = by(
                "Eve",
                Role::Executive,
                Body::Verdict {
                    target,
                    verdict: Verdict::Approved,
                    comment: String::new(),
                },
                2,
            );
            e.project = project.into();
            e
        };
        let mark = by(
            "Sam",
            Role::Producer,
            Body::Mark {
                instance: Uuid::from_u128(3),
                number: 1,
                label: None,
            },
            1,
        );
        let nowhere = verdict(Uuid::from_u128(99), "P");
        let on_mark = verdict(mark.id, "P");
        let other_project = verdict(n.id, "Q");
        let v = fold([&n, &mark, &nowhere, &on_mark, &other_project]);
        assert!(v.verdicts.is_empty(), "{:?}", v.verdicts);
        assert!(v.notes[0].verdict.is_none());
        let good = verdict(n.id, "P");
        assert_eq!(fold([&n, &good]).verdicts.len(), 1);
    }

    #[test]
    fn clocks_from_the_far_future_or_past_do_not_overflow() {
        let past = note("a", i64::MIN);
        let future = edit(&past, "b", i64::MAX);
        let v = fold([&past, &future]);
        assert_eq!(v.sessions[0].duration_ms(), i64::MAX);
    }
}

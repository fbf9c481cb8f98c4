//! Who may say what: the ownership and target rules of the record, in one place for the
//! server (which refuses what breaks them) and the fold (which ignores it), so an import or a
//! hand-edited journal cannot get around them either.
//!
//! - A note belongs to the person who added it: only they edit or delete it.
//! - A take and a mark belong to the person whose event first names them (for a take, its
//!   `take_started` when there is one): only they end, rate or rename it.
//! - A verdict judges a note, an EQ/FX decision, a take (its `take_started` event) or a song
//!   selection of the same project; anything else is not a target.
//! - A clip is of a note, an EQ/FX decision or a mark of the same project and the same
//!   author: only the person who made the moment attaches its audio.
//! - A reply answers something a verdict or a clip may be about (a note, an EQ/FX decision, a
//!   take, a mark, a version, a song selection) of the same project; a reply belongs to its
//!   author: only they edit or delete it.
//! - Verdicts, tracklist orders and song selections count from the executive role only.
//! - The way back from *changes requested* ([`crate::review`]): a `marked_done` answers one
//!   changes-requested verdict, names what it judged, and may name a version of the same
//!   project. Anyone who writes on the project may say it except the executive (whose word
//!   is the next verdict): the note's author, the producer, the engineer, the artist.
//! - An event's wall clock may run at most [`MAX_AHEAD_MS`] ahead of the server's.
//!
//! A person is the name their token carries (the event's `author`).

use crate::event::{Body, Event, Role, TakeRef};
use uuid::Uuid;

/// How far ahead of the server's clock an event's `at` may be (a day: clocks are wrong, but
/// not by more, and an event from the far future would win every "latest" forever).
pub const MAX_AHEAD_MS: i64 = 86_400_000;

/// Something that belongs to one person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Subject {
    /// A note, by the id of its `note_added` event.
    Note(Uuid),
    Take(TakeRef),
    Mark {
        instance: Uuid,
        number: u32,
    },
    /// A printed version, by the id of its `version_printed` event.
    Version(Uuid),
    /// A reply, by the id of its `reply_added` event.
    Reply(Uuid),
}

impl Subject {
    /// A stable text key (for storage).
    pub fn key(&self) -> String {
        match self {
            Subject::Note(id) => format!("note:{id}"),
            Subject::Take(t) => format!("take:{}:{}", t.instance, t.number),
            Subject::Mark { instance, number } => format!("mark:{instance}:{number}"),
            Subject::Version(id) => format!("version:{id}"),
            Subject::Reply(id) => format!("reply:{id}"),
        }
    }

    /// The subject `key` names when an event makes it by its own id (a note, a version, a
    /// reply), and that id: its owner is that event's author, so a store can read it from
    /// the event's row instead of keeping a subject row for it. None for any other key.
    pub fn made_by_event(key: &str) -> Option<(Subject, Uuid)> {
        let (kind, id) = key.split_once(':')?;
        let id: Uuid = id.parse().ok()?;
        let subject = match kind {
            "note" => Subject::Note(id),
            "version" => Subject::Version(id),
            "reply" => Subject::Reply(id),
            _ => return None,
        };
        // Only the form `key` writes, so one subject has one key.
        (subject.key() == key).then_some((subject, id))
    }
}

/// What an event does to a [`Subject`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// Makes it: the author becomes its owner.
    Makes(Subject),
    /// Changes it: it must exist, and the author must own it.
    Changes(Subject),
    /// Makes it if nobody has, else changes it.
    MakesOrChanges(Subject),
}

/// The claim an event makes, if any.
pub fn claim(e: &Event) -> Option<Claim> {
    Some(match &e.body {
        Body::NoteAdded(_) => Claim::Makes(Subject::Note(e.id)),
        Body::NoteEdited(edit) => Claim::Changes(Subject::Note(edit.note)),
        Body::NoteDeleted { note } => Claim::Changes(Subject::Note(*note)),
        Body::TakeStarted { take } | Body::TakeEnded { take } | Body::TakeRated { take, .. } => {
            Claim::MakesOrChanges(Subject::Take(*take))
        }
        Body::Mark {
            instance, number, ..
        } => Claim::MakesOrChanges(Subject::Mark {
            instance: *instance,
            number: *number,
        }),
        Body::VersionPrinted(_) => Claim::Makes(Subject::Version(e.id)),
        Body::VersionLabeled(l) => Claim::Changes(Subject::Version(l.target)),
        Body::ReplyAdded(_) => Claim::Makes(Subject::Reply(e.id)),
        Body::ReplyEdited { reply, .. } | Body::ReplyDeleted { reply } => {
            Claim::Changes(Subject::Reply(*reply))
        }
        _ => return None,
    })
}

/// Whether a verdict may judge this event.
pub fn judgeable(body: &Body) -> bool {
    matches!(
        body,
        Body::NoteAdded(_)
            | Body::EqDecision(_)
            | Body::FxDecision(_)
            | Body::TakeStarted { .. }
            | Body::SongSelection { .. }
            | Body::VersionPrinted(_)
    )
}

/// Whether a clip may be attached to this event.
pub fn clippable(body: &Body) -> bool {
    matches!(
        body,
        Body::NoteAdded(_) | Body::EqDecision(_) | Body::FxDecision(_) | Body::Mark { .. }
    )
}

/// Whether a reply may answer this event: whatever a verdict may judge or a clip may be of
/// (so the server knows it from what it records for those already).
pub fn repliable(body: &Body) -> bool {
    judgeable(body) || clippable(body)
}

/// The event a reply answers.
pub fn reply_target(e: &Event) -> Option<Uuid> {
    match &e.body {
        Body::ReplyAdded(r) => Some(r.target),
        _ => None,
    }
}

/// For a changes-requested verdict: (the verdict's id, what it judges), which a
/// `marked_done` may then answer. Only the executive's verdicts count.
pub fn asks_for_changes(e: &Event) -> Option<(Uuid, Uuid)> {
    match &e.body {
        Body::Verdict {
            target,
            verdict: crate::event::Verdict::ChangesRequested,
            ..
        } if e.role == Role::Executive => Some((e.id, *target)),
        _ => None,
    }
}

/// For a `marked_done`: (the verdict it answers, what that verdict judges), which must be
/// a pair [`asks_for_changes`] gave, and the version it names, which must be a printed
/// version of the project.
pub fn done_answers(e: &Event) -> Option<((Uuid, Uuid), Option<Uuid>)> {
    match &e.body {
        Body::MarkedDone(d) => Some(((d.answers, d.target), d.version)),
        _ => None,
    }
}

/// Whether `event` is, or is about, a private note: the note itself, its clip, an edit or
/// deletion of it, a verdict, reply or done on it, an edit or deletion of such a reply, and
/// (for a kind this version does not know) one naming it in its `target`, `note` or `item`.
/// Such an event never leaves the computer of the note's author: the outbox holds it back,
/// exports leave it out unless asked, webhooks, digests and notices never tell it. `lookup`
/// finds an event by id.
pub fn is_private(event: &Event, lookup: &dyn Fn(Uuid) -> Option<Event>) -> bool {
    let private_note =
        |id: Uuid| lookup(id).is_some_and(|t| matches!(&t.body, Body::NoteAdded(n) if n.private));
    match &event.body {
        Body::NoteAdded(n) => n.private,
        Body::ClipAttached(c) => c.private || private_note(c.target),
        Body::NoteEdited(e) => private_note(e.note),
        Body::NoteDeleted { note } => private_note(*note),
        Body::Verdict { target, .. } => private_note(*target),
        Body::ReplyAdded(r) => private_note(r.target),
        Body::MarkedDone(d) => private_note(d.target),
        // The reply it changes answers a private note (a reply never answers a reply).
        Body::ReplyEdited { reply, .. } | Body::ReplyDeleted { reply } => lookup(*reply)
            .is_some_and(|r| matches!(&r.body, Body::ReplyAdded(a) if private_note(a.target))),
        Body::Unknown { body, .. } => unknown_targets(body.get()).into_iter().any(private_note),
        _ => false,
    }
}

/// The ids an event of a kind this version does not know names in its body's `target`,
/// `note` or `item` field: what it may be about.
fn unknown_targets(body: &str) -> Vec<Uuid> {
    let Ok(serde_json::Value::Object(fields)) = serde_json::from_str(body) else {
        return Vec::new();
    };
    ["target", "note", "item"]
        .iter()
        .filter_map(|k| fields.get(*k)?.as_str()?.parse().ok())
        .collect()
}

/// The event a clip is attached to.
pub fn clip_target(e: &Event) -> Option<Uuid> {
    match &e.body {
        Body::ClipAttached(c) => Some(c.target),
        _ => None,
    }
}

/// The event a verdict judges.
pub fn verdict_target(e: &Event) -> Option<Uuid> {
    match &e.body {
        Body::Verdict { target, .. } => Some(*target),
        _ => None,
    }
}

/// Whether only the executive role may record this: verdicts, the tracklist, the song
/// selection, and a note naming a guest (the executive vouches for what a guest wrote
/// through a listening link; nobody else may put words in a guest's name).
pub fn executive_only(body: &Body) -> bool {
    match body {
        Body::Verdict { .. } | Body::TracklistOrder { .. } | Body::SongSelection { .. } => true,
        Body::NoteAdded(n) => n.guest.is_some(),
        _ => false,
    }
}

/// Whether the executive may not record this: saying *done* is the other side's answer to
/// the executive (whose own answer to it is the next verdict).
pub fn not_executive(body: &Body) -> bool {
    matches!(body, Body::MarkedDone(_))
}

/// Whether `role` may answer changes requested with *done*.
pub fn may_mark_done(role: Role) -> bool {
    role != Role::Viewer && role != Role::Executive
}

/// Whether `role` may record `body` at all (before ownership): viewers record nothing, the
/// executive's kinds need the executive role, and *done* needs any other.
pub fn may_record(role: Role, body: &Body) -> bool {
    role != Role::Viewer
        && (!executive_only(body) || role == Role::Executive)
        && (!not_executive(body) || may_mark_done(role))
}

/// Whether an event stamped `at` is too far ahead of `now` (both UTC ms).
pub fn too_far_ahead(at: i64, now: i64) -> bool {
    at > now.saturating_add(MAX_AHEAD_MS)
}

/// Why a claim is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// It changes something of someone else's.
    NotYours { owner: String },
    /// It changes something that does not exist.
    Unknown,
}

/// Judges `claim` by `author`, given the subject's current owner (None: nobody has it yet).
///
/// # Errors
/// The refusal (`not_yours`) when `author` is not `owner`.
pub fn judge_claim(claim: Claim, author: &str, owner: Option<&str>) -> Result<(), Refusal> {
    match (claim, owner) {
        (Claim::Changes(_), None) => Err(Refusal::Unknown),
        (_, Some(owner)) if owner != author => Err(Refusal::NotYours {
            owner: owner.to_owned(),
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A note's, a version's and a reply's keys name them back; a take's and a mark's, and
    /// any key in another form, name no subject an event makes by its own id.
    #[test]
    fn keys_of_subjects_made_by_their_event_read_back() {
        let id = Uuid::now_v7();
        for subject in [Subject::Note(id), Subject::Version(id), Subject::Reply(id)] {
            assert_eq!(Subject::made_by_event(&subject.key()), Some((subject, id)));
        }
        let take = Subject::Take(TakeRef {
            instance: id,
            number: 3,
        });
        let mark = Subject::Mark {
            instance: id,
            number: 3,
        };
        for other in [take, mark] {
            assert_eq!(Subject::made_by_event(&other.key()), None);
        }
        let upper = format!("note:{}", id.to_string().to_uppercase());
        for key in [
            "note:",
            "note:x",
            upper.as_str(),
            &format!("judgeable:{id}"),
            &format!("changes:{id}:{id}"),
        ] {
            assert_eq!(Subject::made_by_event(key), None, "{key}");
        }
    }
}

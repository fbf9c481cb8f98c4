//! What a journal would send to a server, and what waits for someone: the pure step of sync
//! (no network), plus the user's answers to what waits (send it as me, fix it, drop it).
//!
//! An event goes out only when all of these hold:
//! - the server has not acknowledged it, and it is not private (nor an edit or deletion of a
//!   private note);
//! - it is not held back ([`Aside`]): refused by the server, brought in from a DAW project
//!   file and not yet agreed to, or dropped;
//! - it speaks for the token's person, in the token's role, in the token's project (the
//!   server refuses anything else). An event made under another name (typed before there was
//!   a token, or brought in from a project file) waits for the user to send it as themselves;
//!   one of another role or project is never sent with this token.

use crate::event::{Body, Event, Role};
use crate::journal::{Aside, Journal, JournalError, StoredEvent};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// Who a token speaks for (the server's `GET /api/v1/me`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Identity {
    pub person: String,
    pub role: Role,
    pub project: String,
}

/// Why an unacknowledged event is not going out.
#[derive(Debug, Clone, PartialEq)]
pub enum Waiting {
    /// The server refused it; the author may fix or drop it.
    Refused { code: String, reason: String },
    /// It came from a DAW project file; it goes once the user agrees.
    Imported,
    /// It was made under another name than the token's person; it goes once the user agrees
    /// to send it as themselves.
    OtherName,
    /// It cannot go with this token (another role or project); it stays on this computer.
    Cannot(String),
}

impl Waiting {
    /// Whether "send them as me" would send this event.
    pub fn awaits_agreement(&self) -> bool {
        matches!(self, Waiting::Imported | Waiting::OtherName)
    }
}

/// An unacknowledged journal, sorted.
#[derive(Debug, Default)]
pub struct Outbox {
    /// What goes out now, in journal order.
    pub ready: Vec<StoredEvent>,
    /// What waits, and why, in journal order.
    pub waiting: Vec<(StoredEvent, Waiting)>,
}

/// Private notes, and everything about them ([`crate::rules::is_private`]: edits, deletions,
/// clips, replies and their edits), stay on this computer. A private note is never
/// acknowledged (never pushed), and neither is anything about it, so all of them are among
/// the unacknowledged.
fn private_events(unacked: &[StoredEvent]) -> HashSet<Uuid> {
    let by_id: HashMap<Uuid, &Event> = unacked.iter().map(|e| (e.id, &e.event)).collect();
    let lookup = |id: Uuid| by_id.get(&id).map(|e| (*e).clone());
    unacked
        .iter()
        .filter(|e| crate::rules::is_private(&e.event, &lookup))
        .map(|e| e.id)
        .collect()
}

/// An unacknowledged journal sorted without copying it, for a syncer that sends straight from
/// the lines it keeps (a round then copies no event).
#[derive(Debug)]
pub struct Sorted<'a> {
    /// What goes out now, in journal order.
    pub ready: Vec<&'a StoredEvent>,
    /// What waits, and why, in journal order.
    pub waiting: Vec<(&'a StoredEvent, Waiting)>,
}

/// Sorts the unacknowledged events of a journal for a token speaking for `me`.
pub fn outbox(unacked: Vec<StoredEvent>, aside: &HashMap<Uuid, Aside>, me: &Identity) -> Outbox {
    let private = private_events(&unacked);
    let (ready, waiting) = split(unacked, &private, aside, me);
    Outbox { ready, waiting }
}

/// Sorts the unacknowledged events of a journal for a token speaking for `me`, borrowing
/// them ([`outbox`] takes them).
pub fn sort<'a>(
    unacked: &'a [StoredEvent],
    aside: &HashMap<Uuid, Aside>,
    me: &Identity,
) -> Sorted<'a> {
    let private = private_events(unacked);
    let (ready, waiting) = split(unacked, &private, aside, me);
    Sorted { ready, waiting }
}

/// The events that go out now and those that wait (with why), each in journal order, owned
/// or borrowed as given.
type Split<E> = (Vec<E>, Vec<(E, Waiting)>);

fn split<E: std::borrow::Borrow<StoredEvent>>(
    unacked: impl IntoIterator<Item = E>,
    private: &HashSet<Uuid>,
    aside: &HashMap<Uuid, Aside>,
    me: &Identity,
) -> Split<E> {
    let (mut ready, mut waiting) = (Vec::new(), Vec::new());
    for e in unacked {
        match place(e.borrow(), private, aside, me) {
            Place::Left => {}
            Place::Ready => ready.push(e),
            Place::Waits(w) => waiting.push((e, w)),
        }
    }
    (ready, waiting)
}

/// Where an unacknowledged event goes.
enum Place {
    /// Nowhere: private, dropped or unreadable.
    Left,
    Ready,
    Waits(Waiting),
}

/// Where `e` goes for a token speaking for `me`, given the journal's private events.
fn place(
    e: &StoredEvent,
    private: &HashSet<Uuid>,
    aside: &HashMap<Uuid, Aside>,
    me: &Identity,
) -> Place {
    if private.contains(&e.id) {
        return Place::Left;
    }
    let waiting = match aside.get(&e.id) {
        Some(Aside::Dropped { .. } | Aside::Unreadable { .. }) => return Place::Left,
        Some(Aside::Refused { code, reason }) => Some(Waiting::Refused {
            code: code.clone(),
            reason: reason.clone(),
        }),
        Some(Aside::Imported) => Some(Waiting::Imported),
        Some(Aside::Released) | None => None,
    };
    let waiting = waiting
        .or_else(|| cannot(&e.event, me))
        .or_else(|| (e.event.author != me.person).then_some(Waiting::OtherName));
    waiting.map_or(Place::Ready, Place::Waits)
}

/// Why an event can never go with `me`'s token, if it cannot.
fn cannot(e: &Event, me: &Identity) -> Option<Waiting> {
    if e.project != me.project {
        return Some(Waiting::Cannot(format!(
            "it belongs to project {:?}, and your token is for {:?}",
            e.project, me.project
        )));
    }
    if e.role != me.role {
        return Some(Waiting::Cannot(format!(
            "it was made in the role {}, and your token's role is {}",
            e.role, me.role
        )));
    }
    None
}

/// Sends the events waiting for agreement (brought in from a project file, or made under
/// another name) as `me`: those already signed with `me`'s name are released as they are;
/// the others are re-signed, each as a copy with a new id in `me`'s name (references between
/// them follow), and the originals are dropped. Events of another role or project are left
/// alone. Returns how many will go out.
///
/// # Errors
/// When the journal cannot be written; then nothing is half done that a retry would repeat
/// (the copies are journaled before the originals are dropped, and ids of copies are new).
pub fn send_as(journal: &Journal, me: &Identity, waiting: &Outbox) -> Result<usize, JournalError> {
    let chosen: Vec<&StoredEvent> = waiting
        .waiting
        .iter()
        .filter(|(e, w)| w.awaits_agreement() && cannot(&e.event, me).is_none())
        .map(|(e, _)| e)
        .collect();
    let mut released = Vec::new();
    let mut new_ids: HashMap<Uuid, Uuid> = HashMap::new();
    let mut copies: Vec<Event> = Vec::new();
    for e in &chosen {
        if e.event.author == me.person {
            released.push((e.id, Aside::Released));
        } else {
            new_ids.insert(e.id, Uuid::now_v7());
        }
    }
    for e in &chosen {
        let Some(&id) = new_ids.get(&e.id) else {
            continue;
        };
        let mut copy = e.event.clone();
        copy.id = id;
        copy.author = me.person.clone();
        let follow = |id: Uuid| new_ids.get(&id).copied().unwrap_or(id);
        match &mut copy.body {
            Body::NoteEdited(edit) => edit.note = follow(edit.note),
            Body::NoteDeleted { note } => *note = follow(*note),
            _ => {}
        }
        copies.push(copy);
    }
    journal.append(&copies)?;
    let dropped = new_ids.iter().map(|(old, new)| {
        (
            *old,
            Aside::Dropped {
                replaced_by: Some(*new),
            },
        )
    });
    let mut entries: Vec<(Uuid, Aside)> = released;
    entries.extend(dropped);
    journal.set_aside(&entries)?;
    Ok(entries.len())
}

/// Drops events for good: never sent, not shown.
///
/// # Errors
/// [`JournalError::Io`] when the journal's files cannot be read or written (permissions,
/// a full disk).
pub fn drop_events(journal: &Journal, ids: &[Uuid]) -> Result<(), JournalError> {
    let entries: Vec<(Uuid, Aside)> = ids
        .iter()
        .map(|id| (*id, Aside::Dropped { replaced_by: None }))
        .collect();
    journal.set_aside(&entries)
}

/// Replaces a refused note with a corrected copy (new id, the new text) and drops the
/// original. Returns the copy, or None when `original` is not a note.
///
/// # Errors
/// [`JournalError::Io`] when the journal's files cannot be read or written (permissions,
/// a full disk).
pub fn fix_note(
    journal: &Journal,
    original: &Event,
    text: &str,
) -> Result<Option<Event>, JournalError> {
    let Body::NoteAdded(n) = &original.body else {
        return Ok(None);
    };
    let mut copy = original.clone();
    copy.id = Uuid::now_v7();
    copy.body = Body::NoteAdded(crate::event::NoteAdded {
        text: text.to_owned(),
        ..n.clone()
    });
    journal.append(std::slice::from_ref(&copy))?;
    journal.set_aside(&[(
        original.id,
        Aside::Dropped {
            replaced_by: Some(copy.id),
        },
    )])?;
    Ok(Some(copy))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Category, Context, NoteAdded, NoteEdited};

    fn me() -> Identity {
        Identity {
            person: "Sam".into(),
            role: Role::Producer,
            project: "P".into(),
        }
    }

    fn note(author: &str, role: Role, project: &str) -> Event {
        Event::new(
            &Context {
                project: project.into(),
                song: "S".into(),
                track: "T".into(),
                session: Uuid::now_v7(),
                author: author.into(),
                role,
            },
            None,
            Body::NoteAdded(NoteAdded {
                text: format!("by {author}"),
                category: Category::Mix,
                anchor: None,
                take: None,
                private: false,
                version: None,
                guest: None,
            }),
        )
    }

    /// Nothing is acknowledged in these tests: every event of the journal.
    fn unacked(j: &Journal) -> Vec<StoredEvent> {
        j.read().unwrap().events
    }

    #[test]
    fn a_reply_to_a_private_note_and_its_edit_stay_on_this_computer() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(dir.path()).unwrap();
        let mut secret = note("Sam", Role::Producer, "P");
        if let Body::NoteAdded(n) = &mut secret.body {
            n.private = true;
        }
        let open = note("Sam", Role::Producer, "P");
        let reply = |target: Uuid| {
            let mut e = note("Sam", Role::Producer, "P");
            e.body = Body::ReplyAdded(crate::event::ReplyAdded {
                target,
                text: "just for me".into(),
            });
            e
        };
        let (hidden, shown) = (reply(secret.id), reply(open.id));
        let mut edit = note("Sam", Role::Producer, "P");
        edit.body = Body::ReplyEdited {
            reply: hidden.id,
            text: "still just for me".into(),
        };
        j.append(&[secret, open.clone(), hidden, shown.clone(), edit])
            .unwrap();
        let out = outbox(unacked(&j), &j.aside().unwrap(), &me());
        let ready: Vec<Uuid> = out.ready.iter().map(|e| e.id).collect();
        assert_eq!(
            ready,
            vec![open.id, shown.id],
            "only what is not about the private note"
        );
        assert!(out.waiting.is_empty());
    }

    #[test]
    fn events_go_out_only_when_they_speak_for_the_token() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(dir.path()).unwrap();
        let mine = note("Sam", Role::Producer, "P");
        let typed = note("sam (laptop)", Role::Producer, "P");
        let exec = note("Sam", Role::Executive, "P");
        let other_project = note("Sam", Role::Producer, "Q");
        let imported = note("Sam", Role::Producer, "P");
        j.append(&[
            mine.clone(),
            typed.clone(),
            exec.clone(),
            other_project.clone(),
            imported.clone(),
        ])
        .unwrap();
        j.set_aside(&[(imported.id, Aside::Imported)]).unwrap();
        let out = outbox(unacked(&j), &j.aside().unwrap(), &me());
        let ready: Vec<Uuid> = out.ready.iter().map(|e| e.id).collect();
        assert_eq!(ready, vec![mine.id]);
        let why: HashMap<Uuid, Waiting> =
            out.waiting.iter().map(|(e, w)| (e.id, w.clone())).collect();
        assert_eq!(why[&typed.id], Waiting::OtherName);
        assert_eq!(why[&imported.id], Waiting::Imported);
        assert!(matches!(&why[&exec.id], Waiting::Cannot(r) if r.contains("executive")));
        assert!(matches!(&why[&other_project.id], Waiting::Cannot(r) if r.contains("\"Q\"")));
    }

    #[test]
    fn sending_as_me_releases_my_own_and_re_signs_the_rest_with_their_edits() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(dir.path()).unwrap();
        let own = note("Sam", Role::Producer, "P");
        let typed = note("sam (laptop)", Role::Producer, "P");
        let mut edit = typed.clone();
        edit.id = Uuid::now_v7();
        edit.body = Body::NoteEdited(NoteEdited {
            note: typed.id,
            text: Some("edited".into()),
            category: None,
            anchor: None,
        });
        let exec = note("Eve", Role::Executive, "P");
        j.append(&[own.clone(), typed.clone(), edit.clone(), exec.clone()])
            .unwrap();
        j.set_aside(&[(own.id, Aside::Imported), (exec.id, Aside::Imported)])
            .unwrap();
        let before = outbox(unacked(&j), &j.aside().unwrap(), &me());
        assert!(before.ready.is_empty());
        assert_eq!(send_as(&j, &me(), &before).unwrap(), 3);

        let after = outbox(unacked(&j), &j.aside().unwrap(), &me());
        assert_eq!(after.waiting.len(), 1, "the executive's note stays");
        assert_eq!(after.waiting[0].0.id, exec.id);
        let ready: Vec<&Event> = after.ready.iter().map(|e| &e.event).collect();
        assert_eq!(ready.len(), 3);
        assert_eq!(ready[0].id, own.id, "my own goes as it is");
        assert!(ready.iter().all(|e| e.author == "Sam"));
        let copy_of_typed = ready[1];
        assert_ne!(copy_of_typed.id, typed.id);
        assert_eq!(copy_of_typed.at, typed.at);
        match &ready[2].body {
            Body::NoteEdited(e) => assert_eq!(e.note, copy_of_typed.id),
            other => panic!("{other:?}"),
        }
        // The originals are hidden from view.
        let aside = j.aside().unwrap();
        assert!(aside[&typed.id].hides());
        assert!(aside[&edit.id].hides());
    }

    #[test]
    fn a_fixed_note_replaces_the_refused_one() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(dir.path()).unwrap();
        let n = note("Sam", Role::Producer, "P");
        j.append(std::slice::from_ref(&n)).unwrap();
        j.set_aside(&[(
            n.id,
            Aside::Refused {
                code: "too_long".into(),
                reason: "too long".into(),
            },
        )])
        .unwrap();
        let copy = fix_note(&j, &n, "shorter").unwrap().unwrap();
        let out = outbox(unacked(&j), &j.aside().unwrap(), &me());
        assert_eq!(out.ready.len(), 1);
        assert_eq!(out.ready[0].id, copy.id);
        assert!(out.waiting.is_empty());
        drop_events(&j, &[copy.id]).unwrap();
        assert!(outbox(unacked(&j), &j.aside().unwrap(), &me())
            .ready
            .is_empty());
    }
}

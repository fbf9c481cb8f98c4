//! What both stores' writers share: a push waiting to be written, how many go into one
//! transaction (group commit), and the answer of a push whose writer stopped.

use super::{Incoming, Project, PushOutcome, Result, StoreError};

/// What a push writes: events of a project, from a token (None: an administrator's import).
pub(super) struct Push {
    pub(super) project: Project,
    pub(super) token: Option<i64>,
    pub(super) events: Vec<Incoming>,
}

/// Where a queued push's answer comes ([`super::Store::push_queued`]).
pub(super) type Answer = tokio::sync::oneshot::Receiver<Result<Vec<PushOutcome>>>;

/// What a group holds so far, against its store's bounds. A push is never split: an empty
/// group takes any push, however large.
pub(super) struct Room {
    most_events: usize,
    most_bytes: usize,
    pushes: usize,
    events: usize,
    bytes: usize,
}

impl Room {
    /// An empty group of at most `events` events and `bytes` bytes of lines.
    pub(super) fn new(events: usize, bytes: usize) -> Room {
        Room {
            most_events: events,
            most_bytes: bytes,
            pushes: 0,
            events: 0,
            bytes: 0,
        }
    }

    /// Counts `push` in, if it fits (into an empty group, always).
    pub(super) fn take(&mut self, push: &Push) -> bool {
        let events = push.events.len();
        let bytes: usize = push.events.iter().map(|i| i.json.len()).sum();
        if self.pushes > 0
            && (self.events + events > self.most_events || self.bytes + bytes > self.most_bytes)
        {
            return false;
        }
        self.pushes += 1;
        self.events += events;
        self.bytes += bytes;
        true
    }
}

/// The answer of a push whose writer stopped before it answered (a panic, the store going
/// away): nothing of it is known to be stored, and a retry is answered as a duplicate if it
/// was.
pub(super) fn stopped() -> StoreError {
    StoreError::Aborted("the server stopped writing this push; send it again".into())
}

/// Builders the stores' tests share.
#[cfg(test)]
pub(super) mod tests {
    use super::{Incoming, Project};
    use crate::store::{PushOutcome, Store};
    use liner_record::event::{Body, Category, Context, Event, NoteAdded, NoteEdited, ReplyAdded};
    use liner_record::versions::{VersionLabeled, VersionPrinted};
    use liner_record::Role;

    /// The project name whose push panics in its store's writer, between writing its rows
    /// and committing them (the writers' recovery).
    pub(in crate::store) const PANICS: &str = "panics in tests";

    /// Pushes a note to `project` under the name [`PANICS`]: the writer panics, the push
    /// is answered "send it again", and nothing is stored. Returns the note.
    pub(in crate::store) fn push_that_panics(store: &dyn Store, project: &Project) -> Event {
        let panics = Project {
            id: project.id,
            name: PANICS.into(),
        };
        let lost = note("Ana", "lost");
        let answer = store.push(&panics, None, &incoming(&[&lost]));
        assert!(
            answer
                .as_ref()
                .is_err_and(|e| e.to_string().contains("send it again")),
            "{answer:?}"
        );
        assert!(store.pull(project, 0, 10).unwrap().is_empty());
        lost
    }

    /// A note's, a reply's and a version's owner read from the row of the event that made
    /// them: another's edit (or relabelling) is refused, its author's stored, in a later push
    /// and, for a note, in the same push too; an edit naming an event that is no note, a note
    /// of another project or nothing stored is refused as of a note that is not there.
    pub(in crate::store) fn subjects_are_their_makers(store: &dyn Store, project: &Project) {
        let push = |events: &[&Event]| store.push(project, None, &incoming(events)).unwrap();
        let refused = |answer: &PushOutcome, why: &str| matches!(answer, PushOutcome::Refused { code, .. } if *code == why);
        // Ana's `made`, stored; then Bo's `change` of it refused, hers stored.
        let only_its_maker = |made: &Event, change: &dyn Fn(&str) -> Event| {
            push(&[made]);
            let answers = push(&[&change("Bo"), &change("Ana")]);
            assert!(refused(&answers[0], "not_yours"), "{answers:?}");
            assert!(matches!(answers[1], PushOutcome::Stored(_)), "{answers:?}");
        };
        let mine = note("Ana", "one");
        only_its_maker(&mine, &|who| edit(who, &mine));
        let theirs = note("Bo", "two");
        let answers = push(&[&theirs, &edit("Ana", &theirs), &edit("Bo", &theirs)]);
        assert!(matches!(answers[0], PushOutcome::Stored(_)), "{answers:?}");
        assert!(refused(&answers[1], "not_yours"), "{answers:?}");
        assert!(matches!(answers[2], PushOutcome::Stored(_)), "{answers:?}");
        // A reply is its author's the same way.
        let reply = Event::new(
            &context("Ana"),
            None,
            Body::ReplyAdded(ReplyAdded {
                target: theirs.id,
                text: "agreed".into(),
            }),
        );
        only_its_maker(&reply, &|author| {
            Event::new(
                &context(author),
                None,
                Body::ReplyEdited {
                    reply: reply.id,
                    text: format!("{author} says"),
                },
            )
        });
        // And a version: only its printer relabels it.
        let printed = Event::new(&context("Ana"), None, Body::VersionPrinted(a_version()));
        only_its_maker(&printed, &|author| {
            Event::new(
                &context(author),
                None,
                Body::VersionLabeled(VersionLabeled {
                    target: printed.id,
                    label: format!("{author}'s mix"),
                }),
            )
        });
        // Stored, but no note: the edit of the first push's edit (stored as number 2).
        let mut of_a_stored_edit = edit("Ana", &mine);
        let Body::NoteEdited(e) = &mut of_a_stored_edit.body else {
            unreachable!()
        };
        e.note = stored_id(store, project, 2);
        // A note of another project, by the same person.
        let elsewhere = store.create_project("Elsewhere").unwrap();
        let there = note("Ana", "over there");
        store.push(&elsewhere, None, &incoming(&[&there])).unwrap();
        let never_stored = edit("Ana", &edit("Ana", &mine));
        for stray in [of_a_stored_edit, edit("Ana", &there), never_stored] {
            let answers = push(&[&stray]);
            assert!(refused(&answers[0], "unknown_target"), "{answers:?}");
        }
    }

    /// What a `version_printed` event says of a minute of 48 kHz stereo.
    fn a_version() -> VersionPrinted {
        serde_json::from_value(serde_json::json!({
            "label": "v1",
            "version": {
                "hash": liner_record::clips::ClipHash::of(b"a print").to_string(),
                "format": "flac", "sample_rate": 48000, "channels": 2,
                "frames": 48000 * 60, "bytes": 7,
                "loudness": {"integrated": -14.0, "range": 5.0, "true_peak": -1.0},
                "peaks": [-100, 100]
            },
            "start": {"seconds": 0.0}
        }))
        .unwrap()
    }

    /// The id of the event stored as number `seq` of `project`.
    fn stored_id(store: &dyn Store, project: &Project, seq: u64) -> uuid::Uuid {
        let (_, line) = store
            .pull(project, seq - 1, 1)
            .unwrap()
            .into_iter()
            .next()
            .unwrap();
        serde_json::from_str::<Event>(&line).unwrap().id
    }

    /// `author`'s edit of the note `of`.
    pub(in crate::store) fn edit(author: &str, of: &Event) -> Event {
        Event::new(
            &context(author),
            None,
            Body::NoteEdited(NoteEdited {
                note: of.id,
                text: Some("mine now".into()),
                category: None,
                anchor: None,
            }),
        )
    }

    /// A producer's note in project "P".
    pub(in crate::store) fn note(author: &str, text: &str) -> Event {
        Event::new(
            &context(author),
            None,
            Body::NoteAdded(NoteAdded {
                text: text.into(),
                category: Category::Mix,
                anchor: None,
                take: None,
                private: false,
                version: None,
                guest: None,
            }),
        )
    }

    pub(in crate::store) fn context(author: &str) -> Context {
        Context {
            project: "P".into(),
            song: "Song".into(),
            track: "Vox".into(),
            session: uuid::Uuid::now_v7(),
            author: author.into(),
            role: Role::Producer,
        }
    }

    /// `events` as a client sends them.
    pub(in crate::store) fn incoming(events: &[&Event]) -> Vec<Incoming> {
        events
            .iter()
            .map(|e| Incoming::from_event((*e).clone()))
            .collect()
    }
}

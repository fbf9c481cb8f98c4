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
    use crate::store::Store;
    use liner_record::event::{Body, Category, Context, Event, NoteAdded};
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

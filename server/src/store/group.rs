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
    use super::Incoming;
    use liner_record::event::{Body, Category, Context, Event, NoteAdded};
    use liner_record::Role;

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

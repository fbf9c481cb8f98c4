//! The project record as an open editor sees it: the worker follows the project's journal
//! (only the bytes appended since its last look), folds the events into views and publishes
//! an immutable snapshot. The GUI thread never reads the disk: it clones an `Arc`. Events the
//! user dropped, or that a corrected or re-signed copy replaced (`aside.log`), are not shown.
//! Each change refolds the whole record (the fold is a pure function of the event set).

use liner_record::{fold, Event, Journal, JournalError, Views};
use std::collections::HashSet;
use std::sync::Arc;
use uuid::Uuid;

/// One folded state of a project's journal.
#[derive(Debug, Default)]
pub struct RecordSnapshot {
    /// Unique in the process (never reused, across projects too): the editor recomputes its
    /// filtered rows only when it changes. 0 is the empty snapshot.
    pub version: u64,
    pub views: Views,
    /// Journal lines that could not be read (reported, skipped).
    pub unreadable: usize,
    /// What this snapshot brought that answers someone (a verdict, a reply, a done), in
    /// words, for the editor's notices; empty on the first look (nothing is news then).
    pub news: Vec<News>,
}

/// A verdict, reply or done that arrived, in words, and whom it answers (the record's one rule:
/// [`liner_record::digest::answers`]).
#[derive(Debug, Clone, PartialEq)]
pub struct News {
    /// Who it answers (never its own author).
    pub people: std::collections::BTreeSet<String>,
    pub words: String,
}

/// The news among `new` events, by the whole record (`all`, folded as `views`).
fn news_of(new: &[Event], all: &[Event], views: &Views) -> Vec<News> {
    use liner_record::rules;
    let answers_someone = |e: &Event| {
        rules::verdict_target(e).is_some()
            || rules::reply_target(e).is_some()
            || rules::done_answers(e).is_some()
    };
    if !new.iter().any(answers_someone) {
        return Vec::new();
    }
    let by_id: std::collections::HashMap<Uuid, &Event> = all.iter().map(|e| (e.id, e)).collect();
    new.iter()
        .filter_map(|e| liner_record::digest::answers(e, views, &by_id))
        .map(|a| News {
            people: a.people,
            words: a.words,
        })
        .collect()
}

/// What the worker keeps per watched project: the events read so far (the journal is read
/// only from where it was left), and the ids held out of view.
pub(crate) struct RecordCache {
    offset: u64,
    events: Vec<Event>,
    ids: HashSet<Uuid>,
    /// Dropped or replaced events (from `aside.log`), and that file's length when read.
    hidden: HashSet<Uuid>,
    aside_len: u64,
    unreadable: usize,
    pub(crate) snapshot: Arc<RecordSnapshot>,
}

impl RecordCache {
    pub(crate) fn new() -> Self {
        RecordCache {
            offset: 0,
            events: Vec::new(),
            ids: HashSet::new(),
            hidden: HashSet::new(),
            aside_len: 0,
            unreadable: 0,
            snapshot: Arc::new(RecordSnapshot::default()),
        }
    }

    /// Reads what the journal gained since the last call and, if anything did, publishes a new
    /// snapshot. Returns whether it did. A repeated event (same id) is kept once.
    pub(crate) fn refresh(&mut self, journal: &Journal) -> Result<bool, JournalError> {
        let (events, skipped, end) = journal.read_since(self.offset)?;
        static VERSIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let first = self.offset == 0 && self.snapshot.version == 0;
        self.offset = end;
        self.unreadable += skipped.len();
        let mut changed = first || !skipped.is_empty();
        let before = self.events.len();
        for e in events {
            if self.ids.insert(e.id) {
                self.events.push(e.event);
                changed = true;
            }
        }

        let aside_len = journal.aside_len();
        if aside_len != self.aside_len {
            self.aside_len = aside_len;
            self.hidden = journal
                .aside()?
                .into_iter()
                .filter(|(_, a)| a.hides())
                .map(|(id, _)| id)
                .collect();
            changed = true;
        }
        if changed {
            let hidden = &self.hidden;
            let views = fold(self.events.iter().filter(|e| !hidden.contains(&e.id)));
            let news = if first {
                Vec::new()
            } else {
                news_of(&self.events[before..], &self.events, &views)
            };
            self.snapshot = Arc::new(RecordSnapshot {
                version: VERSIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
                views,
                unreadable: self.unreadable,
                news,
            });
        }
        Ok(changed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use liner_record::event::{Body, Category, Context, NoteAdded, Role};

    fn note(text: &str) -> Event {
        let ctx = Context {
            project: "P".into(),
            song: "S".into(),
            track: "T".into(),
            session: Uuid::now_v7(),
            author: "A".into(),
            role: Role::Producer,
        };
        Event::new(
            &ctx,
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

    #[test]
    fn snapshots_follow_the_journal_and_change_only_when_it_does() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path()).unwrap();
        let mut cache = RecordCache::new();
        assert!(cache.refresh(&journal).unwrap(), "the first look publishes");
        let v1 = cache.snapshot.version;
        assert!(v1 > 0);
        assert!(!cache.refresh(&journal).unwrap());
        let a = note("a");
        journal.append(std::slice::from_ref(&a)).unwrap();
        assert!(cache.refresh(&journal).unwrap());
        assert_eq!(cache.snapshot.views.notes.len(), 1);
        assert_eq!(cache.snapshot.views.notes[0].id, a.id);
        // The same event again (another process re-importing it) changes nothing.
        journal.append(std::slice::from_ref(&a)).unwrap();
        assert!(!cache.refresh(&journal).unwrap());
        assert!(cache.snapshot.version > v1);
        let v2 = cache.snapshot.version;
        journal.append(&[note("b")]).unwrap();
        assert!(cache.refresh(&journal).unwrap());
        assert_eq!(cache.snapshot.views.notes.len(), 2);
        // Another project's cache never reuses a version.
        let other = tempfile::tempdir().unwrap();
        let mut fresh = RecordCache::new();
        fresh
            .refresh(&Journal::open(other.path()).unwrap())
            .unwrap();
        assert!(![v1, v2, cache.snapshot.version].contains(&fresh.snapshot.version));
        // A dropped note leaves the view.
        liner_record::outbox::drop_events(&journal, &[a.id]).unwrap();
        assert!(cache.refresh(&journal).unwrap());
        assert_eq!(cache.snapshot.views.notes.len(), 1);
        assert!(cache.snapshot.views.notes.iter().all(|n| n.id != a.id));
    }
}

//! SQLite's door for events: concurrent pushes share one transaction (group commit).
//!
//! SQLite writes one transaction at a time, and with `synchronous=FULL` each commit waits for
//! the disk. Pushes that arrive while a group is being written queue up; the first of them to
//! find no group being written writes every queued push in one transaction (each in its own
//! savepoint), commits once and answers them all (the others wait on a condition variable,
//! not on the connection). So 32 plugins sending one note each cost
//! one disk flush, not 32, and nothing is acknowledged before the commit that holds it.
//!
//! Guaranteed as for one push alone: each push's events are judged in order against what is
//! stored and what came before them (earlier pushes of the group included), sequence numbers
//! stay gapless in the order written, and a push that fails (its project is gone, a statement
//! fails) is rolled back to its savepoint and answered with its error while the rest of the
//! group goes on. If SQLite gives up the whole transaction (it may, on a full disk or an I/O
//! error) or the commit fails, every push of the group gets the error and nothing of it is
//! stored (the clients send again).

use super::super::shared::{event_key, first_look, is_subject_key, now_ms, owned_keys};
use super::super::{Incoming, Project, PushOutcome, Result, StoreError};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// At most this many events go into one transaction (a push is never split: the leader's own
/// push and every push queued before it always go in).
const GROUP_EVENTS: usize = 2_000;

/// The pushes waiting for a turn at the connection.
#[derive(Default)]
pub(in crate::store) struct Queue {
    state: Mutex<State>,
    /// Told when a group is written (its pushes have answers, and another may lead).
    written: Condvar,
    /// Transactions written by pushes so far (for tests).
    groups: AtomicU64,
}

#[derive(Default)]
struct State {
    waiting: VecDeque<Arc<Job>>,
    /// A push is writing a group now.
    writing: bool,
}

/// One push waiting to be written, and its answer once it is.
struct Job {
    project: Project,
    token: Option<i64>,
    events: Vec<Incoming>,
    answer: Mutex<Slot>,
}

/// A push's answer: not yet given, given, or taken by the push's own thread.
enum Slot {
    Waiting,
    Ready(Result<Vec<PushOutcome>>),
    Taken,
}

impl Job {
    fn slot(&self) -> MutexGuard<'_, Slot> {
        self.answer.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn take_answer(&self) -> Option<Result<Vec<PushOutcome>>> {
        let mut slot = self.slot();
        match std::mem::replace(&mut *slot, Slot::Taken) {
            Slot::Ready(answer) => Some(answer),
            other => {
                *slot = other;
                None
            }
        }
    }

    /// Gives the answer, unless one was given already (the first stands).
    fn answer(&self, answer: Result<Vec<PushOutcome>>) {
        let mut slot = self.slot();
        if matches!(*slot, Slot::Waiting) {
            *slot = Slot::Ready(answer);
        }
    }
}

impl Queue {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Transactions written by pushes so far.
    #[cfg(test)]
    pub(in crate::store) fn groups(&self) -> u64 {
        self.groups.load(Ordering::Relaxed)
    }

    /// Whether a group is being written now.
    #[cfg(test)]
    pub(in crate::store) fn writing(&self) -> bool {
        self.state().writing
    }

    /// Pushes waiting for a group now.
    #[cfg(test)]
    pub(in crate::store) fn waiting(&self) -> usize {
        self.state().waiting.len()
    }

    /// Stores `events` of `project`. The push is queued; if no group is being written it
    /// writes one (its own and every push queued by then, on the connection `lock` waits
    /// for), otherwise it waits for a group that holds it, or for its turn to lead.
    pub(in crate::store) fn push<'c>(
        &self,
        lock: impl Fn() -> super::checkpoint::Writer<'c>,
        project: &Project,
        token: Option<i64>,
        events: &[Incoming],
    ) -> Result<Vec<PushOutcome>> {
        let job = Arc::new(Job {
            project: project.clone(),
            token,
            events: events.to_vec(),
            answer: Mutex::new(Slot::Waiting),
        });
        let mut state = self.state();
        state.waiting.push_back(job.clone());
        loop {
            if let Some(answer) = job.take_answer() {
                return answer;
            }
            if !state.writing {
                break;
            }
            state = self.written.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        state.writing = true;
        let group = take_through(&mut state.waiting, &job);
        drop(state);
        // Whatever happens in the write (a panic included), every push of the group has an
        // answer, the next push may lead, and the waiters wake.
        struct Done<'q> {
            queue: &'q Queue,
            group: Vec<Arc<Job>>,
        }
        impl Drop for Done<'_> {
            fn drop(&mut self) {
                for job in &self.group {
                    job.answer(Err(StoreError::Db(aborted(
                        "the server stopped writing this push; send it again",
                    ))));
                }
                self.queue.state().writing = false;
                self.queue.written.notify_all();
            }
        }
        let done = Done { queue: self, group };
        self.groups.fetch_add(1, Ordering::Relaxed);
        match write_group(&mut lock(), &done.group) {
            Ok(answers) => {
                for (job, answer) in done.group.iter().zip(answers) {
                    job.answer(answer);
                }
            }
            Err(e) => {
                for job in &done.group {
                    job.answer(Err(StoreError::Db(same_error(&e))));
                }
            }
        }
        drop(done);
        job.take_answer()
            .expect("a group answers every push in it, the leader's own too")
    }
}

/// The queued pushes up to and including `mine`, then more while the group has room.
fn take_through(waiting: &mut VecDeque<Arc<Job>>, mine: &Arc<Job>) -> Vec<Arc<Job>> {
    let mut group = Vec::new();
    let mut events = 0;
    let mut mine_taken = false;
    while let Some(next) = waiting.front() {
        if mine_taken && events + next.events.len() > GROUP_EVENTS {
            break;
        }
        let next = waiting.pop_front().expect("a front");
        mine_taken |= Arc::ptr_eq(&next, mine);
        events += next.events.len();
        group.push(next);
    }
    group
}

/// Writes `group` in one transaction, one savepoint per push: each push's answer, or why the
/// whole group failed (nothing of it stored).
///
/// SQLite's foreign-key checks are off for the group's transaction: they would look up the
/// project and the token again for every row. [`write`] checks both once per push instead
/// (neither is ever deleted, so what holds at the start of the push holds for its rows); the
/// checks are on again for every other write on this connection, whatever the group's fate.
fn write_group(
    conn: &mut Connection,
    group: &[Arc<Job>],
) -> rusqlite::Result<Vec<Result<Vec<PushOutcome>>>> {
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    let written = write_group_checked(conn, group);
    let restored = conn.pragma_update(None, "foreign_keys", "ON");
    let written = written?;
    restored?;
    Ok(written)
}

fn write_group_checked(
    conn: &mut Connection,
    group: &[Arc<Job>],
) -> rusqlite::Result<Vec<Result<Vec<PushOutcome>>>> {
    // Immediate: the write lock is taken (waiting up to the busy timeout) before anything is
    // read, so another process's write cannot leave this transaction on an old snapshot.
    let mut tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut answers = Vec::with_capacity(group.len());
    for job in group {
        let written = tx.savepoint().map_err(StoreError::from).and_then(|mut sp| {
            match write(&sp, &job.project, job.token, &job.events) {
                Ok(outcomes) => {
                    sp.commit()?;
                    Ok(outcomes)
                }
                Err(e) => {
                    // The push's own error is its answer, whatever the rollback says.
                    let _ = sp.rollback();
                    Err(e)
                }
            }
        });
        if tx.is_autocommit() {
            // SQLite gave up the whole transaction (a full disk, an I/O error): nothing of the
            // group is stored, and nothing more may be written outside it.
            let why = written
                .err()
                .map_or("the transaction ended".into(), |e| e.to_string());
            return Err(aborted(&format!(
                "the database gave up the write ({why}); send it again"
            )));
        }
        answers.push(written);
    }
    tx.commit()?;
    Ok(answers)
}

/// A copy of `e`, the group's failure, for each push of it.
fn same_error(e: &rusqlite::Error) -> rusqlite::Error {
    let code = e
        .sqlite_error()
        .copied()
        .unwrap_or_else(|| rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ERROR));
    rusqlite::Error::SqliteFailure(code, Some(e.to_string()))
}

/// A group given up with `message`.
fn aborted(message: &str) -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ABORT),
        Some(message.to_owned()),
    )
}

/// One push's events in the open transaction, each judged by the ownership and target rules
/// against what is stored and what came before it.
fn write(
    tx: &Connection,
    project: &Project,
    token: Option<i64>,
    events: &[Incoming],
) -> Result<Vec<PushOutcome>> {
    // What the foreign keys would say, once (see `write_group`).
    let exists = |sql: &str, id: i64| -> rusqlite::Result<bool> {
        tx.prepare_cached(sql)?.query_row([id], |r| r.get(0))
    };
    if !exists(
        "SELECT EXISTS (SELECT 1 FROM projects WHERE id = ?1)",
        project.id,
    )? {
        return Err(StoreError::NoProject(project.name.clone()));
    }
    if let Some(token) = token {
        if !exists("SELECT EXISTS (SELECT 1 FROM tokens WHERE id = ?1)", token)? {
            return Err(StoreError::NoToken(token));
        }
    }
    let mut out = Vec::with_capacity(events.len());
    let mut find =
        tx.prepare_cached("SELECT seq, json FROM events WHERE project_id = ?1 AND id = ?2")?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO events (project_id, id, json, received_ms, token_id) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    let mut owner =
        tx.prepare_cached("SELECT owner FROM subjects WHERE project_id = ?1 AND key = ?2")?;
    let mut own = tx.prepare_cached(
        "INSERT OR IGNORE INTO subjects (project_id, key, owner) VALUES (?1, ?2, ?3)",
    )?;
    let mut clip_ref = tx.prepare_cached(
        "INSERT OR IGNORE INTO clip_refs (project_id, hash, bytes) VALUES (?1, ?2, ?3)",
    )?;
    let mut version_ref = tx.prepare_cached(
        "INSERT OR IGNORE INTO version_refs (project_id, hash, bytes) VALUES (?1, ?2, ?3)",
    )?;
    let now = now_ms();
    for incoming in events {
        let id_text = incoming.event.id.to_string();
        let stored: Option<(i64, String)> = find
            .query_row(params![project.id, id_text], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let mut owner_of = |key: String| -> rusqlite::Result<Option<String>> {
            let Some((of, rule)) = event_key(&key) else {
                return owner
                    .query_row(params![project.id, key], |r| r.get(0))
                    .optional();
            };
            // Whether an event may be judged or given a clip, and by whom, its row says.
            let line: Option<String> = find
                .query_row(params![project.id, of.to_string()], |r| r.get(1))
                .optional()?;
            Ok(line
                .and_then(|line| serde_json::from_str::<liner_record::Event>(&line).ok())
                .filter(|event| rule(&event.body))
                .map(|event| event.author))
        };
        let stored = stored
            .as_ref()
            .map(|(seq, line)| (*seq as u64, line.as_str()));
        if let Some(outcome) = first_look(stored, incoming, &mut owner_of)? {
            out.push(outcome);
            continue;
        }
        insert.execute(params![project.id, id_text, incoming.json, now, token])?;
        let seq = tx.last_insert_rowid() as u64;
        for key in owned_keys(&incoming.event)
            .into_iter()
            .filter(|k| is_subject_key(k))
        {
            own.execute(params![project.id, key, incoming.event.author])?;
        }
        match &incoming.event.body {
            liner_record::Body::ClipAttached(c) => clip_ref.execute(params![
                project.id,
                c.clip.hash.as_str(),
                c.clip.bytes as i64
            ])?,
            liner_record::Body::VersionPrinted(v) => version_ref.execute(params![
                project.id,
                v.version.hash.as_str(),
                v.version.bytes as i64
            ])?,
            _ => 0,
        };
        out.push(PushOutcome::Stored(seq));
    }
    Ok(out)
}

#[cfg(test)]
pub(in crate::store) mod tests {
    use super::super::SqliteStore;
    use super::*;
    use crate::store::Store;
    use liner_record::event::{Body, Category, Context, Event, NoteAdded, NoteEdited};
    use liner_record::Role;
    use std::time::Duration;

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

    fn context(author: &str) -> Context {
        Context {
            project: "P".into(),
            song: "Song".into(),
            track: "Vox".into(),
            session: uuid::Uuid::now_v7(),
            author: author.into(),
            role: Role::Producer,
        }
    }

    fn edit(author: &str, of: &Event) -> Event {
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

    pub(in crate::store) fn incoming(events: &[&Event]) -> Vec<Incoming> {
        events
            .iter()
            .map(|e| Incoming::from_event((*e).clone()))
            .collect()
    }

    /// Holds the connection while `first` leads a group of its own (waiting for it), queues
    /// `queued` behind it in this order, then lets go: the first push's answer, then theirs.
    fn behind_a_write(
        store: &Arc<SqliteStore>,
        first: (Project, Vec<Incoming>),
        queued: Vec<(Project, Vec<Incoming>)>,
    ) -> (Result<Vec<PushOutcome>>, Vec<Result<Vec<PushOutcome>>>) {
        let held = store.conn();
        let push = |(p, events): (Project, Vec<Incoming>)| {
            let store = store.clone();
            std::thread::spawn(move || store.push_within_limits(&p, None, &events))
        };
        let first = push(first);
        while !store.pushes.writing() {
            std::thread::sleep(Duration::from_millis(1));
        }
        let mut threads = Vec::new();
        for (i, job) in queued.into_iter().enumerate() {
            threads.push(push(job));
            // Queued in this order: each waits for the one before it to queue.
            while store.pushes.waiting() < i + 1 {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        drop(held);
        let first = first.join().unwrap();
        (
            first,
            threads.into_iter().map(|t| t.join().unwrap()).collect(),
        )
    }

    /// Pushes queued while a group is being written are written together in the next
    /// transaction, each judged against the pushes before it in that group; one that fails is
    /// rolled back to its savepoint and answered with its error, and the rest are stored,
    /// gapless, once.
    #[test]
    fn queued_pushes_share_one_transaction_and_fail_alone() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
        let project = store.create_project("P").unwrap();
        let (a1, a2, a3) = (note("Ana", "one"), note("Ana", "two"), note("Ana", "three"));
        let b_new = note("Bo", "four");
        let theirs = edit("Bo", &a2);
        let gone = Project {
            id: project.id + 100,
            name: "Gone".into(),
        };
        let queued: Vec<(Project, Vec<Incoming>)> = vec![
            (project.clone(), incoming(&[&a1, &a2, &a3])),
            // A retry of a1 from another push of the same group, and a new note.
            (project.clone(), incoming(&[&a1, &b_new])),
            // Its project is not in the database: the insert fails.
            (gone, incoming(&[&note("Cy", "lost")])),
            // Judged against a2, stored by the first push of this very group.
            (project.clone(), incoming(&[&theirs])),
        ];
        let before = store.pushes.groups();
        // The first push leads a group of its own and waits for the connection.
        let first = (project.clone(), incoming(&[&note("Ana", "first")]));
        let (first, answers) = behind_a_write(&store, first, queued);
        assert_eq!(first.unwrap(), vec![PushOutcome::Stored(1)]);
        assert_eq!(
            store.pushes.groups(),
            before + 2,
            "the first push's transaction, then one for the four queued behind it"
        );
        assert_eq!(
            answers[0].as_ref().unwrap(),
            &vec![
                PushOutcome::Stored(2),
                PushOutcome::Stored(3),
                PushOutcome::Stored(4)
            ]
        );
        assert_eq!(
            answers[1].as_ref().unwrap(),
            &vec![PushOutcome::Duplicate(2), PushOutcome::Stored(5)]
        );
        assert!(answers[2].is_err(), "{:?}", answers[2]);
        assert!(
            matches!(
                answers[3].as_ref().unwrap().as_slice(),
                [PushOutcome::Refused {
                    code: "not_yours",
                    ..
                }]
            ),
            "{:?}",
            answers[3]
        );
        let stored: Vec<u64> = store
            .pull(&project, 0, 100)
            .unwrap()
            .into_iter()
            .map(|(seq, _)| seq)
            .collect();
        assert_eq!(stored, vec![1, 2, 3, 4, 5], "gapless, each event once");
        assert!(!store.pushes.writing());
    }

    /// When SQLite gives up the whole transaction partway through a group, no push of it is
    /// stored or answered as stored: not those before (rolled back with it), not those after
    /// (which would otherwise begin a transaction of their own and commit it unannounced).
    #[test]
    fn a_transaction_given_up_fails_the_whole_group_and_stores_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
        let project = store.create_project("P").unwrap();
        let doomed = store.create_project("Doomed").unwrap();
        // SQLite's own whole-transaction rollback, as on some full-disk and I/O errors, for
        // an insert into the doomed project (a trigger of the writer's connection only).
        store
            .conn()
            .execute_batch(&format!(
                "CREATE TEMP TRIGGER gives_up BEFORE INSERT ON events \
                 WHEN NEW.project_id = {} BEGIN \
                 SELECT RAISE(ROLLBACK, 'disk full (simulated)'); END;",
                doomed.id
            ))
            .unwrap();
        let queued = [
            (project.clone(), note("Ana", "before")),
            (doomed, note("Bo", "the full disk")),
            (project.clone(), note("Ana", "after")),
        ]
        .into_iter()
        .map(|(p, e)| (p, incoming(&[&e])))
        .collect();
        let first = (project.clone(), incoming(&[&note("Ana", "first")]));
        let (first, answers) = behind_a_write(&store, first, queued);
        assert_eq!(first.unwrap(), vec![PushOutcome::Stored(1)]);
        for answer in answers {
            assert!(
                answer
                    .as_ref()
                    .is_err_and(|e| e.to_string().contains("gave up")),
                "{answer:?}"
            );
        }
        let stored = store.pull(&project, 0, 100).unwrap();
        assert_eq!(stored.len(), 1, "only the first push's note: {stored:?}");
        // The next push stores as usual, numbered on from the first.
        assert_eq!(
            store
                .push(&project, None, &incoming(&[&note("Ana", "again")]))
                .unwrap(),
            vec![PushOutcome::Stored(2)]
        );
    }

    /// The group's transaction writes without SQLite's foreign-key checks; the push checks
    /// its project and token itself, so one naming a project or token that is not there
    /// stores nothing, and the checks are back on for every other write once the group is
    /// written, whether it stored or failed.
    #[test]
    fn a_push_checks_its_project_and_token_and_leaves_foreign_keys_on() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        let project = store.create_project("P").unwrap();
        let fk_on = || -> bool {
            store
                .conn()
                .query_row("PRAGMA foreign_keys", [], |r| r.get::<_, i64>(0))
                .unwrap()
                == 1
        };
        let gone = Project {
            id: project.id + 100,
            name: "Gone".into(),
        };
        let e = note("Ana", "one");
        assert!(matches!(
            store.push(&gone, None, &incoming(&[&e])),
            Err(StoreError::NoProject(name)) if name == "Gone"
        ));
        assert!(fk_on());
        assert!(matches!(
            store.push(&project, Some(4242), &incoming(&[&e])),
            Err(StoreError::NoToken(4242))
        ));
        assert!(fk_on());
        assert!(store.pull(&project, 0, 10).unwrap().is_empty());
        assert_eq!(
            store.push(&project, None, &incoming(&[&e])).unwrap(),
            vec![PushOutcome::Stored(1)]
        );
        assert!(fk_on());
        // Any other write on the writer's connection is still checked.
        let orphan = store.conn().execute(
            "INSERT INTO subjects (project_id, key, owner) VALUES (?1, 'k', 'o')",
            [gone.id],
        );
        assert!(orphan.is_err(), "{orphan:?}");
    }

    /// A note keeps one subject row (whose note it is); that it may be judged and given a
    /// clip, and by whom, is read from its event row, so a stored note is judged as before
    /// and an edit by another is still refused.
    #[test]
    fn a_note_writes_one_subject_row() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        let project = store.create_project("P").unwrap();
        let mine = note("Ana", "one");
        store.push(&project, None, &incoming(&[&mine])).unwrap();
        let keys: Vec<String> = {
            let conn = store.conn();
            let mut st = conn.prepare("SELECT key FROM subjects").unwrap();
            let rows = st.query_map([], |r| r.get(0)).unwrap();
            rows.collect::<rusqlite::Result<_>>().unwrap()
        };
        assert_eq!(keys, vec![format!("note:{}", mine.id)]);
        assert!(matches!(
            store
                .push(&project, None, &incoming(&[&edit("Bo", &mine)]))
                .unwrap()
                .as_slice(),
            [PushOutcome::Refused {
                code: "not_yours",
                ..
            }]
        ));
    }

    /// A push alone is its own group and answered by itself; a second push after it is
    /// another transaction.
    #[test]
    fn a_push_alone_writes_its_own_transaction() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        let project = store.create_project("P").unwrap();
        let before = store.pushes.groups();
        let first = note("Ana", "one");
        assert_eq!(
            store.push(&project, None, &incoming(&[&first])).unwrap(),
            vec![PushOutcome::Stored(1)]
        );
        assert_eq!(
            store.push(&project, None, &incoming(&[&first])).unwrap(),
            vec![PushOutcome::Duplicate(1)]
        );
        assert_eq!(store.pushes.groups(), before + 2);
        assert_eq!(store.pushes.waiting(), 0);
    }
}

//! SQLite's door for events: pushes are written by a thread of the store's own, in groups
//! that share one transaction (group commit).
//!
//! SQLite writes one transaction at a time, and with `synchronous=FULL` each commit waits for
//! the disk. Pushes queue up; the writer thread takes every push queued by the time it is
//! free, writes them in one transaction (each in its own savepoint), commits once, answers
//! them all and takes the next group at once. So 32 plugins sending one note each cost one
//! disk flush, not 32, and nothing is acknowledged before the commit that holds it. A
//! request's task awaits its answer ([`Queue::queue`]): no blocking thread waits for a write,
//! and nobody but the writer wakes when a group is written.
//!
//! Guaranteed as for one push alone: each push's events are judged in order against what is
//! stored and what came before them (earlier pushes of the group included), sequence numbers
//! stay gapless in the order written, and a push that fails (its project is gone, a statement
//! fails) is rolled back to its savepoint and answered with its error while the rest of the
//! group goes on. If SQLite gives up the whole transaction (it may, on a full disk or an I/O
//! error) or the commit fails, every push of the group gets the error and nothing of it is
//! stored (the clients send again). If the write panics, the group's pushes are answered with
//! an error and the thread goes on with the next group.

use super::super::group::{self, Push, Room};
use super::super::shared::{event_key, first_look, is_subject_key, now_ms, owned_keys};
use super::super::{Incoming, Project, PushOutcome, Result, StoreError};
use super::checkpoint::WriterConnection;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use tokio::sync::oneshot;

/// At most this many events go into one transaction (a push is never split: a group holds
/// at least one push, however large).
const GROUP_EVENTS: usize = 2_000;

/// The pushes waiting for the writer thread, and the thread.
pub(in crate::store) struct Queue {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    /// Told when a push is queued, or the queue is closed.
    arrived: Condvar,
    /// Transactions written by pushes so far (for tests).
    groups: AtomicU64,
}

#[derive(Default)]
struct State {
    waiting: VecDeque<Job>,
    /// The writer is writing a group now.
    writing: bool,
    /// The store is being dropped: the writer ends once nothing is waiting.
    closed: bool,
}

/// One push waiting to be written, and where its answer goes.
struct Job {
    push: Push,
    reply: Reply,
}

/// Where a push's answer goes: a waiting thread, or a waiting task. Dropped without an answer
/// (the write panicked), the waiter learns that the push was not written.
enum Reply {
    Thread(mpsc::SyncSender<Result<Vec<PushOutcome>>>),
    Task(oneshot::Sender<Result<Vec<PushOutcome>>>),
}

impl Reply {
    fn send(self, answer: Result<Vec<PushOutcome>>) {
        // A waiter that went away (a request dropped) needs no answer: it was stored or not
        // as the answer says, and the client's retry finds out which.
        match self {
            Reply::Thread(tx) => {
                let _ = tx.send(answer);
            }
            Reply::Task(tx) => {
                let _ = tx.send(answer);
            }
        }
    }
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Queue {
    /// Starts the writer thread, writing on `writer`'s connection.
    ///
    /// # Errors
    /// The thread cannot be started.
    pub(in crate::store) fn start(writer: Arc<WriterConnection>) -> std::io::Result<Queue> {
        let shared = Arc::new(Shared::default());
        let thread = std::thread::Builder::new()
            .name("liner-writer".into())
            .spawn({
                let shared = shared.clone();
                move || run(&shared, &writer)
            })?;
        Ok(Queue {
            shared,
            thread: Some(thread),
        })
    }

    /// Transactions written by pushes so far.
    #[cfg(test)]
    pub(in crate::store) fn groups(&self) -> u64 {
        self.shared.groups.load(Ordering::Relaxed)
    }

    /// Whether a group is being written now.
    #[cfg(test)]
    pub(in crate::store) fn writing(&self) -> bool {
        self.shared.state().writing
    }

    /// Pushes waiting for a group now.
    #[cfg(test)]
    pub(in crate::store) fn waiting(&self) -> usize {
        self.shared.state().waiting.len()
    }

    fn enqueue(&self, project: &Project, token: Option<i64>, events: Vec<Incoming>, reply: Reply) {
        let mut state = self.shared.state();
        state.waiting.push_back(Job {
            push: Push {
                project: project.clone(),
                token,
                events,
            },
            reply,
        });
        drop(state);
        self.shared.arrived.notify_one();
    }

    /// Queues a push of `events` of `project`; its answer comes through the receiver.
    pub(in crate::store) fn queue(
        &self,
        project: &Project,
        token: Option<i64>,
        events: Vec<Incoming>,
    ) -> group::Answer {
        let (tx, rx) = oneshot::channel();
        self.enqueue(project, token, events, Reply::Task(tx));
        rx
    }

    /// Stores `events` of `project`, waiting on this thread for the group that holds them.
    pub(in crate::store) fn push(
        &self,
        project: &Project,
        token: Option<i64>,
        events: &[Incoming],
    ) -> Result<Vec<PushOutcome>> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.enqueue(project, token, events.to_vec(), Reply::Thread(tx));
        rx.recv().unwrap_or_else(|_| Err(group::stopped()))
    }
}

impl Drop for Queue {
    fn drop(&mut self) {
        self.shared.state().closed = true;
        self.shared.arrived.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The writer thread: groups, written one after another, until the queue is closed and empty.
fn run(shared: &Shared, writer: &WriterConnection) {
    loop {
        let group = {
            let mut state = shared.state();
            state.writing = false;
            while state.waiting.is_empty() {
                if state.closed {
                    return;
                }
                state = shared
                    .arrived
                    .wait(state)
                    .unwrap_or_else(|e| e.into_inner());
            }
            state.writing = true;
            take_group(&mut state.waiting)
        };
        shared.groups.fetch_add(1, Ordering::Relaxed);
        let (pushes, replies): (Vec<Push>, Vec<Reply>) =
            group.into_iter().map(|job| (job.push, job.reply)).unzip();
        // A panic in the write drops the replies unanswered (their waiters hear "stopped");
        // the thread goes on with the next group.
        let written = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            write_group(&mut writer.lock(), &pushes)
        }));
        match written {
            Ok(Ok(answers)) => {
                for (reply, answer) in replies.into_iter().zip(answers) {
                    reply.send(answer);
                }
            }
            Ok(Err(e)) => {
                for reply in replies {
                    reply.send(Err(StoreError::Db(same_error(&e))));
                }
            }
            Err(_) => {
                // The transaction was rolled back as the panic unwound; the foreign-key checks
                // `write_group` turned off are turned on again.
                tracing::error!("writing a group of pushes panicked; they were not stored");
                if let Err(e) = writer.lock().pragma_update(None, "foreign_keys", "ON") {
                    tracing::error!("turning foreign keys on again after the panic: {e}");
                }
            }
        }
    }
}

/// The first queued push, then more while the group has room.
fn take_group(waiting: &mut VecDeque<Job>) -> Vec<Job> {
    let (mut group, mut room) = (Vec::new(), Room::new(GROUP_EVENTS, usize::MAX));
    while waiting.front().is_some_and(|job| room.take(&job.push)) {
        group.extend(waiting.pop_front());
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
    group: &[Push],
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
    group: &[Push],
) -> rusqlite::Result<Vec<Result<Vec<PushOutcome>>>> {
    // Immediate: the write lock is taken (waiting up to the busy timeout) before anything is
    // read, so another process's write cannot leave this transaction on an old snapshot.
    let mut tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut answers = Vec::with_capacity(group.len());
    for push in group {
        let written = tx.savepoint().map_err(StoreError::from).and_then(|mut sp| {
            match write(&sp, &push.project, push.token, &push.events) {
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
    #[cfg(test)]
    assert!(
        project.name != group::tests::PANICS,
        "a push that panics its write (tests)"
    );
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
            let Some(of) = event_key(&key) else {
                return owner
                    .query_row(params![project.id, key], |r| r.get(0))
                    .optional();
            };
            // Whether an event may be judged or given a clip, and whose a note, version or
            // reply is, the event's row says.
            let line: Option<String> = find
                .query_row(params![project.id, of.event().to_string()], |r| r.get(1))
                .optional()?;
            Ok(line.and_then(|line| of.owner_in(&line)))
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
mod tests {
    use super::super::SqliteStore;
    use super::*;
    use crate::store::group::tests::{
        edit, incoming, note, push_that_panics, subjects_are_their_makers,
    };
    use crate::store::Store;
    use std::time::Duration;

    /// Holds the connection while `first` is a group of its own (waiting for it), queues
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
        // The first push is a group of its own, which waits for the connection.
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

    /// A note writes its event's row alone: whose note it is, and that it may be judged and
    /// given a clip, are read from that row, so edits are judged as before.
    #[test]
    fn a_note_writes_no_subject_row() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        let project = store.create_project("P").unwrap();
        subjects_are_their_makers(&store, &project);
        let subjects: i64 = store
            .conn()
            .query_row("SELECT COUNT(*) FROM subjects", [], |r| r.get(0))
            .unwrap();
        assert_eq!(subjects, 0);
    }

    /// A push that panics the writer thread's write is answered with an error, stores
    /// nothing, and the thread goes on: the pushes after it are written and answered.
    #[test]
    fn a_write_that_panics_is_answered_and_the_writer_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        let project = store.create_project("P").unwrap();
        let lost = push_that_panics(&store, &project);
        let fk: i64 = store
            .conn()
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert_eq!(fk, 1, "the checks are on again");
        // The next push is written (waited for on another thread: a writer that died with
        // the panic would never answer).
        let store = Arc::new(store);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn({
            let (store, project) = (store.clone(), project.clone());
            move || tx.send(store.push(&project, None, &incoming(&[&lost])))
        });
        let answer = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("the writer answers the push after the panic");
        assert_eq!(answer.unwrap(), vec![PushOutcome::Stored(1)]);
    }

    /// A request's task queues its push and awaits the answer (on a runtime of one thread,
    /// which the write never blocks): the same outcomes as a push from a thread, an event
    /// over the record's limits refused where it stands and the rest stored around it.
    #[test]
    fn a_queued_push_is_answered_to_its_task_as_a_push_is() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        let project = store.create_project("P").unwrap();
        let (a, b) = (note("Ana", "one"), note("Ana", "two"));
        let long = note("Ana", &"x".repeat(liner_record::limits::MAX_TEXT_CHARS + 1));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let answer = runtime.block_on(async {
            store
                .push_queued(&project, None, incoming(&[&a, &long, &b, &a]))
                .answer()
                .await
        });
        let answer = answer.unwrap();
        assert_eq!(answer[0], PushOutcome::Stored(1));
        assert!(
            matches!(
                &answer[1],
                PushOutcome::Refused {
                    code: "too_long",
                    ..
                }
            ),
            "{:?}",
            answer[1]
        );
        assert_eq!(
            answer[2..],
            [PushOutcome::Stored(2), PushOutcome::Duplicate(1)]
        );
        // A push from a thread after it sees what it stored.
        assert_eq!(
            store.push(&project, None, &incoming(&[&b])).unwrap(),
            vec![PushOutcome::Duplicate(2)]
        );
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

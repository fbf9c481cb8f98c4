//! Checkpoints off the write path: a thread of the store's own copies the WAL back into the
//! database, so the connection that writes pushes does not.
//!
//! SQLite's automatic checkpoint runs inside the commit that crosses its threshold: the
//! writer copies every page of the WAL into the database and flushes it to disk while every
//! queued push waits for it. Here the writer only nudges when it lets go of its connection
//! ([`Writer`], whatever it wrote: pushes, clips, version chunks); this thread, on a
//! connection of its own, runs a passive checkpoint (it never waits for nor blocks a writer
//! or a reader) at most once per [`PAUSE`], however many nudges came meanwhile.
//!
//! Guaranteed: durability does not depend on this thread (a commit is on disk in the WAL,
//! with `synchronous=FULL`, before it is acknowledged); if the thread falls behind or its
//! checkpoints fail, the writer's own automatic checkpoint, kept at [`FALLBACK_PAGES`], still
//! bounds the WAL. The thread ends when its store is dropped.

use rusqlite::Connection;
use std::ops::{Deref, DerefMut};
use std::path::Path;
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// At most one checkpoint per this long (each flushes the database file).
const PAUSE: Duration = Duration::from_millis(100);

/// WAL pages past which the writer checkpoints by itself (SQLite's default is 1000): only
/// reached when this thread cannot keep up.
pub(in crate::store) const FALLBACK_PAGES: i64 = 8_000;

/// The checkpointing thread of one store.
pub(in crate::store) struct Checkpointer {
    nudge: Option<SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts the thread on a connection of its own to the database at `path`.
    ///
    /// # Errors
    /// The connection cannot be opened, or the thread cannot be started.
    pub(in crate::store) fn start(path: &Path) -> std::io::Result<Checkpointer> {
        let conn = Connection::open(path).map_err(std::io::Error::other)?;
        // A checkpoint waits for nothing: what it cannot copy now, the next one copies.
        let (nudge, nudges) = mpsc::sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("liner-checkpoint".into())
            .spawn(move || run(&conn, &nudges))?;
        Ok(Checkpointer {
            nudge: Some(nudge),
            thread: Some(thread),
        })
    }

    /// Tells the thread that a transaction committed; never waits.
    pub(in crate::store) fn nudge(&self) {
        if let Some(nudge) = &self.nudge {
            match nudge.try_send(()) {
                Ok(()) | Err(TrySendError::Full(())) => {}
                Err(TrySendError::Disconnected(())) => {
                    tracing::warn!("the checkpoint thread has stopped; the writer checkpoints");
                }
            }
        }
    }
}

/// The store's writing connection, shared by the writer thread of pushes and every other
/// write, with the checkpoint thread that follows it.
pub(in crate::store) struct WriterConnection {
    conn: Mutex<Connection>,
    checkpoints: Checkpointer,
}

impl WriterConnection {
    pub(in crate::store) fn new(conn: Connection, checkpoints: Checkpointer) -> WriterConnection {
        WriterConnection {
            conn: Mutex::new(conn),
            checkpoints,
        }
    }

    /// The connection, once no other write holds it.
    pub(in crate::store) fn lock(&self) -> Writer<'_> {
        Writer {
            conn: self.conn.lock().unwrap_or_else(|e| e.into_inner()),
            checkpoints: &self.checkpoints,
        }
    }
}

/// The writing connection, held. Letting go of it nudges the checkpoint thread, so what was
/// committed through it is copied back soon, whichever write it was.
pub(in crate::store) struct Writer<'a> {
    conn: MutexGuard<'a, Connection>,
    checkpoints: &'a Checkpointer,
}

impl Deref for Writer<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.conn
    }
}

impl DerefMut for Writer<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }
}

impl Drop for Writer<'_> {
    fn drop(&mut self) {
        self.checkpoints.nudge();
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        // Hanging up wakes the thread at once, in its wait or its pause.
        self.nudge.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(conn: &Connection, nudges: &mpsc::Receiver<()>) {
    let mut pending = false;
    loop {
        if !pending && nudges.recv().is_err() {
            return;
        }
        pending = false;
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!("checkpointing the record's WAL: {e}");
        }
        let until = Instant::now() + PAUSE;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            match nudges.recv_timeout(left) {
                Ok(()) => pending = true,
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::SqliteStore;
    use crate::store::group::tests::{incoming, note};
    use crate::store::Store;

    /// Pushes far below the writer's own checkpoint threshold reach the database file: the
    /// thread copied them out of the WAL. Dropping the store ends the thread (the drop
    /// joins it).
    #[test]
    fn the_thread_copies_pushes_into_the_database_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        let project = store.create_project("P").unwrap();
        let db = dir.path().join("liner.db");
        let size = || std::fs::metadata(&db).unwrap().len();
        let before = size();
        for batch in 0..20 {
            let notes: Vec<_> = (0..100)
                .map(|i| {
                    note(
                        "Ana",
                        &format!("note {batch}.{i}, a few words to fill pages"),
                    )
                })
                .collect();
            store
                .push(&project, None, &incoming(&notes.iter().collect::<Vec<_>>()))
                .unwrap();
        }
        let wal_pages = std::fs::metadata(dir.path().join("liner.db-wal"))
            .unwrap()
            .len()
            / 4096;
        assert!(
            (wal_pages as i64) < super::FALLBACK_PAGES,
            "the writer's own checkpoint would have run ({wal_pages} pages)"
        );
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while size() < before + 1_000_000 {
            assert!(
                std::time::Instant::now() < deadline,
                "the database file stayed at {} bytes (from {before})",
                size()
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert_eq!(store.pull(&project, 0, 5000).unwrap().len(), 2000);
        drop(store);
    }
}

//! The embedded default: everything in one SQLite file (bundled SQLite, WAL), one
//! transaction per call on the writing connection (pushes that queue share one: [`push`]),
//! and a second, read-only connection for token lookups and pulls.

mod checkpoint;
mod guests;
mod push;

use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;
use std::sync::{Arc, Mutex};

use super::copy::{
    ClipRow, Dump, EventRow, ProjectRow, SessionRow, TokenRow, VersionChunkRow, VersionRow,
};
use super::guests as guests_;
use super::shared::{
    chunk_refusal, clip_refusal, hash, new_token_secret, now_ms, owned_keys, random_secret,
    receipt, role_of, sessions_since, signs_in, ClipFacts,
};
use super::*;
use liner_record::clips::ClipHash;
use liner_record::Role;

/// Schema changes, in order. Never edit one; add a new one.
const MIGRATIONS: &[&str] = &[
    // 1: projects, tokens, events.
    "CREATE TABLE projects (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        created_ms INTEGER NOT NULL
    );
    CREATE TABLE tokens (
        id INTEGER PRIMARY KEY,
        project_id INTEGER NOT NULL REFERENCES projects(id),
        name TEXT NOT NULL,
        role TEXT NOT NULL,
        hash TEXT NOT NULL UNIQUE,
        revoked INTEGER NOT NULL DEFAULT 0,
        created_ms INTEGER NOT NULL
    );
    CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        project_id INTEGER NOT NULL REFERENCES projects(id),
        id TEXT NOT NULL,
        json TEXT NOT NULL,
        received_ms INTEGER NOT NULL,
        UNIQUE (project_id, id)
    );
    CREATE INDEX events_by_project ON events(project_id, seq);",
    // 2: who pushed each event; who owns each note, take and mark, and what verdicts may
    // judge (liner_record::rules). Stored lines become canonical (see `backfill_2`).
    "ALTER TABLE events ADD COLUMN token_id INTEGER REFERENCES tokens(id);
    CREATE TABLE subjects (
        project_id INTEGER NOT NULL REFERENCES projects(id),
        key TEXT NOT NULL,
        owner TEXT NOT NULL,
        PRIMARY KEY (project_id, key)
    );",
    // 3: sign-in sessions of the review page (the cookie's secret, hashed; a CSRF secret).
    "CREATE TABLE sessions (
        hash TEXT PRIMARY KEY,
        token_id INTEGER NOT NULL REFERENCES tokens(id),
        csrf TEXT NOT NULL,
        created_ms INTEGER NOT NULL
    );",
    // 4: audio clips: what `clip_attached` events name (hash and size), and the bytes sent.
    // Stored events gain the subjects clips need (what may have a clip, and whose it is).
    "CREATE TABLE clip_refs (
        project_id INTEGER NOT NULL REFERENCES projects(id),
        hash TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        PRIMARY KEY (project_id, hash)
    );
    CREATE TABLE clips (
        project_id INTEGER NOT NULL REFERENCES projects(id),
        hash TEXT NOT NULL,
        data BLOB NOT NULL,
        size INTEGER NOT NULL,
        token_id INTEGER REFERENCES tokens(id),
        received_ms INTEGER NOT NULL,
        PRIMARY KEY (project_id, hash)
    );",
    // 5: the backups `liner backup` made, so the page can say when the last one ran.
    "CREATE TABLE backups (
        at_ms INTEGER NOT NULL,
        bytes INTEGER NOT NULL,
        events INTEGER NOT NULL
    );",
    // 6: versions: what `version_printed` events name (hash and size), their chunks as
    // they arrive (resumable uploads), and the versions whose whole matched their hash.
    "CREATE TABLE version_refs (
        project_id INTEGER NOT NULL REFERENCES projects(id),
        hash TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        PRIMARY KEY (project_id, hash)
    );
    CREATE TABLE version_chunks (
        project_id INTEGER NOT NULL REFERENCES projects(id),
        hash TEXT NOT NULL,
        idx INTEGER NOT NULL,
        data BLOB NOT NULL,
        size INTEGER NOT NULL,
        PRIMARY KEY (project_id, hash, idx)
    );
    CREATE TABLE versions (
        project_id INTEGER NOT NULL REFERENCES projects(id),
        hash TEXT NOT NULL,
        size INTEGER NOT NULL,
        token_id INTEGER REFERENCES tokens(id),
        received_ms INTEGER NOT NULL,
        PRIMARY KEY (project_id, hash)
    );",
    // 7: the quota's sum from indexes alone. In the tables a row's size comes after its
    // bytes, so summing the column read every stored byte: a play or a seek of a version (and
    // every chunk of an upload) waited ~0.3 ms per stored megabyte.
    "CREATE INDEX clips_size ON clips(project_id, size);
    CREATE INDEX version_chunks_size ON version_chunks(project_id, size);",
    // 8: webhooks (`liner webhook`): each with its signing secret and delivery state (the
    // cursor: every event up to it is done with; a retry's attempts and time; the lease of the
    // process working on it), and the log of every attempt (no foreign keys: it outlives
    // the hooks it names).
    "CREATE TABLE hooks (
        id INTEGER PRIMARY KEY,
        project_id INTEGER NOT NULL REFERENCES projects(id),
        url TEXT NOT NULL,
        events TEXT NOT NULL,
        secret TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        cursor INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_ms INTEGER NOT NULL DEFAULT 0,
        lease_owner TEXT,
        lease_ms INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE hook_log (
        id INTEGER PRIMARY KEY,
        hook_id INTEGER NOT NULL,
        project_id INTEGER NOT NULL,
        at_ms INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        event_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        delivery TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        status INTEGER,
        error TEXT,
        retry_ms INTEGER,
        gave_up INTEGER NOT NULL
    );
    CREATE INDEX hook_log_by_hook ON hook_log(hook_id, id);
    CREATE INDEX hook_log_by_project ON hook_log(project_id, id);",
    // 9: the executive's changes requests stored so far, which a done may now answer
    // (`shared::changes_key`; new ones are recorded as they are stored).
    "INSERT OR IGNORE INTO subjects (project_id, key, owner)
        SELECT project_id,
               'changes:' || json_extract(json, '$.id') || ':' || json_extract(json, '$.body.target'),
               json_extract(json, '$.author')
        FROM events
        WHERE json LIKE '%\"kind\":\"verdict\"%'
          AND json_valid(json)
          AND json_extract(json, '$.kind') = 'verdict'
          AND json_extract(json, '$.role') = 'executive'
          AND json_extract(json, '$.body.verdict') = 'changes_requested'
          AND json_extract(json, '$.body.target') IS NOT NULL;",
    // 10: each person's digest per project (`store::digests`): their last look, their private
    // feed's secret hashed (NULL: no feed), the role it speaks as, where and how often it is
    // mailed and when the last mail went.
    "CREATE TABLE digests (
        project_id INTEGER NOT NULL REFERENCES projects(id),
        person TEXT NOT NULL,
        role TEXT NOT NULL,
        last_look_ms INTEGER,
        feed_hash TEXT UNIQUE,
        mail_to TEXT,
        mail_every TEXT,
        mailed_ms INTEGER,
        PRIMARY KEY (project_id, person)
    );",
    // 11: listening links (their secrets' hashes), guests' sessions on links with a
    // passphrase, and the comments guests leave, held until the executive settles them.
    guests::MIGRATION,
    // 12: subjects kept in their key's order alone (no rowid table beside the key's index):
    // every note, take and mark a push stores writes one b-tree here, not two. Whether an
    // event may be judged or given a clip, and by whom, its own row says (`push::write`), so
    // those keys are not kept: a note writes one subject row, not three.
    "CREATE TABLE subjects_by_key (
        project_id INTEGER NOT NULL REFERENCES projects(id),
        key TEXT NOT NULL,
        owner TEXT NOT NULL,
        PRIMARY KEY (project_id, key)
    ) WITHOUT ROWID;
    INSERT INTO subjects_by_key (project_id, key, owner)
        SELECT project_id, key, owner FROM subjects
        WHERE key NOT LIKE 'judgeable:%' AND key NOT LIKE 'clippable:%';
    DROP TABLE subjects;
    ALTER TABLE subjects_by_key RENAME TO subjects;",
    // 13: a note's, version's or reply's owner is read from the row of the event that made
    // it (`shared::EventKey`), so their subject rows go: a note writes its event row alone.
    "DELETE FROM subjects
        WHERE key LIKE 'note:%' OR key LIKE 'version:%' OR key LIKE 'reply:%';",
];

/// The writer's page cache in KiB (SQLite's default is 2 MiB): room for a whole group's
/// changed pages and the indexes' upper levels.
const WRITER_CACHE_KIB: i64 = 16 * 1024;

/// The bytes of clips and version chunks project `?1` holds: one quota covers both.
const USED: &str = "SELECT (SELECT COALESCE(SUM(size), 0) FROM clips WHERE project_id = ?1) \
     + (SELECT COALESCE(SUM(size), 0) FROM version_chunks WHERE project_id = ?1)";

/// Work in Rust that a migration needs, by version, run once right after its SQL.
fn backfill(tx: &rusqlite::Transaction<'_>, version: usize) -> rusqlite::Result<()> {
    match version {
        2 => backfill_2(tx),
        4 => backfill_4(tx),
        6 => backfill_6(tx),
        _ => Ok(()),
    }
}

/// Rewrites every stored event as its canonical line (a line stored as sent before could
/// span several lines and stop every reader), and records owners and judgeable events in
/// sequence order (the first claimant owns). A stored line that is no event at all is left
/// as it is: readers set it aside.
fn backfill_2(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
    let rows: Vec<(i64, i64, String)> = {
        let mut st = tx.prepare("SELECT seq, project_id, json FROM events ORDER BY seq")?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for (seq, project, json) in rows {
        let Ok(incoming) = Incoming::parse(&json) else {
            continue;
        };
        if incoming.json != json {
            tx.execute(
                "UPDATE events SET json = ?1 WHERE seq = ?2",
                params![incoming.json, seq],
            )?;
        }
        for key in owned_keys(&incoming.event) {
            tx.execute(
                "INSERT OR IGNORE INTO subjects (project_id, key, owner) VALUES (?1, ?2, ?3)",
                params![project, key, incoming.event.author],
            )?;
        }
    }
    Ok(())
}

/// Records, for every stored event, the subjects added since migration 2 (what may have a
/// clip); the others are there already and stay as they are.
fn backfill_4(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
    let rows: Vec<(i64, String)> = {
        let mut st = tx.prepare("SELECT project_id, json FROM events ORDER BY seq")?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for (project, json) in rows {
        let Ok(event) = serde_json::from_str::<liner_record::Event>(&json) else {
            continue;
        };
        for key in owned_keys(&event) {
            tx.execute(
                "INSERT OR IGNORE INTO subjects (project_id, key, owner) VALUES (?1, ?2, ?3)",
                params![project, key, event.author],
            )?;
        }
    }
    Ok(())
}

/// Records the versions stored `version_printed` events name (events stored before the
/// server took versions' bytes).
fn backfill_6(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
    let rows: Vec<(i64, String)> = {
        let mut st = tx.prepare(
            "SELECT project_id, json FROM events WHERE json LIKE '%\"kind\":\"version_printed\"%'",
        )?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for (project, json) in rows {
        if let Ok(event) = serde_json::from_str::<liner_record::Event>(&json) {
            if let liner_record::Body::VersionPrinted(v) = &event.body {
                tx.execute(
                    "INSERT OR IGNORE INTO version_refs (project_id, hash, bytes) \
                     VALUES (?1, ?2, ?3)",
                    params![project, v.version.hash.as_str(), v.version.bytes as i64],
                )?;
            }
        }
    }
    Ok(())
}

/// What [`SqliteStore::inspect_copy`] finds in a copy of a record.
#[derive(Debug, Clone)]
pub struct CopyFacts {
    pub schema: usize,
    pub events: u64,
    /// What `integrity_check` reports (empty: the file is sound).
    pub problems: Vec<String>,
}

pub struct SqliteStore {
    /// The writing connection (shared with the writer thread of [`push`]).
    writer: Arc<checkpoint::WriterConnection>,
    /// A second connection, read-only, for the reads every request makes (its token) and
    /// the pulls: in WAL mode they see every committed transaction without waiting for the
    /// one being written.
    reader: Mutex<Connection>,
    /// Pushes waiting for their group's transaction, and the thread that writes them
    /// ([`push`]).
    pushes: push::Queue,
    dir: std::path::PathBuf,
    /// Version chunks read ([`Store::chunks_read`]).
    chunks_read: std::sync::atomic::AtomicU64,
}

impl SqliteStore {
    /// Opens (creating if needed) `liner.db` in `dir`, in WAL mode, and applies migrations.
    ///
    /// # Errors
    /// The folder or the database cannot be opened, or a migration fails.
    pub fn open(dir: &Path) -> Result<Self> {
        let cannot = |what: &str, e: std::io::Error| {
            StoreError::Db(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
                Some(format!("cannot {what} {}: {e}", dir.display())),
            ))
        };
        // The folder and the database are its owner's only (0700, 0600) from the start: it
        // holds token hashes and every note. SQLite gives its -wal and -shm files the
        // database's permissions.
        liner_record::journal::create_private_dir(dir).map_err(|e| cannot("create", e))?;
        let path = dir.join("liner.db");
        {
            let mut options = std::fs::OpenOptions::new();
            options.create(true).append(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            options
                .open(&path)
                .map_err(|e| cannot("create the database in", e))?;
        }
        let mut conn = Connection::open(&path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // A group of pushes is one transaction with a savepoint per push: the savepoints'
        // journal stays in memory rather than in a temporary file, and the pages a group
        // changes stay in the cache rather than spilling to the WAL before its commit.
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        conn.pragma_update(None, "cache_size", -WRITER_CACHE_KIB)?;
        conn.pragma_update(None, "wal_autocheckpoint", checkpoint::FALLBACK_PAGES)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let tx = conn.transaction()?;
        tx.execute_batch(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)",
        )?;
        let done: i64 = tx.query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            [],
            |r| r.get(0),
        )?;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(done as usize) {
            tx.execute_batch(sql)?;
            backfill(&tx, i + 1)?;
            tx.execute(
                "INSERT INTO schema_migrations (version) VALUES (?1)",
                [i as i64 + 1],
            )?;
        }
        tx.commit()?;
        let reader = Connection::open(&path)?;
        reader.pragma_update(None, "query_only", "ON")?;
        reader.busy_timeout(std::time::Duration::from_secs(5))?;
        let checkpoints = checkpoint::Checkpointer::start(&path)
            .map_err(|e| cannot("start checkpointing the database in", e))?;
        let writer = Arc::new(checkpoint::WriterConnection::new(conn, checkpoints));
        Ok(SqliteStore {
            pushes: push::Queue::start(writer.clone())
                .map_err(|e| cannot("start the writer of the database in", e))?,
            writer,
            reader: Mutex::new(reader),
            dir: dir.to_owned(),
            chunks_read: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// The schema version this build makes and reads (a backup from a newer one is refused).
    pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

    /// The schema's migrations in order (the first `k` made the database of the release at
    /// schema `k`): for the tests that upgrade a record from every earlier schema.
    pub fn migrations() -> &'static [&'static str] {
        MIGRATIONS
    }

    /// Copies the whole database, as of one moment, into the (new, empty) SQLite file `to`:
    /// SQLite's online backup in a single step, one read transaction, so a server writing
    /// meanwhile is not held up (WAL) and cannot make the copy start over. The clips go with
    /// it: they live in the database.
    ///
    /// # Errors
    /// The database or the copy fails.
    pub fn copy_to(&self, to: &Path) -> Result<()> {
        let conn = self.conn();
        let mut copy = Connection::open(to)?;
        let backup = rusqlite::backup::Backup::new(&conn, &mut copy)?;
        match backup.step(-1)? {
            rusqlite::backup::StepResult::Done => Ok(()),
            // Another connection held a lock the copy needs: nothing usable was made.
            _ => Err(StoreError::Db(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
                Some("the database was busy; try the backup again".into()),
            ))),
        }
    }

    /// The schema version of the database `file`, read without changing it (0: none).
    ///
    /// # Errors
    /// The file is no SQLite database.
    pub fn schema_of(file: &Path) -> Result<usize> {
        let conn = Connection::open_with_flags(
            file,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        let schema: Option<i64> = conn
            .query_row("SELECT MAX(version) FROM schema_migrations", [], |r| {
                r.get(0)
            })
            .optional()
            .ok()
            .flatten()
            .flatten();
        Ok(schema.unwrap_or(0) as usize)
    }

    /// Reads a copy made by [`SqliteStore::copy_to`] without changing it: what its schema
    /// version is, how many events it holds, and what `integrity_check` finds wrong.
    ///
    /// # Errors
    /// The file is no SQLite database, or no Liner Notes record (no schema version).
    pub fn inspect_copy(file: &Path) -> Result<CopyFacts> {
        let conn = Connection::open_with_flags(
            file,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        let problems = integrity(&conn)?;
        let schema: i64 = conn.query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            [],
            |r| r.get(0),
        )?;
        let events: i64 = conn.query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))?;
        Ok(CopyFacts {
            schema: schema as usize,
            events: events as u64,
            problems,
        })
    }

    /// What SQLite's `integrity_check` finds wrong (nothing: an empty list).
    ///
    /// # Errors
    /// The database fails.
    pub fn integrity(&self) -> Result<Vec<String>> {
        integrity(&self.conn())
    }

    /// Every row of the record but the clips' and versions' bytes and the versions' completion
    /// records (copied after their chunks), for a copy into PostgreSQL.
    ///
    /// # Errors
    /// The database fails.
    pub fn dump(&self) -> Result<Dump> {
        let mut conn = self.conn();
        // One read transaction: every table as of one moment, even with a server writing.
        let conn = conn.transaction()?;
        fn all<T>(
            conn: &Connection,
            sql: &str,
            row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
        ) -> rusqlite::Result<Vec<T>> {
            let mut st = conn.prepare(sql)?;
            let rows = st.query_map([], row)?;
            rows.collect()
        }
        let (links, guest_comments) = SqliteStore::guest_rows(&conn)?;
        Ok(Dump {
            links,
            guest_comments,
            projects: all(
                &conn,
                "SELECT id, name, created_ms FROM projects ORDER BY id",
                |r| {
                    Ok(ProjectRow {
                        id: r.get(0)?,
                        name: r.get(1)?,
                        created_ms: r.get(2)?,
                    })
                },
            )?,
            tokens: all(
                &conn,
                "SELECT id, project_id, name, role, hash, revoked, created_ms FROM tokens \
                 ORDER BY id",
                |r| {
                    Ok(TokenRow {
                        id: r.get(0)?,
                        project_id: r.get(1)?,
                        name: r.get(2)?,
                        role: r.get(3)?,
                        hash: r.get(4)?,
                        revoked: r.get::<_, i64>(5)? != 0,
                        created_ms: r.get(6)?,
                    })
                },
            )?,
            events: all(
                &conn,
                "SELECT project_id, seq, id, json, received_ms, token_id FROM events ORDER BY seq",
                |r| {
                    Ok(EventRow {
                        project_id: r.get(0)?,
                        seq: r.get(1)?,
                        id: r.get(2)?,
                        json: r.get(3)?,
                        received_ms: r.get(4)?,
                        token_id: r.get(5)?,
                    })
                },
            )?,
            subjects: all(&conn, "SELECT project_id, key, owner FROM subjects", |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?,
            sessions: all(
                &conn,
                "SELECT hash, token_id, csrf, created_ms FROM sessions",
                |r| {
                    Ok(SessionRow {
                        hash: r.get(0)?,
                        token_id: r.get(1)?,
                        csrf: r.get(2)?,
                        created_ms: r.get(3)?,
                    })
                },
            )?,
            clip_refs: all(
                &conn,
                "SELECT project_id, hash, bytes FROM clip_refs",
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?,
            version_refs: all(
                &conn,
                "SELECT project_id, hash, bytes FROM version_refs",
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?,
            hooks: super::sqlite_hooks::rows(&conn)?,
            digests: super::sqlite_digests::rows(&conn)?,
        })
    }

    /// The version chunks stored, of complete versions and of uploads cut off alike:
    /// (project id, hash, index), in order.
    ///
    /// # Errors
    /// The database fails.
    pub fn version_chunk_keys(&self) -> Result<Vec<(i64, String, i64)>> {
        let conn = self.conn();
        let mut st = conn.prepare(
            "SELECT project_id, hash, idx FROM version_chunks ORDER BY project_id, hash, idx",
        )?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// One stored version chunk, as stored (one chunk in memory, never its version).
    ///
    /// # Errors
    /// The database fails.
    pub fn version_chunk_row(
        &self,
        project: i64,
        hash: &str,
        index: i64,
    ) -> Result<Option<VersionChunkRow>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT data, size FROM version_chunks \
                 WHERE project_id = ?1 AND hash = ?2 AND idx = ?3",
                params![project, hash, index],
                |r| {
                    Ok(VersionChunkRow {
                        project_id: project,
                        hash: hash.to_owned(),
                        idx: index,
                        data: r.get(0)?,
                        size: r.get(1)?,
                    })
                },
            )
            .optional()?)
    }

    /// The complete versions' records, as stored (who completed each, and when).
    ///
    /// # Errors
    /// The database fails.
    pub fn version_rows(&self) -> Result<Vec<VersionRow>> {
        let conn = self.conn();
        let mut st = conn.prepare(
            "SELECT project_id, hash, size, token_id, received_ms FROM versions \
             ORDER BY project_id, hash",
        )?;
        let rows = st.query_map([], |r| {
            Ok(VersionRow {
                project_id: r.get(0)?,
                hash: r.get(1)?,
                size: r.get(2)?,
                token_id: r.get(3)?,
                received_ms: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The clips stored: (project id, hash).
    ///
    /// # Errors
    /// The database fails.
    pub fn clip_keys(&self) -> Result<Vec<(i64, String)>> {
        let conn = self.conn();
        let mut st =
            conn.prepare("SELECT project_id, hash FROM clips ORDER BY project_id, hash")?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// One stored clip, as stored.
    ///
    /// # Errors
    /// The database fails.
    pub fn clip_row(&self, project: i64, hash: &str) -> Result<Option<ClipRow>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT data, size, token_id, received_ms FROM clips \
                 WHERE project_id = ?1 AND hash = ?2",
                params![project, hash],
                |r| {
                    Ok(ClipRow {
                        project_id: project,
                        hash: hash.to_owned(),
                        data: r.get(0)?,
                        size: r.get(1)?,
                        token_id: r.get(2)?,
                        received_ms: r.get(3)?,
                    })
                },
            )
            .optional()?)
    }

    /// The writing connection (letting go of it nudges the checkpoint thread).
    fn conn(&self) -> checkpoint::Writer<'_> {
        self.writer.lock()
    }

    /// The read-only connection (committed data only; never for a read that must be in a
    /// write's transaction).
    fn reader(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.reader.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn row_token(r: &rusqlite::Row<'_>) -> rusqlite::Result<TokenInfo> {
    Ok(TokenInfo {
        id: r.get(0)?,
        project: Project {
            id: r.get(6)?,
            name: r.get(7)?,
        },
        person: r.get(2)?,
        role: role_of(&r.get::<_, String>(3)?),
        revoked: r.get::<_, i64>(4)? != 0,
        created_ms: r.get(5)?,
    })
}

const TOKEN_SELECT: &str = "SELECT t.id, t.project_id, t.name, t.role, t.revoked, t.created_ms, \
     p.id, p.name, t.hash FROM tokens t JOIN projects p ON p.id = t.project_id";

impl Store for SqliteStore {
    fn location(&self) -> String {
        self.dir.display().to_string()
    }

    fn create_project(&self, name: &str) -> Result<Project> {
        let conn = self.conn();
        match conn.execute(
            "INSERT INTO projects (name, created_ms) VALUES (?1, ?2)",
            params![name, now_ms()],
        ) {
            Ok(_) => Ok(Project {
                id: conn.last_insert_rowid(),
                name: name.to_owned(),
            }),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Err(StoreError::ProjectExists(name.to_owned()))
            }
            Err(e) => Err(e.into()),
        }
    }

    fn project(&self, name: &str) -> Result<Option<Project>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT id, name FROM projects WHERE name = ?1",
                [name],
                |r| {
                    Ok(Project {
                        id: r.get(0)?,
                        name: r.get(1)?,
                    })
                },
            )
            .optional()?)
    }

    fn projects(&self) -> Result<Vec<Project>> {
        let conn = self.conn();
        let mut st = conn.prepare("SELECT id, name FROM projects ORDER BY id")?;
        let rows = st.query_map([], |r| {
            Ok(Project {
                id: r.get(0)?,
                name: r.get(1)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn create_project_with_tokens(
        &self,
        project: &str,
        people: &[(&str, Role)],
        ready: &mut Ready<'_>,
    ) -> Result<Vec<(TokenInfo, String)>> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let now = now_ms();
        // Two servers starting at once on one empty database both try; one makes it.
        if tx.execute(
            "INSERT OR IGNORE INTO projects (name, created_ms) VALUES (?1, ?2)",
            params![project, now],
        )? == 0
        {
            return Err(StoreError::ProjectExists(project.to_owned()));
        }
        let p = Project {
            id: tx.last_insert_rowid(),
            name: project.to_owned(),
        };
        let mut out = Vec::new();
        for (person, role) in people {
            let secret = new_token_secret();
            tx.execute(
                "INSERT INTO tokens (project_id, name, role, hash, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![p.id, person, role.as_str(), hash(&secret), now],
            )?;
            out.push((
                TokenInfo {
                    id: tx.last_insert_rowid(),
                    project: p.clone(),
                    person: (*person).to_owned(),
                    role: *role,
                    revoked: false,
                    created_ms: now,
                },
                secret,
            ));
        }
        ready(&out).map_err(StoreError::Aborted)?;
        tx.commit()?;
        Ok(out)
    }

    fn add_token(&self, project: &str, person: &str, role: Role) -> Result<(TokenInfo, String)> {
        let p = self
            .project(project)?
            .ok_or_else(|| StoreError::NoProject(project.to_owned()))?;
        let secret = new_token_secret();
        let conn = self.conn();
        let created = now_ms();
        conn.execute(
            "INSERT INTO tokens (project_id, name, role, hash, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![p.id, person, role.as_str(), hash(&secret), created],
        )?;
        Ok((
            TokenInfo {
                id: conn.last_insert_rowid(),
                project: p,
                person: person.to_owned(),
                role,
                revoked: false,
                created_ms: created,
            },
            secret,
        ))
    }

    fn tokens(&self) -> Result<Vec<TokenInfo>> {
        let conn = self.conn();
        let mut st = conn.prepare(&format!("{TOKEN_SELECT} ORDER BY t.id"))?;
        let rows = st.query_map([], row_token)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn revoke_token(&self, id: i64) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let n = tx.execute("UPDATE tokens SET revoked = 1 WHERE id = ?1", [id])?;
        if n == 0 {
            return Err(StoreError::NoToken(id));
        }
        // The listening links it made end with it (their guests' sessions too).
        tx.execute(
            "DELETE FROM guest_sessions WHERE link_id IN \
             (SELECT id FROM guest_links WHERE token_id = ?1 AND revoked_ms IS NULL)",
            [id],
        )?;
        tx.execute(
            "UPDATE guest_links SET revoked_ms = ?2 WHERE token_id = ?1 AND revoked_ms IS NULL",
            params![id, now_ms()],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn authenticate(&self, secret: &str) -> Result<Option<TokenInfo>> {
        let want = hash(secret);
        let conn = self.reader();
        let found = conn
            .query_row(&format!("{TOKEN_SELECT} WHERE t.hash = ?1"), [&want], |r| {
                Ok((row_token(r)?, r.get::<_, String>(8)?))
            })
            .optional()?;
        Ok(found.and_then(|(info, stored)| signs_in(info, &stored, &want)))
    }

    fn push_within_limits(
        &self,
        project: &Project,
        token: Option<i64>,
        events: &[Incoming],
    ) -> Result<Vec<PushOutcome>> {
        self.pushes.push(project, token, events)
    }

    fn queue_within_limits(
        &self,
        project: &Project,
        token: Option<i64>,
        events: Vec<Incoming>,
    ) -> group::Answer {
        self.pushes.queue(project, token, events)
    }

    fn create_session(&self, token: i64) -> Result<(String, String)> {
        let (secret, csrf) = (random_secret("lns_"), random_secret(""));
        self.conn().execute(
            "INSERT INTO sessions (hash, token_id, csrf, created_ms) VALUES (?1, ?2, ?3, ?4)",
            params![hash(&secret), token, csrf, now_ms()],
        )?;
        Ok((secret, csrf))
    }

    fn session(&self, secret: &str) -> Result<Option<(TokenInfo, String)>> {
        let conn = self.conn();
        let found = conn
            .query_row(
                &format!(
                    "{TOKEN_SELECT} JOIN sessions s ON s.token_id = t.id \
                     WHERE s.hash = ?1 AND s.created_ms > ?2"
                ),
                params![hash(secret), sessions_since()],
                row_token,
            )
            .optional()?;
        let Some(info) = found.filter(|t| !t.revoked) else {
            return Ok(None);
        };
        let csrf: String = conn.query_row(
            "SELECT csrf FROM sessions WHERE hash = ?1",
            [hash(secret)],
            |r| r.get(0),
        )?;
        Ok(Some((info, csrf)))
    }

    fn end_session(&self, secret: &str) -> Result<()> {
        self.conn()
            .execute("DELETE FROM sessions WHERE hash = ?1", [hash(secret)])?;
        Ok(())
    }

    fn create_link(&self, new: &guests_::NewLink) -> Result<(guests_::GuestLink, String)> {
        self.guest_create_link(new)
    }

    fn links(&self, project: &Project) -> Result<Vec<guests_::GuestLink>> {
        self.guest_links(project)
    }

    fn link(&self, secret: &str) -> Result<Option<guests_::GuestLink>> {
        self.guest_link(secret)
    }

    fn link_used(&self, link: i64) -> Result<()> {
        self.guest_link_used(link)
    }

    fn revoke_link(&self, project: &Project, link: i64) -> Result<bool> {
        self.guest_revoke_link(project, link)
    }

    fn create_guest_session(&self, link: i64) -> Result<String> {
        self.guest_create_session(link)
    }

    fn guest_session(&self, secret: &str) -> Result<Option<i64>> {
        self.guest_session_link(secret)
    }

    fn hold_comment(&self, comment: &guests_::NewComment) -> Result<bool> {
        self.guest_hold_comment(comment)
    }

    fn held_comments(&self, project: &Project) -> Result<Vec<guests_::HeldComment>> {
        self.guest_held_comments(project)
    }

    fn settle_comment(
        &self,
        project: &Project,
        comment: i64,
        settle: guests_::Fate,
    ) -> Result<Option<guests_::HeldComment>> {
        self.guest_settle_comment(project, comment, settle)
    }

    fn unsettle_comment(&self, comment: i64) -> Result<()> {
        self.guest_unsettle_comment(comment)
    }

    fn receipts(&self, project: &Project, since_ms: Option<i64>) -> Result<Vec<Receipt>> {
        let conn = self.conn();
        let mut st = conn.prepare_cached(
            "SELECT e.seq, e.id, e.json, e.received_ms, t.id, t.name, t.role, t.revoked, \
             t.created_ms FROM events e LEFT JOIN tokens t ON t.id = e.token_id \
             WHERE e.project_id = ?1 AND e.received_ms >= ?2 ORDER BY e.seq",
        )?;
        let rows = st.query_map(params![project.id, since_ms.unwrap_or(i64::MIN)], |r| {
            let json: String = r.get(2)?;
            let token = match r.get::<_, Option<i64>>(4)? {
                Some(id) => Some(TokenInfo {
                    id,
                    project: project.clone(),
                    person: r.get(5)?,
                    role: role_of(&r.get::<_, String>(6)?),
                    revoked: r.get::<_, i64>(7)? != 0,
                    created_ms: r.get(8)?,
                }),
                None => None,
            };
            Ok(receipt(
                r.get(0)?,
                &r.get::<_, String>(1)?,
                &json,
                r.get(3)?,
                token,
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn put_clip(
        &self,
        project: &Project,
        token: Option<i64>,
        hash: &ClipHash,
        bytes: &[u8],
        quota: u64,
    ) -> Result<ClipPut> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let facts = clip_facts(&tx, project, hash)?;
        if let Some(answer) = clip_refusal(&facts, bytes.len() as u64, quota) {
            return Ok(answer);
        }
        tx.execute(
            "INSERT INTO clips (project_id, hash, data, size, token_id, received_ms) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                project.id,
                hash.as_str(),
                bytes,
                bytes.len() as i64,
                token,
                now_ms()
            ],
        )?;
        tx.commit()?;
        Ok(ClipPut::Stored)
    }

    fn clip_facts(&self, project: &Project, hash: &ClipHash) -> Result<ClipFacts> {
        clip_facts(&self.conn(), project, hash)
    }

    fn clip_hashes(&self, project: &Project) -> Result<Vec<String>> {
        let conn = self.conn();
        let mut st = conn.prepare("SELECT hash FROM clips WHERE project_id = ?1 ORDER BY hash")?;
        let rows = st.query_map([project.id], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn note_backup(&self, note: &BackupNote) -> Result<()> {
        self.conn().execute(
            "INSERT INTO backups (at_ms, bytes, events) VALUES (?1, ?2, ?3)",
            params![note.at_ms, note.bytes as i64, note.events as i64],
        )?;
        Ok(())
    }

    fn last_backup(&self) -> Result<Option<BackupNote>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT at_ms, bytes, events FROM backups ORDER BY at_ms DESC LIMIT 1",
                [],
                |r| {
                    Ok(BackupNote {
                        at_ms: r.get(0)?,
                        bytes: r.get::<_, i64>(1)? as u64,
                        events: r.get::<_, i64>(2)? as u64,
                    })
                },
            )
            .optional()?)
    }

    fn clip(&self, project: &Project, hash: &ClipHash) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT data FROM clips WHERE project_id = ?1 AND hash = ?2",
                params![project.id, hash.as_str()],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn clip_size(&self, project: &Project, hash: &ClipHash) -> Result<Option<u64>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT size FROM clips WHERE project_id = ?1 AND hash = ?2",
                params![project.id, hash.as_str()],
                |r| r.get::<_, i64>(0),
            )
            .optional()?
            .map(|n| n as u64))
    }

    fn clip_range(
        &self,
        project: &Project,
        hash: &ClipHash,
        first: u64,
        len: u64,
    ) -> Result<Option<Vec<u8>>> {
        let conn = self.conn();
        let row: Option<i64> = conn
            .query_row(
                "SELECT rowid FROM clips WHERE project_id = ?1 AND hash = ?2",
                params![project.id, hash.as_str()],
                |r| r.get(0),
            )
            .optional()?;
        let Some(row) = row else {
            return Ok(None);
        };
        // Incremental blob I/O: only the pages holding the range are read into memory.
        let blob = conn.blob_open(rusqlite::DatabaseName::Main, "clips", "data", row, true)?;
        let size = blob.len() as u64;
        let first = first.min(size);
        let mut out = vec![0u8; len.min(size - first) as usize];
        blob.read_at_exact(&mut out, first as usize)?;
        Ok(Some(out))
    }

    fn clip_usage(&self, project: &Project) -> Result<u64> {
        let used: i64 = self.conn().query_row(
            "SELECT COALESCE(SUM(size), 0) FROM clips WHERE project_id = ?1",
            [project.id],
            |r| r.get(0),
        )?;
        Ok(used as u64)
    }

    fn version_facts(&self, project: &Project, hash: &ClipHash) -> Result<VersionFacts> {
        version_facts(&self.conn(), project, hash)
    }

    fn put_version_chunk(
        &self,
        project: &Project,
        hash: &ClipHash,
        index: u64,
        bytes: &[u8],
        quota: u64,
    ) -> Result<ChunkPut> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let facts = version_facts(&tx, project, hash)?;
        if let Some(answer) = chunk_refusal(&facts, index, bytes.len() as u64, quota) {
            return Ok(answer);
        }
        tx.execute(
            "INSERT INTO version_chunks (project_id, hash, idx, data, size) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                project.id,
                hash.as_str(),
                index as i64,
                bytes,
                bytes.len() as i64
            ],
        )?;
        tx.commit()?;
        Ok(ChunkPut::Stored)
    }

    fn version_chunk(
        &self,
        project: &Project,
        hash: &ClipHash,
        index: u64,
    ) -> Result<Option<Vec<u8>>> {
        self.chunks_read
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(self
            .conn()
            .query_row(
                "SELECT data FROM version_chunks WHERE project_id = ?1 AND hash = ?2 AND idx = ?3",
                params![project.id, hash.as_str(), index as i64],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn chunks_read(&self) -> u64 {
        self.chunks_read.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn complete_version(
        &self,
        project: &Project,
        token: Option<i64>,
        hash: &ClipHash,
        size: u64,
    ) -> Result<()> {
        self.conn().execute(
            "INSERT OR IGNORE INTO versions (project_id, hash, size, token_id, received_ms) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![project.id, hash.as_str(), size as i64, token, now_ms()],
        )?;
        Ok(())
    }

    fn drop_version_chunks(&self, project: &Project, hash: &ClipHash) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        // A version already complete keeps its chunks.
        tx.execute(
            "DELETE FROM version_chunks WHERE project_id = ?1 AND hash = ?2 \
             AND NOT EXISTS (SELECT 1 FROM versions WHERE project_id = ?1 AND hash = ?2)",
            params![project.id, hash.as_str()],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn version_hashes(&self, project: &Project) -> Result<Vec<String>> {
        let conn = self.conn();
        let mut st =
            conn.prepare("SELECT hash FROM versions WHERE project_id = ?1 ORDER BY hash")?;
        let rows = st.query_map([project.id], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn add_hook(&self, project: &Project, url: &str, events: &str) -> Result<Hook> {
        sqlite_hooks::add(&self.conn(), project, url, events)
    }

    fn hooks(&self) -> Result<Vec<Hook>> {
        sqlite_hooks::all(&self.conn())
    }

    fn remove_hook(&self, id: i64) -> Result<()> {
        sqlite_hooks::remove(&self.conn(), id)
    }

    fn claim_hook(&self, id: i64, owner: &str, now_ms: i64, lease_ms: i64) -> Result<Option<Hook>> {
        sqlite_hooks::claim(&self.conn(), id, owner, now_ms, lease_ms)
    }

    fn settle_hook(
        &self,
        id: i64,
        owner: &str,
        cursor: u64,
        next: Settle,
        lease_ms: i64,
        attempt: Option<&Attempt>,
    ) -> Result<bool> {
        sqlite_hooks::settle(&mut self.conn(), id, owner, cursor, next, lease_ms, attempt)
    }

    fn release_hook(&self, id: i64, owner: &str) -> Result<()> {
        sqlite_hooks::release(&self.conn(), id, owner)
    }

    fn hook_log(
        &self,
        project: Option<i64>,
        hook: Option<i64>,
        limit: usize,
    ) -> Result<Vec<Attempt>> {
        sqlite_hooks::log_rows(&self.conn(), project, hook, limit)
    }

    fn event_by_id(&self, project: &Project, id: Uuid) -> Result<Option<(u64, String)>> {
        sqlite_hooks::event_by_id(&self.conn(), project, id)
    }

    fn digest_prefs(&self, project: &Project, person: &str) -> Result<Option<DigestPrefs>> {
        sqlite_digests::prefs(&self.conn(), project, person)
    }

    fn all_digest_prefs(&self) -> Result<Vec<DigestPrefs>> {
        sqlite_digests::all(&self.conn())
    }

    fn record_look(&self, project: &Project, person: &str, role: Role, at_ms: i64) -> Result<()> {
        sqlite_digests::look(&self.conn(), project, person, role, at_ms)
    }

    fn new_feed(&self, project: &Project, person: &str, role: Role) -> Result<String> {
        sqlite_digests::new_feed(&self.conn(), project, person, role)
    }

    fn end_feed(&self, project: &Project, person: &str) -> Result<()> {
        sqlite_digests::end_feed(&self.conn(), project, person)
    }

    fn feed(&self, secret: &str) -> Result<Option<DigestPrefs>> {
        sqlite_digests::feed(&self.conn(), secret)
    }

    fn set_mail(
        &self,
        project: &Project,
        person: &str,
        role: Role,
        to: Option<&str>,
        every: Option<Every>,
    ) -> Result<()> {
        sqlite_digests::set_mail(&self.conn(), project, person, role, to, every)
    }

    fn move_mailed(
        &self,
        project_id: i64,
        person: &str,
        from: Option<i64>,
        to: Option<i64>,
    ) -> Result<bool> {
        sqlite_digests::move_mailed(&self.conn(), project_id, person, from, to)
    }

    fn pull(&self, project: &Project, after: u64, limit: usize) -> Result<Vec<(u64, String)>> {
        let conn = self.reader();
        let mut st = conn.prepare_cached(
            "SELECT seq, json FROM events WHERE project_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
        )?;
        let rows = st.query_map(params![project.id, after as i64, limit as i64], |r| {
            Ok((r.get::<_, i64>(0)? as u64, r.get(1)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// The clip facts of `project` as `conn` (a transaction, or not) sees them.
fn clip_facts(conn: &Connection, project: &Project, hash: &ClipHash) -> Result<ClipFacts> {
    let expected: Option<i64> = conn
        .query_row(
            "SELECT bytes FROM clip_refs WHERE project_id = ?1 AND hash = ?2",
            params![project.id, hash.as_str()],
            |r| r.get(0),
        )
        .optional()?;
    let stored = conn
        .query_row(
            "SELECT 1 FROM clips WHERE project_id = ?1 AND hash = ?2",
            params![project.id, hash.as_str()],
            |_| Ok(()),
        )
        .optional()?
        .is_some();
    let used: i64 = conn.query_row(USED, [project.id], |r| r.get(0))?;
    Ok(ClipFacts {
        expected: expected.map(|b| b as u64),
        stored,
        used: used as u64,
    })
}

/// The version facts of `project` as `conn` (a transaction, or not) sees them.
fn version_facts(conn: &Connection, project: &Project, hash: &ClipHash) -> Result<VersionFacts> {
    let key = params![project.id, hash.as_str()];
    let expected: Option<i64> = conn
        .query_row(
            "SELECT bytes FROM version_refs WHERE project_id = ?1 AND hash = ?2",
            key,
            |r| r.get(0),
        )
        .optional()?;
    let have = {
        let mut st = conn.prepare_cached(
            "SELECT idx FROM version_chunks WHERE project_id = ?1 AND hash = ?2 ORDER BY idx",
        )?;
        let rows = st.query_map(key, |r| r.get::<_, i64>(0).map(|i| i as u64))?;
        rows.collect::<rusqlite::Result<Vec<u64>>>()?
    };
    let complete = conn
        .query_row(
            "SELECT 1 FROM versions WHERE project_id = ?1 AND hash = ?2",
            key,
            |_| Ok(()),
        )
        .optional()?
        .is_some();
    let used: i64 = conn.query_row(USED, [project.id], |r| r.get(0))?;
    Ok(VersionFacts {
        expected: expected.map(|b| b as u64),
        have,
        complete,
        used: used as u64,
    })
}

/// What `PRAGMA integrity_check` reports on `conn`, less its "ok".
pub(crate) fn integrity(conn: &Connection) -> Result<Vec<String>> {
    let mut st = conn.prepare("PRAGMA integrity_check")?;
    let rows = st.query_map([], |r| r.get::<_, String>(0))?;
    Ok(rows
        .collect::<rusqlite::Result<Vec<String>>>()?
        .into_iter()
        .filter(|r| r != "ok")
        .collect())
}

//! PostgreSQL: the record of many projects in one database that several `liner serve`
//! processes share.
//!
//! Guarantees, and how:
//! - Each process writes the pushes it takes in groups, one transaction per group whatever
//!   their projects (`push`, group commit).
//! - Sequence numbers of a project are given out under a lock on the project's row (its
//!   `last_seq`), held until the group commits. So they come without gaps, in commit order:
//!   a reader who sees number n has every number below it, and never skips an event that
//!   commits later with a lower one.
//! - Every group that stores something sends `NOTIFY liner_events, 'project:last_seq'` for
//!   each project it changed, right after its commit. Each server process listens
//!   ([`PgStore::watch_others`]) and wakes its long polls and live pages, whichever process
//!   took the push. A notice can still be lost
//!   (its sender died between commit and notice, or the listening connection broke), so the
//!   listener also reads every project's latest number each [`CATCH_UP`]: a wake-up is then
//!   late, never lost. Reading it on the listening connection is also its health check.
//! - Calls are synchronous, like the trait: each runs on the store's own small tokio runtime
//!   (the driver is async) and the caller waits for it, from a blocking thread. A request's
//!   push is the exception ([`Store::push_queued`]): it is queued for the writer and its
//!   task awaits the answer.

mod guests;
mod push;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use futures_util::TryFutureExt;
use std::collections::HashSet;
use std::future::Future;
use std::sync::Weak;
use std::time::Duration;
use tokio_postgres::{NoTls, Row};

use super::copy::{ClipRow, Dump, Loaded, VersionChunkRow, VersionLoad, VersionRow};
use super::guests as guests_;
use super::shared::{
    chunk_refusal, clip_refusal, event_columns, hash, is_subject_key, new_token_secret, now_ms,
    random_secret, receipt, role_of, sessions_since, signs_in, ClipFacts,
};
use super::*;
use liner_record::clips::ClipHash;
use liner_record::Role;

/// Schema changes, in order. Never edit one; add a new one. The first is the schema the
/// SQLite store reached in its four, with per-project sequence numbers, made lighter for many
/// pushes at once: whether an event may be judged or have a clip (and whose it is) is on its
/// row, not a subject row each, so `subjects` holds only what is claimed (since migration 9
/// only takes, marks and changes requests: a note, version or reply is its event's); and
/// the two tables every push writes to carry no foreign keys (a check per row was a third of
/// the database's work; their project and token are the ones the push was
/// authenticated against, and projects and tokens are never deleted).
const MIGRATIONS: &[&str] = &[
    // 1: projects (with the last sequence number given out), tokens, events, who owns what,
    // review page sessions, clips.
    "CREATE TABLE projects (
        id BIGSERIAL PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        created_ms BIGINT NOT NULL,
        last_seq BIGINT NOT NULL DEFAULT 0
    );
    CREATE TABLE tokens (
        id BIGSERIAL PRIMARY KEY,
        project_id BIGINT NOT NULL REFERENCES projects(id),
        name TEXT NOT NULL,
        role TEXT NOT NULL,
        hash TEXT NOT NULL UNIQUE,
        revoked BOOLEAN NOT NULL DEFAULT FALSE,
        created_ms BIGINT NOT NULL
    );
    CREATE TABLE events (
        project_id BIGINT NOT NULL,
        seq BIGINT NOT NULL,
        id TEXT NOT NULL,
        json TEXT NOT NULL,
        received_ms BIGINT NOT NULL,
        token_id BIGINT,
        author TEXT NOT NULL,
        judgeable BOOLEAN NOT NULL,
        clippable BOOLEAN NOT NULL,
        PRIMARY KEY (project_id, seq),
        UNIQUE (project_id, id)
    );
    CREATE TABLE subjects (
        project_id BIGINT NOT NULL,
        key TEXT NOT NULL,
        owner TEXT NOT NULL,
        PRIMARY KEY (project_id, key)
    );
    CREATE TABLE sessions (
        hash TEXT PRIMARY KEY,
        token_id BIGINT NOT NULL REFERENCES tokens(id),
        csrf TEXT NOT NULL,
        created_ms BIGINT NOT NULL
    );
    CREATE TABLE clip_refs (
        project_id BIGINT NOT NULL REFERENCES projects(id),
        hash TEXT NOT NULL,
        bytes BIGINT NOT NULL,
        PRIMARY KEY (project_id, hash)
    );
    CREATE TABLE clips (
        project_id BIGINT NOT NULL REFERENCES projects(id),
        hash TEXT NOT NULL,
        data BYTEA NOT NULL,
        size BIGINT NOT NULL,
        token_id BIGINT REFERENCES tokens(id),
        received_ms BIGINT NOT NULL,
        PRIMARY KEY (project_id, hash)
    );",
    // The backups of the record (none is made by `liner` on PostgreSQL: pg_dump does it).
    "CREATE TABLE backups (
        at_ms BIGINT NOT NULL,
        bytes BIGINT NOT NULL,
        events BIGINT NOT NULL
    );",
    // 3: versions: what `version_printed` events name (hash and size; those stored before
    // are read from their lines), their chunks as they arrive (resumable uploads), and the
    // versions whose whole matched their hash.
    "CREATE TABLE version_refs (
        project_id BIGINT NOT NULL REFERENCES projects(id),
        hash TEXT NOT NULL,
        bytes BIGINT NOT NULL,
        PRIMARY KEY (project_id, hash)
    );
    CREATE TABLE version_chunks (
        project_id BIGINT NOT NULL REFERENCES projects(id),
        hash TEXT NOT NULL,
        idx BIGINT NOT NULL,
        data BYTEA NOT NULL,
        size BIGINT NOT NULL,
        PRIMARY KEY (project_id, hash, idx)
    );
    ALTER TABLE version_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
    CREATE TABLE versions (
        project_id BIGINT NOT NULL REFERENCES projects(id),
        hash TEXT NOT NULL,
        size BIGINT NOT NULL,
        token_id BIGINT REFERENCES tokens(id),
        received_ms BIGINT NOT NULL,
        PRIMARY KEY (project_id, hash)
    );
    INSERT INTO version_refs (project_id, hash, bytes)
        SELECT project_id, j->'body'->'version'->>'hash',
               (j->'body'->'version'->>'bytes')::BIGINT
        FROM (SELECT project_id, json::jsonb AS j FROM events
              WHERE json LIKE '%\"kind\":\"version_printed\"%') AS printed
        WHERE j->'body'->'version'->>'hash' IS NOT NULL
    ON CONFLICT DO NOTHING;",
    // 4: the quota's sum from indexes alone (index-only scans), as on SQLite.
    "CREATE INDEX clips_size ON clips(project_id, size);
    CREATE INDEX version_chunks_size ON version_chunks(project_id, size);",
    // 5: webhooks and their delivery log, as on SQLite (its migration 8).
    "CREATE TABLE hooks (
        id BIGSERIAL PRIMARY KEY,
        project_id BIGINT NOT NULL REFERENCES projects(id),
        url TEXT NOT NULL,
        events TEXT NOT NULL,
        secret TEXT NOT NULL,
        created_ms BIGINT NOT NULL,
        cursor BIGINT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_ms BIGINT NOT NULL DEFAULT 0,
        lease_owner TEXT,
        lease_ms BIGINT NOT NULL DEFAULT 0
    );
    CREATE TABLE hook_log (
        id BIGSERIAL PRIMARY KEY,
        hook_id BIGINT NOT NULL,
        project_id BIGINT NOT NULL,
        at_ms BIGINT NOT NULL,
        seq BIGINT NOT NULL,
        event_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        delivery TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        status INTEGER,
        error TEXT,
        retry_ms BIGINT,
        gave_up BOOLEAN NOT NULL
    );
    CREATE INDEX hook_log_by_hook ON hook_log(hook_id, id);
    CREATE INDEX hook_log_by_project ON hook_log(project_id, id);",
    // 6: the executive's changes requests stored so far, which a done may now answer
    // (`shared::changes_key`; new ones are recorded as they are stored).
    "INSERT INTO subjects (project_id, key, owner)
        SELECT project_id, 'changes:' || (j->>'id') || ':' || (j->'body'->>'target'), j->>'author'
        FROM (SELECT project_id, json::jsonb AS j FROM events
              WHERE json LIKE '%\"kind\":\"verdict\"%') AS verdicts
        WHERE j->>'kind' = 'verdict' AND j->>'role' = 'executive'
          AND j->'body'->>'verdict' = 'changes_requested' AND j->'body'->>'target' IS NOT NULL
    ON CONFLICT DO NOTHING;",
    // 7: each person's digest per project, as on SQLite (its migration 10).
    "CREATE TABLE digests (
        project_id BIGINT NOT NULL REFERENCES projects(id),
        person TEXT NOT NULL,
        role TEXT NOT NULL,
        last_look_ms BIGINT,
        feed_hash TEXT UNIQUE,
        mail_to TEXT,
        mail_every TEXT,
        mailed_ms BIGINT,
        PRIMARY KEY (project_id, person)
    );",
    // 8: listening links, guests' sessions and held comments, as SQLite's schema 11.
    guests::MIGRATION,
    // 9: a note's, version's or reply's owner is read from the row of the event that made
    // it, as on SQLite (its migration 13).
    "DELETE FROM subjects
        WHERE key LIKE 'note:%' OR key LIKE 'version:%' OR key LIKE 'reply:%';",
    // 10: versions printed before verdicts could judge one (their rows were stored with
    // `judgeable` false) are judged as the rules say now, as on SQLite, which reads the line.
    // A line that is no JSON is left as it is (it owns nothing and is judged by nothing).
    "DO $$
    DECLARE r RECORD;
    BEGIN
        FOR r IN SELECT project_id, seq, json FROM events
                 WHERE NOT judgeable AND json LIKE '%\"kind\":\"version_printed\"%'
        LOOP
            BEGIN
                IF (r.json::jsonb ->> 'kind') = 'version_printed' THEN
                    UPDATE events SET judgeable = TRUE
                        WHERE project_id = r.project_id AND seq = r.seq;
                END IF;
            EXCEPTION WHEN invalid_text_representation THEN NULL;
            END;
        END LOOP;
    END $$;",
];

/// Records the versions the stored `version_printed` events name, read from their lines
/// (what migration 3 did for the events stored before it): run by [`PgStore::load`] too, so
/// every copied event's version can be judged here, whatever the copied references held.
const VERSION_REFS_FROM_EVENTS: &str = "INSERT INTO version_refs (project_id, hash, bytes)
        SELECT project_id, j->'body'->'version'->>'hash',
               (j->'body'->'version'->>'bytes')::BIGINT
        FROM (SELECT project_id, json::jsonb AS j FROM events
              WHERE json LIKE '%\"kind\":\"version_printed\"%') AS printed
        WHERE j->'body'->'version'->>'hash' IS NOT NULL
    ON CONFLICT DO NOTHING";

/// The bytes of clips and version chunks project `$1` holds: one quota covers both.
const USED: &str = "SELECT ((SELECT COALESCE(SUM(size), 0) FROM clips WHERE project_id = $1) \
     + (SELECT COALESCE(SUM(size), 0) FROM version_chunks WHERE project_id = $1))::BIGINT";

/// Bytes of a version chunk read from PostgreSQL at a time ([`Store::version_chunk`]).
const PG_SLICE: i32 = 128 * 1024;

/// Where stored events are announced: the payload is `project id:last sequence number`.
const CHANNEL: &str = "liner_events";
/// The advisory lock processes starting at once take to migrate one at a time.
const MIGRATION_LOCK: i64 = 0x6c69_6e65_7200;
/// The class of the per-project advisory lock a clip upload takes (the quota is per project).
const CLIP_LOCK: i32 = 0x6c6e_6300;
/// How often a listener reads every project's latest number (see the module's guarantees).
const CATCH_UP: Duration = Duration::from_secs(2);
/// How long that read may take before the listening connection counts as broken.
const CATCH_UP_WAIT: Duration = Duration::from_secs(5);
/// Connections each process keeps at most.
const POOL_SIZE: usize = 16;
/// How long a call waits for a connection before it fails (the database is down or every
/// connection is busy).
const CONNECT_WAIT: Duration = Duration::from_secs(10);

pub struct PgStore {
    pool: Pool,
    config: tokio_postgres::Config,
    /// Runs the driver. An `Option` only so it can be let go without blocking in `Drop`.
    rt: Option<tokio::runtime::Runtime>,
    location: String,
    /// Version chunks read ([`Store::chunks_read`]).
    chunks_read: std::sync::atomic::AtomicU64,
    /// This process's writer of pushes ([`push`]).
    pushes: push::Writer,
}

impl PgStore {
    /// The schema's migrations in order (the first `k` made the database of the release at
    /// schema `k`): for the tests that upgrade a record from every earlier schema.
    pub fn migrations() -> &'static [&'static str] {
        MIGRATIONS
    }

    /// Connects to the database at `url` (`postgres://user:password@host:port/db`, or
    /// `host=... dbname=...`) and applies its migrations (one process at a time).
    ///
    /// # Errors
    /// The address does not parse, the database cannot be reached, or a migration fails.
    ///
    /// # Panics
    /// When the store's runtime cannot start (the system is out of threads).
    pub fn open(url: &str) -> Result<PgStore> {
        // The address is not said back: it may hold a password.
        let mut config: tokio_postgres::Config = url.parse().map_err(|e| {
            StoreError::Connect(format!(
                "the database address is not one PostgreSQL reads (postgres://USER:PASSWORD@\
                 HOST:PORT/DATABASE): {e}"
            ))
        })?;
        // A stalled holder of a project's lock (a frozen server, a network partition) must
        // not hold every push to that project on every server: it is cut off, the waiting
        // push fails and its client sends again. A dead peer is noticed within a minute.
        let options = format!(
            "{} -c lock_timeout=10s -c idle_in_transaction_session_timeout=60s",
            config.get_options().unwrap_or("")
        );
        config
            .options(options.trim())
            .keepalives_idle(Duration::from_secs(30));
        let location = describe_config(&config);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("liner-postgres")
            .enable_all()
            .build()
            .expect("a tokio runtime for PostgreSQL");
        let manager = Manager::from_config(
            config.clone(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(CONNECT_WAIT))
            .create_timeout(Some(CONNECT_WAIT))
            .build()
            .map_err(|e| StoreError::Connect(e.to_string()))?;
        let store = PgStore {
            pushes: push::Writer::start(&rt, pool.clone()),
            pool,
            config,
            rt: Some(rt),
            location,
            chunks_read: std::sync::atomic::AtomicU64::new(0),
        };
        let pool = store.pool.clone();
        store.run(async move { migrate(&pool).await })?;
        Ok(store)
    }

    fn rt(&self) -> &tokio::runtime::Runtime {
        self.rt
            .as_ref()
            .expect("the runtime lives as long as the store")
    }

    /// Runs `f` on the store's runtime and waits for it. Any thread may call it (a blocking
    /// task, a command's main thread); it never nests runtimes.
    fn run<T: Send + 'static>(
        &self,
        f: impl Future<Output = Result<T>> + Send + 'static,
    ) -> Result<T> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.rt().spawn(async move {
            let _ = tx.send(f.await);
        });
        rx.recv()
            .unwrap_or_else(|_| Err(StoreError::Connect("the database call was cut off".into())))
    }

    /// Runs `f` with a pooled connection.
    fn with<T, F, Fut>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(deadpool_postgres::Object) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T>> + Send,
    {
        let pool = self.pool.clone();
        self.run(async move { f(connect(&pool).await?).await })
    }

    /// Copies a record dumped from SQLite ([`SqliteStore::dump`]) into this database, keeping
    /// every id and sequence number, in one transaction. Rows already here are skipped, so a
    /// second run changes nothing; a row here that differs from the dump's (another record
    /// in this database) stops it with nothing written. Clips follow with [`Self::load_clip`].
    ///
    /// The dump's projects' rows are locked once they are there, before anything is copied
    /// into them, as a push locks its project's row: on a database being served, pushes to
    /// those projects wait for the copy (and are numbered after it) rather than writing
    /// beside it, and other projects are not touched.
    ///
    /// # Errors
    /// The database fails, or holds another record under the same ids.
    pub fn load(&self, dump: Dump) -> Result<Loaded> {
        self.with(move |mut c| async move {
            let tx = c.transaction().await?;
            let projects = load_projects(&tx, &dump).await?;
            let ids: Vec<i64> = dump.projects.iter().map(|p| p.id).collect();
            tx.query(
                "SELECT id FROM projects WHERE id = ANY($1) ORDER BY id FOR UPDATE",
                &[&ids],
            )
            .await?;
            let loaded = Loaded {
                projects,
                tokens: load_tokens(&tx, &dump).await?,
                events: load_events(&tx, &dump).await?,
            };
            load_the_rest(&tx, &dump, &ids).await?;
            postgres_hooks::load(&tx, &dump.hooks).await?;
            postgres_digests::load(&tx, &dump.digests).await?;
            tx.commit().await?;
            Ok(loaded)
        })
    }

    /// Copies one clip (see [`Self::load`]); false when it was here already.
    ///
    /// # Errors
    /// The database fails.
    pub fn load_clip(&self, clip: ClipRow) -> Result<bool> {
        self.with(move |c| async move {
            let n = c
                .execute(
                    "INSERT INTO clips (project_id, hash, data, size, token_id, received_ms) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                    &[
                        &clip.project_id,
                        &clip.hash,
                        &clip.data,
                        &clip.size,
                        &clip.token_id,
                        &clip.received_ms,
                    ],
                )
                .await?;
            Ok(n == 1)
        })
    }

    /// The version chunks here: (project id, hash, index). A copy reads from SQLite only the
    /// chunks missing here.
    ///
    /// # Errors
    /// The database fails.
    pub fn version_chunk_keys(&self) -> Result<HashSet<(i64, String, i64)>> {
        self.with(move |c| async move {
            Ok(
                c.query("SELECT project_id, hash, idx FROM version_chunks", &[])
                    .await?
                    .iter()
                    .map(|r| (r.get(0), r.get(1), r.get(2)))
                    .collect(),
            )
        })
    }

    /// Copies one version chunk as stored (see [`Self::load`]); false when it was here
    /// already. Outside the quota, as clips are copied: the record had taken it.
    ///
    /// # Errors
    /// The database fails.
    pub fn load_version_chunk(&self, chunk: VersionChunkRow) -> Result<bool> {
        self.with(move |c| async move {
            let n = c
                .execute(
                    "INSERT INTO version_chunks (project_id, hash, idx, data, size) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                    &[
                        &chunk.project_id,
                        &chunk.hash,
                        &chunk.idx,
                        &chunk.data,
                        &chunk.size,
                    ],
                )
                .await?;
            Ok(n == 1)
        })
    }

    /// Copies a complete version's record as stored (its token and time), only once every
    /// chunk of it is here: a version marked complete is served, so it must be whole.
    ///
    /// # Errors
    /// The database fails.
    pub fn load_version(&self, v: VersionRow) -> Result<VersionLoad> {
        let chunks = liner_record::versions::chunks_of(u64::try_from(v.size).unwrap_or(0)) as i64;
        self.with(move |c| async move {
            let n = c
                .execute(
                    "INSERT INTO versions (project_id, hash, size, token_id, received_ms) \
                     SELECT $1::BIGINT, $2::TEXT, $3::BIGINT, $4::BIGINT, $5::BIGINT \
                     WHERE (SELECT COUNT(*) FROM version_chunks \
                            WHERE project_id = $1 AND hash = $2) = $6 \
                     ON CONFLICT DO NOTHING",
                    &[
                        &v.project_id,
                        &v.hash,
                        &v.size,
                        &v.token_id,
                        &v.received_ms,
                        &chunks,
                    ],
                )
                .await?;
            if n == 1 {
                return Ok(VersionLoad::Copied);
            }
            let there = c
                .query_opt(
                    "SELECT 1 FROM versions WHERE project_id = $1 AND hash = $2",
                    &[&v.project_id, &v.hash],
                )
                .await?;
            Ok(if there.is_some() {
                VersionLoad::There
            } else {
                VersionLoad::HeldBack
            })
        })
    }
}

/// A pooled connection inside a transaction begun by hand: it goes back to the pool only once
/// the transaction ended ([`InTransaction::ended`]). Dropped before (an error, a panic in a
/// caller's step), it is closed instead, so the next user of the pool never finds itself in
/// this transaction.
struct InTransaction(Option<deadpool_postgres::Object>);

impl InTransaction {
    fn ended(&mut self) {
        drop(self.0.take());
    }
}

impl std::ops::Deref for InTransaction {
    type Target = deadpool_postgres::Object;

    fn deref(&self) -> &Self::Target {
        self.0
            .as_ref()
            .expect("the connection until the transaction ends")
    }
}

impl Drop for InTransaction {
    fn drop(&mut self) {
        if let Some(c) = self.0.take() {
            drop(deadpool_postgres::Object::take(c));
        }
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        // Dropping a runtime blocks, which panics on an async thread (the last owner of the
        // store may be a server task); letting it go in the background never does.
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

fn elsewhere(what: String) -> StoreError {
    StoreError::Aborted(format!(
        "this database already holds another {what}: it is not this record's copy; \
         migrate into a database of its own"
    ))
}

async fn connect(pool: &Pool) -> Result<deadpool_postgres::Object> {
    pool.get()
        .await
        .map_err(|e| StoreError::Connect(e.to_string()))
}

/// Applies the migrations not yet applied, one process at a time.
async fn migrate(pool: &Pool) -> Result<()> {
    let mut c = connect(pool).await?;
    let tx = c.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    // "already exists, skipping" is no news.
    tx.batch_execute("SET LOCAL client_min_messages = warning")
        .await?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY)")
        .await?;
    let done: i64 = tx
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            &[],
        )
        .await?
        .get(0);
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(done as usize) {
        tx.batch_execute(sql).await?;
        tx.execute(
            "INSERT INTO schema_migrations (version) VALUES ($1)",
            &[&(i as i64 + 1)],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// `postgres://user@host:port/db`: where the record is, for people (never the password).
fn describe_config(config: &tokio_postgres::Config) -> String {
    use tokio_postgres::config::Host;
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, h)| {
            // One port given is every host's.
            let ports = config.get_ports();
            (h, ports.get(i).or(ports.first()).copied().unwrap_or(5432))
        })
        .map(|(h, port)| match h {
            Host::Tcp(name) => format!("{name}:{port}"),
            #[cfg(unix)]
            Host::Unix(path) => format!("{}:{port}", path.display()),
        })
        .collect();
    format!(
        "postgres://{}@{}/{}",
        config.get_user().unwrap_or(""),
        hosts.join(","),
        config.get_dbname().unwrap_or("")
    )
}

fn row_token(r: &Row, project: Project) -> TokenInfo {
    TokenInfo {
        id: r.get("id"),
        project,
        person: r.get("name"),
        role: role_of(&r.get::<_, String>("role")),
        revoked: r.get("revoked"),
        created_ms: r.get("created_ms"),
    }
}

fn row_project_token(r: &Row) -> TokenInfo {
    let project = Project {
        id: r.get("project_id"),
        name: r.get("project_name"),
    };
    row_token(r, project)
}

const TOKEN_SELECT: &str = "SELECT t.id, t.project_id, t.name, t.role, t.revoked, t.created_ms, \
     p.name AS project_name, t.hash FROM tokens t JOIN projects p ON p.id = t.project_id";

/// The dump's projects (see [`PgStore::load`]): how many were new here.
async fn load_projects(tx: &deadpool_postgres::Transaction<'_>, dump: &Dump) -> Result<u64> {
    let mut n = 0;
    for p in &dump.projects {
        n += tx
            .execute(
                "INSERT INTO projects (id, name, created_ms) VALUES ($1, $2, $3) \
                 ON CONFLICT DO NOTHING",
                &[&p.id, &p.name, &p.created_ms],
            )
            .await?;
        let same = tx
            .query_opt(
                "SELECT 1 FROM projects WHERE id = $1 AND name = $2",
                &[&p.id, &p.name],
            )
            .await?;
        if same.is_none() {
            return Err(elsewhere(format!("project {:?} (id {})", p.name, p.id)));
        }
    }
    Ok(n)
}

/// The dump's tokens (see [`PgStore::load`]): how many were new (or newly revoked) here. A
/// token revoked in the copy since the last run is revoked here too.
async fn load_tokens(tx: &deadpool_postgres::Transaction<'_>, dump: &Dump) -> Result<u64> {
    let mut n = 0;
    for t in &dump.tokens {
        n += tx
            .execute(
                "INSERT INTO tokens (id, project_id, name, role, hash, revoked, \
                 created_ms) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (id) DO UPDATE SET revoked = TRUE \
                 WHERE excluded.revoked AND NOT tokens.revoked",
                &[
                    &t.id,
                    &t.project_id,
                    &t.name,
                    &t.role,
                    &t.hash,
                    &t.revoked,
                    &t.created_ms,
                ],
            )
            .await?;
        // Revocation only ever goes one way: one made since the last run is kept.
        if t.revoked {
            tx.execute("UPDATE tokens SET revoked = TRUE WHERE id = $1", &[&t.id])
                .await?;
        }
        let same = tx
            .query_opt(
                "SELECT 1 FROM tokens WHERE id = $1 AND hash = $2 AND project_id = $3",
                &[&t.id, &t.hash, &t.project_id],
            )
            .await?;
        if same.is_none() {
            return Err(elsewhere(format!("token {}", t.id)));
        }
    }
    Ok(n)
}

/// The dump's events, with their numbers (see [`PgStore::load`]): how many were new here.
async fn load_events(tx: &deadpool_postgres::Transaction<'_>, dump: &Dump) -> Result<u64> {
    let mut n = 0;
    let insert = tx
        .prepare(
            "INSERT INTO events (project_id, seq, id, json, received_ms, token_id, \
             author, judgeable, clippable) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT DO NOTHING",
        )
        .await?;
    let check = tx
        .prepare(
            "SELECT 1 FROM events WHERE project_id = $1 AND seq = $2 AND id = $3 AND json = $4",
        )
        .await?;
    for e in &dump.events {
        let (author, judgeable, clippable) = event_columns(&e.json);
        n += tx
            .execute(
                &insert,
                &[
                    &e.project_id,
                    &e.seq,
                    &e.id,
                    &e.json,
                    &e.received_ms,
                    &e.token_id,
                    &author,
                    &judgeable,
                    &clippable,
                ],
            )
            .await?;
        if tx
            .query_opt(&check, &[&e.project_id, &e.seq, &e.id, &e.json])
            .await?
            .is_none()
        {
            return Err(elsewhere(format!("event {} (number {})", e.id, e.seq)));
        }
    }
    Ok(n)
}

/// The dump's subjects, sessions, clip and version descriptions, then the counters of its
/// projects (`ids`) set past what was copied (see [`PgStore::load`]).
async fn load_the_rest(
    tx: &deadpool_postgres::Transaction<'_>,
    dump: &Dump,
    ids: &[i64],
) -> Result<()> {
    // Judgeable and clippable are on the event rows here.
    for (project, key, owner) in dump.subjects.iter().filter(|(_, k, _)| is_subject_key(k)) {
        tx.execute(
            "INSERT INTO subjects (project_id, key, owner) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
            &[project, key, owner],
        )
        .await?;
    }
    for s in &dump.sessions {
        tx.execute(
            "INSERT INTO sessions (hash, token_id, csrf, created_ms) \
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            &[&s.hash, &s.token_id, &s.csrf, &s.created_ms],
        )
        .await?;
    }
    for (project, hash, bytes) in &dump.clip_refs {
        tx.execute(
            "INSERT INTO clip_refs (project_id, hash, bytes) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
            &[project, hash, bytes],
        )
        .await?;
    }
    load_version_refs(tx, dump).await?;
    guests::load_guests(tx, dump).await?;
    // New numbers continue after the copied ones, new ids after the copied ids.
    tx.execute(
        "UPDATE projects p SET last_seq = GREATEST(p.last_seq, \
             (SELECT COALESCE(MAX(seq), 0) FROM events e WHERE e.project_id = p.id)) \
         WHERE p.id = ANY($1)",
        &[&ids],
    )
    .await?;
    tx.batch_execute(
        "SELECT setval(pg_get_serial_sequence('projects', 'id'), \
             GREATEST((SELECT MAX(id) FROM projects), 1));
         SELECT setval(pg_get_serial_sequence('tokens', 'id'), \
             GREATEST((SELECT MAX(id) FROM tokens), 1));",
    )
    .await?;
    Ok(())
}

/// The dump's version references as stored, then those the copied events name (see
/// [`VERSION_REFS_FROM_EVENTS`]): migration 3 read the events here before any was copied, so
/// without this a copied `version_printed` event would name a version no chunk may be sent
/// for.
async fn load_version_refs(tx: &deadpool_postgres::Transaction<'_>, dump: &Dump) -> Result<()> {
    for (project, hash, bytes) in &dump.version_refs {
        tx.execute(
            "INSERT INTO version_refs (project_id, hash, bytes) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
            &[project, hash, bytes],
        )
        .await?;
    }
    tx.execute(VERSION_REFS_FROM_EVENTS, &[]).await?;
    Ok(())
}

impl Store for PgStore {
    fn location(&self) -> String {
        self.location.clone()
    }

    fn create_project(&self, name: &str) -> Result<Project> {
        let name = name.to_owned();
        self.with(move |c| async move {
            let row = c
                .query_opt(
                    "INSERT INTO projects (name, created_ms) VALUES ($1, $2) \
                     ON CONFLICT (name) DO NOTHING RETURNING id",
                    &[&name, &now_ms()],
                )
                .await?;
            match row {
                Some(r) => Ok(Project { id: r.get(0), name }),
                None => Err(StoreError::ProjectExists(name)),
            }
        })
    }

    fn project(&self, name: &str) -> Result<Option<Project>> {
        let name = name.to_owned();
        self.with(move |c| async move {
            Ok(
                c.query_opt("SELECT id, name FROM projects WHERE name = $1", &[&name])
                    .await?
                    .map(|r| Project {
                        id: r.get(0),
                        name: r.get(1),
                    }),
            )
        })
    }

    fn projects(&self) -> Result<Vec<Project>> {
        self.with(move |c| async move {
            Ok(c.query("SELECT id, name FROM projects ORDER BY id", &[])
                .await?
                .iter()
                .map(|r| Project {
                    id: r.get(0),
                    name: r.get(1),
                })
                .collect())
        })
    }

    fn create_project_with_tokens(
        &self,
        project: &str,
        people: &[(&str, Role)],
        ready: &mut Ready<'_>,
    ) -> Result<Vec<(TokenInfo, String)>> {
        // `ready` runs here, between the statements and the commit, so the transaction is
        // driven by hand on one connection; any way out but the commit rolls it back.
        let c = self.with(|c| async move {
            c.batch_execute("BEGIN").await?;
            Ok(InTransaction(Some(c)))
        })?;
        let project = project.to_owned();
        let people: Vec<(String, Role)> =
            people.iter().map(|(p, r)| ((*p).to_owned(), *r)).collect();
        let (c, made) = self.run(async move {
            let now = now_ms();
            let made = async {
                // Two servers starting at once on an empty database both try; one makes it.
                let id: i64 = c
                    .query_opt(
                        "INSERT INTO projects (name, created_ms) VALUES ($1, $2) \
                         ON CONFLICT (name) DO NOTHING RETURNING id",
                        &[&project, &now],
                    )
                    .await?
                    .ok_or_else(|| StoreError::ProjectExists(project.clone()))?
                    .get(0);
                let p = Project { id, name: project };
                let mut out = Vec::new();
                for (person, role) in people {
                    let secret = new_token_secret();
                    let id: i64 = c
                        .query_one(
                            "INSERT INTO tokens (project_id, name, role, hash, created_ms) \
                             VALUES ($1, $2, $3, $4, $5) RETURNING id",
                            &[&p.id, &person, &role.as_str(), &hash(&secret), &now],
                        )
                        .await?
                        .get(0);
                    out.push((
                        TokenInfo {
                            id,
                            project: p.clone(),
                            person,
                            role,
                            revoked: false,
                            created_ms: now,
                        },
                        secret,
                    ));
                }
                Ok::<_, StoreError>(out)
            }
            .await;
            Ok((c, made))
        })?;
        let finish = |mut c: InTransaction, sql: &'static str| {
            self.run(async move {
                c.batch_execute(sql).await?;
                c.ended();
                Ok(())
            })
        };
        let out = match made {
            Ok(out) => out,
            Err(e) => {
                let _ = finish(c, "ROLLBACK");
                return Err(e);
            }
        };
        if let Err(e) = ready(&out) {
            finish(c, "ROLLBACK")?;
            return Err(StoreError::Aborted(e));
        }
        finish(c, "COMMIT")?;
        Ok(out)
    }

    fn add_token(&self, project: &str, person: &str, role: Role) -> Result<(TokenInfo, String)> {
        let (project, person) = (project.to_owned(), person.to_owned());
        self.with(move |c| async move {
            let secret = new_token_secret();
            let now = now_ms();
            let row = c
                .query_opt(
                    "INSERT INTO tokens (project_id, name, role, hash, created_ms) \
                     SELECT id, $2, $3, $4, $5 FROM projects WHERE name = $1 \
                     RETURNING id, project_id",
                    &[&project, &person, &role.as_str(), &hash(&secret), &now],
                )
                .await?
                .ok_or_else(|| StoreError::NoProject(project.clone()))?;
            Ok((
                TokenInfo {
                    id: row.get(0),
                    project: Project {
                        id: row.get(1),
                        name: project,
                    },
                    person,
                    role,
                    revoked: false,
                    created_ms: now,
                },
                secret,
            ))
        })
    }

    fn tokens(&self) -> Result<Vec<TokenInfo>> {
        self.with(move |c| async move {
            Ok(c.query(&format!("{TOKEN_SELECT} ORDER BY t.id"), &[])
                .await?
                .iter()
                .map(row_project_token)
                .collect())
        })
    }

    fn revoke_token(&self, id: i64) -> Result<()> {
        self.with(move |mut c| async move {
            let tx = c.transaction().await?;
            let n = tx
                .execute("UPDATE tokens SET revoked = TRUE WHERE id = $1", &[&id])
                .await?;
            if n == 0 {
                return Err(StoreError::NoToken(id));
            }
            // The listening links it made end with it (their guests' sessions too).
            tx.execute(
                "DELETE FROM guest_sessions WHERE link_id IN \
                 (SELECT id FROM guest_links WHERE token_id = $1 AND revoked_ms IS NULL)",
                &[&id],
            )
            .await?;
            tx.execute(
                "UPDATE guest_links SET revoked_ms = $2 WHERE token_id = $1 AND revoked_ms IS NULL",
                &[&id, &now_ms()],
            )
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    fn authenticate(&self, secret: &str) -> Result<Option<TokenInfo>> {
        let want = hash(secret);
        self.with(move |c| async move {
            let sql = format!("{TOKEN_SELECT} WHERE t.hash = $1");
            let st = c.prepare_cached(&sql).await?;
            let Some(r) = c.query_opt(&st, &[&want]).await? else {
                return Ok(None);
            };
            let stored: String = r.get("hash");
            Ok(signs_in(row_project_token(&r), &stored, &want))
        })
    }

    fn push_within_limits(
        &self,
        project: &Project,
        token: Option<i64>,
        events: &[Incoming],
    ) -> Result<Vec<PushOutcome>> {
        let answer = self.pushes.queue(project, token, events.to_vec());
        self.run(async move { answer.await.unwrap_or_else(|_| Err(group::stopped())) })
    }

    fn queue_within_limits(
        &self,
        project: &Project,
        token: Option<i64>,
        events: Vec<Incoming>,
    ) -> group::Answer {
        self.pushes.queue(project, token, events)
    }

    fn add_hook(&self, project: &Project, url: &str, events: &str) -> Result<Hook> {
        let (project, url, events) = (project.clone(), url.to_owned(), events.to_owned());
        self.with(move |c| async move { postgres_hooks::add(&c, &project, &url, &events).await })
    }

    fn hooks(&self) -> Result<Vec<Hook>> {
        self.with(move |c| async move { postgres_hooks::all(&c).await })
    }

    fn remove_hook(&self, id: i64) -> Result<()> {
        self.with(move |c| async move { postgres_hooks::remove(&c, id).await })
    }

    fn claim_hook(&self, id: i64, owner: &str, now_ms: i64, lease_ms: i64) -> Result<Option<Hook>> {
        let owner = owner.to_owned();
        self.with(
            move |c| async move { postgres_hooks::claim(&c, id, &owner, now_ms, lease_ms).await },
        )
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
        let (owner, attempt) = (owner.to_owned(), attempt.cloned());
        self.with(move |mut c| async move {
            postgres_hooks::settle(&mut c, id, &owner, cursor, next, lease_ms, attempt.as_ref())
                .await
        })
    }

    fn release_hook(&self, id: i64, owner: &str) -> Result<()> {
        let owner = owner.to_owned();
        self.with(move |c| async move { postgres_hooks::release(&c, id, &owner).await })
    }

    fn hook_log(
        &self,
        project: Option<i64>,
        hook: Option<i64>,
        limit: usize,
    ) -> Result<Vec<Attempt>> {
        self.with(move |c| async move { postgres_hooks::log_rows(&c, project, hook, limit).await })
    }

    fn event_by_id(&self, project: &Project, id: Uuid) -> Result<Option<(u64, String)>> {
        let project = project.clone();
        self.with(move |c| async move { postgres_hooks::event_by_id(&c, &project, id).await })
    }

    fn digest_prefs(&self, project: &Project, person: &str) -> Result<Option<DigestPrefs>> {
        let (project, person) = (project.clone(), person.to_owned());
        self.with(move |c| async move { postgres_digests::prefs(&c, &project, &person).await })
    }

    fn all_digest_prefs(&self) -> Result<Vec<DigestPrefs>> {
        self.with(move |c| async move { postgres_digests::all(&c).await })
    }

    fn record_look(&self, project: &Project, person: &str, role: Role, at_ms: i64) -> Result<()> {
        let (project, person) = (project.clone(), person.to_owned());
        self.with(move |c| async move {
            postgres_digests::look(&c, &project, &person, role, at_ms).await
        })
    }

    fn new_feed(&self, project: &Project, person: &str, role: Role) -> Result<String> {
        let (project, person) = (project.clone(), person.to_owned());
        self.with(
            move |c| async move { postgres_digests::new_feed(&c, &project, &person, role).await },
        )
    }

    fn end_feed(&self, project: &Project, person: &str) -> Result<()> {
        let (project, person) = (project.clone(), person.to_owned());
        self.with(move |c| async move { postgres_digests::end_feed(&c, &project, &person).await })
    }

    fn feed(&self, secret: &str) -> Result<Option<DigestPrefs>> {
        let secret = secret.to_owned();
        self.with(move |c| async move { postgres_digests::feed(&c, &secret).await })
    }

    fn set_mail(
        &self,
        project: &Project,
        person: &str,
        role: Role,
        to: Option<&str>,
        every: Option<Every>,
    ) -> Result<()> {
        let (project, person, to) = (project.clone(), person.to_owned(), to.map(str::to_owned));
        self.with(move |c| async move {
            postgres_digests::set_mail(&c, &project, &person, role, to.as_deref(), every).await
        })
    }

    fn move_mailed(
        &self,
        project_id: i64,
        person: &str,
        from: Option<i64>,
        to: Option<i64>,
    ) -> Result<bool> {
        let person = person.to_owned();
        self.with(move |c| async move {
            postgres_digests::move_mailed(&c, project_id, &person, from, to).await
        })
    }

    fn pull(&self, project: &Project, after: u64, limit: usize) -> Result<Vec<(u64, String)>> {
        let id = project.id;
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.with(move |c| async move {
            let st = c
                .prepare_cached(
                    "SELECT seq, json FROM events WHERE project_id = $1 AND seq > $2 \
                     ORDER BY seq LIMIT $3",
                )
                .await?;
            Ok(c.query(&st, &[&id, &after, &limit])
                .await?
                .iter()
                .map(|r| (r.get::<_, i64>(0) as u64, r.get(1)))
                .collect())
        })
    }

    fn receipts(&self, project: &Project, since_ms: Option<i64>) -> Result<Vec<Receipt>> {
        let project = project.clone();
        self.with(move |c| async move {
            let rows = c
                .query(
                    "SELECT e.seq, e.id AS event_id, e.json, e.received_ms AS received, \
                     t.id, t.name, t.role, t.revoked, t.created_ms \
                     FROM events e LEFT JOIN tokens t ON t.id = e.token_id \
                     WHERE e.project_id = $1 AND e.received_ms >= $2 ORDER BY e.seq",
                    &[&project.id, &since_ms.unwrap_or(i64::MIN)],
                )
                .await?;
            Ok(rows
                .iter()
                .map(|r| {
                    let json: String = r.get("json");
                    let token = r
                        .get::<_, Option<i64>>("id")
                        .map(|_| row_token(r, project.clone()));
                    receipt(
                        r.get("seq"),
                        &r.get::<_, String>("event_id"),
                        &json,
                        r.get("received"),
                        token,
                    )
                })
                .collect())
        })
    }

    fn put_clip(
        &self,
        project: &Project,
        token: Option<i64>,
        hash: &ClipHash,
        bytes: &[u8],
        quota: u64,
    ) -> Result<ClipPut> {
        let (id, hash, bytes) = (project.id, hash.as_str().to_owned(), bytes.to_vec());
        self.with(move |mut c| async move {
            let tx = c.transaction().await?;
            // Two processes storing clips of one project at once must not both pass the quota.
            quota_lock(&tx, id).await?;
            let facts = clip_facts(&tx, id, &hash).await?;
            if let Some(answer) = clip_refusal(&facts, bytes.len() as u64, quota) {
                return Ok(answer);
            }
            tx.execute(
                "INSERT INTO clips (project_id, hash, data, size, token_id, received_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[&id, &hash, &bytes, &(bytes.len() as i64), &token, &now_ms()],
            )
            .await?;
            tx.commit().await?;
            Ok(ClipPut::Stored)
        })
    }

    fn clip_facts(&self, project: &Project, hash: &ClipHash) -> Result<ClipFacts> {
        let (id, hash) = (project.id, hash.as_str().to_owned());
        self.with(move |mut c| async move {
            let tx = c.transaction().await?;
            clip_facts(&tx, id, &hash).await
        })
    }

    fn clip_hashes(&self, project: &Project) -> Result<Vec<String>> {
        let id = project.id;
        self.with(move |c| async move {
            Ok(c.query(
                "SELECT hash FROM clips WHERE project_id = $1 ORDER BY hash",
                &[&id],
            )
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect())
        })
    }

    fn note_backup(&self, note: &BackupNote) -> Result<()> {
        let (at, bytes, events) = (note.at_ms, note.bytes as i64, note.events as i64);
        self.with(move |c| async move {
            c.execute(
                "INSERT INTO backups (at_ms, bytes, events) VALUES ($1, $2, $3)",
                &[&at, &bytes, &events],
            )
            .await?;
            Ok(())
        })
    }

    fn last_backup(&self) -> Result<Option<BackupNote>> {
        self.with(move |c| async move {
            Ok(c.query_opt(
                "SELECT at_ms, bytes, events FROM backups ORDER BY at_ms DESC LIMIT 1",
                &[],
            )
            .await?
            .map(|r| BackupNote {
                at_ms: r.get(0),
                bytes: r.get::<_, i64>(1) as u64,
                events: r.get::<_, i64>(2) as u64,
            }))
        })
    }

    fn clip(&self, project: &Project, hash: &ClipHash) -> Result<Option<Vec<u8>>> {
        let (id, hash) = (project.id, hash.as_str().to_owned());
        self.with(move |c| async move {
            Ok(c.query_opt(
                "SELECT data FROM clips WHERE project_id = $1 AND hash = $2",
                &[&id, &hash],
            )
            .await?
            .map(|r| r.get(0)))
        })
    }

    fn clip_size(&self, project: &Project, hash: &ClipHash) -> Result<Option<u64>> {
        let (id, hash) = (project.id, hash.as_str().to_owned());
        self.with(move |c| async move {
            Ok(c.query_opt(
                "SELECT size FROM clips WHERE project_id = $1 AND hash = $2",
                &[&id, &hash],
            )
            .await?
            .map(|r| r.get::<_, i64>(0) as u64))
        })
    }

    fn clip_range(
        &self,
        project: &Project,
        hash: &ClipHash,
        first: u64,
        len: u64,
    ) -> Result<Option<Vec<u8>>> {
        let (id, hash) = (project.id, hash.as_str().to_owned());
        // SQL counts bytes from 1, in `int` (a clip is far smaller).
        let int = |n: u64| n.min(i32::MAX as u64) as i32;
        let (from, count) = (int(first.saturating_add(1)), int(len));
        self.with(move |c| async move {
            // Only the slice leaves the database.
            Ok(c.query_opt(
                "SELECT substring(data FROM $3 FOR $4) FROM clips \
                 WHERE project_id = $1 AND hash = $2",
                &[&id, &hash, &from, &count],
            )
            .await?
            .map(|r| r.get(0)))
        })
    }

    fn clip_usage(&self, project: &Project) -> Result<u64> {
        let id = project.id;
        self.with(move |c| async move {
            Ok(c.query_one(
                "SELECT COALESCE(SUM(size), 0)::BIGINT FROM clips WHERE project_id = $1",
                &[&id],
            )
            .await?
            .get::<_, i64>(0) as u64)
        })
    }

    fn version_facts(&self, project: &Project, hash: &ClipHash) -> Result<VersionFacts> {
        let (id, hash) = (project.id, hash.as_str().to_owned());
        self.with(move |mut c| async move {
            let tx = c.transaction().await?;
            version_facts(&tx, id, &hash).await
        })
    }

    fn put_version_chunk(
        &self,
        project: &Project,
        hash: &ClipHash,
        index: u64,
        bytes: &[u8],
        quota: u64,
    ) -> Result<ChunkPut> {
        let (id, hash, bytes) = (project.id, hash.as_str().to_owned(), bytes.to_vec());
        self.with(move |mut c| async move {
            let tx = c.transaction().await?;
            // Chunks and clips of one project share a quota; the lock also orders chunks of
            // one version, so the one that completes it sees every other.
            quota_lock(&tx, id).await?;
            let facts = version_facts(&tx, id, &hash).await?;
            if let Some(answer) = chunk_refusal(&facts, index, bytes.len() as u64, quota) {
                return Ok(answer);
            }
            tx.execute(
                "INSERT INTO version_chunks (project_id, hash, idx, data, size) \
                 VALUES ($1, $2, $3, $4, $5)",
                &[&id, &hash, &(index as i64), &bytes, &(bytes.len() as i64)],
            )
            .await?;
            tx.commit().await?;
            Ok(ChunkPut::Stored)
        })
    }

    fn version_chunk(
        &self,
        project: &Project,
        hash: &ClipHash,
        index: u64,
    ) -> Result<Option<Vec<u8>>> {
        self.chunks_read
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (id, hash, index) = (project.id, hash.as_str().to_owned(), index as i64);
        self.with(move |c| async move {
            // In slices (the column is stored uncompressed, so a slice reads only its own
            // pages): a connection's buffers then grow to a slice, not to a chunk, and the
            // pool's connections keep no chunk-sized buffers.
            let Some(size) = c
                .query_opt(
                    "SELECT size FROM version_chunks \
                     WHERE project_id = $1 AND hash = $2 AND idx = $3",
                    &[&id, &hash, &index],
                )
                .await?
                .map(|r| r.get::<_, i64>(0))
            else {
                return Ok(None);
            };
            let mut data = Vec::with_capacity(size as usize);
            while (data.len() as i64) < size {
                let slice: Vec<u8> = c
                    .query_one(
                        "SELECT substring(data FROM $4 FOR $5) FROM version_chunks \
                         WHERE project_id = $1 AND hash = $2 AND idx = $3",
                        &[&id, &hash, &index, &(data.len() as i32 + 1), &PG_SLICE],
                    )
                    .await?
                    .get(0);
                if slice.is_empty() {
                    break;
                }
                data.extend_from_slice(&slice);
            }
            Ok(Some(data))
        })
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
        let (id, hash) = (project.id, hash.as_str().to_owned());
        self.with(move |c| async move {
            c.execute(
                "INSERT INTO versions (project_id, hash, size, token_id, received_ms) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                &[&id, &hash, &(size as i64), &token, &now_ms()],
            )
            .await?;
            Ok(())
        })
    }

    fn drop_version_chunks(&self, project: &Project, hash: &ClipHash) -> Result<()> {
        let (id, hash) = (project.id, hash.as_str().to_owned());
        self.with(move |c| async move {
            // A version already complete keeps its chunks.
            c.execute(
                "DELETE FROM version_chunks WHERE project_id = $1 AND hash = $2 \
                 AND NOT EXISTS (SELECT 1 FROM versions WHERE project_id = $1 AND hash = $2)",
                &[&id, &hash],
            )
            .await?;
            Ok(())
        })
    }

    fn version_hashes(&self, project: &Project) -> Result<Vec<String>> {
        let id = project.id;
        self.with(move |c| async move {
            Ok(c.query(
                "SELECT hash FROM versions WHERE project_id = $1 ORDER BY hash",
                &[&id],
            )
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect())
        })
    }

    fn create_session(&self, token: i64) -> Result<(String, String)> {
        self.with(move |c| async move {
            let (secret, csrf) = (random_secret("lns_"), random_secret(""));
            c.execute(
                "INSERT INTO sessions (hash, token_id, csrf, created_ms) VALUES ($1, $2, $3, $4)",
                &[&hash(&secret), &token, &csrf, &now_ms()],
            )
            .await?;
            Ok((secret, csrf))
        })
    }

    fn session(&self, secret: &str) -> Result<Option<(TokenInfo, String)>> {
        let key = hash(secret);
        self.with(move |c| async move {
            let row = c
                .query_opt(
                    &format!(
                        "{TOKEN_SELECT} JOIN sessions s ON s.token_id = t.id \
                         WHERE s.hash = $1 AND s.created_ms > $2"
                    )
                    .replace("t.hash FROM", "t.hash, s.csrf FROM"),
                    &[&key, &sessions_since()],
                )
                .await?;
            Ok(row.and_then(|r| {
                let info = row_project_token(&r);
                (!info.revoked).then(|| (info, r.get("csrf")))
            }))
        })
    }

    fn end_session(&self, secret: &str) -> Result<()> {
        let key = hash(secret);
        self.with(move |c| async move {
            c.execute("DELETE FROM sessions WHERE hash = $1", &[&key])
                .await?;
            Ok(())
        })
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

    fn watch_others(&self, wake: Weak<dyn Wake>) {
        self.rt().spawn(listen(self.config.clone(), wake));
    }
}

/// Listens for pushes any process stores and tells `wake`, until `wake` is gone; reads every
/// project's latest number at once after each (re)connection and every [`CATCH_UP`], so a
/// notice lost on the way is late, never lost; reconnects when that read fails.
async fn listen(config: tokio_postgres::Config, wake: Weak<dyn Wake>) {
    use tokio_postgres::AsyncMessage;
    let mut retry = Duration::from_millis(100);
    while wake.strong_count() > 0 {
        let connected = config.connect(NoTls).map_err(StoreError::from).await;
        let (client, mut connection) = match connected {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!("listening for other servers' pushes: {e}; retrying");
                tokio::time::sleep(retry).await;
                retry = (retry * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        let (tx, mut notices) = tokio::sync::mpsc::unbounded_channel();
        let driver = tokio::spawn(async move {
            let mut messages = futures_util::stream::poll_fn(|cx| connection.poll_message(cx));
            while let Some(Ok(m)) = futures_util::StreamExt::next(&mut messages).await {
                if let AsyncMessage::Notification(n) = m {
                    if tx.send(n.payload().to_owned()).is_err() {
                        break;
                    }
                }
            }
        });
        let listening = tokio::time::timeout(
            CATCH_UP_WAIT,
            client.batch_execute(&format!("LISTEN {CHANNEL}")),
        )
        .await;
        if !matches!(listening, Ok(Ok(()))) {
            tracing::warn!("listening for other servers' pushes: LISTEN failed; retrying");
            driver.abort();
            tokio::time::sleep(retry).await;
            retry = (retry * 2).min(Duration::from_secs(5));
            continue;
        }
        retry = Duration::from_millis(100);
        let mut tick = tokio::time::interval(CATCH_UP);
        loop {
            tokio::select! {
                notice = notices.recv() => {
                    let Some(payload) = notice else { break };
                    let parsed = payload
                        .split_once(':')
                        .and_then(|(p, s)| Some((p.parse().ok()?, s.parse().ok()?)));
                    match (wake.upgrade(), parsed) {
                        (Some(w), Some((project, seq))) => w.stored(project, seq),
                        (None, _) => break,
                        (Some(_), None) => {}
                    }
                }
                // The first tick is at once: what was stored while this was not listening.
                _ = tick.tick() => {
                    let Some(w) = wake.upgrade() else { break };
                    let latest = tokio::time::timeout(
                        CATCH_UP_WAIT,
                        client.query("SELECT id, last_seq FROM projects", &[]),
                    )
                    .await;
                    match latest {
                        Ok(Ok(rows)) => {
                            for r in rows {
                                w.stored(r.get::<_, i64>(0), r.get::<_, i64>(1) as u64);
                            }
                        }
                        _ => break,
                    }
                }
            }
        }
        driver.abort();
        drop(client);
        if wake.strong_count() > 0 {
            tracing::warn!(
                "the connection listening for other servers' pushes ended; reconnecting"
            );
            tokio::time::sleep(retry).await;
        }
    }
}

/// The clip facts of project `id` as the transaction `c` sees them.
async fn clip_facts(
    c: &deadpool_postgres::Transaction<'_>,
    id: i64,
    hash: &str,
) -> Result<ClipFacts> {
    let expected = c
        .query_opt(
            "SELECT bytes FROM clip_refs WHERE project_id = $1 AND hash = $2",
            &[&id, &hash],
        )
        .await?
        .map(|r| r.get::<_, i64>(0) as u64);
    let stored = c
        .query_opt(
            "SELECT 1 FROM clips WHERE project_id = $1 AND hash = $2",
            &[&id, &hash],
        )
        .await?
        .is_some();
    let used = c.query_one(USED, &[&id]).await?.get::<_, i64>(0) as u64;
    Ok(ClipFacts {
        expected,
        stored,
        used,
    })
}

/// The version facts of project `id` as the transaction `c` sees them.
async fn version_facts(
    c: &deadpool_postgres::Transaction<'_>,
    id: i64,
    hash: &str,
) -> Result<VersionFacts> {
    let expected = c
        .query_opt(
            "SELECT bytes FROM version_refs WHERE project_id = $1 AND hash = $2",
            &[&id, &hash],
        )
        .await?
        .map(|r| r.get::<_, i64>(0) as u64);
    let have = c
        .query(
            "SELECT idx FROM version_chunks WHERE project_id = $1 AND hash = $2 ORDER BY idx",
            &[&id, &hash],
        )
        .await?
        .iter()
        .map(|r| r.get::<_, i64>(0) as u64)
        .collect();
    let complete = c
        .query_opt(
            "SELECT 1 FROM versions WHERE project_id = $1 AND hash = $2",
            &[&id, &hash],
        )
        .await?
        .is_some();
    let used = c.query_one(USED, &[&id]).await?.get::<_, i64>(0) as u64;
    Ok(VersionFacts {
        expected,
        have,
        complete,
        used,
    })
}

/// Takes the per-project lock that clip and version uploads share (one quota for both), for
/// the rest of the transaction `c`.
async fn quota_lock(c: &deadpool_postgres::Transaction<'_>, id: i64) -> Result<()> {
    c.execute(
        "SELECT pg_advisory_xact_lock($1, $2)",
        &[&CLIP_LOCK, &((id % i64::from(i32::MAX)) as i32)],
    )
    .await?;
    Ok(())
}

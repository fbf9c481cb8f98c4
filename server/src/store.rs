//! Storage behind a trait, so a PostgreSQL backend can follow without touching the handlers.
//! [`SqliteStore`] keeps everything in one SQLite file (bundled SQLite, WAL), one transaction
//! per call; schema migrations are only ever added.

use rusqlite::{params, Connection, OptionalExtension};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::Mutex;
use subtle::ConstantTimeEq;
use uuid::Uuid;

use liner_record::clips::ClipHash;
use liner_record::Role;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Db(#[from] rusqlite::Error),
    #[error("project {0:?} already exists")]
    ProjectExists(String),
    #[error("no project named {0:?}")]
    NoProject(String),
    #[error("no token with id {0}")]
    NoToken(i64),
    #[error("{0}")]
    Aborted(String),
}

pub type Result<T> = std::result::Result<T, StoreError>;

#[derive(Debug, Clone, PartialEq)]
pub struct Project {
    pub id: i64,
    pub name: String,
}

/// A token as listed (never the secret): one person in one project with one role.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenInfo {
    pub id: i64,
    pub project: Project,
    /// The person it speaks for: every event it pushes carries this name as its author.
    pub person: String,
    pub role: Role,
    pub revoked: bool,
    pub created_ms: i64,
}

/// What happened to one pushed event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushOutcome {
    /// New: stored under this sequence number.
    Stored(u64),
    /// Already stored, byte for byte (a retry): its sequence number.
    Duplicate(u64),
    /// The id is taken by an event with other content; nothing stored.
    Conflict,
    /// Against the record's rules ([`liner_record::rules`]): `not_yours` or
    /// `unknown_target`, with words for people; nothing stored.
    Refused { code: &'static str, message: String },
}

/// What became of a clip sent to the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClipPut {
    Stored,
    /// It was there already (a retry).
    AlreadyStored,
    /// No stored `clip_attached` event of the project names this hash.
    Unknown,
    /// The event names another size.
    WrongSize {
        expected: u64,
    },
    /// The project's clips would pass its quota.
    OverQuota {
        used: u64,
        quota: u64,
    },
}

/// One event to store: parsed, and its canonical line.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub event: liner_record::Event,
    pub json: String,
}

impl Incoming {
    /// Reads an event from any valid JSON (kept in canonical form).
    ///
    /// # Errors
    /// Text that is not one event of this format.
    pub fn parse(json: &str) -> serde_json::Result<Incoming> {
        let (event, json) = liner_record::Event::canonical(json)?;
        Ok(Incoming { event, json })
    }

    pub fn from_event(event: liner_record::Event) -> Incoming {
        let json = event.to_json();
        Incoming { event, json }
    }
}

/// Who pushed a stored event, and when it arrived (the audit trail).
#[derive(Debug, Clone, PartialEq)]
pub struct Receipt {
    pub seq: u64,
    pub id: Uuid,
    /// The event's kind (from its stored line).
    pub kind: String,
    pub received_ms: i64,
    /// The token that pushed it (None: imported by an administrator, or stored before
    /// tokens were recorded). Revoked tokens keep their history.
    pub token: Option<TokenInfo>,
}

/// A last step before a first run's transaction commits, given the new tokens and their
/// secrets; an error rolls everything back.
pub type Ready<'a> = dyn FnMut(&[(TokenInfo, String)]) -> std::result::Result<(), String> + 'a;

/// What the handlers need from storage.
pub trait Store: Send + Sync + 'static {
    /// # Errors
    /// [`StoreError`] when the database fails (or, where said, refuses).
    fn create_project(&self, name: &str) -> Result<Project>;
    /// # Errors
    /// [`StoreError`] when the database fails (or, where said, refuses).
    fn project(&self, name: &str) -> Result<Option<Project>>;
    /// # Errors
    /// [`StoreError`] when the database fails (or, where said, refuses).
    fn projects(&self) -> Result<Vec<Project>>;
    /// Creates a project with a token per `(person, role)`, all in one transaction that
    /// commits only if `ready` (given the tokens and their secrets) succeeds: a first run
    /// either completes or leaves nothing behind.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails (or, where said, refuses).
    fn create_project_with_tokens(
        &self,
        project: &str,
        people: &[(&str, Role)],
        ready: &mut Ready<'_>,
    ) -> Result<Vec<(TokenInfo, String)>>;
    /// Issues a token for `person`; returns it with its secret (shown once, stored hashed).
    ///
    /// # Errors
    /// [`StoreError`] when the database fails (or, where said, refuses).
    fn add_token(&self, project: &str, person: &str, role: Role) -> Result<(TokenInfo, String)>;
    /// # Errors
    /// [`StoreError`] when the database fails (or, where said, refuses).
    fn tokens(&self) -> Result<Vec<TokenInfo>>;
    /// # Errors
    /// [`StoreError`] when the database fails (or, where said, refuses).
    fn revoke_token(&self, id: i64) -> Result<()>;
    /// The live token with this secret, if any.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails (or, where said, refuses).
    fn authenticate(&self, secret: &str) -> Result<Option<TokenInfo>>;
    /// Stores new events of a project in one transaction, in order, each judged by the
    /// record's ownership and target rules against what is stored and what came before it in
    /// the batch. `token` is who pushed them (None: an administrator's import).
    ///
    /// # Errors
    /// [`StoreError`] when the database fails (or, where said, refuses).
    fn push(
        &self,
        project: &Project,
        token: Option<i64>,
        events: &[Incoming],
    ) -> Result<Vec<PushOutcome>>;
    /// Events after a sequence number, in order: (seq, JSON).
    ///
    /// # Errors
    /// [`StoreError`] when the database fails (or, where said, refuses).
    fn pull(&self, project: &Project, after: u64, limit: usize) -> Result<Vec<(u64, String)>>;
    /// Who pushed each event of a project and when, in sequence order, from `since_ms`
    /// (received time) on.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails (or, where said, refuses).
    fn receipts(&self, project: &Project, since_ms: Option<i64>) -> Result<Vec<Receipt>>;

    /// Stores a clip's bytes for a project. They must be what a stored `clip_attached` event
    /// of the project describes (the caller checked the hash; here: that an event names it,
    /// and its size), and fit in the project's `quota` of clip bytes.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails (or, where said, refuses).
    fn put_clip(
        &self,
        project: &Project,
        token: Option<i64>,
        hash: &ClipHash,
        bytes: &[u8],
        quota: u64,
    ) -> Result<ClipPut>;
    /// A stored clip's bytes.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails (or, where said, refuses).
    fn clip(&self, project: &Project, hash: &ClipHash) -> Result<Option<Vec<u8>>>;
    /// The bytes of clips a project holds.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails (or, where said, refuses).
    fn clip_usage(&self, project: &Project) -> Result<u64>;

    /// Starts a review page session for a token: returns (cookie secret, CSRF secret). Only
    /// the secret's hash is stored.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails (or, where said, refuses).
    fn create_session(&self, token: i64) -> Result<(String, String)>;
    /// The live token and CSRF secret of a session (None: unknown, expired, or its token was
    /// revoked).
    ///
    /// # Errors
    /// [`StoreError`] when the database fails (or, where said, refuses).
    fn session(&self, secret: &str) -> Result<Option<(TokenInfo, String)>>;
    /// Ends a session.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails (or, where said, refuses).
    fn end_session(&self, secret: &str) -> Result<()>;

    /// The audit trail of every event of a project, for the JSON export.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails (or, where said, refuses).
    fn received(
        &self,
        project: &Project,
    ) -> Result<std::collections::BTreeMap<Uuid, liner_record::export::Received>> {
        Ok(self
            .receipts(project, None)?
            .into_iter()
            .map(|r| {
                (
                    r.id,
                    liner_record::export::Received {
                        received_at: r.received_ms,
                        token: r.token.as_ref().map(|t| t.id),
                        person: r.token.as_ref().map(|t| t.person.clone()),
                        role: r.token.as_ref().map(|t| t.role),
                    },
                )
            })
            .collect())
    }

    /// Every event of a project, parsed, in sequence order (for exports). Stored events were
    /// validated on the way in; one that does not parse (stored by an old version) is
    /// skipped.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails (or, where said, refuses).
    fn events(&self, project: &Project) -> Result<Vec<liner_record::Event>> {
        Ok(self
            .pull(project, 0, usize::MAX / 2)?
            .into_iter()
            .filter_map(|(_, json)| serde_json::from_str(&json).ok())
            .collect())
    }
}

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
];

/// How long a review page sign-in lasts.
pub const SESSION_MS: i64 = 30 * 24 * 3600 * 1000;

/// Work in Rust that a migration needs, by version, run once right after its SQL.
fn backfill(tx: &rusqlite::Transaction<'_>, version: usize) -> rusqlite::Result<()> {
    match version {
        2 => backfill_2(tx),
        4 => backfill_4(tx),
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

/// The subjects an event stored makes its author the owner of (if nobody is), and the key
/// that lets verdicts judge it.
fn owned_keys(e: &liner_record::Event) -> Vec<String> {
    use liner_record::rules::{self, Claim};
    let mut keys = Vec::new();
    if let Some(Claim::Makes(s) | Claim::MakesOrChanges(s)) = rules::claim(e) {
        keys.push(s.key());
    }
    if rules::judgeable(&e.body) {
        keys.push(judgeable_key(e.id));
    }
    if rules::clippable(&e.body) {
        keys.push(clippable_key(e.id));
    }
    keys
}

fn clippable_key(id: Uuid) -> String {
    format!("clippable:{id}")
}

fn judgeable_key(id: Uuid) -> String {
    format!("judgeable:{id}")
}

/// A new random secret: `prefix` and 64 hex digits.
fn random_secret(prefix: &str) -> String {
    use rand::Rng;
    let bytes: [u8; 32] = rand::rng().random();
    format!(
        "{prefix}{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

fn hash(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn now_ms() -> i64 {
    liner_record::event::now_ms()
}

pub struct SqliteStore {
    conn: Mutex<Connection>,
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
        Ok(SqliteStore {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[derive(serde::Deserialize)]
struct KindOnly {
    kind: String,
}

/// Judges a new event by the ownership and target rules, given a lookup of a subject key's
/// owner; `None` when it may be stored.
fn judge(
    e: &liner_record::Event,
    owner_of: &mut impl FnMut(String) -> rusqlite::Result<Option<String>>,
) -> rusqlite::Result<Option<PushOutcome>> {
    use liner_record::rules::{self, Claim, Refusal};
    if let Some(target) = rules::verdict_target(e) {
        if owner_of(judgeable_key(target))?.is_none() {
            return Ok(Some(PushOutcome::Refused {
                code: "unknown_target",
                message: format!(
                    "the verdict judges {target}, which is no note, decision, take or song \
                     selection of this project"
                ),
            }));
        }
    }
    if let Some(target) = rules::clip_target(e) {
        match owner_of(clippable_key(target))? {
            None => {
                return Ok(Some(PushOutcome::Refused {
                    code: "unknown_target",
                    message: format!(
                        "the clip is of {target}, which is no note, decision or mark of this \
                         project"
                    ),
                }))
            }
            Some(owner) if owner != e.author => {
                return Ok(Some(PushOutcome::Refused {
                    code: "not_yours",
                    message: format!("{target} was made by {owner:?}; only they attach its audio"),
                }))
            }
            Some(_) => {}
        }
    }
    let Some(claim) = rules::claim(e) else {
        return Ok(None);
    };
    let (Claim::Makes(s) | Claim::Changes(s) | Claim::MakesOrChanges(s)) = claim;
    let owner = owner_of(s.key())?;
    Ok(
        match rules::judge_claim(claim, &e.author, owner.as_deref()) {
            Ok(()) => None,
            Err(Refusal::NotYours { owner }) => Some(PushOutcome::Refused {
                code: "not_yours",
                message: format!(
                    "{} belongs to {owner:?}; only they can change it",
                    describe(&s)
                ),
            }),
            Err(Refusal::Unknown) => Some(PushOutcome::Refused {
                code: "unknown_target",
                message: format!("{} is not in this project", describe(&s)),
            }),
        },
    )
}

fn describe(s: &liner_record::rules::Subject) -> String {
    use liner_record::rules::Subject;
    match s {
        Subject::Note(id) => format!("the note {id}"),
        Subject::Take(t) => format!("take {} of instance {}", t.number, t.instance),
        Subject::Mark { instance, number } => format!("mark {number} of instance {instance}"),
    }
}

fn row_token(r: &rusqlite::Row<'_>) -> rusqlite::Result<TokenInfo> {
    let role: String = r.get(3)?;
    Ok(TokenInfo {
        id: r.get(0)?,
        project: Project {
            id: r.get(6)?,
            name: r.get(7)?,
        },
        person: r.get(2)?,
        role: role.parse().unwrap_or(Role::Viewer),
        revoked: r.get::<_, i64>(4)? != 0,
        created_ms: r.get(5)?,
    })
}

const TOKEN_SELECT: &str = "SELECT t.id, t.project_id, t.name, t.role, t.revoked, t.created_ms, \
     p.id, p.name, t.hash FROM tokens t JOIN projects p ON p.id = t.project_id";

impl Store for SqliteStore {
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
        tx.execute(
            "INSERT INTO projects (name, created_ms) VALUES (?1, ?2)",
            params![project, now],
        )?;
        let p = Project {
            id: tx.last_insert_rowid(),
            name: project.to_owned(),
        };
        let mut out = Vec::new();
        for (person, role) in people {
            let secret = random_secret("ln_");
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
        let secret = random_secret("ln_");
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
        let n = self
            .conn()
            .execute("UPDATE tokens SET revoked = 1 WHERE id = ?1", [id])?;
        if n == 0 {
            return Err(StoreError::NoToken(id));
        }
        Ok(())
    }

    fn authenticate(&self, secret: &str) -> Result<Option<TokenInfo>> {
        let want = hash(secret);
        let conn = self.conn();
        let found = conn
            .query_row(&format!("{TOKEN_SELECT} WHERE t.hash = ?1"), [&want], |r| {
                Ok((row_token(r)?, r.get::<_, String>(8)?))
            })
            .optional()?;
        Ok(found.and_then(|(info, stored)| {
            // The lookup was by hash; compare again in constant time before trusting it.
            let same: bool = stored.as_bytes().ct_eq(want.as_bytes()).into();
            (same && !info.revoked).then_some(info)
        }))
    }

    fn push(
        &self,
        project: &Project,
        token: Option<i64>,
        events: &[Incoming],
    ) -> Result<Vec<PushOutcome>> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut out = Vec::with_capacity(events.len());
        {
            let mut find = tx
                .prepare_cached("SELECT seq, json FROM events WHERE project_id = ?1 AND id = ?2")?;
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
            let now = now_ms();
            for incoming in events {
                let id_text = incoming.event.id.to_string();
                let existing: Option<(i64, String)> = find
                    .query_row(params![project.id, id_text], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()?;
                let outcome = match existing {
                    Some((seq, stored)) if stored == incoming.json => {
                        PushOutcome::Duplicate(seq as u64)
                    }
                    Some(_) => PushOutcome::Conflict,
                    None => {
                        let mut owner_of = |key: String| -> rusqlite::Result<Option<String>> {
                            owner
                                .query_row(params![project.id, key], |r| r.get(0))
                                .optional()
                        };
                        match judge(&incoming.event, &mut owner_of)? {
                            Some(refused) => refused,
                            None => {
                                insert.execute(params![
                                    project.id,
                                    id_text,
                                    incoming.json,
                                    now,
                                    token
                                ])?;
                                let seq = tx.last_insert_rowid() as u64;
                                for key in owned_keys(&incoming.event) {
                                    own.execute(params![project.id, key, incoming.event.author])?;
                                }
                                if let liner_record::Body::ClipAttached(c) = &incoming.event.body {
                                    clip_ref.execute(params![
                                        project.id,
                                        c.clip.hash.as_str(),
                                        c.clip.bytes as i64
                                    ])?;
                                }
                                PushOutcome::Stored(seq)
                            }
                        }
                    }
                };
                out.push(outcome);
            }
        }
        tx.commit()?;
        Ok(out)
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
                params![hash(secret), now_ms().saturating_sub(SESSION_MS)],
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
                    role: r.get::<_, String>(6)?.parse().unwrap_or(Role::Viewer),
                    revoked: r.get::<_, i64>(7)? != 0,
                    created_ms: r.get(8)?,
                }),
                None => None,
            };
            Ok(Receipt {
                seq: r.get::<_, i64>(0)? as u64,
                id: r
                    .get::<_, String>(1)?
                    .parse()
                    .unwrap_or_else(|_| Uuid::nil()),
                kind: serde_json::from_str::<KindOnly>(&json)
                    .map(|k| k.kind)
                    .unwrap_or_else(|_| "(unreadable)".into()),
                received_ms: r.get(3)?,
                token,
            })
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
        let expected: Option<i64> = tx
            .query_row(
                "SELECT bytes FROM clip_refs WHERE project_id = ?1 AND hash = ?2",
                params![project.id, hash.as_str()],
                |r| r.get(0),
            )
            .optional()?;
        let Some(expected) = expected else {
            return Ok(ClipPut::Unknown);
        };
        if expected as u64 != bytes.len() as u64 {
            return Ok(ClipPut::WrongSize {
                expected: expected as u64,
            });
        }
        let there: bool = tx
            .query_row(
                "SELECT 1 FROM clips WHERE project_id = ?1 AND hash = ?2",
                params![project.id, hash.as_str()],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        if there {
            return Ok(ClipPut::AlreadyStored);
        }
        let used: i64 = tx.query_row(
            "SELECT COALESCE(SUM(size), 0) FROM clips WHERE project_id = ?1",
            [project.id],
            |r| r.get(0),
        )?;
        if used as u64 + bytes.len() as u64 > quota {
            return Ok(ClipPut::OverQuota {
                used: used as u64,
                quota,
            });
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

    fn clip_usage(&self, project: &Project) -> Result<u64> {
        let used: i64 = self.conn().query_row(
            "SELECT COALESCE(SUM(size), 0) FROM clips WHERE project_id = ?1",
            [project.id],
            |r| r.get(0),
        )?;
        Ok(used as u64)
    }

    fn pull(&self, project: &Project, after: u64, limit: usize) -> Result<Vec<(u64, String)>> {
        let conn = self.conn();
        let mut st = conn.prepare_cached(
            "SELECT seq, json FROM events WHERE project_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
        )?;
        let rows = st.query_map(params![project.id, after as i64, limit as i64], |r| {
            Ok((r.get::<_, i64>(0)? as u64, r.get(1)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

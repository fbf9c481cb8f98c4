//! Storage behind a trait, so a PostgreSQL backend can follow without touching the handlers.
//! [`SqliteStore`] keeps everything in one SQLite file (bundled SQLite, WAL), one transaction
//! per call; schema migrations are only ever added.

use rusqlite::{params, Connection, OptionalExtension};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::Mutex;
use subtle::ConstantTimeEq;
use uuid::Uuid;

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
}

pub type Result<T> = std::result::Result<T, StoreError>;

#[derive(Debug, Clone, PartialEq)]
pub struct Project {
    pub id: i64,
    pub name: String,
}

/// A token as listed (never the secret).
#[derive(Debug, Clone, PartialEq)]
pub struct TokenInfo {
    pub id: i64,
    pub project: Project,
    pub name: String,
    pub role: Role,
    pub revoked: bool,
    pub created_ms: i64,
}

/// What happened to one pushed event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushOutcome {
    /// New: stored under this sequence number.
    Stored(u64),
    /// Already stored, byte for byte (a retry): its sequence number.
    Duplicate(u64),
    /// The id is taken by an event with other content; nothing stored.
    Conflict,
}

/// What the handlers need from storage.
pub trait Store: Send + Sync + 'static {
    fn create_project(&self, name: &str) -> Result<Project>;
    fn project(&self, name: &str) -> Result<Option<Project>>;
    fn projects(&self) -> Result<Vec<Project>>;
    /// Issues a token; returns it with its secret (shown once, stored hashed).
    fn add_token(&self, project: &str, name: &str, role: Role) -> Result<(TokenInfo, String)>;
    fn tokens(&self) -> Result<Vec<TokenInfo>>;
    fn revoke_token(&self, id: i64) -> Result<()>;
    /// The live token with this secret, if any.
    fn authenticate(&self, secret: &str) -> Result<Option<TokenInfo>>;
    /// Stores new events of a project in one transaction. `events` are (id, exact JSON).
    fn push(&self, project: &Project, events: &[(Uuid, String)]) -> Result<Vec<PushOutcome>>;
    /// Events after a sequence number, in order: (seq, JSON).
    fn pull(&self, project: &Project, after: u64, limit: usize) -> Result<Vec<(u64, String)>>;
    fn last_seq(&self, project: &Project) -> Result<u64>;

    /// Every event of a project, parsed, in sequence order (for exports). Stored events were
    /// validated on the way in; one that no longer parses is skipped.
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
];

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
    pub fn open(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::Db(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
                Some(format!("cannot create {}: {e}", dir.display())),
            ))
        })?;
        let mut conn = Connection::open(dir.join("liner.db"))?;
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

fn row_token(r: &rusqlite::Row<'_>) -> rusqlite::Result<TokenInfo> {
    let role: String = r.get(3)?;
    Ok(TokenInfo {
        id: r.get(0)?,
        project: Project {
            id: r.get(6)?,
            name: r.get(7)?,
        },
        name: r.get(2)?,
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

    fn add_token(&self, project: &str, name: &str, role: Role) -> Result<(TokenInfo, String)> {
        let p = self
            .project(project)?
            .ok_or_else(|| StoreError::NoProject(project.to_owned()))?;
        let secret: String = {
            use rand::Rng;
            let bytes: [u8; 32] = rand::rng().random();
            format!(
                "ln_{}",
                bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
            )
        };
        let conn = self.conn();
        let created = now_ms();
        conn.execute(
            "INSERT INTO tokens (project_id, name, role, hash, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![p.id, name, role.as_str(), hash(&secret), created],
        )?;
        Ok((
            TokenInfo {
                id: conn.last_insert_rowid(),
                project: p,
                name: name.to_owned(),
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

    fn push(&self, project: &Project, events: &[(Uuid, String)]) -> Result<Vec<PushOutcome>> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut out = Vec::with_capacity(events.len());
        {
            let mut find = tx
                .prepare_cached("SELECT seq, json FROM events WHERE project_id = ?1 AND id = ?2")?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO events (project_id, id, json, received_ms) VALUES (?1, ?2, ?3, ?4)",
            )?;
            let now = now_ms();
            for (id, json) in events {
                let id_text = id.to_string();
                let existing: Option<(i64, String)> = find
                    .query_row(params![project.id, id_text], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()?;
                out.push(match existing {
                    Some((seq, stored)) if stored == *json => PushOutcome::Duplicate(seq as u64),
                    Some(_) => PushOutcome::Conflict,
                    None => {
                        insert.execute(params![project.id, id_text, json, now])?;
                        PushOutcome::Stored(tx.last_insert_rowid() as u64)
                    }
                });
            }
        }
        tx.commit()?;
        Ok(out)
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

    fn last_seq(&self, project: &Project) -> Result<u64> {
        Ok(self.conn().query_row(
            "SELECT COALESCE(MAX(seq), 0) FROM events WHERE project_id = ?1",
            [project.id],
            |r| r.get::<_, i64>(0),
        )? as u64)
    }
}

//! Copying a studio's SQLite record into PostgreSQL (`liner migrate`): every row as it is
//! stored (ids, sequence numbers, token hashes, who pushed what and when), so the record reads
//! the same from either, and a second run adds nothing.

use super::{PgStore, Result, SqliteStore};

/// What one copy did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Copied {
    pub loaded: Loaded,
    pub clips: u64,
}

/// Copies everything in `from` into `to`: the rows in one transaction, then the clips one by
/// one (each is in or not; a run cut short is finished by the next).
///
/// # Errors
/// Either database fails, or `to` holds another record under the same ids (nothing of the
/// rows is written then).
pub fn copy(from: &SqliteStore, to: &PgStore) -> Result<Copied> {
    let loaded = to.load(from.dump()?)?;
    let mut clips = 0;
    for (project, hash) in from.clip_keys()? {
        if let Some(row) = from.clip_row(project, &hash)? {
            clips += u64::from(to.load_clip(row)?);
        }
    }
    Ok(Copied { loaded, clips })
}

/// A project row as stored.
#[derive(Debug, Clone)]
pub struct ProjectRow {
    pub id: i64,
    pub name: String,
    pub created_ms: i64,
}

/// A token row as stored (its secret's hash, never the secret).
#[derive(Debug, Clone)]
pub struct TokenRow {
    pub id: i64,
    pub project_id: i64,
    pub name: String,
    pub role: String,
    pub hash: String,
    pub revoked: bool,
    pub created_ms: i64,
}

/// An event row as stored.
#[derive(Debug, Clone)]
pub struct EventRow {
    pub project_id: i64,
    pub seq: i64,
    pub id: String,
    pub json: String,
    pub received_ms: i64,
    pub token_id: Option<i64>,
}

/// A review page session as stored.
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub hash: String,
    pub token_id: i64,
    pub csrf: String,
    pub created_ms: i64,
}

/// A clip as stored.
#[derive(Debug, Clone)]
pub struct ClipRow {
    pub project_id: i64,
    pub hash: String,
    pub data: Vec<u8>,
    pub size: i64,
    pub token_id: Option<i64>,
    pub received_ms: i64,
}

/// Every row of a record but the clips' bytes, as [`SqliteStore::dump`](super::SqliteStore::dump) reads it.
#[derive(Debug, Clone, Default)]
pub struct Dump {
    pub projects: Vec<ProjectRow>,
    pub tokens: Vec<TokenRow>,
    pub events: Vec<EventRow>,
    /// (project id, key, owner)
    pub subjects: Vec<(i64, String, String)>,
    pub sessions: Vec<SessionRow>,
    /// (project id, hash, bytes)
    pub clip_refs: Vec<(i64, String, i64)>,
}

/// What [`PgStore::load`](super::PgStore::load) added (rows already there are not counted).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Loaded {
    pub projects: u64,
    pub tokens: u64,
    pub events: u64,
}

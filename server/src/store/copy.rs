//! Copying a studio's SQLite record into PostgreSQL (`liner migrate`): every row as it is
//! stored (ids, sequence numbers, token hashes, who pushed what and when), so the record reads
//! the same from either, and a second run adds nothing.

use super::{PgStore, Result, SqliteStore};

/// What one copy did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Copied {
    pub loaded: Loaded,
    pub clips: u64,
    /// Version chunks copied: of complete versions and of uploads cut off alike.
    pub version_chunks: u64,
    /// Complete versions recorded as complete.
    pub versions: u64,
    /// Complete versions left incomplete on PostgreSQL: the SQLite record lacks some of
    /// their chunks (`liner check` names them there). Their chunks are copied; an upload
    /// of the rest completes them.
    pub versions_held_back: u64,
}

/// Copies everything in `from` into `to`: the rows in one transaction (version references
/// among them), then the clips one by one, then every version chunk one by one (never more
/// than one chunk in memory), then the versions' completion records. Each clip, chunk and
/// record is in or not, so a run cut short is finished by the next, and a second run adds
/// nothing (nor reads a chunk PostgreSQL holds already).
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
    let mut copied = Copied {
        loaded,
        clips,
        ..Copied::default()
    };
    copy_versions(from, to, &mut copied)?;
    Ok(copied)
}

/// The versions part of [`copy`]. The completion records are read before the chunks are
/// listed: a version complete then has all its chunks stored by then (a complete version's
/// chunks are never dropped), so each record is written after its chunks are on
/// PostgreSQL, and a version is never served there before it is whole.
fn copy_versions(from: &SqliteStore, to: &PgStore, copied: &mut Copied) -> Result<()> {
    let complete = from.version_rows()?;
    let there = to.version_chunk_keys()?;
    for key in from.version_chunk_keys()? {
        if there.contains(&key) {
            continue;
        }
        let (project, hash, index) = key;
        if let Some(row) = from.version_chunk_row(project, &hash, index)? {
            copied.version_chunks += u64::from(to.load_version_chunk(row)?);
        }
    }
    for row in complete {
        match to.load_version(row)? {
            VersionLoad::Copied => copied.versions += 1,
            VersionLoad::There => {}
            VersionLoad::HeldBack => copied.versions_held_back += 1,
        }
    }
    Ok(())
}

/// What became of a version's completion record copied ([`PgStore::load_version`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionLoad {
    Copied,
    /// It was there already.
    There,
    /// Not written: some of its chunks are not on PostgreSQL.
    HeldBack,
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

/// A version's chunk as stored (complete or not).
#[derive(Debug, Clone)]
pub struct VersionChunkRow {
    pub project_id: i64,
    pub hash: String,
    pub idx: i64,
    pub data: Vec<u8>,
    pub size: i64,
}

/// A complete version's record as stored: who sent the chunk that completed it, and when.
#[derive(Debug, Clone)]
pub struct VersionRow {
    pub project_id: i64,
    pub hash: String,
    pub size: i64,
    pub token_id: Option<i64>,
    pub received_ms: i64,
}

/// Every row of a record but the clips' and versions' bytes and the versions' completion
/// records (copied after their chunks), as [`SqliteStore::dump`](super::SqliteStore::dump)
/// reads it.
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
    /// What `version_printed` events name: (project id, hash, bytes)
    pub version_refs: Vec<(i64, String, i64)>,
    /// Webhooks, with their cursors (their logs stay behind).
    pub hooks: Vec<super::hooks::HookRow>,
    /// Each person's digest settings (last look, feed, mail).
    pub digests: Vec<super::digests::DigestRow>,
    /// Listening links (their secrets' hashes), and the comments guests left through them.
    pub links: Vec<super::guests::LinkRow>,
    pub guest_comments: Vec<super::guests::GuestCommentRow>,
}

/// What [`PgStore::load`](super::PgStore::load) added (rows already there are not counted).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Loaded {
    pub projects: u64,
    pub tokens: u64,
    pub events: u64,
}

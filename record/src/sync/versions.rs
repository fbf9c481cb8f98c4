//! Versions ([`crate::versions`]) go up after their events, as clips do, but in chunks that
//! resume: once the server acknowledged a `version_printed` event, the uploader asks what
//! the server holds of the version (`GET /api/v1/versions/<hash>/chunks`) and sends the
//! chunks it lacks (`PUT /api/v1/versions/<hash>/chunks/<index>`), each read from the file
//! when it goes, so a version of any size costs one chunk ([`CHUNK_BYTES`]) of memory. An
//! upload cut off (a lost connection, a server restart, the DAW closed) goes on from the
//! server's last whole chunk. The server checks the whole against its hash when the last
//! chunk is in; `versions.log` in the server's sync folder lists the versions it holds
//! complete, so each goes once.
//!
//! Never in the way of notes: [`send_version`] stops at a deadline between chunks
//! ([`VersionSent::Paused`]); the plugin's push thread gives versions about a second a
//! round ([`VERSION_TURN`]) and then pushes events again before it goes on. `liner sync`
//! sends everything in one go.
//!
//! A project over its quota (clips and versions share it) is told in words and retried
//! later; a version whose file this journal lacks, or whose file changed, is skipped.

use super::client::error_of;
use super::{SyncClient, SyncError};
use crate::clips::ClipHash;
use crate::versions::{chunk_span, Version, VersionStore, CHUNK_BYTES};
use serde::Deserialize;
use std::collections::HashSet;
use std::io::{Read, Seek, SeekFrom};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// How long one round of the plugin's push thread may send version chunks before it goes
/// back to pushing events (a chunk in flight finishes first).
pub const VERSION_TURN: Duration = Duration::from_secs(1);

/// The upload speed a chunk's time limit allows for beyond the usual one (as for clips).
const SLOWEST_UPLOAD: u64 = 256_000;

/// What the server holds of a version (`GET /api/v1/versions/<hash>/chunks`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct VersionChunks {
    pub chunk_bytes: u64,
    pub chunks: u64,
    /// The chunks it has, by index.
    pub have: Vec<u64>,
    /// Whether it holds the whole, checked against its hash.
    pub complete: bool,
}

/// What the server did with one chunk.
#[derive(Debug, Clone, PartialEq)]
pub enum ChunkSent {
    /// It has it (now or before); `complete` once the whole version is in and checked.
    Stored { complete: bool },
    /// It knows no event naming the version yet: try again later.
    NotYet,
    /// The project's clips and versions fill the server's room; words for people.
    OverQuota(String),
    /// The chunks put together did not hash to the version's name: the server dropped them.
    Mismatch(String),
    /// It refused the chunk for good; words for people.
    Refused(String),
}

/// Where a version's upload stands after its turn.
#[derive(Debug, Clone, PartialEq)]
pub enum VersionSent {
    /// The server holds it whole.
    Complete,
    /// Its turn ended (the deadline) with chunks still to send: the next round goes on.
    Paused,
    /// The server knows no event naming it yet.
    NotYet,
    /// The project's quota is full; words for people.
    OverQuota(String),
    /// Refused for good; words for people.
    Refused(String),
    /// This journal lacks its file, or the file is not the version any more.
    Missing,
}

/// A version of the journal that may go up: its event, song and label, and the audio.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingVersion {
    pub event: Uuid,
    pub song: String,
    pub label: String,
    pub version: Version,
}

/// How far the version being uploaded has got: data for the editor's header (which version,
/// bytes the server holds of it, of how many).
#[derive(Debug, Clone, PartialEq)]
pub struct VersionUpload {
    /// The `version_printed` event.
    pub event: Uuid,
    pub hash: ClipHash,
    pub song: String,
    pub label: String,
    /// Bytes of the version the server holds.
    pub sent_bytes: u64,
    /// The version's size.
    pub total_bytes: u64,
}

impl VersionUpload {
    /// Whole percent sent (for deciding when to redraw).
    pub fn percent(&self) -> u64 {
        (self.sent_bytes.saturating_mul(100))
            .checked_div(self.total_bytes)
            .unwrap_or(100)
    }
}

impl SyncClient {
    /// What the server holds of a version; `None` when it knows no event naming it (yet).
    ///
    /// # Errors
    /// [`SyncError`]: the server unreachable, the token refused, a redirect (never
    /// followed), an answer this client cannot read, or the call cancelled.
    pub fn version_chunks(&self, hash: &ClipHash) -> Result<Option<VersionChunks>, SyncError> {
        let (status, body) = self.send_unmapped(
            self.http
                .get(format!("{}/api/v1/versions/{hash}/chunks", self.base())),
        )?;
        match status.as_u16() {
            200 => serde_json::from_str(&body)
                .map(Some)
                .map_err(|e| SyncError::Server(e.to_string())),
            404 => Ok(None),
            408 | 429 | 500..=599 => Err(SyncError::Server(error_of(status, &body).1)),
            _ => Err(SyncError::Refused(error_of(status, &body).1)),
        }
    }

    /// Sends chunk `index` of a version (after its event was acknowledged).
    ///
    /// # Errors
    /// [`SyncError`]: the server unreachable, busy or failing (try again later), the token
    /// refused, a redirect (never followed), or the call cancelled.
    pub fn put_version_chunk(
        &self,
        hash: &ClipHash,
        index: u64,
        bytes: Vec<u8>,
    ) -> Result<ChunkSent, SyncError> {
        let limit = self.timeout + Duration::from_secs(bytes.len() as u64 / SLOWEST_UPLOAD);
        let (status, body) = self.send_unmapped(
            self.http
                .put(format!(
                    "{}/api/v1/versions/{hash}/chunks/{index}",
                    self.base()
                ))
                .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                .timeout(limit)
                .body(bytes),
        )?;
        let (code, words) = error_of(status, &body);
        Ok(match status.as_u16() {
            200 | 201 => ChunkSent::Stored {
                complete: serde_json::from_str::<serde_json::Value>(&body)
                    .is_ok_and(|v| v["complete"] == true),
            },
            404 if code == "unknown_version" => ChunkSent::NotYet,
            507 => ChunkSent::OverQuota(words),
            422 if code == "hash_mismatch" => ChunkSent::Mismatch(words),
            408 | 429 | 500..=599 => return Err(SyncError::Server(words)),
            _ => ChunkSent::Refused(words),
        })
    }
}

/// Sends what the server lacks of `v`, read from `store` a chunk at a time, until the server
/// holds it whole or `deadline` passes (checked between chunks; `None`: no deadline).
/// `progress` hears how far it got after each chunk, and once before the first.
///
/// # Errors
/// A request failed ([`SyncError`]); a version damaged on the way whose file is still
/// right is one too (the server dropped its chunks: it goes again next round).
pub fn send_version(
    client: &SyncClient,
    store: &VersionStore,
    v: &PendingVersion,
    deadline: Option<Instant>,
    progress: &mut dyn FnMut(&VersionUpload),
) -> Result<VersionSent, SyncError> {
    let (hash, total) = (&v.version.hash, v.version.bytes);
    let Some(held) = client.version_chunks(hash)? else {
        return Ok(VersionSent::NotYet);
    };
    if held.complete {
        return Ok(VersionSent::Complete);
    }
    if held.chunk_bytes != CHUNK_BYTES || held.chunks != v.version.chunks() {
        return Ok(VersionSent::Refused(format!(
            "the server cuts this version in {} chunks of {} bytes, this plugin in {} of {}: \
             update the plugin or the server",
            held.chunks,
            held.chunk_bytes,
            v.version.chunks(),
            CHUNK_BYTES
        )));
    }
    let path = store.path(&v.version);
    let Some(mut file) = std::fs::File::open(&path)
        .ok()
        .filter(|f| f.metadata().is_ok_and(|m| m.len() == total))
    else {
        return Ok(VersionSent::Missing);
    };
    let have: HashSet<u64> = held.have.into_iter().collect();
    let mut upload = VersionUpload {
        event: v.event,
        hash: hash.clone(),
        song: v.song.clone(),
        label: v.label.clone(),
        sent_bytes: have
            .iter()
            .filter_map(|&i| chunk_span(total, i))
            .map(|(_, n)| n)
            .sum(),
        total_bytes: total,
    };
    progress(&upload);
    let mut missing: Vec<u64> = (0..held.chunks).filter(|i| !have.contains(i)).collect();
    if missing.is_empty() {
        // Every chunk is in but the whole was not checked (the server stopped in between):
        // the last chunk again has it checked.
        missing.push(held.chunks.saturating_sub(1));
    }
    for index in missing {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(VersionSent::Paused);
        }
        let Ok(bytes) = read_chunk(&mut file, total, index) else {
            return Ok(VersionSent::Missing);
        };
        let len = bytes.len() as u64;
        match client.put_version_chunk(hash, index, bytes)? {
            ChunkSent::Stored { complete } => {
                upload.sent_bytes = (upload.sent_bytes + len).min(total);
                progress(&upload);
                if complete {
                    return Ok(VersionSent::Complete);
                }
            }
            ChunkSent::NotYet => return Ok(VersionSent::NotYet),
            ChunkSent::OverQuota(words) => return Ok(VersionSent::OverQuota(words)),
            ChunkSent::Refused(words) => return Ok(VersionSent::Refused(words)),
            ChunkSent::Mismatch(words) => return damaged(&path, hash, words),
        }
    }
    Ok(VersionSent::Paused)
}

/// Chunk `index` of a file of `total` bytes, read from `file` (one chunk in memory).
fn read_chunk(file: &mut std::fs::File, total: u64, index: u64) -> std::io::Result<Vec<u8>> {
    let (start, len) = chunk_span(total, index)
        .ok_or_else(|| std::io::Error::other(format!("no chunk {index}")))?;
    file.seek(SeekFrom::Start(start))?;
    let mut bytes = vec![0u8; len as usize];
    file.read_exact(&mut bytes)?;
    Ok(bytes)
}

/// The server found the whole damaged: when this file is not the version any more it is
/// skipped; otherwise the damage was on the way and the version goes again later.
fn damaged(
    path: &std::path::Path,
    hash: &ClipHash,
    words: String,
) -> Result<VersionSent, SyncError> {
    match crate::versions::hash_file(path) {
        Ok((h, _)) if &h == hash => Err(SyncError::Server(words)),
        _ => Ok(VersionSent::Missing),
    }
}

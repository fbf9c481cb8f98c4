//! Uploads (clips, and versions' chunks) take turns by project and by token.
//!
//! An upload is judged first (an event of the project names the clip or version, the
//! declared length is the one the event gives and fits the quota:
//! [`crate::store::Store::judge_clip`], [`crate::store::Store::judge_version_chunk`]); only
//! then does it take an [`UploadSlot`] and is its body read (`crate::api::upload`, one home
//! for both). Slots are counted three ways,
//! and an upload past any share is answered `503` with `Retry-After` at once instead of
//! waiting (a client that waits holds a connection): [`UPLOADS_AT_ONCE`] on the server,
//! [`UPLOADS_PER_PROJECT`] per project, [`UPLOADS_PER_TOKEN`] per token. Serving clips does
//! not use these slots, so a read never waits behind an upload.
//!
//! [`read_body`] reads the body to its declared length; a body that falls below the floor
//! rate ([`super::floor`]) ends the upload with `408`.

use super::floor::TooSlow;
use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// Uploads being read at once on this server (a clip holds up to 36 MiB in memory, a
/// version chunk 1 MiB).
pub const UPLOADS_AT_ONCE: usize = 6;
/// Uploads one project may have in progress at once.
pub const UPLOADS_PER_PROJECT: usize = 3;
/// Uploads one token may have in progress at once (a plugin sends its clips and chunks one
/// by one).
pub const UPLOADS_PER_TOKEN: usize = 2;

/// The upload slots in use.
#[derive(Default)]
pub struct Uploads {
    counts: Mutex<Counts>,
}

#[derive(Default)]
struct Counts {
    total: usize,
    projects: HashMap<i64, usize>,
    tokens: HashMap<i64, usize>,
}

/// Which share an upload found full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoSlot {
    Server,
    Project,
    Token,
}

impl NoSlot {
    /// Words for whoever reads the refusal.
    pub fn words(self) -> &'static str {
        match self {
            NoSlot::Server => "the server is receiving as many uploads as it takes at once",
            NoSlot::Project => "this project has as many uploads in progress as it may",
            NoSlot::Token => "this token has as many uploads in progress as it may",
        }
    }
}

/// One upload's turn; given back when dropped.
pub struct UploadSlot<'a> {
    uploads: &'a Uploads,
    project: i64,
    token: i64,
}

impl Uploads {
    /// How many uploads hold a slot now.
    pub fn in_progress(&self) -> usize {
        self.counts.lock().unwrap_or_else(|e| e.into_inner()).total
    }

    /// A slot for an upload of `project` by `token`, if every share has room.
    ///
    /// # Errors
    /// The share that is full.
    pub fn take(&self, project: i64, token: i64) -> Result<UploadSlot<'_>, NoSlot> {
        let mut c = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        if c.total >= UPLOADS_AT_ONCE {
            return Err(NoSlot::Server);
        }
        if c.projects.get(&project).copied().unwrap_or(0) >= UPLOADS_PER_PROJECT {
            return Err(NoSlot::Project);
        }
        if c.tokens.get(&token).copied().unwrap_or(0) >= UPLOADS_PER_TOKEN {
            return Err(NoSlot::Token);
        }
        c.total += 1;
        *c.projects.entry(project).or_default() += 1;
        *c.tokens.entry(token).or_default() += 1;
        Ok(UploadSlot {
            uploads: self,
            project,
            token,
        })
    }
}

impl Drop for UploadSlot<'_> {
    fn drop(&mut self) {
        let mut c = self
            .uploads
            .counts
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        c.total -= 1;
        let Counts {
            projects, tokens, ..
        } = &mut *c;
        for (map, key) in [(projects, self.project), (tokens, self.token)] {
            if let Some(n) = map.get_mut(&key) {
                *n -= 1;
                if *n == 0 {
                    map.remove(&key);
                }
            }
        }
    }
}

/// Why a body was not read whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyError {
    /// It fell below the floor rate: `received` bytes after `after`.
    TooSlow { received: u64, after: Duration },
    /// More bytes came than the declared length.
    TooLong,
    /// The connection broke, or fewer bytes came than declared.
    Broken(String),
}

/// Reads a body of `declared` bytes, or less when `discard` (the bytes are counted and
/// dropped, for an answer that needs none of them). The floor rate is the connection's
/// ([`super::floor::Floored`], around every request body); here it becomes
/// [`BodyError::TooSlow`].
///
/// # Errors
/// [`BodyError`]: too slow, too long, or broken off.
pub async fn read_body(
    body: axum::body::Body,
    declared: u64,
    discard: bool,
) -> Result<Vec<u8>, BodyError> {
    let mut stream = body.into_data_stream();
    let mut out = Vec::with_capacity(if discard { 0 } else { declared as usize });
    let mut received: u64 = 0;
    while let Some(data) = stream.next().await {
        let data = data.map_err(|e| match TooSlow::within(&e) {
            Some(t) => BodyError::TooSlow {
                received: t.received,
                after: t.after,
            },
            None => BodyError::Broken(e.to_string()),
        })?;
        received += data.len() as u64;
        if received > declared {
            return Err(BodyError::TooLong);
        }
        if !discard {
            out.extend_from_slice(&data);
        }
    }
    if received != declared {
        return Err(BodyError::Broken(format!(
            "{received} bytes came of the {declared} declared"
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_share_is_counted_and_given_back() {
        let u = Uploads::default();
        let a: Vec<_> = (0..UPLOADS_PER_TOKEN)
            .map(|_| u.take(1, 10).unwrap())
            .collect();
        assert_eq!(u.take(1, 10).err(), Some(NoSlot::Token));
        let b = u.take(1, 11).unwrap();
        assert_eq!(UPLOADS_PER_PROJECT, UPLOADS_PER_TOKEN + 1);
        assert_eq!(u.take(1, 12).err(), Some(NoSlot::Project));
        let others: Vec<_> = (0..UPLOADS_AT_ONCE - UPLOADS_PER_PROJECT)
            .map(|i| u.take(2 + i as i64, 20 + i as i64).unwrap())
            .collect();
        assert_eq!(u.take(99, 99).err(), Some(NoSlot::Server));
        drop(others);
        drop(b);
        drop(a);
        assert_eq!(u.counts.lock().unwrap().total, 0);
        assert!(u.counts.lock().unwrap().projects.is_empty());
        assert!(u.counts.lock().unwrap().tokens.is_empty());
        assert!(u.take(1, 10).is_ok());
    }
}

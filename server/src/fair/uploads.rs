//! Clip uploads take turns by project and by token, and a body that trickles is cut off.
//!
//! An upload is judged first (an event of the project names the clip, the declared length
//! is the one the event gives and fits the quota: [`crate::store::Store::judge_clip`]); only
//! then does it take an [`UploadSlot`] and is its body read. Slots are counted three ways,
//! and an upload past any share is answered `503` with `Retry-After` at once instead of
//! waiting (a client that waits holds a connection): [`UPLOADS_AT_ONCE`] on the server,
//! [`UPLOADS_PER_PROJECT`] per project, [`UPLOADS_PER_TOKEN`] per token. Serving clips does
//! not use these slots, so a read never waits behind an upload.
//!
//! [`read_body`] holds a body to a floor rate: after a grace period the bytes received must
//! keep up with [`Floor::bytes_per_second`], or the upload ends with `408`.

use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// Clip uploads being read at once on this server (each holds up to 36 MiB in memory).
pub const UPLOADS_AT_ONCE: usize = 6;
/// Clip uploads one project may have in progress at once.
pub const UPLOADS_PER_PROJECT: usize = 3;
/// Clip uploads one token may have in progress at once (a plugin sends its clips one by one).
pub const UPLOADS_PER_TOKEN: usize = 2;

/// The slowest a clip body may arrive after [`Floor::grace`], unless configured otherwise:
/// 32 KiB/s, an eighth of the slowest uplink the plugin allows for (256 kB/s).
pub const FLOOR_BYTES_PER_SECOND: u64 = 32 * 1024;
/// How long a clip body may take to get going before the floor applies.
pub const FLOOR_GRACE: Duration = Duration::from_secs(10);

/// The floor rate of an upload's body.
#[derive(Debug, Clone, Copy)]
pub struct Floor {
    pub bytes_per_second: u64,
    pub grace: Duration,
}

impl Default for Floor {
    fn default() -> Self {
        Floor {
            bytes_per_second: FLOOR_BYTES_PER_SECOND,
            grace: FLOOR_GRACE,
        }
    }
}

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
            NoSlot::Server => "the server is receiving as many clips as it takes at once",
            NoSlot::Project => "this project has as many clip uploads in progress as it may",
            NoSlot::Token => "this token has as many clip uploads in progress as it may",
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
/// dropped, for an answer that needs none of them), holding it to `floor`.
///
/// # Errors
/// [`BodyError`]: too slow, too long, or broken off.
pub async fn read_body(
    body: axum::body::Body,
    declared: u64,
    floor: Floor,
    discard: bool,
) -> Result<Vec<u8>, BodyError> {
    let start = Instant::now();
    let mut stream = body.into_data_stream();
    let mut out = Vec::with_capacity(if discard { 0 } else { declared as usize });
    let mut received: u64 = 0;
    loop {
        let keeping_up =
            Duration::from_secs_f64(received as f64 / floor.bytes_per_second.max(1) as f64);
        let due = start + floor.grace + keeping_up;
        match tokio::time::timeout_at(due, stream.next()).await {
            Err(_) => {
                return Err(BodyError::TooSlow {
                    received,
                    after: start.elapsed(),
                })
            }
            Ok(None) => break,
            Ok(Some(Err(e))) => {
                // The floor's error, however many bodies wrapped it on the way.
                let slow =
                    std::iter::successors(Some(&e as &(dyn std::error::Error + 'static)), |e| {
                        e.source()
                    })
                    .find_map(|e| e.downcast_ref::<TooSlow>());
                return Err(match slow {
                    Some(t) => BodyError::TooSlow {
                        received: t.received,
                        after: t.after,
                    },
                    None => BodyError::Broken(e.to_string()),
                });
            }
            Ok(Some(Ok(data))) => {
                received += data.len() as u64;
                if received > declared {
                    return Err(BodyError::TooLong);
                }
                if !discard {
                    out.extend_from_slice(&data);
                }
            }
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

/// A body fell below the floor rate: `received` bytes after `after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooSlow {
    pub received: u64,
    pub after: Duration,
}

impl std::fmt::Display for TooSlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the body arrived too slowly ({} bytes in {:.0} s)",
            self.received,
            self.after.as_secs_f64()
        )
    }
}

impl std::error::Error for TooSlow {}

/// A request body held to `floor`: after the grace period its bytes must keep up with the
/// floor rate, or reading it fails. Every request's body is wrapped in one
/// ([`crate::serve`]), so a client that trickles a body (a sign-in form, a push) cannot hold
/// its connection in flight for long; a chunk every few seconds does not reset it.
pub struct Floored {
    body: axum::body::Body,
    floor: Floor,
    start: Instant,
    received: u64,
    due: std::pin::Pin<Box<tokio::time::Sleep>>,
}

impl Floored {
    pub fn new(body: axum::body::Body, floor: Floor) -> Floored {
        let start = Instant::now();
        Floored {
            body,
            floor,
            start,
            received: 0,
            due: Box::pin(tokio::time::sleep_until(start + floor.grace)),
        }
    }

    /// When the next bytes are due: the grace, plus what the bytes so far bought.
    fn deadline(&self) -> Instant {
        let bought = Duration::from_secs_f64(
            self.received as f64 / self.floor.bytes_per_second.max(1) as f64,
        );
        self.start + self.floor.grace + bought
    }
}

impl http_body::Body for Floored {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        use std::task::Poll;
        if let Poll::Ready(frame) = std::pin::Pin::new(&mut self.body).poll_frame(cx) {
            if let Some(Ok(f)) = &frame {
                if let Some(data) = f.data_ref() {
                    self.received += data.len() as u64;
                    let next = self.deadline();
                    self.due.as_mut().reset(next);
                }
            }
            return Poll::Ready(frame);
        }
        if std::future::Future::poll(self.due.as_mut(), cx).is_ready() {
            return Poll::Ready(Some(Err(axum::Error::new(TooSlow {
                received: self.received,
                after: self.start.elapsed(),
            }))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

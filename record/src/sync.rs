//! The sync protocol's client side (feature `client`): push what the server has not
//! acknowledged, pull what others recorded, all through the local journal, so sync is
//! offline-first and exactly-once.
//!
//! Exactly once: the server stores by event id, so re-sending after a lost answer stores
//! nothing twice; an event counts as acknowledged only once the server said "stored" or
//! "duplicate", and that is written to the journal's `acks.log` before anything else. Pulled
//! events are appended byte for byte (unless the journal already has the id) and acknowledged
//! at once (they came from the server); the cursor moves only after they are durable.
//!
//! Private notes are never pushed.
//!
//! Blocking, and cancellable: each call runs on the client's own single-thread runtime and
//! returns [`SyncError::Cancelled`] as soon as its [`SyncCancel`] fires (the request is
//! abandoned; its connection closes when the client is dropped).
//! The plugin's sync thread sits in a long poll most of the time; without this, removing the
//! last plugin instance would freeze the DAW until the poll (or a stalled server's timeout)
//! ended. Not covered: a host name lookup in progress (the system resolver cannot be
//! interrupted, and the client waits for it when dropped so no thread outlives it).

use crate::event::Body;
use crate::journal::{Journal, JournalError, StoredEvent};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::collections::HashSet;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// Events per push request (the server takes up to 1,000).
pub const PUSH_BATCH: usize = 500;
/// Events per pull page.
pub const PULL_PAGE: usize = 500;

/// What went wrong, in words a producer can act on.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("the record server at {0} cannot be reached; notes wait here until it can")]
    Unreachable(String),
    #[error("the server refused the token (wrong or revoked); ask for a new one and paste it in the settings")]
    BadToken,
    #[error("the server refused: {0}")]
    Refused(String),
    #[error("the server had a problem ({0}); trying again")]
    Server(String),
    #[error("the local journal: {0}")]
    Journal(#[from] JournalError),
    #[error("sync was stopped (the plugin is closing); unsent notes wait in the journal")]
    Cancelled,
}

impl SyncError {
    /// Whether trying again later can help without anyone changing anything.
    pub fn is_retryable(&self) -> bool {
        matches!(self, SyncError::Unreachable(_) | SyncError::Server(_))
            || matches!(self, SyncError::Journal(e) if e.is_retryable())
    }
}

/// Stops the requests of every [`SyncClient`] given it, now and later. Cloning shares it.
#[derive(Debug, Clone, Default)]
pub struct SyncCancel(CancellationToken);

impl SyncCancel {
    pub fn new() -> Self {
        Self::default()
    }

    /// Ends the requests in flight (they return [`SyncError::Cancelled`]) and refuses new ones.
    pub fn cancel(&self) {
        self.0.cancel();
    }
}

/// One server connection.
pub struct SyncClient {
    http: reqwest::Client,
    /// Dropped with the client: tasks are dropped, and its blocking pool (name lookups only)
    /// is waited for, so no thread outlives the client.
    runtime: tokio::runtime::Runtime,
    base: String,
    token: String,
    cancel: SyncCancel,
}

#[derive(Deserialize)]
struct PushAnswer {
    results: Vec<PushResult>,
}

#[derive(Deserialize)]
struct PushResult {
    id: Uuid,
    status: String,
}

#[derive(Deserialize)]
struct PullAnswer<'a> {
    #[serde(borrow)]
    events: Vec<PulledEvent<'a>>,
    last_seq: u64,
}

#[derive(Deserialize)]
struct PulledEvent<'a> {
    seq: u64,
    #[serde(borrow)]
    event: &'a RawValue,
}

#[derive(Deserialize)]
struct IdOnly {
    id: Uuid,
}

#[derive(Deserialize)]
struct ErrorAnswer {
    error: ErrorBody,
}

#[derive(Deserialize)]
struct ErrorBody {
    message: String,
}

/// What one round of sync did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct SyncReport {
    /// Events the server now has that it did not acknowledge before.
    pub pushed: usize,
    /// Events whose id the server holds with other content (left unacknowledged).
    pub conflicts: Vec<Uuid>,
    /// Events received from others and appended.
    pub pulled: usize,
    /// Events still waiting to go out.
    pub pending: usize,
}

impl SyncClient {
    /// `timeout` bounds every request; a long poll's `wait` must stay below it.
    pub fn new(base_url: &str, token: &str, timeout: Duration) -> Result<Self, SyncError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| SyncError::Server(format!("cannot start the HTTP client: {e}")))?;
        let http = {
            let _in_runtime = runtime.enter();
            reqwest::Client::builder()
                .timeout(timeout)
                .connect_timeout(Duration::from_secs(5))
                .build()
                .map_err(|e| SyncError::Server(e.to_string()))?
        };
        Ok(SyncClient {
            http,
            runtime,
            base: base_url.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
            cancel: SyncCancel::new(),
        })
    }

    /// Makes `cancel` stop this client's requests (instead of a private one nobody fires).
    pub fn with_cancel(mut self, cancel: SyncCancel) -> Self {
        self.cancel = cancel;
        self
    }

    fn unreachable_or_server(&self, e: reqwest::Error) -> SyncError {
        if e.is_connect() || e.is_timeout() || e.is_request() {
            SyncError::Unreachable(self.base.clone())
        } else {
            SyncError::Server(e.to_string())
        }
    }

    async fn check(
        &self,
        r: reqwest::Result<reqwest::Response>,
    ) -> Result<reqwest::Response, SyncError> {
        let r = r.map_err(|e| self.unreachable_or_server(e))?;
        let status = r.status();
        if status.is_success() || status == reqwest::StatusCode::CONFLICT {
            return Ok(r);
        }
        let message = match r.json::<ErrorAnswer>().await {
            Ok(e) => e.error.message,
            Err(_) => status.to_string(),
        };
        Err(match status.as_u16() {
            401 => SyncError::BadToken,
            400..=499 => SyncError::Refused(message),
            _ => SyncError::Server(message),
        })
    }

    /// Sends `request` with the token and waits, on this thread, for the accepted answer's
    /// body (a timeout while reading it counts as unreachable), unless cancelled first.
    fn send(&self, request: reqwest::RequestBuilder) -> Result<String, SyncError> {
        let cancelled = self.cancel.0.cancelled();
        let answered = async {
            let sent = request.bearer_auth(&self.token).send().await;
            let answer = self.check(sent).await?;
            answer
                .text()
                .await
                .map_err(|e| self.unreachable_or_server(e))
        };
        self.runtime.block_on(async {
            tokio::select! {
                biased;
                _ = cancelled => Err(SyncError::Cancelled),
                r = answered => r,
            }
        })
    }

    /// Sends events (exact JSON); returns the ids the server has now (stored or duplicate)
    /// and those it holds with other content.
    pub fn push(&self, events: &[&StoredEvent]) -> Result<(Vec<Uuid>, Vec<Uuid>), SyncError> {
        let mut body = String::from("{\"events\":[");
        for (i, e) in events.iter().enumerate() {
            if i > 0 {
                body.push(',');
            }
            body.push_str(&e.json);
        }
        body.push_str("]}");
        let text = self.send(
            self.http
                .post(format!("{}/api/v1/events", self.base))
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body),
        )?;
        let answer: PushAnswer =
            serde_json::from_str(&text).map_err(|e| SyncError::Server(e.to_string()))?;
        let mut acked = Vec::new();
        let mut conflicts = Vec::new();
        for res in answer.results {
            match res.status.as_str() {
                "stored" | "duplicate" => acked.push(res.id),
                _ => conflicts.push(res.id),
            }
        }
        Ok((acked, conflicts))
    }

    /// Checks that the server answers and takes the token, without moving any event (the
    /// editor's "test connection").
    pub fn probe(&self) -> Result<(), SyncError> {
        self.send(self.http.get(format!(
            "{}/api/v1/events?after={}&limit=1&wait=0",
            self.base,
            i64::MAX
        )))
        .map(drop)
    }

    /// Events after `after`, waiting up to `wait` for new ones: (id, exact JSON), last seq.
    pub fn pull(
        &self,
        after: u64,
        wait: Duration,
    ) -> Result<(Vec<(Uuid, String)>, u64), SyncError> {
        let text = self.send(self.http.get(format!(
            "{}/api/v1/events?after={after}&limit={PULL_PAGE}&wait={}",
            self.base,
            wait.as_secs()
        )))?;
        let answer: PullAnswer =
            serde_json::from_str(&text).map_err(|e| SyncError::Server(e.to_string()))?;
        let mut out = Vec::with_capacity(answer.events.len());
        let mut last = after;
        for e in answer.events {
            let id: IdOnly = serde_json::from_str(e.event.get())
                .map_err(|e| SyncError::Server(e.to_string()))?;
            out.push((id.id, e.event.get().to_owned()));
            last = last.max(e.seq);
        }
        debug_assert!(answer.last_seq >= last || out.is_empty());
        Ok((out, last))
    }
}

/// Private notes, and edits and deletions of them, stay on this computer. Private notes are
/// never acknowledged (never pushed), so they are all in `unacked`.
fn private_ids(unacked: &[StoredEvent]) -> std::collections::HashSet<uuid::Uuid> {
    unacked
        .iter()
        .filter(|e| matches!(&e.event.body, Body::NoteAdded(n) if n.private))
        .map(|e| e.id)
        .collect()
}

fn is_private(e: &StoredEvent, private: &std::collections::HashSet<uuid::Uuid>) -> bool {
    match &e.event.body {
        Body::NoteAdded(n) => n.private,
        Body::NoteEdited(edit) => private.contains(&edit.note),
        Body::NoteDeleted { note } => private.contains(note),
        _ => false,
    }
}

/// One round: push everything unacknowledged (never private notes nor their edits), then pull what is new
/// (waiting up to `wait`), appending it to the journal.
pub fn sync_once(
    journal: &Journal,
    client: &SyncClient,
    wait: Duration,
) -> Result<SyncReport, SyncError> {
    let mut report = SyncReport::default();
    let unacked = journal.unacked()?;
    let private = private_ids(&unacked);
    let pending: Vec<StoredEvent> = unacked
        .into_iter()
        .filter(|e| !is_private(e, &private))
        .collect();
    let mut failed = 0;
    for chunk in pending.chunks(PUSH_BATCH) {
        let refs: Vec<&StoredEvent> = chunk.iter().collect();
        let (acked, conflicts) = match client.push(&refs) {
            Ok(r) => r,
            Err(e) => {
                report.pending = pending.len() - report.pushed;
                return Err(e);
            }
        };
        journal.ack(&acked)?;
        report.pushed += acked.len();
        failed += conflicts.len();
        report.conflicts.extend(conflicts);
    }
    report.pending = failed;

    // Pull page by page until caught up; only the first request waits.
    let mut known: Option<HashSet<Uuid>> = None;
    let mut wait = wait;
    loop {
        let after = journal.last_seq()?;
        let (events, last) = client.pull(after, wait)?;
        wait = Duration::ZERO;
        if !events.is_empty() {
            let known = match &mut known {
                Some(k) => k,
                None => known.insert(journal.scan()?.ids.into_iter().collect()),
            };
            let new: Vec<(Uuid, String)> = events
                .iter()
                .filter(|(id, _)| !known.contains(id))
                .cloned()
                .collect();
            // Durable first, then acknowledged, then the cursor moves past them.
            journal.append_json(&new)?;
            let ids: Vec<Uuid> = events.iter().map(|(id, _)| *id).collect();
            journal.ack(&ids)?;
            known.extend(ids);
            report.pulled += new.len();
        }
        if last > after {
            journal.set_last_seq(last)?;
        }
        if events.len() < PULL_PAGE {
            return Ok(report);
        }
    }
}

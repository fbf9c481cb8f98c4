//! The sync protocol's client side (feature `client`): push what the server has not
//! acknowledged, pull what others recorded, all through the local journal, so sync is
//! offline-first and exactly-once.
//!
//! A round ([`sync_once`]) asks the server who the token speaks for (`GET /api/v1/me`), sends
//! what [`crate::outbox`] finds ready, and pulls what is new.
//!
//! Exactly once: the server stores by event id, so re-sending after a lost answer stores
//! nothing twice; an event counts as acknowledged only once the server said "stored" or
//! "duplicate", and that is written to the journal's `acks.log` before anything else. Pulled
//! events are appended in their canonical form (unless the journal already has the id) and
//! acknowledged at once (they came from the server); the cursor moves only after they are
//! durable.
//!
//! One bad event never stops sync: an event the server refuses is set aside in the journal
//! with the server's reason (the rest of its batch goes on, and later rounds do not send it
//! again); a pulled event this client cannot journal (not an event, or of another project) is
//! set aside with the reason and the cursor moves past it; and pulling never waits for
//! pushing to succeed.
//!
//! The token goes only to the server it was given for: requests never follow redirects.
//!
//! Blocking, and cancellable: each call runs on the client's own single-thread runtime and
//! returns [`SyncError::Cancelled`] as soon as its [`SyncCancel`] fires (the request is
//! abandoned; its connection closes when the client is dropped).
//! The plugin's sync thread sits in a long poll most of the time; without this, removing the
//! last plugin instance would freeze the DAW until the poll (or a stalled server's timeout)
//! ended. Not covered: a host name lookup in progress (the system resolver cannot be
//! interrupted, and the client waits for it when dropped so no thread outlives it).

use crate::event::Event;
use crate::journal::{Aside, Journal, JournalError, StoredEvent};
use crate::outbox::{outbox, Identity, Waiting};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::collections::HashSet;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// Most events per push request (the server takes up to 1,000).
pub const PUSH_BATCH: usize = 500;
/// Most bytes of events per push request (the server takes bodies up to 4 MiB).
pub const PUSH_BYTES: usize = 2 << 20;
/// Events per pull page.
pub const PULL_PAGE: usize = 500;

/// What went wrong, in words a producer can act on.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("the record server at {0} cannot be reached; notes wait here until it can")]
    Unreachable(String),
    #[error("the server refused the token (wrong or revoked); ask for a new one and paste it in the settings")]
    BadToken,
    #[error("this token is for the project {token:?} on that server, not {journal:?}: set the project to {token:?} or paste the token for {journal:?}")]
    WrongProject { token: String, journal: String },
    #[error("the server refused: {0}")]
    Refused(String),
    #[error("the server had a problem ({0}); trying again")]
    Server(String),
    #[error("the local journal: {0}")]
    Journal(#[from] JournalError),
    #[error("sync was stopped (the plugin is closing); unsent notes wait in the journal")]
    Cancelled,
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
    #[serde(default)]
    error: Option<ErrorBody>,
}

#[derive(Deserialize)]
struct PullAnswer<'a> {
    #[serde(borrow)]
    events: Vec<PulledEvent<'a>>,
}

#[derive(Deserialize)]
struct PulledEvent<'a> {
    seq: u64,
    #[serde(borrow)]
    event: &'a RawValue,
}

#[derive(Deserialize)]
struct ErrorAnswer {
    error: ErrorBody,
}

#[derive(Deserialize)]
struct ErrorBody {
    code: String,
    message: String,
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
                // A token never follows a redirect to another address.
                .redirect(reqwest::redirect::Policy::none())
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

    /// Sends `request` with the token and waits, on this thread, for the answer's status and
    /// body (a timeout while reading it counts as unreachable), unless cancelled first. A
    /// wrong token and a server error are errors; other answers are the caller's to read.
    fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<(reqwest::StatusCode, String), SyncError> {
        let cancelled = self.cancel.0.cancelled();
        let answered = async {
            let answer = request
                .bearer_auth(&self.token)
                .send()
                .await
                .map_err(|e| self.unreachable_or_server(e))?;
            let status = answer.status();
            let body = answer
                .text()
                .await
                .map_err(|e| self.unreachable_or_server(e))?;
            Ok((status, body))
        };
        let (status, body) = self.runtime.block_on(async {
            tokio::select! {
                biased;
                _ = cancelled => Err(SyncError::Cancelled),
                r = answered => r,
            }
        })?;
        let message = || {
            serde_json::from_str::<ErrorAnswer>(&body)
                .map(|e| e.error.message)
                .unwrap_or_else(|_| status.to_string())
        };
        match status.as_u16() {
            401 => Err(SyncError::BadToken),
            300..=399 => Err(SyncError::Refused(format!(
                "the server answered with a redirect ({status}); the token is not sent \
                 anywhere else: use the server's own address"
            ))),
            500..=599 => Err(SyncError::Server(message())),
            _ => Ok((status, body)),
        }
    }

    /// [`SyncClient::send`] where only a success will do.
    fn send_ok(&self, request: reqwest::RequestBuilder) -> Result<String, SyncError> {
        let (status, body) = self.send(request)?;
        if status.is_success() {
            return Ok(body);
        }
        Err(SyncError::Refused(
            serde_json::from_str::<ErrorAnswer>(&body)
                .map(|e| e.error.message)
                .unwrap_or_else(|_| status.to_string()),
        ))
    }

    /// Who the token speaks for: person, role and project (the editor's "test connection",
    /// and the start of every round).
    pub fn me(&self) -> Result<Identity, SyncError> {
        let body = self.send_ok(self.http.get(format!("{}/api/v1/me", self.base)))?;
        serde_json::from_str(&body).map_err(|e| SyncError::Server(e.to_string()))
    }

    /// Sends events (their journal JSON); returns what became of each.
    pub fn push(&self, events: &[&StoredEvent]) -> Result<Vec<(Uuid, Pushed)>, SyncError> {
        let mut body = String::from("{\"events\":[");
        for (i, e) in events.iter().enumerate() {
            if i > 0 {
                body.push(',');
            }
            body.push_str(&e.json);
        }
        body.push_str("]}");
        let (status, text) = self.send(
            self.http
                .post(format!("{}/api/v1/events", self.base))
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body),
        )?;
        // Per-event answers come with 200 and with the status of the first refusal; an
        // answer without them refused the whole request.
        let answer: PushAnswer = serde_json::from_str(&text).map_err(|_| {
            SyncError::Refused(
                serde_json::from_str::<ErrorAnswer>(&text)
                    .map(|e| e.error.message)
                    .unwrap_or_else(|_| status.to_string()),
            )
        })?;
        Ok(answer
            .results
            .into_iter()
            .map(|r| {
                let outcome = match r.status.as_str() {
                    "stored" | "duplicate" => Pushed::Acked,
                    _ => {
                        let (code, reason) = r.error.map_or_else(
                            || {
                                (
                                    r.status.clone(),
                                    format!("the server answered {}", r.status),
                                )
                            },
                            |e| (e.code, e.message),
                        );
                        Pushed::Refused { code, reason }
                    }
                };
                (r.id, outcome)
            })
            .collect())
    }

    /// Events after `after`, waiting up to `wait` for new ones, each as received, and the
    /// last sequence number of the page.
    pub fn pull(&self, after: u64, wait: Duration) -> Result<(Vec<Pulled>, u64), SyncError> {
        let text = self.send_ok(self.http.get(format!(
            "{}/api/v1/events?after={after}&limit={PULL_PAGE}&wait={}",
            self.base,
            wait.as_secs()
        )))?;
        let answer: PullAnswer =
            serde_json::from_str(&text).map_err(|e| SyncError::Server(e.to_string()))?;
        let mut last = after;
        let events = answer
            .events
            .into_iter()
            .map(|e| {
                last = last.max(e.seq);
                Pulled {
                    seq: e.seq,
                    raw: e.event.get().to_owned(),
                }
            })
            .collect();
        Ok((events, last))
    }
}

/// What the server did with one pushed event.
#[derive(Debug, Clone, PartialEq)]
pub enum Pushed {
    /// It has it now (stored, or it had it already).
    Acked,
    /// It refused it (or holds other content under its id): `code` and words for people.
    Refused { code: String, reason: String },
}

/// One pulled event, as the server sent it.
#[derive(Debug, Clone)]
pub struct Pulled {
    pub seq: u64,
    pub raw: String,
}

/// What one round of sync did.
#[derive(Debug, Clone)]
pub struct SyncReport {
    /// Who the token speaks for.
    pub me: Identity,
    /// Events the server now has that it did not acknowledge before.
    pub pushed: usize,
    /// Events the server refused this round, with its words; set aside in the journal.
    pub refused: Vec<(Uuid, String)>,
    /// Events that wait for someone, and why: refused, brought in from a project file, made
    /// under another name, or never to go with this token (see [`crate::outbox`]).
    pub waiting: Vec<(StoredEvent, Waiting)>,
    /// Events received from others and appended.
    pub pulled: usize,
    /// Pulled events that could not be journaled, set aside this round.
    pub unreadable: usize,
}

/// Sends `ready` in requests of at most [`PUSH_BATCH`] events and [`PUSH_BYTES`] bytes;
/// acknowledges what the server has and sets aside what it refused, request by request.
fn push_ready(
    journal: &Journal,
    client: &SyncClient,
    ready: &[StoredEvent],
    report: &mut SyncReport,
) -> Result<(), SyncError> {
    let mut start = 0;
    while start < ready.len() {
        let (mut end, mut bytes) = (start, 0);
        while end < ready.len()
            && end - start < PUSH_BATCH
            && (end == start || bytes + ready[end].json.len() < PUSH_BYTES)
        {
            bytes += ready[end].json.len() + 1;
            end += 1;
        }
        let batch: Vec<&StoredEvent> = ready[start..end].iter().collect();
        let mut acked = Vec::new();
        let mut refused = Vec::new();
        for (id, outcome) in client.push(&batch)? {
            match outcome {
                Pushed::Acked => acked.push(id),
                Pushed::Refused { code, reason } => {
                    report.refused.push((id, reason.clone()));
                    refused.push((id, Aside::Refused { code, reason }));
                }
            }
        }
        journal.ack(&acked)?;
        journal.set_aside(&refused)?;
        report.pushed += acked.len();
        start = end;
    }
    Ok(())
}

/// Appends pulled events the journal does not have (in canonical form), sets aside those
/// that are not readable events of `project`, then acknowledges them all.
fn take_pulled(
    journal: &Journal,
    project: &str,
    pulled: Vec<Pulled>,
    known: &mut HashSet<Uuid>,
    report: &mut SyncReport,
) -> Result<(), SyncError> {
    let mut new = Vec::new();
    let mut unreadable = Vec::new();
    let mut ids = Vec::new();
    for p in pulled {
        let read = Event::canonical(&p.raw)
            .map_err(|e| format!("not an event this version can read: {e}"))
            .and_then(|(event, line)| {
                if event.project == project {
                    Ok((event.id, line))
                } else {
                    Err(format!(
                        "it belongs to project {:?}, not {project:?}",
                        event.project
                    ))
                }
            });
        match read {
            Ok((id, line)) => {
                ids.push(id);
                if known.insert(id) {
                    new.push((id, line));
                }
            }
            Err(reason) => unreadable.push((
                Uuid::now_v7(),
                Aside::Unreadable {
                    seq: p.seq,
                    reason,
                    raw: p.raw,
                },
            )),
        }
    }
    // Durable first, then acknowledged; the caller moves the cursor after.
    journal.append_json(&new)?;
    journal.set_aside(&unreadable)?;
    journal.ack(&ids)?;
    report.pulled += new.len();
    report.unreadable += unreadable.len();
    Ok(())
}

/// One round for the journal of `project`: learn who the token speaks for, push what is
/// ready (refusals set aside, the rest goes on), then pull what is new (waiting up to `wait`
/// for the first page), appending it to the journal. A push that fails still lets the pull
/// run (unless the server is unreachable or sync was stopped); the push's error is returned
/// after it.
pub fn sync_once(
    journal: &Journal,
    project: &str,
    client: &SyncClient,
    wait: Duration,
) -> Result<SyncReport, SyncError> {
    let me = client.me()?;
    if me.project != project {
        return Err(SyncError::WrongProject {
            token: me.project,
            journal: project.to_owned(),
        });
    }
    let mut report = SyncReport {
        me,
        pushed: 0,
        refused: Vec::new(),
        waiting: Vec::new(),
        pulled: 0,
        unreadable: 0,
    };
    let out = outbox(journal.unacked()?, &journal.aside()?, &report.me);
    let pushed = push_ready(journal, client, &out.ready, &mut report);
    if let Err(e @ (SyncError::Cancelled | SyncError::Unreachable(_) | SyncError::BadToken)) =
        pushed
    {
        return Err(e);
    }

    // Pull page by page until caught up; only the first request waits.
    let mut known: Option<HashSet<Uuid>> = None;
    let mut wait = wait;
    loop {
        let after = journal.last_seq()?;
        let (events, last) = client.pull(after, wait)?;
        wait = Duration::ZERO;
        let page = events.len();
        if !events.is_empty() {
            let known = match &mut known {
                Some(k) => k,
                None => known.insert(journal.scan()?.ids.into_iter().collect()),
            };
            take_pulled(journal, project, events, known, &mut report)?;
        }
        if last > after {
            journal.set_last_seq(last)?;
        }
        if page < PULL_PAGE {
            break;
        }
    }
    pushed?;
    report.waiting = outbox(journal.unacked()?, &journal.aside()?, &report.me).waiting;
    Ok(report)
}

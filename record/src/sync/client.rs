//! The HTTP side of sync: one server, one token, blocking calls that a [`SyncCancel`] ends at
//! once. Requests never follow redirects (a token goes only to the server it is for).

use super::{SyncError, PULL_PAGE};
use crate::clips::ClipHash;
use crate::journal::StoredEvent;
use crate::outbox::Identity;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

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
    pub(super) http: reqwest::Client,
    /// Dropped with the client: tasks are dropped, and its blocking pool (name lookups only)
    /// is waited for, so no thread outlives the client.
    runtime: tokio::runtime::Runtime,
    base: String,
    token: String,
    cancel: SyncCancel,
    /// Every request's time limit ([`SyncClient::new`]); a clip's upload gets more.
    pub(super) timeout: Duration,
}

/// The upload speed a clip's time limit allows for beyond the usual one: 256 kB/s (about
/// 2 Mbit/s, a slow studio line), so a 17 MB clip has 66 s more.
const SLOWEST_UPLOAD: u64 = 256_000;

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
    /// The server cut the page short (its byte limit): more follows at once.
    #[serde(default)]
    more: bool,
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
    /// The server's address as given (without a trailing `/`).
    pub fn base(&self) -> &str {
        &self.base
    }

    /// `timeout` bounds every request; a long poll's `wait` must stay below it. Besides the
    /// built-in roots, the studio's own certificates are trusted ([`studio_roots`]).
    ///
    /// # Errors
    /// [`SyncError::Refused`] for an address that is not http(s), or a client that cannot
    /// be built.
    pub fn new(base_url: &str, token: &str, timeout: Duration) -> Result<Self, SyncError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| SyncError::Server(format!("cannot start the HTTP client: {e}")))?;
        let http = {
            let _in_runtime = runtime.enter();
            let mut builder = reqwest::Client::builder()
                .timeout(timeout)
                .connect_timeout(Duration::from_secs(5))
                // A token never follows a redirect to another address.
                .redirect(reqwest::redirect::Policy::none());
            for root in studio_roots()? {
                builder = builder.add_root_certificate(root);
            }
            builder
                .build()
                .map_err(|e| SyncError::Server(e.to_string()))?
        };
        Ok(SyncClient {
            http,
            runtime,
            base: crate::settings::server_address(base_url).to_owned(),
            token: token.to_owned(),
            cancel: SyncCancel::new(),
            timeout,
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
        let (status, body) = self.send_unmapped(request)?;
        let message = || {
            serde_json::from_str::<ErrorAnswer>(&body)
                .map(|e| e.error.message)
                .unwrap_or_else(|_| status.to_string())
        };
        match status.as_u16() {
            // Too slow this time (408), busy (a share of the server's is full: 429, 503) or
            // failing: try again later.
            408 | 429 | 500..=599 => Err(SyncError::Server(message())),
            _ => Ok((status, body)),
        }
    }

    /// [`SyncClient::send`] that leaves server errors (5xx) to the caller.
    pub(super) fn send_unmapped(
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
        match status.as_u16() {
            401 => Err(SyncError::BadToken),
            300..=399 => Err(SyncError::Refused(format!(
                "the server answered with a redirect ({status}); the token is not sent \
                 anywhere else: use the server's own address"
            ))),
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
    ///
    /// # Errors
    /// [`SyncError`]: the server unreachable, the token refused, a redirect (never
    /// followed), an answer this client cannot read, or the call cancelled.
    pub fn me(&self) -> Result<Identity, SyncError> {
        let body = self.send_ok(self.http.get(format!("{}/api/v1/me", self.base)))?;
        serde_json::from_str(&body).map_err(|e| SyncError::Server(e.to_string()))
    }

    /// Sends events (their journal JSON); returns what became of each.
    ///
    /// # Errors
    /// [`SyncError`]: the server unreachable, the token refused, a redirect (never
    /// followed), an answer this client cannot read, or the call cancelled.
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

    /// Events after `after`, waiting up to `wait` for new ones, each as received; the last
    /// sequence number of the page; and whether the server has more at once (a page cut
    /// short by its size).
    ///
    /// # Errors
    /// [`SyncError`]: the server unreachable, the token refused, a redirect (never
    /// followed), an answer this client cannot read, or the call cancelled.
    pub fn pull(&self, after: u64, wait: Duration) -> Result<(Vec<Pulled>, u64, bool), SyncError> {
        let text = self.send_ok(self.http.get(format!(
            "{}/api/v1/events?after={after}&limit={PULL_PAGE}&wait={}",
            self.base,
            wait.as_secs()
        )))?;
        let answer: PullAnswer =
            serde_json::from_str(&text).map_err(|e| SyncError::Server(e.to_string()))?;
        let mut last = after;
        let more = answer.more;
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
        Ok((events, last, more))
    }
}

impl SyncClient {
    /// Sends a clip's bytes (after its `clip_attached` event was acknowledged).
    ///
    /// # Errors
    /// [`SyncError`]: the server unreachable, the token refused, a redirect (never
    /// followed), an answer this client cannot read, or the call cancelled.
    pub fn put_clip(&self, hash: &ClipHash, bytes: Vec<u8>) -> Result<ClipSent, SyncError> {
        let limit = self.timeout + Duration::from_secs(bytes.len() as u64 / SLOWEST_UPLOAD);
        let (status, body) = self.send_unmapped(
            self.http
                .put(format!("{}/api/v1/clips/{hash}", self.base))
                .header(reqwest::header::CONTENT_TYPE, "audio/flac")
                .timeout(limit)
                .body(bytes),
        )?;
        let error = || error_of(status, &body);
        Ok(match status.as_u16() {
            200 | 201 => ClipSent::Stored,
            507 => ClipSent::OverQuota(error().1),
            404 if error().0 == "unknown_clip" => ClipSent::NotYet,
            // Too slow this time (408), busy (429, 503) or failing: try again later.
            408 | 429 | 500..=599 => return Err(SyncError::Server(error().1)),
            _ => ClipSent::Refused(error().1),
        })
    }
}

/// The error code and words of a refusal's body (`{"error":{"code","message"}}`), or the
/// status when the body is no such thing.
pub(super) fn error_of(status: reqwest::StatusCode, body: &str) -> (String, String) {
    serde_json::from_str::<ErrorAnswer>(body)
        .map(|e| (e.error.code, e.error.message))
        .unwrap_or_else(|_| (String::new(), status.to_string()))
}

/// The file of a studio's own certificates (PEM), in the Liner Notes config folder.
pub const STUDIO_CA_FILE: &str = "studio-ca.pem";
/// Names another file of studio certificates instead.
pub const STUDIO_CA_ENV: &str = "LINER_CA_FILE";

/// The studio's own certificates, trusted besides the system's and the built-in roots, so a
/// record server with a self-signed or studio-made certificate is reached with verification
/// on: `$LINER_CA_FILE`, else `studio-ca.pem` in the config folder when it exists.
///
/// # Errors
/// [`SyncError::Local`] when the named file cannot be read or holds no certificate.
pub fn studio_roots() -> Result<Vec<reqwest::Certificate>, SyncError> {
    let named = std::env::var_os(STUDIO_CA_ENV).filter(|f| !f.is_empty());
    let file = match named {
        Some(f) => std::path::PathBuf::from(f),
        None => match crate::settings::config_dir().map(|d| d.join(STUDIO_CA_FILE)) {
            Some(f) if f.is_file() => f,
            _ => return Ok(Vec::new()),
        },
    };
    let unusable = |why: String| {
        SyncError::Local(format!(
            "the studio certificate file {} cannot be used: {why}",
            file.display()
        ))
    };
    let pem = std::fs::read(&file).map_err(|e| unusable(e.to_string()))?;
    let roots = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| unusable(e.to_string()))?;
    if roots.is_empty() {
        return Err(unusable("it holds no certificate".into()));
    }
    Ok(roots)
}

/// What the server did with a clip's bytes.
#[derive(Debug, Clone, PartialEq)]
pub enum ClipSent {
    /// It has them (stored now or before).
    Stored,
    /// It knows no event naming them yet: try again later.
    NotYet,
    /// The project's clips fill the server's room for them; words for people.
    OverQuota(String),
    /// It refused them for good (damaged on the way, a size its event does not name).
    Refused(String),
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

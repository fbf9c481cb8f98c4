//! What the stores keep of webhooks ([`crate::hooks`]): each hook with its delivery state,
//! and the log of every attempt.
//!
//! A hook's state is its *cursor*: every event of its project up to that sequence number is
//! done with (delivered, given up on, or not asked for). Work on a hook is claimed in the
//! database ([`super::Store::claim_hook`]: a lease with the claiming process's name and an
//! end), and every step is a compare-and-set on the cursor under that lease
//! ([`super::Store::settle_hook`]), so two servers on one database never both deliver the
//! same event, and a restarted server resumes where the record says it stopped.

use super::Project;

/// A webhook of one project.
#[derive(Debug, Clone, PartialEq)]
pub struct Hook {
    pub id: i64,
    pub project: Project,
    /// Where its deliveries go (checked when added: http or https, a host, no credentials).
    pub url: String,
    /// The event kinds it is told of, as stored: `all`, or kinds joined by commas.
    pub events: String,
    /// The key its bodies are signed with (shown once when added).
    pub secret: String,
    pub created_ms: i64,
    /// Every event of the project up to this number is done with.
    pub cursor: u64,
    /// Failed attempts at the event after the cursor.
    pub attempts: u32,
    /// No attempt before this time (a retry's backoff).
    pub next_ms: i64,
    /// The process working on it, until `lease_ms`.
    pub lease_owner: Option<String>,
    pub lease_ms: i64,
}

impl Hook {
    /// Whether it is told of events of `kind`.
    pub fn wants(&self, kind: &str) -> bool {
        self.events == "all" || self.events.split(',').any(|k| k == kind)
    }
}

/// What becomes of a hook after a step ([`super::Store::settle_hook`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settle {
    /// Done with every event up to `cursor` (delivered, given up on, or not asked for).
    Done { cursor: u64 },
    /// Done with every event up to `cursor` (the one before the event that failed); that
    /// event failed `attempts` times: try again at `at_ms`.
    Retry {
        cursor: u64,
        attempts: u32,
        at_ms: i64,
    },
}

/// One delivery attempt, as logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub at_ms: i64,
    pub hook: i64,
    pub project_id: i64,
    /// The event's sequence number, id and kind.
    pub seq: u64,
    pub event: String,
    pub kind: String,
    /// The delivery's id: the same for every attempt at one event for one hook.
    pub delivery: String,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// The receiver's HTTP status, when it answered.
    pub status: Option<u16>,
    /// What went wrong, in words (None: delivered).
    pub error: Option<String>,
    /// When it is tried again (None: delivered, or given up).
    pub retry_ms: Option<i64>,
    /// No more attempts: the hook went on to the next event.
    pub gave_up: bool,
}

/// The prefix of a hook's signing secret (so one pasted somewhere is recognised for what it
/// is).
pub const SECRET_PREFIX: &str = "lnhook_";

/// Attempts kept in the log per hook; older ones are dropped as new ones come.
pub const LOG_KEPT: i64 = 1000;

/// A hook row as stored, for a copy into PostgreSQL (its state and log stay behind: the
/// cursor is kept, since sequence numbers are).
#[derive(Debug, Clone)]
pub struct HookRow {
    pub id: i64,
    pub project_id: i64,
    pub url: String,
    pub events: String,
    pub secret: String,
    pub created_ms: i64,
    pub cursor: i64,
}

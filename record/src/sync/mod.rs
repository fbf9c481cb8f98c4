//! The sync protocol's client side (feature `client`): push what the server has not
//! acknowledged, pull what others recorded, all through the local journal, so sync is
//! offline-first and exactly-once.
//!
//! Layout: [`client`] (the HTTP calls), [`target`] (one server's sync of one journal, kept
//! incrementally: a round costs what is new, not the journal), [`steps`] (a round's steps,
//! shared by the plugin's sync threads and [`sync_once`]).
//!
//! A round ([`sync_once`]) asks the server who the token speaks for (`GET /api/v1/me`), sends
//! what [`crate::outbox`] finds ready, and pulls what is new. A long-lived syncer (the
//! plugin's) keeps a [`TargetSync`] per server and pushes and pulls separately, so pushing
//! never waits behind a long poll.
//!
//! Exactly once: the server stores by event id, so re-sending after a lost answer stores
//! nothing twice; an event counts as acknowledged only once the server said "stored" or
//! "duplicate", and that is written to that server's `acks.log` before anything else (a
//! push's flushed to the disk only before a pull's cursor passes those events: one lost to a
//! power cut only sends the event again). Pulled
//! events are appended in their canonical form (unless the journal already has the id) and
//! acknowledged at once (they came from the server); the cursor moves only after they are
//! durable. Each server has its own acknowledgements and cursor
//! ([`crate::journal::SyncFiles`]).
//!
//! One bad event never stops sync: an event the server refuses is set aside in the journal
//! with the server's reason (the rest of its batch goes on, and later rounds do not send it
//! again); a pulled event this client cannot journal (not an event, or of another project) is
//! set aside with the reason and the cursor moves past it; and pulling never waits for
//! pushing to succeed.
//!
//! Clips ([`crate::clips`]) follow their events: once the server acknowledged a
//! `clip_attached` event, the clip's bytes go up by their hash (`clips.log` in the server's
//! sync folder lists what it has). A project over its clip quota is told in words and keeps
//! syncing its events; a clip whose file this journal does not have is skipped.
//!
//! Versions ([`versions`]) follow their events too, in chunks that resume where an upload
//! stopped, never more than about a second of a push round at a time (notes go first).
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

mod client;
pub mod steps;
pub mod target;
pub mod versions;

pub use client::{
    studio_roots, ClipSent, Pulled, Pushed, SyncCancel, SyncClient, STUDIO_CA_ENV, STUDIO_CA_FILE,
};
pub use steps::{
    identify, push_ready, send_clip, send_clips_in_turn, send_versions_in_turn, sync_once,
};
pub use target::{batches, SyncReport, TargetSync};
pub use versions::{
    send_version, ChunkSent, PendingVersion, VersionChunks, VersionSent, VersionUpload,
    VERSION_TURN,
};

use crate::journal::JournalError;

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
    #[error("this project syncs with {0}, and this computer has no token for it: nothing was sent. To connect, paste a token for {0} in Settings")]
    NoToken(String),
    #[error("on this computer: {0}")]
    Local(String),
    #[error("sync was stopped (the plugin is closing); unsent notes wait in the journal")]
    Cancelled,
}

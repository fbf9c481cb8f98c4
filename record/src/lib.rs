//! `liner-record`: the Liner Notes project record.
//!
//! Layout:
//! - [`event`]: the event model and its versioned wire/storage format.
//! - [`views`]: the pure fold of events into notes, takes, decisions, verdicts, tracklist and
//!   sessions.
//! - [`position`]: bars.beats and h:mm:ss.mmm text, and conversion with a tempo map.
//! - [`journal`]: the local, durable, multi-writer, crash-safe journal with sync state.
//! - [`export`]: the decision log in every format of FORMATS.md.
//! - [`settings`]: who works on what, and where tokens and last-used settings are kept.
//! - `sync` (feature `client`): the sync protocol's client, through the journal.
//!
//! No audio, no async, no plugin framework, no server: the plugin and the server both build
//! on this crate.

pub mod event;
pub mod export;
pub mod journal;
pub mod position;
pub mod settings;
#[cfg(feature = "client")]
pub mod sync;
pub mod views;

pub use event::{Body, Context, DawPos, Event, Role};
pub use journal::{Journal, JournalError};
pub use views::{fold, Views};

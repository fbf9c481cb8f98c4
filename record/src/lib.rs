//! `liner-record`: the Liner Notes project record.
//!
//! Layout:
//! - [`event`]: the event model and its versioned wire/storage format; [`clips`]: the audio
//!   clips attached to notes, decisions and marks, and where a journal keeps them.
//! - [`review`]: what waits for the executive's verdict (open items, counts, verdict words).
//! - [`rules`]: who may say what (ownership, verdict targets, the executive's kinds, clocks).
//! - [`limits`]: how big any part of an event may be.
//! - [`views`]: the pure fold of events into notes, takes, decisions, verdicts, tracklist and
//!   sessions; [`worked`]: worked time per person per song.
//! - [`position`]: bars.beats and h:mm:ss.mmm text, and conversion with a tempo map.
//! - [`journal`]: the local, durable, multi-writer, crash-safe journal with sync state.
//! - [`outbox`]: what a journal sends to a server and what waits for the user (the pure step
//!   of sync), and the user's answers (send as me, fix, drop).
//! - [`export`]: the decision log in every format of docs/FORMATS.md.
//! - [`notice`]: an event in plain words a person acts on (webhooks, the editor's notices,
//!   digests), and the kinds one may ask to be told about.
//! - [`names`]: names people gave, made safe as file and folder names.
//! - [`settings`]: who works on what, and where tokens and last-used settings are kept.
//! - `sync` (feature `client`): the sync protocol's client, through the journal.
//!
//! No audio, no plugin framework, no server, and no async in its interface: the plugin and
//! the server both build on this crate. (The sync client, feature `client`, runs requests on
//! a private tokio runtime behind blocking calls.)

pub mod clips;
pub mod digest;
pub mod event;
pub mod export;
#[doc(hidden)]
pub mod fuzzing;
pub mod journal;
pub mod limits;
pub mod names;
pub mod notice;
pub mod outbox;
pub mod position;
pub mod review;
pub mod rules;
pub mod settings;
#[cfg(feature = "client")]
pub mod sync;
pub mod versions;
#[cfg(feature = "encode")]
mod versions_encode;
pub mod views;
pub mod worked;

pub use event::{Body, Context, DawPos, Event, Role};
pub use journal::{Journal, JournalError};
pub use views::{fold, Views};

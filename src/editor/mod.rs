//! The editor (egui): capture notes at the playhead, rate takes, record EQ/FX decisions,
//! read verdicts and the sync status, export the decision log.
//!
//! Threads: everything here runs on the GUI thread and never waits for the audio thread, the
//! disk or the network. The playhead is a lock-free snapshot; the record is a folded snapshot
//! the worker publishes ([`crate::record_view`]); new events go to the worker with
//! [`Link::submit`]; exports, saving settings and "test connection" run as [`chores`].
//! Repaints happen when the worker says the record or the sync status changed, when input
//! arrives, and about 20 times a second while the transport plays.
//!
//! Layout: [`EditorApp`] (`app.rs`: the editor's state and every action that changes the
//! record or the settings), [`draft`] (the note being typed), [`list`] (filtered rows),
//! [`follow`] (the rows the playhead is at), [`notices`] (what answers you), [`decision`] (the EQ/FX form), [`settings_form`], [`outbox`] and [`chores`] (work off the
//! GUI thread), [`export_song`]; `ui/` draws one panel per file and only calls actions;
//! [`window`] is the plugin window and the framework's side.

mod app;
pub mod chores;
pub mod decision;
pub mod draft;
mod export;
pub mod follow;
pub mod list;
pub mod notices;
pub mod outbox;
pub mod settings_form;
mod ui;
pub mod window;

pub use app::EditorApp;
pub use export::export_song;

use list::RowKind;
use uuid::Uuid;

/// Default window size (logical points), and the smallest the window may get.
pub const DEFAULT_SIZE: (u32, u32) = (820, 560);
pub const MIN_SIZE: (f32, f32) = (560.0, 380.0);

/// The editor's pages below the capture bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Notes,
    Takes,
    Decision,
    /// What waits to be sent (refused, from a project file, under another name).
    NotSent,
    Settings,
}

/// *Done* being said on a row whose changes were requested.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DoneForm {
    /// The row it is said on (the id of its event).
    pub target: Uuid,
    /// What changed (optional).
    pub comment: String,
    /// The version that carries the change (the id of its `version_printed` event).
    pub version: Option<Uuid>,
}

/// An edit of one of your own notes (or the name of a mark), being typed.
#[derive(Debug, Clone, PartialEq)]
pub struct EditBuffer {
    pub target: Uuid,
    pub kind: RowKind,
    pub text: String,
    pub category: liner_record::event::Category,
}

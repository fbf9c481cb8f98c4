//! Host-visible parameters and the fields saved with the DAW project.

use crate::state::{InstanceState, SavedState};
use nice_plug::prelude::*;
use std::sync::Arc;

/// Key of the persisted [`InstanceState`] in the plugin state. Never change.
pub const STATE_KEY: &str = "instance";
/// Key of the format-1 capture log, migrated on load.
pub const LEGACY_CAPTURE_KEY: &str = "capture";

#[derive(Params)]
pub struct LinerParams {
    /// Each rising edge drops a mark at that sample. Automatable, so a footswitch, a control
    /// surface, MIDI learn or an automation lane can capture hands-free.
    #[id = "mark"]
    pub mark: BoolParam,

    /// While on, the instance prints a version of its song from the next transport start to
    /// its stop (or the first loop wrap, or until it goes off): hands-free printing from an
    /// automation lane or a control surface. One print per rising edge. Never rename the id.
    #[id = "print"]
    pub print: BoolParam,

    /// Host bypass. Pass-through is bit-exact either way; capture keeps running because the
    /// transport still tells what happened in the session.
    #[id = "bypass"]
    pub bypass: BoolParam,

    /// This instance's identity, settings and events, saved in the DAW project. Written by
    /// the worker, serialized by the host's state save; never touched by the audio thread.
    #[persist = "instance"]
    pub state: Arc<SavedState>,

    /// The editor window's size in logical points, so it reopens as the producer left it.
    #[persist = "editor-size"]
    pub editor_size: Arc<parking_lot::RwLock<(u32, u32)>>,
}

impl Default for LinerParams {
    fn default() -> Self {
        LinerParams {
            mark: BoolParam::new("Mark", false),
            print: BoolParam::new("Print", false),
            bypass: BoolParam::new("Bypass", false).make_bypass(),
            state: Arc::new(SavedState::new(InstanceState::new())),
            editor_size: Arc::new(parking_lot::RwLock::new(crate::editor::DEFAULT_SIZE)),
        }
    }
}

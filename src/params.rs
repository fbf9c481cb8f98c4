//! Host-visible parameters and the fields saved with the DAW project.

use crate::captured::CaptureLog;
use nice_plug::prelude::*;
use parking_lot::RwLock;
use std::sync::Arc;

/// Key of the persisted capture log in the plugin state. Never change.
pub const CAPTURE_KEY: &str = "capture";

#[derive(Params)]
pub struct LinerParams {
    /// Each rising edge drops a mark at that sample. Automatable, so a footswitch, a control
    /// surface, MIDI learn or an automation lane can capture hands-free.
    #[id = "mark"]
    pub mark: BoolParam,

    /// Host bypass. Pass-through is bit-exact either way; capture keeps running because the
    /// transport still tells what happened in the session.
    #[id = "bypass"]
    pub bypass: BoolParam,

    /// This instance's captured events, saved in the DAW project. Written by the worker,
    /// serialized by the host's state save; never touched by the audio thread.
    #[persist = "capture"]
    pub capture: Arc<RwLock<CaptureLog>>,
}

impl Default for LinerParams {
    fn default() -> Self {
        LinerParams {
            mark: BoolParam::new("Mark", false),
            bypass: BoolParam::new("Bypass", false).make_bypass(),
            capture: Arc::new(RwLock::new(CaptureLog::default())),
        }
    }
}

pub mod host;
pub mod printing;
pub mod reaper;
pub mod rt_guard;
pub mod vst3;
pub mod xvfb;

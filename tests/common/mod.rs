pub mod host;
pub mod rt_guard;
pub mod xvfb;

//! What the workspace's test suites share (a dev-dependency of the plugin crate and of the
//! record server, never published): a real record server over a store of its own
//! ([`Server`]), the store a test folder stands for ([`open_store`]; SQLite, or a throwaway
//! PostgreSQL cluster, [`pg`], when the run is on it), and waiting for something that
//! happens in the background ([`wait_until`]).
//!
//! Helpers used by one test file stay in that file; helpers that need a crate's own test
//! setting (the `liner` binary's path, the plugin's host) stay in that crate's
//! `tests/common`.
//!
//! Every helper panics when what it sets up or reads fails: that is how it fails the test
//! that called it, with a message saying what went wrong.
#![allow(clippy::missing_panics_doc)]

pub mod pg;
mod server;

pub use server::{database_args, open_store, Server};

use std::time::{Duration, Instant};

/// Returns once `ok()` holds, asking every 10 ms.
///
/// # Panics
/// When `ok()` still does not hold after `limit`; the message names `what` it waited for and
/// how long it waited.
pub fn wait_until(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !ok() {
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

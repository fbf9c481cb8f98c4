//! The work of each `liner` command. `main.rs` only parses the arguments and calls these, so
//! the tests can call them too.
//!
//! A command answers on standard output (tokens, exports, the audit trail) and reports what
//! it left out on standard error; its errors (`anyhow`, at this edge of the crate) say what
//! to do about them.
//!
//! - [`admin`]: projects, tokens, the audit trail, `migrate`, `import` into the server.
//! - [`export`]: decision logs from the server or a journal, with their clip folders.
//! - [`journals`]: this computer's journals without the DAW: `sync`, `import --journal`.
//! - [`backup`]: `backup`, `restore` and `check`: the record copied while it serves, put back,
//!   verified.
//! - [`webhooks`]: `webhook add | list | remove | log`.
//! - [`mail`]: `mail set | list`: each person's digest by mail.
//! - [`first_run`]: `serve`: the first run's project and tokens, the plugin set up on this
//!   computer, serving until a signal.

pub mod admin;
pub mod backup;
pub mod export;
pub mod first_run;
pub mod journals;
pub mod links;
pub mod mail;
pub mod webhooks;

use crate::store::{Project, Store};
use anyhow::{Context, Result};

/// The project of that name, or an error that names it.
///
/// # Errors
/// There is none, or the database fails.
pub fn project_named(store: &dyn Store, name: &str) -> Result<Project> {
    store
        .project(name)?
        .with_context(|| format!("no project named {name:?} on this server"))
}

/// The events of a JSON export (`liner export --format json`), checked as hostile input.
fn read_export(file: &std::path::Path) -> Result<Vec<liner_record::Event>> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    liner_record::export::import_json(&bytes).with_context(|| format!("reading {}", file.display()))
}

//! A real record server on 127.0.0.1 over a store of its own.

use crate::pg;
use liner_record::{Event, Role};
use liner_server::serve::Limits;
use liner_server::store::{PgStore, SqliteStore, Store};
use liner_server::Background;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

/// The store a test folder stands for: SQLite in it, or (when this run is on PostgreSQL, see
/// [`pg::enabled`]) the database it names. Opening the same folder again opens the same
/// record.
pub fn open_store(dir: &Path) -> Arc<dyn Store> {
    if pg::enabled() {
        Arc::new(PgStore::open(&pg::database_for(dir)).unwrap())
    } else {
        Arc::new(SqliteStore::open(dir).unwrap())
    }
}

/// `--database URL` for the `liner` binary when this run is on PostgreSQL (see
/// [`open_store`]); nothing on SQLite, where `--data` says it all.
pub fn database_args(dir: &Path) -> Vec<String> {
    if pg::enabled() {
        vec!["--database".into(), pg::database_for(dir)]
    } else {
        Vec::new()
    }
}

/// A running record server (`liner_server::Background`) over the store of a temporary folder
/// of its own ([`open_store`]: SQLite, or PostgreSQL when the run is on it). Dropped, it stops
/// gracefully, then its folder goes.
pub struct Server {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    pub store: Arc<dyn Store>,
    // Stopped before the folder goes.
    running: Option<Background>,
    pub dir: tempfile::TempDir,
}

impl Server {
    /// A fresh store served on a free port with the default limits.
    pub fn start() -> Server {
        Self::start_with(Limits::default())
    }

    /// [`Server::start`] with `limits`.
    pub fn start_with(limits: Limits) -> Server {
        Self::start_in(tempfile::tempdir().unwrap(), "127.0.0.1:0", limits)
    }

    /// The record of `dir` (fresh, or one a server or [`open_store`] used before) served on
    /// `addr` (`127.0.0.1:0` for any free port).
    pub fn start_in(dir: tempfile::TempDir, addr: &str, limits: Limits) -> Server {
        let store = open_store(dir.path());
        let running = Background::start_with(store.clone(), addr, limits)
            .unwrap_or_else(|e| panic!("serving on {addr}: {e}"));
        Server {
            url: running.url(),
            store,
            running: Some(running),
            dir,
        }
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.running.as_ref().expect("a running server").addr
    }

    /// Stops (gracefully, as a drop does), then serves the same store on the same address
    /// again with `limits`: a restarted server, as its clients see it.
    pub fn restart(&mut self, limits: Limits) {
        let addr = self.addr().to_string();
        drop(self.running.take());
        let running = Background::start_with(self.store.clone(), &addr, limits)
            .unwrap_or_else(|e| panic!("serving on {addr} again: {e}"));
        self.running = Some(running);
    }

    /// A token for `person` in `project` (the project is created if needed).
    pub fn token(&self, project: &str, person: &str, role: Role) -> String {
        if self.store.project(project).unwrap().is_none() {
            self.store.create_project(project).unwrap();
        }
        self.store.add_token(project, person, role).unwrap().1
    }

    /// Every event stored in `project`, in order, as stored (JSON).
    ///
    /// # Panics
    /// When the project does not exist.
    pub fn stored(&self, project: &str) -> Vec<String> {
        let p = self
            .store
            .project(project)
            .unwrap()
            .unwrap_or_else(|| panic!("no project {project:?} on the server"));
        self.store
            .pull(&p, 0, usize::MAX / 2)
            .unwrap()
            .into_iter()
            .map(|(_, json)| json)
            .collect()
    }

    /// [`Server::stored`], parsed: every event stored in `project`, in order.
    ///
    /// # Panics
    /// When the project does not exist, or a stored event does not parse (the server checks
    /// every event it stores, so one that does not is a bug to see, not to skip).
    pub fn events(&self, project: &str) -> Vec<Event> {
        self.stored(project)
            .iter()
            .map(|json| {
                serde_json::from_str(json)
                    .unwrap_or_else(|e| panic!("a stored event that does not parse ({e}): {json}"))
            })
            .collect()
    }
}

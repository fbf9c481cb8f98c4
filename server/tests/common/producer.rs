//! A producer's plugin on their own machine, for the page tests: a journal (with its clips
//! and versions beside it) and the real sync client, pushing and pulling off the async runtime.

use super::Server;
use liner_record::sync::{sync_once, SyncClient};
use liner_record::{Event, Journal, Role};
use std::time::{Duration, Instant};

pub struct Producer {
    pub dir: tempfile::TempDir,
    pub project: String,
    url: String,
    pub token: String,
}

impl Producer {
    pub fn new(s: &Server, project: &str, person: &str) -> Producer {
        Producer {
            dir: tempfile::tempdir().unwrap(),
            project: project.into(),
            url: s.url.clone(),
            token: s.token(project, person, Role::Producer),
        }
    }

    /// Writes events to the journal and syncs (push and pull), off the async runtime; every
    /// event must be stored.
    pub async fn record_and_sync(&self, events: Vec<Event>) {
        let (dir, url, token, project) = (
            self.dir.path().to_owned(),
            self.url.clone(),
            self.token.clone(),
            self.project.clone(),
        );
        tokio::task::spawn_blocking(move || {
            let j = Journal::open(dir).unwrap();
            j.append(&events).unwrap();
            let c = SyncClient::new(&url, &token, Duration::from_secs(10)).unwrap();
            let r = sync_once(&j, &project, &c, Duration::ZERO).unwrap();
            assert!(r.refused.is_empty(), "{:?}", r.refused);
        })
        .await
        .unwrap();
    }

    pub fn journal(&self) -> Journal {
        Journal::open(self.dir.path()).unwrap()
    }
}

/// Waits until `find` finds something in `project`'s stored events (every 50 ms, up to 10 s).
pub async fn until_stored<T>(
    s: &Server,
    project: &str,
    what: &str,
    find: impl Fn(Vec<Event>) -> Option<T>,
) -> T {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(found) = find(s.events(project)) {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "never stored: {what}: {:?}",
            s.stored(project)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

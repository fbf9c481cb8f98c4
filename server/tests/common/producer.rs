//! A producer's plugin on their own machine, for the page tests: a journal (with its clips
//! and versions beside it) and the real sync client, pushing and pulling off the async runtime.

use super::Server;
use liner_record::event::{Body, Context};
use liner_record::sync::{sync_once, SyncClient};
use liner_record::versions::{VersionPrinted, VersionStore, VersionWriter};
use liner_record::{DawPos, Event, Journal, Role};
use std::time::{Duration, Instant};
use uuid::Uuid;

pub struct Producer {
    pub dir: tempfile::TempDir,
    pub project: String,
    url: String,
    pub token: String,
}

impl Producer {
    /// Prints `seconds` of a sine at `dbfs` into this journal's versions, as the plugin does,
    /// placed at `start` seconds on a 120 bpm 4/4 timeline.
    pub fn print(&self, song: &str, label: &str, seconds: f64, dbfs: f32, start: f64) -> Event {
        let store = VersionStore::of_journal(self.dir.path());
        let mut w = VersionWriter::create(&store.part_path(Uuid::now_v7()), 48_000, 2).unwrap();
        let amp = 10f32.powf(dbfs / 20.0);
        let frames = (seconds * 48_000.0) as usize;
        let block = 4800;
        for b in 0..frames.div_ceil(block) {
            let n = block.min(frames - b * block);
            let mut planar = vec![0.0; n * 2];
            for i in 0..n {
                let t = (b * block + i) as f32 / 48_000.0;
                let x = amp * (t * 330.0 * std::f32::consts::TAU).sin();
                planar[i] = x;
                planar[n + i] = x;
            }
            w.push(&planar, n).unwrap();
        }
        let version = w.finish(&store).unwrap();
        let beats = start * 2.0;
        let printed = VersionPrinted {
            label: label.into(),
            version,
            start: DawPos {
                seconds: Some(start),
                beats: Some(beats),
                tempo: Some(120.0),
                time_sig: Some((4, 4)),
                bar: Some((beats / 4.0).floor() as i32 + 1),
                beat: Some(beats % 4.0 + 1.0),
                ..DawPos::default()
            },
            tempo: vec![],
            gaps: vec![],
            offline: true,
        };
        Event::new(
            &Context {
                project: self.project.clone(),
                song: song.into(),
                track: "Mix bus".into(),
                session: Uuid::nil(),
                author: "Sam".into(),
                role: Role::Producer,
            },
            None,
            Body::VersionPrinted(printed),
        )
    }

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

//! What every request handler shares: the store, the long polls' wake-ups, and each project's
//! folded record (brought up to date with only the rows stored since, then folded again
//! whole, so a page view does not re-read the database).

use crate::store::{Project, Store, StoreError, Wake};
use liner_record::export::{entries, Entry, Scope};
use liner_record::{Event, Views};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

/// A project's record as of a sequence number: its events (in sequence order), their fold,
/// and the fold as decision-log entries (the whole project; what the page lists).
#[derive(Default)]
pub struct ProjectRecord {
    pub seq: u64,
    pub events: Vec<Event>,
    pub views: Views,
    pub entries: Vec<Entry>,
}

pub struct AppState {
    pub store: Arc<dyn Store>,
    /// Latest sequence number per project id, for long polls.
    latest: Mutex<HashMap<i64, watch::Sender<u64>>>,
    /// The folded record per project id, as of its last sequence number. A std mutex, held
    /// only to swap an `Arc`: folding happens outside it.
    records: Mutex<HashMap<i64, Arc<ProjectRecord>>>,
    /// Raised when the server begins to stop: long polls and live streams end at once, so a
    /// graceful shutdown never waits for them.
    stopping: watch::Sender<bool>,
    /// Exports run at most [`MAX_EXPORTS`] at a time (any reader may ask for one).
    pub exports: tokio::sync::Semaphore,
    /// Clips being served at once (a turn lasts until the answer's body is sent or dropped);
    /// the rest wait their turn, so reads cannot hold more than
    /// [`MAX_CLIPS_IN_MEMORY`] x 36 MiB. Uploads do not take these: a read never waits
    /// behind an upload (uploads have [`AppState::uploads`]).
    pub clips_in_memory: Arc<tokio::sync::Semaphore>,
    /// Clip uploads in progress, by project and token ([`crate::fair::uploads`]).
    pub uploads: crate::fair::uploads::Uploads,
    /// Most bytes of audio clips one project may hold.
    pub clip_quota: u64,
    /// Live streams and long polls ([`crate::fair::holds`]).
    pub holds: Arc<crate::fair::holds::Holds>,
    /// Tokens verified less than a second ago ([`crate::api::tokens`]).
    pub tokens: crate::api::tokens::Tokens,
    /// Wrong tokens heard, by client address ([`crate::fair::guesses`]).
    pub guesses: crate::fair::guesses::Guesses,
    /// Guests' comments per listening link and address ([`crate::fair::guest_comments`]).
    pub guest_comments: crate::fair::guest_comments::GuestComments,
    /// Open connections, per address and in all ([`crate::fair::connections`]).
    pub connections: Arc<crate::fair::connections::Connections>,
    /// What `/metrics` reports ([`crate::metrics`]).
    pub metrics: crate::metrics::Metrics,
    /// Wakes the webhook deliveries ([`crate::hooks::deliver`]) when events are stored here
    /// or by another server; a wake-up while they are busy is kept for their next look.
    pub hooks_wake: tokio::sync::Notify,
    /// Wakes the digest mail task ([`crate::mail::send`]) when events are stored.
    pub mail_wake: tokio::sync::Notify,
    /// The review page's address as people reach it (`--public-url`), for links in feeds,
    /// mail and webhooks; set once when serving starts.
    pub public_url: std::sync::OnceLock<String>,
}

/// A project's audio quota, clips and versions together, unless the server is told otherwise
/// (`--audio-quota-mb`): an album's worth of mixes (a dozen songs, five versions each of
/// 60 MB) and a few thousand clips of 12 s of 48 kHz stereo.
pub const DEFAULT_CLIP_QUOTA: u64 = 10_000_000_000;

/// Most clips being served at once (see [`AppState::clips_in_memory`]).
pub const MAX_CLIPS_IN_MEMORY: usize = 8;

/// Most exports running at once; one more is answered `503` with `Retry-After`.
pub const MAX_EXPORTS: usize = 2;

/// Pushes other server processes took (PostgreSQL) wake this one's long polls and live pages.
impl Wake for AppState {
    fn stored(&self, project: i64, seq: u64) {
        self.announce(project, seq);
    }
}

impl ProjectRecord {
    /// `person`'s digest of this record as `role`, with news from `since` on: what the page,
    /// the feed and the mail tell them ([`liner_record::digest`], the one source).
    pub fn digest(
        &self,
        person: &str,
        role: liner_record::Role,
        since: Option<i64>,
    ) -> liner_record::digest::Digest {
        liner_record::digest::digest(
            &self.events,
            &self.views,
            &self.entries,
            person,
            role,
            since,
        )
    }
}

impl AppState {
    pub fn new(store: Arc<dyn Store>) -> Arc<Self> {
        Self::with_limits(store, &crate::serve::Limits::default())
    }

    /// The state of one server process over `store` with `limits`, listening for what other
    /// processes on the same database store.
    pub fn with_limits(store: Arc<dyn Store>, limits: &crate::serve::Limits) -> Arc<Self> {
        let state = Arc::new(AppState {
            store,
            latest: Mutex::new(HashMap::new()),
            records: Mutex::new(HashMap::new()),
            stopping: watch::channel(false).0,
            exports: tokio::sync::Semaphore::new(MAX_EXPORTS),
            clips_in_memory: Arc::new(tokio::sync::Semaphore::new(MAX_CLIPS_IN_MEMORY)),
            uploads: crate::fair::uploads::Uploads::default(),
            clip_quota: limits.clip_quota,
            holds: crate::fair::holds::Holds::new(limits.held()),
            tokens: crate::api::tokens::Tokens::default(),
            guesses: crate::fair::guesses::Guesses::default(),
            guest_comments: crate::fair::guest_comments::GuestComments::default(),
            connections: crate::fair::connections::Connections::new(
                limits.max_connections,
                limits.per_address,
            ),
            metrics: crate::metrics::Metrics::default(),
            hooks_wake: tokio::sync::Notify::new(),
            mail_wake: tokio::sync::Notify::new(),
            public_url: std::sync::OnceLock::new(),
        });
        let weak = Arc::downgrade(&state);
        let wake: std::sync::Weak<dyn Wake> = weak;
        state.store.watch_others(wake);
        state
    }

    pub(crate) fn watcher(&self, project: i64) -> watch::Receiver<u64> {
        let mut map = self.latest.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(project)
            .or_insert_with(|| watch::channel(0).0)
            .subscribe()
    }

    /// The last number announced for `project` in this process (0: none yet): a cheap sign
    /// that its record changed, without reading it.
    pub(crate) fn announced(&self, project: i64) -> u64 {
        let map = self.latest.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&project).map_or(0, |tx| *tx.borrow())
    }

    pub(crate) fn announce(&self, project: i64, seq: u64) {
        self.hooks_wake.notify_one();
        self.mail_wake.notify_one();
        let mut map = self.latest.lock().unwrap_or_else(|e| e.into_inner());
        let tx = map.entry(project).or_insert_with(|| watch::channel(0).0);
        tx.send_if_modified(|v| {
            let newer = seq > *v;
            if newer {
                *v = seq;
            }
            newer
        });
    }

    /// Tells long polls and live streams to end (the server is stopping).
    pub fn stop(&self) {
        self.stopping.send_replace(true);
    }

    /// Whether the server has begun to stop.
    pub fn is_stopping(&self) -> bool {
        *self.stopping.borrow()
    }

    /// Resolves once the server begins to stop.
    pub async fn stopped(&self) {
        let mut rx = self.stopping.subscribe();
        let _ = rx.wait_for(|s| *s).await;
    }

    /// The project's record, brought up to date: only events stored since the last call are
    /// read and parsed; the fold is redone only when there are some. Blocking (the
    /// database): call it from a blocking task.
    ///
    /// # Errors
    /// The database fails.
    pub fn record(&self, project: &Project) -> Result<Arc<ProjectRecord>, StoreError> {
        let current = self
            .records
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&project.id)
            .cloned()
            .unwrap_or_default();
        let rows = self.store.pull(project, current.seq, usize::MAX / 2)?;
        let Some(&(last, _)) = rows.last() else {
            return Ok(current);
        };
        let mut events = current.events.clone();
        // A row an earlier version stored that is no event is left out, as in exports.
        events.extend(
            rows.iter()
                .filter_map(|(_, json)| serde_json::from_str(json).ok()),
        );
        let views = liner_record::fold(&events);
        let entries = entries(&events, &views, &Scope::default());
        let fresh = Arc::new(ProjectRecord {
            seq: last,
            events,
            views,
            entries,
        });
        let mut map = self.records.lock().unwrap_or_else(|e| e.into_inner());
        // Another request may have brought it further meanwhile: keep the newest.
        let keep = match map.get(&project.id) {
            Some(other) if other.seq > fresh.seq => other.clone(),
            _ => fresh,
        };
        map.insert(project.id, keep.clone());
        Ok(keep)
    }
}

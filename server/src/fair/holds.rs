//! Requests that hold a connection open while they wait for news: the page's live streams
//! and the API's long polls. They take shares, not a pool, and they end when their session
//! or token does.
//!
//! - At most [`Holds::slots`] of them at once on the server ([`Limits::held`]: the
//!   connection cap less a reserve), so pushes, pulls without a wait and health checks always
//!   find a connection. Past it a new one is answered `503` with `Retry-After`.
//! - A session has at most [`LIVE_PER_SESSION`] live streams and a token at most
//!   [`LIVE_PER_TOKEN`] (across its sessions) and [`LONG_POLLS_PER_TOKEN`] long polls; one
//!   more ends the oldest of its kind, which is what a browser with too many tabs or a client
//!   that lost track of its requests needs anyway.
//! - Signing out ends the session's live streams at once ([`Holds::end_session`]); a
//!   revoked token or an expired session (revoked by `liner` in another process, perhaps)
//!   is noticed by [`sweep`] every [`SWEEP_EVERY`], which ends what it held.
//!
//! [`Limits::held`]: crate::serve::Limits::held

use crate::store::Store;
use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

/// Live streams one page session may have open (a few tabs).
pub const LIVE_PER_SESSION: usize = 4;
/// Live streams one token may have open across its sessions.
pub const LIVE_PER_TOKEN: usize = 16;
/// Long polls one token may have waiting (a plugin process keeps one per project it syncs).
pub const LONG_POLLS_PER_TOKEN: usize = 16;
/// How often the sessions and tokens of open holds are checked for an end.
pub const SWEEP_EVERY: Duration = Duration::from_millis(500);

/// What a hold waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Live,
    LongPoll,
}

/// What a hold was let in by: a page session's cookie secret or a bearer token's secret
/// (kept in memory only while the hold is open, to ask the store whether it still signs in;
/// never printed: its `Debug` says which kind only).
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum Key {
    Session(String),
    Bearer(String),
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Key::Session(_) => "Key::Session(..)",
            Key::Bearer(_) => "Key::Bearer(..)",
        })
    }
}

struct Held {
    kind: Kind,
    token: i64,
    key: Key,
    end: CancellationToken,
}

/// The open holds, oldest first.
pub struct Holds {
    open: Mutex<Open>,
    slots: Arc<Semaphore>,
    size: usize,
}

#[derive(Default)]
struct Open {
    next: u64,
    held: BTreeMap<u64, Held>,
}

/// One open hold; it ends (its request answers) when [`Hold::ended`] resolves, and gives its
/// slot back when dropped.
pub struct Hold {
    holds: Arc<Holds>,
    id: u64,
    end: CancellationToken,
    _slot: OwnedSemaphorePermit,
}

impl Hold {
    /// Resolves when the hold must end: a newer one took its share, its session or token
    /// ended.
    pub async fn ended(&self) {
        self.end.cancelled().await;
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        self.holds.lock().held.remove(&self.id);
    }
}

impl Holds {
    /// Room for `slots` holds at once.
    pub fn new(slots: usize) -> Arc<Holds> {
        Arc::new(Holds {
            open: Mutex::new(Open::default()),
            slots: Arc::new(Semaphore::new(slots)),
            size: slots,
        })
    }

    /// How many holds the server takes at once.
    pub fn slots(&self) -> usize {
        self.size
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Open> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Opens a hold of `kind` for `token`, let in by `key`, ending the oldest of its share
    /// when it is full. `None`: the server holds all it may.
    pub fn open(self: &Arc<Self>, kind: Kind, token: i64, key: Key) -> Option<Hold> {
        let slot = self.slots.clone().try_acquire_owned().ok()?;
        let end = CancellationToken::new();
        let mut open = self.lock();
        let id = open.next;
        open.next += 1;
        let session = matches!(key, Key::Session(_)).then(|| key.clone());
        open.held.insert(
            id,
            Held {
                kind,
                token,
                key,
                end: end.clone(),
            },
        );
        if let Some(session) = session {
            open.keep_newest(LIVE_PER_SESSION, |h| h.kind == kind && h.key == session);
        }
        let per_token = match kind {
            Kind::Live => LIVE_PER_TOKEN,
            Kind::LongPoll => LONG_POLLS_PER_TOKEN,
        };
        open.keep_newest(per_token, |h| h.kind == kind && h.token == token);
        drop(open);
        Some(Hold {
            holds: self.clone(),
            id,
            end,
            _slot: slot,
        })
    }

    /// Ends every hold a page session let in (it signed out).
    pub fn end_session(&self, secret: &str) {
        let key = Key::Session(secret.to_owned());
        self.end_where(|h| h.key == key);
    }

    fn end_where(&self, mut ends: impl FnMut(&Held) -> bool) {
        let mut open = self.lock();
        open.held.retain(|_, h| {
            let keep = !ends(h);
            if !keep {
                h.end.cancel();
            }
            keep
        });
    }

    /// The keys of open holds.
    fn keys(&self) -> HashSet<Key> {
        self.lock().held.values().map(|h| h.key.clone()).collect()
    }

    /// How many holds are open.
    pub fn count(&self) -> usize {
        self.lock().held.len()
    }

    /// How many page sessions have a live stream open.
    pub fn sessions(&self) -> usize {
        self.lock()
            .held
            .values()
            .filter_map(|h| match &h.key {
                Key::Session(secret) => Some(secret.as_str()),
                Key::Bearer(_) => None,
            })
            .collect::<HashSet<&str>>()
            .len()
    }

    /// How many holds of `kind` are open.
    pub fn count_of(&self, kind: Kind) -> usize {
        self.lock().held.values().filter(|h| h.kind == kind).count()
    }
}

impl Open {
    /// Ends the oldest holds matching `of` until `keep` are left.
    fn keep_newest(&mut self, keep: usize, of: impl Fn(&Held) -> bool) {
        let matching: Vec<u64> = self
            .held
            .iter()
            .filter(|(_, h)| of(h))
            .map(|(id, _)| *id)
            .collect();
        for id in matching.iter().take(matching.len().saturating_sub(keep)) {
            if let Some(h) = self.held.remove(id) {
                h.end.cancel();
            }
        }
    }
}

/// Every [`SWEEP_EVERY`], asks `store` whether each open hold's session or token still signs
/// in, and ends the holds of those that do not; returns when `stopping` resolves.
pub async fn sweep(
    holds: Arc<Holds>,
    store: Arc<dyn Store>,
    stopping: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(stopping);
    let mut every = tokio::time::interval(SWEEP_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = &mut stopping => return,
            _ = every.tick() => {}
        }
        let keys = holds.keys();
        if keys.is_empty() {
            continue;
        }
        let store = store.clone();
        let gone = tokio::task::spawn_blocking(move || ended_keys(store.as_ref(), keys)).await;
        match gone {
            Ok(gone) if !gone.is_empty() => holds.end_where(|h| gone.contains(&h.key)),
            Ok(_) => {}
            Err(e) => tracing::warn!("checking open live streams' sessions failed: {e}"),
        }
    }
}

/// Of `keys`, those that no longer sign in. A store that fails to answer ends nothing.
fn ended_keys(store: &dyn Store, keys: HashSet<Key>) -> HashSet<Key> {
    keys.into_iter()
        .filter(|key| {
            let signs_in = match key {
                Key::Session(secret) => store.session(secret).map(|s| s.is_some()),
                Key::Bearer(secret) => store.authenticate(secret).map(|t| t.is_some()),
            };
            matches!(signs_in, Ok(false))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(s: &str) -> Key {
        Key::Session(s.to_owned())
    }

    #[tokio::test]
    async fn a_share_past_its_size_ends_its_oldest() {
        let holds = Holds::new(100);
        let first: Vec<Hold> = (0..LIVE_PER_SESSION)
            .map(|_| holds.open(Kind::Live, 1, session("a")).unwrap())
            .collect();
        let newest = holds.open(Kind::Live, 1, session("a")).unwrap();
        // The oldest ended at once, the others go on.
        tokio::time::timeout(Duration::from_secs(1), first[0].ended())
            .await
            .expect("the oldest hold ended");
        for h in &first[1..] {
            assert!(!h.end.is_cancelled());
        }
        assert!(!newest.end.is_cancelled());
        assert_eq!(holds.count(), LIVE_PER_SESSION);
        // Another session of the same token has a share of its own, up to the token's.
        let other: Vec<Hold> = (0..LIVE_PER_TOKEN - LIVE_PER_SESSION)
            .map(|i| {
                holds
                    .open(Kind::Live, 1, session(&format!("s{i}")))
                    .unwrap()
            })
            .collect();
        assert!(other.iter().all(|h| !h.end.is_cancelled()));
        assert_eq!(holds.count(), LIVE_PER_TOKEN);
        let one_more = holds.open(Kind::Live, 1, session("z")).unwrap();
        assert!(first[1].end.is_cancelled(), "the token's oldest ended");
        assert!(!one_more.end.is_cancelled());
        // Long polls are a share apart from live streams.
        let poll = holds
            .open(Kind::LongPoll, 1, Key::Bearer("t".into()))
            .unwrap();
        assert!(!poll.end.is_cancelled() && !one_more.end.is_cancelled());
    }

    #[tokio::test]
    async fn past_the_slots_nothing_opens_and_a_dropped_hold_gives_its_slot_back() {
        let holds = Holds::new(2);
        let a = holds.open(Kind::Live, 1, session("a")).unwrap();
        let _b = holds.open(Kind::Live, 2, session("b")).unwrap();
        assert!(holds.open(Kind::Live, 3, session("c")).is_none());
        drop(a);
        assert_eq!(holds.count(), 1);
        assert!(holds.open(Kind::Live, 3, session("c")).is_some());
    }

    #[tokio::test]
    async fn signing_out_ends_the_sessions_holds_only() {
        let holds = Holds::new(10);
        let a = holds.open(Kind::Live, 1, session("a")).unwrap();
        let b = holds.open(Kind::Live, 1, session("b")).unwrap();
        holds.end_session("a");
        assert!(a.end.is_cancelled());
        assert!(!b.end.is_cancelled());
    }
}

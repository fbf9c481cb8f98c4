//! Syncing every (server, project) some instance names, on two threads so that pushing never
//! waits behind a long poll:
//!
//! - the **push thread** sends what is new as soon as it is journaled (every write wakes it),
//!   then the clips and versions of what the server has. It asks the server who the token
//!   speaks for once per token, and again whenever the target's last round (push or pull)
//!   failed; a round with nothing to send then still asks, so a server gone or a token
//!   revoked shows as such. Versions go for about a second a round, so a note typed
//!   meanwhile waits at most that long (the next round pushes it before more chunks go).
//!   It sleeps while there is nothing to send, and retries failures with backoff and
//!   jitter;
//! - the **pull thread** long-polls each server for what others recorded and journals it. A
//!   server (or proxy) that answers long polls at once with nothing is asked at most
//!   [`MAX_POLLS_PER_SECOND`] times a second.
//!
//! Both work on the target's [`TargetSync`] (the journal read once, then only what is new)
//! and hold its lock only between network calls. The token is the one this computer holds
//! for the server's exact origin (re-read only when `tokens.json` changes); a project naming
//! a server this computer has no token for sends nothing. When the last instance goes,
//! [`final_push`] sends what is still waiting within a bounded time.

use super::{Repaint, Shared};
use crate::settings::{config_dir, origin, token_in};
use liner_record::journal::StoredEvent;
use liner_record::outbox::{Identity, Waiting};
use liner_record::sync::{
    SyncCancel, SyncClient, SyncError, SyncReport, TargetSync, VersionUpload, VERSION_TURN,
};
use liner_record::Event;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use uuid::Uuid;

/// How long one long poll waits for news (a stop cancels it: removing the last plugin
/// instance does not wait for it).
pub const LONG_POLL: Duration = Duration::from_secs(1);

/// At most this many long polls a second against a server that answers at once.
pub const MAX_POLLS_PER_SECOND: u32 = 4;

/// How long the last instance's going may wait for its pending events to reach the server.
pub const FINAL_PUSH: Duration = Duration::from_secs(2);

/// A server counts as answering for the final push if it answered this recently.
const RECENTLY: Duration = Duration::from_secs(30);
/// How long clips that wait (the server's room for the project's clips is full) wait before
/// they are offered again, when nothing else is pushed meanwhile.
const CLIP_RETRY: Duration = Duration::from_secs(30);

/// A server address and a project.
pub(super) type Key = (String, String);

/// How an instance's project stands with its server, for the editor's status dot.
#[derive(Debug, Clone, PartialEq)]
pub enum SyncStatus {
    /// No server configured: working offline by choice.
    Off,
    /// Everything is on the server.
    Synced,
    /// No round with the server has finished yet (the first is on its way).
    Connecting,
    /// Everything that can go out is on the server; this many events wait for someone (see
    /// [`super::Link::waiting`]).
    Waiting(usize),
    /// The server could not be used since `since_ms`; `reason` in words a producer can act on.
    Offline { since_ms: i64, reason: String },
}

/// One target's state, shared by the two threads and read by editors.
pub(super) struct SyncTarget {
    pub(super) status: SyncStatus,
    failures: u32,
    /// When the push thread may try again (backoff after a failure).
    next_push: Instant,
    /// When the pull thread may poll again.
    next_pull: Instant,
    pull_failures: u32,
    /// When the server last answered.
    last_ok: Option<Instant>,
    /// Who the token speaks for, as the server last said.
    pub(super) me: Option<Identity>,
    /// Events that wait for someone, as of the last push round.
    pub(super) waiting: Arc<Vec<(Event, Waiting)>>,
    /// Why clips wait on this server (its quota for the project is full), if they do.
    pub(super) clip_problem: Option<String>,
    /// When to offer the clips that wait again, with nothing new to push meanwhile.
    clip_retry: Option<Instant>,
    /// The version being uploaded and how far it got (None when none is under way).
    pub(super) version_upload: Option<VersionUpload>,
    /// Why versions wait on this server (its quota for the project is full) or one was
    /// refused, if so.
    pub(super) version_problem: Option<String>,
    /// When to go on with versions: at once after an upload's turn ended, later when they
    /// wait for room or for their event.
    version_retry: Option<Instant>,
    /// The journal as this server sees it (opened by whichever thread needs it first).
    state: Option<Arc<Mutex<TargetSync>>>,
}

impl SyncTarget {
    fn new() -> Self {
        SyncTarget {
            status: SyncStatus::Connecting,
            failures: 0,
            next_push: Instant::now(),
            next_pull: Instant::now(),
            pull_failures: 0,
            last_ok: None,
            me: None,
            waiting: Arc::default(),
            clip_problem: None,
            clip_retry: None,
            version_upload: None,
            version_problem: None,
            version_retry: None,
            state: None,
        }
    }
}

/// `tokens.json`, read again only when it changed.
#[derive(Default)]
struct Tokens {
    stamp: Option<(SystemTime, u64)>,
    by_origin: HashMap<String, Option<String>>,
}

impl Tokens {
    fn get(&mut self, url: &str) -> Option<String> {
        let dir = config_dir()?;
        let stamp = std::fs::metadata(dir.join("tokens.json"))
            .ok()
            .and_then(|m| Some((m.modified().ok()?, m.len())));
        if stamp != self.stamp {
            self.stamp = stamp;
            self.by_origin.clear();
        }
        let origin = origin(url)?;
        self.by_origin
            .entry(origin)
            .or_insert_with(|| token_in(&dir, url))
            .clone()
    }
}

/// Each thread's HTTP clients, by target, kept while the token stays the same.
#[derive(Default)]
struct Clients(HashMap<Key, Client>);

struct Client {
    token: String,
    http: SyncClient,
    /// Who the token speaks for, as the server said. A token's person, role and project never
    /// change, so a round asks only when this is empty (the first with this token) or the
    /// target's last round failed (a revoked token, a server gone or replaced at the same
    /// address).
    me: Option<Identity>,
}

impl Clients {
    fn get(&mut self, shared: &Shared, key: &Key, token: &str) -> Result<&mut Client, String> {
        let fresh = !matches!(self.0.get(key), Some(c) if c.token == token);
        if fresh {
            let http = SyncClient::new(&key.0, token, LONG_POLL + Duration::from_secs(10))
                .map_err(|e| e.to_string())?
                .with_cancel(shared.cancel_sync.clone());
            let client = Client {
                token: token.to_owned(),
                http,
                me: None,
            };
            self.0.insert(key.clone(), client);
        }
        Ok(self.0.get_mut(key).expect("just made"))
    }
}

/// Every (server, project) some live instance names.
fn targets(shared: &Shared) -> Vec<Key> {
    let slots = shared.slots.lock();
    let mut t: Vec<Key> = slots
        .iter()
        .map(|s| {
            let st = s.state.read();
            (
                st.settings.server_url.trim().to_owned(),
                st.settings.project.clone(),
            )
        })
        .filter(|(url, _)| !url.is_empty())
        .collect();
    t.sort();
    t.dedup();
    t
}

fn no_token(url: &str) -> SyncError {
    SyncError::NoToken(origin(url).unwrap_or_else(|| url.to_owned()))
}

/// The target's state, opening it (reading the journal once) outside the map's lock.
fn target_state(shared: &Shared, key: &Key) -> Result<Arc<Mutex<TargetSync>>, String> {
    if let Some(s) = shared.sync.lock().get(key).and_then(|t| t.state.clone()) {
        return Ok(s);
    }
    let journal = shared.journal(&key.1)?;
    let opened = TargetSync::open(&journal, &key.0, &key.1).map_err(|e| e.to_string())?;
    let mut sync = shared.sync.lock();
    let t = sync.entry(key.clone()).or_insert_with(SyncTarget::new);
    Ok(t.state
        .get_or_insert_with(|| Arc::new(Mutex::new(opened)))
        .clone())
}

/// Lets both threads try `key` again at once (the user changed something).
pub(super) fn retry_now(shared: &Shared, key: &Key) {
    if let Some(t) = shared.sync.lock().get_mut(key) {
        t.next_push = Instant::now();
        t.next_pull = Instant::now();
    }
}

/// The push thread (see the module docs).
pub(super) fn run_push(shared: &Shared) {
    let (mut tokens, mut clients) = (Tokens::default(), Clients::default());
    while !shared.stop.load(Ordering::Acquire) {
        let mut wake_at: Option<Instant> = None;
        for key in targets(shared) {
            if shared.stop.load(Ordering::Acquire) {
                return;
            }
            let due = shared
                .sync
                .lock()
                .get(&key)
                .map_or(Instant::now(), |t| t.next_push);
            if due > Instant::now() {
                wake_at = Some(wake_at.map_or(due, |w: Instant| w.min(due)));
                continue;
            }
            match push_round(shared, &key, &mut tokens, &mut clients) {
                Err(SyncError::Cancelled) => return,
                outcome => {
                    set_sync(shared, &key, outcome.map_err(|e| e.to_string()));
                    if let Some(t) = shared.sync.lock().get(&key) {
                        let again = if t.failures > 0 {
                            Some(t.next_push)
                        } else {
                            t.clip_retry.into_iter().chain(t.version_retry).min()
                        };
                        if let Some(at) = again {
                            wake_at = Some(wake_at.map_or(at, |w| w.min(at)));
                        }
                    }
                }
            }
        }
        // Asleep until a write (or a settings change, or the user) wakes it, or a retry is due.
        match wake_at {
            Some(at) => std::thread::park_timeout(at.saturating_duration_since(Instant::now())),
            None => std::thread::park(),
        }
    }
}

/// One push round for a target: who the token speaks for, then what is ready. Returns how
/// many events wait for someone.
fn push_round(
    shared: &Shared,
    key: &Key,
    tokens: &mut Tokens,
    clients: &mut Clients,
) -> Result<usize, SyncError> {
    let (url, project) = key;
    // Opened first: the journal folder then names this server, so `liner sync` can send what
    // waits even if the DAW never reached it.
    let state = target_state(shared, key).map_err(SyncError::Local)?;
    let token = tokens.get(url).ok_or_else(|| no_token(url))?;
    let c = clients.get(shared, key, &token).map_err(SyncError::Local)?;
    // Asked again while the last round failed, the pull thread's too (every failed round is
    // counted there): a round with nothing to send makes no other request, and must not
    // call a server that stopped answering (or a token it stopped taking) synced.
    let failing = shared.sync.lock().get(key).is_some_and(|t| t.failures > 0);
    let me = match c.me.clone().filter(|_| !failing) {
        Some(me) => me,
        None => {
            let me = liner_record::sync::identify(&c.http, project)?;
            c.me = Some(me.clone());
            me
        }
    };
    let client = &c.http;
    adopt_identity(shared, key, &me);
    let mut report = SyncReport::new(me);
    let ready = state.lock().prepare_push(&report.me)?;
    let ready: Vec<&StoredEvent> = ready.iter().collect();
    // Each request goes out without the lock: the pull thread keeps journaling meanwhile.
    liner_record::sync::push_ready(client, &ready, |results| {
        Ok(state.lock().apply_pushed(results, &mut report)?)
    })?;
    // Then the clips of what the server now has, each read and sent without the lock.
    let (pending, store) = {
        let st = state.lock();
        (st.pending_clips(), st.clip_store())
    };
    let clips_wait =
        !liner_record::sync::send_clips_in_turn(client, &store, pending, |clip, sent| {
            Ok(state.lock().apply_clip_sent(clip, sent, &mut report)?)
        })?;
    let version_retry = send_versions(shared, key, client, &state, &mut report)?;
    let waiting: Vec<(Event, Waiting)> = state
        .lock()
        .waiting(&report.me)
        .into_iter()
        .map(|(e, w)| (e.event, w))
        .collect();
    let count = waiting.len();
    let mut problem_changed = false;
    if let Some(t) = shared.sync.lock().get_mut(key) {
        t.me = Some(report.me);
        t.waiting = Arc::new(waiting);
        t.last_ok = Some(Instant::now());
        problem_changed =
            t.clip_problem != report.clip_problem || t.version_problem != report.version_problem;
        t.clip_problem = report.clip_problem;
        t.clip_retry = clips_wait.then(|| Instant::now() + CLIP_RETRY);
        t.version_problem = report.version_problem;
        t.version_retry = version_retry;
    }
    if problem_changed {
        repaint_target(shared, key);
    }
    Ok(count)
}

/// Sends the versions the server lacks for about [`VERSION_TURN`] (a chunk in flight
/// finishes), each chunk read and sent without the target's lock, publishing how far the
/// upload got for the editor. Returns when to go on: at once when the turn ended with
/// chunks left (events are pushed in between), after [`CLIP_RETRY`] when versions wait for
/// room or for their event, never when all are up.
fn send_versions(
    shared: &Shared,
    key: &Key,
    client: &SyncClient,
    state: &Mutex<TargetSync>,
    report: &mut SyncReport,
) -> Result<Option<Instant>, SyncError> {
    let (pending, store) = {
        let st = state.lock();
        (st.pending_versions(), st.version_store())
    };
    let deadline = Instant::now() + VERSION_TURN;
    let mut progress = |upload: &VersionUpload| publish_upload(shared, key, Some(upload.clone()));
    let all = liner_record::sync::send_versions_in_turn(
        client,
        &store,
        pending,
        Some(deadline),
        &mut progress,
        |version, sent| Ok(state.lock().apply_version_sent(version, sent, report)?),
    )?;
    if all || !report.version_paused {
        publish_upload(shared, key, None);
    }
    Ok(match (all, report.version_paused) {
        (true, _) => None,
        (false, true) => Some(Instant::now()),
        (false, false) => Some(Instant::now() + CLIP_RETRY),
    })
}

/// Records how far the version upload got (None: none under way); the editors redraw when
/// the version or its whole percent changed.
fn publish_upload(shared: &Shared, key: &Key, upload: Option<VersionUpload>) {
    let changed = {
        let mut sync = shared.sync.lock();
        let t = sync.entry(key.clone()).or_insert_with(SyncTarget::new);
        let seen = |u: &Option<VersionUpload>| u.as_ref().map(|u| (u.event, u.percent()));
        let changed = seen(&t.version_upload) != seen(&upload);
        t.version_upload = upload;
        changed
    };
    if changed {
        repaint_target(shared, key);
    }
}

/// The pull thread (see the module docs).
pub(super) fn run_pull(shared: &Shared) {
    let (mut tokens, mut clients) = (Tokens::default(), Clients::default());
    let min_gap = Duration::from_secs(1) / MAX_POLLS_PER_SECOND;
    while !shared.stop.load(Ordering::Acquire) {
        let keys = targets(shared);
        // One server: a long poll. Several: a short poll of each in turn.
        let wait = if keys.len() == 1 {
            LONG_POLL
        } else {
            Duration::ZERO
        };
        let mut wake_at: Option<Instant> = None;
        for key in &keys {
            if shared.stop.load(Ordering::Acquire) {
                return;
            }
            let due = shared
                .sync
                .lock()
                .get(key)
                .map_or(Instant::now(), |t| t.next_pull);
            if due > Instant::now() {
                wake_at = Some(wake_at.map_or(due, |w: Instant| w.min(due)));
                continue;
            }
            let started = Instant::now();
            let outcome = pull_round(shared, key, wait, &mut tokens, &mut clients);
            if matches!(outcome, Err(SyncError::Cancelled)) {
                return;
            }
            let next = after_pull(shared, key, outcome, started, min_gap);
            wake_at = Some(wake_at.map_or(next, |w| w.min(next)));
        }
        if keys.is_empty() {
            std::thread::park();
        } else if let Some(at) = wake_at {
            std::thread::park_timeout(at.saturating_duration_since(Instant::now()));
        }
    }
}

/// One pull: what the server has after this journal's cursor, journaled. Returns how many
/// events it brought.
fn pull_round(
    shared: &Shared,
    key: &Key,
    wait: Duration,
    tokens: &mut Tokens,
    clients: &mut Clients,
) -> Result<usize, SyncError> {
    let token = tokens.get(&key.0).ok_or_else(|| no_token(&key.0))?;
    let client = &clients
        .get(shared, key, &token)
        .map_err(SyncError::Local)?
        .http;
    let state = target_state(shared, key).map_err(SyncError::Local)?;
    let cursor = state.lock().cursor();
    // The long poll waits without the lock: pushes go on meanwhile.
    let (events, last, more) = client.pull(cursor, wait)?;
    let me = shared
        .sync
        .lock()
        .get(key)
        .and_then(|t| t.me.clone())
        .unwrap_or(Identity {
            person: String::new(),
            role: liner_record::Role::Viewer,
            project: key.1.clone(),
        });
    let mut report = SyncReport::new(me);
    let page = events.len();
    state.lock().apply_pulled(events, last, &mut report)?;
    // A full page, or one the server cut short: more waits, so the next poll comes at once.
    Ok(if more || page >= liner_record::sync::PULL_PAGE {
        page.max(1)
    } else {
        report.pulled + report.unreadable
    })
}

/// Records a pull's outcome and says when to poll next: at once after news, no sooner than
/// `min_gap` after an empty answer, with backoff after a failure.
fn after_pull(
    shared: &Shared,
    key: &Key,
    outcome: Result<usize, SyncError>,
    started: Instant,
    min_gap: Duration,
) -> Instant {
    let now = Instant::now();
    let (next, recovered, failed) = {
        let mut sync = shared.sync.lock();
        let t = sync.entry(key.clone()).or_insert_with(SyncTarget::new);
        match &outcome {
            Ok(n) => {
                let recovered = t.pull_failures > 0;
                t.pull_failures = 0;
                t.last_ok = Some(now);
                t.next_pull = if *n > 0 { now } else { started + min_gap };
                if recovered {
                    // The push thread says how things stand now.
                    t.next_push = now;
                }
                (t.next_pull, recovered, None)
            }
            Err(e) => {
                t.pull_failures = t.pull_failures.saturating_add(1);
                t.next_pull = now + backoff(t.pull_failures);
                (t.next_pull, false, Some(e.to_string()))
            }
        }
    };
    if recovered {
        shared.wake_sync();
    }
    if let Some(reason) = failed {
        set_sync(shared, key, Err(reason));
    }
    next
}

/// 0.5 s doubling to 30 s, with up to 250 ms of jitter.
fn backoff(failures: u32) -> Duration {
    let base = Duration::from_millis(500)
        .saturating_mul(1 << failures.min(6))
        .min(Duration::from_secs(30));
    base + Duration::from_millis(Uuid::now_v7().as_u128() as u64 % 250)
}

/// New events of the instances syncing with `key` speak for the token's person and role.
fn adopt_identity(shared: &Shared, key: &Key, me: &Identity) {
    let slots: Vec<_> = shared.slots.lock().clone();
    for slot in slots {
        let mine = {
            let st = slot.state.read();
            st.settings.server_url.trim() == key.0
                && st.settings.project == key.1
                && (st.settings.author != me.person || st.settings.role != me.role)
        };
        if mine {
            let mut st = slot.state.write();
            st.settings.author = me.person.clone();
            st.settings.role = me.role;
        }
    }
}

/// Records a push round's outcome (Ok: how many events wait for someone): the status, and
/// when to try again (backoff with jitter after failures). Wakes the editors it concerns.
fn set_sync(shared: &Shared, key: &Key, outcome: Result<usize, String>) {
    let mut sync = shared.sync.lock();
    let t = sync.entry(key.clone()).or_insert_with(SyncTarget::new);
    let before = t.status.clone();
    match outcome {
        Ok(waiting) => {
            t.failures = 0;
            t.next_push = Instant::now();
            t.status = if waiting == 0 {
                SyncStatus::Synced
            } else {
                SyncStatus::Waiting(waiting)
            };
        }
        Err(reason) => {
            t.failures = t.failures.saturating_add(1);
            t.next_push = Instant::now() + backoff(t.failures);
            let since_ms = match &t.status {
                SyncStatus::Offline { since_ms, .. } => *since_ms,
                _ => liner_record::event::now_ms(),
            };
            t.status = SyncStatus::Offline { since_ms, reason };
        }
    }
    if t.status != before {
        drop(sync);
        repaint_target(shared, key);
    }
}

/// Repaints the editors of the instances that sync with `key`.
fn repaint_target(shared: &Shared, key: &Key) {
    let slots: Vec<_> = shared.slots.lock().clone();
    let repaints: Vec<Repaint> = slots
        .iter()
        .filter(|slot| {
            let st = slot.state.read();
            st.settings.server_url.trim() == key.0 && st.settings.project == key.1
        })
        .flat_map(|slot| {
            slot.watchers
                .lock()
                .iter()
                .map(|(_, r)| r.clone())
                .collect::<Vec<_>>()
        })
        .collect();
    repaints.iter().for_each(|r| r());
}

/// The last instance is going: what is still waiting goes to every server that answered
/// recently, within [`FINAL_PUSH`] in all; a server that did not answer lately is not waited
/// for at all (its events go with the next load, or `liner sync`).
pub(super) fn final_push(shared: &Shared) {
    let deadline = Instant::now() + FINAL_PUSH;
    let recent: Vec<(Key, Arc<Mutex<TargetSync>>)> = shared
        .sync
        .lock()
        .iter()
        .filter(|(_, t)| t.last_ok.is_some_and(|at| at.elapsed() < RECENTLY))
        .filter_map(|(k, t)| Some((k.clone(), t.state.clone()?)))
        .collect();
    if recent.is_empty() {
        return;
    }
    let cancel = SyncCancel::new();
    let (done, stop) = std::sync::mpsc::channel::<()>();
    let watchdog = {
        let cancel = cancel.clone();
        std::thread::Builder::new()
            .name("liner-notes-final-push".into())
            .spawn(move || {
                // Cancels at the deadline, or as soon as the push is done (the sender goes).
                let _ = stop.recv_timeout(deadline.saturating_duration_since(Instant::now()));
                cancel.cancel();
            })
    };
    let mut tokens = Tokens::default();
    for ((url, project), state) in recent {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        let Some(token) = tokens.get(&url) else {
            continue;
        };
        let Ok(client) = SyncClient::new(&url, &token, left) else {
            continue;
        };
        let client = client.with_cancel(cancel.clone());
        let pushed = (|| -> Result<(), SyncError> {
            let me = client.me()?;
            if me.project != project {
                return Ok(());
            }
            let mut report = SyncReport::new(me);
            state.lock().push(&client, &mut report)
        })();
        if let Err(e) = pushed {
            nice_plug::nice_warn!("Liner Notes: the last events did not reach {url}: {e}");
        }
    }
    drop(done);
    if let Ok(w) = watchdog {
        let _ = w.join();
    }
}

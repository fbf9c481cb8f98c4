//! The background worker: one thread per process, shared by every plugin instance.
//!
//! Each instance registers its end of the audio queue and its saved state; the worker polls
//! every registered queue, turns audio-thread events into record events, appends them to the
//! project's journal (durable once `append` returns) and to the instance's saved state. Fifty
//! instances cost one thread. The thread starts with the first registration and is joined
//! when the last one is dropped.
//!
//! Why polling instead of waking the worker from the audio thread: waking a thread is a syscall
//! (futex), which the audio thread must never make. The audio thread only pushes to a wait-free
//! ring; the worker looks at the rings every [`POLL_INTERVAL`].
//!
//! Other threads (the editor) hand events to the worker with [`Link::submit`]; they
//! never wait for the disk.

use crate::capture::{CaptureEvent, NumberFloors};
use crate::record_view::{RecordCache, RecordSnapshot};
use crate::state::SavedState;
use liner_record::journal::Aside;
use liner_record::outbox::{Identity, Waiting};
use liner_record::sync::SyncCancel;
use liner_record::{Body, Event, Journal};
use parking_lot::Mutex;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// How often the worker looks at the queues. The audio queue holds
/// [`crate::AUDIO_QUEUE_CAPACITY`] events, so this bounds the sustained event rate before drops
/// (far above anything a person or a transport produces).
pub const POLL_INTERVAL: Duration = Duration::from_millis(5);

/// The work session: one per DAW process run, shared by its instances.
pub fn session_id() -> Uuid {
    static SESSION: OnceLock<Uuid> = OnceLock::new();
    *SESSION.get_or_init(Uuid::now_v7)
}

/// One instance's side of the worker.
struct Slot {
    /// Only the worker thread and the registration's final drain lock this; never the audio
    /// thread, which owns the producer end.
    consumer: Mutex<rtrb::Consumer<CaptureEvent>>,
    /// Raises a flag when the host loads a saved state: its events may be missing from this
    /// machine's journal (a project opened on another machine).
    state: Arc<SavedState>,
    /// Incremented by the audio thread when the queue is full.
    dropped: Arc<AtomicU64>,
    /// Take and mark numbers already used, for the audio thread.
    floors: Arc<NumberFloors>,
    /// Events from other threads (the editor), waiting for the worker.
    submitted: Mutex<Vec<Event>>,
    /// A loaded state still to be brought into the journal, and when that last failed.
    import: Mutex<Option<Option<Instant>>>,
    /// Events of this instance not yet in the journal (it could not be written); retried.
    unjournaled: Mutex<Vec<Event>>,
    /// Events being written right now (not yet durable).
    in_flight: AtomicUsize,
    /// Open editors watching this instance's project record, and how to wake them.
    watchers: Mutex<Vec<(u64, Repaint)>>,
}

/// Wakes an editor (requests a repaint); called from the worker and sync threads.
pub type Repaint = Arc<dyn Fn() + Send + Sync>;

impl Slot {
    fn project(&self) -> String {
        self.state.read().settings.project.clone()
    }

    fn wake_watchers(&self) {
        for (_, repaint) in self.watchers.lock().iter() {
            repaint();
        }
    }
}

/// Journals by project, opened once per process and shared (so appends share fsyncs).
#[derive(Default)]
struct Journals {
    open: HashMap<String, Journal>,
    last_error: Option<String>,
}

impl Journals {
    fn note_error(&mut self, msg: String) {
        if self.last_error.as_deref() != Some(msg.as_str()) {
            nice_plug::nice_warn!("Liner Notes: events kept for a retry: {msg}");
        }
        self.last_error = Some(msg);
    }
}

/// After a failure to bring a loaded state into the journal, wait this long before retrying.
const IMPORT_RETRY: Duration = Duration::from_secs(1);

impl Slot {
    /// Takes new events off the audio queue and the submitted list into the saved state and
    /// the list waiting for the journal. Returns how many new events were made.
    fn collect(&self, shared: &Shared) -> usize {
        let mut new_events = Vec::new();
        let dropped;
        {
            let mut consumer = self.consumer.lock();
            dropped = self.dropped.swap(0, Ordering::AcqRel);
            if consumer.slots() > 0 {
                let at = liner_record::event::now_ms();
                let state = self.state.read();
                let session = session_id();
                while let Ok(ev) = consumer.pop() {
                    new_events.push(state.record_event(&ev, session, at));
                }
            }
        }
        new_events.append(&mut self.submitted.lock());
        if self.state.take_loaded() {
            self.loaded(shared);
        }
        let retry_import = match *self.import.lock() {
            Some(None) => true,
            Some(Some(failed)) => failed.elapsed() >= IMPORT_RETRY,
            None => false,
        };
        if retry_import {
            self.import_saved_events(shared);
        }
        let made = new_events.len();
        if made > 0 || dropped > 0 {
            let mut state = self.state.write();
            state.events.extend(new_events.iter().cloned());
            state.dropped = state.dropped.saturating_add(dropped);
        }
        if dropped > 0 {
            nice_plug::nice_warn!(
                "Liner Notes: {dropped} events were dropped because the audio thread produced \
                 them faster than they could be saved ({} dropped in this project so far)",
                self.state.read().dropped
            );
        }
        self.unjournaled.lock().extend(new_events);
        made
    }

    /// The host loaded a saved state: give the instance a new identity if another live
    /// instance has the same one (a duplicated track), and schedule bringing its events into
    /// the journal. A project file is data, not authority: its settings never become this
    /// machine's defaults for new instances.
    fn loaded(self: &Slot, shared: &Shared) {
        let me = self.state.read().instance;
        let twin = shared
            .slots
            .lock()
            .iter()
            .any(|s| !std::ptr::eq(s.as_ref(), self) && s.state.read().instance == me);
        {
            let mut state = self.state.write();
            if twin {
                state.instance = Uuid::now_v7();
            }
            self.floors.raise(state.next_take(), state.next_mark());
        }
        *self.import.lock() = Some(None);
    }

    /// Brings the saved state's events that this machine's journal does not have yet into
    /// it, held back from the server until the user agrees ([`Aside::Imported`]), and raises
    /// the numbering floors past the numbers this instance already used there. Only this
    /// instance's own kind of events of its own project come in ([`instance_made`]).
    fn import_saved_events(&self, shared: &Shared) {
        let (events, instance, project) = {
            let state = self.state.read();
            let project = state.settings.project.clone();
            let own: Vec<Event> = state
                .events
                .iter()
                .filter(|e| instance_made(e, state.instance, &project))
                .cloned()
                .collect();
            (own, state.instance, project)
        };
        let failed = |msg: String| {
            shared.journals.lock().note_error(msg);
            *self.import.lock() = Some(Some(Instant::now()));
        };
        let journal = match shared.journal(&project) {
            Ok(j) => j,
            Err(msg) => return failed(msg),
        };
        let (known, mine) = match journal.scan_matching(&instance.to_string()) {
            Ok((ids, mine)) => (ids.into_iter().collect::<HashSet<Uuid>>(), mine),
            Err(e) => return failed(e.to_string()),
        };
        let (mut take, mut mark) = (1, 1);
        for event in mine {
            match event.body {
                Body::TakeStarted { take: t } | Body::TakeEnded { take: t }
                    if t.instance == instance =>
                {
                    take = take.max(t.number.saturating_add(1));
                }
                Body::Mark {
                    instance: i,
                    number,
                    ..
                } if i == instance => mark = mark.max(number.saturating_add(1)),
                _ => {}
            }
        }
        self.floors.raise(take, mark);
        let missing: Vec<Event> = events
            .into_iter()
            .filter(|e| !known.contains(&e.id))
            .collect();
        // Held first: if the journal then takes them, none can go out unasked.
        let held: Vec<(Uuid, Aside)> = missing.iter().map(|e| (e.id, Aside::Imported)).collect();
        if let Err(e) = journal.set_aside(&held) {
            return failed(e.to_string());
        }
        let mut pending = self.unjournaled.lock();
        let queued: HashSet<Uuid> = pending.iter().map(|e| e.id).collect();
        pending.extend(missing.into_iter().filter(|e| !queued.contains(&e.id)));
        *self.import.lock() = None;
    }

    /// Collects, then writes this slot's waiting events to the journal.
    fn drain(self: &Arc<Self>, shared: &Shared) -> usize {
        let made = self.collect(shared);
        write_to_journals(std::slice::from_ref(self), shared);
        made
    }
}

/// Whether an event from a loaded project state may come into this machine's journal: it must
/// be of the instance's project, of a kind a plugin instance makes (never a verdict, a
/// tracklist, a song selection or a kind this version does not know), and where it names an
/// instance (takes and marks), this one.
fn instance_made(e: &Event, instance: Uuid, project: &str) -> bool {
    e.project == project
        && match &e.body {
            Body::TakeStarted { take }
            | Body::TakeEnded { take }
            | Body::TakeRated { take, .. } => take.instance == instance,
            Body::Mark { instance: i, .. } => *i == instance,
            Body::NoteAdded(_)
            | Body::NoteEdited(_)
            | Body::NoteDeleted { .. }
            | Body::EqDecision(_)
            | Body::FxDecision(_)
            | Body::TransportStarted
            | Body::TransportStopped
            | Body::SessionOpened
            | Body::SessionClosed => true,
            Body::Verdict { .. }
            | Body::TracklistOrder { .. }
            | Body::SongSelection { .. }
            | Body::Unknown { .. } => false,
        }
}

/// Writes every slot's waiting events (and orphans of removed instances) with one append per
/// project, so fifty instances in one process cost one fsync per poll, not fifty. Each event
/// goes to the journal of its own project. Events that cannot be written go back where they
/// came from, in order, for the next poll.
fn write_to_journals(slots: &[Arc<Slot>], shared: &Shared) {
    // Project -> its events, each with the slot it came from (None: an orphan).
    type FromSlot<'a> = (Option<&'a Arc<Slot>>, Event);
    let mut by_project: BTreeMap<String, Vec<FromSlot>> = BTreeMap::new();
    for slot in slots {
        let events = std::mem::take(&mut *slot.unjournaled.lock());
        slot.in_flight.fetch_add(events.len(), Ordering::AcqRel);
        for e in events {
            by_project
                .entry(e.project.clone())
                .or_default()
                .push((Some(slot), e));
        }
    }
    for e in std::mem::take(&mut *shared.orphans.lock()) {
        by_project
            .entry(e.project.clone())
            .or_default()
            .push((None, e));
    }
    for (project, items) in by_project {
        let journal = shared.journal(&project);
        let result = journal.and_then(|j| {
            let events: Vec<Event> = items.iter().map(|(_, e)| e.clone()).collect();
            j.append(&events).map_err(|e| e.to_string())
        });
        let ok = result.is_ok();
        match result {
            Ok(()) => shared.journals.lock().last_error = None,
            Err(msg) => shared.journals.lock().note_error(msg),
        }
        // Failed events go back to the front of their lists, in order.
        let mut back: Vec<(Option<&Arc<Slot>>, Vec<Event>)> = Vec::new();
        for (slot, e) in items {
            if let Some(s) = slot {
                s.in_flight.fetch_sub(1, Ordering::AcqRel);
            }
            if !ok {
                match back.iter_mut().find(|(s, _)| ptr_eq(*s, slot)) {
                    Some((_, list)) => list.push(e),
                    None => back.push((slot, vec![e])),
                }
            }
        }
        for (slot, mut events) in back {
            let mut list = match slot {
                Some(s) => s.unjournaled.lock(),
                None => shared.orphans.lock(),
            };
            events.append(&mut list);
            *list = events;
        }
    }
}

fn ptr_eq(a: Option<&Arc<Slot>>, b: Option<&Arc<Slot>>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => Arc::ptr_eq(a, b),
        (None, None) => true,
        _ => false,
    }
}

impl Shared {
    /// The project's journal, opened once per process. Opening (which may create folders and
    /// fsync them) happens outside the lock, which the editor takes every frame.
    fn journal(&self, project: &str) -> Result<Journal, String> {
        if let Some(j) = self.journals.lock().open.get(project) {
            return Ok(j.clone());
        }
        let j = Journal::open_project(project).map_err(|e| e.to_string())?;
        Ok(self
            .journals
            .lock()
            .open
            .entry(project.to_owned())
            .or_insert(j)
            .clone())
    }
}

struct Shared {
    slots: Mutex<Vec<Arc<Slot>>>,
    journals: Mutex<Journals>,
    /// Events of removed instances that could not be written yet; retried every poll.
    orphans: Mutex<Vec<Event>>,
    /// Sync state per (server URL, project).
    sync: Mutex<HashMap<(String, String), SyncTarget>>,
    /// Folded records of the projects open editors watch, by project. Only the worker thread
    /// locks this (it reads the disk while holding it).
    records: Mutex<HashMap<String, RecordCache>>,
    /// The latest snapshot of each watched project. Locked only to swap or clone an `Arc`, so
    /// the editor never waits for the worker's reading and folding.
    snapshots: Mutex<HashMap<String, Arc<RecordSnapshot>>>,
    stop: AtomicBool,
    /// Fired with `stop`: ends the sync thread's request in flight (a long poll, or a stalled
    /// server) at once, so removing the last instance does not wait for it.
    cancel_sync: SyncCancel,
}

/// How an instance's project stands with its server, for the editor's status dot.
#[derive(Debug, Clone, PartialEq)]
pub enum SyncStatus {
    /// No server configured: working offline by choice.
    Off,
    /// Everything is on the server.
    Synced,
    /// Events waiting to go out.
    Pending(usize),
    /// Everything that can go out is on the server; this many events wait for someone (see
    /// [`Link::waiting`]).
    Waiting(usize),
    /// The server could not be used since `since_ms`; `reason` in words a producer can act on.
    Offline { since_ms: i64, reason: String },
}

struct SyncTarget {
    status: SyncStatus,
    failures: u32,
    next_try: Instant,
    client: Option<(String, liner_record::sync::SyncClient)>,
    /// Who the token speaks for, as the server last said.
    me: Option<Identity>,
    /// Events that wait for someone, as of the last round.
    waiting: Arc<Vec<(Event, Waiting)>>,
}

impl SyncTarget {
    fn new() -> Self {
        SyncTarget {
            status: SyncStatus::Pending(0),
            failures: 0,
            next_try: Instant::now(),
            client: None,
            me: None,
            waiting: Arc::default(),
        }
    }
}

/// How long one long poll waits for news (a stop cancels it: removing the last plugin
/// instance does not wait for it).
pub const LONG_POLL: Duration = Duration::from_secs(1);

/// The running worker thread. Dropped (and joined) with its last [`Registration`].
struct Worker {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    sync_thread: Option<JoinHandle<()>>,
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        self.shared.cancel_sync.cancel();
        let threads = [self.thread.take(), self.sync_thread.take()];
        // Wake both before waiting for either, so neither sleeps out its park.
        for thread in threads.iter().flatten() {
            thread.thread().unpark();
        }
        for thread in threads.into_iter().flatten() {
            let _ = thread.join();
        }
        // A last try for events of removed instances; what still fails is reported.
        write_to_journals(&[], &self.shared);
        let lost = self.shared.orphans.lock().len();
        if lost > 0 {
            nice_plug::nice_error!(
                "Liner Notes: {lost} events could not be written to the journal before the \
                 plugin was unloaded; they remain in the DAW project's saved state"
            );
        }
    }
}

static WORKER: Mutex<Weak<Worker>> = Mutex::new(Weak::new());

fn worker() -> Arc<Worker> {
    let mut global = WORKER.lock();
    if let Some(w) = global.upgrade() {
        return w;
    }
    let shared = Arc::new(Shared {
        slots: Mutex::new(Vec::new()),
        journals: Mutex::new(Journals::default()),
        orphans: Mutex::new(Vec::new()),
        sync: Mutex::new(HashMap::new()),
        records: Mutex::new(HashMap::new()),
        snapshots: Mutex::new(HashMap::new()),
        stop: AtomicBool::new(false),
        cancel_sync: SyncCancel::new(),
    });
    let thread = {
        let shared = shared.clone();
        std::thread::Builder::new()
            .name("liner-notes-worker".into())
            .spawn(move || run(&shared))
            .expect("spawning the Liner Notes worker thread")
    };
    let sync_thread = {
        let shared = shared.clone();
        std::thread::Builder::new()
            .name("liner-notes-sync".into())
            .spawn(move || run_sync(&shared))
            .expect("spawning the Liner Notes sync thread")
    };
    let w = Arc::new(Worker {
        shared,
        thread: Some(thread),
        sync_thread: Some(sync_thread),
    });
    *global = Arc::downgrade(&w);
    w
}

fn run(shared: &Shared) {
    while !shared.stop.load(Ordering::Acquire) {
        // Clone the list so registering or unregistering never waits on a drain.
        let slots: Vec<Arc<Slot>> = shared.slots.lock().clone();
        for slot in &slots {
            slot.collect(shared);
        }
        write_to_journals(&slots, shared);
        refresh_records(&slots, shared);
        std::thread::park_timeout(POLL_INTERVAL);
    }
}

/// Brings the records that open editors watch up to date with their journals (which other
/// instances, other processes and the sync thread also append to) and wakes the editors whose
/// record changed. Records nobody watches are dropped.
fn refresh_records(slots: &[Arc<Slot>], shared: &Shared) {
    let mut watched: HashMap<String, Vec<&Arc<Slot>>> = HashMap::new();
    for slot in slots {
        if !slot.watchers.lock().is_empty() {
            watched.entry(slot.project()).or_default().push(slot);
        }
    }
    let mut records = shared.records.lock();
    records.retain(|project, _| watched.contains_key(project));
    shared
        .snapshots
        .lock()
        .retain(|project, _| watched.contains_key(project));
    for (project, watchers) in watched {
        let journal = match shared.journal(&project) {
            Ok(j) => j,
            Err(e) => {
                shared.journals.lock().note_error(e);
                continue;
            }
        };
        let cache = records
            .entry(project.clone())
            .or_insert_with(RecordCache::new);
        match cache.refresh(&journal) {
            Ok(true) => {
                let snap = cache.snapshot.clone();
                shared.snapshots.lock().insert(project, snap);
                watchers.iter().for_each(|s| s.wake_watchers());
            }
            Ok(false) => {}
            Err(e) => shared.journals.lock().note_error(e.to_string()),
        }
    }
}

/// The sync thread: for every (server, project) some instance names, pushes what the journal
/// has not had acknowledged and pulls what others recorded (long poll), with exponential
/// backoff and jitter after failures. Never touches the audio thread; the GUI only reads the
/// status it leaves.
fn run_sync(shared: &Shared) {
    while !shared.stop.load(Ordering::Acquire) {
        let targets: Vec<(String, String)> = {
            let slots = shared.slots.lock();
            let mut t: Vec<_> = slots
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
        };
        let mut waited = false;
        for key in targets {
            if shared.stop.load(Ordering::Acquire) {
                return;
            }
            let due = shared
                .sync
                .lock()
                .get(&key)
                .is_none_or(|t| Instant::now() >= t.next_try);
            if !due {
                continue;
            }
            waited |= sync_target(shared, &key);
        }
        if !waited {
            std::thread::park_timeout(Duration::from_millis(250));
        }
    }
}

/// One sync round for a (server, project); returns whether it waited on a long poll. The
/// token is the one this computer holds for the server's exact origin: a project naming a
/// server this computer has no token for sends nothing at all.
fn sync_target(shared: &Shared, key: &(String, String)) -> bool {
    use liner_record::sync::{sync_once, SyncClient, SyncError};
    let (url, project) = key;
    let Some(token) = crate::settings::token_for(url) else {
        let origin = crate::settings::origin(url).unwrap_or_else(|| url.clone());
        set_sync(
            shared,
            key,
            Err(format!(
                "this project syncs with {origin}, and this computer has no token for it: \
                 nothing was sent. To connect, paste a token for {origin} in Settings"
            )),
        );
        return false;
    };
    let journal = match shared.journal(project) {
        Ok(j) => j,
        Err(e) => {
            set_sync(shared, key, Err(e));
            return false;
        }
    };
    // Reuse the HTTP client while the token stays the same (built outside the lock: the
    // editor reads the status under it).
    let reused = {
        let mut sync = shared.sync.lock();
        let t = sync.entry(key.clone()).or_insert_with(SyncTarget::new);
        match t.client.take() {
            Some((tok, c)) if tok == token => Some(c),
            _ => None,
        }
    };
    let client = match reused {
        Some(c) => c,
        None => match SyncClient::new(url, &token, LONG_POLL + Duration::from_secs(10)) {
            Ok(c) => c.with_cancel(shared.cancel_sync.clone()),
            Err(e) => {
                set_sync(shared, key, Err(e.to_string()));
                return false;
            }
        },
    };
    let result = sync_once(&journal, project, &client, LONG_POLL);
    if matches!(result, Err(SyncError::Cancelled)) {
        return false; // the worker is stopping; nothing to report
    }
    let waited = result.is_ok();
    // Every failure backs off; a wrong token or a refusal will not fix itself, but the
    // settings may change, so they are retried too (with the same backoff).
    let outcome = match result {
        Ok(report) => {
            adopt_identity(shared, key, &report.me);
            let waiting: Vec<(Event, Waiting)> = report
                .waiting
                .into_iter()
                .map(|(e, w)| (e.event, w))
                .collect();
            if let Some(t) = shared.sync.lock().get_mut(key) {
                t.me = Some(report.me);
                t.waiting = Arc::new(waiting);
            }
            Ok(shared.sync.lock().get(key).map_or(0, |t| t.waiting.len()))
        }
        Err(e) => Err(e.to_string()),
    };
    set_sync(shared, key, outcome);
    if let Some(t) = shared.sync.lock().get_mut(key) {
        t.client = Some((token, client));
    }
    waited
}

/// New events of the instances syncing with `key` speak for the token's person and role.
fn adopt_identity(shared: &Shared, key: &(String, String), me: &Identity) {
    let slots: Vec<Arc<Slot>> = shared.slots.lock().clone();
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

/// Records a round's outcome (Ok: how many events wait for someone): the status, and when
/// to try again (backoff with jitter after
/// failures: 0.5 s doubling to 30 s).
fn set_sync(shared: &Shared, key: &(String, String), outcome: Result<usize, String>) {
    let mut sync = shared.sync.lock();
    let t = sync.entry(key.clone()).or_insert_with(SyncTarget::new);
    let before = t.status.clone();
    match outcome {
        Ok(waiting) => {
            t.failures = 0;
            t.next_try = Instant::now();
            t.status = if waiting == 0 {
                SyncStatus::Synced
            } else {
                SyncStatus::Waiting(waiting)
            };
        }
        Err(reason) => {
            t.failures = t.failures.saturating_add(1);
            let base = Duration::from_millis(500)
                .saturating_mul(1 << t.failures.min(6))
                .min(Duration::from_secs(30));
            let jitter = Duration::from_millis(Uuid::now_v7().as_u128() as u64 % 250);
            t.next_try = Instant::now() + base + jitter;
            let since_ms = match &t.status {
                SyncStatus::Offline { since_ms, .. } => *since_ms,
                _ => liner_record::event::now_ms(),
            };
            t.status = SyncStatus::Offline { since_ms, reason };
        }
    }
    if t.status != before {
        drop(sync);
        let slots: Vec<Arc<Slot>> = shared.slots.lock().clone();
        for slot in slots {
            let st = slot.state.read();
            let same = st.settings.server_url.trim() == key.0 && st.settings.project == key.1;
            drop(st);
            if same {
                slot.wake_watchers();
            }
        }
    }
}

/// An instance's membership in the worker. Dropping it drains the queue one last time, so no
/// event that reached the queue is lost when the plugin is removed.
pub struct Registration {
    link: Link,
}

/// What other threads (the editor) use of an instance's worker side. Cheap to clone; every
/// method returns at once (no disk, no network): slow work stays on the worker threads.
#[derive(Clone)]
pub struct Link {
    slot: Arc<Slot>,
    worker: Arc<Worker>,
}

/// Keeps the worker following the instance's project record while held (an open editor).
pub struct RecordWatch {
    slot: Arc<Slot>,
    id: u64,
}

impl Drop for RecordWatch {
    fn drop(&mut self) {
        self.slot.watchers.lock().retain(|(id, _)| *id != self.id);
    }
}

/// Registers an instance: from now on its queued events reach the journal and `state`,
/// and `floors` learns the take and mark numbers already used.
pub fn register(
    consumer: rtrb::Consumer<CaptureEvent>,
    state: Arc<SavedState>,
    dropped: Arc<AtomicU64>,
    floors: Arc<NumberFloors>,
) -> Registration {
    let worker = worker();
    let slot = Arc::new(Slot {
        consumer: Mutex::new(consumer),
        state,
        dropped,
        floors,
        submitted: Mutex::new(Vec::new()),
        import: Mutex::new(None),
        unjournaled: Mutex::new(Vec::new()),
        in_flight: AtomicUsize::new(0),
        watchers: Mutex::new(Vec::new()),
    });
    worker.shared.slots.lock().push(slot.clone());
    Registration {
        link: Link { slot, worker },
    }
}

impl Registration {
    /// Moves everything queued into the journal and the state now, instead of at the next
    /// poll. Blocks on the disk: not for the GUI thread.
    pub fn flush(&self) -> usize {
        self.link.slot.drain(&self.link.worker.shared)
    }

    /// The handle the editor uses.
    pub fn link(&self) -> Link {
        self.link.clone()
    }
}

impl Link {
    /// Hands an event (a typed note, a rating) to the worker; returns at once.
    pub fn submit(&self, event: Event) {
        self.slot.submitted.lock().push(event);
        if let Some(t) = &self.worker.thread {
            t.thread().unpark();
        }
    }

    /// The instance's saved state (settings, identity). The audio thread never locks it.
    pub fn state(&self) -> &Arc<SavedState> {
        &self.slot.state
    }

    /// How this instance's project stands with its server.
    pub fn sync_status(&self) -> SyncStatus {
        if self.target().0.is_empty() {
            return SyncStatus::Off;
        }
        self.target_state(|t| t.status.clone())
            .unwrap_or(SyncStatus::Pending(0))
    }

    /// Who this instance's server says its token speaks for (None until a round succeeded).
    pub fn identity(&self) -> Option<Identity> {
        self.target_state(|t| t.me.clone()).flatten()
    }

    /// Events of this instance's project that wait for someone (refused, brought in from a
    /// project file, made under another name, or never to go with this token), as of the
    /// last sync round.
    pub fn waiting(&self) -> Arc<Vec<(Event, Waiting)>> {
        self.target_state(|t| t.waiting.clone()).unwrap_or_default()
    }

    /// Asks the sync thread for a round now (after the user changed what waits).
    pub fn sync_soon(&self) {
        if let Some(t) = self.worker.shared.sync.lock().get_mut(&self.target()) {
            t.next_try = Instant::now();
        }
        if let Some(t) = &self.worker.sync_thread {
            t.thread().unpark();
        }
    }

    fn target(&self) -> (String, String) {
        let st = self.slot.state.read();
        (
            st.settings.server_url.trim().to_owned(),
            st.settings.project.clone(),
        )
    }

    fn target_state<T>(&self, f: impl FnOnce(&SyncTarget) -> T) -> Option<T> {
        self.worker.shared.sync.lock().get(&self.target()).map(f)
    }

    /// Events of this instance not yet durable in the journal (0 when all are), and the last
    /// journal error (cleared by the next successful write).
    pub fn journal_status(&self) -> (usize, Option<String>) {
        let waiting = self.slot.unjournaled.lock().len()
            + self.slot.submitted.lock().len()
            + self.slot.in_flight.load(Ordering::Acquire);
        (
            waiting,
            self.worker.shared.journals.lock().last_error.clone(),
        )
    }

    /// Asks the worker to follow this instance's project record and to call `repaint` whenever
    /// it (or the sync status) changes, until the returned guard is dropped.
    pub fn watch(&self, repaint: Repaint) -> RecordWatch {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let id = NEXT.fetch_add(1, Ordering::Relaxed);
        self.slot.watchers.lock().push((id, repaint));
        if let Some(t) = &self.worker.thread {
            t.thread().unpark();
        }
        RecordWatch {
            slot: self.slot.clone(),
            id,
        }
    }

    /// The latest folded record of this instance's project, if a watch has produced one.
    pub fn record(&self) -> Option<Arc<RecordSnapshot>> {
        let project = self.slot.project();
        self.worker.shared.snapshots.lock().get(&project).cloned()
    }
}

#[cfg(test)]
impl Registration {
    /// Fsyncs made so far on `project`'s journal by this process's worker.
    fn fsyncs(&self, project: &str) -> u64 {
        self.link
            .worker
            .shared
            .journal(project)
            .unwrap()
            .fsync_count()
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let (slot, shared) = (&self.link.slot, &self.link.worker.shared);
        shared.slots.lock().retain(|s| !Arc::ptr_eq(s, slot));
        slot.drain(shared);
        // Whatever could not be written is retried by the worker until it can be.
        let left = std::mem::take(&mut *slot.unjournaled.lock());
        shared.orphans.lock().extend(left);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::InstanceState;
    use liner_record::event::{Body, Category, NoteAdded};

    /// Cargo runs tests with LINER_NOTES_DATA_DIR under target/ (.cargo/config.toml).
    fn instance(project: &str) -> (rtrb::Producer<CaptureEvent>, Arc<SavedState>, Registration) {
        let (tx, rx) = rtrb::RingBuffer::new(8);
        let mut state = InstanceState::new();
        state.settings.project = project.into();
        let state = Arc::new(SavedState::new(state));
        let reg = register(
            rx,
            state.clone(),
            Arc::new(AtomicU64::new(0)),
            Arc::default(),
        );
        (tx, state, reg)
    }

    #[test]
    fn submitted_events_reach_the_journal_without_the_caller_waiting() {
        let project = format!("worker test {}", Uuid::now_v7());
        let (_tx, state, reg) = instance(&project);
        let ctx = state.read().context(session_id());
        let note = Event::new(
            &ctx,
            None,
            Body::NoteAdded(NoteAdded {
                text: "tape hiss at the intro".into(),
                category: Category::Technical,
                anchor: None,
                take: None,
                private: false,
            }),
        );
        reg.link().submit(note.clone());
        let journal = Journal::open_project(&project).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while journal.scan().unwrap().ids.is_empty() {
            assert!(std::time::Instant::now() < deadline, "never journaled");
            std::thread::sleep(Duration::from_millis(2));
        }
        let read = journal.read().unwrap();
        assert_eq!(read.events.len(), 1);
        assert_eq!(read.events[0].event, note);
        assert_eq!(state.read().events, vec![note]);
        assert_eq!(reg.link().journal_status(), (0, None));
    }

    /// Fifty instances in one process share the worker, which writes all their events with
    /// one append (one fsync) per poll: a burst of 1,000 costs a handful of fsyncs.
    #[test]
    fn a_burst_from_fifty_instances_costs_a_handful_of_fsyncs() {
        let project = format!("worker burst {}", Uuid::now_v7());
        let instances: Vec<_> = (0..50).map(|_| instance(&project)).collect();
        let before = instances[0].2.fsyncs(&project);
        for (_, state, reg) in &instances {
            let ctx = state.read().context(session_id());
            for n in 0..20 {
                reg.link().submit(Event::new(
                    &ctx,
                    None,
                    Body::Mark {
                        instance: state.read().instance,
                        number: n,
                        label: None,
                    },
                ));
            }
        }
        let journal = Journal::open_project(&project).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while journal.scan().unwrap().ids.len() < 1_000 {
            assert!(std::time::Instant::now() < deadline, "never journaled");
            std::thread::sleep(Duration::from_millis(2));
        }
        let fsyncs = instances[0].2.fsyncs(&project) - before;
        eprintln!("{fsyncs} fsyncs for 1,000 events");
        assert!(fsyncs <= 10, "{fsyncs} fsyncs for 1,000 events");
        assert_eq!(journal.scan().unwrap().ids.len(), 1_000);
    }

    #[test]
    fn instances_share_one_thread_that_stops_with_the_last() {
        let (_a, _, reg_a) = instance("worker test shared");
        let (_b, _, reg_b) = instance("worker test shared");
        assert!(Arc::ptr_eq(&reg_a.link.worker, &reg_b.link.worker));
    }
}

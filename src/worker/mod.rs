//! The background worker: shared by every plugin instance of the process. One module per job:
//!
//! - [`drain`]: each instance's audio queue and submitted events become record events in
//!   their project's journal (durable once the append returns) and the instance's saved state;
//! - [`follow`]: the records open editors watch, kept up to date and published as snapshots;
//! - [`sync`]: pushing new events to each server as soon as they are written, and pulling
//!   what others recorded, on threads of their own;
//! - [`clips`]: the rolling audio history of instances that clip audio with their notes, and
//!   the clips cut from it (encoded on short-lived threads of their own);
//! - [`print`]: versions printed from the tap, encoded on a thread of their own per print.
//!
//! Fifty instances cost the same three threads (drain and follow share one). They start with
//! the first registration and are joined when the last one is dropped, after a last push.
//!
//! Why polling instead of waking the worker from the audio thread: waking a thread is a syscall
//! (futex), which the audio thread must never make. The audio thread only pushes to a wait-free
//! ring; the worker looks at the rings every [`POLL_INTERVAL`].
//!
//! Other threads (the editor) hand events to the worker with [`Link::submit`]; they never wait
//! for the disk or the network.

pub mod clips;
mod drain;
mod follow;
mod print;
mod sync;

pub use sync::{SyncStatus, FINAL_PUSH, LONG_POLL, MAX_POLLS_PER_SECOND};

use crate::capture::{CaptureEvent, NumberFloors};
use crate::record_view::{RecordCache, RecordSnapshot};
use crate::state::SavedState;
use drain::{write_to_journals, Journals, Slot};
use liner_record::outbox::{Identity, Waiting};
use liner_record::sync::SyncCancel;
use liner_record::{Event, Journal};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::thread::JoinHandle;
use std::time::Duration;
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

/// Wakes an editor (requests a repaint); called from the worker and sync threads.
pub type Repaint = Arc<dyn Fn() + Send + Sync>;

struct Shared {
    slots: Mutex<Vec<Arc<Slot>>>,
    journals: Mutex<Journals>,
    /// Events of removed instances that could not be written yet; retried every poll.
    orphans: Mutex<Vec<Event>>,
    /// Sync state per (server URL, project).
    sync: Mutex<HashMap<sync::Key, sync::SyncTarget>>,
    /// Folded records of the projects open editors watch, by project. Only the worker thread
    /// locks this (it reads the disk while holding it).
    records: Mutex<HashMap<String, RecordCache>>,
    /// The latest snapshot of each watched project. Locked only to swap or clone an `Arc`, so
    /// the editor never waits for the worker's reading and folding.
    snapshots: Mutex<HashMap<String, Arc<RecordSnapshot>>>,
    stop: AtomicBool,
    /// Fired with `stop`: ends the sync threads' requests in flight (a long poll, or a stalled
    /// server) at once, so removing the last instance does not wait for them.
    cancel_sync: SyncCancel,
    /// The sync threads, to wake them (set once they are started).
    push_thread: OnceLock<std::thread::Thread>,
    pull_thread: OnceLock<std::thread::Thread>,
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

    /// Something new to send: the push thread looks at once.
    fn wake_sync(&self) {
        if let Some(t) = self.push_thread.get() {
            t.unpark();
        }
    }

    /// Settings or what waits changed: both sync threads look again at once.
    fn wake_sync_both(&self) {
        self.wake_sync();
        if let Some(t) = self.pull_thread.get() {
            t.unpark();
        }
    }
}

/// The running worker threads. Dropped (and joined) with its last [`Registration`].
struct Worker {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    push_thread: Option<JoinHandle<()>>,
    pull_thread: Option<JoinHandle<()>>,
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        self.shared.cancel_sync.cancel();
        let threads = [
            self.thread.take(),
            self.push_thread.take(),
            self.pull_thread.take(),
        ];
        // Wake all before waiting for any, so none sleeps out its park.
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
        // The last note leaves: what waits goes to servers that answered lately, briefly.
        sync::final_push(&self.shared);
    }
}

static WORKER: Mutex<Weak<Worker>> = Mutex::new(Weak::new());

fn spawn(name: &str, shared: &Arc<Shared>, run: fn(&Shared)) -> JoinHandle<()> {
    let shared = shared.clone();
    std::thread::Builder::new()
        .name(format!("liner-notes-{name}"))
        .spawn(move || run(&shared))
        .unwrap_or_else(|e| panic!("spawning the Liner Notes {name} thread: {e}"))
}

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
        push_thread: OnceLock::new(),
        pull_thread: OnceLock::new(),
    });
    let thread = spawn("worker", &shared, run);
    let push_thread = spawn("push", &shared, sync::run_push);
    let pull_thread = spawn("pull", &shared, sync::run_pull);
    let _ = shared.push_thread.set(push_thread.thread().clone());
    let _ = shared.pull_thread.set(pull_thread.thread().clone());
    let w = Arc::new(Worker {
        shared,
        thread: Some(thread),
        push_thread: Some(push_thread),
        pull_thread: Some(pull_thread),
    });
    *global = Arc::downgrade(&w);
    w
}

/// The drain and follow thread: every [`POLL_INTERVAL`], every queue into the journals, then
/// the watched records brought up to date.
fn run(shared: &Shared) {
    while !shared.stop.load(Ordering::Acquire) {
        // Clone the list so registering or unregistering never waits on a drain.
        let slots: Vec<Arc<Slot>> = shared.slots.lock().clone();
        for slot in &slots {
            slot.collect(shared);
        }
        write_to_journals(&slots, shared);
        clips::poll(&slots, |project| {
            shared.journal(project).ok().map(|j| j.dir().to_path_buf())
        });
        follow::refresh_records(&slots, shared);
        std::thread::park_timeout(POLL_INTERVAL);
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
        awaiting: Mutex::new(std::collections::HashSet::new()),
        saved: Mutex::new(Vec::new()),
        clip_on: Arc::new(std::sync::atomic::AtomicBool::new(false)),
        clipper: Mutex::new(clips::Clipper::default()),
        tap_lost: Mutex::new(None),
        print: Arc::default(),
        printer: Mutex::new(print::Printer::default()),
    });
    slot.clip_on
        .store(slot.state.read().clip_audio, Ordering::Relaxed);
    worker.shared.slots.lock().push(slot.clone());
    // A new instance may name a server: the sync threads look.
    worker.shared.wake_sync_both();
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
    /// [`Link::submit`] for an event with a moment in the audio (a note, a decision): its
    /// clip is cut if the instance clips audio with its notes.
    pub fn submit_with_moment(&self, event: Event, moment: Option<clips::Moment>) {
        if let Some(moment) = moment {
            let private = matches!(&event.body, liner_record::Body::NoteAdded(n) if n.private);
            self.slot.clip(&event, private, moment);
        }
        self.submit(event);
    }

    /// The switch the audio thread reads: whether to feed the tap.
    pub fn clip_switch(&self) -> Arc<std::sync::atomic::AtomicBool> {
        self.slot.clip_on.clone()
    }

    /// Turns "clip audio with notes" on or off for this instance (saved with the project).
    pub fn set_clip_audio(&self, on: bool) {
        self.slot.state.write().clip_audio = on;
        self.slot.clip_on.store(on, Ordering::Relaxed);
    }

    /// Seconds of audio the audio thread could not hand to the clips since this activation
    /// (the worker fell behind: clips around then have silence in them); `None` when none.
    pub fn clip_audio_lost(&self) -> Option<f64> {
        let lost = self.slot.tap_lost.lock();
        let (count, rate) = lost.as_ref()?;
        let frames = count.load(Ordering::Relaxed);
        (frames > 0 && *rate > 0).then(|| frames as f64 / *rate as f64)
    }

    /// How much of each clip comes before its moment and after, in seconds (saved with the
    /// project; a clip is at most [`liner_record::clips::MAX_CLIP_SECONDS`] long in all).
    pub fn set_clip_lengths(&self, before: f32, after: f32) {
        let most = liner_record::clips::MAX_CLIP_SECONDS as f32;
        let before = before.clamp(0.0, most);
        let mut st = self.slot.state.write();
        st.clip_before = before;
        st.clip_after = after.clamp(0.0, most - before);
    }

    /// The worker's end of a new activation's audio tap. What the previous activation left in
    /// its tap (a print's last blocks and its end) is taken first.
    pub fn set_tap(&self, tap: crate::tap::TapReader) {
        let shared = &self.worker.shared;
        clips::feed(&self.slot, true, &|project: &str| {
            shared.journal(project).ok().map(|j| j.dir().to_path_buf())
        });
        *self.slot.tap_lost.lock() = Some((tap.lost_counter(), tap.sample_rate));
        self.slot.clipper.lock().set_tap(tap);
    }

    /// Printing's switches and the worker's report on it (the audio thread reads the
    /// switches; the editor arms, stops and shows the report).
    pub fn print(&self) -> Arc<crate::print::PrintShared> {
        self.slot.print.clone()
    }

    /// The track of another instance of the same project and song that is armed to print or
    /// printing (one print per song at a time is what makes sense), if any.
    pub fn other_printer(&self) -> Option<String> {
        use crate::print::Phase;
        let (project, song) = {
            let st = self.slot.state.read();
            (st.settings.project.clone(), st.settings.song.clone())
        };
        let slots = self.worker.shared.slots.lock().clone();
        slots.iter().find_map(|s| {
            if Arc::ptr_eq(s, &self.slot)
                || !matches!(s.print.phase(), Phase::Armed | Phase::Printing)
            {
                return None;
            }
            let st = s.state.read();
            (st.settings.project == project && st.settings.song == song)
                .then(|| st.settings.track.clone())
        })
    }

    /// Hands an event (a typed note, a rating) to the worker; returns at once.
    pub fn submit(&self, event: Event) {
        self.slot.awaiting.lock().insert(event.id);
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
            .unwrap_or(SyncStatus::Connecting)
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

    /// Why this instance's clips wait on its server (the project's room for clips there is
    /// full), as of the last push round.
    pub fn clip_problem(&self) -> Option<String> {
        self.target_state(|t| t.clip_problem.clone()).flatten()
    }

    /// The version this instance's project is uploading to its server and how far it got
    /// (bytes the server holds of how many; None when no upload is under way), as of the
    /// last chunk sent.
    pub fn version_upload(&self) -> Option<liner_record::sync::VersionUpload> {
        self.target_state(|t| t.version_upload.clone()).flatten()
    }

    /// Why this instance's versions wait on its server (the project's room there is full)
    /// or one was refused, as of the last push round.
    pub fn version_problem(&self) -> Option<String> {
        self.target_state(|t| t.version_problem.clone()).flatten()
    }

    /// Asks the sync threads for a round now (the settings or what waits changed), backoff
    /// or not.
    pub fn sync_soon(&self) {
        sync::retry_now(&self.worker.shared, &self.target());
        self.worker.shared.wake_sync_both();
    }

    /// Ids of events the editor submitted that were written to the journal since the last
    /// call: its "saving…" ends for a note when the note's own write returned.
    pub fn take_saved(&self) -> Vec<Uuid> {
        std::mem::take(&mut *self.slot.saved.lock())
    }

    fn target(&self) -> (String, String) {
        let st = self.slot.state.read();
        (
            st.settings.server_url.trim().to_owned(),
            st.settings.project.clone(),
        )
    }

    fn target_state<T>(&self, f: impl FnOnce(&sync::SyncTarget) -> T) -> Option<T> {
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
                version: None,
                guest: None,
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
        // The line is in the file once written; the worker counts it done after its fsync.
        while reg.link().journal_status() != (0, None) {
            assert!(
                std::time::Instant::now() < deadline,
                "{:?}",
                reg.link().journal_status()
            );
            std::thread::sleep(Duration::from_millis(2));
        }
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
        // Alone, 1-3. The worker is this process's, shared with the tests running beside this
        // one, and their wake-ups split the burst into more polls (12 seen); one fsync per
        // event would be 1,000.
        assert!(fsyncs <= 50, "{fsyncs} fsyncs for 1,000 events");
        assert_eq!(journal.scan().unwrap().ids.len(), 1_000);
    }

    #[test]
    fn instances_share_one_thread_that_stops_with_the_last() {
        let (_a, _, reg_a) = instance("worker test shared");
        let (_b, _, reg_b) = instance("worker test shared");
        assert!(Arc::ptr_eq(&reg_a.link.worker, &reg_b.link.worker));
    }
}

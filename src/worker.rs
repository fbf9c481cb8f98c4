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
//! Other threads (the editor) hand events to the worker with [`Registration::submit`]; they
//! never wait for the disk.

use crate::capture::CaptureEvent;
use crate::state::SavedState;
use liner_record::{Event, Journal};
use parking_lot::Mutex;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
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
    /// Events from other threads (the editor), waiting for the worker.
    submitted: Mutex<Vec<Event>>,
    /// Events of this instance not yet in the journal (it could not be written); retried.
    unjournaled: Mutex<Vec<Event>>,
}

/// Journals by folder, opened once per process and shared (so appends share fsyncs).
#[derive(Default)]
struct Journals {
    open: HashMap<String, Journal>,
    last_error: Option<String>,
}

impl Journals {
    fn get(&mut self, project: &str) -> Option<Journal> {
        if let Some(j) = self.open.get(project) {
            return Some(j.clone());
        }
        match Journal::open_project(project) {
            Ok(j) => {
                self.open.insert(project.to_owned(), j.clone());
                Some(j)
            }
            Err(e) => {
                let msg = e.to_string();
                if self.last_error.as_deref() != Some(msg.as_str()) {
                    nice_plug::nice_warn!("Liner Notes: cannot open the journal: {msg}");
                }
                self.last_error = Some(msg);
                None
            }
        }
    }
}

impl Slot {
    /// Moves everything queued into the journal and the saved state. Returns how many new
    /// events were made.
    fn drain(&self, journals: &Mutex<Journals>) -> usize {
        let mut new_events = Vec::new();
        let dropped;
        {
            let mut consumer = self.consumer.lock();
            dropped = self.dropped.swap(0, Ordering::AcqRel);
            let n = consumer.slots();
            if n > 0 {
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
            self.import_saved_events(journals);
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
        let mut pending = self.unjournaled.lock();
        pending.extend(new_events);
        if !pending.is_empty() {
            let project = self.state.read().settings.project.clone();
            let journal = journals.lock().get(&project);
            if let Some(journal) = journal {
                match journal.append(&pending) {
                    Ok(()) => pending.clear(),
                    Err(e) => {
                        let msg = e.to_string();
                        let mut j = journals.lock();
                        if j.last_error.as_deref() != Some(msg.as_str()) {
                            nice_plug::nice_warn!("Liner Notes: events kept for a retry: {msg}");
                        }
                        j.last_error = Some(msg);
                    }
                }
            }
        }
        made
    }

    /// Appends the saved state's events that this machine's journal does not have yet, and
    /// makes the loaded settings the default for new instances.
    fn import_saved_events(&self, journals: &Mutex<Journals>) {
        let (project, events) = {
            let state = self.state.read();
            if let Err(e) = state.settings.remember() {
                nice_plug::nice_warn!("Liner Notes: cannot remember the settings: {e}");
            }
            (state.settings.project.clone(), state.events.clone())
        };
        if events.is_empty() {
            return;
        }
        let journal = journals.lock().get(&project);
        let Some(journal) = journal else {
            // Try again at the next poll.
            self.state.mark_loaded();
            return;
        };
        let known: HashSet<Uuid> = match journal.scan() {
            Ok(scan) => scan.ids.into_iter().collect(),
            Err(e) => {
                nice_plug::nice_warn!("Liner Notes: cannot read the journal: {e}");
                self.state.mark_loaded();
                return;
            }
        };
        let missing: Vec<Event> = events
            .into_iter()
            .filter(|e| !known.contains(&e.id))
            .collect();
        self.unjournaled.lock().extend(missing);
    }
}

struct Shared {
    slots: Mutex<Vec<Arc<Slot>>>,
    journals: Mutex<Journals>,
    stop: AtomicBool,
}

/// The running worker thread. Dropped (and joined) with its last [`Registration`].
struct Worker {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            let _ = thread.join();
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
        stop: AtomicBool::new(false),
    });
    let thread = {
        let shared = shared.clone();
        std::thread::Builder::new()
            .name("liner-notes-worker".into())
            .spawn(move || run(&shared))
            .expect("spawning the Liner Notes worker thread")
    };
    let w = Arc::new(Worker {
        shared,
        thread: Some(thread),
    });
    *global = Arc::downgrade(&w);
    w
}

fn run(shared: &Shared) {
    while !shared.stop.load(Ordering::Acquire) {
        // Clone the list so registering or unregistering never waits on a drain.
        let slots: Vec<Arc<Slot>> = shared.slots.lock().clone();
        for slot in &slots {
            slot.drain(&shared.journals);
        }
        std::thread::park_timeout(POLL_INTERVAL);
    }
}

/// An instance's membership in the worker. Dropping it drains the queue one last time, so no
/// event that reached the queue is lost when the plugin is removed.
pub struct Registration {
    slot: Arc<Slot>,
    worker: Arc<Worker>,
}

/// Registers an instance: from now on its queued events reach the journal and `state`.
pub fn register(
    consumer: rtrb::Consumer<CaptureEvent>,
    state: Arc<SavedState>,
    dropped: Arc<AtomicU64>,
) -> Registration {
    let worker = worker();
    let slot = Arc::new(Slot {
        consumer: Mutex::new(consumer),
        state,
        dropped,
        submitted: Mutex::new(Vec::new()),
        unjournaled: Mutex::new(Vec::new()),
    });
    worker.shared.slots.lock().push(slot.clone());
    Registration { slot, worker }
}

impl Registration {
    /// Moves everything queued into the journal and the state now, instead of at the next
    /// poll. Blocks on the disk: not for the GUI thread.
    pub fn flush(&self) -> usize {
        self.slot.drain(&self.worker.shared.journals)
    }

    /// Hands an event (a typed note, a rating) to the worker; returns at once.
    pub fn submit(&self, event: Event) {
        self.slot.submitted.lock().push(event);
        if let Some(t) = &self.worker.thread {
            t.thread().unpark();
        }
    }

    /// Events not yet in the journal (0 when all are durable), and the last journal error.
    pub fn journal_status(&self) -> (usize, Option<String>) {
        (
            self.slot.unjournaled.lock().len(),
            self.worker.shared.journals.lock().last_error.clone(),
        )
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.worker
            .shared
            .slots
            .lock()
            .retain(|s| !Arc::ptr_eq(s, &self.slot));
        self.slot.drain(&self.worker.shared.journals);
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
        let reg = register(rx, state.clone(), Arc::new(AtomicU64::new(0)));
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
        reg.submit(note.clone());
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
        assert_eq!(reg.journal_status(), (0, None));
    }

    #[test]
    fn instances_share_one_thread_that_stops_with_the_last() {
        let (_a, _, reg_a) = instance("worker test shared");
        let (_b, _, reg_b) = instance("worker test shared");
        assert!(Arc::ptr_eq(&reg_a.worker, &reg_b.worker));
    }
}

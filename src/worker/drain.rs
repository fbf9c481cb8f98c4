//! Draining: each instance's audio queue and submitted events become record events, written to
//! their project's journal (one append per project per poll: fifty instances cost one fsync)
//! and to the instance's saved state; a loaded project brings its instance's own events in.

use super::{session_id, Repaint, Shared};
use crate::capture::{CaptureEvent, NumberFloors};
use crate::state::SavedState;
use liner_record::journal::Aside;
use liner_record::{Body, Event, Journal};
use parking_lot::Mutex;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// One instance's side of the worker.
pub(super) struct Slot {
    /// Only the worker thread and the registration's final drain lock this; never the audio
    /// thread, which owns the producer end.
    pub(super) consumer: Mutex<rtrb::Consumer<CaptureEvent>>,
    /// Raises a flag when the host loads a saved state: its events may be missing from this
    /// machine's journal (a project opened on another machine).
    pub(super) state: Arc<SavedState>,
    /// Incremented by the audio thread when the queue is full.
    pub(super) dropped: Arc<AtomicU64>,
    /// Take and mark numbers already used, for the audio thread.
    pub(super) floors: Arc<NumberFloors>,
    /// Events from other threads (the editor), waiting for the worker.
    pub(super) submitted: Mutex<Vec<Event>>,
    /// A loaded state still to be brought into the journal, and when that last failed.
    pub(super) import: Mutex<Option<Option<Instant>>>,
    /// Events of this instance not yet in the journal (it could not be written); retried.
    pub(super) unjournaled: Mutex<Vec<Event>>,
    /// Events being written right now (not yet durable).
    pub(super) in_flight: AtomicUsize,
    /// Open editors watching this instance's project record, and how to wake them.
    pub(super) watchers: Mutex<Vec<(u64, Repaint)>>,
    /// Ids of events the editor submitted that are not written yet.
    pub(super) awaiting: Mutex<HashSet<Uuid>>,
    /// Of those, the ones written since the editor last asked (the append's own result: a
    /// note is saved when its write returned, not when a later snapshot happens to show it).
    pub(super) saved: Mutex<Vec<Uuid>>,
    /// The instance's "clip audio with notes" setting, for the audio thread.
    pub(super) clip_on: Arc<AtomicBool>,
    /// The audio history and the clips waiting for their audio.
    pub(super) clipper: Mutex<super::clips::Clipper>,
    /// The current activation's count of tap frames lost, and its sample rate.
    pub(super) tap_lost: Mutex<Option<(Arc<std::sync::atomic::AtomicU64>, u32)>>,
    /// Printing's switches (the editor's, the audio thread's phase) and the worker's report.
    pub(super) print: Arc<crate::print::PrintShared>,
    /// The print being fed to its encoder, if any.
    pub(super) printer: Mutex<super::print::Printer>,
}

impl Slot {
    pub(super) fn project(&self) -> String {
        self.state.read().settings.project.clone()
    }

    pub(super) fn wake_watchers(&self) {
        for (_, repaint) in self.watchers.lock().iter() {
            repaint();
        }
    }

    /// An event this instance made off the worker thread (a clip): into the state and the
    /// journal at the next poll.
    pub(super) fn submit_made(&self, event: Event) {
        self.submitted.lock().push(event);
    }

    /// Asks for the clip of `event` (made by this instance) if clips are on.
    pub(super) fn clip(&self, event: &Event, private: bool, moment: super::clips::Moment) {
        if !self.clip_on.load(Ordering::Relaxed) {
            return;
        }
        let (before, after) = {
            let st = self.state.read();
            (st.clip_before, st.clip_after)
        };
        self.clipper
            .lock()
            .request(event, private, moment, before, after);
    }
}

/// Journals by project, opened once per process and shared (so appends share fsyncs).
#[derive(Default)]
pub(super) struct Journals {
    pub(super) open: HashMap<String, Journal>,
    pub(super) last_error: Option<String>,
}

impl Journals {
    pub(super) fn note_error(&mut self, msg: String) {
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
    pub(super) fn collect(&self, shared: &Shared) -> usize {
        // Held to the end, so batches gathered by the worker and by a flush on the host's
        // thread land in the order they were gathered.
        let mut consumer = self.consumer.lock();
        // What other threads submitted first, then what the audio thread pushed: a
        // submission (the session opening) comes before the blocks processed after it, and
        // the host's thread drains the ring before it submits the session's close.
        let mut new_events = std::mem::take(&mut *self.submitted.lock());
        let dropped;
        {
            dropped = self.dropped.swap(0, Ordering::AcqRel);
            if consumer.slots() > 0 {
                let at = liner_record::event::now_ms();
                let state = self.state.read();
                let session = session_id();
                while let Ok(ev) = consumer.pop() {
                    let event = state.event_of(&ev, session, at);
                    if matches!(event.body, Body::Mark { .. }) {
                        let moment = super::clips::Moment {
                            frame: ev.frame,
                            until: None,
                        };
                        self.clip(&event, false, moment);
                    }
                    new_events.push(event);
                }
            }
        }
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
        drop(consumer);
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
            let (take, mark) = state.next_numbers();
            self.floors.raise(take, mark);
            self.clip_on.store(state.clip_audio, Ordering::Relaxed);
        }
        *self.import.lock() = Some(None);
        // The project may name a server: the sync threads look.
        shared.wake_sync_both();
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
        let (take, mark) = crate::state::next_numbers(&mine, Some(instance));
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
    pub(super) fn drain(self: &Arc<Self>, shared: &Shared) -> usize {
        let made = self.collect(shared);
        write_to_journals(std::slice::from_ref(self), shared);
        made
    }
}

/// Whether an event from a loaded project state may come into this machine's journal: it must
/// be of the instance's project, of a kind a plugin instance makes (never a verdict, a
/// tracklist, a song selection, a clip or a kind this version does not know), and where it names an
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
            | Body::ReplyAdded(_)
            | Body::ReplyEdited { .. }
            | Body::ReplyDeleted { .. }
            | Body::MarkedDone(_)
            | Body::TransportStarted
            | Body::TransportStopped
            | Body::SessionOpened
            | Body::SessionClosed => true,
            // A clip's or a version's audio is not in the project file: its event alone is of
            // no use.
            Body::ClipAttached(_)
            | Body::VersionPrinted(_)
            | Body::VersionLabeled(_)
            | Body::Verdict { .. }
            | Body::TracklistOrder { .. }
            | Body::SongSelection { .. }
            | Body::Unknown { .. } => false,
        }
}

/// Writes every slot's waiting events (and orphans of removed instances) with one append per
/// project, so fifty instances in one process cost one fsync per poll, not fifty. Each event
/// goes to the journal of its own project. Events that cannot be written go back where they
/// came from, in order, for the next poll.
pub(super) fn write_to_journals(slots: &[Arc<Slot>], shared: &Shared) {
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
            Ok(()) => {
                shared.journals.lock().last_error = None;
                // Saved: tell the editor that submitted it, and wake the sync to push at once.
                for (slot, e) in &items {
                    if let Some(s) = slot {
                        if s.awaiting.lock().remove(&e.id) {
                            s.saved.lock().push(e.id);
                        }
                    }
                }
                shared.wake_sync();
            }
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

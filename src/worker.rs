//! The background worker: one thread per process, shared by every plugin instance.
//!
//! Each instance registers its end of the audio queue and its capture log; the worker polls
//! every registered queue and moves events into the logs. Fifty instances cost one thread.
//! The thread starts with the first registration and is joined when the last one is dropped.
//!
//! Why polling instead of waking the worker from the audio thread: waking a thread is a syscall
//! (futex), which the audio thread must never make. The audio thread only pushes to a wait-free
//! ring; the worker looks at the rings every [`POLL_INTERVAL`].

use crate::capture::CaptureEvent;
use crate::captured::{CaptureLog, CapturedEvent};
use parking_lot::{Mutex, RwLock};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How often the worker looks at the queues. The audio queue holds
/// [`crate::AUDIO_QUEUE_CAPACITY`] events, so this bounds the sustained event rate before drops
/// (far above anything a person or a transport produces).
pub const POLL_INTERVAL: Duration = Duration::from_millis(5);

/// One instance's side of the worker.
struct Slot {
    /// Only the worker thread and the registration's final drain lock this; never the audio
    /// thread, which owns the producer end.
    consumer: Mutex<rtrb::Consumer<CaptureEvent>>,
    log: Arc<RwLock<CaptureLog>>,
    /// Incremented by the audio thread when the queue is full.
    dropped: Arc<AtomicU64>,
}

impl Slot {
    /// Moves everything queued into the log. Returns how many events were moved.
    fn drain(&self) -> usize {
        let mut consumer = self.consumer.lock();
        let n = consumer.slots();
        let dropped = self.dropped.swap(0, Ordering::AcqRel);
        if n == 0 && dropped == 0 {
            return 0;
        }
        let at_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        let mut log = self.log.write();
        log.events.reserve(n);
        while let Ok(ev) = consumer.pop() {
            log.events.push(CapturedEvent::from_capture(ev, at_ms));
        }
        log.dropped = log.dropped.saturating_add(dropped);
        drop(log);
        if dropped > 0 {
            nice_plug::nice_warn!(
                "Liner Notes: {dropped} events were dropped because the audio thread produced \
                 them faster than they could be saved ({} dropped in this project so far)",
                self.log.read().dropped
            );
        }
        n
    }
}

struct Shared {
    slots: Mutex<Vec<Arc<Slot>>>,
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
            slot.drain();
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

/// Registers an instance: from now on its queued events reach `log`.
pub fn register(
    consumer: rtrb::Consumer<CaptureEvent>,
    log: Arc<RwLock<CaptureLog>>,
    dropped: Arc<AtomicU64>,
) -> Registration {
    let worker = worker();
    let slot = Arc::new(Slot {
        consumer: Mutex::new(consumer),
        log,
        dropped,
    });
    worker.shared.slots.lock().push(slot.clone());
    Registration { slot, worker }
}

impl Registration {
    /// Moves everything queued into the log now, instead of at the next poll.
    pub fn flush(&self) -> usize {
        self.slot.drain()
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.worker
            .shared
            .slots
            .lock()
            .retain(|s| !Arc::ptr_eq(s, &self.slot));
        self.slot.drain();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::CaptureKind;
    use crate::playhead::HostTransport;

    fn instance() -> (
        rtrb::Producer<CaptureEvent>,
        Arc<RwLock<CaptureLog>>,
        Registration,
    ) {
        let (tx, rx) = rtrb::RingBuffer::new(8);
        let log = Arc::new(RwLock::new(CaptureLog::default()));
        let reg = register(rx, log.clone(), Arc::new(AtomicU64::new(0)));
        (tx, log, reg)
    }

    fn mark(n: u32) -> CaptureEvent {
        CaptureEvent {
            kind: CaptureKind::Mark { mark: n },
            at: HostTransport::default(),
            advance: 0,
        }
    }

    #[test]
    fn instances_share_one_thread_that_stops_with_the_last() {
        let (mut tx_a, log_a, reg_a) = instance();
        let (mut tx_b, log_b, reg_b) = instance();
        assert!(Arc::ptr_eq(&reg_a.worker, &reg_b.worker));
        tx_a.push(mark(1)).unwrap();
        tx_b.push(mark(2)).unwrap();
        tx_b.push(mark(3)).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while (log_a.read().events.len(), log_b.read().events.len()) != (1, 2) {
            assert!(std::time::Instant::now() < deadline, "worker never drained");
            std::thread::sleep(Duration::from_millis(1));
        }
        // Events pushed just before removal are drained by the registration's drop.
        tx_a.push(mark(4)).unwrap();
        drop(reg_a);
        assert_eq!(log_a.read().events.len(), 2);
        drop(reg_b);
    }
}

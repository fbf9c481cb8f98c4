//! Real time for the benches that pace blocks to their deadlines (`benches/clips.rs`,
//! `benches/print_realtime.rs`): one phase of blocks, each started at its deadline, with the
//! audio thread's CPU inside `process()` and every other thread's CPU over the phase.
#![allow(dead_code)]

use std::time::{Duration, Instant};

/// CPU time of the calling thread, or of the whole process.
pub fn cpu(clock: libc::clockid_t) -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// What one phase measured.
pub struct Phase {
    /// The calling thread's CPU inside `process`, per block.
    pub audio_ns: f64,
    /// Every other thread's CPU, as a share of one core over the phase's audio time.
    pub others_pct: f64,
    /// Blocks that started more than a block's time after their deadline.
    pub late: u64,
}

/// What a block's work that counts as the audio thread's is timed with.
pub struct AudioClock {
    audio: Duration,
}

impl AudioClock {
    /// Runs `f` (a block's `process()`), counting its CPU as the audio thread's.
    pub fn time<R>(&mut self, f: impl FnOnce() -> R) -> R {
        let before = cpu(libc::CLOCK_THREAD_CPUTIME_ID);
        let r = f();
        self.audio += cpu(libc::CLOCK_THREAD_CPUTIME_ID) - before;
        r
    }
}

/// Runs `blocks` blocks of `block_time` each, `block(b, clock)` at block `b`'s deadline; what
/// it runs through `clock` is the audio thread's CPU, the rest of its work is not counted.
pub fn phase(
    blocks: u64,
    block_time: Duration,
    mut block: impl FnMut(u64, &mut AudioClock),
) -> Phase {
    let thread = || cpu(libc::CLOCK_THREAD_CPUTIME_ID);
    let (thread0, process0) = (thread(), cpu(libc::CLOCK_PROCESS_CPUTIME_ID));
    let mut clock = AudioClock {
        audio: Duration::ZERO,
    };
    let mut late = 0;
    let start = Instant::now();
    for b in 0..blocks {
        let deadline = start + block_time * b as u32;
        match deadline.checked_duration_since(Instant::now()) {
            Some(wait) => std::thread::sleep(wait),
            None if Instant::now() - deadline > block_time => late += 1,
            None => {}
        }
        block(b, &mut clock);
    }
    let others =
        (cpu(libc::CLOCK_PROCESS_CPUTIME_ID) - process0).saturating_sub(thread() - thread0);
    let audio_seconds = block_time.as_secs_f64() * blocks as f64;
    Phase {
        audio_ns: clock.audio.as_nanos() as f64 / blocks as f64,
        others_pct: others.as_secs_f64() / audio_seconds * 100.0,
        late,
    }
}

/// The middle of `v` (the upper one of an even count).
pub fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s[s.len() / 2]
}

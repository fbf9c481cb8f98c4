//! What one editor frame costs on the GUI thread with 10,000 notes in the song, against the
//! same editor on an empty song measured in the same run (the baseline): the real editor code
//! on a headless egui context, layout and tessellation included, CPU time of the GUI thread.
//!
//! Cases: idle frames (what a repaint while the playhead moves costs), frames that scroll the
//! list, and frames right after the search filter changed (the rows are recomputed). Target:
//! under 2 ms of CPU per frame. Run with `cargo bench --bench editor`.

#[path = "common/release.rs"]
mod release;
#[path = "common/spread.rs"]
mod spread;

use liner_notes::editor::EditorApp;
use liner_notes::playhead::SharedPlayhead;
use liner_notes::state::{InstanceState, SavedState};
use liner_notes::worker;
use liner_record::Journal;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

const NOTES: usize = 10_000;
const FRAMES: usize = 300;

fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid clock id and a valid out-pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

struct Subject {
    app: EditorApp,
    ctx: egui::Context,
    _producer: rtrb::Producer<liner_notes::capture::CaptureEvent>,
    _registration: worker::Registration,
}

fn subject(notes: usize) -> Subject {
    let project = format!("editor bench {}", Uuid::now_v7());
    let events = release::notes_with_verdicts(&project, "Bench Song", notes);
    Journal::open_project(&project)
        .unwrap()
        .append(&events)
        .unwrap();

    let (tx, rx) = rtrb::RingBuffer::new(16);
    let mut st = InstanceState::new();
    st.settings.project = project;
    st.settings.song = "Bench Song".into();
    st.settings.server_url.clear();
    let state = Arc::new(SavedState::new(st));
    let registration = worker::register(rx, state, Arc::new(AtomicU64::new(0)), Arc::default());
    let mut app = EditorApp::new(
        registration.link(),
        Arc::new(SharedPlayhead::new()),
        Arc::new(parking_lot::RwLock::new((820, 560))),
        Arc::new(|| {}),
    );
    app.open();
    let deadline = Instant::now() + Duration::from_secs(60);
    while app_notes(&registration) < notes {
        assert!(
            Instant::now() < deadline,
            "the worker never folded the record"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    Subject {
        app,
        ctx: egui::Context::default(),
        _producer: tx,
        _registration: registration,
    }
}

fn app_notes(reg: &worker::Registration) -> usize {
    reg.link().record().map_or(0, |r| r.views.notes.len())
}

/// One frame as the plugin window runs it: input, the editor, tessellation.
fn frame(s: &mut Subject, events: Vec<egui::Event>) -> Duration {
    let input = egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(
            egui::Pos2::ZERO,
            egui::vec2(820.0, 560.0),
        )),
        events,
        ..Default::default()
    };
    let start = thread_cpu();
    let out = s.ctx.run_ui(input, |ui| s.app.show(ui));
    let prims = s.ctx.tessellate(out.shapes, out.pixels_per_point);
    std::hint::black_box(prims);
    thread_cpu() - start
}

/// The frames' CPU times in milliseconds.
fn run(s: &mut Subject, case: &str) -> spread::Spread {
    for _ in 0..20 {
        frame(s, Vec::new()); // warm up: fonts, galleys, rows
    }
    let times: Vec<Duration> = (0..FRAMES)
        .map(|i| match case {
            "idle" => frame(s, Vec::new()),
            "scroll" => frame(
                s,
                vec![
                    egui::Event::PointerMoved(egui::pos2(400.0, 400.0)),
                    egui::Event::MouseWheel {
                        unit: egui::MouseWheelUnit::Point,
                        delta: egui::vec2(0.0, if i % 100 < 50 { -60.0 } else { 60.0 }),
                        phase: egui::TouchPhase::Move,
                        modifiers: egui::Modifiers::NONE,
                        source: egui::MouseWheelSource::Wheel,
                    },
                ],
            ),
            "filter" => {
                s.app.filter.text = if i % 2 == 0 {
                    "snare".into()
                } else {
                    String::new()
                };
                frame(s, Vec::new())
            }
            _ => unreachable!(),
        })
        .collect();
    spread::Spread::of_ms(&times)
}

fn main() {
    let mut empty = subject(0);
    let mut full = subject(NOTES);
    println!("editor frame, median CPU time of {FRAMES} frames (820x560, layout + tessellation)");
    let mut worst: f64 = 0.0;
    for case in ["idle", "scroll", "filter"] {
        let base = run(&mut empty, case);
        let loaded = run(&mut full, case);
        worst = worst.max(loaded.median);
        println!(
            "  {case:>6}: empty song {:.3} ms ({}) | {NOTES} notes {:.3} ms ({}) | ratio {:.2}x",
            base.median,
            base.range(3),
            loaded.median,
            loaded.range(3),
            loaded.median / base.median
        );
    }
    println!(
        "worst case with {NOTES} notes: {worst:.3} ms (target < 2 ms): {}",
        if worst < 2.0 { "met" } else { "NOT met" }
    );
}

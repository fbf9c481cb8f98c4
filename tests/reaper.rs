//! REAPER's own timeline, against a stand-in REAPER that implements the SDK's published
//! interface (`common::reaper`): *Go there* from the editor, markers and regions that follow
//! the record, ownership across a project reload, the switch, the VST3 interface query, and
//! every REAPER call on the main thread. Hosts without REAPER's API see no change.
//!
//! The stand-in is one process-wide project, so the tests take turns.

mod common;

use common::host::{capture_log, edit_instance_state, Instance, Timeline, OFFER_REAPER};
use common::reaper::{self as stand, Marker};
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use liner_notes::editor::EditorApp;
use liner_notes::playhead::SharedPlayhead;
use liner_notes::reaper::api::Functions;
use liner_notes::reaper::host::Context as ReaperContext;
use liner_notes::reaper::{Bridge, Span};
use liner_notes::state::{InstanceState, SavedState};
use liner_notes::worker;
use liner_record::event::{
    Anchor, Body, Category, Context, DawPos, Decision, NoteAdded, NoteEdited, Verdict,
};
use liner_record::review::Standing;
use liner_record::{Event, Journal, Role};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use uuid::Uuid;

fn one_at_a_time() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    TURN.lock().unwrap_or_else(|e| e.into_inner())
}

/// A position as a host reports it at quarter note `qn`, with stale seconds (taken before the
/// tempo change the stand-in's project has now) and bar and beat as a 4/4 host counts them:
/// the quarter notes are what the plugin goes by when it has them.
fn at_qn(qn: f64) -> DawPos {
    DawPos {
        seconds: Some(qn * 0.5 + 100.0),
        beats: Some(qn),
        bar: Some((qn / 4.0).floor() as i32 + 1),
        beat: Some(qn % 4.0 + 1.0),
        tempo: Some(120.0),
        time_sig: Some((4, 4)),
        ..DawPos::default()
    }
}

fn note(ctx: &Context, text: &str, anchor: Anchor) -> Event {
    Event::new(
        ctx,
        None,
        Body::NoteAdded(NoteAdded {
            text: text.into(),
            category: Category::Vocal,
            anchor: Some(anchor),
            take: None,
            private: false,
            version: None,
            guest: None,
        }),
    )
}

fn point(qn: f64) -> Anchor {
    Anchor::Point { at: at_qn(qn) }
}

fn context(project: &str, song: &str, author: &str, role: Role) -> Context {
    Context {
        project: project.into(),
        song: song.into(),
        track: "Lead vox".into(),
        session: Uuid::now_v7(),
        author: author.into(),
        role,
    }
}

/// REAPER's native colour of a marker whose item stands so.
fn color(standing: Option<Standing>) -> i32 {
    let [r, g, b] = liner_record::export::standing_rgb(standing);
    stand::ColorToNative(r.into(), g.into(), b.into()) | 0x0100_0000
}

/// Runs REAPER's timers (this thread is REAPER's main thread) until `done` or 15 s.
fn timers_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        stand::run_timers();
        if done() {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The stand-in's functions, found through its `GetFunc` like the plugin finds them.
fn functions() -> Functions {
    let get = stand::INFO.GetFunc.unwrap();
    // SAFETY: the stand-in's GetFunc with a C string.
    Functions::resolve(|name| unsafe { get(name.as_ptr()) })
}

/// A registered instance (as the plugin registers one) of a fresh project, with a bridge to
/// the stand-in made the CLAP way.
struct Rig {
    _producer: rtrb::Producer<liner_notes::capture::CaptureEvent>,
    state: Arc<SavedState>,
    registration: worker::Registration,
    bridge: Option<Bridge>,
}

fn rig() -> Rig {
    let (tx, rx) = rtrb::RingBuffer::new(64);
    let mut st = InstanceState::new();
    st.settings.project = format!("reaper test {}", Uuid::now_v7());
    st.settings.song = "Night Drive".into();
    st.settings.author = "Sam".into();
    st.settings.role = Role::Producer;
    st.settings.server_url.clear();
    let state = Arc::new(SavedState::new(st));
    let registration = worker::register(
        rx,
        state.clone(),
        Arc::new(AtomicU64::new(0)),
        Arc::default(),
    );
    let f = functions();
    let context = ReaperContext::Clap {
        host: std::ptr::dangling(),
        get: f.clap_get_reaper_context.unwrap(),
    };
    let bridge = Bridge::new(f, context, registration.link());
    Rig {
        _producer: tx,
        state,
        registration,
        bridge,
    }
}

impl Rig {
    fn project(&self) -> String {
        self.state.read().settings.project.clone()
    }

    fn ctx(&self) -> Context {
        context(&self.project(), "Night Drive", "Sam", Role::Producer)
    }

    /// The editor, once it lists a note `text` at `anchor` this rig's journal now holds.
    fn editor_with_note(&self, text: &str, anchor: Anchor) -> Harness<'static, EditorApp> {
        Journal::open_project(&self.project())
            .unwrap()
            .append(&[note(&self.ctx(), text, anchor)])
            .unwrap();
        let mut h = self.harness();
        frames_until(&mut h, "the note", |app| app.rows().rows.len() == 1);
        h.step();
        h
    }

    fn harness(&self) -> Harness<'static, EditorApp> {
        let mut app = EditorApp::new(
            self.registration.link(),
            Arc::new(SharedPlayhead::new()),
            Arc::new(parking_lot::RwLock::new((900, 560))),
            Arc::new(|| {}),
        );
        if let Some(b) = &self.bridge {
            app.set_reaper(b.handle());
        }
        Harness::builder()
            .with_size(egui::vec2(1000.0, 640.0))
            .build_ui_state(|ui, app: &mut EditorApp| app.show(ui), app)
    }
}

fn frames_until(h: &mut Harness<'_, EditorApp>, what: &str, done: impl Fn(&EditorApp) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        h.step();
        if done(h.state()) {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn go_there_moves_reapers_edit_cursor_to_the_bar_and_beat_under_a_tempo_change() {
    let _turn = one_at_a_time();
    stand::reset("Audio 1", None);
    let rig = rig();
    let bridge = rig.bridge.as_ref().expect("REAPER found");
    assert_eq!(stand::timers(), 1, "one timer registered with REAPER");
    // Quarter note 36 (bar 10, beat 3 of 6/8), past the change to 90 at bar 9 (16 s).
    let mut h = rig.editor_with_note("breath before the chorus", point(36.0));
    h.get_by_label("Go there").click();
    h.step();
    h.step();
    assert_eq!(
        h.get_all_by_label("Go there").count(),
        1,
        "the button is not the row: the row was not selected (its detail would offer another)"
    );
    assert!(
        !stand::calls().iter().any(|(f, _)| *f == "SetEditCurPos2"),
        "the editor's thread calls nothing: the request waits for REAPER's main thread"
    );
    stand::run_timers();
    let want = 16.0 + 4.0 * 60.0 / 90.0;
    assert!(
        (stand::cursor() - want).abs() < 1e-9,
        "quarter note 36 is at {want} s after the tempo change, not the stale {} s the note was taken \
         at; the cursor is at {}",
        at_qn(36.0).seconds.unwrap(),
        stand::cursor()
    );

    // Only bar and beat known (a host without a beat timeline): REAPER's own bars. Bar 10
    // beat 4 in 6/8 (eighths) is 1.5 quarter notes into the bar, which starts at quarter note
    // 35 (bar 9 in 6/8 is 3 long).
    let handle = bridge.handle();
    handle.go_there(Span::at(DawPos {
        bar: Some(10),
        beat: Some(4.0),
        seconds: Some(3.0),
        ..DawPos::default()
    }));
    stand::run_timers();
    let want = 16.0 + 4.5 * 60.0 / 90.0;
    assert!((stand::cursor() - want).abs() < 1e-9, "{}", stand::cursor());

    // A range: the cursor to its start, the time selection over it.
    handle.go_there(Span::of_anchor(&Anchor::Range {
        from: at_qn(4.0),
        to: at_qn(44.0),
    }));
    stand::run_timers();
    assert_eq!(stand::cursor(), 2.0);
    assert_eq!(stand::selection(), Some((2.0, 24.0)));

    // Only seconds known: they are all there is.
    handle.go_there(Span::at(DawPos {
        seconds: Some(7.25),
        ..DawPos::default()
    }));
    stand::run_timers();
    assert_eq!(stand::cursor(), 7.25);

    // A hostile position from the record moves nothing.
    handle.go_there(Span::at(DawPos {
        beats: Some(f64::NAN),
        seconds: Some(f64::INFINITY),
        ..DawPos::default()
    }));
    stand::run_timers();
    assert_eq!(stand::cursor(), 7.25);
    assert_eq!(stand::wrong_project(), 0, "always this instance's project");

    drop(h);
    drop(rig);
    assert_eq!(stand::timers(), 0, "the last instance took the timer off");
}

#[test]
fn without_reaper_the_editor_offers_no_go_there_and_no_markers_switch() {
    let _turn = one_at_a_time();
    let mut rig = rig();
    rig.bridge = None;
    let h = rig.editor_with_note("hiss at the top", point(8.0));
    assert!(h.query_by_label("Go there").is_none());
    assert!(h.query_by_label("REAPER markers").is_none());
}

/// Processes blocks on a thread of its own (the audio thread) until dropped.
struct AudioThread {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<(std::thread::ThreadId, common::host::Processor)>>,
}

impl AudioThread {
    fn start(mut p: common::host::Processor) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let thread = std::thread::Builder::new()
            .name("audio".into())
            .spawn(move || {
                let mut tl = Timeline::new(48_000.0, 120.0, (4, 4));
                tl.playing = true;
                let mut pos = 0;
                while !s.load(Ordering::Acquire) {
                    p.process(256, Some(&tl.at(pos)));
                    pos += 256;
                    std::thread::sleep(Duration::from_millis(2));
                }
                (std::thread::current().id(), p)
            })
            .unwrap();
        AudioThread {
            stop,
            thread: Some(thread),
        }
    }

    fn stop(mut self) -> (std::thread::ThreadId, common::host::Processor) {
        self.stop.store(true, Ordering::Release);
        self.thread.take().unwrap().join().unwrap()
    }
}

/// The plugin's markers: every one but the user's.
fn ours(user: &[Marker]) -> Vec<Marker> {
    stand::markers()
        .into_iter()
        .filter(|m| !user.contains(m))
        .collect()
}

#[test]
fn markers_follow_the_record_keep_to_their_own_and_survive_a_reload() {
    let _turn = one_at_a_time();
    stand::reset("Audio 1", None);
    let main = std::thread::current().id();
    let project = format!("reaper markers {}", Uuid::now_v7());
    let user = stand::add_user_marker(3.0, "the user's own marker");
    let user_marker = stand::markers();
    assert_eq!(user_marker.len(), 1);

    OFFER_REAPER.store(true, Ordering::Release);
    let mut plugin = Instance::new();
    assert_eq!(stand::timers(), 1, "the CLAP instance found REAPER");
    let blob = edit_instance_state(&plugin.save_state(), |st| {
        st["settings"]["project"] = project.clone().into();
        st["settings"]["song"] = "Night Drive".into();
        st["settings"]["author"] = "Sam".into();
        st["settings"]["server_url"] = "".into();
        st["reaper_markers"] = true.into();
    });
    plugin.load_state(&blob);
    let audio = AudioThread::start(plugin.activate(48_000.0, 256, 2));

    let sam = context(&project, "Night Drive", "Sam", Role::Producer);
    let exec = context(&project, "Night Drive", "Jo", Role::Executive);
    let vocal = note(&sam, "vocal: breath before the chorus", point(8.0));
    let bridge_part = note(
        &sam,
        "bridge drags: tighten the drums from here to the chorus",
        Anchor::Range {
            from: at_qn(16.0),
            to: at_qn(40.0),
        },
    );
    let eq = Event::new(
        &sam,
        Some(at_qn(36.0)),
        Body::EqDecision(Decision {
            processor: "Pro-Q 3".into(),
            settings: vec![],
            reason: "less mud".into(),
        }),
    );
    let other_song = note(
        &context(&project, "Other Song", "Sam", Role::Producer),
        "not this song",
        point(4.0),
    );
    let journal = Journal::open_project(&project).unwrap();
    journal
        .append(&[vocal.clone(), bridge_part.clone(), eq.clone(), other_song])
        .unwrap();

    timers_until("three markers", || ours(&user_marker).len() == 3);
    let m = ours(&user_marker);
    let vocal_marker = m.iter().find(|m| m.name.starts_with("vocal")).unwrap();
    assert!(!vocal_marker.region);
    assert_eq!(vocal_marker.start, 4.0);
    assert_eq!(vocal_marker.name, "vocal: breath before the chorus");
    assert_eq!(vocal_marker.color, color(Some(Standing::Open)));
    let region = m.iter().find(|m| m.region).expect("the range is a region");
    assert_eq!((region.start, region.end), (8.0, 16.0 + 8.0 * 60.0 / 90.0));
    assert_eq!(region.name, "bridge drags: tighten the drums from her…");
    let eq_marker = m.iter().find(|m| m.name.contains("Pro-Q 3")).unwrap();
    assert!((eq_marker.start - (16.0 + 4.0 * 60.0 / 90.0)).abs() < 1e-9);

    // A verdict recolours; an edit renames and moves; a delete takes the region away.
    journal
        .append(&[Event::new(
            &exec,
            None,
            Body::Verdict {
                target: vocal.id,
                verdict: Verdict::Approved,
                comment: String::new(),
            },
        )])
        .unwrap();
    let approved = color(Some(Standing::Decided(Verdict::Approved)));
    timers_until("the verdict's colour", || {
        ours(&user_marker)
            .iter()
            .any(|m| m.start == 4.0 && m.color == approved)
    });
    journal
        .append(&[Event::new(
            &sam,
            None,
            Body::NoteEdited(NoteEdited {
                note: vocal.id,
                text: Some("vocal: breath AFTER the chorus".into()),
                category: None,
                anchor: Some(point(12.0)),
            }),
        )])
        .unwrap();
    timers_until("the edit", || {
        ours(&user_marker)
            .iter()
            .any(|m| m.name == "vocal: breath AFTER the chorus" && m.start == 6.0)
    });
    journal
        .append(&[Event::new(
            &sam,
            None,
            Body::NoteDeleted {
                note: bridge_part.id,
            },
        )])
        .unwrap();
    timers_until("the delete", || ours(&user_marker).len() == 2);
    assert!(ours(&user_marker).iter().all(|m| !m.region));
    assert_eq!(
        stand::markers()
            .iter()
            .filter(|m| user_marker.contains(m))
            .count(),
        1,
        "the user's marker is untouched"
    );

    // Save the project, close it (the instance goes), and open it again.
    let saved_project = stand::save();
    let saved_state = plugin.save_state();
    let (audio_thread, p) = audio.stop();
    plugin.deactivate(p);
    drop(plugin);
    assert_eq!(stand::timers(), 0, "the timer went with the last instance");
    assert!(
        stand::calls().iter().all(|(_, t)| *t == main),
        "every REAPER call on the main thread"
    );
    assert!(stand::calls().iter().all(|(_, t)| *t != audio_thread));
    stand::reset("Audio 1", None);
    stand::reload(&saved_project);
    let mut plugin = Instance::new();
    plugin.load_state(&saved_state);
    let audio = AudioThread::start(plugin.activate(48_000.0, 256, 2));
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        stand::run_timers();
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        stand::calls()
            .iter()
            .any(|(f, _)| *f == "EnumProjectMarkers3"),
        "the reopened instance looked at the markers"
    );
    assert_eq!(
        stand::markers(),
        saved_project.markers,
        "the reopened project's markers are found again, not added twice"
    );
    assert!(!stand::calls()
        .iter()
        .any(|(f, _)| *f == "AddProjectMarker2"));

    // A marker of ours the user renamed is the user's now: left alone, a new one shows the note.
    let eq_marker = ours(&user_marker)
        .into_iter()
        .find(|m| m.name.contains("Pro-Q 3"))
        .unwrap();
    stand::rename(false, eq_marker.number, "my EQ marker");
    timers_until("a new marker for the EQ", || {
        stand::markers()
            .iter()
            .filter(|m| m.name.contains("Pro-Q 3"))
            .count()
            == 1
    });
    let renamed = stand::markers()
        .into_iter()
        .find(|m| m.name == "my EQ marker")
        .expect("the renamed marker stays");
    assert_eq!(renamed.number, eq_marker.number);

    // Switched off: every marker of the plugin's goes, nothing else, and its entries too.
    let off = edit_instance_state(&plugin.save_state(), |st| {
        st["reaper_markers"] = false.into();
    });
    plugin.load_state(&off);
    timers_until("the markers to go", || stand::markers().len() == 2);
    let left: Vec<String> = stand::markers().into_iter().map(|m| m.name).collect();
    assert_eq!(left, ["the user's own marker", "my EQ marker"]);
    assert!(stand::ext_state().is_empty(), "{:?}", stand::ext_state());
    assert!(!capture_log(&plugin.save_state())["reaper_markers"]
        .as_bool()
        .unwrap());
    let (audio_thread, p) = audio.stop();
    plugin.deactivate(p);
    drop(plugin);
    OFFER_REAPER.store(false, Ordering::Release);
    assert!(stand::calls()
        .iter()
        .all(|(_, t)| *t == main && *t != audio_thread));
    assert_eq!(stand::wrong_project(), 0);
    assert!(stand::markers().iter().any(|m| m.number == user));
}

#[test]
fn in_a_host_without_reapers_api_nothing_is_called() {
    let _turn = one_at_a_time();
    stand::reset("Audio 1", None);
    OFFER_REAPER.store(false, Ordering::Release);
    let mut plugin = Instance::new();
    let blob = edit_instance_state(&plugin.save_state(), |st| {
        st["reaper_markers"] = true.into();
    });
    plugin.load_state(&blob);
    stand::run_timers();
    assert_eq!(stand::timers(), 0);
    assert!(stand::calls().is_empty(), "{:?}", stand::calls());
}

#[test]
fn a_reaper_without_a_function_hides_only_what_needs_it() {
    let _turn = one_at_a_time();
    stand::reset("Audio 1", None);
    stand::hide(&["AddProjectMarker2"]);
    let first = rig();
    let h = first.editor_with_note("hiss at the top", point(8.0));
    assert!(h.query_by_label("Go there").is_some());
    assert!(h.query_by_label("REAPER markers").is_none());
    drop(h);
    drop(first);

    stand::hide(&["SetEditCurPos2"]);
    let second = rig();
    let h = second.editor_with_note("hiss at the top", point(8.0));
    assert!(h.query_by_label("Go there").is_none());
    assert!(h.query_by_label("REAPER markers").is_some());
    drop(h);
    drop(second);

    // Without its timer nothing can run on REAPER's main thread: no bridge at all.
    stand::hide(&["plugin_register"]);
    let third = rig();
    assert!(third.bridge.is_none());
    assert_eq!(stand::timers(), 0);
}

#[test]
fn the_vst3_component_finds_reaper_through_its_host_context() {
    use common::vst3::{create_component_in, MemoryStream, Module};
    use vst3::Steinberg::Vst::IComponentTrait;
    use vst3::Steinberg::{kResultOk, IBStream, IPluginBaseTrait};
    let _turn = one_at_a_time();
    stand::reset("Lead vox", Some((200, 40, 40)));
    let main = std::thread::current().id();
    let project = format!("reaper vst3 {}", Uuid::now_v7());
    let module = Module::load();
    let host_context =
        &stand::HOST_CONTEXT as *const stand::HostContext as *mut vst3::Steinberg::FUnknown;
    let component = create_component_in(&module.factory(), host_context);
    assert_eq!(stand::timers(), 1, "found through IReaperHostApplication");
    assert!(
        stand::HOST_CONTEXT_REFS.load(Ordering::SeqCst) > 0,
        "and kept"
    );

    // The markers switch on, as a project saved with it would load.
    let saved = MemoryStream::with(Vec::new());
    let stream = saved.as_com_ref::<IBStream>().unwrap().as_ptr();
    // SAFETY: a live stream object for the call.
    assert_eq!(unsafe { component.getState(stream) }, kResultOk);
    let mut state: serde_json::Value = serde_json::from_slice(&saved.bytes()).unwrap();
    let mut inner: serde_json::Value =
        serde_json::from_str(state["fields"]["instance"].as_str().unwrap()).unwrap();
    inner["settings"]["project"] = project.clone().into();
    inner["settings"]["song"] = "Night Drive".into();
    inner["settings"]["server_url"] = "".into();
    inner["reaper_markers"] = true.into();
    state["fields"]["instance"] = inner.to_string().into();
    let load = MemoryStream::with(serde_json::to_vec(&state).unwrap());
    let stream = load.as_com_ref::<IBStream>().unwrap().as_ptr();
    // SAFETY: as above.
    assert_eq!(unsafe { component.setState(stream) }, kResultOk);

    let sam = context(&project, "Night Drive", "Sam", Role::Producer);
    let n = note(&sam, "vocal: too much 3k", point(8.0));
    let journal = Journal::open_project(&project).unwrap();
    journal.append(std::slice::from_ref(&n)).unwrap();
    timers_until("the note's marker", || {
        stand::markers()
            .iter()
            .any(|m| m.name == "vocal: too much 3k" && m.start == 4.0)
    });
    let exec = context(&project, "Night Drive", "Jo", Role::Executive);
    journal
        .append(&[Event::new(
            &exec,
            None,
            Body::Verdict {
                target: n.id,
                verdict: Verdict::Rejected,
                comment: String::new(),
            },
        )])
        .unwrap();
    let rejected = color(Some(Standing::Decided(Verdict::Rejected)));
    timers_until("the verdict's colour", || {
        stand::markers().iter().any(|m| m.color == rejected)
    });
    let calls = stand::calls();
    assert!(calls.iter().any(|(f, _)| *f == "getReaperParent"));
    assert!(calls
        .iter()
        .any(|(f, _)| *f == "GetSetMediaTrackInfo_String"));
    assert!(calls.iter().all(|(_, t)| *t == main));
    assert_eq!(stand::wrong_project(), 0);

    // Saved, closed and reopened: the marker is found again, not added twice.
    let saved_project = stand::save();
    let saved = MemoryStream::with(Vec::new());
    let stream = saved.as_com_ref::<IBStream>().unwrap().as_ptr();
    // SAFETY: as above.
    assert_eq!(unsafe { component.getState(stream) }, kResultOk);
    // SAFETY: the component was initialized above.
    assert_eq!(unsafe { component.terminate() }, kResultOk);
    drop(component);
    assert_eq!(stand::timers(), 0, "the timer went with the instance");
    assert_eq!(
        stand::HOST_CONTEXT_REFS.load(Ordering::SeqCst),
        0,
        "the interface was released"
    );
    stand::reset("Lead vox", Some((200, 40, 40)));
    stand::reload(&saved_project);
    let component = create_component_in(&module.factory(), host_context);
    let load = MemoryStream::with(saved.bytes());
    let stream = load.as_com_ref::<IBStream>().unwrap().as_ptr();
    // SAFETY: as above.
    assert_eq!(unsafe { component.setState(stream) }, kResultOk);
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        stand::run_timers();
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(stand::calls()
        .iter()
        .any(|(f, _)| *f == "EnumProjectMarkers3"));
    assert_eq!(stand::markers(), saved_project.markers);
    assert!(!stand::calls()
        .iter()
        .any(|(f, _)| *f == "AddProjectMarker2"));
    // SAFETY: as above.
    assert_eq!(unsafe { component.terminate() }, kResultOk);
    drop(component);
    assert_eq!(stand::timers(), 0);
    assert_eq!(stand::HOST_CONTEXT_REFS.load(Ordering::SeqCst), 0);
}

#[test]
fn the_editor_takes_reapers_track_name_and_switches_the_markers() {
    let _turn = one_at_a_time();
    stand::reset("Lead vox dbl", Some((200, 40, 40)));
    let rig = rig();
    rig.state.write().settings.track.clear();
    let mut h = rig.editor_with_note("double is late in bar 3", point(8.0));
    stand::run_timers();
    frames_until(&mut h, "REAPER's track name", |_| {
        rig.state.read().settings.track == "Lead vox dbl"
    });
    // What the plugin framework reports (CLAP track info) wins over REAPER's.
    h.state_mut().set_track_info("Lead vox (CLAP)", None);
    h.step();
    h.step();
    assert_eq!(rig.state.read().settings.track, "Lead vox (CLAP)");

    assert!(stand::markers().is_empty());
    h.get_by_label("REAPER markers").click();
    h.step();
    assert!(rig.state.read().reaper_markers, "saved with the instance");
    timers_until("the marker", || {
        stand::markers()
            .iter()
            .any(|m| m.name == "double is late in bar 3" && m.start == 4.0)
    });
    h.get_by_label("REAPER markers").click();
    h.step();
    timers_until("the marker to go", || stand::markers().is_empty());
    assert!(stand::ext_state().is_empty());
}

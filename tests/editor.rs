//! The real editor code, headless (egui_kittest), against the real worker and journal: typing
//! a note, saving and discarding it, the filters, rating a take, the EQ form, the settings
//! checks and the privacy switch.

use egui::accesskit::Role as A11yRole;
use egui::Key;
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use liner_notes::capture::CaptureEvent;
use liner_notes::editor::{EditorApp, Tab};
use liner_notes::playhead::{HostTransport, SharedPlayhead};
use liner_notes::state::{InstanceState, SavedState};
use liner_notes::worker::{self, Registration};
use liner_record::event::{Anchor, Body, Category, Context, NoteAdded, Rating, TakeRef, Verdict};
use liner_record::{Event, Journal, Role};
use liner_test_support::Server;
use nice_plug::prelude::Transport;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

struct Rig {
    _producer: rtrb::Producer<CaptureEvent>,
    state: Arc<SavedState>,
    playhead: Arc<SharedPlayhead>,
    registration: Registration,
    project: String,
}

/// A registered instance of a fresh project (journals live under target/, see
/// .cargo/config.toml), as the plugin sets one up.
fn rig() -> Rig {
    let project = format!("editor test {}", Uuid::now_v7());
    let (tx, rx) = rtrb::RingBuffer::new(64);
    let mut st = InstanceState::new();
    st.settings.project = project.clone();
    st.settings.song = "Night Drive".into();
    st.settings.track = "Lead vox".into();
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
    Rig {
        _producer: tx,
        state,
        playhead: Arc::new(SharedPlayhead::new()),
        registration,
        project,
    }
}

impl Rig {
    fn harness(&self) -> Harness<'static, EditorApp> {
        let app = EditorApp::new(
            self.registration.link(),
            self.playhead.clone(),
            Arc::new(parking_lot::RwLock::new((820, 560))),
            Arc::new(|| {}),
        );
        Harness::builder()
            .with_size(egui::vec2(900.0, 640.0))
            .build_ui_state(|ui, app: &mut EditorApp| app.show(ui), app)
    }

    /// The DAW at `seconds` (120 bpm, 4/4), as the audio thread would publish it.
    fn daw_at(&self, seconds: f64, playing: bool, recording: bool, blocks: u64) {
        let mut t = Transport::new(48_000.0);
        let beats = seconds * 2.0;
        t.playing = playing;
        t.recording = recording;
        t.tempo = Some(120.0);
        t.time_sig_numerator = Some(4);
        t.time_sig_denominator = Some(4);
        t.pos_seconds = Some(seconds);
        t.pos_beats = Some(beats);
        t.bar_start_pos_beats = Some((beats / 4.0).floor() * 4.0);
        t.bar_number = Some((beats / 4.0).floor() as i32);
        t.loop_range_seconds = Some((8.0, 16.0));
        self.playhead
            .publish(&HostTransport::capture(&t), blocks, blocks * 64);
    }

    fn journal(&self) -> Journal {
        Journal::open_project(&self.project).unwrap()
    }

    fn events(&self) -> Vec<Event> {
        self.journal()
            .read()
            .unwrap()
            .events
            .into_iter()
            .map(|s| s.event)
            .collect()
    }

    fn ctx(&self, author: &str, role: Role) -> Context {
        let mut c = self.state.read().context(worker::session_id());
        c.author = author.into();
        c.role = role;
        c
    }

    fn instance(&self) -> Uuid {
        self.state.read().instance
    }

    /// A real server (with `limits`) holding this rig's project, and Sam's token for it stored
    /// where the plugin looks, filed under the server's origin. The instance is not pointed
    /// at it yet.
    fn server(&self, limits: liner_server::serve::Limits) -> Server {
        let server = Server::start_with(limits);
        let token = server.token(&self.project, "Sam", Role::Producer);
        let config = std::path::PathBuf::from(std::env::var("LINER_NOTES_CONFIG_DIR").unwrap());
        liner_notes::settings::store_token_in(&config, &server.url, &token).unwrap();
        server
    }
}

/// Steps the editor until `done` holds (the worker writes and publishes in the background).
fn step_until(h: &mut Harness<'_, EditorApp>, what: &str, done: impl Fn(&EditorApp) -> bool) {
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

fn notes_in(events: &[Event]) -> Vec<&NoteAdded> {
    events
        .iter()
        .filter_map(|e| match &e.body {
            Body::NoteAdded(n) => Some(n),
            _ => None,
        })
        .collect()
}

fn note_event(ctx: &Context, text: &str, category: Category) -> Event {
    Event::new(
        ctx,
        None,
        Body::NoteAdded(NoteAdded {
            text: text.into(),
            category,
            anchor: None,
            take: None,
            private: false,
            version: None,
            guest: None,
        }),
    )
}

#[test]
fn a_note_is_stamped_at_its_first_keystroke_and_enter_saves_it_to_the_journal() {
    let rig = rig();
    let mut h = rig.harness();
    rig.daw_at(10.0, true, false, 1);
    h.step();
    assert!(
        h.get_by_label("Note").is_focused(),
        "the note field is ready"
    );
    h.get_by_label("Note").type_text("k");
    h.step();
    // Ten seconds of typing later the playhead is elsewhere; the note stays at 10 s.
    rig.daw_at(20.0, true, false, 2);
    h.get_by_label("Note").type_text("ick is late here");
    h.step();
    assert!(h.query_by_label_contains("note at 6.1").is_some());
    h.key_press(Key::Enter);
    h.step();
    assert!(h.state().draft.text.is_empty(), "Enter clears the field");
    step_until(&mut h, "the note in the list", |app| {
        app.unsaved().is_empty() && app.rows().rows.len() == 1
    });
    let events = rig.events();
    let notes = notes_in(&events);
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].text, "kick is late here");
    let Some(Anchor::Point { at }) = notes[0].anchor else {
        panic!("{:?}", notes[0].anchor)
    };
    assert_eq!(at.seconds, Some(10.0));
    assert_eq!((at.bar, at.beat), (Some(6), Some(1.0)));
    assert!(h.query_by_label("kick is late here").is_some(), "listed");
    assert!(
        h.get_by_label("Note").is_focused(),
        "ready for the next note"
    );
}

#[test]
fn escape_discards_the_note_and_nothing_reaches_the_journal() {
    let rig = rig();
    let mut h = rig.harness();
    rig.daw_at(3.0, false, false, 1);
    h.step();
    h.get_by_label("Note").type_text("this is a mistake");
    h.step();
    h.key_press(Key::Escape);
    h.step();
    assert!(h.state().draft.text.is_empty());
    assert!(h.state().draft.stamp.is_none());
    // A second note after it: once it is in the journal, the first would be too (the worker
    // keeps submission order), so its absence is proven.
    h.get_by_label("Note").type_text("keeper line");
    h.step();
    h.key_press(Key::Enter);
    h.step();
    step_until(&mut h, "the second note", |app| {
        app.unsaved().is_empty() && app.rows().rows.len() == 1
    });
    let events = rig.events();
    let texts: Vec<&str> = notes_in(&events).iter().map(|n| n.text.as_str()).collect();
    assert_eq!(texts, ["keeper line"]);
}

#[test]
fn shortcuts_pick_the_category_and_nudge_the_stamp() {
    let rig = rig();
    let mut h = rig.harness();
    rig.daw_at(10.0, true, false, 1);
    h.step();
    h.get_by_label("Note").type_text("vocal pitchy");
    h.step();
    h.key_press_modifiers(egui::Modifiers::COMMAND, Key::Num4);
    h.key_press_modifiers(egui::Modifiers::COMMAND, Key::ArrowLeft);
    h.step();
    assert_eq!(h.state().draft.category, Category::Vocal);
    assert_eq!(h.state().draft.stamp.unwrap().from.seconds, Some(8.0));
    h.key_press(Key::Enter);
    h.step();
    step_until(&mut h, "the note", |app| app.rows().rows.len() == 1);
    let events = rig.events();
    assert_eq!(notes_in(&events)[0].category, Category::Vocal);
}

#[test]
fn filters_narrow_the_list_by_category_author_verdict_and_text() {
    let rig = rig();
    let sam = rig.ctx("Sam", Role::Producer);
    let alex = rig.ctx("Alex", Role::Engineer);
    let exec = rig.ctx("Jo", Role::Executive);
    let hiss = note_event(&sam, "tape hiss in the intro", Category::Technical);
    let vocal = note_event(&alex, "double the chorus vocal", Category::Vocal);
    let mix = note_event(&alex, "more air on the mix", Category::Mix);
    let mut other_song = note_event(&sam, "other song note", Category::Mix);
    other_song.song = "Another Song".into();
    let verdict = Event::new(
        &exec,
        None,
        Body::Verdict {
            target: vocal.id,
            verdict: Verdict::ChangesRequested,
            comment: "try it an octave up".into(),
        },
    );
    rig.journal()
        .append(&[hiss, vocal, mix, other_song, verdict])
        .unwrap();
    let mut h = rig.harness();
    step_until(&mut h, "the record", |app| app.rows().rows.len() == 3);
    assert!(
        h.query_by_label("other song note").is_none(),
        "other songs stay out"
    );
    assert!(
        h.query_by_label("try it an octave up").is_some(),
        "the executive's comment"
    );

    h.state_mut().filter.author = Some("Alex".into());
    h.step();
    h.step();
    assert_eq!(h.state().rows().rows.len(), 2);
    h.state_mut().filter.verdict = liner_notes::editor::list::VerdictFilter::Is(
        liner_record::review::Standing::Decided(Verdict::ChangesRequested),
    );
    h.step();
    h.step();
    assert_eq!(h.state().rows().rows.len(), 1);
    assert!(h.query_by_label("double the chorus vocal").is_some());
    assert!(h.query_by_label("more air on the mix").is_none());

    h.state_mut().filter = Default::default();
    h.state_mut().filter.kind =
        liner_notes::editor::list::KindFilter::Category(Category::Technical);
    h.step();
    h.step();
    assert_eq!(h.state().rows().rows.len(), 1);

    // The search box, typed into like a user would.
    h.state_mut().filter = Default::default();
    h.step();
    h.get_by_label("Search").focus();
    h.step();
    h.get_by_label("Search").type_text("AIR");
    h.step();
    h.step();
    assert_eq!(h.state().filter.text, "AIR");
    assert_eq!(h.state().rows().rows.len(), 1);
    assert!(h.query_by_label("more air on the mix").is_some());
    assert!(h.query_by_label("tape hiss in the intro").is_none());
}

#[test]
fn rating_a_take_records_it() {
    let rig = rig();
    let me = rig.ctx("Sam", Role::Producer);
    let take = TakeRef {
        instance: rig.instance(),
        number: 2,
    };
    rig.journal()
        .append(&[
            Event::new(&me, None, Body::TakeStarted { take }),
            Event::new(&me, None, Body::TakeEnded { take }),
        ])
        .unwrap();
    let mut h = rig.harness();
    h.state_mut().tab = Tab::Takes;
    step_until(&mut h, "the take", |app| {
        app.record().views.takes.len() == 1
    });
    h.step();
    h.get_by_label("keeper").click();
    h.step();
    h.get_by_label("4 stars").hover();
    h.step();
    step_until(&mut h, "the rating", |app| {
        app.record().views.takes[0].rating == Some(Rating::Keeper)
    });
    h.get_by_label("4 stars").click();
    h.step();
    step_until(&mut h, "the stars", |app| {
        app.record().views.takes[0].stars == Some(4)
    });
    let rated: Vec<_> = rig
        .events()
        .into_iter()
        .filter_map(|e| match e.body {
            Body::TakeRated {
                take: t,
                rating,
                stars,
                ..
            } => Some((t, rating, stars)),
            _ => None,
        })
        .collect();
    assert_eq!(
        rated,
        [
            (take, Rating::Keeper, None),
            (take, Rating::Keeper, Some(4))
        ]
    );
}

#[test]
fn the_eq_form_records_a_structured_decision_at_the_playhead() {
    let rig = rig();
    let mut h = rig.harness();
    rig.daw_at(30.0, false, false, 1);
    h.step();
    h.get_by_label("EQ / FX decision").click();
    h.step();
    // Saving an empty form explains what is missing and records nothing.
    h.get_by_label("Record decision").click();
    h.step();
    assert!(h.query_by_label_contains("Name the processor").is_some());
    for (field, text) in [
        ("Processor", "Pro-Q 3"),
        ("Band / parameter", "band 2 250 Hz"),
        ("Value", "-3.5"),
        ("Why", "boxy low mids"),
    ] {
        h.get_by_label(field).focus();
        h.step();
        h.get_by_label(field).type_text(text);
        h.step();
    }
    h.get_by_label("Record decision").click();
    h.step();
    step_until(&mut h, "the decision", |app| {
        app.record().views.decisions.len() == 1
    });
    let events = rig.events();
    let d = events
        .iter()
        .find_map(|e| match &e.body {
            Body::EqDecision(d) => Some((d.clone(), e.pos)),
            _ => None,
        })
        .expect("an EQ decision");
    assert_eq!(d.0.processor, "Pro-Q 3");
    assert_eq!(d.0.settings.len(), 1);
    assert_eq!(d.0.settings[0].name, "band 2 250 Hz");
    assert_eq!(d.0.settings[0].value, Some(-3.5));
    assert_eq!(d.0.settings[0].unit.as_deref(), Some("dB"));
    assert_eq!(d.0.reason, "boxy low mids");
    assert_eq!(d.1.and_then(|p| p.seconds), Some(30.0));
}

#[test]
fn settings_explain_what_is_wrong_and_refuse_to_save_it() {
    let rig = rig();
    let mut h = rig.harness();
    h.step();
    h.get_by_label("Settings").click();
    h.step();
    h.get_by_label("Server").focus();
    h.step();
    h.get_by_label("Server").type_text("ftp://studio");
    h.step();
    assert!(h
        .query_by_label_contains("must start with http:// or https://")
        .is_some());
    h.get_by_label("Token").focus();
    h.step();
    h.get_by_label("Token").type_text("hunter2");
    h.step();
    assert!(h
        .query_by_label_contains("not a Liner Notes token")
        .is_some());
    h.get_by_label("Save settings").click();
    h.step();
    assert_eq!(rig.state.read().settings.server_url, "", "nothing saved");
    // An empty name is refused too.
    h.get_by_label("Your name").focus();
    h.step();
    h.key_press_modifiers(egui::Modifiers::COMMAND, Key::A);
    h.key_press(Key::Backspace);
    h.step();
    assert!(h
        .query_by_label_contains("Your name cannot be empty")
        .is_some());
    assert_eq!(rig.state.read().settings.author, "Sam");
}

#[test]
fn client_in_the_room_hides_every_note_at_once() {
    let rig = rig();
    let sam = rig.ctx("Sam", Role::Producer);
    rig.journal()
        .append(&[note_event(&sam, "the singer is flat", Category::Vocal)])
        .unwrap();
    let mut h = rig.harness();
    step_until(&mut h, "the note", |app| app.rows().rows.len() == 1);
    h.step();
    assert!(h.query_by_label("the singer is flat").is_some());
    h.get_by_role_and_label(A11yRole::Button, "Client in the room")
        .click();
    h.step();
    h.step();
    assert!(h.query_by_label("the singer is flat").is_none());
    assert!(
        h.query_by_label("Note").is_none(),
        "no capture field either"
    );
    h.get_by_label("Show notes").click();
    h.step();
    h.step();
    assert!(h.query_by_label("the singer is flat").is_some());
}

#[test]
fn the_editor_repaints_only_for_changes_and_a_moving_playhead_and_stops_when_closed() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let rig = rig();
    let wakes = Arc::new(AtomicUsize::new(0));
    let counter = wakes.clone();
    let app = EditorApp::new(
        rig.registration.link(),
        rig.playhead.clone(),
        Arc::new(parking_lot::RwLock::new((820, 560))),
        Arc::new(move || {
            counter.fetch_add(1, Ordering::SeqCst);
        }),
    );
    let mut h = Harness::builder()
        .with_size(egui::vec2(900.0, 640.0))
        .build_ui_state(|ui, app: &mut EditorApp| app.show(ui), app);
    let next_repaint = |h: &Harness<'_, EditorApp>| {
        h.output().viewport_output[&egui::ViewportId::ROOT].repaint_delay
    };
    rig.daw_at(5.0, false, false, 1);
    h.run_ok().expect("settles");
    assert!(
        rig.playhead.is_watched(),
        "open: the audio thread publishes"
    );
    assert_eq!(
        next_repaint(&h),
        Duration::MAX,
        "stopped and idle: no repaint"
    );

    rig.daw_at(5.0, true, false, 2);
    h.step();
    assert!(
        next_repaint(&h) <= Duration::from_millis(50),
        "playing: follows the playhead"
    );

    // A change in the record wakes the window from the worker.
    let before = wakes.load(Ordering::SeqCst);
    let sam = rig.ctx("Alex", Role::Engineer);
    rig.journal()
        .append(&[note_event(&sam, "from the other room", Category::Mix)])
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while wakes.load(Ordering::SeqCst) == before {
        assert!(Instant::now() < deadline, "never woken by the record");
        std::thread::sleep(Duration::from_millis(5));
    }

    // Closed: no playhead publishing, no record following, no wakes.
    h.state_mut().close();
    assert!(!rig.playhead.is_watched());
    std::thread::sleep(Duration::from_millis(50));
    let closed = wakes.load(Ordering::SeqCst);
    rig.journal()
        .append(&[note_event(&sam, "while closed", Category::Mix)])
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(wakes.load(Ordering::SeqCst), closed);
}

#[test]
fn an_unnamed_mark_is_listed_and_can_be_named_later() {
    let rig = rig();
    let me = rig.ctx("Sam", Role::Producer);
    let pos = liner_record::DawPos {
        seconds: Some(33.0),
        bar: Some(17),
        beat: Some(3.0),
        ..Default::default()
    };
    rig.journal()
        .append(&[Event::new(
            &me,
            Some(pos),
            Body::Mark {
                instance: rig.instance(),
                number: 1,
                label: None,
            },
        )])
        .unwrap();
    let mut h = rig.harness();
    step_until(&mut h, "the mark", |app| app.rows().rows.len() == 1);
    h.step();
    h.get_by_label("unnamed mark at 17.3").click();
    h.step();
    h.step();
    h.get_by_label("Name this mark").focus();
    h.step();
    h.get_by_label("Name this mark")
        .type_text("count-in too long");
    h.step();
    h.get_by_label("Save name").click();
    h.step();
    step_until(&mut h, "the name", |app| {
        app.record().views.marks[0].label.as_deref() == Some("count-in too long")
    });
    h.step();
    assert_eq!(h.state().record().views.marks.len(), 1, "still one mark");
    assert!(h.query_by_label("unnamed mark at 17.3").is_none());
    assert!(!h
        .query_all_by_label("count-in too long")
        .collect::<Vec<_>>()
        .is_empty());
}

#[test]
fn your_own_notes_can_be_edited_and_deleted_and_others_cannot() {
    let rig = rig();
    let mine = note_event(
        &rig.ctx("Sam", Role::Producer),
        "snare too loud",
        Category::Mix,
    );
    let theirs = note_event(
        &rig.ctx("Alex", Role::Engineer),
        "hat is fine",
        Category::Mix,
    );
    rig.journal().append(&[mine.clone(), theirs]).unwrap();
    let mut h = rig.harness();
    step_until(&mut h, "the notes", |app| app.rows().rows.len() == 2);
    h.step();
    h.get_by_label("hat is fine").click();
    h.step();
    h.step();
    assert!(
        h.query_by_label_contains("Mix · Alex").is_some(),
        "the detail shows"
    );
    assert!(h.query_by_label("Edit").is_none(), "not mine");
    h.get_by_label("snare too loud").click();
    h.step();
    h.step();
    h.get_by_label("Edit").click();
    h.step();
    h.step();
    h.get_by_label("Edit note").focus();
    h.step();
    h.get_by_label("Edit note").type_text(", ride it down 2 dB");
    h.step();
    h.get_by_label("Save").click();
    h.step();
    step_until(&mut h, "the edit", |app| {
        app.record()
            .views
            .notes
            .iter()
            .any(|n| n.text == "snare too loud, ride it down 2 dB")
    });
    h.step();
    h.get_by_label("Delete").click();
    h.step();
    h.step();
    h.get_by_label("Really delete").click();
    h.step();
    step_until(&mut h, "the delete", |app| app.rows().rows.len() == 1);
    let kinds: Vec<&str> = rig
        .events()
        .iter()
        .map(|e| e.body.kind())
        .collect::<Vec<_>>()
        .into_iter()
        .map(|k| match k {
            "note_edited" => "edit",
            "note_deleted" => "delete",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds.iter().filter(|k| **k == "edit").count(), 1);
    assert_eq!(kinds.iter().filter(|k| **k == "delete").count(), 1);
}

#[test]
fn settings_test_the_connection_and_keep_the_token_out_of_the_project() {
    let server = Server::start();
    let rig = rig();
    let token = server.token(&rig.project, "Sam", Role::Producer);
    let mut h = rig.harness();
    h.step();
    h.get_by_label("Settings").click();
    h.step();
    let type_into = |h: &mut Harness<'_, EditorApp>, field: &str, text: &str| {
        h.get_by_label(field).focus();
        h.step();
        h.key_press_modifiers(egui::Modifiers::COMMAND, Key::A);
        h.step();
        h.get_by_label(field).type_text(text);
        h.step();
    };
    type_into(&mut h, "Server", &server.url);
    type_into(&mut h, "Token", &format!("ln_{}", "0".repeat(64)));
    h.get_by_label("Test connection").click();
    h.step();
    let found = |h: &mut Harness<'_, EditorApp>, text: &str| {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            h.step();
            if h.query_by_label_contains(text).is_some() {
                return;
            }
            assert!(Instant::now() < deadline, "never showed {text:?}");
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    found(&mut h, "refused the token");
    type_into(&mut h, "Token", &token);
    h.get_by_label("Test connection").click();
    found(&mut h, "as Sam (producer)");

    h.get_by_label("Save settings").click();
    step_until(&mut h, "the settings applied", |_| {
        rig.state.read().settings.server_url == server.url
    });
    let settings = rig.state.read().settings.clone();
    let saved_project = serde_json::to_string(&*rig.state.read()).unwrap();
    assert!(
        !saved_project.contains(&token),
        "the token is not in the DAW project"
    );
    let config = std::path::PathBuf::from(std::env::var("LINER_NOTES_CONFIG_DIR").unwrap());
    let deadline = Instant::now() + Duration::from_secs(10);
    while liner_notes::settings::token_in(&config, &settings.server_url).as_deref()
        != Some(token.as_str())
    {
        assert!(
            Instant::now() < deadline,
            "the token never reached the config folder"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // With the token in place the status dot turns to synced.
    found(&mut h, "Sync: synced");
}

#[test]
fn the_export_button_writes_the_songs_log_and_private_notes_only_when_asked() {
    let rig = rig();
    let sam = rig.ctx("Sam", Role::Producer);
    let mut secret = note_event(&sam, "the label hates this mix", Category::General);
    if let Body::NoteAdded(n) = &mut secret.body {
        n.private = true;
    }
    rig.journal()
        .append(&[note_event(&sam, "brighter hats", Category::Mix), secret])
        .unwrap();
    let mut h = rig.harness();
    step_until(&mut h, "the notes", |app| app.rows().rows.len() == 2);
    h.get_by_label("Export log").click();
    let exported = |h: &mut Harness<'_, EditorApp>| -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            h.step();
            if let Some(node) = h.query_by_label_contains("Exported to ") {
                let path = node
                    .value()
                    .unwrap()
                    .trim_start_matches("Exported to ")
                    .to_owned();
                return std::fs::read_to_string(path).unwrap();
            }
            assert!(Instant::now() < deadline, "never exported");
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    let log = exported(&mut h);
    assert!(log.contains("brighter hats"), "{log}");
    assert!(
        !log.contains("the label hates this mix"),
        "private stays out: {log}"
    );
    h.get_by_label("with private notes").click();
    h.step();
    h.get_by_label("Export log").click();
    let mut log = exported(&mut h);
    // The first export's message may still be on screen for a frame; wait for the new file.
    while !log.contains("the label hates this mix") {
        log = exported(&mut h);
    }
}

#[test]
fn the_take_being_recorded_is_preselected_for_a_new_note() {
    let rig = rig();
    let me = rig.ctx("Sam", Role::Producer);
    let take = TakeRef {
        instance: rig.instance(),
        number: 7,
    };
    rig.journal()
        .append(&[Event::new(&me, None, Body::TakeStarted { take })])
        .unwrap();
    let mut h = rig.harness();
    rig.daw_at(12.0, true, true, 1);
    step_until(&mut h, "the open take", |app| {
        app.record().views.takes.len() == 1
    });
    h.get_by_label("Note").type_text("great ad-lib");
    h.step();
    h.step();
    assert_eq!(h.state().draft.take, Some(take));
    assert!(h.query_by_label("take 7 (detach)").is_some());
    h.key_press(Key::Enter);
    h.step();
    step_until(&mut h, "the note", |app| {
        app.record().views.notes.len() == 1
    });
    assert_eq!(h.state().record().views.notes[0].take, Some(take));
}

#[test]
fn the_hosts_track_name_replaces_only_names_it_gave() {
    let rig = rig();
    let mut h = rig.harness();
    h.step();
    h.state_mut()
        .set_host_track("Lead vox", Some((200, 40, 40)));
    assert_eq!(rig.state.read().settings.track, "Lead vox");
    h.state_mut().set_host_track("Lead vox dbl", None);
    assert_eq!(
        rig.state.read().settings.track,
        "Lead vox dbl",
        "a host rename follows"
    );
    rig.state.write().settings.track = "Vox (Sam's name)".into();
    h.state_mut().set_host_track("Audio 3", None);
    assert_eq!(
        rig.state.read().settings.track,
        "Vox (Sam's name)",
        "typed names stay"
    );
}

#[test]
fn at_200_percent_scaling_the_editor_still_takes_notes() {
    let rig = rig();
    let app = EditorApp::new(
        rig.registration.link(),
        rig.playhead.clone(),
        Arc::new(parking_lot::RwLock::new((820, 560))),
        Arc::new(|| {}),
    );
    let mut h = Harness::builder()
        .with_size(egui::vec2(820.0, 560.0))
        .with_pixels_per_point(2.0)
        .build_ui_state(|ui, app: &mut EditorApp| app.show(ui), app);
    rig.daw_at(1.0, false, false, 1);
    h.step();
    let field = h.get_by_label("Note").rect();
    assert!(field.width() > 300.0 && field.max.y < 560.0, "{field:?}");
    h.get_by_label("Note").type_text("at double size");
    h.step();
    h.key_press(Key::Enter);
    h.step();
    step_until(&mut h, "the note", |app| app.rows().rows.len() == 1);
}

#[test]
fn the_header_switches_between_the_songs_of_the_record() {
    let rig = rig();
    let mut other = note_event(
        &rig.ctx("Alex", Role::Engineer),
        "b-side note",
        Category::Mix,
    );
    other.song = "B-Side".into();
    rig.journal()
        .append(&[
            note_event(
                &rig.ctx("Sam", Role::Producer),
                "a-side note",
                Category::Mix,
            ),
            other,
        ])
        .unwrap();
    let mut h = rig.harness();
    step_until(&mut h, "the record", |app| {
        app.record().views.notes.len() == 2
    });
    h.step();
    assert!(h.query_by_label("a-side note").is_some());
    h.get_by_label("Song").click();
    h.step();
    h.step();
    h.get_by_label("B-Side").click();
    h.step();
    h.step();
    assert_eq!(rig.state.read().settings.song, "B-Side");
    assert!(h.query_by_label("b-side note").is_some());
    assert!(h.query_by_label("a-side note").is_none());
}

#[test]
fn what_the_server_refused_or_was_made_under_another_name_waits_on_the_not_sent_page() {
    let rig = rig();
    let server = rig.server(Default::default());
    // Made before this editor capped the length, and on a laptop under a typed name.
    let long = note_event(
        &rig.ctx("Sam", Role::Producer),
        &"la ".repeat(3_400),
        Category::Vocal,
    );
    let laptop = note_event(
        &rig.ctx("sam (laptop)", Role::Producer),
        "typed on the laptop",
        Category::Mix,
    );
    rig.journal()
        .append(&[long.clone(), laptop.clone()])
        .unwrap();
    rig.state.write().settings.server_url = server.url.clone();
    let on_server = |text: &str| {
        server
            .events(&rig.project)
            .into_iter()
            .any(|e| matches!(&e.body, Body::NoteAdded(n) if n.text == text) && e.author == "Sam")
    };

    let mut h = rig.harness();
    let found = |h: &mut Harness<'_, EditorApp>, text: &str| {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            h.step();
            if h.query_by_label_contains(text).is_some() {
                return;
            }
            assert!(Instant::now() < deadline, "never showed {text:?}");
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    found(&mut h, "Not sent (2)");
    h.get_by_label("Not sent (2)").click();
    found(&mut h, "refused by the server: the note text is too long");
    found(&mut h, "made as \"sam (laptop)\"");

    // Sent as the token's person.
    found(&mut h, "Send them as Sam");
    h.get_by_label("Send them as Sam").click();
    let deadline = Instant::now() + Duration::from_secs(15);
    while !on_server("typed on the laptop") {
        assert!(
            Instant::now() < deadline,
            "the laptop's note never went out"
        );
        h.step();
        std::thread::sleep(Duration::from_millis(20));
    }

    // Fixed: the corrected copy goes, the refused one is dropped.
    found(&mut h, "Not sent (1)");
    h.get_by_label("Fix").click();
    found(&mut h, "Corrected note");
    // The correction field has the keyboard as soon as it opens.
    h.key_press_modifiers(egui::Modifiers::COMMAND, Key::A);
    h.step();
    h.get_by_label("Corrected note")
        .type_text("la la la, shorter");
    h.step();
    h.get_by_label("Send fixed").click();
    let deadline = Instant::now() + Duration::from_secs(15);
    while !on_server("la la la, shorter") {
        assert!(Instant::now() < deadline, "the fixed note never went out");
        h.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    found(&mut h, "Not sent (0)");
    found(&mut h, "Everything that can be sent is on the server");
    // The original never reached the server, and the notes list shows the copy only.
    assert!(!server.events(&rig.project).iter().any(|e| e.id == long.id));
}

#[test]
fn a_note_typed_ten_seconds_after_its_stamp_gets_the_audio_of_its_stamp() {
    let rig = rig();
    let link = rig.registration.link();
    let (mut tap, reader) = liner_notes::tap::tap(48_000.0, 2);
    let dropped = reader.lost_counter();
    link.set_tap(reader);
    link.set_clip_audio(true);
    assert!(rig.state.read().clip_audio, "saved with the project");
    // The stream: quiet noise with one click at 10 s (frame 480,000).
    let click = 480_000u64;
    let sample = |f: u64| {
        if f == click {
            0.9
        } else {
            ((f * 7919 % 1000) as f32 / 1000.0 - 0.5) * 0.01
        }
    };
    let mut frame = 0u64;
    let mut feed = |seconds: f64, tap: &mut liner_notes::tap::TapWriter| {
        let until = frame + (seconds * 48_000.0) as u64;
        let mut left = vec![0f32; 64];
        let mut right = vec![0f32; 64];
        while frame < until {
            for i in 0..64 {
                left[i] = sample(frame + i as u64);
                right[i] = left[i];
            }
            let before = dropped.load(std::sync::atomic::Ordering::Relaxed);
            tap.write(frame, &[&mut left[..], &mut right[..]]);
            if dropped.load(std::sync::atomic::Ordering::Relaxed) != before {
                // Far faster than real time, the worker can fall behind on a busy machine
                // and the tap drops the block (another test covers that): hand it the same
                // block again once it has caught up, so this stream has no gap.
                std::thread::sleep(Duration::from_millis(5));
                continue;
            }
            frame += 64;
            if frame.is_multiple_of(48_000) {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        frame
    };
    let publish = |seconds: f64, frame: u64| {
        let mut t = Transport::new(48_000.0);
        t.playing = true;
        t.tempo = Some(120.0);
        t.pos_seconds = Some(seconds);
        t.pos_beats = Some(seconds * 2.0);
        rig.playhead
            .publish(&HostTransport::capture(&t), frame / 64, frame);
    };
    let mut h = rig.harness();
    let at = feed(10.0, &mut tap);
    publish(10.0, at);
    h.step();
    h.get_by_label("Note").type_text("c");
    h.step();
    // Ten seconds of typing.
    let at = feed(10.0, &mut tap);
    publish(20.0, at);
    h.get_by_label("Note").type_text("lick at the downbeat");
    h.step();
    h.key_press(Key::Enter);
    h.step();
    feed(1.0, &mut tap);

    let deadline = Instant::now() + Duration::from_secs(20);
    let (note, clip) = loop {
        let events = rig.events();
        let note = events
            .iter()
            .find(|e| matches!(e.body, Body::NoteAdded(_)))
            .map(|e| e.id);
        let clip = events.iter().find_map(|e| match &e.body {
            Body::ClipAttached(c) => Some(c.clone()),
            _ => None,
        });
        if let (Some(n), Some(c)) = (note, clip) {
            break (n, c);
        }
        assert!(Instant::now() < deadline, "no clip: {events:?}");
        feed(0.1, &mut tap);
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(clip.target, note);
    assert_eq!(clip.clip.moment, 8 * 48_000, "the stamp, 8 s in");
    let bytes = liner_record::clips::ClipStore::of_journal(rig.journal().dir())
        .get(&clip.clip)
        .unwrap()
        .unwrap();
    let mut reader = claxon::FlacReader::new(std::io::Cursor::new(bytes)).unwrap();
    let left: Vec<i32> = reader.samples().step_by(2).map(|s| s.unwrap()).collect();
    let loudest = (0..left.len()).max_by_key(|&i| left[i].abs()).unwrap();
    assert_eq!(
        loudest as u64, clip.clip.moment,
        "the click of the first keystroke is at the moment, not the typing's end"
    );
}

/// The header's switch turns clips on (saved with the project); the note's clip shows in its
/// row; a server whose room for the project's clips is full takes the note, keeps the clip
/// waiting and the editor says why; with room again, the clip follows.
#[test]
fn the_header_switch_clips_a_note_and_a_full_quota_is_said_while_the_note_still_syncs() {
    let rig = rig();
    // Room for 1 kB of clips: less than any clip of a second of noise.
    let mut server = rig.server(liner_server::serve::Limits {
        clip_quota: 1_000,
        ..Default::default()
    });
    rig.state.write().settings.server_url = server.url.clone();
    rig.state.write().clip_before = 1.0;
    rig.state.write().clip_after = 0.5;
    let link = rig.registration.link();
    let (mut tap, reader) = liner_notes::tap::tap(48_000.0, 2);
    link.set_tap(reader);
    let mut frame = 0u64;
    let mut noise = 0x2545_F491_u32;
    let mut feed = |seconds: f64, tap: &mut liner_notes::tap::TapWriter| {
        let until = frame + (seconds * 48_000.0) as u64;
        let (mut left, mut right) = (vec![0f32; 64], vec![0f32; 64]);
        while frame < until {
            for i in 0..64 {
                noise ^= noise << 13;
                noise ^= noise >> 17;
                noise ^= noise << 5;
                left[i] = (noise as f32 / u32::MAX as f32 - 0.5) * 0.5;
                right[i] = -left[i];
            }
            tap.write(frame, &[&mut left[..], &mut right[..]]);
            frame += 64;
        }
        frame
    };

    let mut h = rig.harness();
    h.step();
    assert!(!rig.state.read().clip_audio, "off by default");
    h.get_by_label("Clips: off").click();
    h.step();
    h.step();
    assert!(
        rig.state.read().clip_audio,
        "the switch is saved with the project"
    );
    assert!(h.query_by_label("Clips: on").is_some());

    let at = feed(2.0, &mut tap);
    let mut t = Transport::new(48_000.0);
    t.playing = true;
    t.tempo = Some(120.0);
    t.pos_seconds = Some(2.0);
    t.pos_beats = Some(4.0);
    rig.playhead
        .publish(&HostTransport::capture(&t), at / 64, at);
    // Back to the note field (the click on the switch took the keyboard).
    h.get_by_label("Note").click();
    h.step();
    h.get_by_label("Note").type_text("the hi-hat is harsh");
    h.step();
    assert_eq!(h.state().draft.text, "the hi-hat is harsh");
    h.key_press(Key::Enter);
    h.step();

    let project = server.store.project(&rig.project).unwrap().unwrap();
    let on_server = |kind: &str| {
        server
            .events(&rig.project)
            .iter()
            .filter(|e| e.body.kind() == kind)
            .count()
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        feed(0.05, &mut tap);
        h.step();
        let said = h
            .query_by_label_contains("Clips wait on the server")
            .is_some();
        if said && on_server("note_added") == 1 && on_server("clip_attached") == 1 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the note, its clip's event and the quota's words: {} {} {said}; journal: {:?}; \
             sync: {:?}",
            on_server("note_added"),
            on_server("clip_attached"),
            rig.events()
                .iter()
                .map(|e| e.body.kind())
                .collect::<Vec<_>>(),
            link.sync_status()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        h.query_by_label_contains("Audio clip:").is_none(),
        "nothing selected yet"
    );
    assert!(h.query_by_label("clip").is_some(), "the row shows its clip");
    assert_eq!(
        server.store.clip_usage(&project).unwrap(),
        0,
        "over the quota"
    );
    let clip = rig
        .events()
        .into_iter()
        .find_map(|e| match e.body {
            Body::ClipAttached(c) => Some(c.clip),
            _ => None,
        })
        .unwrap();
    assert!(clip.bytes > 1_000);
    assert_eq!(clip.moment, 48_000, "a second before the moment");

    // Room again (a server with a bigger quota on the same database): the clip follows and
    // the words go away.
    server.restart(Default::default());
    link.sync_soon();
    let deadline = Instant::now() + Duration::from_secs(30);
    while server.store.clip(&project, &clip.hash).unwrap().is_none()
        || h.query_by_label_contains("Clips wait on the server")
            .is_some()
    {
        assert!(Instant::now() < deadline, "the clip never followed");
        h.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(server.store.clip_usage(&project).unwrap(), clip.bytes);
    drop(server);
}

/// Audio the audio thread could not hand to the clips (the worker fell far behind) is said in
/// the header while clips are on, not kept quiet.
#[test]
fn audio_lost_to_a_busy_computer_is_said_in_the_header() {
    let rig = rig();
    let link = rig.registration.link();
    // The smallest tap there is, filled far faster than any worker drains it.
    let (mut tap, reader) = liner_notes::tap::tap_holding(48_000.0, 2, 0.05, 0);
    link.set_tap(reader);
    let mut h = rig.harness();
    h.step();
    assert!(h.query_by_label_contains("could not be kept").is_none());
    let (mut left, mut right) = (vec![0.1f32; 64], vec![-0.1f32; 64]);
    let mut frame = 0;
    // Clips off: nothing is said, whatever the tap counts.
    for _ in 0..2_000 {
        tap.write(frame, &[&mut left[..], &mut right[..]]);
        frame += 64;
    }
    h.step();
    assert!(h.query_by_label_contains("could not be kept").is_none());
    link.set_clip_audio(true);
    for _ in 0..2_000 {
        tap.write(frame, &[&mut left[..], &mut right[..]]);
        frame += 64;
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while h.query_by_label_contains("could not be kept").is_none() {
        assert!(Instant::now() < deadline, "the loss was never said");
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(link.clip_audio_lost().unwrap() > 0.5);
}

/// *Print* in the header arms this instance; the audio thread (played here by the test, with
/// the real print state and tap) starts printing at the next transport start, the header says
/// which instance prints its song, with the elapsed time and the level; *Stop printing* ends
/// it, and the header shows what the version became.
#[test]
fn print_arms_printing_and_the_header_shows_the_print_and_its_result() {
    use liner_notes::print::{Phase, PrintState};
    let rig = rig();
    let link = rig.registration.link();
    let (mut tap, reader) = liner_notes::tap::tap(48_000.0, 2);
    link.set_tap(reader);
    let print = link.print();
    let mut h = rig.harness();
    h.step();
    assert!(h.query_by_label_contains("Printing").is_none());
    h.get_by_label("Print").click();
    h.step();
    h.step();
    assert!(print.armed_in_editor(), "Print arms the instance");
    h.get_by_label_contains("Armed: Lead vox prints Night Drive from the next transport start");

    // The audio thread: stopped, then playing a quarter-scale square wave.
    let mut state = PrintState::default();
    let (mut left, mut right) = (vec![0.25f32; 480], vec![-0.25f32; 480]);
    let mut t = Transport::new(48_000.0);
    t.tempo = Some(120.0);
    let mut frame = 0u64;
    let mut block = |state: &mut PrintState, t: &Transport, frame: &mut u64| {
        if state.block(t, *frame, false, &print, || false, &mut tap) {
            tap.write(*frame, &[&mut left[..], &mut right[..]]);
        }
        *frame += 480;
    };
    block(&mut state, &t, &mut frame);
    assert_eq!(print.phase(), Phase::Armed);
    t.playing = true;
    // Two seconds, paced for the worker.
    for _ in 0..200 {
        t.pos_seconds = Some((frame - 480) as f64 / 48_000.0);
        block(&mut state, &t, &mut frame);
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(print.phase(), Phase::Printing);
    let deadline = Instant::now() + Duration::from_secs(10);
    while h
        .query_by_label_contains("Printing Night Drive on Lead vox: 0:02.0 · peak -12.0 dBFS")
        .is_none()
    {
        assert!(
            Instant::now() < deadline,
            "the print's progress was never shown"
        );
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    h.get_by_label("Stop printing").click();
    h.step();
    assert!(!print.armed_in_editor());
    block(&mut state, &t, &mut frame);
    assert_eq!(print.phase(), Phase::Idle, "stopped and disarmed");
    let deadline = Instant::now() + Duration::from_secs(20);
    while h.query_by_label_contains("Printed v1 · 0:02.0").is_none() {
        assert!(
            Instant::now() < deadline,
            "the printed version was never shown"
        );
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    h.get_by_label_contains("dBTP · clean");
    assert!(h.query_by_label("Print").is_some(), "ready to print again");
    let versions: Vec<_> = rig
        .events()
        .into_iter()
        .filter(|e| matches!(e.body, Body::VersionPrinted(_)))
        .collect();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut versions = versions;
    while versions.is_empty() {
        assert!(
            Instant::now() < deadline,
            "no version_printed in the journal"
        );
        std::thread::sleep(Duration::from_millis(20));
        versions = rig
            .events()
            .into_iter()
            .filter(|e| matches!(e.body, Body::VersionPrinted(_)))
            .collect();
    }
    assert_eq!(versions[0].song, "Night Drive");
}

#[test]
fn a_comment_made_on_a_versions_waveform_says_which_version_it_was_heard_on() {
    let rig = rig();
    let printed: liner_record::versions::VersionPrinted =
        serde_json::from_value(serde_json::json!({
            "label": "v3",
            "version": {"hash": "c".repeat(64), "format": "flac", "sample_rate": 48000,
                        "channels": 2, "frames": 480000, "bytes": 1000},
            "start": {"seconds": 0.0},
        }))
        .unwrap();
    let version = Event::new(
        &rig.ctx("Sam", Role::Producer),
        None,
        Body::VersionPrinted(printed),
    );
    let mut comment = note_event(
        &rig.ctx("Eve", Role::Executive),
        "the drop needs more sub",
        Category::Mix,
    );
    if let Body::NoteAdded(n) = &mut comment.body {
        n.version = Some(version.id);
    }
    rig.journal().append(&[version, comment]).unwrap();
    let mut h = rig.harness();
    step_until(&mut h, "the comment", |app| app.rows().rows.len() == 1);
    h.step();
    h.get_by_label("the drop needs more sub").click();
    h.step();
    h.step();
    assert!(
        h.query_by_label_contains("Mix · Eve · Lead vox").is_some(),
        "the detail shows"
    );
    assert!(
        h.query_by_label_contains("· on v3").is_some(),
        "and the version it was made on"
    );
}

#[test]
fn a_changes_request_is_answered_with_done_and_a_thread_with_replies() {
    let rig = rig();
    let sam = rig.ctx("Sam", Role::Producer);
    let exec = rig.ctx("Jo", Role::Executive);
    let note = note_event(&sam, "double the chorus vocal", Category::Vocal);
    let asked = Event::new(
        &exec,
        None,
        Body::Verdict {
            target: note.id,
            verdict: Verdict::ChangesRequested,
            comment: "try it an octave up".into(),
        },
    );
    let question = Event::new(
        &exec,
        None,
        Body::ReplyAdded(liner_record::event::ReplyAdded {
            target: note.id,
            text: "which take is it on?".into(),
        }),
    );
    rig.journal()
        .append(&[note.clone(), asked.clone(), question])
        .unwrap();
    let mut h = rig.harness();
    step_until(&mut h, "the note", |app| app.rows().rows.len() == 1);
    h.step();
    h.get_by_label("double the chorus vocal").click();
    h.step();
    h.step();
    assert!(
        h.query_by_label("which take is it on?").is_some(),
        "the thread shows under the note"
    );
    assert!(
        h.query_by_label("Edit reply").is_none(),
        "someone else's reply is not mine to edit"
    );

    // Answer in the thread.
    h.get_by_label("Reply").focus();
    h.step();
    h.get_by_label("Reply").type_text("take 3");
    h.step();
    h.get_by_label("Send reply").click();
    h.step();
    step_until(&mut h, "the reply", |app| {
        app.record().views.replies.get(&note.id).map(Vec::len) == Some(2)
    });

    // Done: the note goes back for a re-check, and the filter finds it there.
    h.step();
    h.get_by_label("What you changed").focus();
    h.step();
    h.get_by_label("What you changed")
        .type_text("sung up an octave");
    h.step();
    h.get_by_label("Done, please re-check").click();
    h.step();
    step_until(&mut h, "the done", |app| {
        app.record().views.notes[0]
            .verdict
            .as_ref()
            .is_some_and(|v| v.done.is_some())
    });
    h.step();
    h.step();
    assert!(h.query_by_label("Done by Sam: sung up an octave").is_some());
    assert!(
        h.query_by_label("Done, please re-check").is_none(),
        "said once"
    );
    h.state_mut().filter.verdict =
        liner_notes::editor::list::VerdictFilter::Is(liner_record::review::Standing::Recheck);
    h.step();
    h.step();
    assert_eq!(h.state().rows().rows.len(), 1, "a re-check");
    h.state_mut().filter.verdict = liner_notes::editor::list::VerdictFilter::Is(
        liner_record::review::Standing::Decided(Verdict::ChangesRequested),
    );
    h.step();
    h.step();
    assert_eq!(
        h.state().rows().rows.len(),
        0,
        "no longer only changes requested"
    );

    let events = rig.events();
    let done = events
        .iter()
        .find_map(|e| match &e.body {
            Body::MarkedDone(d) => Some((e, d)),
            _ => None,
        })
        .expect("a done in the journal");
    assert_eq!(
        (done.1.target, done.1.answers, done.1.comment.as_str()),
        (note.id, asked.id, "sung up an octave")
    );
    assert_eq!(
        (done.0.author.as_str(), done.0.song.as_str()),
        ("Sam", "Night Drive")
    );

    // My own reply can be edited.
    h.state_mut().filter = Default::default();
    h.step();
    h.step();
    h.get_by_label("Edit reply").click();
    h.step();
    h.step();
    h.get_by_label("Edit reply").focus();
    h.step();
    h.get_by_label("Edit reply").type_text(", bar 12");
    h.step();
    h.get_by_label("Save reply").click();
    h.step();
    step_until(&mut h, "the edit", |app| {
        app.record().views.replies[&note.id]
            .iter()
            .any(|r| r.text == "take 3, bar 12")
    });
}

/// A note of `ctx` anchored at `seconds` (a range to `until`, when given).
fn note_at(ctx: &Context, text: &str, seconds: f64, until: Option<f64>) -> Event {
    let at = |s: f64| liner_record::DawPos {
        seconds: Some(s),
        ..Default::default()
    };
    Event::new(
        ctx,
        None,
        Body::NoteAdded(NoteAdded {
            text: text.into(),
            category: Category::Mix,
            anchor: Some(match until {
                Some(u) => Anchor::Range {
                    from: at(seconds),
                    to: at(u),
                },
                None => Anchor::Point { at: at(seconds) },
            }),
            take: None,
            private: false,
            version: None,
            guest: None,
        }),
    )
}

#[test]
fn the_row_at_the_playhead_lights_up_as_it_plays_and_a_note_pops_up_when_asked() {
    let rig = rig();
    let sam = rig.ctx("Sam", Role::Producer);
    rig.journal()
        .append(&[
            note_at(&sam, "kick is late here", 10.0, None),
            note_at(&sam, "the whole bridge drags", 20.0, Some(28.0)),
            note_at(&sam, "cymbal swell", 40.0, None),
        ])
        .unwrap();
    let mut h = rig.harness();
    step_until(&mut h, "the notes", |app| app.rows().rows.len() == 3);
    let lit = |h: &Harness<'_, EditorApp>| h.query_all_by_label("now").count();

    rig.daw_at(10.5, false, false, 1);
    h.step();
    h.step();
    assert_eq!(lit(&h), 0, "nothing lights while stopped");

    rig.daw_at(10.5, true, false, 2);
    h.step();
    h.step();
    assert_eq!(lit(&h), 1, "the kick note, just reached");
    rig.daw_at(12.5, true, false, 3);
    h.step();
    h.step();
    assert_eq!(lit(&h), 0, "a point stays lit for a moment only");
    rig.daw_at(24.0, true, false, 4);
    h.step();
    h.step();
    assert_eq!(lit(&h), 1, "inside the bridge's range");
    assert!(
        h.query_by_label_contains("the whole bridge drags")
            .is_some(),
        "and in sight"
    );
    assert!(
        h.query_by_label_contains("· Sam: the whole bridge drags")
            .is_none(),
        "no pop-up unless asked"
    );

    // Pop-ups, per instance: the next note reached shows with its words.
    h.get_by_label("Pop-up notes").click();
    h.step();
    assert!(rig.state.read().pop_up_notes, "saved with the instance");
    rig.daw_at(40.1, true, false, 5);
    h.step();
    h.step();
    assert!(
        h.query_by_label_contains("Sam: cymbal swell").is_some(),
        "the note popped up"
    );
    h.get_by_label("Close").click();
    h.step();
    h.step();
    assert!(h.query_by_label_contains("Sam: cymbal swell").is_none());
}

#[test]
fn a_new_verdict_or_reply_on_my_note_shows_as_a_notice_with_its_words() {
    let rig = rig();
    let sam = rig.ctx("Sam", Role::Producer);
    let jo = rig.ctx("Jo", Role::Executive);
    let mine = note_event(&sam, "snare too loud", Category::Mix);
    let theirs = note_event(
        &rig.ctx("Kim", Role::Engineer),
        "hat is fine",
        Category::Mix,
    );
    let old = Event::new(
        &jo,
        None,
        Body::Verdict {
            target: mine.id,
            verdict: Verdict::Approved,
            comment: String::new(),
        },
    );
    rig.journal()
        .append(&[mine.clone(), theirs.clone(), old])
        .unwrap();
    let mut h = rig.harness();
    step_until(&mut h, "the notes", |app| app.rows().rows.len() == 2);
    h.step();
    assert!(
        h.query_by_label_contains("Jo (executive) approved")
            .is_none(),
        "what was there before, and on someone else's note, is no news to me"
    );

    // Arrivals, as a pull writes them: on my note, and on someone else's.
    let verdict = Event::new(
        &jo,
        None,
        Body::Verdict {
            target: mine.id,
            verdict: Verdict::ChangesRequested,
            comment: "ride it down".into(),
        },
    );
    let elsewhere = Event::new(
        &jo,
        None,
        Body::ReplyAdded(liner_record::event::ReplyAdded {
            target: theirs.id,
            text: "not for Sam".into(),
        }),
    );
    rig.journal().append(&[verdict, elsewhere]).unwrap();
    let words = "Jo (executive) asked for changes on Sam's note “snare too loud” (Night Drive): ride it down";
    let deadline = Instant::now() + Duration::from_secs(10);
    while h.query_by_label(words).is_none() {
        assert!(Instant::now() < deadline, "no notice of the verdict");
        h.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        h.query_by_label_contains("not for Sam").is_none(),
        "a reply to someone else's note is theirs"
    );

    // The client in the room: no notice shows.
    h.state_mut().client_in_room = true;
    h.step();
    h.step();
    assert!(h.query_by_label(words).is_none());
    h.state_mut().client_in_room = false;
    h.step();
    h.step();
    h.get_by_label("Dismiss").click();
    h.step();
    h.step();
    assert!(h.query_by_label(words).is_none(), "dismissed");
}

/// The editor's verdict filter counts what the exported log's summary counts, standing by
/// standing, for the same record (one rule: `liner_record::review`).
#[test]
fn the_editors_filters_count_as_the_log_does() {
    use liner_notes::editor::list::VerdictFilter;
    use liner_record::review::{Standing, Tally};
    let rig = rig();
    let sam = rig.ctx("Sam", Role::Producer);
    let jo = rig.ctx("Jo", Role::Executive);
    let notes: Vec<Event> = (0..5)
        .map(|i| note_event(&sam, &format!("note {i}"), Category::Mix))
        .collect();
    let verdict = |n: &Event, v: Verdict| {
        Event::new(
            &jo,
            None,
            Body::Verdict {
                target: n.id,
                verdict: v,
                comment: String::new(),
            },
        )
    };
    let asked = verdict(&notes[3], Verdict::ChangesRequested);
    let mut events = notes.clone();
    events.extend([
        verdict(&notes[0], Verdict::Approved),
        verdict(&notes[1], Verdict::Rejected),
        verdict(&notes[2], Verdict::ChangesRequested),
        asked.clone(),
        Event::new(
            &sam,
            None,
            Body::MarkedDone(liner_record::event::MarkedDone {
                target: notes[3].id,
                answers: asked.id,
                version: None,
                comment: String::new(),
            }),
        ),
    ]);
    rig.journal().append(&events).unwrap();
    let views = liner_record::fold(&events);
    let listed = liner_record::export::entries(&events, &views, &Default::default());
    let tally = Tally::of(listed.iter().map(|e| e.standing()));
    assert_eq!(
        (
            tally.open,
            tally.approved,
            tally.rejected,
            tally.changes,
            tally.recheck
        ),
        (1, 1, 1, 1, 1)
    );

    let mut h = rig.harness();
    step_until(&mut h, "the notes", |app| app.rows().rows.len() == 5);
    for (standing, want) in [
        (Standing::Open, tally.open),
        (Standing::Decided(Verdict::Approved), tally.approved),
        (Standing::Decided(Verdict::Rejected), tally.rejected),
        (Standing::Decided(Verdict::ChangesRequested), tally.changes),
        (Standing::Recheck, tally.recheck),
    ] {
        h.state_mut().filter.verdict = VerdictFilter::Is(standing);
        h.step();
        h.step();
        assert_eq!(h.state().rows().rows.len(), want, "{}", standing.words());
    }
}

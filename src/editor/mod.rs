//! The editor (egui): capture notes at the playhead, rate takes, record EQ/FX decisions,
//! read verdicts and the sync status, export the decision log.
//!
//! Threads: everything here runs on the GUI thread and never waits for the audio thread, the
//! disk or the network. The playhead is a lock-free snapshot; the record is a folded snapshot
//! the worker publishes ([`crate::record_view`]); new events go to the worker with
//! [`Link::submit`]; exports, saving settings and "test connection" run as [`chores`].
//! Repaints happen when the worker says the record or the sync status changed, when input
//! arrives, and about 20 times a second while the transport plays.
//!
//! Layout: [`draft`] (the note being typed), [`list`] (filtered rows), [`decision`] (the
//! EQ/FX form), [`settings_form`], [`chores`]; the panels are drawn in [`ui`].

pub mod chores;
pub mod decision;
pub mod draft;
pub mod list;
pub mod outbox;
pub mod settings_form;
mod ui;
pub mod window;

use crate::playhead::{Playhead, PlayheadSubscription, SharedPlayhead};
use crate::record_view::RecordSnapshot;
use crate::worker::{Link, RecordWatch, Repaint};
use chores::Chore;
use decision::DecisionForm;
use draft::Draft;
use liner_record::event::{Body, TakeRef};
use liner_record::export::Format;
use liner_record::Event;
use list::{Filter, RowKind, Rows};
use nice_plug::prelude::TrackInfo;

use parking_lot::RwLock;
use settings_form::SettingsForm;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use uuid::Uuid;

/// Default window size (logical points), and the smallest the window may get.
pub const DEFAULT_SIZE: (u32, u32) = (820, 560);
pub const MIN_SIZE: (f32, f32) = (560.0, 380.0);

/// The editor's pages below the capture bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Notes,
    Takes,
    Decision,
    /// What waits to be sent (refused, from a project file, under another name).
    NotSent,
    Settings,
}

/// The track's name and RGB colour as the host reports them.
type HostTrack = (String, Option<(u8, u8, u8)>);

/// An edit of one of your own notes (or the name of a mark), being typed.
#[derive(Debug, Clone, PartialEq)]
pub struct EditBuffer {
    pub target: Uuid,
    pub kind: RowKind,
    pub text: String,
    pub category: liner_record::event::Category,
}

/// The whole editor: state that lives while the plugin instance lives (drafts survive closing
/// the window), plus subscriptions held only while the window is open.
pub struct EditorApp {
    link: Link,
    playhead: Arc<SharedPlayhead>,
    repaint: Repaint,
    /// Held while the window is open: the audio thread publishes the playhead and the worker
    /// follows the record only then.
    watching: Option<(PlayheadSubscription, RecordWatch)>,
    /// The track's name and colour as the host reports them.
    host_track: Option<HostTrack>,
    /// Persisted window size (logical points), saved with the DAW project.
    size: Arc<RwLock<(u32, u32)>>,

    pub draft: Draft,
    pub decision: DecisionForm,
    decision_problems: Vec<String>,
    pub filter: Filter,
    rows: Rows,
    pub tab: Tab,
    /// The settings form while the settings page is open, and its last outcome.
    settings: Option<SettingsForm>,
    settings_message: Option<Result<String, String>>,
    test_chore: Option<Chore<Result<String, String>>>,
    save_chore: Option<Chore<Result<(), String>>>,
    /// Settings saved in the form, applied when their files are written.
    pending_settings: Option<liner_record::settings::Settings>,
    /// The songs of the record, per snapshot version (for the header's song menu).
    songs: (u64, std::collections::BTreeSet<String>),
    /// "Client in the room": hides every note at once.
    pub client_in_room: bool,
    /// Events handed to the worker that are not in the journal yet (shown as unsaved).
    unsaved: Vec<Event>,
    selected: Option<(RowKind, Uuid)>,
    edit: Option<EditBuffer>,
    confirm_delete: Option<Uuid>,
    take_notes: HashMap<TakeRef, String>,
    export_format: Format,
    export_private: bool,
    export_chore: Option<Chore<Result<PathBuf, String>>>,
    export_message: Option<Result<String, String>>,
    /// An answer to what waits to be sent (send as me, fix, drop), being written.
    outbox_chore: Option<Chore<Result<String, String>>>,
    outbox_message: Option<Result<String, String>>,
    /// A refused note being corrected: its id and the new text.
    fixing: Option<(Uuid, String)>,
    /// Put the keyboard in the correction field next frame (it just opened).
    focus_fix: bool,
    /// Ask for keyboard focus on the note field next frame.
    focus_capture: bool,
    /// This frame's view of the world, read once at the start of the frame.
    ph: Playhead,
    snap: Arc<RecordSnapshot>,
    empty: Arc<RecordSnapshot>,
}

impl EditorApp {
    pub fn new(
        link: Link,
        playhead: Arc<SharedPlayhead>,
        size: Arc<RwLock<(u32, u32)>>,
        repaint: Repaint,
    ) -> Self {
        let empty = Arc::new(RecordSnapshot::default());
        EditorApp {
            link,
            playhead,
            repaint,
            watching: None,
            host_track: None,
            size,
            draft: Draft::default(),
            decision: DecisionForm::default(),
            decision_problems: Vec::new(),
            filter: Filter::default(),
            rows: Rows::default(),
            tab: Tab::Notes,
            settings: None,
            settings_message: None,
            test_chore: None,
            save_chore: None,
            pending_settings: None,
            songs: (u64::MAX, Default::default()),
            client_in_room: false,
            unsaved: Vec::new(),
            selected: None,
            edit: None,
            confirm_delete: None,
            take_notes: HashMap::new(),
            export_format: Format::Markdown,
            export_private: false,
            export_chore: None,
            export_message: None,
            outbox_chore: None,
            outbox_message: None,
            fixing: None,
            focus_fix: false,
            focus_capture: true,
            ph: Playhead::default(),
            snap: empty.clone(),
            empty,
        }
    }

    /// The window opened: start the playhead and the record flowing.
    pub fn open(&mut self) {
        if self.watching.is_none() {
            self.watching = Some((
                self.playhead.subscribe(),
                self.link.watch(self.repaint.clone()),
            ));
            self.focus_capture = true;
        }
    }

    /// The window closed: stop both (a closed editor costs nothing).
    pub fn close(&mut self) {
        self.watching = None;
    }

    pub fn is_open(&self) -> bool {
        self.watching.is_some()
    }

    /// The host renamed or recoloured the track. A track name typed by hand is replaced only
    /// if it was the host's previous name (or empty).
    pub fn set_host_track(&mut self, name: &str, color: Option<(u8, u8, u8)>) {
        let name = name.trim().to_owned();
        let previous = self.host_track.as_ref().map(|(n, _)| n.clone());
        if !name.is_empty() {
            let mut st = self.link.state().write();
            let t = &mut st.settings.track;
            if t.is_empty() || Some(&*t) == previous.as_ref() {
                *t = name.clone();
            }
        }
        self.host_track = Some((name, color));
    }

    /// Events submitted by this editor that are not yet durable in the journal.
    pub fn unsaved(&self) -> &[Event] {
        &self.unsaved
    }

    /// The record as of this frame.
    pub fn record(&self) -> &RecordSnapshot {
        &self.snap
    }

    /// The songs the record mentions, recomputed only when the record changes.
    fn songs(&mut self) -> &std::collections::BTreeSet<String> {
        if self.songs.0 != self.snap.version {
            self.songs = (self.snap.version, self.snap.views.songs());
        }
        &self.songs.1
    }

    /// Rows of the notes list as of this frame.
    pub fn rows(&self) -> &list::Rows {
        &self.rows
    }

    fn submit(&mut self, event: Event) {
        self.submit_at(event, None);
    }

    /// Submits an event with a moment in the audio (its clip is cut if clips are on).
    fn submit_at(&mut self, event: Event, moment: Option<crate::worker::clips::Moment>) {
        self.unsaved.push(event.clone());
        self.link.submit_with_moment(event, moment);
    }

    fn context(&self) -> liner_record::Context {
        self.link
            .state()
            .read()
            .context(crate::worker::session_id())
    }

    fn instance(&self) -> Uuid {
        self.link.state().read().instance
    }

    /// The take being recorded by this instance right now, if any.
    fn current_take(&self) -> Option<TakeRef> {
        if !self.ph.pos.recording {
            return None;
        }
        let me = self.instance();
        self.snap
            .views
            .takes
            .iter()
            .filter(|t| t.take.instance == me && t.end.is_none() && t.id.is_some())
            .max_by_key(|t| t.take.number)
            .map(|t| t.take)
    }

    /// Saves the draft as a note (Enter).
    pub fn save_draft(&mut self) -> bool {
        let ctx = self.context();
        match self.draft.to_event(&ctx, &self.ph) {
            Some(e) => {
                let moment = self.draft.moment(&self.ph);
                self.submit_at(e, moment);
                self.draft.clear();
                self.focus_capture = true;
                true
            }
            None => false,
        }
    }

    /// Saves the EQ/FX form as a decision at the playhead.
    pub fn save_decision(&mut self) -> bool {
        match self.decision.to_body() {
            Ok(body) => {
                let here = draft::playhead_position(&self.ph);
                let pos = here.map(|p| crate::state::daw_pos(&p));
                let e = Event::new(&self.context(), pos, body);
                let moment = here.map(|_| crate::worker::clips::Moment {
                    frame: self.ph.frame,
                    until: None,
                });
                self.submit_at(e, moment);
                self.decision.clear();
                self.decision_problems.clear();
                true
            }
            Err(problems) => {
                self.decision_problems = problems;
                false
            }
        }
    }

    /// Rates a take (or changes its stars or note).
    pub fn rate_take(
        &mut self,
        take: TakeRef,
        rating: liner_record::event::Rating,
        stars: Option<u8>,
        note: Option<String>,
    ) {
        let e = Event::new(
            &self.context(),
            None,
            Body::TakeRated {
                take,
                rating,
                stars,
                note,
            },
        );
        self.submit(e);
    }

    /// Reads what this frame needs: the playhead, the record, finished chores.
    fn begin_frame(&mut self) {
        self.open();
        self.ph = self.playhead.read();
        self.snap = self.link.record().unwrap_or_else(|| self.empty.clone());
        // Saved ones (their own write returned) leave the list.
        let saved = self.link.take_saved();
        if !saved.is_empty() {
            self.unsaved.retain(|e| !saved.contains(&e.id));
        }
        if let Some(r) = self.export_chore.as_ref().and_then(Chore::take) {
            self.export_chore = None;
            self.export_message = Some(r.map(|p| format!("Exported to {}", p.display())));
        }
        if let Some(r) = self.outbox_chore.as_ref().and_then(Chore::take) {
            self.outbox_chore = None;
            if r.is_ok() {
                self.fixing = None;
            }
            self.outbox_message = Some(r);
            self.link.sync_soon();
        }
        if let Some(r) = self.test_chore.as_ref().and_then(Chore::take) {
            self.test_chore = None;
            self.settings_message = Some(r);
        }
        if let Some(r) = self.save_chore.as_ref().and_then(Chore::take) {
            self.save_chore = None;
            let new = self.pending_settings.take();
            self.settings_message = Some(match (r, new) {
                (Ok(()), Some(new)) => {
                    self.link.state().write().settings = new;
                    Ok("Saved".into())
                }
                (Ok(()), None) => Ok("Saved".into()),
                (Err(e), _) => Err(format!("Not saved: {e}")),
            });
        }
    }

    /// Draws one frame. This is the real editor: the plugin window, the tests and the bench
    /// all call it.
    pub fn show(&mut self, ui: &mut egui::Ui) {
        self.begin_frame();
        ui::frame(self, ui);
        if self.ph.pos.playing {
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_millis(50));
        }
        if !self.unsaved.is_empty() {
            // The worker wakes us when the journal grows; this covers a write that failed.
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_millis(250));
        }
    }

    fn project(&self) -> String {
        self.link.state().read().settings.project.clone()
    }

    /// Sends what waits for agreement as the token's person (the "Not sent" page).
    pub fn send_waiting_as_me(&mut self, me: liner_record::outbox::Identity) {
        self.outbox_message = None;
        let url = self.link.state().read().settings.server_url.clone();
        self.outbox_chore = Some(outbox::send_as(
            self.project(),
            url,
            me,
            self.repaint.clone(),
        ));
    }

    /// Drops a waiting event for good.
    pub fn drop_waiting(&mut self, id: Uuid) {
        self.outbox_message = None;
        self.outbox_chore = Some(outbox::drop_event(self.project(), id, self.repaint.clone()));
    }

    /// Sends the corrected text of a refused note being fixed.
    pub fn fix_waiting(&mut self, original: Event) {
        let Some((_, text)) = self.fixing.clone() else {
            return;
        };
        self.outbox_message = None;
        self.outbox_chore = Some(outbox::fix_note(
            self.project(),
            original,
            text,
            self.repaint.clone(),
        ));
    }

    /// Starts writing the decision log of the current song in the chosen format.
    fn start_export(&mut self) {
        let (project, song) = {
            let st = self.link.state().read();
            (st.settings.project.clone(), st.settings.song.clone())
        };
        let format = self.export_format;
        let include_private = self.export_private;
        self.export_message = None;
        self.export_chore = Some(Chore::spawn("export", self.repaint.clone(), move || {
            export_song(&project, &song, format, include_private)
        }));
    }
}

/// Writes one song's decision log from the project's journal into the export folder.
pub fn export_song(
    project: &str,
    song: &str,
    format: Format,
    include_private: bool,
) -> Result<PathBuf, String> {
    use liner_record::export::{export, Scope};
    let journal = liner_record::Journal::open_project(project).map_err(|e| e.to_string())?;
    let read = journal.read().map_err(|e| e.to_string())?;
    let events: Vec<Event> = read.events.into_iter().map(|s| s.event).collect();
    let scope = Scope {
        song: Some(song.to_owned()),
        include_private,
        ..Scope::default()
    };
    let out = export(&events, &scope, format);
    let dir = chores::export_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let safe: String = song
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == ' ' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let day = liner_record::export::date(liner_record::event::now_ms());
    let path = dir.join(format!(
        "{} decision log {day}.{}",
        safe.trim(),
        format.extension()
    ));
    std::fs::write(&path, &out.bytes)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}

/// The nice-plug-egui side: the window opens and closes, the host reports the track. The app
/// is shared so that the window can be rebuilt (see [`window`]) without losing the draft.
pub struct PluginEditor {
    pub app: Arc<parking_lot::Mutex<EditorApp>>,
}

impl nice_plug_egui::NiceEguiApp for PluginEditor {
    fn build(
        &mut self,
        egui_ctx: egui::Context,
        _gui: nice_plug::context::gui::GuiContext,
        _frame: &mut nice_plug_egui::Frame,
    ) -> Result<(), nice_plug_egui::baseview::HandlerError> {
        // The first frame opens the app's subscriptions (`EditorApp::show`).
        ui::style(&egui_ctx);
        Ok(())
    }

    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut nice_plug_egui::Frame) {
        self.app.lock().show(ui);
        // Keys go to the host unless a text field is being typed in: the DAW's own
        // shortcuts (space for play) keep working while the window has focus.
        let capture = if ui.ctx().egui_wants_keyboard_input() {
            nice_plug_egui::KeyCapture::CaptureAll
        } else {
            nice_plug_egui::KeyCapture::IgnoreAll
        };
        frame.set_key_capture(capture);
    }

    fn resized(&mut self, new_size: nice_plug_egui::baseview::WindowSize) {
        let l = new_size.logical;
        *self.app.lock().size.write() = (l.width.round() as u32, l.height.round() as u32);
    }

    fn editor_closed(&mut self) {
        self.app.lock().close();
    }

    fn track_info_changed(&mut self, info: TrackInfo) {
        let color = info.color().map(|c| {
            let (r, g, b, _) = c.rgba();
            (r, g, b)
        });
        self.app.lock().set_host_track(info.name(), color);
    }
}

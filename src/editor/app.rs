//! The editor's state ([`EditorApp`]) and its actions: every change to the record (notes,
//! decisions, ratings, mark names, edits, deletions) or to the instance's settings goes
//! through a named method here; the panels in `ui/` only draw and call them.

use super::chores::Chore;
use super::decision::DecisionForm;
use super::draft::{self, Draft};
use super::list::{self, Filter, RowKind, Rows};
use super::settings_form::SettingsForm;
use super::{export_song, outbox, DoneForm, EditBuffer, Tab};
use crate::playhead::{Playhead, PlayheadSubscription, SharedPlayhead};
use crate::record_view::RecordSnapshot;
use crate::worker::{Link, RecordWatch, Repaint};
use liner_record::event::{Body, TakeRef};
use liner_record::export::Format;
use liner_record::Event;
use parking_lot::RwLock;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use uuid::Uuid;

/// The track's name and RGB colour as the host reports them.
use crate::reaper::HostTrack;

/// The whole editor: state that lives while the plugin instance lives (drafts survive closing
/// the window), plus subscriptions held only while the window is open.
pub struct EditorApp {
    pub(super) link: Link,
    pub(super) playhead: Arc<SharedPlayhead>,
    pub(super) repaint: Repaint,
    /// Held while the window is open: the audio thread publishes the playhead and the worker
    /// follows the record only then.
    pub(super) watching: Option<(PlayheadSubscription, RecordWatch)>,
    /// The track's name and colour as the host reports them.
    pub(super) host_track: Option<HostTrack>,
    /// Whether the plugin framework reports them (CLAP's track-info extension, VST3's
    /// channel context); if not, REAPER's API may.
    pub(super) track_info_from_host: bool,
    /// REAPER's API, when the host is REAPER: *Go there* and the markers switch show.
    pub(super) reaper: Option<crate::reaper::Handle>,
    /// Persisted window size (logical points), saved with the DAW project.
    pub(super) size: Arc<RwLock<(u32, u32)>>,

    pub draft: Draft,
    pub decision: DecisionForm,
    pub(super) decision_problems: Vec<String>,
    pub filter: Filter,
    pub(super) rows: Rows,
    pub tab: Tab,
    /// The settings form while the settings page is open, and its last outcome.
    pub(super) settings: Option<SettingsForm>,
    pub(super) settings_message: Option<Result<String, String>>,
    pub(super) test_chore: Option<Chore<Result<String, String>>>,
    pub(super) save_chore: Option<Chore<Result<(), String>>>,
    /// Settings saved in the form, applied when their files are written.
    pub(super) pending_settings: Option<liner_record::settings::Settings>,
    /// The songs of the record, per snapshot version (for the header's song menu).
    pub(super) songs: (u64, std::collections::BTreeSet<String>),
    /// "Client in the room": hides every note at once.
    pub client_in_room: bool,
    /// Events handed to the worker that are not in the journal yet (shown as unsaved).
    pub(super) unsaved: Vec<Event>,
    pub(super) selected: Option<(RowKind, Uuid)>,
    pub(super) edit: Option<EditBuffer>,
    pub(super) confirm_delete: Option<Uuid>,
    /// Verdicts, replies and dones on your things, shown briefly.
    pub(super) notices: super::notices::Notices,
    /// The rows the playhead is at, and the note popped up.
    pub(super) follow: super::follow::Follow,
    /// The reply being typed, to the selected row (by its event id).
    pub(super) reply: Option<(Uuid, String)>,
    /// The edit being typed of one of your own replies (by its id).
    pub(super) reply_edit: Option<(Uuid, String)>,
    /// The done being said on a row whose changes were requested: what changed, in which
    /// version.
    pub(super) done: Option<DoneForm>,
    pub(super) take_notes: HashMap<TakeRef, String>,
    pub(super) export_format: Format,
    pub(super) export_private: bool,
    pub(super) export_chore: Option<Chore<Result<PathBuf, String>>>,
    pub(super) export_message: Option<Result<String, String>>,
    /// An answer to what waits to be sent (send as me, fix, drop), being written.
    pub(super) outbox_chore: Option<Chore<Result<String, String>>>,
    pub(super) outbox_message: Option<Result<String, String>>,
    /// A refused note being corrected: its id and the new text.
    pub(super) fixing: Option<(Uuid, String)>,
    /// Put the keyboard in the correction field next frame (it just opened).
    pub(super) focus_fix: bool,
    /// Ask for keyboard focus on the note field next frame.
    pub(super) focus_capture: bool,
    /// This frame's view of the world, read once at the start of the frame.
    pub(super) ph: Playhead,
    pub(super) snap: Arc<RecordSnapshot>,
    pub(super) empty: Arc<RecordSnapshot>,
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
            track_info_from_host: false,
            reaper: None,
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
            follow: Default::default(),
            notices: Default::default(),
            reply: None,
            reply_edit: None,
            done: None,
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

    /// The host is REAPER: rows offer *Go there*, the header the markers switch, and the
    /// track's name and colour come from REAPER when the host reports none.
    pub fn set_reaper(&mut self, handle: crate::reaper::Handle) {
        self.reaper = Some(handle);
    }

    /// *Go there* on `span`, when the host can (the request waits for REAPER's main thread).
    pub fn go_there(&self, span: crate::reaper::Span) {
        if let Some(r) = self.reaper.as_ref().filter(|r| r.can_go_there()) {
            r.go_there(span);
        }
    }

    /// Shows this song's notes as REAPER markers, or takes them off (per instance, saved).
    pub fn set_reaper_markers(&mut self, on: bool) {
        self.link.state().write().reaper_markers = on;
    }

    /// The plugin framework reported the track's name and colour (they win over REAPER's).
    pub fn set_track_info(&mut self, name: &str, color: Option<(u8, u8, u8)>) {
        self.track_info_from_host = true;
        self.set_host_track(name, color);
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
    pub(super) fn songs(&mut self) -> &std::collections::BTreeSet<String> {
        if self.songs.0 != self.snap.version {
            self.songs = (self.snap.version, self.snap.views.songs());
        }
        &self.songs.1
    }

    /// Rows of the notes list as of this frame.
    pub fn rows(&self) -> &list::Rows {
        &self.rows
    }

    pub(super) fn submit(&mut self, event: Event) {
        self.submit_at(event, None);
    }

    /// Submits an event with a moment in the audio (its clip is cut if clips are on).
    pub(super) fn submit_at(&mut self, event: Event, moment: Option<crate::worker::clips::Moment>) {
        self.unsaved.push(event.clone());
        self.link.submit_with_moment(event, moment);
    }

    pub(super) fn context(&self) -> liner_record::Context {
        self.link
            .state()
            .read()
            .context(crate::worker::session_id())
    }

    pub(super) fn instance(&self) -> Uuid {
        self.link.state().read().instance
    }

    /// The take being recorded by this instance right now, if any.
    pub(super) fn current_take(&self) -> Option<TakeRef> {
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
                let pos = here;
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

    /// Saves the name being typed for one of this instance's marks (the name is a new mark
    /// event with the same number, at the same place).
    pub fn name_mark(&mut self, mark: &liner_record::views::MarkView) {
        let Some(edit) = self.edit.take() else {
            return;
        };
        let label = edit.text.trim();
        let e = Event::new(
            &self.context(),
            mark.pos,
            Body::Mark {
                instance: mark.instance,
                number: mark.number,
                label: Some(label.to_owned()),
            },
        );
        self.submit(e);
    }

    /// Saves the edit being typed of one of your own notes: only what changed.
    pub fn edit_note(&mut self, note: &liner_record::views::NoteView) {
        let Some(edit) = self.edit.take() else {
            return;
        };
        let text = edit.text.trim();
        let body = Body::NoteEdited(liner_record::event::NoteEdited {
            note: note.id,
            text: (text != note.text).then(|| text.to_owned()),
            category: (edit.category != note.category).then_some(edit.category),
            anchor: None,
        });
        let e = Event::new(&self.context(), None, body);
        self.submit(e);
    }

    /// An event about `target` (a row of the record), in its song and track rather than this
    /// instance's: a reply or a done belongs where the thing it answers is.
    fn about(&self, song: &str, track: &str, body: Body) -> Event {
        let mut ctx = self.context();
        ctx.song = song.to_owned();
        ctx.track = track.to_owned();
        Event::new(&ctx, None, body)
    }

    /// Sends the reply being typed to `target` (in `song`, on `track`).
    pub fn send_reply(&mut self, target: Uuid, song: &str, track: &str) {
        let Some((to, text)) = self.reply.take() else {
            return;
        };
        let text = text.trim();
        if to != target || text.is_empty() {
            return;
        }
        let body = Body::ReplyAdded(liner_record::event::ReplyAdded {
            target,
            text: text.to_owned(),
        });
        let e = self.about(song, track, body);
        self.submit(e);
    }

    /// Saves the edit being typed of one of your own replies.
    pub fn save_reply_edit(&mut self, song: &str, track: &str) {
        let Some((reply, text)) = self.reply_edit.take() else {
            return;
        };
        let text = text.trim().to_owned();
        if !text.is_empty() {
            let e = self.about(song, track, Body::ReplyEdited { reply, text });
            self.submit(e);
        }
    }

    /// Deletes one of your own replies.
    pub fn delete_reply(&mut self, reply: Uuid, song: &str, track: &str) {
        let e = self.about(song, track, Body::ReplyDeleted { reply });
        self.submit(e);
        self.reply_edit = None;
    }

    /// Says *done* to the executive's request for changes `answers` on `target`, naming the
    /// version chosen in the form: the row goes back for a re-check.
    pub fn mark_done(&mut self, target: Uuid, answers: Uuid, song: &str, track: &str) {
        let Some(form) = self.done.take() else {
            return;
        };
        let body = Body::MarkedDone(liner_record::event::MarkedDone {
            target,
            answers,
            version: form.version,
            comment: form.comment.trim().to_owned(),
        });
        let e = self.about(song, track, body);
        self.submit(e);
    }

    /// Deletes one of your own notes (after "Really delete").
    pub fn delete_note(&mut self, note: Uuid) {
        let e = Event::new(&self.context(), None, Body::NoteDeleted { note });
        self.submit(e);
        self.selected = None;
        self.confirm_delete = None;
    }

    /// Switches this instance to another song of the record (or a new one).
    pub fn set_song(&mut self, song: String) {
        self.link.state().write().settings.song = song;
    }

    /// Names this instance's track by hand (when the host does not).
    pub fn set_track(&mut self, track: String) {
        self.link.state().write().settings.track = track;
    }

    /// "Clip audio with notes" on or off for this instance (saved with the project).
    /// Pops notes up as the playhead reaches them (saved with the project, per instance).
    pub fn set_pop_up_notes(&mut self, on: bool) {
        self.link.state().write().pop_up_notes = on;
    }

    pub fn set_clip_audio(&mut self, on: bool) {
        self.link.set_clip_audio(on);
    }

    /// *Print*: this instance prints a version of its song from the next transport start to
    /// its stop (or over the loop once).
    pub fn print(&mut self) {
        self.link.print().arm();
    }

    /// *Stop printing*: disarms, and ends a print in progress where the audio is now.
    pub fn stop_printing(&mut self) {
        self.link.print().stop();
    }

    /// How much of each clip comes before its moment and after, in seconds.
    pub fn set_clip_lengths(&mut self, before: f32, after: f32) {
        self.link.set_clip_lengths(before, after);
    }

    /// Tries the settings form's server and token (a chore; the outcome shows in the form).
    pub fn test_connection(&mut self) {
        let current = self.link.state().read().settings.clone();
        if let Some(form) = &self.settings {
            self.settings_message = None;
            self.test_chore = Some(form.test_connection(&current, self.repaint.clone()));
        }
    }

    /// Saves the settings form: the token and the last-used settings are written first (a
    /// chore), then the instance takes the settings, so sync never looks for a token that
    /// is not written yet.
    pub fn save_settings(&mut self) {
        let current = self.link.state().read().settings.clone();
        let me = self.link.identity();
        if let Some(form) = &mut self.settings {
            let new = form.to_settings(&current, me.as_ref());
            self.save_chore = Some(form.save_files(new.clone(), self.repaint.clone()));
            self.pending_settings = Some(new);
            form.token.clear();
            self.settings_message = None;
        }
    }

    /// Reads what this frame needs: the playhead, the record, finished chores.
    pub(super) fn begin_frame(&mut self) {
        self.open();
        self.ph = self.playhead.read();
        self.snap = self.link.record().unwrap_or_else(|| self.empty.clone());
        if !self.track_info_from_host {
            let from_reaper = self.reaper.as_ref().and_then(|r| r.track());
            if let Some((name, color)) = from_reaper.filter(|t| self.host_track.as_ref() != Some(t))
            {
                self.set_host_track(&name, color);
            }
        }
        let me = self.link.state().read().settings.author.clone();
        self.notices.update(&self.snap, &me);
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
        super::ui::frame(self, ui);
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

    pub(super) fn project(&self) -> String {
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
    pub(super) fn start_export(&mut self) {
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

//! Drawing the editor's panels. State and rules live in the parent module and its siblings;
//! this file only lays widgets out and turns clicks and keys into calls on [`EditorApp`].

use super::decision::UNITS;
use super::draft::{playhead_position, CATEGORIES, NUDGE_SECONDS};
use super::list::{decision_text, mark_text, place, take_text, KindFilter, RowKind, VerdictFilter};
use super::settings_form::{SettingsForm, ROLES};
use super::{EditBuffer, EditorApp, Tab};
use crate::worker::SyncStatus;
use egui::{Color32, Key, Modifiers, RichText};
use liner_record::event::{Body, Category, NoteEdited, Rating, Verdict};
use liner_record::export::Format;
use liner_record::limits::{MAX_NAME_CHARS, MAX_SETTINGS, MAX_SETTING_NAME_CHARS, MAX_TEXT_CHARS};
use liner_record::outbox::Waiting;
use liner_record::views::VerdictView;

/// Height of one list row; rows are laid out at this fixed height so only visible ones are
/// drawn.
const ROW_HEIGHT: f32 = 22.0;

pub(super) fn style(ctx: &egui::Context) {
    ctx.set_visuals(egui::Visuals::dark());
    ctx.global_style_mut(|s| {
        s.spacing.item_spacing = egui::vec2(6.0, 5.0);
        s.spacing.button_padding = egui::vec2(7.0, 3.0);
    });
}

fn verdict_color(v: Verdict) -> Color32 {
    match v {
        Verdict::Approved => Color32::from_rgb(80, 190, 110),
        Verdict::Rejected => Color32::from_rgb(225, 85, 85),
        Verdict::ChangesRequested => Color32::from_rgb(235, 170, 60),
    }
}

fn verdict_badge(ui: &mut egui::Ui, v: Option<&VerdictView>) {
    match v {
        Some(v) => {
            let label = match v.verdict {
                Verdict::Approved => "approved",
                Verdict::Rejected => "rejected",
                Verdict::ChangesRequested => "changes",
            };
            let r = ui.label(
                RichText::new(label)
                    .small()
                    .strong()
                    .color(verdict_color(v.verdict)),
            );
            if !v.comment.is_empty() {
                r.on_hover_text(format!("{}: {}", v.author, v.comment));
            }
        }
        None => {
            ui.label(RichText::new("open").small().weak());
        }
    }
}

/// The executive's verdict and comment in full, for the detail of a row.
fn verdict_line(ui: &mut egui::Ui, v: Option<&VerdictView>) {
    if let Some(verdict) = v {
        ui.horizontal_wrapped(|ui| {
            verdict_badge(ui, Some(verdict));
            ui.label(format!("{}: {}", verdict.author, verdict.comment));
        });
    }
}

fn category_label(c: Category) -> &'static str {
    match c {
        Category::Take => "Take",
        Category::Eq => "EQ",
        Category::Fx => "FX",
        Category::Vocal => "Vocal",
        Category::Arrangement => "Arrangement",
        Category::Mix => "Mix",
        Category::Technical => "Technical",
        Category::General => "General",
    }
}

const DIGITS: [Key; 8] = [
    Key::Num1,
    Key::Num2,
    Key::Num3,
    Key::Num4,
    Key::Num5,
    Key::Num6,
    Key::Num7,
    Key::Num8,
];

/// A combo box with a visible label that screen readers and tests find too.
fn labelled_combo(
    ui: &mut egui::Ui,
    label: &str,
    combo: egui::ComboBox,
    options: impl FnOnce(&mut egui::Ui),
) {
    let l = ui.label(label);
    combo.show_ui(ui, options).response.labelled_by(l.id);
}

/// A labelled filter menu over `values`: one of them, or none (`everything`). `shown` names a
/// value in the menu.
fn choice_filter(
    ui: &mut egui::Ui,
    (label, id, everything): (&str, &str, &str),
    current: &mut Option<String>,
    values: &std::collections::BTreeSet<String>,
    shown: impl Fn(&str) -> String,
) {
    let selected = current.as_deref().map_or(everything.to_owned(), &shown);
    labelled_combo(
        ui,
        label,
        egui::ComboBox::from_id_salt(id).selected_text(selected),
        |ui| {
            ui.selectable_value(current, None, everything);
            for v in values {
                ui.selectable_value(current, Some(v.clone()), shown(v));
            }
        },
    );
}

/// A single-line text field with a visible label that screen readers and tests find too.
/// A labelled one-line field that takes at most `limit` characters (the record's limits: the
/// server never refuses what was typed here for its size).
fn labelled_field(
    ui: &mut egui::Ui,
    label: &str,
    text: &mut String,
    width: f32,
    password: bool,
    limit: usize,
) -> egui::Response {
    let l = ui.label(label);
    let r = ui
        .add(
            egui::TextEdit::singleline(text)
                .desired_width(width)
                .password(password)
                .char_limit(limit),
        )
        .labelled_by(l.id);
    limit_counter(ui, text, limit);
    r
}

/// "9,612 / 10,000" once a text is near its limit (the last tenth), so nobody types into a
/// wall.
fn limit_counter(ui: &mut egui::Ui, text: &str, limit: usize) {
    let len = text.chars().count();
    if len * 10 >= limit * 9 {
        let color = if len >= limit {
            Color32::from_rgb(225, 85, 85)
        } else {
            Color32::from_rgb(235, 170, 60)
        };
        ui.label(
            RichText::new(format!("{len} / {limit}"))
                .small()
                .color(color),
        )
        .on_hover_text("The longest the record server takes");
    }
}

pub(super) fn frame(app: &mut EditorApp, ui: &mut egui::Ui) {
    shortcuts(app, ui);
    egui::Panel::top("liner-header").show(ui, |ui| header(app, ui));
    if app.client_in_room {
        egui::CentralPanel::default().show(ui, |ui| {
            ui.add_space(40.0);
            ui.vertical_centered(|ui| {
                ui.heading("Notes hidden: client in the room");
                ui.label("Nothing is shown until you switch this off (Ctrl+H).");
                if ui.button("Show notes").clicked() {
                    app.client_in_room = false;
                }
            });
        });
        return;
    }
    egui::Panel::top("liner-capture").show(ui, |ui| capture(app, ui));
    egui::CentralPanel::default().show(ui, |ui| {
        ui.horizontal(|ui| {
            let notes = format!("Notes ({})", app.rows.rows.len());
            ui.selectable_value(&mut app.tab, Tab::Notes, notes);
            ui.selectable_value(&mut app.tab, Tab::Takes, "Takes");
            ui.selectable_value(&mut app.tab, Tab::Decision, "EQ / FX decision");
            let waiting = app.link.waiting().len();
            if waiting > 0 || app.tab == Tab::NotSent {
                ui.selectable_value(&mut app.tab, Tab::NotSent, format!("Not sent ({waiting})"));
            }
            if ui
                .selectable_value(&mut app.tab, Tab::Settings, "Settings")
                .clicked()
            {
                app.settings = None;
            }
        });
        ui.separator();
        match app.tab {
            Tab::Notes => notes(app, ui),
            Tab::Takes => takes(app, ui),
            Tab::Decision => decision(app, ui),
            Tab::NotSent => not_sent(app, ui),
            Tab::Settings => settings(app, ui),
        }
    });
}

/// Keyboard shortcuts that work anywhere in the window.
fn shortcuts(app: &mut EditorApp, ui: &mut egui::Ui) {
    let ph = app.ph;
    ui.input_mut(|i| {
        if i.consume_key(Modifiers::COMMAND, Key::H) {
            app.client_in_room = !app.client_in_room;
        }
        if app.client_in_room {
            return;
        }
        for (n, key) in DIGITS.iter().enumerate() {
            if i.consume_key(Modifiers::COMMAND, *key) {
                app.draft.category = CATEGORIES[n];
                app.focus_capture = true;
            }
        }
        if i.consume_key(Modifiers::COMMAND, Key::ArrowLeft) {
            app.draft.stamp_now(&ph);
            app.draft.nudge(-NUDGE_SECONDS);
        }
        if i.consume_key(Modifiers::COMMAND, Key::ArrowRight) {
            app.draft.stamp_now(&ph);
            app.draft.nudge(NUDGE_SECONDS);
        }
        if i.consume_key(Modifiers::COMMAND, Key::R) {
            app.draft.toggle_range(&ph);
        }
        if i.consume_key(Modifiers::COMMAND, Key::E) {
            app.draft.end_range_here(&ph);
        }
        if i.consume_key(Modifiers::COMMAND, Key::L) {
            app.draft.use_loop(&ph);
        }
        if i.consume_key(Modifiers::COMMAND, Key::P) {
            app.draft.private = !app.draft.private;
        }
    });
    if ui.input_mut(|i| i.consume_key(Modifiers::COMMAND, Key::M)) {
        to_last_mark(app);
    }
}

fn last_mark(app: &EditorApp) -> Option<liner_record::DawPos> {
    let song = app.link.state().read().settings.song.clone();
    app.snap
        .views
        .marks
        .iter()
        .filter(|m| m.song == song && m.pos.is_some())
        .max_by_key(|m| m.at)
        .and_then(|m| m.pos)
}

fn to_last_mark(app: &mut EditorApp) {
    if let Some(pos) = last_mark(app) {
        let sr = app.ph.sample_rate;
        app.draft.move_to(&pos, sr);
    }
}

fn sync_line(status: &SyncStatus) -> (Color32, String, Option<String>) {
    match status {
        SyncStatus::Off => (Color32::GRAY, "offline by choice".into(), None),
        SyncStatus::Synced => (Color32::from_rgb(80, 190, 110), "synced".into(), None),
        SyncStatus::Waiting(n) => (
            Color32::from_rgb(235, 170, 60),
            format!("synced, {n} not sent"),
            None,
        ),
        SyncStatus::Pending(0) => (Color32::from_rgb(235, 170, 60), "connecting".into(), None),
        SyncStatus::Pending(n) => (
            Color32::from_rgb(235, 170, 60),
            format!("{n} pending"),
            None,
        ),
        SyncStatus::Offline { reason, since_ms } => (
            Color32::from_rgb(225, 85, 85),
            "offline".into(),
            Some(format!(
                "{reason} (since {})",
                liner_record::export::date(*since_ms)
            )),
        ),
    }
}

fn header(app: &mut EditorApp, ui: &mut egui::Ui) {
    let settings = app.link.state().read().settings.clone();
    let sync = app.link.sync_status();
    ui.horizontal_wrapped(|ui| {
        // Switching songs mid-session is one click; a new song is named in the settings.
        let mut songs = app.songs().clone();
        songs.insert(settings.song.clone());
        let mut song = settings.song.clone();
        labelled_combo(
            ui,
            "Song",
            egui::ComboBox::from_id_salt("header-song")
                .selected_text(RichText::new(&settings.song).strong().size(16.0)),
            |ui| {
                for s in &songs {
                    ui.selectable_value(&mut song, s.clone(), s);
                }
            },
        );
        if song != settings.song {
            app.link.state().write().settings.song = song;
        }
        if let Some((_, Some((r, g, b)))) = &app.host_track {
            let (rect, _) = ui.allocate_exact_size(egui::vec2(10.0, 14.0), egui::Sense::hover());
            ui.painter()
                .rect_filled(rect, 2.0, Color32::from_rgb(*r, *g, *b));
        }
        let host_named = app.host_track.as_ref().is_some_and(|(n, _)| !n.is_empty());
        if host_named {
            ui.label(&settings.track);
        } else {
            let mut track = settings.track.clone();
            let l = ui.label("Track");
            let r = ui
                .add(
                    egui::TextEdit::singleline(&mut track)
                        .desired_width(110.0)
                        .hint_text("name this track"),
                )
                .labelled_by(l.id);
            if r.changed() {
                app.link.state().write().settings.track = track;
            }
        }
        ui.separator();
        ui.label(format!("{} · {}", settings.author, settings.role.as_str()));
        ui.separator();
        let (color, text, reason) = sync_line(&sync);
        let (rect, _) = ui.allocate_exact_size(egui::vec2(12.0, 12.0), egui::Sense::hover());
        ui.painter().circle_filled(rect.center(), 5.0, color);
        let r = ui.label(format!("Sync: {text}"));
        if let Some(reason) = &reason {
            r.on_hover_text(reason);
        }
        let (waiting, journal_error) = app.link.journal_status();
        if let Some(e) = journal_error {
            ui.label(
                RichText::new(format!("not saved to disk: {e}"))
                    .color(Color32::from_rgb(225, 85, 85)),
            );
        } else if waiting > 0 || !app.unsaved.is_empty() {
            ui.label(RichText::new("saving…").weak());
        }
        ui.separator();
        ui.toggle_value(&mut app.client_in_room, "Client in the room")
            .on_hover_text("Hide every note at once (Ctrl+H)");
        clip_switch(app, ui);
        labelled_combo(
            ui,
            "Format",
            egui::ComboBox::from_id_salt("export-format").selected_text(app.export_format.name()),
            |ui| {
                for f in Format::ALL {
                    ui.selectable_value(&mut app.export_format, f, f.name());
                }
            },
        );
        let busy = app.export_chore.is_some();
        if ui
            .add_enabled(!busy, egui::Button::new("Export log"))
            .on_hover_text("Write this song's decision log to the export folder")
            .clicked()
        {
            app.start_export();
        }
        ui.checkbox(&mut app.export_private, "with private notes");
    });
    if let Some(reason) = sync_line(&sync).2 {
        ui.horizontal_wrapped(|ui| {
            ui.label(
                RichText::new(reason)
                    .small()
                    .color(Color32::from_rgb(225, 85, 85)),
            );
            if app.tab != Tab::Settings && ui.small_button("Open settings").clicked() {
                app.tab = Tab::Settings;
                app.settings = None;
            }
        });
    }
    if let Some(problem) = app.link.clip_problem() {
        ui.label(
            RichText::new(format!(
                "Clips wait on the server: {problem}. Your notes still sync; the clips follow \
                 once there is room."
            ))
            .small()
            .color(Color32::from_rgb(235, 170, 60)),
        );
    }
    if let Some(m) = &app.export_message {
        let (text, color) = match m {
            Ok(t) => (t.clone(), Color32::from_rgb(80, 190, 110)),
            Err(e) => (
                format!("Export failed: {e}"),
                Color32::from_rgb(225, 85, 85),
            ),
        };
        ui.label(RichText::new(text).small().color(color));
    }
}

/// How long clips are, applied at once (the next note's clip is cut to it).
fn clip_lengths(app: &mut EditorApp, ui: &mut egui::Ui) {
    let (on, mut before, mut after) = {
        let st = app.link.state().read();
        (st.clip_audio, st.clip_before, st.clip_after)
    };
    let most = liner_record::clips::MAX_CLIP_SECONDS as f32;
    ui.horizontal_wrapped(|ui| {
        let mut switch = on;
        if ui
            .checkbox(&mut switch, "Clip audio with notes")
            .on_hover_text("The same switch as in the header; saved with the project")
            .changed()
        {
            app.link.set_clip_audio(switch);
        }
        let l = ui.label("seconds before");
        let b = ui
            .add(
                egui::DragValue::new(&mut before)
                    .range(0.0..=most)
                    .speed(0.1)
                    .max_decimals(1),
            )
            .labelled_by(l.id);
        let l = ui.label("after");
        let a = ui
            .add(
                egui::DragValue::new(&mut after)
                    .range(0.0..=most)
                    .speed(0.1)
                    .max_decimals(1),
            )
            .labelled_by(l.id);
        if b.changed() || a.changed() {
            app.link.set_clip_lengths(before, after);
        }
        ui.label(
            RichText::new(format!(
                "a range note gets its whole range, up to {most:.0} s"
            ))
            .small()
            .weak(),
        );
    });
}

/// "Clip audio with notes": the instance's switch, in the header so its state is always in
/// sight (it is saved with the project).
fn clip_switch(app: &mut EditorApp, ui: &mut egui::Ui) {
    let (mut on, before, after) = {
        let st = app.link.state().read();
        (st.clip_audio, st.clip_before, st.clip_after)
    };
    let was_on = on;
    let r = ui
        .toggle_value(&mut on, if was_on { "Clips: on" } else { "Clips: off" })
        .on_hover_text(format!(
            "Clip audio with notes: keep {before:.0} s before and {after:.0} s after each \
             note, decision and mark made while audio flows through this instance, so the \
             reviewer hears the moment (a private note's clip stays on this computer)"
        ));
    if r.changed() {
        app.link.set_clip_audio(on);
    }
}

fn position_text(p: Option<crate::playhead::Position>) -> String {
    match p {
        Some(p) => place(Some(&crate::state::daw_pos(&p))),
        None => "no position from the DAW yet".into(),
    }
}

fn capture(app: &mut EditorApp, ui: &mut egui::Ui) {
    let ph = app.ph;
    ui.horizontal_wrapped(|ui| {
        let live = playhead_position(&ph);
        let transport = if ph.pos.recording {
            "REC"
        } else if ph.pos.playing {
            "PLAY"
        } else {
            "STOP"
        };
        ui.label(RichText::new(format!("{transport} {}", position_text(live))).monospace());
        ui.separator();
        let stamp = match &app.draft.stamp {
            Some(s) => match app.draft.range_end(&ph) {
                Some(end) => format!(
                    "note at {} to {}",
                    position_text(Some(s.from)),
                    position_text(Some(end))
                ),
                None => format!("note at {}", position_text(Some(s.from))),
            },
            None if app.draft.text.is_empty() => "note at: first keystroke".into(),
            None => "note has no position".into(),
        };
        ui.label(RichText::new(stamp).monospace().strong());
    });
    ui.horizontal_wrapped(|ui| {
        if ui.small_button("−2 s").on_hover_text("Ctrl+Left").clicked() {
            app.draft.stamp_now(&ph);
            app.draft.nudge(-NUDGE_SECONDS);
            app.focus_capture = true;
        }
        if ui
            .small_button("+2 s")
            .on_hover_text("Ctrl+Right")
            .clicked()
        {
            app.draft.stamp_now(&ph);
            app.draft.nudge(NUDGE_SECONDS);
            app.focus_capture = true;
        }
        if ui
            .add_enabled(
                last_mark(app).is_some(),
                egui::Button::new("to last mark").small(),
            )
            .on_hover_text("Ctrl+M")
            .clicked()
        {
            to_last_mark(app);
            app.focus_capture = true;
        }
        let mut range = app.draft.range;
        if ui
            .toggle_value(&mut range, "Range")
            .on_hover_text("From the stamp to a second position (Ctrl+R; Ctrl+E ends it here)")
            .clicked()
        {
            app.draft.toggle_range(&ph);
            app.focus_capture = true;
        }
        if app.draft.range && ui.small_button("end here").clicked() {
            app.draft.end_range_here(&ph);
            app.focus_capture = true;
        }
        if ui
            .add_enabled(ph.loop_range.is_some(), egui::Button::new("loop").small())
            .on_hover_text("Anchor to the DAW's loop range (Ctrl+L)")
            .clicked()
        {
            app.draft.use_loop(&ph);
            app.focus_capture = true;
        }
        ui.separator();
        ui.checkbox(&mut app.draft.private, "private")
            .on_hover_text(
                "Stays on this computer: never synced or exported unless asked (Ctrl+P)",
            );
        if let Some(take) = app.draft.take {
            if ui
                .small_button(format!("take {} (detach)", take.number))
                .on_hover_text("The note is about this take; click to detach it")
                .clicked()
            {
                app.draft.take = None;
            }
        }
    });
    ui.horizontal_wrapped(|ui| {
        for (n, c) in CATEGORIES.iter().enumerate() {
            if ui
                .selectable_label(app.draft.category == *c, category_label(*c))
                .on_hover_text(format!("Ctrl+{}", n + 1))
                .clicked()
            {
                app.draft.category = *c;
                app.focus_capture = true;
            }
        }
    });
    let id = egui::Id::unique("liner-note-field");
    let before = app.draft.text.is_empty();
    let l = ui.label("Note");
    let r = ui
        .add(
            egui::TextEdit::singleline(&mut app.draft.text)
                .id(id)
                .desired_width(f32::INFINITY)
                .char_limit(MAX_TEXT_CHARS)
                .hint_text("Type a note: Enter saves, Esc discards"),
        )
        .labelled_by(l.id);
    limit_counter(ui, &app.draft.text, MAX_TEXT_CHARS);
    if r.changed() && before {
        let current = app.current_take();
        app.draft.text_changed(&ph, current);
    } else if r.changed() && app.draft.text.is_empty() {
        // Erasing the whole note starts over: the next keystroke takes a new stamp.
        app.draft.clear();
    }
    let enter = ui.input(|i| i.key_pressed(Key::Enter));
    let escape = ui.input(|i| i.key_pressed(Key::Escape));
    if (r.lost_focus() || r.has_focus()) && enter {
        app.save_draft();
    } else if (r.lost_focus() || r.has_focus()) && escape {
        if app.draft.text.is_empty() {
            // Escape on an empty note hands the keyboard back to the DAW.
            app.draft.clear();
            r.surrender_focus();
        } else {
            app.draft.clear();
            app.focus_capture = true;
        }
    }
    if std::mem::take(&mut app.focus_capture) {
        r.request_focus();
    }
}

fn filters(app: &mut EditorApp, ui: &mut egui::Ui) {
    ui.horizontal_wrapped(|ui| {
        let kind_text = match app.filter.kind {
            KindFilter::Any => "all kinds".to_owned(),
            KindFilter::Category(c) => category_label(c).to_owned(),
            KindFilter::Marks => "marks".to_owned(),
        };
        labelled_combo(
            ui,
            "Kind",
            egui::ComboBox::from_id_salt("filter-kind").selected_text(kind_text),
            |ui| {
                ui.selectable_value(&mut app.filter.kind, KindFilter::Any, "all kinds");
                for c in CATEGORIES {
                    ui.selectable_value(
                        &mut app.filter.kind,
                        KindFilter::Category(c),
                        category_label(c),
                    );
                }
                ui.selectable_value(&mut app.filter.kind, KindFilter::Marks, "marks");
            },
        );
        choice_filter(
            ui,
            ("Author", "filter-author", "everyone"),
            &mut app.filter.author,
            &app.rows.authors,
            str::to_owned,
        );
        choice_filter(
            ui,
            ("Track filter", "filter-track", "all tracks"),
            &mut app.filter.track,
            &app.rows.tracks,
            |t| {
                if t.is_empty() {
                    "(no track)".to_owned()
                } else {
                    t.to_owned()
                }
            },
        );
        let verdict_text = match app.filter.verdict {
            VerdictFilter::Any => "any verdict",
            VerdictFilter::Open => "open",
            VerdictFilter::Is(Verdict::Approved) => "approved",
            VerdictFilter::Is(Verdict::Rejected) => "rejected",
            VerdictFilter::Is(Verdict::ChangesRequested) => "changes requested",
        };
        labelled_combo(
            ui,
            "Verdict",
            egui::ComboBox::from_id_salt("filter-verdict").selected_text(verdict_text),
            |ui| {
                let f = &mut app.filter.verdict;
                ui.selectable_value(f, VerdictFilter::Any, "any verdict");
                ui.selectable_value(f, VerdictFilter::Open, "open");
                ui.selectable_value(f, VerdictFilter::Is(Verdict::Approved), "approved");
                ui.selectable_value(f, VerdictFilter::Is(Verdict::Rejected), "rejected");
                ui.selectable_value(
                    f,
                    VerdictFilter::Is(Verdict::ChangesRequested),
                    "changes requested",
                );
            },
        );
        labelled_field(
            ui,
            "Search",
            &mut app.filter.text,
            140.0,
            false,
            MAX_NAME_CHARS,
        );
    });
}

fn notes(app: &mut EditorApp, ui: &mut egui::Ui) {
    let song = app.link.state().read().settings.song.clone();
    app.rows.update(&app.snap, &song, &app.filter, false);
    filters(app, ui);
    for e in &app.unsaved {
        if let Body::NoteAdded(n) = &e.body {
            ui.label(
                RichText::new(format!("saving… {}", n.text))
                    .italics()
                    .weak(),
            );
        }
    }
    // The detail of the selected row sits below the list, which gets what is left.
    let detail_height = if app.selected.is_some() { 150.0 } else { 0.0 };
    let list_height = (ui.available_height() - detail_height).max(3.0 * ROW_HEIGHT);
    let total = app.rows.rows.len();
    let mut clicked = None;
    if total == 0 {
        ui.label(RichText::new("Nothing here yet: type a note above.").weak());
    } else {
        egui::ScrollArea::vertical()
            .id_salt("liner-list")
            .max_height(list_height)
            .auto_shrink([false, false])
            .show_rows(ui, ROW_HEIGHT, total, |ui, range| {
                for row in &app.rows.rows[range] {
                    if let Some(sel) = list_row(app, ui, *row) {
                        clicked = Some(sel);
                    }
                }
            });
    }
    if app.selected.is_some() {
        ui.separator();
        egui::ScrollArea::vertical()
            .id_salt("liner-detail")
            .auto_shrink([false, false])
            .show(ui, |ui| detail(app, ui));
    }
    if let Some(sel) = clicked {
        app.selected = if app.selected == Some(sel) {
            None
        } else {
            Some(sel)
        };
        app.edit = None;
        app.confirm_delete = None;
    }
}

/// Draws one row; returns what was clicked.
fn list_row(
    app: &EditorApp,
    ui: &mut egui::Ui,
    row: super::list::Row,
) -> Option<(RowKind, uuid::Uuid)> {
    let v = &app.snap.views;
    let (id, pos, kind, author, text, verdict, private) = match row.kind {
        RowKind::Note => {
            let n = &v.notes[row.index];
            let pos = match &n.anchor {
                Some(liner_record::event::Anchor::Point { at }) => place(Some(at)),
                Some(liner_record::event::Anchor::Range { from, to }) => {
                    format!("{} to {}", place(Some(from)), place(Some(to)))
                }
                None => "—".into(),
            };
            (
                n.id,
                pos,
                category_label(n.category),
                n.author.as_str(),
                n.text.clone(),
                n.verdict.as_ref(),
                n.private,
            )
        }
        RowKind::Decision => {
            let d = &v.decisions[row.index];
            let kind = if d.kind == "eq" { "EQ" } else { "FX" };
            (
                d.id,
                place(d.pos.as_ref()),
                kind,
                d.author.as_str(),
                decision_text(d),
                d.verdict.as_ref(),
                false,
            )
        }
        RowKind::Take => {
            let t = &v.takes[row.index];
            let pos = match (&t.start, &t.end) {
                (Some(s), Some(e)) => format!("{} to {}", place(Some(s)), place(Some(e))),
                (s, _) => place(s.as_ref()),
            };
            (
                t.id.unwrap_or_default(),
                pos,
                "Take",
                t.track.as_str(),
                take_text(t),
                t.verdict.as_ref(),
                false,
            )
        }
        RowKind::Mark => {
            let m = &v.marks[row.index];
            (
                m.id,
                place(m.pos.as_ref()),
                "Mark",
                "",
                mark_text(m),
                None,
                false,
            )
        }
    };
    let selected = app.selected == Some((row.kind, id));
    let r = ui
        .horizontal(|ui| {
            ui.set_height(ROW_HEIGHT - ui.spacing().item_spacing.y);
            ui.allocate_ui_with_layout(
                egui::vec2(58.0, ROW_HEIGHT - 6.0),
                egui::Layout::left_to_right(egui::Align::Center),
                |ui| {
                    ui.set_min_width(58.0);
                    if row.kind == RowKind::Mark {
                        ui.label(RichText::new("mark").small().weak());
                    } else {
                        verdict_badge(ui, verdict);
                    }
                },
            );
            ui.allocate_ui_with_layout(
                egui::vec2(150.0, ROW_HEIGHT - 6.0),
                egui::Layout::left_to_right(egui::Align::Center),
                |ui| {
                    ui.set_min_width(150.0);
                    ui.add(egui::Label::new(RichText::new(pos).monospace().small()).truncate());
                },
            );
            ui.label(RichText::new(kind).small().strong());
            if !author.is_empty() {
                ui.label(RichText::new(author).small().weak());
            }
            if private {
                ui.label(RichText::new("private").small().weak());
            }
            if let Some(c) = v.clips.get(&id) {
                ui.label(RichText::new("clip").small().color(CLIP_COLOR))
                    .on_hover_text(clip_text(c));
            }
            let mut line = RichText::new(text);
            if selected {
                line = line.strong();
            }
            ui.add(egui::Label::new(line).truncate());
            if let Some(v) = verdict.filter(|v| !v.comment.is_empty()) {
                ui.add(egui::Label::new(RichText::new(&v.comment).italics().weak()).truncate());
            }
        })
        .response;
    let r = ui.interact(
        r.rect,
        ui.scope_id().with(("row", row.kind as u8, row.index)),
        egui::Sense::click(),
    );
    r.clicked().then_some((row.kind, id))
}

fn detail(app: &mut EditorApp, ui: &mut egui::Ui) {
    let Some((kind, id)) = app.selected else {
        return;
    };
    let me = app.link.state().read().settings.author.clone();
    let v = &app.snap.views;
    if let Some(c) = v.clips.get(&id) {
        ui.label(RichText::new(clip_text(c)).small().color(CLIP_COLOR));
    }
    match kind {
        RowKind::Note => {
            let Some(n) = v.notes.iter().find(|n| n.id == id).cloned() else {
                app.selected = None;
                return;
            };
            if n.author == me {
                own_note_actions(app, ui, &n);
            }
            ui.label(
                RichText::new(format!(
                    "{} · {} · {} · {}",
                    category_label(n.category),
                    n.author,
                    n.track,
                    liner_record::export::date(n.created_at)
                ))
                .small()
                .weak(),
            );
            verdict_line(ui, n.verdict.as_ref());
            ui.label(RichText::new(&n.text).size(15.0));
        }
        RowKind::Decision => {
            if let Some(d) = v.decisions.iter().find(|d| d.id == id) {
                ui.label(RichText::new(decision_text(d)).size(15.0));
                verdict_line(ui, d.verdict.as_ref());
            }
        }
        RowKind::Take => {
            if let Some(t) = v.takes.iter().find(|t| t.id == Some(id)) {
                ui.label(RichText::new(take_text(t)).size(15.0));
                verdict_line(ui, t.verdict.as_ref());
            }
        }
        RowKind::Mark => {
            let Some(m) = v.marks.iter().find(|m| m.id == id).cloned() else {
                app.selected = None;
                return;
            };
            ui.label(RichText::new(mark_text(&m)).size(15.0));
            let edit = app.edit.get_or_insert_with(|| EditBuffer {
                target: id,
                kind,
                text: m.label.clone().unwrap_or_default(),
                category: Category::General,
            });
            let mut save = false;
            ui.horizontal(|ui| {
                let r = labelled_field(
                    ui,
                    "Name this mark",
                    &mut edit.text,
                    260.0,
                    false,
                    MAX_NAME_CHARS,
                );
                save = (r.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter)))
                    | ui.button("Save name").clicked();
            });
            if save && !edit.text.trim().is_empty() {
                let label = edit.text.trim().to_owned();
                let ctx = app.context();
                let e = liner_record::Event::new(
                    &ctx,
                    m.pos,
                    Body::Mark {
                        instance: m.instance,
                        number: m.number,
                        label: Some(label),
                    },
                );
                app.submit(e);
                app.edit = None;
            }
        }
    }
}

fn own_note_actions(app: &mut EditorApp, ui: &mut egui::Ui, n: &liner_record::views::NoteView) {
    match &mut app.edit {
        Some(edit) if edit.target == n.id => {
            let mut save = false;
            let mut cancel = false;
            ui.horizontal_wrapped(|ui| {
                let r = labelled_field(
                    ui,
                    "Edit note",
                    &mut edit.text,
                    300.0,
                    false,
                    MAX_TEXT_CHARS,
                );
                labelled_combo(
                    ui,
                    "Category",
                    egui::ComboBox::from_id_salt("edit-category")
                        .selected_text(category_label(edit.category)),
                    |ui| {
                        for c in CATEGORIES {
                            ui.selectable_value(&mut edit.category, c, category_label(c));
                        }
                    },
                );
                save = (r.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter)))
                    | ui.button("Save").clicked();
                cancel = ui.button("Cancel").clicked();
            });
            if save && !edit.text.trim().is_empty() {
                let body = Body::NoteEdited(NoteEdited {
                    note: n.id,
                    text: (edit.text.trim() != n.text).then(|| edit.text.trim().to_owned()),
                    category: (edit.category != n.category).then_some(edit.category),
                    anchor: None,
                });
                let e = liner_record::Event::new(&app.context(), None, body);
                app.submit(e);
                app.edit = None;
            } else if cancel {
                app.edit = None;
            }
        }
        _ => {
            ui.horizontal(|ui| {
                if ui.button("Edit").clicked() {
                    app.edit = Some(EditBuffer {
                        target: n.id,
                        kind: RowKind::Note,
                        text: n.text.clone(),
                        category: n.category,
                    });
                }
                if app.confirm_delete == Some(n.id) {
                    if ui.button("Really delete").clicked() {
                        let e = liner_record::Event::new(
                            &app.context(),
                            None,
                            Body::NoteDeleted { note: n.id },
                        );
                        app.submit(e);
                        app.selected = None;
                        app.confirm_delete = None;
                    }
                    if ui.button("Keep").clicked() {
                        app.confirm_delete = None;
                    }
                } else if ui.button("Delete").clicked() {
                    app.confirm_delete = Some(n.id);
                }
            });
        }
    }
}

/// A clickable star, drawn (the bundled fonts have no star glyph).
fn star(ui: &mut egui::Ui, lit: bool, name: &str) -> egui::Response {
    let size = egui::vec2(16.0, 16.0);
    let (rect, r) = ui.allocate_exact_size(size, egui::Sense::click());
    let name = name.to_owned();
    r.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, &name));
    let c = rect.center();
    let points: Vec<egui::Pos2> = (0..10)
        .map(|i| {
            let radius = if i % 2 == 0 { 7.5 } else { 3.2 };
            let a = std::f32::consts::PI * (i as f32 / 5.0) - std::f32::consts::FRAC_PI_2;
            c + radius * egui::vec2(a.cos(), a.sin())
        })
        .collect();
    let color = if lit {
        Color32::GOLD
    } else if r.hovered() {
        Color32::LIGHT_GRAY
    } else {
        Color32::DARK_GRAY
    };
    // The star is concave: fill it as triangles from the centre.
    let mut mesh = egui::Mesh::default();
    let centre = mesh.vertices.len() as u32;
    mesh.colored_vertex(c, color);
    for p in &points {
        mesh.colored_vertex(*p, color);
    }
    for i in 0..10u32 {
        mesh.add_triangle(centre, centre + 1 + i, centre + 1 + (i + 1) % 10);
    }
    ui.painter().add(egui::Shape::mesh(mesh));
    r.on_hover_text(name)
}

fn takes(app: &mut EditorApp, ui: &mut egui::Ui) {
    let me = app.instance();
    let mut mine: Vec<_> = app
        .snap
        .views
        .takes
        .iter()
        .filter(|t| t.take.instance == me)
        .cloned()
        .collect();
    mine.sort_by_key(|t| std::cmp::Reverse(t.take.number));
    if mine.is_empty() {
        ui.label(
            RichText::new("No takes yet: arm a track and record; each pass shows up here.").weak(),
        );
        return;
    }
    let mut ratings = Vec::new();
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show(ui, |ui| {
            for t in &mine {
                ui.horizontal_wrapped(|ui| {
                    ui.label(RichText::new(format!("Take {}", t.take.number)).strong());
                    let span = match (&t.start, &t.end) {
                        (Some(s), Some(e)) => format!("{} to {}", place(Some(s)), place(Some(e))),
                        (Some(s), None) => format!("{} to … (recording)", place(Some(s))),
                        _ => "—".into(),
                    };
                    ui.label(RichText::new(span).monospace().small());
                    verdict_badge(ui, t.verdict.as_ref());
                });
                ui.horizontal_wrapped(|ui| {
                    let stars = t.stars;
                    let note = t.note.clone();
                    for (r, label) in [
                        (Rating::Keeper, "keeper"),
                        (Rating::Maybe, "maybe"),
                        (Rating::Scratch, "scratch"),
                    ] {
                        if ui.selectable_label(t.rating == Some(r), label).clicked() {
                            ratings.push((t.take, r, stars, note.clone()));
                        }
                    }
                    ui.separator();
                    for s in 1..=5u8 {
                        let lit = t.stars.is_some_and(|n| n >= s);
                        let r = star(
                            ui,
                            lit,
                            &format!("{s} star{}", if s > 1 { "s" } else { "" }),
                        );
                        if r.clicked() {
                            let rating = t.rating.unwrap_or(Rating::Maybe);
                            ratings.push((t.take, rating, Some(s), note.clone()));
                        }
                    }
                    let buf = app
                        .take_notes
                        .entry(t.take)
                        .or_insert_with(|| t.note.clone().unwrap_or_default());
                    let r = labelled_field(ui, "Take note", buf, 220.0, false, MAX_TEXT_CHARS);
                    let enter = r.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter));
                    if enter || ui.small_button("save").clicked() {
                        let text = buf.trim().to_owned();
                        let rating = t.rating.unwrap_or(Rating::Maybe);
                        ratings.push((t.take, rating, stars, (!text.is_empty()).then_some(text)));
                    }
                });
                ui.separator();
            }
        });
    for (take, rating, stars, note) in ratings {
        app.rate_take(take, rating, stars, note);
    }
}

fn decision(app: &mut EditorApp, ui: &mut egui::Ui) {
    let ph = app.ph;
    ui.horizontal(|ui| {
        ui.selectable_value(&mut app.decision.eq, true, "EQ");
        ui.selectable_value(&mut app.decision.eq, false, "FX");
        ui.label(
            RichText::new(format!("at {}", position_text(playhead_position(&ph))))
                .monospace()
                .small(),
        );
    });
    ui.horizontal(|ui| {
        labelled_field(
            ui,
            "Processor",
            &mut app.decision.processor,
            220.0,
            false,
            MAX_NAME_CHARS,
        );
    });
    let mut remove = None;
    let rows = app.decision.rows.len();
    for (i, row) in app.decision.rows.iter_mut().enumerate() {
        ui.horizontal(|ui| {
            labelled_field(
                ui,
                "Band / parameter",
                &mut row.name,
                150.0,
                false,
                MAX_SETTING_NAME_CHARS,
            );
            labelled_field(ui, "Value", &mut row.value, 70.0, false, MAX_NAME_CHARS);
            labelled_combo(
                ui,
                "Unit",
                egui::ComboBox::from_id_salt(("unit", i))
                    .width(56.0)
                    .selected_text(if row.unit.is_empty() { "—" } else { row.unit }),
                |ui| {
                    for u in UNITS {
                        ui.selectable_value(&mut row.unit, u, if u.is_empty() { "—" } else { u });
                    }
                },
            );
            if rows > 1
                && ui
                    .small_button("x")
                    .on_hover_text("Remove this line")
                    .clicked()
            {
                remove = Some(i);
            }
        });
    }
    if let Some(i) = remove {
        app.decision.rows.remove(i);
    }
    if ui
        .add_enabled(
            app.decision.rows.len() < MAX_SETTINGS,
            egui::Button::new("+ band / parameter").small(),
        )
        .clicked()
    {
        app.decision.rows.push(Default::default());
    }
    let l = ui.label("Why");
    ui.add(
        egui::TextEdit::multiline(&mut app.decision.reason)
            .char_limit(MAX_TEXT_CHARS)
            .desired_rows(2)
            .desired_width(f32::INFINITY)
            .hint_text("what it fixes or brings out"),
    )
    .labelled_by(l.id);
    limit_counter(ui, &app.decision.reason, MAX_TEXT_CHARS);
    let save = ui.button("Record decision").clicked()
        || ui.input_mut(|i| i.consume_key(Modifiers::COMMAND, Key::Enter));
    if save {
        app.save_decision();
    }
    for p in &app.decision_problems {
        ui.label(RichText::new(p).color(Color32::from_rgb(225, 85, 85)));
    }
}

/// What waits to be sent, and why: refused by the server (fix or drop), brought in from a
/// project file or made under another name (send as the token's person, or drop), or never
/// to go with this token (drop, or keep on this computer).
fn not_sent(app: &mut EditorApp, ui: &mut egui::Ui) {
    let waiting = app.link.waiting();
    let me = app.link.identity();
    if waiting.is_empty() {
        ui.label("Everything that can be sent is on the server.");
        return;
    }
    let busy = app.outbox_chore.is_some();
    if let Some(me) = &me {
        let agree = waiting
            .iter()
            .filter(|(e, w)| w.awaits_agreement() && e.role == me.role)
            .count();
        if agree > 0 {
            ui.horizontal_wrapped(|ui| {
                ui.label(format!(
                    "{agree} events in this project were never synced: they came with the \
                     DAW project from another computer, or were made under another name."
                ));
                if ui
                    .add_enabled(
                        !busy,
                        egui::Button::new(format!("Send them as {}", me.person)),
                    )
                    .clicked()
                {
                    app.send_waiting_as_me(me.clone());
                }
            });
            ui.separator();
        }
    }
    if let Some(m) = &app.outbox_message {
        let (text, color) = match m {
            Ok(t) => (t.as_str(), Color32::from_rgb(80, 190, 110)),
            Err(e) => (e.as_str(), Color32::from_rgb(225, 85, 85)),
        };
        ui.label(RichText::new(text).color(color));
    }
    fix_panel(app, ui, &waiting, busy);
    egui::ScrollArea::vertical().show(ui, |ui| {
        for (event, why) in waiting.iter() {
            ui.horizontal_wrapped(|ui| {
                ui.label(RichText::new(event.body.kind().replace('_', " ")).strong());
                ui.label(super::outbox::summary(event));
            });
            let reason = match why {
                Waiting::Refused { reason, .. } => format!("refused by the server: {reason}"),
                Waiting::Imported => "from the DAW project file; waits for your OK".into(),
                Waiting::OtherName => format!(
                    "made as {:?}; waits for your OK to send it under your token's name",
                    event.author
                ),
                Waiting::Cannot(why) => format!("stays on this computer: {why}"),
            };
            ui.label(
                RichText::new(reason)
                    .small()
                    .color(Color32::from_rgb(235, 170, 60)),
            );
            ui.horizontal(|ui| {
                let fixable = matches!(why, Waiting::Refused { .. })
                    && matches!(event.body, Body::NoteAdded(_));
                if fixable && ui.add_enabled(!busy, egui::Button::new("Fix")).clicked() {
                    if let Body::NoteAdded(n) = &event.body {
                        let text: String = n.text.chars().take(MAX_TEXT_CHARS).collect();
                        app.fixing = Some((event.id, text));
                        app.focus_fix = true;
                    }
                }
                if ui
                    .add_enabled(!busy, egui::Button::new("Drop"))
                    .on_hover_text("Never send it, and stop showing it")
                    .clicked()
                {
                    app.drop_waiting(event.id);
                }
            });
            ui.separator();
        }
    });
}

/// The correction of a refused note, above the list so its buttons stay in view however
/// long the text is (the field scrolls on its own).
fn fix_panel(
    app: &mut EditorApp,
    ui: &mut egui::Ui,
    waiting: &[(liner_record::Event, Waiting)],
    busy: bool,
) {
    let Some(original) = app
        .fixing
        .as_ref()
        .and_then(|(id, _)| waiting.iter().find(|(e, _)| e.id == *id))
        .map(|(e, _)| e.clone())
    else {
        return;
    };
    let mut send = false;
    let mut cancel = false;
    if let Some((_, text)) = &mut app.fixing {
        let l = ui.label("Corrected note");
        let field = egui::ScrollArea::vertical()
            .id_salt("fix-note")
            .max_height(120.0)
            .show(ui, |ui| {
                ui.add(
                    egui::TextEdit::multiline(text)
                        .char_limit(MAX_TEXT_CHARS)
                        .desired_rows(3)
                        .desired_width(f32::INFINITY),
                )
                .labelled_by(l.id)
            })
            .inner;
        if std::mem::take(&mut app.focus_fix) {
            field.request_focus();
        }
        limit_counter(ui, text, MAX_TEXT_CHARS);
        ui.horizontal(|ui| {
            send = ui
                .add_enabled(!busy, egui::Button::new("Send fixed"))
                .clicked();
            cancel = ui.button("Cancel").clicked();
        });
        ui.separator();
    }
    if send {
        app.fix_waiting(original);
    } else if cancel {
        app.fixing = None;
    }
}

fn settings(app: &mut EditorApp, ui: &mut egui::Ui) {
    let current = app.link.state().read().settings.clone();
    let me = app.link.identity();
    let form = app
        .settings
        .get_or_insert_with(|| SettingsForm::from_settings(&current));
    // Once the server said who the token speaks for, the name and role are the token's.
    let from_token = me
        .as_ref()
        .filter(|_| form.server_url.trim() == current.server_url && form.token.is_empty());
    egui::Grid::new("settings-grid")
        .num_columns(2)
        .spacing([10.0, 6.0])
        .show(ui, |ui| {
            labelled_field(
                ui,
                "Project",
                &mut form.project,
                260.0,
                false,
                MAX_NAME_CHARS,
            );
            ui.end_row();
            labelled_field(ui, "Song", &mut form.song, 260.0, false, MAX_NAME_CHARS);
            ui.end_row();
            if let Some(me) = from_token {
                ui.label("You are");
                ui.label(format!("{} ({}), from your token", me.person, me.role))
                    .on_hover_text(
                        "Every note you make is signed with the name and role of the token \
                         the server gave you",
                    );
                ui.end_row();
            } else {
                labelled_field(
                    ui,
                    "Your name",
                    &mut form.author,
                    260.0,
                    false,
                    MAX_NAME_CHARS,
                );
                ui.end_row();
                labelled_combo(
                    ui,
                    "Role",
                    egui::ComboBox::from_id_salt("settings-role").selected_text(form.role.as_str()),
                    |ui| {
                        for r in ROLES {
                            ui.selectable_value(&mut form.role, r, r.as_str());
                        }
                    },
                );
                ui.end_row();
            }
            labelled_field(ui, "Server", &mut form.server_url, 260.0, false, 1000)
                .on_hover_text("e.g. http://studio-pc:7878; empty to work offline");
            ui.end_row();
            labelled_field(ui, "Token", &mut form.token, 260.0, true, 1000).on_hover_text(
                "Paste the token your executive producer sent. It is stored in your user \
                 config, never in the DAW project. Empty keeps the stored one.",
            );
            ui.end_row();
        });
    ui.separator();
    clip_lengths(app, ui);
    ui.separator();
    let form = app
        .settings
        .get_or_insert_with(|| SettingsForm::from_settings(&current));
    let problems = form.problems();
    for p in &problems {
        ui.label(RichText::new(&p.message).color(Color32::from_rgb(225, 85, 85)));
    }
    let mut save = false;
    let mut test = false;
    ui.horizontal(|ui| {
        save = ui
            .add_enabled(problems.is_empty(), egui::Button::new("Save settings"))
            .clicked();
        test = ui
            .add_enabled(
                problems.is_empty() && app.test_chore.is_none(),
                egui::Button::new("Test connection"),
            )
            .clicked();
        if app.test_chore.is_some() {
            ui.spinner();
        }
    });
    if test {
        app.settings_message = None;
        app.test_chore = Some(form.test_connection(&current, app.repaint.clone()));
    }
    if save {
        // Applied once the token is stored, so sync never looks for a token not written yet.
        let new = form.to_settings(&current, me.as_ref());
        app.save_chore = Some(form.save_files(new.clone(), app.repaint.clone()));
        app.pending_settings = Some(new);
        form.token.clear();
        app.settings_message = None;
    }
    if app.save_chore.is_some() {
        ui.spinner();
    }
    if let Some(m) = &app.settings_message {
        let (text, color) = match m {
            Ok(t) => (t.as_str(), Color32::from_rgb(80, 190, 110)),
            Err(e) => (e.as_str(), Color32::from_rgb(225, 85, 85)),
        };
        ui.label(RichText::new(text).color(color));
    }
}

const CLIP_COLOR: Color32 = Color32::from_rgb(110, 170, 230);

/// What a row's clip holds, in words.
fn clip_text(c: &liner_record::views::ClipView) -> String {
    let clip = &c.clip;
    format!(
        "Audio clip: {:.1} s, the moment {:.1} s in ({} Hz, {}){}",
        clip.seconds(),
        clip.moment_seconds(),
        clip.sample_rate,
        if clip.channels == 1 { "mono" } else { "stereo" },
        if c.private {
            "; private, stays on this computer"
        } else {
            ""
        }
    )
}

//! The capture bar: the note being typed, its stamp, category, take and privacy.

use super::*;

pub(super) fn capture(app: &mut EditorApp, ui: &mut egui::Ui) {
    ui.horizontal_wrapped(|ui| where_line(app, ui));
    ui.horizontal_wrapped(|ui| stamp_tools(app, ui));
    ui.horizontal_wrapped(|ui| categories(app, ui));
    note_field(app, ui);
}

/// Where the DAW is, and where the note being typed sits.
fn where_line(app: &mut EditorApp, ui: &mut egui::Ui) {
    let ph = app.ph;
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
}

/// Moving the stamp (nudges, the last mark, a range, the loop), privacy and the take.
fn stamp_tools(app: &mut EditorApp, ui: &mut egui::Ui) {
    let ph = app.ph;
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
        .on_hover_text("Stays on this computer: never synced or exported unless asked (Ctrl+P)");
    if let Some(take) = app.draft.take {
        if ui
            .small_button(format!("take {} (detach)", take.number))
            .on_hover_text("The note is about this take; click to detach it")
            .clicked()
        {
            app.draft.take = None;
        }
    }
}

/// The note's category, one click (or Ctrl+digit) each.
fn categories(app: &mut EditorApp, ui: &mut egui::Ui) {
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
}

/// The note field: the first keystroke stamps, Enter saves, Esc discards.
fn note_field(app: &mut EditorApp, ui: &mut egui::Ui) {
    let ph = app.ph;
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

//! The Not sent page: what waits for someone, and the answers (send as me, fix, drop).

use super::*;

/// What waits to be sent, and why: refused by the server (fix or drop), brought in from a
/// project file or made under another name (send as the token's person, or drop), or never
/// to go with this token (drop, or keep on this computer).
pub(super) fn not_sent(app: &mut EditorApp, ui: &mut egui::Ui) {
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
                ui.label(crate::editor::outbox::summary(event));
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
pub(super) fn fix_panel(
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

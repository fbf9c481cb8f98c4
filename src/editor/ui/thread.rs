//! Under the selected row: the done that answered its changes request, *Done, please
//! re-check* while changes are requested (for those the record's rules let say it), and its
//! thread of replies with a field to answer.

use super::*;
use liner_record::review::Standing;
use liner_record::rules;
use uuid::Uuid;

/// The row's way back and its thread. `song` and `track` are the row's (where a reply or a
/// done about it belongs).
pub(super) fn review_loop(
    app: &mut EditorApp,
    ui: &mut egui::Ui,
    target: Uuid,
    verdict: Option<&VerdictView>,
    (song, track): (&str, &str),
) {
    if let Some(v) = verdict {
        done_part(app, ui, target, v, (song, track));
    }
    thread(app, ui, target, (song, track));
}

fn done_part(
    app: &mut EditorApp,
    ui: &mut egui::Ui,
    target: Uuid,
    v: &VerdictView,
    (song, track): (&str, &str),
) {
    if let Some(d) = &v.done {
        let version = d
            .version
            .and_then(|id| app.snap.views.versions.iter().find(|x| x.id == id))
            .map_or(String::new(), |x| format!(" in {}", x.label));
        let comment = if d.comment.is_empty() {
            String::new()
        } else {
            format!(": {}", d.comment)
        };
        ui.label(
            RichText::new(format!("Done by {}{version}{comment}", d.author)).color(RECHECK_COLOR),
        );
        return;
    }
    let role = app.link.state().read().settings.role;
    if !Standing::said(v).may_be_done() || !rules::may_mark_done(role) {
        return;
    }
    let mut versions: Vec<(Uuid, String)> = app
        .snap
        .views
        .versions_of(song)
        .map(|x| (x.id, x.label.clone()))
        .collect();
    versions.reverse();
    if app.done.as_ref().is_none_or(|f| f.target != target) {
        app.done = Some(DoneForm {
            target,
            comment: String::new(),
            version: versions.first().map(|(id, _)| *id),
        });
    }
    let form = app.done.as_mut().expect("set above");
    let mut send = false;
    ui.horizontal_wrapped(|ui| {
        labelled_field(
            ui,
            "What you changed",
            &mut form.comment,
            220.0,
            false,
            MAX_TEXT_CHARS,
        );
        if !versions.is_empty() {
            let shown = form
                .version
                .and_then(|id| versions.iter().find(|(x, _)| *x == id))
                .map_or("no version".to_owned(), |(_, l)| l.clone());
            labelled_combo(
                ui,
                "In version",
                egui::ComboBox::from_id_salt("done-version").selected_text(shown),
                |ui| {
                    for (id, label) in &versions {
                        ui.selectable_value(&mut form.version, Some(*id), label);
                    }
                    ui.selectable_value(&mut form.version, None, "no version");
                },
            );
        }
        send = ui.button("Done, please re-check").clicked();
    });
    if send {
        app.mark_done(target, v.id, song, track);
    }
}

fn thread(app: &mut EditorApp, ui: &mut egui::Ui, target: Uuid, (song, track): (&str, &str)) {
    let me = app.link.state().read().settings.author.clone();
    let role = app.link.state().read().settings.role;
    let replies = app
        .snap
        .views
        .replies
        .get(&target)
        .cloned()
        .unwrap_or_default();
    for r in &replies {
        let editing = app.reply_edit.as_ref().is_some_and(|(id, _)| *id == r.id);
        ui.horizontal_wrapped(|ui| {
            // Indented under the row (the editor's font has no arrow glyph).
            ui.add_space(14.0);
            ui.label(RichText::new(format!("{}:", r.author)).strong());
            if editing {
                let (_, text) = app.reply_edit.as_mut().expect("editing");
                let field = labelled_field(ui, "Edit reply", text, 240.0, false, MAX_TEXT_CHARS);
                let enter = field.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter));
                if enter | ui.button("Save reply").clicked() {
                    app.save_reply_edit(song, track);
                } else if ui.button("Delete reply").clicked() {
                    app.delete_reply(r.id, song, track);
                }
            } else {
                ui.label(&r.text);
                if r.edited_at.is_some() {
                    ui.label(RichText::new("(edited)").small().weak());
                }
                if r.author == me && ui.small_button("Edit reply").clicked() {
                    app.reply_edit = Some((r.id, r.text.clone()));
                }
            }
        });
    }
    // A private note's thread would leave the computer: nobody answers one.
    let private = app
        .snap
        .views
        .notes
        .iter()
        .any(|n| n.id == target && n.private);
    if role == liner_record::Role::Viewer || private {
        return;
    }
    if app.reply.as_ref().is_none_or(|(t, _)| *t != target) {
        app.reply = Some((target, String::new()));
    }
    let mut send = false;
    ui.horizontal(|ui| {
        let (_, text) = app.reply.as_mut().expect("set above");
        let field = labelled_field(ui, "Reply", text, 260.0, false, MAX_TEXT_CHARS);
        send = (field.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter)))
            | ui.button("Send reply").clicked();
    });
    if send {
        app.send_reply(target, song, track);
    }
}

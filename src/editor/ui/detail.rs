//! The selected row's detail: the whole text, its verdict, and what you may do with it.

use super::thread::review_loop;
use super::*;

pub(super) fn detail(app: &mut EditorApp, ui: &mut egui::Ui) {
    let Some((kind, id)) = app.selected else {
        return;
    };
    let me = app.link.state().read().settings.author.clone();
    let v = &app.snap.views;
    if let Some(c) = v.clips.get(&id) {
        ui.label(RichText::new(clip_text(c)).small().color(CLIP_COLOR));
    }
    let span = crate::editor::list::span_of(v, kind, id);
    if let Some(span) = span.filter(|_| app.reaper.as_ref().is_some_and(|r| r.can_go_there())) {
        if ui
            .button("Go there")
            .on_hover_text("Move REAPER's edit cursor here (a range also sets the time selection)")
            .clicked()
        {
            app.go_there(span);
        }
    }
    let v = &app.snap.views;
    match kind {
        RowKind::Note => {
            let Some(n) = v.notes.iter().find(|n| n.id == id).cloned() else {
                app.selected = None;
                return;
            };
            // A comment made on a version's waveform says which mix it was heard on.
            let on = n
                .version
                .and_then(|id| v.versions.iter().find(|x| x.id == id))
                .map_or(String::new(), |x| format!(" · on {}", x.label));
            if n.author == me {
                own_note_actions(app, ui, &n);
            }
            ui.label(
                RichText::new(format!(
                    "{} · {} · {} · {}{on}",
                    category_label(n.category),
                    n.written_by(),
                    n.track,
                    liner_record::export::date(n.created_at)
                ))
                .small()
                .weak(),
            );
            verdict_line(ui, n.verdict.as_ref());
            ui.label(RichText::new(&n.text).size(15.0));
            review_loop(app, ui, id, n.verdict.as_ref(), (&n.song, &n.track));
        }
        RowKind::Decision => {
            if let Some(d) = v.decisions.iter().find(|d| d.id == id).cloned() {
                ui.label(RichText::new(decision_text(&d)).size(15.0));
                verdict_line(ui, d.verdict.as_ref());
                review_loop(app, ui, id, d.verdict.as_ref(), (&d.song, &d.track));
            }
        }
        RowKind::Take => {
            if let Some(t) = v.takes.iter().find(|t| t.id == Some(id)).cloned() {
                ui.label(RichText::new(take_text(&t)).size(15.0));
                verdict_line(ui, t.verdict.as_ref());
                review_loop(app, ui, id, t.verdict.as_ref(), (&t.song, &t.track));
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
                app.name_mark(&m);
            }
            review_loop(app, ui, id, None, (&m.song, &m.track));
        }
    }
}

pub(super) fn own_note_actions(
    app: &mut EditorApp,
    ui: &mut egui::Ui,
    n: &liner_record::views::NoteView,
) {
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
                app.edit_note(n);
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
                        app.delete_note(n.id);
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

//! The notes list: filters, the rows on screen, and the selected row's detail below.

use super::*;
use liner_record::review::Standing;

/// Height of one list row; rows are laid out at this fixed height so only visible ones are
/// drawn.
pub(super) const ROW_HEIGHT: f32 = 22.0;

pub(super) fn filters(app: &mut EditorApp, ui: &mut egui::Ui) {
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
        let words = |f: VerdictFilter| match f {
            VerdictFilter::Any => "any verdict",
            VerdictFilter::Is(s) => s.words(),
        };
        labelled_combo(
            ui,
            "Verdict",
            egui::ComboBox::from_id_salt("filter-verdict").selected_text(words(app.filter.verdict)),
            |ui| {
                let f = &mut app.filter.verdict;
                for choice in [
                    VerdictFilter::Any,
                    VerdictFilter::Is(Standing::Open),
                    VerdictFilter::Is(Standing::Recheck),
                    VerdictFilter::Is(Standing::Decided(Verdict::Approved)),
                    VerdictFilter::Is(Standing::Decided(Verdict::Rejected)),
                    VerdictFilter::Is(Standing::Decided(Verdict::ChangesRequested)),
                ] {
                    ui.selectable_value(f, choice, words(choice));
                }
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

pub(super) fn notes(app: &mut EditorApp, ui: &mut egui::Ui) {
    let (song, pop_up) = {
        let st = app.link.state().read();
        (st.settings.song.clone(), st.pop_up_notes)
    };
    app.rows.update(&app.snap, &song, &app.filter, false);
    let views = &app.snap.views;
    app.follow.update(
        views,
        &app.rows.rows,
        |r| r.id(views),
        app.ph.pos.seconds,
        app.ph.pos.playing,
        pop_up,
    );
    filters(app, ui);
    popped_up(app, ui);
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
        let mut area = egui::ScrollArea::vertical()
            .id_salt("liner-list")
            .max_height(list_height)
            .auto_shrink([false, false]);
        if let Some(i) = app.follow.reached {
            // The row just reached, in the middle of the list (once: then the reader scrolls).
            let row = ROW_HEIGHT + ui.spacing().item_spacing.y;
            area = area.vertical_scroll_offset((i as f32 * row - list_height / 2.0).max(0.0));
        }
        area.show_rows(ui, ROW_HEIGHT, total, |ui, range| {
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

/// The note the playhead just reached, with its words, for a few seconds (where the instance
/// pops notes up).
fn popped_up(app: &mut EditorApp, ui: &mut egui::Ui) {
    let Some(p) = app.follow.pop_up else {
        return;
    };
    let Some(n) = app.snap.views.notes.iter().find(|n| n.id == p.note) else {
        app.follow.pop_up = None;
        return;
    };
    let at = match &n.anchor {
        Some(liner_record::event::Anchor::Point { at }) => place(Some(at)),
        Some(liner_record::event::Anchor::Range { from, .. }) => place(Some(from)),
        None => "—".into(),
    };
    let mut close = false;
    egui::Frame::group(ui.style())
        .fill(ui.visuals().selection.bg_fill.gamma_multiply(0.35))
        .show(ui, |ui| {
            ui.horizontal_wrapped(|ui| {
                ui.label(
                    RichText::new(format!("{at} · {}: {}", n.written_by(), n.text)).size(15.0),
                );
                close = ui.small_button("Close").clicked();
            });
        });
    if close {
        app.follow.pop_up = None;
    } else {
        let left = crate::editor::follow::POP_UP_FOR.saturating_sub(p.since.elapsed());
        ui.ctx().request_repaint_after(left);
    }
}

/// What one row shows, whatever its kind.
struct RowFields<'a> {
    id: uuid::Uuid,
    place: String,
    kind: &'static str,
    author: &'a str,
    text: String,
    verdict: Option<&'a VerdictView>,
    private: bool,
}

fn row_fields(v: &liner_record::Views, row: crate::editor::list::Row) -> RowFields<'_> {
    let (id, place_text, kind, author, text, verdict, private) = match row.kind {
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
    RowFields {
        id,
        place: place_text,
        kind,
        author,
        text,
        verdict,
        private,
    }
}

/// Draws one row; returns what was clicked.
pub(super) fn list_row(
    app: &EditorApp,
    ui: &mut egui::Ui,
    row: crate::editor::list::Row,
) -> Option<(RowKind, uuid::Uuid)> {
    let v = &app.snap.views;
    let RowFields {
        id,
        place: pos,
        kind,
        author,
        text,
        verdict,
        private,
    } = row_fields(v, row);
    let selected = app.selected == Some((row.kind, id));
    let lit = app.follow.is_lit(id);
    let go_there = app
        .reaper
        .as_ref()
        .filter(|r| r.can_go_there())
        .and_then(|_| row.span(v));
    // The row's right edge (its content may end before it).
    let right = ui.max_rect().right();
    let r = ui
        .horizontal(|ui| {
            if lit {
                // The playhead is at it: the row lights up, and says so in words.
                let rect = ui.max_rect();
                let fill = ui.visuals().selection.bg_fill.gamma_multiply(0.45);
                ui.painter().rect_filled(rect, 3.0, fill);
            }
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
            if lit {
                ui.label(RichText::new("now").small().strong());
            }
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
            // The text and the comment end where *Go there* begins (it is drawn below).
            let room = if go_there.is_some() {
                GO_THERE_WIDTH
            } else {
                0.0
            };
            let comment = verdict
                .map(|v| v.comment.as_str())
                .filter(|c| !c.is_empty());
            text_and_comment(ui, line, comment, right - room);
        })
        .response;
    let r = ui.interact(
        r.rect,
        ui.scope_id().with(("row", row.kind as u8, row.index)),
        egui::Sense::click(),
    );
    if let Some(span) = go_there {
        go_there_button(app, ui, egui::pos2(right, r.rect.top()), span);
    }
    r.clicked().then_some((row.kind, id))
}

/// A row's text and its verdict's comment, cut to end at `right`.
fn text_and_comment(ui: &mut egui::Ui, line: RichText, comment: Option<&str>, right: f32) {
    ui.allocate_ui_with_layout(
        egui::vec2((right - ui.cursor().left()).max(0.0), ROW_HEIGHT - 6.0),
        egui::Layout::left_to_right(egui::Align::Center),
        |ui| {
            ui.add(egui::Label::new(line).truncate());
            if let Some(c) = comment {
                ui.add(egui::Label::new(RichText::new(c).italics().weak()).truncate());
            }
        },
    );
}

/// A row's *Go there*, ending at `top_right`, in the room the row kept for it. Added after the
/// row's own click area, so it is on top of it should they meet.
fn go_there_button(
    app: &EditorApp,
    ui: &mut egui::Ui,
    top_right: egui::Pos2,
    span: crate::reaper::Span,
) {
    let rect = egui::Rect::from_min_size(
        egui::pos2(top_right.x - GO_THERE_WIDTH + 4.0, top_right.y + 2.0),
        egui::vec2(GO_THERE_WIDTH - 6.0, ROW_HEIGHT - 8.0),
    );
    let b = ui
        .put(rect, egui::Button::new(RichText::new("Go there").small()))
        .on_hover_text("Move REAPER's edit cursor here (a range also sets the time selection)");
    if b.clicked() {
        app.go_there(span);
    }
}

/// The width of a row's *Go there* button.
const GO_THERE_WIDTH: f32 = 70.0;

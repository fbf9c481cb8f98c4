//! Drawing the editor, one panel per file: [`header`], [`capture`], [`notes`] (the list and
//! its filters), [`detail`] (with [`thread`]: replies and done), [`takes`], [`decision`] (EQ / FX), [`not_sent`], [`settings`];
//! [`widgets`] holds what they share. State and rules live in the parent module: the panels
//! read it and call [`EditorApp`]'s actions, they never build events or write settings.

use super::decision::UNITS;
use super::draft::{playhead_position, CATEGORIES, NUDGE_SECONDS};
use super::list::{decision_text, mark_text, place, take_text, KindFilter, RowKind, VerdictFilter};
use super::settings_form::{SettingsForm, ROLES};
use super::{DoneForm, EditBuffer, EditorApp, Tab};
use crate::worker::SyncStatus;
use egui::{Color32, Key, Modifiers, RichText};
use liner_record::event::{Body, Category, Rating, Verdict};
use liner_record::export::Format;
use liner_record::limits::{MAX_NAME_CHARS, MAX_SETTINGS, MAX_SETTING_NAME_CHARS, MAX_TEXT_CHARS};
use liner_record::outbox::Waiting;
use liner_record::views::VerdictView;

mod capture;
mod decision;
mod detail;
mod header;
mod not_sent;
mod notes;
mod print;
mod settings;
mod takes;
mod thread;
mod widgets;

use capture::capture;
use decision::decision;
use detail::detail;
use header::header;
use not_sent::not_sent;
use notes::notes;
use settings::settings;
use takes::takes;
use widgets::*;

pub(super) fn style(ctx: &egui::Context) {
    ctx.set_visuals(egui::Visuals::dark());
    ctx.global_style_mut(|s| {
        s.spacing.item_spacing = egui::vec2(6.0, 5.0);
        s.spacing.button_padding = egui::vec2(7.0, 3.0);
    });
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
    if app.notices.shown().next().is_some() {
        egui::Panel::top("liner-notices").show(ui, |ui| notices(app, ui));
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

/// What answers you, briefly (never while the client is in the room: it holds notes' words).
fn notices(app: &mut EditorApp, ui: &mut egui::Ui) {
    let mut dismissed = None;
    let mut soonest = None::<std::time::Duration>;
    for (i, (words, left)) in app.notices.shown().enumerate() {
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new(words).color(RECHECK_COLOR));
            if ui.small_button("Dismiss").clicked() {
                dismissed = Some(i);
            }
        });
        soonest = Some(soonest.map_or(left, |s| s.min(left)));
    }
    if let Some(i) = dismissed {
        app.notices.dismiss(i);
    }
    if let Some(left) = soonest {
        ui.ctx().request_repaint_after(left);
    }
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

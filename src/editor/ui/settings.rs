//! The settings page: project, song, who you are, server and token; clip lengths.

use super::*;

/// How long clips are, applied at once (the next note's clip is cut to it).
pub(super) fn clip_lengths(app: &mut EditorApp, ui: &mut egui::Ui) {
    let (mut before, mut after) = {
        let st = app.link.state().read();
        (st.clip_before, st.clip_after)
    };
    let most = liner_record::clips::MAX_CLIP_SECONDS as f32;
    ui.horizontal_wrapped(|ui| {
        // The switch itself is in the header, always in sight.
        ui.label("Clips:");
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
            app.set_clip_lengths(before, after);
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

pub(super) fn settings(app: &mut EditorApp, ui: &mut egui::Ui) {
    let current = app.link.state().read().settings.clone();
    let me = app.link.identity();
    let form = app
        .settings
        .get_or_insert_with(|| SettingsForm::from_settings(&current));
    // Once the server said who the token speaks for, the name and role are the token's.
    let from_token = me
        .as_ref()
        .filter(|_| form.server_url.trim() == current.server_url && form.token.is_empty());
    settings_grid(ui, form, from_token);
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
        app.test_connection();
    }
    if save {
        app.save_settings();
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

/// The settings form's fields; who you are comes from the token once the server said so.
fn settings_grid(
    ui: &mut egui::Ui,
    form: &mut SettingsForm,
    from_token: Option<&liner_record::outbox::Identity>,
) {
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
}

//! The EQ / FX decision form.

use super::*;

pub(super) fn decision(app: &mut EditorApp, ui: &mut egui::Ui) {
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

//! The takes page: each take of the song, its rating, stars and note.

use super::*;

pub(super) fn takes(app: &mut EditorApp, ui: &mut egui::Ui) {
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

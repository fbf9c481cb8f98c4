//! Small pieces every panel uses: verdict badges, labelled fields and menus, text limits,
//! stars, clip labels.

use super::*;
use liner_record::review::Standing;

pub(super) fn verdict_color(v: Verdict) -> Color32 {
    match v {
        Verdict::Approved => Color32::from_rgb(80, 190, 110),
        Verdict::Rejected => Color32::from_rgb(225, 85, 85),
        Verdict::ChangesRequested => Color32::from_rgb(235, 170, 60),
    }
}

/// The colour of a re-check (done after changes requested: the executive's turn again).
pub(super) const RECHECK_COLOR: Color32 = Color32::from_rgb(110, 170, 240);

pub(super) fn verdict_badge(ui: &mut egui::Ui, v: Option<&VerdictView>) {
    match v {
        Some(v) => {
            let standing = Standing::said(v);
            let color = match standing {
                Standing::Recheck => RECHECK_COLOR,
                _ => verdict_color(v.verdict),
            };
            let r = ui.label(
                RichText::new(standing.words())
                    .small()
                    .strong()
                    .color(color),
            );
            if !v.comment.is_empty() {
                r.on_hover_text(format!("{}: {}", v.author, v.comment));
            }
        }
        None => {
            ui.label(RichText::new(Standing::Open.words()).small().weak());
        }
    }
}

/// The executive's verdict and comment in full, for the detail of a row.
pub(super) fn verdict_line(ui: &mut egui::Ui, v: Option<&VerdictView>) {
    if let Some(verdict) = v {
        ui.horizontal_wrapped(|ui| {
            verdict_badge(ui, Some(verdict));
            ui.label(format!("{}: {}", verdict.author, verdict.comment));
        });
    }
}

pub(super) fn category_label(c: Category) -> &'static str {
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

/// A combo box with a visible label that screen readers and tests find too.
pub(super) fn labelled_combo(
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
pub(super) fn choice_filter(
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
pub(super) fn labelled_field(
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
pub(super) fn limit_counter(ui: &mut egui::Ui, text: &str, limit: usize) {
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

/// A clickable star, drawn (the bundled fonts have no star glyph).
pub(super) fn star(ui: &mut egui::Ui, lit: bool, name: &str) -> egui::Response {
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

pub(super) const CLIP_COLOR: Color32 = Color32::from_rgb(110, 170, 230);

/// What a row's clip holds, in words.
pub(super) fn clip_text(c: &liner_record::views::ClipView) -> String {
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

pub(super) fn position_text(p: Option<liner_record::DawPos>) -> String {
    match p {
        Some(p) => place(Some(&p)),
        None => "no position from the DAW yet".into(),
    }
}

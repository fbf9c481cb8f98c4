//! Printing a version from the header: *Print* / *Stop printing*, which instance prints,
//! elapsed time and level while it does, and what the last print became (label, length,
//! loudness, true peak, clean or what was lost where).

use super::*;
use crate::print::{Phase, PrintStatus, Printed, Progress};

const AMBER: Color32 = Color32::from_rgb(235, 170, 60);
const RED: Color32 = Color32::from_rgb(225, 85, 85);
const GREEN: Color32 = Color32::from_rgb(80, 190, 110);

/// "1:23.4".
fn clock(seconds: f64) -> String {
    let s = seconds.max(0.0);
    format!("{}:{:04.1}", (s / 60.0).floor() as u64, s % 60.0)
}

/// A peak level in dBFS ("-6.0 dBFS", "-inf dBFS").
fn dbfs(level: f32) -> String {
    if level > 0.0 {
        format!("{:.1} dBFS", 20.0 * level.log10())
    } else {
        "-inf dBFS".into()
    }
}

/// "v3 · 3:41.2 · -14.1 LUFS · -0.9 dBTP · clean".
pub(super) fn printed_line(p: &Printed) -> String {
    let mut parts = vec![p.label.clone(), clock(p.seconds)];
    if p.loudness.integrated.is_some() {
        parts.push(p.loudness.lufs_words());
    }
    if p.loudness.true_peak.is_some() {
        parts.push(p.loudness.true_peak_words());
    }
    if p.offline {
        parts.push("offline bounce".into());
    }
    parts.push(p.cleanliness());
    parts.join(" · ")
}

/// The print row under the header.
pub(super) fn print_line(app: &mut EditorApp, ui: &mut egui::Ui) {
    let print = app.link.print();
    let mut phase = print.phase();
    if phase == Phase::Idle && print.armed_in_editor() {
        // Armed here; the audio thread has not looked yet (or the host is not processing).
        phase = Phase::Armed;
    }
    let (song, track) = {
        let st = app.link.state().read();
        (st.settings.song.clone(), st.settings.track.clone())
    };
    let status = print.status();
    ui.horizontal_wrapped(|ui| {
        let label = match phase {
            Phase::Armed | Phase::Printing => "Stop printing",
            Phase::Idle | Phase::Done => "Print",
        };
        let r = ui.button(label).on_hover_text(
            "Print a version of this song from the audio passing through this instance \
             (put it on the mix bus): from the next transport start to its stop, or over the \
             loop once. The Print parameter does the same from an automation lane.",
        );
        if r.clicked() {
            match phase {
                Phase::Armed | Phase::Printing => app.stop_printing(),
                Phase::Idle | Phase::Done => app.print(),
            }
        }
        state_words(ui, phase, &status, &print.take_level(), &song, &track);
    });
    if let Some(other) = app.link.other_printer() {
        ui.label(
            RichText::new(format!(
                "Another instance ({other}) is armed to print or printing {song}: one print \
                 per song at a time."
            ))
            .small()
            .color(AMBER),
        );
    }
    if matches!(phase, Phase::Armed | Phase::Printing) || status.progress.is_some() {
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_millis(100));
    }
}

/// What the print is doing, in words.
fn state_words(
    ui: &mut egui::Ui,
    phase: Phase,
    status: &PrintStatus,
    live: &Option<Progress>,
    song: &str,
    track: &str,
) {
    match (phase, live) {
        (Phase::Printing, Some(p)) => {
            let lost = if p.lost > 0 {
                format!(
                    " · {:.0} ms lost",
                    p.lost as f64 * 1000.0 / p.sample_rate.max(1) as f64
                )
            } else {
                String::new()
            };
            ui.label(
                RichText::new(format!(
                    "Printing {song} on {track}: {} · peak {}{lost}",
                    clock(p.seconds()),
                    dbfs(p.level)
                ))
                .color(RED)
                .strong(),
            );
        }
        (Phase::Printing, None) => {
            ui.label(
                RichText::new(format!("Printing {song} on {track}"))
                    .color(RED)
                    .strong(),
            );
        }
        (Phase::Armed, _) => {
            ui.label(
                RichText::new(format!(
                    "Armed: {track} prints {song} from the next transport start"
                ))
                .color(AMBER),
            );
        }
        (_, Some(p)) => {
            ui.label(
                RichText::new(format!("Finishing the version ({})…", clock(p.seconds()))).weak(),
            );
        }
        (Phase::Idle | Phase::Done, None) => last_words(ui, phase, status),
    }
}

/// The last print's outcome.
fn last_words(ui: &mut egui::Ui, phase: Phase, status: &PrintStatus) {
    match &status.last {
        Some(Ok(p)) => {
            let color = if p.gaps.is_empty() { GREEN } else { AMBER };
            ui.label(RichText::new(format!("Printed {}", printed_line(p))).color(color));
        }
        Some(Err(e)) => {
            ui.label(RichText::new(format!("Not printed: {e}")).color(RED));
        }
        None => {}
    }
    if phase == Phase::Done {
        ui.label(
            RichText::new("(the Print parameter is still on: off and on again prints anew)")
                .small()
                .weak(),
        );
    }
}

//! The header: song and track, who you are, the sync dot, the privacy and clip switches,
//! exporting the log, and printing a version ([`super::print`]).

use super::*;
use liner_record::settings::Settings;

pub(super) fn sync_line(status: &SyncStatus) -> (Color32, String, Option<String>) {
    match status {
        SyncStatus::Off => (Color32::GRAY, "offline by choice".into(), None),
        SyncStatus::Synced => (Color32::from_rgb(80, 190, 110), "synced".into(), None),
        SyncStatus::Waiting(n) => (
            Color32::from_rgb(235, 170, 60),
            format!("synced, {n} not sent"),
            None,
        ),
        SyncStatus::Connecting => (Color32::from_rgb(235, 170, 60), "connecting".into(), None),
        SyncStatus::Offline { reason, since_ms } => (
            Color32::from_rgb(225, 85, 85),
            "offline".into(),
            Some(format!(
                "{reason} (since {})",
                liner_record::export::date(*since_ms)
            )),
        ),
    }
}

pub(super) fn header(app: &mut EditorApp, ui: &mut egui::Ui) {
    let settings = app.link.state().read().settings.clone();
    let sync = app.link.sync_status();
    ui.horizontal_wrapped(|ui| {
        song_and_track(app, ui, &settings);
        ui.separator();
        status(app, ui, &settings, &sync);
        ui.separator();
        switches_and_export(app, ui);
    });
    super::print::print_line(app, ui);
    if let Some(reason) = sync_line(&sync).2 {
        ui.horizontal_wrapped(|ui| {
            ui.label(
                RichText::new(reason)
                    .small()
                    .color(Color32::from_rgb(225, 85, 85)),
            );
            if app.tab != Tab::Settings && ui.small_button("Open settings").clicked() {
                app.tab = Tab::Settings;
                app.settings = None;
            }
        });
    }
    if let Some(lost) = app
        .link
        .clip_audio_lost()
        .filter(|_| app.link.state().read().clip_audio)
    {
        ui.label(
            RichText::new(format!(
                "Clips: {lost:.1} s of audio could not be kept (the computer was too busy); \
                 clips made around then have silence in them."
            ))
            .small()
            .color(Color32::from_rgb(235, 170, 60)),
        );
    }
    if let Some(up) = app.link.version_upload() {
        ui.label(RichText::new(upload_line(&up)).small());
    }
    if let Some(problem) = app.link.version_problem() {
        ui.label(
            RichText::new(format!(
                "Versions wait on the server: {problem}. Your notes still sync; the version \
                 follows once there is room."
            ))
            .small()
            .color(Color32::from_rgb(235, 170, 60)),
        );
    }
    if let Some(problem) = app.link.clip_problem() {
        ui.label(
            RichText::new(format!(
                "Clips wait on the server: {problem}. Your notes still sync; the clips follow \
                 once there is room."
            ))
            .small()
            .color(Color32::from_rgb(235, 170, 60)),
        );
    }
    if let Some(m) = &app.export_message {
        let (text, color) = match m {
            Ok(t) => (t.clone(), Color32::from_rgb(80, 190, 110)),
            Err(e) => (
                format!("Export failed: {e}"),
                Color32::from_rgb(225, 85, 85),
            ),
        };
        ui.label(RichText::new(text).small().color(color));
    }
}

/// "Uploading Night Drive v3: 41% (25.0 of 61.2 MB)", or that it is on the server.
pub(super) fn upload_line(up: &liner_record::sync::VersionUpload) -> String {
    let mb = |b: u64| b as f64 / 1e6;
    if up.sent_bytes >= up.total_bytes {
        format!("{} {} is on the server", up.song, up.label)
    } else {
        format!(
            "Uploading {} {}: {}% ({:.1} of {:.1} MB)",
            up.song,
            up.label,
            up.percent(),
            mb(up.sent_bytes),
            mb(up.total_bytes)
        )
    }
}

/// "Clip audio with notes": the instance's switch, in the header so its state is always in
/// sight (it is saved with the project).
pub(super) fn clip_switch(app: &mut EditorApp, ui: &mut egui::Ui) {
    let (mut on, before, after) = {
        let st = app.link.state().read();
        (st.clip_audio, st.clip_before, st.clip_after)
    };
    let was_on = on;
    let r = ui
        .toggle_value(&mut on, if was_on { "Clips: on" } else { "Clips: off" })
        .on_hover_text(format!(
            "Clip audio with notes: keep {before:.0} s before and {after:.0} s after each \
             note, decision and mark made while audio flows through this instance, so the \
             reviewer hears the moment (a private note's clip stays on this computer)"
        ));
    if r.changed() {
        app.set_clip_audio(on);
    }
}

/// "Pop-up notes": per instance, each note pops up with its words as the playhead reaches it
/// (the list lights the rows at the playhead either way).
pub(super) fn pop_up_switch(app: &mut EditorApp, ui: &mut egui::Ui) {
    let mut on = app.link.state().read().pop_up_notes;
    let r = ui.toggle_value(&mut on, "Pop-up notes").on_hover_text(
        "While the transport runs, show each note with its words as the playhead \
             reaches it (saved with the project, for this instance)",
    );
    if r.changed() {
        app.set_pop_up_notes(on);
    }
}

/// "REAPER markers": per instance, in REAPER only, the song's notes, decisions and marks as
/// the project's own markers and regions, coloured by verdict.
pub(super) fn reaper_markers_switch(app: &mut EditorApp, ui: &mut egui::Ui) {
    if !app.reaper.as_ref().is_some_and(|r| r.can_show_markers()) {
        return;
    }
    let mut on = app.link.state().read().reaper_markers;
    let r = ui.toggle_value(&mut on, "REAPER markers").on_hover_text(
        "Show this song's notes, decisions and marks as REAPER markers (range notes as \
         regions), coloured by verdict and kept up to date; off takes them away again. Your \
         own markers are never touched (saved with the project, for this instance)",
    );
    if r.changed() {
        app.set_reaper_markers(on);
    }
}

/// The song menu (switching songs mid-session is one click; a new song is named in the
/// settings) and the track, named by the host or by hand.
fn song_and_track(app: &mut EditorApp, ui: &mut egui::Ui, settings: &Settings) {
    let mut songs = app.songs().clone();
    songs.insert(settings.song.clone());
    let mut song = settings.song.clone();
    labelled_combo(
        ui,
        "Song",
        egui::ComboBox::from_id_salt("header-song")
            .selected_text(RichText::new(&settings.song).strong().size(16.0)),
        |ui| {
            for s in &songs {
                ui.selectable_value(&mut song, s.clone(), s);
            }
        },
    );
    if song != settings.song {
        app.set_song(song);
    }
    if let Some((_, Some((r, g, b)))) = &app.host_track {
        let (rect, _) = ui.allocate_exact_size(egui::vec2(10.0, 14.0), egui::Sense::hover());
        ui.painter()
            .rect_filled(rect, 2.0, Color32::from_rgb(*r, *g, *b));
    }
    let host_named = app.host_track.as_ref().is_some_and(|(n, _)| !n.is_empty());
    if host_named {
        ui.label(&settings.track);
    } else {
        let mut track = settings.track.clone();
        let l = ui.label("Track");
        let r = ui
            .add(
                egui::TextEdit::singleline(&mut track)
                    .desired_width(110.0)
                    .hint_text("name this track"),
            )
            .labelled_by(l.id);
        if r.changed() {
            app.set_track(track);
        }
    }
}

/// Who you are, the sync dot and whether everything is on disk.
fn status(app: &mut EditorApp, ui: &mut egui::Ui, settings: &Settings, sync: &SyncStatus) {
    ui.label(format!("{} · {}", settings.author, settings.role.as_str()));
    ui.separator();
    let (color, text, reason) = sync_line(sync);
    let (rect, _) = ui.allocate_exact_size(egui::vec2(12.0, 12.0), egui::Sense::hover());
    ui.painter().circle_filled(rect.center(), 5.0, color);
    let r = ui.label(format!("Sync: {text}"));
    if let Some(reason) = &reason {
        r.on_hover_text(reason);
    }
    let (waiting, journal_error) = app.link.journal_status();
    if let Some(e) = journal_error {
        ui.label(
            RichText::new(format!("not saved to disk: {e}")).color(Color32::from_rgb(225, 85, 85)),
        );
    } else if waiting > 0 || !app.unsaved.is_empty() {
        ui.label(RichText::new("saving…").weak());
    }
}

/// The privacy and clip switches, and exporting the song's log.
fn switches_and_export(app: &mut EditorApp, ui: &mut egui::Ui) {
    ui.toggle_value(&mut app.client_in_room, "Client in the room")
        .on_hover_text("Hide every note at once (Ctrl+H)");
    clip_switch(app, ui);
    pop_up_switch(app, ui);
    reaper_markers_switch(app, ui);
    labelled_combo(
        ui,
        "Format",
        egui::ComboBox::from_id_salt("export-format").selected_text(app.export_format.name()),
        |ui| {
            for f in Format::ALL {
                ui.selectable_value(&mut app.export_format, f, f.name());
            }
        },
    );
    let busy = app.export_chore.is_some();
    if ui
        .add_enabled(!busy, egui::Button::new("Export log"))
        .on_hover_text("Write this song's decision log to the export folder")
        .clicked()
    {
        app.start_export();
    }
    ui.checkbox(&mut app.export_private, "with private notes");
}

#[cfg(test)]
mod upload_tests {
    use super::upload_line;
    use liner_record::sync::VersionUpload;

    #[test]
    fn an_upload_says_how_far_it_got_and_then_that_it_arrived() {
        let mut up = VersionUpload {
            event: uuid::Uuid::nil(),
            hash: "a".repeat(64).parse().unwrap(),
            song: "Night Drive".into(),
            label: "v3".into(),
            sent_bytes: 25_000_000,
            total_bytes: 61_200_000,
        };
        assert_eq!(
            upload_line(&up),
            "Uploading Night Drive v3: 40% (25.0 of 61.2 MB)"
        );
        up.sent_bytes = up.total_bytes;
        assert_eq!(upload_line(&up), "Night Drive v3 is on the server");
    }
}

//! Writing a song's decision log from the editor (a chore: off the GUI thread).

use super::chores;
use liner_record::export::Format;
use std::path::PathBuf;

/// Writes one song's decision log from the project's journal into the export folder.
///
/// # Errors
/// The journal cannot be read or the log cannot be written, in words.
pub fn export_song(
    project: &str,
    song: &str,
    format: Format,
    include_private: bool,
) -> Result<PathBuf, String> {
    use liner_record::export::{export, Scope};
    let journal = liner_record::Journal::open_project(project).map_err(|e| e.to_string())?;
    let events = journal.read().map_err(|e| e.to_string())?.into_events();
    let scope = Scope {
        song: Some(song.to_owned()),
        include_private,
        ..Scope::default()
    };
    let out = export(&events, &scope, format);
    let dir = chores::export_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let safe = liner_record::names::safe_name(song, &[' ', '-'], usize::MAX);
    let day = liner_record::export::date(liner_record::event::now_ms());
    let path = dir.join(format!(
        "{} decision log {day}.{}",
        safe.trim(),
        format.extension()
    ));
    std::fs::write(&path, &out.bytes)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}

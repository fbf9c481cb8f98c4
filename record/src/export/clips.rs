//! The clips of a decision log: which entries of an export have audio, the file each clip
//! gets in the folder beside the log, and the links the log carries to them.
//!
//! Files are named after their entries, in log order (`03-the-snare-drags-at-bar-23.flac`):
//! a number keeps them in the log's order and unique, the words say what each is; only
//! lowercase ASCII letters, digits and hyphens, so no name can climb out of the folder or
//! need quoting anywhere.

use super::entries::{entries, Scope};
use crate::clips::Clip;
use crate::event::Event;
use crate::names::percent_encoded;
use std::collections::BTreeMap;
use uuid::Uuid;

/// How many characters of an entry's text name its clip's file.
const NAME_CHARS: usize = 48;

/// One clip to write beside a log.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipFile {
    /// The entry (note, decision or mark) it is the audio of.
    pub entry: Uuid,
    pub clip: Clip,
    /// Its file name inside the clips folder.
    pub name: String,
}

/// The clips of the entries `scope` exports, in log order, each with its file name. A
/// private clip comes only with private notes (`scope.include_private`).
pub fn clip_files(events: &[Event], scope: &Scope) -> Vec<ClipFile> {
    let views = crate::views::fold(events);
    let width = views.clips.len().max(1).to_string().len().max(2);
    entries(events, &views, scope)
        .into_iter()
        .filter_map(|e| {
            let c = views.clips.get(&e.id)?;
            (!c.private || scope.include_private).then(|| (e, c.clip.clone()))
        })
        .enumerate()
        .map(|(n, (e, clip))| ClipFile {
            entry: e.id,
            name: format!(
                "{:0width$}-{}.{}",
                n + 1,
                crate::names::slug(e.text.as_str(), NAME_CHARS),
                clip.format.extension()
            ),
            clip,
        })
        .collect()
}

/// The links a log carries: entry id to the clip's path relative to the log
/// (`folder/name`), percent-encoded so it works as a Markdown or HTML link.
pub fn clip_links(folder: &str, files: &[ClipFile]) -> BTreeMap<Uuid, String> {
    files
        .iter()
        .map(|f| (f.entry, format!("{}/{}", percent_encoded(folder), f.name)))
        .collect()
}

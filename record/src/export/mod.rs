//! The session decision log in every format people and DAWs read (see `FORMATS.md`).
//!
//! [`export`] folds a record, keeps what the [`Scope`] asks for (a whole project, one song,
//! one session, a date range, one author; private notes only when asked) and renders one
//! [`Format`]. Everything that renders goes through [`entries`], so every format lists the
//! same things in the same order. Text is escaped per format; a note without a DAW position
//! still appears (with its wall-clock time) in the formats for people, and the marker
//! formats say how many they left out.

mod daw;
mod entries;
mod json;
mod table;
mod text;

pub use entries::{entries, Entry, EntryKind, Scope};
pub use json::{import_json, ImportError};

use crate::event::Event;

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The session decision log for people, with the recall sheet.
    Markdown,
    /// The same, printable HTML (prints cleanly to PDF from a browser).
    Html,
    /// One row per note/decision/mark/take, RFC 4180.
    Csv,
    /// The events themselves plus the folded views; `import_json` reads it back.
    Json,
    /// REAPER's Region/Marker Manager CSV.
    ReaperCsv,
    /// Audacity label track.
    AudacityLabels,
    /// Standard MIDI File with a tempo map and marker meta events.
    Midi,
}

impl Format {
    pub const ALL: [Format; 7] = [
        Format::Markdown,
        Format::Html,
        Format::Csv,
        Format::Json,
        Format::ReaperCsv,
        Format::AudacityLabels,
        Format::Midi,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::Markdown => "markdown",
            Format::Html => "html",
            Format::Csv => "csv",
            Format::Json => "json",
            Format::ReaperCsv => "reaper",
            Format::AudacityLabels => "audacity",
            Format::Midi => "midi",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Markdown => "md",
            Format::Html => "html",
            Format::Csv => "csv",
            Format::Json => "json",
            Format::ReaperCsv => "reaper.csv",
            Format::AudacityLabels => "txt",
            Format::Midi => "mid",
        }
    }

    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// What an export produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Exported {
    pub bytes: Vec<u8>,
    /// Entries a marker format could not place (no DAW position); 0 for other formats.
    pub left_out: usize,
}

/// Renders the part of `events` that `scope` selects as `format`.
pub fn export(events: &[Event], scope: &Scope, format: Format) -> Exported {
    let views = crate::views::fold(events);
    let list = entries(events, &views, scope);
    match format {
        Format::Markdown => Exported {
            bytes: text::markdown(&list, &views, scope).into_bytes(),
            left_out: 0,
        },
        Format::Html => Exported {
            bytes: text::html(&list, &views, scope).into_bytes(),
            left_out: 0,
        },
        Format::Csv => Exported {
            bytes: table::csv(&list),
            left_out: 0,
        },
        Format::Json => Exported {
            bytes: json::export_json(events, scope),
            left_out: 0,
        },
        Format::ReaperCsv => daw::reaper(&list),
        Format::AudacityLabels => daw::audacity(&list),
        Format::Midi => daw::midi(&list, events),
    }
}

//! The session decision log in every format people and DAWs read (see `docs/FORMATS.md`).
//!
//! [`export`] folds a record, keeps what the [`Scope`] asks for (a whole project, one song,
//! one session, a date range, one author; private notes only when asked) and renders one
//! [`Format`]. Everything that renders goes through [`entries`], so every format lists the
//! same things in the same order. Text is escaped per format (and in HTML each typed string is
//! isolated: [`bdi`]); a note without a DAW position still appears (with its wall-clock time)
//! in the formats for people, and the marker formats say how many they left out.

pub mod album;
mod bidi;
mod clips;
mod daw;
mod entries;
mod json;
mod table;
mod text;

pub use bidi::{bdi, isolated, unisolated, Mixed};
pub use clips::{clip_files, clip_links, ClipFile};
pub use daw::standing_rgb;
pub use entries::{entries, settings_text, Entry, EntryKind, Scope};
pub use json::{import_json, ImportError, Received};
pub use text::{date, date_time, duration};

use crate::event::Event;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_names_its_format_and_scope_or_says_what_is_wrong() {
        let ok = ExportRequest {
            format: "midi",
            since: Some("1970-01-02"),
            ..Default::default()
        };
        let (format, scope) = ok.parse().unwrap();
        assert_eq!((format, scope.since_ms), (Format::Midi, Some(86_400_000)));
        let bad = ExportRequest {
            format: "pdf",
            ..Default::default()
        };
        assert_eq!(
            bad.parse().unwrap_err().to_string(),
            "unknown format \"pdf\": use markdown, html, csv, json, reaper, audacity or midi"
        );
        let bad = ExportRequest {
            format: "csv",
            until: Some("soon"),
            ..Default::default()
        };
        assert_eq!(bad.parse(), Err(RequestError::BadDate("soon".into())));
    }

    #[test]
    fn dates_parse_as_utc() {
        assert_eq!(parse_date("1970-01-02"), Some(86_400_000));
        assert_eq!(parse_date("1970-01-01T01:30"), Some(5_400_000));
        assert_eq!(parse_date("1970-01-01 00:01"), Some(60_000));
        assert_eq!(parse_date("1970-13-01"), None);
        assert_eq!(parse_date("yesterday"), None);
    }
}

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

    /// Every format's name, in words: "markdown, html, ... or midi".
    ///
    /// # Panics
    /// Never: there are formats.
    pub fn names_in_words() -> String {
        let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
        let (last, rest) = names.split_last().expect("formats");
        format!("{} or {last}", rest.join(", "))
    }
}

/// An export as someone asked for it in text (the command line's options, the API's query).
#[derive(Debug, Clone, Default)]
pub struct ExportRequest<'a> {
    pub format: &'a str,
    pub song: Option<String>,
    pub session: Option<uuid::Uuid>,
    /// Dates as [`parse_date`] reads them.
    pub since: Option<&'a str>,
    pub until: Option<&'a str>,
    pub author: Option<String>,
    pub include_private: bool,
}

/// What is wrong with an [`ExportRequest`], in words for whoever typed it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RequestError {
    #[error("unknown format {name:?}: use {}", Format::names_in_words(), name = .0)]
    UnknownFormat(String),
    #[error("{0:?} is not a date like 2026-11-27")]
    BadDate(String),
}

impl ExportRequest<'_> {
    /// The format and the scope asked for.
    ///
    /// # Errors
    /// An unknown format name, or a date [`parse_date`] cannot read.
    pub fn parse(&self) -> Result<(Format, Scope), RequestError> {
        let format = Format::from_name(self.format)
            .ok_or_else(|| RequestError::UnknownFormat(self.format.to_owned()))?;
        let date = |d: Option<&str>| {
            d.map(|t| parse_date(t).ok_or_else(|| RequestError::BadDate(t.to_owned())))
                .transpose()
        };
        let scope = Scope {
            song: self.song.clone(),
            session: self.session,
            since_ms: date(self.since)?,
            until_ms: date(self.until)?,
            author: self.author.clone(),
            include_private: self.include_private,
        };
        Ok((format, scope))
    }
}

impl Format {
    /// The MIME type to serve it with.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Markdown => "text/markdown; charset=utf-8",
            Format::Html => "text/html; charset=utf-8",
            Format::Csv | Format::ReaperCsv => "text/csv; charset=utf-8",
            Format::Json => "application/json",
            Format::AudacityLabels => "text/plain; charset=utf-8",
            Format::Midi => "audio/midi",
        }
    }
}

/// Parses a date (`2026-11-27`, midnight UTC) or a date and time (`2026-11-27T14:30` or
/// `2026-11-27 14:30`, UTC) into UTC milliseconds.
pub fn parse_date(text: &str) -> Option<i64> {
    let text = text.trim();
    let (date, time_part) = match text.split_once(['T', ' ']) {
        Some((d, t)) => (d, Some(t)),
        None => (text, None),
    };
    let mut parts = date.split('-');
    let year: i32 = parts.next()?.parse().ok()?;
    let month: u8 = parts.next()?.parse().ok()?;
    let day: u8 = parts.next()?.parse().ok()?;
    if parts.next().is_some() {
        return None;
    }
    let date =
        time::Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()?;
    let (h, m) = match time_part {
        None => (0, 0),
        Some(t) => {
            let (h, m) = t.trim_end_matches('Z').split_once(':')?;
            (h.parse().ok()?, m.get(..2).unwrap_or(m).parse().ok()?)
        }
    };
    let dt = date.with_hms(h, m, 0).ok()?.assume_utc();
    Some((dt.unix_timestamp_nanos() / 1_000_000) as i64)
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
    export_received(events, &Default::default(), scope, format)
}

/// [`export`], with the server's audit trail for the JSON export.
pub fn export_received(
    events: &[Event],
    received: &std::collections::BTreeMap<uuid::Uuid, Received>,
    scope: &Scope,
    format: Format,
) -> Exported {
    export_linked(events, received, scope, format, &Default::default())
}

/// [`export_received`] whose Markdown and HTML link entries to their clips (`clips`: entry
/// id to a relative path, from [`clip_links`]); the other formats have no place for them.
pub fn export_linked(
    events: &[Event],
    received: &std::collections::BTreeMap<uuid::Uuid, Received>,
    scope: &Scope,
    format: Format,
    clips: &std::collections::BTreeMap<uuid::Uuid, String>,
) -> Exported {
    let views = crate::views::fold(events);
    let list = entries(events, &views, scope);
    match format {
        Format::Markdown => Exported {
            bytes: text::markdown(&list, &views, scope, clips).into_bytes(),
            left_out: 0,
        },
        Format::Html => Exported {
            bytes: text::html(&list, &views, scope, clips).into_bytes(),
            left_out: 0,
        },
        Format::Csv => Exported {
            bytes: table::csv(&list),
            left_out: 0,
        },
        Format::Json => Exported {
            bytes: json::export_json(events, scope, received),
            left_out: 0,
        },
        Format::ReaperCsv => daw::reaper(&list),
        Format::AudacityLabels => daw::audacity(&list),
        Format::Midi => daw::midi(&list, events),
    }
}

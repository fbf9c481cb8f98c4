//! CSV: one row per entry, RFC 4180 (the `csv` crate quotes), UTF-8, header row. Cells
//! people typed cannot run as spreadsheet formulas ([`inert`]).

use super::entries::Entry;
use super::text::date;

/// The columns, in order (docs/FORMATS.md lists the first thirteen as the minimum).
pub const COLUMNS: [&str; 15] = [
    "song",
    "session_date",
    "track",
    "take",
    "bar_beat",
    "time_seconds",
    "author",
    "role",
    "category",
    "text",
    "verdict",
    "verdict_comment",
    "id",
    "end_bar_beat",
    "end_time_seconds",
];

/// A cell a spreadsheet will not run: text starting with `=`, `+`, `-`, `@`, a tab or a
/// carriage return gets a leading `'` (OWASP's rule for CSV injection), which spreadsheets
/// show as text.
pub fn inert(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

pub fn csv(entries: &[Entry]) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    w.write_record(COLUMNS).expect("writing to memory");
    for e in entries {
        let (bar_beat, seconds) = match &e.start {
            Some(p) => (p.bar_beat(), format!("{:.3}", p.seconds)),
            None => (String::new(), String::new()),
        };
        let (end_bar_beat, end_seconds) = match &e.end {
            Some(p) => (p.bar_beat(), format!("{:.3}", p.seconds)),
            None => (String::new(), String::new()),
        };
        let (verdict, comment) = match &e.verdict {
            Some(v) => (v.verdict.as_str(), v.comment.as_str()),
            None => ("", ""),
        };
        w.write_record([
            &*inert(&e.song),
            &date(e.at),
            &inert(&e.track),
            &e.take.map(|t| t.to_string()).unwrap_or_default(),
            &bar_beat,
            &seconds,
            &inert(&e.author),
            e.role.as_str(),
            e.kind.category(),
            &inert(e.text.as_str()),
            verdict,
            &inert(comment),
            &e.id.to_string(),
            &end_bar_beat,
            &end_seconds,
        ])
        .expect("writing to memory");
    }
    w.into_inner().expect("writing to memory")
}

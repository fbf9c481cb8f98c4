//! The decision log for people: Markdown and printable HTML, grouped by song, session (date,
//! who was there, how long), track; with a summary on top and a recall sheet per song.

use super::bidi::{bdi, Mixed};
use super::entries::{settings_text, Entry, Scope};
use crate::review::{verdict_words, Standing, Tally};
use crate::views::{VerdictView, Views};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use uuid::Uuid;

/// `2026-11-27` (UTC).
pub fn date(ms: i64) -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    datetime(ms).format(&fmt).unwrap_or_default()
}

/// `2026-11-27 23:27 UTC`.
pub fn date_time(ms: i64) -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    datetime(ms).format(&fmt).unwrap_or_default()
}

fn datetime(ms: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

/// A length of time in words, to the nearest minute: `under a minute`, `45 min`,
/// `2 h 05 min`. The page and every export say durations with this.
pub fn duration(ms: i64) -> String {
    if ms < 60_000 {
        return "under a minute".into();
    }
    let minutes = ms.saturating_add(30_000) / 60_000;
    if minutes >= 60 {
        format!("{} h {:02} min", minutes / 60, minutes % 60)
    } else {
        format!("{minutes} min")
    }
}

/// The summary's counts, by the one rule of [`crate::review`].
fn summary(entries: &[Entry]) -> Tally {
    Tally::of(entries.iter().map(Entry::standing))
}

/// Song -> session -> track -> entries, keeping log order.
type Grouped<'a> = Vec<(&'a str, Vec<(Uuid, Vec<(&'a str, Vec<&'a Entry>)>)>)>;

fn group(entries: &[Entry]) -> Grouped<'_> {
    let mut out: Grouped = Vec::new();
    for e in entries {
        if out.last().is_none_or(|(song, _)| *song != e.song) {
            out.push((&e.song, Vec::new()));
        }
        let sessions = &mut out.last_mut().unwrap().1;
        if sessions.last().is_none_or(|(s, _)| *s != e.session) {
            sessions.push((e.session, Vec::new()));
        }
        let tracks = &mut sessions.last_mut().unwrap().1;
        if tracks.last().is_none_or(|(t, _)| *t != e.track) {
            tracks.push((&e.track, Vec::new()));
        }
        tracks.last_mut().unwrap().1.push(e);
    }
    out
}

/// A track's entries: those not tied to a take first, then one group per take (the take
/// itself and the notes on it), in take order.
fn by_take<'a>(items: &[&'a Entry]) -> Vec<(Option<u32>, Vec<&'a Entry>)> {
    let mut groups: Vec<(Option<u32>, Vec<&Entry>)> = vec![(None, Vec::new())];
    let mut takes: BTreeMap<u32, Vec<&Entry>> = BTreeMap::new();
    for e in items {
        match e.take {
            None => groups[0].1.push(e),
            Some(t) => takes.entry(t).or_default().push(e),
        }
    }
    groups.extend(takes.into_iter().map(|(t, list)| (Some(t), list)));
    groups.retain(|(_, list)| !list.is_empty());
    groups
}

fn title(scope: &Scope, entries: &[Entry]) -> Mixed {
    let mut t = Mixed::ours("Session decision log");
    if let Some(song) = &scope.song {
        t.push_ours(" — ").push_typed(song);
    }
    if let Some(author) = &scope.author {
        t.push_ours(" — notes by ").push_typed(author);
    }
    if entries.is_empty() {
        t.push_ours(" (nothing recorded)");
    }
    t
}

fn session_line(views: &Views, id: Uuid) -> Mixed {
    match views.sessions.iter().find(|s| s.id == id) {
        Some(s) => {
            let mut line = Mixed::ours(&format!(
                "Session {} — {} — ",
                date_time(s.started_at),
                duration(s.duration_ms())
            ));
            for (i, (name, role)) in s.people.iter().enumerate() {
                if i > 0 {
                    line.push_ours(", ");
                }
                line.push_typed(name).push_ours(&format!(" ({role})"));
            }
            line
        }
        None => Mixed::ours(&format!("Session {id}")),
    }
}

/// Markdown-escapes user text placed inside a line (list items, table cells, headings after
/// their `#`s): inline markup characters get a backslash, HTML metacharacters become entities
/// (Markdown passes raw HTML through), newlines become `<br>`.
pub fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\n' => out.push_str("<br>"),
            '\r' => {}
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// HTML-escapes user text.
pub fn h(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn where_text(e: &Entry) -> String {
    match (&e.start, &e.end) {
        (Some(s), Some(t)) => format!(
            "{}–{} · {}–{}",
            s.bar_beat(),
            t.bar_beat(),
            s.time(),
            t.time()
        ),
        (Some(s), None) => format!("{} · {}", s.bar_beat(), s.time()),
        (None, _) => format!("no DAW position · {}", date_time(e.at)),
    }
}

/// The recall sheet of one song: the standing EQ/FX decision per track and processor.
fn recall_rows<'a>(views: &'a Views, song: &str) -> Vec<&'a crate::views::DecisionView> {
    views
        .standing_decisions()
        .into_iter()
        .filter(|d| d.song == song)
        .collect()
}

/// What differs between the two people formats: escaping and markup. The structure (title,
/// summary, song / session / track / take headings, entries, recall sheets) is written once,
/// in [`render`].
trait Markup {
    /// Our words.
    fn esc(&self, text: &str) -> String;
    /// A string someone typed (or a plugin named): isolated in HTML ([`bdi`]).
    fn typed(&self, text: &str) -> String;
    /// Our words with typed pieces.
    fn mixed(&self, text: &Mixed) -> String;
    fn begin(&self, o: &mut String, title: &Mixed, s: &Tally);
    fn end(&self, o: &mut String);
    fn heading(&self, o: &mut String, level: usize, text: &str);
    fn list_start(&self, o: &mut String);
    fn list_end(&self, o: &mut String);
    /// One entry: where (escaped), the rest (escaped, typed text isolated), its verdict (and
    /// the done that answers it, in words: `done`), and its thread (one line per reply,
    /// escaped and isolated).
    fn item(&self, o: &mut String, place: &str, rest: &str, said: Said<'_>, thread: &[String]);
    /// A link to `path` (relative, already percent-encoded) reading `text` (plain words).
    fn link(&self, path: &str, text: &str) -> String;
    /// A titled table; the title and cells come escaped (and typed text in them isolated).
    fn table(&self, o: &mut String, title: &str, header: &[&str], rows: &[Vec<String>]);
}

/// An entry's verdict and, when changes were requested and made, the done in words.
#[derive(Clone, Copy)]
struct Said<'a> {
    verdict: Option<&'a VerdictView>,
    done: Option<&'a str>,
}

struct Md;

impl Markup for Md {
    fn esc(&self, text: &str) -> String {
        md(text)
    }

    fn typed(&self, text: &str) -> String {
        md(text)
    }

    fn mixed(&self, text: &Mixed) -> String {
        md(text.as_str())
    }

    fn begin(&self, o: &mut String, title: &Mixed, s: &Tally) {
        let _ = writeln!(o, "# {}\n", self.mixed(title));
        let _ = writeln!(
            o,
            "| open | approved | rejected | changes requested | re-check |"
        );
        let _ = writeln!(o, "|---:|---:|---:|---:|---:|");
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} |\n",
            s.open, s.approved, s.rejected, s.changes, s.recheck
        );
    }

    fn end(&self, _o: &mut String) {}

    fn heading(&self, o: &mut String, level: usize, text: &str) {
        let _ = writeln!(o, "{} {text}\n", "#".repeat(level));
    }

    fn list_start(&self, _o: &mut String) {}

    fn list_end(&self, o: &mut String) {
        o.push('\n');
    }

    fn link(&self, path: &str, text: &str) -> String {
        format!("[{text}](<{path}>)")
    }

    fn item(&self, o: &mut String, place: &str, rest: &str, said: Said<'_>, thread: &[String]) {
        let _ = write!(o, "- **{place}** · {rest}");
        if let Some(v) = said.verdict {
            let _ = write!(o, " · **{}**", verdict_words(v.verdict));
            if !v.comment.is_empty() {
                let _ = write!(o, ": {}", self.typed(&v.comment));
            }
        }
        if let Some(done) = said.done {
            let _ = write!(o, " · **{}**: {done}", Standing::Recheck.words());
        }
        o.push('\n');
        for line in thread {
            let _ = writeln!(o, "  - ↳ {line}");
        }
    }

    fn table(&self, o: &mut String, title: &str, header: &[&str], rows: &[Vec<String>]) {
        self.heading(o, 3, title);
        let _ = writeln!(o, "| {} |", header.join(" | "));
        let _ = writeln!(o, "|{}", "---|".repeat(header.len()));
        for row in rows {
            let _ = writeln!(o, "| {} |", row.join(" | "));
        }
        o.push('\n');
    }
}

struct Html;

impl Markup for Html {
    fn esc(&self, text: &str) -> String {
        h(text)
    }

    fn typed(&self, text: &str) -> String {
        bdi(text)
    }

    fn mixed(&self, text: &Mixed) -> String {
        text.html()
    }

    /// The window's title holds no element: its typed names are isolated as plain text.
    fn begin(&self, o: &mut String, title: &Mixed, s: &Tally) {
        let _ = write!(
            o,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <title>{}</title>\n<style>{PRINT_CSS}</style>\n</head>\n<body>\n<h1>{}</h1>\n\
             <table class=\"summary\"><tr><th>open</th><th>approved</th><th>rejected</th>\
             <th>changes requested</th><th>re-check</th></tr><tr><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td></tr></table>\n",
            h(&title.isolated()),
            title.html(),
            s.open,
            s.approved,
            s.rejected,
            s.changes,
            s.recheck
        );
    }

    fn end(&self, o: &mut String) {
        o.push_str("</body>\n</html>\n");
    }

    fn heading(&self, o: &mut String, level: usize, text: &str) {
        let _ = writeln!(o, "<h{level}>{text}</h{level}>");
    }

    fn list_start(&self, o: &mut String) {
        o.push_str("<ul>\n");
    }

    fn list_end(&self, o: &mut String) {
        o.push_str("</ul>\n");
    }

    fn link(&self, path: &str, text: &str) -> String {
        format!("<a href=\"{}\">{}</a>", h(path), h(text))
    }

    fn item(&self, o: &mut String, place: &str, rest: &str, said: Said<'_>, thread: &[String]) {
        let _ = write!(o, "<li><span class=\"where\">{place}</span> · {rest}");
        if let Some(v) = said.verdict {
            let _ = write!(
                o,
                " · <strong class=\"v-{}\">{}</strong>",
                v.verdict.as_str(),
                verdict_words(v.verdict)
            );
            if !v.comment.is_empty() {
                let _ = write!(o, ": {}", self.typed(&v.comment));
            }
        }
        if let Some(done) = said.done {
            let _ = write!(
                o,
                " · <strong class=\"v-recheck\">{}</strong>: {done}",
                Standing::Recheck.words()
            );
        }
        if !thread.is_empty() {
            o.push_str("<ul class=\"thread\">");
            for line in thread {
                let _ = write!(o, "<li>↳ {line}</li>");
            }
            o.push_str("</ul>");
        }
        o.push_str("</li>\n");
    }

    fn table(&self, o: &mut String, title: &str, header: &[&str], rows: &[Vec<String>]) {
        let _ = write!(o, "<h3>{title}</h3>\n<table><tr>");
        for c in header {
            let _ = write!(o, "<th>{c}</th>");
        }
        o.push_str("</tr>\n");
        for row in rows {
            o.push_str("<tr>");
            for c in row {
                let _ = write!(o, "<td>{c}</td>");
            }
            o.push_str("</tr>\n");
        }
        o.push_str("</table>\n");
    }
}

/// The executive's decisions about the record: the songs in tracklist order, then other songs
/// with a selection, each with whether it is on the record and who decided (cells escaped).
fn record_rows(m: &dyn Markup, views: &Views, scope: &Scope) -> Vec<Vec<String>> {
    let mut songs: Vec<&String> = views.tracklist.iter().flatten().collect();
    for song in views.song_selection.keys() {
        if !songs.contains(&song) {
            songs.push(song);
        }
    }
    songs
        .into_iter()
        .filter(|s| scope.song.as_deref().is_none_or(|want| want == s.as_str()))
        .map(|song| {
            let position = views
                .tracklist
                .iter()
                .flatten()
                .position(|s| s == song)
                .map_or(String::new(), |i| (i + 1).to_string());
            let selected = match views.song_selection.get(song) {
                Some(true) => "yes",
                Some(false) => "no",
                None => "",
            };
            let decided = views
                .song_selection_decided
                .get(song)
                .map_or(String::new(), |d| {
                    format!(
                        "{}{}",
                        m.typed(&d.author),
                        m.esc(&format!(", {}", date_time(d.at)))
                    )
                });
            vec![m.esc(&position), m.typed(song), m.esc(selected), decided]
        })
        .collect()
}

/// Each song's selected version (its newest approved print): label, content hash, length,
/// loudness, and who approved it when; songs with prints but none approved say so (cells
/// escaped).
fn version_rows(m: &dyn Markup, views: &Views, scope: &Scope) -> Vec<Vec<String>> {
    let mut songs: Vec<&str> = views.versions.iter().map(|v| v.song.as_str()).collect();
    songs.sort_unstable();
    songs.dedup();
    songs
        .into_iter()
        .filter(|s| scope.song.as_deref().is_none_or(|want| want == *s))
        .map(|song| match views.selected_version(song) {
            Some(v) => {
                let a = &v.printed.version;
                let approved = v.verdict.as_ref().map_or(String::new(), |d| {
                    format!(
                        "{}{}",
                        m.typed(&d.author),
                        m.esc(&format!(", {}", date_time(d.at)))
                    )
                });
                vec![
                    m.typed(song),
                    m.typed(&v.label),
                    m.esc(a.hash.as_str()),
                    m.esc(&crate::position::format_time(a.seconds())),
                    m.esc(&a.loudness.lufs_words()),
                    m.esc(&a.loudness.true_peak_words()),
                    approved,
                ]
            }
            None => vec![
                m.typed(song),
                m.esc("none approved"),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
            ],
        })
        .collect()
}

/// Worked time per person per song, within the scope's song and author (cells escaped).
fn worked_rows(m: &dyn Markup, views: &Views, scope: &Scope) -> Vec<Vec<String>> {
    views
        .worked
        .iter()
        .filter(|w| scope.song.as_deref().is_none_or(|s| s == w.song))
        .filter(|w| scope.author.as_deref().is_none_or(|a| a == w.person))
        .map(|w| vec![m.typed(&w.song), m.typed(&w.person), m.esc(&duration(w.ms))])
        .collect()
}

/// The recall sheet of `song`, as a titled table (nothing without decisions).
fn recall_table(m: &dyn Markup, o: &mut String, views: &Views, song: &str) {
    let rows: Vec<Vec<String>> = recall_rows(views, song)
        .into_iter()
        .map(|d| {
            vec![
                m.typed(&d.track),
                m.esc(d.kind),
                m.typed(&d.decision.processor),
                m.mixed(&settings_text(&d.decision)),
                m.typed(&d.decision.reason),
                m.esc(
                    Standing::of(crate::review::Item::Decision, d.verdict.as_ref())
                        .unwrap_or(Standing::Open)
                        .words(),
                ),
            ]
        })
        .collect();
    if !rows.is_empty() {
        m.table(
            o,
            &format!("Recall sheet — {}", m.typed(song)),
            &[
                "track",
                "kind",
                "processor",
                "settings",
                "reason",
                "verdict",
            ],
            &rows,
        );
    }
}

/// Entry id to the relative path of its clip.
type Links = BTreeMap<Uuid, String>;

fn render(
    m: &dyn Markup,
    entries: &[Entry],
    views: &Views,
    scope: &Scope,
    clips: &Links,
) -> String {
    let mut o = String::new();
    let guests = views.note_guests();
    m.begin(&mut o, &title(scope, entries), &summary(entries));
    let record = record_rows(m, views, scope);
    if !record.is_empty() {
        let order = match &views.tracklist_decided {
            Some(d) => format!(
                "The record — order set by {}, {}",
                m.typed(&d.author),
                date_time(d.at)
            ),
            None => "The record".to_owned(),
        };
        m.table(
            &mut o,
            &order,
            &["#", "song", "on the record", "selection decided by"],
            &record,
        );
    }
    let versions = version_rows(m, views, scope);
    if !versions.is_empty() {
        m.table(
            &mut o,
            "Selected versions",
            &[
                "song",
                "version",
                "content hash (SHA-256)",
                "length",
                "loudness",
                "true peak",
                "approved by",
            ],
            &versions,
        );
    }
    let worked = worked_rows(m, views, scope);
    if !worked.is_empty() {
        m.table(&mut o, "Worked time", &["song", "person", "time"], &worked);
    }
    for (song, sessions) in group(entries) {
        m.heading(&mut o, 2, &m.typed(song));
        for (session, tracks) in sessions {
            m.heading(&mut o, 3, &m.mixed(&session_line(views, session)));
            for (track, items) in tracks {
                let name = if track.is_empty() {
                    m.esc("(no track)")
                } else {
                    m.typed(track)
                };
                m.heading(&mut o, 4, &name);
                for (take, list) in by_take(&items) {
                    if let Some(t) = take {
                        m.heading(&mut o, 5, &format!("Take {t}"));
                    }
                    m.list_start(&mut o);
                    for e in list {
                        entry_with(m, &mut o, e, clips, views, &guests);
                    }
                    m.list_end(&mut o);
                }
            }
        }
        recall_table(m, &mut o, views, song);
    }
    m.end(&mut o);
    o
}

/// Who wrote an entry: "Sam (producer)", or for a guest's comment the executive accepted
/// from a listening link, "Ana (guest, accepted by Eve)" (`guests`: [`Views::note_guests`]).
fn who(m: &dyn Markup, e: &Entry, guests: &BTreeMap<Uuid, &str>) -> String {
    match guests.get(&e.id) {
        Some(g) => format!("{} (guest, accepted by {})", m.typed(g), m.typed(&e.author)),
        None => format!("{} ({})", m.typed(&e.author), e.role),
    }
}

/// One entry of the log: where, who, what kind, what it says, its clip, its verdict (with the
/// done answering it) and its thread.
/// (`guests`: the record's guest comments, looked up once per log.)
fn entry_with(
    m: &dyn Markup,
    o: &mut String,
    e: &Entry,
    clips: &Links,
    views: &Views,
    guests: &BTreeMap<Uuid, &str>,
) {
    let mut rest = format!(
        "{} · {} · {}",
        who(m, e, guests),
        m.esc(e.kind.category()),
        m.mixed(&e.text)
    );
    if let Some(path) = clips.get(&e.id) {
        rest.push_str(" · ");
        rest.push_str(&m.link(path, "audio clip"));
    }
    let done = e.verdict.as_ref().and_then(|v| v.done.as_ref()).map(|d| {
        let mut words = format!("done by {} ({})", m.typed(&d.author), d.role);
        if let Some(v) = d
            .version
            .and_then(|id| views.versions.iter().find(|v| v.id == id))
        {
            let _ = write!(words, " in {}", m.typed(&v.label));
        }
        if !d.comment.is_empty() {
            let _ = write!(words, ": {}", m.typed(&d.comment));
        }
        words
    });
    let thread: Vec<String> = views
        .replies
        .get(&e.id)
        .into_iter()
        .flatten()
        .map(|r| format!("{} ({}): {}", m.typed(&r.author), r.role, m.typed(&r.text)))
        .collect();
    let said = Said {
        verdict: e.verdict.as_ref(),
        done: done.as_deref(),
    };
    m.item(o, &m.esc(&where_text(e)), &rest, said, &thread);
}

pub fn markdown(entries: &[Entry], views: &Views, scope: &Scope, clips: &Links) -> String {
    render(&Md, entries, views, scope, clips)
}

const PRINT_CSS: &str = "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;\
padding:0 1rem;color:#111}h1{font-size:1.6rem}h2{margin-top:2rem;border-bottom:2px solid #333}\
h3{font-size:1.05rem;color:#333}h4{margin:.8rem 0 .3rem}h5{margin:.4rem 0 .2rem 1rem}table{border-collapse:collapse;\
margin:.5rem 0}td,th{border:1px solid #999;padding:.2rem .5rem;text-align:left;\
vertical-align:top}ul{padding-left:1.2rem}li{margin:.2rem 0;white-space:pre-wrap}\
.where{font-variant-numeric:tabular-nums;font-weight:600}bdi{unicode-bidi:isolate}.v-approved{color:#070}\
.v-rejected{color:#a00}.v-changes_requested{color:#b60}.v-recheck{color:#05a}\
@media print{body{margin:0;max-width:none}h2{break-before:auto;break-after:avoid}\
h3,h4,h5{break-after:avoid}li,tr{break-inside:avoid}}";

pub fn html(entries: &[Entry], views: &Views, scope: &Scope, clips: &Links) -> String {
    render(&Html, entries, views, scope, clips)
}

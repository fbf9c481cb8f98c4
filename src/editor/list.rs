//! The list of everything said about the song (notes, EQ/FX decisions, marks), newest first,
//! with its filters. Rows are recomputed only when the record or a filter changes, and only
//! the rows on screen are drawn, so 10,000 notes scroll smoothly.

use crate::record_view::RecordSnapshot;
use liner_record::event::Category;
use liner_record::event::Rating;
use liner_record::position::{format_bar_beat, format_time};
use liner_record::review::{Item, Standing};
use liner_record::views::{DecisionView, MarkView, NoteView, TakeView, VerdictView};
use liner_record::DawPos;
use std::collections::BTreeSet;

/// Which kind of entry a row shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    Note,
    Decision,
    Mark,
    Take,
}

/// A row: an index into the snapshot's notes, decisions or marks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    pub kind: RowKind,
    pub index: usize,
    pub at: i64,
}

/// What the verdict filter keeps: anything, or what stands where by the record's one rule
/// ([`Standing`]: open, a verdict, or done and back for a re-check).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VerdictFilter {
    #[default]
    Any,
    Is(Standing),
}

/// What the category filter keeps: a note category (decisions count as EQ/FX), or marks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KindFilter {
    #[default]
    Any,
    Category(Category),
    Marks,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Filter {
    pub kind: KindFilter,
    pub author: Option<String>,
    pub track: Option<String>,
    pub verdict: VerdictFilter,
    pub text: String,
}

/// Lower-cased searchable text of every entry of one snapshot, so a change of the search text
/// costs a substring scan, not 10,000 allocations.
#[derive(Default)]
struct Haystacks {
    version: Option<u64>,
    notes: Vec<String>,
    decisions: Vec<String>,
    marks: Vec<String>,
    takes: Vec<String>,
}

impl Haystacks {
    fn update(&mut self, snap: &RecordSnapshot) {
        if self.version == Some(snap.version) {
            return;
        }
        let v = &snap.views;
        self.version = Some(snap.version);
        self.notes = v.notes.iter().map(|n| n.text.to_lowercase()).collect();
        self.decisions = v
            .decisions
            .iter()
            .map(|d| decision_text(d).to_lowercase())
            .collect();
        self.marks = v
            .marks
            .iter()
            .map(|m| mark_text(m).to_lowercase())
            .collect();
        self.takes = v
            .takes
            .iter()
            .map(|t| take_text(t).to_lowercase())
            .collect();
    }
}

impl Row {
    /// The id of the row's event (a take's is its `take_started`).
    pub fn id(self, v: &liner_record::Views) -> uuid::Uuid {
        match self.kind {
            RowKind::Note => v.notes[self.index].id,
            RowKind::Decision => v.decisions[self.index].id,
            RowKind::Take => v.takes[self.index].id.unwrap_or_default(),
            RowKind::Mark => v.marks[self.index].id,
        }
    }
}

impl Row {
    /// Where the row sits on the timeline, for *Go there* (as [`span_of`], by index).
    pub fn span(self, v: &liner_record::Views) -> Option<crate::reaper::Span> {
        use crate::reaper::Span;
        match self.kind {
            RowKind::Note => v.notes[self.index].anchor.as_ref().map(Span::of_anchor),
            RowKind::Decision => v.decisions[self.index].pos.map(Span::at),
            RowKind::Mark => v.marks[self.index].pos.map(Span::at),
            RowKind::Take => {
                let t = &v.takes[self.index];
                t.start.map(|start| Span { start, end: t.end })
            }
        }
    }
}

/// Where entry `id` (of `kind`) sits on the timeline, for *Go there*: a note's anchor, a take's
/// start to its end, a decision's or mark's position; `None` when the host gave none.
pub fn span_of(
    v: &liner_record::Views,
    kind: RowKind,
    id: uuid::Uuid,
) -> Option<crate::reaper::Span> {
    use crate::reaper::Span;
    match kind {
        RowKind::Note => v
            .notes
            .iter()
            .find(|n| n.id == id)?
            .anchor
            .as_ref()
            .map(Span::of_anchor),
        RowKind::Decision => v.decisions.iter().find(|d| d.id == id)?.pos.map(Span::at),
        RowKind::Mark => v.marks.iter().find(|m| m.id == id)?.pos.map(Span::at),
        RowKind::Take => {
            let t = v.takes.iter().find(|t| t.id == Some(id))?;
            t.start.map(|start| Span { start, end: t.end })
        }
    }
}

/// The filtered rows of one snapshot, cached.
#[derive(Default)]
pub struct Rows {
    key: Option<(u64, String, Filter, bool)>,
    haystacks: Haystacks,
    pub rows: Vec<Row>,
    /// Authors and tracks of the song, for the filter menus.
    pub authors: BTreeSet<String>,
    pub tracks: BTreeSet<String>,
}

/// The position of an entry as a DAW shows it: "17.3 · 0:32.500".
pub fn place(pos: Option<&DawPos>) -> String {
    let Some(p) = pos else {
        return "—".into();
    };
    let bb = match (p.bar, p.beat) {
        (Some(bar), Some(beat)) => Some(short_bar_beat(bar, beat)),
        _ => None,
    };
    let time = p.seconds.map(format_time);
    match (bb, time) {
        (Some(b), Some(t)) => format!("{b} · {t}"),
        (Some(b), None) => b,
        (None, Some(t)) => t,
        (None, None) => "—".into(),
    }
}

/// Bar and beat as people say it: "17.3", or "17.3.50" between beats.
pub fn short_bar_beat(bar: i32, beat: f64) -> String {
    let full = format_bar_beat(bar, beat);
    full.strip_suffix(".00").map(str::to_owned).unwrap_or(full)
}

/// A mark's line in the list: its label, or "unnamed mark at 17.3" until someone names it.
pub fn mark_text(m: &MarkView) -> String {
    match &m.label {
        Some(l) => l.clone(),
        None => {
            let at = match m.pos.and_then(|p| p.bar.zip(p.beat)) {
                Some((bar, beat)) => short_bar_beat(bar, beat),
                None => m
                    .pos
                    .and_then(|p| p.seconds)
                    .map_or("?".into(), format_time),
            };
            format!("unnamed mark at {at}")
        }
    }
}

/// A decision in one line: "Pro-Q 3: 250 Hz −3 dB — boxy".
pub fn decision_text(d: &DecisionView) -> String {
    let settings: Vec<String> = d
        .decision
        .settings
        .iter()
        .map(|s| {
            let value = match (s.value, &s.text) {
                (Some(v), _) => format!("{v}"),
                (None, Some(t)) => t.clone(),
                (None, None) => String::new(),
            };
            let unit = s.unit.as_deref().unwrap_or("");
            format!(
                "{} {value}{}{unit}",
                s.name,
                if unit.is_empty() { "" } else { " " }
            )
            .trim()
            .to_owned()
        })
        .collect();
    let mut out = format!("{}: {}", d.decision.processor, settings.join(", "));
    if !d.decision.reason.is_empty() {
        out.push_str(" — ");
        out.push_str(&d.decision.reason);
    }
    out
}

/// A take in one line: "Take 3 · keeper · 4/5 · lovely ad-libs".
pub fn take_text(t: &TakeView) -> String {
    let mut parts = vec![format!("Take {}", t.take.number)];
    match t.rating {
        Some(Rating::Keeper) => parts.push("keeper".into()),
        Some(Rating::Maybe) => parts.push("maybe".into()),
        Some(Rating::Scratch) => parts.push("scratch".into()),
        None => parts.push("not rated".into()),
    }
    if let Some(s) = t.stars {
        parts.push(format!("{s}/5"));
    }
    if let Some(n) = t.note.as_deref().filter(|n| !n.is_empty()) {
        parts.push(n.to_owned());
    }
    parts.join(" · ")
}

fn contains_ci(hay_lower: &str, needle_lower: &str) -> bool {
    needle_lower.is_empty() || hay_lower.contains(needle_lower)
}

impl KindFilter {
    /// Whether an entry of `category` (a note's, EQ/FX for decisions, Take for takes; `None`
    /// for marks) passes.
    fn admits(self, category: Option<Category>) -> bool {
        match (self, category) {
            (KindFilter::Any, _) => true,
            (KindFilter::Category(want), Some(c)) => want == c,
            (KindFilter::Marks, None) => true,
            _ => false,
        }
    }
}

/// Whether an `item` with verdict `v` passes, by the record's one rule ([`Standing::of`]): a
/// mark or an unrated take is never open, and a re-check is not "changes requested".
fn verdict_ok(f: VerdictFilter, item: Item, v: Option<&VerdictView>) -> bool {
    match f {
        VerdictFilter::Any => true,
        VerdictFilter::Is(want) => Standing::of(item, v) == Some(want),
    }
}

/// The filter as every entry is checked against it, the search text trimmed and lower-cased
/// once.
struct Criteria<'a> {
    filter: &'a Filter,
    needle: String,
    hide_private: bool,
}

impl Criteria<'_> {
    fn author_ok(&self, author: &str) -> bool {
        self.filter.author.as_deref().is_none_or(|a| a == author)
    }

    fn track_ok(&self, track: &str) -> bool {
        self.filter.track.as_deref().is_none_or(|t| t == track)
    }

    /// Whether the lower-cased searchable text of an entry holds the search text.
    fn text_ok(&self, hay_lower: &str) -> bool {
        contains_ci(hay_lower, &self.needle)
    }
}

impl Rows {
    /// Brings the rows up to date; cheap when neither the snapshot nor the filter changed.
    pub fn update(
        &mut self,
        snap: &RecordSnapshot,
        song: &str,
        filter: &Filter,
        hide_private: bool,
    ) {
        let key = (snap.version, song.to_owned(), filter.clone(), hide_private);
        if self.key.as_ref() == Some(&key) {
            return;
        }
        self.key = Some(key);
        self.haystacks.update(snap);
        let criteria = Criteria {
            filter,
            needle: filter.text.trim().to_lowercase(),
            hide_private,
        };
        self.rows.clear();
        self.authors.clear();
        self.tracks.clear();
        let v = &snap.views;
        self.add_notes(&v.notes, song, &criteria);
        self.add_decisions(&v.decisions, song, &criteria);
        self.add_marks(&v.marks, song, &criteria);
        self.add_takes(&v.takes, song, &criteria);
        // Newest first; ties in a stable order.
        self.rows
            .sort_by(|a, b| b.at.cmp(&a.at).then(a.index.cmp(&b.index)));
    }

    /// The song's notes: their authors and tracks for the menus, a row for each that passes.
    fn add_notes(&mut self, notes: &[NoteView], song: &str, c: &Criteria) {
        for (i, n) in notes.iter().enumerate().filter(|(_, n)| n.song == song) {
            self.authors.insert(n.author.clone());
            self.tracks.insert(n.track.clone());
            let ok = (!c.hide_private || !n.private)
                && c.filter.kind.admits(Some(n.category))
                && c.author_ok(&n.author)
                && c.track_ok(&n.track)
                && verdict_ok(c.filter.verdict, Item::Note, n.verdict.as_ref())
                && c.text_ok(&self.haystacks.notes[i]);
            if ok {
                self.rows.push(Row {
                    kind: RowKind::Note,
                    index: i,
                    at: n.created_at,
                });
            }
        }
    }

    /// The song's EQ/FX decisions: their authors and tracks for the menus, a row for each that
    /// passes (the category filter sees them as EQ or FX).
    fn add_decisions(&mut self, decisions: &[DecisionView], song: &str, c: &Criteria) {
        for (i, d) in decisions.iter().enumerate().filter(|(_, d)| d.song == song) {
            self.authors.insert(d.author.clone());
            self.tracks.insert(d.track.clone());
            let category = if d.kind == "eq" {
                Category::Eq
            } else {
                Category::Fx
            };
            let ok = c.filter.kind.admits(Some(category))
                && c.author_ok(&d.author)
                && c.track_ok(&d.track)
                && verdict_ok(c.filter.verdict, Item::Decision, d.verdict.as_ref())
                && c.text_ok(&self.haystacks.decisions[i]);
            if ok {
                self.rows.push(Row {
                    kind: RowKind::Decision,
                    index: i,
                    at: d.at,
                });
            }
        }
    }

    /// The song's marks: their tracks for the menu, a row for each that passes (marks have no
    /// author, so an author filter hides them).
    fn add_marks(&mut self, marks: &[MarkView], song: &str, c: &Criteria) {
        for (i, m) in marks.iter().enumerate().filter(|(_, m)| m.song == song) {
            self.tracks.insert(m.track.clone());
            let ok = c.filter.kind.admits(None)
                && c.filter.author.is_none()
                && c.track_ok(&m.track)
                && verdict_ok(c.filter.verdict, Item::Mark, None)
                && c.text_ok(&self.haystacks.marks[i]);
            if ok {
                self.rows.push(Row {
                    kind: RowKind::Mark,
                    index: i,
                    at: m.at,
                });
            }
        }
    }

    /// The song's takes: their tracks for the menu, a row for each that passes (takes have no
    /// author, so an author filter hides them).
    fn add_takes(&mut self, takes: &[TakeView], song: &str, c: &Criteria) {
        for (i, t) in takes.iter().enumerate().filter(|(_, t)| t.song == song) {
            self.tracks.insert(t.track.clone());
            let item = Item::Take {
                rated: t.rating.is_some(),
            };
            let ok = c.filter.kind.admits(Some(Category::Take))
                && c.filter.author.is_none()
                && c.track_ok(&t.track)
                && verdict_ok(c.filter.verdict, item, t.verdict.as_ref())
                && c.text_ok(&self.haystacks.takes[i]);
            if ok {
                self.rows.push(Row {
                    kind: RowKind::Take,
                    index: i,
                    at: t.started_at.unwrap_or_default(),
                });
            }
        }
    }
}

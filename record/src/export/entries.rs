//! What a decision log lists: notes, EQ/FX decisions, marks and takes as uniform entries.

use super::bidi::Mixed;
use crate::event::{Anchor, Category, DawPos, Event, Role};
use crate::position::{format_bar_beat, format_time, TempoMap};
use crate::review::{Item, Standing};
use crate::views::{VerdictView, Views};
use std::collections::HashMap;
use uuid::Uuid;

/// Which part of the record to export. Empty fields select everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scope {
    pub song: Option<String>,
    pub session: Option<Uuid>,
    /// Wall-clock range, UTC milliseconds (inclusive start, exclusive end).
    pub since_ms: Option<i64>,
    pub until_ms: Option<i64>,
    pub author: Option<String>,
    /// Private notes are left out unless asked for.
    pub include_private: bool,
}

impl Scope {
    fn admits(&self, song: &str, session: Uuid, author: &str, at: i64) -> bool {
        self.song.as_deref().is_none_or(|s| s == song)
            && self.session.is_none_or(|s| s == session)
            && self.author.as_deref().is_none_or(|a| a == author)
            && self.since_ms.is_none_or(|t| at >= t)
            && self.until_ms.is_none_or(|t| at < t)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Note(Category),
    Eq,
    Fx,
    Mark,
    /// A take; `rated` once its producer rated it (which puts it up for review).
    Take {
        rated: bool,
    },
    /// A printed version of the song's mix ([`crate::versions`]), up for review once printed.
    Version,
}

impl EntryKind {
    /// The category column: a note's category, or the kind of the entry.
    pub fn category(self) -> &'static str {
        match self {
            EntryKind::Note(c) => c.as_str(),
            EntryKind::Eq => "eq decision",
            EntryKind::Fx => "fx decision",
            EntryKind::Mark => "mark",
            EntryKind::Take { .. } => "take",
            EntryKind::Version => "version",
        }
    }

    /// What review makes of this kind of entry.
    pub fn item(self) -> Item {
        match self {
            EntryKind::Note(_) => Item::Note,
            EntryKind::Eq | EntryKind::Fx => Item::Decision,
            EntryKind::Mark => Item::Mark,
            EntryKind::Take { rated } => Item::Take { rated },
            EntryKind::Version => Item::Version,
        }
    }
}

/// One line of a decision log.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub id: Uuid,
    pub kind: EntryKind,
    pub song: String,
    pub session: Uuid,
    pub track: String,
    pub take: Option<u32>,
    pub author: String,
    pub role: Role,
    /// Wall clock, UTC ms.
    pub at: i64,
    /// Where it starts on the timeline (seconds and quarter-note beats, bar and beat).
    pub start: Option<Place>,
    /// Where it ends, for ranges and takes.
    pub end: Option<Place>,
    /// What it says: a note's text, a decision's processor, settings and reason, a take's
    /// rating and note, a mark's label; the typed pieces known as such.
    pub text: Mixed,
    pub verdict: Option<VerdictView>,
}

impl Entry {
    /// Where this entry stands with the executive (`None`: nobody asks for a verdict).
    pub fn standing(&self) -> Option<Standing> {
        Standing::of(self.kind.item(), self.verdict.as_ref())
    }
}

/// A resolved timeline position.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Place {
    pub seconds: f64,
    /// Quarter-note beats, when known (for MIDI ticks).
    pub beats: Option<f64>,
    pub bar: i32,
    pub beat: f64,
}

impl Place {
    pub fn bar_beat(&self) -> String {
        format_bar_beat(self.bar, self.beat)
    }

    pub fn time(&self) -> String {
        format_time(self.seconds)
    }
}

/// Resolves a DAW position: needs seconds (or samples and a rate we do not have, so seconds);
/// bar and beat come from the host, else from the record's tempo map.
fn place(pos: &DawPos, map: Option<&TempoMap>) -> Option<Place> {
    let seconds = pos.seconds.filter(|s| s.is_finite())?;
    let (bar, beat) = match (pos.bar, pos.beat, map) {
        (Some(bar), Some(beat), _) => (bar, beat),
        (_, _, Some(map)) => {
            let bb = map.bar_beat_at(seconds);
            (bb.bar, bb.beat)
        }
        _ => return None,
    };
    let beats = pos.beats.or_else(|| map.map(|m| m.beats_at(seconds)));
    Some(Place {
        seconds,
        beats,
        bar,
        beat,
    })
}

/// A decision's settings as text: `band low shelf, frequency 120 Hz, gain -3 dB` (the names,
/// text values and units typed, by whoever made the plugin).
pub fn settings_text(d: &crate::event::Decision) -> Mixed {
    let mut text = Mixed::default();
    for (i, s) in d.settings.iter().enumerate() {
        if i > 0 {
            text.push_ours(", ");
        }
        text.push_typed(&s.name).push_ours(" ");
        match (&s.text, s.value) {
            (Some(t), _) => text.push_typed(t),
            (None, Some(v)) => text.push_ours(&format!("{v}")),
            (None, None) => &mut text,
        };
        if let Some(u) = &s.unit {
            text.push_ours(" ").push_typed(u);
        }
    }
    text
}

/// A decision as one line: processor, settings, reason.
fn decision_text(d: &crate::event::Decision) -> Mixed {
    let mut text = Mixed::typed(&d.processor);
    if !d.settings.is_empty() {
        text.push_ours(": ").push(&settings_text(d));
    }
    if !d.reason.is_empty() {
        text.push_ours(" — ").push_typed(&d.reason);
    }
    text
}

/// The entries of a folded record that `scope` selects, in log order: by song, session (in
/// time order), track, then timeline position (entries without one last, by wall clock).
pub fn entries(events: &[Event], views: &Views, scope: &Scope) -> Vec<Entry> {
    let map = TempoMap::from_positions(events.iter().filter_map(|e| e.pos.as_ref()));
    let map = map.as_ref();
    let by_id: HashMap<Uuid, &Event> = events.iter().map(|e| (e.id, e)).collect();
    let mut out = Vec::new();
    out.extend(note_entries(views, scope, map));
    out.extend(decision_entries(views, scope, map));
    out.extend(mark_entries(views, scope, map, &by_id));
    out.extend(take_entries(views, scope, map, &by_id));
    out.extend(version_entries(views, scope, map, &by_id));
    in_log_order(out, views)
}

fn note_entries<'a>(
    views: &'a Views,
    scope: &'a Scope,
    map: Option<&'a TempoMap>,
) -> impl Iterator<Item = Entry> + 'a {
    views
        .notes
        .iter()
        .filter(|n| {
            (!n.private || scope.include_private)
                && scope.admits(&n.song, n.session, &n.author, n.created_at)
        })
        .map(move |n| {
            let (start, end) = match &n.anchor {
                Some(Anchor::Point { at }) => (place(at, map), None),
                Some(Anchor::Range { from, to }) => (place(from, map), place(to, map)),
                None => (None, None),
            };
            Entry {
                id: n.id,
                kind: EntryKind::Note(n.category),
                song: n.song.clone(),
                session: n.session,
                track: n.track.clone(),
                take: n.take.map(|t| t.number),
                author: n.author.clone(),
                role: n.role,
                at: n.created_at,
                start,
                end,
                text: Mixed::typed(&n.text),
                verdict: n.verdict.clone(),
            }
        })
}

fn decision_entries<'a>(
    views: &'a Views,
    scope: &'a Scope,
    map: Option<&'a TempoMap>,
) -> impl Iterator<Item = Entry> + 'a {
    views
        .decisions
        .iter()
        .filter(|d| scope.admits(&d.song, d.session, &d.author, d.at))
        .map(move |d| Entry {
            id: d.id,
            kind: if d.kind == "eq" {
                EntryKind::Eq
            } else {
                EntryKind::Fx
            },
            song: d.song.clone(),
            session: d.session,
            track: d.track.clone(),
            take: None,
            author: d.author.clone(),
            role: d.role,
            at: d.at,
            start: d.pos.as_ref().and_then(|p| place(p, map)),
            end: None,
            text: decision_text(&d.decision),
            verdict: d.verdict.clone(),
        })
}

/// A version as a log entry: its label, length and loudness, from where it starts to where
/// it ends on the timeline, with the executive's verdict on it.
fn version_entries<'a>(
    views: &'a Views,
    scope: &'a Scope,
    map: Option<&'a TempoMap>,
    by_id: &'a HashMap<Uuid, &'a Event>,
) -> impl Iterator<Item = Entry> + 'a {
    views.versions.iter().filter_map(move |v| {
        let e = by_id.get(&v.id)?;
        if !scope.admits(&v.song, e.session, &v.author, v.at) {
            return None;
        }
        let p = &v.printed;
        let a = &p.version;
        let mut text = Mixed::default();
        text.push_ours("Version ").push_typed(&v.label);
        let mut facts = format!(" · {}", format_time(a.seconds()));
        if a.loudness.integrated.is_some() {
            facts.push_str(&format!(" · {}", a.loudness.lufs_words()));
        }
        if a.loudness.true_peak.is_some() {
            facts.push_str(&format!(" · {}", a.loudness.true_peak_words()));
        }
        if let Some(lost) = p.loss_words() {
            facts.push_str(&format!(" · not clean: {lost}"));
        }
        text.push_ours(&facts);
        let end = p.daw_seconds(a.seconds()).map(|seconds| DawPos {
            seconds: Some(seconds),
            ..DawPos::default()
        });
        Some(Entry {
            id: v.id,
            kind: EntryKind::Version,
            song: v.song.clone(),
            session: e.session,
            track: v.track.clone(),
            take: None,
            author: v.author.clone(),
            role: e.role,
            at: v.at,
            start: place(&p.start, map),
            end: end.and_then(|end| place(&end, map)),
            text,
            verdict: v.verdict.clone(),
        })
    })
}

fn mark_entries<'a>(
    views: &'a Views,
    scope: &'a Scope,
    map: Option<&'a TempoMap>,
    by_id: &'a HashMap<Uuid, &'a Event>,
) -> impl Iterator<Item = Entry> + 'a {
    views.marks.iter().filter_map(move |m| {
        let e = by_id.get(&m.id)?;
        scope
            .admits(&m.song, e.session, &e.author, m.at)
            .then(|| Entry {
                id: m.id,
                kind: EntryKind::Mark,
                song: m.song.clone(),
                session: e.session,
                track: m.track.clone(),
                take: None,
                author: e.author.clone(),
                role: e.role,
                at: m.at,
                start: m.pos.as_ref().and_then(|p| place(p, map)),
                end: None,
                text: match &m.label {
                    Some(label) => Mixed::typed(label),
                    None => Mixed::ours(&format!("unnamed mark {}", m.number)),
                },
                verdict: views.verdicts.get(&m.id).cloned(),
            })
    })
}

fn take_entries<'a>(
    views: &'a Views,
    scope: &'a Scope,
    map: Option<&'a TempoMap>,
    by_id: &'a HashMap<Uuid, &'a Event>,
) -> impl Iterator<Item = Entry> + 'a {
    views.takes.iter().filter_map(move |t| {
        let e = by_id.get(&t.id?)?;
        scope
            .admits(&t.song, t.session, &e.author, e.at)
            .then(|| Entry {
                id: e.id,
                kind: EntryKind::Take {
                    rated: t.rating.is_some(),
                },
                song: t.song.clone(),
                session: t.session,
                track: t.track.clone(),
                take: Some(t.take.number),
                author: e.author.clone(),
                role: e.role,
                at: e.at,
                start: t.start.as_ref().and_then(|p| place(p, map)),
                end: t.end.as_ref().and_then(|p| place(p, map)),
                text: take_text(t),
                verdict: t.verdict.clone(),
            })
    })
}

/// "take 3: keeper ★★★★ — the one".
fn take_text(t: &crate::views::TakeView) -> Mixed {
    let mut text = format!("take {}", t.take.number);
    if let Some(r) = t.rating {
        text.push_str(&format!(
            ": {}",
            match r {
                crate::event::Rating::Keeper => "keeper",
                crate::event::Rating::Maybe => "maybe",
                crate::event::Rating::Scratch => "scratch",
            }
        ));
    }
    if let Some(s) = t.stars {
        text.push_str(&format!(" {}", "★".repeat(s.min(5) as usize)));
    }
    let mut text = Mixed::ours(&text);
    if let Some(n) = &t.note {
        text.push_ours(" — ").push_typed(n);
    }
    text
}

/// Sorts entries into log order (see [`entries`]); the sort keys are computed once per
/// entry, not once per comparison.
fn in_log_order(out: Vec<Entry>, views: &Views) -> Vec<Entry> {
    let session_start: HashMap<Uuid, i64> = views
        .sessions
        .iter()
        .map(|s| (s.id, s.started_at))
        .collect();
    let mut keyed: Vec<(i64, Entry)> = out
        .into_iter()
        .map(|e| (session_start.get(&e.session).copied().unwrap_or(e.at), e))
        .collect();
    fn key(k: &(i64, Entry)) -> (&str, i64, Uuid, &str) {
        (k.1.song.as_str(), k.0, k.1.session, k.1.track.as_str())
    }
    keyed.sort_by(|ka, kb| {
        let (a, b) = (&ka.1, &kb.1);
        key(ka)
            .cmp(&key(kb))
            .then_with(|| match (&a.start, &b.start) {
                (Some(x), Some(y)) => x.seconds.total_cmp(&y.seconds),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            })
            .then_with(|| (a.at, a.id).cmp(&(b.at, b.id)))
    });
    keyed.into_iter().map(|(_, e)| e).collect()
}

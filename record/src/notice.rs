//! A recorded event in plain words a person acts on, e.g. "Alex (executive) asked for changes
//! on Sam's note “breath at the top” (Night Drive, bar 12): more air".
//!
//! One home for the words, so the server's webhooks, the editor's notices and a digest say
//! the same thing about the same event. [`words`] never decides what may be shown: a caller
//! that must keep private notes to themselves asks [`crate::rules::is_private`] first.
//!
//! [`KINDS`] is the one list of event kinds anyone may ask to be told about (a webhook's
//! `--events`): every kind this version writes, and the kinds being added alongside it
//! (replies, "done"), so a hook can name them before this build knows their shape. A kind
//! [`words`] does not know gets a plain sentence naming it.

use crate::event::{Anchor, Body, DawPos, Decision, Event, Verdict};
use uuid::Uuid;

/// Every event kind a notice may be asked for (see the module docs).
pub const KINDS: &[&str] = &[
    "note_added",
    "note_edited",
    "note_deleted",
    "take_started",
    "take_ended",
    "take_rated",
    "mark",
    "eq_decision",
    "fx_decision",
    "verdict",
    "tracklist_order",
    "song_selection",
    "clip_attached",
    "version_printed",
    "version_labeled",
    "transport_started",
    "transport_stopped",
    "session_opened",
    "session_closed",
    "reply_added",
    "reply_edited",
    "reply_deleted",
    "marked_done",
];

/// What people are told about when they do not say: what asks or answers someone, not the
/// transport's comings and goings.
pub const DEFAULT_KINDS: &[&str] = &[
    "note_added",
    "verdict",
    "version_printed",
    "reply_added",
    "marked_done",
];

/// Whether `kind` is one of [`KINDS`].
pub fn is_kind(kind: &str) -> bool {
    KINDS.contains(&kind)
}

/// Longest quote of someone's text inside a sentence about something else (the note a
/// verdict judges), in characters; the rest is cut with "…".
pub const QUOTE_CHARS: usize = 80;

/// `event` in words (see the module docs). `lookup` finds the event a verdict, edit,
/// deletion, clip or label targets by id; without it those say "an item".
pub fn words(event: &Event, lookup: &dyn Fn(Uuid) -> Option<Event>) -> String {
    let who = who(event);
    match &event.body {
        Body::Verdict {
            target,
            verdict,
            comment,
        } => verdict_words(event, lookup(*target).as_ref(), *verdict, comment),
        Body::NoteAdded(n) => format!(
            "{who} added a {} note{}: {}",
            n.category.as_str(),
            place(event, note_pos(event, n.anchor.as_ref()).as_ref()),
            n.text
        ),
        Body::NoteEdited(e) => {
            let target = lookup(e.note);
            let what = target
                .as_ref()
                .map_or("a note".into(), |t| about(t, &event.author));
            let text = e
                .text
                .as_deref()
                .map(|t| format!(": {t}"))
                .unwrap_or_default();
            format!("{who} edited {what}{}{text}", place_of(target.as_ref()))
        }
        Body::NoteDeleted { note } => {
            let target = lookup(*note);
            let what = target
                .as_ref()
                .map_or("a note".into(), |t| about(t, &event.author));
            format!("{who} deleted {what}{}", place_of(target.as_ref()))
        }
        _ => loop_words(event, &who, lookup),
    }
}

/// [`words`] for the review loop: replies and done.
fn loop_words(event: &Event, who: &str, lookup: &dyn Fn(Uuid) -> Option<Event>) -> String {
    let what = |id: Uuid| {
        let target = lookup(id);
        let what = target
            .as_ref()
            .map_or("an item".into(), |t| about(t, &event.author));
        format!("{what}{}", place_of(target.as_ref()))
    };
    match &event.body {
        Body::ReplyAdded(r) => format!("{who} replied to {}: {}", what(r.target), r.text),
        Body::ReplyEdited { text, .. } => format!("{who} edited their reply: {text}"),
        Body::ReplyDeleted { .. } => format!("{who} deleted their reply"),
        Body::MarkedDone(d) => {
            let version = d
                .version
                .and_then(&lookup)
                .and_then(|v| match v.body {
                    Body::VersionPrinted(p) => Some(format!(" in {}", p.label)),
                    _ => None,
                })
                .unwrap_or_default();
            let comment = if d.comment.trim().is_empty() {
                String::new()
            } else {
                format!(": {}", d.comment)
            };
            format!(
                "{who} made the changes asked for on {}{version}{comment}; please re-check",
                what(d.target)
            )
        }
        _ => other_words(event, who, lookup),
    }
}

/// [`words`] for takes, marks, decisions, the album and versions.
fn other_words(event: &Event, who: &str, lookup: &dyn Fn(Uuid) -> Option<Event>) -> String {
    let here = place(event, event.pos.as_ref());
    match &event.body {
        Body::TakeStarted { take } => format!("{who} started take {}{here}", take.number),
        Body::TakeEnded { take } => format!("{who} finished take {}{here}", take.number),
        Body::TakeRated {
            take,
            rating,
            stars,
            note,
        } => {
            let stars = stars.map(|s| format!(", {s} stars")).unwrap_or_default();
            let note = note
                .as_deref()
                .map(|n| format!(": {n}"))
                .unwrap_or_default();
            let rating = serde_json::to_value(rating).ok();
            let rating = rating.as_ref().and_then(|r| r.as_str()).unwrap_or("rated");
            format!(
                "{who} rated take {} {rating}{stars}{here}{note}",
                take.number
            )
        }
        Body::Mark { number, label, .. } => match label {
            Some(l) => format!("{who} named mark {number} “{l}”{here}"),
            None => format!("{who} dropped mark {number}{here}"),
        },
        Body::EqDecision(d) => decision_words(who, "an EQ", d, &here),
        Body::FxDecision(d) => decision_words(who, "an FX", d, &here),
        _ => album_words(event, who, lookup),
    }
}

/// [`words`] for the album, clips, versions and sessions; a plain sentence for the rest.
fn album_words(event: &Event, who: &str, lookup: &dyn Fn(Uuid) -> Option<Event>) -> String {
    let song = song_name(event);
    match &event.body {
        Body::TracklistOrder { songs } => {
            format!("{who} set the tracklist: {}", songs.join(", "))
        }
        Body::SongSelection { song, selected } if *selected => {
            format!("{who} put {song} on the record")
        }
        Body::SongSelection { song, .. } => format!("{who} took {song} off the record"),
        Body::ClipAttached(c) => {
            let target = lookup(c.target);
            let what = target
                .as_ref()
                .map_or("an item".into(), |t| about(t, &event.author));
            format!(
                "{who} attached {:.1} s of audio to {what}{}",
                c.clip.seconds(),
                place_of(target.as_ref())
            )
        }
        Body::VersionPrinted(v) => {
            let lost = v
                .loss_words()
                .map(|l| format!(" ({l})"))
                .unwrap_or_default();
            format!("{who} printed version {} of {song}{lost}", v.label)
        }
        Body::VersionLabeled(l) => {
            let what = lookup(l.target).map_or("a version".into(), |t| about(&t, &event.author));
            format!("{who} renamed {what} “{}”", l.label)
        }
        Body::TransportStarted => format!("{who} started playing {song}"),
        Body::TransportStopped => format!("{who} stopped playing {song}"),
        Body::SessionOpened => format!("{who} opened {song} ({})", event.track),
        Body::SessionClosed => format!("{who} closed {song} ({})", event.track),
        body => format!("{who} recorded {} on {song}", body.kind().replace('_', " ")),
    }
}

/// "Alex (executive) asked for changes on Sam's note “breath at the top” (Night Drive,
/// bar 12): more air".
fn verdict_words(event: &Event, target: Option<&Event>, verdict: Verdict, comment: &str) -> String {
    let who = who(event);
    let what = target.map_or("an item".into(), |t| about(t, &event.author));
    let said = match verdict {
        Verdict::Approved => "approved",
        Verdict::Rejected => "rejected",
        Verdict::ChangesRequested => "asked for changes on",
    };
    let comment = if comment.trim().is_empty() {
        String::new()
    } else {
        format!(": {comment}")
    };
    format!("{who} {said} {what}{}{comment}", place_of(target))
}

fn decision_words(who: &str, what: &str, d: &Decision, here: &str) -> String {
    let settings: Vec<String> = d
        .settings
        .iter()
        .map(|s| {
            let value = match (s.value, &s.text) {
                (Some(v), _) => format!(
                    "{v}{}",
                    s.unit
                        .as_deref()
                        .map(|u| format!(" {u}"))
                        .unwrap_or_default()
                ),
                (None, Some(t)) => t.clone(),
                (None, None) => String::new(),
            };
            format!("{} {value}", s.name).trim_end().to_owned()
        })
        .collect();
    let settings = if settings.is_empty() {
        String::new()
    } else {
        format!(" ({})", settings.join(", "))
    };
    let reason = if d.reason.trim().is_empty() {
        String::new()
    } else {
        format!(": {}", d.reason)
    };
    format!(
        "{who} recorded {what} decision{here}: {}{settings}{reason}",
        d.processor
    )
}

/// "Alex (executive)".
fn who(event: &Event) -> String {
    format!("{} ({})", event.author, event.role)
}

/// The thing `target` is, as `speaker` speaks of it: "Sam's note “breath at the top”" (or
/// "their note" when it is the speaker's own), "Sam's EQ decision (Pro-Q 3)", "Sam's take
/// 3", "the song Night Drive".
fn about(target: &Event, speaker: &str) -> String {
    let whose = if target.author == speaker {
        "their".to_owned()
    } else {
        format!("{}'s", target.author)
    };
    match &target.body {
        Body::NoteAdded(n) => format!("{whose} note {}", quote(&n.text)),
        Body::EqDecision(d) => format!("{whose} EQ decision ({})", d.processor),
        Body::FxDecision(d) => format!("{whose} FX decision ({})", d.processor),
        Body::TakeStarted { take } => format!("{whose} take {}", take.number),
        Body::Mark { number, .. } => format!("{whose} mark {number}"),
        Body::SongSelection { song, .. } => format!("the song {song}"),
        Body::VersionPrinted(v) => format!("{whose} version {}", v.label),
        body => format!("{whose} {}", body.kind().replace('_', " ")),
    }
}

/// “text”, cut to [`QUOTE_CHARS`].
fn quote(text: &str) -> String {
    let text = text.trim();
    if text.chars().count() <= QUOTE_CHARS {
        format!("“{text}”")
    } else {
        let cut: String = text.chars().take(QUOTE_CHARS - 1).collect();
        format!("“{}…”", cut.trim_end())
    }
}

/// " (Night Drive, bar 12)" for the event `target` (nothing when there is none).
fn place_of(target: Option<&Event>) -> String {
    match target {
        Some(t) => match &t.body {
            Body::NoteAdded(n) => place(t, note_pos(t, n.anchor.as_ref()).as_ref()),
            Body::SongSelection { .. } | Body::VersionPrinted(_) => String::new(),
            _ => place(t, t.pos.as_ref()),
        },
        None => String::new(),
    }
}

/// Where a note sits: its anchor's start, else its event's position.
fn note_pos(event: &Event, anchor: Option<&Anchor>) -> Option<DawPos> {
    match anchor {
        Some(Anchor::Point { at }) => Some(*at),
        Some(Anchor::Range { from, .. }) => Some(*from),
        None => event.pos,
    }
}

/// " (Night Drive, bar 12)": the event's song and, when known, the bar (else the time).
fn place(event: &Event, pos: Option<&DawPos>) -> String {
    let at = pos.and_then(|p| match (p.bar, p.seconds) {
        (Some(bar), _) => Some(format!("bar {bar}")),
        (None, Some(s)) => Some(format!("at {}", crate::position::format_time(s))),
        (None, None) => None,
    });
    match at {
        Some(at) => format!(" ({}, {at})", song_name(event)),
        None => format!(" ({})", song_name(event)),
    }
}

fn song_name(event: &Event) -> &str {
    if event.song.trim().is_empty() {
        "the project"
    } else {
        &event.song
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Category, Context, NoteAdded, Role};
    use crate::rules::is_private;

    fn ctx(author: &str, role: Role) -> Context {
        Context {
            project: "Album".into(),
            song: "Night Drive".into(),
            track: "Vox".into(),
            session: Uuid::now_v7(),
            author: author.into(),
            role,
        }
    }

    fn note(text: &str, private: bool) -> Event {
        let pos = DawPos {
            bar: Some(12),
            ..DawPos::default()
        };
        Event::new(
            &ctx("Sam", Role::Producer),
            Some(pos),
            Body::NoteAdded(NoteAdded {
                text: text.into(),
                category: Category::Vocal,
                anchor: None,
                take: None,
                private,
                version: None,
                guest: None,
            }),
        )
    }

    fn verdict(target: Uuid, verdict: Verdict, comment: &str) -> Event {
        Event::new(
            &ctx("Alex", Role::Executive),
            None,
            Body::Verdict {
                target,
                verdict,
                comment: comment.into(),
            },
        )
    }

    #[test]
    fn a_verdict_names_who_what_where_and_the_comment() {
        let n = note("breath at the top", false);
        let v = verdict(n.id, Verdict::ChangesRequested, "more air");
        let found = n.clone();
        let words = words(&v, &|id| (id == found.id).then(|| found.clone()));
        assert_eq!(
            words,
            "Alex (executive) asked for changes on Sam's note “breath at the top” \
             (Night Drive, bar 12): more air"
        );
        let approved = verdict(n.id, Verdict::Approved, " ");
        let words = super::words(&approved, &|_| Some(n.clone()));
        assert_eq!(
            words,
            "Alex (executive) approved Sam's note “breath at the top” (Night Drive, bar 12)"
        );
    }

    #[test]
    fn an_unknown_target_and_an_unknown_kind_still_read() {
        let v = verdict(Uuid::now_v7(), Verdict::Rejected, "");
        assert_eq!(words(&v, &|_| None), "Alex (executive) rejected an item");
        let mut e = note("x", false);
        e.body = Body::Unknown {
            kind: "reply_added".into(),
            body: crate::event::RawJson(
                serde_json::value::RawValue::from_string(r#"{"text":"ok"}"#.into()).unwrap(),
            ),
        };
        assert_eq!(
            words(&e, &|_| None),
            "Sam (producer) recorded reply added on Night Drive"
        );
    }

    #[test]
    fn a_note_reads_with_its_category_and_place_and_long_quotes_are_cut() {
        let n = note("breath at the top", false);
        assert_eq!(
            words(&n, &|_| None),
            "Sam (producer) added a vocal note (Night Drive, bar 12): breath at the top"
        );
        let long = "a".repeat(200);
        assert_eq!(quote(&long).chars().count(), QUOTE_CHARS + 2);
        assert!(quote(&long).ends_with("…”"));
    }

    #[test]
    fn a_reply_and_a_done_name_what_they_answer() {
        let n = note("breath at the top", false);
        let found = n.clone();
        let lookup = move |id: Uuid| (id == found.id).then(|| found.clone());
        let reply = Event::new(
            &ctx("Alex", Role::Executive),
            None,
            Body::ReplyAdded(crate::event::ReplyAdded {
                target: n.id,
                text: "which take?".into(),
            }),
        );
        assert_eq!(
            words(&reply, &lookup),
            "Alex (executive) replied to Sam's note “breath at the top” (Night Drive, \
             bar 12): which take?"
        );
        let done = Event::new(
            &ctx("Sam", Role::Producer),
            None,
            Body::MarkedDone(crate::event::MarkedDone {
                target: n.id,
                answers: Uuid::now_v7(),
                version: None,
                comment: "de-essed".into(),
            }),
        );
        assert_eq!(
            words(&done, &lookup),
            "Sam (producer) made the changes asked for on their note “breath at the top” \
             (Night Drive, bar 12): de-essed; please re-check"
        );
        let secret = note("only mine", true);
        let mut private_reply = reply.clone();
        private_reply.body = Body::ReplyAdded(crate::event::ReplyAdded {
            target: secret.id,
            text: "x".into(),
        });
        assert!(is_private(&private_reply, &|_| Some(secret.clone())));
    }

    #[test]
    fn private_notes_and_what_is_about_them_are_private() {
        let secret = note("only mine", true);
        assert!(is_private(&secret, &|_| None));
        let v = verdict(secret.id, Verdict::Approved, "");
        assert!(is_private(&v, &|_| Some(secret.clone())));
        let open = note("for all", false);
        assert!(!is_private(&open, &|_| None));
        let v = verdict(open.id, Verdict::Approved, "");
        assert!(!is_private(&v, &|_| Some(open.clone())));
        // A reply (a kind this version does not know) to the private note is private too.
        let mut reply = note("x", false);
        reply.body = Body::Unknown {
            kind: "reply_added".into(),
            body: crate::event::RawJson(
                serde_json::value::RawValue::from_string(format!(
                    r#"{{"target":"{}","text":"ok"}}"#,
                    secret.id
                ))
                .unwrap(),
            ),
        };
        assert!(is_private(&reply, &|id| (id == secret.id).then(|| secret.clone())));
        assert!(!is_private(&reply, &|_| Some(open.clone())));
    }

    /// An event of every kind this version knows, each in its own words (none falls back to
    /// "recorded <kind>"), each kind in [`KINDS`].
    #[test]
    fn every_kind_today_has_words_of_its_own() {
        use serde_json::json;
        let n = note("breath at the top", false);
        let hash = crate::clips::ClipHash::of(b"audio").to_string();
        let take = json!({"instance": Uuid::nil(), "number": 3});
        let decision = json!({"processor": "Pro-Q 3", "reason": "mud",
            "settings": [{"name": "gain", "value": -3.0, "unit": "dB"}, {"name": "band", "text": "low shelf"}]});
        let bodies = [
            ("note_added", json!({"text": "t", "category": "mix"})),
            ("note_edited", json!({"note": n.id, "text": "new words"})),
            ("note_deleted", json!({"note": n.id})),
            ("take_started", json!({"take": take})),
            ("take_ended", json!({"take": take})),
            (
                "take_rated",
                json!({"take": take, "rating": "keeper", "stars": 4, "note": "great"}),
            ),
            ("mark", json!({"instance": Uuid::nil(), "number": 2})),
            ("eq_decision", decision.clone()),
            ("fx_decision", decision),
            (
                "verdict",
                json!({"target": n.id, "verdict": "approved", "comment": ""}),
            ),
            ("tracklist_order", json!({"songs": ["A", "B"]})),
            ("song_selection", json!({"song": "A", "selected": true})),
            (
                "clip_attached",
                json!({"target": n.id, "clip": {"hash": hash, "format": "flac",
                "sample_rate": 48000, "channels": 2, "frames": 48000 * 12, "moment": 0, "bytes": 5}}),
            ),
            (
                "version_printed",
                json!({"label": "v3", "start": {"seconds": 0.0}, "version": {
                "hash": hash, "format": "flac", "sample_rate": 48000, "channels": 2,
                "frames": 48000 * 60, "bytes": 5,
                "loudness": {"integrated": -14.0, "range": 5.0, "true_peak": -1.0},
                "peaks": [-100, 100]}}),
            ),
            (
                "version_labeled",
                json!({"target": n.id, "label": "v3 final"}),
            ),
            ("reply_added", json!({"target": n.id, "text": "on it"})),
            ("reply_edited", json!({"reply": n.id, "text": "on it, v4"})),
            ("reply_deleted", json!({"reply": n.id})),
            ("marked_done", json!({"target": n.id, "answers": n.id})),
            ("transport_started", json!({})),
            ("transport_stopped", json!({})),
            ("session_opened", json!({})),
            ("session_closed", json!({})),
        ];
        let lookup = |_| Some(n.clone());
        for (kind, body) in bodies {
            assert!(is_kind(kind), "{kind}");
            let mut line = serde_json::to_value(&n).unwrap();
            line["kind"] = json!(kind);
            line["body"] = body;
            let event: Event =
                serde_json::from_value(line).unwrap_or_else(|e| panic!("{kind}: {e}"));
            assert_eq!(event.body.kind(), kind, "{kind} parses as itself");
            let words = words(&event, &lookup);
            assert!(words.starts_with("Sam (producer) "), "{kind}: {words}");
            assert!(
                !words.contains(" recorded ") || kind.ends_with("decision"),
                "{kind}: {words}"
            );
        }
    }

    #[test]
    fn every_kind_is_listed_once_and_the_defaults_are_kinds() {
        let mut seen = std::collections::HashSet::new();
        assert!(KINDS.iter().all(|k| seen.insert(*k)));
        assert!(DEFAULT_KINDS.iter().all(|k| is_kind(k)));
        assert!(!is_kind("verdicts"));
    }
}

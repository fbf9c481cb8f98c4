//! How big any part of an event may be: one set of limits, enforced by the server on every
//! push and by the editor as people type, so nothing made in the editor is ever refused for
//! its size.
//!
//! Sizes of text are counted in characters (what a person sees), not bytes.
//!
//! | what | limit |
//! |---|---|
//! | free text: note text, verdict comment, decision reason, take note, reply, done comment | [`MAX_TEXT_CHARS`] characters |
//! | a name: project, song, track, author, processor, kind, mark label, a tracklist song, a setting's text value | [`MAX_NAME_CHARS`] characters |
//! | a setting's name and unit | [`MAX_SETTING_NAME_CHARS`] characters |
//! | settings in one decision | [`MAX_SETTINGS`] |
//! | songs in one tracklist | [`MAX_TRACKLIST`] |
//! | one event's JSON | [`MAX_EVENT_BYTES`] bytes |
//! | the body of a kind this version does not know | [`MAX_UNKNOWN_BODY_BYTES`] bytes, nested at most [`MAX_UNKNOWN_DEPTH`] deep, every string valid Unicode (no lone surrogate escapes) |
//!
//! The server adds its own (bodies, batches, pull answers: `server/src/api/`).

use crate::event::{Body, Event};

/// Longest free text: note text, verdict comments, decision reasons, take notes.
pub const MAX_TEXT_CHARS: usize = 10_000;
/// Longest name: project, song, track, author, processor, kind, mark label, a song in the
/// tracklist, a setting's text value.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest name or unit of one setting.
pub const MAX_SETTING_NAME_CHARS: usize = 100;
/// Most settings in one EQ/FX decision.
pub const MAX_SETTINGS: usize = 100;
/// Most songs in one tracklist.
pub const MAX_TRACKLIST: usize = 500;
/// Largest event, its JSON in bytes (every field at its limit in 4-byte characters fits).
pub const MAX_EVENT_BYTES: usize = 512 * 1024;
/// Largest body of a kind this version does not know (its JSON, in bytes).
pub const MAX_UNKNOWN_BODY_BYTES: usize = 40_000;
/// Deepest nesting of arrays and objects in a body of a kind this version does not know.
pub const MAX_UNKNOWN_DEPTH: usize = 32;

/// Why an event is over the record's limits, in words a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    /// A field, list or the whole event is longer than its limit.
    #[error("{what} is too long: {len} {unit}, the limit is {max}")]
    TooLong {
        what: &'static str,
        len: usize,
        max: usize,
        unit: &'static str,
    },
    /// A string in a body of a kind this version does not know is no Unicode text (a lone
    /// surrogate escape such as "\ud800" is valid JSON but no string other readers can take).
    #[error("{what} is not valid Unicode text")]
    NotUnicode { what: &'static str },
}

fn chars(what: &'static str, value: &str, max: usize) -> Result<(), LimitError> {
    // Counting stops past the limit: a hostile 3 MB string costs no more than a long one.
    let len = value.chars().take(max + 1).count();
    if len > max {
        return Err(LimitError::TooLong {
            what,
            len: value.chars().count(),
            max,
            unit: "characters",
        });
    }
    Ok(())
}

fn count(what: &'static str, len: usize, max: usize) -> Result<(), LimitError> {
    if len > max {
        return Err(LimitError::TooLong {
            what,
            len,
            max,
            unit: "entries",
        });
    }
    Ok(())
}

/// The deepest nesting of arrays and objects in valid JSON text.
fn nesting(json: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let (mut in_string, mut escaped) = (false, false);
    for b in json.bytes() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// Checks every field of `e` against the limits (and the size of the whole event).
///
/// # Errors
/// The first field that is too long or too deep, named.
pub fn check(e: &Event) -> Result<(), LimitError> {
    check_sized(e, e.to_json().len())
}

/// [`check`] for an event whose JSON is `bytes` long (known already: no second encoding).
///
/// # Errors
/// The first field that is too long or too deep, named.
pub fn check_sized(e: &Event, bytes: usize) -> Result<(), LimitError> {
    fields(e)?;
    if bytes > MAX_EVENT_BYTES {
        return Err(LimitError::TooLong {
            what: "the event",
            len: bytes,
            max: MAX_EVENT_BYTES,
            unit: "bytes",
        });
    }
    Ok(())
}

/// An EQ/FX decision's processor, reason and settings.
fn decision_fields(d: &crate::event::Decision) -> Result<(), LimitError> {
    chars("the processor name", &d.processor, MAX_NAME_CHARS)?;
    chars("the reason", &d.reason, MAX_TEXT_CHARS)?;
    count("the list of settings", d.settings.len(), MAX_SETTINGS)?;
    for s in &d.settings {
        chars("a setting's name", &s.name, MAX_SETTING_NAME_CHARS)?;
        chars(
            "a setting's value",
            s.text.as_deref().unwrap_or(""),
            MAX_NAME_CHARS,
        )?;
        chars(
            "a setting's unit",
            s.unit.as_deref().unwrap_or(""),
            MAX_SETTING_NAME_CHARS,
        )?;
    }
    Ok(())
}

/// The body of a kind this version does not know: its size, its nesting, its strings.
fn unknown_fields(body: &str) -> Result<(), LimitError> {
    let len = body.len();
    if len > MAX_UNKNOWN_BODY_BYTES {
        return Err(LimitError::TooLong {
            what: "the body of an unknown kind",
            len,
            max: MAX_UNKNOWN_BODY_BYTES,
            unit: "bytes",
        });
    }
    let depth = nesting(body);
    if depth > MAX_UNKNOWN_DEPTH {
        return Err(LimitError::TooLong {
            what: "the nesting of an unknown kind's body",
            len: depth,
            max: MAX_UNKNOWN_DEPTH,
            unit: "levels",
        });
    }
    // Every string must be Unicode other readers can take (a lone surrogate escape
    // such as "\ud800" is valid JSON text but no string).
    if serde_json::from_str::<serde_json::Value>(body).is_err() {
        return Err(LimitError::NotUnicode {
            what: "a string in an unknown kind's body",
        });
    }
    Ok(())
}

/// A note's text, and the name of the guest who wrote it (if one did).
fn note_fields(n: &crate::event::NoteAdded) -> Result<(), LimitError> {
    chars("the note text", &n.text, MAX_TEXT_CHARS)?;
    let guest = n.guest.as_deref().unwrap_or("");
    chars("the guest's name", guest, MAX_NAME_CHARS)
}

/// Each field against its own limit (the field named in the refusal).
fn fields(e: &Event) -> Result<(), LimitError> {
    chars("the project name", &e.project, MAX_NAME_CHARS)?;
    chars("the song name", &e.song, MAX_NAME_CHARS)?;
    chars("the track name", &e.track, MAX_NAME_CHARS)?;
    chars("the author name", &e.author, MAX_NAME_CHARS)?;
    chars("the kind", e.body.kind(), MAX_NAME_CHARS)?;
    match &e.body {
        Body::NoteAdded(n) => note_fields(n),
        Body::NoteEdited(n) => chars(
            "the note text",
            n.text.as_deref().unwrap_or(""),
            MAX_TEXT_CHARS,
        ),
        Body::Verdict { comment, .. } => chars("the comment", comment, MAX_TEXT_CHARS),
        Body::ReplyAdded(r) => chars("the reply", &r.text, MAX_TEXT_CHARS),
        Body::ReplyEdited { text, .. } => chars("the reply", text, MAX_TEXT_CHARS),
        Body::MarkedDone(d) => chars("the comment", &d.comment, MAX_TEXT_CHARS),
        Body::EqDecision(d) | Body::FxDecision(d) => decision_fields(d),
        Body::TakeRated { note, .. } => chars(
            "the take note",
            note.as_deref().unwrap_or(""),
            MAX_TEXT_CHARS,
        ),
        Body::Mark { label, .. } => chars(
            "the mark's name",
            label.as_deref().unwrap_or(""),
            MAX_NAME_CHARS,
        ),
        Body::TracklistOrder { songs } => {
            count("the tracklist", songs.len(), MAX_TRACKLIST)?;
            songs
                .iter()
                .try_for_each(|s| chars("a song name in the tracklist", s, MAX_NAME_CHARS))
        }
        Body::SongSelection { song, .. } => chars("the song name", song, MAX_NAME_CHARS),
        Body::VersionPrinted(v) => chars(
            "the version's label",
            &v.label,
            crate::versions::MAX_LABEL_CHARS,
        ),
        Body::VersionLabeled(v) => chars(
            "the version's label",
            &v.label,
            crate::versions::MAX_LABEL_CHARS,
        ),
        Body::Unknown { body, .. } => unknown_fields(body.get()),
        // Checked as it is read (crate::clips::Clip).
        Body::ClipAttached(_)
        | Body::NoteDeleted { .. }
        | Body::ReplyDeleted { .. }
        | Body::TakeStarted { .. }
        | Body::TakeEnded { .. }
        | Body::TransportStarted
        | Body::TransportStopped
        | Body::SessionOpened
        | Body::SessionClosed => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Category, Context, NoteAdded, Role};

    fn note(text: String) -> Event {
        Event::new(
            &Context {
                project: "P".into(),
                song: "S".into(),
                track: "T".into(),
                session: uuid::Uuid::now_v7(),
                author: "Sam".into(),
                role: Role::Producer,
            },
            None,
            Body::NoteAdded(NoteAdded {
                text,
                category: Category::Mix,
                anchor: None,
                take: None,
                private: false,
                version: None,
                guest: None,
            }),
        )
    }

    fn unknown(body: &str) -> Event {
        serde_json::from_str(&format!(
            r#"{{"v":1,"id":"{}","project":"P","session":"{}","author":"A","role":"artist","at":5,"kind":"lyrics","body":{body}}}"#,
            uuid::Uuid::now_v7(),
            uuid::Uuid::now_v7()
        ))
        .unwrap()
    }

    #[test]
    fn unknown_bodies_are_bounded_in_size_depth_and_unicode() {
        let deep = format!("{}{}", "[".repeat(40), "]".repeat(40));
        assert!(matches!(
            check(&unknown(&deep)),
            Err(LimitError::TooLong { unit: "levels", .. })
        ));
        let fine = format!("{}\"[[[\"{}", "[".repeat(30), "]".repeat(30));
        assert_eq!(
            check(&unknown(&fine)),
            Ok(()),
            "brackets in strings do not count"
        );
        let lone = r#"{"line":"\ud800"}"#;
        assert!(matches!(
            check(&unknown(lone)),
            Err(LimitError::NotUnicode { .. })
        ));
        assert!(check(&unknown(lone))
            .unwrap_err()
            .to_string()
            .contains("Unicode"));
        let paired = r#"{"line":"\ud83c\udfa4"}"#;
        assert_eq!(check(&unknown(paired)), Ok(()));
    }

    #[test]
    fn every_string_and_list_of_every_kind_has_a_limit() {
        use crate::event::{Decision, Setting};
        let ctx = Context {
            project: "P".into(),
            song: "S".into(),
            track: "T".into(),
            session: uuid::Uuid::now_v7(),
            author: "Sam".into(),
            role: Role::Producer,
        };
        let long = "x".repeat(3_000_000);
        let setting = |name: &str| Setting {
            name: name.into(),
            value: None,
            text: None,
            unit: None,
        };
        let bodies = [
            Body::Mark {
                instance: uuid::Uuid::now_v7(),
                number: 1,
                label: Some(long.clone()),
            },
            Body::EqDecision(Decision {
                processor: "Q".into(),
                settings: vec![setting(&long)],
                reason: String::new(),
            }),
            Body::EqDecision(Decision {
                processor: "Q".into(),
                settings: (0..100_000).map(|_| setting("gain")).collect(),
                reason: String::new(),
            }),
            Body::TracklistOrder {
                songs: (0..20_000).map(|i| i.to_string()).collect(),
            },
            Body::SongSelection {
                song: long.clone(),
                selected: true,
            },
        ];
        for body in bodies {
            let e = Event::new(&ctx, None, body);
            assert!(check(&e).is_err(), "{}", e.body.kind());
        }
    }

    #[test]
    fn a_note_at_the_limit_passes_and_one_character_more_is_named() {
        assert_eq!(check(&note("é".repeat(MAX_TEXT_CHARS))), Ok(()));
        let err = check(&note("é".repeat(MAX_TEXT_CHARS + 1))).unwrap_err();
        assert!(
            matches!(err, LimitError::TooLong { what: "the note text", len, .. } if len == MAX_TEXT_CHARS + 1),
            "{err:?}"
        );
        assert!(err.to_string().contains("10000"), "{err}");
    }
}

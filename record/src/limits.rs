//! How big any part of an event may be: one set of limits, enforced by the server on every
//! push and by the editor as people type, so nothing made in the editor is ever refused for
//! its size.
//!
//! Sizes of text are counted in characters (what a person sees), not bytes.

use crate::event::{Body, Event};

/// Longest free text: note text, verdict comments, decision reasons, take notes.
pub const MAX_TEXT_CHARS: usize = 10_000;
/// Longest name: project, song, track, author, processor, kind, mark label, a setting's
/// name, unit and text value, a song in the tracklist.
pub const MAX_NAME_CHARS: usize = 200;
/// Most settings in one EQ/FX decision.
pub const MAX_SETTINGS: usize = 200;
/// Most songs in one tracklist.
pub const MAX_TRACKLIST: usize = 500;
/// Largest body of a kind this version does not know (its JSON, in bytes).
pub const MAX_UNKNOWN_BODY_BYTES: usize = 40_000;

/// What is too big, in words a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} is too long: {len} {unit}, the limit is {max}")]
pub struct TooBig {
    pub what: &'static str,
    pub len: usize,
    pub max: usize,
    pub unit: &'static str,
}

fn chars(what: &'static str, value: &str, max: usize) -> Result<(), TooBig> {
    // Counting stops past the limit: a hostile 3 MB string costs no more than a long one.
    let len = value.chars().take(max + 1).count();
    if len > max {
        return Err(TooBig {
            what,
            len: value.chars().count(),
            max,
            unit: "characters",
        });
    }
    Ok(())
}

fn count(what: &'static str, len: usize, max: usize) -> Result<(), TooBig> {
    if len > max {
        return Err(TooBig {
            what,
            len,
            max,
            unit: "entries",
        });
    }
    Ok(())
}

/// Checks every field of `e` against the limits.
pub fn check(e: &Event) -> Result<(), TooBig> {
    chars("the project name", &e.project, MAX_NAME_CHARS)?;
    chars("the song name", &e.song, MAX_NAME_CHARS)?;
    chars("the track name", &e.track, MAX_NAME_CHARS)?;
    chars("the author name", &e.author, MAX_NAME_CHARS)?;
    chars("the kind", e.body.kind(), MAX_NAME_CHARS)?;
    match &e.body {
        Body::NoteAdded(n) => chars("the note text", &n.text, MAX_TEXT_CHARS),
        Body::NoteEdited(n) => chars(
            "the note text",
            n.text.as_deref().unwrap_or(""),
            MAX_TEXT_CHARS,
        ),
        Body::Verdict { comment, .. } => chars("the comment", comment, MAX_TEXT_CHARS),
        Body::EqDecision(d) | Body::FxDecision(d) => {
            chars("the processor name", &d.processor, MAX_NAME_CHARS)?;
            chars("the reason", &d.reason, MAX_TEXT_CHARS)?;
            count("the list of settings", d.settings.len(), MAX_SETTINGS)?;
            for s in &d.settings {
                chars("a setting's name", &s.name, MAX_NAME_CHARS)?;
                chars(
                    "a setting's value",
                    s.text.as_deref().unwrap_or(""),
                    MAX_NAME_CHARS,
                )?;
                chars(
                    "a setting's unit",
                    s.unit.as_deref().unwrap_or(""),
                    MAX_NAME_CHARS,
                )?;
            }
            Ok(())
        }
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
        Body::Unknown { body, .. } => {
            let len = body.get().len();
            if len > MAX_UNKNOWN_BODY_BYTES {
                return Err(TooBig {
                    what: "the body of an unknown kind",
                    len,
                    max: MAX_UNKNOWN_BODY_BYTES,
                    unit: "bytes",
                });
            }
            Ok(())
        }
        Body::NoteDeleted { .. }
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
            }),
        )
    }

    #[test]
    fn a_note_at_the_limit_passes_and_one_character_more_is_named() {
        assert_eq!(check(&note("é".repeat(MAX_TEXT_CHARS))), Ok(()));
        let err = check(&note("é".repeat(MAX_TEXT_CHARS + 1))).unwrap_err();
        assert_eq!(err.what, "the note text");
        assert_eq!(err.len, MAX_TEXT_CHARS + 1);
        assert!(err.to_string().contains("10000"), "{err}");
    }
}

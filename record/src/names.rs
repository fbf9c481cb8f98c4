//! Names people give (projects, songs, people, notes): which ones are fit to be a name at
//! all ([`checked_name`], for the editor's settings and `liner`), and how they are made safe
//! as file and folder names (they can never climb out of their folder, and stay readable) or
//! as part of a URL ([`percent_encoded`]).

use crate::limits::MAX_NAME_CHARS;

/// Why a project, song or person name cannot be used. The words follow the field's name:
/// "The song name cannot be empty".
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("cannot be empty")]
    Empty,
    #[error("is too long (at most {MAX_NAME_CHARS} characters)")]
    TooLong,
    #[error("cannot contain line breaks or control characters")]
    ControlCharacter,
}

/// `value` without surrounding white space, if it can name a project, song or person: not
/// empty, at most [`MAX_NAME_CHARS`] characters (the event limit for names), no control
/// characters (a name is one line everywhere it is shown or exported).
///
/// # Errors
/// What is wrong with it.
pub fn checked_name(value: &str) -> Result<&str, NameError> {
    let v = value.trim();
    if v.is_empty() {
        Err(NameError::Empty)
    } else if v.chars().nth(MAX_NAME_CHARS).is_some() {
        Err(NameError::TooLong)
    } else if v.chars().any(char::is_control) {
        Err(NameError::ControlCharacter)
    } else {
        Ok(v)
    }
}

/// What stays as it is in a URL: RFC 3986's unreserved characters.
const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `text` with everything but unreserved ASCII percent-encoded (UTF-8 bytes): fit for a
/// path segment or a query value (`/song?name=...`, a clip folder in a log's links).
pub fn percent_encoded(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, UNRESERVED).to_string()
}

/// `text` with every character that is not a letter, a digit or one of `also_keep` replaced
/// by `_`, at most `max_chars` characters.
pub fn safe_name(text: &str, also_keep: &[char], max_chars: usize) -> String {
    text.chars()
        .map(|c| {
            if c.is_alphanumeric() || also_keep.contains(&c) {
                c
            } else {
                '_'
            }
        })
        .take(max_chars)
        .collect()
}

/// Lowercase ASCII words joined by hyphens, at most about `max_chars` long; "clip" for text
/// with no letters or digits. Needs no quoting anywhere (URLs, shells, Markdown links).
pub fn slug(text: &str, max_chars: usize) -> String {
    let mut out = String::new();
    let mut gap = false;
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            if out.len() >= max_chars {
                break;
            }
            if gap && !out.is_empty() {
                out.push('-');
            }
            gap = false;
            out.push(c);
        } else {
            gap = true;
        }
    }
    if out.is_empty() {
        out.push_str("clip");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_one_trimmed_line_within_the_limit() {
        assert_eq!(checked_name("  Song A \t"), Ok("Song A"));
        assert_eq!(checked_name(" \n "), Err(NameError::Empty));
        assert_eq!(checked_name("a\nb"), Err(NameError::ControlCharacter));
        assert_eq!(
            checked_name(&"é".repeat(MAX_NAME_CHARS)).map(|n| n.len()),
            Ok(400)
        );
        assert_eq!(
            checked_name(&"é".repeat(MAX_NAME_CHARS + 1)),
            Err(NameError::TooLong)
        );
        assert_eq!(
            format!("The song name {}", NameError::TooLong),
            "The song name is too long (at most 200 characters)"
        );
    }

    #[test]
    fn percent_encoding_keeps_only_unreserved_ascii() {
        assert_eq!(percent_encoded("My log-clips"), "My%20log-clips");
        assert_eq!(percent_encoded("a&b=c/d?é~_."), "a%26b%3Dc%2Fd%3F%C3%A9~_.");
    }

    #[test]
    fn names_stay_in_their_folder() {
        assert_eq!(safe_name("../My Song/2", &['-', '_'], 64), "___My_Song_2");
        assert_eq!(
            safe_name("Night Drive: v2", &[' ', '-'], 64),
            "Night Drive_ v2"
        );
        assert_eq!(safe_name("abcdef", &[], 3), "abc");
        assert_eq!(
            slug("The snare DRAGS at bar 23!", 48),
            "the-snare-drags-at-bar-23"
        );
        assert_eq!(slug("../../etc/passwd", 48), "etc-passwd");
        assert_eq!(slug("ça va — très bien", 48), "a-va-tr-s-bien");
        assert_eq!(slug("!!!", 48), "clip");
        assert!(slug(&"long ".repeat(40), 48).len() <= 49);
        assert!(!slug(&"ab ".repeat(40), 48).ends_with('-'));
    }
}

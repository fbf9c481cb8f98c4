//! Names people gave (projects, songs, notes) made safe as file and folder names: they can
//! never climb out of their folder, and stay readable.

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

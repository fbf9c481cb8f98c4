//! Text someone typed (or a plugin named) among our words, in the HTML made for people (the
//! printable log here, the review page in the server): each typed string is isolated, so that
//! its writing direction stays inside it. A right-to-left override (U+202E) in a song name, a
//! note or a person's name cannot reorder the words that follow it, and right-to-left names
//! (Hebrew, Arabic) show as their writers meant among left-to-right text.
//!
//! [`bdi`] is the one way typed text goes into HTML text (the server's page uses it too);
//! [`isolated`] is its plain-text form, for where no element can go; [`Mixed`] is text of ours
//! with typed pieces in it (a decision: processor, settings, reason), to isolate piece by piece.

use super::text::h;
use std::fmt;
use std::ops::Range;

/// FIRST STRONG ISOLATE and POP DIRECTIONAL ISOLATE: the plain-text `<bdi>`.
const FSI: char = '\u{2068}';
const PDI: char = '\u{2069}';

/// Typed `text` as HTML text: escaped, in a `<bdi>` element (which browsers isolate; nothing for
/// no text).
pub fn bdi(text: &str) -> String {
    if text.is_empty() {
        String::new()
    } else {
        format!("<bdi>{}</bdi>", h(text))
    }
}

/// Typed `text` where no element can go (a window title, a select's option, an SVG tooltip):
/// between FIRST STRONG ISOLATE and POP DIRECTIONAL ISOLATE, which isolate as `<bdi>` does. Not
/// escaped.
pub fn isolated(text: &str) -> String {
    if text.is_empty() {
        String::new()
    } else {
        format!("{FSI}{text}{PDI}")
    }
}

/// Text of our words with pieces someone typed or a plugin named in it: `text` as the plain
/// formats show it, and which byte ranges of it are typed, for the HTML to isolate each.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mixed {
    text: String,
    typed: Vec<Range<usize>>,
}

impl Mixed {
    /// Words of ours.
    pub fn ours(text: &str) -> Mixed {
        let mut m = Mixed::default();
        m.push_ours(text);
        m
    }

    /// One typed string.
    pub fn typed(text: &str) -> Mixed {
        let mut m = Mixed::default();
        m.push_typed(text);
        m
    }

    pub fn push_ours(&mut self, text: &str) -> &mut Mixed {
        self.text.push_str(text);
        self
    }

    pub fn push_typed(&mut self, text: &str) -> &mut Mixed {
        if !text.is_empty() {
            let start = self.text.len();
            self.text.push_str(text);
            self.typed.push(start..self.text.len());
        }
        self
    }

    pub fn push(&mut self, other: &Mixed) -> &mut Mixed {
        for (piece, typed) in other.pieces() {
            if typed {
                self.push_typed(piece);
            } else {
                self.push_ours(piece);
            }
        }
        self
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// The text in order, piece by piece: each with whether it is typed.
    pub fn pieces(&self) -> impl Iterator<Item = (&str, bool)> {
        let mut out = Vec::with_capacity(2 * self.typed.len() + 1);
        let mut at = 0;
        for r in &self.typed {
            if at < r.start {
                out.push((&self.text[at..r.start], false));
            }
            out.push((&self.text[r.clone()], true));
            at = r.end;
        }
        if at < self.text.len() {
            out.push((&self.text[at..], false));
        }
        out.into_iter()
    }

    /// As HTML text: our words escaped, each typed piece through [`bdi`].
    pub fn html(&self) -> String {
        self.pieces()
            .map(|(piece, typed)| if typed { bdi(piece) } else { h(piece) })
            .collect()
    }

    /// As plain text with each typed piece [`isolated`] (not escaped).
    pub fn isolated(&self) -> String {
        self.pieces()
            .map(|(piece, typed)| {
                if typed {
                    isolated(piece)
                } else {
                    piece.to_owned()
                }
            })
            .collect()
    }
}

impl fmt::Display for Mixed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Where `marker` (a piece of typed text) stands in the text of `html` outside an isolate: a
/// few characters around each such place (empty when every one is isolated). Isolated means
/// directly inside a `<bdi>` element; or, where no element can go (a `<title>`, an
/// `<option>`), after an open FIRST STRONG ISOLATE (U+2068). In an attribute it is fine
/// (attribute text is never laid out among other text). The check of this module's rule on a
/// rendered page, for the tests of every crate that renders HTML.
pub fn unisolated(html: &str, marker: &str) -> Vec<String> {
    html.match_indices(marker)
        .map(|(at, _)| at)
        .filter(|&at| !isolated_at(&html[..at]))
        .map(|at| {
            let from = (at.saturating_sub(80)..at)
                .find(|&i| html.is_char_boundary(i))
                .unwrap_or(at);
            let to = (at + marker.len()..=html.len())
                .take(20)
                .filter(|&i| html.is_char_boundary(i))
                .last()
                .unwrap_or(at);
            html[from..to].to_owned()
        })
        .collect()
}

/// Whether text that comes right after `before` (an HTML document up to there) is isolated.
fn isolated_at(before: &str) -> bool {
    let Some(open) = before.rfind('<') else {
        return false;
    };
    if before.rfind('>').is_none_or(|close| close < open) {
        // Inside a tag: an attribute's value.
        return true;
    }
    let tag = &before[open + 1..];
    let is = |name: &str| {
        tag.strip_prefix(name)
            .is_some_and(|rest| rest.starts_with(['>', ' ']))
    };
    if is("bdi") {
        return true;
    }
    if is("title") || is("option") {
        let text = &tag[tag.find('>').map_or(tag.len(), |i| i + 1)..];
        return text.matches('\u{2068}').count() > text.matches('\u{2069}').count();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_text_is_escaped_and_isolated_and_our_words_only_escaped() {
        assert_eq!(bdi("a<\u{202E}b"), "<bdi>a&lt;\u{202E}b</bdi>");
        assert_eq!(bdi(""), "");
        assert_eq!(isolated("\u{202E}b"), "\u{2068}\u{202E}b\u{2069}");
        let mut m = Mixed::typed("Pro-Q");
        m.push_ours(": ")
            .push_typed("gain")
            .push_ours(" -3 ")
            .push_typed("")
            .push_typed("dB");
        assert_eq!(m.as_str(), "Pro-Q: gain -3 dB");
        assert_eq!(
            m.pieces().collect::<Vec<_>>(),
            [
                ("Pro-Q", true),
                (": ", false),
                ("gain", true),
                (" -3 ", false),
                ("dB", true)
            ]
        );
        assert_eq!(
            m.html(),
            "<bdi>Pro-Q</bdi>: <bdi>gain</bdi> -3 <bdi>dB</bdi>"
        );
        let mut n = Mixed::ours("a & b — ");
        n.push(&m);
        assert_eq!(
            n.html(),
            "a &amp; b — <bdi>Pro-Q</bdi>: <bdi>gain</bdi> -3 <bdi>dB</bdi>"
        );
        assert_eq!(Mixed::typed("x").isolated(), "\u{2068}x\u{2069}");
    }

    #[test]
    fn the_check_finds_typed_text_outside_an_isolate() {
        let m = "\u{202E}E";
        assert!(unisolated(&format!("<p><bdi>a{m}</bdi> b</p>"), m).is_empty());
        assert!(unisolated(&format!("<a title=\"{m}\" href=\"/\">x</a>"), m).is_empty());
        assert!(unisolated(&format!("<title>\u{2068}{m}\u{2069}</title>"), m).is_empty());
        assert!(unisolated(
            &format!("<option value=\"{m}\">\u{2068}{m}\u{2069}</option>"),
            m
        )
        .is_empty());
        assert_eq!(unisolated(&format!("<p>a{m} b</p>"), m).len(), 1);
        assert_eq!(unisolated(&format!("<p><bdi>a</bdi>{m}</p>"), m).len(), 1);
        assert_eq!(unisolated(&format!("<p><b>{m}</b></p>"), m).len(), 1);
        assert_eq!(
            unisolated(&format!("<title>\u{2068}a\u{2069}{m}</title>"), m).len(),
            1
        );
        assert_eq!(unisolated(&format!("<bdo>{m}</bdo>{m}"), m).len(), 2);
        assert_eq!(unisolated(m, m).len(), 1);
    }
}

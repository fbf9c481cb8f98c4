//! The frame of every page and the pieces the pages share. maud escapes every string it is
//! given; the one piece of HTML made elsewhere is the isolating `<bdi>` around typed text
//! ([`typed`], [`mixed`]): the record's export makes it, one rule for the page and the
//! printable log.

use super::auth::Signed;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use liner_record::event::Verdict;
use liner_record::export::{bdi, Entry, EntryKind, Format, Mixed};
use liner_record::names::percent_encoded;
use liner_record::review::Standing;
use liner_record::views::VerdictView;
use maud::{html, Markup, PreEscaped, DOCTYPE};

/// Which page is showing (for the navigation).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Overview,
    Queue,
    Song,
    Tracklist,
    Digest,
    Links,
}

/// What the frame shows around a page.
pub struct Frame<'a> {
    pub signed: &'a Signed,
    pub title: &'a str,
    pub nav: Nav,
    /// The record's sequence number the page shows (live updates start after it).
    pub seq: u64,
    /// Items waiting for a verdict, for the navigation.
    pub waiting: usize,
}

/// A string someone typed or a plugin named (a song, a person, a note, a processor...), as
/// page text: escaped and isolated ([`bdi`]), so a right-to-left override in it cannot reorder
/// what follows. Where no element can go (a `<title>`, an `<option>`, an SVG tooltip) the
/// pages use [`liner_record::export::isolated`]; attributes need neither.
pub fn typed(text: &str) -> Markup {
    PreEscaped(bdi(text))
}

/// Our words with typed pieces (an entry's text, a decision's settings), each piece isolated.
pub fn mixed(text: &Mixed) -> Markup {
    PreEscaped(text.html())
}

/// `title` is plain text: a typed name in it must come isolated
/// ([`liner_record::export::isolated`]).
pub(super) fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " · Liner Notes" }
            link rel="stylesheet" href="/assets/app.css";
            script src="/assets/app.js" defer {}
            script src="/assets/player.js" defer {}
        }
    }
}

/// A whole page: the frame around `main`.
pub fn page(f: Frame<'_>, main: Markup) -> Response {
    frame(f, main).into_response()
}

fn frame(f: Frame<'_>, main: Markup) -> Markup {
    let t = &f.signed.token;
    let link = |nav: Nav, href: &str, text: &str| {
        html! {
            a href=(href) aria-current=[(f.nav == nav).then_some("page")] { (text) }
        }
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(f.title))
            body data-seq=(f.seq) data-csrf=(f.signed.csrf)
                data-executive=(if f.signed.is_executive() { "yes" } else { "no" }) {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    div.brand {
                        span.logo aria-hidden="true" { "♪" }
                        span { "Liner Notes" }
                        span.project { (typed(&t.project.name)) }
                    }
                    nav aria-label="Pages" {
                        (link(Nav::Overview, "/", "Overview"))
                        a #nav-queue href="/queue" aria-current=[(f.nav == Nav::Queue).then_some("page")] {
                            "Decision queue (" (f.waiting) ")"
                        }
                        (link(Nav::Tracklist, "/tracklist", "Tracklist"))
                        (link(Nav::Digest, "/digest", "For you"))
                        @if f.signed.is_executive() {
                            (link(Nav::Links, "/links", "Listening links"))
                        }
                    }
                    div.who {
                        span { (typed(&t.person)) " · " (t.role) }
                        form method="post" action="/sign-out" {
                            input type="hidden" name="csrf" value=(f.signed.csrf);
                            button.quiet type="submit" { "Sign out" }
                        }
                    }
                }
                @if !f.signed.is_executive() {
                    p.readonly role="note" {
                        "You are signed in as a " (t.role) ": this page is read-only for you. \
                         The executive producer gives the verdicts."
                    }
                }
                main #main tabindex="-1" { (main) }
                footer {
                    p.live #live aria-live="polite" { "" }
                }
            }
        }
    }
}

/// The sign-in form, with an optional problem to show.
pub fn sign_in_page(status: StatusCode, problem: Option<&str>) -> Response {
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            (head("Sign in"))
            body.signin {
                main #main {
                    h1 { span.logo aria-hidden="true" { "♪" } " Liner Notes" }
                    p { "The review page for the executive producer: every note of the record, \
                         your verdicts, the tracklist." }
                    form method="post" action="/sign-in" {
                        label for="token" { "Your token" }
                        input #token type="password" name="token" autocomplete="current-password"
                            required placeholder={ (liner_record::settings::TOKEN_PREFIX) "…" };
                        @if let Some(p) = problem {
                            p.problem role="alert" { (p) }
                        }
                        button.primary type="submit" { "Sign in" }
                    }
                    p.hint { "The token was printed when the server first started, or comes \
                              from `liner token add`. It stays in this browser's session \
                              cookie, never in an address." }
                }
            }
        }
    };
    (status, markup).into_response()
}

/// A page that says what went wrong.
pub fn problem(status: StatusCode, message: &str) -> Response {
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            (head("Not done"))
            body.signin {
                main #main {
                    h1 { "Not done" }
                    p.problem role="alert" { (message) }
                    p { a href="/" { "Back to the overview" } }
                }
            }
        }
    };
    (status, [(header::CACHE_CONTROL, "no-store")], markup).into_response()
}

/// A mark, words and a class for where an item stands: never colour alone. The words are
/// [`Standing::words`], capitalised.
pub fn standing_words(s: Standing) -> (&'static str, String, &'static str) {
    let (mark, class) = match s {
        Standing::Decided(Verdict::Approved) => ("✓", "approved"),
        Standing::Decided(Verdict::Rejected) => ("✗", "rejected"),
        Standing::Decided(Verdict::ChangesRequested) => ("↻", "changes"),
        Standing::Recheck => ("⟳", "recheck"),
        Standing::Open => ("○", "open"),
    };
    (mark, capitalised(s.words()), class)
}

/// `text` with its first letter in upper case.
pub fn capitalised(text: &str) -> String {
    let mut words = text.to_owned();
    if let Some(first) = words.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    words
}

pub fn verdict_badge(v: Option<&VerdictView>) -> Markup {
    let standing = v.map_or(Standing::Open, Standing::said);
    let (mark, words, class) = standing_words(standing);
    html! {
        span class={ "badge v-" (class) } {
            span aria-hidden="true" { (mark) } " " (words)
        }
        @if let Some(v) = v {
            @if !v.comment.is_empty() {
                " " q.comment { (typed(&v.comment)) }
            }
        }
    }
}

/// Who wrote an entry, with their role: "Sam (producer)", or for a guest's comment the
/// executive accepted, "Ana (guest, accepted by Eve)".
pub fn author(e: &Entry, guest: Option<&str>) -> Markup {
    match guest {
        Some(g) => html! {
            strong { (typed(g)) } " (guest, accepted by " (typed(&e.author)) ")"
        },
        None => html! { strong { (typed(&e.author)) } " (" (e.role) ")" },
    }
}

/// Where an entry sits: bar.beat and time, a range, or its wall-clock time.
pub fn place(e: &Entry) -> String {
    match (&e.start, &e.end) {
        (Some(s), Some(t)) => format!(
            "{}–{} · {}–{}",
            s.bar_beat(),
            t.bar_beat(),
            s.time(),
            t.time()
        ),
        (Some(s), None) => format!("{} · {}", s.bar_beat(), s.time()),
        (None, _) => format!(
            "no DAW position · {}",
            liner_record::export::date_time(e.at)
        ),
    }
}

/// What an entry is, in words: "Vocal note", "EQ decision", "Take".
pub fn kind_words(e: &Entry) -> String {
    match e.kind {
        EntryKind::Note(c) => capitalised(&format!("{} note", c.as_str())),
        EntryKind::Eq => "EQ decision".into(),
        EntryKind::Fx => "FX decision".into(),
        EntryKind::Mark => "Mark".into(),
        EntryKind::Take { .. } => "Take".into(),
        EntryKind::Version => "Version".into(),
    }
}

/// The executive's three buttons and a comment for one judgeable entry (nothing for anyone
/// else). `back` is where the page returns after deciding without the script.
pub fn verdict_form(signed: &Signed, target: uuid::Uuid, back: &str) -> Markup {
    if !signed.is_executive() {
        return html! {};
    }
    let comment_id = format!("comment-{target}");
    html! {
        form.decide method="post" action="/verdict" {
            // The default button: pressing Enter in the comment decides nothing.
            button.sr type="submit" disabled { "Choose a verdict with the buttons" }
            input type="hidden" name="csrf" value=(signed.csrf);
            input type="hidden" name="target" value=(target);
            input type="hidden" name="back" value=(back);
            label.sr for=(comment_id) { "Comment" }
            input id=(comment_id) type="text" name="comment" maxlength="10000"
                placeholder="Comment (optional)" autocomplete="off";
            button.approve type="submit" name="verdict" value="approved" title="Approve (a)" {
                span aria-hidden="true" { "✓ " } "Approve"
            }
            button.reject type="submit" name="verdict" value="rejected" title="Reject (r)" {
                span aria-hidden="true" { "✗ " } "Reject"
            }
            button.changes type="submit" name="verdict" value="changes_requested"
                title="Request changes (c)" {
                span aria-hidden="true" { "↻ " } "Request changes"
            }
        }
    }
}

/// Links to every export format (`song`: of one song).
pub fn export_links(song: Option<&str>) -> Markup {
    let names = [
        (Format::Html, "Printable log (HTML)"),
        (Format::Markdown, "Markdown"),
        (Format::Csv, "CSV"),
        (Format::Json, "JSON"),
        (Format::ReaperCsv, "REAPER markers"),
        (Format::AudacityLabels, "Audacity labels"),
        (Format::Midi, "MIDI markers"),
    ];
    html! {
        nav.exports aria-label="Exports" {
            span { "Export: " }
            @for (format, words) in names {
                @let href = match song {
                    Some(s) => format!("/export?format={}&song={}", format.name(), percent_encoded(s)),
                    None => format!("/export?format={}", format.name()),
                };
                a href=(href) { (words) }
            }
        }
    }
}

//! A person's digest as a mail: plain text, and the same as simple HTML (everything anyone
//! typed escaped), in the words of [`liner_record::digest`]. Links go to the review page when
//! the server knows its address (`--public-url`).

use liner_record::digest::{Digest, News, Waiting};
use liner_record::names::percent_encoded;
use maud::{html, Markup, DOCTYPE};

/// A digest ready to send: its subject and bodies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Composed {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The review page's address of what a piece of news or a waiting item is about.
pub fn song_link(base: &str, song: &str, item: uuid::Uuid) -> String {
    let base = base.trim_end_matches('/');
    if song.trim().is_empty() {
        format!("{base}/")
    } else {
        format!("{base}/song?name={}#item-{item}", percent_encoded(song))
    }
}

/// What waits for `digest`'s person, where: the queue for the executive, else the song.
pub fn waiting_link(base: &str, digest: &Digest, w: &Waiting) -> String {
    if digest.role == liner_record::Role::Executive {
        format!("{}/queue", base.trim_end_matches('/'))
    } else {
        song_link(base, &w.song, w.id)
    }
}

/// `digest` of `project` as a mail (see the module docs).
pub fn compose(project: &str, digest: &Digest, public_url: Option<&str>) -> Composed {
    let subject = format!(
        "Liner Notes, {project}: {} new for you, {} waiting",
        digest.news.len(),
        digest.waiting.len()
    );
    Composed {
        subject,
        text: text(project, digest, public_url),
        html: page(project, digest, public_url).into_string(),
    }
}

fn text(project: &str, digest: &Digest, public_url: Option<&str>) -> String {
    let mut out = format!("Hello {},\n\nyour digest of {project}.\n", digest.person);
    let news: Vec<&News> = digest.news.iter().collect();
    if !news.is_empty() {
        out.push_str("\nNew for you:\n");
        for n in news {
            out.push_str(&format!("- {}\n", n.words));
            if let Some(base) = public_url {
                out.push_str(&format!("  {}\n", song_link(base, &n.song, n.about)));
            }
        }
    }
    if !digest.waiting.is_empty() {
        out.push_str("\nWaits for you:\n");
        for w in &digest.waiting {
            out.push_str(&format!(
                "- {} ({}): {}\n",
                w.song,
                w.standing.words(),
                w.words
            ));
            if let Some(base) = public_url {
                out.push_str(&format!("  {}\n", waiting_link(base, digest, w)));
            }
        }
    }
    out.push_str(
        "\nYou get this because the studio set up your digest by mail \
         (liner mail set); ask them to turn it off.\n",
    );
    out
}

fn page(project: &str, digest: &Digest, public_url: Option<&str>) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head { meta charset="utf-8"; title { "Liner Notes: " (project) } }
            body {
                p { "Hello " (digest.person) ", your digest of " (project) "." }
                @if !digest.news.is_empty() {
                    h2 { "New for you" }
                    ul { @for n in &digest.news {
                        li { (n.words) @if let Some(base) = public_url {
                            " " a href=(song_link(base, &n.song, n.about)) { "open" }
                        } }
                    } }
                }
                @if !digest.waiting.is_empty() {
                    h2 { "Waits for you" }
                    ul { @for w in &digest.waiting {
                        li { (w.song) " (" (w.standing.words()) "): " (w.words)
                            @if let Some(base) = public_url {
                                " " a href=(waiting_link(base, digest, w)) { "open" }
                            } }
                    } }
                }
                p { small { "You get this because the studio set up your digest by mail; \
                             ask them to turn it off." } }
            }
        }
    }
}

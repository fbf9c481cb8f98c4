//! One person's digest of the record: what waits for them, and what answered them since
//! their last look. One home for what a person is told, so the review page's digest, the Atom
//! feed and the mail say the same.
//!
//! - **Waits for you**: for the executive, every item up for a verdict (open, or done and back
//!   for a re-check: [`crate::review`]); for everyone else, their own items whose changes were
//!   requested and not yet marked done.
//! - **News**: since `since`, the events that answer the person: a verdict on something of
//!   theirs, a reply to something of theirs or in a thread they wrote in, a done on something
//!   they judged (the executive's). Never their own words, never what is about a private note
//!   ([`crate::rules::is_private`]), each worded by [`crate::notice::words`].

use crate::event::{Body, Event, Role, Verdict};
use crate::export::Entry;
use crate::review::Standing;
use crate::rules;
use crate::views::Views;
use std::collections::{BTreeSet, HashMap};
use uuid::Uuid;

/// How many news items a digest holds at most (the newest).
pub const MOST_NEWS: usize = 200;

/// Why something is news to the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// A verdict on something of theirs.
    Decided,
    /// A reply to something of theirs, or in a thread they wrote in.
    Replied,
    /// A done on something they judged.
    Done,
}

/// One piece of news, in words.
#[derive(Debug, Clone, PartialEq)]
pub struct News {
    /// The event that is the news.
    pub id: Uuid,
    pub at: i64,
    pub song: String,
    /// What it answers (the id of the note's, decision's, take's, mark's or version's event).
    pub about: Uuid,
    pub why: Why,
    pub words: String,
}

/// One item that waits for the person.
#[derive(Debug, Clone, PartialEq)]
pub struct Waiting {
    pub id: Uuid,
    /// When the item was made (UTC ms): how long it has waited.
    pub at: i64,
    pub song: String,
    pub standing: Standing,
    /// The item in words ("Vocal note by Sam: breath at the top").
    pub words: String,
}

/// A person's digest (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct Digest {
    pub person: String,
    pub role: Role,
    /// News from this time on (UTC ms; `None`: all of it).
    pub since: Option<i64>,
    /// Oldest first.
    pub waiting: Vec<Waiting>,
    /// Newest first, at most [`MOST_NEWS`].
    pub news: Vec<News>,
}

impl Digest {
    /// Whether there is nothing to tell.
    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty() && self.news.is_empty()
    }
}

/// `person`'s digest of a record: its events, their fold and its entries (as
/// [`crate::export::entries`] lists them).
pub fn digest(
    events: &[Event],
    views: &Views,
    entries: &[Entry],
    person: &str,
    role: Role,
    since: Option<i64>,
) -> Digest {
    Digest {
        person: person.to_owned(),
        role,
        since,
        waiting: waiting(entries, person, role),
        news: news(events, views, person, since),
    }
}

fn waiting(entries: &[Entry], person: &str, role: Role) -> Vec<Waiting> {
    let mut list: Vec<(&Entry, Standing)> = entries
        .iter()
        .filter_map(|e| Some((e, e.standing()?)))
        .filter(|(e, s)| match role {
            Role::Executive => s.waits(),
            _ => e.author == person && *s == Standing::Decided(Verdict::ChangesRequested),
        })
        .collect();
    list.sort_by_key(|(e, _)| (e.at, e.id));
    list.into_iter()
        .map(|(e, standing)| Waiting {
            id: e.id,
            at: e.at,
            song: e.song.clone(),
            standing,
            words: format!("{} by {}: {}", e.kind.category(), e.author, e.text.as_str()),
        })
        .collect()
}

/// The events that answer `person` (see the module docs), newest first.
fn news(events: &[Event], views: &Views, person: &str, since: Option<i64>) -> Vec<News> {
    let by_id: HashMap<Uuid, &Event> = events.iter().map(|e| (e.id, e)).collect();
    let lookup = |id: Uuid| by_id.get(&id).map(|e| (*e).clone());
    // Threads the person wrote in.
    let spoke_in: BTreeSet<Uuid> = views
        .replies
        .iter()
        .filter(|(_, thread)| thread.iter().any(|r| r.author == person))
        .map(|(target, _)| *target)
        .collect();
    let judged_by_them = |target: Uuid| {
        events.iter().any(|e| {
            e.author == person
                && e.role == Role::Executive
                && rules::verdict_target(e) == Some(target)
        })
    };
    let mut out: Vec<News> = events
        .iter()
        .filter(|e| e.author != person && since.is_none_or(|t| e.at >= t))
        .filter_map(|e| {
            let (about, why) = match &e.body {
                Body::Verdict { target, .. } if e.role == Role::Executive => {
                    (*target, Why::Decided)
                }
                Body::ReplyAdded(r) => (r.target, Why::Replied),
                Body::MarkedDone(d) => (d.target, Why::Done),
                _ => return None,
            };
            let owner = by_id.get(&about).map(|t| t.author.as_str());
            let answers = match why {
                Why::Decided => owner == Some(person),
                Why::Replied => owner == Some(person) || spoke_in.contains(&about),
                Why::Done => judged_by_them(about),
            };
            (answers && !crate::rules::is_private(e, &lookup)).then(|| News {
                id: e.id,
                at: e.at,
                song: e.song.clone(),
                about,
                why,
                words: crate::notice::words(e, &lookup),
            })
        })
        .collect();
    out.sort_by_key(|n| std::cmp::Reverse((n.at, n.id)));
    out.truncate(MOST_NEWS);
    out
}

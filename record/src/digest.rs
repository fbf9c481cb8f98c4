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

use crate::event::{Body, Event, Role};
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
    /// What put it up for a verdict this time: the item itself (its event), or for a
    /// re-check the done that answered the last request (a new round each time).
    pub round: (Uuid, i64),
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
            _ => e.author == person && s.may_be_done(),
        })
        .collect();
    list.sort_by_key(|(e, _)| (e.at, e.id));
    list.into_iter()
        .map(|(e, standing)| Waiting {
            id: e.id,
            at: e.at,
            song: e.song.clone(),
            standing,
            round: e
                .verdict
                .as_ref()
                .and_then(|v| v.done.as_ref())
                .map_or((e.id, e.at), |d| (d.id, d.at)),
            words: format!("{} by {}: {}", e.kind.category(), e.author, e.text.as_str()),
        })
        .collect()
}

/// What an event answers, and whom: the one rule for who is told of what, read by the digest
/// (page, feed, mail) and the editor's notices alike.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The thing it is about (the id of its event).
    pub about: Uuid,
    pub why: Why,
    /// Who it answers (never its own author): for a verdict, the author of what it judges;
    /// for a reply, the author of what it answers and everyone else in that thread; for a
    /// done, the executive whose request it answers.
    pub people: BTreeSet<String>,
    /// It in words ([`crate::notice::words`]; a reply with its latest words).
    pub words: String,
}

/// What `e` answers, by the record as folded (`views`, and its events `by_id`): `None` for
/// an event that answers nobody, a reply that is gone, a done the item has moved on from,
/// or anything about a private note.
pub fn answers(e: &Event, views: &Views, by_id: &HashMap<Uuid, &Event>) -> Option<Answer> {
    let lookup = |id: Uuid| by_id.get(&id).map(|e| (*e).clone());
    let owner = |id: Uuid| by_id.get(&id).map(|t| t.author.clone());
    let (about, why, people, shown) = match &e.body {
        Body::Verdict { target, .. } if e.role == Role::Executive => (
            *target,
            Why::Decided,
            owner(*target).into_iter().collect(),
            e.clone(),
        ),
        Body::ReplyAdded(r) => {
            let thread = views.replies.get(&r.target)?;
            let now = thread.iter().find(|x| x.id == e.id)?;
            let mut people: BTreeSet<String> = thread.iter().map(|x| x.author.clone()).collect();
            people.extend(owner(r.target));
            let mut shown = e.clone();
            shown.body = Body::ReplyAdded(crate::event::ReplyAdded {
                target: r.target,
                text: now.text.clone(),
            });
            (r.target, Why::Replied, people, shown)
        }
        Body::MarkedDone(d) => {
            let asked = views.verdicts.get(&d.target)?;
            let current = asked.done.as_ref().is_some_and(|x| x.id == e.id);
            if !current {
                return None;
            }
            (
                d.target,
                Why::Done,
                BTreeSet::from([asked.author.clone()]),
                e.clone(),
            )
        }
        _ => return None,
    };
    if rules::is_private(e, &lookup) {
        return None;
    }
    let mut people: BTreeSet<String> = people;
    people.remove(&e.author);
    Some(Answer {
        about,
        why,
        people,
        words: crate::notice::words(&shown, &lookup),
    })
}

/// The events that answer `person` (see the module docs), newest first.
fn news(events: &[Event], views: &Views, person: &str, since: Option<i64>) -> Vec<News> {
    let by_id: HashMap<Uuid, &Event> = events.iter().map(|e| (e.id, e)).collect();
    let mut out: Vec<News> = events
        .iter()
        .filter(|e| e.author != person && since.is_none_or(|t| e.at >= t))
        .filter_map(|e| {
            let a = answers(e, views, &by_id)?;
            a.people.contains(person).then(|| News {
                id: e.id,
                at: e.at,
                song: e.song.clone(),
                about: a.about,
                why: a.why,
                words: a.words,
            })
        })
        .collect();
    out.sort_by_key(|n| std::cmp::Reverse((n.at, n.id)));
    out.truncate(MOST_NEWS);
    out
}

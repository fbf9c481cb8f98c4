//! What waits for the executive's final say, and how a verdict is said in words.
//!
//! One rule for every place that counts or lists open items: the page's queue, overview and
//! song view, the exported logs' summaries, and the editor's "open" filter. Before this
//! module they disagreed (the page asked for a verdict on rated takes, the logs never counted
//! takes, the editor called a mark "open"); a test in `server/tests/review_counts.rs` holds the
//! overview, the queue and the Markdown log to the same numbers.
//!
//! The rule:
//! - a note and an EQ/FX decision are up for review as soon as they exist;
//! - a take is up for review once its producer rated it (rating puts a take forward; an
//!   unrated take is raw material, not a question);
//! - a mark is a bookmark, never up for review;
//! - a printed version is up for review as soon as it is printed (approving it pins the
//!   verdict to its audio: [`crate::versions`]).
//!
//! A verdict that exists always counts, whatever it judges (the server's rules, in
//! [`crate::rules::judgeable`], decide what a verdict may target at all).
//!
//! # The way back
//!
//! *Changes requested* is not the end: the producer's side answers it with *done* (a
//! `marked_done` event naming that verdict, and perhaps the version that carries the change),
//! and the item waits for the executive again as **re-check**, counted and filtered on its
//! own. Who may move an item where (the rules themselves are in [`crate::rules`]):
//!
//! | from | to | who |
//! |---|---|---|
//! | open, re-check, or any verdict | approved, rejected, changes requested | the executive |
//! | changes requested | re-check | anyone who writes on the project but the executive |
//!
//! A done answers one verdict: a newer verdict (changes requested again) needs a new done.

use crate::event::Verdict;
use crate::views::VerdictView;

/// The kind of item the record lists, as far as review cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    Note,
    Decision,
    Mark,
    Take {
        rated: bool,
    },
    /// A printed version: judged as it is (an approval pins that exact audio).
    Version,
}

impl Item {
    /// Whether the executive is asked to judge this kind of item (see the module docs).
    pub fn up_for_review(self) -> bool {
        match self {
            Item::Note | Item::Decision | Item::Version => true,
            Item::Take { rated } => rated,
            Item::Mark => false,
        }
    }
}

/// Where an item stands with the executive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Up for review, no verdict yet.
    Open,
    Decided(Verdict),
    /// Changes were requested and the change is done: up for review again.
    Recheck,
}

impl Standing {
    /// `item`'s standing given its latest verdict, or `None` when nobody asks for one.
    pub fn of(item: Item, verdict: Option<&VerdictView>) -> Option<Standing> {
        match verdict {
            Some(v) => Some(Standing::said(v)),
            None if item.up_for_review() => Some(Standing::Open),
            None => None,
        }
    }

    /// Where a verdict leaves its item: decided, or back for a re-check once done.
    pub fn said(v: &VerdictView) -> Standing {
        if v.verdict == Verdict::ChangesRequested && v.done.is_some() {
            Standing::Recheck
        } else {
            Standing::Decided(v.verdict)
        }
    }

    /// Whether it waits for the executive (open, or back for a re-check).
    pub fn waits(self) -> bool {
        matches!(self, Standing::Open | Standing::Recheck)
    }

    /// Whether the producer's side may answer it with *done* (see the module docs).
    pub fn may_be_done(self) -> bool {
        self == Standing::Decided(Verdict::ChangesRequested)
    }

    /// Lower-case words: "open", "approved", "rejected", "changes requested", "re-check".
    pub fn words(self) -> &'static str {
        match self {
            Standing::Open => "open",
            Standing::Decided(v) => verdict_words(v),
            Standing::Recheck => "re-check",
        }
    }
}

/// A verdict in lower-case words, as the prose exports (Markdown, HTML, text), the page and the
/// editor say it. The machine-read formats (CSV, JSON, DAW markers) keep the event's own
/// `changes_requested`.
pub fn verdict_words(v: Verdict) -> &'static str {
    match v {
        Verdict::Approved => "approved",
        Verdict::Rejected => "rejected",
        Verdict::ChangesRequested => "changes requested",
    }
}

/// How many items stand where.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub open: usize,
    pub approved: usize,
    pub rejected: usize,
    pub changes: usize,
    /// Done after changes were requested: waiting for the executive again.
    pub recheck: usize,
}

impl Tally {
    /// Counts one item (nothing for `None`: an item nobody is asked about).
    pub fn add(&mut self, standing: Option<Standing>) {
        match standing {
            Some(Standing::Open) => self.open += 1,
            Some(Standing::Decided(Verdict::Approved)) => self.approved += 1,
            Some(Standing::Decided(Verdict::Rejected)) => self.rejected += 1,
            Some(Standing::Decided(Verdict::ChangesRequested)) => self.changes += 1,
            Some(Standing::Recheck) => self.recheck += 1,
            None => {}
        }
    }

    /// How many wait for the executive: open ones and re-checks.
    pub fn waiting(&self) -> usize {
        self.open + self.recheck
    }

    /// The tally of many items.
    pub fn of(standings: impl IntoIterator<Item = Option<Standing>>) -> Tally {
        let mut t = Tally::default();
        standings.into_iter().for_each(|s| t.add(s));
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_decisions_and_rated_takes_wait_marks_and_unrated_takes_do_not() {
        assert_eq!(Standing::of(Item::Note, None), Some(Standing::Open));
        assert_eq!(Standing::of(Item::Decision, None), Some(Standing::Open));
        assert_eq!(
            Standing::of(Item::Take { rated: true }, None),
            Some(Standing::Open)
        );
        assert_eq!(Standing::of(Item::Take { rated: false }, None), None);
        assert_eq!(Standing::of(Item::Mark, None), None);
    }

    fn said(verdict: Verdict, done: bool) -> VerdictView {
        VerdictView {
            verdict,
            comment: String::new(),
            author: "Alex".into(),
            at: 1,
            id: uuid::Uuid::nil(),
            done: done.then(|| crate::views::DoneView {
                id: uuid::Uuid::nil(),
                author: "Sam".into(),
                role: crate::event::Role::Producer,
                at: 2,
                version: None,
                comment: String::new(),
            }),
        }
    }

    #[test]
    fn done_after_changes_requested_is_a_recheck_that_waits_and_counts_apart() {
        let changes = said(Verdict::ChangesRequested, false);
        let done = said(Verdict::ChangesRequested, true);
        let approved = said(Verdict::Approved, false);
        assert_eq!(
            Standing::of(Item::Note, Some(&changes)),
            Some(Standing::Decided(Verdict::ChangesRequested))
        );
        assert_eq!(
            Standing::of(Item::Note, Some(&done)),
            Some(Standing::Recheck)
        );
        assert!(Standing::Recheck.waits() && Standing::Open.waits());
        assert!(!Standing::Decided(Verdict::ChangesRequested).waits());
        assert!(Standing::Decided(Verdict::ChangesRequested).may_be_done());
        assert!(!Standing::Recheck.may_be_done() && !Standing::Open.may_be_done());
        let t = Tally::of([
            Standing::of(Item::Note, Some(&done)),
            Standing::of(Item::Note, None),
            Standing::of(Item::Note, Some(&approved)),
        ]);
        assert_eq!((t.recheck, t.open, t.approved, t.waiting()), (1, 1, 1, 2));
        assert_eq!(Standing::Recheck.words(), "re-check");
    }

    #[test]
    fn a_verdict_given_counts_whatever_it_judges() {
        let v = Some(&said(Verdict::Rejected, false));
        let all = [
            Item::Note,
            Item::Decision,
            Item::Mark,
            Item::Take { rated: false },
        ];
        let t = Tally::of(all.iter().map(|i| Standing::of(*i, v)));
        assert_eq!(
            t,
            Tally {
                rejected: 4,
                ..Tally::default()
            }
        );
        assert_eq!(
            Standing::of(Item::Note, Some(&said(Verdict::ChangesRequested, false)))
                .map(Standing::words),
            Some("changes requested")
        );
    }
}

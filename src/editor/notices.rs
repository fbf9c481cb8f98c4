//! Brief notices of what answers you: a new verdict, reply or done on your notes, decisions,
//! takes, marks or versions shows at the top of the editor with its words for
//! [`NOTICE_FOR`], then goes (or sooner, dismissed). What is news, and to whom, comes from
//! the worker ([`crate::record_view::News`], by the rule the digest uses); what you said
//! yourself is not news to you.

use crate::record_view::RecordSnapshot;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How long a notice stays.
pub const NOTICE_FOR: Duration = Duration::from_secs(12);

/// The most notices shown at once (older ones make way).
pub const MOST: usize = 3;

#[derive(Debug, Default)]
pub struct Notices {
    /// The snapshot whose news was taken last.
    seen: u64,
    shown: VecDeque<(String, Instant)>,
}

impl Notices {
    /// Takes the news of `snap` that answers `me` (once per snapshot), and lets expired
    /// notices go.
    pub fn update(&mut self, snap: &RecordSnapshot, me: &str) {
        if snap.version != self.seen {
            self.seen = snap.version;
            let mine = snap.news.iter().filter(|n| n.people.contains(me));
            for n in mine {
                self.shown.push_back((n.words.clone(), Instant::now()));
            }
        }
        self.shown.retain(|(_, since)| since.elapsed() < NOTICE_FOR);
        while self.shown.len() > MOST {
            self.shown.pop_front();
        }
    }

    /// The notices shown now, oldest first, with how long each has left.
    pub fn shown(&self) -> impl Iterator<Item = (&str, Duration)> {
        self.shown
            .iter()
            .map(|(w, since)| (w.as_str(), NOTICE_FOR.saturating_sub(since.elapsed())))
    }

    /// Dismisses the `i`th notice shown.
    pub fn dismiss(&mut self, i: usize) {
        self.shown.remove(i);
    }
}

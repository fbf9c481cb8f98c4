//! The list follows the playhead: while the transport runs, the rows the playhead is at light
//! up as it reaches them (a point for [`LIT_SECONDS`] after it, a range while inside it), the
//! list scrolls to the row just reached, and, where the instance asks for it, a note pops up
//! with its words. So a producer hears the part a note is about as they read it.
//!
//! Pure bookkeeping on the GUI thread: rows' places come from the folded record, the playhead
//! from its lock-free snapshot.

use super::list::{Row, RowKind};
use liner_record::event::Anchor;
use liner_record::Views;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// How long a point stays lit after the playhead reaches it, in seconds of the song.
pub const LIT_SECONDS: f64 = 2.0;

/// How long a popped-up note stays, in wall-clock time.
pub const POP_UP_FOR: Duration = Duration::from_secs(6);

/// Where a row sits on the timeline, in seconds (start, end); `None` without a position.
pub fn span(views: &Views, row: Row) -> Option<(f64, f64)> {
    let point = |s: Option<f64>| s.map(|s| (s, s));
    match row.kind {
        RowKind::Note => match views.notes[row.index].anchor? {
            Anchor::Point { at } => point(at.seconds),
            Anchor::Range { from, to } => Some((from.seconds?, to.seconds?)),
        },
        RowKind::Decision => point(views.decisions[row.index].pos?.seconds),
        RowKind::Mark => point(views.marks[row.index].pos?.seconds),
        RowKind::Take => {
            let t = &views.takes[row.index];
            let start = t.start?.seconds?;
            Some((start, t.end.and_then(|e| e.seconds).unwrap_or(start)))
        }
    }
}

/// Whether the playhead at `at` seconds lights a row that spans `span`.
pub fn lights(span: (f64, f64), at: f64) -> bool {
    let (start, end) = (span.0.min(span.1), span.0.max(span.1));
    at >= start && at < end.max(start + LIT_SECONDS)
}

/// A note that popped up: which, and since when.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PopUp {
    pub note: Uuid,
    pub since: Instant,
}

/// What the list shows of the playhead, kept from frame to frame.
#[derive(Debug, Default)]
pub struct Follow {
    /// The ids of the rows lit now.
    lit: BTreeSet<Uuid>,
    /// The index (in the rows) of the row reached last, to scroll to once.
    pub reached: Option<usize>,
    pub pop_up: Option<PopUp>,
}

impl Follow {
    /// Whether the row with `id` is lit.
    pub fn is_lit(&self, id: Uuid) -> bool {
        self.lit.contains(&id)
    }

    /// Lights the rows the playhead is at (none unless `playing`); a row lit now that was not
    /// becomes [`Follow::reached`], and pops up when `pop_up` (notes only).
    pub fn update(
        &mut self,
        views: &Views,
        rows: &[Row],
        ids: impl Fn(Row) -> Uuid,
        at: Option<f64>,
        playing: bool,
        pop_up: bool,
    ) {
        self.reached = None;
        let Some(at) = at.filter(|_| playing) else {
            self.lit.clear();
            return;
        };
        let mut lit = BTreeSet::new();
        for (i, row) in rows.iter().enumerate() {
            if !span(views, *row).is_some_and(|s| lights(s, at)) {
                continue;
            }
            let id = ids(*row);
            if !self.lit.contains(&id) && self.reached.is_none() {
                self.reached = Some(i);
                if pop_up && row.kind == RowKind::Note {
                    self.pop_up = Some(PopUp {
                        note: id,
                        since: Instant::now(),
                    });
                }
            }
            lit.insert(id);
        }
        self.lit = lit;
        if self.pop_up.is_some_and(|p| p.since.elapsed() >= POP_UP_FOR) {
            self.pop_up = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_point_is_lit_for_a_moment_after_the_playhead_reaches_it_and_a_range_while_inside() {
        assert!(!lights((10.0, 10.0), 9.99));
        assert!(lights((10.0, 10.0), 10.0));
        assert!(lights((10.0, 10.0), 11.9));
        assert!(!lights((10.0, 10.0), 12.0));
        assert!(lights((20.0, 30.0), 29.0));
        assert!(!lights((20.0, 30.0), 30.0));
        assert!(lights((30.0, 20.0), 25.0), "a range typed backwards");
    }
}

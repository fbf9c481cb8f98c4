//! The note being typed: its text, category and the DAW position it is stamped with.
//!
//! The stamp is taken at the first keystroke, not at Enter: a note typed ten seconds after
//! the moment still lands on the moment. It can then be nudged, moved to the last mark, or
//! widened to a range (up to a second position, or the DAW's loop).

use crate::playhead::Playhead;
use liner_record::event::{Anchor, Body, Category, Context, DawPos, NoteAdded, TakeRef};
use liner_record::position::beats_to_seconds;
use liner_record::Event;

/// How far one nudge moves the stamp.
pub const NUDGE_SECONDS: f64 = 2.0;

/// Categories in chip order; chip `i` has the shortcut Ctrl+`i+1`.
pub const CATEGORIES: [Category; 8] = Category::ALL;

/// Where the note is anchored.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stamp {
    pub from: DawPos,
    /// Set in range mode: the note covers `from..to`.
    pub to: Option<DawPos>,
    pub sample_rate: f32,
    /// Where `from` is in the instance's audio stream (for its clip); None when the stamp
    /// was moved to a recorded position or the loop, whose audio is not in the stream.
    pub frame: Option<u64>,
    /// The same for a fixed range end.
    pub to_frame: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub text: String,
    pub category: Category,
    /// `None` until the first keystroke, and when the DAW never reported a position.
    pub stamp: Option<Stamp>,
    /// Range mode: the end follows the playhead until [`Draft::end_range_here`] fixes it.
    pub range: bool,
    /// The take the note is about; preselected while recording.
    pub take: Option<TakeRef>,
    pub private: bool,
    /// Whether the first keystroke has happened (the stamp is taken then, even if the DAW
    /// had no position to give).
    started: bool,
}

impl Default for Draft {
    fn default() -> Self {
        Draft {
            text: String::new(),
            category: Category::General,
            stamp: None,
            range: false,
            take: None,
            private: false,
            started: false,
        }
    }
}

/// The position a playhead snapshot stands for; `None` when no block was ever published.
pub fn playhead_position(p: &Playhead) -> Option<DawPos> {
    (p.blocks > 0).then_some(p.pos)
}

/// A stamp at the playhead (None when no block was ever published).
fn stamp_at(p: &Playhead) -> Option<Stamp> {
    playhead_position(p).map(|from| Stamp {
        from,
        to: None,
        sample_rate: p.sample_rate,
        frame: Some(p.frame),
        to_frame: None,
    })
}

impl Draft {
    /// Call after every edit of the text: the first keystroke takes the stamp from the
    /// playhead and preselects `current_take` (the take being recorded, if any).
    pub fn text_changed(&mut self, playhead: &Playhead, current_take: Option<TakeRef>) {
        if self.started || self.text.is_empty() {
            return;
        }
        self.started = true;
        self.stamp = stamp_at(playhead);
        if self.take.is_none() {
            self.take = current_take;
        }
    }

    /// Takes the stamp now without a keystroke (the nudge buttons on an empty draft).
    pub fn stamp_now(&mut self, playhead: &Playhead) {
        if self.stamp.is_none() {
            self.started = true;
            self.stamp = stamp_at(playhead);
        }
    }

    /// Moves the stamp (both ends of a range) by `seconds`.
    pub fn nudge(&mut self, seconds: f64) {
        if let Some(s) = &mut self.stamp {
            s.from = s.from.shifted(seconds, s.sample_rate);
            s.to = s.to.map(|t| t.shifted(seconds, s.sample_rate));
            let frames = (seconds * s.sample_rate as f64).round() as i64;
            let shift = |f: u64| f.checked_add_signed(frames);
            s.frame = s.frame.and_then(shift);
            s.to_frame = s.to_frame.and_then(shift);
        }
    }

    /// Moves the stamp to a recorded position (the last mark).
    pub fn move_to(&mut self, at: &DawPos, sample_rate: f32) {
        self.started = true;
        self.stamp = Some(Stamp {
            from: *at,
            to: None,
            sample_rate,
            frame: None,
            to_frame: None,
        });
        self.range = false;
    }

    /// Range mode on or off; on, the end follows the playhead until fixed.
    pub fn toggle_range(&mut self, playhead: &Playhead) {
        self.range = !self.range;
        if self.range {
            self.stamp_now(playhead);
        } else if let Some(s) = &mut self.stamp {
            s.to = None;
        }
    }

    /// Fixes the end of the range at the playhead.
    pub fn end_range_here(&mut self, playhead: &Playhead) {
        self.range = true;
        self.stamp_now(playhead);
        if let (Some(s), Some(end)) = (&mut self.stamp, playhead_position(playhead)) {
            s.to = Some(end);
            s.to_frame = s.frame.map(|_| playhead.frame);
        }
    }

    /// Anchors the note to the DAW's loop range (worked out from the playhead's own position,
    /// tempo and meter). Returns false when the host reports no loop.
    pub fn use_loop(&mut self, playhead: &Playhead) -> bool {
        let (Some(lr), Some(now)) = (playhead.loop_range, playhead_position(playhead)) else {
            return false;
        };
        let seconds_of = |secs: Option<f64>, beats: Option<f64>| match (secs, beats) {
            (Some(s), _) => Some(s),
            (None, Some(b)) => now.tempo.map(|t| beats_to_seconds(b, t)),
            _ => None,
        };
        let (Some(start), Some(end)) = (
            seconds_of(lr.start_seconds, lr.start_beats),
            seconds_of(lr.end_seconds, lr.end_beats),
        ) else {
            return false;
        };
        let Some(here) = now.seconds.or_else(|| {
            now.beats
                .zip(now.tempo)
                .map(|(b, t)| beats_to_seconds(b, t))
        }) else {
            return false;
        };
        let sr = playhead.sample_rate;
        self.started = true;
        self.range = true;
        self.stamp = Some(Stamp {
            from: now.shifted(start - here, sr),
            to: Some(now.shifted(end - here, sr)),
            sample_rate: sr,
            frame: None,
            to_frame: None,
        });
        true
    }

    /// The range's end as it stands now: fixed, or following the playhead.
    pub fn range_end(&self, playhead: &Playhead) -> Option<DawPos> {
        let s = self.stamp.as_ref()?;
        s.to.or_else(|| self.range.then(|| playhead_position(playhead)).flatten())
    }

    /// Where the note's moment (and a range's end) is in the audio stream, for its clip.
    pub fn moment(&self, playhead: &Playhead) -> Option<crate::worker::clips::Moment> {
        let s = self.stamp.as_ref()?;
        let frame = s.frame?;
        let until = match s.to_frame {
            Some(f) => Some(f),
            None if self.range && s.to.is_none() => Some(playhead.frame),
            None => None,
        };
        Some(match until {
            // A range made backwards is the same stretch.
            Some(u) if u < frame => crate::worker::clips::Moment {
                frame: u,
                until: Some(frame),
            },
            until => crate::worker::clips::Moment { frame, until },
        })
    }

    /// The note as an event, or `None` when there is no text. Does not clear the draft.
    pub fn to_event(&self, ctx: &Context, playhead: &Playhead) -> Option<Event> {
        let text = self.text.trim();
        if text.is_empty() {
            return None;
        }
        let anchor = self.stamp.as_ref().map(|s| {
            let from = s.from;
            match self.range_end(playhead) {
                Some(to) => {
                    // A range typed backwards is still the same stretch of the song.
                    if to.seconds < from.seconds {
                        Anchor::Range { from: to, to: from }
                    } else {
                        Anchor::Range { from, to }
                    }
                }
                None => Anchor::Point { at: from },
            }
        });
        let pos = self.stamp.as_ref().map(|s| s.from);
        Some(Event::new(
            ctx,
            pos,
            Body::NoteAdded(NoteAdded {
                text: text.to_owned(),
                category: self.category,
                anchor,
                take: self.take,
                private: self.private,
                version: None,
                guest: None,
            }),
        ))
    }

    /// Starts over, keeping the category and privacy the producer chose.
    pub fn clear(&mut self) {
        *self = Draft {
            category: self.category,
            private: self.private,
            ..Draft::default()
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::playhead::LoopRange;

    fn playhead_at(seconds: f64, blocks: u64) -> Playhead {
        // 120 bpm 4/4: 2 beats a second.
        let beats = seconds * 2.0;
        let bar_start = (beats / 4.0).floor() * 4.0;
        Playhead {
            pos: DawPos {
                samples: Some((seconds * 48_000.0) as i64),
                seconds: Some(seconds),
                beats: Some(beats),
                bar: Some((bar_start / 4.0) as i32 + 1),
                beat: Some(beats - bar_start + 1.0),
                tempo: Some(120.0),
                time_sig: Some((4, 4)),
                playing: true,
                recording: false,
            },
            loop_range: Some(LoopRange {
                start_seconds: Some(8.0),
                end_seconds: Some(16.0),
                start_beats: None,
                end_beats: None,
            }),
            sample_rate: 48_000.0,
            blocks,
            frame: (seconds * 48_000.0) as u64 + 1_000_000,
        }
    }

    fn ctx() -> Context {
        Context {
            project: "P".into(),
            song: "S".into(),
            track: "T".into(),
            session: uuid::Uuid::nil(),
            author: "Sam".into(),
            role: liner_record::Role::Producer,
        }
    }

    fn anchor(e: &Event) -> Option<Anchor> {
        match &e.body {
            Body::NoteAdded(n) => n.anchor,
            _ => panic!("not a note"),
        }
    }

    #[test]
    fn the_stamp_is_the_playhead_at_the_first_keystroke() {
        let mut d = Draft::default();
        d.text.push('k');
        d.text_changed(&playhead_at(10.0, 5), None);
        d.text.push_str("ick is late");
        d.text_changed(&playhead_at(20.0, 9), None);
        let e = d.to_event(&ctx(), &playhead_at(30.0, 12)).unwrap();
        let Some(Anchor::Point { at }) = anchor(&e) else {
            panic!("{e:?}")
        };
        assert_eq!(at.seconds, Some(10.0));
        assert_eq!((at.bar, at.beat), (Some(6), Some(1.0)));
    }

    #[test]
    fn no_position_from_the_daw_gives_a_note_without_anchor() {
        let mut d = Draft::default();
        d.text.push('x');
        d.text_changed(&playhead_at(10.0, 0), None);
        assert_eq!(d.stamp, None);
        assert_eq!(
            anchor(&d.to_event(&ctx(), &playhead_at(1.0, 0)).unwrap()),
            None
        );
    }

    #[test]
    fn nudges_loop_and_ranges_anchor_where_asked() {
        let mut d = Draft {
            text: "bridge drags".into(),
            ..Draft::default()
        };
        d.text_changed(&playhead_at(10.0, 1), None);
        d.nudge(-NUDGE_SECONDS);
        d.nudge(-NUDGE_SECONDS);
        assert_eq!(d.stamp.unwrap().from.seconds, Some(6.0));
        assert!(d.use_loop(&playhead_at(10.0, 2)));
        let Some(Anchor::Range { from, to }) =
            anchor(&d.to_event(&ctx(), &playhead_at(11.0, 3)).unwrap())
        else {
            panic!()
        };
        assert_eq!((from.seconds, to.seconds), (Some(8.0), Some(16.0)));
        assert_eq!((from.bar, to.bar), (Some(5), Some(9)));
        // Range mode by hand: from the stamp to wherever the playhead is when fixed.
        let mut d = Draft {
            text: "x".into(),
            ..Draft::default()
        };
        d.text_changed(&playhead_at(4.0, 1), None);
        d.toggle_range(&playhead_at(4.0, 1));
        d.end_range_here(&playhead_at(7.0, 2));
        let Some(Anchor::Range { from, to }) =
            anchor(&d.to_event(&ctx(), &playhead_at(30.0, 3)).unwrap())
        else {
            panic!()
        };
        assert_eq!((from.seconds, to.seconds), (Some(4.0), Some(7.0)));
    }

    #[test]
    fn clearing_keeps_the_chosen_category_and_privacy_only() {
        let mut d = Draft {
            category: Category::Vocal,
            private: true,
            ..Draft::default()
        };
        d.text = "pitchy".into();
        d.text_changed(&playhead_at(3.0, 1), None);
        d.clear();
        assert_eq!(d.category, Category::Vocal);
        assert!(d.private);
        assert!(d.text.is_empty() && d.stamp.is_none());
        assert!(d.to_event(&ctx(), &playhead_at(3.0, 1)).is_none());
    }

    #[test]
    fn the_clip_moment_is_the_first_keystroke_in_the_stream_and_follows_nudges() {
        let mut d = Draft {
            text: "s".into(),
            ..Draft::default()
        };
        d.text_changed(&playhead_at(10.0, 5), None);
        // Typed on for ten seconds: the moment stays at the first keystroke.
        let later = playhead_at(20.0, 900);
        let m = d.moment(&later).unwrap();
        assert_eq!(m.frame, 10 * 48_000 + 1_000_000);
        assert_eq!(m.until, None);
        d.nudge(-NUDGE_SECONDS);
        assert_eq!(d.moment(&later).unwrap().frame, 8 * 48_000 + 1_000_000);
        // A range fixed later covers the stream between.
        d.end_range_here(&later);
        let m = d.moment(&later).unwrap();
        assert_eq!(m.until, Some(20 * 48_000 + 1_000_000));
        // Moved to the loop: no audio of its own (the loop is not a stretch of the stream).
        d.use_loop(&later);
        assert_eq!(d.moment(&later), None);
    }
}

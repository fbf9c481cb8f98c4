//! Which markers to add, change and delete so REAPER's timeline shows a song's notes: a pure
//! plan from what is wanted, what the project holds and what the plugin remembers making.
//!
//! Ownership is remembered in the project itself (`SetProjExtState`, saved in the `.RPP` with
//! the markers): one entry per event, naming the song and the instance its marker was made
//! for, the marker's kind and number, and the name it was given. So a reopened project finds
//! its markers again instead of adding them twice, and a marker is only ever touched while it
//! still is what the plugin made: one the user deleted or renamed is forgotten, never changed.
//!
//! Which entries an instance looks after is [`Manages`]. Switched off, an instance takes its
//! song's markers away; another instance still showing that song puts them back at its next
//! look (the project changed).

use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// The section of the project's extension state the plugin keeps its entries in.
pub const EXT_SECTION: &std::ffi::CStr = c"LinerNotes";

/// At most this many markers per instance: a record of 10,000 notes must not become 10,000
/// markers on a timeline. The earliest on the timeline are kept.
pub const MOST: usize = 1_000;

/// Markers' names are the start of the text.
pub const NAME_CHARS: usize = 40;

/// A marker (or a region, with `end`) one event wants.
#[derive(Debug, Clone, PartialEq)]
pub struct Wanted {
    pub id: Uuid,
    pub start: f64,
    /// A region's end (after `start`).
    pub end: Option<f64>,
    pub name: String,
    /// REAPER's native colour, with [`super::api::CUSTOM_COLOR`] set.
    pub color: i32,
}

/// A marker or region in the project, as `EnumProjectMarkers3` lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct Present {
    pub region: bool,
    /// The number REAPER shows (markers and regions are numbered apart).
    pub number: i32,
    pub start: f64,
    pub end: f64,
    pub name: String,
    pub color: i32,
}

/// An entry of the plugin's: event `id`'s marker.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Owned {
    #[serde(skip)]
    pub id: Uuid,
    /// The song it shows a note of.
    pub song: String,
    /// The instance that made (or last adopted) it.
    pub instance: Uuid,
    pub region: bool,
    pub number: i32,
    /// The name it was given, to tell that it is still the plugin's.
    pub name: String,
}

impl Owned {
    /// The entry's value in the extension state (JSON).
    ///
    /// # Panics
    /// Never: strings, numbers and an id always serialize.
    pub fn value(&self) -> String {
        serde_json::to_string(self).expect("an entry serializes")
    }

    /// Reads an entry back; `None` for anything this did not write (a hand-edited project
    /// file is not trusted: an unreadable entry is left alone, and so is its marker).
    pub fn parse(key: &str, value: &str) -> Option<Owned> {
        let id = key.parse().ok()?;
        let owned: Owned = serde_json::from_str(value).ok()?;
        Some(Owned { id, ..owned })
    }
}

/// The entries one instance looks after: its own, and every entry of its song (another
/// instance on the same song wants the same markers, and one removed from the project leaves
/// its entries to whoever shows that song next).
#[derive(Debug, Clone)]
pub struct Manages<'a> {
    pub me: Uuid,
    pub song: &'a str,
}

impl Manages<'_> {
    fn entry(&self, o: &Owned) -> bool {
        o.instance == self.me || o.song == self.song
    }
}

/// One change to the project.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// Add a marker for `Wanted` and remember it.
    Add(Wanted),
    /// Move, rename or recolour the plugin's marker `number` (of the same kind).
    Change { number: i32, wanted: Wanted },
    /// Delete the plugin's marker and forget it (the event is gone, or changed kind).
    Delete { id: Uuid, region: bool, number: i32 },
    /// Forget an entry whose marker is not the plugin's any more (the user deleted or renamed
    /// it); the marker itself is not touched.
    Forget(Uuid),
}

const SAME: f64 = 1e-6;

/// What turns `present` into `wanted` for the instance `manages` describes, given the
/// remembered `owned`. Entries it does not look after are never changed, and an event another
/// entry shows is not shown twice.
pub fn plan(manages: &Manages, wanted: &[Wanted], present: &[Present], owned: &[Owned]) -> Vec<Op> {
    let by_number: HashMap<(bool, i32), &Present> =
        present.iter().map(|p| ((p.region, p.number), p)).collect();
    let mut ops = Vec::new();
    // Entries whose marker is still as the plugin made it, by event.
    let mut live: HashMap<Uuid, &Owned> = HashMap::new();
    for o in owned {
        match by_number.get(&(o.region, o.number)) {
            Some(p) if p.name == o.name => {
                live.insert(o.id, o);
            }
            _ if manages.entry(o) => ops.push(Op::Forget(o.id)),
            _ => {}
        }
    }
    let wanted_ids: HashSet<Uuid> = wanted.iter().map(|w| w.id).collect();
    for o in owned.iter().filter(|o| manages.entry(o)) {
        if live.contains_key(&o.id) && !wanted_ids.contains(&o.id) {
            ops.push(Op::Delete {
                id: o.id,
                region: o.region,
                number: o.number,
            });
        }
    }
    for w in wanted {
        match live.get(&w.id) {
            None => ops.push(Op::Add(w.clone())),
            Some(o) if !manages.entry(o) => {}
            Some(o) if o.region != w.end.is_some() => {
                ops.push(Op::Delete {
                    id: o.id,
                    region: o.region,
                    number: o.number,
                });
                ops.push(Op::Add(w.clone()));
            }
            Some(o) => {
                let p = by_number[&(o.region, o.number)];
                let moved = (p.start - w.start).abs() > SAME
                    || w.end.is_some_and(|end| (p.end - end).abs() > SAME);
                if moved || p.name != w.name || p.color != w.color {
                    ops.push(Op::Change {
                        number: o.number,
                        wanted: w.clone(),
                    });
                }
            }
        }
    }
    ops
}

/// A marker's name: the text's start on one line, with an ellipsis when cut, without
/// direction controls (an override typed in a note cannot turn its marker's words around;
/// a timeline has no isolation to offer), never empty (an empty name would match any
/// unnamed marker).
pub fn name(text: &str) -> String {
    let flat: String = text
        .trim()
        .chars()
        .filter(|c| !is_direction_control(*c))
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut name: String = flat.chars().take(NAME_CHARS).collect();
    if flat.chars().count() > NAME_CHARS {
        name = name.trim_end().to_owned();
        name.push('…');
    }
    if name.trim().is_empty() {
        name = "…".into();
    }
    name
}

/// Unicode's explicit direction marks, embeddings, overrides and isolates.
fn is_direction_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn wanted(n: u128, start: f64, end: Option<f64>, name: &str) -> Wanted {
        Wanted {
            id: id(n),
            start,
            end,
            name: name.into(),
            color: 0x0100_00ff,
        }
    }

    fn present(region: bool, number: i32, start: f64, name: &str) -> Present {
        Present {
            region,
            number,
            start,
            end: if region { start + 1.0 } else { 0.0 },
            name: name.into(),
            color: 0x0100_00ff,
        }
    }

    fn owned(n: u128, instance: Uuid, region: bool, number: i32, name: &str) -> Owned {
        Owned {
            id: id(n),
            song: "Night Drive".into(),
            instance,
            region,
            number,
            name: name.into(),
        }
    }

    fn on(me: Uuid) -> Manages<'static> {
        Manages {
            me,
            song: "Night Drive",
        }
    }

    #[test]
    fn an_entry_reads_back_what_it_wrote_and_nothing_else() {
        let o = owned(7, id(1), true, 12, "vocal: too loud at the end");
        assert_eq!(Owned::parse(&o.id.to_string(), &o.value()), Some(o.clone()));
        for bad in [
            "",
            "{}",
            "1 m 2 x",
            r#"{"song":"s","instance":"x","region":true,"number":1,"name":""}"#,
        ] {
            assert_eq!(Owned::parse(&o.id.to_string(), bad), None, "{bad:?}");
        }
        assert_eq!(Owned::parse("not an id", &o.value()), None);
    }

    #[test]
    fn adds_changes_and_deletes_what_it_looks_after() {
        let (me, other) = (id(100), id(200));
        let mut elsewhere = owned(9, other, false, 7, "another song's");
        elsewhere.song = "Other Song".into();
        let present = [
            present(false, 1, 1.0, "kept"),
            present(false, 2, 2.0, "moved"),
            present(false, 3, 3.0, "gone from the record"),
            present(false, 4, 4.0, "the user's marker"),
            present(false, 5, 5.0, "another instance's"),
            present(false, 6, 6.0, "renamed by the user"),
            present(false, 7, 7.0, "another song's"),
        ];
        let owned = [
            owned(1, me, false, 1, "kept"),
            owned(2, me, false, 2, "moved"),
            owned(3, me, false, 3, "gone from the record"),
            owned(5, other, false, 5, "another instance's"),
            owned(6, me, false, 6, "what we called it"),
            owned(8, me, false, 9, "deleted by the user"),
            elsewhere,
        ];
        let wanted = [
            wanted(1, 1.0, None, "kept"),
            wanted(2, 2.5, None, "moved"),
            wanted(5, 5.5, None, "another instance's"),
            wanted(6, 6.0, None, "what we called it"),
            wanted(7, 7.0, Some(8.0), "new"),
        ];
        let ops = plan(&on(me), &wanted, &present, &owned);
        assert_eq!(
            ops,
            vec![
                Op::Forget(id(6)),
                Op::Forget(id(8)),
                Op::Delete {
                    id: id(3),
                    region: false,
                    number: 3
                },
                Op::Change {
                    number: 2,
                    wanted: wanted[1].clone()
                },
                // The same song's marker another instance (maybe one removed) made: it follows
                // the record all the same.
                Op::Change {
                    number: 5,
                    wanted: wanted[2].clone()
                },
                // Its old marker is the user's now: a new one is made.
                Op::Add(wanted[3].clone()),
                Op::Add(wanted[4].clone()),
            ]
        );
    }

    #[test]
    fn switched_off_it_takes_away_its_songs_markers_and_nothing_else() {
        let (me, other) = (id(100), id(200));
        let mut elsewhere = owned(3, other, false, 3, "another song's");
        elsewhere.song = "Other Song".into();
        let present = [
            present(false, 1, 1.0, "mine"),
            present(false, 2, 2.0, "theirs"),
            present(false, 3, 3.0, "another song's"),
        ];
        let owned = [
            owned(1, me, false, 1, "mine"),
            owned(2, other, false, 2, "theirs"),
            elsewhere,
        ];
        let delete = |n: u128| Op::Delete {
            id: id(n),
            region: false,
            number: n as i32,
        };
        assert_eq!(
            plan(&on(me), &[], &present, &owned),
            vec![delete(1), delete(2)]
        );
        // An instance of another song takes away only what it made.
        let elsewhere = Manages {
            me: id(300),
            song: "Other Song",
        };
        assert_eq!(plan(&elsewhere, &[], &present, &owned), vec![delete(3)]);
    }

    #[test]
    fn a_note_that_becomes_a_range_gets_a_region() {
        let me = id(100);
        let ops = plan(
            &on(me),
            &[wanted(1, 1.0, Some(2.0), "n")],
            &[present(false, 1, 1.0, "n")],
            &[owned(1, me, false, 1, "n")],
        );
        assert_eq!(
            ops,
            vec![
                Op::Delete {
                    id: id(1),
                    region: false,
                    number: 1
                },
                Op::Add(wanted(1, 1.0, Some(2.0), "n")),
            ]
        );
    }

    #[test]
    fn names_are_one_line_short_never_empty_and_keep_their_direction() {
        assert_eq!(name("  a\nb\tc "), "a b c");
        let long = "x".repeat(60);
        assert_eq!(name(&long), format!("{}…", "x".repeat(NAME_CHARS)));
        assert_eq!(name(" \n "), "…");
        assert_eq!(name("abc\u{202E}fed\u{2066}"), "abcfed");
    }
}

//! Which markers to add, change and delete so REAPER's timeline shows a song's notes: a pure
//! plan from what is wanted, what the project holds and what the plugin remembers making.
//!
//! Ownership is remembered in the project itself (`SetProjExtState`, saved in the `.RPP` with
//! the markers): one entry per event, naming the instance that made its marker, the marker's
//! kind and number, and the name it was given. So a reopened project finds its markers again
//! instead of adding them twice, and a marker is only ever touched while it still is what the
//! plugin made: one the user deleted or renamed is forgotten, never changed.

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
#[derive(Debug, Clone, PartialEq)]
pub struct Owned {
    pub id: Uuid,
    /// The instance that made it (only it changes or deletes it).
    pub instance: Uuid,
    pub region: bool,
    pub number: i32,
    /// The name it was given, to tell that it is still the plugin's.
    pub name: String,
}

impl Owned {
    /// The entry's value in the extension state: `<instance> <m|r> <number> <name>`.
    pub fn value(&self) -> String {
        let kind = if self.region { 'r' } else { 'm' };
        format!("{} {kind} {} {}", self.instance, self.number, self.name)
    }

    /// Reads an entry back; `None` for anything this did not write (a hand-edited project
    /// file is not trusted: an unreadable entry is left alone, and so is its marker).
    pub fn parse(key: &str, value: &str) -> Option<Owned> {
        let id = key.parse().ok()?;
        let mut parts = value.splitn(4, ' ');
        let instance = parts.next()?.parse().ok()?;
        let region = match parts.next()? {
            "m" => false,
            "r" => true,
            _ => return None,
        };
        let number = parts.next()?.parse().ok()?;
        let name = parts.next().unwrap_or("").to_owned();
        Some(Owned {
            id,
            instance,
            region,
            number,
            name,
        })
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

/// What turns `present` into `wanted` for instance `me`, given the remembered `owned`.
/// Entries of other instances are never changed; an event another instance shows is not
/// shown twice.
pub fn plan(me: Uuid, wanted: &[Wanted], present: &[Present], owned: &[Owned]) -> Vec<Op> {
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
            _ if o.instance == me => ops.push(Op::Forget(o.id)),
            _ => {}
        }
    }
    let wanted_ids: HashSet<Uuid> = wanted.iter().map(|w| w.id).collect();
    for o in owned.iter().filter(|o| o.instance == me) {
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
            Some(o) if o.instance != me => {}
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

/// A marker's name: the text's start on one line, with an ellipsis when cut.
pub fn name(text: &str) -> String {
    let flat: String = text
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut name: String = flat.chars().take(NAME_CHARS).collect();
    if flat.chars().count() > NAME_CHARS {
        name = name.trim_end().to_owned();
        name.push('…');
    }
    name
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
            instance,
            region,
            number,
            name: name.into(),
        }
    }

    #[test]
    fn an_entry_reads_back_what_it_wrote_and_nothing_else() {
        let o = owned(7, id(1), true, 12, "vocal: too loud at the end");
        assert_eq!(Owned::parse(&o.id.to_string(), &o.value()), Some(o.clone()));
        for bad in [
            "",
            "x m 1 a",
            &format!("{} q 1 a", id(1)),
            &format!("{} m x a", id(1)),
        ] {
            assert_eq!(Owned::parse(&o.id.to_string(), bad), None, "{bad:?}");
        }
        assert_eq!(Owned::parse("not an id", &o.value()), None);
    }

    #[test]
    fn adds_changes_and_deletes_only_its_own() {
        let (me, other) = (id(100), id(200));
        let present = [
            present(false, 1, 1.0, "kept"),
            present(false, 2, 2.0, "moved"),
            present(false, 3, 3.0, "gone from the record"),
            present(false, 4, 4.0, "the user's marker"),
            present(false, 5, 5.0, "another instance's"),
            present(false, 6, 6.0, "renamed by the user"),
        ];
        let owned = [
            owned(1, me, false, 1, "kept"),
            owned(2, me, false, 2, "moved"),
            owned(3, me, false, 3, "gone from the record"),
            owned(5, other, false, 5, "another instance's"),
            owned(6, me, false, 6, "what we called it"),
            owned(8, me, false, 9, "deleted by the user"),
        ];
        let wanted = [
            wanted(1, 1.0, None, "kept"),
            wanted(2, 2.5, None, "moved"),
            wanted(5, 5.0, None, "another instance's"),
            wanted(6, 6.0, None, "what we called it"),
            wanted(7, 7.0, Some(8.0), "new"),
        ];
        let ops = plan(me, &wanted, &present, &owned);
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
                // Its old marker is the user's now: a new one is made.
                Op::Add(wanted[3].clone()),
                Op::Add(wanted[4].clone()),
            ]
        );
    }

    #[test]
    fn a_note_that_becomes_a_range_gets_a_region() {
        let me = id(100);
        let ops = plan(
            me,
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
    fn names_are_one_line_and_short() {
        assert_eq!(name("  a\nb\tc "), "a b c");
        let long = "x".repeat(60);
        assert_eq!(name(&long), format!("{}…", "x".repeat(NAME_CHARS)));
    }
}

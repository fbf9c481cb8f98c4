//! The event: the one thing the record is made of.
//!
//! # Wire and storage format, version 1 (never change; only add)
//!
//! One JSON object per event:
//!
//! ```json
//! {"v":1,"id":"0190...","project":"Album","song":"Song A","track":"Lead Vox",
//!  "session":"0190...","author":"Sam","role":"producer","at":1764288000000,
//!  "pos":{"samples":441000,"seconds":10.0,"beats":20.0,"bar":6,"beat":1.0,
//!         "tempo":120.0,"time_sig":[4,4],"playing":true,"recording":false},
//!  "kind":"note_added","body":{"text":"breath at the top","category":"vocal"}}
//! ```
//!
//! - `v` is the format version. A reader accepts any `v`; fields it does not know are ignored.
//! - `id` is a UUIDv7 made where the event is made: identity for exactly-once sync.
//! - `at` is wall-clock UTC milliseconds since the Unix epoch.
//! - `pos` is optional: hosts differ in what they report.
//! - `kind` names the body's shape. An event whose kind this version does not know parses as
//!   [`Body::Unknown`], keeping its body's JSON as it was, less the whitespace between tokens.
//!
//! # Canonical form
//!
//! [`Event::to_json`] writes an event's canonical line: compact, one line, fields in the order
//! above. The server stores and serves every event in this form ([`Event::canonical`]), so no
//! writer can make an event other clients cannot read (a pretty-printed event spans lines, and
//! journals are made of lines). An event made by this crate is already canonical. Envelope
//! fields a newer version adds are not kept by this version's canonical form.
//!
//! Adding a kind or an optional field is compatible; changing or removing one is not.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use std::fmt;
use uuid::Uuid;

/// The format version this crate writes.
pub const FORMAT_VERSION: u32 = 1;

/// Who someone is in the project; decides what they may record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Producer,
    Engineer,
    Artist,
    Executive,
    Viewer,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Producer,
        Role::Engineer,
        Role::Artist,
        Role::Executive,
        Role::Viewer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Producer => "producer",
            Role::Engineer => "engineer",
            Role::Artist => "artist",
            Role::Executive => "executive",
            Role::Viewer => "viewer",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                format!("unknown role {s:?}: use producer, engineer, artist, executive or viewer")
            })
    }
}

/// Where in the DAW something happened. Every field is optional: hosts differ.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct DawPos {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub samples: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds: Option<f64>,
    /// Quarter-note beats from the start of the timeline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beats: Option<f64>,
    /// Bar as DAWs show it: the first bar is 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bar: Option<i32>,
    /// Beat within the bar, 1-based, in time-signature denominator units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beat: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tempo: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_sig: Option<(u16, u16)>,
    #[serde(default)]
    pub playing: bool,
    #[serde(default)]
    pub recording: bool,
}

/// What a note is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Take,
    Eq,
    Fx,
    Vocal,
    Arrangement,
    Mix,
    Technical,
    General,
}

impl Category {
    pub const ALL: [Category; 8] = [
        Category::Take,
        Category::Eq,
        Category::Fx,
        Category::Vocal,
        Category::Arrangement,
        Category::Mix,
        Category::Technical,
        Category::General,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Take => "take",
            Category::Eq => "eq",
            Category::Fx => "fx",
            Category::Vocal => "vocal",
            Category::Arrangement => "arrangement",
            Category::Mix => "mix",
            Category::Technical => "technical",
            Category::General => "general",
        }
    }
}

/// Where a note sits on the timeline: at a point, or across a range (bar 23 to bar 42).
/// A note with no anchor uses its event's `pos`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Anchor {
    Point { at: DawPos },
    Range { from: DawPos, to: DawPos },
}

/// A take: the `number`th record pass seen by one plugin `instance`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TakeRef {
    pub instance: Uuid,
    pub number: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rating {
    Keeper,
    Maybe,
    Scratch,
}

/// The executive producer's final say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Approved,
    Rejected,
    ChangesRequested,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Approved => "approved",
            Verdict::Rejected => "rejected",
            Verdict::ChangesRequested => "changes_requested",
        }
    }
}

/// One setting of a processor: `{"name":"gain","value":-3.0,"unit":"dB"}` or a text value
/// such as `{"name":"band","text":"low shelf"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Setting {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}

/// An EQ or effect choice: what, which settings, why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// The plugin or hardware, e.g. "Pro-Q 3" or "1176".
    pub processor: String,
    pub settings: Vec<Setting>,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoteAdded {
    pub text: String,
    pub category: Category,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anchor: Option<Anchor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub take: Option<TakeRef>,
    /// Private notes stay in the local journal: never synced or exported unless asked.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub private: bool,
    /// The version it was made on (the id of a `version_printed` event of its song), for a
    /// comment made on a version's waveform: its position is on the DAW's timeline, this says
    /// which mix the person was hearing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<Uuid>,
    /// The guest who wrote it, by the name they typed, for a comment left through a listening
    /// link: the event's author is the executive who accepted it (the person vouching for
    /// it), and only the executive records such a note ([`crate::rules::executive_only`]).
    /// Added after version 1's first release: absent on every other note, so older readers
    /// (which ignore it) and older lines (which lack it) stay compatible.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guest: Option<String>,
}

/// A change to a note (the note is the id of its `note_added` event); absent fields keep
/// their value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoteEdited {
    pub note: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anchor: Option<Anchor>,
}

/// The audio around an event's moment (see [`crate::clips`]); attached by the instance that
/// recorded it, to an event of its own author.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClipAttached {
    /// The note, EQ/FX decision or mark the clip is of (the id of its event).
    pub target: Uuid,
    pub clip: crate::clips::Clip,
    /// The clip of a private note: it stays in the local journal, never synced.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub private: bool,
}

/// An answer in the thread of a note, EQ/FX decision, take, mark, version or song selection
/// (the id of its event: what [`crate::rules::repliable`] allows). Threads are flat: a reply
/// answers the thing, not another reply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplyAdded {
    pub target: Uuid,
    pub text: String,
}

/// The producer's side's answer to *changes requested*: the change is made, please re-check
/// ([`crate::review`]). It names the verdict it answers, so a later verdict (whatever the
/// clocks say) is never mistaken for answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MarkedDone {
    /// What was judged (the id of the event the verdict targets).
    pub target: Uuid,
    /// The `verdict` event (changes requested) this answers.
    pub answers: Uuid,
    /// The version that carries the change (the id of a `version_printed` event), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<Uuid>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub comment: String,
}

/// The body of an event, by kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    NoteAdded(NoteAdded),
    NoteEdited(NoteEdited),
    NoteDeleted {
        note: Uuid,
    },
    TakeStarted {
        take: TakeRef,
    },
    TakeEnded {
        take: TakeRef,
    },
    TakeRated {
        take: TakeRef,
        rating: Rating,
        stars: Option<u8>,
        note: Option<String>,
    },
    Mark {
        instance: Uuid,
        number: u32,
        label: Option<String>,
    },
    EqDecision(Decision),
    FxDecision(Decision),
    /// `target` is the id of the event judged (a note, a decision, a take start) or, for a
    /// whole song, of its `song_selection` event.
    Verdict {
        target: Uuid,
        verdict: Verdict,
        comment: String,
    },
    TracklistOrder {
        songs: Vec<String>,
    },
    SongSelection {
        song: String,
        selected: bool,
    },
    ClipAttached(ClipAttached),
    /// A mix of the event's song printed from the DAW ([`crate::versions`]).
    VersionPrinted(crate::versions::VersionPrinted),
    VersionLabeled(crate::versions::VersionLabeled),
    ReplyAdded(ReplyAdded),
    /// A new text for a reply (only its author may).
    ReplyEdited {
        reply: Uuid,
        text: String,
    },
    ReplyDeleted {
        reply: Uuid,
    },
    MarkedDone(MarkedDone),
    TransportStarted,
    TransportStopped,
    SessionOpened,
    SessionClosed,
    /// A kind this version does not know, kept verbatim.
    Unknown {
        kind: String,
        body: RawJson,
    },
}

/// JSON text kept exactly as received; equal when the text is equal.
#[derive(Debug, Clone)]
pub struct RawJson(pub Box<RawValue>);

impl RawJson {
    pub fn get(&self) -> &str {
        self.0.get()
    }
}

impl PartialEq for RawJson {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

/// Bodies as serialized under `"body"`, one struct per kind.
mod wire {
    use super::*;

    #[derive(Serialize, Deserialize)]
    pub struct NoteRef {
        pub note: Uuid,
    }
    #[derive(Serialize, Deserialize)]
    pub struct Take {
        pub take: TakeRef,
    }
    #[derive(Serialize, Deserialize)]
    pub struct TakeRated {
        pub take: TakeRef,
        pub rating: Rating,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub stars: Option<u8>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub note: Option<String>,
    }
    #[derive(Serialize, Deserialize)]
    pub struct Mark {
        pub instance: Uuid,
        pub number: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub label: Option<String>,
    }
    #[derive(Serialize, Deserialize)]
    pub struct VerdictBody {
        pub target: Uuid,
        pub verdict: Verdict,
        #[serde(default)]
        pub comment: String,
    }
    #[derive(Serialize, Deserialize)]
    pub struct Tracklist {
        pub songs: Vec<String>,
    }
    #[derive(Serialize, Deserialize)]
    pub struct SongSelection {
        pub song: String,
        pub selected: bool,
    }
    #[derive(Serialize, Deserialize)]
    pub struct ReplyEdited {
        pub reply: Uuid,
        pub text: String,
    }
    #[derive(Serialize, Deserialize)]
    pub struct ReplyRef {
        pub reply: Uuid,
    }
    #[derive(Serialize, Deserialize)]
    pub struct Empty {}
}

impl Body {
    /// The `kind` string of this body.
    pub fn kind(&self) -> &str {
        match self {
            Body::NoteAdded(_) => "note_added",
            Body::NoteEdited(_) => "note_edited",
            Body::NoteDeleted { .. } => "note_deleted",
            Body::TakeStarted { .. } => "take_started",
            Body::TakeEnded { .. } => "take_ended",
            Body::TakeRated { .. } => "take_rated",
            Body::Mark { .. } => "mark",
            Body::EqDecision(_) => "eq_decision",
            Body::FxDecision(_) => "fx_decision",
            Body::Verdict { .. } => "verdict",
            Body::TracklistOrder { .. } => "tracklist_order",
            Body::SongSelection { .. } => "song_selection",
            Body::ClipAttached(_) => "clip_attached",
            Body::VersionPrinted(_) => "version_printed",
            Body::VersionLabeled(_) => "version_labeled",
            Body::ReplyAdded(_) => "reply_added",
            Body::ReplyEdited { .. } => "reply_edited",
            Body::ReplyDeleted { .. } => "reply_deleted",
            Body::MarkedDone(_) => "marked_done",
            Body::TransportStarted => "transport_started",
            Body::TransportStopped => "transport_stopped",
            Body::SessionOpened => "session_opened",
            Body::SessionClosed => "session_closed",
            Body::Unknown { kind, .. } => kind,
        }
    }

    fn to_raw(&self) -> serde_json::Result<Box<RawValue>> {
        use serde_json::value::to_raw_value as raw;
        match self {
            Body::NoteAdded(b) => raw(b),
            Body::NoteEdited(b) => raw(b),
            Body::NoteDeleted { note } => raw(&wire::NoteRef { note: *note }),
            Body::TakeStarted { take } | Body::TakeEnded { take } => {
                raw(&wire::Take { take: *take })
            }
            Body::TakeRated {
                take,
                rating,
                stars,
                note,
            } => raw(&wire::TakeRated {
                take: *take,
                rating: *rating,
                stars: *stars,
                note: note.clone(),
            }),
            Body::Mark {
                instance,
                number,
                label,
            } => raw(&wire::Mark {
                instance: *instance,
                number: *number,
                label: label.clone(),
            }),
            Body::EqDecision(d) | Body::FxDecision(d) => raw(d),
            Body::Verdict {
                target,
                verdict,
                comment,
            } => raw(&wire::VerdictBody {
                target: *target,
                verdict: *verdict,
                comment: comment.clone(),
            }),
            Body::TracklistOrder { songs } => raw(&wire::Tracklist {
                songs: songs.clone(),
            }),
            Body::SongSelection { song, selected } => raw(&wire::SongSelection {
                song: song.clone(),
                selected: *selected,
            }),
            Body::ClipAttached(c) => raw(c),
            Body::VersionPrinted(v) => raw(v),
            Body::VersionLabeled(v) => raw(v),
            Body::ReplyAdded(r) => raw(r),
            Body::ReplyEdited { reply, text } => raw(&wire::ReplyEdited {
                reply: *reply,
                text: text.clone(),
            }),
            Body::ReplyDeleted { reply } => raw(&wire::ReplyRef { reply: *reply }),
            Body::MarkedDone(d) => raw(d),
            Body::TransportStarted
            | Body::TransportStopped
            | Body::SessionOpened
            | Body::SessionClosed => raw(&wire::Empty {}),
            Body::Unknown { body, .. } => Ok(body.0.clone()),
        }
    }

    fn from_raw(kind: &str, body: Box<RawValue>) -> serde_json::Result<Body> {
        fn parse<T: serde::de::DeserializeOwned>(json: &str) -> serde_json::Result<T> {
            serde_json::from_str(json)
        }
        let json = body.get();
        Ok(match kind {
            "note_added" => Body::NoteAdded(parse(json)?),
            "note_edited" => Body::NoteEdited(parse(json)?),
            "note_deleted" => Body::NoteDeleted {
                note: parse::<wire::NoteRef>(json)?.note,
            },
            "take_started" => Body::TakeStarted {
                take: parse::<wire::Take>(json)?.take,
            },
            "take_ended" => Body::TakeEnded {
                take: parse::<wire::Take>(json)?.take,
            },
            "take_rated" => {
                let b: wire::TakeRated = parse(json)?;
                Body::TakeRated {
                    take: b.take,
                    rating: b.rating,
                    stars: b.stars,
                    note: b.note,
                }
            }
            "mark" => {
                let b: wire::Mark = parse(json)?;
                Body::Mark {
                    instance: b.instance,
                    number: b.number,
                    label: b.label,
                }
            }
            "eq_decision" => Body::EqDecision(parse(json)?),
            "fx_decision" => Body::FxDecision(parse(json)?),
            "verdict" => {
                let b: wire::VerdictBody = parse(json)?;
                Body::Verdict {
                    target: b.target,
                    verdict: b.verdict,
                    comment: b.comment,
                }
            }
            "tracklist_order" => Body::TracklistOrder {
                songs: parse::<wire::Tracklist>(json)?.songs,
            },
            "song_selection" => {
                let b: wire::SongSelection = parse(json)?;
                Body::SongSelection {
                    song: b.song,
                    selected: b.selected,
                }
            }
            "clip_attached" => Body::ClipAttached(parse(json)?),
            "version_printed" => Body::VersionPrinted(parse(json)?),
            "version_labeled" => Body::VersionLabeled(parse(json)?),
            "reply_added" => Body::ReplyAdded(parse(json)?),
            "reply_edited" => {
                let b: wire::ReplyEdited = parse(json)?;
                Body::ReplyEdited {
                    reply: b.reply,
                    text: b.text,
                }
            }
            "reply_deleted" => Body::ReplyDeleted {
                reply: parse::<wire::ReplyRef>(json)?.reply,
            },
            "marked_done" => Body::MarkedDone(parse(json)?),
            "transport_started" => Body::TransportStarted,
            "transport_stopped" => Body::TransportStopped,
            "session_opened" => Body::SessionOpened,
            "session_closed" => Body::SessionClosed,
            _ => Body::Unknown {
                kind: kind.to_owned(),
                body: RawJson(compact(body)),
            },
        })
    }
}

/// Valid JSON without the whitespace between its tokens (strings, numbers and key order
/// untouched).
fn compact(raw: Box<RawValue>) -> Box<RawValue> {
    let text = raw.get();
    if !text
        .bytes()
        .any(|b| matches!(b, b' ' | b'\n' | b'\r' | b'\t'))
    {
        return raw;
    }
    let mut out = String::with_capacity(text.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in text.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !matches!(c, ' ' | '\n' | '\r' | '\t') {
            out.push(c);
        }
    }
    RawValue::from_string(out).expect("removing whitespace between tokens keeps JSON valid")
}

/// One event of the record.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: Uuid,
    pub project: String,
    pub song: String,
    pub track: String,
    pub session: Uuid,
    pub author: String,
    pub role: Role,
    /// Wall clock, UTC milliseconds since the Unix epoch.
    pub at: i64,
    pub pos: Option<DawPos>,
    pub body: Body,
}

/// The envelope as it is on the wire.
#[derive(Serialize, Deserialize)]
struct Wire {
    v: u32,
    id: Uuid,
    project: String,
    #[serde(default)]
    song: String,
    #[serde(default)]
    track: String,
    session: Uuid,
    author: String,
    role: Role,
    at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pos: Option<DawPos>,
    kind: String,
    body: Box<RawValue>,
}

impl Serialize for Event {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::Error as _;
        let body = self.body.to_raw().map_err(S::Error::custom)?;
        Wire {
            v: FORMAT_VERSION,
            id: self.id,
            project: self.project.clone(),
            song: self.song.clone(),
            track: self.track.clone(),
            session: self.session,
            author: self.author.clone(),
            role: self.role,
            at: self.at,
            pos: self.pos,
            kind: self.body.kind().to_owned(),
            body,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let w = Wire::deserialize(d)?;
        let body = Body::from_raw(&w.kind, w.body)
            .map_err(|e| D::Error::custom(format!("body of {:?}: {e}", w.kind)))?;
        Ok(Event {
            id: w.id,
            project: w.project,
            song: w.song,
            track: w.track,
            session: w.session,
            author: w.author,
            role: w.role,
            at: w.at,
            pos: w.pos,
            body,
        })
    }
}

impl Event {
    /// A new event with a fresh UUIDv7 and the current wall-clock time.
    pub fn new(ctx: &Context, pos: Option<DawPos>, body: Body) -> Event {
        Event {
            id: Uuid::now_v7(),
            project: ctx.project.clone(),
            song: ctx.song.clone(),
            track: ctx.track.clone(),
            session: ctx.session,
            author: ctx.author.clone(),
            role: ctx.role,
            at: now_ms(),
            pos,
            body,
        }
    }

    /// The event's canonical line of JSON (no newline; see the module docs).
    ///
    /// # Panics
    /// Never: every event serializes (its fields are plain data).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("events always serialize")
    }

    /// Reads an event from any valid JSON and gives it with its canonical line.
    ///
    /// # Errors
    /// When `json` is not an event of the record.
    pub fn canonical(json: &str) -> serde_json::Result<(Event, String)> {
        let event: Event = serde_json::from_str(json)?;
        let line = event.to_json();
        Ok((event, line))
    }
}

/// Who and where new events are made: the fields every event of one plugin instance shares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Context {
    pub project: String,
    pub song: String,
    pub track: String,
    pub session: Uuid,
    pub author: String,
    pub role: Role,
}

/// Wall clock, UTC milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Context {
        Context {
            project: "Album".into(),
            song: "Song A".into(),
            track: "Lead Vox".into(),
            session: Uuid::now_v7(),
            author: "Sam".into(),
            role: Role::Producer,
        }
    }

    /// A note accepted from a listening link names its guest; the field is absent from every
    /// other note's line (older lines read as before), and only the executive may record it.
    #[test]
    fn a_guest_note_names_its_guest_and_is_the_executives_alone() {
        let note = |guest: Option<&str>| NoteAdded {
            text: "lovely chorus".into(),
            category: Category::Mix,
            anchor: None,
            take: None,
            private: false,
            version: None,
            guest: guest.map(str::to_owned),
        };
        let plain = Event::new(&ctx(), None, Body::NoteAdded(note(None)));
        assert!(!plain.to_json().contains("guest"), "{}", plain.to_json());
        let guest = Event::new(&ctx(), None, Body::NoteAdded(note(Some("Ana"))));
        assert!(guest.to_json().contains(r#""guest":"Ana""#));
        let back: Event = serde_json::from_str(&guest.to_json()).unwrap();
        assert_eq!(back, guest);
        let body = Body::NoteAdded(note(Some("Ana")));
        assert!(crate::rules::executive_only(&body));
        assert!(!crate::rules::may_record(Role::Producer, &body));
        assert!(crate::rules::may_record(Role::Executive, &body));
        let mut accepted = guest.clone();
        accepted.author = "Eve".into();
        accepted.role = Role::Executive;
        let views = crate::views::fold(&[plain.clone(), accepted]);
        let by: Vec<String> = views.notes.iter().map(|n| n.written_by()).collect();
        assert_eq!(by, ["Sam", "Ana (guest, accepted by Eve)"]);
        assert!(crate::rules::may_record(
            Role::Producer,
            &Body::NoteAdded(note(None))
        ));
    }

    #[test]
    fn every_known_kind_round_trips() {
        let take = TakeRef {
            instance: Uuid::now_v7(),
            number: 3,
        };
        let p = DawPos {
            seconds: Some(1.5),
            bar: Some(2),
            ..Default::default()
        };
        let decision = Decision {
            processor: "Pro-Q 3".into(),
            settings: vec![
                Setting {
                    name: "band".into(),
                    value: None,
                    text: Some("low shelf".into()),
                    unit: None,
                },
                Setting {
                    name: "frequency".into(),
                    value: Some(120.0),
                    text: None,
                    unit: Some("Hz".into()),
                },
            ],
            reason: "mud, \"boxy\"".into(),
        };
        let bodies = vec![
            Body::NoteAdded(NoteAdded {
                text: "breath, at the top\n«שלום» 🎤".into(),
                category: Category::Vocal,
                anchor: Some(Anchor::Range { from: p, to: p }),
                take: Some(take),
                private: true,
                version: None,
                guest: None,
            }),
            Body::NoteEdited(NoteEdited {
                note: Uuid::now_v7(),
                text: Some("x".into()),
                category: None,
                anchor: Some(Anchor::Point { at: p }),
            }),
            Body::NoteDeleted {
                note: Uuid::now_v7(),
            },
            Body::TakeStarted { take },
            Body::TakeEnded { take },
            Body::TakeRated {
                take,
                rating: Rating::Keeper,
                stars: Some(5),
                note: Some("the one".into()),
            },
            Body::Mark {
                instance: take.instance,
                number: 7,
                label: None,
            },
            Body::EqDecision(decision.clone()),
            Body::FxDecision(decision),
            Body::Verdict {
                target: Uuid::now_v7(),
                verdict: Verdict::ChangesRequested,
                comment: "more air".into(),
            },
            Body::TracklistOrder {
                songs: vec!["B".into(), "A".into()],
            },
            Body::SongSelection {
                song: "A".into(),
                selected: true,
            },
            Body::ReplyAdded(ReplyAdded {
                target: Uuid::now_v7(),
                text: "on it".into(),
            }),
            Body::ReplyEdited {
                reply: Uuid::now_v7(),
                text: "on it, v4".into(),
            },
            Body::ReplyDeleted {
                reply: Uuid::now_v7(),
            },
            Body::MarkedDone(MarkedDone {
                target: Uuid::now_v7(),
                answers: Uuid::now_v7(),
                version: Some(Uuid::now_v7()),
                comment: "more air at the top".into(),
            }),
            Body::MarkedDone(MarkedDone {
                target: Uuid::now_v7(),
                answers: Uuid::now_v7(),
                version: None,
                comment: String::new(),
            }),
            Body::TransportStarted,
            Body::TransportStopped,
            Body::SessionOpened,
            Body::SessionClosed,
        ];
        for body in bodies {
            let e = Event::new(&ctx(), Some(p), body);
            let json = e.to_json();
            let back: Event = serde_json::from_str(&json).unwrap();
            assert_eq!(back, e, "{json}");
            assert!(json.starts_with(r#"{"v":1,"id":""#), "{json}");
        }
    }

    #[test]
    fn an_unknown_kind_keeps_its_body_less_the_whitespace() {
        let json = r#"{"v":3,"id":"01900000-0000-7000-8000-000000000001","project":"P","session":"01900000-0000-7000-8000-000000000002","author":"A","role":"artist","at":5,"kind":"lyric_sheet","body":{"z": [1, 2,  3.50],
  "a": "two  spaces \" and\n a newline"},"future_field":true}"#;
        let e: Event = serde_json::from_str(json).unwrap();
        match &e.body {
            Body::Unknown { kind, body } => {
                assert_eq!(kind, "lyric_sheet");
                assert_eq!(
                    body.get(),
                    r#"{"z":[1,2,3.50],"a":"two  spaces \" and\n a newline"}"#
                );
            }
            other => panic!("{other:?}"),
        }
        let again: Event = serde_json::from_str(&e.to_json()).unwrap();
        assert_eq!(again, e);
    }

    #[test]
    fn the_canonical_line_of_a_pretty_printed_event_is_one_line_and_stable() {
        let e = Event::new(
            &ctx(),
            None,
            Body::NoteAdded(NoteAdded {
                text: "line one\nline two".into(),
                category: Category::Vocal,
                anchor: None,
                take: None,
                private: false,
                version: None,
                guest: None,
            }),
        );
        let pretty = serde_json::to_string_pretty(&e).unwrap();
        assert!(pretty.contains('\n'));
        let (back, line) = Event::canonical(&pretty).unwrap();
        assert_eq!(back, e);
        assert_eq!(line, e.to_json());
        assert!(!line.contains('\n'));
        assert_eq!(Event::canonical(&line).unwrap().1, line);
    }

    #[test]
    fn a_known_kind_with_a_bad_body_is_an_error_naming_the_kind() {
        let json = r#"{"v":1,"id":"01900000-0000-7000-8000-000000000001","project":"P","session":"01900000-0000-7000-8000-000000000002","author":"A","role":"artist","at":5,"kind":"note_added","body":{"txt":"typo"}}"#;
        let err = serde_json::from_str::<Event>(json).unwrap_err().to_string();
        assert!(err.contains("note_added"), "{err}");
    }

    #[test]
    fn roles_parse_and_explain_mistakes() {
        assert_eq!("executive".parse::<Role>(), Ok(Role::Executive));
        assert!("boss".parse::<Role>().unwrap_err().contains("executive"));
    }
}

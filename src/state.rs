//! What an instance saves inside the DAW project: its identity, its settings and its own
//! events, so that a project opened on another machine still has them.
//!
//! Version 2 ([`InstanceState`], persisted under [`crate::params::STATE_KEY`]) holds record
//! events ([`liner_record::Event`]). Version 1 (the capture log under `capture`, from before
//! the journal existed) is migrated by [`filter_saved_state`] when a project is loaded.
//! Fields added later must be optional so that a project saved by this version still loads;
//! data that cannot be read is set aside verbatim, never dropped, never a crash.

use crate::capture::{CaptureEvent, CaptureKind};
use crate::settings::Settings;
use liner_record::event::{Body, Context, DawPos, Event, TakeRef};
use nice_plug::params::persist::PersistentField;
use parking_lot::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use uuid::Uuid;

/// The version of the saved capture log (format 1, before the journal).
pub const CAPTURE_LOG_VERSION: u32 = 1;
/// The current version of [`InstanceState`].
pub const STATE_VERSION: u32 = 2;

/// Everything an instance saves in the DAW project (format 2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceState {
    pub version: u32,
    /// Stable identity of this plugin instance (takes and marks are numbered per instance).
    pub instance: Uuid,
    pub settings: Settings,
    /// This instance's own events, in capture order.
    #[serde(default)]
    pub events: Vec<Event>,
    /// Events the audio thread had to drop because the queue to the worker was full.
    #[serde(default)]
    pub dropped: u64,
    /// Saved data this version could not read, kept verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_aside: Option<SetAside>,
    /// "Clip audio with notes": keep the audio around each note, decision and mark
    /// ([`crate::tap`], `worker::clips`). Off until someone turns it on, per instance.
    #[serde(default)]
    pub clip_audio: bool,
    /// How much of a clip comes before its moment, and after, in seconds.
    #[serde(default = "default_clip_before")]
    pub clip_before: f32,
    #[serde(default = "default_clip_after")]
    pub clip_after: f32,
    /// Pop up each note as the playhead reaches it (the list lights them either way), per
    /// instance; off until someone turns it on.
    #[serde(default)]
    pub pop_up_notes: bool,
    /// In REAPER, show this song's notes, decisions and marks as project markers and
    /// regions ([`crate::reaper`]), per instance; off until someone turns it on.
    #[serde(default)]
    pub reaper_markers: bool,
}

fn default_clip_before() -> f32 {
    8.0
}

fn default_clip_after() -> f32 {
    4.0
}

/// The numbers the next take and the next mark get after `events` (1 and 1 when there are
/// none): past the highest used, of `instance` only when it is named.
pub fn next_numbers<'a>(
    events: impl IntoIterator<Item = &'a Event>,
    instance: Option<Uuid>,
) -> (u32, u32) {
    let mine = |i: Uuid| instance.is_none_or(|me| me == i);
    let (mut take, mut mark) = (1u32, 1u32);
    for e in events {
        match e.body {
            Body::TakeStarted { take: t } | Body::TakeEnded { take: t } if mine(t.instance) => {
                take = take.max(t.number.saturating_add(1));
            }
            Body::Mark {
                instance: i,
                number,
                ..
            } if mine(i) => mark = mark.max(number.saturating_add(1)),
            _ => {}
        }
    }
    (take, mark)
}

impl InstanceState {
    /// A new instance: a fresh identity and the settings last used on this machine.
    pub fn new() -> Self {
        Self::empty(Uuid::now_v7(), Settings::last_used())
    }

    /// An instance with these identity and settings and nothing captured yet.
    fn empty(instance: Uuid, settings: Settings) -> Self {
        InstanceState {
            version: STATE_VERSION,
            instance,
            settings,
            events: Vec::new(),
            dropped: 0,
            set_aside: None,
            clip_audio: false,
            clip_before: default_clip_before(),
            clip_after: default_clip_after(),
            pop_up_notes: false,
            reaper_markers: false,
        }
    }

    /// The numbers the next take and the next mark get, so numbering continues across
    /// sessions.
    pub fn next_numbers(&self) -> (u32, u32) {
        next_numbers(&self.events, None)
    }

    /// Who and where new events of this instance are made.
    pub fn context(&self, session: Uuid) -> Context {
        Context {
            project: self.settings.project.clone(),
            song: self.settings.song.clone(),
            track: self.settings.track.clone(),
            session,
            author: self.settings.author.clone(),
            role: self.settings.role,
        }
    }

    /// Turns an audio-thread event into a record event of this instance.
    pub fn event_of(&self, ev: &CaptureEvent, session: Uuid, at_ms: i64) -> Event {
        let instance = self.instance;
        let body = match ev.kind {
            CaptureKind::TransportStarted => Body::TransportStarted,
            CaptureKind::TransportStopped => Body::TransportStopped,
            CaptureKind::TakeStarted { take } => Body::TakeStarted {
                take: TakeRef {
                    instance,
                    number: take,
                },
            },
            CaptureKind::TakeEnded { take } => Body::TakeEnded {
                take: TakeRef {
                    instance,
                    number: take,
                },
            },
            CaptureKind::Mark { mark } => Body::Mark {
                instance,
                number: mark,
                label: None,
            },
        };
        let mut e = Event::new(&self.context(session), Some(ev.position()), body);
        e.at = at_ms;
        e
    }
}

impl Default for InstanceState {
    fn default() -> Self {
        Self::new()
    }
}

/// The instance state as a `#[persist]` field: the host's project load replaces it (and
/// raises a flag the worker reads to bring the loaded events into this machine's journal).
pub struct SavedState {
    state: RwLock<InstanceState>,
    loaded: AtomicBool,
}

impl SavedState {
    pub fn new(state: InstanceState) -> Self {
        SavedState {
            state: RwLock::new(state),
            loaded: AtomicBool::new(false),
        }
    }

    pub fn read(&self) -> RwLockReadGuard<'_, InstanceState> {
        self.state.read()
    }

    pub fn write(&self) -> RwLockWriteGuard<'_, InstanceState> {
        self.state.write()
    }

    /// Whether the host loaded a saved state since the last call.
    pub fn take_loaded(&self) -> bool {
        self.loaded.swap(false, Ordering::AcqRel)
    }
}

impl<'a> PersistentField<'a, InstanceState> for Arc<SavedState> {
    fn set(&self, new_value: InstanceState) {
        *self.state.write() = new_value;
        self.loaded.store(true, Ordering::Release);
    }

    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&InstanceState) -> R,
    {
        f(&self.state.read())
    }
}

/// Format 1: one captured event (read only, for migration).
#[derive(Debug, Clone, PartialEq, Deserialize)]
struct CapturedEvent {
    id: Uuid,
    at_ms: i64,
    #[serde(flatten)]
    kind: CapturedKind,
    pos: DawPos,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum CapturedKind {
    TransportStarted,
    TransportStopped,
    TakeStarted { take: u32 },
    TakeEnded { take: u32 },
    Mark { mark: u32 },
}

/// Format 1: the capture log (read only, for migration).
#[derive(Debug, Clone, PartialEq, Deserialize)]
struct CaptureLog {
    events: Vec<CapturedEvent>,
    #[serde(default)]
    dropped: u64,
    #[serde(default)]
    set_aside: Option<SetAside>,
}

/// Saved data that could not be loaded, and why, kept verbatim so that saving the project
/// again does not destroy it (a newer plugin version may read it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetAside {
    pub error: String,
    pub raw: String,
}

/// Why saved data could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error(
        "the saved Liner Notes data is not valid ({0}); it was set aside and a fresh log started"
    )]
    Unreadable(serde_json::Error),
    #[error("the saved Liner Notes data is from a newer version (format {0}, this build reads up to {STATE_VERSION}); update the plugin to see it")]
    TooNew(u32),
}

/// Reads a saved instance state (format 2), checking its version.
fn load_v2(json: &str) -> Result<InstanceState, StateError> {
    let value: serde_json::Value = serde_json::from_str(json).map_err(StateError::Unreadable)?;
    let version = value.get("version").and_then(|v| v.as_u64()).unwrap_or(0) as u32;
    if version > STATE_VERSION {
        return Err(StateError::TooNew(version));
    }
    // Read from the text, as the host's load will: a value (which keeps the last of two
    // fields of one name) can accept what the text does not.
    serde_json::from_str(json).map_err(StateError::Unreadable)
}

/// Reads a capture log (format 1, or the unversioned shape before it).
fn load_v1(json: &str) -> Result<CaptureLog, StateError> {
    let mut value: serde_json::Value =
        serde_json::from_str(json).map_err(StateError::Unreadable)?;
    let version = value.get("version").and_then(|v| v.as_u64()).unwrap_or(0) as u32;
    if version > CAPTURE_LOG_VERSION {
        return Err(StateError::TooNew(version));
    }
    if let Some(obj) = value.as_object_mut() {
        obj.insert("version".into(), CAPTURE_LOG_VERSION.into());
        obj.entry("events").or_insert_with(|| serde_json::json!([]));
    }
    serde_json::from_value(value).map_err(StateError::Unreadable)
}

/// Format 1 -> 2: the same events, same ids and times, as record events. Format 1 knew no
/// project, song or author, so the events get a fixed context ("unknown" author), and the
/// instance and session ids are derived from the event ids: migrating the same project twice
/// (reopened without saving, or on another machine) gives byte-identical events, never the
/// same id with other content. The instance's settings for new events are this machine's
/// last used ones.
fn upgrade_v1(log: CaptureLog) -> InstanceState {
    let mut ids: Vec<Uuid> = log.events.iter().map(|e| e.id).collect();
    ids.sort();
    let seed: Vec<u8> = ids.iter().flat_map(|id| *id.as_bytes()).collect();
    let instance = Uuid::new_v5(
        &Uuid::NAMESPACE_OID,
        &[b"liner-notes instance:", &seed[..]].concat(),
    );
    let session = Uuid::new_v5(
        &Uuid::NAMESPACE_OID,
        &[b"liner-notes session:", &seed[..]].concat(),
    );
    // Fixed settings, not this machine's: the same log migrates to the same events everywhere.
    let migrated = InstanceState::empty(
        instance,
        Settings {
            author: "unknown".into(),
            role: liner_record::Role::Producer,
            ..Settings::default()
        },
    );
    let events = log
        .events
        .into_iter()
        .map(|old| {
            let kind = match old.kind {
                CapturedKind::TransportStarted => CaptureKind::TransportStarted,
                CapturedKind::TransportStopped => CaptureKind::TransportStopped,
                CapturedKind::TakeStarted { take } => CaptureKind::TakeStarted { take },
                CapturedKind::TakeEnded { take } => CaptureKind::TakeEnded { take },
                CapturedKind::Mark { mark } => CaptureKind::Mark { mark },
            };
            let mut e = migrated.event_of(
                &CaptureEvent {
                    kind,
                    at: Default::default(),
                    advance: 0,
                    frame: 0,
                },
                session,
                old.at_ms,
            );
            e.id = old.id;
            e.pos = Some(old.pos);
            e
        })
        .collect();
    InstanceState {
        settings: Settings::last_used(),
        events,
        dropped: log.dropped,
        set_aside: log.set_aside,
        ..migrated
    }
}

/// Prepares a saved plugin state for loading (nice-plug's `filter_state`): migrates format 1
/// to 2 and sets unreadable data aside. Never fails. Returns what was wrong, if anything.
///
/// # Panics
/// Never: an [`InstanceState`] always serializes.
pub fn filter_saved_state(
    fields: &mut BTreeMap<String, String>,
    state_key: &str,
    legacy_key: &str,
) -> Option<StateError> {
    let (state, err) = if let Some(json) = fields.get(state_key) {
        match load_v2(json) {
            Ok(_) => return None,
            Err(err) => (set_aside(json, &err), Some(err)),
        }
    } else if let Some(json) = fields.get(legacy_key) {
        match load_v1(json) {
            Ok(log) => (upgrade_v1(log), None),
            Err(err) => (set_aside(json, &err), Some(err)),
        }
    } else {
        return None;
    };
    fields.remove(legacy_key);
    fields.insert(
        state_key.to_owned(),
        serde_json::to_string(&state).expect("an InstanceState always serializes"),
    );
    err
}

/// Entry point for the fuzzer (`fuzz/`) and its regression tests: any bytes as the JSON of a
/// DAW project's saved Liner Notes fields. Loading never fails and never panics, and what it
/// leaves is a state this version reads.
#[doc(hidden)]
pub fn fuzz_saved_state(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let fields: BTreeMap<String, String> = match serde_json::from_str(text) {
        Ok(f) => f,
        // Not a map: as the state field itself, and as the old capture log.
        Err(_) => BTreeMap::from([("instance".to_owned(), text.to_owned())]),
    };
    for mut f in [
        fields.clone(),
        BTreeMap::from([("capture".to_owned(), text.to_owned())]),
    ] {
        filter_saved_state(&mut f, "instance", "capture");
        if let Some(json) = f.get("instance") {
            let state: InstanceState =
                serde_json::from_str(json).expect("a filtered state always reads");
            let _ = state.next_numbers();
        }
    }
}

fn set_aside(raw: &str, err: &StateError) -> InstanceState {
    InstanceState {
        set_aside: Some(SetAside {
            error: err.to_string(),
            raw: raw.to_owned(),
        }),
        ..InstanceState::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(key: &str, json: &str) -> BTreeMap<String, String> {
        BTreeMap::from([(key.to_owned(), json.to_owned())])
    }

    fn loaded(f: &BTreeMap<String, String>) -> InstanceState {
        serde_json::from_str(&f["instance"]).unwrap()
    }

    #[test]
    fn a_version_1_capture_log_becomes_record_events_with_the_same_ids() {
        let id = Uuid::now_v7();
        let v1 = format!(
            r#"{{"version":1,"events":[{{"id":"{id}","at_ms":1700000000000,"kind":"take_started","take":4,"pos":{{"samples":10,"seconds":null,"beats":null,"bar":2,"beat":1.5,"bar_start_beats":null,"tempo":120.0,"time_sig":[4,4],"playing":true,"recording":true}}}}],"dropped":2}}"#
        );
        let mut f = fields("capture", &v1);
        assert!(filter_saved_state(&mut f, "instance", "capture").is_none());
        assert!(!f.contains_key("capture"));
        let state = loaded(&f);
        assert_eq!(state.version, STATE_VERSION);
        assert_eq!(state.dropped, 2);
        let e = &state.events[0];
        assert_eq!(e.id, id);
        assert_eq!(e.at, 1_700_000_000_000);
        assert_eq!(
            e.body,
            Body::TakeStarted {
                take: TakeRef {
                    instance: state.instance,
                    number: 4
                }
            }
        );
        assert_eq!(e.pos.unwrap().bar, Some(2));
        assert_eq!(state.next_numbers().0, 5);
    }

    #[test]
    fn migrating_the_same_log_twice_gives_identical_events() {
        let v1 = format!(
            r#"{{"version":1,"events":[{{"id":"{}","at_ms":5,"kind":"mark","mark":1,"pos":{{"samples":null,"seconds":null,"beats":null,"bar":null,"beat":null,"bar_start_beats":null,"tempo":null,"time_sig":null,"playing":false,"recording":false}}}}]}}"#,
            Uuid::now_v7()
        );
        let once = |json: &str| {
            let mut f = fields("capture", json);
            filter_saved_state(&mut f, "instance", "capture");
            loaded(&f)
        };
        let (a, b) = (once(&v1), once(&v1));
        assert_eq!(a.instance, b.instance);
        assert_eq!(a.events, b.events);
        assert_eq!(a.events[0].author, "unknown");
    }

    #[test]
    fn unversioned_logs_migrate_too() {
        let mut f = fields("capture", r#"{"events":[],"dropped":3}"#);
        assert!(filter_saved_state(&mut f, "instance", "capture").is_none());
        assert_eq!(loaded(&f).dropped, 3);
    }

    #[test]
    fn garbage_and_future_versions_are_set_aside_verbatim() {
        for (key, json, want) in [
            ("instance", "{nope", "not valid"),
            ("instance", r#"{"version":99}"#, "newer version"),
            (
                "capture",
                r#"{"version":1,"events":[{"kind":"bogus"}]}"#,
                "not valid",
            ),
        ] {
            let mut f = fields(key, json);
            let err = filter_saved_state(&mut f, "instance", "capture").unwrap();
            assert!(err.to_string().contains(want), "{err}");
            let state = loaded(&f);
            assert!(state.events.is_empty());
            let aside = state.set_aside.unwrap();
            assert_eq!(aside.raw, json);
            assert!(aside.error.contains(want));
        }
    }

    #[test]
    fn a_current_state_passes_through_untouched() {
        let state = InstanceState::new();
        let json = serde_json::to_string(&state).unwrap();
        let mut f = fields("instance", &json);
        assert!(filter_saved_state(&mut f, "instance", "capture").is_none());
        assert_eq!(f["instance"], json);
    }
}

//! This instance's captured events as they are saved inside the DAW project.
//!
//! The worker turns each audio-thread [`CaptureEvent`] into a [`CapturedEvent`] (adding its
//! identity and wall-clock time) and appends it to the instance's [`CaptureLog`], which is a
//! `#[persist]` field: the DAW saves it with the project and restores it on load.
//!
//! The format is versioned by [`CaptureLog::version`]. Fields added later must be optional so
//! that a project saved by this version still loads.

use crate::capture::{CaptureEvent, CaptureKind};
use crate::playhead::Position;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The current version of the saved capture log.
pub const CAPTURE_LOG_VERSION: u32 = 1;

/// One event, with identity and wall-clock time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapturedEvent {
    /// UUIDv7: unique, and sorts by creation time.
    pub id: Uuid,
    /// Wall clock (UTC), milliseconds since the Unix epoch, when the worker took the event off
    /// the audio queue (at most one worker poll interval after it happened).
    pub at_ms: i64,
    #[serde(flatten)]
    pub kind: CapturedKind,
    /// The DAW position where it happened.
    pub pos: Position,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CapturedKind {
    TransportStarted,
    TransportStopped,
    TakeStarted { take: u32 },
    TakeEnded { take: u32 },
    Mark { mark: u32 },
}

impl From<CaptureKind> for CapturedKind {
    fn from(k: CaptureKind) -> Self {
        match k {
            CaptureKind::TransportStarted => CapturedKind::TransportStarted,
            CaptureKind::TransportStopped => CapturedKind::TransportStopped,
            CaptureKind::TakeStarted { take } => CapturedKind::TakeStarted { take },
            CaptureKind::TakeEnded { take } => CapturedKind::TakeEnded { take },
            CaptureKind::Mark { mark } => CapturedKind::Mark { mark },
        }
    }
}

impl CapturedEvent {
    pub fn from_capture(ev: CaptureEvent, at_ms: i64) -> Self {
        CapturedEvent {
            id: Uuid::now_v7(),
            at_ms,
            kind: ev.kind.into(),
            pos: ev.position(),
        }
    }
}

/// Everything this instance captured, in capture order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaptureLog {
    pub version: u32,
    pub events: Vec<CapturedEvent>,
    /// Events the audio thread had to drop because the queue to the worker was full.
    #[serde(default)]
    pub dropped: u64,
    /// Saved data this version could not read, kept verbatim so that saving the project again
    /// does not destroy it (a newer plugin version may read it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_aside: Option<SetAside>,
}

/// Saved capture data that could not be loaded, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetAside {
    pub error: String,
    pub raw: String,
}

impl Default for CaptureLog {
    fn default() -> Self {
        CaptureLog {
            version: CAPTURE_LOG_VERSION,
            events: Vec::new(),
            dropped: 0,
            set_aside: None,
        }
    }
}

impl CaptureLog {
    /// The take number the next record pass gets, so numbering continues across sessions.
    pub fn next_take(&self) -> u32 {
        self.events
            .iter()
            .filter_map(|e| match e.kind {
                CapturedKind::TakeStarted { take } | CapturedKind::TakeEnded { take } => Some(take),
                _ => None,
            })
            .max()
            .map_or(1, |t| t.saturating_add(1))
    }

    /// The number the next mark gets.
    pub fn next_mark(&self) -> u32 {
        self.events
            .iter()
            .filter_map(|e| match e.kind {
                CapturedKind::Mark { mark } => Some(mark),
                _ => None,
            })
            .max()
            .map_or(1, |m| m.saturating_add(1))
    }
}

/// Why a saved capture log could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("the saved Liner Notes data is not valid JSON ({0}); it was set aside and a fresh log started")]
    Unreadable(serde_json::Error),
    #[error("the saved Liner Notes data is from a newer version (format {0}, this build reads up to {CAPTURE_LOG_VERSION}); update the plugin to see it")]
    TooNew(u32),
}

/// Brings a saved capture log to the current version. Version 0 (no `version` field) is the
/// unversioned shape: the same fields without it.
pub fn migrate(json: &str) -> Result<String, StateError> {
    let mut value: serde_json::Value =
        serde_json::from_str(json).map_err(StateError::Unreadable)?;
    let version = value.get("version").and_then(|v| v.as_u64()).unwrap_or(0) as u32;
    if version > CAPTURE_LOG_VERSION {
        return Err(StateError::TooNew(version));
    }
    if version == 0 {
        if let Some(obj) = value.as_object_mut() {
            obj.insert("version".into(), CAPTURE_LOG_VERSION.into());
            obj.entry("events").or_insert_with(|| serde_json::json!([]));
        }
    }
    // Validate the whole shape now rather than failing later inside the wrapper.
    let log: CaptureLog = serde_json::from_value(value).map_err(StateError::Unreadable)?;
    Ok(serde_json::to_string(&log).expect("a CaptureLog always serializes"))
}

/// What the plugin loads for a saved capture log: the migrated log, or a fresh log that keeps
/// the unreadable data set aside. Never fails, so a bad project never stops the host.
pub fn migrate_or_set_aside(json: &str) -> (String, Option<StateError>) {
    match migrate(json) {
        Ok(migrated) => (migrated, None),
        Err(err) => {
            let log = CaptureLog {
                set_aside: Some(SetAside {
                    error: err.to_string(),
                    raw: json.to_owned(),
                }),
                ..CaptureLog::default()
            };
            let fresh = serde_json::to_string(&log).expect("a CaptureLog always serializes");
            (fresh, Some(err))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::playhead::HostTransport;

    #[test]
    fn unversioned_logs_migrate_to_the_current_version() {
        let migrated = migrate(r#"{"events":[],"dropped":3}"#).unwrap();
        let log: CaptureLog = serde_json::from_str(&migrated).unwrap();
        assert_eq!(log.version, CAPTURE_LOG_VERSION);
        assert_eq!(log.dropped, 3);
    }

    #[test]
    fn garbage_and_future_versions_are_reported_not_loaded() {
        assert!(matches!(migrate("{nope"), Err(StateError::Unreadable(_))));
        assert!(matches!(
            migrate(r#"{"version":99,"events":[]}"#),
            Err(StateError::TooNew(99))
        ));
        assert!(matches!(
            migrate(r#"{"version":1,"events":[{"kind":"bogus"}]}"#),
            Err(StateError::Unreadable(_))
        ));
    }

    #[test]
    fn unreadable_logs_are_kept_verbatim_beside_a_fresh_log() {
        let (json, err) = migrate_or_set_aside("{not json");
        assert!(err.is_some());
        let log: CaptureLog = serde_json::from_str(&json).unwrap();
        assert!(log.events.is_empty());
        let aside = log.set_aside.unwrap();
        assert_eq!(aside.raw, "{not json");
        assert!(aside.error.contains("not valid JSON"), "{}", aside.error);
    }

    #[test]
    fn numbering_continues_after_saved_events() {
        let mut log = CaptureLog::default();
        assert_eq!((log.next_take(), log.next_mark()), (1, 1));
        for kind in [
            CaptureKind::TakeStarted { take: 4 },
            CaptureKind::TakeEnded { take: 4 },
            CaptureKind::Mark { mark: 9 },
        ] {
            log.events.push(CapturedEvent::from_capture(
                CaptureEvent {
                    kind,
                    at: HostTransport::default(),
                    advance: 0,
                },
                0,
            ));
        }
        assert_eq!((log.next_take(), log.next_mark()), (5, 10));
        let json = serde_json::to_string(&log).unwrap();
        assert!(json.contains(r#""kind":"take_started","take":4"#), "{json}");
        assert_eq!(serde_json::from_str::<CaptureLog>(&json).unwrap(), log);
    }
}

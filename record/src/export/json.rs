//! JSON: the events themselves (exactly the record's format, see [`crate::event`]) plus the
//! folded views, for other programs. `import_json` reads an export back into events;
//! exporting those again gives the same bytes. An export made by the server also carries the
//! audit trail under `"received"`: per event id, when the server received it and the token
//! (id, person, role) that pushed it.

use super::Scope;
use crate::event::{Event, Role};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// How the server received one event (its audit trail).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Received {
    /// Server time, UTC ms.
    pub received_at: i64,
    /// The id of the token that pushed it; absent for an administrator's import.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
}

/// Marks the file so an import knows what it reads. Never change.
const FORMAT: &str = "liner-notes-export";
const VERSION: u32 = 1;

#[derive(Deserialize)]
struct ExportIn {
    format: String,
    version: u32,
    events: Vec<Event>,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("not a Liner Notes export: {0}")]
    Json(#[from] serde_json::Error),
    #[error("not a Liner Notes export (format {0:?})")]
    WrongFormat(String),
    #[error(
        "export format version {0} is newer than this build reads ({VERSION}); update Liner Notes"
    )]
    TooNew(u32),
}

/// The events `scope` selects (by song, session, time and author of each event; private
/// notes only when asked), in (at, id) order, and their views.
/// With `received` non-empty, the audit trail of the exported events follows the views.
pub fn export_json(
    events: &[Event],
    scope: &Scope,
    received: &BTreeMap<Uuid, Received>,
) -> Vec<u8> {
    let by_id: std::collections::HashMap<Uuid, &Event> = events.iter().map(|e| (e.id, e)).collect();
    let lookup = |id: Uuid| by_id.get(&id).map(|e| (*e).clone());
    let mut chosen: Vec<&Event> = events
        .iter()
        .filter(|e| {
            // Private notes and everything about them (edits, verdicts, replies, clips).
            let private = !scope.include_private && crate::rules::is_private(e, &lookup);
            !private
                && scope.song.as_deref().is_none_or(|s| s == e.song)
                && scope.session.is_none_or(|s| s == e.session)
                && scope.author.as_deref().is_none_or(|a| a == e.author)
                && scope.since_ms.is_none_or(|t| e.at >= t)
                && scope.until_ms.is_none_or(|t| e.at < t)
        })
        .collect();
    chosen.sort_by_key(|e| (e.at, e.id));
    chosen.dedup_by_key(|e| e.id);
    let views = crate::views::fold(chosen.iter().copied());
    // One event per line: readable, diffable, and still one JSON document.
    let mut out = format!("{{\"format\":\"{FORMAT}\",\"version\":{VERSION},\"events\":[");
    for (i, e) in chosen.iter().enumerate() {
        out.push_str(if i == 0 { "\n" } else { ",\n" });
        out.push_str(&e.to_json());
    }
    out.push_str("\n],\"views\":");
    out.push_str(&serde_json::to_string(&views).expect("views always serialize"));
    if !received.is_empty() {
        let trail: BTreeMap<&Uuid, &Received> = chosen
            .iter()
            .filter_map(|e| received.get_key_value(&e.id))
            .collect();
        out.push_str(",\"received\":");
        out.push_str(&serde_json::to_string(&trail).expect("receipts always serialize"));
    }
    out.push_str("}\n");
    out.into_bytes()
}

/// Reads the events back from a JSON export.
///
/// # Errors
/// Bytes that are not a JSON export of this format, or events in it that do not read.
pub fn import_json(bytes: &[u8]) -> Result<Vec<Event>, ImportError> {
    let parsed: ExportIn = serde_json::from_slice(bytes)?;
    if parsed.format != FORMAT {
        return Err(ImportError::WrongFormat(parsed.format));
    }
    if parsed.version > VERSION {
        return Err(ImportError::TooNew(parsed.version));
    }
    Ok(parsed.events)
}

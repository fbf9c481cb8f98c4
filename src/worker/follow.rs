//! Following the journal for open editors: the records they watch are kept up to date with
//! their journals (which other instances, other processes and the sync also append to), folded,
//! and published as snapshots; the editors whose record changed are woken.

use super::drain::Slot;
use super::Shared;
use crate::record_view::RecordCache;
use std::collections::HashMap;
use std::sync::Arc;

/// Brings the records that open editors watch up to date with their journals (which other
/// instances, other processes and the sync thread also append to) and wakes the editors whose
/// record changed. Records nobody watches are dropped.
pub(super) fn refresh_records(slots: &[Arc<Slot>], shared: &Shared) {
    let mut watched: HashMap<String, Vec<&Arc<Slot>>> = HashMap::new();
    for slot in slots {
        if !slot.watchers.lock().is_empty() {
            watched.entry(slot.project()).or_default().push(slot);
        }
    }
    let mut records = shared.records.lock();
    records.retain(|project, _| watched.contains_key(project));
    shared
        .snapshots
        .lock()
        .retain(|project, _| watched.contains_key(project));
    for (project, watchers) in watched {
        let journal = match shared.journal(&project) {
            Ok(j) => j,
            Err(e) => {
                shared.journals.lock().note_error(e);
                continue;
            }
        };
        let cache = records
            .entry(project.clone())
            .or_insert_with(RecordCache::new);
        match cache.refresh(&journal) {
            Ok(true) => {
                let snap = cache.snapshot.clone();
                shared.snapshots.lock().insert(project, snap);
                watchers.iter().for_each(|s| s.wake_watchers());
            }
            Ok(false) => {}
            Err(e) => shared.journals.lock().note_error(e.to_string()),
        }
    }
}

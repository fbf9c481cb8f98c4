//! The steps of a sync round that every syncer takes the same way: the plugin's long-lived
//! sync threads (which share a [`TargetSync`] behind a lock and send without holding it) and
//! the one-off rounds of [`sync_once`] (`liner sync`, tests). A syncer passes what it does with
//! each answer; the order of requests, what stops a round, and the project check live here.

use super::target::{batches, SyncReport, TargetSync};
use super::versions::{send_version, PendingVersion, VersionSent, VersionUpload};
use super::{ClipSent, Pushed, SyncClient, SyncError};
use crate::clips::{Clip, ClipStore};
use crate::journal::{Journal, StoredEvent};
use crate::outbox::Identity;
use crate::versions::VersionStore;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Who the token speaks for, as the server says (`GET /api/v1/me`).
///
/// # Errors
/// The request failed, or the token is for another project than the journal's
/// ([`SyncError::WrongProject`]: nothing may be sent then).
pub fn identify(client: &SyncClient, project: &str) -> Result<Identity, SyncError> {
    let me = client.me()?;
    if me.project != project {
        return Err(SyncError::WrongProject {
            token: me.project,
            journal: project.to_owned(),
        });
    }
    Ok(me)
}

/// Sends `ready` in request-sized batches, in journal order, handing each batch's answers to
/// `apply` before the next goes (a syncer that shares its target locks it only there).
///
/// # Errors
/// The first request that failed, or what `apply` returned; later batches are not sent.
pub fn push_ready(
    client: &SyncClient,
    ready: &[&StoredEvent],
    mut apply: impl FnMut(Vec<(Uuid, Pushed)>) -> Result<(), SyncError>,
) -> Result<(), SyncError> {
    for batch in batches(ready) {
        apply(client.push(&batch)?)?;
    }
    Ok(())
}

/// Sends the clips one at a time, handing each answer to `apply`, which says whether to go
/// on (a project over its quota stops the rest until later). Returns whether every clip had
/// its turn.
///
/// # Errors
/// The first request that failed, or what `apply` returned.
pub fn send_clips_in_turn(
    client: &SyncClient,
    store: &ClipStore,
    pending: Vec<Clip>,
    mut apply: impl FnMut(&Clip, Option<ClipSent>) -> Result<bool, SyncError>,
) -> Result<bool, SyncError> {
    for clip in pending {
        let sent = send_clip(client, store, &clip)?;
        if !apply(&clip, sent)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Sends the versions one at a time ([`send_version`]) until `deadline` (`None`: all of
/// them), handing each outcome to `apply`, which says whether to go on (a paused upload, a
/// full quota or an event the server lacks stop the rest until later); `progress` hears how
/// far the version being sent has got. Returns whether every version had its whole turn.
///
/// # Errors
/// The first request that failed, or what `apply` returned.
pub fn send_versions_in_turn(
    client: &SyncClient,
    store: &VersionStore,
    pending: Vec<PendingVersion>,
    deadline: Option<Instant>,
    progress: &mut dyn FnMut(&VersionUpload),
    mut apply: impl FnMut(&PendingVersion, VersionSent) -> Result<bool, SyncError>,
) -> Result<bool, SyncError> {
    for version in pending {
        let sent = send_version(client, store, &version, deadline, progress)?;
        if !apply(&version, sent)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Reads `clip` from `store` and sends it; `None` when this journal lacks it, its bytes
/// changed on disk, or it cannot be read (nothing to send: one unreadable file must not stop
/// every round).
///
/// # Errors
/// The request failed ([`SyncError`]).
pub fn send_clip(
    client: &SyncClient,
    store: &ClipStore,
    clip: &Clip,
) -> Result<Option<ClipSent>, SyncError> {
    match store.get(clip) {
        Ok(Some(bytes)) => Ok(Some(client.put_clip(&clip.hash, bytes)?)),
        Ok(None) | Err(_) => Ok(None),
    }
}

/// One round for the journal of `project` with the server `client` talks to: learn who the
/// token speaks for, push what is ready (refusals set aside, the rest goes on) and the clips
/// and versions (all of them, no time budget) of what the server has, then pull
/// what is new (waiting up to `wait` for the first page). A push that fails still lets the
/// pull run (unless the server is unreachable or sync was stopped); the push's error is
/// returned after it. Reads the journal once: for one-off syncs (`liner sync`, tests); a
/// long-lived syncer keeps its [`TargetSync`].
///
/// # Errors
/// The first failure that ends the round (the server unreachable, the token refused,
/// the journal unwritable); a push that failed still lets the pull run.
pub fn sync_once(
    journal: &Journal,
    project: &str,
    client: &SyncClient,
    wait: Duration,
) -> Result<SyncReport, SyncError> {
    let me = identify(client, project)?;
    let mut target = TargetSync::open(journal, client.base(), project)?;
    let mut report = SyncReport::new(me);
    let pushed = target
        .push(client, &mut report)
        .and_then(|()| target.push_clips(client, &mut report))
        .and_then(|()| target.push_versions(client, None, &mut report));
    if let Err(e @ (SyncError::Cancelled | SyncError::Unreachable(_) | SyncError::BadToken)) =
        pushed
    {
        return Err(e);
    }
    target.pull(client, wait, &mut report)?;
    pushed?;
    target.refresh()?;
    report.waiting = target.waiting(&report.me);
    Ok(report)
}

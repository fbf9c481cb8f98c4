//! One server's sync of one journal, kept in memory between rounds so that a round costs the
//! events that are new: the journal is read once when the target opens, then only what was
//! appended since (`Journal::read_since`). What the server acknowledged and where its events
//! were read up to live in the target's own files ([`SyncFiles`]).
//!
//! Pushing and pulling are separate steps with the network calls outside any borrow of the
//! state ([`TargetSync::prepare_push`] / [`TargetSync::apply_pushed`],
//! [`TargetSync::cursor`] / [`TargetSync::apply_pulled`]), so a syncer can push while its
//! long poll waits.

use super::steps::{push_ready, send_clips_in_turn, send_versions_in_turn};
use super::versions::{PendingVersion, VersionSent};
use super::{ClipSent, Pulled, Pushed, SyncClient, SyncError, PULL_PAGE, PUSH_BATCH, PUSH_BYTES};
use crate::clips::{Clip, ClipHash, ClipStore};
use crate::event::{Body, Event};
use crate::journal::{Aside, Journal, JournalError, StoredEvent, SyncFiles};
use crate::outbox::{sort, Identity, Waiting};
use crate::versions::VersionStore;
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// What one round of sync did.
#[derive(Debug, Clone)]
pub struct SyncReport {
    /// Who the token speaks for.
    pub me: Identity,
    /// Events the server now has that it did not acknowledge before.
    pub pushed: usize,
    /// Events the server refused this round, with its words; set aside in the journal.
    pub refused: Vec<(Uuid, String)>,
    /// Events that wait for someone, and why: refused, brought in from a project file, made
    /// under another name, or never to go with this token (see [`crate::outbox`]).
    pub waiting: Vec<(StoredEvent, Waiting)>,
    /// Events received from others and appended.
    pub pulled: usize,
    /// Pulled events that could not be journaled, set aside this round.
    pub unreadable: usize,
    /// Clips the server took this round.
    pub clips_sent: usize,
    /// Why clips wait (the project's quota on the server is full), in words for people.
    pub clip_problem: Option<String>,
    /// Versions the server took whole this round.
    pub versions_sent: usize,
    /// Why versions wait (the quota is full) or one was refused, in words for people.
    pub version_problem: Option<String>,
    /// An upload stopped at its time budget with chunks still to send: the next round goes
    /// on at once.
    pub version_paused: bool,
}

impl SyncReport {
    pub fn new(me: Identity) -> Self {
        SyncReport {
            me,
            pushed: 0,
            refused: Vec::new(),
            waiting: Vec::new(),
            pulled: 0,
            unreadable: 0,
            clips_sent: 0,
            clip_problem: None,
            versions_sent: 0,
            version_problem: None,
            version_paused: false,
        }
    }
}

/// `ready` in push requests of at most [`PUSH_BATCH`] events and [`PUSH_BYTES`] bytes.
pub fn batches<'a>(ready: &[&'a StoredEvent]) -> Vec<Vec<&'a StoredEvent>> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < ready.len() {
        let (mut end, mut bytes) = (start, 0);
        while end < ready.len()
            && end - start < PUSH_BATCH
            && (end == start || bytes + ready[end].json.len() < PUSH_BYTES)
        {
            bytes += ready[end].json.len() + 1;
            end += 1;
        }
        out.push(ready[start..end].to_vec());
        start = end;
    }
    out
}

/// One server's view of one journal.
pub struct TargetSync {
    journal: Journal,
    files: SyncFiles,
    project: String,
    /// Bytes of `events.log` already read.
    offset: u64,
    /// The server's cursor (its last sequence number this journal holds).
    cursor: u64,
    /// Every event id in the journal (pulled events are added once).
    known: HashSet<Uuid>,
    /// Ids the server acknowledged.
    acked: HashSet<Uuid>,
    /// Private notes: they, their edits and deletions never leave this computer.
    private: HashSet<Uuid>,
    /// Journal events the server has not acknowledged, private ones left out, in order.
    unsent: Vec<StoredEvent>,
    /// `aside.log` as last read, and its length then.
    aside: HashMap<Uuid, Aside>,
    aside_len: u64,
    /// Clips of this journal that may go to the server: their event's id, their target's.
    clips: Vec<(Uuid, Uuid, Clip)>,
    /// Notes deleted here: their clips do not go (not even when the note already went).
    withdrawn: HashSet<Uuid>,
    /// Hashes the server has ([`SyncFiles::clips_sent`]), and those it refused for good or
    /// this journal lacks (not tried again while the target is open).
    clips_sent: HashSet<ClipHash>,
    clips_skipped: HashSet<ClipHash>,
    /// Versions of this journal (any may go: a version is never private).
    versions: Vec<PendingVersion>,
    /// Hashes the server holds whole ([`SyncFiles::versions_sent`]), and those it refused
    /// for good or this journal lacks (not tried again while the target is open).
    versions_sent: HashSet<ClipHash>,
    versions_skipped: HashSet<ClipHash>,
}

impl TargetSync {
    /// Opens the sync of `journal` with the server at `url` for `project`: reads the journal
    /// and the server's acknowledgements once.
    ///
    /// # Errors
    /// [`JournalError`] when the journal or this server's sync files cannot be read or
    /// written.
    pub fn open(journal: &Journal, url: &str, project: &str) -> Result<Self, JournalError> {
        let files = journal.sync_files(url, project)?;
        let clips_sent = files.clips_sent()?;
        let versions_sent = files.versions_sent()?;
        let mut t = TargetSync {
            journal: journal.clone(),
            acked: files.acked()?,
            cursor: files.last_seq()?,
            files,
            project: project.to_owned(),
            offset: 0,
            known: HashSet::new(),
            private: HashSet::new(),
            unsent: Vec::new(),
            aside: HashMap::new(),
            aside_len: u64::MAX,
            clips: Vec::new(),
            withdrawn: HashSet::new(),
            clips_sent,
            clips_skipped: HashSet::new(),
            versions: Vec::new(),
            versions_sent,
            versions_skipped: HashSet::new(),
        };
        t.refresh()?;
        Ok(t)
    }

    pub fn project(&self) -> &str {
        &self.project
    }

    /// Takes in what the journal gained since the last look, and `aside.log` if it changed.
    ///
    /// # Errors
    /// [`JournalError`] when the journal or this server's sync files cannot be read or
    /// written.
    pub fn refresh(&mut self) -> Result<(), JournalError> {
        let (events, _unreadable, end) = self.journal.read_since(self.offset)?;
        self.offset = end;
        for e in events {
            if !self.known.insert(e.id) {
                continue; // a repeated line
            }
            let private = match &e.event.body {
                Body::NoteAdded(n) => n.private,
                Body::NoteEdited(edit) => self.private.contains(&edit.note),
                Body::NoteDeleted { note } => self.private.contains(note),
                Body::ClipAttached(c) => c.private || self.private.contains(&c.target),
                _ => false,
            };
            if private {
                self.private.insert(e.id);
                continue;
            }
            match &e.event.body {
                Body::ClipAttached(c) => self.clips.push((e.id, c.target, c.clip.clone())),
                Body::VersionPrinted(v) => self.versions.push(PendingVersion {
                    event: e.id,
                    song: e.event.song.clone(),
                    label: v.label.clone(),
                    version: v.version.clone(),
                }),
                Body::NoteDeleted { note } => {
                    self.withdrawn.insert(*note);
                }
                _ => {}
            }
            if !self.acked.contains(&e.id) {
                self.unsent.push(e);
            }
        }
        let len = self.journal.aside_len();
        if len != self.aside_len {
            self.aside = self.journal.aside()?;
            self.aside_len = len;
        }
        Ok(())
    }

    /// What goes out now for a token speaking for `me` (after a refresh), copied: for a
    /// syncer that sends without holding the target ([`TargetSync::push`] copies nothing).
    ///
    /// # Errors
    /// [`JournalError`] when the journal or this server's sync files cannot be read or
    /// written.
    pub fn prepare_push(&mut self, me: &Identity) -> Result<Vec<StoredEvent>, JournalError> {
        self.refresh()?;
        Ok(sort(&self.unsent, &self.aside, me)
            .ready
            .into_iter()
            .cloned()
            .collect())
    }

    /// What waits for someone, as of now.
    pub fn waiting(&self, me: &Identity) -> Vec<(StoredEvent, Waiting)> {
        sort(&self.unsent, &self.aside, me)
            .waiting
            .into_iter()
            .map(|(e, w)| (e.clone(), w))
            .collect()
    }

    /// Records what the server did with pushed events: acknowledged (durably, then
    /// forgotten from the unsent), or refused (set aside with its words).
    ///
    /// # Errors
    /// [`JournalError`] when the journal or this server's sync files cannot be read or
    /// written.
    pub fn apply_pushed(
        &mut self,
        results: Vec<(Uuid, Pushed)>,
        report: &mut SyncReport,
    ) -> Result<(), JournalError> {
        let mut acked = Vec::new();
        let mut refused = Vec::new();
        for (id, outcome) in results {
            match outcome {
                Pushed::Acked => acked.push(id),
                Pushed::Refused { code, reason } => {
                    report.refused.push((id, reason.clone()));
                    refused.push((id, Aside::Refused { code, reason }));
                }
            }
        }
        self.files.ack_pushed(&acked)?;
        self.journal.set_aside(&refused)?;
        report.pushed += acked.len();
        self.forget_acked(acked);
        for (id, aside) in refused {
            self.aside.insert(id, aside);
        }
        self.aside_len = self.journal.aside_len();
        Ok(())
    }

    fn forget_acked(&mut self, ids: Vec<Uuid>) {
        if ids.is_empty() {
            return;
        }
        let set: HashSet<Uuid> = ids.iter().copied().collect();
        self.unsent.retain(|e| !set.contains(&e.id));
        self.acked.extend(ids);
    }

    /// Clips whose events the server acknowledged and whose bytes it does not have yet (but
    /// not of a note deleted since).
    pub fn pending_clips(&self) -> Vec<Clip> {
        self.clips
            .iter()
            .filter(|(id, target, c)| {
                self.acked.contains(id)
                    && !self.withdrawn.contains(target)
                    && !self.clips_sent.contains(&c.hash)
                    && !self.clips_skipped.contains(&c.hash)
            })
            .map(|(_, _, c)| c.clone())
            .collect()
    }

    /// Where this journal keeps its clips.
    pub fn clip_store(&self) -> ClipStore {
        ClipStore::of_journal(self.journal.dir())
    }

    /// Records what became of a clip sent (or found missing here: `None`). Returns false when
    /// the rest should wait (the quota is full, or the server has not the event yet).
    ///
    /// # Errors
    /// [`JournalError`] when the journal or this server's sync files cannot be read or
    /// written.
    pub fn apply_clip_sent(
        &mut self,
        clip: &Clip,
        sent: Option<ClipSent>,
        report: &mut SyncReport,
    ) -> Result<bool, JournalError> {
        match sent {
            Some(ClipSent::Stored) => {
                self.files.clip_sent(&clip.hash)?;
                self.clips_sent.insert(clip.hash.clone());
                report.clips_sent += 1;
                Ok(true)
            }
            Some(ClipSent::NotYet) => Ok(false),
            Some(ClipSent::OverQuota(words)) => {
                report.clip_problem = Some(words);
                Ok(false)
            }
            Some(ClipSent::Refused(words)) => {
                // Not tried again while the target is open; said, so nobody waits for it.
                report.clip_problem = Some(format!("the server refused a clip: {words}"));
                self.clips_skipped.insert(clip.hash.clone());
                Ok(true)
            }
            None => {
                self.clips_skipped.insert(clip.hash.clone());
                Ok(true)
            }
        }
    }

    /// Sends the clips the server lacks, one by one, until one has to wait (a syncer that
    /// shares the target sends each with [`send_clip`] and records it under its lock).
    ///
    /// # Errors
    /// [`JournalError`] when the journal or this server's sync files cannot be read or
    /// written; [`SyncError`] for a failed request.
    pub fn push_clips(
        &mut self,
        client: &SyncClient,
        report: &mut SyncReport,
    ) -> Result<(), SyncError> {
        let (store, pending) = (self.clip_store(), self.pending_clips());
        send_clips_in_turn(client, &store, pending, |clip, sent| {
            Ok(self.apply_clip_sent(clip, sent, report)?)
        })
        .map(|_| ())
    }

    /// Versions whose events the server acknowledged and that it does not hold whole yet
    /// (each hash once).
    pub fn pending_versions(&self) -> Vec<PendingVersion> {
        let mut seen = HashSet::new();
        self.versions
            .iter()
            .filter(|v| {
                let h = &v.version.hash;
                self.acked.contains(&v.event)
                    && !self.versions_sent.contains(h)
                    && !self.versions_skipped.contains(h)
                    && seen.insert(h.clone())
            })
            .cloned()
            .collect()
    }

    /// Where this journal keeps its versions.
    pub fn version_store(&self) -> VersionStore {
        VersionStore::of_journal(self.journal.dir())
    }

    /// Records where a version's upload stands after its turn. Returns false when the rest
    /// should wait (its turn ended, the quota is full, or the server has not the event yet).
    ///
    /// # Errors
    /// [`JournalError`] when this server's sync files cannot be written.
    pub fn apply_version_sent(
        &mut self,
        v: &PendingVersion,
        sent: VersionSent,
        report: &mut SyncReport,
    ) -> Result<bool, JournalError> {
        let hash = &v.version.hash;
        match sent {
            VersionSent::Complete => {
                self.files.version_sent(hash)?;
                self.versions_sent.insert(hash.clone());
                report.versions_sent += 1;
                Ok(true)
            }
            VersionSent::Paused => {
                report.version_paused = true;
                Ok(false)
            }
            VersionSent::NotYet => Ok(false),
            VersionSent::OverQuota(words) => {
                report.version_problem = Some(words);
                Ok(false)
            }
            VersionSent::Refused(words) => {
                report.version_problem = Some(format!(
                    "the server refused the version {:?} of {:?}: {words}",
                    v.label, v.song
                ));
                self.versions_skipped.insert(hash.clone());
                Ok(true)
            }
            VersionSent::Missing => {
                self.versions_skipped.insert(hash.clone());
                Ok(true)
            }
        }
    }

    /// Sends the versions the server lacks, one by one, until `deadline` (`None`: all of
    /// them) or until one has to wait (a syncer that shares the target sends each with
    /// [`super::send_version`] and records it under its lock).
    ///
    /// # Errors
    /// [`JournalError`] when this server's sync files cannot be written; [`SyncError`] for a
    /// failed request.
    pub fn push_versions(
        &mut self,
        client: &SyncClient,
        deadline: Option<Instant>,
        report: &mut SyncReport,
    ) -> Result<(), SyncError> {
        let (store, pending) = (self.version_store(), self.pending_versions());
        send_versions_in_turn(client, &store, pending, deadline, &mut |_| {}, |v, sent| {
            Ok(self.apply_version_sent(v, sent, report)?)
        })
        .map(|_| ())
    }

    /// The server's cursor: pull after this.
    pub fn cursor(&self) -> u64 {
        self.cursor
    }

    /// Appends pulled events the journal does not have (in canonical form), sets aside those
    /// that are not readable events of the project, acknowledges those not acknowledged yet,
    /// then moves the cursor to `last`.
    ///
    /// # Errors
    /// [`JournalError`] when the journal or this server's sync files cannot be read or
    /// written.
    pub fn apply_pulled(
        &mut self,
        pulled: Vec<Pulled>,
        last: u64,
        report: &mut SyncReport,
    ) -> Result<(), JournalError> {
        let mut new = Vec::new();
        let mut unreadable = Vec::new();
        let mut to_ack = Vec::new();
        let page = pulled.len();
        for p in pulled {
            let read = Event::canonical(&p.raw)
                .map_err(|e| format!("not an event this version can read: {e}"))
                .and_then(|(event, line)| {
                    if event.project == self.project {
                        Ok((event.id, line))
                    } else {
                        Err(format!(
                            "it belongs to project {:?}, not {:?}",
                            event.project, self.project
                        ))
                    }
                });
            match read {
                Ok((id, line)) => {
                    if self.known.insert(id) {
                        new.push((id, line));
                    }
                    // Our own events coming back are acknowledged already: no second ack.
                    if !self.acked.contains(&id) {
                        to_ack.push(id);
                    }
                }
                Err(reason) => unreadable.push((
                    Uuid::now_v7(),
                    Aside::Unreadable {
                        seq: p.seq,
                        reason,
                        raw: p.raw,
                    },
                )),
            }
        }
        // Durable first, then acknowledged, then the cursor moves past them. A push's
        // acknowledgements are not flushed when written; once the cursor passes our own
        // events no pull brings them back, so they are flushed now (a durable ack flushes
        // the whole file).
        self.journal.append_json(&new)?;
        self.journal.set_aside(&unreadable)?;
        if !to_ack.is_empty() {
            self.files.ack(&to_ack)?;
        } else if page > 0 {
            // Only our own events came back (or unreadable ones, which may be ours too, from
            // a newer version sharing the journal).
            self.files.flush_acks()?;
        }
        report.pulled += new.len();
        report.unreadable += unreadable.len();
        self.forget_acked(to_ack);
        if last > self.cursor {
            self.files.set_last_seq(last)?;
            self.cursor = last;
        }
        Ok(())
    }

    /// Pushes what is ready ([`batches`]), recording each request's answer before the next.
    ///
    /// # Errors
    /// [`JournalError`] when the journal or this server's sync files cannot be read or
    /// written; [`SyncError`] for a failed request.
    pub fn push(&mut self, client: &SyncClient, report: &mut SyncReport) -> Result<(), SyncError> {
        self.refresh()?;
        // Sent straight from the unsent lines, which are set apart meanwhile (answers only
        // add to what is acknowledged or set aside) and put back without what was taken.
        // Put back even if a step panics, so a syncer that survives it still sends them.
        let unsent = std::mem::take(&mut self.unsent);
        let ready = sort(&unsent, &self.aside, &report.me).ready;
        let pushed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            push_ready(client, &ready, |results| {
                Ok(self.apply_pushed(results, report)?)
            })
        }));
        self.unsent = unsent;
        self.unsent.retain(|e| !self.acked.contains(&e.id));
        pushed.unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    }

    /// Pulls page by page until caught up; only the first request waits (up to `wait`).
    ///
    /// # Errors
    /// [`JournalError`] when the journal or this server's sync files cannot be read or
    /// written; [`SyncError`] for a failed request.
    pub fn pull(
        &mut self,
        client: &SyncClient,
        wait: Duration,
        report: &mut SyncReport,
    ) -> Result<(), SyncError> {
        let mut wait = wait;
        loop {
            let (events, last, more) = client.pull(self.cursor, wait)?;
            wait = Duration::ZERO;
            let page = events.len();
            self.apply_pulled(events, last, report)?;
            if page < PULL_PAGE && !more {
                return Ok(());
            }
        }
    }
}

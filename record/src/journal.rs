//! The local journal: every event this machine made or received, durable, per project.
//!
//! # Guarantees
//!
//! - **Captured means durable.** [`Journal::append`] returns after the events are written and
//!   `fsync`ed. Until then an event may be lost in a crash; after, it survives a power cut.
//! - **Many writers.** Any number of [`Journal`] handles, in one process or in several
//!   (Bitwig runs plugins in separate processes), may append at once: each batch is written
//!   under an exclusive `flock` with one `write` to a file opened for appending, so batches
//!   never interleave.
//! - **Group commit.** Appends that arrive while a batch is being written wait for the next
//!   batch and share its `fsync`: a burst of a thousand events from many threads costs a
//!   handful of `fsync`s, and nobody waits longer than one write plus one `fsync` behind the
//!   batch in progress.
//! - **Crash safety.** A writer killed mid-write leaves at most one incomplete line at the
//!   end. Opening reports it (with its byte offset) and keeps everything before; the next
//!   append first ends the torn line so it cannot swallow new events. Any corrupt line (bad
//!   checksum, bad JSON) is reported with its line number and byte offset and skipped; the
//!   rest is read.
//! - **Sync state, per server.** For each server the journal syncs with, in its own folder
//!   (`sync/<server>/`, see [`SyncFiles`]): which events that server acknowledged
//!   (`acks.log`, append-only) and the last sequence number seen from it (`cursor.json`,
//!   replaced atomically). (Version 1 kept one `acks.log` and `cursor.json` beside
//!   `events.log`; they are no longer read: a server's folder starts empty, which costs one
//!   round of re-sent duplicates and re-read events, never a missed one.)
//! - **Held back.** Events kept from the server, and why (`aside.log`, append-only, the last
//!   line per id counts): refused by a server, brought in from a DAW project file and waiting
//!   for the user's agreement, dropped by the user; and pulled events that could not be
//!   journaled. See [`Aside`].
//!
//! # Files
//!
//! The files carry no version number. A change may only add (a new file, a new line kind, a
//! new event kind or field): every line a version wrote stays readable by every later one.
//!
//! A project's journal is a folder (see [`project_dir`]) holding `events.log`, `aside.log`
//! and a `sync/` folder per server; the logs are made of lines `CCCCCCCC ID PAYLOAD\n`: a
//! CRC-32 (8 lowercase hex digits) of everything after the first space, the event's UUID, and
//! for `events.log` the event exactly as made or received (one line of JSON, see
//! [`crate::event`]); `acks.log` lines carry no payload; `aside.log` lines carry an [`Aside`]
//! as JSON.

use crate::event::Event;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use uuid::Uuid;

/// Environment variable that moves all Liner Notes data (journals included) elsewhere.
pub const DATA_DIR_ENV: &str = "LINER_NOTES_DATA_DIR";

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("journal at {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("no data folder: set {DATA_DIR_ENV} or HOME")]
    NoDataDir,
    #[error("event {id} cannot be stored: {reason}")]
    BadEvent { id: Uuid, reason: String },
}

type Result<T> = std::result::Result<T, JournalError>;

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> JournalError + '_ {
    move |source| JournalError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Where Liner Notes keeps its data: `$LINER_NOTES_DATA_DIR`, else the platform's data folder
/// (`~/.local/share/liner-notes` on Linux, `~/Library/Application Support/liner-notes` on
/// macOS, `%APPDATA%\liner-notes` on Windows).
///
/// # Errors
/// [`JournalError::NoDataDir`] when neither `LINER_NOTES_DATA_DIR` nor a home folder is
/// known.
pub fn data_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os(DATA_DIR_ENV).filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    dirs::data_dir()
        .map(|d| d.join("liner-notes"))
        .ok_or(JournalError::NoDataDir)
}

/// The journal folder of `project` under `data_dir`: `journal/<name>-<hash>`, where the name
/// keeps the project's letters, digits, `-` and `_`, and the hash keeps different projects
/// apart when their names differ only in other characters.
pub fn project_dir(data_dir: &Path, project: &str) -> PathBuf {
    let safe = crate::names::safe_name(project, &['-', '_'], 64);
    let hash = crc32fast::hash(project.as_bytes());
    data_dir.join("journal").join(format!("{safe}-{hash:08x}"))
}

/// One stored event: its id, its exact JSON, and the parsed event.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub id: Uuid,
    /// The event's JSON exactly as stored (and as it will be passed on).
    pub json: String,
    pub event: Event,
}

/// A stretch of the journal that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// 1-based line number in the file.
    pub line: usize,
    /// Byte offset of the line's start.
    pub offset: u64,
    pub reason: String,
}

/// What reading a journal found.
#[derive(Debug, Default)]
pub struct ReadReport {
    pub events: Vec<StoredEvent>,
    pub skipped: Vec<Skipped>,
    /// Lines repeating an event already read, byte for byte (kept once). A line with a seen
    /// id but other content is a conflict, reported in `skipped`.
    pub duplicates: usize,
}

impl ReadReport {
    /// The events read, in journal order, without their stored lines.
    pub fn into_events(self) -> Vec<Event> {
        self.events.into_iter().map(|e| e.event).collect()
    }
}

/// What scanning a journal found (no JSON parsing: fast even for millions of events).
#[derive(Debug, Default)]
pub struct ScanReport {
    pub ids: Vec<Uuid>,
    pub skipped: Vec<Skipped>,
    pub bytes: u64,
}

fn line_for(id: Uuid, payload: &str) -> String {
    let body = if payload.is_empty() {
        id.to_string()
    } else {
        format!("{id} {payload}")
    };
    format!("{:08x} {body}\n", crc32fast::hash(body.as_bytes()))
}

/// Reads a journal file in chunks (no allocation the size of the file) and calls `each` with
/// every checked line: `(line number, offset, id, payload)`. Returns the lines that could not
/// be read and the bytes seen. A missing file is an empty one.
fn scan_file(
    path: &Path,
    each: impl FnMut(usize, u64, Uuid, &[u8]),
) -> Result<(Vec<Skipped>, u64)> {
    scan_file_from(path, 0, each)
}

/// [`scan_file`] from byte `from` (which must start a line); line numbers count from there.
fn scan_file_from(
    path: &Path,
    from: u64,
    mut each: impl FnMut(usize, u64, Uuid, &[u8]),
) -> Result<(Vec<Skipped>, u64)> {
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), 0)),
        Err(e) => return Err(io_err(path)(e)),
    };
    // Appends happen under an exclusive lock, so the length seen under a shared lock ends on
    // a whole batch: a writer busy right now cannot make us report its half-written line as
    // torn. The lock is held only to read the length, never during the scan.
    file.lock_shared().map_err(io_err(path))?;
    let limit = file.metadata().map(|m| m.len());
    let _ = file.unlock();
    let limit = limit.map_err(io_err(path))?;
    if from >= limit {
        return Ok((Vec::new(), limit.max(from)));
    }
    if from > 0 {
        use std::io::Seek;
        file.seek(std::io::SeekFrom::Start(from))
            .map_err(io_err(path))?;
    }
    let mut file = file.take(limit - from);
    // At most CHUNK at a time, and no more than what there is to read: a look for the few
    // lines appended since the last one must not zero megabytes first.
    const CHUNK: usize = 4 << 20;
    let mut buf =
        vec![0u8; usize::try_from(limit - from).map_or(CHUNK, |n| CHUNK.min(n.saturating_add(1)))];
    let mut filled = 0usize; // bytes in buf
    let mut base = from; // file offset of buf[0]
    let mut line_no = 0usize;
    let mut skipped = Vec::new();
    loop {
        if filled == buf.len() {
            // One line longer than the buffer: make room.
            buf.resize(buf.len() * 2, 0);
        }
        let n = file.read(&mut buf[filled..]).map_err(io_err(path))?;
        let eof = n == 0;
        filled += n;
        let mut start = 0usize;
        while let Some(i) = memchr::memchr(b'\n', &buf[start..filled]) {
            line_no += 1;
            let line = &buf[start..start + i];
            let offset = base + start as u64;
            if !line.is_empty() {
                // An empty line only ends a torn line; nothing is lost.
                match check_line(line) {
                    Ok((id, payload)) => each(line_no, offset, id, payload),
                    Err(reason) => skipped.push(Skipped {
                        line: line_no,
                        offset,
                        reason,
                    }),
                }
            }
            start += i + 1;
        }
        if eof {
            if start < filled {
                skipped.push(Skipped {
                    line: line_no + 1,
                    offset: base + start as u64,
                    reason: format!(
                        "incomplete last line ({} bytes): a writer stopped mid-write",
                        filled - start
                    ),
                });
            }
            return Ok((skipped, base + filled as u64));
        }
        buf.copy_within(start..filled, 0);
        base += start as u64;
        filled -= start;
    }
}

/// Parses a checked line's event; a line whose JSON does not parse, or whose event has
/// another id than the line, is reported as skipped.
fn parse_line(
    line: usize,
    offset: u64,
    id: Uuid,
    payload: &[u8],
) -> std::result::Result<(&str, Event), Skipped> {
    let skipped = |reason: String| Skipped {
        line,
        offset,
        reason,
    };
    let json =
        std::str::from_utf8(payload).map_err(|e| skipped(format!("unreadable event: {e}")))?;
    let event: Event =
        serde_json::from_str(json).map_err(|e| skipped(format!("unreadable event: {e}")))?;
    if event.id != id {
        return Err(skipped("the line's id and its event's id differ".into()));
    }
    Ok((json, event))
}

fn check_line(line: &[u8]) -> std::result::Result<(Uuid, &[u8]), String> {
    if line.len() < 9 + 36 || line[8] != b' ' {
        return Err(format!("corrupt line ({} bytes): no checksum", line.len()));
    }
    let crc = std::str::from_utf8(&line[..8])
        .ok()
        .and_then(|h| u32::from_str_radix(h, 16).ok())
        .ok_or_else(|| "corrupt line: unreadable checksum".to_owned())?;
    let body = &line[9..];
    if crc32fast::hash(body) != crc {
        return Err(format!(
            "corrupt line ({} bytes): checksum mismatch",
            line.len()
        ));
    }
    let id = std::str::from_utf8(&body[..36])
        .ok()
        .and_then(|s| Uuid::parse_str(s).ok())
        .ok_or_else(|| "corrupt line: unreadable id".to_owned())?;
    let payload = match body.get(36) {
        None => &body[36..36],
        Some(b' ') => &body[37..],
        Some(_) => return Err("corrupt line: no space after the id".to_owned()),
    };
    Ok((id, payload))
}

/// A suffix no other writer (thread or process) uses at the same time, for temporary files.
pub fn unique_suffix() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Creates `dir` and its missing parents readable by their owner only (0700 on Unix): a
/// journal holds private notes.
///
/// # Errors
/// The folder cannot be made.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
}

/// Opens a file for appending (or, without `append`, empty), creating it readable by its
/// owner only (0600 on Unix) from the first byte.
///
/// # Errors
/// The file cannot be opened or made.
pub fn open_private(path: &Path, append: bool) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.create(true).read(true);
    if append {
        options.append(true);
    } else {
        options.write(true).truncate(true);
    }
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// Makes a new directory entry durable: fsyncs the folder holding it.
///
/// # Errors
/// The folder cannot be opened or flushed.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    // Elsewhere a folder cannot be opened to flush it (Windows); its entries are durable with
    // the file system's own journal.
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// When an append's lines must be on the disk.
#[derive(Clone, Copy)]
enum Flush<'a> {
    /// Before the append returns (`fsync`, counted in the journal's count): they survive a
    /// power cut.
    Now(&'a AtomicU64),
    /// When the system writes them back (within about half a minute) or a later flush of the
    /// file does: they survive the process being killed, not a power cut. Only for lines whose
    /// loss is harmless: an acknowledgement lost costs a resend that the server answers
    /// `duplicate`. A torn or zeroed tail that a power cut may leave is skipped like any
    /// corrupt line, and the next append ends it.
    Later,
}

/// Appends whole lines to a file shared with other writers and processes: under an exclusive
/// `flock`, ends a torn last line first, writes everything with one `write`, and `fsync`s
/// unless told [`Flush::Later`]. A new file's folder entry is always flushed.
fn append_locked(path: &Path, bytes: &[u8], flush: Flush<'_>) -> Result<()> {
    let err = io_err(path);
    let dir = path.parent().expect("journal files live in a folder");
    let created = !path.exists();
    if created {
        // The folder may have been removed under us; bring it back rather than fail forever.
        create_private_dir(dir).map_err(io_err(dir))?;
    }
    let mut file = open_private(path, true).map_err(io_err(path))?;
    if created {
        // A new file's name must survive a power cut too.
        sync_dir(dir).map_err(io_err(dir))?;
    }
    file.lock().map_err(io_err(path))?;
    let result = (|| {
        let len = file.seek(SeekFrom::End(0))?;
        let mut buf = Vec::with_capacity(bytes.len() + 1);
        if len > 0 {
            let mut last = [0u8; 1];
            // (Appends go to the end whatever the position: the file is opened to append.)
            file.seek(SeekFrom::Start(len - 1))?;
            file.read_exact(&mut last)?;
            if last[0] != b'\n' {
                buf.push(b'\n');
            }
        }
        buf.extend_from_slice(bytes);
        file.write_all(&buf)?;
        match flush {
            Flush::Now(fsyncs) => {
                fsyncs.fetch_add(1, Ordering::Relaxed);
                file.sync_data()
            }
            Flush::Later => Ok(()),
        }
    })();
    let _ = file.unlock();
    result.map_err(err)
}

/// Appends waiting for the batch in progress, shared by a journal handle and its clones (the
/// plugin's worker keeps one handle per project). Another `Journal::open` of the same folder
/// has its own: its batches and these are then ordered by the file lock alone.
#[derive(Default)]
struct GroupCommit {
    state: Mutex<CommitState>,
    done: Condvar,
}

#[derive(Default)]
struct CommitState {
    /// Bytes of the next batch (number `next_batch + 1`).
    pending: Vec<u8>,
    next_batch: u64,
    /// Highest batch number written and fsynced, or failed.
    done_batch: u64,
    committing: bool,
    /// Callers still to learn the outcome of each batch, and the failures among them. An
    /// entry goes when its last caller has read it, so no outcome is ever forgotten.
    waiters: BTreeMap<u64, usize>,
    failed: BTreeMap<u64, String>,
}
/// Why an event is held back from the server (a line of `aside.log`). The latest line for an
/// id is its state.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Aside {
    /// A server refused it, with its code and words; it is not sent again. The author may fix
    /// it (a corrected copy replaces it) or drop it.
    Refused { code: String, reason: String },
    /// It came from a DAW project file made elsewhere: shown, but sent only once the user
    /// agrees.
    Imported,
    /// The user agreed to send it as it is.
    Released,
    /// The user dropped it, or a corrected or re-signed copy replaced it: never sent, not
    /// shown.
    Dropped {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        replaced_by: Option<Uuid>,
    },
    /// Pulled from a server at `seq` but not a readable event of this project; kept here
    /// (its text as received) with the reason, so sync can move past it.
    Unreadable {
        seq: u64,
        reason: String,
        raw: String,
    },
}

impl Aside {
    /// Whether an event in this state stays off the server.
    pub fn holds(&self) -> bool {
        !matches!(self, Aside::Released)
    }

    /// Whether an event in this state is left out of what people see.
    pub fn hides(&self) -> bool {
        matches!(self, Aside::Dropped { .. })
    }
}

/// A handle on one project's journal. Cheap to clone; all clones share group commit.
#[derive(Clone)]
pub struct Journal {
    dir: PathBuf,
    events_path: PathBuf,
    aside_path: PathBuf,
    commit: Arc<GroupCommit>,
    fsyncs: Arc<AtomicU64>,
}

impl Journal {
    /// Opens (creating if needed) the journal in `dir`.
    ///
    /// # Errors
    /// [`JournalError::Io`] when the journal's files cannot be read or written (permissions,
    /// a full disk).
    pub fn open(dir: impl Into<PathBuf>) -> Result<Journal> {
        let dir = dir.into();
        if !dir.exists() {
            create_private_dir(&dir).map_err(io_err(&dir))?;
            // A relative folder's parent may be "": the current folder.
            let parent = dir.parent().filter(|p| !p.as_os_str().is_empty());
            sync_dir(parent.unwrap_or(Path::new("."))).map_err(io_err(&dir))?;
        }
        Ok(Journal {
            events_path: dir.join("events.log"),
            aside_path: dir.join("aside.log"),
            dir,
            commit: Arc::default(),
            fsyncs: Arc::default(),
        })
    }

    /// Opens the journal of `project` under the data folder ([`data_dir`]).
    ///
    /// # Errors
    /// No data folder ([`data_dir`]), or [`JournalError::Io`] when the journal's files cannot be read or written (permissions,
    /// a full disk).
    pub fn open_project(project: &str) -> Result<Journal> {
        Self::open(project_dir(&data_dir()?, project))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// How many `fsync`s this handle (and its clones) made.
    pub fn fsync_count(&self) -> u64 {
        self.fsyncs.load(Ordering::Relaxed)
    }

    /// Appends events; returns once they are durable (written and fsynced). Concurrent
    /// callers share fsyncs.
    ///
    /// # Errors
    /// [`JournalError::Io`] when the journal's files cannot be read or written (permissions,
    /// a full disk); [`JournalError::BadEvent`] for an
    /// event that cannot be stored. Nothing of the batch is captured then.
    pub fn append(&self, events: &[Event]) -> Result<()> {
        let lines: Vec<(Uuid, String)> = events.iter().map(|e| (e.id, e.to_json())).collect();
        self.append_json(&lines)
    }

    /// Appends events given as JSON exactly as received (kept byte for byte). The JSON must
    /// be one line.
    ///
    /// # Errors
    /// [`JournalError::Io`] when the journal's files cannot be read or written (permissions,
    /// a full disk); [`JournalError::BadEvent`] for a
    /// line that is not one event. Nothing of the batch is captured then.
    pub fn append_json(&self, events: &[(Uuid, String)]) -> Result<()> {
        let mut bytes = Vec::new();
        for (id, json) in events {
            if json.contains('\n') || json.contains('\r') {
                return Err(JournalError::BadEvent {
                    id: *id,
                    reason: "its JSON spans several lines".into(),
                });
            }
            bytes.extend_from_slice(line_for(*id, json).as_bytes());
        }
        self.group_append(bytes)
    }

    fn group_append(&self, bytes: Vec<u8>) -> Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        let mut st = self.commit.state.lock().unwrap();
        st.pending.extend_from_slice(&bytes);
        let my_batch = st.next_batch + 1;
        *st.waiters.entry(my_batch).or_default() += 1;
        // Whoever finds no batch in progress writes the pending bytes (its own among them) as
        // one batch, then hands over: nobody writes for others indefinitely.
        while st.done_batch < my_batch {
            if st.committing {
                st = self.commit.done.wait(st).unwrap();
                continue;
            }
            st.committing = true;
            st.next_batch += 1;
            let batch = st.next_batch;
            let out = std::mem::take(&mut st.pending);
            drop(st);
            let result = append_locked(&self.events_path, &out, Flush::Now(&self.fsyncs));
            st = self.commit.state.lock().unwrap();
            if let Err(e) = result {
                st.failed.insert(batch, e.to_string());
            }
            st.done_batch = batch;
            st.committing = false;
            self.commit.done.notify_all();
        }
        let failure = st.failed.get(&my_batch).cloned();
        let left = st.waiters.get_mut(&my_batch).expect("registered above");
        *left -= 1;
        if *left == 0 {
            st.waiters.remove(&my_batch);
            st.failed.remove(&my_batch);
        }
        match failure {
            Some(msg) => Err(JournalError::Io {
                path: self.events_path.clone(),
                source: std::io::Error::other(msg),
            }),
            None => Ok(()),
        }
    }

    /// Checks every line and lists the event ids, without parsing events: what opening a
    /// journal needs, fast even for millions of events.
    ///
    /// # Errors
    /// [`JournalError::Io`] when the journal's files cannot be read or written (permissions,
    /// a full disk).
    pub fn scan(&self) -> Result<ScanReport> {
        let mut ids = Vec::new();
        let (skipped, bytes) = scan_file(&self.events_path, |_, _, id, _| ids.push(id))?;
        Ok(ScanReport {
            ids,
            skipped,
            bytes,
        })
    }

    /// All ids (like [`Journal::scan`]) plus the parsed events whose JSON contains `needle`
    /// (e.g. a plugin instance's id): finding one instance's events in a big journal without
    /// parsing the rest.
    ///
    /// # Errors
    /// [`JournalError::Io`] when the journal's files cannot be read or written (permissions,
    /// a full disk).
    pub fn scan_matching(&self, needle: &str) -> Result<(Vec<Uuid>, Vec<Event>)> {
        let finder = memchr::memmem::Finder::new(needle.as_bytes());
        let mut ids = Vec::new();
        let mut matching = Vec::new();
        scan_file(&self.events_path, |_, _, id, payload| {
            ids.push(id);
            if finder.find(payload).is_some() {
                if let Ok(e) = serde_json::from_slice::<Event>(payload) {
                    matching.push(e);
                }
            }
        })?;
        Ok((ids, matching))
    }

    /// Reads every event. Unreadable lines are reported and skipped; an id seen twice is kept
    /// once (the first).
    ///
    /// # Errors
    /// [`JournalError::Io`] when the journal's files cannot be read or written (permissions,
    /// a full disk).
    pub fn read(&self) -> Result<ReadReport> {
        let mut report = ReadReport::default();
        // id -> CRC of the stored JSON, to tell a repeat from a conflict.
        let mut seen: HashMap<Uuid, u32> = HashMap::new();
        let mut bad = Vec::new();
        let (skipped, _) = scan_file(&self.events_path, |line, offset, id, payload| {
            if let Some(&crc) = seen.get(&id) {
                if crc == crc32fast::hash(payload) {
                    report.duplicates += 1;
                } else {
                    bad.push(Skipped {
                        line,
                        offset,
                        reason: format!(
                            "conflict: event {id} was stored before with other content"
                        ),
                    });
                }
                return;
            }
            match parse_line(line, offset, id, payload) {
                Ok((json, event)) => {
                    seen.insert(id, crc32fast::hash(payload));
                    report.events.push(StoredEvent {
                        id,
                        json: json.to_owned(),
                        event,
                    })
                }
                Err(s) => bad.push(s),
            }
        })?;
        report.skipped = skipped;
        report.skipped.extend(bad);
        report.skipped.sort_by_key(|s| s.line);
        Ok(report)
    }

    /// The events appended since byte `offset` (0 for all), parsed, and the offset to pass
    /// next time. Only whole batches are seen (appends take an exclusive lock); a torn or
    /// corrupt line is skipped and reported. Does not drop repeats: callers that keep the
    /// events also keep their ids. Lets a reader follow a growing journal without re-reading
    /// it.
    ///
    /// # Errors
    /// [`JournalError::Io`] when the journal's files cannot be read or written (permissions,
    /// a full disk).
    pub fn read_since(&self, offset: u64) -> Result<(Vec<StoredEvent>, Vec<Skipped>, u64)> {
        let mut events = Vec::new();
        let mut bad = Vec::new();
        let (mut skipped, end) = scan_file_from(
            &self.events_path,
            offset,
            |line, offset, id, payload| match parse_line(line, offset, id, payload) {
                Ok((json, event)) => events.push(StoredEvent {
                    id,
                    json: json.to_owned(),
                    event,
                }),
                Err(s) => bad.push(s),
            },
        )?;
        // A torn last line is not consumed (nor reported): the next read starts at it again,
        // and reports it once it is ended and can be judged.
        let end = match skipped
            .iter()
            .position(|s| s.reason.starts_with("incomplete last line"))
        {
            Some(i) => skipped.remove(i).offset,
            None => end,
        };
        skipped.extend(bad);
        Ok((events, skipped, end))
    }

    /// Holds events back (or releases them), durably.
    ///
    /// # Errors
    /// [`JournalError::Io`] when the journal's files cannot be read or written (permissions,
    /// a full disk).
    ///
    /// # Panics
    /// Never: an [`Aside`] always serializes.
    pub fn set_aside(&self, entries: &[(Uuid, Aside)]) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut bytes = Vec::new();
        for (id, aside) in entries {
            let json = serde_json::to_string(aside).expect("an Aside always serializes");
            bytes.extend_from_slice(line_for(*id, &json).as_bytes());
        }
        append_locked(&self.aside_path, &bytes, Flush::Now(&self.fsyncs))
    }

    /// The state of every event held back or released (the last line per id). Lines that
    /// cannot be read are skipped: the event they named is then treated as never held.
    ///
    /// # Errors
    /// [`JournalError::Io`] when the journal's files cannot be read or written (permissions,
    /// a full disk).
    pub fn aside(&self) -> Result<HashMap<Uuid, Aside>> {
        let mut out = HashMap::new();
        scan_file(&self.aside_path, |_, _, id, payload| {
            if let Ok(a) = serde_json::from_slice::<Aside>(payload) {
                out.insert(id, a);
            }
        })?;
        Ok(out)
    }

    /// The size of `aside.log` in bytes: grows whenever something is held or released, so a
    /// reader can tell cheaply whether to read it again.
    pub fn aside_len(&self) -> u64 {
        std::fs::metadata(&self.aside_path).map_or(0, |m| m.len())
    }

    /// The sync state of this journal with one server: its own acknowledgements, cursor and
    /// place in the journal (see [`SyncFiles`]). Creates the folder and records the target.
    ///
    /// # Errors
    /// [`JournalError::Io`] when the journal's files cannot be read or written (permissions,
    /// a full disk).
    pub fn sync_files(&self, url: &str, project: &str) -> Result<SyncFiles> {
        let dir = self.dir.join("sync").join(target_name(url));
        if !dir.exists() {
            create_private_dir(&dir).map_err(io_err(&dir))?;
            if let Some(parent) = dir.parent() {
                sync_dir(parent).map_err(io_err(parent))?;
            }
        }
        let files = SyncFiles {
            dir,
            fsyncs: self.fsyncs.clone(),
        };
        let target =
            serde_json::json!({ "url": crate::settings::server_address(url), "project": project });
        if files.target().as_ref() != Some(&target) {
            write_atomically(&files.dir, "target.json", target.to_string().as_bytes())
                .map_err(io_err(&files.dir))?;
        }
        Ok(files)
    }

    /// The servers this journal syncs (or synced) with: `(url, project)` of every target
    /// folder under `sync/`.
    ///
    /// # Errors
    /// [`JournalError::Io`] when the journal's files cannot be read or written (permissions,
    /// a full disk).
    pub fn sync_targets(&self) -> Result<Vec<(String, String)>> {
        let root = self.dir.join("sync");
        let entries = match std::fs::read_dir(&root) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_err(&root)(e)),
        };
        let mut out: Vec<(String, String)> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| std::fs::read(e.path().join("target.json")).ok())
            .filter_map(|data| serde_json::from_slice::<serde_json::Value>(&data).ok())
            .filter_map(|v| {
                Some((
                    v["url"].as_str()?.to_owned(),
                    v["project"].as_str()?.to_owned(),
                ))
            })
            .collect();
        out.sort();
        Ok(out)
    }

    /// Events that the server at `url` has not acknowledged, in journal order (a full read:
    /// for tools and tests; [`crate::sync::TargetSync`] reads only what was appended since).
    ///
    /// # Errors
    /// [`JournalError::Io`] when the journal's files cannot be read or written (permissions,
    /// a full disk).
    pub fn unacked_by(&self, url: &str) -> Result<Vec<StoredEvent>> {
        let dir = self.dir.join("sync").join(target_name(url));
        let acked = SyncFiles {
            dir,
            fsyncs: self.fsyncs.clone(),
        }
        .acked()?;
        Ok(self
            .read()?
            .events
            .into_iter()
            .filter(|e| !acked.contains(&e.id))
            .collect())
    }
}

/// The folder name of a sync target: the server address's letters and digits, and a
/// checksum of the whole address.
fn target_name(url: &str) -> String {
    let url = crate::settings::server_address(url);
    let bare = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .unwrap_or(url);
    let safe: String = bare
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .take(64)
        .collect();
    format!("{safe}-{:08x}", crc32fast::hash(url.as_bytes()))
}

/// Writes `name` in `dir` atomically: a temporary file, fsynced, renamed over the old one, the
/// folder fsynced; a crash leaves the old or the new content, never a mix.
pub(crate) fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = dir.join(format!("{name}.{}.tmp", unique_suffix()));
    let mut f = open_private(&tmp, false)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, dir.join(name))?;
    File::open(dir)?.sync_all()
}

/// One sync target's files in a journal folder (`sync/<target>/`): `target.json` (which
/// server and project), `acks.log` (ids that server acknowledged, lines as in `events.log`
/// without payload) and `cursor.json` (the last server sequence number seen). Each target
/// keeps its own, so two servers for one project never share a cursor or acknowledgements.
#[derive(Clone)]
pub struct SyncFiles {
    dir: PathBuf,
    fsyncs: Arc<AtomicU64>,
}

impl SyncFiles {
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn target(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&std::fs::read(self.dir.join("target.json")).ok()?).ok()
    }

    /// Records, durably, that the server has these events (pulled ones: the cursor moves
    /// past them next, so their acknowledgement must not be lost before it).
    ///
    /// # Errors
    /// [`JournalError::Io`] when the journal's files cannot be read or written (permissions,
    /// a full disk).
    pub fn ack(&self, ids: &[Uuid]) -> Result<()> {
        self.append_acks(ids, Flush::Now(&self.fsyncs))
    }

    /// Records that the server took these events of ours (its answer to a push), before
    /// anything else of the round happens, but without flushing it to the disk
    /// ([`Flush::Later`]): a push round then makes no disk flush of its own (its events were
    /// flushed when captured; the pull flushes these later). A power cut before they
    /// reach the disk loses them; their events then go again and are answered `duplicate`.
    /// The pull flushes them ([`SyncFiles::flush_acks`]) before its cursor passes the events
    /// (after that no pull would bring them back).
    ///
    /// # Errors
    /// [`JournalError::Io`] when the journal's files cannot be read or written (permissions,
    /// a full disk).
    pub fn ack_pushed(&self, ids: &[Uuid]) -> Result<()> {
        self.append_acks(ids, Flush::Later)
    }

    /// Flushes to the disk the acknowledgements [`SyncFiles::ack_pushed`] left unflushed
    /// (before the cursor moves past our own events: no pull brings them back after that).
    ///
    /// # Errors
    /// [`JournalError::Io`] when `acks.log` cannot be opened or flushed.
    pub fn flush_acks(&self) -> Result<()> {
        let path = self.dir.join("acks.log");
        // Opened for writing: Windows flushes only a handle that may write.
        match OpenOptions::new().append(true).open(&path) {
            Ok(file) => {
                file.sync_data().map_err(io_err(&path))?;
                self.fsyncs.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err(&path)(e)),
        }
    }

    fn append_acks(&self, ids: &[Uuid], flush: Flush<'_>) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let bytes: Vec<u8> = ids
            .iter()
            .flat_map(|id| line_for(*id, "").into_bytes())
            .collect();
        append_locked(&self.dir.join("acks.log"), &bytes, flush)
    }

    /// Ids the server has acknowledged.
    ///
    /// # Errors
    /// [`JournalError::Io`] when the journal's files cannot be read or written (permissions,
    /// a full disk).
    pub fn acked(&self) -> Result<HashSet<Uuid>> {
        let mut ids = HashSet::new();
        scan_file(&self.dir.join("acks.log"), |_, _, id, _| {
            ids.insert(id);
        })?;
        Ok(ids)
    }

    /// Hashes of the clips the server has (`clips.log`, one per line).
    ///
    /// # Errors
    /// [`JournalError::Io`] when the journal's files cannot be read or written (permissions,
    /// a full disk).
    pub fn clips_sent(&self) -> Result<HashSet<crate::clips::ClipHash>> {
        self.hashes_in("clips.log")
    }

    /// Records that the server has a clip.
    ///
    /// # Errors
    /// [`JournalError::Io`] when the journal's files cannot be read or written (permissions,
    /// a full disk).
    pub fn clip_sent(&self, hash: &crate::clips::ClipHash) -> Result<()> {
        self.add_hash("clips.log", hash)
    }

    /// Hashes of the versions the server holds complete (`versions.log`, one per line).
    ///
    /// # Errors
    /// [`JournalError::Io`] when the journal's files cannot be read or written (permissions,
    /// a full disk).
    pub fn versions_sent(&self) -> Result<HashSet<crate::clips::ClipHash>> {
        self.hashes_in("versions.log")
    }

    /// Records that the server holds a version complete.
    ///
    /// # Errors
    /// [`JournalError::Io`] when the journal's files cannot be read or written (permissions,
    /// a full disk).
    pub fn version_sent(&self, hash: &crate::clips::ClipHash) -> Result<()> {
        self.add_hash("versions.log", hash)
    }

    fn hashes_in(&self, file: &str) -> Result<HashSet<crate::clips::ClipHash>> {
        let path = self.dir.join(file);
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(text.lines().filter_map(|l| l.trim().parse().ok()).collect()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(HashSet::new()),
            Err(e) => Err(io_err(&path)(e)),
        }
    }

    fn add_hash(&self, file: &str, hash: &crate::clips::ClipHash) -> Result<()> {
        append_locked(
            &self.dir.join(file),
            format!("{hash}\n").as_bytes(),
            Flush::Now(&self.fsyncs),
        )
    }

    /// The last server sequence number seen (0 before the first pull).
    ///
    /// # Errors
    /// [`JournalError::Io`] when the journal's files cannot be read or written (permissions,
    /// a full disk).
    pub fn last_seq(&self) -> Result<u64> {
        let path = self.dir.join("cursor.json");
        let data = match std::fs::read(&path) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(io_err(&path)(e)),
        };
        let v: serde_json::Value = serde_json::from_slice(&data).map_err(|e| JournalError::Io {
            path: path.clone(),
            source: std::io::Error::other(e),
        })?;
        Ok(v["last_seq"].as_u64().unwrap_or(0))
    }

    /// Records the last server sequence number seen, atomically.
    ///
    /// # Errors
    /// [`JournalError::Io`] when the journal's files cannot be read or written (permissions,
    /// a full disk).
    pub fn set_last_seq(&self, seq: u64) -> Result<()> {
        let bytes = serde_json::json!({ "last_seq": seq }).to_string();
        write_atomically(&self.dir, "cursor.json", bytes.as_bytes())
            .map_err(io_err(&self.dir.join("cursor.json")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Body, Context, Role};

    fn ctx() -> Context {
        Context {
            project: "P".into(),
            song: "S".into(),
            track: "T".into(),
            session: Uuid::now_v7(),
            author: "A".into(),
            role: Role::Engineer,
        }
    }

    fn mark(n: u32) -> Event {
        Event::new(
            &ctx(),
            None,
            Body::Mark {
                instance: Uuid::nil(),
                number: n,
                label: None,
            },
        )
    }

    #[test]
    fn appended_events_read_back_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(dir.path()).unwrap();
        let events: Vec<Event> = (1..=3).map(mark).collect();
        j.append(&events).unwrap();
        let r = j.read().unwrap();
        assert!(r.skipped.is_empty());
        let back: Vec<&Event> = r.events.iter().map(|s| &s.event).collect();
        assert_eq!(back, events.iter().collect::<Vec<_>>());
        assert_eq!(j.scan().unwrap().ids.len(), 3);
    }

    #[test]
    fn read_since_follows_a_growing_journal_and_waits_at_a_torn_line() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(dir.path()).unwrap();
        let first: Vec<Event> = (1..=3).map(mark).collect();
        j.append(&first).unwrap();
        let plain = |stored: Vec<StoredEvent>| -> Vec<Event> {
            stored.into_iter().map(|e| e.event).collect()
        };
        let (events, skipped, offset) = j.read_since(0).unwrap();
        assert_eq!(plain(events), first);
        assert!(skipped.is_empty());
        let second: Vec<Event> = (4..=5).map(mark).collect();
        j.append(&second).unwrap();
        let (events, _, offset) = j.read_since(offset).unwrap();
        assert_eq!(plain(events), second);
        // A writer dies mid-line: nothing is returned and the offset stays at the torn line.
        let path = dir.path().join("events.log");
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"1234abcd 0190").unwrap();
        let (events, skipped, at_torn) = j.read_since(offset).unwrap();
        assert!(events.is_empty());
        assert!(
            skipped.is_empty(),
            "a torn line is not judged yet: {skipped:?}"
        );
        assert_eq!(at_torn, offset);
        // The next append ends the torn line; the reader reports it once and reads on.
        let third = mark(6);
        j.append(std::slice::from_ref(&third)).unwrap();
        let (events, skipped, end) = j.read_since(at_torn).unwrap();
        assert_eq!(plain(events), vec![third]);
        assert_eq!(skipped.len(), 1, "{skipped:?}");
        assert!(skipped[0].reason.contains("corrupt"), "{skipped:?}");
        assert_eq!(end, std::fs::metadata(&path).unwrap().len());
        assert!(j.read_since(end).unwrap().0.is_empty());
    }

    #[test]
    fn a_torn_last_line_is_reported_and_ended_by_the_next_append() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(dir.path()).unwrap();
        j.append(&[mark(1)]).unwrap();
        let path = dir.path().join("events.log");
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"1234abcd 0190").unwrap();
        let r = j.read().unwrap();
        assert_eq!(r.events.len(), 1);
        assert_eq!(r.skipped.len(), 1);
        assert!(
            r.skipped[0].reason.contains("incomplete last line"),
            "{:?}",
            r.skipped
        );
        j.append(&[mark(2)]).unwrap();
        let r = j.read().unwrap();
        assert_eq!(r.events.len(), 2, "{:?}", r.skipped);
        assert_eq!(r.skipped.len(), 1);
        assert_eq!(r.skipped[0].line, 2);
        assert!(r.skipped[0].reason.contains("corrupt"), "{:?}", r.skipped);
    }

    #[test]
    fn corrupt_bytes_in_the_middle_are_located_and_the_rest_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(dir.path()).unwrap();
        for n in 1..=5 {
            j.append(&[mark(n)]).unwrap();
        }
        let path = dir.path().join("events.log");
        let mut data = std::fs::read(&path).unwrap();
        let third = data
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .nth(1)
            .unwrap()
            .0
            + 1;
        data[third + 60] ^= 0x20;
        std::fs::write(&path, &data).unwrap();
        let r = j.read().unwrap();
        assert_eq!(r.events.len(), 4);
        assert_eq!(
            r.skipped,
            vec![Skipped {
                line: 3,
                offset: third as u64,
                reason: format!(
                    "corrupt line ({} bytes): checksum mismatch",
                    data[third..].iter().position(|b| *b == b'\n').unwrap()
                ),
            }]
        );
    }

    #[test]
    fn each_server_keeps_its_own_acks_and_cursor_across_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(dir.path()).unwrap();
        let events: Vec<Event> = (1..=4).map(mark).collect();
        j.append(&events).unwrap();
        let (a, b) = ("http://studio:7878", "https://review.example/liner");
        let fa = j.sync_files(a, "P").unwrap();
        fa.ack(&[events[0].id, events[2].id]).unwrap();
        fa.set_last_seq(42).unwrap();
        j.sync_files(b, "P").unwrap().set_last_seq(7).unwrap();
        let j = Journal::open(dir.path()).unwrap();
        let unacked =
            |url| -> Vec<Uuid> { j.unacked_by(url).unwrap().iter().map(|e| e.id).collect() };
        assert_eq!(unacked(a), vec![events[1].id, events[3].id]);
        assert_eq!(unacked(b).len(), 4);
        assert_eq!(j.sync_files(a, "P").unwrap().last_seq().unwrap(), 42);
        assert_eq!(j.sync_files(b, "P").unwrap().last_seq().unwrap(), 7);
        assert_eq!(
            j.sync_targets().unwrap(),
            vec![
                ("http://studio:7878".to_owned(), "P".to_owned()),
                ("https://review.example/liner".to_owned(), "P".to_owned())
            ]
        );
    }

    #[test]
    fn json_is_kept_byte_for_byte_and_multiline_json_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(dir.path()).unwrap();
        let e = mark(1);
        let json = e.to_json().replace(",\"", ", \"");
        j.append_json(&[(e.id, json.clone())]).unwrap();
        assert_eq!(j.read().unwrap().events[0].json, json);
        let err = j
            .append_json(&[(e.id, "{\n}".into())])
            .unwrap_err()
            .to_string();
        assert!(err.contains("several lines"), "{err}");
    }

    #[test]
    fn concurrent_appends_from_many_threads_all_land() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(dir.path()).unwrap();
        // A reader scanning while they write never sees half a batch.
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let reader = {
            let (j, done) = (j.clone(), done.clone());
            std::thread::spawn(move || {
                let mut scans = 0;
                while !done.load(Ordering::Relaxed) || scans == 0 {
                    let scan = j.scan().unwrap();
                    assert!(scan.skipped.is_empty(), "{:?}", scan.skipped);
                    scans += 1;
                }
                scans
            })
        };
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let j = j.clone();
                std::thread::spawn(move || {
                    for n in 0..50 {
                        j.append(&[mark(n)]).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        done.store(true, Ordering::Relaxed);
        assert!(reader.join().unwrap() > 0);
        let ids = j.scan().unwrap().ids;
        assert_eq!(ids.len(), 400);
        assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 400);
    }

    #[test]
    fn a_repeated_line_is_a_duplicate_and_other_content_under_a_seen_id_a_conflict() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(dir.path()).unwrap();
        let e = mark(1);
        j.append(&[e.clone(), e.clone()]).unwrap();
        let mut other = e.clone();
        other.author = "Someone else".into();
        j.append(&[other]).unwrap();
        let r = j.read().unwrap();
        assert_eq!(r.events.len(), 1);
        assert_eq!(r.events[0].event, e);
        assert_eq!(r.duplicates, 1);
        assert_eq!(r.skipped.len(), 1);
        assert_eq!(r.skipped[0].line, 3);
        assert!(r.skipped[0].reason.contains("conflict"), "{:?}", r.skipped);
    }

    #[test]
    fn every_caller_of_a_failed_batch_hears_about_it() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(dir.path()).unwrap();
        // A folder where the log file should be: every write fails.
        std::fs::create_dir(dir.path().join("events.log")).unwrap();
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let j = j.clone();
                std::thread::spawn(move || {
                    (0..30).filter(|n| j.append(&[mark(*n)]).is_err()).count()
                })
            })
            .collect();
        let failures: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
        assert_eq!(failures, 8 * 30);
        assert!(j.commit.state.lock().unwrap().failed.is_empty());
    }

    #[test]
    fn project_folders_are_safe_and_distinct() {
        let root = Path::new("/data");
        let a = project_dir(root, "Album: Side A/B");
        let b = project_dir(root, "Album: Side A?B");
        assert_ne!(a, b);
        assert!(a.starts_with("/data/journal"));
        assert!(!a.file_name().unwrap().to_str().unwrap().contains('/'));
    }
}

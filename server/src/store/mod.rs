//! Storage behind one trait, so the handlers never know which database holds the record.
//!
//! - [`SqliteStore`] (`sqlite`): the default, one SQLite file beside one server process.
//! - [`PgStore`] (`postgres`): PostgreSQL, for several server processes on one database.
//!
//! Both keep the same rules: an event is stored once by id (the same id with other content is
//! a conflict), judged by the record's ownership and target rules, and given a sequence
//! number of its project that readers see in order. What they decide alike lives in `shared`;
//! each store holds only its SQL. Schema migrations are only
//! ever added, per database.

pub mod copy;
pub mod digests;
mod group;
pub mod guests;
pub mod hooks;
mod postgres;
mod postgres_digests;
mod postgres_hooks;
mod shared;
mod sqlite;
mod sqlite_digests;
mod sqlite_hooks;

pub use digests::{DigestPrefs, Every};
pub use hooks::{Attempt, Hook, Settle};
pub use postgres::PgStore;
pub use shared::{ClipFacts, VersionFacts};
pub use sqlite::{CopyFacts, SqliteStore};

use uuid::Uuid;

use guests::{Fate, GuestLink, HeldComment, NewComment, NewLink};
use liner_record::clips::ClipHash;
use liner_record::Role;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Db(#[from] rusqlite::Error),
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    /// No connection to PostgreSQL could be had (it is down, or every connection is busy).
    #[error("PostgreSQL connection: {0}")]
    Connect(String),
    #[error("project {0:?} already exists")]
    ProjectExists(String),
    #[error("no project named {0:?}")]
    NoProject(String),
    #[error("no token with id {0}")]
    NoToken(i64),
    #[error("no webhook with id {0} (`liner webhook list` shows them)")]
    NoHook(i64),
    #[error("{0}")]
    Aborted(String),
}

pub type Result<T> = std::result::Result<T, StoreError>;

#[derive(Debug, Clone, PartialEq)]
pub struct Project {
    pub id: i64,
    pub name: String,
}

/// A token as listed (never the secret): one person in one project with one role.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenInfo {
    pub id: i64,
    pub project: Project,
    /// The person it speaks for: every event it pushes carries this name as its author.
    pub person: String,
    pub role: Role,
    pub revoked: bool,
    pub created_ms: i64,
}

/// What happened to one pushed event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushOutcome {
    /// New: stored under this sequence number.
    Stored(u64),
    /// Already stored, byte for byte (a retry): its sequence number.
    Duplicate(u64),
    /// The id is taken by an event with other content; nothing stored.
    Conflict,
    /// Against the record's rules ([`liner_record::rules`], [`liner_record::limits`]):
    /// `not_yours`, `unknown_target` or `too_long`, with words for people; nothing stored.
    Refused { code: &'static str, message: String },
}

/// Which events of a push are over the record's limits ([`liner_record::limits`]): those are
/// refused (`too_long`) where they stand, and only the rest go to the store.
struct Limits {
    over: Vec<Option<PushOutcome>>,
}

impl Limits {
    fn of(events: &[Incoming]) -> Limits {
        Limits {
            over: events.iter().map(shared::over_the_limits).collect(),
        }
    }

    fn all_within(&self) -> bool {
        self.over.iter().all(Option::is_none)
    }

    /// The events within the limits, of `events` (the push's, in order).
    fn within(&self, events: impl Iterator<Item = Incoming>) -> Vec<Incoming> {
        events
            .zip(&self.over)
            .filter(|(_, o)| o.is_none())
            .map(|(e, _)| e)
            .collect()
    }

    /// One outcome per event of the push: its refusal, or what the store said of it.
    fn merged(self, stored: Vec<PushOutcome>) -> Vec<PushOutcome> {
        let mut stored = stored.into_iter();
        self.over
            .into_iter()
            .map(|o| o.unwrap_or_else(|| stored.next().expect("one outcome per event")))
            .collect()
    }
}

/// A push queued for its store's writer ([`Store::push_queued`]).
pub struct QueuedPush {
    limits: Limits,
    answer: group::Answer,
}

impl QueuedPush {
    /// The push's answer, as [`Store::push`] gives it.
    ///
    /// # Errors
    /// As [`Store::push`]; also when the writer stopped before answering (send it again).
    pub async fn answer(self) -> Result<Vec<PushOutcome>> {
        let stored = self
            .answer
            .await
            .unwrap_or_else(|_| Err(group::stopped()))?;
        Ok(self.limits.merged(stored))
    }
}

/// What became of a clip sent to the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClipPut {
    Stored,
    /// It was there already (a retry).
    AlreadyStored,
    /// No stored `clip_attached` event of the project names this hash.
    Unknown,
    /// The event names another size.
    WrongSize {
        expected: u64,
    },
    /// The project's clips would pass its quota.
    OverQuota {
        used: u64,
        quota: u64,
    },
}

/// What became of a version's chunk sent to the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkPut {
    Stored,
    /// It was there already (a retry), or the whole version is.
    AlreadyStored,
    /// No stored `version_printed` event of the project names this hash.
    Unknown,
    /// The event names a version larger than any may be.
    TooLarge {
        most: u64,
    },
    /// The index is past the version's last chunk (it has `chunks`).
    OutOfRange {
        chunks: u64,
    },
    /// The chunk at this index is this long.
    WrongSize {
        expected: u64,
    },
    /// The rest of the version would pass the project's quota (clips and versions).
    OverQuota {
        used: u64,
        quota: u64,
    },
}

/// A backup `liner backup` made: when it finished, its size, the events it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupNote {
    pub at_ms: i64,
    pub bytes: u64,
    pub events: u64,
}

/// One event to store: parsed, and its canonical line.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub event: liner_record::Event,
    pub json: String,
}

impl Incoming {
    /// Reads an event from any valid JSON (kept in canonical form).
    ///
    /// # Errors
    /// Text that is not one event of this format.
    pub fn parse(json: &str) -> serde_json::Result<Incoming> {
        let (event, json) = liner_record::Event::canonical(json)?;
        Ok(Incoming { event, json })
    }

    pub fn from_event(event: liner_record::Event) -> Incoming {
        let json = event.to_json();
        Incoming { event, json }
    }
}

/// Who pushed a stored event, and when it arrived (the audit trail).
#[derive(Debug, Clone, PartialEq)]
pub struct Receipt {
    pub seq: u64,
    pub id: Uuid,
    /// The event's kind (from its stored line).
    pub kind: String,
    pub received_ms: i64,
    /// The token that pushed it (None: imported by an administrator, or stored before
    /// tokens were recorded). Revoked tokens keep their history.
    pub token: Option<TokenInfo>,
}

/// A last step before a first run's transaction commits, given the new tokens and their
/// secrets; an error rolls everything back.
pub type Ready<'a> = dyn FnMut(&[(TokenInfo, String)]) -> std::result::Result<(), String> + 'a;

/// Told of events stored by any server process on the same database (see
/// [`Store::watch_others`]).
pub trait Wake: Send + Sync {
    /// The project's events up to `seq` are stored.
    fn stored(&self, project: i64, seq: u64);
}

/// What the handlers need from storage.
pub trait Store: Send + Sync + 'static {
    /// Where the record lives, for people: a folder, or a database address without its
    /// password.
    fn location(&self) -> String;

    /// Tells `wake` of the events other server processes store in this database, as they
    /// commit, until `wake` is dropped; a long poll on this process wakes for a push taken by
    /// another. A database only this process writes to (SQLite) has nothing to tell: the
    /// handlers announce their own pushes.
    fn watch_others(&self, wake: std::sync::Weak<dyn Wake>) {
        let _ = wake;
    }

    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]), or
    /// a project of that name exists ([`StoreError::ProjectExists`]).
    fn create_project(&self, name: &str) -> Result<Project>;
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]).
    fn project(&self, name: &str) -> Result<Option<Project>>;
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]).
    fn projects(&self) -> Result<Vec<Project>>;
    /// Creates a project with a token per `(person, role)`, all in one transaction that
    /// commits only if `ready` (given the tokens and their secrets) succeeds: a first run
    /// either completes or leaves nothing behind.
    ///
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]), a
    /// project of that name exists ([`StoreError::ProjectExists`]), or `ready` failed
    /// ([`StoreError::Aborted`], with its words).
    fn create_project_with_tokens(
        &self,
        project: &str,
        people: &[(&str, Role)],
        ready: &mut Ready<'_>,
    ) -> Result<Vec<(TokenInfo, String)>>;
    /// Issues a token for `person`; returns it with its secret (shown once, stored hashed).
    ///
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]), or there
    /// is no such project ([`StoreError::NoProject`]).
    fn add_token(&self, project: &str, person: &str, role: Role) -> Result<(TokenInfo, String)>;
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]).
    fn tokens(&self) -> Result<Vec<TokenInfo>>;
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]), or
    /// there is no token with that id ([`StoreError::NoToken`]).
    fn revoke_token(&self, id: i64) -> Result<()>;
    /// The live token with this secret, if any.
    ///
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]).
    fn authenticate(&self, secret: &str) -> Result<Option<TokenInfo>>;
    /// Stores new events of a project in one transaction, in order, each judged by the
    /// record's ownership and target rules against what is stored and what came before it in
    /// the batch. `token` is who pushed them (None: an administrator's import).
    ///
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]), or
    /// the project is gone ([`StoreError::NoProject`]). Events against the rules are not
    /// errors: they get [`PushOutcome::Refused`].
    ///
    /// This is the one door to the record: every event first passes the record's limits
    /// ([`liner_record::limits`]); one over them is refused (`too_long`) and the rest go on.
    fn push(
        &self,
        project: &Project,
        token: Option<i64>,
        events: &[Incoming],
    ) -> Result<Vec<PushOutcome>> {
        let limits = Limits::of(events);
        if limits.all_within() {
            return self.push_within_limits(project, token, events);
        }
        let within = limits.within(events.iter().cloned());
        let stored = self.push_within_limits(project, token, &within)?;
        Ok(limits.merged(stored))
    }
    /// [`Store::push`] for a request's task, which must not block: the push is queued for
    /// the store's writer (SQLite's writer thread, PostgreSQL's writer task) and its answer
    /// is awaited, so no blocking thread waits for the write.
    ///
    /// The same door as [`Store::push`]: the same limits, rules and guarantees.
    fn push_queued(
        &self,
        project: &Project,
        token: Option<i64>,
        events: Vec<Incoming>,
    ) -> QueuedPush {
        let limits = Limits::of(&events);
        let within = if limits.all_within() {
            events
        } else {
            limits.within(events.into_iter())
        };
        QueuedPush {
            answer: self.queue_within_limits(project, token, within),
            limits,
        }
    }
    /// [`Store::push_queued`] of events known to be within the limits: queues them for the
    /// store's writer. Only [`Store::push_queued`] calls it.
    #[doc(hidden)]
    fn queue_within_limits(
        &self,
        project: &Project,
        token: Option<i64>,
        events: Vec<Incoming>,
    ) -> group::Answer;
    /// [`Store::push`] of events known to be within the limits: the dialect's transaction.
    /// Only [`Store::push`] calls it.
    ///
    /// # Errors
    /// As [`Store::push`].
    #[doc(hidden)]
    fn push_within_limits(
        &self,
        project: &Project,
        token: Option<i64>,
        events: &[Incoming],
    ) -> Result<Vec<PushOutcome>>;
    /// Events after a sequence number, in order: (seq, JSON).
    ///
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]).
    fn pull(&self, project: &Project, after: u64, limit: usize) -> Result<Vec<(u64, String)>>;
    /// Who pushed each event of a project and when, in sequence order, from `since_ms`
    /// (received time) on.
    ///
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]).
    fn receipts(&self, project: &Project, since_ms: Option<i64>) -> Result<Vec<Receipt>>;

    /// Stores a clip's bytes for a project. They must be what a stored `clip_attached` event
    /// of the project describes (the caller checked the hash; here: that an event names it,
    /// and its size), and fit in the project's `quota` of clip bytes.
    ///
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]).
    fn put_clip(
        &self,
        project: &Project,
        token: Option<i64>,
        hash: &ClipHash,
        bytes: &[u8],
        quota: u64,
    ) -> Result<ClipPut>;
    /// What the store knows of a clip about to arrive: the size the project's events give it,
    /// whether its bytes are stored, and the project's clip bytes. Read before an upload
    /// takes a slot or its body is read ([`Store::judge_clip`]); [`Store::put_clip`] reads it
    /// again in its transaction, so a clip judged here and stored later still fits.
    ///
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]).
    fn clip_facts(&self, project: &Project, hash: &ClipHash) -> Result<ClipFacts>;
    /// Whether a clip of `len` bytes would be refused (or is stored already): the answer
    /// [`Store::put_clip`] would give, without its bytes. `None`: send them.
    ///
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]).
    fn judge_clip(
        &self,
        project: &Project,
        hash: &ClipHash,
        len: u64,
        quota: u64,
    ) -> Result<Option<ClipPut>> {
        Ok(shared::clip_refusal(
            &self.clip_facts(project, hash)?,
            len,
            quota,
        ))
    }
    /// The hashes of the clips a project holds (for `liner check`).
    ///
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]).
    fn clip_hashes(&self, project: &Project) -> Result<Vec<String>>;
    /// Records a backup made of this record.
    ///
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]).
    fn note_backup(&self, note: &BackupNote) -> Result<()>;
    /// The newest backup recorded, if any.
    ///
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]).
    fn last_backup(&self) -> Result<Option<BackupNote>>;
    /// A stored clip's bytes.
    ///
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]).
    fn clip(&self, project: &Project, hash: &ClipHash) -> Result<Option<Vec<u8>>>;
    /// A stored clip's size, without its bytes.
    ///
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]).
    fn clip_size(&self, project: &Project, hash: &ClipHash) -> Result<Option<u64>>;
    /// `len` bytes of a stored clip from byte `first` (fewer at its end), read without the
    /// rest: a player's range costs the bytes it asks for.
    ///
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]).
    fn clip_range(
        &self,
        project: &Project,
        hash: &ClipHash,
        first: u64,
        len: u64,
    ) -> Result<Option<Vec<u8>>>;
    /// The bytes of clips a project holds.
    ///
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]).
    fn clip_usage(&self, project: &Project) -> Result<u64>;

    /// What the store knows of a version of `project`: the size its `version_printed`
    /// event gives, the chunks stored, whether it is complete, and the project's bytes of
    /// clips and versions. Read before a chunk takes a slot or its body is read
    /// ([`Store::judge_version_chunk`]); [`Store::put_version_chunk`] reads it again in its
    /// transaction.
    ///
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]).
    fn version_facts(&self, project: &Project, hash: &ClipHash) -> Result<VersionFacts>;
    /// Whether chunk `index` of `len` bytes would be refused (or is stored already): the
    /// answer [`Store::put_version_chunk`] would give, without its bytes. `None`: send it.
    ///
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]).
    fn judge_version_chunk(
        &self,
        project: &Project,
        hash: &ClipHash,
        index: u64,
        len: u64,
        quota: u64,
    ) -> Result<Option<ChunkPut>> {
        Ok(shared::chunk_refusal(
            &self.version_facts(project, hash)?,
            index,
            len,
            quota,
        ))
    }
    /// Stores chunk `index` of a version, judged again in its transaction
    /// ([`Store::judge_version_chunk`]; on PostgreSQL under the project's quota lock, which
    /// clips take too, so two servers cannot both pass the quota).
    ///
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]).
    fn put_version_chunk(
        &self,
        project: &Project,
        hash: &ClipHash,
        index: u64,
        bytes: &[u8],
        quota: u64,
    ) -> Result<ChunkPut>;
    /// One stored chunk of a version (complete or not). Each call reads one chunk and
    /// counts it ([`Store::chunks_read`]).
    ///
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]).
    fn version_chunk(
        &self,
        project: &Project,
        hash: &ClipHash,
        index: u64,
    ) -> Result<Option<Vec<u8>>>;
    /// How many chunks [`Store::version_chunk`] has read since the store was opened: what
    /// proves that a byte range is served from the chunks it covers only.
    fn chunks_read(&self) -> u64;
    /// Records that a version's chunks hash to its name: it is complete and may be served.
    ///
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]).
    fn complete_version(
        &self,
        project: &Project,
        token: Option<i64>,
        hash: &ClipHash,
        size: u64,
    ) -> Result<()>;
    /// Drops every chunk of an incomplete version (its whole did not hash to its name).
    ///
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]).
    fn drop_version_chunks(&self, project: &Project, hash: &ClipHash) -> Result<()>;
    /// The hashes of the complete versions a project holds (for `liner check`).
    ///
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]).
    fn version_hashes(&self, project: &Project) -> Result<Vec<String>>;
    /// Checks a version whose chunks are all stored: their SHA-256, read a chunk at a time
    /// (never the whole version in memory), must be its hash. Then it is complete
    /// ([`Store::complete_version`]); otherwise its chunks are dropped, so the next upload
    /// starts clean. Returns whether it matched. Two checks of one version at once agree
    /// (completing is idempotent).
    ///
    /// # Errors
    /// The database fails, or a chunk went missing meanwhile ([`StoreError::Aborted`]).
    fn finish_version(
        &self,
        project: &Project,
        token: Option<i64>,
        hash: &ClipHash,
        size: u64,
    ) -> Result<bool> {
        let matches = self.version_matches(project, hash, size)?;
        if matches {
            self.complete_version(project, token, hash, size)?;
        } else {
            self.drop_version_chunks(project, hash)?;
        }
        Ok(matches)
    }
    /// Whether the stored chunks of a version of `size` bytes hash to its name, read a chunk
    /// at a time.
    ///
    /// # Errors
    /// The database fails, or a chunk is missing ([`StoreError::Aborted`]).
    fn version_matches(&self, project: &Project, hash: &ClipHash, size: u64) -> Result<bool> {
        use sha2::Digest;
        let mut hasher = sha2::Sha256::new();
        for index in 0..liner_record::versions::chunks_of(size) {
            let chunk = self.version_chunk(project, hash, index)?.ok_or_else(|| {
                StoreError::Aborted(format!("chunk {index} of version {hash} went missing"))
            })?;
            hasher.update(&chunk);
        }
        Ok(ClipHash::of_digest(hasher) == *hash)
    }

    /// Adds a webhook to `project` delivering `events` (`all`, or kinds joined by commas) to
    /// `url`, with a new signing secret; it is told of events stored from now on (its cursor
    /// starts at the project's latest number).
    ///
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]).
    fn add_hook(&self, project: &Project, url: &str, events: &str) -> Result<Hook>;
    /// Every webhook, with its delivery state, by id.
    ///
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]).
    fn hooks(&self) -> Result<Vec<Hook>>;
    /// Removes a webhook (its log stays).
    ///
    /// # Errors
    /// The database fails, or there is no such hook ([`StoreError::NoHook`]).
    fn remove_hook(&self, id: i64) -> Result<()>;
    /// Claims a hook for `owner` until `lease_ms`, if it is due (`next_ms` passed) and no
    /// other process holds it: the hook as claimed, or None. Only the holder of a hook's
    /// lease settles it ([`Store::settle_hook`]).
    ///
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]).
    fn claim_hook(&self, id: i64, owner: &str, now_ms: i64, lease_ms: i64) -> Result<Option<Hook>>;
    /// Moves a hook on from `cursor` (compare-and-set: only if `owner` still holds it and its
    /// cursor is still `cursor`), renews the lease to `lease_ms`, and logs `attempt` in the
    /// same transaction. False: someone else moved it (nothing written).
    ///
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]).
    fn settle_hook(
        &self,
        id: i64,
        owner: &str,
        cursor: u64,
        next: Settle,
        lease_ms: i64,
        attempt: Option<&Attempt>,
    ) -> Result<bool>;
    /// Lets go of a hook `owner` holds, so any process may take it at once.
    ///
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]).
    fn release_hook(&self, id: i64, owner: &str) -> Result<()>;
    /// The newest `limit` delivery attempts, newest first, of one project's hooks and/or
    /// one hook (None: all).
    ///
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]).
    fn hook_log(
        &self,
        project: Option<i64>,
        hook: Option<i64>,
        limit: usize,
    ) -> Result<Vec<Attempt>>;
    /// One stored event of a project by its id: (seq, JSON).
    ///
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]).
    fn event_by_id(&self, project: &Project, id: Uuid) -> Result<Option<(u64, String)>>;

    /// A person's digest settings in a project, if they have any ([`digests`]).
    ///
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]).
    fn digest_prefs(&self, project: &Project, person: &str) -> Result<Option<DigestPrefs>>;
    /// Every person's digest settings, by project and person (for the mail task and
    /// `liner mail list`).
    ///
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]).
    fn all_digest_prefs(&self) -> Result<Vec<DigestPrefs>>;
    /// Records that `person` looked at their digest at `at_ms` (never moving it back), as
    /// `role`: their next look starts from there.
    ///
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]).
    fn record_look(&self, project: &Project, person: &str, role: Role, at_ms: i64) -> Result<()>;
    /// Makes `person` a new private feed address speaking as `role`: returns its secret
    /// (shown once, stored hashed). The old one, if any, stops working.
    ///
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]).
    fn new_feed(&self, project: &Project, person: &str, role: Role) -> Result<String>;
    /// Turns `person`'s feed off: its address stops working.
    ///
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]).
    fn end_feed(&self, project: &Project, person: &str) -> Result<()>;
    /// Whose feed a secret opens: only a feed that is on, of a person who still holds a live
    /// token of its role (the hash compared again in constant time).
    ///
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]).
    fn feed(&self, secret: &str) -> Result<Option<DigestPrefs>>;
    /// Where `person`'s digest is mailed and how often (`to` None or `every` None: not). A
    /// first mail (and the first after it was off) tells what came after this call: its mark
    /// starts now.
    ///
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]).
    fn set_mail(
        &self,
        project: &Project,
        person: &str,
        role: Role,
        to: Option<&str>,
        every: Option<Every>,
    ) -> Result<()>;
    /// Moves when `person`'s last mail went from `from` to `to` (compare-and-set: false when
    /// it is no longer `from`, another server took the mail).
    ///
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]).
    fn move_mailed(
        &self,
        project_id: i64,
        person: &str,
        from: Option<i64>,
        to: Option<i64>,
    ) -> Result<bool>;

    /// Starts a review page session for a token: returns (cookie secret, CSRF secret). Only
    /// the secret's hash is stored.
    ///
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]).
    fn create_session(&self, token: i64) -> Result<(String, String)>;
    /// The live token and CSRF secret of a session (None: unknown, expired, or its token was
    /// revoked).
    ///
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]).
    fn session(&self, secret: &str) -> Result<Option<(TokenInfo, String)>>;
    /// Ends a session.
    ///
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]).
    fn end_session(&self, secret: &str) -> Result<()>;

    /// Makes a listening link; returns it with its secret (shown once, stored hashed).
    ///
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]).
    fn create_link(&self, new: &NewLink) -> Result<(GuestLink, String)>;
    /// A project's listening links, newest first.
    ///
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]).
    fn links(&self, project: &Project) -> Result<Vec<GuestLink>>;
    /// The link with this secret, whatever its state (the caller says expired or revoked).
    ///
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]).
    fn link(&self, secret: &str) -> Result<Option<GuestLink>>;
    /// Counts a guest's visit: when it was last used, and how often.
    ///
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]).
    fn link_used(&self, link: i64) -> Result<()>;
    /// Revokes a link of `project`; false when it has no such link (or it was revoked).
    ///
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]).
    fn revoke_link(&self, project: &Project, link: i64) -> Result<bool>;
    /// Starts a guest's session on a link with a passphrase: returns the cookie's secret
    /// (stored hashed).
    ///
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]).
    fn create_guest_session(&self, link: i64) -> Result<String>;
    /// The link a guest session belongs to (whatever the link's state: the caller checks it).
    ///
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]).
    fn guest_session(&self, secret: &str) -> Result<Option<i64>>;
    /// Holds a guest's comment for the executive; false (nothing stored) when the link holds
    /// [`guests::MAX_HELD_PER_LINK`] already.
    ///
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]).
    fn hold_comment(&self, comment: &NewComment) -> Result<bool>;
    /// A project's held comments, oldest first.
    ///
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]).
    fn held_comments(&self, project: &Project) -> Result<Vec<HeldComment>>;
    /// Accepts or dismisses a held comment of `project`: returns it, or `None` when there is
    /// no such comment waiting (settled already, by another click or another server).
    ///
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]).
    fn settle_comment(
        &self,
        project: &Project,
        comment: i64,
        settle: Fate,
    ) -> Result<Option<HeldComment>>;
    /// Puts a comment back to waiting (its acceptance could not be recorded).
    ///
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]).
    fn unsettle_comment(&self, comment: i64) -> Result<()>;

    /// The audit trail of every event of a project, for the JSON export.
    ///
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]).
    fn received(
        &self,
        project: &Project,
    ) -> Result<std::collections::BTreeMap<Uuid, liner_record::export::Received>> {
        Ok(self
            .receipts(project, None)?
            .into_iter()
            .map(|r| {
                (
                    r.id,
                    liner_record::export::Received {
                        received_at: r.received_ms,
                        token: r.token.as_ref().map(|t| t.id),
                        person: r.token.as_ref().map(|t| t.person.clone()),
                        role: r.token.as_ref().map(|t| t.role),
                    },
                )
            })
            .collect())
    }

    /// Every event of a project, parsed, in sequence order (for exports). Stored events were
    /// validated on the way in; one that does not parse (stored by an old version) is
    /// skipped.
    ///
    /// # Errors
    /// The database fails ([`StoreError::Db`], [`StoreError::Postgres`], [`StoreError::Connect`]).
    fn events(&self, project: &Project) -> Result<Vec<liner_record::Event>> {
        Ok(self
            .pull(project, 0, usize::MAX / 2)?
            .into_iter()
            .filter_map(|(_, json)| serde_json::from_str(&json).ok())
            .collect())
    }
}

/// How long a review page sign-in lasts.
pub const SESSION_MS: i64 = 30 * 24 * 3600 * 1000;

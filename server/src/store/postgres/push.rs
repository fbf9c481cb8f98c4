//! PostgreSQL's door for events: each server process writes the pushes it takes in groups,
//! one transaction per group, whatever their projects (group commit).
//!
//! A push on its own costs the database a transaction of ten statements and a disk flush,
//! most of it the same whatever the push holds. Here a writer task of the store's own takes
//! every push queued by the time it is free (up to [`GROUP_EVENTS`] events), and writes them
//! with the same handful of statements: lock the projects' rows, read what judging needs,
//! insert every new row, commit, tell the other processes. Then it answers them all and
//! takes the next group.
//!
//! The writer never waits for a project's row. One that another transaction holds (another
//! process's group, an import) is skipped, and that project's pushes are tried again in the
//! next group, first. Held again, they go to a task of their own that waits for the row and
//! writes them, with every later push of the project, until none is left. So a held project
//! holds up its own pushes only, two processes' groups rarely wait for each other, and a
//! project's pushes are still written in the order they came.
//!
//! Guaranteed as for one push alone:
//! - Each push's events are judged in order against what is stored and what came before
//!   them, earlier pushes of the group included.
//! - A project's numbers are given out under the lock on its row (its `last_seq`), held
//!   until the group commits: gapless, in commit order, across processes. Only a held
//!   project's task waits for a project's row, and for that one row alone, so pushes never
//!   wait on each other's rows in a cycle. An import (`liner migrate` into a database
//!   being served) takes its projects' rows before copying into them, so a group never
//!   writes beside it.
//! - Nothing is acknowledged before the commit that holds it. A push whose project is not
//!   there is answered so, alone; if a statement or the commit fails, every push of the group
//!   gets the error and nothing of it is stored (the clients send again). If the write
//!   panics, its pushes are answered with an error and the writer goes on.

use super::{connect, CHANNEL};
use crate::store::group::{self, stopped, Push, Room};
use crate::store::shared::{
    clippable_key, consulted, event_key, first_look, is_subject_key, judgeable_key, now_ms,
    owned_keys, EventKey,
};
use crate::store::{Incoming, Project, PushOutcome, Result, StoreError};
use deadpool_postgres::Pool;
use futures_util::FutureExt;
use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

/// At most this many events, and this many bytes of their lines, go into one transaction (a
/// push is never split: a group holds at least one push, however large). The lines go to the
/// database as one array, and PostgreSQL takes no value over 1 GB: pushes of large events
/// (up to 512 KiB each) make smaller groups.
const GROUP_EVENTS: usize = 10_000;
const GROUP_BYTES: usize = 64 << 20;

/// An empty group of this store.
fn group_room() -> Room {
    Room::new(GROUP_EVENTS, GROUP_BYTES)
}

/// The queue of one process's writer.
pub(super) struct Writer {
    jobs: mpsc::UnboundedSender<Job>,
}

/// One push waiting to be written, and where its answer goes.
struct Job {
    push: Push,
    reply: oneshot::Sender<Result<Vec<PushOutcome>>>,
}

impl Writer {
    /// Starts the writer task on `rt`, writing with connections of `pool`. It ends with the
    /// runtime.
    pub(super) fn start(rt: &tokio::runtime::Runtime, pool: Pool) -> Writer {
        let (jobs, queued) = mpsc::unbounded_channel();
        rt.spawn(run(queued, pool));
        Writer { jobs }
    }

    /// Queues a push of `events` of `project`; its answer comes through the receiver.
    pub(super) fn queue(
        &self,
        project: &Project,
        token: Option<i64>,
        events: Vec<Incoming>,
    ) -> group::Answer {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            push: Push {
                project: project.clone(),
                token,
                events,
            },
            reply,
        };
        // A writer that is gone (the store is being dropped) drops the job, and with it the
        // reply: the waiter hears that the push was not written.
        let _ = self.jobs.send(job);
        answer
    }
}

/// Projects whose row another transaction held when a group wanted it, each with its
/// pushes in order. A task of their own waits for the row and writes them ([`wait_for`]);
/// until it has written them all, every new push of the project joins them, so a project's
/// pushes are still written in the order they came.
type Held = Arc<Mutex<HashMap<i64, VecDeque<Job>>>>;

/// How a group takes its projects' rows.
#[derive(Clone, Copy, PartialEq)]
enum Lock {
    /// Skips a row another transaction holds: its pushes go to [`Held`].
    Skip,
    /// Waits for every row (in id order).
    Wait,
}

/// The writer: groups, written one after another, until the store is dropped.
async fn run(mut queued: mpsc::UnboundedReceiver<Job>, pool: Pool) {
    let held: Held = Arc::default();
    // Pushes for the next group before any new one, in the order they came: those whose
    // project's row was held, and one that did not fit the last group (each routed again,
    // as its project may have gone to a waiting task since).
    let mut carried: VecDeque<Job> = VecDeque::new();
    // Projects whose row the last group found held: found held again, their pushes go to a
    // task that waits for the row (in the label bench, trying more often only lengthened the
    // tail).
    let mut held_last: HashSet<i64> = HashSet::new();
    loop {
        let first = match carried.pop_front() {
            Some(job) => job,
            None => match queued.recv().await {
                Some(job) => job,
                None => return,
            },
        };
        let (mut group, mut room) = (Vec::new(), group_room());
        let mut next = Some(first);
        while let Some(job) = next {
            if let Some(job) = route(&held, job) {
                if !room.take(&job.push) {
                    carried.push_front(job);
                    break;
                }
                group.push(job);
            }
            next = carried.pop_front().or_else(|| queued.try_recv().ok());
        }
        if group.is_empty() {
            continue;
        }
        let total = group.len();
        let skipped = write(&pool, group, Lock::Skip).await;
        // Nothing written: the rows are held; give their holders a moment.
        let waited = skipped.len() == total;
        let mut again = Vec::new();
        for job in skipped {
            let project = job.push.project.id;
            if held_last.contains(&project) || held_already(&held, project) {
                hold(&held, &pool, job);
            } else {
                again.push(job);
            }
        }
        held_last = again.iter().map(|job| job.push.project.id).collect();
        for job in again.into_iter().rev() {
            carried.push_front(job);
        }
        if waited {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    }
}

/// Whether `project`'s pushes already wait in a task of their own.
fn held_already(held: &Held, project: i64) -> bool {
    held.lock()
        .unwrap_or_else(|e| e.into_inner())
        .contains_key(&project)
}

/// `job`, unless its project is held: then it joins the project's waiting pushes.
fn route(held: &Held, job: Job) -> Option<Job> {
    let mut held = held.lock().unwrap_or_else(|e| e.into_inner());
    match held.get_mut(&job.push.project.id) {
        Some(waiting) => {
            waiting.push_back(job);
            None
        }
        None => Some(job),
    }
}

/// Puts `job`, whose project's row was held, with the project's waiting pushes; the first
/// starts the task that waits for the row.
fn hold(held: &Held, pool: &Pool, job: Job) {
    let project = job.push.project.id;
    let mut waiting = held.lock().unwrap_or_else(|e| e.into_inner());
    match waiting.entry(project) {
        Entry::Occupied(mut e) => e.get_mut().push_back(job),
        Entry::Vacant(e) => {
            e.insert(VecDeque::from([job]));
            tokio::spawn(wait_for(held.clone(), pool.clone(), project));
        }
    }
}

/// Writes a held project's pushes, waiting for its row, until none is left.
async fn wait_for(held: Held, pool: Pool, project: i64) {
    loop {
        let group: Vec<Job> = {
            let mut held = held.lock().unwrap_or_else(|e| e.into_inner());
            let Some(waiting) = held.get_mut(&project) else {
                return;
            };
            if waiting.is_empty() {
                held.remove(&project);
                return;
            }
            let (mut group, mut room) = (Vec::new(), group_room());
            while waiting.front().is_some_and(|job| room.take(&job.push)) {
                group.extend(waiting.pop_front());
            }
            group
        };
        // A group that waits for its row skips nothing; one given back all the same is
        // answered rather than left waiting.
        for job in write(&pool, group, Lock::Wait).await {
            let _ = job.reply.send(Err(stopped()));
        }
    }
}

/// Writes `group` and answers its pushes, except those whose project's row was held (with
/// [`Lock::Skip`]): those are given back, in order.
async fn write(pool: &Pool, group: Vec<Job>, lock: Lock) -> Vec<Job> {
    let pushes: Vec<&Push> = group.iter().map(|job| &job.push).collect();
    // A panic drops the replies unanswered (their waiters hear "not written").
    let written = std::panic::AssertUnwindSafe(write_group(pool, &pushes, lock))
        .catch_unwind()
        .await;
    let mut skipped = Vec::new();
    match written {
        Ok(Ok(answers)) => {
            for (job, answer) in group.into_iter().zip(answers) {
                match answer {
                    Some(answer) => {
                        let _ = job.reply.send(answer);
                    }
                    None => skipped.push(job),
                }
            }
        }
        Ok(Err(e)) => {
            for job in group {
                let _ = job.reply.send(Err(same_error(&e)));
            }
        }
        Err(_) => tracing::error!("writing a group of pushes panicked; they were not stored"),
    }
    skipped
}

/// A copy of `e`, the group's failure, for each push of it.
fn same_error(e: &StoreError) -> StoreError {
    match e {
        StoreError::Connect(why) => StoreError::Connect(why.clone()),
        other => StoreError::Aborted(format!("{other}; nothing of the push was stored")),
    }
}

/// Writes `group` in one transaction: each push's answer (None: its project's row was held,
/// with [`Lock::Skip`]; nothing of it written), or why the whole group failed (nothing of it
/// stored).
async fn write_group(
    pool: &Pool,
    group: &[&Push],
    lock: Lock,
) -> Result<Vec<Option<Result<Vec<PushOutcome>>>>> {
    let mut c = connect(pool).await?;
    let st = Statements::prepare(&c).await?;
    let tx = c.transaction().await?;
    let (mut last, held) = lock_projects(&tx, &st, group, lock).await?;
    let locked: Vec<&Push> = group
        .iter()
        .filter(|p| last.contains_key(&p.project.id))
        .copied()
        .collect();
    let mut known = Known::read(&tx, &st, &locked).await?;
    let mut new = NewRows::default();
    let mut answers = Vec::with_capacity(group.len());
    for push in group {
        let project = push.project.id;
        if held.contains(&project) {
            answers.push(None);
            continue;
        }
        let Some(last) = last.get_mut(&project) else {
            answers.push(Some(Err(StoreError::NoProject(push.project.name.clone()))));
            continue;
        };
        let known = known.entry(project).or_default();
        let mut out = Vec::with_capacity(push.events.len());
        for incoming in &push.events {
            let id = incoming.event.id.to_string();
            let stored = known
                .lines
                .get(&id)
                .map(|(seq, line)| (*seq as u64, line.as_str()));
            let mut owner_of =
                |key: String| Ok::<_, std::convert::Infallible>(known.owner_of(&key));
            let outcome = match first_look(stored, incoming, &mut owner_of) {
                Ok(Some(outcome)) => outcome,
                Err(never) => match never {},
                Ok(None) => {
                    *last += 1;
                    new.add(push, incoming, id, *last, known);
                    PushOutcome::Stored(*last as u64)
                }
            };
            out.push(outcome);
        }
        answers.push(Some(Ok(out)));
    }
    if new.seqs.is_empty() {
        tx.commit().await?;
        return Ok(answers);
    }
    let changed: Vec<(i64, i64)> = new
        .projects
        .iter()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .map(|p| (*p, last[p]))
        .collect();
    new.write(&tx, &st, &changed).await?;
    #[cfg(test)]
    assert!(
        !group.iter().any(|p| p.project.name == group::tests::PANICS),
        "a group that panics before its commit (tests)"
    );
    tx.commit().await?;
    // Told after the commit, not in the transaction: a transaction that notifies holds a
    // database-wide lock through its commit's flush, so groups would commit one at a time.
    // The notice's own commit need not wait for the disk (what it announces is on disk
    // already). If this process dies right here, readers elsewhere learn of the events at
    // their next wake-up or the end of their poll: late, never lost.
    let payloads: Vec<String> = changed
        .iter()
        .map(|(p, seq)| format!("{p}:{seq}"))
        .collect();
    if let Err(e) = c.execute(&st.notify, &[&CHANNEL, &payloads]).await {
        tracing::warn!("telling other servers of a push: {e}");
    }
    Ok(answers)
}

/// Locks the rows of `group`'s projects: the last number given out in each project locked,
/// and (with [`Lock::Skip`]) the projects another transaction holds. A project in neither
/// is not in the database.
async fn lock_projects(
    tx: &deadpool_postgres::Transaction<'_>,
    st: &Statements,
    group: &[&Push],
    lock: Lock,
) -> Result<(HashMap<i64, i64>, HashSet<i64>)> {
    let projects: Vec<i64> = group
        .iter()
        .map(|p| p.project.id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let locking = if lock == Lock::Skip {
        &st.lock_free
    } else {
        &st.lock
    };
    let last: HashMap<i64, i64> = tx
        .query(locking, &[&projects])
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    // A project not locked is gone, or (skipping) held by another transaction.
    let absent: Vec<i64> = projects
        .iter()
        .filter(|p| !last.contains_key(p))
        .copied()
        .collect();
    let held: HashSet<i64> = if absent.is_empty() || lock == Lock::Wait {
        HashSet::new()
    } else {
        let rows = tx.query(&st.exist, &[&absent]).await?;
        rows.iter().map(|r| r.get(0)).collect()
    };
    Ok((last, held))
}

/// The statements of a group, prepared once per connection (then one round trip each, no
/// parsing).
struct Statements {
    lock: tokio_postgres::Statement,
    lock_free: tokio_postgres::Statement,
    exist: tokio_postgres::Statement,
    find: tokio_postgres::Statement,
    find_moments: tokio_postgres::Statement,
    owners: tokio_postgres::Statement,
    insert_events: tokio_postgres::Statement,
    insert_subjects: tokio_postgres::Statement,
    insert_clip_refs: tokio_postgres::Statement,
    insert_version_refs: tokio_postgres::Statement,
    count: tokio_postgres::Statement,
    notify: tokio_postgres::Statement,
}

impl Statements {
    async fn prepare(c: &deadpool_postgres::Object) -> Result<Statements> {
        // All at once (the driver pipelines them). Keys come as (project, key) columns; each
        // is looked up in its index (the LIMIT keeps the lookup a subquery of its own, so
        // the planner cannot turn it into a scan of the table while it thinks it small).
        let (
            lock,
            lock_free,
            exist,
            find,
            find_moments,
            owners,
            insert_events,
            insert_subjects,
            insert_clip_refs,
            insert_version_refs,
            count,
            notify,
        ) = futures_util::try_join!(
            c.prepare_cached(
                "SELECT id, last_seq FROM projects WHERE id = ANY($1) ORDER BY id FOR UPDATE"
            ),
            c.prepare_cached(
                "SELECT id, last_seq FROM projects WHERE id = ANY($1) ORDER BY id \
                 FOR UPDATE SKIP LOCKED"
            ),
            c.prepare_cached("SELECT id FROM projects WHERE id = ANY($1)"),
            c.prepare_cached(
                "SELECT k.p, k.i, e.seq, e.json FROM UNNEST($1::BIGINT[], $2::TEXT[]) AS k(p, i), \
                 LATERAL (SELECT seq, json FROM events \
                 WHERE project_id = k.p AND id = k.i LIMIT 1) AS e"
            ),
            c.prepare_cached(
                "SELECT k.p, k.i, e.author, e.judgeable, e.clippable \
                 FROM UNNEST($1::BIGINT[], $2::TEXT[]) AS k(p, i), \
                 LATERAL (SELECT author, judgeable, clippable FROM events \
                 WHERE project_id = k.p AND id = k.i LIMIT 1) AS e"
            ),
            c.prepare_cached(
                "SELECT k.p, k.i, s.owner FROM UNNEST($1::BIGINT[], $2::TEXT[]) AS k(p, i), \
                 LATERAL (SELECT owner FROM subjects \
                 WHERE project_id = k.p AND key = k.i LIMIT 1) AS s"
            ),
            c.prepare_cached(
                "INSERT INTO events (project_id, seq, id, json, received_ms, token_id, author, \
                 judgeable, clippable) \
                 SELECT p, s, i, j, $1, t, a, jb, cb FROM UNNEST($2::BIGINT[], $3::BIGINT[], \
                 $4::TEXT[], $5::TEXT[], $6::BIGINT[], $7::TEXT[], $8::BOOLEAN[], \
                 $9::BOOLEAN[]) AS n(p, s, i, j, t, a, jb, cb)"
            ),
            c.prepare_cached(
                "INSERT INTO subjects (project_id, key, owner) \
                 SELECT p, k, o FROM UNNEST($1::BIGINT[], $2::TEXT[], $3::TEXT[]) AS n(p, k, o) \
                 ON CONFLICT DO NOTHING"
            ),
            c.prepare_cached(
                "INSERT INTO clip_refs (project_id, hash, bytes) \
                 SELECT p, h, b FROM UNNEST($1::BIGINT[], $2::TEXT[], $3::BIGINT[]) \
                 AS n(p, h, b) ON CONFLICT DO NOTHING"
            ),
            c.prepare_cached(
                "INSERT INTO version_refs (project_id, hash, bytes) \
                 SELECT p, h, b FROM UNNEST($1::BIGINT[], $2::TEXT[], $3::BIGINT[]) \
                 AS n(p, h, b) ON CONFLICT DO NOTHING"
            ),
            c.prepare_cached(
                "UPDATE projects SET last_seq = n.s \
                 FROM UNNEST($1::BIGINT[], $2::BIGINT[]) AS n(p, s) WHERE id = n.p"
            ),
            c.prepare_cached(
                "SELECT set_config('synchronous_commit', 'off', true), pg_notify($1, n) \
                 FROM UNNEST($2::TEXT[]) AS n"
            ),
        )?;
        Ok(Statements {
            lock,
            lock_free,
            exist,
            find,
            find_moments,
            owners,
            insert_events,
            insert_subjects,
            insert_clip_refs,
            insert_version_refs,
            count,
            notify,
        })
    }
}

/// What the judge of one project's pushes knows: the lines stored under their ids and the
/// ids of the notes, versions and replies they name, and the owners of the other keys they
/// consult; then also what the group adds, event by event.
#[derive(Default)]
struct Known {
    lines: HashMap<String, (i64, String)>,
    owner: HashMap<String, String>,
}

impl Known {
    /// Who owns `key`: what the group added or the database said, else (for a note,
    /// version or reply) the line under the id of the event that made it. Whether an event
    /// may be judged or given a clip is its row's columns' to say alone (a line read for
    /// another reason never answers it).
    fn owner_of(&self, key: &str) -> Option<String> {
        if let Some(owner) = self.owner.get(key) {
            return Some(owner.clone());
        }
        let of @ EventKey::Made(..) = event_key(key)? else {
            return None;
        };
        let (_, line) = self.lines.get(&of.event().to_string())?;
        of.owner_in(line)
    }
}

/// A statement's parameters, bound to a name so they outlive pipelined calls.
type Params<'a, const N: usize> = [&'a (dyn tokio_postgres::types::ToSql + Sync); N];

/// (project, key) pairs as the two columns `UNNEST` takes.
#[derive(Default)]
struct Pairs {
    seen: HashSet<(i64, String)>,
    projects: Vec<i64>,
    keys: Vec<String>,
}

impl Pairs {
    fn add(&mut self, project: i64, key: String) {
        if self.seen.insert((project, key.clone())) {
            self.projects.push(project);
            self.keys.push(key);
        }
    }
}

impl Known {
    /// Reads it for every project of the group, in three questions sent at once (the driver
    /// pipelines them).
    async fn read(
        tx: &deadpool_postgres::Transaction<'_>,
        st: &Statements,
        group: &[&Push],
    ) -> Result<HashMap<i64, Known>> {
        let (mut ids, mut claims, mut targets) =
            (Pairs::default(), Pairs::default(), Pairs::default());
        for push in group {
            let p = push.project.id;
            for i in &push.events {
                ids.add(p, i.event.id.to_string());
                let (claim, of) = consulted(&i.event);
                for key in claim {
                    // A note's, version's or reply's owner is its event's row: read with
                    // the ids (a new note's own is there already).
                    match event_key(&key) {
                        Some(of @ EventKey::Made(..)) => ids.add(p, of.event().to_string()),
                        _ => claims.add(p, key),
                    }
                }
                for target in of {
                    targets.add(p, target.to_string());
                }
            }
        }
        let (by_id, by_key, by_target): (Params<'_, _>, Params<'_, _>, Params<'_, _>) = (
            [&ids.projects, &ids.keys],
            [&claims.projects, &claims.keys],
            [&targets.projects, &targets.keys],
        );
        let (stored, owned, moments) = futures_util::try_join!(
            tx.query(&st.find, &by_id),
            tx.query(&st.owners, &by_key),
            tx.query(&st.find_moments, &by_target),
        )?;
        let mut known: HashMap<i64, Known> = HashMap::new();
        for r in &stored {
            known
                .entry(r.get(0))
                .or_default()
                .lines
                .insert(r.get(1), (r.get(2), r.get(3)));
        }
        for r in &owned {
            known
                .entry(r.get(0))
                .or_default()
                .owner
                .insert(r.get(1), r.get(2));
        }
        for r in &moments {
            let (id, author): (String, String) = (r.get(1), r.get(2));
            let id: Uuid = id.parse().unwrap_or_else(|_| Uuid::nil());
            let owner = &mut known.entry(r.get(0)).or_default().owner;
            if r.get(3) {
                owner.insert(judgeable_key(id), author.clone());
            }
            if r.get(4) {
                owner.insert(clippable_key(id), author);
            }
        }
        Ok(known)
    }
}

/// A group's new rows, column by column (what `UNNEST` takes).
#[derive(Default)]
struct NewRows {
    projects: Vec<i64>,
    seqs: Vec<i64>,
    ids: Vec<String>,
    jsons: Vec<String>,
    tokens: Vec<Option<i64>>,
    authors: Vec<String>,
    judgeable: Vec<bool>,
    clippable: Vec<bool>,
    subjects: Subjects,
    clips: Refs,
    versions: Refs,
}

/// Subject rows: (project, key, owner).
#[derive(Default)]
struct Subjects {
    projects: Vec<i64>,
    keys: Vec<String>,
    owners: Vec<String>,
}

/// Clip or version references: (project, hash, bytes).
#[derive(Default)]
struct Refs {
    projects: Vec<i64>,
    hashes: Vec<String>,
    bytes: Vec<i64>,
}

impl Refs {
    fn add(&mut self, project: i64, hash: &str, bytes: u64) {
        self.projects.push(project);
        self.hashes.push(hash.to_owned());
        self.bytes.push(bytes as i64);
    }

    async fn write(
        &self,
        tx: &deadpool_postgres::Transaction<'_>,
        statement: &tokio_postgres::Statement,
    ) -> std::result::Result<u64, tokio_postgres::Error> {
        if self.hashes.is_empty() {
            return Ok(0);
        }
        let rows: Params<'_, _> = [&self.projects, &self.hashes, &self.bytes];
        tx.execute(statement, &rows).await
    }
}

impl NewRows {
    /// An event of `push` the judge let in, stored as number `seq`: its row, the subjects it
    /// makes its author own (which later events of the group then see), and the clip or
    /// version it names.
    fn add(&mut self, push: &Push, incoming: &Incoming, id: String, seq: i64, known: &mut Known) {
        let (project, author) = (push.project.id, &incoming.event.author);
        for key in owned_keys(&incoming.event) {
            if !known.owner.contains_key(&key) {
                known.owner.insert(key.clone(), author.clone());
                // Judgeable and clippable are the event row's to say.
                if is_subject_key(&key) {
                    self.subjects.projects.push(project);
                    self.subjects.keys.push(key);
                    self.subjects.owners.push(author.clone());
                }
            }
        }
        match &incoming.event.body {
            liner_record::Body::ClipAttached(c) => {
                self.clips.add(project, c.clip.hash.as_str(), c.clip.bytes);
            }
            liner_record::Body::VersionPrinted(v) => {
                self.versions
                    .add(project, v.version.hash.as_str(), v.version.bytes);
            }
            _ => {}
        }
        known.lines.insert(id.clone(), (seq, incoming.json.clone()));
        self.projects.push(project);
        self.seqs.push(seq);
        self.ids.push(id);
        self.jsons.push(incoming.json.clone());
        self.tokens.push(push.token);
        self.authors.push(author.clone());
        self.judgeable
            .push(liner_record::rules::judgeable(&incoming.event.body));
        self.clippable
            .push(liner_record::rules::clippable(&incoming.event.body));
    }

    /// Writes the rows and each changed project's new last number `(project, last)`, all at
    /// once (pipelined).
    async fn write(
        &self,
        tx: &deadpool_postgres::Transaction<'_>,
        st: &Statements,
        changed: &[(i64, i64)],
    ) -> Result<()> {
        let now = now_ms();
        let (counted, lasts): (Vec<i64>, Vec<i64>) = changed.iter().copied().unzip();
        let rows: Params<'_, _> = [
            &now,
            &self.projects,
            &self.seqs,
            &self.ids,
            &self.jsons,
            &self.tokens,
            &self.authors,
            &self.judgeable,
            &self.clippable,
        ];
        let s = &self.subjects;
        let subjects: Params<'_, _> = [&s.projects, &s.keys, &s.owners];
        let counter: Params<'_, _> = [&counted, &lasts];
        futures_util::try_join!(
            tx.execute(&st.insert_events, &rows),
            async {
                if s.keys.is_empty() {
                    return Ok(0);
                }
                tx.execute(&st.insert_subjects, &subjects).await
            },
            self.clips.write(tx, &st.insert_clip_refs),
            self.versions.write(tx, &st.insert_version_refs),
            tx.execute(&st.count, &counter),
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::group::tests::{incoming, note, push_that_panics, subjects_are_their_makers};
    use crate::store::Store;

    /// A push of `events` events whose lines are `bytes` long each (only the sizes count).
    fn push(events: usize, bytes: usize) -> Push {
        let incoming = Incoming {
            event: note("Ana", "a note"),
            json: "x".repeat(bytes),
        };
        Push {
            project: Project {
                id: 1,
                name: "P".into(),
            },
            token: None,
            events: vec![incoming; events],
        }
    }

    /// A store on a database of its own, with project "P".
    fn fresh() -> (crate::store::PgStore, Project) {
        let url = liner_test_support::pg::Cluster::get().new_database();
        let store = crate::store::PgStore::open(&url).unwrap();
        let project = store.create_project("P").unwrap();
        (store, project)
    }

    /// A group that panics with its rows written is answered with an error and stores
    /// nothing: its transaction is rolled back before its connection serves again, so the
    /// pushes after it are numbered from 1, and the writer goes on.
    #[test]
    fn a_group_that_panics_is_answered_and_the_writer_goes_on() {
        let (store, project) = fresh();
        push_that_panics(&store, &project);
        for n in 1..=5 {
            assert_eq!(
                store
                    .push(&project, None, &incoming(&[&note("Ana", "kept")]))
                    .unwrap(),
                vec![PushOutcome::Stored(n)]
            );
        }
        let seqs: Vec<u64> = store
            .pull(&project, 0, 10)
            .unwrap()
            .into_iter()
            .map(|(seq, _)| seq)
            .collect();
        assert_eq!(seqs, vec![1, 2, 3, 4, 5]);
    }

    /// A note writes its event's row alone (whose note it is, and that it may be judged or
    /// given a clip, are read from that row), so edits are judged as before.
    #[test]
    fn a_note_writes_no_subject_row() {
        let (store, project) = fresh();
        subjects_are_their_makers(&store, &project);
        let subjects: i64 = store
            .with(|c| async move {
                let row = c.query_one("SELECT COUNT(*) FROM subjects", &[]).await?;
                Ok(row.get(0))
            })
            .unwrap();
        assert_eq!(subjects, 0);
    }

    /// Whether an event may be judged is its row's column's to say, even when the group
    /// read its line for another reason (here an edit of the same note): a row stored when
    /// the rules said no is not judged by a later reading of its line.
    #[test]
    fn a_line_read_for_an_edit_does_not_make_its_event_judgeable() {
        use crate::store::group::tests::{context, edit};
        use liner_record::event::{Body, Event, Verdict};
        use liner_record::Role;
        let (store, project) = fresh();
        let mine = note("Ana", "one");
        store.push(&project, None, &incoming(&[&mine])).unwrap();
        store
            .with(|c| async move {
                c.execute("UPDATE events SET judgeable = FALSE", &[])
                    .await?;
                Ok(())
            })
            .unwrap();
        let mut boss = context("Eve");
        boss.role = Role::Executive;
        let verdict = Event::new(
            &boss,
            None,
            Body::Verdict {
                target: mine.id,
                verdict: Verdict::Approved,
                comment: String::new(),
            },
        );
        let answers = store
            .push(&project, None, &incoming(&[&edit("Ana", &mine), &verdict]))
            .unwrap();
        assert!(matches!(answers[0], PushOutcome::Stored(_)), "{answers:?}");
        assert!(
            matches!(
                answers[1],
                PushOutcome::Refused {
                    code: "unknown_target",
                    ..
                }
            ),
            "{answers:?}"
        );
    }

    /// A group takes pushes until the next would pass its events or its bytes; an empty
    /// group takes any push, however large, and one without events.
    #[test]
    fn a_group_is_bounded_by_events_and_by_bytes() {
        let mut room = group_room();
        assert!(room.take(&push(0, 0)), "a push without events");
        let mut room = group_room();
        assert!(room.take(&push(6_000, 10)));
        assert!(!room.take(&push(6_000, 10)), "12,000 events");
        assert!(room.take(&push(4_000, 10)), "10,000 events exactly");
        // Large lines: four pushes of 20 MiB pass 64 MiB.
        let big = push(20, 1 << 20);
        let mut room = group_room();
        assert!(room.take(&big) && room.take(&big) && room.take(&big));
        assert!(!room.take(&big), "80 MiB of lines");
        // A push alone over either bound still makes a group of its own.
        for alone in [push(20_000, 10), push(1, 65 << 20)] {
            let mut room = group_room();
            assert!(room.take(&alone));
            assert!(!room.take(&push(1, 10)));
        }
    }
}

//! `liner backup`, `liner restore` and `liner check`: a studio's record (every event, token,
//! session and clip) copied while the server runs, put back into an empty data folder, and
//! verified.
//!
//! - A backup is one SQLite file, written beside its destination as `NAME.partial`, checked
//!   (`integrity_check`, the schema, the events it holds), flushed to disk, then renamed into
//!   place: a backup that exists is whole. It holds everything acknowledged before it began
//!   (one read transaction; see [`SqliteStore::copy_to`]). The record notes it, and the
//!   review page says when the last one ran.
//! - A restore refuses a data folder that holds a record, and a file that is not a sound
//!   backup of a schema this build knows; nothing is written then. Otherwise the copy goes
//!   in the same way (`.partial`, flushed, renamed) and is checked once opened.
//! - A check reads every stored event (it must parse and be stored as its canonical line)
//!   and every clip (its bytes must hash to its name), and on SQLite runs `integrity_check`.
//!
//! On PostgreSQL the database's own tools make backups (`pg_dump`); [`PG_BACKUP_WORDS`] says
//! how.

use crate::store::{BackupNote, Incoming, Project, SqliteStore, Store};
use anyhow::{bail, Context, Result};
use liner_record::clips::ClipHash;
use liner_record::journal;
use std::path::{Path, PathBuf};

/// What `liner backup` says on PostgreSQL.
pub const PG_BACKUP_WORDS: &str = "this record is in PostgreSQL: back it up with PostgreSQL's own \
    tool, for example `pg_dump --format=custom --file=liner.dump \"$LINER_DATABASE_URL\"` \
    (restore with `pg_restore --dbname=... liner.dump` into an empty database); it holds \
    every event, token and clip";

/// `NAME.partial` beside `file`.
fn partial(file: &Path) -> PathBuf {
    let mut name = file.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    file.with_file_name(name)
}

/// A new, empty file at `file`, readable by its owner only (as the journal makes its files).
fn create_private(file: &Path) -> Result<std::fs::File> {
    journal::open_private(file, false).with_context(|| format!("creating {}", file.display()))
}

/// Flushes `file` to disk, renames it to `to`, and flushes the folder.
fn settle(file: &Path, to: &Path) -> Result<()> {
    std::fs::File::open(file)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("flushing {}", file.display()))?;
    std::fs::rename(file, to).with_context(|| format!("renaming to {}", to.display()))?;
    if let Some(dir) = to.parent().filter(|d| !d.as_os_str().is_empty()) {
        journal::sync_dir(dir).with_context(|| format!("flushing {}", dir.display()))?;
    }
    Ok(())
}

/// Checks a backup file: a sound SQLite file of a Liner Notes record whose schema this build
/// knows. Returns the events it holds.
///
/// # Errors
/// The file is missing, damaged, not a backup, or from a newer version; the words say which.
pub fn verify(file: &Path) -> Result<u64> {
    if !file.is_file() {
        bail!("{} is not a file", file.display());
    }
    let facts = SqliteStore::inspect_copy(file).map_err(|e| {
        anyhow::anyhow!(
            "{} is not a Liner Notes backup, or it is damaged ({e})",
            file.display()
        )
    })?;
    if !facts.problems.is_empty() {
        bail!(
            "{} is damaged (SQLite's integrity check: {})",
            file.display(),
            facts.problems.join("; ")
        );
    }
    if facts.schema == 0 {
        bail!("{} is not a Liner Notes backup (no schema)", file.display());
    }
    if facts.schema > SqliteStore::SCHEMA_VERSION {
        bail!(
            "{} was made by a newer version of liner (schema {}, this one knows {}): restore it \
             with that version",
            file.display(),
            facts.schema,
            SqliteStore::SCHEMA_VERSION
        );
    }
    Ok(facts.events)
}

/// The record in the data folder `dir`, opened for a backup or a check: one must be there
/// (a mistyped `--data` must not make an empty record and report it sound), and at this
/// build's schema (opening an older one would upgrade it under the server that serves it).
///
/// # Errors
/// No record in `dir`, a record of another schema, or the database fails.
pub fn open_record(dir: &Path) -> Result<SqliteStore> {
    let db = dir.join("liner.db");
    if !std::fs::metadata(&db).is_ok_and(|m| m.len() > 0) {
        bail!(
            "{} holds no record (no liner.db): name the server's data folder with --data",
            dir.display()
        );
    }
    let schema =
        SqliteStore::schema_of(&db).with_context(|| format!("reading {}", db.display()))?;
    if schema != SqliteStore::SCHEMA_VERSION {
        bail!(
            "the record in {} is at schema {schema} and this liner knows {}: use the liner that \
             serves it (a newer one upgrades it when it serves it)",
            dir.display(),
            SqliteStore::SCHEMA_VERSION
        );
    }
    SqliteStore::open(dir).with_context(|| format!("opening the record in {}", dir.display()))
}

/// `liner backup --to FILE` of the SQLite record in `dir`, while a server may be writing.
///
/// # Errors
/// `to` exists (it is never overwritten), the copy fails its check, or the disk fails.
pub fn backup(dir: &Path, to: &Path) -> Result<BackupNote> {
    if to.exists() {
        bail!(
            "{} exists: name a new file (a backup never overwrites one)",
            to.display()
        );
    }
    let store = open_record(dir)?;
    let part = partial(to);
    let _ = std::fs::remove_file(&part);
    create_private(&part)?;
    let copied = store
        .copy_to(&part)
        .map_err(anyhow::Error::from)
        .and_then(|()| verify(&part));
    let events = match copied {
        Ok(events) => events,
        Err(e) => {
            let _ = std::fs::remove_file(&part);
            return Err(e.context("the backup failed; nothing was kept"));
        }
    };
    settle(&part, to)?;
    let note = BackupNote {
        at_ms: liner_record::event::now_ms(),
        bytes: std::fs::metadata(to)?.len(),
        events,
    };
    store.note_backup(&note)?;
    Ok(note)
}

/// `liner restore --from FILE` into the data folder `dir`, which must hold no record.
/// Returns the check of the restored record.
///
/// # Errors
/// `dir` holds a record, or `from` is not a sound backup (nothing is written then), or the
/// disk fails.
pub fn restore(from: &Path, dir: &Path) -> Result<Check> {
    let db = dir.join("liner.db");
    if std::fs::metadata(&db).is_ok_and(|m| m.len() > 0) {
        bail!(
            "{} already holds a record: restore into an empty data folder (--data DIR); \
             nothing was changed",
            dir.display()
        );
    }
    verify(from).context("nothing was restored")?;
    journal::create_private_dir(dir).with_context(|| format!("creating {}", dir.display()))?;
    let part = partial(&db);
    let _ = std::fs::remove_file(&part);
    {
        // Into the owner-only file as created: the backup's own permissions do not come along.
        let mut target = create_private(&part)?;
        let mut source =
            std::fs::File::open(from).with_context(|| format!("reading {}", from.display()))?;
        std::io::copy(&mut source, &mut target)
            .with_context(|| format!("copying {}", from.display()))?;
    }
    for stale in ["liner.db-wal", "liner.db-shm"] {
        let _ = std::fs::remove_file(dir.join(stale));
    }
    settle(&part, &db)?;
    let store = SqliteStore::open(dir)
        .with_context(|| format!("opening the restored record in {}", dir.display()))?;
    check(&store, Some(&store))
}

/// What `liner check` found.
#[derive(Debug, Default)]
pub struct Check {
    pub events: u64,
    pub clips: u64,
    pub versions: u64,
    pub hooks: u64,
    /// People with digest settings (a feed or mail).
    pub digests: u64,
    /// What is wrong, in words (empty: the record is sound).
    pub problems: Vec<String>,
}

/// `liner check`: every event, clip and complete version of `store` (and, on SQLite, the
/// file's integrity). A version is hashed a chunk at a time, as it was when it arrived.
///
/// # Errors
/// The database fails while it is read.
pub fn check(store: &dyn Store, sqlite: Option<&SqliteStore>) -> Result<Check> {
    let mut found = Check::default();
    if let Some(db) = sqlite {
        for problem in db.integrity()? {
            found.problems.push(format!("the database file: {problem}"));
        }
    }
    for project in store.projects()? {
        for (seq, json) in store.pull(&project, 0, usize::MAX / 2)? {
            found.events += 1;
            match Incoming::parse(&json) {
                Err(e) => found.problems.push(format!(
                    "{:?}, event #{seq}: not an event this version reads ({e})",
                    project.name
                )),
                Ok(incoming) if incoming.json != json => found.problems.push(format!(
                    "{:?}, event #{seq}: not stored as its canonical line",
                    project.name
                )),
                Ok(_) => {}
            }
        }
        for name in store.clip_hashes(&project)? {
            found.clips += 1;
            let sound = name.parse::<ClipHash>().ok().and_then(|hash| {
                let bytes = store.clip(&project, &hash).ok()??;
                Some(ClipHash::of(&bytes) == hash)
            });
            if sound != Some(true) {
                found.problems.push(format!(
                    "{:?}, clip {name}: its bytes do not hash to its name",
                    project.name
                ));
            }
        }
        check_versions(store, &project, &mut found)?;
    }
    check_hooks(store, &mut found)?;
    check_digests(store, &mut found)?;
    Ok(found)
}

/// Every person's digest settings: a mail address must be one `liner mail set` takes.
fn check_digests(store: &dyn Store, found: &mut Check) -> Result<()> {
    for d in store.all_digest_prefs()? {
        found.digests += 1;
        if let Some(to) = &d.mail_to {
            if let Err(e) = crate::mail::mailbox(to) {
                found.problems.push(format!(
                    "{:?}, {}'s digest mail: {e}",
                    d.project.name, d.person
                ));
            }
        }
    }
    Ok(())
}

/// Every webhook: its URL and kinds must be ones `liner webhook add` takes (a record edited
/// by hand, or a hook naming a kind a newer version added).
fn check_hooks(store: &dyn Store, found: &mut Check) -> Result<()> {
    for hook in store.hooks()? {
        found.hooks += 1;
        let events = (hook.events != "all").then_some(hook.events.as_str());
        let problem = crate::hooks::check_url(&hook.url)
            .err()
            .or_else(|| crate::hooks::parse_events(events).err());
        if let Some(problem) = problem {
            found
                .problems
                .push(format!("webhook {}: {problem}", hook.id));
        }
    }
    Ok(())
}

/// Every complete version of `project`: its chunks must hash to its name.
fn check_versions(store: &dyn Store, project: &Project, found: &mut Check) -> Result<()> {
    for name in store.version_hashes(project)? {
        found.versions += 1;
        let sound = match name.parse::<ClipHash>() {
            Ok(hash) => {
                let size = store.version_facts(project, &hash)?.expected;
                size.is_some_and(|size| {
                    store.version_matches(project, &hash, size).unwrap_or(false)
                })
            }
            Err(_) => false,
        };
        if !sound {
            found.problems.push(format!(
                "{:?}, version {name}: its chunks do not hash to its name",
                project.name
            ));
        }
    }
    Ok(())
}

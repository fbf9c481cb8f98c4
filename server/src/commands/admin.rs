//! The studio's admin commands: projects, tokens, the audit trail, moving a record from
//! SQLite to PostgreSQL, and importing an export into the server.

use super::project_named;
use crate::store::{Incoming, PgStore, PushOutcome, SqliteStore, Store};
use anyhow::{Context, Result};
use liner_record::Role;
use std::path::Path;

/// `liner project create`.
///
/// # Errors
/// The name is not fit to be one, the project exists, or the database fails.
pub fn create_project(store: &dyn Store, name: &str) -> Result<()> {
    let name = liner_record::names::checked_name(name)
        .map_err(|e| anyhow::anyhow!("the project name {e}"))?;
    let p = store.create_project(name)?;
    println!("created project {:?} (id {})", p.name, p.id);
    Ok(())
}

/// `liner project list`.
///
/// # Errors
/// The database fails.
pub fn list_projects(store: &dyn Store) -> Result<()> {
    for p in store.projects()? {
        println!("{}\t{}", p.id, p.name);
    }
    Ok(())
}

/// `liner token add`: the secret is printed once.
///
/// # Errors
/// An unknown role, a name not fit to be one, no such project, or the database fails.
pub fn add_token(store: &dyn Store, project: &str, person: &str, role: &str) -> Result<()> {
    let role: Role = role.parse().map_err(anyhow::Error::msg)?;
    let person = liner_record::names::checked_name(person)
        .map_err(|e| anyhow::anyhow!("the person's name {e}"))?;
    let (info, secret) = store.add_token(project, person, role)?;
    println!(
        "token {} for {} ({}) in {:?}:\n{secret}\n(shown once: store it now)",
        info.id, info.person, info.role, info.project.name
    );
    Ok(())
}

/// `liner token list`: never the secrets.
///
/// # Errors
/// The database fails.
pub fn list_tokens(store: &dyn Store) -> Result<()> {
    println!("id\tproject\tperson\trole\tstatus");
    for t in store.tokens()? {
        println!(
            "{}\t{}\t{}\t{}\t{}",
            t.id,
            t.project.name,
            t.person,
            t.role,
            if t.revoked { "revoked" } else { "active" }
        );
    }
    Ok(())
}

/// `liner token revoke`.
///
/// # Errors
/// No such token, or the database fails.
pub fn revoke_token(store: &dyn Store, id: i64) -> Result<()> {
    store.revoke_token(id)?;
    println!("token {id} revoked");
    Ok(())
}

/// `liner audit`: one line per stored event, oldest first.
///
/// # Errors
/// When the project or person is unknown, or the store cannot be read.
pub fn audit(
    store: &dyn Store,
    project: &str,
    person: Option<&str>,
    since: Option<&str>,
) -> Result<()> {
    use liner_record::export::{date_time, parse_date};
    let p = project_named(store, project)?;
    let since = since
        .map(|t| parse_date(t).with_context(|| format!("{t:?} is not a date like 2026-11-27")))
        .transpose()?;
    println!("seq\treceived\tperson\trole\ttoken\tkind\tevent");
    for r in store.receipts(&p, since)? {
        if person.is_some_and(|n| r.token.as_ref().is_none_or(|t| t.person != n)) {
            continue;
        }
        let (who, role, token) = match &r.token {
            Some(t) => (
                t.person.as_str(),
                t.role.as_str(),
                format!("{}{}", t.id, if t.revoked { " (revoked)" } else { "" }),
            ),
            None => ("(import)", "-", "-".to_owned()),
        };
        println!(
            "{}\t{}\t{who}\t{role}\t{token}\t{}\t{}",
            r.seq,
            date_time(r.received_ms),
            r.kind,
            r.id
        );
    }
    Ok(())
}

/// `liner migrate`: a SQLite record copied into PostgreSQL (see [`crate::store::copy`]).
///
/// # Errors
/// When either database cannot be opened, or the copy refuses (see [`crate::store::copy`]).
pub fn migrate(from: &str, to: &str) -> Result<()> {
    let path = from
        .strip_prefix("sqlite:")
        .context("--from names the SQLite record as sqlite:PATH (the server's data folder)")?;
    let path = Path::new(path);
    let dir = if path.file_name().is_some_and(|n| n == "liner.db") {
        path.parent().unwrap_or(Path::new("."))
    } else {
        path
    };
    anyhow::ensure!(
        dir.join("liner.db").is_file(),
        "no record server database (liner.db) in {}",
        dir.display()
    );
    let source = SqliteStore::open(dir)
        .with_context(|| format!("opening the database in {}", dir.display()))?;
    let target = PgStore::open(to).context("opening the PostgreSQL database")?;
    let copied =
        crate::store::copy::copy(&source, &target).context("nothing of the rows was copied")?;
    println!(
        "copied {} projects, {} tokens, {} events, {} clips, {} complete versions and {} \
         version chunks (partial uploads' too) from {} to {} \
         (what was there already is left as it is)",
        copied.loaded.projects,
        copied.loaded.tokens,
        copied.loaded.events,
        copied.clips,
        copied.versions,
        copied.version_chunks,
        source.location(),
        target.location()
    );
    if copied.versions_held_back > 0 {
        eprintln!(
            "{} complete versions were not marked complete on PostgreSQL: the SQLite record \
             lacks some of their chunks (`liner check` on it names them); sending them again \
             completes them",
            copied.versions_held_back
        );
    }
    Ok(())
}

/// `liner import FILE --project NAME`: the export's events stored under the record's rules
/// (ownership, verdict targets, limits), as if pushed.
///
/// # Errors
/// When the file cannot be read or is not an export, or the project cannot be made.
pub fn import_into_server(store: &dyn Store, file: &Path, name: &str) -> Result<()> {
    let p = project_named(store, name)?;
    let events = super::read_export(file)?;
    let wrong = events.iter().filter(|e| e.project != p.name).count();
    anyhow::ensure!(
        wrong == 0,
        "{wrong} events belong to another project than {name:?}; nothing imported"
    );
    // An import goes through the store's one door: the record's rules and limits.
    let mut refused = 0;
    let rows: Vec<Incoming> = events.into_iter().map(Incoming::from_event).collect();
    let outcomes = store.push(&p, None, &rows)?;
    let (mut stored, mut duplicates, mut conflicts) = (0, 0, 0);
    for (row, outcome) in rows.iter().zip(&outcomes) {
        match outcome {
            PushOutcome::Stored(_) => stored += 1,
            PushOutcome::Duplicate(_) => duplicates += 1,
            PushOutcome::Conflict => conflicts += 1,
            PushOutcome::Refused { message, .. } => {
                eprintln!("left out {}: {message}", row.event.id);
                refused += 1;
            }
        }
    }
    println!(
        "imported {stored} new events into {name:?} ({duplicates} already there, \
         {conflicts} conflicting ids left alone, {refused} refused)"
    );
    Ok(())
}

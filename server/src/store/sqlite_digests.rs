//! Digests on SQLite ([`super::digests`]): the statements behind the `Store` trait's digest
//! methods, each on the store's one connection.

use super::digests::{DigestPrefs, DigestRow, Every, FEED_PREFIX, SELECT};
use super::shared::{hash, now_ms, random_secret, role_of};
use super::{Project, Result};
use liner_record::Role;
use rusqlite::{params, Connection, OptionalExtension};
use subtle::ConstantTimeEq;

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DigestPrefs> {
    Ok(DigestPrefs {
        project: Project {
            id: r.get(0)?,
            name: r.get(1)?,
        },
        person: r.get(2)?,
        role: role_of(&r.get::<_, String>(3)?),
        last_look_ms: r.get(4)?,
        feed: r.get(5)?,
        mail_to: r.get(6)?,
        every: Every::stored(r.get::<_, Option<String>>(7)?.as_deref()),
        mailed_ms: r.get(8)?,
        live: r.get(9)?,
    })
}

/// The person's row, made if missing, speaking as `role` from now on.
fn ensure(conn: &Connection, project: &Project, person: &str, role: Role) -> Result<()> {
    conn.execute(
        "INSERT INTO digests (project_id, person, role) VALUES (?1, ?2, ?3) \
         ON CONFLICT (project_id, person) DO UPDATE SET role = excluded.role",
        params![project.id, person, role.as_str()],
    )?;
    Ok(())
}

pub(super) fn prefs(
    conn: &Connection,
    project: &Project,
    person: &str,
) -> Result<Option<DigestPrefs>> {
    Ok(conn
        .query_row(
            &format!("{SELECT} WHERE d.project_id = ?1 AND d.person = ?2"),
            params![project.id, person],
            row,
        )
        .optional()?)
}

pub(super) fn all(conn: &Connection) -> Result<Vec<DigestPrefs>> {
    let mut st = conn.prepare(&format!("{SELECT} ORDER BY d.project_id, d.person"))?;
    let rows = st.query_map([], row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(super) fn look(
    conn: &Connection,
    project: &Project,
    person: &str,
    role: Role,
    at_ms: i64,
) -> Result<()> {
    ensure(conn, project, person, role)?;
    conn.execute(
        "UPDATE digests SET last_look_ms = MAX(COALESCE(last_look_ms, ?3), ?3) \
         WHERE project_id = ?1 AND person = ?2",
        params![project.id, person, at_ms],
    )?;
    Ok(())
}

pub(super) fn new_feed(
    conn: &Connection,
    project: &Project,
    person: &str,
    role: Role,
) -> Result<String> {
    let secret = random_secret(FEED_PREFIX);
    ensure(conn, project, person, role)?;
    conn.execute(
        "UPDATE digests SET feed_hash = ?3 WHERE project_id = ?1 AND person = ?2",
        params![project.id, person, hash(&secret)],
    )?;
    Ok(secret)
}

pub(super) fn end_feed(conn: &Connection, project: &Project, person: &str) -> Result<()> {
    conn.execute(
        "UPDATE digests SET feed_hash = NULL WHERE project_id = ?1 AND person = ?2",
        params![project.id, person],
    )?;
    Ok(())
}

pub(super) fn feed(conn: &Connection, secret: &str) -> Result<Option<DigestPrefs>> {
    let want = hash(secret);
    let found = conn
        .query_row(&format!("{SELECT} WHERE d.feed_hash = ?1"), [&want], |r| {
            Ok((row(r)?, r.get::<_, String>(10)?))
        })
        .optional()?;
    Ok(found.and_then(|(prefs, stored)| {
        let same: bool = stored.as_bytes().ct_eq(want.as_bytes()).into();
        (same && prefs.live).then_some(prefs)
    }))
}

pub(super) fn set_mail(
    conn: &Connection,
    project: &Project,
    person: &str,
    role: Role,
    to: Option<&str>,
    every: Option<Every>,
) -> Result<()> {
    ensure(conn, project, person, role)?;
    conn.execute(
        "UPDATE digests SET mail_to = ?3, mail_every = ?4, \
         mailed_ms = CASE WHEN mail_every IS NULL THEN ?5 ELSE COALESCE(mailed_ms, ?5) END \
         WHERE project_id = ?1 AND person = ?2",
        params![project.id, person, to, every.map(Every::as_str), now_ms()],
    )?;
    Ok(())
}

pub(super) fn move_mailed(
    conn: &Connection,
    project_id: i64,
    person: &str,
    from: Option<i64>,
    to: Option<i64>,
) -> Result<bool> {
    let n = conn.execute(
        "UPDATE digests SET mailed_ms = ?4 \
         WHERE project_id = ?1 AND person = ?2 AND mailed_ms IS ?3",
        params![project_id, person, from, to],
    )?;
    Ok(n == 1)
}

/// Every digest row as stored, for a copy into PostgreSQL.
pub(super) fn rows(conn: &Connection) -> rusqlite::Result<Vec<DigestRow>> {
    let mut st = conn.prepare(
        "SELECT project_id, person, role, last_look_ms, feed_hash, mail_to, mail_every, \
         mailed_ms FROM digests ORDER BY project_id, person",
    )?;
    let rows = st.query_map([], |r| {
        Ok(DigestRow {
            project_id: r.get(0)?,
            person: r.get(1)?,
            role: r.get(2)?,
            last_look_ms: r.get(3)?,
            feed_hash: r.get(4)?,
            mail_to: r.get(5)?,
            mail_every: r.get(6)?,
            mailed_ms: r.get(7)?,
        })
    })?;
    rows.collect()
}

//! Webhooks on SQLite ([`super::hooks`]): the statements behind the `Store` trait's hook
//! methods, each on the store's one connection, each step one transaction.

use super::hooks::{Attempt, Hook, HookRow, Settle, LOG_KEPT, SECRET_PREFIX};
use super::shared::{now_ms, random_secret};
use super::{Project, Result, StoreError};
use rusqlite::{params, Connection, OptionalExtension};

const HOOK_SELECT: &str = "SELECT h.id, h.project_id, p.name, h.url, h.events, h.secret, \
     h.created_ms, h.cursor, h.attempts, h.next_ms, h.lease_owner, h.lease_ms \
     FROM hooks h JOIN projects p ON p.id = h.project_id";

fn row_hook(r: &rusqlite::Row<'_>) -> rusqlite::Result<Hook> {
    Ok(Hook {
        id: r.get(0)?,
        project: Project {
            id: r.get(1)?,
            name: r.get(2)?,
        },
        url: r.get(3)?,
        events: r.get(4)?,
        secret: r.get(5)?,
        created_ms: r.get(6)?,
        cursor: r.get::<_, i64>(7)? as u64,
        attempts: r.get::<_, i64>(8)? as u32,
        next_ms: r.get(9)?,
        lease_owner: r.get(10)?,
        lease_ms: r.get(11)?,
    })
}

fn hook(conn: &Connection, id: i64) -> Result<Option<Hook>> {
    Ok(conn
        .query_row(&format!("{HOOK_SELECT} WHERE h.id = ?1"), [id], row_hook)
        .optional()?)
}

pub(super) fn add(conn: &Connection, project: &Project, url: &str, events: &str) -> Result<Hook> {
    let secret = random_secret(SECRET_PREFIX);
    conn.execute(
        "INSERT INTO hooks (project_id, url, events, secret, created_ms, cursor) \
         VALUES (?1, ?2, ?3, ?4, ?5, \
             (SELECT COALESCE(MAX(seq), 0) FROM events WHERE project_id = ?1))",
        params![project.id, url, events, secret, now_ms()],
    )?;
    hook(conn, conn.last_insert_rowid())?
        .ok_or_else(|| StoreError::Aborted("the new webhook went missing".into()))
}

pub(super) fn all(conn: &Connection) -> Result<Vec<Hook>> {
    let mut st = conn.prepare(&format!("{HOOK_SELECT} ORDER BY h.id"))?;
    let rows = st.query_map([], row_hook)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(super) fn remove(conn: &Connection, id: i64) -> Result<()> {
    if conn.execute("DELETE FROM hooks WHERE id = ?1", [id])? == 0 {
        return Err(StoreError::NoHook(id));
    }
    Ok(())
}

pub(super) fn claim(
    conn: &Connection,
    id: i64,
    owner: &str,
    now: i64,
    lease_ms: i64,
) -> Result<Option<Hook>> {
    let n = conn.execute(
        "UPDATE hooks SET lease_owner = ?2, lease_ms = ?4 WHERE id = ?1 AND next_ms <= ?3 \
         AND (lease_owner IS NULL OR lease_ms < ?3 OR lease_owner = ?2)",
        params![id, owner, now, lease_ms],
    )?;
    if n == 0 {
        return Ok(None);
    }
    hook(conn, id)
}

pub(super) fn settle(
    conn: &mut Connection,
    id: i64,
    owner: &str,
    cursor: u64,
    next: Settle,
    lease_ms: i64,
    attempt: Option<&Attempt>,
) -> Result<bool> {
    let tx = conn.transaction()?;
    let (to, attempts, next_ms) = match next {
        Settle::Done { cursor } => (cursor, 0, 0),
        Settle::Retry {
            cursor,
            attempts,
            at_ms,
        } => (cursor, attempts, at_ms),
    };
    let n = tx.execute(
        "UPDATE hooks SET cursor = ?4, attempts = ?5, next_ms = ?6, lease_ms = ?7 \
         WHERE id = ?1 AND lease_owner = ?2 AND cursor = ?3",
        params![
            id,
            owner,
            cursor as i64,
            to as i64,
            attempts,
            next_ms,
            lease_ms
        ],
    )?;
    if n == 0 {
        return Ok(false);
    }
    if let Some(a) = attempt {
        log(&tx, a)?;
    }
    tx.commit()?;
    Ok(true)
}

fn log(tx: &rusqlite::Transaction<'_>, a: &Attempt) -> Result<()> {
    tx.execute(
        "INSERT INTO hook_log (hook_id, project_id, at_ms, seq, event_id, kind, delivery, \
         attempt, status, error, retry_ms, gave_up) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            a.hook,
            a.project_id,
            a.at_ms,
            a.seq as i64,
            a.event,
            a.kind,
            a.delivery,
            a.attempt,
            a.status,
            a.error,
            a.retry_ms,
            a.gave_up
        ],
    )?;
    tx.execute(
        "DELETE FROM hook_log WHERE hook_id = ?1 AND id < (SELECT MIN(id) FROM \
         (SELECT id FROM hook_log WHERE hook_id = ?1 ORDER BY id DESC LIMIT ?2))",
        params![a.hook, LOG_KEPT],
    )?;
    Ok(())
}

pub(super) fn release(conn: &Connection, id: i64, owner: &str) -> Result<()> {
    conn.execute(
        "UPDATE hooks SET lease_owner = NULL, lease_ms = 0 WHERE id = ?1 AND lease_owner = ?2",
        params![id, owner],
    )?;
    Ok(())
}

pub(super) fn log_rows(
    conn: &Connection,
    project: Option<i64>,
    hook: Option<i64>,
    limit: usize,
) -> Result<Vec<Attempt>> {
    let mut st = conn.prepare(
        "SELECT at_ms, hook_id, project_id, seq, event_id, kind, delivery, attempt, status, \
         error, retry_ms, gave_up FROM hook_log \
         WHERE (?1 IS NULL OR project_id = ?1) AND (?2 IS NULL OR hook_id = ?2) \
         ORDER BY id DESC LIMIT ?3",
    )?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = st.query_map(params![project, hook, limit], |r| {
        Ok(Attempt {
            at_ms: r.get(0)?,
            hook: r.get(1)?,
            project_id: r.get(2)?,
            seq: r.get::<_, i64>(3)? as u64,
            event: r.get(4)?,
            kind: r.get(5)?,
            delivery: r.get(6)?,
            attempt: r.get(7)?,
            status: r.get(8)?,
            error: r.get(9)?,
            retry_ms: r.get(10)?,
            gave_up: r.get(11)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(super) fn event_by_id(
    conn: &Connection,
    project: &Project,
    id: uuid::Uuid,
) -> Result<Option<(u64, String)>> {
    Ok(conn
        .query_row(
            "SELECT seq, json FROM events WHERE project_id = ?1 AND id = ?2",
            params![project.id, id.to_string()],
            |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)),
        )
        .optional()?)
}

/// Every hook as stored, for a copy into PostgreSQL.
pub(super) fn rows(conn: &Connection) -> rusqlite::Result<Vec<HookRow>> {
    let mut st = conn.prepare(
        "SELECT id, project_id, url, events, secret, created_ms, cursor FROM hooks ORDER BY id",
    )?;
    let rows = st.query_map([], |r| {
        Ok(HookRow {
            id: r.get(0)?,
            project_id: r.get(1)?,
            url: r.get(2)?,
            events: r.get(3)?,
            secret: r.get(4)?,
            created_ms: r.get(5)?,
            cursor: r.get(6)?,
        })
    })?;
    rows.collect()
}

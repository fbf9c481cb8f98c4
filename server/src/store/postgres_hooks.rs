//! Webhooks on PostgreSQL ([`super::hooks`]): the statements behind the `Store` trait's hook
//! methods. A claim and a settle are each one `UPDATE ... WHERE` on the hook's row: under
//! concurrent updates PostgreSQL re-reads the row and re-checks the condition, so of two
//! servers claiming one hook at once exactly one gets it, and a settle by a process that lost
//! its lease writes nothing.

use super::hooks::{Attempt, Hook, HookRow, Settle, LOG_KEPT, SECRET_PREFIX};
use super::shared::{now_ms, random_secret};
use super::{Project, Result, StoreError};
use tokio_postgres::Row;

const HOOK_SELECT: &str = "SELECT h.id, h.project_id, p.name, h.url, h.events, h.secret, \
     h.created_ms, h.cursor, h.attempts, h.next_ms, h.lease_owner, h.lease_ms \
     FROM hooks h JOIN projects p ON p.id = h.project_id";

fn row_hook(r: &Row) -> Hook {
    Hook {
        id: r.get(0),
        project: Project {
            id: r.get(1),
            name: r.get(2),
        },
        url: r.get(3),
        events: r.get(4),
        secret: r.get(5),
        created_ms: r.get(6),
        cursor: r.get::<_, i64>(7) as u64,
        attempts: r.get::<_, i32>(8) as u32,
        next_ms: r.get(9),
        lease_owner: r.get(10),
        lease_ms: r.get(11),
    }
}

type Client = deadpool_postgres::Object;

async fn hook(c: &Client, id: i64) -> Result<Option<Hook>> {
    Ok(
        c.query_opt(&format!("{HOOK_SELECT} WHERE h.id = $1"), &[&id])
            .await?
            .map(|r| row_hook(&r)),
    )
}

pub(super) async fn add(c: &Client, project: &Project, url: &str, events: &str) -> Result<Hook> {
    let secret = random_secret(SECRET_PREFIX);
    let row = c
        .query_one(
            "INSERT INTO hooks (project_id, url, events, secret, created_ms, cursor) \
             SELECT id, $2, $3, $4, $5, last_seq FROM projects WHERE id = $1 RETURNING id",
            &[&project.id, &url, &events, &secret, &now_ms()],
        )
        .await?;
    hook(c, row.get(0))
        .await?
        .ok_or_else(|| StoreError::Aborted("the new webhook went missing".into()))
}

pub(super) async fn all(c: &Client) -> Result<Vec<Hook>> {
    Ok(c.query(&format!("{HOOK_SELECT} ORDER BY h.id"), &[])
        .await?
        .iter()
        .map(row_hook)
        .collect())
}

pub(super) async fn remove(c: &Client, id: i64) -> Result<()> {
    if c.execute("DELETE FROM hooks WHERE id = $1", &[&id]).await? == 0 {
        return Err(StoreError::NoHook(id));
    }
    Ok(())
}

pub(super) async fn claim(
    c: &Client,
    id: i64,
    owner: &str,
    now: i64,
    lease_ms: i64,
) -> Result<Option<Hook>> {
    let n = c
        .execute(
            "UPDATE hooks SET lease_owner = $2, lease_ms = $4 WHERE id = $1 AND next_ms <= $3 \
             AND (lease_owner IS NULL OR lease_ms < $3 OR lease_owner = $2)",
            &[&id, &owner, &now, &lease_ms],
        )
        .await?;
    if n == 0 {
        return Ok(None);
    }
    hook(c, id).await
}

pub(super) async fn settle(
    c: &mut Client,
    id: i64,
    owner: &str,
    cursor: u64,
    next: Settle,
    lease_ms: i64,
    attempt: Option<&Attempt>,
) -> Result<bool> {
    let (to, attempts, next_ms) = match next {
        Settle::Done { cursor } => (cursor, 0, 0),
        Settle::Retry {
            cursor,
            attempts,
            at_ms,
        } => (cursor, attempts, at_ms),
    };
    let tx = c.transaction().await?;
    let n = tx
        .execute(
            "UPDATE hooks SET cursor = $4, attempts = $5, next_ms = $6, lease_ms = $7 \
             WHERE id = $1 AND lease_owner = $2 AND cursor = $3",
            &[
                &id,
                &owner,
                &(cursor as i64),
                &(to as i64),
                &(attempts as i32),
                &next_ms,
                &lease_ms,
            ],
        )
        .await?;
    if n == 0 {
        return Ok(false);
    }
    if let Some(a) = attempt {
        log(&tx, a).await?;
    }
    tx.commit().await?;
    Ok(true)
}

async fn log(tx: &deadpool_postgres::Transaction<'_>, a: &Attempt) -> Result<()> {
    tx.execute(
        "INSERT INTO hook_log (hook_id, project_id, at_ms, seq, event_id, kind, delivery, \
         attempt, status, error, retry_ms, gave_up) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        &[
            &a.hook,
            &a.project_id,
            &a.at_ms,
            &(a.seq as i64),
            &a.event,
            &a.kind,
            &a.delivery,
            &(a.attempt as i32),
            &a.status.map(i32::from),
            &a.error,
            &a.retry_ms,
            &a.gave_up,
        ],
    )
    .await?;
    tx.execute(
        "DELETE FROM hook_log WHERE hook_id = $1 AND id < (SELECT MIN(id) FROM \
         (SELECT id FROM hook_log WHERE hook_id = $1 ORDER BY id DESC LIMIT $2) AS kept)",
        &[&a.hook, &LOG_KEPT],
    )
    .await?;
    Ok(())
}

pub(super) async fn release(c: &Client, id: i64, owner: &str) -> Result<()> {
    c.execute(
        "UPDATE hooks SET lease_owner = NULL, lease_ms = 0 WHERE id = $1 AND lease_owner = $2",
        &[&id, &owner],
    )
    .await?;
    Ok(())
}

pub(super) async fn log_rows(
    c: &Client,
    project: Option<i64>,
    hook: Option<i64>,
    limit: usize,
) -> Result<Vec<Attempt>> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = c
        .query(
            "SELECT at_ms, hook_id, project_id, seq, event_id, kind, delivery, attempt, \
             status, error, retry_ms, gave_up FROM hook_log \
             WHERE ($1::BIGINT IS NULL OR project_id = $1) \
             AND ($2::BIGINT IS NULL OR hook_id = $2) ORDER BY id DESC LIMIT $3",
            &[&project, &hook, &limit],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| Attempt {
            at_ms: r.get(0),
            hook: r.get(1),
            project_id: r.get(2),
            seq: r.get::<_, i64>(3) as u64,
            event: r.get(4),
            kind: r.get(5),
            delivery: r.get(6),
            attempt: r.get::<_, i32>(7) as u32,
            status: r.get::<_, Option<i32>>(8).map(|s| s as u16),
            error: r.get(9),
            retry_ms: r.get(10),
            gave_up: r.get(11),
        })
        .collect())
}

pub(super) async fn event_by_id(
    c: &Client,
    project: &Project,
    id: uuid::Uuid,
) -> Result<Option<(u64, String)>> {
    Ok(c.query_opt(
        "SELECT seq, json FROM events WHERE project_id = $1 AND id = $2",
        &[&project.id, &id.to_string()],
    )
    .await?
    .map(|r| (r.get::<_, i64>(0) as u64, r.get(1))))
}

/// The dump's hooks, with their ids and cursors (see `PgStore::load`); new ids continue
/// after them.
pub(super) async fn load(tx: &deadpool_postgres::Transaction<'_>, hooks: &[HookRow]) -> Result<()> {
    for h in hooks {
        tx.execute(
            "INSERT INTO hooks (id, project_id, url, events, secret, created_ms, cursor) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (id) DO UPDATE SET cursor = GREATEST(hooks.cursor, excluded.cursor)",
            &[
                &h.id,
                &h.project_id,
                &h.url,
                &h.events,
                &h.secret,
                &h.created_ms,
                &h.cursor,
            ],
        )
        .await?;
    }
    tx.batch_execute(
        "SELECT setval(pg_get_serial_sequence('hooks', 'id'), \
             GREATEST((SELECT MAX(id) FROM hooks), 1));",
    )
    .await?;
    Ok(())
}

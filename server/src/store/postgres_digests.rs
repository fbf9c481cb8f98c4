//! Digests on PostgreSQL ([`super::digests`]): the statements behind the `Store` trait's digest
//! methods. The mail mark moves by compare-and-set, so of several servers on one database one
//! sends each mail.

use super::digests::{DigestPrefs, DigestRow, Every, FEED_PREFIX, SELECT};
use super::shared::{hash, now_ms, random_secret, role_of};
use super::{Project, Result};
use liner_record::Role;
use subtle::ConstantTimeEq;
use tokio_postgres::Row;

type Client = deadpool_postgres::Object;

fn row(r: &Row) -> DigestPrefs {
    DigestPrefs {
        project: Project {
            id: r.get(0),
            name: r.get(1),
        },
        person: r.get(2),
        role: role_of(&r.get::<_, String>(3)),
        last_look_ms: r.get(4),
        feed: r.get(5),
        mail_to: r.get(6),
        every: Every::stored(r.get::<_, Option<String>>(7).as_deref()),
        mailed_ms: r.get(8),
        live: r.get(9),
    }
}

/// The person's row, made if missing, speaking as `role` from now on.
async fn ensure(c: &Client, project: &Project, person: &str, role: Role) -> Result<()> {
    c.execute(
        "INSERT INTO digests (project_id, person, role) VALUES ($1, $2, $3) \
         ON CONFLICT (project_id, person) DO UPDATE SET role = excluded.role",
        &[&project.id, &person, &role.as_str()],
    )
    .await?;
    Ok(())
}

pub(super) async fn prefs(
    c: &Client,
    project: &Project,
    person: &str,
) -> Result<Option<DigestPrefs>> {
    Ok(c.query_opt(
        &format!("{SELECT} WHERE d.project_id = $1 AND d.person = $2"),
        &[&project.id, &person],
    )
    .await?
    .map(|r| row(&r)))
}

pub(super) async fn all(c: &Client) -> Result<Vec<DigestPrefs>> {
    Ok(
        c.query(&format!("{SELECT} ORDER BY d.project_id, d.person"), &[])
            .await?
            .iter()
            .map(row)
            .collect(),
    )
}

pub(super) async fn look(
    c: &Client,
    project: &Project,
    person: &str,
    role: Role,
    at: i64,
) -> Result<()> {
    ensure(c, project, person, role).await?;
    c.execute(
        "UPDATE digests SET last_look_ms = GREATEST(COALESCE(last_look_ms, $3), $3) \
         WHERE project_id = $1 AND person = $2",
        &[&project.id, &person, &at],
    )
    .await?;
    Ok(())
}

pub(super) async fn new_feed(
    c: &Client,
    project: &Project,
    person: &str,
    role: Role,
) -> Result<String> {
    let secret = random_secret(FEED_PREFIX);
    ensure(c, project, person, role).await?;
    c.execute(
        "UPDATE digests SET feed_hash = $3 WHERE project_id = $1 AND person = $2",
        &[&project.id, &person, &hash(&secret)],
    )
    .await?;
    Ok(secret)
}

pub(super) async fn end_feed(c: &Client, project: &Project, person: &str) -> Result<()> {
    c.execute(
        "UPDATE digests SET feed_hash = NULL WHERE project_id = $1 AND person = $2",
        &[&project.id, &person],
    )
    .await?;
    Ok(())
}

pub(super) async fn feed(c: &Client, secret: &str) -> Result<Option<DigestPrefs>> {
    let want = hash(secret);
    let found = c
        .query_opt(&format!("{SELECT} WHERE d.feed_hash = $1"), &[&want])
        .await?;
    Ok(found.and_then(|r| {
        let stored: String = r.get(10);
        let same: bool = stored.as_bytes().ct_eq(want.as_bytes()).into();
        let prefs = row(&r);
        (same && prefs.live).then_some(prefs)
    }))
}

pub(super) async fn set_mail(
    c: &Client,
    project: &Project,
    person: &str,
    role: Role,
    to: Option<&str>,
    every: Option<Every>,
) -> Result<()> {
    ensure(c, project, person, role).await?;
    c.execute(
        "UPDATE digests SET mail_to = $3, mail_every = $4, \
         mailed_ms = CASE WHEN mail_every IS NULL THEN $5 ELSE COALESCE(mailed_ms, $5) END \
         WHERE project_id = $1 AND person = $2",
        &[
            &project.id,
            &person,
            &to,
            &every.map(Every::as_str),
            &now_ms(),
        ],
    )
    .await?;
    Ok(())
}

pub(super) async fn move_mailed(
    c: &Client,
    project_id: i64,
    person: &str,
    from: Option<i64>,
    to: Option<i64>,
) -> Result<bool> {
    let n = c
        .execute(
            "UPDATE digests SET mailed_ms = $4 \
             WHERE project_id = $1 AND person = $2 AND mailed_ms IS NOT DISTINCT FROM $3",
            &[&project_id, &person, &from, &to],
        )
        .await?;
    Ok(n == 1)
}

/// The dump's digest rows (see `PgStore::load`). A row here already takes the copy's feed
/// and mail settings (a feed replaced or turned off there since the last run stays so) and
/// the later of the two looks and mails.
pub(super) async fn load(
    tx: &deadpool_postgres::Transaction<'_>,
    rows: &[DigestRow],
) -> Result<()> {
    for d in rows {
        tx.execute(
            "INSERT INTO digests (project_id, person, role, last_look_ms, feed_hash, mail_to, \
             mail_every, mailed_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (project_id, person) DO UPDATE SET feed_hash = excluded.feed_hash, \
             mail_to = excluded.mail_to, mail_every = excluded.mail_every, \
             last_look_ms = GREATEST(digests.last_look_ms, excluded.last_look_ms), \
             mailed_ms = GREATEST(digests.mailed_ms, excluded.mailed_ms)",
            &[
                &d.project_id,
                &d.person,
                &d.role,
                &d.last_look_ms,
                &d.feed_hash,
                &d.mail_to,
                &d.mail_every,
                &d.mailed_ms,
            ],
        )
        .await?;
    }
    Ok(())
}

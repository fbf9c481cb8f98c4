//! The PostgreSQL store's listening links and guest comments ([`crate::store::guests`]).

use super::PgStore;
use crate::store::copy::Dump;
use crate::store::guests::{
    hash_matches, version_of, Fate, GuestLink, HeldComment, NewComment, NewLink, COMMENT_SELECT,
    LINK_SELECT, MAX_HELD_PER_LINK,
};
use crate::store::shared::{hash, now_ms, random_secret};
use crate::store::{Project, Result};
use tokio_postgres::Row;

/// The tables the migration makes (schema 6), as on SQLite.
pub(super) const MIGRATION: &str = "CREATE TABLE guest_links (
        id BIGSERIAL PRIMARY KEY,
        project_id BIGINT NOT NULL REFERENCES projects(id),
        hash TEXT NOT NULL UNIQUE,
        song TEXT,
        label TEXT NOT NULL,
        passphrase TEXT,
        token_id BIGINT NOT NULL REFERENCES tokens(id),
        created_ms BIGINT NOT NULL,
        expires_ms BIGINT NOT NULL,
        revoked_ms BIGINT,
        last_used_ms BIGINT,
        uses BIGINT NOT NULL DEFAULT 0
    );
    CREATE TABLE guest_sessions (
        hash TEXT PRIMARY KEY,
        link_id BIGINT NOT NULL REFERENCES guest_links(id),
        created_ms BIGINT NOT NULL
    );
    CREATE TABLE guest_comments (
        id BIGSERIAL PRIMARY KEY,
        link_id BIGINT NOT NULL REFERENCES guest_links(id),
        name TEXT NOT NULL,
        text TEXT NOT NULL,
        version TEXT NOT NULL,
        at_s DOUBLE PRECISION,
        until_s DOUBLE PRECISION,
        created_ms BIGINT NOT NULL,
        state TEXT NOT NULL DEFAULT 'held',
        decided_ms BIGINT,
        note_id TEXT
    );
    CREATE INDEX guest_comments_by_state ON guest_comments(link_id, state);";

fn link_of(r: &Row) -> (GuestLink, String) {
    (
        GuestLink {
            id: r.get(0),
            project: Project {
                id: r.get(1),
                name: r.get(2),
            },
            song: r.get(3),
            label: r.get(4),
            passphrase: r.get(5),
            made_by: r.get(6),
            created_ms: r.get(7),
            expires_ms: r.get(8),
            revoked_ms: r.get(9),
            last_used_ms: r.get(10),
            uses: r.get(11),
        },
        r.get(12),
    )
}

fn comment_of(r: &Row) -> HeldComment {
    HeldComment {
        id: r.get(0),
        link: r.get(1),
        link_label: r.get(2),
        name: r.get(3),
        text: r.get(4),
        version: version_of(r.get::<_, &str>(5)),
        at: r.get(6),
        until: r.get(7),
        created_ms: r.get(8),
    }
}

impl PgStore {
    pub(super) fn guest_create_link(&self, new: &NewLink) -> Result<(GuestLink, String)> {
        let new = new.clone();
        self.with(move |c| async move {
            let secret = random_secret("lnl_");
            let id: i64 = c
                .query_one(
                    "INSERT INTO guest_links (project_id, hash, song, label, passphrase, \
                     token_id, created_ms, expires_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                     RETURNING id",
                    &[
                        &new.project.id,
                        &hash(&secret),
                        &new.song,
                        &new.label,
                        &new.passphrase,
                        &new.token,
                        &now_ms(),
                        &new.expires_ms,
                    ],
                )
                .await?
                .get(0);
            let row = c
                .query_one(&format!("{LINK_SELECT} WHERE l.id = $1"), &[&id])
                .await?;
            Ok((link_of(&row).0, secret))
        })
    }

    pub(super) fn guest_links(&self, project: &Project) -> Result<Vec<GuestLink>> {
        let project = project.id;
        self.with(move |c| async move {
            let rows = c
                .query(
                    &format!("{LINK_SELECT} WHERE l.project_id = $1 ORDER BY l.id DESC"),
                    &[&project],
                )
                .await?;
            Ok(rows.iter().map(|r| link_of(r).0).collect())
        })
    }

    pub(super) fn guest_link(&self, secret: &str) -> Result<Option<GuestLink>> {
        let wanted = hash(secret);
        self.with(move |c| async move {
            let row = c
                .query_opt(&format!("{LINK_SELECT} WHERE l.hash = $1"), &[&wanted])
                .await?;
            Ok(row
                .map(|r| link_of(&r))
                .filter(|(_, stored)| hash_matches(stored, &wanted))
                .map(|(l, _)| l))
        })
    }

    pub(super) fn guest_link_used(&self, link: i64) -> Result<()> {
        self.with(move |c| async move {
            c.execute(
                "UPDATE guest_links SET uses = uses + 1, last_used_ms = $1 WHERE id = $2",
                &[&now_ms(), &link],
            )
            .await?;
            Ok(())
        })
    }

    pub(super) fn guest_revoke_link(&self, project: &Project, link: i64) -> Result<bool> {
        let project = project.id;
        self.with(move |mut c| async move {
            let tx = c.transaction().await?;
            let n = tx
                .execute(
                    "UPDATE guest_links SET revoked_ms = $1 \
                     WHERE id = $2 AND project_id = $3 AND revoked_ms IS NULL",
                    &[&now_ms(), &link, &project],
                )
                .await?;
            // Its guests' sessions go with it (they would open nothing anyway).
            if n == 1 {
                tx.execute("DELETE FROM guest_sessions WHERE link_id = $1", &[&link])
                    .await?;
            }
            tx.commit().await?;
            Ok(n == 1)
        })
    }

    pub(super) fn guest_create_session(&self, link: i64) -> Result<String> {
        self.with(move |c| async move {
            let secret = random_secret("lng_");
            c.execute(
                "INSERT INTO guest_sessions (hash, link_id, created_ms) VALUES ($1, $2, $3)",
                &[&hash(&secret), &link, &now_ms()],
            )
            .await?;
            Ok(secret)
        })
    }

    pub(super) fn guest_session_link(&self, secret: &str) -> Result<Option<i64>> {
        let key = hash(secret);
        self.with(move |c| async move {
            Ok(c.query_opt(
                "SELECT link_id FROM guest_sessions WHERE hash = $1",
                &[&key],
            )
            .await?
            .map(|r| r.get(0)))
        })
    }

    pub(super) fn guest_hold_comment(&self, comment: &NewComment) -> Result<bool> {
        let n = comment.clone();
        self.with(move |c| async move {
            // One statement: the count and the insert see the same rows.
            let stored = c
                .execute(
                    "INSERT INTO guest_comments (link_id, name, text, version, at_s, until_s, \
                     created_ms) SELECT $1, $2, $3, $4, $5, $6, $7 \
                     WHERE (SELECT COUNT(*) FROM guest_comments \
                            WHERE link_id = $1 AND state = 'held') < $8",
                    &[
                        &n.link,
                        &n.name,
                        &n.text,
                        &n.version.to_string(),
                        &n.at,
                        &n.until,
                        &now_ms(),
                        &(MAX_HELD_PER_LINK as i64),
                    ],
                )
                .await?;
            Ok(stored == 1)
        })
    }

    pub(super) fn guest_held_comments(&self, project: &Project) -> Result<Vec<HeldComment>> {
        let project = project.id;
        self.with(move |c| async move {
            let rows = c
                .query(
                    &format!(
                        "{COMMENT_SELECT} WHERE l.project_id = $1 AND c.state = 'held' \
                         ORDER BY c.id"
                    ),
                    &[&project],
                )
                .await?;
            Ok(rows.iter().map(comment_of).collect())
        })
    }

    pub(super) fn guest_settle_comment(
        &self,
        project: &Project,
        comment: i64,
        settle: Fate,
    ) -> Result<Option<HeldComment>> {
        let project = project.id;
        self.with(move |c| async move {
            // The update is the claim: of two servers settling it at once, one changes it.
            let n = c
                .execute(
                    "UPDATE guest_comments SET state = $1, decided_ms = $2, note_id = $3 \
                     WHERE id = $4 AND state = 'held' AND link_id IN \
                     (SELECT id FROM guest_links WHERE project_id = $5)",
                    &[
                        &settle.state(),
                        &now_ms(),
                        &settle.note(),
                        &comment,
                        &project,
                    ],
                )
                .await?;
            if n != 1 {
                return Ok(None);
            }
            let row = c
                .query_one(&format!("{COMMENT_SELECT} WHERE c.id = $1"), &[&comment])
                .await?;
            Ok(Some(comment_of(&row)))
        })
    }

    pub(super) fn guest_unsettle_comment(&self, comment: i64) -> Result<()> {
        self.with(move |c| async move {
            c.execute(
                "UPDATE guest_comments SET state = 'held', decided_ms = NULL, note_id = NULL \
                 WHERE id = $1",
                &[&comment],
            )
            .await?;
            Ok(())
        })
    }
}

/// Copies the dump's links and guest comments as stored (ids kept; rows here already are
/// skipped), then moves the id sequences past them.
pub(super) async fn load_guests(
    tx: &deadpool_postgres::Transaction<'_>,
    dump: &Dump,
) -> Result<()> {
    for l in &dump.links {
        tx.execute(
            "INSERT INTO guest_links (id, project_id, hash, song, label, passphrase, token_id, \
             created_ms, expires_ms, revoked_ms, last_used_ms, uses) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             ON CONFLICT (id) DO UPDATE SET \
             revoked_ms = COALESCE(guest_links.revoked_ms, excluded.revoked_ms), \
             last_used_ms = GREATEST(guest_links.last_used_ms, excluded.last_used_ms), \
             uses = GREATEST(guest_links.uses, excluded.uses)",
            &[
                &l.id,
                &l.project_id,
                &l.hash,
                &l.song,
                &l.label,
                &l.passphrase,
                &l.token_id,
                &l.created_ms,
                &l.expires_ms,
                &l.revoked_ms,
                &l.last_used_ms,
                &l.uses,
            ],
        )
        .await?;
    }
    for g in &dump.guest_comments {
        tx.execute(
            "INSERT INTO guest_comments (id, link_id, name, text, version, at_s, until_s, \
             created_ms, state, decided_ms, note_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (id) DO UPDATE SET state = excluded.state, \
             decided_ms = excluded.decided_ms, note_id = excluded.note_id \
             WHERE guest_comments.state = 'held'",
            &[
                &g.id,
                &g.link_id,
                &g.name,
                &g.text,
                &g.version,
                &g.at_s,
                &g.until_s,
                &g.created_ms,
                &g.state,
                &g.decided_ms,
                &g.note_id,
            ],
        )
        .await?;
    }
    tx.batch_execute(
        "SELECT setval(pg_get_serial_sequence('guest_links', 'id'), \
             GREATEST((SELECT MAX(id) FROM guest_links), 1));
         SELECT setval(pg_get_serial_sequence('guest_comments', 'id'), \
             GREATEST((SELECT MAX(id) FROM guest_comments), 1));",
    )
    .await?;
    Ok(())
}

//! The SQLite store's listening links and guest comments ([`crate::store::guests`]).

use super::SqliteStore;
use crate::store::guests::{
    hash_matches, version_of, Fate, GuestCommentRow, GuestLink, HeldComment, LinkRow, NewComment,
    NewLink, COMMENT_SELECT, LINK_SELECT, MAX_HELD_PER_LINK,
};
use crate::store::shared::{hash, now_ms, random_secret};
use crate::store::{Project, Result};
use rusqlite::{params, OptionalExtension, Row};

/// The table the migration makes (schema 9).
pub(super) const MIGRATION: &str = "CREATE TABLE guest_links (
        id INTEGER PRIMARY KEY,
        project_id INTEGER NOT NULL REFERENCES projects(id),
        hash TEXT NOT NULL UNIQUE,
        song TEXT,
        label TEXT NOT NULL,
        passphrase TEXT,
        token_id INTEGER NOT NULL REFERENCES tokens(id),
        created_ms INTEGER NOT NULL,
        expires_ms INTEGER NOT NULL,
        revoked_ms INTEGER,
        last_used_ms INTEGER,
        uses INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE guest_sessions (
        hash TEXT PRIMARY KEY,
        link_id INTEGER NOT NULL REFERENCES guest_links(id),
        created_ms INTEGER NOT NULL
    );
    CREATE TABLE guest_comments (
        id INTEGER PRIMARY KEY,
        link_id INTEGER NOT NULL REFERENCES guest_links(id),
        name TEXT NOT NULL,
        text TEXT NOT NULL,
        version TEXT NOT NULL,
        at_s REAL,
        until_s REAL,
        created_ms INTEGER NOT NULL,
        state TEXT NOT NULL DEFAULT 'held',
        decided_ms INTEGER,
        note_id TEXT
    );
    CREATE INDEX guest_comments_by_state ON guest_comments(link_id, state);";

fn link_of(r: &Row<'_>) -> rusqlite::Result<(GuestLink, String)> {
    Ok((
        GuestLink {
            id: r.get(0)?,
            project: Project {
                id: r.get(1)?,
                name: r.get(2)?,
            },
            song: r.get(3)?,
            label: r.get(4)?,
            passphrase: r.get(5)?,
            made_by: r.get(6)?,
            created_ms: r.get(7)?,
            expires_ms: r.get(8)?,
            revoked_ms: r.get(9)?,
            last_used_ms: r.get(10)?,
            uses: r.get(11)?,
        },
        r.get(12)?,
    ))
}

fn comment_of(r: &Row<'_>) -> rusqlite::Result<HeldComment> {
    Ok(HeldComment {
        id: r.get(0)?,
        link: r.get(1)?,
        link_label: r.get(2)?,
        name: r.get(3)?,
        text: r.get(4)?,
        version: version_of(&r.get::<_, String>(5)?),
        at: r.get(6)?,
        until: r.get(7)?,
        created_ms: r.get(8)?,
    })
}

impl SqliteStore {
    pub(super) fn guest_create_link(&self, new: &NewLink) -> Result<(GuestLink, String)> {
        let secret = random_secret("lnl_");
        let conn = self.conn();
        conn.execute(
            "INSERT INTO guest_links (project_id, hash, song, label, passphrase, token_id, \
             created_ms, expires_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                new.project.id,
                hash(&secret),
                new.song,
                new.label,
                new.passphrase,
                new.token,
                now_ms(),
                new.expires_ms
            ],
        )?;
        let id = conn.last_insert_rowid();
        let (link, _) = conn.query_row(&format!("{LINK_SELECT} WHERE l.id = ?1"), [id], link_of)?;
        Ok((link, secret))
    }

    pub(super) fn guest_links(&self, project: &Project) -> Result<Vec<GuestLink>> {
        let conn = self.conn();
        let mut st = conn.prepare(&format!(
            "{LINK_SELECT} WHERE l.project_id = ?1 ORDER BY l.id DESC"
        ))?;
        let rows = st.query_map([project.id], link_of)?;
        Ok(rows
            .map(|r| r.map(|(l, _)| l))
            .collect::<rusqlite::Result<_>>()?)
    }

    pub(super) fn guest_link(&self, secret: &str) -> Result<Option<GuestLink>> {
        let wanted = hash(secret);
        let found = self
            .conn()
            .query_row(
                &format!("{LINK_SELECT} WHERE l.hash = ?1"),
                [&wanted],
                link_of,
            )
            .optional()?;
        Ok(found
            .filter(|(_, stored)| hash_matches(stored, &wanted))
            .map(|(l, _)| l))
    }

    pub(super) fn guest_link_used(&self, link: i64) -> Result<()> {
        self.conn().execute(
            "UPDATE guest_links SET uses = uses + 1, last_used_ms = ?1 WHERE id = ?2",
            params![now_ms(), link],
        )?;
        Ok(())
    }

    pub(super) fn guest_revoke_link(&self, project: &Project, link: i64) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let n = tx.execute(
            "UPDATE guest_links SET revoked_ms = ?1 \
             WHERE id = ?2 AND project_id = ?3 AND revoked_ms IS NULL",
            params![now_ms(), link, project.id],
        )?;
        // Its guests' sessions go with it (they would open nothing anyway).
        if n == 1 {
            tx.execute("DELETE FROM guest_sessions WHERE link_id = ?1", [link])?;
        }
        tx.commit()?;
        Ok(n == 1)
    }

    pub(super) fn guest_create_session(&self, link: i64) -> Result<String> {
        let secret = random_secret("lng_");
        self.conn().execute(
            "INSERT INTO guest_sessions (hash, link_id, created_ms) VALUES (?1, ?2, ?3)",
            params![hash(&secret), link, now_ms()],
        )?;
        Ok(secret)
    }

    pub(super) fn guest_session_link(&self, secret: &str) -> Result<Option<i64>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT link_id FROM guest_sessions WHERE hash = ?1",
                [hash(secret)],
                |r| r.get(0),
            )
            .optional()?)
    }

    pub(super) fn guest_hold_comment(&self, c: &NewComment) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let held: i64 = tx.query_row(
            "SELECT COUNT(*) FROM guest_comments WHERE link_id = ?1 AND state = 'held'",
            [c.link],
            |r| r.get(0),
        )?;
        if held as u64 >= MAX_HELD_PER_LINK {
            return Ok(false);
        }
        tx.execute(
            "INSERT INTO guest_comments (link_id, name, text, version, at_s, until_s, \
             created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                c.link,
                c.name,
                c.text,
                c.version.to_string(),
                c.at,
                c.until,
                now_ms()
            ],
        )?;
        tx.commit()?;
        Ok(true)
    }

    pub(super) fn guest_held_comments(&self, project: &Project) -> Result<Vec<HeldComment>> {
        let conn = self.conn();
        let mut st = conn.prepare(&format!(
            "{COMMENT_SELECT} WHERE l.project_id = ?1 AND c.state = 'held' ORDER BY c.id"
        ))?;
        let rows = st.query_map([project.id], comment_of)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub(super) fn guest_settle_comment(
        &self,
        project: &Project,
        comment: i64,
        settle: Fate,
    ) -> Result<Option<HeldComment>> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let found = tx
            .query_row(
                &format!(
                    "{COMMENT_SELECT} WHERE c.id = ?1 AND l.project_id = ?2 AND c.state = 'held'"
                ),
                params![comment, project.id],
                comment_of,
            )
            .optional()?;
        if found.is_some() {
            tx.execute(
                "UPDATE guest_comments SET state = ?1, decided_ms = ?2, note_id = ?3 \
                 WHERE id = ?4",
                params![settle.state(), now_ms(), settle.note(), comment],
            )?;
        }
        tx.commit()?;
        Ok(found)
    }

    pub(super) fn guest_unsettle_comment(&self, comment: i64) -> Result<()> {
        self.conn().execute(
            "UPDATE guest_comments SET state = 'held', decided_ms = NULL, note_id = NULL \
             WHERE id = ?1",
            [comment],
        )?;
        Ok(())
    }

    /// Every link row and guest comment row, for [`SqliteStore::dump`].
    pub(super) fn guest_rows(
        conn: &rusqlite::Connection,
    ) -> rusqlite::Result<(Vec<LinkRow>, Vec<GuestCommentRow>)> {
        let mut st = conn.prepare(
            "SELECT id, project_id, hash, song, label, passphrase, token_id, created_ms, \
             expires_ms, revoked_ms, last_used_ms, uses FROM guest_links ORDER BY id",
        )?;
        let links = st
            .query_map([], |r| {
                Ok(LinkRow {
                    id: r.get(0)?,
                    project_id: r.get(1)?,
                    hash: r.get(2)?,
                    song: r.get(3)?,
                    label: r.get(4)?,
                    passphrase: r.get(5)?,
                    token_id: r.get(6)?,
                    created_ms: r.get(7)?,
                    expires_ms: r.get(8)?,
                    revoked_ms: r.get(9)?,
                    last_used_ms: r.get(10)?,
                    uses: r.get(11)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut st = conn.prepare(
            "SELECT id, link_id, name, text, version, at_s, until_s, created_ms, state, \
             decided_ms, note_id FROM guest_comments ORDER BY id",
        )?;
        let comments = st
            .query_map([], |r| {
                Ok(GuestCommentRow {
                    id: r.get(0)?,
                    link_id: r.get(1)?,
                    name: r.get(2)?,
                    text: r.get(3)?,
                    version: r.get(4)?,
                    at_s: r.get(5)?,
                    until_s: r.get(6)?,
                    created_ms: r.get(7)?,
                    state: r.get(8)?,
                    decided_ms: r.get(9)?,
                    note_id: r.get(10)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok((links, comments))
    }
}

//! What the stores keep of each person's digest ([`liner_record::digest`]), per project and
//! person: when they last looked at it, the hash of their private feed's secret (none: no
//! feed), the role the digest speaks as, and where and how often it is mailed.
//!
//! A feed's secret is never stored: only its SHA-256, looked up by hash and compared again in
//! constant time, as tokens are. A row counts only while the person holds a live token of
//! that role in the project ([`DigestPrefs::live`]): revoking their tokens ends their feed
//! and their mail.

use super::Project;
use liner_record::Role;

/// How often a person's digest is mailed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Every {
    /// Once a day, at the server's mail hour (UTC).
    Daily,
    /// After each listening session: once the project has been quiet a while after news.
    Session,
}

impl Every {
    pub fn as_str(self) -> &'static str {
        match self {
            Every::Daily => "daily",
            Every::Session => "session",
        }
    }

    /// `daily`, `session`, or `off` (None); anything else is no cadence.
    ///
    /// # Errors
    /// Anything but those three words.
    pub fn parse(word: &str) -> Result<Option<Every>, String> {
        match word.trim() {
            "daily" => Ok(Some(Every::Daily)),
            "session" => Ok(Some(Every::Session)),
            "off" => Ok(None),
            other => Err(format!(
                "{other:?} is no cadence: say daily, session or off"
            )),
        }
    }

    /// A stored cadence (one this version cannot read is off).
    pub(super) fn stored(word: Option<&str>) -> Option<Every> {
        Every::parse(word?).ok().flatten()
    }
}

/// One person's digest settings in one project.
#[derive(Debug, Clone, PartialEq)]
pub struct DigestPrefs {
    pub project: Project,
    pub person: String,
    /// The role the digest speaks as (what waits for the executive differs).
    pub role: Role,
    /// When they last looked at the digest page (UTC ms); None: never.
    pub last_look_ms: Option<i64>,
    /// Whether they have a private feed address.
    pub feed: bool,
    /// Where their digest is mailed, and how often (None: not mailed).
    pub mail_to: Option<String>,
    pub every: Option<Every>,
    /// When the last mail went (UTC ms): a mail tells what came since.
    pub mailed_ms: Option<i64>,
    /// The person holds a live (unrevoked) token of this role in the project.
    pub live: bool,
}

/// A digest row as stored, for a copy into PostgreSQL.
#[derive(Debug, Clone)]
pub struct DigestRow {
    pub project_id: i64,
    pub person: String,
    pub role: String,
    pub last_look_ms: Option<i64>,
    pub feed_hash: Option<String>,
    pub mail_to: Option<String>,
    pub mail_every: Option<String>,
    pub mailed_ms: Option<i64>,
}

/// The prefix of a feed's secret (so one pasted somewhere is recognised for what it is).
pub const FEED_PREFIX: &str = "lnfeed_";

/// Every digest query: the columns of [`DigestPrefs`] (`d` is `digests`, `p` its project),
/// whether the person holds a live token of the role, and last the feed's stored hash.
pub(super) const SELECT: &str = "SELECT d.project_id, p.name, d.person, d.role, d.last_look_ms, \
     d.feed_hash IS NOT NULL, d.mail_to, d.mail_every, d.mailed_ms, \
     EXISTS (SELECT 1 FROM tokens t WHERE t.project_id = d.project_id AND t.name = d.person \
             AND t.role = d.role AND t.revoked = FALSE), d.feed_hash \
     FROM digests d JOIN projects p ON p.id = d.project_id";

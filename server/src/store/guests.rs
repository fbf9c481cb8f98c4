//! Listening links and the comments guests leave through them: what the stores keep, in
//! the words both stores share.
//!
//! A link's secret is 32 random bytes shown once; only its SHA-256 is stored, and a lookup
//! compares the stored hash in constant time, as tokens do. A passphrase is kept only as its
//! Argon2 hash (PHC string, salted). A guest's comment is held here, outside the record,
//! until the executive accepts it (then it becomes a `note_added` event by the executive
//! naming the guest) or dismisses it.

use super::Project;
use uuid::Uuid;

/// How many comments one link may hold waiting for the executive at once: a guest (or
/// whoever has the link) cannot fill the database.
pub const MAX_HELD_PER_LINK: u64 = 200;

/// Where a link stands now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    Live,
    Expired,
    Revoked,
}

impl LinkState {
    pub fn words(self) -> &'static str {
        match self {
            LinkState::Live => "live",
            LinkState::Expired => "expired",
            LinkState::Revoked => "revoked",
        }
    }
}

/// A listening link as listed (never its secret).
#[derive(Debug, Clone, PartialEq)]
pub struct GuestLink {
    pub id: i64,
    pub project: Project,
    /// The one song it opens; `None`: the album.
    pub song: Option<String>,
    /// Who it is for, in the executive's words ("for the label's A&R").
    pub label: String,
    /// The passphrase's Argon2 hash (a PHC string), when the link has one.
    pub passphrase: Option<String>,
    /// The person whose token made it.
    pub made_by: String,
    pub created_ms: i64,
    pub expires_ms: i64,
    pub revoked_ms: Option<i64>,
    pub last_used_ms: Option<i64>,
    /// Times a guest opened it (a page, not each piece of audio).
    pub uses: i64,
}

impl GuestLink {
    /// Revoked first (a revoked link says so even after its expiry), then expired.
    pub fn state(&self, now_ms: i64) -> LinkState {
        if self.revoked_ms.is_some() {
            LinkState::Revoked
        } else if now_ms >= self.expires_ms {
            LinkState::Expired
        } else {
            LinkState::Live
        }
    }
}

/// A link about to be made.
#[derive(Debug, Clone)]
pub struct NewLink {
    pub project: Project,
    /// The token making it (the executive's).
    pub token: i64,
    pub song: Option<String>,
    pub label: String,
    /// The passphrase's Argon2 hash, already made (never the passphrase).
    pub passphrase: Option<String>,
    pub expires_ms: i64,
}

/// A guest's comment, waiting for the executive.
#[derive(Debug, Clone, PartialEq)]
pub struct HeldComment {
    pub id: i64,
    pub link: i64,
    pub link_label: String,
    /// The name the guest typed.
    pub name: String,
    pub text: String,
    /// The `version_printed` event of the version the guest was hearing.
    pub version: Uuid,
    /// Seconds into that version, when the guest gave a time (and the end of a range).
    pub at: Option<f64>,
    pub until: Option<f64>,
    pub created_ms: i64,
}

/// A guest's comment as it arrives.
#[derive(Debug, Clone)]
pub struct NewComment {
    pub link: i64,
    pub name: String,
    pub text: String,
    pub version: Uuid,
    pub at: Option<f64>,
    pub until: Option<f64>,
}

/// What the executive does with a held comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Recorded as the note with this id.
    Accept(Uuid),
    Dismiss,
}

impl Fate {
    pub(super) fn state(self) -> &'static str {
        match self {
            Fate::Accept(_) => "accepted",
            Fate::Dismiss => "dismissed",
        }
    }

    pub(super) fn note(self) -> Option<String> {
        match self {
            Fate::Accept(id) => Some(id.to_string()),
            Fate::Dismiss => None,
        }
    }
}

/// A link row as stored, for `liner migrate`.
#[derive(Debug, Clone)]
pub struct LinkRow {
    pub id: i64,
    pub project_id: i64,
    pub hash: String,
    pub song: Option<String>,
    pub label: String,
    pub passphrase: Option<String>,
    pub token_id: i64,
    pub created_ms: i64,
    pub expires_ms: i64,
    pub revoked_ms: Option<i64>,
    pub last_used_ms: Option<i64>,
    pub uses: i64,
}

/// A guest comment row as stored (held or settled), for `liner migrate`.
#[derive(Debug, Clone)]
pub struct GuestCommentRow {
    pub id: i64,
    pub link_id: i64,
    pub name: String,
    pub text: String,
    pub version: String,
    pub at_s: Option<f64>,
    pub until_s: Option<f64>,
    pub created_ms: i64,
    pub state: String,
    pub decided_ms: Option<i64>,
    pub note_id: Option<String>,
}

/// The columns every link query reads, in [`GuestLink`]'s order, then the stored hash.
pub(super) const LINK_SELECT: &str = "SELECT l.id, l.project_id, p.name, l.song, l.label, \
     l.passphrase, t.name, l.created_ms, l.expires_ms, l.revoked_ms, l.last_used_ms, l.uses, \
     l.hash FROM guest_links l JOIN projects p ON p.id = l.project_id \
     JOIN tokens t ON t.id = l.token_id";

/// The columns every held-comment query reads, in [`HeldComment`]'s order.
pub(super) const COMMENT_SELECT: &str = "SELECT c.id, c.link_id, l.label, c.name, c.text, \
     c.version, c.at_s, c.until_s, c.created_ms FROM guest_comments c \
     JOIN guest_links l ON l.id = c.link_id";

/// A stored link hash matches the one asked for, compared in constant time.
pub(super) fn hash_matches(stored: &str, wanted: &str) -> bool {
    use subtle::ConstantTimeEq;
    stored.as_bytes().ct_eq(wanted.as_bytes()).into()
}

/// A version id read back; a row no build of ours wrote reads as the nil id (it matches no
/// version, so it can never be accepted onto one).
pub(super) fn version_of(stored: &str) -> Uuid {
    Uuid::parse_str(stored).unwrap_or(Uuid::nil())
}

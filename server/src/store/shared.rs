//! What both stores decide the same way, whatever their SQL: how a pushed event is judged
//! (a duplicate, a conflict, refused by the ownership and target rules, or stored), what
//! stored events make their author own, whether a clip's bytes are taken, whether a token
//! secret signs in, and the secrets and hashes themselves.
//!
//! `sqlite.rs` and `postgres.rs` only ask their database the questions these functions
//! need answered and write down what they decide; a rule changed here changes for both.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use super::{ChunkPut, ClipPut, Incoming, PushOutcome, Receipt, TokenInfo, SESSION_MS};
use liner_record::Role;

/// What happens to one pushed event, given what is stored under its id (sequence number and
/// line) and a lookup of a subject key's owner: `Some` outcome when it is not stored (the
/// same line again is a duplicate, another line under its id a conflict, or the rules
/// refuse it), `None` when it is to be stored.
pub(super) fn first_look<E>(
    stored: Option<(u64, &str)>,
    incoming: &Incoming,
    owner_of: &mut impl FnMut(String) -> std::result::Result<Option<String>, E>,
) -> std::result::Result<Option<PushOutcome>, E> {
    match stored {
        Some((seq, line)) if line == incoming.json => Ok(Some(PushOutcome::Duplicate(seq))),
        Some(_) => Ok(Some(PushOutcome::Conflict)),
        None => judge(&incoming.event, owner_of),
    }
}

/// What a store knows when a clip's bytes arrive.
pub struct ClipFacts {
    /// The size a stored `clip_attached` event gives the clip (None: no event names it).
    pub expected: Option<u64>,
    /// Whether the project holds the bytes already.
    pub stored: bool,
    /// The clip bytes the project holds.
    pub used: u64,
}

/// Whether a clip's bytes are taken: `None` when they are to be stored, otherwise the answer
/// (unknown, the wrong size, already stored, or over the project's quota, in that order).
pub(super) fn clip_refusal(facts: &ClipFacts, len: u64, quota: u64) -> Option<ClipPut> {
    let Some(expected) = facts.expected else {
        return Some(ClipPut::Unknown);
    };
    if expected != len {
        return Some(ClipPut::WrongSize { expected });
    }
    if facts.stored {
        return Some(ClipPut::AlreadyStored);
    }
    let used = facts.used;
    used.checked_add(len)
        .is_none_or(|total| total > quota)
        .then_some(ClipPut::OverQuota { used, quota })
}

/// What a store knows of a version when one of its chunks arrives (or its upload is asked
/// about).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VersionFacts {
    /// The size a stored `version_printed` event of the project gives it (None: no event
    /// names it).
    pub expected: Option<u64>,
    /// The chunks stored, in order.
    pub have: Vec<u64>,
    /// Whether the whole was checked against its hash and kept.
    pub complete: bool,
    /// The bytes of clips and version chunks the project holds (one quota for both).
    pub used: u64,
}

/// Whether chunk `index` of `len` bytes is taken: `None` when it is to be stored, otherwise
/// the answer, for the first reason that holds: no event names the version, it is larger
/// than any version may be, the index is past its last chunk, the length is not that
/// chunk's, the chunk is stored already, or the rest of the version would not fit the
/// project's quota (judged on all the version still needs, so an upload that cannot finish
/// is refused at its first chunk rather than filling the quota).
pub(super) fn chunk_refusal(
    facts: &VersionFacts,
    index: u64,
    len: u64,
    quota: u64,
) -> Option<ChunkPut> {
    use liner_record::versions::{chunk_span, chunks_of, MAX_VERSION_BYTES};
    let Some(bytes) = facts.expected else {
        return Some(ChunkPut::Unknown);
    };
    if bytes > MAX_VERSION_BYTES {
        return Some(ChunkPut::TooLarge {
            most: MAX_VERSION_BYTES,
        });
    }
    let Some((_, size)) = chunk_span(bytes, index) else {
        return Some(ChunkPut::OutOfRange {
            chunks: chunks_of(bytes),
        });
    };
    if size != len {
        return Some(ChunkPut::WrongSize { expected: size });
    }
    if facts.complete || facts.have.contains(&index) {
        return Some(ChunkPut::AlreadyStored);
    }
    let held: u64 = facts
        .have
        .iter()
        .filter_map(|&i| chunk_span(bytes, i).map(|(_, n)| n))
        .sum();
    let used = facts.used;
    used.checked_add(bytes.saturating_sub(held))
        .is_none_or(|total| total > quota)
        .then_some(ChunkPut::OverQuota { used, quota })
}

/// A token found by the hash of a presented secret signs in when the stored hash equals the
/// wanted one (compared again in constant time: the lookup was by hash) and it is not revoked.
pub(super) fn signs_in(info: TokenInfo, stored_hash: &str, wanted_hash: &str) -> Option<TokenInfo> {
    let same: bool = stored_hash.as_bytes().ct_eq(wanted_hash.as_bytes()).into();
    (same && !info.revoked).then_some(info)
}

/// A stored role: one this version cannot read gives the least a token can do.
pub(super) fn role_of(stored: &str) -> Role {
    stored.parse().unwrap_or(Role::Viewer)
}

/// The earliest creation time of a session that still signs in, now.
pub(super) fn sessions_since() -> i64 {
    now_ms().saturating_sub(SESSION_MS)
}

/// The columns PostgreSQL keeps beside a stored line: its author, and whether it may be
/// judged and given a clip. A row an earlier version stored that is no event is copied as it
/// is; it owns nothing and may be neither judged nor given a clip. The columns are the rules
/// of the day the row was stored: a change to [`liner_record::rules::judgeable`] or
/// [`liner_record::rules::clippable`] needs a PostgreSQL migration setting them again for
/// the rows it changes (as migration 10 did for versions), or PostgreSQL and SQLite (which
/// reads the line) would judge the old rows differently.
pub(super) fn event_columns(json: &str) -> (String, bool, bool) {
    match serde_json::from_str::<liner_record::Event>(json) {
        Ok(event) => {
            let judgeable = liner_record::rules::judgeable(&event.body);
            let clippable = liner_record::rules::clippable(&event.body);
            (event.author, judgeable, clippable)
        }
        Err(_) => (String::new(), false, false),
    }
}

/// An audit trail line from a stored event's row.
pub(super) fn receipt(
    seq: i64,
    id: &str,
    json: &str,
    received_ms: i64,
    token: Option<TokenInfo>,
) -> Receipt {
    Receipt {
        seq: seq as u64,
        id: id.parse().unwrap_or_else(|_| Uuid::nil()),
        kind: kind_of(json),
        received_ms,
        token,
    }
}

/// The refusal of an event over the record's limits, if it is.
pub(super) fn over_the_limits(e: &Incoming) -> Option<PushOutcome> {
    liner_record::limits::check_sized(&e.event, e.json.len())
        .err()
        .map(|too_big| PushOutcome::Refused {
            code: "too_long",
            message: too_big.to_string(),
        })
}

/// The subjects an event stored makes its author the owner of (if nobody is), and the key
/// that lets verdicts judge it.
pub(super) fn owned_keys(e: &liner_record::Event) -> Vec<String> {
    use liner_record::rules::{self, Claim};
    let mut keys = Vec::new();
    if let Some(Claim::Makes(s) | Claim::MakesOrChanges(s)) = rules::claim(e) {
        keys.push(s.key());
    }
    if rules::judgeable(&e.body) {
        keys.push(judgeable_key(e.id));
    }
    if rules::clippable(&e.body) {
        keys.push(clippable_key(e.id));
    }
    if let Some((verdict, target)) = rules::asks_for_changes(e) {
        keys.push(changes_key(verdict, target));
    }
    keys
}

/// The keys [`judge`] may look up for an event, so a store can read them all at once: the
/// subject keys (what it claims; for a done, the changes request it answers and the version
/// it names), and the events its verdict, clip or reply is of (whose judgeable and clippable
/// keys it asks for).
pub(super) fn consulted(e: &liner_record::Event) -> (Vec<String>, Vec<Uuid>) {
    use liner_record::rules::{self, Claim, Subject};
    let mut keys: Vec<String> = rules::claim(e)
        .map(|(Claim::Makes(s) | Claim::Changes(s) | Claim::MakesOrChanges(s))| s.key())
        .into_iter()
        .collect();
    if let Some(((verdict, target), version)) = rules::done_answers(e) {
        keys.push(changes_key(verdict, target));
        keys.extend(version.map(|v| Subject::Version(v).key()));
    }
    let targets = rules::verdict_target(e)
        .into_iter()
        .chain(rules::clip_target(e))
        .chain(rules::reply_target(e))
        .collect();
    (keys, targets)
}

/// Whether an owned key is kept as a subject row (a take, a mark, a changes request): the
/// others are read from the row of the event they are of ([`event_key`]).
pub(super) fn is_subject_key(key: &str) -> bool {
    event_key(key).is_none()
}

/// The prefixes of the keys saying an event may be judged, or given a clip.
const JUDGEABLE: &str = "judgeable:";
const CLIPPABLE: &str = "clippable:";

/// A key whose owner the row of one event says, so no subject row is kept for it: whether
/// an event may be judged or given a clip (PostgreSQL keeps both as columns of the row), and
/// a note, version or reply (its owner is the author of the event that made it, by its own
/// id). A push of notes so writes its events' rows and nothing else.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum EventKey {
    Judgeable(Uuid),
    Clippable(Uuid),
    /// A subject, and the id of the event that made it.
    Made(liner_record::rules::Subject, Uuid),
}

impl EventKey {
    /// The id of the event whose row says.
    pub(super) fn event(&self) -> Uuid {
        match self {
            EventKey::Judgeable(id) | EventKey::Clippable(id) | EventKey::Made(_, id) => *id,
        }
    }

    /// The key's owner, from the line stored under [`EventKey::event`]: its author, if the
    /// event is of the kind the key asks for. A line that is no event owns nothing.
    pub(super) fn owner_in(&self, line: &str) -> Option<String> {
        use liner_record::rules::{self, Claim};
        let event = serde_json::from_str::<liner_record::Event>(line).ok()?;
        let holds = match self {
            EventKey::Judgeable(_) => rules::judgeable(&event.body),
            EventKey::Clippable(_) => rules::clippable(&event.body),
            EventKey::Made(subject, _) => rules::claim(&event) == Some(Claim::Makes(*subject)),
        };
        holds.then_some(event.author)
    }
}

/// The event `key` is of, if its owner is read from that event's row.
pub(super) fn event_key(key: &str) -> Option<EventKey> {
    if let Some(id) = key.strip_prefix(JUDGEABLE) {
        return id.parse().ok().map(EventKey::Judgeable);
    }
    if let Some(id) = key.strip_prefix(CLIPPABLE) {
        return id.parse().ok().map(EventKey::Clippable);
    }
    liner_record::rules::Subject::made_by_event(key)
        .map(|(subject, id)| EventKey::Made(subject, id))
}

pub(super) fn clippable_key(id: Uuid) -> String {
    format!("{CLIPPABLE}{id}")
}

pub(super) fn judgeable_key(id: Uuid) -> String {
    format!("{JUDGEABLE}{id}")
}

/// The executive's changes-requested `verdict` on `target`, which a done may answer (its
/// owner is the executive who asked).
pub(super) fn changes_key(verdict: Uuid, target: Uuid) -> String {
    format!("changes:{verdict}:{target}")
}

/// A new token secret: the record's prefix and 32 random bytes in hex.
pub(super) fn new_token_secret() -> String {
    random_secret(liner_record::settings::TOKEN_PREFIX)
}

/// `prefix` and 32 random bytes in hex.
pub(super) fn random_secret(prefix: &str) -> String {
    use rand::Rng;
    let bytes: [u8; 32] = rand::rng().random();
    format!(
        "{prefix}{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

pub(super) fn hash(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

pub(super) fn now_ms() -> i64 {
    liner_record::event::now_ms()
}

/// An event's kind, read from its stored line.
pub(super) fn kind_of(json: &str) -> String {
    #[derive(serde::Deserialize)]
    struct KindOnly {
        kind: String,
    }
    serde_json::from_str::<KindOnly>(json)
        .map(|k| k.kind)
        .unwrap_or_else(|_| "(unreadable)".into())
}

/// Judges a new event by the ownership and target rules, given a lookup of a subject key's
/// owner; `None` when it may be stored.
fn judge<E>(
    e: &liner_record::Event,
    owner_of: &mut impl FnMut(String) -> std::result::Result<Option<String>, E>,
) -> std::result::Result<Option<PushOutcome>, E> {
    use liner_record::rules::{self, Claim, Refusal};
    if let Some(target) = rules::verdict_target(e) {
        if owner_of(judgeable_key(target))?.is_none() {
            return Ok(Some(PushOutcome::Refused {
                code: "unknown_target",
                message: format!(
                    "the verdict judges {target}, which is no note, decision, take or song \
                     selection of this project"
                ),
            }));
        }
    }
    if let Some(target) = rules::clip_target(e) {
        match owner_of(clippable_key(target))? {
            None => {
                return Ok(Some(PushOutcome::Refused {
                    code: "unknown_target",
                    message: format!(
                        "the clip is of {target}, which is no note, decision or mark of this \
                         project"
                    ),
                }))
            }
            Some(owner) if owner != e.author => {
                return Ok(Some(PushOutcome::Refused {
                    code: "not_yours",
                    message: format!("{target} was made by {owner:?}; only they attach its audio"),
                }))
            }
            Some(_) => {}
        }
    }
    if let Some(target) = rules::reply_target(e) {
        if owner_of(judgeable_key(target))?.is_none() && owner_of(clippable_key(target))?.is_none()
        {
            return Ok(Some(PushOutcome::Refused {
                code: "unknown_target",
                message: format!(
                    "the reply answers {target}, which is no note, decision, take, mark, \
                     version or song selection of this project"
                ),
            }));
        }
    }
    if let Some(refusal) = judge_done(e, owner_of)? {
        return Ok(Some(refusal));
    }
    let Some(claim) = rules::claim(e) else {
        return Ok(None);
    };
    let (Claim::Makes(s) | Claim::Changes(s) | Claim::MakesOrChanges(s)) = claim;
    let owner = owner_of(s.key())?;
    Ok(
        match rules::judge_claim(claim, &e.author, owner.as_deref()) {
            Ok(()) => None,
            Err(Refusal::NotYours { owner }) => Some(PushOutcome::Refused {
                code: "not_yours",
                message: format!(
                    "{} belongs to {owner:?}; only they can change it",
                    describe(&s)
                ),
            }),
            Err(Refusal::Unknown) => Some(PushOutcome::Refused {
                code: "unknown_target",
                message: format!("{} is not in this project", describe(&s)),
            }),
        },
    )
}

/// A done must answer a changes request of the executive's on what it names, and name a
/// version of the project if it names one.
fn judge_done<E>(
    e: &liner_record::Event,
    owner_of: &mut impl FnMut(String) -> std::result::Result<Option<String>, E>,
) -> std::result::Result<Option<PushOutcome>, E> {
    use liner_record::rules::{self, Subject};
    let Some(((verdict, target), version)) = rules::done_answers(e) else {
        return Ok(None);
    };
    if owner_of(changes_key(verdict, target))?.is_none() {
        return Ok(Some(PushOutcome::Refused {
            code: "not_asked",
            message: format!(
                "{verdict} is no request for changes on {target} in this project; done \
                 answers the executive's \"changes requested\" on the same thing"
            ),
        }));
    }
    if let Some(v) = version {
        if owner_of(Subject::Version(v).key())?.is_none() {
            return Ok(Some(PushOutcome::Refused {
                code: "unknown_target",
                message: format!("the done names {v}, which is no version of this project"),
            }));
        }
    }
    Ok(None)
}

fn describe(s: &liner_record::rules::Subject) -> String {
    use liner_record::rules::Subject;
    match s {
        Subject::Note(id) => format!("the note {id}"),
        Subject::Take(t) => format!("take {} of instance {}", t.number, t.instance),
        Subject::Mark { instance, number } => format!("mark {number} of instance {instance}"),
        Subject::Version(id) => format!("the version {id}"),
        Subject::Reply(id) => format!("the reply {id}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Project;

    fn facts(expected: Option<u64>, stored: bool, used: u64) -> ClipFacts {
        ClipFacts {
            expected,
            stored,
            used,
        }
    }

    #[test]
    fn a_clip_is_refused_for_the_first_reason_that_holds() {
        assert_eq!(
            clip_refusal(&facts(None, true, 0), 10, 100),
            Some(ClipPut::Unknown)
        );
        assert_eq!(
            clip_refusal(&facts(Some(9), true, 0), 10, 100),
            Some(ClipPut::WrongSize { expected: 9 })
        );
        assert_eq!(
            clip_refusal(&facts(Some(10), true, 95), 10, 100),
            Some(ClipPut::AlreadyStored)
        );
        assert_eq!(
            clip_refusal(&facts(Some(10), false, 91), 10, 100),
            Some(ClipPut::OverQuota {
                used: 91,
                quota: 100
            })
        );
        assert_eq!(clip_refusal(&facts(Some(10), false, 90), 10, 100), None);
        assert_eq!(
            clip_refusal(&facts(Some(10), false, u64::MAX), 10, u64::MAX),
            Some(ClipPut::OverQuota {
                used: u64::MAX,
                quota: u64::MAX
            })
        );
    }

    #[test]
    fn a_chunk_is_refused_for_the_first_reason_that_holds() {
        use liner_record::versions::CHUNK_BYTES;
        let bytes = 2 * CHUNK_BYTES + 10;
        let f = |expected, have: &[u64], complete, used| VersionFacts {
            expected,
            have: have.to_vec(),
            complete,
            used,
        };
        let quota = 10 * CHUNK_BYTES;
        let judge = |facts: &VersionFacts, i, len| chunk_refusal(facts, i, len, quota);
        assert_eq!(
            judge(&f(None, &[], false, 0), 0, 5),
            Some(ChunkPut::Unknown)
        );
        let fresh = f(Some(bytes), &[], false, 0);
        assert_eq!(
            judge(&fresh, 3, 10),
            Some(ChunkPut::OutOfRange { chunks: 3 })
        );
        assert_eq!(
            judge(&fresh, 2, CHUNK_BYTES),
            Some(ChunkPut::WrongSize { expected: 10 })
        );
        assert_eq!(
            judge(&fresh, 0, 10),
            Some(ChunkPut::WrongSize {
                expected: CHUNK_BYTES
            })
        );
        assert_eq!(judge(&fresh, 2, 10), None);
        assert_eq!(
            judge(&f(Some(bytes), &[2], false, 10), 2, 10),
            Some(ChunkPut::AlreadyStored)
        );
        assert_eq!(
            judge(&f(Some(bytes), &[], true, bytes), 1, CHUNK_BYTES),
            Some(ChunkPut::AlreadyStored)
        );
        // The whole rest must fit: 8 MiB used by others + 2 MiB + 10 still to come.
        let full = 8 * CHUNK_BYTES;
        assert_eq!(
            judge(&f(Some(bytes), &[], false, full), 2, 10),
            Some(ChunkPut::OverQuota { used: full, quota })
        );
        // What this version holds already counts once.
        let held = full - 10 + CHUNK_BYTES;
        assert_eq!(
            judge(&f(Some(bytes), &[0], false, held), 1, CHUNK_BYTES),
            None
        );
        let huge = liner_record::versions::MAX_VERSION_BYTES + 1;
        assert!(matches!(
            judge(&f(Some(huge), &[], false, 0), 0, CHUNK_BYTES),
            Some(ChunkPut::TooLarge { .. })
        ));
    }

    #[test]
    fn only_the_same_hash_of_a_live_token_signs_in() {
        let info = |revoked| TokenInfo {
            id: 1,
            project: Project {
                id: 1,
                name: "p".into(),
            },
            person: "Eve".into(),
            role: Role::Executive,
            revoked,
            created_ms: 0,
        };
        let h = hash("ln_secret");
        assert!(signs_in(info(false), &h, &h).is_some());
        assert!(signs_in(info(true), &h, &h).is_none());
        assert!(signs_in(info(false), &h, &hash("ln_other")).is_none());
        assert_eq!(role_of("executive"), Role::Executive);
        assert_eq!(role_of("admiral"), Role::Viewer);
    }

    #[test]
    fn the_same_line_again_is_a_duplicate_and_another_a_conflict() {
        use liner_record::event::{Body, Category, Context, NoteAdded};
        let ctx = Context {
            project: "p".into(),
            song: "Song".into(),
            track: "Vox".into(),
            session: Uuid::now_v7(),
            author: "Sam".into(),
            role: Role::Producer,
        };
        let event = liner_record::Event::new(
            &ctx,
            None,
            Body::NoteAdded(NoteAdded {
                text: "a note".into(),
                category: Category::Vocal,
                anchor: None,
                take: None,
                private: false,
                version: None,
                guest: None,
            }),
        );
        let incoming = Incoming::from_event(event);
        let mut nobody = |_: String| Ok::<_, std::convert::Infallible>(None);
        assert_eq!(
            first_look(Some((7, incoming.json.as_str())), &incoming, &mut nobody),
            Ok(Some(PushOutcome::Duplicate(7)))
        );
        assert_eq!(
            first_look(Some((7, "{}")), &incoming, &mut nobody),
            Ok(Some(PushOutcome::Conflict))
        );
        assert_eq!(first_look(None, &incoming, &mut nobody), Ok(None));
    }
}

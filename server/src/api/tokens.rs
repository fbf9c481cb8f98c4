//! Tokens recently verified, so a busy client's requests do not each ask the database.
//!
//! A request's bearer token is looked up in the store once, then answered from here for at
//! most [`FRESH`]. So a token revoked anywhere (`liner token revoke`, another server on the
//! same PostgreSQL, a listening link's maker losing their token) is refused within that time
//! by every server, with no message between them. Only live tokens are kept: a wrong or
//! revoked one always goes to the store (and counts as a guess). Keys are the SHA-256 of the
//! secret, never the secret.

use crate::store::TokenInfo;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a verified token is believed without asking the store again: the longest a
/// revocation takes to reach a request.
pub const FRESH: Duration = Duration::from_millis(900);

/// At most this many tokens are kept; when full, the stale ones go, and if none is stale,
/// all (each is one store read away).
const MOST: usize = 10_000;

#[derive(Default)]
pub struct Tokens {
    verified: Mutex<HashMap<[u8; 32], (TokenInfo, Instant)>>,
}

/// The cache's key for a secret.
pub fn key_of(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

impl Tokens {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], (TokenInfo, Instant)>> {
        self.verified.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The token verified for this key less than [`FRESH`] ago, if any.
    pub fn fresh(&self, key: &[u8; 32], now: Instant) -> Option<TokenInfo> {
        let map = self.map();
        let (info, at) = map.get(key)?;
        (now.saturating_duration_since(*at) < FRESH).then(|| info.clone())
    }

    /// Keeps a token the store has just verified (as of `at`, when the store was asked).
    pub fn verified(&self, key: [u8; 32], info: TokenInfo, at: Instant) {
        let mut map = self.map();
        if map.len() >= MOST {
            map.retain(|_, (_, then)| at.saturating_duration_since(*then) < FRESH);
            if map.len() >= MOST {
                map.clear();
            }
        }
        map.insert(key, (info, at));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Project;
    use liner_record::Role;

    fn info(id: i64) -> TokenInfo {
        TokenInfo {
            id,
            project: Project {
                id: 1,
                name: "P".into(),
            },
            person: "Sam".into(),
            role: Role::Producer,
            revoked: false,
            created_ms: 0,
        }
    }

    #[test]
    fn a_token_is_believed_for_less_than_fresh_then_asked_again() {
        let tokens = Tokens::default();
        let t0 = Instant::now();
        let key = key_of("lnt_secret");
        assert_eq!(tokens.fresh(&key, t0), None);
        tokens.verified(key, info(7), t0);
        assert_eq!(tokens.fresh(&key, t0 + FRESH / 2), Some(info(7)));
        assert_eq!(tokens.fresh(&key, t0 + FRESH), None);
        assert_eq!(tokens.fresh(&key_of("lnt_other"), t0), None);
    }

    #[test]
    fn a_full_cache_drops_stale_tokens_first() {
        let tokens = Tokens::default();
        let t0 = Instant::now();
        for i in 0..MOST {
            tokens.verified(key_of(&format!("old{i}")), info(i as i64), t0);
        }
        let later = t0 + FRESH * 2;
        tokens.verified(key_of("new"), info(-1), later);
        assert_eq!(tokens.map().len(), 1, "the stale ones made room");
        assert_eq!(tokens.fresh(&key_of("new"), later), Some(info(-1)));
    }
}

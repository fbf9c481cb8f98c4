//! Guessing tokens costs time: wrong tokens (on `/sign-in`, and in `Authorization: Bearer`
//! headers) slow down the address they come from, and every address that sends them while
//! the server as a whole hears a flood of them. An address that sent no wrong token lately is
//! never slowed, so the right token from anywhere else goes straight in, and from the
//! guessing address itself it goes in at its turn: slowed, never locked out.
//!
//! The numbers (the README's limits table):
//! - an address's first [`FREE_MISSES`] wrong tokens cost nothing, and it is forgiven one
//!   every [`FORGIVE_EVERY`];
//! - past that, its tries take turns [`TURN`] apart: one a second;
//! - when the server has heard more than [`FLOOD`] wrong tokens in about a second (they
//!   are forgiven at [`FLOOD`] a second), every address with misses also takes a turn of a
//!   shared queue, [`FLOOD_TURN`] apart (50 tries a second from all of them together);
//! - a try whose turn is more than [`LONGEST_WAIT`] away is answered `429` at once, with
//!   `Retry-After`, and nothing is checked;
//! - each burst is logged once: when an address starts to be slowed (and again only after
//!   it was forgiven everything), and when a flood starts and ends.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// Wrong tokens an address may send before it is slowed.
pub const FREE_MISSES: f64 = 5.0;
/// An address is forgiven one wrong token this often.
pub const FORGIVE_EVERY: Duration = Duration::from_secs(12);
/// How far apart a slowed address's tries are.
pub const TURN: Duration = Duration::from_secs(1);
/// Wrong tokens a second, from all addresses, past which the server hears a flood.
pub const FLOOD: f64 = 100.0;
/// How far apart tries from addresses with misses are during a flood.
pub const FLOOD_TURN: Duration = Duration::from_millis(20);
/// The longest a try waits for its turn; one that would wait longer is answered 429.
pub const LONGEST_WAIT: Duration = Duration::from_secs(10);
/// Addresses remembered at most; past that the forgiven ones are forgotten first, and a new
/// address's misses count only toward the flood.
const MOST_ADDRESSES: usize = 65_536;

/// A count of misses that drains at a steady rate.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    level: f64,
    at: Instant,
}

impl Bucket {
    fn new(now: Instant) -> Bucket {
        Bucket {
            level: 0.0,
            at: now,
        }
    }

    /// The level now, after draining `per_second` since it was last read.
    fn level(&mut self, now: Instant, per_second: f64) -> f64 {
        let drained = now.saturating_duration_since(self.at).as_secs_f64() * per_second;
        self.level = (self.level - drained).max(0.0);
        self.at = now;
        self.level
    }
}

struct Misses {
    bucket: Bucket,
    next_turn: Instant,
    logged: bool,
}

struct Table {
    addresses: HashMap<IpAddr, Misses>,
    /// When the forgiven addresses were last forgotten (at most once a second).
    pruned: Instant,
    flood: Bucket,
    flood_next_turn: Instant,
    flood_logged: bool,
}

/// Wrong tokens heard, by address and in all.
pub struct Guesses {
    table: Mutex<Table>,
}

impl Default for Guesses {
    fn default() -> Self {
        let now = Instant::now();
        Guesses {
            table: Mutex::new(Table {
                addresses: HashMap::new(),
                pruned: now,
                flood: Bucket::new(now),
                flood_next_turn: now,
                flood_logged: false,
            }),
        }
    }
}

fn forgive_rate() -> f64 {
    1.0 / FORGIVE_EVERY.as_secs_f64()
}

impl Guesses {
    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for `addr`'s turn to present a token (at once for an address without misses).
    ///
    /// # Errors
    /// How long to wait before trying again, when its turn is further than [`LONGEST_WAIT`].
    pub async fn turn(&self, addr: IpAddr) -> Result<(), Duration> {
        let now = Instant::now();
        let at = self.book(addr, now)?;
        // Only a turn in the future goes on the timer: the timer would round even "now" up to
        // its next tick, up to a millisecond on every request.
        if at > now {
            tokio::time::sleep_until(at).await;
        }
        Ok(())
    }

    /// Books `addr`'s next turn as of `now`: when it may go.
    fn book(&self, addr: IpAddr, now: Instant) -> Result<Instant, Duration> {
        let mut t = self.lock();
        let flooded = t.flood.level(now, FLOOD) > FLOOD;
        if !flooded && t.flood_logged {
            t.flood_logged = false;
            tracing::warn!("the flood of wrong tokens has ended");
        }
        let Some(m) = t.addresses.get_mut(&addr) else {
            // An address never heard from goes at once, unless the table is too full to
            // remember it: then, in a flood, it takes its turn like the guessers.
            if flooded && t.addresses.len() >= MOST_ADDRESSES {
                let at = now.max(t.flood_next_turn);
                if at.saturating_duration_since(now) > LONGEST_WAIT {
                    return Err(at.saturating_duration_since(now));
                }
                t.flood_next_turn = at + FLOOD_TURN;
                return Ok(at);
            }
            return Ok(now);
        };
        let level = m.bucket.level(now, forgive_rate());
        if level <= 0.0 {
            m.logged = false;
        }
        let mut at = now;
        if level > FREE_MISSES {
            at = at.max(m.next_turn);
        }
        let shared = flooded && level > 0.0;
        if shared {
            at = at.max(t.flood_next_turn);
        }
        if at.saturating_duration_since(now) > LONGEST_WAIT {
            return Err(at.saturating_duration_since(now));
        }
        if shared {
            t.flood_next_turn = at + FLOOD_TURN;
        }
        if let Some(m) = t.addresses.get_mut(&addr) {
            if level > FREE_MISSES {
                m.next_turn = at + TURN;
            }
        }
        Ok(at)
    }

    /// Counts a wrong token from `addr`.
    pub fn missed(&self, addr: IpAddr) {
        self.miss_at(addr, Instant::now());
    }

    /// Counts a wrong token from `addr` at `now`; returns whether this one was logged.
    fn miss_at(&self, addr: IpAddr, now: Instant) -> bool {
        let mut t = self.lock();
        let mut logged = false;
        let flood = t.flood.level(now, FLOOD) + 1.0;
        t.flood.level = flood;
        if flood > FLOOD && !t.flood_logged {
            t.flood_logged = true;
            logged = true;
            tracing::warn!(
                "a flood of wrong tokens (over {FLOOD} a second): every address sending them now \
                 takes turns"
            );
        }
        if !t.addresses.contains_key(&addr) && t.addresses.len() >= MOST_ADDRESSES {
            if now.saturating_duration_since(t.pruned) >= Duration::from_secs(1) {
                t.pruned = now;
                t.addresses
                    .retain(|_, m| m.bucket.level(now, forgive_rate()) > 0.0 || m.next_turn > now);
            }
            if t.addresses.len() >= MOST_ADDRESSES {
                return logged;
            }
        }
        let m = t.addresses.entry(addr).or_insert_with(|| Misses {
            bucket: Bucket::new(now),
            next_turn: now,
            logged: false,
        });
        let level = m.bucket.level(now, forgive_rate()) + 1.0;
        m.bucket.level = level;
        if level > FREE_MISSES && !m.logged {
            m.logged = true;
            logged = true;
            tracing::warn!(
                "{addr} sent {} wrong tokens: it is slowed to one try every {:?} until forgiven",
                level.round(),
                TURN
            );
        }
        logged
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, last])
    }

    /// A clean address's turn is now: it is not put on the timer, whose next tick can be a
    /// millisecond away (every request with a token passes here).
    #[tokio::test]
    async fn a_clean_address_goes_without_waiting_for_the_timer() {
        use futures_util::FutureExt;
        let g = Guesses::default();
        assert_eq!(g.turn(ip(1)).now_or_never(), Some(Ok(())));
        for _ in 0..=FREE_MISSES as usize {
            g.missed(ip(2));
        }
        g.turn(ip(2)).now_or_never();
        assert_eq!(
            g.turn(ip(2)).now_or_never(),
            None,
            "past its free misses, an address waits for its turn"
        );
        assert_eq!(g.turn(ip(3)).now_or_never(), Some(Ok(())));
    }

    #[test]
    fn an_address_is_slowed_after_its_free_misses_and_others_are_not() {
        let g = Guesses::default();
        let now = Instant::now();
        let mut logs = 0;
        assert_eq!(g.book(ip(1), now), Ok(now), "a clean address goes at once");
        for _ in 0..FREE_MISSES as usize {
            logs += usize::from(g.miss_at(ip(1), now));
        }
        assert_eq!(
            g.book(ip(1), now),
            Ok(now),
            "within its free misses, at once"
        );
        for _ in FREE_MISSES as usize..20 {
            logs += usize::from(g.miss_at(ip(1), now));
        }
        assert_eq!(logs, 1, "a burst is logged once");
        // Its tries now take turns a second apart, and past the longest wait it hears 429.
        let turns: Vec<_> = (0..=10).map(|_| g.book(ip(1), now)).collect();
        for (i, turn) in turns.iter().enumerate() {
            assert_eq!(*turn, Ok(now + TURN * i as u32));
        }
        assert!(g.book(ip(1), now).is_err());
        // Another address goes at once.
        assert_eq!(g.book(ip(2), now), Ok(now));
        // Forgiven in time: a minute and a half later it is back to its free misses.
        let later = now + FORGIVE_EVERY * 20;
        assert_eq!(g.book(ip(1), later), Ok(later));
        // A new burst is logged again.
        assert!(!g.miss_at(ip(1), later));
        let logged_again = (0..10).any(|_| g.miss_at(ip(1), later));
        assert!(logged_again);
    }

    #[test]
    fn in_a_flood_every_address_with_misses_shares_one_queue() {
        let g = Guesses::default();
        let now = Instant::now();
        let mut logs = 0;
        // Many addresses, each within its free misses, over the flood line together.
        for a in 0..=50u8 {
            for _ in 0..3 {
                logs += usize::from(g.miss_at(ip(a), now));
            }
        }
        assert_eq!(logs, 1, "the flood is logged once");
        let first = g.book(ip(1), now).unwrap();
        let second = g.book(ip(2), now).unwrap();
        assert_eq!(second - first, FLOOD_TURN);
        // An address that sent no wrong token is not in the queue.
        assert_eq!(g.book(ip(200), now), Ok(now));
    }
}

//! Guests' comments per link and address: a few at once, then one every
//! [`GuestComments::EVERY`], so whoever holds a link cannot bury the executive in comments
//! (the store also caps what one link holds waiting: `store::guests::MAX_HELD_PER_LINK`).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// Comments from one address on one link, refilled one at a time.
#[derive(Default)]
pub struct GuestComments {
    table: Mutex<HashMap<(i64, IpAddr), (f64, Instant)>>,
}

impl GuestComments {
    /// Comments an address may leave on a link at once.
    pub const FREE: f64 = 5.0;
    /// One more comes back this often.
    pub const EVERY: Duration = Duration::from_secs(30);
    /// Pairs remembered at most; past that the fully refilled ones are forgotten.
    const MOST: usize = 65_536;

    /// Takes one comment from `(link, addr)`'s allowance.
    ///
    /// # Errors
    /// How long until the next one may be left, when none is left now.
    pub fn take(&self, link: i64, addr: IpAddr) -> Result<(), Duration> {
        self.take_at(link, addr, Instant::now())
    }

    fn take_at(&self, link: i64, addr: IpAddr, now: Instant) -> Result<(), Duration> {
        let mut t = self.table.lock().unwrap_or_else(|e| e.into_inner());
        let every = Self::EVERY.as_secs_f64();
        if t.len() >= Self::MOST {
            t.retain(|_, (left, at)| {
                *left + now.saturating_duration_since(*at).as_secs_f64() / every < Self::FREE
            });
        }
        let (left, at) = t.entry((link, addr)).or_insert((Self::FREE, now));
        let refilled =
            (*left + now.saturating_duration_since(*at).as_secs_f64() / every).min(Self::FREE);
        if refilled < 1.0 {
            return Err(Duration::from_secs_f64((1.0 - refilled) * every));
        }
        *left = refilled - 1.0;
        *at = now;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_few_at_once_then_one_every_while_and_other_links_and_addresses_apart() {
        let g = GuestComments::default();
        let now = Instant::now();
        let a = IpAddr::from([127, 0, 0, 1]);
        for _ in 0..5 {
            assert_eq!(g.take_at(1, a, now), Ok(()));
        }
        let wait = g.take_at(1, a, now).unwrap_err();
        assert!(wait > Duration::from_secs(29), "{wait:?}");
        assert_eq!(g.take_at(2, a, now), Ok(()), "another link");
        assert_eq!(g.take_at(1, IpAddr::from([127, 0, 0, 2]), now), Ok(()));
        assert_eq!(g.take_at(1, a, now + GuestComments::EVERY), Ok(()));
        assert!(g.take_at(1, a, now + GuestComments::EVERY).is_err());
    }
}

//! Open connections, counted per client address and in all, where an idle one gives way.
//!
//! - At most [`Limits::max_connections`] connections in all and
//!   [`Limits::per_address`] from one address (a studio behind one router shares one).
//! - At either cap, a new connection takes the place of the one that has been idle longest
//!   (no request in flight: it never sent a whole request, or it waits between requests),
//!   which is closed. Only when every connection has a request in flight is the new one
//!   answered `503` (all) or `429` (its address) with `Retry-After`, and closed. So a crowd of
//!   sockets that send nothing holds nobody else out, however many there are.
//!
//! Every request learns its client's address ([`Peer`]) from here.
//!
//! [`Limits::max_connections`]: crate::serve::Limits::max_connections
//! [`Limits::per_address`]: crate::serve::Limits::per_address

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio_util::sync::CancellationToken;

/// The address a request came from (a request extension; [`Peer::of`] reads it), as shares
/// count it: an IPv4 address, or an IPv6 network's /64 (one host is given a whole /64, so
/// counting its single addresses would give it thousands of shares).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Peer(pub IpAddr);

impl Peer {
    /// The share key of a connection from `ip` (see the type's docs).
    pub fn from_ip(ip: IpAddr) -> Peer {
        match ip {
            IpAddr::V4(_) => Peer(ip),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Peer(IpAddr::V4(v4)),
                None => {
                    let bits = u128::from(v6) & !((1u128 << 64) - 1);
                    Peer(IpAddr::V6(bits.into()))
                }
            },
        }
    }

    /// The client address of a request, or the unspecified address for a request that did
    /// not come over a connection (a test calling the router directly).
    pub fn of(extensions: &axum::http::Extensions) -> Peer {
        extensions
            .get::<Peer>()
            .copied()
            .unwrap_or(Peer(IpAddr::from([0, 0, 0, 0])))
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Peer::of(&parts.extensions))
    }
}

/// The open connections.
pub struct Connections {
    table: Mutex<Table>,
    max: usize,
    per_address: usize,
    epoch: Instant,
}

#[derive(Default)]
struct Table {
    next: u64,
    open: HashMap<u64, Open>,
    by_address: HashMap<IpAddr, usize>,
}

struct Open {
    addr: IpAddr,
    activity: Arc<Activity>,
    close: CancellationToken,
}

/// What one connection is doing, kept up to date by its requests ([`Activity::begin`]).
#[derive(Default)]
pub struct Activity {
    in_flight: AtomicUsize,
    /// When it last had no request in flight, in microseconds since the table's epoch.
    idle_since: AtomicU64,
}

/// A request in flight on a connection; the connection counts as idle again once every one
/// is dropped (with its response body, for a stream).
pub struct Busy {
    activity: Arc<Activity>,
    epoch: Instant,
}

impl Activity {
    /// Counts a request in flight until the returned guard drops.
    pub fn begin(self: &Arc<Self>, epoch: Instant) -> Busy {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        Busy {
            activity: self.clone(),
            epoch,
        }
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        let now = self.epoch.elapsed().as_micros() as u64;
        self.activity.idle_since.store(now, Ordering::Release);
        self.activity.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Why a connection was not let in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Its address has all it may, each busy.
    Address,
    /// The server has all it may, each busy.
    Server,
}

/// A connection let in: its place in the table, given back when dropped; [`Admitted::closed`]
/// resolves when it must make way for another.
pub struct Admitted {
    connections: Arc<Connections>,
    id: u64,
    pub activity: Arc<Activity>,
    close: CancellationToken,
}

impl Admitted {
    /// Resolves when the connection was chosen to make room: close it.
    pub async fn closed(&self) {
        self.close.cancelled().await;
    }

    /// The clock its activity is measured on.
    pub fn epoch(&self) -> Instant {
        self.connections.epoch
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut t = self.connections.lock();
        t.remove(self.id);
    }
}

impl Connections {
    pub fn new(max: usize, per_address: usize) -> Arc<Connections> {
        Arc::new(Connections {
            table: Mutex::new(Table::default()),
            max: max.max(1),
            per_address: per_address.max(1),
            epoch: Instant::now(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Lets a connection from `addr` in, closing the longest-idle connection (of its
    /// address, or of all) when a cap is reached.
    ///
    /// # Errors
    /// [`Refused`]: the cap reached with no idle connection to close.
    pub fn admit(self: &Arc<Self>, addr: IpAddr) -> Result<Admitted, Refused> {
        let mut t = self.lock();
        if t.by_address.get(&addr).copied().unwrap_or(0) >= self.per_address
            && !t.close_idlest(Some(addr))
        {
            return Err(Refused::Address);
        }
        if t.open.len() >= self.max && !t.close_idlest(None) {
            return Err(Refused::Server);
        }
        let id = t.next;
        t.next += 1;
        let activity = Arc::new(Activity {
            in_flight: AtomicUsize::new(0),
            idle_since: AtomicU64::new(self.epoch.elapsed().as_micros() as u64),
        });
        let close = CancellationToken::new();
        t.open.insert(
            id,
            Open {
                addr,
                activity: activity.clone(),
                close: close.clone(),
            },
        );
        *t.by_address.entry(addr).or_default() += 1;
        Ok(Admitted {
            connections: self.clone(),
            id,
            activity,
            close,
        })
    }

    /// How many connections are open (from `addr`, or in all).
    pub fn count(&self, addr: Option<IpAddr>) -> usize {
        let t = self.lock();
        match addr {
            Some(a) => t.by_address.get(&a).copied().unwrap_or(0),
            None => t.open.len(),
        }
    }
}

impl Table {
    fn remove(&mut self, id: u64) {
        if let Some(open) = self.open.remove(&id) {
            if let Some(n) = self.by_address.get_mut(&open.addr) {
                *n -= 1;
                if *n == 0 {
                    self.by_address.remove(&open.addr);
                }
            }
        }
    }

    /// Closes the connection (of `addr`, or any) idle the longest; false when none is idle.
    fn close_idlest(&mut self, addr: Option<IpAddr>) -> bool {
        let idlest = self
            .open
            .iter()
            .filter(|(_, o)| addr.is_none_or(|a| o.addr == a))
            .filter(|(_, o)| o.activity.in_flight.load(Ordering::Acquire) == 0)
            .min_by_key(|(_, o)| o.activity.idle_since.load(Ordering::Acquire))
            .map(|(id, _)| *id);
        let Some(id) = idlest else {
            return false;
        };
        if let Some(open) = self.open.get(&id) {
            open.close.cancel();
        }
        self.remove(id);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([127, 0, 0, last])
    }

    #[test]
    fn an_ipv6_network_is_one_share_and_ipv4_stays_as_it_is() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff:ffff:ffff:ffff".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(Peer::from_ip(a), Peer::from_ip(b));
        assert_ne!(Peer::from_ip(a), Peer::from_ip(other));
        assert_eq!(Peer::from_ip(ip(7)), Peer(ip(7)));
        let mapped: IpAddr = "::ffff:127.0.0.7".parse().unwrap();
        assert_eq!(Peer::from_ip(mapped), Peer(ip(7)));
    }

    #[test]
    fn at_a_cap_the_idlest_connection_makes_way_and_busy_ones_stay() {
        let c = Connections::new(3, 2);
        let a = c.admit(ip(1)).unwrap();
        let b = c.admit(ip(1)).unwrap();
        let _busy_b = b.activity.begin(b.epoch());
        // Its address is full: the idle one (a) makes way, the busy one (b) stays.
        let a2 = c.admit(ip(1)).unwrap();
        assert!(a.close.is_cancelled() && !b.close.is_cancelled());
        assert_eq!(c.count(Some(ip(1))), 2);
        // Both of its address's connections busy: refused.
        let _busy_a2 = a2.activity.begin(a2.epoch());
        assert_eq!(c.admit(ip(1)).err(), Some(Refused::Address));
        // Another address, while the server has room.
        let d = c.admit(ip(2)).unwrap();
        assert_eq!(c.count(None), 3);
        // The server is full: the idle one of the other address makes way.
        let _e = c.admit(ip(3)).unwrap();
        assert!(d.close.is_cancelled());
        let _busy_e = _e.activity.begin(_e.epoch());
        assert_eq!(c.admit(ip(4)).err(), Some(Refused::Server));
        // A dropped connection gives its place back once (a closed one was counted out).
        drop(a);
        drop(d);
        assert_eq!(c.count(None), 3);
        drop(_busy_b);
        drop(b);
        assert_eq!(c.count(None), 2);
        assert!(c.admit(ip(4)).is_ok());
    }
}

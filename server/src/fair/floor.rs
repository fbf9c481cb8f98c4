//! The floor rate of every request body: after a grace period its bytes must keep up with
//! [`Floor::bytes_per_second`], or reading it fails ([`TooSlow`], answered `408`). The body
//! timeout only bounds the gap between pieces, so without a floor a client trickling a byte
//! every few seconds (a sign-in form needs no token) would hold its connection in flight for
//! ever. [`crate::serve`] wraps every request body in a [`Floored`].

use std::time::Duration;
use tokio::time::Instant;

/// The slowest a body may arrive after [`Floor::grace`], unless configured otherwise:
/// 32 KiB/s, an eighth of the slowest uplink the plugin allows for (256 kB/s).
pub const FLOOR_BYTES_PER_SECOND: u64 = 32 * 1024;
/// How long a body may take to get going before the floor applies.
pub const FLOOR_GRACE: Duration = Duration::from_secs(10);

/// The floor rate of request bodies.
#[derive(Debug, Clone, Copy)]
pub struct Floor {
    pub bytes_per_second: u64,
    pub grace: Duration,
}

impl Default for Floor {
    fn default() -> Self {
        Floor {
            bytes_per_second: FLOOR_BYTES_PER_SECOND,
            grace: FLOOR_GRACE,
        }
    }
}

/// A body fell below the floor rate: `received` bytes after `after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooSlow {
    pub received: u64,
    pub after: Duration,
}

impl std::fmt::Display for TooSlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the body arrived too slowly ({} bytes in {:.0} s)",
            self.received,
            self.after.as_secs_f64()
        )
    }
}

impl std::error::Error for TooSlow {}

impl TooSlow {
    /// The floor's error within `e`, however many body wrappers passed it on.
    pub fn within(e: &(dyn std::error::Error + 'static)) -> Option<TooSlow> {
        std::iter::successors(Some(e), |e| e.source())
            .find_map(|e| e.downcast_ref::<TooSlow>())
            .copied()
    }
}

/// A request body held to `floor`: after the grace period its bytes must keep up with the
/// floor rate, or reading it fails. Every request's body is wrapped in one
/// ([`crate::serve`]), so a client that trickles a body (a sign-in form, a push) cannot hold
/// its connection in flight for long; a chunk every few seconds does not reset it.
pub struct Floored {
    body: axum::body::Body,
    floor: Floor,
    start: Instant,
    received: u64,
    due: std::pin::Pin<Box<tokio::time::Sleep>>,
}

impl Floored {
    pub fn new(body: axum::body::Body, floor: Floor) -> Floored {
        let start = Instant::now();
        Floored {
            body,
            floor,
            start,
            received: 0,
            due: Box::pin(tokio::time::sleep_until(start + floor.grace)),
        }
    }

    /// When the next bytes are due: the grace, plus what the bytes so far bought.
    fn deadline(&self) -> Instant {
        let bought = Duration::from_secs_f64(
            self.received as f64 / self.floor.bytes_per_second.max(1) as f64,
        );
        self.start + self.floor.grace + bought
    }
}

impl http_body::Body for Floored {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        use std::task::Poll;
        if let Poll::Ready(frame) = std::pin::Pin::new(&mut self.body).poll_frame(cx) {
            if let Some(Ok(f)) = &frame {
                if let Some(data) = f.data_ref() {
                    self.received += data.len() as u64;
                    let next = self.deadline();
                    self.due.as_mut().reset(next);
                }
            }
            return Poll::Ready(frame);
        }
        if std::future::Future::poll(self.due.as_mut(), cx).is_ready() {
            return Poll::Ready(Some(Err(axum::Error::new(TooSlow {
                received: self.received,
                after: self.start.elapsed(),
            }))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

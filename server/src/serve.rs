//! Accepting connections, so that slow and hostile clients cannot hold the server:
//!
//! - a client has [`HEADER_TIMEOUT`] to send a request's headers; a body may pause at most
//!   [`BODY_TIMEOUT`] between pieces ([`CLIP_BODY_TIMEOUT`] for a clip's bytes; the routers
//!   apply them), and every body must keep up with a floor rate after a grace period
//!   ([`crate::fair::floor`], [`Limits::body_floor`]), so trickling a byte now and
//!   then does not hold a connection; after that the request fails (`408`) and the connection
//!   closes;
//! - at most [`Limits::max_connections`] connections are open at once, and
//!   [`Limits::per_address`] from one client address; at a cap the connection idle the
//!   longest makes way ([`crate::fair::connections`]), and when none is idle a new one is
//!   answered `503` (or `429` for its address) with `Retry-After` and closed, and the ones
//!   open go on;
//! - live streams and long polls together hold at most [`Limits::held`] connections, so the
//!   [`Limits::reserve`] is always there for pushes, plain pulls, pages and health checks;
//! - a failure to accept (no file descriptors left) is logged and retried shortly, never a
//!   busy loop;
//! - on shutdown: no new connections; long polls and live streams end at once; requests in
//!   flight get [`Limits::shutdown_deadline`] to finish, after which the server returns
//!   anyway. Nothing is lost by that: an event counts as stored only once its transaction
//!   committed, before its answer was sent.

use crate::fair::connections::{Admitted, Peer, Refused};
use crate::fair::floor::{Floor, Floored};
use crate::state::AppState;
use crate::tls::{OverTls, Tls};
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::Watcher;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

/// How long a client may take to send a request's headers.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a client may take to send a request's body.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a client may take to send a clip's bytes (up to 36 MiB: about 1 Mbit/s).
pub const CLIP_BODY_TIMEOUT: Duration = Duration::from_secs(300);

/// The body time limit of a router's requests (see the module docs).
pub fn body_timeout(limit: Duration) -> tower_http::timeout::RequestBodyTimeoutLayer {
    tower_http::timeout::RequestBodyTimeoutLayer::new(limit)
}

/// How many connections, and how long a shutdown may wait.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_connections: usize,
    pub shutdown_deadline: Duration,
    /// Most bytes of audio clips one project may hold.
    pub clip_quota: u64,
    /// How slowly a request's body may arrive ([`crate::fair::floor`]).
    pub body_floor: crate::fair::floor::Floor,
    /// Most connections from one client address ([`crate::fair::connections`]).
    pub per_address: usize,
}

impl Limits {
    /// Connections kept for everything but live streams and long polls (pushes, pulls
    /// without a wait, the page's own requests, health checks): an eighth of the cap.
    pub fn reserve(&self) -> usize {
        (self.max_connections / 8).clamp(1, self.max_connections.saturating_sub(1).max(1))
    }

    /// How many live streams and long polls the server holds at once
    /// ([`crate::fair::holds`]): the connection cap less the [`Limits::reserve`].
    pub fn held(&self) -> usize {
        self.max_connections.saturating_sub(self.reserve()).max(1)
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 4096,
            shutdown_deadline: Duration::from_secs(5),
            clip_quota: crate::state::DEFAULT_CLIP_QUOTA,
            body_floor: crate::fair::floor::Floor::default(),
            per_address: 256,
        }
    }
}

/// What a server serves besides its address: HTTPS ([`Tls`]), a private address for
/// `/metrics` ([`crate::metrics`]), how it delivers webhooks ([`crate::hooks`]) and mails
/// digests ([`crate::mail`]).
#[derive(Default)]
pub struct Extras {
    pub tls: Option<Tls>,
    pub metrics: Option<TcpListener>,
    pub hooks: crate::hooks::Config,
    /// How digests are mailed (None: no SMTP relay named, no mail).
    pub mail: Option<crate::mail::Config>,
}

/// Serves `app` on `listener` until `shutdown` resolves (see the module docs).
///
/// # Errors
/// The listener fails for good (passing accept errors are waited out).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    state: Arc<AppState>,
    limits: Limits,
    tls: Option<Tls>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let connections = state.connections.clone();
    let floor = limits.body_floor;
    // Ends the live streams and long polls of sessions and tokens that ended elsewhere.
    let sweeper = tokio::spawn(crate::fair::holds::sweep(
        state.holds.clone(),
        state.store.clone(),
        {
            let state = state.clone();
            async move { state.stopped().await }
        },
    ));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = &mut shutdown => break,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors, most likely: the connections open finish first.
                tracing::warn!("cannot accept a connection: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let key = Peer::from_ip(peer.ip());
        let admitted = match connections.admit(key.0) {
            Ok(admitted) => admitted,
            Err(refused) => {
                tokio::spawn(busy(stream, refused));
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let (app, watcher, tls) = (app.clone(), graceful.watcher(), tls.clone());
        tokio::spawn(async move {
            tokio::select! {
                () = connection(stream, app, key, &admitted, tls, watcher, floor) => {}
                // Idle the longest when another needed its place: dropped, so closed.
                _ = admitted.closed() => tracing::debug!("closed an idle connection to make room"),
            }
            drop(admitted);
        });
    }
    drop(listener);
    // Long polls and live streams end now; requests in flight finish, within the deadline.
    state.stop();
    let _ = sweeper.await;
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(limits.shutdown_deadline) => {
            tracing::warn!(
                "stopping with connections still open after {:?}",
                limits.shutdown_deadline
            );
        }
    }
    Ok(())
}

/// Serves one connection: over TLS when the server has it (a plain HTTP request is told to
/// use https and closed), as HTTP/1.1, until it ends or the server stops.
async fn connection(
    stream: tokio::net::TcpStream,
    app: Router,
    peer: Peer,
    admitted: &Admitted,
    tls: Option<Tls>,
    watcher: Watcher,
    floor: Floor,
) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT);
    let ended = match tls {
        None => {
            let service = counted(app, peer, admitted, None, floor);
            watcher
                .watch(http.serve_connection(TokioIo::new(stream), service))
                .await
        }
        Some(tls) => {
            let Some(stream) = handshake(stream, &tls).await else {
                return;
            };
            let service = counted(app, peer, admitted, Some(tls.hsts), floor);
            watcher
                .watch(http.serve_connection(TokioIo::new(stream), service))
                .await
        }
    };
    if let Err(e) = ended {
        tracing::debug!("connection ended: {e}");
    }
}

/// The TLS handshake of a new connection, within the header time limit. A client that
/// speaks plain HTTP instead is answered `400` with words and closed.
async fn handshake(
    stream: tokio::net::TcpStream,
    tls: &Tls,
) -> Option<tokio_rustls::server::TlsStream<tokio::net::TcpStream>> {
    let mut first = [0u8; 1];
    match tokio::time::timeout(HEADER_TIMEOUT, stream.peek(&mut first)).await {
        // A TLS record of the handshake kind.
        Ok(Ok(1)) if first[0] == 0x16 => {}
        Ok(Ok(1)) => {
            plain_http_refused(stream).await;
            return None;
        }
        _ => return None,
    }
    match tokio::time::timeout(HEADER_TIMEOUT, tls.acceptor.accept(stream)).await {
        Ok(Ok(stream)) => Some(stream),
        Ok(Err(e)) => {
            tracing::debug!("TLS handshake failed: {e}");
            None
        }
        Err(_) => None,
    }
}

/// Plain HTTP to an HTTPS server: never served (a token in it has already crossed the wire
/// in the clear, but goes no further); words to use https, then the connection closes.
async fn plain_http_refused(stream: tokio::net::TcpStream) {
    let body = "This server speaks HTTPS only: use https:// in its address.\n";
    answer_and_close(
        stream,
        "400 Bad Request",
        "content-type: text/plain; charset=utf-8\r\n",
        body,
    )
    .await;
}

/// Writes one answer on a connection no request will be served on (`status` line, extra
/// header lines, body), within 2 s, then closes it.
async fn answer_and_close(
    mut stream: tokio::net::TcpStream,
    status: &str,
    headers: &str,
    body: &str,
) {
    let answer = format!(
        "HTTP/1.1 {status}\r\n{headers}connection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        let _ = stream.write_all(answer.as_bytes()).await;
        let _ = stream.shutdown().await;
    })
    .await;
}

/// `app` for one connection: each request carries the client's address ([`Peer`]) and, over
/// TLS, [`OverTls`]; it counts as in flight on the connection until its response body is
/// done, so only a connection without one can be closed to make room. `tls`: whether the
/// connection is over TLS, and then whether answers carry HSTS.
fn counted(
    app: Router,
    peer: Peer,
    admitted: &Admitted,
    tls: Option<bool>,
    floor: Floor,
) -> impl hyper::service::Service<
    hyper::Request<hyper::body::Incoming>,
    Response = axum::response::Response,
    Error = std::convert::Infallible,
    Future = impl Future<Output = Result<axum::response::Response, std::convert::Infallible>> + Send,
> + Clone {
    let (activity, epoch) = (admitted.activity.clone(), admitted.epoch());
    hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        let busy = activity.begin(epoch);
        let mut req =
            req.map(|b| axum::body::Body::new(Floored::new(axum::body::Body::new(b), floor)));
        req.extensions_mut().insert(peer);
        if tls.is_some() {
            req.extensions_mut().insert(OverTls);
        }
        let answer = tower::ServiceExt::oneshot(app.clone(), req);
        async move {
            let mut response = answer.await?;
            if tls == Some(true) {
                response.headers_mut().insert(
                    axum::http::header::STRICT_TRANSPORT_SECURITY,
                    axum::http::HeaderValue::from_static("max-age=31536000"),
                );
            }
            Ok(response.map(|body| keeping(body, busy)))
        }
    })
}

/// `body`, holding `kept` (a request counted in flight, a turn to hold a clip in memory)
/// until it is sent or dropped.
pub(crate) fn keeping<T: Send + Sync + Unpin + 'static>(
    body: axum::body::Body,
    kept: T,
) -> axum::body::Body {
    axum::body::Body::new(WhileSent { body, _kept: kept })
}

/// A response body that keeps something until it is sent or dropped ([`keeping`]).
struct WhileSent<T> {
    body: axum::body::Body,
    _kept: T,
}

impl<T: Unpin> http_body::Body for WhileSent<T> {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        std::pin::Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// Past a connection cap, with no idle connection to close: a 503 (the server's cap) or 429
/// (the address's) the client can act on, then the connection closes.
async fn busy(stream: tokio::net::TcpStream, refused: Refused) {
    let (status, body) = match refused {
        Refused::Server => (
            "503 Service Unavailable",
            r#"{"error":{"code":"busy","message":"the server has too many connections open; try again in a moment"}}"#,
        ),
        Refused::Address => (
            "429 Too Many Requests",
            r#"{"error":{"code":"too_many_connections","message":"too many connections from your address are busy; try again in a moment"}}"#,
        ),
    };
    let headers = "content-type: application/json\r\nretry-after: 1\r\n";
    answer_and_close(stream, status, headers, body).await;
}

//! Accepting connections, so that slow and hostile clients cannot hold the server:
//!
//! - a client has [`HEADER_TIMEOUT`] to send a request's headers, and [`BODY_TIMEOUT`] to send
//!   its body ([`CLIP_BODY_TIMEOUT`] for a clip's bytes; the routers apply them); after that
//!   its connection is closed (`408` for a body);
//! - at most [`Limits::max_connections`] connections are open at once; past that a new one is
//!   answered `503` with `Retry-After` and closed, and the ones open go on;
//! - a failure to accept (no file descriptors left) is logged and retried shortly, never a
//!   busy loop;
//! - on shutdown: no new connections; long polls and live streams end at once; requests in
//!   flight get [`Limits::shutdown_deadline`] to finish, after which the server returns
//!   anyway. Nothing is lost by that: an event counts as stored only once its transaction
//!   committed, before its answer was sent.

use crate::state::AppState;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

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
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 4096,
            shutdown_deadline: Duration::from_secs(5),
            clip_quota: crate::state::DEFAULT_CLIP_QUOTA,
        }
    }
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
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let open = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = &mut shutdown => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of file descriptors, most likely: the connections open finish first.
                tracing::warn!("cannot accept a connection: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = open.clone().try_acquire_owned() else {
            tokio::spawn(busy(stream));
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(HEADER_TIMEOUT);
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!("connection ended: {e}");
            }
            drop(permit);
        });
    }
    drop(listener);
    // Long polls and live streams end now; requests in flight finish, within the deadline.
    state.stop();
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

/// Past the connection cap: a 503 the client can act on, then the connection closes.
async fn busy(mut stream: tokio::net::TcpStream) {
    let body = r#"{"error":{"code":"busy","message":"the server has too many connections open; try again in a moment"}}"#;
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\n\
         connection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        let _ = stream.write_all(answer.as_bytes()).await;
        let _ = stream.shutdown().await;
    })
    .await;
}

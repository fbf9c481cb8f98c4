//! `liner-server`: the Liner Notes record server.
//!
//! Layout:
//! - [`store`]: storage behind the [`store::Store`] trait; [`store::SqliteStore`] keeps one
//!   SQLite file (bundled, WAL, a transaction per call, migrations only ever added).
//! - [`api`]: the HTTP API under `/api/v1`: bearer tokens, role rules, limits, exactly-once
//!   push, long-poll pull.
//! - `main.rs`: the `liner` binary: `serve`, project and token admin.
//!
//! [`run`] serves on a listener until `shutdown` resolves, then finishes in-flight requests.

pub mod api;
pub mod store;

use std::future::Future;
use std::sync::Arc;

/// Serves the API on `listener` until `shutdown` completes; requests in flight finish first.
pub async fn run(
    listener: tokio::net::TcpListener,
    store: Arc<dyn store::Store>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = api::router(api::AppState::new(store));
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

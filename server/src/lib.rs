//! `liner-server`: the Liner Notes record server.
//!
//! Layout:
//! - [`store`]: storage behind the [`store::Store`] trait: [`store::SqliteStore`] keeps one
//!   SQLite file (the default); [`store::PgStore`] keeps PostgreSQL, which several server
//!   processes share (they wake each other's long polls); [`store::copy`] moves a record
//!   from the first to the second.
//! - [`api`]: the HTTP API under `/api/v1`: bearer tokens, role rules, limits, exactly-once
//!   push, long-poll pull.
//! - [`page`]: the executive producer's review page at `/`: sign-in, overview, decision
//!   queue, song view, tracklist, live updates, exports.
//! - [`state`]: what every handler shares (the store, long-poll wake-ups, folded records).
//! - [`serve`]: accepting connections: timeouts, a connection cap, a bounded shutdown.
//! - [`fair`]: the shares that keep one client, session or project from taking the server
//!   from everyone else (clip upload slots and their floor rate, ...).
//! - [`hooks`]: webhooks per project: signed bodies Slack and Mattermost take as they are,
//!   delivered off the request path with retries, never to private addresses unless allowed.
//! - [`feed`]: each person's digest as an Atom feed at a private address (`/feed/SECRET`).
//! - [`mail`]: each person's digest mailed through the studio's SMTP relay, daily or after
//!   each listening session.
//! - [`metrics`]: `/metrics` for an operator (on its own address), one log line per request.
//! - [`tls`]: HTTPS without a proxy (`--tls-cert`, `--tls-key`, `--hsts`).
//! - [`commands`]: the work of each `liner` command (serve's first run, admin, export with
//!   clip folders, journal sync and import, migrate).
//! - `main.rs`: the `liner` binary: parses the arguments and calls [`commands`].
//!
//! [`run`] serves on a listener until `shutdown` resolves, then finishes in-flight requests.

pub mod api;
pub mod commands;
pub mod fair;
pub mod feed;
pub mod hooks;
pub mod mail;
pub mod metrics;
pub mod page;
pub mod serve;
pub mod state;
pub mod store;
pub mod tls;

use std::future::Future;
use std::sync::Arc;

/// Serves the API and the page on `listener` until `shutdown` completes (see [`serve`]),
/// with the default limits.
///
/// # Errors
/// The listener fails.
pub async fn run(
    listener: tokio::net::TcpListener,
    store: Arc<dyn store::Store>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    run_with(
        listener,
        store,
        serve::Limits::default(),
        serve::Extras::default(),
        shutdown,
    )
    .await
}

/// [`run`] with given limits.
///
/// # Errors
/// The listener fails.
pub async fn run_with(
    listener: tokio::net::TcpListener,
    store: Arc<dyn store::Store>,
    limits: serve::Limits,
    extras: serve::Extras,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let state = state::AppState::with_limits(store, &limits);
    if let Some(url) = &extras.hooks.public_url {
        let _ = state.public_url.set(url.clone());
    }
    let deliveries = tokio::spawn(hooks::deliver::run(state.clone(), extras.hooks.clone()));
    let mail = extras
        .mail
        .clone()
        .map(|config| tokio::spawn(mail::send::run(state.clone(), config)));
    let page = page::router(state.clone()).layer(serve::body_timeout(serve::BODY_TIMEOUT));
    let app = api::router(state.clone())
        .merge(page)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::observe,
        ));
    if let Some(private) = extras.metrics {
        let state = state.clone();
        tokio::spawn(async move {
            let stopped = {
                let state = state.clone();
                async move { state.stopped().await }
            };
            let served = axum::serve(private, metrics::router(state))
                .with_graceful_shutdown(stopped)
                .await;
            if let Err(e) = served {
                tracing::error!("the metrics address stopped: {e}");
            }
        });
    }
    let served = serve::serve(listener, app, state, limits, extras.tls, shutdown).await;
    // The deliveries let go of their hooks (a moment's work; never waited for long).
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), deliveries).await;
    if let Some(mail) = mail {
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), mail).await;
    }
    served
}

/// A server on its own thread and runtime, stopped gracefully when dropped: for tests,
/// benches and anything that embeds the server next to synchronous code.
pub struct Background {
    pub addr: std::net::SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Background {
    /// Binds `addr` (e.g. `127.0.0.1:0` for any free port) and serves `store` until dropped.
    ///
    /// # Errors
    /// The address cannot be bound.
    pub fn start(store: Arc<dyn store::Store>, addr: &str) -> std::io::Result<Background> {
        Self::start_with(store, addr, serve::Limits::default())
    }

    /// [`Background::start`] with given limits.
    ///
    /// # Errors
    /// The address cannot be bound, or the server's thread cannot start.
    ///
    /// # Panics
    /// When the server's thread cannot make its tokio runtime (the system is out of
    /// threads or memory).
    pub fn start_with(
        store: Arc<dyn store::Store>,
        addr: &str,
        limits: serve::Limits,
    ) -> std::io::Result<Background> {
        Self::start_serving(store, addr, limits, None)
    }

    /// [`Background::start_with`], over HTTPS with `tls`.
    ///
    /// # Errors
    /// The address cannot be bound, or the server's thread cannot start.
    pub fn start_tls(
        store: Arc<dyn store::Store>,
        addr: &str,
        limits: serve::Limits,
        tls: tls::Tls,
    ) -> std::io::Result<Background> {
        Self::start_serving(store, addr, limits, Some(tls))
    }

    fn start_serving(
        store: Arc<dyn store::Store>,
        addr: &str,
        limits: serve::Limits,
        tls: Option<tls::Tls>,
    ) -> std::io::Result<Background> {
        let listener = std::net::TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("liner-server".into())
            .spawn(move || {
                let rt = tokio::runtime::Runtime::new().expect("a tokio runtime");
                rt.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener)
                        .expect("a listener tokio accepts");
                    let shutdown = async {
                        let _ = stopped.await;
                    };
                    let extras = serve::Extras {
                        tls,
                        ..Default::default()
                    };
                    if let Err(e) = run_with(listener, store, limits, extras, shutdown).await {
                        tracing::error!("the server stopped: {e}");
                    }
                });
            })?;
        Ok(Background {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// `http://ADDR`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

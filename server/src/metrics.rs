//! What an operator sees: `GET /metrics` in the Prometheus text format, served only on the
//! address given with `liner serve --metrics-listen` (never on the public one, so nothing
//! about the record's traffic is shown to the world), and one log line per request.
//!
//! Counted as they happen: events by outcome (stored, duplicate, conflict, refused with its
//! code), pushes, pulls (with and without a wait), request latency by route, method and
//! status, and the time spent in the database. Read when scraped: open connections, live
//! streams and long polls, page sessions with a live page open, clip uploads in progress, the
//! clip bytes the record holds.

use crate::state::AppState;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Outcome {
    /// `stored`, `duplicate`, `conflict` or `refused`.
    pub outcome: String,
    /// The refusal's code (empty otherwise).
    pub code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Pull {
    /// `yes` for a long poll.
    pub wait: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Request {
    /// The route's pattern (`/api/v1/clips/{hash}`), never the path asked for.
    pub route: String,
    pub method: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Delivery {
    /// `delivered`, `failed` (to be retried), `gave_up` or `refused` (an address webhooks
    /// may not reach).
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HoldKind {
    pub kind: String,
}

type Latency = Family<Request, Histogram, fn() -> Histogram>;

fn latency() -> Histogram {
    // 1 ms to about 16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

/// Time spent in database calls, by this process (every store call runs through
/// [`crate::api::blocking`], which knows no server state, except a request's push, queued
/// for its store's writer and timed from its queueing to its answer).
fn database() -> &'static Histogram {
    static DATABASE: OnceLock<Histogram> = OnceLock::new();
    DATABASE.get_or_init(latency)
}

/// Counts a database call of `took`.
pub fn database_call(took: Duration) {
    database().observe(took.as_secs_f64());
}

/// The counters one server keeps.
pub struct Metrics {
    pub events: Family<Outcome, Counter>,
    pub pushes: Counter,
    pub pulls: Family<Pull, Counter>,
    pub requests: Latency,
    /// Webhook delivery attempts, by outcome ([`crate::hooks`]).
    pub webhooks: Family<Delivery, Counter>,
    connections: Gauge,
    holds: Family<HoldKind, Gauge>,
    sessions: Gauge,
    uploads: Gauge,
    clip_bytes: Gauge,
    registry: Registry,
}

impl Default for Metrics {
    fn default() -> Self {
        let m = Metrics {
            events: Family::default(),
            pushes: Counter::default(),
            pulls: Family::default(),
            requests: Family::new_with_constructor(latency as fn() -> Histogram),
            webhooks: Family::default(),
            connections: Gauge::default(),
            holds: Family::default(),
            sessions: Gauge::default(),
            uploads: Gauge::default(),
            clip_bytes: Gauge::default(),
            registry: Registry::with_prefix("liner"),
        };
        let mut m = m;
        let r = &mut m.registry;
        r.register("events", "Pushed events, by outcome", m.events.clone());
        r.register("pushes", "Push requests", m.pushes.clone());
        r.register(
            "webhook_deliveries",
            "Webhook delivery attempts, by outcome",
            m.webhooks.clone(),
        );
        r.register(
            "pulls",
            "Pull requests (wait=yes: long polls)",
            m.pulls.clone(),
        );
        r.register(
            "request_duration_seconds",
            "Time to answer (the head of a stream), by route, method and status",
            m.requests.clone(),
        );
        r.register(
            "database_seconds",
            "Time spent in database calls",
            database().clone(),
        );
        r.register(
            "open_connections",
            "Open connections",
            m.connections.clone(),
        );
        r.register(
            "open_holds",
            "Open live streams and long polls",
            m.holds.clone(),
        );
        r.register(
            "open_sessions",
            "Page sessions with a live page open",
            m.sessions.clone(),
        );
        r.register(
            "uploads_in_progress",
            "Clip uploads being read",
            m.uploads.clone(),
        );
        r.register(
            "clip_bytes",
            "Bytes of clips the record holds",
            m.clip_bytes.clone(),
        );
        m
    }
}

impl Metrics {
    /// Counts what became of `n` pushed events (one call per outcome of a push, not per
    /// event: each call takes the family's lock).
    pub fn events(&self, outcome: &str, code: &str, n: u64) {
        if n == 0 {
            return;
        }
        self.events
            .get_or_create(&Outcome {
                outcome: outcome.to_owned(),
                code: code.to_owned(),
            })
            .inc_by(n);
    }

    /// Counts a pull.
    pub fn pull(&self, waits: bool) {
        self.pulls
            .get_or_create(&Pull {
                wait: if waits { "yes" } else { "no" }.to_owned(),
            })
            .inc();
    }
}

/// The text of `GET /metrics`: the counters, and what is open now.
///
/// # Errors
/// The database fails while the clip bytes are summed.
pub fn text(state: &AppState) -> Result<String, crate::store::StoreError> {
    let m = &state.metrics;
    m.connections.set(state.connections.count(None) as i64);
    for (kind, name) in [
        (crate::fair::holds::Kind::Live, "live"),
        (crate::fair::holds::Kind::LongPoll, "long_poll"),
    ] {
        m.holds
            .get_or_create(&HoldKind {
                kind: name.to_owned(),
            })
            .set(state.holds.count_of(kind) as i64);
    }
    m.sessions.set(state.holds.sessions() as i64);
    m.uploads.set(state.uploads.in_progress() as i64);
    let mut bytes = 0u64;
    for project in state.store.projects()? {
        bytes = bytes.saturating_add(state.store.clip_usage(&project)?);
    }
    m.clip_bytes.set(bytes as i64);
    let mut out = String::new();
    // Writing to a String does not fail; were it to, the answer would be short, not a panic.
    let _ = prometheus_client::encoding::text::encode(&mut out, &m.registry);
    Ok(out)
}

/// The router of the metrics address: `GET /metrics` only.
pub fn router(state: Arc<AppState>) -> axum::Router {
    use axum::response::IntoResponse;
    axum::Router::new()
        .route(
            "/metrics",
            axum::routing::get(
                |axum::extract::State(state): axum::extract::State<Arc<AppState>>| async move {
                    let s = state.clone();
                    match crate::api::blocking(move || text(&s)).await {
                        Ok(body) => (
                            [(
                                axum::http::header::CONTENT_TYPE,
                                "application/openmetrics-text; version=1.0.0; charset=utf-8",
                            )],
                            body,
                        )
                            .into_response(),
                        Err(e) => e.into_response(),
                    }
                },
            ),
        )
        .with_state(state)
}

/// Every request: its latency counted by route, method and status, and one log line (route,
/// status, duration, and the token's id once [`crate::api::authenticate`] knows it; never the
/// path asked for, which may carry names, nor any secret).
pub async fn observe(
    axum::extract::State(state): axum::extract::State<Arc<AppState>>,
    matched: Option<axum::extract::MatchedPath>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use tracing::Instrument;
    let route = matched.map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    // The methods the server answers by name; anything a client makes up is "other", so a
    // label's values stay few.
    let method = match req.method().as_str() {
        m @ ("GET" | "HEAD" | "POST" | "PUT" | "DELETE" | "OPTIONS") => m.to_owned(),
        _ => "other".to_owned(),
    };
    let span = tracing::info_span!(
        "request",
        method = %method,
        route = %route,
        token = tracing::field::Empty
    );
    let started = std::time::Instant::now();
    let response = next.run(req).instrument(span.clone()).await;
    let took = started.elapsed();
    let status = response.status().as_u16();
    state
        .metrics
        .requests
        .get_or_create(&Request {
            route,
            method,
            status,
        })
        .observe(took.as_secs_f64());
    span.in_scope(|| {
        tracing::info!(status, ms = took.as_secs_f64() * 1000.0, "answered");
    });
    response
}

//! The delivery task of `liner serve` ([`run`]): woken by every push this server or another
//! on the same database stores ([`crate::state::AppState::announce`]) and by a timer (retries
//! coming due, and a wake-up lost), it never runs on a request's path: a push only wakes it.
//!
//! Per hook, in event order: a task of its own claims the hook in the database (a lease,
//! [`crate::store::Store::claim_hook`]), reads the project's events after the hook's cursor,
//! leaves out those it did not ask for and private ones, and delivers the rest one at a time,
//! moving the cursor on after each (a compare-and-set under the lease, with the attempt's
//! log line). So:
//! - a restarted server resumes at the cursor: what was delivered is not delivered again,
//!   except an event whose answer came but whose cursor move did not (the server died in
//!   between); its delivery id is the same, so the receiver can tell (at least once);
//! - two servers on one database never work on one hook at once;
//! - a failing hook waits out its backoff without holding any other hook or any push; after
//!   [`super::Config::attempts`] attempts it gives up on the event (logged) and goes on.

use super::address::{self, Guarded, Refused};
use super::message;
use super::Config;
use crate::state::AppState;
use crate::store::{Attempt, Hook, Settle, StoreError};
use liner_record::{notice, Event};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Events read at a time per hook.
const BATCH: usize = 100;
/// How much longer than one attempt's timeout a claim lasts: another server takes a hook over
/// only once its holder has surely stopped.
const LEASE_EXTRA: Duration = Duration::from_secs(30);

/// What a server delivering webhooks keeps.
struct Deliverer {
    state: Arc<AppState>,
    config: Config,
    client: reqwest::Client,
    /// This process's name in the hooks' leases.
    owner: String,
    /// The hooks a task of this process is working on.
    running: Mutex<HashSet<i64>>,
}

/// Delivers webhooks until the server stops (see the module docs), then lets go of the hooks
/// it holds, so the next server (this one restarted, or another on the same database) takes
/// them up at once rather than after their lease. A delivery cut off by the stop is made
/// again there, with the same delivery id.
pub async fn run(state: Arc<AppState>, config: Config) {
    let client = match client(&config) {
        Ok(client) => client,
        Err(e) => {
            tracing::error!("webhooks are not delivered: their HTTP client failed: {e}");
            return;
        }
    };
    let tick = (config.retry_base / 2).clamp(Duration::from_millis(20), Duration::from_secs(1));
    let d = Arc::new(Deliverer {
        state,
        config,
        client,
        owner: uuid::Uuid::now_v7().to_string(),
        running: Mutex::new(HashSet::new()),
    });
    loop {
        tokio::select! {
            () = d.state.hooks_wake.notified() => {}
            () = tokio::time::sleep(tick) => {}
            () = d.state.stopped() => break,
        }
        d.clone().round().await;
    }
    let held: Vec<i64> = d.lock_running().iter().copied().collect();
    for id in held {
        let (store, owner) = (d.state.store.clone(), d.owner.clone());
        if let Err(e) = blocking(move || store.release_hook(id, &owner)).await {
            tracing::warn!("webhook {id}: not let go at the stop: {e}");
        }
    }
}

/// The HTTP client of webhooks: redirects never followed, no proxy from the environment
/// (the resolver must see the receiver's name), addresses checked by [`Guarded`].
fn client(config: &Config) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(Arc::new(Guarded {
            allow_private: config.allow_private,
        }))
        .timeout(config.timeout)
        .connect_timeout(config.timeout)
        .user_agent(concat!("liner-notes-webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(move || {
        let started = std::time::Instant::now();
        let answer = f();
        crate::metrics::database_call(started.elapsed());
        answer
    })
    .await
    .map_err(|e| StoreError::Aborted(format!("a database call was cut off: {e}")))?
}

fn now_ms() -> i64 {
    liner_record::event::now_ms()
}

/// One step on one hook's next event.
enum Step {
    /// Done with it: on to the next.
    Next,
    /// It failed and waits for its retry, or the hook was taken or removed: stop for now.
    Stop,
}

impl Deliverer {
    /// Starts a task for every hook that is due and not being worked on here.
    async fn round(self: Arc<Self>) {
        let store = self.state.store.clone();
        let hooks = match blocking(move || store.hooks()).await {
            Ok(hooks) => hooks,
            Err(e) => {
                tracing::warn!("webhooks: cannot read them: {e}");
                return;
            }
        };
        let now = now_ms();
        for hook in hooks {
            let held_elsewhere =
                hook.lease_ms >= now && hook.lease_owner.as_deref() != Some(&self.owner);
            if hook.next_ms > now || held_elsewhere {
                continue;
            }
            if self.lock_running().insert(hook.id) {
                tokio::spawn(self.clone().work(hook));
            }
        }
    }

    fn lock_running(&self) -> std::sync::MutexGuard<'_, HashSet<i64>> {
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn work(self: Arc<Self>, hook: Hook) {
        let id = hook.id;
        if let Err(e) = self.work_on(hook).await {
            tracing::warn!("webhook {id}: {e}");
        }
        self.lock_running().remove(&id);
    }

    /// Claims the hook if it has anything to do, delivers what there is, lets it go.
    async fn work_on(&self, hook: Hook) -> Result<(), StoreError> {
        if self.pending(&hook, 1).await?.is_empty() {
            return Ok(());
        }
        let (store, owner, id) = (self.state.store.clone(), self.owner.clone(), hook.id);
        let lease = self.lease_end();
        let claimed = blocking(move || store.claim_hook(id, &owner, now_ms(), lease)).await?;
        let Some(mut hook) = claimed else {
            return Ok(());
        };
        let drained = self.drain(&mut hook).await;
        let (store, owner) = (self.state.store.clone(), self.owner.clone());
        blocking(move || store.release_hook(id, &owner)).await?;
        drained
    }

    fn lease_end(&self) -> i64 {
        now_ms() + (self.config.timeout + LEASE_EXTRA).as_millis() as i64
    }

    async fn pending(&self, hook: &Hook, limit: usize) -> Result<Vec<(u64, String)>, StoreError> {
        let (store, project, after) = (self.state.store.clone(), hook.project.clone(), hook.cursor);
        blocking(move || store.pull(&project, after, limit)).await
    }

    /// Delivers the hook's events in order until none is left, one fails, or the server
    /// stops. Events it did not ask for move the cursor in one write per batch.
    async fn drain(&self, hook: &mut Hook) -> Result<(), StoreError> {
        loop {
            let rows = self.pending(hook, BATCH).await?;
            if rows.is_empty() || self.state.is_stopping() {
                return Ok(());
            }
            let last = rows.last().map_or(hook.cursor, |(seq, _)| *seq);
            for (seq, line) in rows {
                let prepared = self.prepare(hook, seq, line).await?;
                let Some(prepared) = prepared else { continue };
                if let Step::Stop = self.deliver(hook, seq, &prepared).await? {
                    return Ok(());
                }
                if self.state.is_stopping() {
                    return Ok(());
                }
            }
            // The rest of the batch was not for this hook.
            if last > hook.cursor
                && !self
                    .settle(hook, Settle::Done { cursor: last }, None)
                    .await?
            {
                return Ok(());
            }
        }
    }

    /// The delivery of event `seq` to `hook`, or None when the hook is not to be told of it
    /// (not a kind it asked for, private, or a line that is no event).
    async fn prepare(
        &self,
        hook: &Hook,
        seq: u64,
        line: String,
    ) -> Result<Option<Prepared>, StoreError> {
        let (store, hook, public) = (
            self.state.store.clone(),
            hook.clone(),
            self.config.public_url.clone(),
        );
        blocking(move || {
            let Ok(event) = serde_json::from_str::<Event>(&line) else {
                return Ok(None);
            };
            if !hook.wants(event.body.kind()) {
                return Ok(None);
            }
            // A lookup that fails is remembered, so privacy is never judged on a database
            // error ("not found" would let an answer to a private note through): the event
            // waits for the next round instead.
            let failed = std::cell::Cell::new(None);
            let lookup = |id: uuid::Uuid| -> Option<Event> {
                match store.event_by_id(&hook.project, id) {
                    Ok(found) => serde_json::from_str(&found?.1).ok(),
                    Err(e) => {
                        failed.set(Some(e));
                        None
                    }
                }
            };
            let private = liner_record::rules::is_private(&event, &lookup);
            if let Some(e) = failed.take() {
                return Err(e);
            }
            if private {
                return Ok(None);
            }
            Ok(Prepared::new(
                &hook,
                seq,
                &event,
                &line,
                &lookup,
                public.as_deref(),
            ))
        })
        .await
    }

    /// One attempt at `p`; the hook's cursor moves on, or its retry is set (see [`Step`]).
    async fn deliver(&self, hook: &mut Hook, seq: u64, p: &Prepared) -> Result<Step, StoreError> {
        let attempt = hook.attempts + 1;
        let outcome = self.send(hook, p).await;
        let gave_up =
            outcome.error.is_some() && (!outcome.retry || attempt >= self.config.attempts);
        let retry_ms =
            (outcome.error.is_some() && !gave_up).then(|| now_ms() + self.backoff(attempt));
        self.count(&outcome, gave_up);
        self.tell(hook, p, attempt, &outcome, retry_ms);
        let logged = Attempt {
            at_ms: now_ms(),
            hook: hook.id,
            project_id: hook.project.id,
            seq,
            event: p.event.clone(),
            kind: p.kind.clone(),
            delivery: p.delivery.clone(),
            attempt,
            status: outcome.status,
            error: outcome.error.clone(),
            retry_ms,
            gave_up,
        };
        let next = match retry_ms {
            Some(at_ms) => Settle::Retry {
                cursor: seq - 1,
                attempts: attempt,
                at_ms,
            },
            None => Settle::Done { cursor: seq },
        };
        let moved = self.settle(hook, next, Some(logged)).await?;
        Ok(if moved && retry_ms.is_none() {
            Step::Next
        } else {
            Step::Stop
        })
    }

    /// Moves the hook on (see [`crate::store::Store::settle_hook`]); false when it is no
    /// longer this process's (taken over, or removed).
    async fn settle(
        &self,
        hook: &mut Hook,
        next: Settle,
        attempt: Option<Attempt>,
    ) -> Result<bool, StoreError> {
        let (store, owner, id, from) = (
            self.state.store.clone(),
            self.owner.clone(),
            hook.id,
            hook.cursor,
        );
        let lease = self.lease_end();
        let moved =
            blocking(move || store.settle_hook(id, &owner, from, next, lease, attempt.as_ref()))
                .await?;
        if moved {
            (hook.cursor, hook.attempts) = match next {
                Settle::Done { cursor } => (cursor, 0),
                Settle::Retry {
                    cursor, attempts, ..
                } => (cursor, attempts),
            };
        }
        Ok(moved)
    }

    /// The wait before attempt `attempt + 1`: the base doubled per attempt, up to the cap,
    /// the second half of it random (so hooks that failed together do not retry together).
    fn backoff(&self, attempt: u32) -> i64 {
        use rand::Rng;
        let full = self
            .config
            .retry_base
            .saturating_mul(1 << attempt.saturating_sub(1).min(20))
            .min(self.config.retry_cap)
            .as_millis() as i64;
        let half = full / 2;
        half + rand::rng().random_range(0..=half.max(0))
    }

    fn count(&self, outcome: &Outcome, gave_up: bool) {
        let word = match (&outcome.error, outcome.retry, gave_up) {
            (None, ..) => "delivered",
            (Some(_), false, _) => "refused",
            (Some(_), true, true) => "gave_up",
            (Some(_), true, false) => "failed",
        };
        self.state
            .metrics
            .webhooks
            .get_or_create(&crate::metrics::Delivery {
                outcome: word.into(),
            })
            .inc();
    }

    /// The server's log line for a failed attempt (the hook's host only: a webhook's path is
    /// often its secret).
    fn tell(&self, hook: &Hook, p: &Prepared, attempt: u32, outcome: &Outcome, retry: Option<i64>) {
        let Some(error) = &outcome.error else { return };
        let host = reqwest::Url::parse(&hook.url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_default();
        let then = match retry {
            Some(at) => format!("retry in {} ms", at - now_ms()),
            None => "gave up on it".into(),
        };
        tracing::warn!(
            "webhook {} ({host}): attempt {attempt} at {} {}: {error}; {then}",
            hook.id,
            p.kind,
            p.event
        );
    }

    /// Sends `p` to the hook's URL, once.
    async fn send(&self, hook: &Hook, p: &Prepared) -> Outcome {
        let url = match reqwest::Url::parse(&hook.url) {
            Ok(url) => url,
            Err(e) => return Outcome::refused(format!("the URL does not parse: {e}")),
        };
        if !self.config.allow_private {
            if let Some(words) = address::refusal_of_url(&url) {
                return Outcome::refused(words);
            }
        }
        let sent = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("X-Liner-Signature-256", &p.signature)
            .header("X-Liner-Event", &p.kind)
            .header("X-Liner-Delivery", &p.delivery)
            .body(p.body.clone())
            .send()
            .await;
        match sent {
            Ok(answer) => Outcome::answered(&answer),
            Err(e) => Outcome::failed(&e, self.config.timeout),
        }
    }
}

/// A delivery ready to send.
struct Prepared {
    kind: String,
    event: String,
    delivery: String,
    body: Vec<u8>,
    signature: String,
}

impl Prepared {
    fn new(
        hook: &Hook,
        seq: u64,
        event: &Event,
        line: &str,
        lookup: &dyn Fn(uuid::Uuid) -> Option<Event>,
        public_url: Option<&str>,
    ) -> Option<Prepared> {
        let words = notice::words(event, lookup);
        let text = message::text(&words, &event.song, public_url);
        let id = event.id.to_string();
        let delivery = message::delivery_id(hook.id, &id);
        let body = match message::body(&text, &hook.project.name, hook.id, &delivery, line) {
            Ok(body) => body,
            Err(e) => {
                tracing::warn!("webhook {}: event {seq} is left out: {e}", hook.id);
                return None;
            }
        };
        Some(Prepared {
            kind: event.body.kind().to_owned(),
            event: id,
            signature: message::signature(&hook.secret, &body),
            delivery,
            body,
        })
    }
}

/// What one attempt came to.
struct Outcome {
    status: Option<u16>,
    /// None: delivered.
    error: Option<String>,
    /// Whether another attempt may do better (a refused address will not).
    retry: bool,
}

impl Outcome {
    fn refused(words: String) -> Outcome {
        Outcome {
            status: None,
            error: Some(words),
            retry: false,
        }
    }

    fn answered(answer: &reqwest::Response) -> Outcome {
        let status = answer.status();
        let error = if status.is_success() {
            None
        } else if status.is_redirection() {
            let to = answer
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .map(|l| format!(" (to {l})"))
                .unwrap_or_default();
            Some(format!("redirect not followed: HTTP {status}{to}"))
        } else {
            Some(format!("the receiver answered HTTP {status}"))
        };
        Outcome {
            status: Some(status.as_u16()),
            error,
            retry: true,
        }
    }

    /// A request that got no answer: the refusal of [`Guarded`] if that was it, else what
    /// went wrong in words. reqwest's own words are left out: they carry the whole URL,
    /// which is often the hook's secret (a Slack URL is).
    fn failed(e: &reqwest::Error, timeout: Duration) -> Outcome {
        let mut source = std::error::Error::source(e);
        let mut words = vec![if e.is_connect() {
            "could not connect"
        } else {
            "the request failed"
        }
        .to_owned()];
        while let Some(s) = source {
            if let Some(refused) = s.downcast_ref::<Refused>() {
                return Outcome::refused(refused.0.clone());
            }
            words.push(s.to_string());
            source = s.source();
        }
        let error = if e.is_timeout() {
            format!("no answer within {} s", timeout.as_secs_f64())
        } else {
            words.dedup();
            words.join(": ")
        };
        Outcome {
            status: None,
            error: Some(error),
            retry: true,
        }
    }
}

//! The mail task of `liner serve` ([`run`]): woken by every push (and by a timer each
//! [`super::Config::round`]), it looks at every person who asked for their digest by mail and
//! sends it when it is due and there is news for them since their last mail:
//!
//! - `daily`: once the day's mail hour (UTC) has passed since their last mail (at the hour: a
//!   day without news at the hour sends nothing, and its news goes with the next day's);
//! - `session`: once the project has been quiet for [`super::Config::quiet`] (no event
//!   stored: the listening session is over), measured by this server's clock from the last
//!   time it saw the project's record change, so clients' clocks do not matter.
//!
//! Before sending, the mark of the last mail moves to now by compare-and-set (another server
//! on the same database that got there first wins, and this one sends nothing); a send that
//! fails puts the mark back, is logged with words, and is tried again next round. A person
//! whose tokens of the digest's role are all revoked gets nothing.

use super::message::{compose, Composed};
use super::Config;
use crate::state::AppState;
use crate::store::{DigestPrefs, Every, StoreError};
use lettre::message::header::ContentTransferEncoding;
use lettre::message::{Body, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

type Transport = AsyncSmtpTransport<Tokio1Executor>;

const DAY_MS: i64 = 24 * 3600 * 1000;

/// Mails digests until the server stops (see the module docs).
pub async fn run(state: Arc<AppState>, config: Config) {
    let transport = match transport(&config) {
        Ok(t) => t,
        Err(e) => {
            tracing::error!("digests are not mailed: the SMTP relay cannot be set up: {e}");
            return;
        }
    };
    let mut changed: HashMap<i64, (u64, Instant)> = HashMap::new();
    loop {
        tokio::select! {
            () = state.mail_wake.notified() => {}
            () = tokio::time::sleep(config.round) => {}
            () = state.stopped() => break,
        }
        if let Err(e) = round(&state, &config, &transport, &mut changed).await {
            tracing::warn!("digest mail: cannot read the record ({e}); trying again next round");
        }
    }
}

/// The SMTP client: TLS from the start for `smtps://`; for `smtp://`, STARTTLS whenever
/// offered, and required when there are credentials (a relay that does not offer it, or a
/// network that strips the offer, never sees the password in the clear).
fn transport(config: &Config) -> Result<Transport, lettre::transport::smtp::Error> {
    let relay = &config.relay;
    let params = TlsParameters::new(relay.host.clone())?;
    let tls = if relay.implicit_tls {
        Tls::Wrapper(params)
    } else if relay.credentials.is_some() {
        Tls::Required(params)
    } else {
        Tls::Opportunistic(params)
    };
    let mut builder = Transport::builder_dangerous(relay.host.clone())
        .port(relay.port)
        .tls(tls)
        .timeout(Some(config.timeout));
    if let Some((user, password)) = &relay.credentials {
        builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
    }
    Ok(builder.build())
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError::Aborted(format!("a database call was cut off: {e}")))?
}

/// One look at everyone who asked for mail; `changed` keeps, per project, the last number
/// and when this task saw it change.
async fn round(
    state: &Arc<AppState>,
    config: &Config,
    transport: &Transport,
    changed: &mut HashMap<i64, (u64, Instant)>,
) -> Result<(), StoreError> {
    let store = state.store.clone();
    let everyone = blocking(move || store.all_digest_prefs()).await?;
    for prefs in everyone {
        let (Some(_), Some(every), true) = (&prefs.mail_to, prefs.every, prefs.live) else {
            continue;
        };
        // Before the record is read: what is stored meanwhile goes with the next mail.
        let now = now_ms();
        // Whether the project changed is told by the numbers announced, not by reading (and
        // refolding) its record on every push: that happens only once a mail is due.
        let announced = state.announced(prefs.project.id);
        let seen = changed
            .entry(prefs.project.id)
            .or_insert((announced, Instant::now()));
        if seen.0 != announced {
            *seen = (announced, Instant::now());
        }
        let since = prefs.mailed_ms.unwrap_or(now);
        let due = match every {
            Every::Daily => since < last_mail_hour(now, config.daily_hour),
            Every::Session => seen.1.elapsed() >= config.quiet,
        };
        if !due {
            continue;
        }
        let (st, project) = (state.clone(), prefs.project.clone());
        let record = blocking(move || st.record(&project)).await?;
        let digest = record.digest(&prefs.person, prefs.role, Some(since));
        if digest.news.is_empty() {
            if every == Every::Daily {
                // Nothing to tell at the mail hour: the day's turn is used (the next mail is
                // tomorrow's, with what comes from now on), not sent when news comes later.
                let (store, id, person) =
                    (state.store.clone(), prefs.project.id, prefs.person.clone());
                let from = prefs.mailed_ms;
                blocking(move || store.move_mailed(id, &person, from, Some(now))).await?;
            }
            continue;
        }
        let composed = compose(
            &prefs.project.name,
            &digest,
            state.public_url.get().map(String::as_str),
        );
        mail_one(state, config, transport, &prefs, since, now, &composed).await?;
    }
    Ok(())
}

/// The last time the clock passed `hour`:00 UTC, at or before `now` (UTC ms).
pub fn last_mail_hour(now: i64, hour: u32) -> i64 {
    let offset = i64::from(hour.min(23)) * 3600 * 1000;
    (now - offset).div_euclid(DAY_MS) * DAY_MS + offset
}

fn now_ms() -> i64 {
    liner_record::event::now_ms()
}

/// Claims the mail (the mark from `since` to `now`), sends it, and puts the mark back if the
/// send failed.
async fn mail_one(
    state: &Arc<AppState>,
    config: &Config,
    transport: &Transport,
    prefs: &DigestPrefs,
    since: i64,
    now: i64,
    composed: &Composed,
) -> Result<(), StoreError> {
    let mark = |from: Option<i64>, to: i64| {
        let (store, id, person) = (state.store.clone(), prefs.project.id, prefs.person.clone());
        blocking(move || store.move_mailed(id, &person, from, Some(to)))
    };
    if !mark(prefs.mailed_ms, now).await? {
        return Ok(());
    }
    let to = prefs.mail_to.as_deref().unwrap_or_default();
    match send(config, transport, to, composed).await {
        Ok(()) => tracing::info!(
            "digest of {:?} mailed to {} ({})",
            prefs.project.name,
            prefs.person,
            composed.subject
        ),
        Err(words) => {
            tracing::warn!(
                "digest of {:?} for {} not mailed through {}: {words}; trying again next round",
                prefs.project.name,
                prefs.person,
                config.relay.described()
            );
            mark(Some(now), since).await?;
        }
    }
    Ok(())
}

/// Sends one composed digest to `to`; what went wrong in words.
async fn send(
    config: &Config,
    transport: &Transport,
    to: &str,
    c: &Composed,
) -> Result<(), String> {
    let to = super::mailbox(to).map_err(|e| e.to_string())?;
    let part = |text: &str| {
        Body::new_with_encoding(text.to_owned(), ContentTransferEncoding::QuotedPrintable)
            .unwrap_or_else(Body::new)
    };
    let message = Message::builder()
        .from(config.from.clone())
        .to(to)
        .subject(c.subject.clone())
        .multipart(MultiPart::alternative_plain_html(
            part(&c.text),
            part(&c.html),
        ))
        .map_err(|e| format!("the message could not be made: {e}"))?;
    transport
        .send(message)
        .await
        .map(|_| ())
        .map_err(|e| format!("the relay refused it or could not be reached: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mail_hour_is_the_last_one_passed() {
        let day = |d: i64, h: i64| d * DAY_MS + h * 3600 * 1000;
        assert_eq!(last_mail_hour(day(100, 9), 8), day(100, 8));
        assert_eq!(last_mail_hour(day(100, 8), 8), day(100, 8));
        assert_eq!(last_mail_hour(day(100, 7), 8), day(99, 8));
        assert_eq!(last_mail_hour(day(100, 0), 0), day(100, 0));
    }
}

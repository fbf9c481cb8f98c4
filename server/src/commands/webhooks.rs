//! `liner webhook add | list | remove | log`: a project's webhooks and what became of their
//! deliveries (see [`crate::hooks`]).

use super::project_named;
use crate::hooks::{self, address};
use crate::store::{Attempt, Store};
use anyhow::{Context, Result};

/// `liner webhook add`: checks the URL and the kinds, adds the hook, prints its id and its
/// signing secret (once).
///
/// # Errors
/// A URL or kind that is refused (with words saying why), no such project, or the database
/// fails.
pub fn add(store: &dyn Store, project: &str, url: &str, events: Option<&str>) -> Result<()> {
    let url = hooks::check_url(url).context("the webhook was not added")?;
    let events = hooks::parse_events(events).context("the webhook was not added")?;
    let p = project_named(store, project)?;
    let hook = store.add_hook(&p, url.as_str(), &events)?;
    println!(
        "webhook {} for {:?}: {} ({})",
        hook.id, p.name, hook.url, hook.events
    );
    println!("signing secret (shown once, for checking X-Liner-Signature-256):");
    println!("{}", hook.secret);
    if let Some(words) = address::refusal_of_url(&url) {
        eprintln!(
            "note: {}",
            words.replacen("refused: ", "deliveries will be refused while ", 1)
        );
    }
    Ok(())
}

/// `liner webhook list`: every hook (of one project), never its secret.
///
/// # Errors
/// No such project, or the database fails.
pub fn list(store: &dyn Store, project: Option<&str>) -> Result<()> {
    let only = project.map(|p| project_named(store, p)).transpose()?;
    println!("id\tproject\turl\tevents\tdelivered up to\tstate");
    for h in store.hooks()? {
        if only.as_ref().is_some_and(|p| p.id != h.project.id) {
            continue;
        }
        let state = if h.attempts == 0 {
            "ok".to_owned()
        } else {
            format!(
                "{} failed attempts, next at {}",
                h.attempts,
                moment(h.next_ms)
            )
        };
        println!(
            "{}\t{}\t{}\t{}\t{}\t{state}",
            h.id, h.project.name, h.url, h.events, h.cursor
        );
    }
    Ok(())
}

/// `liner webhook remove`: the hook stops at once (a delivery in flight finishes); its log
/// stays.
///
/// # Errors
/// No such hook, or the database fails.
pub fn remove(store: &dyn Store, id: i64) -> Result<()> {
    store.remove_hook(id)?;
    println!("webhook {id} removed");
    Ok(())
}

/// `liner webhook log`: the newest attempts first, each with when, which hook, the event, the
/// attempt's number, what came of it, and what happens next.
///
/// # Errors
/// No such project, or the database fails.
pub fn log(
    store: &dyn Store,
    project: Option<&str>,
    hook: Option<i64>,
    limit: usize,
) -> Result<()> {
    let project = project.map(|p| project_named(store, p)).transpose()?;
    println!("when\thook\tkind\tevent\tattempt\toutcome\tnext\tdelivery");
    for a in store.hook_log(project.map(|p| p.id), hook, limit)? {
        println!("{}", line(&a));
    }
    Ok(())
}

/// One attempt as `liner webhook log` prints it.
pub fn line(a: &Attempt) -> String {
    let outcome = match (&a.error, a.status) {
        (None, Some(status)) => format!("delivered (HTTP {status})"),
        (None, None) => "delivered".into(),
        (Some(e), _) => e.clone(),
    };
    let next = match (a.retry_ms, a.gave_up) {
        (Some(at), _) => format!("retry at {}", moment(at)),
        (None, true) => "gave up".into(),
        (None, false) => "-".into(),
    };
    format!(
        "{}\t{}\t{}\t{}\t{}\t{outcome}\t{next}\t{}",
        moment(a.at_ms),
        a.hook,
        a.kind,
        a.event,
        a.attempt,
        a.delivery
    )
}

/// `2026-12-07 01:23:45.678 UTC`: retries come seconds apart.
fn moment(ms: i64) -> String {
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day] [hour]:[minute]:[second].[subsecond digits:3] UTC"
    );
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&fmt).ok())
        .unwrap_or_else(|| ms.to_string())
}

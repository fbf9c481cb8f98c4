//! `liner mail set | list`: where each person's digest is mailed and how often (see
//! [`crate::mail`]; `liner serve --smtp-url` sends them).

use super::project_named;
use crate::store::{Every, Store};
use anyhow::{bail, Context, Result};
use liner_record::Role;

/// `liner mail set`: checks the address and the cadence, finds the role the digest speaks as
/// (executive if the person holds a live executive token in the project, else the role of
/// their newest live token), and stores it. A first mail tells what comes from now on.
///
/// # Errors
/// A refused address or cadence (with words), no such project, no live token of that person
/// there, or the database fails.
pub fn set(
    store: &dyn Store,
    project: &str,
    person: &str,
    to: Option<&str>,
    every: &str,
) -> Result<()> {
    let every = Every::parse(every).map_err(anyhow::Error::msg)?;
    let to = match (every, to) {
        (None, _) => None,
        (Some(_), None) => bail!("say where to: --to name@example.com"),
        (Some(_), Some(to)) => Some(
            crate::mail::mailbox(to)
                .context("the digest mail was not set")?
                .to_string(),
        ),
    };
    let p = project_named(store, project)?;
    let role = role_of(store, p.id, person)
        .with_context(|| format!("{person:?} holds no live token in {project:?}"))?;
    store.set_mail(&p, person, role, to.as_deref(), every)?;
    match (&to, every) {
        (Some(to), Some(every)) => {
            println!(
                "{person}'s digest of {:?} is mailed {} to {to}",
                p.name,
                every.as_str()
            );
        }
        _ => println!("{person}'s digest of {:?} is not mailed", p.name),
    }
    Ok(())
}

/// The role a person's digest speaks as: executive if they hold a live executive token in the
/// project, else their newest live token's.
fn role_of(store: &dyn Store, project: i64, person: &str) -> Option<Role> {
    let live: Vec<Role> = store
        .tokens()
        .ok()?
        .into_iter()
        .filter(|t| t.project.id == project && t.person == person && !t.revoked)
        .map(|t| t.role)
        .collect();
    if live.contains(&Role::Executive) {
        Some(Role::Executive)
    } else {
        live.last().copied()
    }
}

/// `liner mail list`: who gets their digest by mail (of one project), where, how often, and
/// when the last one went.
///
/// # Errors
/// No such project, or the database fails.
pub fn list(store: &dyn Store, project: Option<&str>) -> Result<()> {
    let only = project.map(|p| project_named(store, p)).transpose()?;
    println!("project\tperson\trole\tto\tevery\tlast mail\tfeed");
    for d in store.all_digest_prefs()? {
        if only.as_ref().is_some_and(|p| p.id != d.project.id) {
            continue;
        }
        let every = d.every.map_or("off", Every::as_str);
        let last = d
            .mailed_ms
            .map_or_else(|| "-".into(), liner_record::export::date_time);
        let live = if d.live {
            ""
        } else {
            " (no live token: nothing is sent)"
        };
        println!(
            "{}\t{}\t{}\t{}\t{every}{live}\t{last}\t{}",
            d.project.name,
            d.person,
            d.role,
            d.mail_to.as_deref().unwrap_or("-"),
            if d.feed { "on" } else { "off" }
        );
    }
    Ok(())
}

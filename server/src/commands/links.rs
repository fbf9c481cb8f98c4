//! `liner link list|revoke`: a project's listening links from the command line, as the
//! executive sees them on `/links` (never their secrets: those were shown once, when made).

use super::project_named;
use crate::store::Store;
use anyhow::{bail, Result};
use liner_record::export::date_time;

/// `liner link list --project P`: one line per link, newest first.
///
/// # Errors
/// No such project, or the database fails.
pub fn list(store: &dyn Store, project: &str) -> Result<()> {
    let project = project_named(store, project)?;
    let now = liner_record::event::now_ms();
    println!("id\tfor\topens\tmade by\tcreated\texpires\tlast used\tvisits\tstate");
    for l in store.links(&project)? {
        println!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            l.id,
            l.label,
            l.song.as_deref().unwrap_or("(the album)"),
            l.made_by,
            date_time(l.created_ms),
            date_time(l.expires_ms),
            l.last_used_ms.map_or_else(|| "never".into(), date_time),
            l.uses,
            l.state(now).words(),
        );
    }
    Ok(())
}

/// `liner link revoke --project P ID`.
///
/// # Errors
/// No such project, no such live link in it, or the database fails.
pub fn revoke(store: &dyn Store, project: &str, id: i64) -> Result<()> {
    let p = project_named(store, project)?;
    if !store.revoke_link(&p, id)? {
        bail!("{project:?} has no live listening link {id} (see `liner link list --project ...`)");
    }
    println!("listening link {id} revoked: it now says so to whoever opens it");
    Ok(())
}

//! This computer's journals (the plugin's) without the DAW: `liner sync` pushes and pulls
//! them, `liner import --journal` adds an export's events to one.

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// `liner sync`: each journal with each of its servers, one round (push, then pull), saying
/// what moved and what was refused.
///
/// # Errors
/// When any target failed, after every other target had its round.
pub fn sync_journals(journal: Option<&Path>, server: Option<&str>) -> Result<()> {
    use liner_record::sync::{sync_once, SyncClient};
    let dirs: Vec<PathBuf> = match journal {
        Some(dir) => {
            anyhow::ensure!(
                dir.join("events.log").exists(),
                "no journal in {}",
                dir.display()
            );
            vec![dir.to_owned()]
        }
        None => {
            let root = liner_record::journal::data_dir()?.join("journal");
            let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
                .with_context(|| format!("reading {}", root.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.join("events.log").exists())
                .collect();
            dirs.sort();
            dirs
        }
    };
    let mut failed = 0;
    let mut synced = 0;
    for dir in dirs {
        let j = liner_record::Journal::open(&dir)?;
        let mut targets = j.sync_targets()?;
        if let Some(url) = server {
            let project = match targets.first() {
                Some((_, p)) => p.clone(),
                None => j
                    .read()?
                    .events
                    .first()
                    .map(|e| e.event.project.clone())
                    .with_context(|| format!("{}: an empty journal", dir.display()))?,
            };
            targets = vec![(
                liner_record::settings::server_address(url).to_owned(),
                project,
            )];
        }
        for (url, project) in targets {
            let Some(token) = liner_record::settings::token_for(&url) else {
                println!(
                    "{}: {url}: no token for this server on this computer; skipped",
                    dir.display()
                );
                continue;
            };
            println!("{}: {url} ({project:?}): syncing…", dir.display());
            let client = SyncClient::new(&url, &token, std::time::Duration::from_secs(30))?;
            match sync_once(&j, &project, &client, std::time::Duration::ZERO) {
                Ok(r) => {
                    synced += 1;
                    println!(
                        "  pushed {}, pulled {}, refused {}, waiting {}",
                        r.pushed,
                        r.pulled,
                        r.refused.len(),
                        r.waiting.len()
                    );
                    if r.versions_sent > 0 {
                        println!("  versions sent whole: {}", r.versions_sent);
                    }
                    for problem in r.clip_problem.iter().chain(&r.version_problem) {
                        println!("  audio waits: {problem}");
                    }
                    for (id, reason) in &r.refused {
                        println!("  refused {id}: {reason}");
                    }
                    for (e, why) in &r.waiting {
                        println!("  waiting {}: {why:?}", e.id);
                    }
                }
                Err(e) => {
                    failed += 1;
                    println!("  not synced: {e}");
                }
            }
        }
    }
    anyhow::ensure!(failed == 0, "{failed} journal(s) could not sync");
    if synced == 0 {
        println!("nothing to sync: no journal here names a server this computer has a token for");
    }
    Ok(())
}

/// `liner import FILE --journal DIR`: the events the journal lacks, appended.
///
/// # Errors
/// When the file is not an export or the journal cannot be opened or written.
pub fn import_into_journal(file: &Path, dir: &Path) -> Result<()> {
    let events = super::read_export(file)?;
    let journal = liner_record::Journal::open(dir)?;
    let known: std::collections::HashSet<uuid::Uuid> = journal.scan()?.ids.into_iter().collect();
    let new: Vec<_> = events
        .into_iter()
        .filter(|e| !known.contains(&e.id))
        .collect();
    journal.append(&new)?;
    println!("imported {} new events into {}", new.len(), dir.display());
    Ok(())
}

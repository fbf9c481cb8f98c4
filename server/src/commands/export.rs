//! `liner export`: a decision log from the server's database or a local journal, in any
//! format of `liner_record::export`, with the audio clips beside it on request.

use crate::store::{Project, Store};
use anyhow::{Context, Result};
use liner_record::export::{self, ExportRequest, Format};
use std::path::Path;

/// Writes the log `request` asks for to `output` (standard output without one); with
/// `clips`, the clips of its entries go into `<log>-clips/` beside it, linked from the log.
///
/// # Errors
/// A request that does not parse, `clips` with a format that cannot link audio, or a source
/// or file that cannot be read or written.
pub fn export(
    source: &Source<'_>,
    request: &ExportRequest<'_>,
    output: Option<&Path>,
    clips: bool,
) -> Result<()> {
    let (format, scope) = request.parse()?;
    let (events, received) = source.events()?;
    let links = match (clips, output) {
        (true, Some(log)) => {
            anyhow::ensure!(
                matches!(format, Format::Markdown | Format::Html),
                "--clips goes with --format markdown or html: the other formats have no \
                 place for a link to audio"
            );
            write_clips(log, &export::clip_files(&events, &scope), |c| {
                source.clip(c)
            })?
        }
        _ => Default::default(),
    };
    let out = export::export_linked(&events, &received, &scope, format, &links);
    if out.left_out > 0 {
        eprintln!(
            "{} entries have no DAW position and are not in this {} file",
            out.left_out,
            format.name()
        );
    }
    match output {
        Some(path) => std::fs::write(path, &out.bytes)
            .with_context(|| format!("writing {}", path.display()))?,
        None => {
            use std::io::Write;
            std::io::stdout().write_all(&out.bytes)?;
        }
    }
    Ok(())
}

/// Where an export's record comes from: a local journal, or the server's database.
pub enum Source<'a> {
    Journal(&'a Path),
    Server(&'a dyn Store, Project),
}

impl Source<'_> {
    /// The record's events, and (from the server) who pushed each and when.
    ///
    /// # Errors
    /// When the journal or the store cannot be read.
    pub fn events(
        &self,
    ) -> Result<(
        Vec<liner_record::Event>,
        std::collections::BTreeMap<uuid::Uuid, liner_record::export::Received>,
    )> {
        match self {
            Source::Journal(dir) => {
                anyhow::ensure!(
                    dir.join("events.log").exists(),
                    "no journal in {}",
                    dir.display()
                );
                let report = liner_record::Journal::open(dir)?.read()?;
                for s in &report.skipped {
                    eprintln!("skipped line {} (byte {}): {}", s.line, s.offset, s.reason);
                }
                Ok((report.into_events(), Default::default()))
            }
            Source::Server(store, p) => Ok((store.events(p)?, store.received(p)?)),
        }
    }

    /// A clip's bytes, if this record has them.
    ///
    /// # Errors
    /// When the clip exists but cannot be read.
    pub fn clip(&self, clip: &liner_record::clips::Clip) -> Result<Option<Vec<u8>>> {
        Ok(match self {
            Source::Journal(dir) => liner_record::clips::ClipStore::of_journal(dir).get(clip)?,
            Source::Server(store, p) => store.clip(p, &clip.hash)?,
        })
    }
}

/// Writes the clips of an export into `<log>-clips/` beside `log`; returns the links the log
/// gets (only to clips that are there: one this journal or server lacks is named on stderr).
///
/// The folder is made anew each time: the clips go into a fresh folder (files created, never
/// opened if something is already there), which then takes the place of the last export's.
/// So a clip left out this time (a private one) is not left behind from the last, and a link
/// planted in the folder is never written through. A folder holding anything but the clip
/// files of an export is left alone and the export stops.
fn write_clips(
    log: &Path,
    files: &[liner_record::export::ClipFile],
    read: impl Fn(&liner_record::clips::Clip) -> Result<Option<Vec<u8>>>,
) -> Result<std::collections::BTreeMap<uuid::Uuid, String>> {
    use std::io::Write;
    let stem = log
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "log".into());
    let folder_name = format!("{stem}-clips");
    let folder = log.with_file_name(&folder_name);
    let fresh = log.with_file_name(format!(".{folder_name}.{}", std::process::id()));
    if fresh.exists() {
        std::fs::remove_dir_all(&fresh).with_context(|| format!("removing {}", fresh.display()))?;
    }
    std::fs::create_dir(&fresh).with_context(|| format!("making {}", fresh.display()))?;
    let mut written = Vec::new();
    for f in files {
        let Some(bytes) = read(&f.clip)? else {
            eprintln!(
                "the clip {} is not here; {} is left out",
                f.clip.hash, f.name
            );
            continue;
        };
        let path = fresh.join(&f.name);
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .and_then(|mut file| file.write_all(&bytes))
            .with_context(|| format!("writing {}", path.display()))?;
        written.push(f.clone());
    }
    replace_clip_folder(&folder, &fresh)?;
    if !written.is_empty() {
        eprintln!("{} clips written to {}", written.len(), folder.display());
    }
    Ok(liner_record::export::clip_links(&folder_name, &written))
}

/// Puts the folder `fresh` in the place of `folder`, which may only be an earlier export's
/// clip folder (a real folder of `.flac` files and nothing else).
fn replace_clip_folder(folder: &Path, fresh: &Path) -> Result<()> {
    match std::fs::symlink_metadata(folder) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("looking at {}", folder.display())),
        Ok(meta) => {
            let ours = meta.is_dir()
                && std::fs::read_dir(folder)?.all(|entry| {
                    entry.is_ok_and(|e| {
                        e.file_type().is_ok_and(|t| t.is_file())
                            && e.path().extension().is_some_and(|x| x == "flac")
                    })
                });
            if !ours {
                let _ = std::fs::remove_dir_all(fresh);
                anyhow::bail!(
                    "{} is there and is not an earlier export's clip folder: move it, or \
                     export under another name",
                    folder.display()
                );
            }
            std::fs::remove_dir_all(folder)
                .with_context(|| format!("removing the earlier {}", folder.display()))?;
        }
    }
    std::fs::rename(fresh, folder).with_context(|| format!("making {}", folder.display()))
}

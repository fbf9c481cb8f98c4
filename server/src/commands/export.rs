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

    /// Writes a version's audio to `out`; `false` when this record does not have it (whole).
    ///
    /// # Errors
    /// When it exists but cannot be read, or `out` cannot be written.
    pub fn version(
        &self,
        version: &liner_record::versions::Version,
        out: &mut impl std::io::Write,
    ) -> Result<bool> {
        match self {
            Source::Journal(dir) => {
                let path = liner_record::versions::VersionStore::of_journal(dir).path(version);
                match std::fs::File::open(&path) {
                    Ok(mut file) => {
                        std::io::copy(&mut file, out)
                            .with_context(|| format!("copying {}", path.display()))?;
                        Ok(true)
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
                    Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
                }
            }
            Source::Server(store, p) => {
                if !store
                    .version_hashes(p)?
                    .iter()
                    .any(|h| h == version.hash.as_str())
                {
                    return Ok(false);
                }
                // A chunk at a time: a version may be far larger than memory should hold.
                for index in 0..version.chunks() {
                    let chunk = store
                        .version_chunk(p, &version.hash, index)?
                        .with_context(|| format!("chunk {index} of {} is missing", version.hash))?;
                    out.write_all(&chunk)?;
                }
                Ok(true)
            }
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

/// `liner export --versions DIR`: the album as files ([`liner_record::export::album`]): the
/// selected version of each song on the record, in the executive's order (`01 Night Drive
/// (v3).flac`, ...), `album.m3u8` and `sequence.md`. Each file is written beside its place and
/// moved there once its SHA-256 is the version's; a song without an approved version, or
/// whose audio this record lacks, is named on stderr and left out.
///
/// # Errors
/// The record cannot be read, a version's bytes are not what its event says, or `dir` cannot
/// be written.
pub fn export_versions(source: &Source<'_>, dir: &Path) -> Result<()> {
    use liner_record::export::album::{album, number_width, playlist, sequence_sheet};
    let (events, _) = source.events()?;
    let views = liner_record::fold(&events);
    let tracks = album(&views);
    let width = number_width(&tracks);
    std::fs::create_dir_all(dir).with_context(|| format!("making {}", dir.display()))?;
    let mut written = 0;
    for t in &tracks {
        let (Some(v), Some(name)) = (t.selected, t.file_name(width)) else {
            eprintln!("{}: no approved version, left out", t.song);
            continue;
        };
        let path = dir.join(&name);
        let part = dir.join(format!(".{name}.part"));
        let mut file =
            std::fs::File::create(&part).with_context(|| format!("writing {}", part.display()))?;
        if !source.version(&v.printed.version, &mut file)? {
            drop(file);
            let _ = std::fs::remove_file(&part);
            eprintln!(
                "{}: the audio of {} ({}) is not here (not uploaded yet?), left out",
                t.song, v.label, v.printed.version.hash
            );
            continue;
        }
        file.sync_all()?;
        drop(file);
        let (hash, _) = liner_record::versions::hash_file(&part)?;
        if hash != v.printed.version.hash {
            let _ = std::fs::remove_file(&part);
            anyhow::bail!(
                "{}: the stored audio of {} does not hash to {}: run `liner check`",
                t.song,
                v.label,
                v.printed.version.hash
            );
        }
        std::fs::rename(&part, &path).with_context(|| format!("writing {}", path.display()))?;
        written += 1;
    }
    let project = events.first().map_or("", |e| e.project.as_str());
    std::fs::write(dir.join("album.m3u8"), playlist(&tracks))?;
    std::fs::write(dir.join("sequence.md"), sequence_sheet(project, &tracks))?;
    eprintln!(
        "{written} of {} songs written to {}, with album.m3u8 and sequence.md",
        tracks.len(),
        dir.display()
    );
    Ok(())
}

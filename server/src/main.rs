//! `liner`: the record server and its admin commands.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use liner_record::Role;
use liner_server::store::{PgStore, SqliteStore, Store};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Parser)]
#[command(name = "liner", about = "The Liner Notes record server")]
struct Cli {
    /// Where the database lives (default: the Liner Notes data folder + `server`).
    #[arg(long, global = true, env = "LINER_SERVER_DATA")]
    data: Option<PathBuf>,
    /// Keep the record in this PostgreSQL database instead of SQLite in the data folder:
    /// `postgres://user:password@host:port/database`. Several `liner serve` processes may
    /// share one.
    #[arg(
        long,
        global = true,
        env = "LINER_DATABASE_URL",
        hide_env_values = true
    )]
    database: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API. On an empty data folder, first creates a project with an executive
    /// and a producer token and prints them (once).
    Serve {
        #[arg(long, default_value = "127.0.0.1:7878")]
        listen: SocketAddr,
        /// Most connections open at once; past it new ones are answered 503.
        #[arg(long, default_value_t = liner_server::serve::Limits::default().max_connections)]
        max_connections: usize,
        /// Most megabytes (10^6 bytes) of audio clips one project may hold.
        #[arg(long, default_value_t = liner_server::state::DEFAULT_CLIP_QUOTA / 1_000_000)]
        clip_quota_mb: u64,
        /// On first run, also set up the plugin on this computer: store the producer token
        /// for this server's address in the plugin's config folder and make this server and
        /// project the default for new plugin instances.
        #[arg(long)]
        configure_local_plugin: bool,
    },
    /// Projects.
    Project {
        #[command(subcommand)]
        command: ProjectCommand,
    },
    /// Tokens (one per person per project, with a role).
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Push and pull this computer's journals (the plugin's) without the DAW: every journal
    /// with a server it syncs with, or the one named. Tokens come from the plugin's config
    /// folder, by the server's address.
    Sync {
        /// One journal folder, e.g. ~/.local/share/liner-notes/journal/<project>-<hash>.
        #[arg(long)]
        journal: Option<PathBuf>,
        /// Sync with this server (default: the servers each journal has synced with).
        #[arg(long)]
        server: Option<String>,
    },
    /// Who pushed what and when, from the server's audit trail (revoked tokens included).
    Audit {
        #[arg(long)]
        project: String,
        /// Only events pushed with this person's tokens.
        #[arg(long)]
        person: Option<String>,
        /// Only events received from this date (UTC), e.g. 2026-11-27 or 2026-11-27T14:00.
        #[arg(long)]
        since: Option<String>,
    },
    /// Copy a studio's record from SQLite into PostgreSQL: projects, tokens, every event with
    /// its number and who pushed it, review page sign-ins and clips. Running it again copies
    /// only what is new. Stop the servers on the SQLite record first.
    Migrate {
        /// `sqlite:PATH`, PATH being the server's data folder (or its `liner.db`).
        #[arg(long)]
        from: String,
        /// `postgres://user:password@host:port/database` (default: `--database`, or
        /// `LINER_DATABASE_URL`, which keeps a password off the command line).
        #[arg(long)]
        to: Option<String>,
    },
    /// Import a JSON export (`liner export --format json`) into the server's database
    /// (`--project`) or a local journal (`--journal`). Events already there are skipped; the
    /// same id with other content is reported and left alone.
    Import {
        file: PathBuf,
        #[arg(long, conflicts_with = "journal", required_unless_present = "journal")]
        project: Option<String>,
        #[arg(long)]
        journal: Option<PathBuf>,
    },
    /// Export a decision log from the server's database (`--project`) or from a local
    /// journal folder (`--journal`, no server needed).
    Export {
        #[arg(long, conflicts_with = "journal", required_unless_present = "journal")]
        project: Option<String>,
        /// A journal folder, e.g. ~/.local/share/liner-notes/journal/<project>-<hash>.
        #[arg(long)]
        journal: Option<PathBuf>,
        #[arg(long)]
        song: Option<String>,
        #[arg(long)]
        session: Option<uuid::Uuid>,
        /// From this date (UTC), e.g. 2026-11-27 or 2026-11-27T14:00.
        #[arg(long)]
        since: Option<String>,
        /// Until this date (UTC, exclusive).
        #[arg(long)]
        until: Option<String>,
        #[arg(long)]
        author: Option<String>,
        /// markdown, html, csv, json, reaper, audacity or midi
        #[arg(long)]
        format: String,
        /// Write here instead of standard output.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Include private notes (left out by default).
        #[arg(long)]
        include_private: bool,
        /// With markdown or html: write the audio clip of each entry that has one into a
        /// folder beside the log (`<log>-clips/`, files named after their entries), linked
        /// from the log.
        #[arg(long, requires = "output")]
        clips: bool,
    },
}

#[derive(Subcommand)]
enum ProjectCommand {
    /// Create a project.
    Create { name: String },
    /// List projects.
    List,
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Issue a token for one person in one project with one role; the secret is shown once.
    Add {
        #[arg(long)]
        project: String,
        /// The person it speaks for: their events carry this name (`--name` also works).
        #[arg(long, alias = "name")]
        person: String,
        /// producer, engineer, artist, executive or viewer
        #[arg(long)]
        role: String,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke a token by id.
    Revoke { id: i64 },
}

fn read_export(file: &std::path::Path) -> Result<Vec<liner_record::Event>> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    liner_record::export::import_json(&bytes).with_context(|| format!("reading {}", file.display()))
}

fn export(cli: &Cli, store: Option<&dyn Store>) -> Result<()> {
    use liner_record::export::{self, Format};
    let Command::Export {
        project,
        journal,
        song,
        session,
        since,
        until,
        author,
        format,
        output,
        include_private,
        clips,
    } = &cli.command
    else {
        unreachable!("called for export only");
    };
    let (format, scope) = export::ExportRequest {
        format,
        song: song.clone(),
        session: *session,
        since: since.as_deref(),
        until: until.as_deref(),
        author: author.clone(),
        include_private: *include_private,
    }
    .parse()?;
    let source = match (journal, project, store) {
        (Some(dir), _, _) => Source::Journal(dir),
        (None, Some(name), Some(store)) => {
            let p = store
                .project(name)?
                .with_context(|| format!("no project named {name:?} on this server"))?;
            Source::Server(store, p)
        }
        _ => anyhow::bail!("say --project NAME (server) or --journal DIR (local)"),
    };
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
enum Source<'a> {
    Journal(&'a std::path::Path),
    Server(&'a dyn Store, liner_server::store::Project),
}

impl Source<'_> {
    /// The record's events, and (from the server) who pushed each and when.
    fn events(
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
    fn clip(&self, clip: &liner_record::clips::Clip) -> Result<Option<Vec<u8>>> {
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
    log: &std::path::Path,
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
fn replace_clip_folder(folder: &std::path::Path, fresh: &std::path::Path) -> Result<()> {
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

/// `liner sync`: each journal with each of its servers, one round (push, then pull), saying
/// what moved and what was refused. Fails when any target failed.
fn sync_journals(journal: Option<&std::path::Path>, server: Option<&str>) -> Result<()> {
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
            targets = vec![(url.trim_end_matches('/').to_owned(), project)];
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

/// `liner audit`: one line per stored event, oldest first.
fn audit(
    store: &dyn Store,
    project: &str,
    person: Option<&str>,
    since: Option<&str>,
) -> Result<()> {
    use liner_record::export::{date_time, parse_date};
    let p = store
        .project(project)?
        .with_context(|| format!("no project named {project:?} on this server"))?;
    let since = since
        .map(|t| parse_date(t).with_context(|| format!("{t:?} is not a date like 2026-11-27")))
        .transpose()?;
    println!("seq\treceived\tperson\trole\ttoken\tkind\tevent");
    for r in store.receipts(&p, since)? {
        if person.is_some_and(|n| r.token.as_ref().is_none_or(|t| t.person != n)) {
            continue;
        }
        let (who, role, token) = match &r.token {
            Some(t) => (
                t.person.as_str(),
                t.role.as_str(),
                format!("{}{}", t.id, if t.revoked { " (revoked)" } else { "" }),
            ),
            None => ("(import)", "-", "-".to_owned()),
        };
        println!(
            "{}\t{}\t{who}\t{role}\t{token}\t{}\t{}",
            r.seq,
            date_time(r.received_ms),
            r.kind,
            r.id
        );
    }
    Ok(())
}

/// First-run convenience for a one-machine setup: the producer token stored for this
/// server's address in the plugin's config folder, and this server, project and person as new
/// instances' defaults.
fn configure_plugin(url: &str, project: &str, person: &str, token: &str) -> Result<()> {
    use liner_record::settings::{config_dir, store_token_in, Settings};
    let dir = config_dir().context("no config folder (set LINER_NOTES_CONFIG_DIR or HOME)")?;
    store_token_in(&dir, url, token)?;
    let mut settings = Settings::last_used_in(&dir);
    settings.project = project.into();
    settings.server_url = url.into();
    settings.author = person.into();
    settings.role = Role::Producer;
    settings.remember_in(&dir)?;
    Ok(())
}

fn data_dir(cli: &Cli) -> Result<PathBuf> {
    match &cli.data {
        Some(d) => Ok(d.clone()),
        None => Ok(liner_record::journal::data_dir()?.join("server")),
    }
}

/// Lets the server keep as many connections as the system allows (the soft limit on open
/// files, often 1,024, up to the hard one), so slow clients cannot use up its descriptors.
#[cfg(not(unix))]
fn raise_open_files_limit() {}

/// Lets the server keep as many connections as the system allows (the soft limit on open
/// files, often 1,024, up to the hard one), so slow clients cannot use up its descriptors.
#[cfg(unix)]
fn raise_open_files_limit() {
    // SAFETY: getrlimit/setrlimit on our own process, with a struct we own.
    unsafe {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max.min(1 << 20);
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

fn main() -> Result<()> {
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        // The log goes to stderr: stdout is what a command answers (tokens, exports, the
        // audit trail). Colour codes only for a person at a terminal, never in a log file.
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let cli = Cli::parse();
    // Commands on local journals need no server database.
    match &cli.command {
        Command::Export {
            journal: Some(_), ..
        } => return export(&cli, None),
        Command::Sync { journal, server } => {
            return sync_journals(journal.as_deref(), server.as_deref())
        }
        Command::Import {
            file,
            journal: Some(dir),
            ..
        } => return import_into_journal(file, dir),
        Command::Migrate { from, to } => {
            let to = to
                .as_deref()
                .or(cli.database.as_deref())
                .context("say where to: --to postgres://... (or set LINER_DATABASE_URL)")?;
            return migrate(from, to);
        }
        Command::Serve { .. } => raise_open_files_limit(),
        _ => {}
    }
    let store_arc: Arc<dyn Store> = match &cli.database {
        Some(url) => Arc::new(PgStore::open(url).context("opening the PostgreSQL database")?),
        None => {
            let dir = data_dir(&cli)?;
            Arc::new(
                SqliteStore::open(&dir)
                    .with_context(|| format!("opening the database in {}", dir.display()))?,
            )
        }
    };
    let store = store_arc.as_ref();
    match cli.command {
        Command::Serve {
            listen,
            configure_local_plugin,
            max_connections,
            clip_quota_mb,
        } => serve(
            Arc::clone(&store_arc),
            listen,
            configure_local_plugin,
            liner_server::serve::Limits {
                max_connections,
                clip_quota: clip_quota_mb.saturating_mul(1_000_000),
                ..Default::default()
            },
        ),
        Command::Project { command } => project_command(store, command),
        Command::Export { .. } => export(&cli, Some(store)),
        Command::Sync { .. } | Command::Migrate { .. } => {
            unreachable!("handled before the database opens")
        }
        Command::Audit {
            project,
            person,
            since,
        } => audit(store, &project, person.as_deref(), since.as_deref()),
        Command::Import { file, project, .. } => {
            let name = project
                .as_deref()
                .context("say --project NAME (server) or --journal DIR (local)")?;
            import_into_server(store, &file, name)
        }
        Command::Token { command } => token_command(store, command),
    }
}

/// `liner migrate`: a SQLite record copied into PostgreSQL (see [`liner_server::store::copy`]).
fn migrate(from: &str, to: &str) -> Result<()> {
    let path = from
        .strip_prefix("sqlite:")
        .context("--from names the SQLite record as sqlite:PATH (the server's data folder)")?;
    let path = std::path::Path::new(path);
    let dir = if path.file_name().is_some_and(|n| n == "liner.db") {
        path.parent().unwrap_or(std::path::Path::new("."))
    } else {
        path
    };
    anyhow::ensure!(
        dir.join("liner.db").is_file(),
        "no record server database (liner.db) in {}",
        dir.display()
    );
    let source = SqliteStore::open(dir)
        .with_context(|| format!("opening the database in {}", dir.display()))?;
    let target = PgStore::open(to).context("opening the PostgreSQL database")?;
    let copied = liner_server::store::copy::copy(&source, &target)
        .context("nothing of the rows was copied")?;
    println!(
        "copied {} projects, {} tokens, {} events and {} clips from {} to {} \
         (what was there already is left as it is)",
        copied.loaded.projects,
        copied.loaded.tokens,
        copied.loaded.events,
        copied.clips,
        source.location(),
        target.location()
    );
    Ok(())
}

/// `liner import FILE --journal DIR`: the events the journal lacks, appended.
fn import_into_journal(file: &std::path::Path, dir: &std::path::Path) -> Result<()> {
    let events = read_export(file)?;
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

/// `liner import FILE --project NAME`: the export's events stored under the record's rules
/// (ownership, verdict targets, limits), as if pushed.
fn import_into_server(store: &dyn Store, file: &std::path::Path, name: &str) -> Result<()> {
    let p = store
        .project(name)?
        .with_context(|| format!("no project named {name:?} on this server"))?;
    let events = read_export(file)?;
    let wrong = events.iter().filter(|e| e.project != p.name).count();
    anyhow::ensure!(
        wrong == 0,
        "{wrong} events belong to another project than {name:?}; nothing imported"
    );
    // An import follows the record's rules too (ownership, verdict targets, limits).
    use liner_server::store::{Incoming, PushOutcome};
    let mut refused = 0;
    let mut rows = Vec::new();
    for e in events {
        if let Err(too_big) = liner_record::limits::check(&e) {
            eprintln!("left out {}: {too_big}", e.id);
            refused += 1;
        } else {
            rows.push(Incoming::from_event(e));
        }
    }
    let outcomes = store.push(&p, None, &rows)?;
    let (mut stored, mut duplicates, mut conflicts) = (0, 0, 0);
    for (row, outcome) in rows.iter().zip(&outcomes) {
        match outcome {
            PushOutcome::Stored(_) => stored += 1,
            PushOutcome::Duplicate(_) => duplicates += 1,
            PushOutcome::Conflict => conflicts += 1,
            PushOutcome::Refused { message, .. } => {
                eprintln!("left out {}: {message}", row.event.id);
                refused += 1;
            }
        }
    }
    println!(
        "imported {stored} new events into {name:?} ({duplicates} already there, \
         {conflicts} conflicting ids left alone, {refused} refused)"
    );
    Ok(())
}

fn project_command(store: &dyn Store, command: ProjectCommand) -> Result<()> {
    match command {
        ProjectCommand::Create { name } => {
            let p = store.create_project(&name)?;
            println!("created project {:?} (id {})", p.name, p.id);
            Ok(())
        }
        ProjectCommand::List => {
            for p in store.projects()? {
                println!("{}\t{}", p.id, p.name);
            }
            Ok(())
        }
    }
}

fn token_command(store: &dyn Store, command: TokenCommand) -> Result<()> {
    match command {
        TokenCommand::Add {
            project,
            person,
            role,
        } => {
            let role: Role = role.parse().map_err(anyhow::Error::msg)?;
            let person = person.trim();
            anyhow::ensure!(
                !person.is_empty()
                    && person.chars().count() <= liner_record::limits::MAX_NAME_CHARS
                    && !person.chars().any(char::is_control),
                "the person's name must be 1 to {} characters, without line breaks",
                liner_record::limits::MAX_NAME_CHARS
            );
            let (info, secret) = store.add_token(&project, person, role)?;
            println!(
                "token {} for {} ({}) in {:?}:\n{secret}\n(shown once: store it now)",
                info.id, info.person, info.role, info.project.name
            );
            Ok(())
        }
        TokenCommand::List => {
            println!("id\tproject\tperson\trole\tstatus");
            for t in store.tokens()? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    t.id,
                    t.project.name,
                    t.person,
                    t.role,
                    if t.revoked { "revoked" } else { "active" }
                );
            }
            Ok(())
        }
        TokenCommand::Revoke { id } => {
            store.revoke_token(id)?;
            println!("token {id} revoked");
            Ok(())
        }
    }
}

fn serve(
    store: Arc<dyn Store>,
    listen: SocketAddr,
    configure_local_plugin: bool,
    limits: liner_server::serve::Limits,
) -> Result<()> {
    let url = format!("http://{listen}");
    let project = "My Project";
    // Everything durable first (the database, and the plugin's files on this computer), then
    // the tokens printed: a first run that fails leaves nothing, and the next completes it.
    let first_run = if store.projects()?.is_empty() {
        let created = store.create_project_with_tokens(
            project,
            &[
                ("Executive producer", Role::Executive),
                ("Producer", Role::Producer),
            ],
            &mut |tokens| {
                if configure_local_plugin {
                    configure_plugin(&url, project, "Producer", &tokens[1].1)
                        .map_err(|e| format!("setting up the plugin on this computer: {e:#}"))
                } else {
                    Ok(())
                }
            },
        );
        match created {
            Ok(created) => Some(created),
            // Another server on the same database made it a moment ago.
            Err(liner_server::store::StoreError::ProjectExists(_)) => None,
            Err(e) => {
                return Err(e).context(
                    "the first run could not complete, so it created nothing; run it again",
                )
            }
        }
    } else {
        None
    };
    if let Some(created) = first_run {
        let (exec, producer) = (&created[0].1, &created[1].1);
        println!(
            "First run: created project {project:?} in {}.",
            store.location()
        );
        println!("Executive producer token (for the review page): {exec}");
        println!("Producer token, for the plugin's settings: {producer}");
        println!("  with server URL {url} and project {project:?}");
        if configure_local_plugin {
            println!("  (already set up for the plugin on this computer)");
        }
        println!("These are shown once; `liner token add` issues more.");
    } else {
        println!("Projects and tokens already exist; `liner token list` shows them.");
    }
    if !listen.ip().is_loopback() {
        tracing::warn!("listening on {listen}: reachable from other machines");
    }
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("listening on {listen}"))?;
        // Handlers first, so a signal right after the "Serving" line is already graceful.
        #[cfg(unix)]
        let (mut term, mut int) = {
            use tokio::signal::unix::{signal, SignalKind};
            (
                signal(SignalKind::terminate()).context("installing the SIGTERM handler")?,
                signal(SignalKind::interrupt()).context("installing the Ctrl-C handler")?,
            )
        };
        let addr = listener.local_addr()?;
        println!(
            "Review URL: http://{addr}/ (the executive producer signs in there with their token)"
        );
        println!("Serving the record on http://{addr}");
        let shutdown = async move {
            #[cfg(unix)]
            tokio::select! {
                _ = term.recv() => {},
                _ = int.recv() => {},
            }
            #[cfg(not(unix))]
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("shutting down: finishing requests in flight");
        };
        liner_server::run_with(listener, store, limits, shutdown).await?;
        Ok::<_, anyhow::Error>(())
    })
}

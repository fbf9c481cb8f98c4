//! `liner`: the record server and its admin commands. This file parses the arguments and
//! opens the database; each command's work is in `liner_server::commands`.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use liner_record::export::ExportRequest;
use liner_server::commands::{admin, backup, export, first_run, journals, mail, webhooks};
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
    /// How the log (standard error) is written: `text` for people, `json` (one object a line,
    /// with the request's route, status, duration and token id) for log collectors.
    #[arg(long, global = true, env = "LINER_LOG_FORMAT", default_value = "text")]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API. On an empty data folder, first creates a project with an executive
    /// and a producer token and prints them (once).
    Serve {
        #[arg(long, default_value = "127.0.0.1:7878")]
        listen: SocketAddr,
        /// Most connections open at once; at it the idlest makes way, and when none is idle
        /// a new one is answered 503.
        #[arg(long, default_value_t = liner_server::serve::Limits::default().max_connections)]
        max_connections: usize,
        /// Most connections from one client address (raise it behind a reverse proxy, where
        /// every client has the proxy's address); past it 429.
        #[arg(long, default_value_t = liner_server::serve::Limits::default().per_address)]
        max_connections_per_address: usize,
        /// Most megabytes (10^6 bytes) of audio one project may hold: its clips and its
        /// versions' chunks together (`--clip-quota-mb`, its name before versions, still works).
        #[arg(
            long = "audio-quota-mb",
            alias = "clip-quota-mb",
            value_name = "MB",
            default_value_t = liner_server::state::DEFAULT_CLIP_QUOTA / 1_000_000
        )]
        clip_quota_mb: u64,
        /// On first run, also set up the plugin on this computer: store the producer token
        /// for this server's address in the plugin's config folder and make this server and
        /// project the default for new plugin instances.
        #[arg(long)]
        configure_local_plugin: bool,
        /// Serve HTTPS with this certificate chain (PEM, the server's certificate first);
        /// needs --tls-key. Plain HTTP is then refused.
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The certificate's private key (PEM).
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// With HTTPS, tell browsers to use nothing else for a year (Strict-Transport-Security).
        #[arg(long, requires = "tls_cert")]
        hsts: bool,
        /// Serve GET /metrics (Prometheus) on this address only (e.g. 127.0.0.1:9187);
        /// without it there are no metrics. Never on the public address.
        #[arg(long)]
        metrics_listen: Option<SocketAddr>,
        #[command(flatten)]
        hooks: HookArgs,
        #[command(flatten)]
        mail: MailArgs,
    },
    /// Digests by mail: where each person's goes and how often (needs `liner serve
    /// --smtp-url`).
    Mail {
        #[command(subcommand)]
        command: MailCommand,
    },
    /// Webhooks: a project's new events posted to a URL (Slack, Mattermost, your own), signed.
    Webhook {
        #[command(subcommand)]
        command: WebhookCommand,
    },
    /// Copy the whole record (every event, token, session and clip) into a new file, while
    /// the server runs and takes writes (SQLite; on PostgreSQL it says how to use pg_dump).
    Backup {
        /// The backup file to write (never overwritten).
        #[arg(long)]
        to: PathBuf,
    },
    /// Put a backup into an empty data folder (`--data`), after checking it.
    Restore {
        /// The backup file (`liner backup --to`).
        #[arg(long)]
        from: PathBuf,
    },
    /// Verify the record: the database file, every stored event, every clip's bytes.
    Check,
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
    /// Listening links (made by the executive on the review page's /links).
    Link {
        #[command(subcommand)]
        command: LinkCommand,
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
    /// its number and who pushed it, review page sign-ins, clips and versions (partial
    /// uploads too, to be resumed there). Running it again copies only what is new. Stop the
    /// servers on the SQLite record first.
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
        #[arg(long, required_unless_present = "versions")]
        format: Option<String>,
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
        /// Write the album into this folder: each song on the record's selected (approved)
        /// version in tracklist order (`01 Night Drive (v3).flac`, ...), a playlist
        /// (`album.m3u8`) and the sequence sheet (`sequence.md`).
        #[arg(long)]
        versions: Option<PathBuf>,
    },
}

/// How `liner serve` delivers webhooks.
#[derive(clap::Args)]
struct HookArgs {
    /// The review page's address as people reach it (e.g. https://review.studio.example),
    /// for links in webhook messages; without it, messages carry no link.
    #[arg(long)]
    public_url: Option<String>,
    /// Deliver webhooks to loopback, private (10/8, 172.16/12, 192.168/16, fc00::/7) and
    /// link-local addresses too (refused by default: whoever adds a hook could otherwise
    /// make this server call into your network).
    #[arg(long)]
    webhooks_allow_private: bool,
    /// The wait before a failed delivery's first retry (milliseconds); each next one doubles.
    #[arg(long, default_value_t = 10_000)]
    webhooks_retry_base_ms: u64,
    /// The longest wait between retries (milliseconds).
    #[arg(long, default_value_t = 3_600_000)]
    webhooks_retry_cap_ms: u64,
    /// Attempts at one event before a hook gives up on it (logged) and goes on.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..))]
    webhooks_attempts: u32,
    /// How long one delivery may take (milliseconds).
    #[arg(long, default_value_t = 10_000)]
    webhooks_timeout_ms: u64,
}

impl HookArgs {
    fn config(&self) -> Result<liner_server::hooks::Config> {
        use std::time::Duration;
        let public_url = match &self.public_url {
            Some(url) => Some(
                liner_server::hooks::check_url(url)
                    .context("--public-url")?
                    .as_str()
                    .trim_end_matches('/')
                    .to_owned(),
            ),
            None => None,
        };
        Ok(liner_server::hooks::Config {
            allow_private: self.webhooks_allow_private,
            retry_base: Duration::from_millis(self.webhooks_retry_base_ms),
            retry_cap: Duration::from_millis(self.webhooks_retry_cap_ms),
            attempts: self.webhooks_attempts,
            timeout: Duration::from_millis(self.webhooks_timeout_ms.max(1)),
            public_url,
        })
    }
}

/// How `liner serve` mails digests.
#[derive(clap::Args)]
struct MailArgs {
    /// The studio's SMTP relay: smtp://[USER:PASSWORD@]HOST:PORT (STARTTLS whenever the relay
    /// offers it) or smtps://... (TLS throughout). Without it no mail is sent. Percent-encode
    /// `@`, `:` and `/` in the user name and password.
    #[arg(long, env = "LINER_SMTP_URL", hide_env_values = true)]
    smtp_url: Option<String>,
    /// Who digests come from, e.g. "Liner Notes <notes@studio.example>".
    #[arg(long, requires = "smtp_url")]
    mail_from: Option<String>,
    /// The hour (UTC, 0-23) daily digests go out.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(0..24))]
    mail_daily_hour: u32,
    /// How long a project must be quiet after news before `session` digests go
    /// (milliseconds; the end of a listening session).
    #[arg(long, default_value_t = 20 * 60 * 1000)]
    mail_quiet_ms: u64,
    /// How often the mail task looks, besides being woken by every push (milliseconds).
    #[arg(long, default_value_t = 30_000)]
    mail_round_ms: u64,
}

impl MailArgs {
    fn config(&self) -> Result<Option<liner_server::mail::Config>> {
        use std::time::Duration;
        let Some(url) = &self.smtp_url else {
            return Ok(None);
        };
        let relay = liner_server::mail::Relay::parse(url).context("--smtp-url")?;
        let from = self
            .mail_from
            .as_deref()
            .context("say who digests come from: --mail-from \"Liner Notes <notes@studio>\"")?;
        Ok(Some(liner_server::mail::Config {
            relay,
            from: liner_server::mail::mailbox(from).context("--mail-from")?,
            daily_hour: self.mail_daily_hour,
            quiet: Duration::from_millis(self.mail_quiet_ms),
            round: Duration::from_millis(self.mail_round_ms.max(10)),
            timeout: Duration::from_secs(30),
        }))
    }
}

#[derive(Subcommand)]
enum MailCommand {
    /// Mail a person's digest of a project: daily, after each listening session, or off.
    Set {
        #[arg(long)]
        project: String,
        #[arg(long)]
        person: String,
        /// Their mail address (not needed with --every off).
        #[arg(long)]
        to: Option<String>,
        /// daily, session or off
        #[arg(long)]
        every: String,
    },
    /// Who gets their digest by mail, where and how often.
    List {
        #[arg(long)]
        project: Option<String>,
    },
}

#[derive(Subcommand)]
enum WebhookCommand {
    /// Add a webhook; prints its id and its signing secret (once).
    Add {
        #[arg(long)]
        project: String,
        /// Where to post (https://...): a Slack or Mattermost incoming webhook, or your own.
        #[arg(long)]
        url: String,
        /// `all`, or kinds separated by commas (verdict,note_added,...). Default: note_added,
        /// verdict, version_printed, reply_added, marked_done.
        #[arg(long)]
        events: Option<String>,
    },
    /// List webhooks (never their secrets).
    List {
        #[arg(long)]
        project: Option<String>,
    },
    /// Remove a webhook by id (its log stays).
    Remove { id: i64 },
    /// What became of deliveries, newest first.
    Log {
        #[arg(long)]
        project: Option<String>,
        #[arg(long)]
        hook: Option<i64>,
        #[arg(long, default_value_t = 50)]
        limit: usize,
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

#[derive(Subcommand)]
enum LinkCommand {
    /// List a project's listening links: what each opens, when it was last used, its state
    /// (never the secrets).
    List {
        #[arg(long)]
        project: String,
    },
    /// Revoke a listening link by id: whoever opens it is told it was revoked.
    Revoke {
        #[arg(long)]
        project: String,
        id: i64,
    },
}

/// The server's own folder (its SQLite file and first-run marker): `--data`, else `server/`
/// in Liner Notes' data folder ([`liner_record::journal::data_dir`], which also holds the
/// journals).
fn server_data_dir(cli: &Cli) -> Result<PathBuf> {
    match &cli.data {
        Some(d) => Ok(d.clone()),
        None => Ok(liner_record::journal::data_dir()?.join("server")),
    }
}

fn main() -> Result<()> {
    use std::io::IsTerminal;
    let cli = Cli::parse();
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    // The log goes to stderr: stdout is what a command answers (tokens, exports, the audit
    // trail). Colour codes only for a person at a terminal, never in a log file.
    let log = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Text => log.with_ansi(std::io::stderr().is_terminal()).init(),
        LogFormat::Json => log.json().with_current_span(true).init(),
    }
    // Commands on local journals need no server database.
    match &cli.command {
        Command::Export {
            journal: Some(dir), ..
        } => return export_command(&cli, &export::Source::Journal(dir)),
        Command::Sync { journal, server } => {
            return journals::sync_journals(journal.as_deref(), server.as_deref())
        }
        Command::Import {
            file,
            journal: Some(dir),
            ..
        } => return journals::import_into_journal(file, dir),
        Command::Migrate { from, to } => {
            let to = to
                .as_deref()
                .or(cli.database.as_deref())
                .context("say where to: --to postgres://... (or set LINER_DATABASE_URL)")?;
            return admin::migrate(from, to);
        }
        Command::Serve { .. } => {
            first_run::raise_open_files_limit();
            first_run::limit_allocator_arenas();
        }
        Command::Backup { .. } | Command::Restore { .. } | Command::Check => {
            return copy_command(&cli)
        }
        _ => {}
    }
    let store = open_store(&cli)?;
    on_the_server(&cli, store)
}

/// `liner backup`, `restore` and `check` ([`backup`]): they open the record themselves (a
/// restore must find the folder empty).
fn copy_command(cli: &Cli) -> Result<()> {
    match &cli.command {
        Command::Backup { to } => {
            if cli.database.is_some() {
                anyhow::bail!(backup::PG_BACKUP_WORDS);
            }
            let note = backup::backup(&server_data_dir(cli)?, to)?;
            println!(
                "backed up {} events ({} bytes) to {}",
                note.events,
                note.bytes,
                to.display()
            );
            Ok(())
        }
        Command::Restore { from } => {
            if cli.database.is_some() {
                anyhow::bail!(
                    "liner restores SQLite records; for PostgreSQL use pg_restore (see `liner backup`)"
                );
            }
            let dir = server_data_dir(cli)?;
            let found = backup::restore(from, &dir)?;
            report_check(&found, &format!("restored into {}", dir.display()))
        }
        Command::Check => {
            let found = match &cli.database {
                Some(url) => backup::check(&PgStore::open(url)?, None)?,
                None => {
                    let store = backup::open_record(&server_data_dir(cli)?)?;
                    backup::check(&store, Some(&store))?
                }
            };
            report_check(&found, "the record")
        }
        _ => unreachable!("called for backup, restore and check only"),
    }
}

/// Prints what a check found; fails when anything is wrong.
fn report_check(found: &backup::Check, what: &str) -> Result<()> {
    for problem in &found.problems {
        eprintln!("{problem}");
    }
    if found.problems.is_empty() {
        println!(
            "{what}: {} events and {} clips, all sound; {} versions, all sound; {} webhooks, \
             all sound; {} digests, all sound",
            found.events, found.clips, found.versions, found.hooks, found.digests
        );
        Ok(())
    } else {
        anyhow::bail!("{what}: {} problems (above)", found.problems.len())
    }
}

/// The database the arguments name: PostgreSQL, or SQLite in the data folder.
fn open_store(cli: &Cli) -> Result<Arc<dyn Store>> {
    Ok(match &cli.database {
        Some(url) => Arc::new(PgStore::open(url).context("opening the PostgreSQL database")?),
        None => {
            let dir = server_data_dir(cli)?;
            Arc::new(
                SqliteStore::open(&dir)
                    .with_context(|| format!("opening the database in {}", dir.display()))?,
            )
        }
    })
}

/// `liner serve` with the arguments given.
fn serve_command(cli: &Cli, store: Arc<dyn Store>) -> Result<()> {
    let Command::Serve {
        listen,
        configure_local_plugin,
        max_connections,
        max_connections_per_address,
        clip_quota_mb,
        tls_cert,
        tls_key,
        hsts,
        metrics_listen,
        hooks,
        mail,
    } = &cli.command
    else {
        unreachable!("called for serve only");
    };
    first_run::serve(
        store,
        *listen,
        *configure_local_plugin,
        liner_server::serve::Limits {
            max_connections: *max_connections,
            per_address: *max_connections_per_address,
            clip_quota: clip_quota_mb.saturating_mul(1_000_000),
            ..Default::default()
        },
        match (tls_cert, tls_key) {
            (Some(cert), Some(key)) => Some(
                liner_server::tls::Tls::from_pem_files(cert, key, *hsts)
                    .context("setting up HTTPS")?,
            ),
            _ => None,
        },
        *metrics_listen,
        first_run::Sending {
            hooks: hooks.config()?,
            mail: mail.config()?,
        },
    )
}

/// `liner webhook ...`.
fn webhook_command(store: &dyn Store, command: &WebhookCommand) -> Result<()> {
    match command {
        WebhookCommand::Add {
            project,
            url,
            events,
        } => webhooks::add(store, project, url, events.as_deref()),
        WebhookCommand::List { project } => webhooks::list(store, project.as_deref()),
        WebhookCommand::Remove { id } => webhooks::remove(store, *id),
        WebhookCommand::Log {
            project,
            hook,
            limit,
        } => webhooks::log(store, project.as_deref(), *hook, *limit),
    }
}

/// The commands that work on the server's database.
fn on_the_server(cli: &Cli, store_arc: Arc<dyn Store>) -> Result<()> {
    let store = store_arc.as_ref();
    match &cli.command {
        Command::Serve { .. } => serve_command(cli, Arc::clone(&store_arc)),
        Command::Webhook { command } => webhook_command(store, command),
        Command::Mail { command } => match command {
            MailCommand::Set {
                project,
                person,
                to,
                every,
            } => mail::set(store, project, person, to.as_deref(), every),
            MailCommand::List { project } => mail::list(store, project.as_deref()),
        },
        Command::Project { command } => match command {
            ProjectCommand::Create { name } => admin::create_project(store, name),
            ProjectCommand::List => admin::list_projects(store),
        },
        Command::Token { command } => match command {
            TokenCommand::Add {
                project,
                person,
                role,
            } => admin::add_token(store, project, person, role),
            TokenCommand::List => admin::list_tokens(store),
            TokenCommand::Revoke { id } => admin::revoke_token(store, *id),
        },
        Command::Link { command } => match command {
            LinkCommand::List { project } => liner_server::commands::links::list(store, project),
            LinkCommand::Revoke { project, id } => {
                liner_server::commands::links::revoke(store, project, *id)
            }
        },
        Command::Export { project, .. } => {
            let name = project
                .as_deref()
                .context("say --project NAME (server) or --journal DIR (local)")?;
            let p = liner_server::commands::project_named(store, name)?;
            export_command(cli, &export::Source::Server(store, p))
        }
        Command::Audit {
            project,
            person,
            since,
        } => admin::audit(store, project, person.as_deref(), since.as_deref()),
        Command::Import { file, project, .. } => {
            let name = project
                .as_deref()
                .context("say --project NAME (server) or --journal DIR (local)")?;
            admin::import_into_server(store, file, name)
        }
        Command::Sync { .. }
        | Command::Migrate { .. }
        | Command::Backup { .. }
        | Command::Restore { .. }
        | Command::Check => {
            unreachable!("handled before the database opens")
        }
    }
}

/// `liner export` from `source`, with the arguments given.
fn export_command(cli: &Cli, source: &export::Source<'_>) -> Result<()> {
    let Command::Export {
        song,
        session,
        since,
        until,
        author,
        format,
        output,
        include_private,
        clips,
        versions,
        ..
    } = &cli.command
    else {
        unreachable!("called for export only");
    };
    if let Some(dir) = versions {
        export::export_versions(source, dir)?;
    }
    let Some(format) = format else {
        return Ok(());
    };
    let request = ExportRequest {
        format,
        song: song.clone(),
        session: *session,
        since: since.as_deref(),
        until: until.as_deref(),
        author: author.clone(),
        include_private: *include_private,
    };
    export::export(source, &request, output.as_deref(), *clips)
}

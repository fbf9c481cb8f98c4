//! `liner`: the record server and its admin commands.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use liner_record::Role;
use liner_server::store::{SqliteStore, Store};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Parser)]
#[command(name = "liner", about = "The Liner Notes record server")]
struct Cli {
    /// Where the database lives (default: the Liner Notes data folder + `server`).
    #[arg(long, global = true, env = "LINER_SERVER_DATA")]
    data: Option<PathBuf>,
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
        /// On first run, also set up the plugin on this computer: store the producer token
        /// (named "local") in the plugin's config folder and make this server and project
        /// the default for new plugin instances.
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
    /// Issue a token; the secret is shown once.
    Add {
        #[arg(long)]
        project: String,
        #[arg(long)]
        name: String,
        /// producer, engineer, artist, executive or viewer
        #[arg(long)]
        role: String,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke a token by id.
    Revoke { id: i64 },
}

/// First-run convenience for a one-machine setup: the producer token stored by name in the
/// plugin's config folder, and this server and project as new instances' defaults.
fn configure_plugin(url: &str, project: &str, token: &str) -> Result<()> {
    let dir = std::env::var_os("LINER_NOTES_CONFIG_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| dirs_config().map(|d| d.join("liner-notes")))
        .context("no config folder (set LINER_NOTES_CONFIG_DIR or HOME)")?;
    std::fs::create_dir_all(&dir)?;
    let tokens = dir.join("tokens.json");
    let mut map: serde_json::Map<String, serde_json::Value> = std::fs::read(&tokens)
        .ok()
        .and_then(|d| serde_json::from_slice(&d).ok())
        .unwrap_or_default();
    map.insert("local".into(), token.into());
    std::fs::write(&tokens, serde_json::to_vec_pretty(&map)?)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tokens, std::fs::Permissions::from_mode(0o600))?;
    }
    let settings = dir.join("last-settings.json");
    let mut s: serde_json::Map<String, serde_json::Value> = std::fs::read(&settings)
        .ok()
        .and_then(|d| serde_json::from_slice(&d).ok())
        .unwrap_or_default();
    s.insert("project".into(), project.into());
    s.insert("server_url".into(), url.into());
    s.insert("token_ref".into(), "local".into());
    s.entry("role").or_insert("producer".into());
    std::fs::write(&settings, serde_json::to_vec_pretty(&s)?)?;
    Ok(())
}

fn dirs_config() -> Option<PathBuf> {
    std::env::var_os("XDG_CONFIG_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
}

fn data_dir(cli: &Cli) -> Result<PathBuf> {
    match &cli.data {
        Some(d) => Ok(d.clone()),
        None => Ok(liner_record::journal::data_dir()?.join("server")),
    }
}

fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let cli = Cli::parse();
    let dir = data_dir(&cli)?;
    let store = SqliteStore::open(&dir)
        .with_context(|| format!("opening the database in {}", dir.display()))?;
    match cli.command {
        Command::Serve {
            listen,
            configure_local_plugin,
        } => serve(Arc::new(store), listen, &dir, configure_local_plugin),
        Command::Project { command } => match command {
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
        },
        Command::Token { command } => match command {
            TokenCommand::Add {
                project,
                name,
                role,
            } => {
                let role: Role = role.parse().map_err(anyhow::Error::msg)?;
                let (info, secret) = store.add_token(&project, &name, role)?;
                println!(
                    "token {} for {} ({}) in {:?}:\n{secret}\n(shown once: store it now)",
                    info.id, info.name, info.role, info.project.name
                );
                Ok(())
            }
            TokenCommand::List => {
                println!("id\tproject\tname\trole\tstatus");
                for t in store.tokens()? {
                    println!(
                        "{}\t{}\t{}\t{}\t{}",
                        t.id,
                        t.project.name,
                        t.name,
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
        },
    }
}

fn serve(
    store: Arc<SqliteStore>,
    listen: SocketAddr,
    dir: &std::path::Path,
    configure_local_plugin: bool,
) -> Result<()> {
    let url = format!("http://{listen}");
    if store.projects()?.is_empty() {
        let project = "My Project";
        store.create_project(project)?;
        let (_, exec) = store.add_token(project, "Executive producer", Role::Executive)?;
        let (_, producer) = store.add_token(project, "Producer", Role::Producer)?;
        println!(
            "First run: created project {project:?} in {}.",
            dir.display()
        );
        println!("Executive producer token (for the review page): {exec}");
        println!("Producer token, for the plugin's settings: {producer}");
        println!("  with server URL {url} and project {project:?}");
        if configure_local_plugin {
            configure_plugin(&url, project, &producer)?;
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
        println!("Review URL: http://{addr}/ (the review page itself comes with its own issue; today this address serves the sync API)");
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
        liner_server::run(listener, store, shutdown).await?;
        Ok::<_, anyhow::Error>(())
    })
}

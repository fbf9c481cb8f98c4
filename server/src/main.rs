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
        Command::Serve { listen } => serve(Arc::new(store), listen, &dir),
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

fn serve(store: Arc<SqliteStore>, listen: SocketAddr, dir: &std::path::Path) -> Result<()> {
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
        println!("Producer token (paste into the plugin's settings): {producer}");
        println!("These are shown once; `liner token add` issues more.");
    }
    if !listen.ip().is_loopback() {
        tracing::warn!("listening on {listen}: reachable from other machines");
    }
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("listening on {listen}"))?;
        println!("Serving the record on http://{}", listener.local_addr()?);
        let shutdown = async {
            let ctrl_c = tokio::signal::ctrl_c();
            #[cfg(unix)]
            {
                let mut term =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                        .expect("SIGTERM handler");
                tokio::select! {
                    _ = ctrl_c => {},
                    _ = term.recv() => {},
                }
            }
            #[cfg(not(unix))]
            let _ = ctrl_c.await;
            tracing::info!("shutting down: finishing requests in flight");
        };
        liner_server::run(listener, store, shutdown).await?;
        Ok::<_, anyhow::Error>(())
    })
}

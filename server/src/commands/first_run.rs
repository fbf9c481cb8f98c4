//! `liner serve`: on an empty database, the first run's project and tokens (and, on request,
//! the plugin on this computer set up to use them); then serving until SIGTERM or Ctrl-C.

use crate::store::Store;
use anyhow::{Context, Result};
use liner_record::Role;
use std::net::SocketAddr;
use std::sync::Arc;

/// Sets up a first run if the database is empty, then serves until a signal, finishing the
/// requests in flight.
///
/// # Errors
/// The first run cannot complete (it then created nothing), or the address cannot be bound.
pub fn serve(
    store: Arc<dyn Store>,
    listen: SocketAddr,
    configure_local_plugin: bool,
    limits: crate::serve::Limits,
    tls: Option<crate::tls::Tls>,
    metrics: Option<SocketAddr>,
    sending: Sending,
) -> Result<()> {
    let scheme = if tls.is_some() { "https" } else { "http" };
    first_run(
        store.as_ref(),
        &format!("{scheme}://{listen}"),
        configure_local_plugin,
    )?;
    if !listen.ip().is_loopback() && tls.is_none() {
        tracing::warn!(
            "listening on {listen}: reachable from other machines, in plain HTTP (tokens cross \
             the network in the clear; use --tls-cert and --tls-key, or a proxy with TLS)"
        );
    }
    if sending.hooks.allow_private {
        tracing::warn!(
            "webhooks may be delivered to loopback, private and link-local addresses \
             (--webhooks-allow-private): whoever adds a hook can make this server call into \
             your network"
        );
    }
    if let Some(mail) = &sending.mail {
        tracing::info!(
            "digests are mailed through {} from {}",
            mail.relay.described(),
            mail.from
        );
    }
    serve_until_signal(store, listen, limits, tls, metrics, sending)
}

/// What `liner serve` sends out besides answers: webhooks, and digest mail when the studio
/// names an SMTP relay.
pub struct Sending {
    pub hooks: crate::hooks::Config,
    pub mail: Option<crate::mail::Config>,
}

/// On an empty database: the project "My Project" with an executive and a producer token,
/// printed once (and with `configure_local_plugin`, the producer's set up for the plugin on
/// this computer). Several servers starting at once on one database make one first run.
fn first_run(store: &dyn Store, url: &str, configure_local_plugin: bool) -> Result<()> {
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
                    configure_plugin(url, project, "Producer", &tokens[1].1)
                        .map_err(|e| format!("setting up the plugin on this computer: {e:#}"))
                } else {
                    Ok(())
                }
            },
        );
        match created {
            Ok(created) => Some(created),
            // Another server on the same database made it a moment ago.
            Err(crate::store::StoreError::ProjectExists(_)) => None,
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
    Ok(())
}

/// Serves on `listen` until SIGTERM or Ctrl-C, then finishes the requests in flight.
fn serve_until_signal(
    store: Arc<dyn Store>,
    listen: SocketAddr,
    limits: crate::serve::Limits,
    tls: Option<crate::tls::Tls>,
    metrics: Option<SocketAddr>,
    sending: Sending,
) -> Result<()> {
    let scheme = if tls.is_some() { "https" } else { "http" };
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
        // Before the "Serving" line, which is the last a supervisor may wait for.
        let metrics = match metrics {
            Some(at) => {
                let private = tokio::net::TcpListener::bind(at)
                    .await
                    .with_context(|| format!("listening for metrics on {at}"))?;
                println!("Metrics on http://{}/metrics", private.local_addr()?);
                Some(private)
            }
            None => None,
        };
        println!(
            "Review URL: {scheme}://{addr}/ (the executive producer signs in there with their \
             token)"
        );
        println!("Serving the record on {scheme}://{addr}");
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
        let extras = crate::serve::Extras {
            tls,
            metrics,
            hooks: sending.hooks,
            mail: sending.mail,
        };
        crate::run_with(listener, store, limits, extras, shutdown).await?;
        Ok::<_, anyhow::Error>(())
    })
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

/// Keeps the server's memory from growing with its threads: glibc gives each thread that
/// allocates its own arena (up to eight per core) and keeps what is freed there for that
/// arena, so megabyte-sized upload chunks handled on many tokio and blocking threads would
/// leave tens of megabytes resident. Two arenas hold ten uploads at once well under
/// 100 MB (`server/tests/versions.rs`). An operator's `MALLOC_ARENA_MAX` wins. Elsewhere
/// (musl, macOS, Windows) the allocator is left as it is.
pub fn limit_allocator_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets a tunable of the process's allocator; called at start.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}

/// Lets the server keep as many connections as the system allows (the soft limit on open
/// files, often 1,024, up to the hard one), so slow clients cannot use up its descriptors.
#[cfg(not(unix))]
pub fn raise_open_files_limit() {}

/// Lets the server keep as many connections as the system allows (the soft limit on open
/// files, often 1,024, up to the hard one), so slow clients cannot use up its descriptors.
#[cfg(unix)]
pub fn raise_open_files_limit() {
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

//! A throwaway PostgreSQL cluster for the tests: Debian's `postgresql` binaries, `initdb` and
//! `pg_ctl` run as an unprivileged user (`postgres` when the tests run as root), reached only
//! through a Unix socket in its own 0700 folder (no TCP port to race for or to expose), one
//! cluster per test process, each test in a database of its own. The
//! cluster stops and its folder goes when the process exits; one left by a killed run is
//! removed by the next.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

/// Whether this run's stores are PostgreSQL (`LINER_TEST_STORE=postgres`, as `cargo xtask
/// test` runs the server suite a second time) rather than SQLite.
pub fn enabled() -> bool {
    std::env::var("LINER_TEST_STORE").is_ok_and(|v| v == "postgres")
}

pub struct Cluster {
    root: PathBuf,
    bin: PathBuf,
    pub port: u16,
    /// Runs the cluster's commands as this user (when the tests run as root).
    run_as: Option<String>,
}

const PREFIX: &str = "liner-test-pg-";

static CLUSTER: OnceLock<Cluster> = OnceLock::new();

impl Cluster {
    /// This process's cluster, started on first use; for tests: durability off (a test
    /// kills servers, never the database), so it runs at memory speed.
    pub fn get() -> &'static Cluster {
        CLUSTER.get_or_init(|| Cluster::start(false))
    }

    /// This process's cluster started as a deployment runs it (fsync and synchronous
    /// commits on), for benchmarks; whichever of the two a process asks for first is the one
    /// it has.
    pub fn durable() -> &'static Cluster {
        CLUSTER.get_or_init(|| Cluster::start(true))
    }

    fn start(durable: bool) -> Cluster {
        let bin = pg_bin();
        remove_stale(&bin);
        let root = std::env::temp_dir().join(format!("{PREFIX}{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        // SAFETY: geteuid has no preconditions.
        let run_as = (unsafe { libc::geteuid() } == 0).then(|| "postgres".to_owned());
        if let Some(user) = &run_as {
            let id = |flag: &str| -> u32 {
                let out = Command::new("id").args([flag, user]).output().unwrap();
                String::from_utf8(out.stdout)
                    .unwrap()
                    .trim()
                    .parse()
                    .unwrap_or_else(|_| {
                        panic!(
                            "the tests run as root, and PostgreSQL will not: they run it as \
                             the user {user:?}, which does not exist (Debian's postgresql \
                             package makes it)"
                        )
                    })
            };
            std::os::unix::fs::chown(&root, Some(id("-u")), Some(id("-g"))).unwrap();
        }
        // Only its owner (and root) may reach the cluster: it trusts whoever connects.
        std::fs::set_permissions(&root, std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .unwrap();
        // Its socket is in its own folder, so the usual port is free for it.
        let port = 5432;
        let cluster = Cluster {
            root,
            bin,
            port,
            run_as,
        };
        let data = cluster.data();
        cluster.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "liner",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        let fast = if durable {
            ""
        } else {
            " -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
        };
        // No TCP at all: a Unix socket in the cluster's private folder.
        let options = format!(
            "-c listen_addresses='' -c port={port} -k {} -c max_connections=400{fast}",
            cluster.root.display()
        );
        let log = cluster.root.join("log").display().to_string();
        cluster.run(
            "pg_ctl",
            &["-D", &data, "-l", &log, "-o", &options, "-w", "start"],
        );
        extern "C" fn stop_at_exit() {
            if let Some(c) = CLUSTER.get() {
                c.stop();
            }
        }
        // SAFETY: registering a plain function to run when the process exits.
        unsafe { libc::atexit(stop_at_exit) };
        cluster
    }

    fn data(&self) -> String {
        self.root.join("data").display().to_string()
    }

    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(path);
                c
            }
            None => Command::new(path),
        }
    }

    fn run(&self, program: &str, args: &[&str]) {
        let out = self.command(program).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{program} {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn stop(&self) {
        let _ = self
            .command("pg_ctl")
            .args(["-D", &self.data(), "-m", "immediate", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.root);
    }

    /// The cluster's main process (its other processes are its children).
    pub fn postmaster(&self) -> Option<u32> {
        std::fs::read_to_string(self.root.join("data/postmaster.pid"))
            .ok()?
            .lines()
            .next()?
            .trim()
            .parse()
            .ok()
    }

    /// The address of a database of this cluster.
    pub fn url(&self, database: &str) -> String {
        // The socket's folder as the host, percent-encoded.
        let host = self.root.display().to_string().replace('/', "%2F");
        format!("postgres://liner@{host}:{}/{database}", self.port)
    }

    /// A new, empty database; its address.
    pub fn new_database(&self) -> String {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!("t{}", NEXT.fetch_add(1, Ordering::Relaxed));
        self.sql("postgres", &format!("CREATE DATABASE {name}"));
        self.url(&name)
    }

    /// Runs SQL in a database (psql, as the cluster's superuser); its output, unaligned.
    pub fn sql(&self, database: &str, sql: &str) -> String {
        let out = Command::new(self.bin.join("psql"))
            .arg("-h")
            .arg(&self.root)
            .args(["-p", &self.port.to_string()])
            .args(["-U", "liner", "-d", database, "-X", "-A", "-t", "-v"])
            .arg("ON_ERROR_STOP=1")
            .args(["-c", sql])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "psql {sql:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
}

/// The database a test folder stands for: made on first use and named in the folder, so
/// opening the same folder again (a restarted server) opens the same database.
pub fn database_for(dir: &Path) -> String {
    let file = dir.join("postgres-url");
    if let Ok(url) = std::fs::read_to_string(&file) {
        return url;
    }
    std::fs::create_dir_all(dir).unwrap();
    let url = Cluster::get().new_database();
    std::fs::write(&file, &url).unwrap();
    url
}

/// Where Debian keeps the PostgreSQL programs (`/usr/lib/postgresql/VERSION/bin`, the newest),
/// or `LINER_PG_BIN`.
fn pg_bin() -> PathBuf {
    if let Some(dir) = std::env::var_os("LINER_PG_BIN") {
        return dir.into();
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .expect(
            "PostgreSQL is not installed: `apt-get install postgresql` (or set LINER_PG_BIN \
             to the folder holding initdb and pg_ctl)",
        )
        .filter_map(|e| {
            let e = e.ok()?;
            let v = e.file_name().to_str()?.parse().ok()?;
            Some((v, e.path().join("bin")))
        })
        .filter(|(_, bin)| bin.join("initdb").exists())
        .collect();
    versions.sort();
    versions
        .pop()
        .expect("no initdb under /usr/lib/postgresql")
        .1
}

/// Stops and removes clusters of test processes that are gone (killed before their exit).
fn remove_stale(bin: &Path) {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(PREFIX)
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        let data = e.path().join("data");
        // SAFETY: geteuid has no preconditions.
        let mut stop = if unsafe { libc::geteuid() } == 0 {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(bin.join("pg_ctl"));
            c
        } else {
            Command::new(bin.join("pg_ctl"))
        };
        let _ = stop
            .args(["-D", &data.display().to_string(), "-m", "immediate", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(e.path());
    }
}

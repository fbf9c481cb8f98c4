//! A simulated label: 50 projects, 200 producers pushing with the real sync client (each a
//! journal and the `TargetSync` the plugin's push thread keeps, appending a burst of notes and
//! pushing it, over and over), and 20 executives long-polling one project each (as the review
//! page and the plugin's pull thread do). Run twice in one process: against 2 `liner serve`
//! processes on one PostgreSQL (a throwaway cluster, fsync and synchronous commit on), and
//! against 1 `liner serve` on SQLite (the baseline).
//!
//! Reported for each: events stored per second (wall time from the first append to the last
//! acknowledgement), p99 push latency (a burst's append to its acknowledgement), p99
//! note-to-reader latency (a note's `at` to an executive holding it; with two servers, half
//! the executives read from the server their project's producers do not push to), the
//! servers' resident memory and the database's (the PostgreSQL processes' proportional set
//! size). Clients, servers and the database share this
//! machine's cores. The note-to-reader p99 is given for the producers' first bursts apart
//! (all 200 sent at the same instant, each the first on its journal's sync folder) and for the
//! bursts after. Targets on PostgreSQL: >= 20,000 events/s, servers and database <= 40 us per
//! event, p99 note-to-reader < 200 ms at saturation and < 50 ms paced.
//!
//! Run: `cargo bench -p liner-server --bench label`. `LINER_BENCH_ONLY=sqlite|postgres` runs
//! that store's throughput run alone (for profiling); `sqlite-paced|postgres-paced` its paced
//! run.

use liner_record::event::{Body, Category, Context, Event, NoteAdded};
use liner_record::sync::{SyncClient, SyncReport, TargetSync};
use liner_record::{Journal, Role};
use liner_server::store::{PgStore, SqliteStore, Store};
use liner_test_support::pg;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

const PROJECTS: usize = 50;
const PRODUCERS: usize = 200;
const EXECUTIVES: usize = 20;
/// Notes per burst.
const BURST: usize = 25;
/// Bursts per producer: as fast as the servers take them, enough for the first bursts (all
/// sent at the same instant, on cold connections and caches) to be a small share of the
/// notes, so that the p99 is the steady state's; paced, one a second.
const SATURATED_BURSTS: usize = 48;
const PACED_BURSTS: usize = 12;

/// Bursts per producer in a run with `pace` (none: as fast as the servers take them).
fn bursts(pace: Option<Duration>) -> usize {
    if pace.is_some() {
        PACED_BURSTS
    } else {
        SATURATED_BURSTS
    }
}

struct Report {
    events: usize,
    seconds: f64,
    push_p50: Duration,
    push_p99: Duration,
    read_p50: Duration,
    read_p99: Duration,
    /// p99 note-to-reader of the producers' first bursts (all sent at the same instant, on
    /// cold connections, journals and sync folders) and of the bursts after.
    read_p99_first: Duration,
    read_p99_later: Duration,
    read_count: usize,
    server_mib: f64,
    database_mib: Option<f64>,
    /// CPU seconds spent by the clients (this process), the servers and the database.
    cpu: Cpu,
}

/// Note `i` of a producer (its burst is `i / BURST`).
fn note(project: &str, author: &str, i: usize) -> Event {
    Event::new(
        &Context {
            project: project.into(),
            song: "Song".into(),
            track: "Vox".into(),
            session: uuid::Uuid::now_v7(),
            author: author.into(),
            role: Role::Producer,
        },
        None,
        Body::NoteAdded(NoteAdded {
            text: format!("note {i}: the second chorus vocal sits a touch loud"),
            category: Category::Vocal,
            anchor: None,
            take: None,
            private: false,
            version: None,
            guest: None,
        }),
    )
}

/// Whether `e` is a note of a producer's first burst (see [`note`]).
fn in_first_burst(e: &Event) -> bool {
    let Body::NoteAdded(n) = &e.body else {
        return false;
    };
    let number = n.text.strip_prefix("note ").and_then(|t| t.split_once(':'));
    number
        .and_then(|(i, _)| i.parse::<usize>().ok())
        .is_some_and(|i| i < BURST)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `liner serve` with `args` (the database); waits until it serves. Returns it and its URL.
fn serve(args: &[&str]) -> (Child, String) {
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_liner"))
        .args(args)
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--max-connections",
            "10000",
            // Every simulated client is on this machine: one address for all of them.
            "--max-connections-per-address",
            "10000",
        ])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    loop {
        let mut line = String::new();
        assert!(out.read_line(&mut line).unwrap() > 0, "liner serve exited");
        if line.starts_with("Serving the record on") {
            break;
        }
    }
    std::thread::spawn(move || for _ in out.lines() {});
    (child, format!("http://127.0.0.1:{port}"))
}

/// Resident (or, with `pss`, proportional) memory of a process in MiB.
fn memory_mib(pid: u32, pss: bool) -> f64 {
    let (file, key) = if pss {
        ("smaps_rollup", "Pss:")
    } else {
        ("status", "VmRSS:")
    };
    std::fs::read_to_string(format!("/proc/{pid}/{file}"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// CPU seconds (user and system) a process has used.
fn cpu_seconds(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the command.
    let ticks: f64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i)?.parse::<f64>().ok())
        .sum();
    // SAFETY: sysconf has no preconditions.
    ticks / unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64
}

/// A process and its children (PostgreSQL's backends are the postmaster's).
fn with_children(parent: u32) -> Vec<u32> {
    let mut pids = vec![parent];
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
        // pid (comm) state ppid ...: the command may hold spaces, so read after the ')'.
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if ppid == Some(parent) {
            pids.push(pid);
        }
    }
    pids
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Events, seconds, push latencies, and note-to-reader latencies (each with whether the note
/// was of a first burst), sorted.
type Ran = (usize, f64, Vec<Duration>, Vec<(Duration, bool)>);
/// CPU seconds of the clients (this process), the servers and the database.
type Cpu = (f64, f64, f64);

/// One run against `servers` (the projects are in their record): each producer (project,
/// token) appends and pushes its bursts, `pace` apart if given; each executive (project e)
/// long-polls its project until it has every note. Returns the events, the seconds from the
/// start to the last acknowledgement, and the push and note-to-reader latencies, sorted; and
/// what `sample` gave at the start (every client set up).
fn run(
    servers: &[String],
    producers: &[Member],
    executives: &[Member],
    pace: Option<Duration>,
    sample: &dyn Fn() -> Cpu,
) -> (Ran, Cpu) {
    let bursts = bursts(pace);
    let per_project = PRODUCERS / PROJECTS * bursts * BURST;
    let start = Arc::new(Barrier::new(PRODUCERS + EXECUTIVES + 1));
    let deadline = Instant::now() + Duration::from_secs(600);
    // Producer p pushes to server p % servers, so project e's producers all go to server
    // e % servers. The first half of the executives read from that server; the second half
    // from the next, so their notes come by way of the database's notices.
    let readers: Vec<_> = executives
        .iter()
        .enumerate()
        .map(|(e, (_, token))| {
            let across = usize::from(e >= EXECUTIVES / 2);
            let (url, token, start) = (
                servers[(e + across) % servers.len()].clone(),
                token.clone(),
                start.clone(),
            );
            std::thread::spawn(move || {
                let c = SyncClient::new(&url, &token, Duration::from_secs(30)).unwrap();
                let mut seen = Vec::with_capacity(per_project);
                let mut after = 0;
                start.wait();
                while seen.len() < per_project && Instant::now() < deadline {
                    let Ok((page, last, _)) = c.pull(after, Duration::from_secs(10)) else {
                        continue;
                    };
                    let now = liner_record::event::now_ms();
                    for p in page {
                        let e: Event = serde_json::from_str(&p.raw).unwrap();
                        let late = Duration::from_millis((now - e.at).max(0) as u64);
                        seen.push((late, in_first_burst(&e)));
                    }
                    after = last;
                }
                seen
            })
        })
        .collect();
    let folders = tempfile::tempdir().unwrap();
    let writers: Vec<_> = producers
        .iter()
        .enumerate()
        .map(|(p, (project, token))| {
            let url = servers[p % servers.len()].clone();
            let (project, token, start) = (project.clone(), token.clone(), start.clone());
            let dir = folders.path().join(format!("producer-{p}"));
            std::thread::spawn(move || {
                let author = format!("Producer {p}");
                let j = Journal::open(&dir).unwrap();
                let c = SyncClient::new(&url, &token, Duration::from_secs(30)).unwrap();
                let me = c.me().unwrap();
                let mut target = TargetSync::open(&j, &url, &project).unwrap();
                let mut latencies = Vec::with_capacity(bursts);
                // Events the server has acknowledged (what the push thread learns from each
                // answer; the bench checks the journal's own count at the end).
                let mut acked = 0;
                start.wait();
                let began = Instant::now();
                for b in 0..bursts {
                    if let Some(pace) = pace {
                        // Producers spread over the period, each on its own beat.
                        let due = began + pace * b as u32 + pace * p as u32 / PRODUCERS as u32;
                        std::thread::sleep(due.saturating_duration_since(Instant::now()));
                    }
                    let burst: Vec<Event> = (0..BURST)
                        .map(|i| note(&project, &author, b * BURST + i))
                        .collect();
                    let appended = Instant::now();
                    j.append(&burst).unwrap();
                    loop {
                        target.refresh().unwrap();
                        let mut report = SyncReport::new(me.clone());
                        let pushed = target.push(&c, &mut report);
                        acked += report.pushed;
                        if pushed.is_ok() && acked == (b + 1) * BURST {
                            break;
                        }
                        assert!(Instant::now() < deadline, "pushes never went through");
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    latencies.push(appended.elapsed());
                }
                // Checked once every producer is done: the check is not a producer's work.
                (latencies, j, url)
            })
        })
        .collect();
    start.wait();
    let began = Instant::now();
    let at_start = sample();
    let done: Vec<_> = writers.into_iter().map(|w| w.join().unwrap()).collect();
    let seconds = began.elapsed().as_secs_f64();
    let mut pushes = Vec::with_capacity(PRODUCERS * bursts);
    for (latencies, journal, url) in done {
        assert!(
            journal.unacked_by(&url).unwrap().is_empty(),
            "every note acknowledged"
        );
        pushes.extend(latencies);
    }
    let mut reads: Vec<(Duration, bool)> = readers
        .into_iter()
        .flat_map(|r| r.join().unwrap())
        .collect();
    assert_eq!(
        reads.len(),
        EXECUTIVES * per_project,
        "an executive missed notes"
    );
    pushes.sort();
    reads.sort();
    (
        (PRODUCERS * bursts * BURST, seconds, pushes, reads),
        at_start,
    )
}

/// Creates the projects, producers and executives in `store`: (project, token) each.
/// A person's (project, token secret).
type Member = (String, String);

fn people(store: &dyn Store) -> (Vec<Member>, Vec<Member>) {
    let projects: Vec<String> = (0..PROJECTS).map(|p| format!("Record {p}")).collect();
    for p in &projects {
        store.create_project(p).unwrap();
    }
    let producers = (0..PRODUCERS)
        .map(|p| {
            let project = projects[p % PROJECTS].clone();
            let token = store
                .add_token(&project, &format!("Producer {p}"), Role::Producer)
                .unwrap()
                .1;
            (project, token)
        })
        .collect();
    let executives = (0..EXECUTIVES)
        .map(|e| {
            let project = projects[e].clone();
            let token = store
                .add_token(&project, &format!("Executive {e}"), Role::Executive)
                .unwrap()
                .1;
            (project, token)
        })
        .collect();
    (producers, executives)
}

fn report(
    name: &'static str,
    (events, seconds, pushes, reads): Ran,
    server_mib: f64,
    database_mib: Option<f64>,
    cpu: Cpu,
) -> Report {
    let of = |first: Option<bool>| -> Vec<Duration> {
        reads
            .iter()
            .filter(|(_, f)| first.is_none_or(|first| *f == first))
            .map(|(d, _)| *d)
            .collect()
    };
    let all = of(None);
    let r = Report {
        events,
        seconds,
        push_p50: percentile(&pushes, 0.5),
        push_p99: percentile(&pushes, 0.99),
        read_p50: percentile(&all, 0.5),
        read_p99: percentile(&all, 0.99),
        read_p99_first: percentile(&of(Some(true)), 0.99),
        read_p99_later: percentile(&of(Some(false)), 0.99),
        read_count: all.len(),
        server_mib,
        database_mib,
        cpu,
    };
    println!(
        "{name:<24} {:>9.0} events/s ({} in {:.2} s)  push p50 {:>6.1} ms p99 {:>6.1} ms  \
         note->reader p50 {:>6.1} ms p99 {:>6.1} ms ({} reads)  servers {:>6.1} MiB  database {}",
        r.events as f64 / r.seconds,
        r.events,
        r.seconds,
        ms(r.push_p50),
        ms(r.push_p99),
        ms(r.read_p50),
        ms(r.read_p99),
        r.read_count,
        r.server_mib,
        r.database_mib
            .map_or_else(|| "(in the server)".to_owned(), |m| format!("{m:.1} MiB")),
    );
    println!(
        "{:<24} note->reader p99 of the first bursts {:.1} ms, of the later ones {:.1} ms",
        "",
        ms(r.read_p99_first),
        ms(r.read_p99_later)
    );
    println!(
        "{:<24} CPU: clients {:.1} s, servers {:.1} s, database {:.1} s (of {:.1} s x 2 cores)",
        "", r.cpu.0, r.cpu.1, r.cpu.2, r.seconds
    );
    r
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The stores a scenario runs on.
#[derive(Clone, Copy)]
enum Setup {
    /// One `liner serve` on SQLite.
    Sqlite,
    /// Two `liner serve` processes on one PostgreSQL database.
    Postgres,
}

/// Runs one scenario on a fresh record: `pace` spaces each producer's bursts (None: as fast as
/// the servers take them).
fn scenario(setup: Setup, pace: Option<Duration>) -> Report {
    let data = tempfile::tempdir().unwrap();
    let data_arg = data.path().to_str().unwrap().to_owned();
    let (name, args, cluster) = match setup {
        Setup::Sqlite => (
            "SQLite, 1 server",
            vec!["--data".to_owned(), data_arg],
            None,
        ),
        Setup::Postgres => {
            let cluster = pg::Cluster::durable();
            let database = cluster.new_database();
            (
                "PostgreSQL, 2 servers",
                vec![
                    "--data".to_owned(),
                    data_arg,
                    "--database".to_owned(),
                    database,
                ],
                Some(cluster),
            )
        }
    };
    let (producers, executives) = match setup {
        Setup::Sqlite => people(&SqliteStore::open(data.path()).unwrap()),
        Setup::Postgres => people(&PgStore::open(&args[3]).unwrap()),
    };
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let count = match setup {
        Setup::Sqlite => 1,
        Setup::Postgres => 2,
    };
    let mut servers: Vec<(Child, String)> = (0..count).map(|_| serve(&args)).collect();
    let urls: Vec<String> = servers.iter().map(|(_, u)| u.clone()).collect();
    let servers_cpu = |servers: &[(Child, String)]| -> f64 {
        servers
            .iter()
            .map(|(c, _)| cpu_seconds(&c.id().to_string()))
            .sum()
    };
    let database_cpu = || -> f64 {
        cluster.and_then(|c| c.postmaster()).map_or(0.0, |pid| {
            with_children(pid)
                .into_iter()
                .map(|p| cpu_seconds(&p.to_string()))
                .sum()
        })
    };
    // Sampled once every client is set up (its connection, journal and sign-in made): the
    // CPU that follows is the run's own.
    let sample = || (cpu_seconds("self"), servers_cpu(&servers), database_cpu());
    // Each scenario starts on a quiet disk, as pgbench's runs do: what the earlier ones wrote
    // (journals, database pages) is flushed now rather than during this one's timed window.
    if let Some(c) = cluster {
        c.sql("postgres", "CHECKPOINT");
    }
    let synced = Command::new("sync").status().unwrap();
    assert!(synced.success(), "sync failed");
    let (ran, before) = run(&urls, &producers, &executives, pace, &sample);
    let cpu = (
        cpu_seconds("self") - before.0,
        servers_cpu(&servers) - before.1,
        database_cpu() - before.2,
    );
    let server_mib = servers.iter().map(|(c, _)| memory_mib(c.id(), false)).sum();
    let database_mib = cluster.and_then(|c| c.postmaster()).map(|pid| {
        with_children(pid)
            .into_iter()
            .map(|p| memory_mib(p, true))
            .sum()
    });
    for (c, _) in &mut servers {
        let _ = c.kill();
        let _ = c.wait();
    }
    report(name, ran, server_mib, database_mib, cpu)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    println!(
        "Label simulation: {PROJECTS} projects, {PRODUCERS} producers (the sync client's push \
         path, bursts of {BURST} notes: {SATURATED_BURSTS} each as fast as the servers take \
         them, {PACED_BURSTS} paced), {EXECUTIVES} executives long-polling. \
         Clients, servers and the database share this machine's cores."
    );
    let rate = |r: &Report| r.events as f64 / r.seconds;
    if let Ok(only) = std::env::var("LINER_BENCH_ONLY") {
        let (store, paced) = only.split_once('-').unwrap_or((only.as_str(), ""));
        let setup = if store == "sqlite" {
            Setup::Sqlite
        } else {
            Setup::Postgres
        };
        let r = scenario(setup, (paced == "paced").then_some(Duration::from_secs(1)));
        println!("{:.0} events/s", rate(&r));
        return;
    }

    println!("\nAs fast as the servers take them (throughput):");
    let sqlite = scenario(Setup::Sqlite, None);
    let postgres = scenario(Setup::Postgres, None);
    println!(
        "PostgreSQL (2 servers) against SQLite (1 server): {:.2}x the events/s",
        rate(&postgres) / rate(&sqlite)
    );
    // What the servers and the database cost per event, without the clients (which share
    // these cores here, and are elsewhere in a label).
    let per_event = |r: &Report| (r.cpu.1 + r.cpu.2) / r.events as f64;
    println!(
        "Servers and database CPU per event stored: SQLite {:.0} us, PostgreSQL {:.0} us (on \
         two cores of their own, PostgreSQL's two servers would store ~{:.0} events/s)",
        per_event(&sqlite) * 1e6,
        per_event(&postgres) * 1e6,
        2.0 / per_event(&postgres)
    );

    let pace = Duration::from_secs(1);
    let offered = (PRODUCERS * BURST) as f64 / pace.as_secs_f64();
    println!(
        "\nPaced: each producer a burst every {} ms, {offered:.0} events/s offered (latency \
         below saturation):",
        pace.as_millis()
    );
    let sqlite_paced = scenario(Setup::Sqlite, Some(pace));
    let postgres_paced = scenario(Setup::Postgres, Some(pace));
    println!(
        "PostgreSQL (2 servers) against SQLite (1 server): p99 note->reader {:.2}x",
        ms(postgres_paced.read_p99) / ms(sqlite_paced.read_p99).max(0.001)
    );

    let verdict = |met: bool| if met { "met" } else { "NOT met" };
    let us = per_event(&postgres) * 1e6;
    println!(
        "\nTargets on PostgreSQL: >= 20,000 events/s stored ({:.0}: {}); servers and database \
         <= 40 us per event ({us:.0}: {}); p99 note->reader < 200 ms at saturation ({:.0} ms: \
         {}) and < 50 ms paced ({:.0} ms: {})",
        rate(&postgres),
        verdict(rate(&postgres) >= 20_000.0),
        verdict(us <= 40.0),
        ms(postgres.read_p99),
        verdict(postgres.read_p99 < Duration::from_millis(200)),
        ms(postgres_paced.read_p99),
        verdict(postgres_paced.read_p99 < Duration::from_millis(50)),
    );
}

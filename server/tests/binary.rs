//! The `liner` binary as a user runs it: first run, admin commands, graceful shutdown on
//! SIGTERM, and a server killed with SIGKILL mid-push and restarted (nothing lost, nothing
//! stored twice).

mod common;

use common::{free_port, liner, liner_bin};
use liner_record::event::{Body, Category, Context, Event, NoteAdded};
use liner_record::sync::{sync_once, SyncClient};
use liner_record::{Journal, Role};
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// Starts `liner serve` and waits until it listens; returns the child and its stdout lines.
fn serve(data: &std::path::Path, port: u16, config: &std::path::Path) -> (Child, Vec<String>) {
    let mut child = liner(data)
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--configure-local-plugin",
        ])
        .env("LINER_NOTES_CONFIG_DIR", config)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = Vec::new();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    loop {
        let mut line = String::new();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "server exited: {lines:?}"
        );
        let serving = line.starts_with("Serving the record on");
        lines.push(line.trim_end().to_owned());
        if serving {
            break;
        }
    }
    // Keep draining so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in out.lines() {});
    (child, lines)
}

fn signal(child: &Child, sig: i32) {
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, sig) };
}

fn note(i: usize) -> Event {
    Event::new(
        &Context {
            project: "My Project".into(),
            song: "S".into(),
            track: "T".into(),
            session: uuid::Uuid::now_v7(),
            author: "Producer".into(),
            role: Role::Producer,
        },
        None,
        Body::NoteAdded(NoteAdded {
            text: format!("note {i}"),
            category: Category::General,
            anchor: None,
            take: None,
            private: false,
            version: None,
            guest: None,
        }),
    )
}

#[test]
fn the_first_run_creates_a_project_and_tokens_once_and_sets_up_the_local_plugin() {
    let data = tempfile::tempdir().unwrap();
    let config = tempfile::tempdir().unwrap();
    let port = free_port();
    let (mut child, lines) = serve(data.path(), port, config.path());
    let text = lines.join("\n");
    assert!(
        text.contains("First run: created project \"My Project\""),
        "{text}"
    );
    let token = |label: &str| {
        lines
            .iter()
            .find_map(|l| l.strip_prefix(label))
            .map(|t| t.trim().to_owned())
            .unwrap_or_else(|| panic!("no {label} in {text}"))
    };
    let exec = token("Executive producer token (for the review page): ");
    let producer = token("Producer token, for the plugin's settings: ");
    assert!(exec.starts_with("ln_") && producer.starts_with("ln_"));
    // The plugin on this computer now defaults to this server with the producer token.
    let settings: serde_json::Value =
        serde_json::from_slice(&std::fs::read(config.path().join("last-settings.json")).unwrap())
            .unwrap();
    assert_eq!(settings["server_url"], format!("http://127.0.0.1:{port}"));
    assert_eq!(settings["author"], "Producer");
    // The token is filed under the server's origin: it only ever goes there.
    let tokens: serde_json::Value =
        serde_json::from_slice(&std::fs::read(config.path().join("tokens.json")).unwrap()).unwrap();
    assert_eq!(
        tokens[format!("http://127.0.0.1:{port}")],
        producer.as_str(),
        "{tokens}"
    );
    signal(&child, libc::SIGTERM);
    assert!(child.wait().unwrap().success());

    // A later run prints no secrets.
    let (mut child, lines) = serve(data.path(), port, config.path());
    let text = lines.join("\n");
    assert!(!text.contains("ln_"), "{text}");
    assert!(text.contains("already exist"));
    signal(&child, libc::SIGTERM);
    assert!(child.wait().unwrap().success());

    // The CLI lists tokens without secrets and revokes them.
    let list = liner(data.path()).args(["token", "list"]).output().unwrap();
    let list = String::from_utf8(list.stdout).unwrap();
    assert!(
        list.contains("Executive producer\texecutive\tactive"),
        "{list}"
    );
    assert!(!list.contains("ln_"));
    let out = liner(data.path())
        .args([
            "token",
            "add",
            "--project",
            "My Project",
            "--name",
            "Kim",
            "--role",
            "boss",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown role"));
}

#[test]
fn a_server_killed_mid_push_and_restarted_loses_nothing_and_stores_nothing_twice() {
    let data = tempfile::tempdir().unwrap();
    let config = tempfile::tempdir().unwrap();
    let port = free_port();
    let (mut child, lines) = serve(data.path(), port, config.path());
    let producer = lines
        .iter()
        .find_map(|l| l.strip_prefix("Producer token, for the plugin's settings: "))
        .unwrap()
        .trim()
        .to_owned();
    let url = format!("http://127.0.0.1:{port}");
    let dir = tempfile::tempdir().unwrap();
    let j = Journal::open(dir.path()).unwrap();
    let client = SyncClient::new(&url, &producer, Duration::from_secs(5)).unwrap();
    let events: Vec<Event> = (0..3000).map(note).collect();
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut kills = 0;
    for (round, chunk) in events.chunks(600).enumerate() {
        j.append(chunk).unwrap();
        // Kill the server while this round's pushes are in flight (SIGKILL: no goodbye),
        // or stop it gracefully (SIGTERM), then bring it back.
        let pusher = {
            let (url, producer, dir) = (url.clone(), producer.clone(), dir.path().to_owned());
            std::thread::spawn(move || {
                let j = Journal::open(dir).unwrap();
                let c = SyncClient::new(&url, &producer, Duration::from_secs(5)).unwrap();
                let _ = sync_once(&j, "My Project", &c, Duration::ZERO);
            })
        };
        std::thread::sleep(Duration::from_millis(5 + 7 * round as u64));
        signal(
            &child,
            if round % 2 == 0 {
                libc::SIGKILL
            } else {
                libc::SIGTERM
            },
        );
        child.wait().unwrap();
        kills += 1;
        pusher.join().unwrap();
        child = serve(data.path(), port, config.path()).0;
    }
    // Sync until everything is acknowledged.
    loop {
        assert!(Instant::now() < deadline, "never caught up");
        if let Ok(r) = sync_once(&j, "My Project", &client, Duration::ZERO) {
            if r.waiting.is_empty() && j.unacked_by(&url).unwrap().is_empty() {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = liner(data.path())
        .args(["project", "list"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("My Project"));
    // Read everything back through the API: every event once.
    let (pulled, _) = {
        let mut all = Vec::new();
        let mut after = 0;
        loop {
            let (page, last, _) = client.pull(after, Duration::ZERO).unwrap();
            if page.is_empty() {
                break (all, last);
            }
            after = last;
            all.extend(page);
        }
    };
    let ids: std::collections::HashSet<uuid::Uuid> = pulled
        .iter()
        .map(|p| serde_json::from_str::<Event>(&p.raw).unwrap().id)
        .collect();
    assert_eq!(pulled.len(), ids.len(), "an event stored twice");
    assert_eq!(ids.len(), events.len());
    assert!(events.iter().all(|e| ids.contains(&e.id)));
    assert_eq!(kills, 5);
    signal(&child, libc::SIGTERM);
    assert!(child.wait().unwrap().success());
}

#[test]
fn liner_export_reads_a_local_journal_or_the_servers_database() {
    // A producer who never set up a server: export straight from the journal.
    let dir = tempfile::tempdir().unwrap();
    let j = Journal::open(dir.path()).unwrap();
    let mut placed = note(1);
    placed.pos = Some(liner_record::DawPos {
        seconds: Some(3.0),
        bar: Some(2),
        beat: Some(3.0),
        ..Default::default()
    });
    j.append(&[placed, note(2)]).unwrap();
    let out = liner_bin()
        .args(["export", "--journal"])
        .arg(dir.path())
        .args(["--format", "reaper"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("#,Name,Start,End,Length,Color"), "{text}");
    assert!(
        text.contains("M1,Producer: note 1,0:00:03.000,,,"),
        "{text}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 entries have no DAW position"));

    // From the server's database, to a file, one song, since a date.
    let data = tempfile::tempdir().unwrap();
    {
        let store = common::open_store(data.path());
        let p = liner_server::store::Store::create_project(&*store, "My Project").unwrap();
        let e = note(3);
        liner_server::store::Store::push(
            &*store,
            &p,
            None,
            &[liner_server::store::Incoming::from_event(e)],
        )
        .unwrap();
    }
    let file = data.path().join("log.md");
    let out = liner(data.path())
        .args([
            "export",
            "--project",
            "My Project",
            "--song",
            "S",
            "--since",
            "2020-01-01",
            "--format",
            "markdown",
            "-o",
        ])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let md = std::fs::read_to_string(&file).unwrap();
    assert!(
        md.contains("note 3") && md.starts_with("# Session decision log"),
        "{md}"
    );
    // Clear errors for bad input.
    let out = liner(data.path())
        .args(["export", "--project", "Nope", "--format", "csv"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no project named"));
    let out = liner(data.path())
        .args(["export", "--project", "My Project", "--format", "pdf"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown format"));
}

#[test]
fn a_json_export_imports_back_into_the_same_record() {
    let dir = tempfile::tempdir().unwrap();
    let j = Journal::open(dir.path()).unwrap();
    j.append(&(0..5).map(note).collect::<Vec<_>>()).unwrap();
    let json = dir.path().join("export.json");
    let out = liner_bin()
        .args(["export", "--journal"])
        .arg(dir.path())
        .args(["--format", "json", "-o"])
        .arg(&json)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Into a server database, twice: the second time adds nothing.
    let data = tempfile::tempdir().unwrap();
    liner_server::store::Store::create_project(&*common::open_store(data.path()), "My Project")
        .unwrap();
    for expect in ["imported 5 new events", "imported 0 new events"] {
        let out = liner(data.path())
            .args(["import", "--project", "My Project"])
            .arg(&json)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains(expect));
    }
    // Exported again from the server: the same bytes.
    let again = data.path().join("again.json");
    let out = liner(data.path())
        .args([
            "export",
            "--project",
            "My Project",
            "--format",
            "json",
            "-o",
        ])
        .arg(&again)
        .output()
        .unwrap();
    assert!(out.status.success());
    // The same record, plus the server's audit trail (imported by an administrator: no
    // token, a received time).
    let first = std::fs::read_to_string(&json).unwrap();
    let again_text = std::fs::read_to_string(&again).unwrap();
    let (record, trail) = again_text.split_once(",\"received\":").unwrap();
    assert_eq!(first.strip_suffix("}\n").unwrap(), record);
    let trail: serde_json::Value =
        serde_json::from_str(trail.strip_suffix("}\n").unwrap()).unwrap();
    assert_eq!(trail.as_object().unwrap().len(), 5);
    assert!(trail
        .as_object()
        .unwrap()
        .values()
        .all(|r| r["received_at"].as_i64().unwrap() > 0 && r.get("token").is_none()));
    // And into another journal.
    let other = tempfile::tempdir().unwrap();
    let out = liner(data.path())
        .args(["import", "--journal"])
        .arg(other.path())
        .arg(&json)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        Journal::open(other.path())
            .unwrap()
            .scan()
            .unwrap()
            .ids
            .len(),
        5
    );
    // Not an export: a clear error.
    std::fs::write(&again, b"{}").unwrap();
    let out = liner(data.path())
        .args(["import", "--project", "My Project"])
        .arg(&again)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a Liner Notes export"));
}

/// A producer who closed the DAW offline syncs later without opening it: `liner sync` pushes
/// and pulls every journal that names a server it holds a token for, and says what moved and
/// what was refused.
#[test]
fn liner_sync_sends_what_the_daw_left_behind() {
    let data = tempfile::tempdir().unwrap();
    let config = tempfile::tempdir().unwrap();
    let port = free_port();
    let (mut child, lines) = serve(data.path(), port, config.path());
    let producer = lines
        .iter()
        .find_map(|l| l.strip_prefix("Producer token, for the plugin's settings: "))
        .unwrap()
        .trim()
        .to_owned();
    let url = format!("http://127.0.0.1:{port}");
    // The plugin's data folder: a journal that synced once (so it names the server), then
    // got more notes while the server was out of reach, one of them too long.
    let plugin_data = tempfile::tempdir().unwrap();
    let dir = liner_record::journal::project_dir(plugin_data.path(), "My Project");
    let j = Journal::open(&dir).unwrap();
    j.append(&[note(1)]).unwrap();
    let c = SyncClient::new(&url, &producer, Duration::from_secs(5)).unwrap();
    sync_once(&j, "My Project", &c, Duration::ZERO).unwrap();
    let mut long = note(3);
    if let Body::NoteAdded(n) = &mut long.body {
        n.text = "x".repeat(10_001);
    }
    j.append(&[note(2), long.clone(), note(4)]).unwrap();

    let run_with = |config: &std::path::Path, args: &[&str]| {
        let out = liner_bin()
            .args(args)
            .env("LINER_NOTES_DATA_DIR", plugin_data.path())
            .env("LINER_NOTES_CONFIG_DIR", config)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    // On a computer without a token for it, nothing is sent, and it says so.
    let elsewhere = tempfile::tempdir().unwrap();
    let (ok, text) = run_with(elsewhere.path(), &["sync"]);
    assert!(ok, "{text}");
    assert!(text.contains("no token for this server"), "{text}");
    assert_eq!(j.unacked_by(&url).unwrap().len(), 3);
    // With the token the first run stored for this server (--configure-local-plugin).
    let run = |args: &[&str]| run_with(config.path(), args);
    let (ok, text) = run(&["sync"]);
    assert!(ok, "{text}");
    assert!(text.contains("pushed 2, pulled 0, refused 1"), "{text}");
    assert!(text.contains(&format!("refused {}", long.id)), "{text}");
    assert!(text.contains("10000"), "{text}");
    // Again: nothing new; and a named journal works the same.
    let (ok, text) = run(&["sync", "--journal", dir.to_str().unwrap()]);
    assert!(ok, "{text}");
    assert!(
        text.contains("pushed 0, pulled 0, refused 0, waiting 1"),
        "{text}"
    );
    assert_eq!(j.unacked_by(&url).unwrap().len(), 1);
    signal(&child, libc::SIGTERM);
    assert!(child.wait().unwrap().success());
    // The server gone: a clear failure.
    let (ok, text) = run(&["sync"]);
    assert!(!ok);
    assert!(text.contains("cannot be reached"), "{text}");
}

/// Finding 2 (shutdown): with half-sent requests open, SIGTERM did not stop the server within
/// 20 s. Now it stops within its deadline, with long polls open too, and nothing it
/// acknowledged is lost.
#[test]
fn sigterm_stops_the_server_within_its_deadline_whatever_clients_hold_open() {
    use std::io::Write;
    let data = tempfile::tempdir().unwrap();
    let config = tempfile::tempdir().unwrap();
    let port = free_port();
    let (mut child, lines) = serve(data.path(), port, config.path());
    let producer = lines
        .iter()
        .find_map(|l| l.strip_prefix("Producer token, for the plugin's settings: "))
        .unwrap()
        .trim()
        .to_owned();
    let url = format!("http://127.0.0.1:{port}");
    let dir = tempfile::tempdir().unwrap();
    let j = Journal::open(dir.path()).unwrap();
    j.append(&(0..50).map(note).collect::<Vec<_>>()).unwrap();
    let c = SyncClient::new(&url, &producer, Duration::from_secs(5)).unwrap();
    assert_eq!(
        sync_once(&j, "My Project", &c, Duration::ZERO)
            .unwrap()
            .pushed,
        50
    );
    // Three half-sent requests and a long poll.
    let _half: Vec<std::net::TcpStream> = (0..3)
        .map(|_| {
            let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
            s.write_all(
                b"POST /api/v1/events HTTP/1.1\r\nHost: x\r\ncontent-length: 1000\r\n\r\n{\"ev",
            )
            .unwrap();
            s
        })
        .collect();
    let poll = {
        let (url, producer) = (url.clone(), producer.clone());
        std::thread::spawn(move || {
            let c = SyncClient::new(&url, &producer, Duration::from_secs(40)).unwrap();
            c.pull(1_000, Duration::from_secs(30))
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    let asked = Instant::now();
    signal(&child, libc::SIGTERM);
    let status = child.wait().unwrap();
    let took = asked.elapsed();
    assert!(status.success(), "{status}");
    assert!(
        took < Duration::from_secs(8),
        "the server took {took:?} to stop"
    );
    assert!(poll.join().unwrap().is_ok(), "the long poll was answered");
    // Everything acknowledged is there after a restart.
    let (mut child, _) = serve(data.path(), port, config.path());
    let c = SyncClient::new(&url, &producer, Duration::from_secs(5)).unwrap();
    let r = sync_once(&j, "My Project", &c, Duration::ZERO).unwrap();
    assert_eq!(r.pushed, 0);
    let all = liner(data.path())
        .args(["export", "--project", "My Project", "--format", "csv"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&all.stdout).lines().count(), 51);
    signal(&child, libc::SIGTERM);
    assert!(child.wait().unwrap().success());
}

/// Finding 5: with the config disk full the first run printed the tokens, failed, left a
/// `.tmp`, and the next run never set the plugin up. Now a failed first run creates nothing
/// and prints no secret, and the next run completes it. The secrets are the owner's only.
#[cfg(unix)]
#[test]
fn a_first_run_completes_or_leaves_nothing_and_secrets_are_private_from_the_first_byte() {
    use std::os::unix::fs::PermissionsExt;
    let data = tempfile::tempdir().unwrap();
    let unwritable = tempfile::NamedTempFile::new().unwrap(); // a file where a folder goes
    let out = liner(data.path())
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--configure-local-plugin",
        ])
        .env("LINER_NOTES_CONFIG_DIR", unwritable.path().join("config"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(!printed.contains("ln_"), "no secret printed: {printed}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("created nothing"));
    let list = liner(data.path())
        .args(["project", "list"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&list.stdout).trim(), "");

    let config = tempfile::tempdir().unwrap();
    let (mut child, lines) = serve(data.path(), free_port(), config.path());
    assert!(lines
        .iter()
        .any(|l| l.starts_with("Executive producer token")));
    assert!(lines
        .iter()
        .any(|l| l.contains("already set up for the plugin")));
    signal(&child, libc::SIGTERM);
    assert!(child.wait().unwrap().success());
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    if !common::pg::enabled() {
        // (On PostgreSQL the record is the database server's to keep.)
        assert_eq!(mode(&data.path().join("liner.db")), 0o600);
    }
    assert_eq!(mode(&config.path().join("tokens.json")), 0o600);
    assert_eq!(mode(&config.path().join("last-settings.json")), 0o600);
    assert!(std::fs::read_dir(config.path()).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .ends_with(".tmp")));
    // A journal (which holds private notes) and its folder.
    let plugin_data = tempfile::tempdir().unwrap();
    let dir = liner_record::journal::project_dir(plugin_data.path(), "P");
    let j = Journal::open(&dir).unwrap();
    j.append(&[note(1)]).unwrap();
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join("events.log")), 0o600);
}

/// Finding 6: `liner import FILE --journal newj` with a relative folder that did not exist
/// failed the first time.
#[test]
fn an_import_into_a_new_relative_journal_folder_works_the_first_time() {
    let work = tempfile::tempdir().unwrap();
    let source = Journal::open(work.path().join("source")).unwrap();
    source
        .append(&(0..3).map(note).collect::<Vec<_>>())
        .unwrap();
    let out = liner_bin()
        .current_dir(work.path())
        .args([
            "export",
            "--journal",
            "source",
            "--format",
            "json",
            "-o",
            "x.json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = liner_bin()
        .current_dir(work.path())
        .args(["import", "x.json", "--journal", "newj"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("imported 3 new events"));
}

/// Lets this test process hold a thousand connections (the soft open-files limit is often
/// 1,024).
fn raise_open_files_limit() {
    // SAFETY: getrlimit/setrlimit on our own process, with a struct we own.
    unsafe {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 {
            lim.rlim_cur = lim.rlim_max.min(1 << 16);
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

/// The load test: 500 clients sending their headers slowly and 500 long polls held open,
/// while ordinary clients push and pull. Every ordinary request is answered within 1 s;
/// SIGTERM then stops the server within its deadline, and everything it acknowledged is
/// there after a restart.
#[test]
fn under_500_slow_clients_and_500_long_polls_ordinary_requests_are_answered_in_time() {
    use std::io::Write;
    raise_open_files_limit();
    let data = tempfile::tempdir().unwrap();
    let config = tempfile::tempdir().unwrap();
    let port = free_port();
    let (mut child, lines) = serve(data.path(), port, config.path());
    let token = |label: &str| {
        lines
            .iter()
            .find_map(|l| l.strip_prefix(label))
            .unwrap()
            .trim()
            .to_owned()
    };
    let producer = token("Producer token, for the plugin's settings: ");
    let exec = token("Executive producer token (for the review page): ");
    let connect = || std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut slow: Vec<std::net::TcpStream> = (0..500)
        .map(|_| {
            let mut s = connect();
            s.write_all(b"GET /api/v1/health HTTP/1.1\r\n").unwrap();
            s
        })
        .collect();
    let polls: Vec<std::net::TcpStream> = (0..500)
        .map(|_| {
            let mut s = connect();
            write!(
                s,
                "GET /api/v1/events?after=1000000&wait=30 HTTP/1.1\r\nHost: x\r\n\
                 Authorization: Bearer {exec}\r\n\r\n"
            )
            .unwrap();
            s
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let url = format!("http://127.0.0.1:{port}");
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let (url, producer) = (url.clone(), producer.clone());
            std::thread::spawn(move || {
                let dir = tempfile::tempdir().unwrap();
                let j = Journal::open(dir.path()).unwrap();
                let c = SyncClient::new(&url, &producer, Duration::from_secs(5)).unwrap();
                let mut slowest = Duration::ZERO;
                let mut made = 0;
                for round in 0..20 {
                    j.append(&[note(w * 1000 + round)]).unwrap();
                    made += 1;
                    let t = Instant::now();
                    let r = sync_once(&j, "My Project", &c, Duration::ZERO).unwrap();
                    assert_eq!(r.pushed, 1);
                    slowest = slowest.max(t.elapsed());
                }
                (slowest, made)
            })
        })
        .collect();
    // The slow clients keep trickling meanwhile.
    for _ in 0..4 {
        for s in &mut slow {
            let _ = s.write_all(b"X");
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    let mut pushed = 0;
    for w in workers {
        let (slowest, made) = w.join().unwrap();
        // A round is three requests (who am I, push, pull).
        assert!(slowest < Duration::from_secs(3), "a round took {slowest:?}");
        pushed += made;
    }
    let t = Instant::now();
    let r = reqwest::blocking::get(format!("{url}/api/v1/health")).unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    assert!(t.elapsed() < Duration::from_secs(1));

    let asked = Instant::now();
    signal(&child, libc::SIGTERM);
    assert!(child.wait().unwrap().success());
    let took = asked.elapsed();
    eprintln!("stopping took {took:?}");
    assert!(took < Duration::from_secs(8), "stopping took {took:?}");
    drop((slow, polls));
    let (mut child, _) = serve(data.path(), port, config.path());
    let all = liner(data.path())
        .args(["export", "--project", "My Project", "--format", "csv"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&all.stdout).lines().count(),
        pushed + 1
    );
    signal(&child, libc::SIGTERM);
    assert!(child.wait().unwrap().success());
}

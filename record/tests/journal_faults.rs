//! The journal under faults, with real processes: many writers at once, and writers killed
//! with SIGKILL at random points.

use liner_record::event::{Body, Context, Event, Role};
use liner_record::Journal;
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;
use uuid::Uuid;

const CHILD: &str = "LINER_JOURNAL_TEST_CHILD";

fn child_command(test: &str, dir: &std::path::Path, writer: u32) -> Command {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, test)
        .env("JOURNAL_DIR", dir)
        .env("WRITER", writer.to_string());
    c
}

fn is_child(test: &str) -> bool {
    std::env::var(CHILD).is_ok_and(|v| v == test)
}

fn mark(writer: u32, number: u32) -> Event {
    Event::new(
        &Context {
            project: "P".into(),
            song: "S".into(),
            track: format!("writer {writer}"),
            session: Uuid::now_v7(),
            author: "test".into(),
            role: Role::Engineer,
        },
        None,
        Body::Mark {
            instance: Uuid::from_u128(writer as u128),
            number,
            label: Some("x".repeat(200)),
        },
    )
}

const WRITERS: u32 = 4;
const PER_WRITER: u32 = 300;
const CONCURRENT: &str = "several_processes_appending_at_once_store_every_event_exactly_once";

#[test]
fn several_processes_appending_at_once_store_every_event_exactly_once() {
    if is_child(CONCURRENT) {
        // Each process appends from three threads, in batches of 1 to 5.
        let j = Journal::open(std::env::var("JOURNAL_DIR").unwrap()).unwrap();
        let writer: u32 = std::env::var("WRITER").unwrap().parse().unwrap();
        let threads: Vec<_> = (0..3u32)
            .map(|t| {
                let j = j.clone();
                std::thread::spawn(move || {
                    let mut n = t;
                    let mut batch = Vec::new();
                    while n < PER_WRITER {
                        batch.push(mark(writer, n));
                        n += 3;
                        if batch.len() as u32 == 1 + n % 5 || n >= PER_WRITER {
                            j.append(&batch).unwrap();
                            batch.clear();
                        }
                    }
                    if !batch.is_empty() {
                        j.append(&batch).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        std::process::exit(0);
    }
    let dir = tempfile::tempdir().unwrap();
    let children: Vec<_> = (0..WRITERS)
        .map(|w| child_command(CONCURRENT, dir.path(), w).spawn().unwrap())
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let report = Journal::open(dir.path()).unwrap().read().unwrap();
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    assert_eq!(report.duplicates, 0);
    let mut per_writer: HashMap<Uuid, Vec<u32>> = HashMap::new();
    for e in &report.events {
        match e.event.body {
            Body::Mark {
                instance, number, ..
            } => per_writer.entry(instance).or_default().push(number),
            _ => panic!("unexpected event"),
        }
    }
    assert_eq!(per_writer.len(), WRITERS as usize);
    for (_, mut numbers) in per_writer {
        numbers.sort();
        assert_eq!(numbers, (0..PER_WRITER).collect::<Vec<_>>());
    }
}

const KILLED: &str = "writers_killed_mid_write_leave_a_journal_that_keeps_every_captured_event";

#[test]
fn writers_killed_mid_write_leave_a_journal_that_keeps_every_captured_event() {
    if is_child(KILLED) {
        // Append big batches forever, reporting each batch once it is durable.
        let j = Journal::open(std::env::var("JOURNAL_DIR").unwrap()).unwrap();
        let writer: u32 = std::env::var("WRITER").unwrap().parse().unwrap();
        let tear = std::env::var("TEAR").is_ok();
        let mut out = std::io::stdout().lock();
        for round in 0u32.. {
            let batch: Vec<Event> = (0..150).map(|i| mark(writer, round * 150 + i)).collect();
            j.append(&batch).unwrap();
            for e in &batch {
                writeln!(out, "{}", e.id).unwrap();
            }
            out.flush().unwrap();
            if tear && round == 2 {
                // Die halfway through writing a line, as a crash inside write() would.
                let line = format!("0badc0de {} {}", Uuid::now_v7(), mark(writer, 0).to_json());
                let mut f = std::fs::OpenOptions::new()
                    .append(true)
                    .open(j.dir().join("events.log"))
                    .unwrap();
                f.write_all(&line.as_bytes()[..line.len() / 2]).unwrap();
                // SAFETY: killing ourselves.
                unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
            }
        }
        unreachable!();
    }
    let dir = tempfile::tempdir().unwrap();
    let mut captured: HashSet<Uuid> = HashSet::new();
    let mut seed: u64 = 0x5eed;
    for round in 0..12u32 {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
        let mut cmd = child_command(KILLED, dir.path(), round);
        let tears = round % 3 == 0;
        if tears {
            cmd.env("TEAR", "1");
        }
        let mut child = cmd.stdout(Stdio::piped()).spawn().unwrap();
        if !tears {
            // Kill it at a random point; a tearing child kills itself mid-line.
            std::thread::sleep(Duration::from_millis(5 + (seed >> 33) % 60));
            // SAFETY: sending SIGKILL to our own child.
            unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
        }
        let stdout = child.stdout.take().unwrap();
        child.wait().unwrap();
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            // A line cut by the kill is not a complete report.
            if let Ok(id) = Uuid::parse_str(&line) {
                captured.insert(id);
            }
        }
        // After every kill the journal opens, keeps every event reported durable, and reports
        // at most the one line the kill may have torn at the end.
        let j = Journal::open(dir.path()).unwrap();
        let report = j.read().unwrap();
        let ids: HashSet<Uuid> = report.events.iter().map(|e| e.id).collect();
        let missing = captured.difference(&ids).count();
        assert_eq!(missing, 0, "round {round}: {missing} captured events lost");
        assert_eq!(report.duplicates, 0);
        for s in &report.skipped {
            assert!(
                s.reason.contains("incomplete last line") || s.reason.contains("corrupt line"),
                "{s:?}"
            );
        }
    }
    assert!(!captured.is_empty(), "the writers never got to write");
    // Torn lines from earlier rounds are closed off by later appends: at most one skipped
    // stretch per kill, each located.
    let report = Journal::open(dir.path()).unwrap().read().unwrap();
    eprintln!(
        "{} events kept after 12 kills; {} torn stretches skipped",
        report.events.len(),
        report.skipped.len()
    );
    assert!(report.skipped.len() <= 12, "{:?}", report.skipped);
    // The four rounds that died mid-line each left exactly such a stretch (more may come
    // from kills that happened to land inside a write).
    assert!(report.skipped.len() >= 4, "{:?}", report.skipped);
    assert!(report.skipped.iter().all(|s| s.line > 0));
}

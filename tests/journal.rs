//! Events captured through the real plugin end up in the project's journal on disk, exactly
//! once; a project opened on another machine brings its events into that machine's journal.
//!
//! Cargo runs tests with `LINER_NOTES_DATA_DIR=target/test-data` (see `.cargo/config.toml`),
//! so these journals are never the user's.

mod common;

use common::host::{capture_log, edit_instance_state, Instance, Timeline};
use liner_record::event::Body;
use liner_record::Journal;
use serde_json::Value;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// The instance's events in its project's journal, once they are all there.
fn journal_events(project: &str, instance: Uuid, at_least: usize) -> Vec<liner_record::Event> {
    let journal = Journal::open_project(project).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, matching) = journal.scan_matching(&instance.to_string()).unwrap();
        let mine: Vec<_> = matching
            .into_iter()
            .filter(|e| match &e.body {
                Body::TakeStarted { take } | Body::TakeEnded { take } => take.instance == instance,
                Body::Mark { instance: i, .. } => *i == instance,
                _ => false,
            })
            .collect();
        if mine.len() >= at_least || Instant::now() > deadline {
            return mine;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_take_and_a_mark_captured_in_the_plugin_are_in_the_journal_exactly_once() {
    let mut plugin = Instance::new();
    let mark = plugin.param_id("Mark");
    let mut p = plugin.activate(48_000.0, 256, 2);
    let mut t = Timeline::new(48_000.0, 120.0, (4, 4));
    t.playing = true;
    let mut pos = 0;
    for block in 0..40 {
        t.recording = (10..30).contains(&block);
        if block == 20 {
            p.set_param(17, mark, 1.0);
        }
        if block == 21 {
            p.set_param(0, mark, 0.0);
        }
        p.process(256, Some(&t.at(pos)));
        pos += 256;
    }
    plugin.deactivate(p);
    let state = capture_log(&plugin.save_state());
    let instance: Uuid = state["instance"].as_str().unwrap().parse().unwrap();
    let project = state["settings"]["project"].as_str().unwrap().to_owned();

    let events = journal_events(&project, instance, 3);
    let kinds: Vec<&str> = events.iter().map(|e| e.body.kind()).collect();
    assert_eq!(kinds, ["take_started", "mark", "take_ended"]);
    // Journaled means drained: the saved state has them too by now.
    let state = capture_log(&plugin.save_state());
    // The same events, same ids, as in the saved state.
    let saved_ids: Vec<&str> = state["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| ["take_started", "take_ended", "mark"].contains(&e["kind"].as_str().unwrap()))
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    let journal_ids: Vec<String> = events.iter().map(|e| e.id.to_string()).collect();
    assert_eq!(saved_ids, journal_ids);
    let mark_pos = events[1].pos.unwrap();
    assert_eq!(mark_pos.samples, Some(20 * 256 + 17));
    // Exactly once: nothing is written twice, not by later polls, not by removing the plugin
    // (which drains and writes one last time).
    drop(plugin);
    let journal = Journal::open_project(&project).unwrap();
    let ids = journal.scan().unwrap().ids;
    for id in &journal_ids {
        let id: Uuid = id.parse().unwrap();
        assert_eq!(ids.iter().filter(|i| **i == id).count(), 1, "{id}");
    }
}

#[test]
fn a_project_opened_on_another_machine_brings_its_events_into_this_journal() {
    // Capture on "machine A".
    let mut a = Instance::new();
    let mark = a.param_id("Mark");
    let mut p = a.activate(48_000.0, 64, 2);
    p.set_param(0, mark, 1.0);
    p.process(64, None);
    a.deactivate(p);
    let deadline = Instant::now() + Duration::from_secs(10);
    while capture_log(&a.save_state())["events"]
        .as_array()
        .unwrap()
        .is_empty()
    {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(5));
    }
    // "Machine B" has never seen this project: give the saved state a project name whose
    // journal does not exist yet.
    let project = format!("Imported {}", Uuid::now_v7());
    let blob = edit_instance_state(&a.save_state(), |inner| {
        inner["settings"]["project"] = Value::String(project.clone());
        for e in inner["events"].as_array_mut().unwrap() {
            e["project"] = Value::String(project.clone());
        }
    });
    assert!(Journal::open_project(&project)
        .unwrap()
        .scan()
        .unwrap()
        .ids
        .is_empty());

    // Machine A is gone (a live instance with the same identity here would be a duplicated
    // track, which gets an identity of its own).
    drop(a);
    let mut b = Instance::new();
    b.load_state(&blob);
    let inner = capture_log(&blob);
    let instance: Uuid = inner["instance"].as_str().unwrap().parse().unwrap();
    let events = journal_events(&project, instance, 1);
    assert_eq!(events.len(), 1);
    let carried_mark = inner["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "mark")
        .unwrap();
    assert_eq!(
        events[0].id.to_string(),
        carried_mark["id"].as_str().unwrap()
    );
    // Brought in from a project file: held back from the server until the user agrees.
    assert_eq!(
        Journal::open_project(&project)
            .unwrap()
            .aside()
            .unwrap()
            .get(&events[0].id),
        Some(&liner_record::journal::Aside::Imported)
    );
    // Loading the same project again adds nothing.
    let count = || {
        Journal::open_project(&project)
            .unwrap()
            .scan()
            .unwrap()
            .ids
            .len()
    };
    let before = count();
    b.load_state(&blob);
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(count(), before);
}

//! A DAW project file is data, never authority, for the real plugin hosted by the test CLAP
//! host: a project naming a foreign server gets no token (nor any request), loading it never
//! changes this computer's defaults, and the events it carries come in only as this
//! instance's own, held back from the server until the user agrees; sync goes on meanwhile.

mod common;

use common::host::{capture_log, edit_instance_state, Instance, Timeline};
use liner_record::event::{Body, Category, Context, Event, NoteAdded, TakeRef, Verdict};
use liner_record::journal::Aside;
use liner_record::{Journal, Role};
use liner_test_support::{wait_until, Server};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use uuid::Uuid;

/// A server that writes down every request it receives (the whole head, Authorization
/// included) and answers each with `answer`.
struct Spy {
    url: String,
    heads: Arc<Mutex<Vec<String>>>,
}

impl Spy {
    fn start(answer: String) -> Spy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let heads: Arc<Mutex<Vec<String>>> = Arc::default();
        let seen = heads.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let seen = seen.clone();
                let answer = answer.clone();
                std::thread::spawn(move || {
                    let mut head = Vec::new();
                    let mut byte = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") && conn.read(&mut byte).unwrap_or(0) == 1 {
                        head.push(byte[0]);
                    }
                    seen.lock()
                        .unwrap()
                        .push(String::from_utf8_lossy(&head).into_owned());
                    let _ = conn.write_all(answer.as_bytes());
                });
            }
        });
        Spy { url, heads }
    }

    fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }
}

const NOT_FOUND: &str = "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";

fn config_dir() -> PathBuf {
    PathBuf::from(std::env::var("LINER_NOTES_CONFIG_DIR").unwrap())
}

/// Plays a few blocks with a mark, so the instance has something new to send.
fn play_with_a_mark(plugin: &mut Instance) {
    let mark = plugin.param_id("Mark");
    let mut p = plugin.activate(48_000.0, 256, 2);
    let mut t = Timeline::new(48_000.0, 120.0, (4, 4));
    t.playing = true;
    for block in 0..10 {
        if block == 3 {
            p.set_param(0, mark, 1.0);
        }
        if block == 5 {
            p.set_param(0, mark, 0.0);
        }
        p.process(256, Some(&t.at(block * 256)));
    }
    plugin.deactivate(p);
}

/// Finding 1: a project file naming another server, with the name of a token stored here,
/// made the plugin send that token there as soon as the project opened.
#[test]
fn a_project_naming_a_foreign_server_sends_it_nothing_and_changes_no_defaults() {
    let project = format!("Trust {}", Uuid::now_v7());
    let home = Server::start();
    let token = home.token(&project, "Pat", Role::Producer);
    // This computer holds a token for its own server, filed by origin, and (the downgrade
    // attack) one for https on the foreign server's own host and port.
    let spy = Spy::start(NOT_FOUND.into());
    liner_notes::settings::store_token_in(&config_dir(), &home.url, &token).unwrap();
    let https_twin = spy.url.replace("http://", "https://");
    liner_notes::settings::store_token_in(&config_dir(), &https_twin, "ln_for_https_only").unwrap();
    let defaults = std::fs::read(config_dir().join("last-settings.json")).ok();

    // The hostile project: the foreign server, and names of tokens an older version filed.
    let mut plugin = Instance::new();
    plugin.edit_settings(|settings| {
        settings["project"] = Value::String(project.clone());
        settings["server_url"] = Value::String(spy.url.clone());
        settings["token_ref"] = Value::String("local".into());
    });
    play_with_a_mark(&mut plugin);
    // Sync rounds come every quarter second; give it many.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        spy.heads(),
        Vec::<String>::new(),
        "nothing at all goes to it"
    );
    assert_eq!(
        std::fs::read(config_dir().join("last-settings.json")).ok(),
        defaults,
        "loading a project never changes the defaults for new instances"
    );
    let fresh = Instance::new().save_state();
    assert_ne!(
        capture_log(&fresh)["settings"]["server_url"],
        spy.url.as_str()
    );

    // The control: the same plugin pointed at this computer's own server does sync, so the
    // silence above was the rule, not a broken harness.
    plugin.edit_settings(|settings| {
        settings["server_url"] = Value::String(home.url.clone());
        settings["author"] = Value::String("Pat".into());
    });
    play_with_a_mark(&mut plugin);
    wait_until(
        "a mark on this computer's own server",
        Duration::from_secs(20),
        || {
            home.events(&project)
                .iter()
                .any(|e| matches!(e.body, Body::Mark { .. }))
        },
    );
    assert_eq!(spy.heads(), Vec::<String>::new());
}

/// A server this computer holds a token for may answer with a redirect to another address:
/// the token does not follow it.
#[test]
fn a_redirect_never_takes_the_token_elsewhere() {
    let project = format!("Trust redirect {}", Uuid::now_v7());
    let elsewhere = Spy::start(NOT_FOUND.into());
    let redirecting = Spy::start(format!(
        "HTTP/1.1 307 Temporary Redirect\r\nlocation: {}/api/v1/me\r\ncontent-length: 0\r\n\
         connection: close\r\n\r\n",
        elsewhere.url
    ));
    liner_notes::settings::store_token_in(&config_dir(), &redirecting.url, "ln_redirected")
        .unwrap();
    let mut plugin = Instance::new();
    plugin.edit_settings(|settings| {
        settings["project"] = Value::String(project.clone());
        settings["server_url"] = Value::String(redirecting.url.clone());
    });
    play_with_a_mark(&mut plugin);
    wait_until(
        "a request to the server the token is for",
        Duration::from_secs(20),
        || !redirecting.heads().is_empty(),
    );
    std::thread::sleep(Duration::from_secs(1));
    assert!(redirecting.heads()[0].contains("Bearer ln_redirected"));
    assert_eq!(elsewhere.heads(), Vec::<String>::new());
}

fn event(project: &str, author: &str, role: Role, body: Body) -> Value {
    let e = Event::new(
        &Context {
            project: project.into(),
            song: "Song".into(),
            track: "Vox".into(),
            session: Uuid::now_v7(),
            author: author.into(),
            role,
        },
        None,
        body,
    );
    serde_json::to_value(e).unwrap()
}

fn note(text: &str) -> Body {
    Body::NoteAdded(NoteAdded {
        text: text.into(),
        category: Category::Mix,
        anchor: None,
        take: None,
        private: false,
        version: None,
        guest: None,
    })
}

/// Finding 2: a saved state could carry events for any project and role; they came into the
/// journal and went out with the user's token, an "executive" verdict in the file showed as
/// a real approval, and sync for the project stopped.
#[test]
fn a_project_file_brings_only_its_instances_own_events_held_until_the_user_agrees() {
    let project = format!("Trust import {}", Uuid::now_v7());
    let other_project = format!("{project} elsewhere");
    let home = Server::start();
    let token = home.token(&project, "Pat", Role::Producer);
    liner_notes::settings::store_token_in(&config_dir(), &home.url, &token).unwrap();

    let mut plugin = Instance::new();
    let instance: Uuid = capture_log(&plugin.save_state())["instance"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let target = Uuid::now_v7();
    let carried = [
        // Not this instance's to bring: a verdict, another project, another instance's mark.
        event(
            &project,
            "Eve",
            Role::Executive,
            Body::Verdict {
                target,
                verdict: Verdict::Approved,
                comment: "approved, says the file".into(),
            },
        ),
        event(
            &other_project,
            "Pat",
            Role::Producer,
            note("another project"),
        ),
        event(
            &project,
            "Pat",
            Role::Producer,
            Body::Mark {
                instance: Uuid::now_v7(),
                number: 1,
                label: None,
            },
        ),
        // This instance's own: held until agreed.
        event(
            &project,
            "Pat",
            Role::Producer,
            Body::TakeStarted {
                take: TakeRef {
                    instance,
                    number: 1,
                },
            },
        ),
        event(
            &project,
            "Kim",
            Role::Producer,
            note("made on Kim's laptop"),
        ),
        event(&project, "Ari", Role::Artist, note("made as an artist")),
    ];
    let ids: Vec<Uuid> = carried
        .iter()
        .map(|e| e["id"].as_str().unwrap().parse().unwrap())
        .collect();
    let blob = edit_instance_state(&plugin.save_state(), |inner| {
        inner["settings"]["project"] = Value::String(project.clone());
        inner["settings"]["server_url"] = Value::String(home.url.clone());
        inner["settings"]["author"] = Value::String("Pat".into());
        inner["events"] = Value::Array(carried.to_vec());
    });
    plugin.load_state(&blob);
    play_with_a_mark(&mut plugin);

    // Sync goes on: the mark just made reaches the server.
    wait_until(
        "the new mark on the server",
        Duration::from_secs(20),
        || {
            home.events(&project)
                .iter()
                .any(|e| matches!(e.body, Body::Mark { instance: i, .. } if i == instance))
        },
    );
    let journal = Journal::open_project(&project).unwrap();
    wait_until(
        "the instance's own events in the journal",
        Duration::from_secs(20),
        || {
            let have = journal.scan().unwrap().ids;
            ids[3..].iter().all(|id| have.contains(id))
        },
    );
    let have = journal.scan().unwrap().ids;
    for id in &ids[..3] {
        assert!(!have.contains(id), "{id} came in from the project file");
    }
    assert!(Journal::open_project(&other_project)
        .unwrap()
        .scan()
        .unwrap()
        .ids
        .is_empty());
    let aside = journal.aside().unwrap();
    for id in &ids[3..] {
        assert_eq!(aside.get(id), Some(&Aside::Imported), "{id}");
    }
    let read = journal.read().unwrap();
    let views = liner_record::fold(read.events.iter().map(|e| &e.event));
    assert!(views.verdicts.is_empty(), "no approval from a project file");
    // Nothing of the file went out (a few more rounds to be sure).
    std::thread::sleep(Duration::from_millis(1500));
    let on_server: Vec<Uuid> = home.events(&project).iter().map(|e| e.id).collect();
    assert!(
        ids.iter().all(|id| !on_server.contains(id)),
        "{on_server:?}"
    );

    // The user agrees ("send them as Pat"): Pat's own goes as it is, Kim's note goes
    // re-signed as Pat, the artist's stays here.
    let me = liner_record::outbox::Identity {
        person: "Pat".into(),
        role: Role::Producer,
        project: project.clone(),
    };
    let out = liner_record::outbox::outbox(
        journal.unacked_by(&home.url).unwrap(),
        &journal.aside().unwrap(),
        &me,
    );
    assert_eq!(
        liner_record::outbox::send_as(&journal, &me, &out).unwrap(),
        2
    );
    wait_until(
        "the agreed events on the server",
        Duration::from_secs(20),
        || {
            let stored = home.events(&project);
            stored.iter().any(|e| e.id == ids[3])
                && stored.iter().any(|e| {
                    matches!(&e.body, Body::NoteAdded(n) if n.text == "made on Kim's laptop")
                        && e.author == "Pat"
                })
        },
    );
    std::thread::sleep(Duration::from_millis(500));
    assert!(!home
        .events(&project)
        .iter()
        .any(|e| matches!(&e.body, Body::NoteAdded(n) if n.text == "made as an artist")));
}

//! Versions on the review page in a real browser (headless Chromium over WebDriver), against
//! the real server, with a producer's printed versions synced by the real sync client: the
//! waveform shows the song's notes at their places, a comment on the waveform lands as a note
//! at the right bars.beats, A/B keeps the position and matches loudness, approving pins the
//! version, and the album plays the versions back to back on one clock.

mod common;

use common::browser::{axe, axe_source, click_wave, js, press, Browser};
use common::producer::{until_stored, Producer};
use common::{note_by, Server};
use fantoccini::{Client, Locator};
use liner_record::event::{Anchor, Body, Context, Event};
use liner_record::sync::SyncClient;
use liner_record::{DawPos, Journal, Role};
use std::time::Duration;
use uuid::Uuid;

const P: &str = "Album";

fn note_at(song: &str, text: &str, seconds: f64) -> Event {
    let mut e = note_by(P, "Sam", Role::Producer, text);
    e.song = song.into();
    e.pos = Some(DawPos {
        seconds: Some(seconds),
        beats: Some(seconds * 2.0),
        tempo: Some(120.0),
        time_sig: Some((4, 4)),
        ..DawPos::default()
    });
    e
}

#[tokio::test(flavor = "multi_thread")]
async fn the_waveform_places_the_notes_and_a_comment_on_it_lands_at_its_bar_and_beat() {
    let s = Server::start();
    let exec = s.token(P, "Eve", Role::Executive);
    let sam = Producer::new(&s, P, "Sam");
    // Printed from 8 s (bar 5 at 120 bpm), 16 s long; a note 4 s in, one before the print.
    let v1 = sam.print("Night Drive", "v1", 16.0, -20.0, 8.0);
    let inside = note_at("Night Drive", "snare too loud here", 12.0);
    let before = note_at("Night Drive", "count-in is long", 2.0);
    sam.record_and_sync(vec![v1.clone(), inside.clone(), before])
        .await;

    let browser = Browser::start(1280, 900).await;
    browser.sign_in(&s.url, &exec).await;
    let c = &browser.client;
    c.goto(&format!("{}/song?name=Night%20Drive", s.url))
        .await
        .unwrap();
    let markers = js(
        c,
        "return Array.from(document.querySelectorAll('#wave .marker'))
            .map(m => [m.dataset.id, m.getAttribute('cx')]);",
    )
    .await;
    assert_eq!(
        markers,
        serde_json::json!([[inside.id.to_string(), "250.0"]]),
        "the note 4 s into a 16 s version sits a quarter of the way; the one before it is not on it"
    );
    // A click halfway: 8 s into the version, 16 s on the timeline: bar 9, beat 1.
    click_wave(c, 0.5).await;
    let at = c
        .find(Locator::Id("comment-at"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .unwrap();
    let at_seconds: f64 = at.split(':').nth(1).unwrap().parse().unwrap();
    assert!(
        (at_seconds - 8.0).abs() < 0.05,
        "the click put the comment at {at}"
    );
    let text = c.find(Locator::Id("comment-text")).await.unwrap();
    text.send_keys("the drop needs more sub\u{E007}")
        .await
        .unwrap();
    let anchor = until_stored(&s, P, "the comment", |events| {
        events.into_iter().find_map(|e| match e.body {
            Body::NoteAdded(n) if n.text == "the drop needs more sub" => {
                assert_eq!(n.version, Some(v1.id), "made on v1");
                Some((e.author, e.song, n.anchor))
            }
            _ => None,
        })
    })
    .await;
    assert_eq!(
        (anchor.0.as_str(), anchor.1.as_str()),
        ("Eve", "Night Drive")
    );
    let Some(Anchor::Point { at }) = anchor.2 else {
        panic!("a point anchor: {:?}", anchor.2)
    };
    assert!((at.seconds.unwrap() - 16.0).abs() < 0.05, "{at:?}");
    assert_eq!(at.bar, Some(9), "{at:?}");
    assert!((at.beat.unwrap() - 1.0).abs() < 0.1, "{at:?}");
    c.goto(&format!("{}/song?name=Night%20Drive", s.url))
        .await
        .unwrap();
    let main = browser.main_text().await;
    assert!(main.contains("Eve (executive) · on v1"), "{main}");
    // And the producer's journal has it after a sync, at that place.
    sam.record_and_sync(vec![]).await;
    let pulled = sam.dir.path().to_owned();
    let mine = Journal::open(pulled).unwrap().read().unwrap();
    assert!(mine.events.iter().any(|e| matches!(&e.event.body,
        Body::NoteAdded(n) if n.text == "the drop needs more sub")));
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_b_switches_at_the_same_place_loudness_matched_and_approval_pins_the_version() {
    let s = Server::start();
    let exec = s.token(P, "Eve", Role::Executive);
    let sam = Producer::new(&s, P, "Sam");
    let v1 = sam.print("Night Drive", "v1", 20.0, -20.0, 0.0);
    let v2 = sam.print("Night Drive", "v2", 20.0, -14.0, 0.0);
    sam.record_and_sync(vec![v1.clone(), v2.clone()]).await;

    let browser = Browser::start(1280, 900).await;
    browser.sign_in(&s.url, &exec).await;
    let c = &browser.client;
    c.goto(&format!(
        "{}/song?name=Night%20Drive&v={}&b={}",
        s.url, v2.id, v1.id
    ))
    .await
    .unwrap();
    let state = |c: Client| async move {
        js(
            &c,
            "const a = document.getElementById('audio-A'), b = document.getElementById('audio-B');
             return [a.readyState, b.readyState, a.paused, b.paused, a.currentTime, b.currentTime,
                     a.volume, b.volume];",
        )
        .await
    };
    browser
        .until(
            "both decks' metadata",
            Duration::from_secs(10),
            |c| async move {
                let v = state(c).await;
                v[0].as_u64() >= Some(1) && v[1].as_u64() >= Some(1)
            },
        )
        .await;
    // Space plays A (v2, the louder by 6 LU: turned down to match).
    c.find(Locator::Css("body")).await.unwrap();
    press(c, ' ').await;
    browser
        .until(
            "A playing past 1 s",
            Duration::from_secs(10),
            |c| async move {
                let v = state(c).await;
                v[2] == false && v[4].as_f64().unwrap_or(0.0) > 1.0
            },
        )
        .await;
    let before = state(c.clone()).await;
    let gain = before[6].as_f64().unwrap();
    assert!(
        (gain - 10f64.powf(-6.0 / 20.0)).abs() < 0.03,
        "A (v2) is turned down by its 6 LU: volume {gain}"
    );
    assert_eq!(before[7].as_f64(), Some(1.0), "B is the quieter one");
    press(c, 'v').await;
    let after = state(c.clone()).await;
    assert_eq!(after[2], true, "A paused");
    let (a_at, b_at) = (after[4].as_f64().unwrap(), after[5].as_f64().unwrap());
    assert!(
        (b_at - a_at).abs() < 0.1,
        "B took over at A's place: {a_at} vs {b_at}"
    );
    browser
        .until("B playing on", Duration::from_secs(10), |c| async move {
            let v = state(c).await;
            v[3] == false && v[5].as_f64().unwrap_or(0.0) > b_at + 0.2
        })
        .await;
    // Approve v1 from its row: it becomes the song's selected version, though v2 is newer.
    let row = c
        .find(Locator::Css(&format!("tr.version[data-id='{}']", v1.id)))
        .await
        .unwrap();
    row.find(Locator::Css("button.approve"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    until_stored(&s, P, "the approval", |events| {
        events
            .into_iter()
            .find(|e| matches!(&e.body, Body::Verdict { target, .. } if *target == v1.id))
    })
    .await;
    c.goto(&s.url).await.unwrap();
    browser
        .until_text("table.songs", |t| t.contains("v1 ·"))
        .await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_album_plays_the_versions_in_tracklist_order_back_to_back() {
    let s = Server::start();
    let exec = s.token(P, "Eve", Role::Executive);
    let sam = Producer::new(&s, P, "Sam");
    let a = sam.print("Night Drive", "v1", 3.0, -14.0, 0.0);
    let b = sam.print("Low Tide", "v1", 2.5, -20.0, 0.0);
    sam.record_and_sync(vec![a, b]).await;
    // The executive's order: Low Tide first.
    let eve = SyncClient::new(&s.url, &exec, Duration::from_secs(10)).unwrap();
    let order = Event::new(
        &Context {
            project: P.into(),
            song: String::new(),
            track: String::new(),
            session: Uuid::nil(),
            author: "Eve".into(),
            role: Role::Executive,
        },
        None,
        Body::TracklistOrder {
            songs: vec!["Low Tide".into(), "Night Drive".into()],
        },
    );
    let order = liner_record::journal::StoredEvent {
        id: order.id,
        json: order.to_json(),
        event: order,
    };
    tokio::task::spawn_blocking(move || eve.push(&[&order]).unwrap())
        .await
        .unwrap();

    let browser = Browser::start(1280, 900).await;
    browser.sign_in(&s.url, &exec).await;
    let c = &browser.client;
    c.goto(&format!("{}/tracklist", s.url)).await.unwrap();
    let main = browser.main_text().await;
    assert!(main.contains("running time 0:00:05.500"), "{main}");
    // -14 and -20 LUFS: the median is -17, and both are 3 LU from it.
    assert!(main.contains("+3.0 LU from the median"), "{main}");
    assert!(main.contains("-3.0 LU from the median"), "{main}");
    c.find(Locator::Id("album-play"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .until(
            "both songs scheduled",
            Duration::from_secs(20),
            |c| async move { js(&c, "return window.linerAlbum.schedule.length;").await == 2 },
        )
        .await;
    let schedule = js(
        c,
        "const s = window.linerAlbum.schedule;
         return { songs: s.map(x => x.song), starts: s.map(x => x.start),
                  durations: s.map(x => x.duration), now: window.linerAlbum.ctx.currentTime };",
    )
    .await;
    assert_eq!(
        schedule["songs"],
        serde_json::json!(["Low Tide", "Night Drive"])
    );
    let starts: Vec<f64> = serde_json::from_value(schedule["starts"].clone()).unwrap();
    let durations: Vec<f64> = serde_json::from_value(schedule["durations"].clone()).unwrap();
    assert!((durations[0] - 2.5).abs() < 0.01 && (durations[1] - 3.0).abs() < 0.01);
    assert_eq!(
        starts[1],
        starts[0] + durations[0],
        "the second song starts exactly where the first ends: no gap, no overlap"
    );
    let first = starts[0];
    browser
        .until(
            "the album clock running",
            Duration::from_secs(10),
            |c| async move {
                js(&c, "return window.linerAlbum.ctx.currentTime;")
                    .await
                    .as_f64()
                    .unwrap_or(0.0)
                    > first
            },
        )
        .await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_song_page_with_versions_and_the_album_pass_axe() {
    let s = Server::start();
    let exec = s.token(P, "Eve", Role::Executive);
    let sam = Producer::new(&s, P, "Sam");
    let v1 = sam.print("Night Drive", "v1", 4.0, -20.0, 0.0);
    let v2 = sam.print("Night Drive", "v2", 4.0, -14.0, 0.0);
    let note = note_at("Night Drive", "hats harsh", 1.0);
    sam.record_and_sync(vec![v1.clone(), v2.clone(), note])
        .await;
    let source = axe_source();
    let browser = Browser::start(1280, 900).await;
    browser.sign_in(&s.url, &exec).await;
    let mut problems = Vec::new();
    for path in [
        format!("/song?name=Night%20Drive&v={}&b={}", v2.id, v1.id),
        "/tracklist".into(),
        "/".into(),
    ] {
        browser
            .client
            .goto(&format!("{}{path}", s.url))
            .await
            .unwrap();
        for p in axe(&browser.client, &source).await {
            problems.push(format!("{path}: {p}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    browser.close().await;
}

//! Listening links in a real browser (headless Chromium over WebDriver) against the real
//! server: the executive makes a link on /links, a second browser opens it as a guest and it
//! plays, the page holds nothing private, the guest's comment waits until the executive
//! accepts it, and after revocation and after expiry the guest page says so. axe-core finds
//! nothing serious on /links or on the guest page.

mod common;

use common::browser::{axe, axe_source, click_wave, js, Browser};
use common::producer::{until_stored, Producer};
use common::{approval, note_by, push, Server};
use fantoccini::Locator;
use liner_record::event::{Anchor, Body, Event};
use liner_record::Role;
use liner_server::store::guests::NewLink;
use std::time::Duration;

const P: &str = "Album";
const SONG: &str = "Night Drive";

/// A song with an approved 8-second version and a producer's note that is none of a guest's
/// business. Returns (executive token, producer, the version).
async fn studio(s: &Server) -> (String, Producer, Event) {
    let exec = s.token(P, "Eve", Role::Executive);
    let sam = Producer::new(s, P, "Sam");
    let v1 = sam.print(SONG, "v1", 8.0, -20.0, 0.0);
    let mut note = note_by(
        P,
        "Sam",
        Role::Producer,
        "PRIVATE-ISH the label will hate it",
    );
    note.song = SONG.into();
    sam.record_and_sync(vec![v1.clone(), note]).await;
    let approved = tokio::task::block_in_place(|| push(s, &exec, &[&approval(P, "Eve", v1.id)]));
    assert_eq!(approved.0, reqwest::StatusCode::OK);
    (exec, sam, v1)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_guest_link_plays_shows_nothing_private_takes_a_comment_and_ends_when_revoked() {
    let s = Server::start();
    let (exec, sam, v1) = studio(&s).await;
    let source = axe_source();

    // The executive makes a link for the song on /links.
    let executive = Browser::start(1280, 900).await;
    executive.sign_in(&s.url, &exec).await;
    let e = &executive.client;
    e.goto(&format!("{}/links", s.url)).await.unwrap();
    e.find(Locator::Css(&format!("#link-scope option[value='{SONG}']")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    e.find(Locator::Id("link-label"))
        .await
        .unwrap()
        .send_keys("for the label's A&R")
        .await
        .unwrap();
    e.find(Locator::Css("form.make-link button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The answer to the form is a new page: wait for it.
    let url = e
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Id("made-url"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .unwrap();
    assert!(url.starts_with(&format!("{}/listen/lnl_", s.url)), "{url}");
    // A producer's note arriving meanwhile does not refresh the address away (shown once).
    let mut later = note_by(P, "Sam", Role::Producer, "another pass on the bridge");
    later.song = SONG.into();
    sam.record_and_sync(vec![later]).await;
    executive
        .until_text("#live", |t| t.contains("The record changed"))
        .await;
    assert!(e.find(Locator::Id("made-url")).await.is_ok());
    let mut problems: Vec<String> = axe(e, &source)
        .await
        .into_iter()
        .map(|p| format!("/links: {p}"))
        .collect();

    // A second browser, signed in nowhere, opens it: it plays, and shows nothing private.
    let guest = Browser::start(1280, 900).await;
    let g = &guest.client;
    g.goto(&url).await.unwrap();
    let html = g.source().await.unwrap();
    for private in [
        "PRIVATE-ISH",
        exec.as_str(),
        sam.token.as_str(),
        "Eve",
        "Sam",
        "A&amp;R",
        "Mix bus",
    ] {
        assert!(!html.contains(private), "{private} on the guest page");
    }
    assert!(html.contains(&v1.id.to_string()));
    problems.extend(
        axe(g, &source)
            .await
            .into_iter()
            .map(|p| format!("guest page: {p}")),
    );
    g.find(Locator::Id("play"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    guest
        .until(
            "the version playing past 1 s",
            Duration::from_secs(10),
            |c| async move {
                let v = js(
                &c,
                "const a = document.getElementById('audio-A'); return [a.paused, a.currentTime];",
            )
            .await;
                v[0] == false && v[1].as_f64().unwrap_or(0.0) > 1.0
            },
        )
        .await;

    // A comment at 4 s (a click halfway along the waveform), under the name the guest types.
    g.find(Locator::Id("guest-name"))
        .await
        .unwrap()
        .send_keys("Ana")
        .await
        .unwrap();
    click_wave(g, 0.5).await;
    g.find(Locator::Id("comment-text"))
        .await
        .unwrap()
        .send_keys("lovely build into the chorus")
        .await
        .unwrap();
    g.find(Locator::Css("form.guest-comment button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    guest
        .until_text("#live", |t| t.contains("waits for the executive producer"))
        .await;
    assert!(
        !s.events(P).iter().any(|e| matches!(&e.body,
            Body::NoteAdded(n) if n.text.contains("lovely build"))),
        "held, not in the record"
    );

    // The executive accepts it: a note by the executive naming the guest, at 4 s in v1.
    e.goto(&format!("{}/links", s.url)).await.unwrap();
    assert!(executive.main_text().await.contains("lovely build"));
    e.find(Locator::Css("li.held-comment button[value=accept]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let (author, guest_name, version, anchor) =
        until_stored(&s, P, "the accepted comment", |events| {
            events.into_iter().find_map(|e| match e.body {
                Body::NoteAdded(n) if n.text == "lovely build into the chorus" => {
                    Some((e.author, n.guest, n.version, n.anchor))
                }
                _ => None,
            })
        })
        .await;
    assert_eq!(author, "Eve");
    assert_eq!(guest_name.as_deref(), Some("Ana"));
    assert_eq!(version, Some(v1.id));
    let Some(Anchor::Point { at }) = anchor else {
        panic!("a point: {anchor:?}")
    };
    assert!((at.seconds.unwrap() - 4.0).abs() < 0.1, "{at:?}");
    e.goto(&format!("{}/song?name=Night%20Drive", s.url))
        .await
        .unwrap();
    assert!(executive
        .main_text()
        .await
        .contains("Ana (guest, accepted by Eve)"));

    // Revoked: the guest's page says so.
    e.goto(&format!("{}/links", s.url)).await.unwrap();
    e.find(Locator::Css("form.revoke button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    executive
        .until_text("table.links", |t| t.contains("revoked"))
        .await;
    g.goto(&url).await.unwrap();
    assert!(guest
        .main_text()
        .await
        .contains("This listening link was revoked"));
    assert!(!g.source().await.unwrap().contains("<audio"));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    guest.close().await;
    executive.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_guest_link_that_expires_says_so_on_the_next_visit() {
    let s = Server::start();
    let (_, _, v1) = studio(&s).await;
    let guest = Browser::start(1280, 900).await;
    let g = &guest.client;
    let project = s.store.project(P).unwrap().unwrap();
    let token = s.store.tokens().unwrap()[0].id;
    // The first visit has to land before the link ends. On a loaded machine a browser's first
    // visit can take seconds, so a visit that finished after the end proves nothing either
    // way: then a fresh link with a longer life is tried. A visit that finished in time must
    // have been served the player.
    let mut tries = [4_000i64, 10_000, 30_000].into_iter();
    let (url, ends) = loop {
        let life = tries
            .next()
            .expect("no visit landed within 30 s of making the link");
        let ends = liner_record::event::now_ms() + life;
        let (_, secret) = s
            .store
            .create_link(&NewLink {
                project: project.clone(),
                token,
                song: None,
                label: "for the artist".into(),
                passphrase: None,
                expires_ms: ends,
            })
            .unwrap();
        let url = format!("{}/listen/{secret}", s.url);
        g.goto(&url).await.unwrap();
        let source = g.source().await.unwrap();
        if liner_record::event::now_ms() < ends {
            assert!(source.contains(&v1.id.to_string()), "{source}");
            break (url, ends);
        }
    };
    let left = ends - liner_record::event::now_ms() + 200;
    tokio::time::sleep(Duration::from_millis(left.max(0) as u64)).await;
    g.goto(&url).await.unwrap();
    let main = guest.main_text().await;
    assert!(main.contains("This listening link expired on"), "{main}");
    assert!(!g.source().await.unwrap().contains(&v1.id.to_string()));
    // The page saying so, and a passphrase form, pass axe too, at phone width as well.
    let source = axe_source();
    let mut problems: Vec<String> = axe(g, &source).await;
    let guarded = {
        use argon2::password_hash::{PasswordHasher, SaltString};
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let hash = argon2::Argon2::default()
            .hash_password(b"correct horse", &salt)
            .unwrap()
            .to_string();
        let project = s.store.project(P).unwrap().unwrap();
        s.store
            .create_link(&NewLink {
                project,
                token,
                song: Some(SONG.into()),
                label: "for the artist".into(),
                passphrase: Some(hash),
                expires_ms: liner_record::event::now_ms() + 86_400_000,
            })
            .unwrap()
            .1
    };
    g.set_window_size(390, 844).await.unwrap();
    g.goto(&format!("{}/listen/{guarded}", s.url))
        .await
        .unwrap();
    assert!(guest
        .main_text()
        .await
        .contains("This link has a passphrase"));
    problems.extend(axe(g, &source).await);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    guest.close().await;
}

//! The executive producer's review page in a real browser (headless Chromium over WebDriver),
//! against the real server, with producers syncing through the real sync client.

mod common;

use common::browser::{axe, axe_source, press, Browser};
use common::producer::{until_stored, Producer};
use common::{note_by, session_cookie, sign_in_raw, Server};
use fantoccini::{Client, Locator};
use liner_record::event::{Body, Event, Verdict};
use liner_record::Role;
use std::time::{Duration, Instant};

const P: &str = "Album";

fn note_in(song: &str, author: &str, text: &str) -> Event {
    let mut e = note_by(P, author, Role::Producer, text);
    e.song = song.into();
    e
}

#[tokio::test(flavor = "multi_thread")]
async fn the_executive_sees_a_producers_note_live_and_approves_it_from_the_keyboard() {
    let s = Server::start();
    let exec = s.token(P, "Eve", Role::Executive);
    let sam = Producer::new(&s, P, "Sam");
    let first = note_in("Night Drive", "Sam", "first take is a keeper");
    sam.record_and_sync(vec![first.clone()]).await;

    let browser = Browser::start(1280, 900).await;
    browser.sign_in(&s.url, &exec).await;
    browser
        .client
        .goto(&format!("{}/queue", s.url))
        .await
        .unwrap();
    assert!(browser.main_text().await.contains("first take is a keeper"));

    // A producer's note arrives on the open page without a reload.
    let late = note_in("Night Drive", "Sam", "the snare drags at bar 23");
    let pushed = Instant::now();
    sam.record_and_sync(vec![late.clone()]).await;
    browser
        .until_text("#main", |t| t.contains("snare drags"))
        .await;
    let took = pushed.elapsed();
    eprintln!("pushed note on the page after {took:?}");
    assert!(took < Duration::from_secs(2), "took {took:?}");

    // j selects the oldest item; a approves it.
    press(&browser.client, 'j').await;
    press(&browser.client, 'a').await;
    let verdict = until_stored(&s, P, "the approval", |events| {
        events.into_iter().find(|e| {
            matches!(e.body, Body::Verdict { target, verdict: Verdict::Approved, .. } if target == first.id)
        })
    })
    .await;
    assert_eq!(
        (verdict.author.as_str(), verdict.role),
        ("Eve", Role::Executive)
    );
    assert_eq!(verdict.song, "Night Drive");
    // The approved note leaves the queue; the other stays.
    browser
        .until_text("#main", |t| {
            !t.contains("first take is a keeper") && t.contains("snare drags")
        })
        .await;

    // The verdict reaches the producer's journal through sync.
    sam.record_and_sync(vec![]).await;
    let j = sam.journal();
    let read = j.read().unwrap();
    let views = liner_record::fold(read.events.iter().map(|e| &e.event));
    let note = views.notes.iter().find(|n| n.id == first.id).unwrap();
    assert_eq!(note.verdict.as_ref().unwrap().verdict, Verdict::Approved);
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_executive_reorders_the_tracklist_and_leaves_a_song_off_without_a_mouse() {
    let s = Server::start();
    let exec = s.token(P, "Eve", Role::Executive);
    let sam = Producer::new(&s, P, "Sam");
    sam.record_and_sync(vec![
        note_in("Alpha", "Sam", "a"),
        note_in("Bravo", "Sam", "b"),
        note_in("Charlie", "Sam", "c"),
    ])
    .await;
    let browser = Browser::start(1280, 900).await;
    browser.sign_in(&s.url, &exec).await;
    browser
        .client
        .goto(&format!("{}/tracklist", s.url))
        .await
        .unwrap();

    // The move buttons are plain buttons: focus one and press Enter.
    let down = browser
        .client
        .find(Locator::Css("button[aria-label='Move Alpha down']"))
        .await
        .unwrap();
    down.send_keys("\u{E007}").await.unwrap();
    until_stored(&s, P, "the new order", |events| {
        events.into_iter().rev().find_map(|e| match e.body {
            Body::TracklistOrder { songs } if songs == ["Bravo", "Alpha", "Charlie"] => Some(()),
            _ => None,
        })
    })
    .await;
    // On the record, then off it: each one event.
    for (label, selected) in [
        ("Put on the record: Charlie", true),
        ("Leave off the record: Charlie", false),
    ] {
        browser
            .until(label, Duration::from_secs(10), |c| async move {
                c.find(Locator::Css(&format!("button[aria-label='{label}']")))
                    .await
                    .is_ok()
            })
            .await;
        browser
            .client
            .find(Locator::Css(&format!("button[aria-label='{label}']")))
            .await
            .unwrap()
            .send_keys("\u{E007}")
            .await
            .unwrap();
        until_stored(&s, P, label, |events| {
            let last = events.into_iter().rev().find_map(|e| match e.body {
                Body::SongSelection { song, selected } if song == "Charlie" => Some(selected),
                _ => None,
            });
            (last == Some(selected)).then_some(())
        })
        .await;
    }
    browser
        .until_text("li[data-song='Charlie']", |t| t.contains("Left out"))
        .await;
    let text = browser.main_text().await;
    let positions: Vec<usize> = ["Bravo", "Alpha", "Charlie"]
        .iter()
        .map(|song| text.find(song).unwrap())
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
    // The overview and the decision logs say who decided.
    let md = tokio::task::spawn_blocking({
        let (url, exec) = (s.url.clone(), exec.clone());
        move || {
            reqwest::blocking::Client::new()
                .get(format!("{url}/api/v1/export?format=markdown"))
                .bearer_auth(exec)
                .send()
                .unwrap()
                .text()
                .unwrap()
        }
    })
    .await
    .unwrap();
    assert!(md.contains("order set by Eve"), "{md}");
    assert!(md.contains("| 3 | Charlie | no | Eve,"), "{md}");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_producer_reads_but_has_no_decision_controls_and_their_posts_are_refused() {
    let s = Server::start();
    let sam = Producer::new(&s, P, "Sam");
    let n = note_in("Night Drive", "Sam", "keep the breath");
    sam.record_and_sync(vec![n.clone()]).await;
    let browser = Browser::start(1280, 900).await;
    browser.sign_in(&s.url, &sam.token).await;
    for path in ["/queue", "/song?name=Night%20Drive", "/tracklist"] {
        browser
            .client
            .goto(&format!("{}{path}", s.url))
            .await
            .unwrap();
        let text = browser.main_text().await;
        assert!(text.contains("Night Drive"), "{path}: {text}");
        for control in [
            "form.decide",
            "form[action='/tracklist/move']",
            "form[action='/selection']",
        ] {
            assert!(
                browser.client.find(Locator::Css(control)).await.is_err(),
                "{path} shows {control} to a producer"
            );
        }
    }
    let banner = browser
        .client
        .find(Locator::Css("p.readonly"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(banner.contains("read-only"), "{banner}");

    // With the producer's own session and CSRF secret, a verdict POST is still refused.
    let cookie = browser
        .client
        .get_all_cookies()
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.name() == "liner_session")
        .unwrap()
        .value()
        .to_owned();
    let csrf = browser
        .client
        .execute("return document.body.dataset.csrf", vec![])
        .await
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned();
    let before = s.stored(P).len();
    let url = s.url.clone();
    let status = tokio::task::spawn_blocking(move || {
        reqwest::blocking::Client::new()
            .post(format!("{url}/verdict"))
            .header("cookie", format!("liner_session={cookie}"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("target", &n.id.to_string()),
                ("verdict", "approved"),
                ("comment", ""),
            ])
            .send()
            .unwrap()
            .status()
    })
    .await
    .unwrap();
    assert_eq!(status, reqwest::StatusCode::FORBIDDEN);
    assert_eq!(s.stored(P).len(), before);
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn text_people_typed_shows_as_text_and_runs_nothing() {
    let s = Server::start();
    let exec = s.token(P, "Eve", Role::Executive);
    let sam = Producer::new(&s, P, "Sam");
    let payload = "<script>window.__pwned=1</script><img src=x onerror=\"window.__pwned=2\">";
    let mut song_named = note_in("<b>Bold</b> & \"Quoted\"", "Sam", payload);
    song_named.track = "<i>Vox</i>".into();
    sam.record_and_sync(vec![song_named, note_in("Plain", "Sam", payload)])
        .await;
    let browser = Browser::start(1280, 900).await;
    browser.sign_in(&s.url, &exec).await;
    for path in [
        "/".to_owned(),
        "/queue".to_owned(),
        format!("/song?name={}", common::encode("<b>Bold</b> & \"Quoted\"")),
        "/tracklist".to_owned(),
    ] {
        browser
            .client
            .goto(&format!("{}{path}", s.url))
            .await
            .unwrap();
        // Give an injected handler every chance to run.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let probe = browser
            .client
            .execute(
                "return [String(window.__pwned), document.querySelectorAll('main img, main b, main i, main script').length]",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(probe, serde_json::json!(["undefined", 0]), "{path}");
        let text = browser.main_text().await;
        assert!(text.contains("<b>Bold</b> & \"Quoted\""), "{path}: {text}");
        if path != "/" && path != "/tracklist" {
            assert!(text.contains(payload), "{path}: {text}");
        }
    }
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_page_passes_axe_at_laptop_and_phone_width() {
    let s = Server::start();
    let exec = s.token(P, "Eve", Role::Executive);
    let sam = Producer::new(&s, P, "Sam");
    sam.record_and_sync(vec![
        note_in("Night Drive", "Sam", "double the last chorus"),
        note_in("Low Tide", "Sam", "bridge too long"),
    ])
    .await;
    let source = axe_source();
    for (width, height) in [(1280, 900), (390, 844)] {
        let browser = Browser::start(width, height).await;
        browser.client.goto(&s.url).await.unwrap();
        let mut problems = axe(&browser.client, &source).await;
        problems
            .iter_mut()
            .for_each(|p| p.insert_str(0, "sign-in: "));
        browser.sign_in(&s.url, &exec).await;
        for path in [
            "/",
            "/queue",
            "/song?name=Night%20Drive",
            "/tracklist",
            "/digest",
        ] {
            browser
                .client
                .goto(&format!("{}{path}", s.url))
                .await
                .unwrap();
            for p in axe(&browser.client, &source).await {
                problems.push(format!("{path} at {width}px: {p}"));
            }
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
        browser.close().await;
    }
}

/// Signs in over plain HTTP (no browser); the session cookie as set, and the redirect.
#[test]
fn signing_in_sets_a_strict_http_only_cookie_and_state_changes_need_the_csrf_secret() {
    let s = Server::start();
    let exec = s.token(P, "Eve", Role::Executive);
    let sam = s.token(P, "Sam", Role::Producer);
    let n = note_by(P, "Sam", Role::Producer, "judge me");
    common::push(&s, &sam, &[&n]);

    let r = sign_in_raw(&s, "ln_wrong", &[]);
    assert_eq!(r.status(), reqwest::StatusCode::UNAUTHORIZED);
    assert!(r.headers().get("set-cookie").is_none());
    assert!(r.text().unwrap().contains("not valid"));

    let r = sign_in_raw(&s, &exec, &[]);
    assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/");
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(flag), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain http: {cookie}");
    assert!(
        !cookie.contains(&exec),
        "the token itself is never the cookie"
    );
    // Behind a TLS proxy the cookie is Secure.
    let behind = sign_in_raw(&s, &exec, &[("x-forwarded-proto", "https")]);
    assert!(behind.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("; Secure"));
    // A sign-in posted from another site is refused.
    let r = sign_in_raw(&s, &exec, &[("origin", "http://evil.example")]);
    assert_eq!(r.status(), reqwest::StatusCode::FORBIDDEN);

    let session = cookie.split(';').next().unwrap().to_owned();
    let client = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = client
        .get(format!("{}/queue", s.url))
        .header("cookie", &session)
        .send()
        .unwrap();
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe"),
        "{csp}"
    );
    let html = page.text().unwrap();
    let csrf = html
        .split("data-csrf=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let verdict = |csrf: &str, origin: Option<&str>| {
        let mut req = client
            .post(format!("{}/verdict", s.url))
            .header("cookie", &session)
            .form(&[
                ("csrf", csrf),
                ("target", &n.id.to_string()),
                ("verdict", "rejected"),
                ("comment", "no"),
                ("back", "//evil.example/"),
            ]);
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        req.send().unwrap()
    };
    let count = || s.stored(P).len();
    let before = count();
    assert_eq!(verdict("", None).status(), reqwest::StatusCode::FORBIDDEN);
    assert_eq!(
        verdict("0123", None).status(),
        reqwest::StatusCode::FORBIDDEN
    );
    assert_eq!(
        verdict(&csrf, Some("http://evil.example")).status(),
        reqwest::StatusCode::FORBIDDEN
    );
    assert_eq!(count(), before, "nothing recorded");
    let r = verdict(&csrf, Some(&s.url));
    assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/", "never back to another site");
    assert_eq!(count(), before + 1);

    // Without a session every page sends to the sign-in form, and every POST is refused.
    let r = client.get(format!("{}/queue", s.url)).send().unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER);
    let r = client
        .post(format!("{}/verdict", s.url))
        .form(&[
            ("csrf", csrf.as_str()),
            ("target", &n.id.to_string()),
            ("verdict", "approved"),
        ])
        .send()
        .unwrap();
    assert_ne!(r.status(), reqwest::StatusCode::OK);
    assert_eq!(count(), before + 1);

    // Signing out ends the session for good; revoking the token ends its other sessions.
    let r = client
        .post(format!("{}/sign-out", s.url))
        .header("cookie", &session)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER);
    let r = client
        .get(format!("{}/queue", s.url))
        .header("cookie", &session)
        .send()
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER);
    let other = sign_in_raw(&s, &exec, &[]);
    let other = session_cookie(&other);
    let id = s
        .store
        .tokens()
        .unwrap()
        .into_iter()
        .find(|t| t.person == "Eve")
        .unwrap()
        .id;
    s.store.revoke_token(id).unwrap();
    let r = client
        .get(format!("{}/queue", s.url))
        .header("cookie", &other)
        .send()
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER);
}

#[test]
fn the_printable_log_opens_in_the_browser_with_no_script_allowed() {
    let s = Server::start();
    let exec = s.token(P, "Eve", Role::Executive);
    let r = sign_in_raw(&s, &exec, &[]);
    let session = session_cookie(&r);
    let client = reqwest::blocking::Client::new();
    let r = client
        .get(format!("{}/export?format=html", s.url))
        .header("cookie", &session)
        .send()
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    assert_eq!(r.headers()["content-disposition"], "inline");
    let csp = r.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        csp.starts_with("default-src 'none'; style-src 'unsafe-inline'"),
        "{csp}"
    );
    assert!(r.text().unwrap().contains("@media print"));
    for format in ["markdown", "csv", "json", "reaper", "audacity", "midi"] {
        let r = client
            .get(format!("{}/export?format={format}", s.url))
            .header("cookie", &session)
            .send()
            .unwrap();
        assert_eq!(r.status(), reqwest::StatusCode::OK, "{format}");
        assert!(r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment"));
    }
    // Without a session, no log.
    let r = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}/export?format=csv", s.url))
        .send()
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER);
}

/// In real Chromium a note's clip plays from its moment: the song page's audio element loads
/// the clip through the session, has the clip's duration and starts at the moment; in the
/// decision queue `p` plays the focused item's clip and pauses it again.
#[tokio::test(flavor = "multi_thread")]
async fn the_page_plays_a_notes_clip_from_its_moment() {
    use liner_record::clips::{encode_flac, Clip, ClipFormat, ClipStore};
    use liner_record::event::{ClipAttached, Context};
    let s = Server::start();
    let exec = s.token(P, "Eve", Role::Executive);
    let sam = Producer::new(&s, P, "Sam");
    // Three seconds of a quiet 440 Hz tone, the moment two seconds in.
    let tone: Vec<f32> = (0..144_000)
        .map(|i| (i as f32 * 440.0 * std::f32::consts::TAU / 48_000.0).sin() * 0.2)
        .collect();
    let bytes = encode_flac(&[tone.clone(), tone], 48_000).unwrap();
    let hash = ClipStore::of_journal(sam.dir.path())
        .put(&bytes, ClipFormat::Flac)
        .unwrap();
    let clip: Clip = serde_json::from_value(serde_json::json!({
        "hash": hash, "format": "flac", "sample_rate": 48_000, "channels": 2,
        "frames": 144_000, "moment": 96_000, "bytes": bytes.len(),
    }))
    .unwrap();
    let note = note_in("Night Drive", "Sam", "the hi-hat is harsh here");
    let attached = Event::new(
        &Context {
            project: P.into(),
            song: note.song.clone(),
            track: note.track.clone(),
            session: note.session,
            author: "Sam".into(),
            role: Role::Producer,
        },
        None,
        Body::ClipAttached(ClipAttached {
            target: note.id,
            clip: clip.clone(),
            private: false,
        }),
    );
    sam.record_and_sync(vec![note, attached]).await;
    let project = s.store.project(P).unwrap().unwrap();
    assert_eq!(s.store.clip(&project, &hash).unwrap(), Some(bytes));

    let browser = Browser::start(1280, 900).await;
    browser.sign_in(&s.url, &exec).await;
    let c = &browser.client;
    // (readyState, duration, currentTime, paused) of the first clip player.
    let player = |c: Client| async move {
        let v = c
            .execute(
                "const a = document.querySelector('.clip audio');
                 return a ? [a.readyState, a.duration, a.currentTime, a.paused] : null;",
                vec![],
            )
            .await
            .unwrap();
        v.as_array().map(|a| {
            (
                a[0].as_u64().unwrap_or(0),
                a[1].as_f64().unwrap_or(0.0),
                a[2].as_f64().unwrap_or(0.0),
                a[3].as_bool().unwrap_or(true),
            )
        })
    };
    for page in ["/song?name=Night%20Drive", "/queue"] {
        c.goto(&format!("{}{page}", s.url)).await.unwrap();
        browser
            .until(
                "the clip's metadata",
                Duration::from_secs(10),
                |c| async move { player(c).await.is_some_and(|(ready, ..)| ready >= 1) },
            )
            .await;
        let (_, duration, at, paused) = player(c.clone()).await.unwrap();
        assert!((duration - 3.0).abs() < 0.01, "{page}: duration {duration}");
        assert!(
            (at - 2.0).abs() < 0.01,
            "{page}: starts at {at}, not the moment"
        );
        assert!(paused, "nothing plays by itself");
    }
    // The queue: j focuses the item, p plays its clip from the moment, p again pauses it.
    press(c, 'j').await;
    press(c, 'p').await;
    browser
        .until(
            "the clip playing",
            Duration::from_secs(10),
            |c| async move {
                player(c)
                    .await
                    .is_some_and(|(_, _, at, paused)| !paused && at > 2.05)
            },
        )
        .await;
    press(c, 'p').await;
    browser
        .until("the clip paused", Duration::from_secs(10), |c| async move {
            player(c).await.is_some_and(|(.., paused)| paused)
        })
        .await;
    browser.close().await;
}

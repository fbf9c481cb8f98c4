//! The way back on the review page in a real browser (headless Chromium over WebDriver),
//! against the real server, as the people involved: the producer answers the executive's
//! request for changes with *done* naming the version and replies in the thread; the
//! executive finds it as a re-check in the queue (its own filter and count) with a link to
//! that version at the note's place, answers in the thread and approves. axe-core finds no
//! serious problem on either page.

mod common;

use common::browser::{axe, axe_source, js, Browser};
use common::{note_by, push, version_printed, Server};
use fantoccini::{Client, Locator};
use liner_record::event::{Body, Event, Verdict};
use liner_record::review::Standing;
use liner_record::{fold, DawPos, Role};
use std::time::Duration;

const P: &str = "Loop";

/// The events of the project once `check` finds what it waits for.
async fn until_stored<T>(s: &Server, what: &str, check: impl Fn(&[Event]) -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(t) = check(&tokio::task::block_in_place(|| s.events(P))) {
            return t;
        }
        assert!(std::time::Instant::now() < deadline, "{what} never arrived");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Types `text` into the field `id` and submits its form with the button `button` (CSS),
/// opening the fold it sits in first as a person would (replies are folded until wanted).
async fn fill_and_send(c: &Client, id: &str, text: &str, button: &str) {
    if let Ok(fold) = c
        .find(Locator::Css(&format!("details:has(#{id}) > summary")))
        .await
    {
        fold.click().await.unwrap();
    }
    let field = c.find(Locator::Id(id)).await.unwrap();
    field.send_keys(text).await.unwrap();
    c.find(Locator::Css(button))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn done_goes_back_to_the_executive_as_a_recheck_with_its_version_and_the_thread() {
    let s = Server::start();
    let (sam, eve) = (
        s.token(P, "Sam", Role::Producer),
        s.token(P, "Eve", Role::Executive),
    );
    let mut note = note_by(P, "Sam", Role::Producer, "breath at the top of the chorus");
    note.pos = Some(DawPos {
        seconds: Some(12.0),
        beats: Some(24.0),
        tempo: Some(120.0),
        time_sig: Some((4, 4)),
        bar: Some(7),
        beat: Some(1.0),
        ..DawPos::default()
    });
    let mut v1 = version_printed(P, "Sam", b"first mix");
    let mut v2 = version_printed(P, "Sam", b"second mix");
    for (v, label) in [(&mut v1, "v1"), (&mut v2, "v2")] {
        if let Body::VersionPrinted(p) = &mut v.body {
            p.label = label.into();
        }
    }
    v2.at = v1.at + 1;
    // (The blocking HTTP client is kept off the test's async threads.)
    let pushed =
        |token: &str, events: &[&Event]| tokio::task::block_in_place(|| push(&s, token, events).0);
    assert_eq!(pushed(&sam, &[&note, &v1, &v2]), 200);
    let asked = common::approval(P, "Eve", note.id);
    let asked = Event {
        body: Body::Verdict {
            target: note.id,
            verdict: Verdict::ChangesRequested,
            comment: "too loud".into(),
        },
        ..asked
    };
    assert_eq!(pushed(&eve, &[&asked]), 200);
    let source = axe_source();

    // The producer: done, in v2, and a reply.
    let browser = Browser::start(1280, 900).await;
    browser.sign_in(&s.url, &sam).await;
    let c = &browser.client;
    c.goto(&format!("{}/song?name=Song", s.url)).await.unwrap();
    assert!(
        c.find(Locator::Css("form.decide")).await.is_err(),
        "no verdict buttons for the producer"
    );
    let chosen = js(
        c,
        &format!(
            "return document.getElementById('done-v-{}').value;",
            note.id
        ),
    )
    .await;
    assert_eq!(
        chosen,
        v2.id.to_string(),
        "the newest version is offered first"
    );
    let problems = axe(c, &source).await;
    assert!(
        problems.is_empty(),
        "axe on the producer's song page: {problems:?}"
    );
    fill_and_send(
        c,
        &format!("done-{}", note.id),
        "pulled the breath down 4 dB",
        "form.done button",
    )
    .await;
    let done = until_stored(&s, "the done", |events| {
        events.iter().find_map(|e| match &e.body {
            Body::MarkedDone(d) => Some((e.author.clone(), d.clone())),
            _ => None,
        })
    })
    .await;
    assert_eq!(done.0, "Sam");
    assert_eq!(
        (done.1.target, done.1.answers, done.1.version),
        (note.id, asked.id, Some(v2.id))
    );
    browser
        .until_text("#main", |t| t.contains("Done by Sam (producer)"))
        .await;
    fill_and_send(
        c,
        &format!("reply-{}", note.id),
        "the de-esser too",
        &format!("form.reply:has(#reply-{}) button", note.id),
    )
    .await;
    until_stored(&s, "Sam's reply", |events| {
        events
            .iter()
            .any(|e| matches!(&e.body, Body::ReplyAdded(r) if r.text == "the de-esser too"))
            .then_some(())
    })
    .await;
    browser.close().await;

    // The executive: the re-check waits in the queue, counted apart, with its version.
    let browser = Browser::start(1280, 900).await;
    browser.sign_in(&s.url, &eve).await;
    let c = &browser.client;
    c.goto(&format!("{}/queue?state=recheck", s.url))
        .await
        .unwrap();
    let main = browser.main_text().await;
    assert!(main.contains("1 of 3 waiting"), "{main}");
    assert!(main.contains("(1 done and back for a re-check)"), "{main}");
    assert!(main.contains("⟳ Re-check"), "{main}");
    assert!(
        main.contains("Done by Sam (producer)")
            && main.contains("in v2: pulled the breath down 4 dB"),
        "{main}"
    );
    assert!(
        main.contains("Sam (producer)") && main.contains("the de-esser too"),
        "the thread: {main}"
    );
    let href = c
        .find(Locator::LinkText("Listen to v2 here"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    assert!(
        href.contains(&format!("v={}", v2.id)) && href.contains("&t=12.000"),
        "the link plays v2 from the note's place: {href}"
    );
    let problems = axe(c, &source).await;
    assert!(
        problems.is_empty(),
        "axe on the queue with a re-check: {problems:?}"
    );
    fill_and_send(
        c,
        &format!("reply-{}", note.id),
        "better, listening now",
        &format!("form.reply:has(#reply-{}) button", note.id),
    )
    .await;
    until_stored(&s, "Eve's reply", |events| {
        events
            .iter()
            .any(|e| {
                e.author == "Eve"
                    && matches!(&e.body, Body::ReplyAdded(r) if r.text == "better, listening now")
            })
            .then_some(())
    })
    .await;
    c.goto(&format!("{}{href}", s.url)).await.unwrap();
    let start = js(c, "return document.getElementById('player').dataset.start;").await;
    assert_eq!(start, "12.000", "the player starts at the note");

    // Approve from the queue: the re-check is over.
    c.goto(&format!("{}/queue?state=recheck", s.url))
        .await
        .unwrap();
    c.find(Locator::Css("form.decide button.approve"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    until_stored(&s, "the approval", |events| {
        let views = fold(events);
        let n = views.notes.iter().find(|n| n.id == note.id)?;
        (Standing::of(liner_record::review::Item::Note, n.verdict.as_ref())
            == Some(Standing::Decided(Verdict::Approved)))
        .then_some(())
    })
    .await;
    browser.close().await;
}

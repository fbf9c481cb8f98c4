//! One rule for what is open: the overview, the decision queue and the exported Markdown log
//! give the same counts for the same record (the rule is `liner_record::review`).
//!
//! The record holds every kind of item and a verdict on each interesting case: notes and
//! EQ/FX decisions (always up for review), a rated take (up for review), an unrated take and
//! a mark (not asked about), a verdict on the unrated take (a verdict given counts), and a
//! note whose changes were requested and then done (back for a re-check: waiting, and
//! counted on its own).

mod common;

use common::{ctx, note_by, push, session_cookie, sign_in_raw, Server};
use liner_record::event::{Body, Decision, Event, Rating, TakeRef, Verdict};
use liner_record::Role;
use reqwest::StatusCode;

const P: &str = "Counts";

fn event(body: Body, role: Role) -> Event {
    let who = if role == Role::Executive {
        "Eve"
    } else {
        "Sam"
    };
    Event::new(&ctx(P, who, role), None, body)
}

fn verdict(target: &Event, verdict: Verdict) -> Event {
    event(
        Body::Verdict {
            target: target.id,
            verdict,
            comment: String::new(),
        },
        Role::Executive,
    )
}

fn decision(processor: &str) -> Decision {
    Decision {
        processor: processor.into(),
        settings: Vec::new(),
        reason: "because".into(),
    }
}

/// What the record should count.
struct Expected {
    open: usize,
    approved: usize,
    rejected: usize,
    changes: usize,
    recheck: usize,
}

/// Pushes the record; returns what it should count.
fn record(s: &Server) -> Expected {
    let producer = s.token(P, "Sam", Role::Producer);
    let executive = s.token(P, "Eve", Role::Executive);
    let instance = uuid::Uuid::now_v7();
    let (rated, unrated) = (
        TakeRef {
            instance,
            number: 1,
        },
        TakeRef {
            instance,
            number: 2,
        },
    );
    let notes: Vec<Event> = (0..3)
        .map(|i| note_by(P, "Sam", Role::Producer, &format!("note {i}")))
        .collect();
    let eq = event(Body::EqDecision(decision("Pro-Q")), Role::Producer);
    let fx = event(Body::FxDecision(decision("1176")), Role::Producer);
    let take1 = event(Body::TakeStarted { take: rated }, Role::Producer);
    let take2 = event(Body::TakeStarted { take: unrated }, Role::Producer);
    let producer_events = vec![
        notes[0].clone(),
        notes[1].clone(),
        notes[2].clone(),
        eq.clone(),
        fx,
        take1.clone(),
        event(Body::TakeEnded { take: rated }, Role::Producer),
        event(
            Body::TakeRated {
                take: rated,
                rating: Rating::Keeper,
                stars: Some(4),
                note: None,
            },
            Role::Producer,
        ),
        take2.clone(),
        event(Body::TakeEnded { take: unrated }, Role::Producer),
        event(
            Body::Mark {
                instance,
                number: 1,
                label: Some("chorus".into()),
            },
            Role::Producer,
        ),
    ];
    let (status, answer) = push(s, &producer, &producer_events.iter().collect::<Vec<_>>());
    assert_eq!(status, StatusCode::OK, "{answer}");
    let asked = verdict(&notes[1], Verdict::ChangesRequested);
    let verdicts = [
        verdict(&notes[0], Verdict::Approved),
        verdict(&eq, Verdict::Rejected),
        verdict(&take1, Verdict::ChangesRequested),
        verdict(&take2, Verdict::Approved),
        asked.clone(),
    ];
    let (status, answer) = push(s, &executive, &verdicts.iter().collect::<Vec<_>>());
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(
        answer["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["error"].is_null()),
        "every verdict is taken: {answer}"
    );
    let done = event(
        Body::MarkedDone(liner_record::event::MarkedDone {
            target: notes[1].id,
            answers: asked.id,
            version: None,
            comment: "tightened".into(),
        }),
        Role::Producer,
    );
    let (status, answer) = push(s, &producer, &[&done]);
    assert_eq!(
        (status, answer["results"][0]["status"].as_str()),
        (StatusCode::OK, Some("stored")),
        "{answer}"
    );
    // Up for review: 3 notes, 2 decisions, the rated take; judged: two notes (one of them
    // done since), the EQ decision, the rated take and the unrated take.
    Expected {
        open: 2,
        approved: 2,
        rejected: 1,
        changes: 1,
        recheck: 1,
    }
}

/// A page of the review site as the executive sees it.
fn page(s: &Server, cookie: &str, path: &str) -> String {
    let r = reqwest::blocking::Client::new()
        .get(format!("{}{path}", s.url))
        .header("cookie", cookie)
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    r.text().unwrap()
}

/// The whole numbers in `html` right after each `marker`, in order (a marker followed by no
/// number is skipped).
fn numbers_after(html: &str, marker: &str) -> Vec<usize> {
    html.match_indices(marker)
        .filter_map(|(i, _)| {
            let rest = &html[i + marker.len()..];
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
        .collect()
}

/// The part of `html` from `start` to the next `end`.
fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let from = html.find(start).unwrap_or_else(|| panic!("no {start}"));
    let to = html[from..].find(end).unwrap_or_else(|| panic!("no {end}"));
    &html[from..from + to]
}

#[test]
fn the_overview_the_queue_and_the_markdown_log_count_alike() {
    let s = Server::start();
    let Expected {
        open,
        approved,
        rejected,
        changes,
        recheck,
    } = record(&s);
    let waiting = open + recheck;
    let executive = s.token(P, "Eve", Role::Executive);
    let cookie = session_cookie(&sign_in_raw(&s, &executive, &[]));

    let overview = page(&s, &cookie, "/");
    // The tiles: waiting, re-check, approved, rejected, changes requested.
    let tiles = numbers_after(&overview, "<span class=\"num\">");
    assert_eq!(
        tiles,
        vec![waiting, recheck, approved, rejected, changes],
        "overview tiles"
    );
    // The song's row: open, approved, rejected, changes, re-check.
    let songs = between(&overview, "<table class=\"songs\">", "</table>");
    let row = numbers_after(songs, "<td class=\"num\">");
    assert_eq!(
        row,
        [open, approved, rejected, changes, recheck],
        "song row"
    );

    let queue = page(&s, &cookie, "/queue");
    assert_eq!(
        queue.matches("<li class=\"item\"").count(),
        waiting,
        "queue items"
    );
    assert!(
        queue.contains(&format!(
            "{waiting} of {waiting} waiting for the final say, oldest first ({recheck} done"
        )),
        "queue lede"
    );
    let rechecks = page(&s, &cookie, "/queue?state=recheck");
    assert_eq!(
        rechecks.matches("<li class=\"item\"").count(),
        recheck,
        "the re-check filter"
    );
    assert!(
        rechecks.contains("Done by <strong><bdi>Sam</bdi></strong>"),
        "{rechecks}"
    );

    let markdown = common::get(&s, &executive, "/api/v1/export?format=markdown").1;
    let summary = format!("| {open} | {approved} | {rejected} | {changes} | {recheck} |");
    assert!(
        markdown.contains(
            "| open | approved | rejected | changes requested | re-check |\n\
             |---:|---:|---:|---:|---:|\n"
        ) && markdown.contains(&summary),
        "markdown summary is not {summary}:\n{markdown}"
    );
}

//! The review loop in the record: replies (a thread per thing, each reply its author's),
//! and the way back from *changes requested* (done, then re-check) with who may move what.
//! The fold must give the same answer whatever order the events arrive in.

use liner_record::event::{
    Body, Category, Context, Event, MarkedDone, NoteAdded, ReplyAdded, Role, Verdict,
};
use liner_record::export::{entries, export, Format, Scope};
use liner_record::review::{Standing, Tally};
use liner_record::{fold, Views};
use uuid::Uuid;

fn ctx(author: &str, role: Role) -> Context {
    Context {
        project: "P".into(),
        song: "Night Drive".into(),
        track: "Lead Vox".into(),
        session: Uuid::nil(),
        author: author.into(),
        role,
    }
}

fn by(author: &str, role: Role, ms: i64, body: Body) -> Event {
    let mut e = Event::new(&ctx(author, role), None, body);
    e.at = ms;
    e
}

fn note(ms: i64) -> Event {
    by(
        "Sam",
        Role::Producer,
        ms,
        Body::NoteAdded(NoteAdded {
            text: "breath at the top".into(),
            category: Category::Vocal,
            anchor: None,
            take: None,
            private: false,
            version: None,
            guest: None,
        }),
    )
}

fn verdict(target: Uuid, verdict: Verdict, ms: i64) -> Event {
    by(
        "Alex",
        Role::Executive,
        ms,
        Body::Verdict {
            target,
            verdict,
            comment: "more air".into(),
        },
    )
}

fn done(who: &str, role: Role, target: Uuid, answers: Uuid, ms: i64) -> Event {
    by(
        who,
        role,
        ms,
        Body::MarkedDone(MarkedDone {
            target,
            answers,
            version: None,
            comment: "opened the de-esser".into(),
        }),
    )
}

fn reply(who: &str, role: Role, target: Uuid, text: &str, ms: i64) -> Event {
    by(
        who,
        role,
        ms,
        Body::ReplyAdded(ReplyAdded {
            target,
            text: text.into(),
        }),
    )
}

/// The fold of `events` in order, reversed, and rotated: all three must agree.
fn folded(events: &[Event]) -> Views {
    let views = fold(events);
    let mut reversed = events.to_vec();
    reversed.reverse();
    assert_eq!(
        fold(&reversed),
        views,
        "the order of arrival changed the fold"
    );
    let mut rotated = events.to_vec();
    rotated.rotate_left(events.len() / 2);
    rotated.extend(events.iter().cloned());
    assert_eq!(fold(&rotated), views, "duplicates changed the fold");
    views
}

fn standing(views: &Views, id: Uuid) -> Option<Standing> {
    let n = views.notes.iter().find(|n| n.id == id).unwrap();
    Standing::of(liner_record::review::Item::Note, n.verdict.as_ref())
}

#[test]
fn done_after_changes_requested_puts_the_note_back_for_a_recheck_and_a_verdict_ends_it() {
    let n = note(1_000);
    let asked = verdict(n.id, Verdict::ChangesRequested, 2_000);
    let mut events = vec![n.clone(), asked.clone()];
    assert_eq!(
        standing(&folded(&events), n.id),
        Some(Standing::Decided(Verdict::ChangesRequested))
    );

    // The engineer (not the note's author) may say it is done, naming the print.
    let mut d = done("Kim", Role::Engineer, n.id, asked.id, 3_000);
    if let Body::MarkedDone(m) = &mut d.body {
        m.version = Some(Uuid::now_v7()); // no such version: kept out of the view
    }
    events.push(d.clone());
    let views = folded(&events);
    assert_eq!(standing(&views, n.id), Some(Standing::Recheck));
    let seen = views.notes[0]
        .verdict
        .as_ref()
        .unwrap()
        .done
        .as_ref()
        .unwrap();
    assert_eq!((seen.author.as_str(), seen.id), ("Kim", d.id));
    assert_eq!(
        seen.version, None,
        "a version that is not the project's is not named"
    );

    // The executive's next word ends the re-check.
    events.push(verdict(n.id, Verdict::Approved, 4_000));
    assert_eq!(
        standing(&folded(&events), n.id),
        Some(Standing::Decided(Verdict::Approved))
    );
}

#[test]
fn a_done_answers_one_changes_request_only_and_never_from_the_executive_or_a_viewer() {
    let n = note(1_000);
    let first = verdict(n.id, Verdict::ChangesRequested, 2_000);
    let second = verdict(n.id, Verdict::ChangesRequested, 4_000);
    let approved = verdict(n.id, Verdict::Approved, 5_000);
    let base = vec![n.clone(), first.clone(), second.clone()];

    // A done of the first request does not answer the second.
    let mut events = base.clone();
    events.push(done("Sam", Role::Producer, n.id, first.id, 3_000));
    assert_eq!(
        standing(&folded(&events), n.id),
        Some(Standing::Decided(Verdict::ChangesRequested))
    );

    for (who, role) in [("Alex", Role::Executive), ("Vic", Role::Viewer)] {
        let mut events = base.clone();
        events.push(done(who, role, n.id, second.id, 4_500));
        assert_eq!(
            standing(&folded(&events), n.id),
            Some(Standing::Decided(Verdict::ChangesRequested)),
            "{role} may not say done"
        );
    }

    // Naming another target than the verdict's, or a verdict that is no changes request.
    let other = note(1_100);
    let mut events = base.clone();
    events.push(other.clone());
    events.push(done("Sam", Role::Producer, other.id, second.id, 4_500));
    let views = folded(&events);
    assert_eq!(
        standing(&views, n.id),
        Some(Standing::Decided(Verdict::ChangesRequested))
    );
    assert_eq!(standing(&views, other.id), Some(Standing::Open));
    let mut events = vec![n.clone(), approved.clone()];
    events.push(done("Sam", Role::Producer, n.id, approved.id, 6_000));
    assert_eq!(
        standing(&folded(&events), n.id),
        Some(Standing::Decided(Verdict::Approved))
    );
}

#[test]
fn a_thread_holds_each_replys_latest_words_and_only_its_author_changes_them() {
    let n = note(1_000);
    let r1 = reply("Alex", Role::Executive, n.id, "which take?", 2_000);
    let r2 = reply("Sam", Role::Producer, n.id, "take 3", 3_000);
    let events = vec![
        n.clone(),
        r2.clone(),
        r1.clone(),
        // Sam edits their own; Kim's edit and delete of Alex's reply do nothing.
        by(
            "Sam",
            Role::Producer,
            3_500,
            Body::ReplyEdited {
                reply: r2.id,
                text: "take 3, bar 12".into(),
            },
        ),
        by(
            "Kim",
            Role::Engineer,
            3_600,
            Body::ReplyEdited {
                reply: r1.id,
                text: "hijacked".into(),
            },
        ),
        by(
            "Kim",
            Role::Engineer,
            3_700,
            Body::ReplyDeleted { reply: r1.id },
        ),
        // A reply to nothing of this project is not shown.
        reply("Sam", Role::Producer, Uuid::now_v7(), "lost", 3_800),
    ];
    let views = folded(&events);
    let thread = &views.replies[&n.id];
    let words: Vec<(&str, &str)> = thread
        .iter()
        .map(|r| (r.author.as_str(), r.text.as_str()))
        .collect();
    assert_eq!(
        words,
        [("Alex", "which take?"), ("Sam", "take 3, bar 12")],
        "oldest first, the author's edit kept, others' changes ignored"
    );
    assert_eq!(views.replies.len(), 1);

    let mut gone = events.clone();
    gone.push(by(
        "Alex",
        Role::Executive,
        4_000,
        Body::ReplyDeleted { reply: r1.id },
    ));
    assert_eq!(
        folded(&gone).replies[&n.id].len(),
        1,
        "its author deletes it"
    );
    gone.push(by(
        "Sam",
        Role::Producer,
        5_000,
        Body::NoteDeleted { note: n.id },
    ));
    assert!(
        folded(&gone).replies.is_empty(),
        "the thread of a deleted note goes with it"
    );
}

#[test]
fn the_logs_count_rechecks_apart_and_show_the_done_and_the_thread() {
    let n = note(1_000);
    let open = note(1_200);
    let asked = verdict(n.id, Verdict::ChangesRequested, 2_000);
    let events = vec![
        n.clone(),
        open.clone(),
        asked.clone(),
        done("Sam", Role::Producer, n.id, asked.id, 3_000),
        reply("Alex", Role::Executive, n.id, "listening now", 3_500),
    ];
    let views = fold(&events);
    let scope = Scope::default();
    let listed = entries(&events, &views, &scope);
    let tally = Tally::of(listed.iter().map(|e| e.standing()));
    assert_eq!((tally.open, tally.recheck, tally.waiting()), (1, 1, 2));

    let md = String::from_utf8(export(&events, &scope, Format::Markdown).bytes).unwrap();
    assert!(
        md.contains("| open | approved | rejected | changes requested | re-check |")
            && md.contains("| 1 | 0 | 0 | 0 | 1 |"),
        "{md}"
    );
    assert!(
        md.contains("**changes requested**: more air · **re-check**: done by Sam (producer): opened the de-esser"),
        "{md}"
    );
    assert!(md.contains("  - ↳ Alex (executive): listening now"), "{md}");
    let html = String::from_utf8(export(&events, &scope, Format::Html).bytes).unwrap();
    assert!(html.contains("<th>re-check</th>"), "{html}");
    assert!(html.contains("<ul class=\"thread\"><li>↳ <bdi>Alex</bdi> (executive): <bdi>listening now</bdi></li></ul>"), "{html}");
    let json = String::from_utf8(export(&events, &scope, Format::Json).bytes).unwrap();
    assert!(
        json.contains("\"replies\":{"),
        "the JSON views carry the threads"
    );
    assert!(json.contains("\"done\":{"), "the JSON views carry the done");
}

#[test]
fn a_digest_tells_each_person_what_waits_for_them_and_what_answered_them() {
    use liner_record::digest::{digest, Why};
    let n = note(1_000);
    let other = note(1_100);
    let asked = verdict(n.id, Verdict::ChangesRequested, 2_000);
    let mut events = vec![
        n.clone(),
        other.clone(),
        asked.clone(),
        reply("Kim", Role::Engineer, n.id, "I can fix it", 2_500),
        reply("Sam", Role::Producer, other.id, "also this", 2_600),
        reply("Alex", Role::Executive, other.id, "fine", 2_700),
    ];
    let d = |events: &[Event], who: &str, role: Role, since: Option<i64>| {
        let views = fold(events);
        let listed = entries(events, &views, &Scope::default());
        digest(events, &views, &listed, who, role, since)
    };

    // Sam: the changes request waits for Sam's done; the verdict and both replies are news.
    let sam = d(&events, "Sam", Role::Producer, None);
    assert_eq!(sam.waiting.len(), 1);
    assert_eq!(sam.waiting[0].id, n.id);
    let why: Vec<Why> = sam.news.iter().map(|x| x.why).collect();
    assert_eq!(
        why,
        [Why::Replied, Why::Replied, Why::Decided],
        "newest first"
    );
    assert!(
        sam.news[2]
            .words
            .starts_with("Alex (executive) asked for changes on Sam's note"),
        "{}",
        sam.news[2].words
    );
    assert!(
        sam.news.iter().all(|x| !x.words.starts_with("Sam ")),
        "never one's own words"
    );
    // Since a later look, only what came after.
    assert_eq!(d(&events, "Sam", Role::Producer, Some(2_600)).news.len(), 1);

    // Alex: the other note is open; Kim's reply is not in a thread Alex wrote in.
    let alex = d(&events, "Alex", Role::Executive, None);
    assert_eq!(alex.waiting.len(), 1);
    assert_eq!(alex.waiting[0].id, other.id);
    assert!(alex.news.iter().all(|x| x.about != n.id), "{:?}", alex.news);

    // Sam says done: it waits for Alex as a re-check, and is news to Alex.
    let said = done("Sam", Role::Producer, n.id, asked.id, 3_000);
    events.push(said.clone());
    let alex = d(&events, "Alex", Role::Executive, Some(2_900));
    assert_eq!(alex.waiting.len(), 2);
    let recheck = alex
        .waiting
        .iter()
        .find(|w| w.standing == Standing::Recheck)
        .unwrap();
    assert_eq!(
        recheck.round,
        (said.id, 3_000),
        "this round began with the done"
    );
    assert_eq!(alex.news.len(), 1);
    assert_eq!(alex.news[0].why, Why::Done);
    assert!(
        d(&events, "Sam", Role::Producer, None).waiting.is_empty(),
        "done: nothing waits for Sam"
    );
}

/// A guest's comment the executive accepted from a listening link reads as the guest's, vouched
/// for by the executive, in the logs people read; a producer's note names its producer as
/// before.
#[test]
fn the_logs_name_an_accepted_guest_comment_as_the_guests() {
    let mut guest_note = note(1_000);
    guest_note.author = "Alex".into();
    guest_note.role = Role::Executive;
    if let Body::NoteAdded(n) = &mut guest_note.body {
        n.guest = Some("Ana".into());
        n.text = "lovely chorus".into();
    }
    let events = vec![note(500), guest_note];
    let scope = Scope::default();
    let md = String::from_utf8(export(&events, &scope, Format::Markdown).bytes).unwrap();
    assert!(md.contains("Ana (guest, accepted by Alex) · "), "{md}");
    assert!(md.contains("Sam (producer) · "), "{md}");
    let html = String::from_utf8(export(&events, &scope, Format::Html).bytes).unwrap();
    assert!(
        html.contains("<bdi>Ana</bdi> (guest, accepted by <bdi>Alex</bdi>)"),
        "{html}"
    );
}

#[test]
fn what_answers_a_private_note_leaves_no_export_unless_private_notes_are_asked_for() {
    let mut secret = note(1_000);
    if let Body::NoteAdded(n) = &mut secret.body {
        n.private = true;
    }
    let answer = reply("Sam", Role::Producer, secret.id, "only mine to read", 2_000);
    let edit = by(
        "Sam",
        Role::Producer,
        3_000,
        Body::ReplyEdited {
            reply: answer.id,
            text: "still only mine".into(),
        },
    );
    let events = vec![secret, answer, edit];
    for format in [Format::Json, Format::Markdown, Format::Html, Format::Csv] {
        let out = String::from_utf8(export(&events, &Scope::default(), format).bytes).unwrap();
        assert!(!out.contains("only mine"), "{format:?}: {out}");
    }
    let asked = Scope {
        include_private: true,
        ..Scope::default()
    };
    let out = String::from_utf8(export(&events, &asked, Format::Json).bytes).unwrap();
    assert!(out.contains("still only mine"), "{out}");
}

#[test]
fn only_the_executive_vouches_for_a_guest_even_in_a_hand_edited_journal() {
    let mut forged = note(1_000);
    if let Body::NoteAdded(n) = &mut forged.body {
        n.guest = Some("The Label".into());
    }
    let views = fold(std::slice::from_ref(&forged));
    assert_eq!(
        views.notes[0].guest, None,
        "a producer's note names no guest"
    );
    let md = String::from_utf8(
        export(
            std::slice::from_ref(&forged),
            &Scope::default(),
            Format::Markdown,
        )
        .bytes,
    )
    .unwrap();
    assert!(!md.contains("The Label (guest"), "{md}");
}

/// A reply from a computer whose clock runs fast, edited and then deleted from one whose
/// clock is right: the edit and the deletion are stamped before the reply, and the server
/// took them in the order they came. The fold must agree.
#[test]
fn a_reply_edited_and_deleted_by_clocks_behind_its_own_still_changes() {
    let n = note(1_000);
    let fast = reply("Kim", Role::Engineer, n.id, "first words", 9_000);
    let edit = by(
        "Kim",
        Role::Engineer,
        5_000,
        Body::ReplyEdited {
            reply: fast.id,
            text: "second words".into(),
        },
    );
    let views = folded(&[n.clone(), fast.clone(), edit.clone()]);
    assert_eq!(views.replies[&n.id][0].text, "second words");
    let gone = by(
        "Kim",
        Role::Engineer,
        6_000,
        Body::ReplyDeleted { reply: fast.id },
    );
    assert!(folded(&[n, fast, edit, gone]).replies.is_empty());
}

#[test]
fn a_digest_tells_a_replys_latest_words_and_nothing_of_a_deleted_reply_or_a_stale_done() {
    use liner_record::digest::digest;
    let n = note(1_000);
    let first = verdict(n.id, Verdict::ChangesRequested, 2_000);
    let kept = reply("Kim", Role::Engineer, n.id, "first words", 2_100);
    let gone = reply("Kim", Role::Engineer, n.id, "regretted", 2_200);
    let events = vec![
        n.clone(),
        first.clone(),
        kept.clone(),
        gone.clone(),
        by(
            "Kim",
            Role::Engineer,
            2_300,
            Body::ReplyEdited {
                reply: kept.id,
                text: "better words".into(),
            },
        ),
        by(
            "Kim",
            Role::Engineer,
            2_400,
            Body::ReplyDeleted { reply: gone.id },
        ),
        done("Sam", Role::Producer, n.id, first.id, 2_500),
        verdict(n.id, Verdict::ChangesRequested, 2_600),
        // A done of the first request, after the second: the item has moved on.
        done("Kim", Role::Engineer, n.id, first.id, 2_700),
    ];
    let views = fold(&events);
    let listed = entries(&events, &views, &Scope::default());
    let sam = digest(&events, &views, &listed, "Sam", Role::Producer, None);
    let words: Vec<&str> = sam.news.iter().map(|x| x.words.as_str()).collect();
    assert!(
        words.iter().any(|w| w.ends_with(": better words")),
        "{words:?}"
    );
    assert!(
        words
            .iter()
            .all(|w| !w.contains("first words") && !w.contains("regretted")),
        "{words:?}"
    );
    let alex = digest(&events, &views, &listed, "Alex", Role::Executive, None);
    assert!(
        alex.news
            .iter()
            .all(|x| x.why != liner_record::digest::Why::Done),
        "neither done answers the request that stands now: {:?}",
        alex.news
    );
}

//! Each person's digest against a real `liner serve` (SQLite, or PostgreSQL when the run is on
//! it): the page ("For you") shows what waits for me and what answered me since my last look,
//! then records the look; the private feed parses back as Atom 1.0 with the right entries (a
//! reply to me, a verdict on my note; never my own words, another person's news or anything
//! private), 404s after it is replaced, turned off, or its person's token revoked, and slows
//! guessing; the forms refuse requests without the session's CSRF secret and act on the
//! signed-in person only; and a tiny SMTP sink on loopback receives the session digest after
//! the quiet time, with the right envelope, headers and words, and nothing when there is no
//! news.

mod common;

use common::serve::Serve;
use common::{liner, sign_in_at};
use liner_record::event::{Body, Event, ReplyAdded, Verdict};
use liner_record::Role;
use liner_test_support::wait_until;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const P: &str = "My Project";
const EXEC: &str = "Executive producer";
const PUBLIC: &str = "https://review.example";

// ---------------------------------------------------------------------------------------
// A `liner serve` process and the people of its project.

fn run(mut c: Command) -> (bool, String) {
    let out = c.output().unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn liner_args(data: &Path, args: &[&str]) -> (bool, String) {
    let mut c = liner(data);
    c.args(args);
    run(c)
}

/// `liner mail set --project P --person PERSON --to TO --every EVERY`.
fn mail_set(data: &Path, person: &str, to: &str, every: &str) -> (bool, String) {
    liner_args(
        data,
        &[
            "mail",
            "set",
            "--project",
            P,
            "--person",
            person,
            "--to",
            to,
            "--every",
            every,
        ],
    )
}

/// A new token of `person` in `project` (`liner token add`).
fn token(data: &Path, project: &str, person: &str, role: &str) -> String {
    let (ok, out) = liner_args(
        data,
        &[
            "token",
            "add",
            "--project",
            project,
            "--person",
            person,
            "--role",
            role,
        ],
    );
    assert!(ok, "{out}");
    out.lines().nth(1).expect("the token").trim().to_owned()
}

fn push(url: &str, token: &str, events: &[&Event]) {
    let r = common::client()
        .post(format!("{url}/api/v1/events"))
        .bearer_auth(token)
        .json(&serde_json::json!({ "events": events }))
        .send()
        .unwrap();
    let status = r.status();
    let body = r.text().unwrap();
    assert!(status.is_success(), "{body}");
    assert!(!body.contains("refused"), "{body}");
}

fn note(author: &str, text: &str) -> Event {
    common::note_by(P, author, Role::Producer, text)
}

fn private_note(author: &str, text: &str) -> Event {
    let mut n = note(author, text);
    if let Body::NoteAdded(b) = &mut n.body {
        b.private = true;
    }
    n
}

fn verdict(target: uuid::Uuid, verdict: Verdict, comment: &str) -> Event {
    Event::new(
        &common::ctx(P, EXEC, Role::Executive),
        None,
        Body::Verdict {
            target,
            verdict,
            comment: comment.into(),
        },
    )
}

fn reply(author: &str, role: Role, target: uuid::Uuid, text: &str) -> Event {
    Event::new(
        &common::ctx(P, author, role),
        None,
        Body::ReplyAdded(ReplyAdded {
            target,
            text: text.into(),
        }),
    )
}

/// A signed-in browser: its cookie.
struct Browser {
    url: String,
    cookie: String,
    http: reqwest::blocking::Client,
}

impl Browser {
    fn sign_in(url: &str, token: &str) -> Browser {
        let signed = sign_in_at(url, token, &[]);
        assert_eq!(signed.status(), 303, "signed in");
        Browser {
            url: url.to_owned(),
            cookie: common::session_cookie(&signed),
            http: reqwest::blocking::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }

    fn get(&self, path: &str) -> (u16, String) {
        let r = self
            .http
            .get(format!("{}{path}", self.url))
            .header("cookie", &self.cookie)
            .send()
            .unwrap();
        (r.status().as_u16(), r.text().unwrap())
    }

    fn csrf(&self) -> String {
        let (_, html) = self.get("/tracklist");
        html.split("data-csrf=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .expect("a CSRF secret on the page")
            .to_owned()
    }

    fn post(&self, path: &str, form: &[(&str, &str)], headers: &[(&str, &str)]) -> (u16, String) {
        let mut req = self
            .http
            .post(format!("{}{path}", self.url))
            .header("cookie", &self.cookie)
            .form(form);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let r = req.send().unwrap();
        (r.status().as_u16(), r.text().unwrap())
    }

    /// A new feed address (`POST /digest/feed`): its path, `/feed/lnfeed_...`.
    fn make_feed(&self) -> String {
        let csrf = self.csrf();
        let (status, html) = self.post("/digest/feed", &[("csrf", &csrf)], &[]);
        assert_eq!(status, 200, "{html}");
        let url = html
            .split("value=\"")
            .map(|s| s.split('"').next().unwrap())
            .find(|v| v.contains("/feed/lnfeed_"))
            .unwrap_or_else(|| panic!("no feed address shown: {html}"))
            .to_owned();
        assert!(url.starts_with(&format!("{PUBLIC}/feed/lnfeed_")), "{url}");
        url.strip_prefix(PUBLIC).unwrap().to_owned()
    }
}

/// `GET` a feed path with no cookie: its status, content type and body.
fn fetch(url: &str, path: &str) -> (u16, String, String) {
    let r = common::client().get(format!("{url}{path}")).send().unwrap();
    let kind = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (r.status().as_u16(), kind, r.text().unwrap())
}

/// The feed at `path`, parsed back with atom_syndication; every entry checked to carry an
/// `urn:uuid:` id, a title and an updated time, the feed's updated being its newest entry's.
fn atom(url: &str, path: &str) -> atom_syndication::Feed {
    let (status, kind, body) = fetch(url, path);
    assert_eq!(status, 200, "{body}");
    assert_eq!(kind, "application/atom+xml; charset=utf-8");
    let feed = atom_syndication::Feed::read_from(body.as_bytes())
        .unwrap_or_else(|e| panic!("not Atom ({e}): {body}"));
    assert!(
        body.contains("xmlns=\"http://www.w3.org/2005/Atom\""),
        "{body}"
    );
    assert!(feed.id().starts_with("urn:uuid:"), "{}", feed.id());
    assert!(!feed.title().as_str().is_empty());
    assert!(
        !feed.authors().is_empty(),
        "a feed without authors needs them on every entry"
    );
    for e in feed.entries() {
        let id = e.id().strip_prefix("urn:uuid:").expect("urn:uuid ids");
        id.parse::<uuid::Uuid>().expect("a uuid");
        assert!(!e.title().as_str().is_empty());
    }
    if let Some(newest) = feed.entries().iter().map(|e| *e.updated()).max() {
        assert_eq!(*feed.updated(), newest);
    }
    feed
}

fn entry_ids(feed: &atom_syndication::Feed) -> Vec<String> {
    feed.entries().iter().map(|e| e.id().to_owned()).collect()
}

fn titles(feed: &atom_syndication::Feed) -> String {
    feed.entries()
        .iter()
        .map(|e| e.title().as_str().to_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

fn urn(e: &Event) -> String {
    format!("urn:uuid:{}", e.id)
}

/// The record of the digest tests: Sam's note the executive asked changes on and replied to,
/// Sam's own reply, Kim's approved note, a private note of Sam's with a verdict on it, and an
/// open note of Kim's waiting for the executive.
struct Record {
    sam_note: Event,
    changes: Event,
    exec_reply: Event,
    sam_reply: Event,
    kim_verdict: Event,
    private_verdict: Event,
}

fn record(s: &Serve, sam: &str, kim: &str) -> Record {
    let sam_note = note("Sam", "breath at the top");
    let kim_note = note("Kim", "kick too loud");
    let secret = private_note("Sam", "only mine: the bridge drags");
    let waiting = note("Kim", "hats harsh");
    push(&s.url, sam, &[&sam_note, &secret]);
    push(&s.url, kim, &[&kim_note, &waiting]);
    let changes = verdict(sam_note.id, Verdict::ChangesRequested, "more air");
    let kim_verdict = verdict(kim_note.id, Verdict::Approved, "tight now");
    let private_verdict = verdict(secret.id, Verdict::Approved, "secretly fine");
    let exec_reply = reply(EXEC, Role::Executive, sam_note.id, "which take?");
    push(
        &s.url,
        &s.exec(),
        &[&changes, &kim_verdict, &private_verdict, &exec_reply],
    );
    let sam_reply = reply("Sam", Role::Producer, sam_note.id, "take 3, I think");
    push(&s.url, sam, &[&sam_reply]);
    Record {
        sam_note,
        changes,
        exec_reply,
        sam_reply,
        kim_verdict,
        private_verdict,
    }
}

// ---------------------------------------------------------------------------------------

#[test]
fn the_page_shows_what_waits_and_what_answered_me_since_my_last_look_then_records_it() {
    let data = tempfile::tempdir().unwrap();
    let s = Serve::start(data.path(), &[]);
    let (sam, kim) = (
        token(data.path(), P, "Sam", "producer"),
        token(data.path(), P, "Kim", "producer"),
    );
    let r = record(&s, &sam, &kim);
    let page = Browser::sign_in(&s.url, &sam);
    let (status, html) = page.get("/digest");
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("href=\"/digest\" aria-current=\"page\">For you</a>"),
        "{html}"
    );
    // What waits for Sam: the note the executive asked changes on, linked at its place.
    assert!(html.contains("Waits for you (1)"), "{html}");
    let item = format!("href=\"/song?name=Song#item-{}\"", r.sam_note.id);
    assert!(html.contains(&item), "{html}");
    // What answered Sam, in words: the verdict and the reply; never Sam's own reply, Kim's
    // news or the verdict on the private note.
    assert!(html.contains("Since the start (your first look)"), "{html}");
    assert!(html.contains("asked for changes on Sam"), "{html}");
    assert!(html.contains("more air"), "{html}");
    assert!(html.contains("which take?"), "{html}");
    for never in ["take 3, I think", "tight now", "secretly fine", "only mine"] {
        assert!(!html.contains(never), "{never}: {html}");
    }
    // The look is recorded: the next visit starts from it and has nothing new.
    let (_, again) = page.get("/digest");
    assert!(again.contains("Since your last look ("), "{again}");
    assert!(again.contains("Nothing new for you since then."), "{again}");
    assert!(!again.contains("which take?"), "{again}");
    assert!(
        again.contains("Waits for you (1)"),
        "what waits stays: {again}"
    );
    // Something new after the look shows at the next one, and only it.
    let later = reply(EXEC, Role::Executive, r.sam_note.id, "try it in v2");
    push(&s.url, &s.exec(), &[&later]);
    let (_, third) = page.get("/digest");
    assert!(third.contains("try it in v2"), "{third}");
    assert!(!third.contains("more air"), "{third}");
    // The executive's page: what waits for a verdict (Kim's open note) and Sam's reply in the
    // thread the executive wrote in.
    let boss = Browser::sign_in(&s.url, &s.exec());
    let (_, html) = boss.get("/digest");
    assert!(html.contains("hats harsh"), "{html}");
    assert!(html.contains("href=\"/queue\""), "{html}");
    assert!(html.contains("take 3, I think"), "{html}");
    // Signed out, the page sends to the sign-in form.
    let r = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}/digest", s.url))
        .send()
        .unwrap();
    assert_eq!(r.status(), 303);
}

#[test]
fn the_feed_is_atom_with_my_news_only_and_stops_when_replaced_turned_off_or_revoked() {
    let data = tempfile::tempdir().unwrap();
    let s = Serve::start(data.path(), &["--public-url", PUBLIC]);
    let (sam, kim) = (
        token(data.path(), P, "Sam", "producer"),
        token(data.path(), P, "Kim", "producer"),
    );
    let r = record(&s, &sam, &kim);
    let page = Browser::sign_in(&s.url, &sam);
    let path = page.make_feed();
    let feed = atom(&s.url, &path);
    // A reply to me and a verdict on my note, with their times, words and links.
    let mut ids = entry_ids(&feed);
    ids.sort();
    let mut want = vec![urn(&r.changes), urn(&r.exec_reply)];
    want.sort();
    assert_eq!(ids, want, "{}", titles(&feed));
    for (e, event) in [(&r.changes, "more air"), (&r.exec_reply, "which take?")] {
        let entry = feed.entries().iter().find(|x| x.id() == urn(e)).unwrap();
        assert!(
            entry.title().as_str().contains(event),
            "{}",
            entry.title().as_str()
        );
        let at = chrono::DateTime::from_timestamp_millis(e.at).unwrap();
        assert_eq!(entry.updated().to_utc(), at);
        assert_eq!(
            entry.links()[0].href(),
            format!("{PUBLIC}/song?name=Song#item-{}", r.sam_note.id)
        );
    }
    assert!(feed.title().as_str().contains("Sam"));
    let words = titles(&feed);
    for never in ["take 3, I think", "tight now", "secretly fine", "only mine"] {
        assert!(!words.contains(never), "{never}: {words}");
    }
    assert!(!ids.contains(&urn(&r.sam_reply)));
    assert!(!ids.contains(&urn(&r.kim_verdict)));
    assert!(!ids.contains(&urn(&r.private_verdict)));
    // Typed text that XML cannot carry, and markup, leave the feed readable.
    let hostile = reply(
        EXEC,
        Role::Executive,
        r.sam_note.id,
        "<b>loud</b> & \u{1b}[31m\u{1}",
    );
    push(&s.url, &s.exec(), &[&hostile]);
    let feed = atom(&s.url, &path);
    let entry = feed
        .entries()
        .iter()
        .find(|x| x.id() == urn(&hostile))
        .unwrap();
    assert!(
        entry.title().as_str().contains("<b>loud</b> & [31m"),
        "{}",
        entry.title().as_str()
    );
    // The executive's feed: what waits (Kim's open note) and Sam's reply in their thread.
    let boss = Browser::sign_in(&s.url, &s.exec());
    let exec_feed = atom(&s.url, &boss.make_feed());
    let words = titles(&exec_feed);
    assert!(
        words.contains("Waits for your verdict") && words.contains("hats harsh"),
        "{words}"
    );
    assert!(
        entry_ids(&exec_feed).contains(&urn(&r.sam_reply)),
        "{words}"
    );
    assert_eq!(atom(&s.url, &path).id(), feed.id(), "a feed's id is stable");
    // A new address revokes the old one; turned off, none works.
    let newer = page.make_feed();
    assert_ne!(newer, path);
    let (status, _, body) = fetch(&s.url, &path);
    assert_eq!(status, 404);
    assert!(body.contains("No feed at this address"), "{body}");
    assert_eq!(atom(&s.url, &newer).id(), feed.id());
    let csrf = page.csrf();
    let (status, _) = page.post("/digest/feed/off", &[("csrf", &csrf)], &[]);
    assert_eq!(status, 303);
    assert_eq!(fetch(&s.url, &newer).0, 404);
    // Revoking the person's token ends the feed.
    let again = page.make_feed();
    assert_eq!(fetch(&s.url, &again).0, 200);
    let store = liner_test_support::open_store(data.path());
    for t in store.tokens().unwrap() {
        if t.person == "Sam" {
            store.revoke_token(t.id).unwrap();
        }
    }
    assert_eq!(fetch(&s.url, &again).0, 404);
}

#[test]
fn attacks_feed_secrets_of_another_project_forms_without_csrf_a_viewer_and_guessing() {
    let data = tempfile::tempdir().unwrap();
    let s = Serve::start(data.path(), &["--public-url", PUBLIC]);
    let (sam, kim) = (
        token(data.path(), P, "Sam", "producer"),
        token(data.path(), P, "Kim", "producer"),
    );
    record(&s, &sam, &kim);
    let (ok, out) = liner_args(data.path(), &["project", "create", "Other"]);
    assert!(ok, "{out}");
    let olga = token(data.path(), "Other", "Olga", "executive");
    let vic = token(data.path(), P, "Vic", "viewer");
    // Another project's feed tells only of that project.
    let other = Browser::sign_in(&s.url, &olga);
    let olga_feed = atom(&s.url, &other.make_feed());
    assert!(olga_feed.entries().is_empty(), "{}", titles(&olga_feed));
    assert!(olga_feed.title().as_str().contains("Other"));
    // A form without the CSRF secret, or from another site, changes nothing.
    let page = Browser::sign_in(&s.url, &sam);
    let (status, html) = page.post("/digest/feed", &[], &[]);
    assert_eq!(status, 403, "{html}");
    let csrf = page.csrf();
    let (status, _) = page.post(
        "/digest/feed",
        &[("csrf", &csrf)],
        &[("origin", "https://evil.example")],
    );
    assert_eq!(status, 403);
    let sam_prefs = |store: &dyn liner_server::store::Store| {
        let project = store.project(P).unwrap().unwrap();
        store.digest_prefs(&project, "Sam").unwrap()
    };
    let store = liner_test_support::open_store(data.path());
    assert!(
        sam_prefs(store.as_ref()).is_none_or(|p| !p.feed),
        "no feed was made"
    );
    let sam_feed = page.make_feed();
    let (status, _) = page.post("/digest/feed/off", &[("csrf", "wrong")], &[]);
    assert_eq!(status, 403);
    assert_eq!(
        fetch(&s.url, &sam_feed).0,
        200,
        "a refused form turns nothing off"
    );
    // A viewer has a digest of their own, and a form naming someone else acts on the viewer.
    let viewer = Browser::sign_in(&s.url, &vic);
    let (status, html) = viewer.get("/digest");
    assert_eq!(status, 200);
    assert!(
        !html.contains("more air") && !html.contains("which take?"),
        "{html}"
    );
    let csrf = viewer.csrf();
    let (status, html) = viewer.post(
        "/digest/feed",
        &[("csrf", &csrf), ("person", "Sam"), ("project", "Other")],
        &[],
    );
    assert_eq!(status, 200);
    let vic_path = html
        .split("value=\"")
        .map(|s| s.split('"').next().unwrap())
        .find(|v| v.contains("/feed/"))
        .unwrap()
        .strip_prefix(PUBLIC)
        .unwrap()
        .to_owned();
    let vic_feed = atom(&s.url, &vic_path);
    assert!(vic_feed.title().as_str().contains("Vic"));
    assert!(vic_feed.entries().is_empty(), "{}", titles(&vic_feed));
    assert_eq!(fetch(&s.url, &sam_feed).0, 200, "Sam's feed is untouched");
    let (status, html) = viewer.post(
        "/digest/feed/off",
        &[("csrf", &csrf), ("person", "Sam")],
        &[],
    );
    assert_eq!(status, 303, "{html}");
    assert_eq!(fetch(&s.url, &sam_feed).0, 200, "Sam's feed is still on");
    assert_eq!(fetch(&s.url, &vic_path).0, 404, "the viewer's own is off");
    // Guessing: wrong secrets are 404 with words and slow their address; past its free misses
    // a burst hears 429 with Retry-After; the right address still opens at its turn.
    let guess = |i: usize| format!("/feed/lnfeed_{:064x}", i);
    for i in 0..5 {
        let (status, _, body) = fetch(&s.url, &guess(i));
        assert_eq!(status, 404, "{body}");
    }
    assert_eq!(fetch(&s.url, "/feed/not-even-shaped").0, 404);
    let started = Instant::now();
    let url = Arc::new(s.url.clone());
    let statuses: Vec<u16> = (0..16)
        .map(|i| {
            let url = url.clone();
            std::thread::spawn(move || fetch(&url, &format!("/feed/lnfeed_{:064x}", 100 + i)).0)
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();
    assert!(statuses.contains(&429), "{statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 404 || *s == 429),
        "{statuses:?}"
    );
    let r = common::client()
        .get(format!("{}{}", s.url, guess(999)))
        .send()
        .unwrap();
    if r.status() == 429 {
        assert!(r.headers().contains_key("retry-after"));
    }
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "guesses were slowed"
    );
    wait_until(
        "the right feed opens at its turn",
        Duration::from_secs(30),
        || fetch(&s.url, &sam_feed).0 == 200,
    );
}

// ---------------------------------------------------------------------------------------
// Mail: a tiny SMTP sink on loopback.

/// One message an SMTP sink received: its envelope and data.
#[derive(Clone, Debug)]
struct Mail {
    from: String,
    to: Vec<String>,
    data: String,
}

/// Speaks just enough SMTP (greeting, EHLO/HELO, MAIL, RCPT, DATA, QUIT; no TLS) to take
/// messages; keeps each.
fn smtp_sink() -> (u16, Arc<Mutex<Vec<Mail>>>) {
    let (port, got, _) = smtp_sink_heard();
    (port, got)
}

/// [`smtp_sink`], also keeping every command line it heard.
#[allow(clippy::type_complexity)]
fn smtp_sink_heard() -> (u16, Arc<Mutex<Vec<Mail>>>, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let got = Arc::new(Mutex::new(Vec::new()));
    let heard = Arc::new(Mutex::new(Vec::new()));
    let (keep, lines) = (got.clone(), heard.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (keep, lines) = (keep.clone(), lines.clone());
            std::thread::spawn(move || smtp_session(stream, &keep, &lines));
        }
    });
    (port, got, heard)
}

fn smtp_session(stream: std::net::TcpStream, got: &Mutex<Vec<Mail>>, heard: &Mutex<Vec<String>>) {
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut out = stream;
    let mut say = |line: &str| out.write_all(format!("{line}\r\n").as_bytes()).is_ok();
    say("220 sink ESMTP");
    let mut mail = Mail {
        from: String::new(),
        to: Vec::new(),
        data: String::new(),
    };
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        heard.lock().unwrap().push(line.clone());
        let upper = line.to_ascii_uppercase();
        let arg = |l: &str| {
            l.split_once(':')
                .map(|(_, a)| {
                    a.trim()
                        .trim_start_matches('<')
                        .trim_end_matches('>')
                        .to_owned()
                })
                .unwrap_or_default()
        };
        let ok = if upper.starts_with("EHLO") {
            // Offers a login, but no STARTTLS: a client must not take it in the clear.
            say("250-sink") && say("250 AUTH PLAIN LOGIN")
        } else if upper.starts_with("HELO") {
            say("250 sink")
        } else if upper.starts_with("AUTH") {
            say("235 accepted")
        } else if upper.starts_with("MAIL FROM") {
            mail.from = arg(&line);
            say("250 OK")
        } else if upper.starts_with("RCPT TO") {
            mail.to.push(arg(&line));
            say("250 OK")
        } else if upper.starts_with("DATA") {
            say("354 end with .");
            loop {
                let mut l = String::new();
                if reader.read_line(&mut l).unwrap_or(0) == 0 {
                    return;
                }
                if l == ".\r\n" {
                    break;
                }
                mail.data.push_str(&l);
            }
            got.lock().unwrap().push(mail.clone());
            say("250 queued")
        } else if upper.starts_with("QUIT") {
            say("221 bye");
            return;
        } else {
            say("250 OK")
        };
        if !ok {
            return;
        }
    }
}

/// Quoted-printable undone (soft line breaks, `=XX`), as a mail reader reads a part.
fn unquote(text: &str) -> String {
    let joined = text.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok());
        match (bytes[i], hex) {
            (b'=', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn the_session_digest_is_mailed_after_the_quiet_time_and_nothing_without_news() {
    let dir = tempfile::tempdir().unwrap();
    let (port, sink) = smtp_sink();
    let smtp = format!("smtp://127.0.0.1:{port}");
    let s = Serve::start(
        dir.path(),
        &[
            "--smtp-url",
            &smtp,
            "--mail-from",
            "Liner Notes <notes@studio.example>",
            "--mail-quiet-ms",
            "1500",
            "--mail-round-ms",
            "100",
            "--public-url",
            PUBLIC,
        ],
    );
    let sam = token(dir.path(), P, "Sam", "producer");
    token(dir.path(), P, "Lee", "producer");
    // The CLI refuses what is no address or cadence, with words.
    let (ok, out) = mail_set(dir.path(), "Sam", "sam", "session");
    assert!(!ok && out.contains("no mail address"), "{out}");
    let (ok, out) = mail_set(dir.path(), "Sam", "sam@studio.example", "hourly");
    assert!(!ok && out.contains("daily, session or off"), "{out}");
    let (ok, out) = mail_set(dir.path(), "Nobody", "n@studio.example", "daily");
    assert!(!ok && out.contains("no live token"), "{out}");
    for (person, to) in [("Sam", "sam@studio.example"), ("Lee", "lee@studio.example")] {
        let (ok, out) = mail_set(dir.path(), person, to, "session");
        assert!(ok, "{out}");
    }
    let (ok, out) = liner_args(dir.path(), &["mail", "list"]);
    assert!(
        ok && out.contains("Sam\tproducer\tsam@studio.example\tsession"),
        "{out}"
    );
    // Nothing for anyone while there is no news.
    std::thread::sleep(Duration::from_millis(2500));
    assert!(
        sink.lock().unwrap().is_empty(),
        "{:?}",
        sink.lock().unwrap()
    );
    // A listening session: Sam's note, the executive's verdict and reply.
    let n = note("Sam", "breath at the top");
    push(&s.url, &sam, &[&n]);
    let changes = verdict(n.id, Verdict::ChangesRequested, "more air");
    let answer = reply(EXEC, Role::Executive, n.id, "which take?");
    push(&s.url, &s.exec(), &[&changes, &answer]);
    let own = reply("Sam", Role::Producer, n.id, "on it, v2 tonight");
    push(&s.url, &sam, &[&own]);
    let pushed = Instant::now();
    wait_until("the digest in the sink", Duration::from_secs(30), || {
        !sink.lock().unwrap().is_empty()
    });
    assert!(
        pushed.elapsed() >= Duration::from_millis(1400),
        "sent before the quiet time: {:?}",
        pushed.elapsed()
    );
    // Lee had no news: after more rounds, still only Sam's, and once.
    std::thread::sleep(Duration::from_millis(2500));
    let got = sink.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "{got:?}");
    let mail = &got[0];
    assert_eq!(mail.from, "notes@studio.example");
    assert_eq!(mail.to, ["sam@studio.example"]);
    let data = unquote(&mail.data);
    let header = |name: &str| {
        data.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
            .unwrap_or_else(|| panic!("no {name}: {data}"))
            .to_owned()
    };
    assert_eq!(header("To"), "sam@studio.example");
    assert_eq!(header("From"), "\"Liner Notes\" <notes@studio.example>");
    assert_eq!(
        header("Subject"),
        "Liner Notes, My Project: 2 new for you, 1 waiting"
    );
    assert!(data.contains("Hello Sam,"), "{data}");
    assert!(data.contains("asked for changes on Sam"), "{data}");
    assert!(
        data.contains("more air") && data.contains("which take?"),
        "{data}"
    );
    assert!(
        data.contains(&format!("{PUBLIC}/song?name=Song#item-{}", n.id)),
        "{data}"
    );
    assert!(data.contains("text/html"), "an HTML part too: {data}");
    assert!(
        !data.contains("on it, v2 tonight"),
        "never Sam's own words: {data}"
    );
    // The list says when it went.
    let (_, out) = liner_args(dir.path(), &["mail", "list"]);
    assert!(out.contains("UTC"), "{out}");
}

#[test]
fn digests_go_with_the_record_through_check_backup_restore_and_migrate() {
    use liner_server::store::{PgStore, SqliteStore, Store};
    let data = tempfile::tempdir().unwrap();
    let sqlite = |dir: &Path, args: &[&str]| {
        let mut c = common::liner_bin();
        c.arg("--data").arg(dir).args(args);
        run(c)
    };
    let (ok, out) = sqlite(data.path(), &["project", "create", P]);
    assert!(ok, "{out}");
    let (ok, out) = sqlite(
        data.path(),
        &[
            "token",
            "add",
            "--project",
            P,
            "--person",
            "Sam",
            "--role",
            "producer",
        ],
    );
    assert!(ok, "{out}");
    let (ok, out) = sqlite(
        data.path(),
        &[
            "mail",
            "set",
            "--project",
            P,
            "--person",
            "Sam",
            "--to",
            "sam@studio.example",
            "--every",
            "daily",
        ],
    );
    assert!(ok, "{out}");
    let secret = {
        let store = SqliteStore::open(data.path()).unwrap();
        let project = store.project(P).unwrap().unwrap();
        store
            .record_look(&project, "Sam", Role::Producer, 1234)
            .unwrap();
        store.new_feed(&project, "Sam", Role::Producer).unwrap()
    };
    let want = format!("{P}\tSam\tproducer\tsam@studio.example\tdaily");
    let (ok, out) = sqlite(data.path(), &["check"]);
    assert!(ok && out.contains("1 digests, all sound"), "{out}");
    let (_, listed) = sqlite(data.path(), &["mail", "list"]);
    assert!(
        listed.contains(&want) && listed.contains("\ton"),
        "{listed}"
    );
    // Backup and restore.
    let file = data.path().join("backup.db");
    let (ok, out) = sqlite(data.path(), &["backup", "--to", file.to_str().unwrap()]);
    assert!(ok, "{out}");
    let restored = tempfile::tempdir().unwrap();
    let into = restored.path().join("server");
    let (ok, out) = sqlite(&into, &["restore", "--from", file.to_str().unwrap()]);
    assert!(ok, "{out}");
    let (_, there) = sqlite(&into, &["mail", "list"]);
    assert!(there.contains(&want), "{there}");
    let back = SqliteStore::open(&into).unwrap();
    assert_eq!(back.feed(&secret).unwrap().unwrap().person, "Sam");
    // Into PostgreSQL, twice: the same settings, once; the feed opens there.
    let database = common::pg::Cluster::get().new_database();
    for _ in 0..2 {
        let mut c = common::liner_bin();
        c.args([
            "migrate",
            "--from",
            &format!("sqlite:{}", data.path().display()),
            "--to",
            &database,
        ]);
        let (ok, out) = run(c);
        assert!(ok, "{out}");
    }
    let pg = PgStore::open(&database).unwrap();
    let prefs = pg.all_digest_prefs().unwrap();
    assert_eq!(prefs.len(), 1, "{prefs:?}");
    assert_eq!(prefs[0].last_look_ms, Some(1234));
    assert_eq!(prefs[0].mail_to.as_deref(), Some("sam@studio.example"));
    assert_eq!(pg.feed(&secret).unwrap().unwrap().person, "Sam");
    assert!(pg.feed(&format!("{secret}0")).unwrap().is_none());
}

/// The store's digest settings on whichever store this run uses: a look never moves back, the
/// mail mark starts at `mail set` (again after it was off) and moves by compare-and-set, a new
/// feed secret revokes the old, and revoking the person's token ends their feed.
#[test]
fn the_store_keeps_looks_feeds_and_the_mail_mark() {
    use liner_server::store::Every;
    let dir = tempfile::tempdir().unwrap();
    let store = liner_test_support::open_store(dir.path());
    let album = store.create_project(P).unwrap();
    let other = store.create_project("Other").unwrap();
    let (sam, _) = store.add_token(P, "Sam", Role::Producer).unwrap();
    store.add_token("Other", "Sam", Role::Producer).unwrap();
    assert_eq!(store.digest_prefs(&album, "Sam").unwrap(), None);
    store
        .record_look(&album, "Sam", Role::Producer, 100)
        .unwrap();
    store
        .record_look(&album, "Sam", Role::Producer, 50)
        .unwrap();
    let prefs = store.digest_prefs(&album, "Sam").unwrap().unwrap();
    assert_eq!((prefs.last_look_ms, prefs.live), (Some(100), true));
    // Mail: the mark starts now, and moves only from where it is.
    let before = liner_record::event::now_ms();
    store
        .set_mail(
            &album,
            "Sam",
            Role::Producer,
            Some("sam@x.example"),
            Some(Every::Daily),
        )
        .unwrap();
    let mark = store
        .digest_prefs(&album, "Sam")
        .unwrap()
        .unwrap()
        .mailed_ms
        .unwrap();
    assert!(mark >= before);
    assert!(!store
        .move_mailed(album.id, "Sam", Some(mark - 1), Some(5))
        .unwrap());
    assert!(store
        .move_mailed(album.id, "Sam", Some(mark), Some(5))
        .unwrap());
    store
        .set_mail(
            &album,
            "Sam",
            Role::Producer,
            Some("sam@x.example"),
            Some(Every::Session),
        )
        .unwrap();
    assert_eq!(
        store
            .digest_prefs(&album, "Sam")
            .unwrap()
            .unwrap()
            .mailed_ms,
        Some(5),
        "a change of cadence keeps the mark"
    );
    store
        .set_mail(&album, "Sam", Role::Producer, None, None)
        .unwrap();
    store
        .set_mail(
            &album,
            "Sam",
            Role::Producer,
            Some("sam@x.example"),
            Some(Every::Daily),
        )
        .unwrap();
    let prefs = store.digest_prefs(&album, "Sam").unwrap().unwrap();
    assert!(prefs.mailed_ms.unwrap() >= before, "back on, it starts now");
    assert_eq!(prefs.every, Some(Every::Daily));
    // Feeds: each project's secret opens that project's digest; a new one revokes the old.
    let first = store.new_feed(&album, "Sam", Role::Producer).unwrap();
    let elsewhere = store.new_feed(&other, "Sam", Role::Producer).unwrap();
    assert_eq!(store.feed(&first).unwrap().unwrap().project, album);
    assert_eq!(store.feed(&elsewhere).unwrap().unwrap().project, other);
    let second = store.new_feed(&album, "Sam", Role::Producer).unwrap();
    assert_eq!(store.feed(&first).unwrap(), None);
    assert_eq!(store.feed(&second).unwrap().unwrap().person, "Sam");
    assert_eq!(store.feed("lnfeed_").unwrap(), None);
    store.end_feed(&album, "Sam").unwrap();
    assert_eq!(store.feed(&second).unwrap(), None);
    // Revoked: no feed, and not live for mail; the other project's goes on.
    let third = store.new_feed(&album, "Sam", Role::Producer).unwrap();
    store.revoke_token(sam.id).unwrap();
    assert_eq!(store.feed(&third).unwrap(), None);
    assert!(!store.digest_prefs(&album, "Sam").unwrap().unwrap().live);
    assert!(store.feed(&elsewhere).unwrap().is_some());
}

/// `daily`: at the mail hour, a person with news since their last mail gets it at once (no
/// quiet time), and one without news gets nothing, their day's turn used.
#[test]
fn the_daily_digest_goes_at_the_mail_hour_with_the_news_since_the_last_mail() {
    let dir = tempfile::tempdir().unwrap();
    let (port, sink) = smtp_sink();
    let hour = ((liner_record::event::now_ms() / 3_600_000) % 24).to_string();
    let smtp = format!("smtp://127.0.0.1:{port}");
    let s = Serve::start(
        dir.path(),
        &[
            "--smtp-url",
            &smtp,
            "--mail-from",
            "notes@studio.example",
            "--mail-daily-hour",
            &hour,
            "--mail-quiet-ms",
            "600000",
            "--mail-round-ms",
            "100",
        ],
    );
    let sam = token(dir.path(), P, "Sam", "producer");
    token(dir.path(), P, "Lee", "producer");
    for person in ["Sam", "Lee"] {
        let to = format!("{}@studio.example", person.to_lowercase());
        let (ok, out) = mail_set(dir.path(), person, &to, "daily");
        assert!(ok, "{out}");
    }
    let n = note("Sam", "breath at the top");
    push(&s.url, &sam, &[&n]);
    push(
        &s.url,
        &s.exec(),
        &[&verdict(n.id, Verdict::Approved, "lovely")],
    );
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        sink.lock().unwrap().is_empty(),
        "mailed before the hour came"
    );
    // Their last mails went yesterday: today's hour has passed since.
    let store = liner_test_support::open_store(dir.path());
    let project = store.project(P).unwrap().unwrap();
    for person in ["Sam", "Lee"] {
        let mark = store
            .digest_prefs(&project, person)
            .unwrap()
            .unwrap()
            .mailed_ms;
        let yesterday = n.at - 24 * 3_600_000;
        assert!(store
            .move_mailed(project.id, person, mark, Some(yesterday))
            .unwrap());
    }
    wait_until("the daily digest", Duration::from_secs(20), || {
        !sink.lock().unwrap().is_empty()
    });
    std::thread::sleep(Duration::from_millis(1000));
    let got = sink.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].to, ["sam@studio.example"]);
    assert!(
        unquote(&got[0].data).contains("approved Sam"),
        "{}",
        got[0].data
    );
    let lee = store.digest_prefs(&project, "Lee").unwrap().unwrap();
    assert!(
        lee.mailed_ms.unwrap() >= n.at,
        "Lee's turn is used: {lee:?}"
    );
}

/// A relay that offers no STARTTLS (or a network that strips the offer) never hears the
/// relay's password: with credentials in the URL the mail waits rather than go in the clear.
#[test]
fn a_password_never_goes_to_a_relay_in_the_clear() {
    let dir = tempfile::tempdir().unwrap();
    let (port, sink, heard) = smtp_sink_heard();
    let smtp = format!("smtp://notes%40studio:hunter2secret@127.0.0.1:{port}");
    let s = Serve::start(
        dir.path(),
        &[
            "--smtp-url",
            &smtp,
            "--mail-from",
            "notes@studio.example",
            "--mail-quiet-ms",
            "300",
            "--mail-round-ms",
            "100",
        ],
    );
    let sam = token(dir.path(), P, "Sam", "producer");
    let (ok, out) = mail_set(dir.path(), "Sam", "sam@studio.example", "session");
    assert!(ok, "{out}");
    let n = note("Sam", "breath at the top");
    push(&s.url, &sam, &[&n]);
    push(
        &s.url,
        &s.exec(),
        &[&verdict(n.id, Verdict::Approved, "yes")],
    );
    wait_until("a try at the relay", Duration::from_secs(30), || {
        heard
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.to_ascii_uppercase().starts_with("EHLO"))
    });
    std::thread::sleep(Duration::from_millis(1500));
    let lines = heard.lock().unwrap().clone();
    assert!(
        lines
            .iter()
            .all(|l| !l.to_ascii_uppercase().starts_with("AUTH")
                && !l.contains("hunter2")
                && !l.contains("aHVudGVy")),
        "the password went out: {lines:?}"
    );
    assert!(
        sink.lock().unwrap().is_empty(),
        "nothing was sent unencrypted"
    );
}

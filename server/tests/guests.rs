//! Listening links over HTTP, on whichever store the run is on (`LINER_TEST_STORE=postgres`
//! runs them on PostgreSQL): unguessable and rate-limited, expiry and revocation said, the
//! passphrase asked and checked, the guest cookie good for its own link only, audio only for
//! the selected versions in the link's scope (ranges too), nothing private on the page, a
//! guest's comment held out of the record until the executive accepts it, and only the
//! executive making or revoking links.

mod common;

use common::{approval, client, note_by, push, version_printed, Server};
use liner_record::event::{Anchor, Body};
use liner_record::Role;
use liner_server::store::guests::NewLink;
use reqwest::blocking::{Client, Response};
use reqwest::StatusCode;
use std::net::IpAddr;
use std::time::Duration;

const P: &str = "Album";

fn client_from(from: [u8; 4]) -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .local_address(IpAddr::from(from))
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// A complete version of `song` by Sam: its event pushed, its bytes stored.
fn version(s: &Server, producer: &str, song: &str, label: &str, seed: u64) -> liner_record::Event {
    let bytes = common::noise(40_000, seed);
    let mut e = version_printed(P, "Sam", &bytes);
    e.song = song.into();
    if let Body::VersionPrinted(v) = &mut e.body {
        v.label = label.into();
    }
    assert_eq!(push(s, producer, &[&e]).0, StatusCode::OK);
    let project = s.store.project(P).unwrap().unwrap();
    let hash: liner_record::clips::ClipHash = liner_record::clips::ClipHash::of(&bytes);
    s.store
        .put_version_chunk(&project, &hash, 0, &bytes, u64::MAX)
        .unwrap();
    assert!(s
        .store
        .finish_version(&project, None, &hash, bytes.len() as u64)
        .unwrap());
    e
}

/// A link made in the store (as `/links` makes them), `days` from now (negative: expired).
fn link(s: &Server, song: Option<&str>, days: i64, passphrase: Option<&str>) -> String {
    let project = s.store.project(P).unwrap().unwrap();
    let token = s.store.tokens().unwrap()[0].id;
    let hash = passphrase.map(|p| {
        use argon2::password_hash::{PasswordHasher, SaltString};
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        argon2::Argon2::default()
            .hash_password(p.as_bytes(), &salt)
            .unwrap()
            .to_string()
    });
    let (_, secret) = s
        .store
        .create_link(&NewLink {
            project,
            token,
            song: song.map(str::to_owned),
            label: "for the A&R".into(),
            passphrase: hash,
            expires_ms: liner_record::event::now_ms() + days * 86_400_000,
        })
        .unwrap();
    secret
}

fn get(c: &Client, s: &Server, path: &str, cookie: Option<&str>) -> Response {
    let mut r = c.get(format!("{}{path}", s.url));
    if let Some(k) = cookie {
        r = r.header("cookie", k);
    }
    r.send().unwrap()
}

/// The review page signed in: (session cookie, CSRF secret).
fn signed_in(s: &Server, token: &str) -> (String, String) {
    let cookie = common::session_cookie(&common::sign_in_raw(s, token, &[]));
    let html = get(&client_from([127, 0, 0, 1]), s, "/", Some(&cookie))
        .text()
        .unwrap();
    let csrf = html
        .split("data-csrf=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    (cookie, csrf)
}

fn post(s: &Server, path: &str, cookie: Option<&str>, form: &[(&str, &str)]) -> Response {
    let mut r = client_from([127, 0, 0, 1])
        .post(format!("{}{path}", s.url))
        .form(form);
    if let Some(k) = cookie {
        r = r.header("cookie", k);
    }
    r.send().unwrap()
}

/// A project with two songs: A with v1 approved and a newer v2 not, B with v1 approved, C
/// with an unapproved print only. Returns (executive token, producer token, A v1, A v2, B v1,
/// C v1).
fn studio(s: &Server) -> (String, String, [liner_record::Event; 4]) {
    let exec = s.token(P, "Eve", Role::Executive);
    let producer = s.token(P, "Sam", Role::Producer);
    let a1 = version(s, &producer, "Song A", "A v1", 1);
    let a2 = version(s, &producer, "Song A", "A v2", 2);
    let b1 = version(s, &producer, "Song B", "B v1", 3);
    let c1 = version(s, &producer, "Song C", "C v1", 4);
    for v in [&a1, &b1] {
        assert_eq!(
            push(s, &exec, &[&approval(P, "Eve", v.id)]).0,
            StatusCode::OK
        );
    }
    (exec, producer, [a1, a2, b1, c1])
}

/// Finding: the page had no listening links. A wrong secret must be indistinguishable from
/// a missing link (404), and guessing must be slowed like wrong tokens: free tries, then
/// one a second, and a burst told 429.
#[test]
fn wrong_secrets_are_404_and_guessing_them_is_told_429() {
    let s = Server::start();
    studio(&s);
    let real = link(&s, None, 7, None);
    let c = client_from([127, 0, 0, 9]);
    let wrong = format!("lnl_{}", "0".repeat(64));
    for path in [format!("/listen/{wrong}"), "/listen/nothing".into()] {
        let r = get(&c, &s, &path, None);
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        assert!(r
            .text()
            .unwrap()
            .contains("no listening link at this address"));
    }
    // Past the free misses (one at a time, so each is counted before the next is booked)...
    for i in 0..5 {
        let path = format!("/listen/lnl_{i:064x}");
        assert_eq!(get(&c, &s, &path, None).status(), StatusCode::NOT_FOUND);
    }
    // ...a burst at once: those whose turn is more than 10 s off hear 429 with Retry-After.
    let burst: Vec<_> = (0..16)
        .map(|i| {
            let (url, wrong) = (s.url.clone(), format!("lnl_{i:064}"));
            std::thread::spawn(move || {
                let r = client_from([127, 0, 0, 9])
                    .get(format!("{url}/listen/{wrong}/audio/x.flac"))
                    .send()
                    .unwrap();
                (r.status(), r.headers().contains_key("retry-after"))
            })
        })
        .collect();
    let answers: Vec<_> = burst.into_iter().map(|t| t.join().unwrap()).collect();
    let told = answers
        .iter()
        .filter(|(st, retry)| *st == StatusCode::TOO_MANY_REQUESTS && *retry)
        .count();
    assert!(told >= 4, "{answers:?}");
    // The real link from another address goes straight in.
    let r = get(
        &client_from([127, 0, 0, 10]),
        &s,
        &format!("/listen/{real}"),
        None,
    );
    assert_eq!(r.status(), StatusCode::OK);
}

#[test]
fn expired_and_revoked_links_say_so_and_show_nothing() {
    let s = Server::start();
    studio(&s);
    let expired = link(&s, Some("Song A"), -1, None);
    let r = get(&client(), &s, &format!("/listen/{expired}"), None);
    assert_eq!(r.status(), StatusCode::GONE);
    let text = r.text().unwrap();
    assert!(text.contains("This listening link expired on"), "{text}");
    assert!(!text.contains("A v1") && !text.contains("<audio"));

    let live = link(&s, Some("Song A"), 7, None);
    assert_eq!(
        get(&client(), &s, &format!("/listen/{live}"), None).status(),
        StatusCode::OK
    );
    let project = s.store.project(P).unwrap().unwrap();
    let id = s.store.links(&project).unwrap()[0].id;
    assert!(s.store.revoke_link(&project, id).unwrap());
    for path in [
        format!("/listen/{live}"),
        format!("/listen/{live}/audio/whatever.flac"),
    ] {
        let r = get(&client(), &s, &path, None);
        assert_eq!(r.status(), StatusCode::GONE);
        assert!(r
            .text()
            .unwrap()
            .contains("This listening link was revoked"));
    }
    // The links an executive made end with the executive's token.
    let theirs = link(&s, None, 7, None);
    assert_eq!(
        get(&client(), &s, &format!("/listen/{theirs}"), None).status(),
        StatusCode::OK
    );
    let maker = s.store.tokens().unwrap()[0].id;
    s.store.revoke_token(maker).unwrap();
    let r = get(&client(), &s, &format!("/listen/{theirs}"), None);
    assert_eq!(r.status(), StatusCode::GONE, "its maker's token is revoked");
    assert!(r
        .text()
        .unwrap()
        .contains("This listening link was revoked"));
}

#[test]
fn a_passphrase_is_asked_and_checked_and_its_cookie_opens_its_link_only() {
    let s = Server::start();
    let (exec, _, [a1, ..]) = studio(&s);
    let guarded = link(&s, Some("Song A"), 7, Some("correct horse"));
    let other = link(&s, Some("Song A"), 7, Some("another phrase"));
    let c = client_from([127, 0, 0, 11]);
    let page = get(&c, &s, &format!("/listen/{guarded}"), None)
        .text()
        .unwrap();
    assert!(page.contains("name=\"passphrase\"") && !page.contains("<audio"));
    let audio = format!("/listen/{guarded}/audio/{}.flac", a1.id);
    assert_eq!(get(&c, &s, &audio, None).status(), StatusCode::FORBIDDEN);
    let enter = |phrase: &str| {
        c.post(format!("{}/listen/{guarded}/passphrase", s.url))
            .form(&[("passphrase", phrase)])
            .send()
            .unwrap()
    };
    let wrong = enter("wrong horse");
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong.headers().get("set-cookie").is_none());
    let right = enter("correct horse");
    assert_eq!(right.status(), StatusCode::SEE_OTHER);
    let set = right.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    assert!(set.contains(&format!("Path=/listen/{guarded}")), "{set}");
    let cookie = set.split(';').next().unwrap().to_owned();
    let page = get(&c, &s, &format!("/listen/{guarded}"), Some(&cookie))
        .text()
        .unwrap();
    assert!(page.contains("<audio"), "{page}");
    assert_eq!(get(&c, &s, &audio, Some(&cookie)).status(), StatusCode::OK);
    // The cookie opens no other link, and no signed-in page.
    let page = get(&c, &s, &format!("/listen/{other}"), Some(&cookie))
        .text()
        .unwrap();
    assert!(!page.contains("<audio"));
    for path in ["/queue", "/links", "/tracklist"] {
        assert_eq!(
            get(&c, &s, path, Some(&cookie)).status(),
            StatusCode::SEE_OTHER,
            "{path}"
        );
    }
    let r = get(
        &c,
        &s,
        &format!(
            "/versions/{}.flac",
            common::version_of(&common::noise(40_000, 1)).version.hash
        ),
        Some(&cookie),
    );
    assert_ne!(r.status(), StatusCode::OK);
    // The executive's own session does not stand in for the passphrase.
    let (session, _) = signed_in(&s, &exec);
    assert_eq!(
        get(&c, &s, &audio, Some(&session)).status(),
        StatusCode::FORBIDDEN
    );
    // Revoking the link ends its guests' sessions with it.
    let value = cookie.split_once('=').unwrap().1;
    let id = s
        .store
        .guest_session(value)
        .unwrap()
        .expect("the guest's session");
    let project = s.store.project(P).unwrap().unwrap();
    assert!(s.store.revoke_link(&project, id).unwrap());
    assert_eq!(s.store.guest_session(value).unwrap(), None);
    assert_eq!(
        get(&c, &s, &audio, Some(&cookie)).status(),
        StatusCode::GONE
    );
}

#[test]
fn a_guest_hears_only_the_selected_versions_of_the_links_scope() {
    let s = Server::start();
    let (_, _, [a1, a2, b1, c1]) = studio(&s);
    let song = link(&s, Some("Song A"), 7, None);
    let c = client();
    let page = get(&c, &s, &format!("/listen/{song}"), None)
        .text()
        .unwrap();
    assert!(page.contains(&format!("/listen/{song}/audio/{}.flac", a1.id)));
    assert!(!page.contains(&a2.id.to_string()) && !page.contains("A v2"));
    let audio = |link: &str, v: &liner_record::Event| {
        get(&c, &s, &format!("/listen/{link}/audio/{}.flac", v.id), None).status()
    };
    assert_eq!(audio(&song, &a1), StatusCode::OK);
    assert_eq!(audio(&song, &a2), StatusCode::NOT_FOUND, "not approved");
    assert_eq!(audio(&song, &b1), StatusCode::NOT_FOUND, "another song");
    let ranged = c
        .get(format!("{}/listen/{song}/audio/{}.flac", s.url, a1.id))
        .header("range", "bytes=100-199")
        .send()
        .unwrap();
    assert_eq!(ranged.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        ranged.bytes().unwrap().as_ref(),
        &common::noise(40_000, 1)[100..200]
    );
    // The album: every song's selected version, none unapproved.
    let album = link(&s, None, 7, None);
    let page = get(&c, &s, &format!("/listen/{album}"), None)
        .text()
        .unwrap();
    assert!(page.contains(&b1.id.to_string()) && page.contains(&a1.id.to_string()));
    assert!(!page.contains(&c1.id.to_string()) && page.contains("no approved version yet"));
    assert_eq!(audio(&album, &b1), StatusCode::OK);
    assert_eq!(audio(&album, &c1), StatusCode::NOT_FOUND);
    // A song with no approved version says so, and plays nothing.
    let none = link(&s, Some("Song C"), 7, None);
    let page = get(&c, &s, &format!("/listen/{none}"), None)
        .text()
        .unwrap();
    assert!(page.contains("no approved version yet") && !page.contains("<audio"));
}

#[test]
fn the_guest_page_shows_nothing_private() {
    let s = Server::start();
    let (exec, producer, [a1, ..]) = studio(&s);
    let mut note = note_by(P, "Sam", Role::Producer, "PRIVATE-ISH the vocal is flat");
    note.song = "Song A".into();
    assert_eq!(push(&s, &producer, &[&note]).0, StatusCode::OK);
    let song = link(&s, Some("Song A"), 7, None);
    let album = link(&s, None, 7, None);
    for l in [&song, &album] {
        let page = get(&client(), &s, &format!("/listen/{l}"), None)
            .text()
            .unwrap();
        assert!(page.contains(&a1.id.to_string()));
        for private in [
            "PRIVATE-ISH",
            exec.as_str(),
            producer.as_str(),
            "Eve",
            "Sam",
            "for the A&amp;R",
            "Mix bus",
            "data-csrf",
        ] {
            assert!(!page.contains(private), "{private} in {page}");
        }
    }
}

#[test]
fn a_guests_comment_is_held_until_the_executive_accepts_it_as_theirs_naming_the_guest() {
    let s = Server::start();
    let (exec, producer, [a1, ..]) = studio(&s);
    let song = link(&s, Some("Song A"), 7, None);
    let v = a1.id.to_string();
    let comment = |from: [u8; 4], text: &str, at: &str| {
        client_from(from)
            .post(format!("{}/listen/{song}/comment", s.url))
            .header("accept", "application/json")
            .form(&[("name", "Ana"), ("text", text), ("version", &v), ("at", at)])
            .send()
            .unwrap()
            .status()
    };
    assert_eq!(
        comment([127, 0, 0, 20], "love the chorus", "0:12.500"),
        StatusCode::OK
    );
    // Refused: outside the version, another version, too long, no name.
    assert_eq!(
        comment([127, 0, 0, 21], "x", "9:00"),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let two_lines = client_from([127, 0, 0, 21])
        .post(format!("{}/listen/{song}/comment", s.url))
        .form(&[
            ("name", "Ana\nEve (executive)"),
            ("text", "hi"),
            ("version", &v),
        ])
        .send()
        .unwrap();
    assert_eq!(two_lines.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let long = "y".repeat(10_001);
    assert_eq!(
        comment([127, 0, 0, 21], &long, ""),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let none_of_ours = client()
        .post(format!("{}/listen/{song}/comment", s.url))
        .form(&[
            ("name", "Ana"),
            ("text", "hi"),
            ("version", &uuid::Uuid::nil().to_string()),
        ])
        .send()
        .unwrap();
    assert_eq!(none_of_ours.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Per link and address: a few, then 429.
    for _ in 0..5 {
        assert_eq!(comment([127, 0, 0, 22], "again", ""), StatusCode::OK);
    }
    assert_eq!(
        comment([127, 0, 0, 22], "again", ""),
        StatusCode::TOO_MANY_REQUESTS
    );

    let notes = |s: &Server| -> Vec<liner_record::Event> {
        s.events(P)
            .into_iter()
            .filter(|e| matches!(e.body, Body::NoteAdded(_)))
            .collect()
    };
    assert!(notes(&s).is_empty(), "held, not in the record");
    let project = s.store.project(P).unwrap().unwrap();
    let held = s.store.held_comments(&project).unwrap();
    assert_eq!(held.len(), 6);
    let first = held[0].id.to_string();
    // A producer cannot settle it.
    let (pc, pcsrf) = signed_in(&s, &producer);
    let r = post(
        &s,
        "/links/held",
        Some(&pc),
        &[("csrf", &pcsrf), ("id", &first), ("action", "accept")],
    );
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(notes(&s).is_empty());
    let (ec, ecsrf) = signed_in(&s, &exec);
    let listed = get(&client(), &s, "/links", Some(&ec)).text().unwrap();
    assert!(listed.contains("love the chorus") && listed.contains("Ana"));
    let overview = get(&client(), &s, "/", Some(&ec)).text().unwrap();
    assert!(
        overview.contains("Guests' comments waiting for you (6)"),
        "{overview}"
    );
    let theirs = get(&client(), &s, "/", Some(&pc)).text().unwrap();
    assert!(!theirs.contains("Guests' comments") && !theirs.contains("love the chorus"));
    let r = post(
        &s,
        "/links/held",
        Some(&ec),
        &[("csrf", &ecsrf), ("id", &first), ("action", "accept")],
    );
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let n = notes(&s);
    assert_eq!(n.len(), 1);
    assert_eq!((n[0].author.as_str(), n[0].role), ("Eve", Role::Executive));
    let Body::NoteAdded(body) = &n[0].body else {
        unreachable!()
    };
    assert_eq!(body.guest.as_deref(), Some("Ana"));
    assert_eq!(body.version, Some(a1.id));
    assert_eq!(body.text, "love the chorus");
    match body.anchor {
        Some(Anchor::Point { at }) => assert_eq!(at.seconds, Some(12.5)),
        other => panic!("{other:?}"),
    }
    // Accepting it again records nothing more; dismissing another leaves the record alone.
    post(
        &s,
        "/links/held",
        Some(&ec),
        &[("csrf", &ecsrf), ("id", &first), ("action", "accept")],
    );
    let second = held[1].id.to_string();
    post(
        &s,
        "/links/held",
        Some(&ec),
        &[("csrf", &ecsrf), ("id", &second), ("action", "dismiss")],
    );
    assert_eq!(notes(&s).len(), 1);
    assert_eq!(s.store.held_comments(&project).unwrap().len(), 4);
    // The song page names the guest and who vouched.
    let page = get(&client(), &s, "/song?name=Song%20A", Some(&ec))
        .text()
        .unwrap();
    assert!(
        page.contains("(guest, accepted by <bdi>Eve</bdi>)"),
        "{page}"
    );
}

#[test]
fn only_the_executive_makes_lists_or_revokes_links() {
    let s = Server::start();
    let (exec, producer, _) = studio(&s);
    let viewer = s.token(P, "Vic", Role::Viewer);
    for token in [&producer, &viewer] {
        let (cookie, csrf) = signed_in(&s, token);
        assert_eq!(
            get(&client(), &s, "/links", Some(&cookie)).status(),
            StatusCode::FORBIDDEN
        );
        let r = post(
            &s,
            "/links",
            Some(&cookie),
            &[("csrf", &csrf), ("label", "x"), ("days", "7")],
        );
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
    }
    let project = s.store.project(P).unwrap().unwrap();
    assert!(s.store.links(&project).unwrap().is_empty());
    // The executive makes one; its address is shown once, and it works.
    let (cookie, csrf) = signed_in(&s, &exec);
    let r = post(
        &s,
        "/links",
        Some(&cookie),
        &[
            ("csrf", &csrf),
            ("scope", "Song A"),
            ("label", "for the artist"),
            ("days", "3"),
            ("passphrase", ""),
        ],
    );
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().unwrap();
    let secret: String = html
        .split("/listen/")
        .nth(1)
        .unwrap()
        .chars()
        .take(68)
        .collect();
    assert!(secret.starts_with("lnl_"), "{secret}");
    assert_eq!(
        get(&client(), &s, &format!("/listen/{secret}"), None).status(),
        StatusCode::OK
    );
    let listed = get(&client(), &s, "/links", Some(&cookie)).text().unwrap();
    assert!(!listed.contains(&secret), "the secret is shown once");
    assert!(listed.contains("for the artist") && listed.contains("1 visit"));
    let id = s.store.links(&project).unwrap()[0].id.to_string();
    let (pcookie, pcsrf) = signed_in(&s, &producer);
    let r = post(
        &s,
        "/links/revoke",
        Some(&pcookie),
        &[("csrf", &pcsrf), ("id", &id)],
    );
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = post(
        &s,
        "/links/revoke",
        Some(&cookie),
        &[("csrf", "wrong"), ("id", &id)],
    );
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        get(&client(), &s, &format!("/listen/{secret}"), None).status(),
        StatusCode::OK
    );
    let r = post(
        &s,
        "/links/revoke",
        Some(&cookie),
        &[("csrf", &csrf), ("id", &id)],
    );
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        get(&client(), &s, &format!("/listen/{secret}"), None).status(),
        StatusCode::GONE
    );
    // Bad forms are refused in words.
    for form in [
        [("scope", "No Such Song"), ("days", "7"), ("passphrase", "")],
        [("scope", ""), ("days", "0"), ("passphrase", "")],
        [("scope", ""), ("days", "7"), ("passphrase", "short")],
    ] {
        let mut f = vec![("csrf", csrf.as_str()), ("label", "x")];
        f.extend(form);
        assert_eq!(
            post(&s, "/links", Some(&cookie), &f).status(),
            StatusCode::UNPROCESSABLE_ENTITY
        );
    }
}

/// `liner migrate` carries links (their hashes, passphrase hashes, use counts) and guests'
/// comments, held or settled, into PostgreSQL; new ones there take fresh ids.
#[test]
fn liner_migrate_carries_links_and_held_comments() {
    use liner_server::store::guests::NewComment;
    use liner_server::store::{copy, PgStore, SqliteStore, Store};
    let dir = tempfile::tempdir().unwrap();
    let from = SqliteStore::open(dir.path()).unwrap();
    let project = from.create_project(P).unwrap();
    let (token, _) = from.add_token(P, "Eve", Role::Executive).unwrap();
    let new = NewLink {
        project: project.clone(),
        token: token.id,
        song: Some("Song A".into()),
        label: "for the A&R".into(),
        passphrase: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
        expires_ms: liner_record::event::now_ms() + 86_400_000,
    };
    let (made, secret) = from.create_link(&new).unwrap();
    from.link_used(made.id).unwrap();
    let comment = NewComment {
        link: made.id,
        name: "Ana".into(),
        text: "lovely".into(),
        version: uuid::Uuid::now_v7(),
        at: Some(1.5),
        until: None,
    };
    assert!(from.hold_comment(&comment).unwrap());
    assert!(from.hold_comment(&comment).unwrap());
    let settled = from.held_comments(&project).unwrap()[1].id;
    from.settle_comment(
        &project,
        settled,
        liner_server::store::guests::Fate::Dismiss,
    )
    .unwrap();
    let to = PgStore::open(&liner_test_support::pg::Cluster::get().new_database()).unwrap();
    copy::copy(&from, &to).unwrap();
    assert_eq!(to.link(&secret).unwrap(), from.link(&secret).unwrap());
    assert_eq!(to.link(&secret).unwrap().unwrap().uses, 1);
    assert_eq!(
        to.held_comments(&project).unwrap(),
        from.held_comments(&project).unwrap()
    );
    // A second run copies nothing new; new rows there take fresh ids.
    copy::copy(&from, &to).unwrap();
    assert_eq!(to.held_comments(&project).unwrap().len(), 1);
    // What was ended in the copy since ends here too on the next run: the link revoked,
    // the held comment dismissed, the token revoked (a run never reopens any of them).
    assert!(from.revoke_link(&project, made.id).unwrap());
    let held = from.held_comments(&project).unwrap()[0].id;
    from.settle_comment(&project, held, liner_server::store::guests::Fate::Dismiss)
        .unwrap();
    from.revoke_token(token.id).unwrap();
    copy::copy(&from, &to).unwrap();
    assert!(
        to.link(&secret).unwrap().unwrap().revoked_ms.is_some(),
        "revoked there, revoked here"
    );
    assert!(to.held_comments(&project).unwrap().is_empty());
    assert!(
        to.tokens().unwrap().iter().all(|t| t.revoked),
        "the token too"
    );
    let (again, _) = to.create_link(&new).unwrap();
    assert!(again.id > made.id);
    let fresh = NewComment {
        link: again.id,
        ..comment
    };
    assert!(to.hold_comment(&fresh).unwrap());
    assert_eq!(to.held_comments(&project).unwrap().len(), 1);
}

/// `liner link list` shows what `/links` shows (never a secret); `liner link revoke` ends a
/// link at once for its guest, and refuses another project's or an unknown link in words.
#[test]
fn liner_link_lists_and_revokes_links() {
    let s = Server::start();
    studio(&s);
    let secret = link(&s, Some("Song A"), 7, None);
    let listed = common::liner(s.dir.path())
        .args(["link", "list", "--project", P])
        .output()
        .unwrap();
    assert!(listed.status.success(), "{listed:?}");
    let out = String::from_utf8(listed.stdout).unwrap();
    assert!(
        out.contains("for the A&R\tSong A\tEve\t") && out.contains("\tlive"),
        "{out}"
    );
    assert!(!out.contains(&secret));
    let id = out
        .lines()
        .nth(1)
        .unwrap()
        .split('\t')
        .next()
        .unwrap()
        .to_owned();
    let wrong = common::liner(s.dir.path())
        .args(["link", "revoke", "--project", P, "999"])
        .output()
        .unwrap();
    assert!(!wrong.status.success());
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("no live listening link 999"));
    let revoked = common::liner(s.dir.path())
        .args(["link", "revoke", "--project", P, &id])
        .output()
        .unwrap();
    assert!(revoked.status.success(), "{revoked:?}");
    let r = get(&client(), &s, &format!("/listen/{secret}"), None);
    assert_eq!(r.status(), StatusCode::GONE);
}

/// However many addresses a link travels to, it holds at most `MAX_HELD_PER_LINK` comments
/// waiting; settling one makes room.
#[test]
fn a_link_holds_a_bounded_number_of_comments_waiting() {
    use liner_server::store::guests::{Fate, NewComment, MAX_HELD_PER_LINK};
    let s = Server::start();
    let (_, _, [a1, ..]) = studio(&s);
    link(&s, Some("Song A"), 7, None);
    let project = s.store.project(P).unwrap().unwrap();
    let id = s.store.links(&project).unwrap()[0].id;
    let comment = NewComment {
        link: id,
        name: "Ana".into(),
        text: "again".into(),
        version: a1.id,
        at: None,
        until: None,
    };
    for _ in 0..MAX_HELD_PER_LINK {
        assert!(s.store.hold_comment(&comment).unwrap());
    }
    assert!(
        !s.store.hold_comment(&comment).unwrap(),
        "one more is refused"
    );
    let first = s.store.held_comments(&project).unwrap()[0].id;
    s.store
        .settle_comment(&project, first, Fate::Dismiss)
        .unwrap()
        .unwrap();
    assert!(s.store.hold_comment(&comment).unwrap());
}

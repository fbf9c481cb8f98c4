//! The review page's forms send the browser back only to the page's own pages, and no form
//! field of any of its POSTs makes the server fail (issue #26). Over plain HTTP, without a
//! browser: what the server answers is what a browser would follow.

mod common;

use common::{note_by, push, session_cookie, sign_in_raw, Server};
use liner_record::event::Event;
use liner_record::Role;
use reqwest::blocking::{Client, Response};
use reqwest::StatusCode;

const P: &str = "Album";

/// The pages a form may come back to (the review page's GET routes).
const PAGES: [&str; 5] = ["/", "/queue", "/song", "/tracklist", "/links"];

/// The executive's signed-in client: the session cookie and the page's CSRF secret.
struct Executive {
    client: Client,
    cookie: String,
    csrf: String,
}

impl Executive {
    fn sign_in(s: &Server) -> Executive {
        let token = s.token(P, "Eve", Role::Executive);
        let cookie = session_cookie(&sign_in_raw(s, &token, &[]));
        let client = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let html = client
            .get(format!("{}/queue", s.url))
            .header("cookie", &cookie)
            .send()
            .unwrap()
            .text()
            .unwrap();
        let csrf = common::csrf_in(&html);
        Executive {
            client,
            cookie,
            csrf,
        }
    }

    /// Posts `form` to `path` of the page, with the CSRF secret unless `form` has its own.
    fn post(&self, s: &Server, path: &str, form: &[(&str, &str)]) -> Response {
        let mut fields = form.to_vec();
        if !form.iter().any(|(name, _)| *name == "csrf") {
            fields.push(("csrf", &self.csrf));
        }
        self.client
            .post(format!("{}{path}", s.url))
            .header("cookie", &self.cookie)
            .form(&fields)
            .send()
            .unwrap()
    }

    /// Posts a form body as written (percent-escapes and all) to `path` of the page.
    fn post_raw(&self, s: &Server, path: &str, body: &str) -> Response {
        self.client
            .post(format!("{}{path}", s.url))
            .header("cookie", &self.cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("csrf={}&{body}", self.csrf))
            .send()
            .unwrap()
    }
}

/// Notes by a producer to judge, `n` of them.
fn notes(s: &Server, n: usize) -> Vec<Event> {
    let sam = s.token(P, "Sam", Role::Producer);
    let notes: Vec<Event> = (0..n)
        .map(|i| note_by(P, "Sam", Role::Producer, &format!("note {i}")))
        .collect();
    let (status, answer) = push(s, &sam, &notes.iter().collect::<Vec<_>>());
    assert_eq!(status, StatusCode::OK, "{answer}");
    notes
}

/// A `Location` a browser follows to this site only, to one of its pages: a path (not `//`
/// host), nothing a browser strips or a header splits on, no backslash.
fn on_site(location: &str) -> bool {
    let path = location.split(['?', '#']).next().unwrap_or("");
    location.starts_with('/')
        && !location.starts_with("//")
        && location
            .bytes()
            .all(|b| (0x21..=0x7e).contains(&b) && b != b'\\')
        && PAGES.contains(&path)
}

#[test]
fn a_verdict_sends_the_browser_back_only_to_a_page_of_this_site() {
    let s = Server::start();
    let hostile = [
        // Browsers strip tabs and line breaks from addresses: `//evil.example`.
        "/\t/evil.example",
        "/\n/evil.example",
        "/\r/evil.example",
        // A line break in a header value: the verdict was stored but the answer was a 500.
        "/queue\r\nX: y",
        "/queue\nSet-Cookie: liner_session=x",
        "https://evil.example",
        "//evil.example",
        "///evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "/%09/evil.example",
        "/%2F/evil.example",
        "javascript:alert(1)",
        " /queue",
        "/queue?song=a b",
        "/queue?song=\u{7f}",
        "/song?name=Café",
        "/song#\u{202E}",
        "/queue?\\evil.example",
        "/evil.example",
        "/queue/../evil",
        "/sign-out",
        "/export?format=csv",
        "",
    ];
    let kept = [
        "/",
        "/queue",
        "/queue?song=Song&track=Vox",
        "/song?name=Caf%C3%A9#main",
        "/tracklist",
        "/tracklist#tracklist",
    ];
    assert!(kept.iter().all(|k| on_site(k)));
    let targets = notes(&s, hostile.len() + kept.len());
    let eve = Executive::sign_in(&s);
    let mut wrong = Vec::new();
    for (back, note) in hostile.iter().chain(&kept).zip(&targets) {
        let before = s.stored(P).len();
        let r = eve.post(
            &s,
            "/verdict",
            &[
                ("target", &note.id.to_string()),
                ("verdict", "approved"),
                ("back", back),
            ],
        );
        let want = if kept.contains(back) { *back } else { "/" };
        let location = r
            .headers()
            .get("location")
            .map(|l| String::from_utf8_lossy(l.as_bytes()).into_owned());
        if r.status() != StatusCode::SEE_OTHER || location.as_deref() != Some(want) {
            let off = if location.as_deref().is_some_and(on_site) {
                ""
            } else {
                " (off the pages)"
            };
            wrong.push(format!(
                "back={back:?}: {} to {location:?}{off}",
                r.status()
            ));
        }
        assert_eq!(s.stored(P).len(), before + 1, "the verdict is recorded");
    }
    // A page's own way back is kept as sent; anything else goes to the overview.
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Every field of every POST of the review page, given what no form of the page sends: never
/// a server error, and every redirect stays on this site.
#[test]
fn no_form_field_of_a_page_post_makes_the_server_fail() {
    let s = Server::start();
    let targets = notes(&s, 1);
    let target = targets[0].id.to_string();
    let eve = Executive::sign_in(&s);
    // Escapes that decode to bytes no UTF-8 reader accepts, and to a line break.
    let r = eve.post_raw(
        &s,
        "/verdict",
        &format!(
            "target={target}&verdict=approved&back=/queue%FF%0D%0A%09&comment=%FF%00%E2%80%AE"
        ),
    );
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/");
    let long = "x".repeat(100_000);
    let values = [
        "",
        "\0",
        "\r\nX: y",
        "\u{202E}EVIL",
        "%",
        "%ZZ",
        "Café",
        "\u{FEFF}",
        long.as_str(),
    ];
    for v in values {
        let back = format!("/queue?{v}");
        let forms: [(&str, Vec<(&str, &str)>); 23] = [
            (
                "/verdict",
                vec![
                    ("target", &target),
                    ("verdict", "approved"),
                    ("back", &back),
                ],
            ),
            (
                "/verdict",
                vec![("target", &target), ("verdict", "rejected"), ("comment", v)],
            ),
            ("/verdict", vec![("target", v), ("verdict", "approved")]),
            ("/verdict", vec![("target", &target), ("verdict", v)]),
            ("/tracklist/move", vec![("song", v), ("direction", "up")]),
            ("/tracklist/move", vec![("song", "Song"), ("direction", v)]),
            ("/tracklist/order", vec![("order", v)]),
            ("/selection", vec![("song", v), ("selected", "true")]),
            ("/selection", vec![("song", "Song"), ("selected", v)]),
            (
                "/selection",
                vec![("csrf", v), ("song", "Song"), ("selected", "true")],
            ),
            (
                "/links",
                vec![("scope", v), ("label", "A&R"), ("days", "7")],
            ),
            ("/links", vec![("label", v), ("days", v), ("passphrase", v)]),
            ("/links/revoke", vec![("id", v)]),
            ("/links/held", vec![("id", v), ("action", "accept")]),
            ("/links/held", vec![("id", "1"), ("action", v)]),
            ("/sign-in", vec![("token", v)]),
            ("/sign-out", vec![("csrf", v)]),
            (
                "/reply",
                vec![("target", &target), ("text", v), ("back", &back)],
            ),
            ("/reply", vec![("target", v), ("text", "x")]),
            ("/reply/edit", vec![("reply", v), ("text", v)]),
            ("/reply/delete", vec![("reply", v), ("back", &back)]),
            (
                "/done",
                vec![("target", &target), ("version", v), ("comment", v)],
            ),
            ("/done", vec![("target", v)]),
        ];
        for (path, form) in forms {
            let r = eve.post(&s, path, &form);
            let status = r.status();
            assert!(
                !status.is_server_error(),
                "{path} {form:?} answered {status}"
            );
            if let Some(location) = r.headers().get("location") {
                let location = String::from_utf8_lossy(location.as_bytes());
                assert!(on_site(&location), "{path} {form:?} went to {location:?}");
            }
        }
    }
}

//! What an operator sees of a running `liner serve`: `/metrics` on its private address only
//! (never on the public one), counting what happened, and one JSON log line per request that
//! names the route, status, duration and token id, never a secret.

mod common;

use common::{client, note_by};
use liner_record::Role;
use reqwest::StatusCode;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The value of the metric line starting with `prefix` (name and labels), if any.
fn metric(text: &str, prefix: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[test]
fn metrics_on_their_own_address_and_a_json_line_per_request() {
    let dir = tempfile::tempdir().unwrap();
    let (port, private) = (common::free_port(), common::free_port());
    let mut serve = common::liner(dir.path())
        .args(["--log-format", "json", "serve"])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--metrics-listen", &format!("127.0.0.1:{private}")])
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log: Arc<Mutex<Vec<String>>> = Arc::default();
    let stderr = serve.stderr.take().unwrap();
    let collecting = {
        let log = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                log.lock().unwrap().push(line);
            }
        })
    };
    let mut producer = String::new();
    let mut said = String::new();
    for line in BufReader::new(serve.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        said.push_str(&line);
        said.push('\n');
        if let Some(t) = line.strip_prefix("Producer token, for the plugin's settings: ") {
            producer = t.trim().to_owned();
        }
        if line.starts_with("Serving the record on") {
            break;
        }
    }
    assert!(
        !producer.is_empty(),
        "the first run printed a producer token"
    );
    let url = format!("http://127.0.0.1:{port}");
    let c = client();
    let note = note_by("My Project", "Producer", Role::Producer, "counted");
    let push = |events: serde_json::Value| {
        c.post(format!("{url}/api/v1/events"))
            .bearer_auth(&producer)
            .json(&serde_json::json!({ "events": events }))
            .send()
            .unwrap()
            .status()
    };
    assert_eq!(push(serde_json::json!([note])), StatusCode::OK);
    assert_eq!(push(serde_json::json!([note])), StatusCode::OK);
    let someone_else = note_by("My Project", "Somebody", Role::Producer, "not mine");
    assert_ne!(push(serde_json::json!([someone_else])), StatusCode::OK);
    // A long poll waiting while the metrics are read.
    let polling = {
        let (url, token) = (url.clone(), producer.clone());
        std::thread::spawn(move || {
            client()
                .get(format!("{url}/api/v1/events?after=100&wait=3"))
                .bearer_auth(token)
                .send()
                .unwrap()
                .status()
        })
    };
    // The executive's page open, live.
    let mut executive = String::new();
    for line in said.lines() {
        if let Some(t) = line.strip_prefix("Executive producer token (for the review page): ") {
            executive = t.trim().to_owned();
        }
    }
    let browser = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let signed = browser
        .post(format!("{url}/sign-in"))
        .form(&[("token", executive.as_str())])
        .send()
        .unwrap();
    let cookie = common::session_cookie(&signed);
    let live = browser
        .get(format!("{url}/live"))
        .header("cookie", cookie)
        .send()
        .unwrap();
    assert_eq!(live.status(), StatusCode::OK);
    std::thread::sleep(Duration::from_millis(500));

    // Not on the public address.
    let r = c.get(format!("{url}/metrics")).send().unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let text = c
        .get(format!("http://127.0.0.1:{private}/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert_eq!(
        metric(&text, "liner_events_total{outcome=\"stored\",code=\"\"}"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        metric(&text, "liner_events_total{outcome=\"duplicate\",code=\"\"}"),
        Some(1.0)
    );
    assert_eq!(
        metric(
            &text,
            "liner_events_total{outcome=\"refused\",code=\"wrong_author\"}"
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(metric(&text, "liner_pushes_total"), Some(3.0));
    assert_eq!(metric(&text, "liner_pulls_total{wait=\"yes\"}"), Some(1.0));
    assert_eq!(
        metric(&text, "liner_open_holds{kind=\"long_poll\"}"),
        Some(1.0)
    );
    assert_eq!(metric(&text, "liner_open_holds{kind=\"live\"}"), Some(1.0));
    assert_eq!(metric(&text, "liner_open_sessions"), Some(1.0));
    assert!(metric(&text, "liner_database_seconds_count").unwrap() > 0.0);
    assert_eq!(
        metric(
            &text,
            "liner_request_duration_seconds_count{route=\"/api/v1/events\",method=\"POST\",status=\"200\"}"
        ),
        Some(2.0),
        "{text}"
    );
    assert!(metric(&text, "liner_open_connections").unwrap() >= 1.0);
    assert_eq!(polling.join().unwrap(), StatusCode::OK);

    let _ = serve.kill();
    let _ = serve.wait();
    collecting.join().unwrap();
    let log = log.lock().unwrap();
    let answered: Vec<serde_json::Value> = log
        .iter()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["fields"]["message"] == "answered")
        .collect();
    let pushes: Vec<&serde_json::Value> = answered
        .iter()
        .filter(|v| v["span"]["route"] == "/api/v1/events" && v["span"]["method"] == "POST")
        .collect();
    assert_eq!(pushes.len(), 3, "one line per request: {log:#?}");
    assert!(
        pushes.iter().all(|v| v["span"]["token"].is_number()),
        "{pushes:#?}"
    );
    assert!(pushes.iter().all(|v| v["fields"]["ms"].is_number()));
    assert_eq!(pushes[0]["fields"]["status"], 200);
    let all = log.join("\n");
    assert!(!all.contains(&producer), "a token's secret is in the log");
}
